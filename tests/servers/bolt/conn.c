/* conn.c — one thread per connection: TLS, handshake (legacy and manifest
 * v1), non-blocking I/O, dechunking, the queue of decoded requests, and
 * RESET jumping that queue (every request before it is IGNORED, and a
 * running query or stall is interrupted). */
#include "bs.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#define IO_TIMEOUT_MS 60000          /* handshake and writes */
#define QUEUE_MAX 4096               /* pipelined requests held at once */

struct bs_conn {
    bs_server *srv;
    int fd;
    int member;
    SSL *ssl;
    gj_dechunker dechunker;
    gj_bolt_msg *queue[QUEUE_MAX];
    size_t q_head, q_len;
    int pending_resets;
    bool closed;                     /* EOF, error or killed */
    bool protocol_error;             /* a request could not be decoded */
    char protocol_why[256];
    bs_session session;
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- raw I/O: returns bytes, 0 at EOF, -1 on error, -2 on timeout ---- */

static int wait_fd(int fd, short events, int timeout_ms)
{
    struct pollfd p = { fd, events, 0 };
    int rc;
    do
        rc = poll(&p, 1, timeout_ms);
    while (rc < 0 && errno == EINTR);
    return rc;   /* 0 = timeout */
}

static ssize_t raw_read(bs_conn *c, void *buf, size_t n, int timeout_ms)
{
    int64_t deadline = timeout_ms < 0 ? INT64_MAX : now_ms() + timeout_ms;
    for (;;) {
        short want = POLLIN;
        if (c->ssl) {
            ERR_clear_error();
            int r = SSL_read(c->ssl, buf, (int)(n > INT32_MAX ? INT32_MAX : n));
            if (r > 0)
                return r;
            int e = SSL_get_error(c->ssl, r);
            if (e == SSL_ERROR_ZERO_RETURN)
                return 0;
            if (e == SSL_ERROR_WANT_WRITE)
                want = POLLOUT;
            else if (e != SSL_ERROR_WANT_READ)
                return e == SSL_ERROR_SYSCALL && r == 0 ? 0 : -1;
        } else {
            ssize_t r = recv(c->fd, buf, n, 0);
            if (r >= 0)
                return r;
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                return -1;
        }
        int64_t left = deadline == INT64_MAX ? -1 : deadline - now_ms();
        if (deadline != INT64_MAX && left <= 0)
            return -2;
        int rc = wait_fd(c->fd, want, left < 0 ? -1 : (int)(left > INT32_MAX ? INT32_MAX : left));
        if (rc < 0)
            return -1;
        if (rc == 0)
            return -2;
    }
}

static int raw_write(bs_conn *c, const void *data, size_t len)
{
    const uint8_t *p = data;
    int64_t deadline = now_ms() + IO_TIMEOUT_MS;
    while (len > 0) {
        short want = POLLOUT;
        if (c->ssl) {
            ERR_clear_error();
            int r = SSL_write(c->ssl, p, (int)(len > (1u << 30) ? (1u << 30) : len));
            if (r > 0) {
                p += r;
                len -= (size_t)r;
                continue;
            }
            int e = SSL_get_error(c->ssl, r);
            if (e == SSL_ERROR_WANT_READ)
                want = POLLIN;
            else if (e != SSL_ERROR_WANT_WRITE)
                return -1;
        } else {
            ssize_t r = send(c->fd, p, len, MSG_NOSIGNAL);
            if (r > 0) {
                p += r;
                len -= (size_t)r;
                continue;
            }
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
                return -1;
        }
        int64_t left = deadline - now_ms();
        if (left <= 0 || wait_fd(c->fd, want, (int)left) <= 0)
            return -1;
    }
    return 0;
}

int bs_conn_write(bs_conn *c, const void *data, size_t len)
{
    if (c->closed)
        return -1;
    if (raw_write(c, data, len) != 0) {
        c->closed = true;
        return -1;
    }
    return 0;
}

void bs_conn_kill(bs_conn *c)
{
    c->closed = true;
    shutdown(c->fd, SHUT_RDWR);
}

/* Read exactly n bytes (handshake). 0 or -1. */
static int read_exact(bs_conn *c, uint8_t *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = raw_read(c, buf + got, n - got, IO_TIMEOUT_MS);
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    return 0;
}

/* ---- requests: bytes -> dechunker -> decoded queue ---- */

static void queue_push(bs_conn *c, gj_bolt_msg *m)
{
    c->queue[(c->q_head + c->q_len) % QUEUE_MAX] = m;
    c->q_len++;
}

static gj_bolt_msg *queue_pop(bs_conn *c)
{
    if (!c->q_len)
        return NULL;
    gj_bolt_msg *m = c->queue[c->q_head];
    c->q_head = (c->q_head + 1) % QUEUE_MAX;
    c->q_len--;
    return m;
}

/* Feed received bytes; queue each complete request. */
static void feed(bs_conn *c, const uint8_t *data, size_t len)
{
    gj_error *err = gj_error_new();
    while (len > 0 && !c->protocol_error) {
        size_t used = 0;
        int rc = gj__dechunk_feed(&c->dechunker, data, len, &used, err);
        if (rc < 0) {
            c->protocol_error = true;
            snprintf(c->protocol_why, sizeof c->protocol_why, "%s", gj_error_message(err));
            break;
        }
        data += used;
        len -= used;
        if (rc == 1) {
            const uint8_t *msg;
            size_t mlen;
            gj__dechunk_message(&c->dechunker, &msg, &mlen);
            gj_bolt_msg *m = calloc(1, sizeof *m);
            if (!m || c->q_len >= QUEUE_MAX) {
                free(m);
                c->protocol_error = true;
                snprintf(c->protocol_why, sizeof c->protocol_why, "too many pipelined requests");
                break;
            }
            if (gj__bolt_msg_decode(m, msg, mlen, &c->session.ps, GJ_BOLT_REQUEST, err) != 0) {
                free(m);
                c->protocol_error = true;
                snprintf(c->protocol_why, sizeof c->protocol_why, "%s", gj_error_message(err));
                break;
            }
            if (m->tag == GJ_BOLT_RESET)
                c->pending_resets++;
            queue_push(c, m);
        }
    }
    gj_error_free(err);
}

/* Read what is available within timeout_ms (-1 = wait) and queue it.
 * Returns false when the connection is closed. */
static bool receive(bs_conn *c, int timeout_ms)
{
    uint8_t buf[65536];
    ssize_t r = raw_read(c, buf, sizeof buf, timeout_ms);
    if (r == -2)
        return true;
    if (r <= 0) {
        c->closed = true;
        return false;
    }
    feed(c, buf, (size_t)r);
    /* Drain what TLS already decrypted. */
    while (c->ssl && SSL_pending(c->ssl) > 0 && !c->protocol_error) {
        r = raw_read(c, buf, sizeof buf, 0);
        if (r <= 0)
            break;
        feed(c, buf, (size_t)r);
    }
    return true;
}

bool bs_conn_interrupted(bs_conn *c)
{
    if (!c->closed && !c->protocol_error)
        receive(c, 0);
    return c->pending_resets > 0 || c->closed || c->protocol_error || atomic_load(&c->srv->stopping);
}

bool bs_conn_sleep(bs_conn *c, long ms)
{
    int64_t deadline = ms < 0 ? INT64_MAX : now_ms() + ms;
    for (;;) {
        if (bs_conn_interrupted(c))
            return true;
        int64_t left = deadline - now_ms();
        if (left <= 0)
            return false;
        int step = left > 50 ? 50 : (int)left;
        if (!c->ssl || SSL_pending(c->ssl) == 0)
            wait_fd(c->fd, POLLIN, step);
    }
}

/* ---- handshake ---- */

/* Contiguous runs of supported minors per major, as manifest ranges. */
static size_t version_ranges(const bs_config *cfg, uint32_t *out, size_t max)
{
    size_t n = 0;
    bool used[BS_MAX_VERSIONS] = { false };
    for (size_t i = 0; i < cfg->n_versions && n < max; i++) {
        if (used[i])
            continue;
        unsigned major = cfg->versions[i].major, top = cfg->versions[i].minor, low = top;
        used[i] = true;
        bool grew = true;
        while (grew) {
            grew = false;
            for (size_t k = 0; k < cfg->n_versions; k++)
                if (!used[k] && cfg->versions[k].major == major && cfg->versions[k].minor + 1 == low) {
                    low--;
                    used[k] = true;
                    grew = true;
                } else if (!used[k] && cfg->versions[k].major == major && cfg->versions[k].minor == top + 1) {
                    top++;
                    used[k] = true;
                    grew = true;
                }
        }
        out[n++] = gj__bolt_version_word(major, top, top - low);
    }
    return n;
}

static bool supported(const bs_config *cfg, gj_bolt_version v)
{
    for (size_t i = 0; i < cfg->n_versions; i++)
        if (cfg->versions[i].major == v.major && cfg->versions[i].minor == v.minor)
            return true;
    return false;
}

/* 0 = agreed on a version (session.ps set), -1 = close. */
static int handshake(bs_conn *c)
{
    const bs_config *cfg = &c->srv->cfg;
    uint8_t in[GJ_BOLT_HANDSHAKE_LEN];
    if (read_exact(c, in, 4) != 0)
        return -1;
    if (memcmp(in, "\x60\x60\xB0\x17", 4) != 0) {
        BS_LOG(c->srv, "conn %ld: not a Bolt client (%02X %02X %02X %02X)", c->session.conn_id, in[0], in[1], in[2],
               in[3]);
        return -1;
    }
    if (read_exact(c, in + 4, 16) != 0)
        return -1;
    uint32_t reply;
    gj__bolt_handshake_choose(in, cfg->versions, cfg->n_versions, cfg->manifest, &reply, NULL);
    if (reply != GJ_BOLT_MANIFEST_V1 && (reply & 0xFF) >= 6) {
        /* Bolt 6 is negotiated through the manifest only, as Neo4j does. */
        gj_bolt_version legacy[BS_MAX_VERSIONS];
        size_t n = 0;
        for (size_t i = 0; i < cfg->n_versions; i++)
            if (cfg->versions[i].major < 6)
                legacy[n++] = cfg->versions[i];
        gj__bolt_handshake_choose(in, legacy, n, false, &reply, NULL);
    }
    uint8_t out[4 + GJ_VARINT_MAX + 4 * BS_MAX_VERSIONS + GJ_VARINT_MAX];
    out[0] = (uint8_t)(reply >> 24);
    out[1] = (uint8_t)(reply >> 16);
    out[2] = (uint8_t)(reply >> 8);
    out[3] = (uint8_t)reply;
    if (reply == 0) {
        BS_LOG(c->srv, "conn %ld: no common Bolt version", c->session.conn_id);
        raw_write(c, out, 4);
        return -1;
    }
    gj_bolt_version v = gj__bolt_version_of(reply);
    if (reply == GJ_BOLT_MANIFEST_V1) {
        uint32_t ranges[BS_MAX_VERSIONS];
        size_t n = version_ranges(cfg, ranges, BS_MAX_VERSIONS);
        size_t len = 4 + gj__bolt_manifest_offer(out + 4, sizeof out - 4, ranges, n, 0);
        if (raw_write(c, out, len) != 0)
            return -1;
        uint8_t choice[4 + GJ_VARINT_MAX];
        size_t have = 0, used;
        uint64_t caps;
        for (;;) {
            int rc = gj__bolt_manifest_choice_parse(choice, have, &used, &v, &caps, NULL);
            if (rc == 1)
                break;
            if (rc < 0 || have == sizeof choice || read_exact(c, choice + have, 1) != 0)
                return -1;
            have++;
        }
        if (!supported(cfg, v)) {
            BS_LOG(c->srv, "conn %ld: manifest choice %u.%u was not offered", c->session.conn_id, v.major, v.minor);
            return -1;
        }
    } else if (raw_write(c, out, 4) != 0) {
        return -1;
    }
    c->session.ps.bolt_major = v.major;
    c->session.ps.bolt_minor = v.minor;
    BS_LOG(c->srv, "conn %ld: Bolt %u.%u%s", c->session.conn_id, v.major, v.minor,
           reply == GJ_BOLT_MANIFEST_V1 ? " (manifest v1)" : "");
    return 0;
}

static int tls_accept(bs_conn *c)
{
    c->ssl = SSL_new((SSL_CTX *)c->srv->tls_ctx);
    if (!c->ssl)
        return -1;
    SSL_set_fd(c->ssl, c->fd);
    SSL_set_mode(c->ssl, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    int64_t deadline = now_ms() + IO_TIMEOUT_MS;
    for (;;) {
        ERR_clear_error();
        int r = SSL_accept(c->ssl);
        if (r == 1)
            return 0;
        int e = SSL_get_error(c->ssl, r);
        short want = e == SSL_ERROR_WANT_READ ? POLLIN : e == SSL_ERROR_WANT_WRITE ? POLLOUT : 0;
        int64_t left = deadline - now_ms();
        if (!want || left <= 0 || wait_fd(c->fd, want, (int)left) <= 0) {
            unsigned long code = ERR_peek_error();
            char text[256] = "";
            if (code)
                ERR_error_string_n(code, text, sizeof text);
            BS_LOG(c->srv, "conn %ld: TLS handshake failed %s", c->session.conn_id, text);
            return -1;
        }
    }
}

/* ---- the connection thread ---- */

static void registry(bs_server *srv, int fd, int member, bool add)
{
    pthread_mutex_lock(&srv->conns_lock);
    if (add) {
        if (srv->n_conn_fds == srv->cap_conn_fds) {
            size_t cap = srv->cap_conn_fds ? srv->cap_conn_fds * 2 : 16;
            struct bs_open_conn *p = realloc(srv->conn_fds, cap * sizeof *p);
            if (p) {
                srv->conn_fds = p;
                srv->cap_conn_fds = cap;
            }
        }
        if (srv->n_conn_fds < srv->cap_conn_fds) {
            srv->conn_fds[srv->n_conn_fds].fd = fd;
            srv->conn_fds[srv->n_conn_fds++].member = member;
        }
    } else {
        for (size_t i = 0; i < srv->n_conn_fds; i++)
            if (srv->conn_fds[i].fd == fd) {
                srv->conn_fds[i] = srv->conn_fds[--srv->n_conn_fds];
                break;
            }
    }
    pthread_mutex_unlock(&srv->conns_lock);
}

void bs_conn_shutdown_all(bs_server *srv, int member)
{
    pthread_mutex_lock(&srv->conns_lock);
    for (size_t i = 0; i < srv->n_conn_fds; i++)
        if (member < 0 || srv->conn_fds[i].member == member)
            shutdown(srv->conn_fds[i].fd, SHUT_RDWR);
    pthread_mutex_unlock(&srv->conns_lock);
}

static void serve(bs_conn *c)
{
    bs_session *s = &c->session;
    if (c->srv->tls_ctx && tls_accept(c) != 0)
        return;
    if (handshake(c) != 0)
        return;
    for (;;) {
        while (!c->q_len && !c->protocol_error) {
            if (bs_session_flush(s) != 0 || !receive(c, -1))
                return;
        }
        gj_bolt_msg *m = queue_pop(c);
        if (!m) {
            /* Only a protocol error is left: answer it and close. */
            bs_session_protocol_error(s, c->protocol_why);
            bs_session_flush(s);
            return;
        }
        bool interrupted = c->pending_resets > 0 && m->tag != GJ_BOLT_RESET;
        if (m->tag == GJ_BOLT_RESET)
            c->pending_resets--;
        int rc = bs_session_handle(s, m, interrupted);
        gj__bolt_msg_clear(m);
        free(m);
        if (rc != 0 || c->closed) {
            bs_session_flush(s);
            return;
        }
        if (!c->q_len && bs_session_flush(s) != 0)
            return;
    }
}

static void *conn_main(void *arg)
{
    bs_conn *c = arg;
    bs_server *srv = c->srv;
    serve(c);
    BS_LOG(srv, "conn %ld: closed", c->session.conn_id);
    if (c->ssl) {
        if (!c->closed)
            SSL_shutdown(c->ssl);
        SSL_free(c->ssl);
    }
    registry(srv, c->fd, c->member, false);
    close(c->fd);
    while (c->q_len) {
        gj_bolt_msg *m = queue_pop(c);
        gj__bolt_msg_clear(m);
        free(m);
    }
    bs_session_free(&c->session);
    gj__dechunk_free(&c->dechunker);
    free(c);
    pthread_mutex_lock(&srv->done_lock);
    atomic_fetch_sub(&srv->active, 1);
    pthread_cond_broadcast(&srv->done_cond);
    pthread_mutex_unlock(&srv->done_lock);
    return NULL;
}

int bs_conn_start(bs_server *srv, int fd, int member)
{
    bs_conn *c = calloc(1, sizeof *c);
    if (!c)
        return -1;
    c->srv = srv;
    c->fd = fd;
    c->member = member;
    int fl = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    gj__dechunk_init(&c->dechunker, srv->cfg.max_message_size);
    bs_session_init(&c->session, srv, c, member, atomic_fetch_add(&srv->next_conn_id, 1));
    registry(srv, fd, member, true);
    atomic_fetch_add(&srv->active, 1);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_t t;
    int rc = pthread_create(&t, &attr, conn_main, c);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        registry(srv, fd, member, false);
        atomic_fetch_sub(&srv->active, 1);
        bs_session_free(&c->session);
        gj__dechunk_free(&c->dechunker);
        free(c);
        return -1;
    }
    return 0;
}
