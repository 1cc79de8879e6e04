/*
 * libFuzzer target: the GraphQL backend's multipart/mixed reader for
 * incremental delivery (@defer / @stream, gql_reply.c):
 * gj__gql_multipart_new / _feed / _finish / _free, parts merged into one
 * data row or given as rows.
 *
 * Input: byte 0: bit 0 parts as rows (else merged), bit 1 a row callback
 * (else collected), bit 2 max_message_size 256 bytes (else 1 MiB), bit 3
 * max_result_size 128 bytes (else 1 MiB), bits 4-7 the callback stops
 * after that many rows (0 = never); byte 1 picks the Content-Type (its
 * boundary); byte 2: how many chunk sizes follow (low 4 bits); then the
 * chunk sizes (one byte each, 0 counts as 1, used in turn); the rest is the
 * body (not NUL-terminated).
 *
 * The body is read twice: in one feed, then in chunks of the given sizes
 * (so boundaries, CRLFs and JSON split across feeds).  Invariants (abort()
 * on violation): both give the same result code, rows, meta and part count
 * unless a limit on the buffered part (GJ_ETOOBIG) was hit, which depends
 * on how the bytes came; an error has a message and its code is the one
 * returned; a merged reply that succeeds gives exactly one row; a
 * callback that stops gives GJ_EABORTED after exactly that many rows.
 * Everything must be freed (ASan's leak check: a merge that made a cycle
 * of json-c objects would leak).
 *
 * Build: configure --enable-fuzzing CC=clang CXX=clang++; make tests/fuzz/graphql_multipart_fuzz
 * Run:   tests/fuzz/graphql_multipart_fuzz -max_total_time=60 $(srcdir)/tests/fuzz/corpus/graphql_multipart
 */
#include "graphql_fuzz.h"
#include "core/sink_internal.h"

#include <graphjob.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct outcome {
    int rc;
    gqlf_text t;
} outcome;

static const char *const ctypes[8] = {
    "multipart/mixed; boundary=\"-\"",
    "multipart/mixed;boundary=graphql;deferSpec=20220824",
    "multipart/mixed; deferSpec=20220824; boundary=\"graphql\"",
    "multipart/mixed; boundary=-",
    "multipart/mixed; boundary=\"a b;c\"",
    "multipart/mixed; boundary=0123456789012345678901234567890123456789012345678901234567890123456789xyz",
    "multipart/mixed",
    "MULTIPART/MIXED; BOUNDARY=abc\t; x=y",
};

typedef struct input {
    bool as_parts, callback;
    unsigned stop_after;
    size_t max_message, max_result;
    const char *ctype;
    const uint8_t *sizes;
    size_t n_sizes;
    const char *body;
    size_t len;
} input;

/* Read in.body in chunks (in.sizes in turn; none: in one feed). */
static void run(const input *in, bool chunked, outcome *o)
{
    gj_error *err = gj_error_new();
    if (err == NULL)
        abort();
    gj_target_settings ts;
    memset(&ts, 0, sizeof ts);
    ts.max_message_size = in->max_message;
    ts.max_result_size = in->max_result;
    gj__gql_target t;
    memset(&t, 0, sizeof t);
    t.ts = &ts;
    gj_conn c;
    memset(&c, 0, sizeof c);
    c.t = &t;
    snprintf(c.hostport, sizeof c.hostport, "fuzz.example:4000");
    gj_sink s;
    o->t.stop_after = in->stop_after;
    gj__sink_init(&s, in->callback ? gqlf_on_row : NULL, &o->t, NULL, 0, 0);
    gj__sink_set_limits(&s, 0, in->max_result);

    gj__gql_multipart *m = NULL;
    int rc = gj__gql_multipart_new(&m, &c, in->ctype, in->as_parts, &s, err);
    if (rc == 0) {
        if (m == NULL)
            abort();
        size_t at = 0, k = 0;
        while (rc == 0 && at < in->len) {
            size_t n = in->len - at;
            if (chunked && in->n_sizes) {
                size_t want = in->sizes[k++ % in->n_sizes];
                if (want == 0)
                    want = 1;
                if (want < n)
                    n = want;
            }
            /* Each chunk in its own allocation: a read past it is caught. */
            char *chunk = malloc(n);
            if (chunk == NULL)
                abort();
            memcpy(chunk, in->body + at, n);
            rc = gj__gql_multipart_feed(m, chunk, n, err);
            free(chunk);
            at += n;
        }
        if (rc == 0)
            rc = gj__gql_multipart_finish(m, 200, err);
        gj__gql_multipart_free(m);
    } else if (rc != GJ_EPROTOCOL) {
        abort();
    }
    o->rc = rc;
    if (rc != 0 && (gj_error_code(err) != rc || gj_error_message(err)[0] == '\0'))
        abort();
    if (rc == GJ_EABORTED && (!in->callback || o->t.rows != in->stop_after))
        abort();
    if (rc == 0 && !in->as_parts && !in->callback && (!s.rows || gj_value_size(s.rows) != 1))
        abort();
    if (rc == 0 && !in->as_parts && in->callback && o->t.rows != 1)
        abort();
    if (rc == 0 && (!s.meta || !gj_value_map_get(s.meta, "incremental_parts")))
        abort();
    if (s.rows) {
        o->t.rows += (unsigned)gj_value_size(s.rows);
        gqlf_put_json(&o->t.text, s.rows);
    }
    gj__gql_buf_puts(&o->t.text, "meta: ");
    gqlf_put_json(&o->t.text, s.meta);
    gj__sink_clear(&s);
    gj_error_free(err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3 || size > ((size_t)1 << 24))
        return 0;
    input in;
    memset(&in, 0, sizeof in);
    in.as_parts = data[0] & 1;
    in.callback = (data[0] & 2) != 0;
    in.max_message = (data[0] & 4) ? 256 : ((size_t)1 << 20);
    in.max_result = (data[0] & 8) ? 128 : ((size_t)1 << 20);
    in.stop_after = in.callback ? data[0] >> 4 : 0;
    in.ctype = ctypes[data[1] & 7];
    in.n_sizes = data[2] & 15;
    if (size - 3 < in.n_sizes)
        return 0;
    in.sizes = data + 3;
    size_t off = 3 + in.n_sizes;
    char *body = malloc(size - off + 1);
    if (body == NULL)
        return 0;
    memcpy(body, data + off, size - off);
    in.body = body;
    in.len = size - off;

    outcome whole = { 0 }, chunked = { 0 };
    run(&in, false, &whole);
    run(&in, true, &chunked);
    if (whole.rc != GJ_ETOOBIG && chunked.rc != GJ_ETOOBIG) {
        if (whole.rc != chunked.rc || !gqlf_same(&whole.t, &chunked.t))
            abort();
    }
    gj__gql_buf_free(&whole.t.text);
    gj__gql_buf_free(&chunked.t.text);
    free(body);
    return 0;
}
