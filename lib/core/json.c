/*
 * JSON text of values (gj_value_to_json).  Temporal values are rendered by
 * lib/core/iso8601.c.
 *
 * The writer walks the tree with an explicit stack of frames, so depth is
 * bounded only by memory.  Output is built in one growing buffer.
 *
 * Rendering choices (see also value.h):
 *  - strings: UTF-8 passes through (values hold valid UTF-8); '"', '\\' and
 *    control characters (as \u00XX) are escaped;
 *  - floats: the shortest of %.15g/%.16g/%.17g that reads back to the same
 *    double (%.6g..%.9g and float precision for 32-bit floats), with ".0"
 *    added to integral values so they stay floats; NaN/Infinity/-Infinity as
 *    strings; independent of the C locale's decimal point;
 *  - temporal values: ISO-8601 strings as lib/core/iso8601.c writes them;
 *  - node {"id","element_id"?,"labels","properties"}; edge {"id",
 *    "element_id"?,"type","start"?,"start_element_id"?,"start_label"?,"end"?,
 *    "end_element_id"?,"end_label"?,"properties"}; path {"objects","labels"?};
 *    tagged {"@type","@value"}; point {"srid","x","y","z"?}; bytes base64;
 *    uuid text; set as a list; maps with a non-string key as [[k,v],...];
 *  - GJ_JSON_TYPED: every value that is not plain JSON (bytes, graph
 *    elements, temporal values, point, uuid, tagged, set, non-finite float,
 *    map with a non-string key) becomes {"$type":"<gj_type_name>","value":<as above>}.
 */
#include "core/value_internal.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void gj_free(void *p)
{
    free(p);
}

/* ---- output buffer -------------------------------------------------------------- */

typedef struct {
    char *p;
    size_t len, cap;
    int rc;          /* first failure (GJ_ENOMEM) */
    bool pretty, typed;
} jbuf;

static bool jb_reserve(jbuf *b, size_t n)
{
    if (b->rc)
        return false;
    if (b->cap - b->len > n)
        return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len <= n) {
        if (cap > SIZE_MAX / 2) {
            b->rc = GJ_ENOMEM;
            return false;
        }
        cap *= 2;
    }
    char *p = realloc(b->p, cap);
    if (!p) {
        b->rc = GJ_ENOMEM;
        return false;
    }
    b->p = p;
    b->cap = cap;
    return true;
}

static void jb_put(jbuf *b, const char *s, size_t n)
{
    if (n && jb_reserve(b, n)) {
        memcpy(b->p + b->len, s, n);
        b->len += n;
    }
}

static void jb_puts(jbuf *b, const char *s)
{
    jb_put(b, s, strlen(s));
}

static void jb_putc(jbuf *b, char c)
{
    if (jb_reserve(b, 1))
        b->p[b->len++] = c;
}

static void jb_newline(jbuf *b, size_t depth)
{
    if (!b->pretty)
        return;
    if (depth > (SIZE_MAX - 1) / 2) {
        b->rc = GJ_ENOMEM;
        return;
    }
    if (jb_reserve(b, 1 + 2 * depth)) {
        b->p[b->len++] = '\n';
        memset(b->p + b->len, ' ', 2 * depth);
        b->len += 2 * depth;
    }
}

static void jb_string(jbuf *b, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    jb_putc(b, '"');
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        jb_put(b, s + start, i - start);
        start = i + 1;
        if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};
            jb_put(b, esc, 2);
        } else {
            char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            jb_put(b, esc, 6);
        }
    }
    jb_put(b, s + start, len - start);
    jb_putc(b, '"');
}

static void jb_base64(jbuf *b, const uint8_t *d, size_t len)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    if (len > (SIZE_MAX - 3) / 4 * 3) {
        b->rc = GJ_ENOMEM;
        return;
    }
    size_t out = (len + 2) / 3 * 4;
    if (!jb_reserve(b, out + 2))
        return;
    char *p = b->p + b->len;
    *p++ = '"';
    size_t i = 0;
    for (; i + 3 <= len; i += 3) {
        uint32_t w = (uint32_t)d[i] << 16 | (uint32_t)d[i + 1] << 8 | d[i + 2];
        *p++ = alphabet[w >> 18];
        *p++ = alphabet[(w >> 12) & 63];
        *p++ = alphabet[(w >> 6) & 63];
        *p++ = alphabet[w & 63];
    }
    if (i < len) {
        uint32_t w = (uint32_t)d[i] << 16 | (i + 1 < len ? (uint32_t)d[i + 1] << 8 : 0);
        *p++ = alphabet[w >> 18];
        *p++ = alphabet[(w >> 12) & 63];
        *p++ = i + 1 < len ? alphabet[(w >> 6) & 63] : '=';
        *p++ = '=';
    }
    *p++ = '"';
    b->len = (size_t)(p - b->p);
}

/* ---- numbers --------------------------------------------------------------------- */

/* Copy a %g rendering, replacing the locale's decimal point (whatever bytes
 * it is) with '.'. */
static size_t normalize_number(const char *in, char *out)
{
    size_t n = 0;
    for (; *in; in++) {
        char c = *in;
        if ((c >= '0' && c <= '9') || c == '-' || c == '+' || c == 'e' || c == 'E')
            out[n++] = c;
        else if (!n || out[n - 1] != '.')
            out[n++] = '.';
    }
    out[n] = '\0';
    return n;
}

/* Shortest text that reads back as d (as a float when bits == 32). */
static void jb_double(jbuf *b, double d, unsigned bits)
{
    if (isnan(d)) {
        jb_puts(b, "\"NaN\"");
        return;
    }
    if (isinf(d)) {
        jb_puts(b, d > 0 ? "\"Infinity\"" : "\"-Infinity\"");
        return;
    }
    char text[48], clean[48];
    bool single = bits == 32 && (double)(float)d == d;
    int first = single ? 6 : 15, last = single ? 9 : 17;
    for (int p = first; p <= last; p++) {
        snprintf(text, sizeof text, "%.*g", p, d);
        double back = strtod(text, NULL);
        if (single ? (float)back == (float)d : back == d)
            break;
    }
    size_t n = normalize_number(text, clean);
    if (!strpbrk(clean, ".e")) {
        clean[n++] = '.';
        clean[n++] = '0';
    }
    jb_put(b, clean, n);
}

static void jb_int(jbuf *b, int64_t i)
{
    char text[24];
    int n = snprintf(text, sizeof text, "%" PRId64, i);
    jb_put(b, text, (size_t)n);
}

/* ---- the tree walk ----------------------------------------------------------------- */

enum frame_kind {
    K_ARRAY,    /* list or set items */
    K_OBJECT,   /* map with string keys */
    K_PAIRS,    /* map with another key: [[k, v], ...] */
    K_PAIR,     /* one [k, v] of a K_PAIRS map */
    K_NODE, K_EDGE, K_PATH, K_TAGGED, K_POINT,
    K_WRAP      /* GJ_JSON_TYPED: {"$type": ..., "value": ...} */
};

typedef struct {
    const gj_value *v;
    size_t i;        /* next child / field */
    size_t count;    /* children written */
    size_t entry;    /* K_PAIR: the map entry */
    enum frame_kind kind;
} frame;

typedef struct {
    frame *f;
    size_t depth, cap;
} frames;

static frame *push(jbuf *b, frames *s, const gj_value *v, enum frame_kind kind)
{
    if (s->depth == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 16;
        frame *f = cap > SIZE_MAX / sizeof *f ? NULL : realloc(s->f, cap * sizeof *f);
        if (!f) {
            b->rc = GJ_ENOMEM;
            return NULL;
        }
        s->f = f;
        s->cap = cap;
    }
    frame *f = &s->f[s->depth++];
    f->v = v;
    f->i = f->count = f->entry = 0;
    f->kind = kind;
    return f;
}

static bool string_keys(const gj_value *map)
{
    size_t n = gj_value_size(map);
    for (size_t i = 0; i < n; i++)
        if (gj_value_type(gj_value_map_key_at(map, i)) != GJ_TSTRING)
            return false;
    return true;
}

static bool plain_json(const gj_value *v)
{
    switch (gj_value_type(v)) {
    case GJ_TNULL: case GJ_TBOOL: case GJ_TINT: case GJ_TSTRING: case GJ_TLIST:
        return true;
    case GJ_TFLOAT: {
        double d = 0;
        gj_value_float_get(v, &d);
        return isfinite(d);
    }
    case GJ_TMAP:
        return string_keys(v);
    default:
        return false;
    }
}

/* Write a scalar, or open a container and push its frame. */
static void emit(jbuf *b, frames *s, const gj_value *v, bool nowrap)
{
    if (!v) {
        jb_puts(b, "null");
        return;
    }
    if (b->typed && !nowrap && !plain_json(v)) {
        jb_putc(b, '{');
        push(b, s, v, K_WRAP);
        return;
    }
    gj_type type = gj_value_type(v);
    switch (type) {
    case GJ_TNULL:
        jb_puts(b, "null");
        break;
    case GJ_TBOOL: {
        bool x = false;
        gj_value_bool_get(v, &x);
        jb_puts(b, x ? "true" : "false");
        break;
    }
    case GJ_TINT: {
        int64_t i = 0;
        gj_value_int_get(v, &i);
        jb_int(b, i);
        break;
    }
    case GJ_TFLOAT: {
        double d = 0;
        gj_value_float_get(v, &d);
        jb_double(b, d, gj_value_float_bits(v));
        break;
    }
    case GJ_TSTRING: {
        const char *str = "";
        size_t len = 0;
        gj_value_string_get(v, &str, &len);
        jb_string(b, str, len);
        break;
    }
    case GJ_TBYTES: {
        const uint8_t *d = NULL;
        size_t len = 0;
        gj_value_bytes_get(v, &d, &len);
        jb_base64(b, d, len);
        break;
    }
    case GJ_TUUID: {
        uint8_t u[16];
        char text[40];
        gj_value_uuid_get(v, u);
        snprintf(text, sizeof text,
                 "\"%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x\"",
                 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11],
                 u[12], u[13], u[14], u[15]);
        jb_puts(b, text);
        break;
    }
    case GJ_TDATE: case GJ_TTIME: case GJ_TLOCAL_TIME: case GJ_TDATETIME:
    case GJ_TLOCAL_DATETIME: case GJ_TDURATION: {
        char text[GJ__ISO_TEXT_MAX];
        int n = gj__value_iso_text(v, text, sizeof text);
        if (n < 0 || (size_t)n >= sizeof text)
            b->rc = GJ_ETOOBIG;   /* cannot happen: zone ids are bounded */
        else
            jb_string(b, text, (size_t)n);
        break;
    }
    case GJ_TLIST: case GJ_TSET:
        if (!gj_value_size(v)) {
            jb_puts(b, "[]");
        } else {
            jb_putc(b, '[');
            push(b, s, v, K_ARRAY);
        }
        break;
    case GJ_TMAP:
        if (!gj_value_size(v)) {
            jb_puts(b, "{}");
        } else if (string_keys(v)) {
            jb_putc(b, '{');
            push(b, s, v, K_OBJECT);
        } else {
            jb_putc(b, '[');
            push(b, s, v, K_PAIRS);
        }
        break;
    case GJ_TNODE: case GJ_TEDGE: case GJ_TPATH: case GJ_TTAGGED: case GJ_TPOINT: {
        static const enum frame_kind kinds[] = {
            [GJ_TNODE] = K_NODE, [GJ_TEDGE] = K_EDGE, [GJ_TPATH] = K_PATH,
            [GJ_TTAGGED] = K_TAGGED, [GJ_TPOINT] = K_POINT,
        };
        jb_putc(b, '{');
        push(b, s, v, kinds[type]);
        break;
    }
    default:
        jb_puts(b, "null");
        break;
    }
}

/* One field of an object frame. */
typedef struct {
    const char *name;
    enum { FV_VALUE, FV_TEXT, FV_INT, FV_FLOAT } what;
    const gj_value *value;
    const char *text;
    int64_t i;
    double d;
    bool nowrap;
} field;

typedef struct {
    const char *name;
    const gj_value *(*get)(const gj_value *);
    bool optional;
} field_spec;

static const field_spec node_fields[] = {
    {"id", gj_value_element_id, false},
    {"element_id", gj_value_element_element_id, true},
    {"labels", gj_value_node_labels, false},
    {"properties", gj_value_element_properties, false},
};

static const field_spec edge_fields[] = {
    {"id", gj_value_element_id, false},
    {"element_id", gj_value_element_element_id, true},
    {"type", gj_value_edge_type, false},
    {"start", gj_value_edge_start_id, true},
    {"start_element_id", gj_value_edge_start_element_id, true},
    {"start_label", gj_value_edge_start_label, true},
    {"end", gj_value_edge_end_id, true},
    {"end_element_id", gj_value_edge_end_element_id, true},
    {"end_label", gj_value_edge_end_label, true},
    {"properties", gj_value_element_properties, false},
};

static const field_spec path_fields[] = {
    {"objects", gj_value_path_objects, false},
    {"labels", gj_value_path_labels, true},
};

static bool spec_field(frame *f, const field_spec *specs, size_t n, field *out)
{
    while (f->i < n) {
        const field_spec *sp = &specs[f->i++];
        const gj_value *v = sp->get(f->v);
        if (!v && sp->optional)
            continue;
        out->name = sp->name;
        out->what = FV_VALUE;
        out->value = v;
        return true;
    }
    return false;
}

/* The next field of an object frame; false after the last. */
static bool next_field(frame *f, field *out)
{
    memset(out, 0, sizeof *out);
    switch (f->kind) {
    case K_NODE:
        return spec_field(f, node_fields, sizeof node_fields / sizeof node_fields[0], out);
    case K_EDGE:
        return spec_field(f, edge_fields, sizeof edge_fields / sizeof edge_fields[0], out);
    case K_PATH:
        return spec_field(f, path_fields, sizeof path_fields / sizeof path_fields[0], out);
    case K_TAGGED: {
        const char *tag = "";
        const gj_value *inner = NULL;
        gj_value_tagged_get(f->v, &tag, &inner);
        if (f->i == 0) {
            *out = (field){.name = "@type", .what = FV_TEXT, .text = tag};
        } else if (f->i == 1) {
            *out = (field){.name = "@value", .what = FV_VALUE, .value = inner};
        } else {
            return false;
        }
        f->i++;
        return true;
    }
    case K_POINT: {
        int64_t srid = 0;
        unsigned dims = 2;
        double c[3] = {0, 0, 0};
        static const char *const names[] = {"x", "y", "z"};
        gj_value_point_get(f->v, &srid, &dims, &c[0], &c[1], &c[2]);
        if (f->i == 0)
            *out = (field){.name = "srid", .what = FV_INT, .i = srid};
        else if (f->i <= dims)
            *out = (field){.name = names[f->i - 1], .what = FV_FLOAT, .d = c[f->i - 1]};
        else
            return false;
        f->i++;
        return true;
    }
    case K_WRAP:
        if (f->i == 0)
            *out = (field){.name = "$type", .what = FV_TEXT,
                           .text = gj_type_name(gj_value_type(f->v))};
        else if (f->i == 1)
            *out = (field){.name = "value", .what = FV_VALUE, .value = f->v, .nowrap = true};
        else
            return false;
        f->i++;
        return true;
    default:
        return false;
    }
}

static void write_tree(jbuf *b, frames *s, const gj_value *root)
{
    emit(b, s, root, false);
    while (s->depth && !b->rc) {
        frame *f = &s->f[s->depth - 1];
        size_t size = gj_value_size(f->v);
        const gj_value *child = NULL;
        const char *key = NULL;
        size_t key_len = 0;
        field fl = {0};
        bool have, nowrap = false, open_pair = false;
        switch (f->kind) {
        case K_ARRAY:
            have = f->i < size;
            if (have)
                child = gj_value_list_at(f->v, f->i++);
            break;
        case K_OBJECT:
            have = f->i < size;
            if (have) {
                gj_value_string_get(gj_value_map_key_at(f->v, f->i), &key, &key_len);
                child = gj_value_map_value_at(f->v, f->i++);
            }
            break;
        case K_PAIRS:
            have = open_pair = f->i < size;
            break;
        case K_PAIR:
            have = f->i < 2;
            if (have)
                child = f->i++ == 0 ? gj_value_map_key_at(f->v, f->entry)
                                    : gj_value_map_value_at(f->v, f->entry);
            break;
        default:
            have = next_field(f, &fl);
            if (have) {
                key = fl.name;
                key_len = strlen(key);
                child = fl.value;
                nowrap = fl.nowrap;
            }
            break;
        }
        if (!have) {
            char close = f->kind <= K_PAIR && f->kind != K_OBJECT ? ']' : '}';
            bool any = f->count > 0;
            s->depth--;
            if (any)
                jb_newline(b, s->depth);
            jb_putc(b, close);
            continue;
        }
        if (f->count++)
            jb_putc(b, ',');
        jb_newline(b, s->depth);
        if (key) {
            jb_string(b, key, key_len);
            jb_puts(b, b->pretty ? ": " : ":");
        }
        if (open_pair) {
            size_t entry = f->i++;
            jb_putc(b, '[');
            frame *p = push(b, s, f->v, K_PAIR);   /* f is stale from here */
            if (p)
                p->entry = entry;
        } else if (f->kind >= K_NODE && fl.what == FV_TEXT) {
            jb_string(b, fl.text, strlen(fl.text));
        } else if (f->kind >= K_NODE && fl.what == FV_INT) {
            jb_int(b, fl.i);
        } else if (f->kind >= K_NODE && fl.what == FV_FLOAT) {
            jb_double(b, fl.d, 64);
        } else {
            emit(b, s, child, nowrap);
        }
    }
}

int gj_value_to_json(const gj_value *v, unsigned flags, char **out, size_t *len)
{
    if (out)
        *out = NULL;
    if (len)
        *len = 0;
    if (!v || !out || (flags & ~(unsigned)(GJ_JSON_PRETTY | GJ_JSON_TYPED)))
        return GJ_EINVAL;
    jbuf b = {.pretty = (flags & GJ_JSON_PRETTY) != 0, .typed = (flags & GJ_JSON_TYPED) != 0};
    frames s = {0};
    write_tree(&b, &s, v);
    free(s.f);
    if (!b.rc)
        jb_reserve(&b, 1);
    if (b.rc) {
        free(b.p);
        return b.rc;
    }
    b.p[b.len] = '\0';
    *out = b.p;
    if (len)
        *len = b.len;
    return 0;
}

int gj__json_string_wrap(const char *prefix, const char *s, size_t len, const char *suffix,
                         char **out, size_t *out_len)
{
    *out = NULL;
    if (!gj__utf8_valid(s, len, NULL))
        return GJ_EINVAL;
    jbuf b = {0};
    jb_reserve(&b, strlen(prefix) + len + strlen(suffix) + 3);
    jb_puts(&b, prefix);
    jb_string(&b, s, len);
    jb_puts(&b, suffix);
    if (!b.rc)
        jb_reserve(&b, 1);
    if (b.rc) {
        free(b.p);
        return b.rc;
    }
    b.p[b.len] = '\0';
    *out = b.p;
    if (out_len)
        *out_len = b.len;
    return 0;
}
