/*
 * ArangoDB backend: the server-side async job API (/_api/job) as operations,
 * for jobs made with options async: "store" + detach: true, possibly by
 * another process:
 *   job.attach  id            wait for the job, fetch its stored reply once
 *                             and treat it as the result (cursor replies
 *                             paged from this coordinator)
 *   job.status  id            one row, "pending" (204) or "done" (200)
 *   job.cancel  id            PUT /_api/job/{id}/cancel
 *   job.delete  id | which ("all" | "expired", with stamp)
 *   job.list    status ("done" | "pending"), count   one row per id
 * A 404 for the job is GJ_ENOTFOUND "server job N not found".  A server job
 * lives on the coordinator that accepted it: the request's target must be
 * that coordinator.
 */
#include "backend/arango/arango_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* Longest job id we accept (ArangoDB's are 64-bit integers). */
#define JOB_ID_MAX 32

static const char *const id_options[] = { "id", NULL };
static const char *const delete_options[] = { "id", "which", "stamp", NULL };
static const char *const list_options[] = { "status", "count", NULL };

static int not_found(gj_error *err, const char *id)
{
    return gj__error_set(err, GJ_ENOTFOUND, "server job %s not found", id);
}

/* Option id (a string of digits, or an int) into buf. */
static int job_id(const gj_request *req, const char *op, char *buf, size_t cap, gj_error *err)
{
    const gj_value *v = gj_request_option(req, "id");
    if (!v)
        return gj__error_set(err, GJ_EINVAL, "op %s needs option id", op);
    int64_t i = 0;
    const char *s = NULL;
    size_t len = 0;
    if (gj_value_int_get(v, &i) == 0) {
        if (i <= 0)
            return gj__error_set(err, GJ_EINVAL, "op %s: option id must be positive, got %" PRId64,
                                 op, i);
        snprintf(buf, cap, "%" PRId64, i);
        return 0;
    }
    if (gj_value_string_get(v, &s, &len) != 0)
        return gj__error_set(err, GJ_EINVAL, "op %s: option id: expected a string, got %s", op,
                             gj_type_name(gj_value_type(v)));
    if (len == 0 || len > JOB_ID_MAX || len >= cap || strspn(s, "0123456789") != len)
        return gj__error_set(err, GJ_EINVAL, "op %s: option id: \"%.40s\" is not a job id", op, s);
    memcpy(buf, s, len);
    buf[len] = '\0';
    return 0;
}

/* One call; an interrupt becomes "op cancelled". */
static int job_call(gj_conn *c, const char *op, const char *method, const char *db,
                    const char *path, int64_t deadline, gj__arango_reply *reply, gj_error *err)
{
    gj__arango_call call = { method, db, path, NULL, 0, NULL, NULL, strcmp(method, "GET") == 0,
                             deadline };
    int rc = gj__arango_perform(c, &call, reply, err);
    if (rc == GJ_ECANCELLED && gj__arango_take_interrupt(c))
        return gj__error_set(err, GJ_ECANCELLED, "%s: %s cancelled", c->hostport, op);
    return rc;
}

/* The reply body as a row, with meta http_status; errors as the server's. */
static int body_row(gj_conn *c, const char *op, gj__arango_reply *reply, gj_sink *sink,
                    gj_error *err)
{
    int rc = gj__arango_reply_error(c, reply, op, err);
    if (!rc) {
        gj_value *status = gj_value_int(reply->status);
        if (!status || gj__sink_meta(sink, "http_status", status))
            rc = gj__error_set(err, GJ_ENOMEM, "out of memory for the result");
    }
    if (!rc)
        rc = gj__arango_emit_body(c, reply, sink, err);
    return rc;
}

static int string_row(gj_sink *sink, const char *s, gj_error *err)
{
    gj_value *row = gj_value_string(s);
    if (!row)
        return gj__error_set(err, GJ_ENOMEM, "out of memory for a row");
    int rc = gj__sink_row(sink, row);
    if (rc == GJ_EABORTED)
        return gj__error_set(err, GJ_EABORTED, "the row callback stopped");
    return rc ? gj__error_set(err, rc, "out of memory for a row") : 0;
}

static bool is_cursor_reply(const json_object *j)
{
    json_object *v;
    return j && json_object_is_type(j, json_type_object) &&
           json_object_object_get_ex(j, "result", &v) && json_object_is_type(v, json_type_array) &&
           json_object_object_get_ex(j, "hasMore", &v) && json_object_is_type(v, json_type_boolean);
}

static int op_attach(gj_conn *c, const char *db, const char *id, gj_sink *sink,
                     int64_t deadline, gj_error *err)
{
    gj__arango_reply reply = { 0, NULL };
    int rc = gj__arango_job_await(c, db, id, deadline, &reply, err);
    if (rc == GJ_ECANCELLED && gj__arango_take_interrupt(c))
        return gj__error_set(err, GJ_ECANCELLED,
                             "%s: job.attach cancelled; server job %s is left as it was",
                             c->hostport, id);
    if (rc)
        return rc;
    snprintf(c->async_id, sizeof c->async_id, "%s", id);
    char what[64];
    snprintf(what, sizeof what, "server job %s", id);
    if (reply.status >= 400) {
        rc = gj__arango_reply_error(c, &reply, what, err);
    } else if (is_cursor_reply(reply.json)) {
        /* Later batches come from this coordinator, which holds the cursor. */
        rc = gj__arango_cursor_drain(c, db, NULL, &reply, sink, deadline, err);
    } else {
        rc = body_row(c, what, &reply, sink, err);
    }
    gj__arango_reply_clear(&reply);
    return rc;
}

static int op_status(gj_conn *c, const char *db, const char *id, gj_sink *sink,
                     int64_t deadline, gj_error *err)
{
    char path[64];
    snprintf(path, sizeof path, "/_api/job/%s", id);
    gj__arango_reply reply = { 0, NULL };
    int rc = job_call(c, "job.status", "GET", db, path, deadline, &reply, err);
    if (rc)
        return rc;
    long st = reply.status;
    if (st == 200 || st == 204)
        rc = string_row(sink, st == 200 ? "done" : "pending", err);
    else if (st == 404)
        rc = not_found(err, id);
    else if (st >= 400)
        rc = gj__arango_reply_error(c, &reply, "job.status", err);
    else
        rc = gj__error_set(err, GJ_EPROTOCOL, "%s: GET %s answered HTTP %ld", c->hostport, path,
                           st);
    gj__arango_reply_clear(&reply);
    return rc;
}

/* job.cancel and job.delete: one call, 404 = not found, else the body. */
static int op_simple(gj_conn *c, const char *op, const char *method, const char *db,
                     const char *path, const char *id, gj_sink *sink, int64_t deadline,
                     gj_error *err)
{
    gj__arango_reply reply = { 0, NULL };
    int rc = job_call(c, op, method, db, path, deadline, &reply, err);
    if (rc)
        return rc;
    if (reply.status == 404 && id)
        rc = not_found(err, id);
    else
        rc = body_row(c, op, &reply, sink, err);
    gj__arango_reply_clear(&reply);
    return rc;
}

static int op_delete(gj_conn *c, const gj_request *req, const char *db, gj_sink *sink,
                     int64_t deadline, gj_error *err)
{
    const char *which = NULL;
    int rc = gj__arango_opt_string(req, "which", &which, err);
    if (rc)
        return rc;
    const gj_value *stamp = gj_request_option(req, "stamp");
    char path[96];
    if (!which) {
        char id[JOB_ID_MAX + 1];
        if (stamp)
            return gj__error_set(err, GJ_EINVAL, "op job.delete: option stamp goes with "
                                 "which: \"expired\"");
        if ((rc = job_id(req, "job.delete", id, sizeof id, err)))
            return rc;
        snprintf(path, sizeof path, "/_api/job/%s", id);
        return op_simple(c, "job.delete", "DELETE", db, path, id, sink, deadline, err);
    }
    if (gj_request_option(req, "id"))
        return gj__error_set(err, GJ_EINVAL, "op job.delete: give option id or option which, "
                             "not both");
    if (strcmp(which, "all") == 0) {
        if (stamp)
            return gj__error_set(err, GJ_EINVAL, "op job.delete: option stamp goes with "
                                 "which: \"expired\"");
        snprintf(path, sizeof path, "/_api/job/all");
    } else if (strcmp(which, "expired") == 0) {
        int64_t i = 0;
        double d = 0;
        if (stamp && gj_value_int_get(stamp, &i) == 0 && i >= 0)
            snprintf(path, sizeof path, "/_api/job/expired?stamp=%" PRId64, i);
        else if (stamp && gj_value_float_get(stamp, &d) == 0 && d >= 0 && d < 1e15)
            snprintf(path, sizeof path, "/_api/job/expired?stamp=%.6f", d);
        else
            return gj__error_set(err, GJ_EINVAL, "op job.delete: which: \"expired\" needs "
                                 "option stamp (seconds since the epoch, a number >= 0)");
    } else {
        return gj__error_set(err, GJ_EINVAL, "op job.delete: option which: \"all\" or "
                             "\"expired\" expected, got \"%.32s\"", which);
    }
    return op_simple(c, "job.delete", "DELETE", db, path, NULL, sink, deadline, err);
}

static int op_list(gj_conn *c, const gj_request *req, const char *db, gj_sink *sink,
                   int64_t deadline, gj_error *err)
{
    const char *status = NULL;
    int64_t count = 0;
    int rc = gj__arango_opt_string(req, "status", &status, err);
    if (!rc)
        rc = gj__arango_opt_int(req, "count", &count, err);
    if (rc)
        return rc;
    if (!status || (strcmp(status, "done") != 0 && strcmp(status, "pending") != 0))
        return gj__error_set(err, GJ_EINVAL, "op job.list needs option status: \"done\" or "
                             "\"pending\"");
    if (gj_request_option(req, "count") && count <= 0)
        return gj__error_set(err, GJ_EINVAL, "op job.list: option count must be positive, got %"
                             PRId64, count);
    char path[96];
    if (count > 0)
        snprintf(path, sizeof path, "/_api/job/%s?count=%" PRId64, status, count);
    else
        snprintf(path, sizeof path, "/_api/job/%s", status);
    gj__arango_reply reply = { 0, NULL };
    rc = job_call(c, "job.list", "GET", db, path, deadline, &reply, err);
    if (rc)
        return rc;
    if ((rc = gj__arango_reply_error(c, &reply, "job.list", err)) != 0)
        goto out;
    if (!reply.json || !json_object_is_type(reply.json, json_type_array)) {
        rc = gj__error_set(err, GJ_EPROTOCOL, "%s: GET %s: the reply is not an array of ids",
                           c->hostport, path);
        goto out;
    }
    size_t n = json_object_array_length(reply.json);
    for (size_t i = 0; i < n && !rc; i++) {
        json_object *v = json_object_array_get_idx(reply.json, i);
        if (!json_object_is_type(v, json_type_string) &&
            !json_object_is_type(v, json_type_int)) {
            rc = gj__error_set(err, GJ_EPROTOCOL, "%s: GET %s: item %zu is not a job id",
                               c->hostport, path, i);
            break;
        }
        rc = string_row(sink, json_object_get_string(v), err);
    }
out:
    gj__arango_reply_clear(&reply);
    return rc;
}

int gj__arango_op_job(gj_conn *c, const gj_request *req, const char *verb, gj_sink *sink,
                      int64_t deadline, gj_error *err)
{
    char op[48];
    snprintf(op, sizeof op, "job.%.32s", verb);
    const char *db = gj__arango_database(c, req);
    bool by_id = strcmp(verb, "attach") == 0 || strcmp(verb, "status") == 0 ||
                 strcmp(verb, "cancel") == 0;
    int rc;
    if (by_id) {
        char id[JOB_ID_MAX + 1], path[96];
        if ((rc = gj__arango_check_options(req, op, id_options, err)) ||
            (rc = job_id(req, op, id, sizeof id, err)))
            return rc;
        if (verb[0] == 'a')
            return op_attach(c, db, id, sink, deadline, err);
        if (verb[0] == 's')
            return op_status(c, db, id, sink, deadline, err);
        snprintf(path, sizeof path, "/_api/job/%s/cancel", id);
        return op_simple(c, op, "PUT", db, path, id, sink, deadline, err);
    }
    if (strcmp(verb, "delete") == 0) {
        if ((rc = gj__arango_check_options(req, op, delete_options, err)))
            return rc;
        return op_delete(c, req, db, sink, deadline, err);
    }
    if (strcmp(verb, "list") == 0) {
        if ((rc = gj__arango_check_options(req, op, list_options, err)))
            return rc;
        return op_list(c, req, db, sink, deadline, err);
    }
    return gj__error_set(err, GJ_EUNSUPPORTED, "arango backend has no operation %s", op);
}
