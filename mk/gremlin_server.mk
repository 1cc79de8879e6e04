# mk/gremlin_server.mk — the Gremlin Server reference server
# (tests/servers/gremlin: libwebsockets server side + the Gremlin codecs of
# libgraphjob_internal.la), its raw-WebSocket smoke check, and the gremlin
# npm driver cross-check (tests/peers/run-gremlin.sh).

noinst_PROGRAMS += tests/servers/gremlin/gremlin-refserver
tests_servers_gremlin_gremlin_refserver_SOURCES = \
	tests/servers/gremlin/gs.h \
	tests/servers/gremlin/main.c \
	tests/servers/gremlin/conn.c \
	tests/servers/gremlin/request.c \
	tests/servers/gremlin/task.c \
	tests/servers/gremlin/script.c \
	tests/servers/gremlin/graph.c \
	tests/servers/gremlin/fault.c
tests_servers_gremlin_gremlin_refserver_LDADD = libgraphjob_internal.la $(DEPS_LIBS)

# Raw-WebSocket strictness checks of the server (no node needed).
check_PROGRAMS += tests/servers/gremlin/gremlin-smoke
tests_servers_gremlin_gremlin_smoke_SOURCES = tests/servers/gremlin/smoke.c
tests_servers_gremlin_gremlin_smoke_LDADD = libgraphjob_internal.la $(DEPS_LIBS)
TESTS += tests/servers/gremlin/gremlin-smoke

# Cross-check with the official gremlin driver 3.8.2 and 3.6.4 (tests/peers,
# needs node + npm ci; skipped otherwise).
TESTS += tests/peers/run-gremlin.sh
EXTRA_DIST += tests/servers/gremlin/README.md tests/peers/gremlin_check.js tests/peers/run-gremlin.sh
