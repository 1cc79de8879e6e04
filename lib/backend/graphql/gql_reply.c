/*
 * The GraphQL backend: replies.  A reply's status and body become the
 * job's rows and meta, or its error, by the GraphQL-over-HTTP rules:
 *
 *  - a 2xx GraphQL response with data: DONE, the data as one row; errors
 *    beside the data (a partial result) go to meta "errors" intact (message,
 *    locations, path, extensions), with meta "extensions" and "http_status";
 *  - a 2xx GraphQL response without data (errors only): the job fails with
 *    GJ_ESERVER, the first error's message and extensions.code, the HTTP
 *    status and the errors list as the error's extra;
 *  - any other status: the job fails (GJ_EAUTH for 401 and 407, GJ_ETOOBIG
 *    for 413, GJ_ESERVER otherwise) with the status, the errors when the
 *    body is a GraphQL response, else a short excerpt of the body;
 *  - a 2xx body that is not a GraphQL response: GJ_EPROTOCOL with the
 *    status and an excerpt.
 *
 * Incremental delivery (@defer / @stream) comes as multipart/mixed; the
 * reader below takes the body piece by piece as it arrives.
 */
#include "backend/graphql/gql.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

gj_value *gj__gql_to_value(json_object *j)
{
    gj_value *v = NULL;
    if (!j)
        return NULL;
    if (gj__json_to_value(j, &v, NULL) != 0)
        return NULL;
    return v;
}

void gj__gql_response_clear(gj__gql_response *r)
{
    if (r->root)
        json_object_put(r->root);
    memset(r, 0, sizeof *r);
}

bool gj__gql_take(json_object *root, gj__gql_response *out)
{
    memset(out, 0, sizeof *out);
    if (!root || !json_object_is_type(root, json_type_object))
        return false;
    json_object *data = NULL, *errors = NULL, *ext = NULL;
    bool has_data = json_object_object_get_ex(root, "data", &data);
    bool has_errors = json_object_object_get_ex(root, "errors", &errors);
    if (!has_data && !has_errors)
        return false;
    if (has_data && data && !json_object_is_type(data, json_type_object))
        return false;
    if (has_errors && errors && !json_object_is_type(errors, json_type_array))
        return false;
    if (json_object_object_get_ex(root, "extensions", &ext) && ext &&
        !json_object_is_type(ext, json_type_object))
        ext = NULL;
    out->root = root;
    out->data = data;
    out->errors = errors && json_object_array_length(errors) ? errors : NULL;
    out->extensions = ext;
    return true;
}

json_object *gj__gql_json_parse(const char *text, size_t len)
{
    if (len == 0 || len > INT32_MAX)
        return NULL;
    json_tokener *tok = json_tokener_new_ex(GJ__JSON_MAX_DEPTH);
    if (!tok)
        return NULL;
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    json_object *j = json_tokener_parse_ex(tok, text, (int)len);
    enum json_tokener_error je = json_tokener_get_error(tok);
    size_t end = json_tokener_get_parse_end(tok);
    if (je == json_tokener_continue) {
        /* A number at the very end may go on: a NUL byte ends it. */
        j = json_tokener_parse_ex(tok, "", 1);
        je = json_tokener_get_error(tok);
        end = len;
    }
    json_tokener_free(tok);
    bool whole = j && je == json_tokener_success;
    /* Nothing but white space may follow. */
    for (size_t i = end; whole && i < len; i++)
        if (text[i] != ' ' && text[i] != '\n' && text[i] != '\r' && text[i] != '\t')
            whole = false;
    if (!whole && j) {
        json_object_put(j);
        j = NULL;
    }
    return j;
}

bool gj__gql_parse(const char *body, size_t len, gj__gql_response *out)
{
    memset(out, 0, sizeof *out);
    json_object *root = gj__gql_json_parse(body, len);
    if (!root)
        return false;
    if (!gj__gql_take(root, out)) {
        json_object_put(root);
        memset(out, 0, sizeof *out);
        return false;
    }
    return true;
}

bool gj__gql_persisted_not_found(const gj__gql_response *r)
{
    if (!r->errors)
        return false;
    for (size_t i = 0; i < json_object_array_length(r->errors); i++) {
        json_object *e = json_object_array_get_idx(r->errors, i), *v = NULL, *code = NULL;
        if (json_object_object_get_ex(e, "message", &v) &&
            json_object_is_type(v, json_type_string) &&
            strcmp(json_object_get_string(v), "PersistedQueryNotFound") == 0)
            return true;
        if (json_object_object_get_ex(e, "extensions", &v) &&
            json_object_object_get_ex(v, "code", &code) &&
            json_object_is_type(code, json_type_string) &&
            strcmp(json_object_get_string(code), "PERSISTED_QUERY_NOT_FOUND") == 0)
            return true;
    }
    return false;
}

static const char *status_text(long status)
{
    switch (status) {
    case 400: return "bad request";
    case 401: return "unauthorized";
    case 403: return "forbidden";
    case 404: return "not found";
    case 405: return "method not allowed";
    case 406: return "not acceptable";
    case 407: return "proxy authentication required";
    case 408: return "request timeout";
    case 413: return "payload too large";
    case 415: return "unsupported media type";
    case 422: return "unprocessable content";
    case 429: return "too many requests";
    case 500: return "internal server error";
    case 502: return "bad gateway";
    case 503: return "service unavailable";
    case 504: return "gateway timeout";
    default: return status >= 500 ? "server error" : status >= 400 ? "client error" : "";
    }
}

static int code_for_status(long status)
{
    if (status == 401 || status == 407)
        return GJ_EAUTH;
    if (status == 413)
        return GJ_ETOOBIG;
    return GJ_ESERVER;
}

int gj__gql_fail(gj_conn *c, long status, json_object *errors, const char *what, gj_error *err)
{
    char msg[1024];
    const char *code = NULL;
    size_t n = errors ? json_object_array_length(errors) : 0;
    int len = 0;
    if (n) {
        json_object *e = json_object_array_get_idx(errors, 0), *m = NULL, *x = NULL, *k = NULL;
        const char *text = "(no message)";
        if (json_object_object_get_ex(e, "message", &m) && json_object_is_type(m, json_type_string))
            text = json_object_get_string(m);
        if (json_object_object_get_ex(e, "extensions", &x) &&
            json_object_object_get_ex(x, "code", &k) && json_object_is_type(k, json_type_string))
            code = json_object_get_string(k);
        len = snprintf(msg, sizeof msg, "%.600s", text);
        json_object *locs = NULL, *path = NULL;
        if (json_object_object_get_ex(e, "locations", &locs) &&
            json_object_is_type(locs, json_type_array) && json_object_array_length(locs)) {
            json_object *l0 = json_object_array_get_idx(locs, 0), *line = NULL, *col = NULL;
            if (json_object_object_get_ex(l0, "line", &line) &&
                json_object_object_get_ex(l0, "column", &col) && len >= 0 &&
                (size_t)len < sizeof msg)
                len += snprintf(msg + len, sizeof msg - (size_t)len, " (line %d, column %d)",
                                json_object_get_int(line), json_object_get_int(col));
        }
        if (json_object_object_get_ex(e, "path", &path) && path && len >= 0 &&
            (size_t)len < sizeof msg)
            len += snprintf(msg + len, sizeof msg - (size_t)len, " at %.160s",
                            json_object_to_json_string_ext(path, JSON_C_TO_STRING_PLAIN));
        if (n > 1 && len >= 0 && (size_t)len < sizeof msg)
            snprintf(msg + len, sizeof msg - (size_t)len, " (and %zu more error%s)", n - 1,
                     n > 2 ? "s" : "");
    } else {
        snprintf(msg, sizeof msg, "%s", what ? what : "no GraphQL errors in the reply");
    }
    int gjcode = status >= 200 && status < 300 ? GJ_ESERVER : code_for_status(status);
    gj__server_error se = {
        gjcode, "graphql", code, 0, NULL, (int)status, msg, n ? gj__gql_to_value(errors) : NULL,
    };
    gj__error_set_server(err, &se);
    if (status >= 200 && status < 300)
        gj__error_prefix(err, "%s", c->hostport);
    else
        gj__error_prefix(err, "%s: HTTP %ld%s%s", c->hostport, status, *status_text(status) ? " " : "",
                         status_text(status));
    return gjcode;
}

static int put_meta(gj_sink *sink, const char *key, gj_value *v, gj_error *err)
{
    if (!v || gj__sink_meta(sink, key, v) != 0)
        return gj__error_set(err, GJ_ENOMEM, "out of memory for the result");
    return 0;
}

/* The same with a server's JSON: GJ_EPROTOCOL when it is no value (invalid
 * UTF-8, too deep). */
static int put_meta_json(gj_conn *c, gj_sink *sink, const char *key, json_object *j,
                         gj_error *err)
{
    gj_value *v = NULL;
    if (gj__json_to_value(j, &v, err) != 0)
        return gj__error_prefix(err, "%s: the reply's %s", c->hostport, key);
    return put_meta(sink, key, v, err);
}

/* The data as a row and the meta of a response that succeeded. */
static int emit(gj_conn *c, long status, json_object *data, json_object *errors,
                json_object *extensions, size_t bytes, gj_sink *sink, gj_error *err)
{
    gj_value *row = NULL;
    int rc = gj__json_to_value(data, &row, err);
    if (rc) {
        c->broken = true;
        return gj__error_prefix(err, "%s", c->hostport);
    }
    rc = gj__sink_row_sized(sink, row, bytes);
    if (rc == GJ_EABORTED)
        return gj__error_set(err, GJ_EABORTED, "the row callback stopped");
    if (rc == GJ_ETOOBIG)
        return gj__sink_too_big(sink, err);
    if (rc)
        return gj__error_set(err, rc, "out of memory for the result");
    if ((rc = put_meta(sink, "http_status", gj_value_int(status), err)) != 0)
        return rc;
    if (errors && (rc = put_meta_json(c, sink, "errors", errors, err)) != 0)
        return rc;
    if (extensions && (rc = put_meta_json(c, sink, "extensions", extensions, err)) != 0)
        return rc;
    return 0;
}

int gj__gql_reply_parsed(gj_conn *c, long status, gj__gql_response *r, gj_sink *sink,
                         gj_error *err)
{
    int rc;
    if (status < 200 || status >= 300)
        rc = gj__gql_fail(c, status, r->errors, "the reply has no errors", err);
    else if (r->data)
        rc = emit(c, status, r->data, r->errors, r->extensions,
                  strlen(json_object_to_json_string_ext(r->data, JSON_C_TO_STRING_PLAIN)), sink,
                  err);
    else if (r->errors)
        rc = gj__gql_fail(c, status, r->errors, NULL, err);
    else
        rc = gj__error_set(err, GJ_EPROTOCOL, "%s: HTTP %ld: a GraphQL response with neither "
                           "data nor errors", c->hostport, status);
    gj__gql_response_clear(r);
    return rc;
}

int gj__gql_reply(gj_conn *c, long status, const char *ctype, const char *body, size_t len,
                  gj_sink *sink, gj_error *err)
{
    gj__gql_response r;
    if (gj__gql_parse(body, len, &r)) {
        if (r.data && status >= 200 && status < 300) {
            /* The row's size is the body's (no second rendering). */
            int rc = emit(c, status, r.data, r.errors, r.extensions, len, sink, err);
            gj__gql_response_clear(&r);
            return rc;
        }
        return gj__gql_reply_parsed(c, status, &r, sink, err);
    }
    char what[GJ__GQL_EXCERPT + 40];
    if (len == 0)
        snprintf(what, sizeof what, "an empty body");
    else
        gj__http_describe_body(body, len, ctype, what, sizeof what);
    if (status >= 200 && status < 300) {
        c->broken = true;
        return gj__error_set(err, GJ_EPROTOCOL, "%s: HTTP %ld%s%s is not a GraphQL response: %s",
                             c->hostport, status, ctype ? " " : "", ctype ? ctype : "", what);
    }
    char msg[sizeof what + 64];
    snprintf(msg, sizeof msg, "the body is not a GraphQL response but %s", what);
    return gj__gql_fail(c, status, NULL, msg, err);
}

/* ---- multipart/mixed --------------------------------------------------------- */

struct gj__gql_multipart {
    gj_conn *c;
    gj_sink *sink;
    bool as_parts;
    char delim[80];              /* "\r\n--" boundary */
    size_t dlen;
    enum { MP_PREAMBLE, MP_PART, MP_END } state;
    gj__gql_buf buf;
    size_t max;                  /* largest part */
    size_t nparts;
    bool has_next;               /* the last part said hasNext */
    json_object *data;           /* merged data (merge mode) */
    json_object *errors;         /* collected errors (merge mode) */
    json_object *extensions;
    size_t bytes;
};

int gj__gql_multipart_new(gj__gql_multipart **out, gj_conn *c, const char *ctype,
                          bool as_parts, gj_sink *sink, gj_error *err)
{
    const char *b = ctype ? strcasestr(ctype, "boundary=") : NULL;
    char boundary[72];
    size_t n = 0;
    if (b) {
        b += 9;
        bool quoted = *b == '"';
        if (quoted)
            b++;
        while (b[n] && n + 1 < sizeof boundary &&
               (quoted ? b[n] != '"' : (b[n] != ';' && b[n] != ' ' && b[n] != '\t')))
            n++;
        memcpy(boundary, b, n);
    }
    boundary[n] = '\0';
    if (!n)
        return gj__error_set(err, GJ_EPROTOCOL, "%s: a multipart reply without a boundary (%s)",
                             c->hostport, ctype ? ctype : "no content type");
    gj__gql_multipart *m = calloc(1, sizeof *m);
    if (!m)
        return gj__error_set(err, GJ_ENOMEM, "out of memory");
    m->c = c;
    m->sink = sink;
    m->as_parts = as_parts;
    m->dlen = (size_t)snprintf(m->delim, sizeof m->delim, "\r\n--%s", boundary);
    m->max = c->t->ts->max_message_size ? c->t->ts->max_message_size : (size_t)64 << 20;
    m->has_next = true;
    *out = m;
    return 0;
}

void gj__gql_multipart_free(gj__gql_multipart *m)
{
    if (!m)
        return;
    gj__gql_buf_free(&m->buf);
    if (m->data)
        json_object_put(m->data);
    if (m->errors)
        json_object_put(m->errors);
    if (m->extensions)
        json_object_put(m->extensions);
    free(m);
}

/* Deep-merge the object src into the object dst. */
static void merge_objects(json_object *dst, json_object *src)
{
    json_object_object_foreach(src, key, val)
    {
        json_object *have = NULL;
        if (json_object_object_get_ex(dst, key, &have) && have && val &&
            json_object_is_type(have, json_type_object) && json_object_is_type(val, json_type_object))
            merge_objects(have, val);
        else
            json_object_object_add(dst, key, json_object_get(val));
    }
}

/* The value at path (a JSON array of keys and indexes) under root; with
 * drop_last, its parent. */
static json_object *at_path(json_object *root, json_object *path, bool drop_last)
{
    size_t n = path && json_object_is_type(path, json_type_array) ? json_object_array_length(path) : 0;
    if (drop_last) {
        if (!n)
            return NULL;
        n--;
    }
    json_object *cur = root;
    for (size_t i = 0; cur && i < n; i++) {
        json_object *k = json_object_array_get_idx(path, i);
        if (json_object_is_type(k, json_type_string) && json_object_is_type(cur, json_type_object)) {
            json_object *next = NULL;
            cur = json_object_object_get_ex(cur, json_object_get_string(k), &next) ? next : NULL;
        } else if (json_object_is_type(k, json_type_int) && json_object_is_type(cur, json_type_array)) {
            int64_t idx = json_object_get_int64(k);
            cur = idx >= 0 && (size_t)idx < json_object_array_length(cur)
                      ? json_object_array_get_idx(cur, (size_t)idx) : NULL;
        } else {
            cur = NULL;
        }
    }
    return cur;
}

static void add_errors(gj__gql_multipart *m, json_object *errors)
{
    if (!errors || !json_object_is_type(errors, json_type_array))
        return;
    if (!m->errors && !(m->errors = json_object_new_array()))
        return;
    for (size_t i = 0; i < json_object_array_length(errors); i++)
        json_object_array_add(m->errors, json_object_get(json_object_array_get_idx(errors, i)));
}

/* One incremental payload {data | items, path, errors} into the merged data. */
static void merge_one(gj__gql_multipart *m, json_object *inc)
{
    json_object *path = NULL, *data = NULL, *items = NULL, *errors = NULL;
    json_object_object_get_ex(inc, "path", &path);
    if (json_object_object_get_ex(inc, "errors", &errors))
        add_errors(m, errors);
    if (!m->data)
        return;
    if (json_object_object_get_ex(inc, "data", &data) && data &&
        json_object_is_type(data, json_type_object)) {
        json_object *at = at_path(m->data, path, false);
        if (at && json_object_is_type(at, json_type_object))
            merge_objects(at, data);
    }
    if (json_object_object_get_ex(inc, "items", &items) && items &&
        json_object_is_type(items, json_type_array)) {
        json_object *list = at_path(m->data, path, true);
        if (list && json_object_is_type(list, json_type_array))
            for (size_t i = 0; i < json_object_array_length(items); i++)
                json_object_array_add(list, json_object_get(json_object_array_get_idx(items, i)));
    }
}

static int take_part(gj__gql_multipart *m, const char *part, size_t len, gj_error *err)
{
    gj_conn *c = m->c;
    /* Headers (Content-Type: application/json ...) end at an empty line. */
    const char *body = part, *end = part + len;
    if (len >= 2 && part[0] == '\r' && part[1] == '\n') {
        body = part + 2;
    } else {
        const char *sep = NULL;
        for (const char *p = part; p + 4 <= end; p++)
            if (memcmp(p, "\r\n\r\n", 4) == 0) {
                sep = p;
                break;
            }
        body = sep ? sep + 4 : part;
    }
    while (body < end && (*body == ' ' || *body == '\r' || *body == '\n' || *body == '\t'))
        body++;
    if (body == end)
        return 0;   /* an empty part (a heartbeat) */
    json_object *j = gj__gql_json_parse(body, (size_t)(end - body));
    if (!j || !json_object_is_type(j, json_type_object)) {
        if (j)
            json_object_put(j);
        c->broken = true;
        char what[GJ__GQL_EXCERPT + 40];
        gj__http_describe_body(body, (size_t)(end - body), NULL, what, sizeof what);
        return gj__error_set(err, GJ_EPROTOCOL, "%s: part %zu of the incremental reply is not a "
                             "JSON object: %s", c->hostport, m->nparts + 1, what);
    }
    m->nparts++;
    json_object *hn = NULL;
    m->has_next = json_object_object_get_ex(j, "hasNext", &hn) && json_object_get_boolean(hn);
    int rc = 0;
    if (m->as_parts) {
        gj_value *row = NULL;
        rc = gj__json_to_value(j, &row, err);
        if (!rc) {
            rc = gj__sink_row_sized(m->sink, row, (size_t)(end - body));
            if (rc == GJ_EABORTED)
                rc = gj__error_set(err, GJ_EABORTED, "the row callback stopped");
            else if (rc == GJ_ETOOBIG)
                rc = gj__sink_too_big(m->sink, err);
            else if (rc)
                rc = gj__error_set(err, rc, "out of memory for the result");
        }
        json_object_put(j);
        return rc;
    }
    if (gj__sink_account(m->sink, (size_t)(end - body)) != 0) {
        json_object_put(j);
        return gj__sink_too_big(m->sink, err);
    }
    json_object *data = NULL, *errors = NULL, *inc = NULL, *ext = NULL;
    /* A part before any data may bring it (taken as it is, never merged
     * into itself: that made a cycle). */
    bool had_data = m->data != NULL;
    if (m->nparts == 1 || !had_data) {
        if (json_object_object_get_ex(j, "data", &data) && data &&
            json_object_is_type(data, json_type_object) && !m->data)
            m->data = json_object_get(data);
        if (json_object_object_get_ex(j, "errors", &errors))
            add_errors(m, errors);
    }
    if (json_object_object_get_ex(j, "incremental", &inc) && json_object_is_type(inc, json_type_array))
        for (size_t i = 0; i < json_object_array_length(inc); i++)
            merge_one(m, json_object_array_get_idx(inc, i));
    else if (had_data && json_object_object_get_ex(j, "path", &inc))
        merge_one(m, j);   /* the 2020 form: one payload per part */
    if (json_object_object_get_ex(j, "extensions", &ext) && ext &&
        json_object_is_type(ext, json_type_object)) {
        if (m->extensions)
            json_object_put(m->extensions);
        m->extensions = json_object_get(ext);
    }
    json_object_put(j);
    return 0;
}

static const char *find(const char *hay, size_t n, const char *needle, size_t nl)
{
    if (nl == 0 || n < nl)
        return NULL;
    for (const char *p = hay; (p = memchr(p, needle[0], n - (size_t)(p - hay) - nl + 1)) != NULL; p++) {
        if (memcmp(p, needle, nl) == 0)
            return p;
        if ((size_t)(p - hay) + nl >= n)
            break;
    }
    return NULL;
}

int gj__gql_multipart_feed(gj__gql_multipart *m, const char *data, size_t len, gj_error *err)
{
    if (m->state == MP_END)
        return 0;   /* an epilogue */
    gj__gql_buf_put(&m->buf, data, len);
    if (m->buf.nomem)
        return gj__error_set(err, GJ_ENOMEM, "out of memory for an incremental reply");
    for (;;) {
        char *b = m->buf.p;
        size_t n = m->buf.len;
        if (m->state == MP_END)
            return 0;
        const char *d, *after = NULL;
        if (m->state == MP_PREAMBLE && n >= m->dlen - 2 &&
            memcmp(b, m->delim + 2, m->dlen - 2) == 0) {
            /* The first delimiter may open the body without a CRLF before it. */
            d = b;
            after = b + m->dlen - 2;
        } else {
            d = find(b, n, m->delim, m->dlen);
            if (d)
                after = d + m->dlen;
        }
        if (!d) {
            if (n > m->max) {
                m->c->broken = true;
                return gj__error_set(err, GJ_ETOOBIG, "%s: a part of the incremental reply is "
                                     "larger than max_message_size (%zu bytes)", m->c->hostport,
                                     m->max);
            }
            return 0;
        }
        /* What follows the boundary: "--" (the end) or the rest of its line. */
        size_t rest = n - (size_t)(after - b);
        if (rest < 2)
            return 0;
        bool last = after[0] == '-' && after[1] == '-';
        const char *eol = last ? after + 2 : find(after, rest, "\r\n", 2);
        if (!eol)
            return 0;
        if (m->state == MP_PART) {
            int rc = take_part(m, b, (size_t)(d - b), err);
            if (rc)
                return rc;
        }
        size_t used = (size_t)(eol - b) + (last ? 0 : 2);
        memmove(b, b + used, n - used);
        m->buf.len = n - used;
        b[m->buf.len] = '\0';
        m->state = last ? MP_END : MP_PART;
    }
}

int gj__gql_multipart_finish(gj__gql_multipart *m, long status, gj_error *err)
{
    gj_conn *c = m->c;
    if (m->state != MP_END || m->has_next) {
        c->broken = true;
        return gj__error_set(err, GJ_EPROTOCOL, "%s: the incremental reply ended after %zu "
                             "part%s, before its last (hasNext: false)", c->hostport, m->nparts,
                             m->nparts == 1 ? "" : "s");
    }
    int rc = put_meta(m->sink, "incremental_parts", gj_value_int((int64_t)m->nparts), err);
    if (rc || m->as_parts) {
        if (!rc)
            rc = put_meta(m->sink, "http_status", gj_value_int(status), err);
        return rc;
    }
    if (!m->data) {
        if (m->errors)
            return gj__gql_fail(c, status, m->errors, NULL, err);
        return gj__error_set(err, GJ_EPROTOCOL, "%s: an incremental reply without data",
                             c->hostport);
    }
    return emit(c, status, m->data, m->errors, m->extensions, 0, m->sink, err);
}
