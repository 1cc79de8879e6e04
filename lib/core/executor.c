/*
 * The executor: the submit queue, the worker threads, and the caller-runs
 * path (gj__executor_run_here: a thread that would only wait for a job runs
 * it itself, with the same steps as a worker).
 *
 * Submitters push onto a lock-free inbox (a stack, one CAS per job) and
 * count against the queue bound with their own counter (see
 * gj__executor_push).  Workers, under the queue mutex, move the inbox in
 * FIFO order onto a doubly linked queue and take one job at a time from its
 * head, so no job waits behind another while a worker is idle.  Cancel
 * unlinks a queued job under the same mutex.  A worker keeps the connection
 * it acquired while more work for the same target follows, and gives it back
 * before it sleeps.
 */
#include "core/job_internal.h"

#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

/* ---- queue --------------------------------------------------------------- */

static void queue_link_tail(gj_client *c, gj_job *job)
{
    job->qnext = NULL;
    job->qprev = c->qtail;
    if (c->qtail) {
        c->qtail->qnext = job;
    } else {
        c->qhead = job;
        atomic_store_explicit(&c->qlisted, true, memory_order_relaxed);
    }
    c->qtail = job;
}

/* Under qmu: take a job out of the list (the caller updates its state
 * and the dequeued count). */
static void queue_unlink_only(gj_client *c, gj_job *job)
{
    if (job->qprev)
        job->qprev->qnext = job->qnext;
    else
        c->qhead = job->qnext;
    if (job->qnext)
        job->qnext->qprev = job->qprev;
    else
        c->qtail = job->qprev;
    job->qnext = job->qprev = NULL;
    if (!c->qhead)
        atomic_store_explicit(&c->qlisted, false, memory_order_relaxed);
}

/* Under qmu: a queued job is cancelled out of the queue. */
static void queue_unlink(gj_client *c, gj_job *job)
{
    queue_unlink_only(c, job);
    atomic_fetch_and_explicit(&job->state, ~GJ__ST_INQUEUE, memory_order_relaxed);
    atomic_fetch_add_explicit(&c->deq, 1, memory_order_release);
}

/* Under qmu: move whatever submitters pushed onto the queue, oldest first. */
static void drain_inbox(gj_client *c)
{
    if (!atomic_load_explicit(&c->inbox, memory_order_relaxed))
        return;
    gj_job *stack = atomic_exchange_explicit(&c->inbox, NULL, memory_order_acquire);
    gj_job *fifo = NULL;
    while (stack) { /* reverse: the stack holds the newest first */
        gj_job *next = stack->qnext;
        stack->qnext = fifo;
        fifo = stack;
        stack = next;
    }
    while (fifo) {
        gj_job *next = fifo->qnext;
        queue_link_tail(c, fifo);
        fifo = next;
    }
}

bool gj__queue_remove(gj_client *c, gj_job *job)
{
    pthread_mutex_lock(&c->qmu);
    for (;;) {
        if (!(atomic_load_explicit(&job->state, memory_order_acquire) & GJ__ST_INQUEUE)) {
            pthread_mutex_unlock(&c->qmu);
            return false;
        }
        drain_inbox(c);
        if (job->qprev || c->qhead == job)
            break;
        /* INQUEUE is set before the job is registered, the push comes
         * after: the submitting thread is between the two (a cancel found
         * the job by id meanwhile).  Let it finish; it waits for nothing. */
        pthread_mutex_unlock(&c->qmu);
        sched_yield();
        pthread_mutex_lock(&c->qmu);
    }
    queue_unlink(c, job);
    pthread_mutex_unlock(&c->qmu);
    return true;
}

/* Under qmu: wake one idle worker unless one is already on its way, or a
 * worker is spinning: it takes the work without a wake-up (see the idle
 * path of gj__worker_main for why it cannot miss it). */
static void wake_one(gj_client *c)
{
    if (atomic_load(&c->idle) > c->wakeups && !atomic_load(&c->spinning)) {
        c->wakeups++;
        pthread_cond_signal(&c->qcv);
    }
}

bool gj__client_on_worker(const gj_client *c)
{
    if (gj__async_on_thread(c))
        return true;
    pthread_t self = pthread_self();
    for (unsigned i = 0; i < c->n_workers; i++)
        if (pthread_equal(c->workers[i].thread, self))
            return true;
    return false;
}

/* ---- running a job -------------------------------------------------------- */

typedef struct worker_conn {
    gj_target *target;
    gj_conn *conn;
} worker_conn;

static void drop_conn(worker_conn *wc)
{
    if (wc->conn)
        gj__pool_release(wc->target->pool, wc->conn);
    wc->conn = NULL;
    wc->target = NULL;
}

/* Finish a job that failed with `code` (detail in err). */
void gj__executor_finish_failed(gj_worker *w, gj_job *job, int code, gj_error *err)
{
    gj_error *e = gj_error_new();
    if (!e) {
        /* No memory even for the error: the job cannot carry an outcome. */
        gj__job_finish(job, w, GJ__PH_CANCELLED, NULL, NULL);
        return;
    }
    if (gj_error_code(err) == 0)
        gj__error_set(err, code, "%s", gj_strerror(code));
    gj__error_move(e, err);
    gj__job_finish(job, w, GJ__PH_DONE, NULL, e);
}

/* The running connection is published to cancel through the HASCONN bit
 * with sequentially consistent read-modify-writes; cancel sets CANCEL_REQ
 * first and reads HASCONN under the job's stripe lock.  A worker that sees
 * CANCEL_REQ when it (un)publishes passes through that lock once, so it never
 * lets go of a connection while interrupt() runs on it. */
static bool publish_conn(gj_client *c, gj_job *job, gj_conn *conn)
{
    job->u.conn = conn;
    unsigned old = atomic_fetch_or(&job->state, GJ__ST_HASCONN);
    if (!(old & GJ__ST_CANCEL_REQ))
        return true;
    atomic_fetch_and(&job->state, ~GJ__ST_HASCONN);
    gj_stripe *s = gj__job_stripe(c, job);
    pthread_mutex_lock(&s->mu);
    pthread_mutex_unlock(&s->mu);
    job->u.conn = NULL;
    return false;
}

void gj__executor_unpublish_conn(gj_client *c, gj_job *job)
{
    unsigned old = atomic_fetch_and(&job->state, ~GJ__ST_HASCONN);
    if (old & GJ__ST_CANCEL_REQ) {
        gj_stripe *s = gj__job_stripe(c, job);
        pthread_mutex_lock(&s->mu);
        pthread_mutex_unlock(&s->mu);
    }
    job->u.conn = NULL;
}

static bool cancel_requested(const gj_job *job)
{
    return atomic_load_explicit(&job->state, memory_order_acquire) & GJ__ST_CANCEL_REQ;
}

/* Run one job on the calling thread: a worker w (its wake fd ends a
 * connect when the job is cancelled), or the callers' pseudo-worker
 * (wake_fd -1 unless the caller made one).  The request's deadline is at
 * most deadline_cap. */
static void run_session_job(gj_worker *w, int wake_fd, gj_job *job, int64_t deadline_cap,
                            gj_error *err);

static void run_job(gj_worker *w, int wake_fd, gj_job *job, worker_conn *wc, int64_t deadline_cap,
                    gj_error *err)
{
    gj_target *t = job->target;
    gj_client *c = t->client;
    int rc;

    if (job->session) {
        /* The session's job runs on the session's pinned connection: the
         * one this worker keeps between jobs goes back to the pool, where
         * other jobs (and callers running their own) can have it. */
        drop_conn(wc);
        run_session_job(w, wake_fd, job, deadline_cap, err);
        return;
    }

    if (cancel_requested(job)) {
        gj__job_finish(job, w, GJ__PH_CANCELLED, NULL, NULL);
        return;
    }
    if (wc->conn && wc->target != t)
        drop_conn(wc);
    if (!wc->conn) {
        gj_error_clear(err);
        /* A cancel of this job writes our wake fd: empty it of wake-ups
         * meant for earlier jobs first. */
        uint64_t stale;
        if (wake_fd >= 0 && read(wake_fd, &stale, sizeof stale) < 0) {
            /* EAGAIN: nothing to drain */
        }
        gj_abort abort = { (const unsigned *)&job->state, GJ__ST_CANCEL_REQ, wake_fd, NULL, -1 };
        rc = gj__pool_acquire_for(t->pool, gj__deadline_ms(t->settings.acquire_timeout_ms),
                                  &abort, &wc->conn, err);
        if (rc) {
            wc->conn = NULL;
            if (cancel_requested(job)) {
                gj__job_finish(job, w, GJ__PH_CANCELLED, NULL, NULL);
                return;
            }
            gj__error_prefix(err, "job %llu", (unsigned long long)job->id);
            gj__executor_finish_failed(w, job, rc, err);
            return;
        }
        wc->target = t;
    }

    if (!publish_conn(c, job, wc->conn)) {
        gj__job_finish(job, w, GJ__PH_CANCELLED, NULL, NULL);
        return;
    }
    /* A multiplexing backend takes the request and answers later: this
     * worker goes on meanwhile (the caller-runs path waits with execute). */
    if (t->backend->start && w != &c->caller && gj__async_run(w, job, &wc->conn, deadline_cap, err)) {
        if (!wc->conn)
            wc->target = NULL;
        return;
    }
    gj_request *req = job->req;
    int64_t timeout = req->timeout_ms >= 0 ? req->timeout_ms : t->settings.response_timeout_ms;
    gj_sink sink;
    gj__sink_init(&sink, req->row_fn, req->row_payload, &job->state, GJ__ST_CANCEL_REQ, timeout);
    gj__sink_set_limits(&sink, timeout, t->settings.max_result_size);
    gj__sink_cap_deadline(&sink, deadline_cap);
    gj_error_clear(err);
    /* Only this worker writes its counters: plain stores, no locked
     * instructions (readers only need a torn-free value). */
    if (w->shared)
        atomic_fetch_add_explicit(&w->running, 1, memory_order_relaxed);
    else
        atomic_store_explicit(&w->running, 1, memory_order_relaxed);
    rc = t->backend->execute(wc->conn, req, &sink, err);
    if (w->shared)
        atomic_fetch_sub_explicit(&w->running, 1, memory_order_relaxed);
    else
        atomic_store_explicit(&w->running, 0, memory_order_relaxed);
    gj__executor_unpublish_conn(c, job); /* no interrupt after this point */

    gj_result *res = NULL;
    if (rc == 0 && !gj__sink_empty(&sink) && gj__sink_take_result(&sink, &res) != 0)
        rc = gj__error_set(err, GJ_ENOMEM, "job %llu: out of memory for its result",
                           (unsigned long long)job->id);
    gj__sink_clear(&sink);
    /* The job ends as soon as its outcome is known ... */
    if (rc == GJ_ECANCELLED)
        gj__job_finish(job, w, GJ__PH_CANCELLED, NULL, NULL);
    else if (rc)
        gj__executor_finish_failed(w, job, rc, err);
    else
        gj__job_finish(job, w, GJ__PH_DONE, res, NULL);
    /* ... and what the server still owes (a RESET's answer, a cursor to
     * delete) is collected afterwards, within GJ__SETTLE_MS; not when the
     * client is being freed (the connection is closed instead). */
    if (t->backend->settle && !atomic_load_explicit(&c->shutting_down, memory_order_acquire))
        t->backend->settle(wc->conn, gj__now_ms() + GJ__SETTLE_MS);
    if (t->backend->usable && !t->backend->usable(wc->conn))
        drop_conn(wc);
}

/* A session's job: on the session's pinned connection (gj__session_pin),
 * which stays with the session afterwards; then the session's next job
 * is queued. */
static void run_session_job(gj_worker *w, int wake_fd, gj_job *job, int64_t deadline_cap,
                            gj_error *err)
{
    gj_target *t = job->target;
    gj_client *c = t->client;
    gj_session *s = job->session;
    uint64_t id = job->id;
    gj_conn *conn = NULL;
    void *state = NULL;
    int rc;

    if (cancel_requested(job)) {
        gj__job_finish(job, w, GJ__PH_CANCELLED, NULL, NULL);
        gj__session_next(s);
        return;
    }
    gj_error_clear(err);
    uint64_t stale;
    if (wake_fd >= 0 && read(wake_fd, &stale, sizeof stale) < 0) {
        /* EAGAIN: nothing to drain */
    }
    gj_abort abort = { (const unsigned *)&job->state, GJ__ST_CANCEL_REQ, wake_fd, NULL, -1 };
    rc = gj__session_pin(s, &abort, gj__deadline_ms(t->settings.acquire_timeout_ms), &conn, &state,
                         err);
    if (rc) {
        if (cancel_requested(job))
            gj__job_finish(job, w, GJ__PH_CANCELLED, NULL, NULL);
        else {
            gj__error_prefix(err, "job %llu", (unsigned long long)id);
            gj__executor_finish_failed(w, job, rc, err);
        }
        gj__session_next(s);
        return;
    }
    if (!publish_conn(c, job, conn)) {
        gj__job_finish(job, w, GJ__PH_CANCELLED, NULL, NULL);
        gj__session_next(s);
        return;
    }
    gj_request *req = job->req;
    int64_t timeout = req->timeout_ms >= 0 ? req->timeout_ms : t->settings.response_timeout_ms;
    gj_sink sink;
    gj__sink_init(&sink, req->row_fn, req->row_payload, &job->state, GJ__ST_CANCEL_REQ, timeout);
    gj__sink_set_limits(&sink, timeout, t->settings.max_result_size);
    gj__sink_cap_deadline(&sink, deadline_cap);
    sink.session = state;
    gj_error_clear(err);
    rc = t->backend->execute(conn, req, &sink, err);
    gj__executor_unpublish_conn(c, job);
    gj_result *res = NULL;
    if (rc == 0 && !gj__sink_empty(&sink) && gj__sink_take_result(&sink, &res) != 0)
        rc = gj__error_set(err, GJ_ENOMEM, "job %llu: out of memory for its result",
                           (unsigned long long)id);
    gj__sink_clear(&sink);
    /* Kept for the session's record of why it was lost (finish moves err). */
    gj_error *why = rc ? gj_error_new() : NULL;
    if (why)
        gj_error_copy(why, err);
    if (rc == GJ_ECANCELLED)
        gj__job_finish(job, w, GJ__PH_CANCELLED, NULL, NULL);
    else if (rc)
        gj__executor_finish_failed(w, job, rc, err);
    else
        gj__job_finish(job, w, GJ__PH_DONE, res, NULL);
    if (t->backend->settle && !atomic_load_explicit(&c->shutting_down, memory_order_acquire))
        t->backend->settle(conn, gj__now_ms() + GJ__SETTLE_MS);
    gj__session_after(s, conn, id, rc, why);
    gj_error_free(why);
    gj__session_next(s);
}

/* How many times an idle worker looks at the inbox before sleeping: the
 * first GJ__IDLE_PAUSE_ROUNDS looks 16 pauses apart (about 4 us with a
 * ~25 ns pause, see GJ__WAIT_SPINS), the rest a sched_yield() apart (a
 * fraction of a microsecond each on an idle core; on a busy one the other
 * thread runs meanwhile). */
#ifndef GJ__IDLE_SPINS
#define GJ__IDLE_SPINS 50
#endif
#ifndef GJ__IDLE_PAUSE_ROUNDS
#define GJ__IDLE_PAUSE_ROUNDS 10
#endif

void *gj__worker_main(void *arg)
{
    gj_worker *w = arg;
    gj_client *c = w->client;
    worker_conn wc = { NULL, NULL };
    gj_error *err = gj_error_new();

    pthread_mutex_lock(&c->qmu);
    for (;;) {
        if (!c->qhead)
            drain_inbox(c);
        if (!c->qhead) {
            /* Going idle: give the connection back so others can use it. */
            if (wc.conn) {
                pthread_mutex_unlock(&c->qmu);
                drop_conn(&wc);
                pthread_mutex_lock(&c->qmu);
                continue;
            }
            if (c->stopping)
                break;
            /* A short look for new work before a sleep and a wake-up, by
             * one idle worker at a time: several spinning workers would take
             * the cores the submitting threads need. */
            pthread_mutex_unlock(&c->qmu);
            if (!atomic_load_explicit(&c->spinning, memory_order_relaxed) &&
                !atomic_exchange_explicit(&c->spinning, true, memory_order_acquire)) {
                for (int i = 0; i < GJ__IDLE_SPINS &&
                     !atomic_load_explicit(&c->inbox, memory_order_relaxed) &&
                     !atomic_load_explicit(&c->qlisted, memory_order_relaxed); i++) {
                    /* First a few microseconds of pauses; then yield between
                     * looks, so a core shared with a submitting thread goes
                     * to it rather than to our spinning. */
                    if (i >= GJ__IDLE_PAUSE_ROUNDS) {
                        sched_yield();
                        continue;
                    }
                    for (int k = 0; k < 16; k++) /* spaced reads: less traffic on the inbox line */
                        gj__cpu_relax();
                }
                /* Sequentially consistent, mirrored in gj__executor_push
                 * (push, then read spinning): a submitter that saw us
                 * spinning and woke nobody has pushed before this store,
                 * so the inbox read below sees its job. */
                atomic_store(&c->spinning, false);
            }
            pthread_mutex_lock(&c->qmu);
            if (c->qhead || atomic_load(&c->inbox) || c->stopping)
                continue;
            /* Announce idleness, then look again (sequentially consistent,
             * mirrored in submit: push, then read idle), so a job pushed
             * meanwhile either is seen here or wakes us. */
            atomic_fetch_add(&c->idle, 1);
            if (!atomic_load(&c->inbox))
                pthread_cond_wait(&c->qcv, &c->qmu);
            atomic_fetch_sub(&c->idle, 1);
            if (c->wakeups)
                c->wakeups--;
            continue;
        }
        /* One job at a time: a job never waits behind another one that a
         * busy worker holds while an idle worker could run it. */
        gj_job *job = c->qhead;
        queue_unlink_only(c, job);
        /* QUEUED+INQUEUE -> RUNNING in one step (one locked instruction
         * fewer than through TAKEN): the worker runs it right after the
         * unlock, and a cancel arriving meanwhile is seen by run_job. */
        atomic_store_explicit(&job->runner_fd, w->wake_fd, memory_order_relaxed); /* published by the state change */
        atomic_fetch_add_explicit(&job->state, GJ__PH_RUNNING - GJ__ST_INQUEUE,
                                  memory_order_acq_rel);
        atomic_store_explicit(&w->taken,
                              atomic_load_explicit(&w->taken, memory_order_relaxed) + 1,
                              memory_order_release); /* single writer */
        if (c->qhead)
            wake_one(c);
        pthread_mutex_unlock(&c->qmu);
        run_job(w, w->wake_fd, job, &wc, INT64_MAX, err);
        pthread_mutex_lock(&c->qmu);
    }
    pthread_mutex_unlock(&c->qmu);
    gj_error_free(err);
    return NULL;
}

/* ---- submit side ------------------------------------------------------------ */

size_t gj__executor_dequeued(gj_client *c)
{
    size_t n = atomic_load_explicit(&c->deq, memory_order_acquire) +
               atomic_load_explicit(&c->caller.taken, memory_order_acquire) +
               atomic_load_explicit(&c->a_worker.taken, memory_order_acquire);
    for (unsigned i = 0; i < c->n_workers; i++)
        n += atomic_load_explicit(&c->workers[i].taken, memory_order_acquire);
    return n;
}

bool gj__executor_reserve(gj_client *c)
{
    size_t enq = atomic_fetch_add_explicit(&c->enq, 1, memory_order_relaxed);
    size_t seen = atomic_load_explicit(&c->deq_seen, memory_order_relaxed);
    if (enq - seen < c->qcap)
        return true;
    size_t deq = gj__executor_dequeued(c);
    size_t cur = seen;
    while (cur < deq && !atomic_compare_exchange_weak_explicit(&c->deq_seen, &cur, deq,
                                                               memory_order_relaxed,
                                                               memory_order_relaxed))
        ;
    if (enq - deq < c->qcap)
        return true;
    atomic_fetch_sub_explicit(&c->enq, 1, memory_order_relaxed);
    return false;
}

void gj__executor_unreserve(gj_client *c)
{
    atomic_fetch_sub_explicit(&c->enq, 1, memory_order_relaxed);
}

void gj__executor_push(gj_client *c, gj_job *job)
{
    /* The job is INQUEUE already (set before it was registered). */
    gj_job *top = atomic_load_explicit(&c->inbox, memory_order_relaxed);
    do {
        job->qnext = top;
    } while (!atomic_compare_exchange_weak_explicit(&c->inbox, &top, job,
                                                    memory_order_seq_cst,
                                                    memory_order_relaxed));
    /* Sequentially consistent, mirrored in gj__worker_main: a worker that
     * is about to sleep either sees this job or is counted in idle here. */
    if (atomic_load(&c->idle) && !atomic_load(&c->spinning)) {
        pthread_mutex_lock(&c->qmu);
        wake_one(c);
        pthread_mutex_unlock(&c->qmu);
    }
}

gj_job *gj__executor_stop(gj_client *c)
{
    pthread_mutex_lock(&c->qmu);
    c->stopping = true;
    drain_inbox(c);
    gj_job *queued = c->qhead;
    c->qhead = c->qtail = NULL;
    atomic_store_explicit(&c->qlisted, false, memory_order_relaxed);
    for (gj_job *j = queued; j; j = j->qnext) {
        atomic_fetch_and_explicit(&j->state, ~GJ__ST_INQUEUE, memory_order_relaxed);
        atomic_fetch_add(&c->deq, 1);
    }
    pthread_cond_broadcast(&c->qcv);
    pthread_mutex_unlock(&c->qmu);
    return queued;
}

/* ---- the completion thread: starting asynchronous requests ------------------- */

/* Can the completion thread start this queued job (never blocking)? */
static bool startable(const gj_client *c, const gj_job *job)
{
    return c->a_started && job->target && job->target->backend->start && !job->req->row_fn &&
           !job->session;
}

size_t gj__executor_start_async(gj_client *c, gj_worker *w, gj_error *err)
{
    size_t started = 0;
    for (;;) {
        pthread_mutex_lock(&c->qmu);
        if (!c->qhead)
            drain_inbox(c);
        gj_job *job = c->qhead;
        if (!job || c->stopping || !startable(c, job)) {
            pthread_mutex_unlock(&c->qmu);
            break;
        }
        gj_target *t = job->target;
        pthread_mutex_unlock(&c->qmu);
        /* A connection that takes it at once, or leave it to a worker. */
        gj_conn *conn = NULL;
        if (gj__pool_try_acquire(t->pool, &conn) != 0)
            break;
        pthread_mutex_lock(&c->qmu);
        job = c->qhead;   /* (the head may have changed meanwhile) */
        if (!job || c->stopping || job->target != t || !startable(c, job)) {
            pthread_mutex_unlock(&c->qmu);
            gj__pool_release(t->pool, conn);
            continue;
        }
        queue_unlink_only(c, job);
        atomic_store_explicit(&job->runner_fd, -1, memory_order_relaxed);
        atomic_fetch_add_explicit(&job->state, GJ__PH_RUNNING - GJ__ST_INQUEUE, memory_order_acq_rel);
        atomic_fetch_add_explicit(&w->taken, 1, memory_order_release);
        pthread_mutex_unlock(&c->qmu);
        if (!publish_conn(c, job, conn)) {
            gj__job_finish(job, w, GJ__PH_CANCELLED, NULL, NULL);
            gj__pool_release(t->pool, conn);
            continue;
        }
        if (!gj__async_run(w, job, &conn, INT64_MAX, err)) {
            /* No memory for the request's record: it fails here rather
             * than block this thread. */
            gj__executor_unpublish_conn(c, job);
            gj__error_set(err, GJ_ENOMEM, "job %llu: out of memory", (unsigned long long)job->id);
            gj__executor_finish_failed(w, job, GJ_ENOMEM, err);
            gj__pool_release(t->pool, conn);
            continue;
        }
        started++;
    }
    return started;
}

bool gj__executor_claim_spin(gj_client *c)
{
    return !atomic_load_explicit(&c->spinning, memory_order_relaxed) &&
           !atomic_exchange_explicit(&c->spinning, true, memory_order_acquire);
}

void gj__executor_release_spin(gj_client *c)
{
    /* Sequentially consistent, as a spinning worker's: a submitter that saw
     * the flag and woke nobody pushed before this store, so the look below
     * sees its job. */
    atomic_store(&c->spinning, false);
    if (atomic_load(&c->inbox) || atomic_load(&c->qlisted)) {
        pthread_mutex_lock(&c->qmu);
        wake_one(c);
        pthread_mutex_unlock(&c->qmu);
    }
}

/* ---- caller-runs ------------------------------------------------------------ */

bool gj__executor_idle(const gj_client *c)
{
    return !atomic_load_explicit(&c->inbox, memory_order_acquire) &&
           !atomic_load_explicit(&c->qlisted, memory_order_acquire);
}

bool gj__executor_take_first(gj_client *c, gj_job *job)
{
    bool taken = false;
    pthread_mutex_lock(&c->qmu);
    drain_inbox(c);
    if (!c->stopping && c->qhead == job &&
        (atomic_load_explicit(&job->state, memory_order_acquire) & GJ__ST_INQUEUE)) {
        queue_unlink_only(c, job);
        atomic_store_explicit(&job->runner_fd, -1, memory_order_relaxed);
        atomic_fetch_add_explicit(&job->state, GJ__PH_RUNNING - GJ__ST_INQUEUE,
                                  memory_order_acq_rel);
        atomic_fetch_add_explicit(&c->caller.taken, 1, memory_order_release);
        if (c->qhead)
            wake_one(c);
        taken = true;
    }
    pthread_mutex_unlock(&c->qmu);
    return taken;
}

void gj__executor_run_here(gj_client *c, gj_job *job, gj_conn *conn, int64_t deadline_cap,
                           gj_error *err)
{
    worker_conn wc = { conn ? job->target : NULL, conn };
    gj_error *own = NULL;
    if (!err)
        err = own = gj_error_new();   /* the detail goes with the job */
    /* Without a connection this thread may wait in the pool or connect: a
     * cancel ends that through an eventfd of its own (seq_cst, see
     * gj__job_cancel; run_job looks at the state after this). */
    int fd = conn ? -1 : eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (fd >= 0)
        atomic_store(&job->runner_fd, fd);
    run_job(&c->caller, fd, job, &wc, deadline_cap, err);
    drop_conn(&wc);
    if (fd >= 0) {
        /* A cancel writes the fd under the job's stripe lock. */
        gj_stripe *s = gj__job_stripe(c, job);
        pthread_mutex_lock(&s->mu);
        atomic_store(&job->runner_fd, -1);
        pthread_mutex_unlock(&s->mu);
        close(fd);
    }
    gj_error_free(own);
}
