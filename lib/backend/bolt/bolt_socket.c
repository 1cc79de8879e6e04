/*
 * Bolt transport: TCP connect with a deadline, TLS (OpenSSL), and reads and
 * writes that wait in poll() on the socket and the wake eventfd.
 */
#include "backend/bolt/bolt.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

static int poll_timeout(int64_t deadline_ms)
{
    if (deadline_ms == INT64_MAX)
        return -1;
    int64_t left = deadline_ms - gj__now_ms();
    if (left <= 0)
        return 0;
    return left > INT_MAX ? INT_MAX : (int)left;
}

/* Wait for `events` on the socket (and the wake fd when interruptible).
 * 1 = ready, GJ_ECANCELLED, GJ_ETIMEDOUT, GJ_EIO. */
static int wait_fd(gj_conn *c, short events, int64_t deadline_ms, bool interruptible)
{
    for (;;) {
        struct pollfd p[2] = { { c->fd, events, 0 }, { c->wake_fd, POLLIN, 0 } };
        nfds_t n = (interruptible && c->wake_fd >= 0) ? 2 : 1;
        if (interruptible && atomic_load(&c->interrupted))
            return GJ_ECANCELLED;
        int r = poll(p, n, poll_timeout(deadline_ms));
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return GJ_EIO;
        }
        if (r == 0)
            return GJ_ETIMEDOUT;
        if (n == 2 && (p[1].revents & POLLIN))
            return GJ_ECANCELLED;
        if (p[0].revents)
            return 1;
    }
}

void gj__bolt_wake_drain(gj_conn *c)
{
    uint64_t v;
    if (c->wake_fd >= 0 && read(c->wake_fd, &v, sizeof v) < 0) {
        /* EAGAIN: nothing to drain */
    }
}

bool gj__bolt_sock_peer_closed(gj_conn *c)
{
    if (c->fd < 0)
        return true;
    struct pollfd p = { c->fd, POLLIN | POLLRDHUP, 0 };
    if (poll(&p, 1, 0) <= 0)
        return false;
    return (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

static const char *ssl_reason(char *buf, size_t len)
{
    unsigned long e = ERR_get_error();
    if (!e) {
        snprintf(buf, len, "no detail");
    } else {
        ERR_error_string_n(e, buf, len);
    }
    ERR_clear_error();
    return buf;
}

static int tcp_connect(gj_conn *c, const gj_endpoint *ep, int64_t deadline_ms, gj_error *err)
{
    char port[16];
    snprintf(port, sizeof port, "%d", ep->port);
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    int g = getaddrinfo(ep->host, port, &hints, &res);
    if (g != 0)
        return gj__error_set(err, GJ_ECONNECT, "bolt %s: cannot resolve host: %s", c->endpoint,
                             gai_strerror(g));
    int last_errno = 0;
    bool timed_out = false;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
        if (fd < 0) {
            last_errno = errno;
            continue;
        }
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
            if (errno != EINPROGRESS) {
                last_errno = errno;
                close(fd);
                continue;
            }
            c->fd = fd;
            int w = wait_fd(c, POLLOUT, deadline_ms, false);
            c->fd = -1;
            int soerr = 0;
            socklen_t sl = sizeof soerr;
            if (w == GJ_ETIMEDOUT) {
                timed_out = true;
                close(fd);
                break;
            }
            if (w < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 || soerr != 0) {
                last_errno = soerr ? soerr : errno;
                close(fd);
                continue;
            }
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        c->fd = fd;
        freeaddrinfo(res);
        return 0;
    }
    freeaddrinfo(res);
    if (timed_out)
        return gj__error_set(err, GJ_ETIMEDOUT, "bolt %s: connect timed out", c->endpoint);
    return gj__error_set(err, GJ_ECONNECT, "bolt %s: cannot connect: %s", c->endpoint,
                         strerror(last_errno ? last_errno : ECONNREFUSED));
}

static bool is_ip_literal(const char *host)
{
    unsigned char buf[sizeof(struct in6_addr)];
    return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

static bool scheme_ssc(const gj_target_settings *ts)
{
    size_t n = ts->scheme ? strlen(ts->scheme) : 0;
    return n >= 4 && strcmp(ts->scheme + n - 4, "+ssc") == 0;
}

static int key_password_cb(char *buf, int size, int rwflag, void *userdata)
{
    (void)rwflag;
    const char *pw = userdata;
    if (!pw || size <= 0)
        return 0;
    size_t n = strlen(pw);
    if (n > (size_t)size)
        n = (size_t)size;
    memcpy(buf, pw, n);
    return (int)n;
}

static int tls_setup(gj_conn *c, const gj_endpoint *ep, const gj_target_settings *ts, gj_error *err)
{
    char why[256];
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx)
        return gj__error_set(err, GJ_ENOMEM, "bolt %s: cannot create a TLS context: %s", c->endpoint,
                             ssl_reason(why, sizeof why));
    c->ssl_ctx = ctx;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    bool verify = ts->ssl_verify && !scheme_ssc(ts);
    if (verify) {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
        int ok = ts->ssl_cafile ? SSL_CTX_load_verify_locations(ctx, ts->ssl_cafile, NULL)
                                : SSL_CTX_set_default_verify_paths(ctx);
        if (ok != 1)
            return gj__error_set(err, GJ_ETLS, "bolt %s: cannot load CA certificates%s%s: %s",
                                 c->endpoint, ts->ssl_cafile ? " from " : "",
                                 ts->ssl_cafile ? ts->ssl_cafile : "", ssl_reason(why, sizeof why));
    } else {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    }
    if (ts->ssl_certfile) {
        if (ts->ssl_password) {
            SSL_CTX_set_default_passwd_cb(ctx, key_password_cb);
            SSL_CTX_set_default_passwd_cb_userdata(ctx, ts->ssl_password);
        }
        if (SSL_CTX_use_certificate_chain_file(ctx, ts->ssl_certfile) != 1)
            return gj__error_set(err, GJ_ETLS, "bolt %s: cannot load client certificate %s: %s",
                                 c->endpoint, ts->ssl_certfile, ssl_reason(why, sizeof why));
        const char *key = ts->ssl_keyfile ? ts->ssl_keyfile : ts->ssl_certfile;
        if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
            SSL_CTX_check_private_key(ctx) != 1)
            return gj__error_set(err, GJ_ETLS, "bolt %s: cannot load client key %s: %s", c->endpoint,
                                 key, ssl_reason(why, sizeof why));
        /* The password is only needed while loading. */
        SSL_CTX_set_default_passwd_cb_userdata(ctx, NULL);
    }
    c->ssl = SSL_new(ctx);
    if (!c->ssl || SSL_set_fd(c->ssl, c->fd) != 1)
        return gj__error_set(err, GJ_ENOMEM, "bolt %s: cannot create a TLS session: %s", c->endpoint,
                             ssl_reason(why, sizeof why));
    bool ip = is_ip_literal(ep->host);
    if (!ip)
        SSL_set_tlsext_host_name(c->ssl, ep->host);
    if (verify) {
        X509_VERIFY_PARAM *param = SSL_get0_param(c->ssl);
        int ok = ip ? X509_VERIFY_PARAM_set1_ip_asc(param, ep->host)
                    : X509_VERIFY_PARAM_set1_host(param, ep->host, 0);
        if (ok != 1)
            return gj__error_set(err, GJ_ETLS, "bolt %s: cannot set the name to verify", c->endpoint);
    }
    return 0;
}

static int tls_handshake(gj_conn *c, int64_t deadline_ms, gj_error *err)
{
    char why[256];
    for (;;) {
        ERR_clear_error();
        int r = SSL_connect(c->ssl);
        if (r == 1)
            return 0;
        int e = SSL_get_error(c->ssl, r);
        short ev;
        if (e == SSL_ERROR_WANT_READ)
            ev = POLLIN;
        else if (e == SSL_ERROR_WANT_WRITE)
            ev = POLLOUT;
        else {
            long vr = SSL_get_verify_result(c->ssl);
            if (vr != X509_V_OK)
                return gj__error_set(err, GJ_ETLS, "bolt %s: TLS certificate verification failed: %s",
                                     c->endpoint, X509_verify_cert_error_string(vr));
            if (ERR_peek_error() == 0)
                return gj__error_set(err, GJ_ETLS,
                                     "bolt %s: TLS handshake failed: the server closed the connection "
                                     "(is TLS enabled on that port?)", c->endpoint);
            return gj__error_set(err, GJ_ETLS, "bolt %s: TLS handshake failed: %s", c->endpoint,
                                 ssl_reason(why, sizeof why));
        }
        int w = wait_fd(c, ev, deadline_ms, false);
        if (w == GJ_ETIMEDOUT)
            return gj__error_set(err, GJ_ETIMEDOUT, "bolt %s: TLS handshake timed out", c->endpoint);
        if (w < 0)
            return gj__error_set(err, GJ_ETLS, "bolt %s: TLS handshake failed: poll: %s", c->endpoint,
                                 strerror(errno));
    }
}

int gj__bolt_sock_open(gj_conn *c, const gj_endpoint *ep, const gj_target_settings *ts,
                       int64_t deadline_ms, gj_error *err)
{
    if (c->wake_fd < 0)   /* kept across a reopen: interrupt() may use it meanwhile */
        c->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (c->wake_fd < 0)
        return gj__error_set(err, GJ_ENOMEM, "bolt %s: eventfd: %s", c->endpoint, strerror(errno));
    int rc = tcp_connect(c, ep, deadline_ms, err);
    if (rc)
        return rc;
    if (!ts->tls)
        return 0;
    rc = tls_setup(c, ep, ts, err);
    if (rc)
        return rc;
    return tls_handshake(c, deadline_ms, err);
}

void gj__bolt_sock_close(gj_conn *c)
{
    gj__bolt_sock_close_stream(c);
    if (c->wake_fd >= 0) {
        close(c->wake_fd);
        c->wake_fd = -1;
    }
}

void gj__bolt_sock_close_stream(gj_conn *c)
{
    if (c->ssl) {
        SSL_free(c->ssl);   /* no close_notify: the socket may be broken */
        c->ssl = NULL;
    }
    if (c->ssl_ctx) {
        SSL_CTX_free(c->ssl_ctx);
        c->ssl_ctx = NULL;
    }
    if (c->fd >= 0) {
        close(c->fd);
        c->fd = -1;
    }
}

static int io_error(gj_conn *c, int rc, const char *what, gj_error *err)
{
    c->broken = true;
    if (rc == GJ_ETIMEDOUT)
        return gj__error_set(err, GJ_ETIMEDOUT, "bolt %s: timed out %s", c->endpoint, what);
    return gj__error_set(err, GJ_EIO, "bolt %s: %s failed: %s", c->endpoint, what,
                         errno ? strerror(errno) : "connection error");
}

int gj__bolt_sock_write(gj_conn *c, const uint8_t *data, size_t len, int64_t deadline_ms,
                        bool interruptible, gj_error *err)
{
    size_t off = 0;
    while (off < len) {
        size_t chunk = len - off > INT_MAX ? INT_MAX : len - off;
        short want = POLLOUT;
        errno = 0;
        if (c->ssl) {
            ERR_clear_error();
            int r = SSL_write(c->ssl, data + off, (int)chunk);
            if (r > 0) {
                off += (size_t)r;
                continue;
            }
            int e = SSL_get_error(c->ssl, r);
            if (e == SSL_ERROR_WANT_READ)
                want = POLLIN;
            else if (e != SSL_ERROR_WANT_WRITE) {
                c->broken = true;
                char why[256];
                return gj__error_set(err, GJ_EIO, "bolt %s: TLS write failed: %s", c->endpoint,
                                     ssl_reason(why, sizeof why));
            }
        } else {
            ssize_t r = send(c->fd, data + off, chunk, MSG_NOSIGNAL);
            if (r > 0) {
                off += (size_t)r;
                continue;
            }
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
                return io_error(c, GJ_EIO, "sending", err);
        }
        int w = wait_fd(c, want, deadline_ms, interruptible && off == 0);
        if (w == GJ_ECANCELLED)
            return GJ_ECANCELLED;
        if (w < 0)
            return io_error(c, w, "sending", err);
    }
    return 0;
}

int gj__bolt_sock_read(gj_conn *c, uint8_t *buf, size_t cap, size_t *got, int64_t deadline_ms,
                       bool interruptible, gj_error *err)
{
    size_t chunk = cap > INT_MAX ? INT_MAX : cap;
    for (;;) {
        short want = POLLIN;
        errno = 0;
        if (c->ssl) {
            ERR_clear_error();
            int r = SSL_read(c->ssl, buf, (int)chunk);
            if (r > 0) {
                *got = (size_t)r;
                return 0;
            }
            int e = SSL_get_error(c->ssl, r);
            if (e == SSL_ERROR_WANT_WRITE)
                want = POLLOUT;
            else if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)) {
                c->broken = true;
                ERR_clear_error();
                return gj__error_set(err, GJ_EIO, "bolt %s: connection closed by the server", c->endpoint);
            } else if (e != SSL_ERROR_WANT_READ) {
                c->broken = true;
                char why[256];
                return gj__error_set(err, GJ_EIO, "bolt %s: TLS read failed: %s", c->endpoint,
                                     ssl_reason(why, sizeof why));
            }
        } else {
            ssize_t r = recv(c->fd, buf, chunk, 0);
            if (r > 0) {
                *got = (size_t)r;
                return 0;
            }
            if (r == 0) {
                c->broken = true;
                return gj__error_set(err, GJ_EIO, "bolt %s: connection closed by the server", c->endpoint);
            }
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                return io_error(c, GJ_EIO, "receiving", err);
        }
        int w = wait_fd(c, want, deadline_ms, interruptible);
        if (w == GJ_ECANCELLED)
            return GJ_ECANCELLED;
        if (w == GJ_ETIMEDOUT)
            return io_error(c, w, "waiting for the server's response", err);
        if (w < 0)
            return io_error(c, w, "receiving", err);
    }
}
