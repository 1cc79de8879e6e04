# mk/pool.mk — the connection manager (lib/core/pool.c) and its unit test.
libgraphjob_internal_la_SOURCES += lib/core/pool.c lib/core/pool_discover.c

if HAVE_GTEST
check_PROGRAMS += tests/unit/pool_test
TESTS += tests/unit/pool_test
tests_unit_pool_test_SOURCES = tests/unit/pool_test.cc
tests_unit_pool_test_CPPFLAGS = $(GJ_TEST_CPPFLAGS)
tests_unit_pool_test_LDADD = $(GJ_TEST_LIBS)
endif
