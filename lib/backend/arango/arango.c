/*
 * The ArangoDB backend (name "arango"; schemes http, https, arangodb,
 * arangodb+http, arangodb+https; default port 8529).  libcurl + json-c.
 *
 * Connection: one HTTP transport connection (lib/transport/http: a curl easy
 * handle with HTTP keep-alive, TCP keepalive, CURLOPT_NOSIGNAL, driven
 * through its own multi handle so that a cancel wakes a blocked transfer at
 * once).  TLS
 * (https, arangodb+https) verifies the peer unless ssl_verify is false;
 * ssl_cafile, ssl_certfile, ssl_keyfile, ssl_password are honoured.
 * connect() sends GET /_api/version, so a wrong password fails there with
 * GJ_EAUTH (errorNum 11, HTTP 401).  Every path goes to /_db/{database}:
 * the request's database, else the target's, else _system.
 *
 * Target options (the `options:` map of a target):
 *   auth   "basic" (default: Basic auth with username/password on every
 *          request) or "jwt" (POST /_open/auth once, then "Authorization:
 *          bearer"; a 401 renews the token once and repeats the request)
 *   http2  true: offer HTTP/2 (ALPN over TLS; HTTP/1.1 otherwise)
 *   compressed  true: accept gzip / deflate replies
 *   unix_socket  a path: connect to that unix socket instead of host:port
 *   async  "store", true (fire and forget) or false: the async mode of
 *          requests without the request option async (not job.* ops)
 *   discover  true: the pool asks GET /_api/cluster/endpoints for the
 *          coordinators and serves them round robin (discover.c, pool.c);
 *          discover_interval (ms, default 60000): how often it asks again
 *
 * Operations (gj_request_new(&req, op, text)) and their request options:
 *   query        AQL in the text; params are bindVars (a param "@coll" is the
 *                collection bind parameter @@coll).  Options: batchSize, count,
 *                ttl, memoryLimit (ints/bools as ArangoDB), fullCount, stream,
 *                maxRuntime, allowRetry (into options{}), trx (stream
 *                transaction id).  Rows: one per result item, batches fetched
 *                with POST /_api/cursor/{id}.  Meta: count, cached, extra,
 *                stats, warnings.  A row callback that stops deletes the
 *                cursor (GJ_EABORTED).  Cancel aborts the transfer, kills the
 *                query (found in /_api/query/current by text and bind values)
 *                or deletes the cursor, and ends GJ_ECANCELLED.
 *   document.insert   collection, document (a map) or documents (a list: one
 *                row per item, errors inline), returnNew, returnOld, silent,
 *                waitForSync, overwrite, overwriteMode
 *   document.get      collection, key, rev (If-Match)
 *   document.replace  collection, key, document, rev, returnNew, returnOld,
 *                ignoreRevs, waitForSync
 *   document.update   the same as replace, plus keepNull, mergeObjects
 *   document.remove   collection, key, rev, returnOld, waitForSync
 *                (all document ops also take trx)
 *   collection.create name, type ("document" | "edge"), properties (a map
 *                merged into the body)
 *   collection.drop | count | truncate   name
 *   collection.properties  name, properties (a map: PUT; absent: GET)
 *   collection.list   excludeSystem (default true); one row per collection
 *   transaction.begin   collections (map: read, write, exclusive), allowImplicit,
 *                lockTimeout, waitForSync, maxTransactionSize; row: the reply,
 *                whose result.id is the id to pass as option trx
 *   transaction.commit | abort | status   id
 *   version      details (bool)
 *   http         method (GET, POST, PUT, PATCH, DELETE), path ("/_api/..."
 *                relative to /_db/{database}), query (a map of strings, ints,
 *                bools), body (any value, sent as JSON); the reply body is the
 *                row, meta http_status
 * Every operation also takes async: true — x-arango-async: true, fire and
 * forget: the server answers 202 with no id and keeps no result; the job
 * ends with no rows and meta async "accepted", http_status 202 and
 * coordinator.  Or async: "store" — ArangoDB's server-side async
 * job: the request is sent with x-arango-async: store, the job is polled on
 * the same connection (so on the coordinator that accepted it) with
 * GET /_api/job/{id}, its stored reply fetched with PUT /_api/job/{id} and
 * used as the reply (an AQL cursor's later batches go to the same
 * coordinator); meta async_id is the server job's id; cancel or timeout
 * sends PUT /_api/job/{id}/cancel and DELETE /_api/job/{id}.  With detach:
 * true as well the job ends at the 202: one row {"async_id": id}, meta
 * async_id, coordinator ("host:port") and http_status 202; the server job
 * keeps running, to be reached later (by any client) with
 *   job.attach   id: wait (GET /_api/job/{id}, interruptible; the server job
 *                is left alone on cancel or timeout), fetch once (PUT) and
 *                treat the stored reply as the result (replayed errors fail,
 *                cursor replies are paged from this coordinator)
 *   job.status   id: one row "pending" or "done"
 *   job.cancel   id: PUT /_api/job/{id}/cancel, the reply
 *   job.delete   id, or which: "all" | "expired" (+ stamp): DELETE, the reply
 *   job.list     status: "done" | "pending", count: one row per id
 * (a 404 for the job: GJ_ENOTFOUND "server job N not found"; jobs.c).
 * Sessions (trx.c): a gj_session is a stream transaction — ops begin,
 * commit, abort (rollback) — and its other jobs send x-arango-trx-id.
 * Replies of the non-AQL operations are one row: the reply body as a value.
 * An option an operation does not know fails with GJ_EINVAL naming it.
 * Server errors: GJ_ESERVER (GJ_EAUTH for 401) with errorNum as server code
 * and number, the HTTP status and the whole error body as extra.
 * GET requests are retried twice after a 503; nothing else is.  A GET whose
 * connection failed (refused, reset, closed early) is sent to the next other
 * coordinator (discover.c); nothing else is.
 * docs/arango.md says the same for users.
 */
#include "backend/arango/arango_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- option helpers ------------------------------------------------------ */

int gj__arango_opt_bool(const gj_request *req, const char *key, bool *out, gj_error *err)
{
    const gj_value *v = gj_request_option(req, key);
    if (v && gj_value_bool_get(v, out) != 0)
        return gj__error_set(err, GJ_EINVAL, "option %s: expected a bool, got %s", key,
                             gj_type_name(gj_value_type(v)));
    return 0;
}

int gj__arango_opt_int(const gj_request *req, const char *key, int64_t *out, gj_error *err)
{
    const gj_value *v = gj_request_option(req, key);
    if (v && gj_value_int_get(v, out) != 0)
        return gj__error_set(err, GJ_EINVAL, "option %s: expected an int, got %s", key,
                             gj_type_name(gj_value_type(v)));
    return 0;
}

int gj__arango_opt_string(const gj_request *req, const char *key, const char **out,
                          gj_error *err)
{
    const gj_value *v = gj_request_option(req, key);
    size_t len = 0;
    if (!v)
        return 0;
    if (gj_value_string_get(v, out, &len) != 0)
        return gj__error_set(err, GJ_EINVAL, "option %s: expected a string, got %s", key,
                             gj_type_name(gj_value_type(v)));
    if (len != strlen(*out) || len > GJ__ARANGO_MAX_NAME)
        return gj__error_set(err, GJ_EINVAL, "option %s: holds a NUL byte or is longer than %d",
                             key, GJ__ARANGO_MAX_NAME);
    return 0;
}

int gj__arango_opt_trx(gj_conn *c, const gj_request *req, const char **out, gj_error *err)
{
    int rc = gj__arango_opt_string(req, "trx", out, err);
    if (rc == 0 && !*out && c->session_trx) {
        *out = c->session_trx;
        c->session_trx_used = true;
    }
    return rc;
}

int gj__arango_check_options(const gj_request *req, const char *op,
                             const char *const *known, gj_error *err)
{
    const gj_value *opts = gj_request_options(req);
    for (size_t i = 0; i < gj_value_size(opts); i++) {
        const char *key = NULL;
        if (gj_value_string_get(gj_value_map_key_at(opts, i), &key, NULL) != 0)
            return gj__error_set(err, GJ_EINVAL, "op %s: an option name is not a string", op);
        size_t k = 0;
        while (known[k] && strcmp(known[k], key) != 0)
            k++;
        /* async and detach: every op (execute) */
        if (!known[k] && strcmp(key, "async") != 0 && strcmp(key, "detach") != 0)
            return gj__error_set(err, GJ_EINVAL, "op %s: unknown option %.64s", op, key);
    }
    return 0;
}

int gj__arango_emit_body(gj_conn *c, const gj__arango_reply *reply, gj_sink *sink,
                         gj_error *err)
{
    if (!reply->json)
        return 0;
    gj_value *row = NULL;
    int rc = gj__arango_json_to_value(reply->json, &row, err);
    if (rc)
        return gj__error_prefix(err, "%s", c->hostport);
    rc = gj__sink_row(sink, row);
    if (rc == GJ_EABORTED)
        return gj__error_set(err, GJ_EABORTED, "the row callback stopped");
    return rc ? gj__error_set(err, rc, "out of memory for the result") : 0;
}

/* ---- the connection ------------------------------------------------------ */

static void arango_close(gj_conn *c)
{
    if (!c)
        return;
    gj__arango_cleanup_clear(c);
    gj__http_free(c->http);
    if (c->tok)
        json_tokener_free(c->tok);
    if (c->password) {
        explicit_bzero(c->password, strlen(c->password));
        free(c->password);
    }
    gj__arango_peers_free(c);
    free(c->username);
    free(c->database);
    free(c->base_url);
    free(c->hostport);
    free(c);
}

/* An async option's value: "store" (1), true / "true" (2: fire and
 * forget), false / "false" (0).  -1 otherwise. */
static int async_mode(const gj_value *v, int *mode)
{
    const char *s = NULL;
    bool b = false;
    if (gj_value_string_get(v, &s, NULL) == 0) {
        if (strcmp(s, "store") == 0)
            *mode = 1;
        else if (strcmp(s, "true") == 0)
            *mode = 2;
        else if (strcmp(s, "false") == 0)
            *mode = 0;
        else
            return -1;
        return 0;
    }
    if (gj_value_bool_get(v, &b) == 0) {
        *mode = b ? 2 : 0;
        return 0;
    }
    return -1;
}

typedef struct http_options {
    bool http2;
    bool compressed;
    const char *unix_socket;
} http_options;

static int target_options(gj_conn *c, const gj_target_settings *ts, http_options *ho, gj_error *err)
{
    const gj_value *o = ts->options;
    for (size_t i = 0; o && i < gj_value_size(o); i++) {
        const char *key = NULL;
        const gj_value *v = gj_value_map_value_at(o, i);
        if (gj_value_string_get(gj_value_map_key_at(o, i), &key, NULL) != 0)
            return gj__error_set(err, GJ_ECONFIG, "arango options: keys must be strings");
        if (strcmp(key, "auth") == 0) {
            const char *s = NULL;
            if (gj_value_string_get(v, &s, NULL) != 0 ||
                (strcmp(s, "basic") != 0 && strcmp(s, "jwt") != 0))
                return gj__error_set(err, GJ_ECONFIG,
                                     "arango option auth: \"basic\" or \"jwt\" expected");
            c->use_jwt = strcmp(s, "jwt") == 0;
        } else if (strcmp(key, "http2") == 0) {
            if (gj_value_bool_get(v, &ho->http2) != 0)
                return gj__error_set(err, GJ_ECONFIG, "arango option http2: a bool expected");
        } else if (strcmp(key, "compressed") == 0) {
            if (gj_value_bool_get(v, &ho->compressed) != 0)
                return gj__error_set(err, GJ_ECONFIG, "arango option compressed: a bool expected");
        } else if (strcmp(key, "unix_socket") == 0) {
            if (gj_value_string_get(v, &ho->unix_socket, NULL) != 0 || !ho->unix_socket[0])
                return gj__error_set(err, GJ_ECONFIG, "arango option unix_socket: a path expected");
        } else if (strcmp(key, "discover") == 0) {
            /* Read by the pool as well (lib/core/pool.c). */
            bool b = false;
            int64_t n = 0;
            const char *s = NULL;
            if (gj_value_bool_get(v, &b) == 0)
                c->discover = b;
            else if (gj_value_int_get(v, &n) == 0 && (n == 0 || n == 1))
                c->discover = n == 1;
            else if (gj_value_string_get(v, &s, NULL) == 0 &&
                     (!strcmp(s, "true") || !strcmp(s, "1") || !strcmp(s, "yes") ||
                      !strcmp(s, "on") || !strcmp(s, "false") || !strcmp(s, "0") ||
                      !strcmp(s, "no") || !strcmp(s, "off")))
                c->discover = !strcmp(s, "true") || !strcmp(s, "1") || !strcmp(s, "yes") ||
                              !strcmp(s, "on");
            else
                return gj__error_set(err, GJ_ECONFIG, "arango option discover: a bool expected");
        } else if (strcmp(key, "discover_interval") == 0) {
            int64_t ms = 0;
            if (gj_value_int_get(v, &ms) != 0 || ms <= 0)
                return gj__error_set(err, GJ_ECONFIG, "arango option discover_interval: "
                                     "milliseconds (an int > 0) expected");
        } else if (strcmp(key, "async") == 0) {
            if (async_mode(v, &c->async_default) != 0)
                return gj__error_set(err, GJ_ECONFIG, "arango option async: \"store\", true "
                                     "(fire and forget) or false expected");
        } else {
            return gj__error_set(err, GJ_ECONFIG, "arango backend: unknown option %.64s", key);
        }
    }
    return 0;
}

static bool scheme_is_tls(const gj_target_settings *ts)
{
    return ts->tls || (ts->scheme && (strcmp(ts->scheme, "https") == 0 ||
                                      strcmp(ts->scheme, "arangodb+https") == 0));
}

static int setup_handle(gj_conn *c, const gj_endpoint *ep, const gj_target_settings *ts,
                        int64_t deadline_ms, gj_error *err)
{
    http_options ho = { false, false, NULL };
    int rc = target_options(c, ts, &ho, err);
    if (rc)
        return rc;
    bool tls = scheme_is_tls(ts);
    bool v6 = strchr(ep->host, ':') != NULL;
    size_t n = strlen(ep->host) + 32;
    c->base_url = malloc(n);
    c->hostport = malloc(n);
    if (!c->base_url || !c->hostport)
        return gj__error_set(err, GJ_ENOMEM, "out of memory");
    snprintf(c->base_url, n, "%s://%s%s%s:%d", tls ? "https" : "http", v6 ? "[" : "", ep->host,
             v6 ? "]" : "", ep->port);
    snprintf(c->hostport, n, "%s%s%s:%d", v6 ? "[" : "", ep->host, v6 ? "]" : "", ep->port);
    if ((ts->username && !(c->username = gj__strdup(ts->username))) ||
        (ts->password && !(c->password = gj__strdup(ts->password))) ||
        (ts->database && !(c->database = gj__strdup(ts->database))))
        return gj__error_set(err, GJ_ENOMEM, "out of memory");
    c->connect_timeout_ms = ts->connect_timeout_ms;
    /* The connect timeout: connect_timeout, cut to what is left before the
     * deadline; 0 = curl's default.  (The transfers also watch the deadline.) */
    int64_t ct = ts->connect_timeout_ms > 0 ? ts->connect_timeout_ms : 0;
    if (deadline_ms != INT64_MAX) {
        int64_t left = deadline_ms - gj__now_ms();
        if (left <= 0)
            return gj__error_set(err, GJ_ETIMEDOUT, "no time left to connect to %s", c->hostport);
        if (ct == 0 || left < ct)
            ct = left;
    }
    gj_http_config hc = {
        .name = c->hostport,
        .base_url = c->base_url,
        .unix_socket = ho.unix_socket,
        .verify = ts->ssl_verify,
        .ca = ts->ssl_cafile,
        .certfile = ts->ssl_certfile,
        .keyfile = ts->ssl_keyfile,
        .key_password = ts->ssl_password,
        .http2 = ho.http2,
        .compressed = ho.compressed,
        .connect_timeout_ms = ct,
        .max_body = ts->max_message_size ? ts->max_message_size : (size_t)64 << 20,
        /* Basic auth: the Authorization line is built once per connection.
         * JWT: none until POST /_open/auth gave a token. */
        .username = c->use_jwt ? NULL : c->username,
        .password = c->use_jwt ? NULL : c->password,
        .accept = "application/json",
        .content_type = "application/json",
    };
    rc = gj__http_new(&c->http, &hc, err);
    if (rc)
        return rc;
    gj__http_set_header_fn(c->http, gj__arango_on_header, c);
    return 0;
}

static int arango_connect(gj_conn **out, const gj_endpoint *ep, const gj_target_settings *ts,
                          const gj_logger *log, const gj_abort *abort, int64_t deadline_ms,
                          gj_error *err)
{
    gj_conn *c = calloc(1, sizeof *c);
    if (!c)
        return gj__error_set(err, GJ_ENOMEM, "out of memory connecting to %s:%d", ep->host,
                             ep->port);
    c->log = log;
    int rc = setup_handle(c, ep, ts, deadline_ms, err);
    if (!rc)
        gj__http_set_abort(c->http, abort);   /* the transfers below give up when it fires */
    if (!rc && gj__arango_peers_init(c, ts, gj_arango_backend.default_port) != 0)
        rc = gj__error_set(err, GJ_ENOMEM, "out of memory connecting to %s", c->hostport);
    if (!rc && c->use_jwt)
        rc = gj__arango_login(c, deadline_ms, err);
    if (!rc) {
        gj__arango_call call = { "GET", NULL, "/_api/version", NULL, 0, NULL, NULL, true,
                                 deadline_ms };
        gj__arango_reply reply = { 0, NULL };
        rc = gj__arango_perform(c, &call, &reply, err);
        if (!rc && reply.status != 200) {
            rc = gj__arango_reply_error(c, &reply, "GET /_api/version", err);
            if (!rc)
                rc = gj__error_set(err, GJ_EPROTOCOL, "%s: GET /_api/version answered HTTP %ld",
                                   c->hostport, reply.status);
        }
        gj__arango_reply_clear(&reply);
    }
    if (!rc && c->discover) {
        /* The cluster's coordinators, to fail over to (the pool asks for
         * them too, through discover()).  A single server keeps the
         * target's hosts. */
        gj_error *e = gj_error_new();
        int drc = e ? gj__arango_refresh_peers(c, deadline_ms, e) : GJ_ENOMEM;
        if (drc)
            gj__log(log, GJ_LOG_DEBUG, "arango %s: no cluster endpoints (%s)", c->hostport,
                    e ? gj_error_message(e) : gj_strerror(drc));
        gj_error_free(e);
    }
    if (c->http)
        gj__http_set_abort(c->http, NULL);   /* the caller's, valid during the call only */
    if (rc) {
        arango_close(c);
        return rc;
    }
    c->broken = false;
    gj__log(log, GJ_LOG_DEBUG, "arango: connected to %s%s", c->hostport,
            c->use_jwt ? " (JWT)" : "");
    *out = c;
    return 0;
}

/* A detached server job: one row {"async_id": id}, meta coordinator
 * ("host:port" that accepted it) and http_status 202; execute adds meta
 * async_id. */
static int detached_result(gj_conn *c, gj_sink *sink, gj_error *err)
{
    gj_value *row = NULL;
    int rc = gj_value_new_map(&row, 1);
    if (!rc)
        rc = gj_value_map_put_str(row, "async_id", gj_value_string(c->async_id));
    if (!rc) {
        rc = gj__sink_row(sink, row);
        row = NULL;
        if (rc == GJ_EABORTED)
            return gj__error_set(err, GJ_EABORTED, "the row callback stopped");
    }
    gj_value_unref(row);
    if (!rc) {
        gj_value *hp = gj_value_string(c->hostport);
        rc = hp ? gj__sink_meta(sink, "coordinator", hp) : GJ_ENOMEM;
    }
    if (!rc) {
        gj_value *st = gj_value_int(202);
        rc = st ? gj__sink_meta(sink, "http_status", st) : GJ_ENOMEM;
    }
    return rc ? gj__error_set(err, GJ_ENOMEM, "out of memory for the result") : 0;
}

/* A fire-and-forget call the server accepted: no rows; meta async
 * "accepted", http_status 202 and coordinator. */
static int accepted_result(gj_conn *c, gj_sink *sink, gj_error *err)
{
    gj_value *a = gj_value_string("accepted");
    int rc = a ? gj__sink_meta(sink, "async", a) : GJ_ENOMEM;
    if (!rc) {
        gj_value *st = gj_value_int(202);
        rc = st ? gj__sink_meta(sink, "http_status", st) : GJ_ENOMEM;
    }
    if (!rc) {
        gj_value *hp = gj_value_string(c->hostport);
        rc = hp ? gj__sink_meta(sink, "coordinator", hp) : GJ_ENOMEM;
    }
    return rc ? gj__error_set(err, GJ_ENOMEM, "out of memory for the result") : 0;
}

static int arango_execute(gj_conn *c, const gj_request *req, gj_sink *sink, gj_error *err)
{
    if (gj__arango_take_interrupt(c)) {
        c->broken = true;
        return gj__error_set(err, GJ_ECANCELLED, "%s: cancelled before it started",
                             c->hostport);
    }
    const gj_value *async = gj_request_option(req, "async");
    const char *op = gj_request_op(req);
    bool job_api = strncmp(op, "job.", 4) == 0;
    c->async_store = false;
    c->async_detach = false;
    c->async_fire = false;
    c->async_id[0] = '\0';
    /* A session's job: its stream transaction, when one is open and the
     * operation runs in it (trx.c). */
    gj__arango_session *ss = gj__sink_session(sink);
    bool session_op = gj__arango_is_session_op(op);
    int rc = 0;
    c->session_trx = NULL;
    c->session_trx_used = false;
    if (ss && !session_op && (rc = gj__arango_session_prepare(c, ss, req, op, err)) != 0)
        return rc;
    bool in_trx = session_op || c->session_trx;
    /* The request's async option, else the target's (not for the job API,
     * nor inside a stream transaction). */
    int mode = job_api || in_trx ? 0 : c->async_default;
    if (async && async_mode(async, &mode) != 0)
        rc = gj__error_set(err, GJ_EINVAL, "option async: \"store\", true (fire and "
                           "forget) or false expected");
    bool detach = false;
    if (!rc)
        rc = gj__arango_opt_bool(req, "detach", &detach, err);
    if (!rc && detach && mode != 1)
        rc = gj__error_set(err, GJ_EINVAL, "option detach: needs option async: \"store\"");
    if (!rc && mode != 0 && job_api)
        rc = gj__error_set(err, GJ_EINVAL, "op %.32s: option async does not apply to the "
                           "job API", op);
    if (!rc && mode != 0 && in_trx)
        rc = gj__error_set(err, GJ_EINVAL, "op %.32s: option async does not apply inside a "
                           "stream transaction", op);
    if (rc) {
        c->session_trx = NULL;
        return rc;
    }
    c->async_store = mode != 0;
    c->async_fire = mode == 2;
    c->async_detach = detach;
    int64_t deadline = gj__sink_deadline(sink);
    if (session_op)
        rc = gj__arango_session_op(c, ss, req, op, sink, deadline, err);
    else if (strcmp(op, GJ_OP_QUERY) == 0)
        rc = gj__arango_op_query(c, req, sink, deadline, err);
    else if (strncmp(op, "document.", 9) == 0)
        rc = gj__arango_op_document(c, req, op + 9, sink, deadline, err);
    else if (strncmp(op, "collection.", 11) == 0)
        rc = gj__arango_op_collection(c, req, op + 11, sink, deadline, err);
    else if (strncmp(op, "transaction.", 12) == 0)
        rc = gj__arango_op_transaction(c, req, op + 12, sink, deadline, err);
    else if (strcmp(op, "version") == 0)
        rc = gj__arango_op_version(c, req, sink, deadline, err);
    else if (strcmp(op, "http") == 0)
        rc = gj__arango_op_http(c, req, sink, deadline, err);
    else if (strncmp(op, "job.", 4) == 0)
        rc = gj__arango_op_job(c, req, op + 4, sink, deadline, err);
    else
        rc = gj__error_set(err, GJ_EUNSUPPORTED, "arango backend has no operation %.64s", op);
    c->async_store = false;
    c->async_detach = false;
    c->async_fire = false;
    if (ss && !session_op)
        gj__arango_session_after(c, ss, req, op, rc, err);
    c->session_trx = NULL;
    if (rc == GJ__ARANGO_DETACHED)
        rc = detached_result(c, sink, err);
    else if (rc == GJ__ARANGO_ACCEPTED)
        rc = accepted_result(c, sink, err);
    if (rc == 0 && c->async_id[0]) {
        gj_value *id = gj_value_string(c->async_id);
        if (!id || gj__sink_meta(sink, "async_id", id))
            rc = gj__error_set(err, GJ_ENOMEM, "out of memory for the result");
    }
    if (rc == GJ_ECANCELLED)
        c->broken = true;
    return rc;
}

static void arango_interrupt(gj_conn *c)
{
    gj__http_interrupt(c->http);
}

static bool arango_usable(gj_conn *c)
{
    return !c->broken && !gj__http_interrupt_pending(c->http);
}

static int arango_ping(gj_conn *c, int64_t deadline_ms)
{
    gj__arango_call call = { "GET", NULL, "/_api/version", NULL, 0, NULL, NULL, true,
                             deadline_ms };
    gj__arango_reply reply = { 0, NULL };
    int rc = gj__arango_perform(c, &call, &reply, NULL);
    if (!rc && reply.status != 200)
        rc = reply.status == 401 ? GJ_EAUTH : GJ_ESERVER;
    gj__arango_reply_clear(&reply);
    return rc;
}

static const char *const arango_schemes[] = {
    "http", "https", "arangodb", "arangodb+http", "arangodb+https", NULL
};

const gj_backend gj_arango_backend = {
    .name = "arango",
    .schemes = arango_schemes,
    .default_port = 8529,
    .connect = arango_connect,
    .execute = arango_execute,
    .settle = gj__arango_settle,
    .interrupt = arango_interrupt,
    .usable = arango_usable,
    .ping = arango_ping,
    .close = arango_close,
    .max_inflight = 1,
    .discover = gj__arango_discover,
    .session_check = gj__arango_session_check,
    .session_open = gj__arango_session_open,
    .session_close = gj__arango_session_close,
};
