/* bolt.c — the Bolt modes of hostile-server, and `silent`.
 *
 * A connection is one thread running one poll() loop on a non-blocking
 * socket: what arrives is dechunked and decoded with the project's codec
 * (lib/codec) and handled at once; what goes out (answers, then records)
 * waits in one buffer that is refilled only when it runs low, so memory stays
 * bounded however fast or slow the client reads.  Input is read whenever it
 * is there, even while records are being written: that is how a RESET is
 * seen in the middle of an endless stream.
 *
 * The handshake accepts the client's 5.x offer and answers plain 5.4
 * (00 00 04 05), without the manifest; HELLO and LOGON are answered SUCCESS
 * whatever the credentials.  A query's fields are ["n", "s"] and each RECORD
 * is [i, s] with i counting from 0 and s a string of --record-bytes 'x'.
 * A PULL {n} gets n records then SUCCESS {has_more: true} (n = -1: no end);
 * a query text containing "LIMIT k" ends after k records with SUCCESS
 * {type: "r"}, so that a later query on the same connection can succeed. */
#include "hostile.h"

#include <graphjob.h>

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <unistd.h>

#include "codec/bolt_handshake.h"
#include "codec/bolt_msg.h"
#include "codec/chunk.h"
#include "codec/packstream.h"

#define HANDSHAKE_TIMEOUT_MS 60000
#define OUT_LOW_WATER (16u << 10)     /* refill the records below this */
#define OUT_HIGH_WATER (64u << 10)    /* ... up to this */
#define MAX_REQUEST (1u << 20)        /* largest request message accepted */

typedef struct bolt_conn {
    const hs_config *cfg;
    int fd;
    long id;
    gj_ps_config ps;
    gj_dechunker in;
    gj_ps_buf out;          /* answers and records not written yet */
    size_t out_off;         /* bytes of out already written */
    char *pad;              /* the record string: record_bytes of 'x' */
    bool has_result;        /* a RUN was answered; its stream is not finished */
    bool streaming;         /* a PULL is being answered with records */
    int64_t pull_left;      /* records this PULL still asks for (-1 = no end) */
    int64_t query_left;     /* records the query still has (-1 = endless) */
    int64_t next_i;         /* the next record's number */
    int64_t next_at_ms;     /* bolt-trickle: when the next record goes */
    bool closing;           /* GOODBYE or a bad message: stop after the loop */
} bolt_conn;

static bool answers_reset(const bolt_conn *c)
{
    return c->cfg->mode == HS_BOLT_FLOOD || c->cfg->mode == HS_BOLT_BIG_HELLO;
}

/* ---- output ---- */

static void put_map(bolt_conn *c, uint8_t tag, gj_value *map)
{
    gj_error *err = gj_error_new();
    if (gj__bolt_write_map(&c->out, &c->ps, tag, map, err) != 0) {
        hs_log(c->cfg, c->id, "cannot encode a response: %s", gj_error_message(err));
        c->closing = true;
    }
    gj_error_free(err);
    gj_value_unref(map);
}

static gj_value *new_map(void)
{
    gj_value *m = NULL;
    if (gj_value_new_map(&m, 4) != 0)
        abort();
    return m;
}

static void success(bolt_conn *c, gj_value *meta)
{
    put_map(c, GJ_BOLT_SUCCESS, meta ? meta : new_map());
}

static void put_record(bolt_conn *c)
{
    size_t start = c->out.len;
    gj__ps_put_struct_header(&c->out, 1, GJ_BOLT_RECORD);
    gj__ps_put_list_header(&c->out, 2);
    gj__ps_put_int(&c->out, c->next_i++);
    gj__ps_put_string(&c->out, c->pad, c->cfg->record_bytes);
    if (c->out.error || gj__chunk_frame(&c->out, start) != 0) {
        hs_log(c->cfg, c->id, "cannot encode a record");
        c->closing = true;
    }
}

/* After a record: the end of the PULL's batch or of the query. */
static void after_record(bolt_conn *c)
{
    if (c->pull_left > 0)
        c->pull_left--;
    if (c->query_left > 0)
        c->query_left--;
    if (c->query_left == 0) {
        gj_value *meta = new_map();
        gj_value_map_put_str(meta, "type", gj_value_string("r"));
        gj_value_map_put_str(meta, "t_last", gj_value_int(0));
        success(c, meta);
        c->streaming = false;
        c->has_result = false;
    } else if (c->pull_left == 0) {
        gj_value *meta = new_map();
        gj_value_map_put_str(meta, "has_more", gj_value_bool(true));
        success(c, meta);
        c->streaming = false;
    }
}

/* Drop what was written and, for a flood, top the buffer up with records. */
static void refill(bolt_conn *c)
{
    if (c->out_off == c->out.len) {
        gj__ps_buf_reset(&c->out);
        c->out_off = 0;
    } else if (c->out_off >= OUT_LOW_WATER) {
        memmove(c->out.data, c->out.data + c->out_off, c->out.len - c->out_off);
        c->out.len -= c->out_off;
        c->out_off = 0;
    }
    if (c->cfg->mode == HS_BOLT_TRICKLE) {
        if (c->streaming && !c->closing && hs_now_ms() >= c->next_at_ms) {
            put_record(c);
            after_record(c);
            c->next_at_ms += c->cfg->interval_ms;
            if (c->next_at_ms < hs_now_ms())
                c->next_at_ms = hs_now_ms() + c->cfg->interval_ms;
        }
        return;
    }
    if (c->out.len - c->out_off >= OUT_LOW_WATER)
        return;
    while (c->streaming && !c->closing && c->out.len - c->out_off < OUT_HIGH_WATER) {
        put_record(c);
        after_record(c);
    }
}

/* Write what the socket takes now.  false = the connection is gone. */
static bool write_some(bolt_conn *c)
{
    while (c->out_off < c->out.len) {
        ssize_t w = send(c->fd, c->out.data + c->out_off, c->out.len - c->out_off, MSG_NOSIGNAL);
        if (w > 0) {
            c->out_off += (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return true;
        return false;
    }
    return true;
}

/* ---- requests ---- */

/* "LIMIT k" anywhere in the text: k, else -1 (endless). */
static int64_t query_limit(const char *text, size_t len)
{
    for (size_t i = 0; i + 6 <= len; i++) {
        if (strncasecmp(text + i, "LIMIT ", 6) != 0)
            continue;
        int64_t k = 0;
        size_t j = i + 6;
        bool digits = false;
        while (j < len && text[j] >= '0' && text[j] <= '9' && k < INT64_C(1) << 40) {
            k = k * 10 + (text[j++] - '0');
            digits = true;
        }
        if (digits)
            return k;
    }
    return -1;
}

static void on_run(bolt_conn *c, gj_bolt_msg *m)
{
    const char *text = "";
    size_t len = 0;
    gj_value_string_get(m->fields[0], &text, &len);
    hs_log(c->cfg, c->id, "RUN %.*s", (int)(len > 200 ? 200 : len), text);
    if (c->cfg->mode == HS_BOLT_MUTE)
        return;
    gj_value *fields = NULL;
    if (gj_value_new_list(&fields, 2) != 0)
        abort();
    gj_value_list_append(fields, gj_value_string("n"));
    gj_value_list_append(fields, gj_value_string("s"));
    gj_value *meta = new_map();
    gj_value_map_put_str(meta, "fields", fields);
    gj_value_map_put_str(meta, "t_first", gj_value_int(0));
    success(c, meta);
    c->has_result = true;
    c->streaming = false;
    c->query_left = query_limit(text, len);
    c->next_i = 0;
}

static void on_pull(bolt_conn *c, gj_bolt_msg *m)
{
    int64_t n = GJ_BOLT_ALL;
    if (m->fields[0])
        gj__bolt_meta_int(m->fields[0], "n", &n);
    hs_log(c->cfg, c->id, "PULL n=%" PRId64, n);
    if (c->cfg->mode == HS_BOLT_MUTE)
        return;
    if (c->query_left == 0 || !c->has_result) {
        /* Nothing to stream (no RUN, or an empty LIMIT 0). */
        gj_value *meta = new_map();
        gj_value_map_put_str(meta, "type", gj_value_string("r"));
        success(c, meta);
        c->has_result = false;
        return;
    }
    c->streaming = true;
    c->pull_left = n < 0 ? -1 : n;
    if (n == 0) {
        c->pull_left = 0;
        c->streaming = false;
        gj_value *meta = new_map();
        gj_value_map_put_str(meta, "has_more", gj_value_bool(true));
        success(c, meta);
    }
    c->next_at_ms = hs_now_ms() + c->cfg->interval_ms;
}

static void on_reset(bolt_conn *c)
{
    if (!answers_reset(c)) {
        hs_log(c->cfg, c->id, "RESET (ignored)");
        return;
    }
    hs_log(c->cfg, c->id, "RESET");
    /* Neo4j: the interrupted PULL gets IGNORED, RESET gets SUCCESS and the
     * connection is READY again. */
    if (c->streaming)
        gj__bolt_write_empty(&c->out, GJ_BOLT_IGNORED, NULL);
    c->streaming = false;
    c->has_result = false;
    success(c, NULL);
}

static void on_hello(bolt_conn *c)
{
    hs_log(c->cfg, c->id, "HELLO");
    gj_value *meta = new_map();
    gj_value_map_put_str(meta, "server", gj_value_string("Neo4j/5.26.0"));
    char id[32];
    snprintf(id, sizeof id, "bolt-%ld", c->id);
    gj_value_map_put_str(meta, "connection_id", gj_value_string(id));
    if (c->cfg->mode == HS_BOLT_BIG_HELLO) {
        char *big = malloc(c->cfg->hello_bytes ? c->cfg->hello_bytes : 1);
        gj_value *v = NULL;
        if (!big)
            abort();
        memset(big, 'h', c->cfg->hello_bytes);
        if (gj_value_new_string(&v, big, c->cfg->hello_bytes) != 0)
            abort();
        free(big);
        gj_value_map_put_str(meta, "padding", v);
        hs_log(c->cfg, c->id, "HELLO answered with %zu bytes of metadata", c->cfg->hello_bytes);
    }
    success(c, meta);
}

static void handle(bolt_conn *c, gj_bolt_msg *m)
{
    bool mute = c->cfg->mode == HS_BOLT_MUTE;
    switch (m->tag) {
    case GJ_BOLT_HELLO: on_hello(c); break;
    case GJ_BOLT_LOGON: hs_log(c->cfg, c->id, "LOGON"); success(c, NULL); break;
    case GJ_BOLT_LOGOFF: hs_log(c->cfg, c->id, "LOGOFF"); success(c, NULL); break;
    case GJ_BOLT_TELEMETRY: hs_log(c->cfg, c->id, "TELEMETRY"); success(c, NULL); break;
    case GJ_BOLT_GOODBYE: hs_log(c->cfg, c->id, "GOODBYE"); c->closing = true; break;
    case GJ_BOLT_RUN: on_run(c, m); break;
    case GJ_BOLT_PULL: on_pull(c, m); break;
    case GJ_BOLT_RESET: on_reset(c); break;
    case GJ_BOLT_DISCARD:
        hs_log(c->cfg, c->id, "DISCARD");
        if (!mute) {
            c->streaming = false;
            c->has_result = false;
            success(c, NULL);
        }
        break;
    default:
        hs_log(c->cfg, c->id, "%s", gj__bolt_msg_name(m->tag, GJ_BOLT_REQUEST));
        if (!mute)
            success(c, NULL);
        break;
    }
}

/* Feed received bytes: decode and handle each complete message. */
static void feed(bolt_conn *c, const uint8_t *data, size_t len)
{
    gj_error *err = gj_error_new();
    while (len > 0 && !c->closing) {
        size_t used = 0;
        int rc = gj__dechunk_feed(&c->in, data, len, &used, err);
        if (rc < 0) {
            hs_log(c->cfg, c->id, "bad framing: %s", gj_error_message(err));
            c->closing = true;
            break;
        }
        data += used;
        len -= used;
        if (rc == 1) {
            const uint8_t *msg;
            size_t mlen;
            gj__dechunk_message(&c->in, &msg, &mlen);
            gj_bolt_msg m;
            if (gj__bolt_msg_decode(&m, msg, mlen, &c->ps, GJ_BOLT_REQUEST, err) != 0) {
                hs_log(c->cfg, c->id, "bad message: %s", gj_error_message(err));
                c->closing = true;
                break;
            }
            handle(c, &m);
            gj__bolt_msg_clear(&m);
        }
    }
    gj_error_free(err);
}

/* ---- handshake ---- */

static int read_exact(int fd, uint8_t *buf, size_t n)
{
    int64_t deadline = hs_now_ms() + HANDSHAKE_TIMEOUT_MS;
    size_t got = 0;
    while (got < n) {
        ssize_t r = recv(fd, buf + got, n - got, 0);
        if (r > 0) {
            got += (size_t)r;
            continue;
        }
        if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
            return -1;
        int64_t left = deadline - hs_now_ms();
        struct pollfd p = { fd, POLLIN, 0 };
        if (left <= 0 || poll(&p, 1, (int)left) < 0)
            return -1;
    }
    return 0;
}

static int write_all(int fd, const uint8_t *buf, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, buf, n, MSG_NOSIGNAL);
        if (w > 0) {
            buf += w;
            n -= (size_t)w;
            continue;
        }
        if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            return -1;
        struct pollfd p = { fd, POLLOUT, 0 };
        if (poll(&p, 1, HANDSHAKE_TIMEOUT_MS) <= 0)
            return -1;
    }
    return 0;
}

static int handshake(bolt_conn *c)
{
    uint8_t in[GJ_BOLT_HANDSHAKE_LEN];
    if (read_exact(c->fd, in, 4) != 0)
        return -1;
    if (memcmp(in, "\x60\x60\xB0\x17", 4) != 0) {
        hs_log(c->cfg, c->id, "not a Bolt client (%02X %02X %02X %02X)", in[0], in[1], in[2], in[3]);
        return -1;
    }
    if (read_exact(c->fd, in + 4, 16) != 0)
        return -1;
    const gj_bolt_version v54 = { 5, 4 };
    uint32_t reply = 0;
    gj__bolt_handshake_choose(in, &v54, 1, false, &reply, NULL);
    uint8_t out[4] = { (uint8_t)(reply >> 24), (uint8_t)(reply >> 16), (uint8_t)(reply >> 8), (uint8_t)reply };
    if (write_all(c->fd, out, 4) != 0)
        return -1;
    if (reply == 0) {
        hs_log(c->cfg, c->id, "no common Bolt version");
        return -1;
    }
    c->ps.bolt_major = 5;
    c->ps.bolt_minor = 4;
    hs_log(c->cfg, c->id, "Bolt 5.4");
    return 0;
}

/* ---- the connection loop ---- */

void hs_bolt_serve(const hs_config *cfg, int fd, long conn_id)
{
    bolt_conn *c = calloc(1, sizeof *c);
    if (!c)
        return;
    c->cfg = cfg;
    c->fd = fd;
    c->id = conn_id;
    c->query_left = -1;
    c->pad = malloc(cfg->record_bytes ? cfg->record_bytes : 1);
    if (!c->pad) {
        free(c);
        return;
    }
    memset(c->pad, 'x', cfg->record_bytes);
    gj__dechunk_init(&c->in, MAX_REQUEST);
    gj__ps_buf_init(&c->out, 0);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);

    if (handshake(c) == 0) {
        uint8_t buf[65536];
        for (;;) {
            refill(c);
            if (!write_some(c))
                break;
            if (c->closing && c->out_off == c->out.len)
                break;
            /* A flood always wants to write (refill tops the buffer up), so
             * poll returns at once and input is looked at on every turn. */
            short events = POLLIN;
            bool flooding = c->streaming && c->cfg->mode != HS_BOLT_TRICKLE;
            if (c->out_off < c->out.len || flooding)
                events |= POLLOUT;
            int timeout = -1;
            if (c->cfg->mode == HS_BOLT_TRICKLE && c->streaming) {
                int64_t left = c->next_at_ms - hs_now_ms();
                timeout = left < 0 ? 0 : (int)left;
            }
            struct pollfd p = { fd, events, 0 };
            int rc = poll(&p, 1, timeout);
            if (rc < 0 && errno != EINTR)
                break;
            if (rc <= 0)
                continue;
            if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
                ssize_t r = recv(fd, buf, sizeof buf, 0);
                if (r == 0)
                    break;
                if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                    break;
                if (r > 0 && !c->closing)
                    feed(c, buf, (size_t)r);
            }
        }
    }
    gj__dechunk_free(&c->in);
    gj__ps_buf_free(&c->out);
    free(c->pad);
    free(c);
}

void hs_silent_serve(const hs_config *cfg, int fd, long conn_id)
{
    /* Read (so the client's writes never block) and never answer. */
    uint8_t buf[4096];
    size_t total = 0;
    for (;;) {
        ssize_t r = recv(fd, buf, sizeof buf, 0);
        if (r > 0) {
            total += (size_t)r;
            continue;
        }
        if (r < 0 && errno == EINTR)
            continue;
        break;
    }
    hs_log(cfg, conn_id, "silent: read %zu bytes, answered none", total);
}
