/*
 * libFuzzer target: the graphql-sse (distinct connections) event-stream
 * reader of the GraphQL backend (gql_sse.c: gj__gql_sse_feed / _end /
 * _clear): lines split on LF or CRLF, comments, event and data fields,
 * next events as rows (a subscription's ExecutionResult) or as a query's
 * data row and meta, complete.
 *
 * Input: byte 0: bit 0 a query (else a subscription), bit 1 a row callback
 * (else collected), bit 2 max_message_size 128 bytes (else 1 MiB), bit 3
 * max_result_size 256 bytes (else 1 MiB), bits 4-7 the callback stops
 * after that many rows (0 = never); byte 1: how many chunk sizes follow
 * (low 4 bits); then the chunk sizes (one byte each, 0 counts as 1, used in
 * turn); the rest is the stream (not NUL-terminated).
 *
 * The stream is read as gql_sse.c's transfer does (feed each chunk until an
 * error, then end), twice: in one chunk, and in chunks of the given sizes.
 * Invariants (abort() on violation): both give the same result code, rows,
 * meta, event count and completion (every limit here is on a line, an
 * event's data or the collected rows, none on a chunk); an error has a message and its code is the one returned; a
 * subscription that succeeds collected as many rows as next events; a
 * callback that stops gives GJ_EABORTED after exactly that many rows.
 * Everything must be freed (ASan's leak check).
 *
 * Build: configure --enable-fuzzing CC=clang CXX=clang++; make tests/fuzz/graphql_sse_fuzz
 * Run:   tests/fuzz/graphql_sse_fuzz -max_total_time=60 $(srcdir)/tests/fuzz/corpus/graphql_sse
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
    size_t events;
    bool complete;
    gqlf_text t;
} outcome;

typedef struct input {
    bool as_query, callback;
    unsigned stop_after;
    size_t max_message, max_result;
    const uint8_t *sizes;
    size_t n_sizes;
    const char *body;
    size_t len;
} input;

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

    gj__gql_sse st;
    memset(&st, 0, sizeof st);
    st.c = &c;
    st.sink = &s;
    st.err = err;
    st.max = in->max_message;
    st.as_query = in->as_query;
    int rc = 0;
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
        char *chunk = malloc(n);   /* a read past the chunk is caught */
        if (chunk == NULL)
            abort();
        memcpy(chunk, in->body + at, n);
        rc = gj__gql_sse_feed(&st, chunk, n);
        free(chunk);
        at += n;
    }
    if (rc == 0)
        rc = gj__gql_sse_end(&st);
    o->rc = rc;
    o->events = st.events;
    o->complete = st.complete;
    if (rc != 0 && (gj_error_code(err) != rc || gj_error_message(err)[0] == '\0'))
        abort();
    if (rc == GJ_EABORTED && (!in->callback || o->t.rows != in->stop_after))
        abort();
    if (!in->as_query && !in->callback && rc == 0 &&
        (s.rows ? gj_value_size(s.rows) : 0) != st.events)
        abort();
    if (s.rows) {
        o->t.rows += (unsigned)gj_value_size(s.rows);
        gqlf_put_json(&o->t.text, s.rows);
    }
    gj__gql_buf_puts(&o->t.text, "meta: ");
    gqlf_put_json(&o->t.text, s.meta);
    gj__gql_sse_clear(&st);
    gj__sink_clear(&s);
    gj_error_free(err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2 || size > ((size_t)1 << 24))
        return 0;
    input in;
    memset(&in, 0, sizeof in);
    in.as_query = data[0] & 1;
    in.callback = (data[0] & 2) != 0;
    in.max_message = (data[0] & 4) ? 128 : ((size_t)1 << 20);
    in.max_result = (data[0] & 8) ? 256 : ((size_t)1 << 20);
    in.stop_after = in.callback ? data[0] >> 4 : 0;
    in.n_sizes = data[1] & 15;
    if (size - 2 < in.n_sizes)
        return 0;
    in.sizes = data + 2;
    size_t off = 2 + in.n_sizes;
    char *body = malloc(size - off + 1);
    if (body == NULL)
        return 0;
    memcpy(body, data + off, size - off);
    in.body = body;
    in.len = size - off;

    outcome whole = { 0 }, chunked = { 0 };
    run(&in, false, &whole);
    run(&in, true, &chunked);
    if (whole.rc != chunked.rc || whole.events != chunked.events ||
        whole.complete != chunked.complete || !gqlf_same(&whole.t, &chunked.t))
        abort();
    gj__gql_buf_free(&whole.t.text);
    gj__gql_buf_free(&chunked.t.text);
    free(body);
    return 0;
}
