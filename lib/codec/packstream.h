/*
 * PackStream v1 (Bolt's serialisation format): encoder into a bounded,
 * growable buffer and decoder from a byte span into gj_value trees.  No I/O.
 *
 * Bolt structures are mapped onto the value model:
 *
 *   Node 4E                  -> GJ_TNODE (id, labels, properties, element_id on 5.x)
 *   Relationship 52          -> GJ_TEDGE with start/end ids (+ element ids on 5.x)
 *   UnboundRelationship 72   -> GJ_TEDGE without start/end ids
 *   Path 50                  -> GJ_TPATH whose objects are the walk node, rel,
 *                               node, ...; every rel is a bound GJ_TEDGE whose
 *                               start/end follow the direction of the index
 *   Date 44                  -> GJ_TDATE
 *   Time 54, LocalTime 74    -> GJ_TTIME, GJ_TLOCAL_TIME
 *   DateTime 49 (5.x, utc)   -> GJ_TDATETIME, UTC seconds, GJ_DATETIME_HAS_OFFSET
 *   DateTime 46 (4.4 legacy) -> the same: the offset is subtracted from the
 *                               local seconds, so 46 and 49 give equal values
 *   DateTimeZoneId 69        -> GJ_TDATETIME, UTC seconds + zone id (+ the
 *                               offset, GJ_DATETIME_HAS_OFFSET, when the
 *                               config's zone_offset resolver knows the zone)
 *   DateTimeZoneId 66 (4.4)  -> the same as 69 when the resolver knows the
 *                               zone; else local seconds + zone id with
 *                               GJ_DATETIME_LOCAL_SECONDS (converting needs a
 *                               time-zone database, which a codec has not)
 *   LocalDateTime 64         -> GJ_TLOCAL_DATETIME
 *   Duration 45              -> GJ_TDURATION
 *   Point2D 58, Point3D 59   -> GJ_TPOINT (2 or 3 dims)
 *   Vector 56 (6.0+)         -> a vector (value.h: a tagged "vector:<TYPE>"
 *                               around the big-endian bytes), and back
 *   UnsupportedType 3F (6.0+)-> a tagged GJ_PS_UNSUPPORTED_TAG value
 *
 * Which structures and field counts are valid depends on the Bolt version in
 * gj_ps_config: 4.4 has no element ids and uses 46/66 unless the "utc" patch
 * was negotiated; 5.x has element ids and only 49/69.  Anything else is a
 * protocol error.  A structure tag that the version does not define is a
 * protocol error naming the tag and the byte offset, unless
 * unknown_struct_passthrough is set: it then becomes a GJ_TTAGGED value with
 * the tag "packstream:struct:XX" (XX = hex tag) around the list of its fields,
 * which the encoder writes back as the same structure.  The default is strict
 * because a Bolt server only sends structures of the version it negotiated.
 *
 * Encoding values (query parameters): nodes, relationships and paths are
 * refused (Neo4j rejects them as parameters) unless allow_graph_values is set
 * (the reference server sends them in records).  Datetimes use the UTC forms
 * (49/69) on 5.x and 4.4+utc, the legacy forms (46/66) on plain 4.4.  A UUID
 * is sent as its canonical text (Bolt < 6 has no UUID type); sets as lists.
 *
 * Limits: nesting depth (max_depth, default 64), the buffer's max size on
 * output, and on input every declared size is checked against the bytes
 * that remain before anything is allocated; invalid UTF-8, a non-string
 * dictionary key, a reserved marker or a truncated value give GJ_EPROTOCOL
 * with the byte offset.  Offsets count from the start of the span given to
 * the reader (for Bolt, the start of the dechunked message).
 *
 * Threading: none of this shares state; a buffer or reader belongs to one
 * thread at a time.
 */
#ifndef GJ_CODEC_PACKSTREAM_H
#define GJ_CODEC_PACKSTREAM_H

#include "core/internal.h"

#define GJ_PS_DEFAULT_MAX_DEPTH 64u
#define GJ_PS_MAX_MAX_DEPTH 1024u    /* max_depth above this is clamped */
#define GJ_PS_MAX_ZONE_ID 255u       /* longest zone id accepted */
#define GJ_PS_MAX_STRUCT_FIELDS 15u
#define GJ_PS_TAG_PREFIX "packstream:struct:"

/* Markers (PackStream v1). */
enum {
    GJ_PS_NULL = 0xC0, GJ_PS_FLOAT = 0xC1, GJ_PS_FALSE = 0xC2, GJ_PS_TRUE = 0xC3,
    GJ_PS_INT8 = 0xC8, GJ_PS_INT16 = 0xC9, GJ_PS_INT32 = 0xCA, GJ_PS_INT64 = 0xCB,
    GJ_PS_BYTES8 = 0xCC, GJ_PS_BYTES16 = 0xCD, GJ_PS_BYTES32 = 0xCE,
    GJ_PS_TINY_STRING = 0x80, GJ_PS_STRING8 = 0xD0, GJ_PS_STRING16 = 0xD1, GJ_PS_STRING32 = 0xD2,
    GJ_PS_TINY_LIST = 0x90, GJ_PS_LIST8 = 0xD4, GJ_PS_LIST16 = 0xD5, GJ_PS_LIST32 = 0xD6,
    GJ_PS_TINY_MAP = 0xA0, GJ_PS_MAP8 = 0xD8, GJ_PS_MAP16 = 0xD9, GJ_PS_MAP32 = 0xDA,
    GJ_PS_TINY_STRUCT = 0xB0
};

/* Bolt structure tags (value positions). */
enum {
    GJ_PS_TAG_NODE = 0x4E, GJ_PS_TAG_RELATIONSHIP = 0x52, GJ_PS_TAG_UNBOUND_REL = 0x72,
    GJ_PS_TAG_PATH = 0x50, GJ_PS_TAG_DATE = 0x44, GJ_PS_TAG_TIME = 0x54,
    GJ_PS_TAG_LOCAL_TIME = 0x74, GJ_PS_TAG_DATETIME = 0x49, GJ_PS_TAG_DATETIME_ZONE_ID = 0x69,
    GJ_PS_TAG_LEGACY_DATETIME = 0x46, GJ_PS_TAG_LEGACY_DATETIME_ZONE_ID = 0x66,
    GJ_PS_TAG_LOCAL_DATETIME = 0x64, GJ_PS_TAG_DURATION = 0x45,
    GJ_PS_TAG_POINT2D = 0x58, GJ_PS_TAG_POINT3D = 0x59,
    GJ_PS_TAG_VECTOR = 0x56, GJ_PS_TAG_UNSUPPORTED = 0x3F   /* Bolt 6.0+ */
};

/* Vector type markers (Bolt 6.0 structure 0x56, field type_marker). */
enum {
    GJ_PS_VECTOR_INT8 = 0xC8, GJ_PS_VECTOR_INT16 = 0xC9, GJ_PS_VECTOR_INT32 = 0xCA,
    GJ_PS_VECTOR_INT64 = 0xCB, GJ_PS_VECTOR_FLOAT32 = 0xC6, GJ_PS_VECTOR_FLOAT64 = 0xC1
};

/* The tag of the value an UnsupportedType structure (Bolt 6.0+) becomes:
 * a value of a type the server cannot send in the negotiated version.  Its
 * inner value is a map {name, minimum_protocol_version ("6.1"), message
 * (when the server gave one)}.  It cannot be sent back. */
#define GJ_PS_UNSUPPORTED_TAG "neo4j:UnsupportedType"

/* What the codec needs to know about the connection. */
typedef struct gj_ps_config {
    unsigned bolt_major;              /* 4, 5 or 6 (0 = 5) */
    unsigned bolt_minor;
    bool utc_patch;                   /* 4.4 with patch_bolt ["utc"] negotiated */
    bool allow_graph_values;          /* encoder: write nodes, rels, paths */
    bool unknown_struct_passthrough;  /* decoder: keep unknown structs as tagged values */
    unsigned max_depth;               /* 0 = GJ_PS_DEFAULT_MAX_DEPTH */
    /* Optional: the offset of a zone id at UTC seconds (local false) or at
     * wall-clock seconds (local true): 0 with *offset, or -1 when unknown.
     * With it, zone-id datetimes get their offset (decoded: UTC seconds +
     * offset + zone whichever form carried them; encoded: the form the
     * version needs).  The codec does no I/O: the caller's resolver does. */
    int (*zone_offset)(void *arg, const char *zone, int64_t seconds, bool local, int32_t *offset);
    void *zone_arg;
} gj_ps_config;

/* Element ids and the UTC datetime forms; Vector and UnsupportedType (6.0+). */
bool gj__ps_has_element_ids(const gj_ps_config *cfg);
bool gj__ps_utc_datetimes(const gj_ps_config *cfg);
bool gj__ps_has_vectors(const gj_ps_config *cfg);

/* ---- Output buffer ---------------------------------------------------------
 * Grows on demand up to `max` bytes.  The first failure (GJ_ENOMEM, or
 * GJ_ETOOBIG when max would be passed) sticks: later writes do nothing and
 * return the same code, so a caller may write a whole message and check once
 * with gj__ps_buf_check(). */
typedef struct gj_ps_buf {
    uint8_t *data;
    size_t len;
    size_t cap;
    size_t max;
    int error;          /* 0 or the sticky failure */
    size_t wanted;      /* size that failed (for the message) */
} gj_ps_buf;

void gj__ps_buf_init(gj_ps_buf *b, size_t max);   /* max 0 = SIZE_MAX */
void gj__ps_buf_free(gj_ps_buf *b);
/* Empty it (keeps the memory) and clear the sticky error. */
void gj__ps_buf_reset(gj_ps_buf *b);
/* Make room for n more bytes; returns 0 or the (sticky) error. */
int gj__ps_buf_reserve(gj_ps_buf *b, size_t n);
int gj__ps_buf_append(gj_ps_buf *b, const void *data, size_t n);
/* 0, or the sticky error described in err. */
int gj__ps_buf_check(const gj_ps_buf *b, gj_error *err);

/* Primitive writers, smallest encoding.  Return 0 or the sticky error.
 * Strings are written as given (the caller vouches for their UTF-8). */
int gj__ps_put_null(gj_ps_buf *b);
int gj__ps_put_bool(gj_ps_buf *b, bool v);
int gj__ps_put_int(gj_ps_buf *b, int64_t v);
int gj__ps_put_float(gj_ps_buf *b, double v);
int gj__ps_put_string(gj_ps_buf *b, const char *s, size_t len);
int gj__ps_put_cstring(gj_ps_buf *b, const char *s);
int gj__ps_put_bytes(gj_ps_buf *b, const void *data, size_t len);
int gj__ps_put_list_header(gj_ps_buf *b, size_t n);
int gj__ps_put_map_header(gj_ps_buf *b, size_t n);
/* n_fields <= 15, tag <= 0x7F (GJ_EINVAL otherwise, sticky). */
int gj__ps_put_struct_header(gj_ps_buf *b, unsigned n_fields, uint8_t tag);

/* Any value.  Returns 0, GJ_EINVAL (a value PackStream cannot carry here:
 * a node as a parameter, a non-string map key, ... named in err), or the
 * buffer's error.  `depth` is the nesting already used (0 at top level). */
int gj__ps_put_value(gj_ps_buf *b, const gj_value *v, const gj_ps_config *cfg,
                     unsigned depth, gj_error *err);

/* ---- Reader ------------------------------------------------------------------ */
typedef struct gj_ps_reader {
    const uint8_t *data;
    size_t len;
    size_t pos;
    const gj_ps_config *cfg;
} gj_ps_reader;

void gj__ps_reader_init(gj_ps_reader *r, const void *data, size_t len, const gj_ps_config *cfg);
static inline size_t gj__ps_reader_remaining(const gj_ps_reader *r) { return r->len - r->pos; }

/* One value; *out is a new reference.  depth = nesting already used. */
int gj__ps_read_value(gj_ps_reader *r, unsigned depth, gj_value **out, gj_error *err);

/* A structure header (marker B0..BF + tag), as at the start of a message. */
int gj__ps_read_struct_header(gj_ps_reader *r, unsigned *n_fields, uint8_t *tag, gj_error *err);

/* Decode exactly one value from a span (trailing bytes are an error). */
int gj__ps_decode(gj_value **out, const void *data, size_t len, const gj_ps_config *cfg,
                  gj_error *err);

/* Encode one value into a fresh buffer (tests, tools). */
int gj__ps_encode(gj_ps_buf *b, const gj_value *v, const gj_ps_config *cfg, gj_error *err);

/* Offset of the first invalid UTF-8 byte in s, or len when s is valid
 * (no overlongs, no surrogates, nothing above U+10FFFF). */
size_t gj__ps_utf8_invalid_at(const uint8_t *s, size_t len);

#endif
