/* http.c — libmicrohttpd glue: request intake with limits (413, 414),
 * authentication, /_db/{name} prefix, routing, x-arango-async, fault
 * injection and the request log. */
#include "rs.h"

#include <ctype.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

/* Per-connection request state while the body arrives. */
typedef struct intake {
    char *body;
    size_t len, cap;
    int early;                  /* an error response was already queued */
    int too_large;
} intake;

/* ---- fault specs: KIND[:key=value,...] ----------------------------------- */

int rs_fault_parse(const char *spec, rs_fault *f, size_t *coord)
{
    memset(f, 0, sizeof *f);
    *coord = 0;
    f->secs = 30;
    char buf[512];
    if (strlen(spec) >= sizeof buf)
        return -1;
    strcpy(buf, spec);
    char *params = strchr(buf, ':');
    if (params)
        *params++ = '\0';
    if (!strcmp(buf, "503"))
        f->kind = RS_FAULT_503;
    else if (!strcmp(buf, "stall"))
        f->kind = RS_FAULT_STALL;
    else if (!strcmp(buf, "close-mid-response"))
        f->kind = RS_FAULT_CLOSE;
    else
        return -1;
    for (char *save = NULL, *kv = params ? strtok_r(params, ",", &save) : NULL; kv;
         kv = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(kv, '=');
        if (!eq)
            return -1;
        *eq++ = '\0';
        char *end = NULL;
        if (!strcmp(kv, "path")) {
            if (strlen(eq) >= sizeof f->path || eq[0] != '/')
                return -1;
            strcpy(f->path, eq);
        } else if (!strcmp(kv, "after")) {
            f->after = strtoul(eq, &end, 10);
        } else if (!strcmp(kv, "count")) {
            f->count = strtoul(eq, &end, 10);
        } else if (!strcmp(kv, "secs")) {
            f->secs = strtod(eq, &end);
            if (!(f->secs >= 0) || f->secs > RS_MAX_SLEEP)
                return -1;
        } else if (!strcmp(kv, "coord")) {
            unsigned long c = strtoul(eq, &end, 10);
            if (c >= RS_MAX_COORDINATORS)
                return -1;
            *coord = (size_t)c + 1;
        } else {
            return -1;
        }
        if (end && (*end || end == eq))
            return -1;
    }
    return 0;
}

/* Which fault (if any) applies to this request; counts it. */
static rs_fault_kind fault_for(rs_coord *co, const rs_request *req, double *secs)
{
    rs_fault_kind kind = RS_FAULT_NONE;
    pthread_mutex_lock(&co->fault_mu);
    for (size_t i = 0; i < co->nfaults; i++) {
        rs_fault *f = &co->faults[i];
        if (f->path[0] && strncmp(req->path, f->path, strlen(f->path)) != 0)
            continue;
        f->seen++;
        if (f->seen <= f->after || (f->count && f->fired >= f->count))
            continue;
        f->fired++;
        kind = f->kind;
        *secs = f->secs;
        break;
    }
    pthread_mutex_unlock(&co->fault_mu);
    return kind;
}

static void log_request(rs_coord *co, const rs_request *req, int status)
{
    pthread_mutex_lock(&co->fault_mu);
    rs_logent *e = &co->log[co->log_next];
    memset(e, 0, sizeof *e);
    snprintf(e->method, sizeof e->method, "%s", req->method_name ? req->method_name : "");
    snprintf(e->db, sizeof e->db, "%s", req->dbname ? req->dbname : "");
    snprintf(e->path, sizeof e->path, "%s", req->path ? req->path : "");
    const char *a = rs_header(req, "x-arango-async"), *t = rs_header(req, "x-arango-trx-id");
    const char *auth = rs_header(req, "authorization");
    snprintf(e->async, sizeof e->async, "%s", a ? a : "");
    snprintf(e->trx, sizeof e->trx, "%s", t ? t : "");
    snprintf(e->auth, sizeof e->auth, "%s", !auth ? "none" : !strncasecmp(auth, "basic ", 6) ? "basic"
                                          : !strncasecmp(auth, "bearer ", 7) ? "bearer" : "other");
    e->status = status;
    co->log_next = (co->log_next + 1) % RS_REQLOG_SIZE;
    if (co->log_n < RS_REQLOG_SIZE)
        co->log_n++;
    pthread_mutex_unlock(&co->fault_mu);
}

/* ---- routing ---------------------------------------------------------------- */

static int seg_is(const rs_request *req, size_t i, const char *s)
{
    return req->nsegs > i && !strcmp(req->segs[i], s);
}

void rs_dispatch(rs_request *req, rs_response *res)
{
    if (seg_is(req, 0, "_api")) {
        const char *what = req->nsegs > 1 ? req->segs[1] : "";
        if (!strcmp(what, "version"))
            rs_api_version(req, res);
        else if (!strcmp(what, "database"))
            rs_api_database(req, res);
        else if (!strcmp(what, "collection"))
            rs_api_collection(req, res);
        else if (!strcmp(what, "document"))
            rs_api_document(req, res);
        else if (!strcmp(what, "cursor"))
            rs_api_cursor(req, res);
        else if (!strcmp(what, "query"))
            rs_api_query(req, res);
        else if (!strcmp(what, "transaction"))
            rs_api_transaction(req, res);
        else if (!strcmp(what, "job"))
            rs_api_job(req, res);
        else if (!strcmp(what, "cluster"))
            rs_api_cluster(req, res);
        else if (!strcmp(what, "engine"))
            rs_api_admin(req, res);
        else
            rs_response_error(res, 404, 404, "unknown path '%s'", req->path);
    } else if (seg_is(req, 0, "_admin") && seg_is(req, 1, "job")) {
        rs_api_job(req, res);
    } else if (seg_is(req, 0, "_admin")) {
        rs_api_admin(req, res);
    } else if (seg_is(req, 0, "_open") && seg_is(req, 1, "auth") && req->nsegs == 3 && seg_is(req, 2, "renew")) {
        rs_api_auth_renew(req, res);
    } else {
        rs_response_error(res, 404, 404, "unknown path '%s'", req->path);
    }
}

/* Authentication, database check, async mode, then the route. */
static void process(rs_request *req, rs_response *res)
{
    rs_server *srv = req->coord->srv;
    if (seg_is(req, 0, "_refserver")) {
        rs_api_refserver(req, res);
        return;
    }
    if (req->method == RS_OPTIONS) {
        rs_response_text(res, 200, RS_TEXT_CT, "");
        return;
    }
    if (seg_is(req, 0, "_open") && seg_is(req, 1, "auth") && req->nsegs == 2) {
        rs_api_auth(req, res);
        return;
    }
    if (rs_check_auth(req, res) != 0)
        return;
    pthread_mutex_lock(&srv->store_mu);
    int db_exists = rs_db_find(srv, req->dbname) != NULL;
    pthread_mutex_unlock(&srv->store_mu);
    if (!db_exists) {
        rs_response_error(res, 404, 1228, NULL);
        return;
    }
    const char *async = rs_header(req, "x-arango-async");
    int is_job_api = (seg_is(req, 0, "_api") || seg_is(req, 0, "_admin")) && seg_is(req, 1, "job");
    if (async && !is_job_api && (!strcasecmp(async, "store") || rs_parse_bool(async, 0))) {
        rs_request *copy = rs_request_clone(req);
        if (!copy) {
            rs_response_error(res, 500, 4, "out of memory");
            return;
        }
        rs_jobs_submit(req->coord, copy, !strcasecmp(async, "store"), res);
        return;
    }
    rs_dispatch(req, res);
}

/* ---- libmicrohttpd -------------------------------------------------------- */

typedef struct kv_list {
    rs_kv *items;
    size_t n, cap;
    int failed;
    size_t bytes;
} kv_list;

static enum MHD_Result collect_kv(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    kv_list *l = cls;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        rs_kv *items = realloc(l->items, cap * sizeof *items);
        if (!items) {
            l->failed = 1;
            return MHD_NO;
        }
        l->items = items;
        l->cap = cap;
    }
    char *k = strdup(key), *v = value ? strdup(value) : NULL;
    if (!k || (value && !v)) {
        free(k);
        free(v);
        l->failed = 1;
        return MHD_NO;
    }
    for (char *p = k; kind == MHD_HEADER_KIND && *p; p++)
        *p = (char)tolower((unsigned char)*p);
    l->items[l->n].name = k;
    l->items[l->n].value = v;
    l->n++;
    l->bytes += strlen(key) + (value ? strlen(value) : 0) + 2;
    return MHD_YES;
}

static rs_method method_of(const char *m)
{
    static const struct { const char *name; rs_method m; } tab[] = {
        { "GET", RS_GET }, { "POST", RS_POST }, { "PUT", RS_PUT }, { "PATCH", RS_PATCH },
        { "DELETE", RS_DELETE }, { "HEAD", RS_HEAD }, { "OPTIONS", RS_OPTIONS },
    };
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
        if (!strcmp(m, tab[i].name))
            return tab[i].m;
    return RS_OTHER;
}

/* Split "/_db/{name}/rest" into database and path, and the path into
 * components.  Returns -1 when there are too many components. */
static int split_url(rs_request *req, const char *url)
{
    const char *rest = url;
    char *db = NULL;
    if (!strncmp(url, "/_db/", 5)) {
        const char *name = url + 5, *slash = strchr(name, '/');
        size_t n = slash ? (size_t)(slash - name) : strlen(name);
        db = rs_strndup(name, n);
        rest = slash ? slash : "/";
    } else {
        db = strdup("_system");
    }
    req->dbname = db;
    req->path = strdup(*rest ? rest : "/");
    if (!req->dbname || !req->path)
        return -1;
    const char *p = req->path;
    while (*p) {
        while (*p == '/')
            p++;
        if (!*p)
            break;
        const char *end = strchr(p, '/');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (req->nsegs >= RS_MAX_SEGS)
            return -1;
        if (!(req->segs[req->nsegs] = rs_strndup(p, n)))
            return -1;
        req->nsegs++;
        p += n;
    }
    return 0;
}

typedef struct close_ctx {
    char *body;
    size_t len, sent;
} close_ctx;

/* close-mid-response: promise the whole body, send half, then fail. */
static ssize_t close_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    close_ctx *c = cls;
    size_t half = c->len / 2;
    if (pos >= half)
        return MHD_CONTENT_READER_END_WITH_ERROR;
    size_t n = half - (size_t)pos;
    if (n > max)
        n = max;
    memcpy(buf, c->body + pos, n);
    return (ssize_t)n;
}

static void close_free(void *cls)
{
    close_ctx *c = cls;
    free(c->body);
    free(c);
}

static enum MHD_Result send_response(struct MHD_Connection *conn, rs_response *res, int truncate)
{
    struct MHD_Response *r = NULL;
    if (truncate && res->body_len <= 1)
        return MHD_NO; /* nothing to cut in half: close without a response */
    if (truncate) {
        close_ctx *c = calloc(1, sizeof *c);
        if (c) {
            c->body = res->body;
            c->len = res->body_len;
            res->body = NULL;
            r = MHD_create_response_from_callback(c->len, 4096, close_reader, c, close_free);
            if (!r)
                close_free(c);
        }
    } else {
        r = MHD_create_response_from_buffer(res->body_len, res->body ? res->body : (void *)"",
                                            res->body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
        if (r)
            res->body = NULL; /* libmicrohttpd frees it */
    }
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Server", "ArangoDB");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "x-arango-queue-time-seconds", "0.000000");
    if (res->content_type)
        MHD_add_response_header(r, "Content-Type", res->content_type);
    for (size_t i = 0; i < res->n_headers; i++)
        MHD_add_response_header(r, res->headers[i].name, res->headers[i].value);
    enum MHD_Result ok = MHD_queue_response(conn, (unsigned)(res->status ? res->status : 500), r);
    MHD_destroy_response(r);
    return ok;
}

static enum MHD_Result early_error(struct MHD_Connection *conn, intake *in, int status, int errnum, const char *msg)
{
    rs_response res;
    rs_response_init(&res);
    rs_response_error(&res, status, errnum, "%s", msg);
    in->early = 1;
    enum MHD_Result ok = send_response(conn, &res, 0);
    rs_response_free(&res);
    return ok;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
    (void)version;
    rs_coord *co = cls;
    rs_server *srv = co->srv;
    intake *in = *con_cls;
    if (!in) {
        in = calloc(1, sizeof *in);
        if (!in)
            return MHD_NO;
        *con_cls = in;
        if (strlen(url) > RS_URL_MAX)
            return early_error(conn, in, 414, 414, "request-URI too long");
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
        if (cl && strtoull(cl, NULL, 10) > srv->cfg.max_body) {
            char msg[128];
            snprintf(msg, sizeof msg, "request body of %s bytes exceeds the limit of %zu", cl, srv->cfg.max_body);
            return early_error(conn, in, 413, 413, msg);
        }
        const char *te = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Transfer-Encoding");
        if (te && strcasestr(te, "chunked"))
            return early_error(conn, in, 411, 411, "chunked request bodies are not supported, "
                               "send Content-Length");
        return MHD_YES;
    }
    if (*upload_size) {
        if (!in->early && !in->too_large) {
            if (in->len + *upload_size > srv->cfg.max_body) {
                in->too_large = 1;
            } else {
                if (in->len + *upload_size + 1 > in->cap) {
                    size_t cap = in->cap ? in->cap : 4096;
                    while (cap < in->len + *upload_size + 1)
                        cap *= 2;
                    char *b = realloc(in->body, cap);
                    if (!b)
                        return MHD_NO;
                    in->body = b;
                    in->cap = cap;
                }
                memcpy(in->body + in->len, upload, *upload_size);
                in->len += *upload_size;
                in->body[in->len] = '\0';
            }
        }
        *upload_size = 0;
        return MHD_YES;
    }
    if (in->early)
        return MHD_YES;
    if (in->too_large)
        return early_error(conn, in, 413, 413, "request body exceeds the limit");

    rs_request req;
    memset(&req, 0, sizeof req);
    rs_exec_init(&req.exec);
    req.coord = co;
    req.method = method_of(method);
    req.method_name = strdup(method);
    req.body = in->body;
    req.body_len = in->len;
    in->body = NULL;
    kv_list args = { 0 }, headers = { 0 };
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_kv, &args);
    MHD_get_connection_values(conn, MHD_HEADER_KIND, collect_kv, &headers);
    req.args = args.items;
    req.nargs = args.n;
    req.headers = headers.items;
    req.nheaders = headers.n;

    rs_response res;
    rs_response_init(&res);
    int truncate = 0;
    if (!req.method_name || args.failed || headers.failed) {
        rs_response_error(&res, 500, 4, "out of memory");
    } else if (strlen(url) + args.bytes > RS_URL_MAX) {
        rs_response_error(&res, 414, 414, "request-URI too long");
    } else if (split_url(&req, url) != 0) {
        rs_response_error(&res, 404, 404, "unknown path '%s'", url);
    } else if (req.method == RS_OTHER) {
        rs_response_error(&res, 405, 405, "method not supported: %s", method);
    } else {
        double secs = 0;
        rs_fault_kind fault = seg_is(&req, 0, "_refserver") ? RS_FAULT_NONE : fault_for(co, &req, &secs);
        if (fault == RS_FAULT_503) {
            rs_response_error(&res, 503, 503, "service unavailable (injected fault)");
        } else {
            if (fault == RS_FAULT_STALL)
                rs_exec_sleep(srv, &req.exec, secs, 0);
            if (!atomic_load(&srv->stopping))
                process(&req, &res);
            else
                rs_response_error(&res, 503, 30, "shutdown in progress");
            truncate = fault == RS_FAULT_CLOSE;
        }
    }
    log_request(co, &req, res.status);
    rs_log(srv, "%s %s%s -> %d", method, url, truncate ? " (truncated)" : "", res.status);
    enum MHD_Result ok = send_response(conn, &res, truncate);
    rs_response_free(&res);
    rs_request_clear(&req);
    return ok;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode why)
{
    (void)cls;
    (void)conn;
    (void)why;
    intake *in = *con_cls;
    if (in) {
        free(in->body);
        free(in);
        *con_cls = NULL;
    }
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    rs_coord *co = cls;
    if (!co->srv->cfg.verbose)
        return;
    fputs("arango-refserver: libmicrohttpd: ", stderr);
    vfprintf(stderr, fmt, ap);
}

/* Our own listening socket, so every coordinator's port and endpoint text
 * (which request threads of all coordinators read) is set before any
 * libmicrohttpd thread starts. */
int rs_http_listen(rs_coord *co)
{
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons((uint16_t)co->port);
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (lfd < 0)
        return -1;
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    socklen_t alen = sizeof addr;
    if (bind(lfd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(lfd, 128) != 0 ||
        getsockname(lfd, (struct sockaddr *)&addr, &alen) != 0) {
        close(lfd);
        return -1;
    }
    co->lfd = lfd;
    co->port = ntohs(addr.sin_port);
    snprintf(co->endpoint, sizeof co->endpoint, "%s://127.0.0.1:%u",
             co->srv->cfg.tls_cert ? "ssl" : "tcp", co->port);
    return 0;
}

int rs_http_start(rs_coord *co)
{
    rs_server *srv = co->srv;
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG |
                     MHD_USE_ITC;
    int tls = srv->cfg.tls_cert != NULL;
    if (tls)
        flags |= MHD_USE_TLS;
    /* Without TLS the key/cert options are skipped: MHD_OPTION_ARRAY with an
     * empty list stands in for them. */
    struct MHD_OptionItem tls_opts[] = {
        { MHD_OPTION_HTTPS_MEM_KEY, 0, srv->cfg.tls_key },
        { MHD_OPTION_HTTPS_MEM_CERT, 0, srv->cfg.tls_cert },
        { MHD_OPTION_END, 0, NULL },
    };
    struct MHD_OptionItem no_opts[] = { { MHD_OPTION_END, 0, NULL } };
    co->daemon = MHD_start_daemon(
        flags, (uint16_t)co->port, NULL, NULL, on_request, co,
        MHD_OPTION_ARRAY, tls ? tls_opts : no_opts,
        MHD_OPTION_LISTEN_SOCKET, co->lfd,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, co,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(RS_URL_MAX * 4),
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)256,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)300,
        MHD_OPTION_EXTERNAL_LOGGER, mhd_log, co,
        MHD_OPTION_END);
    if (!co->daemon)
        return -1;   /* main closes co->lfd */
    co->lfd = -1;    /* the daemon's now */
    rs_log(srv, "coordinator %zu listening on 127.0.0.1:%u", co->index, co->port);
    return 0;
}

void rs_http_stop(rs_coord *co)
{
    if (co->daemon) {
        MHD_stop_daemon(co->daemon);
        co->daemon = NULL;
    }
}
