/*
 * ArangoDB backend: op "query" — AQL through /_api/cursor, every batch
 * (gj__arango_cursor_drain, also used by op job.attach), and the server-side
 * clean-up of a query that did not run to its end: the cursor is deleted
 * when the row callback stops, the result passes max_result_size or the
 * next batch is cancelled or late; a query cancelled or late before its
 * first batch is killed.  The request returns as soon as its outcome is
 * known and leaves the clean-up to settle() (gj__arango_settle), which the
 * worker runs right after the job ended, within GJ__SETTLE_MS.
 */
#include "backend/arango/arango_internal.h"
#include "core/value_internal.h"

#include <stdlib.h>
#include <string.h>

/* How long a clean-up that could not be deferred may take. */
#define CLEANUP_MS GJ__SETTLE_MS

static void delete_cursor(gj_conn *c, const char *db, const char *id, int64_t deadline);

/* Delete the cursor in settle(), or now if that cannot be recorded. */
static void drop_cursor(gj_conn *c, const char *db, const char *id)
{
    if (!gj__arango_defer_cleanup(c, GJ__ARANGO_CLEANUP_CURSOR, db, id, NULL, 0))
        delete_cursor(c, db, id, gj__now_ms() + CLEANUP_MS);
}

static const char *const query_options[] = {
    "batchSize", "count", "ttl", "memoryLimit", "fullCount", "stream", "maxRuntime",
    "allowRetry", "trx", NULL
};

/* Copy option `key` into map `dst` when present (type already checked). */
static int copy_option(const gj_request *req, const char *key, gj_type type, gj_value *dst,
                       gj_error *err)
{
    const gj_value *v = gj_request_option(req, key);
    if (!v)
        return 0;
    gj_type t = gj_value_type(v);
    bool ok = t == type || (type == GJ_TFLOAT && t == GJ_TINT);
    if (!ok)
        return gj__error_set(err, GJ_EINVAL, "option %s: expected %s, got %s", key,
                             type == GJ_TFLOAT ? "a number" : gj_type_name(type),
                             gj_type_name(t));
    if (type == GJ_TINT) {
        int64_t i = 0;
        gj_value_int_get(v, &i);
        if (i <= 0 && strcmp(key, "memoryLimit") != 0)
            return gj__error_set(err, GJ_EINVAL, "option %s: must be positive, got %lld", key,
                                 (long long)i);
    }
    if (gj_value_map_put_str(dst, key, gj_value_ref(v)))
        return gj__error_set(err, GJ_ENOMEM, "out of memory building the query");
    return 0;
}

/* The body of a query without bind values and options: {"query":<text>},
 * the text written as a JSON string directly (no value is built). */
static int plain_body(const char *query, char **text, size_t *len, gj_error *err)
{
    int rc = gj__json_string_wrap("{\"query\":", query, strlen(query), "}", text, len);
    if (rc == GJ_EINVAL)
        return gj__error_set(err, rc, "op query: the AQL text is not valid UTF-8");
    return rc ? gj__error_set(err, rc, "out of memory building the query") : 0;
}

static int build_body(const gj_request *req, char **text, size_t *len, gj_error *err)
{
    const char *query = gj_request_text(req);
    if (!query || !*query)
        return gj__error_set(err, GJ_EINVAL, "op query: the AQL text is empty");
    if (gj_value_size(gj_request_params(req)) == 0 &&
        gj_value_size(gj_request_options(req)) == 0)
        return plain_body(query, text, len, err);
    gj_value *body = NULL, *opts = NULL;
    int rc = gj_value_new_map(&body, 8);
    if (!rc)
        rc = gj_value_new_map(&opts, 4);
    if (rc) {
        gj_value_unref(body);
        return gj__error_set(err, GJ_ENOMEM, "out of memory building the query");
    }
    gj_value *q = NULL;
    rc = gj_value_new_string(&q, query, strlen(query));
    if (rc || gj_value_map_put_str(body, "query", q)) {
        rc = gj__error_set(err, rc == GJ_EINVAL ? GJ_EINVAL : GJ_ENOMEM,
                           rc == GJ_EINVAL ? "op query: the AQL text is not valid UTF-8"
                                           : "out of memory building the query");
        goto out;
    }
    const gj_value *params = gj_request_params(req);
    if (gj_value_size(params) > 0 &&
        gj_value_map_put_str(body, "bindVars", gj_value_ref(params))) {
        rc = gj__error_set(err, GJ_ENOMEM, "out of memory building the query");
        goto out;
    }
    if ((rc = copy_option(req, "batchSize", GJ_TINT, body, err)) ||
        (rc = copy_option(req, "count", GJ_TBOOL, body, err)) ||
        (rc = copy_option(req, "ttl", GJ_TINT, body, err)) ||
        (rc = copy_option(req, "memoryLimit", GJ_TINT, body, err)) ||
        (rc = copy_option(req, "fullCount", GJ_TBOOL, opts, err)) ||
        (rc = copy_option(req, "stream", GJ_TBOOL, opts, err)) ||
        (rc = copy_option(req, "maxRuntime", GJ_TFLOAT, opts, err)) ||
        (rc = copy_option(req, "allowRetry", GJ_TBOOL, opts, err)))
        goto out;
    if (gj_value_size(opts) > 0) {
        rc = gj_value_map_put_str(body, "options", opts);
        opts = NULL;
        if (rc) {
            rc = gj__error_set(err, GJ_ENOMEM, "out of memory building the query");
            goto out;
        }
    }
    rc = gj__arango_value_to_text(body, text, len, err);
out:
    gj_value_unref(opts);
    gj_value_unref(body);
    return rc;
}

/* Meta `key` from the batch's member `key` (converted), when present. */
static int put_meta(gj_sink *sink, json_object *batch, const char *key, gj_error *err)
{
    json_object *v;
    if (!json_object_object_get_ex(batch, key, &v))
        return 0;
    gj_value *val = NULL;
    int rc = gj__arango_json_to_value(v, &val, err);
    if (rc)
        return rc;
    rc = gj__sink_meta(sink, key, val);
    return rc ? gj__error_set(err, rc, "out of memory for the result's metadata") : 0;
}

/* Meta `key` from member `key` of the converted `extra` map, when present:
 * the same value, shared (values are immutable), not converted again. */
static int put_meta_from(gj_sink *sink, const gj_value *extra, const char *key, gj_error *err)
{
    const gj_value *v = gj_value_map_get(extra, key);
    if (!v)
        return 0;
    int rc = gj__sink_meta(sink, key, gj_value_ref(v));
    return rc ? gj__error_set(err, rc, "out of memory for the result's metadata") : 0;
}

/* Feed one batch to the sink.  *more and id (NUL-terminated, up to idcap)
 * say whether and where to fetch the next. */
int gj__arango_cursor_take_batch(gj_conn *c, json_object *batch, gj_sink *sink, bool *more,
                                 char *id, size_t idcap, size_t *rows, gj_error *err)
{
    json_object *result = NULL, *v = NULL;
    if (!batch || !json_object_is_type(batch, json_type_object) ||
        !json_object_object_get_ex(batch, "result", &result) ||
        !json_object_is_type(result, json_type_array)) {
        c->broken = true;
        return gj__error_set(err, GJ_EPROTOCOL, "%s: cursor reply has no result array",
                             c->hostport);
    }
    *more = json_object_object_get_ex(batch, "hasMore", &v) && json_object_get_boolean(v);
    if (*more) {
        if (!json_object_object_get_ex(batch, "id", &v) ||
            !json_object_is_type(v, json_type_string) ||
            json_object_get_string_len(v) == 0 ||
            (size_t)json_object_get_string_len(v) >= idcap ||
            strspn(json_object_get_string(v), "0123456789") !=
                (size_t)json_object_get_string_len(v)) {
            c->broken = true;
            return gj__error_set(err, GJ_EPROTOCOL,
                                 "%s: cursor reply has hasMore but no usable id", c->hostport);
        }
        memcpy(id, json_object_get_string(v), (size_t)json_object_get_string_len(v) + 1);
    }
    int rc;
    if ((rc = put_meta(sink, batch, "count", err)) || (rc = put_meta(sink, batch, "cached", err)))
        return rc;
    if (json_object_object_get_ex(batch, "extra", &v) && json_object_is_type(v, json_type_object)) {
        /* extra is converted once; its stats and warnings are shared. */
        gj_value *extra = NULL;
        if ((rc = gj__arango_json_to_value(v, &extra, err)))
            return rc;
        gj_value *keep = gj_value_ref(extra);
        rc = gj__sink_meta(sink, "extra", extra);
        if (rc)
            rc = gj__error_set(err, rc, "out of memory for the result's metadata");
        if (!rc && !(rc = put_meta_from(sink, keep, "stats", err)))
            rc = put_meta_from(sink, keep, "warnings", err);
        gj_value_unref(keep);
        if (rc)
            return rc;
    }
    size_t n = json_object_array_length(result);
    for (size_t i = 0; i < n; i++) {
        gj_value *row = NULL;
        rc = gj__arango_json_to_value(json_object_array_get_idx(result, i), &row, err);
        if (rc)
            return gj__error_prefix(err, "%s: row %zu", c->hostport, *rows);
        rc = gj__sink_row(sink, row);
        if (rc == GJ_EABORTED)
            return rc;
        if (rc)
            return gj__error_set(err, rc, "out of memory for row %zu", *rows);
        (*rows)++;
    }
    return 0;
}

static void delete_cursor(gj_conn *c, const char *db, const char *id, int64_t deadline)
{
    char path[96];
    snprintf(path, sizeof path, "/_api/cursor/%s", id);
    gj__arango_call call = { "DELETE", db, path, NULL, 0, NULL, NULL, false, deadline };
    gj__arango_reply reply = { 0, NULL };
    gj_error *e = gj_error_new();
    int rc = gj__arango_perform(c, &call, &reply, e);
    gj__log(c->log, rc || reply.status >= 300 ? GJ_LOG_WARN : GJ_LOG_DEBUG,
            "arango %s: DELETE cursor %s: %s (HTTP %ld)", c->hostport, id,
            rc ? gj_error_message(e) : "done", reply.status);
    gj_error_free(e);
    gj__arango_reply_clear(&reply);
}

/* Kill the running query started by this job: find it in
 * /_api/query/current by its text and bind values (the youngest that
 * started no earlier than we sent it), then DELETE /_api/query/{id}. */
static void kill_query(gj_conn *c, const char *db, const char *text, const gj_value *bind,
                       double elapsed_s, int64_t deadline)
{
    gj__arango_call call = { "GET", db, "/_api/query/current", NULL, 0, NULL, NULL, true, deadline };
    gj__arango_reply reply = { 0, NULL };
    gj_error *e = gj_error_new();
    int rc = gj__arango_perform(c, &call, &reply, e);
    char id[64] = "";
    if (!rc && reply.status == 200 && reply.json &&
        json_object_is_type(reply.json, json_type_array)) {
        double best = -1;
        size_t n = json_object_array_length(reply.json);
        for (size_t i = 0; i < n; i++) {
            json_object *q = json_object_array_get_idx(reply.json, i), *v;
            if (!json_object_is_type(q, json_type_object) ||
                !json_object_object_get_ex(q, "query", &v) ||
                !json_object_is_type(v, json_type_string) ||
                strcmp(json_object_get_string(v), text) != 0)
                continue;
            double rt = 0;
            if (json_object_object_get_ex(q, "runTime", &v))
                rt = json_object_get_double(v);
            if (rt > elapsed_s + 1.0 || (best >= 0 && rt >= best))
                continue;
            if (json_object_object_get_ex(q, "bindVars", &v)) {
                gj_value *bv = NULL;
                bool same = gj__arango_json_to_value(v, &bv, NULL) == 0 &&
                            gj_value_equal(bv, bind);
                gj_value_unref(bv);
                if (!same)
                    continue;
            }
            if (!json_object_object_get_ex(q, "id", &v) ||
                !json_object_is_type(v, json_type_string) ||
                json_object_get_string_len(v) == 0 ||
                (size_t)json_object_get_string_len(v) >= sizeof id ||
                strspn(json_object_get_string(v), "0123456789") !=
                    (size_t)json_object_get_string_len(v))
                continue;
            snprintf(id, sizeof id, "%s", json_object_get_string(v));
            best = rt;
        }
    }
    gj__arango_reply_clear(&reply);
    if (!id[0]) {
        gj__log(c->log, GJ_LOG_INFO, "arango %s: interrupted query not found among running ones%s%s",
                c->hostport, rc ? ": " : "", rc ? gj_error_message(e) : "");
        gj_error_free(e);
        return;
    }
    char path[96];
    snprintf(path, sizeof path, "/_api/query/%s", id);
    gj__arango_call kill = { "DELETE", db, path, NULL, 0, NULL, NULL, false, deadline };
    rc = gj__arango_perform(c, &kill, &reply, e);
    gj__log(c->log, rc || reply.status >= 300 ? GJ_LOG_WARN : GJ_LOG_DEBUG,
            "arango %s: kill query %s: %s (HTTP %ld)", c->hostport, id,
            rc ? gj_error_message(e) : "done", reply.status);
    gj__arango_reply_clear(&reply);
    gj_error_free(e);
}

int gj__arango_op_query(gj_conn *c, const gj_request *req, gj_sink *sink, int64_t deadline,
                        gj_error *err)
{
    int rc = gj__arango_check_options(req, "query", query_options, err);
    if (rc)
        return rc;
    const char *trx = NULL;
    if ((rc = gj__arango_opt_trx(c, req, &trx, err)))
        return rc;
    char *body = NULL;
    size_t body_len = 0;
    if ((rc = build_body(req, &body, &body_len, err)))
        return rc;
    const char *db = gj__arango_database(c, req);
    gj__arango_call call = { "POST", db, "/_api/cursor", body, body_len, NULL, trx, false,
                             deadline };
    gj__arango_reply reply = { 0, NULL };
    int64_t started = gj__now_ms();
    rc = gj__arango_perform(c, &call, &reply, err);
    gj_free(body);
    if (rc == GJ_ECANCELLED || rc == GJ_ETIMEDOUT) {
        bool interrupted = gj__arango_take_interrupt(c);
        double elapsed = (double)(gj__now_ms() - started) / 1000.0;
        if (!gj__arango_defer_cleanup(c, GJ__ARANGO_CLEANUP_QUERY, db, NULL, req, elapsed))
            kill_query(c, db, gj_request_text(req), gj_request_params(req), elapsed,
                       gj__now_ms() + CLEANUP_MS);
        if (interrupted)
            rc = gj__error_set(err, GJ_ECANCELLED, "%s: AQL query cancelled", c->hostport);
        return rc;
    }
    if (rc)
        return rc;
    if (reply.status >= 400) {
        rc = gj__arango_reply_error(c, &reply, "AQL query", err);
        gj__arango_reply_clear(&reply);
        return rc;
    }
    return gj__arango_cursor_drain(c, db, trx, &reply, sink, deadline, err);
}

int gj__arango_cursor_drain(gj_conn *c, const char *db, const char *trx,
                            gj__arango_reply *first, gj_sink *sink, int64_t deadline,
                            gj_error *err)
{
    gj__arango_reply reply = *first;
    first->json = NULL;
    first->status = 0;
    size_t rows = 0;
    char id[64], path[96];
    for (;;) {
        bool more = false;
        /* The batch's size on the wire counts against max_result_size. */
        bool too_big = gj__sink_account(sink, c->last_body_len) == GJ_ETOOBIG;
        int rc = too_big ? 0 : gj__arango_cursor_take_batch(c, reply.json, sink, &more, id,
                                                             sizeof id, &rows, err);
        if (too_big) {
            /* Only where to delete the cursor is read from the batch. */
            json_object *v = NULL;
            more = reply.json && json_object_object_get_ex(reply.json, "hasMore", &v) &&
                   json_object_get_boolean(v) &&
                   json_object_object_get_ex(reply.json, "id", &v) &&
                   json_object_is_type(v, json_type_string) &&
                   json_object_get_string_len(v) > 0 &&
                   (size_t)json_object_get_string_len(v) < sizeof id &&
                   strspn(json_object_get_string(v), "0123456789") ==
                       (size_t)json_object_get_string_len(v);
            if (more)
                snprintf(id, sizeof id, "%s", json_object_get_string(v));
        }
        gj__arango_reply_clear(&reply);
        if (too_big) {
            if (more)
                drop_cursor(c, db, id);
            gj__sink_too_big(sink, err);
            return gj__error_prefix(err, "%s: AQL query", c->hostport);
        }
        if (rc == GJ_EABORTED) {
            if (more)
                drop_cursor(c, db, id);
            return gj__error_set(err, GJ_EABORTED,
                                 "the row callback stopped after %zu rows%s", rows,
                                 more ? "; the cursor is deleted" : "");
        }
        if (rc || !more)
            return rc;
        snprintf(path, sizeof path, "/_api/cursor/%s", id);
        gj__arango_call next = { "POST", db, path, NULL, 0, NULL, trx, false, deadline };
        rc = gj__arango_perform(c, &next, &reply, err);
        if (rc == GJ_ECANCELLED || rc == GJ_ETIMEDOUT) {
            bool interrupted = gj__arango_take_interrupt(c);
            drop_cursor(c, db, id);
            if (interrupted)
                rc = gj__error_set(err, GJ_ECANCELLED, "%s: AQL query cancelled", c->hostport);
            return rc;
        }
        if (rc)
            return rc;
        if (reply.status >= 400) {
            rc = gj__arango_reply_error(c, &reply, "next cursor batch", err);
            gj__arango_reply_clear(&reply);
            return rc;
        }
    }
}

/* ---- what a cancel leaves for settle() ---------------------------------------- */

void gj__arango_cleanup_clear(gj_conn *c)
{
    free(c->cleanup.query);
    gj_value_unref(c->cleanup.bind);
    c->cleanup.query = NULL;
    c->cleanup.bind = NULL;
    c->cleanup.kind = GJ__ARANGO_CLEANUP_NONE;
}

bool gj__arango_defer_cleanup(gj_conn *c, int kind, const char *db, const char *id,
                              const gj_request *req, double elapsed_s)
{
    if (c->cleanup.kind != GJ__ARANGO_CLEANUP_NONE)
        return true;   /* the first one stands (a server job's cancel covers its query) */
    if (!db || strlen(db) >= sizeof c->cleanup.db || (id && strlen(id) >= sizeof c->cleanup.id))
        return false;
    if (kind == GJ__ARANGO_CLEANUP_QUERY) {
        const char *text = req ? gj_request_text(req) : NULL;
        if (!text || !(c->cleanup.query = gj__strdup(text)))
            return false;
        c->cleanup.bind = gj_value_ref(gj_request_params(req));
    }
    snprintf(c->cleanup.db, sizeof c->cleanup.db, "%s", db);
    snprintf(c->cleanup.id, sizeof c->cleanup.id, "%s", id ? id : "");
    c->cleanup.elapsed_s = elapsed_s;
    c->cleanup.kind = kind;
    return true;
}

void gj__arango_settle(gj_conn *c, int64_t deadline_ms)
{
    int kind = c->cleanup.kind;
    /* An interrupt now is the pool shutting down (or a late cancel): the
     * clean-up calls see it and give up. */
    if (kind == GJ__ARANGO_CLEANUP_CURSOR)
        delete_cursor(c, c->cleanup.db, c->cleanup.id, deadline_ms);
    else if (kind == GJ__ARANGO_CLEANUP_QUERY)
        kill_query(c, c->cleanup.db, c->cleanup.query, c->cleanup.bind, c->cleanup.elapsed_s,
                   deadline_ms);
    else if (kind == GJ__ARANGO_CLEANUP_JOB)
        gj__arango_drop_server_job(c, c->cleanup.db, c->cleanup.id, deadline_ms);
    if (kind != GJ__ARANGO_CLEANUP_NONE)
        gj__arango_cleanup_clear(c);
    /* A session's transaction that a broken job left in an unknown state. */
    if (c->session)
        gj__arango_session_abort_lost(c, deadline_ms);
}
