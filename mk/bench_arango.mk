# mk/bench_arango.mk — bench/arango (issue 4 benchmark).
# Public API only, plus libcurl and json-c for the raw baselines.  -no-install: a real
# binary, not a libtool wrapper, so that it can re-run itself under callgrind.
EXTRA_PROGRAMS += bench/arango
bench_arango_SOURCES = bench/arango.c bench/bench_util.h tests/common/server_spawn.c tests/common/server_spawn.h
bench_arango_CPPFLAGS = $(AM_CPPFLAGS) -DGJ_SRCDIR='"$(abs_top_srcdir)"' \
	-DGJ_BUILDDIR='"$(abs_top_builddir)"' $(JSONC_CFLAGS)
bench_arango_LDADD = libgraphjob.la $(CURL_LIBS) $(JSONC_LIBS)
bench_arango_LDFLAGS = -no-install
EXTRA_DIST += bench/arango.js bench/README.md
if HAVE_MHD
BENCH_ARANGO_SERVER = tests/servers/arango/arango-refserver
endif
bench: bench/arango $(BENCH_ARANGO_SERVER)

# The request path's edge cases that the performance work touches (the
# Authorization line built by the backend, the tokener depth retry, plain
# query bodies, long and escaped URLs), through the public API against the
# reference server.
if HAVE_GTEST
if HAVE_MHD
check_PROGRAMS += tests/integration/arango_request_test
TESTS += tests/integration/arango_request_test
tests_integration_arango_request_test_SOURCES = tests/integration/arango_request_test.cc \
	tests/integration/arango_server.cc tests/integration/arango_server.h \
	tests/integration/server_process.cc tests/integration/server_process.h \
	tests/common/server_spawn.h
tests_integration_arango_request_test_CPPFLAGS = $(GJ_TEST_CPPFLAGS)
tests_integration_arango_request_test_LDADD = $(GJ_TEST_LIBS)
EXTRA_tests_integration_arango_request_test_DEPENDENCIES = tests/servers/arango/arango-refserver
endif
endif
