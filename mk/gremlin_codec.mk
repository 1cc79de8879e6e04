# mk/gremlin_codec.mk — Gremlin codecs (lib/codec, no I/O): GraphBinary 1.0,
# GraphSON 3.0 and 2.0, the Gremlin Server message layer; their unit tests
# (which read TinkerPop's IO files from ../shared/vectors/tinkerpop when it
# exists) and the libFuzzer targets of the decoders.

libgraphjob_internal_la_SOURCES += \
	lib/codec/graphson_types.h lib/codec/graphson_types.c lib/codec/graphson_bignum.c \
	lib/codec/graphbinary.h lib/codec/graphbinary_internal.h lib/codec/graphbinary_decode.c \
	lib/codec/graphbinary_structs.c lib/codec/graphbinary_encode.c \
	lib/codec/graphson.h lib/codec/graphson_decode.c lib/codec/graphson_encode.c \
	lib/codec/gremlin_msg.h lib/codec/gremlin_msg.c

if HAVE_GTEST
check_PROGRAMS += tests/unit/graphbinary_test tests/unit/graphson_test tests/unit/gremlin_msg_test
TESTS += tests/unit/graphbinary_test tests/unit/graphson_test tests/unit/gremlin_msg_test
tests_unit_graphbinary_test_SOURCES = tests/unit/graphbinary_test.cc
tests_unit_graphbinary_test_CPPFLAGS = $(GJ_TEST_CPPFLAGS)
tests_unit_graphbinary_test_LDADD = $(GJ_TEST_LIBS)
tests_unit_graphson_test_SOURCES = tests/unit/graphson_test.cc
tests_unit_graphson_test_CPPFLAGS = $(GJ_TEST_CPPFLAGS)
tests_unit_graphson_test_LDADD = $(GJ_TEST_LIBS)
tests_unit_gremlin_msg_test_SOURCES = tests/unit/gremlin_msg_test.cc
tests_unit_gremlin_msg_test_CPPFLAGS = $(GJ_TEST_CPPFLAGS)
tests_unit_gremlin_msg_test_LDADD = $(GJ_TEST_LIBS)
endif

# libFuzzer targets (configure --enable-fuzzing CC=clang CXX=clang++): the
# codecs and the value model are compiled in, so they are instrumented; the
# rest comes from the internal library.
GJ_GREMLIN_FUZZ_FILES = \
	lib/codec/graphson_types.c lib/codec/graphson_bignum.c \
	lib/codec/graphbinary_decode.c lib/codec/graphbinary_structs.c lib/codec/graphbinary_encode.c \
	lib/codec/graphson_decode.c lib/codec/graphson_encode.c lib/codec/gremlin_msg.c \
	lib/core/value.c lib/core/value_map.c lib/core/value_access.c lib/core/iso8601.c
GJ_GREMLIN_FUZZ_COMPILE_FLAGS = $(AM_CFLAGS) -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
GJ_GREMLIN_FUZZ_LINK_FLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer,address,undefined

if GJ_FUZZING
noinst_PROGRAMS += tests/fuzz/graphbinary_fuzz tests/fuzz/graphson_fuzz tests/fuzz/gremlin_msg_fuzz
tests_fuzz_graphbinary_fuzz_SOURCES = tests/fuzz/graphbinary_fuzz.c $(GJ_GREMLIN_FUZZ_FILES)
tests_fuzz_graphbinary_fuzz_CFLAGS = $(GJ_GREMLIN_FUZZ_COMPILE_FLAGS)
tests_fuzz_graphbinary_fuzz_LDFLAGS = $(GJ_GREMLIN_FUZZ_LINK_FLAGS)
tests_fuzz_graphbinary_fuzz_LDADD = libgraphjob_internal.la $(DEPS_LIBS)
tests_fuzz_graphson_fuzz_SOURCES = tests/fuzz/graphson_fuzz.c $(GJ_GREMLIN_FUZZ_FILES)
tests_fuzz_graphson_fuzz_CFLAGS = $(GJ_GREMLIN_FUZZ_COMPILE_FLAGS)
tests_fuzz_graphson_fuzz_LDFLAGS = $(GJ_GREMLIN_FUZZ_LINK_FLAGS)
tests_fuzz_graphson_fuzz_LDADD = libgraphjob_internal.la $(DEPS_LIBS)
tests_fuzz_gremlin_msg_fuzz_SOURCES = tests/fuzz/gremlin_msg_fuzz.c $(GJ_GREMLIN_FUZZ_FILES)
tests_fuzz_gremlin_msg_fuzz_CFLAGS = $(GJ_GREMLIN_FUZZ_COMPILE_FLAGS)
tests_fuzz_gremlin_msg_fuzz_LDFLAGS = $(GJ_GREMLIN_FUZZ_LINK_FLAGS)
tests_fuzz_gremlin_msg_fuzz_LDADD = libgraphjob_internal.la $(DEPS_LIBS)
endif
EXTRA_DIST += tests/fuzz/corpus/graphbinary tests/fuzz/corpus/graphson \
	tests/fuzz/corpus/gremlin_msg
