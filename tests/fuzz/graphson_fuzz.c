/*
 * libFuzzer target: the GraphSON 3.0 / 2.0 decoder (+ encoder).
 *
 * Input: byte 0 chooses the version (bit 0: 2.0, else 3.0) and the depth
 * limit (bit 1: 6 levels, else the default); the rest is JSON text.
 * Whatever decodes must encode (except a 2.0 BulkSet too large to expand),
 * the encoding must decode again (with the largest depth limit: the encoder
 * may nest a value deeper, writing a plain vertex property as a
 * g:VertexProperty), and encoding is stable: encode(decode(encode(v))) ==
 * encode(v).
 *
 * Build: configure --enable-fuzzing CC=clang CXX=clang++; make tests/fuzz/graphson_fuzz
 * Run:   tests/fuzz/graphson_fuzz -max_total_time=60 $(srcdir)/tests/fuzz/corpus/graphson
 */
#include "codec/graphson.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    gj_graphson_version version = (data[0] & 1) ? GJ_GRAPHSON_V2 : GJ_GRAPHSON_V3;
    unsigned depth = (data[0] & 2) ? 6 : 0;
    gj_error *err = gj_error_new();
    if (!err)
        return 0;
    gj_value *v = NULL;
    int rc = gj__graphson_decode(&v, version, (const char *)data + 1, size - 1, depth, err);
    if (rc != 0 && rc != GJ_EPROTOCOL && rc != GJ_EUNSUPPORTED)
        abort();
    if (rc == 0) {
        gj_ps_buf b1, b2;
        gj__ps_buf_init(&b1, 0);
        gj__ps_buf_init(&b2, 0);
        rc = gj__graphson_encode(&b1, version, v, err);
        if (rc == 0) {
            gj_value *again = NULL;
            if (gj__graphson_decode(&again, version, (const char *)b1.data, b1.len,
                                    GJ_GREMLIN_MAX_MAX_DEPTH, err) != 0)
                abort();
            if (gj__graphson_encode(&b2, version, again, err) != 0)
                abort();
            if (b1.len != b2.len || memcmp(b1.data, b2.data, b1.len) != 0)
                abort();
            gj_value_unref(again);
        } else if (rc != GJ_ETOOBIG) {
            abort();
        }
        gj__ps_buf_free(&b1);
        gj__ps_buf_free(&b2);
        gj_value_unref(v);
    }
    gj_error_free(err);
    return 0;
}
