/*
 * GraphBinary 1.0 (Apache TinkerPop, docs/src/dev/io/graphbinary.asciidoc):
 * decoder from a byte span into gj_value trees and encoder into a bounded
 * buffer.  No I/O.
 *
 * A value on the wire is "fully qualified": {type_code}{type_info}{value_flag}
 * {value}; the flag 0x01 means null and no value follows.  Inside composite
 * types some fields are written "value only" (no code, no flag): the label of
 * a vertex, the key of a property, the op of a request, ...  All integers are
 * big-endian.
 *
 * The mapping onto the value model is the one of docs/gremlin-types.md,
 * shared with GraphSON (codec/graphson_types.h): native gj types where the
 * meaning is the same, GJ_TTAGGED values named by their GraphSON type name
 * for the rest.  Decoding then encoding gives the same bytes for everything
 * TinkerPop writes, with these exceptions (hostile or unusual input):
 *   - a null written with a type code (e.g. 01 01) reads as null and is
 *     written back as the unspecified null FE 01;
 *   - a BigInteger that is not minimal two's complement is written minimal;
 *   - a Boolean byte other than 0/1 reads as true and is written 01;
 *   - a map with two keys that gj_value_equal() finds equal (Int32 1 and
 *     Int64 1) keeps the last;
 *   - a vertex's properties are grouped by label (a, b, a comes back a, a, b).
 * A custom type (code 0x00) is read as the spec defines it ({name}
 * {custom_type_info: ByteBuffer}{value_flag}{blob: ByteBuffer}) into a tagged
 * value named `name` whose inner value is the map {type_info: bytes, value:
 * bytes or null}, and written back the same way.  A type code that is
 * neither defined nor 0x00 cannot be skipped (its length is unknown) and is a
 * protocol error.
 *
 * Limits: nesting depth (max_depth, default GJ_GREMLIN_DEFAULT_MAX_DEPTH);
 * every declared count or length is checked against the bytes that remain
 * before anything is allocated; invalid UTF-8, an unknown type code or value
 * flag, and a truncated value give GJ_EPROTOCOL naming the type and the byte
 * offset (counted from the start of the span given to the reader).
 *
 * Threading: none of this shares state; a reader or buffer belongs to one
 * thread at a time.
 */
#ifndef GJ_CODEC_GRAPHBINARY_H
#define GJ_CODEC_GRAPHBINARY_H

#include "codec/graphson_types.h"
#include "codec/packstream.h"   /* gj_ps_buf, the bounded output buffer */

/* The version byte of request and response messages. */
#define GJ_GB_VERSION 0x81u

/* Type codes (GraphBinary 1.0). */
enum {
    GJ_GB_CUSTOM = 0x00, GJ_GB_INT = 0x01, GJ_GB_LONG = 0x02, GJ_GB_STRING = 0x03,
    GJ_GB_DATE = 0x04, GJ_GB_TIMESTAMP = 0x05, GJ_GB_CLASS = 0x06, GJ_GB_DOUBLE = 0x07,
    GJ_GB_FLOAT = 0x08, GJ_GB_LIST = 0x09, GJ_GB_MAP = 0x0a, GJ_GB_SET = 0x0b,
    GJ_GB_UUID = 0x0c, GJ_GB_EDGE = 0x0d, GJ_GB_PATH = 0x0e, GJ_GB_PROPERTY = 0x0f,
    GJ_GB_GRAPH = 0x10, GJ_GB_VERTEX = 0x11, GJ_GB_VERTEX_PROPERTY = 0x12,
    GJ_GB_BARRIER = 0x13, GJ_GB_BINDING = 0x14, GJ_GB_BYTECODE = 0x15,
    GJ_GB_CARDINALITY = 0x16, GJ_GB_COLUMN = 0x17, GJ_GB_DIRECTION = 0x18,
    GJ_GB_OPERATOR = 0x19, GJ_GB_ORDER = 0x1a, GJ_GB_PICK = 0x1b, GJ_GB_POP = 0x1c,
    GJ_GB_LAMBDA = 0x1d, GJ_GB_P = 0x1e, GJ_GB_SCOPE = 0x1f, GJ_GB_T = 0x20,
    GJ_GB_TRAVERSER = 0x21, GJ_GB_BIG_DECIMAL = 0x22, GJ_GB_BIG_INTEGER = 0x23,
    GJ_GB_BYTE = 0x24, GJ_GB_BYTE_BUFFER = 0x25, GJ_GB_SHORT = 0x26, GJ_GB_BOOLEAN = 0x27,
    GJ_GB_TEXT_P = 0x28, GJ_GB_TRAVERSAL_STRATEGY = 0x29, GJ_GB_BULK_SET = 0x2a,
    GJ_GB_TREE = 0x2b, GJ_GB_METRICS = 0x2c, GJ_GB_TRAVERSAL_METRICS = 0x2d,
    GJ_GB_MERGE = 0x2e, GJ_GB_DT = 0x2f,
    GJ_GB_CHAR = 0x80, GJ_GB_DURATION = 0x81, GJ_GB_INET_ADDRESS = 0x82,
    GJ_GB_INSTANT = 0x83, GJ_GB_LOCAL_DATE = 0x84, GJ_GB_LOCAL_DATE_TIME = 0x85,
    GJ_GB_LOCAL_TIME = 0x86, GJ_GB_MONTH_DAY = 0x87, GJ_GB_OFFSET_DATE_TIME = 0x88,
    GJ_GB_OFFSET_TIME = 0x89, GJ_GB_PERIOD = 0x8a, GJ_GB_YEAR = 0x8b,
    GJ_GB_YEAR_MONTH = 0x8c, GJ_GB_ZONED_DATE_TIME = 0x8d, GJ_GB_ZONE_OFFSET = 0x8e,
    GJ_GB_UNSPECIFIED_NULL = 0xfe
};

/* Value flags. */
#define GJ_GB_FLAG_VALUE 0x00u
#define GJ_GB_FLAG_NULL 0x01u

/* The name of a type code for messages ("Int", "VertexProperty", ...), or
 * NULL for a code GraphBinary 1.0 does not define. */
const char *gj__gb_type_name(uint8_t code);

/* ---- Reader ------------------------------------------------------------------ */
typedef struct gj_gb_reader {
    const uint8_t *data;
    size_t len;
    size_t pos;
    unsigned max_depth;   /* 0 = GJ_GREMLIN_DEFAULT_MAX_DEPTH */
} gj_gb_reader;

void gj__gb_reader_init(gj_gb_reader *r, const void *data, size_t len, unsigned max_depth);

/* One fully qualified value; *out is a new reference.  depth = nesting
 * already used (0 at top level). */
int gj__gb_read_value(gj_gb_reader *r, unsigned depth, gj_value **out, gj_error *err);

/* Decode exactly one fully qualified value from a span (trailing bytes are
 * an error). */
int gj__gb_decode(gj_value **out, const void *data, size_t len, unsigned max_depth,
                  gj_error *err);

/* Value-only pieces, for the message layer; `what` names the field in errors. */
int gj__gb_read_u8(gj_gb_reader *r, const char *what, uint8_t *out, gj_error *err);
int gj__gb_read_int(gj_gb_reader *r, const char *what, int32_t *out, gj_error *err);
int gj__gb_read_uuid(gj_gb_reader *r, const char *what, uint8_t out[16], gj_error *err);
/* A String value; *out a new string value. */
int gj__gb_read_string(gj_gb_reader *r, const char *what, gj_value **out, gj_error *err);
/* A Map value ({length}{key}{value}...); *out a new map. */
int gj__gb_read_map(gj_gb_reader *r, unsigned depth, const char *what, gj_value **out,
                    gj_error *err);

/* ---- Encoder -------------------------------------------------------------------
 * Writes go to a gj_ps_buf whose first failure sticks (see packstream.h).
 * Returns 0, GJ_EINVAL (a value GraphBinary cannot carry, named in err) or
 * the buffer's error. */
int gj__gb_put_value(gj_ps_buf *b, const gj_value *v, unsigned depth, gj_error *err);
/* One value into b (appended). */
int gj__gb_encode(gj_ps_buf *b, const gj_value *v, gj_error *err);

/* Value-only pieces. */
int gj__gb_put_u8(gj_ps_buf *b, uint8_t v);
int gj__gb_put_int(gj_ps_buf *b, int32_t v);
int gj__gb_put_long(gj_ps_buf *b, int64_t v);
int gj__gb_put_uuid(gj_ps_buf *b, const uint8_t uuid[16]);
int gj__gb_put_string(gj_ps_buf *b, const char *s, size_t len);
/* A Map value; map NULL = empty.  Fails with GJ_EINVAL for a non-map. */
int gj__gb_put_map(gj_ps_buf *b, const gj_value *map, unsigned depth, gj_error *err);

#endif
