/*
 * Vectors (include/graphjob/value.h, "Vectors"): a tagged value
 * "vector:<TYPE>" around the packed big-endian elements, built and read
 * with the public value API only.
 */
#include "core/value_internal.h"

#include <stdlib.h>
#include <string.h>

/* Vectors with more elements are refused (Neo4j's limit is 4096
 * dimensions; this one only keeps sizes and offsets in range). */
#define VECTOR_MAX_COUNT ((size_t)1 << 31)

static const struct {
    const char *name;
    size_t size;
} types[] = {
    [GJ_VECTOR_INT8] = { "INT8", 1 },       [GJ_VECTOR_INT16] = { "INT16", 2 },
    [GJ_VECTOR_INT32] = { "INT32", 4 },     [GJ_VECTOR_INT64] = { "INT64", 8 },
    [GJ_VECTOR_FLOAT32] = { "FLOAT32", 4 }, [GJ_VECTOR_FLOAT64] = { "FLOAT64", 8 },
};

static bool known(gj_vector_type t)
{
    return t >= GJ_VECTOR_INT8 && t <= GJ_VECTOR_FLOAT64;
}

const char *gj_vector_type_name(gj_vector_type type)
{
    return known(type) ? types[type].name : NULL;
}

size_t gj_vector_type_size(gj_vector_type type)
{
    return known(type) ? types[type].size : 0;
}

/* Big-endian load / store of one element's bits. */
static uint64_t load_be(const uint8_t *p, size_t n)
{
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++)
        x = (x << 8) | p[i];
    return x;
}

static void store_be(uint8_t *p, uint64_t x, size_t n)
{
    for (size_t i = n; i-- > 0;) {
        p[i] = (uint8_t)x;
        x >>= 8;
    }
}

/* The machine-order element at index i of a C array of the type, as bits. */
static uint64_t host_bits(gj_vector_type t, const void *elements, size_t i)
{
    switch (t) {
    case GJ_VECTOR_INT8: return (uint64_t)(uint8_t)((const int8_t *)elements)[i];
    case GJ_VECTOR_INT16: return (uint64_t)(uint16_t)((const int16_t *)elements)[i];
    case GJ_VECTOR_INT32: return (uint64_t)(uint32_t)((const int32_t *)elements)[i];
    case GJ_VECTOR_INT64: return (uint64_t)((const int64_t *)elements)[i];
    case GJ_VECTOR_FLOAT32: {
        uint32_t b;
        memcpy(&b, (const float *)elements + i, 4);
        return b;
    }
    case GJ_VECTOR_FLOAT64: {
        uint64_t b;
        memcpy(&b, (const double *)elements + i, 8);
        return b;
    }
    }
    return 0;
}

static int make(gj_value **out, gj_vector_type type, const uint8_t *be, size_t len, const void *host,
                size_t count)
{
    char tag[sizeof GJ_VECTOR_TAG_PREFIX + 8];
    memcpy(tag, GJ_VECTOR_TAG_PREFIX, sizeof GJ_VECTOR_TAG_PREFIX - 1);
    strcpy(tag + sizeof GJ_VECTOR_TAG_PREFIX - 1, types[type].name);
    gj_value *bytes = NULL;
    int rc;
    if (be || len == 0) {
        rc = gj_value_new_bytes(&bytes, be ? (const void *)be : "", len);
    } else {
        /* From the machine's order: packed into a scratch buffer first. */
        size_t size = types[type].size;
        uint8_t small[256] = { 0 };
        uint8_t *buf = len <= sizeof small ? small : calloc(1, len);
        if (!buf)
            return GJ_ENOMEM;
        for (size_t i = 0; i < count; i++)
            store_be(buf + i * size, host_bits(type, host, i), size);
        rc = gj_value_new_bytes(&bytes, buf, len);
        if (buf != small)
            free(buf);
    }
    if (rc)
        return rc;
    return gj_value_new_tagged(out, tag, bytes);
}

int gj_value_new_vector(gj_value **out, gj_vector_type type, const void *elements, size_t count)
{
    if (!out)
        return GJ_EINVAL;
    *out = NULL;
    if (!known(type) || (count && !elements))
        return GJ_EINVAL;
    if (count > VECTOR_MAX_COUNT)
        return GJ_ETOOBIG;
    return make(out, type, NULL, count * types[type].size, elements, count);
}

int gj_value_new_vector_bytes(gj_value **out, gj_vector_type type, const void *data, size_t len)
{
    if (!out)
        return GJ_EINVAL;
    *out = NULL;
    if (!known(type) || (len && !data) || len % types[type].size != 0)
        return GJ_EINVAL;
    if (len / types[type].size > VECTOR_MAX_COUNT)
        return GJ_ETOOBIG;
    return make(out, type, data, len, NULL, 0);
}

/* The parts of a vector: 0, or GJ_ETYPE. */
static int parts(const gj_value *v, gj_vector_type *type, const uint8_t **data, size_t *len)
{
    const char *tag = NULL;
    const gj_value *inner = NULL;
    if (gj_value_tagged_get(v, &tag, &inner) != 0 || strncmp(tag, GJ_VECTOR_TAG_PREFIX,
                                                             sizeof GJ_VECTOR_TAG_PREFIX - 1) != 0)
        return GJ_ETYPE;
    const char *name = tag + sizeof GJ_VECTOR_TAG_PREFIX - 1;
    gj_vector_type t = 0;
    for (int k = GJ_VECTOR_INT8; k <= GJ_VECTOR_FLOAT64; k++)
        if (strcmp(name, types[k].name) == 0)
            t = (gj_vector_type)k;
    const uint8_t *d = NULL;
    size_t n = 0;
    if (!t || gj_value_bytes_get(inner, &d, &n) != 0 || n % types[t].size != 0)
        return GJ_ETYPE;
    *type = t;
    *data = d;
    *len = n;
    return 0;
}

bool gj_value_is_vector(const gj_value *v)
{
    gj_vector_type t;
    const uint8_t *d;
    size_t n;
    return parts(v, &t, &d, &n) == 0;
}

int gj_value_vector_get(const gj_value *v, gj_vector_type *type, size_t *count, const uint8_t **data,
                        size_t *len)
{
    gj_vector_type t;
    const uint8_t *d;
    size_t n;
    int rc = parts(v, &t, &d, &n);
    if (rc)
        return rc;
    if (type)
        *type = t;
    if (count)
        *count = n / types[t].size;
    if (data)
        *data = d;
    if (len)
        *len = n;
    return 0;
}

/* Element i's bits, sign-extended for the integer types. */
static int element(const gj_value *v, size_t i, gj_vector_type *type, uint64_t *bits)
{
    const uint8_t *d;
    size_t n;
    int rc = parts(v, type, &d, &n);
    if (rc)
        return rc;
    size_t size = types[*type].size;
    if (i >= n / size)
        return GJ_EINVAL;
    *bits = load_be(d + i * size, size);
    return 0;
}

static int64_t as_int(gj_vector_type t, uint64_t b)
{
    switch (t) {
    case GJ_VECTOR_INT8: return (int8_t)(uint8_t)b;
    case GJ_VECTOR_INT16: return (int16_t)(uint16_t)b;
    case GJ_VECTOR_INT32: return (int32_t)(uint32_t)b;
    default: return (int64_t)b;
    }
}

static double as_float(gj_vector_type t, uint64_t b)
{
    if (t == GJ_VECTOR_FLOAT32) {
        uint32_t b32 = (uint32_t)b;
        float f;
        memcpy(&f, &b32, 4);
        return f;
    }
    if (t == GJ_VECTOR_FLOAT64) {
        double d;
        memcpy(&d, &b, 8);
        return d;
    }
    return (double)as_int(t, b);
}

int gj_value_vector_float_at(const gj_value *v, size_t i, double *out)
{
    gj_vector_type t;
    uint64_t b;
    int rc = element(v, i, &t, &b);
    if (rc)
        return rc;
    if (out)
        *out = as_float(t, b);
    return 0;
}

int gj_value_vector_int_at(const gj_value *v, size_t i, int64_t *out)
{
    gj_vector_type t;
    uint64_t b;
    int rc = element(v, i, &t, &b);
    if (rc)
        return rc;
    if (t == GJ_VECTOR_FLOAT32 || t == GJ_VECTOR_FLOAT64)
        return GJ_ETYPE;
    if (out)
        *out = as_int(t, b);
    return 0;
}

int gj_value_vector_copy(const gj_value *v, void *out, size_t capacity, size_t *count)
{
    gj_vector_type t;
    const uint8_t *d;
    size_t n;
    int rc = parts(v, &t, &d, &n);
    if (rc)
        return rc;
    size_t size = types[t].size, items = n / size;
    if (count)
        *count = items;
    if (items > capacity)
        return GJ_ETOOBIG;
    if (items && !out)
        return GJ_EINVAL;
    for (size_t i = 0; i < items; i++) {
        uint64_t b = load_be(d + i * size, size);
        switch (t) {
        case GJ_VECTOR_INT8: ((int8_t *)out)[i] = (int8_t)(uint8_t)b; break;
        case GJ_VECTOR_INT16: ((int16_t *)out)[i] = (int16_t)(uint16_t)b; break;
        case GJ_VECTOR_INT32: ((int32_t *)out)[i] = (int32_t)(uint32_t)b; break;
        case GJ_VECTOR_INT64: ((int64_t *)out)[i] = (int64_t)b; break;
        case GJ_VECTOR_FLOAT32: {
            uint32_t b32 = (uint32_t)b;
            memcpy((float *)out + i, &b32, 4);
            break;
        }
        case GJ_VECTOR_FLOAT64: memcpy((double *)out + i, &b, 8); break;
        }
    }
    return 0;
}

int gj_value_vector_to_list(const gj_value *v, gj_value **out)
{
    if (!out)
        return GJ_EINVAL;
    *out = NULL;
    gj_vector_type t;
    const uint8_t *d;
    size_t n;
    int rc = parts(v, &t, &d, &n);
    if (rc)
        return rc;
    size_t size = types[t].size, items = n / size;
    gj_value *list = NULL;
    if ((rc = gj_value_new_list(&list, items)) != 0)
        return rc;
    bool is_float = t == GJ_VECTOR_FLOAT32 || t == GJ_VECTOR_FLOAT64;
    for (size_t i = 0; i < items; i++) {
        uint64_t b = load_be(d + i * size, size);
        gj_value *x = NULL;
        rc = is_float ? gj_value_new_float_bits(&x, as_float(t, b), (unsigned)size * 8)
                      : gj_value_new_int_bits(&x, as_int(t, b), (unsigned)size * 8);
        if (!rc)
            rc = gj_value_list_append(list, x);
        if (rc) {
            gj_value_unref(list);
            return rc;
        }
    }
    *out = list;
    return 0;
}
