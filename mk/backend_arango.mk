# mk/backend_arango.mk — the ArangoDB client backend (lib/backend/arango).
libgraphjob_internal_la_SOURCES += \
	lib/backend/arango/arango_internal.h \
	lib/backend/arango/arango.c \
	lib/backend/arango/conn.c \
	lib/backend/arango/cursor.c \
	lib/backend/arango/ops.c \
	lib/backend/arango/jobs.c \
	lib/backend/arango/discover.c \
	lib/backend/arango/json_value.c \
	lib/backend/arango/trx.c
libgraphjob_internal_la_CPPFLAGS += -DGJ_HAVE_ARANGO_BACKEND
EXTRA_DIST += docs/arango.md

# Integration tests through the public API against tests/servers/arango.
if HAVE_GTEST
if HAVE_MHD
check_PROGRAMS += tests/integration/arango_test
TESTS += tests/integration/arango_test
tests_integration_arango_test_SOURCES = tests/integration/arango_test.cc \
	tests/integration/arango_server.cc tests/integration/arango_server.h \
	tests/integration/server_process.cc tests/integration/server_process.h \
	tests/common/server_spawn.h
tests_integration_arango_test_CPPFLAGS = $(GJ_TEST_CPPFLAGS)
tests_integration_arango_test_LDADD = $(GJ_TEST_LIBS)
EXTRA_tests_integration_arango_test_DEPENDENCIES = tests/servers/arango/arango-refserver
endif
endif

if HAVE_GTEST
check_PROGRAMS += tests/unit/arango_json_test
TESTS += tests/unit/arango_json_test
tests_unit_arango_json_test_SOURCES = tests/unit/arango_json_test.cc
tests_unit_arango_json_test_CPPFLAGS = $(GJ_TEST_CPPFLAGS)
tests_unit_arango_json_test_LDADD = $(GJ_TEST_LIBS)
endif
