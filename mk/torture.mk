# mk/torture.mk — allocation-failure torture (tests/unit/alloc_torture_test.cc):
# the test is linked with --wrap for the allocation functions the library
# uses, so that tests/unit/alloc_wrap.c can count the library's allocations
# and fail the Nth (the library and the test backend are static convenience
# libraries, linked into the program: their calls are redirected; calls
# inside shared libraries are not).
if HAVE_GTEST
check_PROGRAMS += tests/unit/alloc_torture_test
TESTS += tests/unit/alloc_torture_test
tests_unit_alloc_torture_test_SOURCES = tests/unit/alloc_torture_test.cc \
	tests/unit/alloc_wrap.c tests/unit/alloc_wrap.h \
	tests/integration/server_process.cc tests/integration/server_process.h \
	tests/integration/arango_server.cc tests/integration/arango_server.h
tests_unit_alloc_torture_test_CPPFLAGS = $(GJ_TEST_CPPFLAGS) -I$(top_srcdir)
tests_unit_alloc_torture_test_LDFLAGS = $(AM_LDFLAGS) \
	-Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=strdup,--wrap=strndup,--wrap=aligned_alloc
tests_unit_alloc_torture_test_LDADD = libgjtestbackend.la $(GJ_TEST_LIBS)
# The Bolt and ArangoDB scenarios start the reference servers.
EXTRA_tests_unit_alloc_torture_test_DEPENDENCIES = tests/servers/bolt/bolt-refserver$(EXEEXT)
if HAVE_MHD
EXTRA_tests_unit_alloc_torture_test_DEPENDENCIES += tests/servers/arango/arango-refserver
endif
endif
