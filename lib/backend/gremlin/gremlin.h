/*
 * The Gremlin backend (Apache TinkerPop Gremlin Server 3.5-3.7) — internal to
 * lib/backend/gremlin.  Never installed.
 *
 *   gremlin.c       the target's WebSocket service (target_open), connect,
 *                   the responses' routing by requestId on the service thread,
 *                   close, ping, the vtable
 *   gremlin_exec.c  execute (eval: [mime][request] out, 206 partials in, 407
 *                   answered with SASL PLAIN on the same requestId), sessions
 *
 * One connection carries up to max_inflight requests at once (the pool
 * shares it between that many jobs).  A job's execute() registers a
 * `pending` entry under the connection's mutex, sends its request and
 * waits on the entry's condition variable; the WebSocket service thread
 * decodes each response, finds the entry by requestId and queues the
 * response on it; the job's thread turns it into rows (its sink, its row
 * callback).  A response for an entry that is gone (cancelled, timed out)
 * is dropped.  interrupt() wakes every waiter of the connection; each looks
 * at its own job's cancel flag (the sink's), so a cancel ends only its job.
 */
#ifndef GJ_BACKEND_GREMLIN_H
#define GJ_BACKEND_GREMLIN_H

#include "backend/backend.h"
#include "codec/gremlin_msg.h"
#include "transport/ws.h"

#include <pthread.h>
#include <stdatomic.h>

#define GJ_GREMLIN_DEFAULT_PORT 8182
#define GJ_GREMLIN_DEFAULT_PATH "/gremlin"
#define GJ_GREMLIN_MAX_INFLIGHT 64u
/* Responses queued on a connection and not yet taken by their jobs: past
 * this the connection stops reading until they are. */
#define GJ_GREMLIN_QUEUE_MAX ((size_t)32 << 20)

typedef struct gj_gremlin_response gj_gremlin_response;

/* A response waiting for its job. */
typedef struct gremlin_msg {
    struct gremlin_msg *next;
    gj_gremlin_response resp;
    size_t bytes;               /* its size on the wire */
} gremlin_msg;

/* One request in flight on a connection: either a job's thread waits for
 * it (execute: responses queued on it, cv signalled), or it is
 * asynchronous (start: `a` set, its responses handled on the service
 * thread as they arrive, ended by gj__gremlin_complete_locked). */
typedef struct gremlin_pending {
    struct gremlin_pending *next;
    uint8_t id[16];
    pthread_cond_t cv;          /* CLOCK_MONOTONIC */
    gremlin_msg *head, *tail;   /* responses not taken yet */
    size_t queued;              /* their bytes */
    gj_async *a;                /* asynchronous: the core's record */
    bool starting;              /* start() still uses it: whoever ends it leaves it to start() */
    bool finished;              /* ended while starting */
    bool sasl_sent;
    size_t rows;
    int64_t started_ms;
} gremlin_pending;

struct gj_conn {
    gj_ws *ws;
    char endpoint[300];          /* "host:port" for messages */
    gj_gremlin_format format;
    const gj_target_settings *ts;   /* the pool's copy (outlives the connection) */
    const gj_logger *log;
    char user_agent[64];

    uint8_t id_base[16];         /* random (UUID v4) at connect: requestIds are it with a counter */

    pthread_mutex_t mu;          /* everything below */
    uint64_t next_seq;           /* the counter of requestIds */
    gremlin_pending *pending;
    unsigned n_pending;
    size_t queued;               /* bytes queued over every entry */
    bool paused;                 /* reading stopped (queued > GJ_GREMLIN_QUEUE_MAX) */
    bool closed;                 /* the WebSocket closed (on_close ran) */
    int close_code;
    char close_reason[256];
    bool protocol_error;         /* a response could not be read: the connection is dropped */
    char protocol_msg[256];
    bool broken;                 /* not reusable (closed, a session's state unknown) */
    bool shut;                   /* shutdown(): every request ends (GJ_ECANCELLED) */
};

/* The target's WebSocket service (target_open's context). */
typedef struct gj_gremlin_target {
    gj_ws_service *service;
} gj_gremlin_target;

extern const gj_backend gj_gremlin_backend;

/* ---- gremlin.c ---- */
/* A random (version 4) UUID. */
void gj__gremlin_random_id(uint8_t id[16]);
/* Is c open and readable (not closed, no protocol error)? */
bool gj__gremlin_is_open(gj_conn *c);
/* A new pending entry with a fresh requestId, registered on c (GJ_EIO
 * when c is closed, GJ_ECANCELLED when it shuts down, GJ_EBUSY past
 * GJ_GREMLIN_MAX_INFLIGHT); asynchronous when a is not NULL. */
int gj__gremlin_pending_new(gj_conn *c, gj_async *a, gremlin_pending **out, gj_error *err);
/* Unregister and free an entry (its unread responses too). */
void gj__gremlin_pending_free(gj_conn *c, gremlin_pending *p);
/* Under c->mu: take p off c's list (its queued bytes too). */
void gj__gremlin_unlink_locked(gj_conn *c, gremlin_pending *p);
/* Free an entry that is off the list. */
void gj__gremlin_pending_destroy(gremlin_pending *p);
/* Under c->mu: end the asynchronous request p with rc (its error filled):
 * off the list, gj__async_done, freed (or left to start() while it runs). */
void gj__gremlin_complete_locked(gj_conn *c, gremlin_pending *p, int rc);
/* Under c->mu: take the entry's queued responses (oldest first); resumes
 * reading once the connection's queue drained. */
gremlin_msg *gj__gremlin_take_locked(gj_conn *c, gremlin_pending *p);
void gj__gremlin_msg_free(gremlin_msg *m);
/* Encode and send one request (the connection's format). */
int gj__gremlin_send(gj_conn *c, const gj_gremlin_request *req, int64_t deadline_ms, gj_error *err);
/* The format named by a message_serializer setting (NULL: GraphBinary). */
int gj__gremlin_format_of(const char *name, gj_gremlin_format *out);

/* ---- gremlin_exec.c ---- */
int gj__gremlin_execute(gj_conn *c, const gj_request *req, gj_sink *sink, gj_error *err);
int gj__gremlin_start(gj_conn *c, const gj_request *req, gj_async *a, gj_error *err);
void gj__gremlin_abandon(gj_conn *c, gj_async *a, int code);
int gj__gremlin_handle(gj_conn *c, gremlin_pending *p, gremlin_msg *m, gj_sink *sink,
                       int64_t deadline, bool *final, bool *drop, gj_error *err);
int gj__gremlin_conn_error_locked(gj_conn *c, gj_error *err);
int gj__gremlin_session_check(const gj_value *options, gj_error *err);
int gj__gremlin_session_open(gj_conn *c, const gj_value *options, void **state, int64_t deadline_ms,
                             gj_error *err);
void gj__gremlin_session_close(gj_conn *c, void *state, int64_t deadline_ms, gj_error *err);

#endif
