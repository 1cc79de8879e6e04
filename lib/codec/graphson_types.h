/*
 * The Gremlin value mapping shared by the GraphBinary and GraphSON codecs
 * (docs/gremlin-types.md has the whole table):
 *
 *  - the wire types that have no native gj type and travel as GJ_TTAGGED
 *    values, named by their GraphSON type name ("g:VertexProperty",
 *    "gx:BigDecimal", ...) whichever codec decoded them, with the GraphBinary
 *    type code of each, so a value decoded from one serializer encodes in the
 *    others (the reference server builds its values once);
 *  - the Java text forms GraphSON carries (java.time toString, Duration,
 *    Period, BigDecimal, InetAddress.getHostAddress) and their parsers, which
 *    GraphBinary needs to convert its binary fields to the same values.
 *
 * No I/O, no state: every function works on its arguments only.  The table
 * and the text forms are in graphson_types.c, the big numbers in
 * graphson_bignum.c.
 */
#ifndef GJ_CODEC_GRAPHSON_TYPES_H
#define GJ_CODEC_GRAPHSON_TYPES_H

#include "core/internal.h"

#include <string.h>

/* Default and largest nesting depth of Gremlin values (both codecs). */
#define GJ_GREMLIN_DEFAULT_MAX_DEPTH 128u
#define GJ_GREMLIN_MAX_MAX_DEPTH 1024u

/* Longest BigInteger (bytes of two's complement) converted to or from
 * decimal text; the conversion is quadratic, so longer ones are refused. */
#define GJ__GT_BIG_MAX_BYTES 4096u
#define GJ__GT_BIG_MAX_DIGITS 9900u

/* Longest Metrics duration, in nanoseconds, that GraphSON's milliseconds (a
 * double) keep exactly: n / 1e6 and back to nanoseconds is off by at most
 * n * 2^-52, below half a nanosecond up to 2^50 ns (about 13 days).  Longer
 * ones are refused. */
#define GJ__GT_METRICS_NANOS_MAX (INT64_C(1) << 50)

/* Room for any text form below (a zone id is not part of them). */
#define GJ__GT_TEXT_MAX 80u

/* The representation of each tagged kind (the inner value of the tag). */
typedef enum gj_gt_kind {
    GJ_GT_ENUM,              /* string: the enum constant ("OUT", "label") */
    GJ_GT_CLASS,             /* string: the Java class name */
    GJ_GT_CHAR,              /* string: one character */
    GJ_GT_TIMESTAMP,         /* datetime (UTC, no offset, millisecond precision) */
    GJ_GT_INSTANT,           /* datetime (UTC, no offset) */
    GJ_GT_YEAR,              /* string: "2016" */
    GJ_GT_YEAR_MONTH,        /* string: "2016-06" */
    GJ_GT_MONTH_DAY,         /* string: "--01-01" */
    GJ_GT_PERIOD,            /* string: "P1Y6M15D" */
    GJ_GT_ZONE_OFFSET,       /* string: "+03:06:09", "Z" */
    GJ_GT_INET,              /* string: "127.0.0.1", "0:0:0:0:0:0:0:1" */
    GJ_GT_BIG_INTEGER,       /* string: decimal digits, optional '-' */
    GJ_GT_BIG_DECIMAL,       /* string: Java BigDecimal text ("1.5", "1.23E+5") */
    GJ_GT_PROPERTY,          /* map {key, value[, parent]} */
    GJ_GT_VERTEX_PROPERTY,   /* map {id, value, label[, properties][, parent]} */
    GJ_GT_BINDING,           /* map {key, value} */
    GJ_GT_BYTECODE,          /* map {step?: [[name, args...]...], source?: [...]} */
    GJ_GT_LAMBDA,            /* map {script, language, arguments (int32)} */
    GJ_GT_P,                 /* map {predicate, value} (P and TextP) */
    GJ_GT_TRAVERSER,         /* map {bulk (int64), value} */
    GJ_GT_BULK_SET,          /* list [value, bulk (int64), value, bulk, ...] */
    GJ_GT_TREE,              /* list [{key, value: g:Tree}, ...] */
    GJ_GT_METRICS,           /* map {dur (ms, double), counts, name, annotations?, id, metrics?} */
    GJ_GT_TRAVERSAL_METRICS, /* map {dur (ms, double), metrics} */
    GJ_GT_GRAPH,             /* map {vertices: [node...], edges: [edge...]} */
    GJ_GT_STRATEGY           /* map {class, configuration} (GraphBinary only) */
} gj_gt_kind;

typedef struct gj_gt_type {
    const char *name;        /* GraphSON type name = the tag */
    uint8_t gb_code;         /* GraphBinary type code */
    gj_gt_kind kind;
} gj_gt_type;

/* The tagged type of a name or of a GraphBinary code, or NULL. */
const gj_gt_type *gj__gt_by_name(const char *name, size_t len);
const gj_gt_type *gj__gt_by_code(uint8_t code);

/* ---- Java text forms -----------------------------------------------------
 * Formatters write exactly what Java's toString writes, NUL-terminated, into
 * buf (at least GJ__GT_TEXT_MAX bytes), and return the length.  Parsers take
 * len bytes (no NUL needed) and return 0 or GJ_EINVAL. */
size_t gj__gt_format_date(char *buf, int64_t days);                       /* LocalDate */
size_t gj__gt_format_time(char *buf, int64_t nanos_of_day);               /* LocalTime */
size_t gj__gt_format_offset(char *buf, int32_t offset_seconds);           /* ZoneOffset */
size_t gj__gt_format_local_datetime(char *buf, int64_t seconds, int32_t nanos);
size_t gj__gt_format_instant(char *buf, int64_t seconds, int32_t nanos);  /* Instant */
/* Duration: any seconds/nanos (nanos in (-1e9, 1e9)), normalised as Java's. */
size_t gj__gt_format_duration(char *buf, int64_t seconds, int32_t nanos);
size_t gj__gt_format_period(char *buf, int32_t years, int32_t months, int32_t days);
size_t gj__gt_format_year(char *buf, int32_t year);
size_t gj__gt_format_year_month(char *buf, int32_t year, unsigned month);
size_t gj__gt_format_month_day(char *buf, unsigned month, unsigned day);
/* 4 or 16 address bytes (0 returned for another length). */
size_t gj__gt_format_inet(char *buf, const uint8_t *addr, size_t len);

int gj__gt_parse_date(const char *s, size_t len, int64_t *days);
int gj__gt_parse_time(const char *s, size_t len, int64_t *nanos_of_day);
int gj__gt_parse_offset(const char *s, size_t len, int32_t *offset_seconds);
int gj__gt_parse_local_datetime(const char *s, size_t len, int64_t *seconds, int32_t *nanos);
/* "<local datetime><offset>": seconds are UTC. */
int gj__gt_parse_offset_datetime(const char *s, size_t len, int64_t *seconds, int32_t *nanos,
                                 int32_t *offset_seconds);
/* "<local datetime><offset>[zone]" (the zone is optional): seconds are UTC;
 * *zone points into s (len 0 when absent). */
int gj__gt_parse_zoned_datetime(const char *s, size_t len, int64_t *seconds, int32_t *nanos,
                                int32_t *offset_seconds, const char **zone, size_t *zone_len);
int gj__gt_parse_offset_time(const char *s, size_t len, int64_t *nanos_of_day,
                             int32_t *offset_seconds);
/* "<local datetime>Z" (or an offset): seconds are UTC. */
int gj__gt_parse_instant(const char *s, size_t len, int64_t *seconds, int32_t *nanos);
/* Java Duration text; the result is normalised (nanos 0..999999999). */
int gj__gt_parse_duration(const char *s, size_t len, int64_t *seconds, int32_t *nanos);
int gj__gt_parse_period(const char *s, size_t len, int32_t *years, int32_t *months,
                        int32_t *days);
int gj__gt_parse_year(const char *s, size_t len, int32_t *year);
int gj__gt_parse_year_month(const char *s, size_t len, int32_t *year, unsigned *month);
int gj__gt_parse_month_day(const char *s, size_t len, unsigned *month, unsigned *day);
/* out receives 4 or 16 bytes, *n their count. */
int gj__gt_parse_inet(const char *s, size_t len, uint8_t out[16], size_t *n);

/* Java's Duration normalisation: nanos in 0..999999999.  GJ_EINVAL on
 * overflow. */
int gj__gt_duration_normalise(int64_t *seconds, int32_t *nanos);

/* Milliseconds since the epoch <-> seconds + nanos (floor division).  The
 * reverse fails (GJ_EINVAL) on overflow or when nanos are not whole ms. */
void gj__gt_ms_split(int64_t ms, int64_t *seconds, int32_t *nanos);
int gj__gt_ms_join(int64_t seconds, int32_t nanos, int64_t *ms);

/* ---- Big numbers (graphson_bignum.c) --------------------------------------
 * BigInteger: two's complement, big-endian, as Java's toByteArray (minimal).
 * BigDecimal: unscaled BigInteger + scale (value = unscaled * 10^-scale).
 * The text forms are Java's toString.  Results are malloc'd; GJ_ENOMEM,
 * GJ_ETOOBIG (beyond GJ__GT_BIG_MAX_BYTES / _DIGITS), GJ_EINVAL. */
int gj__gt_bigint_to_text(const uint8_t *bytes, size_t n, char **text, size_t *len);
int gj__gt_bigint_from_text(const char *s, size_t len, uint8_t **bytes, size_t *n);
int gj__gt_bigdec_to_text(int32_t scale, const uint8_t *unscaled, size_t n, char **text,
                          size_t *len);
int gj__gt_bigdec_from_text(const char *s, size_t len, int32_t *scale, uint8_t **unscaled,
                            size_t *n);

/* ---- Values as both encoders look at them --------------------------------- */

/* A list or a set. */
static inline bool gj__gt_is_list(const gj_value *v)
{
    return gj_value_type(v) == GJ_TLIST || gj_value_type(v) == GJ_TSET;
}

/* A tagged value whose tag is name. */
static inline bool gj__gt_is_tagged(const gj_value *v, const char *name)
{
    const char *tag;
    const gj_value *inner;
    return gj_value_tagged_get(v, &tag, &inner) == 0 && strcmp(tag, name) == 0;
}

/* The value inside a tagged value (NULL for any other). */
static inline const gj_value *gj__gt_tagged_inner(const gj_value *v)
{
    const char *tag;
    const gj_value *inner = NULL;
    gj_value_tagged_get(v, &tag, &inner);
    return inner;
}

/* True when s[0..len) is a JSON number (RFC 8259 grammar). */
bool gj__gt_json_number(const char *s, size_t len);
/* True when s[0..len) is an optional '-' and decimal digits (at least one). */
bool gj__gt_integer_text(const char *s, size_t len);

#endif
