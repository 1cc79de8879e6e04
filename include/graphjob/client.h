/*
 * libgraphjob — the client.
 *
 * A client owns the worker threads, the bounded submit queue, the job
 * registry and one connection pool per target endpoint.  Create one per
 * program (or per independent subsystem) and share it between threads.
 *
 * Threading: every function may be called from any thread concurrently,
 * except gj_client_free(), which must be called once, when no other thread
 * uses the client any more, and not from a worker thread (callback).
 */
#ifndef GRAPHJOB_CLIENT_H
#define GRAPHJOB_CLIENT_H

#include "common.h"
#include "job.h"

GJ_BEGIN_DECLS

/* Create a client from a configuration (copied; cfg may be freed right
 * after).  Starts the workers; connects lazily (min_conns > 0 connects in the
 * background).  Errors: GJ_ECONFIG naming the bad setting or an unknown
 * backend, GJ_ENOMEM, GJ_EINVAL. */
GJ_EXTERN int gj_client_new(gj_client **out, const gj_config *cfg, gj_error *err);

/* The same from a URL (one target, "default"). */
GJ_EXTERN int gj_client_new_url(gj_client **out, const char *url, gj_error *err);

/* Shut down: queued jobs are cancelled (their callbacks run, on this
 * thread), running jobs are interrupted, workers are joined, connections
 * closed, everything freed.  No callback runs after it returns.  Job handles
 * the program still holds stay valid for gj_job_* calls (which answer as for
 * a cancelled or finished job) until unreferenced.  NULL is fine. */
GJ_EXTERN void gj_client_free(gj_client *client);

/* Flags for gj_submit_options.flags. */
#define GJ_SUBMIT_DETACHED 0x1 /* keep no result: the job clears itself when it
                                  ends; only the callback hears of the outcome */

typedef struct gj_submit_options {
    size_t size;          /* sizeof(gj_submit_options): set by _INIT */
    gj_job_fn on_done;    /* completion callback, or NULL */
    void *payload;        /* passed to on_done */
    unsigned flags;       /* GJ_SUBMIT_* */
} gj_submit_options;

#define GJ_SUBMIT_OPTIONS_INIT { sizeof(gj_submit_options), NULL, NULL, 0 }

/* Queue a request.  Never blocks on the network; returns at once.  On
 * success *out (may be NULL) gets a job handle the caller owns
 * (gj_job_unref).  When the queue holds queue_size jobs it fails with
 * GJ_EBUSY (nothing is queued).  On any error the callback is never called.
 * The request is referenced and frozen (see request.h); opts may be NULL. */
GJ_EXTERN int gj_client_submit(gj_client *client, gj_request *req,
                               const gj_submit_options *opts, gj_job **out,
                               gj_error *err);

/* Submit + wait + result in one call (timeout_ms as in gj_job_wait; on
 * timeout the job is cancelled and cleared).  Returns what gj_job_result
 * returns.  GJ_EDEADLK on a worker thread.
 *
 * Caller-runs: when nothing is queued and the target's pool has an open
 * idle connection, the calling thread runs the job itself — no queue, no
 * wake-up, no switch to a worker and back — with timeout_ms (when >= 0)
 * bounding the request (GJ_ETIMEDOUT as usual).  It is an ordinary job
 * meanwhile: listed as pending, found by id, cancelled from any thread.
 * Otherwise (work queued, every connection busy or none open yet) the job
 * goes through the queue as any other.  The client setting caller_runs
 * (default true) turns this off.  A worker thread never runs another job
 * this way. */
GJ_EXTERN int gj_client_execute(gj_client *client, gj_request *req, int64_t timeout_ms,
                                gj_result **out, gj_error *err);

/* Look a job up by id: *out gets a new handle.  GJ_ENOTFOUND ("job N not
 * found") for an unknown, cleared or consumed id. */
GJ_EXTERN int gj_client_job(gj_client *client, uint64_t id, gj_job **out, gj_error *err);

/* The ids of the jobs in `status` (GJ_JOB_PENDING, or GJ_JOB_DONE which
 * here means finished: done or cancelled, not yet consumed or cleared), in
 * submission order, at most max_count of them (0 = all).  *ids is allocated
 * (free with gj_free; NULL when *count is 0). */
GJ_EXTERN int gj_client_list_jobs(gj_client *client, gj_job_status status,
                                  size_t max_count, uint64_t **ids, size_t *count,
                                  gj_error *err);

/* Clear every finished job (done or cancelled), or only those that finished
 * before `before_ms` (milliseconds since the epoch; 0 = all).  *cleared (may
 * be NULL) gets how many. */
GJ_EXTERN int gj_client_clear_jobs(gj_client *client, int64_t before_ms, size_t *cleared,
                                   gj_error *err);

/* A file descriptor (eventfd) that becomes readable when any job finishes.
 * Add it to epoll/poll/libuv/libevent; when it fires, call
 * gj_client_ack_events() and then look at your jobs.  Owned by the client. */
GJ_EXTERN int gj_client_event_fd(const gj_client *client);

/* Make the event fd unreadable again until the next job finishes.  Returns
 * how many jobs finished since the last ack (at least 1 when it was
 * readable), 0 if none. */
GJ_EXTERN uint64_t gj_client_ack_events(gj_client *client);

/* Counters (a snapshot). */
typedef struct gj_client_stats {
    size_t size;          /* sizeof(gj_client_stats): set by the caller */
    uint64_t submitted;   /* accepted by gj_client_submit */
    uint64_t rejected;    /* refused with GJ_EBUSY */
    uint64_t done;        /* ended DONE (with or without error) */
    uint64_t failed;      /* of those, with an error */
    uint64_t cancelled;   /* ended CANCELLED */
    uint64_t queued;      /* waiting for a worker now */
    uint64_t running;     /* on a worker now, or in flight on a multiplexed
                             connection (Gremlin) with no thread waiting */
    uint64_t registered;  /* in the registry now (not cleared/consumed) */
    uint64_t job_memory;  /* bytes the client holds for job records, in use or
                             kept for reuse (0 where records are malloc'd) */
} gj_client_stats;

GJ_EXTERN int gj_client_get_stats(gj_client *client, gj_client_stats *stats);

GJ_END_DECLS

#endif
