/* main.c — hostile-server: options, the listener, the accept loop.
 *
 * Usage: hostile-server MODE [options]      (or --mode MODE)
 * Modes (one per run):
 *   bolt-flood           RUN -> SUCCESS {fields}; PULL -> RECORD [i, s] as fast as the
 *                        socket takes them until RESET, which ends the stream (the PULL
 *                        gets IGNORED) and is answered SUCCESS: the connection is READY.
 *                        A query text with "LIMIT k" streams k records and ends normally.
 *   bolt-flood-deaf      the same, but RESET is ignored: the records never stop
 *   bolt-trickle         PULL -> one RECORD every --interval-ms forever; RESET unanswered
 *   bolt-mute            handshake, HELLO and LOGON answered; RUN, PULL, RESET never
 *   bolt-big-hello       HELLO's SUCCESS carries a string of --hello-bytes
 *   silent               accept TCP connections, never write a byte
 *   http-endless-cursor  POST /_api/cursor -> 201 hasMore:true id "42"; POST or PUT
 *                        /_api/cursor/42 -> 200 the same, forever; DELETE
 *                        /_api/cursor/42 -> 202; GET /_api/version -> 200; else 404
 *   http-html            every request -> --status (200) text/html "Login" page
 *   http-silent          requests are read and never answered, except GET
 *                        /_api/version (so a client can connect) unless --silent-all
 * Options:
 *   --host H             (127.0.0.1)        --port N     (0 = any)
 *   --record-bytes N     bytes of the string in every RECORD (64)
 *   --interval-ms N      bolt-trickle (50)
 *   --hello-bytes N      bolt-big-hello (2 MiB)
 *   --batch-bytes N      http-endless-cursor: bytes of rows per batch (256 KiB)
 *   --status N           http-html (200)
 *   --silent-all         http-silent: do not answer GET /_api/version either
 *   --verbose            log every connection ("CONNECTION n") and every request or
 *                        Bolt message ("RESET", "DELETE /_api/cursor/42") to stderr
 * Prints "PORT <n>" on stdout once listening; exits 0 on SIGTERM or SIGINT,
 * and when its parent dies (so a test that _exit()s leaves nothing behind). */
#include "hostile.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNECTIONS 256     /* open at once; more are closed at once */

static atomic_int open_connections;

int64_t hs_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void hs_log(const hs_config *cfg, long conn_id, const char *fmt, ...)
{
    if (!cfg->verbose)
        return;
    char line[512];
    int n = snprintf(line, sizeof line, "hostile-server: conn %ld: ", conn_id);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    va_end(ap);
    /* One fputs per line: stderr is unbuffered and stdio locks the stream,
     * so lines of concurrent connections do not interleave. */
    flockfile(stderr);
    fputs(line, stderr);
    fputc('\n', stderr);
    funlockfile(stderr);
}

static void on_signal(int sig)
{
    (void)sig;
    _exit(0);
}

static const struct {
    const char *name;
    hs_mode mode;
} modes[] = {
    { "bolt-flood", HS_BOLT_FLOOD },
    { "bolt-flood-deaf", HS_BOLT_FLOOD_DEAF },
    { "bolt-trickle", HS_BOLT_TRICKLE },
    { "bolt-mute", HS_BOLT_MUTE },
    { "bolt-big-hello", HS_BOLT_BIG_HELLO },
    { "silent", HS_SILENT },
    { "http-endless-cursor", HS_HTTP_ENDLESS_CURSOR },
    { "http-html", HS_HTTP_HTML },
    { "http-silent", HS_HTTP_SILENT },
};

static void usage(FILE *f)
{
    fputs("usage: hostile-server MODE [--host H] [--port N] [--record-bytes N] [--interval-ms N]\n"
          "       [--hello-bytes N] [--batch-bytes N] [--status N] [--silent-all] [--verbose]\n"
          "MODE: bolt-flood | bolt-flood-deaf | bolt-trickle | bolt-mute | bolt-big-hello | silent |\n"
          "      http-endless-cursor | http-html | http-silent\n",
          f);
}

static int parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static int set_mode(hs_config *cfg, const char *name)
{
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++)
        if (!strcmp(modes[i].name, name)) {
            cfg->mode = modes[i].mode;
            cfg->mode_name = modes[i].name;
            return 0;
        }
    return -1;
}

static int parse_args(int argc, char **argv, hs_config *cfg)
{
    enum { O_MODE = 256, O_HOST, O_PORT, O_RECORD, O_INTERVAL, O_HELLO, O_BATCH, O_STATUS, O_SILENT_ALL,
           O_VERBOSE, O_HELP };
    static const struct option opts[] = {
        { "mode", required_argument, NULL, O_MODE },
        { "host", required_argument, NULL, O_HOST },
        { "port", required_argument, NULL, O_PORT },
        { "record-bytes", required_argument, NULL, O_RECORD },
        { "interval-ms", required_argument, NULL, O_INTERVAL },
        { "hello-bytes", required_argument, NULL, O_HELLO },
        { "batch-bytes", required_argument, NULL, O_BATCH },
        { "status", required_argument, NULL, O_STATUS },
        { "silent-all", no_argument, NULL, O_SILENT_ALL },
        { "verbose", no_argument, NULL, O_VERBOSE },
        { "help", no_argument, NULL, O_HELP },
        { NULL, 0, NULL, 0 },
    };
    int c;
    long v = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        const char *a = optarg;
        int bad = 0;
        switch (c) {
        case O_MODE: bad = set_mode(cfg, a); break;
        case O_HOST: cfg->host = a; break;
        case O_PORT: bad = parse_long(a, 0, 65535, &v); cfg->port = (int)v; break;
        case O_RECORD: bad = parse_long(a, 0, 16L << 20, &v); cfg->record_bytes = (size_t)v; break;
        case O_INTERVAL: bad = parse_long(a, 1, 3600000, &v); cfg->interval_ms = v; break;
        case O_HELLO: bad = parse_long(a, 0, 256L << 20, &v); cfg->hello_bytes = (size_t)v; break;
        case O_BATCH: bad = parse_long(a, 1, 64L << 20, &v); cfg->batch_bytes = (size_t)v; break;
        case O_STATUS: bad = parse_long(a, 100, 599, &v); cfg->status = (int)v; break;
        case O_SILENT_ALL: cfg->silent_all = true; break;
        case O_VERBOSE: cfg->verbose = true; break;
        case O_HELP: usage(stdout); exit(0);
        default: usage(stderr); return -1;
        }
        if (bad) {
            fprintf(stderr, "hostile-server: bad value for --%s: '%s'\n", opts[c - O_MODE].name, a ? a : "");
            return -1;
        }
    }
    for (; optind < argc; optind++) {
        if (cfg->mode_name || set_mode(cfg, argv[optind]) != 0) {
            fprintf(stderr, "hostile-server: unexpected argument '%s'\n", argv[optind]);
            usage(stderr);
            return -1;
        }
    }
    if (!cfg->mode_name) {
        fputs("hostile-server: no mode given\n", stderr);
        usage(stderr);
        return -1;
    }
    return 0;
}

static int listen_on(const char *host, int port, int *out_port)
{
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    char ps[16];
    snprintf(ps, sizeof ps, "%d", port);
    if (getaddrinfo(host, ps, &hints, &res) != 0 || !res)
        return -1;
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd >= 0)
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, 128) != 0) {
        if (fd >= 0)
            close(fd);
        freeaddrinfo(res);
        return -1;
    }
    freeaddrinfo(res);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0) {
        close(fd);
        return -1;
    }
    *out_port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                               : ((struct sockaddr_in *)&ss)->sin_port);
    return fd;
}

typedef struct conn_arg {
    const hs_config *cfg;
    int fd;
    long id;
} conn_arg;

static void *conn_main(void *p)
{
    conn_arg *a = p;
    switch (a->cfg->mode) {
    case HS_SILENT:
        hs_silent_serve(a->cfg, a->fd, a->id);
        break;
    case HS_HTTP_ENDLESS_CURSOR:
    case HS_HTTP_HTML:
    case HS_HTTP_SILENT:
        hs_http_serve(a->cfg, a->fd, a->id);
        break;
    default:
        hs_bolt_serve(a->cfg, a->fd, a->id);
        break;
    }
    hs_log(a->cfg, a->id, "closed");
    close(a->fd);
    free(a);
    atomic_fetch_sub(&open_connections, 1);
    return NULL;
}

int main(int argc, char **argv)
{
    hs_config cfg = {
        .host = "127.0.0.1",
        .record_bytes = 64,
        .interval_ms = 50,
        .hello_bytes = (size_t)2 << 20,
        .batch_bytes = (size_t)256 << 10,
        .status = 200,
    };
    if (parse_args(argc, argv, &cfg) != 0)
        return 2;
    /* Die with the test that started us, even when it _exit()ed. */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);

    int port = 0;
    int lfd = listen_on(cfg.host, cfg.port, &port);
    if (lfd < 0) {
        fprintf(stderr, "hostile-server: cannot listen on %s:%d: %s\n", cfg.host, cfg.port, strerror(errno));
        return 1;
    }
    printf("PORT %d\n", port);
    fflush(stdout);
    if (cfg.verbose)
        fprintf(stderr, "hostile-server: mode %s on %s:%d\n", cfg.mode_name, cfg.host, port);

    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    long next_id = 1;
    for (;;) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        int fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED || errno == EMFILE || errno == ENFILE)
                continue;
            fprintf(stderr, "hostile-server: accept: %s\n", strerror(errno));
            return 1;
        }
        long id = next_id++;
        char addr[INET6_ADDRSTRLEN] = "?";
        int peer_port = 0;
        if (ss.ss_family == AF_INET) {
            inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, addr, sizeof addr);
            peer_port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
        } else if (ss.ss_family == AF_INET6) {
            inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, addr, sizeof addr);
            peer_port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
        }
        if (cfg.verbose)
            fprintf(stderr, "hostile-server: CONNECTION %ld from %s:%d\n", id, addr, peer_port);
        if (atomic_load(&open_connections) >= MAX_CONNECTIONS) {
            hs_log(&cfg, id, "too many connections: closed at once");
            close(fd);
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        conn_arg *a = malloc(sizeof *a);
        pthread_t t;
        atomic_fetch_add(&open_connections, 1);
        if (!a || (a->cfg = &cfg, a->fd = fd, a->id = id, pthread_create(&t, &attr, conn_main, a)) != 0) {
            atomic_fetch_sub(&open_connections, 1);
            free(a);
            close(fd);
        }
    }
}
