/*
 * GraphBinary 1.0 decoder (see graphbinary.h and docs/gremlin-types.md): the
 * reader, scalars, collections, temporal types and the dispatch; the graph
 * elements and traversal structures are in graphbinary_structs.c.
 *
 * A recursive descent over the span: gj__gb_read_value() reads the type code
 * and value flag and dispatches on the code; composite types call it for
 * their fully qualified fields with depth + 1, and read their value-only
 * fields (labels, keys, counts) in place.  Every count and length is checked
 * against the bytes left before anything is allocated (a count against the
 * smallest size its items can have), and strings are made into values
 * straight from the span.
 */
#include "codec/graphbinary_internal.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define NANOS_PER_SECOND 1000000000
#define NANOS_PER_DAY INT64_C(86400000000000)
#define SECONDS_PER_DAY 86400
#define MAX_OFFSET (18 * 3600)
#define JAVA_YEAR_MAX 999999999

static const char *const type_names[256] = {
    [GJ_GB_CUSTOM] = "Custom", [GJ_GB_INT] = "Int", [GJ_GB_LONG] = "Long",
    [GJ_GB_STRING] = "String", [GJ_GB_DATE] = "Date", [GJ_GB_TIMESTAMP] = "Timestamp",
    [GJ_GB_CLASS] = "Class", [GJ_GB_DOUBLE] = "Double", [GJ_GB_FLOAT] = "Float",
    [GJ_GB_LIST] = "List", [GJ_GB_MAP] = "Map", [GJ_GB_SET] = "Set", [GJ_GB_UUID] = "UUID",
    [GJ_GB_EDGE] = "Edge", [GJ_GB_PATH] = "Path", [GJ_GB_PROPERTY] = "Property",
    [GJ_GB_GRAPH] = "TinkerGraph", [GJ_GB_VERTEX] = "Vertex",
    [GJ_GB_VERTEX_PROPERTY] = "VertexProperty", [GJ_GB_BARRIER] = "Barrier",
    [GJ_GB_BINDING] = "Binding", [GJ_GB_BYTECODE] = "Bytecode",
    [GJ_GB_CARDINALITY] = "Cardinality", [GJ_GB_COLUMN] = "Column",
    [GJ_GB_DIRECTION] = "Direction", [GJ_GB_OPERATOR] = "Operator", [GJ_GB_ORDER] = "Order",
    [GJ_GB_PICK] = "Pick", [GJ_GB_POP] = "Pop", [GJ_GB_LAMBDA] = "Lambda", [GJ_GB_P] = "P",
    [GJ_GB_SCOPE] = "Scope", [GJ_GB_T] = "T", [GJ_GB_TRAVERSER] = "Traverser",
    [GJ_GB_BIG_DECIMAL] = "BigDecimal", [GJ_GB_BIG_INTEGER] = "BigInteger",
    [GJ_GB_BYTE] = "Byte", [GJ_GB_BYTE_BUFFER] = "ByteBuffer", [GJ_GB_SHORT] = "Short",
    [GJ_GB_BOOLEAN] = "Boolean", [GJ_GB_TEXT_P] = "TextP",
    [GJ_GB_TRAVERSAL_STRATEGY] = "TraversalStrategy", [GJ_GB_BULK_SET] = "BulkSet",
    [GJ_GB_TREE] = "Tree", [GJ_GB_METRICS] = "Metrics",
    [GJ_GB_TRAVERSAL_METRICS] = "TraversalMetrics", [GJ_GB_MERGE] = "Merge", [GJ_GB_DT] = "DT",
    [GJ_GB_CHAR] = "Char", [GJ_GB_DURATION] = "Duration", [GJ_GB_INET_ADDRESS] = "InetAddress",
    [GJ_GB_INSTANT] = "Instant", [GJ_GB_LOCAL_DATE] = "LocalDate",
    [GJ_GB_LOCAL_DATE_TIME] = "LocalDateTime", [GJ_GB_LOCAL_TIME] = "LocalTime",
    [GJ_GB_MONTH_DAY] = "MonthDay", [GJ_GB_OFFSET_DATE_TIME] = "OffsetDateTime",
    [GJ_GB_OFFSET_TIME] = "OffsetTime", [GJ_GB_PERIOD] = "Period", [GJ_GB_YEAR] = "Year",
    [GJ_GB_YEAR_MONTH] = "YearMonth", [GJ_GB_ZONED_DATE_TIME] = "ZonedDateTime",
    [GJ_GB_ZONE_OFFSET] = "ZoneOffset", [GJ_GB_UNSPECIFIED_NULL] = "unspecified null",
};

const char *gj__gb_type_name(uint8_t code)
{
    return type_names[code];
}

void gj__gb_reader_init(gj_gb_reader *r, const void *data, size_t len, unsigned max_depth)
{
    r->data = data;
    r->len = len;
    r->pos = 0;
    r->max_depth = max_depth;
}

unsigned gj__gbd_max_depth(const gj_gb_reader *r)
{
    unsigned d = r->max_depth ? r->max_depth : GJ_GREMLIN_DEFAULT_MAX_DEPTH;
    return d > GJ_GREMLIN_MAX_MAX_DEPTH ? GJ_GREMLIN_MAX_MAX_DEPTH : d;
}

/* ---- errors -------------------------------------------------------------------- */

int gj__gbd_protocol(gj_error *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = gj__error_setv(err, GJ_EPROTOCOL, fmt, ap);
    va_end(ap);
    return rc;
}

int gj__gbd_truncated(const gj_gb_reader *r, size_t at, const char *what, size_t need,
                     gj_error *err)
{
    return gj__gbd_protocol(err, "GraphBinary %s at byte %zu is truncated: needs %zu more bytes, %zu left",
                    what, at, need, gj__gbd_left(r));
}

int gj__gbd_nomem(gj_error *err, const char *what)
{
    return gj__error_set(err, GJ_ENOMEM, "out of memory decoding a GraphBinary %s", what);
}

int gj__gbd_too_deep(const gj_gb_reader *r, size_t at, gj_error *err)
{
    return gj__gbd_protocol(err, "GraphBinary value at byte %zu nests deeper than %u levels", at,
                    gj__gbd_max_depth(r));
}

/* A constructor's failure: out of memory, or a value the model refuses. */
int gj__gbd_refused(int rc, size_t at, const char *what, gj_error *err)
{
    if (rc == GJ_ENOMEM)
        return gj__gbd_nomem(err, what);
    return gj__gbd_protocol(err, "GraphBinary %s at byte %zu has an invalid value (%s)", what, at,
                    gj_strerror(rc));
}

/* ---- primitives ---------------------------------------------------------------- */

static uint32_t ld32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t ld64(const uint8_t *p)
{
    return (uint64_t)ld32(p) << 32 | ld32(p + 4);
}

static int rd_u8(gj_gb_reader *r, size_t at, const char *what, uint8_t *v, gj_error *err)
{
    *v = 0;
    if (gj__gbd_left(r) < 1)
        return gj__gbd_truncated(r, at, what, 1, err);
    *v = r->data[r->pos++];
    return 0;
}

static int rd_i16(gj_gb_reader *r, size_t at, const char *what, int16_t *v, gj_error *err)
{
    *v = 0;
    if (gj__gbd_left(r) < 2)
        return gj__gbd_truncated(r, at, what, 2, err);
    *v = (int16_t)(uint16_t)(r->data[r->pos] << 8 | r->data[r->pos + 1]);
    r->pos += 2;
    return 0;
}

int gj__gbd_i32(gj_gb_reader *r, size_t at, const char *what, int32_t *v, gj_error *err)
{
    *v = 0;
    if (gj__gbd_left(r) < 4)
        return gj__gbd_truncated(r, at, what, 4, err);
    *v = (int32_t)ld32(r->data + r->pos);
    r->pos += 4;
    return 0;
}

int gj__gbd_i64(gj_gb_reader *r, size_t at, const char *what, int64_t *v, gj_error *err)
{
    *v = 0;
    if (gj__gbd_left(r) < 8)
        return gj__gbd_truncated(r, at, what, 8, err);
    *v = (int64_t)ld64(r->data + r->pos);
    r->pos += 8;
    return 0;
}

/* {length}{bytes}: a span of the input. */
static int rd_span(gj_gb_reader *r, const char *what, const uint8_t **p, size_t *n, gj_error *err)
{
    *p = NULL;
    *n = 0;
    size_t at = r->pos;
    int32_t len;
    int rc = gj__gbd_i32(r, at, what, &len, err);
    if (rc)
        return rc;
    if (len < 0)
        return gj__gbd_protocol(err, "GraphBinary %s at byte %zu has a negative length (%d)", what, at,
                        (int)len);
    if ((size_t)len > gj__gbd_left(r))
        return gj__gbd_protocol(err, "GraphBinary %s at byte %zu declares %d bytes, only %zu left", what,
                        at, (int)len, gj__gbd_left(r));
    *p = r->data + r->pos;
    *n = (size_t)len;
    r->pos += (size_t)len;
    return 0;
}

static int invalid_utf8(const gj_gb_reader *r, size_t at, const char *what, const uint8_t *p,
                        size_t n, gj_error *err)
{
    size_t bad = 0;
    gj__utf8_valid((const char *)p, n, &bad);
    return gj__gbd_protocol(err, "GraphBinary %s at byte %zu has invalid UTF-8 at byte %zu", what, at,
                    (size_t)(p - r->data) + bad);
}

static int make_string(const gj_gb_reader *r, size_t at, const char *what, const uint8_t *p,
                       size_t n, gj_value **out, gj_error *err)
{
    int rc = gj_value_new_string(out, (const char *)p, n);
    if (rc == GJ_EINVAL)
        return invalid_utf8(r, at, what, p, n, err);
    return rc ? gj__gbd_nomem(err, what) : 0;
}

/* A String value (no type code). */
int gj__gbd_string(gj_gb_reader *r, const char *what, gj_value **out, gj_error *err)
{
    size_t at = r->pos;
    const uint8_t *p;
    size_t n;
    int rc = rd_span(r, what, &p, &n, err);
    return rc ? rc : make_string(r, at, what, p, n, out, err);
}

/* A String value kept in place (UTF-8 checked). */
static int rd_string_raw(gj_gb_reader *r, const char *what, const char **s, size_t *n,
                         gj_error *err)
{
    *s = NULL;
    *n = 0;
    size_t at = r->pos;
    const uint8_t *p;
    int rc = rd_span(r, what, &p, n, err);
    if (rc)
        return rc;
    if (!gj__utf8_valid((const char *)p, *n, NULL))
        return invalid_utf8(r, at, what, p, *n, err);
    *s = (const char *)p;
    return 0;
}

/* A count of items each taking at least min_item bytes. */
int gj__gbd_count(gj_gb_reader *r, const char *what, size_t min_item, size_t *n, gj_error *err)
{
    *n = 0;
    size_t at = r->pos;
    int32_t c;
    int rc = gj__gbd_i32(r, at, what, &c, err);
    if (rc)
        return rc;
    if (c < 0)
        return gj__gbd_protocol(err, "GraphBinary %s at byte %zu has a negative length (%d)", what, at,
                        (int)c);
    if (min_item && (size_t)c > gj__gbd_left(r) / min_item)
        return gj__gbd_protocol(err, "GraphBinary %s at byte %zu declares %d items, more than the %zu "
                        "bytes left can hold", what, at, (int)c, gj__gbd_left(r));
    *n = (size_t)c;
    return 0;
}

/* ---- building values ------------------------------------------------------------ */

/* Put key -> val into a map being built (val is taken over). */
int gj__gbd_put_field(gj_value *map, const char *key, gj_value *val, gj_error *err)
{
    int rc = gj_value_map_put_str(map, key, val);
    return rc ? gj__gbd_nomem(err, "map") : 0;
}

int gj__gbd_new_map(gj_value **out, size_t hint, gj_error *err)
{
    return gj_value_new_map(out, hint) ? gj__gbd_nomem(err, "map") : 0;
}

/* A map of the non-NULL vals[i] under keys[i]; every val is taken over,
 * even on failure. */
int gj__gbd_fields_map(gj_value **out, size_t n, const char *const keys[], gj_value *vals[],
                      gj_error *err)
{
    gj_value *m = NULL;
    int rc = gj__gbd_new_map(&m, n, err);
    for (size_t i = 0; i < n; i++) {
        if (!vals[i])
            continue;
        if (rc == 0)
            rc = gj__gbd_put_field(m, keys[i], vals[i], err);
        else
            gj_value_unref(vals[i]);
    }
    if (rc) {
        gj_value_unref(m);
        return rc;
    }
    *out = m;
    return 0;
}

/* tag + inner (taken over) -> *out. */
int gj__gbd_make_tagged(const char *tag, gj_value *inner, size_t at, gj_value **out,
                       gj_error *err)
{
    int rc = gj_value_new_tagged(out, tag, inner);
    return rc ? gj__gbd_refused(rc, at, tag, err) : 0;
}

/* The tagged value tag{keys: vals} (vals taken over, NULL ones left out). */
int gj__gbd_tagged_fields(const char *tag, size_t at, size_t n, const char *const keys[],
                         gj_value *vals[], gj_value **out, gj_error *err)
{
    gj_value *inner;
    int rc = gj__gbd_fields_map(&inner, n, keys, vals, err);
    return rc ? rc : gj__gbd_make_tagged(tag, inner, at, out, err);
}

/* Text made by a formatter as a tagged string. */
static int tagged_text(const char *tag, const char *text, size_t n, size_t at, gj_value **out,
                       gj_error *err)
{
    gj_value *s;
    if (gj_value_new_string(&s, text, n) != 0)
        return gj__gbd_nomem(err, tag);
    return gj__gbd_make_tagged(tag, s, at, out, err);
}

/* ---- composite types -------------------------------------------------------------- */

static int read_body(gj_gb_reader *r, uint8_t code, size_t at, unsigned depth, gj_value **out,
                     gj_error *err);

/* The items of a List or Set (the count follows at r->pos). */
int gj__gbd_read_items(gj_gb_reader *r, const char *what, gj_type type, unsigned depth,
                      gj_value **out, gj_error *err)
{
    size_t n;
    int rc = gj__gbd_count(r, what, 2, &n, err);
    if (rc)
        return rc;
    gj_value *list;
    if ((type == GJ_TSET ? gj_value_new_set(&list, n) : gj_value_new_list(&list, n)) != 0)
        return gj__gbd_nomem(err, what);
    for (size_t i = 0; i < n; i++) {
        gj_value *item;
        rc = gj__gb_read_value(r, depth + 1, &item, err);
        if (rc == 0 && gj_value_list_append(list, item) != 0)
            rc = gj__gbd_nomem(err, what);
        if (rc) {
            gj_value_unref(list);
            return rc;
        }
    }
    *out = list;
    return 0;
}

int gj__gb_read_map(gj_gb_reader *r, unsigned depth, const char *what, gj_value **out,
                    gj_error *err)
{
    *out = NULL;
    size_t n;
    int rc = gj__gbd_count(r, what, 4, &n, err);
    if (rc)
        return rc;
    gj_value *map;
    if ((rc = gj__gbd_new_map(&map, n, err)) != 0)
        return rc;
    for (size_t i = 0; i < n; i++) {
        gj_value *k = NULL, *v = NULL;
        rc = gj__gb_read_value(r, depth + 1, &k, err);
        if (rc == 0)
            rc = gj__gb_read_value(r, depth + 1, &v, err);
        if (rc == 0) {
            if (gj_value_map_put(map, k, v) != 0)
                rc = gj__gbd_nomem(err, what);
        } else {
            gj_value_unref(k);
        }
        if (rc) {
            gj_value_unref(map);
            return rc;
        }
    }
    *out = map;
    return 0;
}

/* Two fields into a map {k1: v1, k2: v2} (both taken over). */
static int pair_map(const char *k1, gj_value *v1, const char *k2, gj_value *v2, gj_value **out,
                    gj_error *err)
{
    const char *keys[] = {k1, k2};
    gj_value *vals[] = {v1, v2};
    return gj__gbd_fields_map(out, 2, keys, vals, err);
}

/* Custom (0x00): {name}{custom_type_info}{value_flag}{blob}; r->pos is just
 * after the type code. */
static int read_custom(gj_gb_reader *r, size_t at, gj_value **out, gj_error *err)
{
    const char *name;
    size_t name_len;
    const uint8_t *info, *blob = NULL;
    size_t info_len, blob_len = 0;
    uint8_t flag;
    int rc = rd_string_raw(r, "Custom type name", &name, &name_len, err);
    if (rc == 0)
        rc = rd_span(r, "Custom type info", &info, &info_len, err);
    if (rc == 0)
        rc = rd_u8(r, at, "Custom value flag", &flag, err);
    if (rc)
        return rc;
    if (flag == GJ_GB_FLAG_VALUE) {
        if ((rc = rd_span(r, "Custom value", &blob, &blob_len, err)) != 0)
            return rc;
    } else if (flag != GJ_GB_FLAG_NULL) {
        return gj__gbd_protocol(err, "GraphBinary Custom value at byte %zu has the value flag 0x%02X", at,
                        flag);
    }
    if (!name_len || name_len > GJ__VALUE_NAME_MAX || memchr(name, '\0', name_len))
        return gj__gbd_protocol(err, "GraphBinary Custom type at byte %zu has an unusable name", at);
    char tag[GJ__VALUE_NAME_MAX + 1];
    memcpy(tag, name, name_len);
    tag[name_len] = '\0';
    gj_value *type_info = NULL, *value = NULL, *inner = NULL;
    if (gj_value_new_bytes(&type_info, info, info_len) != 0)
        return gj__gbd_nomem(err, "Custom value");
    if (flag == GJ_GB_FLAG_NULL)
        value = gj_value_null();
    else if (gj_value_new_bytes(&value, blob, blob_len) != 0) {
        gj_value_unref(type_info);
        return gj__gbd_nomem(err, "Custom value");
    }
    if ((rc = pair_map("type_info", type_info, "value", value, &inner, err)) != 0)
        return rc;
    return gj__gbd_make_tagged(tag, inner, at, out, err);
}

/* ---- temporal types -------------------------------------------------------------- */

static int rd_date(gj_gb_reader *r, size_t at, const char *what, int64_t *days, gj_error *err)
{
    int32_t year;
    uint8_t month, day;
    int rc = gj__gbd_i32(r, at, what, &year, err);
    if (rc == 0)
        rc = rd_u8(r, at, what, &month, err);
    if (rc == 0)
        rc = rd_u8(r, at, what, &day, err);
    if (rc)
        return rc;
    if (year < -JAVA_YEAR_MAX || year > JAVA_YEAR_MAX ||
        gj__days_from_civil(year, month, day, days) != 0)
        return gj__gbd_protocol(err, "GraphBinary %s at byte %zu is not a valid date (%d-%u-%u)", what, at,
                        (int)year, month, day);
    return 0;
}

static int rd_nanos_of_day(gj_gb_reader *r, size_t at, const char *what, int64_t *nod,
                           gj_error *err)
{
    int rc = gj__gbd_i64(r, at, what, nod, err);
    if (rc == 0 && (*nod < 0 || *nod >= NANOS_PER_DAY))
        rc = gj__gbd_protocol(err, "GraphBinary %s at byte %zu has a time of day out of range", what, at);
    return rc;
}

static int rd_offset(gj_gb_reader *r, size_t at, const char *what, int32_t *offset,
                     gj_error *err)
{
    int rc = gj__gbd_i32(r, at, what, offset, err);
    if (rc == 0 && (*offset < -MAX_OFFSET || *offset > MAX_OFFSET))
        rc = gj__gbd_protocol(err, "GraphBinary %s at byte %zu has an offset out of range (%d s)", what,
                      at, (int)*offset);
    return rc;
}

/* LocalDateTime: seconds since 1970-01-01T00:00 (wall clock) + nanos. */
static int rd_local_datetime(gj_gb_reader *r, size_t at, const char *what, int64_t *seconds,
                             int32_t *nanos, gj_error *err)
{
    int64_t days, nod;
    int rc = rd_date(r, at, what, &days, err);
    if (rc == 0)
        rc = rd_nanos_of_day(r, at, what, &nod, err);
    if (rc == 0) {
        *seconds = days * SECONDS_PER_DAY + nod / NANOS_PER_SECOND;
        *nanos = (int32_t)(nod % NANOS_PER_SECOND);
    }
    return rc;
}

static int read_temporal(gj_gb_reader *r, uint8_t code, size_t at, gj_value **out,
                         gj_error *err)
{
    const char *what = gj__gb_type_name(code);
    int64_t seconds = 0, days = 0, nod = 0;
    int32_t nanos = 0, offset = 0;
    char text[GJ__GT_TEXT_MAX];
    int rc;
    switch (code) {
    case GJ_GB_DATE: case GJ_GB_TIMESTAMP: {
        int64_t ms;
        if ((rc = gj__gbd_i64(r, at, what, &ms, err)) != 0)
            return rc;
        gj__gt_ms_split(ms, &seconds, &nanos);
        gj_value *dt;
        rc = gj_value_new_datetime(&dt, seconds, nanos, 0, NULL, 0);
        if (rc)
            return gj__gbd_refused(rc, at, what, err);
        if (code == GJ_GB_DATE) {
            *out = dt;
            return 0;
        }
        return gj__gbd_make_tagged("g:Timestamp", dt, at, out, err);
    }
    case GJ_GB_DURATION: case GJ_GB_INSTANT:
        if ((rc = gj__gbd_i64(r, at, what, &seconds, err)) != 0 ||
            (rc = gj__gbd_i32(r, at, what, &nanos, err)) != 0)
            return rc;
        if (nanos < 0 || nanos >= NANOS_PER_SECOND)   /* Java normalises: 0..999999999 */
            return gj__gbd_protocol(err, "GraphBinary %s at byte %zu has nanoseconds out of range (%d)",
                            what, at, (int)nanos);
        if (code == GJ_GB_DURATION) {
            rc = gj_value_new_duration(out, 0, 0, seconds, nanos);
            return rc ? gj__gbd_refused(rc, at, what, err) : 0;
        } else {
            gj_value *dt;
            rc = gj_value_new_datetime(&dt, seconds, nanos, 0, NULL, 0);
            return rc ? gj__gbd_refused(rc, at, what, err) : gj__gbd_make_tagged("gx:Instant", dt, at, out, err);
        }
    case GJ_GB_LOCAL_DATE:
        if ((rc = rd_date(r, at, what, &days, err)) != 0)
            return rc;
        rc = gj_value_new_date(out, days);
        break;
    case GJ_GB_LOCAL_TIME:
        if ((rc = rd_nanos_of_day(r, at, what, &nod, err)) != 0)
            return rc;
        rc = gj_value_new_local_time(out, nod);
        break;
    case GJ_GB_OFFSET_TIME:
        if ((rc = rd_nanos_of_day(r, at, what, &nod, err)) != 0 ||
            (rc = rd_offset(r, at, what, &offset, err)) != 0)
            return rc;
        rc = gj_value_new_time(out, nod, offset);
        break;
    case GJ_GB_LOCAL_DATE_TIME:
        if ((rc = rd_local_datetime(r, at, what, &seconds, &nanos, err)) != 0)
            return rc;
        rc = gj_value_new_local_datetime(out, seconds, nanos);
        break;
    case GJ_GB_OFFSET_DATE_TIME: case GJ_GB_ZONED_DATE_TIME:
        if ((rc = rd_local_datetime(r, at, what, &seconds, &nanos, err)) != 0 ||
            (rc = rd_offset(r, at, what, &offset, err)) != 0)
            return rc;
        if (code == GJ_GB_ZONED_DATE_TIME)
            gj__gt_format_offset(text, offset);
        /* Java's ZonedDateTime.of(ldt, offset) has the offset as its zone. */
        rc = gj_value_new_datetime(out, seconds - offset, nanos, offset,
                                   code == GJ_GB_ZONED_DATE_TIME ? text : NULL,
                                   GJ_DATETIME_HAS_OFFSET);
        break;
    case GJ_GB_MONTH_DAY: {
        uint8_t m, d;
        int64_t ignored;
        if ((rc = rd_u8(r, at, what, &m, err)) != 0 || (rc = rd_u8(r, at, what, &d, err)) != 0)
            return rc;
        if (gj__days_from_civil(2000, m, d, &ignored) != 0)
            return gj__gbd_protocol(err, "GraphBinary MonthDay at byte %zu is not valid (--%u-%u)", at, m, d);
        return tagged_text("gx:MonthDay", text, gj__gt_format_month_day(text, m, d), at, out, err);
    }
    case GJ_GB_PERIOD: {
        int32_t y, m, d;
        if ((rc = gj__gbd_i32(r, at, what, &y, err)) != 0 || (rc = gj__gbd_i32(r, at, what, &m, err)) != 0 ||
            (rc = gj__gbd_i32(r, at, what, &d, err)) != 0)
            return rc;
        return tagged_text("gx:Period", text, gj__gt_format_period(text, y, m, d), at, out, err);
    }
    case GJ_GB_YEAR: {
        int32_t y;
        if ((rc = gj__gbd_i32(r, at, what, &y, err)) != 0)
            return rc;
        if (y < -JAVA_YEAR_MAX || y > JAVA_YEAR_MAX)
            return gj__gbd_protocol(err, "GraphBinary Year at byte %zu is out of range (%d)", at, (int)y);
        return tagged_text("gx:Year", text, gj__gt_format_year(text, y), at, out, err);
    }
    case GJ_GB_YEAR_MONTH: {
        int32_t y;
        uint8_t m;
        if ((rc = gj__gbd_i32(r, at, what, &y, err)) != 0 || (rc = rd_u8(r, at, what, &m, err)) != 0)
            return rc;
        if (y < -JAVA_YEAR_MAX || y > JAVA_YEAR_MAX || m < 1 || m > 12)
            return gj__gbd_protocol(err, "GraphBinary YearMonth at byte %zu is not valid (%d-%u)", at,
                            (int)y, m);
        return tagged_text("gx:YearMonth", text, gj__gt_format_year_month(text, y, m), at, out,
                           err);
    }
    case GJ_GB_ZONE_OFFSET:
        if ((rc = rd_offset(r, at, what, &offset, err)) != 0)
            return rc;
        return tagged_text("gx:ZoneOffset", text, gj__gt_format_offset(text, offset), at, out,
                           err);
    default:
        return gj__gbd_protocol(err, "GraphBinary type 0x%02X at byte %zu is not temporal", code, at);
    }
    return rc ? gj__gbd_refused(rc, at, what, err) : 0;
}

/* ---- scalars kept as tagged values --------------------------------------------------- */

static int read_big(gj_gb_reader *r, uint8_t code, size_t at, gj_value **out, gj_error *err)
{
    int32_t scale = 0;
    const uint8_t *p;
    size_t n;
    int rc = 0;
    if (code == GJ_GB_BIG_DECIMAL)
        rc = gj__gbd_i32(r, at, "BigDecimal scale", &scale, err);
    if (rc == 0)
        rc = rd_span(r, "BigInteger", &p, &n, err);
    if (rc)
        return rc;
    if (n == 0)
        return gj__gbd_protocol(err, "GraphBinary %s at byte %zu has no bytes", gj__gb_type_name(code), at);
    char *text;
    size_t len;
    rc = code == GJ_GB_BIG_DECIMAL ? gj__gt_bigdec_to_text(scale, p, n, &text, &len)
                                   : gj__gt_bigint_to_text(p, n, &text, &len);
    if (rc == GJ_ETOOBIG)
        return gj__gbd_protocol(err, "GraphBinary %s at byte %zu has %zu bytes, more than the %u this "
                        "codec converts", gj__gb_type_name(code), at, n, GJ__GT_BIG_MAX_BYTES);
    if (rc)
        return gj__gbd_nomem(err, gj__gb_type_name(code));
    rc = tagged_text(code == GJ_GB_BIG_DECIMAL ? "gx:BigDecimal" : "gx:BigInteger", text, len, at,
                     out, err);
    free(text);
    return rc;
}

static int read_char(gj_gb_reader *r, size_t at, gj_value **out, gj_error *err)
{
    if (gj__gbd_left(r) < 1)
        return gj__gbd_truncated(r, at, "Char", 1, err);
    uint8_t b = r->data[r->pos];
    size_t n = b < 0x80 ? 1 : (b & 0xe0) == 0xc0 ? 2 : (b & 0xf0) == 0xe0 ? 3 : (b & 0xf8) == 0xf0 ? 4 : 0;
    if (!n)
        return gj__gbd_protocol(err, "GraphBinary Char at byte %zu starts with the byte 0x%02X", at, b);
    if (gj__gbd_left(r) < n)
        return gj__gbd_truncated(r, at, "Char", n, err);
    gj_value *s;
    int rc = make_string(r, at, "Char", r->data + r->pos, n, &s, err);
    if (rc)
        return rc;
    r->pos += n;
    return gj__gbd_make_tagged("gx:Char", s, at, out, err);
}

static int read_inet(gj_gb_reader *r, size_t at, gj_value **out, gj_error *err)
{
    const uint8_t *p;
    size_t n;
    char text[GJ__GT_TEXT_MAX];
    int rc = rd_span(r, "InetAddress", &p, &n, err);
    if (rc)
        return rc;
    if (n != 4 && n != 16)
        return gj__gbd_protocol(err, "GraphBinary InetAddress at byte %zu has %zu bytes (4 or 16)", at, n);
    return tagged_text("gx:InetAddress", text, gj__gt_format_inet(text, p, n), at, out, err);
}

/* ---- dispatch ------------------------------------------------------------------ */

static int read_body(gj_gb_reader *r, uint8_t code, size_t at, unsigned depth, gj_value **out,
                     gj_error *err)
{
    const char *what = gj__gb_type_name(code);
    int rc = 0;
    switch (code) {
    case GJ_GB_INT: {
        int32_t v;
        if ((rc = gj__gbd_i32(r, at, what, &v, err)) == 0)
            rc = gj_value_new_int_bits(out, v, 32);
        break;
    }
    case GJ_GB_LONG: {
        int64_t v;
        if ((rc = gj__gbd_i64(r, at, what, &v, err)) != 0)
            return rc;
        rc = gj_value_new_int_bits(out, v, 64);
        break;
    }
    case GJ_GB_SHORT: {
        int16_t v;
        if ((rc = rd_i16(r, at, what, &v, err)) != 0)
            return rc;
        rc = gj_value_new_int_bits(out, v, 16);
        break;
    }
    case GJ_GB_BYTE: {
        uint8_t v;
        if ((rc = rd_u8(r, at, what, &v, err)) != 0)
            return rc;
        rc = gj_value_new_int_bits(out, (int8_t)v, 8);   /* Java's byte is signed */
        break;
    }
    case GJ_GB_BOOLEAN: {
        uint8_t v;
        if ((rc = rd_u8(r, at, what, &v, err)) != 0)
            return rc;
        *out = gj_value_bool(v != 0);
        return 0;
    }
    case GJ_GB_DOUBLE: case GJ_GB_FLOAT: {
        if (code == GJ_GB_DOUBLE) {
            int64_t bits;
            double d;
            if ((rc = gj__gbd_i64(r, at, what, &bits, err)) != 0)
                return rc;
            memcpy(&d, &bits, sizeof d);
            rc = gj_value_new_float_bits(out, d, 64);
        } else {
            int32_t bits;
            float f;
            if ((rc = gj__gbd_i32(r, at, what, &bits, err)) != 0)
                return rc;
            memcpy(&f, &bits, sizeof f);
            rc = gj_value_new_float_bits(out, (double)f, 32);
        }
        break;
    }
    case GJ_GB_STRING:
        return gj__gbd_string(r, what, out, err);
    case GJ_GB_CLASS: {
        gj_value *s;
        if ((rc = gj__gbd_string(r, what, &s, err)) != 0)
            return rc;
        return gj__gbd_make_tagged("g:Class", s, at, out, err);
    }
    case GJ_GB_UUID:
        if (gj__gbd_left(r) < 16)
            return gj__gbd_truncated(r, at, what, 16, err);
        rc = gj_value_new_uuid(out, r->data + r->pos);
        r->pos += 16;
        break;
    case GJ_GB_BYTE_BUFFER: {
        const uint8_t *p;
        size_t n;
        if ((rc = rd_span(r, what, &p, &n, err)) != 0)
            return rc;
        rc = gj_value_new_bytes(out, p, n);
        break;
    }
    case GJ_GB_LIST: case GJ_GB_SET:
        return gj__gbd_read_items(r, what, code == GJ_GB_SET ? GJ_TSET : GJ_TLIST, depth, out, err);
    case GJ_GB_MAP:
        return gj__gb_read_map(r, depth, what, out, err);
    case GJ_GB_VERTEX:
        return gj__gbd_read_vertex(r, at, depth, out, err);
    case GJ_GB_EDGE:
        return gj__gbd_read_edge(r, at, depth, false, out, err);
    case GJ_GB_PATH:
        return gj__gbd_read_path(r, at, depth, out, err);
    case GJ_GB_VERTEX_PROPERTY:
        return gj__gbd_read_vertex_property_body(r, at, depth, false, out, err);
    case GJ_GB_PROPERTY:
        return gj__gbd_read_property(r, at, depth, out, err);
    case GJ_GB_GRAPH:
        return gj__gbd_read_graph(r, at, depth, out, err);
    case GJ_GB_BARRIER: case GJ_GB_CARDINALITY: case GJ_GB_COLUMN: case GJ_GB_DIRECTION:
    case GJ_GB_OPERATOR: case GJ_GB_ORDER: case GJ_GB_PICK: case GJ_GB_POP: case GJ_GB_SCOPE:
    case GJ_GB_T: case GJ_GB_MERGE: case GJ_GB_DT: {
        gj_value *inner;
        if ((rc = gj__gb_read_value(r, depth + 1, &inner, err)) != 0)
            return rc;
        return gj__gbd_make_tagged(gj__gt_by_code(code)->name, inner, at, out, err);
    }
    case GJ_GB_BINDING: {
        gj_value *key = NULL, *value = NULL, *m = NULL;
        if ((rc = gj__gbd_string(r, "Binding key", &key, err)) != 0)
            return rc;
        if ((rc = gj__gb_read_value(r, depth + 1, &value, err)) != 0) {
            gj_value_unref(key);
            return rc;
        }
        if ((rc = pair_map("key", key, "value", value, &m, err)) != 0)
            return rc;
        return gj__gbd_make_tagged("g:Binding", m, at, out, err);
    }
    case GJ_GB_BYTECODE:
        return gj__gbd_read_bytecode(r, at, depth, out, err);
    case GJ_GB_LAMBDA: {
        static const char *const keys[] = {"script", "language", "arguments"};
        gj_value *vals[3] = {NULL, NULL, NULL};
        int32_t n;
        if ((rc = gj__gbd_string(r, "Lambda language", &vals[1], err)) == 0 &&
            (rc = gj__gbd_string(r, "Lambda script", &vals[0], err)) == 0 &&
            (rc = gj__gbd_i32(r, r->pos, "Lambda arguments", &n, err)) == 0 &&
            gj_value_new_int_bits(&vals[2], n, 32) != 0)
            rc = gj__gbd_nomem(err, what);
        if (rc) {
            gj_value_unref(vals[0]);
            gj_value_unref(vals[1]);
            return rc;
        }
        return gj__gbd_tagged_fields("g:Lambda", at, 3, keys, vals, out, err);
    }
    case GJ_GB_P: case GJ_GB_TEXT_P:
        return gj__gbd_read_p(r, at, depth, code == GJ_GB_P ? "g:P" : "g:TextP", out, err);
    case GJ_GB_TRAVERSER: {
        int64_t bulk;
        gj_value *b = NULL, *value = NULL, *m = NULL;
        if ((rc = gj__gbd_i64(r, at, "Traverser bulk", &bulk, err)) != 0)
            return rc;
        if ((rc = gj__gb_read_value(r, depth + 1, &value, err)) != 0)
            return rc;
        if (gj_value_new_int_bits(&b, bulk, 64) != 0) {
            gj_value_unref(value);
            return gj__gbd_nomem(err, what);
        }
        if ((rc = pair_map("bulk", b, "value", value, &m, err)) != 0)
            return rc;
        return gj__gbd_make_tagged("g:Traverser", m, at, out, err);
    }
    case GJ_GB_BIG_DECIMAL: case GJ_GB_BIG_INTEGER:
        return read_big(r, code, at, out, err);
    case GJ_GB_TRAVERSAL_STRATEGY: {
        gj_value *cls = NULL, *conf = NULL, *m = NULL;
        if ((rc = gj__gbd_string(r, "TraversalStrategy class", &cls, err)) != 0)
            return rc;
        if ((rc = gj__gb_read_map(r, depth, "TraversalStrategy configuration", &conf, err)) != 0) {
            gj_value_unref(cls);
            return rc;
        }
        if ((rc = pair_map("class", cls, "configuration", conf, &m, err)) != 0)
            return rc;
        return gj__gbd_make_tagged("g:TraversalStrategy", m, at, out, err);
    }
    case GJ_GB_BULK_SET: {
        size_t n;
        gj_value *list = NULL;
        if ((rc = gj__gbd_count(r, what, 10, &n, err)) != 0)
            return rc;
        if (gj_value_new_list(&list, 2 * n) != 0)
            return gj__gbd_nomem(err, what);
        for (size_t i = 0; rc == 0 && i < n; i++) {
            gj_value *item = NULL, *b = NULL;
            int64_t bulk;
            rc = gj__gb_read_value(r, depth + 1, &item, err);
            if (rc == 0 && (rc = gj__gbd_i64(r, r->pos, "BulkSet bulk", &bulk, err)) != 0)
                gj_value_unref(item);
            if (rc == 0 && gj_value_list_append(list, item) != 0)
                rc = gj__gbd_nomem(err, what);
            if (rc == 0 && (gj_value_new_int_bits(&b, bulk, 64) != 0 ||
                            gj_value_list_append(list, b) != 0))
                rc = gj__gbd_nomem(err, what);
        }
        if (rc) {
            gj_value_unref(list);
            return rc;
        }
        return gj__gbd_make_tagged("g:BulkSet", list, at, out, err);
    }
    case GJ_GB_TREE:
        return gj__gbd_read_tree(r, at, depth, out, err);
    case GJ_GB_METRICS:
        return gj__gbd_read_metrics(r, at, depth, out, err);
    case GJ_GB_TRAVERSAL_METRICS:
        return gj__gbd_read_traversal_metrics(r, at, depth, out, err);
    case GJ_GB_CHAR:
        return read_char(r, at, out, err);
    case GJ_GB_INET_ADDRESS:
        return read_inet(r, at, out, err);
    case GJ_GB_DATE: case GJ_GB_TIMESTAMP: case GJ_GB_DURATION: case GJ_GB_INSTANT:
    case GJ_GB_LOCAL_DATE: case GJ_GB_LOCAL_DATE_TIME: case GJ_GB_LOCAL_TIME:
    case GJ_GB_MONTH_DAY: case GJ_GB_OFFSET_DATE_TIME: case GJ_GB_OFFSET_TIME:
    case GJ_GB_PERIOD: case GJ_GB_YEAR: case GJ_GB_YEAR_MONTH: case GJ_GB_ZONED_DATE_TIME:
    case GJ_GB_ZONE_OFFSET:
        return read_temporal(r, code, at, out, err);
    default:
        return gj__gbd_protocol(err, "GraphBinary value at byte %zu has an unknown type code 0x%02X", at,
                        code);
    }
    return rc ? gj__gbd_refused(rc, at, what, err) : 0;
}

int gj__gb_read_value(gj_gb_reader *r, unsigned depth, gj_value **out, gj_error *err)
{
    *out = NULL;
    size_t at = r->pos;
    if (depth > gj__gbd_max_depth(r))
        return gj__gbd_too_deep(r, at, err);
    if (gj__gbd_left(r) < 2)
        return gj__gbd_truncated(r, at, "value", 2, err);
    uint8_t code = r->data[r->pos];
    if (code == GJ_GB_CUSTOM) {
        r->pos++;
        return read_custom(r, at, out, err);
    }
    const char *name = gj__gb_type_name(code);
    if (!name)
        return gj__gbd_protocol(err, "GraphBinary value at byte %zu has an unknown type code 0x%02X", at,
                        code);
    uint8_t flag = r->data[r->pos + 1];
    r->pos += 2;
    if (flag == GJ_GB_FLAG_NULL) {
        *out = gj_value_null();
        return 0;
    }
    if (flag != GJ_GB_FLAG_VALUE || code == GJ_GB_UNSPECIFIED_NULL)
        return gj__gbd_protocol(err, "GraphBinary %s at byte %zu has the value flag 0x%02X (expected %s)",
                        name, at, flag, code == GJ_GB_UNSPECIFIED_NULL ? "0x01" : "0x00 or 0x01");
    return read_body(r, code, at, depth, out, err);
}

int gj__gb_decode(gj_value **out, const void *data, size_t len, unsigned max_depth,
                  gj_error *err)
{
    *out = NULL;
    gj_gb_reader r;
    gj__gb_reader_init(&r, data, len, max_depth);
    int rc = gj__gb_read_value(&r, 0, out, err);
    if (rc == 0 && r.pos != r.len) {
        gj_value_unref(*out);
        *out = NULL;
        rc = gj__gbd_protocol(err, "GraphBinary value ends at byte %zu, %zu bytes before the end of the data",
                      r.pos, r.len - r.pos);
    }
    return rc;
}

/* ---- value-only pieces for the message layer --------------------------------------- */

int gj__gb_read_u8(gj_gb_reader *r, const char *what, uint8_t *out, gj_error *err)
{
    return rd_u8(r, r->pos, what, out, err);
}

int gj__gb_read_int(gj_gb_reader *r, const char *what, int32_t *out, gj_error *err)
{
    return gj__gbd_i32(r, r->pos, what, out, err);
}

int gj__gb_read_uuid(gj_gb_reader *r, const char *what, uint8_t out[16], gj_error *err)
{
    if (gj__gbd_left(r) < 16)
        return gj__gbd_truncated(r, r->pos, what, 16, err);
    memcpy(out, r->data + r->pos, 16);
    r->pos += 16;
    return 0;
}

int gj__gb_read_string(gj_gb_reader *r, const char *what, gj_value **out, gj_error *err)
{
    *out = NULL;
    return gj__gbd_string(r, what, out, err);
}
