/*
 * GraphSON 2.0 / 3.0 decoder (see graphson.h and docs/gremlin-types.md).
 *
 * The text is parsed by json-c into its tree, which is then converted into
 * values by a recursive descent that carries the JSON path as a chain of
 * stack frames (formatted only when an error needs it).  Typed values are
 * dispatched by name: the native mappings first (g:Int32 ... gx:ZonedDateTime),
 * then the tagged types of graphson_types.h, then anything else as a tagged
 * value of an unknown type.  Strings go straight from json-c's buffer into
 * values; no other temporary copies are made.
 */
#include "codec/graphson.h"
#include "core/value_internal.h"

#include <json-c/json.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- context, paths and errors --------------------------------------------------- */

typedef struct gs_path {
    const struct gs_path *up;
    const char *key;     /* member name, or NULL for an array index */
    size_t index;
} gs_path;

typedef struct {
    gj_graphson_version version;
    unsigned max_depth;
    const char *marker;  /* suffix of the big integers the prescan marked, or NULL */
    size_t marker_len;
    gj_error *err;
} gs_ctx;

static bool identifier(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_'))
            return false;
    return true;
}

/* "$.result.data['@value'][3]": the 32 innermost steps at most. */
static void format_path(const gs_path *p, char *buf, size_t size)
{
    const gs_path *chain[32];
    size_t n = 0;
    bool elided = false;
    for (; p; p = p->up) {
        if (n < 32)
            chain[n++] = p;
        else
            elided = true;
    }
    size_t len = (size_t)snprintf(buf, size, "$%s", elided ? "..." : "");
    for (size_t i = n; i-- > 0 && len < size;) {
        const gs_path *q = chain[i];
        int k;
        if (!q->key)
            k = snprintf(buf + len, size - len, "[%zu]", q->index);
        else if (identifier(q->key))
            k = snprintf(buf + len, size - len, ".%.40s", q->key);
        else
            k = snprintf(buf + len, size - len, "['%.40s']", q->key);
        len += k > 0 ? (size_t)k : 0;
    }
}

static int fail(const gs_ctx *c, const gs_path *path, const char *fmt, ...) GJ__PRINTF(3, 4);
static int fail(const gs_ctx *c, const gs_path *path, const char *fmt, ...)
{
    char msg[256], where[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    format_path(path, where, sizeof where);
    return gj__error_set(c->err, GJ_EPROTOCOL, "GraphSON %s at %s", msg, where);
}

static int nomem(const gs_ctx *c)
{
    return gj__error_set(c->err, GJ_ENOMEM, "out of memory decoding GraphSON");
}

/* A typed value whose @value does not fit its type. */
static int bad_value(const gs_ctx *c, const gs_path *path, const char *type, json_object *jv)
{
    const char *text = json_object_to_json_string_ext(jv, JSON_C_TO_STRING_PLAIN);
    return fail(c, path, "%s has an invalid @value %.60s%s", type, text ? text : "?",
                text && strlen(text) > 60 ? "..." : "");
}

/* A constructor's result. */
static int made(const gs_ctx *c, const gs_path *path, int rc, const char *what)
{
    if (rc == 0)
        return 0;
    if (rc == GJ_ENOMEM)
        return nomem(c);
    return fail(c, path, "%s has a value the model refuses (%s)", what, gj_strerror(rc));
}

/* ---- JSON helpers ------------------------------------------------------------------- */

static bool get_str(json_object *j, const char **s, size_t *n)
{
    if (json_object_get_type(j) != json_type_string)
        return false;
    *s = json_object_get_string(j);
    *n = (size_t)json_object_get_string_len(j);
    return true;
}

static bool get_int(json_object *j, int64_t *out)
{
    if (json_object_get_type(j) != json_type_int)
        return false;
    *out = json_object_get_int64(j);
    return true;
}

/* The digits of an integer beyond int64 that the prescan marked, or NULL. */
static const char *big_int_text(const gs_ctx *c, json_object *j, size_t *len)
{
    if (!c->marker || json_object_get_type(j) != json_type_double)
        return NULL;
    const char *s = json_object_get_string(j);
    size_t n = strlen(s);
    if (n <= c->marker_len || memcmp(s + n - c->marker_len, c->marker, c->marker_len) != 0)
        return NULL;
    *len = n - c->marker_len;
    return s;
}

static json_object *member(json_object *obj, const char *key)
{
    json_object *v = NULL;
    return json_object_object_get_ex(obj, key, &v) ? v : NULL;
}

static int string_value(const gs_ctx *c, const gs_path *path, const char *s, size_t n,
                        gj_value **out)
{
    int rc = gj_value_new_string(out, s, n);
    if (rc == GJ_EINVAL)
        return fail(c, path, "string is not valid UTF-8");
    return rc ? nomem(c) : 0;
}

static int tagged(const gs_ctx *c, const gs_path *path, const char *tag, gj_value *inner,
                  gj_value **out)
{
    return made(c, path, gj_value_new_tagged(out, tag, inner), tag);
}

static int tagged_string(const gs_ctx *c, const gs_path *path, const char *tag, const char *s,
                         size_t n, gj_value **out)
{
    gj_value *v;
    int rc = string_value(c, path, s, n, &v);
    return rc ? rc : tagged(c, path, tag, v, out);
}

/* ---- conversion ---------------------------------------------------------------------- */

static int convert(const gs_ctx *c, json_object *j, const gs_path *path, unsigned depth,
                   gj_value **out);

static int convert_array(const gs_ctx *c, json_object *j, const gs_path *path, unsigned depth,
                         gj_type type, gj_value **out)
{
    size_t n = json_object_array_length(j);
    gj_value *list;
    if ((type == GJ_TSET ? gj_value_new_set(&list, n) : gj_value_new_list(&list, n)) != 0)
        return nomem(c);
    for (size_t i = 0; i < n; i++) {
        gs_path p = {path, NULL, i};
        gj_value *item;
        int rc = convert(c, json_object_array_get_idx(j, i), &p, depth + 1, &item);
        if (rc == 0 && gj_value_list_append(list, item) != 0)
            rc = nomem(c);
        if (rc) {
            gj_value_unref(list);
            return rc;
        }
    }
    *out = list;
    return 0;
}

static int convert_object(const gs_ctx *c, json_object *j, const gs_path *path, unsigned depth,
                          gj_value **out)
{
    gj_value *map;
    if (gj_value_new_map(&map, (size_t)json_object_object_length(j)) != 0)
        return nomem(c);
    json_object_object_foreach(j, key, val) {
        gs_path p = {path, key, 0};
        gj_value *item;
        int rc = convert(c, val, &p, depth + 1, &item);
        if (rc == 0 && (rc = gj_value_map_put_str(map, key, item)) != 0)
            rc = rc == GJ_ENOMEM ? nomem(c) : fail(c, &p, "member name is not valid UTF-8");
        if (rc) {
            gj_value_unref(map);
            return rc;
        }
    }
    *out = map;
    return 0;
}

/* g:Map: [k1, v1, k2, v2, ...] */
static int convert_flat_map(const gs_ctx *c, json_object *j, const gs_path *path, unsigned depth,
                            gj_value **out)
{
    size_t n = json_object_array_length(j);
    if (n % 2)
        return fail(c, path, "g:Map has an odd number of items (%zu)", n);
    gj_value *map;
    if (gj_value_new_map(&map, n / 2) != 0)
        return nomem(c);
    for (size_t i = 0; i < n; i += 2) {
        gs_path pk = {path, NULL, i}, pv = {path, NULL, i + 1};
        gj_value *k = NULL, *v = NULL;
        int rc = convert(c, json_object_array_get_idx(j, i), &pk, depth + 1, &k);
        if (rc == 0)
            rc = convert(c, json_object_array_get_idx(j, i + 1), &pv, depth + 1, &v);
        if (rc == 0) {
            if (gj_value_map_put(map, k, v) != 0)
                rc = nomem(c);
        } else {
            gj_value_unref(k);
        }
        if (rc) {
            gj_value_unref(map);
            return rc;
        }
    }
    *out = map;
    return 0;
}

/* A member converted (NULL when absent). */
static int member_value(const gs_ctx *c, json_object *obj, const char *key, const gs_path *path,
                        unsigned depth, gj_value **out)
{
    *out = NULL;
    json_object *m = member(obj, key);
    if (!m)
        return 0;
    gs_path p = {path, key, 0};
    return convert(c, m, &p, depth, out);
}

/* A member that must be a string (NULL when absent). */
static int member_string(const gs_ctx *c, json_object *obj, const char *key, const gs_path *path,
                         gj_value **out)
{
    *out = NULL;
    json_object *m = member(obj, key);
    if (!m)
        return 0;
    gs_path p = {path, key, 0};
    const char *s;
    size_t n;
    if (!get_str(m, &s, &n))
        return fail(c, &p, "member is not a string");
    return string_value(c, &p, s, n, out);
}

static int convert_vertex(const gs_ctx *c, json_object *jv, const gs_path *path, unsigned depth,
                          gj_value **out)
{
    if (!json_object_is_type(jv, json_type_object))
        return bad_value(c, path, "g:Vertex", jv);
    gj_value *id = NULL, *label = NULL, *labels = NULL, *props = NULL;
    int rc = member_value(c, jv, "id", path, depth + 1, &id);
    if (rc == 0)
        rc = member_string(c, jv, "label", path, &label);
    if (rc == 0 && !label && !(label = gj_value_string("vertex")))
        rc = nomem(c);
    if (rc == 0 && (gj_value_new_list(&labels, 1) != 0 || gj_value_list_append(labels, label) != 0))
        rc = nomem(c);
    else if (rc)
        gj_value_unref(label);
    json_object *jp = member(jv, "properties");
    if (rc == 0 && jp) {
        gs_path pp = {path, "properties", 0};
        if (!json_object_is_type(jp, json_type_object))
            rc = fail(c, &pp, "g:Vertex properties are not an object");
        else
            rc = convert_object(c, jp, &pp, depth + 1, &props);
    }
    if (rc) {
        gj_value_unref(id);
        gj_value_unref(labels);
        return rc;
    }
    return made(c, path, gj_value_new_node(out, id, labels, props), "g:Vertex");
}

/* An edge property: the value of a plain g:Property {key, value}, else the
 * value as it is. */
static int edge_property(const gs_ctx *c, json_object *jp, const gs_path *path, unsigned depth,
                         gj_value **out)
{
    json_object *type = member(jp, "@type"), *value = member(jp, "@value");
    const char *s;
    size_t n;
    if (json_object_is_type(jp, json_type_object) && json_object_object_length(jp) == 2 && type &&
        value && get_str(type, &s, &n) && n == 10 && !memcmp(s, "g:Property", 10) &&
        json_object_is_type(value, json_type_object) && member(value, "value")) {
        size_t known = 1 + (member(value, "key") != NULL);
        if ((size_t)json_object_object_length(value) == known) {
            gs_path pv = {path, "@value", 0};
            return member_value(c, value, "value", &pv, depth + 1, out);
        }
    }
    return convert(c, jp, path, depth, out);
}

static int convert_edge(const gs_ctx *c, json_object *jv, const gs_path *path, unsigned depth,
                        gj_value **out)
{
    if (!json_object_is_type(jv, json_type_object))
        return bad_value(c, path, "g:Edge", jv);
    gj_value *id = NULL, *label = NULL, *in_id = NULL, *out_id = NULL, *in_label = NULL,
             *out_label = NULL, *props = NULL;
    int rc = member_value(c, jv, "id", path, depth + 1, &id);
    if (rc == 0)
        rc = member_string(c, jv, "label", path, &label);
    if (rc == 0)
        rc = member_value(c, jv, "inV", path, depth + 1, &in_id);
    if (rc == 0)
        rc = member_value(c, jv, "outV", path, depth + 1, &out_id);
    if (rc == 0)
        rc = member_string(c, jv, "inVLabel", path, &in_label);
    if (rc == 0)
        rc = member_string(c, jv, "outVLabel", path, &out_label);
    json_object *jp = member(jv, "properties");
    if (rc == 0 && jp) {
        gs_path pp = {path, "properties", 0};
        if (!json_object_is_type(jp, json_type_object)) {
            rc = fail(c, &pp, "g:Edge properties are not an object");
        } else if (gj_value_new_map(&props, (size_t)json_object_object_length(jp)) != 0) {
            rc = nomem(c);
        } else {
            json_object_object_foreach(jp, key, val) {
                gs_path pk = {&pp, key, 0};
                gj_value *v;
                if ((rc = edge_property(c, val, &pk, depth + 2, &v)) != 0)
                    break;
                if ((rc = gj_value_map_put_str(props, key, v)) != 0) {
                    rc = rc == GJ_ENOMEM ? nomem(c) : fail(c, &pk, "member name is not valid UTF-8");
                    break;
                }
            }
        }
    }
    if (rc) {
        gj_value *all[] = {id, label, in_id, out_id, in_label, out_label, props};
        for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
            gj_value_unref(all[i]);
        return rc;
    }
    if (!label && !(label = gj_value_string("edge"))) {
        gj_value *all[] = {id, in_id, out_id, in_label, out_label, props};
        for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
            gj_value_unref(all[i]);
        return nomem(c);
    }
    rc = gj_value_new_edge(out, id, label, out_id, in_id, props);
    if (rc == 0 && (in_label || out_label)) {
        rc = gj_value_edge_set_end_labels(*out, out_label, in_label);
        in_label = out_label = NULL;
        if (rc) {
            gj_value_unref(*out);
            *out = NULL;
        }
    }
    gj_value_unref(in_label);
    gj_value_unref(out_label);
    return made(c, path, rc, "g:Edge");
}

/* Path labels: a list of label sets (GraphSON 2.0 writes them as arrays). */
static int label_sets(const gs_ctx *c, gj_value **labels)
{
    size_t n = gj_value_size(*labels);
    bool lists = false;
    for (size_t i = 0; i < n; i++)
        lists |= gj_value_type(gj_value_list_at(*labels, i)) == GJ_TLIST;
    if (!lists)
        return 0;
    gj_value *copy;
    if (gj_value_new_list(&copy, n) != 0)
        return nomem(c);
    for (size_t i = 0; i < n; i++) {
        const gj_value *item = gj_value_list_at(*labels, i);
        gj_value *set = gj_value_ref(item);
        if (gj_value_type(item) == GJ_TLIST) {
            size_t m = gj_value_size(item);
            gj_value_unref(set);
            if (gj_value_new_set(&set, m) != 0) {
                gj_value_unref(copy);
                return nomem(c);
            }
            for (size_t k = 0; k < m; k++)
                if (gj_value_list_append(set, gj_value_ref(gj_value_list_at(item, k))) != 0) {
                    gj_value_unref(set);
                    gj_value_unref(copy);
                    return nomem(c);
                }
        }
        if (gj_value_list_append(copy, set) != 0) {
            gj_value_unref(copy);
            return nomem(c);
        }
    }
    gj_value_unref(*labels);
    *labels = copy;
    return 0;
}

static int convert_path(const gs_ctx *c, json_object *jv, const gs_path *path, unsigned depth,
                        gj_value **out)
{
    if (!json_object_is_type(jv, json_type_object))
        return bad_value(c, path, "g:Path", jv);
    gj_value *labels = NULL, *objects = NULL;
    int rc = member_value(c, jv, "labels", path, depth + 1, &labels);
    if (rc == 0)
        rc = member_value(c, jv, "objects", path, depth + 1, &objects);
    if (rc == 0 && ((labels && gj_value_type(labels) != GJ_TLIST) ||
                    (objects && gj_value_type(objects) != GJ_TLIST)))
        rc = fail(c, path, "g:Path labels and objects must be lists");
    if (rc == 0 && labels)
        rc = label_sets(c, &labels);
    for (size_t i = 0; rc == 0 && i < gj_value_size(labels); i++)
        if (gj_value_type(gj_value_list_at(labels, i)) != GJ_TSET)
            rc = fail(c, path, "g:Path labels item %zu is not a set", i);
    if (rc) {
        gj_value_unref(labels);
        gj_value_unref(objects);
        return rc;
    }
    return made(c, path, gj_value_new_path(out, objects, labels), "g:Path");
}

/* A JSON number or one of GraphSON's "NaN", "Infinity", "-Infinity". */
static bool number_of(const gs_ctx *c, json_object *jv, double *d)
{
    int64_t i;
    const char *s;
    size_t n;
    if (get_int(jv, &i)) {
        *d = (double)i;
        return true;
    }
    if (big_int_text(c, jv, &n)) {
        *d = strtod(json_object_get_string(jv), NULL);
        return true;
    }
    if (json_object_is_type(jv, json_type_double)) {
        *d = json_object_get_double(jv);
        return true;
    }
    if (!get_str(jv, &s, &n))
        return false;
    if (!strcmp(s, "NaN"))
        *d = NAN;
    else if (!strcmp(s, "Infinity"))
        *d = INFINITY;
    else if (!strcmp(s, "-Infinity"))
        *d = -INFINITY;
    else
        return false;
    return true;
}

static int base64_value(const char *s, size_t n, gj_value **out)
{
    static const signed char dec[256] = {
        ['A'] = 1, ['B'] = 2, ['C'] = 3, ['D'] = 4, ['E'] = 5, ['F'] = 6, ['G'] = 7, ['H'] = 8,
        ['I'] = 9, ['J'] = 10, ['K'] = 11, ['L'] = 12, ['M'] = 13, ['N'] = 14, ['O'] = 15,
        ['P'] = 16, ['Q'] = 17, ['R'] = 18, ['S'] = 19, ['T'] = 20, ['U'] = 21, ['V'] = 22,
        ['W'] = 23, ['X'] = 24, ['Y'] = 25, ['Z'] = 26, ['a'] = 27, ['b'] = 28, ['c'] = 29,
        ['d'] = 30, ['e'] = 31, ['f'] = 32, ['g'] = 33, ['h'] = 34, ['i'] = 35, ['j'] = 36,
        ['k'] = 37, ['l'] = 38, ['m'] = 39, ['n'] = 40, ['o'] = 41, ['p'] = 42, ['q'] = 43,
        ['r'] = 44, ['s'] = 45, ['t'] = 46, ['u'] = 47, ['v'] = 48, ['w'] = 49, ['x'] = 50,
        ['y'] = 51, ['z'] = 52, ['0'] = 53, ['1'] = 54, ['2'] = 55, ['3'] = 56, ['4'] = 57,
        ['5'] = 58, ['6'] = 59, ['7'] = 60, ['8'] = 61, ['9'] = 62, ['+'] = 63, ['/'] = 64,
    };   /* value + 1; 0 = not in the alphabet */
    if (n % 4 == 0 && n && s[n - 1] == '=')
        n -= (n >= 2 && s[n - 2] == '=') ? 2 : 1;
    if (n % 4 == 1)
        return GJ_EINVAL;
    uint8_t small[192], *buf = n / 4 * 3 + 3 <= sizeof small ? small : malloc(n / 4 * 3 + 3);
    if (!buf)
        return GJ_ENOMEM;
    size_t k = 0;
    uint32_t acc = 0;
    int bits = 0, rc = 0;
    for (size_t i = 0; i < n; i++) {
        int v = dec[(unsigned char)s[i]] - 1;
        if (v < 0) {
            rc = GJ_EINVAL;
            break;
        }
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            buf[k++] = (uint8_t)(acc >> bits);
        }
    }
    if (rc == 0)
        rc = gj_value_new_bytes(out, buf, k);
    if (buf != small)
        free(buf);
    return rc;
}

/* The native mappings. */
enum native {
    N_INT32, N_INT64, N_LIST, N_MAP, N_VERTEX, N_DOUBLE, N_SET, N_EDGE, N_UUID, N_FLOAT,
    N_PATH, N_DATE, N_BYTE, N_SHORT, N_BYTES, N_DURATION, N_LOCAL_DATE, N_LOCAL_DATETIME,
    N_LOCAL_TIME, N_OFFSET_DATETIME, N_OFFSET_TIME, N_ZONED_DATETIME
};

static const struct {
    const char *name;
    unsigned char len;
    enum native kind;
} natives[] = {
    {"g:Int32", 7, N_INT32}, {"g:Int64", 7, N_INT64}, {"g:List", 6, N_LIST},
    {"g:Map", 5, N_MAP}, {"g:Vertex", 8, N_VERTEX}, {"g:Double", 8, N_DOUBLE},
    {"g:Set", 5, N_SET}, {"g:Edge", 6, N_EDGE}, {"g:UUID", 6, N_UUID}, {"g:Float", 7, N_FLOAT},
    {"g:Path", 6, N_PATH}, {"g:Date", 6, N_DATE}, {"gx:Byte", 7, N_BYTE},
    {"gx:Int16", 8, N_SHORT}, {"gx:ByteBuffer", 13, N_BYTES}, {"gx:Duration", 11, N_DURATION},
    {"gx:LocalDate", 12, N_LOCAL_DATE}, {"gx:LocalDateTime", 16, N_LOCAL_DATETIME},
    {"gx:LocalTime", 12, N_LOCAL_TIME}, {"gx:OffsetDateTime", 17, N_OFFSET_DATETIME},
    {"gx:OffsetTime", 13, N_OFFSET_TIME}, {"gx:ZonedDateTime", 16, N_ZONED_DATETIME},
};

static int convert_native(const gs_ctx *c, enum native kind, const char *name, json_object *jv,
                          const gs_path *path, unsigned depth, gj_value **out)
{
    int64_t i = 0, seconds = 0, nanos_of_day = 0;
    int32_t nanos = 0, offset = 0;
    double d;
    const char *s = "";
    size_t n = 0;
    bool is_str = get_str(jv, &s, &n);
    switch (kind) {
    case N_INT32: case N_INT64: case N_BYTE: case N_SHORT: {
        static const unsigned bits[] = {[N_INT32] = 32, [N_INT64] = 64, [N_BYTE] = 8, [N_SHORT] = 16};
        unsigned b = bits[kind];
        if (!get_int(jv, &i) || (b < 64 && (i < -(INT64_C(1) << (b - 1)) || i >= INT64_C(1) << (b - 1))))
            return bad_value(c, path, name, jv);
        return made(c, path, gj_value_new_int_bits(out, i, b), name);
    }
    case N_DOUBLE: case N_FLOAT:
        if (!number_of(c, jv, &d))
            return bad_value(c, path, name, jv);
        if (kind == N_FLOAT)
            d = (double)(float)d;
        return made(c, path, gj_value_new_float_bits(out, d, kind == N_FLOAT ? 32 : 64), name);
    case N_LIST: case N_SET:
        if (!json_object_is_type(jv, json_type_array))
            return bad_value(c, path, name, jv);
        return convert_array(c, jv, path, depth, kind == N_SET ? GJ_TSET : GJ_TLIST, out);
    case N_MAP:
        if (!json_object_is_type(jv, json_type_array))
            return bad_value(c, path, name, jv);
        return convert_flat_map(c, jv, path, depth, out);
    case N_VERTEX:
        return convert_vertex(c, jv, path, depth, out);
    case N_EDGE:
        return convert_edge(c, jv, path, depth, out);
    case N_PATH:
        return convert_path(c, jv, path, depth, out);
    case N_UUID: {
        int rc = is_str && strlen(s) == n ? gj_value_new_uuid_text(out, s) : GJ_EINVAL;
        if (rc == GJ_EINVAL)
            return bad_value(c, path, name, jv);
        return rc ? nomem(c) : 0;
    }
    case N_DATE:
        if (!get_int(jv, &i))
            return bad_value(c, path, name, jv);
        gj__gt_ms_split(i, &seconds, &nanos);
        return made(c, path, gj_value_new_datetime(out, seconds, nanos, 0, NULL, 0), name);
    case N_BYTES: {
        int rc = is_str ? base64_value(s, n, out) : GJ_EINVAL;
        if (rc == GJ_EINVAL)
            return bad_value(c, path, name, jv);
        return rc ? nomem(c) : 0;
    }
    case N_DURATION:
        if (!is_str || gj__gt_parse_duration(s, n, &seconds, &nanos) != 0)
            return bad_value(c, path, name, jv);
        return made(c, path, gj_value_new_duration(out, 0, 0, seconds, nanos), name);
    case N_LOCAL_DATE:
        if (!is_str || gj__gt_parse_date(s, n, &i) != 0)
            return bad_value(c, path, name, jv);
        return made(c, path, gj_value_new_date(out, i), name);
    case N_LOCAL_DATETIME:
        if (!is_str || gj__gt_parse_local_datetime(s, n, &seconds, &nanos) != 0)
            return bad_value(c, path, name, jv);
        return made(c, path, gj_value_new_local_datetime(out, seconds, nanos), name);
    case N_LOCAL_TIME:
        if (!is_str || gj__gt_parse_time(s, n, &nanos_of_day) != 0)
            return bad_value(c, path, name, jv);
        return made(c, path, gj_value_new_local_time(out, nanos_of_day), name);
    case N_OFFSET_TIME:
        if (!is_str || gj__gt_parse_offset_time(s, n, &nanos_of_day, &offset) != 0)
            return bad_value(c, path, name, jv);
        return made(c, path, gj_value_new_time(out, nanos_of_day, offset), name);
    case N_OFFSET_DATETIME:
        if (!is_str || gj__gt_parse_offset_datetime(s, n, &seconds, &nanos, &offset) != 0)
            return bad_value(c, path, name, jv);
        return made(c, path, gj_value_new_datetime(out, seconds, nanos, offset, NULL,
                                                   GJ_DATETIME_HAS_OFFSET), name);
    case N_ZONED_DATETIME: {
        const char *zone;
        size_t zone_len;
        char zbuf[GJ__VALUE_NAME_MAX + 1];
        if (!is_str || gj__gt_parse_zoned_datetime(s, n, &seconds, &nanos, &offset, &zone,
                                                   &zone_len) != 0 ||
            zone_len > GJ__VALUE_NAME_MAX)
            return bad_value(c, path, name, jv);
        if (zone_len) {
            memcpy(zbuf, zone, zone_len);
            zbuf[zone_len] = '\0';
        } else {
            gj__gt_format_offset(zbuf, offset);   /* Java: the offset is the zone */
        }
        return made(c, path, gj_value_new_datetime(out, seconds, nanos, offset, zbuf,
                                                   GJ_DATETIME_HAS_OFFSET), name);
    }
    }
    return bad_value(c, path, name, jv);
}

/* The text of a gx:BigInteger / gx:BigDecimal @value. */
static bool big_text(const gs_ctx *c, json_object *jv, bool decimal, char *buf, const char **s,
                     size_t *n)
{
    int64_t i;
    if (get_int(jv, &i)) {
        *n = (size_t)sprintf(buf, "%lld", (long long)i);
        *s = buf;
        return true;
    }
    if (big_int_text(c, jv, n)) {
        *s = json_object_get_string(jv);
        return true;
    }
    if (decimal && json_object_is_type(jv, json_type_double)) {
        *s = json_object_get_string(jv);
        *n = strlen(*s);
        return gj__gt_json_number(*s, *n);
    }
    if (get_str(jv, s, n))
        return gj__gt_json_number(*s, *n) && (decimal || gj__gt_integer_text(*s, *n));
    return false;
}

static bool string_keys(const gj_value *m)
{
    size_t n = gj_value_size(m);
    for (size_t i = 0; i < n; i++)
        if (gj_value_type(gj_value_map_key_at(m, i)) != GJ_TSTRING)
            return false;
    return gj_value_type(m) == GJ_TMAP;
}

/* The inner value of a structured tagged type has the shape its encoders
 * read: the members of a JSON object (string keys), the entries of a tree,
 * the instructions of bytecode. */
static bool well_formed(const gs_ctx *c, gj_gt_kind kind, const gj_value *inner)
{
    switch (kind) {
    case GJ_GT_BULK_SET: {   /* value, bulk, value, bulk, ...: the bulks are counts */
        size_t n = gj_value_size(inner);
        for (size_t i = 1; i < n; i += 2) {
            int64_t bulk;
            if (gj_value_int_get(gj_value_list_at(inner, i), &bulk) != 0 || bulk < 0)
                return false;
        }
        return gj_value_type(inner) == GJ_TLIST && n % 2 == 0;
    }
    case GJ_GT_TREE: {
        size_t n = gj_value_size(inner);
        for (size_t i = 0; i < n; i++)
            if (!string_keys(gj_value_list_at(inner, i)))
                return false;
        return gj_value_type(inner) == GJ_TLIST;
    }
    case GJ_GT_METRICS: case GJ_GT_TRAVERSAL_METRICS:
        return gj_value_type(inner) == GJ_TMAP &&
               (c->version == GJ_GRAPHSON_V3 || string_keys(inner));
    case GJ_GT_VERTEX_PROPERTY: {
        const gj_value *props = gj_value_map_get(inner, "properties");
        return string_keys(inner) && (!props || string_keys(props));
    }
    case GJ_GT_BYTECODE:
        for (const char *k = "step"; k; k = strcmp(k, "step") ? NULL : "source") {
            const gj_value *list = gj_value_map_get(inner, k);
            gj_type t = gj_value_type(list);
            for (size_t i = 0; (t == GJ_TLIST || t == GJ_TSET) && i < gj_value_size(list); i++) {
                gj_type it = gj_value_type(gj_value_list_at(list, i));
                if (it != GJ_TLIST && it != GJ_TSET)
                    return false;
            }
        }
        return string_keys(inner);
    default:
        return string_keys(inner);
    }
}

/* One UTF-8 character. */
static bool one_char(const char *s, size_t n)
{
    if (!n)
        return false;
    uint8_t b = (uint8_t)s[0];
    size_t want = b < 0x80 ? 1 : (b & 0xe0) == 0xc0 ? 2 : (b & 0xf0) == 0xe0 ? 3 : 4;
    return n == want;
}

static int convert_tagged_kind(const gs_ctx *c, const gj_gt_type *t, json_object *jv,
                               const gs_path *path, unsigned depth, gj_value **out)
{
    const char *s = "";
    size_t n = 0;
    bool is_str = get_str(jv, &s, &n);
    int64_t i = 0, seconds = 0;
    int32_t nanos = 0, i1, i2, i3;
    unsigned u1, u2;
    uint8_t addr[16];
    size_t addr_len;
    char buf[32];
    bool ok;
    switch (t->kind) {
    case GJ_GT_ENUM: case GJ_GT_CLASS: case GJ_GT_CHAR: case GJ_GT_YEAR: case GJ_GT_YEAR_MONTH:
    case GJ_GT_MONTH_DAY: case GJ_GT_PERIOD: case GJ_GT_ZONE_OFFSET: case GJ_GT_INET:
        switch (t->kind) {
        case GJ_GT_CHAR: ok = is_str && one_char(s, n); break;
        case GJ_GT_YEAR: ok = is_str && gj__gt_parse_year(s, n, &i1) == 0; break;
        case GJ_GT_YEAR_MONTH: ok = is_str && gj__gt_parse_year_month(s, n, &i1, &u1) == 0; break;
        case GJ_GT_MONTH_DAY: ok = is_str && gj__gt_parse_month_day(s, n, &u1, &u2) == 0; break;
        case GJ_GT_PERIOD: ok = is_str && gj__gt_parse_period(s, n, &i1, &i2, &i3) == 0; break;
        case GJ_GT_ZONE_OFFSET: ok = is_str && gj__gt_parse_offset(s, n, &i1) == 0; break;
        case GJ_GT_INET: ok = is_str && gj__gt_parse_inet(s, n, addr, &addr_len) == 0; break;
        default: ok = is_str; break;
        }
        if (!ok)
            return bad_value(c, path, t->name, jv);
        return tagged_string(c, path, t->name, s, n, out);
    case GJ_GT_TIMESTAMP: case GJ_GT_INSTANT: {
        gj_value *dt;
        if (t->kind == GJ_GT_TIMESTAMP ? !get_int(jv, &i)
                                       : !is_str || gj__gt_parse_instant(s, n, &seconds, &nanos) != 0)
            return bad_value(c, path, t->name, jv);
        if (t->kind == GJ_GT_TIMESTAMP)
            gj__gt_ms_split(i, &seconds, &nanos);
        int rc = made(c, path, gj_value_new_datetime(&dt, seconds, nanos, 0, NULL, 0), t->name);
        return rc ? rc : tagged(c, path, t->name, dt, out);
    }
    case GJ_GT_BIG_INTEGER: case GJ_GT_BIG_DECIMAL:
        if (!big_text(c, jv, t->kind == GJ_GT_BIG_DECIMAL, buf, &s, &n))
            return bad_value(c, path, t->name, jv);
        return tagged_string(c, path, t->name, s, n, out);
    case GJ_GT_BULK_SET: case GJ_GT_TREE: case GJ_GT_PROPERTY: case GJ_GT_VERTEX_PROPERTY:
    case GJ_GT_BINDING: case GJ_GT_BYTECODE: case GJ_GT_LAMBDA: case GJ_GT_P:
    case GJ_GT_TRAVERSER: case GJ_GT_METRICS: case GJ_GT_TRAVERSAL_METRICS: case GJ_GT_GRAPH:
    case GJ_GT_STRATEGY: {
        gj_value *inner;
        int rc = convert(c, jv, path, depth + 1, &inner);
        if (rc)
            return rc;
        if (!well_formed(c, t->kind, inner)) {
            gj_value_unref(inner);
            return bad_value(c, path, t->name, jv);
        }
        return tagged(c, path, t->name, inner, out);
    }
    }
    return bad_value(c, path, t->name, jv);
}

static int convert_typed(const gs_ctx *c, const char *name, size_t len, json_object *jv,
                         const gs_path *path, unsigned depth, gj_value **out)
{
    for (size_t i = 0; i < sizeof natives / sizeof natives[0]; i++) {
        enum native k = natives[i].kind;
        if (natives[i].len != len || memcmp(natives[i].name, name, len) != 0)
            continue;
        /* GraphSON 2.0 has no g:List, g:Set or g:Map: unknown types there. */
        if (c->version == GJ_GRAPHSON_V2 && (k == N_LIST || k == N_SET || k == N_MAP))
            break;
        return convert_native(c, k, natives[i].name, jv, path, depth, out);
    }
    const gj_gt_type *t = gj__gt_by_name(name, len);
    if (t)
        return convert_tagged_kind(c, t, jv, path, depth, out);
    /* A type this codec has no decoder for: kept whole. */
    if (!len || len > GJ__VALUE_NAME_MAX || strlen(name) != len)
        return fail(c, path, "@type \"%.60s\" is not a usable type name", name);
    gj_value *inner;
    int rc = convert(c, jv, path, depth + 1, &inner);
    return rc ? rc : tagged(c, path, name, inner, out);
}

static int convert(const gs_ctx *c, json_object *j, const gs_path *path, unsigned depth,
                   gj_value **out)
{
    *out = NULL;
    if (depth > c->max_depth)
        return fail(c, path, "value nests deeper than %u levels", c->max_depth);
    switch (json_object_get_type(j)) {
    case json_type_null:
        *out = gj_value_null();
        return 0;
    case json_type_boolean:
        *out = gj_value_bool(json_object_get_boolean(j));
        return 0;
    case json_type_int:
        return made(c, path, gj_value_new_int_bits(out, json_object_get_int64(j), 64), "number");
    case json_type_double: {
        size_t n;
        const char *big = big_int_text(c, j, &n);
        if (big)
            return tagged_string(c, path, "gx:BigInteger", big, n, out);
        return made(c, path, gj_value_new_float_bits(out, json_object_get_double(j), 64),
                    "number");
    }
    case json_type_string: {
        const char *s = "";
        size_t n = 0;
        get_str(j, &s, &n);
        return string_value(c, path, s, n, out);
    }
    case json_type_array:
        return convert_array(c, j, path, depth, GJ_TLIST, out);
    case json_type_object: {
        json_object *type, *value;
        if (json_object_object_length(j) == 2 && (type = member(j, "@type")) != NULL &&
            (value = member(j, "@value")) != NULL) {
            const char *name;
            size_t len;
            gs_path p = {path, "@value", 0};
            if (!get_str(type, &name, &len))
                return fail(c, path, "@type is not a string");
            return convert_typed(c, name, len, value, &p, depth, out);
        }
        return convert_object(c, j, path, depth, out);
    }
    }
    return fail(c, path, "unexpected JSON value");
}

/* ---- integers beyond int64 ----------------------------------------------------------- */

static bool is_digit(char ch)
{
    return ch >= '0' && ch <= '9';
}

static bool overflows_int64(const char *d, size_t n, bool neg)
{
    while (n > 1 && *d == '0')
        d++, n--;
    if (n != 19)
        return n > 19;
    return memcmp(d, neg ? "9223372036854775808" : "9223372036854775807", 19) > 0;
}

/* Ends (exclusive) of the integer tokens beyond int64, outside strings. */
typedef struct {
    size_t *end;
    size_t n, cap;
    uint64_t used;   /* bit k: some real number ends in '.' + k zeros + "e0" */
    size_t bad_at;   /* GJ_EPROTOCOL: an integer with leading zeros there */
} big_scan;

static int scan_big_ints(const char *t, size_t len, big_scan *bs)
{
    memset(bs, 0, sizeof *bs);
    /* Quick test: no run of 19 digits, no integer beyond int64. */
    size_t run = 0;
    bool any = false;
    for (size_t i = 0; i < len && !any; i++) {
        run = is_digit(t[i]) ? run + 1 : 0;
        any = run >= 19;
    }
    if (!any)
        return 0;
    for (size_t i = 0; i < len;) {
        char ch = t[i];
        if (ch == '"') {
            for (i++; i < len && t[i] != '"'; i++)
                if (t[i] == '\\')
                    i++;
            i++;
            continue;
        }
        if (ch != '-' && !is_digit(ch)) {
            i++;
            continue;
        }
        bool neg = ch == '-';
        i += neg;
        size_t ds = i;
        while (i < len && is_digit(t[i]))
            i++;
        size_t de = i, fs = 0, fe = 0, es = 0;
        bool frac = false, expo = false;
        if (i < len && t[i] == '.') {
            frac = true;
            fs = ++i;
            while (i < len && is_digit(t[i]))
                i++;
            fe = i;
        }
        if (i < len && (t[i] == 'e' || t[i] == 'E')) {
            expo = true;
            es = i++;
            if (i < len && (t[i] == '+' || t[i] == '-'))
                i++;
            while (i < len && is_digit(t[i]))
                i++;
        }
        if (!frac && !expo && de > ds) {
            if (de - ds > 1 && t[ds] == '0') {
                bs->bad_at = ds;   /* leading zeros: not JSON */
                return GJ_EPROTOCOL;
            }
            if (overflows_int64(t + ds, de - ds, neg)) {
                if (bs->n == bs->cap) {
                    size_t cap = bs->cap ? 2 * bs->cap : 16;
                    size_t *e = realloc(bs->end, cap * sizeof *e);
                    if (!e)
                        return GJ_ENOMEM;
                    bs->end = e;
                    bs->cap = cap;
                }
                bs->end[bs->n++] = de;
            }
        } else if (frac && expo && fe > fs && fe - fs < 64 && i == es + 2 && t[es] == 'e' &&
                   t[es + 1] == '0') {
            bool zeros = true;
            for (size_t k = fs; k < fe; k++)
                zeros &= t[k] == '0';
            if (zeros)
                bs->used |= UINT64_C(1) << (fe - fs);
        }
    }
    return 0;
}

/* ---- entry point ---------------------------------------------------------------------- */

int gj__graphson_decode(gj_value **out, gj_graphson_version version, const char *text,
                        size_t len, unsigned max_depth, gj_error *err)
{
    if (out)
        *out = NULL;
    if (!out || (!text && len) || (version != GJ_GRAPHSON_V2 && version != GJ_GRAPHSON_V3))
        return gj__error_set(err, GJ_EINVAL, "gj__graphson_decode: bad arguments");
    if (len > INT32_MAX / 2)
        return gj__error_set(err, GJ_ETOOBIG, "GraphSON text of %zu bytes is too large", len);
    gs_ctx c = {.version = version, .err = err};
    c.max_depth = max_depth ? max_depth : GJ_GREMLIN_DEFAULT_MAX_DEPTH;
    if (c.max_depth > GJ_GREMLIN_MAX_MAX_DEPTH)
        c.max_depth = GJ_GREMLIN_MAX_MAX_DEPTH;

    big_scan bs;
    char marker[72], *copy = NULL;
    const char *parse = text ? text : "";
    size_t parse_len = len;
    int rc = scan_big_ints(parse, len, &bs);
    if (rc == 0 && bs.n) {
        unsigned k = 1;
        while (k < 64 && (bs.used >> k) & 1)
            k++;
        if (k == 64) {
            rc = gj__error_set(err, GJ_EUNSUPPORTED, "GraphSON text has integers beyond int64 "
                               "and too many kinds of real numbers to mark them");
        } else {
            marker[0] = '.';
            memset(marker + 1, '0', k);
            memcpy(marker + 1 + k, "e0", 3);
            c.marker = marker;
            c.marker_len = k + 3;
            parse_len = len + bs.n * c.marker_len;
            if (parse_len > INT32_MAX || !(copy = malloc(parse_len + 1))) {
                rc = gj__error_set(err, GJ_ENOMEM, "out of memory decoding GraphSON");
            } else {
                size_t from = 0, to = 0;
                for (size_t i = 0; i < bs.n; i++) {
                    memcpy(copy + to, parse + from, bs.end[i] - from);
                    to += bs.end[i] - from;
                    from = bs.end[i];
                    memcpy(copy + to, marker, c.marker_len);
                    to += c.marker_len;
                }
                memcpy(copy + to, parse + from, len - from);
                copy[parse_len] = '\0';
                parse = copy;
            }
        }
    } else if (rc == GJ_EPROTOCOL) {
        rc = gj__error_set(err, GJ_EPROTOCOL, "GraphSON text is not JSON: a number with leading "
                           "zeros at byte %zu", bs.bad_at);
    } else if (rc) {
        rc = gj__error_set(err, GJ_ENOMEM, "out of memory decoding GraphSON");
    }
    if (rc) {
        free(bs.end);
        return rc;
    }

    json_tokener *tok = json_tokener_new_ex((int)(2 * c.max_depth + 8));
    if (!tok) {
        free(bs.end);
        free(copy);
        return gj__error_set(err, GJ_ENOMEM, "out of memory decoding GraphSON");
    }
    int flags = JSON_TOKENER_STRICT;
#ifdef JSON_TOKENER_VALIDATE_UTF8
    flags |= JSON_TOKENER_VALIDATE_UTF8;
#endif
    json_tokener_set_flags(tok, flags);
    json_object *j = json_tokener_parse_ex(tok, parse, (int)parse_len);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    size_t offset = json_tokener_get_parse_end(tok);
    if (jerr == json_tokener_continue && parse_len) {
        /* A number at the very end may go on: a NUL ends it. */
        j = json_tokener_parse_ex(tok, "", 1);
        jerr = json_tokener_get_error(tok) == json_tokener_success ? json_tokener_success
                                                                   : json_tokener_continue;
        offset = parse_len;
    }
    /* Offsets in the marked copy back to the text. */
    size_t text_offset = offset;
    for (size_t i = 0; i < bs.n && bs.end[i] + (i + 1) * c.marker_len <= offset; i++)
        text_offset -= c.marker_len;
    if (jerr == json_tokener_continue) {
        rc = gj__error_set(err, GJ_EPROTOCOL, "GraphSON text ends too early (%zu bytes)", len);
    } else if (jerr != json_tokener_success) {
        rc = gj__error_set(err, GJ_EPROTOCOL, "GraphSON text is not JSON: %s at byte %zu",
                           json_tokener_error_desc(jerr), text_offset);
    } else {
        while (offset < parse_len && strchr(" \t\r\n", parse[offset]))
            offset++;
        if (offset < parse_len)
            rc = gj__error_set(err, GJ_EPROTOCOL, "GraphSON text has more after its value, at byte %zu",
                               text_offset);
    }
    if (rc == 0)
        rc = convert(&c, j, NULL, 0, out);
    json_object_put(j);
    json_tokener_free(tok);
    free(bs.end);
    free(copy);
    return rc;
}
