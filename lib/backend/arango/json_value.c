/*
 * ArangoDB backend: json-c objects to gj_value (objects become ordered maps,
 * arrays lists, integers int64, other numbers doubles), and gj_value to JSON
 * text for request bodies.
 */
#include "backend/arango/arango_internal.h"

#include <stdlib.h>
#include <string.h>

static int convert(const json_object *j, unsigned depth, gj_value **out, gj_error *err)
{
    if (depth > GJ__ARANGO_MAX_DEPTH)
        return gj__error_set(err, GJ_EPROTOCOL, "JSON nested deeper than %d levels",
                             GJ__ARANGO_MAX_DEPTH);
    gj_value *v = NULL;
    int rc = 0;
    switch (json_object_get_type(j)) {
    case json_type_null:
        v = gj_value_null();
        break;
    case json_type_boolean:
        v = gj_value_bool(json_object_get_boolean(j) != 0);
        break;
    case json_type_int: {
        /* json-c keeps integers above INT64_MAX as uint64: those become doubles. */
        int64_t i = json_object_get_int64(j);
        if (i == INT64_MAX && json_object_get_uint64(j) > (uint64_t)INT64_MAX)
            v = gj_value_float((double)json_object_get_uint64(j));
        else
            v = gj_value_int(i);
        break;
    }
    case json_type_double:
        v = gj_value_float(json_object_get_double(j));
        break;
    case json_type_string: {
        rc = gj_value_new_string(&v, json_object_get_string((json_object *)j),
                                 (size_t)json_object_get_string_len(j));
        if (rc == GJ_EINVAL)
            return gj__error_set(err, GJ_EPROTOCOL, "JSON string is not valid UTF-8");
        if (rc)
            return gj__error_set(err, rc, "out of memory converting JSON");
        break;
    }
    case json_type_array: {
        size_t n = json_object_array_length(j);
        rc = gj_value_new_list(&v, n);
        if (rc)
            return gj__error_set(err, rc, "out of memory converting JSON");
        for (size_t i = 0; i < n; i++) {
            gj_value *item = NULL;
            rc = convert(json_object_array_get_idx(j, i), depth + 1, &item, err);
            if (!rc && (rc = gj_value_list_append(v, item)) != 0)
                gj__error_set(err, rc, "out of memory converting JSON");
            if (rc) {
                gj_value_unref(v);
                return rc;
            }
        }
        break;
    }
    case json_type_object: {
        rc = gj_value_new_map(&v, (size_t)json_object_object_length(j));
        if (rc)
            return gj__error_set(err, rc, "out of memory converting JSON");
        struct json_object_iterator it = json_object_iter_begin((json_object *)j);
        struct json_object_iterator end = json_object_iter_end(j);
        for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
            const char *key = json_object_iter_peek_name(&it);
            gj_value *kv = NULL, *item = NULL;
            rc = gj_value_new_string(&kv, key, strlen(key));
            if (rc) {
                gj__error_set(err, rc == GJ_EINVAL ? GJ_EPROTOCOL : rc,
                              "JSON object key is not valid UTF-8 or out of memory");
                rc = rc == GJ_EINVAL ? GJ_EPROTOCOL : rc;
                gj_value_unref(v);
                return rc;
            }
            rc = convert(json_object_iter_peek_value(&it), depth + 1, &item, err);
            if (rc) {
                gj_value_unref(kv);
                gj_value_unref(v);
                return rc;
            }
            rc = gj_value_map_put(v, kv, item);
            if (rc) {
                gj_value_unref(v);
                return gj__error_set(err, rc, "out of memory converting JSON");
            }
        }
        break;
    }
    }
    if (!v)
        return gj__error_set(err, GJ_ENOMEM, "out of memory converting JSON");
    *out = v;
    return 0;
}

int gj__arango_json_to_value(const json_object *j, gj_value **out, gj_error *err)
{
    return convert(j, 0, out, err);
}

int gj__arango_value_to_text(const gj_value *v, char **out, size_t *len, gj_error *err)
{
    int rc = gj_value_to_json(v, 0, out, len);
    if (rc)
        return gj__error_set(err, rc, "cannot render a request body as JSON: %s",
                             gj_strerror(rc));
    return 0;
}
