/*
 * The Gremlin backend: the target's WebSocket service, connections, the
 * routing of responses by requestId, and the backend's table (gremlin.h).
 *
 * Target settings: path (default /gremlin), message_serializer (graphbinary
 * (default), graphsonv3, graphsonv2, or a mime type / TinkerPop class name
 * naming one of them), username / password (SASL PLAIN when the server asks
 * with 407), TLS (wss, gremlin+wss: ssl_verify, ssl_cafile, ssl_certfile,
 * ssl_keyfile, ssl_password), max_message_size (the largest frame taken),
 * max_inflight / max_times_acquired (requests sharing one connection),
 * aliases (a map of traversal-source aliases sent with every eval).
 * Target options: ping_interval (ms; default 30000, 0 = none): a WebSocket
 * ping when the connection is idle that long, and it is dropped when no
 * pong comes back.
 */
#include "backend/gremlin/gremlin.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#define PING_INTERVAL_MS 30000

/* ---- formats ----------------------------------------------------------------- */

int gj__gremlin_format_of(const char *name, gj_gremlin_format *out)
{
    static const struct {
        const char *name;
        gj_gremlin_format f;
    } names[] = {
        { "graphbinary", GJ_GREMLIN_GRAPHBINARY_V1 },
        { "graphbinaryv1", GJ_GREMLIN_GRAPHBINARY_V1 },
        { "graphbinary-v1.0", GJ_GREMLIN_GRAPHBINARY_V1 },
        { GJ_GREMLIN_MIME_GRAPHBINARY_V1, GJ_GREMLIN_GRAPHBINARY_V1 },
        { "graphsonv3", GJ_GREMLIN_GRAPHSON_V3 },
        { "graphson3", GJ_GREMLIN_GRAPHSON_V3 },
        { "graphson", GJ_GREMLIN_GRAPHSON_V3 },
        { "graphsonmessageserializerv3", GJ_GREMLIN_GRAPHSON_V3 },
        { GJ_GREMLIN_MIME_GRAPHSON_V3, GJ_GREMLIN_GRAPHSON_V3 },
        { "graphsonv2", GJ_GREMLIN_GRAPHSON_V2 },
        { "graphson2", GJ_GREMLIN_GRAPHSON_V2 },
        { "graphsonmessageserializerv2", GJ_GREMLIN_GRAPHSON_V2 },
        { GJ_GREMLIN_MIME_GRAPHSON_V2, GJ_GREMLIN_GRAPHSON_V2 },
        { "graphbinarymessageserializerv1", GJ_GREMLIN_GRAPHBINARY_V1 },
        /* The class names drivers use: Java's GraphSONMessageSerializerV3
         * (V3d0) and V2d0 (GremlinV2d0), gremlinpython's
         * GraphSONSerializersV3d0 / V2d0 / GraphBinarySerializersV1 and
         * its GraphSONMessageSerializer (GraphSON 3.0 since gremlinpython
         * 3.4: aiogremlin's default), .NET's GraphSON3/2MessageSerializer. */
        { "graphsonmessageserializer", GJ_GREMLIN_GRAPHSON_V3 },
        { "graphsonmessageserializerv3d0", GJ_GREMLIN_GRAPHSON_V3 },
        { "graphsonmessageserializerv2d0", GJ_GREMLIN_GRAPHSON_V2 },
        { "graphsonmessageserializergremlinv2d0", GJ_GREMLIN_GRAPHSON_V2 },
        { "graphsonserializersv3d0", GJ_GREMLIN_GRAPHSON_V3 },
        { "graphsonserializersv2d0", GJ_GREMLIN_GRAPHSON_V2 },
        { "graphbinaryserializersv1", GJ_GREMLIN_GRAPHBINARY_V1 },
        { "graphson3messageserializer", GJ_GREMLIN_GRAPHSON_V3 },
        { "graphson2messageserializer", GJ_GREMLIN_GRAPHSON_V2 },
        { "graphbinarymessageserializer", GJ_GREMLIN_GRAPHBINARY_V1 },
    };
    if (!name || !*name) {
        *out = GJ_GREMLIN_GRAPHBINARY_V1;
        return 0;
    }
    /* A Java or Python class name: its last dotted part. */
    const char *last = strrchr(name, '.');
    const char *candidates[2] = { name, last && strchr(name, '/') == NULL ? last + 1 : NULL };
    for (size_t k = 0; k < 2; k++) {
        if (!candidates[k])
            continue;
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
            if (strcasecmp(candidates[k], names[i].name) == 0) {
                *out = names[i].f;
                return 0;
            }
    }
    return GJ_ECONFIG;
}

/* ---- the target's service ------------------------------------------------------- */

static int gremlin_target_open(void **ctx, const gj_target_settings *ts, const gj_logger *log,
                               gj_error *err)
{
    gj_gremlin_format f;
    if (gj__gremlin_format_of(ts->message_serializer, &f) != 0)
        return gj__error_set(err, GJ_ECONFIG, "message_serializer: '%s' is not a Gremlin serializer "
                             "(graphbinary, graphsonv3 or graphsonv2)", ts->message_serializer);
    gj_gremlin_target *t = calloc(1, sizeof *t);
    if (!t)
        return gj__error_set(err, GJ_ENOMEM, "out of memory for target '%s'", ts->name);
    char name[128];
    snprintf(name, sizeof name, "gremlin target '%s'", ts->name ? ts->name : "default");
    int rc = gj__ws_service_new(&t->service, name, log, err);
    if (rc) {
        free(t);
        return rc;
    }
    *ctx = t;
    return 0;
}

static void gremlin_target_close(void *ctx)
{
    gj_gremlin_target *t = ctx;
    gj__ws_service_free(t->service);
    free(t);
}

/* ---- pending requests ----------------------------------------------------------- */

void gj__gremlin_random_id(uint8_t id[16])
{
    ssize_t n = getrandom(id, 16, 0);
    if (n != 16) {
        /* No entropy source answered: the clock and an address still make
         * the id unique within this process, which is what routing needs. */
        uint64_t a = (uint64_t)gj__now_ns(), b = (uint64_t)(uintptr_t)id ^ ((uint64_t)clock() << 32);
        memcpy(id, &a, 8);
        memcpy(id + 8, &b, 8);
    }
    id[6] = (uint8_t)((id[6] & 0x0f) | 0x40);   /* version 4 */
    id[8] = (uint8_t)((id[8] & 0x3f) | 0x80);   /* RFC 4122 variant */
}

int gj__gremlin_pending_new(gj_conn *c, gj_async *a, gremlin_pending **out, gj_error *err)
{
    gremlin_pending *p = calloc(1, sizeof *p);
    if (!p)
        return gj__error_set(err, GJ_ENOMEM, "gremlin %s: out of memory", c->endpoint);
    pthread_condattr_t attr;
    if (pthread_condattr_init(&attr) != 0) {
        free(p);
        return gj__error_set(err, GJ_ENOMEM, "gremlin %s: out of memory", c->endpoint);
    }
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    int crc = pthread_cond_init(&p->cv, &attr);
    pthread_condattr_destroy(&attr);
    if (crc != 0) {
        free(p);
        return gj__error_set(err, GJ_ENOMEM, "gremlin %s: out of memory", c->endpoint);
    }
    p->a = a;
    p->starting = a != NULL;
    p->started_ms = gj__now_ms();
    pthread_mutex_lock(&c->mu);
    /* A requestId unique on the connection (and, from a random base,
     * across connections) without asking the kernel for entropy each
     * time: the base's last 48 bits XOR a counter. */
    memcpy(p->id, c->id_base, 16);
    uint64_t seq = ++c->next_seq;
    for (int i = 15; i >= 10; i--, seq >>= 8)
        p->id[i] ^= (uint8_t)seq;
    int rc = 0;
    if (c->shut)
        rc = gj__error_set(err, GJ_ECANCELLED, "gremlin %s: the client is shutting down", c->endpoint);
    else if (c->closed || c->protocol_error)
        rc = gj__error_set(err, GJ_EIO, "gremlin %s: the connection is closed (%d %s)", c->endpoint,
                           c->close_code, c->protocol_error ? c->protocol_msg : c->close_reason);
    else if (c->n_pending >= GJ_GREMLIN_MAX_INFLIGHT)
        rc = gj__error_set(err, GJ_EBUSY, "gremlin %s: %u requests in flight on one connection",
                           c->endpoint, c->n_pending);
    if (!rc) {
        p->next = c->pending;
        c->pending = p;
        c->n_pending++;
    }
    pthread_mutex_unlock(&c->mu);
    if (rc) {
        pthread_cond_destroy(&p->cv);
        free(p);
        return rc;
    }
    *out = p;
    return 0;
}

void gj__gremlin_msg_free(gremlin_msg *m)
{
    while (m) {
        gremlin_msg *next = m->next;
        gj__gremlin_response_clear(&m->resp);
        free(m);
        m = next;
    }
}

/* Under c->mu: reading goes on again once the queue drained to half. */
static void maybe_resume_locked(gj_conn *c)
{
    if (c->paused && c->queued <= GJ_GREMLIN_QUEUE_MAX / 2 && c->ws) {
        c->paused = false;
        gj__ws_pause(c->ws, false);
    }
}

gremlin_msg *gj__gremlin_take_locked(gj_conn *c, gremlin_pending *p)
{
    gremlin_msg *m = p->head;
    p->head = p->tail = NULL;
    c->queued -= p->queued;
    p->queued = 0;
    maybe_resume_locked(c);
    return m;
}

void gj__gremlin_unlink_locked(gj_conn *c, gremlin_pending *p)
{
    for (gremlin_pending **pp = &c->pending; *pp; pp = &(*pp)->next)
        if (*pp == p) {
            *pp = p->next;
            p->next = NULL;
            c->n_pending--;
            break;
        }
    c->queued -= p->queued;
    p->queued = 0;
    maybe_resume_locked(c);
}

void gj__gremlin_pending_destroy(gremlin_pending *p)
{
    gj__gremlin_msg_free(p->head);
    pthread_cond_destroy(&p->cv);
    free(p);
}

void gj__gremlin_pending_free(gj_conn *c, gremlin_pending *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&c->mu);
    gj__gremlin_unlink_locked(c, p);
    pthread_mutex_unlock(&c->mu);
    gj__gremlin_pending_destroy(p);
}

void gj__gremlin_complete_locked(gj_conn *c, gremlin_pending *p, int rc)
{
    gj__gremlin_unlink_locked(c, p);
    gj__async_done(p->a, rc);   /* p->a is not touched again */
    p->a = NULL;
    if (p->starting)
        p->finished = true;     /* start() frees it */
    else
        gj__gremlin_pending_destroy(p);
}

int gj__gremlin_send(gj_conn *c, const gj_gremlin_request *req, int64_t deadline_ms, gj_error *err)
{
    gj_ps_buf b;
    gj__ps_buf_init(&b, c->ts->max_message_size ? c->ts->max_message_size : 0);
    int rc = gj__gremlin_request_encode(&b, c->format, req, err);
    if (!rc)
        rc = gj__ps_buf_check(&b, err);
    if (rc) {
        gj__error_prefix(err, "gremlin %s: cannot encode the request", c->endpoint);
    } else {
        rc = gj__ws_send(c->ws, b.data, b.len, true, deadline_ms, err);
    }
    gj__ps_buf_free(&b);
    return rc;
}

/* ---- the service thread's side ---------------------------------------------------- */

/* Under c->mu, once c cannot go on (closed, a protocol error, shut):
 * waiting jobs are woken, asynchronous requests end with why. */
static void fail_all_locked(gj_conn *c)
{
    gremlin_pending *p = c->pending;
    while (p) {
        gremlin_pending *next = p->next;
        if (p->a) {
            int rc = gj__gremlin_conn_error_locked(c, gj__async_error(p->a));
            gj__gremlin_complete_locked(c, p, rc ? rc : GJ_EIO);
        } else {
            pthread_cond_broadcast(&p->cv);
        }
        p = next;
    }
}

/* Under c->mu: one response for the asynchronous request p (on the
 * service thread, as it arrives). */
static void async_message_locked(gj_conn *c, gremlin_pending *p, gremlin_msg *m)
{
    gj_sink *sink = gj__async_sink(p->a);
    gj_error *err = gj__async_error(p->a);
    bool final = false, drop = false;
    int rc;
    if (gj__sink_cancel_requested(sink))
        rc = gj__error_set(err, GJ_ECANCELLED, "gremlin %s: cancelled", c->endpoint);
    else
        rc = gj__gremlin_handle(c, p, m, sink, gj__sink_deadline(sink), &final, &drop, err);
    if (drop)
        c->broken = true;
    if (rc || final)
        gj__gremlin_complete_locked(c, p, rc);
}

static void on_message(void *arg, const uint8_t *data, size_t len, bool binary)
{
    gj_conn *c = arg;
    (void)binary;   /* GraphSON may come as text frames too */
    gremlin_msg *m = calloc(1, sizeof *m);
    int rc = m ? gj__gremlin_response_decode(&m->resp, c->format, data, len, 0, NULL) : GJ_ENOMEM;
    if (rc) {
        /* Say what was wrong (decoded again only now, with an error). */
        gj_error *e = gj_error_new();
        if (m && e)
            gj__gremlin_response_decode(&m->resp, c->format, data, len, 0, e);
        pthread_mutex_lock(&c->mu);
        c->protocol_error = true;
        c->broken = true;
        snprintf(c->protocol_msg, sizeof c->protocol_msg, "a response could not be read: %s",
                 e && gj_error_message(e)[0] ? gj_error_message(e) : gj_strerror(rc));
        fail_all_locked(c);
        pthread_mutex_unlock(&c->mu);
        gj_error_free(e);
        if (m)
            gj__gremlin_response_clear(&m->resp);
        free(m);
        return;
    }
    m->bytes = len;
    pthread_mutex_lock(&c->mu);
    if (!m->resp.has_request_id) {
        /* Not tied to a request (a request the server could not read): the
         * connection's requests cannot be told apart any more. */
        const char *s = NULL;
        size_t sl = 0;
        if (m->resp.status_message)
            gj_value_string_get(m->resp.status_message, &s, &sl);
        c->protocol_error = true;
        c->broken = true;
        snprintf(c->protocol_msg, sizeof c->protocol_msg, "the server answered %d without a "
                 "requestId: %.*s", (int)m->resp.status_code, (int)(sl > 200 ? 200 : sl), s ? s : "");
        fail_all_locked(c);
        pthread_mutex_unlock(&c->mu);
        gj__gremlin_msg_free(m);
        return;
    }
    gremlin_pending *p = c->pending;
    while (p && memcmp(p->id, m->resp.request_id, 16) != 0)
        p = p->next;
    if (!p) {
        /* Its job was cancelled or gave up: dropped. */
        pthread_mutex_unlock(&c->mu);
        gj__gremlin_msg_free(m);
        return;
    }
    if (p->a) {
        async_message_locked(c, p, m);
        pthread_mutex_unlock(&c->mu);
        gj__gremlin_msg_free(m);
        return;
    }
    if (p->tail)
        p->tail->next = m;
    else
        p->head = m;
    p->tail = m;
    p->queued += len;
    c->queued += len;
    if (!c->paused && c->queued > GJ_GREMLIN_QUEUE_MAX) {
        c->paused = true;
        gj__ws_pause(c->ws, true);
    }
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&c->mu);
}

static void on_close(void *arg, int code, const char *reason)
{
    gj_conn *c = arg;
    pthread_mutex_lock(&c->mu);
    c->closed = true;
    c->broken = true;
    c->close_code = code;
    snprintf(c->close_reason, sizeof c->close_reason, "%s", reason ? reason : "");
    fail_all_locked(c);
    pthread_mutex_unlock(&c->mu);
}

/* ---- the table ---------------------------------------------------------------------- */

static void conn_free(gj_conn *c)
{
    if (c->ws)
        gj__ws_close(c->ws, 1000, "");   /* no handler runs after it */
    pthread_mutex_lock(&c->mu);
    /* (None is left: a request in flight holds its connection.) */
    while (c->pending && c->pending->a) {
        gj__error_set(gj__async_error(c->pending->a), GJ_EIO, "gremlin %s: the connection was closed",
                      c->endpoint);
        gj__gremlin_complete_locked(c, c->pending, GJ_EIO);
    }
    pthread_mutex_unlock(&c->mu);
    while (c->pending)
        gj__gremlin_pending_free(c, c->pending);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

static int64_t option_ms(const gj_target_settings *ts, const char *key, int64_t dflt)
{
    const gj_value *v = ts->options ? gj_value_map_get(ts->options, key) : NULL;
    int64_t ms = 0;
    return v && gj_value_int_get(v, &ms) == 0 && ms >= 0 ? ms : dflt;
}

static int gremlin_connect(gj_conn **out, const gj_endpoint *ep, const gj_target_settings *ts,
                           const gj_logger *log, const gj_abort *abort, int64_t deadline_ms,
                           gj_error *err)
{
    *out = NULL;
    gj_gremlin_target *t = ep->target_ctx;
    if (!t)
        return gj__error_set(err, GJ_EINVAL, "gremlin: connect without the target's service");
    gj_conn *c = calloc(1, sizeof *c);
    if (!c)
        return gj__error_set(err, GJ_ENOMEM, "gremlin %s:%d: out of memory", ep->host, ep->port);
    if (pthread_mutex_init(&c->mu, NULL) != 0) {
        free(c);
        return gj__error_set(err, GJ_ENOMEM, "gremlin %s:%d: out of memory", ep->host, ep->port);
    }
    c->ts = ts;
    c->log = log;
    gj__gremlin_random_id(c->id_base);
    if (strchr(ep->host, ':'))
        snprintf(c->endpoint, sizeof c->endpoint, "[%s]:%d", ep->host, ep->port);
    else
        snprintf(c->endpoint, sizeof c->endpoint, "%s:%d", ep->host, ep->port);
    snprintf(c->user_agent, sizeof c->user_agent, "libgraphjob/%s", GJ_VERSION_STRING);
    if (gj__gremlin_format_of(ts->message_serializer, &c->format) != 0) {
        conn_free(c);
        return gj__error_set(err, GJ_ECONFIG, "message_serializer: '%s' is not a Gremlin serializer",
                             ts->message_serializer);
    }
    char name[sizeof c->endpoint + 16];
    snprintf(name, sizeof name, "gremlin %s", c->endpoint);
    int64_t ping = option_ms(ts, "ping_interval", PING_INTERVAL_MS);
    gj_ws_config wc = {
        .name = name,
        .host = ep->host,
        .port = ep->port,
        .path = ts->path && *ts->path ? ts->path : GJ_GREMLIN_DEFAULT_PATH,
        .tls = ts->tls,
        .verify = ts->ssl_verify,
        .ca = ts->ssl_cafile,
        .certfile = ts->ssl_certfile,
        .keyfile = ts->ssl_keyfile,
        .key_password = ts->ssl_password,
        .max_message = ts->max_message_size,
        .ping_interval_ms = ping,
        .pong_timeout_ms = 0,
    };
    gj_ws_handlers h = { on_message, on_close, c };
    int rc = gj__ws_connect(&c->ws, t->service, &wc, &h, abort, deadline_ms, err);
    if (rc) {
        c->ws = NULL;
        conn_free(c);
        return rc;
    }
    gj__log(log, GJ_LOG_DEBUG, "gremlin %s: connected (%s)", c->endpoint, gj__gremlin_mime(c->format));
    *out = c;
    return 0;
}

static void gremlin_interrupt(gj_conn *c)
{
    /* Every waiting job looks at its own cancel flag; an asynchronous
     * request whose job asked to be cancelled ends here.  Other jobs'
     * requests on the connection go on. */
    pthread_mutex_lock(&c->mu);
    gremlin_pending *p = c->pending;
    while (p) {
        gremlin_pending *next = p->next;
        if (!p->a) {
            pthread_cond_broadcast(&p->cv);
        } else if (gj__sink_cancel_requested(gj__async_sink(p->a))) {
            gj__error_set(gj__async_error(p->a), GJ_ECANCELLED, "gremlin %s: cancelled", c->endpoint);
            gj__gremlin_complete_locked(c, p, GJ_ECANCELLED);
        }
        p = next;
    }
    pthread_mutex_unlock(&c->mu);
}

static void gremlin_shutdown(gj_conn *c)
{
    pthread_mutex_lock(&c->mu);
    c->shut = true;
    c->broken = true;
    fail_all_locked(c);
    pthread_mutex_unlock(&c->mu);
}

bool gj__gremlin_is_open(gj_conn *c)
{
    pthread_mutex_lock(&c->mu);
    bool ok = !c->closed && !c->protocol_error;
    pthread_mutex_unlock(&c->mu);
    return ok && gj__ws_is_open(c->ws);
}

static bool gremlin_usable(gj_conn *c)
{
    pthread_mutex_lock(&c->mu);
    bool ok = !c->broken;
    pthread_mutex_unlock(&c->mu);
    return ok && gj__gremlin_is_open(c);
}

static int gremlin_ping(gj_conn *c, int64_t deadline_ms)
{
    (void)deadline_ms;   /* the transport's pings keep the connection checked */
    return gremlin_usable(c) ? 0 : GJ_EIO;
}

static void gremlin_close(gj_conn *c)
{
    if (c)
        conn_free(c);
}

static const char *const gremlin_schemes[] = { "ws", "wss", "gremlin", "gremlin+ws", "gremlin+wss",
                                               NULL };

const gj_backend gj_gremlin_backend = {
    .name = "gremlin",
    .schemes = gremlin_schemes,
    .default_port = GJ_GREMLIN_DEFAULT_PORT,
    .connect = gremlin_connect,
    .execute = gj__gremlin_execute,
    .interrupt = gremlin_interrupt,
    .shutdown = gremlin_shutdown,
    .start = gj__gremlin_start,
    .abandon = gj__gremlin_abandon,
    .usable = gremlin_usable,
    .ping = gremlin_ping,
    .close = gremlin_close,
    .target_open = gremlin_target_open,
    .target_close = gremlin_target_close,
    .session_check = gj__gremlin_session_check,
    .session_open = gj__gremlin_session_open,
    .session_close = gj__gremlin_session_close,
    .max_inflight = GJ_GREMLIN_MAX_INFLIGHT,
};
