/*
 * WebSocket client transport (ws.h): the calls other threads make.  They
 * record work on the connection under the service's mutex and wake the
 * service thread (ws_service.c), which does everything lws does.
 *
 * A connect resolves the host name here, on the calling thread (on a helper
 * thread of its own, so that getaddrinfo too ends at the deadline or the
 * abort: lws 4.1 as built by Debian resolves synchronously, which would
 * stall every connection of the service), hands the numeric addresses to
 * the service thread, and waits in poll() on the connection's eventfd and
 * the abort's fds until the service thread says how it went.
 */
#include "transport/ws_internal.h"
#include "transport/resolve.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#define MAX_ADDRS 16

/* ---- the connection's memory --------------------------------------------------- */

void gj__ws_free_conn(gj_ws *c)
{
    gj__ws_free_msgs(c->q_head);
    free(c->cur);
    free(c->rx);
    free(c->name);
    free(c->host);
    free(c->host_header);
    free(c->path);
    free(c->subprotocols);
    for (size_t i = 0; i < c->n_headers; i++) {
        if (c->headers[i]) {   /* may carry credentials */
            OPENSSL_cleanse(c->headers[i], strlen(c->headers[i]));
            free(c->headers[i]);
        }
    }
    free(c->headers);
    free(c->ca);
    free(c->certfile);
    free(c->keyfile);
    if (c->key_password) {
        OPENSSL_cleanse(c->key_password, strlen(c->key_password));
        free(c->key_password);
    }
    for (size_t i = 0; i < c->n_addrs; i++)
        free(c->addrs[i]);
    free(c->addrs);
    if (c->done_fd >= 0)
        close(c->done_fd);
    gj_ws_service *s = c->s;
    free(c);
    if (s)
        gj__ws_service_unref(s);
}

static bool dup_opt(char **dst, const char *src)
{
    *dst = NULL;
    return !src || (*dst = gj__strdup(src)) != NULL;
}

/* A connection with cfg's settings copied (no service reference yet). */
static int conn_new(gj_ws **out, const char *name, const gj_ws_config *cfg,
                    const gj_ws_handlers *h, gj_error *err)
{
    *out = NULL;
    gj_ws *c = calloc(1, sizeof *c);
    if (!c)
        return gj__error_set(err, GJ_ENOMEM, "%s: out of memory", name);
    c->done_fd = -1;
    bool v6 = false;
    c->host_is_ip = gj__resolve_is_ip(cfg->host, &v6);
    size_t hl = strlen(cfg->host) + 16;
    bool ok = (c->name = gj__strdup(name)) && (c->host = gj__strdup(cfg->host)) &&
              (c->host_header = malloc(hl)) &&
              (c->path = gj__strdup(cfg->path ? cfg->path : "/")) &&
              dup_opt(&c->subprotocols, cfg->subprotocols) && dup_opt(&c->ca, cfg->ca) &&
              dup_opt(&c->certfile, cfg->certfile) && dup_opt(&c->keyfile, cfg->keyfile) &&
              dup_opt(&c->key_password, cfg->key_password);
    if (ok) {
        snprintf(c->host_header, hl, v6 ? "[%s]:%d" : "%s:%d", cfg->host, cfg->port);
        if (c->subprotocols && !c->subprotocols[0]) {
            free(c->subprotocols);
            c->subprotocols = NULL;
        }
    }
    if (ok && cfg->n_headers) {
        c->headers = calloc(cfg->n_headers, sizeof *c->headers);
        ok = c->headers != NULL;
        for (size_t i = 0; ok && i < cfg->n_headers; i++) {
            ok = (c->headers[i] = gj__strdup(cfg->headers[i])) != NULL;
            c->n_headers = i + 1;
        }
    }
    c->done_fd = ok ? eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK) : -1;
    if (!ok || c->done_fd < 0) {
        int code = ok ? GJ_EIO : GJ_ENOMEM;
        c->s = NULL;
        gj__ws_free_conn(c);
        return gj__error_set(err, code, "%s: %s", name,
                             code == GJ_ENOMEM ? "out of memory" : "cannot create an eventfd");
    }
    c->tls = cfg->tls;
    c->verify = cfg->verify;
    c->port = cfg->port;
    c->max_message = cfg->max_message ? cfg->max_message : GJ__WS_DEFAULT_MAX_MESSAGE;
    c->ping_interval_ms = cfg->ping_interval_ms > 0 ? cfg->ping_interval_ms : 0;
    c->pong_timeout_ms = cfg->pong_timeout_ms > 0 ? cfg->pong_timeout_ms
                                                  : 3 * c->ping_interval_ms;
    c->h = *h;
    *out = c;
    return 0;
}

/* ---- name resolution ------------------------------------------------------------ */

static int poll_timeout(int64_t deadline_ms)
{
    if (deadline_ms == INT64_MAX)
        return -1;
    int64_t left = deadline_ms - gj__now_ms();
    if (left <= 0)
        return 0;
    return left > 1000000 ? 1000000 : (int)left;
}

/* Wait for fd to become readable, the abort or the deadline: 1 (readable),
 * 0 (deadline), an abort's code, or GJ_EIO (poll failed). */
static int wait_readable(int fd, const gj_abort *abort, int64_t deadline_ms)
{
    for (;;) {
        int a = gj__abort_check(abort);
        if (a)
            return a;
        int t = poll_timeout(deadline_ms);
        if (t == 0)
            return 0;
        struct pollfd p[3] = { { fd, POLLIN, 0 } };
        int n = 1 + gj__abort_pollfds(abort, p + 1);
        int r = poll(p, (nfds_t)n, t);
        if (r < 0 && errno != EINTR)
            return GJ_EIO;
        if (r > 0 && p[0].revents)
            return 1;
        if (r > 0 && !gj__abort_check(abort))
            gj__abort_drain(abort);   /* a spurious wake of the job fd */
    }
}

static int resolve_wait_error(const char *name, int w, gj_error *err)
{
    if (w == 0)
        return gj__error_set(err, GJ_ETIMEDOUT, "%s: timed out resolving the host name", name);
    if (w == GJ_EIO)
        return gj__error_set(err, GJ_ECONNECT, "%s: cannot resolve host: poll: %s", name,
                             strerror(errno));
    return gj__error_set(err, w, "%s: %s while resolving the host name", name,
                         gj__abort_reason(w));
}

/* resolve.h's lookup, given up at the deadline or abort. */
static int resolve(const char *name, const char *host, int port, const gj_abort *abort,
                   int64_t deadline_ms, struct addrinfo **out, gj_error *err)
{
    gj_resolve *j = NULL;
    int rc = gj__resolve_start(name, host, port, &j, out, err);
    if (rc || !j)
        return rc;
    while (!gj__resolve_done(j)) {
        int w = wait_readable(gj__resolve_fd(j), abort, deadline_ms);
        if (w != 1) {
            rc = resolve_wait_error(name, w, err);
            break;
        }
    }
    if (rc == 0)
        rc = gj__resolve_take(j, name, out, err);
    gj__resolve_release(j);
    return rc;
}

/* c->addrs: the numeric addresses of res, in order, without repeats. */
static int take_addresses(gj_ws *c, const struct addrinfo *res, gj_error *err)
{
    c->addrs = calloc(MAX_ADDRS, sizeof *c->addrs);
    if (!c->addrs)
        return gj__error_set(err, GJ_ENOMEM, "%s: out of memory", c->name);
    for (const struct addrinfo *ai = res; ai && c->n_addrs < MAX_ADDRS; ai = ai->ai_next) {
        char num[INET6_ADDRSTRLEN];
        if (getnameinfo(ai->ai_addr, ai->ai_addrlen, num, sizeof num, NULL, 0, NI_NUMERICHOST))
            continue;
        bool seen = false;
        for (size_t i = 0; i < c->n_addrs && !seen; i++)
            seen = strcmp(c->addrs[i], num) == 0;
        if (seen)
            continue;
        if (!(c->addrs[c->n_addrs] = gj__strdup(num)))
            return gj__error_set(err, GJ_ENOMEM, "%s: out of memory", c->name);
        c->n_addrs++;
    }
    if (!c->n_addrs)
        return gj__error_set(err, GJ_ECONNECT, "%s: cannot resolve host: no usable address",
                             c->name);
    return 0;
}

/* ---- connect -------------------------------------------------------------------- */

static int check_config(const char *name, gj_ws_service *s, const gj_ws_config *cfg,
                        const gj_ws_handlers *h, gj_error *err)
{
    if (!s || !cfg || !h)
        return gj__error_set(err, GJ_EINVAL, "%s: no service, configuration or handlers", name);
    if (!cfg->host || !cfg->host[0])
        return gj__error_set(err, GJ_EINVAL, "%s: no host", name);
    if (cfg->port <= 0 || cfg->port > 65535)
        return gj__error_set(err, GJ_EINVAL, "%s: bad port %d", name, cfg->port);
    if (cfg->path && cfg->path[0] != '/')
        return gj__error_set(err, GJ_EINVAL, "%s: the path must start with '/': %s", name,
                             cfg->path);
    if (cfg->n_headers && !cfg->headers)
        return gj__error_set(err, GJ_EINVAL, "%s: n_headers without headers", name);
    for (size_t i = 0; i < cfg->n_headers; i++) {
        const char *hd = cfg->headers[i];
        if (!hd || !strchr(hd, ':') || strpbrk(hd, "\r\n"))
            return gj__error_set(err, GJ_EINVAL, "%s: bad header line %zu (\"Name: value\")",
                                 name, i);
    }
    return 0;
}

/* Give up a connect in progress (deadline or abort): the service thread
 * drops it without a handler.  Returns true when it had opened meanwhile
 * (the caller then keeps it). */
static bool abandon(gj_ws *c)
{
    gj_ws_service *s = c->s;
    pthread_mutex_lock(&s->mu);
    bool opened = c->state == GJ__WS_OPEN;
    if (!opened) {
        c->abandoned = true;
        c->handlers_off = true;
        gj__ws_push_locked(c, GJ__WS_DO_ABANDON);
    }
    pthread_mutex_unlock(&s->mu);
    return opened;
}

int gj__ws_connect(gj_ws **out, gj_ws_service *s, const gj_ws_config *cfg, const gj_ws_handlers *h,
                   const gj_abort *abort, int64_t deadline_ms, gj_error *err)
{
    *out = NULL;
    char defname[300];
    const char *name = cfg && cfg->name ? cfg->name : NULL;
    if (!name) {
        snprintf(defname, sizeof defname, "ws %s:%d", cfg && cfg->host ? cfg->host : "?",
                 cfg ? cfg->port : 0);
        name = defname;
    }
    int rc = check_config(name, s, cfg, h, err);
    if (rc)
        return rc;
    if (gj__ws_on_service_thread(s))
        return gj__error_set(err, GJ_EDEADLK, "%s: gj__ws_connect called on the WebSocket "
                             "service thread (from a handler)", name);
    if ((rc = gj__abort_check(abort)))
        return gj__error_set(err, rc, "%s: %s", name, gj__abort_reason(rc));

    gj_ws *c = NULL;
    if ((rc = conn_new(&c, name, cfg, h, err)))
        return rc;
    struct addrinfo *res = NULL;
    rc = resolve(name, cfg->host, cfg->port, abort, deadline_ms, &res, err);
    if (!rc)
        rc = take_addresses(c, res, err);
    if (res)
        freeaddrinfo(res);
    if (rc) {
        gj__ws_free_conn(c);
        return rc;
    }

    pthread_mutex_lock(&s->mu);
    if (s->stopping) {
        pthread_mutex_unlock(&s->mu);
        gj__ws_free_conn(c);
        return gj__error_set(err, GJ_ESHUTDOWN, "%s: the WebSocket service is shutting down",
                             name);
    }
    s->refs++;
    c->s = s;
    c->refs = 2;   /* the caller + the service thread */
    c->state = GJ__WS_CONNECTING;
    c->in_conns = true;
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    gj__ws_push_locked(c, GJ__WS_DO_CONNECT);
    pthread_mutex_unlock(&s->mu);

    for (;;) {
        pthread_mutex_lock(&s->mu);
        gj__ws_state st = c->state;
        pthread_mutex_unlock(&s->mu);
        if (st != GJ__WS_CONNECTING)
            break;
        int w = wait_readable(c->done_fd, abort, deadline_ms);
        if (w == 1) {
            uint64_t v;
            if (read(c->done_fd, &v, sizeof v) < 0) {
                /* EAGAIN: already drained */
            }
            continue;
        }
        if (abandon(c))
            break;
        if (w == 0)
            rc = gj__error_set(err, GJ_ETIMEDOUT, "%s: timed out connecting", name);
        else if (w == GJ_EIO)
            rc = gj__error_set(err, GJ_EIO, "%s: poll: %s", name, strerror(errno));
        else
            rc = gj__error_set(err, w, "%s: %s while connecting", name, gj__abort_reason(w));
        gj__ws_unref(c);
        return rc;
    }

    pthread_mutex_lock(&s->mu);
    gj__ws_state st = c->state;
    int code = c->fail_code;
    char msg[sizeof c->fail_msg];
    memcpy(msg, c->fail_msg, sizeof msg);
    pthread_mutex_unlock(&s->mu);
    if (st == GJ__WS_FAILED) {
        gj__ws_unref(c);
        return gj__error_set(err, code ? code : GJ_ECONNECT, "%s: %s", name, msg);
    }
    /* OPEN, or already CLOSED again (on_close ran): either way a handle. */
    *out = c;
    return 0;
}

/* ---- send ----------------------------------------------------------------------- */

static int closed_error(gj_ws *c, gj_error *err)
{
    if (c->close_known)
        return gj__error_set(err, GJ_EIO, "%s: connection closed: %d %s", c->name, c->close_code,
                             c->close_reason);
    return gj__error_set(err, GJ_EIO, "%s: connection closed", c->name);
}

int gj__ws_send(gj_ws *ws, const void *data, size_t len, bool binary, int64_t deadline_ms,
                gj_error *err)
{
    gj_ws *c = ws;
    if (!c)
        return gj__error_set(err, GJ_EINVAL, "no WebSocket connection");
    if (len && !data)
        return gj__error_set(err, GJ_EINVAL, "%s: no data", c->name);
    if (len > SIZE_MAX - sizeof(gj__ws_msg) - LWS_PRE)
        return gj__error_set(err, GJ_ETOOBIG, "%s: message too large", c->name);
    gj__ws_msg *m = malloc(sizeof *m + LWS_PRE + len);
    if (!m)
        return gj__error_set(err, GJ_ENOMEM, "%s: out of memory queueing a message of %zu bytes",
                             c->name, len);
    m->next = NULL;
    m->len = len;
    m->binary = binary;
    if (len)
        memcpy(m->buf + LWS_PRE, data, len);

    gj_ws_service *s = c->s;
    bool service = gj__ws_on_service_thread(s);
    int rc = 0;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        if (c->state != GJ__WS_OPEN || c->released) {
            rc = closed_error(c, err);
            break;
        }
        if (c->q_bytes == 0 || (c->q_bytes <= GJ__WS_SEND_QUEUE_MAX &&
                                len <= GJ__WS_SEND_QUEUE_MAX - c->q_bytes))
            break;
        if (service || gj__now_ms() >= deadline_ms) {
            rc = gj__error_set(err, GJ_ETIMEDOUT, "%s: timed out waiting for room in the send "
                               "queue (%zu bytes queued)", c->name, c->q_bytes);
            break;
        }
        struct timespec ts;
        gj__deadline_to_timespec(deadline_ms, &ts);
        c->send_waiters++;
        if (deadline_ms == INT64_MAX)
            pthread_cond_wait(&s->cv, &s->mu);
        else
            pthread_cond_timedwait(&s->cv, &s->mu, &ts);
        c->send_waiters--;
    }
    if (rc == 0) {
        if (c->q_tail)
            c->q_tail->next = m;
        else
            c->q_head = m;
        c->q_tail = m;
        c->q_bytes += len;
        if (!(c->pending & GJ__WS_DO_WRITE))
            gj__ws_push_locked(c, GJ__WS_DO_WRITE);
    }
    pthread_mutex_unlock(&s->mu);
    if (rc)
        free(m);
    return rc;
}

/* ---- the rest ------------------------------------------------------------------- */

const char *gj__ws_protocol(const gj_ws *ws)
{
    /* Written by the service thread before the connect returned. */
    return ws && ws->has_protocol ? ws->protocol : NULL;
}

bool gj__ws_is_open(const gj_ws *ws)
{
    return ws && __atomic_load_n(&ws->open, __ATOMIC_ACQUIRE);
}

const char *gj__ws_name(const gj_ws *ws)
{
    return ws ? ws->name : "";
}

void gj__ws_pause(gj_ws *ws, bool paused)
{
    if (!ws)
        return;
    gj_ws_service *s = ws->s;
    pthread_mutex_lock(&s->mu);
    if (ws->paused != paused) {
        ws->paused = paused;
        gj__ws_push_locked(ws, GJ__WS_DO_FLOW);
    }
    pthread_mutex_unlock(&s->mu);
}

void gj__ws_close(gj_ws *ws, int code, const char *reason)
{
    if (!ws)
        return;
    gj_ws *c = ws;
    gj_ws_service *s = c->s;
    bool service = gj__ws_on_service_thread(s);
    pthread_mutex_lock(&s->mu);
    c->released = true;
    if (c->state == GJ__WS_OPEN && !c->close_known) {
        __atomic_store_n(&c->open, false, __ATOMIC_RELEASE);
        c->req_code = code;
        gj__ws_copy_reason(c->req_reason, reason);
        gj__ws_push_locked(c, GJ__WS_DO_CLOSE);
    }
    if (!service && !s->stopping) {
        /* Until on_close was delivered (or the handlers are off) and no
         * handler runs, at most GJ__WS_CLOSE_WAIT_MS. */
        struct timespec ts;
        gj__deadline_to_timespec(gj__now_ms() + GJ__WS_CLOSE_WAIT_MS, &ts);
        while (!(c->handlers_off && !c->in_handler) &&
               pthread_cond_timedwait(&s->cv, &s->mu, &ts) == 0) {
        }
    }
    c->handlers_off = true;
    /* A handler that runs now must end before the caller frees what its
     * argument points to (handlers must not block, so this is short).  On
     * the service thread, that handler may be the caller itself. */
    while (c->in_handler && !service)
        pthread_cond_wait(&s->cv, &s->mu);
    pthread_mutex_unlock(&s->mu);
    gj__ws_unref(c);
}
