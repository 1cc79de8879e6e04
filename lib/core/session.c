/*
 * Sessions: ordered jobs on one pinned connection (include/graphjob/session.h).
 *
 * A session keeps at most one of its jobs in the client's queue or running
 * ("running"); the later ones wait in its own list (INSESSION), oldest
 * first.  When the running job has ended (finished, then settled), the
 * worker calls gj__session_next, which queues the next one.  The first job
 * pins a connection from the target's pool and the backend begins the
 * session on it (session_open); the connection stays leased to the session
 * until gj_session_close (or gj_client_free) ends it with session_close.
 * When the connection is no longer usable after a job, the session is lost:
 * the connection goes back to the pool (which closes it) and every later
 * job fails with GJ_EIO saying why.
 *
 * Locking: s->mu guards everything below it in struct gj_session; it is
 * never held across a backend call, a pool call or a callback.  Lock order:
 * s->mu, then the registry's lock (a job is registered under s->mu so that
 * its place, queued or waiting, is decided with its registration).
 * References: the handle holds one, every job of the session one.
 */
#include "core/job_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct gj_session {
    atomic_uint refs;
    gj_client *client;
    gj_target *target;
    gj_value *options;          /* map (a copy), or NULL */

    pthread_mutex_t mu;
    pthread_cond_t idle;        /* running became false (a closer waits) */
    gj_job *head, *tail;        /* waiting jobs, linked through qnext (not in the client's queue meanwhile) */
    gj_job *current;            /* the job queued or running, or NULL */
    bool running;
    bool closing;
    gj_conn *conn;              /* pinned (leased from the pool), or NULL */
    void *state;                /* the backend's, while begun */
    bool begun;
    int lost_code;              /* 0, or why every later job fails */
    char lost_msg[512];
    uint64_t jobs;
    gj_session *prev, *next;    /* the client's list (c->smu) */
};

static void session_free(gj_session *s)
{
    gj_value_unref(s->options);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->idle);
    free(s);
}

void gj__session_unref(gj_session *s)
{
    if (s && atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) == 1)
        session_free(s);
}

int gj_client_open_session(gj_client *c, const char *target, const gj_value *options,
                           gj_session **out, gj_error *err)
{
    gj_error_clear(err);
    if (out)
        *out = NULL;
    if (!c || !out)
        return gj__error_set(err, GJ_EINVAL, "gj_client_open_session: client and out are required");
    if (atomic_load(&c->shutting_down))
        return gj__error_set(err, GJ_ESHUTDOWN, "the client is shutting down");
    gj_target *t = gj__client_target(c, target);
    if (!t)
        return gj__error_set(err, GJ_EINVAL, target ? "no target named '%s' is configured"
                                                    : "no default target%s", target ? target : "");
    const gj_backend *b = t->backend;
    if (!b->session_open || !b->session_close)
        return gj__error_set(err, GJ_EUNSUPPORTED, "the %s backend (target '%s') has no sessions",
                             b->name, t->settings.name);
    if (options && gj_value_type(options) != GJ_TMAP)
        return gj__error_set(err, GJ_EINVAL, "session options must be a map, not %s",
                             gj_type_name(gj_value_type(options)));
    if (b->session_check) {
        int rc = b->session_check(options, err);
        if (rc)
            return rc;
    }
    gj_session *s = calloc(1, sizeof *s);
    if (!s)
        return gj__error_set(err, GJ_ENOMEM, "out of memory opening a session");
    if (pthread_mutex_init(&s->mu, NULL) != 0) {
        free(s);
        return gj__error_set(err, GJ_ENOMEM, "out of memory opening a session");
    }
    if (pthread_cond_init(&s->idle, NULL) != 0) {
        pthread_mutex_destroy(&s->mu);
        free(s);
        return gj__error_set(err, GJ_ENOMEM, "out of memory opening a session");
    }
    atomic_init(&s->refs, 1);
    s->client = c;
    s->target = t;
    s->options = options ? gj_value_ref(options) : NULL;
    pthread_mutex_lock(&c->smu);
    s->next = c->sessions;
    if (c->sessions)
        c->sessions->prev = s;
    c->sessions = s;
    pthread_mutex_unlock(&c->smu);
    *out = s;
    return 0;
}

uint64_t gj_session_job_count(const gj_session *s)
{
    if (!s)
        return 0;
    pthread_mutex_lock((pthread_mutex_t *)&s->mu);
    uint64_t n = s->jobs;
    pthread_mutex_unlock((pthread_mutex_t *)&s->mu);
    return n;
}

int gj_session_submit(gj_session *s, gj_request *req, const gj_submit_options *opts, gj_job **out,
                      gj_error *err)
{
    gj_error_clear(err);
    if (out)
        *out = NULL;
    if (!s || !req)
        return gj__error_set(err, GJ_EINVAL, "gj_session_submit: session and request are required");
    gj_client *c = s->client;
    if (opts && opts->size < sizeof(gj_submit_options))
        return gj__error_set(err, GJ_EINVAL, "gj_session_submit: opts->size is %zu, expected at "
                             "least %zu (initialise with GJ_SUBMIT_OPTIONS_INIT)", opts->size,
                             sizeof(gj_submit_options));
    if (atomic_load(&c->shutting_down))
        return gj__error_set(err, GJ_ESHUTDOWN, "the client is shutting down");
    const char *rt = gj_request_target(req);
    if (rt && strcmp(rt, s->target->settings.name) != 0)
        return gj__error_set(err, GJ_EINVAL, "the request names target '%s', the session's is '%s'",
                             rt, s->target->settings.name);
    if (!gj__executor_reserve(c)) {
        atomic_fetch_add_explicit(&c->rejected, 1, memory_order_relaxed);
        return gj__error_set(err, GJ_EBUSY, "the submit queue is full (%zu jobs queued); "
                             "retry later or raise queue_size", c->qcap);
    }
    pthread_mutex_lock(&s->mu);
    if (s->closing) {
        pthread_mutex_unlock(&s->mu);
        gj__executor_unreserve(c);
        return gj__error_set(err, GJ_ESTATE, "the session is being closed");
    }
    bool waiting = s->running;
    atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);   /* the job's */
    gj_job *job;
    int rc = gj__client_register_session_job(c, s->target, s, req, opts, out ? 3 : 2, waiting,
                                             &job, err);
    if (rc) {
        pthread_mutex_unlock(&s->mu);
        atomic_fetch_sub_explicit(&s->refs, 1, memory_order_relaxed);
        gj__executor_unreserve(c);
        return rc;
    }
    s->jobs++;
    if (waiting) {
        job->qnext = NULL;
        if (s->tail)
            s->tail->qnext = job;
        else
            s->head = job;
        s->tail = job;
    } else {
        s->running = true;
        s->current = job;
    }
    pthread_mutex_unlock(&s->mu);
    if (!waiting)
        gj__executor_push(c, job);
    if (out)
        *out = job;
    return 0;
}

bool gj__session_remove(gj_job *job)
{
    gj_session *s = job->session;
    bool removed = false;
    pthread_mutex_lock(&s->mu);
    if (atomic_load_explicit(&job->state, memory_order_acquire) & GJ__ST_INSESSION) {
        gj_job **pp = &s->head, *prev = NULL;
        while (*pp && *pp != job) {
            prev = *pp;
            pp = &(*pp)->qnext;
        }
        if (*pp) {
            *pp = job->qnext;
            if (s->tail == job)
                s->tail = prev;
            job->qnext = NULL;
            atomic_fetch_and_explicit(&job->state, ~GJ__ST_INSESSION, memory_order_acq_rel);
            /* It held a place in the queue's bound since it was submitted. */
            atomic_fetch_add_explicit(&s->client->deq, 1, memory_order_release);
            removed = true;
        }
    }
    pthread_mutex_unlock(&s->mu);
    return removed;
}

void gj__session_next(gj_session *s)
{
    gj_job *next = NULL;
    pthread_mutex_lock(&s->mu);
    if (s->head) {
        next = s->head;
        s->head = next->qnext;
        if (!s->head)
            s->tail = NULL;
        next->qnext = NULL;
        /* Waiting -> queued, both under this lock (cancel looks at
         * INSESSION under it, and at INQUEUE under the queue's). */
        atomic_fetch_or_explicit(&next->state, GJ__ST_INQUEUE, memory_order_acq_rel);
        atomic_fetch_and_explicit(&next->state, ~GJ__ST_INSESSION, memory_order_acq_rel);
        s->current = next;
    } else {
        s->running = false;
        s->current = NULL;
        pthread_cond_broadcast(&s->idle);
    }
    pthread_mutex_unlock(&s->mu);
    if (next)
        gj__executor_push(s->client, next);
}

int gj__session_pin(gj_session *s, const gj_abort *abort, int64_t deadline_ms, gj_conn **conn,
                    void **state, gj_error *err)
{
    gj_target *t = s->target;
    pthread_mutex_lock(&s->mu);
    if (s->lost_code) {
        int rc = gj__error_set(err, s->lost_code, "%s", s->lost_msg);
        pthread_mutex_unlock(&s->mu);
        return rc;
    }
    gj_conn *c = s->conn;
    bool begun = s->begun;
    pthread_mutex_unlock(&s->mu);
    /* Only the session's one running job is here: no other thread changes
     * conn or begun meanwhile (a closer waits for it). */
    if (!c) {
        int rc = gj__pool_acquire_for(t->pool, deadline_ms, abort, &c, err);
        if (rc)
            return rc;
    }
    void *st = NULL;
    if (!begun) {
        int64_t dl = t->settings.connect_timeout_ms > 0 ? gj__deadline_ms(t->settings.connect_timeout_ms)
                                                        : deadline_ms;
        int rc = t->backend->session_open(c, s->options, &st, dl, err);
        if (rc) {
            gj__error_prefix(err, "the session could not begin");
            gj__pool_release(t->pool, c);
            return rc;
        }
    }
    pthread_mutex_lock(&s->mu);
    s->conn = c;
    if (!begun) {
        s->state = st;
        s->begun = true;
    }
    *state = s->state;
    pthread_mutex_unlock(&s->mu);
    *conn = c;
    return 0;
}

void gj__session_after(gj_session *s, gj_conn *conn, uint64_t job_id, int job_rc,
                       const gj_error *job_err)
{
    gj_target *t = s->target;
    if (!t->backend->usable || t->backend->usable(conn))
        return;
    /* Lost: the backend frees its state (nothing is sent on a connection
     * in an unknown state), the connection goes back to be closed. */
    pthread_mutex_lock(&s->mu);
    void *st = s->begun ? s->state : NULL;
    bool begun = s->begun;
    s->state = NULL;
    s->begun = false;
    s->conn = NULL;
    s->lost_code = GJ_EIO;
    snprintf(s->lost_msg, sizeof s->lost_msg, "the session's connection was lost with job %llu "
             "(%s); the session has ended", (unsigned long long)job_id,
             job_rc == GJ_ECANCELLED ? "it was cancelled"
             : job_err && gj_error_message(job_err)[0] ? gj_error_message(job_err)
             : gj_strerror(job_rc));
    pthread_mutex_unlock(&s->mu);
    if (begun)
        t->backend->session_close(conn, st, gj__now_ms(), NULL);
    gj__pool_release(t->pool, conn);
}

/* End the session: waiting jobs cancelled, the running one interrupted and
 * waited for (unless the workers are gone: at client shutdown), the backend
 * ends it, the connection goes back.  Returns the session's error. */
static int end_session(gj_session *s, bool workers_gone, gj_error *err)
{
    gj_client *c = s->client;
    gj_target *t = s->target;
    pthread_mutex_lock(&s->mu);
    s->closing = true;
    gj_job *waiting = s->head;
    s->head = s->tail = NULL;
    gj_job *current = s->running ? s->current : NULL;
    if (current)
        gj_job_ref(current);
    pthread_mutex_unlock(&s->mu);

    for (gj_job *j = waiting; j;) {
        gj_job *next = j->qnext;
        j->qnext = NULL;
        atomic_fetch_or(&j->state, GJ__ST_CANCEL_REQ);
        atomic_fetch_and_explicit(&j->state, ~GJ__ST_INSESSION, memory_order_acq_rel);
        atomic_fetch_add_explicit(&c->deq, 1, memory_order_release);
        gj__job_finish(j, NULL, GJ__PH_CANCELLED, NULL, NULL);   /* the waiting list's reference */
        j = next;
    }
    if (current) {
        if (!workers_gone) {
            gj__job_cancel(current, false, NULL);
            pthread_mutex_lock(&s->mu);
            while (s->running)
                pthread_cond_wait(&s->idle, &s->mu);
            pthread_mutex_unlock(&s->mu);
        }
        gj_job_unref(current);
    }

    pthread_mutex_lock(&s->mu);
    gj_conn *conn = s->conn;
    void *st = s->state;
    bool begun = s->begun;
    s->conn = NULL;
    s->state = NULL;
    s->begun = false;
    int rc = s->lost_code;
    if (rc)
        gj__error_set(err, rc, "%s", s->lost_msg);
    pthread_mutex_unlock(&s->mu);
    if (conn) {
        int64_t timeout = t->settings.response_timeout_ms > 0 ? t->settings.response_timeout_ms : 10000;
        gj_error *e = gj_error_new();
        if (begun)
            t->backend->session_close(conn, st, workers_gone ? gj__now_ms() + 100
                                                             : gj__deadline_ms(timeout), e);
        if (!rc && e && gj_error_code(e)) {
            rc = gj_error_code(e);
            gj__error_move(err, e);
        }
        gj_error_free(e);
        gj__pool_release(t->pool, conn);
    }

    pthread_mutex_lock(&c->smu);
    if (s->prev)
        s->prev->next = s->next;
    else
        c->sessions = s->next;
    if (s->next)
        s->next->prev = s->prev;
    s->prev = s->next = NULL;
    pthread_mutex_unlock(&c->smu);
    return rc;
}

int gj_session_close(gj_session *s, gj_error *err)
{
    gj_error_clear(err);
    if (!s)
        return 0;
    if (gj__client_on_worker(s->client))
        return gj__error_set(err, GJ_EDEADLK, "gj_session_close called on a worker thread (it "
                             "would wait for its own session's job); close it from another thread");
    int rc = end_session(s, false, err);
    gj__session_unref(s);
    return rc;
}

void gj__client_close_sessions(gj_client *c)
{
    for (;;) {
        pthread_mutex_lock(&c->smu);
        gj_session *s = c->sessions;
        pthread_mutex_unlock(&c->smu);
        if (!s)
            break;
        end_session(s, true, NULL);
        gj__session_unref(s);   /* the handle's: the program forgot it */
    }
}
