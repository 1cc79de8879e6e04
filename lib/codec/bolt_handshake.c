/*
 * Bolt handshake (see bolt_handshake.h).
 */
#include "codec/bolt_handshake.h"

static uint32_t be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

bool gj__bolt_proposal_covers(uint32_t proposal, unsigned major, unsigned minor)
{
    if (proposal == 0 || proposal == GJ_BOLT_MANIFEST_V1)
        return false;
    unsigned pmajor = proposal & 0xFF, pminor = (proposal >> 8) & 0xFF, range = (proposal >> 16) & 0xFF;
    if (pmajor != major || minor > pminor)
        return false;
    return pminor - minor <= range;
}

void gj__bolt_handshake_request(uint8_t out[GJ_BOLT_HANDSHAKE_LEN], const uint32_t proposals[4])
{
    put_be32(out, GJ_BOLT_MAGIC);
    for (int i = 0; i < 4; i++)
        put_be32(out + 4 + 4 * i, proposals[i]);
}

int gj__bolt_handshake_choose(const uint8_t in[GJ_BOLT_HANDSHAKE_LEN], const gj_bolt_version *supported,
                              size_t n_supported, bool allow_manifest, uint32_t *reply, gj_error *err)
{
    uint32_t magic = be32(in);
    *reply = 0;
    if (magic != GJ_BOLT_MAGIC)
        return gj__error_set(err, GJ_EPROTOCOL,
                             "not a Bolt client: the connection starts with %02X %02X %02X %02X, "
                             "not 60 60 B0 17", in[0], in[1], in[2], in[3]);
    for (int i = 0; i < 4; i++) {
        uint32_t p = be32(in + 4 + 4 * i);
        if (p == GJ_BOLT_MANIFEST_V1) {
            if (allow_manifest) {
                *reply = GJ_BOLT_MANIFEST_V1;
                return 0;
            }
            continue;
        }
        /* The highest supported version this proposal covers. */
        const gj_bolt_version *best = NULL;
        for (size_t k = 0; k < n_supported; k++) {
            const gj_bolt_version *v = &supported[k];
            if (gj__bolt_proposal_covers(p, v->major, v->minor) &&
                (!best || v->major > best->major || (v->major == best->major && v->minor > best->minor)))
                best = v;
        }
        if (best) {
            *reply = gj__bolt_version_word(best->major, best->minor, 0);
            return 0;
        }
    }
    return 0;
}

size_t gj__varint_put(uint8_t out[GJ_VARINT_MAX], uint64_t v)
{
    size_t n = 0;
    do {
        uint8_t b = v & 0x7F;
        v >>= 7;
        out[n++] = (uint8_t)(b | (v ? 0x80 : 0));
    } while (v);
    return n;
}

int gj__varint_get(const uint8_t *in, size_t len, uint64_t *v, size_t *used)
{
    uint64_t x = 0;
    for (size_t i = 0; i < GJ_VARINT_MAX; i++) {
        if (i >= len)
            return 0;
        uint64_t group = in[i] & 0x7F;
        if (i == 9 && group > 1)
            return GJ_EPROTOCOL;
        x |= group << (7 * i);
        if (!(in[i] & 0x80)) {
            *v = x;
            *used = i + 1;
            return 1;
        }
    }
    return GJ_EPROTOCOL;
}

size_t gj__bolt_manifest_offer(uint8_t *out, size_t cap, const uint32_t *ranges, size_t n,
                               uint64_t capabilities)
{
    uint8_t tmp[GJ_VARINT_MAX];
    size_t need = gj__varint_put(tmp, n) + 4 * n + gj__varint_put(tmp, capabilities);
    if (need > cap)
        return 0;
    size_t pos = gj__varint_put(out, n);
    for (size_t i = 0; i < n; i++, pos += 4)
        put_be32(out + pos, ranges[i]);
    pos += gj__varint_put(out + pos, capabilities);
    return pos;
}

int gj__bolt_manifest_parse(const uint8_t *in, size_t len, size_t *used, uint32_t *ranges,
                            size_t max_ranges, size_t *n, uint64_t *capabilities, gj_error *err)
{
    uint64_t count;
    size_t pos = 0, u;
    int rc = gj__varint_get(in, len, &count, &u);
    if (rc <= 0)
        return rc == 0 ? 0 : gj__error_set(err, GJ_EPROTOCOL, "Bolt manifest: bad varint for the version count");
    if (count > max_ranges)
        return gj__error_set(err, GJ_EPROTOCOL, "Bolt manifest offers %llu version ranges, more than %zu",
                             (unsigned long long)count, max_ranges);
    pos += u;
    if (len - pos < 4 * count)
        return 0;
    for (size_t i = 0; i < count; i++)
        ranges[i] = be32(in + pos + 4 * i);
    pos += 4 * count;
    rc = gj__varint_get(in + pos, len - pos, capabilities, &u);
    if (rc <= 0)
        return rc == 0 ? 0 : gj__error_set(err, GJ_EPROTOCOL, "Bolt manifest: bad varint for the capabilities");
    *n = count;
    *used = pos + u;
    return 1;
}

size_t gj__bolt_manifest_choice(uint8_t out[4 + GJ_VARINT_MAX], unsigned major, unsigned minor,
                                uint64_t capabilities)
{
    put_be32(out, gj__bolt_version_word(major, minor, 0));
    return 4 + gj__varint_put(out + 4, capabilities);
}

int gj__bolt_manifest_choice_parse(const uint8_t *in, size_t len, size_t *used, gj_bolt_version *v,
                                   uint64_t *capabilities, gj_error *err)
{
    if (len < 4)
        return 0;
    uint32_t word = be32(in);
    if (word >> 16)
        return gj__error_set(err, GJ_EPROTOCOL, "Bolt manifest: the client chose %08X, not one exact version",
                             (unsigned)word);
    size_t u;
    int rc = gj__varint_get(in + 4, len - 4, capabilities, &u);
    if (rc <= 0)
        return rc == 0 ? 0 : gj__error_set(err, GJ_EPROTOCOL, "Bolt manifest: bad varint for the capabilities");
    *v = gj__bolt_version_of(word);
    *used = 4 + u;
    return 1;
}
