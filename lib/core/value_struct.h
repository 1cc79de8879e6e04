/*
 * The memory layout of values, private to lib/core/value*.c (codecs use the
 * public accessors and value_internal.h instead).
 *
 * Every value starts with a gj_value header (refcount, type, width bits,
 * flags); scalars, strings and bytes are one allocation each.  Compound values
 * (list, set, map, node, edge, path, tagged) start with a vcompound whose
 * dead_next links values being freed, so freeing a tree needs neither
 * recursion nor memory.
 */
#ifndef GJ_CORE_VALUE_STRUCT_H
#define GJ_CORE_VALUE_STRUCT_H

#include "core/value_internal.h"

#include <stdatomic.h>

#define GJ__F_IMMORTAL 0x8000u  /* a static: ref/unref do nothing, never built into */
#define GJ__F_ZONE 0x4000u      /* datetime: zone id present */
#define GJ__F_DATETIME_PUBLIC (GJ_DATETIME_HAS_OFFSET | GJ_DATETIME_LOCAL_SECONDS)

struct gj_value {
    _Atomic uint32_t refs;
    uint8_t type;
    uint8_t bits;   /* int / float wire width; bool value; point dims */
    uint16_t flags;
};

typedef struct { gj_value h; int64_t i; } gj__vint;
typedef struct { gj_value h; double d; } gj__vfloat;
typedef struct { gj_value h; size_t len; char data[]; } gj__vbytes;   /* string, bytes */
typedef struct { gj_value h; uint8_t b[16]; } gj__vuuid;
typedef struct { gj_value h; int64_t days; } gj__vdate;
typedef struct { gj_value h; int32_t offset; int64_t nanos; } gj__vtime;
typedef struct {
    gj_value h;
    int32_t nanos;
    int32_t offset;     /* 0 unless GJ_DATETIME_HAS_OFFSET */
    int64_t seconds;
    char zone[];        /* present when GJ__F_ZONE */
} gj__vdatetime;
typedef struct { gj_value h; int32_t nanos; int64_t months, days, seconds; } gj__vduration;
typedef struct { gj_value h; int64_t srid; double x, y, z; } gj__vpoint;

typedef struct gj__vcompound {
    gj_value h;
    struct gj__vcompound *dead_next;
} gj__vcompound;

typedef struct {
    gj__vcompound c;
    size_t size, cap;
    gj_value **items;         /* inline_items, or a separate array once grown */
    gj_value *inline_items[]; /* capacity hint, allocated with the list */
} gj__vlist;

typedef struct {
    gj__vcompound c;
    size_t size, cap;
    gj_value **kv;            /* kv[2i] = key i, kv[2i+1] = value i */
    uint64_t *index;          /* slot = (uint64)hash32 << 32 | (entry + 1); 0 = empty */
    size_t index_cap;         /* power of two, or 0 without an index */
    uint64_t seed[2];         /* SipHash key, set when the index is first built */
    gj_value *inline_kv[];    /* 2 x capacity hint, allocated with the map */
} gj__vmap;

/* Node, edge, path, tagged: a fixed number of optional child values. */
enum { GJ__NODE_ID, GJ__NODE_LABELS, GJ__NODE_PROPS, GJ__NODE_EID, GJ__NODE_PARTS };
enum {
    GJ__EDGE_ID, GJ__EDGE_TYPE, GJ__EDGE_START, GJ__EDGE_END, GJ__EDGE_PROPS, GJ__EDGE_EID,
    GJ__EDGE_START_EID, GJ__EDGE_END_EID, GJ__EDGE_START_LABEL, GJ__EDGE_END_LABEL,
    GJ__EDGE_PARTS
};
enum { GJ__PATH_OBJECTS, GJ__PATH_LABELS, GJ__PATH_PARTS };
enum { GJ__TAGGED_INNER, GJ__TAGGED_PARTS };

typedef struct {
    gj__vcompound c;
    const char *tag;     /* tagged: stored inline after part[] */
    size_t tag_len;
    unsigned nparts;
    gj_value *part[];
} gj__vparts;

static inline bool gj__value_is_compound(const gj_value *v)
{
    switch (v->type) {
    case GJ_TLIST: case GJ_TSET: case GJ_TMAP: case GJ_TNODE: case GJ_TEDGE:
    case GJ_TPATH: case GJ_TTAGGED:
        return true;
    default:
        return false;
    }
}

/* The child slots of a compound value (NULL entries are absent parts); a
 * map's are key 0, value 0, key 1, ... */
static inline gj_value *const *gj__value_children(const gj_value *v, size_t *n)
{
    switch (v->type) {
    case GJ_TLIST: case GJ_TSET:
        *n = ((const gj__vlist *)v)->size;
        return ((const gj__vlist *)v)->items;
    case GJ_TMAP:
        *n = 2 * ((const gj__vmap *)v)->size;
        return ((const gj__vmap *)v)->kv;
    case GJ_TNODE: case GJ_TEDGE: case GJ_TPATH: case GJ_TTAGGED:
        *n = ((const gj__vparts *)v)->nparts;
        return ((const gj__vparts *)v)->part;
    default:
        *n = 0;
        return NULL;
    }
}

/* 0 when v has type t1 or t2 and its creator holds the only reference;
 * GJ_EINVAL (NULL), GJ_ETYPE or GJ_ESTATE otherwise (value.c). */
int gj__value_check_building(const gj_value *v, gj_type t1, gj_type t2);

/* Double an array of cap * per pointers (at least 4 * per); an array that
 * still is the value's inline storage is copied out rather than reallocated
 * (value.c). */
int gj__value_grow(gj_value ***array, gj_value **inline_storage, size_t *cap, size_t per);

#endif
