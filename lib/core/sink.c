/*
 * Result sinks (what a backend feeds while a job runs) and results.
 */
#include "core/sink_internal.h"
#include "core/value_internal.h"

#include <stdlib.h>
#include <string.h>

void gj__sink_init(gj_sink *s, gj_row_fn row_fn, void *row_payload,
                   const atomic_uint *cancel_word, unsigned cancel_mask,
                   int64_t response_timeout_ms)
{
    memset(s, 0, sizeof *s);
    s->row_fn = row_fn;
    s->row_payload = row_payload;
    s->cancel_word = cancel_word;
    s->cancel_mask = cancel_mask;
    s->response_timeout_ms = response_timeout_ms;
    s->deadline_ms = INT64_MAX;
}

void gj__sink_set_limits(gj_sink *s, int64_t response_timeout_ms, size_t max_result)
{
    s->response_timeout_ms = response_timeout_ms > 0 ? response_timeout_ms : 0;
    s->deadline_ms = s->response_timeout_ms ? gj__deadline_ms(s->response_timeout_ms) : INT64_MAX;
    s->max_result = max_result;
    s->collected = 0;
}

void gj__sink_clear(gj_sink *s)
{
    gj_value_unref(s->fields);
    gj_value_unref(s->rows);
    gj_value_unref(s->meta);
    s->fields = s->rows = s->meta = NULL;
}

bool gj__sink_empty(const gj_sink *s)
{
    return !s->fields && !s->rows && !s->meta;
}

int gj__sink_new(gj_sink **out, gj_row_fn row_fn, void *row_payload)
{
    gj_sink *s = malloc(sizeof *s);
    if (!s)
        return GJ_ENOMEM;
    gj__sink_init(s, row_fn, row_payload, NULL, 0, 0);
    *out = s;
    return 0;
}

void gj__sink_free(gj_sink *s)
{
    if (!s)
        return;
    gj__sink_clear(s);
    free(s);
}

int gj__sink_fields(gj_sink *s, gj_value *fields)
{
    gj_value_unref(s->fields);
    s->fields = fields;
    return 0;
}

int gj__sink_row(gj_sink *s, gj_value *row)
{
    if (!row)
        return GJ_ENOMEM;
    if (s->row_fn) {
        int stop = s->row_fn(row, s->row_payload);
        gj_value_unref(row);
        return stop ? GJ_EABORTED : 0;
    }
    if (!s->rows) {
        int rc = gj_value_new_list(&s->rows, 16);
        if (rc) {
            gj_value_unref(row);
            return rc;
        }
    }
    return gj_value_list_append(s->rows, row);
}

void gj__sink_cap_deadline(gj_sink *s, int64_t cap)
{
    if (cap < s->deadline_ms) {
        s->deadline_ms = cap;
        int64_t left = cap - gj__now_ms();
        s->response_timeout_ms = left > 0 ? left : 1;
    }
}

int gj__sink_account(gj_sink *s, size_t bytes)
{
    if (s->row_fn || !s->max_result)
        return 0;
    s->collected += bytes;
    return s->collected > s->max_result ? GJ_ETOOBIG : 0;
}

int gj__sink_row_sized(gj_sink *s, gj_value *row, size_t bytes)
{
    if (gj__sink_account(s, bytes)) {
        gj_value_unref(row);
        return GJ_ETOOBIG;
    }
    return gj__sink_row(s, row);
}

int gj__sink_too_big(const gj_sink *s, gj_error *err)
{
    return gj__error_set(err, GJ_ETOOBIG, "the result is larger than max_result_size (%zu bytes); "
                         "the server's work was stopped (raise max_result_size, 0 = no limit, or "
                         "read the rows with a row callback)", s->max_result);
}

int gj__sink_meta(gj_sink *s, const char *key, gj_value *value)
{
    if (!value)
        return GJ_ENOMEM;
    if (!s->meta) {
        int rc = gj_value_new_map(&s->meta, 8);
        if (rc) {
            gj_value_unref(value);
            return rc;
        }
    }
    return gj_value_map_put_str(s->meta, key, value);
}

bool gj__sink_cancel_requested(const gj_sink *s)
{
    return s->cancel_word &&
           (atomic_load_explicit(s->cancel_word, memory_order_acquire) & s->cancel_mask);
}

int64_t gj__sink_response_timeout(const gj_sink *s)
{
    return s->response_timeout_ms;
}

void *gj__sink_session(const gj_sink *s)
{
    return s->session;
}

int64_t gj__sink_deadline(const gj_sink *s)
{
    return s->deadline_ms;
}

/* The result of every job that produced nothing: shared and immutable
 * (rows and meta read as the immortal empty list and map). */
static gj_result empty_result = { NULL, NULL, NULL };

int gj__result_new_empty(gj_result **out)
{
    *out = &empty_result;
    return 0;
}

int gj__sink_take_result(gj_sink *s, gj_result **out)
{
    gj_result *r = calloc(1, sizeof *r);
    if (!r)
        return GJ_ENOMEM;
    r->fields = s->fields;
    r->rows = s->rows;
    r->meta = s->meta;
    s->fields = s->rows = s->meta = NULL;
    *out = r;
    return 0;
}

void gj_result_free(gj_result *res)
{
    if (!res || res == &empty_result)
        return;
    gj_value_unref(res->fields);
    gj_value_unref(res->rows);
    gj_value_unref(res->meta);
    free(res);
}

const gj_value *gj_result_fields(const gj_result *res) { return res ? res->fields : NULL; }
const gj_value *gj_result_rows(const gj_result *res)
{
    return !res ? NULL : res->rows ? res->rows : gj__value_empty_list();
}

const gj_value *gj_result_meta(const gj_result *res)
{
    return !res ? NULL : res->meta ? res->meta : gj__value_empty_map();
}

size_t gj_result_row_count(const gj_result *res)
{
    return res && res->rows ? gj_value_size(res->rows) : 0;
}

const gj_value *gj_result_row(const gj_result *res, size_t i)
{
    return res && res->rows ? gj_value_list_at(res->rows, i) : NULL;
}

int gj_result_to_json(const gj_result *res, unsigned flags, char **out, size_t *len)
{
    if (!res || !out)
        return GJ_EINVAL;
    gj_value *whole;
    int rc = gj_value_new_map(&whole, 3);
    if (rc)
        return rc;
    rc = gj_value_map_put_str(whole, "fields",
                              res->fields ? gj_value_ref(res->fields) : gj_value_null());
    if (rc == 0)
        rc = gj_value_map_put_str(whole, "rows", gj_value_ref(gj_result_rows(res)));
    if (rc == 0)
        rc = gj_value_map_put_str(whole, "meta", gj_value_ref(gj_result_meta(res)));
    if (rc == 0)
        rc = gj_value_to_json(whole, flags, out, len);
    gj_value_unref(whole);
    return rc;
}
