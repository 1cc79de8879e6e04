/*
 * HTTP on one reused libcurl easy handle (lib/transport/http.c), for the
 * backends that speak HTTP (ArangoDB; GraphQL).  Never installed.
 *
 * One gj_http is one pooled connection: an easy handle driven by its own
 * multi handle (so that another thread can wake a blocked transfer with
 * curl_multi_wakeup), the base URL parsed once (CURLOPT_CURLU: a request
 * sets only its path and query), the constant request headers built once
 * (Accept, Authorization ...; a request links its own in front of them, on
 * its stack), Basic or bearer authentication, TLS (verify by default, CA
 * file or directory, client certificate + key + key password, an explicit
 * insecure opt-in), HTTP/1.1 or HTTP/2, gzip/deflate, a unix-socket endpoint,
 * a connect timeout, and a body-size limit.
 *
 * Every transfer looks at the interrupt record, the abort (while one is
 * set) and the deadline on every pass of its loop, whether data is flowing
 * or not.  The reply body is kept in the connection's buffer until the next
 * request.
 *
 * Threading: a gj_http is used by one thread at a time, except
 * gj__http_interrupt and gj__http_interrupt_pending (any thread).
 */
#ifndef GJ_TRANSPORT_HTTP_H
#define GJ_TRANSPORT_HTTP_H

#include "core/abort.h"

#include <stddef.h>
#include <stdint.h>

typedef struct gj_http gj_http;
/* What several connections share (libcurl's share interface: a cookie jar,
 * DNS and TLS session caches), with its own locks.  Any thread. */
typedef struct gj_http_share gj_http_share;

/* A share of cookies (when cookies is true), DNS and TLS sessions. */
int gj__http_share_new(gj_http_share **out, bool cookies, gj_error *err);
/* After every connection using it was freed.  NULL is fine. */
void gj__http_share_free(gj_http_share *sh);

typedef struct gj_http_config {
    const char *name;            /* "host:port": the prefix of every message */
    const char *base_url;        /* "http://host:port" or "https://...", no path */
    const char *unix_socket;     /* connect to this unix socket instead (or NULL) */
    bool verify;                 /* TLS: check the chain and the host name */
    const char *ca;              /* CA file or directory (PEM); NULL = the system's */
    const char *certfile, *keyfile, *key_password;   /* client certificate, or NULL */
    bool http2;                  /* HTTP/2 over TLS when the server offers it */
    bool compressed;             /* accept gzip / deflate replies */
    int64_t connect_timeout_ms;  /* 0 = curl's default */
    size_t max_body;             /* a larger reply fails with GJ_ETOOBIG */
    const char *username;        /* Basic (with password), or NULL */
    const char *password;
    const char *bearer;          /* or a bearer token (NULL = none) */
    const char *accept;          /* the Accept header's value, or NULL */
    const char *content_type;    /* Content-Type of request bodies, or NULL */
    /* Added for GraphQL (all optional): */
    const char *const *headers;  /* constant extra header lines ("Name: value") sent with
                                  * every request (a request's own line of the same name
                                  * replaces one), or NULL */
    size_t n_headers;            /* at most GJ__HTTP_MAX_FIXED */
    gj_http_share *share;        /* what connections share (a cookie jar ...), or NULL */
    bool cookies;                /* keep the cookies servers set (in the share's jar when
                                  * it shares cookies, else per connection) */
    const char *cookie;          /* "a=1; b=2": sent with every request, or NULL */
} gj_http_config;

/* Most constant extra header lines a connection sends. */
#define GJ__HTTP_MAX_FIXED 32

/* A part of a multipart/form-data body (curl_mime). */
typedef struct gj_http_part {
    const char *name;            /* the form field's name */
    const char *data;            /* the content from memory, or NULL: */
    size_t len;
    const char *path;            /* ... from this file (read while sending) */
    const char *filename;        /* a file name to announce, or NULL */
    const char *content_type;    /* or NULL (curl's default) */
} gj_http_part;

typedef struct gj_http_request {
    const char *method;          /* "GET", "POST", "PUT", "PATCH", "DELETE" */
    const char *path;            /* path and query, escaped already */
    const char *body;            /* NULL = none */
    size_t body_len;
    const char *const *headers;  /* more header lines ("Name: value"), or NULL */
    size_t n_headers;
    int64_t deadline_ms;         /* gj__now_ms clock; INT64_MAX = none */
    /* Added for GraphQL (all optional; zero = unused): */
    const gj_http_part *parts;   /* a multipart/form-data body instead of body */
    size_t n_parts;
    const char *accept;          /* this request's Accept value instead of the constant one */
    const char *cookie;          /* "a=1; b=2" for this request (with the jar's and the
                                  * connection's), or NULL */
    /* Stream the reply body: called with each piece as it arrives (on the
     * calling thread, from inside the transfer) instead of keeping it in the
     * buffer; status and content type are then known (gj__http_status).
     * Return 0 to go on, else a negative code: the transfer stops and
     * gj__http_perform returns that code (err filled by the callback). */
    int (*on_body)(void *arg, const char *data, size_t len);
    void *on_body_arg;
} gj_http_request;

typedef struct gj_http_response {
    long status;                 /* 0: no status line (an HTTP/0.9 answer at http://) */
    const char *body;            /* NUL-terminated; borrowed until the next request */
    size_t len;
    const char *content_type;    /* borrowed, or NULL */
} gj_http_response;

/* A connection (nothing is sent yet).  The strings are copied. */
int gj__http_new(gj_http **out, const gj_http_config *cfg, gj_error *err);
void gj__http_free(gj_http *h);

/* Point the connection at another server (failover), keeping everything
 * else; the URL is parsed at the next request. */
int gj__http_set_base(gj_http *h, const char *base_url, const char *name, gj_error *err);
/* Replace the bearer token (NULL: back to the configured credentials). */
int gj__http_set_bearer(gj_http *h, const char *token, gj_error *err);
/* Called for each header line of each reply (with its CRLF), or NULL. */
void gj__http_set_header_fn(gj_http *h, void (*fn)(void *arg, const char *line, size_t len),
                            void *arg);
/* Watch abort (NULL: nothing) in the transfers from now on. */
void gj__http_set_abort(gj_http *h, const gj_abort *abort);

/* One exchange.  Returns 0 with the response (any HTTP status; the body
 * whatever its type), or GJ_ECANCELLED (the interrupt record: left set for
 * the caller to consume), an abort's code, GJ_ETIMEDOUT, GJ_ECONNECT,
 * GJ_ETLS (with curl's own detail), GJ_ETOOBIG (max_body), GJ_EIO,
 * GJ_ENOMEM, GJ_EINVAL; err names the connection.  A failure leaves the
 * connection broken (curl reconnects at the next request). */
int gj__http_perform(gj_http *h, const gj_http_request *rq, gj_http_response *resp,
                     gj_error *err);

/* During an on_body callback (or after a perform): the reply's status and
 * Content-Type (borrowed until the next request; NULL when none). */
long gj__http_status(gj_http *h, const char **content_type);

/* From any thread: record an interrupt and wake the transfer. */
void gj__http_interrupt(gj_http *h);
/* Consume the interrupt record; true when there was one. */
bool gj__http_take_interrupt(gj_http *h);
bool gj__http_interrupt_pending(gj_http *h);
/* Put an interrupt record back (after a clean-up made with it set aside). */
void gj__http_restore_interrupt(gj_http *h);
/* Sleep up to ms, woken early by an interrupt. */
void gj__http_pause(gj_http *h, int64_t ms);

/* Did a transfer fail since the connection was made (its state unknown)? */
bool gj__http_broken(const gj_http *h);
void gj__http_mark_broken(gj_http *h);
/* Is this a plain http:// connection? */
bool gj__http_plain(const gj_http *h);
/* The connection's name ("host:port"). */
const char *gj__http_name(const gj_http *h);

/* Percent-encode s for a path segment or query value (free with free()),
 * or NULL. */
char *gj__http_escape(gj_http *h, const char *s, size_t len);

/* What a body that is not what was expected looks like, for messages: "an
 * HTML page: \"<!DOCTYPE ...\"", "TLS bytes", or an excerpt of its printable
 * start, into out (cap bytes). */
void gj__http_describe_body(const char *body, size_t len, const char *content_type, char *out,
                            size_t cap);

/* The buffer of the last reply, to be handed to a parser that keeps no
 * pointer into it: release it when it is larger than keep bytes. */
void gj__http_trim(gj_http *h, size_t keep);

#endif
