/*
 * The ArangoDB backend's internal interface (lib/backend/arango).  Never
 * installed.  See arango.c for the operations and options it offers.
 *
 * A connection is one HTTP transport connection (lib/transport/http: a
 * libcurl easy handle driven by its own multi handle, so that interrupt()
 * can wake a blocked transfer), kept alive and reused for every request the
 * pool gives it.
 */
#ifndef GJ_BACKEND_ARANGO_INTERNAL_H
#define GJ_BACKEND_ARANGO_INTERNAL_H

#include "backend/backend.h"
#include "core/json_in.h"
#include "transport/http.h"

#include <json-c/json.h>
#include <stdio.h>

/* Longest collection name, key, database name or path piece we accept. */
#define GJ__ARANGO_MAX_NAME 4096
/* Depth of JSON documents we convert (json-c's tokener is bounded as well). */
#define GJ__ARANGO_MAX_DEPTH GJ__JSON_MAX_DEPTH
/* Most coordinators a connection knows (discover.c). */
#define GJ__ARANGO_MAX_PEERS 1024

typedef struct gj__arango_session gj__arango_session;   /* trx.c */

struct gj_conn {
    gj_http *http;               /* the transport */
    char *base_url;              /* "http://host:port" (IPv6 in brackets) */
    char *hostport;              /* "host:port" for messages */
    char *username, *password;   /* copies (JWT login); never logged */
    char *database;              /* target's database, or NULL (= _system) */
    bool use_jwt;                /* auth "jwt": POST /_open/auth, then a bearer token */
    int64_t connect_timeout_ms;
    const gj_logger *log;

    size_t last_body_len;        /* the last reply's size on the wire */
    json_tokener *tok;           /* kept for the next reply (conn.c parse_body) */

    /* Server-side async (x-arango-async: store) for the next call of an
     * operation (set by execute, taken by gj__arango_perform), and the id
     * of the server job it made. */
    bool async_store;
    bool async_detach;           /* with async_store: end at the 202 (option detach) */
    bool async_fire;             /* with async_store: send x-arango-async: true instead
                                  * (fire and forget; perform returns GJ__ARANGO_ACCEPTED) */
    char async_id[64];

    /* Target options async (default for requests without option async:
     * 0 none, 1 store, 2 fire and forget) and discover (arango.c). */
    int async_default;
    bool discover;
    /* The coordinators this connection may fail over to: the target's
     * hosts, or the last /_api/cluster/endpoints answer (discover.c). */
    gj_host *peers;
    size_t n_peers;
    int64_t peers_at_ms;         /* when fetched from the server; 0 = the target's */
    int64_t single_at_ms;        /* when the server said it is not a coordinator; 0 = never */

    bool broken;                 /* transport error or aborted transfer */

    /* Sessions (trx.c): the session this connection is leased to (its
     * stream transaction), or NULL; for the operation running now, the
     * session's transaction id that option trx defaults to (NULL: none),
     * and whether the operation sent it. */
    gj__arango_session *session;
    const char *session_trx;
    bool session_trx_used;

    /* Server-side work a cancelled request left behind, done by settle()
     * after the job ended (cancel returns at once). */
    struct {
        int kind;                /* GJ__ARANGO_CLEANUP_* */
        char db[GJ__ARANGO_MAX_NAME + 1];
        char id[64];             /* cursor or server job id */
        char *query;             /* KILL_QUERY: the text, to find it */
        gj_value *bind;          /* and its bind values (a reference) */
        double elapsed_s;        /* how long it had run when given up */
    } cleanup;
};

enum {
    GJ__ARANGO_CLEANUP_NONE = 0,
    GJ__ARANGO_CLEANUP_CURSOR,   /* DELETE /_api/cursor/{id} */
    GJ__ARANGO_CLEANUP_QUERY,    /* find the query in /_api/query/current, DELETE it */
    GJ__ARANGO_CLEANUP_JOB       /* cancel and delete server job {id} */
};

/* settle(): the recorded cleanup, before deadline_ms (cursor.c). */
void gj__arango_settle(gj_conn *c, int64_t deadline_ms);
/* Forget a recorded cleanup (close). */
void gj__arango_cleanup_clear(gj_conn *c);

/* One HTTP exchange. */
typedef struct gj__arango_call {
    const char *method;          /* "GET", "POST", "PUT", "PATCH", "DELETE" */
    const char *db;              /* database for /_db/{db}; NULL = no prefix */
    const char *path;            /* "/_api/..." with its query string, already escaped */
    const char *body;            /* NULL = no body */
    size_t body_len;
    const char *if_match;        /* NULL or a revision */
    const char *trx_id;          /* NULL or a stream transaction id */
    bool idempotent;             /* may be retried after a 503 */
    int64_t deadline_ms;         /* gj__now_ms clock; INT64_MAX = none */
    bool any_body;               /* a body that is not JSON is not an error (op http) */
} gj__arango_call;

typedef struct gj__arango_reply {
    long status;
    json_object *json;           /* parsed body, or NULL when empty / not JSON */
    char not_json[160];          /* a body that is not JSON: what it is and an excerpt */
} gj__arango_reply;

void gj__arango_reply_clear(gj__arango_reply *r);

/* The backend's table (arango.c). */
extern const gj_backend gj_arango_backend;

/* The transport's header hook: keeps x-arango-async-id in c->async_id. */
void gj__arango_on_header(void *payload, const char *line, size_t len);

/* Perform a call.  When c->async_store is set (it is cleared here), the call
 * is sent with x-arango-async: store, the server job is polled
 * (GET /_api/job/{id}, pausing up to 100 ms, interruptibly) and its stored
 * reply fetched (PUT /_api/job/{id}) as this call's reply; an interrupt or
 * timeout cancels and deletes the server job.  With c->async_detach as well
 * (cleared here too), a 202 returns GJ__ARANGO_DETACHED at once instead.
 * Returns 0 with the reply (any HTTP status), or
 * GJ_ECANCELLED (interrupt: the record is left set for the caller to consume),
 * GJ_ETIMEDOUT, GJ_EIO, GJ_ECONNECT, GJ_ETLS, GJ_ETOOBIG, GJ_EPROTOCOL
 * (the body is not JSON when it says so), GJ_ENOMEM; err names host:port.
 * With JWT auth, a 401 renews the token once and repeats the call.  A 503 is
 * retried (twice, with a short pause) when the call is idempotent. */
int gj__arango_perform(gj_conn *c, const gj__arango_call *call, gj__arango_reply *reply,
                       gj_error *err);

/* Returned by gj__arango_perform (and passed up unchanged by every
 * operation) when a detached server job was accepted: c->async_id holds its
 * id; execute() turns it into the result.  Never leaves the backend. */
#define GJ__ARANGO_DETACHED (-1000)
/* Returned by gj__arango_perform when a fire-and-forget call (c->async_fire)
 * was accepted with 202: no reply, no job id.  Never leaves the backend. */
#define GJ__ARANGO_ACCEPTED (-1001)

/* Wait for server job `id` (digits) on this connection: GET /_api/job/{id}
 * until 200, pausing 1 ms, 2 ms, ... up to 100 ms between polls (an
 * interrupt wakes it), then fetch the stored reply once with
 * PUT /_api/job/{id} into *reply (any HTTP status: a replayed error is the
 * caller's to report).  A 404 (while polling, or at the fetch without
 * x-arango-async-id) is GJ_ENOTFOUND "server job N not found".  Interrupt:
 * GJ_ECANCELLED with the record left set; deadline: GJ_ETIMEDOUT.  The
 * server job itself is left alone on every error. */
int gj__arango_job_await(gj_conn *c, const char *db, const char *id, int64_t deadline,
                         gj__arango_reply *reply, gj_error *err);

/* Cancel and delete server job id now, before deadline_ms (best effort). */
void gj__arango_drop_server_job(gj_conn *c, const char *db, const char *id, int64_t deadline_ms);
/* Record a cleanup for settle(); false when it cannot be recorded (then
 * the caller does it at once). */
bool gj__arango_defer_cleanup(gj_conn *c, int kind, const char *db, const char *id,
                              const gj_request *req, double elapsed_s);

/* JWT auth: POST /_open/auth with the target's credentials; keeps the token. */
int gj__arango_login(gj_conn *c, int64_t deadline_ms, gj_error *err);

/* The reply as an error when its status is >= 400: GJ_ESERVER (GJ_EAUTH for
 * 401) with errorNum, HTTP status, errorMessage and the body as extra.
 * Returns 0 for a success status. */
int gj__arango_reply_error(gj_conn *c, const gj__arango_reply *reply, const char *what,
                           gj_error *err);

/* Consume a pending interrupt; true when there was one. */
bool gj__arango_take_interrupt(gj_conn *c);

/* Percent-encode one path segment or query value (caller frees with free()). */
char *gj__arango_escape(gj_conn *c, const char *s);

/* Database for a request: the request's, the target's, or "_system". */
const char *gj__arango_database(gj_conn *c, const gj_request *req);

/* json-c -> gj_value.  GJ_EPROTOCOL for invalid UTF-8 or too deep. */
int gj__arango_json_to_value(const json_object *j, gj_value **out, gj_error *err);
/* gj_value -> JSON text (malloc'd, NUL-terminated). */
int gj__arango_value_to_text(const gj_value *v, char **out, size_t *len, gj_error *err);

/* The operations (cursor.c, ops.c).  Each returns 0 or an error code. */
int gj__arango_op_query(gj_conn *c, const gj_request *req, gj_sink *sink, int64_t deadline,
                        gj_error *err);
/* Feed a cursor reply (taken over: *first is cleared) to the sink and page
 * the rest with POST /_api/cursor/{id} on this connection; a stopping row
 * callback or an interrupt deletes the cursor. */
int gj__arango_cursor_drain(gj_conn *c, const char *db, const char *trx,
                            gj__arango_reply *first, gj_sink *sink, int64_t deadline,
                            gj_error *err);
/* Feed one cursor batch (a reply's parsed body: {result: [...], hasMore,
 * id, count, cached, extra}) to the sink: rows and metadata.  *more says
 * whether there is a next batch, and id (NUL-terminated, up to idcap bytes)
 * its cursor id (digits); *rows counts the rows given to the sink.
 * GJ_EPROTOCOL (c->broken set) for a body that is not a cursor batch,
 * GJ_EABORTED when the row callback stopped.  Reads c->hostport only (for
 * messages).  Used by gj__arango_cursor_drain, and by
 * tests/fuzz/arango_reply_fuzz.c on server bytes. */
int gj__arango_cursor_take_batch(gj_conn *c, json_object *batch, gj_sink *sink, bool *more,
                                 char *id, size_t idcap, size_t *rows, gj_error *err);
/* op job.attach | status | cancel | delete | list (jobs.c). */
int gj__arango_op_job(gj_conn *c, const gj_request *req, const char *verb, gj_sink *sink,
                      int64_t deadline, gj_error *err);
int gj__arango_op_document(gj_conn *c, const gj_request *req, const char *verb,
                           gj_sink *sink, int64_t deadline, gj_error *err);
int gj__arango_op_collection(gj_conn *c, const gj_request *req, const char *verb,
                             gj_sink *sink, int64_t deadline, gj_error *err);
int gj__arango_op_transaction(gj_conn *c, const gj_request *req, const char *verb,
                              gj_sink *sink, int64_t deadline, gj_error *err);
int gj__arango_op_version(gj_conn *c, const gj_request *req, gj_sink *sink, int64_t deadline,
                          gj_error *err);
int gj__arango_op_http(gj_conn *c, const gj_request *req, gj_sink *sink, int64_t deadline,
                       gj_error *err);

/* Stream transactions on sessions (trx.c): the backend's session_check,
 * session_open and session_close; session_op runs GJ_OP_BEGIN, GJ_OP_COMMIT,
 * GJ_OP_ABORT / GJ_OP_ROLLBACK (ss NULL outside a session: GJ_EINVAL);
 * session_prepare, before any other operation of a session's job, sets
 * c->session_trx when the session's transaction applies to op (GJ_ESTATE
 * when the server ended it, GJ_EINVAL for a request that cannot run in
 * it); session_after, once it ran, notes a transaction the server ended
 * (errorNum 1655 / 1653 for the transaction the operation sent, or the
 * outcome of transaction.commit / abort of it) and clears c->session_trx;
 * abort_lost (settle): a connection that broke inside the session's open
 * transaction (a cancel, a timeout, a failed transfer) aborts it now. */
bool gj__arango_is_session_op(const char *op);
int gj__arango_session_check(const gj_value *options, gj_error *err);
int gj__arango_session_open(gj_conn *c, const gj_value *options, void **state,
                            int64_t deadline_ms, gj_error *err);
void gj__arango_session_close(gj_conn *c, void *state, int64_t deadline_ms, gj_error *err);
int gj__arango_session_op(gj_conn *c, gj__arango_session *ss, const gj_request *req,
                          const char *op, gj_sink *sink, int64_t deadline, gj_error *err);
int gj__arango_session_prepare(gj_conn *c, gj__arango_session *ss,
                               const gj_request *req, const char *op, gj_error *err);
void gj__arango_session_after(gj_conn *c, gj__arango_session *ss,
                              const gj_request *req, const char *op, int rc,
                              const gj_error *err);
void gj__arango_session_abort_lost(gj_conn *c, int64_t deadline_ms);

/* Option trx, else the session's transaction (c->session_trx, noted in
 * c->session_trx_used).  As gj__arango_opt_string. */
int gj__arango_opt_trx(gj_conn *c, const gj_request *req, const char **out, gj_error *err);

/* Option helpers: the option's value when of the right type; GJ_EINVAL
 * naming the option otherwise.  Absent: 0 and *out untouched. */
int gj__arango_opt_bool(const gj_request *req, const char *key, bool *out, gj_error *err);
int gj__arango_opt_int(const gj_request *req, const char *key, int64_t *out, gj_error *err);
int gj__arango_opt_string(const gj_request *req, const char *key, const char **out,
                          gj_error *err);
/* Every option of req must be in the NULL-terminated list (GJ_EINVAL naming
 * the first that is not). */
int gj__arango_check_options(const gj_request *req, const char *op,
                             const char *const *known, gj_error *err);

/* Coordinators (discover.c).  peers_init: the target's hosts as c->peers;
 * refresh_peers: GET /_api/cluster/endpoints into c->peers (GJ_EUNSUPPORTED
 * from a single server); peers_free: release them.  discover: the backend's
 * discover() (a copy of c->peers, fetched unless fetched just now). */
int gj__arango_peers_init(gj_conn *c, const gj_target_settings *ts, int default_port);
int gj__arango_refresh_peers(gj_conn *c, int64_t deadline, gj_error *err);
void gj__arango_peers_free(gj_conn *c);
int gj__arango_discover(gj_conn *c, int64_t deadline_ms, gj_host **out, size_t *n_out,
                        gj_error *err);
/* gj__arango_perform, and when the connection failed (GJ_ECONNECT, GJ_EIO)
 * for an idempotent call not bound to its coordinator (no trx, not a
 * cursor, job or transaction path), the same call on each other coordinator
 * of c->peers in turn (c then points there and is not reused afterwards). */
int gj__arango_perform_failover(gj_conn *c, const gj__arango_call *call,
                                gj__arango_reply *reply, gj_error *err);

/* A reply's body as one row (the JSON converted); nothing when empty. */
int gj__arango_emit_body(gj_conn *c, const gj__arango_reply *reply, gj_sink *sink,
                         gj_error *err);

#endif
