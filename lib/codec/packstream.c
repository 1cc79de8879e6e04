/*
 * PackStream v1: configuration, UTF-8 validation, the output buffer and the
 * primitive writers.  The value encoder is in packstream_encode.c, the
 * decoder in packstream_decode.c and packstream_structs.c.
 */
#include "codec/packstream_internal.h"
#include "core/value_internal.h"

#include <stdlib.h>
#include <string.h>
#include <stdio.h>

/* ======================================================================
 * Configuration
 * ====================================================================== */

unsigned gj__ps_bolt_major(const gj_ps_config *cfg)
{
    return (cfg && cfg->bolt_major) ? cfg->bolt_major : 5u;
}

bool gj__ps_has_element_ids(const gj_ps_config *cfg)
{
    return gj__ps_bolt_major(cfg) >= 5;
}

bool gj__ps_utc_datetimes(const gj_ps_config *cfg)
{
    return gj__ps_bolt_major(cfg) >= 5 || (cfg && cfg->utc_patch);
}

bool gj__ps_has_vectors(const gj_ps_config *cfg)
{
    return gj__ps_bolt_major(cfg) >= 6;
}

unsigned gj__ps_max_depth(const gj_ps_config *cfg)
{
    unsigned d = (cfg && cfg->max_depth) ? cfg->max_depth : GJ_PS_DEFAULT_MAX_DEPTH;
    return d > GJ_PS_MAX_MAX_DEPTH ? GJ_PS_MAX_MAX_DEPTH : d;
}

/* ======================================================================
 * UTF-8 validation (the value model's validator)
 * ====================================================================== */

size_t gj__ps_utf8_invalid_at(const uint8_t *s, size_t len)
{
    size_t bad = 0;
    return gj__utf8_valid((const char *)s, len, &bad) ? len : bad;
}

/* ======================================================================
 * Output buffer
 * ====================================================================== */

void gj__ps_buf_init(gj_ps_buf *b, size_t max)
{
    memset(b, 0, sizeof *b);
    b->max = max ? max : SIZE_MAX;
}

void gj__ps_buf_free(gj_ps_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->error = 0;
}

void gj__ps_buf_reset(gj_ps_buf *b)
{
    b->len = 0;
    b->error = 0;
    b->wanted = 0;
}

int gj__ps_buf_reserve(gj_ps_buf *b, size_t n)
{
    if (b->error)
        return b->error;
    if (b->cap - b->len >= n)
        return 0;
    if (n > b->max || b->len > b->max - n) {
        b->wanted = (n > SIZE_MAX - b->len) ? SIZE_MAX : b->len + n;
        return b->error = GJ_ETOOBIG;
    }
    size_t need = b->len + n;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap = (cap > SIZE_MAX / 2) ? need : cap * 2;
    if (cap > b->max)
        cap = b->max;
    uint8_t *p = realloc(b->data, cap);
    if (!p) {
        b->wanted = need;
        return b->error = GJ_ENOMEM;
    }
    b->data = p;
    b->cap = cap;
    return 0;
}

int gj__ps_buf_append(gj_ps_buf *b, const void *data, size_t n)
{
    int rc = gj__ps_buf_reserve(b, n);
    if (rc)
        return rc;
    if (n)
        memcpy(b->data + b->len, data, n);
    b->len += n;
    return 0;
}

int gj__ps_buf_check(const gj_ps_buf *b, gj_error *err)
{
    switch (b->error) {
    case 0:
        return 0;
    case GJ_ETOOBIG:
        return gj__error_set(err, GJ_ETOOBIG,
                             "encoded message needs %zu bytes, more than max_message_size (%zu)",
                             b->wanted, b->max);
    case GJ_ENOMEM:
        return gj__error_set(err, GJ_ENOMEM, "out of memory growing an encode buffer to %zu bytes",
                             b->wanted);
    default:
        return gj__error_set(err, b->error, "PackStream encoder: invalid structure header");
    }
}

/* ======================================================================
 * Primitive writers
 * ====================================================================== */

static inline void store16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline void store32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static inline void store64(uint8_t *p, uint64_t v)
{
    store32(p, (uint32_t)(v >> 32));
    store32(p + 4, (uint32_t)v);
}

static inline int put_byte(gj_ps_buf *b, uint8_t c)
{
    if (b->cap == b->len || b->error) {
        int rc = gj__ps_buf_reserve(b, 1);
        if (rc)
            return rc;
    }
    b->data[b->len++] = c;
    return 0;
}

int gj__ps_put_null(gj_ps_buf *b)
{
    return put_byte(b, GJ_PS_NULL);
}

int gj__ps_put_bool(gj_ps_buf *b, bool v)
{
    return put_byte(b, v ? GJ_PS_TRUE : GJ_PS_FALSE);
}

int gj__ps_put_int(gj_ps_buf *b, int64_t v)
{
    int rc = gj__ps_buf_reserve(b, 9);
    if (rc)
        return rc;
    uint8_t *p = b->data + b->len;
    if (v >= -16 && v <= 127) {
        p[0] = (uint8_t)(int8_t)v;
        b->len += 1;
    } else if (v >= INT8_MIN && v <= INT8_MAX) {
        p[0] = GJ_PS_INT8;
        p[1] = (uint8_t)(int8_t)v;
        b->len += 2;
    } else if (v >= INT16_MIN && v <= INT16_MAX) {
        p[0] = GJ_PS_INT16;
        store16(p + 1, (uint16_t)(int16_t)v);
        b->len += 3;
    } else if (v >= INT32_MIN && v <= INT32_MAX) {
        p[0] = GJ_PS_INT32;
        store32(p + 1, (uint32_t)(int32_t)v);
        b->len += 5;
    } else {
        p[0] = GJ_PS_INT64;
        store64(p + 1, (uint64_t)v);
        b->len += 9;
    }
    return 0;
}

int gj__ps_put_float(gj_ps_buf *b, double v)
{
    int rc = gj__ps_buf_reserve(b, 9);
    if (rc)
        return rc;
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    b->data[b->len] = GJ_PS_FLOAT;
    store64(b->data + b->len + 1, bits);
    b->len += 9;
    return 0;
}

/* Marker + size for the sized types; tiny = 0 when the type has no tiny form. */
static int put_size_header(gj_ps_buf *b, uint8_t tiny, uint8_t m8, size_t n)
{
    int rc = gj__ps_buf_reserve(b, 5);
    if (rc)
        return rc;
    uint8_t *p = b->data + b->len;
    if (tiny && n < 16) {
        p[0] = (uint8_t)(tiny | n);
        b->len += 1;
    } else if (n <= 0xFF) {
        p[0] = m8;
        p[1] = (uint8_t)n;
        b->len += 2;
    } else if (n <= 0xFFFF) {
        p[0] = (uint8_t)(m8 + 1);
        store16(p + 1, (uint16_t)n);
        b->len += 3;
    } else if (n <= (size_t)INT32_MAX) {
        p[0] = (uint8_t)(m8 + 2);
        store32(p + 1, (uint32_t)n);
        b->len += 5;
    } else {
        b->wanted = n;
        return b->error = GJ_ETOOBIG;
    }
    return 0;
}

int gj__ps_put_string(gj_ps_buf *b, const char *s, size_t len)
{
    int rc = put_size_header(b, GJ_PS_TINY_STRING, GJ_PS_STRING8, len);
    return rc ? rc : gj__ps_buf_append(b, s, len);
}

int gj__ps_put_cstring(gj_ps_buf *b, const char *s)
{
    return gj__ps_put_string(b, s, strlen(s));
}

int gj__ps_put_bytes(gj_ps_buf *b, const void *data, size_t len)
{
    int rc = put_size_header(b, 0, GJ_PS_BYTES8, len);
    return rc ? rc : gj__ps_buf_append(b, data, len);
}

int gj__ps_put_list_header(gj_ps_buf *b, size_t n)
{
    return put_size_header(b, GJ_PS_TINY_LIST, GJ_PS_LIST8, n);
}

int gj__ps_put_map_header(gj_ps_buf *b, size_t n)
{
    return put_size_header(b, GJ_PS_TINY_MAP, GJ_PS_MAP8, n);
}

int gj__ps_put_struct_header(gj_ps_buf *b, unsigned n_fields, uint8_t tag)
{
    if (b->error)
        return b->error;
    if (n_fields > GJ_PS_MAX_STRUCT_FIELDS || tag > 0x7F)
        return b->error = GJ_EINVAL;
    int rc = gj__ps_buf_reserve(b, 2);
    if (rc)
        return rc;
    b->data[b->len] = (uint8_t)(GJ_PS_TINY_STRUCT | n_fields);
    b->data[b->len + 1] = tag;
    b->len += 2;
    return 0;
}

