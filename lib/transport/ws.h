/*
 * WebSocket client transport on libwebsockets (lib/transport/ws.c: the
 * calls; ws_service.c: the service thread; ws_conn.c: a connection's
 * events), for the backends that speak WebSocket (Gremlin; GraphQL
 * subscriptions).  Never installed.
 *
 * A gj_ws_service is one libwebsockets context (client only) and the one
 * service thread that owns it and every connection made with it: lws is not
 * thread-safe, so other threads never touch an lws object.  They hand work to
 * the service thread instead: a connect, a message to send, a close, a pause
 * is recorded on the connection under the service's mutex, the connection is
 * put on the service's work list, and lws_cancel_service (the one lws call
 * that is thread-safe) wakes the thread, which does the lws part.
 *
 * Handlers run on the service thread and must not block: they may queue
 * messages (gj__ws_send never waits there) and look at values, nothing more.
 * Each connection that connected gets exactly one on_close, after which no
 * handler runs for it.
 *
 * Deadlines are on the gj__now_ms clock (INT64_MAX = none).
 *
 * Threading: every function may be called from any thread except where its
 * comment says otherwise.  gj__ws_connect, gj__ws_close, gj__ws_send (when
 * the queue is full) and gj__ws_service_free wait for the service thread:
 * never call them holding a lock that a handler takes (the handler would
 * wait for the lock, the caller for the handler).  gj__ws_pause and
 * gj__ws_is_open never wait.
 */
#ifndef GJ_TRANSPORT_WS_H
#define GJ_TRANSPORT_WS_H

#include "core/abort.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct gj_ws_service gj_ws_service;

/* One libwebsockets context (client only) and the one service thread that
 * owns it and every connection made with it.  Other threads hand work to it
 * (queues + lws_cancel_service).  name prefixes messages ("gremlin"); log
 * may be NULL (it is copied: the function and payload it names must outlive
 * the service).  Errors: GJ_ENOMEM (also when lws cannot create its context
 * or the thread cannot start, with the reason).  Process-wide effects (lws
 * 4.1 has no per-context choice): lws's own logging is switched off (the
 * library never prints); the SIGPIPE disposition lws changes is put back
 * (the service thread blocks all signals instead). */
int gj__ws_service_new(gj_ws_service **out, const char *name, const gj_logger *log, gj_error *err);

/* Close every connection still open (each gets its on_close once, code 1001,
 * reason "shutting down", and a close frame with that code is sent; the
 * peers' answers are awaited up to 250 ms), fail connects in progress with
 * GJ_ESHUTDOWN, stop and join the thread, free.
 * Handles of connections stay valid until gj__ws_close (gj__ws_send then
 * fails with GJ_EIO).  Not from a handler.  NULL is fine. */
void gj__ws_service_free(gj_ws_service *s);

typedef struct gj_ws_handlers {
    /* On the service thread, once per complete message (fragments
     * reassembled), in order.  data is valid for the call only.  Must not
     * block; may call gj__ws_send (it only queues). */
    void (*on_message)(void *arg, const uint8_t *data, size_t len, bool binary);
    /* On the service thread, exactly once per connection that connected,
     * when it closes for any reason (peer close frame: its code and reason,
     * 1005 "" when the frame had no code; a dropped TCP connection: 1006
     * "connection lost"; ping timeout: 1006 "no pong within N ms"; a message
     * over max_message: 1009 "message of at least N bytes exceeds
     * max_message_size (M bytes)"; gj__ws_close: the code given; service
     * freed: 1001 "shutting down").  No handler runs after it.  The one
     * exception: gj__ws_close gives up waiting for the service thread after
     * 100 ms (a handler of another connection that blocks), and on_close is
     * then not called for that connection. */
    void (*on_close)(void *arg, int code, const char *reason);
    void *arg;
} gj_ws_handlers;

typedef struct gj_ws_config {
    const char *name;            /* "gremlin 127.0.0.1:8182": prefix of messages */
    const char *host;            /* a name or an IP literal (no brackets) */
    int port;
    const char *path;            /* "/gremlin" (NULL = "/") */
    bool tls;                    /* wss */
    bool verify;                 /* check chain and host name (default on; false = explicit insecure) */
    const char *ca;              /* CA file (PEM) or NULL = system */
    const char *certfile, *keyfile, *key_password;   /* client certificate, or NULL */
    const char *subprotocols;    /* offered, comma-separated ("graphql-transport-ws"), or NULL */
    const char *const *headers;  /* extra upgrade request headers "Name: value" (Authorization), or NULL */
    size_t n_headers;
    size_t max_message;          /* largest incoming message (0 = 64 MiB) */
    int64_t ping_interval_ms;    /* send a ping when nothing arrived for this long (0 = never;
                                  * not while paused: nothing, pongs included, is read then) */
    int64_t pong_timeout_ms;     /* close (1006) when no pong within this (0 = 3 * interval) */
} gj_ws_config;

/* The default of max_message, and the bound of a connection's send queue
 * (a larger message is still accepted when the queue is empty). */
#define GJ__WS_DEFAULT_MAX_MESSAGE ((size_t)64 << 20)
#define GJ__WS_SEND_QUEUE_MAX ((size_t)64 << 20)

typedef struct gj_ws gj_ws;

/* Connect (name resolution, TCP, TLS, the HTTP upgrade) before deadline_ms,
 * giving up when abort fires (lib/core/abort.h; NULL = never).  The name is
 * resolved on the calling thread (on a helper thread of its own, so that it
 * too ends at the deadline or the abort); each address is tried in turn.
 * The strings of cfg and h are copied.  Handlers are in place before any
 * message can arrive (on_message may run before this returns).  Errors name
 * cfg->name: GJ_ECONNECT (refused, cannot resolve), GJ_ETIMEDOUT, GJ_ETLS
 * (with the verification detail), GJ_EPROTOCOL (the upgrade refused: "HTTP
 * 404 ..." with the status; no subprotocol accepted), GJ_ECANCELLED /
 * GJ_ESHUTDOWN (abort; GJ_ESHUTDOWN also when the service is being freed),
 * GJ_ENOMEM, GJ_EINVAL (a bad cfg), GJ_EDEADLK (called on the service
 * thread).  When it fails no handler is ever called.  Any thread except the
 * service thread. */
int gj__ws_connect(gj_ws **out, gj_ws_service *s, const gj_ws_config *cfg, const gj_ws_handlers *h,
                   const gj_abort *abort, int64_t deadline_ms, gj_error *err);

/* Queue one message (binary or text) for the service thread to write, from
 * any thread (also from a handler).  data is copied.  Messages go out whole
 * and in the order queued.  The queue holds at most GJ__WS_SEND_QUEUE_MAX
 * bytes (a larger message when it is empty): when full, wait until
 * deadline_ms for room, GJ_ETIMEDOUT then (on the service thread: at once).
 * GJ_EIO when the connection is closed or closing ("connection closed: 1006
 * connection lost"), GJ_ENOMEM. */
int gj__ws_send(gj_ws *ws, const void *data, size_t len, bool binary, int64_t deadline_ms,
                gj_error *err);

/* The subprotocol the server chose, or NULL.  Borrowed until gj__ws_close. */
const char *gj__ws_protocol(const gj_ws *ws);

/* False once closed (or closing). */
bool gj__ws_is_open(const gj_ws *ws);

/* Close with a close frame (code, reason: 1000 "" normally; reason cut to
 * 123 bytes) if still open, wait briefly (<= 100 ms) for the service thread
 * to deliver on_close(code, reason) and let go, and free the handle.  After
 * it returns no handler runs for ws.  Messages queued before it still go
 * out, then the close frame; the service thread finishes the closing
 * handshake on its own (at most 5 s).  Meant for other threads; on the
 * service thread (in a handler, also one of ws's own) it does not wait, and
 * the handler that calls it may still finish.  NULL is fine. */
void gj__ws_close(gj_ws *ws, int code, const char *reason);

/* Pause / resume reading from the peer (lws_rx_flow_control): a consumer
 * whose queue is full stops the socket instead of buffering without bound.
 * Takes effect on the service thread shortly after the call; a message
 * being delivered then still completes. */
void gj__ws_pause(gj_ws *ws, bool paused);

/* The connection's name (cfg->name).  Borrowed until gj__ws_close. */
const char *gj__ws_name(const gj_ws *ws);

#endif
