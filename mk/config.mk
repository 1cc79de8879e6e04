# mk/config.mk — see Makefile.am
