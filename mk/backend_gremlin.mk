# mk/backend_gremlin.mk — the Gremlin client backend (lib/backend/gremlin),
# over the WebSocket transport (mk/ws.mk) and the Gremlin codecs
# (mk/gremlin_codec.mk).

libgraphjob_internal_la_SOURCES += \
	lib/backend/gremlin/gremlin.h \
	lib/backend/gremlin/gremlin.c lib/backend/gremlin/gremlin_exec.c
libgraphjob_internal_la_CPPFLAGS += -DGJ_HAVE_GREMLIN_BACKEND

# Integration tests through the public API against gremlin-refserver (which
# they start themselves, so it must be built first).
if HAVE_GTEST
check_PROGRAMS += tests/integration/gremlin_test
TESTS += tests/integration/gremlin_test
tests_integration_gremlin_test_SOURCES = tests/integration/gremlin_test.cc \
	tests/integration/server_process.h tests/integration/server_process.cc \
	tests/integration/arango_server.h tests/integration/arango_server.cc \
	tests/common/server_spawn.h
tests_integration_gremlin_test_CPPFLAGS = $(GJ_TEST_CPPFLAGS)
tests_integration_gremlin_test_LDADD = $(GJ_TEST_LIBS)
EXTRA_tests_integration_gremlin_test_DEPENDENCIES = tests/servers/gremlin/gremlin-refserver$(EXEEXT)
endif
