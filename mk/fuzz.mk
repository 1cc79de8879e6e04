# mk/fuzz.mk — libFuzzer targets for the decoders that read server bytes and
# URLs (configure --enable-fuzzing CC=clang CXX=clang++; scripts/test.sh
# stage "fuzz" runs every tests/fuzz/*_fuzz for 60 s with the seed corpus
# tests/fuzz/corpus/<name>/).  packstream_fuzz is in mk/bolt.mk and
# config_fuzz in mk/config.mk.
#
# Only the sources listed in a target are instrumented (ASan + UBSan +
# coverage); the rest comes from the internal library as it is built.  Each
# target lists the code it exercises: a whole translation unit compiled in
# here takes the place of the library's copy at link time.

GJ_FUZZ_COMPILE_FLAGS = $(AM_CFLAGS) -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
GJ_FUZZ_LINK_FLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer,address,undefined

# The value model and JSON, shared by the targets below.
GJ_FUZZ_VALUE_FILES = lib/core/value.c lib/core/value_map.c lib/core/value_access.c \
	lib/core/json.c lib/core/json_in.c lib/core/iso8601.c

if GJ_FUZZING
noinst_PROGRAMS += tests/fuzz/url_fuzz tests/fuzz/arango_reply_fuzz tests/fuzz/bolt_session_fuzz

# URLs: the configuration sources.
tests_fuzz_url_fuzz_SOURCES = tests/fuzz/url_fuzz.c \
	lib/config/config.c lib/config/config_setting.c lib/config/config_text.c \
	lib/config/config_url.c lib/config/config_doc.c lib/config/config_yaml.c \
	lib/config/config_json.c lib/core/log.c
tests_fuzz_url_fuzz_CFLAGS = $(GJ_FUZZ_COMPILE_FLAGS)
tests_fuzz_url_fuzz_LDFLAGS = $(GJ_FUZZ_LINK_FLAGS)
tests_fuzz_url_fuzz_LDADD = libgraphjob_internal.la $(DEPS_LIBS) -lm

# ArangoDB replies: JSON -> values, error replies, cursor batches into a sink.
tests_fuzz_arango_reply_fuzz_SOURCES = tests/fuzz/arango_reply_fuzz.c \
	$(GJ_FUZZ_VALUE_FILES) lib/core/sink.c \
	lib/backend/arango/cursor.c lib/backend/arango/json_value.c
tests_fuzz_arango_reply_fuzz_CFLAGS = $(GJ_FUZZ_COMPILE_FLAGS)
tests_fuzz_arango_reply_fuzz_LDFLAGS = $(GJ_FUZZ_LINK_FLAGS)
tests_fuzz_arango_reply_fuzz_LDADD = libgraphjob_internal.la $(DEPS_LIBS) -lm

# The Bolt client on a loopback socket: the backend, its transport, the
# codec, the values.
tests_fuzz_bolt_session_fuzz_SOURCES = tests/fuzz/bolt_session_fuzz.c \
	$(GJ_FUZZ_VALUE_FILES) lib/core/sink.c lib/transport/tcp.c \
	lib/backend/bolt/bolt_session.c lib/backend/bolt/bolt_exec.c \
	lib/backend/bolt/bolt_route.c lib/backend/bolt/bolt_auth.c \
	lib/codec/packstream.c lib/codec/packstream_encode.c \
	lib/codec/packstream_decode.c lib/codec/packstream_structs.c \
	lib/codec/chunk.c lib/codec/bolt_msg.c lib/codec/bolt_handshake.c
tests_fuzz_bolt_session_fuzz_CFLAGS = $(GJ_FUZZ_COMPILE_FLAGS)
tests_fuzz_bolt_session_fuzz_LDFLAGS = $(GJ_FUZZ_LINK_FLAGS)
tests_fuzz_bolt_session_fuzz_LDADD = libgraphjob_internal.la $(DEPS_LIBS) -lm
endif
EXTRA_DIST += tests/fuzz/corpus/url tests/fuzz/corpus/arango_reply \
	tests/fuzz/corpus/bolt_session tests/fuzz/gen_bolt_session_corpus.py
