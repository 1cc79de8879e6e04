# mk/bench_graphql.mk — bench/graphql (issue 11 benchmark): the GraphQL backend
# next to raw libcurl + json-c, a Node fetch client and a node `ws` client,
# against graphql-http and graphql-ws (tests/peers, started by the program).
# -no-install: a real binary, not a libtool wrapper.
EXTRA_PROGRAMS += bench/graphql
bench_graphql_SOURCES = bench/graphql.c bench/bench_util.h tests/common/server_spawn.c tests/common/server_spawn.h
bench_graphql_CPPFLAGS = $(AM_CPPFLAGS) -DGJ_SRCDIR='"$(abs_top_srcdir)"' \
	-DGJ_BUILDDIR='"$(abs_top_builddir)"' $(JSONC_CFLAGS)
bench_graphql_LDADD = libgraphjob.la $(CURL_LIBS) $(JSONC_LIBS)
bench_graphql_LDFLAGS = -no-install
EXTRA_DIST += tests/peers/graphql_bench_client.js
bench: bench/graphql
