/*
 * PackStream v1 decoder core: markers, scalars, strings, lists and
 * dictionaries, with every declared size checked before allocating.
 * Structures are decoded in packstream_structs.c.
 */
#include "codec/packstream_internal.h"
#include "core/value_internal.h"

#include <stdlib.h>
#include <string.h>
#include <stdio.h>

/* ======================================================================
 * Reader
 * ====================================================================== */

void gj__ps_reader_init(gj_ps_reader *r, const void *data, size_t len, const gj_ps_config *cfg)
{
    r->data = data;
    r->len = len;
    r->pos = 0;
    r->cfg = cfg;
}




int gj__ps_truncated(const gj_ps_reader *r, size_t at, const char *what, size_t need,
                     gj_error *err)
{
    return gj__error_set(err, GJ_EPROTOCOL,
                         "PackStream %s at byte %zu is truncated: needs %zu bytes, %zu left",
                         what, at, need, r->len - r->pos);
}

int gj__ps_no_memory(gj_error *err, const char *what)
{
    return gj__error_set(err, GJ_ENOMEM, "out of memory decoding a PackStream %s", what);
}

int gj__ps_too_deep(const gj_ps_reader *r, size_t at, gj_error *err)
{
    return gj__error_set(err, GJ_EPROTOCOL, "PackStream value at byte %zu nests deeper than %u levels",
                         at, gj__ps_max_depth(r->cfg));
}

/* The size that follows a sized marker (width 1, 2 or 4 bytes). */
static inline int read_size(gj_ps_reader *r, size_t at, unsigned width, const char *what,
                            size_t *n, gj_error *err)
{
    if (r->len - r->pos < width)
        return gj__ps_truncated(r, at, what, width, err);
    const uint8_t *p = r->data + r->pos;
    uint32_t v = width == 1 ? p[0] : width == 2 ? gj__ps_load16(p) : gj__ps_load32(p);
    r->pos += width;
    if (v > (uint32_t)INT32_MAX)
        return gj__error_set(err, GJ_EPROTOCOL,
                             "PackStream %s at byte %zu declares %lu entries, above the limit 2147483647",
                             what, at, (unsigned long)v);
    *n = v;
    return 0;
}

/* A string body of n bytes at r->pos: bounds checked (UTF-8 is checked by
 * the value model when the string becomes a value, or by the caller). */
static inline int string_span(gj_ps_reader *r, size_t at, size_t n, const char **s,
                              gj_error *err)
{
    if (r->len - r->pos < n)
        return gj__ps_truncated(r, at, "string", n, err);
    *s = (const char *)r->data + r->pos;
    r->pos += n;
    return 0;
}

static int invalid_utf8(const gj_ps_reader *r, size_t at, const char *s, size_t n, gj_error *err)
{
    size_t bad = 0;
    gj__utf8_valid(s, n, &bad);
    return gj__error_set(err, GJ_EPROTOCOL, "PackStream string at byte %zu has invalid UTF-8 at byte %zu",
                         at, (size_t)((const uint8_t *)s - r->data) + bad);
}

/* The string s[0..n) (inside r's span, marker at `at`) as a value. */
static int make_string(const gj_ps_reader *r, gj_value **out, const char *s, size_t n, size_t at,
                       gj_error *err)
{
    int rc = gj_value_new_string(out, s, n);
    if (rc == 0)
        return 0;
    if (rc == GJ_ENOMEM)
        return gj__ps_no_memory(err, "string");
    if (!gj__utf8_valid(s, n, NULL))
        return invalid_utf8(r, at, s, n, err);
    return gj__error_set(err, GJ_EPROTOCOL, "PackStream string at byte %zu was refused (%s)",
                         at, gj_strerror(rc));
}

/* A string marker and its size; the body follows at r->pos. */
static int string_header(gj_ps_reader *r, const char *what, size_t *n, gj_error *err)
{
    size_t at = r->pos;
    if (at >= r->len)
        return gj__ps_truncated(r, at, what, 1, err);
    uint8_t m = r->data[r->pos++];
    int w = gj__ps_string_marker(m);
    if (w < 0)
        return gj__error_set(err, GJ_EPROTOCOL,
                             "PackStream %s at byte %zu is not a String (marker 0x%02X)", what, at, m);
    if (w == 0) {
        *n = m & 0x0F;
        return 0;
    }
    return read_size(r, at, (unsigned)w, "string", n, err);
}

/* A string in place (no allocation): pointer into the span, UTF-8 checked. */
int gj__ps_read_string_raw(gj_ps_reader *r, const char *what, const char **s, size_t *n,
                           gj_error *err)
{
    size_t at = r->pos;
    int rc = string_header(r, what, n, err);
    if (!rc)
        rc = string_span(r, at, *n, s, err);
    if (!rc && !gj__utf8_valid(*s, *n, NULL))
        rc = invalid_utf8(r, at, *s, *n, err);
    return rc;
}

int gj__ps_read_list(gj_ps_reader *r, size_t at, size_t n, unsigned depth, gj_value **out,
                     gj_error *err)
{
    if (n > r->len - r->pos)   /* every item takes at least one byte */
        return gj__ps_truncated(r, at, "list", n, err);
    if (depth + 1 > gj__ps_max_depth(r->cfg))
        return gj__ps_too_deep(r, at, err);
    gj_value *list;
    if (gj_value_new_list(&list, n) != 0)
        return gj__ps_no_memory(err, "list");
    for (size_t i = 0; i < n; i++) {
        gj_value *item;
        int rc = gj__ps_read_value(r, depth + 1, &item, err);
        if (!rc && gj_value_list_append(list, item) != 0)
            rc = gj__ps_no_memory(err, "list");
        if (rc) {
            gj_value_unref(list);
            return rc;
        }
    }
    *out = list;
    return 0;
}

static int read_map(gj_ps_reader *r, size_t at, size_t n, unsigned depth, gj_value **out,
                    gj_error *err)
{
    if (n > (r->len - r->pos) / 2)   /* a key and a value: two bytes at least */
        return gj__ps_truncated(r, at, "dictionary", n * 2, err);
    if (depth + 1 > gj__ps_max_depth(r->cfg))
        return gj__ps_too_deep(r, at, err);
    gj_value *map;
    if (gj_value_new_map(&map, n) != 0)
        return gj__ps_no_memory(err, "dictionary");
    for (size_t i = 0; i < n; i++) {
        size_t kat = r->pos;
        const char *ks = NULL;
        size_t klen = 0;
        gj_value *key = NULL, *val = NULL;
        int rc;
        if (kat < r->len && gj__ps_string_marker(r->data[kat]) < 0) {
            rc = gj__error_set(err, GJ_EPROTOCOL,
                               "PackStream dictionary key at byte %zu is not a String (marker 0x%02X)",
                               kat, r->data[kat]);
        } else {
            rc = string_header(r, "dictionary key", &klen, err);
            if (!rc)
                rc = string_span(r, kat, klen, &ks, err);
            if (!rc)
                rc = make_string(r, &key, ks, klen, kat, err);
            if (!rc)
                rc = gj__ps_read_value(r, depth + 1, &val, err);
            if (!rc) {
                rc = gj_value_map_put(map, key, val);
                key = val = NULL;
                if (rc)
                    rc = gj__ps_no_memory(err, "dictionary");
            }
        }
        if (rc) {
            gj_value_unref(key);
            gj_value_unref(val);
            gj_value_unref(map);
            return rc;
        }
    }
    *out = map;
    return 0;
}

static int read_bytes(gj_ps_reader *r, size_t at, size_t n, gj_value **out, gj_error *err)
{
    if (n > r->len - r->pos)
        return gj__ps_truncated(r, at, "byte array", n, err);
    if (gj_value_new_bytes(out, r->data + r->pos, n) != 0)
        return gj__ps_no_memory(err, "byte array");
    r->pos += n;
    return 0;
}

static inline int new_int(gj_value **out, int64_t v, gj_error *err)
{
    if (!(*out = gj_value_int(v)))
        return gj__ps_no_memory(err, "integer");
    return 0;
}

int gj__ps_read_value(gj_ps_reader *r, unsigned depth, gj_value **out, gj_error *err)
{
    size_t at = r->pos;
    if (at >= r->len)
        return gj__ps_truncated(r, at, "value", 1, err);
    uint8_t m = r->data[r->pos++];
    size_t n = 0;
    int rc;

    if (m < 0x80)
        return new_int(out, m, err);
    if (m >= 0xF0)
        return new_int(out, (int8_t)m, err);
    switch (m >> 4) {
    case 0x8: {
        const char *s = NULL;
        n = m & 0x0F;
        if ((rc = string_span(r, at, n, &s, err)))
            return rc;
        return make_string(r, out, s, n, at, err);
    }
    case 0x9:
        return gj__ps_read_list(r, at, m & 0x0F, depth, out, err);
    case 0xA:
        return read_map(r, at, m & 0x0F, depth, out, err);
    case 0xB: {
        if (r->pos >= r->len)
            return gj__ps_truncated(r, at, "structure", 1, err);
        uint8_t tag = r->data[r->pos++];
        return gj__ps_read_struct_value(r, at, m & 0x0F, tag, depth, out, err);
    }
    default:
        break;
    }
    switch (m) {
    case GJ_PS_NULL:
        *out = gj_value_null();
        return 0;
    case GJ_PS_TRUE:
    case GJ_PS_FALSE:
        *out = gj_value_bool(m == GJ_PS_TRUE);
        return 0;
    case GJ_PS_FLOAT: {
        if (r->len - r->pos < 8)
            return gj__ps_truncated(r, at, "float", 8, err);
        uint64_t bits = gj__ps_load64(r->data + r->pos);
        double d;
        memcpy(&d, &bits, sizeof d);
        r->pos += 8;
        if (!(*out = gj_value_float(d)))
            return gj__ps_no_memory(err, "float");
        return 0;
    }
    case GJ_PS_INT8:
        if (r->len - r->pos < 1)
            return gj__ps_truncated(r, at, "INT_8", 1, err);
        return new_int(out, (int8_t)r->data[r->pos++], err);
    case GJ_PS_INT16: {
        if (r->len - r->pos < 2)
            return gj__ps_truncated(r, at, "INT_16", 2, err);
        int16_t v = (int16_t)gj__ps_load16(r->data + r->pos);
        r->pos += 2;
        return new_int(out, v, err);
    }
    case GJ_PS_INT32: {
        if (r->len - r->pos < 4)
            return gj__ps_truncated(r, at, "INT_32", 4, err);
        int32_t v = (int32_t)gj__ps_load32(r->data + r->pos);
        r->pos += 4;
        return new_int(out, v, err);
    }
    case GJ_PS_INT64: {
        if (r->len - r->pos < 8)
            return gj__ps_truncated(r, at, "INT_64", 8, err);
        int64_t v = (int64_t)gj__ps_load64(r->data + r->pos);
        r->pos += 8;
        return new_int(out, v, err);
    }
    case GJ_PS_BYTES8:
    case GJ_PS_BYTES16:
    case GJ_PS_BYTES32:
        if ((rc = read_size(r, at, 1u << (m - GJ_PS_BYTES8), "byte array", &n, err)))
            return rc;
        return read_bytes(r, at, n, out, err);
    case GJ_PS_STRING8:
    case GJ_PS_STRING16:
    case GJ_PS_STRING32: {
        const char *s = NULL;
        if ((rc = read_size(r, at, 1u << (m - GJ_PS_STRING8), "string", &n, err)) ||
            (rc = string_span(r, at, n, &s, err)))
            return rc;
        return make_string(r, out, s, n, at, err);
    }
    case GJ_PS_LIST8:
    case GJ_PS_LIST16:
    case GJ_PS_LIST32:
        if ((rc = read_size(r, at, 1u << (m - GJ_PS_LIST8), "list", &n, err)))
            return rc;
        return gj__ps_read_list(r, at, n, depth, out, err);
    case GJ_PS_MAP8:
    case GJ_PS_MAP16:
    case GJ_PS_MAP32:
        if ((rc = read_size(r, at, 1u << (m - GJ_PS_MAP8), "dictionary", &n, err)))
            return rc;
        return read_map(r, at, n, depth, out, err);
    default:
        return gj__error_set(err, GJ_EPROTOCOL, "PackStream reserved marker 0x%02X at byte %zu",
                             m, at);
    }
}

int gj__ps_read_struct_header(gj_ps_reader *r, unsigned *n_fields, uint8_t *tag, gj_error *err)
{
    size_t at = r->pos;
    if (r->len - r->pos < 2)
        return gj__ps_truncated(r, at, "structure", 2, err);
    uint8_t m = r->data[r->pos];
    if ((m & 0xF0) != GJ_PS_TINY_STRUCT)
        return gj__error_set(err, GJ_EPROTOCOL,
                             "PackStream structure expected at byte %zu, found marker 0x%02X", at, m);
    *n_fields = m & 0x0F;
    *tag = r->data[r->pos + 1];
    r->pos += 2;
    return 0;
}

int gj__ps_decode(gj_value **out, const void *data, size_t len, const gj_ps_config *cfg,
                  gj_error *err)
{
    gj_ps_reader r;
    gj__ps_reader_init(&r, data, len, cfg);
    gj_value *v;
    int rc = gj__ps_read_value(&r, 0, &v, err);
    if (rc)
        return rc;
    if (r.pos != r.len) {
        gj_value_unref(v);
        return gj__error_set(err, GJ_EPROTOCOL, "%zu unexpected bytes after a PackStream value at byte %zu",
                             r.len - r.pos, r.pos);
    }
    *out = v;
    return 0;
}

