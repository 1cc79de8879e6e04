/* main.c — gremlin-refserver: options, the lws context, signals.
 *
 * Usage: gremlin-refserver [options]
 *   --host H                    address to listen on (default 127.0.0.1)
 *   --port N                    port (default 0 = any; printed as "PORT n")
 *   --user U --password P       require SASL PLAIN with these credentials
 *   --tls-cert FILE --tls-key FILE   serve wss:// (PEM)
 *   --max-content-length N      largest request frame or message (default
 *                               10485760, as Gremlin Server 3.7); a larger
 *                               one closes the connection with 1009
 *   --evaluation-timeout MS     default evaluationTimeout (30000; 0 = none)
 *   --batch-size N              resultIterationBatchSize (64)
 *   --no-compression            refuse permessage-deflate (accepted by default
 *                               on ws://, as Gremlin Server 3.5+; never on wss://,
 *                               where lws 4.1 cannot inflate large messages)
 *   --fault SPEC                see fault.c (repeatable)
 *   --verbose                   log connections ("CONNECTION n"), requests
 *                               ("REQUEST op processor id mime", "SCRIPT ...")
 *                               and responses to stderr
 * Prints "PORT <n>" on stdout once listening; exits 0 on SIGTERM or SIGINT,
 * and when its parent dies. */
#include "gs.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

gs_server *gs_srv;

void gs_log(const char *fmt, ...)
{
    if (!gs_srv || !gs_srv->cfg.verbose)
        return;
    va_list ap;
    va_start(ap, fmt);
    fputs("gremlin-refserver: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static void on_signal(int sig)
{
    (void)sig;
    if (gs_srv) {
        gs_srv->stopping = 1;
        if (gs_srv->context)
            lws_cancel_service(gs_srv->context);
    }
}

static void usage(FILE *f)
{
    fputs("usage: gremlin-refserver [--host H] [--port N] [--user U --password P]\n"
          "       [--tls-cert FILE --tls-key FILE] [--max-content-length N] [--evaluation-timeout MS]\n"
          "       [--batch-size N] [--no-compression] [--fault SPEC]... [--verbose]\n"
          "fault SPEC: drop[:after=K,count=N] | stall[:secs=S,after=K,count=N,script=TEXT]\n"
          "            | oversized[:bytes=N,after=K,count=N,script=TEXT] | pace[:ms=M,after=K,count=N,script=TEXT]\n",
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

static int parse_args(int argc, char **argv, gs_config *cfg)
{
    enum { O_HOST = 256, O_PORT, O_USER, O_PASSWORD, O_CERT, O_KEY, O_MAXLEN, O_TIMEOUT, O_BATCH,
           O_NOCOMP, O_FAULT, O_VERBOSE, O_HELP };
    static const struct option opts[] = {
        { "host", required_argument, NULL, O_HOST },
        { "port", required_argument, NULL, O_PORT },
        { "user", required_argument, NULL, O_USER },
        { "password", required_argument, NULL, O_PASSWORD },
        { "tls-cert", required_argument, NULL, O_CERT },
        { "tls-key", required_argument, NULL, O_KEY },
        { "max-content-length", required_argument, NULL, O_MAXLEN },
        { "evaluation-timeout", required_argument, NULL, O_TIMEOUT },
        { "batch-size", required_argument, NULL, O_BATCH },
        { "no-compression", no_argument, NULL, O_NOCOMP },
        { "fault", required_argument, NULL, O_FAULT },
        { "verbose", no_argument, NULL, O_VERBOSE },
        { "help", no_argument, NULL, O_HELP },
        { NULL, 0, NULL, 0 },
    };
    int c;
    long v = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        const char *a = optarg;
        int bad = 0;
        char why[256] = "";
        switch (c) {
        case O_HOST: cfg->host = a; break;
        case O_PORT: bad = parse_long(a, 0, 65535, &v); cfg->port = (int)v; break;
        case O_USER: cfg->user = a; bad = !*a; break;
        case O_PASSWORD: cfg->password = a; break;
        case O_CERT: cfg->tls_cert = a; break;
        case O_KEY: cfg->tls_key = a; break;
        case O_MAXLEN: bad = parse_long(a, 16, 1L << 30, &v); cfg->max_content_length = (size_t)v; break;
        case O_TIMEOUT: bad = parse_long(a, 0, 86400000L, &v); cfg->evaluation_timeout = v; break;
        case O_BATCH: bad = parse_long(a, 1, 1L << 20, &v); cfg->batch_size = (int32_t)v; break;
        case O_NOCOMP: cfg->compression = false; break;
        case O_FAULT:
            bad = cfg->n_faults >= GS_MAX_FAULTS ||
                  gs_fault_parse(a, &cfg->faults[cfg->n_faults], why, sizeof why) != 0;
            if (!bad)
                cfg->n_faults++;
            break;
        case O_VERBOSE: cfg->verbose = true; break;
        case O_HELP: usage(stdout); exit(0);
        default: usage(stderr); return -1;
        }
        if (bad) {
            fprintf(stderr, "gremlin-refserver: bad value for --%s: '%s'%s%s\n", opts[c - O_HOST].name,
                    a ? a : "", why[0] ? ": " : "", why);
            return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "gremlin-refserver: unexpected argument '%s'\n", argv[optind]);
        return -1;
    }
    if (!cfg->tls_cert != !cfg->tls_key) {
        fputs("gremlin-refserver: --tls-cert and --tls-key go together\n", stderr);
        return -1;
    }
    if (!cfg->user != !cfg->password) {
        fputs("gremlin-refserver: --user and --password go together\n", stderr);
        return -1;
    }
    return 0;
}

static void lws_log_to_stderr(int level, const char *line)
{
    (void)level;
    fprintf(stderr, "gremlin-refserver: lws: %s", line);
}

int main(int argc, char **argv)
{
    static gs_server server;
    gs_srv = &server;
    gs_config *cfg = &server.cfg;
    cfg->host = "127.0.0.1";
    cfg->max_content_length = 10u << 20;
    cfg->evaluation_timeout = 30000;
    cfg->batch_size = 64;
    cfg->compression = true;
    if (parse_args(argc, argv, cfg) != 0)
        return 2;

    prctl(PR_SET_PDEATHSIG, SIGTERM);
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    lws_set_log_level(cfg->verbose ? LLL_ERR | LLL_WARN : LLL_ERR, lws_log_to_stderr);
    if (gs_graph_init() != 0) {
        fputs("gremlin-refserver: out of memory\n", stderr);
        return 1;
    }

    static const struct lws_protocols protocols[] = {
        /* name, callback, per-session data (a pointer to the gs_conn), rx buffer */
        { "gremlin", gs_protocol_callback, sizeof(gs_conn *), 65536, 0, NULL, 0 },
        { NULL, NULL, 0, 0, 0, NULL, 0 },
    };
    static const struct lws_extension extensions[] = {
        { "permessage-deflate", lws_extension_callback_pm_deflate,
          "permessage-deflate; client_no_context_takeover; client_max_window_bits" },
        { NULL, NULL, NULL },
    };
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = cfg->port;
    info.iface = cfg->host;
    info.protocols = protocols;
    /* lws 4.1's permessage-deflate fails to inflate large messages read
     * through TLS ("invalid distance too far back"): wss:// goes without. */
    info.extensions = cfg->compression && !cfg->tls_cert ? extensions : NULL;
    info.user = &server;
    info.max_http_header_data = 8192;   /* Netty's maxHeaderSize default */
    info.gid = -1;
    info.uid = -1;
    info.options = LWS_SERVER_OPTION_VALIDATE_UTF8 | LWS_SERVER_OPTION_FAIL_UPON_UNABLE_TO_BIND;
    if (!strchr(cfg->host, ':'))
        info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
    if (cfg->tls_cert) {
        info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
        info.ssl_cert_filepath = cfg->tls_cert;
        info.ssl_private_key_filepath = cfg->tls_key;
    }
    server.context = lws_create_context(&info);
    if (!server.context) {
        fprintf(stderr, "gremlin-refserver: cannot listen on %s:%d\n", cfg->host, cfg->port);
        gs_graph_free();
        return 1;
    }
    struct lws_vhost *vh = lws_get_vhost_by_name(server.context, "default");
    int port = vh ? lws_get_vhost_listen_port(vh) : -1;
    if (port <= 0) {
        fputs("gremlin-refserver: no listening port\n", stderr);
        lws_context_destroy(server.context);
        gs_graph_free();
        return 1;
    }
    printf("PORT %d\n", port);
    fflush(stdout);

    while (!server.stopping)
        if (lws_service(server.context, 0) < 0)
            break;

    struct lws_context *ctx = server.context;
    server.context = NULL;
    lws_context_destroy(ctx);   /* closes every connection: gs_conn_release */
    gs_sessions_free();
    gs_graph_free();
    return 0;
}
