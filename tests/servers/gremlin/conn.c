/* conn.c — the lws protocol callback: HTTP, the WebSocket upgrade, frames.
 *
 * Gremlin Server (Netty) serves WebSocket on /gremlin only; this server
 * answers a plain HTTP request with 404 (400 on /gremlin itself, which wants
 * an upgrade) and refuses an upgrade on any other path with 404.  Client
 * frames must be masked (lws enforces it).  A request frame, or a
 * reassembled message, longer than --max-content-length closes the
 * connection with 1009 "Max frame length of N has been exceeded." as Netty's
 * WebSocket decoder does.  Responses leave through a per-connection queue,
 * written when the socket is writable, as many per callback as the socket
 * takes; the drop fault cuts the TCP connection before a frame. */
#include "gs.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

double gs_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

gs_frame *gs_frame_new(size_t len, bool text)
{
    gs_frame *f = malloc(sizeof *f + LWS_PRE + len);
    if (!f)
        return NULL;
    f->next = NULL;
    f->len = len;
    f->text = text;
    return f;
}

void gs_conn_queue(gs_conn *c, gs_frame *f)
{
    if (!f)
        return;
    if (c->out_tail)
        c->out_tail->next = f;
    else
        c->out_head = f;
    c->out_tail = f;
    c->out_frames++;
    lws_callback_on_writable(c->wsi);
}

static void peer_text(struct lws *wsi, char *out, size_t cap)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    char addr[64] = "?";
    int port = 0;
    if (getpeername(lws_get_socket_fd(wsi), (struct sockaddr *)&ss, &sl) == 0) {
        if (ss.ss_family == AF_INET6) {
            const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&ss;
            inet_ntop(AF_INET6, &a->sin6_addr, addr, sizeof addr);
            port = ntohs(a->sin6_port);
        } else {
            const struct sockaddr_in *a = (const struct sockaddr_in *)&ss;
            inet_ntop(AF_INET, &a->sin_addr, addr, sizeof addr);
            port = ntohs(a->sin_port);
        }
    }
    /* Java's InetSocketAddress.toString(): "/127.0.0.1:54321" */
    snprintf(out, cap, "/%s:%d", addr, port);
}

/* The rest of the message is read and dropped, then the writable callback
 * closes: so the client, done sending, reads the close frame instead of a
 * reset (and lws 4.1 with permessage-deflate does not close the socket when
 * the receive callback returns -1 while it inflates a message). */
static int too_big(gs_conn *c, struct lws *wsi)
{
    c->too_big = true;
    c->rx_len = 0;
    if (lws_is_final_fragment(wsi))
        lws_callback_on_writable(wsi);
    return 0;
}

static int close_too_big(struct lws *wsi)
{
    char msg[96];
    int n = snprintf(msg, sizeof msg, "Max frame length of %zu has been exceeded.",
                     gs_srv->cfg.max_content_length);
    gs_log("closing the connection: 1009 %s", msg);
    lws_close_reason(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, (unsigned char *)msg, (size_t)n);
    return -1;
}

static int receive(gs_conn *c, struct lws *wsi, const unsigned char *in, size_t len)
{
    size_t max = gs_srv->cfg.max_content_length;
    size_t remaining = lws_remaining_packet_payload(wsi);
    if (c->too_big)
        return too_big(c, wsi);
    if (c->frame_left == 0 && len + remaining > max)   /* a new frame: its whole length is known */
        return too_big(c, wsi);
    c->frame_left = remaining;
    if (c->rx_len == 0)
        c->rx_text = !lws_frame_is_binary(wsi);
    if (len > max - c->rx_len)
        return too_big(c, wsi);
    if (c->rx_len + len > c->rx_cap) {
        size_t cap = c->rx_cap ? c->rx_cap : 4096;
        while (cap < c->rx_len + len)
            cap *= 2;
        unsigned char *p = realloc(c->rx, cap);
        if (!p)
            return -1;
        c->rx = p;
        c->rx_cap = cap;
    }
    memcpy(c->rx + c->rx_len, in, len);
    c->rx_len += len;
    if (!lws_is_final_fragment(wsi))
        return 0;
    size_t n = c->rx_len;
    c->rx_len = 0;
    c->frame_left = 0;
    gs_request_received(c, c->rx, n, c->rx_text);
    if (c->rx_cap > (1u << 20)) {   /* do not keep a large buffer around */
        free(c->rx);
        c->rx = NULL;
        c->rx_cap = 0;
    }
    return 0;
}

static bool drop_now(gs_conn *c)
{
    gs_config *cfg = &gs_srv->cfg;
    for (size_t i = 0; i < cfg->n_faults; i++) {
        gs_fault *f = &cfg->faults[i];
        if (f->kind != GS_FAULT_DROP || c->frames_sent < f->after)
            continue;
        if (f->count >= 0 && f->fired >= f->count)
            continue;
        f->fired++;
        return true;
    }
    return false;
}

static int writable(gs_conn *c, struct lws *wsi)
{
    if (c->too_big)
        return close_too_big(wsi);
    while (c->out_head) {
        if (c->dropping || drop_now(c)) {
            gs_log("connection %lu: drop fault after %ld frames", c->id, c->frames_sent);
            shutdown(lws_get_socket_fd(wsi), SHUT_RDWR);
            return -1;
        }
        gs_frame *f = c->out_head;
        c->out_head = f->next;
        if (!c->out_head)
            c->out_tail = NULL;
        c->out_frames--;
        int n = lws_write(wsi, f->data + LWS_PRE, f->len, f->text ? LWS_WRITE_TEXT : LWS_WRITE_BINARY);
        free(f);
        if (n < 0)
            return -1;
        c->frames_sent++;
        if (lws_send_pipe_choked(wsi))
            break;
    }
    if (c->out_head)
        lws_callback_on_writable(wsi);
    return 0;
}

static void conn_free(gs_conn *c)
{
    gs_conn_release(c);
    while (c->out_head) {
        gs_frame *f = c->out_head;
        c->out_head = f->next;
        free(f);
    }
    free(c->rx);
    free(c);
}

/* The request path of an upgrade or HTTP request. */
static bool path_is_gremlin(struct lws *wsi)
{
    char uri[256];
    int n = lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI);
    return n > 0 && !strcmp(uri, "/gremlin");
}

static int http_status(struct lws *wsi, unsigned status)
{
    if (lws_return_http_status(wsi, status, NULL))
        return -1;
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

int gs_protocol_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                         size_t len)
{
    gs_conn **slot = user;
    gs_conn *c = slot ? *slot : NULL;
    switch (reason) {
    case LWS_CALLBACK_HTTP:
        gs_log("HTTP %s: %s", (const char *)in, path_is_gremlin(wsi) ? "400 (no upgrade)" : "404");
        return http_status(wsi, path_is_gremlin(wsi) ? HTTP_STATUS_BAD_REQUEST : HTTP_STATUS_NOT_FOUND);
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        if (!path_is_gremlin(wsi)) {
            gs_log("upgrade refused: not /gremlin");
            lws_return_http_status(wsi, HTTP_STATUS_NOT_FOUND, NULL);
            return 1;
        }
        return 0;
    case LWS_CALLBACK_ESTABLISHED: {
        c = calloc(1, sizeof *c);
        if (!c)
            return -1;
        c->wsi = wsi;
        c->id = ++gs_srv->next_conn_id;
        peer_text(wsi, c->peer, sizeof c->peer);
        *slot = c;
        gs_log("CONNECTION %lu from %s", c->id, c->peer + 1);
        return 0;
    }
    case LWS_CALLBACK_RECEIVE:
        if (!c)
            return -1;
        return receive(c, wsi, in, len);
    case LWS_CALLBACK_SERVER_WRITEABLE:
        if (!c)
            return -1;
        return writable(c, wsi);
    case LWS_CALLBACK_CLOSED:
        if (c) {
            gs_log("connection %lu closed", c->id);
            *slot = NULL;
            conn_free(c);
        }
        return 0;
    default:
        return 0;
    }
}
