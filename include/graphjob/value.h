/*
 * libgraphjob — the value model.
 *
 * One model for every backend, lossless for each protocol's types.  A value
 * is immutable once it has been shared (handed to a request, returned in a
 * result, or referenced twice) and may then be read from any number of
 * threads at once.  Values are reference counted: gj_value_ref() and
 * gj_value_unref() are thread-safe.
 *
 * Building: the gj_value_new_* functions return a new value with one
 * reference, owned by the caller.  Containers (list, map) and the optional
 * parts of nodes and edges may be filled in by the thread that created them
 * until the value is shared; the _append / _put / _set functions then take
 * over the caller's reference to each value passed in (even when they fail:
 * the passed value is released), so a tree is built without extra unrefs:
 *
 *     gj_value *row;
 *     gj_value_new_list(&row, 2);
 *     gj_value_list_append(row, gj_value_int(1));
 *     gj_value_list_append(row, gj_value_string("x"));
 *
 * The accessors (gj_value_*_get, _at, ...) return borrowed pointers that live
 * as long as the value they came from.
 *
 * Threading: any thread, any time, for a shared value.  A value being built
 * belongs to the thread building it.
 */
#ifndef GRAPHJOB_VALUE_H
#define GRAPHJOB_VALUE_H

#include "common.h"

GJ_BEGIN_DECLS

/* Value types.  Append-only. */
typedef enum gj_type {
    GJ_TNULL = 0,
    GJ_TBOOL = 1,
    GJ_TINT = 2,            /* int64; see gj_value_int_bits() for the wire width */
    GJ_TFLOAT = 3,          /* double; see gj_value_float_bits() */
    GJ_TSTRING = 4,         /* UTF-8 with length (may contain NUL) */
    GJ_TBYTES = 5,
    GJ_TLIST = 6,
    GJ_TMAP = 7,            /* ordered; keys are values */
    GJ_TNODE = 8,           /* Neo4j node, TinkerPop vertex */
    GJ_TEDGE = 9,           /* Neo4j relationship (bound or unbound), TinkerPop edge */
    GJ_TPATH = 10,
    GJ_TDATE = 11,          /* days since 1970-01-01 */
    GJ_TTIME = 12,          /* nanoseconds of the day + UTC offset */
    GJ_TLOCAL_TIME = 13,    /* nanoseconds of the day */
    GJ_TDATETIME = 14,      /* instant: seconds + nanos, with an offset or a zone id */
    GJ_TLOCAL_DATETIME = 15,/* wall-clock seconds + nanos since 1970-01-01T00:00 */
    GJ_TDURATION = 16,      /* months, days, seconds, nanoseconds */
    GJ_TPOINT = 17,         /* srid + 2 or 3 coordinates */
    GJ_TUUID = 18,
    GJ_TTAGGED = 19,        /* a type the library has no decoder for: tag + inner value */
    GJ_TSET = 20            /* a list with set semantics (GraphSON g:Set) */
} gj_type;

/* The name of a type ("null", "int", "node", ...): a static string. */
GJ_EXTERN const char *gj_type_name(gj_type type);

/* ---- Reference counting -------------------------------------------------- */

/* Take one more reference; returns v.  NULL is passed through. */
GJ_EXTERN gj_value *gj_value_ref(const gj_value *v);
/* Drop one reference; the last frees the value (and its children). NULL ok. */
GJ_EXTERN void gj_value_unref(gj_value *v);

/* ---- Scalars --------------------------------------------------------------
 * These return a new reference, or NULL when out of memory (or for
 * gj_value_string, when s is not valid UTF-8).  null/true/false are shared
 * immortal values and never fail. */
GJ_EXTERN gj_value *gj_value_null(void);
GJ_EXTERN gj_value *gj_value_bool(bool b);
GJ_EXTERN gj_value *gj_value_int(int64_t i);
GJ_EXTERN gj_value *gj_value_float(double d);
/* A NUL-terminated UTF-8 string (copied). */
GJ_EXTERN gj_value *gj_value_string(const char *s);

/* The same with full error reporting.  `len` bytes of UTF-8 are copied;
 * invalid UTF-8 gives GJ_EINVAL. */
GJ_EXTERN int gj_value_new_string(gj_value **out, const char *s, size_t len);
GJ_EXTERN int gj_value_new_bytes(gj_value **out, const void *data, size_t len);
/* An integer that remembers the width it had on the wire (8, 16, 32, 64):
 * GraphSON g:Int32 vs g:Int64 round-trips.  gj_value_int() uses 64. */
GJ_EXTERN int gj_value_new_int_bits(gj_value **out, int64_t i, unsigned bits);
/* A float that remembers its wire width (32 or 64). */
GJ_EXTERN int gj_value_new_float_bits(gj_value **out, double d, unsigned bits);
GJ_EXTERN int gj_value_new_uuid(gj_value **out, const uint8_t bytes[16]);
/* Parse "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (GJ_EINVAL otherwise). */
GJ_EXTERN int gj_value_new_uuid_text(gj_value **out, const char *text);

/* ---- Containers ------------------------------------------------------------ */
GJ_EXTERN int gj_value_new_list(gj_value **out, size_t capacity_hint);
GJ_EXTERN int gj_value_new_set(gj_value **out, size_t capacity_hint);
/* Append to a list or set being built; takes over `item` (see top). */
GJ_EXTERN int gj_value_list_append(gj_value *list, gj_value *item);

GJ_EXTERN int gj_value_new_map(gj_value **out, size_t capacity_hint);
/* Put key -> val into a map being built; takes over both.  A key already
 * present keeps its position and gets the new value (last wins). */
GJ_EXTERN int gj_value_map_put(gj_value *map, gj_value *key, gj_value *val);
/* The same with a NUL-terminated string key (copied). */
GJ_EXTERN int gj_value_map_put_str(gj_value *map, const char *key, gj_value *val);

/* ---- Graph elements ---------------------------------------------------------
 * All parts passed in are taken over.  NULL for an optional part means
 * absent.  id: any value (int for Neo4j, anything for TinkerPop). */

/* labels: a list of strings (NULL = empty); properties: a map (NULL = empty). */
GJ_EXTERN int gj_value_new_node(gj_value **out, gj_value *id, gj_value *labels,
                                gj_value *properties);
/* Neo4j 5 element id (a string). */
GJ_EXTERN int gj_value_node_set_element_id(gj_value *node, gj_value *element_id);

/* type: a string (Neo4j type, TinkerPop label).  start_id / end_id: NULL for
 * an unbound relationship.  TinkerPop: start = outV, end = inV. */
GJ_EXTERN int gj_value_new_edge(gj_value **out, gj_value *id, gj_value *type,
                                gj_value *start_id, gj_value *end_id,
                                gj_value *properties);
GJ_EXTERN int gj_value_edge_set_element_ids(gj_value *edge, gj_value *element_id,
                                            gj_value *start_element_id,
                                            gj_value *end_element_id);
/* TinkerPop outVLabel / inVLabel. */
GJ_EXTERN int gj_value_edge_set_end_labels(gj_value *edge, gj_value *start_label,
                                           gj_value *end_label);

/* A path: `objects` is the walk (node, edge, node, ... for Neo4j; any values
 * for TinkerPop), `labels` a parallel list of label sets (TinkerPop) or NULL. */
GJ_EXTERN int gj_value_new_path(gj_value **out, gj_value *objects, gj_value *labels);

/* ---- Temporal and spatial ------------------------------------------------- */
GJ_EXTERN int gj_value_new_date(gj_value **out, int64_t days);
GJ_EXTERN int gj_value_new_time(gj_value **out, int64_t nanos_of_day, int32_t offset_seconds);
GJ_EXTERN int gj_value_new_local_time(gj_value **out, int64_t nanos_of_day);

/* Flags of a datetime. */
#define GJ_DATETIME_HAS_OFFSET 0x1   /* offset_seconds is meaningful */
#define GJ_DATETIME_LOCAL_SECONDS 0x2 /* seconds are wall-clock, not UTC (Bolt 4.4 legacy form) */

/* seconds since the epoch (UTC unless GJ_DATETIME_LOCAL_SECONDS), nanos
 * 0..999999999, and an offset, a zone id (copied, may be NULL), or both. */
GJ_EXTERN int gj_value_new_datetime(gj_value **out, int64_t seconds, int32_t nanos,
                                    int32_t offset_seconds, const char *zone_id,
                                    unsigned flags);
GJ_EXTERN int gj_value_new_local_datetime(gj_value **out, int64_t seconds, int32_t nanos);
GJ_EXTERN int gj_value_new_duration(gj_value **out, int64_t months, int64_t days,
                                    int64_t seconds, int32_t nanos);
/* dims is 2 or 3 (z ignored for 2). */
GJ_EXTERN int gj_value_new_point(gj_value **out, int64_t srid, unsigned dims,
                                 double x, double y, double z);

/* A value of a type the library has no decoder for, kept whole: tag is the
 * wire type name ("g:Tree", "gx:BigDecimal", ...), copied; inner taken over. */
GJ_EXTERN int gj_value_new_tagged(gj_value **out, const char *tag, gj_value *inner);

/* ---- Accessors --------------------------------------------------------------
 * Getters of scalars return 0, or GJ_ETYPE when v has another type (the
 * out-parameters are then untouched).  Pointers returned are borrowed from v. */
GJ_EXTERN gj_type gj_value_type(const gj_value *v);
GJ_EXTERN int gj_value_bool_get(const gj_value *v, bool *out);
GJ_EXTERN int gj_value_int_get(const gj_value *v, int64_t *out);
GJ_EXTERN unsigned gj_value_int_bits(const gj_value *v);   /* 0 if not an int */
GJ_EXTERN int gj_value_float_get(const gj_value *v, double *out);
GJ_EXTERN unsigned gj_value_float_bits(const gj_value *v); /* 0 if not a float */
/* Strings are NUL-terminated in storage as well; len excludes the NUL. */
GJ_EXTERN int gj_value_string_get(const gj_value *v, const char **s, size_t *len);
GJ_EXTERN int gj_value_bytes_get(const gj_value *v, const uint8_t **data, size_t *len);
GJ_EXTERN int gj_value_uuid_get(const gj_value *v, uint8_t out[16]);

/* Lists, sets and maps: size is 0 for other types; _at returns NULL out of range. */
GJ_EXTERN size_t gj_value_size(const gj_value *v);
GJ_EXTERN const gj_value *gj_value_list_at(const gj_value *v, size_t i);
GJ_EXTERN const gj_value *gj_value_map_key_at(const gj_value *v, size_t i);
GJ_EXTERN const gj_value *gj_value_map_value_at(const gj_value *v, size_t i);
/* The value under a string key, or NULL. */
GJ_EXTERN const gj_value *gj_value_map_get(const gj_value *v, const char *key);

/* Nodes and edges: NULL where a part is absent or v has another type. */
GJ_EXTERN const gj_value *gj_value_element_id(const gj_value *v);       /* the id */
GJ_EXTERN const gj_value *gj_value_element_element_id(const gj_value *v);/* Neo4j 5 element id */
GJ_EXTERN const gj_value *gj_value_element_properties(const gj_value *v);
GJ_EXTERN const gj_value *gj_value_node_labels(const gj_value *v);
GJ_EXTERN const gj_value *gj_value_edge_type(const gj_value *v);
GJ_EXTERN const gj_value *gj_value_edge_start_id(const gj_value *v);
GJ_EXTERN const gj_value *gj_value_edge_end_id(const gj_value *v);
GJ_EXTERN const gj_value *gj_value_edge_start_element_id(const gj_value *v);
GJ_EXTERN const gj_value *gj_value_edge_end_element_id(const gj_value *v);
GJ_EXTERN const gj_value *gj_value_edge_start_label(const gj_value *v);
GJ_EXTERN const gj_value *gj_value_edge_end_label(const gj_value *v);
GJ_EXTERN const gj_value *gj_value_path_objects(const gj_value *v);
GJ_EXTERN const gj_value *gj_value_path_labels(const gj_value *v);

GJ_EXTERN int gj_value_date_get(const gj_value *v, int64_t *days);
/* GJ_TTIME gives the offset; GJ_TLOCAL_TIME leaves *offset_seconds untouched
 * (pass NULL). */
GJ_EXTERN int gj_value_time_get(const gj_value *v, int64_t *nanos_of_day,
                                int32_t *offset_seconds);
/* GJ_TDATETIME and GJ_TLOCAL_DATETIME; zone_id (borrowed) is NULL when
 * absent; flags as in gj_value_new_datetime (0 for a local datetime).  Any
 * out pointer may be NULL. */
GJ_EXTERN int gj_value_datetime_get(const gj_value *v, int64_t *seconds, int32_t *nanos,
                                    int32_t *offset_seconds, const char **zone_id,
                                    unsigned *flags);
GJ_EXTERN int gj_value_duration_get(const gj_value *v, int64_t *months, int64_t *days,
                                    int64_t *seconds, int32_t *nanos);
GJ_EXTERN int gj_value_point_get(const gj_value *v, int64_t *srid, unsigned *dims,
                                 double *x, double *y, double *z);
GJ_EXTERN int gj_value_tagged_get(const gj_value *v, const char **tag,
                                  const gj_value **inner);

/* Deep equality (same type, same width-insensitive numbers, same contents). */
GJ_EXTERN bool gj_value_equal(const gj_value *a, const gj_value *b);

/* ==== Vectors ==============================================================
 * (this block and lib/core/value_vector.c go together)
 *
 * A vector is an ordered run of numbers of one element type, packed: Neo4j's
 * VECTOR (Bolt 6.0+, structure 0x56), an embedding of 1536 FLOAT32 costs
 * 6 KiB, not 1536 values.  It is a GJ_TTAGGED value whose tag is
 * "vector:" + the element type's name ("vector:FLOAT32") and whose inner
 * value is bytes: the elements big-endian, as Bolt carries them.  So it is
 * compared by gj_value_equal, copied and freed like any value, and its JSON
 * text is {"@type":"vector:FLOAT32","@value":"<base64 of the bytes>"}.
 * Read it with the calls below: as raw bytes, element by element, into a
 * C array, or as a list of numbers.  A tagged value built by hand with a
 * "vector:" tag is a vector only when its bytes fit its type
 * (gj_value_is_vector).
 *
 * Sent as a query parameter it needs Bolt 6.0 (GJ_EINVAL on older
 * connections: send gj_value_vector_to_list's list instead).
 *
 * Threading: as every value (see the top of this header). */

/* Element types.  Append-only. */
typedef enum gj_vector_type {
    GJ_VECTOR_INT8 = 1,
    GJ_VECTOR_INT16 = 2,
    GJ_VECTOR_INT32 = 3,
    GJ_VECTOR_INT64 = 4,
    GJ_VECTOR_FLOAT32 = 5,
    GJ_VECTOR_FLOAT64 = 6
} gj_vector_type;

#define GJ_VECTOR_TAG_PREFIX "vector:"

/* "INT8", "INT16", "INT32", "INT64", "FLOAT32", "FLOAT64" (static), or NULL. */
GJ_EXTERN const char *gj_vector_type_name(gj_vector_type type);
/* Bytes per element (1, 2, 4, 8, 4, 8), or 0 for an unknown type. */
GJ_EXTERN size_t gj_vector_type_size(gj_vector_type type);

/* A vector of `count` elements from a C array in the machine's order:
 * int8_t, int16_t, int32_t, int64_t, float or double per type (copied;
 * NULL is fine when count is 0).  GJ_EINVAL for an unknown type,
 * GJ_ETOOBIG past 2^31 elements, GJ_ENOMEM. */
GJ_EXTERN int gj_value_new_vector(gj_value **out, gj_vector_type type, const void *elements,
                                  size_t count);
/* The same from the packed big-endian bytes (Bolt's form): len must be a
 * multiple of the element size (GJ_EINVAL otherwise). */
GJ_EXTERN int gj_value_new_vector_bytes(gj_value **out, gj_vector_type type, const void *data,
                                        size_t len);

/* Is v a vector (tag, type name and byte count consistent)? */
GJ_EXTERN bool gj_value_is_vector(const gj_value *v);
/* Its element type, element count and packed big-endian bytes (borrowed
 * from v); any out pointer may be NULL.  GJ_ETYPE when v is not a vector. */
GJ_EXTERN int gj_value_vector_get(const gj_value *v, gj_vector_type *type, size_t *count,
                                  const uint8_t **data, size_t *len);
/* Element i as a double (every type; an INT64 beyond 2^53 is rounded) or
 * as an int64 (integer types only: GJ_ETYPE for FLOAT32/FLOAT64).
 * GJ_EINVAL past the end, GJ_ETYPE when v is not a vector. */
GJ_EXTERN int gj_value_vector_float_at(const gj_value *v, size_t i, double *out);
GJ_EXTERN int gj_value_vector_int_at(const gj_value *v, size_t i, int64_t *out);
/* Copy the elements into a C array of the vector's own element type in
 * the machine's order (count elements: at most `capacity`); *count (may be
 * NULL) gets how many the vector has.  GJ_ETOOBIG when capacity is too
 * small (nothing copied), GJ_ETYPE when v is not a vector. */
GJ_EXTERN int gj_value_vector_copy(const gj_value *v, void *out, size_t capacity, size_t *count);
/* A new list of its elements: ints (width 8/16/32/64) or floats (width
 * 32/64).  The caller owns *out. */
GJ_EXTERN int gj_value_vector_to_list(const gj_value *v, gj_value **out);

/* ==== end of vectors ====================================================== */

/* ---- JSON text ----------------------------------------------------------- */
#define GJ_JSON_PRETTY 0x1   /* indent with two spaces */
#define GJ_JSON_TYPED  0x2   /* wrap non-JSON types as {"$type": name, ...} */

/* Render v as JSON text into a new NUL-terminated buffer that the caller
 * frees with gj_free().  Graph elements become objects ({"id":..,"labels":..,
 * "properties":..}), temporal values ISO-8601 strings, bytes base64, non-finite
 * floats the strings "NaN"/"Infinity"/"-Infinity", maps with non-string keys
 * a list of [key, value] pairs.  len (may be NULL) receives the length. */
GJ_EXTERN int gj_value_to_json(const gj_value *v, unsigned flags, char **out, size_t *len);

/* Parse JSON text (len bytes, need not be NUL-terminated) into a new value:
 * objects become maps with string keys in document order, arrays lists,
 * integers ints (beyond int64: floats), other numbers floats.  Errors
 * (GJ_EINVAL) give the byte offset; nesting is limited to 128 levels. */
GJ_EXTERN int gj_value_from_json(gj_value **out, const char *text, size_t len, gj_error *err);

/* Free memory the library allocated for the caller (JSON text, id arrays). */
GJ_EXTERN void gj_free(void *p);

GJ_END_DECLS

#endif
