# mk/arango.mk — see Makefile.am
