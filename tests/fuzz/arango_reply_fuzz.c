/*
 * libFuzzer target: the ArangoDB backend's reply path on server bytes.
 *
 * Input: byte 0 chooses how the rows are taken (bit 0: collected into the
 * sink, else given to a row callback; bits 4-7: the callback stops after
 * that many rows, 0 = never); the rest is a response body as a server sends
 * it.  The body goes the way lib/backend/arango/conn.c parse_body takes it (a
 * json-c tokener bounded to GJ__ARANGO_MAX_DEPTH, the whole body consumed),
 * then:
 *   - gj__arango_json_to_value, and the value rendered back as JSON text;
 *   - gj__arango_reply_error with HTTP statuses 200, 400, 401, 404 and 503
 *     (an error always has a message);
 *   - gj__arango_cursor_take_batch, as a cursor batch, into a standalone
 *     sink whose result is then taken (as the job engine does), rendered
 *     as JSON and freed.
 * The connection is a zeroed gj_conn with only what those read (hostport).
 * Everything must be freed (ASan's leak check).
 *
 * Build: configure --enable-fuzzing CC=clang CXX=clang++; make tests/fuzz/arango_reply_fuzz
 * Run:   tests/fuzz/arango_reply_fuzz -max_total_time=60 $(srcdir)/tests/fuzz/corpus/arango_reply
 */
#include "backend/arango/arango_internal.h"

#include <graphjob.h>

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct row_counter {
    unsigned seen, stop_after;
} row_counter;

static int on_row(const gj_value *row, void *payload)
{
    row_counter *rc = payload;
    if (row == NULL)
        abort();
    rc->seen++;
    return rc->stop_after != 0 && rc->seen >= rc->stop_after;
}

/* As conn.c parse_body: NULL unless the whole body is one JSON value. */
static json_object *parse(const char *text, size_t len)
{
    json_tokener *tok = json_tokener_new_ex(GJ__ARANGO_MAX_DEPTH);
    if (tok == NULL)
        return NULL;
    json_object *j = json_tokener_parse_ex(tok, text, (int)len);
    enum json_tokener_error je = json_tokener_get_error(tok);
    size_t used = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    if (j != NULL && (je != json_tokener_success || used != len)) {
        json_object_put(j);
        j = NULL;
    }
    return j;
}

static void as_value(const json_object *j, gj_error *err)
{
    gj_value *v = NULL;
    if (gj__arango_json_to_value(j, &v, err) != 0) {
        if (v != NULL || gj_error_message(err)[0] == '\0')
            abort();
        return;
    }
    char *text = NULL;
    size_t len = 0;
    if (gj_value_to_json(v, 0, &text, &len) == 0) {
        if (text == NULL || strlen(text) != len)
            abort();
        gj_free(text);
    }
    gj_value_unref(v);
}

static void as_error(gj_conn *c, json_object *j, gj_error *err)
{
    static const long statuses[] = { 200, 400, 401, 404, 503 };
    for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++) {
        gj__arango_reply reply = { statuses[i], j };
        int rc = gj__arango_reply_error(c, &reply, "fuzz", err);
        if ((rc == 0) != (statuses[i] < 400))
            abort();
        if (rc != 0 && (gj_error_code(err) != rc || gj_error_message(err)[0] == '\0'))
            abort();
    }
}

static void as_batch(gj_conn *c, json_object *j, uint8_t mode, gj_error *err)
{
    row_counter counter = { 0, (unsigned)(mode >> 4) };
    gj_sink *sink = NULL;
    if (gj__sink_new(&sink, (mode & 1) ? NULL : on_row, &counter) != 0)
        return;
    bool more = false;
    char id[64];
    size_t rows = 0;
    c->broken = false;
    int rc = gj__arango_cursor_take_batch(c, j, sink, &more, id, sizeof id, &rows, err);
    if (rc == 0) {
        if (more && (strlen(id) == 0 || strspn(id, "0123456789") != strlen(id)))
            abort();
        gj_result *res = NULL;
        if (gj__sink_take_result(sink, &res) == 0) {
            char *text = NULL;
            if (gj_result_to_json(res, GJ_JSON_TYPED, &text, NULL) == 0)
                gj_free(text);
            gj_result_free(res);
        }
    } else if (rc == GJ_EABORTED) {
        if (counter.stop_after == 0 || counter.seen != counter.stop_after)
            abort();
    } else if (gj_error_message(err)[0] == '\0') {
        abort();
    }
    gj__sink_free(sink);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size - 1 > (size_t)INT32_MAX)
        return 0;
    gj_error *err = gj_error_new();
    if (err == NULL)
        return 0;
    char hostport[] = "fuzz.example:8529";
    gj_conn c;
    memset(&c, 0, sizeof c);
    c.hostport = hostport;

    /* The body as the server's bytes: not NUL-terminated. */
    size_t len = size - 1;
    char *body = malloc(len ? len : 1);
    if (body == NULL) {
        gj_error_free(err);
        return 0;
    }
    memcpy(body, data + 1, len);
    json_object *j = parse(body, len);
    free(body);

    /* An empty or non-JSON body reaches reply_error as NULL json. */
    as_error(&c, j, err);
    if (j != NULL) {
        as_value(j, err);
        as_batch(&c, j, data[0], err);
    } else {
        as_batch(&c, NULL, data[0], err);
    }
    json_object_put(j);
    gj_error_free(err);
    return 0;
}
