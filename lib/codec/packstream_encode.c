/*
 * PackStream v1 value encoder: gj_value trees -> bytes, with the Bolt
 * structures for graph, temporal and spatial values (see packstream.h).
 */
#include "codec/packstream_internal.h"

#include <stdlib.h>
#include <string.h>
#include <stdio.h>

/* ======================================================================
 * Value encoder
 * ====================================================================== */

static int put_value(gj_ps_buf *b, const gj_value *v, const gj_ps_config *cfg,
                     unsigned depth, gj_error *err);

static int enc_fail(gj_error *err, const char *what)
{
    return gj__error_set(err, GJ_EINVAL, "cannot encode as PackStream: %s", what);
}

/* An integer id of a graph element. */
static int element_int_id(const gj_value *id, const char *what, int64_t *out, gj_error *err)
{
    if (!id || gj_value_int_get(id, out) != 0)
        return gj__error_set(err, GJ_EINVAL,
                             "cannot encode as PackStream: the %s id is a %s, Bolt needs an integer",
                             what, id ? gj_type_name(gj_value_type(id)) : "missing value");
    return 0;
}

/* A Neo4j 5 element id: the one carried, else the integer id as text. */
static int put_element_id(gj_ps_buf *b, const gj_value *element_id, int64_t id, gj_error *err)
{
    const char *s;
    size_t len;
    if (element_id) {
        if (gj_value_string_get(element_id, &s, &len) != 0)
            return enc_fail(err, "an element id is not a string");
        return gj__ps_put_string(b, s, len);
    }
    char text[24];
    int n = snprintf(text, sizeof text, "%lld", (long long)id);
    return gj__ps_put_string(b, text, (size_t)n);
}

/* Map or absent -> dictionary (absent = empty). */
static int put_map_or_empty(gj_ps_buf *b, const gj_value *m, const gj_ps_config *cfg,
                            unsigned depth, const char *what, gj_error *err)
{
    if (!m)
        return gj__ps_put_map_header(b, 0);
    if (gj_value_type(m) != GJ_TMAP)
        return gj__error_set(err, GJ_EINVAL, "cannot encode as PackStream: %s is a %s, not a map",
                             what, gj_type_name(gj_value_type(m)));
    return put_value(b, m, cfg, depth, err);
}

static int put_node(gj_ps_buf *b, const gj_value *v, const gj_ps_config *cfg, unsigned depth,
                    gj_error *err)
{
    int64_t id;
    int rc = element_int_id(gj_value_element_id(v), "node", &id, err);
    if (rc)
        return rc;
    bool eids = gj__ps_has_element_ids(cfg);
    gj__ps_put_struct_header(b, eids ? 4 : 3, GJ_PS_TAG_NODE);
    gj__ps_put_int(b, id);
    const gj_value *labels = gj_value_node_labels(v);
    if (labels) {
        size_t n = gj_value_size(labels);
        if (gj_value_type(labels) != GJ_TLIST && gj_value_type(labels) != GJ_TSET)
            return enc_fail(err, "node labels are not a list");
        gj__ps_put_list_header(b, n);
        for (size_t i = 0; i < n; i++) {
            const char *s;
            size_t len;
            if (gj_value_string_get(gj_value_list_at(labels, i), &s, &len) != 0)
                return enc_fail(err, "a node label is not a string");
            gj__ps_put_string(b, s, len);
        }
    } else {
        gj__ps_put_list_header(b, 0);
    }
    rc = put_map_or_empty(b, gj_value_element_properties(v), cfg, depth + 1, "node properties", err);
    if (rc)
        return rc;
    if (eids)
        rc = put_element_id(b, gj_value_element_element_id(v), id, err);
    return rc ? rc : b->error;
}

static int put_type_string(gj_ps_buf *b, const gj_value *type, gj_error *err)
{
    const char *s;
    size_t len;
    if (!type || gj_value_string_get(type, &s, &len) != 0)
        return enc_fail(err, "a relationship type is not a string");
    return gj__ps_put_string(b, s, len);
}

/* Relationship 52, or UnboundRelationship 72 when force_unbound or the
 * edge has no start/end. */
static int put_edge(gj_ps_buf *b, const gj_value *v, const gj_ps_config *cfg, unsigned depth,
                    bool force_unbound, gj_error *err)
{
    int64_t id, start = 0, end = 0;
    int rc = element_int_id(gj_value_element_id(v), "relationship", &id, err);
    if (rc)
        return rc;
    bool eids = gj__ps_has_element_ids(cfg);
    bool unbound = force_unbound || !gj_value_edge_start_id(v) || !gj_value_edge_end_id(v);
    if (!unbound) {
        if ((rc = element_int_id(gj_value_edge_start_id(v), "start node", &start, err)) ||
            (rc = element_int_id(gj_value_edge_end_id(v), "end node", &end, err)))
            return rc;
    }
    if (unbound) {
        gj__ps_put_struct_header(b, eids ? 4 : 3, GJ_PS_TAG_UNBOUND_REL);
        gj__ps_put_int(b, id);
    } else {
        gj__ps_put_struct_header(b, eids ? 8 : 5, GJ_PS_TAG_RELATIONSHIP);
        gj__ps_put_int(b, id);
        gj__ps_put_int(b, start);
        gj__ps_put_int(b, end);
    }
    if ((rc = put_type_string(b, gj_value_edge_type(v), err)))
        return rc;
    rc = put_map_or_empty(b, gj_value_element_properties(v), cfg, depth + 1,
                          "relationship properties", err);
    if (rc)
        return rc;
    if (eids) {
        if ((rc = put_element_id(b, gj_value_element_element_id(v), id, err)))
            return rc;
        if (!unbound &&
            ((rc = put_element_id(b, gj_value_edge_start_element_id(v), start, err)) ||
             (rc = put_element_id(b, gj_value_edge_end_element_id(v), end, err))))
            return rc;
    }
    return b->error;
}

/* Index of the element whose id equals id in uniq[0..n), or n. */
static size_t find_by_id(const gj_value **uniq, size_t n, const gj_value *id)
{
    for (size_t i = 0; i < n; i++)
        if (gj_value_equal(gj_value_element_id(uniq[i]), id))
            return i;
    return n;
}

static int put_path(gj_ps_buf *b, const gj_value *v, const gj_ps_config *cfg, unsigned depth,
                    gj_error *err)
{
    const gj_value *objects = gj_value_path_objects(v);
    size_t n = gj_value_size(objects);
    if (!objects || n % 2 == 0)
        return enc_fail(err, "a Bolt path needs node, relationship, node, ... (odd length)");
    size_t steps = n / 2;
    const gj_value **nodes = malloc((steps + 1) * sizeof *nodes);
    const gj_value **rels = malloc((steps ? steps : 1) * sizeof *rels);
    int64_t *indices = malloc((steps ? steps : 1) * 2 * sizeof *indices);
    int rc = 0;
    size_t n_nodes = 0, n_rels = 0;
    if (!nodes || !rels || !indices) {
        rc = gj__error_set(err, GJ_ENOMEM, "out of memory encoding a path of %zu steps", steps);
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        const gj_value *o = gj_value_list_at(objects, i);
        gj_type want = (i % 2 == 0) ? GJ_TNODE : GJ_TEDGE;
        if (gj_value_type(o) != want) {
            rc = gj__error_set(err, GJ_EINVAL,
                               "cannot encode as PackStream: path element %zu is a %s, expected a %s",
                               i, gj_type_name(gj_value_type(o)), gj_type_name(want));
            goto out;
        }
    }
    nodes[n_nodes++] = gj_value_list_at(objects, 0);
    for (size_t s = 0; s < steps; s++) {
        const gj_value *prev = gj_value_list_at(objects, 2 * s);
        const gj_value *rel = gj_value_list_at(objects, 2 * s + 1);
        const gj_value *next = gj_value_list_at(objects, 2 * s + 2);
        size_t ni = find_by_id(nodes, n_nodes, gj_value_element_id(next));
        if (ni == n_nodes)
            nodes[n_nodes++] = next;
        size_t ri = find_by_id(rels, n_rels, gj_value_element_id(rel));
        if (ri == n_rels)
            rels[n_rels++] = rel;
        const gj_value *start = gj_value_edge_start_id(rel);
        const gj_value *prev_id = gj_value_element_id(prev);
        bool forward = !start || gj_value_equal(start, prev_id);
        if (start && !forward && !gj_value_equal(gj_value_edge_end_id(rel), prev_id)) {
            rc = gj__error_set(err, GJ_EINVAL,
                               "cannot encode as PackStream: path relationship %zu does not touch "
                               "the node before it", s);
            goto out;
        }
        indices[2 * s] = forward ? (int64_t)(ri + 1) : -(int64_t)(ri + 1);
        indices[2 * s + 1] = (int64_t)ni;
    }
    gj__ps_put_struct_header(b, 3, GJ_PS_TAG_PATH);
    gj__ps_put_list_header(b, n_nodes);
    for (size_t i = 0; i < n_nodes && !rc; i++)
        rc = put_node(b, nodes[i], cfg, depth + 1, err);
    gj__ps_put_list_header(b, n_rels);
    for (size_t i = 0; i < n_rels && !rc; i++)
        rc = put_edge(b, rels[i], cfg, depth + 1, true, err);
    gj__ps_put_list_header(b, steps * 2);
    for (size_t i = 0; i < steps * 2 && !rc; i++)
        rc = gj__ps_put_int(b, indices[i]);
out:
    free(nodes);
    free(rels);
    free(indices);
    return rc;
}

static int add_overflow_fail(gj_error *err)
{
    return enc_fail(err, "a datetime's seconds overflow when applying its offset");
}

static int put_datetime(gj_ps_buf *b, const gj_value *v, const gj_ps_config *cfg, gj_error *err)
{
    int64_t secs;
    int32_t nanos, off;
    const char *zone;
    unsigned flags;
    gj_value_datetime_get(v, &secs, &nanos, &off, &zone, &flags);
    bool local = (flags & GJ_DATETIME_LOCAL_SECONDS) != 0;
    bool has_off = (flags & GJ_DATETIME_HAS_OFFSET) != 0;
    if (!has_off)
        off = 0;
    /* A zone id without its offset: the resolver may know it. */
    if (zone && !has_off && cfg && cfg->zone_offset && cfg->zone_offset(cfg->zone_arg, zone, secs, local, &off) == 0 &&
        off > -86400 && off < 86400)
        has_off = true;
    if (gj__ps_utc_datetimes(cfg)) {
        if (local) {
            if (zone && !has_off)
                return enc_fail(err, "a zone-id datetime with local seconds and no offset cannot "
                                     "be converted to UTC (Bolt 5 / utc patch)");
            if (__builtin_sub_overflow(secs, (int64_t)off, &secs))
                return add_overflow_fail(err);
        }
        gj__ps_put_struct_header(b, 3, zone ? GJ_PS_TAG_DATETIME_ZONE_ID : GJ_PS_TAG_DATETIME);
    } else {
        if (!local) {
            if (zone && !has_off)
                return enc_fail(err, "a zone-id datetime without its offset cannot be sent in "
                                     "the Bolt 4.4 legacy form (local seconds)");
            if (__builtin_add_overflow(secs, (int64_t)off, &secs))
                return add_overflow_fail(err);
        }
        gj__ps_put_struct_header(b, 3, zone ? GJ_PS_TAG_LEGACY_DATETIME_ZONE_ID
                                            : GJ_PS_TAG_LEGACY_DATETIME);
    }
    gj__ps_put_int(b, secs);
    gj__ps_put_int(b, nanos);
    if (zone)
        gj__ps_put_cstring(b, zone);
    else
        gj__ps_put_int(b, off);
    return b->error;
}

/* A vector (value.h): Vector(type_marker, data) on Bolt 6.0+. */
static int put_vector(gj_ps_buf *b, const gj_value *v, const gj_ps_config *cfg, gj_error *err)
{
    gj_vector_type t;
    const uint8_t *data;
    size_t len;
    if (gj_value_vector_get(v, &t, NULL, &data, &len) != 0)
        return enc_fail(err, "a tagged value \"vector:...\" whose bytes do not fit its element type");
    if (!gj__ps_has_vectors(cfg))
        return gj__error_set(err, GJ_EINVAL, "cannot send a vector to a Bolt %u.%u server: vectors need Bolt 6.0 "
                             "(send gj_value_vector_to_list's list instead)", gj__ps_bolt_major(cfg),
                             cfg ? cfg->bolt_minor : 0);
    static const uint8_t markers[] = {
        [GJ_VECTOR_INT8] = GJ_PS_VECTOR_INT8,       [GJ_VECTOR_INT16] = GJ_PS_VECTOR_INT16,
        [GJ_VECTOR_INT32] = GJ_PS_VECTOR_INT32,     [GJ_VECTOR_INT64] = GJ_PS_VECTOR_INT64,
        [GJ_VECTOR_FLOAT32] = GJ_PS_VECTOR_FLOAT32, [GJ_VECTOR_FLOAT64] = GJ_PS_VECTOR_FLOAT64,
    };
    gj__ps_put_struct_header(b, 2, GJ_PS_TAG_VECTOR);
    gj__ps_put_bytes(b, &markers[t], 1);
    gj__ps_put_bytes(b, data, len);
    return b->error;
}

/* UnsupportedType(name, minimum_protocol_major, minimum_protocol_minor,
 * {message}) (6.0+): only a server sends it (allow_graph_values); a client
 * cannot send it back. */
static int put_unsupported(gj_ps_buf *b, const gj_value *inner, const gj_ps_config *cfg, gj_error *err)
{
    if (!cfg || !cfg->allow_graph_values)
        return enc_fail(err, "an UnsupportedType value (a type the server could not send) cannot be sent back");
    if (!gj__ps_has_vectors(cfg))
        return enc_fail(err, "UnsupportedType needs Bolt 6.0");
    const char *name = NULL, *ver = NULL, *msg = NULL;
    size_t name_len = 0, msg_len = 0;
    unsigned major = 0, minor = 0;
    char extra;
    if (gj_value_string_get(gj_value_map_get(inner, "name"), &name, &name_len) != 0 ||
        gj_value_string_get(gj_value_map_get(inner, "minimum_protocol_version"), &ver, NULL) != 0 ||
        sscanf(ver, "%u.%u%c", &major, &minor, &extra) != 2)
        return enc_fail(err, "an UnsupportedType value needs name and minimum_protocol_version (\"6.1\")");
    bool has_msg = gj_value_string_get(gj_value_map_get(inner, "message"), &msg, &msg_len) == 0;
    gj__ps_put_struct_header(b, 4, GJ_PS_TAG_UNSUPPORTED);
    gj__ps_put_string(b, name, name_len);
    gj__ps_put_int(b, major);
    gj__ps_put_int(b, minor);
    gj__ps_put_map_header(b, has_msg ? 1 : 0);
    if (has_msg) {
        gj__ps_put_string(b, "message", 7);
        gj__ps_put_string(b, msg, msg_len);
    }
    return b->error;
}

/* A tagged value made by the passthrough decoder: "packstream:struct:XX";
 * a vector. */
static int put_tagged(gj_ps_buf *b, const gj_value *v, const gj_ps_config *cfg, unsigned depth,
                      gj_error *err)
{
    const char *tag;
    const gj_value *inner;
    gj_value_tagged_get(v, &tag, &inner);
    if (strncmp(tag, GJ_VECTOR_TAG_PREFIX, sizeof GJ_VECTOR_TAG_PREFIX - 1) == 0)
        return put_vector(b, v, cfg, err);
    if (strcmp(tag, GJ_PS_UNSUPPORTED_TAG) == 0)
        return put_unsupported(b, inner, cfg, err);
    size_t plen = strlen(GJ_PS_TAG_PREFIX);
    unsigned code;
    char extra;
    if (strncmp(tag, GJ_PS_TAG_PREFIX, plen) != 0 || strlen(tag) != plen + 2 ||
        sscanf(tag + plen, "%2x%c", &code, &extra) != 1 || code > 0x7F || !inner ||
        gj_value_type(inner) != GJ_TLIST || gj_value_size(inner) > GJ_PS_MAX_STRUCT_FIELDS)
        return gj__error_set(err, GJ_EINVAL,
                             "cannot encode as PackStream: tagged value \"%s\" has no PackStream form",
                             tag);
    size_t n = gj_value_size(inner);
    gj__ps_put_struct_header(b, (unsigned)n, (uint8_t)code);
    for (size_t i = 0; i < n; i++) {
        int rc = put_value(b, gj_value_list_at(inner, i), cfg, depth + 1, err);
        if (rc)
            return rc;
    }
    return b->error;
}

static int put_value(gj_ps_buf *b, const gj_value *v, const gj_ps_config *cfg,
                     unsigned depth, gj_error *err)
{
    int rc;
    if (b->error)
        return gj__ps_buf_check(b, err);
    if (depth > gj__ps_max_depth(cfg))
        return gj__error_set(err, GJ_EINVAL,
                             "cannot encode as PackStream: value nested deeper than %u levels",
                             gj__ps_max_depth(cfg));
    switch (gj_value_type(v)) {
    case GJ_TNULL:
        rc = gj__ps_put_null(b);
        break;
    case GJ_TBOOL: {
        bool x = false;
        gj_value_bool_get(v, &x);
        rc = gj__ps_put_bool(b, x);
        break;
    }
    case GJ_TINT: {
        int64_t x = 0;
        gj_value_int_get(v, &x);
        rc = gj__ps_put_int(b, x);
        break;
    }
    case GJ_TFLOAT: {
        double x = 0;
        gj_value_float_get(v, &x);
        rc = gj__ps_put_float(b, x);
        break;
    }
    case GJ_TSTRING: {
        const char *s = "";
        size_t len = 0;
        gj_value_string_get(v, &s, &len);
        rc = gj__ps_put_string(b, s, len);
        break;
    }
    case GJ_TBYTES: {
        const uint8_t *p = NULL;
        size_t len = 0;
        gj_value_bytes_get(v, &p, &len);
        rc = gj__ps_put_bytes(b, p, len);
        break;
    }
    case GJ_TLIST:
    case GJ_TSET: {
        size_t n = gj_value_size(v);
        rc = gj__ps_put_list_header(b, n);
        for (size_t i = 0; i < n && !rc; i++)
            rc = put_value(b, gj_value_list_at(v, i), cfg, depth + 1, err);
        break;
    }
    case GJ_TMAP: {
        size_t n = gj_value_size(v);
        rc = gj__ps_put_map_header(b, n);
        for (size_t i = 0; i < n && !rc; i++) {
            const gj_value *k = gj_value_map_key_at(v, i);
            const char *s;
            size_t len;
            if (gj_value_string_get(k, &s, &len) != 0)
                return gj__error_set(err, GJ_EINVAL,
                                     "cannot encode as PackStream: map key #%zu is a %s; "
                                     "dictionary keys must be strings",
                                     i, gj_type_name(gj_value_type(k)));
            rc = gj__ps_put_string(b, s, len);
            if (!rc)
                rc = put_value(b, gj_value_map_value_at(v, i), cfg, depth + 1, err);
        }
        break;
    }
    case GJ_TNODE:
    case GJ_TEDGE:
    case GJ_TPATH:
        if (!cfg || !cfg->allow_graph_values)
            return gj__error_set(err, GJ_EINVAL,
                                 "cannot send a %s as a query parameter: Neo4j rejects graph "
                                 "elements as parameters (pass its id or properties instead)",
                                 gj_type_name(gj_value_type(v)));
        if (gj_value_type(v) == GJ_TNODE)
            rc = put_node(b, v, cfg, depth, err);
        else if (gj_value_type(v) == GJ_TEDGE)
            rc = put_edge(b, v, cfg, depth, false, err);
        else
            rc = put_path(b, v, cfg, depth, err);
        break;
    case GJ_TDATE: {
        int64_t days = 0;
        gj_value_date_get(v, &days);
        gj__ps_put_struct_header(b, 1, GJ_PS_TAG_DATE);
        rc = gj__ps_put_int(b, days);
        break;
    }
    case GJ_TTIME: {
        int64_t ns = 0;
        int32_t off = 0;
        gj_value_time_get(v, &ns, &off);
        gj__ps_put_struct_header(b, 2, GJ_PS_TAG_TIME);
        gj__ps_put_int(b, ns);
        rc = gj__ps_put_int(b, off);
        break;
    }
    case GJ_TLOCAL_TIME: {
        int64_t ns = 0;
        gj_value_time_get(v, &ns, NULL);
        gj__ps_put_struct_header(b, 1, GJ_PS_TAG_LOCAL_TIME);
        rc = gj__ps_put_int(b, ns);
        break;
    }
    case GJ_TDATETIME:
        rc = put_datetime(b, v, cfg, err);
        break;
    case GJ_TLOCAL_DATETIME: {
        int64_t secs = 0;
        int32_t nanos = 0;
        gj_value_datetime_get(v, &secs, &nanos, NULL, NULL, NULL);
        gj__ps_put_struct_header(b, 2, GJ_PS_TAG_LOCAL_DATETIME);
        gj__ps_put_int(b, secs);
        rc = gj__ps_put_int(b, nanos);
        break;
    }
    case GJ_TDURATION: {
        int64_t months = 0, days = 0, secs = 0;
        int32_t nanos = 0;
        gj_value_duration_get(v, &months, &days, &secs, &nanos);
        gj__ps_put_struct_header(b, 4, GJ_PS_TAG_DURATION);
        gj__ps_put_int(b, months);
        gj__ps_put_int(b, days);
        gj__ps_put_int(b, secs);
        rc = gj__ps_put_int(b, nanos);
        break;
    }
    case GJ_TPOINT: {
        int64_t srid = 0;
        unsigned dims = 2;
        double x = 0, y = 0, z = 0;
        gj_value_point_get(v, &srid, &dims, &x, &y, &z);
        gj__ps_put_struct_header(b, dims == 3 ? 4 : 3,
                                 dims == 3 ? GJ_PS_TAG_POINT3D : GJ_PS_TAG_POINT2D);
        gj__ps_put_int(b, srid);
        gj__ps_put_float(b, x);
        rc = gj__ps_put_float(b, y);
        if (dims == 3)
            rc = gj__ps_put_float(b, z);
        break;
    }
    case GJ_TUUID: {
        uint8_t u[16];
        char text[37];
        gj_value_uuid_get(v, u);
        snprintf(text, sizeof text,
                 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
                 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11],
                 u[12], u[13], u[14], u[15]);
        rc = gj__ps_put_string(b, text, 36);
        break;
    }
    case GJ_TTAGGED:
        rc = put_tagged(b, v, cfg, depth, err);
        break;
    default:
        return gj__error_set(err, GJ_EINVAL, "cannot encode as PackStream: unknown value type %d",
                             (int)gj_value_type(v));
    }
    if (b->error)
        return gj__ps_buf_check(b, err);
    return rc;
}

int gj__ps_put_value(gj_ps_buf *b, const gj_value *v, const gj_ps_config *cfg,
                     unsigned depth, gj_error *err)
{
    if (!v)
        return gj__error_set(err, GJ_EINVAL, "cannot encode as PackStream: NULL value pointer");
    return put_value(b, v, cfg, depth, err);
}

int gj__ps_encode(gj_ps_buf *b, const gj_value *v, const gj_ps_config *cfg, gj_error *err)
{
    return gj__ps_put_value(b, v, cfg, 0, err);
}

