/*
 * ArangoDB backend: the operations beyond AQL — documents, collections,
 * stream transactions, server version and a generic HTTP request.  Each reply body becomes one
 * row (document.insert of an array and collection.list: one row per item).
 */
#include "backend/arango/arango_internal.h"

#include <stdlib.h>
#include <string.h>

/* A path or query string we build: bounded like ArangoDB's URL limit. */
#define PATH_MAX_LEN 16384

typedef struct pbuf {
    char text[PATH_MAX_LEN];
    size_t len;
    bool overflow;
} pbuf;

static void pb_add(pbuf *b, const char *s)
{
    size_t n = strlen(s);
    if (b->overflow || n >= sizeof b->text - b->len) {
        b->overflow = true;
        return;
    }
    memcpy(b->text + b->len, s, n + 1);
    b->len += n;
}

/* Add an escaped segment; false when out of memory or too long. */
static int pb_add_escaped(gj_conn *c, pbuf *b, const char *s, const char *what, gj_error *err)
{
    char *e = gj__arango_escape(c, s);
    if (!e)
        return gj__error_set(err, strlen(s) > GJ__ARANGO_MAX_NAME ? GJ_EINVAL : GJ_ENOMEM,
                             "%s is too long or out of memory", what);
    pb_add(b, e);
    free(e);
    return 0;
}

/* "?a=true&b=false" from the boolean options among names. */
static int pb_bool_flags(const gj_request *req, pbuf *b, const char *const *names, gj_error *err)
{
    for (size_t i = 0; names[i]; i++) {
        bool v = false;
        const gj_value *raw = gj_request_option(req, names[i]);
        if (!raw)
            continue;
        int rc = gj__arango_opt_bool(req, names[i], &v, err);
        if (rc)
            return rc;
        pb_add(b, strchr(b->text, '?') ? "&" : "?");
        pb_add(b, names[i]);
        pb_add(b, v ? "=true" : "=false");
    }
    return 0;
}

static int required_string(const gj_request *req, const char *key, const char *op,
                           const char **out, gj_error *err)
{
    *out = NULL;
    int rc = gj__arango_opt_string(req, key, out, err);
    if (rc)
        return rc;
    if (!*out || !**out)
        return gj__error_set(err, GJ_EINVAL, "op %s needs option %s", op, key);
    return 0;
}

/* Run a call and turn its reply into rows (or the server's error). */
static int run(gj_conn *c, gj__arango_call *call, const char *what, gj_sink *sink,
               bool split_array, gj_error *err)
{
    gj__arango_reply reply = { 0, NULL };
    int rc = gj__arango_perform_failover(c, call, &reply, err);
    if (rc == GJ_ECANCELLED && gj__arango_take_interrupt(c))
        return gj__error_set(err, GJ_ECANCELLED, "%s: %s cancelled", c->hostport, what);
    if (rc)
        return rc;
    rc = gj__arango_reply_error(c, &reply, what, err);
    if (!rc) {
        gj_value *status = gj_value_int(reply.status);
        if (!status || gj__sink_meta(sink, "http_status", status))
            rc = gj__error_set(err, GJ_ENOMEM, "out of memory for the result");
    }
    if (!rc && split_array && reply.json && json_object_is_type(reply.json, json_type_array)) {
        size_t n = json_object_array_length(reply.json);
        for (size_t i = 0; i < n && !rc; i++) {
            gj_value *row = NULL;
            rc = gj__arango_json_to_value(json_object_array_get_idx(reply.json, i), &row, err);
            if (!rc && (rc = gj__sink_row(sink, row)) != 0 && rc != GJ_EABORTED)
                rc = gj__error_set(err, rc, "out of memory for a row");
            else if (rc == GJ_EABORTED)
                rc = gj__error_set(err, GJ_EABORTED, "the row callback stopped");
        }
    } else if (!rc) {
        rc = gj__arango_emit_body(c, &reply, sink, err);
    }
    gj__arango_reply_clear(&reply);
    return rc;
}

static int body_text(const gj_request *req, const char *key, const char *op, char **text,
                     size_t *len, gj_error *err)
{
    const gj_value *v = gj_request_option(req, key);
    if (!v)
        return gj__error_set(err, GJ_EINVAL, "op %s needs option %s", op, key);
    return gj__arango_value_to_text(v, text, len, err);
}

/* ---- documents ---------------------------------------------------------- */

static const char *const document_options[] = {
    "collection", "key", "document", "documents", "returnNew", "returnOld", "rev", "silent",
    "waitForSync", "overwrite", "overwriteMode", "keepNull", "mergeObjects", "ignoreRevs",
    "trx", NULL
};
static const char *const document_flags[] = {
    "returnNew", "returnOld", "silent", "waitForSync", "overwrite", "keepNull", "mergeObjects",
    "ignoreRevs", NULL
};

int gj__arango_op_document(gj_conn *c, const gj_request *req, const char *verb,
                           gj_sink *sink, int64_t deadline, gj_error *err)
{
    static const struct { const char *verb, *method; bool key, body; } verbs[] = {
        { "insert", "POST", false, true },   { "get", "GET", true, false },
        { "replace", "PUT", true, true },    { "update", "PATCH", true, true },
        { "remove", "DELETE", true, false },
    };
    size_t k = 0;
    while (k < sizeof verbs / sizeof verbs[0] && strcmp(verbs[k].verb, verb) != 0)
        k++;
    if (k == sizeof verbs / sizeof verbs[0])
        return gj__error_set(err, GJ_EUNSUPPORTED, "arango backend has no operation document.%s",
                             verb);
    char op[48];
    snprintf(op, sizeof op, "document.%s", verb);
    int rc = gj__arango_check_options(req, op, document_options, err);
    if (rc)
        return rc;
    const char *coll = NULL, *key = NULL, *rev = NULL, *trx = NULL, *mode = NULL;
    if ((rc = required_string(req, "collection", op, &coll, err)) ||
        (rc = gj__arango_opt_string(req, "rev", &rev, err)) ||
        (rc = gj__arango_opt_trx(c, req, &trx, err)) ||
        (rc = gj__arango_opt_string(req, "overwriteMode", &mode, err)))
        return rc;
    bool many = gj_request_option(req, "documents") != NULL;
    if (verbs[k].key && !many && (rc = required_string(req, "key", op, &key, err)))
        return rc;

    pbuf *path = calloc(1, sizeof *path);
    if (!path)
        return gj__error_set(err, GJ_ENOMEM, "out of memory");
    pb_add(path, "/_api/document/");
    if ((rc = pb_add_escaped(c, path, coll, "option collection", err)))
        goto out;
    if (key) {
        pb_add(path, "/");
        if ((rc = pb_add_escaped(c, path, key, "option key", err)))
            goto out;
    }
    if ((rc = pb_bool_flags(req, path, document_flags, err)))
        goto out;
    if (mode) {
        pb_add(path, strchr(path->text, '?') ? "&overwriteMode=" : "?overwriteMode=");
        if ((rc = pb_add_escaped(c, path, mode, "option overwriteMode", err)))
            goto out;
    }
    if (path->overflow) {
        rc = gj__error_set(err, GJ_EINVAL, "op %s: the URL is longer than %d bytes", op,
                           PATH_MAX_LEN);
        goto out;
    }
    char *body = NULL;
    size_t body_len = 0;
    if (verbs[k].body || many) {
        rc = body_text(req, many ? "documents" : "document", op, &body, &body_len, err);
        if (rc)
            goto out;
    }
    gj__arango_call call = { verbs[k].method, gj__arango_database(c, req), path->text, body,
                             body_len, rev, trx, strcmp(verbs[k].method, "GET") == 0,
                             deadline };
    rc = run(c, &call, op, sink, many, err);
    gj_free(body);
out:
    free(path);
    return rc;
}

/* ---- collections -------------------------------------------------------- */

static const char *const collection_options[] = {
    "name", "collection", "type", "properties", "excludeSystem", "waitForSync", "trx", NULL
};

int gj__arango_op_collection(gj_conn *c, const gj_request *req, const char *verb,
                             gj_sink *sink, int64_t deadline, gj_error *err)
{
    char op[48];
    snprintf(op, sizeof op, "collection.%.32s", verb);
    int rc = gj__arango_check_options(req, op, collection_options, err);
    if (rc)
        return rc;
    const char *name = NULL, *trx = NULL;
    if ((rc = gj__arango_opt_string(req, "name", &name, err)) ||
        (!name && (rc = gj__arango_opt_string(req, "collection", &name, err))) ||
        (rc = gj__arango_opt_trx(c, req, &trx, err)))
        return rc;
    const char *db = gj__arango_database(c, req);
    pbuf *path = calloc(1, sizeof *path);
    if (!path)
        return gj__error_set(err, GJ_ENOMEM, "out of memory");
    char *body = NULL;
    size_t body_len = 0;
    const char *method = "GET";
    bool split = false;
    pb_add(path, "/_api/collection");
    if (strcmp(verb, "list") == 0) {
        bool excl = true;
        if ((rc = gj__arango_opt_bool(req, "excludeSystem", &excl, err)))
            goto out;
        pb_add(path, excl ? "?excludeSystem=true" : "?excludeSystem=false");
        gj__arango_call call = { method, db, path->text, NULL, 0, NULL, trx, true, deadline };
        gj__arango_reply reply = { 0, NULL };
        rc = gj__arango_perform_failover(c, &call, &reply, err);
        if (rc == GJ_ECANCELLED && gj__arango_take_interrupt(c))
            rc = gj__error_set(err, GJ_ECANCELLED, "%s: %s cancelled", c->hostport, op);
        if (!rc)
            rc = gj__arango_reply_error(c, &reply, op, err);
        json_object *result = NULL;
        if (!rc && reply.json && json_object_object_get_ex(reply.json, "result", &result) &&
            json_object_is_type(result, json_type_array)) {
            size_t n = json_object_array_length(result);
            for (size_t i = 0; i < n && !rc; i++) {
                gj_value *row = NULL;
                rc = gj__arango_json_to_value(json_object_array_get_idx(result, i), &row, err);
                if (!rc && (rc = gj__sink_row(sink, row)) != 0)
                    rc = gj__error_set(err, rc, rc == GJ_EABORTED ? "the row callback stopped"
                                                                 : "out of memory for a row");
            }
        } else if (!rc) {
            c->broken = true;
            rc = gj__error_set(err, GJ_EPROTOCOL, "%s: %s: reply has no result array",
                               c->hostport, op);
        }
        gj__arango_reply_clear(&reply);
        goto out;
    }
    if (!name || !*name) {
        rc = gj__error_set(err, GJ_EINVAL, "op %s needs option name", op);
        goto out;
    }
    if (strcmp(verb, "create") == 0) {
        gj_value *b = NULL;
        const gj_value *props = gj_request_option(req, "properties");
        const gj_value *type = gj_request_option(req, "type");
        if (props && gj_value_type(props) != GJ_TMAP) {
            rc = gj__error_set(err, GJ_EINVAL, "option properties: expected a map");
            goto out;
        }
        rc = gj_value_new_map(&b, 4);
        for (size_t i = 0; !rc && props && i < gj_value_size(props); i++)
            rc = gj_value_map_put(b, gj_value_ref(gj_value_map_key_at(props, i)),
                                  gj_value_ref(gj_value_map_value_at(props, i)));
        if (!rc)
            rc = gj_value_map_put_str(b, "name", gj_value_string(name));
        if (!rc && type) {
            const char *ts = NULL;
            int64_t ti = 0;
            if (gj_value_string_get(type, &ts, NULL) == 0)
                ti = strcmp(ts, "edge") == 0 ? 3 : strcmp(ts, "document") == 0 ? 2 : 0;
            else
                gj_value_int_get(type, &ti);
            if (ti != 2 && ti != 3) {
                gj_value_unref(b);
                rc = gj__error_set(err, GJ_EINVAL,
                                   "option type: \"document\", \"edge\", 2 or 3 expected");
                goto out;
            }
            rc = gj_value_map_put_str(b, "type", gj_value_int(ti));
        }
        if (rc) {
            gj_value_unref(b);
            rc = gj__error_set(err, GJ_ENOMEM, "out of memory");
            goto out;
        }
        rc = gj__arango_value_to_text(b, &body, &body_len, err);
        gj_value_unref(b);
        if (rc)
            goto out;
        method = "POST";
    } else {
        pb_add(path, "/");
        if ((rc = pb_add_escaped(c, path, name, "option name", err)))
            goto out;
        if (strcmp(verb, "drop") == 0) {
            method = "DELETE";
        } else if (strcmp(verb, "count") == 0) {
            pb_add(path, "/count");
        } else if (strcmp(verb, "truncate") == 0) {
            pb_add(path, "/truncate");
            method = "PUT";
        } else if (strcmp(verb, "properties") == 0) {
            pb_add(path, "/properties");
            if (gj_request_option(req, "properties")) {
                method = "PUT";
                if ((rc = body_text(req, "properties", op, &body, &body_len, err)))
                    goto out;
            }
        } else {
            rc = gj__error_set(err, GJ_EUNSUPPORTED, "arango backend has no operation %s", op);
            goto out;
        }
    }
    if (path->overflow) {
        rc = gj__error_set(err, GJ_EINVAL, "op %s: the URL is too long", op);
        goto out;
    }
    gj__arango_call call = { method, db, path->text, body, body_len, NULL, trx,
                             strcmp(method, "GET") == 0, deadline };
    rc = run(c, &call, op, sink, split, err);
out:
    gj_free(body);
    free(path);
    return rc;
}

/* ---- version ------------------------------------------------------------ */

static const char *const version_options[] = { "details", NULL };

int gj__arango_op_version(gj_conn *c, const gj_request *req, gj_sink *sink, int64_t deadline,
                          gj_error *err)
{
    int rc = gj__arango_check_options(req, "version", version_options, err);
    bool details = false;
    if (rc || (rc = gj__arango_opt_bool(req, "details", &details, err)))
        return rc;
    gj__arango_call call = { "GET", gj__arango_database(c, req),
                             details ? "/_api/version?details=true" : "/_api/version", NULL, 0,
                             NULL, NULL, true, deadline };
    return run(c, &call, "version", sink, false, err);
}

/* ---- generic request ----------------------------------------------------- */

static const char *const http_options[] = { "method", "path", "query", "body", "trx", NULL };

int gj__arango_op_http(gj_conn *c, const gj_request *req, gj_sink *sink, int64_t deadline,
                       gj_error *err)
{
    int rc = gj__arango_check_options(req, "http", http_options, err);
    if (rc)
        return rc;
    const char *method = "GET", *p = NULL, *trx = NULL;
    if ((rc = gj__arango_opt_string(req, "method", &method, err)) ||
        (rc = required_string(req, "path", "http", &p, err)) ||
        (rc = gj__arango_opt_trx(c, req, &trx, err)))
        return rc;
    static const char *const methods[] = { "GET", "POST", "PUT", "PATCH", "DELETE", NULL };
    size_t m = 0;
    while (methods[m] && strcmp(methods[m], method) != 0)
        m++;
    if (!methods[m])
        return gj__error_set(err, GJ_EINVAL, "option method: %.16s is not one of GET, POST, "
                             "PUT, PATCH, DELETE", method);
    if (p[0] != '/' || strpbrk(p, " \r\n\t?#"))
        return gj__error_set(err, GJ_EINVAL,
                             "option path: must start with '/' and hold no spaces, '?' or '#' "
                             "(use option query)");
    pbuf *path = calloc(1, sizeof *path);
    if (!path)
        return gj__error_set(err, GJ_ENOMEM, "out of memory");
    char *body = NULL;
    size_t body_len = 0;
    pb_add(path, p);
    const gj_value *q = gj_request_option(req, "query");
    if (q && gj_value_type(q) != GJ_TMAP) {
        rc = gj__error_set(err, GJ_EINVAL, "option query: expected a map");
        goto out;
    }
    for (size_t i = 0; q && i < gj_value_size(q); i++) {
        const char *k = NULL, *vs = NULL;
        char num[32];
        const gj_value *v = gj_value_map_value_at(q, i);
        if (gj_value_string_get(gj_value_map_key_at(q, i), &k, NULL) != 0) {
            rc = gj__error_set(err, GJ_EINVAL, "option query: keys must be strings");
            goto out;
        }
        int64_t iv;
        bool bv;
        if (gj_value_string_get(v, &vs, NULL) == 0) {
        } else if (gj_value_int_get(v, &iv) == 0) {
            snprintf(num, sizeof num, "%lld", (long long)iv);
            vs = num;
        } else if (gj_value_bool_get(v, &bv) == 0) {
            vs = bv ? "true" : "false";
        } else {
            rc = gj__error_set(err, GJ_EINVAL,
                               "option query: value of %s must be a string, int or bool", k);
            goto out;
        }
        pb_add(path, i == 0 ? "?" : "&");
        if ((rc = pb_add_escaped(c, path, k, "option query", err)))
            goto out;
        pb_add(path, "=");
        if ((rc = pb_add_escaped(c, path, vs, "option query", err)))
            goto out;
    }
    if (path->overflow) {
        rc = gj__error_set(err, GJ_EINVAL, "op http: the URL is longer than %d bytes",
                           PATH_MAX_LEN);
        goto out;
    }
    if (gj_request_option(req, "body") &&
        (rc = body_text(req, "body", "http", &body, &body_len, err)))
        goto out;
    gj__arango_call call = { method, gj__arango_database(c, req), path->text, body, body_len,
                             NULL, trx, strcmp(method, "GET") == 0, deadline, true };
    rc = run(c, &call, "http request", sink, false, err);
out:
    gj_free(body);
    free(path);
    return rc;
}

/* ---- stream transactions -------------------------------------------------- */

static const char *const transaction_options[] = {
    "id", "collections", "allowImplicit", "lockTimeout", "waitForSync", "maxTransactionSize",
    NULL
};

int gj__arango_op_transaction(gj_conn *c, const gj_request *req, const char *verb,
                              gj_sink *sink, int64_t deadline, gj_error *err)
{
    char op[48];
    snprintf(op, sizeof op, "transaction.%.32s", verb);
    int rc = gj__arango_check_options(req, op, transaction_options, err);
    if (rc)
        return rc;
    const char *db = gj__arango_database(c, req);
    if (strcmp(verb, "begin") == 0) {
        if (gj_request_option(req, "id"))
            return gj__error_set(err, GJ_EINVAL, "op %s: option id is for commit/abort/status", op);
        const gj_value *coll = gj_request_option(req, "collections");
        if (!coll || gj_value_type(coll) != GJ_TMAP)
            return gj__error_set(err, GJ_EINVAL,
                                 "op %s needs option collections (a map of read/write/exclusive)",
                                 op);
        /* The body is the options as given. */
        char *body = NULL;
        size_t body_len = 0;
        if ((rc = gj__arango_value_to_text(gj_request_options(req), &body, &body_len, err)))
            return rc;
        gj__arango_call call = { "POST", db, "/_api/transaction/begin", body, body_len, NULL,
                                 NULL, false, deadline };
        rc = run(c, &call, op, sink, false, err);
        gj_free(body);
        return rc;
    }
    const char *method = strcmp(verb, "commit") == 0   ? "PUT"
                         : strcmp(verb, "abort") == 0  ? "DELETE"
                         : strcmp(verb, "status") == 0 ? "GET"
                                                       : NULL;
    if (!method)
        return gj__error_set(err, GJ_EUNSUPPORTED, "arango backend has no operation %s", op);
    const char *id = NULL;
    /* In a session, transaction.status asks about the session's
     * transaction when no id is given. */
    if (strcmp(verb, "status") == 0 && !gj_request_option(req, "id") && c->session_trx) {
        id = c->session_trx;
        c->session_trx_used = true;
    } else if ((rc = required_string(req, "id", op, &id, err))) {
        return rc;
    }
    if (strspn(id, "0123456789") != strlen(id) || strlen(id) > 32)
        return gj__error_set(err, GJ_EINVAL, "op %s: option id is not a transaction id", op);
    char path[64];
    snprintf(path, sizeof path, "/_api/transaction/%s", id);
    gj__arango_call call = { method, db, path, NULL, 0, NULL, NULL, strcmp(method, "PUT") != 0,
                             deadline };
    return run(c, &call, op, sink, false, err);
}
