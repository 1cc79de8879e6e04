/*
 * Gremlin execute: op "query" (or "eval") is a script evaluation:
 * {requestId, op "eval", processor "" (or "session"), args {gremlin,
 * bindings, language, aliases, evaluationTimeout, batchSize, userAgent}}.
 * The responses come back as 206 partials then 200 (or 204 for nothing);
 * each item of result.data is a row, collected or handed to the row
 * callback as its message arrives.  A 407 is answered with SASL PLAIN on the
 * same requestId (the target's username and password), after which the
 * results follow (or 401: GJ_EAUTH).  Every other status fails the job with
 * GJ_ESERVER keeping the server's identity: the status code (as the server
 * code and number), its message, and its attributes (exceptions,
 * stackTrace) as the error's extra.
 *
 * Request options: language (string), evaluationTimeout (int ms), batchSize
 * (int > 0), userAgent (string), aliases (a map; default: the target's
 * aliases setting).  The request's params are the script's bindings.
 *
 * Cancel and timeouts: TinkerPop 3 has no cancel op.  The job ends at once
 * (CANCELLED, or GJ_ETIMEDOUT at the request's deadline) and whatever the
 * server still sends for it is dropped as it arrives; evaluationTimeout
 * bounds the server's side.  In a session the connection is closed instead,
 * since the session's state is then unknown.  A collected result past
 * max_result_size fails with GJ_ETOOBIG and the rest is dropped likewise.
 *
 * Sessions (processor "session"): a random session id per gj_session; its
 * option manageTransaction (bool) is sent with every request; closing sends
 * op "close" for the session.
 */
#include "backend/gremlin/gremlin.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct gremlin_session {
    char id[37];                 /* the session id: a UUID's text */
    int manage_transaction;      /* -1 absent, 0, 1 */
} gremlin_session;

static void uuid_text(const uint8_t id[16], char out[37])
{
    static const char hex[] = "0123456789abcdef";
    size_t k = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[k++] = '-';
        out[k++] = hex[id[i] >> 4];
        out[k++] = hex[id[i] & 15];
    }
    out[k] = '\0';
}

static int opt_error(gj_conn *c, gj_error *err, const char *key, const char *want)
{
    return gj__error_set(err, GJ_EINVAL, "gremlin %s: option '%s' must be %s", c->endpoint, key, want);
}

/* The args of an eval of req (in session ss, or NULL). */
static int build_args(gj_conn *c, const gj_request *req, const gremlin_session *ss, gj_value **out,
                      gj_error *err)
{
    const char *text = gj_request_text(req);
    if (!text || !*text)
        return gj__error_set(err, GJ_EINVAL, "gremlin %s: a script needs text", c->endpoint);
    gj_gremlin_args a = GJ_GREMLIN_ARGS_INIT;
    a.gremlin = text;
    a.user_agent = c->user_agent;
    a.aliases = c->ts->aliases && gj_value_size(c->ts->aliases) ? c->ts->aliases : NULL;
    const gj_value *opts = gj_request_options(req);
    for (size_t i = 0; i < gj_value_size(opts); i++) {
        const char *key = NULL;
        gj_value_string_get(gj_value_map_key_at(opts, i), &key, NULL);
        const gj_value *v = gj_value_map_value_at(opts, i);
        int64_t n = 0;
        if (!key)
            return gj__error_set(err, GJ_EINVAL, "gremlin %s: option names must be strings", c->endpoint);
        if (strcmp(key, "language") == 0) {
            if (gj_value_string_get(v, &a.language, NULL) != 0)
                return opt_error(c, err, key, "a string");
        } else if (strcmp(key, "userAgent") == 0) {
            if (gj_value_string_get(v, &a.user_agent, NULL) != 0)
                return opt_error(c, err, key, "a string");
        } else if (strcmp(key, "evaluationTimeout") == 0) {
            if (gj_value_int_get(v, &n) != 0 || n < 0)
                return opt_error(c, err, key, "a non-negative integer (milliseconds)");
            a.evaluation_timeout = n;
        } else if (strcmp(key, "batchSize") == 0) {
            if (gj_value_int_get(v, &n) != 0 || n <= 0 || n > INT32_MAX)
                return opt_error(c, err, key, "a positive integer");
            a.batch_size = (int32_t)n;
        } else if (strcmp(key, "aliases") == 0) {
            if (gj_value_type(v) != GJ_TMAP)
                return opt_error(c, err, key, "a map of traversal source names");
            a.aliases = v;
        } else {
            return gj__error_set(err, GJ_EINVAL, "gremlin %s: unknown option '%s' (known: language, "
                                 "evaluationTimeout, batchSize, userAgent, aliases)", c->endpoint, key);
        }
    }
    const gj_value *params = gj_request_params(req);
    if (gj_value_size(params))
        a.bindings = params;
    if (ss) {
        a.session = ss->id;
        a.manage_transaction = ss->manage_transaction;
    }
    int rc = gj__gremlin_args_new(out, &a, err);
    if (rc)
        gj__error_prefix(err, "gremlin %s", c->endpoint);
    return rc;
}

/* base64 of "\0user\0password" (SASL PLAIN), malloc'd. */
static char *sasl_plain(const char *user, const char *pw)
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t ul = strlen(user), pl = strlen(pw), n = ul + pl + 2;
    unsigned char *raw = malloc(n);
    char *out = malloc((n + 2) / 3 * 4 + 1);
    if (!raw || !out) {
        free(raw);
        free(out);
        return NULL;
    }
    raw[0] = 0;
    memcpy(raw + 1, user, ul);
    raw[1 + ul] = 0;
    memcpy(raw + 2 + ul, pw, pl);
    size_t k = 0;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)raw[i] << 16 | (i + 1 < n ? (unsigned)raw[i + 1] << 8 : 0) |
                     (i + 2 < n ? raw[i + 2] : 0);
        out[k++] = b64[(v >> 18) & 63];
        out[k++] = b64[(v >> 12) & 63];
        out[k++] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
        out[k++] = i + 2 < n ? b64[v & 63] : '=';
    }
    out[k] = '\0';
    explicit_bzero(raw, n);
    free(raw);
    return out;
}

/* Answer a 407 on the same requestId. */
static int send_sasl(gj_conn *c, const uint8_t id[16], int64_t deadline, gj_error *err)
{
    const char *user = c->ts->username, *pw = c->ts->password;
    if (!user && !pw)
        return gj__error_set(err, GJ_EAUTH, "gremlin %s: the server asks for authentication (407) "
                             "and the target has no username and password", c->endpoint);
    char *sasl = sasl_plain(user ? user : "", pw ? pw : "");
    if (!sasl)
        return gj__error_set(err, GJ_ENOMEM, "gremlin %s: out of memory", c->endpoint);
    gj_gremlin_args a = GJ_GREMLIN_ARGS_INIT;
    a.sasl = sasl;
    a.sasl_mechanism = "PLAIN";
    gj_value *args = NULL;
    int rc = gj__gremlin_args_new(&args, &a, err);
    explicit_bzero(sasl, strlen(sasl));
    free(sasl);
    if (rc)
        return rc;
    gj_gremlin_request r;
    memset(&r, 0, sizeof r);
    memcpy(r.request_id, id, 16);
    r.op = "authentication";
    r.processor = "";
    r.args = args;
    rc = gj__gremlin_send(c, &r, deadline, err);
    gj_value_unref(args);   /* (the encoded frame with the secret is freed by send) */
    return rc;
}

/* A status other than 200/204/206/407: the job's error, with the server's
 * identity. */
static int status_error(gj_conn *c, const gj_gremlin_response *resp, gj_error *err)
{
    int code = resp->status_code;
    const char *msg = NULL;
    size_t len = 0;
    if (resp->status_message)
        gj_value_string_get(resp->status_message, &msg, &len);
    char num[16];
    snprintf(num, sizeof num, "%d", code);
    gj__server_error se = {
        code == 401 || code == 403 ? GJ_EAUTH : GJ_ESERVER, "gremlin", num, code, NULL, 0,
        msg && *msg ? msg : "no message",
        resp->status_attributes ? gj_value_ref(resp->status_attributes) : NULL,
    };
    int rc = gj__error_set_server(err, &se);
    gj__error_prefix(err, "gremlin %s: [%d]", c->endpoint, code);
    return rc;
}

/* The rows of a 200/206 message: each item of result.data (a list or set),
 * or the data itself when it is something else. */
static int take_rows(gj_conn *c, gremlin_msg *m, gj_sink *sink, size_t *rows, gj_error *err)
{
    const gj_value *data = m->resp.result_data;
    if (!data || gj_value_type(data) == GJ_TNULL)
        return 0;
    if (gj__sink_account(sink, m->bytes) == GJ_ETOOBIG) {
        gj__sink_too_big(sink, err);
        return gj__error_prefix(err, "gremlin %s", c->endpoint);
    }
    gj_type t = gj_value_type(data);
    size_t n = t == GJ_TLIST || t == GJ_TSET ? gj_value_size(data) : 1;
    for (size_t i = 0; i < n; i++) {
        const gj_value *item = t == GJ_TLIST || t == GJ_TSET ? gj_value_list_at(data, i) : data;
        int rc = gj__sink_row(sink, gj_value_ref(item));
        if (rc == GJ_EABORTED)
            return gj__error_set(err, GJ_EABORTED, "gremlin %s: the row callback asked to stop after "
                                 "%zu rows", c->endpoint, *rows + 1);
        if (rc)
            return gj__error_set(err, rc, "gremlin %s: out of memory for row %zu", c->endpoint, *rows);
        (*rows)++;
    }
    return 0;
}

/* The final message's meta (result.meta entries and status attributes). */
static int take_meta(gj_conn *c, gremlin_msg *m, gj_sink *sink, gj_error *err)
{
    const gj_value *meta = m->resp.result_meta;
    for (size_t i = 0; i < gj_value_size(meta); i++) {
        const char *key = NULL;
        if (gj_value_string_get(gj_value_map_key_at(meta, i), &key, NULL) != 0)
            continue;
        if (gj__sink_meta(sink, key, gj_value_ref(gj_value_map_value_at(meta, i))) != 0)
            return gj__error_set(err, GJ_ENOMEM, "gremlin %s: out of memory", c->endpoint);
    }
    if (m->resp.status_attributes && gj_value_size(m->resp.status_attributes) &&
        gj__sink_meta(sink, "status_attributes", gj_value_ref(m->resp.status_attributes)) != 0)
        return gj__error_set(err, GJ_ENOMEM, "gremlin %s: out of memory", c->endpoint);
    if (gj__sink_meta(sink, "status_code", gj_value_int(m->resp.status_code)) != 0)
        return gj__error_set(err, GJ_ENOMEM, "gremlin %s: out of memory", c->endpoint);
    return 0;
}

/* One response message for request p into sink (NULL: only the outcome).
 * Sets *final once the request's last message was read; *drop when the
 * connection must go (the server keeps it in its SASL negotiation after a
 * 401).  Any thread; for an asynchronous request the service thread,
 * holding c->mu (nothing here takes it). */
int gj__gremlin_handle(gj_conn *c, gremlin_pending *p, gremlin_msg *m, gj_sink *sink,
                       int64_t deadline, bool *final, bool *drop, gj_error *err)
{
    int rc = 0, code = m->resp.status_code;
    if (code == GJ_GREMLIN_PARTIAL_CONTENT) {
        if (sink)
            rc = take_rows(c, m, sink, &p->rows, err);
    } else if (code == GJ_GREMLIN_SUCCESS || code == GJ_GREMLIN_NO_CONTENT) {
        if (sink && code == GJ_GREMLIN_SUCCESS)
            rc = take_rows(c, m, sink, &p->rows, err);
        if (sink && !rc)
            rc = take_meta(c, m, sink, err);
        *final = true;
    } else if (code == GJ_GREMLIN_AUTHENTICATE && !p->sasl_sent) {
        p->sasl_sent = true;
        rc = send_sasl(c, p->id, deadline, err);
    } else {
        rc = status_error(c, &m->resp, err);
    }
    if (rc && (code == GJ_GREMLIN_AUTHENTICATE || code == GJ_GREMLIN_UNAUTHORIZED))
        *drop = true;
    return rc;
}

/* Why a request on c cannot go on, under c->mu (c closed, a protocol
 * error, the client shutting down), as err; 0 when it can. */
int gj__gremlin_conn_error_locked(gj_conn *c, gj_error *err)
{
    if (c->shut)
        return gj__error_set(err, GJ_ECANCELLED, "gremlin %s: the client is shutting down", c->endpoint);
    if (c->protocol_error)
        return gj__error_set(err, GJ_EPROTOCOL, "gremlin %s: %s", c->endpoint, c->protocol_msg);
    if (c->closed)
        return gj__error_set(err, c->close_code == 1009 ? GJ_ETOOBIG : GJ_EIO,
                             "gremlin %s: the connection closed: %d %s", c->endpoint, c->close_code,
                             c->close_reason);
    return 0;
}

/* Send r and read its responses into the sink (sink NULL: only the
 * outcome, for the session's close), blocking.  Returns 0 once the final
 * response was read. */
static int run_request(gj_conn *c, gj_value *args, const char *op, const char *processor,
                       gj_sink *sink, int64_t deadline, gj_error *err)
{
    gremlin_pending *p = NULL;
    int rc = gj__gremlin_pending_new(c, NULL, &p, err);
    if (rc)
        return rc;
    gj_gremlin_request r;
    memset(&r, 0, sizeof r);
    memcpy(r.request_id, p->id, 16);
    r.op = op;
    r.processor = processor;
    r.args = args;
    rc = gj__gremlin_send(c, &r, deadline, err);
    bool final = false, drop = false;
    while (!rc && !final) {
        pthread_mutex_lock(&c->mu);
        /* Cancel and the deadline first, on every pass: a server that never
         * stops sending must not hold the job. */
        bool cancelled = false, late = false;
        for (;;) {
            cancelled = sink && gj__sink_cancel_requested(sink);
            late = deadline != INT64_MAX && gj__now_ms() >= deadline;
            if (cancelled || late || c->shut || p->head || c->closed || c->protocol_error)
                break;
            if (deadline == INT64_MAX) {
                pthread_cond_wait(&p->cv, &c->mu);
            } else {
                struct timespec ts;
                gj__deadline_to_timespec(deadline, &ts);
                pthread_cond_timedwait(&p->cv, &c->mu, &ts);
            }
        }
        gremlin_msg *msgs = NULL;
        if (cancelled)
            rc = gj__error_set(err, GJ_ECANCELLED, "gremlin %s: cancelled", c->endpoint);
        else if (late)
            rc = gj__error_set(err, GJ_ETIMEDOUT, "gremlin %s: timed out after %lld ms: no "
                               "complete response within the request's timeout", c->endpoint,
                               (long long)(gj__now_ms() - p->started_ms));
        else if (p->head)
            msgs = gj__gremlin_take_locked(c, p);
        else
            rc = gj__gremlin_conn_error_locked(c, err);
        pthread_mutex_unlock(&c->mu);
        for (gremlin_msg *m = msgs; m && !rc && !final; m = m->next)
            rc = gj__gremlin_handle(c, p, m, sink, deadline, &final, &drop, err);
        gj__gremlin_msg_free(msgs);
    }
    if (drop) {
        pthread_mutex_lock(&c->mu);
        c->broken = true;
        pthread_mutex_unlock(&c->mu);
    }
    gj__gremlin_pending_free(c, p);   /* later responses for it are dropped */
    return rc;
}

static int check_op(gj_conn *c, const gj_request *req, gj_error *err)
{
    const char *op = gj_request_op(req);
    if (!op || (strcmp(op, GJ_OP_QUERY) != 0 && strcmp(op, GJ_OP_EVAL) != 0))
        return gj__error_set(err, GJ_EUNSUPPORTED, "gremlin %s: operation '%s' is not supported "
                             "(\"query\" or \"eval\": a script)", c->endpoint, op ? op : "(null)");
    return 0;
}

int gj__gremlin_execute(gj_conn *c, const gj_request *req, gj_sink *sink, gj_error *err)
{
    int rc0 = check_op(c, req, err);
    if (rc0)
        return rc0;
    if (gj__sink_cancel_requested(sink))
        return gj__error_set(err, GJ_ECANCELLED, "gremlin %s: cancelled", c->endpoint);
    gremlin_session *ss = gj__sink_session(sink);
    gj_value *args = NULL;
    int rc = build_args(c, req, ss, &args, err);
    if (rc)
        return rc;
    rc = run_request(c, args, "eval", ss ? "session" : "", sink, gj__sink_deadline(sink), err);
    gj_value_unref(args);
    if ((rc == GJ_ECANCELLED || rc == GJ_ETIMEDOUT || rc == GJ_ETOOBIG) && ss) {
        /* The session's state is unknown (its script may still run, later
         * requests would wait behind it): the connection goes. */
        pthread_mutex_lock(&c->mu);
        c->broken = true;
        pthread_mutex_unlock(&c->mu);
    }
    return rc;
}

/* ---- asynchronous requests (backend.h: start, abandon) ----------------------------------- */

/* The request is in flight when this returns 0: its responses are handled
 * on the service thread as they arrive (gremlin.c, on_message), and it
 * ends there, in interrupt(), shutdown(), on_close or abandon(), through
 * gj__gremlin_complete_locked. */
int gj__gremlin_start(gj_conn *c, const gj_request *req, gj_async *a, gj_error *err)
{
    int rc = check_op(c, req, err);
    if (rc)
        return rc;
    gj_sink *sink = gj__async_sink(a);
    gj_value *args = NULL;
    rc = build_args(c, req, NULL, &args, err);
    if (rc)
        return rc;
    gremlin_pending *p = NULL;
    rc = gj__gremlin_pending_new(c, a, &p, err);   /* registered, p->starting */
    if (rc) {
        gj_value_unref(args);
        return rc;
    }
    /* A cancel whose interrupt() came before the registration is seen
     * here (its flag was set before interrupt() looked). */
    if (gj__sink_cancel_requested(sink))
        rc = gj__error_set(err, GJ_ECANCELLED, "gremlin %s: cancelled", c->endpoint);
    if (!rc) {
        gj_gremlin_request r;
        memset(&r, 0, sizeof r);
        memcpy(r.request_id, p->id, 16);
        r.op = "eval";
        r.processor = "";
        r.args = args;
        rc = gj__gremlin_send(c, &r, gj__sink_deadline(sink), err);
    }
    gj_value_unref(args);
    pthread_mutex_lock(&c->mu);
    bool finished = p->finished;
    if (finished) {
        /* Ended already (answered, cancelled, the connection closed): its
         * outcome went through gj__async_done. */
        rc = 0;
    } else if (rc) {
        gj__gremlin_unlink_locked(c, p);
    } else {
        p->starting = false;   /* whoever ends it frees it */
    }
    pthread_mutex_unlock(&c->mu);
    if (finished || rc)
        gj__gremlin_pending_destroy(p);
    return rc;
}

void gj__gremlin_abandon(gj_conn *c, gj_async *a, int code)
{
    pthread_mutex_lock(&c->mu);
    gremlin_pending *p = c->pending;
    while (p && p->a != a)
        p = p->next;
    if (p) {
        gj_error *err = gj__async_error(a);
        if (code == GJ_ETIMEDOUT)
            gj__error_set(err, GJ_ETIMEDOUT, "gremlin %s: timed out after %lld ms: no complete "
                          "response within the request's timeout", c->endpoint,
                          (long long)(gj__now_ms() - p->started_ms));
        else
            gj__error_set(err, code, "gremlin %s: the client is shutting down", c->endpoint);
        gj__gremlin_complete_locked(c, p, code);
    }
    pthread_mutex_unlock(&c->mu);
}

/* ---- sessions ---------------------------------------------------------------------- */

static int manage_option(const gj_value *options, int *out, gj_error *err)
{
    *out = -1;
    const gj_value *v = gj_value_map_get(options, "manageTransaction");
    if (!v)
        v = gj_value_map_get(options, "manage_transaction");
    bool b = false;
    if (v && gj_value_bool_get(v, &b) != 0)
        return gj__error_set(err, GJ_EINVAL, "gremlin session option manageTransaction: a bool expected");
    if (v)
        *out = b;
    return 0;
}

int gj__gremlin_session_check(const gj_value *options, gj_error *err)
{
    for (size_t i = 0; i < gj_value_size(options); i++) {
        const char *key = NULL;
        gj_value_string_get(gj_value_map_key_at(options, i), &key, NULL);
        if (!key || (strcmp(key, "manageTransaction") != 0 && strcmp(key, "manage_transaction") != 0))
            return gj__error_set(err, GJ_EINVAL, "gremlin: unknown session option '%s' (known: "
                                 "manageTransaction)", key ? key : "(not a string)");
    }
    int m;
    return manage_option(options, &m, err);
}

int gj__gremlin_session_open(gj_conn *c, const gj_value *options, void **state, int64_t deadline_ms,
                             gj_error *err)
{
    (void)deadline_ms;   /* no I/O: the first eval opens it on the server */
    gremlin_session *s = calloc(1, sizeof *s);
    if (!s)
        return gj__error_set(err, GJ_ENOMEM, "gremlin %s: out of memory", c->endpoint);
    int rc = manage_option(options, &s->manage_transaction, err);
    if (rc) {
        free(s);
        return rc;
    }
    uint8_t id[16];
    gj__gremlin_random_id(id);
    uuid_text(id, s->id);
    *state = s;
    gj__log(c->log, GJ_LOG_DEBUG, "gremlin %s: session %s", c->endpoint, s->id);
    return 0;
}

void gj__gremlin_session_close(gj_conn *c, void *state, int64_t deadline_ms, gj_error *err)
{
    gremlin_session *s = state;
    if (!s)
        return;
    if (gj__gremlin_is_open(c)) {
        gj_gremlin_args a = GJ_GREMLIN_ARGS_INIT;
        a.session = s->id;
        gj_value *args = NULL;
        int rc = gj__gremlin_args_new(&args, &a, err);
        if (!rc)
            rc = run_request(c, args, "close", "session", NULL, deadline_ms, err);
        gj_value_unref(args);
        gj__log(c->log, rc ? GJ_LOG_WARN : GJ_LOG_DEBUG, "gremlin %s: session %s closed%s%s",
                c->endpoint, s->id, rc ? ": " : "", rc && err ? gj_error_message(err) : "");
    }
    free(s);
}
