/*
 * The GraphQL backend: one operation over HTTP.  POST application/json (or
 * GET for queries when asked), the request's own headers and cookies,
 * automatic persisted queries (the hash first, the document when the server
 * answers PersistedQueryNotFound), uploads (graphql-multipart-request-spec:
 * operations, map, then the files), incremental delivery (@defer / @stream
 * answered with multipart/mixed: read as it arrives) and introspection.
 */
#include "backend/graphql/gql.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A reply buffer larger than this is released before the next request. */
#define BUF_KEEP ((size_t)1 << 20)

const char gj__gql_introspection_query[] =
    "query IntrospectionQuery {\n"
    "  __schema {\n"
    "    queryType { name }\n"
    "    mutationType { name }\n"
    "    subscriptionType { name }\n"
    "    types { ...FullType }\n"
    "    directives {\n"
    "      name\n"
    "      description\n"
    "      locations\n"
    "      args { ...InputValue }\n"
    "    }\n"
    "  }\n"
    "}\n"
    "fragment FullType on __Type {\n"
    "  kind\n"
    "  name\n"
    "  description\n"
    "  fields(includeDeprecated: true) {\n"
    "    name\n"
    "    description\n"
    "    args { ...InputValue }\n"
    "    type { ...TypeRef }\n"
    "    isDeprecated\n"
    "    deprecationReason\n"
    "  }\n"
    "  inputFields { ...InputValue }\n"
    "  interfaces { ...TypeRef }\n"
    "  enumValues(includeDeprecated: true) {\n"
    "    name\n"
    "    description\n"
    "    isDeprecated\n"
    "    deprecationReason\n"
    "  }\n"
    "  possibleTypes { ...TypeRef }\n"
    "}\n"
    "fragment InputValue on __InputValue {\n"
    "  name\n"
    "  description\n"
    "  type { ...TypeRef }\n"
    "  defaultValue\n"
    "}\n"
    "fragment TypeRef on __Type {\n"
    "  kind\n"
    "  name\n"
    "  ofType {\n"
    "    kind\n"
    "    name\n"
    "    ofType {\n"
    "      kind\n"
    "      name\n"
    "      ofType {\n"
    "        kind\n"
    "        name\n"
    "        ofType {\n"
    "          kind\n"
    "          name\n"
    "          ofType {\n"
    "            kind\n"
    "            name\n"
    "            ofType {\n"
    "              kind\n"
    "              name\n"
    "              ofType { kind name }\n"
    "            }\n"
    "          }\n"
    "        }\n"
    "      }\n"
    "    }\n"
    "  }\n"
    "}\n";

/* Reading a reply that may come as multipart/mixed. */
typedef struct stream_state {
    gj_conn *c;
    gj_sink *sink;
    gj_error *err;
    bool as_parts;
    bool decided;
    gj__gql_multipart *mp;
    gj__gql_buf plain;
    size_t max;
} stream_state;

static int on_body(void *arg, const char *data, size_t len)
{
    stream_state *st = arg;
    if (!st->decided) {
        const char *ct = NULL;
        long status = gj__http_status(st->c->http, &ct);
        st->decided = true;
        if (status >= 200 && status < 300 && ct && strncasecmp(ct, "multipart/mixed", 15) == 0) {
            int rc = gj__gql_multipart_new(&st->mp, st->c, ct, st->as_parts, st->sink, st->err);
            if (rc)
                return rc;
        }
    }
    if (st->mp)
        return gj__gql_multipart_feed(st->mp, data, len, st->err);
    if (len > st->max - st->plain.len)
        return gj__error_set(st->err, GJ_ETOOBIG, "%s: response larger than max_message_size "
                             "(%zu bytes)", st->c->hostport, st->max);
    gj__gql_buf_put(&st->plain, data, len);
    return st->plain.nomem ? gj__error_set(st->err, GJ_ENOMEM, "out of memory") : 0;
}

/* The multipart fields of an upload. */
static int upload_parts(const gj__gql_op *op, const gj__gql_buf *operations, gj__gql_buf *map,
                        gj_http_part *parts, char names[][16], gj_error *err)
{
    parts[0] = (gj_http_part){ "operations", operations->p, operations->len, NULL, NULL,
                               "application/json" };
    gj__gql_buf_put(map, "{", 1);
    for (size_t i = 0; i < op->n_files; i++) {
        const gj__gql_file *f = &op->files[i];
        snprintf(names[i], 16, "%u", (unsigned)(i & 0xffff));
        if (i)
            gj__gql_buf_put(map, ",", 1);
        gj__gql_buf_json_string(map, names[i], strlen(names[i]));
        gj__gql_buf_puts(map, ":[");
        gj__gql_buf_json_string(map, f->field, strlen(f->field));
        gj__gql_buf_puts(map, "]");
        parts[2 + i] = (gj_http_part){ names[i], (const char *)f->data, f->len, f->path,
                                       f->filename ? f->filename : f->path ? NULL : "blob",
                                       f->content_type ? f->content_type
                                                       : "application/octet-stream" };
    }
    gj__gql_buf_put(map, "}", 1);
    parts[1] = (gj_http_part){ "map", map->p, map->len, NULL, NULL, "application/json" };
    return map->nomem ? gj__error_set(err, GJ_ENOMEM, "out of memory") : 0;
}

/* Send op once; the reply is in *resp (a plain body) or was streamed into
 * the sink (*streamed). */
static int send_once(gj_conn *c, const gj__gql_op *op, bool with_query, gj_sink *sink,
                     gj_http_response *resp, stream_state *st, gj_error *err)
{
    gj__gql_buf body = { 0 }, path = { 0 }, map = { 0 };
    gj_http_part parts[2 + 64];
    char names[64][16];
    int rc = 0;
    gj__gql_buf_puts(&path, gj__gql_path(c));
    if (op->get)
        rc = gj__gql_get_query(&path, c, op, with_query, err);
    else
        gj__gql_body(&body, op, with_query, false, NULL);
    if (!rc && (body.nomem || path.nomem))
        rc = gj__error_set(err, GJ_ENOMEM, "out of memory for the request");
    if (!rc && op->n_files)
        rc = upload_parts(op, &body, &map, parts, names, err);
    if (rc) {
        gj__gql_buf_free(&body);
        gj__gql_buf_free(&path);
        gj__gql_buf_free(&map);
        return rc;
    }
    gj__http_trim(c->http, BUF_KEEP);
    /* Incremental parts come as they are made only without compression. */
    const char *headers[GJ__HTTP_MAX_FIXED + 1];
    size_t nh = 0;
    for (size_t i = 0; i < op->n_headers; i++)
        headers[nh++] = op->headers[i];
    if (op->incremental)
        headers[nh++] = "Accept-Encoding: identity";
    gj_http_request rq = {
        .method = op->get ? "GET" : "POST",
        .path = path.p,
        .body = op->get || op->n_files ? NULL : body.p,
        .body_len = op->get || op->n_files ? 0 : body.len,
        .headers = headers,
        .n_headers = nh,
        .deadline_ms = gj__sink_deadline(sink),
        .parts = op->n_files ? parts : NULL,
        .n_parts = op->n_files ? 2 + op->n_files : 0,
        .accept = op->incremental ? GJ__GQL_ACCEPT_INCREMENTAL : NULL,
        .cookie = op->cookie,
        .on_body = op->incremental ? on_body : NULL,
        .on_body_arg = st,
    };
    rc = gj__http_perform(c->http, &rq, resp, err);
    gj__gql_buf_free(&body);
    gj__gql_buf_free(&path);
    gj__gql_buf_free(&map);
    if (rc) {
        c->broken = true;
        return rc;
    }
    if (resp->status == 0) {
        char what[GJ__GQL_EXCERPT + 40];
        gj__http_describe_body(resp->body, resp->len, NULL, what, sizeof what);
        c->broken = true;
        return gj__error_set(err, GJ_EPROTOCOL, "%s: the server did not answer with HTTP but "
                             "with %s%s", c->hostport, what,
                             strcmp(what, "TLS bytes") == 0 ? ": it speaks TLS, use https" : "");
    }
    return 0;
}

/* For op introspect: the schema (data.__schema) is the row. */
static void schema_as_data(gj__gql_response *r)
{
    json_object *schema = NULL;
    if (r->data && json_object_object_get_ex(r->data, "__schema", &schema) && schema &&
        json_object_is_type(schema, json_type_object))
        r->data = schema;
}

int gj__gql_http_execute(gj_conn *c, gj__gql_op *op, gj_sink *sink, gj_error *err)
{
    bool introspect = op->query == gj__gql_introspection_query;
    size_t max = c->t->ts->max_message_size ? c->t->ts->max_message_size : (size_t)64 << 20;
    bool with_query = !op->apq;
    for (int attempt = 0;; attempt++) {
        stream_state st = { c, sink, err, op->parts, false, NULL, { 0 }, max };
        gj_http_response resp;
        int rc = send_once(c, op, with_query, sink, &resp, &st, err);
        if (rc) {
            gj__gql_multipart_free(st.mp);
            gj__gql_buf_free(&st.plain);
            return rc;
        }
        const char *body = op->incremental ? (st.plain.p ? st.plain.p : "") : resp.body;
        size_t len = op->incremental ? st.plain.len : resp.len;
        if (st.mp) {
            rc = gj__gql_multipart_finish(st.mp, resp.status, err);
            gj__gql_multipart_free(st.mp);
            gj__gql_buf_free(&st.plain);
            return rc;
        }
        gj__gql_response r;
        bool parsed = gj__gql_parse(body, len, &r);
        if (parsed && !with_query && attempt == 0 && gj__gql_persisted_not_found(&r)) {
            /* APQ: the server does not know the hash; send the document. */
            gj__gql_response_clear(&r);
            gj__gql_buf_free(&st.plain);
            with_query = true;
            continue;
        }
        if (parsed) {
            if (introspect)
                schema_as_data(&r);
            if (op->apq) {
                gj_value *h = gj_value_string(with_query ? "registered" : "hit");
                if (!h || gj__sink_meta(sink, "persisted_query", h) != 0) {
                    gj__gql_response_clear(&r);
                    gj__gql_buf_free(&st.plain);
                    return gj__error_set(err, GJ_ENOMEM, "out of memory");
                }
            }
            rc = gj__gql_reply_parsed(c, resp.status, &r, sink, err);
        } else {
            rc = gj__gql_reply(c, resp.status, resp.content_type, body, len, sink, err);
        }
        gj__gql_buf_free(&st.plain);
        return rc;
    }
}
