# mk/bench_bolt.mk — bench/bolt (issue 3 benchmark).
#
# Linked with the internal library (like bench/job_overhead) because its
# decoding baseline is a raw loop over the codec (lib/codec), which the
# installed library does not export; the library side uses only the public
# API.  It starts tests/servers/bolt/bolt-refserver and runs bench/bolt.js
# with node (neo4j-driver from tests/peers/node_modules).
EXTRA_PROGRAMS += bench/bolt
bench_bolt_SOURCES = bench/bolt.c bench/bench_util.h tests/common/server_spawn.c tests/common/server_spawn.h
bench_bolt_CPPFLAGS = $(AM_CPPFLAGS) -DGJ_BENCH_SRCDIR='"$(abs_top_srcdir)"' \
	-DGJ_BUILDDIR='"$(abs_top_builddir)"'
bench_bolt_LDADD = libgraphjob_internal.la $(DEPS_LIBS)
EXTRA_bench_bolt_DEPENDENCIES = tests/servers/bolt/bolt-refserver
EXTRA_DIST += bench/bolt.js
bench: bench/bolt
