/*
 * Asynchronous requests of multiplexing backends (async.h, backend.h's
 * start/abandon) and the client's completion thread.
 *
 * A worker hands a job's request to the backend (gj__async_run) and goes on
 * with the next job: one worker keeps many requests in flight on a shared
 * connection, and no thread sleeps per request.  Each request has a record
 * (gj_async) holding its sink, its error, its job and the connection lease.
 * Records in flight are on c->a_inflight; the backend's I/O thread ends one
 * with gj__async_done, which pushes it on c->a_done and wakes the
 * completion thread if it sleeps.  That thread finishes the ended records
 * as a batch, as a worker finishes a job after execute() (result or error,
 * waiters, event fd, callback; the connection back to the pool), and ends
 * the requests whose deadline passed through the backend's abandon().
 *
 * Locks: c->amu guards the lists and the thread's sleep; it is never held
 * while calling into a backend or finishing a job, and gj__async_done takes
 * nothing else, so a backend may call it holding its own locks.  Only the
 * completion thread frees records and unlinks them from a_inflight (a
 * worker does for a start that failed, before anyone else saw the record).
 * A request that ends while its start() still runs is finished only after
 * start() returned (a->starting, a->deferred): finishing gives the
 * connection lease back, and the pool may close the connection then.
 */
#include "core/job_internal.h"
#include "core/async.h"
#include "backend/backend.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct gj_async {
    gj_sink sink;
    gj_error *err;
    gj_job *job;
    gj_target *target;
    gj_conn *conn;               /* leased for the request */
    int64_t deadline;            /* the sink's (INT64_MAX = none) */
    int rc;                      /* gj__async_done's */
    bool abandoned;              /* abandon() was called (not again) */
    bool starting;               /* start() has not returned yet (amu) */
    bool deferred;               /* ended while starting: finished after (amu) */
    struct gj_async *prev, *next;   /* c->a_inflight */
    struct gj_async *done_next;     /* c->a_done */
};

/* At most this many abandon() calls per pass of the thread, so that it
 * gets back to finishing what ended in between. */
#define ABANDON_BATCH 64

gj_sink *gj__async_sink(gj_async *a)
{
    return &a->sink;
}

gj_error *gj__async_error(gj_async *a)
{
    return a->err;
}

void gj__async_done(gj_async *a, int rc)
{
    gj_client *c = a->target->client;
    a->rc = rc;
    pthread_mutex_lock(&c->amu);
    a->done_next = c->a_done;
    c->a_done = a;
    if (c->a_sleeping)
        pthread_cond_signal(&c->acv);
    pthread_mutex_unlock(&c->amu);
}

/* Under amu. */
static void unlink_inflight(gj_client *c, gj_async *a)
{
    if (a->prev)
        a->prev->next = a->next;
    else
        c->a_inflight = a->next;
    if (a->next)
        a->next->prev = a->prev;
    a->prev = a->next = NULL;
    c->a_count--;
}

static void record_free(gj_async *a)
{
    gj__sink_clear(&a->sink);
    gj_error_free(a->err);
    free(a);
}

bool gj__async_run(gj_worker *w, gj_job *job, gj_conn **connp, int64_t deadline_cap, gj_error *err)
{
    gj_target *t = job->target;
    gj_client *c = t->client;
    gj_request *req = job->req;
    if (!t->backend->start || !c->a_started || req->row_fn || job->session)
        return false;
    gj_async *a = calloc(1, sizeof *a);
    if (!a)
        return false;   /* execute() then runs it, in this thread */
    a->err = gj_error_new();
    if (!a->err) {
        free(a);
        return false;
    }
    int64_t timeout = req->timeout_ms >= 0 ? req->timeout_ms : t->settings.response_timeout_ms;
    gj__sink_init(&a->sink, NULL, NULL, &job->state, GJ__ST_CANCEL_REQ, timeout);
    gj__sink_set_limits(&a->sink, timeout, t->settings.max_result_size);
    gj__sink_cap_deadline(&a->sink, deadline_cap);
    a->deadline = gj__sink_deadline(&a->sink);
    a->job = job;
    a->target = t;
    a->conn = *connp;
    a->starting = true;

    pthread_mutex_lock(&c->amu);
    a->next = c->a_inflight;
    if (c->a_inflight)
        c->a_inflight->prev = a;
    c->a_inflight = a;
    c->a_count++;
    if (c->a_sleeping && a->deadline < c->a_wake_at)
        pthread_cond_signal(&c->acv);
    pthread_mutex_unlock(&c->amu);
    atomic_fetch_add_explicit(&c->a_worker.running, 1, memory_order_relaxed);

    *connp = NULL;   /* the request holds the lease now */
    gj_error_clear(err);
    int rc = t->backend->start(a->conn, req, a, err);
    if (rc == 0) {
        /* The request may have ended already (answered, cancelled, its
         * connection closed): the completion thread then left it for now,
         * since finishing it gives the connection lease back, and the
         * connection may go with it while start() still uses it. */
        pthread_mutex_lock(&c->amu);
        a->starting = false;
        if (a->deferred) {
            a->deferred = false;
            a->done_next = c->a_done;
            c->a_done = a;
            if (c->a_sleeping)
                pthread_cond_signal(&c->acv);
        }
        pthread_mutex_unlock(&c->amu);
        return true;   /* a may be finished and freed from here on */
    }

    /* Refused before it was in flight: nobody else has seen the record. */
    pthread_mutex_lock(&c->amu);
    unlink_inflight(c, a);
    if (c->a_stop && c->a_count == 0)
        pthread_cond_signal(&c->acv);
    pthread_mutex_unlock(&c->amu);
    atomic_fetch_sub_explicit(&c->a_worker.running, 1, memory_order_relaxed);
    gj__executor_unpublish_conn(c, job);
    gj__sink_clear(&a->sink);
    if (rc == GJ_ECANCELLED)
        gj__job_finish(job, w, GJ__PH_CANCELLED, NULL, NULL);
    else
        gj__executor_finish_failed(w, job, rc, err);
    gj__pool_release(t->pool, a->conn);
    record_free(a);
    return true;
}

/* Finish one ended request (the completion thread). */
static void finish(gj_client *c, gj_async *a)
{
    gj_job *job = a->job;
    gj_worker *w = &c->a_worker;
    atomic_fetch_sub_explicit(&w->running, 1, memory_order_relaxed);
    gj__executor_unpublish_conn(c, job);   /* no interrupt after this point */
    gj_result *res = NULL;
    int rc = a->rc;
    if (rc == 0 && !gj__sink_empty(&a->sink) && gj__sink_take_result(&a->sink, &res) != 0)
        rc = gj__error_set(a->err, GJ_ENOMEM, "job %llu: out of memory for its result",
                           (unsigned long long)job->id);
    gj__sink_clear(&a->sink);
    if (rc == GJ_ECANCELLED)
        gj__job_finish(job, w, GJ__PH_CANCELLED, NULL, NULL);
    else if (rc)
        gj__executor_finish_failed(w, job, rc, a->err);
    else
        gj__job_finish(job, w, GJ__PH_DONE, res, NULL);
    gj__pool_release(a->target->pool, a->conn);   /* closed there when not usable */
    pthread_mutex_lock(&c->amu);
    unlink_inflight(c, a);
    pthread_mutex_unlock(&c->amu);
    record_free(a);
}

static void *completion_main(void *arg)
{
    gj_client *c = arg;
    gj_async *batch[ABANDON_BATCH];
    int codes[ABANDON_BATCH];
    gj_error *err = gj_error_new();   /* NULL is fine: messages are then dropped */

    pthread_mutex_lock(&c->amu);
    for (;;) {
        if (c->a_done) {
            gj_async *done = c->a_done, *fifo = NULL;
            c->a_done = NULL;
            while (done) {   /* oldest first; those still starting wait */
                gj_async *next = done->done_next;
                if (done->starting) {
                    done->deferred = true;
                } else {
                    done->done_next = fifo;
                    fifo = done;
                }
                done = next;
            }
            pthread_mutex_unlock(&c->amu);
            if (!fifo) {
                pthread_mutex_lock(&c->amu);
                continue;
            }
            /* Jobs the completion callbacks submit are started here, on
             * the connections the finished requests gave back, without a
             * worker's wake-up: the spinning role tells submitters that
             * someone will look at the queue. */
            bool spin = gj__executor_claim_spin(c);
            while (fifo) {
                gj_async *next = fifo->done_next;
                finish(c, fifo);
                fifo = next;
            }
            gj__executor_start_async(c, &c->a_worker, err);
            if (spin)
                gj__executor_release_spin(c);
            pthread_mutex_lock(&c->amu);
            continue;
        }
        if (c->a_stop && c->a_count == 0)
            break;
        /* Requests past their deadline (all of them when stopping) end
         * through the backend; the next deadline decides the sleep. */
        int64_t now = gj__now_ms(), wake = INT64_MAX;
        size_t n = 0;
        for (gj_async *a = c->a_inflight; a; a = a->next) {
            if (a->abandoned)
                continue;
            if (c->a_stop || a->deadline <= now) {
                if (n < ABANDON_BATCH) {
                    a->abandoned = true;
                    codes[n] = c->a_stop ? GJ_ECANCELLED : GJ_ETIMEDOUT;
                    batch[n++] = a;
                } else {
                    wake = now;
                }
            } else if (a->deadline < wake) {
                wake = a->deadline;
            }
        }
        if (n) {
            pthread_mutex_unlock(&c->amu);
            /* The records stay alive: only this thread frees them. */
            for (size_t i = 0; i < n; i++)
                batch[i]->target->backend->abandon(batch[i]->conn, batch[i], codes[i]);
            pthread_mutex_lock(&c->amu);
            continue;
        }
        c->a_sleeping = true;
        c->a_wake_at = wake;
        if (wake == INT64_MAX) {
            pthread_cond_wait(&c->acv, &c->amu);
        } else {
            struct timespec ts;
            gj__deadline_to_timespec(wake, &ts);
            pthread_cond_timedwait(&c->acv, &c->amu, &ts);
        }
        c->a_sleeping = false;
    }
    pthread_mutex_unlock(&c->amu);
    gj_error_free(err);
    return NULL;
}

int gj__async_init(gj_client *c, bool start_thread)
{
    pthread_condattr_t attr;
    if (pthread_mutex_init(&c->amu, NULL) != 0)
        return GJ_ENOMEM;
    if (pthread_condattr_init(&attr) != 0) {
        pthread_mutex_destroy(&c->amu);
        return GJ_ENOMEM;
    }
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    int crc = pthread_cond_init(&c->acv, &attr);
    pthread_condattr_destroy(&attr);
    if (crc != 0) {
        pthread_mutex_destroy(&c->amu);
        return GJ_ENOMEM;
    }
    c->a_init = true;
    c->a_worker.client = c;
    c->a_worker.wake_fd = -1;
    c->a_worker.shared = true;   /* workers count running starts, the thread the ends */
    if (start_thread) {
        if (pthread_create(&c->a_thread, NULL, completion_main, c) != 0)
            return GJ_ENOMEM;
        c->a_started = true;
    }
    return 0;
}

void gj__async_shutdown(gj_client *c)
{
    if (!c->a_started)
        return;
    pthread_mutex_lock(&c->amu);
    c->a_stop = true;
    pthread_cond_signal(&c->acv);
    pthread_mutex_unlock(&c->amu);
    pthread_join(c->a_thread, NULL);
    c->a_started = false;
}

bool gj__async_on_thread(const gj_client *c)
{
    return c->a_started && pthread_equal(pthread_self(), c->a_thread) != 0;
}
