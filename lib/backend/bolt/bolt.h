/*
 * The Bolt backend (Neo4j: Bolt 4.4, 5.0..5.8 and 6.0) — internal to lib/backend/bolt.
 *
 *   (lib/transport/tcp.c: TCP with a deadline, TLS, reads and writes that
 *   see an interrupt, an abort and the deadline on every pass)
 *   bolt_auth.c     credentials, their digest, LOGOFF + LOGON re-authentication
 *   bolt_session.c  handshake (manifest v1 + ranges), HELLO / LOGON, message
 *                   read/write helpers, ping, close, the vtable
 *   bolt_exec.c     execute (RUN + PULL, streaming, FAILURE -> RESET), interrupt
 *   bolt_route.c    neo4j:// routing: ROUTE, the routing table, one session
 *                   per cluster member, reads to readers and writes to writers
 *   bolt_tx.c       gj_session on Bolt: interactive transactions (begin /
 *                   commit / rollback across jobs), the session's causal
 *                   chain of bookmarks, the target's bookmark manager
 *
 * A connection is used by one thread at a time (the worker running a job),
 * except interrupt(), which may come from any thread: it only records the
 * interrupt on the transport and writes its wake eventfd; the executing
 * thread sends RESET itself and returns at once, leaving RESET's answer to
 * settle() (the connection is not usable until then).
 */
#ifndef GJ_BACKEND_BOLT_H
#define GJ_BACKEND_BOLT_H

#include "backend/backend.h"
#include "codec/bolt_msg.h"
#include "transport/tcp.h"

#include <pthread.h>
#include <stdatomic.h>

#define GJ_BOLT_DEFAULT_PORT 7687
#define GJ_BOLT_DEFAULT_FETCH 1000
#define GJ_BOLT_RECV_BUF 65536u
#define GJ_BOLT_MAX_PENDING 128u  /* requests in flight on one connection */
#define GJ_BOLT_MAX_TX_STATEMENTS 50u  /* statements in one "transaction" request */
/* How long an interrupted or failed request's RESET may take to be
 * answered in settle() before the connection is dropped instead. */
#define GJ_BOLT_SETTLE_MS 1000
/* A pending entry's flag: its records / fields / summary go to the sink. */
#define GJ_BOLT_DELIVER 0x80u

typedef struct gj_bolt_router gj_bolt_router;
typedef struct gj_bolt_target gj_bolt_target;
typedef struct gj_bolt_session gj_bolt_session;   /* a gj_session's state (bolt_tx.c) */

struct gj_conn {
    gj_bolt_router *router;          /* non-NULL: a routed (neo4j://) connection, none of the rest used */
    gj_bolt_target *target;          /* the target's shared state (bookmark manager), or NULL */
    gj_tcp tcp;                      /* the socket, TLS, the interrupt record and wake fd */
    unsigned connect_io;             /* flags of reads and writes while (re)connecting */
    bool connecting;                 /* in the handshake, HELLO or LOGON (for messages) */
    char endpoint[300];              /* "host:port" for messages */
    char *host;                      /* to reconnect to (a copy) */
    int port;
    char *routing_address;           /* HELLO's routing context (a routed member), or NULL */
    const gj_logger *log;            /* borrowed from the pool (lives longer) */

    gj_ps_config ps;                 /* negotiated version */
    char *server_agent;              /* HELLO SUCCESS "server" */
    char *connection_id;
    int64_t recv_timeout_hint_ms;    /* hints.connection.recv_timeout_seconds, 0 = none */
    bool telemetry;                  /* hints.telemetry.enabled (5.4+), not disabled by the target */
    size_t max_message_size;
    char *database;                  /* the target's database, or NULL */
    const gj_target_settings *ts;    /* the pool's copy (outlives the connection) */
    uint8_t auth_id[32];             /* who the connection is authenticated as (gj__bolt_auth_id) */
    uint8_t target_auth_id[32];      /* the target's credentials (what a request without its own uses) */
    bool wipe_wbuf;                  /* the send buffer holds credentials: wipe after the flush */

    /* Receive side. */
    uint8_t *rbuf;
    size_t rpos, rlen;
    gj_dechunker dechunker;
    /* Send side. */
    gj_ps_buf wbuf;

    /* Requests written whose summary (SUCCESS / FAILURE / IGNORED) has not
     * been read yet, oldest first: the tag, | GJ_BOLT_DELIVER. */
    uint8_t pending[GJ_BOLT_MAX_PENDING];
    unsigned n_pending;

    size_t last_msg_len;             /* bytes of the last message read */
    bool broken;                     /* I/O or protocol failure: not reusable */
    /* Set by execute(): the server had closed the connection while it was
     * pooled (nothing was sent); responses read for the request. */
    bool idle_closed;
    unsigned responses;
};

extern const gj_backend gj_bolt_backend;

/* ---- the transport (bolt_session.c, over lib/transport/tcp) ---- */

/* Write all of data before deadline_ms (INT64_MAX = none), see
 * gj__tcp_write.  Errors other than GJ_ECANCELLED mark c broken. */
int gj__bolt_sock_write(gj_conn *c, const uint8_t *data, size_t len, int64_t deadline_ms,
                        unsigned flags, gj_error *err);
/* Read at least one byte, see gj__tcp_read; errors other than
 * GJ_ECANCELLED mark c broken. */
int gj__bolt_sock_read(gj_conn *c, uint8_t *buf, size_t cap, size_t *got, int64_t deadline_ms,
                       unsigned flags, gj_error *err);

/* ---- bolt_auth.c ---- */

/* Credentials: scheme "none", "basic" (principal + credentials) or
 * "bearer" (credentials = the token).  Borrowed strings. */
typedef struct gj_bolt_auth {
    const char *scheme;              /* NULL: basic with a principal, else bearer with credentials, else none */
    const char *principal;
    const char *credentials;
} gj_bolt_auth;
#define GJ_BOLT_AUTH_ID_LEN 32

/* TELEMETRY api values (as the Neo4j drivers number them). */
#define GJ_BOLT_API_MANAGED_TX 0      /* a transaction function (retried): op "transaction" */
#define GJ_BOLT_API_EXPLICIT_TX 1     /* begin / commit by the caller */
#define GJ_BOLT_API_AUTO_COMMIT 2     /* op "query" */
#define GJ_BOLT_API_EXECUTE_QUERY 3   /* a driver-level execute_query */

/* Fill in the scheme's defaults and check it (GJ_ECONFIG naming it). */
int gj__bolt_auth_check(gj_bolt_auth *a, const char *endpoint, gj_error *err);
/* The target's: option auth_scheme, the URL's user name and password. */
int gj__bolt_auth_of_target(const gj_target_settings *ts, gj_bolt_auth *a, const char *endpoint, gj_error *err);
/* A digest identifying the credentials (compared, never logged). */
void gj__bolt_auth_id(const gj_bolt_auth *a, uint8_t id[GJ_BOLT_AUTH_ID_LEN]);
/* scheme / principal / credentials into map (HELLO up to 5.0, LOGON). */
int gj__bolt_auth_put(gj_value *map, const gj_bolt_auth *a, const char *endpoint, gj_error *err);
/* The credentials req runs with: its own (options auth_scheme, auth_user,
 * auth_password, auth_token), else the target's.  When c is authenticated as
 * someone else, LOGOFF + LOGON go into c->wbuf / c->pending (5.1+; before
 * that GJ_EUNSUPPORTED), c takes the new identity (the old one in prev_id,
 * for a caller that ends up not sending) and *queued is set.  A bad scheme
 * is GJ_EINVAL. */
int gj__bolt_queue_reauth(gj_conn *c, const gj_request *req, uint8_t prev_id[GJ_BOLT_AUTH_ID_LEN], bool *queued,
                          gj_error *err);

/* ---- bolt_session.c ---- */

/* Notification filter entries into map (HELLO, RUN, BEGIN extra) from the
 * options' values (NULL = not set): notifications_minimum_severity ("OFF",
 * "WARNING", "INFORMATION") and the disabled classifications (a list of
 * names or a string "A,B"), sent as notifications_disabled_categories on
 * 5.2-5.4 and notifications_disabled_classifications from 5.5.
 * GJ_EUNSUPPORTED before 5.2 (as the Neo4j drivers refuse), bad_code for a
 * bad value; `where` says whose option ("target option", "option"). */
int gj__bolt_put_notification_filter(gj_value *map, const gj_conn *c, const gj_value *severity,
                                     const gj_value *disabled, const char *where, int bad_code, gj_error *err);
/* options' notifications_disabled_classifications (or its alias
 * notifications_disabled_categories), or NULL. */
const gj_value *gj__bolt_disabled_classes(const gj_value *options);

/* One direct session (TCP, TLS, handshake, HELLO with the routing context
 * {address: routing_address} when not NULL, LOGON), giving up when abort
 * fires (may be NULL). */
int gj__bolt_session_open(gj_conn **out, const gj_endpoint *ep, const gj_target_settings *ts,
                          const gj_logger *log, const char *routing_address, const gj_abort *abort,
                          int64_t deadline_ms, gj_error *err);
int gj__bolt_session_ping(gj_conn *c, int64_t deadline_ms);
void gj__bolt_session_close(gj_conn *c);   /* GOODBYE when healthy, then free */
/* The same session again on a new socket (the server closed the old one
 * while it was idle): TCP, TLS, handshake, HELLO, LOGON as the target's
 * user.  The wake fd and a recorded interrupt are kept. */
int gj__bolt_session_reopen(gj_conn *c, int64_t deadline_ms, gj_error *err);

/* Send what is in c->wbuf (then empty it). */
int gj__bolt_flush(gj_conn *c, int64_t deadline_ms, gj_error *err);

/* Read the next message (NOOPs skipped) before deadline_ms.  GJ_ECANCELLED
 * when flags has GJ_TCP_INTERRUPTIBLE and an interrupt is recorded (nothing
 * consumed).  c->last_msg_len gets the message's size. */
int gj__bolt_read_msg(gj_conn *c, gj_bolt_msg *m, int64_t deadline_ms, unsigned flags,
                      gj_error *err);
/* The same, with the deadline computed by deadline_fn(arg) only when the
 * socket has to be read (a message already in the receive buffer costs no
 * clock read); deadline_ms is ignored when deadline_fn is set. */
int gj__bolt_read_msg_lazy(gj_conn *c, gj_bolt_msg *m, int64_t (*deadline_fn)(void *arg),
                           void *arg, int64_t deadline_ms, unsigned flags, gj_error *err);

/* Queue a request's tag as pending (GJ_EPROTOCOL when too many). */
int gj__bolt_push_pending(gj_conn *c, uint8_t tag, gj_error *err);
/* Pop the oldest pending request's tag (0 when none). */
uint8_t gj__bolt_pop_pending(gj_conn *c);

/* A FAILURE's metadata into err with `code` (GJ_ESERVER, GJ_EAUTH), naming
 * the endpoint. */
int gj__bolt_failure(gj_conn *c, const gj_value *meta, int code, gj_error *err);

/* Mark broken and prefix err with the endpoint; returns err's code. */
int gj__bolt_broken(gj_conn *c, int rc, gj_error *err);

/* Deadline for the next read of a request whose own deadline is
 * request_deadline: that, or sooner the server's recv timeout hint from now
 * (an idle timeout: the server promised to say something within it). */
int64_t gj__bolt_read_deadline(const gj_conn *c, int64_t request_deadline);

/* ---- bolt_extra.c: RUN's and BEGIN's extra from a request ---- */

typedef enum gj_bolt_extra_kind {
    GJ_BOLT_EXTRA_QUERY,      /* an auto-commit RUN (op "query") */
    GJ_BOLT_EXTRA_TX,         /* a managed transaction's BEGIN (op "transaction") */
    GJ_BOLT_EXTRA_BEGIN,      /* a session's BEGIN (op "begin") */
    GJ_BOLT_EXTRA_IN_TX       /* a RUN inside the session's open transaction: no extra */
} gj_bolt_extra_kind;

/* Build the extra map of RUN or BEGIN from req's options (and the session's
 * defaults: database, mode, imp_user, bookmarks; ss may be NULL): *out a new
 * map, *fetch PULL's n, *sent the bookmarks the extra carries (a new
 * reference or NULL).  GJ_EINVAL naming a bad or unknown option,
 * GJ_EUNSUPPORTED for a notification filter before 5.2. */
int gj__bolt_build_extra(gj_conn *c, const gj_request *req, gj_bolt_extra_kind kind, const gj_bolt_session *ss,
                         gj_value **out, int64_t *fetch, gj_value **sent, gj_error *err);

/* ---- bolt_exec.c ---- */
int gj__bolt_execute(gj_conn *c, const gj_request *req, gj_sink *sink, gj_error *err);
void gj__bolt_interrupt(gj_conn *c);
bool gj__bolt_usable(gj_conn *c);
/* Read what an interrupted or failed request left (records, IGNORED) up to
 * RESET's SUCCESS, before deadline_ms; a late interrupt (the pool shutting
 * down) ends it.  0 when the connection is READY again, else it is broken. */
int gj__bolt_settle(gj_conn *c, int64_t deadline_ms);

/* RESET and read every outstanding summary up to RESET's SUCCESS (used by
 * ping, and by a transaction before its retry).  0 when the connection is
 * back to READY.  An interrupt ends it (GJ_ECANCELLED, broken). */
int gj__bolt_reset(gj_conn *c, int64_t deadline_ms, gj_error *err);

/* ---- bolt_tx.c: sessions, interactive transactions, bookmarks ---- */

#define GJ_BOLT_OP_BEGIN "begin"
#define GJ_BOLT_OP_COMMIT "commit"
#define GJ_BOLT_OP_ROLLBACK "rollback"
#define GJ_BOLT_OP_TRANSACTION "transaction"
#define GJ_BOLT_MAX_BOOKMARKS 64u     /* kept by the manager and by a session */
#define GJ_BOLT_ADDR_MAX 300u

/* What the connections of one target share (target_open / target_close):
 * the bookmark manager (setting bookmark_manager).  Any thread. */
struct gj_bolt_target {
    pthread_mutex_t mu;
    bool manager;                    /* the bookmark manager is on for this target */
    gj_value *bookmarks;             /* list of strings (mu); NULL = none */
    /* Time zones read from the system's database (bolt_tz.c). */
    pthread_mutex_t tz_mu;
    struct gj_bolt_zone *zones;      /* immutable once listed (tz_mu guards the list) */
    size_t n_zones;
    char tzdir[512];                 /* $TZDIR, else /usr/share/zoneinfo */
};

/* ---- bolt_tz.c: zone ids from the system's time-zone database ---- */

/* The gj_ps_config.zone_offset resolver; arg is the gj_bolt_target. */
int gj__bolt_zone_offset(void *arg, const char *zone, int64_t seconds, bool local, int32_t *offset);
void gj__bolt_zones_free(gj_bolt_target *t);

/* A gj_session's state on Bolt (session_open's; used by the thread running
 * the session's job, one at a time). */
struct gj_bolt_session {
    char *database;                  /* session option "database", or NULL */
    char *imp_user;                  /* session option "imp_user", or NULL */
    bool read_mode;                  /* session option mode "r" */
    bool use_manager;                /* the target's bookmark manager applies */
    gj_value *bookmarks;             /* this session's causal chain: a list of strings, or NULL */
    uint64_t jobs;                   /* the session's jobs so far (1 = the first) */
    /* The interactive transaction. */
    bool in_tx;                      /* BEGIN answered SUCCESS; no COMMIT / ROLLBACK / RESET since */
    uint64_t tx_job;                 /* the job that began it */
    char *tx_db;                     /* its database ("" = the default), or NULL */
    gj_value *tx_sent;               /* the bookmarks BEGIN carried (the manager forgets them at commit) */
    bool tx_failed;                  /* it ended by a failure: jobs fail until begin or rollback */
    char why[600];                   /* ... saying this */
    /* neo4j://: the cluster member the session runs on ("" = not chosen yet). */
    char member[GJ_BOLT_ADDR_MAX];
};

int gj__bolt_target_open(void **ctx, const gj_target_settings *ts, const gj_logger *log, gj_error *err);
void gj__bolt_target_close(void *ctx);

int gj__bolt_session_check(const gj_value *options, gj_error *err);
int gj__bolt_session_begin(gj_conn *c, const gj_value *options, void **state, int64_t deadline_ms,
                           gj_error *err);
void gj__bolt_session_end(gj_conn *c, void *state, int64_t deadline_ms, gj_error *err);

/* The bookmarks a request runs after (a new list of distinct strings, or
 * NULL for none): its option "bookmarks" (checked by the caller), the
 * session's chain, and the target's manager when it applies. */
int gj__bolt_bookmarks_for(gj_conn *c, const gj_value *req_bookmarks, const gj_bolt_session *ss,
                           gj_value **out, gj_error *err);
/* A commit gave `bookmark` (a string value) after `sent`: the session's
 * chain becomes [bookmark], the manager forgets `sent` and keeps bookmark. */
void gj__bolt_bookmarks_committed(gj_conn *c, gj_bolt_session *ss, const gj_value *sent,
                                  const gj_value *bookmark);

/* May this job of the session run now (bolt_exec.c; called once per job,
 * before anything else)?  0, or GJ_ESTATE with err saying why (a begin
 * while a transaction is open, a commit without one, any job after the
 * transaction failed).  *done is set for a rollback that only acknowledges
 * a transaction the server rolled back already (nothing to send). */
int gj__bolt_session_gate(gj_conn *c, gj_bolt_session *ss, const char *op, bool *done, gj_error *err);

/* The session's open transaction ended: later jobs fail saying `fmt`. */
void gj__bolt_tx_lost(gj_bolt_session *ss, const char *fmt, ...) GJ__PRINTF(2, 3);

/* ---- bolt_route.c ---- */
int gj__bolt_router_open(gj_conn **out, const gj_endpoint *ep, const gj_target_settings *ts,
                         const gj_logger *log, const gj_abort *abort, int64_t deadline_ms, gj_error *err);
int gj__bolt_router_execute(gj_conn *c, const gj_request *req, gj_sink *sink, gj_error *err);
void gj__bolt_router_interrupt(gj_conn *c);
bool gj__bolt_router_usable(gj_conn *c);
int gj__bolt_router_ping(gj_conn *c, int64_t deadline_ms);
int gj__bolt_router_settle(gj_conn *c, int64_t deadline_ms);
void gj__bolt_router_close(gj_conn *c);
/* The open session to the member at addr, or NULL. */
gj_conn *gj__bolt_router_member(gj_conn *c, const char *addr);

#endif
