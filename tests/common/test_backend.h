/*
 * A backend for tests and examples that needs no network (compiled into the
 * tests and examples, never into the installed library).
 *
 * Requests (op "query"; the text is ignored) are steered by options:
 *   delay_ms (int)      sleep this long, interruptibly (cancel ends it: GJ_ECANCELLED;
 *                       the request's deadline ends it: GJ_ETIMEDOUT)
 *   delay_us (int)      the same in microseconds
 *   uninterruptible (any) with a delay: ignore interrupts while sleeping (a
 *                       backend or protocol that cannot cancel)
 *   rows (int)          emit this many rows [i, "row i"] (fields ["i", "label"])
 *   fail (string)       fail: "server" (GJ_ESERVER with an ArangoDB-like identity:
 *                       errorNum 1501, HTTP 400), "io" (GJ_EIO, connection broken),
 *                       "timeout" (GJ_ETIMEDOUT)
 *   echo (bool)         emit the request's params as one row
 * Sessions: a session's job gets meta session_seq (1, 2, ... within the
 * session) and conn_id (the connection it ran on); session option
 * fail_open (any) makes the session's beginning fail (GJ_ESERVER).
 * Targets: scheme "test", backend "test"; a host named "down" refuses to
 * connect; a host named "slow" takes until the connect deadline (an abort,
 * a cancelled job or a shutdown, ends it at once).
 */
#ifndef GJ_TEST_BACKEND_H
#define GJ_TEST_BACKEND_H

#include "backend/backend.h"

#ifdef __cplusplus
extern "C" {
#endif

extern const gj_backend gj_test_backend;

/* Counters over the process (for tests). */
typedef struct gj_test_backend_counters {
    long connects, closes, executes, interrupts, pings;
    long session_opens, session_closes;
} gj_test_backend_counters;
void gj_test_backend_counters_get(gj_test_backend_counters *out);

/* A client with the test backend: "test://host" URL, given workers and queue_size. */
int gj_test_client_new(gj_client **out, unsigned workers, size_t queue_size, gj_error *err);
/* A client with the test backend from a URL ("test://localhost?workers=1&max_conns=2"). */
int gj_test_client_new_url(gj_client **out, const char *url, gj_error *err);

#ifdef __cplusplus
}
#endif

#endif
