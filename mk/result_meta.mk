# mk/result_meta.mk — the typed result accessors (lib/core/result_meta.c,
# include/graphjob/result.h) and their tests, and the tests of ArangoDB
# stream transactions on sessions (lib/backend/arango/trx.c).
libgraphjob_internal_la_SOURCES += lib/core/result_meta.c

if HAVE_GTEST
check_PROGRAMS += tests/unit/result_meta_test
TESTS += tests/unit/result_meta_test
tests_unit_result_meta_test_SOURCES = tests/unit/result_meta_test.cc \
	tests/integration/server_process.cc tests/integration/server_process.h \
	tests/common/server_spawn.h
tests_unit_result_meta_test_CPPFLAGS = $(GJ_TEST_CPPFLAGS)
tests_unit_result_meta_test_LDADD = $(GJ_TEST_LIBS)
# The round trips start the reference servers when they were built.
EXTRA_tests_unit_result_meta_test_DEPENDENCIES = tests/servers/bolt/bolt-refserver$(EXEEXT)
endif

# ArangoDB stream transactions on sessions, against arango-refserver.
if HAVE_GTEST
if HAVE_MHD
check_PROGRAMS += tests/integration/arango_session_test
TESTS += tests/integration/arango_session_test
tests_integration_arango_session_test_SOURCES = tests/integration/arango_session_test.cc \
	tests/integration/arango_server.cc tests/integration/arango_server.h \
	tests/integration/server_process.cc tests/integration/server_process.h \
	tests/common/server_spawn.h
tests_integration_arango_session_test_CPPFLAGS = $(GJ_TEST_CPPFLAGS)
tests_integration_arango_session_test_LDADD = $(GJ_TEST_LIBS)
EXTRA_tests_integration_arango_session_test_DEPENDENCIES = tests/servers/arango/arango-refserver
endif
endif
