/*
 * libFuzzer target: the GraphQL backend's reply path (gql_reply.c) on a
 * server's HTTP reply: gj__gql_parse, gj__gql_reply (status, content type,
 * body -> the data row and meta, or the job's error by the GraphQL-over-HTTP
 * rules), gj__gql_reply_parsed, gj__gql_fail, gj__gql_persisted_not_found.
 *
 * Input: byte 0 picks the HTTP status (bits 0-3, from a table), the content
 * type (bits 4-5) and how rows are taken (bit 6: a row callback, else
 * collected; bit 7: max_result_size 64 bytes, else 1 MiB); the rest is the
 * body (not NUL-terminated).
 *
 * Invariants (abort() on violation):
 *   - gj__gql_reply succeeds exactly when the status is 2xx and the body is a
 *     GraphQL response with data; it then gives one row and meta
 *     http_status, unless the result limit stopped it (GJ_ETOOBIG) or a
 *     text in it is no value (GJ_EPROTOCOL: invalid UTF-8);
 *   - a failed status fails with GJ_EAUTH (401, 407), GJ_ETOOBIG (413),
 *     else GJ_ESERVER; a 2xx body that is not a GraphQL response with
 *     GJ_EPROTOCOL and the connection marked broken; every error has a
 *     message and its code is the one returned;
 *   - the body followed by white space gives the same outcome, and so does
 *     gj__gql_reply_parsed on the parsed body (both without a result limit:
 *     they count the row's size differently).
 * The connection is built by hand (hostport, a target with settings);
 * everything must be freed (ASan's leak check).
 *
 * Build: configure --enable-fuzzing CC=clang CXX=clang++; make tests/fuzz/graphql_reply_fuzz
 * Run:   tests/fuzz/graphql_reply_fuzz -max_total_time=60 $(srcdir)/tests/fuzz/corpus/graphql_reply
 */
#include "graphql_fuzz.h"
#include "core/sink_internal.h"

#include <graphjob.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What one call produced, as text to compare. */
typedef struct outcome {
    int rc;
    gqlf_text t;                 /* rows collected or given to the callback, meta */
    bool broken;
} outcome;

static void finish(outcome *o, gj_sink *s, gj_error *err, const gj_conn *c)
{
    if (o->rc != 0 && (gj_error_code(err) != o->rc || gj_error_message(err)[0] == '\0'))
        abort();
    if (s->rows) {
        o->t.rows += (unsigned)gj_value_size(s->rows);
        gqlf_put_json(&o->t.text, s->rows);
    }
    gj__gql_buf_puts(&o->t.text, "meta: ");
    gqlf_put_json(&o->t.text, s->meta);
    o->broken = c->broken;
    gj__sink_clear(s);
    gj_error_clear(err);
}

static void same(const outcome *a, const outcome *b)
{
    if (a->rc != b->rc || !gqlf_same(&a->t, &b->t))
        abort();
}

static const long statuses[16] = { 200, 200, 200, 201, 202, 204, 299, 400,
                                   401, 403, 404, 407, 413, 500, 502, 101 };
static const char *const ctypes[4] = {
    "application/graphql-response+json; charset=utf-8", "application/json", "text/html", NULL,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > ((size_t)1 << 24))
        return 0;
    gj_error *err = gj_error_new();
    if (err == NULL)
        return 0;
    uint8_t mode = data[0];
    long status = statuses[mode & 15];
    const char *ctype = ctypes[(mode >> 4) & 3];
    bool callback = (mode & 0x40) != 0;
    size_t limit = (mode & 0x80) ? 64 : ((size_t)1 << 20);

    gj_target_settings ts;
    memset(&ts, 0, sizeof ts);
    ts.max_message_size = (size_t)1 << 20;
    ts.max_result_size = (size_t)1 << 20;
    gj__gql_target t;
    memset(&t, 0, sizeof t);
    t.ts = &ts;
    gj_conn c;
    memset(&c, 0, sizeof c);
    c.t = &t;
    snprintf(c.hostport, sizeof c.hostport, "fuzz.example:4000");

    /* The server's bytes (not NUL-terminated), and the same with white
     * space after them. */
    size_t len = size - 1;
    char *body = malloc(len + 3);
    if (body == NULL) {
        gj_error_free(err);
        return 0;
    }
    memcpy(body, data + 1, len);
    memcpy(body + len, " \r\n", 3);

    gj__gql_response parsed;
    bool is_response = gj__gql_parse(body, len, &parsed);
    bool values = false;   /* the whole response converts to values */
    if (is_response) {
        gj_value *v = NULL;
        values = gj__json_to_value(parsed.root, &v, err) == 0;
        gj_value_unref(v);
        gj_error_clear(err);
        if (parsed.root == NULL || (parsed.data == NULL && parsed.errors == NULL &&
                                    json_object_object_get_ex(parsed.root, "data", NULL) == 0 &&
                                    json_object_object_get_ex(parsed.root, "errors", NULL) == 0))
            abort();
        (void)gj__gql_persisted_not_found(&parsed);
    } else if (parsed.root != NULL || parsed.data != NULL || parsed.errors != NULL) {
        abort();
    }

    /* 1: as a reply, with the limit. */
    gj_sink s;
    outcome first = { 0 };
    gj__sink_init(&s, callback ? gqlf_on_row : NULL, &first.t, NULL, 0, 0);
    gj__sink_set_limits(&s, 0, limit);
    first.rc = gj__gql_reply(&c, status, ctype, body, len, &s, err);
    finish(&first, &s, err, &c);

    bool ok2xx = status >= 200 && status < 300;
    bool with_data = is_response && parsed.data != NULL;
    if (ok2xx && with_data) {
        if (first.rc != 0 && first.rc != GJ_ETOOBIG && (values || first.rc != GJ_EPROTOCOL))
            abort();
    } else if (first.rc == 0) {
        abort();
    }
    if (first.rc == 0 && first.t.rows != 1)
        abort();
    if (!ok2xx) {
        int want = status == 401 || status == 407 ? GJ_EAUTH : status == 413 ? GJ_ETOOBIG
                                                                             : GJ_ESERVER;
        if (first.rc != want)
            abort();
    } else if (!is_response && (first.rc != GJ_EPROTOCOL || !first.broken)) {
        abort();
    } else if (is_response && !with_data && parsed.errors && first.rc != GJ_ESERVER) {
        abort();
    }

    /* 2 and 3: unlimited, the body with white space after it, and the
     * parsed response. */
    outcome plain = { 0 }, spaced = { 0 }, reparsed = { 0 };
    c.broken = false;
    gj__sink_init(&s, callback ? gqlf_on_row : NULL, &plain.t, NULL, 0, 0);
    plain.rc = gj__gql_reply(&c, status, ctype, body, len, &s, err);
    finish(&plain, &s, err, &c);
    c.broken = false;
    gj__sink_init(&s, callback ? gqlf_on_row : NULL, &spaced.t, NULL, 0, 0);
    spaced.rc = gj__gql_reply(&c, status, ctype, body, len + 3, &s, err);
    finish(&spaced, &s, err, &c);
    if (len > 0)
        same(&plain, &spaced);
    if (is_response) {
        c.broken = false;
        gj__sink_init(&s, callback ? gqlf_on_row : NULL, &reparsed.t, NULL, 0, 0);
        reparsed.rc = gj__gql_reply_parsed(&c, status, &parsed, &s, err);   /* takes parsed */
        finish(&reparsed, &s, err, &c);
        same(&plain, &reparsed);
    }

    gj__gql_buf_free(&first.t.text);
    gj__gql_buf_free(&plain.t.text);
    gj__gql_buf_free(&spaced.t.text);
    gj__gql_buf_free(&reparsed.t.text);
    free(body);
    gj_error_free(err);
    return 0;
}
