/* cypher.c — runs the queries of bolt-refserver's repertoire (parsed by
 * cypher_parse.c) against the store: expressions, RETURN / UNWIND / CREATE /
 * MATCH / DELETE / sleep, access mode and follower checks. */
#include "cypher.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ======================================================================
 * Evaluation
 * ====================================================================== */
typedef struct binding {
    const char *names[4];
    gj_value *values[4];         /* borrowed */
    size_t n;
} binding;

typedef struct eval_ctx {
    const bs_query_ctx *q;
    bs_failure *fail;
    uint64_t tx;
} eval_ctx;

static const gj_value *bound(const binding *b, const char *name)
{
    for (size_t i = 0; b && i < b->n; i++)
        if (!strcmp(b->names[i], name))
            return b->values[i];
    return NULL;
}

static gj_value *eval(const eval_ctx *c, const expr *e, const binding *b);

static gj_value *eval_fail(const eval_ctx *c, const char *code, const char *gql, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static gj_value *eval_fail(const eval_ctx *c, const char *code, const char *gql, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->fail->message, sizeof c->fail->message, fmt, ap);
    va_end(ap);
    c->fail->code = code;
    c->fail->gql = gql;
    return NULL;
}

/* VECTOR(value, dimension, coordinateType) (Neo4j 2025.10+): value a list
 * of numbers, coordinateType a name (INTEGER8 ... FLOAT). */
static gj_value *eval_vector(const eval_ctx *c, const expr *e, const binding *b)
{
    static const struct { const char *name; gj_vector_type t; } names[] = {
        { "INT8", GJ_VECTOR_INT8 }, { "INTEGER8", GJ_VECTOR_INT8 }, { "INT16", GJ_VECTOR_INT16 },
        { "INTEGER16", GJ_VECTOR_INT16 }, { "INT32", GJ_VECTOR_INT32 }, { "INTEGER32", GJ_VECTOR_INT32 },
        { "INT64", GJ_VECTOR_INT64 }, { "INTEGER64", GJ_VECTOR_INT64 }, { "INTEGER", GJ_VECTOR_INT64 },
        { "INT", GJ_VECTOR_INT64 }, { "FLOAT32", GJ_VECTOR_FLOAT32 }, { "FLOAT64", GJ_VECTOR_FLOAT64 },
        { "FLOAT", GJ_VECTOR_FLOAT64 },
    };
    if (e->items[2]->kind != E_VAR)
        return eval_fail(c, "Neo.ClientError.Statement.SyntaxError", "42001",
                         "VECTOR() expects a coordinate type such as FLOAT32 as its third argument");
    gj_vector_type t = 0;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcasecmp(names[i].name, e->items[2]->name))
            t = names[i].t;
    if (!t)
        return eval_fail(c, "Neo.ClientError.Statement.SyntaxError", "42001", "Unknown vector coordinate type: %s",
                         e->items[2]->name);
    gj_value *list = eval(c, e->items[0], b);
    if (!list)
        return NULL;
    gj_value *dimv = eval(c, e->items[1], b);
    int64_t dims = -1;
    if (!dimv || gj_value_int_get(dimv, &dims) != 0 || gj_value_type(list) != GJ_TLIST ||
        (size_t)dims != gj_value_size(list) || dims < 1 || dims > 4096) {
        gj_value_unref(list);
        gj_value_unref(dimv);
        return eval_fail(c, "Neo.ClientError.Statement.ArgumentError", "22N00",
                         "VECTOR() needs a list of %lld numbers (1 to 4096)", (long long)dims);
    }
    gj_value_unref(dimv);
    size_t n = (size_t)dims;
    int64_t ints[4096];
    double floats[4096];
    int8_t i8[4096];
    int16_t i16[4096];
    int32_t i32[4096];
    float f32[4096];
    for (size_t i = 0; i < n; i++) {
        const gj_value *x = gj_value_list_at(list, i);
        double d = 0;
        int64_t iv = 0;
        if (gj_value_int_get(x, &iv) == 0)
            d = (double)iv;
        else if (gj_value_float_get(x, &d) == 0)
            iv = (int64_t)d;
        else {
            gj_value_unref(list);
            return eval_fail(c, "Neo.ClientError.Statement.TypeError", "22G03", "VECTOR() coordinates must be numbers");
        }
        ints[i] = iv;
        floats[i] = d;
        i8[i] = (int8_t)iv;
        i16[i] = (int16_t)iv;
        i32[i] = (int32_t)iv;
        f32[i] = (float)d;
    }
    gj_value_unref(list);
    const void *src = t == GJ_VECTOR_INT8 ? (const void *)i8 : t == GJ_VECTOR_INT16 ? (const void *)i16
                    : t == GJ_VECTOR_INT32 ? (const void *)i32 : t == GJ_VECTOR_INT64 ? (const void *)ints
                    : t == GJ_VECTOR_FLOAT32 ? (const void *)f32 : (const void *)floats;
    gj_value *v = NULL;
    if (gj_value_new_vector(&v, t, src, n) != 0)
        return eval_fail(c, "Neo.DatabaseError.General.UnknownError", "50N42", "out of memory");
    return v;
}

static gj_value *eval_func(const eval_ctx *c, const expr *e, const binding *b)
{
    if (!strcasecmp(e->name, "vector") && e->n == 3)
        return eval_vector(c, e, b);
    if (e->n != 1)
        return eval_fail(c, "Neo.ClientError.Statement.SyntaxError", "42001",
                         "Unknown function '%s' (or wrong number of arguments)", e->name);
    gj_value *arg = eval(c, e->items[0], b);
    if (!arg)
        return NULL;
    gj_value *out = NULL;
    gj_type t = gj_value_type(arg);
    if (!strcasecmp(e->name, "id") && (t == GJ_TNODE || t == GJ_TEDGE)) {
        out = gj_value_ref(gj_value_element_id(arg));
    } else if (!strcasecmp(e->name, "elementId") && (t == GJ_TNODE || t == GJ_TEDGE)) {
        out = gj_value_ref(gj_value_element_element_id(arg));
    } else if (!strcasecmp(e->name, "labels") && t == GJ_TNODE) {
        out = gj_value_ref(gj_value_node_labels(arg));
    } else if (!strcasecmp(e->name, "type") && t == GJ_TEDGE) {
        out = gj_value_ref(gj_value_edge_type(arg));
    } else if (!strcasecmp(e->name, "size") && (t == GJ_TLIST || t == GJ_TSTRING)) {
        size_t n = gj_value_size(arg);
        if (t == GJ_TSTRING) {
            const char *s;
            gj_value_string_get(arg, &s, &n);
            size_t cps = 0;
            for (size_t i = 0; i < n; i++)
                cps += ((unsigned char)s[i] & 0xC0) != 0x80;
            n = cps;
        }
        out = gj_value_int((int64_t)n);
    } else {
        gj_value_unref(arg);
        return eval_fail(c, "Neo.ClientError.Statement.TypeError", "22G03",
                         "Type mismatch or unknown function: %s()", e->name);
    }
    gj_value_unref(arg);
    return out ? out : gj_value_null();
}

static gj_value *eval(const eval_ctx *c, const expr *e, const binding *b)
{
    switch (e->kind) {
    case E_LIT:
        return gj_value_ref(e->lit);
    case E_PARAM: {
        const gj_value *v = gj_value_map_get(c->q->params, e->name);
        if (!v)
            return eval_fail(c, "Neo.ClientError.Statement.ParameterMissing", "42N51",
                             "Expected parameter(s): %s", e->name);
        return gj_value_ref(v);
    }
    case E_VAR: {
        const gj_value *v = bound(b, e->name);
        if (!v)
            return eval_fail(c, "Neo.ClientError.Statement.SyntaxError", "42N62",
                             "Variable `%s` not defined", e->name);
        return gj_value_ref(v);
    }
    case E_PROP: {
        const gj_value *v = bound(b, e->name);
        if (!v)
            return eval_fail(c, "Neo.ClientError.Statement.SyntaxError", "42N62",
                             "Variable `%s` not defined", e->name);
        const gj_value *props = gj_value_type(v) == GJ_TMAP ? v : gj_value_element_properties(v);
        const gj_value *x = props ? gj_value_map_get(props, e->key) : NULL;
        return x ? gj_value_ref(x) : gj_value_null();
    }
    case E_LIST: {
        gj_value *l;
        if (gj_value_new_list(&l, e->n) != 0)
            return NULL;
        for (size_t i = 0; i < e->n; i++) {
            gj_value *x = eval(c, e->items[i], b);
            if (!x) {
                gj_value_unref(l);
                return NULL;
            }
            gj_value_list_append(l, x);
        }
        return l;
    }
    case E_MAP: {
        gj_value *m;
        if (gj_value_new_map(&m, e->n) != 0)
            return NULL;
        for (size_t i = 0; i < e->n; i++) {
            gj_value *x = eval(c, e->items[i], b);
            if (!x) {
                gj_value_unref(m);
                return NULL;
            }
            gj_value_map_put_str(m, e->keys[i], x);
        }
        return m;
    }
    case E_FUNC:
        return eval_func(c, e, b);
    }
    return NULL;
}

/* ======================================================================
 * Running queries
 * ====================================================================== */

static bool props_match(const eval_ctx *c, const expr *props, const gj_value *entity_props, const binding *b,
                        bool *failed)
{
    for (size_t i = 0; props && i < props->n; i++) {
        gj_value *want = eval(c, props->items[i], b);
        if (!want) {
            *failed = true;
            return false;
        }
        const gj_value *have = entity_props ? gj_value_map_get(entity_props, props->keys[i]) : NULL;
        bool eq = have && gj_value_equal(have, want);
        gj_value_unref(want);
        if (!eq)
            return false;
    }
    return true;
}

static bool node_matches(const eval_ctx *c, const node_pat *np, const bs_entity *e, const binding *b, bool *failed)
{
    if (e->is_rel)
        return false;
    for (size_t i = 0; i < np->n_labels; i++) {
        bool has = false;
        for (size_t k = 0; k < e->n_labels; k++)
            has |= !strcmp(e->labels[k], np->labels[i]);
        if (!has)
            return false;
    }
    return props_match(c, np->props, e->props, b, failed);
}

/* Property values Neo4j can store: no maps, nodes, ... */
static bool storable(const gj_value *v)
{
    switch (gj_value_type(v)) {
    case GJ_TTAGGED:
        return gj_value_is_vector(v);   /* Neo4j 2025.10+ stores vectors */
    case GJ_TMAP: case GJ_TNODE: case GJ_TEDGE: case GJ_TPATH: case GJ_TUUID:
        return false;
    case GJ_TLIST:
        for (size_t i = 0; i < gj_value_size(v); i++) {
            gj_type t = gj_value_type(gj_value_list_at(v, i));
            if (t == GJ_TLIST || t == GJ_TNULL || !storable(gj_value_list_at(v, i)))
                return false;
        }
        return true;
    default:
        return true;
    }
}

static gj_value *eval_props(const eval_ctx *c, const expr *props, bs_result *r)
{
    gj_value *m;
    gj_value_new_map(&m, props ? props->n : 0);
    for (size_t i = 0; props && i < props->n; i++) {
        gj_value *v = eval(c, props->items[i], NULL);
        if (!v) {
            gj_value_unref(m);
            return NULL;
        }
        if (gj_value_type(v) == GJ_TNULL) {
            gj_value_unref(v);
            continue;
        }
        if (!storable(v)) {
            bs_fail_set(c->fail, "Neo.ClientError.Statement.TypeError", "22N01",
                     "Property values can only be of primitive types or arrays thereof. "
                     "Encountered: %s.", gj_type_name(gj_value_type(v)));
            gj_value_unref(v);
            gj_value_unref(m);
            return NULL;
        }
        gj_value_map_put_str(m, props->keys[i], v);
        r->props_set++;
    }
    return m;
}

/* Rows of RETURN items for one binding (or the aggregate over all). */
static int project(const eval_ctx *c, query *q, bs_result *r, const binding *rows, size_t n_rows)
{
    bool aggregate = false;
    for (size_t i = 0; i < q->n_items; i++)
        aggregate |= q->items[i].e->kind == E_FUNC && !strcasecmp(q->items[i].e->name, "count");
    size_t out_rows = aggregate ? 1 : n_rows;
    for (size_t k = 0; k < out_rows; k++) {
        if (q->limit >= 0 && (int64_t)k >= q->limit)
            break;
        gj_value *row;
        gj_value_new_list(&row, q->n_items);
        for (size_t i = 0; i < q->n_items; i++) {
            const expr *e = q->items[i].e;
            gj_value *v;
            if (e->kind == E_FUNC && !strcasecmp(e->name, "count")) {
                size_t cnt = 0;
                for (size_t j = 0; j < n_rows; j++) {
                    if (e->star) {
                        cnt++;
                        continue;
                    }
                    gj_value *x = e->n == 1 ? eval(c, e->items[0], &rows[j]) : NULL;
                    if (!x) {
                        gj_value_unref(row);
                        return -1;
                    }
                    cnt += gj_value_type(x) != GJ_TNULL;
                    gj_value_unref(x);
                }
                v = gj_value_int((int64_t)cnt);
            } else {
                v = eval(c, e, aggregate ? NULL : &rows[k]);
            }
            if (!v) {
                gj_value_unref(row);
                return -1;
            }
            gj_value_list_append(row, v);
        }
        bs_result_add_row(r, row);
    }
    return 0;
}

static void set_fields(query *q, bs_result *r)
{
    for (size_t i = 0; i < q->n_items; i++)
        gj_value_list_append(r->fields, gj_value_string(q->items[i].name));
}

static int run_unwind(const eval_ctx *c, query *q, bs_result *r)
{
    const expr *src = q->source;
    if (q->n_items != 1 || q->items[0].e->kind != E_VAR || strcmp(q->items[0].e->name, q->unwind_var) != 0) {
        /* General form: materialize the list and project each element. */
        gj_value *list = eval(c, src, NULL);
        if (!list)
            return -1;
        if (gj_value_type(list) != GJ_TLIST) {
            gj_value_unref(list);
            bs_fail_set(c->fail, "Neo.ClientError.Statement.TypeError", "22G03", "UNWIND needs a list");
            return -1;
        }
        size_t n = gj_value_size(list);
        binding *bs = calloc(n ? n : 1, sizeof *bs);
        for (size_t i = 0; i < n; i++) {
            bs[i].names[0] = q->unwind_var;
            bs[i].values[0] = (gj_value *)gj_value_list_at(list, i);
            bs[i].n = 1;
        }
        int rc = project(c, q, r, bs, n);
        free(bs);
        gj_value_unref(list);
        return rc;
    }
    if (src->kind == E_FUNC && !strcasecmp(src->name, "range")) {
        int64_t a[3] = { 0, 0, 1 };
        if (src->n < 2 || src->n > 3) {
            bs_fail_set(c->fail, "Neo.ClientError.Statement.SyntaxError", "42001", "range() takes 2 or 3 arguments");
            return -1;
        }
        for (size_t i = 0; i < src->n; i++) {
            gj_value *v = eval(c, src->items[i], NULL);
            if (!v)
                return -1;
            int rc = gj_value_int_get(v, &a[i]);
            gj_value_unref(v);
            if (rc) {
                bs_fail_set(c->fail, "Neo.ClientError.Statement.TypeError", "22G03", "range() needs integers");
                return -1;
            }
        }
        if (a[2] == 0) {
            bs_fail_set(c->fail, "Neo.ClientError.Statement.ArgumentError", "22N00", "Step argument to range() can't be 0");
            return -1;
        }
        r->range = true;
        r->next = a[0];
        r->end = a[1];
        r->step = a[2];
        r->left = q->limit;
        r->range_done = (a[2] > 0 ? a[0] > a[1] : a[0] < a[1]) || q->limit == 0;
        return 0;
    }
    gj_value *list = eval(c, src, NULL);
    if (!list)
        return -1;
    if (gj_value_type(list) != GJ_TLIST) {
        gj_value_unref(list);
        bs_fail_set(c->fail, "Neo.ClientError.Statement.TypeError", "22G03", "UNWIND needs a list");
        return -1;
    }
    for (size_t i = 0; i < gj_value_size(list) && (q->limit < 0 || (int64_t)i < q->limit); i++) {
        gj_value *row;
        gj_value_new_list(&row, 1);
        gj_value_list_append(row, gj_value_ref(gj_value_list_at(list, i)));
        bs_result_add_row(r, row);
    }
    gj_value_unref(list);
    return 0;
}

static int run_create(const eval_ctx *c, query *q, bs_result *r)
{
    bs_store *s = &c->q->srv->store;
    const pattern *pat = &q->pat;
    gj_value *pa = eval_props(c, pat->a.props, r), *pb = NULL, *pr = NULL;
    if (!pa)
        return -1;
    if (pat->has_rel) {
        if (!pat->rel_type[0]) {
            gj_value_unref(pa);
            bs_fail_set(c->fail, "Neo.ClientError.Statement.SyntaxError", "42001",
                     "Exactly one relationship type must be specified for CREATE");
            return -1;
        }
        if (!(pb = eval_props(c, pat->b.props, r)) || !(pr = eval_props(c, pat->rel_props, r))) {
            gj_value_unref(pa);
            gj_value_unref(pb);
            return -1;
        }
    }
    const char *la[MAX_LABELS], *lb[MAX_LABELS];
    for (size_t i = 0; i < pat->a.n_labels; i++)
        la[i] = pat->a.labels[i];
    for (size_t i = 0; i < pat->b.n_labels; i++)
        lb[i] = pat->b.labels[i];
    pthread_mutex_lock(&s->lock);
    bs_entity *a = bs_store_add(s, false, la, pat->a.n_labels, 0, 0, pa, c->tx), *b = NULL, *rel = NULL;
    r->nodes_created++;
    r->labels_added += (long)pat->a.n_labels;
    if (pat->has_rel) {
        b = bs_store_add(s, false, lb, pat->b.n_labels, 0, 0, pb, c->tx);
        const char *type[1] = { pat->rel_type };
        if (a && b)
            rel = pat->dir > 0 ? bs_store_add(s, true, type, 1, a->id, b->id, pr, c->tx)
                               : bs_store_add(s, true, type, 1, b->id, a->id, pr, c->tx);
        r->nodes_created++;
        r->rels_created++;
        r->labels_added += (long)pat->b.n_labels;
    }
    gj_value *va = a ? bs_entity_value(a) : NULL, *vb = b ? bs_entity_value(b) : NULL;
    gj_value *vr = rel ? bs_entity_value(rel) : NULL;
    pthread_mutex_unlock(&s->lock);
    r->wrote = true;
    r->type = q->n_items ? "rw" : "w";
    binding bd = { { 0 }, { 0 }, 0 };
    if (pat->a.var[0]) {
        bd.names[bd.n] = pat->a.var;
        bd.values[bd.n++] = va;
    }
    if (pat->b.var[0] && vb) {
        bd.names[bd.n] = pat->b.var;
        bd.values[bd.n++] = vb;
    }
    if (pat->rel_var[0] && vr) {
        bd.names[bd.n] = pat->rel_var;
        bd.values[bd.n++] = vr;
    }
    int rc = q->n_items ? project(c, q, r, &bd, 1) : 0;
    gj_value_unref(va);
    gj_value_unref(vb);
    gj_value_unref(vr);
    return rc;
}

/* Cypher's comparison of two values: -1, 0, 1, or 2 when they are not
 * comparable (a null, different types: the result is null and the row is
 * dropped).  Integers and floats compare as numbers. */
static int compare_values(const gj_value *a, const gj_value *b)
{
    gj_type ta = gj_value_type(a), tb = gj_value_type(b);
    if (ta == GJ_TNULL || tb == GJ_TNULL)
        return 2;
    bool na = ta == GJ_TINT || ta == GJ_TFLOAT, nb = tb == GJ_TINT || tb == GJ_TFLOAT;
    if (na && nb) {
        if (ta == GJ_TINT && tb == GJ_TINT) {
            int64_t x = 0, y = 0;
            gj_value_int_get(a, &x);
            gj_value_int_get(b, &y);
            return x < y ? -1 : x > y;
        }
        double x = 0, y = 0;
        int64_t i = 0;
        if (ta == GJ_TINT && gj_value_int_get(a, &i) == 0)
            x = (double)i;
        else
            gj_value_float_get(a, &x);
        if (tb == GJ_TINT && gj_value_int_get(b, &i) == 0)
            y = (double)i;
        else
            gj_value_float_get(b, &y);
        if (x != x || y != y)
            return 2;   /* NaN */
        return x < y ? -1 : x > y;
    }
    if (ta != tb)
        return 2;
    if (ta == GJ_TSTRING) {
        const char *x, *y;
        size_t lx, ly;
        gj_value_string_get(a, &x, &lx);
        gj_value_string_get(b, &y, &ly);
        int c = memcmp(x, y, lx < ly ? lx : ly);
        if (c == 0)
            return lx < ly ? -1 : lx > ly;
        return c < 0 ? -1 : 1;
    }
    if (ta == GJ_TBOOL) {
        bool x = false, y = false;
        gj_value_bool_get(a, &x);
        gj_value_bool_get(b, &y);
        return x < y ? -1 : x > y;
    }
    return gj_value_equal(a, b) ? 0 : 2;
}

/* Does `lhs OP rhs` hold (true, not false or null)? */
static bool where_holds(const char *op, const gj_value *lhs, const gj_value *rhs)
{
    if (!op[0] || !strcmp(op, "=") || !strcmp(op, "<>")) {
        if (gj_value_type(lhs) == GJ_TNULL || gj_value_type(rhs) == GJ_TNULL)
            return false;
        int c = compare_values(lhs, rhs);
        bool eq = c == 0 || (c == 2 && gj_value_equal(lhs, rhs));
        return op[0] == '<' ? !eq : eq;
    }
    int c = compare_values(lhs, rhs);
    if (c == 2)
        return false;
    if (!strcmp(op, "<"))
        return c < 0;
    if (!strcmp(op, "<="))
        return c <= 0;
    if (!strcmp(op, ">"))
        return c > 0;
    return c >= 0;   /* ">=" */
}

static gj_value *path_value(gj_value *a, gj_value *rel, gj_value *b)
{
    gj_value *walk, *path;
    gj_value_new_list(&walk, 3);
    gj_value_list_append(walk, gj_value_ref(a));
    gj_value_list_append(walk, gj_value_ref(rel));
    gj_value_list_append(walk, gj_value_ref(b));
    if (gj_value_new_path(&path, walk, NULL) != 0)
        return NULL;
    return path;
}

static int run_match(const eval_ctx *c, query *q, bs_result *r)
{
    bs_store *s = &c->q->srv->store;
    const pattern *pat = &q->pat;
    binding *rows = NULL;
    size_t n = 0, cap = 0;
    gj_value **owned = NULL;
    size_t n_owned = 0, cap_owned = 0;
    bool failed = false;
    int rc = 0;
#define OWN(v) do { if (n_owned == cap_owned) { cap_owned = cap_owned ? 2 * cap_owned : 64; \
        owned = realloc(owned, cap_owned * sizeof *owned); if (!owned) abort(); } owned[n_owned++] = (v); } while (0)
#define ADD_ROW() do { if (n == cap) { cap = cap ? 2 * cap : 64; rows = realloc(rows, cap * sizeof *rows); \
        if (!rows) abort(); } memset(&rows[n], 0, sizeof rows[n]); n++; } while (0)

    pthread_mutex_lock(&s->lock);
    /* An unknown label or relationship type gives a notification. */
    const node_pat *nps[2] = { &pat->a, pat->has_rel ? &pat->b : NULL };
    for (int k = 0; k < 2 && !r->notify; k++)
        for (size_t l = 0; nps[k] && l < nps[k]->n_labels && !r->notify; l++) {
            bool known = false;
            for (size_t i = 0; i < s->n && !known; i++)
                for (size_t j = 0; !s->items[i]->is_rel && j < s->items[i]->n_labels && !known; j++)
                    known = !strcmp(s->items[i]->labels[j], nps[k]->labels[l]);
            if (!known) {
                r->notify = true;
                snprintf(r->notify_name, sizeof r->notify_name, "%s", nps[k]->labels[l]);
                r->notify_at = nps[k]->label_at[l];
            }
        }
    if (!r->notify && pat->has_rel && pat->rel_type[0]) {
        bool known = false;
        for (size_t i = 0; i < s->n && !known; i++)
            known = s->items[i]->is_rel && !strcmp(s->items[i]->labels[0], pat->rel_type);
        if (!known) {
            r->notify = r->notify_rel = true;
            snprintf(r->notify_name, sizeof r->notify_name, "%s", pat->rel_type);
            r->notify_at = pat->rel_type_at;
        }
    }
    for (size_t i = 0; i < s->n && !failed; i++) {
        bs_entity *e = s->items[i];
        if (!bs_entity_visible(e, c->tx))
            continue;
        if (!pat->has_rel) {
            if (!node_matches(c, &pat->a, e, NULL, &failed))
                continue;
            gj_value *v = bs_entity_value(e);
            OWN(v);
            ADD_ROW();
            binding *b = &rows[n - 1];
            b->names[0] = pat->a.var[0] ? pat->a.var : "_";
            b->values[0] = v;
            b->n = 1;
            continue;
        }
        if (!e->is_rel || (pat->rel_type[0] && strcmp(e->labels[0], pat->rel_type) != 0))
            continue;
        if (!props_match(c, pat->rel_props, e->props, NULL, &failed))
            continue;
        const bs_entity *from = bs_store_get(s, pat->dir > 0 ? e->start : e->end);
        const bs_entity *to = bs_store_get(s, pat->dir > 0 ? e->end : e->start);
        if (!from || !to || !bs_entity_visible(from, c->tx) || !bs_entity_visible(to, c->tx) ||
            !node_matches(c, &pat->a, from, NULL, &failed) || !node_matches(c, &pat->b, to, NULL, &failed))
            continue;
        gj_value *va = bs_entity_value(from), *vb = bs_entity_value(to), *vr = bs_entity_value(e);
        OWN(va);
        OWN(vb);
        OWN(vr);
        ADD_ROW();
        binding *b = &rows[n - 1];
        if (pat->a.var[0]) {
            b->names[b->n] = pat->a.var;
            b->values[b->n++] = va;
        }
        if (pat->b.var[0]) {
            b->names[b->n] = pat->b.var;
            b->values[b->n++] = vb;
        }
        if (pat->rel_var[0]) {
            b->names[b->n] = pat->rel_var;
            b->values[b->n++] = vr;
        }
        if (pat->path_var[0]) {
            gj_value *pv = path_value(va, vr, vb);
            OWN(pv);
            b->names[b->n] = pat->path_var;
            b->values[b->n++] = pv;
        }
    }
    pthread_mutex_unlock(&s->lock);
    if (failed) {
        rc = -1;
        goto out;
    }
    /* WHERE v.key OP expr */
    if (q->where_prop) {
        size_t w = 0;
        for (size_t i = 0; i < n; i++) {
            gj_value *lhs = eval(c, q->where_prop, &rows[i]), *rhs = lhs ? eval(c, q->where_value, &rows[i]) : NULL;
            if (!lhs || !rhs) {
                gj_value_unref(lhs);
                rc = -1;
                goto out;
            }
            if (where_holds(q->where_op, lhs, rhs))
                rows[w++] = rows[i];
            gj_value_unref(lhs);
            gj_value_unref(rhs);
        }
        n = w;
    }
    if (q->delete_) {
        /* Delete what the variable is bound to; DETACH also deletes relationships. */
        pthread_mutex_lock(&s->lock);
        for (size_t i = 0; i < n; i++) {
            const gj_value *v = bound(&rows[i], q->delete_var);
            int64_t id;
            if (!v || gj_value_int_get(gj_value_element_id(v), &id) != 0)
                continue;
            bs_entity *e = (bs_entity *)bs_store_get(s, id);
            if (!e || !bs_entity_visible(e, c->tx))
                continue;
            if (!e->is_rel) {
                bool attached = false;
                for (size_t k = 0; k < s->n; k++) {
                    bs_entity *x = s->items[k];
                    if (x->is_rel && bs_entity_visible(x, c->tx) && (x->start == id || x->end == id)) {
                        attached = true;
                        if (q->detach) {
                            bs_store_delete(s, x, c->tx);
                            r->rels_deleted++;
                        }
                    }
                }
                if (attached && !q->detach) {
                    pthread_mutex_unlock(&s->lock);
                    bs_fail_set(c->fail, "Neo.ClientError.Schema.ConstraintValidationFailed", "22N39",
                             "Cannot delete node<%" PRId64 ">, because it still has relationships. "
                             "To delete this node, you must first delete its relationships.", id);
                    rc = -1;
                    goto out;
                }
                r->nodes_deleted++;
            } else {
                r->rels_deleted++;
            }
            bs_store_delete(s, e, c->tx);
        }
        pthread_mutex_unlock(&s->lock);
        r->wrote = r->nodes_deleted || r->rels_deleted;
        r->type = "w";
    } else {
        rc = project(c, q, r, rows, n);
    }
out:
    for (size_t i = 0; i < n_owned; i++)
        gj_value_unref(owned[i]);
    free(owned);
    free(rows);
#undef OWN
#undef ADD_ROW
    return rc;
}

int bs_query_run(const bs_query_ctx *ctx, const char *text, size_t len, bs_result **out, bs_failure *fail)
{
    query *q = calloc(1, sizeof *q);
    if (!q)
        abort();
    int rc = bs_cypher_parse(q, text, len, fail);
    bs_result *r = NULL;
    if (!rc) {
        r = bs_result_new(text, len);
        r->explain = q->explain;
        r->profile = q->profile;
        set_fields(q, r);
        bool writes = q->kind == Q_CREATE || (q->kind == Q_MATCH && q->delete_);
        const bs_config *cfg = &ctx->srv->cfg;
        bool follower = cfg->members > 1 && !cfg->explicit_routing && ctx->session && ctx->session->member != 0;
        if (writes && (cfg->read_only || follower)) {
            bs_fail_set(fail, "Neo.ClientError.Cluster.NotALeader", "08N07",
                     "No write operations are allowed on this database. This is a read only Neo4j instance.");
            rc = -1;
        } else if (writes && ctx->read_mode) {
            bs_fail_set(fail, "Neo.ClientError.Statement.AccessMode", "08N07",
                     "Writing in read access mode not allowed. Attempted write to internal graph 0 (neo4j)");
            rc = -1;
        } else if (!q->explain) {
            eval_ctx c = { ctx, fail, ctx->tx };
            switch (q->kind) {
            case Q_RETURN:
                rc = project(&c, q, r, NULL, 1);
                break;
            case Q_UNWIND:
                rc = run_unwind(&c, q, r);
                break;
            case Q_CREATE:
                rc = run_create(&c, q, r);
                break;
            case Q_MATCH:
                rc = run_match(&c, q, r);
                break;
            case Q_SLEEP: {
                gj_value *ms = eval(&c, q->source, NULL);
                int64_t v = 0;
                if (!ms || gj_value_int_get(ms, &v) != 0 || v < 0) {
                    if (ms)
                        bs_fail_set(fail, "Neo.ClientError.Statement.TypeError", "22G03",
                                 "apoc.util.sleep needs a non-negative integer");
                    rc = -1;
                }
                gj_value_unref(ms);
                r->sleep_ms = (long)v;
                break;
            }
            }
        }
    }
    bs_cypher_query_free(q);
    free(q);
    if (rc) {
        bs_result_free(r);
        return -1;
    }
    *out = r;
    return 0;
}
