/* api_document.c — /_api/document: insert (one or many), read, replace,
 * update, remove, with _key/_id/_rev, If-Match revision checks, unique
 * constraint errors and returnNew/returnOld/silent. */
#include "rs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { OW_CONFLICT, OW_REPLACE, OW_UPDATE, OW_IGNORE };

typedef struct doc_opts {
    int return_new, return_old, silent, sync, ignore_revs, keep_null, merge_objects, overwrite;
} doc_opts;

typedef struct op_err {
    int status, errnum;
    char msg[512];
    char id[RS_NAME_MAX + RS_KEY_MAX + 2], key[RS_KEY_MAX + 1], rev[16]; /* 412 extras */
} op_err;

static json_object *fail(op_err *e, int status, int errnum, const char *msg)
{
    e->status = status;
    e->errnum = errnum;
    snprintf(e->msg, sizeof e->msg, "%s", msg ? msg : rs_errmsg(errnum));
    return NULL;
}

static const char *str_attr(json_object *o, const char *name)
{
    json_object *v = NULL;
    if (!json_object_object_get_ex(o, name, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

static int is_system_attr(const char *k)
{
    return !strcmp(k, "_key") || !strcmp(k, "_id") || !strcmp(k, "_rev");
}

/* A fresh stored document: _key, _id, _rev first, then the user attributes
 * of `src` (deep copies). */
static json_object *make_doc(rs_server *srv, rs_collection *c, const char *key, json_object *src, char rev[16])
{
    char id[RS_NAME_MAX + RS_KEY_MAX + 2];
    snprintf(id, sizeof id, "%s/%s", c->name, key);
    rs_new_rev(srv, rev);
    json_object *d = json_object_new_object();
    if (!d)
        return NULL;
    json_object_object_add(d, "_key", json_object_new_string(key));
    json_object_object_add(d, "_id", json_object_new_string(id));
    json_object_object_add(d, "_rev", json_object_new_string(rev));
    if (src) {
        json_object_object_foreach(src, k, v) {
            if (is_system_attr(k))
                continue;
            json_object *copy = NULL;
            if (v && json_object_deep_copy(v, &copy, NULL) != 0) {
                json_object_put(d);
                return NULL;
            }
            json_object_object_add(d, k, copy);
        }
    }
    return d;
}

static int edge_ok(rs_collection *c, json_object *doc)
{
    if (c->type != 3)
        return 1;
    const char *from = str_attr(doc, "_from"), *to = str_attr(doc, "_to");
    return from && to && strchr(from, '/') && strchr(to, '/');
}

static json_object *meta(json_object *doc, const char *old_rev)
{
    json_object *r = json_object_new_object();
    json_object_object_add(r, "_id", json_object_new_string(str_attr(doc, "_id")));
    json_object_object_add(r, "_key", json_object_new_string(str_attr(doc, "_key")));
    json_object_object_add(r, "_rev", json_object_new_string(str_attr(doc, "_rev")));
    if (old_rev)
        json_object_object_add(r, "_oldRev", json_object_new_string(old_rev));
    return r;
}

static void add_copy(json_object *r, const char *name, json_object *doc)
{
    json_object *copy = NULL;
    if (doc && json_object_deep_copy(doc, &copy, NULL) != 0)
        copy = NULL;
    json_object_object_add(r, name, copy);
}

/* The revision precondition: If-Match (single ops) or a _rev in the body
 * when ignoreRevs is false. */
static int rev_conflict(json_object *cur, const char *if_match, json_object *input, const doc_opts *o,
                        op_err *e)
{
    const char *want = if_match;
    if (!want && !o->ignore_revs && input)
        want = str_attr(input, "_rev");
    if (!want)
        return 0;
    const char *have = str_attr(cur, "_rev");
    if (have && !strcmp(have, want))
        return 0;
    fail(e, 412, 1200, "conflict, _rev values do not match");
    snprintf(e->id, sizeof e->id, "%s", str_attr(cur, "_id"));
    snprintf(e->key, sizeof e->key, "%s", str_attr(cur, "_key"));
    snprintf(e->rev, sizeof e->rev, "%s", have ? have : "");
    return 1;
}

static void merge_into(json_object *dst, json_object *patch, int keep_null, int merge_objects)
{
    json_object_object_foreach(patch, k, v) {
        if (is_system_attr(k))
            continue;
        if (!v && !keep_null) {
            json_object_object_del(dst, k);
            continue;
        }
        json_object *cur = NULL;
        if (merge_objects && v && json_object_is_type(v, json_type_object) &&
            json_object_object_get_ex(dst, k, &cur) && cur && json_object_is_type(cur, json_type_object)) {
            merge_into(cur, v, keep_null, merge_objects);
            continue;
        }
        json_object *copy = NULL;
        if (v)
            json_object_deep_copy(v, &copy, NULL);
        json_object_object_add(dst, k, copy);
    }
}

/* Replace (update = 0) or update (update = 1) the existing document `key`. */
static json_object *modify_one(rs_server *srv, rs_collection *c, rs_trx *t, const char *key, json_object *input,
                               const char *if_match, const doc_opts *o, int update, op_err *e)
{
    if (!input || !json_object_is_type(input, json_type_object))
        return fail(e, 400, 1227, NULL);
    json_object *cur = rs_doc_get(c, t, key);
    if (!cur)
        return fail(e, 404, 1202, NULL);
    if (rev_conflict(cur, if_match, input, o, e))
        return NULL;
    char rev[16];
    json_object *doc = NULL;
    if (update) {
        doc = make_doc(srv, c, key, cur, rev);
        if (doc)
            merge_into(doc, input, o->keep_null, o->merge_objects);
    } else {
        doc = make_doc(srv, c, key, input, rev);
    }
    if (!doc)
        return fail(e, 500, 4, "out of memory");
    if (!edge_ok(c, doc)) {
        json_object_put(doc);
        return fail(e, 400, 1233, NULL);
    }
    json_object *r = meta(doc, str_attr(cur, "_rev"));
    if (o->return_old)
        add_copy(r, "old", cur);
    if (o->return_new)
        add_copy(r, "new", doc);
    if (rs_doc_set(c, t, key, doc) != 0) {
        json_object_put(r);
        return fail(e, 500, 32, "cannot store the document");
    }
    return r;
}

static json_object *insert_one(rs_server *srv, rs_collection *c, rs_trx *t, json_object *input,
                               const doc_opts *o, op_err *e)
{
    if (!input || !json_object_is_type(input, json_type_object))
        return fail(e, 400, 1227, NULL);
    char keybuf[32];
    const char *key = NULL;
    json_object *kv = NULL;
    if (json_object_object_get_ex(input, "_key", &kv)) {
        if (!json_object_is_type(kv, json_type_string) || !rs_valid_key(json_object_get_string(kv)))
            return fail(e, 400, 1221, NULL);
        key = json_object_get_string(kv);
    } else {
        snprintf(keybuf, sizeof keybuf, "%llu", (unsigned long long)rs_next_tick(srv));
        key = keybuf;
    }
    json_object *cur = rs_doc_get(c, t, key);
    if (cur) {
        switch (o->overwrite) {
        case OW_REPLACE:
            return modify_one(srv, c, t, key, input, NULL, o, 0, e);
        case OW_UPDATE:
            return modify_one(srv, c, t, key, input, NULL, o, 1, e);
        case OW_IGNORE: {
            json_object *r = meta(cur, NULL);
            if (o->return_new)
                json_object_object_add(r, "new", NULL);
            return r;
        }
        default: {
            char msg[400];
            snprintf(msg, sizeof msg, "unique constraint violated - in index primary of type primary "
                     "over '_key'; conflicting key: %s", key);
            return fail(e, 409, 1210, msg);
        }
        }
    }
    if (rs_coll_count(c, t) >= RS_MAX_DOCUMENTS)
        return fail(e, 500, 32, "collection is full");
    char rev[16];
    json_object *doc = make_doc(srv, c, key, input, rev);
    if (!doc)
        return fail(e, 500, 4, "out of memory");
    if (!edge_ok(c, doc)) {
        json_object_put(doc);
        return fail(e, 400, 1233, NULL);
    }
    json_object *r = meta(doc, NULL);
    if (o->return_new)
        add_copy(r, "new", doc);
    if (rs_doc_set(c, t, key, doc) != 0) {
        json_object_put(r);
        return fail(e, 500, 32, "cannot store the document");
    }
    return r;
}

int rs_document_insert(rs_server *srv, rs_collection *c, rs_trx *t, json_object *doc, json_object **stored,
                       int *errnum, char *msg, size_t msgcap)
{
    doc_opts o = { .return_new = 1, .keep_null = 1, .merge_objects = 1, .ignore_revs = 1 };
    op_err e = { 0 };
    json_object *r = insert_one(srv, c, t, doc, &o, &e);
    json_object_put(doc);
    if (!r) {
        *errnum = e.errnum;
        snprintf(msg, msgcap, "%s", e.msg);
        return e.status;
    }
    json_object *n = NULL;
    if (stored && json_object_object_get_ex(r, "new", &n))
        *stored = json_object_get(n);
    json_object_put(r);
    return 0;
}

static json_object *remove_one(rs_collection *c, rs_trx *t, const char *key, json_object *input,
                               const char *if_match, const doc_opts *o, op_err *e)
{
    json_object *cur = rs_doc_get(c, t, key);
    if (!cur)
        return fail(e, 404, 1202, NULL);
    if (rev_conflict(cur, if_match, input, o, e))
        return NULL;
    json_object *r = meta(cur, NULL);
    if (o->return_old)
        add_copy(r, "old", cur);
    rs_doc_del(c, t, key);
    return r;
}

/* ---- HTTP layer --------------------------------------------------------------- */

static void parse_opts(rs_request *req, rs_collection *c, doc_opts *o)
{
    memset(o, 0, sizeof *o);
    o->return_new = rs_arg_bool(req, "returnNew", 0);
    o->return_old = rs_arg_bool(req, "returnOld", 0);
    o->silent = rs_arg_bool(req, "silent", 0);
    o->sync = rs_arg_bool(req, "waitForSync", 0) || c->wait_for_sync;
    o->ignore_revs = rs_arg_bool(req, "ignoreRevs", 1);
    o->keep_null = rs_arg_bool(req, "keepNull", 1);
    o->merge_objects = rs_arg_bool(req, "mergeObjects", 1);
    const char *mode = rs_arg(req, "overwriteMode");
    o->overwrite = rs_arg_bool(req, "overwrite", 0) ? OW_REPLACE : OW_CONFLICT;
    if (mode && !strcmp(mode, "replace"))
        o->overwrite = OW_REPLACE;
    else if (mode && !strcmp(mode, "update"))
        o->overwrite = OW_UPDATE;
    else if (mode && !strcmp(mode, "ignore"))
        o->overwrite = OW_IGNORE;
    else if (mode && !strcmp(mode, "conflict"))
        o->overwrite = OW_CONFLICT;
}

static char *unquote(const char *v, char *buf, size_t cap)
{
    if (!v)
        return NULL;
    size_t n = strlen(v);
    if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
        v++;
        n -= 2;
    }
    if (n >= cap)
        n = cap - 1;
    memcpy(buf, v, n);
    buf[n] = '\0';
    return buf;
}

static void error_reply(rs_response *res, const op_err *e)
{
    json_object *o = rs_error_object(e->status, e->errnum, e->msg);
    if (e->status == 412) {
        json_object_object_add(o, "_id", json_object_new_string(e->id));
        json_object_object_add(o, "_key", json_object_new_string(e->key));
        json_object_object_add(o, "_rev", json_object_new_string(e->rev));
    }
    rs_response_json(res, e->status, o);
}

static void single_reply(rs_request *req, rs_response *res, rs_collection *c, json_object *r, int status,
                         const doc_opts *o)
{
    char etag[24], loc[RS_NAME_MAX * 2 + RS_KEY_MAX + 32];
    snprintf(etag, sizeof etag, "\"%s\"", str_attr(r, "_rev"));
    snprintf(loc, sizeof loc, "/_db/%s/_api/document/%s/%s", req->dbname, c->name, str_attr(r, "_key"));
    if (o->silent) {
        json_object_put(r);
        r = json_object_new_object();
    }
    rs_response_json(res, status, r);
    rs_response_header(res, "etag", etag);
    if (req->method != RS_DELETE)
        rs_response_header(res, "location", loc);
}

typedef enum { OP_INSERT, OP_REPLACE, OP_UPDATE, OP_REMOVE, OP_GET } doc_op;

/* Many documents in one request: an array in, an array of results out,
 * with the error numbers counted in x-arango-error-codes. */
static void multi(rs_request *req, rs_response *res, rs_collection *c, rs_trx *t, doc_op op,
                  json_object *body, const doc_opts *o)
{
    rs_server *srv = req->coord->srv;
    size_t n = json_object_array_length(body);
    json_object *out = json_object_new_array(), *codes = json_object_new_object();
    int any_error = 0;
    for (size_t i = 0; i < n; i++) {
        json_object *in = json_object_array_get_idx(body, i);
        op_err e = { 0 };
        json_object *r = NULL;
        const char *key = json_object_is_type(in, json_type_string) ? json_object_get_string(in)
                                                                     : (in ? str_attr(in, "_key") : NULL);
        if (op == OP_INSERT) {
            r = insert_one(srv, c, t, in, o, &e);
        } else if (!key) {
            fail(&e, 400, 1205, NULL);
        } else if (op == OP_GET) {
            json_object *cur = rs_doc_get(c, t, key);
            if (!cur)
                fail(&e, 404, 1202, NULL);
            else if (json_object_deep_copy(cur, &r, NULL) != 0)
                r = NULL;
        } else if (op == OP_REMOVE) {
            r = remove_one(c, t, key, json_object_is_type(in, json_type_object) ? in : NULL, NULL, o, &e);
        } else {
            r = modify_one(srv, c, t, key, in, NULL, o, op == OP_UPDATE, &e);
        }
        if (!r) {
            any_error = 1;
            r = json_object_new_object();
            json_object_object_add(r, "error", json_object_new_boolean(1));
            json_object_object_add(r, "errorNum", json_object_new_int(e.errnum));
            json_object_object_add(r, "errorMessage", json_object_new_string(e.msg));
            char num[16];
            snprintf(num, sizeof num, "%d", e.errnum);
            json_object *cnt = NULL;
            int64_t prev = json_object_object_get_ex(codes, num, &cnt) ? json_object_get_int64(cnt) : 0;
            json_object_object_add(codes, num, json_object_new_int64(prev + 1));
        } else if (o->silent && op != OP_GET) {
            json_object_put(r);
            continue;
        }
        json_object_array_add(out, r);
    }
    int status = op == OP_GET ? 200 : o->sync ? (op == OP_REMOVE ? 200 : 201) : 202;
    rs_response_json(res, status, out);
    if (any_error) {
        char *s = rs_json_string(codes, NULL);
        if (s)
            rs_response_header(res, "x-arango-error-codes", s);
        free(s);
    }
    json_object_put(codes);
}

static void read_one(rs_request *req, rs_response *res, rs_collection *c, rs_trx *t, const char *key)
{
    json_object *cur = rs_doc_get(c, t, key);
    if (!cur) {
        rs_response_error(res, 404, 1202, NULL);
        return;
    }
    char buf[64], etag[24];
    const char *rev = str_attr(cur, "_rev");
    snprintf(etag, sizeof etag, "\"%s\"", rev);
    const char *none_match = unquote(rs_header(req, "if-none-match"), buf, sizeof buf);
    if (none_match && !strcmp(none_match, rev)) {
        rs_response_text(res, 304, NULL, NULL);
        rs_response_header(res, "etag", etag);
        return;
    }
    const char *match = unquote(rs_header(req, "if-match"), buf, sizeof buf);
    doc_opts o = { .ignore_revs = 1 };
    op_err e = { 0 };
    if (match && rev_conflict(cur, match, NULL, &o, &e)) {
        error_reply(res, &e);
        rs_response_header(res, "etag", etag);
        return;
    }
    json_object *copy = NULL;
    if (json_object_deep_copy(cur, &copy, NULL) != 0) {
        rs_response_error(res, 500, 4, "out of memory");
        return;
    }
    rs_response_json(res, 200, copy);
    rs_response_header(res, "etag", etag);
}

static void handle(rs_request *req, rs_response *res, rs_database *db)
{
    rs_server *srv = req->coord->srv;
    const char *cname = req->nsegs >= 3 ? req->segs[2] : rs_arg(req, "collection");
    const char *key = req->nsegs == 4 ? req->segs[3] : NULL;
    if (!cname || req->nsegs > 4) {
        rs_response_error(res, 400, 1205, "%s", req->nsegs > 4 ? "illegal document identifier"
                                                                : "expecting /_api/document/<collection>");
        return;
    }
    rs_collection *c = rs_coll_find(db, cname);
    if (!c) {
        rs_response_error(res, 404, 1203, "collection or view not found: %s", cname);
        return;
    }
    rs_trx *t = NULL;
    if (rs_trx_resolve(req, &t, res) != 0)
        return;
    int writes = req->method != RS_GET && req->method != RS_HEAD &&
                 !(req->method == RS_PUT && rs_arg_bool(req, "onlyget", 0));
    if (writes ? rs_trx_may_write(t, c->name, res) != 0 : rs_trx_may_read(t, c->name, res) != 0)
        return;
    doc_opts o;
    parse_opts(req, c, &o);
    if (key && (req->method == RS_GET || req->method == RS_HEAD)) {
        read_one(req, res, c, t, key);
        return;
    }
    if (req->method == RS_DELETE && key) {
        char buf[64];
        const char *match = unquote(rs_header(req, "if-match"), buf, sizeof buf);
        op_err e = { 0 };
        json_object *r = remove_one(c, t, key, NULL, match, &o, &e);
        if (!r)
            error_reply(res, &e);
        else
            single_reply(req, res, c, r, o.sync ? 200 : 202, &o);
        return;
    }
    if (req->method != RS_POST && req->method != RS_PUT && req->method != RS_PATCH && req->method != RS_DELETE) {
        rs_response_error(res, 405, 405, NULL);
        return;
    }
    if (req->method == RS_POST && key) {
        rs_response_error(res, 405, 405, NULL);
        return;
    }
    json_object *body = rs_parse_json(req->body, req->body_len);
    if (!body) {
        rs_response_error(res, 400, 600, "invalid JSON object in request body");
        return;
    }
    doc_op op = req->method == RS_POST ? OP_INSERT : req->method == RS_PATCH ? OP_UPDATE
              : req->method == RS_DELETE ? OP_REMOVE : rs_arg_bool(req, "onlyget", 0) ? OP_GET : OP_REPLACE;
    if (!key) {
        if (json_object_is_type(body, json_type_array))
            multi(req, res, c, t, op, body, &o);
        else if (op != OP_INSERT)
            rs_response_error(res, 400, 10, "expecting an array of documents");
        else {
            op_err e = { 0 };
            json_object *r = insert_one(srv, c, t, body, &o, &e);
            if (!r)
                error_reply(res, &e);
            else
                single_reply(req, res, c, r, o.sync ? 201 : 202, &o);
        }
    } else {
        char buf[64];
        const char *match = unquote(rs_header(req, "if-match"), buf, sizeof buf);
        op_err e = { 0 };
        json_object *r = modify_one(srv, c, t, key, body, match, &o, op == OP_UPDATE, &e);
        if (!r)
            error_reply(res, &e);
        else
            single_reply(req, res, c, r, o.sync ? 201 : 202, &o);
    }
    json_object_put(body);
}

void rs_api_document(rs_request *req, rs_response *res)
{
    rs_server *srv = req->coord->srv;
    pthread_mutex_lock(&srv->store_mu);
    rs_trx_sweep(srv);
    rs_database *db = rs_db_find(srv, req->dbname);
    if (!db)
        rs_response_error(res, 404, 1228, NULL);
    else
        handle(req, res, db);
    pthread_mutex_unlock(&srv->store_mu);
}
