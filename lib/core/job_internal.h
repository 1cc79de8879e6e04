/*
 * Job engine internals shared by job.c, registry.c and client.c.
 * Never installed.
 */
#ifndef GJ_CORE_JOB_INTERNAL_H
#define GJ_CORE_JOB_INTERNAL_H

#include "core/internal.h"
#include "config/settings.h"
#include "core/pool.h"
#include "core/sink_internal.h"
#include "core/request_internal.h"

#include <pthread.h>
#include <stdatomic.h>

/* ---- the job state word ------------------------------------------------------
 * bits 0-2  phase
 * bit  3    CANCEL_REQ  cancel asked (a worker seeing it does not start the job)
 * bit  4    GONE        cleared or consumed: "not found" to every call
 * bit  5    FAILED      DONE with an error (u.error)
 * bit  6    INQUEUE     linked in the submit queue (changed under the queue lock)
 * bit  7    DETACHED    clears itself when it ends
 * bit  8    INTERRUPTED backend->interrupt() was called for it
 * bit  9    HASCONN     u.conn is the running connection (set and cleared
 *                       under the job's stripe lock; cancel reads u.conn only
 *                       while it is set, since u is a union)
 * bit  10   INSESSION   waiting in its session's list behind an earlier job
 *                       (changed under the session's lock)
 * bits 11-31 number of threads blocked in gj_job_wait
 */
enum {
    GJ__PH_QUEUED = 0,
    /* 1 is unused (it was "taken, not started"): a worker takes a job
     * straight to RUNNING. */
    GJ__PH_RUNNING = 2,    /* acquiring a connection or executing */
    GJ__PH_DONE = 3,
    GJ__PH_CANCELLED = 4
};
#define GJ__ST_PHASE 0x7u
#define GJ__ST_CANCEL_REQ 0x8u
#define GJ__ST_GONE 0x10u
#define GJ__ST_FAILED 0x20u
#define GJ__ST_INQUEUE 0x40u
#define GJ__ST_DETACHED 0x80u
#define GJ__ST_INTERRUPTED 0x100u
#define GJ__ST_HASCONN 0x200u
#define GJ__ST_INSESSION 0x400u
#define GJ__ST_WAITER 0x800u
#define GJ__ST_WAITERS (~0x7ffu)

#define GJ__TERMINAL(st) (((st) & GJ__ST_PHASE) >= GJ__PH_DONE)

typedef struct gj_target gj_target;
typedef struct gj_conn gj_conn;
typedef struct gj_job_slab gj_job_slab;

struct gj_job {
    atomic_uint refs;
    atomic_uint state;
    uint64_t id;
    gj_target *target;       /* NULL once the client was freed */
    gj_request *req;
    gj_job_fn on_done;
    void *payload;
    union {                  /* guarded by the job's stripe lock and phase */
        gj_result *result;   /* DONE without FAILED (may be NULL = empty) */
        gj_error *error;     /* DONE with FAILED */
        gj_conn *conn;       /* RUNNING: the connection, for interrupt */
    } u;
    gj_job *qnext, *qprev;   /* submit queue links; qnext reused for local lists
                              * and a session's waiting list */
    atomic_int runner_fd;    /* RUNNING: the eventfd of the thread running it, or
                              * -1 (gj_job_cancel writes it to end a connect) */
    gj_session *session;     /* the session it belongs to (referenced), or NULL;
                              * waiting in it (INSESSION), qnext links its list */
    int64_t finished_at;     /* wall ms, written before the terminal phase */
    gj_job_slab *slab;       /* where the record goes back (outlives the client) */
};

/* ---- job records (jobslab.c) ------------------------------------------------ */
int gj__job_slab_new(gj_job_slab **out);
/* A record with only ->slab set, or NULL.  Calls are serialised by the
 * caller (submit holds the registry lock). */
gj_job *gj__job_slab_alloc(gj_job_slab *s);
/* Give a record back (any thread). */
void gj__job_slab_free(gj_job *job);
/* The client lets go; the slab goes when its last record is back. */
void gj__job_slab_release(gj_job_slab *s);
/* Bytes held for records, in use or free. */
size_t gj__job_slab_bytes(gj_job_slab *s);

/* ---- the registry: ids -> jobs, in id (= submission) order ----------------- */
#define GJ__REG_CHUNK 256
typedef struct gj_reg_chunk {
    gj_job *slot[GJ__REG_CHUNK];
    unsigned live;
} gj_reg_chunk;

typedef struct gj_registry {
    pthread_mutex_t mu;
    gj_reg_chunk **chunks;   /* chunks[i] holds ids (base + i) * GJ__REG_CHUNK ... */
    size_t n_chunks;
    size_t cap_chunks;
    uint64_t base;           /* chunk number of chunks[0] */
    uint64_t next_id;
    size_t live;
} gj_registry;

int gj__registry_init(gj_registry *r);
void gj__registry_destroy(gj_registry *r);
/* Assign the next id to job and store it (the registry's reference is the
 * caller's to give: the job's refs must already count it).  Caller holds
 * r->mu. */
int gj__registry_insert_locked(gj_registry *r, gj_job *job);
/* Remove job's id (no unref).  Caller holds r->mu. */
void gj__registry_remove_locked(gj_registry *r, uint64_t id);
/* Lookup + ref, or NULL. */
gj_job *gj__registry_get(gj_registry *r, uint64_t id);
/* Under the registry lock, in id order: take a reference to every job for
 * which pick() is true and return them as a list linked through qprev (the
 * highest id first).  pick() must not call back into the registry. */
gj_job *gj__registry_collect(gj_registry *r, bool (*pick)(const gj_job *job, void *arg),
                             void *arg);

/* ---- the client ---------------------------------------------------------- */
struct gj_target {
    gj_client *client;
    gj_target_settings settings;
    const gj_backend *backend;
    gj_pool *pool;
};

typedef struct gj_worker {
    gj_client *client;
    pthread_t thread;
    int wake_fd;             /* eventfd: a cancel of the job it runs writes it */
    bool shared;             /* the callers' pseudo-worker: counters written by many threads */
    /* Counters, written only by this worker (read racily for stats). */
    _Alignas(64) atomic_size_t taken; /* jobs this worker took from the queue */
    atomic_uint_fast64_t done;
    atomic_uint_fast64_t failed;
    atomic_uint_fast64_t cancelled;
    atomic_uint_fast64_t running;
} gj_worker;

#define GJ__STRIPES 64
typedef struct gj_stripe {
    pthread_mutex_t mu;
    pthread_cond_t cv;
} __attribute__((aligned(64))) gj_stripe;

struct gj_client {
    /* Submit queue.  Submitters push onto a lock-free inbox (a stack, one
     * CAS); workers, under qmu, move the inbox in FIFO order onto the
     * doubly linked queue (qhead..qtail) and take jobs from its head.  Cancel
     * unlinks a queued job under qmu after draining the inbox.  Queued jobs
     * (inbox + queue) = enq - (deq + every worker's taken), bounded by
     * qcap: submitters write only enq and deq_seen (their cached view of the
     * dequeued total), each worker only its own taken, cancel deq, so no two
     * threads write the same cache line per job. */
    _Alignas(64) _Atomic(gj_job *) inbox;
    _Alignas(64) atomic_size_t enq;
    atomic_size_t deq_seen;
    size_t qcap;             /* queue_size: read by submitters, beside enq */
    bool caller_runs;        /* the caller-runs fast path is allowed */
    _Alignas(64) atomic_size_t deq;   /* jobs cancelled out of the queue; workers count their own */
    _Alignas(64) atomic_uint idle; /* workers waiting (or about to wait) on qcv */
    atomic_bool spinning;    /* an idle worker is looking for work before it sleeps:
                                submitters and workers then wake nobody */
    atomic_bool qlisted;     /* qhead != NULL (written under qmu), for the spinner */
    _Alignas(64) pthread_mutex_t qmu;
    pthread_cond_t qcv;
    gj_job *qhead, *qtail;
    unsigned wakeups;        /* signals sent, not yet consumed (under qmu) */
    bool stopping;

    gj_worker *workers;
    gj_worker caller;        /* counts the jobs that callers ran themselves (caller-runs) */
    unsigned n_workers;      /* started */
    unsigned n_worker_slots; /* allocated (their wake fds are open or -1) */

    gj_registry registry;
    _Atomic int64_t wait_ns_avg; /* recent gj_job_wait time past its pauses (a hint) */
    gj_job_slab *slab;       /* job records; allocated under registry.mu */
    gj_stripe stripes[GJ__STRIPES];

    gj_target *targets;
    size_t n_targets;
    const gj_backend **extra_backends;
    size_t n_extra_backends;

    gj_logger log;
    int event_fd;
    /* Set when the event fd was written and not yet acknowledged: mostly
     * read, so finishing a job costs no shared write. */
    _Alignas(64) atomic_bool ev_signaled;
    atomic_uint_fast64_t ev_acked;           /* finished jobs already acknowledged */
    _Alignas(64) atomic_uint_fast64_t cancelled_queued;   /* finished by a non-worker */
    atomic_uint_fast64_t rejected;
    atomic_bool shutting_down;

    /* Open sessions (session.c), closed by gj_client_free when forgotten. */
    pthread_mutex_t smu;
    gj_session *sessions;

    /* Asynchronous requests (async.c): in flight (a doubly linked list),
     * ended and not yet finished (a stack, finished as a batch), and the
     * completion thread that finishes them and ends them at their deadline.
     * Started only when a target's backend has start(). */
    pthread_mutex_t amu;
    pthread_cond_t acv;
    struct gj_async *a_inflight;
    size_t a_count;
    struct gj_async *a_done;
    bool a_sleeping;             /* the completion thread waits on acv ... */
    int64_t a_wake_at;           /* ... until then (INT64_MAX = until signalled) */
    bool a_stop;                 /* gj_client_free: end what is in flight, then exit */
    bool a_init;                 /* amu and acv exist */
    bool a_started;
    pthread_t a_thread;
    gj_worker a_worker;          /* the counters of the jobs it finishes */

    /* Housekeeping (pool reaping and filling). */
    pthread_t keeper;
    bool keeper_started;
    pthread_mutex_t kmu;
    pthread_cond_t kcv;
    bool keeper_stop;
};

static inline gj_stripe *gj__job_stripe(gj_client *c, const gj_job *job)
{
    return &c->stripes[job->id & (GJ__STRIPES - 1)];
}

/* executor.c, for async.c */
/* Start queued jobs of targets with start() on connections that take them
 * without waiting (the completion thread, as worker w); stops at the first
 * job that cannot.  Returns how many it started. */
size_t gj__executor_start_async(gj_client *c, gj_worker *w, gj_error *err);
/* Take the spinning role (submitters then wake no worker: the caller will
 * look at the queue), if nobody has it; release it, waking a worker when
 * work is queued. */
bool gj__executor_claim_spin(gj_client *c);
void gj__executor_release_spin(gj_client *c);
void gj__executor_unpublish_conn(gj_client *c, gj_job *job);
void gj__executor_finish_failed(gj_worker *w, gj_job *job, int code, gj_error *err);

/* async.c */
/* Hand job (running on worker w, its connection *connp leased and published)
 * to its backend's start().  Returns true when the job was handed over (the
 * lease moved to the request: *connp is NULL) or finished here (start
 * failed: the lease was given back); false when it must run with execute()
 * (no row callback, session or memory for the request's record). */
bool gj__async_run(gj_worker *w, gj_job *job, gj_conn **connp, int64_t deadline_cap, gj_error *err);
/* Create the completion thread's state and start it (client creation). */
int gj__async_init(gj_client *c, bool start_thread);
/* End every request in flight (GJ_ECANCELLED), finish them, stop and join
 * the thread (client free, after the workers were joined). */
void gj__async_shutdown(gj_client *c);
/* Is the calling thread the completion thread? */
bool gj__async_on_thread(const gj_client *c);

/* job.c */
/* Fill a record from the slab as a new queued job holding req (a reference
 * the job now owns) with `refs` references. */
void gj__job_init(gj_job *job, gj_target *target, gj_request *req,
                  const gj_submit_options *opts, unsigned refs);
/* Move the job to a terminal phase, count it (on worker w's counters, or the
 * client's when w is NULL), wake waiters, signal the event fd, run the
 * callback, clear it if detached, drop one reference (the caller's working
 * reference).  Exactly one caller per job gets to do this. */
void gj__job_finish(gj_job *job, gj_worker *w, unsigned phase, gj_result *result,
                    gj_error *error);
/* Cancel with the client's locks (used by gj_job_cancel, clear, client free). */
int gj__job_cancel(gj_job *job, bool and_clear, gj_error *err);
/* Remove from the registry if not yet GONE (sets GONE); returns true if this
 * call did it.  Drops the registry's reference. */
bool gj__job_make_gone(gj_job *job);

/* executor.c */
bool gj__client_on_worker(const gj_client *c);
/* Unlink a queued job; true if it was in the queue. */
bool gj__queue_remove(gj_client *c, gj_job *job);
/* Count one more queued job unless queue_size are queued (false: full). */
bool gj__executor_reserve(gj_client *c);
void gj__executor_unreserve(gj_client *c);
/* How many jobs left the queue so far (to workers or cancelled). */
size_t gj__executor_dequeued(gj_client *c);
/* Queue a registered, reserved job (already flagged INQUEUE) and wake an
 * idle worker if there is one. */
void gj__executor_push(gj_client *c, gj_job *job);
/* Stop the workers taking jobs; returns the queued jobs (linked through
 * qnext, no longer queued) for the caller to cancel. */
gj_job *gj__executor_stop(gj_client *c);

/* Caller-runs.  Is nothing queued (so that running a job here jumps ahead
 * of no one)?  A racy look: a job pushed at this instant is not jumped
 * ahead of in any way that matters. */
bool gj__executor_idle(const gj_client *c);
/* Take job from the queue when it is first in line (under the queue lock,
 * as a worker would); true when taken (now RUNNING, the queue's reference
 * is the caller's working reference). */
bool gj__executor_take_first(gj_client *c, gj_job *job);
/* Run a RUNNING job on the calling thread (not a worker): on conn (leased
 * from the job's pool) or, when conn is NULL, on a connection acquired
 * here (blocking, ended by a cancel).  The request's deadline is at most
 * deadline_cap.  The job is finished (callback run here) and the connection
 * back in the pool when it returns; the working reference is dropped. */
void gj__executor_run_here(gj_client *c, gj_job *job, gj_conn *conn, int64_t deadline_cap,
                           gj_error *err);
void *gj__worker_main(void *worker);

/* session.c */
/* A session's job ended (finished and settled): the session's next job is
 * queued, or a closer is woken. */
void gj__session_next(gj_session *s);
/* Cancel: take job out of its session's waiting list; true when it was
 * there (the caller finishes it). */
bool gj__session_remove(gj_job *job);
/* For a session job about to run: the session's connection (acquired
 * before deadline_ms, ended by abort, and the session begun on it, for its
 * first job), its backend state, or the error that lost the session. */
int gj__session_pin(gj_session *s, const gj_abort *abort, int64_t deadline_ms, gj_conn **conn,
                    void **state, gj_error *err);
/* After a session job ran on conn: when the connection is no longer usable
 * the session is lost (later jobs fail with why) and conn goes back to the
 * pool to be closed. */
void gj__session_after(gj_session *s, gj_conn *conn, uint64_t job_id, int job_rc,
                       const gj_error *job_err);
/* gj_client_free: close every session still open (workers are joined). */
void gj__client_close_sessions(gj_client *c);
/* Drop a job's session reference (job_free). */
void gj__session_unref(gj_session *s);

/* client.c */
/* The target named `name` (NULL: "default", or the only one), or NULL. */
gj_target *gj__client_target(gj_client *c, const char *name);
/* A new job for t in the registry: queued (INQUEUE, to be pushed), or
 * running on the calling thread.  refs as in gj__job_init. */
int gj__client_register_job(gj_client *c, gj_target *t, gj_request *req,
                            const gj_submit_options *opts, unsigned refs, bool running,
                            gj_job **out, gj_error *err);
/* The same for a session's job: queued (runnable) or waiting behind an
 * earlier job (INSESSION); job->session is set (a reference taken) before
 * the job can be found by id. */
int gj__client_register_session_job(gj_client *c, gj_target *t, gj_session *s, gj_request *req,
                                    const gj_submit_options *opts, unsigned refs, bool waiting,
                                    gj_job **out, gj_error *err);

/* For tests: a client with extra backends (e.g. the test backend) besides the
 * built-in ones. */
int gj__client_new_with_backends(gj_client **out, const gj_config *cfg,
                                 const gj_backend *const *extra, size_t n_extra,
                                 gj_error *err);

#endif
