/*
 * The GraphQL backend (name "graphql"; schemes graphql, graphql+http,
 * graphql+https, graphql+ws, graphql+wss, graphql+unix; default port 80, or
 * 443 with TLS; default path /graphql).  libcurl (lib/transport/http) for
 * GraphQL over HTTP and graphql-sse, libwebsockets (lib/transport/ws) for
 * graphql-transport-ws and the legacy graphql-ws protocol, json-c for the
 * replies, OpenSSL for SHA-256.
 *
 * A target's connections share a curl share (cookie jar, DNS and TLS
 * session caches), the batcher (when batching is on) and one WebSocket
 * service thread (made at the first subscription).  A connection is one
 * curl easy handle; connect() does no I/O (curl connects at the first
 * request, so a job that the batcher or a WebSocket serves never opens an
 * HTTP connection).  A host that is an absolute path (the URL form
 * graphql+unix:///run/app.sock:/graphql) or the option unix_socket is a
 * unix socket.
 *
 * Operations: query (any document; a subscription document runs as op
 * subscribe), subscribe, introspect.  docs/graphql.md lists the options,
 * the meta keys and the error mapping.
 */
#include "backend/graphql/gql.h"
#include "config/config_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define DEFAULT_BATCH_WINDOW_MS 5
#define DEFAULT_BATCH_MAX 10
#define MAX_BATCH 1000
#define DEFAULT_ACK_TIMEOUT_MS 10000
#define DEFAULT_RECONNECT_DELAY_MS 500

/* ---- target options ---------------------------------------------------------- */

static int want_bool(const char *key, const gj_value *v, bool *out, gj_error *err)
{
    const char *s = NULL;
    if (gj_value_bool_get(v, out) == 0)
        return 0;
    if (gj_value_string_get(v, &s, NULL) == 0 && gj__config_parse_bool(s, out, NULL) == 0)
        return 0;
    return gj__error_set(err, GJ_ECONFIG, "graphql option %s: a bool expected", key);
}

static int want_ms(const char *key, const gj_value *v, int64_t *out, gj_error *err)
{
    const char *s = NULL;
    if (gj_value_int_get(v, out) == 0 && *out >= 0)
        return 0;
    if (gj_value_string_get(v, &s, NULL) == 0 && gj__config_parse_duration(s, false, out, NULL) == 0)
        return 0;
    return gj__error_set(err, GJ_ECONFIG, "graphql option %s: a duration expected "
                         "(milliseconds, or \"250ms\", \"5s\" ...)", key);
}

static int want_string(const char *key, const gj_value *v, char **out, gj_error *err)
{
    const char *s = NULL;
    size_t n = 0;
    if (gj_value_string_get(v, &s, &n) != 0 || n != strlen(s) || !n)
        return gj__error_set(err, GJ_ECONFIG, "graphql option %s: a string expected", key);
    free(*out);
    if (!(*out = gj__strdup(s)))
        return gj__error_set(err, GJ_ENOMEM, "out of memory");
    return 0;
}

static int want_path(const char *key, const gj_value *v, char **out, gj_error *err)
{
    int rc = want_string(key, v, out, err);
    if (!rc && ((*out)[0] != '/' || strpbrk(*out, " \t\r\n")))
        return gj__error_set(err, GJ_ECONFIG, "graphql option %s: a path starting with '/' "
                             "expected", key);
    return rc;
}

static int header_option(gj__gql_target *t, const gj_value *v, gj_error *err)
{
    if (gj_value_type(v) != GJ_TMAP || gj_value_size(v) > GJ__HTTP_MAX_FIXED)
        return gj__error_set(err, GJ_ECONFIG, "graphql option headers: a map of at most %d "
                             "name -> value strings expected", GJ__HTTP_MAX_FIXED);
    if (!(t->headers = calloc(gj_value_size(v) + 1, sizeof *t->headers)))
        return gj__error_set(err, GJ_ENOMEM, "out of memory");
    for (size_t i = 0; i < gj_value_size(v); i++) {
        const char *k = NULL, *s = NULL;
        size_t kl = 0, sl = 0;
        if (gj_value_string_get(gj_value_map_key_at(v, i), &k, &kl) != 0 ||
            gj_value_string_get(gj_value_map_value_at(v, i), &s, &sl) != 0 || !kl ||
            kl != strlen(k) || sl != strlen(s) || strpbrk(k, ": \t\r\n") || strpbrk(s, "\r\n"))
            return gj__error_set(err, GJ_ECONFIG, "graphql option headers: bad header %.64s",
                                 k ? k : "");
        size_t n = kl + sl + 3;
        if (!(t->headers[t->n_headers] = malloc(n)))
            return gj__error_set(err, GJ_ENOMEM, "out of memory");
        snprintf(t->headers[t->n_headers++], n, "%s: %s", k, s);
    }
    return 0;
}

static int parse_options(gj__gql_target *t, const gj_value *o, gj_error *err)
{
    for (size_t i = 0; o && i < gj_value_size(o); i++) {
        const char *key = NULL;
        const gj_value *v = gj_value_map_value_at(o, i);
        int64_t n = 0;
        char *s = NULL;
        int rc = 0;
        if (gj_value_string_get(gj_value_map_key_at(o, i), &key, NULL) != 0)
            return gj__error_set(err, GJ_ECONFIG, "graphql options: keys must be strings");
        if (strcmp(key, "headers") == 0)
            rc = header_option(t, v, err);
        else if (strcmp(key, "cookies") == 0)
            rc = gj__gql_cookie_string(v, "graphql option cookies", &t->cookie, err) ? GJ_ECONFIG : 0;
        else if (strcmp(key, "cookie_jar") == 0)
            rc = want_bool(key, v, &t->cookie_jar, err);
        else if (strcmp(key, "token") == 0)
            rc = want_string(key, v, &t->bearer, err);
        else if (strcmp(key, "method") == 0) {
            if (!(rc = want_string(key, v, &s, err))) {
                if (strcasecmp(s, "GET") == 0)
                    t->use_get = true;
                else if (strcasecmp(s, "POST") == 0)
                    t->use_get = false;
                else
                    rc = gj__error_set(err, GJ_ECONFIG, "graphql option method: \"GET\" (queries "
                                       "over GET) or \"POST\" expected");
            }
        } else if (strcmp(key, "compressed") == 0)
            rc = want_bool(key, v, &t->compressed, err);
        else if (strcmp(key, "http2") == 0)
            rc = want_bool(key, v, &t->http2, err);
        else if (strcmp(key, "unix_socket") == 0) {
            if (!(rc = want_string(key, v, &t->unix_socket, err)) && t->unix_socket[0] != '/')
                rc = gj__error_set(err, GJ_ECONFIG, "graphql option unix_socket: an absolute "
                                   "path expected");
        } else if (strcmp(key, "persisted_queries") == 0)
            rc = want_bool(key, v, &t->apq, err);
        else if (strcmp(key, "batch") == 0)
            rc = want_bool(key, v, &t->batch, err);
        else if (strcmp(key, "batch_window") == 0)
            rc = want_ms(key, v, &t->batch_window_ms, err);
        else if (strcmp(key, "batch_max") == 0) {
            if (gj_value_int_get(v, &n) != 0 || n < 1 || n > MAX_BATCH)
                rc = gj__error_set(err, GJ_ECONFIG, "graphql option batch_max: an int from 1 to "
                                   "%d expected", MAX_BATCH);
            else
                t->batch_max = (size_t)n;
        } else if (strcmp(key, "subscription_transport") == 0) {
            if (!(rc = want_string(key, v, &s, err))) {
                if (strcmp(s, "ws") == 0)
                    t->sub_transport = GJ__GQL_SUB_WS;
                else if (strcmp(s, "sse") == 0)
                    t->sub_transport = GJ__GQL_SUB_SSE;
                else
                    rc = gj__error_set(err, GJ_ECONFIG, "graphql option subscription_transport: "
                                       "\"ws\" or \"sse\" expected");
            }
        } else if (strcmp(key, "ws_path") == 0)
            rc = want_path(key, v, &t->ws_path, err);
        else if (strcmp(key, "sse_path") == 0)
            rc = want_path(key, v, &t->sse_path, err);
        else if (strcmp(key, "ws_protocol") == 0) {
            if (!(rc = want_string(key, v, &s, err))) {
                if (strcmp(s, "auto") == 0)
                    t->ws_proto = GJ__GQL_WS_AUTO;
                else if (strcmp(s, "graphql-transport-ws") == 0)
                    t->ws_proto = GJ__GQL_WS_TRANSPORT;
                else if (strcmp(s, "graphql-ws") == 0)
                    t->ws_proto = GJ__GQL_WS_LEGACY;
                else
                    rc = gj__error_set(err, GJ_ECONFIG, "graphql option ws_protocol: \"auto\", "
                                       "\"graphql-transport-ws\" or \"graphql-ws\" expected");
            }
        } else if (strcmp(key, "connection_params") == 0) {
            if (gj_value_type(v) != GJ_TMAP)
                rc = gj__error_set(err, GJ_ECONFIG, "graphql option connection_params: a map "
                                   "expected");
            else
                t->connection_params = gj_value_ref(v);
        } else if (strcmp(key, "ack_timeout") == 0)
            rc = want_ms(key, v, &t->ack_timeout_ms, err);
        else if (strcmp(key, "ping_interval") == 0)
            rc = want_ms(key, v, &t->ping_interval_ms, err);
        else if (strcmp(key, "reconnect") == 0) {
            bool b = false;
            if (gj_value_int_get(v, &n) == 0 && n >= 0 && n <= 1000)
                t->reconnect = (int)n;
            else if (want_bool(key, v, &b, NULL) == 0)
                t->reconnect = b ? 5 : 0;
            else
                rc = gj__error_set(err, GJ_ECONFIG, "graphql option reconnect: a number of "
                                   "attempts (0 to 1000) or a bool expected");
        } else if (strcmp(key, "reconnect_delay") == 0)
            rc = want_ms(key, v, &t->reconnect_delay_ms, err);
        else
            rc = gj__error_set(err, GJ_ECONFIG, "graphql backend: unknown option %.64s", key);
        free(s);
        if (rc)
            return rc;
    }
    return 0;
}

static void target_free(gj__gql_target *t)
{
    if (!t)
        return;
    gj__gql_batcher_free(t->batcher);
    gj__ws_service_free(t->ws_service);
    gj__http_share_free(t->share);
    for (size_t i = 0; i < t->n_headers; i++) {
        explicit_bzero(t->headers[i], strlen(t->headers[i]));
        free(t->headers[i]);
    }
    free(t->headers);
    free(t->cookie);
    if (t->bearer) {
        explicit_bzero(t->bearer, strlen(t->bearer));
        free(t->bearer);
    }
    free(t->path);
    free(t->unix_socket);
    free(t->ws_path);
    free(t->sse_path);
    gj_value_unref(t->connection_params);
    pthread_mutex_destroy(&t->mu);
    free(t);
}

static int gql_target_open(void **ctx, const gj_target_settings *ts, const gj_logger *log,
                           gj_error *err)
{
    gj__gql_target *t = calloc(1, sizeof *t);
    if (!t || pthread_mutex_init(&t->mu, NULL) != 0) {
        free(t);
        return gj__error_set(err, GJ_ENOMEM, "out of memory");
    }
    t->ts = ts;
    t->log = log;
    t->cookie_jar = true;
    t->compressed = true;
    t->batch_window_ms = DEFAULT_BATCH_WINDOW_MS;
    t->batch_max = DEFAULT_BATCH_MAX;
    t->ack_timeout_ms = DEFAULT_ACK_TIMEOUT_MS;
    t->reconnect_delay_ms = DEFAULT_RECONNECT_DELAY_MS;
    const char *scheme = ts->scheme ? ts->scheme : "";
    t->tls = ts->tls || strcmp(scheme, "graphql+https") == 0 || strcmp(scheme, "graphql+wss") == 0;
    t->ws_scheme = strcmp(scheme, "graphql+ws") == 0 || strcmp(scheme, "graphql+wss") == 0;
    int rc = parse_options(t, ts->options, err);
    if (!rc && !(t->path = gj__strdup(ts->path && *ts->path ? ts->path : GJ__GQL_DEFAULT_PATH)))
        rc = gj__error_set(err, GJ_ENOMEM, "out of memory");
    /* A password without a user name is a bearer token (as for Bolt). */
    if (!rc && !t->bearer && !ts->username && ts->password &&
        !(t->bearer = gj__strdup(ts->password)))
        rc = gj__error_set(err, GJ_ENOMEM, "out of memory");
    if (!rc)
        rc = gj__http_share_new(&t->share, t->cookie_jar, err);
    if (!rc && t->batch)
        rc = gj__gql_batcher_new(&t->batcher, t, err);
    if (rc) {
        target_free(t);
        return rc;
    }
    *ctx = t;
    return 0;
}

static void gql_target_close(void *ctx)
{
    target_free(ctx);
}

/* ---- connections ----------------------------------------------------------- */

int gj__gql_ws_service(gj__gql_target *t, gj_ws_service **out, gj_error *err)
{
    pthread_mutex_lock(&t->mu);
    int rc = 0;
    if (!t->ws_service)
        rc = gj__ws_service_new(&t->ws_service, "graphql", t->log, err);
    *out = t->ws_service;
    pthread_mutex_unlock(&t->mu);
    return rc;
}

int gj__gql_http_new(gj__gql_target *t, const char *base_url, const char *name,
                     const char *socket, gj_http **out, gj_error *err)
{
    const gj_target_settings *ts = t->ts;
    gj_http_config hc = {
        .name = name,
        .base_url = base_url,
        .unix_socket = socket,
        .verify = ts->ssl_verify,
        .ca = ts->ssl_cafile,
        .certfile = ts->ssl_certfile,
        .keyfile = ts->ssl_keyfile,
        .key_password = ts->ssl_password,
        .http2 = t->http2,
        .compressed = t->compressed,
        .connect_timeout_ms = ts->connect_timeout_ms > 0 ? ts->connect_timeout_ms : 0,
        .max_body = ts->max_message_size ? ts->max_message_size : (size_t)64 << 20,
        .username = t->bearer ? NULL : ts->username,
        .password = t->bearer ? NULL : ts->password,
        .bearer = t->bearer,
        .accept = GJ__GQL_ACCEPT,
        .content_type = "application/json",
        .headers = (const char *const *)t->headers,
        .n_headers = t->n_headers,
        .share = t->share,
        .cookies = t->cookie_jar,
        .cookie = t->cookie,
    };
    return gj__http_new(out, &hc, err);
}

static void gql_close(gj_conn *c)
{
    if (!c)
        return;
    gj__http_free(c->http);
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

static int gql_connect(gj_conn **out, const gj_endpoint *ep, const gj_target_settings *ts,
                       const gj_logger *log, const gj_abort *abort, int64_t deadline_ms,
                       gj_error *err)
{
    (void)log;
    gj__gql_target *t = ep->target_ctx;
    int arc = gj__abort_check(abort);
    if (arc)
        return gj__error_set(err, arc, "graphql %s:%d: %s", ep->host, ep->port,
                             gj__abort_reason(arc));
    if (!t)
        return gj__error_set(err, GJ_EINVAL, "graphql: no target state");
    gj_conn *c = calloc(1, sizeof *c);
    if (!c)
        return gj__error_set(err, GJ_ENOMEM, "out of memory connecting to %s", ep->host);
    pthread_condattr_t ca;
    bool ok = pthread_condattr_init(&ca) == 0;
    ok = ok && pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0 &&
         pthread_cond_init(&c->cv, &ca) == 0;
    pthread_condattr_destroy(&ca);
    if (!ok || pthread_mutex_init(&c->mu, NULL) != 0) {
        if (ok)
            pthread_cond_destroy(&c->cv);
        free(c);
        return gj__error_set(err, GJ_ENOMEM, "out of memory connecting to %s", ep->host);
    }
    atomic_init(&c->interrupted, false);
    c->t = t;
    c->host = ep->host;
    c->port = ep->port;
    /* https:// without a port: 443 (the pool defaults a missing port to 80). */
    if (t->tls && ep->host_index < ts->n_hosts && ts->hosts[ep->host_index].port == 0 &&
        ts->port == 0 && ep->port == GJ__GQL_DEFAULT_PORT)
        c->port = 443;
    const char *socket = t->unix_socket ? t->unix_socket : ep->host[0] == '/' ? ep->host : NULL;
    bool v6 = strchr(ep->host, ':') != NULL;
    if (socket) {
        snprintf(c->hostport, sizeof c->hostport, "%.290s", socket);
        snprintf(c->base_url, sizeof c->base_url, "http://localhost");
    } else {
        snprintf(c->hostport, sizeof c->hostport, "%s%.280s%s:%d", v6 ? "[" : "", ep->host,
                 v6 ? "]" : "", c->port);
        snprintf(c->base_url, sizeof c->base_url, "%s://%s", t->tls ? "https" : "http",
                 c->hostport);
    }
    (void)deadline_ms;   /* nothing is sent here: each request has its own deadline */
    int rc = gj__gql_http_new(t, c->base_url, c->hostport, socket, &c->http, err);
    if (rc) {
        gql_close(c);
        return rc;
    }
    *out = c;
    return 0;
}

static void gql_interrupt(gj_conn *c)
{
    pthread_mutex_lock(&c->mu);
    atomic_store(&c->interrupted, true);
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    gj__http_interrupt(c->http);
}

static bool gql_usable(gj_conn *c)
{
    return !c->broken && !atomic_load(&c->interrupted) && !gj__http_interrupt_pending(c->http);
}

const char *gj__gql_socket(const gj_conn *c)
{
    return c->t->unix_socket ? c->t->unix_socket : c->host[0] == '/' ? c->host : NULL;
}

const char *gj__gql_path(const gj_conn *c)
{
    return c->t->path;
}

bool gj__gql_cancelled(gj_conn *c, gj_sink *sink)
{
    if (gj__sink_cancel_requested(sink))
        return true;
    return atomic_load(&c->interrupted);
}

int gj__gql_wait(gj_conn *c, gj_sink *sink, int64_t deadline_ms)
{
    if (gj__gql_cancelled(c, sink))
        return GJ_ECANCELLED;
    if (deadline_ms != INT64_MAX && gj__now_ms() >= deadline_ms)
        return GJ_ETIMEDOUT;
    /* A slice: the sink's cancel flag is also looked at without a wake-up. */
    int64_t until = gj__now_ms() + 1000;
    if (deadline_ms < until)
        until = deadline_ms;
    struct timespec ts;
    gj__deadline_to_timespec(until, &ts);
    int e = pthread_cond_timedwait(&c->cv, &c->mu, &ts);
    (void)e;
    if (gj__gql_cancelled(c, sink))
        return GJ_ECANCELLED;
    if (deadline_ms != INT64_MAX && gj__now_ms() >= deadline_ms)
        return GJ_ETIMEDOUT;
    return 0;
}

/* ---- execute ------------------------------------------------------------------ */

static int gql_execute(gj_conn *c, const gj_request *req, gj_sink *sink, gj_error *err)
{
    /* Both records are taken (and so reset), whichever was set. */
    bool flagged = atomic_exchange(&c->interrupted, false);
    bool taken = gj__http_take_interrupt(c->http);
    if (flagged || taken) {
        c->broken = true;
        return gj__error_set(err, GJ_ECANCELLED, "%s: cancelled before it started", c->hostport);
    }
    const char *verb = gj_request_op(req);
    if (strcmp(verb, GJ_OP_QUERY) != 0 && strcmp(verb, GJ_OP_SUBSCRIBE) != 0 &&
        strcmp(verb, GJ_OP_INTROSPECT) != 0)
        return gj__error_set(err, GJ_EUNSUPPORTED, "graphql backend has no operation %.64s "
                             "(query, subscribe, introspect)", verb);
    gj__gql_op op;
    int rc = gj__gql_op_init(&op, c->t, req, verb, err);
    if (rc) {
        gj__gql_op_clear(&op);
        return rc;
    }
    const char *transport = NULL;
    const gj_value *tv = gj_request_option(req, "transport");
    if (tv && (gj_value_string_get(tv, &transport, NULL) != 0 ||
               (strcmp(transport, "ws") && strcmp(transport, "sse") && strcmp(transport, "http")))) {
        gj__gql_op_clear(&op);
        return gj__error_set(err, GJ_EINVAL, "option transport: \"http\", \"ws\" or \"sse\" "
                             "expected");
    }
    bool ws = transport ? strcmp(transport, "ws") == 0
                        : c->t->ws_scheme || (op.type == GJ__GQL_SUBSCRIPTION &&
                                              c->t->sub_transport == GJ__GQL_SUB_WS);
    bool sse = transport ? strcmp(transport, "sse") == 0
                         : !ws && op.type == GJ__GQL_SUBSCRIPTION;
    if (ws && op.n_files)
        rc = gj__error_set(err, GJ_EUNSUPPORTED, "uploads go over HTTP, not WebSocket "
                           "(option transport: \"http\")");
    else if (ws)
        rc = gj__gql_ws_execute(c, &op, sink, err);
    else if (sse)
        rc = gj__gql_sse_execute(c, &op, sink, err);
    else if (op.batch && c->t->batcher)
        rc = gj__gql_batch_execute(c, &op, sink, err);
    else
        rc = gj__gql_http_execute(c, &op, sink, err);
    gj__gql_op_clear(&op);
    if (rc == GJ_ECANCELLED) {
        c->broken = true;
        atomic_store(&c->interrupted, false);
        gj__http_take_interrupt(c->http);
    }
    return rc;
}

static const char *const gql_schemes[] = {
    "graphql", "graphql+http", "graphql+https", "graphql+ws", "graphql+wss", "graphql+unix", NULL
};

const gj_backend gj_graphql_backend = {
    .name = "graphql",
    .schemes = gql_schemes,
    .default_port = GJ__GQL_DEFAULT_PORT,
    .connect = gql_connect,
    .execute = gql_execute,
    .interrupt = gql_interrupt,
    .usable = gql_usable,
    .close = gql_close,
    .max_inflight = 1,
    .target_open = gql_target_open,
    .target_close = gql_target_close,
};
