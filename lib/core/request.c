/*
 * Requests: built on one thread, frozen by the first submit, then shared.
 */
#include "core/request_internal.h"

#include <stdlib.h>
#include <string.h>

static int check_open(gj_request *req)
{
    if (!req)
        return GJ_EINVAL;
    if (atomic_load_explicit(&req->frozen, memory_order_acquire))
        return GJ_ESTATE;
    return 0;
}

int gj_request_new(gj_request **out, const char *op, const char *text)
{
    if (!out || !op || !*op)
        return GJ_EINVAL;
    *out = NULL;
    gj_request *req = aligned_alloc(64, sizeof *req);
    if (!req)
        return GJ_ENOMEM;
    memset(req, 0, sizeof *req);
    atomic_init(&req->refs, 1);
    atomic_init(&req->frozen, false);
    req->timeout_ms = -1;
    req->op = gj__strdup(op);
    req->text = text ? gj__strdup(text) : NULL;
    if (!req->op || (text && !req->text) || gj_value_new_map(&req->params, 0) != 0 ||
        gj_value_new_map(&req->options, 0) != 0) {
        gj_request_unref(req);
        return GJ_ENOMEM;
    }
    *out = req;
    return 0;
}

int gj_request_new_query(gj_request **out, const char *text)
{
    return gj_request_new(out, GJ_OP_QUERY, text);
}

static int copy_map(gj_value **dst, const gj_value *src)
{
    size_t n = gj_value_size(src);
    int rc = gj_value_new_map(dst, n);
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = gj_value_map_put(*dst, gj_value_ref(gj_value_map_key_at(src, i)),
                              gj_value_ref(gj_value_map_value_at(src, i)));
    return rc;
}

int gj_request_copy(gj_request **out, const gj_request *src)
{
    if (!out || !src)
        return GJ_EINVAL;
    gj_request *req;
    int rc = gj_request_new(&req, src->op, src->text);
    if (rc)
        return rc;
    gj_value_unref(req->params);
    gj_value_unref(req->options);
    req->params = req->options = NULL;
    req->timeout_ms = src->timeout_ms;
    req->row_fn = src->row_fn;
    req->row_payload = src->row_payload;
    req->target = gj__strdup(src->target);
    req->database = gj__strdup(src->database);
    if ((src->target && !req->target) || (src->database && !req->database) ||
        copy_map(&req->params, src->params) != 0 || copy_map(&req->options, src->options) != 0) {
        gj_request_unref(req);
        return GJ_ENOMEM;
    }
    *out = req;
    return 0;
}

gj_request *gj_request_ref(gj_request *req)
{
    if (req)
        atomic_fetch_add_explicit(&req->refs, 1, memory_order_relaxed);
    return req;
}

void gj_request_unref(gj_request *req)
{
    if (!req || atomic_fetch_sub_explicit(&req->refs, 1, memory_order_acq_rel) != 1)
        return;
    free(req->op);
    free(req->text);
    free(req->target);
    free(req->database);
    gj_value_unref(req->params);
    gj_value_unref(req->options);
    free(req);
}

void gj__request_freeze(gj_request *req)
{
    if (!atomic_load_explicit(&req->frozen, memory_order_relaxed))
        atomic_store_explicit(&req->frozen, true, memory_order_release);
}

int gj_request_set_param(gj_request *req, const char *name, gj_value *value)
{
    int rc = check_open(req);
    if (rc == 0 && (!name || !value))
        rc = GJ_EINVAL;
    if (rc) {
        gj_value_unref(value);
        return rc;
    }
    return gj_value_map_put_str(req->params, name, value);
}

int gj_request_set_option(gj_request *req, const char *key, gj_value *value)
{
    int rc = check_open(req);
    if (rc == 0 && (!key || !value))
        rc = GJ_EINVAL;
    if (rc) {
        gj_value_unref(value);
        return rc;
    }
    return gj_value_map_put_str(req->options, key, value);
}

static int set_string(gj_request *req, char **field, const char *value)
{
    int rc = check_open(req);
    if (rc)
        return rc;
    char *copy = NULL;
    if (value && !(copy = gj__strdup(value)))
        return GJ_ENOMEM;
    free(*field);
    *field = copy;
    return 0;
}

int gj_request_set_target(gj_request *req, const char *target)
{
    return req ? set_string(req, &req->target, target) : GJ_EINVAL;
}

int gj_request_set_database(gj_request *req, const char *database)
{
    return req ? set_string(req, &req->database, database) : GJ_EINVAL;
}

int gj_request_set_timeout(gj_request *req, int64_t millis)
{
    int rc = check_open(req);
    if (rc)
        return rc;
    if (millis < 0)
        return GJ_EINVAL;
    req->timeout_ms = millis;
    return 0;
}

int gj_request_set_row_callback(gj_request *req, gj_row_fn fn, void *payload)
{
    int rc = check_open(req);
    if (rc)
        return rc;
    req->row_fn = fn;
    req->row_payload = payload;
    return 0;
}

const char *gj_request_op(const gj_request *req) { return req ? req->op : NULL; }
const char *gj_request_text(const gj_request *req) { return req ? req->text : NULL; }
const char *gj_request_target(const gj_request *req) { return req ? req->target : NULL; }
const char *gj_request_database(const gj_request *req) { return req ? req->database : NULL; }
int64_t gj_request_timeout(const gj_request *req) { return req ? req->timeout_ms : -1; }
const gj_value *gj_request_params(const gj_request *req) { return req ? req->params : NULL; }
const gj_value *gj_request_options(const gj_request *req) { return req ? req->options : NULL; }

const gj_value *gj_request_option(const gj_request *req, const char *key)
{
    return req && key ? gj_value_map_get(req->options, key) : NULL;
}
