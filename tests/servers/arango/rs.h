/*
 * rs.h — ArangoDB reference server (test tool, not part of libgraphjob).
 *
 * An in-memory server speaking the ArangoDB 3.12 HTTP API for a small data
 * set and a fixed AQL repertoire, so that libgraphjob's ArangoDB backend and
 * the official arangojs driver can be tested against the same thing.  HTTP is
 * libmicrohttpd (thread per connection), JSON is json-c, JWT signing is
 * OpenSSL HMAC.
 *
 * Threads: every connection has its own thread (libmicrohttpd), every
 * coordinator has a small pool of async-job workers, and the main thread
 * waits for SIGTERM/SIGINT and sweeps expired cursors and transactions.
 * Locks, outermost first: job manager (per coordinator) -> cursor registry
 * (per coordinator) -> store (shared) -> exec (per request).  No lock is held
 * while sleeping.
 *
 * json-c objects are not shared between threads: documents in the store are
 * only touched under the store lock, and whatever leaves the lock is a deep
 * copy or a serialized string.
 */
#ifndef GJ_TESTS_ARANGO_RS_H
#define GJ_TESTS_ARANGO_RS_H

#include <json-c/json.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* ---- limits (every size that comes from the wire is checked against one) */
#define RS_URL_MAX 16384u                   /* ArangoDB: 16 KiB, else 414 */
#define RS_BODY_MAX_DEFAULT (64u << 20)     /* request body, else 413 */
#define RS_MAX_SEGS 16u                     /* path components */
#define RS_MAX_DATABASES 256u
#define RS_MAX_COLLECTIONS 1024u            /* per database */
#define RS_MAX_DOCUMENTS (1u << 20)         /* per collection */
#define RS_MAX_ROWS (1u << 22)              /* rows in one query result */
#define RS_MAX_CURSORS 4096u                /* per coordinator */
#define RS_MAX_JOBS 65536u                  /* stored async jobs per coordinator */
#define RS_JOB_QUEUE_DEFAULT 1024u          /* queued async jobs per coordinator */
#define RS_MAX_WORKERS 64u
#define RS_MAX_TRX 1024u                    /* running + finished transactions */
#define RS_MAX_QUERIES 4096u                /* running queries */
#define RS_MAX_COORDINATORS 16u
#define RS_MAX_FAULTS 8u
#define RS_MAX_ENDPOINTS 32u
#define RS_REQLOG_SIZE 256u
#define RS_RESPONSE_HEADERS_MAX 8u
#define RS_MAX_SLEEP 3600.0                 /* seconds, SLEEP() and stalls */
#define RS_KEY_MAX 254u
#define RS_NAME_MAX 256u

#define RS_JSON_CT "application/json; charset=utf-8"
#define RS_TEXT_CT "text/plain; charset=utf-8"

typedef struct rs_server rs_server;
typedef struct rs_coord rs_coord;
typedef struct rs_trx rs_trx;

typedef enum rs_method {
    RS_GET, RS_POST, RS_PUT, RS_PATCH, RS_DELETE, RS_HEAD, RS_OPTIONS, RS_OTHER
} rs_method;

typedef struct rs_kv {
    char *name;
    char *value;
} rs_kv;

/* An HTTP response before it goes to the wire; also what an async job keeps. */
typedef struct rs_response {
    int status;                 /* 0 = not set yet */
    char *content_type;         /* NULL = no Content-Type header */
    char *body;
    size_t body_len;
    rs_kv headers[RS_RESPONSE_HEADERS_MAX];
    size_t n_headers;
} rs_response;

/* Interruption of a running request: query kill, job cancel, shutdown. */
typedef struct rs_exec {
    pthread_mutex_t mu;
    pthread_cond_t cond;
    int killed;                 /* DELETE /_api/query/{id} */
    int canceled;               /* PUT /_api/job/{id}/cancel */
} rs_exec;

typedef enum rs_interrupt {
    RS_RUN = 0, RS_KILLED, RS_CANCELED, RS_SHUTDOWN, RS_TIMEOUT
} rs_interrupt;

/* A request, fully copied out of libmicrohttpd so it can outlive the
 * connection (async jobs run it later on a worker). */
typedef struct rs_request {
    rs_method method;
    char *method_name;
    char *dbname;               /* from /_db/{name}, default "_system" */
    char *path;                 /* the rest, starting with '/' */
    char *segs[RS_MAX_SEGS];
    size_t nsegs;
    rs_kv *args;
    size_t nargs;
    rs_kv *headers;             /* names lower-cased */
    size_t nheaders;
    char *body;                 /* NUL-terminated copy */
    size_t body_len;
    char *user;                 /* authenticated user */
    rs_coord *coord;
    rs_exec exec;
} rs_request;

/* ---- fault injection --------------------------------------------------- */
typedef enum rs_fault_kind {
    RS_FAULT_NONE = 0, RS_FAULT_503, RS_FAULT_STALL, RS_FAULT_CLOSE
} rs_fault_kind;

typedef struct rs_fault {
    rs_fault_kind kind;
    char path[256];             /* prefix of the request path ("" = any) */
    unsigned long after;        /* let this many matching requests through */
    unsigned long count;        /* then fault this many (0 = unlimited) */
    double secs;                /* stall duration */
    unsigned long seen;         /* matching requests so far */
    unsigned long fired;
} rs_fault;

/* ---- cursors (per coordinator) ----------------------------------------- */
typedef struct rs_cursor {
    char id[24];
    char *dbname;
    json_object *rows;          /* all rows not yet delivered and the last batch */
    size_t pos;                 /* next row to deliver */
    size_t last_start, last_len;/* last delivered batch (allowRetry) */
    size_t batch_size;
    unsigned long batch_id;     /* id of the last delivered batch */
    int has_count;
    size_t count;
    json_object *extra;         /* delivered with the last batch (stream) */
    int stream, allow_retry;
    double ttl, expires;
    int busy;
    struct rs_cursor *next;
} rs_cursor;

typedef struct rs_cursors {
    pthread_mutex_t mu;
    rs_cursor *head;
    size_t n;
} rs_cursors;

/* ---- async jobs (per coordinator) -------------------------------------- */
typedef enum rs_job_state { RS_JOB_QUEUED, RS_JOB_RUNNING, RS_JOB_DONE } rs_job_state;

typedef struct rs_job {
    uint64_t id;
    int store;                  /* 0 = fire and forget (x-arango-async: true) */
    rs_job_state state;
    int deleted;                /* removed from the list while running */
    double stamp;
    rs_request *req;            /* until it has run */
    rs_response res;            /* when done */
    struct rs_job *qnext;       /* run queue */
    struct rs_job *prev, *next; /* stored jobs, ascending id */
} rs_job;

typedef struct rs_jobs {
    pthread_mutex_t mu;
    pthread_cond_t cond;
    rs_job *qhead, *qtail;
    size_t queued, queue_max;
    rs_job *head, *tail;        /* stored (store) jobs */
    size_t stored;
    pthread_t workers[RS_MAX_WORKERS];
    size_t nworkers;
    int stopping;
} rs_jobs;

/* ---- request log (per coordinator, for tests) -------------------------- */
typedef struct rs_logent {
    char method[8];
    char db[65];
    char path[200];
    char async[8];
    char trx[24];
    char auth[8];
    int status;
} rs_logent;

struct rs_coord {
    rs_server *srv;
    size_t index;
    unsigned port;
    char endpoint[64];
    int lfd;                     /* listening socket until the daemon takes it */
    struct MHD_Daemon *daemon;
    rs_cursors cursors;
    rs_jobs jobs;
    pthread_mutex_t fault_mu;   /* faults and request log */
    rs_fault faults[RS_MAX_FAULTS];
    size_t nfaults;
    rs_logent log[RS_REQLOG_SIZE];
    size_t log_next, log_n;
};

/* ---- the data store (shared by all coordinators) ----------------------- */
typedef struct rs_collection {
    char *name;
    uint64_t id;
    int type;                   /* 2 document, 3 edge */
    int wait_for_sync;
    int is_system;
    json_object *docs;          /* _key -> document, insertion order */
} rs_collection;

typedef struct rs_database {
    char *name;
    uint64_t id;
    rs_collection *colls[RS_MAX_COLLECTIONS];
    size_t ncolls;
} rs_database;

typedef struct rs_query {
    char id[24];
    char *dbname;
    char *user;
    char *query;
    char *bind_json;
    double started;
    int stream;
    rs_exec *exec;
    struct rs_query *next;
} rs_query;

typedef enum rs_trx_status { RS_TRX_RUNNING, RS_TRX_COMMITTED, RS_TRX_ABORTED } rs_trx_status;

struct rs_trx {
    uint64_t id;
    char *dbname;
    rs_trx_status status;
    int expired;
    double last_used;
    json_object *write;         /* array of collection names (write + exclusive) */
    json_object *read;
    int allow_implicit;
    json_object *overlay;       /* collection -> { key -> doc | null } */
    struct rs_trx *next;
};

typedef struct rs_config {
    unsigned port;
    size_t ncoords;
    const char *user;
    const char *password;
    const char *jwt_secret;     /* NULL = random */
    double jwt_ttl;
    int no_auth;
    size_t max_body;
    size_t workers;
    size_t job_queue;
    double trx_idle_timeout;
    double cursor_ttl;
    const char *version;
    int verbose;
    char endpoints[RS_MAX_ENDPOINTS][128];
    size_t nendpoints;          /* 0 = single server, no cluster API */
    char *tls_cert;             /* PEM text (--tls-cert), NULL = plain HTTP */
    char *tls_key;
    rs_fault faults[RS_MAX_FAULTS];
    size_t fault_coord[RS_MAX_FAULTS]; /* coordinator index + 1, 0 = all */
    size_t nfaults;
} rs_config;

struct rs_server {
    rs_config cfg;
    atomic_int stopping;
    atomic_uint_fast64_t tick;
    unsigned char jwt_key[64];
    size_t jwt_key_len;
    pthread_mutex_t store_mu;   /* databases, collections, documents, trx, queries */
    rs_database *dbs[RS_MAX_DATABASES];
    size_t ndbs;
    rs_trx *trxs;
    size_t ntrx;
    rs_query *queries;
    size_t nqueries;
    rs_coord coords[RS_MAX_COORDINATORS];
    size_t ncoords;
};

/* ---- util.c ------------------------------------------------------------- */
void rs_log(rs_server *srv, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
double rs_now(void);
uint64_t rs_next_tick(rs_server *srv);
void rs_new_rev(rs_server *srv, char out[16]);
char *rs_strdup(const char *s);
char *rs_strndup(const char *s, size_t n);
int rs_valid_key(const char *key);
int rs_valid_coll_name(const char *name, int allow_system);
int rs_valid_db_name(const char *name);
int rs_parse_bool(const char *s, int dflt);
const char *rs_arg(const rs_request *req, const char *name);
int rs_arg_bool(const rs_request *req, const char *name, int dflt);
const char *rs_header(const rs_request *req, const char *name);
json_object *rs_parse_json(const char *text, size_t len);
char *rs_json_string(json_object *obj, size_t *len);
void rs_iso_time(double t, char out[32]);
int rs_base64_encode(const unsigned char *in, size_t n, int url, char *out, size_t cap);
int rs_base64_decode(const char *in, size_t n, int url, unsigned char *out, size_t cap, size_t *outlen);

void rs_response_init(rs_response *res);
void rs_response_free(rs_response *res);
void rs_response_move(rs_response *dst, rs_response *src);
int rs_response_copy(rs_response *dst, const rs_response *src);
void rs_response_header(rs_response *res, const char *name, const char *value);
void rs_response_json(rs_response *res, int status, json_object *obj);
void rs_response_text(rs_response *res, int status, const char *ct, const char *body);
void rs_response_error(rs_response *res, int status, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
json_object *rs_error_object(int status, int errnum, const char *msg);
const char *rs_errmsg(int errnum);

void rs_exec_init(rs_exec *ex);
void rs_exec_destroy(rs_exec *ex);
void rs_exec_signal(rs_exec *ex, int kill, int cancel);
rs_interrupt rs_exec_check(rs_server *srv, rs_exec *ex);
rs_interrupt rs_exec_sleep(rs_server *srv, rs_exec *ex, double seconds, double deadline);

rs_request *rs_request_clone(const rs_request *req);
void rs_request_free(rs_request *req);
void rs_request_clear(rs_request *req);

/* ---- store.c (all rs_store_* / rs_doc_* below need srv->store_mu held) -- */
int rs_store_init(rs_server *srv);
void rs_store_free(rs_server *srv);
rs_database *rs_db_find(rs_server *srv, const char *name);
rs_database *rs_db_create(rs_server *srv, const char *name);
void rs_db_drop(rs_server *srv, rs_database *db);
rs_collection *rs_coll_find(rs_database *db, const char *name);
rs_collection *rs_coll_create(rs_server *srv, rs_database *db, const char *name, int type);
void rs_coll_drop(rs_database *db, rs_collection *c);
json_object *rs_doc_get(rs_collection *c, rs_trx *t, const char *key);
int rs_doc_set(rs_collection *c, rs_trx *t, const char *key, json_object *doc);
void rs_doc_del(rs_collection *c, rs_trx *t, const char *key);
size_t rs_coll_count(rs_collection *c, rs_trx *t);
void rs_coll_truncate(rs_collection *c, rs_trx *t);
typedef int (*rs_doc_cb)(json_object *doc, void *ctx);
int rs_coll_foreach(rs_collection *c, rs_trx *t, rs_doc_cb cb, void *ctx);
json_object *rs_coll_info(rs_collection *c, int properties);

/* ---- trx.c ---------------------------------------------------------------- */
/* Resolve the x-arango-trx-id header of req (store lock held).  Returns 0 and
 * *out (NULL when there is no header), or fills res with the error. */
int rs_trx_resolve(rs_request *req, rs_trx **out, rs_response *res);
int rs_trx_may_write(rs_trx *t, const char *coll, rs_response *res);
/* A read of coll in t (NULL: fine); an error response and -1 when t was
 * begun with allowImplicit: false and did not declare coll. */
int rs_trx_may_read(rs_trx *t, const char *coll, rs_response *res);
void rs_trx_sweep(rs_server *srv);
void rs_trx_free_all(rs_server *srv);
void rs_api_transaction(rs_request *req, rs_response *res);

/* ---- api_admin.c ------------------------------------------------------- */
void rs_api_version(rs_request *req, rs_response *res);
void rs_api_auth(rs_request *req, rs_response *res);
void rs_api_auth_renew(rs_request *req, rs_response *res);
void rs_api_database(rs_request *req, rs_response *res);
void rs_api_collection(rs_request *req, rs_response *res);
void rs_api_cluster(rs_request *req, rs_response *res);
void rs_api_admin(rs_request *req, rs_response *res);
void rs_api_refserver(rs_request *req, rs_response *res);
int rs_check_auth(rs_request *req, rs_response *res);
int rs_jwt_init(rs_server *srv);
char *rs_jwt_issue(rs_server *srv, const char *user);

/* ---- api_document.c ---------------------------------------------------- */
void rs_api_document(rs_request *req, rs_response *res);
/* The insert core shared with AQL INSERT (store lock held): doc is consumed. */
int rs_document_insert(rs_server *srv, rs_collection *c, rs_trx *t, json_object *doc,
                       json_object **stored, int *errnum, char *msg, size_t msgcap);

/* ---- aql.c -------------------------------------------------------------- */
typedef struct rs_aql rs_aql;
typedef struct rs_aql_stats {
    unsigned long writes_executed, writes_ignored, scanned_full, filtered;
    unsigned long full_count;
    int has_full_count;
} rs_aql_stats;
typedef struct rs_aql_error {
    int status, errnum;
    char msg[512];
} rs_aql_error;
rs_aql *rs_aql_parse(const char *query, json_object *bind_vars, rs_aql_error *err);
void rs_aql_free(rs_aql *q);
/* Runs the query; returns a new array of rows, or NULL with err set. */
json_object *rs_aql_execute(rs_aql *q, rs_request *req, double deadline, int full_count,
                            rs_aql_stats *stats, rs_aql_error *err);

/* ---- api_cursor.c ----------------------------------------------------- */
void rs_api_cursor(rs_request *req, rs_response *res);
void rs_api_query(rs_request *req, rs_response *res);
void rs_cursors_sweep(rs_coord *co);
void rs_cursors_free(rs_coord *co);

/* ---- jobs.c --------------------------------------------------------------- */
int rs_jobs_start(rs_coord *co);
void rs_jobs_stop(rs_coord *co);
/* Queue req (consumed) as an async job; fills res with the 202 (or 503). */
void rs_jobs_submit(rs_coord *co, rs_request *req, int store, rs_response *res);
void rs_api_job(rs_request *req, rs_response *res);

/* ---- http.c ------------------------------------------------------------- */
int rs_http_listen(rs_coord *co);   /* bind + listen: sets port, endpoint, lfd */
int rs_http_start(rs_coord *co);
void rs_http_stop(rs_coord *co);
/* Route and run one request synchronously (also used by job workers). */
void rs_dispatch(rs_request *req, rs_response *res);
int rs_fault_parse(const char *spec, rs_fault *f, size_t *coord);

#endif
