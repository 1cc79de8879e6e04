# mk/ws.mk — lib/transport/ws: the WebSocket client transport (libwebsockets,
# one service thread per gj_ws_service), and its unit test against a node
# `ws` peer (tests/peers/ws_peer.js; skipped without node or the package).

libgraphjob_internal_la_SOURCES += \
	lib/transport/ws.h lib/transport/ws_internal.h \
	lib/transport/ws.c lib/transport/ws_service.c lib/transport/ws_conn.c

EXTRA_DIST += tests/peers/ws_peer.js

if HAVE_GTEST
check_PROGRAMS += tests/unit/ws_test
TESTS += tests/unit/ws_test
tests_unit_ws_test_SOURCES = tests/unit/ws_test.cc \
	tests/integration/server_process.h tests/integration/server_process.cc \
	tests/integration/arango_server.h tests/integration/arango_server.cc \
	tests/common/server_spawn.h
tests_unit_ws_test_CPPFLAGS = $(GJ_TEST_CPPFLAGS)
tests_unit_ws_test_LDADD = $(GJ_TEST_LIBS)
endif
