/*
 * A WebSocket connection's life on the service thread (ws.h): the lws
 * callback and what it does for each event: connecting (TLS verification,
 * the upgrade's headers and answer, the next address after a failure),
 * receiving (reassembly, max_message), writing (the send queue, pings,
 * close frames), keep-alive, and closing (on_close once, then letting go).
 *
 * Everything marked "service thread only" in ws_internal.h is touched here
 * without a lock; what other threads read (state, close code, queue, the
 * flags of the handler handshake) changes under s->mu.  Handlers are called
 * without the mutex, bracketed by in_handler so that gj__ws_close can wait
 * for a running one.
 */
#include "transport/ws_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

static void wake_done(gj_ws *c)
{
    uint64_t one = 1;
    if (write(c->done_fd, &one, sizeof one) < 0) {
        /* an eventfd write fails only at 2^64 - 1 */
    }
}

/* The service thread will not touch c again once it is finished and its wsi
 * is gone: drop the service's reference.  The work pass holds one of its
 * own, so c stays valid for the caller of this. */
void gj__ws_maybe_let_go(gj_ws *c)
{
    if (!c->finished || c->wsi || c->let_go)
        return;
    c->let_go = true;
    free(c->rx);
    c->rx = NULL;
    c->rx_cap = c->rx_len = 0;
    gj_ws_service *s = c->s;
    pthread_mutex_lock(&s->mu);
    if (c->in_conns) {
        if (c->prev)
            c->prev->next = c->next;
        else
            s->conns = c->next;
        if (c->next)
            c->next->prev = c->prev;
        c->prev = c->next = NULL;
        c->in_conns = false;
    }
    pthread_mutex_unlock(&s->mu);
    gj__ws_unref(c);
}

/* The connect failed for good: tell the waiting caller. */
void gj__ws_fail_connect(gj_ws *c, int code, const char *fmt, ...)
{
    gj_ws_service *s = c->s;
    c->finished = true;
    pthread_mutex_lock(&s->mu);
    bool failed = c->state == GJ__WS_CONNECTING;
    if (failed) {
        c->state = GJ__WS_FAILED;
        c->fail_code = code;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->fail_msg, sizeof c->fail_msg, fmt, ap);
        va_end(ap);
    }
    bool abandoned = c->abandoned;
    pthread_mutex_unlock(&s->mu);
    if (!failed)
        return;
    wake_done(c);
    gj__log(s->has_log ? &s->log : NULL, GJ_LOG_DEBUG, "%s: connect %s: %s", c->name,
            abandoned ? "given up" : "failed", c->fail_msg);
}

/* ---- handlers ----------------------------------------------------------------- */

static bool handler_enter(gj_ws *c)
{
    pthread_mutex_lock(&c->s->mu);
    bool ok = !c->handlers_off;
    if (ok)
        c->in_handler = true;
    pthread_mutex_unlock(&c->s->mu);
    return ok;
}

static void handler_leave(gj_ws *c, bool off)
{
    gj_ws_service *s = c->s;
    pthread_mutex_lock(&s->mu);
    c->in_handler = false;
    if (off)
        c->handlers_off = true;
    if (c->released || off)
        pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

static void deliver_message(gj_ws *c, const unsigned char *data, size_t len, bool binary)
{
    if (!c->h.on_message || !handler_enter(c))
        return;
    c->h.on_message(c->h.arg, data, len, binary);
    handler_leave(c, false);
}

/* The connection closed (or began to): record why, once, and call on_close
 * unless handlers are off already.  Later calls do nothing. */
void gj__ws_deliver_close(gj_ws *c, int code, const char *reason)
{
    gj_ws_service *s = c->s;
    pthread_mutex_lock(&s->mu);
    __atomic_store_n(&c->open, false, __ATOMIC_RELEASE);
    if (c->state == GJ__WS_OPEN)
        c->state = GJ__WS_CLOSED;
    if (c->close_known) {
        pthread_mutex_unlock(&s->mu);
        return;
    }
    c->close_known = true;
    c->close_code = code;
    snprintf(c->close_reason, sizeof c->close_reason, "%s", reason ? reason : "");
    bool call = !c->handlers_off && c->h.on_close;
    if (call)
        c->in_handler = true;
    else
        c->handlers_off = true;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    gj__log(s->has_log ? &s->log : NULL, GJ_LOG_DEBUG, "%s: WebSocket closed: %d %s", c->name,
            code, c->close_reason);
    if (call) {
        c->h.on_close(c->h.arg, code, c->close_reason);
        handler_leave(c, true);
    }
}

/* Drop what is still queued (the connection is gone) and wake senders. */
void gj__ws_drop_queue(gj_ws *c)
{
    gj_ws_service *s = c->s;
    pthread_mutex_lock(&s->mu);
    gj__ws_msg *q = c->q_head;
    c->q_head = c->q_tail = NULL;
    c->q_bytes = 0;
    if (c->send_waiters)
        pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    gj__ws_free_msgs(q);
    free(c->cur);
    c->cur = NULL;
    c->cur_off = 0;
}

/* OpenSSL's verification of the server's chain, through lws: keep
 * OpenSSL's verdict and record why it refused; at the leaf also check the
 * host name or IP address ourselves (lws would check a name only, and
 * mangle an IP literal). */
static int verify_server_cert(gj_ws *c, X509_STORE_CTX *xs, int preverify_ok)
{
    if (!c->verify) {
        X509_STORE_CTX_set_error(xs, X509_V_OK);
        return 0;
    }
    if (!preverify_ok) {
        if (!c->tls_detail[0]) {
            int e = X509_STORE_CTX_get_error(xs);
            snprintf(c->tls_detail, sizeof c->tls_detail, "%s",
                     X509_verify_cert_error_string(e));
        }
        return 0;
    }
    if (X509_STORE_CTX_get_error_depth(xs) != 0)
        return 0;
    X509 *cert = X509_STORE_CTX_get_current_cert(xs);
    int ok = c->host_is_ip ? X509_check_ip_asc(cert, c->host, 0)
                           : X509_check_host(cert, c->host, 0, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS,
                                             NULL);
    if (ok == 1)
        return 0;
    snprintf(c->tls_detail, sizeof c->tls_detail,
             "the certificate's name does not match '%s'", c->host);
    X509_STORE_CTX_set_error(xs, c->host_is_ip ? X509_V_ERR_IP_ADDRESS_MISMATCH
                                               : X509_V_ERR_HOSTNAME_MISMATCH);
    return 1;
}

/* ---- connecting --------------------------------------------------------------- */

static bool mentions(const char *s, const char *w)
{
    return strcasestr(s, w) != NULL;
}

void gj__ws_start_connect(gj_ws_service *s, gj_ws *c)
{
    c->retry = false;
    if (c->finished || c->wsi)
        return;
    if (c->next_addr >= c->n_addrs) {
        gj__ws_fail_connect(c, GJ_ECONNECT, "cannot connect");
        return;
    }
    struct lws_vhost *vh = c->tls ? gj__ws_tls_vhost(s, c) : s->plain;
    if (!vh)
        return;   /* failed */
    struct lws_client_connect_info ci;
    memset(&ci, 0, sizeof ci);
    ci.context = s->ctx;
    ci.vhost = vh;
    ci.address = c->addrs[c->next_addr++];
    ci.port = c->port;
    ci.path = c->path;
    ci.host = c->host_header;
    ci.protocol = c->subprotocols;
    ci.local_protocol_name = GJ__WS_PROTOCOL_NAME;
    ci.ietf_version_or_minus_one = -1;
    ci.opaque_user_data = c;
    ci.ssl_connection = LCCSCF_HTTP_NO_FOLLOW_REDIRECT;
    if (c->tls) {
        ci.ssl_connection |= LCCSCF_USE_SSL | LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK;
        if (!c->verify)
            ci.ssl_connection |= LCCSCF_ALLOW_SELFSIGNED | LCCSCF_ALLOW_EXPIRED |
                                 LCCSCF_ALLOW_INSECURE;
    }
    c->upgrade_started = false;
    c->tls_detail[0] = c->proto_detail[0] = '\0';
    gj__log(s->has_log ? &s->log : NULL, GJ_LOG_DEBUG, "%s: connecting to %s port %d", c->name,
            ci.address, c->port);
    struct lws *w = lws_client_connect_via_info(&ci);
    if (w) {
        c->wsi = w;
        return;
    }
    /* Failed at once (its CONNECTION_ERROR may have run, and decided). */
    if (c->retry || c->finished)
        return;
    if (c->next_addr < c->n_addrs) {
        pthread_mutex_lock(&s->mu);
        gj__ws_push_locked(c, GJ__WS_DO_CONNECT);
        pthread_mutex_unlock(&s->mu);
        c->retry = true;
        return;
    }
    gj__ws_fail_connect(c, GJ_ECONNECT, "cannot connect to %s port %d", ci.address, c->port);
}

/* ---- TLS alerts -------------------------------------------------------------------
 * libwebsockets reports a handshake the server refused after the client's
 * side of it (TLS 1.3 sends a missing or refused client certificate so) only
 * as "read failed", and clears OpenSSL's error queue.  The client SSL_CTX's
 * info callback keeps the last alert the server sent (other than
 * close_notify) in the SSL's ex data, for connect_error to name. */

static int alert_index = -1;
static pthread_once_t alert_once = PTHREAD_ONCE_INIT;

static void alert_index_make(void)
{
    alert_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
}

static void alert_seen(const SSL *ssl, int where, int ret)
{
    if (!(where & SSL_CB_READ_ALERT) || (ret & 0xff) == SSL_AD_CLOSE_NOTIFY || alert_index < 0)
        return;
    SSL *writable = (SSL *)(uintptr_t)ssl;   /* the callback's SSL is the connection's own */
    SSL_set_ex_data(writable, alert_index, (void *)(uintptr_t)(0x10000u | (unsigned)(ret & 0xffff)));
}

void gj__ws_tls_watch_alerts(SSL_CTX *ctx)
{
    pthread_once(&alert_once, alert_index_make);
    SSL_CTX_set_info_callback(ctx, alert_seen);
}

/* The description of the alert the server sent on wsi's TLS connection, or
 * NULL. */
static const char *tls_alert(struct lws *wsi)
{
    SSL *ssl = alert_index >= 0 ? lws_get_ssl(wsi) : NULL;
    uintptr_t a = ssl ? (uintptr_t)SSL_get_ex_data(ssl, alert_index) : 0;
    if (!a)
        return NULL;
    switch (a & 0xff) {   /* TLS 1.3's, which OpenSSL 3.0 calls "unknown" */
    case 109: return "missing extension";
    case 115: return "unknown PSK identity";
    case 116: return "certificate required";
    case 120: return "no application protocol";
    default: return SSL_alert_desc_string_long((int)(a & 0xffff));
    }
}

/* LWS_CALLBACK_CLIENT_CONNECTION_ERROR: try the next address, or fail. */
static void connect_error(gj_ws_service *s, gj_ws *c, struct lws *wsi, const char *in, size_t len)
{
    char why[200];
    const char *alert;
    snprintf(why, sizeof why, "%.*s", in ? (int)(len < sizeof why ? len : sizeof why - 1) : 0,
             in ? in : "");
    if (!why[0])
        snprintf(why, sizeof why, "connection failed");
    unsigned status = lws_http_client_http_response(wsi);
    if (c->finished)
        return;
    pthread_mutex_lock(&s->mu);
    bool abandoned = c->abandoned;
    pthread_mutex_unlock(&s->mu);
    if (abandoned) {
        c->finished = true;
        return;
    }
    if (c->tls_detail[0]) {
        gj__ws_fail_connect(c, GJ_ETLS, "TLS certificate verification failed: %s", c->tls_detail);
    } else if (c->proto_detail[0]) {
        gj__ws_fail_connect(c, GJ_EPROTOCOL, "%s", c->proto_detail);
    } else if (status && status != 101) {
        const char *what = status == 401 ? " (unauthorized)" : status == 403 ? " (forbidden)"
                         : status == 404 ? " (not found)" : "";
        gj__ws_fail_connect(c, GJ_EPROTOCOL,
                            "the server refused the WebSocket upgrade of %s: HTTP %u%s", c->path,
                            status, what);
    } else if (strncmp(why, "HS:", 3) == 0) {
        gj__ws_fail_connect(c, GJ_EPROTOCOL, "the WebSocket upgrade failed: %s", why + 4);
    } else if (!c->upgrade_started && c->next_addr < c->n_addrs) {
        c->retry = true;
        pthread_mutex_lock(&s->mu);
        gj__ws_push_locked(c, GJ__WS_DO_CONNECT);
        pthread_mutex_unlock(&s->mu);
    } else if (c->tls && (alert = tls_alert(wsi)) != NULL) {
        gj__ws_fail_connect(c, GJ_ETLS, "TLS with the server failed: it sent the alert \"%s\"%s",
                            alert, mentions(alert, "certificate required")
                                       ? " (it wants a client certificate: ssl_certfile and "
                                         "ssl_keyfile)"
                                       : "");
    } else if (c->tls && (mentions(why, "ssl") || mentions(why, "tls"))) {
        gj__ws_fail_connect(c, GJ_ETLS, "TLS handshake failed: %s", why);
    } else if (mentions(why, "timed out") || mentions(why, "timeout")) {
        gj__ws_fail_connect(c, GJ_ETIMEDOUT, "timed out connecting: %s", why);
    } else if (c->upgrade_started) {
        gj__ws_fail_connect(c, GJ_ECONNECT,
                            "the connection closed during the WebSocket upgrade (%s)", why);
    } else {
        const char *addr = c->next_addr ? c->addrs[c->next_addr - 1] : "?";
        bool plain = strcmp(why, "Unable to connect") == 0;   /* lws's word for it */
        gj__ws_fail_connect(c, GJ_ECONNECT, "cannot connect to %s port %d: %s", addr, c->port,
                            plain ? "connection refused or unreachable" : why);
    }
}

/* LWS_CALLBACK_CLIENT_FILTER_PRE_ESTABLISH: keep the chosen subprotocol;
 * refuse an answer that chose none of those offered. */
static int pre_establish(gj_ws *c, struct lws *wsi)
{
    char proto[sizeof c->protocol];
    int n = lws_hdr_copy(wsi, proto, sizeof proto, WSI_TOKEN_PROTOCOL);
    if (n > 0) {
        pthread_mutex_lock(&c->s->mu);
        memcpy(c->protocol, proto, (size_t)n + 1);
        c->has_protocol = true;
        pthread_mutex_unlock(&c->s->mu);
        return 0;
    }
    if (c->subprotocols) {
        snprintf(c->proto_detail, sizeof c->proto_detail,
                 "the server accepted none of the offered subprotocols (%s)", c->subprotocols);
        return 1;
    }
    return 0;
}

static int append_headers(gj_ws *c, char **p, size_t room)
{
    c->upgrade_started = true;
    for (size_t i = 0; i < c->n_headers; i++) {
        size_t n = strlen(c->headers[i]);
        if (n + 2 >= room) {
            snprintf(c->proto_detail, sizeof c->proto_detail,
                     "the upgrade request's headers do not fit in lws's buffer");
            return -1;
        }
        memcpy(*p, c->headers[i], n);
        (*p)[n] = '\r';
        (*p)[n + 1] = '\n';
        *p += n + 2;
        room -= n + 2;
    }
    return 0;
}

static void schedule_ping(struct lws *wsi, int64_t in_ms)
{
    if (in_ms < 1)
        in_ms = 1;
    lws_set_timer_usecs(wsi, (lws_usec_t)in_ms * 1000);
}

static int established(gj_ws_service *s, gj_ws *c, struct lws *wsi)
{
    c->wsi = wsi;
    c->finished = true;   /* no further attempt, whatever happens now */
    pthread_mutex_lock(&s->mu);
    if (c->abandoned) {
        pthread_mutex_unlock(&s->mu);
        return -1;
    }
    c->state = GJ__WS_OPEN;
    __atomic_store_n(&c->open, true, __ATOMIC_RELEASE);
    bool pause = c->paused;
    pthread_mutex_unlock(&s->mu);
    wake_done(c);
    gj__log(s->has_log ? &s->log : NULL, GJ_LOG_DEBUG, "%s: WebSocket open%s%s", c->name,
            c->has_protocol ? ", subprotocol " : "", c->has_protocol ? c->protocol : "");
    c->last_rx_ms = gj__now_ms();
    if (c->ping_interval_ms > 0)
        schedule_ping(wsi, c->ping_interval_ms);
    if (pause) {
        c->flow_paused = true;
        lws_rx_flow_control(wsi, 0);
    }
    return 0;
}

/* ---- receiving ---------------------------------------------------------------- */

/* Close from our side with a close frame: at the next writeable callback
 * (returning -1 from a receive callback in the middle of a frame leaves
 * lws 4.1's parser out of step with the stream).  urgent: before what is
 * still queued, which is dropped; else after it.  The connection is dropped
 * anyway after GJ__WS_CLOSE_LINGER_S. */
void gj__ws_close_with_frame(gj_ws *c, struct lws *wsi, int code, const char *reason,
                             bool urgent)
{
    if (c->close_due)
        return;
    c->close_due = true;
    c->close_urgent = urgent;
    c->frame_code = code;
    gj__ws_copy_reason(c->frame_reason, reason);
    if (urgent)
        gj__ws_drop_queue(c);
    lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, GJ__WS_CLOSE_LINGER_S);
    lws_callback_on_writable(wsi);
}

static int refuse_message(gj_ws *c, struct lws *wsi, size_t at_least)
{
    char reason[160];
    snprintf(reason, sizeof reason,
             "message of at least %zu bytes exceeds max_message_size (%zu bytes)", at_least,
             c->max_message);
    c->rx_discard = true;
    free(c->rx);
    c->rx = NULL;
    c->rx_len = c->rx_cap = 0;
    gj__ws_deliver_close(c, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, reason);
    gj__ws_close_with_frame(c, wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, reason, true);
    return 0;
}

static int receive(gj_ws *c, struct lws *wsi, const unsigned char *in, size_t len)
{
    if (c->rx_discard)
        return 0;
    c->last_rx_ms = gj__now_ms();
    if (!c->rx_in_msg) {
        c->rx_in_msg = true;
        c->rx_binary = lws_frame_is_binary(wsi) != 0;
        c->rx_len = 0;
    }
    size_t remaining = lws_remaining_packet_payload(wsi);
    size_t have = c->rx_len + len;
    size_t at_least = remaining > SIZE_MAX - have ? SIZE_MAX : have + remaining;
    if (at_least > c->max_message)
        return refuse_message(c, wsi, at_least);
    bool final = lws_is_final_fragment(wsi) && remaining == 0;
    if (final && c->rx_len == 0) {
        c->rx_in_msg = false;
        deliver_message(c, in, len, c->rx_binary);
        return 0;
    }
    if (at_least > c->rx_cap) {
        size_t cap = c->rx_cap ? c->rx_cap : 4096;
        while (cap < at_least)
            cap = cap > SIZE_MAX / 2 ? SIZE_MAX : cap * 2;
        if (cap > c->max_message)
            cap = c->max_message;
        unsigned char *nb = realloc(c->rx, cap);
        if (!nb) {
            c->rx_discard = true;
            gj__ws_deliver_close(c, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION,
                                 "out of memory reassembling a message");
            gj__ws_close_with_frame(c, wsi, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION,
                                    "out of memory", true);
            return 0;
        }
        c->rx = nb;
        c->rx_cap = cap;
    }
    if (len)
        memcpy(c->rx + c->rx_len, in, len);
    c->rx_len += len;
    if (final) {
        c->rx_in_msg = false;
        size_t n = c->rx_len;
        c->rx_len = 0;
        deliver_message(c, c->rx, n, c->rx_binary);
        if (c->rx_cap > ((size_t)1 << 20)) {   /* do not keep a big buffer around */
            free(c->rx);
            c->rx = NULL;
            c->rx_cap = 0;
        }
    }
    return 0;
}

/* ---- writing ------------------------------------------------------------------ */

static int writeable(gj_ws *c, struct lws *wsi)
{
    gj_ws_service *s = c->s;
    if (c->close_sent)
        return 0;   /* lws waits for the peer's close now */
    if (c->close_due && c->close_urgent)
        goto send_close;
    if (c->ping_due) {
        c->ping_due = false;
        if (lws_write(wsi, c->ping_buf + LWS_PRE, 0, LWS_WRITE_PING) < 0)
            return -1;
    }
    size_t budget = GJ__WS_WRITE_BUDGET;
    bool more = false;
    for (;;) {
        if (!c->cur) {
            pthread_mutex_lock(&s->mu);
            c->cur = c->q_head;
            if (c->cur) {
                c->q_head = c->cur->next;
                if (!c->q_head)
                    c->q_tail = NULL;
            }
            pthread_mutex_unlock(&s->mu);
            c->cur_off = 0;
            if (!c->cur)
                break;
        }
        gj__ws_msg *m = c->cur;
        size_t left = m->len - c->cur_off;
        size_t chunk = left > GJ__WS_FRAME_CHUNK ? GJ__WS_FRAME_CHUNK : left;
        int flags = c->cur_off == 0 ? (m->binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT)
                                    : LWS_WRITE_CONTINUATION;
        if (chunk < left)
            flags |= LWS_WRITE_NO_FIN;
        /* The LWS_PRE bytes before a later chunk hold payload already
         * written (or copied by lws): lws may put the frame header there. */
        if (lws_write(wsi, m->buf + LWS_PRE + c->cur_off, chunk,
                      (enum lws_write_protocol)flags) < 0)
            return -1;
        c->cur_off += chunk;
        if (c->cur_off == m->len) {
            c->cur = NULL;
            pthread_mutex_lock(&s->mu);
            c->q_bytes -= m->len;
            if (c->send_waiters)
                pthread_cond_broadcast(&s->cv);
            pthread_mutex_unlock(&s->mu);
            free(m);
        }
        budget = chunk >= budget ? 0 : budget - chunk;
        if (budget == 0 || lws_send_pipe_choked(wsi)) {
            more = true;
            break;
        }
    }
    if (!more) {
        pthread_mutex_lock(&s->mu);
        more = c->q_head != NULL;
        pthread_mutex_unlock(&s->mu);
    }
    if (more || c->cur) {
        lws_callback_on_writable(wsi);
        return 0;
    }
    if (!c->close_due)
        return 0;
send_close:
    c->close_sent = true;
    lws_close_reason(wsi, (enum lws_close_status)c->frame_code, (unsigned char *)c->frame_reason,
                     strlen(c->frame_reason));
    return -1;
}

/* ---- keep-alive --------------------------------------------------------------- */

static int ping_timer(gj_ws *c, struct lws *wsi)
{
    if (c->ping_interval_ms <= 0 || c->close_due || c->rx_discard)
        return 0;
    int64_t now = gj__now_ms();
    if (c->flow_paused) {
        /* Nothing is read while paused, pongs included: no verdict then. */
        c->ping_sent_ms = 0;
        c->last_rx_ms = now;
        schedule_ping(wsi, c->ping_interval_ms);
        return 0;
    }
    if (c->ping_sent_ms) {
        int64_t waited = now - c->ping_sent_ms;
        if (waited >= c->pong_timeout_ms) {
            char reason[64];
            snprintf(reason, sizeof reason, "no pong within %lld ms",
                     (long long)c->pong_timeout_ms);
            gj__ws_deliver_close(c, LWS_CLOSE_STATUS_ABNORMAL_CLOSE, reason);
            lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
            return 0;
        }
        schedule_ping(wsi, c->pong_timeout_ms - waited);
        return 0;
    }
    int64_t idle = now - c->last_rx_ms;
    if (idle < c->ping_interval_ms) {
        schedule_ping(wsi, c->ping_interval_ms - idle);
        return 0;
    }
    c->ping_due = true;
    c->ping_sent_ms = now ? now : 1;
    lws_callback_on_writable(wsi);
    schedule_ping(wsi, c->pong_timeout_ms);
    return 0;
}

/* ---- the callback ------------------------------------------------------------- */

int gj__ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len)
{
    if (!wsi)
        return 0;
    gj_ws *c = lws_get_opaque_user_data(wsi);
    gj_ws_service *s = c ? c->s : NULL;

    switch (reason) {
    case LWS_CALLBACK_OPENSSL_LOAD_EXTRA_CLIENT_VERIFY_CERTS: {
        gj_ws_service *cs = lws_context_user(lws_get_context(wsi));
        /* No CA file: the system's trust store. */
        if (cs && cs->vhost_for && !cs->vhost_for->ca && user)
            SSL_CTX_set_default_verify_paths((SSL_CTX *)user);
        return 0;
    }
    case LWS_CALLBACK_OPENSSL_PERFORM_SERVER_CERT_VERIFICATION:
        return c ? verify_server_cert(c, (X509_STORE_CTX *)user, (int)len) : 0;

    case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
        return c ? append_headers(c, (char **)in, len) : 0;

    case LWS_CALLBACK_CLIENT_FILTER_PRE_ESTABLISH:
        return c ? pre_establish(c, wsi) : 0;

    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        return c ? established(s, c, wsi) : 0;

    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        if (c)
            connect_error(s, c, wsi, in, len);
        return 0;

    case LWS_CALLBACK_CLIENT_RECEIVE:
        return c ? receive(c, wsi, in, len) : 0;

    case LWS_CALLBACK_CLIENT_RECEIVE_PONG:
        if (c) {
            c->last_rx_ms = gj__now_ms();
            c->ping_sent_ms = 0;
        }
        return 0;

    case LWS_CALLBACK_CLIENT_WRITEABLE:
        return c ? writeable(c, wsi) : 0;

    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        if (c) {
            const unsigned char *p = in;
            int code = 1005;
            char why[GJ__WS_MAX_CLOSE_REASON + 1] = "";
            if (p && len >= 2) {
                code = (p[0] << 8) | p[1];
                size_t n = len - 2 > GJ__WS_MAX_CLOSE_REASON ? GJ__WS_MAX_CLOSE_REASON : len - 2;
                memcpy(why, p + 2, n);
                why[n] = '\0';
            }
            gj__ws_deliver_close(c, code, why);
        }
        return 0;

    case LWS_CALLBACK_CLIENT_CLOSED:
        if (c) {
            gj__ws_deliver_close(c, LWS_CLOSE_STATUS_ABNORMAL_CLOSE, "connection lost");
            c->finished = true;
            gj__ws_drop_queue(c);
        }
        return 0;

    case LWS_CALLBACK_TIMER:
        return c ? ping_timer(c, wsi) : 0;

    case LWS_CALLBACK_WSI_DESTROY:
        if (c) {
            if (c->wsi == wsi)
                c->wsi = NULL;
            if (!c->retry && !c->finished) {
                /* Gone without a word (killed while connecting). */
                gj__ws_fail_connect(c, GJ_ECONNECT, "the connection closed while connecting");
            }
            if (c->finished && !c->wsi) {
                pthread_mutex_lock(&c->s->mu);
                bool was_open = c->state == GJ__WS_OPEN;
                pthread_mutex_unlock(&c->s->mu);
                if (was_open)
                    gj__ws_deliver_close(c, LWS_CLOSE_STATUS_ABNORMAL_CLOSE, "connection lost");
                gj__ws_drop_queue(c);
                gj__ws_maybe_let_go(c);
            }
        }
        return 0;

    default:
        return 0;
    }
}

