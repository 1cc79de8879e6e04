/*
 * bolt-refserver: a strict Bolt 4.4 / 5.x / 6.0 server for tests (shared header).
 *
 *   main.c     options, listeners, accept loop, signals, shutdown
 *   conn.c     one thread per connection: handshake, TLS, I/O, framing,
 *              the message queue and RESET jumping it
 *   session.c  the server state machine and the message handlers
 *   cypher_parse.c, cypher.c, result.c, cypher.h
 *              the fixed query repertoire: grammar, evaluation, result streams
 *   store.c    the in-memory graph, transactions and bookmarks
 *   fault.c    fault injection
 *
 * Everything here serves tests on loopback; it is not part of the library.
 */
#ifndef BS_H
#define BS_H

#include <graphjob.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "codec/bolt_handshake.h"
#include "codec/bolt_msg.h"
#include "codec/chunk.h"
#include "codec/packstream.h"

#define BS_MAX_VERSIONS 16
#define BS_MAX_MEMBERS 8
#define BS_MAX_ADDRS 16
#define BS_MAX_FAULTS 16
#define BS_ADDR_MAX 128
#define BS_NAME_MAX 128
#define BS_MAX_EXTRA_USERS 8

/* ---- faults (fault.c) ------------------------------------------------------ */
typedef enum bs_fault_kind {
    BS_FAULT_CLOSE_MID_STREAM,  /* during a PULL, close after `after` records */
    BS_FAULT_STALL,             /* before answering `on`, stop for `secs` (0 = until closed) */
    BS_FAULT_GARBAGE,           /* answer `on` with bytes that are not Bolt */
    BS_FAULT_CLOSE,             /* close the connection on receiving `on` */
    BS_FAULT_REFUSE             /* answer `on` with FAILURE `code`/`message`, then close */
} bs_fault_kind;

typedef struct bs_fault {
    bs_fault_kind kind;
    uint8_t on;                 /* message tag (0 = any) */
    char query[BS_NAME_MAX];    /* only for statements whose text contains this ("" = any) */
    long after;                 /* records (close-mid-stream) or matching messages to let pass */
    long count;                 /* times it fires (-1 = unlimited) */
    double secs;                /* stall duration */
    char code[BS_NAME_MAX];     /* refuse: the FAILURE's code */
    char message[BS_NAME_MAX];  /* refuse: its message */
    int member;                 /* listener index (-1 = all) */
    atomic_long seen;           /* matching messages seen */
    atomic_long fired;
} bs_fault;

int bs_fault_parse(const char *spec, bs_fault *f, char *errbuf, size_t errlen);
/* The first fault of `kind` that fires for this message now (counts it), or NULL. */
bs_fault *bs_fault_take(bs_fault *faults, size_t n, bs_fault_kind kind, uint8_t tag,
                        const char *query, int member);

/* ---- store (store.c) -------------------------------------------------------- */
typedef struct bs_entity {
    int64_t id;
    bool is_rel;
    char **labels;              /* nodes: labels; rels: labels[0] = type */
    size_t n_labels;
    int64_t start, end;         /* rels */
    gj_value *props;            /* map */
    uint64_t created_by;        /* transaction that created it, 0 = committed */
    uint64_t deleted_by;        /* transaction that deleted it, 0 = alive */
} bs_entity;

typedef struct bs_store {
    pthread_mutex_t lock;
    bs_entity **items;
    size_t n, cap;
    int64_t next_id;
    uint64_t next_tx;           /* transaction ids */
    uint64_t last_commit;       /* bookmarks: "FB:refserver:<n>" */
} bs_store;

int bs_store_init(bs_store *s);
void bs_store_free(bs_store *s);
void bs_store_seed(bs_store *s);
uint64_t bs_store_begin(bs_store *s);
/* Commit / roll back what transaction tx did; returns the new bookmark number. */
uint64_t bs_store_commit(bs_store *s, uint64_t tx, bool wrote);
void bs_store_rollback(bs_store *s, uint64_t tx);
/* Bookmark text <-> number: 0 = ok, -1 = not one of ours. */
void bs_bookmark_text(uint64_t n, char *buf, size_t len);
int bs_bookmark_parse(const char *s, size_t len, uint64_t *n);
/* The value of an entity as seen by Bolt (node or relationship), new reference. */
gj_value *bs_entity_value(const bs_entity *e);
/* Visible to transaction tx (0 = auto-commit, sees committed state)? */
bool bs_entity_visible(const bs_entity *e, uint64_t tx);
const bs_entity *bs_store_get(const bs_store *s, int64_t id);
/* Add a node (labels) or a relationship (labels[0] = type, start, end) made
 * by transaction tx; props (a map) is taken over.  Caller holds the lock. */
bs_entity *bs_store_add(bs_store *s, bool is_rel, const char *const *labels, size_t n_labels,
                        int64_t start, int64_t end, gj_value *props, uint64_t tx);
/* Delete an entity in transaction tx.  Caller holds the lock. */
void bs_store_delete(bs_store *s, bs_entity *e, uint64_t tx);

/* ---- configuration (main.c) --------------------------------------------------- */
typedef struct bs_config {
    const char *host;
    int port;                         /* first listener's port (0 = any) */
    int members;                      /* listeners sharing one store */
    const char *user, *password;
    char extra_users[BS_MAX_EXTRA_USERS][2][BS_NAME_MAX];  /* --add-user U:P */
    size_t n_extra_users;
    bool no_auth;
    const char *bearer;               /* accepted bearer token, or NULL */
    gj_bolt_version versions[BS_MAX_VERSIONS];
    size_t n_versions;
    bool manifest;                    /* answer the manifest v1 handshake */
    char route[BS_MAX_ADDRS][BS_ADDR_MAX], read[BS_MAX_ADDRS][BS_ADDR_MAX], write[BS_MAX_ADDRS][BS_ADDR_MAX];
    size_t n_route, n_read, n_write;  /* explicit routing table ("self" = this listener) */
    bool explicit_routing;
    int64_t ttl;
    bool read_only;                   /* write queries fail (a follower) */
    const char *tls_cert, *tls_key;
    bs_fault faults[BS_MAX_FAULTS];
    size_t n_faults;
    size_t max_message_size;
    int recv_timeout_hint;            /* hints.connection.recv_timeout_seconds (0 = none) */
    bool telemetry_hint;
    const char *server_agent;
    bool verbose;
    bool seed;
    bool control;                     /* read commands on stdin (stop-member N, start-member N) */
    bool any_db;                      /* every database name exists (all share the one store) */
    bool no_utc_patch;                /* 4.4: refuse patch_bolt ["utc"] (legacy datetimes, as old 4.4 servers) */
} bs_config;

typedef struct bs_server {
    bs_config cfg;
    bs_store store;
    int listen_fd[BS_MAX_MEMBERS];
    int ports[BS_MAX_MEMBERS];
    void *tls_ctx;                    /* SSL_CTX * */
    atomic_long next_conn_id;
    atomic_int active;                /* open connections */
    atomic_bool stopping;
    pthread_mutex_t conns_lock;       /* registry of open sockets, for shutdown */
    struct bs_open_conn { int fd, member; } *conn_fds;
    size_t n_conn_fds, cap_conn_fds;
    pthread_mutex_t done_lock;
    pthread_cond_t done_cond;
} bs_server;

/* ---- connections (conn.c) ---------------------------------------------------------- */
typedef struct bs_conn bs_conn;

/* Does user exist (with this password, when password is not NULL)? */
bool bs_user_ok(const bs_config *cfg, const char *user, const char *password);

/* Start a thread serving fd (accepted on listener `member`).  Returns 0 or -1. */
int bs_conn_start(bs_server *srv, int fd, int member);
/* Shut down the open connections of one member (-1 = all). */
void bs_conn_shutdown_all(bs_server *srv, int member);
/* Write bytes (all of them); 0 or -1. */
int bs_conn_write(bs_conn *c, const void *data, size_t len);
/* Poll for input without blocking, queueing messages; returns true when a
 * RESET arrived (or the connection closed) and the running work must stop. */
bool bs_conn_interrupted(bs_conn *c);
/* Close the socket now (fault injection). */
void bs_conn_kill(bs_conn *c);
/* Sleep up to ms while watching for RESET / close; true = interrupted. */
bool bs_conn_sleep(bs_conn *c, long ms);

/* ---- session (session.c) ------------------------------------------------------------- */
typedef enum bs_state {
    BS_CONNECTED, BS_UNAUTHENTICATED, BS_READY, BS_STREAMING, BS_TX_READY, BS_TX_STREAMING,
    BS_FAILED, BS_DEFUNCT
} bs_state;

typedef struct bs_result bs_result;

typedef struct bs_session {
    bs_server *srv;
    bs_conn *conn;
    int member;
    long conn_id;
    gj_ps_config ps;                  /* negotiated version for the codec */
    bs_state state;
    char user[BS_NAME_MAX];
    char db[BS_NAME_MAX];             /* database of the current transaction or stream */
    uint64_t tx;                      /* explicit transaction id (0 = none) */
    bool tx_wrote;
    bool tx_read_mode;                /* BEGIN {mode: "r"} */
    uint64_t bookmark;                /* auto-commit: the bookmark of the streamed query */
    int64_t tx_timeout_ms;            /* tx_timeout of the transaction / auto-commit query (0 = none) */
    bool notifications_off;           /* HELLO's notification filter drops UNRECOGNIZED warnings */
    bool tx_notifications_off;        /* ... as overridden by BEGIN */
    bs_result *results[16];           /* open result streams (qid = index) */
    size_t n_results;
    int64_t last_qid;
    gj_ps_buf out;                    /* responses waiting to be flushed */
} bs_session;

void bs_session_init(bs_session *s, bs_server *srv, bs_conn *conn, int member, long conn_id);
void bs_session_free(bs_session *s);
/* Handle one request.  Returns 0, or -1 when the connection must close
 * (after flushing what was written). */
int bs_session_handle(bs_session *s, gj_bolt_msg *m, bool interrupted);
/* Queue one response / flush the queue. */
int bs_session_flush(bs_session *s);
/* A request that is not Bolt at all (decode error): FAILURE and close. */
void bs_session_protocol_error(bs_session *s, const char *why);

/* ---- queries (cypher.c) ---------------------------------------------------------------- */
typedef struct bs_query_ctx {
    bs_server *srv;
    bs_session *session;
    uint64_t tx;                      /* transaction the query runs in (0 = its own) */
    bool read_mode;                   /* access mode "r" */
    const gj_value *params;
} bs_query_ctx;

/* Failure of a query: a Neo4j code, a GQL status and a message. */
typedef struct bs_failure {
    const char *code;
    const char *gql;
    char message[512];
    const char *description;          /* 5.7+: the GQL status's description (NULL = the message) */
    const char *cause_gql;            /* 5.7+: one cause with this GQL status (NULL = none), */
    char cause_description[600];      /* ... and this description */
} bs_failure;

/* Parse and run a query: 0 with *out (fields + rows), or -1 with *fail. */
int bs_query_run(const bs_query_ctx *ctx, const char *text, size_t len, bs_result **out, bs_failure *fail);
/* The fields (list of strings; borrowed). */
const gj_value *bs_result_fields(const bs_result *r);
/* Next row (list; new reference) or NULL at the end. */
gj_value *bs_result_next(bs_result *r);
/* The next value of a lazy UNWIND range (a one-column row), without building
 * a value; false for other results or at the end. */
bool bs_result_next_int(bs_result *r, int64_t *out);
bool bs_result_done(const bs_result *r);
/* Drop the result's notifications (a notification filter asked for it). */
void bs_result_drop_notifications(bs_result *r);
/* Summary entries for the final SUCCESS (type, stats, plan/profile, ...):
 * put into map.  wrote = the query changed the store. */
void bs_result_summary(const bs_result *r, const gj_ps_config *ps, gj_value *map, bool *wrote);
/* A slow query: ms to sleep before the first record (0 = none). */
long bs_result_sleep_ms(const bs_result *r);
const char *bs_result_text(const bs_result *r);
void bs_result_free(bs_result *r);

/* ---- helpers ------------------------------------------------------------------------------ */
#define BS_LOG(srv, ...) do { if ((srv)->cfg.verbose) { fprintf(stderr, "bolt-refserver: " __VA_ARGS__); fputc('\n', stderr); } } while (0)

#endif
