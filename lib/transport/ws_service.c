/*
 * The WebSocket service thread (ws.h): one lws context, its loop, the work
 * list other threads fill, the client vhosts (one per set of TLS files),
 * and shutting down.  The connection's events are in ws_conn.c.
 *
 * The loop: take the work list (connect, write, close, pause, abandon
 * requests) and do the lws part of each; run one lws_service pass (it sleeps
 * in poll until a socket, an lws timer or lws_cancel_service wakes it);
 * repeat until gj__ws_service_free sets `stopping`.  Then every connection
 * still open gets on_close(1001) and a close frame, connects in progress
 * fail with GJ_ESHUTDOWN, and the context is destroyed on this thread.
 */
#include "transport/ws_internal.h"
#include "transport/tcp.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

static const struct lws_protocols protocols[] = {
    { GJ__WS_PROTOCOL_NAME, gj__ws_callback, 0, GJ__WS_RX_BUFFER, 0, NULL, 0 },
    { NULL, NULL, 0, 0, 0, NULL, 0 }
};

/* ---- small helpers -------------------------------------------------------------- */

bool gj__ws_on_service_thread(const gj_ws_service *s)
{
    return pthread_equal(pthread_self(), s->thread) != 0;
}

void gj__ws_push_locked(gj_ws *c, unsigned what)
{
    gj_ws_service *s = c->s;
    c->pending |= what;
    if (!c->on_work) {
        c->on_work = true;
        c->work_next = s->work;
        s->work = c;
    }
    if (s->stopping || s->kicked || gj__ws_on_service_thread(s))
        return;
    s->kicked = true;
    lws_cancel_service(s->ctx);
}

void gj__ws_free_msgs(gj__ws_msg *m)
{
    while (m) {
        gj__ws_msg *next = m->next;
        free(m);
        m = next;
    }
}

void gj__ws_copy_reason(char *dst, const char *src)
{
    size_t n = src ? strlen(src) : 0;
    if (n > GJ__WS_MAX_CLOSE_REASON) {
        n = GJ__WS_MAX_CLOSE_REASON;
        while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
            n--;   /* do not cut a UTF-8 sequence */
    }
    if (n)
        memcpy(dst, src, n);
    dst[n] = '\0';
}

void gj__ws_service_unref(gj_ws_service *s)
{
    pthread_mutex_lock(&s->mu);
    bool last = --s->refs == 0;
    pthread_mutex_unlock(&s->mu);
    if (!last)
        return;
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

void gj__ws_unref(gj_ws *c)
{
    gj_ws_service *s = c->s;
    pthread_mutex_lock(&s->mu);
    bool last = --c->refs == 0;
    pthread_mutex_unlock(&s->mu);
    if (last)
        gj__ws_free_conn(c);
}

/* ---- TLS ---------------------------------------------------------------------- */

static bool same_str(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static void free_vhost_entry(gj__ws_vhost *v)
{
    if (v->ssl_ctx)
        SSL_CTX_free(v->ssl_ctx);
    free(v->ca);
    free(v->certfile);
    free(v->keyfile);
    if (v->key_password) {
        OPENSSL_cleanse(v->key_password, strlen(v->key_password));
        free(v->key_password);
    }
    free(v);
}

/* The client SSL_CTX of c's TLS files (CA file or directory, else the
 * system's trust store; the client certificate and key), or NULL with c
 * failed.  It always has the trust anchors (the vhost serves connections
 * with and without verification); verification itself is per connection
 * (ws_conn.c). */
static SSL_CTX *client_ctx(gj_ws *c)
{
    char why[600];
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) {
        unsigned long e = ERR_get_error();
        ERR_error_string_n(e, why, sizeof why);
        ERR_clear_error();
        gj__ws_fail_connect(c, GJ_ENOMEM, "cannot create a TLS context: %s", why);
        return NULL;
    }
    gj_tcp_tls tls = { true, c->ca, c->certfile, c->keyfile, c->key_password };
    int rc = gj__tcp_tls_ctx_load(ctx, &tls, why, sizeof why);
    if (rc) {
        gj__ws_fail_connect(c, rc, "%s", why);
        SSL_CTX_free(ctx);
        return NULL;
    }
    gj__ws_tls_watch_alerts(ctx);
    return ctx;
}

/* The vhost whose client SSL_CTX has c's CA and client certificate (made
 * the first time), or NULL with c failed. */
struct lws_vhost *gj__ws_tls_vhost(gj_ws_service *s, gj_ws *c)
{
    for (gj__ws_vhost *v = s->vhosts; v; v = v->next)
        if (same_str(v->ca, c->ca) && same_str(v->certfile, c->certfile) &&
            same_str(v->keyfile, c->keyfile) && same_str(v->key_password, c->key_password))
            return v->vh;
    gj__ws_vhost *v = calloc(1, sizeof *v);
    if (!v || (c->ca && !(v->ca = gj__strdup(c->ca))) ||
        (c->certfile && !(v->certfile = gj__strdup(c->certfile))) ||
        (c->keyfile && !(v->keyfile = gj__strdup(c->keyfile))) ||
        (c->key_password && !(v->key_password = gj__strdup(c->key_password)))) {
        if (v)
            free_vhost_entry(v);
        gj__ws_fail_connect(c, GJ_ENOMEM, "out of memory setting up TLS");
        return NULL;
    }
    if (!(v->ssl_ctx = client_ctx(c))) {
        free_vhost_entry(v);
        return NULL;
    }
    char vname[32];
    snprintf(vname, sizeof vname, "gj-tls-%p", (void *)v);
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = protocols;
    info.vhost_name = vname;
    info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    info.provided_client_ssl_ctx = v->ssl_ctx;
    s->vhost_for = c;
    ERR_clear_error();
    v->vh = lws_create_vhost(s->ctx, &info);
    s->vhost_for = NULL;
    if (!v->vh) {
        char why[200] = "";
        unsigned long e = ERR_peek_last_error();
        if (e)
            ERR_error_string_n(e, why, sizeof why);
        ERR_clear_error();
        gj__ws_fail_connect(c, GJ_ETLS,
                            "cannot set up TLS (CA file %s, client certificate %s, key %s)%s%s",
                            c->ca ? c->ca : "system", c->certfile ? c->certfile : "none",
                            c->certfile ? (c->keyfile ? c->keyfile : c->certfile) : "none",
                            why[0] ? ": " : "", why);
        free_vhost_entry(v);
        return NULL;
    }
    v->next = s->vhosts;
    s->vhosts = v;
    return v->vh;
}

/* ---- the work list ------------------------------------------------------------ */

static void do_close(gj_ws *c)
{
    gj_ws_service *s = c->s;
    pthread_mutex_lock(&s->mu);
    int code = c->req_code;
    char reason[GJ__WS_MAX_CLOSE_REASON + 1];
    memcpy(reason, c->req_reason, sizeof reason);
    pthread_mutex_unlock(&s->mu);
    gj__ws_deliver_close(c, code, reason);
    if (!c->wsi)
        return;
    /* Codes a close frame may carry (RFC 6455 7.4); others become 1000. */
    bool sendable = (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1011) ||
                    (code >= 3000 && code <= 4999);
    gj__ws_close_with_frame(c, c->wsi, sendable ? code : 1000, reason, false);
}

static void do_abandon(gj_ws *c)
{
    c->finished = true;
    if (c->wsi)
        lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
    else
        gj__ws_maybe_let_go(c);
}

static void do_flow(gj_ws *c)
{
    pthread_mutex_lock(&c->s->mu);
    bool paused = c->paused, open = c->state == GJ__WS_OPEN;
    pthread_mutex_unlock(&c->s->mu);
    if (!c->wsi || !open || paused == c->flow_paused)
        return;
    c->flow_paused = paused;
    lws_rx_flow_control(c->wsi, (paused ? 0 : 1) | LWS_RXFLOW_REASON_FLAG_PROCESS_NOW);
}

/* Take the work list and do each connection's part; repeat while doing it
 * added more (a failed attempt asking for the next address). */
static void process_work(gj_ws_service *s)
{
    for (;;) {
        pthread_mutex_lock(&s->mu);
        s->kicked = false;
        gj_ws *list = s->work;
        s->work = NULL;
        /* Reverse (pushes went to the front) and take the bits. */
        gj_ws *ordered = NULL;
        while (list) {
            gj_ws *next = list->work_next;
            list->work_next = NULL;
            list->pass_next = ordered;
            ordered = list;
            list->on_work = false;
            list->refs++;   /* this pass's reference */
            list = next;
        }
        pthread_mutex_unlock(&s->mu);
        if (!ordered)
            return;
        while (ordered) {
            gj_ws *c = ordered;
            ordered = c->pass_next;
            pthread_mutex_lock(&s->mu);
            unsigned what = c->pending;
            c->pending = 0;
            pthread_mutex_unlock(&s->mu);
            if (what & GJ__WS_DO_ABANDON)
                do_abandon(c);
            if ((what & GJ__WS_DO_CONNECT) && !c->finished)
                gj__ws_start_connect(s, c);
            if (what & GJ__WS_DO_FLOW)
                do_flow(c);
            if ((what & GJ__WS_DO_WRITE) && c->wsi && !c->close_due) {
                pthread_mutex_lock(&s->mu);
                bool open = c->state == GJ__WS_OPEN;
                pthread_mutex_unlock(&s->mu);
                if (open)
                    lws_callback_on_writable(c->wsi);
            }
            if (what & GJ__WS_DO_CLOSE)
                do_close(c);
            gj__ws_maybe_let_go(c);
            gj__ws_unref(c);
        }
    }
}

/* ---- the thread --------------------------------------------------------------- */

static void linger_over(lws_sorted_usec_list_t *sul)
{
    (void)sul;   /* only wakes lws_service */
}

/* After `stopping`: on_close(1001) for the open connections, a close frame
 * to each and up to GJ__WS_SHUTDOWN_LINGER_MS for the peers' answers (so
 * that they see 1001, not a reset), connects in progress failed, then the
 * context destroyed here, on its thread. */
static void shut_down(gj_ws_service *s)
{
    /* Nobody adds connections once `stopping` is set; only this thread
     * removes them.  Each one is held (a reference) in `all`. */
    pthread_mutex_lock(&s->mu);
    size_t n = 0;
    for (gj_ws *c = s->conns; c; c = c->next)
        n++;
    gj_ws **all = n ? calloc(n, sizeof *all) : NULL;
    size_t k = 0;
    for (gj_ws *c = s->conns; c && all; c = c->next) {
        c->refs++;
        all[k++] = c;
    }
    pthread_mutex_unlock(&s->mu);
    if (n && !all) {
        /* No memory for the list: no goodbyes, the context goes at once. */
        lws_context_destroy(s->ctx);
        goto vhosts;
    }
    size_t closing = 0;
    for (size_t i = 0; i < n; i++) {
        gj_ws *c = all[i];
        pthread_mutex_lock(&s->mu);
        gj__ws_state st = c->state;
        pthread_mutex_unlock(&s->mu);
        if (st == GJ__WS_CONNECTING) {
            gj__ws_fail_connect(c, GJ_ESHUTDOWN, "the WebSocket service is shutting down");
            continue;
        }
        gj__ws_deliver_close(c, LWS_CLOSE_STATUS_GOINGAWAY, "shutting down");
        c->finished = true;
        if (c->wsi && !c->close_sent) {
            gj__ws_close_with_frame(c, c->wsi, LWS_CLOSE_STATUS_GOINGAWAY, "shutting down", true);
            closing++;
        }
    }
    if (closing) {
        lws_sorted_usec_list_t linger;
        memset(&linger, 0, sizeof linger);
        int64_t until = gj__now_ms() + GJ__WS_SHUTDOWN_LINGER_MS;
        lws_sul_schedule(s->ctx, 0, &linger, linger_over,
                         (lws_usec_t)GJ__WS_SHUTDOWN_LINGER_MS * 1000);
        for (;;) {
            bool waiting = false;
            for (size_t i = 0; i < n && !waiting; i++)
                waiting = all[i]->wsi != NULL;
            if (!waiting || gj__now_ms() >= until || lws_service(s->ctx, 0) < 0)
                break;
        }
        lws_sul_schedule(s->ctx, 0, &linger, linger_over, LWS_SET_TIMER_USEC_CANCEL);
    }
    for (size_t i = 0; i < n; i++) {
        all[i]->finished = true;
        gj__ws_drop_queue(all[i]);
        if (all[i]->wsi)
            lws_set_timeout(all[i]->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_SYNC);
    }
    lws_context_destroy(s->ctx);
    for (size_t i = 0; i < n; i++) {
        all[i]->wsi = NULL;
        gj__ws_maybe_let_go(all[i]);
        gj__ws_unref(all[i]);
    }
    free(all);
vhosts:
    for (gj__ws_vhost *v = s->vhosts; v;) {
        gj__ws_vhost *next = v->next;
        free_vhost_entry(v);
        v = next;
    }
    s->vhosts = NULL;
}

static void *service_main(void *arg)
{
    gj_ws_service *s = arg;
    for (;;) {
        process_work(s);
        pthread_mutex_lock(&s->mu);
        bool stop = s->stopping;
        pthread_mutex_unlock(&s->mu);
        if (stop)
            break;
        if (lws_service(s->ctx, 0) < 0)
            break;
    }
    shut_down(s);
    return NULL;
}

static pthread_once_t lws_log_once = PTHREAD_ONCE_INIT;

static void lws_log_quiet(void)
{
    /* lws logs to stderr by default; the library never prints.  This is
     * process-wide (lws has no per-context logging in 4.1). */
    lws_set_log_level(0, NULL);
}

int gj__ws_service_new(gj_ws_service **out, const char *name, const gj_logger *log, gj_error *err)
{
    *out = NULL;
    const char *nm = name ? name : "ws";
    gj_ws_service *s = calloc(1, sizeof *s);
    if (!s)
        return gj__error_set(err, GJ_ENOMEM, "%s: out of memory", nm);
    snprintf(s->name, sizeof s->name, "%s", nm);
    if (log) {
        s->log = *log;
        s->has_log = true;
    }
    s->refs = 1;
    pthread_condattr_t ca;
    bool ca_ok = pthread_condattr_init(&ca) == 0;
    bool ok = ca_ok && pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0 &&
              pthread_mutex_init(&s->mu, NULL) == 0;
    if (ok && pthread_cond_init(&s->cv, &ca) != 0) {
        pthread_mutex_destroy(&s->mu);
        ok = false;
    }
    if (ca_ok)
        pthread_condattr_destroy(&ca);
    if (!ok) {
        free(s);
        return gj__error_set(err, GJ_ENOMEM, "%s: cannot create a mutex", nm);
    }
    pthread_once(&lws_log_once, lws_log_quiet);

    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS | LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    info.protocols = protocols;
    info.user = s;
    info.pt_serv_buf_size = GJ__WS_SERV_BUF;
    /* The caller's deadline bounds a connect; lws's own limits stay out of
     * its way. */
    info.timeout_secs = 3600;
    info.connect_timeout_secs = 3600;
    info.gid = -1;
    info.uid = -1;
    /* lws 4.1 sets SIGPIPE to SIG_IGN for the whole process when it makes a
     * context; the application's choice is put back (the service thread
     * blocks SIGPIPE instead, below). */
    struct sigaction sigpipe;
    bool have_sigpipe = sigaction(SIGPIPE, NULL, &sigpipe) == 0;
    s->ctx = lws_create_context(&info);
    if (have_sigpipe)
        sigaction(SIGPIPE, &sigpipe, NULL);
    if (s->ctx) {
        struct lws_context_creation_info vinfo = info;
        vinfo.vhost_name = "gj-plain";
        vinfo.options = 0;
        s->plain = lws_create_vhost(s->ctx, &vinfo);
    }
    if (!s->ctx || !s->plain) {
        if (s->ctx)
            lws_context_destroy(s->ctx);
        pthread_cond_destroy(&s->cv);
        pthread_mutex_destroy(&s->mu);
        free(s);
        return gj__error_set(err, GJ_ENOMEM, "%s: cannot create a libwebsockets context", nm);
    }
    /* The thread blocks every signal: SIGPIPE from a write to a closed TLS
     * socket stays pending there instead of killing the process, and the
     * application's handlers never run on it. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&s->thread, NULL, service_main, s);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        lws_context_destroy(s->ctx);
        pthread_cond_destroy(&s->cv);
        pthread_mutex_destroy(&s->mu);
        free(s);
        return gj__error_set(err, GJ_ENOMEM, "%s: cannot start the WebSocket service thread: %s",
                             nm, strerror(rc));
    }
    *out = s;
    return 0;
}

void gj__ws_service_free(gj_ws_service *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    if (!s->stopping) {
        s->stopping = true;
        lws_cancel_service(s->ctx);
    }
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->thread, NULL);
    s->ctx = NULL;
    gj__ws_service_unref(s);
}
