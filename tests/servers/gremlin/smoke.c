/* smoke.c — raw-WebSocket checks of gremlin-refserver's strictness, with the
 * library's own Gremlin codecs and a minimal RFC 6455 client written here
 * (so it can send what no driver sends: fragmented, oversized, undecodable
 * and text frames, unknown mime types, broken requests).  It starts the
 * server several times on port 0 (plain, with SASL, with faults) and stops
 * each with SIGTERM, expecting a clean exit.  The official-driver
 * certification is tests/peers/run-gremlin.sh.
 *
 * usage: gremlin-smoke [SERVER_BINARY]
 *   default: $GREMLIN_REFSERVER, else $GJ_BUILDDIR/tests/servers/gremlin/gremlin-refserver */
#include "codec/gremlin_msg.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int checks, failures;

static void expect(int cond, const char *what)
{
    checks++;
    printf("%s %d - %s\n", cond ? "ok" : "not ok", checks, what);
    if (!cond)
        failures++;
    fflush(stdout);
}

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

/* ---- the server ---- */

typedef struct server {
    pid_t pid;
    int port;
} server;

static const char *server_bin;

static int start_server(server *s, const char *const extra[])
{
    int out[2];
    if (pipe(out) != 0)
        return -1;
    const char *argv[32] = { server_bin, "--port", "0" };
    int argc = 3;
    for (int i = 0; extra && extra[i] && argc < 31; i++)
        argv[argc++] = extra[i];
    argv[argc] = NULL;
    s->pid = fork();
    if (s->pid < 0)
        return -1;
    if (s->pid == 0) {
        dup2(out[1], 1);
        close(out[0]);
        close(out[1]);
        execv(server_bin, (char *const *)argv);
        _exit(127);
    }
    close(out[1]);
    char line[256];
    size_t n = 0;
    struct pollfd p = { out[0], POLLIN, 0 };
    long deadline = now_ms() + 10000;
    while (n < sizeof line - 1 && now_ms() < deadline) {
        if (poll(&p, 1, 100) <= 0)
            continue;
        if (read(out[0], line + n, 1) != 1)
            break;
        if (line[n++] == '\n')
            break;
    }
    line[n] = '\0';
    close(out[0]);
    return sscanf(line, "PORT %d", &s->port) == 1 ? 0 : -1;
}

static int stop_server(server *s)
{
    kill(s->pid, SIGTERM);
    int status = 0;
    for (int i = 0; i < 100; i++) {
        if (waitpid(s->pid, &status, WNOHANG) == s->pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        usleep(100000);
    }
    kill(s->pid, SIGKILL);
    waitpid(s->pid, &status, 0);
    return -1;
}

/* ---- a raw WebSocket client ---- */

typedef struct cli {
    int fd;
    uint8_t in[1 << 16];
    size_t len, pos;
    uint8_t *msg;              /* the last message read */
    size_t msg_len, msg_cap;
    int opcode;                /* 1 text, 2 binary, 8 close */
    int close_code;
    bool closed;               /* the TCP connection ended */
} cli;

static int tcp_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

static int send_all(int fd, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n) {
        ssize_t w = send(fd, b, n, MSG_NOSIGNAL);
        if (w <= 0)
            return -1;
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Read into c->in: >0 bytes, 0 closed, -1 timeout. */
static ssize_t fill(cli *c, int timeout_ms)
{
    if (c->pos < c->len)
        return (ssize_t)(c->len - c->pos);
    struct pollfd p = { c->fd, POLLIN, 0 };
    if (poll(&p, 1, timeout_ms) <= 0)
        return -1;
    ssize_t r = recv(c->fd, c->in, sizeof c->in, 0);
    if (r <= 0) {
        c->closed = true;
        return 0;
    }
    c->len = (size_t)r;
    c->pos = 0;
    return r;
}

static int read_exact(cli *c, void *out, size_t n, long deadline)
{
    uint8_t *o = out;
    while (n) {
        long left = deadline - now_ms();
        if (left <= 0 || fill(c, (int)left) <= 0)
            return -1;
        size_t k = c->len - c->pos < n ? c->len - c->pos : n;
        memcpy(o, c->in + c->pos, k);
        c->pos += k;
        o += k;
        n -= k;
    }
    return 0;
}

/* An HTTP request line + headers; returns the status code (and the
 * connection, upgraded or not, stays in c). */
static int http_request(cli *c, int port, const char *path, bool upgrade)
{
    memset(c, 0, sizeof *c);
    c->fd = tcp_connect(port);
    if (c->fd < 0)
        return -1;
    char req[512];
    snprintf(req, sizeof req,
             "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n%s\r\n", path, port,
             upgrade ? "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                       "Sec-WebSocket-Version: 13\r\n" : "");
    if (send_all(c->fd, req, strlen(req)) != 0)
        return -1;
    char head[4096];
    size_t n = 0;
    long deadline = now_ms() + 5000;
    while (n < sizeof head - 1) {
        if (read_exact(c, head + n, 1, deadline) != 0)
            return -1;
        n++;
        if (n >= 4 && !memcmp(head + n - 4, "\r\n\r\n", 4))
            break;
    }
    head[n] = '\0';
    int status = 0;
    if (sscanf(head, "HTTP/1.%*d %d", &status) != 1)
        return -1;
    if (upgrade && status == 101 && !strstr(head, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="))
        return -2;   /* a wrong Sec-WebSocket-Accept */
    return status;
}

static int ws_open(cli *c, int port)
{
    return http_request(c, port, "/gremlin", true) == 101 ? 0 : -1;
}

static void ws_close(cli *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    free(c->msg);
    c->msg = NULL;
}

/* One masked frame. */
static int ws_send_frame(cli *c, int opcode, bool fin, const void *data, size_t n)
{
    uint8_t h[14];
    size_t hl = 0;
    h[hl++] = (uint8_t)((fin ? 0x80 : 0) | opcode);
    if (n < 126) {
        h[hl++] = (uint8_t)(0x80 | n);
    } else if (n < 65536) {
        h[hl++] = 0x80 | 126;
        h[hl++] = (uint8_t)(n >> 8);
        h[hl++] = (uint8_t)n;
    } else {
        h[hl++] = 0x80 | 127;
        for (int i = 7; i >= 0; i--)
            h[hl++] = (uint8_t)((uint64_t)n >> (8 * i));
    }
    static const uint8_t mask[4] = { 0x12, 0x34, 0x56, 0x78 };
    memcpy(h + hl, mask, 4);
    hl += 4;
    uint8_t *buf = malloc(hl + n);
    if (!buf)
        return -1;
    memcpy(buf, h, hl);
    for (size_t i = 0; i < n; i++)
        buf[hl + i] = ((const uint8_t *)data)[i] ^ mask[i & 3];
    int rc = send_all(c->fd, buf, hl + n);
    free(buf);
    return rc;
}

/* The next data or close message: 1, or 0 when the connection ended without
 * one, -1 on timeout.  Pings are answered. */
static int ws_read(cli *c, int timeout_ms)
{
    long deadline = now_ms() + timeout_ms;
    c->msg_len = 0;
    for (;;) {
        uint8_t h[2];
        if (read_exact(c, h, 2, deadline) != 0)
            return c->closed ? 0 : -1;
        int op = h[0] & 0x0F;
        bool fin = h[0] & 0x80;
        uint64_t n = h[1] & 0x7F;
        uint8_t ext[8];
        if (n == 126) {
            if (read_exact(c, ext, 2, deadline) != 0)
                return c->closed ? 0 : -1;
            n = ((uint64_t)ext[0] << 8) | ext[1];
        } else if (n == 127) {
            if (read_exact(c, ext, 8, deadline) != 0)
                return c->closed ? 0 : -1;
            n = 0;
            for (int i = 0; i < 8; i++)
                n = (n << 8) | ext[i];
        }
        if (c->msg_len + n > c->msg_cap) {
            size_t cap = (size_t)(c->msg_len + n) + 1;
            uint8_t *p = realloc(c->msg, cap);
            if (!p)
                return -1;
            c->msg = p;
            c->msg_cap = cap;
        }
        if (read_exact(c, c->msg + c->msg_len, (size_t)n, deadline) != 0)
            return c->closed ? 0 : -1;
        if (op == 9) {   /* ping: answer, keep reading */
            ws_send_frame(c, 10, true, c->msg + c->msg_len, (size_t)n);
            continue;
        }
        if (op != 0)
            c->opcode = op;
        c->msg_len += (size_t)n;
        if (op == 8) {
            c->close_code = c->msg_len >= 2 ? (c->msg[0] << 8) | c->msg[1] : 1005;
            return 1;
        }
        if (fin)
            return 1;
    }
}

/* ---- Gremlin messages ---- */

static void make_id(uint8_t id[16], unsigned n)
{
    for (int i = 0; i < 16; i++)
        id[i] = (uint8_t)(0x10 + i);
    id[14] = (uint8_t)(n >> 8);
    id[15] = (uint8_t)n;
    id[6] = 0x40 | (id[6] & 0x0F);
    id[8] = 0x80 | (id[8] & 0x3F);
}

static unsigned next_id = 1;

typedef struct req_opts {
    const char *processor;
    const char *op;
    const char *session;
    int32_t batch_size;
    int64_t timeout;
    gj_value *bindings;        /* taken */
    gj_value *aliases;         /* taken; NULL = {"g": "g"} */
    bool no_gremlin;
} req_opts;

/* Send an eval (or another op) request; its id goes to id[16]. */
static int send_request(cli *c, gj_gremlin_format f, const char *script, req_opts o, uint8_t id[16])
{
    gj_gremlin_args a = GJ_GREMLIN_ARGS_INIT;
    a.gremlin = o.no_gremlin ? NULL : script;
    a.language = "gremlin-groovy";
    a.bindings = o.bindings;
    gj_value *aliases = o.aliases;
    if (!aliases) {
        gj_value_new_map(&aliases, 1);
        gj_value_map_put_str(aliases, "g", gj_value_string("g"));
    }
    a.aliases = aliases;
    a.session = o.session;
    a.batch_size = o.batch_size;
    a.evaluation_timeout = o.timeout ? o.timeout : -1;
    gj_gremlin_request r = { .op = o.op ? o.op : "eval", .processor = o.processor ? o.processor : "" };
    make_id(r.request_id, next_id++);
    memcpy(id, r.request_id, 16);
    gj_ps_buf b;
    gj__ps_buf_init(&b, 0);
    int rc = gj__gremlin_args_new(&r.args, &a, NULL);
    if (rc == 0)
        rc = gj__gremlin_request_encode(&b, f, &r, NULL);
    if (rc == 0)
        rc = ws_send_frame(c, 2, true, b.data, b.len);
    gj__ps_buf_free(&b);
    gj_value_unref(r.args);
    gj_value_unref(o.bindings);
    gj_value_unref(aliases);
    return rc;
}

typedef struct resp {
    int code;                  /* 0: no response (closed or timeout) */
    bool has_id;
    uint8_t id[16];
    char message[1024];
    gj_value *attrs, *data;
    size_t bytes;
    int opcode;
} resp;

static void resp_clear(resp *r)
{
    gj_value_unref(r->attrs);
    gj_value_unref(r->data);
    memset(r, 0, sizeof *r);
}

static int read_response(cli *c, gj_gremlin_format f, resp *out, int timeout_ms)
{
    memset(out, 0, sizeof *out);
    if (ws_read(c, timeout_ms) != 1 || c->opcode == 8)
        return -1;
    gj_gremlin_response r;
    if (gj__gremlin_response_decode(&r, f, c->msg, c->msg_len, 0, NULL) != 0)
        return -1;
    out->code = r.status_code;
    out->has_id = r.has_request_id;
    memcpy(out->id, r.request_id, 16);
    const char *m;
    size_t ml;
    if (r.status_message && gj_value_string_get(r.status_message, &m, &ml) == 0)
        snprintf(out->message, sizeof out->message, "%.*s", (int)ml, m);
    out->attrs = gj_value_ref(r.status_attributes);
    out->data = gj_value_ref(r.result_data);
    out->bytes = c->msg_len;
    out->opcode = c->opcode;
    gj__gremlin_response_clear(&r);
    return 0;
}

/* Send a script and read one response. */
static int call(cli *c, gj_gremlin_format f, const char *script, req_opts o, resp *out)
{
    uint8_t id[16];
    if (send_request(c, f, script, o, id) != 0 || read_response(c, f, out, 5000) != 0)
        return -1;
    return memcmp(id, out->id, 16) == 0 ? 0 : -1;
}

static bool int_list_is(const gj_value *data, const int64_t *want, size_t n)
{
    if (gj_value_size(data) != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        int64_t v;
        if (gj_value_int_get(gj_value_list_at(data, i), &v) != 0 || v != want[i])
            return false;
    }
    return true;
}

static bool has_host(const gj_value *attrs)
{
    const char *s;
    size_t n;
    return gj_value_string_get(gj_value_map_get(attrs, "host"), &s, &n) == 0 && !strncmp(s, "/127.0.0.1:", 11);
}

static gj_value *bindings1(const char *k, gj_value *v)
{
    gj_value *m;
    gj_value_new_map(&m, 1);
    gj_value_map_put_str(m, k, v);
    return m;
}

#define NO_OPTS ((req_opts){ 0 })

/* ---- scenarios ---- */

static void http_paths(int port)
{
    cli c;
    expect(http_request(&c, port, "/", false) == 404, "GET / is 404");
    ws_close(&c);
    expect(http_request(&c, port, "/gremlin", false) == 400, "GET /gremlin without an upgrade is 400");
    ws_close(&c);
    expect(http_request(&c, port, "/other", true) == 404, "an upgrade on another path is 404");
    ws_close(&c);
    expect(http_request(&c, port, "/gremlin", true) == 101, "an upgrade on /gremlin is 101 with the right accept key");
    ws_close(&c);
}

static void serializers(int port)
{
    static const gj_gremlin_format formats[] = { GJ_GREMLIN_GRAPHBINARY_V1, GJ_GREMLIN_GRAPHSON_V3,
                                                 GJ_GREMLIN_GRAPHSON_V2 };
    static const char *const names[] = { "GraphBinary", "GraphSON 3.0", "GraphSON 2.0" };
    for (int i = 0; i < 3; i++) {
        cli c;
        resp r;
        char what[160];
        ws_open(&c, port);
        int rc = call(&c, formats[i], "g.V().count()", NO_OPTS, &r);
        snprintf(what, sizeof what, "%s: g.V().count() is [6L] in a binary frame with the host attribute", names[i]);
        expect(rc == 0 && r.code == 200 && r.opcode == 2 && int_list_is(r.data, (int64_t[]){ 6 }, 1) &&
                   gj_value_int_bits(gj_value_list_at(r.data, 0)) == 64 && has_host(r.attrs),
               what);
        resp_clear(&r);
        rc = call(&c, formats[i], "g.V()", (req_opts){ .batch_size = 4 }, &r);
        bool ok = rc == 0 && r.code == 206 && gj_value_size(r.data) == 4 && gj_value_size(r.attrs) == 0;
        resp_clear(&r);
        ok = ok && read_response(&c, formats[i], &r, 5000) == 0 && r.code == 200 && gj_value_size(r.data) == 2 &&
             has_host(r.attrs) && gj_value_type(gj_value_list_at(r.data, 0)) == GJ_TNODE;
        snprintf(what, sizeof what, "%s: g.V() by batchSize 4: 206 (no attributes) then 200 (host)", names[i]);
        expect(ok, what);
        resp_clear(&r);
        rc = call(&c, formats[i], "g.V().hasLabel('nobody')", NO_OPTS, &r);
        snprintf(what, sizeof what, "%s: no results: 204 with the host attribute and null data", names[i]);
        expect(rc == 0 && r.code == 204 && !r.data && has_host(r.attrs), what);
        resp_clear(&r);
        ws_close(&c);
    }
}

static void frames(int port)
{
    cli c;
    resp r;
    uint8_t id[16];
    ws_open(&c, port);
    /* a text frame: GraphSON 3.0 JSON, answered in a text frame */
    const char *json = "{\"requestId\":\"3f0a2b1c-0000-4000-8000-000000000001\",\"op\":\"eval\",\"processor\":\"\","
                       "\"args\":{\"gremlin\":\"g.V(1).values('name')\"}}";
    ws_send_frame(&c, 1, true, json, strlen(json));
    int rc = read_response(&c, GJ_GREMLIN_GRAPHSON_V3, &r, 5000);
    const char *s = NULL;
    size_t n;
    gj_value_string_get(gj_value_list_at(r.data, 0), &s, &n);
    expect(rc == 0 && r.code == 200 && r.opcode == 1 && s && !strcmp(s, "marko"),
           "a text frame (GraphSON 3.0) is answered in a text frame");
    resp_clear(&r);

    /* one request in two frames (a continuation) */
    gj_ps_buf b;
    gj__ps_buf_init(&b, 0);
    gj_gremlin_args a = GJ_GREMLIN_ARGS_INIT;
    a.gremlin = "g.inject(7)";
    gj_gremlin_request q = { .op = "eval", .processor = "" };
    make_id(q.request_id, 999);
    gj__gremlin_args_new(&q.args, &a, NULL);
    gj__gremlin_request_encode(&b, GJ_GREMLIN_GRAPHBINARY_V1, &q, NULL);
    ws_send_frame(&c, 2, false, b.data, 10);
    ws_send_frame(&c, 0, true, b.data + 10, b.len - 10);
    rc = read_response(&c, GJ_GREMLIN_GRAPHBINARY_V1, &r, 5000);
    expect(rc == 0 && r.code == 200 && int_list_is(r.data, (int64_t[]){ 7 }, 1), "a fragmented request is reassembled");
    resp_clear(&r);

    /* an unknown mime type: Gremlin Server falls back to GraphBinary */
    uint8_t *other = malloc(b.len + 20);
    size_t mlen = strlen(GJ_GREMLIN_MIME_GRAPHBINARY_V1);
    const char *unknown = "application/x-unknown";
    other[0] = (uint8_t)strlen(unknown);
    memcpy(other + 1, unknown, strlen(unknown));
    memcpy(other + 1 + strlen(unknown), b.data + 1 + mlen, b.len - 1 - mlen);
    ws_send_frame(&c, 2, true, other, 1 + strlen(unknown) + b.len - 1 - mlen);
    rc = read_response(&c, GJ_GREMLIN_GRAPHBINARY_V1, &r, 5000);
    expect(rc == 0 && r.code == 200, "an unknown mime type with a GraphBinary payload is served as GraphBinary");
    resp_clear(&r);
    free(other);
    gj_value_unref(q.args);
    gj__ps_buf_free(&b);

    /* undecodable requests: 498 without a request id */
    const char garbage[] = "\x21" "application/vnd.gremlin-v3.0+json" "{not json";
    ws_send_frame(&c, 2, true, garbage, sizeof garbage - 1);
    rc = read_response(&c, GJ_GREMLIN_GRAPHSON_V3, &r, 5000);
    expect(rc == 0 && r.code == 498 && !r.has_id && !strncmp(r.message, "Message could not be parsed.", 28),
           "undecodable JSON: 498, null request id");
    resp_clear(&r);
    const char no_id[] = "\x21" "application/vnd.gremlin-v3.0+json" "{\"op\":\"eval\",\"processor\":\"\",\"args\":{}}";
    ws_send_frame(&c, 2, true, no_id, sizeof no_id - 1);
    rc = read_response(&c, GJ_GREMLIN_GRAPHSON_V3, &r, 5000);
    expect(rc == 0 && r.code == 498 && !r.has_id, "a request without requestId: 498");
    resp_clear(&r);
    const uint8_t zero_mime[] = { 0x00, 0x81, 0x00 };
    ws_send_frame(&c, 2, true, zero_mime, sizeof zero_mime);
    rc = read_response(&c, GJ_GREMLIN_GRAPHBINARY_V1, &r, 5000);
    expect(rc == 0 && r.code == 498 && !r.has_id, "a mime length of 0: 498");
    resp_clear(&r);
    rc = call(&c, GJ_GREMLIN_GRAPHBINARY_V1, "g.inject(1)", NO_OPTS, &r);
    expect(rc == 0 && r.code == 200, "the connection still serves requests");
    resp_clear(&r);
    (void)id;
    ws_close(&c);
}

static void expect_error(cli *c, const char *script, req_opts o, int code, const char *prefix, const char *what)
{
    resp r;
    int rc = call(c, GJ_GREMLIN_GRAPHBINARY_V1, script, o, &r);
    char text[1500];
    snprintf(text, sizeof text, "%s: %d \"%s\" (got %d \"%s\")", what, code, prefix, r.code, r.message);
    expect(rc == 0 && r.code == code && !strncmp(r.message, prefix, strlen(prefix)) && !r.data, text);
    resp_clear(&r);
}

static void strictness(int port)
{
    cli c;
    ws_open(&c, port);
    expect_error(&c, "g.V()", (req_opts){ .op = "nope" }, 498, "Message with op code [nope] is not recognized.",
                 "unknown op");
    expect_error(&c, "g.V()", (req_opts){ .processor = "nope" }, 499, "Invalid OpProcessor requested [nope]",
                 "unknown processor");
    expect_error(&c, "g.V()", (req_opts){ .no_gremlin = true }, 499,
                 "A message with an [eval] op code requires a [gremlin] argument.", "no gremlin");
    expect_error(&c, "g.V()", (req_opts){ .processor = "session" }, 499,
                 "A message with an [eval] op code requires a [session] argument", "session eval without a session");
    expect_error(&c, "g.V()", (req_opts){ .processor = "session", .op = "close" }, 499,
                 "A message with an [close] op code requires a [session] argument", "close without a session");
    expect_error(&c, "g.V()", (req_opts){ .processor = "session", .op = "nope", .session = "s" }, 498,
                 "Message with op code [nope] is not recognized.", "unknown session op");
    expect_error(&c, "g.V()", (req_opts){ .processor = "traversal", .op = "eval" }, 498,
                 "Message with op code [eval] is not recognized.", "eval on the traversal processor");
    gj_value *aliases;
    gj_value_new_map(&aliases, 1);
    gj_value_map_put_str(aliases, "g", gj_value_string("h"));
    expect_error(&c, "g.V()", (req_opts){ .aliases = aliases }, 499,
                 "Could not alias [g] to [h] as [h] not in the Graph or TraversalSource global bindings",
                 "an alias to an unknown traversal source");
    expect_error(&c, "g.inject(label)", (req_opts){ .bindings = bindings1("label", gj_value_int(1)) }, 499,
                 "The [eval] message supplies one or more invalid parameters key of [[label]]", "a reserved binding");
    expect_error(&c, "g.V().out()", NO_OPTS, 597, "startup failed:", "a script outside the repertoire");
    expect_error(&c, "g.inject(y)", NO_OPTS, 597, "No such property: y for class: Script1", "an unbound variable");
    expect_error(&c, "throw new Exception('boom')", NO_OPTS, 597, "boom", "a script that throws");
    expect_error(&c, "authentication", (req_opts){ .op = "authentication" }, 498,
                 "Message with op code [authentication] is not recognized.", "authentication without SASL configured");

    resp r;
    int rc = call(&c, GJ_GREMLIN_GRAPHBINARY_V1, "throw new Exception('boom')", NO_OPTS, &r);
    const gj_value *ex = gj_value_map_get(r.attrs, "exceptions");
    const char *s = NULL, *trace = NULL;
    size_t n;
    gj_value_string_get(gj_value_list_at(ex, 0), &s, &n);
    gj_value_string_get(gj_value_map_get(r.attrs, "stackTrace"), &trace, &n);
    expect(rc == 0 && s && !strcmp(s, "java.lang.Exception") && trace && !strncmp(trace, "java.lang.Exception: boom", 25),
           "597 attributes: exceptions and stackTrace");
    resp_clear(&r);

    long t0 = now_ms();
    rc = call(&c, GJ_GREMLIN_GRAPHBINARY_V1, "Thread.sleep(20000)", (req_opts){ .timeout = 100 }, &r);
    long took = now_ms() - t0;
    ex = gj_value_map_get(r.attrs, "exceptions");
    s = NULL;
    gj_value_string_get(gj_value_list_at(ex, 0), &s, &n);
    expect(rc == 0 && r.code == 598 && took >= 90 &&
               !strncmp(r.message, "Evaluation exceeded the configured 'evaluationTimeout' threshold of 100 ms", 70) &&
               s && !strcmp(s, "java.util.concurrent.TimeoutException"),
           "evaluationTimeout 100 ms: 598 TimeoutException");
    resp_clear(&r);

    /* bytecode on the traversal processor: Traversers */
    gj_value *bc = NULL, *inner = NULL, *steps = NULL, *v = NULL, *count = NULL;
    gj_value_new_list(&v, 1);
    gj_value_list_append(v, gj_value_string("V"));
    gj_value_new_list(&count, 1);
    gj_value_list_append(count, gj_value_string("count"));
    gj_value_new_list(&steps, 2);
    gj_value_list_append(steps, v);
    gj_value_list_append(steps, count);
    gj_value_new_map(&inner, 1);
    gj_value_map_put_str(inner, "step", steps);
    gj_value_new_tagged(&bc, "g:Bytecode", inner);
    gj_value *args, *al;
    gj_value_new_map(&args, 2);
    gj_value_map_put_str(args, "gremlin", bc);
    gj_value_new_map(&al, 1);
    gj_value_map_put_str(al, "g", gj_value_string("g"));
    gj_value_map_put_str(args, "aliases", al);
    gj_gremlin_request q = { .op = "bytecode", .processor = "traversal", .args = args };
    make_id(q.request_id, 4242);
    gj_ps_buf b;
    gj__ps_buf_init(&b, 0);
    gj__gremlin_request_encode(&b, GJ_GREMLIN_GRAPHBINARY_V1, &q, NULL);
    ws_send_frame(&c, 2, true, b.data, b.len);
    rc = read_response(&c, GJ_GREMLIN_GRAPHBINARY_V1, &r, 5000);
    const char *tag = NULL;
    const gj_value *tin = NULL;
    int64_t bulk = 0, value = 0;
    gj_value_tagged_get(gj_value_list_at(r.data, 0), &tag, &tin);
    gj_value_int_get(gj_value_map_get(tin, "bulk"), &bulk);
    gj_value_int_get(gj_value_map_get(tin, "value"), &value);
    expect(rc == 0 && r.code == 200 && tag && !strcmp(tag, "g:Traverser") && bulk == 1 && value == 6,
           "bytecode V().count(): a Traverser {bulk 1, value 6}");
    resp_clear(&r);
    gj__ps_buf_free(&b);
    gj_value_unref(args);
    ws_close(&c);
}

static void sessions(int port)
{
    cli c, other;
    resp r;
    ws_open(&c, port);
    ws_open(&other, port);
    req_opts s = { .processor = "session", .session = "5e5510a0-0000-4000-8000-000000000001" };
    int rc = call(&c, GJ_GREMLIN_GRAPHBINARY_V1, "x = 41", s, &r);
    resp_clear(&r);
    rc |= call(&c, GJ_GREMLIN_GRAPHBINARY_V1, "x", s, &r);
    expect(rc == 0 && r.code == 200 && int_list_is(r.data, (int64_t[]){ 41 }, 1), "a session keeps its variables");
    resp_clear(&r);
    rc = call(&other, GJ_GREMLIN_GRAPHBINARY_V1, "x", s, &r);
    expect(rc == 0 && r.code == 500 && strstr(r.message, "is not bound to the connecting client"),
           "the session from another connection: 500");
    resp_clear(&r);

    /* in order: a slow request first, a fast one after it */
    uint8_t id1[16], id2[16];
    send_request(&c, GJ_GREMLIN_GRAPHBINARY_V1, "Thread.sleep(300)", s, id1);
    send_request(&c, GJ_GREMLIN_GRAPHBINARY_V1, "g.inject(2)", s, id2);
    rc = read_response(&c, GJ_GREMLIN_GRAPHBINARY_V1, &r, 5000);
    bool first = rc == 0 && !memcmp(r.id, id1, 16);
    resp_clear(&r);
    rc = read_response(&c, GJ_GREMLIN_GRAPHBINARY_V1, &r, 5000);
    expect(first && rc == 0 && !memcmp(r.id, id2, 16), "a session runs its requests in order");
    resp_clear(&r);
    /* outside a session the fast one overtakes */
    send_request(&c, GJ_GREMLIN_GRAPHBINARY_V1, "Thread.sleep(300)", NO_OPTS, id1);
    send_request(&c, GJ_GREMLIN_GRAPHBINARY_V1, "g.inject(2)", NO_OPTS, id2);
    rc = read_response(&c, GJ_GREMLIN_GRAPHBINARY_V1, &r, 5000);
    first = rc == 0 && !memcmp(r.id, id2, 16);
    resp_clear(&r);
    rc = read_response(&c, GJ_GREMLIN_GRAPHBINARY_V1, &r, 5000);
    expect(first && rc == 0 && !memcmp(r.id, id1, 16), "sessionless requests run concurrently");
    resp_clear(&r);

    /* a connection that goes away while its requests sleep: their timers go with it */
    ws_close(&other);
    ws_open(&other, port);
    send_request(&other, GJ_GREMLIN_GRAPHBINARY_V1, "Thread.sleep(200)", s, id1);
    send_request(&other, GJ_GREMLIN_GRAPHBINARY_V1, "Thread.sleep(200)", NO_OPTS, id2);
    usleep(50000);
    ws_close(&other);
    usleep(400000);
    ws_open(&other, port);
    rc = call(&other, GJ_GREMLIN_GRAPHBINARY_V1, "g.inject(3)", NO_OPTS, &r);
    expect(rc == 0 && r.code == 200, "requests sleeping on a closed connection are dropped; the server goes on");
    resp_clear(&r);

    req_opts close_op = s;
    close_op.op = "close";
    rc = call(&c, GJ_GREMLIN_GRAPHBINARY_V1, "", close_op, &r);
    expect(rc == 0 && r.code == 204 && gj_value_size(r.attrs) == 0, "op close: 204");
    resp_clear(&r);
    rc = call(&other, GJ_GREMLIN_GRAPHBINARY_V1, "x", s, &r);
    expect(rc == 0 && r.code == 597, "after close, another connection may open the session anew");
    resp_clear(&r);
    ws_close(&other);
    usleep(100000);
    rc = call(&c, GJ_GREMLIN_GRAPHBINARY_V1, "x", s, &r);
    expect(rc == 0 && r.code == 597, "the session died with the connection that held it");
    resp_clear(&r);
    ws_close(&c);
}

static void content_length(void)
{
    server srv;
    const char *const args[] = { "--max-content-length", "4096", NULL };
    if (start_server(&srv, args) != 0) {
        expect(0, "start the server with --max-content-length 4096");
        return;
    }
    cli c;
    resp r;
    ws_open(&c, srv.port);
    char big[5000];
    memset(big, 'a', sizeof big);
    ws_send_frame(&c, 2, true, big, sizeof big);
    int rc = ws_read(&c, 5000);
    expect(rc == 1 && c.opcode == 8 && c.close_code == 1009 && c.msg_len > 2 &&
               !memcmp(c.msg + 2, "Max frame length of 4096 has been exceeded.", 43),
           "a 5000-byte frame over --max-content-length 4096: close 1009");
    ws_close(&c);
    ws_open(&c, srv.port);
    rc = call(&c, GJ_GREMLIN_GRAPHBINARY_V1, "g.V().count()", NO_OPTS, &r);
    expect(rc == 0 && r.code == 200, "a small request is fine");
    resp_clear(&r);
    ws_close(&c);
    expect(stop_server(&srv) == 0, "SIGTERM: clean exit");
}

static gj_value *sasl_args(const char *b64)
{
    gj_value *m;
    gj_value_new_map(&m, 2);
    gj_value_map_put_str(m, "sasl", gj_value_string(b64));
    gj_value_map_put_str(m, "saslMechanism", gj_value_string("PLAIN"));
    return m;
}

static int send_auth(cli *c, const uint8_t id[16], const char *b64)
{
    gj_gremlin_request q = { .op = "authentication", .processor = "", .args = sasl_args(b64) };
    memcpy(q.request_id, id, 16);
    gj_ps_buf b;
    gj__ps_buf_init(&b, 0);
    int rc = gj__gremlin_request_encode(&b, GJ_GREMLIN_GRAPHBINARY_V1, &q, NULL);
    if (rc == 0)
        rc = ws_send_frame(c, 2, true, b.data, b.len);
    gj__ps_buf_free(&b);
    gj_value_unref(q.args);
    return rc;
}

static void sasl(void)
{
    server srv;
    const char *const args[] = { "--user", "stephen", "--password", "password", NULL };
    if (start_server(&srv, args) != 0) {
        expect(0, "start the server with --user/--password");
        return;
    }
    /* base64("\0stephen\0password") and a wrong password */
    const char *good = "AHN0ZXBoZW4AcGFzc3dvcmQ=", *bad = "AHN0ZXBoZW4Ad3Jvbmc=";
    cli c;
    resp r;
    uint8_t id[16], id2[16];
    ws_open(&c, srv.port);
    send_request(&c, GJ_GREMLIN_GRAPHBINARY_V1, "g.V().count()", NO_OPTS, id);
    int rc = read_response(&c, GJ_GREMLIN_GRAPHBINARY_V1, &r, 5000);
    expect(rc == 0 && r.code == 407 && !memcmp(r.id, id, 16) && !r.data && gj_value_size(r.attrs) == 0,
           "the first request is challenged: 407, same id, no data");
    resp_clear(&r);
    send_auth(&c, id, bad);
    rc = read_response(&c, GJ_GREMLIN_GRAPHBINARY_V1, &r, 5000);
    expect(rc == 0 && r.code == 401 && !memcmp(r.id, id, 16) && !strcmp(r.message, "Username and/or password are incorrect"),
           "a wrong password: 401 for the challenged request");
    resp_clear(&r);
    ws_close(&c);

    ws_open(&c, srv.port);
    send_request(&c, GJ_GREMLIN_GRAPHBINARY_V1, "g.V().count()", NO_OPTS, id);
    rc = read_response(&c, GJ_GREMLIN_GRAPHBINARY_V1, &r, 5000);
    resp_clear(&r);
    send_request(&c, GJ_GREMLIN_GRAPHBINARY_V1, "g.inject(5)", NO_OPTS, id2);   /* waits for the authentication */
    send_auth(&c, id, good);
    rc = read_response(&c, GJ_GREMLIN_GRAPHBINARY_V1, &r, 5000);
    expect(rc == 0 && r.code == 200 && !memcmp(r.id, id, 16) && int_list_is(r.data, (int64_t[]){ 6 }, 1),
           "the right password: the challenged request's results");
    resp_clear(&r);
    rc = read_response(&c, GJ_GREMLIN_GRAPHBINARY_V1, &r, 5000);
    expect(rc == 0 && r.code == 200 && !memcmp(r.id, id2, 16) && int_list_is(r.data, (int64_t[]){ 5 }, 1),
           "a request sent during the negotiation runs after it");
    resp_clear(&r);
    rc = call(&c, GJ_GREMLIN_GRAPHBINARY_V1, "g.inject(9)", NO_OPTS, &r);
    expect(rc == 0 && r.code == 200, "the connection stays authenticated");
    resp_clear(&r);
    ws_close(&c);

    ws_open(&c, srv.port);
    send_request(&c, GJ_GREMLIN_GRAPHBINARY_V1, "g.V().count()", NO_OPTS, id);
    read_response(&c, GJ_GREMLIN_GRAPHBINARY_V1, &r, 5000);
    resp_clear(&r);
    gj_gremlin_request q = { .op = "authentication", .processor = "" };
    gj_value_new_map(&q.args, 1);
    memcpy(q.request_id, id, 16);
    gj_ps_buf b;
    gj__ps_buf_init(&b, 0);
    gj__gremlin_request_encode(&b, GJ_GREMLIN_GRAPHBINARY_V1, &q, NULL);
    ws_send_frame(&c, 2, true, b.data, b.len);
    gj__ps_buf_free(&b);
    gj_value_unref(q.args);
    rc = read_response(&c, GJ_GREMLIN_GRAPHBINARY_V1, &r, 5000);
    expect(rc == 0 && r.code == 401 && !strcmp(r.message, "Failed to authenticate"), "authentication without sasl: 401");
    resp_clear(&r);
    ws_close(&c);
    expect(stop_server(&srv) == 0, "SIGTERM: clean exit (SASL server)");
}

static void faults(void)
{
    server srv;
    const char *const args[] = { "--fault", "drop:after=2,count=1", "--fault", "stall:script=g.E()", "--fault",
                                 "stall:secs=0.3,script=g.inject(3)", "--fault",
                                 "oversized:bytes=200000,script=g.inject('big')", "--fault",
                                 "pace:ms=100,script=hasLabel('person')", NULL };
    if (start_server(&srv, args) != 0) {
        expect(0, "start the server with faults");
        return;
    }
    cli c;
    resp r;
    uint8_t id[16];
    ws_open(&c, srv.port);
    send_request(&c, GJ_GREMLIN_GRAPHBINARY_V1, "g.V()", (req_opts){ .batch_size = 1 }, id);
    int frames = 0;
    while (read_response(&c, GJ_GREMLIN_GRAPHBINARY_V1, &r, 5000) == 0) {
        frames++;
        resp_clear(&r);
    }
    expect(frames == 2 && c.closed && c.opcode != 8, "drop:after=2: two 206 frames, then the TCP connection ends");
    ws_close(&c);

    ws_open(&c, srv.port);
    uint8_t stalled[16];
    send_request(&c, GJ_GREMLIN_GRAPHBINARY_V1, "g.E()", NO_OPTS, stalled);
    int rc = call(&c, GJ_GREMLIN_GRAPHBINARY_V1, "g.V().count()", NO_OPTS, &r);
    expect(rc == 0 && r.code == 200, "drop count=1: the next connection is fine; a stalled request does not block it");
    resp_clear(&r);
    rc = read_response(&c, GJ_GREMLIN_GRAPHBINARY_V1, &r, 500);
    expect(rc != 0, "stall: the stalled request gets no answer");
    resp_clear(&r);
    long t0 = now_ms();
    rc = call(&c, GJ_GREMLIN_GRAPHBINARY_V1, "g.inject(3)", NO_OPTS, &r);
    expect(rc == 0 && r.code == 200 && now_ms() - t0 >= 250, "stall:secs=0.3: answered after the stall");
    resp_clear(&r);
    rc = call(&c, GJ_GREMLIN_GRAPHBINARY_V1, "g.inject('big')", NO_OPTS, &r);
    expect(rc == 0 && r.code == 200 && r.bytes > 200000, "oversized: one frame larger than 200000 bytes");
    resp_clear(&r);
    t0 = now_ms();
    rc = call(&c, GJ_GREMLIN_GRAPHBINARY_V1, "g.V().hasLabel('person')", (req_opts){ .batch_size = 1 }, &r);
    bool ok = rc == 0 && r.code == 206;
    resp_clear(&r);
    int codes[3] = { 0 };
    for (int i = 0; i < 3 && read_response(&c, GJ_GREMLIN_GRAPHBINARY_V1, &r, 5000) == 0; i++) {
        codes[i] = r.code;
        resp_clear(&r);
    }
    expect(ok && codes[0] == 206 && codes[1] == 206 && codes[2] == 200 && now_ms() - t0 >= 280,
           "pace:ms=100: four frames (206 206 206 200) 100 ms apart");
    send_request(&c, GJ_GREMLIN_GRAPHBINARY_V1, "g.V().hasLabel('person')", (req_opts){ .batch_size = 1 }, stalled);
    read_response(&c, GJ_GREMLIN_GRAPHBINARY_V1, &r, 5000);   /* the first frame, then close mid-stream */
    resp_clear(&r);
    ws_close(&c);
    expect(stop_server(&srv) == 0, "SIGTERM with a stalled request pending: clean exit");
}

int main(int argc, char **argv)
{
    static char path[4096];
    const char *env = getenv("GREMLIN_REFSERVER");
    if (argc > 1)
        server_bin = argv[1];
    else if (env)
        server_bin = env;
    else {
        snprintf(path, sizeof path, "%s/tests/servers/gremlin/gremlin-refserver",
                 getenv("GJ_BUILDDIR") ? getenv("GJ_BUILDDIR") : ".");
        server_bin = path;
    }
    signal(SIGPIPE, SIG_IGN);
    server srv;
    if (start_server(&srv, NULL) != 0) {
        printf("Bail out! cannot start %s\n", server_bin);
        return 99;
    }
    http_paths(srv.port);
    serializers(srv.port);
    frames(srv.port);
    strictness(srv.port);
    sessions(srv.port);
    expect(stop_server(&srv) == 0, "SIGTERM: clean exit");
    content_length();
    sasl();
    faults();
    printf("1..%d\n", checks);
    printf("# %d passed, %d failed\n", checks - failures, failures);
    return failures ? 1 : 0;
}
