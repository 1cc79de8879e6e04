/* http.c — the HTTP modes of hostile-server: a small HTTP/1.1 server, one
 * blocking thread per connection, keep-alive, Content-Length bodies (a
 * chunked request body is refused with 501), `Expect: 100-continue` honoured.
 * Paths may carry ArangoDB's /_db/{name} prefix; it is stripped before the
 * route is chosen and before the request is logged ("DELETE /_api/cursor/42").
 *
 *   http-endless-cursor  GET /_api/version -> 200; POST /_api/cursor -> 201
 *                        {"result": [rows], "hasMore": true, "id": "42", ...};
 *                        POST or PUT /_api/cursor/42 -> 200 the same, forever;
 *                        DELETE /_api/cursor/42 -> 202; anything else -> 404
 *                        with an ArangoDB error body
 *   http-html            every request -> --status, text/html, a "Login" page
 *   http-silent          GET /_api/version -> 200 (unless --silent-all); the
 *                        first other request is read and never answered (the
 *                        connection is then only read until the client closes)
 *
 * The cursor batch (--batch-bytes of rows, each a 1021-character string) is
 * built once per process and shared, so memory stays bounded. */
#include "hostile.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define HEADER_MAX 65536
#define BODY_MAX ((size_t)64 << 20)
#define ROW_CHARS 1021u   /* "rrr...", = 1024 bytes of JSON per row */

static const char VERSION_BODY[] = "{\"server\":\"arango\",\"version\":\"3.12.4\",\"license\":\"community\"}";
static const char HTML_BODY[] =
    "<!DOCTYPE html><html><head><title>Login</title><meta charset=\"utf-8\"></head>"
    "<body><h1>Login</h1><p>Please sign in to continue.</p>"
    "<form method=\"post\" action=\"/login\"><input name=\"user\"><input name=\"password\" type=\"password\">"
    "<button>Sign in</button></form></body></html>\n";

/* ---- the shared cursor batch ---- */

static pthread_once_t batch_once = PTHREAD_ONCE_INIT;
static const hs_config *batch_cfg;
static char *batch_first, *batch_next;   /* 201 and 200 bodies */
static size_t batch_first_len, batch_next_len;

static char *build_batch(size_t batch_bytes, int code, size_t *len)
{
    size_t row_chars = batch_bytes >= 1024 ? ROW_CHARS : (batch_bytes > 3 ? batch_bytes - 3 : 1);
    size_t rows = batch_bytes >= 1024 ? batch_bytes / 1024 : 1;
    char tail[128];
    int tail_len = snprintf(tail, sizeof tail,
                            "],\"hasMore\":true,\"id\":\"42\",\"cached\":false,\"error\":false,\"code\":%d}", code);
    size_t cap = 16 + rows * (row_chars + 3) + (size_t)tail_len + 1;
    char *b = malloc(cap);
    if (!b)
        abort();
    size_t n = 0;
    memcpy(b, "{\"result\":[", 11);
    n = 11;
    for (size_t i = 0; i < rows; i++) {
        if (i)
            b[n++] = ',';
        b[n++] = '"';
        memset(b + n, 'r', row_chars);
        n += row_chars;
        b[n++] = '"';
    }
    memcpy(b + n, tail, (size_t)tail_len);
    n += (size_t)tail_len;
    b[n] = 0;
    *len = n;
    return b;
}

static void build_batches(void)
{
    batch_first = build_batch(batch_cfg->batch_bytes, 201, &batch_first_len);
    batch_next = build_batch(batch_cfg->batch_bytes, 200, &batch_next_len);
}

/* ---- I/O ---- */

static int send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w > 0) {
            p += w;
            n -= (size_t)w;
        } else if (w < 0 && errno == EINTR) {
            continue;
        } else {
            return -1;
        }
    }
    return 0;
}

static const char *reason(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 413: return "Payload Too Large";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Status";
    }
}

static int respond(int fd, int status, const char *ctype, const char *body, size_t len, bool keep_alive)
{
    char head[512];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\nServer: ArangoDB\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                     "Connection: %s\r\n\r\n",
                     status, reason(status), ctype, len, keep_alive ? "Keep-Alive" : "Close");
    if (send_all(fd, head, (size_t)n) != 0)
        return -1;
    return len ? send_all(fd, body, len) : 0;
}

static int respond_json(int fd, int status, const char *body, bool keep_alive)
{
    return respond(fd, status, "application/json; charset=utf-8", body, strlen(body), keep_alive);
}

static int respond_error(int fd, int status, int error_num, const char *message, bool keep_alive)
{
    char body[1400];
    snprintf(body, sizeof body, "{\"error\":true,\"errorNum\":%d,\"errorMessage\":\"%s\",\"code\":%d}",
             error_num, message, status);
    return respond_json(fd, status, body, keep_alive);
}

/* ---- requests ---- */

typedef struct http_req {
    char method[16];
    char path[2048];          /* without /_db/{name} and without the query */
    size_t content_length;
    bool keep_alive;
    bool expect_continue;
    bool chunked;
} http_req;

static bool header_is(const char *line, size_t len, const char *name, const char **value)
{
    size_t n = strlen(name);
    if (len <= n || strncasecmp(line, name, n) != 0 || line[n] != ':')
        return false;
    const char *v = line + n + 1;
    while (*v == ' ' || *v == '\t')
        v++;
    *value = v;
    return true;
}

/* Parse the head (NUL-terminated, without the final blank line).  0 / -1. */
static int parse_head(char *head, http_req *r)
{
    memset(r, 0, sizeof *r);
    char *eol = strstr(head, "\r\n");
    if (eol)
        *eol = 0;
    char target[2048], version[16];
    if (sscanf(head, "%15s %2047s %15s", r->method, target, version) != 3)
        return -1;
    r->keep_alive = strcmp(version, "HTTP/1.0") != 0;
    char *q = strchr(target, '?');
    if (q)
        *q = 0;
    const char *p = target;
    if (strncmp(p, "/_db/", 5) == 0) {
        const char *slash = strchr(p + 5, '/');
        p = slash ? slash : "/";
    }
    snprintf(r->path, sizeof r->path, "%s", p);
    for (char *line = eol ? eol + 2 : NULL; line && *line;) {
        char *next = strstr(line, "\r\n");
        size_t len = next ? (size_t)(next - line) : strlen(line);
        const char *v;
        if (header_is(line, len, "Content-Length", &v))
            r->content_length = strtoull(v, NULL, 10);
        else if (header_is(line, len, "Connection", &v))
            r->keep_alive = strncasecmp(v, "close", 5) != 0 &&
                            (r->keep_alive || strncasecmp(v, "keep-alive", 10) == 0);
        else if (header_is(line, len, "Expect", &v))
            r->expect_continue = strncasecmp(v, "100-continue", 12) == 0;
        else if (header_is(line, len, "Transfer-Encoding", &v))
            r->chunked = strncasecmp(v, "chunked", 7) == 0;
        line = next ? next + 2 : NULL;
    }
    return 0;
}

/* Answer one request: 0 = go on, -1 = close, 1 = never answer again. */
static int route(const hs_config *cfg, int fd, long id, const http_req *r)
{
    bool ka = r->keep_alive;
    switch (cfg->mode) {
    case HS_HTTP_HTML:
        return respond(fd, cfg->status, "text/html; charset=utf-8", HTML_BODY, sizeof HTML_BODY - 1, ka);
    case HS_HTTP_SILENT:
        if (!cfg->silent_all && !strcmp(r->method, "GET") && !strcmp(r->path, "/_api/version"))
            return respond_json(fd, 200, VERSION_BODY, ka);
        hs_log(cfg, id, "not answering %s %s", r->method, r->path);
        return 1;
    default:
        break;
    }
    if (!strcmp(r->method, "GET") && !strcmp(r->path, "/_api/version"))
        return respond_json(fd, 200, VERSION_BODY, ka);
    if (!strcmp(r->method, "POST") && !strcmp(r->path, "/_api/cursor"))
        return respond(fd, 201, "application/json; charset=utf-8", batch_first, batch_first_len, ka);
    if (!strncmp(r->path, "/_api/cursor/", 13)) {
        bool ours = !strcmp(r->path + 13, "42");
        if (ours && (!strcmp(r->method, "POST") || !strcmp(r->method, "PUT")))
            return respond(fd, 200, "application/json; charset=utf-8", batch_next, batch_next_len, ka);
        if (ours && !strcmp(r->method, "DELETE"))
            return respond_json(fd, 202, "{\"id\":\"42\",\"error\":false,\"code\":202}", ka);
        return respond_error(fd, 404, 1600, "cursor not found", ka);
    }
    char msg[1100];
    snprintf(msg, sizeof msg, "unknown path '%.1000s'", r->path);
    for (char *c = msg; *c; c++)
        if (*c == '"' || *c == '\\' || (unsigned char)*c < 0x20)
            *c = '?';
    return respond_error(fd, 404, 404, msg, ka);
}

/* Read and drop n body bytes: the first `have` of them are in buf. */
static int skip_body(int fd, size_t n, size_t have)
{
    char sink[16384];
    while (have < n) {
        size_t want = n - have < sizeof sink ? n - have : sizeof sink;
        ssize_t r = recv(fd, sink, want, 0);
        if (r > 0)
            have += (size_t)r;
        else if (r < 0 && errno == EINTR)
            continue;
        else
            return -1;
    }
    return 0;
}

static void drain_until_eof(int fd)
{
    char sink[4096];
    for (;;) {
        ssize_t r = recv(fd, sink, sizeof sink, 0);
        if (r > 0 || (r < 0 && errno == EINTR))
            continue;
        return;
    }
}

void hs_http_serve(const hs_config *cfg, int fd, long conn_id)
{
    if (cfg->mode == HS_HTTP_ENDLESS_CURSOR) {
        batch_cfg = cfg;
        pthread_once(&batch_once, build_batches);
    }
    char *buf = malloc(HEADER_MAX + 1);
    if (!buf)
        return;
    size_t have = 0;
    for (;;) {
        /* The head: up to the blank line. */
        char *end = NULL;
        while (!(end = have >= 4 ? memmem(buf, have, "\r\n\r\n", 4) : NULL)) {
            if (have == HEADER_MAX) {
                respond_error(fd, 431, 400, "request head too large", false);
                goto out;
            }
            ssize_t r = recv(fd, buf + have, HEADER_MAX - have, 0);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                goto out;
            have += (size_t)r;
        }
        size_t head_len = (size_t)(end - buf) + 4;
        buf[head_len - 2] = 0;   /* keep the last header's CRLF, cut the blank line */
        http_req r;
        if (parse_head(buf, &r) != 0) {
            respond_error(fd, 400, 400, "bad request line", false);
            goto out;
        }
        hs_log(cfg, conn_id, "%s %s", r.method, r.path);
        if (r.chunked) {
            respond_error(fd, 501, 501, "chunked request bodies are not supported here", false);
            goto out;
        }
        if (r.content_length > BODY_MAX) {
            respond_error(fd, 413, 413, "request body too large", false);
            goto out;
        }
        if (r.expect_continue && cfg->mode != HS_HTTP_SILENT &&
            send_all(fd, "HTTP/1.1 100 Continue\r\n\r\n", 25) != 0)
            goto out;
        /* The body: what is buffered already, then the rest from the socket. */
        size_t rest = have - head_len;
        size_t in_buf = rest < r.content_length ? rest : r.content_length;
        if (skip_body(fd, r.content_length, in_buf) != 0)
            goto out;
        memmove(buf, buf + head_len + in_buf, rest - in_buf);
        have = rest - in_buf;
        int rc = route(cfg, fd, conn_id, &r);
        if (rc == 1) {
            drain_until_eof(fd);
            goto out;
        }
        if (rc != 0 || !r.keep_alive)
            goto out;
    }
out:
    free(buf);
}
