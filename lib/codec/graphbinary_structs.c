/*
 * GraphBinary 1.0 decoder, the structured types (see graphbinary.h and
 * docs/gremlin-types.md): properties, vertex properties, vertices, edges,
 * paths, TinkerGraphs, and the traversal types Bytecode, P/TextP, Tree,
 * Metrics and TraversalMetrics.  Each reads its fields after the type code
 * and flag, calling gj__gb_read_value() with depth + 1 for the fully
 * qualified ones.  Vertex and edge properties go straight into their maps,
 * without intermediate tagged values.
 */
#include "codec/graphbinary_internal.h"

#include <string.h>

/* A Property's fields {key}{value}{parent} (r->pos after its code and
 * flag); *parent is NULL when the wire has null. */
static int read_property_fields(gj_gb_reader *r, unsigned depth, gj_value **key,
                                gj_value **value, gj_value **parent, gj_error *err)
{
    *key = *value = *parent = NULL;
    int rc = gj__gbd_string(r, "Property key", key, err);
    if (rc == 0)
        rc = gj__gb_read_value(r, depth + 1, value, err);
    if (rc == 0)
        rc = gj__gb_read_value(r, depth + 1, parent, err);
    if (rc) {
        gj_value_unref(*key);
        gj_value_unref(*value);
        *key = *value = NULL;
        return rc;
    }
    if (gj_value_type(*parent) == GJ_TNULL)
        *parent = NULL;
    return 0;
}

static const char *const property_keys[] = {"key", "value", "parent"};

/* A Property read into map[key]: the value alone, or the whole property as a
 * tagged value {key, value[, parent]} when its parent is not null or its
 * value is itself a g:Property (the encoders take a g:Property under its
 * own key as the property itself, and anything else as its value). */
static int read_property_into(gj_gb_reader *r, size_t at, unsigned depth, gj_value *map,
                              gj_error *err)
{
    gj_value *key, *value, *parent;
    int rc = read_property_fields(r, depth, &key, &value, &parent, err);
    if (rc)
        return rc;
    if (parent || gj__gt_is_tagged(value, "g:Property")) {
        gj_value *vals[] = {gj_value_ref(key), value, parent};
        if ((rc = gj__gbd_tagged_fields("g:Property", at, 3, property_keys, vals, &value, err)) != 0) {
            gj_value_unref(key);
            return rc;
        }
    }
    return gj_value_map_put(map, key, value) ? gj__gbd_nomem(err, "properties") : 0;
}

/* n fully qualified Property items (each at depth) into map. */
static int read_property_items(gj_gb_reader *r, size_t n, unsigned depth, const char *what,
                               gj_value *map, gj_error *err)
{
    for (size_t i = 0; i < n; i++) {
        size_t at = r->pos;
        if (depth > gj__gbd_max_depth(r))
            return gj__gbd_too_deep(r, at, err);
        if (gj__gbd_left(r) < 2)
            return gj__gbd_truncated(r, at, what, 2, err);
        uint8_t code = r->data[r->pos], flag = r->data[r->pos + 1];
        if (code != GJ_GB_PROPERTY || flag != GJ_GB_FLAG_VALUE)
            return gj__gbd_protocol(err, "GraphBinary %s item at byte %zu is a %s%s, expected a Property",
                            what, at, gj__gb_type_name(code) ? gj__gb_type_name(code) : "value of unknown type",
                            flag == GJ_GB_FLAG_NULL ? " null" : "");
        r->pos += 2;
        int rc = read_property_into(r, at, depth, map, err);
        if (rc)
            return rc;
    }
    return 0;
}

/* Fully qualified properties of an element: null (*out = NULL) or a List of
 * Property (*out = a map key -> value).  The list is at depth. */
static int read_properties(gj_gb_reader *r, unsigned depth, const char *what, gj_value **out,
                           gj_error *err)
{
    *out = NULL;
    size_t at = r->pos;
    if (depth > gj__gbd_max_depth(r))
        return gj__gbd_too_deep(r, at, err);
    if (gj__gbd_left(r) < 2)
        return gj__gbd_truncated(r, at, what, 2, err);
    uint8_t code = r->data[r->pos], flag = r->data[r->pos + 1];
    if (flag == GJ_GB_FLAG_NULL && code != GJ_GB_CUSTOM && gj__gb_type_name(code)) {
        r->pos += 2;
        return 0;
    }
    if (code != GJ_GB_LIST || flag != GJ_GB_FLAG_VALUE)
        return gj__gbd_protocol(err, "GraphBinary %s at byte %zu is not a List of Property or null "
                        "(type code 0x%02X, flag 0x%02X)", what, at, code, flag);
    r->pos += 2;
    size_t n;
    int rc = gj__gbd_count(r, what, 10, &n, err);
    if (rc)
        return rc;
    gj_value *map;
    if ((rc = gj__gbd_new_map(&map, n, err)) != 0)
        return rc;
    if ((rc = read_property_items(r, n, depth + 1, what, map, err)) != 0) {
        gj_value_unref(map);
        return rc;
    }
    *out = map;
    return 0;
}

/* The fields of a VertexProperty after its code and flag (graph_format: the
 * TinkerGraph layout, whose properties are a value-only List).  *out is the
 * tagged "g:VertexProperty" value. */
int gj__gbd_read_vertex_property_body(gj_gb_reader *r, size_t at, unsigned depth,
                                     bool graph_format, gj_value **out, gj_error *err)
{
    gj_value *id = NULL, *label = NULL, *value = NULL, *parent = NULL, *props = NULL;
    int rc = gj__gb_read_value(r, depth + 1, &id, err);
    if (rc == 0)
        rc = gj__gbd_string(r, "VertexProperty label", &label, err);
    if (rc == 0)
        rc = gj__gb_read_value(r, depth + 1, &value, err);
    if (rc == 0)
        rc = gj__gb_read_value(r, depth + 1, &parent, err);
    if (rc == 0 && graph_format) {
        size_t n;
        if ((rc = gj__gbd_count(r, "VertexProperty properties", 10, &n, err)) == 0 &&
            (rc = gj__gbd_new_map(&props, n, err)) == 0)
            rc = read_property_items(r, n, depth + 1, "VertexProperty properties", props, err);
    } else if (rc == 0) {
        rc = read_properties(r, depth + 1, "VertexProperty properties", &props, err);
    }
    if (gj_value_type(parent) == GJ_TNULL)
        parent = NULL;
    static const char *const keys[] = {"id", "value", "label", "properties", "parent"};
    gj_value *vals[] = {id, value, label, props, parent};
    if (rc) {
        for (size_t i = 0; i < 5; i++)
            gj_value_unref(vals[i]);
        return rc;
    }
    return gj__gbd_tagged_fields("g:VertexProperty", at, 5, keys, vals, out, err);
}

/* Add a tagged VertexProperty to props[label] (a list per label). */
static int group_vertex_property(gj_value *props, gj_value *vp, size_t at, gj_error *err)
{
    const gj_value *inner = NULL;
    const char *tag, *label;
    size_t len;
    gj_value_tagged_get(vp, &tag, &inner);
    gj_value_string_get(gj_value_map_get(inner, "label"), &label, &len);
    if (strlen(label) != len) {
        gj_value_unref(vp);
        return gj__gbd_protocol(err, "GraphBinary VertexProperty at byte %zu has a label with a NUL byte",
                        at);
    }
    gj_value *list = (gj_value *)gj_value_map_get(props, label);
    if (list)
        return gj_value_list_append(list, vp) ? gj__gbd_nomem(err, "Vertex properties") : 0;
    if (gj_value_new_list(&list, 1) != 0) {
        gj_value_unref(vp);
        return gj__gbd_nomem(err, "Vertex properties");
    }
    if (gj_value_list_append(list, vp) != 0) {
        gj_value_unref(list);
        return gj__gbd_nomem(err, "Vertex properties");
    }
    return gj__gbd_put_field(props, label, list, err);
}

/* n VertexProperty items, each at depth: fully qualified (graph_format:
 * without code and flag), grouped into props by label. */
static int read_vertex_properties(gj_gb_reader *r, size_t n, unsigned depth, bool graph_format,
                                  gj_value *props, gj_error *err)
{
    for (size_t i = 0; i < n; i++) {
        size_t at = r->pos;
        if (depth > gj__gbd_max_depth(r))
            return gj__gbd_too_deep(r, at, err);
        if (!graph_format) {
            if (gj__gbd_left(r) < 2)
                return gj__gbd_truncated(r, at, "Vertex properties", 2, err);
            uint8_t code = r->data[r->pos], flag = r->data[r->pos + 1];
            if (code != GJ_GB_VERTEX_PROPERTY || flag != GJ_GB_FLAG_VALUE)
                return gj__gbd_protocol(err, "GraphBinary Vertex property at byte %zu is not a "
                                "VertexProperty (type code 0x%02X, flag 0x%02X)", at, code, flag);
            r->pos += 2;
        }
        gj_value *vp;
        int rc = gj__gbd_read_vertex_property_body(r, at, depth, graph_format, &vp, err);
        if (rc == 0)
            rc = group_vertex_property(props, vp, at, err);
        if (rc)
            return rc;
    }
    return 0;
}

int gj__gbd_read_vertex(gj_gb_reader *r, size_t at, unsigned depth, gj_value **out, gj_error *err)
{
    gj_value *id = NULL, *label = NULL, *labels = NULL, *props = NULL;
    int rc = gj__gb_read_value(r, depth + 1, &id, err);
    if (rc == 0)
        rc = gj__gbd_string(r, "Vertex label", &label, err);
    if (rc == 0) {
        if (gj_value_new_list(&labels, 1) != 0)
            rc = gj__gbd_nomem(err, "Vertex");
        else if (gj_value_list_append(labels, label) != 0)
            rc = gj__gbd_nomem(err, "Vertex");
        label = NULL;
    }
    if (rc == 0) {
        size_t pat = r->pos;
        if (gj__gbd_left(r) < 2) {
            rc = gj__gbd_truncated(r, pat, "Vertex properties", 2, err);
        } else if (depth + 1 > gj__gbd_max_depth(r)) {
            rc = gj__gbd_too_deep(r, pat, err);
        } else {
            uint8_t code = r->data[r->pos], flag = r->data[r->pos + 1];
            size_t n;
            if (flag == GJ_GB_FLAG_NULL && code != GJ_GB_CUSTOM && gj__gb_type_name(code)) {
                r->pos += 2;
            } else if (code != GJ_GB_LIST || flag != GJ_GB_FLAG_VALUE) {
                rc = gj__gbd_protocol(err, "GraphBinary Vertex properties at byte %zu are not a List of "
                              "VertexProperty or null (type code 0x%02X, flag 0x%02X)", pat, code,
                              flag);
            } else {
                r->pos += 2;
                if ((rc = gj__gbd_count(r, "Vertex properties", 14, &n, err)) == 0 &&
                    (rc = gj__gbd_new_map(&props, n, err)) == 0)
                    rc = read_vertex_properties(r, n, depth + 2, false, props, err);
            }
        }
    }
    gj_value_unref(label);
    if (rc) {
        gj_value_unref(id);
        gj_value_unref(labels);
        gj_value_unref(props);
        return rc;
    }
    rc = gj_value_new_node(out, id, labels, props);
    return rc ? gj__gbd_refused(rc, at, "Vertex", err) : 0;
}

/* An edge's end label: a String value (standard) or a fully qualified String
 * or null (graph layout). */
static int read_end_label(gj_gb_reader *r, unsigned depth, bool graph_format, const char *what,
                          gj_value **out, gj_error *err)
{
    if (!graph_format)
        return gj__gbd_string(r, what, out, err);
    size_t at = r->pos;
    int rc = gj__gb_read_value(r, depth + 1, out, err);
    if (rc)
        return rc;
    if (gj_value_type(*out) == GJ_TNULL) {
        *out = NULL;
        return 0;
    }
    if (gj_value_type(*out) != GJ_TSTRING) {
        gj_value_unref(*out);
        *out = NULL;
        return gj__gbd_protocol(err, "GraphBinary %s at byte %zu is not a String", what, at);
    }
    return 0;
}

int gj__gbd_read_edge(gj_gb_reader *r, size_t at, unsigned depth, bool graph_format,
                     gj_value **out, gj_error *err)
{
    gj_value *id = NULL, *label = NULL, *in_id = NULL, *in_label = NULL, *out_id = NULL,
             *out_label = NULL, *parent = NULL, *props = NULL;
    int rc = gj__gb_read_value(r, depth + 1, &id, err);
    if (rc == 0)
        rc = gj__gbd_string(r, "Edge label", &label, err);
    if (rc == 0)
        rc = gj__gb_read_value(r, depth + 1, &in_id, err);
    if (rc == 0)
        rc = read_end_label(r, depth, graph_format, "Edge inVLabel", &in_label, err);
    if (rc == 0)
        rc = gj__gb_read_value(r, depth + 1, &out_id, err);
    if (rc == 0)
        rc = read_end_label(r, depth, graph_format, "Edge outVLabel", &out_label, err);
    size_t parent_at = r->pos;
    if (rc == 0)
        rc = gj__gb_read_value(r, depth + 1, &parent, err);
    if (rc == 0 && gj_value_type(parent) != GJ_TNULL)
        rc = gj__gbd_protocol(err, "GraphBinary Edge parent at byte %zu is not null", parent_at);
    gj_value_unref(parent);
    if (rc == 0 && graph_format) {
        size_t n;
        if ((rc = gj__gbd_count(r, "Edge properties", 10, &n, err)) == 0 &&
            (rc = gj__gbd_new_map(&props, n, err)) == 0)
            rc = read_property_items(r, n, depth + 1, "Edge properties", props, err);
    } else if (rc == 0) {
        rc = read_properties(r, depth + 1, "Edge properties", &props, err);
    }
    if (rc) {
        gj_value *all[] = {id, label, in_id, in_label, out_id, out_label, props};
        for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
            gj_value_unref(all[i]);
        return rc;
    }
    rc = gj_value_new_edge(out, id, label, out_id, in_id, props);
    if (rc == 0 && (in_label || out_label)) {
        rc = gj_value_edge_set_end_labels(*out, out_label, in_label);
        in_label = out_label = NULL;
    }
    gj_value_unref(in_label);
    gj_value_unref(out_label);
    if (rc) {
        gj_value_unref(*out);
        *out = NULL;
        return gj__gbd_refused(rc, at, "Edge", err);
    }
    return 0;
}

int gj__gbd_read_path(gj_gb_reader *r, size_t at, unsigned depth, gj_value **out, gj_error *err)
{
    gj_value *labels = NULL, *objects = NULL;
    int rc = gj__gb_read_value(r, depth + 1, &labels, err);
    if (rc == 0)
        rc = gj__gb_read_value(r, depth + 1, &objects, err);
    if (rc == 0 && ((gj_value_type(labels) != GJ_TLIST && gj_value_type(labels) != GJ_TNULL) ||
                    gj_value_type(objects) != GJ_TLIST))
        rc = gj__gbd_protocol(err, "GraphBinary Path at byte %zu: labels and objects must be Lists", at);
    for (size_t i = 0; rc == 0 && i < gj_value_size(labels); i++) {
        gj_type t = gj_value_type(gj_value_list_at(labels, i));
        if (t != GJ_TSET && t != GJ_TLIST)
            rc = gj__gbd_protocol(err, "GraphBinary Path at byte %zu: labels item %zu is not a Set", at, i);
    }
    if (rc) {
        gj_value_unref(labels);
        gj_value_unref(objects);
        return rc;
    }
    if (gj_value_type(labels) == GJ_TNULL)
        labels = NULL;
    rc = gj_value_new_path(out, objects, labels);
    return rc ? gj__gbd_refused(rc, at, "Path", err) : 0;
}

int gj__gbd_read_graph(gj_gb_reader *r, size_t at, unsigned depth, gj_value **out, gj_error *err)
{
    gj_value *vertices = NULL, *edges = NULL;
    size_t nv = 0, ne = 0;
    int rc = gj__gbd_count(r, "TinkerGraph vertices", 10, &nv, err);
    if (rc == 0 && gj_value_new_list(&vertices, nv) != 0)
        rc = gj__gbd_nomem(err, "TinkerGraph");
    for (size_t i = 0; rc == 0 && i < nv; i++) {
        size_t vat = r->pos;
        gj_value *id = NULL, *label = NULL, *labels = NULL, *props = NULL, *node = NULL;
        size_t np;
        if (depth + 1 > gj__gbd_max_depth(r))
            rc = gj__gbd_too_deep(r, vat, err);
        if (rc == 0)
            rc = gj__gb_read_value(r, depth + 2, &id, err);
        if (rc == 0)
            rc = gj__gbd_string(r, "TinkerGraph vertex label", &label, err);
        if (rc == 0 && (gj_value_new_list(&labels, 1) != 0 ||
                        gj_value_list_append(labels, gj_value_ref(label)) != 0))
            rc = gj__gbd_nomem(err, "TinkerGraph");
        if (rc == 0 && (rc = gj__gbd_count(r, "TinkerGraph vertex properties", 12, &np, err)) == 0 &&
            (rc = gj__gbd_new_map(&props, np, err)) == 0)
            rc = read_vertex_properties(r, np, depth + 2, true, props, err);
        gj_value_unref(label);
        if (rc == 0) {
            rc = gj_value_new_node(&node, id, labels, props);
            id = labels = props = NULL;
            if (rc)
                rc = gj__gbd_refused(rc, vat, "TinkerGraph vertex", err);
        }
        if (rc == 0 && gj_value_list_append(vertices, node) != 0)
            rc = gj__gbd_nomem(err, "TinkerGraph");
        gj_value_unref(id);
        gj_value_unref(labels);
        gj_value_unref(props);
    }
    if (rc == 0)
        rc = gj__gbd_count(r, "TinkerGraph edges", 20, &ne, err);
    if (rc == 0 && gj_value_new_list(&edges, ne) != 0)
        rc = gj__gbd_nomem(err, "TinkerGraph");
    for (size_t i = 0; rc == 0 && i < ne; i++) {
        size_t eat = r->pos;
        gj_value *edge = NULL;
        if (depth + 1 > gj__gbd_max_depth(r))
            rc = gj__gbd_too_deep(r, eat, err);
        if (rc == 0)
            rc = gj__gbd_read_edge(r, eat, depth + 1, true, &edge, err);
        if (rc == 0 && gj_value_list_append(edges, edge) != 0)
            rc = gj__gbd_nomem(err, "TinkerGraph");
    }
    static const char *const keys[] = {"vertices", "edges"};
    gj_value *vals[] = {vertices, edges};
    if (rc) {
        gj_value_unref(vertices);
        gj_value_unref(edges);
        return rc;
    }
    return gj__gbd_tagged_fields("tinker:graph", at, 2, keys, vals, out, err);
}

/* {name}{values_length}{value...}: a Bytecode instruction as [name, values...]. */
static int read_instruction(gj_gb_reader *r, unsigned depth, gj_value **out, gj_error *err)
{
    gj_value *name = NULL, *list = NULL;
    size_t n;
    int rc = gj__gbd_string(r, "Bytecode instruction", &name, err);
    if (rc == 0)
        rc = gj__gbd_count(r, "Bytecode arguments", 2, &n, err);
    if (rc == 0 && gj_value_new_list(&list, n + 1) != 0)
        rc = gj__gbd_nomem(err, "Bytecode");
    if (rc == 0) {
        if (gj_value_list_append(list, name) != 0)
            rc = gj__gbd_nomem(err, "Bytecode");
    } else {
        gj_value_unref(name);
    }
    for (size_t i = 0; rc == 0 && i < n; i++) {
        gj_value *arg;
        rc = gj__gb_read_value(r, depth + 1, &arg, err);
        if (rc == 0 && gj_value_list_append(list, arg) != 0)
            rc = gj__gbd_nomem(err, "Bytecode");
    }
    if (rc) {
        gj_value_unref(list);
        return rc;
    }
    *out = list;
    return 0;
}

int gj__gbd_read_bytecode(gj_gb_reader *r, size_t at, unsigned depth, gj_value **out,
                         gj_error *err)
{
    static const char *const keys[2] = {"step", "source"};
    gj_value *inner = NULL;
    int rc = gj__gbd_new_map(&inner, 2, err);
    for (int part = 0; rc == 0 && part < 2; part++) {
        size_t n;
        gj_value *list = NULL;
        rc = gj__gbd_count(r, part ? "Bytecode sources" : "Bytecode steps", 8, &n, err);
        if (rc == 0 && gj_value_new_list(&list, n) != 0)
            rc = gj__gbd_nomem(err, "Bytecode");
        for (size_t i = 0; rc == 0 && i < n; i++) {
            gj_value *inst;
            rc = read_instruction(r, depth, &inst, err);
            if (rc == 0 && gj_value_list_append(list, inst) != 0)
                rc = gj__gbd_nomem(err, "Bytecode");
        }
        if (rc == 0 && n)
            rc = gj__gbd_put_field(inner, keys[part], gj_value_ref(list), err);
        gj_value_unref(list);
    }
    if (rc) {
        gj_value_unref(inner);
        return rc;
    }
    return gj__gbd_make_tagged("g:Bytecode", inner, at, out, err);
}

/* P / TextP: {name}{values_length}{value...} -> {predicate, value}.  within
 * and without (and the connectives and/or) keep a list of their arguments;
 * other predicates their single argument, or a list when they have several
 * or when the single one is itself a collection (the encoder writes a list's
 * items as the arguments, so this keeps the bytes). */
int gj__gbd_read_p(gj_gb_reader *r, size_t at, unsigned depth, const char *tag, gj_value **out,
                  gj_error *err)
{
    gj_value *name = NULL, *args = NULL;
    size_t n = 0;
    int rc = gj__gbd_string(r, "P predicate", &name, err);
    if (rc == 0)
        rc = gj__gbd_count(r, "P arguments", 2, &n, err);
    if (rc == 0 && gj_value_new_list(&args, n) != 0)
        rc = gj__gbd_nomem(err, tag);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        gj_value *arg;
        rc = gj__gb_read_value(r, depth + 1, &arg, err);
        if (rc == 0 && gj_value_list_append(args, arg) != 0)
            rc = gj__gbd_nomem(err, tag);
    }
    if (rc) {
        gj_value_unref(name);
        gj_value_unref(args);
        return rc;
    }
    const char *p = "";
    size_t plen;
    gj_value_string_get(name, &p, &plen);
    bool collection = !strcmp(p, "within") || !strcmp(p, "without") || !strcmp(p, "and") ||
                      !strcmp(p, "or");
    gj_value *value = args;
    gj_type single = n == 1 ? gj_value_type(gj_value_list_at(args, 0)) : GJ_TNULL;
    if (!collection && n == 1 && single != GJ_TLIST && single != GJ_TSET) {
        value = gj_value_ref(gj_value_list_at(args, 0));
        gj_value_unref(args);
    }
    static const char *const keys[] = {"predicate", "value"};
    gj_value *vals[] = {name, value};
    return gj__gbd_tagged_fields(tag, at, 2, keys, vals, out, err);
}

/* A Tree value (no code): {length}{key}{Tree}... as [{key, value: g:Tree}...]. */
int gj__gbd_read_tree(gj_gb_reader *r, size_t at, unsigned depth, gj_value **out, gj_error *err)
{
    if (depth > gj__gbd_max_depth(r))
        return gj__gbd_too_deep(r, at, err);
    size_t n;
    int rc = gj__gbd_count(r, "Tree", 6, &n, err);
    gj_value *list = NULL;
    if (rc == 0 && gj_value_new_list(&list, n) != 0)
        rc = gj__gbd_nomem(err, "Tree");
    for (size_t i = 0; rc == 0 && i < n; i++) {
        static const char *const keys[] = {"key", "value"};
        gj_value *vals[2] = {NULL, NULL}, *item = NULL;
        rc = gj__gb_read_value(r, depth + 1, &vals[0], err);
        if (rc == 0)
            rc = gj__gbd_read_tree(r, r->pos, depth + 1, &vals[1], err);
        if (rc) {
            gj_value_unref(vals[0]);
            break;
        }
        if ((rc = gj__gbd_fields_map(&item, 2, keys, vals, err)) == 0 &&
            gj_value_list_append(list, item) != 0)
            rc = gj__gbd_nomem(err, "Tree");
    }
    if (rc) {
        gj_value_unref(list);
        return rc;
    }
    return gj__gbd_make_tagged("g:Tree", list, at, out, err);
}

/* A duration in nanoseconds as GraphSON's milliseconds (a double), which
 * keeps every nanosecond up to GJ__GT_METRICS_NANOS_MAX (13 days). */
static int millis(const gj_gb_reader *r, int64_t nanos, gj_value **out, gj_error *err)
{
    if (nanos > GJ__GT_METRICS_NANOS_MAX || nanos < -GJ__GT_METRICS_NANOS_MAX)
        return gj__gbd_protocol(err, "GraphBinary Metrics duration before byte %zu is longer than %lld ns",
                        r->pos, (long long)GJ__GT_METRICS_NANOS_MAX);
    *out = gj_value_float((double)nanos / 1e6);
    return *out ? 0 : gj__gbd_nomem(err, "Metrics");
}

/* {length}{Metrics...} value-only list of fully qualified items. */
static int read_metrics_list(gj_gb_reader *r, unsigned depth, gj_value **out, gj_error *err)
{
    return gj__gbd_read_items(r, "nested Metrics", GJ_TLIST, depth, out, err);
}

int gj__gbd_read_metrics(gj_gb_reader *r, size_t at, unsigned depth, gj_value **out,
                        gj_error *err)
{
    gj_value *id = NULL, *name = NULL, *counts = NULL, *annotations = NULL, *nested = NULL,
             *dur = NULL;
    int64_t nanos = 0;
    int rc = gj__gbd_string(r, "Metrics id", &id, err);
    if (rc == 0)
        rc = gj__gbd_string(r, "Metrics name", &name, err);
    if (rc == 0)
        rc = gj__gbd_i64(r, r->pos, "Metrics duration", &nanos, err);
    if (rc == 0)
        rc = gj__gb_read_map(r, depth, "Metrics counts", &counts, err);
    if (rc == 0)
        rc = gj__gb_read_map(r, depth, "Metrics annotations", &annotations, err);
    if (rc == 0)
        rc = read_metrics_list(r, depth, &nested, err);
    if (rc == 0)
        rc = millis(r, nanos, &dur, err);
    /* GraphSON's order and omissions: no empty annotations or metrics. */
    if (annotations && !gj_value_size(annotations)) {
        gj_value_unref(annotations);
        annotations = NULL;
    }
    if (nested && !gj_value_size(nested)) {
        gj_value_unref(nested);
        nested = NULL;
    }
    static const char *const keys[] = {"dur", "counts", "name", "annotations", "id", "metrics"};
    gj_value *vals[] = {dur, counts, name, annotations, id, nested};
    if (rc) {
        for (size_t i = 0; i < 6; i++)
            gj_value_unref(vals[i]);
        return rc;
    }
    return gj__gbd_tagged_fields("g:Metrics", at, 6, keys, vals, out, err);
}

int gj__gbd_read_traversal_metrics(gj_gb_reader *r, size_t at, unsigned depth, gj_value **out,
                                  gj_error *err)
{
    gj_value *nested = NULL, *dur = NULL;
    int64_t nanos = 0;
    int rc = gj__gbd_i64(r, r->pos, "TraversalMetrics duration", &nanos, err);
    if (rc == 0)
        rc = read_metrics_list(r, depth, &nested, err);
    if (rc == 0)
        rc = millis(r, nanos, &dur, err);
    static const char *const keys[] = {"dur", "metrics"};
    gj_value *vals[] = {dur, nested};
    if (rc) {
        gj_value_unref(nested);
        return rc;
    }
    return gj__gbd_tagged_fields("g:TraversalMetrics", at, 2, keys, vals, out, err);
}

/* A Property value (after its code and flag): g:Property {key, value[, parent]}. */
int gj__gbd_read_property(gj_gb_reader *r, size_t at, unsigned depth, gj_value **out, gj_error *err)
{
    gj_value *vals[3];
    int rc = read_property_fields(r, depth, &vals[0], &vals[1], &vals[2], err);
    return rc ? rc : gj__gbd_tagged_fields("g:Property", at, 3, property_keys, vals, out, err);
}
