# mk/values.mk — see Makefile.am
