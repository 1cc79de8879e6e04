/*
 * Jobs: the state machine, waiting, results, cancel and clear.
 *
 * Synchronisation: the state word (atomic) carries the phase and flags; a
 * job's terminal phase is published with release order after its result,
 * error and finished_at are written, so a thread that sees the terminal phase
 * (acquire) may read them.  Sleeping waiters and the cancel/run hand-over use
 * the mutex + condition variable of the job's stripe (the client has 64).
 * Whoever sets GONE first (result, clear, detached completion, clear-all) is
 * the only one to touch the registry entry and the job's result.
 */
#include "core/job_internal.h"

#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *gj_job_status_name(gj_job_status status)
{
    switch (status) {
    case GJ_JOB_PENDING: return "pending";
    case GJ_JOB_DONE: return "done";
    case GJ_JOB_CANCELLED: return "cancelled";
    }
    return "unknown";
}

void gj__job_init(gj_job *job, gj_target *target, gj_request *req,
                  const gj_submit_options *opts, unsigned refs)
{
    /* Queued from the moment it can be found by id: a cancel that finds it
     * before the push lands waits for the push (gj__queue_remove). */
    unsigned flags = GJ__ST_INQUEUE;
    if (opts && (opts->flags & GJ_SUBMIT_DETACHED))
        flags |= GJ__ST_DETACHED;
    atomic_init(&job->state, GJ__PH_QUEUED | flags);
    atomic_init(&job->refs, refs);
    job->id = 0;
    job->target = target;
    job->req = req;
    job->on_done = opts ? opts->on_done : NULL;
    job->payload = opts ? opts->payload : NULL;
    job->u.result = NULL;
    job->qnext = job->qprev = NULL;
    atomic_init(&job->runner_fd, -1);
    job->session = NULL;
    job->finished_at = 0;
}

static void job_free(gj_job *job)
{
    unsigned st = atomic_load_explicit(&job->state, memory_order_acquire);
    if (GJ__TERMINAL(st)) {
        if (st & GJ__ST_FAILED)
            gj_error_free(job->u.error);
        else if ((st & GJ__ST_PHASE) == GJ__PH_DONE)
            gj_result_free(job->u.result);
    }
    gj_request_unref(job->req);
    if (job->session)
        gj__session_unref(job->session);
    gj__job_slab_free(job);
}

gj_job *gj_job_ref(gj_job *job)
{
    if (job)
        atomic_fetch_add_explicit(&job->refs, 1, memory_order_relaxed);
    return job;
}

void gj_job_unref(gj_job *job)
{
    if (job && atomic_fetch_sub_explicit(&job->refs, 1, memory_order_acq_rel) == 1)
        job_free(job);
}

uint64_t gj_job_id(const gj_job *job)
{
    return job ? job->id : 0;
}

static int not_found(const gj_job *job, gj_error *err)
{
    return gj__error_set(err, GJ_ENOTFOUND, "job %llu not found",
                         (unsigned long long)(job ? job->id : 0));
}

/* Wake the threads waiting on a stripe after the state word changed.  The
 * lock/unlock pair orders us after any waiter that read the old state and
 * is on its way into pthread_cond_wait (it holds the lock until it waits);
 * broadcasting after the unlock spares a woken waiter from blocking again
 * on a mutex we still hold (two futex calls and a context switch each). */
static void wake_waiters(gj_stripe *s)
{
    pthread_mutex_lock(&s->mu);
    pthread_mutex_unlock(&s->mu);
    pthread_cond_broadcast(&s->cv);
}

bool gj__job_make_gone(gj_job *job)
{
    unsigned old = atomic_fetch_or_explicit(&job->state, GJ__ST_GONE, memory_order_acq_rel);
    if (old & GJ__ST_GONE)
        return false;
    /* Once the client is freed (target NULL) the registry and its
     * reference are gone already. */
    if (job->target) {
        gj_client *c = job->target->client;
        gj_registry *r = &c->registry;
        pthread_mutex_lock(&r->mu);
        gj__registry_remove_locked(r, job->id);
        pthread_mutex_unlock(&r->mu);
        if (old & GJ__ST_WAITERS) {
            /* Threads waiting on a job that is now gone hear "not found" now,
             * not when the job ends. */
            wake_waiters(gj__job_stripe(c, job));
        }
        gj_job_unref(job); /* the registry's reference; the caller still holds one */
    }
    return true;
}

void gj__job_finish(gj_job *job, gj_worker *w, unsigned phase, gj_result *result,
                    gj_error *error)
{
    gj_client *c = job->target ? job->target->client : NULL;

    if (error)
        job->u.error = error;
    else
        job->u.result = result;
    job->finished_at = gj__wall_ms_coarse();

    unsigned old = atomic_load_explicit(&job->state, memory_order_relaxed);
    unsigned next;
    do {
        next = (old & ~GJ__ST_PHASE) | phase | (error ? GJ__ST_FAILED : 0);
    } while (!atomic_compare_exchange_weak_explicit(&job->state, &old, next,
                                                    memory_order_acq_rel,
                                                    memory_order_relaxed));
    if (c) {
        if (old & GJ__ST_WAITERS)
            wake_waiters(gj__job_stripe(c, job));
        /* Count, then look at the event flag (both sequentially consistent,
         * mirrored in gj_client_ack_events): a finish either is counted by
         * an ack or finds the flag clear and writes the event fd. */
        if (w) {
            if (phase == GJ__PH_CANCELLED)
                atomic_fetch_add(&w->cancelled, 1);
            else {
                if (error && w->shared)
                    atomic_fetch_add(&w->failed, 1);
                else if (error)
                    atomic_store_explicit(&w->failed,
                                          atomic_load_explicit(&w->failed, memory_order_relaxed) + 1,
                                          memory_order_relaxed); /* single writer */
                atomic_fetch_add(&w->done, 1);
            }
        } else {
            atomic_fetch_add(&c->cancelled_queued, 1);
        }
        if (!atomic_load(&c->ev_signaled) && !atomic_exchange(&c->ev_signaled, true)) {
            uint64_t one = 1;
            ssize_t wr = write(c->event_fd, &one, sizeof one);
            (void)wr; /* EAGAIN only when the counter is saturated: still readable */
        }
    }
    if (job->on_done)
        job->on_done(job, job->payload);
    if (old & GJ__ST_DETACHED)
        gj__job_make_gone(job);
    gj_job_unref(job);
}

int gj_job_get_status(gj_job *job, gj_job_status *out, gj_error *err)
{
    gj_error_clear(err);
    if (!job || !out)
        return gj__error_set(err, GJ_EINVAL, "gj_job_get_status: job and out are required");
    unsigned st = atomic_load_explicit(&job->state, memory_order_acquire);
    if (st & GJ__ST_GONE)
        return not_found(job, err);
    switch (st & GJ__ST_PHASE) {
    case GJ__PH_DONE: *out = GJ_JOB_DONE; break;
    case GJ__PH_CANCELLED: *out = GJ_JOB_CANCELLED; break;
    default: *out = GJ_JOB_PENDING; break;
    }
    return 0;
}

bool gj_job_started(const gj_job *job)
{
    if (!job)
        return false;
    unsigned st = atomic_load_explicit(&job->state, memory_order_acquire);
    unsigned ph = st & GJ__ST_PHASE;
    return ph == GJ__PH_RUNNING || (ph == GJ__PH_DONE);
}

int64_t gj_job_finished_at(const gj_job *job)
{
    if (!job)
        return 0;
    unsigned st = atomic_load_explicit(&job->state, memory_order_acquire);
    return GJ__TERMINAL(st) ? job->finished_at : 0;
}

/* Keep a rough average of how long waits past the pause phase lasted
 * (racy updates by concurrent waiters are fine: it is a hint). */
static void note_wait(gj_client *c, int64_t ns)
{
    int64_t avg = atomic_load_explicit(&c->wait_ns_avg, memory_order_relaxed);
    avg = avg ? avg + (ns - avg) / 8 : ns;
    atomic_store_explicit(&c->wait_ns_avg, avg, memory_order_relaxed);
}

int gj_job_wait(gj_job *job, int64_t timeout_ms, gj_error *err)
{
    gj_error_clear(err);
    if (!job)
        return gj__error_set(err, GJ_EINVAL, "gj_job_wait: job is NULL");
    unsigned st = atomic_load_explicit(&job->state, memory_order_acquire);
    if (st & GJ__ST_GONE)
        return not_found(job, err);
    if (GJ__TERMINAL(st))
        return 0;
    if (timeout_ms == 0)
        return gj__error_set(err, GJ_ETIMEDOUT, "job %llu still pending",
                             (unsigned long long)job->id);
    gj_client *c = job->target->client; /* pending jobs always have their client */
    if (gj__client_on_worker(c))
        return gj__error_set(err, GJ_EDEADLK,
                             "job %llu: gj_job_wait called on a worker thread of the same "
                             "client (it could wait for itself); use the completion callback",
                             (unsigned long long)job->id);

    /* Caller-runs: waiting without a time limit for the job that is first
     * in line, this thread runs it itself rather than hand it to a worker
     * and sleep until it comes back. */
    if (timeout_ms < 0 && (st & GJ__ST_INQUEUE) && c->caller_runs &&
        gj__executor_take_first(c, job)) {
        gj_conn *conn = NULL;
        if (gj__pool_try_acquire(job->target->pool, &conn) != 0)
            conn = NULL;   /* acquired (blocking, cancellable) by run_here */
        gj__executor_run_here(c, job, conn, INT64_MAX, NULL);
        st = atomic_load_explicit(&job->state, memory_order_acquire);
        return (st & GJ__ST_GONE) ? not_found(job, err) : 0;
    }

    /* Most jobs the engine runs are short: look again for a few
     * microseconds before paying for a sleep and a wake-up. */
    for (int spin = 0; spin < GJ__WAIT_SPINS; spin++) {
        gj__cpu_relax();
        st = atomic_load_explicit(&job->state, memory_order_acquire);
        if (GJ__TERMINAL(st) || (st & GJ__ST_GONE))
            return (st & GJ__ST_GONE) ? not_found(job, err) : 0;
    }
    /* Then yield between looks (on an idle core a yield returns at once, on
     * a busy one the other thread runs, often the worker we wait for) for
     * twice as long as this client's recent waits lasted, when they were
     * short: a network round trip of tens of microseconds then ends
     * without a sleep and a wake-up, which cost 5 to 60 us on a VM.  Waits
     * for slow jobs yield only briefly. */
    int64_t t0 = gj__now_ns();
    int64_t avg = atomic_load_explicit(&c->wait_ns_avg, memory_order_relaxed);
    int64_t budget = avg > 0 && avg <= GJ__WAIT_ADAPT_MAX_NS / 2 ? 2 * avg : 0;
    if (budget < GJ__WAIT_YIELD_MIN_NS)
        budget = GJ__WAIT_YIELD_MIN_NS;
    if (timeout_ms > 0 && budget > timeout_ms * 1000000)
        budget = timeout_ms * 1000000;
    for (;;) {
        sched_yield();
        st = atomic_load_explicit(&job->state, memory_order_acquire);
        int64_t waited = gj__now_ns() - t0;
        if (GJ__TERMINAL(st) || (st & GJ__ST_GONE)) {
            note_wait(c, waited);
            return (st & GJ__ST_GONE) ? not_found(job, err) : 0;
        }
        if (waited >= budget)
            break;
    }

    int64_t deadline = gj__deadline_ms(timeout_ms);
    struct timespec ts;
    gj__deadline_to_timespec(deadline, &ts);
    gj_stripe *s = gj__job_stripe(c, job);
    int rc = 0;

    atomic_fetch_add_explicit(&job->state, GJ__ST_WAITER, memory_order_acq_rel);
    pthread_mutex_lock(&s->mu);
    for (;;) {
        st = atomic_load_explicit(&job->state, memory_order_acquire);
        if (GJ__TERMINAL(st) || (st & GJ__ST_GONE))
            break;
        if (deadline == INT64_MAX) {
            pthread_cond_wait(&s->cv, &s->mu);
        } else if (pthread_cond_timedwait(&s->cv, &s->mu, &ts) == ETIMEDOUT) {
            st = atomic_load_explicit(&job->state, memory_order_acquire);
            if (!GJ__TERMINAL(st) && !(st & GJ__ST_GONE))
                rc = GJ_ETIMEDOUT;
            break;
        }
    }
    pthread_mutex_unlock(&s->mu);
    atomic_fetch_sub_explicit(&job->state, GJ__ST_WAITER, memory_order_acq_rel);
    if (rc == 0)
        note_wait(c, gj__now_ns() - t0);

    if (rc == GJ_ETIMEDOUT)
        return gj__error_set(err, GJ_ETIMEDOUT, "job %llu still pending after %lld ms",
                             (unsigned long long)job->id, (long long)timeout_ms);
    if (st & GJ__ST_GONE)
        return not_found(job, err);
    return 0;
}

int gj_job_result(gj_job *job, gj_result **out, gj_error *err)
{
    gj_error_clear(err);
    if (out)
        *out = NULL;
    if (!job)
        return gj__error_set(err, GJ_EINVAL, "gj_job_result: job is NULL");
    unsigned st = atomic_load_explicit(&job->state, memory_order_acquire);
    if (st & GJ__ST_GONE)
        return not_found(job, err);
    unsigned ph = st & GJ__ST_PHASE;
    if (ph == GJ__PH_CANCELLED)
        return gj__error_set(err, GJ_ECANCELLED, "job %llu cancelled",
                             (unsigned long long)job->id);
    if (ph != GJ__PH_DONE)
        return gj__error_set(err, GJ_ENOTDONE, "job %llu not done",
                             (unsigned long long)job->id);

    /* make_gone drops the registry's reference; the caller's handle keeps
     * the job alive. */
    if (!gj__job_make_gone(job))
        return not_found(job, err);
    int rc = 0;
    if (st & GJ__ST_FAILED) {
        gj_error *e = job->u.error;
        rc = gj_error_code(e);
        if (err)
            gj__error_move(err, e);
    } else {
        gj_result *res = job->u.result;
        job->u.result = NULL;
        if (!res)
            rc = gj__result_new_empty(&res);
        if (rc == 0 && out)
            *out = res;
        else
            gj_result_free(res);
        if (rc)
            gj__error_set(err, rc, "job %llu: out of memory for its result",
                          (unsigned long long)job->id);
    }
    return rc;
}

int gj__job_cancel(gj_job *job, bool and_clear, gj_error *err)
{
    unsigned st = atomic_load_explicit(&job->state, memory_order_acquire);
    if (st & GJ__ST_GONE)
        return not_found(job, err);
    if (GJ__TERMINAL(st)) {
        if (!and_clear)
            return not_found(job, err);
        gj_job_ref(job);
        if (gj__job_make_gone(job)) {
            /* Terminal and gone: nobody else touches the result any more. */
            if (st & GJ__ST_FAILED)
                gj_error_free(job->u.error);
            else if ((st & GJ__ST_PHASE) == GJ__PH_DONE)
                gj_result_free(job->u.result);
            job->u.result = NULL;
            atomic_fetch_and_explicit(&job->state, ~GJ__ST_FAILED, memory_order_acq_rel);
        }
        gj_job_unref(job);
        return 0;
    }

    gj_client *c = job->target->client;
    gj_job_ref(job);
    /* Sequentially consistent, mirrored in gj__executor_run_here (runner_fd
     * published, then the state read): either the runner sees CANCEL_REQ
     * or this cancel sees its fd. */
    atomic_fetch_or(&job->state, GJ__ST_CANCEL_REQ);
    if (gj__queue_remove(c, job)) {
        /* It was queued: it never reaches a worker; finish it here.  The
         * queue's reference becomes the finishing reference.  A session's
         * queued job was its running one: the next may go. */
        gj__job_finish(job, NULL, GJ__PH_CANCELLED, NULL, NULL);
        if (job->session)
            gj__session_next(job->session);
    } else if (job->session && gj__session_remove(job)) {
        /* It waited behind an earlier job of its session. */
        gj__job_finish(job, NULL, GJ__PH_CANCELLED, NULL, NULL);
    } else {
        /* A worker has it: it will see CANCEL_REQ before starting, or we
         * interrupt the running request; while it has no connection yet
         * (waiting in the pool, connecting) its wake fd and the pool's
         * waiters are woken to look at CANCEL_REQ. */
        gj_stripe *s = gj__job_stripe(c, job);
        bool interrupted = false;
        pthread_mutex_lock(&s->mu);
        st = atomic_load_explicit(&job->state, memory_order_acquire);
        if ((st & GJ__ST_HASCONN) && job->target->backend->interrupt) {
            atomic_fetch_or_explicit(&job->state, GJ__ST_INTERRUPTED, memory_order_acq_rel);
            job->target->backend->interrupt(job->u.conn);
            interrupted = true;
        }
        if (!interrupted && !(st & GJ__ST_HASCONN) && !GJ__TERMINAL(st)) {
            /* Under the stripe lock: a caller-runs thread closes its fd
             * only after taking the lock (gj__executor_run_here). */
            uint64_t one = 1;
            int fd = atomic_load(&job->runner_fd);
            if (fd >= 0 && write(fd, &one, sizeof one) < 0) {
                /* the counter is non-zero already: the wait wakes anyway */
            }
        }
        pthread_mutex_unlock(&s->mu);
        if (!interrupted && !(st & GJ__ST_HASCONN) && !GJ__TERMINAL(st))
            gj__pool_wake(job->target->pool);
    }
    if (and_clear)
        gj__job_make_gone(job);
    gj_job_unref(job);
    return 0;
}

int gj_job_cancel(gj_job *job, gj_error *err)
{
    gj_error_clear(err);
    if (!job)
        return gj__error_set(err, GJ_EINVAL, "gj_job_cancel: job is NULL");
    return gj__job_cancel(job, false, err);
}

int gj_job_clear(gj_job *job, gj_error *err)
{
    gj_error_clear(err);
    if (!job)
        return gj__error_set(err, GJ_EINVAL, "gj_job_clear: job is NULL");
    return gj__job_cancel(job, true, err);
}
