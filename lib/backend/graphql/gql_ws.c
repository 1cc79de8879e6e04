/*
 * The GraphQL backend over WebSocket (lib/transport/ws): subscriptions, and
 * every operation at graphql+ws(s) URLs.  One WebSocket per job, on the
 * target's service thread, speaking the subprotocol the server chose of
 * those offered (option ws_protocol):
 *
 *   graphql-transport-ws: connection_init {payload: connection_params} ->
 *     connection_ack (within ack_timeout); subscribe {id, payload} -> next*
 *     then complete, or error {payload: errors} (no complete after it);
 *     ping -> pong (either side).  Cancel sends complete {id} and closes.
 *   graphql-ws (subscriptions-transport-ws, the legacy one): connection_init
 *     -> connection_ack | connection_error; ka (keep-alive) ignored; start
 *     {id, payload} -> data* then complete, or error.  Cancel sends stop
 *     {id} and connection_terminate.
 *
 * A subscription's events are rows as they arrive: each next's payload
 * ({data, errors?, extensions?}) to the row callback, or collected within
 * max_result_size; the job is DONE at complete.  A query or mutation over
 * WebSocket gives its data as one row, like HTTP.  Every close code becomes
 * a clear error (close_error below).  With option reconnect, a connection
 * lost mid-stream (1006, 1001, 1011, 4500 ...) is opened again after
 * reconnect_delay and the operation subscribed again (meta reconnects).
 *
 * Threading: the service thread's handlers only queue what arrives (copies)
 * on the job's state under its connection's mutex and signal; the job's
 * thread parses, answers pings and feeds the sink.  Past a bounded queue the
 * socket is paused.
 */
#include "backend/graphql/gql.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Queued bytes past which the socket stops being read. */
#define QUEUE_PAUSE ((size_t)8 << 20)

typedef struct ws_msg {
    struct ws_msg *next;
    size_t len;
    char data[];
} ws_msg;

typedef struct ws_sub {
    gj_conn *c;
    ws_msg *head, *tail;
    size_t queued;
    bool paused;
    bool closed;
    int close_code;
    char close_reason[128];
} ws_sub;

static void on_message(void *arg, const uint8_t *data, size_t len, bool binary)
{
    (void)binary;
    ws_sub *s = arg;
    ws_msg *m = malloc(sizeof *m + len + 1);
    pthread_mutex_lock(&s->c->mu);
    if (m) {
        m->next = NULL;
        m->len = len;
        memcpy(m->data, data, len);
        m->data[len] = '\0';
        if (s->tail)
            s->tail->next = m;
        else
            s->head = m;
        s->tail = m;
        s->queued += len;
    } else if (!s->closed) {
        s->closed = true;
        s->close_code = 1011;
        snprintf(s->close_reason, sizeof s->close_reason, "out of memory for a message");
    }
    pthread_cond_broadcast(&s->c->cv);
    pthread_mutex_unlock(&s->c->mu);
}

static void on_close(void *arg, int code, const char *reason)
{
    ws_sub *s = arg;
    pthread_mutex_lock(&s->c->mu);
    if (!s->closed) {
        s->closed = true;
        s->close_code = code;
        snprintf(s->close_reason, sizeof s->close_reason, "%s", reason ? reason : "");
    }
    pthread_cond_broadcast(&s->c->cv);
    pthread_mutex_unlock(&s->c->mu);
}

static void sub_clear(ws_sub *s)
{
    while (s->head) {
        ws_msg *m = s->head;
        s->head = m->next;
        free(m);
    }
    s->tail = NULL;
    s->queued = 0;
    s->paused = false;
    s->closed = false;
    s->close_code = 0;
    s->close_reason[0] = '\0';
}

/* What a close code means, as the job's error.  final: reconnecting will
 * not help. */
static int close_error(gj_conn *c, int code, const char *reason, bool *final, gj_error *err)
{
    const char *what;
    int gjcode;
    *final = true;
    switch (code) {
    case 4400: gjcode = GJ_EPROTOCOL; what = "the server says a message was bad"; break;
    case 4401: gjcode = GJ_EAUTH; what = "unauthorized: subscribed before the connection was "
                                         "acknowledged"; break;
    case 4403: gjcode = GJ_EAUTH; what = "forbidden: the server refused the connection "
                                         "(connection_init payload)"; break;
    case 4406: gjcode = GJ_EUNSUPPORTED; what = "the server does not speak the subprotocol "
                                                "(option ws_protocol)"; break;
    case 4408: gjcode = GJ_ETIMEDOUT; what = "the server timed out waiting for "
                                             "connection_init"; break;
    case 4409: gjcode = GJ_EPROTOCOL; what = "a subscriber for this id already exists"; break;
    case 4429: gjcode = GJ_EPROTOCOL; what = "too many initialisation requests"; break;
    case 4500: gjcode = GJ_ESERVER; what = "internal server error"; *final = false; break;
    case 1009: gjcode = GJ_ETOOBIG; what = "a message was too big"; break;
    case 1011: gjcode = GJ_ESERVER; what = "the server failed"; *final = false; break;
    case 1000: gjcode = GJ_EIO; what = "the server closed the connection before complete";
        *final = false; break;
    case 1001: gjcode = GJ_EIO; what = "the server is going away"; *final = false; break;
    case 1006: gjcode = GJ_EIO; what = "the connection was lost"; *final = false; break;
    default: gjcode = code >= 4000 ? GJ_ESERVER : GJ_EIO; what = "closed"; *final = code >= 4000; break;
    }
    char num[16];
    snprintf(num, sizeof num, "%d", code);
    char msg[256];
    snprintf(msg, sizeof msg, "WebSocket closed with %d: %s%s%s%s", code, what,
             reason && *reason ? " (\"" : "", reason ? reason : "", reason && *reason ? "\")" : "");
    gj__server_error se = { gjcode, "graphql", num, code, NULL, 0, msg, NULL };
    gj__error_set_server(err, &se);
    gj__error_prefix(err, "%s", c->hostport);
    return gjcode;
}

typedef struct ws_run {
    gj_conn *c;
    gj__gql_op *op;
    gj_sink *sink;
    gj_error *err;
    ws_sub sub;
    gj_ws *ws;
    gj__gql_ws_reader rd;        /* the messages (legacy, events, got_data) */
    int reconnects;
} ws_run;

static int send_text(ws_run *r, const char *text, size_t len)
{
    return gj__ws_send(r->ws, text, len, false, gj__sink_deadline(r->sink), r->err);
}

/* {"type":"<type>"[,"id":"1"][,"payload":...]} */
static int send_typed(ws_run *r, const char *type, bool with_id)
{
    char buf[96];
    int n = snprintf(buf, sizeof buf, "{\"type\":\"%s\"%s}", type, with_id ? ",\"id\":\"1\"" : "");
    return send_text(r, buf, (size_t)n);
}

static int open_socket(ws_run *r)
{
    gj_conn *c = r->c;
    gj__gql_target *t = c->t;
    gj_ws_service *svc = NULL;
    int rc = gj__gql_ws_service(t, &svc, r->err);
    if (rc)
        return rc;
    if (gj__gql_socket(c))
        return gj__error_set(r->err, GJ_EUNSUPPORTED, "%s: WebSocket over a unix socket is not "
                             "supported", c->hostport);
    char name[340];
    snprintf(name, sizeof name, "graphql %s", c->hostport);
    /* Upgrade headers: credentials, the target's headers and cookies, the
     * request's headers. */
    const char *headers[GJ__HTTP_MAX_FIXED * 2 + 4];
    size_t nh = 0;
    char auth[4200] = "";
    const gj_target_settings *ts = t->ts;
    if (t->bearer) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %.4096s", t->bearer);
        headers[nh++] = auth;
    } else if (ts->username) {
        /* Basic: base64(user ":" password). */
        static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        char plain[2100];
        int pn = snprintf(plain, sizeof plain, "%.1024s:%.1024s", ts->username,
                          ts->password ? ts->password : "");
        char *o = auth + snprintf(auth, sizeof auth, "Authorization: Basic ");
        unsigned bits = 0, have = 0;
        for (int i = 0; i < pn; i++) {
            bits = (bits << 8) | (unsigned char)plain[i];
            have += 8;
            while (have >= 6) {
                have -= 6;
                *o++ = b64[(bits >> have) & 63];
            }
        }
        if (have)
            *o++ = b64[(bits << (6 - have)) & 63];
        for (int k = pn % 3; k > 0 && k < 3; k++)
            *o++ = '=';
        *o = '\0';
        explicit_bzero(plain, sizeof plain);
        headers[nh++] = auth;
    }
    for (size_t i = 0; i < t->n_headers; i++)
        headers[nh++] = t->headers[i];
    for (size_t i = 0; i < r->op->n_headers; i++)
        headers[nh++] = r->op->headers[i];
    char *cookie = NULL;
    if (t->cookie || r->op->cookie) {
        size_t n = 16 + (t->cookie ? strlen(t->cookie) : 0) + (r->op->cookie ? strlen(r->op->cookie) : 0);
        if ((cookie = malloc(n)) != NULL) {
            snprintf(cookie, n, "Cookie: %s%s%s", t->cookie ? t->cookie : "",
                     t->cookie && r->op->cookie ? "; " : "", r->op->cookie ? r->op->cookie : "");
            headers[nh++] = cookie;
        }
    }
    const char *protos = t->ws_proto == GJ__GQL_WS_TRANSPORT ? "graphql-transport-ws"
                         : t->ws_proto == GJ__GQL_WS_LEGACY  ? "graphql-ws"
                                                             : "graphql-transport-ws, graphql-ws";
    gj_ws_config wc = {
        .name = name,
        .host = c->host,
        .port = c->port,
        .path = t->ws_path ? t->ws_path : t->path,
        .tls = t->tls,
        .verify = ts->ssl_verify,
        .ca = ts->ssl_cafile,
        .certfile = ts->ssl_certfile,
        .keyfile = ts->ssl_keyfile,
        .key_password = ts->ssl_password,
        .subprotocols = protos,
        .headers = headers,
        .n_headers = nh,
        .max_message = ts->max_message_size,
        .ping_interval_ms = t->ping_interval_ms,
    };
    gj_ws_handlers h = { on_message, on_close, &r->sub };
    int64_t deadline = gj__sink_deadline(r->sink);
    int64_t ct = ts->connect_timeout_ms > 0 ? gj__now_ms() + ts->connect_timeout_ms : INT64_MAX;
    rc = gj__ws_connect(&r->ws, svc, &wc, &h, NULL, ct < deadline ? ct : deadline, r->err);
    explicit_bzero(auth, sizeof auth);
    free(cookie);
    if (rc) {
        r->ws = NULL;
        return rc;
    }
    const char *chosen = gj__ws_protocol(r->ws);
    r->rd.legacy = chosen && strcmp(chosen, "graphql-ws") == 0;
    return 0;
}

static void close_socket(ws_run *r, int code, const char *reason)
{
    if (!r->ws)
        return;
    gj__ws_close(r->ws, code, reason);
    r->ws = NULL;
    pthread_mutex_lock(&r->c->mu);
    sub_clear(&r->sub);
    pthread_mutex_unlock(&r->c->mu);
}

/* Wait for the next message (taken off the queue: the caller frees it), or
 * the close (*closed), the job's cancel, the deadline. */
static int next_message(ws_run *r, int64_t deadline, ws_msg **out, bool *closed)
{
    gj_conn *c = r->c;
    int rc = 0;
    *out = NULL;
    *closed = false;
    pthread_mutex_lock(&c->mu);
    for (;;) {
        /* The cancel and the deadline are looked at on every pass, even
         * while messages keep coming. */
        if (gj__gql_cancelled(c, r->sink)) {
            rc = GJ_ECANCELLED;
            break;
        }
        if (deadline != INT64_MAX && gj__now_ms() >= deadline) {
            rc = GJ_ETIMEDOUT;
            break;
        }
        if (r->sub.head) {
            ws_msg *m = r->sub.head;
            r->sub.head = m->next;
            if (!r->sub.head)
                r->sub.tail = NULL;
            r->sub.queued -= m->len;
            *out = m;
            break;
        }
        if (r->sub.closed) {
            *closed = true;
            break;
        }
        /* Nothing yet: sleep until the service thread queues more.  (No
         * yield-spinning first: on a busy machine it takes the CPU from the
         * very server whose events it waits for; bench/graphql (c) measured
         * 76-78 k events/s with 20 yields, 89-107 k without.) */
        if ((rc = gj__gql_wait(c, r->sink, deadline)) != 0)
            break;
    }
    bool pause = r->sub.queued > QUEUE_PAUSE, change = pause != r->sub.paused;
    r->sub.paused = pause;
    pthread_mutex_unlock(&c->mu);
    if (change && r->ws)
        gj__ws_pause(r->ws, pause);
    return rc;
}

json_object *gj__gql_ws_parse(const char *data, size_t len, const char **type,
                              json_object **payload)
{
    json_object *j = gj__gql_json_parse(data, len);
    json_object *t = NULL;
    if (!j || !json_object_is_type(j, json_type_object) ||
        !json_object_object_get_ex(j, "type", &t) || !json_object_is_type(t, json_type_string)) {
        if (j)
            json_object_put(j);
        return NULL;
    }
    *type = json_object_get_string(t);
    *payload = NULL;
    json_object_object_get_ex(j, "payload", payload);
    return j;
}

int gj__gql_ws_handshake_message(gj__gql_ws_reader *rd, const char *data, size_t len,
                                 gj__gql_ws_action *out)
{
    gj_conn *c = rd->c;
    const char *type = NULL;
    json_object *payload = NULL;
    *out = GJ__GQL_WS_NOTHING;
    json_object *j = gj__gql_ws_parse(data, len, &type, &payload);
    if (!j)
        return gj__error_set(rd->err, GJ_EPROTOCOL, "%s: a WebSocket message that is not a "
                             "GraphQL over WebSocket message", c->hostport);
    int rc = 0;
    if (strcmp(type, "connection_ack") == 0) {
        *out = GJ__GQL_WS_ACKED;
    } else if (strcmp(type, "ping") == 0 && !rd->legacy) {
        *out = GJ__GQL_WS_PONG;
    } else if (strcmp(type, "connection_error") == 0) {
        const char *msg = payload ? json_object_to_json_string_ext(payload, JSON_C_TO_STRING_PLAIN)
                                  : "no payload";
        rc = gj__error_set(rd->err, GJ_EAUTH, "%s: the server refused the connection "
                           "(connection_error: %.300s)", c->hostport, msg);
    }
    json_object_put(j);   /* ka, pong, ...: ignored */
    return rc;
}

/* Open, initialise and wait for the acknowledgement. */
static int handshake(ws_run *r)
{
    gj_conn *c = r->c;
    int rc = open_socket(r);
    if (rc)
        return rc;
    gj__gql_buf init = { 0 };
    gj__gql_buf_puts(&init, "{\"type\":\"connection_init\"");
    if (c->t->connection_params) {
        gj__gql_buf_puts(&init, ",\"payload\":");
        gj__gql_buf_json_value(&init, c->t->connection_params);
    }
    gj__gql_buf_puts(&init, "}");
    rc = init.nomem ? gj__error_set(r->err, GJ_ENOMEM, "out of memory")
                    : send_text(r, init.p, init.len);
    gj__gql_buf_free(&init);
    if (rc)
        return rc;
    int64_t deadline = gj__sink_deadline(r->sink);
    int64_t ack_by = c->t->ack_timeout_ms > 0 ? gj__now_ms() + c->t->ack_timeout_ms : INT64_MAX;
    bool ack_limits = ack_by < deadline;
    for (;;) {
        ws_msg *m = NULL;
        bool closed = false;
        rc = next_message(r, ack_limits ? ack_by : deadline, &m, &closed);
        if (rc == GJ_ETIMEDOUT && ack_limits)
            return gj__error_set(r->err, GJ_ETIMEDOUT, "%s: no connection_ack within %lld ms "
                                 "(option ack_timeout)", c->hostport,
                                 (long long)c->t->ack_timeout_ms);
        if (rc)
            return rc;
        if (closed) {
            bool final;
            return close_error(c, r->sub.close_code, r->sub.close_reason, &final, r->err);
        }
        gj__gql_ws_action action;
        rc = gj__gql_ws_handshake_message(&r->rd, m->data, m->len, &action);
        free(m);
        if (rc)
            return rc;
        if (action == GJ__GQL_WS_ACKED)
            return 0;
        if (action == GJ__GQL_WS_PONG && (rc = send_typed(r, "pong", false)) != 0)
            return rc;
    }
}

static int subscribe(ws_run *r)
{
    gj__gql_buf msg = { 0 };
    gj__gql_buf_puts(&msg, r->rd.legacy ? "{\"type\":\"start\",\"id\":\"1\",\"payload\":"
                                     : "{\"type\":\"subscribe\",\"id\":\"1\",\"payload\":");
    gj__gql_body(&msg, r->op, true, false, NULL);
    gj__gql_buf_puts(&msg, "}");
    int rc = msg.nomem ? gj__error_set(r->err, GJ_ENOMEM, "out of memory")
                       : send_text(r, msg.p, msg.len);
    gj__gql_buf_free(&msg);
    return rc;
}

/* A next / data payload. */
static int take_next(gj__gql_ws_reader *rd, json_object *payload, size_t bytes)
{
    gj_conn *c = rd->c;
    if (!payload || !json_object_is_type(payload, json_type_object))
        return gj__error_set(rd->err, GJ_EPROTOCOL, "%s: a next message without a payload",
                             c->hostport);
    rd->events++;
    if (rd->type != GJ__GQL_SUBSCRIPTION) {
        if (rd->got_data)
            return 0;   /* a query answers once */
        gj__gql_response resp;
        json_object *root = json_object_get(payload);
        if (!gj__gql_take(root, &resp)) {
            json_object_put(root);
            return gj__error_set(rd->err, GJ_EPROTOCOL, "%s: a next payload that is not a "
                                 "GraphQL response", c->hostport);
        }
        rd->got_data = true;
        return gj__gql_reply_parsed(c, 200, &resp, rd->sink, rd->err);
    }
    gj_value *row = NULL;
    int rc = gj__json_to_value(payload, &row, rd->err);
    if (rc)
        return rc;
    rc = gj__sink_row_sized(rd->sink, row, bytes);
    if (rc == GJ_EABORTED)
        return gj__error_set(rd->err, GJ_EABORTED, "the row callback stopped");
    if (rc == GJ_ETOOBIG)
        return gj__sink_too_big(rd->sink, rd->err);
    return rc ? gj__error_set(rd->err, rc, "out of memory for the result") : 0;
}

int gj__gql_ws_stream_message(gj__gql_ws_reader *rd, const char *data, size_t len,
                              gj__gql_ws_action *out)
{
    gj_conn *c = rd->c;
    const char *type = NULL;
    json_object *payload = NULL;
    *out = GJ__GQL_WS_NOTHING;
    json_object *j = gj__gql_ws_parse(data, len, &type, &payload);
    if (!j)
        return gj__error_set(rd->err, GJ_EPROTOCOL, "%s: a WebSocket message that is not a "
                             "GraphQL over WebSocket message", c->hostport);
    int rc = 0;
    json_object *id = NULL;
    bool ours = !json_object_object_get_ex(j, "id", &id) ||
                (json_object_is_type(id, json_type_string) &&
                 strcmp(json_object_get_string(id), "1") == 0);
    if ((strcmp(type, "next") == 0 || (rd->legacy && strcmp(type, "data") == 0)) && ours) {
        rc = take_next(rd, payload, len);
    } else if (strcmp(type, "complete") == 0 && ours) {
        if (rd->type != GJ__GQL_SUBSCRIPTION && !rd->got_data)
            rc = gj__error_set(rd->err, GJ_EPROTOCOL, "%s: complete without a result",
                               c->hostport);
        else
            *out = GJ__GQL_WS_COMPLETE;
    } else if (strcmp(type, "error") == 0 && ours) {
        json_object *errors = payload;
        json_object *wrapped = NULL;
        if (errors && json_object_is_type(errors, json_type_object)) {
            /* The legacy protocol's error payload is one error. */
            wrapped = json_object_new_array();
            if (wrapped)
                json_object_array_add(wrapped, json_object_get(errors));
            errors = wrapped;
        } else if (errors && !json_object_is_type(errors, json_type_array)) {
            errors = NULL;   /* neither errors nor one error: none */
        }
        rc = gj__gql_fail(c, 200, errors && json_object_array_length(errors) ? errors : NULL,
                          "the server answered error without errors", rd->err);
        gj__error_prefix(rd->err, "after %zu event%s", rd->events, rd->events == 1 ? "" : "s");
        if (wrapped)
            json_object_put(wrapped);
    } else if (strcmp(type, "ping") == 0 && !rd->legacy) {
        *out = GJ__GQL_WS_PONG;
    }
    /* pong, ka, another id: nothing to do. */
    json_object_put(j);
    return rc;
}

/* Stop the operation (cancel, a row callback that stopped, a limit). */
static void stop_operation(ws_run *r)
{
    if (!r->ws || !gj__ws_is_open(r->ws))
        return;
    gj_error *e = gj_error_new();
    gj_error *keep = r->err;
    r->err = e;
    if (r->rd.legacy) {
        send_typed(r, "stop", true);
        send_typed(r, "connection_terminate", false);
    } else {
        send_typed(r, "complete", true);
    }
    r->err = keep;
    gj_error_free(e);
}

/* The operation on an open, acknowledged socket, until complete. */
static int stream(ws_run *r, bool *lost)
{
    gj_conn *c = r->c;
    *lost = false;
    int rc = subscribe(r);
    if (rc)
        return rc;
    int64_t deadline = gj__sink_deadline(r->sink);
    for (;;) {
        ws_msg *m = NULL;
        bool closed = false;
        rc = next_message(r, deadline, &m, &closed);
        if (rc == GJ_ECANCELLED)
            return gj__error_set(r->err, GJ_ECANCELLED, "%s: cancelled (complete sent)",
                                 c->hostport);
        if (rc == GJ_ETIMEDOUT)
            return gj__error_set(r->err, GJ_ETIMEDOUT, "%s: not complete within the timeout "
                                 "(%zu event%s)", c->hostport, r->rd.events,
                                 r->rd.events == 1 ? "" : "s");
        if (rc)
            return rc;
        if (closed) {
            bool final = true;
            rc = close_error(c, r->sub.close_code, r->sub.close_reason, &final, r->err);
            *lost = !final;
            return rc;
        }
        gj__gql_ws_action action;
        rc = gj__gql_ws_stream_message(&r->rd, m->data, m->len, &action);
        free(m);
        if (rc)
            return rc;
        if (action == GJ__GQL_WS_COMPLETE)
            return 0;
        if (action == GJ__GQL_WS_PONG && (rc = send_typed(r, "pong", false)) != 0)
            return rc;
    }
}

int gj__gql_ws_execute(gj_conn *c, gj__gql_op *op, gj_sink *sink, gj_error *err)
{
    ws_run r = { .c = c, .op = op, .sink = sink, .err = err,
                 .rd = { .c = c, .sink = sink, .err = err, .type = op->type } };
    r.sub.c = c;
    int rc;
    for (;;) {
        bool lost = false;
        rc = handshake(&r);
        if (!rc)
            rc = stream(&r, &lost);
        /* Ended from this side while the server still streams: say so. */
        if (rc == GJ_ECANCELLED || rc == GJ_EABORTED || rc == GJ_ETOOBIG || rc == GJ_ETIMEDOUT ||
            rc == GJ_ENOMEM)
            stop_operation(&r);
        close_socket(&r, 1000, "");
        if (!lost || r.reconnects >= c->t->reconnect || op->type != GJ__GQL_SUBSCRIPTION)
            break;
        /* Lost mid-stream: open again and subscribe again. */
        r.reconnects++;
        gj__log(c->t->log, GJ_LOG_INFO, "graphql %s: %s; reconnecting (%d of %d)", c->hostport,
                gj_error_message(err), r.reconnects, c->t->reconnect);
        int64_t until = gj__now_ms() + c->t->reconnect_delay_ms;
        pthread_mutex_lock(&c->mu);
        int wrc = 0;
        while (gj__now_ms() < until && (wrc = gj__gql_wait(c, sink, until)) == 0)
            ;
        pthread_mutex_unlock(&c->mu);
        if (wrc == GJ_ECANCELLED) {
            rc = gj__error_set(err, GJ_ECANCELLED, "%s: cancelled while reconnecting",
                               c->hostport);
            break;
        }
        if (gj__sink_deadline(sink) != INT64_MAX && gj__now_ms() >= gj__sink_deadline(sink)) {
            rc = gj__error_set(err, GJ_ETIMEDOUT, "%s: not complete within the timeout",
                               c->hostport);
            break;
        }
        gj_error_clear(err);
    }
    if (!rc && op->type == GJ__GQL_SUBSCRIPTION) {
        gj_value *n = gj_value_int((int64_t)r.rd.events);
        gj_value *t = gj_value_string(r.rd.legacy ? "graphql-ws" : "graphql-transport-ws");
        gj_value *k = gj_value_int(r.reconnects);
        if (gj__sink_meta(sink, "events", n) != 0 || gj__sink_meta(sink, "transport", t) != 0 ||
            gj__sink_meta(sink, "reconnects", k) != 0)
            rc = gj__error_set(err, GJ_ENOMEM, "out of memory");
    }
    return rc;
}
