/*
 * The value model: immutable, reference-counted values (include/graphjob/value.h).
 *
 * Every value starts with a small header (refcount, type, width bits, flags);
 * scalars, strings and bytes are one allocation each (string data inline and
 * NUL-terminated).  Compound values (list, set, map, node, edge, path, tagged)
 * carry a `dead_next` link so that freeing a tree needs neither recursion nor
 * memory.  Maps keep insertion order in one flat key/value array; past
 * GJ__VALUE_MAP_LINEAR_MAX entries they also keep an open-addressing hash
 * index keyed with SipHash-1-3 and a per-map random seed, so hostile inputs
 * cannot make duplicate detection quadratic.
 *
 * null, true, false and the empty list and map used for absent labels and
 * properties are immortal statics: ref/unref do nothing to them and they can
 * never be built into.
 */
#include "core/value_internal.h"

#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define F_IMMORTAL 0x8000u
#define F_ZONE 0x4000u /* datetime: zone id present */
#define F_DATETIME_PUBLIC (GJ_DATETIME_HAS_OFFSET | GJ_DATETIME_LOCAL_SECONDS)

#define OFFSET_MAX_SECONDS (18 * 3600)
#define NANOS_PER_SECOND 1000000000
#define NANOS_PER_DAY INT64_C(86400000000000)

struct gj_value {
    _Atomic uint32_t refs;
    uint8_t type;
    uint8_t bits;   /* int / float wire width; point dims */
    uint16_t flags;
};

typedef struct { gj_value h; int64_t i; } vint;
typedef struct { gj_value h; double d; } vfloat;
typedef struct { gj_value h; size_t len; char data[]; } vbytes;   /* string, bytes */
typedef struct { gj_value h; uint8_t b[16]; } vuuid;
typedef struct { gj_value h; int64_t days; } vdate;
typedef struct { gj_value h; int32_t offset; int64_t nanos; } vtime;
typedef struct {
    gj_value h;
    int32_t nanos;
    int32_t offset;
    int64_t seconds;
    char zone[];   /* present when F_ZONE */
} vdatetime;
typedef struct { gj_value h; int32_t nanos; int64_t months, days, seconds; } vduration;
typedef struct { gj_value h; int64_t srid; double x, y, z; } vpoint;

/* Compound values start with this. */
typedef struct vcompound { gj_value h; struct vcompound *dead_next; } vcompound;

typedef struct {
    vcompound c;
    size_t size, cap;
    gj_value **items;
} vlist;

typedef struct {
    vcompound c;
    size_t size, cap;
    gj_value **kv;        /* kv[2i] = key i, kv[2i+1] = value i */
    uint64_t *index;      /* slot = (uint64)hash32 << 32 | (entry + 1); 0 = empty */
    size_t index_cap;     /* power of two, or 0 without an index */
    uint64_t seed[2];
} vmap;

/* Node, edge, path, tagged: a fixed number of optional child values. */
enum { NODE_ID, NODE_LABELS, NODE_PROPS, NODE_EID, NODE_PARTS };
enum {
    EDGE_ID, EDGE_TYPE, EDGE_START, EDGE_END, EDGE_PROPS, EDGE_EID,
    EDGE_START_EID, EDGE_END_EID, EDGE_START_LABEL, EDGE_END_LABEL, EDGE_PARTS
};
enum { PATH_OBJECTS, PATH_LABELS, PATH_PARTS };
enum { TAGGED_INNER, TAGGED_PARTS };

typedef struct {
    vcompound c;
    const char *tag;     /* tagged: inline after part[] */
    size_t tag_len;
    unsigned nparts;
    gj_value *part[];
} vparts;

/* ---- immortal statics ------------------------------------------------------ */

static const gj_value null_value = {.type = GJ_TNULL, .flags = F_IMMORTAL};
static const gj_value true_value = {.type = GJ_TBOOL, .bits = 1, .flags = F_IMMORTAL};
static const gj_value false_value = {.type = GJ_TBOOL, .bits = 0, .flags = F_IMMORTAL};
static const vlist empty_list = {.c = {.h = {.type = GJ_TLIST, .flags = F_IMMORTAL}}};
static const vmap empty_map = {.c = {.h = {.type = GJ_TMAP, .flags = F_IMMORTAL}}};

/* The statics are never written: every mutating path checks F_IMMORTAL first. */
static gj_value *immortal(const gj_value *v)
{
    return (gj_value *)v;
}

const char *gj_type_name(gj_type type)
{
    static const char *const names[] = {
        "null", "bool", "int", "float", "string", "bytes", "list", "map",
        "node", "edge", "path", "date", "time", "local_time", "datetime",
        "local_datetime", "duration", "point", "uuid", "tagged", "set",
    };
    if ((unsigned)type < sizeof names / sizeof names[0])
        return names[type];
    return "unknown";
}

/* ---- allocation and reference counting ------------------------------------- */

static void *value_alloc(size_t size, gj_type type)
{
    gj_value *v = malloc(size);
    if (!v)
        return NULL;
    atomic_init(&v->refs, 1);
    v->type = (uint8_t)type;
    v->bits = 0;
    v->flags = 0;
    return v;
}

static bool is_compound(const gj_value *v)
{
    switch (v->type) {
    case GJ_TLIST: case GJ_TSET: case GJ_TMAP: case GJ_TNODE: case GJ_TEDGE:
    case GJ_TPATH: case GJ_TTAGGED:
        return true;
    default:
        return false;
    }
}

/* The child slots of a compound value (NULL entries are absent parts). */
static gj_value *const *children(const gj_value *v, size_t *n)
{
    switch (v->type) {
    case GJ_TLIST: case GJ_TSET:
        *n = ((const vlist *)v)->size;
        return ((const vlist *)v)->items;
    case GJ_TMAP:
        *n = 2 * ((const vmap *)v)->size;
        return ((const vmap *)v)->kv;
    case GJ_TNODE: case GJ_TEDGE: case GJ_TPATH: case GJ_TTAGGED:
        *n = ((const vparts *)v)->nparts;
        return ((const vparts *)v)->part;
    default:
        *n = 0;
        return NULL;
    }
}

gj_value *gj_value_ref(const gj_value *v)
{
    gj_value *m = immortal(v);
    if (m && !(m->flags & F_IMMORTAL))
        atomic_fetch_add_explicit(&m->refs, 1, memory_order_relaxed);
    return m;
}

/* Drop one reference; true when it was the last. */
static bool release(gj_value *v)
{
    if (!v || (v->flags & F_IMMORTAL))
        return false;
    return atomic_fetch_sub_explicit(&v->refs, 1, memory_order_acq_rel) == 1;
}

static void free_shell(gj_value *v)
{
    if (v->type == GJ_TLIST || v->type == GJ_TSET) {
        free(((vlist *)v)->items);
    } else if (v->type == GJ_TMAP) {
        free(((vmap *)v)->kv);
        free(((vmap *)v)->index);
    }
    free(v);
}

/* Free a value whose count reached zero, and every child that dies with it,
 * through an intrusive stack of dead compound values (no recursion). */
static void dispose(gj_value *v)
{
    if (!is_compound(v)) {
        free(v);
        return;
    }
    vcompound *stack = (vcompound *)v;
    stack->dead_next = NULL;
    while (stack) {
        vcompound *c = stack;
        stack = c->dead_next;
        size_t n;
        gj_value *const *kids = children(&c->h, &n);
        for (size_t i = 0; i < n; i++) {
            gj_value *k = kids[i];
            if (!release(k))
                continue;
            if (is_compound(k)) {
                ((vcompound *)k)->dead_next = stack;
                stack = (vcompound *)k;
            } else {
                free(k);
            }
        }
        free_shell(&c->h);
    }
}

void gj_value_unref(gj_value *v)
{
    if (release(v))
        dispose(v);
}

/* A value may be built into while its creator holds the only reference. */
static int check_building(const gj_value *v, gj_type t1, gj_type t2)
{
    if (!v)
        return GJ_EINVAL;
    if (v->type != t1 && v->type != t2)
        return GJ_ETYPE;
    if ((v->flags & F_IMMORTAL) ||
        atomic_load_explicit(&immortal(v)->refs, memory_order_relaxed) != 1)
        return GJ_ESTATE;
    return 0;
}

/* ---- UTF-8 ------------------------------------------------------------------ */

bool gj__utf8_valid(const char *str, size_t len, size_t *bad_offset)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < len) {
        /* ASCII fast path, 8 bytes at a time. */
        while (i + 8 <= len) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            if (w & UINT64_C(0x8080808080808080))
                break;
            i += 8;
        }
        if (i >= len)
            break;
        unsigned c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t need;
        unsigned lo = 0x80, hi = 0xBF;   /* range of the second byte */
        if (c >= 0xC2 && c <= 0xDF) {
            need = 1;
        } else if (c >= 0xE0 && c <= 0xEF) {
            need = 2;
            if (c == 0xE0)
                lo = 0xA0;               /* overlong */
            else if (c == 0xED)
                hi = 0x9F;               /* surrogates */
        } else if (c >= 0xF0 && c <= 0xF4) {
            need = 3;
            if (c == 0xF0)
                lo = 0x90;               /* overlong */
            else if (c == 0xF4)
                hi = 0x8F;               /* above U+10FFFF */
        } else {
            goto bad;                    /* 80..C1, F5..FF */
        }
        if (len - i <= need)
            goto bad;                    /* truncated */
        if (s[i + 1] < lo || s[i + 1] > hi)
            goto bad;
        for (size_t k = 2; k <= need; k++)
            if ((s[i + k] & 0xC0) != 0x80)
                goto bad;
        i += need + 1;
    }
    return true;
bad:
    if (bad_offset)
        *bad_offset = i;
    return false;
}

/* ---- scalars ------------------------------------------------------------------ */

gj_value *gj_value_null(void)
{
    return immortal(&null_value);
}

gj_value *gj_value_bool(bool b)
{
    return immortal(b ? &true_value : &false_value);
}

int gj_value_new_int_bits(gj_value **out, int64_t i, unsigned bits)
{
    if (!out)
        return GJ_EINVAL;
    *out = NULL;
    if (bits != 8 && bits != 16 && bits != 32 && bits != 64)
        return GJ_EINVAL;
    if (bits < 64) {
        int64_t lim = INT64_C(1) << (bits - 1);
        if (i < -lim || i >= lim)
            return GJ_EINVAL;
    }
    vint *v = value_alloc(sizeof *v, GJ_TINT);
    if (!v)
        return GJ_ENOMEM;
    v->h.bits = (uint8_t)bits;
    v->i = i;
    *out = &v->h;
    return 0;
}

gj_value *gj_value_int(int64_t i)
{
    gj_value *v;
    return gj_value_new_int_bits(&v, i, 64) == 0 ? v : NULL;
}

int gj_value_new_float_bits(gj_value **out, double d, unsigned bits)
{
    if (!out)
        return GJ_EINVAL;
    *out = NULL;
    if (bits != 32 && bits != 64)
        return GJ_EINVAL;
    vfloat *v = value_alloc(sizeof *v, GJ_TFLOAT);
    if (!v)
        return GJ_ENOMEM;
    v->h.bits = (uint8_t)bits;
    v->d = d;
    *out = &v->h;
    return 0;
}

gj_value *gj_value_float(double d)
{
    gj_value *v;
    return gj_value_new_float_bits(&v, d, 64) == 0 ? v : NULL;
}

static int new_bytes(gj_value **out, gj_type type, const void *data, size_t len)
{
    if (!out)
        return GJ_EINVAL;
    *out = NULL;
    if (!data && len)
        return GJ_EINVAL;
    if (len > SIZE_MAX - sizeof(vbytes) - 1)
        return GJ_ENOMEM;
    if (type == GJ_TSTRING && !gj__utf8_valid(data, len, NULL))
        return GJ_EINVAL;
    vbytes *v = value_alloc(sizeof *v + len + 1, type);
    if (!v)
        return GJ_ENOMEM;
    v->len = len;
    if (len)
        memcpy(v->data, data, len);
    v->data[len] = '\0';
    *out = &v->h;
    return 0;
}

int gj_value_new_string(gj_value **out, const char *s, size_t len)
{
    return new_bytes(out, GJ_TSTRING, s, len);
}

int gj_value_new_bytes(gj_value **out, const void *data, size_t len)
{
    return new_bytes(out, GJ_TBYTES, data, len);
}

gj_value *gj_value_string(const char *s)
{
    gj_value *v;
    if (!s)
        return NULL;
    return gj_value_new_string(&v, s, strlen(s)) == 0 ? v : NULL;
}

int gj_value_new_uuid(gj_value **out, const uint8_t bytes[16])
{
    if (!out)
        return GJ_EINVAL;
    *out = NULL;
    if (!bytes)
        return GJ_EINVAL;
    vuuid *v = value_alloc(sizeof *v, GJ_TUUID);
    if (!v)
        return GJ_ENOMEM;
    memcpy(v->b, bytes, 16);
    *out = &v->h;
    return 0;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int gj_value_new_uuid_text(gj_value **out, const char *text)
{
    if (!out)
        return GJ_EINVAL;
    *out = NULL;
    if (!text)
        return GJ_EINVAL;
    uint8_t b[16];
    size_t n = 0;
    for (size_t i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (text[i] != '-')
                return GJ_EINVAL;
            continue;
        }
        int hi = hex_digit(text[i]);
        int lo = hi < 0 ? -1 : hex_digit(text[++i]);
        if (lo < 0)
            return GJ_EINVAL;
        b[n++] = (uint8_t)(hi << 4 | lo);
    }
    if (text[36] != '\0')
        return GJ_EINVAL;
    return gj_value_new_uuid(out, b);
}

/* ---- containers ----------------------------------------------------------------- */

static int new_list(gj_value **out, gj_type type, size_t hint)
{
    if (!out)
        return GJ_EINVAL;
    *out = NULL;
    if (hint > GJ__VALUE_HINT_MAX)
        hint = GJ__VALUE_HINT_MAX;
    vlist *v = value_alloc(sizeof *v, type);
    if (!v)
        return GJ_ENOMEM;
    v->size = 0;
    v->cap = hint;
    v->items = NULL;
    if (hint && !(v->items = malloc(hint * sizeof *v->items))) {
        free(v);
        return GJ_ENOMEM;
    }
    *out = &v->c.h;
    return 0;
}

int gj_value_new_list(gj_value **out, size_t capacity_hint)
{
    return new_list(out, GJ_TLIST, capacity_hint);
}

int gj_value_new_set(gj_value **out, size_t capacity_hint)
{
    return new_list(out, GJ_TSET, capacity_hint);
}

/* Double an array of cap * `per` pointers (at least 4 * per). */
static int grow(gj_value ***array, size_t *cap, size_t per)
{
    size_t ncap = *cap ? *cap * 2 : 4;
    if (ncap < *cap || ncap > SIZE_MAX / sizeof(gj_value *) / per)
        return GJ_ENOMEM;
    gj_value **a = realloc(*array, ncap * per * sizeof(gj_value *));
    if (!a)
        return GJ_ENOMEM;
    *array = a;
    *cap = ncap;
    return 0;
}

int gj_value_list_append(gj_value *list, gj_value *item)
{
    int rc = check_building(list, GJ_TLIST, GJ_TSET);
    if (rc == 0 && (!item || item == list))
        rc = GJ_EINVAL;
    vlist *l = (vlist *)list;
    if (rc == 0 && l->size == l->cap)
        rc = grow(&l->items, &l->cap, 1);
    if (rc) {
        gj_value_unref(item);
        return rc;
    }
    l->items[l->size++] = item;
    return 0;
}

int gj_value_new_map(gj_value **out, size_t capacity_hint)
{
    if (!out)
        return GJ_EINVAL;
    *out = NULL;
    size_t hint = capacity_hint > GJ__VALUE_HINT_MAX ? GJ__VALUE_HINT_MAX : capacity_hint;
    vmap *m = value_alloc(sizeof *m, GJ_TMAP);
    if (!m)
        return GJ_ENOMEM;
    m->size = 0;
    m->cap = hint;
    m->kv = NULL;
    m->index = NULL;
    m->index_cap = 0;
    m->seed[0] = m->seed[1] = 0;
    if (hint && !(m->kv = malloc(2 * hint * sizeof *m->kv))) {
        free(m);
        return GJ_ENOMEM;
    }
    *out = &m->c.h;
    return 0;
}

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
        return siphash13(key, ((const vbytes *)v)->data, ((const vbytes *)v)->len);
    case GJ_TBYTES: {
        uint64_t h = siphash13(key, ((const vbytes *)v)->data, ((const vbytes *)v)->len);
        buf[n++] = h;
        break;
    }
    case GJ_TBOOL:
        buf[n++] = v->bits;
        break;
    case GJ_TINT:
        buf[n++] = (uint64_t)((const vint *)v)->i;
        break;
    case GJ_TFLOAT: {
        double d = ((const vfloat *)v)->d;
        if (d == 0)
            d = 0.0;
        else if (isnan(d))
            d = NAN;
        memcpy(&buf[n++], &d, 8);
        break;
    }
    case GJ_TUUID:
        memcpy(&buf[n], ((const vuuid *)v)->b, 16);
        n += 2;
        break;
    case GJ_TDATE:
        buf[n++] = (uint64_t)((const vdate *)v)->days;
        break;
    case GJ_TTIME: case GJ_TLOCAL_TIME:
        buf[n++] = (uint64_t)((const vtime *)v)->nanos;
        break;
    case GJ_TDATETIME: case GJ_TLOCAL_DATETIME:
        buf[n++] = (uint64_t)((const vdatetime *)v)->seconds;
        buf[n++] = (uint64_t)((const vdatetime *)v)->nanos;
        break;
    case GJ_TDURATION:
        buf[n++] = (uint64_t)((const vduration *)v)->months;
        buf[n++] = (uint64_t)((const vduration *)v)->days;
        buf[n++] = (uint64_t)((const vduration *)v)->seconds;
        break;
    case GJ_TPOINT:
        buf[n++] = (uint64_t)((const vpoint *)v)->srid;
        break;
    default:
        if (is_compound(v)) {
            size_t count;
            gj_value *const *kids = children(v, &count);
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
        const vbytes *x = (const vbytes *)a, *y = (const vbytes *)b;
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
static int index_build(vmap *m, size_t want)
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
static size_t map_find(const vmap *m, const gj_value *key, uint64_t hash)
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
    int rc = check_building(map, GJ_TMAP, GJ_TMAP);
    if (rc == 0 && (!key || !val || key == map || val == map))
        rc = GJ_EINVAL;
    if (rc)
        goto fail;
    vmap *m = (vmap *)map;
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
    if (m->size == m->cap && (rc = grow(&m->kv, &m->cap, 2)) != 0)
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

int gj_value_map_put_str(gj_value *map, const char *key, gj_value *val)
{
    gj_value *k = NULL;
    int rc = key ? gj_value_new_string(&k, key, strlen(key)) : GJ_EINVAL;
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
    const vmap *m = (const vmap *)v;
    size_t len = strlen(key);
    if (!m->index) {
        for (size_t e = 0; e < m->size; e++) {
            const vbytes *k = (const vbytes *)m->kv[2 * e];
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
        const vbytes *k = (const vbytes *)m->kv[2 * e];
        if ((slot >> 32) == h32 && k->h.type == GJ_TSTRING && k->len == len &&
            memcmp(k->data, key, len) == 0)
            return m->kv[2 * e + 1];
    }
}

/* ---- graph elements --------------------------------------------------------------- */

static bool is_type(const gj_value *v, gj_type t)
{
    return v && v->type == t;
}

static bool is_list_of_strings(const gj_value *v)
{
    if (v->type != GJ_TLIST && v->type != GJ_TSET)
        return false;
    const vlist *l = (const vlist *)v;
    for (size_t i = 0; i < l->size; i++)
        if (l->items[i]->type != GJ_TSTRING)
            return false;
    return true;
}

static void unref_all(gj_value **parts, size_t n)
{
    for (size_t i = 0; i < n; i++)
        gj_value_unref(parts[i]);
}

/* A parts value taking over parts[0..n) (released on failure), with an
 * optional inline tag. */
static int new_parts(gj_value **out, gj_type type, gj_value **parts, unsigned n,
                     const char *tag, size_t tag_len)
{
    size_t size = sizeof(vparts) + n * sizeof(gj_value *) + (tag ? tag_len + 1 : 0);
    vparts *p = value_alloc(size, type);
    if (!p) {
        unref_all(parts, n);
        return GJ_ENOMEM;
    }
    p->nparts = n;
    memcpy(p->part, parts, n * sizeof *parts);
    p->tag = NULL;
    p->tag_len = 0;
    if (tag) {
        char *t = (char *)&p->part[n];
        memcpy(t, tag, tag_len);
        t[tag_len] = '\0';
        p->tag = t;
        p->tag_len = tag_len;
    }
    *out = &p->c.h;
    return 0;
}

int gj_value_new_node(gj_value **out, gj_value *id, gj_value *labels, gj_value *properties)
{
    gj_value *parts[NODE_PARTS] = {id, labels, properties, NULL};
    if (!out) {
        unref_all(parts, NODE_PARTS);
        return GJ_EINVAL;
    }
    *out = NULL;
    if ((labels && !is_list_of_strings(labels)) || (properties && properties->type != GJ_TMAP)) {
        unref_all(parts, NODE_PARTS);
        return GJ_ETYPE;
    }
    if (!labels)
        parts[NODE_LABELS] = immortal(&empty_list.c.h);
    if (!properties)
        parts[NODE_PROPS] = immortal(&empty_map.c.h);
    return new_parts(out, GJ_TNODE, parts, NODE_PARTS, NULL, 0);
}

/* Replace optional parts of an element being built; takes over vals[0..n). */
static int set_parts(gj_value *v, gj_type type, const unsigned *which, gj_value **vals, size_t n)
{
    int rc = check_building(v, type, type);
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (vals[i] && vals[i]->type != GJ_TSTRING)
            rc = GJ_ETYPE;
    if (rc) {
        unref_all(vals, n);
        return rc;
    }
    vparts *p = (vparts *)v;
    for (size_t i = 0; i < n; i++) {
        gj_value_unref(p->part[which[i]]);
        p->part[which[i]] = vals[i];
    }
    return 0;
}

int gj_value_node_set_element_id(gj_value *node, gj_value *element_id)
{
    static const unsigned which[] = {NODE_EID};
    gj_value *vals[] = {element_id};
    return set_parts(node, GJ_TNODE, which, vals, 1);
}

int gj_value_new_edge(gj_value **out, gj_value *id, gj_value *type, gj_value *start_id,
                      gj_value *end_id, gj_value *properties)
{
    gj_value *parts[EDGE_PARTS] = {0};
    parts[EDGE_ID] = id;
    parts[EDGE_TYPE] = type;
    parts[EDGE_START] = start_id;
    parts[EDGE_END] = end_id;
    parts[EDGE_PROPS] = properties;
    if (!out) {
        unref_all(parts, EDGE_PARTS);
        return GJ_EINVAL;
    }
    *out = NULL;
    if ((type && type->type != GJ_TSTRING) || (properties && properties->type != GJ_TMAP)) {
        unref_all(parts, EDGE_PARTS);
        return GJ_ETYPE;
    }
    if (!properties)
        parts[EDGE_PROPS] = immortal(&empty_map.c.h);
    return new_parts(out, GJ_TEDGE, parts, EDGE_PARTS, NULL, 0);
}

int gj_value_edge_set_element_ids(gj_value *edge, gj_value *element_id,
                                  gj_value *start_element_id, gj_value *end_element_id)
{
    static const unsigned which[] = {EDGE_EID, EDGE_START_EID, EDGE_END_EID};
    gj_value *vals[] = {element_id, start_element_id, end_element_id};
    return set_parts(edge, GJ_TEDGE, which, vals, 3);
}

int gj_value_edge_set_end_labels(gj_value *edge, gj_value *start_label, gj_value *end_label)
{
    static const unsigned which[] = {EDGE_START_LABEL, EDGE_END_LABEL};
    gj_value *vals[] = {start_label, end_label};
    return set_parts(edge, GJ_TEDGE, which, vals, 2);
}

int gj_value_new_path(gj_value **out, gj_value *objects, gj_value *labels)
{
    gj_value *parts[PATH_PARTS] = {objects, labels};
    if (!out) {
        unref_all(parts, PATH_PARTS);
        return GJ_EINVAL;
    }
    *out = NULL;
    if ((objects && objects->type != GJ_TLIST) ||
        (labels && labels->type != GJ_TLIST)) {
        unref_all(parts, PATH_PARTS);
        return GJ_ETYPE;
    }
    if (!objects)
        parts[PATH_OBJECTS] = immortal(&empty_list.c.h);
    return new_parts(out, GJ_TPATH, parts, PATH_PARTS, NULL, 0);
}

int gj_value_new_tagged(gj_value **out, const char *tag, gj_value *inner)
{
    gj_value *parts[TAGGED_PARTS] = {inner};
    size_t len = tag ? strlen(tag) : 0;
    if (!out || !tag || !len || len > GJ__VALUE_NAME_MAX || !gj__utf8_valid(tag, len, NULL)) {
        if (out)
            *out = NULL;
        gj_value_unref(inner);
        return GJ_EINVAL;
    }
    *out = NULL;
    if (!inner)
        parts[TAGGED_INNER] = gj_value_null();
    return new_parts(out, GJ_TTAGGED, parts, TAGGED_PARTS, tag, len);
}

/* ---- temporal and spatial ----------------------------------------------------------- */

int gj_value_new_date(gj_value **out, int64_t days)
{
    if (!out)
        return GJ_EINVAL;
    vdate *v = value_alloc(sizeof *v, GJ_TDATE);
    if (!(*out = (gj_value *)v))
        return GJ_ENOMEM;
    v->days = days;
    return 0;
}

static int new_time(gj_value **out, gj_type type, int64_t nanos, int32_t offset)
{
    if (!out)
        return GJ_EINVAL;
    *out = NULL;
    if (nanos < 0 || nanos >= NANOS_PER_DAY || offset < -OFFSET_MAX_SECONDS ||
        offset > OFFSET_MAX_SECONDS)
        return GJ_EINVAL;
    vtime *v = value_alloc(sizeof *v, type);
    if (!v)
        return GJ_ENOMEM;
    v->nanos = nanos;
    v->offset = offset;
    *out = &v->h;
    return 0;
}

int gj_value_new_time(gj_value **out, int64_t nanos_of_day, int32_t offset_seconds)
{
    return new_time(out, GJ_TTIME, nanos_of_day, offset_seconds);
}

int gj_value_new_local_time(gj_value **out, int64_t nanos_of_day)
{
    return new_time(out, GJ_TLOCAL_TIME, nanos_of_day, 0);
}

static int new_datetime(gj_value **out, gj_type type, int64_t seconds, int32_t nanos,
                        int32_t offset, const char *zone, unsigned flags)
{
    if (!out)
        return GJ_EINVAL;
    *out = NULL;
    size_t zlen = zone ? strlen(zone) : 0;
    if (nanos < 0 || nanos >= NANOS_PER_SECOND || (flags & ~(unsigned)F_DATETIME_PUBLIC) ||
        (zone && (!zlen || zlen > GJ__VALUE_NAME_MAX || !gj__utf8_valid(zone, zlen, NULL))))
        return GJ_EINVAL;
    if (!(flags & GJ_DATETIME_HAS_OFFSET))
        offset = 0;
    else if (offset < -OFFSET_MAX_SECONDS || offset > OFFSET_MAX_SECONDS)
        return GJ_EINVAL;
    vdatetime *v = value_alloc(sizeof *v + (zone ? zlen + 1 : 0), type);
    if (!v)
        return GJ_ENOMEM;
    v->seconds = seconds;
    v->nanos = nanos;
    v->offset = offset;
    v->h.flags = (uint16_t)flags;
    if (zone) {
        v->h.flags |= F_ZONE;
        memcpy(v->zone, zone, zlen + 1);
    }
    *out = &v->h;
    return 0;
}

int gj_value_new_datetime(gj_value **out, int64_t seconds, int32_t nanos,
                          int32_t offset_seconds, const char *zone_id, unsigned flags)
{
    return new_datetime(out, GJ_TDATETIME, seconds, nanos, offset_seconds, zone_id, flags);
}

int gj_value_new_local_datetime(gj_value **out, int64_t seconds, int32_t nanos)
{
    return new_datetime(out, GJ_TLOCAL_DATETIME, seconds, nanos, 0, NULL, 0);
}

int gj_value_new_duration(gj_value **out, int64_t months, int64_t days, int64_t seconds,
                          int32_t nanos)
{
    if (!out)
        return GJ_EINVAL;
    *out = NULL;
    if (nanos <= -NANOS_PER_SECOND || nanos >= NANOS_PER_SECOND)
        return GJ_EINVAL;
    vduration *v = value_alloc(sizeof *v, GJ_TDURATION);
    if (!v)
        return GJ_ENOMEM;
    v->months = months;
    v->days = days;
    v->seconds = seconds;
    v->nanos = nanos;
    *out = &v->h;
    return 0;
}

int gj_value_new_point(gj_value **out, int64_t srid, unsigned dims, double x, double y, double z)
{
    if (!out)
        return GJ_EINVAL;
    *out = NULL;
    if (dims != 2 && dims != 3)
        return GJ_EINVAL;
    vpoint *v = value_alloc(sizeof *v, GJ_TPOINT);
    if (!v)
        return GJ_ENOMEM;
    v->h.bits = (uint8_t)dims;
    v->srid = srid;
    v->x = x;
    v->y = y;
    v->z = dims == 3 ? z : 0.0;
    *out = &v->h;
    return 0;
}

/* ---- accessors ---------------------------------------------------------------------- */

gj_type gj_value_type(const gj_value *v)
{
    return v ? (gj_type)v->type : GJ_TNULL;
}

static int check_get(const gj_value *v, gj_type t)
{
    if (!v)
        return GJ_EINVAL;
    return v->type == t ? 0 : GJ_ETYPE;
}

int gj_value_bool_get(const gj_value *v, bool *out)
{
    int rc = check_get(v, GJ_TBOOL);
    if (rc == 0 && out)
        *out = v->bits != 0;
    return rc;
}

int gj_value_int_get(const gj_value *v, int64_t *out)
{
    int rc = check_get(v, GJ_TINT);
    if (rc == 0 && out)
        *out = ((const vint *)v)->i;
    return rc;
}

unsigned gj_value_int_bits(const gj_value *v)
{
    return is_type(v, GJ_TINT) ? v->bits : 0;
}

int gj_value_float_get(const gj_value *v, double *out)
{
    int rc = check_get(v, GJ_TFLOAT);
    if (rc == 0 && out)
        *out = ((const vfloat *)v)->d;
    return rc;
}

unsigned gj_value_float_bits(const gj_value *v)
{
    return is_type(v, GJ_TFLOAT) ? v->bits : 0;
}

static int bytes_get(const gj_value *v, gj_type t, const void **data, size_t *len)
{
    int rc = check_get(v, t);
    if (rc == 0) {
        if (data)
            *data = ((const vbytes *)v)->data;
        if (len)
            *len = ((const vbytes *)v)->len;
    }
    return rc;
}

int gj_value_string_get(const gj_value *v, const char **s, size_t *len)
{
    const void *d;
    int rc = bytes_get(v, GJ_TSTRING, &d, len);
    if (rc == 0 && s)
        *s = d;
    return rc;
}

int gj_value_bytes_get(const gj_value *v, const uint8_t **data, size_t *len)
{
    const void *d;
    int rc = bytes_get(v, GJ_TBYTES, &d, len);
    if (rc == 0 && data)
        *data = d;
    return rc;
}

int gj_value_uuid_get(const gj_value *v, uint8_t out[16])
{
    int rc = check_get(v, GJ_TUUID);
    if (rc == 0 && out)
        memcpy(out, ((const vuuid *)v)->b, 16);
    return rc;
}

size_t gj_value_size(const gj_value *v)
{
    if (!v)
        return 0;
    if (v->type == GJ_TLIST || v->type == GJ_TSET)
        return ((const vlist *)v)->size;
    if (v->type == GJ_TMAP)
        return ((const vmap *)v)->size;
    return 0;
}

gj_value *const *gj__value_list_items(const gj_value *v, size_t *count)
{
    if (!v || (v->type != GJ_TLIST && v->type != GJ_TSET)) {
        *count = 0;
        return NULL;
    }
    *count = ((const vlist *)v)->size;
    return ((const vlist *)v)->items;
}

const gj_value *gj_value_list_at(const gj_value *v, size_t i)
{
    if (!v || (v->type != GJ_TLIST && v->type != GJ_TSET) || i >= ((const vlist *)v)->size)
        return NULL;
    return ((const vlist *)v)->items[i];
}

const gj_value *gj_value_map_key_at(const gj_value *v, size_t i)
{
    if (!is_type(v, GJ_TMAP) || i >= ((const vmap *)v)->size)
        return NULL;
    return ((const vmap *)v)->kv[2 * i];
}

const gj_value *gj_value_map_value_at(const gj_value *v, size_t i)
{
    if (!is_type(v, GJ_TMAP) || i >= ((const vmap *)v)->size)
        return NULL;
    return ((const vmap *)v)->kv[2 * i + 1];
}

static const gj_value *part_of(const gj_value *v, gj_type t, unsigned which)
{
    return is_type(v, t) ? ((const vparts *)v)->part[which] : NULL;
}

const gj_value *gj_value_element_id(const gj_value *v)
{
    if (is_type(v, GJ_TNODE))
        return part_of(v, GJ_TNODE, NODE_ID);
    return part_of(v, GJ_TEDGE, EDGE_ID);
}

const gj_value *gj_value_element_element_id(const gj_value *v)
{
    if (is_type(v, GJ_TNODE))
        return part_of(v, GJ_TNODE, NODE_EID);
    return part_of(v, GJ_TEDGE, EDGE_EID);
}

const gj_value *gj_value_element_properties(const gj_value *v)
{
    if (is_type(v, GJ_TNODE))
        return part_of(v, GJ_TNODE, NODE_PROPS);
    return part_of(v, GJ_TEDGE, EDGE_PROPS);
}

const gj_value *gj_value_node_labels(const gj_value *v)
{
    return part_of(v, GJ_TNODE, NODE_LABELS);
}

const gj_value *gj_value_edge_type(const gj_value *v)
{
    return part_of(v, GJ_TEDGE, EDGE_TYPE);
}

const gj_value *gj_value_edge_start_id(const gj_value *v)
{
    return part_of(v, GJ_TEDGE, EDGE_START);
}

const gj_value *gj_value_edge_end_id(const gj_value *v)
{
    return part_of(v, GJ_TEDGE, EDGE_END);
}

const gj_value *gj_value_edge_start_element_id(const gj_value *v)
{
    return part_of(v, GJ_TEDGE, EDGE_START_EID);
}

const gj_value *gj_value_edge_end_element_id(const gj_value *v)
{
    return part_of(v, GJ_TEDGE, EDGE_END_EID);
}

const gj_value *gj_value_edge_start_label(const gj_value *v)
{
    return part_of(v, GJ_TEDGE, EDGE_START_LABEL);
}

const gj_value *gj_value_edge_end_label(const gj_value *v)
{
    return part_of(v, GJ_TEDGE, EDGE_END_LABEL);
}

const gj_value *gj_value_path_objects(const gj_value *v)
{
    return part_of(v, GJ_TPATH, PATH_OBJECTS);
}

const gj_value *gj_value_path_labels(const gj_value *v)
{
    return part_of(v, GJ_TPATH, PATH_LABELS);
}

int gj_value_date_get(const gj_value *v, int64_t *days)
{
    int rc = check_get(v, GJ_TDATE);
    if (rc == 0 && days)
        *days = ((const vdate *)v)->days;
    return rc;
}

int gj_value_time_get(const gj_value *v, int64_t *nanos_of_day, int32_t *offset_seconds)
{
    if (!v)
        return GJ_EINVAL;
    if (v->type != GJ_TTIME && v->type != GJ_TLOCAL_TIME)
        return GJ_ETYPE;
    const vtime *t = (const vtime *)v;
    if (nanos_of_day)
        *nanos_of_day = t->nanos;
    if (offset_seconds && v->type == GJ_TTIME)
        *offset_seconds = t->offset;
    return 0;
}

int gj_value_datetime_get(const gj_value *v, int64_t *seconds, int32_t *nanos,
                          int32_t *offset_seconds, const char **zone_id, unsigned *flags)
{
    if (!v)
        return GJ_EINVAL;
    if (v->type != GJ_TDATETIME && v->type != GJ_TLOCAL_DATETIME)
        return GJ_ETYPE;
    const vdatetime *d = (const vdatetime *)v;
    if (seconds)
        *seconds = d->seconds;
    if (nanos)
        *nanos = d->nanos;
    if (offset_seconds)
        *offset_seconds = d->offset;
    if (zone_id)
        *zone_id = (v->flags & F_ZONE) ? d->zone : NULL;
    if (flags)
        *flags = v->flags & F_DATETIME_PUBLIC;
    return 0;
}

int gj_value_duration_get(const gj_value *v, int64_t *months, int64_t *days, int64_t *seconds,
                          int32_t *nanos)
{
    int rc = check_get(v, GJ_TDURATION);
    if (rc)
        return rc;
    const vduration *d = (const vduration *)v;
    if (months)
        *months = d->months;
    if (days)
        *days = d->days;
    if (seconds)
        *seconds = d->seconds;
    if (nanos)
        *nanos = d->nanos;
    return 0;
}

int gj_value_point_get(const gj_value *v, int64_t *srid, unsigned *dims, double *x, double *y,
                       double *z)
{
    int rc = check_get(v, GJ_TPOINT);
    if (rc)
        return rc;
    const vpoint *p = (const vpoint *)v;
    if (srid)
        *srid = p->srid;
    if (dims)
        *dims = v->bits;
    if (x)
        *x = p->x;
    if (y)
        *y = p->y;
    if (z)
        *z = p->z;
    return 0;
}

int gj_value_tagged_get(const gj_value *v, const char **tag, const gj_value **inner)
{
    int rc = check_get(v, GJ_TTAGGED);
    if (rc)
        return rc;
    if (tag)
        *tag = ((const vparts *)v)->tag;
    if (inner)
        *inner = ((const vparts *)v)->part[TAGGED_INNER];
    return 0;
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
        return ((const vint *)a)->i == ((const vint *)b)->i;
    case GJ_TFLOAT:
        return float_equal(((const vfloat *)a)->d, ((const vfloat *)b)->d);
    case GJ_TSTRING: case GJ_TBYTES: {
        const vbytes *x = (const vbytes *)a, *y = (const vbytes *)b;
        return x->len == y->len && memcmp(x->data, y->data, x->len) == 0;
    }
    case GJ_TUUID:
        return memcmp(((const vuuid *)a)->b, ((const vuuid *)b)->b, 16) == 0;
    case GJ_TDATE:
        return ((const vdate *)a)->days == ((const vdate *)b)->days;
    case GJ_TTIME: case GJ_TLOCAL_TIME: {
        const vtime *x = (const vtime *)a, *y = (const vtime *)b;
        return x->nanos == y->nanos && x->offset == y->offset;
    }
    case GJ_TDATETIME: case GJ_TLOCAL_DATETIME: {
        const vdatetime *x = (const vdatetime *)a, *y = (const vdatetime *)b;
        return x->seconds == y->seconds && x->nanos == y->nanos && x->offset == y->offset &&
               a->flags == b->flags && (!(a->flags & F_ZONE) || strcmp(x->zone, y->zone) == 0);
    }
    case GJ_TDURATION: {
        const vduration *x = (const vduration *)a, *y = (const vduration *)b;
        return x->months == y->months && x->days == y->days && x->seconds == y->seconds &&
               x->nanos == y->nanos;
    }
    case GJ_TPOINT: {
        const vpoint *x = (const vpoint *)a, *y = (const vpoint *)b;
        return a->bits == b->bits && x->srid == y->srid && float_equal(x->x, y->x) &&
               float_equal(x->y, y->y) && float_equal(x->z, y->z);
    }
    case GJ_TTAGGED: {
        const vparts *x = (const vparts *)a, *y = (const vparts *)b;
        return x->tag_len == y->tag_len && memcmp(x->tag, y->tag, x->tag_len) == 0;
    }
    default: {
        size_t n1, n2;
        children(a, &n1);
        children(b, &n2);
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
    if (!is_compound(a))
        return true;
    eq_frame small[32], *stack = small;
    size_t depth = 0, cap = sizeof small / sizeof small[0];
    bool equal = true;
    stack[depth].a = children(a, &stack[depth].n);
    stack[depth].b = children(b, &stack[depth].n);
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
        if (!is_compound(x))
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
        stack[depth].a = children(x, &stack[depth].n);
        stack[depth].b = children(y, &stack[depth].n);
        stack[depth++].i = 0;
    }
    if (stack != small)
        free(stack);
    return equal;
}
