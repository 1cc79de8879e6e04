/* graph.c — TinkerPop's "modern" graph and the evaluation of a plan.
 *
 * The graph is TinkerFactory.createModern() as Gremlin Server's sample
 * configuration serves it (../shared/vectors/tinkerpop/graphs/
 * tinkerpop-modern-v3.json): vertices 1..6 (Int32 ids), edges 7..12 (Int32
 * ids, weight a Double), vertex property ids 0..11 (Int64).  Ids follow
 * TinkerGraph's INTEGER id manager: any number, or a string of digits, finds
 * the element of that id.
 *
 * A traversal is evaluated eagerly into a list of results: the source
 * (V(ids...), E(ids...), inject(values...)), then each step in order with
 * Gremlin's semantics (hasLabel filters elements, values() emits property
 * values, limit(n), count() a Long, unfold() flattens lists, sets and maps —
 * a map into one-entry maps, as Map.Entry serialises). */
#include "gs.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define N_VERTICES 6
#define N_EDGES 6

static gj_value *vertices[N_VERTICES];
static gj_value *edges[N_EDGES];

/* ---- building ------------------------------------------------------------------------ */

static gj_value *int32(int64_t i)
{
    gj_value *v = NULL;
    gj_value_new_int_bits(&v, i, 32);
    return v;
}

static gj_value *dbl(double d)
{
    gj_value *v = NULL;
    gj_value_new_float_bits(&v, d, 64);
    return v;
}

/* A g:VertexProperty {id (Int64), value, label}. */
static gj_value *vertex_property(int64_t id, const char *key, gj_value *value)
{
    gj_value *inner = NULL, *vp = NULL;
    if (gj_value_new_map(&inner, 3) != 0) {
        gj_value_unref(value);
        return NULL;
    }
    gj_value_map_put_str(inner, "id", gj_value_int(id));
    gj_value_map_put_str(inner, "value", value);
    gj_value_map_put_str(inner, "label", gj_value_string(key));
    if (gj_value_new_tagged(&vp, "g:VertexProperty", inner) != 0)
        return NULL;
    return vp;
}

static gj_value *one_item_list(gj_value *item)
{
    gj_value *l = NULL;
    if (gj_value_new_list(&l, 1) != 0) {
        gj_value_unref(item);
        return NULL;
    }
    gj_value_list_append(l, item);
    return l;
}

/* person: name + age; software: name + lang. */
static gj_value *make_vertex(int id, const char *label, const char *name, int64_t name_id,
                             const char *key2, gj_value *value2)
{
    gj_value *props = NULL, *v = NULL;
    if (gj_value_new_map(&props, 2) != 0) {
        gj_value_unref(value2);
        return NULL;
    }
    gj_value_map_put_str(props, "name", one_item_list(vertex_property(name_id, "name", gj_value_string(name))));
    gj_value_map_put_str(props, key2, one_item_list(vertex_property(name_id + 1, key2, value2)));
    if (gj_value_new_node(&v, int32(id), one_item_list(gj_value_string(label)), props) != 0)
        return NULL;
    return v;
}

static const char *vertex_label(int id)
{
    return (id == 3 || id == 5) ? "software" : "person";
}

static gj_value *make_edge(int id, const char *label, int out_v, int in_v, double weight)
{
    gj_value *props = NULL, *e = NULL;
    if (gj_value_new_map(&props, 1) != 0)
        return NULL;
    gj_value_map_put_str(props, "weight", dbl(weight));
    if (gj_value_new_edge(&e, int32(id), gj_value_string(label), int32(out_v), int32(in_v), props) != 0)
        return NULL;
    gj_value_edge_set_end_labels(e, gj_value_string(vertex_label(out_v)), gj_value_string(vertex_label(in_v)));
    return e;
}

int gs_graph_init(void)
{
    vertices[0] = make_vertex(1, "person", "marko", 0, "age", int32(29));
    vertices[1] = make_vertex(2, "person", "vadas", 2, "age", int32(27));
    vertices[2] = make_vertex(3, "software", "lop", 4, "lang", gj_value_string("java"));
    vertices[3] = make_vertex(4, "person", "josh", 6, "age", int32(32));
    vertices[4] = make_vertex(5, "software", "ripple", 8, "lang", gj_value_string("java"));
    vertices[5] = make_vertex(6, "person", "peter", 10, "age", int32(35));
    edges[0] = make_edge(7, "knows", 1, 2, 0.5);
    edges[1] = make_edge(8, "knows", 1, 4, 1.0);
    edges[2] = make_edge(9, "created", 1, 3, 0.4);
    edges[3] = make_edge(10, "created", 4, 5, 1.0);
    edges[4] = make_edge(11, "created", 4, 3, 0.4);
    edges[5] = make_edge(12, "created", 6, 3, 0.2);
    for (int i = 0; i < N_VERTICES; i++)
        if (!vertices[i] || !edges[i])
            return -1;
    return 0;
}

void gs_graph_free(void)
{
    for (int i = 0; i < N_VERTICES; i++) {
        gj_value_unref(vertices[i]);
        vertices[i] = NULL;
    }
    for (int i = 0; i < N_EDGES; i++) {
        gj_value_unref(edges[i]);
        edges[i] = NULL;
    }
}

/* ---- a growing list of results ---------------------------------------------------------- */

typedef struct stream {
    gj_value **items;
    size_t n, cap;
    bool oom;
} stream;

static void push(stream *s, const gj_value *v)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        gj_value **p = realloc(s->items, cap * sizeof *p);
        if (!p) {
            s->oom = true;
            return;
        }
        s->items = p;
        s->cap = cap;
    }
    s->items[s->n++] = gj_value_ref(v);
}

static void push_owned(stream *s, gj_value *v)
{
    if (!v) {
        s->oom = true;
        return;
    }
    push(s, v);
    gj_value_unref(v);
}

static void stream_clear(stream *s)
{
    for (size_t i = 0; i < s->n; i++)
        gj_value_unref(s->items[i]);
    free(s->items);
    memset(s, 0, sizeof *s);
}

static int fail(gs_eval_error *e, int code, const char *exception, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(gs_eval_error *e, int code, const char *exception, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
    e->code = code;
    e->exception = exception;
    return -1;
}

/* ---- variables and arguments ----------------------------------------------------------- */

const gj_value *gs_scope_get(const gs_scope *s, const char *name)
{
    const gj_value *v = s->bindings ? gj_value_map_get(s->bindings, name) : NULL;
    if (!v && s->session_vars)
        v = gj_value_map_get(s->session_vars, name);
    return v;
}

static int arg_value(const gs_arg *a, const gs_scope *scope, const gj_value **out, gs_eval_error *e)
{
    if (a->value) {
        *out = a->value;
        return 0;
    }
    *out = gs_scope_get(scope, a->name);
    if (!*out)
        return fail(e, GJ_GREMLIN_SERVER_ERROR_EVALUATION, "groovy.lang.MissingPropertyException",
                    "No such property: %s for class: Script1", a->name);
    return 0;
}

/* Gremlin Server's IteratorUtils.asIterator() on a script's value. */
static void iterate_value(stream *s, const gj_value *v)
{
    gj_type t = gj_value_type(v);
    if (t == GJ_TLIST || t == GJ_TSET) {
        for (size_t i = 0; i < gj_value_size(v); i++)
            push(s, gj_value_list_at(v, i));
    } else if (t == GJ_TMAP) {
        for (size_t i = 0; i < gj_value_size(v); i++) {
            gj_value *entry = NULL;
            if (gj_value_new_map(&entry, 1) != 0) {
                s->oom = true;
                return;
            }
            gj_value_map_put(entry, gj_value_ref(gj_value_map_key_at(v, i)),
                             gj_value_ref(gj_value_map_value_at(v, i)));
            push_owned(s, entry);
        }
    } else {
        push(s, v);
    }
}

/* ---- elements ------------------------------------------------------------------------------ */

static bool is_element(const gj_value *v)
{
    gj_type t = gj_value_type(v);
    return t == GJ_TNODE || t == GJ_TEDGE;
}

static const char *element_label(const gj_value *v)
{
    const char *s = NULL;
    size_t len;
    if (gj_value_type(v) == GJ_TNODE)
        gj_value_string_get(gj_value_list_at(gj_value_node_labels(v), 0), &s, &len);
    else
        gj_value_string_get(gj_value_edge_type(v), &s, &len);
    return s ? s : "";
}

static const char *java_class(const gj_value *v)
{
    switch (gj_value_type(v)) {
    case GJ_TNULL: return "null";
    case GJ_TBOOL: return "java.lang.Boolean";
    case GJ_TINT: return gj_value_int_bits(v) == 64 ? "java.lang.Long" : "java.lang.Integer";
    case GJ_TFLOAT: return gj_value_float_bits(v) == 32 ? "java.lang.Float" : "java.lang.Double";
    case GJ_TSTRING: return "java.lang.String";
    case GJ_TLIST: return "java.util.ArrayList";
    case GJ_TSET: return "java.util.LinkedHashSet";
    case GJ_TMAP: return "java.util.LinkedHashMap";
    case GJ_TUUID: return "java.util.UUID";
    default: return "java.lang.Object";
    }
}

/* The id an argument of V()/E() stands for (TinkerGraph's INTEGER id
 * manager): 1 when it is an id, 0 when nothing can have it. */
static int id_of(const gj_value *arg, int64_t *id, gs_eval_error *e)
{
    double d;
    const char *s;
    size_t len;
    if (is_element(arg))
        arg = gj_value_element_id(arg);
    if (gj_value_int_get(arg, id) == 0)
        return 1;
    if (gj_value_float_get(arg, &d) == 0) {
        *id = (int64_t)d;
        return 1;
    }
    if (gj_value_string_get(arg, &s, &len) == 0) {
        char *end;
        long long v = strtoll(s, &end, 10);
        if (len == 0 || *end || end != s + len)
            return fail(e, GJ_GREMLIN_SERVER_ERROR_EVALUATION, "java.lang.NumberFormatException",
                        "For input string: \"%s\"", s);
        *id = v;
        return 1;
    }
    return fail(e, GJ_GREMLIN_SERVER_ERROR_EVALUATION, "java.lang.IllegalArgumentException",
                "Expected an id that is convertible to Integer but received class %s", java_class(arg));
}

static int source_elements(stream *s, gj_value **all, size_t n_all, const gs_plan *p,
                           const gs_scope *scope, gs_eval_error *e)
{
    if (p->n_source_args == 0) {
        for (size_t i = 0; i < n_all; i++)
            push(s, all[i]);
        return 0;
    }
    for (size_t a = 0; a < p->n_source_args; a++) {
        const gj_value *v;
        if (arg_value(&p->source_args[a], scope, &v, e) != 0)
            return -1;
        bool many = gj_value_type(v) == GJ_TLIST || gj_value_type(v) == GJ_TSET;
        size_t n = many ? gj_value_size(v) : 1;
        for (size_t k = 0; k < n; k++) {
            int64_t id;
            int rc = id_of(many ? gj_value_list_at(v, k) : v, &id, e);
            if (rc < 0)
                return -1;
            for (size_t i = 0; i < n_all; i++) {
                int64_t have;
                gj_value_int_get(gj_value_element_id(all[i]), &have);
                if (have == id)
                    push(s, all[i]);
            }
        }
    }
    return 0;
}

static int step_has_label(stream *in, stream *out, const gs_step *st, const gs_scope *scope,
                          gs_eval_error *e)
{
    const char *labels[16];
    size_t n = 0;
    for (size_t a = 0; a < st->n_args && n < 16; a++) {
        const gj_value *v;
        size_t len;
        if (arg_value(&st->args[a], scope, &v, e) != 0)
            return -1;
        if (gj_value_string_get(v, &labels[n], &len) != 0)
            return fail(e, GJ_GREMLIN_SERVER_ERROR_EVALUATION, "groovy.lang.MissingMethodException",
                        "No signature of method: org.apache.tinkerpop.gremlin.process.traversal.dsl.graph."
                        "DefaultGraphTraversal.hasLabel() is applicable for argument types: (%s)",
                        java_class(v));
        n++;
    }
    for (size_t i = 0; i < in->n; i++) {
        const gj_value *v = in->items[i];
        if (!is_element(v))
            return fail(e, GJ_GREMLIN_SERVER_ERROR_EVALUATION, "java.lang.ClassCastException",
                        "class %s cannot be cast to class org.apache.tinkerpop.gremlin.structure.Element",
                        java_class(v));
        for (size_t k = 0; k < n; k++)
            if (!strcmp(element_label(v), labels[k])) {
                push(out, v);
                break;
            }
    }
    return 0;
}

static bool key_wanted(const gj_value *key, const char **keys, size_t n)
{
    const char *s;
    size_t len;
    if (n == 0)
        return true;
    if (gj_value_string_get(key, &s, &len) != 0)
        return false;
    for (size_t k = 0; k < n; k++)
        if (!strcmp(s, keys[k]))
            return true;
    return false;
}

static int step_values(stream *in, stream *out, const gs_step *st, const gs_scope *scope,
                       gs_eval_error *e)
{
    const char *keys[16];
    size_t n = 0;
    for (size_t a = 0; a < st->n_args && n < 16; a++) {
        const gj_value *v;
        size_t len;
        if (arg_value(&st->args[a], scope, &v, e) != 0)
            return -1;
        if (gj_value_string_get(v, &keys[n], &len) != 0)
            return fail(e, GJ_GREMLIN_SERVER_ERROR_EVALUATION, "groovy.lang.MissingMethodException",
                        "No signature of method: org.apache.tinkerpop.gremlin.process.traversal.dsl.graph."
                        "DefaultGraphTraversal.values() is applicable for argument types: (%s)",
                        java_class(v));
        n++;
    }
    for (size_t i = 0; i < in->n; i++) {
        const gj_value *v = in->items[i];
        if (!is_element(v))
            return fail(e, GJ_GREMLIN_SERVER_ERROR_EVALUATION, "java.lang.IllegalArgumentException",
                        "The provided traverser does not map to a value: %s", java_class(v));
        const gj_value *props = gj_value_element_properties(v);
        for (size_t k = 0; k < gj_value_size(props); k++) {
            if (!key_wanted(gj_value_map_key_at(props, k), keys, n))
                continue;
            const gj_value *pv = gj_value_map_value_at(props, k);
            if (gj_value_type(v) == GJ_TEDGE) {
                push(out, pv);
                continue;
            }
            for (size_t j = 0; j < gj_value_size(pv); j++) {   /* the vertex properties of a key */
                const char *tag;
                const gj_value *inner;
                if (gj_value_tagged_get(gj_value_list_at(pv, j), &tag, &inner) == 0)
                    push(out, gj_value_map_get(inner, "value"));
            }
        }
    }
    return 0;
}

static int step_limit(stream *in, stream *out, const gs_step *st, const gs_scope *scope,
                      gs_eval_error *e)
{
    const gj_value *v;
    int64_t n;
    if (st->n_args != 1 || arg_value(&st->args[0], scope, &v, e) != 0)
        return st->n_args != 1 ? fail(e, GJ_GREMLIN_SERVER_ERROR_EVALUATION,
                                      "groovy.lang.MissingMethodException",
                                      "No signature of method: limit() is applicable for these arguments")
                               : -1;
    if (gj_value_int_get(v, &n) != 0)
        return fail(e, GJ_GREMLIN_SERVER_ERROR_EVALUATION, "groovy.lang.MissingMethodException",
                    "No signature of method: org.apache.tinkerpop.gremlin.process.traversal.dsl.graph."
                    "DefaultGraphTraversal.limit() is applicable for argument types: (%s)", java_class(v));
    for (size_t i = 0; i < in->n && (n < 0 || (int64_t)i < n); i++)
        push(out, in->items[i]);
    return 0;
}

int gs_plan_eval(const gs_plan *p, const gs_scope *scope, gj_value **items, gs_eval_error *e)
{
    stream cur = {0};
    *items = NULL;
    if (p->kind == GS_PLAN_VARIABLE) {
        const gj_value *v = gs_scope_get(scope, p->name);
        if (!v)
            return fail(e, GJ_GREMLIN_SERVER_ERROR_EVALUATION, "groovy.lang.MissingPropertyException",
                        "No such property: %s for class: Script1", p->name);
        iterate_value(&cur, v);
    } else if (p->kind == GS_PLAN_ASSIGN) {
        const gj_value *v;
        if (arg_value(&p->value, scope, &v, e) != 0)
            return -1;
        iterate_value(&cur, v);
    } else {
        int rc = 0;
        if (p->source == GS_SOURCE_V)
            rc = source_elements(&cur, vertices, N_VERTICES, p, scope, e);
        else if (p->source == GS_SOURCE_E)
            rc = source_elements(&cur, edges, N_EDGES, p, scope, e);
        else
            for (size_t a = 0; rc == 0 && a < p->n_source_args; a++) {
                const gj_value *v;
                rc = arg_value(&p->source_args[a], scope, &v, e);
                if (rc == 0)
                    push(&cur, v);
            }
        for (size_t i = 0; rc == 0 && i < p->n_steps; i++) {
            const gs_step *st = &p->steps[i];
            stream next = {0};
            switch (st->kind) {
            case GS_STEP_HAS_LABEL: rc = step_has_label(&cur, &next, st, scope, e); break;
            case GS_STEP_VALUES: rc = step_values(&cur, &next, st, scope, e); break;
            case GS_STEP_LIMIT: rc = step_limit(&cur, &next, st, scope, e); break;
            case GS_STEP_COUNT: push_owned(&next, gj_value_int((int64_t)cur.n)); break;
            case GS_STEP_UNFOLD:
                for (size_t k = 0; k < cur.n; k++)
                    iterate_value(&next, cur.items[k]);
                break;
            }
            next.oom |= cur.oom;
            stream_clear(&cur);
            cur = next;
        }
        if (rc != 0) {
            stream_clear(&cur);
            return -1;
        }
    }
    gj_value *list = NULL;
    if (cur.oom || gj_value_new_list(&list, cur.n) != 0) {
        stream_clear(&cur);
        return fail(e, GJ_GREMLIN_SERVER_ERROR, "java.lang.OutOfMemoryError", "Java heap space");
    }
    for (size_t i = 0; i < cur.n; i++)
        gj_value_list_append(list, gj_value_ref(cur.items[i]));
    stream_clear(&cur);
    *items = list;
    return 0;
}
