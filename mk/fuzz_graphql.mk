# mk/fuzz_graphql.mk — libFuzzer targets for the GraphQL backend's decoders
# (lib/backend/graphql: replies, multipart/mixed incremental delivery, the
# document scanner, graphql-sse event streams, GraphQL-over-WebSocket
# messages) and the unit test of the parsing functions they reach.
#
# Fuzzing: configure --enable-fuzzing CC=clang CXX=clang++; scripts/test.sh
# stage "fuzz" runs every tests/fuzz/*_fuzz with the seed corpus
# tests/fuzz/corpus/<name without _fuzz>/.  Only the sources listed in a
# target are instrumented (ASan + UBSan + coverage); the rest comes from the
# internal library as it is built, a translation unit compiled in here
# taking the place of the library's copy at link time.

if HAVE_GTEST
check_PROGRAMS += tests/unit/gql_parse_test
TESTS += tests/unit/gql_parse_test
tests_unit_gql_parse_test_SOURCES = tests/unit/gql_parse_test.cc
tests_unit_gql_parse_test_CPPFLAGS = $(GJ_TEST_CPPFLAGS)
tests_unit_gql_parse_test_LDADD = $(GJ_TEST_LIBS)
endif

GJ_GQL_FUZZ_COMPILE_FLAGS = $(AM_CFLAGS) -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
GJ_GQL_FUZZ_LINK_FLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer,address,undefined
# The value model, JSON in and out, the sink: what every target below feeds.
GJ_GQL_FUZZ_CORE_FILES = lib/core/value.c lib/core/value_map.c lib/core/value_access.c \
	lib/core/json.c lib/core/json_in.c lib/core/iso8601.c lib/core/sink.c
# Replies (gql_reply.c) and the JSON text buffer they use (gql_doc.c).
GJ_GQL_FUZZ_REPLY_FILES = lib/backend/graphql/gql_reply.c lib/backend/graphql/gql_doc.c \
	$(GJ_GQL_FUZZ_CORE_FILES)

if GJ_FUZZING
noinst_PROGRAMS += tests/fuzz/graphql_reply_fuzz tests/fuzz/graphql_multipart_fuzz \
	tests/fuzz/graphql_doc_fuzz tests/fuzz/graphql_sse_fuzz tests/fuzz/graphql_ws_fuzz

tests_fuzz_graphql_reply_fuzz_SOURCES = tests/fuzz/graphql_reply_fuzz.c tests/fuzz/graphql_fuzz.h \
	$(GJ_GQL_FUZZ_REPLY_FILES)
tests_fuzz_graphql_reply_fuzz_CFLAGS = $(GJ_GQL_FUZZ_COMPILE_FLAGS)
tests_fuzz_graphql_reply_fuzz_LDFLAGS = $(GJ_GQL_FUZZ_LINK_FLAGS)
tests_fuzz_graphql_reply_fuzz_LDADD = libgraphjob_internal.la $(DEPS_LIBS) -lm

tests_fuzz_graphql_multipart_fuzz_SOURCES = tests/fuzz/graphql_multipart_fuzz.c tests/fuzz/graphql_fuzz.h \
	$(GJ_GQL_FUZZ_REPLY_FILES)
tests_fuzz_graphql_multipart_fuzz_CFLAGS = $(GJ_GQL_FUZZ_COMPILE_FLAGS)
tests_fuzz_graphql_multipart_fuzz_LDFLAGS = $(GJ_GQL_FUZZ_LINK_FLAGS)
tests_fuzz_graphql_multipart_fuzz_LDADD = libgraphjob_internal.la $(DEPS_LIBS) -lm

tests_fuzz_graphql_doc_fuzz_SOURCES = tests/fuzz/graphql_doc_fuzz.c lib/backend/graphql/gql_doc.c
tests_fuzz_graphql_doc_fuzz_CFLAGS = $(GJ_GQL_FUZZ_COMPILE_FLAGS)
tests_fuzz_graphql_doc_fuzz_LDFLAGS = $(GJ_GQL_FUZZ_LINK_FLAGS)
tests_fuzz_graphql_doc_fuzz_LDADD = libgraphjob_internal.la $(DEPS_LIBS) -lm

tests_fuzz_graphql_sse_fuzz_SOURCES = tests/fuzz/graphql_sse_fuzz.c tests/fuzz/graphql_fuzz.h \
	lib/backend/graphql/gql_sse.c $(GJ_GQL_FUZZ_REPLY_FILES)
tests_fuzz_graphql_sse_fuzz_CFLAGS = $(GJ_GQL_FUZZ_COMPILE_FLAGS)
tests_fuzz_graphql_sse_fuzz_LDFLAGS = $(GJ_GQL_FUZZ_LINK_FLAGS)
tests_fuzz_graphql_sse_fuzz_LDADD = libgraphjob_internal.la $(DEPS_LIBS) -lm

tests_fuzz_graphql_ws_fuzz_SOURCES = tests/fuzz/graphql_ws_fuzz.c \
	lib/backend/graphql/gql_ws.c $(GJ_GQL_FUZZ_REPLY_FILES)
tests_fuzz_graphql_ws_fuzz_CFLAGS = $(GJ_GQL_FUZZ_COMPILE_FLAGS)
tests_fuzz_graphql_ws_fuzz_LDFLAGS = $(GJ_GQL_FUZZ_LINK_FLAGS)
tests_fuzz_graphql_ws_fuzz_LDADD = libgraphjob_internal.la $(DEPS_LIBS) -lm
endif
EXTRA_DIST += tests/fuzz/corpus/graphql_reply tests/fuzz/corpus/graphql_multipart \
	tests/fuzz/corpus/graphql_doc tests/fuzz/corpus/graphql_sse tests/fuzz/corpus/graphql_ws
