/*
 * The client: targets and their pools, submit, shutdown, the event fd, the
 * counters and the housekeeping thread.  The queue and the workers are in
 * executor.c, the registry and the queries by id in registry.c.
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
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define GJ__KEEPER_PERIOD_MS 1000

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
    c->caller_runs = cfg->caller_runs;
    c->caller.client = c;
    c->caller.wake_fd = -1;
    c->caller.shared = true;
    int rc = GJ_ENOMEM;
    if (pthread_mutex_init(&c->qmu, NULL) || cond_init_monotonic(&c->qcv) ||
        pthread_mutex_init(&c->smu, NULL) ||
        pthread_mutex_init(&c->kmu, NULL) || cond_init_monotonic(&c->kcv) ||
        gj__registry_init(&c->registry) || gj__job_slab_new(&c->slab))
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

    /* The completion thread of asynchronous requests, when a backend
     * makes them (before the workers, which read whether it runs). */
    bool any_async = false;
    for (size_t i = 0; i < c->n_targets; i++)
        any_async |= c->targets[i].backend->start != NULL;
    if (gj__async_init(c, any_async) != 0) {
        rc = gj__error_set(err, GJ_ENOMEM, "could not start the completion thread");
        goto fail;
    }

    c->workers = calloc(cfg->workers, sizeof *c->workers);
    if (!c->workers)
        goto fail_nomem;
    c->n_worker_slots = cfg->workers;
    for (unsigned i = 0; i < cfg->workers; i++)
        c->workers[i].wake_fd = -1;
    for (unsigned i = 0; i < cfg->workers; i++) {
        c->workers[i].client = c;
        c->workers[i].wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (c->workers[i].wake_fd < 0) {
            rc = gj__error_set(err, GJ_ENOMEM, "eventfd for worker %u: %s", i + 1, strerror(errno));
            goto fail;
        }
        if (pthread_create(&c->workers[i].thread, NULL, gj__worker_main, &c->workers[i]) != 0) {
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
    gj_error_clear(err);
    return gj__client_new_with_backends(out, cfg, NULL, 0, err);
}

int gj_client_new_url(gj_client **out, const char *url, gj_error *err)
{
    gj_error_clear(err);
    gj_config *cfg;
    int rc = gj_config_from_url(&cfg, url, err);
    if (rc)
        return rc;
    rc = gj_client_new(out, cfg, err);
    gj_config_free(cfg);
    return rc;
}

/* ---- shutdown ------------------------------------------------------------------ */

static bool pick_pending(const gj_job *job, void *arg)
{
    (void)arg;
    return !GJ__TERMINAL(atomic_load_explicit(&job->state, memory_order_acquire));
}

static void client_destroy(gj_client *c)
{
    /* Stop taking work; cancel what is queued (callbacks run here). */
    atomic_store(&c->shutting_down, true);
    gj_job *queued = gj__executor_stop(c);
    while (queued) {
        gj_job *next = queued->qnext;
        queued->qnext = queued->qprev = NULL;
        atomic_fetch_or_explicit(&queued->state, GJ__ST_CANCEL_REQ, memory_order_acq_rel);
        gj__job_finish(queued, NULL, GJ__PH_CANCELLED, NULL, NULL);
        queued = next;
    }

    /* Interrupt what runs, or was taken by a worker and not started yet. */
    for (gj_job *j = gj__registry_collect(&c->registry, pick_pending, NULL); j;) {
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
    for (unsigned i = 0; i < c->n_worker_slots; i++)
        if (c->workers[i].wake_fd >= 0)
            close(c->workers[i].wake_fd);
    if (c->keeper_started) {
        pthread_mutex_lock(&c->kmu);
        c->keeper_stop = true;
        pthread_cond_signal(&c->kcv);
        pthread_mutex_unlock(&c->kmu);
        pthread_join(c->keeper, NULL);
    }
    /* Asynchronous requests still in flight end (their connections go
     * back to the pools), then the completion thread stops. */
    if (c->a_init)
        gj__async_shutdown(c);
    /* Sessions the program did not close give their connections back
     * before the pools go. */
    gj__client_close_sessions(c);

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
    gj__job_slab_release(c->slab); /* records still held by the program keep it */
    for (size_t i = 0; i < GJ__STRIPES; i++) {
        pthread_mutex_destroy(&c->stripes[i].mu);
        pthread_cond_destroy(&c->stripes[i].cv);
    }
    pthread_mutex_destroy(&c->qmu);
    pthread_cond_destroy(&c->qcv);
    pthread_mutex_destroy(&c->smu);
    pthread_mutex_destroy(&c->kmu);
    pthread_cond_destroy(&c->kcv);
    if (c->a_init) {
        pthread_mutex_destroy(&c->amu);
        pthread_cond_destroy(&c->acv);
    }
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

gj_target *gj__client_target(gj_client *c, const char *name)
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

static int register_job(gj_client *c, gj_target *t, gj_session *session, gj_request *req,
                        const gj_submit_options *opts, unsigned refs, unsigned how,
                        gj_job **out, gj_error *err);

int gj__client_register_job(gj_client *c, gj_target *t, gj_request *req,
                            const gj_submit_options *opts, unsigned refs, bool running,
                            gj_job **out, gj_error *err)
{
    return register_job(c, t, NULL, req, opts, refs, running ? 1 : 0, out, err);
}

int gj__client_register_session_job(gj_client *c, gj_target *t, gj_session *s, gj_request *req,
                                    const gj_submit_options *opts, unsigned refs, bool waiting,
                                    gj_job **out, gj_error *err)
{
    return register_job(c, t, s, req, opts, refs, waiting ? 2 : 0, out, err);
}

/* how: 0 queued, 1 running here, 2 waiting in its session. */
static int register_job(gj_client *c, gj_target *t, gj_session *session, gj_request *req,
                        const gj_submit_options *opts, unsigned refs, unsigned how,
                        gj_job **out, gj_error *err)
{
    gj__request_freeze(req);
    gj_request_ref(req);
    /* The record comes from the slab under the registry lock, which also
     * gives it its id.  References: the registry's, the queue's/worker's
     * (or the running caller's), and the caller's handle. */
    gj_registry *r = &c->registry;
    pthread_mutex_lock(&r->mu);
    gj_job *job = gj__job_slab_alloc(c->slab);
    int rc = GJ_ENOMEM;
    if (job) {
        gj__job_init(job, t, req, opts, refs);
        unsigned detached = atomic_load_explicit(&job->state, memory_order_relaxed) & GJ__ST_DETACHED;
        if (how == 1)   /* never queued: RUNNING from the start */
            atomic_store_explicit(&job->state, GJ__PH_RUNNING | detached, memory_order_relaxed);
        else if (how == 2)   /* behind an earlier job of its session */
            atomic_store_explicit(&job->state, GJ__PH_QUEUED | GJ__ST_INSESSION | detached,
                                  memory_order_relaxed);
        job->session = session;   /* its reference is the caller's to give */
        rc = gj__registry_insert_locked(r, job);
    }
    pthread_mutex_unlock(&r->mu);
    if (rc) {
        if (job)
            gj__job_slab_free(job);
        gj_request_unref(req);
        return gj__error_set(err, GJ_ENOMEM, "out of memory submitting a job");
    }
    *out = job;
    return 0;
}

int gj_client_submit(gj_client *c, gj_request *req, const gj_submit_options *opts,
                     gj_job **out, gj_error *err)
{
    gj_error_clear(err);
    if (out)
        *out = NULL;
    if (!c || !req)
        return gj__error_set(err, GJ_EINVAL, "gj_client_submit: client and request are required");
    /* The options struct only grows at its end: every field read here is in
     * the first version, so any size at least that large is accepted. */
    if (opts && opts->size < sizeof(gj_submit_options))
        return gj__error_set(err, GJ_EINVAL, "gj_client_submit: opts->size is %zu, expected at "
                             "least %zu (initialise with GJ_SUBMIT_OPTIONS_INIT)",
                             opts->size, sizeof(gj_submit_options));
    if (atomic_load_explicit(&c->shutting_down, memory_order_relaxed))
        return gj__error_set(err, GJ_ESHUTDOWN, "the client is shutting down");
    gj_target *t = gj__client_target(c, req->target);
    if (!t) {
        if (req->target)
            return gj__error_set(err, GJ_EINVAL, "no target named '%s' is configured",
                                 req->target);
        return gj__error_set(err, GJ_EINVAL, c->n_targets
                             ? "the request names no target and there is no 'default' target"
                             : "the client has no target configured");
    }

    /* Reserve a queue place first, so a full queue costs no other work. */
    if (!gj__executor_reserve(c)) {
        atomic_fetch_add_explicit(&c->rejected, 1, memory_order_relaxed);
        return gj__error_set(err, GJ_EBUSY, "the submit queue is full (%zu jobs queued); "
                             "retry later or raise queue_size", c->qcap);
    }
    gj_job *job;
    int rc = gj__client_register_job(c, t, req, opts, out ? 3 : 2, false, &job, err);
    if (rc) {
        gj__executor_unreserve(c);
        return rc;
    }
    gj__executor_push(c, job);
    if (out)
        *out = job;
    return 0;
}

/* Caller-runs: with nothing queued and a connection of the request's
 * target open and idle, the calling thread runs the job itself — no queue,
 * no wake-up, no switch to a worker and back.  The job is registered like
 * any other (status, list, cancel from another thread).  GJ_EBUSY: not
 * possible now (nothing was done). */
static int execute_here(gj_client *c, gj_request *req, int64_t timeout_ms, gj_result **out,
                        gj_error *err)
{
    if (!c || !req || atomic_load_explicit(&c->shutting_down, memory_order_relaxed) ||
        !gj__executor_idle(c))
        return GJ_EBUSY;
    gj_target *t = gj__client_target(c, req->target);
    gj_conn *conn = NULL;
    if (!t || gj__pool_try_acquire(t->pool, &conn) != 0)
        return GJ_EBUSY;
    gj_job *job;
    int rc = gj__client_register_job(c, t, req, NULL, 3, true, &job, err);
    if (rc) {
        gj__pool_release(t->pool, conn);
        return rc;
    }
    gj__executor_run_here(c, job, conn, gj__deadline_ms(timeout_ms), err);
    gj_job_status st = GJ_JOB_DONE;
    gj_job_get_status(job, &st, NULL);
    rc = gj_job_result(job, out, err);
    if (st == GJ_JOB_CANCELLED)
        gj_job_clear(job, NULL);
    gj_job_unref(job);
    return rc;
}

int gj_client_execute(gj_client *c, gj_request *req, int64_t timeout_ms, gj_result **out,
                      gj_error *err)
{
    gj_error_clear(err);
    if (out)
        *out = NULL;
    if (c && gj__client_on_worker(c))
        return gj__error_set(err, GJ_EDEADLK, "gj_client_execute called on a worker thread");
    int rc = c && c->caller_runs ? execute_here(c, req, timeout_ms, out, err) : GJ_EBUSY;
    if (rc != GJ_EBUSY)
        return rc;
    gj_job *job;
    rc = gj_client_submit(c, req, NULL, &job, err);
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

/* ---- events and stats ---------------------------------------------------------------- */

int gj_client_event_fd(const gj_client *c)
{
    return c ? c->event_fd : -1;
}

static uint64_t finished_total(gj_client *c)
{
    uint64_t n = atomic_load(&c->cancelled_queued) + atomic_load(&c->caller.done) +
                 atomic_load(&c->caller.cancelled);
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

static int client_stats(gj_client *c, gj_client_stats *stats);

int gj_client_get_stats(gj_client *c, gj_client_stats *stats)
{
    /* The struct only grows at its end: a caller built against an older
     * header (a smaller size, down to the first version's) gets the fields
     * it knows. */
    if (!c || !stats || stats->size < offsetof(gj_client_stats, job_memory))
        return GJ_EINVAL;
    gj_client_stats all;
    int rc = client_stats(c, &all);
    size_t size = stats->size < sizeof all ? stats->size : sizeof all;
    memcpy((char *)stats + sizeof stats->size, (char *)&all + sizeof all.size,
           size - sizeof stats->size);
    return rc;
}

static int client_stats(gj_client *c, gj_client_stats *stats)
{
    memset(stats, 0, sizeof *stats);
    stats->size = sizeof *stats;
    pthread_mutex_lock(&c->registry.mu);
    stats->submitted = c->registry.next_id - 1;
    stats->registered = c->registry.live;
    pthread_mutex_unlock(&c->registry.mu);
    stats->job_memory = c->slab ? gj__job_slab_bytes(c->slab) : 0;
    stats->rejected = atomic_load(&c->rejected);
    stats->cancelled = atomic_load(&c->cancelled_queued) + atomic_load(&c->caller.cancelled);
    stats->done = atomic_load(&c->caller.done);
    stats->failed = atomic_load(&c->caller.failed);
    stats->running = atomic_load(&c->caller.running) + atomic_load(&c->a_worker.running);
    stats->done += atomic_load(&c->a_worker.done);
    stats->failed += atomic_load(&c->a_worker.failed);
    stats->cancelled += atomic_load(&c->a_worker.cancelled);
    for (unsigned i = 0; i < c->n_workers; i++) {
        stats->done += atomic_load(&c->workers[i].done);
        stats->failed += atomic_load(&c->workers[i].failed);
        stats->cancelled += atomic_load(&c->workers[i].cancelled);
        stats->running += atomic_load(&c->workers[i].running);
    }
    size_t deq = gj__executor_dequeued(c);
    size_t enq = atomic_load(&c->enq);
    stats->queued = enq > deq ? enq - deq : 0;
    return 0;
}
