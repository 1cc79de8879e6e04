/*
 * Asynchronous requests of multiplexing backends (lib/core/async.c): the
 * backend's side.  Never installed.
 *
 * A worker that runs a job on a backend with start() (lib/backend/backend.h)
 * hands the request over and goes on; the backend's I/O thread collects the
 * response into the request's sink and calls gj__async_done once; the
 * client's completion thread then finishes the job (result or error,
 * waiters, event fd, completion callback) and gives the connection back
 * to the pool.  The completion thread also ends requests at their deadline
 * (the backend's abandon(), GJ_ETIMEDOUT) and, when the client is freed,
 * every request still in flight (GJ_ECANCELLED).
 */
#ifndef GJ_CORE_ASYNC_H
#define GJ_CORE_ASYNC_H

#include "core/sink.h"

typedef struct gj_async gj_async;

/* Where the response goes: rows, fields, meta, the request's deadline and
 * cancel flag (gj__sink_deadline, gj__sink_cancel_requested).  Used by one
 * thread at a time until gj__async_done. */
gj_sink *gj__async_sink(gj_async *a);

/* The error to fill before gj__async_done(a, code) with code != 0. */
gj_error *gj__async_error(gj_async *a);

/* The request ended: rc 0 (the sink holds the result) or an error code
 * (gj__async_error holds the detail; GJ_ECANCELLED ends the job CANCELLED).
 * Exactly once per started request, from any thread, holding any backend
 * lock (it takes only the client's completion lock, briefly).  The backend
 * must not touch `a` or its sink afterwards. */
void gj__async_done(gj_async *a, int rc);

#endif
