/*
 * Helpers shared by the PackStream source files (lib/codec/packstream*.c).
 * Not for use outside lib/codec.
 */
#ifndef GJ_CODEC_PACKSTREAM_INTERNAL_H
#define GJ_CODEC_PACKSTREAM_INTERNAL_H

#include "codec/packstream.h"

unsigned gj__ps_bolt_major(const gj_ps_config *cfg);   /* 5 when unset */
unsigned gj__ps_max_depth(const gj_ps_config *cfg);

static inline uint16_t gj__ps_load16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

static inline uint32_t gj__ps_load32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static inline uint64_t gj__ps_load64(const uint8_t *p)
{
    return ((uint64_t)gj__ps_load32(p) << 32) | gj__ps_load32(p + 4);
}

/* Is m a string marker?  Returns the width of its size (0 = tiny) or -1. */
static inline int gj__ps_string_marker(uint8_t m)
{
    if ((m & 0xF0) == GJ_PS_TINY_STRING)
        return 0;
    if (m == GJ_PS_STRING8)
        return 1;
    if (m == GJ_PS_STRING16)
        return 2;
    if (m == GJ_PS_STRING32)
        return 4;
    return -1;
}

/* Error helpers: fill err and return the code. */
int gj__ps_truncated(const gj_ps_reader *r, size_t at, const char *what, size_t need,
                     gj_error *err);
int gj__ps_no_memory(gj_error *err, const char *what);
int gj__ps_too_deep(const gj_ps_reader *r, size_t at, gj_error *err);

/* A string in place (pointer into the span, UTF-8 checked); what names it
 * in errors. */
int gj__ps_read_string_raw(gj_ps_reader *r, const char *what, const char **s, size_t *n,
                           gj_error *err);
/* The n items of a list whose marker is at `at` (r->pos at the first item). */
int gj__ps_read_list(gj_ps_reader *r, size_t at, size_t n, unsigned depth, gj_value **out,
                     gj_error *err);
/* A structure in a value position: marker at `at`, r->pos at the first field. */
int gj__ps_read_struct_value(gj_ps_reader *r, size_t at, unsigned n_fields, uint8_t tag,
                             unsigned depth, gj_value **out, gj_error *err);

#endif
