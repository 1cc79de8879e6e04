# mk/pool.mk — see Makefile.am
