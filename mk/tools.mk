# mk/tools.mk — the graphjob command-line program (installed).
bin_PROGRAMS += tools/graphjob
tools_graphjob_SOURCES = tools/graphjob.c
tools_graphjob_LDADD = libgraphjob.la
dist_man1_MANS = docs/graphjob.1
TESTS += tests/tools/graphjob.sh
EXTRA_DIST += tests/tools/graphjob.sh
