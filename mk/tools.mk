# mk/tools.mk — see Makefile.am
