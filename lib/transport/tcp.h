/*
 * TCP with optional TLS (OpenSSL), for backends that speak a protocol of
 * their own over a socket (Bolt; the WebSocket transport builds on the same
 * waits).  lib/transport/tcp.c.  Never installed.
 *
 * Everything that waits has a deadline (gj__now_ms clock; INT64_MAX = none)
 * and can be woken from another thread:
 *   - gj__tcp_interrupt() (any thread) records an interrupt and writes the
 *     connection's wake eventfd; reads and writes made with
 *     GJ_TCP_INTERRUPTIBLE then return GJ_ECANCELLED.  The record stays until
 *     gj__tcp_take_interrupt() consumes it.
 *   - while t->abort is set (gj__tcp_connect sets it for the connect and
 *     leaves it for the caller's own handshake, gj__tcp_set_abort changes
 *     it), every wait also gives up when the abort fires (a cancelled job, a
 *     pool shutting down), returning its code.
 * The interrupt record, the abort and the deadline are looked at on EVERY
 * pass of a read or write, whether data is waiting or not: a peer that never
 * stops sending cannot keep a call past its deadline or its cancel.
 *
 * Name resolution runs on a short-lived thread of its own, so that it too
 * ends at the deadline or the abort (getaddrinfo itself cannot be bounded);
 * an IP literal is resolved without one.
 *
 * Threading: a gj_tcp is used by one thread at a time, except
 * gj__tcp_interrupt and gj__tcp_interrupt_pending (any thread).
 */
#ifndef GJ_TRANSPORT_TCP_H
#define GJ_TRANSPORT_TCP_H

#include "core/abort.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ssl_st gj_tcp_ssl;
typedef struct ssl_ctx_st gj_tcp_ssl_ctx;

/* TLS settings of a connection (strings borrowed for the call). */
typedef struct gj_tcp_tls {
    bool verify;               /* check the certificate chain and the host name */
    const char *ca;            /* CA file or directory (PEM); NULL = the system's */
    const char *certfile;      /* client certificate chain (PEM), or NULL */
    const char *keyfile;       /* its key (PEM); NULL = in certfile */
    const char *key_password;  /* the key's password, or NULL */
} gj_tcp_tls;

/* Set up a client SSL_CTX from tls: TLS >= 1.2; with verify, peer
 * verification and the trust anchors (tls->ca a file or a directory, else
 * the system's); the client certificate and key (with its password, used
 * only while loading).  GJ_ETLS with what failed in why (no prefix).  Used
 * by this transport and by ws (lib/transport/ws_service.c). */
int gj__tcp_tls_ctx_load(gj_tcp_ssl_ctx *ctx, const gj_tcp_tls *tls, char *why, size_t n);

typedef struct gj_tcp {
    int fd;                    /* -1 when not connected */
    int wake_fd;               /* eventfd written by gj__tcp_interrupt */
    _Atomic uint64_t interrupted; /* 0 or 1: a whole aligned word */
    gj_tcp_ssl_ctx *ssl_ctx;
    gj_tcp_ssl *ssl;
    const gj_abort *abort;     /* also given up on while set (borrowed) */
    bool broken;               /* an I/O error happened: do not reuse */
    char name[320];            /* "bolt 127.0.0.1:7687": the prefix of every message */
} gj_tcp;

/* Flags of read and write. */
#define GJ_TCP_INTERRUPTIBLE 0x1u

/* Prepare t (no socket yet): the wake eventfd.  name prefixes messages. */
int gj__tcp_init(gj_tcp *t, const char *name, gj_error *err);
/* Close the socket and TLS and the wake fd. */
void gj__tcp_destroy(gj_tcp *t);
/* Close the socket and TLS only (a reconnect keeps the wake fd and any
 * interrupt record). */
void gj__tcp_close_stream(gj_tcp *t);

/* Resolve host, connect (each address in turn), and do the TLS handshake
 * when tls is not NULL (SNI and host name check for names, IP check for
 * literals), all before deadline_ms and until abort fires.  t->abort is
 * left set to abort.  Errors: GJ_ECONNECT ("cannot resolve host: ...",
 * "cannot connect: Connection refused"), GJ_ETIMEDOUT, GJ_ETLS (with
 * OpenSSL's reason or the verification error), GJ_ECANCELLED /
 * GJ_ESHUTDOWN (abort), GJ_ENOMEM; the message starts with t->name. */
int gj__tcp_connect(gj_tcp *t, const char *host, int port, const gj_tcp_tls *tls,
                    const gj_abort *abort, int64_t deadline_ms, gj_error *err);

/* Watch abort (or nothing: NULL) in the waits from now on. */
static inline void gj__tcp_set_abort(gj_tcp *t, const gj_abort *abort)
{
    t->abort = abort;
}

/* Write all of data before deadline_ms.  With GJ_TCP_INTERRUPTIBLE, an
 * interrupt record ends it with GJ_ECANCELLED (the record is kept; part of
 * the data may have been written: the caller must then treat the stream as
 * broken unless it writes the rest).  Errors mark t broken. */
int gj__tcp_write(gj_tcp *t, const void *data, size_t len, int64_t deadline_ms, unsigned flags,
                  gj_error *err);

/* Read at least one byte (up to cap) before deadline_ms; *got the count.
 * GJ_ECANCELLED with GJ_TCP_INTERRUPTIBLE and an interrupt record (nothing
 * consumed), GJ_ETIMEDOUT ("timed out <what>"), GJ_EIO ("connection closed
 * by the server", ...), an abort's code.  Errors other than GJ_ECANCELLED
 * mark t broken.  `what` names the wait in a timeout message ("waiting for
 * the server's response"). */
int gj__tcp_read(gj_tcp *t, void *buf, size_t cap, size_t *got, int64_t deadline_ms,
                 unsigned flags, const char *what, gj_error *err);

/* From any thread: record an interrupt and wake the waits. */
void gj__tcp_interrupt(gj_tcp *t);
/* Consume the interrupt record (and empty the wake fd); true if there was one. */
bool gj__tcp_take_interrupt(gj_tcp *t);
/* Is an interrupt recorded and not consumed? */
static inline bool gj__tcp_interrupt_pending(gj_tcp *t)
{
    return atomic_load(&t->interrupted) != 0;
}
/* Empty the wake fd only (a wake-up already dealt with). */
void gj__tcp_wake_drain(gj_tcp *t);

/* Has the peer closed its side (FIN or an error seen, without blocking)? */
bool gj__tcp_peer_closed(gj_tcp *t);

#endif
