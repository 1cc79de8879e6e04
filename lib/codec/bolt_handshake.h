/*
 * The Bolt handshake, without I/O: the client's opening (magic + four
 * version proposals), the server's choice, and the manifest v1 exchange
 * (Bolt 5.7+) with its varints.
 *
 * A proposal is a big-endian u32 [reserved][range][minor][major]: it covers
 * major.minor down to major.(minor - range).  00 00 01 FF asks for the
 * manifest v1 handshake.  A server answers one u32: the chosen version,
 * 00 00 01 FF (manifest), or 0 (no common version, then it closes).
 *
 * Threading: pure functions.
 */
#ifndef GJ_CODEC_BOLT_HANDSHAKE_H
#define GJ_CODEC_BOLT_HANDSHAKE_H

#include "core/internal.h"

#define GJ_BOLT_MAGIC UINT32_C(0x6060B017)
#define GJ_BOLT_MANIFEST_V1 UINT32_C(0x000001FF)
#define GJ_BOLT_HTTP UINT32_C(0x48545450)   /* "HTTP": the peer is an HTTP server */
#define GJ_BOLT_HANDSHAKE_LEN 20u
#define GJ_VARINT_MAX 10u

typedef struct gj_bolt_version {
    unsigned major, minor;
} gj_bolt_version;

static inline uint32_t gj__bolt_version_word(unsigned major, unsigned minor, unsigned range)
{
    return ((uint32_t)(range & 0xFF) << 16) | ((uint32_t)(minor & 0xFF) << 8) | (major & 0xFF);
}

static inline gj_bolt_version gj__bolt_version_of(uint32_t word)
{
    gj_bolt_version v = { word & 0xFF, (word >> 8) & 0xFF };
    return v;
}

/* Does a proposal (not the manifest slot) cover major.minor? */
bool gj__bolt_proposal_covers(uint32_t proposal, unsigned major, unsigned minor);

/* Client: magic + 4 proposals into out[20]. */
void gj__bolt_handshake_request(uint8_t out[GJ_BOLT_HANDSHAKE_LEN], const uint32_t proposals[4]);

/* Server: the client's 20 bytes.  GJ_EPROTOCOL when the magic is wrong
 * (the message names the bytes).  Otherwise *reply is what to answer:
 * the first proposal (client order) that covers one of `supported` (the
 * highest such version), the manifest word when allow_manifest and the
 * client offered it first, or 0. */
int gj__bolt_handshake_choose(const uint8_t in[GJ_BOLT_HANDSHAKE_LEN], const gj_bolt_version *supported,
                              size_t n_supported, bool allow_manifest, uint32_t *reply, gj_error *err);

/* Varints: 7 bits per byte, least significant group first. */
size_t gj__varint_put(uint8_t out[GJ_VARINT_MAX], uint64_t v);
/* 1 = complete (*used bytes), 0 = need more bytes, GJ_EPROTOCOL = longer
 * than 10 bytes or above 2^64-1. */
int gj__varint_get(const uint8_t *in, size_t len, uint64_t *v, size_t *used);

/* Server: the manifest offer after the 00 00 01 FF reply: varint n, n
 * ranges (proposal words), varint capabilities.  Returns bytes written, or 0
 * when cap is too small. */
size_t gj__bolt_manifest_offer(uint8_t *out, size_t cap, const uint32_t *ranges, size_t n,
                               uint64_t capabilities);

/* Client: parse a manifest offer (bytes after 00 00 01 FF).  1 = complete
 * (*used bytes, up to max_ranges ranges in ranges[], *n the count), 0 = need
 * more, GJ_EPROTOCOL (more than max_ranges ranges, bad varint). */
int gj__bolt_manifest_parse(const uint8_t *in, size_t len, size_t *used, uint32_t *ranges,
                            size_t max_ranges, size_t *n, uint64_t *capabilities, gj_error *err);

/* The client's choice after a manifest: the exact version word + varint
 * capabilities.  Returns bytes written (<= 4 + 10). */
size_t gj__bolt_manifest_choice(uint8_t out[4 + GJ_VARINT_MAX], unsigned major, unsigned minor,
                                uint64_t capabilities);

/* Server: parse the client's choice.  1 = complete (*used), 0 = need more,
 * GJ_EPROTOCOL (a range in the choice, bad varint). */
int gj__bolt_manifest_choice_parse(const uint8_t *in, size_t len, size_t *used, gj_bolt_version *v,
                                   uint64_t *capabilities, gj_error *err);

#endif
