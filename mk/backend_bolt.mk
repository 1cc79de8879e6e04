# mk/backend_bolt.mk — the Bolt client backend (lib/backend/bolt).

libgraphjob_internal_la_SOURCES += \
	lib/backend/bolt/bolt.h \
	lib/backend/bolt/bolt_session.c lib/backend/bolt/bolt_exec.c \
	lib/backend/bolt/bolt_route.c lib/backend/bolt/bolt_auth.c \
	lib/backend/bolt/bolt_tx.c lib/backend/bolt/bolt_tz.c \
	lib/backend/bolt/bolt_extra.c
libgraphjob_internal_la_CPPFLAGS += -DGJ_HAVE_BOLT_BACKEND

# Integration tests through the public API against bolt-refserver (which
# they start themselves, so it must be built first).
if HAVE_GTEST
check_PROGRAMS += tests/integration/bolt_test
TESTS += tests/integration/bolt_test
tests_integration_bolt_test_SOURCES = tests/integration/bolt_test.cc \
	tests/integration/server_process.h tests/integration/server_process.cc \
	tests/common/server_spawn.h
tests_integration_bolt_test_CPPFLAGS = $(GJ_TEST_CPPFLAGS)
tests_integration_bolt_test_LDADD = $(GJ_TEST_LIBS)
EXTRA_tests_integration_bolt_test_DEPENDENCIES = tests/servers/bolt/bolt-refserver$(EXEEXT)
# Sessions: interactive transactions, bookmarks, a session in a cluster.
check_PROGRAMS += tests/integration/bolt_session_test
TESTS += tests/integration/bolt_session_test
tests_integration_bolt_session_test_SOURCES = tests/integration/bolt_session_test.cc \
	tests/integration/server_process.h tests/integration/server_process.cc \
	tests/common/server_spawn.h
tests_integration_bolt_session_test_CPPFLAGS = $(GJ_TEST_CPPFLAGS)
tests_integration_bolt_session_test_LDADD = $(GJ_TEST_LIBS)
EXTRA_tests_integration_bolt_session_test_DEPENDENCIES = tests/servers/bolt/bolt-refserver$(EXEEXT)
endif
