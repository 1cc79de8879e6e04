# mk/bench_arango.mk — bench/arango (issue 4 benchmark).
# Public API only, plus libcurl and json-c for the raw baselines.  -no-install: a real
# binary, not a libtool wrapper, so that it can re-run itself under callgrind.
EXTRA_PROGRAMS += bench/arango
bench_arango_SOURCES = bench/arango.c
bench_arango_CPPFLAGS = $(AM_CPPFLAGS) -DGJ_SRCDIR='"$(abs_top_srcdir)"' \
	-DGJ_BUILDDIR='"$(abs_top_builddir)"' $(JSONC_CFLAGS)
bench_arango_LDADD = libgraphjob.la $(CURL_LIBS) $(JSONC_LIBS)
bench_arango_LDFLAGS = -no-install
EXTRA_DIST += bench/arango.js
if HAVE_MHD
BENCH_ARANGO_SERVER = tests/servers/arango/arango-refserver
endif
bench: bench/arango $(BENCH_ARANGO_SERVER)
