# mk/values.mk — the value model (lib/core/value*.c) and its JSON and ISO-8601
# text (lib/core/json.c, lib/core/iso8601.c).
libgraphjob_internal_la_SOURCES += \
	lib/core/value_internal.h lib/core/value_struct.h \
	lib/core/value.c lib/core/value_map.c lib/core/value_access.c \
	lib/core/json.c lib/core/iso8601.c
libgraphjob_internal_la_SOURCES += lib/core/value_vector.c

if HAVE_GTEST
check_PROGRAMS += tests/unit/value_test tests/unit/json_test
TESTS += tests/unit/value_test tests/unit/json_test
tests_unit_value_test_SOURCES = tests/unit/value_test.cc
tests_unit_value_test_CPPFLAGS = $(GJ_TEST_CPPFLAGS)
tests_unit_value_test_LDADD = $(GJ_TEST_LIBS)
tests_unit_json_test_SOURCES = tests/unit/json_test.cc
tests_unit_json_test_CPPFLAGS = $(GJ_TEST_CPPFLAGS)
tests_unit_json_test_LDADD = $(GJ_TEST_LIBS)
endif

# Micro benchmark (built by `make check`, run by hand: bench/value_build [records]).
check_PROGRAMS += bench/value_build
bench_value_build_SOURCES = bench/value_build.c
bench_value_build_LDADD = libgraphjob_internal.la $(DEPS_LIBS)
