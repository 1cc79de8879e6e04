/* api_admin.c — authentication (Basic, JWT), version, databases,
 * collections, cluster endpoints, small admin calls, and the /_refserver
 * control API that tests use to inject faults and read the request log. */
#include "rs.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- JWT (HS256) ---------------------------------------------------------- */

int rs_jwt_init(rs_server *srv)
{
    const char *secret = srv->cfg.jwt_secret;
    if (secret) {
        size_t n = strlen(secret);
        if (n == 0 || n > sizeof srv->jwt_key)
            return -1;
        memcpy(srv->jwt_key, secret, n);
        srv->jwt_key_len = n;
        return 0;
    }
    srv->jwt_key_len = 32;
    return RAND_bytes(srv->jwt_key, 32) == 1 ? 0 : -1;
}

static int hs256(rs_server *srv, const char *data, size_t n, char *out, size_t cap)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    if (!HMAC(EVP_sha256(), srv->jwt_key, (int)srv->jwt_key_len, (const unsigned char *)data, n,
              mac, &maclen))
        return -1;
    return rs_base64_encode(mac, maclen, 1, out, cap) < 0 ? -1 : 0;
}

char *rs_jwt_issue(rs_server *srv, const char *user)
{
    static const char header[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
    double now = rs_now();
    json_object *p = json_object_new_object();
    if (!p)
        return NULL;
    json_object_object_add(p, "preferred_username", json_object_new_string(user));
    json_object_object_add(p, "iss", json_object_new_string("arangodb"));
    json_object_object_add(p, "iat", json_object_new_int64((int64_t)now));
    json_object_object_add(p, "exp", json_object_new_int64((int64_t)(now + srv->cfg.jwt_ttl)));
    size_t plen = 0;
    char *payload = rs_json_string(p, &plen);
    json_object_put(p);
    if (!payload)
        return NULL;
    size_t cap = 4 * (sizeof header + plen) / 3 + 128;
    char *tok = malloc(cap);
    if (!tok) {
        free(payload);
        return NULL;
    }
    int a = rs_base64_encode((const unsigned char *)header, sizeof header - 1, 1, tok, cap);
    int b = -1;
    if (a >= 0) {
        tok[a] = '.';
        b = rs_base64_encode((const unsigned char *)payload, plen, 1, tok + a + 1, cap - (size_t)a - 1);
    }
    free(payload);
    if (a < 0 || b < 0) {
        free(tok);
        return NULL;
    }
    size_t signed_len = (size_t)a + 1 + (size_t)b;
    tok[signed_len] = '.';
    if (hs256(srv, tok, signed_len, tok + signed_len + 1, cap - signed_len - 1) != 0) {
        free(tok);
        return NULL;
    }
    return tok;
}

/* Verify signature, algorithm, issuer and expiry; the user goes to *user. */
static int jwt_verify(rs_server *srv, const char *tok, char **user)
{
    const char *d1 = strchr(tok, '.');
    const char *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
    if (!d1 || !d2 || strlen(tok) > 8192)
        return -1;
    char sig[128];
    if (hs256(srv, tok, (size_t)(d2 - tok), sig, sizeof sig) != 0)
        return -1;
    size_t siglen = strlen(d2 + 1);
    if (siglen != strlen(sig) || CRYPTO_memcmp(sig, d2 + 1, siglen) != 0)
        return -1;
    unsigned char buf[6144];
    size_t n = 0;
    if (rs_base64_decode(tok, (size_t)(d1 - tok), 1, buf, sizeof buf, &n) != 0)
        return -1;
    json_object *h = rs_parse_json((const char *)buf, n), *v = NULL;
    int ok = h && json_object_object_get_ex(h, "alg", &v) &&
             !strcmp(json_object_get_string(v), "HS256");
    json_object_put(h);
    if (!ok || rs_base64_decode(d1 + 1, (size_t)(d2 - d1 - 1), 1, buf, sizeof buf, &n) != 0)
        return -1;
    json_object *p = rs_parse_json((const char *)buf, n);
    int rc = -1;
    if (p && json_object_object_get_ex(p, "iss", &v) && !strcmp(json_object_get_string(v), "arangodb")) {
        json_object *exp = NULL, *name = NULL;
        int live = !json_object_object_get_ex(p, "exp", &exp) ||
                   (double)json_object_get_int64(exp) > rs_now();
        if (live && json_object_object_get_ex(p, "preferred_username", &name) &&
            json_object_is_type(name, json_type_string)) {
            *user = strdup(json_object_get_string(name));
            rc = *user ? 0 : -1;
        } else if (live && json_object_object_get_ex(p, "server_id", &name)) {
            *user = strdup(srv->cfg.user); /* superuser token */
            rc = *user ? 0 : -1;
        }
    }
    json_object_put(p);
    return rc;
}

/* Returns 0 with req->user set, or fills res with ArangoDB's 401. */
int rs_check_auth(rs_request *req, rs_response *res)
{
    rs_server *srv = req->coord->srv;
    if (srv->cfg.no_auth) {
        req->user = strdup(srv->cfg.user);
        return 0;
    }
    const char *h = rs_header(req, "authorization");
    if (h && !strncasecmp(h, "basic ", 6)) {
        unsigned char buf[1024];
        size_t n = 0;
        const char *b = h + 6;
        while (*b == ' ')
            b++;
        if (rs_base64_decode(b, strlen(b), 0, buf, sizeof buf - 1, &n) == 0) {
            buf[n] = '\0';
            char *colon = memchr(buf, ':', n);
            if (colon) {
                *colon = '\0';
                if (!strcmp((char *)buf, srv->cfg.user) && !strcmp(colon + 1, srv->cfg.password)) {
                    req->user = strdup(srv->cfg.user);
                    return req->user ? 0 : -1;
                }
            }
        }
    } else if (h && !strncasecmp(h, "bearer ", 7)) {
        const char *t = h + 7;
        while (*t == ' ')
            t++;
        char *user = NULL;
        if (jwt_verify(srv, t, &user) == 0) {
            req->user = user;
            return 0;
        }
    }
    rs_response_error(res, 401, 11, "not authorized to execute this request");
    rs_response_header(res, "www-authenticate", "Bearer token_type=\"JWT\", realm=\"ArangoDB\"");
    return -1;
}

static void jwt_reply(rs_request *req, rs_response *res, const char *user)
{
    char *tok = rs_jwt_issue(req->coord->srv, user);
    if (!tok) {
        rs_response_error(res, 500, 4, "could not sign a token");
        return;
    }
    json_object *o = json_object_new_object();
    json_object_object_add(o, "jwt", json_object_new_string(tok));
    free(tok);
    rs_response_json(res, 200, o);
}

/* POST /_open/auth {username, password} -> {jwt} */
void rs_api_auth(rs_request *req, rs_response *res)
{
    rs_server *srv = req->coord->srv;
    if (req->method != RS_POST) {
        rs_response_error(res, 405, 405, NULL);
        return;
    }
    json_object *body = rs_parse_json(req->body, req->body_len), *u = NULL, *p = NULL;
    if (!body || !json_object_is_type(body, json_type_object) ||
        !json_object_object_get_ex(body, "username", &u) || !json_object_is_type(u, json_type_string)) {
        rs_response_error(res, 400, 400, "invalid JSON: expecting {\"username\", \"password\"}");
    } else {
        const char *pw = json_object_object_get_ex(body, "password", &p) ? json_object_get_string(p) : "";
        if (!strcmp(json_object_get_string(u), srv->cfg.user) && pw && !strcmp(pw, srv->cfg.password))
            jwt_reply(req, res, srv->cfg.user);
        else
            rs_response_error(res, 401, 401, "Wrong credentials");
    }
    json_object_put(body);
}

/* POST /_open/auth/renew (authenticated) -> {jwt} */
void rs_api_auth_renew(rs_request *req, rs_response *res)
{
    if (req->method != RS_POST) {
        rs_response_error(res, 405, 405, NULL);
        return;
    }
    jwt_reply(req, res, req->user ? req->user : req->coord->srv->cfg.user);
}

/* ---- version, admin, cluster ---------------------------------------------- */

static int is_coordinator(rs_server *srv)
{
    return srv->cfg.nendpoints > 0 || srv->ncoords > 1;
}

void rs_api_version(rs_request *req, rs_response *res)
{
    rs_server *srv = req->coord->srv;
    if (req->method != RS_GET && req->method != RS_HEAD && req->method != RS_PUT &&
        req->method != RS_POST) {
        rs_response_error(res, 405, 405, NULL);
        return;
    }
    json_object *o = json_object_new_object();
    json_object_object_add(o, "server", json_object_new_string("arango"));
    json_object_object_add(o, "license", json_object_new_string("community"));
    json_object_object_add(o, "version", json_object_new_string(srv->cfg.version));
    if (rs_arg_bool(req, "details", 0)) {
        json_object *d = json_object_new_object();
        json_object_object_add(d, "architecture", json_object_new_string("64bit"));
        json_object_object_add(d, "mode", json_object_new_string(is_coordinator(srv) ? "coordinator" : "server"));
        json_object_object_add(d, "role", json_object_new_string(is_coordinator(srv) ? "COORDINATOR" : "SINGLE"));
        json_object_object_add(d, "server-version", json_object_new_string(srv->cfg.version));
        json_object_object_add(d, "engine", json_object_new_string("rocksdb"));
        json_object_object_add(o, "details", d);
    }
    rs_response_json(res, 200, o);
}

void rs_api_cluster(rs_request *req, rs_response *res)
{
    rs_server *srv = req->coord->srv;
    if (req->nsegs != 3 || strcmp(req->segs[2], "endpoints") != 0) {
        rs_response_error(res, 404, 404, "unknown path '%s'", req->path);
        return;
    }
    if (req->method != RS_GET) {
        rs_response_error(res, 405, 405, NULL);
        return;
    }
    if (!is_coordinator(srv)) {
        rs_response_error(res, 501, 1471, NULL);   /* 403 before 3.9 */
        return;
    }
    json_object *o = json_object_new_object(), *arr = json_object_new_array();
    json_object_object_add(o, "error", json_object_new_boolean(0));
    json_object_object_add(o, "code", json_object_new_int(200));
    if (srv->cfg.nendpoints > 0) {
        for (size_t i = 0; i < srv->cfg.nendpoints; i++) {
            json_object *e = json_object_new_object();
            const char *ep = srv->cfg.endpoints[i];
            json_object_object_add(e, "endpoint", json_object_new_string(
                                       !strcmp(ep, "self") ? req->coord->endpoint : ep));
            json_object_array_add(arr, e);
        }
    } else {
        for (size_t i = 0; i < srv->ncoords; i++) {
            json_object *e = json_object_new_object();
            json_object_object_add(e, "endpoint", json_object_new_string(srv->coords[i].endpoint));
            json_object_array_add(arr, e);
        }
    }
    json_object_object_add(o, "endpoints", arr);
    rs_response_json(res, 200, o);
}

/* /_admin/time, /_admin/server/role, /_api/engine */
void rs_api_admin(rs_request *req, rs_response *res)
{
    rs_server *srv = req->coord->srv;
    json_object *o = json_object_new_object();
    if (req->nsegs == 2 && !strcmp(req->segs[1], "engine")) {
        json_object_object_add(o, "name", json_object_new_string("rocksdb"));
    } else if (req->nsegs == 2 && !strcmp(req->segs[1], "time")) {
        json_object_object_add(o, "error", json_object_new_boolean(0));
        json_object_object_add(o, "code", json_object_new_int(200));
        json_object_object_add(o, "time", json_object_new_double(rs_now()));
    } else if (req->nsegs == 3 && !strcmp(req->segs[1], "server") && !strcmp(req->segs[2], "role")) {
        json_object_object_add(o, "error", json_object_new_boolean(0));
        json_object_object_add(o, "code", json_object_new_int(200));
        json_object_object_add(o, "role", json_object_new_string(is_coordinator(srv) ? "COORDINATOR" : "SINGLE"));
        json_object_object_add(o, "mode", json_object_new_string("default"));
    } else {
        json_object_put(o);
        rs_response_error(res, 404, 404, "unknown path '%s'", req->path);
        return;
    }
    rs_response_json(res, 200, o);
}

/* ---- databases -------------------------------------------------------------- */

static json_object *ok_object(int code)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "error", json_object_new_boolean(0));
    json_object_object_add(o, "code", json_object_new_int(code));
    return o;
}

static void db_names(rs_server *srv, rs_response *res)
{
    json_object *o = ok_object(200), *arr = json_object_new_array();
    for (size_t i = 0; i < srv->ndbs; i++)
        json_object_array_add(arr, json_object_new_string(srv->dbs[i]->name));
    json_object_object_add(o, "result", arr);
    rs_response_json(res, 200, o);
}

static void db_create(rs_request *req, rs_response *res)
{
    rs_server *srv = req->coord->srv;
    json_object *body = rs_parse_json(req->body, req->body_len), *n = NULL;
    if (!body || !json_object_is_type(body, json_type_object)) {
        rs_response_error(res, 400, 600, NULL);
    } else if (!json_object_object_get_ex(body, "name", &n) || !json_object_is_type(n, json_type_string) ||
               !rs_valid_db_name(json_object_get_string(n))) {
        rs_response_error(res, 400, 1229, "database name invalid: '%s'",
                          n && json_object_is_type(n, json_type_string) ? json_object_get_string(n) : "");
    } else if (rs_db_find(srv, json_object_get_string(n))) {
        rs_response_error(res, 409, 1207, "duplicate database name '%s'", json_object_get_string(n));
    } else if (!rs_db_create(srv, json_object_get_string(n))) {
        rs_response_error(res, 500, 32, "cannot create database '%s' (limit %u databases)",
                          json_object_get_string(n), RS_MAX_DATABASES);
    } else {
        json_object *o = ok_object(201);
        json_object_object_add(o, "result", json_object_new_boolean(1));
        rs_response_json(res, 201, o);
    }
    json_object_put(body);
}

void rs_api_database(rs_request *req, rs_response *res)
{
    rs_server *srv = req->coord->srv;
    int system = !strcmp(req->dbname, "_system");
    pthread_mutex_lock(&srv->store_mu);
    rs_database *cur = rs_db_find(srv, req->dbname);
    if (req->nsegs == 2 && (req->method == RS_GET || req->method == RS_HEAD)) {
        if (!system)
            rs_response_error(res, 403, 1230, NULL);
        else
            db_names(srv, res);
    } else if (req->nsegs == 3 && req->method == RS_GET && !strcmp(req->segs[2], "user")) {
        db_names(srv, res);
    } else if (req->nsegs == 3 && req->method == RS_GET && !strcmp(req->segs[2], "current")) {
        if (!cur) {
            rs_response_error(res, 404, 1228, NULL);
        } else {
            char id[32];
            snprintf(id, sizeof id, "%llu", (unsigned long long)cur->id);
            json_object *o = ok_object(200), *r = json_object_new_object();
            json_object_object_add(r, "name", json_object_new_string(cur->name));
            json_object_object_add(r, "id", json_object_new_string(id));
            json_object_object_add(r, "path", json_object_new_string("none"));
            json_object_object_add(r, "isSystem", json_object_new_boolean(system));
            json_object_object_add(o, "result", r);
            rs_response_json(res, 200, o);
        }
    } else if (req->nsegs == 2 && req->method == RS_POST) {
        if (!system)
            rs_response_error(res, 403, 1230, NULL);
        else
            db_create(req, res);
    } else if (req->nsegs == 3 && req->method == RS_DELETE) {
        rs_database *victim = rs_db_find(srv, req->segs[2]);
        if (!system)
            rs_response_error(res, 403, 1230, NULL);
        else if (!strcmp(req->segs[2], "_system"))
            rs_response_error(res, 403, 11, "forbidden: cannot drop the _system database");
        else if (!victim)
            rs_response_error(res, 404, 1228, NULL);
        else {
            rs_db_drop(srv, victim);
            json_object *o = ok_object(200);
            json_object_object_add(o, "result", json_object_new_boolean(1));
            rs_response_json(res, 200, o);
        }
    } else if (req->nsegs <= 3) {
        rs_response_error(res, 405, 405, NULL);
    } else {
        rs_response_error(res, 404, 404, "unknown path '%s'", req->path);
    }
    pthread_mutex_unlock(&srv->store_mu);
}

/* ---- collections ---------------------------------------------------------- */

static void coll_create(rs_request *req, rs_response *res, rs_database *db)
{
    rs_server *srv = req->coord->srv;
    json_object *body = rs_parse_json(req->body, req->body_len), *v = NULL;
    const char *name = NULL;
    if (!body || !json_object_is_type(body, json_type_object)) {
        rs_response_error(res, 400, 600, NULL);
        goto out;
    }
    if (!json_object_object_get_ex(body, "name", &v) || !json_object_is_type(v, json_type_string)) {
        rs_response_error(res, 400, 1208, "illegal name: 'name' must be a string");
        goto out;
    }
    name = json_object_get_string(v);
    int is_system = json_object_object_get_ex(body, "isSystem", &v) && json_object_get_boolean(v);
    int type = json_object_object_get_ex(body, "type", &v) ? json_object_get_int(v) : 2;
    if (type != 2 && type != 3) {
        rs_response_error(res, 400, 1218, "collection type invalid: %d", type);
        goto out;
    }
    if (!rs_valid_coll_name(name, is_system)) {
        rs_response_error(res, 400, 1208, "illegal name: '%s'", name);
        goto out;
    }
    if (rs_coll_find(db, name)) {
        rs_response_error(res, 409, 1207, "duplicate name: %s", name);
        goto out;
    }
    rs_collection *c = rs_coll_create(srv, db, name, type);
    if (!c) {
        rs_response_error(res, 500, 32, "cannot create collection '%s' (limit %u per database)", name,
                          RS_MAX_COLLECTIONS);
        goto out;
    }
    c->wait_for_sync = json_object_object_get_ex(body, "waitForSync", &v) && json_object_get_boolean(v);
    rs_response_json(res, 200, rs_coll_info(c, 1));
out:
    json_object_put(body);
}

static void coll_list(rs_request *req, rs_response *res, rs_database *db)
{
    int exclude = rs_arg_bool(req, "excludeSystem", 0);
    json_object *o = ok_object(200), *arr = json_object_new_array();
    for (size_t i = 0; i < db->ncolls; i++) {
        if (exclude && db->colls[i]->is_system)
            continue;
        json_object *info = rs_coll_info(db->colls[i], 0);
        json_object_object_del(info, "error");
        json_object_object_del(info, "code");
        json_object_array_add(arr, info);
    }
    json_object_object_add(o, "result", arr);
    rs_response_json(res, 200, o);
}

static void coll_rename(rs_request *req, rs_response *res, rs_database *db, rs_collection *c)
{
    json_object *body = rs_parse_json(req->body, req->body_len), *v = NULL;
    const char *name = body && json_object_object_get_ex(body, "name", &v) ? json_object_get_string(v) : NULL;
    char *copy = NULL;
    if (!name || !json_object_is_type(v, json_type_string) || !rs_valid_coll_name(name, c->is_system))
        rs_response_error(res, 400, 1208, "illegal name: '%s'", name ? name : "");
    else if (rs_coll_find(db, name) && rs_coll_find(db, name) != c)
        rs_response_error(res, 409, 1207, "duplicate name: %s", name);
    else if (!(copy = strdup(name)))
        rs_response_error(res, 500, 4, "out of memory");
    else {
        free(c->name);
        c->name = copy;
        rs_response_json(res, 200, rs_coll_info(c, 0));
    }
    json_object_put(body);
}

static void coll_one(rs_request *req, rs_response *res, rs_database *db, rs_collection *c)
{
    const char *sub = req->nsegs > 3 ? req->segs[3] : NULL;
    rs_trx *t = NULL;
    if (req->nsegs > 4) {
        rs_response_error(res, 404, 404, "unknown path '%s'", req->path);
        return;
    }
    if (!sub && (req->method == RS_GET || req->method == RS_HEAD)) {
        rs_response_json(res, 200, rs_coll_info(c, 0));
    } else if (!sub && req->method == RS_DELETE) {
        if (c->is_system && !rs_arg_bool(req, "isSystem", 0)) {
            rs_response_error(res, 403, 11, "forbidden: use isSystem=true to drop system collection '%s'",
                              c->name);
            return;
        }
        char id[32];
        snprintf(id, sizeof id, "%llu", (unsigned long long)c->id);
        rs_coll_drop(db, c);
        json_object *o = ok_object(200);
        json_object_object_add(o, "id", json_object_new_string(id));
        rs_response_json(res, 200, o);
    } else if (sub && !strcmp(sub, "properties") && (req->method == RS_GET || req->method == RS_PUT)) {
        if (req->method == RS_PUT) {
            json_object *body = rs_parse_json(req->body, req->body_len), *v = NULL;
            if (!body || !json_object_is_type(body, json_type_object)) {
                json_object_put(body);
                rs_response_error(res, 400, 600, NULL);
                return;
            }
            if (json_object_object_get_ex(body, "waitForSync", &v))
                c->wait_for_sync = json_object_get_boolean(v);
            json_object_put(body);
        }
        rs_response_json(res, 200, rs_coll_info(c, 1));
    } else if (sub && !strcmp(sub, "count") && req->method == RS_GET) {
        if (rs_trx_resolve(req, &t, res) != 0 || rs_trx_may_read(t, c->name, res) != 0)
            return;
        json_object *o = rs_coll_info(c, 1);
        json_object_object_add(o, "count", json_object_new_int64((int64_t)rs_coll_count(c, t)));
        rs_response_json(res, 200, o);
    } else if (sub && !strcmp(sub, "truncate") && req->method == RS_PUT) {
        if (rs_trx_resolve(req, &t, res) != 0 || rs_trx_may_write(t, c->name, res) != 0)
            return;
        rs_coll_truncate(c, t);
        rs_response_json(res, 200, rs_coll_info(c, 0));
    } else if (sub && !strcmp(sub, "rename") && req->method == RS_PUT) {
        coll_rename(req, res, db, c);
    } else if (sub && (!strcmp(sub, "load") || !strcmp(sub, "unload") || !strcmp(sub, "compact") ||
                       !strcmp(sub, "loadIndexesIntoMemory")) && req->method == RS_PUT) {
        json_object *o = rs_coll_info(c, 0);
        json_object_object_add(o, "result", json_object_new_boolean(1));
        rs_response_json(res, 200, o);
    } else if (sub && (!strcmp(sub, "properties") || !strcmp(sub, "count") || !strcmp(sub, "truncate") ||
                       !strcmp(sub, "rename"))) {
        rs_response_error(res, 405, 405, NULL);
    } else {
        rs_response_error(res, 404, 404, "unknown path '%s'", req->path);
    }
}

void rs_api_collection(rs_request *req, rs_response *res)
{
    rs_server *srv = req->coord->srv;
    pthread_mutex_lock(&srv->store_mu);
    rs_trx_sweep(srv);
    rs_database *db = rs_db_find(srv, req->dbname);
    if (!db) {
        rs_response_error(res, 404, 1228, NULL);
    } else if (req->nsegs == 2) {
        if (req->method == RS_GET || req->method == RS_HEAD)
            coll_list(req, res, db);
        else if (req->method == RS_POST)
            coll_create(req, res, db);
        else
            rs_response_error(res, 405, 405, NULL);
    } else {
        rs_collection *c = rs_coll_find(db, req->segs[2]);
        if (!c)
            rs_response_error(res, 404, 1203, "collection or view not found: %s", req->segs[2]);
        else
            coll_one(req, res, db, c);
    }
    pthread_mutex_unlock(&srv->store_mu);
}

/* ---- /_refserver: test control (not part of ArangoDB) ------------------- */

static void faults_json(rs_coord *co, rs_response *res)
{
    json_object *arr = json_object_new_array();
    pthread_mutex_lock(&co->fault_mu);
    for (size_t i = 0; i < co->nfaults; i++) {
        const rs_fault *f = &co->faults[i];
        json_object *e = json_object_new_object();
        const char *kind = f->kind == RS_FAULT_503 ? "503" : f->kind == RS_FAULT_STALL ? "stall" : "close-mid-response";
        json_object_object_add(e, "kind", json_object_new_string(kind));
        json_object_object_add(e, "path", json_object_new_string(f->path));
        json_object_object_add(e, "after", json_object_new_int64((int64_t)f->after));
        json_object_object_add(e, "count", json_object_new_int64((int64_t)f->count));
        json_object_object_add(e, "secs", json_object_new_double(f->secs));
        json_object_object_add(e, "fired", json_object_new_int64((int64_t)f->fired));
        json_object_array_add(arr, e);
    }
    pthread_mutex_unlock(&co->fault_mu);
    json_object *o = json_object_new_object();
    json_object_object_add(o, "faults", arr);
    rs_response_json(res, 200, o);
}

/* PUT /_refserver/fault  body: "SPEC" | ["SPEC", ...]  (same syntax as
 * --fault, without a coordinator selector); an empty list clears. */
static void faults_set(rs_request *req, rs_response *res)
{
    rs_coord *co = req->coord;
    json_object *body = rs_parse_json(req->body, req->body_len);
    rs_fault parsed[RS_MAX_FAULTS];
    size_t n = 0;
    int bad = !body;
    if (body && json_object_is_type(body, json_type_string)) {
        size_t coord = 0;
        bad = rs_fault_parse(json_object_get_string(body), &parsed[0], &coord) != 0;
        n = 1;
    } else if (body && json_object_is_type(body, json_type_array)) {
        size_t len = json_object_array_length(body);
        bad = len > RS_MAX_FAULTS;
        for (size_t i = 0; !bad && i < len; i++) {
            size_t coord = 0;
            const char *s = json_object_get_string(json_object_array_get_idx(body, i));
            bad = !s || rs_fault_parse(s, &parsed[n++], &coord) != 0;
        }
    } else {
        bad = 1;
    }
    json_object_put(body);
    if (bad) {
        rs_response_error(res, 400, 10, "expecting a fault spec string or an array of at most %u", RS_MAX_FAULTS);
        return;
    }
    pthread_mutex_lock(&co->fault_mu);
    memcpy(co->faults, parsed, n * sizeof parsed[0]);
    co->nfaults = n;
    pthread_mutex_unlock(&co->fault_mu);
    faults_json(co, res);
}

static void requests_json(rs_coord *co, rs_response *res)
{
    json_object *arr = json_object_new_array();
    pthread_mutex_lock(&co->fault_mu);
    size_t first = (co->log_next + RS_REQLOG_SIZE - co->log_n) % RS_REQLOG_SIZE;
    for (size_t k = 0; k < co->log_n; k++) {
        const rs_logent *e = &co->log[(first + k) % RS_REQLOG_SIZE];
        json_object *o = json_object_new_object();
        json_object_object_add(o, "method", json_object_new_string(e->method));
        json_object_object_add(o, "database", json_object_new_string(e->db));
        json_object_object_add(o, "path", json_object_new_string(e->path));
        json_object_object_add(o, "async", e->async[0] ? json_object_new_string(e->async) : NULL);
        json_object_object_add(o, "trx", e->trx[0] ? json_object_new_string(e->trx) : NULL);
        json_object_object_add(o, "auth", json_object_new_string(e->auth));
        json_object_object_add(o, "status", json_object_new_int(e->status));
        json_object_array_add(arr, o);
    }
    pthread_mutex_unlock(&co->fault_mu);
    json_object *o = json_object_new_object();
    json_object_object_add(o, "requests", arr);
    rs_response_json(res, 200, o);
}

void rs_api_refserver(rs_request *req, rs_response *res)
{
    rs_coord *co = req->coord;
    const char *what = req->nsegs == 2 ? req->segs[1] : "";
    if (!strcmp(what, "fault") && req->method == RS_GET) {
        faults_json(co, res);
    } else if (!strcmp(what, "fault") && req->method == RS_PUT) {
        faults_set(req, res);
    } else if (!strcmp(what, "requests") && req->method == RS_GET) {
        requests_json(co, res);
    } else if (!strcmp(what, "requests") && req->method == RS_DELETE) {
        pthread_mutex_lock(&co->fault_mu);
        co->log_n = 0;
        co->log_next = 0;
        pthread_mutex_unlock(&co->fault_mu);
        rs_response_json(res, 200, ok_object(200));
    } else {
        rs_response_error(res, 404, 404, "unknown path '%s'", req->path);
    }
}
