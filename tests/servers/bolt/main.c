/* main.c — bolt-refserver: options, listeners, accept loop, signals.
 *
 * Usage: bolt-refserver [options]
 *   --host H               address to listen on (default 127.0.0.1)
 *   --port N               first listener's port (default 0 = any)
 *   --members N            listeners in this process sharing one store (a
 *                          cluster on loopback: member 0 writes, the others
 *                          read, all route; default 1)
 *   --user U --password P  credentials (default neo4j / password)
 *   --add-user U:P         another user (repeatable, up to 8)
 *   --no-auth              accept any authentication
 *   --bearer TOKEN         also accept scheme "bearer" with this token
 *   --versions LIST        Bolt versions offered, e.g. 4.4 or 5.8,5.7,5.6,5.4,5.3,5.2,5.1,5.0,4.4 (default);
 *                          6.0 (Neo4j 2025.10+: vectors) only through the manifest handshake
 *   --no-manifest          do not answer the manifest v1 handshake
 *   --route LIST --read LIST --write LIST
 *                          explicit routing table (host:port,... ; "self" = this listener)
 *   --ttl SECS             routing table ttl (default 300)
 *   --read-only            write queries fail with Neo.ClientError.Cluster.NotALeader
 *   --tls-cert FILE --tls-key FILE   serve TLS (PEM)
 *   --fault SPEC           see fault.c (repeatable)
 *   --max-message-size N   largest request accepted (default 64 MiB)
 *   --recv-timeout-hint S  send hints.connection.recv_timeout_seconds
 *   --telemetry-hint       send hints.telemetry.enabled (5.4+)
 *   --server-agent S       (default Neo4j/5.26.0)
 *   --seed                 start with a small graph (Alice, Bob, Carol, KNOWS)
 *   --no-utc-patch         on 4.4, do not agree to patch_bolt ["utc"]: datetimes in the
 *                          legacy forms (local seconds), as a 4.4 server without the patch
 *   --any-db               every database name exists (default: neo4j and system;
 *                          all databases share the one store)
 *   --control              read commands on stdin, one per line, answered "OK" or
 *                          "ERR <why>" on stdout: "stop-member N" (close its port and
 *                          its connections: a dead cluster member), "start-member N"
 *                          (listen again on the same port)
 *   --verbose              log to stderr
 * Prints "PORT <n>" per listener on stdout once listening; exits 0 on
 * SIGTERM or SIGINT. */
#include "bs.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

static int signal_pipe[2] = { -1, -1 };

static void on_signal(int sig)
{
    int saved = errno;
    char c = (char)sig;
    if (write(signal_pipe[1], &c, 1) < 0) {
        /* nothing to do */
    }
    errno = saved;
}

static void usage(FILE *f)
{
    fputs("usage: bolt-refserver [--host H] [--port N] [--members N] [--user U] [--password P] [--add-user U:P]...\n"
          "       [--no-auth] [--bearer TOKEN] [--versions LIST] [--no-manifest] [--route LIST] [--read LIST]\n"
          "       [--write LIST] [--ttl SECS] [--read-only] [--tls-cert FILE --tls-key FILE] [--fault SPEC]...\n"
          "       [--max-message-size N] [--recv-timeout-hint S] [--telemetry-hint] [--server-agent S]\n"
          "       [--seed] [--any-db] [--no-utc-patch] [--control] [--verbose]\n"
          "fault SPEC: close-mid-stream|stall|garbage|close[:on=MSG,after=N,count=M,secs=S,query=TEXT,member=I]\n",
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

static int parse_versions(bs_config *cfg, const char *list)
{
    char buf[256];
    if (strlen(list) >= sizeof buf)
        return -1;
    strcpy(buf, list);
    cfg->n_versions = 0;
    char *save = NULL;
    for (char *v = strtok_r(buf, ",", &save); v; v = strtok_r(NULL, ",", &save)) {
        unsigned major, minor;
        char extra;
        if (sscanf(v, "%u.%u%c", &major, &minor, &extra) != 2 || cfg->n_versions >= BS_MAX_VERSIONS)
            return -1;
        bool known = (major == 4 && minor == 4) || (major == 5 && minor <= 8) || (major == 6 && minor == 0);
        if (!known)
            return -1;
        cfg->versions[cfg->n_versions].major = major;
        cfg->versions[cfg->n_versions++].minor = minor;
    }
    return cfg->n_versions ? 0 : -1;
}

static int parse_addrs(const char *list, char (*out)[BS_ADDR_MAX], size_t *n)
{
    char buf[4096];
    if (strlen(list) >= sizeof buf)
        return -1;
    strcpy(buf, list);
    *n = 0;
    char *save = NULL;
    for (char *a = strtok_r(buf, ",", &save); a; a = strtok_r(NULL, ",", &save)) {
        if (*n >= BS_MAX_ADDRS || strlen(a) >= BS_ADDR_MAX)
            return -1;
        strcpy(out[(*n)++], a);
    }
    return 0;
}

static int parse_args(int argc, char **argv, bs_config *cfg)
{
    enum { O_HOST = 256, O_PORT, O_MEMBERS, O_USER, O_PASSWORD, O_ADDUSER, O_NOAUTH, O_BEARER, O_VERSIONS, O_NOMANIFEST,
           O_ROUTE, O_READ, O_WRITE, O_TTL, O_READONLY, O_CERT, O_KEY, O_FAULT, O_MAXMSG, O_RECVHINT,
           O_TELEMETRY, O_AGENT, O_SEED, O_CONTROL, O_VERBOSE, O_HELP, O_ANYDB, O_NOUTC };
    static const struct option opts[] = {
        { "host", required_argument, NULL, O_HOST },
        { "port", required_argument, NULL, O_PORT },
        { "members", required_argument, NULL, O_MEMBERS },
        { "user", required_argument, NULL, O_USER },
        { "password", required_argument, NULL, O_PASSWORD },
        { "add-user", required_argument, NULL, O_ADDUSER },
        { "no-auth", no_argument, NULL, O_NOAUTH },
        { "bearer", required_argument, NULL, O_BEARER },
        { "versions", required_argument, NULL, O_VERSIONS },
        { "no-manifest", no_argument, NULL, O_NOMANIFEST },
        { "route", required_argument, NULL, O_ROUTE },
        { "read", required_argument, NULL, O_READ },
        { "write", required_argument, NULL, O_WRITE },
        { "ttl", required_argument, NULL, O_TTL },
        { "read-only", no_argument, NULL, O_READONLY },
        { "tls-cert", required_argument, NULL, O_CERT },
        { "tls-key", required_argument, NULL, O_KEY },
        { "fault", required_argument, NULL, O_FAULT },
        { "max-message-size", required_argument, NULL, O_MAXMSG },
        { "recv-timeout-hint", required_argument, NULL, O_RECVHINT },
        { "telemetry-hint", no_argument, NULL, O_TELEMETRY },
        { "server-agent", required_argument, NULL, O_AGENT },
        { "seed", no_argument, NULL, O_SEED },
        { "control", no_argument, NULL, O_CONTROL },
        { "verbose", no_argument, NULL, O_VERBOSE },
        { "help", no_argument, NULL, O_HELP },
        { "any-db", no_argument, NULL, O_ANYDB },
        { "no-utc-patch", no_argument, NULL, O_NOUTC },
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
        case O_MEMBERS: bad = parse_long(a, 1, BS_MAX_MEMBERS, &v); cfg->members = (int)v; break;
        case O_USER: cfg->user = a; bad = !*a; break;
        case O_PASSWORD: cfg->password = a; break;
        case O_ADDUSER: {
            const char *colon = strchr(a, ':');
            bad = !colon || colon == a || cfg->n_extra_users >= BS_MAX_EXTRA_USERS ||
                  (size_t)(colon - a) >= BS_NAME_MAX || strlen(colon + 1) >= BS_NAME_MAX;
            if (!bad) {
                snprintf(cfg->extra_users[cfg->n_extra_users][0], BS_NAME_MAX, "%.*s", (int)(colon - a), a);
                snprintf(cfg->extra_users[cfg->n_extra_users++][1], BS_NAME_MAX, "%s", colon + 1);
            }
            break;
        }
        case O_NOAUTH: cfg->no_auth = true; break;
        case O_BEARER: cfg->bearer = a; break;
        case O_VERSIONS: bad = parse_versions(cfg, a); break;
        case O_NOMANIFEST: cfg->manifest = false; break;
        case O_ROUTE: bad = parse_addrs(a, cfg->route, &cfg->n_route); cfg->explicit_routing = true; break;
        case O_READ: bad = parse_addrs(a, cfg->read, &cfg->n_read); cfg->explicit_routing = true; break;
        case O_WRITE: bad = parse_addrs(a, cfg->write, &cfg->n_write); cfg->explicit_routing = true; break;
        case O_TTL: bad = parse_long(a, 0, 86400 * 365, &v); cfg->ttl = v; break;
        case O_READONLY: cfg->read_only = true; break;
        case O_CERT: cfg->tls_cert = a; break;
        case O_KEY: cfg->tls_key = a; break;
        case O_FAULT:
            bad = cfg->n_faults >= BS_MAX_FAULTS ||
                  bs_fault_parse(a, &cfg->faults[cfg->n_faults], why, sizeof why) != 0;
            if (!bad)
                cfg->n_faults++;
            break;
        case O_MAXMSG: bad = parse_long(a, 64, 1L << 30, &v); cfg->max_message_size = (size_t)v; break;
        case O_RECVHINT: bad = parse_long(a, 1, 86400, &v); cfg->recv_timeout_hint = (int)v; break;
        case O_TELEMETRY: cfg->telemetry_hint = true; break;
        case O_AGENT: cfg->server_agent = a; break;
        case O_SEED: cfg->seed = true; break;
        case O_CONTROL: cfg->control = true; break;
        case O_VERBOSE: cfg->verbose = true; break;
        case O_HELP: usage(stdout); exit(0);
        case O_ANYDB: cfg->any_db = true; break;
        case O_NOUTC: cfg->no_utc_patch = true; break;
        default: usage(stderr); return -1;
        }
        if (bad) {
            fprintf(stderr, "bolt-refserver: bad value for --%s: '%s'%s%s\n", opts[c - O_HOST].name, a ? a : "",
                    why[0] ? ": " : "", why);
            return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "bolt-refserver: unexpected argument '%s'\n", argv[optind]);
        return -1;
    }
    if (!cfg->tls_cert != !cfg->tls_key) {
        fputs("bolt-refserver: --tls-cert and --tls-key go together\n", stderr);
        return -1;
    }
    return 0;
}

bool bs_user_ok(const bs_config *cfg, const char *user, const char *password)
{
    if (!strcmp(user, cfg->user) && (!password || !strcmp(password, cfg->password)))
        return true;
    for (size_t i = 0; i < cfg->n_extra_users; i++)
        if (!strcmp(user, cfg->extra_users[i][0]) && (!password || !strcmp(password, cfg->extra_users[i][1])))
            return true;
    return false;
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
    getsockname(fd, (struct sockaddr *)&ss, &sl);
    *out_port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                : ((struct sockaddr_in *)&ss)->sin_port);
    return fd;
}

/* A --control command: stop-member N / start-member N. */
static void control(bs_server *srv, const char *line, struct pollfd *pfd)
{
    char cmd[32];
    int member;
    if (sscanf(line, "%31s %d", cmd, &member) != 2 || member < 0 || member >= srv->cfg.members) {
        printf("ERR bad command '%s'\n", line);
    } else if (!strcmp(cmd, "stop-member")) {
        if (srv->listen_fd[member] >= 0) {
            close(srv->listen_fd[member]);
            srv->listen_fd[member] = pfd[member].fd = -1;
        }
        bs_conn_shutdown_all(srv, member);
        BS_LOG(srv, "member %d stopped", member);
        printf("OK\n");
    } else if (!strcmp(cmd, "start-member")) {
        int port;
        if (srv->listen_fd[member] < 0)
            srv->listen_fd[member] = listen_on(srv->cfg.host, srv->ports[member], &port);
        pfd[member].fd = srv->listen_fd[member];
        if (srv->listen_fd[member] < 0)
            printf("ERR cannot listen on port %d: %s\n", srv->ports[member], strerror(errno));
        else
            printf("OK\n");
        BS_LOG(srv, "member %d started", member);
    } else {
        printf("ERR unknown command '%s'\n", cmd);
    }
    fflush(stdout);
}

static void *tls_context(const bs_config *cfg)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx)
        return NULL;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    if (SSL_CTX_use_certificate_chain_file(ctx, cfg->tls_cert) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, cfg->tls_key, SSL_FILETYPE_PEM) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
        char text[256];
        ERR_error_string_n(ERR_get_error(), text, sizeof text);
        fprintf(stderr, "bolt-refserver: TLS certificate/key: %s\n", text);
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

int main(int argc, char **argv)
{
    bs_server *srv = calloc(1, sizeof *srv);
    if (!srv) {
        fputs("bolt-refserver: out of memory\n", stderr);
        return 1;
    }
    bs_config *cfg = &srv->cfg;
    cfg->host = "127.0.0.1";
    cfg->members = 1;
    cfg->user = "neo4j";
    cfg->password = "password";
    cfg->manifest = true;
    cfg->ttl = 300;
    cfg->max_message_size = 64u << 20;
    cfg->server_agent = "Neo4j/5.26.0";
    parse_versions(cfg, "5.8,5.7,5.6,5.4,5.3,5.2,5.1,5.0,4.4");
    if (parse_args(argc, argv, cfg) != 0)
        return 2;

    signal(SIGPIPE, SIG_IGN);
    if (pipe(signal_pipe) != 0)
        return 1;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    if (bs_store_init(&srv->store) != 0)
        return 1;
    if (cfg->seed)
        bs_store_seed(&srv->store);
    pthread_mutex_init(&srv->conns_lock, NULL);
    pthread_mutex_init(&srv->done_lock, NULL);
    pthread_cond_init(&srv->done_cond, NULL);
    atomic_store(&srv->next_conn_id, 1);
    if (cfg->tls_cert && !(srv->tls_ctx = tls_context(cfg)))
        return 1;

    for (int i = 0; i < cfg->members; i++) {
        srv->listen_fd[i] = listen_on(cfg->host, i == 0 ? cfg->port : 0, &srv->ports[i]);
        if (srv->listen_fd[i] < 0) {
            fprintf(stderr, "bolt-refserver: cannot listen on %s:%d: %s\n", cfg->host, i == 0 ? cfg->port : 0,
                    strerror(errno));
            return 1;
        }
    }
    for (int i = 0; i < cfg->members; i++)
        printf("PORT %d\n", srv->ports[i]);
    fflush(stdout);

    /* pfd: the listeners, the signal pipe, stdin (--control). */
    struct pollfd pfd[BS_MAX_MEMBERS + 2];
    int members = cfg->members;
    for (int i = 0; i < members; i++)
        pfd[i] = (struct pollfd){ srv->listen_fd[i], POLLIN, 0 };
    pfd[members] = (struct pollfd){ signal_pipe[0], POLLIN, 0 };
    pfd[members + 1] = (struct pollfd){ cfg->control ? 0 : -1, POLLIN, 0 };
    char line[256];
    size_t line_len = 0;
    for (;;) {
        int rc = poll(pfd, (nfds_t)members + 2, -1);
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc < 0 || (pfd[members].revents & POLLIN))
            break;
        if (pfd[members + 1].revents & (POLLIN | POLLHUP)) {
            char c;
            ssize_t n = read(0, &c, 1);
            if (n <= 0) {
                pfd[members + 1].fd = -1;   /* stdin closed: no more commands */
            } else if (c != '\n' && line_len < sizeof line - 1) {
                line[line_len++] = c;
            } else if (c == '\n') {
                line[line_len] = '\0';
                line_len = 0;
                control(srv, line, pfd);
            }
        }
        for (int i = 0; i < members; i++) {
            if (pfd[i].fd < 0 || !(pfd[i].revents & POLLIN))
                continue;
            int fd = accept4(srv->listen_fd[i], NULL, NULL, SOCK_CLOEXEC);
            if (fd < 0)
                continue;
            int one = 1;
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            if (bs_conn_start(srv, fd, i) != 0)
                close(fd);
        }
    }

    /* Shut down: stop listening, wake every connection, wait for them. */
    atomic_store(&srv->stopping, true);
    for (int i = 0; i < cfg->members; i++)
        if (srv->listen_fd[i] >= 0)
            close(srv->listen_fd[i]);
    bs_conn_shutdown_all(srv, -1);
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 5;
    pthread_mutex_lock(&srv->done_lock);
    while (atomic_load(&srv->active) > 0)
        if (pthread_cond_timedwait(&srv->done_cond, &srv->done_lock, &until) != 0)
            break;
    int left = atomic_load(&srv->active);
    pthread_mutex_unlock(&srv->done_lock);
    if (left > 0) {
        fprintf(stderr, "bolt-refserver: %d connections did not finish\n", left);
        return 1;
    }
    bs_store_free(&srv->store);
    if (srv->tls_ctx)
        SSL_CTX_free(srv->tls_ctx);
    free(srv->conn_fds);
    free(srv);
    return 0;
}
