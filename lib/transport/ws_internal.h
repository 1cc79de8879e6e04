/*
 * The WebSocket transport's data (ws.h), shared by ws.c (the calls other
 * threads make) and ws_service.c (the service thread and its lws callback).
 * Never installed.
 *
 * Locking: one mutex per service (s->mu) guards the service's lists and
 * every field marked "under mu" of its connections; s->cv is broadcast when
 * a connection's on_close was delivered or a handler returned while someone
 * waits to close it, and when a send queue got room while a sender waits.
 * User code (handlers) and lws calls run without the mutex, except
 * lws_cancel_service, which is made under it so that it can never meet a
 * context being destroyed (the context goes only after `stopping` was set
 * under mu and the thread was joined).
 *
 * Lifetime: a gj_ws is reference counted (under mu): one reference for the
 * caller's handle (from gj__ws_connect until gj__ws_close or a failed
 * connect), one for the service thread while it may still touch it (from
 * the connect request until the connection is finished and its lws wsi is
 * gone: "let go"), and a short one for each pass of the work list.  Each
 * gj_ws holds a reference on its service, so the service's memory (mutex,
 * flags) outlives its thread while handles exist.
 */
#ifndef GJ_TRANSPORT_WS_INTERNAL_H
#define GJ_TRANSPORT_WS_INTERNAL_H

#include "transport/ws.h"

#include <libwebsockets.h>
#include <openssl/ssl.h>
#include <pthread.h>

/* lws's read buffer per connection (and, as lws sets it, the socket's send
 * buffer), and the context's socket read size. */
#define GJ__WS_RX_BUFFER ((size_t)128 << 10)
#define GJ__WS_SERV_BUF ((unsigned)64 << 10)
/* At most this much of the send queue is written per writeable callback,
 * so that one busy connection does not starve the others' reads. */
#define GJ__WS_WRITE_BUDGET ((size_t)1 << 20)
/* A large message is written in frames of this size (the first one carries
 * the opcode, the others are continuations). */
#define GJ__WS_FRAME_CHUNK ((size_t)256 << 10)
/* How long gj__ws_close waits for the service thread to let go. */
#define GJ__WS_CLOSE_WAIT_MS 100
/* How long the service thread gives the queue + close frame to go out after
 * gj__ws_close before it drops the connection. */
#define GJ__WS_CLOSE_LINGER_S 5
/* How long gj__ws_service_free waits for the peers to answer the close
 * frames it sent. */
#define GJ__WS_SHUTDOWN_LINGER_MS 250
/* The longest close reason a close frame can carry (125 - 2). */
#define GJ__WS_MAX_CLOSE_REASON 123

/* One queued outgoing message: LWS_PRE bytes of room for lws's frame
 * header, then the payload. */
typedef struct gj__ws_msg {
    struct gj__ws_msg *next;
    size_t len;
    bool binary;
    unsigned char buf[];
} gj__ws_msg;

/* Work the service thread is asked to do for a connection. */
enum {
    GJ__WS_DO_CONNECT = 1u << 0,   /* (next address) lws_client_connect_via_info */
    GJ__WS_DO_WRITE = 1u << 1,     /* messages were queued: ask for writeable */
    GJ__WS_DO_CLOSE = 1u << 2,     /* gj__ws_close: on_close, then the queue and a close frame */
    GJ__WS_DO_FLOW = 1u << 3,      /* gj__ws_pause changed `paused` */
    GJ__WS_DO_ABANDON = 1u << 4    /* the caller gave up connecting: drop it silently */
};

typedef enum gj__ws_state {
    GJ__WS_CONNECTING,
    GJ__WS_OPEN,
    GJ__WS_FAILED,                 /* the connect failed (fail_code, fail_msg) */
    GJ__WS_CLOSED                  /* it was open and is closed or closing */
} gj__ws_state;

/* A client vhost: one per distinct set of TLS files, with the client
 * SSL_CTX this library makes and frees for it (lws_create_vhost's own
 * client contexts are shared between lws contexts alike and one leaked per
 * extra client alive at once: libwebsockets 4.1.6). */
typedef struct gj__ws_vhost {
    struct gj__ws_vhost *next;
    struct lws_vhost *vh;
    SSL_CTX *ssl_ctx;              /* freed after the lws context */
    char *ca, *certfile, *keyfile, *key_password;
} gj__ws_vhost;

struct gj_ws_service {
    pthread_mutex_t mu;
    pthread_cond_t cv;             /* CLOCK_MONOTONIC */
    /* under mu */
    int refs;                      /* 1 until gj__ws_service_free + 1 per gj_ws */
    bool stopping;                 /* gj__ws_service_free began: no new work */
    bool kicked;                   /* lws_cancel_service made, the thread has not looked yet */
    gj_ws *work;                   /* connections with pending work (work_next) */
    gj_ws *conns;                  /* connections the service thread holds (prev/next) */
    /* fixed once the thread runs */
    struct lws_context *ctx;
    struct lws_vhost *plain;       /* the vhost of ws:// connections */
    pthread_t thread;
    gj_logger log;
    bool has_log;
    char name[64];
    /* service thread only */
    gj__ws_vhost *vhosts;
    const gj_ws *vhost_for;        /* the connection whose TLS vhost is being made */
};

struct gj_ws {
    gj_ws_service *s;
    /* fixed once the connect is requested */
    char *name;                    /* message prefix */
    char *host;                    /* as given: host name checked against the certificate */
    char *host_header;             /* "host:port" ("[v6]:port") */
    char *path;
    char *subprotocols;            /* or NULL */
    char **headers;                /* "Name: value" */
    size_t n_headers;
    bool tls, verify, host_is_ip;
    char *ca, *certfile, *keyfile, *key_password;
    size_t max_message;
    int64_t ping_interval_ms, pong_timeout_ms;
    gj_ws_handlers h;
    char **addrs;                  /* numeric addresses to try, in order */
    size_t n_addrs;
    int port;
    int done_fd;                   /* eventfd: written when the connect resolved */

    /* under mu */
    int refs;
    gj__ws_state state;
    int fail_code;
    char fail_msg[512];
    bool abandoned;                /* the caller gave up connecting */
    bool released;                 /* gj__ws_close was called */
    unsigned pending;              /* GJ__WS_DO_* */
    bool on_work;
    gj_ws *work_next;
    gj_ws *pass_next;              /* the service thread's own list of one pass
                                      (work_next may be rewritten meanwhile by a
                                      thread that pushes the connection again) */
    gj_ws *prev, *next;            /* in s->conns while the service holds it */
    bool in_conns;
    bool handlers_off;             /* no handler runs any more */
    bool in_handler;               /* a handler runs now */
    bool close_known;              /* close_code/close_reason are set */
    int close_code;
    char close_reason[160];
    int req_code;                  /* gj__ws_close's code and reason */
    char req_reason[GJ__WS_MAX_CLOSE_REASON + 1];
    bool paused;
    gj__ws_msg *q_head, *q_tail;   /* not yet taken by the service thread */
    size_t q_bytes;                /* queued + being written */
    int send_waiters;
    bool open;                     /* also read without mu (__atomic) */
    char protocol[128];            /* the chosen subprotocol, set before OPEN */
    bool has_protocol;

    /* service thread only */
    struct lws *wsi;
    size_t next_addr;
    bool retry;                    /* a failed attempt asked for the next address */
    bool finished;                 /* no wsi will be made any more */
    bool let_go;                   /* the service's reference was dropped */
    bool upgrade_started;          /* the upgrade request was being written */
    char tls_detail[256];          /* why the certificate was refused */
    char proto_detail[256];        /* why the upgrade answer was refused */
    gj__ws_msg *cur;               /* being written */
    size_t cur_off;
    unsigned char *rx;             /* a message being reassembled */
    size_t rx_len, rx_cap;
    bool rx_in_msg, rx_binary, rx_discard;
    int64_t last_rx_ms, ping_sent_ms;
    bool ping_due;
    bool close_due;                /* write a close frame once the queue is empty */
    bool close_urgent;             /* ... or at once, the queue dropped */
    bool close_sent;               /* lws_close_reason + -1 done: awaiting the peer's close */
    int frame_code;
    char frame_reason[GJ__WS_MAX_CLOSE_REASON + 1];
    bool flow_paused;              /* what lws was last told */
    unsigned char ping_buf[LWS_PRE + 8];
};

/* ---- shared by ws.c and ws_service.c ----------------------------------------- */

/* Keep the TLS alerts the server sends on ctx's connections, so that a
 * refused handshake is reported with the alert (ws_conn.c). */
struct ssl_ctx_st;
void gj__ws_tls_watch_alerts(struct ssl_ctx_st *ctx);

/* Is the calling thread s's service thread? */
bool gj__ws_on_service_thread(const gj_ws_service *s);

/* Ask the service thread to do `what` for c (with s->mu held): the bits are
 * added, c goes on the work list, and the thread is woken (unless this is
 * the thread itself, which looks at the list after every pass). */
void gj__ws_push_locked(gj_ws *c, unsigned what);

/* Drop a reference (without mu); the last one frees c. */
void gj__ws_unref(gj_ws *c);

/* The whole of c's memory (called by the last unref). */
void gj__ws_free_conn(gj_ws *c);

/* Drop a reference on the service (without mu); the last one frees it. */
void gj__ws_service_unref(gj_ws_service *s);

/* Free a chain of messages. */
void gj__ws_free_msgs(gj__ws_msg *m);

/* Copy a close reason for a frame: at most 123 bytes, not cutting a UTF-8
 * sequence. */
void gj__ws_copy_reason(char *dst, const char *src);

/* ---- service thread only (ws_conn.c, ws_service.c) ------------------------------ */

/* The name of the one lws protocol (what a connection binds to locally;
 * never offered to the server). */
#define GJ__WS_PROTOCOL_NAME "gj-ws"

/* The lws callback of every connection (ws_conn.c). */
int gj__ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len);

/* Start the next connection attempt (the next address), or fail. */
void gj__ws_start_connect(gj_ws_service *s, gj_ws *c);

/* The connect failed for good: record why and wake the waiting caller. */
void gj__ws_fail_connect(gj_ws *c, int code, const char *fmt, ...) GJ__PRINTF(3, 4);

/* The connection closed or began to: record why once, and call on_close
 * unless the handlers are off.  Later calls do nothing. */
void gj__ws_deliver_close(gj_ws *c, int code, const char *reason);

/* Drop what is still queued and wake the senders waiting for room. */
void gj__ws_drop_queue(gj_ws *c);

/* Close from our side with a close frame at the next writeable callback:
 * urgent = before the queue (dropped), else after it. */
void gj__ws_close_with_frame(gj_ws *c, struct lws *wsi, int code, const char *reason,
                             bool urgent);

/* Drop the service's reference once c is finished and its wsi gone. */
void gj__ws_maybe_let_go(gj_ws *c);

/* The client vhost for c's TLS files (made the first time; ws_service.c),
 * or NULL with c failed. */
struct lws_vhost *gj__ws_tls_vhost(gj_ws_service *s, gj_ws *c);

#endif
