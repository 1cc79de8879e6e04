/*
 * hostile-server: a server that misbehaves on purpose, so that the
 * integration tests (tests/integration/hostile_test.cc) can pin what the
 * library does when a server never stops sending, trickles, never answers,
 * serves an endless cursor or an HTML page (shared header).
 *
 *   main.c   options, the listener, the accept loop, one thread per connection
 *   bolt.c   the Bolt modes (a real handshake, HELLO/LOGON answered, then the
 *            misbehaviour), the `silent` mode
 *   http.c   the HTTP (ArangoDB-like) modes: a small HTTP/1.1 keep-alive loop
 *
 * Everything here serves tests on loopback; it is not part of the library
 * and is never installed.
 */
#ifndef HOSTILE_H
#define HOSTILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum hs_mode {
    HS_BOLT_FLOOD,          /* PULL: records as fast as the socket takes them until RESET */
    HS_BOLT_FLOOD_DEAF,     /* the same, RESET ignored: the records never stop */
    HS_BOLT_TRICKLE,        /* PULL: one record every interval_ms forever; RESET unanswered */
    HS_BOLT_MUTE,           /* RUN / PULL / RESET never answered */
    HS_BOLT_BIG_HELLO,      /* HELLO's SUCCESS carries hello_bytes of metadata */
    HS_SILENT,              /* TCP accepted, not a byte written */
    HS_HTTP_ENDLESS_CURSOR, /* POST /_api/cursor: hasMore forever */
    HS_HTTP_HTML,           /* every request: an HTML page */
    HS_HTTP_SILENT          /* requests read, never answered */
} hs_mode;

typedef struct hs_config {
    hs_mode mode;
    const char *mode_name;
    const char *host;
    int port;
    size_t record_bytes;    /* bolt-flood*, bolt-trickle: the string in each RECORD */
    long interval_ms;       /* bolt-trickle */
    size_t hello_bytes;     /* bolt-big-hello */
    size_t batch_bytes;     /* http-endless-cursor: bytes of rows per batch */
    int status;             /* http-html: the HTTP status */
    bool silent_all;        /* http-silent: not even GET /_api/version is answered */
    bool verbose;
} hs_config;

/* Serve one accepted connection (blocking; the caller's thread).  conn_id
 * numbers connections from 1.  The functions close nothing: main.c closes fd. */
void hs_bolt_serve(const hs_config *cfg, int fd, long conn_id);
void hs_silent_serve(const hs_config *cfg, int fd, long conn_id);
void hs_http_serve(const hs_config *cfg, int fd, long conn_id);

int64_t hs_now_ms(void);

/* One log line on stderr (with --verbose): "hostile-server: conn N: ...". */
void hs_log(const hs_config *cfg, long conn_id, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
