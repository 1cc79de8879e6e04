/*
 * JSON text -> values, through json-c.
 */
#include "core/json_in.h"
#include "core/value_internal.h"

#include <string.h>

static int convert(const json_object *j, unsigned depth, gj_value **out, gj_error *err)
{
    if (depth > GJ__JSON_MAX_DEPTH)
        return gj__error_set(err, GJ_EPROTOCOL, "JSON nested deeper than %d levels",
                             GJ__JSON_MAX_DEPTH);
    switch (json_object_get_type(j)) {
    case json_type_null:
        *out = gj_value_null();
        return 0;
    case json_type_boolean:
        *out = gj_value_bool(json_object_get_boolean(j));
        return 0;
    case json_type_int: {
        int64_t i = json_object_get_int64(j);
        /* json-c keeps integers above INT64_MAX as uint64: those become doubles. */
        if (i == INT64_MAX && json_object_get_uint64(j) > (uint64_t)INT64_MAX)
            *out = gj_value_float((double)json_object_get_uint64(j));
        else
            *out = gj_value_int(i);
        break;
    }
    case json_type_double:
        *out = gj_value_float(json_object_get_double(j));
        break;
    case json_type_string: {
        const char *s = json_object_get_string((json_object *)j);
        size_t len = (size_t)json_object_get_string_len(j);
        int rc = gj_value_new_string(out, s, len);
        if (rc == GJ_EINVAL)
            return gj__error_set(err, GJ_EPROTOCOL, "JSON string is not valid UTF-8");
        if (rc)
            return gj__error_set(err, rc, "out of memory converting JSON");
        return 0;
    }
    case json_type_array: {
        size_t n = json_object_array_length(j);
        if (n == 0) {
            /* The shared immortal empty list: nothing to allocate or free. */
            *out = gj__value_empty_list();
            return 0;
        }
        int rc = gj_value_new_list(out, n);
        if (rc)
            return gj__error_set(err, rc, "out of memory converting JSON");
        for (size_t i = 0; i < n; i++) {
            gj_value *item = NULL;
            rc = convert(json_object_array_get_idx(j, i), depth + 1, &item, err);
            if (rc == 0 && (rc = gj_value_list_append(*out, item)) != 0)
                gj__error_set(err, rc, "out of memory converting JSON");
            if (rc) {
                gj_value_unref(*out);
                *out = NULL;
                return rc;
            }
        }
        return 0;
    }
    case json_type_object: {
        if (json_object_object_length(j) == 0) {
            *out = gj__value_empty_map();
            return 0;
        }
        int rc = gj_value_new_map(out, (size_t)json_object_object_length(j));
        if (rc)
            return gj__error_set(err, rc, "out of memory converting JSON");
        struct json_object_iterator it = json_object_iter_begin((json_object *)j);
        struct json_object_iterator end = json_object_iter_end((json_object *)j);
        for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
            const char *key = json_object_iter_peek_name(&it);
            size_t klen = strlen(key);
            gj_value *item = NULL;
            gj_value *k = klen ? gj__value_common_key(key, klen) : NULL;
            rc = k ? 0 : gj_value_new_string(&k, key, klen);
            if (rc == GJ_EINVAL)
                rc = gj__error_set(err, GJ_EPROTOCOL, "JSON object key is not valid UTF-8");
            else if (rc)
                gj__error_set(err, rc, "out of memory converting JSON");
            if (rc == 0)
                rc = convert(json_object_iter_peek_value(&it), depth + 1, &item, err);
            /* json-c's keys are distinct (it kept the last of a repeated
             * one): appended without a search. */
            if (rc == 0 && (rc = gj__value_map_append(*out, k, item)) != 0)
                gj__error_set(err, rc, "out of memory converting JSON");
            else if (rc)
                gj_value_unref(k);
            if (rc) {
                gj_value_unref(*out);
                *out = NULL;
                return rc;
            }
        }
        return 0;
    }
    }
    if (!*out)
        return gj__error_set(err, GJ_ENOMEM, "out of memory converting JSON");
    return 0;
}

int gj__json_to_value(const json_object *j, gj_value **out, gj_error *err)
{
    *out = NULL;
    return convert(j, 0, out, err);
}

int gj_value_from_json(gj_value **out, const char *text, size_t len, gj_error *err)
{
    gj_error_clear(err);
    if (!out || (!text && len))
        return gj__error_set(err, GJ_EINVAL, "gj_value_from_json: out and text are required");
    *out = NULL;
    if (len > INT32_MAX)
        return gj__error_set(err, GJ_ETOOBIG, "JSON text of %zu bytes is too large", len);
    json_tokener *tok = json_tokener_new_ex(GJ__JSON_MAX_DEPTH);
    if (!tok)
        return gj__error_set(err, GJ_ENOMEM, "out of memory parsing JSON");
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    json_object *j = json_tokener_parse_ex(tok, text ? text : "", (int)len);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    size_t offset = json_tokener_get_parse_end(tok);
    if (jerr == json_tokener_continue && len) {
        /* A number at the very end may go on: a NUL byte ends it; anything
         * else still open is text that ends too early. */
        j = json_tokener_parse_ex(tok, "", 1);
        jerr = json_tokener_get_error(tok);
        if (jerr != json_tokener_success)
            jerr = json_tokener_continue;
        offset = len;
    }
    int rc = 0;
    if (jerr == json_tokener_continue)
        rc = gj__error_set(err, GJ_EINVAL, "JSON text ends too early (%zu bytes)", len);
    else if (jerr != json_tokener_success)
        rc = gj__error_set(err, GJ_EINVAL, "JSON syntax error at byte %zu: %s", offset,
                           json_tokener_error_desc(jerr));
    else {
        while (offset < len && strchr(" \t\r\n", text[offset]))
            offset++;
        if (offset < len)
            rc = gj__error_set(err, GJ_EINVAL, "JSON syntax error at byte %zu: unexpected "
                               "text after the value", offset);
    }
    if (rc == 0)
        rc = gj__json_to_value(j, out, err);
    json_object_put(j);
    json_tokener_free(tok);
    return rc;
}
