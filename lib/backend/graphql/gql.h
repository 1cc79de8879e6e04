/*
 * The GraphQL backend's internal interface (lib/backend/graphql).  Never
 * installed.  graphql.c's opening comment lists what the backend offers;
 * docs/graphql.md says it for users.
 *
 *   graphql.c    target options, the target's shared state (a curl share
 *                with the cookie jar, the batcher, the WebSocket service),
 *                connect (no I/O: curl connects at the first request),
 *                interrupt, the vtable, execute's dispatch
 *   gql_doc.c    the document (which operation, of which type), JSON text
 *                building, request bodies (JSON, GET query, multipart
 *                upload), SHA-256 for persisted queries
 *   gql_reply.c  a reply's status and body -> rows, meta or an error, and
 *                multipart/mixed incremental delivery (@defer / @stream)
 *   gql_http.c   one operation over HTTP: POST / GET, persisted queries,
 *                uploads, incremental delivery, introspection
 *   gql_batch.c  batching: jobs within a window go out as one request
 *   gql_ws.c     subscriptions (and any operation at graphql+ws URLs) over
 *                graphql-transport-ws or the legacy graphql-ws protocol
 *   gql_sse.c    subscriptions over graphql-sse (distinct connections)
 *
 * A connection (gj_conn) is one HTTP transport connection (one reused curl
 * easy handle; the pool gives each running job its own), plus what a job
 * waiting outside curl (on the batcher, on a subscription's WebSocket)
 * needs to be woken by interrupt(): a mutex, a condition variable and the
 * interrupt record.
 */
#ifndef GJ_BACKEND_GQL_H
#define GJ_BACKEND_GQL_H

#include "backend/backend.h"
#include "core/json_in.h"
#include "transport/http.h"
#include "transport/ws.h"

#include <json-c/json.h>
#include <pthread.h>
#include <stdatomic.h>

#define GJ__GQL_DEFAULT_PORT 80
#define GJ__GQL_DEFAULT_PATH "/graphql"
/* The Accept of an ordinary request (GraphQL over HTTP). */
#define GJ__GQL_ACCEPT "application/graphql-response+json, application/json;q=0.9"
/* ... of one that may be answered incrementally (@defer / @stream). */
#define GJ__GQL_ACCEPT_INCREMENTAL \
    "multipart/mixed;deferSpec=20220824, application/graphql-response+json;q=0.9, " \
    "application/json;q=0.8"
/* Longest excerpt of a body put into a message. */
#define GJ__GQL_EXCERPT 160

typedef enum gj__gql_optype {
    GJ__GQL_QUERY = 0,
    GJ__GQL_MUTATION,
    GJ__GQL_SUBSCRIPTION
} gj__gql_optype;

typedef enum gj__gql_sub_transport {
    GJ__GQL_SUB_WS = 0,
    GJ__GQL_SUB_SSE
} gj__gql_sub_transport;

typedef enum gj__gql_ws_proto {
    GJ__GQL_WS_AUTO = 0,         /* offer both, use the one the server picks */
    GJ__GQL_WS_TRANSPORT,        /* graphql-transport-ws */
    GJ__GQL_WS_LEGACY            /* graphql-ws (subscriptions-transport-ws) */
} gj__gql_ws_proto;

typedef struct gj__gql_batcher gj__gql_batcher;

/* The target's parsed options and shared state (target_open). */
typedef struct gj__gql_target {
    const gj_target_settings *ts;   /* the pool's copy: outlives this */
    const gj_logger *log;
    char *path;                  /* "/graphql" */
    bool tls;                    /* https / wss */
    bool ws_scheme;              /* graphql+ws(s): every operation over WebSocket */
    char *unix_socket;
    char **headers;              /* "Name: value" lines (option headers) */
    size_t n_headers;
    char *cookie;                /* "a=1; b=2" (option cookies) */
    bool cookie_jar;             /* keep cookies servers set (shared by the target) */
    char *bearer;                /* option token, or a password without a user name */
    bool use_get;                /* queries over GET */
    bool compressed;
    bool http2;
    bool apq;                    /* automatic persisted queries */
    bool batch;                  /* batching on by default */
    int64_t batch_window_ms;
    size_t batch_max;
    gj__gql_sub_transport sub_transport;
    char *ws_path;               /* NULL = path */
    char *sse_path;              /* NULL = path + "/stream" */
    gj__gql_ws_proto ws_proto;
    gj_value *connection_params; /* connection_init payload, or NULL */
    int64_t ack_timeout_ms;
    int64_t ping_interval_ms;
    int reconnect;               /* attempts after a lost subscription connection */
    int64_t reconnect_delay_ms;

    gj_http_share *share;        /* cookie jar, DNS and TLS session caches */
    gj__gql_batcher *batcher;    /* made with the target when batch is on */
    pthread_mutex_t mu;          /* guards ws_service's creation */
    gj_ws_service *ws_service;   /* made at the first subscription */
} gj__gql_target;

struct gj_conn {
    gj__gql_target *t;
    gj_http *http;
    char hostport[300];          /* "host:port" (or the socket path) for messages */
    char base_url[320];
    const char *host;            /* ep->host (the pool's, outlives the connection) */
    int port;
    bool broken;
    /* Waits outside curl (batch, WebSocket): interrupt() sets the record
     * and signals cv under mu. */
    pthread_mutex_t mu;
    pthread_cond_t cv;           /* CLOCK_MONOTONIC */
    atomic_bool interrupted;
    /* A subscription's WebSocket state while one runs (gql_ws.c). */
    void *sub;
};

/* ---- the operation a job asks for ------------------------------------------ */

typedef struct gj__gql_file {
    char *field;                 /* "variables.file" */
    char *path;                  /* from a file, or NULL */
    const uint8_t *data;         /* from memory (borrowed from the request) */
    size_t len;
    char *filename;
    char *content_type;
} gj__gql_file;

typedef struct gj__gql_op {
    const gj_request *req;
    const char *query;           /* the document (NULL for a persisted-only request) */
    const char *operation_name;  /* option operationName, or NULL */
    const gj_value *variables;   /* the request's params (a map; may be empty) */
    const gj_value *extensions;  /* option extensions (a map), or NULL */
    gj__gql_optype type;
    bool get;                    /* over GET */
    bool apq;
    bool incremental;            /* the document has @defer or @stream */
    bool parts;                  /* incremental parts as rows (else merged) */
    bool batch;                  /* may be batched */
    char *headers[GJ__HTTP_MAX_FIXED];   /* option headers: "Name: value" */
    size_t n_headers;
    char *cookie;                /* option cookies as "a=1; b=2" */
    gj__gql_file *files;         /* uploads (option files, bytes variables) */
    size_t n_files;
    char sha256[65];             /* hex, for persisted queries */
} gj__gql_op;

/* Read the request into op (options checked, the operation's type found).
 * GJ_EINVAL naming the problem. */
int gj__gql_op_init(gj__gql_op *op, gj__gql_target *t, const gj_request *req, const char *verb,
                    gj_error *err);
void gj__gql_op_clear(gj__gql_op *op);

/* The type of the operation named name (NULL: the only one) in the
 * document.  GJ_EINVAL when the document has no such operation (syntax is
 * the server's business: what cannot be told is taken for a query). */
int gj__gql_doc_optype(const char *doc, const char *name, gj__gql_optype *out, gj_error *err);

/* ---- JSON text ---------------------------------------------------------------- */

typedef struct gj__gql_buf {
    char *p;
    size_t len, cap;
    bool nomem;
} gj__gql_buf;

void gj__gql_buf_put(gj__gql_buf *b, const char *s, size_t n);
void gj__gql_buf_puts(gj__gql_buf *b, const char *s);
/* s as a JSON string (quoted, escaped). */
void gj__gql_buf_json_string(gj__gql_buf *b, const char *s, size_t n);
/* v as JSON text. */
void gj__gql_buf_json_value(gj__gql_buf *b, const gj_value *v);
void gj__gql_buf_free(gj__gql_buf *b);

/* The request body {"query", "variables", "operationName", "extensions"}
 * (with_query false: without "query", for a persisted-query hash; files:
 * their places null).  Appended to b. */
void gj__gql_body(gj__gql_buf *b, const gj__gql_op *op, bool with_query, bool with_id,
                  const char *id);
/* The GET query string ("?query=...&variables=..."), appended to b. */
int gj__gql_get_query(gj__gql_buf *b, gj_conn *c, const gj__gql_op *op, bool with_query,
                      gj_error *err);
/* The extensions object (the request's, plus persistedQuery when apq),
 * appended to b; nothing when there is none.  *wrote says whether. */
void gj__gql_extensions(gj__gql_buf *b, const gj__gql_op *op, bool *wrote);

/* ---- replies ------------------------------------------------------------------- */

/* A parsed GraphQL response. */
typedef struct gj__gql_response {
    json_object *root;           /* the whole body, or NULL */
    json_object *data;           /* borrowed from root; NULL when absent or null */
    json_object *errors;         /* a non-empty array, or NULL */
    json_object *extensions;
} gj__gql_response;

/* One JSON text from a server (RFC 8259: json-c's strict mode, so no
 * comments or trailing commas), followed by nothing but white space; NULL
 * when it is not one (or len is 0 or above INT32_MAX).  Every JSON body,
 * part, event and message the backend reads goes through this. */
json_object *gj__gql_json_parse(const char *text, size_t len);
/* Parse body as one GraphQL response object; false when it is not one. */
bool gj__gql_parse(const char *body, size_t len, gj__gql_response *out);
void gj__gql_response_clear(gj__gql_response *r);

/* A reply (HTTP status, content type, body) into the sink: the data as one
 * row and meta http_status, errors, extensions; or the job's error by the
 * GraphQL-over-HTTP rules.  resp may be the parsed body (NULL: parse it). */
int gj__gql_reply(gj_conn *c, long status, const char *ctype, const char *body, size_t len,
                  gj_sink *sink, gj_error *err);
/* The same with a parsed response (taken over). */
int gj__gql_reply_parsed(gj_conn *c, long status, gj__gql_response *r, gj_sink *sink,
                         gj_error *err);
/* A failed GraphQL response (errors, no data) or a failed status as the
 * job's error: GJ_ESERVER (GJ_EAUTH for 401/407, GJ_ETOOBIG for 413) with
 * the first error's message, extensions.code as server code, the HTTP
 * status, and the errors list as extra. */
int gj__gql_fail(gj_conn *c, long status, json_object *errors, const char *what,
                 gj_error *err);
/* Is this the APQ "not found" answer? */
bool gj__gql_persisted_not_found(const gj__gql_response *r);
/* The errors array as a value (for meta and extras), or NULL. */
gj_value *gj__gql_to_value(json_object *j);

/* Incremental delivery: a multipart/mixed reader fed with the body as it
 * arrives (gql_reply.c). */
typedef struct gj__gql_multipart gj__gql_multipart;
int gj__gql_multipart_new(gj__gql_multipart **out, gj_conn *c, const char *content_type,
                          bool as_parts, gj_sink *sink, gj_error *err);
/* Feed bytes; GJ_EABORTED when the row callback stopped, GJ_EPROTOCOL ... */
int gj__gql_multipart_feed(gj__gql_multipart *m, const char *data, size_t len, gj_error *err);
/* The end of the body: the merged result (when merging) into the sink. */
int gj__gql_multipart_finish(gj__gql_multipart *m, long status, gj_error *err);
void gj__gql_multipart_free(gj__gql_multipart *m);

/* ---- operations -------------------------------------------------------------- */

/* One operation over HTTP (gql_http.c). */
int gj__gql_http_execute(gj_conn *c, gj__gql_op *op, gj_sink *sink, gj_error *err);
/* op introspect. */
extern const char gj__gql_introspection_query[];

/* Batching (gql_batch.c). */
int gj__gql_batcher_new(gj__gql_batcher **out, gj__gql_target *t, gj_error *err);
void gj__gql_batcher_free(gj__gql_batcher *b);
/* Hand op to the batcher and wait for its answer (or the job's cancel /
 * deadline: the answer is then dropped when it comes). */
int gj__gql_batch_execute(gj_conn *c, gj__gql_op *op, gj_sink *sink, gj_error *err);

/* Subscriptions (gql_ws.c, gql_sse.c). */
int gj__gql_ws_execute(gj_conn *c, gj__gql_op *op, gj_sink *sink, gj_error *err);
int gj__gql_sse_execute(gj_conn *c, gj__gql_op *op, gj_sink *sink, gj_error *err);
/* The target's WebSocket service, made at the first call. */
int gj__gql_ws_service(gj__gql_target *t, gj_ws_service **out, gj_error *err);

/* ---- subscription streams: the parsing side (no I/O; fuzzed) ------------------ */

/* A graphql-sse (distinct connections) text/event-stream body as it
 * arrives (gql_sse.c): lines (LF or CRLF), comments, event and data fields;
 * at each blank line the event ends: "next" (or no event name) with data
 * must be a JSON object, a subscription's ExecutionResult becomes a row
 * (data's length counted against max_result_size), a query's becomes its
 * data row and meta (gj__gql_reply_parsed); "complete" ends the stream;
 * other events are ignored.  Set c, sink, err, max and as_query, the rest
 * zero; gj__gql_sse_clear frees the buffers. */
typedef struct gj__gql_sse {
    gj_conn *c;                  /* hostport for messages; the reply's connection */
    gj_sink *sink;
    gj_error *err;
    size_t max;                  /* longest line, and longest event data */
    bool as_query;               /* a query or mutation: the data is the row */
    gj__gql_buf line;            /* the line being read */
    gj__gql_buf data;            /* the event's data lines */
    char event[32];
    size_t events;               /* next events taken */
    bool complete;               /* the complete event came */
} gj__gql_sse;

/* Feed bytes of the body.  Returns at the complete event (nothing after
 * it is read, in this call or a later one) or at the first error: GJ_EPROTOCOL (data not a JSON object,
 * a query's data not a GraphQL response), GJ_ETOOBIG (a line or an event
 * past max), GJ_EABORTED (the row callback stopped), GJ_ENOMEM, or a
 * failed query's error. */
int gj__gql_sse_feed(gj__gql_sse *s, const char *data, size_t len);
/* The body ended: a last line without its newline is taken, and its
 * event dispatched when that line added data. */
int gj__gql_sse_end(gj__gql_sse *s);
void gj__gql_sse_clear(gj__gql_sse *s);

/* A graphql-transport-ws / graphql-ws message: the JSON object (the
 * caller puts it), its type (borrowed from it) and payload (borrowed, or
 * NULL); NULL when data is not an object with a string "type". */
json_object *gj__gql_ws_parse(const char *data, size_t len, const char **type,
                              json_object **payload);

/* What a message asks of the job's thread (besides what went to the sink). */
typedef enum gj__gql_ws_action {
    GJ__GQL_WS_NOTHING = 0,      /* taken (a next), or ignored (ka, pong, another id) */
    GJ__GQL_WS_PONG,             /* a ping (graphql-transport-ws): send pong */
    GJ__GQL_WS_ACKED,            /* connection_ack: subscribe now */
    GJ__GQL_WS_COMPLETE          /* complete: the operation ended */
} gj__gql_ws_action;

/* A WebSocket operation's messages as the job reads them (gql_ws.c).  Set
 * c, sink, err, type and legacy (the subprotocol the server chose); events
 * and got_data start at zero and last across reconnects. */
typedef struct gj__gql_ws_reader {
    gj_conn *c;                  /* hostport for messages; the reply's connection */
    gj_sink *sink;
    gj_error *err;
    gj__gql_optype type;         /* a query or mutation answers once, like HTTP */
    bool legacy;                 /* graphql-ws (subscriptions-transport-ws) */
    size_t events;               /* next / data messages taken */
    bool got_data;               /* a query's answer came */
} gj__gql_ws_reader;

/* A message before connection_ack: ACKED, PONG or NOTHING; GJ_EAUTH at
 * connection_error, GJ_EPROTOCOL when it is not a message. */
int gj__gql_ws_handshake_message(gj__gql_ws_reader *rd, const char *data, size_t len,
                                 gj__gql_ws_action *out);
/* A message of the operation (id "1", or none): next (data) to the sink,
 * complete (COMPLETE; GJ_EPROTOCOL for a query without its answer), error
 * (the errors as the job's error), ping (PONG); the rest NOTHING. */
int gj__gql_ws_stream_message(gj__gql_ws_reader *rd, const char *data, size_t len,
                              gj__gql_ws_action *out);

/* Wait on c->cv until woken or deadline_ms (mu held).  Returns
 * GJ_ECANCELLED when the job was cancelled (the sink's flag; the
 * interrupt record consumed), GJ_ETIMEDOUT past the deadline, else 0. */
int gj__gql_wait(gj_conn *c, gj_sink *sink, int64_t deadline_ms);
/* The job asked to stop (cancel), or the interrupt record was set (then
 * consumed). */
bool gj__gql_cancelled(gj_conn *c, gj_sink *sink);

/* The path of the target's endpoint. */
const char *gj__gql_path(const gj_conn *c);
/* An HTTP transport connection with the target's settings. */
int gj__gql_http_new(gj__gql_target *t, const char *base_url, const char *name,
                     const char *socket, gj_http **out, gj_error *err);
/* The unix socket of a connection, or NULL. */
const char *gj__gql_socket(const gj_conn *c);
/* "a=1; b=2" from a map of cookies (GJ_EINVAL naming `what`). */
int gj__gql_cookie_string(const gj_value *map, const char *what, char **out, gj_error *err);
/* Split a parsed body into a response (taken over when it is one); false
 * otherwise (root left to the caller). */
bool gj__gql_take(json_object *root, gj__gql_response *out);

#endif
