/*
 * The client: targets and their pools, the bounded submit queue, the worker
 * threads, the event fd and the housekeeping thread.
 *
 * The queue is a doubly linked list under one mutex.  Workers take one job
 * at a time (so no job waits behind another while a worker is idle), and
 * submit signals the condition variable only when a worker is idle and not
 * already being woken, so a burst of submits costs one wake-up, not one per
 * job.  A worker keeps the connection it acquired while the queue has more
 * work for the same target, and gives it back before going idle.
 */
#include "core/job_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define GJ__KEEPER_PERIOD_MS 1000

/* ---- queue --------------------------------------------------------------- */

static void queue_link_tail(gj_client *c, gj_job *job)
{
    job->qnext = NULL;
    job->qprev = c->qtail;
    if (c->qtail)
        c->qtail->qnext = job;
    else
        c->qhead = job;
    c->qtail = job;
}

/* Under qmu: a queued job leaves the queue (to a worker, or cancelled). */
static void queue_unlink(gj_client *c, gj_job *job)
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
    bool removed = false;
    pthread_mutex_lock(&c->qmu);
    if (atomic_load_explicit(&job->state, memory_order_relaxed) & GJ__ST_INQUEUE) {
        drain_inbox(c);
        queue_unlink(c, job);
        removed = true;
    }
    pthread_mutex_unlock(&c->qmu);
    return removed;
}

/* Under qmu: wake one idle worker unless one is already on its way. */
static void wake_one(gj_client *c)
{
    if (atomic_load(&c->idle) > c->wakeups) {
        c->wakeups++;
        pthread_cond_signal(&c->qcv);
    }
}

bool gj__client_on_worker(const gj_client *c)
{
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
static void finish_failed(gj_worker *w, gj_job *job, int code, gj_error *err)
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

static void unpublish_conn(gj_client *c, gj_job *job)
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

static void run_job(gj_worker *w, gj_job *job, worker_conn *wc, gj_error *err)
{
    gj_target *t = job->target;
    gj_client *c = t->client;
    int rc;

    if (cancel_requested(job)) {
        gj__job_finish(job, w, GJ__PH_CANCELLED, NULL, NULL);
        return;
    }
    /* TAKEN -> RUNNING: gj_job_started() is true from here. */
    atomic_fetch_add_explicit(&job->state, GJ__PH_RUNNING - GJ__PH_TAKEN, memory_order_acq_rel);

    if (wc->conn && wc->target != t)
        drop_conn(wc);
    if (!wc->conn) {
        gj_error_clear(err);
        rc = gj__pool_acquire(t->pool, gj__deadline_ms(t->settings.acquire_timeout_ms),
                              &wc->conn, err);
        if (rc) {
            wc->conn = NULL;
            if (cancel_requested(job)) {
                gj__job_finish(job, w, GJ__PH_CANCELLED, NULL, NULL);
                return;
            }
            gj__error_prefix(err, "job %llu", (unsigned long long)job->id);
            finish_failed(w, job, rc, err);
            return;
        }
        wc->target = t;
    }

    if (!publish_conn(c, job, wc->conn)) {
        gj__job_finish(job, w, GJ__PH_CANCELLED, NULL, NULL);
        return;
    }
    gj_request *req = job->req;
    int64_t timeout = req->timeout_ms >= 0 ? req->timeout_ms : t->settings.response_timeout_ms;
    gj_sink sink;
    gj__sink_init(&sink, req->row_fn, req->row_payload, &job->state, GJ__ST_CANCEL_REQ, timeout);
    gj_error_clear(err);
    atomic_fetch_add_explicit(&w->running, 1, memory_order_relaxed);
    rc = t->backend->execute(wc->conn, req, &sink, err);
    atomic_fetch_sub_explicit(&w->running, 1, memory_order_relaxed);
    unpublish_conn(c, job); /* no interrupt after this point */

    if (t->backend->usable && !t->backend->usable(wc->conn))
        drop_conn(wc);

    gj_result *res = NULL;
    if (rc == 0 && !gj__sink_empty(&sink) && gj__sink_take_result(&sink, &res) != 0)
        rc = gj__error_set(err, GJ_ENOMEM, "job %llu: out of memory for its result",
                           (unsigned long long)job->id);
    gj__sink_clear(&sink);
    if (rc == GJ_ECANCELLED)
        gj__job_finish(job, w, GJ__PH_CANCELLED, NULL, NULL);
    else if (rc)
        finish_failed(w, job, rc, err);
    else
        gj__job_finish(job, w, GJ__PH_DONE, res, NULL);
}

/* How many times an idle worker looks at the inbox before sleeping. */
#define GJ__IDLE_SPINS 100

static void *worker_main(void *arg)
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
            /* A short look for new work before a sleep and a wake-up. */
            pthread_mutex_unlock(&c->qmu);
            for (int i = 0; i < GJ__IDLE_SPINS &&
                 !atomic_load_explicit(&c->inbox, memory_order_relaxed); i++)
                for (int k = 0; k < 16; k++) /* spaced reads: less traffic on the inbox line */
                    gj__cpu_relax();
            pthread_mutex_lock(&c->qmu);
            if (atomic_load_explicit(&c->inbox, memory_order_relaxed) || c->stopping)
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
        queue_unlink(c, job);
        atomic_fetch_add_explicit(&job->state, GJ__PH_TAKEN, memory_order_relaxed);
        if (c->qhead)
            wake_one(c);
        pthread_mutex_unlock(&c->qmu);
        run_job(w, job, &wc, err);
        pthread_mutex_lock(&c->qmu);
    }
    pthread_mutex_unlock(&c->qmu);
    gj_error_free(err);
    return NULL;
}

/* ---- housekeeping ---------------------------------------------------------- */

static void *keeper_main(void *arg)
{
    gj_client *c = arg;
    pthread_mutex_lock(&c->kmu);
    while (!c->keeper_stop) {
        pthread_mutex_unlock(&c->kmu);
        for (size_t i = 0; i < c->n_targets; i++) {
            gj__pool_reap(c->targets[i].pool);
            if (c->targets[i].settings.min_conns) {
                gj_error *err = gj_error_new();
                if (gj__pool_fill(c->targets[i].pool, err) != 0)
                    gj__log(&c->log, GJ_LOG_WARN, "target %s: could not open min_conns: %s",
                            c->targets[i].settings.name, gj_error_message(err));
                gj_error_free(err);
            }
        }
        pthread_mutex_lock(&c->kmu);
        if (c->keeper_stop)
            break;
        struct timespec ts;
        gj__deadline_to_timespec(gj__deadline_ms(GJ__KEEPER_PERIOD_MS), &ts);
        pthread_cond_timedwait(&c->kcv, &c->kmu, &ts);
    }
    pthread_mutex_unlock(&c->kmu);
    return NULL;
}

/* ---- creation ---------------------------------------------------------------- */

static const gj_backend *find_backend(gj_client *c, const gj_target_settings *ts)
{
    for (size_t i = 0; i < c->n_extra_backends; i++) {
        const gj_backend *b = c->extra_backends[i];
        if (ts->backend && strcmp(b->name, ts->backend) == 0)
            return b;
        if (!ts->backend && ts->scheme && b->schemes)
            for (const char *const *s = b->schemes; *s; s++)
                if (strcmp(*s, ts->scheme) == 0)
                    return b;
    }
    if (ts->backend)
        return gj__backend_by_name(ts->backend);
    return ts->scheme ? gj__backend_by_scheme(ts->scheme) : NULL;
}

static int cond_init_monotonic(pthread_cond_t *cv)
{
    pthread_condattr_t attr;
    if (pthread_condattr_init(&attr))
        return GJ_ENOMEM;
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    int rc = pthread_cond_init(cv, &attr);
    pthread_condattr_destroy(&attr);
    return rc ? GJ_ENOMEM : 0;
}

static void client_destroy(gj_client *c);

int gj__client_new_with_backends(gj_client **out, const gj_config *cfg,
                                 const gj_backend *const *extra, size_t n_extra,
                                 gj_error *err)
{
    if (!out || !cfg)
        return gj__error_set(err, GJ_EINVAL, "gj_client_new: out and cfg are required");
    *out = NULL;
    if (cfg->workers < 1 || cfg->workers > 1024)
        return gj__error_set(err, GJ_ECONFIG, "workers: expected 1..1024, got %u", cfg->workers);
    if (cfg->queue_size < 1)
        return gj__error_set(err, GJ_ECONFIG, "queue_size: expected at least 1");

    gj_client *c = calloc(1, sizeof *c);
    if (!c)
        return gj__error_set(err, GJ_ENOMEM, "out of memory creating the client");
    c->event_fd = -1;
    c->log = cfg->log;
    c->qcap = cfg->queue_size;
    int rc = GJ_ENOMEM;
    if (pthread_mutex_init(&c->qmu, NULL) || cond_init_monotonic(&c->qcv) ||
        pthread_mutex_init(&c->kmu, NULL) || cond_init_monotonic(&c->kcv) ||
        gj__registry_init(&c->registry))
        goto fail_nomem;
    for (size_t i = 0; i < GJ__STRIPES; i++)
        if (pthread_mutex_init(&c->stripes[i].mu, NULL) ||
            cond_init_monotonic(&c->stripes[i].cv))
            goto fail_nomem;

    c->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (c->event_fd < 0) {
        rc = gj__error_set(err, GJ_ENOMEM, "eventfd: %s", strerror(errno));
        goto fail;
    }

    if (n_extra) {
        c->extra_backends = malloc(n_extra * sizeof *c->extra_backends);
        if (!c->extra_backends)
            goto fail_nomem;
        memcpy(c->extra_backends, extra, n_extra * sizeof *extra);
        c->n_extra_backends = n_extra;
    }

    if (cfg->n_targets) {
        c->targets = calloc(cfg->n_targets, sizeof *c->targets);
        if (!c->targets)
            goto fail_nomem;
    }
    for (size_t i = 0; i < cfg->n_targets; i++) {
        gj_target *t = &c->targets[i];
        t->client = c;
        if (gj__target_settings_copy(&t->settings, &cfg->targets[i]) != 0) {
            c->n_targets = i;
            goto fail_nomem;
        }
        c->n_targets = i + 1;
        t->backend = find_backend(c, &t->settings);
        if (!t->backend) {
            rc = gj__error_set(err, GJ_ECONFIG,
                               "target '%s': no backend '%s' in this build of libgraphjob",
                               t->settings.name,
                               t->settings.backend ? t->settings.backend
                               : t->settings.scheme ? t->settings.scheme : "(none)");
            goto fail;
        }
        rc = gj__pool_new(&t->pool, t->backend, &t->settings, &c->log, err);
        if (rc) {
            gj__error_prefix(err, "target '%s'", t->settings.name);
            goto fail;
        }
    }

    c->workers = calloc(cfg->workers, sizeof *c->workers);
    if (!c->workers)
        goto fail_nomem;
    for (unsigned i = 0; i < cfg->workers; i++) {
        c->workers[i].client = c;
        if (pthread_create(&c->workers[i].thread, NULL, worker_main, &c->workers[i]) != 0) {
            rc = gj__error_set(err, GJ_ENOMEM, "could not start worker thread %u of %u",
                               i + 1, cfg->workers);
            goto fail;
        }
        c->n_workers = i + 1;
    }
    if (pthread_create(&c->keeper, NULL, keeper_main, c) != 0) {
        rc = gj__error_set(err, GJ_ENOMEM, "could not start the housekeeping thread");
        goto fail;
    }
    c->keeper_started = true;
    gj__log(&c->log, GJ_LOG_INFO, "client started: %u workers, queue_size %zu, %zu targets",
            c->n_workers, c->qcap, c->n_targets);
    *out = c;
    return 0;

fail_nomem:
    rc = gj__error_set(err, GJ_ENOMEM, "out of memory creating the client");
fail:
    client_destroy(c);
    return rc;
}

int gj_client_new(gj_client **out, const gj_config *cfg, gj_error *err)
{
    return gj__client_new_with_backends(out, cfg, NULL, 0, err);
}

int gj_client_new_url(gj_client **out, const char *url, gj_error *err)
{
    gj_config *cfg;
    int rc = gj_config_from_url(&cfg, url, err);
    if (rc)
        return rc;
    rc = gj_client_new(out, cfg, err);
    gj_config_free(cfg);
    return rc;
}

/* ---- shutdown ------------------------------------------------------------------ */

/* Collect (with a reference) every registered job that is not terminal. */
static gj_job *collect_pending(gj_client *c)
{
    gj_job *list = NULL;
    gj_registry *r = &c->registry;
    pthread_mutex_lock(&r->mu);
    for (size_t ci = 0; ci < r->n_chunks; ci++) {
        gj_reg_chunk *chunk = r->chunks[ci];
        if (!chunk)
            continue;
        for (size_t k = 0; k < GJ__REG_CHUNK; k++) {
            gj_job *job = chunk->slot[k];
            if (job && !GJ__TERMINAL(atomic_load_explicit(&job->state, memory_order_acquire))) {
                gj_job_ref(job);
                job->qprev = list; /* qprev is free outside the queue */
                list = job;
            }
        }
    }
    pthread_mutex_unlock(&r->mu);
    return list;
}

static void client_destroy(gj_client *c)
{
    /* Stop taking work; cancel what is queued (callbacks run here). */
    atomic_store(&c->shutting_down, true);
    pthread_mutex_lock(&c->qmu);
    c->stopping = true;
    drain_inbox(c);
    gj_job *queued = c->qhead;
    c->qhead = c->qtail = NULL;
    for (gj_job *j = queued; j; j = j->qnext)
        atomic_fetch_add(&c->deq, 1);
    for (gj_job *j = queued; j; j = j->qnext)
        atomic_fetch_and_explicit(&j->state, ~GJ__ST_INQUEUE, memory_order_relaxed);
    pthread_cond_broadcast(&c->qcv);
    pthread_mutex_unlock(&c->qmu);
    while (queued) {
        gj_job *next = queued->qnext;
        queued->qnext = queued->qprev = NULL;
        atomic_fetch_or_explicit(&queued->state, GJ__ST_CANCEL_REQ, memory_order_acq_rel);
        gj__job_finish(queued, NULL, GJ__PH_CANCELLED, NULL, NULL);
        queued = next;
    }

    /* Interrupt what runs or sits in a worker's batch. */
    for (gj_job *j = collect_pending(c); j;) {
        gj_job *next = j->qprev;
        j->qprev = NULL;
        gj__job_cancel(j, false, NULL);
        gj_job_unref(j);
        j = next;
    }
    for (size_t i = 0; i < c->n_targets; i++)
        if (c->targets[i].pool)
            gj__pool_shutdown(c->targets[i].pool);

    for (unsigned i = 0; i < c->n_workers; i++)
        pthread_join(c->workers[i].thread, NULL);
    if (c->keeper_started) {
        pthread_mutex_lock(&c->kmu);
        c->keeper_stop = true;
        pthread_cond_signal(&c->kcv);
        pthread_mutex_unlock(&c->kmu);
        pthread_join(c->keeper, NULL);
    }

    /* Detach the remaining jobs from the client and drop the registry's
     * references; handles the program holds stay valid. */
    gj_registry *r = &c->registry;
    for (size_t ci = 0; ci < r->n_chunks; ci++) {
        gj_reg_chunk *chunk = r->chunks[ci];
        if (!chunk)
            continue;
        for (size_t k = 0; k < GJ__REG_CHUNK; k++) {
            gj_job *job = chunk->slot[k];
            if (job) {
                chunk->slot[k] = NULL;
                job->target = NULL;
                gj_job_unref(job);
            }
        }
    }
    for (size_t i = 0; i < c->n_targets; i++) {
        gj__pool_free(c->targets[i].pool);
        gj__target_settings_free(&c->targets[i].settings);
    }
    free(c->targets);
    free(c->workers);
    free(c->extra_backends);
    gj__registry_destroy(&c->registry);
    for (size_t i = 0; i < GJ__STRIPES; i++) {
        pthread_mutex_destroy(&c->stripes[i].mu);
        pthread_cond_destroy(&c->stripes[i].cv);
    }
    pthread_mutex_destroy(&c->qmu);
    pthread_cond_destroy(&c->qcv);
    pthread_mutex_destroy(&c->kmu);
    pthread_cond_destroy(&c->kcv);
    if (c->event_fd >= 0)
        close(c->event_fd);
    free(c);
}

void gj_client_free(gj_client *c)
{
    if (!c)
        return;
    gj__log(&c->log, GJ_LOG_INFO, "client shutting down");
    client_destroy(c);
}

/* ---- submit ---------------------------------------------------------------------- */

static gj_target *find_target(gj_client *c, const char *name)
{
    if (!name) {
        for (size_t i = 0; i < c->n_targets; i++)
            if (strcmp(c->targets[i].settings.name, "default") == 0)
                return &c->targets[i];
        return c->n_targets == 1 ? &c->targets[0] : NULL;
    }
    for (size_t i = 0; i < c->n_targets; i++)
        if (strcmp(c->targets[i].settings.name, name) == 0)
            return &c->targets[i];
    return NULL;
}

/* Count one more queued job unless qcap are queued.  deq is read only when
 * the cached view says the queue may be full (deq_seen never exceeds deq, so
 * the bound holds). */
static bool reserve_queue_place(gj_client *c)
{
    size_t enq = atomic_fetch_add_explicit(&c->enq, 1, memory_order_relaxed);
    size_t seen = atomic_load_explicit(&c->deq_seen, memory_order_relaxed);
    if (enq - seen < c->qcap)
        return true;
    size_t deq = atomic_load_explicit(&c->deq, memory_order_acquire);
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

int gj_client_submit(gj_client *c, gj_request *req, const gj_submit_options *opts,
                     gj_job **out, gj_error *err)
{
    if (out)
        *out = NULL;
    if (!c || !req)
        return gj__error_set(err, GJ_EINVAL, "gj_client_submit: client and request are required");
    if (opts && opts->size < sizeof(size_t))
        return gj__error_set(err, GJ_EINVAL, "gj_client_submit: opts->size is not set "
                             "(initialise with GJ_SUBMIT_OPTIONS_INIT)");
    if (atomic_load_explicit(&c->shutting_down, memory_order_relaxed))
        return gj__error_set(err, GJ_ESHUTDOWN, "the client is shutting down");
    gj_target *t = find_target(c, req->target);
    if (!t) {
        if (req->target)
            return gj__error_set(err, GJ_EINVAL, "no target named '%s' is configured",
                                 req->target);
        return gj__error_set(err, GJ_EINVAL, c->n_targets
                             ? "the request names no target and there is no 'default' target"
                             : "the client has no target configured");
    }

    gj__request_freeze(req);
    gj_job *job = gj__job_new(t, gj_request_ref(req), opts);
    if (!job) {
        gj_request_unref(req);
        return gj__error_set(err, GJ_ENOMEM, "out of memory submitting a job");
    }
    /* References: the registry's, the queue's/worker's, and the caller's. */
    atomic_store_explicit(&job->refs, out ? 3 : 2, memory_order_relaxed);

    /* Reserve a queue place first, so a full queue costs no registry work. */
    if (!reserve_queue_place(c)) {
        atomic_fetch_add_explicit(&c->rejected, 1, memory_order_relaxed);
        atomic_store_explicit(&job->refs, 1, memory_order_relaxed);
        gj_job_unref(job);
        return gj__error_set(err, GJ_EBUSY, "the submit queue is full (%zu jobs queued); "
                             "retry later or raise queue_size", c->qcap);
    }
    if (gj__registry_insert(&c->registry, job) != 0) {
        atomic_fetch_sub_explicit(&c->enq, 1, memory_order_relaxed);
        atomic_store_explicit(&job->refs, 1, memory_order_relaxed);
        gj_job_unref(job);
        return gj__error_set(err, GJ_ENOMEM, "out of memory registering a job");
    }

    /* Push onto the inbox (INQUEUE first: cancel may look right away). */
    atomic_fetch_or_explicit(&job->state, GJ__ST_INQUEUE, memory_order_relaxed);
    gj_job *top = atomic_load_explicit(&c->inbox, memory_order_relaxed);
    do {
        job->qnext = top;
    } while (!atomic_compare_exchange_weak_explicit(&c->inbox, &top, job,
                                                    memory_order_seq_cst,
                                                    memory_order_relaxed));
    if (atomic_load(&c->idle)) {
        pthread_mutex_lock(&c->qmu);
        wake_one(c);
        pthread_mutex_unlock(&c->qmu);
    }
    if (out)
        *out = job;
    return 0;
}

int gj_client_execute(gj_client *c, gj_request *req, int64_t timeout_ms, gj_result **out,
                      gj_error *err)
{
    if (out)
        *out = NULL;
    if (c && gj__client_on_worker(c))
        return gj__error_set(err, GJ_EDEADLK, "gj_client_execute called on a worker thread");
    gj_job *job;
    int rc = gj_client_submit(c, req, NULL, &job, err);
    if (rc)
        return rc;
    rc = gj_job_wait(job, timeout_ms, err);
    if (rc == GJ_ETIMEDOUT) {
        gj_job_clear(job, NULL);
        gj_job_unref(job);
        return rc;
    }
    if (rc == 0)
        rc = gj_job_result(job, out, err);
    gj_job_unref(job);
    return rc;
}

/* ---- registry queries -------------------------------------------------------------- */

int gj_client_job(gj_client *c, uint64_t id, gj_job **out, gj_error *err)
{
    if (!c || !out)
        return gj__error_set(err, GJ_EINVAL, "gj_client_job: client and out are required");
    *out = NULL;
    gj_job *job = gj__registry_get(&c->registry, id);
    if (!job)
        return gj__error_set(err, GJ_ENOTFOUND, "job %llu not found", (unsigned long long)id);
    *out = job;
    return 0;
}

int gj_client_list_jobs(gj_client *c, gj_job_status status, size_t max_count,
                        uint64_t **ids, size_t *count, gj_error *err)
{
    if (!c || !ids || !count)
        return gj__error_set(err, GJ_EINVAL, "gj_client_list_jobs: client, ids and count are required");
    *ids = NULL;
    *count = 0;
    if (status != GJ_JOB_PENDING && status != GJ_JOB_DONE)
        return gj__error_set(err, GJ_EINVAL, "gj_client_list_jobs: status must be "
                             "GJ_JOB_PENDING or GJ_JOB_DONE");
    gj_registry *r = &c->registry;
    pthread_mutex_lock(&r->mu);
    size_t cap = r->live;
    if (max_count && max_count < cap)
        cap = max_count;
    uint64_t *list = cap ? malloc(cap * sizeof *list) : NULL;
    if (cap && !list) {
        pthread_mutex_unlock(&r->mu);
        return gj__error_set(err, GJ_ENOMEM, "out of memory listing jobs");
    }
    size_t n = 0;
    for (size_t ci = 0; ci < r->n_chunks && n < cap; ci++) {
        gj_reg_chunk *chunk = r->chunks[ci];
        if (!chunk)
            continue;
        for (size_t k = 0; k < GJ__REG_CHUNK && n < cap; k++) {
            gj_job *job = chunk->slot[k];
            if (!job)
                continue;
            unsigned st = atomic_load_explicit(&job->state, memory_order_acquire);
            if (st & GJ__ST_GONE)
                continue;
            if (GJ__TERMINAL(st) == (status == GJ_JOB_DONE))
                list[n++] = job->id;
        }
    }
    pthread_mutex_unlock(&r->mu);
    if (!n) {
        free(list);
        list = NULL;
    }
    *ids = list;
    *count = n;
    return 0;
}

int gj_client_clear_jobs(gj_client *c, int64_t before_ms, size_t *cleared, gj_error *err)
{
    if (cleared)
        *cleared = 0;
    if (!c)
        return gj__error_set(err, GJ_EINVAL, "gj_client_clear_jobs: client is NULL");
    /* Collect under the lock, clear outside it (freeing results can take time). */
    gj_job *list = NULL;
    gj_registry *r = &c->registry;
    pthread_mutex_lock(&r->mu);
    for (size_t ci = 0; ci < r->n_chunks; ci++) {
        gj_reg_chunk *chunk = r->chunks[ci];
        if (!chunk)
            continue;
        for (size_t k = 0; k < GJ__REG_CHUNK; k++) {
            gj_job *job = chunk->slot[k];
            if (!job)
                continue;
            unsigned st = atomic_load_explicit(&job->state, memory_order_acquire);
            if (!GJ__TERMINAL(st) || (st & GJ__ST_GONE))
                continue;
            if (before_ms && job->finished_at >= before_ms)
                continue;
            gj_job_ref(job);
            job->qprev = list;
            list = job;
        }
    }
    pthread_mutex_unlock(&r->mu);
    size_t n = 0;
    while (list) {
        gj_job *next = list->qprev;
        list->qprev = NULL;
        if (gj__job_cancel(list, true, NULL) == 0)
            n++;
        gj_job_unref(list);
        list = next;
    }
    if (cleared)
        *cleared = n;
    return 0;
}

/* ---- events and stats ---------------------------------------------------------------- */

int gj_client_event_fd(const gj_client *c)
{
    return c ? c->event_fd : -1;
}

static uint64_t finished_total(gj_client *c)
{
    uint64_t n = atomic_load(&c->cancelled_queued);
    for (unsigned i = 0; i < c->n_workers; i++)
        n += atomic_load(&c->workers[i].done) + atomic_load(&c->workers[i].cancelled);
    return n;
}

uint64_t gj_client_ack_events(gj_client *c)
{
    if (!c)
        return 0;
    /* Clear the flag, then drain and count (see gj__job_finish): a job that
     * finishes from here on is either counted now or writes the fd again. */
    atomic_store(&c->ev_signaled, false);
    uint64_t drained;
    ssize_t rd = read(c->event_fd, &drained, sizeof drained);
    (void)rd; /* EAGAIN: nothing to drain */
    uint64_t total = finished_total(c);
    uint64_t before = atomic_exchange(&c->ev_acked, total);
    return total > before ? total - before : 0;
}

int gj_client_get_stats(gj_client *c, gj_client_stats *stats)
{
    if (!c || !stats || stats->size < sizeof(gj_client_stats))
        return GJ_EINVAL;
    size_t size = stats->size;
    memset(stats, 0, sizeof *stats);
    stats->size = size;
    pthread_mutex_lock(&c->registry.mu);
    stats->submitted = c->registry.next_id - 1;
    stats->registered = c->registry.live;
    pthread_mutex_unlock(&c->registry.mu);
    stats->rejected = atomic_load(&c->rejected);
    stats->cancelled = atomic_load(&c->cancelled_queued);
    for (unsigned i = 0; i < c->n_workers; i++) {
        stats->done += atomic_load(&c->workers[i].done);
        stats->failed += atomic_load(&c->workers[i].failed);
        stats->cancelled += atomic_load(&c->workers[i].cancelled);
        stats->running += atomic_load(&c->workers[i].running);
    }
    size_t deq = atomic_load(&c->deq);
    size_t enq = atomic_load(&c->enq);
    stats->queued = enq > deq ? enq - deq : 0;
    return 0;
}
