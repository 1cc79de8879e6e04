/*
 * GraphSON 2.0 / 3.0 encoder (see graphson.h and docs/gremlin-types.md):
 * gj_value trees -> JSON text, written straight into a gj_ps_buf (no json-c
 * objects are built).
 *
 * Three writers: typed() writes a value as Gremlin Server does (every
 * non-JSON value wrapped in {"@type", "@value"}); fields() writes a map with
 * string keys as a plain object of typed values (the "@value" of a
 * g:Property, g:Binding, ...); plain() writes the "@value" of a tagged value
 * of an unknown type back as plain JSON where it can (see graphson.h).
 */
#include "codec/graphson.h"
#include "core/value_internal.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SECONDS_PER_DAY 86400
/* Most items a GraphSON 2.0 BulkSet is expanded to (2.0 has no BulkSet type:
 * each value is repeated bulk times). */
#define BULK_EXPANSION_MAX (1u << 20)
/* Most bytes the expansions of one value may write (nested BulkSets and
 * large items multiply: the item count alone does not bound the output). */
#define BULK_EXPANSION_MAX_BYTES ((size_t)64 << 20)

typedef struct {
    gj_ps_buf *b;
    gj_graphson_version version;
    gj_error *err;
    uint64_t expanded;       /* BulkSet items expanded so far, nested ones included */
    size_t expanded_bytes;   /* bytes those expansions wrote */
} gs_w;

static int typed(gs_w *w, const gj_value *v, unsigned depth);

static int enc_fail(gs_w *w, const char *fmt, ...) GJ__PRINTF(2, 3);
static int enc_fail(gs_w *w, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return gj__error_set(w->err, GJ_EINVAL, "cannot encode as GraphSON %d.0: %s", (int)w->version,
                         msg);
}

static int too_deep(gs_w *w)
{
    return enc_fail(w, "the value nests deeper than %u levels", GJ_GREMLIN_MAX_MAX_DEPTH);
}

/* ---- text primitives ------------------------------------------------------------------ */

int gj__graphson_put_raw(gj_ps_buf *b, const char *s)
{
    return gj__ps_buf_append(b, s, strlen(s));
}

static int raw(gs_w *w, const char *s)
{
    return gj__graphson_put_raw(w->b, s);
}

int gj__graphson_put_string(gj_ps_buf *b, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    int rc = gj__ps_buf_append(b, "\"", 1);
    size_t start = 0;
    for (size_t i = 0; rc == 0 && i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        rc = gj__ps_buf_append(b, s + start, i - start);
        start = i + 1;
        char esc[6] = {'\\', (char)c, 0, 0, 0, 0};
        size_t n = 2;
        switch (c) {
        case '"': case '\\': break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        default:
            esc[1] = 'u', esc[2] = '0', esc[3] = '0', esc[4] = hex[c >> 4], esc[5] = hex[c & 15];
            n = 6;
        }
        if (rc == 0)
            rc = gj__ps_buf_append(b, esc, n);
    }
    if (rc == 0)
        rc = gj__ps_buf_append(b, s + start, len - start);
    return rc ? rc : gj__ps_buf_append(b, "\"", 1);
}

static int str(gs_w *w, const char *s)
{
    return gj__graphson_put_string(w->b, s, strlen(s));
}

int gj__graphson_put_int(gj_ps_buf *b, int64_t i)
{
    char text[24];
    int n = snprintf(text, sizeof text, "%lld", (long long)i);
    return gj__ps_buf_append(b, text, (size_t)n);
}

/* The shortest text that reads back as d (as a float when single), with
 * ".0" on integral values, independent of the locale's decimal point. */
static int put_double(gs_w *w, double d, bool single)
{
    char text[48], clean[48];
    int first = single ? 6 : 15, last = single ? 9 : 17;
    for (int p = first; p <= last; p++) {
        snprintf(text, sizeof text, "%.*g", p, d);
        double back = strtod(text, NULL);
        if (single ? (float)back == (float)d : back == d)
            break;
    }
    size_t n = 0;
    for (const char *p = text; *p; p++) {
        char c = *p;
        if ((c >= '0' && c <= '9') || c == '-' || c == '+' || c == 'e' || c == 'E')
            clean[n++] = c;
        else if (!n || clean[n - 1] != '.')
            clean[n++] = '.';
    }
    clean[n] = '\0';
    if (!strpbrk(clean, ".e")) {
        clean[n++] = '.';
        clean[n++] = '0';
        clean[n] = '\0';
    }
    return raw(w, clean);
}

static int base64(gs_w *w, const uint8_t *d, size_t len)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    int rc = gj__ps_buf_reserve(w->b, (len + 2) / 3 * 4 + 2);
    if (rc)
        return rc;
    char quad[4];
    rc = raw(w, "\"");
    size_t i = 0;
    for (; rc == 0 && i + 3 <= len; i += 3) {
        uint32_t x = (uint32_t)d[i] << 16 | (uint32_t)d[i + 1] << 8 | d[i + 2];
        quad[0] = alphabet[x >> 18], quad[1] = alphabet[(x >> 12) & 63];
        quad[2] = alphabet[(x >> 6) & 63], quad[3] = alphabet[x & 63];
        rc = gj__ps_buf_append(w->b, quad, 4);
    }
    if (rc == 0 && i < len) {
        uint32_t x = (uint32_t)d[i] << 16 | (i + 1 < len ? (uint32_t)d[i + 1] << 8 : 0);
        quad[0] = alphabet[x >> 18], quad[1] = alphabet[(x >> 12) & 63];
        quad[2] = i + 1 < len ? alphabet[(x >> 6) & 63] : '=';
        quad[3] = '=';
        rc = gj__ps_buf_append(w->b, quad, 4);
    }
    return rc ? rc : raw(w, "\"");
}

/* {"@type":"name","@value": ... } */
static int open_typed(gs_w *w, const char *name)
{
    int rc = raw(w, "{\"@type\":");
    if (rc == 0)
        rc = str(w, name);
    return rc ? rc : raw(w, ",\"@value\":");
}

static int close_typed(gs_w *w)
{
    return raw(w, "}");
}

/* A typed scalar whose @value is a JSON string. */
static int typed_text(gs_w *w, const char *name, const char *text, size_t len)
{
    int rc = open_typed(w, name);
    if (rc == 0)
        rc = gj__graphson_put_string(w->b, text, len);
    return rc ? rc : close_typed(w);
}

static int typed_int(gs_w *w, const char *name, int64_t i)
{
    int rc = open_typed(w, name);
    if (rc == 0)
        rc = gj__graphson_put_int(w->b, i);
    return rc ? rc : close_typed(w);
}

/* "key": (with a comma before all but the first) */
static int key(gs_w *w, const char *k, size_t len, bool *first)
{
    int rc = *first ? 0 : raw(w, ",");
    *first = false;
    if (rc == 0)
        rc = gj__graphson_put_string(w->b, k, len);
    return rc ? rc : raw(w, ":");
}

static int ckey(gs_w *w, const char *k, bool *first)
{
    return key(w, k, strlen(k), first);
}

/* ---- helpers ----------------------------------------------------------------------------- */

static int need_string(gs_w *w, const gj_value *v, const char *what, const char **s, size_t *len)
{
    if (gj_value_string_get(v, s, len) != 0)
        return enc_fail(w, "%s is a %s, not a string", what,
                        v ? gj_type_name(gj_value_type(v)) : "missing value");
    return 0;
}

static int need_map(gs_w *w, const gj_value *v, const char *what)
{
    if (gj_value_type(v) != GJ_TMAP)
        return enc_fail(w, "%s is a %s, not a map", what,
                        v ? gj_type_name(gj_value_type(v)) : "missing value");
    return 0;
}

/* The string key i of a map (GJ_EINVAL for another key). */
static int string_key(gs_w *w, const gj_value *map, size_t i, const char **s, size_t *len)
{
    return need_string(w, gj_value_map_key_at(map, i), "a JSON object member name", s, len);
}

/* [typed items] */
static int items(gs_w *w, const gj_value *list, unsigned depth)
{
    size_t n = gj_value_size(list);
    int rc = raw(w, "[");
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (i)
            rc = raw(w, ",");
        if (rc == 0)
            rc = typed(w, gj_value_list_at(list, i), depth + 1);
    }
    return rc ? rc : raw(w, "]");
}

/* A list: g:List / g:Set in 3.0, an array in 2.0. */
static int list_value(gs_w *w, const gj_value *list, const char *name, unsigned depth)
{
    if (w->version == GJ_GRAPHSON_V2)
        return items(w, list, depth);
    int rc = open_typed(w, name);
    if (rc == 0)
        rc = items(w, list, depth);
    return rc ? rc : close_typed(w);
}

/* {"k": typed(v), ...} of a map with string keys, leaving out `skip`. */
static int fields(gs_w *w, const gj_value *map, unsigned depth, const char *skip)
{
    size_t n = gj_value_size(map);
    bool first = true;
    int rc = raw(w, "{");
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const char *k;
        size_t len;
        if ((rc = string_key(w, map, i, &k, &len)) != 0)
            return rc;
        if (skip && !strcmp(k, skip))
            continue;
        rc = key(w, k, len, &first);
        if (rc == 0)
            rc = typed(w, gj_value_map_value_at(map, i), depth + 1);
    }
    return rc ? rc : raw(w, "}");
}

static int map_value(gs_w *w, const gj_value *map, unsigned depth)
{
    if (w->version == GJ_GRAPHSON_V2)
        return fields(w, map, depth, NULL);
    size_t n = gj_value_size(map);
    int rc = open_typed(w, "g:Map");
    if (rc == 0)
        rc = raw(w, "[");
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (i)
            rc = raw(w, ",");
        if (rc == 0)
            rc = typed(w, gj_value_map_key_at(map, i), depth + 1);
        if (rc == 0)
            rc = raw(w, ",");
        if (rc == 0)
            rc = typed(w, gj_value_map_value_at(map, i), depth + 1);
    }
    if (rc == 0)
        rc = raw(w, "]");
    return rc ? rc : close_typed(w);
}

/* ---- graph elements ------------------------------------------------------------------------- */

/* A property value as GraphSON carries it: the value of a tagged g:Property. */
static const gj_value *property_value(const gj_value *v)
{
    return gj__gt_is_tagged(v, "g:Property") ? gj_value_map_get(gj__gt_tagged_inner(v), "value") : v;
}

/* {"k": typed(value), ...} of element properties (GraphSON has no parents). */
static int meta_properties(gs_w *w, const gj_value *props, unsigned depth)
{
    size_t n = gj_value_size(props);
    bool first = true;
    int rc = raw(w, "{");
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const char *k;
        size_t len;
        if ((rc = string_key(w, props, i, &k, &len)) != 0)
            return rc;
        rc = key(w, k, len, &first);
        if (rc == 0)
            rc = typed(w, property_value(gj_value_map_value_at(props, i)), depth + 1);
    }
    return rc ? rc : raw(w, "}");
}

/* The @value of a g:VertexProperty (a tagged value's inner map). */
static int vertex_property_fields(gs_w *w, const gj_value *m, unsigned depth)
{
    int rc = need_map(w, m, "a g:VertexProperty");
    size_t n = gj_value_size(m);
    bool first = true;
    if (rc == 0)
        rc = raw(w, "{");
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const char *k;
        size_t len;
        const gj_value *v = gj_value_map_value_at(m, i);
        if ((rc = string_key(w, m, i, &k, &len)) != 0)
            return rc;
        if (!strcmp(k, "parent") || (!strcmp(k, "properties") && !gj_value_size(v)))
            continue;
        rc = key(w, k, len, &first);
        if (rc == 0 && !strcmp(k, "properties")) {
            if ((rc = need_map(w, v, "vertex property properties")) == 0)
                rc = meta_properties(w, v, depth + 1);
        } else if (rc == 0) {
            rc = typed(w, v, depth + 1);
        }
    }
    return rc ? rc : raw(w, "}");
}

/* A vertex property entry is a list of g:VertexProperty values, or any other
 * value, which is written as one g:VertexProperty with a null id. */
static bool is_vertex_property_list(const gj_value *v)
{
    if (!gj__gt_is_list(v))
        return false;
    size_t n = gj_value_size(v);
    for (size_t i = 0; i < n; i++)
        if (!gj__gt_is_tagged(gj_value_list_at(v, i), "g:VertexProperty"))
            return false;
    return true;
}

static int vertex(gs_w *w, const gj_value *v, unsigned depth)
{
    const gj_value *labels = gj_value_node_labels(v), *props = gj_value_element_properties(v);
    const char *label = "vertex";   /* TinkerPop's default label */
    size_t len = 6, nl = gj_value_size(labels);
    bool first = true;
    int rc = 0;
    if (nl > 1)
        return enc_fail(w, "a vertex has one label, this node has %zu", nl);
    if (nl == 1 && (rc = need_string(w, gj_value_list_at(labels, 0), "a vertex label", &label,
                                     &len)) != 0)
        return rc;
    rc = open_typed(w, "g:Vertex");
    if (rc == 0)
        rc = raw(w, "{");
    if (rc == 0)
        rc = ckey(w, "id", &first);
    if (rc == 0)
        rc = typed(w, gj_value_element_id(v), depth + 1);
    if (rc == 0)
        rc = ckey(w, "label", &first);
    if (rc == 0)
        rc = gj__graphson_put_string(w->b, label, len);
    size_t n = gj_value_size(props);
    if (rc == 0 && n) {
        bool pfirst = true;
        rc = ckey(w, "properties", &first);
        if (rc == 0)
            rc = raw(w, "{");
        for (size_t i = 0; rc == 0 && i < n; i++) {
            const char *k;
            size_t klen;
            const gj_value *p = gj_value_map_value_at(props, i);
            if ((rc = string_key(w, props, i, &k, &klen)) != 0)
                return rc;
            rc = key(w, k, klen, &pfirst);
            if (rc == 0 && is_vertex_property_list(p)) {
                rc = items(w, p, depth + 2);
            } else if (rc == 0) {
                bool vfirst = true;
                rc = raw(w, "[");
                if (rc == 0)
                    rc = open_typed(w, "g:VertexProperty");
                if (rc == 0)
                    rc = raw(w, "{");
                if (rc == 0)
                    rc = ckey(w, "id", &vfirst);
                if (rc == 0)
                    rc = raw(w, "null");
                if (rc == 0)
                    rc = ckey(w, "value", &vfirst);
                if (rc == 0)
                    rc = typed(w, p, depth + 3);
                if (rc == 0)
                    rc = ckey(w, "label", &vfirst);
                if (rc == 0)
                    rc = gj__graphson_put_string(w->b, k, klen);
                if (rc == 0)
                    rc = raw(w, "}}]");
            }
        }
        if (rc == 0)
            rc = raw(w, "}");
    }
    if (rc == 0)
        rc = raw(w, "}");
    return rc ? rc : close_typed(w);
}

static int edge(gs_w *w, const gj_value *v, unsigned depth)
{
    const char *label = "edge";   /* TinkerPop's default label */
    size_t len = 4;
    bool first = true;
    int rc = 0;
    if (gj_value_edge_type(v) &&
        (rc = need_string(w, gj_value_edge_type(v), "an edge label", &label, &len)) != 0)
        return rc;
    const gj_value *in_label = gj_value_edge_end_label(v), *out_label = gj_value_edge_start_label(v);
    const gj_value *in_id = gj_value_edge_end_id(v), *out_id = gj_value_edge_start_id(v);
    const gj_value *props = gj_value_element_properties(v);
    rc = open_typed(w, "g:Edge");
    if (rc == 0)
        rc = raw(w, "{");
    if (rc == 0)
        rc = ckey(w, "id", &first);
    if (rc == 0)
        rc = typed(w, gj_value_element_id(v), depth + 1);
    if (rc == 0)
        rc = ckey(w, "label", &first);
    if (rc == 0)
        rc = gj__graphson_put_string(w->b, label, len);
    if (rc == 0 && in_label && (rc = ckey(w, "inVLabel", &first)) == 0)
        rc = typed(w, in_label, depth + 1);
    if (rc == 0 && out_label && (rc = ckey(w, "outVLabel", &first)) == 0)
        rc = typed(w, out_label, depth + 1);
    if (rc == 0 && in_id && (rc = ckey(w, "inV", &first)) == 0)
        rc = typed(w, in_id, depth + 1);
    if (rc == 0 && out_id && (rc = ckey(w, "outV", &first)) == 0)
        rc = typed(w, out_id, depth + 1);
    size_t n = gj_value_size(props);
    if (rc == 0 && n) {
        bool pfirst = true;
        rc = ckey(w, "properties", &first);
        if (rc == 0)
            rc = raw(w, "{");
        for (size_t i = 0; rc == 0 && i < n; i++) {
            const char *k;
            size_t klen;
            bool f2 = true;
            if ((rc = string_key(w, props, i, &k, &klen)) != 0)
                return rc;
            rc = key(w, k, klen, &pfirst);
            if (rc == 0)
                rc = open_typed(w, "g:Property");
            if (rc == 0)
                rc = raw(w, "{");
            if (rc == 0)
                rc = ckey(w, "key", &f2);
            if (rc == 0)
                rc = gj__graphson_put_string(w->b, k, klen);
            if (rc == 0)
                rc = ckey(w, "value", &f2);
            if (rc == 0)
                rc = typed(w, property_value(gj_value_map_value_at(props, i)), depth + 3);
            if (rc == 0)
                rc = raw(w, "}}");
        }
        if (rc == 0)
            rc = raw(w, "}");
    }
    if (rc == 0)
        rc = raw(w, "}");
    return rc ? rc : close_typed(w);
}

static int path(gs_w *w, const gj_value *v, unsigned depth)
{
    const gj_value *objects = gj_value_path_objects(v), *labels = gj_value_path_labels(v);
    size_t n = labels ? gj_value_size(labels) : gj_value_size(objects);
    bool v3 = w->version == GJ_GRAPHSON_V3, first = true;
    int rc = open_typed(w, "g:Path");
    if (rc == 0)
        rc = raw(w, "{");
    if (rc == 0)
        rc = ckey(w, "labels", &first);
    if (rc == 0)
        rc = v3 ? open_typed(w, "g:List") : 0;
    if (rc == 0)
        rc = raw(w, "[");
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const gj_value *set = labels ? gj_value_list_at(labels, i) : NULL;
        if (set && !gj__gt_is_list(set))
            return enc_fail(w, "path labels item %zu is a %s, not a set", i,
                            gj_type_name(gj_value_type(set)));
        if (i)
            rc = raw(w, ",");
        if (rc == 0)
            rc = v3 ? open_typed(w, "g:Set") : 0;
        if (rc == 0)
            rc = items(w, set, depth + 2);
        if (rc == 0 && v3)
            rc = close_typed(w);
    }
    if (rc == 0)
        rc = raw(w, "]");
    if (rc == 0 && v3)
        rc = close_typed(w);
    if (rc == 0)
        rc = ckey(w, "objects", &first);
    if (rc == 0)
        rc = list_value(w, objects, "g:List", depth + 1);
    if (rc == 0)
        rc = raw(w, "}");
    return rc ? rc : close_typed(w);
}

/* ---- temporal -------------------------------------------------------------------------------- */

static int datetime(gs_w *w, const gj_value *v)
{
    int64_t seconds, local, ms;
    int32_t nanos, offset;
    const char *zone;
    unsigned flags;
    char text[GJ__GT_TEXT_MAX * 2 + GJ__VALUE_NAME_MAX + 4];
    gj_value_datetime_get(v, &seconds, &nanos, &offset, &zone, &flags);
    if (flags & GJ_DATETIME_LOCAL_SECONDS)
        return enc_fail(w, "a datetime in wall-clock seconds of zone %s needs a time-zone "
                        "database to convert", zone ? zone : "(none)");
    if (zone || (flags & GJ_DATETIME_HAS_OFFSET)) {
        if (!(flags & GJ_DATETIME_HAS_OFFSET))
            return enc_fail(w, "a datetime with the zone %s but no offset", zone);
        if (__builtin_add_overflow(seconds, (int64_t)offset, &local))
            return enc_fail(w, "a datetime out of range");
        size_t n = gj__gt_format_local_datetime(text, local, nanos);
        size_t off_at = n;
        n += gj__gt_format_offset(text + n, offset);
        if (zone && strcmp(zone, text + off_at))
            n += (size_t)sprintf(text + n, "[%s]", zone);
        return typed_text(w, zone ? "gx:ZonedDateTime" : "gx:OffsetDateTime", text, n);
    }
    if (gj__gt_ms_join(seconds, nanos, &ms) == 0)
        return typed_int(w, "g:Date", ms);
    return typed_text(w, "gx:Instant", text, gj__gt_format_instant(text, seconds, nanos));
}

static int duration(gs_w *w, const gj_value *v)
{
    int64_t months, days, seconds, total;
    int32_t nanos;
    char text[GJ__GT_TEXT_MAX];
    gj_value_duration_get(v, &months, &days, &seconds, &nanos);
    if (months == 0) {
        if (__builtin_mul_overflow(days, (int64_t)SECONDS_PER_DAY, &total) ||
            __builtin_add_overflow(total, seconds, &total) ||
            gj__gt_duration_normalise(&total, &nanos) != 0)
            return enc_fail(w, "a duration out of range");
        return typed_text(w, "gx:Duration", text, gj__gt_format_duration(text, total, nanos));
    }
    if (seconds || nanos)
        return enc_fail(w, "a duration with both months and seconds (Gremlin has Period or "
                        "Duration, not both)");
    if (months < INT32_MIN || months > INT32_MAX || days < INT32_MIN || days > INT32_MAX)
        return enc_fail(w, "a period out of range");
    return typed_text(w, "gx:Period", text,
                      gj__gt_format_period(text, 0, (int32_t)months, (int32_t)days));
}

/* ---- tagged values --------------------------------------------------------------------------- */

/* The "@value" of an unknown type: plain JSON where it can be. */
static int plain(gs_w *w, const gj_value *v, unsigned depth)
{
    if (depth > GJ_GREMLIN_MAX_MAX_DEPTH)
        return too_deep(w);
    gj_type type = gj_value_type(v);
    if (type == GJ_TINT && gj_value_int_bits(v) == 64) {
        int64_t i = 0;
        gj_value_int_get(v, &i);
        return gj__graphson_put_int(w->b, i);
    }
    if (type == GJ_TFLOAT && gj_value_float_bits(v) == 64) {
        double d = 0;
        gj_value_float_get(v, &d);
        if (isfinite(d))
            return put_double(w, d, false);
    }
    if (gj__gt_is_list(v)) {
        size_t n = gj_value_size(v);
        int rc = raw(w, "[");
        for (size_t i = 0; rc == 0 && i < n; i++) {
            if (i)
                rc = raw(w, ",");
            if (rc == 0)
                rc = plain(w, gj_value_list_at(v, i), depth + 1);
        }
        return rc ? rc : raw(w, "]");
    }
    if (type == GJ_TMAP) {
        size_t n = gj_value_size(v);
        bool strings = true;
        for (size_t i = 0; i < n; i++)
            strings &= gj_value_type(gj_value_map_key_at(v, i)) == GJ_TSTRING;
        if (strings) {
            bool first = true;
            int rc = raw(w, "{");
            for (size_t i = 0; rc == 0 && i < n; i++) {
                const char *k;
                size_t len;
                gj_value_string_get(gj_value_map_key_at(v, i), &k, &len);
                rc = key(w, k, len, &first);
                if (rc == 0)
                    rc = plain(w, gj_value_map_value_at(v, i), depth + 1);
            }
            return rc ? rc : raw(w, "}");
        }
    }
    return typed(w, v, depth);
}

/* Bytecode {"step": [[name, args...]...], "source": [...]}. */
static int bytecode(gs_w *w, const gj_value *m, unsigned depth)
{
    size_t n = gj_value_size(m);
    bool first = true;
    int rc = raw(w, "{");
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const char *k;
        size_t len;
        const gj_value *v = gj_value_map_value_at(m, i);
        if ((rc = string_key(w, m, i, &k, &len)) != 0)
            return rc;
        rc = key(w, k, len, &first);
        if (rc == 0 && gj__gt_is_list(v) && (!strcmp(k, "step") || !strcmp(k, "source"))) {
            size_t ni = gj_value_size(v);
            rc = raw(w, "[");
            for (size_t j = 0; rc == 0 && j < ni; j++) {
                const gj_value *inst = gj_value_list_at(v, j);
                if (!gj__gt_is_list(inst))
                    return enc_fail(w, "a Bytecode instruction is not a list [name, args...]");
                if (j)
                    rc = raw(w, ",");
                if (rc == 0)
                    rc = items(w, inst, depth + 2);
            }
            if (rc == 0)
                rc = raw(w, "]");
        } else if (rc == 0) {
            rc = typed(w, v, depth + 1);
        }
    }
    return rc ? rc : raw(w, "}");
}

/* {"script", "language", "arguments" (bare)} and P {"predicate", "value"}
 * (the connectives' value a plain array of predicates). */
static int lambda_or_p(gs_w *w, const gj_value *m, bool lambda, unsigned depth)
{
    const char *pred = "";
    size_t plen;
    if (!lambda)
        gj_value_string_get(gj_value_map_get(m, "predicate"), &pred, &plen);
    bool connective = !strcmp(pred, "and") || !strcmp(pred, "or");
    size_t n = gj_value_size(m);
    bool first = true;
    int rc = raw(w, "{");
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const char *k;
        size_t len;
        const gj_value *v = gj_value_map_value_at(m, i);
        if ((rc = string_key(w, m, i, &k, &len)) != 0)
            return rc;
        rc = key(w, k, len, &first);
        if (rc)
            break;
        if (lambda && !strcmp(k, "arguments") && gj_value_type(v) == GJ_TINT) {
            int64_t a = 0;
            gj_value_int_get(v, &a);
            rc = gj__graphson_put_int(w->b, a);
        } else if (connective && !strcmp(k, "value") && gj__gt_is_list(v)) {
            rc = items(w, v, depth + 1);
        } else {
            rc = typed(w, v, depth + 1);
        }
    }
    return rc ? rc : raw(w, "}");
}

/* GraphSON 2.0 BulkSet: the values repeated bulk times in an array. */
static int bulk_set_v2(gs_w *w, const gj_value *list, unsigned depth)
{
    size_t n = gj_value_size(list);
    uint64_t total = 0;
    for (size_t i = 1; i < n; i += 2) {
        int64_t bulk;
        if (gj_value_int_get(gj_value_list_at(list, i), &bulk) != 0 || bulk < 0)
            return enc_fail(w, "a g:BulkSet bulk is not a count");
        total += (uint64_t)bulk;
        if (total > BULK_EXPANSION_MAX || w->expanded + total > BULK_EXPANSION_MAX)
            return gj__error_set(w->err, GJ_ETOOBIG, "cannot encode as GraphSON 2.0: a g:BulkSet "
                                 "expands to more than %u items", BULK_EXPANSION_MAX);
    }
    w->expanded += total;
    bool first = true;
    int rc = raw(w, "[");
    for (size_t i = 0; rc == 0 && i + 1 < n; i += 2) {
        int64_t bulk = 0;
        gj_value_int_get(gj_value_list_at(list, i + 1), &bulk);
        for (int64_t k = 0; rc == 0 && k < bulk; k++) {
            size_t before = w->b->len;
            rc = first ? 0 : raw(w, ",");
            first = false;
            if (rc == 0)
                rc = typed(w, gj_value_list_at(list, i), depth + 1);
            if (rc == 0 && (w->expanded_bytes += w->b->len - before) > BULK_EXPANSION_MAX_BYTES)
                rc = gj__error_set(w->err, GJ_ETOOBIG, "cannot encode as GraphSON 2.0: g:BulkSet "
                                   "expansion exceeds %zu bytes", BULK_EXPANSION_MAX_BYTES);
        }
    }
    return rc ? rc : raw(w, "]");
}

static int tagged(gs_w *w, const gj_value *v, unsigned depth)
{
    const char *tag;
    const gj_value *inner;
    gj_value_tagged_get(v, &tag, &inner);
    const gj_gt_type *t = gj__gt_by_name(tag, strlen(tag));
    const char *s;
    size_t len;
    int rc;
    if (!t) {
        rc = open_typed(w, tag);
        if (rc == 0)
            rc = plain(w, inner, depth + 1);
        return rc ? rc : close_typed(w);
    }
    switch (t->kind) {
    case GJ_GT_ENUM: case GJ_GT_CLASS: case GJ_GT_CHAR: case GJ_GT_YEAR: case GJ_GT_YEAR_MONTH:
    case GJ_GT_MONTH_DAY: case GJ_GT_PERIOD: case GJ_GT_ZONE_OFFSET: case GJ_GT_INET:
        if ((rc = need_string(w, inner, tag, &s, &len)) != 0)
            return rc;
        return typed_text(w, tag, s, len);
    case GJ_GT_TIMESTAMP: case GJ_GT_INSTANT: {
        int64_t seconds, ms;
        int32_t nanos;
        char text[GJ__GT_TEXT_MAX];
        if (gj_value_type(inner) != GJ_TDATETIME)
            return enc_fail(w, "%s holds a %s, not a datetime", tag,
                            gj_type_name(gj_value_type(inner)));
        gj_value_datetime_get(inner, &seconds, &nanos, NULL, NULL, NULL);
        if (t->kind == GJ_GT_INSTANT)
            return typed_text(w, tag, text, gj__gt_format_instant(text, seconds, nanos));
        if (gj__gt_ms_join(seconds, nanos, &ms) != 0)
            return enc_fail(w, "g:Timestamp has more than millisecond precision");
        return typed_int(w, tag, ms);
    }
    case GJ_GT_BIG_INTEGER: case GJ_GT_BIG_DECIMAL:
        if ((rc = need_string(w, inner, tag, &s, &len)) != 0)
            return rc;
        if (!gj__gt_json_number(s, len) ||
            (t->kind == GJ_GT_BIG_INTEGER && !gj__gt_integer_text(s, len)))
            return enc_fail(w, "%s \"%.40s\" is not a number", tag, s);
        rc = open_typed(w, tag);
        if (rc == 0)
            rc = gj__ps_buf_append(w->b, s, len);
        return rc ? rc : close_typed(w);
    default:
        break;
    }
    bool list_kind = t->kind == GJ_GT_BULK_SET || t->kind == GJ_GT_TREE;
    if (list_kind ? !gj__gt_is_list(inner) : gj_value_type(inner) != GJ_TMAP)
        return enc_fail(w, "%s holds a %s, not a %s", tag, gj_type_name(gj_value_type(inner)),
                        list_kind ? "list" : "map");
    if (t->kind == GJ_GT_BULK_SET && w->version == GJ_GRAPHSON_V2)
        return bulk_set_v2(w, inner, depth);
    rc = open_typed(w, tag);
    if (rc)
        return rc;
    switch (t->kind) {
    case GJ_GT_PROPERTY:
        rc = fields(w, inner, depth, "parent");
        break;
    case GJ_GT_VERTEX_PROPERTY:
        rc = vertex_property_fields(w, inner, depth);
        break;
    case GJ_GT_BYTECODE:
        rc = bytecode(w, inner, depth);
        break;
    case GJ_GT_LAMBDA: case GJ_GT_P:
        rc = lambda_or_p(w, inner, t->kind == GJ_GT_LAMBDA, depth);
        break;
    case GJ_GT_BULK_SET:
        rc = items(w, inner, depth);
        break;
    case GJ_GT_TREE: {
        size_t n = gj_value_size(inner);
        rc = raw(w, "[");
        for (size_t i = 0; rc == 0 && i < n; i++) {
            const gj_value *item = gj_value_list_at(inner, i);
            if (i)
                rc = raw(w, ",");
            if (rc == 0 && (rc = need_map(w, item, "a g:Tree entry")) == 0)
                rc = fields(w, item, depth + 1, NULL);
        }
        if (rc == 0)
            rc = raw(w, "]");
        break;
    }
    case GJ_GT_METRICS: case GJ_GT_TRAVERSAL_METRICS:
        rc = w->version == GJ_GRAPHSON_V3 ? map_value(w, inner, depth + 1)
                                          : fields(w, inner, depth, NULL);
        break;
    case GJ_GT_GRAPH: {
        size_t n = gj_value_size(inner);
        bool first = true;
        rc = raw(w, "{");
        for (size_t i = 0; rc == 0 && i < n; i++) {
            const gj_value *item = gj_value_map_value_at(inner, i);
            if ((rc = string_key(w, inner, i, &s, &len)) != 0)
                return rc;
            rc = key(w, s, len, &first);
            if (rc == 0)
                rc = gj__gt_is_list(item) ? items(w, item, depth + 1) : typed(w, item, depth + 1);
        }
        if (rc == 0)
            rc = raw(w, "}");
        break;
    }
    default:   /* binding, traverser, strategy */
        rc = fields(w, inner, depth, NULL);
        break;
    }
    return rc ? rc : close_typed(w);
}

/* ---- dispatch ------------------------------------------------------------------------------ */

static int typed(gs_w *w, const gj_value *v, unsigned depth)
{
    if (!v)
        return raw(w, "null");
    if (w->b->error)
        return w->b->error;
    if (depth > GJ_GREMLIN_MAX_MAX_DEPTH)
        return too_deep(w);
    char text[GJ__GT_TEXT_MAX * 2];
    switch (gj_value_type(v)) {
    case GJ_TNULL:
        return raw(w, "null");
    case GJ_TBOOL: {
        bool x = false;
        gj_value_bool_get(v, &x);
        return raw(w, x ? "true" : "false");
    }
    case GJ_TINT: {
        static const char *const names[] = {"gx:Byte", "gx:Int16", "g:Int32", "g:Int64"};
        unsigned bits = gj_value_int_bits(v);
        int64_t i = 0;
        gj_value_int_get(v, &i);
        return typed_int(w, names[bits == 8 ? 0 : bits == 16 ? 1 : bits == 32 ? 2 : 3], i);
    }
    case GJ_TFLOAT: {
        double d = 0;
        bool single = gj_value_float_bits(v) == 32;
        gj_value_float_get(v, &d);
        int rc = open_typed(w, single ? "g:Float" : "g:Double");
        if (rc == 0)
            rc = isnan(d) ? raw(w, "\"NaN\"")
                 : isinf(d) ? raw(w, d > 0 ? "\"Infinity\"" : "\"-Infinity\"")
                            : put_double(w, d, single);
        return rc ? rc : close_typed(w);
    }
    case GJ_TSTRING: {
        const char *s = "";
        size_t len = 0;
        gj_value_string_get(v, &s, &len);
        return gj__graphson_put_string(w->b, s, len);
    }
    case GJ_TBYTES: {
        const uint8_t *d = NULL;
        size_t len = 0;
        gj_value_bytes_get(v, &d, &len);
        int rc = open_typed(w, "gx:ByteBuffer");
        if (rc == 0)
            rc = base64(w, d, len);
        return rc ? rc : close_typed(w);
    }
    case GJ_TUUID: {
        uint8_t u[16];
        gj_value_uuid_get(v, u);
        int n = snprintf(text, sizeof text,
                         "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
                         u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11],
                         u[12], u[13], u[14], u[15]);
        return typed_text(w, "g:UUID", text, (size_t)n);
    }
    case GJ_TLIST:
        return list_value(w, v, "g:List", depth);
    case GJ_TSET:
        return list_value(w, v, "g:Set", depth);
    case GJ_TMAP:
        return map_value(w, v, depth);
    case GJ_TNODE:
        return vertex(w, v, depth);
    case GJ_TEDGE:
        return edge(w, v, depth);
    case GJ_TPATH:
        return path(w, v, depth);
    case GJ_TDATE: {
        int64_t days = 0;
        gj_value_date_get(v, &days);
        return typed_text(w, "gx:LocalDate", text, gj__gt_format_date(text, days));
    }
    case GJ_TTIME: case GJ_TLOCAL_TIME: {
        int64_t nanos = 0;
        int32_t offset = 0;
        bool with_offset = gj_value_type(v) == GJ_TTIME;
        gj_value_time_get(v, &nanos, with_offset ? &offset : NULL);
        size_t n = gj__gt_format_time(text, nanos);
        if (with_offset)
            n += gj__gt_format_offset(text + n, offset);
        return typed_text(w, with_offset ? "gx:OffsetTime" : "gx:LocalTime", text, n);
    }
    case GJ_TDATETIME:
        return datetime(w, v);
    case GJ_TLOCAL_DATETIME: {
        int64_t seconds = 0;
        int32_t nanos = 0;
        gj_value_datetime_get(v, &seconds, &nanos, NULL, NULL, NULL);
        return typed_text(w, "gx:LocalDateTime", text,
                          gj__gt_format_local_datetime(text, seconds, nanos));
    }
    case GJ_TDURATION:
        return duration(w, v);
    case GJ_TTAGGED:
        return tagged(w, v, depth);
    case GJ_TPOINT:
        return enc_fail(w, "Gremlin has no point type");
    }
    return enc_fail(w, "a value of type %s", gj_type_name(gj_value_type(v)));
}

int gj__graphson_put_value(gj_ps_buf *b, gj_graphson_version version, const gj_value *v,
                           gj_error *err)
{
    gs_w w = {b, version, err, 0, 0};
    if (version != GJ_GRAPHSON_V2 && version != GJ_GRAPHSON_V3)
        return gj__error_set(err, GJ_EINVAL, "GraphSON version %d is not 2 or 3", (int)version);
    int rc = typed(&w, v, 0);
    return rc && b->error ? gj__ps_buf_check(b, err) : rc;
}

int gj__graphson_encode(gj_ps_buf *b, gj_graphson_version version, const gj_value *v,
                        gj_error *err)
{
    return gj__graphson_put_value(b, version, v, err);
}
