# mk/bolt.mk — Bolt / Neo4j: PackStream codec, chunking, Bolt messages,
# their unit tests, the libFuzzer target and the Bolt reference server.

libgraphjob_internal_la_SOURCES += \
	lib/codec/packstream.h lib/codec/packstream_internal.h \
	lib/codec/packstream.c lib/codec/packstream_encode.c \
	lib/codec/packstream_decode.c lib/codec/packstream_structs.c \
	lib/codec/chunk.h lib/codec/chunk.c \
	lib/codec/bolt_msg.h lib/codec/bolt_msg.c \
	lib/codec/bolt_handshake.h lib/codec/bolt_handshake.c

if HAVE_GTEST
check_PROGRAMS += tests/unit/packstream_test tests/unit/chunk_test tests/unit/bolt_msg_test \
	tests/unit/packstream_alloc_test
TESTS += tests/unit/packstream_test tests/unit/chunk_test tests/unit/bolt_msg_test \
	tests/unit/packstream_alloc_test
tests_unit_packstream_test_SOURCES = tests/unit/packstream_test.cc
tests_unit_packstream_test_CPPFLAGS = $(GJ_TEST_CPPFLAGS)
tests_unit_packstream_test_LDADD = $(GJ_TEST_LIBS)
tests_unit_chunk_test_SOURCES = tests/unit/chunk_test.cc
tests_unit_chunk_test_CPPFLAGS = $(GJ_TEST_CPPFLAGS)
tests_unit_chunk_test_LDADD = $(GJ_TEST_LIBS)
tests_unit_bolt_msg_test_SOURCES = tests/unit/bolt_msg_test.cc
tests_unit_bolt_msg_test_CPPFLAGS = $(GJ_TEST_CPPFLAGS)
tests_unit_bolt_msg_test_LDADD = $(GJ_TEST_LIBS)
tests_unit_packstream_alloc_test_SOURCES = tests/unit/packstream_alloc_test.cc
tests_unit_packstream_alloc_test_CPPFLAGS = $(GJ_TEST_CPPFLAGS)
tests_unit_packstream_alloc_test_LDADD = $(GJ_TEST_LIBS)
endif

# libFuzzer target (configure --enable-fuzzing CC=clang CXX=clang++).  The
# codec is compiled into it so it is instrumented; the value model and the
# rest come from the internal library.
if GJ_FUZZING
noinst_PROGRAMS += tests/fuzz/packstream_fuzz
tests_fuzz_packstream_fuzz_SOURCES = tests/fuzz/packstream_fuzz.c \
	lib/codec/packstream.c lib/codec/packstream_encode.c \
	lib/codec/packstream_decode.c lib/codec/packstream_structs.c \
	lib/codec/chunk.c lib/codec/bolt_msg.c lib/codec/bolt_handshake.c
tests_fuzz_packstream_fuzz_CFLAGS = $(AM_CFLAGS) -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
tests_fuzz_packstream_fuzz_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer,address,undefined
tests_fuzz_packstream_fuzz_LDADD = libgraphjob_internal.la $(DEPS_LIBS)
endif
EXTRA_DIST += tests/fuzz/corpus/packstream

# The Bolt reference server (tests only, never installed).
noinst_PROGRAMS += tests/servers/bolt/bolt-refserver
tests_servers_bolt_bolt_refserver_SOURCES = \
	tests/servers/bolt/bs.h tests/servers/bolt/main.c tests/servers/bolt/conn.c \
	tests/servers/bolt/session.c tests/servers/bolt/cypher.h tests/servers/bolt/cypher_parse.c \
	tests/servers/bolt/cypher.c tests/servers/bolt/result.c tests/servers/bolt/store.c \
	tests/servers/bolt/fault.c
tests_servers_bolt_bolt_refserver_LDADD = libgraphjob_internal.la $(DEPS_LIBS)

# Raw-Bolt strictness checks of the server (no node needed).
check_PROGRAMS += tests/servers/bolt/bolt-smoke
tests_servers_bolt_bolt_smoke_SOURCES = tests/servers/bolt/smoke.c
tests_servers_bolt_bolt_smoke_LDADD = libgraphjob_internal.la $(DEPS_LIBS)
TESTS += tests/servers/bolt/bolt-smoke

# Cross-check with the official neo4j-driver (tests/peers, needs node + npm ci).
TESTS += tests/servers/bolt/run-neo4j-check.sh
EXTRA_DIST += tests/servers/bolt/run-neo4j-check.sh tests/peers/neo4j_check.js
