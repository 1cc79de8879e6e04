/*
 * GraphBinary 1.0 encoder (see graphbinary.h and docs/gremlin-types.md):
 * gj_value trees -> fully qualified values.
 *
 * Writes go to a gj_ps_buf whose first failure sticks, so the writers below
 * return the buffer's state and callers stop at the first non-zero code.  A
 * value GraphBinary cannot carry (a point, a datetime with a zone id but no
 * offset, a tagged value of an unknown type that is not a custom one, a
 * field of the wrong type inside a tagged value) is GJ_EINVAL naming it.
 */
#include "codec/graphbinary.h"
#include "core/value_internal.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NANOS_PER_SECOND 1000000000
#define SECONDS_PER_DAY 86400
#define JAVA_YEAR_MAX 999999999

static int put_value(gj_ps_buf *b, const gj_value *v, unsigned depth, gj_error *err);

static int enc_fail(gj_error *err, const char *fmt, ...) GJ__PRINTF(2, 3);
static int enc_fail(gj_error *err, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return gj__error_set(err, GJ_EINVAL, "cannot encode as GraphBinary: %s", msg);
}

/* ---- primitives ------------------------------------------------------------------ */

int gj__gb_put_u8(gj_ps_buf *b, uint8_t v)
{
    return gj__ps_buf_append(b, &v, 1);
}

int gj__gb_put_int(gj_ps_buf *b, int32_t v)
{
    uint32_t u = (uint32_t)v;
    uint8_t p[4] = {(uint8_t)(u >> 24), (uint8_t)(u >> 16), (uint8_t)(u >> 8), (uint8_t)u};
    return gj__ps_buf_append(b, p, 4);
}

int gj__gb_put_long(gj_ps_buf *b, int64_t v)
{
    uint64_t u = (uint64_t)v;
    uint8_t p[8];
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(u >> (56 - 8 * i));
    return gj__ps_buf_append(b, p, 8);
}

int gj__gb_put_uuid(gj_ps_buf *b, const uint8_t uuid[16])
{
    return gj__ps_buf_append(b, uuid, 16);
}

/* A length that must fit an Int; an over-long one is a sticky GJ_ETOOBIG. */
static int put_length(gj_ps_buf *b, size_t n)
{
    if (n > INT32_MAX) {
        if (!b->error) {
            b->error = GJ_ETOOBIG;
            b->wanted = n;
        }
        return b->error;
    }
    return gj__gb_put_int(b, (int32_t)n);
}

int gj__gb_put_string(gj_ps_buf *b, const char *s, size_t len)
{
    int rc = put_length(b, len);
    return rc ? rc : gj__ps_buf_append(b, s, len);
}

static int put_cstring(gj_ps_buf *b, const char *s)
{
    return gj__gb_put_string(b, s, strlen(s));
}

static int head(gj_ps_buf *b, uint8_t code)
{
    uint8_t h[2] = {code, GJ_GB_FLAG_VALUE};
    return gj__ps_buf_append(b, h, 2);
}

static int put_null(gj_ps_buf *b)
{
    uint8_t h[2] = {GJ_GB_UNSPECIFIED_NULL, GJ_GB_FLAG_NULL};
    return gj__ps_buf_append(b, h, 2);
}

/* ---- helpers for tagged fields ------------------------------------------------------ */

/* A string field (or value); what names it in errors. */
static int string_of(const gj_value *v, const char *what, const char **s, size_t *len,
                     gj_error *err)
{
    if (gj_value_string_get(v, s, len) != 0)
        return enc_fail(err, "%s is a %s, not a string", what,
                        v ? gj_type_name(gj_value_type(v)) : "missing value");
    return 0;
}

static int int_of(const gj_value *v, const char *what, int64_t *i, gj_error *err)
{
    if (gj_value_int_get(v, i) != 0)
        return enc_fail(err, "%s is a %s, not an integer", what,
                        v ? gj_type_name(gj_value_type(v)) : "missing value");
    return 0;
}

static int int32_of(const gj_value *v, const char *what, int32_t *i, gj_error *err)
{
    int64_t x;
    int rc = int_of(v, what, &x, err);
    if (rc == 0 && (x < INT32_MIN || x > INT32_MAX))
        rc = enc_fail(err, "%s (%lld) does not fit an Int", what, (long long)x);
    if (rc == 0)
        *i = (int32_t)x;
    return rc;
}

static int map_of(const gj_value *v, const char *what, gj_error *err)
{
    if (gj_value_type(v) != GJ_TMAP)
        return enc_fail(err, "%s is a %s, not a map", what,
                        v ? gj_type_name(gj_value_type(v)) : "missing value");
    return 0;
}

/* ---- collections ------------------------------------------------------------------------ */

/* {length}{item...} of a list or set. */
static int put_items(gj_ps_buf *b, const gj_value *list, unsigned depth, gj_error *err)
{
    size_t n = gj_value_size(list);
    int rc = put_length(b, n);
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = put_value(b, gj_value_list_at(list, i), depth + 1, err);
    return rc;
}

int gj__gb_put_map(gj_ps_buf *b, const gj_value *map, unsigned depth, gj_error *err)
{
    if (map && gj_value_type(map) != GJ_TMAP)
        return enc_fail(err, "a %s where a map is needed", gj_type_name(gj_value_type(map)));
    size_t n = gj_value_size(map);
    int rc = put_length(b, n);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        rc = put_value(b, gj_value_map_key_at(map, i), depth + 1, err);
        if (rc == 0)
            rc = put_value(b, gj_value_map_value_at(map, i), depth + 1, err);
    }
    return rc;
}

/* ---- graph elements ------------------------------------------------------------------------ */

/* True when v is a tagged g:Property whose key is the text key: the
 * property itself (as the decoder keeps one with a parent), not a property
 * whose value is a Property. */
static bool is_property_of(const gj_value *v, const gj_value *key)
{
    const char *a, *b;
    size_t alen, blen;
    if (!gj__gt_is_tagged(v, "g:Property"))
        return false;
    const gj_value *k = gj_value_map_get(gj__gt_tagged_inner(v), "key");
    return gj_value_string_get(k, &a, &alen) == 0 && gj_value_string_get(key, &b, &blen) == 0 &&
           alen == blen && memcmp(a, b, alen) == 0;
}

/* A Property {key}{value}{parent}: a tagged g:Property under its own key as
 * it is, else key -> value with a null parent. */
static int put_property(gj_ps_buf *b, const gj_value *key, const gj_value *value,
                        unsigned depth, gj_error *err)
{
    const gj_value *parent = NULL;
    if (is_property_of(value, key)) {
        const gj_value *inner = gj__gt_tagged_inner(value);
        parent = gj_value_map_get(inner, "parent");
        value = gj_value_map_get(inner, "value");
    }
    const char *k;
    size_t klen;
    int rc = string_of(key, "a property key", &k, &klen, err);
    if (rc == 0)
        rc = head(b, GJ_GB_PROPERTY);
    if (rc == 0)
        rc = gj__gb_put_string(b, k, klen);
    if (rc == 0)
        rc = put_value(b, value, depth + 1, err);
    if (rc == 0)
        rc = put_value(b, parent, depth + 1, err);
    return rc;
}

/* Properties key -> value as {length}{Property...} (the list's items are at
 * depth + 1). */
static int put_property_items(gj_ps_buf *b, const gj_value *props, unsigned depth,
                              gj_error *err)
{
    if (props) {
        int rc = map_of(props, "element properties", err);
        if (rc)
            return rc;
    }
    size_t n = gj_value_size(props);
    int rc = put_length(b, n);
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = put_property(b, gj_value_map_key_at(props, i), gj_value_map_value_at(props, i),
                          depth + 1, err);
    return rc;
}

/* Fully qualified properties: absent -> null, else a List of Property. */
static int put_properties(gj_ps_buf *b, const gj_value *props, unsigned depth, gj_error *err)
{
    if (!props || props == gj__value_empty_map())
        return put_null(b);
    int rc = head(b, GJ_GB_LIST);
    return rc ? rc : put_property_items(b, props, depth, err);
}

/* A VertexProperty from a tagged value's inner map, or made of key -> value
 * (id null).  graph_format: the TinkerGraph layout (no code and flag, the
 * properties as a value-only List). */
static int put_vertex_property(gj_ps_buf *b, const gj_value *inner, const gj_value *key,
                               const gj_value *value, unsigned depth, bool graph_format,
                               gj_error *err)
{
    const gj_value *id = NULL, *label = key, *parent = NULL, *props = NULL;
    int rc;
    if (inner) {
        if ((rc = map_of(inner, "a g:VertexProperty", err)) != 0)
            return rc;
        id = gj_value_map_get(inner, "id");
        if (gj_value_map_get(inner, "label"))
            label = gj_value_map_get(inner, "label");
        value = gj_value_map_get(inner, "value");
        parent = gj_value_map_get(inner, "parent");
        props = gj_value_map_get(inner, "properties");
    }
    const char *l;
    size_t llen;
    if ((rc = string_of(label, "a vertex property label", &l, &llen, err)) != 0)
        return rc;
    if (!graph_format && (rc = head(b, GJ_GB_VERTEX_PROPERTY)) != 0)
        return rc;
    if ((rc = put_value(b, id, depth + 1, err)) == 0 &&
        (rc = gj__gb_put_string(b, l, llen)) == 0 &&
        (rc = put_value(b, value, depth + 1, err)) == 0 &&
        (rc = put_value(b, parent, depth + 1, err)) == 0)
        rc = graph_format ? put_property_items(b, props, depth + 1, err)
                          : put_properties(b, props, depth + 1, err);
    return rc;
}

/* A vertex property entry is a list of g:VertexProperty values (GraphSON's
 * shape), or any other value, which becomes one VertexProperty. */
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

static size_t count_vertex_properties(const gj_value *props)
{
    size_t total = 0, n = gj_value_size(props);
    for (size_t i = 0; i < n; i++) {
        const gj_value *v = gj_value_map_value_at(props, i);
        total += is_vertex_property_list(v) ? gj_value_size(v) : 1;
    }
    return total;
}

/* The vertex properties as {length}{VertexProperty...}, items at depth. */
static int put_vertex_properties(gj_ps_buf *b, const gj_value *props, unsigned depth,
                                 bool graph_format, gj_error *err)
{
    int rc = put_length(b, count_vertex_properties(props));
    size_t n = gj_value_size(props);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const gj_value *key = gj_value_map_key_at(props, i), *v = gj_value_map_value_at(props, i);
        if (!is_vertex_property_list(v)) {
            rc = put_vertex_property(b, NULL, key, v, depth, graph_format, err);
            continue;
        }
        size_t m = gj_value_size(v);
        for (size_t j = 0; rc == 0 && j < m; j++)
            rc = put_vertex_property(b, gj__gt_tagged_inner(gj_value_list_at(v, j)), key, NULL, depth,
                                     graph_format, err);
    }
    return rc;
}

static int vertex_label(const gj_value *node, const char **s, size_t *len, gj_error *err)
{
    const gj_value *labels = gj_value_node_labels(node);
    size_t n = gj_value_size(labels);
    if (n == 0) {
        *s = "vertex";   /* TinkerPop's default label */
        *len = 6;
        return 0;
    }
    if (n > 1)
        return enc_fail(err, "a vertex has one label, this node has %zu", n);
    return string_of(gj_value_list_at(labels, 0), "a vertex label", s, len, err);
}

static int put_vertex(gj_ps_buf *b, const gj_value *v, unsigned depth, gj_error *err)
{
    const char *label;
    size_t len;
    int rc = vertex_label(v, &label, &len, err);
    if (rc == 0)
        rc = head(b, GJ_GB_VERTEX);
    if (rc == 0)
        rc = put_value(b, gj_value_element_id(v), depth + 1, err);
    if (rc == 0)
        rc = gj__gb_put_string(b, label, len);
    if (rc)
        return rc;
    const gj_value *props = gj_value_element_properties(v);
    if (!props || props == gj__value_empty_map())
        return put_null(b);
    if (depth + 1 > GJ_GREMLIN_MAX_MAX_DEPTH)
        return enc_fail(err, "the value nests deeper than %u levels", GJ_GREMLIN_MAX_MAX_DEPTH);
    rc = head(b, GJ_GB_LIST);
    return rc ? rc : put_vertex_properties(b, props, depth + 2, false, err);
}

/* An edge end's label: a String value (standard), or fully qualified and
 * null when absent (graph layout). */
static int put_end_label(gj_ps_buf *b, const gj_value *label, bool graph_format, gj_error *err)
{
    if (graph_format && !label)
        return put_null(b);
    const char *s = "vertex";
    size_t len = 6;
    if (label) {
        int rc = string_of(label, "an edge end label", &s, &len, err);
        if (rc)
            return rc;
    }
    if (graph_format) {
        int rc = head(b, GJ_GB_STRING);
        if (rc)
            return rc;
    }
    return gj__gb_put_string(b, s, len);
}

static int put_edge(gj_ps_buf *b, const gj_value *v, unsigned depth, bool graph_format,
                    gj_error *err)
{
    const char *label = "edge";   /* TinkerPop's default label */
    size_t len = 4;
    int rc = 0;
    if (gj_value_edge_type(v))
        rc = string_of(gj_value_edge_type(v), "an edge label", &label, &len, err);
    if (rc == 0 && !graph_format)
        rc = head(b, GJ_GB_EDGE);
    if (rc == 0)
        rc = put_value(b, gj_value_element_id(v), depth + 1, err);
    if (rc == 0)
        rc = gj__gb_put_string(b, label, len);
    if (rc == 0)
        rc = put_value(b, gj_value_edge_end_id(v), depth + 1, err);
    if (rc == 0)
        rc = put_end_label(b, gj_value_edge_end_label(v), graph_format, err);
    if (rc == 0)
        rc = put_value(b, gj_value_edge_start_id(v), depth + 1, err);
    if (rc == 0)
        rc = put_end_label(b, gj_value_edge_start_label(v), graph_format, err);
    if (rc == 0)
        rc = put_null(b);   /* parent */
    if (rc)
        return rc;
    const gj_value *props = gj_value_element_properties(v);
    return graph_format ? put_property_items(b, props, depth + 1, err)
                        : put_properties(b, props, depth + 1, err);
}

static int put_path(gj_ps_buf *b, const gj_value *v, unsigned depth, gj_error *err)
{
    const gj_value *objects = gj_value_path_objects(v), *labels = gj_value_path_labels(v);
    size_t n = labels ? gj_value_size(labels) : gj_value_size(objects);
    int rc = head(b, GJ_GB_PATH);
    if (rc == 0)
        rc = head(b, GJ_GB_LIST);
    if (rc == 0)
        rc = put_length(b, n);
    if (rc == 0 && depth + 2 > GJ_GREMLIN_MAX_MAX_DEPTH)
        rc = enc_fail(err, "the value nests deeper than %u levels", GJ_GREMLIN_MAX_MAX_DEPTH);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const gj_value *set = labels ? gj_value_list_at(labels, i) : NULL;
        if (set && !gj__gt_is_list(set))
            return enc_fail(err, "path labels item %zu is a %s, not a set", i,
                            gj_type_name(gj_value_type(set)));
        rc = head(b, GJ_GB_SET);
        if (rc == 0)
            rc = put_items(b, set, depth + 2, err);
    }
    if (rc == 0)
        rc = head(b, GJ_GB_LIST);
    return rc ? rc : put_items(b, objects, depth + 1, err);
}

/* ---- temporal ------------------------------------------------------------------------------ */

static int put_local_date(gj_ps_buf *b, int64_t days, gj_error *err)
{
    int64_t y;
    unsigned m, d;
    gj__civil_from_days(days, &y, &m, &d);
    if (y < -JAVA_YEAR_MAX || y > JAVA_YEAR_MAX)
        return enc_fail(err, "the year %lld is out of Java's range", (long long)y);
    int rc = gj__gb_put_int(b, (int32_t)y);
    if (rc == 0)
        rc = gj__gb_put_u8(b, (uint8_t)m);
    return rc ? rc : gj__gb_put_u8(b, (uint8_t)d);
}

/* Wall-clock seconds + nanos as {LocalDate}{LocalTime}. */
static int put_local_datetime(gj_ps_buf *b, int64_t seconds, int32_t nanos, gj_error *err)
{
    int64_t days = seconds / SECONDS_PER_DAY, sod = seconds % SECONDS_PER_DAY;
    if (sod < 0) {
        sod += SECONDS_PER_DAY;
        days--;
    }
    int rc = put_local_date(b, days, err);
    return rc ? rc : gj__gb_put_long(b, sod * NANOS_PER_SECOND + nanos);
}

static int put_datetime(gj_ps_buf *b, const gj_value *v, gj_error *err)
{
    int64_t seconds, local, ms;
    int32_t nanos, offset;
    const char *zone;
    unsigned flags;
    gj_value_datetime_get(v, &seconds, &nanos, &offset, &zone, &flags);
    if (flags & GJ_DATETIME_LOCAL_SECONDS)
        return enc_fail(err, "a datetime in wall-clock seconds of zone %s needs a time-zone "
                        "database to convert", zone ? zone : "(none)");
    if (zone || (flags & GJ_DATETIME_HAS_OFFSET)) {
        if (!(flags & GJ_DATETIME_HAS_OFFSET))
            return enc_fail(err, "a datetime with the zone %s but no offset", zone);
        if (__builtin_add_overflow(seconds, (int64_t)offset, &local))
            return enc_fail(err, "a datetime out of range");
        int rc = head(b, zone ? GJ_GB_ZONED_DATE_TIME : GJ_GB_OFFSET_DATE_TIME);
        if (rc == 0)
            rc = put_local_datetime(b, local, nanos, err);
        return rc ? rc : gj__gb_put_int(b, offset);
    }
    /* An instant: java.util.Date when it has whole milliseconds. */
    if (gj__gt_ms_join(seconds, nanos, &ms) == 0) {
        int rc = head(b, GJ_GB_DATE);
        return rc ? rc : gj__gb_put_long(b, ms);
    }
    int rc = head(b, GJ_GB_INSTANT);
    if (rc == 0)
        rc = gj__gb_put_long(b, seconds);
    return rc ? rc : gj__gb_put_int(b, nanos);
}

static int put_duration(gj_ps_buf *b, const gj_value *v, gj_error *err)
{
    int64_t months, days, seconds, total;
    int32_t nanos;
    gj_value_duration_get(v, &months, &days, &seconds, &nanos);
    if (months == 0) {
        /* java.time.Duration: days are exactly 24 hours. */
        if (__builtin_mul_overflow(days, (int64_t)SECONDS_PER_DAY, &total) ||
            __builtin_add_overflow(total, seconds, &total) ||
            gj__gt_duration_normalise(&total, &nanos) != 0)
            return enc_fail(err, "a duration out of range");
        int rc = head(b, GJ_GB_DURATION);
        if (rc == 0)
            rc = gj__gb_put_long(b, total);
        return rc ? rc : gj__gb_put_int(b, nanos);
    }
    if (seconds || nanos)
        return enc_fail(err, "a duration with both months and seconds (Gremlin has Period or "
                        "Duration, not both)");
    if (months < INT32_MIN || months > INT32_MAX || days < INT32_MIN || days > INT32_MAX)
        return enc_fail(err, "a period out of range");
    int rc = head(b, GJ_GB_PERIOD);
    if (rc == 0)
        rc = gj__gb_put_int(b, 0);
    if (rc == 0)
        rc = gj__gb_put_int(b, (int32_t)months);
    return rc ? rc : gj__gb_put_int(b, (int32_t)days);
}

/* ---- tagged values ----------------------------------------------------------------------- */

static int put_big(gj_ps_buf *b, const gj_gt_type *t, const gj_value *inner, gj_error *err)
{
    const char *s;
    size_t len;
    int rc = string_of(inner, t->name, &s, &len, err);
    if (rc)
        return rc;
    uint8_t *bytes;
    size_t n;
    int32_t scale = 0;
    rc = t->kind == GJ_GT_BIG_DECIMAL ? gj__gt_bigdec_from_text(s, len, &scale, &bytes, &n)
                                      : gj__gt_bigint_from_text(s, len, &bytes, &n);
    if (rc == GJ_ENOMEM)
        return gj__error_set(err, rc, "out of memory encoding a %s", t->name);
    if (rc)
        return enc_fail(err, "%s \"%.40s\" is not a number this codec converts", t->name, s);
    rc = head(b, t->gb_code);
    if (rc == 0 && t->kind == GJ_GT_BIG_DECIMAL)
        rc = gj__gb_put_int(b, scale);
    if (rc == 0)
        rc = put_length(b, n);
    if (rc == 0)
        rc = gj__ps_buf_append(b, bytes, n);
    free(bytes);
    return rc;
}

/* The Java text kinds (Year, YearMonth, MonthDay, Period, ZoneOffset,
 * InetAddress) from their text. */
static int put_text_kind(gj_ps_buf *b, const gj_gt_type *t, const gj_value *inner, gj_error *err)
{
    const char *s;
    size_t len;
    int rc = string_of(inner, t->name, &s, &len, err);
    if (rc)
        return rc;
    int32_t i1 = 0, i2 = 0, i3 = 0;
    unsigned u1 = 0, u2 = 0;
    uint8_t addr[16];
    size_t n = 0;
    switch (t->kind) {
    case GJ_GT_YEAR: rc = gj__gt_parse_year(s, len, &i1); break;
    case GJ_GT_YEAR_MONTH: rc = gj__gt_parse_year_month(s, len, &i1, &u1); break;
    case GJ_GT_MONTH_DAY: rc = gj__gt_parse_month_day(s, len, &u1, &u2); break;
    case GJ_GT_PERIOD: rc = gj__gt_parse_period(s, len, &i1, &i2, &i3); break;
    case GJ_GT_ZONE_OFFSET: rc = gj__gt_parse_offset(s, len, &i1); break;
    default: rc = gj__gt_parse_inet(s, len, addr, &n); break;
    }
    if (rc)
        return enc_fail(err, "%s \"%.40s\" is not valid", t->name, s);
    rc = head(b, t->gb_code);
    switch (t->kind) {
    case GJ_GT_YEAR: case GJ_GT_ZONE_OFFSET:
        return rc ? rc : gj__gb_put_int(b, i1);
    case GJ_GT_YEAR_MONTH:
        if (rc == 0)
            rc = gj__gb_put_int(b, i1);
        return rc ? rc : gj__gb_put_u8(b, (uint8_t)u1);
    case GJ_GT_MONTH_DAY:
        if (rc == 0)
            rc = gj__gb_put_u8(b, (uint8_t)u1);
        return rc ? rc : gj__gb_put_u8(b, (uint8_t)u2);
    case GJ_GT_PERIOD:
        if (rc == 0)
            rc = gj__gb_put_int(b, i1);
        if (rc == 0)
            rc = gj__gb_put_int(b, i2);
        return rc ? rc : gj__gb_put_int(b, i3);
    default:
        if (rc == 0)
            rc = put_length(b, n);
        return rc ? rc : gj__ps_buf_append(b, addr, n);
    }
}

/* {name}{values_length}{value...} of a Bytecode instruction [name, args...]. */
static int put_instructions(gj_ps_buf *b, const gj_value *list, unsigned depth, gj_error *err)
{
    if (list && !gj__gt_is_list(list))
        return enc_fail(err, "Bytecode steps are a %s, not a list",
                        gj_type_name(gj_value_type(list)));
    size_t n = gj_value_size(list);
    int rc = put_length(b, n);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const gj_value *inst = gj_value_list_at(list, i);
        const char *name;
        size_t len;
        if (!gj__gt_is_list(inst) || !gj_value_size(inst))
            return enc_fail(err, "a Bytecode instruction is not a list [name, args...]");
        if ((rc = string_of(gj_value_list_at(inst, 0), "a Bytecode instruction name", &name, &len,
                            err)) != 0)
            return rc;
        size_t m = gj_value_size(inst);
        rc = gj__gb_put_string(b, name, len);
        if (rc == 0)
            rc = put_length(b, m - 1);
        for (size_t j = 1; rc == 0 && j < m; j++)
            rc = put_value(b, gj_value_list_at(inst, j), depth + 1, err);
    }
    return rc;
}

/* A Tree value: {length}{key}{Tree}... of [{key, value: g:Tree}...]. */
static int put_tree(gj_ps_buf *b, const gj_value *list, unsigned depth, gj_error *err)
{
    if (depth > GJ_GREMLIN_MAX_MAX_DEPTH)
        return enc_fail(err, "the value nests deeper than %u levels", GJ_GREMLIN_MAX_MAX_DEPTH);
    if (list && !gj__gt_is_list(list))
        return enc_fail(err, "a g:Tree is a %s, not a list", gj_type_name(gj_value_type(list)));
    size_t n = gj_value_size(list);
    int rc = put_length(b, n);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const gj_value *item = gj_value_list_at(list, i), *sub;
        if ((rc = map_of(item, "a g:Tree entry", err)) != 0)
            return rc;
        rc = put_value(b, gj_value_map_get(item, "key"), depth + 1, err);
        sub = gj_value_map_get(item, "value");
        if (sub && gj_value_type(sub) != GJ_TNULL && !gj__gt_is_tagged(sub, "g:Tree"))
            return enc_fail(err, "a g:Tree entry's value is not a g:Tree");
        if (rc == 0)
            rc = put_tree(b, sub ? gj__gt_tagged_inner(sub) : NULL, depth + 1, err);
    }
    return rc;
}

/* A duration in GraphSON's milliseconds as nanoseconds. */
static int nanos_of_ms(const gj_value *dur, int64_t *out, gj_error *err)
{
    double d;
    int64_t i;
    if (gj_value_int_get(dur, &i) == 0)
        d = (double)i;
    else if (gj_value_float_get(dur, &d) != 0)
        return enc_fail(err, "a metrics duration is not a number");
    double ns = d * 1e6;
    if (!(ns >= -(double)GJ__GT_METRICS_NANOS_MAX && ns <= (double)GJ__GT_METRICS_NANOS_MAX))
        return enc_fail(err, "a metrics duration longer than %lld ns",
                        (long long)GJ__GT_METRICS_NANOS_MAX);
    *out = (int64_t)(ns < 0 ? ns - 0.5 : ns + 0.5);   /* rounded, without libm */
    return 0;
}

static int put_metrics(gj_ps_buf *b, const gj_value *m, unsigned depth, gj_error *err)
{
    const char *id = "", *name = "";
    size_t id_len = 0, name_len = 0;
    int64_t nanos = 0;
    int rc = map_of(m, "g:Metrics", err);
    if (rc == 0 && gj_value_map_get(m, "id"))
        rc = string_of(gj_value_map_get(m, "id"), "a Metrics id", &id, &id_len, err);
    if (rc == 0 && gj_value_map_get(m, "name"))
        rc = string_of(gj_value_map_get(m, "name"), "a Metrics name", &name, &name_len, err);
    if (rc == 0 && gj_value_map_get(m, "dur"))
        rc = nanos_of_ms(gj_value_map_get(m, "dur"), &nanos, err);
    const gj_value *nested = gj_value_map_get(m, "metrics");
    if (rc == 0 && nested && !gj__gt_is_list(nested))
        rc = enc_fail(err, "nested Metrics are not a list");
    if (rc == 0)
        rc = gj__gb_put_string(b, id, id_len);
    if (rc == 0)
        rc = gj__gb_put_string(b, name, name_len);
    if (rc == 0)
        rc = gj__gb_put_long(b, nanos);
    if (rc == 0)
        rc = gj__gb_put_map(b, gj_value_map_get(m, "counts"), depth, err);
    if (rc == 0)
        rc = gj__gb_put_map(b, gj_value_map_get(m, "annotations"), depth, err);
    return rc ? rc : put_items(b, nested, depth, err);
}

/* {vlength}{vertex...}{elength}{edge...} of {vertices, edges}. */
static int put_graph(gj_ps_buf *b, const gj_value *m, unsigned depth, gj_error *err)
{
    int rc = map_of(m, "tinker:graph", err);
    const gj_value *vertices = gj_value_map_get(m, "vertices"), *edges = gj_value_map_get(m, "edges");
    if (rc == 0 && ((vertices && !gj__gt_is_list(vertices)) || (edges && !gj__gt_is_list(edges))))
        rc = enc_fail(err, "tinker:graph vertices and edges must be lists");
    if (rc)
        return rc;
    size_t nv = gj_value_size(vertices), ne = gj_value_size(edges);
    rc = put_length(b, nv);
    for (size_t i = 0; rc == 0 && i < nv; i++) {
        const gj_value *v = gj_value_list_at(vertices, i);
        const char *label;
        size_t len;
        if (gj_value_type(v) != GJ_TNODE)
            return enc_fail(err, "a tinker:graph vertex is a %s", gj_type_name(gj_value_type(v)));
        if ((rc = vertex_label(v, &label, &len, err)) != 0)
            return rc;
        rc = put_value(b, gj_value_element_id(v), depth + 2, err);
        if (rc == 0)
            rc = gj__gb_put_string(b, label, len);
        if (rc == 0)
            rc = put_vertex_properties(b, gj_value_element_properties(v), depth + 2, true, err);
    }
    if (rc == 0)
        rc = put_length(b, ne);
    for (size_t i = 0; rc == 0 && i < ne; i++) {
        const gj_value *e = gj_value_list_at(edges, i);
        if (gj_value_type(e) != GJ_TEDGE)
            return enc_fail(err, "a tinker:graph edge is a %s", gj_type_name(gj_value_type(e)));
        rc = put_edge(b, e, depth + 1, true, err);
    }
    return rc;
}

/* The custom form: inner = {type_info: bytes or null, value: bytes or null}. */
static bool custom_form(const gj_value *inner)
{
    if (gj_value_type(inner) != GJ_TMAP || gj_value_size(inner) != 2)
        return false;
    const gj_value *ti = gj_value_map_get(inner, "type_info"), *v = gj_value_map_get(inner, "value");
    return ti && v && (gj_value_type(ti) == GJ_TBYTES || gj_value_type(ti) == GJ_TNULL) &&
           (gj_value_type(v) == GJ_TBYTES || gj_value_type(v) == GJ_TNULL);
}

static int put_custom(gj_ps_buf *b, const char *name, const gj_value *inner)
{
    const uint8_t *ti = NULL, *blob = NULL;
    size_t ti_len = 0, blob_len = 0;
    gj_value_bytes_get(gj_value_map_get(inner, "type_info"), &ti, &ti_len);
    bool null = gj_value_bytes_get(gj_value_map_get(inner, "value"), &blob, &blob_len) != 0;
    int rc = gj__gb_put_u8(b, GJ_GB_CUSTOM);
    if (rc == 0)
        rc = put_cstring(b, name);
    if (rc == 0)
        rc = put_length(b, ti_len);
    if (rc == 0)
        rc = gj__ps_buf_append(b, ti, ti_len);
    if (rc == 0)
        rc = gj__gb_put_u8(b, null ? GJ_GB_FLAG_NULL : GJ_GB_FLAG_VALUE);
    if (rc == 0 && !null && (rc = put_length(b, blob_len)) == 0)
        rc = gj__ps_buf_append(b, blob, blob_len);
    return rc;
}

/* One character (one to four bytes of UTF-8). */
static int put_char(gj_ps_buf *b, const gj_value *inner, gj_error *err)
{
    const char *s;
    size_t len;
    int rc = string_of(inner, "gx:Char", &s, &len, err);
    if (rc)
        return rc;
    uint8_t c = len ? (uint8_t)s[0] : 0;
    size_t n = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : 4;
    if (len != n)
        return enc_fail(err, "gx:Char \"%.16s\" is not one character", s);
    rc = head(b, GJ_GB_CHAR);
    return rc ? rc : gj__ps_buf_append(b, s, len);
}

static int put_p(gj_ps_buf *b, const gj_gt_type *t, const gj_value *m, unsigned depth,
                 gj_error *err)
{
    const char *name;
    size_t len;
    int rc = map_of(m, t->name, err);
    if (rc == 0)
        rc = string_of(gj_value_map_get(m, "predicate"), "a predicate name", &name, &len, err);
    if (rc == 0)
        rc = head(b, t->gb_code);
    if (rc == 0)
        rc = gj__gb_put_string(b, name, len);
    if (rc)
        return rc;
    const gj_value *value = gj_value_map_get(m, "value");
    if (gj__gt_is_list(value))
        return put_items(b, value, depth, err);
    rc = gj__gb_put_int(b, 1);
    return rc ? rc : put_value(b, value, depth + 1, err);
}

static int put_tagged(gj_ps_buf *b, const gj_value *v, unsigned depth, gj_error *err)
{
    const char *tag;
    const gj_value *inner;
    gj_value_tagged_get(v, &tag, &inner);
    /* A custom type first: its name may be anything, even a known one. */
    if (custom_form(inner))
        return put_custom(b, tag, inner);
    const gj_gt_type *t = gj__gt_by_name(tag, strlen(tag));
    if (!t)
        return enc_fail(err, "no GraphBinary type for the tagged value \"%.64s\"", tag);
    const gj_value *f1, *f2;
    const char *s;
    size_t len;
    int64_t i64;
    int32_t i32;
    int rc = 0;
    switch (t->kind) {
    case GJ_GT_ENUM:
        rc = head(b, t->gb_code);
        return rc ? rc : put_value(b, inner, depth + 1, err);
    case GJ_GT_CLASS:
        if ((rc = string_of(inner, tag, &s, &len, err)) != 0 || (rc = head(b, t->gb_code)) != 0)
            return rc;
        return gj__gb_put_string(b, s, len);
    case GJ_GT_CHAR:
        return put_char(b, inner, err);
    case GJ_GT_TIMESTAMP: case GJ_GT_INSTANT: {
        int64_t seconds;
        int32_t nanos;
        if (gj_value_datetime_get(inner, &seconds, &nanos, NULL, NULL, NULL) != 0 ||
            gj_value_type(inner) != GJ_TDATETIME)
            return enc_fail(err, "%s holds a %s, not a datetime", tag,
                            gj_type_name(gj_value_type(inner)));
        if (t->kind == GJ_GT_TIMESTAMP) {
            if (gj__gt_ms_join(seconds, nanos, &i64) != 0)
                return enc_fail(err, "g:Timestamp has more than millisecond precision");
            rc = head(b, t->gb_code);
            return rc ? rc : gj__gb_put_long(b, i64);
        }
        rc = head(b, t->gb_code);
        if (rc == 0)
            rc = gj__gb_put_long(b, seconds);
        return rc ? rc : gj__gb_put_int(b, nanos);
    }
    case GJ_GT_YEAR: case GJ_GT_YEAR_MONTH: case GJ_GT_MONTH_DAY: case GJ_GT_PERIOD:
    case GJ_GT_ZONE_OFFSET: case GJ_GT_INET:
        return put_text_kind(b, t, inner, err);
    case GJ_GT_BIG_INTEGER: case GJ_GT_BIG_DECIMAL:
        return put_big(b, t, inner, err);
    case GJ_GT_PROPERTY: {
        if ((rc = map_of(inner, tag, err)) != 0)
            return rc;
        return put_property(b, gj_value_map_get(inner, "key"), v, depth, err);
    }
    case GJ_GT_VERTEX_PROPERTY:
        return put_vertex_property(b, inner, NULL, NULL, depth, false, err);
    case GJ_GT_BINDING:
        if ((rc = map_of(inner, tag, err)) != 0 ||
            (rc = string_of(gj_value_map_get(inner, "key"), "a g:Binding key", &s, &len, err)) != 0)
            return rc;
        rc = head(b, t->gb_code);
        if (rc == 0)
            rc = gj__gb_put_string(b, s, len);
        return rc ? rc : put_value(b, gj_value_map_get(inner, "value"), depth + 1, err);
    case GJ_GT_BYTECODE:
        if ((rc = map_of(inner, tag, err)) != 0 || (rc = head(b, t->gb_code)) != 0)
            return rc;
        rc = put_instructions(b, gj_value_map_get(inner, "step"), depth, err);
        return rc ? rc : put_instructions(b, gj_value_map_get(inner, "source"), depth, err);
    case GJ_GT_LAMBDA: {
        const char *script, *lang;
        size_t script_len, lang_len;
        i32 = -1;
        if ((rc = map_of(inner, tag, err)) != 0 ||
            (rc = string_of(gj_value_map_get(inner, "script"), "a g:Lambda script", &script,
                            &script_len, err)) != 0 ||
            (rc = string_of(gj_value_map_get(inner, "language"), "a g:Lambda language", &lang,
                            &lang_len, err)) != 0)
            return rc;
        if ((f1 = gj_value_map_get(inner, "arguments")) != NULL &&
            (rc = int32_of(f1, "g:Lambda arguments", &i32, err)) != 0)
            return rc;
        rc = head(b, t->gb_code);
        if (rc == 0)
            rc = gj__gb_put_string(b, lang, lang_len);
        if (rc == 0)
            rc = gj__gb_put_string(b, script, script_len);
        return rc ? rc : gj__gb_put_int(b, i32);
    }
    case GJ_GT_P:
        return put_p(b, t, inner, depth, err);
    case GJ_GT_TRAVERSER:
        i64 = 1;
        if ((rc = map_of(inner, tag, err)) != 0)
            return rc;
        if ((f1 = gj_value_map_get(inner, "bulk")) != NULL &&
            (rc = int_of(f1, "a g:Traverser bulk", &i64, err)) != 0)
            return rc;
        rc = head(b, t->gb_code);
        if (rc == 0)
            rc = gj__gb_put_long(b, i64);
        return rc ? rc : put_value(b, gj_value_map_get(inner, "value"), depth + 1, err);
    case GJ_GT_BULK_SET: {
        size_t n = gj_value_size(inner);
        if (!gj__gt_is_list(inner) || n % 2)
            return enc_fail(err, "a g:BulkSet is not a list of value, bulk pairs");
        rc = head(b, t->gb_code);
        if (rc == 0)
            rc = put_length(b, n / 2);
        for (size_t i = 0; rc == 0 && i < n; i += 2) {
            rc = put_value(b, gj_value_list_at(inner, i), depth + 1, err);
            if (rc == 0)
                rc = int_of(gj_value_list_at(inner, i + 1), "a g:BulkSet bulk", &i64, err);
            if (rc == 0)
                rc = gj__gb_put_long(b, i64);
        }
        return rc;
    }
    case GJ_GT_TREE:
        rc = head(b, t->gb_code);
        return rc ? rc : put_tree(b, inner, depth, err);
    case GJ_GT_METRICS:
        rc = head(b, t->gb_code);
        return rc ? rc : put_metrics(b, inner, depth, err);
    case GJ_GT_TRAVERSAL_METRICS:
        i64 = 0;
        if ((rc = map_of(inner, tag, err)) != 0)
            return rc;
        if ((f1 = gj_value_map_get(inner, "dur")) != NULL && (rc = nanos_of_ms(f1, &i64, err)) != 0)
            return rc;
        f2 = gj_value_map_get(inner, "metrics");
        if (f2 && !gj__gt_is_list(f2))
            return enc_fail(err, "g:TraversalMetrics metrics are not a list");
        rc = head(b, t->gb_code);
        if (rc == 0)
            rc = gj__gb_put_long(b, i64);
        return rc ? rc : put_items(b, f2, depth, err);
    case GJ_GT_GRAPH:
        rc = head(b, t->gb_code);
        return rc ? rc : put_graph(b, inner, depth, err);
    case GJ_GT_STRATEGY:
        if ((rc = map_of(inner, tag, err)) != 0 ||
            (rc = string_of(gj_value_map_get(inner, "class"), "a strategy class", &s, &len,
                            err)) != 0)
            return rc;
        rc = head(b, t->gb_code);
        if (rc == 0)
            rc = gj__gb_put_string(b, s, len);
        return rc ? rc : gj__gb_put_map(b, gj_value_map_get(inner, "configuration"), depth, err);
    }
    return enc_fail(err, "no GraphBinary form for \"%.64s\"", tag);
}

/* ---- dispatch -------------------------------------------------------------------------- */

static int put_value(gj_ps_buf *b, const gj_value *v, unsigned depth, gj_error *err)
{
    if (!v)
        return put_null(b);
    if (b->error)
        return b->error;
    if (depth > GJ_GREMLIN_MAX_MAX_DEPTH)
        return enc_fail(err, "the value nests deeper than %u levels", GJ_GREMLIN_MAX_MAX_DEPTH);
    int rc;
    switch (gj_value_type(v)) {
    case GJ_TNULL:
        return put_null(b);
    case GJ_TBOOL: {
        bool x = false;
        gj_value_bool_get(v, &x);
        rc = head(b, GJ_GB_BOOLEAN);
        return rc ? rc : gj__gb_put_u8(b, x ? 1 : 0);
    }
    case GJ_TINT: {
        int64_t i = 0;
        gj_value_int_get(v, &i);
        switch (gj_value_int_bits(v)) {
        case 8:
            rc = head(b, GJ_GB_BYTE);
            return rc ? rc : gj__gb_put_u8(b, (uint8_t)(int8_t)i);
        case 16: {
            uint16_t u = (uint16_t)(int16_t)i;
            uint8_t p[2] = {(uint8_t)(u >> 8), (uint8_t)u};
            rc = head(b, GJ_GB_SHORT);
            return rc ? rc : gj__ps_buf_append(b, p, 2);
        }
        case 32:
            rc = head(b, GJ_GB_INT);
            return rc ? rc : gj__gb_put_int(b, (int32_t)i);
        default:
            rc = head(b, GJ_GB_LONG);
            return rc ? rc : gj__gb_put_long(b, i);
        }
    }
    case GJ_TFLOAT: {
        double d = 0;
        gj_value_float_get(v, &d);
        if (gj_value_float_bits(v) == 32) {
            float f = (float)d;
            uint32_t u;
            memcpy(&u, &f, sizeof u);
            rc = head(b, GJ_GB_FLOAT);
            return rc ? rc : gj__gb_put_int(b, (int32_t)u);
        }
        uint64_t u;
        memcpy(&u, &d, sizeof u);
        rc = head(b, GJ_GB_DOUBLE);
        return rc ? rc : gj__gb_put_long(b, (int64_t)u);
    }
    case GJ_TSTRING: {
        const char *s = "";
        size_t len = 0;
        gj_value_string_get(v, &s, &len);
        rc = head(b, GJ_GB_STRING);
        return rc ? rc : gj__gb_put_string(b, s, len);
    }
    case GJ_TBYTES: {
        const uint8_t *d = NULL;
        size_t len = 0;
        gj_value_bytes_get(v, &d, &len);
        rc = head(b, GJ_GB_BYTE_BUFFER);
        if (rc == 0)
            rc = put_length(b, len);
        return rc ? rc : gj__ps_buf_append(b, d, len);
    }
    case GJ_TUUID: {
        uint8_t u[16];
        gj_value_uuid_get(v, u);
        rc = head(b, GJ_GB_UUID);
        return rc ? rc : gj__gb_put_uuid(b, u);
    }
    case GJ_TLIST: case GJ_TSET:
        rc = head(b, gj_value_type(v) == GJ_TSET ? GJ_GB_SET : GJ_GB_LIST);
        return rc ? rc : put_items(b, v, depth, err);
    case GJ_TMAP:
        rc = head(b, GJ_GB_MAP);
        return rc ? rc : gj__gb_put_map(b, v, depth, err);
    case GJ_TNODE:
        return put_vertex(b, v, depth, err);
    case GJ_TEDGE:
        return put_edge(b, v, depth, false, err);
    case GJ_TPATH:
        return put_path(b, v, depth, err);
    case GJ_TDATE: {
        int64_t days = 0;
        gj_value_date_get(v, &days);
        rc = head(b, GJ_GB_LOCAL_DATE);
        return rc ? rc : put_local_date(b, days, err);
    }
    case GJ_TTIME: case GJ_TLOCAL_TIME: {
        int64_t nanos = 0;
        int32_t offset = 0;
        gj_value_time_get(v, &nanos, gj_value_type(v) == GJ_TTIME ? &offset : NULL);
        rc = head(b, gj_value_type(v) == GJ_TTIME ? GJ_GB_OFFSET_TIME : GJ_GB_LOCAL_TIME);
        if (rc == 0)
            rc = gj__gb_put_long(b, nanos);
        if (rc == 0 && gj_value_type(v) == GJ_TTIME)
            rc = gj__gb_put_int(b, offset);
        return rc;
    }
    case GJ_TDATETIME:
        return put_datetime(b, v, err);
    case GJ_TLOCAL_DATETIME: {
        int64_t seconds = 0;
        int32_t nanos = 0;
        gj_value_datetime_get(v, &seconds, &nanos, NULL, NULL, NULL);
        rc = head(b, GJ_GB_LOCAL_DATE_TIME);
        return rc ? rc : put_local_datetime(b, seconds, nanos, err);
    }
    case GJ_TDURATION:
        return put_duration(b, v, err);
    case GJ_TTAGGED:
        return put_tagged(b, v, depth, err);
    case GJ_TPOINT:
        return enc_fail(err, "Gremlin has no point type");
    }
    return enc_fail(err, "a value of type %s", gj_type_name(gj_value_type(v)));
}

int gj__gb_put_value(gj_ps_buf *b, const gj_value *v, unsigned depth, gj_error *err)
{
    return put_value(b, v, depth, err);
}

int gj__gb_encode(gj_ps_buf *b, const gj_value *v, gj_error *err)
{
    int rc = put_value(b, v, 0, err);
    /* A buffer failure (sticky) is described by the buffer; others already
     * are. */
    return rc && b->error ? gj__ps_buf_check(b, err) : rc;
}
