# mk/bench_gremlin.mk — bench/gremlin (issue 10 benchmark).
#
# Linked with the internal library: its baseline drives the WebSocket
# transport and the Gremlin codec directly (lib/transport/ws.h,
# lib/codec/gremlin_msg.h), which the installed library does not export; the
# library side uses only the public API.  It starts
# tests/servers/gremlin/gremlin-refserver and runs bench/gremlin.js with node
# (the gremlin driver from tests/peers/node_modules).
EXTRA_PROGRAMS += bench/gremlin
bench_gremlin_SOURCES = bench/gremlin.c bench/bench_util.h tests/common/server_spawn.c tests/common/server_spawn.h
bench_gremlin_CPPFLAGS = $(AM_CPPFLAGS) -DGJ_BENCH_SRCDIR='"$(abs_top_srcdir)"' \
	-DGJ_BUILDDIR='"$(abs_top_builddir)"'
bench_gremlin_LDADD = libgraphjob_internal.la $(DEPS_LIBS)
EXTRA_bench_gremlin_DEPENDENCIES = tests/servers/gremlin/gremlin-refserver
EXTRA_DIST += bench/gremlin.js
bench: bench/gremlin
