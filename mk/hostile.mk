# mk/hostile.mk — the hostile server (tests/servers/hostile: a Bolt or HTTP
# server that misbehaves on purpose; tests only, never installed) and the
# integration tests of cancel, per-request deadlines, result limits and
# connect failures that run against it (tests/integration/hostile_test.cc).

noinst_PROGRAMS += tests/servers/hostile/hostile-server
tests_servers_hostile_hostile_server_SOURCES = \
	tests/servers/hostile/hostile.h tests/servers/hostile/main.c \
	tests/servers/hostile/bolt.c tests/servers/hostile/http.c
tests_servers_hostile_hostile_server_LDADD = libgraphjob_internal.la $(DEPS_LIBS)

# The tests also start bolt-refserver (bearer auth, bolt+s at a plain port)
# and, with libmicrohttpd, arango-refserver (TLS); those cases skip when the
# server was not built.
if HAVE_GTEST
check_PROGRAMS += tests/integration/hostile_test
TESTS += tests/integration/hostile_test
tests_integration_hostile_test_SOURCES = tests/integration/hostile_test.cc \
	tests/integration/server_process.h tests/integration/server_process.cc \
	tests/integration/arango_server.h tests/integration/arango_server.cc
tests_integration_hostile_test_CPPFLAGS = $(GJ_TEST_CPPFLAGS)
tests_integration_hostile_test_LDADD = $(GJ_TEST_LIBS)
EXTRA_tests_integration_hostile_test_DEPENDENCIES = tests/servers/hostile/hostile-server$(EXEEXT) \
	tests/servers/bolt/bolt-refserver$(EXEEXT)
endif
