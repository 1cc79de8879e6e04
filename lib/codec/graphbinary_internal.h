/*
 * Helpers shared by the GraphBinary decoder's files: graphbinary_decode.c
 * (the reader, scalars, collections, temporal types, dispatch) and
 * graphbinary_structs.c (graph elements and traversal structures).  Not for
 * use outside lib/codec/graphbinary*.
 *
 * Every helper fills err and returns the code on failure; values passed to
 * the builders are taken over, even on failure.
 */
#ifndef GJ_CODEC_GRAPHBINARY_INTERNAL_H
#define GJ_CODEC_GRAPHBINARY_INTERNAL_H

#include "codec/graphbinary.h"
#include "core/value_internal.h"

static inline size_t gj__gbd_left(const gj_gb_reader *r)
{
    return r->len - r->pos;
}

/* The reader's depth limit (its max_depth, or the default, clamped). */
unsigned gj__gbd_max_depth(const gj_gb_reader *r);

/* Errors: GJ_EPROTOCOL with a message; out of memory; truncation at `at`;
 * nesting beyond the limit; a constructor's refusal of a decoded value. */
int gj__gbd_protocol(gj_error *err, const char *fmt, ...) GJ__PRINTF(2, 3);
int gj__gbd_nomem(gj_error *err, const char *what);
int gj__gbd_truncated(const gj_gb_reader *r, size_t at, const char *what, size_t need,
                      gj_error *err);
int gj__gbd_too_deep(const gj_gb_reader *r, size_t at, gj_error *err);
int gj__gbd_refused(int rc, size_t at, const char *what, gj_error *err);

/* Value-only reads: Int, Long, a String as a value, a count of items that
 * take at least min_item bytes each (checked against the bytes left). */
int gj__gbd_i32(gj_gb_reader *r, size_t at, const char *what, int32_t *v, gj_error *err);
int gj__gbd_i64(gj_gb_reader *r, size_t at, const char *what, int64_t *v, gj_error *err);
int gj__gbd_string(gj_gb_reader *r, const char *what, gj_value **out, gj_error *err);
int gj__gbd_count(gj_gb_reader *r, const char *what, size_t min_item, size_t *n, gj_error *err);

/* {length}{item...} of fully qualified items at depth + 1 as a list or set. */
int gj__gbd_read_items(gj_gb_reader *r, const char *what, gj_type type, unsigned depth,
                       gj_value **out, gj_error *err);

/* Building: map[key] = val; a new map; a map of the non-NULL vals[i] under
 * keys[i]; tag + inner; tag{keys: vals}. */
int gj__gbd_put_field(gj_value *map, const char *key, gj_value *val, gj_error *err);
int gj__gbd_new_map(gj_value **out, size_t hint, gj_error *err);
int gj__gbd_fields_map(gj_value **out, size_t n, const char *const keys[], gj_value *vals[],
                       gj_error *err);
int gj__gbd_make_tagged(const char *tag, gj_value *inner, size_t at, gj_value **out,
                        gj_error *err);
int gj__gbd_tagged_fields(const char *tag, size_t at, size_t n, const char *const keys[],
                          gj_value *vals[], gj_value **out, gj_error *err);

/* ---- graphbinary_structs.c: the value of a type after its code and flag
 * (at = the offset of the code, depth = the type's own nesting). */
int gj__gbd_read_vertex(gj_gb_reader *r, size_t at, unsigned depth, gj_value **out,
                        gj_error *err);
/* graph_format: the layout inside a TinkerGraph. */
int gj__gbd_read_edge(gj_gb_reader *r, size_t at, unsigned depth, bool graph_format,
                      gj_value **out, gj_error *err);
int gj__gbd_read_vertex_property_body(gj_gb_reader *r, size_t at, unsigned depth,
                                      bool graph_format, gj_value **out, gj_error *err);
int gj__gbd_read_property(gj_gb_reader *r, size_t at, unsigned depth, gj_value **out,
                          gj_error *err);
int gj__gbd_read_path(gj_gb_reader *r, size_t at, unsigned depth, gj_value **out,
                      gj_error *err);
int gj__gbd_read_graph(gj_gb_reader *r, size_t at, unsigned depth, gj_value **out,
                       gj_error *err);
int gj__gbd_read_bytecode(gj_gb_reader *r, size_t at, unsigned depth, gj_value **out,
                          gj_error *err);
/* tag: "g:P" or "g:TextP". */
int gj__gbd_read_p(gj_gb_reader *r, size_t at, unsigned depth, const char *tag, gj_value **out,
                   gj_error *err);
int gj__gbd_read_tree(gj_gb_reader *r, size_t at, unsigned depth, gj_value **out,
                      gj_error *err);
int gj__gbd_read_metrics(gj_gb_reader *r, size_t at, unsigned depth, gj_value **out,
                         gj_error *err);
int gj__gbd_read_traversal_metrics(gj_gb_reader *r, size_t at, unsigned depth, gj_value **out,
                                   gj_error *err);

#endif
