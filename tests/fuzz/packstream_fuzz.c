/*
 * libFuzzer target: Bolt dechunker + PackStream decoder (+ re-encoder).
 *
 * Input: byte 0 chooses the decoder configuration (Bolt 5.x / 4.4 / 4.4 with
 * the utc patch, passthrough of unknown structures, a small depth limit,
 * how the stream is cut into feeds); the rest is a chunked Bolt stream.
 * Every complete message is decoded as a Bolt message (a structure whose
 * fields are values).  Whatever decodes must re-encode, and encoding is
 * stable: encode(decode(encode(v))) == encode(v).  The whole input is also
 * decoded as one bare value.
 *
 * Build: configure --enable-fuzzing CC=clang CXX=clang++; make tests/fuzz/packstream_fuzz
 * Run:   tests/fuzz/packstream_fuzz -max_total_time=60 $(srcdir)/tests/fuzz/corpus/packstream
 */
#include "codec/bolt_handshake.h"
#include "codec/bolt_msg.h"
#include "codec/chunk.h"
#include "codec/packstream.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_MESSAGE (1u << 20)

static gj_ps_config config_from(uint8_t b)
{
    gj_ps_config cfg;
    memset(&cfg, 0, sizeof cfg);
    switch (b & 3) {
    case 1:
        cfg.bolt_major = 4, cfg.bolt_minor = 4;
        break;
    case 2:
        cfg.bolt_major = 4, cfg.bolt_minor = 4, cfg.utc_patch = true;
        break;
    case 3:
        cfg.bolt_major = 6, cfg.bolt_minor = 0;
        break;
    default:
        cfg.bolt_major = 5, cfg.bolt_minor = (b >> 6) & 3;
        break;
    }
    cfg.unknown_struct_passthrough = (b & 4) != 0;
    if (b & 8)
        cfg.max_depth = 6;
    return cfg;
}

static void encode_stable(const gj_value *v, const gj_ps_config *dcfg)
{
    gj_ps_config cfg = *dcfg;
    cfg.allow_graph_values = true;
    gj_ps_buf b1, b2;
    gj__ps_buf_init(&b1, 0);
    gj__ps_buf_init(&b2, 0);
    /* Depth: a decoded value nests at most max_depth; encoding allows as much. */
    if (gj__ps_encode(&b1, v, &cfg, NULL) != 0)
        abort();
    gj_value *again = NULL;
    if (gj__ps_decode(&again, b1.data, b1.len, &cfg, NULL) != 0)
        abort();
    if (gj__ps_encode(&b2, again, &cfg, NULL) != 0)
        abort();
    if (b1.len != b2.len || memcmp(b1.data, b2.data, b1.len) != 0)
        abort();
    gj_value_unref(again);
    gj__ps_buf_free(&b1);
    gj__ps_buf_free(&b2);
}

static void decode_message(const uint8_t *msg, size_t len, const gj_ps_config *cfg, gj_error *err)
{
    /* As a Bolt message, in both directions. */
    for (int dir = 0; dir < 2; dir++) {
        gj_bolt_msg m;
        if (gj__bolt_msg_decode(&m, msg, len, cfg, (gj_bolt_dir)dir, err) == 0) {
            if (m.n_fields > GJ_PS_MAX_STRUCT_FIELDS)
                abort();
            gj__bolt_msg_clear(&m);
        }
    }

    gj_ps_reader r;
    unsigned n_fields;
    uint8_t tag;
    gj__ps_reader_init(&r, msg, len, cfg);
    if (gj__ps_read_struct_header(&r, &n_fields, &tag, err) != 0)
        return;
    for (unsigned i = 0; i < n_fields; i++) {
        gj_value *v = NULL;
        if (gj__ps_read_value(&r, 1, &v, err) != 0)
            return;
        encode_stable(v, cfg);
        gj_value_unref(v);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    gj_ps_config cfg = config_from(data[0]);
    size_t piece = (data[0] & 0x30) == 0x30 ? 1 : (data[0] & 0x30) == 0x20 ? 3 : SIZE_MAX;
    const uint8_t *stream = data + 1;
    size_t len = size - 1;
    gj_error *err = gj_error_new();
    if (!err)
        return 0;

    gj_dechunker d;
    gj__dechunk_init(&d, FUZZ_MAX_MESSAGE);
    size_t pos = 0;
    while (pos < len) {
        size_t n = len - pos < piece ? len - pos : piece;
        size_t off = 0;
        int rc = 0;
        while (off < n) {
            size_t used = 0;
            rc = gj__dechunk_feed(&d, stream + pos + off, n - off, &used, err);
            if (rc < 0)
                break;
            off += used;
            if (rc == 1) {
                const uint8_t *msg;
                size_t mlen;
                gj__dechunk_message(&d, &msg, &mlen);
                decode_message(msg, mlen, &cfg, err);
            }
        }
        if (rc < 0)
            break;
        pos += n;
    }
    gj__dechunk_free(&d);

    /* The handshake helpers on the same bytes. */
    if (len >= GJ_BOLT_HANDSHAKE_LEN) {
        static const gj_bolt_version versions[] = { { 5, 8 }, { 5, 4 }, { 5, 0 }, { 4, 4 } };
        uint32_t reply;
        gj__bolt_handshake_choose(stream, versions, 4, (data[0] & 0x40) != 0, &reply, err);
    }
    uint32_t ranges[8];
    size_t used = 0, n_ranges = 0;
    uint64_t caps;
    gj_bolt_version chosen;
    if (gj__bolt_manifest_parse(stream, len, &used, ranges, 8, &n_ranges, &caps, err) == 1 &&
        (used > len || n_ranges > 8))
        abort();
    if (gj__bolt_manifest_choice_parse(stream, len, &used, &chosen, &caps, err) == 1 && used > len)
        abort();

    gj_value *v = NULL;
    if (gj__ps_decode(&v, stream, len, &cfg, err) == 0) {
        encode_stable(v, &cfg);
        gj_value_unref(v);
    }
    gj_error_free(err);
    return 0;
}
