/* api_cursor.c — /_api/cursor (create, next batch, retry a batch, delete,
 * ttl expiry) and /_api/query (running queries, kill, tracking stubs). */
#include "rs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- running queries (server-wide, under store_mu) ------------------------- */

static rs_query *query_register(rs_request *req, const char *query, json_object *binds, int stream)
{
    rs_server *srv = req->coord->srv;
    rs_query *q = calloc(1, sizeof *q);
    if (!q)
        return NULL;
    snprintf(q->id, sizeof q->id, "%llu", (unsigned long long)rs_next_tick(srv));
    q->dbname = strdup(req->dbname);
    q->user = strdup(req->user ? req->user : "");
    q->query = strdup(query);
    q->bind_json = binds ? rs_json_string(binds, NULL) : strdup("{}");
    q->started = rs_now();
    q->stream = stream;
    q->exec = &req->exec;
    if (!q->dbname || !q->user || !q->query || !q->bind_json) {
        free(q->dbname);
        free(q->user);
        free(q->query);
        free(q->bind_json);
        free(q);
        return NULL;
    }
    pthread_mutex_lock(&srv->store_mu);
    if (srv->nqueries >= RS_MAX_QUERIES) {
        pthread_mutex_unlock(&srv->store_mu);
        free(q->dbname);
        free(q->user);
        free(q->query);
        free(q->bind_json);
        free(q);
        return NULL;
    }
    q->next = srv->queries;
    srv->queries = q;
    srv->nqueries++;
    pthread_mutex_unlock(&srv->store_mu);
    return q;
}

static void query_unregister(rs_server *srv, rs_query *q)
{
    pthread_mutex_lock(&srv->store_mu);
    for (rs_query **pp = &srv->queries; *pp; pp = &(*pp)->next) {
        if (*pp == q) {
            *pp = q->next;
            srv->nqueries--;
            break;
        }
    }
    pthread_mutex_unlock(&srv->store_mu);
    free(q->dbname);
    free(q->user);
    free(q->query);
    free(q->bind_json);
    free(q);
}

/* ---- cursors (per coordinator) ---------------------------------------------- */

static void cursor_free(rs_cursor *c)
{
    json_object_put(c->rows);
    json_object_put(c->extra);
    free(c->dbname);
    free(c);
}

static void sweep_locked(rs_cursors *reg)
{
    double now = rs_now();
    rs_cursor **pp = &reg->head;
    while (*pp) {
        rs_cursor *c = *pp;
        if (!c->busy && c->expires < now) {
            *pp = c->next;
            reg->n--;
            cursor_free(c);
        } else {
            pp = &c->next;
        }
    }
}

void rs_cursors_sweep(rs_coord *co)
{
    pthread_mutex_lock(&co->cursors.mu);
    sweep_locked(&co->cursors);
    pthread_mutex_unlock(&co->cursors.mu);
}

void rs_cursors_free(rs_coord *co)
{
    rs_cursor *c = co->cursors.head;
    while (c) {
        rs_cursor *next = c->next;
        cursor_free(c);
        c = next;
    }
    co->cursors.head = NULL;
    co->cursors.n = 0;
}

static json_object *stats_object(const rs_aql_stats *st, double elapsed)
{
    json_object *s = json_object_new_object();
    json_object_object_add(s, "writesExecuted", json_object_new_int64((int64_t)st->writes_executed));
    json_object_object_add(s, "writesIgnored", json_object_new_int64((int64_t)st->writes_ignored));
    json_object_object_add(s, "documentLookups", json_object_new_int(0));
    json_object_object_add(s, "seeks", json_object_new_int(0));
    json_object_object_add(s, "scannedFull", json_object_new_int64((int64_t)st->scanned_full));
    json_object_object_add(s, "scannedIndex", json_object_new_int(0));
    json_object_object_add(s, "cursorsCreated", json_object_new_int(0));
    json_object_object_add(s, "cursorsRearmed", json_object_new_int(0));
    json_object_object_add(s, "cacheHits", json_object_new_int(0));
    json_object_object_add(s, "cacheMisses", json_object_new_int(0));
    json_object_object_add(s, "filtered", json_object_new_int64((int64_t)st->filtered));
    json_object_object_add(s, "httpRequests", json_object_new_int(0));
    if (st->has_full_count)
        json_object_object_add(s, "fullCount", json_object_new_int64((int64_t)st->full_count));
    json_object_object_add(s, "executionTime", json_object_new_double(elapsed));
    json_object_object_add(s, "peakMemoryUsage", json_object_new_int(32768));
    json_object_object_add(s, "intermediateCommits", json_object_new_int(0));
    json_object *extra = json_object_new_object();
    json_object_object_add(extra, "warnings", json_object_new_array());
    json_object_object_add(extra, "stats", s);
    return extra;
}

/* One batch of a result: rows[start, start+len) (shared references). */
static json_object *batch_body(json_object *rows, size_t start, size_t len, int has_more, const char *id,
                               int has_count, size_t count, json_object *extra, unsigned long next_batch,
                               int code)
{
    json_object *o = json_object_new_object(), *arr = json_object_new_array_ext((int)(len ? len : 1));
    for (size_t i = 0; i < len; i++)
        json_object_array_add(arr, json_object_get(json_object_array_get_idx(rows, start + i)));
    json_object_object_add(o, "result", arr);
    json_object_object_add(o, "hasMore", json_object_new_boolean(has_more));
    if (id)
        json_object_object_add(o, "id", json_object_new_string(id));
    if (has_count)
        json_object_object_add(o, "count", json_object_new_int64((int64_t)count));
    if (extra)
        json_object_object_add(o, "extra", json_object_get(extra));
    json_object_object_add(o, "cached", json_object_new_boolean(0));
    if (has_more) {
        char nb[24];
        snprintf(nb, sizeof nb, "%lu", next_batch);
        json_object_object_add(o, "nextBatchId", json_object_new_string(nb));
    }
    json_object_object_add(o, "error", json_object_new_boolean(0));
    json_object_object_add(o, "code", json_object_new_int(code));
    return o;
}

static int get_opt(json_object *o, const char *name, json_object **v)
{
    return o && json_object_object_get_ex(o, name, v) && *v;
}

static void create(rs_request *req, rs_response *res)
{
    rs_server *srv = req->coord->srv;
    rs_coord *co = req->coord;
    json_object *body = rs_parse_json(req->body, req->body_len), *v = NULL, *options = NULL, *binds = NULL;
    rs_aql *aql = NULL;
    json_object *rows = NULL, *extra = NULL;
    if (!body || !json_object_is_type(body, json_type_object)) {
        rs_response_error(res, 400, 600, "invalid JSON object in request body");
        goto out;
    }
    if (!get_opt(body, "query", &v) || !json_object_is_type(v, json_type_string) || json_object_get_string_len(v) == 0) {
        rs_response_error(res, 400, 1502, "query is empty");
        goto out;
    }
    const char *query = json_object_get_string(v);
    if (get_opt(body, "bindVars", &binds) && !json_object_is_type(binds, json_type_object)) {
        rs_response_error(res, 400, 1550, "invalid structure of bind parameters");
        goto out;
    }
    size_t batch = 1000;
    if (get_opt(body, "batchSize", &v)) {
        int64_t b = json_object_get_int64(v);
        if (!(json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)) || b <= 0) {
            rs_response_error(res, 400, 10, "expecting non-zero value for 'batchSize'");
            goto out;
        }
        batch = b > (int64_t)RS_MAX_ROWS ? RS_MAX_ROWS : (size_t)b;
    }
    int want_count = get_opt(body, "count", &v) && json_object_get_boolean(v);
    double ttl = srv->cfg.cursor_ttl;
    if (get_opt(body, "ttl", &v) && json_object_get_double(v) > 0)
        ttl = json_object_get_double(v);
    get_opt(body, "options", &options);
    int stream = get_opt(options, "stream", &v) && json_object_get_boolean(v);
    int full_count = get_opt(options, "fullCount", &v) && json_object_get_boolean(v);
    int allow_retry = get_opt(options, "allowRetry", &v) && json_object_get_boolean(v);
    double max_runtime = get_opt(options, "maxRuntime", &v) ? json_object_get_double(v) : 0;

    rs_aql_error err = { 0 };
    aql = rs_aql_parse(query, binds, &err);
    if (!aql) {
        rs_response_error(res, err.status, err.errnum, "%s", err.msg);
        goto out;
    }
    /* an unknown or finished x-arango-trx-id fails even a query that reads
     * no collection */
    pthread_mutex_lock(&srv->store_mu);
    rs_trx *trx = NULL;
    int trx_bad = rs_trx_resolve(req, &trx, res) != 0;
    pthread_mutex_unlock(&srv->store_mu);
    if (trx_bad)
        goto out;
    rs_query *running = query_register(req, query, binds, stream);
    if (!running) {
        rs_response_error(res, 503, 32, "resource limit exceeded: more than %u running queries", RS_MAX_QUERIES);
        goto out;
    }
    double start = rs_now();
    rs_aql_stats stats;
    rows = rs_aql_execute(aql, req, max_runtime > 0 ? start + max_runtime : 0, full_count, &stats, &err);
    query_unregister(srv, running);
    if (!rows) {
        rs_response_error(res, err.status, err.errnum, "%s", err.msg);
        goto out;
    }
    extra = stats_object(&stats, rs_now() - start);
    size_t total = json_object_array_length(rows);
    size_t first = total < batch ? total : batch;
    int has_more = total > first;
    char id[24];
    rs_cursor *cur = NULL;
    if (has_more) {
        cur = calloc(1, sizeof *cur);
        if (!cur || !(cur->dbname = strdup(req->dbname))) {
            free(cur);
            rs_response_error(res, 500, 4, "out of memory");
            goto out;
        }
        snprintf(id, sizeof id, "%llu", (unsigned long long)rs_next_tick(srv));
        memcpy(cur->id, id, sizeof id);
        cur->pos = first;
        cur->last_start = 0;
        cur->last_len = first;
        cur->batch_size = batch;
        cur->batch_id = 1;
        cur->has_count = want_count && !stream;
        cur->count = total;
        cur->stream = stream;
        cur->allow_retry = allow_retry;
        cur->ttl = ttl;
        cur->expires = rs_now() + ttl;
    }
    json_object *reply = batch_body(rows, 0, first, has_more, has_more ? id : NULL, want_count && !stream, total,
                                    !stream || !has_more ? extra : NULL, 2, 201);
    rs_response_json(res, 201, reply); /* serialized before the rows move to the registry */
    if (cur) {
        pthread_mutex_lock(&co->cursors.mu);
        sweep_locked(&co->cursors);
        if (co->cursors.n >= RS_MAX_CURSORS) {
            pthread_mutex_unlock(&co->cursors.mu);
            cursor_free(cur);
            rs_response_free(res);
            rs_response_error(res, 500, 32, "resource limit exceeded: more than %u cursors", RS_MAX_CURSORS);
            goto out;
        }
        cur->rows = rows;
        cur->extra = stream ? extra : NULL;
        rows = NULL;
        if (stream)
            extra = NULL;
        cur->next = co->cursors.head;
        co->cursors.head = cur;
        co->cursors.n++;
        pthread_mutex_unlock(&co->cursors.mu);
    }
out:
    json_object_put(rows);
    json_object_put(extra);
    rs_aql_free(aql);
    json_object_put(body);
}

static int parse_ulong(const char *s, unsigned long *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (!*s || errno || *end)
        return -1;
    *out = v;
    return 0;
}

static void next_batch(rs_request *req, rs_response *res)
{
    rs_cursors *reg = &req->coord->cursors;
    const char *id = req->segs[2];
    unsigned long want = 0;
    if (req->nsegs == 4 && parse_ulong(req->segs[3], &want) != 0) {
        rs_response_error(res, 400, 10, "expecting a numeric batch id, got '%s'", req->segs[3]);
        return;
    }
    pthread_mutex_lock(&reg->mu);
    sweep_locked(reg);
    rs_cursor **pp = &reg->head, *c = NULL;
    for (; *pp; pp = &(*pp)->next) {
        if (!strcmp((*pp)->id, id) && !strcmp((*pp)->dbname, req->dbname)) {
            c = *pp;
            break;
        }
    }
    if (!c) {
        pthread_mutex_unlock(&reg->mu);
        rs_response_error(res, 404, 1600, "cursor not found: disposed or unknown cursor");
        return;
    }
    size_t total = json_object_array_length(c->rows);
    size_t start, len;
    if (req->nsegs == 4 && want == c->batch_id) {
        if (!c->allow_retry) {
            pthread_mutex_unlock(&reg->mu);
            rs_response_error(res, 400, 10, "batch %lu of cursor %s cannot be requested again without "
                              "the allowRetry option", want, id);
            return;
        }
        start = c->last_start;
        len = c->last_len;
    } else if (req->nsegs == 4 && want != c->batch_id + 1) {
        pthread_mutex_unlock(&reg->mu);
        rs_response_error(res, 404, 1600, "batch %lu of cursor %s not found (current batch is %lu)", want, id,
                          c->batch_id);
        return;
    } else {
        start = c->pos;
        len = total - start < c->batch_size ? total - start : c->batch_size;
        c->pos = start + len;
        c->last_start = start;
        c->last_len = len;
        c->batch_id++;
    }
    int has_more = start + len < total;
    json_object *reply = batch_body(c->rows, start, len, has_more, c->id, c->has_count, c->count,
                                    !has_more ? c->extra : NULL, c->batch_id + 1, 200);
    rs_response_json(res, 200, reply);
    if (!has_more && !c->allow_retry) {
        *pp = c->next;
        reg->n--;
        cursor_free(c);
    } else {
        c->expires = rs_now() + c->ttl;
    }
    pthread_mutex_unlock(&reg->mu);
}

static void delete_cursor(rs_request *req, rs_response *res)
{
    rs_cursors *reg = &req->coord->cursors;
    pthread_mutex_lock(&reg->mu);
    sweep_locked(reg);
    for (rs_cursor **pp = &reg->head; *pp; pp = &(*pp)->next) {
        rs_cursor *c = *pp;
        if (!strcmp(c->id, req->segs[2]) && !strcmp(c->dbname, req->dbname)) {
            *pp = c->next;
            reg->n--;
            cursor_free(c);
            pthread_mutex_unlock(&reg->mu);
            json_object *o = json_object_new_object();
            json_object_object_add(o, "id", json_object_new_string(req->segs[2]));
            json_object_object_add(o, "error", json_object_new_boolean(0));
            json_object_object_add(o, "code", json_object_new_int(202));
            rs_response_json(res, 202, o);
            return;
        }
    }
    pthread_mutex_unlock(&reg->mu);
    rs_response_error(res, 404, 1600, "cursor not found: disposed or unknown cursor");
}

void rs_api_cursor(rs_request *req, rs_response *res)
{
    /* segs: "_api" "cursor" [id [batch]] */
    if (req->nsegs == 2 && req->method == RS_POST)
        create(req, res);
    else if ((req->nsegs == 3 && (req->method == RS_POST || req->method == RS_PUT)) ||
             (req->nsegs == 4 && req->method == RS_POST))
        next_batch(req, res);
    else if (req->nsegs == 3 && req->method == RS_DELETE)
        delete_cursor(req, res);
    else if (req->nsegs <= 4)
        rs_response_error(res, 405, 405, NULL);
    else
        rs_response_error(res, 404, 404, "unknown path '%s'", req->path);
}

/* ---- /_api/query ------------------------------------------------------------ */

static void list_current(rs_request *req, rs_response *res)
{
    rs_server *srv = req->coord->srv;
    json_object *arr = json_object_new_array();
    double now = rs_now();
    pthread_mutex_lock(&srv->store_mu);
    for (rs_query *q = srv->queries; q; q = q->next) {
        if (strcmp(q->dbname, req->dbname) != 0)
            continue;
        char started[32];
        rs_iso_time(q->started, started);
        json_object *e = json_object_new_object();
        json_object_object_add(e, "id", json_object_new_string(q->id));
        json_object_object_add(e, "database", json_object_new_string(q->dbname));
        json_object_object_add(e, "user", json_object_new_string(q->user));
        json_object_object_add(e, "query", json_object_new_string(q->query));
        json_object *bv = rs_parse_json(q->bind_json, strlen(q->bind_json));
        json_object_object_add(e, "bindVars", bv ? bv : json_object_new_object());
        json_object_object_add(e, "started", json_object_new_string(started));
        json_object_object_add(e, "runTime", json_object_new_double(now - q->started));
        json_object_object_add(e, "peakMemoryUsage", json_object_new_int(32768));
        json_object_object_add(e, "state", json_object_new_string("executing"));
        json_object_object_add(e, "stream", json_object_new_boolean(q->stream));
        json_object_array_add(arr, e);
    }
    pthread_mutex_unlock(&srv->store_mu);
    rs_response_json(res, 200, arr);
}

static void kill_query(rs_request *req, rs_response *res)
{
    rs_server *srv = req->coord->srv;
    int found = 0;
    pthread_mutex_lock(&srv->store_mu);
    for (rs_query *q = srv->queries; q; q = q->next) {
        if (!strcmp(q->id, req->segs[2]) && !strcmp(q->dbname, req->dbname)) {
            rs_exec_signal(q->exec, 1, 0);
            found = 1;
            break;
        }
    }
    pthread_mutex_unlock(&srv->store_mu);
    if (!found) {
        rs_response_error(res, 404, 1591, "query ID not found: %s", req->segs[2]);
        return;
    }
    json_object *o = json_object_new_object();
    json_object_object_add(o, "error", json_object_new_boolean(0));
    json_object_object_add(o, "code", json_object_new_int(200));
    rs_response_json(res, 200, o);
}

static void tracking(rs_request *req, rs_response *res)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "error", json_object_new_boolean(0));
    json_object_object_add(o, "code", json_object_new_int(200));
    json_object_object_add(o, "enabled", json_object_new_boolean(1));
    json_object_object_add(o, "trackSlowQueries", json_object_new_boolean(1));
    json_object_object_add(o, "trackBindVars", json_object_new_boolean(1));
    json_object_object_add(o, "maxSlowQueries", json_object_new_int(64));
    json_object_object_add(o, "slowQueryThreshold", json_object_new_double(10));
    json_object_object_add(o, "slowStreamingQueryThreshold", json_object_new_double(10));
    json_object_object_add(o, "maxQueryStringLength", json_object_new_int(4096));
    if (req->method == RS_PUT) {
        json_object *body = rs_parse_json(req->body, req->body_len);
        if (!body || !json_object_is_type(body, json_type_object)) {
            json_object_put(body);
            json_object_put(o);
            rs_response_error(res, 400, 600, NULL);
            return;
        }
        json_object_object_foreach(body, k, v) {
            if (json_object_object_get_ex(o, k, NULL) && strcmp(k, "error") && strcmp(k, "code"))
                json_object_object_add(o, k, json_object_get(v));
        }
        json_object_put(body);
    }
    rs_response_json(res, 200, o);
}

void rs_api_query(rs_request *req, rs_response *res)
{
    /* segs: "_api" "query" what */
    const char *what = req->nsegs == 3 ? req->segs[2] : NULL;
    if (!what) {
        rs_response_error(res, req->nsegs == 2 ? 501 : 404, req->nsegs == 2 ? 9 : 404, "%s",
                          req->nsegs == 2 ? "query parsing is not implemented by the reference server"
                                          : "unknown path");
    } else if (!strcmp(what, "current") && req->method == RS_GET) {
        list_current(req, res);
    } else if (!strcmp(what, "slow") && req->method == RS_GET) {
        rs_response_json(res, 200, json_object_new_array());
    } else if (!strcmp(what, "slow") && req->method == RS_DELETE) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "error", json_object_new_boolean(0));
        json_object_object_add(o, "code", json_object_new_int(200));
        rs_response_json(res, 200, o);
    } else if (!strcmp(what, "properties") && (req->method == RS_GET || req->method == RS_PUT)) {
        tracking(req, res);
    } else if (req->method == RS_DELETE && strcmp(what, "current") && strcmp(what, "properties")) {
        kill_query(req, res);
    } else {
        rs_response_error(res, 405, 405, NULL);
    }
}
