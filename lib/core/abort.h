/*
 * Why a blocking call gives up early (lib/core/abort.c).  Never installed.
 *
 * A call that may block outside a running request — opening a connection,
 * waiting in a pool for one, a liveness check — is given a gj_abort.  It
 * gives up with GJ_ECANCELLED once the job it works for was cancelled, and
 * with GJ_ESHUTDOWN once its pool is shutting down.  Its waits watch the
 * abort's file descriptors (eventfds written right after the flags are set)
 * besides their own, and look at the flags on every pass through their loop,
 * so a wake-up without a flag set is spurious and simply ignored.  (A running
 * request is interrupted through the backend's interrupt() instead.)
 *
 * Threading: the flags and fds are set by other threads; gj__abort_check
 * may be called from any thread at any time.
 */
#ifndef GJ_CORE_ABORT_H
#define GJ_CORE_ABORT_H

#include "internal.h"

#include <poll.h>

/* The flags are atomic objects (an atomic_uint, an atomic_bool) seen
 * through plain pointers and read with __atomic_load_n, so that this header
 * also compiles in C++ (tests include it through backend.h). */
typedef struct gj_abort {
    const unsigned *job_state;      /* the job's atomic state word, or NULL */
    unsigned job_mask;              /* its cancel bit */
    int job_fd;                     /* written when the job is cancelled, or -1 */
    const bool *stop;               /* the pool's atomic shutdown flag, or NULL */
    int stop_fd;                    /* written at shutdown and never drained, or -1 */
} gj_abort;

/* An abort that never fires. */
#define GJ__ABORT_NONE ((gj_abort){ NULL, 0, -1, NULL, -1 })

/* 0, GJ_ECANCELLED (the job was cancelled) or GJ_ESHUTDOWN.  a may be NULL. */
int gj__abort_check(const gj_abort *a);

/* Append the abort's fds (POLLIN) to p; returns how many (0..2). */
int gj__abort_pollfds(const gj_abort *a, struct pollfd *p);

/* Empty the job fd after a wake-up that turned out spurious. */
void gj__abort_drain(const gj_abort *a);

/* The text of an abort code for messages: "cancelled", "the client is
 * shutting down". */
const char *gj__abort_reason(int code);

#endif
