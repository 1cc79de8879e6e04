/*
 * The connection manager: one pool per target (all of its hosts).
 * lib/core/pool.c.  Never installed.
 *
 * Threading: every function may be called from any thread concurrently,
 * except gj__pool_free (once, when no acquire/release can happen any more).
 */
#ifndef GJ_CORE_POOL_H
#define GJ_CORE_POOL_H

#include "../backend/backend.h"

typedef struct gj_pool gj_pool;

/* A pool over ts->hosts using `backend`.  The settings are copied.  Starts
 * no thread; min_conns are opened by gj__pool_fill(). */
int gj__pool_new(gj_pool **out, const gj_backend *backend, const gj_target_settings *ts,
                 const gj_logger *log, gj_error *err);

/* Close idle connections, wake every waiter with GJ_ESHUTDOWN, wait for
 * leased connections to come back (the caller has interrupted their jobs),
 * close everything and free. */
void gj__pool_free(gj_pool *p);

/* Make every later acquire fail with GJ_ESHUTDOWN, wake the waiters, end
 * the connects under way and interrupt every connection in use. */
void gj__pool_shutdown(gj_pool *p);

/* Discovery: when the backend has discover() and the target's options say
 * discover: true (a bool, 1, or "true"/"1"/"yes"/"on"), the pool asks the
 * server behind the first connection it opens for the members of its
 * cluster, then again every options.discover_interval ms (an int, default
 * 60000) on a connection it opens or hands out, and at once when every
 * discovered host is down.  New connections go round robin over the
 * discovered hosts; the configured hosts that discovery did not list are
 * used only when every discovered host is down.  A backend answer of
 * GJ_EUNSUPPORTED (a single server) keeps the configured hosts for good.
 * Each outcome is logged (info; a failure: warn).  The discovery call is
 * made by the caller that opened or is being handed the connection, within
 * its deadline. */

/* Get a connection before deadline_ms (gj__now_ms clock; the deadline
 * covers waiting for a free slot, connect, TLS, handshake and auth, and the
 * liveness check).  Hosts are tried round robin; a host that fails to connect
 * is marked down and skipped until its backoff expires (then tried again; the
 * backoff doubles up to 60 s and resets on success).  Waiters are served in
 * arrival order.  On timeout: GJ_ETIMEDOUT "timed out after N ms waiting for a
 * connection to host:port (max_conns M, all in use)".  */
/* For a backend with max_inflight > 1 one connection is handed to up to
 * min(backend max_inflight, max_times_acquired, max_inflight) callers at
 * once; a new connection is opened only when every open one is that busy. */
int gj__pool_acquire(gj_pool *p, int64_t deadline_ms, gj_conn **out, gj_error *err);

/* The same for a caller that may give up: when abort fires (checked on
 * every pass, and the wait is woken by gj__pool_wake), returns its code
 * (GJ_ECANCELLED) at once; a connect under way for this caller ends as well
 * (it watches the abort's fd).  Connect failures: without connect_retry the
 * caller fails as soon as every host it could try has failed (its own
 * attempts, or attempts made while it waited); with connect_retry it keeps
 * trying, with the hosts' backoff, for that long. */
int gj__pool_acquire_for(gj_pool *p, int64_t deadline_ms, const gj_abort *abort, gj_conn **out,
                         gj_error *err);

/* Without waiting: a connection already open and idle (after its liveness
 * check when one is due), or room on a shared one; GJ_EBUSY when none, or
 * when callers are waiting in gj__pool_acquire (never ahead of them).
 * Opens nothing.  For the caller-runs fast path. */
int gj__pool_try_acquire(gj_pool *p, gj_conn **out);

/* A caller waiting in gj__pool_acquire_for may have been aborted: wake
 * every waiter to look at its abort, and interrupt a liveness check made
 * for one whose abort fired.  Any thread; does not block beyond the pool's
 * lock. */
void gj__pool_wake(gj_pool *p);

/* Give a connection back.  It is closed instead of kept when the backend
 * says it is not usable, when max_lifetime is reached,
 * or when the pool is shutting down. */
void gj__pool_release(gj_pool *p, gj_conn *c);

/* Open connections until min_conns are open (blocking; for a background
 * thread or the first acquire).  Returns 0 or the last connect error. */
int gj__pool_fill(gj_pool *p, gj_error *err);

/* Close connections idle longer than idle_timeout or older than
 * max_lifetime (called periodically by the client's housekeeping). */
void gj__pool_reap(gj_pool *p);

typedef struct gj_pool_stats {
    unsigned open;       /* connections open (idle + leased) */
    unsigned idle;
    unsigned leased;
    unsigned waiting;    /* threads waiting in acquire */
    unsigned hosts_down;
    uint64_t created;    /* connections opened over the pool's life */
    uint64_t closed;
    uint64_t connect_failures;
} gj_pool_stats;
void gj__pool_stats(gj_pool *p, gj_pool_stats *out);

#endif
