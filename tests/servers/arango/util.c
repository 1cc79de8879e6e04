/* util.c — strings, clocks, ids, names, JSON and response helpers. */
#include "rs.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

void rs_log(rs_server *srv, const char *fmt, ...)
{
    if (!srv->cfg.verbose)
        return;
    va_list ap;
    va_start(ap, fmt);
    fputs("arango-refserver: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

double rs_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

uint64_t rs_next_tick(rs_server *srv)
{
    return atomic_fetch_add(&srv->tick, 1) + 1;
}

/* _rev values look like ArangoDB's: a 64-bit hybrid-logical-clock value in
 * ArangoDB's own base64 alphabet, 11 characters, e.g. "_iK7z1Gq---". */
void rs_new_rev(rs_server *srv, char out[16])
{
    static const char alphabet[] =
        "-_ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    uint64_t v = rs_next_tick(srv);
    char tmp[16];
    size_t n = 0;
    do {
        tmp[n++] = alphabet[v & 63u];
        v >>= 6;
    } while (v != 0 && n < sizeof tmp);
    while (n < 11)
        tmp[n++] = '-';
    for (size_t i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    out[n] = '\0';
}

char *rs_strdup(const char *s)
{
    return s ? strdup(s) : NULL;
}

char *rs_strndup(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (!p)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

/* Document keys: 1..254 bytes of letters, digits and _-:.@()+,=;$!*'% */
int rs_valid_key(const char *key)
{
    size_t n = strlen(key);
    if (n == 0 || n > RS_KEY_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)key[i];
        if (isalnum(ch))
            continue;
        if (!strchr("_-:.@()+,=;$!*'%", ch))
            return 0;
    }
    return 1;
}

/* Traditional collection names: a letter (or '_' for system collections),
 * then letters, digits, '_' and '-', at most 256 bytes. */
int rs_valid_coll_name(const char *name, int allow_system)
{
    size_t n = strlen(name);
    if (n == 0 || n > RS_NAME_MAX)
        return 0;
    if (!(isalpha((unsigned char)name[0]) || (allow_system && name[0] == '_')))
        return 0;
    for (size_t i = 1; i < n; i++) {
        unsigned char ch = (unsigned char)name[i];
        if (!isalnum(ch) && ch != '_' && ch != '-')
            return 0;
    }
    return 1;
}

/* Traditional database names: a letter, then letters, digits, '_' and '-',
 * at most 64 bytes. */
int rs_valid_db_name(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > 64)
        return 0;
    if (!isalpha((unsigned char)name[0]))
        return 0;
    for (size_t i = 1; i < n; i++) {
        unsigned char ch = (unsigned char)name[i];
        if (!isalnum(ch) && ch != '_' && ch != '-')
            return 0;
    }
    return 1;
}

int rs_parse_bool(const char *s, int dflt)
{
    if (!s)
        return dflt;
    if (!strcasecmp(s, "true") || !strcmp(s, "1") || !strcasecmp(s, "yes") || !strcasecmp(s, "on"))
        return 1;
    if (!strcasecmp(s, "false") || !strcmp(s, "0") || !strcasecmp(s, "no") || !strcasecmp(s, "off") ||
        !strcmp(s, "") || !strcmp(s, "undefined"))
        return 0;
    return dflt;
}

const char *rs_arg(const rs_request *req, const char *name)
{
    for (size_t i = 0; i < req->nargs; i++)
        if (!strcmp(req->args[i].name, name))
            return req->args[i].value ? req->args[i].value : "";
    return NULL;
}

int rs_arg_bool(const rs_request *req, const char *name, int dflt)
{
    return rs_parse_bool(rs_arg(req, name), dflt);
}

const char *rs_header(const rs_request *req, const char *name)
{
    for (size_t i = 0; i < req->nheaders; i++)
        if (!strcasecmp(req->headers[i].name, name))
            return req->headers[i].value;
    return NULL;
}

json_object *rs_parse_json(const char *text, size_t len)
{
    if (!text || len == 0 || len > (size_t)INT32_MAX)
        return NULL;
    json_tokener *tok = json_tokener_new_ex(JSON_TOKENER_DEFAULT_DEPTH);
    if (!tok)
        return NULL;
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    json_object *obj = json_tokener_parse_ex(tok, text, (int)len);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    /* Everything must have been consumed, apart from trailing whitespace. */
    size_t used = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    if (jerr != json_tokener_success) {
        json_object_put(obj);
        return NULL;
    }
    for (size_t i = used; i < len; i++) {
        if (!isspace((unsigned char)text[i])) {
            json_object_put(obj);
            return NULL;
        }
    }
    if (!obj) /* the literal null: keep it distinguishable from failure */
        return NULL;
    return obj;
}

char *rs_json_string(json_object *obj, size_t *len)
{
    size_t n = 0;
    const char *s = json_object_to_json_string_length(
        obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
    if (!s)
        return NULL;
    char *copy = rs_strndup(s, n);
    if (copy && len)
        *len = n;
    return copy;
}

void rs_iso_time(double t, char out[32])
{
    time_t secs = (time_t)t;
    struct tm tm;
    gmtime_r(&secs, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int rs_base64_encode(const unsigned char *in, size_t n, int url, char *out, size_t cap)
{
    const char *alpha = url ? "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
                            : "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        size_t rem = n - i;
        if (rem > 1)
            v |= (uint32_t)in[i + 1] << 8;
        if (rem > 2)
            v |= in[i + 2];
        size_t emit = rem >= 3 ? 4 : rem + 1;
        for (size_t k = 0; k < 4; k++) {
            if (o + 1 >= cap)
                return -1;
            if (k < emit)
                out[o++] = alpha[(v >> (18 - 6 * k)) & 63u];
            else if (!url)
                out[o++] = '=';
        }
    }
    if (o >= cap)
        return -1;
    out[o] = '\0';
    return (int)o;
}

static int b64val(char c, int url)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == (url ? '-' : '+'))
        return 62;
    if (c == (url ? '_' : '/'))
        return 63;
    return -1;
}

int rs_base64_decode(const char *in, size_t n, int url, unsigned char *out, size_t cap, size_t *outlen)
{
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (in[i] == '=')
            break;
        int v = b64val(in[i], url);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o >= cap)
                return -1;
            out[o++] = (unsigned char)((acc >> bits) & 0xffu);
        }
    }
    *outlen = o;
    return 0;
}

/* ---- responses ------------------------------------------------------------ */

void rs_response_init(rs_response *res)
{
    memset(res, 0, sizeof *res);
}

void rs_response_free(rs_response *res)
{
    free(res->content_type);
    free(res->body);
    for (size_t i = 0; i < res->n_headers; i++) {
        free(res->headers[i].name);
        free(res->headers[i].value);
    }
    memset(res, 0, sizeof *res);
}

void rs_response_move(rs_response *dst, rs_response *src)
{
    *dst = *src;
    memset(src, 0, sizeof *src);
}

int rs_response_copy(rs_response *dst, const rs_response *src)
{
    rs_response_init(dst);
    dst->status = src->status;
    if (src->content_type && !(dst->content_type = strdup(src->content_type)))
        goto fail;
    if (src->body) {
        if (!(dst->body = rs_strndup(src->body, src->body_len)))
            goto fail;
        dst->body_len = src->body_len;
    }
    for (size_t i = 0; i < src->n_headers; i++)
        rs_response_header(dst, src->headers[i].name, src->headers[i].value);
    return 0;
fail:
    rs_response_free(dst);
    return -1;
}

void rs_response_header(rs_response *res, const char *name, const char *value)
{
    for (size_t i = 0; i < res->n_headers; i++) {
        if (!strcasecmp(res->headers[i].name, name)) {
            char *v = strdup(value);
            if (v) {
                free(res->headers[i].value);
                res->headers[i].value = v;
            }
            return;
        }
    }
    if (res->n_headers >= RS_RESPONSE_HEADERS_MAX)
        return;
    char *n = strdup(name), *v = strdup(value);
    if (!n || !v) {
        free(n);
        free(v);
        return;
    }
    res->headers[res->n_headers].name = n;
    res->headers[res->n_headers].value = v;
    res->n_headers++;
}

static void set_body(rs_response *res, int status, const char *ct, char *body, size_t len)
{
    free(res->content_type);
    free(res->body);
    res->status = status;
    res->content_type = ct ? strdup(ct) : NULL;
    res->body = body;
    res->body_len = body ? len : 0;
    if (!body && len) /* allocation failed while serializing */
        res->status = 500;
}

void rs_response_json(rs_response *res, int status, json_object *obj)
{
    size_t len = 0;
    char *s = obj ? rs_json_string(obj, &len) : NULL;
    set_body(res, status, RS_JSON_CT, s, s ? len : 1);
    json_object_put(obj);
}

void rs_response_text(rs_response *res, int status, const char *ct, const char *body)
{
    char *copy = body ? strdup(body) : NULL;
    set_body(res, status, ct, copy, body ? strlen(body) : 0);
}

json_object *rs_error_object(int status, int errnum, const char *msg)
{
    json_object *o = json_object_new_object();
    if (!o)
        return NULL;
    json_object_object_add(o, "code", json_object_new_int(status));
    json_object_object_add(o, "error", json_object_new_boolean(1));
    json_object_object_add(o, "errorMessage", json_object_new_string(msg));
    json_object_object_add(o, "errorNum", json_object_new_int(errnum));
    return o;
}

void rs_response_error(rs_response *res, int status, int errnum, const char *fmt, ...)
{
    char msg[1024];
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
    } else {
        snprintf(msg, sizeof msg, "%s", rs_errmsg(errnum));
    }
    rs_response_json(res, status, rs_error_object(status, errnum, msg));
}

/* The messages of ArangoDB's errors.dat for the numbers this server uses. */
const char *rs_errmsg(int errnum)
{
    switch (errnum) {
    case 4: return "internal error";
    case 9: return "not implemented";
    case 10: return "bad parameter";
    case 11: return "forbidden";
    case 21: return "canceled request";
    case 32: return "resource limit exceeded";
    case 400: return "bad parameter";
    case 401: return "unauthorized";
    case 403: return "forbidden";
    case 404: return "not found";
    case 405: return "method not supported";
    case 411: return "length required";
    case 412: return "precondition failed";
    case 413: return "request entity too large";
    case 414: return "request-URI too long";
    case 500: return "internal server error";
    case 503: return "service unavailable";
    case 600: return "invalid JSON object";
    case 1200: return "conflict";
    case 1202: return "document not found";
    case 1203: return "collection or view not found";
    case 1205: return "illegal document identifier";
    case 1207: return "duplicate name";
    case 1208: return "illegal name";
    case 1210: return "unique constraint violated";
    case 1221: return "illegal document key";
    case 1227: return "invalid document type";
    case 1228: return "database not found";
    case 1229: return "database name invalid";
    case 1230: return "operation only allowed in system database";
    case 1233: return "edge attribute missing or invalid";
    case 1471: return "this operation is only valid on a coordinator in a cluster";
    case 1500: return "query killed";
    case 1502: return "query is empty";
    case 1591: return "query ID not found";
    case 1600: return "cursor not found";
    case 1601: return "cursor is busy";
    case 1652: return "unregistered collection used in transaction";
    case 1653: return "disallowed operation inside transaction";
    case 1655: return "transaction not found";
    default: return "error";
    }
}

/* ---- interruption -------------------------------------------------------------- */

void rs_exec_init(rs_exec *ex)
{
    pthread_mutex_init(&ex->mu, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&ex->cond, &attr);
    pthread_condattr_destroy(&attr);
    ex->killed = 0;
    ex->canceled = 0;
}

void rs_exec_destroy(rs_exec *ex)
{
    pthread_cond_destroy(&ex->cond);
    pthread_mutex_destroy(&ex->mu);
}

void rs_exec_signal(rs_exec *ex, int kill, int cancel)
{
    pthread_mutex_lock(&ex->mu);
    if (kill)
        ex->killed = 1;
    if (cancel)
        ex->canceled = 1;
    pthread_cond_broadcast(&ex->cond);
    pthread_mutex_unlock(&ex->mu);
}

rs_interrupt rs_exec_check(rs_server *srv, rs_exec *ex)
{
    rs_interrupt r = RS_RUN;
    pthread_mutex_lock(&ex->mu);
    if (ex->canceled)
        r = RS_CANCELED;
    else if (ex->killed)
        r = RS_KILLED;
    pthread_mutex_unlock(&ex->mu);
    if (r == RS_RUN && atomic_load(&srv->stopping))
        r = RS_SHUTDOWN;
    return r;
}

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Sleep up to `seconds`, waking early on kill, cancel or shutdown (checked
 * at least every 50 ms), or when the wall-clock `deadline` (0 = none)
 * passes. */
rs_interrupt rs_exec_sleep(rs_server *srv, rs_exec *ex, double seconds, double deadline)
{
    if (!(seconds > 0))
        seconds = 0;
    if (seconds > RS_MAX_SLEEP)
        seconds = RS_MAX_SLEEP;
    double end = mono_now() + seconds;
    double wall_left = deadline > 0 ? deadline - rs_now() : -1;
    int timeout_first = deadline > 0 && wall_left < seconds;
    if (timeout_first)
        end = mono_now() + (wall_left > 0 ? wall_left : 0);
    for (;;) {
        rs_interrupt r = rs_exec_check(srv, ex);
        if (r != RS_RUN)
            return r;
        double left = end - mono_now();
        if (left <= 0)
            return timeout_first ? RS_TIMEOUT : RS_RUN;
        if (left > 0.05)
            left = 0.05;
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        long ns = ts.tv_nsec + (long)(left * 1e9);
        ts.tv_sec += ns / 1000000000L;
        ts.tv_nsec = ns % 1000000000L;
        pthread_mutex_lock(&ex->mu);
        if (!ex->killed && !ex->canceled)
            pthread_cond_timedwait(&ex->cond, &ex->mu, &ts);
        pthread_mutex_unlock(&ex->mu);
    }
}

/* ---- requests ------------------------------------------------------------------- */

static int copy_kvs(rs_kv **dst, size_t *ndst, const rs_kv *src, size_t n)
{
    *dst = NULL;
    *ndst = 0;
    if (n == 0)
        return 0;
    rs_kv *kv = calloc(n, sizeof *kv);
    if (!kv)
        return -1;
    *dst = kv;
    for (size_t i = 0; i < n; i++) {
        kv[i].name = rs_strdup(src[i].name);
        kv[i].value = rs_strdup(src[i].value);
        *ndst = i + 1;
        if (!kv[i].name || (src[i].value && !kv[i].value))
            return -1;
    }
    return 0;
}

rs_request *rs_request_clone(const rs_request *req)
{
    rs_request *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    rs_exec_init(&c->exec);
    c->method = req->method;
    c->coord = req->coord;
    c->method_name = rs_strdup(req->method_name);
    c->dbname = rs_strdup(req->dbname);
    c->path = rs_strdup(req->path);
    c->user = rs_strdup(req->user);
    c->body = req->body ? rs_strndup(req->body, req->body_len) : NULL;
    c->body_len = req->body_len;
    int bad = !c->method_name || !c->dbname || !c->path || (req->user && !c->user) ||
              (req->body && !c->body);
    for (size_t i = 0; i < req->nsegs; i++) {
        c->segs[i] = rs_strdup(req->segs[i]);
        c->nsegs = i + 1;
        if (!c->segs[i])
            bad = 1;
    }
    if (copy_kvs(&c->args, &c->nargs, req->args, req->nargs) ||
        copy_kvs(&c->headers, &c->nheaders, req->headers, req->nheaders))
        bad = 1;
    if (bad) {
        rs_request_free(c);
        return NULL;
    }
    return c;
}

void rs_request_clear(rs_request *req)
{
    free(req->method_name);
    free(req->dbname);
    free(req->path);
    free(req->user);
    free(req->body);
    for (size_t i = 0; i < req->nsegs; i++)
        free(req->segs[i]);
    for (size_t i = 0; i < req->nargs; i++) {
        free(req->args[i].name);
        free(req->args[i].value);
    }
    free(req->args);
    for (size_t i = 0; i < req->nheaders; i++) {
        free(req->headers[i].name);
        free(req->headers[i].value);
    }
    free(req->headers);
    rs_exec_destroy(&req->exec);
}

void rs_request_free(rs_request *req)
{
    if (!req)
        return;
    rs_request_clear(req);
    free(req);
}
