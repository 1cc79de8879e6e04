/* smoke.c — raw-Bolt checks of bolt-refserver's strictness, with the
 * library's own codec: handshakes (legacy, manifest, no common version,
 * not Bolt), the state machine (message in the wrong state -> FAILURE, then
 * IGNORED until RESET), pipelining, RESET jumping the queue, PULL n /
 * has_more, malformed input, 4.4 with the utc patch, GOODBYE.  Starts the
 * server on port 0 and stops it with SIGTERM (clean exit expected).  The
 * official-driver certification is run-neo4j-check.sh.
 *
 * usage: bolt-smoke [SERVER_BINARY]
 *   default: $BOLT_REFSERVER, else $GJ_BUILDDIR/tests/servers/bolt/bolt-refserver */
#include "codec/bolt_handshake.h"
#include "codec/bolt_msg.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
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

static pid_t server_pid;

static int start_server(const char *bin, char *const extra[], int *port)
{
    int out[2];
    if (pipe(out) != 0)
        return -1;
    static char opt_port[] = "--port", zero[] = "0";
    char *argv[32] = { (char *)bin, opt_port, zero };
    int argc = 3;
    for (int i = 0; extra && extra[i] && argc < 31; i++)
        argv[argc++] = extra[i];
    argv[argc] = NULL;
    server_pid = fork();
    if (server_pid < 0)
        return -1;
    if (server_pid == 0) {
        dup2(out[1], 1);
        close(out[0]);
        close(out[1]);
        execv(bin, argv);
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
    return sscanf(line, "PORT %d", port) == 1 ? 0 : -1;
}

static int stop_server(void)
{
    kill(server_pid, SIGTERM);
    int status = 0;
    for (int i = 0; i < 100; i++) {
        if (waitpid(server_pid, &status, WNOHANG) == server_pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        usleep(100000);
    }
    kill(server_pid, SIGKILL);
    waitpid(server_pid, &status, 0);
    return -1;
}

/* ---- a raw client ---- */

typedef struct cli {
    int fd;
    gj_dechunker d;
    gj_ps_config ps;
    uint8_t in[65536];
    size_t len, pos;
    gj_ps_buf out;
} cli;

static int cli_open(cli *c, int port)
{
    memset(c, 0, sizeof *c);
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&a, sizeof a) != 0)
        return -1;
    gj__dechunk_init(&c->d, 1 << 24);
    gj__ps_buf_init(&c->out, 0);
    c->ps.bolt_major = 5;
    return 0;
}

static void cli_close(cli *c)
{
    close(c->fd);
    gj__dechunk_free(&c->d);
    gj__ps_buf_free(&c->out);
}

static int cli_write(cli *c, const void *p, size_t n)
{
    return send(c->fd, p, n, MSG_NOSIGNAL) == (ssize_t)n ? 0 : -1;
}

static int cli_flush(cli *c)
{
    int rc = cli_write(c, c->out.data, c->out.len);
    gj__ps_buf_reset(&c->out);
    return rc;
}

/* Read raw bytes: >0, 0 = closed, -1 = timeout. */
static ssize_t cli_read_raw(cli *c, void *buf, size_t n, int timeout_ms)
{
    struct pollfd p = { c->fd, POLLIN, 0 };
    if (poll(&p, 1, timeout_ms) <= 0)
        return -1;
    ssize_t r = recv(c->fd, buf, n, 0);
    return r < 0 ? 0 : r;
}

static int cli_read_exact(cli *c, uint8_t *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        if (c->pos < c->len) {
            buf[got++] = c->in[c->pos++];
            continue;
        }
        ssize_t r = cli_read_raw(c, c->in, sizeof c->in, 5000);
        if (r <= 0)
            return -1;
        c->len = (size_t)r;
        c->pos = 0;
    }
    return 0;
}

/* Handshake with four proposals; returns the server's reply word or -1 (closed). */
static long cli_handshake(cli *c, uint32_t p0, uint32_t p1, uint32_t p2, uint32_t p3)
{
    uint8_t hs[20];
    uint32_t props[4] = { p0, p1, p2, p3 };
    gj__bolt_handshake_request(hs, props);
    if (cli_write(c, hs, sizeof hs) != 0)
        return -1;
    uint8_t r[4];
    if (cli_read_exact(c, r, 4) != 0)
        return -1;
    uint32_t w = ((uint32_t)r[0] << 24) | ((uint32_t)r[1] << 16) | ((uint32_t)r[2] << 8) | r[3];
    if (w && w != GJ_BOLT_MANIFEST_V1) {
        c->ps.bolt_major = w & 0xFF;
        c->ps.bolt_minor = (w >> 8) & 0xFF;
    }
    return (long)w;
}

/* Next response: 1 with *m, 0 = connection closed, -1 = timeout / bad message. */
static int cli_recv(cli *c, gj_bolt_msg *m, int timeout_ms)
{
    long deadline = now_ms() + timeout_ms;
    for (;;) {
        while (c->pos < c->len) {
            size_t used;
            int rc = gj__dechunk_feed(&c->d, c->in + c->pos, c->len - c->pos, &used, NULL);
            c->pos += used;
            if (rc < 0)
                return -1;
            if (rc == 1) {
                const uint8_t *msg;
                size_t mlen;
                gj__dechunk_message(&c->d, &msg, &mlen);
                return gj__bolt_msg_decode(m, msg, mlen, &c->ps, GJ_BOLT_RESPONSE, NULL) == 0 ? 1 : -1;
            }
        }
        long left = deadline - now_ms();
        if (left <= 0)
            return -1;
        ssize_t r = cli_read_raw(c, c->in, sizeof c->in, (int)left);
        if (r < 0)
            return -1;
        if (r == 0)
            return 0;
        c->len = (size_t)r;
        c->pos = 0;
    }
}

/* Expect the next response to be `tag`; returns its metadata (new ref) or NULL. */
static gj_value *want(cli *c, uint8_t tag, const char *what)
{
    gj_bolt_msg m;
    int rc = cli_recv(c, &m, 5000);
    char text[256];
    snprintf(text, sizeof text, "%s: %s (got %s)", what, gj__bolt_msg_name(tag, GJ_BOLT_RESPONSE),
             rc == 1 ? gj__bolt_msg_name(m.tag, GJ_BOLT_RESPONSE) : rc == 0 ? "close" : "nothing");
    expect(rc == 1 && m.tag == tag, text);
    if (rc != 1)
        return NULL;
    gj_value *v = m.n_fields ? gj_value_ref(m.fields[0]) : gj_value_null();
    gj__bolt_msg_clear(&m);
    return v;
}

static void want_close(cli *c, const char *what)
{
    gj_bolt_msg m;
    int rc = cli_recv(c, &m, 5000);
    if (rc == 1)
        gj__bolt_msg_clear(&m);
    expect(rc == 0, what);
}

static bool meta_str_is(const gj_value *meta, const char *key, const char *value)
{
    const char *s;
    size_t n;
    return gj__bolt_meta_string(meta, key, &s, &n) == 0 && strlen(value) == n && !memcmp(s, value, n);
}

static gj_value *map1(const char *k, gj_value *v)
{
    gj_value *m;
    gj_value_new_map(&m, 4);
    if (k)
        gj_value_map_put_str(m, k, v);
    return m;
}

static void send_hello(cli *c, bool with_auth)
{
    gj_value *h = map1("user_agent", gj_value_string("bolt-smoke/1.0"));
    gj_value *agent = map1("product", gj_value_string("bolt-smoke/1.0"));
    gj_value_map_put_str(h, "bolt_agent", agent);
    if (with_auth) {
        gj_value_map_put_str(h, "scheme", gj_value_string("basic"));
        gj_value_map_put_str(h, "principal", gj_value_string("neo4j"));
        gj_value_map_put_str(h, "credentials", gj_value_string("password"));
        gj_value *patch;
        gj_value_new_list(&patch, 1);
        gj_value_list_append(patch, gj_value_string("utc"));
        gj_value_map_put_str(h, "patch_bolt", patch);
    }
    gj__bolt_write_map(&c->out, &c->ps, GJ_BOLT_HELLO, h, NULL);
    gj_value_unref(h);
}

static void send_logon(cli *c, const char *password)
{
    gj_value *a = map1("scheme", gj_value_string("basic"));
    gj_value_map_put_str(a, "principal", gj_value_string("neo4j"));
    gj_value_map_put_str(a, "credentials", gj_value_string(password));
    gj__bolt_write_map(&c->out, &c->ps, GJ_BOLT_LOGON, a, NULL);
    gj_value_unref(a);
}

static void send_run(cli *c, const char *q, gj_value *params)
{
    gj__bolt_write_run(&c->out, &c->ps, q, strlen(q), params, NULL, NULL);
    gj_value_unref(params);
}

/* Connect, negotiate 5.8 (legacy), HELLO + LOGON. */
static int ready_58(cli *c, int port)
{
    if (cli_open(c, port) != 0 || cli_handshake(c, 0x00080805, 0x00000404, 0, 0) != 0x00000805)
        return -1;
    send_hello(c, false);
    send_logon(c, "password");
    cli_flush(c);
    gj_value *h = want(c, GJ_BOLT_SUCCESS, "HELLO");
    gj_value *l = want(c, GJ_BOLT_SUCCESS, "LOGON");
    int rc = h && l ? 0 : -1;
    gj_value_unref(h);
    gj_value_unref(l);
    return rc;
}

/* ---- scenarios ---- */

static void handshakes(int port)
{
    cli c;
    cli_open(&c, port);
    expect(cli_handshake(&c, 0x00000003, 0x00000104, 0, 0) == 0, "no common version: 00 00 00 00");
    want_close(&c, "no common version: the server closes");
    cli_close(&c);

    cli_open(&c, port);
    const char *http = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    cli_write(&c, http, strlen(http));
    want_close(&c, "an HTTP request is closed without an answer");
    cli_close(&c);

    cli_open(&c, port);
    expect(cli_handshake(&c, 0x00020404, 0x00080805, 0, 0) == 0x00000404, "first matching proposal wins: 4.4");
    cli_close(&c);

    cli_open(&c, port);
    expect(cli_handshake(&c, GJ_BOLT_MANIFEST_V1, 0x00080805, 0, 0) == (long)GJ_BOLT_MANIFEST_V1, "manifest v1 accepted");
    uint8_t offer[64];
    size_t have = 0, used = 0, n = 0;
    uint32_t ranges[8];
    uint64_t caps = 99;
    int rc = 0;
    while (rc == 0 && have < sizeof offer && cli_read_exact(&c, offer + have, 1) == 0) {
        have++;
        rc = gj__bolt_manifest_parse(offer, have, &used, ranges, 8, &n, &caps, NULL);
    }
    expect(rc == 1 && n == 3 && ranges[0] == 0x00020805 && ranges[1] == 0x00040405 && ranges[2] == 0x00000404 &&
           caps == 0, "manifest offers 5.8-5.6, 5.4-5.0, 4.4 and no capabilities");
    uint8_t choice[16];
    size_t cn = gj__bolt_manifest_choice(choice, 5, 4, 0);
    cli_write(&c, choice, cn);
    c.ps.bolt_major = 5;
    c.ps.bolt_minor = 4;
    send_hello(&c, false);                  /* pipelined after the choice */
    send_logon(&c, "password");
    cli_flush(&c);
    gj_value *h = want(&c, GJ_BOLT_SUCCESS, "manifest: HELLO after the choice");
    expect(h && meta_str_is(h, "server", "Neo4j/5.26.0") && gj_value_map_get(h, "connection_id") &&
           gj_value_map_get(h, "hints"), "HELLO SUCCESS has server, connection_id, hints");
    gj_value_unref(h);
    gj_value_unref(want(&c, GJ_BOLT_SUCCESS, "manifest: LOGON"));
    cli_close(&c);
}

static void authentication(int port)
{
    cli c;
    cli_open(&c, port);
    cli_handshake(&c, 0x00000805, 0, 0, 0);
    send_run(&c, "RETURN 1", NULL);
    cli_flush(&c);
    gj_value_unref(want(&c, GJ_BOLT_FAILURE, "RUN before HELLO"));
    want_close(&c, "RUN before HELLO closes the connection");
    cli_close(&c);

    cli_open(&c, port);
    cli_handshake(&c, 0x00000805, 0, 0, 0);
    gj__bolt_write_map(&c.out, &c.ps, GJ_BOLT_HELLO, NULL, NULL);
    cli_flush(&c);
    gj_value *f = want(&c, GJ_BOLT_FAILURE, "HELLO without user_agent");
    expect(f && meta_str_is(f, "neo4j_code", "Neo.ClientError.Request.Invalid"), "... is Request.Invalid");
    gj_value_unref(f);
    want_close(&c, "... and closes");
    cli_close(&c);

    cli_open(&c, port);
    cli_handshake(&c, 0x00000805, 0, 0, 0);
    send_hello(&c, false);
    send_run(&c, "RETURN 1", NULL);
    cli_flush(&c);
    gj_value_unref(want(&c, GJ_BOLT_SUCCESS, "HELLO (5.8)"));
    gj_value_unref(want(&c, GJ_BOLT_FAILURE, "RUN before LOGON"));
    want_close(&c, "RUN before LOGON closes");
    cli_close(&c);

    cli_open(&c, port);
    cli_handshake(&c, 0x00000805, 0, 0, 0);
    send_hello(&c, false);
    send_logon(&c, "wrong");
    cli_flush(&c);
    gj_value_unref(want(&c, GJ_BOLT_SUCCESS, "HELLO"));
    f = want(&c, GJ_BOLT_FAILURE, "LOGON with a wrong password");
    expect(f && meta_str_is(f, "neo4j_code", "Neo.ClientError.Security.Unauthorized") &&
           meta_str_is(f, "gql_status", "42NFF"), "... is Security.Unauthorized (5.7+ form)");
    gj_value_unref(f);
    want_close(&c, "... and closes");
    cli_close(&c);
}

static void state_machine(int port)
{
    cli c;
    if (ready_58(&c, port) != 0) {
        expect(0, "connect for the state machine checks");
        return;
    }
    /* Wrong state: FAILURE, then IGNORED until RESET. */
    gj__bolt_write_pull(&c.out, GJ_BOLT_PULL, -1, -1, NULL);
    send_run(&c, "RETURN 1", NULL);
    gj__bolt_write_empty(&c.out, GJ_BOLT_COMMIT, NULL);
    cli_flush(&c);
    gj_value *f = want(&c, GJ_BOLT_FAILURE, "PULL in READY");
    expect(f && meta_str_is(f, "neo4j_code", "Neo.ClientError.Request.Invalid"), "... is Request.Invalid");
    gj_value_unref(f);
    gj_value_unref(want(&c, GJ_BOLT_IGNORED, "RUN after a FAILURE"));
    gj_value_unref(want(&c, GJ_BOLT_IGNORED, "COMMIT after a FAILURE"));
    gj__bolt_write_empty(&c.out, GJ_BOLT_RESET, NULL);
    send_run(&c, "RETURN 1 AS one", NULL);
    gj__bolt_write_pull(&c.out, GJ_BOLT_PULL, -1, -1, NULL);
    cli_flush(&c);
    gj_value_unref(want(&c, GJ_BOLT_SUCCESS, "RESET"));
    gj_value *run = want(&c, GJ_BOLT_SUCCESS, "RUN after RESET");
    const gj_value *fields = run ? gj_value_map_get(run, "fields") : NULL;
    expect(fields && gj_value_size(fields) == 1, "RUN SUCCESS has the fields");
    gj_value_unref(run);
    gj_value *rec = want(&c, GJ_BOLT_RECORD, "the record");
    int64_t one = 0;
    expect(rec && gj_value_int_get(gj_value_list_at(rec, 0), &one) == 0 && one == 1, "RECORD [1]");
    gj_value_unref(rec);
    gj_value *done = want(&c, GJ_BOLT_SUCCESS, "end of stream");
    const char *bm;
    expect(done && gj__bolt_meta_string(done, "bookmark", &bm, NULL) == 0 && meta_str_is(done, "type", "r") &&
           !gj_value_map_get(done, "has_more"), "final SUCCESS has bookmark and type, no has_more");
    gj_value_unref(done);

    /* PULL n / has_more, with NOOP chunks between the requests. */
    send_run(&c, "UNWIND range(1, 5) AS x RETURN x", NULL);
    gj__chunk_put_noop(&c.out);
    gj__bolt_write_pull(&c.out, GJ_BOLT_PULL, 2, -1, NULL);
    gj__chunk_put_noop(&c.out);
    gj__bolt_write_pull(&c.out, GJ_BOLT_PULL, 2, -1, NULL);
    gj__bolt_write_pull(&c.out, GJ_BOLT_PULL, 2, -1, NULL);
    cli_flush(&c);
    gj_value_unref(want(&c, GJ_BOLT_SUCCESS, "RUN range"));
    int64_t expect_x = 1;
    for (int batch = 0; batch < 3; batch++) {
        for (int i = 0; i < (batch < 2 ? 2 : 1); i++) {
            gj_value *r = want(&c, GJ_BOLT_RECORD, "a record of the batch");
            int64_t x = 0;
            expect(r && gj_value_int_get(gj_value_list_at(r, 0), &x) == 0 && x == expect_x++, "records in order");
            gj_value_unref(r);
        }
        gj_value *s = want(&c, GJ_BOLT_SUCCESS, "end of a batch");
        bool more = false;
        gj__bolt_meta_bool(s, "has_more", &more);
        expect(s && more == (batch < 2), batch < 2 ? "has_more: true" : "last batch: no has_more");
        gj_value_unref(s);
    }

    /* PULL n must be > 0 or -1. */
    send_run(&c, "RETURN 1", NULL);
    gj__bolt_write_pull(&c.out, GJ_BOLT_PULL, 0, -1, NULL);
    cli_flush(&c);
    gj_value_unref(want(&c, GJ_BOLT_SUCCESS, "RUN"));
    gj_value_unref(want(&c, GJ_BOLT_FAILURE, "PULL {n: 0} is refused"));
    gj__bolt_write_empty(&c.out, GJ_BOLT_RESET, NULL);
    cli_flush(&c);
    gj_value_unref(want(&c, GJ_BOLT_SUCCESS, "RESET"));

    /* Everything pipelined before a RESET is IGNORED, even a valid RUN. */
    send_run(&c, "RETURN 1", NULL);
    gj__bolt_write_pull(&c.out, GJ_BOLT_PULL, -1, -1, NULL);
    gj__bolt_write_empty(&c.out, GJ_BOLT_RESET, NULL);
    cli_flush(&c);
    gj_value_unref(want(&c, GJ_BOLT_IGNORED, "RUN pipelined before RESET"));
    gj_value_unref(want(&c, GJ_BOLT_IGNORED, "PULL pipelined before RESET"));
    gj_value_unref(want(&c, GJ_BOLT_SUCCESS, "RESET"));

    /* RESET jumps the queue and interrupts a slow query. */
    send_run(&c, "CALL apoc.util.sleep(20000)", NULL);
    gj__bolt_write_pull(&c.out, GJ_BOLT_PULL, -1, -1, NULL);
    send_run(&c, "RETURN 1", NULL);
    cli_flush(&c);
    usleep(200000);
    long t0 = now_ms();
    gj__bolt_write_empty(&c.out, GJ_BOLT_RESET, NULL);
    cli_flush(&c);
    gj_value_unref(want(&c, GJ_BOLT_SUCCESS, "slow RUN"));
    gj_value_unref(want(&c, GJ_BOLT_IGNORED, "the interrupted PULL"));
    gj_value_unref(want(&c, GJ_BOLT_IGNORED, "the RUN queued before RESET"));
    gj_value_unref(want(&c, GJ_BOLT_SUCCESS, "RESET"));
    expect(now_ms() - t0 < 2000, "RESET interrupted the sleep promptly");

    /* Explicit transaction with qids. */
    gj__bolt_write_map(&c.out, &c.ps, GJ_BOLT_BEGIN, NULL, NULL);
    send_run(&c, "RETURN 1", NULL);
    send_run(&c, "RETURN 2", NULL);
    gj__bolt_write_pull(&c.out, GJ_BOLT_PULL, -1, 0, NULL);
    gj__bolt_write_pull(&c.out, GJ_BOLT_PULL, -1, 1, NULL);
    gj__bolt_write_empty(&c.out, GJ_BOLT_COMMIT, NULL);
    cli_flush(&c);
    gj_value_unref(want(&c, GJ_BOLT_SUCCESS, "BEGIN"));
    gj_value *r1 = want(&c, GJ_BOLT_SUCCESS, "RUN 1 in tx");
    gj_value *r2 = want(&c, GJ_BOLT_SUCCESS, "RUN 2 in tx");
    int64_t q1 = -5, q2 = -5;
    gj__bolt_meta_int(r1, "qid", &q1);
    gj__bolt_meta_int(r2, "qid", &q2);
    expect(q1 == 0 && q2 == 1, "qids 0 and 1");
    gj_value_unref(r1);
    gj_value_unref(r2);
    gj_value_unref(want(&c, GJ_BOLT_RECORD, "record of qid 0"));
    gj_value_unref(want(&c, GJ_BOLT_SUCCESS, "end of qid 0"));
    gj_value_unref(want(&c, GJ_BOLT_RECORD, "record of qid 1"));
    gj_value_unref(want(&c, GJ_BOLT_SUCCESS, "end of qid 1"));
    gj_value *cm = want(&c, GJ_BOLT_SUCCESS, "COMMIT");
    expect(cm && gj__bolt_meta_string(cm, "bookmark", &bm, NULL) == 0, "COMMIT SUCCESS has a bookmark");
    gj_value_unref(cm);

    /* GOODBYE: no answer, the server closes. */
    gj__bolt_write_empty(&c.out, GJ_BOLT_GOODBYE, NULL);
    cli_flush(&c);
    want_close(&c, "GOODBYE closes without an answer");
    cli_close(&c);

    /* Malformed PackStream in a request: FAILURE and close. */
    if (ready_58(&c, port) == 0) {
        static const uint8_t bad[] = { 0x00, 0x03, 0xB1, 0x10, 0xC7, 0x00, 0x00 };
        cli_write(&c, bad, sizeof bad);
        gj_value_unref(want(&c, GJ_BOLT_FAILURE, "a malformed request"));
        want_close(&c, "... closes the connection");
        cli_close(&c);
    }
}

static void bolt44(int port)
{
    cli c;
    cli_open(&c, port);
    expect(cli_handshake(&c, 0x00000404, 0, 0, 0) == 0x00000404, "4.4 negotiated");
    send_hello(&c, true);
    gj_value *dt;
    gj_value_new_datetime(&dt, 4500, 42, 3600, NULL, GJ_DATETIME_HAS_OFFSET);
    send_run(&c, "RETURN $d AS d", map1("d", dt));
    gj__bolt_write_pull(&c.out, GJ_BOLT_PULL, -1, -1, NULL);
    cli_flush(&c);
    gj_value *h = want(&c, GJ_BOLT_SUCCESS, "HELLO with credentials (4.4)");
    const gj_value *patch = h ? gj_value_map_get(h, "patch_bolt") : NULL;
    expect(patch && gj_value_size(patch) == 1, "the utc patch is acknowledged");
    gj_value_unref(h);
    c.ps.utc_patch = true;
    gj_value_unref(want(&c, GJ_BOLT_SUCCESS, "RUN with a datetime"));
    gj_value *rec = want(&c, GJ_BOLT_RECORD, "the datetime comes back");
    int64_t secs = 0;
    int32_t off = 0;
    expect(rec && gj_value_datetime_get(gj_value_list_at(rec, 0), &secs, NULL, &off, NULL, NULL) == 0 &&
           secs == 4500 && off == 3600, "... unchanged (UTC form)");
    gj_value_unref(rec);
    gj_value_unref(want(&c, GJ_BOLT_SUCCESS, "end of stream"));
    /* LOGON is not a 4.4 message: a protocol error. */
    send_logon(&c, "password");
    cli_flush(&c);
    gj_value_unref(want(&c, GJ_BOLT_FAILURE, "LOGON on 4.4"));
    want_close(&c, "... closes the connection");
    cli_close(&c);
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    char path[4096];
    const char *bin = argc > 1 ? argv[1] : getenv("BOLT_REFSERVER");
    if (!bin) {
        const char *bd = getenv("GJ_BUILDDIR");
        snprintf(path, sizeof path, "%s/tests/servers/bolt/bolt-refserver", bd ? bd : ".");
        bin = path;
    }
    int port = 0;
    if (start_server(bin, NULL, &port) != 0) {
        fprintf(stderr, "bolt-smoke: cannot start %s\n", bin);
        return 99;
    }
    handshakes(port);
    authentication(port);
    state_machine(port);
    bolt44(port);
    expect(stop_server() == 0, "the server exits cleanly on SIGTERM");
    printf("1..%d\n", checks);
    return failures ? 1 : 0;
}
