/*
 * The connection manager's data, shared by pool.c (slots, waiters, hosts,
 * acquire, release) and pool_discover.c (cluster discovery).  Never
 * installed.  Every field is guarded by gj_pool.mu (see pool.c's opening
 * comment) unless it says otherwise.
 */
#ifndef GJ_CORE_POOL_INTERNAL_H
#define GJ_CORE_POOL_INTERNAL_H

#include "core/pool.h"

#include <pthread.h>
#include <stdatomic.h>

#define NO_HOST ((size_t)-1)

#define POOL_MAX_CONNS 65536u      /* bound on the slot array */
#define POOL_MAX_HOSTS 1024u
#define POOL_BACKOFF_MAX_MS INT64_C(60000)
#define POOL_TRIED_MAX 8           /* hosts named in a connect failure */
#define POOL_NAMES_MAX 512         /* "host:port, host:port" for messages */

enum slot_state { SLOT_FREE, SLOT_CONNECTING, SLOT_OPEN, SLOT_CLOSING };

typedef struct pool_slot {
    gj_conn *conn;
    struct pool_slot *next;   /* free list, idle list or a batch being closed */
    int64_t created_ms;
    int64_t idle_since_ms;
    size_t host_index;
    unsigned users;           /* callers holding it; 0 = idle */
    unsigned char state;      /* enum slot_state */
    bool retiring;            /* close when the last user gives it back */
    const gj_abort *ping_abort; /* while its liveness check runs: the caller's abort */
} pool_slot;

typedef struct pool_host {
    const char *name;         /* a seed: borrowed from the settings copy; else == owned */
    char *owned;              /* a discovered host's name (freed with the pool) */
    int port;
    bool seed;                /* one of the target's hosts */
    bool active;              /* served round robin (else a seed kept as fallback) */
    bool down;                /* last connect failed, no success since */
    bool probing;             /* a connect to this down host is under way */
    int64_t retry_at_ms;      /* when down: not tried before this */
    int64_t backoff_ms;       /* delay to apply at the next failure */
} pool_host;

typedef struct pool_waiter {
    struct pool_waiter *prev, *next;
    uint64_t ticket;
    bool queued;
    bool signaled;
    bool cond_ready;
    pthread_cond_t cond;
} pool_waiter;

struct gj_pool {
    pthread_mutex_t mu;
    pthread_condattr_t cond_attr;   /* CLOCK_MONOTONIC, for the waiters */
    pthread_cond_t drained;         /* gj__pool_free waits on it */

    const gj_backend *backend;
    void *target_ctx;               /* backend->target_open's, or NULL */
    gj_target_settings ts;
    gj_logger log;
    unsigned max_conns;
    unsigned share_limit;           /* callers per connection at once */
    int64_t backoff_base_ms;

    pool_host *hosts;
    size_t n_hosts, hosts_cap;
    size_t next_host;               /* round robin start */

    /* Discovery (options discover: true, backend->discover set). */
    bool discover;
    bool discovering;               /* a discover call is under way */
    bool discovered;                /* the active hosts come from discovery */
    int64_t discover_interval_ms;
    int64_t next_discover_ms;       /* 0: at the next connect */
    char names[POOL_NAMES_MAX];     /* every endpoint, for messages */

    pool_slot *slots;
    pool_slot *free_list;
    pool_slot *idle_list;           /* LIFO: most recently used first */

    unsigned n_open, n_idle, n_leased, n_connecting, n_closing;
    unsigned n_busy;                /* calls that may unlock and relock */

    pool_waiter *q_head, *q_tail;
    unsigned n_waiting;
    uint64_t next_ticket;

    bool shutdown;
    atomic_bool stopping;           /* == shutdown, readable without the lock (aborts) */
    int stop_fd;                    /* eventfd written at shutdown, never drained */
    uint64_t created, closed, connect_failures;

    int last_connect_code;          /* for callers that did not try themselves */
    char last_connect_msg[512];
};

/* pool.c, for pool_discover.c (lock held unless said otherwise). */
/* "host:port" ("[v6]:port") into buf. */
void gj__pool_format_endpoint(char *buf, size_t cap, const char *host, int port);
/* Append "host:port" of host h to a ", "-separated list in buf. */
void gj__pool_append_endpoint(const gj_pool *p, char *buf, size_t cap, size_t h);
/* Wake the head of the waiter queue when it could be served. */
void gj__pool_kick(gj_pool *p);

/* pool_discover.c */
/* Read the target options discover and discover_interval (at creation). */
void gj__pool_discovery_init(gj_pool *p);
/* Under the lock: should a connection now be used to ask for the
 * cluster's members?  If so the turn is taken (discovering). */
bool gj__pool_discovery_turn(gj_pool *p, int64_t now, int64_t deadline);
/* Without the lock, by the holder of a discovery turn, on connection c to
 * ep ("host:port") that it holds: ask the backend, log, then book the
 * outcome under the lock and give the turn back. */
void gj__pool_discover_unlocked(gj_pool *p, gj_conn *c, const char *ep, int64_t deadline);

#endif
