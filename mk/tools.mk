# mk/tools.mk — the graphjob command-line program (installed), its manual
# page, and its integration test (tests/integration/cli_test.cc), which runs
# the program against the reference servers.
bin_PROGRAMS += tools/graphjob
tools_graphjob_SOURCES = \
	tools/cli/graphjob.h tools/cli/main.c tools/cli/input.c tools/cli/run.c \
	tools/cli/output.c tools/cli/bulk.c tools/cli/demo.c tools/cli/util.c
tools_graphjob_LDADD = libgraphjob.la -lm
dist_man1_MANS = docs/graphjob.1

if HAVE_GTEST
check_PROGRAMS += tests/integration/cli_test
TESTS += tests/integration/cli_test
tests_integration_cli_test_SOURCES = tests/integration/cli_test.cc \
	tests/integration/server_process.cc tests/integration/server_process.h
tests_integration_cli_test_CPPFLAGS = $(GJ_TEST_CPPFLAGS) -I$(top_srcdir)
tests_integration_cli_test_LDADD = $(GTEST_LIBS)
EXTRA_tests_integration_cli_test_DEPENDENCIES = tools/graphjob \
	tests/servers/bolt/bolt-refserver tests/servers/gremlin/gremlin-refserver
if HAVE_MHD
EXTRA_tests_integration_cli_test_DEPENDENCIES += tests/servers/arango/arango-refserver
endif
endif
