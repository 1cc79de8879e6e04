/* main.c — arango-refserver: options, start-up, signal handling, shutdown.
 *
 * Usage: arango-refserver [options]
 *   --port N             first coordinator's port (default 0 = any); others take any port
 *   --coordinators N     coordinators in this process, sharing the data (default 1)
 *   --endpoints LIST     comma-separated tcp://host:port list for /_api/cluster/endpoints
 *                        ("self" = this coordinator); implies coordinator role
 *   --user U --password P   credentials (default root / empty)
 *   --no-auth            accept requests without credentials
 *   --jwt-secret S       HS256 secret (default: random)
 *   --jwt-ttl SECS       lifetime of issued tokens (default 3600)
 *   --fault SPEC         KIND[:path=/prefix,after=N,count=M,secs=S,coord=I]
 *                        KIND = 503 | stall | close-mid-response (repeatable)
 *   --max-body BYTES     request body limit (default 64 MiB)
 *   --workers N          async-job workers per coordinator (default 4)
 *   --job-queue N        queued async jobs per coordinator (default 1024)
 *   --cursor-ttl SECS    default cursor ttl (default 30)
 *   --trx-idle-timeout SECS  (default 60)
 *   --server-version V   version string reported (default 3.12.4)
 *   --tls-cert FILE --tls-key FILE   serve HTTPS with this PEM certificate and key
 *   --verbose            log requests to stderr
 * Prints "PORT <n>" per coordinator on stdout once listening; exits 0 on
 * SIGTERM or SIGINT. */
#include "rs.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>

static void usage(FILE *f)
{
    fputs("usage: arango-refserver [--port N] [--coordinators N] [--endpoints LIST] [--user U] "
          "[--password P]\n"
          "       [--no-auth] [--jwt-secret S] [--jwt-ttl SECS] [--fault SPEC]... [--max-body BYTES]\n"
          "       [--workers N] [--job-queue N] [--cursor-ttl SECS] [--trx-idle-timeout SECS]\n"
          "       [--server-version V] [--tls-cert FILE --tls-key FILE] [--verbose]\n"
          "fault SPEC: 503|stall|close-mid-response[:path=/prefix,after=N,count=M,secs=S,coord=I]\n",
          f);
}

static int parse_number(const char *s, double lo, double hi, double *out)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= lo) || !(v <= hi))
        return -1;
    *out = v;
    return 0;
}

/* A PEM file, at most 1 MiB, as a NUL-terminated string. */
static char *read_pem(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1u << 20, len = 0;
    char *buf = malloc(cap + 1);
    if (buf) {
        len = fread(buf, 1, cap, f);
        if (len == 0 || len == cap || ferror(f)) {
            free(buf);
            buf = NULL;
        } else {
            buf[len] = '\0';
        }
    }
    fclose(f);
    return buf;
}

static int parse_endpoints(rs_config *cfg, const char *list)
{
    char buf[4096];
    if (strlen(list) >= sizeof buf)
        return -1;
    strcpy(buf, list);
    char *save = NULL;
    for (char *e = strtok_r(buf, ",", &save); e; e = strtok_r(NULL, ",", &save)) {
        if (cfg->nendpoints >= RS_MAX_ENDPOINTS || strlen(e) >= sizeof cfg->endpoints[0])
            return -1;
        strcpy(cfg->endpoints[cfg->nendpoints++], e);
    }
    return cfg->nendpoints ? 0 : -1;
}

static int parse_args(int argc, char **argv, rs_config *cfg)
{
    enum { O_PORT = 256, O_COORDS, O_ENDPOINTS, O_USER, O_PASSWORD, O_NOAUTH, O_SECRET, O_JWTTTL, O_FAULT,
           O_MAXBODY, O_WORKERS, O_JOBQ, O_CTTL, O_TRXTO, O_VERSION, O_VERBOSE, O_HELP, O_CERT, O_KEY };
    static const struct option opts[] = {
        { "port", required_argument, NULL, O_PORT },
        { "coordinators", required_argument, NULL, O_COORDS },
        { "endpoints", required_argument, NULL, O_ENDPOINTS },
        { "user", required_argument, NULL, O_USER },
        { "password", required_argument, NULL, O_PASSWORD },
        { "no-auth", no_argument, NULL, O_NOAUTH },
        { "jwt-secret", required_argument, NULL, O_SECRET },
        { "jwt-ttl", required_argument, NULL, O_JWTTTL },
        { "fault", required_argument, NULL, O_FAULT },
        { "max-body", required_argument, NULL, O_MAXBODY },
        { "workers", required_argument, NULL, O_WORKERS },
        { "job-queue", required_argument, NULL, O_JOBQ },
        { "cursor-ttl", required_argument, NULL, O_CTTL },
        { "trx-idle-timeout", required_argument, NULL, O_TRXTO },
        { "server-version", required_argument, NULL, O_VERSION },
        { "verbose", no_argument, NULL, O_VERBOSE },
        { "help", no_argument, NULL, O_HELP },
        { "tls-cert", required_argument, NULL, O_CERT },
        { "tls-key", required_argument, NULL, O_KEY },
        { NULL, 0, NULL, 0 },
    };
    int c;
    double v = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        const char *a = optarg;
        int bad = 0;
        switch (c) {
        case O_PORT: bad = parse_number(a, 0, 65535, &v); cfg->port = (unsigned)v; break;
        case O_COORDS: bad = parse_number(a, 1, RS_MAX_COORDINATORS, &v); cfg->ncoords = (size_t)v; break;
        case O_ENDPOINTS: bad = parse_endpoints(cfg, a); break;
        case O_USER: cfg->user = a; bad = !*a; break;
        case O_PASSWORD: cfg->password = a; break;
        case O_NOAUTH: cfg->no_auth = 1; break;
        case O_SECRET: cfg->jwt_secret = a; bad = !*a || strlen(a) > 64; break;
        case O_JWTTTL: bad = parse_number(a, 1, 86400.0 * 365, &v); cfg->jwt_ttl = v; break;
        case O_FAULT:
            bad = cfg->nfaults >= RS_MAX_FAULTS ||
                  rs_fault_parse(a, &cfg->faults[cfg->nfaults], &cfg->fault_coord[cfg->nfaults]) != 0;
            if (!bad)
                cfg->nfaults++;
            break;
        case O_MAXBODY: bad = parse_number(a, 1, 1024.0 * 1024 * 1024, &v); cfg->max_body = (size_t)v; break;
        case O_WORKERS: bad = parse_number(a, 1, RS_MAX_WORKERS, &v); cfg->workers = (size_t)v; break;
        case O_JOBQ: bad = parse_number(a, 1, 1 << 20, &v); cfg->job_queue = (size_t)v; break;
        case O_CTTL: bad = parse_number(a, 0.01, 86400, &v); cfg->cursor_ttl = v; break;
        case O_TRXTO: bad = parse_number(a, 0.01, 86400, &v); cfg->trx_idle_timeout = v; break;
        case O_VERSION: cfg->version = a; break;
        case O_VERBOSE: cfg->verbose = 1; break;
        case O_HELP: usage(stdout); exit(0);
        case O_CERT: free(cfg->tls_cert); bad = !(cfg->tls_cert = read_pem(a)); break;
        case O_KEY: free(cfg->tls_key); bad = !(cfg->tls_key = read_pem(a)); break;
        default: usage(stderr); return -1;
        }
        if (bad) {
            fprintf(stderr, "arango-refserver: bad value for --%s: '%s'\n", opts[c - O_PORT].name, a ? a : "");
            return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "arango-refserver: unexpected argument '%s'\n", argv[optind]);
        return -1;
    }
    if (!cfg->tls_cert != !cfg->tls_key) {
        fprintf(stderr, "arango-refserver: --tls-cert and --tls-key go together\n");
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    rs_server *srv = calloc(1, sizeof *srv); /* large: not on the stack */
    if (!srv) {
        fputs("arango-refserver: out of memory\n", stderr);
        return 1;
    }
    rs_config *cfg = &srv->cfg;
    cfg->ncoords = 1;
    cfg->user = "root";
    cfg->password = "";
    cfg->jwt_ttl = 3600;
    cfg->max_body = RS_BODY_MAX_DEFAULT;
    cfg->workers = 4;
    cfg->job_queue = RS_JOB_QUEUE_DEFAULT;
    cfg->cursor_ttl = 30;
    cfg->trx_idle_timeout = 60;
    cfg->version = "3.12.4";
    if (parse_args(argc, argv, cfg) != 0) {
        free(cfg->tls_cert);
        free(cfg->tls_key);
        free(srv);
        return 2;
    }

    /* Signals: SIGTERM/SIGINT are taken by sigtimedwait below, in every
     * thread blocked; SIGPIPE is ignored (a client may vanish mid-response). */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    atomic_init(&srv->stopping, 0);
    atomic_init(&srv->tick, (uint_fast64_t)time(NULL) * 1000u);
    if (rs_jwt_init(srv) != 0 || rs_store_init(srv) != 0) {
        fprintf(stderr, "arango-refserver: cannot initialise (JWT secret or store)\n");
        free(cfg->tls_cert);
        free(cfg->tls_key);
        free(srv);
        return 1;
    }
    srv->ncoords = cfg->ncoords;
    int rc = 0;
    size_t started = 0;
    for (size_t i = 0; i < srv->ncoords; i++) {
        rs_coord *co = &srv->coords[i];
        co->srv = srv;
        co->index = i;
        co->port = i == 0 ? cfg->port : 0;
        pthread_mutex_init(&co->cursors.mu, NULL);
        pthread_mutex_init(&co->fault_mu, NULL);
        co->lfd = -1;
        for (size_t f = 0; f < cfg->nfaults; f++)
            if (cfg->fault_coord[f] == 0 || cfg->fault_coord[f] == i + 1)
                co->faults[co->nfaults++] = cfg->faults[f];
    }
    /* Every port and endpoint is known before any request thread runs. */
    for (size_t i = 0; i < srv->ncoords && rc == 0; i++)
        if (rs_http_listen(&srv->coords[i]) != 0) {
            fprintf(stderr, "arango-refserver: cannot listen on 127.0.0.1:%u\n",
                    srv->coords[i].port);
            rc = 1;
        }
    for (size_t i = 0; i < srv->ncoords && rc == 0; i++) {
        rs_coord *co = &srv->coords[i];
        if (rs_jobs_start(co) != 0 || rs_http_start(co) != 0) {
            fprintf(stderr, "arango-refserver: cannot listen on 127.0.0.1:%u\n", co->port);
            rc = 1;
            started = i + 1;
            break;
        }
        started = i + 1;
    }
    if (rc == 0) {
        for (size_t i = 0; i < srv->ncoords; i++)
            printf("PORT %u\n", srv->coords[i].port);
        fflush(stdout);
        for (;;) {
            struct timespec ts = { 0, 200 * 1000 * 1000 };
            int sig = sigtimedwait(&set, NULL, &ts);
            if (sig == SIGTERM || sig == SIGINT)
                break;
            for (size_t i = 0; i < srv->ncoords; i++)
                rs_cursors_sweep(&srv->coords[i]);
            pthread_mutex_lock(&srv->store_mu);
            rs_trx_sweep(srv);
            pthread_mutex_unlock(&srv->store_mu);
        }
        rs_log(srv, "shutting down");
    }
    atomic_store(&srv->stopping, 1);
    for (size_t i = 0; i < started; i++)
        rs_http_stop(&srv->coords[i]);
    for (size_t i = 0; i < started; i++) {
        rs_coord *co = &srv->coords[i];
        rs_jobs_stop(co);
        rs_cursors_free(co);
    }
    for (size_t i = 0; i < srv->ncoords; i++) {
        rs_coord *co = &srv->coords[i];
        if (co->lfd >= 0)
            close(co->lfd);   /* listening, never handed to a daemon */
        pthread_mutex_destroy(&co->cursors.mu);
        pthread_mutex_destroy(&co->fault_mu);
    }
    rs_store_free(srv);
    free(cfg->tls_cert);
    free(cfg->tls_key);
    free(srv);
    return rc;
}
