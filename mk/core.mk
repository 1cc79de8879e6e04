# mk/core.mk — job engine, client, requests, results, errors, logging, clocks.
libgraphjob_internal_la_SOURCES += \
	lib/core/internal.h lib/config/settings.h lib/core/sink.h lib/core/pool.h \
	lib/core/pool_internal.h \
	lib/backend/backend.h
libgraphjob_internal_la_SOURCES += lib/core/abort.h lib/core/abort.c
# The transports (used by the backends, never by lib/core).
EXTRA_DIST += docs/jobs.md docs/config.md docs/errors.md docs/internals.md
libgraphjob_internal_la_SOURCES += lib/transport/tcp.h lib/transport/tcp.c \
	lib/transport/resolve.h lib/transport/resolve.c \
	lib/transport/http.h lib/transport/http.c
libgraphjob_internal_la_SOURCES += lib/core/error.c lib/core/log.c lib/core/clock.c lib/core/version.c \
	lib/core/json_in.c lib/core/json_in.h
libgraphjob_internal_la_SOURCES += \
	lib/core/request.c lib/core/request_internal.h \
	lib/core/sink.c lib/core/sink_internal.h \
	lib/core/job.c lib/core/jobslab.c lib/core/registry.c lib/core/client.c lib/core/executor.c \
	lib/core/session.c lib/core/async.c lib/core/async.h \
	lib/core/job_internal.h \
	lib/backend/registry.c

# The test backend (tests and examples only, never installed).
check_LTLIBRARIES += libgjtestbackend.la
libgjtestbackend_la_SOURCES = tests/common/test_backend.c tests/common/test_backend.h
libgjtestbackend_la_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)

if HAVE_GTEST
check_PROGRAMS += tests/unit/job_test tests/unit/stress_test tests/unit/session_test
TESTS += tests/unit/job_test tests/unit/stress_test tests/unit/session_test
tests_unit_session_test_SOURCES = tests/unit/session_test.cc
tests_unit_session_test_CPPFLAGS = $(GJ_TEST_CPPFLAGS) -I$(top_srcdir)
tests_unit_session_test_LDADD = libgjtestbackend.la $(GJ_TEST_LIBS)
tests_unit_job_test_SOURCES = tests/unit/job_test.cc
tests_unit_job_test_CPPFLAGS = $(GJ_TEST_CPPFLAGS) -I$(top_srcdir)
tests_unit_job_test_LDADD = libgjtestbackend.la $(GJ_TEST_LIBS)
tests_unit_stress_test_SOURCES = tests/unit/stress_test.cc
tests_unit_stress_test_CPPFLAGS = $(GJ_TEST_CPPFLAGS) -I$(top_srcdir)
tests_unit_stress_test_LDADD = libgjtestbackend.la $(GJ_TEST_LIBS)
endif

# Benchmarks (built by `make bench`, not installed).
EXTRA_PROGRAMS = bench/job_overhead
bench_job_overhead_SOURCES = bench/job_overhead.c
bench_job_overhead_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)
bench_job_overhead_LDADD = libgjtestbackend.la libgraphjob_internal.la $(DEPS_LIBS)
CLEANFILES += $(EXTRA_PROGRAMS)
bench: $(EXTRA_PROGRAMS)
.PHONY: bench

# Examples (built by `make check` so they stay compilable; not installed).
check_PROGRAMS += examples/jobs_demo
examples_jobs_demo_SOURCES = examples/jobs_demo.c
examples_jobs_demo_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)
examples_jobs_demo_LDADD = libgjtestbackend.la libgraphjob_internal.la $(DEPS_LIBS)
EXTRA_DIST += docs

if HAVE_GTEST
check_PROGRAMS += tests/unit/error_test
TESTS += tests/unit/error_test
tests_unit_error_test_SOURCES = tests/unit/error_test.cc
tests_unit_error_test_CPPFLAGS = $(GJ_TEST_CPPFLAGS)
tests_unit_error_test_LDADD = $(GJ_TEST_LIBS)
endif

# An example that uses only the public API (scripts/test.sh also builds it
# against the installed library with pkg-config).
check_PROGRAMS += examples/config_check
examples_config_check_SOURCES = examples/config_check.c
examples_config_check_LDADD = libgraphjob.la

if HAVE_GTEST
check_PROGRAMS += tests/unit/json_in_test
TESTS += tests/unit/json_in_test
tests_unit_json_in_test_SOURCES = tests/unit/json_in_test.cc
tests_unit_json_in_test_CPPFLAGS = $(GJ_TEST_CPPFLAGS)
tests_unit_json_in_test_LDADD = $(GJ_TEST_LIBS)
endif
