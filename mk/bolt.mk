# mk/bolt.mk — see Makefile.am
