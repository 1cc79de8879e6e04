/* trx.c — stream transactions: /_api/transaction and x-arango-trx-id.
 *
 * Writes inside a transaction go to an overlay and become visible to others
 * only on commit; abort throws the overlay away.  Finished transactions stay
 * as tombstones for a while so that commit and abort are idempotent and the
 * wrong one answers 1653 "transaction was already ...". */
#include "rs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOMBSTONE_TTL 600.0

static const char *status_name(rs_trx_status s)
{
    switch (s) {
    case RS_TRX_RUNNING: return "running";
    case RS_TRX_COMMITTED: return "committed";
    default: return "aborted";
    }
}

static void trx_free(rs_trx *t)
{
    json_object_put(t->write);
    json_object_put(t->read);
    json_object_put(t->overlay);
    free(t->dbname);
    free(t);
}

void rs_trx_free_all(rs_server *srv)
{
    rs_trx *t = srv->trxs;
    while (t) {
        rs_trx *next = t->next;
        trx_free(t);
        t = next;
    }
    srv->trxs = NULL;
    srv->ntrx = 0;
}

static rs_trx *trx_find(rs_server *srv, uint64_t id)
{
    for (rs_trx *t = srv->trxs; t; t = t->next)
        if (t->id == id)
            return t;
    return NULL;
}

static void trx_finish(rs_trx *t, rs_trx_status st)
{
    t->status = st;
    t->last_used = rs_now();
    json_object_put(t->overlay);
    t->overlay = NULL;
}

/* Expire idle running transactions (aborted) and old tombstones. */
void rs_trx_sweep(rs_server *srv)
{
    double now = rs_now();
    rs_trx **pp = &srv->trxs;
    while (*pp) {
        rs_trx *t = *pp;
        if (t->status == RS_TRX_RUNNING && now - t->last_used > srv->cfg.trx_idle_timeout) {
            trx_finish(t, RS_TRX_ABORTED);
            t->expired = 1;
        }
        if (t->status != RS_TRX_RUNNING && now - t->last_used > TOMBSTONE_TTL) {
            *pp = t->next;
            trx_free(t);
            srv->ntrx--;
            continue;
        }
        pp = &t->next;
    }
}

static int parse_id(const char *s, uint64_t *out)
{
    if (!s || !*s)
        return -1;
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v == 0)
        return -1;
    *out = v;
    return 0;
}

int rs_trx_resolve(rs_request *req, rs_trx **out, rs_response *res)
{
    rs_server *srv = req->coord->srv;
    *out = NULL;
    const char *h = rs_header(req, "x-arango-trx-id");
    if (!h)
        return 0;
    uint64_t id = 0;
    rs_trx *t = parse_id(h, &id) == 0 ? trx_find(srv, id) : NULL;
    if (!t || strcmp(t->dbname, req->dbname) != 0) {
        rs_response_error(res, 404, 1655, "transaction '%s' not found", h);
        return -1;
    }
    if (t->status != RS_TRX_RUNNING) {
        rs_response_error(res, 404, 1655, "transaction '%s' not found (%s)", h,
                          t->expired ? "expired" : status_name(t->status));
        return -1;
    }
    t->last_used = rs_now();
    *out = t;
    return 0;
}

static int name_in(json_object *arr, const char *name)
{
    size_t n = arr ? json_object_array_length(arr) : 0;
    for (size_t i = 0; i < n; i++) {
        const char *s = json_object_get_string(json_object_array_get_idx(arr, i));
        if (s && !strcmp(s, name))
            return 1;
    }
    return 0;
}

int rs_trx_may_write(rs_trx *t, const char *coll, rs_response *res)
{
    if (!t || name_in(t->write, coll))
        return 0;
    rs_response_error(res, 400, 1652, "unregistered collection used in transaction: '%s' was not "
                      "declared for writing", coll);
    return -1;
}

/* Reading a collection the transaction did not declare: ArangoDB adds it
 * implicitly unless the transaction was begun with allowImplicit: false. */
int rs_trx_may_read(rs_trx *t, const char *coll, rs_response *res)
{
    if (!t || t->allow_implicit || name_in(t->write, coll) || name_in(t->read, coll))
        return 0;
    rs_response_error(res, 400, 1652, "unregistered collection used in transaction: '%s' was not "
                      "declared for reading and allowImplicit is false", coll);
    return -1;
}

/* The options of a begin: allowImplicit, waitForSync, skipFastLockRound
 * (booleans), lockTimeout, maxTransactionSize (numbers >= 0). */
static int check_options(json_object *body, rs_response *res)
{
    static const char *const bools[] = { "allowImplicit", "waitForSync", "skipFastLockRound" };
    static const char *const numbers[] = { "lockTimeout", "maxTransactionSize" };
    json_object *v = NULL;
    for (size_t i = 0; i < sizeof bools / sizeof bools[0]; i++)
        if (json_object_object_get_ex(body, bools[i], &v) && !json_object_is_type(v, json_type_boolean)) {
            rs_response_error(res, 400, 10, "bad value for %s: a boolean expected", bools[i]);
            return -1;
        }
    for (size_t i = 0; i < sizeof numbers / sizeof numbers[0]; i++)
        if (json_object_object_get_ex(body, numbers[i], &v) &&
            ((!json_object_is_type(v, json_type_int) && !json_object_is_type(v, json_type_double)) ||
             json_object_get_double(v) < 0)) {
            rs_response_error(res, 400, 10, "bad value for %s: a number >= 0 expected", numbers[i]);
            return -1;
        }
    return 0;
}

/* "read", "write", "exclusive": a name or an array of names. */
static int collect_names(rs_server *srv, rs_database *db, json_object *spec, const char *field,
                         json_object *into, rs_response *res)
{
    json_object *v = NULL;
    if (!json_object_object_get_ex(spec, field, &v) || !v)
        return 0;
    json_object *list = v;
    int single = json_object_is_type(v, json_type_string);
    if (!single && !json_object_is_type(v, json_type_array)) {
        rs_response_error(res, 400, 10, "collections.%s must be a string or an array of strings", field);
        return -1;
    }
    size_t n = single ? 1 : json_object_array_length(list);
    for (size_t i = 0; i < n; i++) {
        json_object *e = single ? v : json_object_array_get_idx(list, i);
        const char *name = json_object_get_string(e);
        if (!json_object_is_type(e, json_type_string) || !name) {
            rs_response_error(res, 400, 10, "collections.%s[%zu] is not a string", field, i);
            return -1;
        }
        if (!rs_coll_find(db, name)) {
            rs_response_error(res, 404, 1203, "collection or view not found: %s", name);
            return -1;
        }
        json_object_array_add(into, json_object_new_string(name));
    }
    (void)srv;
    return 0;
}

static void trx_result(rs_response *res, int code, rs_trx *t, rs_trx_status st)
{
    char id[32];
    snprintf(id, sizeof id, "%llu", (unsigned long long)t->id);
    json_object *o = json_object_new_object(), *r = json_object_new_object();
    json_object_object_add(o, "code", json_object_new_int(code));
    json_object_object_add(o, "error", json_object_new_boolean(0));
    json_object_object_add(r, "id", json_object_new_string(id));
    json_object_object_add(r, "status", json_object_new_string(status_name(st)));
    json_object_object_add(o, "result", r);
    rs_response_json(res, code, o);
}

static void begin(rs_request *req, rs_response *res)
{
    rs_server *srv = req->coord->srv;
    if (rs_header(req, "x-arango-trx-id")) {
        rs_response_error(res, 400, 10, "unexpected transaction ID received in begin transaction request");
        return;
    }
    json_object *body = rs_parse_json(req->body, req->body_len);
    json_object *spec = NULL;
    if (!body || !json_object_is_type(body, json_type_object)) {
        rs_response_error(res, 400, 600, "invalid JSON object: expecting a transaction specification");
        goto out;
    }
    if (!json_object_object_get_ex(body, "collections", &spec) ||
        !json_object_is_type(spec, json_type_object)) {
        rs_response_error(res, 400, 10, "missing 'collections' attribute");
        goto out;
    }
    if (check_options(body, res) != 0)
        goto out;
    pthread_mutex_lock(&srv->store_mu);
    rs_trx_sweep(srv);
    rs_database *db = rs_db_find(srv, req->dbname);
    rs_trx *t = calloc(1, sizeof *t);
    if (!db) {
        rs_response_error(res, 404, 1228, NULL);
    } else if (srv->ntrx >= RS_MAX_TRX) {
        rs_response_error(res, 503, 32, "too many stream transactions (limit %u)", RS_MAX_TRX);
    } else if (!t || !(t->write = json_object_new_array()) || !(t->read = json_object_new_array()) ||
               !(t->overlay = json_object_new_object()) || !(t->dbname = strdup(req->dbname))) {
        rs_response_error(res, 500, 4, "out of memory");
    } else if (collect_names(srv, db, spec, "write", t->write, res) == 0 &&
               collect_names(srv, db, spec, "exclusive", t->write, res) == 0 &&
               collect_names(srv, db, spec, "read", t->read, res) == 0) {
        json_object *ai = NULL;
        t->allow_implicit = !json_object_object_get_ex(body, "allowImplicit", &ai) ||
                            json_object_get_boolean(ai);
        t->id = rs_next_tick(srv);
        t->status = RS_TRX_RUNNING;
        t->last_used = rs_now();
        t->next = srv->trxs;
        srv->trxs = t;
        srv->ntrx++;
        trx_result(res, 201, t, RS_TRX_RUNNING);
        t = NULL;
    }
    if (t)
        trx_free(t);
    pthread_mutex_unlock(&srv->store_mu);
out:
    json_object_put(body);
}

/* Apply the overlay of a committing transaction to the collections. */
static void apply_overlay(rs_server *srv, rs_trx *t)
{
    rs_database *db = rs_db_find(srv, t->dbname);
    if (!db || !t->overlay)
        return;
    json_object_object_foreach(t->overlay, cname, changes) {
        rs_collection *c = rs_coll_find(db, cname);
        if (!c)
            continue;
        json_object_object_foreach(changes, key, doc) {
            if (doc)
                rs_doc_set(c, NULL, key, json_object_get(doc));
            else
                rs_doc_del(c, NULL, key);
        }
    }
}

static void finish(rs_request *req, rs_response *res, rs_trx_status want)
{
    rs_server *srv = req->coord->srv;
    uint64_t id = 0;
    if (parse_id(req->segs[2], &id) != 0) {
        rs_response_error(res, 400, 10, "bad transaction ID '%s'", req->segs[2]);
        return;
    }
    pthread_mutex_lock(&srv->store_mu);
    rs_trx_sweep(srv);
    rs_trx *t = trx_find(srv, id);
    if (!t || strcmp(t->dbname, req->dbname) != 0) {
        rs_response_error(res, 404, 1655, "transaction '%s' not found", req->segs[2]);
    } else if (t->status == want) {
        trx_result(res, 200, t, want); /* idempotent */
    } else if (t->status != RS_TRX_RUNNING) {
        rs_response_error(res, 400, 1653, "transaction was already %s",
                          t->expired ? "expired" : status_name(t->status));
    } else {
        if (want == RS_TRX_COMMITTED)
            apply_overlay(srv, t);
        trx_finish(t, want);
        trx_result(res, 200, t, want);
    }
    pthread_mutex_unlock(&srv->store_mu);
}

static void get_state(rs_request *req, rs_response *res)
{
    rs_server *srv = req->coord->srv;
    pthread_mutex_lock(&srv->store_mu);
    rs_trx_sweep(srv);
    if (req->nsegs == 2) {
        json_object *o = json_object_new_object(), *arr = json_object_new_array();
        for (rs_trx *t = srv->trxs; t; t = t->next) {
            if (strcmp(t->dbname, req->dbname) != 0 || t->status != RS_TRX_RUNNING)
                continue;
            char id[32];
            snprintf(id, sizeof id, "%llu", (unsigned long long)t->id);
            json_object *e = json_object_new_object();
            json_object_object_add(e, "id", json_object_new_string(id));
            json_object_object_add(e, "state", json_object_new_string(status_name(t->status)));
            json_object_array_add(arr, e);
        }
        json_object_object_add(o, "transactions", arr);
        rs_response_json(res, 200, o);
    } else {
        uint64_t id = 0;
        rs_trx *t = NULL;
        if (parse_id(req->segs[2], &id) != 0)
            rs_response_error(res, 400, 10, "Illegal transaction ID");
        else if (!(t = trx_find(srv, id)) || strcmp(t->dbname, req->dbname) != 0)
            rs_response_error(res, 404, 1655, "transaction '%s' not found", req->segs[2]);
        else
            trx_result(res, 200, t, t->status);
    }
    pthread_mutex_unlock(&srv->store_mu);
}

void rs_api_transaction(rs_request *req, rs_response *res)
{
    /* segs: "_api" "transaction" [id|"begin"] */
    if (req->nsegs > 3) {
        rs_response_error(res, 404, 404, "unknown path '%s'", req->path);
        return;
    }
    switch (req->method) {
    case RS_POST:
        if (req->nsegs == 3 && !strcmp(req->segs[2], "begin"))
            begin(req, res);
        else if (req->nsegs == 2)
            rs_response_error(res, 501, 9, "JavaScript operations are not available in this build of ArangoDB");
        else
            rs_response_error(res, 400, 10, NULL);
        return;
    case RS_GET:
    case RS_HEAD:
        get_state(req, res);
        return;
    case RS_PUT:
    case RS_DELETE:
        if (req->nsegs != 3) {
            rs_response_error(res, 400, 10, NULL);
            return;
        }
        finish(req, res, req->method == RS_PUT ? RS_TRX_COMMITTED : RS_TRX_ABORTED);
        return;
    default:
        rs_response_error(res, 405, 405, NULL);
    }
}
