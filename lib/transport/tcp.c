/*
 * TCP + TLS transport (tcp.h): name resolution on a thread of its own,
 * non-blocking connect, OpenSSL, and reads and writes that wait in poll() on
 * the socket, the wake eventfd and the abort's fds, looking at the interrupt
 * record, the abort and the deadline on every pass.
 */
#include "transport/tcp.h"
#include "transport/resolve.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>


static int poll_timeout(int64_t deadline_ms, int64_t now)
{
    if (deadline_ms == INT64_MAX)
        return -1;
    int64_t left = deadline_ms - now;
    if (left <= 0)
        return 0;
    return left > INT_MAX ? INT_MAX : (int)left;
}

int gj__tcp_init(gj_tcp *t, const char *name, gj_error *err)
{
    memset(t, 0, sizeof *t);
    t->fd = -1;
    atomic_init(&t->interrupted, 0);
    snprintf(t->name, sizeof t->name, "%s", name);
    t->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (t->wake_fd < 0)
        return gj__error_set(err, GJ_ENOMEM, "%s: eventfd: %s", t->name, strerror(errno));
    return 0;
}

void gj__tcp_close_stream(gj_tcp *t)
{
    if (t->ssl) {
        SSL_free(t->ssl);   /* no close_notify: the socket may be broken */
        t->ssl = NULL;
    }
    if (t->ssl_ctx) {
        SSL_CTX_free(t->ssl_ctx);
        t->ssl_ctx = NULL;
    }
    if (t->fd >= 0) {
        close(t->fd);
        t->fd = -1;
    }
}

void gj__tcp_destroy(gj_tcp *t)
{
    gj__tcp_close_stream(t);
    if (t->wake_fd >= 0) {
        close(t->wake_fd);
        t->wake_fd = -1;
    }
}

void gj__tcp_interrupt(gj_tcp *t)
{
    atomic_store(&t->interrupted, 1);
    uint64_t one = 1;
    if (t->wake_fd >= 0 && write(t->wake_fd, &one, sizeof one) < 0) {
        /* the counter is already non-zero: the wait wakes anyway */
    }
}

void gj__tcp_wake_drain(gj_tcp *t)
{
    uint64_t v;
    if (t->wake_fd >= 0 && read(t->wake_fd, &v, sizeof v) < 0) {
        /* EAGAIN: nothing to drain */
    }
}

bool gj__tcp_take_interrupt(gj_tcp *t)
{
    if (atomic_exchange(&t->interrupted, 0) == 0)
        return false;
    gj__tcp_wake_drain(t);
    return true;
}

bool gj__tcp_peer_closed(gj_tcp *t)
{
    if (t->fd < 0)
        return true;
    struct pollfd p = { t->fd, POLLIN | POLLRDHUP, 0 };
    if (poll(&p, 1, 0) <= 0)
        return false;
    return (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

/* Why a wait must end now, before looking at the socket: the interrupt
 * record (interruptible waits), the abort, the deadline.  0 = go on. */
static int stop_reason(gj_tcp *t, unsigned flags, int64_t deadline_ms, int64_t *now)
{
    if ((flags & GJ_TCP_INTERRUPTIBLE) && atomic_load(&t->interrupted))
        return GJ_ECANCELLED;
    int a = gj__abort_check(t->abort);
    if (a)
        return a;
    if (deadline_ms != INT64_MAX) {
        *now = gj__now_ms();
        if (*now >= deadline_ms)
            return GJ_ETIMEDOUT;
    }
    return 0;
}

/* Wait for `events` on fd (and the wake fd when interruptible, and the
 * abort's fds).  1 = ready, or GJ_ECANCELLED, the abort's code,
 * GJ_ETIMEDOUT, GJ_EIO (errno set). */
static int wait_fd(gj_tcp *t, int fd, short events, int64_t deadline_ms, unsigned flags)
{
    for (;;) {
        int64_t now = 0;
        int stop = stop_reason(t, flags, deadline_ms, &now);
        if (stop)
            return stop;
        struct pollfd p[4];
        nfds_t n = 0;
        p[n++] = (struct pollfd){ fd, events, 0 };
        bool wake = (flags & GJ_TCP_INTERRUPTIBLE) && t->wake_fd >= 0;
        if (wake)
            p[n++] = (struct pollfd){ t->wake_fd, POLLIN, 0 };
        n += (nfds_t)gj__abort_pollfds(t->abort, p + n);
        int r = poll(p, n, poll_timeout(deadline_ms, now));
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return GJ_EIO;
        }
        if (p[0].revents)
            return 1;
        /* Only a wake-up: the next pass looks at the flags; one without a
         * flag set (an interrupt consumed meanwhile, a cancel of an earlier
         * job) is drained and ignored. */
        if (wake && (p[1].revents & POLLIN) && !atomic_load(&t->interrupted))
            gj__tcp_wake_drain(t);
        if (r > 0 && !gj__abort_check(t->abort))
            gj__abort_drain(t->abort);
    }
}

static const char *ssl_reason(char *buf, size_t len)
{
    unsigned long e = ERR_get_error();
    if (!e)
        snprintf(buf, len, "no detail");
    else
        ERR_error_string_n(e, buf, len);
    ERR_clear_error();
    return buf;
}

static int stop_error(gj_tcp *t, int code, const char *what, gj_error *err)
{
    if (code == GJ_ETIMEDOUT)
        return gj__error_set(err, GJ_ETIMEDOUT, "%s: %s timed out", t->name, what);
    return gj__error_set(err, code, "%s: %s: %s", t->name, what, gj__abort_reason(code));
}

/* ---- name resolution ---------------------------------------------------------- */

/* resolve.h's lookup, waited for with this connection's deadline, abort
 * and interrupt. */
static int resolve(gj_tcp *t, const char *host, int port, int64_t deadline_ms,
                   struct addrinfo **out, gj_error *err)
{
    gj_resolve *j = NULL;
    int rc = gj__resolve_start(t->name, host, port, &j, out, err);
    if (rc || !j)
        return rc;
    while (!gj__resolve_done(j)) {
        int w = wait_fd(t, gj__resolve_fd(j), POLLIN, deadline_ms, 0);
        if (w < 0 && w != GJ_EIO) {
            rc = stop_error(t, w, "resolving the host name", err);
            break;
        }
        if (w == GJ_EIO) {
            rc = gj__error_set(err, GJ_ECONNECT, "%s: cannot resolve host: poll: %s", t->name,
                               strerror(errno));
            break;
        }
    }
    if (rc == 0)
        rc = gj__resolve_take(j, t->name, out, err);
    gj__resolve_release(j);
    return rc;
}

/* ---- connect ---------------------------------------------------------------- */

static int tcp_connect(gj_tcp *t, const char *host, int port, int64_t deadline_ms, gj_error *err)
{
    struct addrinfo *res = NULL;
    int rc = resolve(t, host, port, deadline_ms, &res, err);
    if (rc)
        return rc;
    int last_errno = 0;
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
            int w = wait_fd(t, fd, POLLOUT, deadline_ms, 0);
            if (w != 1 && w != GJ_EIO) {
                close(fd);
                freeaddrinfo(res);
                return stop_error(t, w, "connecting", err);
            }
            int soerr = 0;
            socklen_t sl = sizeof soerr;
            if (w < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 || soerr != 0) {
                last_errno = soerr ? soerr : errno;
                close(fd);
                continue;
            }
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
        t->fd = fd;
        freeaddrinfo(res);
        return 0;
    }
    freeaddrinfo(res);
    return gj__error_set(err, GJ_ECONNECT, "%s: cannot connect: %s", t->name,
                         strerror(last_errno ? last_errno : ECONNREFUSED));
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

int gj__tcp_tls_ctx_load(gj_tcp_ssl_ctx *ctx, const gj_tcp_tls *tls, char *why, size_t n)
{
    char reason[256];
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    if (tls->verify) {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
        int ok;
        struct stat st;
        if (!tls->ca)
            ok = SSL_CTX_set_default_verify_paths(ctx);
        else if (stat(tls->ca, &st) == 0 && S_ISDIR(st.st_mode))
            ok = SSL_CTX_load_verify_locations(ctx, NULL, tls->ca);
        else
            ok = SSL_CTX_load_verify_locations(ctx, tls->ca, NULL);
        if (ok != 1) {
            snprintf(why, n, "cannot load CA certificates%s%s: %s", tls->ca ? " from " : "",
                     tls->ca ? tls->ca : "", ssl_reason(reason, sizeof reason));
            return GJ_ETLS;
        }
    } else {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    }
    if (tls->certfile) {
        if (tls->key_password) {
            SSL_CTX_set_default_passwd_cb(ctx, key_password_cb);
            SSL_CTX_set_default_passwd_cb_userdata(ctx, (void *)tls->key_password);
        }
        const char *key = tls->keyfile ? tls->keyfile : tls->certfile;
        int rc = 0;
        if (SSL_CTX_use_certificate_chain_file(ctx, tls->certfile) != 1) {
            snprintf(why, n, "cannot load client certificate %s: %s", tls->certfile,
                     ssl_reason(reason, sizeof reason));
            rc = GJ_ETLS;
        } else if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
                   SSL_CTX_check_private_key(ctx) != 1) {
            snprintf(why, n, "cannot load client key %s: %s", key, ssl_reason(reason, sizeof reason));
            rc = GJ_ETLS;
        }
        /* The password is only needed while loading. */
        SSL_CTX_set_default_passwd_cb_userdata(ctx, NULL);
        if (rc)
            return rc;
    }
    return 0;
}

static int tls_setup(gj_tcp *t, const char *host, const gj_tcp_tls *tls, gj_error *err)
{
    char why[600];
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx)
        return gj__error_set(err, GJ_ENOMEM, "%s: cannot create a TLS context: %s", t->name,
                             ssl_reason(why, sizeof why));
    t->ssl_ctx = ctx;
    int rc = gj__tcp_tls_ctx_load(ctx, tls, why, sizeof why);
    if (rc)
        return gj__error_set(err, rc, "%s: %s", t->name, why);
    t->ssl = SSL_new(ctx);
    if (!t->ssl || SSL_set_fd(t->ssl, t->fd) != 1)
        return gj__error_set(err, GJ_ENOMEM, "%s: cannot create a TLS session: %s", t->name,
                             ssl_reason(why, sizeof why));
    bool ip = gj__resolve_is_ip(host, NULL);
    if (!ip)
        SSL_set_tlsext_host_name(t->ssl, host);
    if (tls->verify) {
        X509_VERIFY_PARAM *param = SSL_get0_param(t->ssl);
        int ok = ip ? X509_VERIFY_PARAM_set1_ip_asc(param, host)
                    : X509_VERIFY_PARAM_set1_host(param, host, 0);
        if (ok != 1)
            return gj__error_set(err, GJ_ETLS, "%s: cannot set the name to verify", t->name);
    }
    return 0;
}

static int tls_handshake(gj_tcp *t, const char *host, int64_t deadline_ms, gj_error *err)
{
    char why[256];
    for (;;) {
        ERR_clear_error();
        int r = SSL_connect(t->ssl);
        if (r == 1)
            return 0;
        int e = SSL_get_error(t->ssl, r);
        short ev;
        if (e == SSL_ERROR_WANT_READ)
            ev = POLLIN;
        else if (e == SSL_ERROR_WANT_WRITE)
            ev = POLLOUT;
        else {
            long vr = SSL_get_verify_result(t->ssl);
            if (vr == X509_V_ERR_HOSTNAME_MISMATCH || vr == X509_V_ERR_IP_ADDRESS_MISMATCH)
                return gj__error_set(err, GJ_ETLS, "%s: TLS certificate verification failed: the "
                                     "certificate's name does not match '%s'", t->name, host);
            if (vr != X509_V_OK)
                return gj__error_set(err, GJ_ETLS, "%s: TLS certificate verification failed: %s",
                                     t->name, X509_verify_cert_error_string(vr));
            if (ERR_peek_error() == 0)
                return gj__error_set(err, GJ_ETLS,
                                     "%s: TLS handshake failed: the server closed the connection "
                                     "(is TLS enabled on that port?)", t->name);
            ssl_reason(why, sizeof why);
            if (strstr(why, "wrong version number") || strstr(why, "packet length too long"))
                return gj__error_set(err, GJ_ETLS, "%s: TLS handshake failed: the server does not "
                                     "speak TLS on that port (%s)", t->name, why);
            return gj__error_set(err, GJ_ETLS, "%s: TLS handshake failed: %s", t->name, why);
        }
        int w = wait_fd(t, t->fd, ev, deadline_ms, 0);
        if (w == GJ_EIO)
            return gj__error_set(err, GJ_ETLS, "%s: TLS handshake failed: poll: %s", t->name,
                                 strerror(errno));
        if (w < 0)
            return stop_error(t, w, "the TLS handshake", err);
    }
}

int gj__tcp_connect(gj_tcp *t, const char *host, int port, const gj_tcp_tls *tls,
                    const gj_abort *abort, int64_t deadline_ms, gj_error *err)
{
    gj__tcp_close_stream(t);
    t->broken = false;
    t->abort = abort;
    int rc = tcp_connect(t, host, port, deadline_ms, err);
    if (!rc && tls)
        rc = tls_setup(t, host, tls, err);
    if (!rc && tls)
        rc = tls_handshake(t, host, deadline_ms, err);
    if (rc) {
        gj__tcp_close_stream(t);
        t->broken = true;
    }
    return rc;
}

/* ---- reads and writes --------------------------------------------------------- */

static int io_error(gj_tcp *t, const char *what, gj_error *err)
{
    t->broken = true;
    return gj__error_set(err, GJ_EIO, "%s: %s failed: %s", t->name, what,
                         errno ? strerror(errno) : "connection error");
}

/* A wait that ended without the socket being ready. */
static int wait_error(gj_tcp *t, int w, const char *what, gj_error *err)
{
    if (w == GJ_ECANCELLED && !gj__abort_check(t->abort))
        return GJ_ECANCELLED;   /* the interrupt record: the caller's to report */
    t->broken = true;
    if (w == GJ_EIO)
        return io_error(t, what, err);
    if (w == GJ_ETIMEDOUT)
        return gj__error_set(err, GJ_ETIMEDOUT, "%s: timed out %s", t->name, what);
    return gj__error_set(err, w, "%s: %s: %s", t->name, what, gj__abort_reason(w));
}

int gj__tcp_write(gj_tcp *t, const void *data, size_t len, int64_t deadline_ms, unsigned flags,
                  gj_error *err)
{
    const uint8_t *p = data;
    size_t off = 0;
    if (t->fd < 0) {
        t->broken = true;
        return gj__error_set(err, GJ_EIO, "%s: not connected", t->name);
    }
    while (off < len) {
        /* Interruptible only before the first byte: a message is never
         * left half written by an interrupt. */
        unsigned f = off == 0 ? flags : 0;
        int64_t now = 0;
        int stop = stop_reason(t, f, deadline_ms, &now);
        if (stop)
            return wait_error(t, stop, "sending", err);
        size_t chunk = len - off > INT_MAX ? INT_MAX : len - off;
        short want = POLLOUT;
        errno = 0;
        if (t->ssl) {
            ERR_clear_error();
            int r = SSL_write(t->ssl, p + off, (int)chunk);
            if (r > 0) {
                off += (size_t)r;
                continue;
            }
            int e = SSL_get_error(t->ssl, r);
            if (e == SSL_ERROR_WANT_READ)
                want = POLLIN;
            else if (e != SSL_ERROR_WANT_WRITE) {
                t->broken = true;
                char why[256];
                return gj__error_set(err, GJ_EIO, "%s: TLS write failed: %s", t->name,
                                     ssl_reason(why, sizeof why));
            }
        } else {
            ssize_t r = send(t->fd, p + off, chunk, MSG_NOSIGNAL);
            if (r > 0) {
                off += (size_t)r;
                continue;
            }
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
                return io_error(t, "sending", err);
        }
        int w = wait_fd(t, t->fd, want, deadline_ms, f);
        if (w != 1)
            return wait_error(t, w, "sending", err);
    }
    return 0;
}

int gj__tcp_read(gj_tcp *t, void *buf, size_t cap, size_t *got, int64_t deadline_ms,
                 unsigned flags, const char *what, gj_error *err)
{
    size_t chunk = cap > INT_MAX ? INT_MAX : cap;
    if (!what)
        what = "waiting for the server";
    if (t->fd < 0) {
        t->broken = true;
        return gj__error_set(err, GJ_EIO, "%s: not connected", t->name);
    }
    for (;;) {
        /* Every pass, data waiting or not. */
        int64_t now = 0;
        int stop = stop_reason(t, flags, deadline_ms, &now);
        if (stop)
            return wait_error(t, stop, what, err);
        short want = POLLIN;
        errno = 0;
        if (t->ssl) {
            ERR_clear_error();
            int r = SSL_read(t->ssl, buf, (int)chunk);
            if (r > 0) {
                *got = (size_t)r;
                return 0;
            }
            int e = SSL_get_error(t->ssl, r);
            if (e == SSL_ERROR_WANT_WRITE)
                want = POLLOUT;
            else if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)) {
                t->broken = true;
                ERR_clear_error();
                return gj__error_set(err, GJ_EIO, "%s: connection closed by the server", t->name);
            } else if (e != SSL_ERROR_WANT_READ) {
                t->broken = true;
                char why[256];
                return gj__error_set(err, GJ_EIO, "%s: TLS read failed: %s", t->name,
                                     ssl_reason(why, sizeof why));
            }
        } else {
            ssize_t r = recv(t->fd, buf, chunk, 0);
            if (r > 0) {
                *got = (size_t)r;
                return 0;
            }
            if (r == 0) {
                t->broken = true;
                return gj__error_set(err, GJ_EIO, "%s: connection closed by the server", t->name);
            }
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                return io_error(t, "receiving", err);
        }
        int w = wait_fd(t, t->fd, want, deadline_ms, flags);
        if (w != 1)
            return wait_error(t, w, what, err);
    }
}
