/*
 * Accessors of values (include/graphjob/value.h).  Layout: value_struct.h.
 */
#include "core/internal.h"
#include "core/value_struct.h"

#include <string.h>

static bool is_type(const gj_value *v, gj_type t)
{
    return v && v->type == t;
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
        *out = ((const gj__vint *)v)->i;
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
        *out = ((const gj__vfloat *)v)->d;
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
            *data = ((const gj__vbytes *)v)->data;
        if (len)
            *len = ((const gj__vbytes *)v)->len;
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
        memcpy(out, ((const gj__vuuid *)v)->b, 16);
    return rc;
}

size_t gj_value_size(const gj_value *v)
{
    if (!v)
        return 0;
    if (v->type == GJ_TLIST || v->type == GJ_TSET)
        return ((const gj__vlist *)v)->size;
    if (v->type == GJ_TMAP)
        return ((const gj__vmap *)v)->size;
    return 0;
}

gj_value *const *gj__value_list_items(const gj_value *v, size_t *count)
{
    if (!v || (v->type != GJ_TLIST && v->type != GJ_TSET)) {
        *count = 0;
        return NULL;
    }
    *count = ((const gj__vlist *)v)->size;
    return ((const gj__vlist *)v)->items;
}

const gj_value *gj_value_list_at(const gj_value *v, size_t i)
{
    if (!v || (v->type != GJ_TLIST && v->type != GJ_TSET) || i >= ((const gj__vlist *)v)->size)
        return NULL;
    return ((const gj__vlist *)v)->items[i];
}

const gj_value *gj_value_map_key_at(const gj_value *v, size_t i)
{
    if (!is_type(v, GJ_TMAP) || i >= ((const gj__vmap *)v)->size)
        return NULL;
    return ((const gj__vmap *)v)->kv[2 * i];
}

const gj_value *gj_value_map_value_at(const gj_value *v, size_t i)
{
    if (!is_type(v, GJ_TMAP) || i >= ((const gj__vmap *)v)->size)
        return NULL;
    return ((const gj__vmap *)v)->kv[2 * i + 1];
}

static const gj_value *part_of(const gj_value *v, gj_type t, unsigned which)
{
    return is_type(v, t) ? ((const gj__vparts *)v)->part[which] : NULL;
}

const gj_value *gj_value_element_id(const gj_value *v)
{
    if (is_type(v, GJ_TNODE))
        return part_of(v, GJ_TNODE, GJ__NODE_ID);
    return part_of(v, GJ_TEDGE, GJ__EDGE_ID);
}

const gj_value *gj_value_element_element_id(const gj_value *v)
{
    if (is_type(v, GJ_TNODE))
        return part_of(v, GJ_TNODE, GJ__NODE_EID);
    return part_of(v, GJ_TEDGE, GJ__EDGE_EID);
}

const gj_value *gj_value_element_properties(const gj_value *v)
{
    if (is_type(v, GJ_TNODE))
        return part_of(v, GJ_TNODE, GJ__NODE_PROPS);
    return part_of(v, GJ_TEDGE, GJ__EDGE_PROPS);
}

const gj_value *gj_value_node_labels(const gj_value *v)
{
    return part_of(v, GJ_TNODE, GJ__NODE_LABELS);
}

const gj_value *gj_value_edge_type(const gj_value *v)
{
    return part_of(v, GJ_TEDGE, GJ__EDGE_TYPE);
}

const gj_value *gj_value_edge_start_id(const gj_value *v)
{
    return part_of(v, GJ_TEDGE, GJ__EDGE_START);
}

const gj_value *gj_value_edge_end_id(const gj_value *v)
{
    return part_of(v, GJ_TEDGE, GJ__EDGE_END);
}

const gj_value *gj_value_edge_start_element_id(const gj_value *v)
{
    return part_of(v, GJ_TEDGE, GJ__EDGE_START_EID);
}

const gj_value *gj_value_edge_end_element_id(const gj_value *v)
{
    return part_of(v, GJ_TEDGE, GJ__EDGE_END_EID);
}

const gj_value *gj_value_edge_start_label(const gj_value *v)
{
    return part_of(v, GJ_TEDGE, GJ__EDGE_START_LABEL);
}

const gj_value *gj_value_edge_end_label(const gj_value *v)
{
    return part_of(v, GJ_TEDGE, GJ__EDGE_END_LABEL);
}

const gj_value *gj_value_path_objects(const gj_value *v)
{
    return part_of(v, GJ_TPATH, GJ__PATH_OBJECTS);
}

const gj_value *gj_value_path_labels(const gj_value *v)
{
    return part_of(v, GJ_TPATH, GJ__PATH_LABELS);
}

int gj_value_date_get(const gj_value *v, int64_t *days)
{
    int rc = check_get(v, GJ_TDATE);
    if (rc == 0 && days)
        *days = ((const gj__vdate *)v)->days;
    return rc;
}

int gj_value_time_get(const gj_value *v, int64_t *nanos_of_day, int32_t *offset_seconds)
{
    if (!v)
        return GJ_EINVAL;
    if (v->type != GJ_TTIME && v->type != GJ_TLOCAL_TIME)
        return GJ_ETYPE;
    const gj__vtime *t = (const gj__vtime *)v;
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
    const gj__vdatetime *d = (const gj__vdatetime *)v;
    if (seconds)
        *seconds = d->seconds;
    if (nanos)
        *nanos = d->nanos;
    if (offset_seconds)
        *offset_seconds = d->offset;
    if (zone_id)
        *zone_id = (v->flags & GJ__F_ZONE) ? d->zone : NULL;
    if (flags)
        *flags = v->flags & GJ__F_DATETIME_PUBLIC;
    return 0;
}

int gj_value_duration_get(const gj_value *v, int64_t *months, int64_t *days, int64_t *seconds,
                          int32_t *nanos)
{
    int rc = check_get(v, GJ_TDURATION);
    if (rc)
        return rc;
    const gj__vduration *d = (const gj__vduration *)v;
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
    const gj__vpoint *p = (const gj__vpoint *)v;
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
        *tag = ((const gj__vparts *)v)->tag;
    if (inner)
        *inner = ((const gj__vparts *)v)->part[GJ__TAGGED_INNER];
    return 0;
}

bool gj__value_truthy(const gj_value *v)
{
    bool b = false;
    int64_t i = 0;
    const char *s = NULL;
    if (!v)
        return false;
    if (gj_value_bool_get(v, &b) == 0)
        return b;
    if (gj_value_int_get(v, &i) == 0)
        return i != 0;
    if (gj_value_string_get(v, &s, NULL) == 0)
        return strcmp(s, "true") == 0 || strcmp(s, "1") == 0 || strcmp(s, "yes") == 0 ||
               strcmp(s, "on") == 0;
    return false;
}
