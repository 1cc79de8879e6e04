/*
 * libgraphjob — jobs.
 *
 * A job is a submitted request.  Its states:
 *   GJ_JOB_PENDING    queued or running (gj_job_started() tells which)
 *   GJ_JOB_DONE       finished, with a result or with an error
 *   GJ_JOB_CANCELLED  cancelled before it ran, or interrupted while running
 * Every job reaches exactly one terminal state, exactly once.
 *
 * The contract (the same for every backend):
 *
 *  call      | pending              | done                | cancelled   | cleared/unknown
 *  ----------+----------------------+---------------------+-------------+----------------
 *  status    | PENDING              | DONE                | CANCELLED   | GJ_ENOTFOUND
 *  wait      | blocks until terminal| returns at once     | at once     | GJ_ENOTFOUND
 *  result    | GJ_ENOTDONE          | moves the result out,| GJ_ECANCELLED| GJ_ENOTFOUND
 *            |                      | or the server error  |             |
 *  cancel    | queued: CANCELLED at | GJ_ENOTFOUND        | GJ_ENOTFOUND| GJ_ENOTFOUND
 *            | once; running: the backend interrupts it where the protocol
 *            | can (then CANCELLED), else it finishes DONE
 *  clear     | cancels, then frees  | frees               | frees       | GJ_ENOTFOUND
 *
 * Taking the result (or its error) with gj_job_result() consumes the job, as
 * fetching an ArangoDB async job does: afterwards the job is "not found" to
 * every call, and it no longer appears in gj_client_list_jobs().
 * Error messages are python-arango's: "job 42 not found", "job 42 not done",
 * "job 42 cancelled".
 *
 * A gj_job handle is reference counted and separate from the job's life in
 * the client's registry: a handle stays valid (its calls answer
 * GJ_ENOTFOUND) after the job was cleared, until gj_job_unref().
 *
 * Threading: every function may be called from any thread, concurrently,
 * except gj_job_wait(), which returns GJ_EDEADLK when called on one of the
 * client's own threads (a worker or the completion thread, including inside
 * a completion callback).
 */
#ifndef GRAPHJOB_JOB_H
#define GRAPHJOB_JOB_H

#include "common.h"

GJ_BEGIN_DECLS

typedef enum gj_job_status {
    GJ_JOB_PENDING = 0,
    GJ_JOB_DONE = 1,
    GJ_JOB_CANCELLED = 2
} gj_job_status;

/* "pending", "done", "cancelled" (static). */
GJ_EXTERN const char *gj_job_status_name(gj_job_status status);

/* Called exactly once per job when it reaches DONE or CANCELLED, on the
 * thread that ran the job — a worker, or a caller that ran it itself
 * (gj_job_wait(job, -1) on the job first in line, see "caller-runs" in
 * client.h), or the client's completion thread for a request a multiplexing
 * backend (Gremlin) answered asynchronously — or, for a job cancelled while
 * queued, on the thread that called cancel/clear/gj_client_free; never
 * inside gj_client_submit, always with no library lock held.  `job` is borrowed for the call; gj_job_ref()
 * keeps it.  The callback may call any gj_job_* function except gj_job_wait,
 * and may submit new jobs. */
typedef void (*gj_job_fn)(gj_job *job, void *payload);

GJ_EXTERN gj_job *gj_job_ref(gj_job *job);
GJ_EXTERN void gj_job_unref(gj_job *job);

/* The job's id: unique within its client, starts at 1, never reused. */
GJ_EXTERN uint64_t gj_job_id(const gj_job *job);

/* The job's state; GJ_ENOTFOUND once cleared or consumed. */
GJ_EXTERN int gj_job_get_status(gj_job *job, gj_job_status *out, gj_error *err);

/* True once a worker has picked the job up (it is running or finished). */
GJ_EXTERN bool gj_job_started(const gj_job *job);

/* Block until the job is DONE or CANCELLED, or timeout_ms passes
 * (-1 = forever, 0 = poll).  Returns 0 when terminal, GJ_ETIMEDOUT,
 * GJ_ENOTFOUND, or GJ_EDEADLK on a worker thread.  Waiting forever (-1) for
 * a job that is still queued and first in line, the calling thread runs it
 * itself instead of handing it to a worker (the setting caller_runs, on by
 * default): its callback then runs on this thread, before this returns. */
GJ_EXTERN int gj_job_wait(gj_job *job, int64_t timeout_ms, gj_error *err);

/* Move the result to the caller (*out; free with gj_result_free) and consume
 * the job.  If the job failed, returns the job's error code (GJ_ESERVER with
 * the server's identity, GJ_EIO, GJ_ETIMEDOUT ...) and copies the detail
 * into err; the job is consumed as well.  GJ_ENOTDONE while pending (the job
 * is not consumed), GJ_ECANCELLED when cancelled, GJ_ENOTFOUND when cleared
 * or already consumed.  out may be NULL to discard the result. */
GJ_EXTERN int gj_job_result(gj_job *job, gj_result **out, gj_error *err);

/* Cancel a pending job (see the table).  Returns 0 when the job is now
 * CANCELLED, or when it was running and the interrupt was sent (the job then
 * ends CANCELLED if the interrupt took effect, else DONE: wait on it).
 * GJ_ENOTFOUND for a done, cancelled, cleared or consumed job. */
GJ_EXTERN int gj_job_cancel(gj_job *job, gj_error *err);

/* Clear the job: cancel it if pending, drop its result, and remove it from
 * the client's registry (it is "not found" afterwards).  GJ_ENOTFOUND when
 * already cleared or consumed. */
GJ_EXTERN int gj_job_clear(gj_job *job, gj_error *err);

/* When the job reached its terminal state: milliseconds since the epoch
 * (CLOCK_REALTIME), or 0 while pending. */
GJ_EXTERN int64_t gj_job_finished_at(const gj_job *job);

GJ_END_DECLS

#endif
