/*
 * Allocation-failure injection for tests/unit/alloc_torture_test.cc
 * (tests/unit/alloc_wrap.c).
 *
 * The torture test is linked with
 *   -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=strdup,
 *   --wrap=strndup,--wrap=aligned_alloc
 * so that every call to those functions from an object linked into it
 * statically — the library (libgraphjob_internal.la, a convenience
 * library), the test backend and the test's own files — goes through the
 * wrappers here.  Calls made inside shared libraries (libc itself, libcurl,
 * json-c, libyaml, OpenSSL, libstdc++'s operator new, GoogleTest) are not
 * redirected: their allocations are neither counted nor failed.
 *
 * While armed, the wrappers count allocations (one global atomic counter:
 * the library's worker threads count too) and fail the fail_at-th one
 * (NULL, errno ENOMEM); every other allocation succeeds.  realloc to size 0
 * is neither counted nor failed (it frees).  Disarmed, they only pass
 * through.  Arm and disarm from one thread, between runs.
 */
#ifndef GJ_TESTS_ALLOC_WRAP_H
#define GJ_TESTS_ALLOC_WRAP_H

#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Start counting from 0; fail the fail_at-th allocation (0: fail none). */
void gj_torture_arm(long fail_at);
/* Stop counting; returns how many allocations were made while armed. */
long gj_torture_disarm(void);
/* Was the fail_at-th allocation reached (and failed) since the last arm? */
bool gj_torture_fired(void);

#ifdef __cplusplus
}
#endif

#endif
