/*
 * Maps (ordered, keys are values) and deep equality of values.
 *
 * A map keeps insertion order in one flat key/value array.  Up to
 * GJ__VALUE_MAP_LINEAR_MAX entries it is searched linearly; past that it also
 * keeps an open-addressing hash index keyed with SipHash-1-3 and a per-map
 * random seed, so hostile inputs cannot make duplicate detection quadratic.
 *
 * Equality (gj_value_equal, also used for map keys) is deep and structural:
 *  - ints are equal by value whatever their wire width, floats likewise;
 *    an int never equals a float;
 *  - floats compare with ==, except that NaN equals NaN (so a NaN key can be
 *    found again); 0.0 equals -0.0;
 *  - maps are equal with the same key/value pairs in the same order; sets
 *    compare in order, like lists;
 *  - datetimes compare seconds, nanos, flags, offset and zone id (the same
 *    instant with another offset is a different value);
 *  - nested values are compared through an explicit stack, so depth is not
 *    limited by the C stack; if that stack cannot grow (out of memory) the
 *    answer is "not equal".
 */
#include "core/value_struct.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

/* ---- hashing (map index) ---------------------------------------------------------
 * SipHash-1-3 (Aumasson & Bernstein) keyed per map.  Equal values hash
 * equally: ints by value whatever their width, floats by value (-0.0 as 0.0,
 * every NaN alike), compound values by their first children to a bounded
 * depth. */

#define ROTL64(x, b) (((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                                   \
    do {                                                                           \
        v0 += v1; v1 = ROTL64(v1, 13); v1 ^= v0; v0 = ROTL64(v0, 32);              \
        v2 += v3; v3 = ROTL64(v3, 16); v3 ^= v2;                                   \
        v0 += v3; v3 = ROTL64(v3, 21); v3 ^= v0;                                   \
        v2 += v1; v1 = ROTL64(v1, 17); v1 ^= v2; v2 = ROTL64(v2, 32);              \
    } while (0)

static uint64_t siphash13(const uint64_t key[2], const void *data, size_t len)
{
    const unsigned char *p = data;
    uint64_t v0 = key[0] ^ UINT64_C(0x736f6d6570736575);
    uint64_t v1 = key[1] ^ UINT64_C(0x646f72616e646f6d);
    uint64_t v2 = key[0] ^ UINT64_C(0x6c7967656e657261);
    uint64_t v3 = key[1] ^ UINT64_C(0x7465646279746573);
    size_t blocks = len / 8;
    for (size_t i = 0; i < blocks; i++, p += 8) {
        uint64_t m;
        memcpy(&m, p, 8);
        v3 ^= m;
        SIPROUND;
        v0 ^= m;
    }
    uint64_t b = (uint64_t)len << 56;
    for (size_t i = 0; i < (len & 7); i++)
        b |= (uint64_t)p[i] << (8 * i);
    v3 ^= b;
    SIPROUND;
    v0 ^= b;
    v2 ^= 0xff;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

#define HASH_DEPTH 3
#define HASH_WIDTH 8

static uint64_t hash_value(const uint64_t key[2], const gj_value *v, int depth)
{
    uint64_t buf[HASH_WIDTH + 4];
    size_t n = 0;
    buf[n++] = v->type;
    switch (v->type) {
    case GJ_TSTRING:
        return siphash13(key, ((const gj__vbytes *)v)->data, ((const gj__vbytes *)v)->len);
    case GJ_TBYTES: {
        uint64_t h = siphash13(key, ((const gj__vbytes *)v)->data, ((const gj__vbytes *)v)->len);
        buf[n++] = h;
        break;
    }
    case GJ_TBOOL:
        buf[n++] = v->bits;
        break;
    case GJ_TINT:
        buf[n++] = (uint64_t)((const gj__vint *)v)->i;
        break;
    case GJ_TFLOAT: {
        double d = ((const gj__vfloat *)v)->d;
        if (d == 0)
            d = 0.0;
        else if (isnan(d))
            d = NAN;
        memcpy(&buf[n++], &d, 8);
        break;
    }
    case GJ_TUUID:
        memcpy(&buf[n], ((const gj__vuuid *)v)->b, 16);
        n += 2;
        break;
    case GJ_TDATE:
        buf[n++] = (uint64_t)((const gj__vdate *)v)->days;
        break;
    case GJ_TTIME: case GJ_TLOCAL_TIME:
        buf[n++] = (uint64_t)((const gj__vtime *)v)->nanos;
        break;
    case GJ_TDATETIME: case GJ_TLOCAL_DATETIME:
        buf[n++] = (uint64_t)((const gj__vdatetime *)v)->seconds;
        buf[n++] = (uint64_t)((const gj__vdatetime *)v)->nanos;
        break;
    case GJ_TDURATION:
        buf[n++] = (uint64_t)((const gj__vduration *)v)->months;
        buf[n++] = (uint64_t)((const gj__vduration *)v)->days;
        buf[n++] = (uint64_t)((const gj__vduration *)v)->seconds;
        break;
    case GJ_TPOINT:
        buf[n++] = (uint64_t)((const gj__vpoint *)v)->srid;
        break;
    default:
        if (gj__value_is_compound(v)) {
            size_t count;
            gj_value *const *kids = gj__value_children(v, &count);
            buf[n++] = count;
            if (depth < HASH_DEPTH)
                for (size_t i = 0; i < count && i < HASH_WIDTH; i++)
                    buf[n++] = kids[i] ? hash_value(key, kids[i], depth + 1) : 0;
        }
        break;
    }
    return siphash13(key, buf, n * sizeof buf[0]);
}

/* ---- maps ---------------------------------------------------------------------- */

static bool key_equal(const gj_value *a, const gj_value *b)
{
    if (a == b)
        return true;
    if (a->type == GJ_TSTRING && b->type == GJ_TSTRING) {
        const gj__vbytes *x = (const gj__vbytes *)a, *y = (const gj__vbytes *)b;
        return x->len == y->len && memcmp(x->data, y->data, x->len) == 0;
    }
    return gj_value_equal(a, b);
}

static void index_place(uint64_t *index, size_t cap, uint64_t slot)
{
    size_t mask = cap - 1;
    for (size_t i = (size_t)(slot >> 32) & mask;; i = (i + 1) & mask) {
        if (!index[i]) {
            index[i] = slot;
            return;
        }
    }
}

static uint64_t make_slot(uint64_t hash, size_t entry)
{
    return (hash & UINT64_C(0xffffffff)) << 32 | (uint64_t)(entry + 1);
}

/* (Re)build the index with room for at least twice `want` entries. */
static int index_build(gj__vmap *m, size_t want)
{
    size_t cap = 64;
    while (cap < 2 * want)
        cap *= 2;
    uint64_t *index = calloc(cap, sizeof *index);
    if (!index)
        return GJ_ENOMEM;
    if (m->index) {
        for (size_t i = 0; i < m->index_cap; i++)
            if (m->index[i])
                index_place(index, cap, m->index[i]);
        free(m->index);
    } else {
        if (!m->seed[0] && !m->seed[1] &&
            getrandom(m->seed, sizeof m->seed, GRND_NONBLOCK) != (ssize_t)sizeof m->seed) {
            /* No entropy yet: addresses differ from run to run (ASLR). */
            uintptr_t a = (uintptr_t)m, b = (uintptr_t)&cap;
            m->seed[0] = (uint64_t)a * UINT64_C(0x9E3779B97F4A7C15) ^ (uint64_t)b;
            m->seed[1] = (uint64_t)b * UINT64_C(0xC2B2AE3D27D4EB4F) ^ (uint64_t)a;
        }
        for (size_t e = 0; e < m->size; e++)
            index_place(index, cap, make_slot(hash_value(m->seed, m->kv[2 * e], 0), e));
    }
    m->index = index;
    m->index_cap = cap;
    return 0;
}

/* The entry holding a key equal to `key` (hashed as `hash` when indexed), or SIZE_MAX. */
static size_t map_find(const gj__vmap *m, const gj_value *key, uint64_t hash)
{
    if (!m->index) {
        for (size_t e = 0; e < m->size; e++)
            if (key_equal(m->kv[2 * e], key))
                return e;
        return SIZE_MAX;
    }
    size_t mask = m->index_cap - 1;
    uint64_t h32 = hash & UINT64_C(0xffffffff);
    for (size_t i = (size_t)h32 & mask;; i = (i + 1) & mask) {
        uint64_t slot = m->index[i];
        if (!slot)
            return SIZE_MAX;
        size_t e = (size_t)(slot & UINT64_C(0xffffffff)) - 1;
        if ((slot >> 32) == h32 && key_equal(m->kv[2 * e], key))
            return e;
    }
}

int gj_value_map_put(gj_value *map, gj_value *key, gj_value *val)
{
    int rc = gj__value_check_building(map, GJ_TMAP, GJ_TMAP);
    if (rc == 0 && (!key || !val || key == map || val == map))
        rc = GJ_EINVAL;
    if (rc)
        goto fail;
    gj__vmap *m = (gj__vmap *)map;
    uint64_t hash = m->index ? hash_value(m->seed, key, 0) : 0;
    size_t e = map_find(m, key, hash);
    if (e != SIZE_MAX) {
        gj_value_unref(m->kv[2 * e + 1]);
        m->kv[2 * e + 1] = val;
        gj_value_unref(key);
        return 0;
    }
    if (m->size >= GJ__VALUE_MAP_MAX) {
        rc = GJ_ETOOBIG;
        goto fail;
    }
    if (m->size == m->cap && (rc = gj__value_grow(&m->kv, m->inline_kv, &m->cap, 2)) != 0)
        goto fail;
    if (m->index && 2 * (m->size + 1) > m->index_cap && (rc = index_build(m, m->size + 1)) != 0)
        goto fail;
    e = m->size++;
    m->kv[2 * e] = key;
    m->kv[2 * e + 1] = val;
    if (m->index)
        index_place(m->index, m->index_cap, make_slot(hash, e));
    else if (m->size > GJ__VALUE_MAP_LINEAR_MAX)
        (void)index_build(m, m->size);   /* without memory, stay linear: slower, still right */
    return 0;
fail:
    gj_value_unref(key);
    gj_value_unref(val);
    return rc;
}

int gj__value_map_append(gj_value *map, gj_value *key, gj_value *val)
{
    int rc = gj__value_check_building(map, GJ_TMAP, GJ_TMAP);
    if (rc == 0 && (!key || !val || key == map || val == map))
        rc = GJ_EINVAL;
    gj__vmap *m = (gj__vmap *)map;
    if (rc == 0 && m->size >= GJ__VALUE_MAP_MAX)
        rc = GJ_ETOOBIG;
    if (rc == 0 && m->size == m->cap)
        rc = gj__value_grow(&m->kv, m->inline_kv, &m->cap, 2);
    if (rc == 0 && m->index && 2 * (m->size + 1) > m->index_cap)
        rc = index_build(m, m->size + 1);
    if (rc) {
        gj_value_unref(key);
        gj_value_unref(val);
        return rc;
    }
    size_t e = m->size++;
    m->kv[2 * e] = key;
    m->kv[2 * e + 1] = val;
    /* An index is kept up to date when there is one; none is built here
     * (lookups in a large map without one are linear: still right), so a
     * parsed object costs no hashing of its keys. */
    if (m->index)
        index_place(m->index, m->index_cap, make_slot(hash_value(m->seed, key, 0), e));
    return 0;
}

int gj_value_map_put_str(gj_value *map, const char *key, gj_value *val)
{
    gj_value *k = NULL;
    size_t len = key ? strlen(key) : 0;
    if (len)
        k = gj__value_common_key(key, len);
    int rc = k ? 0 : key ? gj_value_new_string(&k, key, len) : GJ_EINVAL;
    if (rc) {
        gj_value_unref(val);
        return rc;
    }
    return gj_value_map_put(map, k, val);
}

const gj_value *gj_value_map_get(const gj_value *v, const char *key)
{
    if (!v || v->type != GJ_TMAP || !key)
        return NULL;
    const gj__vmap *m = (const gj__vmap *)v;
    size_t len = strlen(key);
    if (!m->index) {
        for (size_t e = 0; e < m->size; e++) {
            const gj__vbytes *k = (const gj__vbytes *)m->kv[2 * e];
            if (k->h.type == GJ_TSTRING && k->len == len && memcmp(k->data, key, len) == 0)
                return m->kv[2 * e + 1];
        }
        return NULL;
    }
    uint64_t h32 = siphash13(m->seed, key, len) & UINT64_C(0xffffffff);
    size_t mask = m->index_cap - 1;
    for (size_t i = (size_t)h32 & mask;; i = (i + 1) & mask) {
        uint64_t slot = m->index[i];
        if (!slot)
            return NULL;
        size_t e = (size_t)(slot & UINT64_C(0xffffffff)) - 1;
        const gj__vbytes *k = (const gj__vbytes *)m->kv[2 * e];
        if ((slot >> 32) == h32 && k->h.type == GJ_TSTRING && k->len == len &&
            memcmp(k->data, key, len) == 0)
            return m->kv[2 * e + 1];
    }
}

/* ---- equality -------------------------------------------------------------------------
 * Scalars and the shape of compound values are compared here; children are
 * compared by gj_value_equal through an explicit stack. */

static bool float_equal(double a, double b)
{
    return a == b || (isnan(a) && isnan(b));
}

static bool shallow_equal(const gj_value *a, const gj_value *b)
{
    if (a->type != b->type)
        return false;
    switch (a->type) {
    case GJ_TNULL:
        return true;
    case GJ_TBOOL:
        return a->bits == b->bits;
    case GJ_TINT:
        return ((const gj__vint *)a)->i == ((const gj__vint *)b)->i;
    case GJ_TFLOAT:
        return float_equal(((const gj__vfloat *)a)->d, ((const gj__vfloat *)b)->d);
    case GJ_TSTRING: case GJ_TBYTES: {
        const gj__vbytes *x = (const gj__vbytes *)a, *y = (const gj__vbytes *)b;
        return x->len == y->len && memcmp(x->data, y->data, x->len) == 0;
    }
    case GJ_TUUID:
        return memcmp(((const gj__vuuid *)a)->b, ((const gj__vuuid *)b)->b, 16) == 0;
    case GJ_TDATE:
        return ((const gj__vdate *)a)->days == ((const gj__vdate *)b)->days;
    case GJ_TTIME: case GJ_TLOCAL_TIME: {
        const gj__vtime *x = (const gj__vtime *)a, *y = (const gj__vtime *)b;
        return x->nanos == y->nanos && x->offset == y->offset;
    }
    case GJ_TDATETIME: case GJ_TLOCAL_DATETIME: {
        const gj__vdatetime *x = (const gj__vdatetime *)a, *y = (const gj__vdatetime *)b;
        return x->seconds == y->seconds && x->nanos == y->nanos && x->offset == y->offset &&
               a->flags == b->flags && (!(a->flags & GJ__F_ZONE) || strcmp(x->zone, y->zone) == 0);
    }
    case GJ_TDURATION: {
        const gj__vduration *x = (const gj__vduration *)a, *y = (const gj__vduration *)b;
        return x->months == y->months && x->days == y->days && x->seconds == y->seconds &&
               x->nanos == y->nanos;
    }
    case GJ_TPOINT: {
        const gj__vpoint *x = (const gj__vpoint *)a, *y = (const gj__vpoint *)b;
        return a->bits == b->bits && x->srid == y->srid && float_equal(x->x, y->x) &&
               float_equal(x->y, y->y) && float_equal(x->z, y->z);
    }
    case GJ_TTAGGED: {
        const gj__vparts *x = (const gj__vparts *)a, *y = (const gj__vparts *)b;
        return x->tag_len == y->tag_len && memcmp(x->tag, y->tag, x->tag_len) == 0;
    }
    default: {
        size_t n1, n2;
        gj__value_children(a, &n1);
        gj__value_children(b, &n2);
        return n1 == n2;
    }
    }
}

typedef struct {
    gj_value *const *a, *const *b;
    size_t n, i;
} eq_frame;

bool gj_value_equal(const gj_value *a, const gj_value *b)
{
    if (a == b)
        return true;
    if (!a || !b || !shallow_equal(a, b))
        return false;
    if (!gj__value_is_compound(a))
        return true;
    eq_frame small[32], *stack = small;
    size_t depth = 0, cap = sizeof small / sizeof small[0];
    bool equal = true;
    stack[depth].a = gj__value_children(a, &stack[depth].n);
    stack[depth].b = gj__value_children(b, &stack[depth].n);
    stack[depth++].i = 0;
    while (depth && equal) {
        eq_frame *f = &stack[depth - 1];
        if (f->i == f->n) {
            depth--;
            continue;
        }
        const gj_value *x = f->a[f->i], *y = f->b[f->i];
        f->i++;
        if (x == y)
            continue;
        if (!x || !y || !shallow_equal(x, y)) {
            equal = false;
            break;
        }
        if (!gj__value_is_compound(x))
            continue;
        if (depth == cap) {
            /* Without memory for a deeper comparison, report "not equal". */
            eq_frame *bigger = cap > SIZE_MAX / 2 / sizeof *stack ? NULL
                             : malloc(2 * cap * sizeof *stack);
            if (!bigger) {
                equal = false;
                break;
            }
            memcpy(bigger, stack, depth * sizeof *stack);
            if (stack != small)
                free(stack);
            stack = bigger;
            cap *= 2;
        }
        stack[depth].a = gj__value_children(x, &stack[depth].n);
        stack[depth].b = gj__value_children(y, &stack[depth].n);
        stack[depth++].i = 0;
    }
    if (stack != small)
        free(stack);
    return equal;
}
