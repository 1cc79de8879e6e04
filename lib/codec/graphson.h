/*
 * GraphSON 3.0 and 2.0 (Apache TinkerPop, docs/src/dev/io/graphson.asciidoc):
 * decoder from JSON text (parsed with json-c) into gj_value trees, and
 * encoder into a bounded buffer.  No I/O.  GraphSON 1.0 (untyped) is not
 * supported.
 *
 * Both versions wrap typed values as {"@type": name, "@value": ...}.  2.0
 * types scalars and elements but writes lists and maps as plain JSON arrays
 * and objects (map keys are strings); 3.0 adds g:List, g:Set and g:Map (a
 * flat [k1, v1, k2, v2, ...] array whose keys can be any value), which 2.0
 * does not know (read there as tagged values of unknown types).  Strings,
 * booleans and null are never wrapped.
 *
 * The mapping onto the value model is the one of docs/gremlin-types.md,
 * shared with GraphBinary (codec/graphson_types.h).  Decoding:
 *   - an object with exactly the members "@type" (a string) and "@value" is
 *     a typed value; a type name this codec has no decoder for becomes a
 *     GJ_TTAGGED value named by it around its decoded "@value";
 *   - any other object is a map with string keys (document order), an array
 *     a list, a bare integer a 64-bit int (beyond int64: a gx:BigInteger
 *     tagged value keeping every digit), a bare real a 64-bit float.
 * Encoding writes every non-JSON value typed, as Gremlin Server does; inside
 * the "@value" of a tagged value of an unknown type it writes plain JSON
 * again (maps with string keys as objects, lists as arrays, 64-bit ints and
 * floats bare), so an unknown type decodes and encodes to an equal JSON tree
 * unless its "@value" held a g:List, g:Map, g:Int64 or g:Double directly
 * (those are written plain).  A bare number in a known position is written
 * typed; everything TinkerPop writes round-trips to an equal tree (numbers
 * compare as numbers: a float may come back with another number of digits).
 *
 * json-c saturates integers beyond int64; so the decoder first looks for such
 * integers in the text and, when there are any, parses a copy in which each
 * carries a suffix that makes it a real number whose text json-c keeps (the
 * suffix is chosen so that no number of the document ends with it).
 *
 * Limits: nesting depth (max_depth values, default
 * GJ_GREMLIN_DEFAULT_MAX_DEPTH; json-c's own depth limit is set to twice
 * that, as a typed value takes two JSON levels), text length (INT32_MAX,
 * json-c's limit); errors are GJ_EPROTOCOL with the JSON path ($.a[2]...) of
 * the value and its type, or the byte offset of a syntax error.
 *
 * Threading: no shared state.
 */
#ifndef GJ_CODEC_GRAPHSON_H
#define GJ_CODEC_GRAPHSON_H

#include "codec/graphson_types.h"
#include "codec/packstream.h"   /* gj_ps_buf, the bounded output buffer */

typedef enum gj_graphson_version {
    GJ_GRAPHSON_V2 = 2,
    GJ_GRAPHSON_V3 = 3
} gj_graphson_version;

/* Decode one JSON document (text[0..len), no NUL needed; whitespace may
 * follow it). */
int gj__graphson_decode(gj_value **out, gj_graphson_version version, const char *text,
                        size_t len, unsigned max_depth, gj_error *err);

/* Append the GraphSON text of v to b.  Returns 0, GJ_EINVAL (a value GraphSON
 * cannot carry, named in err: a point, a v2 map with a non-string key, ...)
 * or the buffer's error (described in err). */
int gj__graphson_encode(gj_ps_buf *b, gj_graphson_version version, const gj_value *v,
                        gj_error *err);

/* Pieces for the message layer (they append to b; the buffer's error sticks). */
int gj__graphson_put_value(gj_ps_buf *b, gj_graphson_version version, const gj_value *v,
                           gj_error *err);   /* typed, as gj__graphson_encode */
int gj__graphson_put_string(gj_ps_buf *b, const char *s, size_t len);   /* a JSON string */
int gj__graphson_put_int(gj_ps_buf *b, int64_t i);                      /* a bare integer */
int gj__graphson_put_raw(gj_ps_buf *b, const char *s);                  /* text as is */

#endif
