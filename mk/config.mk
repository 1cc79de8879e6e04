# mk/config.mk — configuration: URLs, YAML and JSON files, typed setters and
# getters (lib/config/config*.c).
libgraphjob_internal_la_SOURCES += \
	lib/config/config.c lib/config/config_internal.h lib/config/config_setting.c \
	lib/config/config_text.c \
	lib/config/config_url.c lib/config/config_doc.c lib/config/config_yaml.c \
	lib/config/config_json.c

if HAVE_GTEST
check_PROGRAMS += tests/unit/config_test
TESTS += tests/unit/config_test
tests_unit_config_test_SOURCES = tests/unit/config_test.cc
tests_unit_config_test_CPPFLAGS = $(GJ_TEST_CPPFLAGS)
tests_unit_config_test_LDADD = $(GJ_TEST_LIBS)
endif
EXTRA_DIST += tests/unit/data/config

# libFuzzer target (configure --enable-fuzzing CC=clang CXX=clang++): the
# configuration sources are compiled into it so that they are instrumented.
if GJ_FUZZING
noinst_PROGRAMS += tests/fuzz/config_fuzz
tests_fuzz_config_fuzz_SOURCES = tests/fuzz/config_fuzz.c \
	lib/config/config.c lib/config/config_setting.c lib/config/config_text.c \
	lib/config/config_url.c lib/config/config_doc.c lib/config/config_yaml.c \
	lib/config/config_json.c
tests_fuzz_config_fuzz_CFLAGS = $(AM_CFLAGS) -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
tests_fuzz_config_fuzz_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer,address,undefined
tests_fuzz_config_fuzz_LDADD = libgraphjob_internal.la $(DEPS_LIBS) -lm
endif
EXTRA_DIST += tests/fuzz/corpus/config
