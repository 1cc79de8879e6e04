/*
 * libFuzzer target: the GraphQL-over-WebSocket message reader of the
 * GraphQL backend (gql_ws.c): gj__gql_ws_parse, gj__gql_ws_handshake_message
 * and gj__gql_ws_stream_message, in both subprotocols (graphql-transport-ws
 * and the legacy graphql-ws), for a query and a subscription.  The
 * sockets, the service thread's queue and what is sent (pong, complete) are
 * not part of it.
 *
 * Input: byte 0: bit 0 the legacy protocol, bits 1-2 the operation (query,
 * mutation, subscription, subscription), bit 3 a row callback (else
 * collected), bit 4 max_result_size 256 bytes (else 1 MiB), bits 5-7 the
 * callback stops after that many rows (0 = never); the rest is the
 * server's messages, separated by NUL bytes.
 *
 * The messages go as gql_ws.c reads them: to the handshake until
 * connection_ack, then to the operation until complete or an error.
 * Invariants (abort() on violation): an error has a message and its code is
 * the one returned; a message gj__gql_ws_parse takes has a string type and
 * its JSON text (re-rendered) parses to the same type; a handshake message
 * gives ACKED exactly for connection_ack and PONG only for ping in
 * graphql-transport-ws; events count the next (data) messages taken; a
 * subscription collects one row per event; a query that completes gave its
 * answer once; a callback that stops gives GJ_EABORTED after exactly that
 * many rows.  Everything must be freed (ASan's leak check).
 *
 * Build: configure --enable-fuzzing CC=clang CXX=clang++; make tests/fuzz/graphql_ws_fuzz
 * Run:   tests/fuzz/graphql_ws_fuzz -max_total_time=60 $(srcdir)/tests/fuzz/corpus/graphql_ws
 */
#include "backend/graphql/gql.h"
#include "core/sink_internal.h"

#include <graphjob.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct counter {
    unsigned rows, stop_after;
} counter;

static int on_row(const gj_value *row, void *payload)
{
    counter *k = payload;
    if (row == NULL)
        abort();
    k->rows++;
    return k->stop_after != 0 && k->rows >= k->stop_after;
}

/* gj__gql_ws_parse, checked: the type of what it takes survives a
 * rendering of the message. */
static void check_parse(const char *msg, size_t len)
{
    const char *type = NULL;
    json_object *payload = NULL;
    json_object *j = gj__gql_ws_parse(msg, len, &type, &payload);
    if (j == NULL)
        return;
    if (type == NULL || !json_object_is_type(j, json_type_object))
        abort();
    const char *text = json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN);
    const char *type2 = NULL;
    json_object *payload2 = NULL;
    json_object *j2 = text ? gj__gql_ws_parse(text, strlen(text), &type2, &payload2) : NULL;
    if (text && (j2 == NULL || strcmp(type, type2) != 0 || (payload == NULL) != (payload2 == NULL)))
        abort();
    if (j2)
        json_object_put(j2);
    json_object_put(j);
}

/* The message's type as gj__gql_ws_parse reads it, or "" when it is none. */
static bool type_is(const char *msg, size_t len, const char *want)
{
    const char *type = NULL;
    json_object *payload = NULL;
    json_object *j = gj__gql_ws_parse(msg, len, &type, &payload);
    bool is = j && strcmp(type, want) == 0;
    if (j)
        json_object_put(j);
    return is;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > ((size_t)1 << 24))
        return 0;
    static const gj__gql_optype types[4] = { GJ__GQL_QUERY, GJ__GQL_MUTATION,
                                             GJ__GQL_SUBSCRIPTION, GJ__GQL_SUBSCRIPTION };
    uint8_t mode = data[0];
    gj_error *err = gj_error_new();
    if (err == NULL)
        return 0;
    gj_target_settings ts;
    memset(&ts, 0, sizeof ts);
    ts.max_message_size = (size_t)1 << 20;
    ts.max_result_size = (mode & 16) ? 256 : ((size_t)1 << 20);
    gj__gql_target t;
    memset(&t, 0, sizeof t);
    t.ts = &ts;
    gj_conn c;
    memset(&c, 0, sizeof c);
    c.t = &t;
    snprintf(c.hostport, sizeof c.hostport, "fuzz.example:4000");
    bool callback = (mode & 8) != 0;
    counter k = { 0, callback ? (unsigned)(mode >> 5) : 0 };
    gj_sink s;
    gj__sink_init(&s, callback ? on_row : NULL, &k, NULL, 0, 0);
    gj__sink_set_limits(&s, 0, ts.max_result_size);

    gj__gql_ws_reader rd;
    memset(&rd, 0, sizeof rd);
    rd.c = &c;
    rd.sink = &s;
    rd.err = err;
    rd.type = types[(mode >> 1) & 3];
    rd.legacy = mode & 1;

    const char *p = (const char *)data + 1, *end = (const char *)data + size;
    bool acked = false, done = false;
    int rc = 0;
    size_t nexts = 0;
    while (rc == 0 && !done && p < end) {
        const char *nul = memchr(p, '\0', (size_t)(end - p));
        size_t len = nul ? (size_t)(nul - p) : (size_t)(end - p);
        char *msg = malloc(len ? len : 1);   /* a read past the message is caught */
        if (msg == NULL)
            abort();
        memcpy(msg, p, len);
        p += len + (nul ? 1 : 0);
        check_parse(msg, len);
        gj__gql_ws_action action = (gj__gql_ws_action)-1;
        if (!acked) {
            rc = gj__gql_ws_handshake_message(&rd, msg, len, &action);
            bool ack = type_is(msg, len, "connection_ack");
            if (rc == 0 && (action == GJ__GQL_WS_ACKED) != ack)
                abort();
            if (rc == 0 && action == GJ__GQL_WS_PONG && (rd.legacy || !type_is(msg, len, "ping")))
                abort();
            if (rc == 0 && action == GJ__GQL_WS_COMPLETE)
                abort();
            acked = rc == 0 && action == GJ__GQL_WS_ACKED;
        } else {
            size_t before = rd.events;
            bool next = type_is(msg, len, "next") || (rd.legacy && type_is(msg, len, "data"));
            rc = gj__gql_ws_stream_message(&rd, msg, len, &action);
            if (rd.events != before && (rd.events != before + 1 || !next))
                abort();
            nexts += rd.events - before;
            if (rc == 0 && action == GJ__GQL_WS_ACKED)
                abort();
            if (rc == 0 && action == GJ__GQL_WS_PONG && rd.legacy)
                abort();
            done = rc == 0 && action == GJ__GQL_WS_COMPLETE;
        }
        if (rc == 0 && action != GJ__GQL_WS_NOTHING && action != GJ__GQL_WS_PONG &&
            action != GJ__GQL_WS_ACKED && action != GJ__GQL_WS_COMPLETE)
            abort();
        free(msg);
    }
    if (rc != 0 && (gj_error_code(err) != rc || gj_error_message(err)[0] == '\0'))
        abort();
    if (rc == GJ_EABORTED && (!callback || k.rows != k.stop_after))
        abort();
    if (rd.events != nexts)
        abort();
    size_t rows = callback ? k.rows : s.rows ? gj_value_size(s.rows) : 0;
    if (rc == 0 && rd.type == GJ__GQL_SUBSCRIPTION && rows != rd.events)
        abort();
    if (rc == 0 && rd.type != GJ__GQL_SUBSCRIPTION && (rows > 1 || (done && (!rd.got_data || rows != 1))))
        abort();
    gj__sink_clear(&s);
    gj_error_free(err);
    return 0;
}
