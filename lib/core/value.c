/*
 * The value model (include/graphjob/value.h): reference counting, freeing
 * without recursion, and the constructors.  Layout: value_struct.h; maps and
 * equality: value_map.c; accessors: value_access.c.
 *
 * Scalars, strings and bytes are one allocation each; lists and maps created
 * with a capacity hint carry their item array inline in the same allocation
 * until they outgrow it.  Small 64-bit ints (GJ__SMALL_INT_MIN..MAX) are
 * immortal statics, like null, true, false and the empty list and map used
 * for absent labels and properties: ref/unref do nothing to them and they can
 * never be built into.
 */
#include "core/value_struct.h"

#include <stdlib.h>
#include <string.h>

#define OFFSET_MAX_SECONDS (18 * 3600)
#define NANOS_PER_SECOND 1000000000
#define NANOS_PER_DAY INT64_C(86400000000000)

/* ---- immortal statics ------------------------------------------------------ */

static const gj_value null_value = {.type = GJ_TNULL, .flags = GJ__F_IMMORTAL};
static const gj_value true_value = {.type = GJ_TBOOL, .bits = 1, .flags = GJ__F_IMMORTAL};
static const gj_value false_value = {.type = GJ_TBOOL, .bits = 0, .flags = GJ__F_IMMORTAL};
static const gj__vlist empty_list = {.c = {.h = {.type = GJ_TLIST, .flags = GJ__F_IMMORTAL}}};
static const gj__vmap empty_map = {.c = {.h = {.type = GJ_TMAP, .flags = GJ__F_IMMORTAL}}};

/* 64-bit ints from GJ__SMALL_INT_MIN to GJ__SMALL_INT_MAX cost no allocation. */
#define GJ__SMALL_INT_MIN (-256)
#define GJ__SMALL_INT_MAX 1023
#define SI1(n) {.h = {.type = GJ_TINT, .bits = 64, .flags = GJ__F_IMMORTAL}, .i = (n)}
#define SI4(n) SI1(n), SI1((n) + 1), SI1((n) + 2), SI1((n) + 3)
#define SI16(n) SI4(n), SI4((n) + 4), SI4((n) + 8), SI4((n) + 12)
#define SI64(n) SI16(n), SI16((n) + 16), SI16((n) + 32), SI16((n) + 48)
#define SI256(n) SI64(n), SI64((n) + 64), SI64((n) + 128), SI64((n) + 192)
static const gj__vint small_ints[] = {SI256(-256), SI256(0), SI256(256), SI256(512), SI256(768)};
_Static_assert(sizeof small_ints / sizeof small_ints[0] == GJ__SMALL_INT_MAX - GJ__SMALL_INT_MIN + 1,
               "small int table");

/* The statics are never written: every mutating path checks GJ__F_IMMORTAL first. */
static gj_value *immortal(const gj_value *v)
{
    return (gj_value *)v;
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

/* ---- common keys ------------------------------------------------------------ */

/* Immortal strings for keys replies repeat: a string value's layout with
 * room for the text inline (the common initial sequence of gj__vbytes). */
typedef struct {
    gj_value h;
    size_t len;
    char data[24];
} common_key;
#define CK(s) { { .type = GJ_TSTRING, .flags = GJ__F_IMMORTAL }, sizeof(s) - 1, s }
static const common_key common_keys[] = {
    CK("id"),
    CK("_id"),
    CK("_to"),
    CK("new"),
    CK("old"),
    CK("_key"),
    CK("_rev"),
    CK("code"),
    CK("data"),
    CK("item"),
    CK("line"),
    CK("path"),
    CK("plan"),
    CK("type"),
    CK("_from"),
    CK("count"),
    CK("error"),
    CK("extra"),
    CK("items"),
    CK("label"),
    CK("nodes"),
    CK("stats"),
    CK("cached"),
    CK("column"),
    CK("errors"),
    CK("result"),
    CK("server"),
    CK("hasNext"),
    CK("message"),
    CK("payload"),
    CK("profile"),
    CK("version"),
    CK("errorNum"),
    CK("filtered"),
    CK("warnings"),
    CK("cacheHits"),
    CK("fullCount"),
    CK("locations"),
    CK("extensions"),
    CK("cacheMisses"),
    CK("incremental"),
    CK("scannedFull"),
    CK("errorMessage"),
    CK("httpRequests"),
    CK("scannedIndex"),
    CK("executionTime"),
    CK("writesIgnored"),
    CK("cursorsCreated"),
    CK("cursorsRearmed"),
    CK("writesExecuted"),
    CK("documentLookups"),
    CK("peakMemoryUsage"),
    CK("intermediateCommits")
};
#undef CK
/* The switch in gj__value_common_key names each length's index range: edit
 * both together (tests/unit/value_test.cc looks up every key). */
_Static_assert(sizeof common_keys / sizeof common_keys[0] == 53, "common_keys and its switch");

gj_value *gj__value_common_key(const char *s, size_t len)
{
    /* The entries of that length (the table is sorted by length). */
    size_t from, to;
    switch (len) {
    case 2: from = 0, to = 1; break;
    case 3: from = 1, to = 5; break;
    case 4: from = 5, to = 14; break;
    case 5: from = 14, to = 22; break;
    case 6: from = 22, to = 27; break;
    case 7: from = 27, to = 32; break;
    case 8: from = 32, to = 35; break;
    case 9: from = 35, to = 38; break;
    case 10: from = 38, to = 39; break;
    case 11: from = 39, to = 42; break;
    case 12: from = 42, to = 45; break;
    case 13: from = 45, to = 47; break;
    case 14: from = 47, to = 50; break;
    case 15: from = 50, to = 52; break;
    case 19: from = 52, to = 53; break;
    default: return NULL;
    }
    for (size_t i = from; i < to; i++)
        if (common_keys[i].data[0] == s[0] && memcmp(common_keys[i].data, s, len) == 0)
            return immortal(&common_keys[i].h);
    return NULL;
}


gj_value *gj__value_empty_list(void)
{
    return immortal(&empty_list.c.h);
}

gj_value *gj__value_empty_map(void)
{
    return immortal(&empty_map.c.h);
}

gj_value *gj_value_ref(const gj_value *v)
{
    gj_value *m = immortal(v);
    if (m && !(m->flags & GJ__F_IMMORTAL))
        atomic_fetch_add_explicit(&m->refs, 1, memory_order_relaxed);
    return m;
}

/* Drop one reference; true when it was the last. */
static bool release(gj_value *v)
{
    if (!v || (v->flags & GJ__F_IMMORTAL))
        return false;
    return atomic_fetch_sub_explicit(&v->refs, 1, memory_order_acq_rel) == 1;
}

static void free_shell(gj_value *v)
{
    if (v->type == GJ_TLIST || v->type == GJ_TSET) {
        gj__vlist *l = (gj__vlist *)v;
        if (l->items != l->inline_items)
            free(l->items);
    } else if (v->type == GJ_TMAP) {
        gj__vmap *m = (gj__vmap *)v;
        if (m->kv != m->inline_kv)
            free(m->kv);
        free(m->index);
    }
    free(v);
}

/* Free a value whose count reached zero, and every child that dies with it,
 * through an intrusive stack of dead compound values (no recursion). */
static void dispose(gj_value *v)
{
    if (!gj__value_is_compound(v)) {
        free(v);
        return;
    }
    gj__vcompound *stack = (gj__vcompound *)v;
    stack->dead_next = NULL;
    while (stack) {
        gj__vcompound *c = stack;
        stack = c->dead_next;
        size_t n;
        gj_value *const *kids = gj__value_children(&c->h, &n);
        for (size_t i = 0; i < n; i++) {
            gj_value *k = kids[i];
            if (!release(k))
                continue;
            if (gj__value_is_compound(k)) {
                ((gj__vcompound *)k)->dead_next = stack;
                stack = (gj__vcompound *)k;
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
int gj__value_check_building(const gj_value *v, gj_type t1, gj_type t2)
{
    if (!v)
        return GJ_EINVAL;
    if (v->type != t1 && v->type != t2)
        return GJ_ETYPE;
    if ((v->flags & GJ__F_IMMORTAL) ||
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
    if (bits == 64 && i >= GJ__SMALL_INT_MIN && i <= GJ__SMALL_INT_MAX) {
        *out = immortal(&small_ints[i - GJ__SMALL_INT_MIN].h);
        return 0;
    }
    gj__vint *v = value_alloc(sizeof *v, GJ_TINT);
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
    gj__vfloat *v = value_alloc(sizeof *v, GJ_TFLOAT);
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
    if (len > SIZE_MAX - sizeof(gj__vbytes) - 1)
        return GJ_ENOMEM;
    if (type == GJ_TSTRING && !gj__utf8_valid(data, len, NULL))
        return GJ_EINVAL;
    gj__vbytes *v = value_alloc(sizeof *v + len + 1, type);
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
    gj__vuuid *v = value_alloc(sizeof *v, GJ_TUUID);
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
    gj__vlist *v = value_alloc(sizeof *v + hint * sizeof(gj_value *), type);
    if (!v)
        return GJ_ENOMEM;
    v->size = 0;
    v->cap = hint;
    v->items = v->inline_items;
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

int gj__value_grow(gj_value ***array, gj_value **inline_storage, size_t *cap, size_t per)
{
    size_t ncap = *cap ? *cap * 2 : 4;
    if (ncap < *cap || ncap > SIZE_MAX / sizeof(gj_value *) / per)
        return GJ_ENOMEM;
    gj_value **a;
    if (*array == inline_storage) {
        if ((a = malloc(ncap * per * sizeof(gj_value *))) != NULL && *cap)
            memcpy(a, inline_storage, *cap * per * sizeof(gj_value *));
    } else {
        a = realloc(*array, ncap * per * sizeof(gj_value *));
    }
    if (!a)
        return GJ_ENOMEM;
    *array = a;
    *cap = ncap;
    return 0;
}

int gj_value_list_append(gj_value *list, gj_value *item)
{
    int rc = gj__value_check_building(list, GJ_TLIST, GJ_TSET);
    if (rc == 0 && (!item || item == list))
        rc = GJ_EINVAL;
    gj__vlist *l = (gj__vlist *)list;
    if (rc == 0 && l->size == l->cap)
        rc = gj__value_grow(&l->items, l->inline_items, &l->cap, 1);
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
    gj__vmap *m = value_alloc(sizeof *m + 2 * hint * sizeof(gj_value *), GJ_TMAP);
    if (!m)
        return GJ_ENOMEM;
    m->size = 0;
    m->cap = hint;
    m->kv = m->inline_kv;
    m->index = NULL;
    m->index_cap = 0;
    m->seed[0] = m->seed[1] = 0;
    *out = &m->c.h;
    return 0;
}

/* ---- graph elements --------------------------------------------------------------- */

static bool is_list_of_strings(const gj_value *v)
{
    if (v->type != GJ_TLIST && v->type != GJ_TSET)
        return false;
    const gj__vlist *l = (const gj__vlist *)v;
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
    size_t size = sizeof(gj__vparts) + n * sizeof(gj_value *) + (tag ? tag_len + 1 : 0);
    gj__vparts *p = value_alloc(size, type);
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
    gj_value *parts[GJ__NODE_PARTS] = {id, labels, properties, NULL};
    if (!out) {
        unref_all(parts, GJ__NODE_PARTS);
        return GJ_EINVAL;
    }
    *out = NULL;
    if ((labels && !is_list_of_strings(labels)) || (properties && properties->type != GJ_TMAP)) {
        unref_all(parts, GJ__NODE_PARTS);
        return GJ_ETYPE;
    }
    if (!labels)
        parts[GJ__NODE_LABELS] = immortal(&empty_list.c.h);
    if (!properties)
        parts[GJ__NODE_PROPS] = immortal(&empty_map.c.h);
    return new_parts(out, GJ_TNODE, parts, GJ__NODE_PARTS, NULL, 0);
}

/* Replace optional parts of an element being built; takes over vals[0..n). */
static int set_parts(gj_value *v, gj_type type, const unsigned *which, gj_value **vals, size_t n)
{
    int rc = gj__value_check_building(v, type, type);
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (vals[i] && vals[i]->type != GJ_TSTRING)
            rc = GJ_ETYPE;
    if (rc) {
        unref_all(vals, n);
        return rc;
    }
    gj__vparts *p = (gj__vparts *)v;
    for (size_t i = 0; i < n; i++) {
        gj_value_unref(p->part[which[i]]);
        p->part[which[i]] = vals[i];
    }
    return 0;
}

int gj_value_node_set_element_id(gj_value *node, gj_value *element_id)
{
    static const unsigned which[] = {GJ__NODE_EID};
    gj_value *vals[] = {element_id};
    return set_parts(node, GJ_TNODE, which, vals, 1);
}

int gj_value_new_edge(gj_value **out, gj_value *id, gj_value *type, gj_value *start_id,
                      gj_value *end_id, gj_value *properties)
{
    gj_value *parts[GJ__EDGE_PARTS] = {0};
    parts[GJ__EDGE_ID] = id;
    parts[GJ__EDGE_TYPE] = type;
    parts[GJ__EDGE_START] = start_id;
    parts[GJ__EDGE_END] = end_id;
    parts[GJ__EDGE_PROPS] = properties;
    if (!out) {
        unref_all(parts, GJ__EDGE_PARTS);
        return GJ_EINVAL;
    }
    *out = NULL;
    if ((type && type->type != GJ_TSTRING) || (properties && properties->type != GJ_TMAP)) {
        unref_all(parts, GJ__EDGE_PARTS);
        return GJ_ETYPE;
    }
    if (!properties)
        parts[GJ__EDGE_PROPS] = immortal(&empty_map.c.h);
    return new_parts(out, GJ_TEDGE, parts, GJ__EDGE_PARTS, NULL, 0);
}

int gj_value_edge_set_element_ids(gj_value *edge, gj_value *element_id,
                                  gj_value *start_element_id, gj_value *end_element_id)
{
    static const unsigned which[] = {GJ__EDGE_EID, GJ__EDGE_START_EID, GJ__EDGE_END_EID};
    gj_value *vals[] = {element_id, start_element_id, end_element_id};
    return set_parts(edge, GJ_TEDGE, which, vals, 3);
}

int gj_value_edge_set_end_labels(gj_value *edge, gj_value *start_label, gj_value *end_label)
{
    static const unsigned which[] = {GJ__EDGE_START_LABEL, GJ__EDGE_END_LABEL};
    gj_value *vals[] = {start_label, end_label};
    return set_parts(edge, GJ_TEDGE, which, vals, 2);
}

int gj_value_new_path(gj_value **out, gj_value *objects, gj_value *labels)
{
    gj_value *parts[GJ__PATH_PARTS] = {objects, labels};
    if (!out) {
        unref_all(parts, GJ__PATH_PARTS);
        return GJ_EINVAL;
    }
    *out = NULL;
    if ((objects && objects->type != GJ_TLIST) ||
        (labels && labels->type != GJ_TLIST)) {
        unref_all(parts, GJ__PATH_PARTS);
        return GJ_ETYPE;
    }
    if (!objects)
        parts[GJ__PATH_OBJECTS] = immortal(&empty_list.c.h);
    return new_parts(out, GJ_TPATH, parts, GJ__PATH_PARTS, NULL, 0);
}

int gj_value_new_tagged(gj_value **out, const char *tag, gj_value *inner)
{
    gj_value *parts[GJ__TAGGED_PARTS] = {inner};
    size_t len = tag ? strlen(tag) : 0;
    if (!out || !tag || !len || len > GJ__VALUE_NAME_MAX || !gj__utf8_valid(tag, len, NULL)) {
        if (out)
            *out = NULL;
        gj_value_unref(inner);
        return GJ_EINVAL;
    }
    *out = NULL;
    if (!inner)
        parts[GJ__TAGGED_INNER] = gj_value_null();
    return new_parts(out, GJ_TTAGGED, parts, GJ__TAGGED_PARTS, tag, len);
}

/* ---- temporal and spatial ----------------------------------------------------------- */

int gj_value_new_date(gj_value **out, int64_t days)
{
    if (!out)
        return GJ_EINVAL;
    gj__vdate *v = value_alloc(sizeof *v, GJ_TDATE);
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
    gj__vtime *v = value_alloc(sizeof *v, type);
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
    if (nanos < 0 || nanos >= NANOS_PER_SECOND || (flags & ~(unsigned)GJ__F_DATETIME_PUBLIC) ||
        (zone && (!zlen || zlen > GJ__VALUE_NAME_MAX || !gj__utf8_valid(zone, zlen, NULL))))
        return GJ_EINVAL;
    if (!(flags & GJ_DATETIME_HAS_OFFSET))
        offset = 0;
    else if (offset < -OFFSET_MAX_SECONDS || offset > OFFSET_MAX_SECONDS)
        return GJ_EINVAL;
    gj__vdatetime *v = value_alloc(sizeof *v + (zone ? zlen + 1 : 0), type);
    if (!v)
        return GJ_ENOMEM;
    v->seconds = seconds;
    v->nanos = nanos;
    v->offset = offset;
    v->h.flags = (uint16_t)flags;
    if (zone) {
        v->h.flags |= GJ__F_ZONE;
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
    gj__vduration *v = value_alloc(sizeof *v, GJ_TDURATION);
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
    gj__vpoint *v = value_alloc(sizeof *v, GJ_TPOINT);
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

