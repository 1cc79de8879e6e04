/*
 * ArangoDB backend: requests over the HTTP transport (lib/transport/http),
 * the JSON replies, authentication (Basic, or JWT with renewal) and the
 * mapping of ArangoDB error bodies to gj_error.
 */
#include "backend/arango/arango_internal.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* 503 retries of idempotent calls, and the first pause. */
#define RETRIES_503 2
#define RETRY_PAUSE_MS 50
/* A response buffer larger than this is released before the next request. */
#define BUF_KEEP ((size_t)1 << 20)

void gj__arango_reply_clear(gj__arango_reply *r)
{
    if (r->json)
        json_object_put(r->json);
    r->json = NULL;
    r->status = 0;
}

bool gj__arango_take_interrupt(gj_conn *c)
{
    return gj__http_take_interrupt(c->http);
}

char *gj__arango_escape(gj_conn *c, const char *s)
{
    size_t n = strlen(s);
    if (n > GJ__ARANGO_MAX_NAME)
        return NULL;
    return gj__http_escape(c->http, s, n);
}

const char *gj__arango_database(gj_conn *c, const gj_request *req)
{
    const char *db = gj_request_database(req);
    if (db && *db)
        return db;
    if (c->database && *c->database)
        return c->database;
    return "_system";
}

void gj__arango_on_header(void *payload, const char *data, size_t n)
{
    gj_conn *c = payload;
    static const char name[] = "x-arango-async-id:";
    if (n > sizeof name - 1 && strncasecmp(data, name, sizeof name - 1) == 0) {
        const char *v = data + sizeof name - 1, *end = data + n;
        while (v < end && (*v == ' ' || *v == '\t'))
            v++;
        size_t len = 0;
        while (v + len < end && v[len] >= '0' && v[len] <= '9')
            len++;
        if (len > 0 && len < sizeof c->async_id) {
            memcpy(c->async_id, v, len);
            c->async_id[len] = '\0';
        }
    }
}

/* Append n bytes to the buffer [*p, end); false when they do not fit. */
static bool put(char **p, const char *end, const char *s, size_t n)
{
    if (n > (size_t)(end - *p))
        return false;
    memcpy(*p, s, n);
    *p += n;
    return true;
}

/* True when curl_easy_escape would leave s as it is (RFC 3986 unreserved). */
static bool unreserved(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '-' || ch == '.' || ch == '_' || ch == '~'))
            return false;
    }
    return true;
}

/* The path and query of a call into buf (cap bytes, NUL-terminated):
 * /_db/{db escaped} when call->db, then call->path.  Returns the length, 0
 * when it does not fit, or -1 for a database name that cannot be escaped. */
static long build_path(gj_conn *c, const gj__arango_call *call, char *buf, size_t cap)
{
    char *p = buf;
    const char *end = buf + cap - 1;
    if (call->db) {
        size_t n = strlen(call->db);
        if (!put(&p, end, "/_db/", 5))
            return 0;
        if (unreserved(call->db, n)) {
            if (!put(&p, end, call->db, n))
                return 0;
        } else {
            char *esc = gj__arango_escape(c, call->db);
            if (!esc)
                return -1;
            bool ok = put(&p, end, esc, strlen(esc));
            free(esc);
            if (!ok)
                return 0;
        }
    }
    if (!put(&p, end, call->path, strlen(call->path)))
        return 0;
    *p = '\0';
    return (long)(p - buf);
}

/* Parse body[0..len) into *out (NULL on failure), with the tokener
 * bounded to GJ__ARANGO_MAX_DEPTH.  Most replies are shallow: a first pass
 * uses a small tokener (a cheaper allocation), and only a reply nested
 * deeper than that is parsed again with the full depth.  *je and *used say
 * how the parse ended. */
#define SHALLOW_DEPTH 24
static int parse_body(gj_conn *c, const char *body, size_t len, json_object **out,
                      enum json_tokener_error *je, size_t *used)
{
    int depth = SHALLOW_DEPTH < GJ__ARANGO_MAX_DEPTH ? SHALLOW_DEPTH : GJ__ARANGO_MAX_DEPTH;
    for (;;) {
        /* The shallow tokener is kept with the connection and reset for
         * each reply; the deep one is made only for a deep reply. */
        json_tokener *tok = depth == SHALLOW_DEPTH ? c->tok : NULL;
        if (!tok) {
            tok = json_tokener_new_ex(depth);
            if (!tok)
                return GJ_ENOMEM;
            if (depth == SHALLOW_DEPTH)
                c->tok = tok;
        } else {
            json_tokener_reset(tok);
        }
        json_object *j = json_tokener_parse_ex(tok, body, (int)len);
        *je = json_tokener_get_error(tok);
        *used = json_tokener_get_parse_end(tok);
        /* A long string leaves the tokener's buffer as large: not kept
         * after a large reply. */
        if (tok == c->tok && len > BUF_KEEP)
            c->tok = NULL;
        if (tok != c->tok)
            json_tokener_free(tok);
        if (*je == json_tokener_error_depth && depth < GJ__ARANGO_MAX_DEPTH) {
            if (j)
                json_object_put(j);
            depth = GJ__ARANGO_MAX_DEPTH;
            continue;
        }
        if (j && (*je != json_tokener_success || *used != len)) {
            json_object_put(j);
            j = NULL;
        }
        *out = j;
        return 0;
    }
}

/* Room for a request's path and query on the stack; longer ones are
 * allocated. */
#define PATH_STACK 512

/* One HTTP exchange without retries: the path with its /_db/ prefix, the
 * request's own headers, and the reply parsed as JSON. */
static int exchange(gj_conn *c, const gj__arango_call *call, bool async_store,
                    gj__arango_reply *reply, gj_error *err)
{
    char stack[PATH_STACK];
    char *path = stack, *heap = NULL;
    long plen = build_path(c, call, stack, sizeof stack);
    if (plen == 0) {
        size_t cap = strlen(call->path) + 16 + (call->db ? 3 * strlen(call->db) : 0);
        heap = malloc(cap);
        if (!heap)
            return gj__error_set(err, GJ_ENOMEM, "%s: out of memory for a URL", c->hostport);
        path = heap;
        plen = build_path(c, call, heap, cap);
    }
    if (plen <= 0) {
        free(heap);
        return gj__error_set(err, GJ_EINVAL, "%s: bad database name", c->hostport);
    }
    const char *hv[4];
    size_t nh = 0;
    char ifmatch[GJ__ARANGO_MAX_NAME + 32];
    char trx[96];
    int rc = 0;
    if (async_store)
        hv[nh++] = c->async_fire ? "x-arango-async: true" : "x-arango-async: store";
    if (call->if_match) {
        if (strlen(call->if_match) > GJ__ARANGO_MAX_NAME || strpbrk(call->if_match, "\r\n\"")) {
            rc = gj__error_set(err, GJ_EINVAL, "option rev: not a revision");
            goto out;
        }
        snprintf(ifmatch, sizeof ifmatch, "If-Match: \"%s\"", call->if_match);
        hv[nh++] = ifmatch;
    }
    if (call->trx_id) {
        if (strlen(call->trx_id) > 64 || strpbrk(call->trx_id, "\r\n")) {
            rc = gj__error_set(err, GJ_EINVAL, "option trx: not a transaction id");
            goto out;
        }
        snprintf(trx, sizeof trx, "x-arango-trx-id: %s", call->trx_id);
        hv[nh++] = trx;
    }
    /* Do not keep a large buffer from an earlier big reply. */
    gj__http_trim(c->http, BUF_KEEP);
    gj_http_request rq = { call->method, path, call->body, call->body_len, hv, nh,
                           call->deadline_ms };
    gj_http_response resp;
    rc = gj__http_perform(c->http, &rq, &resp, err);
    c->last_body_len = rc ? 0 : resp.len;
    if (rc) {
        c->broken = true;
        goto out;
    }
    reply->status = resp.status;
    reply->json = NULL;
    reply->not_json[0] = '\0';
    if (resp.status == 0) {
        /* No HTTP status line: an HTTP/0.9 answer (taken at plain http://
         * only to see what the server sent). */
        char what[sizeof reply->not_json];
        gj__http_describe_body(resp.body, resp.len, NULL, what, sizeof what);
        c->broken = true;
        rc = gj__error_set(err, GJ_EPROTOCOL, "%s: the server did not answer with HTTP but with "
                           "%s%s", c->hostport, what,
                           strcmp(what, "TLS bytes") == 0 ? ": it speaks TLS, use https://" : "");
        goto out;
    }
    if (resp.len > INT_MAX) {
        c->broken = true;
        rc = gj__error_set(err, GJ_ETOOBIG, "%s: response of %zu bytes is too large to parse",
                           c->hostport, resp.len);
        goto out;
    }
    if (resp.len > 0) {
        json_object *j = NULL;
        enum json_tokener_error je = json_tokener_success;
        size_t used = 0;
        if (parse_body(c, resp.body, resp.len, &j, &je, &used)) {
            rc = gj__error_set(err, GJ_ENOMEM, "%s: out of memory", c->hostport);
            goto out;
        }
        if (!j) {
            const char *ct = resp.content_type;
            if (ct && strstr(ct, "json")) {
                c->broken = true;
                rc = gj__error_set(err, GJ_EPROTOCOL,
                                   "%s: HTTP %ld response is not valid JSON (%s at byte %zu)",
                                   c->hostport, resp.status, json_tokener_error_desc(je), used);
                goto out;
            }
            /* Not JSON (a proxy's HTML error page, a login portal): an error
             * status keeps its status and says what came; a success status
             * is not an ArangoDB answer at all, except where any body goes. */
            gj__http_describe_body(resp.body, resp.len, ct, reply->not_json,
                                   sizeof reply->not_json);
            if (resp.status < 400 && !call->any_body) {
                rc = gj__error_set(err, GJ_EPROTOCOL, "%s: HTTP %ld answered %s %s with %s, not "
                                   "JSON (is this an ArangoDB server?)", c->hostport, resp.status,
                                   call->method, call->path, reply->not_json);
                goto out;
            }
        } else {
            reply->json = j;
        }
    }
out:
    free(heap);
    return rc;
}

/* POST /_open/auth {username, password}: the token becomes the
 * connection's bearer credentials. */
static int jwt_login(gj_conn *c, int64_t deadline_ms, gj_error *err)
{
    json_object *o = json_object_new_object();
    if (!o)
        return gj__error_set(err, GJ_ENOMEM, "%s: out of memory", c->hostport);
    json_object_object_add(o, "username", json_object_new_string(c->username ? c->username : ""));
    json_object_object_add(o, "password", json_object_new_string(c->password ? c->password : ""));
    size_t n = 0;
    const char *text = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, &n);
    if (!text) {
        json_object_put(o);
        return gj__error_set(err, GJ_ENOMEM, "%s: out of memory", c->hostport);
    }
    gj__arango_call call = { "POST", NULL, "/_open/auth", text, n, NULL, NULL, false, deadline_ms };
    gj__arango_reply reply = { 0, NULL, "" };
    int rc = gj__http_set_bearer(c->http, NULL, err);   /* no Authorization for the login */
    if (!rc)
        rc = exchange(c, &call, false, &reply, err);
    /* The serialised text holds the password: wipe it. */
    memset((char *)text, 0, n);
    json_object_put(o);
    if (rc)
        return rc;
    if (reply.status != 200) {
        rc = gj__arango_reply_error(c, &reply, "authentication (POST /_open/auth)", err);
        if (!rc)
            rc = gj__error_set(err, GJ_EAUTH, "%s: authentication failed (HTTP %ld)",
                               c->hostport, reply.status);
        gj__arango_reply_clear(&reply);
        return rc;
    }
    json_object *jwt = NULL;
    if (!reply.json || !json_object_object_get_ex(reply.json, "jwt", &jwt) ||
        !json_object_is_type(jwt, json_type_string) ||
        json_object_get_string_len(jwt) > GJ__ARANGO_MAX_NAME) {
        gj__arango_reply_clear(&reply);
        c->broken = true;
        return gj__error_set(err, GJ_EPROTOCOL, "%s: POST /_open/auth answered without a jwt",
                             c->hostport);
    }
    rc = gj__http_set_bearer(c->http, json_object_get_string(jwt), err);
    gj__arango_reply_clear(&reply);
    if (rc)
        return rc;
    gj__log(c->log, GJ_LOG_DEBUG, "arango %s: obtained a JWT", c->hostport);
    return 0;
}

int gj__arango_login(gj_conn *c, int64_t deadline_ms, gj_error *err)
{
    return jwt_login(c, deadline_ms, err);
}

/* One call with JWT renewal and 503 retries. */
static int perform_once(gj_conn *c, const gj__arango_call *call, bool async_store,
                        gj__arango_reply *reply, gj_error *err)
{
    bool renewed = false;
    int retries = 0;
    int64_t pause = RETRY_PAUSE_MS;
    for (;;) {
        reply->json = NULL;
        reply->status = 0;
        int rc = exchange(c, call, async_store, reply, err);
        if (rc)
            return rc;
        if (reply->status == 401 && c->use_jwt && !renewed) {
            /* The token expired (or was never obtained): renew once. */
            gj__arango_reply_clear(reply);
            renewed = true;
            gj__log(c->log, GJ_LOG_DEBUG, "arango %s: HTTP 401, renewing the JWT", c->hostport);
            rc = jwt_login(c, call->deadline_ms, err);
            if (rc)
                return rc;
            continue;
        }
        if (reply->status == 503 && call->idempotent && retries < RETRIES_503 &&
            (call->deadline_ms == INT64_MAX || gj__now_ms() + pause < call->deadline_ms) &&
            !gj__http_interrupt_pending(c->http)) {
            gj__arango_reply_clear(reply);
            retries++;
            gj__log(c->log, GJ_LOG_INFO, "arango %s: HTTP 503 for %s %s, retry %d",
                    c->hostport, call->method, call->path, retries);
            gj__http_pause(c->http, pause);
            pause *= 2;
            continue;
        }
        return 0;
    }
}

void gj__arango_drop_server_job(gj_conn *c, const char *db, const char *id, int64_t dl)
{
    char path[96];
    gj__arango_reply r = { 0, NULL, "" };
    snprintf(path, sizeof path, "/_api/job/%s/cancel", id);
    gj__arango_call cancel = { "PUT", db, path, NULL, 0, NULL, NULL, false, dl };
    int rc = perform_once(c, &cancel, false, &r, NULL);
    gj__arango_reply_clear(&r);
    snprintf(path, sizeof path, "/_api/job/%s", id);
    gj__arango_call del = { "DELETE", db, path, NULL, 0, NULL, NULL, true, dl };
    int rc2 = perform_once(c, &del, false, &r, NULL);
    gj__log(c->log, rc || rc2 ? GJ_LOG_WARN : GJ_LOG_DEBUG,
            "arango %s: server job %s cancelled and deleted%s", c->hostport, id,
            rc || rc2 ? " (not confirmed)" : "");
    gj__arango_reply_clear(&r);
}

int gj__arango_job_await(gj_conn *c, const char *db, const char *id, int64_t deadline,
                         gj__arango_reply *reply, gj_error *err)
{
    char path[96];
    if (!id[0] || strlen(id) > 40 || strspn(id, "0123456789") != strlen(id))
        return gj__error_set(err, GJ_EINVAL, "server job id %.48s is not a number", id);
    snprintf(path, sizeof path, "/_api/job/%s", id);
    int64_t pause = 1;
    for (;;) {
        gj__arango_call poll = { "GET", db, path, NULL, 0, NULL, NULL, true, deadline };
        int rc = perform_once(c, &poll, false, reply, err);
        if (rc)
            return rc;
        long st = reply->status;
        if (st == 200) {
            gj__arango_reply_clear(reply);
            break;
        }
        if (st == 404) {
            gj__arango_reply_clear(reply);
            return gj__error_set(err, GJ_ENOTFOUND, "server job %s not found", id);
        }
        if (st >= 400) {
            rc = gj__arango_reply_error(c, reply, "GET /_api/job", err);
            gj__arango_reply_clear(reply);
            return rc;
        }
        gj__arango_reply_clear(reply);
        if (st != 204) {
            c->broken = true;
            return gj__error_set(err, GJ_EPROTOCOL,
                                 "%s: server job %s answered HTTP %ld to GET %s", c->hostport,
                                 id, st, path);
        }
        int64_t left = deadline == INT64_MAX ? INT64_MAX : deadline - gj__now_ms();
        if (left <= 0)
            return gj__error_set(err, GJ_ETIMEDOUT, "%s: server job %s not done within the timeout",
                                 c->hostport, id);
        gj__http_pause(c->http, pause < left ? pause : left);
        if (gj__http_interrupt_pending(c->http))
            return gj__error_set(err, GJ_ECANCELLED, "%s: server job %s interrupted", c->hostport,
                                 id);
        pause = pause * 2 > 100 ? 100 : pause * 2;
    }
    /* A stored reply carries x-arango-async-id; a 404 without it means the
     * job went away between the poll and the fetch (fetched or deleted). */
    char saved[sizeof c->async_id];
    memcpy(saved, c->async_id, sizeof saved);
    c->async_id[0] = '\0';
    gj__arango_call fetch = { "PUT", db, path, NULL, 0, NULL, NULL, false, deadline };
    int rc = perform_once(c, &fetch, false, reply, err);
    bool replayed = c->async_id[0] != '\0';
    if (!replayed)
        memcpy(c->async_id, saved, sizeof saved);
    if (!rc && reply->status == 404 && !replayed) {
        gj__arango_reply_clear(reply);
        return gj__error_set(err, GJ_ENOTFOUND, "server job %s not found", id);
    }
    return rc;
}

/* The call was accepted as server job c->async_id: wait for it and fetch
 * its stored reply into *reply; an interrupt or timeout cancels and deletes
 * the server job. */
static int await_server_job(gj_conn *c, const gj__arango_call *call, gj__arango_reply *reply,
                            gj_error *err)
{
    char id[64];
    snprintf(id, sizeof id, "%s", c->async_id);
    gj__log(c->log, GJ_LOG_DEBUG, "arango %s: %s %s is server job %s", c->hostport,
            call->method, call->path, id);
    int rc = gj__arango_job_await(c, call->db, id, call->deadline_ms, reply, err);
    if (rc == GJ_ECANCELLED || rc == GJ_ETIMEDOUT) {
        /* settle() cancels and deletes the server job after the job ended;
         * if that cannot be recorded, now (briefly), with the interrupt
         * record set aside, then put back for the operation to consume. */
        if (gj__arango_defer_cleanup(c, GJ__ARANGO_CLEANUP_JOB, call->db, id, NULL, 0))
            return rc;
        bool interrupted = gj__arango_take_interrupt(c);
        gj__arango_drop_server_job(c, call->db, id, gj__now_ms() + GJ__SETTLE_MS);
        if (interrupted)
            gj__http_restore_interrupt(c->http);
    }
    return rc;
}

int gj__arango_perform(gj_conn *c, const gj__arango_call *call, gj__arango_reply *reply,
                       gj_error *err)
{
    bool async_store = c->async_store;
    c->async_store = false;
    if (async_store)
        c->async_id[0] = '\0';
    bool detach = c->async_detach;
    c->async_detach = false;
    int rc = perform_once(c, call, async_store, reply, err);
    bool fire = c->async_fire;   /* x-arango-async: true was sent */
    c->async_fire = false;
    if (rc || !async_store || reply->status != 202)
        return rc;
    gj__arango_reply_clear(reply);
    if (fire)
        return GJ__ARANGO_ACCEPTED;
    if (!c->async_id[0]) {
        c->broken = true;
        return gj__error_set(err, GJ_EPROTOCOL,
                             "%s: HTTP 202 for x-arango-async: store without x-arango-async-id",
                             c->hostport);
    }
    if (detach) {
        gj__log(c->log, GJ_LOG_DEBUG, "arango %s: %s %s detached as server job %s",
                c->hostport, call->method, call->path, c->async_id);
        return GJ__ARANGO_DETACHED;
    }
    return await_server_job(c, call, reply, err);
}

int gj__arango_reply_error(gj_conn *c, const gj__arango_reply *reply, const char *what,
                           gj_error *err)
{
    if (reply->status < 400)
        return 0;
    long num = 0;
    const char *msg = NULL;
    json_object *v;
    if (reply->json && json_object_is_type(reply->json, json_type_object)) {
        if (json_object_object_get_ex(reply->json, "errorNum", &v) &&
            json_object_is_type(v, json_type_int))
            num = (long)json_object_get_int64(v);
        if (json_object_object_get_ex(reply->json, "errorMessage", &v) &&
            json_object_is_type(v, json_type_string))
            msg = json_object_get_string(v);
    }
    gj_value *extra = NULL;
    if (reply->json)
        (void)gj__arango_json_to_value(reply->json, &extra, NULL);
    char numtext[32];
    snprintf(numtext, sizeof numtext, "%ld", num);
    int code = reply->status == 401 ? GJ_EAUTH : GJ_ESERVER;
    char body[sizeof reply->not_json + 40];
    if (!msg && reply->not_json[0]) {
        snprintf(body, sizeof body, "the body is not JSON but %s", reply->not_json);
        msg = body;
    }
    gj__server_error se = {
        code, "arango", num ? numtext : NULL, num, NULL, (int)reply->status,
        msg ? msg : "no error message", extra,
    };
    gj__error_set_server(err, &se);
    gj__error_prefix(err, "%s: %s", c->hostport, what);
    return code;
}
