/*
 * HTTP on one reused libcurl easy handle (http.h).
 */
#include "transport/http.h"

#include <ctype.h>
#include <curl/curl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* How long one curl_multi_poll waits at most (interrupts wake it at once). */
#define POLL_SLICE_MS 1000
/* Most header lines a request sends (constant ones + its own). */
#define MAX_HEADERS (24 + GJ__HTTP_MAX_FIXED)
/* Room for a request's URL path on the stack; longer ones are allocated. */
#define PATH_STACK 512
/* Longest user name, password or token accepted for a header. */
#define MAX_CREDENTIAL 4096

struct gj_http {
    CURL *easy;
    CURLM *multi;
    CURLU *url;                  /* base_url parsed once; a request sets path and query */
    bool url_stale;              /* base_url changed: parse it again */
    char *last_path;             /* the path and query h->url holds now (a request
                                  * repeating it sets nothing) */
    char *base_url;
    char *name;
    char *username, *password;   /* copies; wiped when freed */
    char *bearer;
    char *auth_line;             /* "Authorization: ..." built once (wiped when freed) */
    char *accept_line;           /* "Accept: ..." */
    char *ctype_line;            /* "Content-Type: ..." */
    struct curl_slist fixed[2 + GJ__HTTP_MAX_FIXED];  /* Accept, Authorization, the
                                  * configured extra lines: linked after a request's own */
    size_t n_fixed;
    char **extra_lines;          /* copies of the configured extra lines */
    size_t n_extra;
    char *cookie;                /* the connection's cookies ("a=1; b=2"), or NULL */

    int (*on_body)(void *arg, const char *data, size_t len);   /* this request's, or NULL */
    void *on_body_arg;
    int body_rc;                 /* what on_body returned to stop the transfer */
    size_t max_body;
    bool plain;                  /* http:// */

    char *buf;                   /* the reply body (NUL-terminated) */
    size_t len, cap;
    bool too_big;
    char errbuf[CURL_ERROR_SIZE];

    void (*header_fn)(void *arg, const char *line, size_t len);
    void *header_arg;
    const gj_abort *abort;
    atomic_bool interrupt_req;
    bool broken;
};

struct gj_http_share {
    CURLSH *sh;
    pthread_mutex_t mu[CURL_LOCK_DATA_LAST];
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_result = CURLE_OK;

/* The one process-wide initialisation libcurl needs (refcounted by curl
 * itself from 7.84; done once here). */
static void curl_init(void)
{
    curl_init_result = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void share_lock(CURL *e, curl_lock_data data, curl_lock_access access, void *arg)
{
    (void)e;
    (void)access;
    gj_http_share *sh = arg;
    if ((int)data >= 0 && data < CURL_LOCK_DATA_LAST)
        pthread_mutex_lock(&sh->mu[data]);
}

static void share_unlock(CURL *e, curl_lock_data data, void *arg)
{
    (void)e;
    gj_http_share *sh = arg;
    if ((int)data >= 0 && data < CURL_LOCK_DATA_LAST)
        pthread_mutex_unlock(&sh->mu[data]);
}

int gj__http_share_new(gj_http_share **out, bool cookies, gj_error *err)
{
    *out = NULL;
    pthread_once(&curl_once, curl_init);
    if (curl_init_result != CURLE_OK)
        return gj__error_set(err, GJ_ENOMEM, "curl_global_init failed: %s",
                             curl_easy_strerror(curl_init_result));
    gj_http_share *sh = calloc(1, sizeof *sh);
    if (!sh)
        return gj__error_set(err, GJ_ENOMEM, "out of memory for a curl share");
    int made = 0;
    while (made < CURL_LOCK_DATA_LAST && pthread_mutex_init(&sh->mu[made], NULL) == 0)
        made++;
    if (made < CURL_LOCK_DATA_LAST || !(sh->sh = curl_share_init())) {
        while (made-- > 0)
            pthread_mutex_destroy(&sh->mu[made]);
        free(sh);
        return gj__error_set(err, GJ_ENOMEM, "out of memory for a curl share");
    }
    CURLSHcode sc = curl_share_setopt(sh->sh, CURLSHOPT_LOCKFUNC, share_lock);
    if (sc == CURLSHE_OK)
        sc = curl_share_setopt(sh->sh, CURLSHOPT_UNLOCKFUNC, share_unlock);
    if (sc == CURLSHE_OK)
        sc = curl_share_setopt(sh->sh, CURLSHOPT_USERDATA, sh);
    if (sc == CURLSHE_OK)
        sc = curl_share_setopt(sh->sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    if (sc == CURLSHE_OK)
        sc = curl_share_setopt(sh->sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    if (sc == CURLSHE_OK && cookies)
        sc = curl_share_setopt(sh->sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_COOKIE);
    if (sc != CURLSHE_OK) {
        gj__http_share_free(sh);
        return gj__error_set(err, GJ_ENOMEM, "cannot set up a curl share: %s",
                             curl_share_strerror(sc));
    }
    *out = sh;
    return 0;
}

void gj__http_share_free(gj_http_share *sh)
{
    if (!sh)
        return;
    curl_share_cleanup(sh->sh);
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
        pthread_mutex_destroy(&sh->mu[i]);
    free(sh);
}

static void wipe_free(char *s)
{
    if (s) {
        explicit_bzero(s, strlen(s));
        free(s);
    }
}

static size_t on_write(char *data, size_t size, size_t nmemb, void *payload)
{
    gj_http *h = payload;
    size_t n = size * nmemb;
    if (h->on_body) {
        int rc = h->on_body(h->on_body_arg, data, n);
        if (rc) {
            h->body_rc = rc;
            return 0;   /* CURLE_WRITE_ERROR */
        }
        return n;
    }
    if (n > h->max_body - h->len) {
        h->too_big = true;
        return 0;   /* CURLE_WRITE_ERROR */
    }
    if (h->len + n + 1 > h->cap) {
        size_t cap = h->cap ? h->cap : 4096;
        while (cap < h->len + n + 1)
            cap *= 2;
        char *p = realloc(h->buf, cap);
        if (!p)
            return 0;
        h->buf = p;
        h->cap = cap;
    }
    memcpy(h->buf + h->len, data, n);
    h->len += n;
    h->buf[h->len] = '\0';
    return n;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *payload)
{
    gj_http *h = payload;
    size_t n = size * nmemb;
    if (h->header_fn)
        h->header_fn(h->header_arg, data, n);
    return n;
}

/* "Authorization: Basic " + base64(username ":" password), the very line
 * curl would build for CURLAUTH_BASIC, made once per connection. */
static char *basic_line(const char *user, const char *pw)
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    static const char prefix[] = "Authorization: Basic ";
    size_t ul = strlen(user), pl = strlen(pw), n = ul + 1 + pl;
    if (ul > MAX_CREDENTIAL || pl > MAX_CREDENTIAL)
        return NULL;
    char *out = malloc(sizeof prefix + (n + 2) / 3 * 4 + 1);
    if (!out)
        return NULL;
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
    return out;
}

/* The constant header list: Accept, then Authorization. */
static int build_fixed(gj_http *h)
{
    wipe_free(h->auth_line);
    h->auth_line = NULL;
    if (h->bearer) {
        size_t n = strlen(h->bearer) + 32;
        if (strlen(h->bearer) > MAX_CREDENTIAL || strpbrk(h->bearer, "\r\n"))
            return GJ_EINVAL;
        if (!(h->auth_line = malloc(n)))
            return GJ_ENOMEM;
        snprintf(h->auth_line, n, "Authorization: Bearer %s", h->bearer);
    } else if (h->username) {
        if (!(h->auth_line = basic_line(h->username, h->password ? h->password : "")))
            return GJ_ENOMEM;
    }
    h->n_fixed = 0;
    if (h->accept_line)
        h->fixed[h->n_fixed++] = (struct curl_slist){ h->accept_line, NULL };
    if (h->auth_line)
        h->fixed[h->n_fixed++] = (struct curl_slist){ h->auth_line, NULL };
    for (size_t i = 0; i < h->n_extra; i++)
        h->fixed[h->n_fixed++] = (struct curl_slist){ h->extra_lines[i], NULL };
    for (size_t i = 0; i + 1 < h->n_fixed; i++)
        h->fixed[i].next = &h->fixed[i + 1];
    return 0;
}

static char *header_line(const char *name, const char *value)
{
    if (!value)
        return NULL;
    size_t n = strlen(name) + strlen(value) + 3;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "%s: %s", name, value);
    return s;
}

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int gj__http_new(gj_http **out, const gj_http_config *cfg, gj_error *err)
{
    *out = NULL;
    pthread_once(&curl_once, curl_init);
    if (curl_init_result != CURLE_OK)
        return gj__error_set(err, GJ_ENOMEM, "curl_global_init failed: %s",
                             curl_easy_strerror(curl_init_result));
    gj_http *h = calloc(1, sizeof *h);
    if (!h)
        return gj__error_set(err, GJ_ENOMEM, "%s: out of memory", cfg->name);
    atomic_init(&h->interrupt_req, false);
    h->max_body = cfg->max_body ? cfg->max_body : (size_t)64 << 20;
    h->plain = strncmp(cfg->base_url, "http://", 7) == 0;
    h->url_stale = true;
    int rc = 0;
    if (!(h->name = gj__strdup(cfg->name)) || !(h->base_url = gj__strdup(cfg->base_url)) ||
        (cfg->username && !(h->username = gj__strdup(cfg->username))) ||
        (cfg->password && !(h->password = gj__strdup(cfg->password))) ||
        (cfg->bearer && !(h->bearer = gj__strdup(cfg->bearer))) ||
        (cfg->accept && !(h->accept_line = header_line("Accept", cfg->accept))) ||
        (cfg->content_type && !(h->ctype_line = header_line("Content-Type", cfg->content_type))))
        rc = GJ_ENOMEM;
    if (!rc && cfg->n_headers > GJ__HTTP_MAX_FIXED)
        rc = GJ_EINVAL;
    if (!rc && cfg->n_headers) {
        if (!(h->extra_lines = calloc(cfg->n_headers, sizeof *h->extra_lines)))
            rc = GJ_ENOMEM;
        for (size_t i = 0; !rc && i < cfg->n_headers; i++) {
            if (strpbrk(cfg->headers[i], "\r\n") || !strchr(cfg->headers[i], ':'))
                rc = GJ_EINVAL;
            else if (!(h->extra_lines[h->n_extra++] = gj__strdup(cfg->headers[i])))
                rc = GJ_ENOMEM;
        }
    }
    if (!rc && cfg->cookie && !(h->cookie = gj__strdup(cfg->cookie)))
        rc = GJ_ENOMEM;
    if (!rc)
        rc = build_fixed(h);
    if (rc) {
        gj__http_free(h);
        return gj__error_set(err, rc, rc == GJ_ENOMEM ? "%s: out of memory"
                                                      : "%s: unusable credentials", cfg->name);
    }
    h->easy = curl_easy_init();
    h->multi = curl_multi_init();
    h->url = curl_url();
    if (!h->easy || !h->multi || !h->url) {
        gj__http_free(h);
        return gj__error_set(err, GJ_ENOMEM, "cannot create a curl handle for %s", cfg->name);
    }
    CURL *e = h->easy;
    CURLcode cc = CURLE_OK;
#define SET(opt, val) do { if (cc == CURLE_OK) cc = curl_easy_setopt(e, opt, val); } while (0)
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_TCP_KEEPALIVE, 1L);
    SET(CURLOPT_CONNECTTIMEOUT_MS, (long)(cfg->connect_timeout_ms > 0 ? cfg->connect_timeout_ms : 0));
    SET(CURLOPT_WRITEFUNCTION, on_write);
    SET(CURLOPT_WRITEDATA, h);
    SET(CURLOPT_HEADERFUNCTION, on_header);
    SET(CURLOPT_HEADERDATA, h);
    SET(CURLOPT_FOLLOWLOCATION, 0L);
    /* The URL as a handle: curl skips parsing the whole URL per request. */
    SET(CURLOPT_CURLU, h->url);
    /* curl's detail of a failure (which certificate check failed, ...). */
    SET(CURLOPT_ERRORBUFFER, h->errbuf);
#if LIBCURL_VERSION_NUM >= 0x075500
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
#endif
    SET(CURLOPT_HTTP_VERSION, cfg->http2 ? (long)CURL_HTTP_VERSION_2TLS : (long)CURL_HTTP_VERSION_1_1);
    if (cfg->compressed)
        SET(CURLOPT_ACCEPT_ENCODING, "gzip, deflate");
    /* libcurl looks for a proxy in the environment on every transfer; when
     * none is set now, say so once (the environment is read here, at
     * connect, instead). */
    if (!getenv("http_proxy") && !getenv("https_proxy") && !getenv("HTTPS_PROXY") &&
        !getenv("all_proxy") && !getenv("ALL_PROXY"))
        SET(CURLOPT_PROXY, "");
    if (cfg->unix_socket)
        SET(CURLOPT_UNIX_SOCKET_PATH, cfg->unix_socket);
    if (cfg->share)
        SET(CURLOPT_SHARE, cfg->share->sh);
    if (cfg->cookies)
        SET(CURLOPT_COOKIEFILE, "");   /* the cookie engine, reading no file */
    if (h->cookie)
        SET(CURLOPT_COOKIE, h->cookie);
    if (h->plain) {
        /* Without a status line, take what came anyway, to say what it was
         * (TLS bytes at a plain http:// URL): the caller fails it. */
        SET(CURLOPT_HTTP09_ALLOWED, 1L);
    } else {
        SET(CURLOPT_SSL_VERIFYPEER, cfg->verify ? 1L : 0L);
        SET(CURLOPT_SSL_VERIFYHOST, cfg->verify ? 2L : 0L);
        if (cfg->ca)
            SET(is_dir(cfg->ca) ? CURLOPT_CAPATH : CURLOPT_CAINFO, cfg->ca);
        if (cfg->certfile)
            SET(CURLOPT_SSLCERT, cfg->certfile);
        if (cfg->keyfile)
            SET(CURLOPT_SSLKEY, cfg->keyfile);
        if (cfg->key_password)
            SET(CURLOPT_KEYPASSWD, cfg->key_password);
    }
#undef SET
    if (cc != CURLE_OK) {
        gj__http_free(h);
        return gj__error_set(err, cc == CURLE_OUT_OF_MEMORY ? GJ_ENOMEM : GJ_ECONFIG,
                             "cannot configure the connection to %s: %s", cfg->name,
                             curl_easy_strerror(cc));
    }
    *out = h;
    return 0;
}

void gj__http_free(gj_http *h)
{
    if (!h)
        return;
    if (h->multi)
        curl_multi_cleanup(h->multi);
    if (h->easy)
        curl_easy_cleanup(h->easy);
    if (h->url)
        curl_url_cleanup(h->url);
    wipe_free(h->password);
    wipe_free(h->bearer);
    wipe_free(h->auth_line);
    for (size_t i = 0; i < h->n_extra; i++)
        wipe_free(h->extra_lines[i]);   /* may hold a token */
    free(h->extra_lines);
    wipe_free(h->cookie);
    free(h->username);
    free(h->accept_line);
    free(h->ctype_line);
    free(h->base_url);
    free(h->name);
    free(h->buf);
    free(h->last_path);
    free(h);
}

int gj__http_set_base(gj_http *h, const char *base_url, const char *name, gj_error *err)
{
    char *b = gj__strdup(base_url), *n = gj__strdup(name);
    if (!b || !n) {
        free(b);
        free(n);
        return gj__error_set(err, GJ_ENOMEM, "%s: out of memory", h->name);
    }
    free(h->base_url);
    free(h->name);
    h->base_url = b;
    h->name = n;
    h->url_stale = true;
    return 0;
}

int gj__http_set_bearer(gj_http *h, const char *token, gj_error *err)
{
    char *t = NULL;
    if (token && !(t = gj__strdup(token)))
        return gj__error_set(err, GJ_ENOMEM, "%s: out of memory", h->name);
    wipe_free(h->bearer);
    h->bearer = t;
    int rc = build_fixed(h);
    return rc ? gj__error_set(err, rc, "%s: cannot use the token", h->name) : 0;
}

void gj__http_set_header_fn(gj_http *h, void (*fn)(void *arg, const char *line, size_t len),
                            void *arg)
{
    h->header_fn = fn;
    h->header_arg = arg;
}

void gj__http_set_abort(gj_http *h, const gj_abort *abort)
{
    h->abort = abort;
}

void gj__http_interrupt(gj_http *h)
{
    atomic_store(&h->interrupt_req, true);
    curl_multi_wakeup(h->multi);
}

bool gj__http_take_interrupt(gj_http *h)
{
    return atomic_exchange(&h->interrupt_req, false);
}

bool gj__http_interrupt_pending(gj_http *h)
{
    return atomic_load(&h->interrupt_req);
}

void gj__http_restore_interrupt(gj_http *h)
{
    atomic_store(&h->interrupt_req, true);
}

void gj__http_pause(gj_http *h, int64_t ms)
{
    if (ms > 0 && !atomic_load(&h->interrupt_req))
        curl_multi_poll(h->multi, NULL, 0, ms > INT_MAX ? INT_MAX : (int)ms, NULL);
}

bool gj__http_broken(const gj_http *h)
{
    return h->broken;
}

void gj__http_mark_broken(gj_http *h)
{
    h->broken = true;
}

bool gj__http_plain(const gj_http *h)
{
    return h->plain;
}

const char *gj__http_name(const gj_http *h)
{
    return h->name;
}

char *gj__http_escape(gj_http *h, const char *s, size_t len)
{
    if (len > INT_MAX)
        return NULL;
    char *e = curl_easy_escape(h->easy, s, (int)len);
    if (!e)
        return NULL;
    char *copy = gj__strdup(e);
    curl_free(e);
    return copy;
}

void gj__http_trim(gj_http *h, size_t keep)
{
    if (h->cap > keep) {
        free(h->buf);
        h->buf = NULL;
        h->cap = 0;
        h->len = 0;
    }
}

void gj__http_describe_body(const char *body, size_t n, const char *ct, char *out, size_t cap)
{
    const unsigned char *b = (const unsigned char *)body;
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
    snprintf(out, cap, "%s: \"%s%s\"", html ? "an HTML page" : "text", excerpt,
             n - skip > k ? "..." : "");
}

/* ---- one exchange ---------------------------------------------------------------- */

/* Drive the transfer set up on h->easy.  Every pass looks at the interrupt,
 * the abort and the deadline, whether data is flowing or not. */
static int run_transfer(gj_http *h, int64_t deadline_ms, CURLcode *result, gj_error *err)
{
    CURLMcode mc = curl_multi_add_handle(h->multi, h->easy);
    if (mc != CURLM_OK)
        return gj__error_set(err, GJ_EIO, "%s: cannot start the request: %s", h->name,
                             curl_multi_strerror(mc));
    int rc = 0;
    bool done = false;
    h->errbuf[0] = '\0';
    for (;;) {
        if (atomic_load(&h->interrupt_req)) {
            rc = gj__error_set(err, GJ_ECANCELLED, "%s: request interrupted", h->name);
            break;
        }
        int arc = gj__abort_check(h->abort);
        if (arc) {
            rc = gj__error_set(err, arc, "%s: %s", h->name, gj__abort_reason(arc));
            break;
        }
        if (deadline_ms != INT64_MAX && gj__now_ms() >= deadline_ms) {
            rc = gj__error_set(err, GJ_ETIMEDOUT, "%s: no response within the timeout", h->name);
            break;
        }
        int running = 0;
        mc = curl_multi_perform(h->multi, &running);
        if (mc != CURLM_OK) {
            rc = gj__error_set(err, GJ_EIO, "%s: %s", h->name, curl_multi_strerror(mc));
            break;
        }
        int queued = 0;
        CURLMsg *m;
        while ((m = curl_multi_info_read(h->multi, &queued)) != NULL) {
            if (m->msg == CURLMSG_DONE && m->easy_handle == h->easy) {
                *result = m->data.result;
                done = true;
            }
        }
        if (done)
            break;
        int64_t wait = POLL_SLICE_MS;
        if (deadline_ms != INT64_MAX) {
            int64_t left = deadline_ms - gj__now_ms();
            if (left < wait)
                wait = left > 0 ? left : 0;
        }
        struct pollfd pf[2];
        int npf = gj__abort_pollfds(h->abort, pf);
        struct curl_waitfd wf[2];
        for (int i = 0; i < npf; i++)
            wf[i] = (struct curl_waitfd){ pf[i].fd, CURL_WAIT_POLLIN, 0 };
        mc = curl_multi_poll(h->multi, npf ? wf : NULL, (unsigned)npf, (int)wait, NULL);
        if (mc != CURLM_OK) {
            rc = gj__error_set(err, GJ_EIO, "%s: %s", h->name, curl_multi_strerror(mc));
            break;
        }
        if (npf && !gj__abort_check(h->abort))
            gj__abort_drain(h->abort);
    }
    /* Removing an unfinished transfer closes its connection. */
    curl_multi_remove_handle(h->multi, h->easy);
    if (rc)
        h->broken = true;
    return rc;
}

/* curl's own detail of the failure (its error buffer), else the code's text. */
static const char *curl_detail(gj_http *h, CURLcode cc)
{
    size_t n = strlen(h->errbuf);
    while (n && (h->errbuf[n - 1] == '\n' || h->errbuf[n - 1] == '\r'))
        h->errbuf[--n] = '\0';
    return n ? h->errbuf : curl_easy_strerror(cc);
}

static int curl_error(gj_http *h, CURLcode cc, gj_error *err)
{
    h->broken = true;
    switch (cc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
        return gj__error_set(err, GJ_ECONNECT, "cannot connect to %s: %s", h->name,
                             curl_detail(h, cc));
    case CURLE_OPERATION_TIMEDOUT:
        return gj__error_set(err, GJ_ETIMEDOUT, "%s: %s", h->name, curl_detail(h, cc));
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_CRL_BADFILE:
        return gj__error_set(err, GJ_ETLS, "TLS with %s failed: %s", h->name, curl_detail(h, cc));
    case CURLE_GOT_NOTHING:
    case CURLE_RECV_ERROR: {
        /* A TLS alert from the server (TLS 1.3 sends a refused client
         * certificate as one, after the client's side of the handshake) is
         * a TLS failure, not a broken connection. */
        const char *detail = curl_detail(h, cc);
        if (!h->plain && strstr(detail, " alert ") && !strstr(detail, "close notify"))
            return gj__error_set(err, GJ_ETLS, "TLS with %s failed: the server sent an alert: %s%s",
                                 h->name, detail,
                                 strstr(detail, "certificate required")
                                     ? " (the server wants a client certificate: ssl_certfile "
                                       "and ssl_keyfile)"
                                     : "");
        if (h->plain)
            return gj__error_set(err, GJ_EIO, "%s: %s (if the server speaks TLS on that port, "
                                 "use https://)", h->name, detail);
        return gj__error_set(err, GJ_EIO, "%s: connection failed mid-request: %s", h->name,
                             detail);
    }
    case CURLE_WRITE_ERROR:
        if (h->body_rc)
            return h->body_rc;   /* on_body stopped it (and filled err) */
        if (h->too_big)
            return gj__error_set(err, GJ_ETOOBIG, "%s: response larger than max_message_size "
                                 "(%zu bytes)", h->name, h->max_body);
        return gj__error_set(err, GJ_ENOMEM, "%s: out of memory for the response", h->name);
    case CURLE_OUT_OF_MEMORY:
        return gj__error_set(err, GJ_ENOMEM, "%s: out of memory", h->name);
    default:
        return gj__error_set(err, GJ_EIO, "%s: connection failed mid-request: %s", h->name,
                             curl_detail(h, cc));
    }
}

static const char *url_error(CURLUcode uc)
{
#if LIBCURL_VERSION_NUM >= 0x075000
    return curl_url_strerror(uc);
#else
    return uc == CURLUE_OUT_OF_MEMORY ? "out of memory" : "malformed URL";
#endif
}

/* Point h->url at the request's path and query (the base is parsed once,
 * and a path the last request had already is not set again). */
static int set_url(gj_http *h, const gj_http_request *rq, gj_error *err)
{
    if (!h->url_stale && h->last_path && strcmp(h->last_path, rq->path) == 0)
        return 0;
    free(h->last_path);
    h->last_path = NULL;
    char stack[PATH_STACK];
    size_t n = strlen(rq->path);
    char *path = n < sizeof stack ? stack : malloc(n + 1);
    if (!path)
        return gj__error_set(err, GJ_ENOMEM, "%s: out of memory for a URL", h->name);
    memcpy(path, rq->path, n + 1);
    CURLUcode uc = CURLUE_OK;
    if (h->url_stale) {
        uc = curl_url_set(h->url, CURLUPART_URL, h->base_url, 0);
        h->url_stale = uc != CURLUE_OK;
    }
    char *query = strchr(path, '?');
    if (query)
        *query++ = '\0';
    if (uc == CURLUE_OK)
        uc = curl_url_set(h->url, CURLUPART_PATH, path, 0);
    if (uc == CURLUE_OK)
        uc = curl_url_set(h->url, CURLUPART_QUERY, query, 0);
    if (path != stack)
        free(path);
    if (uc != CURLUE_OK)
        return gj__error_set(err, uc == CURLUE_OUT_OF_MEMORY ? GJ_ENOMEM : GJ_EINVAL,
                             "%s: cannot use the URL of %s %s: %s", h->name, rq->method, rq->path,
                             url_error(uc));
    h->last_path = gj__strdup(rq->path);   /* without memory: set again next time */
    return 0;
}

/* The length of a header line's name (up to its ':'). */
static size_t header_name_len(const char *line)
{
    const char *colon = strchr(line, ':');
    return colon ? (size_t)(colon - line) : strlen(line);
}

/* Does the request give a line named like fixed line f (or its own Accept)? */
static bool overridden(const gj_http_request *rq, const char *f, bool accept_line)
{
    if (accept_line && rq->accept)
        return true;
    size_t fl = header_name_len(f);
    for (size_t i = 0; i < rq->n_headers; i++) {
        const char *r = rq->headers[i];
        if (header_name_len(r) == fl && strncasecmp(r, f, fl) == 0)
            return true;
    }
    return false;
}

/* Build the request's multipart/form-data body. */
static int build_mime(gj_http *h, const gj_http_request *rq, curl_mime **out, gj_error *err)
{
    curl_mime *mime = curl_mime_init(h->easy);
    if (!mime)
        return gj__error_set(err, GJ_ENOMEM, "%s: out of memory for a form", h->name);
    for (size_t i = 0; i < rq->n_parts; i++) {
        const gj_http_part *p = &rq->parts[i];
        curl_mimepart *part = curl_mime_addpart(mime);
        CURLcode cc = part ? curl_mime_name(part, p->name) : CURLE_OUT_OF_MEMORY;
        if (cc == CURLE_OK)
            cc = p->path ? curl_mime_filedata(part, p->path)
                         : curl_mime_data(part, p->data ? p->data : "", p->len);
        if (cc == CURLE_OK && p->filename)   /* a path announces its base name */
            cc = curl_mime_filename(part, p->filename);
        if (cc == CURLE_OK && p->content_type)
            cc = curl_mime_type(part, p->content_type);
        if (cc != CURLE_OK) {
            curl_mime_free(mime);
            if (cc == CURLE_READ_ERROR)
                return gj__error_set(err, GJ_EINVAL, "%s: cannot read the file %s of form field "
                                     "%s", h->name, p->path ? p->path : "", p->name);
            return gj__error_set(err, cc == CURLE_OUT_OF_MEMORY ? GJ_ENOMEM : GJ_EINVAL,
                                 "%s: form field %s: %s", h->name, p->name,
                                 curl_easy_strerror(cc));
        }
    }
    *out = mime;
    return 0;
}

int gj__http_perform(gj_http *h, const gj_http_request *rq, gj_http_response *resp,
                     gj_error *err)
{
    memset(resp, 0, sizeof *resp);
    int rc = set_url(h, rq, err);
    if (rc)
        return rc;
    if (rq->n_headers + 4 + h->n_fixed > MAX_HEADERS)
        return gj__error_set(err, GJ_EINVAL, "%s: too many request headers", h->name);
    /* The request's own header lines on the stack, linked in front of the
     * constant ones: nothing is allocated per request. */
    struct curl_slist hv[MAX_HEADERS];
    char accept[512];
    size_t nh = 0;
    for (size_t i = 0; i < rq->n_headers; i++)
        hv[nh++] = (struct curl_slist){ (char *)rq->headers[i], NULL };
    if (rq->accept) {
        if (strlen(rq->accept) + 9 > sizeof accept || strpbrk(rq->accept, "\r\n"))
            return gj__error_set(err, GJ_EINVAL, "%s: bad Accept value", h->name);
        snprintf(accept, sizeof accept, "Accept: %s", rq->accept);
        hv[nh++] = (struct curl_slist){ accept, NULL };
    }
    /* No "Expect: 100-continue" round trip for a large body. */
    if ((rq->body && rq->body_len > 1024) || rq->n_parts)
        hv[nh++] = (struct curl_slist){ (char *)"Expect:", NULL };
    if (rq->body && h->ctype_line && !rq->n_parts && !overridden(rq, h->ctype_line, false))
        hv[nh++] = (struct curl_slist){ h->ctype_line, NULL };
    struct curl_slist *fixed = h->n_fixed ? &h->fixed[0] : NULL;
    if (rq->n_headers || rq->accept) {
        /* A line of the request replaces the constant line of that name:
         * link the constant lines that stay one by one. */
        for (size_t i = 0; i < h->n_fixed; i++)
            if (!overridden(rq, h->fixed[i].data, h->fixed[i].data == h->accept_line))
                hv[nh++] = (struct curl_slist){ h->fixed[i].data, NULL };
        fixed = NULL;
    }
    for (size_t i = 0; i + 1 < nh; i++)
        hv[i].next = &hv[i + 1];
    if (nh)
        hv[nh - 1].next = fixed;
    curl_easy_setopt(h->easy, CURLOPT_HTTPHEADER, nh ? &hv[0] : fixed);

    curl_mime *mime = NULL;
    if (rq->n_parts && (rc = build_mime(h, rq, &mime, err)) != 0) {
        curl_easy_setopt(h->easy, CURLOPT_HTTPHEADER, NULL);
        return rc;
    }
    bool is_get = strcmp(rq->method, "GET") == 0, is_post = strcmp(rq->method, "POST") == 0;
    if (mime) {
        curl_easy_setopt(h->easy, CURLOPT_MIMEPOST, mime);
    } else if (rq->body || is_post || strcmp(rq->method, "PUT") == 0 ||
               strcmp(rq->method, "PATCH") == 0) {
        curl_easy_setopt(h->easy, CURLOPT_POSTFIELDSIZE_LARGE,
                         (curl_off_t)(rq->body ? rq->body_len : 0));
        curl_easy_setopt(h->easy, CURLOPT_POSTFIELDS, rq->body ? rq->body : "");
    } else {
        curl_easy_setopt(h->easy, CURLOPT_HTTPGET, 1L);
    }
    curl_easy_setopt(h->easy, CURLOPT_CUSTOMREQUEST, is_get || is_post ? NULL : rq->method);
    char *cookie = NULL;
    if (rq->cookie) {
        size_t n = strlen(rq->cookie) + (h->cookie ? strlen(h->cookie) + 2 : 0) + 1;
        if (!(cookie = malloc(n))) {
            curl_easy_setopt(h->easy, CURLOPT_HTTPHEADER, NULL);
            if (mime) {
                curl_easy_setopt(h->easy, CURLOPT_MIMEPOST, NULL);
                curl_mime_free(mime);
            }
            return gj__error_set(err, GJ_ENOMEM, "%s: out of memory", h->name);
        }
        snprintf(cookie, n, "%s%s%s", h->cookie ? h->cookie : "", h->cookie ? "; " : "",
                 rq->cookie);
        curl_easy_setopt(h->easy, CURLOPT_COOKIE, cookie);
    }
    h->len = 0;
    h->too_big = false;
    h->on_body = rq->on_body;
    h->on_body_arg = rq->on_body_arg;
    h->body_rc = 0;
    if (h->buf)
        h->buf[0] = '\0';
    CURLcode cc = CURLE_OK;
    rc = run_transfer(h, rq->deadline_ms, &cc, err);
    if (!rc && cc != CURLE_OK)
        rc = curl_error(h, cc, err);
    curl_easy_setopt(h->easy, CURLOPT_HTTPHEADER, NULL);
    h->on_body = NULL;
    h->on_body_arg = NULL;
    if (mime) {
        curl_easy_setopt(h->easy, CURLOPT_MIMEPOST, NULL);
        curl_mime_free(mime);
    }
    if (cookie) {
        curl_easy_setopt(h->easy, CURLOPT_COOKIE, h->cookie);
        free(cookie);
    }
    if (rc)
        return rc;
    curl_easy_getinfo(h->easy, CURLINFO_RESPONSE_CODE, &resp->status);
    char *ct = NULL;
    curl_easy_getinfo(h->easy, CURLINFO_CONTENT_TYPE, &ct);
    resp->content_type = ct;
    resp->body = h->buf ? h->buf : "";
    resp->len = h->len;
    return 0;
}

long gj__http_status(gj_http *h, const char **content_type)
{
    long status = 0;
    char *ct = NULL;
    curl_easy_getinfo(h->easy, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(h->easy, CURLINFO_CONTENT_TYPE, &ct);
    if (content_type)
        *content_type = ct;
    return status;
}
