/*
 * ArangoDB backend: the HTTP connection (one curl easy handle in its own
 * multi handle), authentication (Basic or JWT with renewal) and the mapping
 * of ArangoDB error bodies to gj_error.
 */
#include "backend/arango/arango_internal.h"

#include <ctype.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* How long one curl_multi_poll waits at most (interrupts wake it at once). */
#define POLL_SLICE_MS 1000
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
    return atomic_exchange(&c->interrupt_req, false);
}

char *gj__arango_escape(gj_conn *c, const char *s)
{
    size_t n = strlen(s);
    if (n > GJ__ARANGO_MAX_NAME)
        return NULL;
    char *e = curl_easy_escape(c->easy, s, (int)n);
    if (!e)
        return NULL;
    char *copy = gj__strdup(e);
    curl_free(e);
    return copy;
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

size_t gj__arango_on_write(char *data, size_t size, size_t nmemb, void *payload)
{
    gj_conn *c = payload;
    size_t n = size * nmemb;
    if (n > c->max_body - c->len) {
        c->too_big = true;
        return 0;   /* CURLE_WRITE_ERROR */
    }
    if (c->len + n + 1 > c->cap) {
        size_t cap = c->cap ? c->cap : 4096;
        while (cap < c->len + n + 1)
            cap *= 2;
        char *p = realloc(c->buf, cap);
        if (!p)
            return 0;
        c->buf = p;
        c->cap = cap;
    }
    memcpy(c->buf + c->len, data, n);
    c->len += n;
    c->buf[c->len] = '\0';
    return n;
}

size_t gj__arango_on_header(char *data, size_t size, size_t nmemb, void *payload)
{
    gj_conn *c = payload;
    size_t n = size * nmemb;
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
    return n;
}

/* Drive the transfer already set up on c->easy.  Every pass looks at the
 * interrupt, the abort (while connecting) and the deadline, whether data
 * is flowing or not. */
static int run_transfer(gj_conn *c, int64_t deadline_ms, CURLcode *result, gj_error *err)
{
    CURLMcode mc = curl_multi_add_handle(c->multi, c->easy);
    if (mc != CURLM_OK)
        return gj__error_set(err, GJ_EIO, "%s: cannot start the request: %s", c->hostport,
                             curl_multi_strerror(mc));
    int rc = 0;
    bool done = false;
    c->errbuf[0] = '\0';
    for (;;) {
        if (atomic_load(&c->interrupt_req)) {
            rc = gj__error_set(err, GJ_ECANCELLED, "%s: request interrupted", c->hostport);
            break;
        }
        int arc = gj__abort_check(c->abort);
        if (arc) {
            rc = gj__error_set(err, arc, "%s: %s", c->hostport, gj__abort_reason(arc));
            break;
        }
        if (deadline_ms != INT64_MAX && gj__now_ms() >= deadline_ms) {
            rc = gj__error_set(err, GJ_ETIMEDOUT, "%s: no response within the timeout",
                               c->hostport);
            break;
        }
        int running = 0;
        mc = curl_multi_perform(c->multi, &running);
        if (mc != CURLM_OK) {
            rc = gj__error_set(err, GJ_EIO, "%s: %s", c->hostport, curl_multi_strerror(mc));
            break;
        }
        int queued = 0;
        CURLMsg *m;
        while ((m = curl_multi_info_read(c->multi, &queued)) != NULL) {
            if (m->msg == CURLMSG_DONE && m->easy_handle == c->easy) {
                *result = m->data.result;
                done = true;
            }
        }
        if (done)
            break;
        int64_t wait = POLL_SLICE_MS;
        if (deadline_ms != INT64_MAX) {
            int64_t left = deadline_ms - gj__now_ms();
            if (left <= 0) {
                rc = gj__error_set(err, GJ_ETIMEDOUT, "%s: no response within the timeout",
                                   c->hostport);
                break;
            }
            if (left < wait)
                wait = left;
        }
        struct pollfd pf[2];
        int npf = gj__abort_pollfds(c->abort, pf);
        struct curl_waitfd wf[2];
        for (int i = 0; i < npf; i++)
            wf[i] = (struct curl_waitfd){ pf[i].fd, CURL_WAIT_POLLIN, 0 };
        mc = curl_multi_poll(c->multi, npf ? wf : NULL, (unsigned)npf, (int)wait, NULL);
        if (mc == CURLM_OK && npf && !gj__abort_check(c->abort))
            gj__abort_drain(c->abort);
        if (mc != CURLM_OK) {
            rc = gj__error_set(err, GJ_EIO, "%s: %s", c->hostport, curl_multi_strerror(mc));
            break;
        }
    }
    /* Removing an unfinished transfer closes its connection. */
    curl_multi_remove_handle(c->multi, c->easy);
    if (rc)
        c->broken = true;
    return rc;
}

/* curl's own detail of the failure (its error buffer), else the code's text. */
static const char *curl_detail(gj_conn *c, CURLcode cc)
{
    size_t n = strlen(c->errbuf);
    while (n && (c->errbuf[n - 1] == '\n' || c->errbuf[n - 1] == '\r'))
        c->errbuf[--n] = '\0';
    return n ? c->errbuf : curl_easy_strerror(cc);
}

static bool plain_http(const gj_conn *c)
{
    return strncmp(c->base_url, "http://", 7) == 0;
}

static int curl_error(gj_conn *c, CURLcode cc, gj_error *err)
{
    c->broken = true;
    switch (cc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
        return gj__error_set(err, GJ_ECONNECT, "cannot connect to %s: %s", c->hostport,
                             curl_detail(c, cc));
    case CURLE_OPERATION_TIMEDOUT:
        return gj__error_set(err, GJ_ETIMEDOUT, "%s: %s", c->hostport, curl_detail(c, cc));
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_CRL_BADFILE:
        return gj__error_set(err, GJ_ETLS, "TLS with %s failed: %s", c->hostport,
                             curl_detail(c, cc));
    case CURLE_GOT_NOTHING:
    case CURLE_RECV_ERROR:
        if (plain_http(c))
            return gj__error_set(err, GJ_EIO, "%s: %s (if the server speaks TLS on that port, "
                                 "use https://)", c->hostport, curl_detail(c, cc));
        return gj__error_set(err, GJ_EIO, "%s: connection failed mid-request: %s", c->hostport,
                             curl_detail(c, cc));
    case CURLE_WRITE_ERROR:
        if (c->too_big)
            return gj__error_set(err, GJ_ETOOBIG,
                                 "%s: response larger than max_message_size (%zu bytes)",
                                 c->hostport, c->max_body);
        return gj__error_set(err, GJ_ENOMEM, "%s: out of memory for the response", c->hostport);
    case CURLE_OUT_OF_MEMORY:
        return gj__error_set(err, GJ_ENOMEM, "%s: out of memory", c->hostport);
    default:
        return gj__error_set(err, GJ_EIO, "%s: connection failed mid-request: %s", c->hostport,
                             curl_detail(c, cc));
    }
}

/* What a body that is not JSON looks like, for messages: "an HTML page
 * (<title>...)", "TLS bytes", or an excerpt of its printable start. */
static void describe_body(const gj_conn *c, const char *ct, char *out, size_t cap)
{
    const unsigned char *b = (const unsigned char *)c->buf;
    size_t n = c->len;
    if (n >= 3 && (b[0] == 0x15 || b[0] == 0x16) && b[1] == 0x03 && b[2] <= 0x04) {
        snprintf(out, cap, "TLS bytes");
        return;
    }
    size_t skip = 0;
    while (skip < n && isspace(b[skip]))
        skip++;
    bool html = (ct && strstr(ct, "html")) || (skip < n && b[skip] == '<');
    char excerpt[100];
    size_t k = 0;
    for (size_t i = skip; i < n && k + 1 < sizeof excerpt; i++) {
        unsigned char ch = b[i];
        if (ch == '\n' || ch == '\r' || ch == '\t')
            ch = ' ';
        if (ch < 0x20 || ch >= 0x7f)
            ch = '?';
        if (ch == ' ' && k && excerpt[k - 1] == ' ')
            continue;
        excerpt[k++] = (char)ch;
    }
    excerpt[k] = '\0';
    snprintf(out, cap, "%s%s: \"%s%s\"", html ? "an HTML page" : "text",
             ct ? "" : "", excerpt, n - skip > k ? "..." : "");
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

/* Parse c->buf[0..c->len) into *out (NULL on failure), with the tokener
 * bounded to GJ__ARANGO_MAX_DEPTH.  Most replies are shallow: a first pass
 * uses a small tokener (a cheaper allocation), and only a reply nested
 * deeper than that is parsed again with the full depth.  *je and *used say
 * how the parse ended. */
#define SHALLOW_DEPTH 24
static int parse_body(gj_conn *c, json_object **out, enum json_tokener_error *je,
                      size_t *used)
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
        json_object *j = json_tokener_parse_ex(tok, c->buf, (int)c->len);
        *je = json_tokener_get_error(tok);
        *used = json_tokener_get_parse_end(tok);
        /* A long string leaves the tokener's buffer as large: not kept
         * after a large reply. */
        if (tok == c->tok && c->len > BUF_KEEP)
            c->tok = NULL;
        if (tok != c->tok)
            json_tokener_free(tok);
        if (*je == json_tokener_error_depth && depth < GJ__ARANGO_MAX_DEPTH) {
            if (j)
                json_object_put(j);
            depth = GJ__ARANGO_MAX_DEPTH;
            continue;
        }
        if (j && (*je != json_tokener_success || *used != c->len)) {
            json_object_put(j);
            j = NULL;
        }
        *out = j;
        return 0;
    }
}

/* "Authorization: Basic " + base64(username ":" password) into out (cap
 * bytes, NUL-terminated); false when it does not fit.  Sent as a request
 * header it is the very line curl would build for CURLAUTH_BASIC (curl
 * leaves its own out when the request carries an Authorization header),
 * without curl's two formatted allocations per request. */
static bool basic_header(const gj_conn *c, char *out, size_t cap)
{
    static const char b64[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    static const char prefix[] = "Authorization: Basic ";
    const char *user = c->username, *pw = c->password ? c->password : "";
    size_t ul = strlen(user), pl = strlen(pw), n = ul + 1 + pl;
    if (ul > GJ__ARANGO_MAX_NAME || pl > GJ__ARANGO_MAX_NAME ||
        sizeof prefix + (n + 2) / 3 * 4 > cap)
        return false;
    memcpy(out, prefix, sizeof prefix - 1);
    char *o = out + sizeof prefix - 1;
    unsigned bits = 0, have = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)(i < ul ? user[i] : i == ul ? ':' : pw[i - ul - 1]);
        bits = (bits << 8) | ch;
        have += 8;
        while (have >= 6) {
            have -= 6;
            *o++ = b64[(bits >> have) & 63];
        }
    }
    if (have > 0)
        *o++ = b64[(bits << (6 - have)) & 63];
    for (size_t k = n % 3; k > 0 && k < 3; k++)
        *o++ = '=';
    *o = '\0';
    return true;
}

static const char *url_error(CURLUcode uc)
{
#if LIBCURL_VERSION_NUM >= 0x075000
    return curl_url_strerror(uc);
#else
    return uc == CURLUE_OUT_OF_MEMORY ? "out of memory" : "malformed URL";
#endif
}

/* Room for a request's path and query on the stack; longer ones are
 * allocated. */
#define PATH_STACK 512
/* Most request headers a call sends. */
#define MAX_HEADERS 8

/* Point c->url at the call: the base URL is parsed once (again after a
 * failover moved the connection), and a request sets only its path and
 * query, which are escaped already (curl copies both). */
static int set_url(gj_conn *c, const gj__arango_call *call, gj_error *err)
{
    char stack[PATH_STACK];
    char *path = stack, *heap = NULL;
    long len = build_path(c, call, stack, sizeof stack);
    if (len == 0) {
        size_t cap = strlen(call->path) + 16 + (call->db ? 3 * strlen(call->db) : 0);
        heap = malloc(cap);
        if (!heap)
            return gj__error_set(err, GJ_ENOMEM, "%s: out of memory for a URL", c->hostport);
        path = heap;
        len = build_path(c, call, heap, cap);
    }
    if (len <= 0) {
        free(heap);
        return gj__error_set(err, GJ_EINVAL, "%s: bad database name", c->hostport);
    }
    CURLUcode uc = CURLUE_OK;
    if (c->url_stale) {
        uc = curl_url_set(c->url, CURLUPART_URL, c->base_url, 0);
        c->url_stale = uc != CURLUE_OK;
    }
    char *query = strchr(path, '?');
    if (query)
        *query++ = '\0';
    if (uc == CURLUE_OK)
        uc = curl_url_set(c->url, CURLUPART_PATH, path, 0);
    if (uc == CURLUE_OK)
        uc = curl_url_set(c->url, CURLUPART_QUERY, query, 0);
    free(heap);
    if (uc != CURLUE_OK)
        return gj__error_set(err, uc == CURLUE_OUT_OF_MEMORY ? GJ_ENOMEM : GJ_EINVAL,
                             "%s: cannot use the URL of %s %s: %s", c->hostport, call->method,
                             call->path, url_error(uc));
    return 0;
}

/* One HTTP exchange without retries.  The header list lives on the stack
 * (curl only reads it during the transfer, and it is unset afterwards), and
 * so does the path when it is short: a plain call allocates nothing here. */
static int exchange(gj_conn *c, const gj__arango_call *call, bool async_store,
                    gj__arango_reply *reply, gj_error *err)
{
    int rc = 0;
    struct curl_slist hv[MAX_HEADERS];
    size_t nh = 0;
    char auth[GJ__ARANGO_MAX_NAME + 32];
    char ifmatch[GJ__ARANGO_MAX_NAME + 32];
    char trx[96];
    bool wipe_auth = false;

    if ((rc = set_url(c, call, err)) != 0)
        return rc;

#define ADD_HEADER(text)                                  \
    do {                                                  \
        hv[nh].data = (char *)(text);                     \
        hv[nh].next = NULL;                               \
        if (nh > 0)                                       \
            hv[nh - 1].next = &hv[nh];                    \
        nh++;                                             \
    } while (0)

    ADD_HEADER("Accept: application/json");
    /* No "Expect: 100-continue" round trip for a large body.  curl asks
     * for one only above 1 KiB (1 MiB in newer versions), and each header
     * in the list costs curl a scan for every header it looks up. */
    if (call->body && call->body_len > 1024)
        ADD_HEADER("Expect:");
    if (call->body)
        ADD_HEADER("Content-Type: application/json");
    if (c->use_jwt && c->jwt) {
        /* The token's length was checked when it was obtained. */
        snprintf(auth, sizeof auth, "Authorization: bearer %s", c->jwt);
        wipe_auth = true;
        ADD_HEADER(auth);
    } else if (!c->use_jwt && c->username && basic_header(c, auth, sizeof auth)) {
        /* Basic auth (CURLOPT_USERNAME is set too: curl's fallback). */
        wipe_auth = true;
        ADD_HEADER(auth);
    }
    if (async_store)
        ADD_HEADER(c->async_fire ? "x-arango-async: true" : "x-arango-async: store");
    if (call->if_match) {
        if (strlen(call->if_match) > GJ__ARANGO_MAX_NAME || strpbrk(call->if_match, "\r\n\"")) {
            rc = gj__error_set(err, GJ_EINVAL, "option rev: not a revision");
            goto out;
        }
        snprintf(ifmatch, sizeof ifmatch, "If-Match: \"%s\"", call->if_match);
        ADD_HEADER(ifmatch);
    }
    if (call->trx_id) {
        if (strlen(call->trx_id) > 64 || strpbrk(call->trx_id, "\r\n")) {
            rc = gj__error_set(err, GJ_EINVAL, "option trx: not a transaction id");
            goto out;
        }
        snprintf(trx, sizeof trx, "x-arango-trx-id: %s", call->trx_id);
        ADD_HEADER(trx);
    }
#undef ADD_HEADER

    curl_easy_setopt(c->easy, CURLOPT_HTTPHEADER, &hv[0]);
    bool is_get = strcmp(call->method, "GET") == 0, is_post = strcmp(call->method, "POST") == 0;
    if (call->body || is_post || strcmp(call->method, "PUT") == 0 ||
        strcmp(call->method, "PATCH") == 0) {
        curl_easy_setopt(c->easy, CURLOPT_POSTFIELDSIZE_LARGE,
                         (curl_off_t)(call->body ? call->body_len : 0));
        curl_easy_setopt(c->easy, CURLOPT_POSTFIELDS, call->body ? call->body : "");
    } else {
        curl_easy_setopt(c->easy, CURLOPT_HTTPGET, 1L);
    }
    curl_easy_setopt(c->easy, CURLOPT_CUSTOMREQUEST, is_get || is_post ? NULL : call->method);
    /* Do not keep a large buffer from an earlier big reply. */
    if (c->cap > BUF_KEEP) {
        free(c->buf);
        c->buf = NULL;
        c->cap = 0;
    }
    c->len = 0;
    c->too_big = false;
    CURLcode cc = CURLE_OK;
    rc = run_transfer(c, call->deadline_ms, &cc, err);
    if (rc)
        goto out;
    if (cc != CURLE_OK) {
        rc = curl_error(c, cc, err);
        goto out;
    }
    long status = 0;
    curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &status);
    reply->status = status;
    reply->json = NULL;
    if (c->len > INT_MAX) {
        c->broken = true;
        rc = gj__error_set(err, GJ_ETOOBIG, "%s: response of %zu bytes is too large to parse",
                           c->hostport, c->len);
        goto out;
    }
    reply->not_json[0] = '\0';
    if (status == 0) {
        /* No HTTP status line: an HTTP/0.9 answer (allowed on plain http://
         * only to see what the server sent). */
        char what[sizeof reply->not_json];
        describe_body(c, NULL, what, sizeof what);
        c->broken = true;
        rc = gj__error_set(err, GJ_EPROTOCOL, "%s: the server did not answer with HTTP but with "
                           "%s%s", c->hostport, what,
                           strcmp(what, "TLS bytes") == 0 ? ": it speaks TLS, use https://" : "");
        goto out;
    }
    if (c->len > 0) {
        json_object *j = NULL;
        enum json_tokener_error je = json_tokener_success;
        size_t used = 0;
        if (parse_body(c, &j, &je, &used)) {
            rc = gj__error_set(err, GJ_ENOMEM, "%s: out of memory", c->hostport);
            goto out;
        }
        if (!j) {
            char *ct = NULL;
            curl_easy_getinfo(c->easy, CURLINFO_CONTENT_TYPE, &ct);
            if (ct && strstr(ct, "json")) {
                c->broken = true;
                rc = gj__error_set(err, GJ_EPROTOCOL,
                                   "%s: HTTP %ld response is not valid JSON (%s at byte %zu)",
                                   c->hostport, status, json_tokener_error_desc(je), used);
                goto out;
            }
            /* Not JSON (a proxy's HTML error page, a login portal): an error
             * status keeps its status and says what came; a success status
             * is not an ArangoDB answer at all, except where any body goes. */
            describe_body(c, ct, reply->not_json, sizeof reply->not_json);
            if (status < 400 && !call->any_body) {
                rc = gj__error_set(err, GJ_EPROTOCOL, "%s: HTTP %ld answered %s %s with %s, not "
                                   "JSON (is this an ArangoDB server?)", c->hostport, status,
                                   call->method, call->path, reply->not_json);
                goto out;
            }
        } else {
            reply->json = j;
        }
    }
out:
    curl_easy_setopt(c->easy, CURLOPT_HTTPHEADER, NULL);
    if (wipe_auth)
        explicit_bzero(auth, strlen(auth));   /* not a dead store to drop */
    return rc;
}

/* POST /_open/auth {username, password} -> c->jwt. */
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
    gj__arango_reply reply = { 0, NULL };
    free(c->jwt);
    c->jwt = NULL;
    int rc = exchange(c, &call, false, &reply, err);
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
    c->jwt = gj__strdup(json_object_get_string(jwt));
    gj__arango_reply_clear(&reply);
    if (!c->jwt)
        return gj__error_set(err, GJ_ENOMEM, "%s: out of memory", c->hostport);
    gj__log(c->log, GJ_LOG_DEBUG, "arango %s: obtained a JWT", c->hostport);
    return 0;
}

int gj__arango_login(gj_conn *c, int64_t deadline_ms, gj_error *err)
{
    return jwt_login(c, deadline_ms, err);
}

static void pause_ms(int64_t ms)
{
    struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
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
            !atomic_load(&c->interrupt_req)) {
            gj__arango_reply_clear(reply);
            retries++;
            gj__log(c->log, GJ_LOG_INFO, "arango %s: HTTP 503 for %s %s, retry %d",
                    c->hostport, call->method, call->path, retries);
            pause_ms(pause);
            pause *= 2;
            continue;
        }
        return 0;
    }
}

/* Sleep up to ms, woken early by interrupt(). */
static void wait_interruptibly(gj_conn *c, int64_t ms)
{
    if (ms > 0 && !atomic_load(&c->interrupt_req))
        curl_multi_poll(c->multi, NULL, 0, (int)ms, NULL);
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
        wait_interruptibly(c, pause < left ? pause : left);
        if (atomic_load(&c->interrupt_req))
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
            atomic_store(&c->interrupt_req, true);
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
