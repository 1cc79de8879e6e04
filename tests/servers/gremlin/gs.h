/*
 * gremlin-refserver: a strict Gremlin Server (TinkerPop 3.7) for tests
 * (shared header).
 *
 *   main.c     options, the libwebsockets context, signals, shutdown
 *   conn.c     the lws protocol callback: HTTP 404, the WebSocket upgrade on
 *              /gremlin, frame reassembly and the content-length limit, the
 *              output queue, connection-level faults
 *   request.c  decoding a request, SASL PLAIN, processor and op selection,
 *              argument validation
 *   task.c     evaluation (timers for sleeps, timeouts, stalls), responses
 *              in batches, sessions
 *   script.c   the script repertoire: a strict parser into a plan
 *   graph.c    TinkerPop's "modern" graph and the evaluation of a plan
 *   fault.c    fault injection specs
 *
 * One thread (the lws service thread) does everything: requests wait on lws
 * timers (Thread.sleep, evaluationTimeout, stalls), never on a thread, so
 * nothing here is locked.  Everything serves tests on loopback; it is not
 * part of the library.
 */
#ifndef GS_H
#define GS_H

#include <graphjob.h>

#include <libwebsockets.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "codec/gremlin_msg.h"

#define GS_MAX_FAULTS 16
#define GS_TEXT_MAX 256

/* ---- faults (fault.c) --------------------------------------------------------- */
typedef enum gs_fault_kind {
    GS_FAULT_DROP,        /* close the TCP connection once `after` response frames were sent */
    GS_FAULT_STALL,       /* hold a request `secs` seconds (0 = until the connection closes) */
    GS_FAULT_OVERSIZED,   /* answer a request with one frame of more than `bytes` bytes */
    GS_FAULT_PACE         /* send a request's result frames `ms` milliseconds apart */
} gs_fault_kind;

typedef struct gs_fault {
    gs_fault_kind kind;
    long after;           /* drop: frames per connection; others: matching requests let pass */
    long count;           /* times it fires (-1 = unlimited) */
    double secs;          /* stall */
    size_t bytes;         /* oversized */
    long ms;              /* pace */
    char script[GS_TEXT_MAX];  /* stall, oversized, pace: only scripts containing this ("" = any) */
    long seen;            /* matching requests seen (stall, oversized, pace) */
    long fired;
} gs_fault;

int gs_fault_parse(const char *spec, gs_fault *f, char *errbuf, size_t errlen);
/* stall / oversized / pace: the first fault of `kind` that fires for a request with
 * this script (NULL for requests without one) now (counts it), or NULL. */
gs_fault *gs_fault_take(gs_fault *faults, size_t n, gs_fault_kind kind, const char *script);

/* ---- configuration ---------------------------------------------------------------- */
typedef struct gs_config {
    const char *host;
    int port;
    const char *user;             /* NULL: no authentication */
    const char *password;
    const char *tls_cert, *tls_key;
    size_t max_content_length;    /* largest request frame / message (10 MiB) */
    int64_t evaluation_timeout;   /* ms, 0 = none (30000) */
    int32_t batch_size;           /* resultIterationBatchSize (64) */
    bool compression;             /* accept permessage-deflate */
    bool verbose;
    gs_fault faults[GS_MAX_FAULTS];
    size_t n_faults;
} gs_config;

/* ---- the graph and the script repertoire (graph.c, script.c) ----------------------- */

/* One step of a traversal. */
typedef enum gs_step_kind {
    GS_STEP_HAS_LABEL,    /* args: labels */
    GS_STEP_VALUES,       /* args: property keys */
    GS_STEP_LIMIT,        /* args: [n] */
    GS_STEP_COUNT,
    GS_STEP_UNFOLD
} gs_step_kind;

/* An argument: a literal value, or the name of a variable (a binding). */
typedef struct gs_arg {
    gj_value *value;      /* literal (owned), or NULL */
    char *name;           /* variable, or NULL */
} gs_arg;

typedef struct gs_step {
    gs_step_kind kind;
    gs_arg *args;
    size_t n_args;
} gs_step;

typedef enum gs_plan_kind {
    GS_PLAN_TRAVERSAL,    /* <source>.V(..)/E(..)/inject(..) then steps */
    GS_PLAN_VARIABLE,     /* x: the value of a variable */
    GS_PLAN_ASSIGN,       /* x = <literal or variable> */
    GS_PLAN_SLEEP,        /* Thread.sleep(ms) */
    GS_PLAN_THROW         /* throw new Exception('message') */
} gs_plan_kind;

typedef enum gs_source_kind { GS_SOURCE_V, GS_SOURCE_E, GS_SOURCE_INJECT } gs_source_kind;

typedef struct gs_plan {
    gs_plan_kind kind;
    char *name;           /* traversal: the source variable ("g"); variable/assign: the name */
    gs_source_kind source;
    gs_arg *source_args;
    size_t n_source_args;
    gs_step *steps;
    size_t n_steps;
    gs_arg value;         /* assign: the value */
    int64_t sleep_ms;
    char *message;        /* throw */
} gs_plan;

/* Parse a script.  0, or -1 with a Groovy-like message in errbuf (the
 * script is outside the repertoire).  gs_plan_free releases it. */
int gs_script_parse(const char *script, gs_plan *out, char *errbuf, size_t errlen);
void gs_plan_free(gs_plan *p);
/* Build a plan from GraphBinary/GraphSON Bytecode (the inner map of a
 * g:Bytecode value): the same repertoire.  0, or -1 with a message. */
int gs_bytecode_plan(const gj_value *bytecode, gs_plan *out, char *errbuf, size_t errlen);

/* Variables visible to a script: the request's bindings, then a session's. */
typedef struct gs_scope {
    const gj_value *bindings;       /* map or NULL */
    const gj_value *session_vars;   /* map or NULL */
} gs_scope;
const gj_value *gs_scope_get(const gs_scope *s, const char *name);

/* A failed evaluation: a Gremlin status with Java-like exception detail. */
typedef struct gs_eval_error {
    int code;                          /* 597, 599, 500 ... */
    char message[1024];
    const char *exception;             /* Java class name for "exceptions" */
} gs_eval_error;

/* The modern graph (built once at start). */
int gs_graph_init(void);
void gs_graph_free(void);

/* Evaluate a traversal or variable plan into *items (a list value, owned by
 * the caller).  0, or -1 with *e filled. */
int gs_plan_eval(const gs_plan *p, const gs_scope *scope, gj_value **items, gs_eval_error *e);

/* ---- the server ------------------------------------------------------------------- */
typedef struct gs_conn gs_conn;
typedef struct gs_task gs_task;
typedef struct gs_session gs_session;

typedef struct gs_server {
    gs_config cfg;
    struct lws_context *context;
    unsigned long next_conn_id;
    gs_session *sessions;         /* live sessions (a list) */
    volatile int stopping;
} gs_server;

extern gs_server *gs_srv;

/* Where a response goes: the format and frame kind the request came in, and
 * its id (absent for undecodable requests). */
typedef struct gs_reply_to {
    gj_gremlin_format fmt;
    bool text;
    bool has_id;
    uint8_t id[16];
} gs_reply_to;

/* One request as the pipeline sees it: decoded (`valid`) or not (Gremlin
 * Server's RequestMessage.INVALID). */
typedef struct gs_request {
    struct gs_request *next;
    bool valid;
    gs_reply_to to;
    const char *mime;             /* static string, for the log */
    gj_gremlin_request msg;       /* owned when valid */
} gs_request;

/* An output frame: LWS_PRE bytes of headroom, then the payload. */
typedef struct gs_frame {
    struct gs_frame *next;
    size_t len;
    bool text;
    unsigned char data[];
} gs_frame;

struct gs_conn {
    struct lws *wsi;
    unsigned long id;
    char peer[80];                /* "/127.0.0.1:port", the status attribute "host" */
    /* input: the message being reassembled */
    unsigned char *rx;
    size_t rx_len, rx_cap;
    bool rx_text;
    size_t frame_left;            /* payload bytes still to come in the current frame */
    bool too_big;                 /* over --max-content-length: closing with 1009 */
    /* output */
    gs_frame *out_head, *out_tail;
    size_t out_frames;
    long frames_sent;
    gs_fault *drop;               /* the drop fault armed for this connection, if any */
    bool dropping;                /* close abruptly at the next write */
    /* SASL */
    int auth_state;               /* 0 none yet, 1 negotiating, 2 authenticated */
    gs_request *auth_original;    /* the request that was answered 407 */
    gs_request *deferred_head, *deferred_tail;
    double deferred_since;        /* monotonic seconds of the first deferred request */
    /* work in progress */
    gs_task *tasks;               /* every task of this connection (a list) */
};

/* conn.c */
int gs_protocol_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                         size_t len);
/* Queue a frame (taken over) for writing. */
void gs_conn_queue(gs_conn *c, gs_frame *f);
gs_frame *gs_frame_new(size_t len, bool text);
double gs_now(void);

/* request.c: decoding, SASL, processor and op selection, validation */
void gs_request_received(gs_conn *c, const unsigned char *data, size_t len, bool text);
/* Select and run the op of a task (after a stall fault too). */
void gs_select_op(gs_task *t);

/* task.c: evaluation, responses, sessions */
typedef enum gs_task_state { GS_TASK_RUNNING, GS_TASK_STALLED, GS_TASK_QUEUED, GS_TASK_SLEEPING } gs_task_state;

struct gs_task {
    gs_task *next, *prev;          /* the connection's tasks */
    gs_task *queue_next;           /* the session's queue */
    gs_conn *conn;
    gs_session *session;
    gs_request *req;               /* owned */
    gj_gremlin_args args;          /* borrowed from req */
    bool bytecode;
    gs_plan plan;
    gs_task_state state;
    lws_sorted_usec_list_t sul_wait;
    lws_sorted_usec_list_t sul_timeout;
    int64_t timeout_ms;
    /* results sent by the pace fault, one frame per timer tick */
    gj_value *paced;
    size_t paced_offset;
    int32_t paced_batch;
    long pace_ms;
};

/* Encode and queue one response (attrs and data are taken over); a result
 * the serializer cannot carry becomes 599. */
void gs_respond(gs_conn *c, const gs_reply_to *to, int code, const char *message, gj_value *attrs,
                gj_value *data);
void gs_respond_error(gs_conn *c, const gs_reply_to *to, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The request id's text (buf), or "null". */
const char *gs_uuid_text(const gs_reply_to *to, char buf[37]);
bool gs_in_list(const char *s, const char *const *list);
/* "g": the only traversal source the server has. */
bool gs_is_traversal_source(const char *name);
void gs_request_free(gs_request *r);
/* A task owns its request (freed with it even when this fails: NULL). */
gs_task *gs_task_new(gs_conn *c, gs_request *r);
void gs_task_free(gs_task *t);
/* Run a task outside a session: true while it waits on a timer (it then
 * ends by itself), false when it was answered (the caller frees it). */
bool gs_task_run(gs_task *t);
/* Hold a task `secs` seconds (0 = until its connection closes), then
 * gs_select_op() it. */
void gs_task_stall(gs_task *t, double secs);
/* An eval on the session processor: queue it on its session (opened for
 * this connection when new).  Returns true when the session took it, false
 * when it was answered (500: bound to another connection) and the caller
 * frees it. */
bool gs_session_submit(gs_task *t);
/* Op close: the session no longer accepts requests (queued ones still run). */
void gs_session_close(const char *id);
/* Free everything that belongs to a closing connection (tasks, sessions). */
void gs_conn_release(gs_conn *c);
void gs_sessions_free(void);

/* Log to stderr when --verbose. */
void gs_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
