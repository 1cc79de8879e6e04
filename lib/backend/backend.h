/*
 * The backend interface: a table of blocking operations.  A backend is one
 * folder under lib/backend/ and one line in lib/backend/registry.c.
 * Never installed.
 */
#ifndef GJ_BACKEND_H
#define GJ_BACKEND_H

#include "../core/abort.h"
#include "../config/settings.h"
#include "../core/sink.h"
#include "../core/async.h"

typedef struct gj_conn gj_conn;   /* defined by each backend */

/* How long settle() may take after a job (the executor's deadline). */
#define GJ__SETTLE_MS 1000

typedef struct gj_endpoint {
    const char *host;
    int port;                     /* resolved: never 0 */
    size_t host_index;            /* index into the target's hosts */
    void *target_ctx;             /* what target_open made, or NULL */
} gj_endpoint;

typedef struct gj_backend {
    const char *name;                   /* "bolt", "gremlin", "arango", "graphql" */
    const char *const *schemes;         /* URL schemes it serves, NULL-terminated */
    int default_port;

    /* Open a connection, with name resolution, TLS, handshake and
     * authentication, before deadline_ms (gj__now_ms clock), giving up at
     * once when abort fires (a cancelled job, the pool shutting down: return
     * gj__abort_check's code; abort may be NULL and is only valid during the
     * call).  On failure returns the code and fills err naming the endpoint.
     * Final failures (GJ_EAUTH, GJ_ETLS, GJ_EPROTOCOL, GJ_ETOOBIG, ...) are
     * not retried by the pool. */
    int (*connect)(gj_conn **out, const gj_endpoint *ep, const gj_target_settings *ts,
                   const gj_logger *log, const gj_abort *abort, int64_t deadline_ms,
                   gj_error *err);

    /* Run one request, blocking, feeding the sink.  Returns 0, or an error
     * code with err filled (GJ_ESERVER with the server identity ...).
     * GJ_ECANCELLED when interrupt() took effect.  The request's deadline is
     * gj__sink_deadline(sink), for the whole request: every loop that reads
     * from the server looks at it and at the interrupt on every pass.  Rows
     * collected into the sink are counted against max_result_size
     * (gj__sink_row_sized): past it, stop the server's work and return
     * GJ_ETOOBIG.  execute() returns as soon as the outcome is known; what
     * the server still owes (the answer to a RESET, a cursor to delete) is
     * left to settle(). */
    int (*execute)(gj_conn *c, const gj_request *req, gj_sink *sink, gj_error *err);

    /* After execute() returned and its job was finished: bring c back to a
     * reusable state (read what an interrupted request left, delete a
     * server-side cursor) before deadline_ms.  An interrupt() meanwhile (the
     * pool shutting down) ends it at once.  usable() says the outcome.  Only
     * the thread that ran execute() calls it.  May be NULL (nothing is ever
     * left over). */
    void (*settle)(gj_conn *c, int64_t deadline_ms);

    /* From another thread: make a running execute() on c return soon with
     * GJ_ECANCELLED.  It records the interrupt on c and wakes any blocking
     * call; it may arrive just before execute() starts (execute honours a
     * recorded interrupt at its first blocking point) or just after it
     * returned.  execute() consumes the record when it honours it; while a
     * record is pending and unconsumed, usable() must return false (the
     * connection's state is then unknown and it is closed, not reused).
     * The pool also calls it, under its lock, on every connection in use
     * when it shuts down (a settle() or ping() under way must end).  Must
     * not block.  May be NULL (the job then runs to completion). */
    void (*interrupt)(gj_conn *c);

    /* For a backend with max_inflight > 1, whose interrupt() ends only the
     * requests whose jobs asked to be cancelled (gj__sink_cancel_requested),
     * since one connection carries other jobs' requests too: end every
     * request, settle and ping on c at once (the pool shutting down), and
     * leave c unusable.  Must not block.  NULL: the pool calls interrupt(). */
    void (*shutdown)(gj_conn *c);

    /* After execute() (or a failed ping): may c be reused?  False after any
     * I/O failure or protocol error mid-request.  For a backend with
     * max_inflight > 1 the pool also asks it, under its lock, before it
     * shares a connection in use with one more caller: it must then be
     * quick and must not block. */
    bool (*usable)(gj_conn *c);

    /* Liveness check before reuse; 0 = alive.  interrupt() ends it (the
     * pool shutting down, a cancelled job): not alive.  May be NULL (always
     * alive). */
    int (*ping)(gj_conn *c, int64_t deadline_ms);

    void (*close)(gj_conn *c);

    /* >1 where one connection multiplexes requests (execute is then called
     * concurrently on the same connection, up to min(this, max_inflight)). */
    unsigned max_inflight;

    /* Asynchronous requests (optional, for backends with max_inflight > 1;
     * lib/core/async.h).  A worker calls start() for a job that has no row
     * callback and no session, instead of execute(): start sends the
     * request and returns at once; the worker goes on with other jobs while
     * the request is in flight, and the connection stays leased to it.  The
     * backend fills gj__async_sink(a) from any one thread at a time (its I/O
     * thread) and ends the request with gj__async_done(a, rc) exactly once
     * (rc 0, or an error code with gj__async_error(a) filled) — possibly
     * before start() returns; the job is finished on the client's
     * completion thread.  start() returns 0 when the request is in flight
     * (or already done), else an error code with err filled, and then never
     * calls gj__async_done.  A cancel reaches the request through
     * interrupt() (the job's cancel flag is the sink's); start() looks at it
     * after registering the request, so that an interrupt() that came first
     * is not lost.  abandon() ends a started request that is still in
     * flight with `code` (GJ_ETIMEDOUT at its deadline, GJ_ECANCELLED when
     * the client shuts down) through gj__async_done; when it has ended
     * already it does nothing.  Must not block.  There is no settle() after
     * an asynchronous request: what the server still sends for it is the
     * backend's to drop.  The caller-runs path and sessions use execute(). */
    int (*start)(gj_conn *c, const gj_request *req, gj_async *a, gj_error *err);
    void (*abandon)(gj_conn *c, gj_async *a, int code);

    /* Per-target shared state (optional): made by the pool when it is
     * created (any thread, before any connect), handed to every connect()
     * as ep->target_ctx, and freed by target_close after the pool's last
     * connection was closed.  For what the target's connections share (the
     * WebSocket service thread of Gremlin).  A failure fails the client's
     * creation. */
    int (*target_open)(void **ctx, const gj_target_settings *ts, const gj_logger *log,
                       gj_error *err);
    void (*target_close)(void *ctx);

    /* Sessions (optional; NULL: gj_client_open_session answers
     * GJ_EUNSUPPORTED).  session_check validates a session's options when
     * it is opened (no I/O, any thread).  session_open begins the session on
     * c, the connection it pinned, before its first job (*state: the
     * backend's, handed to execute() through gj__sink_session).  session_close
     * ends it (close the server session, roll back) before deadline_ms and
     * frees state; c may then be unusable (the pool closes it).  Both run on
     * the thread that runs the session's job or closes the session, with c
     * leased to the session, never concurrently for one session. */
    int (*session_check)(const gj_value *options, gj_error *err);
    int (*session_open)(gj_conn *c, const gj_value *options, void **state, int64_t deadline_ms,
                        gj_error *err);
    void (*session_close)(gj_conn *c, void *state, int64_t deadline_ms, gj_error *err);

    /* Cluster discovery, for a target whose options say discover: true
     * (lib/core/pool.c calls it on a connection it just opened, before
     * handing it out, and again at an interval): the endpoints of every
     * member of the cluster the server behind c belongs to, before
     * deadline_ms.  On success *out holds *n_out hosts (ports resolved; the
     * array and each host name malloc'd, freed by the caller with free()).
     * GJ_EUNSUPPORTED when the server is not part of a cluster (a single
     * server): the pool then keeps its configured hosts.  Any other error:
     * the pool keeps what it has and asks again later.  May be NULL: the
     * backend has no discovery (the option is then ignored by the pool). */
    int (*discover)(gj_conn *c, int64_t deadline_ms, gj_host **out, size_t *n_out,
                    gj_error *err);
} gj_backend;

/* The built-in backends (lib/backend/registry.c).  NULL when unknown. */
const gj_backend *gj__backend_by_name(const char *name);
const gj_backend *gj__backend_by_scheme(const char *scheme);

#endif
