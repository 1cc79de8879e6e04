/*
 * The GraphQL backend: subscriptions over graphql-sse, "distinct
 * connections" mode.  POST the operation to the SSE endpoint (option
 * sse_path, default the path + "/stream") with Accept: text/event-stream;
 * the reply streams `event: next` / `data: {ExecutionResult}` events and
 * ends with `event: complete`.  Each next is a row as it arrives (to the
 * row callback, or collected within max_result_size); the job is DONE at
 * complete.  Cancel aborts the transfer: in this mode closing the
 * connection is how a client stops the subscription.
 */
#include "backend/graphql/gql.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int dispatch(gj__gql_sse *st)
{
    gj_conn *c = st->c;
    if (strcmp(st->event, "complete") == 0) {
        st->complete = true;
        return 0;
    }
    if (strcmp(st->event, "next") != 0 && st->event[0] != '\0')
        return 0;   /* an event this protocol does not have: ignored */
    if (!st->data.len)
        return 0;
    json_object *j = gj__gql_json_parse(st->data.p, st->data.len);
    if (!j || !json_object_is_type(j, json_type_object)) {
        if (j)
            json_object_put(j);
        return gj__error_set(st->err, GJ_EPROTOCOL, "%s: an SSE next event whose data is not a "
                             "JSON object", c->hostport);
    }
    st->events++;
    int rc;
    if (st->as_query) {
        gj__gql_response r;
        if (!gj__gql_take(j, &r)) {
            json_object_put(j);
            return gj__error_set(st->err, GJ_EPROTOCOL, "%s: an SSE next event that is not a "
                                 "GraphQL response", c->hostport);
        }
        return gj__gql_reply_parsed(c, 200, &r, st->sink, st->err);
    }
    gj_value *row = NULL;
    rc = gj__json_to_value(j, &row, st->err);
    json_object_put(j);
    if (rc)
        return rc;
    rc = gj__sink_row_sized(st->sink, row, st->data.len);
    if (rc == GJ_EABORTED)
        return gj__error_set(st->err, GJ_EABORTED, "the row callback stopped");
    if (rc == GJ_ETOOBIG)
        return gj__sink_too_big(st->sink, st->err);
    return rc ? gj__error_set(st->err, rc, "out of memory for the result") : 0;
}

/* One line of the stream (without its end). */
static int take_line(gj__gql_sse *st, const char *s, size_t n)
{
    if (n == 0) {
        int rc = dispatch(st);
        st->data.len = 0;
        if (st->data.p)
            st->data.p[0] = '\0';
        st->event[0] = '\0';
        return rc;
    }
    if (s[0] == ':')
        return 0;   /* a comment (keep-alive) */
    const char *colon = memchr(s, ':', n);
    size_t fl = colon ? (size_t)(colon - s) : n;
    const char *v = colon ? colon + 1 : s + n;
    if (v < s + n && *v == ' ')
        v++;
    size_t vl = (size_t)(s + n - v);
    if (fl == 5 && memcmp(s, "event", 5) == 0) {
        snprintf(st->event, sizeof st->event, "%.*s", (int)(vl < 31 ? vl : 31), v);
    } else if (fl == 4 && memcmp(s, "data", 4) == 0) {
        if (st->data.len)
            gj__gql_buf_put(&st->data, "\n", 1);
        gj__gql_buf_put(&st->data, v, vl);
        if (st->data.nomem)
            return gj__error_set(st->err, GJ_ENOMEM, "out of memory");
        if (st->data.len > st->max)
            return gj__error_set(st->err, GJ_ETOOBIG, "%s: an SSE event larger than "
                                 "max_message_size (%zu bytes)", st->c->hostport, st->max);
    }
    return 0;
}

int gj__gql_sse_feed(gj__gql_sse *st, const char *data, size_t len)
{
    if (st->complete)
        return 0;   /* the stream ended: what follows is not read */
    for (size_t i = 0; i < len; i++) {
        char ch = data[i];
        if (ch == '\n') {
            size_t n = st->line.len;
            if (n && st->line.p[n - 1] == '\r')
                n--;
            int rc = take_line(st, st->line.p ? st->line.p : "", n);
            st->line.len = 0;
            if (rc)
                return rc;
            if (st->complete)
                return 0;
        } else {
            gj__gql_buf_put(&st->line, &ch, 1);
            if (st->line.nomem)
                return gj__error_set(st->err, GJ_ENOMEM, "out of memory");
            if (st->line.len > st->max)
                return gj__error_set(st->err, GJ_ETOOBIG, "%s: an SSE line larger than "
                                     "max_message_size", st->c->hostport);
        }
    }
    return 0;
}

int gj__gql_sse_end(gj__gql_sse *st)
{
    int rc = 0;
    if (st->line.len && !st->complete) {
        /* A last line without its newline. */
        size_t n = st->line.len;
        rc = take_line(st, st->line.p, n);
        if (!rc && st->data.len)
            rc = take_line(st, "", 0);
    }
    return rc;
}

void gj__gql_sse_clear(gj__gql_sse *st)
{
    gj__gql_buf_free(&st->line);
    gj__gql_buf_free(&st->data);
}

typedef struct sse_state {
    gj__gql_sse ev;              /* the event stream */
    bool decided, stream;
    gj__gql_buf plain;           /* a reply that is not an event stream */
} sse_state;

static int on_body(void *arg, const char *data, size_t len)
{
    sse_state *st = arg;
    if (!st->decided) {
        const char *ct = NULL;
        long status = gj__http_status(st->ev.c->http, &ct);
        st->decided = true;
        st->stream = status >= 200 && status < 300 && ct &&
                     strncasecmp(ct, "text/event-stream", 17) == 0;
    }
    if (!st->stream) {
        if (len > st->ev.max - st->plain.len)
            return gj__error_set(st->ev.err, GJ_ETOOBIG, "%s: response larger than "
                                 "max_message_size (%zu bytes)", st->ev.c->hostport, st->ev.max);
        gj__gql_buf_put(&st->plain, data, len);
        return st->plain.nomem ? gj__error_set(st->ev.err, GJ_ENOMEM, "out of memory") : 0;
    }
    return gj__gql_sse_feed(&st->ev, data, len);
}

int gj__gql_sse_execute(gj_conn *c, gj__gql_op *op, gj_sink *sink, gj_error *err)
{
    gj__gql_buf body = { 0 }, path = { 0 };
    gj__gql_body(&body, op, true, false, NULL);
    if (c->t->sse_path) {
        gj__gql_buf_puts(&path, c->t->sse_path);
    } else {
        gj__gql_buf_puts(&path, gj__gql_path(c));
        gj__gql_buf_puts(&path, "/stream");
    }
    sse_state st = { .ev = { .c = c, .sink = sink, .err = err,
                             .max = c->t->ts->max_message_size ? c->t->ts->max_message_size
                                                               : (size_t)64 << 20,
                             .as_query = op->type != GJ__GQL_SUBSCRIPTION } };
    int rc = 0;
    if (body.nomem || path.nomem)
        rc = gj__error_set(err, GJ_ENOMEM, "out of memory for the request");
    gj_http_response resp;
    /* No compression: a compressed stream comes in lumps, not as events. */
    const char *headers[GJ__HTTP_MAX_FIXED + 1];
    size_t nh = 0;
    for (size_t i = 0; i < op->n_headers; i++)
        headers[nh++] = op->headers[i];
    headers[nh++] = "Accept-Encoding: identity";
    if (!rc) {
        gj_http_request rq = {
            .method = "POST",
            .path = path.p,
            .body = body.p,
            .body_len = body.len,
            .headers = headers,
            .n_headers = nh,
            .deadline_ms = gj__sink_deadline(sink),
            .accept = "text/event-stream",
            .cookie = op->cookie,
            .on_body = on_body,
            .on_body_arg = &st,
        };
        rc = gj__http_perform(c->http, &rq, &resp, err);
        if (rc)
            c->broken = true;
    }
    if (!rc && !st.stream) {
        rc = gj__gql_reply(c, resp.status, resp.content_type, st.plain.p ? st.plain.p : "",
                           st.plain.len, sink, err);
    } else if (!rc) {
        rc = gj__gql_sse_end(&st.ev);
        if (!rc && !st.ev.complete) {
            c->broken = true;
            rc = gj__error_set(err, GJ_EIO, "%s: the server ended the event stream after %zu "
                               "event%s, without complete", c->hostport, st.ev.events,
                               st.ev.events == 1 ? "" : "s");
        }
        if (!rc && !st.ev.as_query) {
            gj_value *n = gj_value_int((int64_t)st.ev.events);
            gj_value *s = gj_value_string("sse");
            if (gj__sink_meta(sink, "events", n) != 0 || gj__sink_meta(sink, "transport", s) != 0)
                rc = gj__error_set(err, GJ_ENOMEM, "out of memory");
        }
    }
    gj__gql_buf_free(&body);
    gj__gql_buf_free(&path);
    gj__gql_sse_clear(&st.ev);
    gj__gql_buf_free(&st.plain);
    return rc;
}
