/*
 * libFuzzer target: the GraphBinary 1.0 decoder (+ encoders).
 *
 * Input: byte 0 chooses the depth limit (bit 0: 6 levels, else the default)
 * and whether the rest is one value or a sequence of values (bit 1); the
 * rest is GraphBinary.  Whatever decodes must encode, and encoding is
 * stable: encode(decode(encode(v))) == encode(v).  Decoded values are also
 * written as GraphSON 3.0 and 2.0, which may refuse some (a GraphSON 2.0 map
 * with an Int key, a BulkSet too large to expand) but must not crash.
 *
 * Build: configure --enable-fuzzing CC=clang CXX=clang++; make tests/fuzz/graphbinary_fuzz
 * Run:   tests/fuzz/graphbinary_fuzz -max_total_time=60 $(srcdir)/tests/fuzz/corpus/graphbinary
 */
#include "codec/graphbinary.h"
#include "codec/graphson.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_stable(const gj_value *v)
{
    gj_ps_buf b1, b2;
    gj__ps_buf_init(&b1, 0);
    gj__ps_buf_init(&b2, 0);
    if (gj__gb_encode(&b1, v, NULL) != 0)
        abort();
    gj_value *again = NULL;
    /* The largest limit: the encoder may nest deeper (a plain vertex
     * property is written as a VertexProperty). */
    if (gj__gb_decode(&again, b1.data, b1.len, GJ_GREMLIN_MAX_MAX_DEPTH, NULL) != 0)
        abort();
    if (gj__gb_encode(&b2, again, NULL) != 0)
        abort();
    if (b1.len != b2.len || memcmp(b1.data, b2.data, b1.len) != 0)
        abort();
    gj_value_unref(again);
    for (int version = 2; version <= 3; version++) {
        gj__ps_buf_reset(&b2);
        int rc = gj__graphson_encode(&b2, (gj_graphson_version)version, v, NULL);
        if (rc != 0 && rc != GJ_EINVAL && rc != GJ_ETOOBIG)
            abort();
    }
    gj__ps_buf_free(&b1);
    gj__ps_buf_free(&b2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned depth = (data[0] & 1) ? 6 : 0;
    bool sequence = (data[0] & 2) != 0;
    gj_error *err = gj_error_new();
    if (!err)
        return 0;
    if (!sequence) {
        gj_value *v = NULL;
        if (gj__gb_decode(&v, data + 1, size - 1, depth, err) == 0) {
            check_stable(v);
            gj_value_unref(v);
        } else if (gj_error_code(err) != GJ_EPROTOCOL) {
            abort();
        }
    } else {
        gj_gb_reader r;
        gj__gb_reader_init(&r, data + 1, size - 1, depth);
        while (r.pos < r.len) {
            gj_value *v = NULL;
            size_t before = r.pos;
            if (gj__gb_read_value(&r, 0, &v, err) != 0)
                break;
            if (r.pos <= before)
                abort();
            check_stable(v);
            gj_value_unref(v);
        }
    }
    gj_error_free(err);
    return 0;
}
