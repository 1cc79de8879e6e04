/*
 * Bolt structures in PackStream value positions (Node, Relationship, Path,
 * temporal and spatial types) -> gj_value, per Bolt version (packstream.h).
 */
#include "codec/packstream_internal.h"

#include <stdlib.h>
#include <string.h>
#include <stdio.h>

/* ======================================================================
 * Structures in value positions
 * ====================================================================== */

typedef struct st_ctx {
    gj_ps_reader *r;
    size_t at;          /* offset of the structure marker */
    const char *name;   /* "Node", ... */
    unsigned depth;     /* nesting of the fields */
    gj_error *err;
} st_ctx;

static const char *struct_name(uint8_t tag)
{
    switch (tag) {
    case GJ_PS_TAG_NODE: return "Node";
    case GJ_PS_TAG_RELATIONSHIP: return "Relationship";
    case GJ_PS_TAG_UNBOUND_REL: return "UnboundRelationship";
    case GJ_PS_TAG_PATH: return "Path";
    case GJ_PS_TAG_DATE: return "Date";
    case GJ_PS_TAG_TIME: return "Time";
    case GJ_PS_TAG_LOCAL_TIME: return "LocalTime";
    case GJ_PS_TAG_DATETIME: return "DateTime";
    case GJ_PS_TAG_DATETIME_ZONE_ID: return "DateTimeZoneId";
    case GJ_PS_TAG_LEGACY_DATETIME: return "legacy DateTime";
    case GJ_PS_TAG_LEGACY_DATETIME_ZONE_ID: return "legacy DateTimeZoneId";
    case GJ_PS_TAG_LOCAL_DATETIME: return "LocalDateTime";
    case GJ_PS_TAG_DURATION: return "Duration";
    case GJ_PS_TAG_POINT2D: return "Point2D";
    case GJ_PS_TAG_POINT3D: return "Point3D";
    case GJ_PS_TAG_VECTOR: return "Vector";
    case GJ_PS_TAG_UNSUPPORTED: return "UnsupportedType";
    default: return NULL;
    }
}

static int field_error(const st_ctx *c, size_t at, const char *field, const char *expected,
                       uint8_t marker)
{
    return gj__error_set(c->err, GJ_EPROTOCOL,
                         "PackStream %s at byte %zu: field %s at byte %zu is not %s (marker 0x%02X)",
                         c->name, c->at, field, at, expected, marker);
}

static int field_range(const st_ctx *c, const char *field, long long v)
{
    return gj__error_set(c->err, GJ_EPROTOCOL, "PackStream %s at byte %zu: field %s = %lld is out of range",
                         c->name, c->at, field, v);
}

static int field_int(const st_ctx *c, const char *field, int64_t *out)
{
    gj_ps_reader *r = c->r;
    size_t at = r->pos;
    if (at >= r->len)
        return gj__ps_truncated(r, at, c->name, 1, c->err);
    uint8_t m = r->data[at];
    size_t w;
    if (m < 0x80 || m >= 0xF0) {
        *out = (int8_t)m;
        r->pos++;
        return 0;
    }
    switch (m) {
    case GJ_PS_INT8: w = 1; break;
    case GJ_PS_INT16: w = 2; break;
    case GJ_PS_INT32: w = 4; break;
    case GJ_PS_INT64: w = 8; break;
    default: return field_error(c, at, field, "an Integer", m);
    }
    if (r->len - r->pos - 1 < w)
        return gj__ps_truncated(r, at, c->name, w + 1, c->err);
    const uint8_t *p = r->data + at + 1;
    *out = w == 1 ? (int8_t)p[0] : w == 2 ? (int16_t)gj__ps_load16(p)
         : w == 4 ? (int32_t)gj__ps_load32(p) : (int64_t)gj__ps_load64(p);
    r->pos += 1 + w;
    return 0;
}

static int field_int32(const st_ctx *c, const char *field, int64_t lo, int64_t hi, int32_t *out)
{
    int64_t v;
    int rc = field_int(c, field, &v);
    if (rc)
        return rc;
    if (v < lo || v > hi)
        return field_range(c, field, (long long)v);
    *out = (int32_t)v;
    return 0;
}

static int field_float(const st_ctx *c, const char *field, double *out)
{
    gj_ps_reader *r = c->r;
    size_t at = r->pos;
    if (at >= r->len)
        return gj__ps_truncated(r, at, c->name, 1, c->err);
    if (r->data[at] != GJ_PS_FLOAT)
        return field_error(c, at, field, "a Float", r->data[at]);
    if (r->len - at < 9)
        return gj__ps_truncated(r, at, c->name, 9, c->err);
    uint64_t bits = gj__ps_load64(r->data + at + 1);
    memcpy(out, &bits, sizeof *out);
    r->pos += 9;
    return 0;
}

/* A field decoded as a value of one type. */
static int field_value(const st_ctx *c, const char *field, gj_type want, gj_value **out)
{
    gj_ps_reader *r = c->r;
    size_t at = r->pos;
    if (at < r->len) {
        uint8_t m = r->data[at];
        bool ok = want == GJ_TSTRING ? gj__ps_string_marker(m) >= 0
                : want == GJ_TLIST ? ((m & 0xF0) == GJ_PS_TINY_LIST || (m >= GJ_PS_LIST8 && m <= GJ_PS_LIST32))
                : want == GJ_TMAP ? ((m & 0xF0) == GJ_PS_TINY_MAP || (m >= GJ_PS_MAP8 && m <= GJ_PS_MAP32))
                : true;
        if (!ok)
            return field_error(c, at, field,
                               want == GJ_TSTRING ? "a String" : want == GJ_TLIST ? "a List" : "a Dictionary",
                               m);
    }
    return gj__ps_read_value(r, c->depth, out, c->err);
}

static int list_of(const st_ctx *c, const char *field, const gj_value *list, gj_type item_type,
                   size_t at)
{
    size_t n = gj_value_size(list);
    for (size_t i = 0; i < n; i++) {
        const gj_value *it = gj_value_list_at(list, i);
        if (gj_value_type(it) != item_type)
            return gj__error_set(c->err, GJ_EPROTOCOL,
                                 "PackStream %s at byte %zu: %s (byte %zu) item %zu is a %s, not a %s",
                                 c->name, c->at, field, at, i, gj_type_name(gj_value_type(it)),
                                 gj_type_name(item_type));
    }
    return 0;
}

/* Finish a structure: v is the built value or NULL (rc != 0). */
static int make_done(const st_ctx *c, int rc, gj_value *v, gj_value **out)
{
    if (rc)
        gj_value_unref(v);
    if (rc == GJ_ENOMEM)
        return gj__ps_no_memory(c->err, c->name);
    if (rc) {
        return gj__error_set(c->err, GJ_EPROTOCOL, "PackStream %s at byte %zu was refused by the value model (%s)",
                             c->name, c->at, gj_strerror(rc));
    }
    *out = v;
    return 0;
}

static int new_int_part(const st_ctx *c, int64_t v, gj_value **out)
{
    if (!(*out = gj_value_int(v)))
        return gj__ps_no_memory(c->err, c->name);
    return 0;
}

static int read_node(const st_ctx *c, bool eids, gj_value **out)
{
    int64_t id;
    gj_value *labels = NULL, *props = NULL, *eid = NULL, *idv = NULL, *node = NULL;
    size_t lat;
    int rc;
    if ((rc = field_int(c, "id", &id)))
        return rc;
    lat = c->r->pos;
    if ((rc = field_value(c, "labels", GJ_TLIST, &labels)) ||
        (rc = list_of(c, "labels", labels, GJ_TSTRING, lat)) ||
        (rc = field_value(c, "properties", GJ_TMAP, &props)) ||
        (eids && (rc = field_value(c, "element_id", GJ_TSTRING, &eid))) ||
        (rc = new_int_part(c, id, &idv)))
        goto fail;
    rc = gj_value_new_node(&node, idv, labels, props);
    idv = labels = props = NULL;
    if (rc) {
        node = NULL;
        gj_value_unref(eid);
    } else if (eid) {
        rc = gj_value_node_set_element_id(node, eid);
    }
    return make_done(c, rc, node, out);
fail:
    gj_value_unref(labels);
    gj_value_unref(props);
    gj_value_unref(eid);
    gj_value_unref(idv);
    return rc;
}

static int read_relationship(const st_ctx *c, bool eids, bool bound, gj_value **out)
{
    int64_t id, start = 0, end = 0;
    gj_value *type = NULL, *props = NULL, *eid = NULL, *seid = NULL, *eeid = NULL;
    gj_value *idv = NULL, *sv = NULL, *ev = NULL, *edge = NULL;
    int rc;
    if ((rc = field_int(c, "id", &id)))
        return rc;
    if (bound && ((rc = field_int(c, "startNodeId", &start)) || (rc = field_int(c, "endNodeId", &end))))
        return rc;
    if ((rc = field_value(c, "type", GJ_TSTRING, &type)) ||
        (rc = field_value(c, "properties", GJ_TMAP, &props)) ||
        (eids && (rc = field_value(c, "element_id", GJ_TSTRING, &eid))) ||
        (eids && bound && (rc = field_value(c, "start_node_element_id", GJ_TSTRING, &seid))) ||
        (eids && bound && (rc = field_value(c, "end_node_element_id", GJ_TSTRING, &eeid))) ||
        (rc = new_int_part(c, id, &idv)) ||
        (bound && ((rc = new_int_part(c, start, &sv)) || (rc = new_int_part(c, end, &ev)))))
        goto fail;
    rc = gj_value_new_edge(&edge, idv, type, sv, ev, props);
    idv = type = sv = ev = props = NULL;
    if (rc) {
        edge = NULL;
        gj_value_unref(eid);
        gj_value_unref(seid);
        gj_value_unref(eeid);
    } else if (eid) {
        rc = gj_value_edge_set_element_ids(edge, eid, seid, eeid);
    }
    return make_done(c, rc, edge, out);
fail:
    gj_value_unref(type);
    gj_value_unref(props);
    gj_value_unref(eid);
    gj_value_unref(seid);
    gj_value_unref(eeid);
    gj_value_unref(idv);
    gj_value_unref(sv);
    gj_value_unref(ev);
    return rc;
}

/* Resolve Path(nodes, rels, indices) into the walk node, rel, node, ... */
static int read_path(const st_ctx *c, bool eids, gj_value **out)
{
    gj_value *nodes = NULL, *rels = NULL, *indices = NULL, *walk = NULL, *path = NULL;
    size_t nat = c->r->pos, rat, iat;
    int rc;
    if ((rc = field_value(c, "nodes", GJ_TLIST, &nodes)) ||
        (rc = list_of(c, "nodes", nodes, GJ_TNODE, nat)))
        goto out;
    rat = c->r->pos;
    if ((rc = field_value(c, "rels", GJ_TLIST, &rels)) ||
        (rc = list_of(c, "rels", rels, GJ_TEDGE, rat)))
        goto out;
    iat = c->r->pos;
    if ((rc = field_value(c, "indices", GJ_TLIST, &indices)) ||
        (rc = list_of(c, "indices", indices, GJ_TINT, iat)))
        goto out;
    size_t n_nodes = gj_value_size(nodes), n_rels = gj_value_size(rels);
    size_t n_idx = gj_value_size(indices);
    for (size_t i = 0; i < n_rels; i++)
        if (gj_value_edge_start_id(gj_value_list_at(rels, i))) {
            rc = gj__error_set(c->err, GJ_EPROTOCOL,
                               "PackStream Path at byte %zu: rels item %zu is a bound Relationship, "
                               "not an UnboundRelationship", c->at, i);
            goto out;
        }
    if (n_nodes == 0 || n_idx % 2 != 0) {
        rc = gj__error_set(c->err, GJ_EPROTOCOL,
                           "PackStream Path at byte %zu: %s", c->at,
                           n_nodes == 0 ? "no nodes" : "odd number of indices");
        goto out;
    }
    if (gj_value_new_list(&walk, n_idx + 1) != 0 ||
        gj_value_list_append(walk, gj_value_ref(gj_value_list_at(nodes, 0))) != 0) {
        rc = gj__ps_no_memory(c->err, "Path");
        goto out;
    }
    const gj_value *prev = gj_value_list_at(nodes, 0);
    for (size_t i = 0; i < n_idx; i += 2) {
        int64_t ri = 0, ni = 0;
        gj_value_int_get(gj_value_list_at(indices, i), &ri);
        gj_value_int_get(gj_value_list_at(indices, i + 1), &ni);
        if (ri == 0 || ri > (int64_t)n_rels || ri < -(int64_t)n_rels || ni < 0 ||
            ni >= (int64_t)n_nodes) {
            rc = gj__error_set(c->err, GJ_EPROTOCOL,
                               "PackStream Path at byte %zu: index pair %zu (%lld, %lld) is out of "
                               "range for %zu rels and %zu nodes",
                               c->at, i / 2, (long long)ri, (long long)ni, n_rels, n_nodes);
            goto out;
        }
        const gj_value *rel = gj_value_list_at(rels, (size_t)(ri > 0 ? ri : -ri) - 1);
        const gj_value *next = gj_value_list_at(nodes, (size_t)ni);
        const gj_value *start = ri > 0 ? prev : next, *end = ri > 0 ? next : prev;
        gj_value *edge = NULL;
        rc = gj_value_new_edge(&edge, gj_value_ref(gj_value_element_id(rel)),
                               gj_value_ref(gj_value_edge_type(rel)),
                               gj_value_ref(gj_value_element_id(start)),
                               gj_value_ref(gj_value_element_id(end)),
                               gj_value_ref(gj_value_element_properties(rel)));
        if (rc)
            edge = NULL;
        else if (eids)
            rc = gj_value_edge_set_element_ids(edge, gj_value_ref(gj_value_element_element_id(rel)),
                                               gj_value_ref(gj_value_element_element_id(start)),
                                               gj_value_ref(gj_value_element_element_id(end)));
        if (rc) {
            gj_value_unref(edge);
            rc = rc == GJ_ENOMEM ? gj__ps_no_memory(c->err, "Path")
                 : gj__error_set(c->err, GJ_EPROTOCOL,
                                 "PackStream Path at byte %zu: relationship %zu was refused by the "
                                 "value model (%s)", c->at, i / 2, gj_strerror(rc));
            goto out;
        }
        if (gj_value_list_append(walk, edge) != 0 ||
            gj_value_list_append(walk, gj_value_ref(next)) != 0) {
            rc = gj__ps_no_memory(c->err, "Path");
            goto out;
        }
        prev = next;
    }
    rc = gj_value_new_path(&path, walk, NULL);
    walk = NULL;
    if (!rc) {
        *out = path;
    } else {
        rc = gj__ps_no_memory(c->err, "Path");
    }
out:
    gj_value_unref(nodes);
    gj_value_unref(rels);
    gj_value_unref(indices);
    gj_value_unref(walk);
    return rc;
}

/* A Bytes field in place (no copy): a pointer into the span. */
static int field_bytes(const st_ctx *c, const char *field, const uint8_t **data, size_t *len)
{
    gj_ps_reader *r = c->r;
    size_t at = r->pos;
    if (at >= r->len)
        return gj__ps_truncated(r, at, c->name, 1, c->err);
    uint8_t m = r->data[at];
    size_t w = m == GJ_PS_BYTES8 ? 1 : m == GJ_PS_BYTES16 ? 2 : m == GJ_PS_BYTES32 ? 4 : 0;
    if (!w)
        return field_error(c, at, field, "a Bytes", m);
    if (r->len - at - 1 < w)
        return gj__ps_truncated(r, at, c->name, w + 1, c->err);
    const uint8_t *p = r->data + at + 1;
    size_t n = w == 1 ? p[0] : w == 2 ? gj__ps_load16(p) : gj__ps_load32(p);
    if (r->len - at - 1 - w < n)
        return gj__ps_truncated(r, at, c->name, 1 + w + n, c->err);
    *data = p + w;
    *len = n;
    r->pos = at + 1 + w + n;
    return 0;
}

/* Vector(type_marker::Bytes, data::Bytes) -> a vector value (value.h). */
static int read_vector(const st_ctx *c, gj_value **out)
{
    const uint8_t *marker, *data;
    size_t mlen, len;
    size_t mat = c->r->pos;
    int rc;
    if ((rc = field_bytes(c, "type_marker", &marker, &mlen)) || (rc = field_bytes(c, "data", &data, &len)))
        return rc;
    gj_vector_type t = 0;
    if (mlen == 1) {
        switch (marker[0]) {
        case GJ_PS_VECTOR_INT8: t = GJ_VECTOR_INT8; break;
        case GJ_PS_VECTOR_INT16: t = GJ_VECTOR_INT16; break;
        case GJ_PS_VECTOR_INT32: t = GJ_VECTOR_INT32; break;
        case GJ_PS_VECTOR_INT64: t = GJ_VECTOR_INT64; break;
        case GJ_PS_VECTOR_FLOAT32: t = GJ_VECTOR_FLOAT32; break;
        case GJ_PS_VECTOR_FLOAT64: t = GJ_VECTOR_FLOAT64; break;
        default: break;
        }
    }
    if (!t)
        return gj__error_set(c->err, GJ_EPROTOCOL, "PackStream Vector at byte %zu: type_marker (byte %zu) is %s%02X, "
                             "not one of C8 C9 CA CB C6 C1", c->at, mat, mlen == 1 ? "" : "not one byte: ",
                             mlen ? marker[0] : 0);
    if (len % gj_vector_type_size(t) != 0)
        return gj__error_set(c->err, GJ_EPROTOCOL, "PackStream Vector at byte %zu: %zu data bytes are not a whole "
                             "number of %s elements", c->at, len, gj_vector_type_name(t));
    gj_value *v = NULL;
    rc = gj_value_new_vector_bytes(&v, t, data, len);
    return make_done(c, rc, rc ? NULL : v, out);
}

/* UnsupportedType(name::String, minimum_protocol_major::Integer,
 * minimum_protocol_minor::Integer, extra::Dictionary{message}) -> a tagged
 * GJ_PS_UNSUPPORTED_TAG value around {name, minimum_protocol_version,
 * message}. */
static int read_unsupported(const st_ctx *c, gj_value **out)
{
    gj_value *name = NULL, *extra = NULL, *map = NULL, *v = NULL;
    int64_t major, minor;
    int rc;
    if ((rc = field_value(c, "name", GJ_TSTRING, &name)) || (rc = field_int(c, "minimum_protocol_major", &major)) ||
        (rc = field_int(c, "minimum_protocol_minor", &minor)) || (rc = field_value(c, "extra", GJ_TMAP, &extra)))
        goto out;
    if (major < 0 || major > 255 || minor < 0 || minor > 255) {
        rc = field_range(c, major < 0 || major > 255 ? "minimum_protocol_major" : "minimum_protocol_minor",
                         (long long)(major < 0 || major > 255 ? major : minor));
        goto out;
    }
    char ver[48];
    snprintf(ver, sizeof ver, "%lld.%lld", (long long)major, (long long)minor);
    const gj_value *msg = gj_value_map_get(extra, "message");
    if ((rc = gj_value_new_map(&map, 3)) != 0)
        goto out;
    rc = gj_value_map_put_str(map, "name", name);   /* takes name over, even when it fails */
    name = NULL;
    if (rc)
        goto out;
    if ((rc = gj_value_map_put_str(map, "minimum_protocol_version", gj_value_string(ver))) != 0 ||
        (msg && gj_value_type(msg) == GJ_TSTRING &&
         (rc = gj_value_map_put_str(map, "message", gj_value_ref(msg))) != 0))
        goto out;
    rc = gj_value_new_tagged(&v, GJ_PS_UNSUPPORTED_TAG, map);
    map = NULL;
    rc = make_done(c, rc, rc ? NULL : v, out);
out:
    if (rc == GJ_ENOMEM)
        rc = gj__ps_no_memory(c->err, c->name);
    gj_value_unref(name);
    gj_value_unref(extra);
    gj_value_unref(map);
    return rc;
}

#define NANOS_PER_DAY INT64_C(86400000000000)

static int read_datetime(const st_ctx *c, uint8_t tag, gj_value **out)
{
    int64_t secs;
    int32_t nanos, off = 0;
    const char *zs = NULL;
    size_t zlen = 0;
    char zone[GJ_PS_MAX_ZONE_ID + 1];
    bool has_zone = tag == GJ_PS_TAG_DATETIME_ZONE_ID || tag == GJ_PS_TAG_LEGACY_DATETIME_ZONE_ID;
    int rc;
    if ((rc = field_int(c, "seconds", &secs)) ||
        (rc = field_int32(c, "nanoseconds", 0, 999999999, &nanos)))
        return rc;
    if (has_zone) {
        size_t zat = c->r->pos;
        if ((rc = gj__ps_read_string_raw(c->r, "tz_id", &zs, &zlen, c->err)))
            return rc;
        if (zlen == 0 || zlen > GJ_PS_MAX_ZONE_ID || memchr(zs, 0, zlen))
            return gj__error_set(c->err, GJ_EPROTOCOL,
                                 "PackStream %s at byte %zu: tz_id at byte %zu is empty, too long "
                                 "(%zu bytes, limit %u) or holds NUL",
                                 c->name, c->at, zat, zlen, GJ_PS_MAX_ZONE_ID);
        memcpy(zone, zs, zlen);
        zone[zlen] = '\0';
    } else if ((rc = field_int32(c, "tz_offset_seconds", -86400, 86400, &off))) {
        return rc;
    }
    unsigned flags = 0;
    const gj_ps_config *cfg = c->r->cfg;
    int32_t zoff = 0;
    bool resolved = has_zone && cfg && cfg->zone_offset &&
                    cfg->zone_offset(cfg->zone_arg, zone, secs, tag == GJ_PS_TAG_LEGACY_DATETIME_ZONE_ID,
                                     &zoff) == 0 && zoff > -86400 && zoff < 86400;
    switch (tag) {
    case GJ_PS_TAG_DATETIME:
        flags = GJ_DATETIME_HAS_OFFSET;
        break;
    case GJ_PS_TAG_LEGACY_DATETIME:
        if (__builtin_sub_overflow(secs, (int64_t)off, &secs))
            return field_range(c, "seconds", (long long)secs);
        flags = GJ_DATETIME_HAS_OFFSET;
        break;
    case GJ_PS_TAG_DATETIME_ZONE_ID:
        if (resolved) {
            off = zoff;
            flags = GJ_DATETIME_HAS_OFFSET;
        }
        break;
    case GJ_PS_TAG_LEGACY_DATETIME_ZONE_ID:
        /* Wall-clock seconds: to UTC when the zone's offset is known. */
        if (resolved && !__builtin_sub_overflow(secs, (int64_t)zoff, &secs)) {
            off = zoff;
            flags = GJ_DATETIME_HAS_OFFSET;
        } else {
            flags = GJ_DATETIME_LOCAL_SECONDS;
        }
        break;
    default:
        break;
    }
    gj_value *v = NULL;
    rc = gj_value_new_datetime(&v, secs, nanos, off, has_zone ? zone : NULL, flags);
    return make_done(c, rc, rc ? NULL : v, out);
}

int gj__ps_read_struct_value(gj_ps_reader *r, size_t at, unsigned n_fields, uint8_t tag,
                             unsigned depth, gj_value **out, gj_error *err)
{
    if (depth + 1 > gj__ps_max_depth(r->cfg))
        return gj__ps_too_deep(r, at, err);
    if (n_fields > r->len - r->pos)
        return gj__ps_truncated(r, at, "structure", n_fields, err);
    if (tag > 0x7F)
        return gj__error_set(err, GJ_EPROTOCOL,
                             "PackStream structure tag 0x%02X at byte %zu is above 0x7F", tag, at);
    const gj_ps_config *cfg = r->cfg;
    bool eids = gj__ps_has_element_ids(cfg), utc = gj__ps_utc_datetimes(cfg);
    const char *name = struct_name(tag);
    unsigned want = 0;
    switch (tag) {
    case GJ_PS_TAG_NODE: want = eids ? 4 : 3; break;
    case GJ_PS_TAG_RELATIONSHIP: want = eids ? 8 : 5; break;
    case GJ_PS_TAG_UNBOUND_REL: want = eids ? 4 : 3; break;
    case GJ_PS_TAG_PATH: want = 3; break;
    case GJ_PS_TAG_DATE: want = 1; break;
    case GJ_PS_TAG_TIME: want = 2; break;
    case GJ_PS_TAG_LOCAL_TIME: want = 1; break;
    case GJ_PS_TAG_DATETIME:
    case GJ_PS_TAG_DATETIME_ZONE_ID:
        if (utc)
            want = 3;
        break;
    case GJ_PS_TAG_LEGACY_DATETIME:
    case GJ_PS_TAG_LEGACY_DATETIME_ZONE_ID:
        if (!utc)
            want = 3;
        break;
    case GJ_PS_TAG_LOCAL_DATETIME: want = 2; break;
    case GJ_PS_TAG_DURATION: want = 4; break;
    case GJ_PS_TAG_POINT2D: want = 3; break;
    case GJ_PS_TAG_POINT3D: want = 4; break;
    case GJ_PS_TAG_VECTOR: want = gj__ps_has_vectors(cfg) ? 2 : 0; break;
    case GJ_PS_TAG_UNSUPPORTED: want = gj__ps_has_vectors(cfg) ? 4 : 0; break;
    default: break;
    }
    if (want == 0) {
        /* Not a structure of this Bolt version. */
        if (cfg && cfg->unknown_struct_passthrough) {
            gj_value *fields, *v = NULL;
            char tagname[sizeof GJ_PS_TAG_PREFIX + 3];
            int rc = gj__ps_read_list(r, at, n_fields, depth, &fields, err);
            if (rc)
                return rc;
            snprintf(tagname, sizeof tagname, GJ_PS_TAG_PREFIX "%02X", tag);
            if (gj_value_new_tagged(&v, tagname, fields) != 0)
                return gj__ps_no_memory(err, "structure");
            *out = v;
            return 0;
        }
        if (name)
            return gj__error_set(err, GJ_EPROTOCOL,
                                 "PackStream structure 0x%02X (%s) at byte %zu is not valid in Bolt %u.%u%s",
                                 tag, name, at, gj__ps_bolt_major(cfg), cfg ? cfg->bolt_minor : 0,
                                 tag == GJ_PS_TAG_VECTOR || tag == GJ_PS_TAG_UNSUPPORTED ? " (it needs 6.0)"
                                 : utc ? "" : " without the utc patch");
        return gj__error_set(err, GJ_EPROTOCOL, "PackStream unknown structure tag 0x%02X at byte %zu",
                             tag, at);
    }
    if (n_fields != want)
        return gj__error_set(err, GJ_EPROTOCOL,
                             "PackStream %s structure at byte %zu has %u fields; Bolt %u.%u expects %u",
                             name, at, n_fields, gj__ps_bolt_major(cfg), cfg ? cfg->bolt_minor : 0, want);

    st_ctx c = { r, at, name, depth + 1, err };
    gj_value *v = NULL;
    int rc;
    switch (tag) {
    case GJ_PS_TAG_NODE:
        return read_node(&c, eids, out);
    case GJ_PS_TAG_RELATIONSHIP:
        return read_relationship(&c, eids, true, out);
    case GJ_PS_TAG_UNBOUND_REL:
        return read_relationship(&c, eids, false, out);
    case GJ_PS_TAG_PATH:
        return read_path(&c, eids, out);
    case GJ_PS_TAG_DATE: {
        int64_t days;
        if ((rc = field_int(&c, "days", &days)))
            return rc;
        rc = gj_value_new_date(&v, days);
        return make_done(&c, rc, rc ? NULL : v, out);
    }
    case GJ_PS_TAG_TIME:
    case GJ_PS_TAG_LOCAL_TIME: {
        int64_t ns;
        int32_t off = 0;
        if ((rc = field_int(&c, "nanoseconds", &ns)))
            return rc;
        if (ns < 0 || ns >= NANOS_PER_DAY)
            return field_range(&c, "nanoseconds", (long long)ns);
        if (tag == GJ_PS_TAG_TIME) {
            if ((rc = field_int32(&c, "tz_offset_seconds", -86400, 86400, &off)))
                return rc;
            rc = gj_value_new_time(&v, ns, off);
        } else {
            rc = gj_value_new_local_time(&v, ns);
        }
        return make_done(&c, rc, rc ? NULL : v, out);
    }
    case GJ_PS_TAG_DATETIME:
    case GJ_PS_TAG_DATETIME_ZONE_ID:
    case GJ_PS_TAG_LEGACY_DATETIME:
    case GJ_PS_TAG_LEGACY_DATETIME_ZONE_ID:
        return read_datetime(&c, tag, out);
    case GJ_PS_TAG_LOCAL_DATETIME: {
        int64_t secs;
        int32_t nanos;
        if ((rc = field_int(&c, "seconds", &secs)) ||
            (rc = field_int32(&c, "nanoseconds", 0, 999999999, &nanos)))
            return rc;
        rc = gj_value_new_local_datetime(&v, secs, nanos);
        return make_done(&c, rc, rc ? NULL : v, out);
    }
    case GJ_PS_TAG_DURATION: {
        int64_t months, days, secs;
        int32_t nanos;
        if ((rc = field_int(&c, "months", &months)) || (rc = field_int(&c, "days", &days)) ||
            (rc = field_int(&c, "seconds", &secs)) ||
            (rc = field_int32(&c, "nanoseconds", -999999999, 999999999, &nanos)))
            return rc;
        rc = gj_value_new_duration(&v, months, days, secs, nanos);
        return make_done(&c, rc, rc ? NULL : v, out);
    }
    case GJ_PS_TAG_VECTOR:
        return read_vector(&c, out);
    case GJ_PS_TAG_UNSUPPORTED:
        return read_unsupported(&c, out);
    case GJ_PS_TAG_POINT2D:
    case GJ_PS_TAG_POINT3D: {
        int64_t srid;
        double x, y, z = 0;
        if ((rc = field_int(&c, "srid", &srid)) || (rc = field_float(&c, "x", &x)) ||
            (rc = field_float(&c, "y", &y)) ||
            (tag == GJ_PS_TAG_POINT3D && (rc = field_float(&c, "z", &z))))
            return rc;
        rc = gj_value_new_point(&v, srid, tag == GJ_PS_TAG_POINT3D ? 3 : 2, x, y, z);
        return make_done(&c, rc, rc ? NULL : v, out);
    }
    default:
        return gj__error_set(err, GJ_EPROTOCOL, "PackStream unknown structure tag 0x%02X at byte %zu",
                             tag, at);
    }
}
