# mk/server_spawn.mk — tests/common/server_spawn.c (starting and stopping a
# reference server, shared by bench/ and tests/) and its unit test.  The
# programs that use it list it themselves (bench/*: in their SOURCES;
# tests/integration/server_process.cc includes it).
if HAVE_GTEST
check_PROGRAMS += tests/unit/server_spawn_test
TESTS += tests/unit/server_spawn_test
tests_unit_server_spawn_test_SOURCES = tests/unit/server_spawn_test.cc \
	tests/common/server_spawn.c tests/common/server_spawn.h
tests_unit_server_spawn_test_CPPFLAGS = $(GJ_TEST_CPPFLAGS) -I$(top_srcdir)
tests_unit_server_spawn_test_LDADD = $(GTEST_LIBS)
endif
