/*
 * libFuzzer target: the Gremlin Server message decoders (responses, the
 * client's input; requests and whole request frames, the reference
 * server's), each followed by the encoder of the same format.
 *
 * Input: byte 0 chooses the serializer (bits 0-1: GraphBinary, GraphSON 3.0,
 * GraphSON 2.0) and what the rest is (bits 2-3: a response, a request
 * payload, a whole request frame with its mime prefix).  Whatever decodes
 * must encode (except a 2.0 BulkSet too large to expand), decode again, and
 * encode to the same bytes.  (The second decode allows the largest depth: an
 * encoder may nest a value deeper, e.g. a vertex property given as a plain
 * value is written as a VertexProperty.)
 *
 * Build: configure --enable-fuzzing CC=clang CXX=clang++; make tests/fuzz/gremlin_msg_fuzz
 * Run:   tests/fuzz/gremlin_msg_fuzz -max_total_time=60 $(srcdir)/tests/fuzz/corpus/gremlin_msg
 */
#include "codec/gremlin_msg.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void same(const gj_ps_buf *a, const gj_ps_buf *b)
{
    if (a->len != b->len || memcmp(a->data, b->data, a->len) != 0)
        abort();
}

static void response(gj_gremlin_format f, const uint8_t *p, size_t n, gj_error *err)
{
    gj_gremlin_response r, again;
    int rc = gj__gremlin_response_decode(&r, f, p, n, 0, err);
    if (rc != 0) {
        if (rc != GJ_EPROTOCOL && rc != GJ_EUNSUPPORTED)
            abort();
        return;
    }
    gj_ps_buf b1, b2;
    gj__ps_buf_init(&b1, 0);
    gj__ps_buf_init(&b2, 0);
    rc = gj__gremlin_response_encode(&b1, f, &r, err);
    if (rc == 0) {
        if (gj__gremlin_response_decode(&again, f, b1.data, b1.len, GJ_GREMLIN_MAX_MAX_DEPTH,
                                        err) != 0 ||
            gj__gremlin_response_encode(&b2, f, &again, err) != 0)
            abort();
        same(&b1, &b2);
        if (again.status_code != r.status_code || again.has_request_id != r.has_request_id)
            abort();
        gj__gremlin_response_clear(&again);
    } else if (rc != GJ_ETOOBIG) {
        abort();
    }
    gj__ps_buf_free(&b1);
    gj__ps_buf_free(&b2);
    gj__gremlin_response_clear(&r);
}

static void request(gj_gremlin_format f, bool frame, const uint8_t *p, size_t n, gj_error *err)
{
    gj_gremlin_request r, again;
    int rc = frame ? gj__gremlin_request_decode(&r, &f, p, n, 0, err)
                   : gj__gremlin_request_decode_payload(&r, f, p, n, 0, err);
    if (rc != 0) {
        if (rc != GJ_EPROTOCOL && rc != GJ_EUNSUPPORTED)
            abort();
        return;
    }
    gj_gremlin_args args;
    gj__gremlin_args_read(r.args, &args, err);
    gj_ps_buf b1, b2;
    gj__ps_buf_init(&b1, 0);
    gj__ps_buf_init(&b2, 0);
    rc = gj__gremlin_request_encode(&b1, f, &r, err);
    if (rc == 0) {
        gj_gremlin_format f2;
        if (gj__gremlin_request_decode(&again, &f2, b1.data, b1.len, GJ_GREMLIN_MAX_MAX_DEPTH,
                                       err) != 0 || f2 != f ||
            gj__gremlin_request_encode(&b2, f, &again, err) != 0)
            abort();
        same(&b1, &b2);
        gj__gremlin_request_clear(&again);
    } else if (rc != GJ_ETOOBIG) {
        abort();
    }
    gj__ps_buf_free(&b1);
    gj__ps_buf_free(&b2);
    gj__gremlin_request_clear(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    gj_gremlin_format f = (gj_gremlin_format)((data[0] & 3) % 3);
    unsigned what = (data[0] >> 2) & 3;
    gj_error *err = gj_error_new();
    if (!err)
        return 0;
    if (what == 0 || what == 3)
        response(f, data + 1, size - 1, err);
    else
        request(f, what == 2, data + 1, size - 1, err);
    gj_error_free(err);
    return 0;
}
