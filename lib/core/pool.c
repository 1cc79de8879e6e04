/*
 * The connection manager: one pool per target, over all of its hosts.
 * The contract is in pool.h.
 *
 * Locking.  One mutex per pool guards everything in struct gj_pool.  The
 * backend (connect, ping, close) and the log callback are never called with
 * it held: the work is booked under the lock (a slot reserved as CONNECTING,
 * an idle connection leased for its ping, a slot marked CLOSING), the call
 * runs unlocked, and its outcome is booked under the lock again.
 *
 * Slots.  max_conns slots are allocated with the pool; a slot is FREE (on the
 * free list), CONNECTING, OPEN (idle when users == 0, on the LIFO idle list;
 * leased otherwise) or CLOSING.  Nothing is allocated per acquire except a
 * gj_error when a new connection is opened.
 *
 * Waiters.  Every acquire takes a ticket and sits in a queue sorted by ticket;
 * only the head of the queue may take a connection, so callers are served in
 * arrival order.  Each waiter sleeps on its own condition variable (on its
 * stack) and is woken only when it is the head and something may be
 * available: a released or idle connection, a free slot, room on a shared
 * connection.  A caller that leaves the queue (served, timed out, failed)
 * wakes the next head when something is available, so no wake-up is lost.
 * A caller whose connect or liveness check failed goes back into the queue at
 * its ticket's place.
 *
 * Aborts.  A caller waiting in acquire gives up when its abort fires (its
 * job was cancelled: gj__pool_wake wakes every waiter to look, and
 * interrupts a liveness check made for an aborted caller); a connect is
 * given the caller's abort joined with the pool's stop flag and stop fd, so
 * a cancel or a shutdown ends it at once.  Shutdown also interrupts every
 * connection in use (backend interrupt()), so a request, a settle or a ping
 * that the server drags out cannot hold gj__pool_free.
 *
 * Failing fast.  A host whose connect failed is marked down and skipped
 * while its backoff lasts.  Without connect_retry, a caller that finds
 * every host down probes one at once itself (one probe per host at a time;
 * others wait for its outcome), and fails with the reason as soon as a
 * connect it made, or one made while it waited, has failed and no host is
 * left to try: a refused port is reported in a millisecond, not after the
 * acquire timeout.  With connect_retry, it keeps trying (with the backoff)
 * for that long.  Some failures are final at once (auth, TLS, protocol, a
 * message too large).
 *
 * Discovery (the members of a cluster, asked of a connection): pool_discover.c.
 */
#include "core/pool_internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

/* ---- small helpers --------------------------------------------------------- */

void gj__pool_format_endpoint(char *buf, size_t cap, const char *host, int port)
{
    if (strchr(host, ':'))
        snprintf(buf, cap, "[%s]:%d", host, port);
    else
        snprintf(buf, cap, "%s:%d", host, port);
}

/* Append "host:port" of host h to a ", "-separated list in buf. */
void gj__pool_append_endpoint(const gj_pool *p, char *buf, size_t cap, size_t h)
{
    char one[300];
    gj__pool_format_endpoint(one, sizeof one, p->hosts[h].name, p->hosts[h].port);
    size_t len = strlen(buf);
    const char *sep = len ? ", " : "";
    if (len + strlen(sep) + strlen(one) + 4 >= cap) {
        if (len + 4 < cap && (len < 3 || strcmp(buf + len - 3, "...") != 0))
            snprintf(buf + len, cap - len, "%s...", sep);
        return;
    }
    snprintf(buf + len, cap - len, "%s%s", sep, one);
}

static int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

/* The deadline for one backend call (connect, ping) made at `now`. */
static int64_t call_deadline(const gj_pool *p, int64_t now, int64_t deadline)
{
    int64_t t = p->ts.connect_timeout_ms;
    if (t <= 0 || now > INT64_MAX - t)
        return deadline;
    return min64(deadline, now + t);
}

static bool past_lifetime(const gj_pool *p, const pool_slot *s, int64_t now)
{
    return p->ts.max_lifetime_ms > 0 && now - s->created_ms >= p->ts.max_lifetime_ms;
}

static bool past_idle_timeout(const gj_pool *p, const pool_slot *s, int64_t now)
{
    return p->ts.idle_timeout_ms > 0 && now - s->idle_since_ms >= p->ts.idle_timeout_ms;
}

static bool needs_ping(const gj_pool *p, const pool_slot *s, int64_t now)
{
    int64_t lc = p->ts.liveness_check_ms;
    if (!p->backend->ping || lc < 0)
        return false;
    return lc == 0 || now - s->idle_since_ms > lc;
}

static bool sharable(const gj_pool *p, const pool_slot *s)
{
    return s->state == SLOT_OPEN && s->users > 0 && s->users < p->share_limit && !s->retiring;
}

/* ---- the waiter queue (lock held) ------------------------------------------ */

static void queue_insert(gj_pool *p, pool_waiter *w)
{
    pool_waiter *after = p->q_tail;
    while (after && after->ticket > w->ticket)
        after = after->prev;
    w->prev = after;
    w->next = after ? after->next : p->q_head;
    if (w->next)
        w->next->prev = w;
    else
        p->q_tail = w;
    if (after)
        after->next = w;
    else
        p->q_head = w;
    w->queued = true;
    p->n_waiting++;
}

static void queue_remove(gj_pool *p, pool_waiter *w)
{
    if (w->prev)
        w->prev->next = w->next;
    else
        p->q_head = w->next;
    if (w->next)
        w->next->prev = w->prev;
    else
        p->q_tail = w->prev;
    w->prev = w->next = NULL;
    w->queued = false;
    p->n_waiting--;
}

static void wake(pool_waiter *w)
{
    w->signaled = true;
    if (w->cond_ready)
        pthread_cond_signal(&w->cond);
}

/* Could the head of the queue take something now? */
static bool can_serve(const gj_pool *p)
{
    if (p->n_idle > 0 || p->free_list)
        return true;
    if (p->share_limit > 1)
        for (unsigned i = 0; i < p->max_conns; i++)
            if (sharable(p, &p->slots[i]))
                return true;
    return false;
}

/* Wake the head of the queue when it could be served. */
void gj__pool_kick(gj_pool *p)
{
    if (p->q_head && !p->q_head->signaled && can_serve(p))
        wake(p->q_head);
}

static bool drained(const gj_pool *p)
{
    return p->n_busy == 0 && p->n_leased == 0 && p->n_connecting == 0 && p->n_closing == 0;
}

static void check_drained(gj_pool *p)
{
    if (p->shutdown && drained(p))
        pthread_cond_broadcast(&p->drained);
}

/* ---- hosts (lock held) ----------------------------------------------------- */


/* The next host to connect to among the active hosts (active) or the
 * inactive seeds (!active), round robin over those that are up or whose
 * backoff has expired (one probe at a time per down host).  NO_HOST when
 * none: *retry_at is then the earliest moment one may be tried again
 * (INT64_MAX when none will, and *probing tells whether a probe is under way
 * whose end will wake the queue). */
/* A caller's own list of hosts it tried (skipped when ignoring backoff). */
typedef struct tried_set {
    const size_t *h;
    size_t n;
} tried_set;

static bool in_set(const tried_set *t, size_t h)
{
    for (size_t i = 0; t && i < t->n; i++)
        if (t->h[i] == h)
            return true;
    return false;
}

static size_t pick_from(gj_pool *p, int64_t now, int64_t *retry_at, bool *probing, bool active,
                        const tried_set *ignore_backoff)
{
    for (size_t i = 0; i < p->n_hosts; i++) {
        size_t h = (p->next_host + i) % p->n_hosts;
        pool_host *host = &p->hosts[h];
        if (host->active != active || (!active && !host->seed))
            continue;
        if (ignore_backoff && in_set(ignore_backoff, h))
            continue;
        if (host->down) {
            if (host->probing) {
                *probing = true;
                continue;
            }
            if (host->retry_at_ms > now && !ignore_backoff) {
                *retry_at = min64(*retry_at, host->retry_at_ms);
                continue;
            }
            host->probing = true;
        }
        p->next_host = h + 1;   /* taken modulo n_hosts, which discovery may grow */
        return h;
    }
    return NO_HOST;
}

/* ignore_backoff (not NULL): down hosts are probed now, except those in it. */
static size_t pick_host(gj_pool *p, int64_t now, int64_t *retry_at, bool *probing,
                        const tried_set *ignore_backoff)
{
    *retry_at = INT64_MAX;
    *probing = false;
    size_t h = pick_from(p, now, retry_at, probing, true, ignore_backoff);
    if (h == NO_HOST && p->discovered) {
        /* Every discovered host is down: the seeds it did not list are
         * the fallback, and the next connection asks again. */
        h = pick_from(p, now, retry_at, probing, false, ignore_backoff);
        if (p->discover)
            p->next_discover_ms = 0;
    }
    return h;
}

/* Returns true when the host was down before. */
static bool host_up(gj_pool *p, size_t h)
{
    pool_host *host = &p->hosts[h];
    bool was_down = host->down;
    host->down = false;
    host->probing = false;
    host->backoff_ms = p->backoff_base_ms;
    return was_down;
}

/* Returns the delay before the next attempt. */
static int64_t host_down(gj_pool *p, size_t h, int64_t now, int code, const char *msg)
{
    pool_host *host = &p->hosts[h];
    int64_t delay = host->backoff_ms;
    host->down = true;
    host->probing = false;
    host->retry_at_ms = now + delay;
    host->backoff_ms = delay >= POOL_BACKOFF_MAX_MS / 2 ? POOL_BACKOFF_MAX_MS : delay * 2;
    p->connect_failures++;
    p->last_connect_code = code;
    snprintf(p->last_connect_msg, sizeof p->last_connect_msg, "%s", msg);
    return delay;
}

/* Unlocks to log a connect failure, relocks. */
static void log_host_down(gj_pool *p, size_t h, int64_t delay, const char *msg)
{
    if (!GJ__LOG_ON(&p->log, GJ_LOG_WARN))
        return;
    char ep[300];
    gj__pool_format_endpoint(ep, sizeof ep, p->hosts[h].name, p->hosts[h].port);
    pthread_mutex_unlock(&p->mu);
    gj__log(&p->log, GJ_LOG_WARN, "%s pool '%s': connect to %s failed (%s); host marked down, next attempt in %lld ms",
            p->backend->name, p->ts.name ? p->ts.name : "default", ep, msg, (long long)delay);
    pthread_mutex_lock(&p->mu);
}

/* ---- slots (lock held) ----------------------------------------------------- */

static void slot_to_free_list(gj_pool *p, pool_slot *s)
{
    s->conn = NULL;
    s->users = 0;
    s->retiring = false;
    s->state = SLOT_FREE;
    s->next = p->free_list;
    p->free_list = s;
}

static pool_slot *find_slot(gj_pool *p, const gj_conn *c)
{
    for (unsigned i = 0; i < p->max_conns; i++)
        if (p->slots[i].conn == c && p->slots[i].state == SLOT_OPEN)
            return &p->slots[i];
    return NULL;
}

/* Close an OPEN slot nobody uses (not on the idle list): unlocks for the
 * backend's close, relocks, frees the slot and wakes the queue. */
static void close_slot(gj_pool *p, pool_slot *s)
{
    gj_conn *c = s->conn;
    s->state = SLOT_CLOSING;
    p->n_open--;
    p->n_closing++;
    pthread_mutex_unlock(&p->mu);
    p->backend->close(c);
    pthread_mutex_lock(&p->mu);
    p->n_closing--;
    p->closed++;
    slot_to_free_list(p, s);
    gj__pool_kick(p);
    check_drained(p);
}

/* Close a batch of CLOSING slots linked through next (already counted in
 * n_closing and out of n_open).  Unlocks and relocks. */
static void close_batch(gj_pool *p, pool_slot *batch)
{
    if (!batch)
        return;
    pthread_mutex_unlock(&p->mu);
    for (pool_slot *s = batch; s; s = s->next)
        p->backend->close(s->conn);
    pthread_mutex_lock(&p->mu);
    while (batch) {
        pool_slot *next = batch->next;
        p->n_closing--;
        p->closed++;
        slot_to_free_list(p, batch);
        batch = next;
    }
    gj__pool_kick(p);
    check_drained(p);
}

static void push_idle(gj_pool *p, pool_slot *s, int64_t now)
{
    s->idle_since_ms = now;
    s->next = p->idle_list;
    p->idle_list = s;
    p->n_idle++;
}

/* ---- creation -------------------------------------------------------------- */

int gj__pool_new(gj_pool **out, const gj_backend *backend, const gj_target_settings *ts,
                 const gj_logger *log, gj_error *err)
{
    if (!out || !backend || !ts || !backend->connect || !backend->close)
        return gj__error_set(err, GJ_EINVAL, "gj__pool_new: out, backend (with connect and close) and settings are required");
    *out = NULL;
    const char *tname = ts->name ? ts->name : "default";
    if (ts->n_hosts == 0 || !ts->hosts)
        return gj__error_set(err, GJ_EINVAL, "target '%s': no hosts to connect to", tname);
    if (ts->n_hosts > POOL_MAX_HOSTS)
        return gj__error_set(err, GJ_EINVAL, "target '%s': %zu hosts (at most %u)", tname, ts->n_hosts,
                             POOL_MAX_HOSTS);
    if (ts->max_conns == 0 || ts->max_conns > POOL_MAX_CONNS)
        return gj__error_set(err, GJ_EINVAL, "target '%s': max_conns %u out of range 1..%u", tname,
                             ts->max_conns, POOL_MAX_CONNS);
    for (size_t i = 0; i < ts->n_hosts; i++) {
        int port = ts->hosts[i].port ? ts->hosts[i].port : ts->port ? ts->port : backend->default_port;
        if (!ts->hosts[i].host || !ts->hosts[i].host[0])
            return gj__error_set(err, GJ_EINVAL, "target '%s': host %zu has no name", tname, i);
        if (port <= 0 || port > 65535)
            return gj__error_set(err, GJ_EINVAL, "target '%s': host %s has no valid port (%d)", tname,
                                 ts->hosts[i].host, port);
    }

    gj_pool *p = calloc(1, sizeof *p);
    if (!p)
        return gj__error_set(err, GJ_ENOMEM, "out of memory creating the pool for target '%s'", tname);
    int rc = gj__target_settings_copy(&p->ts, ts);
    if (rc < 0) {
        free(p);
        return gj__error_set(err, rc, "out of memory copying the settings of target '%s'", tname);
    }
    p->hosts = calloc(ts->n_hosts, sizeof *p->hosts);
    p->hosts_cap = ts->n_hosts;
    p->slots = calloc(ts->max_conns, sizeof *p->slots);
    p->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    atomic_init(&p->stopping, false);
    bool have_attr = false, have_mutex = false, have_cond = false;
    if (p->hosts && p->slots && p->stop_fd >= 0) {
        have_attr = pthread_condattr_init(&p->cond_attr) == 0;
        have_mutex = have_attr && pthread_condattr_setclock(&p->cond_attr, CLOCK_MONOTONIC) == 0 &&
                     pthread_mutex_init(&p->mu, NULL) == 0;
        have_cond = have_mutex && pthread_cond_init(&p->drained, NULL) == 0;
    }
    if (!have_cond) {
        if (have_mutex)
            pthread_mutex_destroy(&p->mu);
        if (have_attr)
            pthread_condattr_destroy(&p->cond_attr);
        if (p->stop_fd >= 0)
            close(p->stop_fd);
        free(p->hosts);
        free(p->slots);
        gj__target_settings_free(&p->ts);
        free(p);
        return gj__error_set(err, GJ_ENOMEM, "out of memory creating the pool for target '%s'", tname);
    }

    p->backend = backend;
    if (log)
        p->log = *log;
    p->max_conns = ts->max_conns;
    p->share_limit = 1;
    if (backend->max_inflight > 1) {
        unsigned lim = backend->max_inflight;
        if (ts->max_times_acquired < lim)
            lim = ts->max_times_acquired;
        if (ts->max_inflight < lim)
            lim = ts->max_inflight;
        p->share_limit = lim ? lim : 1;
    }
    p->backoff_base_ms = ts->host_backoff_ms;
    if (p->backoff_base_ms < 1)
        p->backoff_base_ms = 1;   /* a failing host is never hammered in a loop */
    if (p->backoff_base_ms > POOL_BACKOFF_MAX_MS)
        p->backoff_base_ms = POOL_BACKOFF_MAX_MS;

    p->n_hosts = p->ts.n_hosts;
    for (size_t i = 0; i < p->n_hosts; i++) {
        const gj_host *h = &p->ts.hosts[i];
        p->hosts[i].name = h->host;
        p->hosts[i].port = h->port ? h->port : p->ts.port ? p->ts.port : backend->default_port;
        p->hosts[i].backoff_ms = p->backoff_base_ms;
        p->hosts[i].seed = true;
        p->hosts[i].active = true;
        gj__pool_append_endpoint(p, p->names, sizeof p->names, i);
    }
    gj__pool_discovery_init(p);
    for (unsigned i = p->max_conns; i-- > 0;)
        slot_to_free_list(p, &p->slots[i]);
    if (backend->target_open && (rc = backend->target_open(&p->target_ctx, &p->ts, &p->log, err)) != 0) {
        p->target_ctx = NULL;   /* nothing to close */
        gj__pool_free(p);
        return rc;
    }
    *out = p;
    return 0;
}

/* ---- acquire --------------------------------------------------------------- */

typedef enum take_kind {
    TAKE_NONE,      /* everything in use: wait */
    TAKE_NO_HOST,   /* a slot is free but every host is down */
    TAKE_SHARED,    /* a connection in use with room for one more caller */
    TAKE_IDLE,      /* an idle connection, now leased (maybe to be pinged) */
    TAKE_EXPIRED,   /* an idle connection past its lifetime: close it */
    TAKE_CONNECT    /* a slot reserved for a new connection */
} take_kind;

static pool_slot *least_loaded_sharable(gj_pool *p, int64_t now)
{
    pool_slot *best = NULL;
    for (unsigned i = 0; i < p->max_conns; i++) {
        pool_slot *s = &p->slots[i];
        if (!sharable(p, s))
            continue;
        /* A shared connection that failed under another user (closed by
         * the server, a protocol error) is not handed out again: it goes
         * once its last user let go of it. */
        if (past_lifetime(p, s, now) || (p->backend->usable && !p->backend->usable(s->conn))) {
            s->retiring = true;
            continue;
        }
        if (!best || s->users < best->users)
            best = s;
    }
    return best;
}

static take_kind try_take(gj_pool *p, int64_t now, int64_t deadline, pool_slot **slot,
                          int64_t *retry_at, bool *probing, const tried_set *ignore_backoff)
{
    bool have_time = now < deadline;
    if (p->idle_list) {
        pool_slot *s = p->idle_list;
        bool expired = past_lifetime(p, s, now) || past_idle_timeout(p, s, now);
        if (expired || have_time || !needs_ping(p, s, now)) {
            p->idle_list = s->next;
            s->next = NULL;
            p->n_idle--;
            *slot = s;
            if (expired)
                return TAKE_EXPIRED;
            s->users = 1;
            p->n_leased++;
            return TAKE_IDLE;
        }
    }
    if (p->share_limit > 1) {
        pool_slot *s = least_loaded_sharable(p, now);
        if (s) {
            s->users++;
            *slot = s;
            return TAKE_SHARED;
        }
    }
    if (p->free_list && have_time) {
        size_t h = pick_host(p, now, retry_at, probing, ignore_backoff);
        if (h == NO_HOST)
            return TAKE_NO_HOST;
        pool_slot *s = p->free_list;
        p->free_list = s->next;
        s->next = NULL;
        s->state = SLOT_CONNECTING;
        s->host_index = h;
        p->n_connecting++;
        *slot = s;
        return TAKE_CONNECT;
    }
    return TAKE_NONE;
}

/* Unlocks while pinging.  Returns true when the connection is alive (and
 * still leased); otherwise it was closed. */
static bool ping_slot(gj_pool *p, pool_slot *s, int64_t now, int64_t deadline,
                      const gj_abort *abort)
{
    int64_t dl = call_deadline(p, now, deadline);
    s->ping_abort = abort;   /* gj__pool_wake interrupts the check once it fires */
    pthread_mutex_unlock(&p->mu);
    int rc = gj__abort_check(abort) ? GJ_ECANCELLED : p->backend->ping(s->conn, dl);
    pthread_mutex_lock(&p->mu);
    s->ping_abort = NULL;
    if (rc == 0)
        return true;
    s->users = 0;
    p->n_leased--;
    close_slot(p, s);
    return false;
}

/* connect_slot's result when not even the error object could be allocated. */
#define POOL_OUT_OF_MEMORY 1

/* Unlocks while connecting.  On success (0) the slot is OPEN, and leased by
 * the caller when `lease`; on failure it is free again, the host is marked
 * down and the error is in *errp (allocated here; the caller frees it).
 * POOL_OUT_OF_MEMORY: nothing was tried, the slot is free again. */
static int connect_slot(gj_pool *p, pool_slot *s, int64_t now, int64_t deadline, bool lease,
                        const gj_abort *caller, gj_error **errp, bool *recovered)
{
    size_t h = s->host_index;
    gj_endpoint ep = { p->hosts[h].name, p->hosts[h].port, h, p->target_ctx };
    int64_t dl = call_deadline(p, now, deadline);
    bool discover = gj__pool_discovery_turn(p, now, deadline);
    gj_conn *c = NULL;
    /* The caller's cancel and the pool's shutdown end the connect. */
    gj_abort abort = { caller ? caller->job_state : NULL, caller ? caller->job_mask : 0,
                       caller ? caller->job_fd : -1, (const bool *)&p->stopping, p->stop_fd };
    pthread_mutex_unlock(&p->mu);
    gj_error *e = gj_error_new();
    int rc;
    if (!e)
        rc = GJ_ENOMEM;
    else if ((rc = gj__abort_check(&abort)) != 0)
        gj__error_set(e, rc, "%s", gj__abort_reason(rc));
    else
        rc = p->backend->connect(&c, &ep, &p->ts, &p->log, &abort, dl, e);
    char name[300];
    gj__pool_format_endpoint(name, sizeof name, ep.host, ep.port);
    if (rc == 0 && !c)
        rc = gj__error_set(e, GJ_ECONNECT, "%s backend returned no connection for %s", p->backend->name, name);
    if (rc > 0)
        rc = GJ_ECONNECT;
    if (rc == 0 && discover) {
        discover = false;   /* the turn is given back there */
        gj__pool_discover_unlocked(p, c, name, call_deadline(p, gj__now_ms(), deadline));
    }
    int64_t after = gj__now_ms();
    pthread_mutex_lock(&p->mu);
    if (discover)
        p->discovering = false;
    p->n_connecting--;
    if (rc == 0) {
        *recovered = host_up(p, h) || *recovered;
        s->conn = c;
        s->state = SLOT_OPEN;
        s->created_ms = after;
        s->idle_since_ms = after;
        s->users = 0;
        p->n_open++;
        p->created++;
        if (lease) {
            s->users = 1;
            p->n_leased++;
        }
        gj_error_free(e);
        return 0;
    }
    if (!e) {
        p->hosts[h].probing = false;
        slot_to_free_list(p, s);
        gj__pool_kick(p);
        check_drained(p);
        return POOL_OUT_OF_MEMORY;
    }
    if (rc == GJ_ECANCELLED || rc == GJ_ESHUTDOWN) {
        /* Given up, not failed: the host is not marked down. */
        p->hosts[h].probing = false;
        slot_to_free_list(p, s);
        gj__pool_kick(p);
        check_drained(p);
        gj_error_free(*errp);
        *errp = e;
        return rc;
    }
    char msg[512];
    snprintf(msg, sizeof msg, "%s", gj_error_message(e)[0] ? gj_error_message(e) : gj_strerror(rc));
    int64_t delay = host_down(p, h, after, rc, msg);
    slot_to_free_list(p, s);
    gj__pool_kick(p);
    check_drained(p);
    log_host_down(p, h, delay, msg);
    if (gj_error_code(e) != rc)
        gj__error_set(e, rc, "%s", msg);
    gj_error_free(*errp);
    *errp = e;
    return rc;
}

static void log_recovered(gj_pool *p)
{
    gj__log(&p->log, GJ_LOG_INFO, "%s pool '%s': a host that was down accepts connections again",
            p->backend->name, p->ts.name ? p->ts.name : "default");
}

/* Fail an acquire that could not connect: this call's last connect error
 * prefixed with the hosts it tried, or (when it tried none itself) the pool's
 * last connect error.  Returns the code. */
static int fail_connect(gj_pool *p, gj_error *err, gj_error *last, const size_t *tried, size_t n_tried)
{
    if (!last)
        return gj__error_set(err, p->last_connect_code ? p->last_connect_code : GJ_ECONNECT,
                             "could not connect to %s: every host is down; last error: %s", p->names,
                             p->last_connect_msg);
    char names[POOL_NAMES_MAX] = "";
    for (size_t i = 0; i < n_tried; i++)
        gj__pool_append_endpoint(p, names, sizeof names, tried[i]);
    int rc = gj_error_code(last);
    gj__error_move(err, last);
    gj__error_prefix(err, "could not connect to %s", names);
    return rc;
}

/* Connect errors that another attempt within the same acquire cannot fix.
 * The host is still marked down (with its backoff), so other callers do not
 * hammer it either; this caller gets the answer at once. */
static bool definitive_connect_error(int code)
{
    return code == GJ_EAUTH || code == GJ_ETLS || code == GJ_EPROTOCOL || code == GJ_ETOOBIG ||
           code == GJ_EUNSUPPORTED || code == GJ_ECONFIG || code == GJ_EINVAL ||
           code == GJ_ECANCELLED || code == GJ_ESHUTDOWN;
}

int gj__pool_acquire(gj_pool *p, int64_t deadline_ms, gj_conn **out, gj_error *err)
{
    return gj__pool_acquire_for(p, deadline_ms, NULL, out, err);
}

int gj__pool_acquire_for(gj_pool *p, int64_t deadline_ms, const gj_abort *abort, gj_conn **out,
                         gj_error *err)
{
    if (!p || !out)
        return gj__error_set(err, GJ_EINVAL, "gj__pool_acquire: pool and out are required");
    *out = NULL;
    pool_waiter w;
    memset(&w, 0, sizeof w);
    gj_error *last = NULL;          /* this call's last connect error */
    size_t tried[POOL_TRIED_MAX];
    size_t n_tried = 0;
    bool recovered = false;
    int rc = 0;
    pool_slot *got = NULL;
    int64_t start = gj__now_ms();
    /* Connect attempts end here (the wait for a busy pool does not). */
    int64_t retry_deadline = p->ts.connect_retry_ms > 0
                                 ? min64(deadline_ms, start + p->ts.connect_retry_ms) : deadline_ms;

    pthread_mutex_lock(&p->mu);
    p->n_busy++;
    uint64_t failures_at_start = p->connect_failures;
    uint64_t own_failures = 0;
    bool final_probe = false;       /* connect_retry: the last attempt, at its end */
    w.ticket = p->next_ticket++;
    queue_insert(p, &w);
    for (;;) {
        if (p->shutdown) {
            rc = gj__error_set(err, GJ_ESHUTDOWN, "the connection pool for %s is shutting down", p->names);
            break;
        }
        int arc = gj__abort_check(abort);
        if (arc) {
            rc = gj__error_set(err, arc, "%s while waiting for a connection to %s",
                               gj__abort_reason(arc), p->names);
            break;
        }
        int64_t now = gj__now_ms();
        int64_t wake_at = deadline_ms;
        take_kind kind = TAKE_NONE;
        w.signaled = false;   /* whatever woke us is looked at now */
        if (p->q_head == &w) {
            pool_slot *s = NULL;
            int64_t retry_at = INT64_MAX;
            bool probing = false;
            kind = try_take(p, now, deadline_ms, &s, &retry_at, &probing, NULL);
            bool others_failed = p->connect_failures - failures_at_start > own_failures;
            if (kind == TAKE_NO_HOST && p->ts.connect_retry_ms > 0 && !probing && !final_probe &&
                now >= retry_deadline && retry_deadline < deadline_ms) {
                /* The retry window ends before any backoff does: one last
                 * attempt at its end. */
                final_probe = true;
                tried_set none = { NULL, 0 };
                kind = try_take(p, now, deadline_ms, &s, &retry_at, &probing, &none);
            }
            if (kind == TAKE_NO_HOST && p->ts.connect_retry_ms <= 0 && !probing &&
                !(others_failed && !last) && own_failures < p->n_hosts) {
                /* Every host is down and no retries were asked for: probe
                 * those this caller has not tried yet now, rather than fail
                 * on an old failure or wait out a backoff, so that a server
                 * that came back is used at once. */
                tried_set mine = { tried, n_tried };
                kind = try_take(p, now, deadline_ms, &s, &retry_at, &probing, &mine);
            }
            if (kind == TAKE_SHARED) {
                got = s;
                break;
            }
            if (kind == TAKE_EXPIRED) {
                close_slot(p, s);
                continue;
            }
            if (kind == TAKE_IDLE) {
                if (!needs_ping(p, s, now)) {
                    got = s;
                    break;
                }
                queue_remove(p, &w);
                gj__pool_kick(p);
                bool alive = ping_slot(p, s, now, deadline_ms, abort);
                if (alive && (p->shutdown || gj__abort_check(abort))) {
                    s->users = 0;
                    p->n_leased--;
                    push_idle(p, s, gj__now_ms());   /* alive: kept for others */
                    gj__pool_kick(p);
                    continue;   /* reports GJ_ESHUTDOWN or the abort */
                }
                if (alive) {
                    got = s;
                    break;
                }
                queue_insert(p, &w);
                continue;
            }
            if (kind == TAKE_CONNECT) {
                queue_remove(p, &w);
                gj__pool_kick(p);
                size_t h = s->host_index;
                int crc = connect_slot(p, s, now, deadline_ms, true, abort, &last, &recovered);
                if (crc == 0) {
                    if (p->shutdown) {
                        s->users = 0;
                        p->n_leased--;
                        close_slot(p, s);
                        continue;   /* reports GJ_ESHUTDOWN */
                    }
                    got = s;
                    gj__pool_kick(p);        /* room left on a shared connection */
                    break;
                }
                if (crc == POOL_OUT_OF_MEMORY) {
                    rc = gj__error_set(err, GJ_ENOMEM, "out of memory connecting to %s", p->names);
                    break;
                }
                if (crc == GJ_ECANCELLED || crc == GJ_ESHUTDOWN) {
                    rc = crc;
                    gj__error_move(err, last);
                    break;
                }
                own_failures++;
                bool seen = false;
                for (size_t i = 0; i < n_tried; i++)
                    seen = seen || tried[i] == h;
                if (!seen && n_tried < POOL_TRIED_MAX)
                    tried[n_tried++] = h;
                if (definitive_connect_error(crc)) {
                    /* Wrong credentials, a certificate that does not verify,
                     * a peer that speaks another protocol: trying again
                     * before the deadline would only hide the answer. */
                    rc = fail_connect(p, err, last, tried, n_tried);
                    break;
                }
                queue_insert(p, &w);
                continue;
            }
            if (kind == TAKE_NO_HOST) {
                if (p->ts.connect_retry_ms <= 0 && !probing) {
                    /* Every host refused (this caller's attempts, or one
                     * made while it waited) and no retries were asked for. */
                    rc = fail_connect(p, err, last, tried, n_tried);
                    break;
                }
                if (!probing && retry_at >= retry_deadline &&
                    (final_probe || now >= retry_deadline || retry_deadline >= deadline_ms)) {
                    /* No host can be tried again within the retry window. */
                    rc = fail_connect(p, err, last, tried, n_tried);
                    break;
                }
                wake_at = min64(deadline_ms, min64(retry_at, retry_deadline));
            }
        }
        if (now >= deadline_ms) {
            if (last || kind == TAKE_NO_HOST) {
                rc = fail_connect(p, err, last, tried, n_tried);
            } else {
                int64_t waited = deadline_ms - start;
                rc = gj__error_set(err, GJ_ETIMEDOUT,
                                   "timed out after %lld ms waiting for a connection to %s (max_conns %u, all in use)",
                                   (long long)(waited > 0 ? waited : 0), p->names, p->max_conns);
            }
            break;
        }
        /* Sleep until woken for our turn, the deadline, a host's backoff,
         * or gj__pool_wake (the abort may have fired). */
        if (!w.cond_ready) {
            if (pthread_cond_init(&w.cond, &p->cond_attr) != 0) {
                rc = gj__error_set(err, GJ_ENOMEM, "cannot create a condition variable to wait for %s", p->names);
                break;
            }
            w.cond_ready = true;
        }
        while (!w.signaled && !p->shutdown && !gj__abort_check(abort)) {
            if (wake_at == INT64_MAX) {
                pthread_cond_wait(&w.cond, &p->mu);
            } else {
                struct timespec tsp;
                gj__deadline_to_timespec(wake_at, &tsp);
                if (pthread_cond_timedwait(&w.cond, &p->mu, &tsp) != 0 && gj__now_ms() >= wake_at)
                    break;
            }
        }
    }
    if (w.queued) {
        bool was_head = p->q_head == &w;
        queue_remove(p, &w);
        if (was_head)
            gj__pool_kick(p);
    }
    gj_conn *conn = got ? got->conn : NULL;
    /* Time to ask the cluster again: on this connection, before handing it out. */
    char ep_name[300] = "";
    bool discover = conn && gj__pool_discovery_turn(p, gj__now_ms(), deadline_ms);
    if (discover)
        gj__pool_format_endpoint(ep_name, sizeof ep_name, p->hosts[got->host_index].name,
                        p->hosts[got->host_index].port);
    p->n_busy--;
    check_drained(p);
    pthread_mutex_unlock(&p->mu);
    if (discover)
        gj__pool_discover_unlocked(p, conn, ep_name, call_deadline(p, gj__now_ms(), deadline_ms));

    if (w.cond_ready)
        pthread_cond_destroy(&w.cond);
    gj_error_free(last);
    if (recovered && conn)
        log_recovered(p);
    if (conn) {
        *out = conn;
        return 0;
    }
    return rc < 0 ? rc : GJ_ECONNECT;
}

int gj__pool_try_acquire(gj_pool *p, gj_conn **out)
{
    *out = NULL;
    pthread_mutex_lock(&p->mu);
    /* Never ahead of a caller already waiting; discovery turns are the
     * blocking acquire's business. */
    if (p->shutdown || p->q_head || p->discover) {
        pthread_mutex_unlock(&p->mu);
        return GJ_EBUSY;
    }
    p->n_busy++;
    pool_slot *got = NULL;
    int64_t now = gj__now_ms();
    while (!got && p->idle_list && !p->shutdown) {
        pool_slot *s = p->idle_list;
        p->idle_list = s->next;
        s->next = NULL;
        p->n_idle--;
        if (past_lifetime(p, s, now) || past_idle_timeout(p, s, now)) {
            close_slot(p, s);
            continue;
        }
        s->users = 1;
        p->n_leased++;
        if (needs_ping(p, s, now) && !ping_slot(p, s, now, INT64_MAX, NULL))
            continue;   /* dead: closed */
        got = s;
    }
    if (!got && p->share_limit > 1 && !p->shutdown) {
        pool_slot *s = least_loaded_sharable(p, now);
        if (s) {
            s->users++;
            got = s;
        }
    }
    p->n_busy--;
    check_drained(p);
    pthread_mutex_unlock(&p->mu);
    if (!got)
        return GJ_EBUSY;
    *out = got->conn;
    return 0;
}

void gj__pool_wake(gj_pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    for (pool_waiter *w = p->q_head; w; w = w->next)
        wake(w);
    /* Waiters out of the queue for a liveness check: interrupt the check
     * when it is made for a caller that gave up. */
    for (unsigned i = 0; i < p->max_conns; i++) {
        pool_slot *s = &p->slots[i];
        if (s->ping_abort && gj__abort_check(s->ping_abort) && p->backend->interrupt)
            p->backend->interrupt(s->conn);
    }
    pthread_mutex_unlock(&p->mu);
}

/* ---- release, fill, reap --------------------------------------------------- */

void gj__pool_release(gj_pool *p, gj_conn *c)
{
    if (!p || !c)
        return;
    bool usable = p->backend->usable ? p->backend->usable(c) : true;
    pthread_mutex_lock(&p->mu);
    pool_slot *s = find_slot(p, c);
    if (!s || s->users == 0) {
        pthread_mutex_unlock(&p->mu);
        gj__log(&p->log, GJ_LOG_ERROR, "%s pool '%s': release of a connection the pool has not handed out",
                p->backend->name, p->ts.name ? p->ts.name : "default");
        return;
    }
    int64_t now = gj__now_ms();
    if (!usable || past_lifetime(p, s, now) || p->shutdown)
        s->retiring = true;
    s->users--;
    if (s->users > 0) {
        gj__pool_kick(p);
        pthread_mutex_unlock(&p->mu);
        return;
    }
    p->n_leased--;
    if (s->retiring)
        close_slot(p, s);   /* kicks and checks drained */
    else {
        push_idle(p, s, now);
        gj__pool_kick(p);
    }
    pthread_mutex_unlock(&p->mu);
}

int gj__pool_fill(gj_pool *p, gj_error *err)
{
    if (!p)
        return gj__error_set(err, GJ_EINVAL, "gj__pool_fill: pool is required");
    gj_error *last = NULL;
    bool recovered = false;
    int rc = 0;
    size_t failures = 0;
    pthread_mutex_lock(&p->mu);
    p->n_busy++;
    while (!p->shutdown && p->n_open + p->n_connecting < p->ts.min_conns && p->free_list &&
           failures < p->n_hosts) {
        int64_t now = gj__now_ms();
        int64_t retry_at;
        bool probing;
        size_t h = pick_host(p, now, &retry_at, &probing, NULL);
        if (h == NO_HOST) {
            if (!last)
                rc = gj__error_set(err, p->last_connect_code ? p->last_connect_code : GJ_ECONNECT,
                                   "could not connect to %s: every host is down; last error: %s", p->names,
                                   p->last_connect_msg);
            break;
        }
        pool_slot *s = p->free_list;
        p->free_list = s->next;
        s->next = NULL;
        s->state = SLOT_CONNECTING;
        s->host_index = h;
        p->n_connecting++;
        int crc = connect_slot(p, s, now, INT64_MAX, false, NULL, &last, &recovered);
        if (crc == 0) {
            if (p->shutdown) {
                close_slot(p, s);
                break;
            }
            push_idle(p, s, gj__now_ms());
            gj__pool_kick(p);
            continue;
        }
        if (crc == POOL_OUT_OF_MEMORY) {
            rc = gj__error_set(err, GJ_ENOMEM, "out of memory connecting to %s", p->names);
            break;
        }
        if (crc == GJ_ESHUTDOWN)
            break;
        failures++;
    }
    bool filled = p->n_open + p->n_connecting >= p->ts.min_conns || !p->free_list;
    if (!filled && p->shutdown && !last && rc == 0)
        rc = gj__error_set(err, GJ_ESHUTDOWN, "the connection pool for %s is shutting down", p->names);
    p->n_busy--;
    check_drained(p);
    pthread_mutex_unlock(&p->mu);
    if (recovered)
        log_recovered(p);
    if (last && !filled) {
        rc = gj_error_code(last);
        gj__error_move(err, last);
    }
    gj_error_free(last);
    return filled ? 0 : rc < 0 ? rc : GJ_ECONNECT;
}

void gj__pool_reap(gj_pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->n_busy++;
    int64_t now = gj__now_ms();
    pool_slot *batch = NULL;
    pool_slot **pp = &p->idle_list;
    while (*pp) {
        pool_slot *s = *pp;
        /* Past max_lifetime: always closed (gj__pool_fill reopens up to
         * min_conns).  Idle too long: closed down to min_conns. */
        bool close_it = past_lifetime(p, s, now) ||
                        (past_idle_timeout(p, s, now) && p->n_open > p->ts.min_conns);
        if (!close_it) {
            pp = &s->next;
            continue;
        }
        *pp = s->next;
        p->n_idle--;
        p->n_open--;
        p->n_closing++;
        s->state = SLOT_CLOSING;
        s->next = batch;
        batch = s;
    }
    close_batch(p, batch);
    p->n_busy--;
    check_drained(p);
    pthread_mutex_unlock(&p->mu);
}

/* ---- shutdown, free, stats ------------------------------------------------- */

void gj__pool_shutdown(gj_pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->shutdown = true;
    atomic_store(&p->stopping, true);
    uint64_t one = 1;
    if (write(p->stop_fd, &one, sizeof one) < 0) {
        /* cannot fail: written once */
    }
    for (pool_waiter *w = p->q_head; w; w = w->next)
        wake(w);
    /* Whatever runs on a connection in use ends now: a request whose job
     * was not cancelled (a detached one), a settle, a liveness check. */
    void (*stop)(gj_conn *) = p->backend->shutdown ? p->backend->shutdown : p->backend->interrupt;
    if (stop)
        for (unsigned i = 0; i < p->max_conns; i++)
            if (p->slots[i].state == SLOT_OPEN && p->slots[i].users > 0)
                stop(p->slots[i].conn);
    check_drained(p);
    pthread_mutex_unlock(&p->mu);
}

/* Take every idle connection off the idle list as a CLOSING batch. */
static pool_slot *take_all_idle(gj_pool *p)
{
    pool_slot *batch = p->idle_list;
    p->idle_list = NULL;
    for (pool_slot *s = batch; s; s = s->next) {
        s->state = SLOT_CLOSING;
        p->n_idle--;
        p->n_open--;
        p->n_closing++;
    }
    return batch;
}

void gj__pool_free(gj_pool *p)
{
    if (!p)
        return;
    gj__pool_shutdown(p);
    pthread_mutex_lock(&p->mu);
    close_batch(p, take_all_idle(p));
    while (!drained(p))
        pthread_cond_wait(&p->drained, &p->mu);
    /* Connections given back during the wait were closed by release. */
    close_batch(p, take_all_idle(p));
    pthread_mutex_unlock(&p->mu);

    if (p->backend && p->backend->target_close && p->target_ctx)
        p->backend->target_close(p->target_ctx);
    pthread_cond_destroy(&p->drained);
    pthread_mutex_destroy(&p->mu);
    pthread_condattr_destroy(&p->cond_attr);
    close(p->stop_fd);
    gj__target_settings_free(&p->ts);
    for (size_t i = 0; i < p->n_hosts; i++)
        free(p->hosts[i].owned);
    free(p->hosts);
    free(p->slots);
    free(p);
}

void gj__pool_stats(gj_pool *p, gj_pool_stats *out)
{
    if (!out)
        return;
    memset(out, 0, sizeof *out);
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    out->open = p->n_open;
    out->idle = p->n_idle;
    out->leased = p->n_leased;
    out->waiting = p->n_waiting;
    for (size_t i = 0; i < p->n_hosts; i++)
        out->hosts_down += p->hosts[i].down;
    out->created = p->created;
    out->closed = p->closed;
    out->connect_failures = p->connect_failures;
    pthread_mutex_unlock(&p->mu);
}
