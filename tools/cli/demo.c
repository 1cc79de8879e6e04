/*
 * graphjob demo — the bundled reference servers, a few jobs on each backend.
 *
 * For every backend in the table below: start its reference server on
 * 127.0.0.1 (a port the system picks; the server prints "PORT n"), make a
 * client from a URL, submit four jobs at once — rows, a parameter, a query
 * the server rejects, a slow query — wait for the first three, cancel the
 * slow one, print what happened to each, and stop the server.  A backend
 * whose server program (or node, for the GraphQL server from npm) is not
 * there, or that this build of the library lacks, is skipped with the
 * reason.  Exit status 0 when every backend that ran behaved as expected.
 *
 * The servers come from a build tree (they are never installed): the one
 * this program was built in, found next to the executable, or --build-dir
 * DIR, or $GJ_BUILDDIR.  The source tree (for the npm server) is read from
 * the build tree's Makefile.
 */
#include "graphjob.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct demo_backend {
    const char *name;       /* the library's backend name */
    const char *title;
    const char *program;    /* in the build tree, or NULL */
    const char *script;     /* a node script in the source tree, or NULL */
    const char *args[6];
    const char *url, *url_path;  /* URL up to the port, and after it */
    const char *rows, *param_query, *param_name, *param_json, *error, *slow;
} demo_backend;

/* One entry per backend: how to start its server, and what to run. */
static const demo_backend backends[] = {
    { "bolt", "Neo4j over Bolt", "tests/servers/bolt/bolt-refserver", NULL, { "--seed" },
      "bolt://neo4j:password@127.0.0.1:", "",
      "MATCH (p:Person) RETURN p.name AS name, p.age AS age",
      "RETURN $name AS greeting", "name", "\"Ada\"",
      "RETRUN 1", "CALL apoc.util.sleep(60000)" },
    { "arango", "ArangoDB over HTTP", "tests/servers/arango/arango-refserver", NULL, { NULL },
      "http://root@127.0.0.1:", "",
      "FOR i IN 1..3 RETURN { i: i }",
      "RETURN @name", "name", "\"Ada\"",
      "INVALID QUERY", "RETURN SLEEP(60)" },
    { "gremlin", "Apache TinkerPop Gremlin Server over WebSocket",
      "tests/servers/gremlin/gremlin-refserver", NULL, { NULL },
      "ws://127.0.0.1:", "/gremlin",
      "g.V().hasLabel('person').values('name')",
      "g.inject(name)", "name", "\"Ada\"",
      "g.V().nosuchstep()", "Thread.sleep(60000)" },
    { "graphql", "GraphQL over HTTP (graphql-http from npm)", NULL,
      "tests/peers/graphql_http_server.js", { NULL },
      "graphql+http://127.0.0.1:", "/graphql",
      "{ list(n: 3) }",
      "query ($name: String) { hello(name: $name) }", "name", "\"Ada\"",
      "{ nosuchfield }", "{ slow(ms: 60000) }" },
};

typedef struct server {
    pid_t pid;
    int out_fd;
} server;

/* out = a + b; false when it does not fit. */
static bool join(char *out, size_t cap, const char *a, const char *b)
{
    int n = snprintf(out, cap, "%s%s", a, b);
    return n >= 0 && (size_t)n < cap;
}

static bool is_file(const char *path, bool exec)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && (!exec || access(path, X_OK) == 0);
}

/* The build tree: --build-dir, $GJ_BUILDDIR, or the one holding this program
 * (<build>/tools/graphjob, or tools/.libs/ behind libtool's wrapper). */
static bool find_build_dir(const char *given, char *out, size_t cap)
{
    const char *env = getenv("GJ_BUILDDIR");
    char exe[PATH_MAX];
    const char *candidates[3] = { given, env, NULL };
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash)
            *slash = '\0';
        size_t len = strlen(exe);
        if (len > 6 && strcmp(exe + len - 6, "/.libs") == 0)
            exe[len - 6] = '\0';
        len = strlen(exe);
        if (len > 6 && strcmp(exe + len - 6, "/tools") == 0) {
            exe[len - 6] = '\0';
            candidates[2] = exe;
        }
    }
    for (size_t i = 0; i < 3; i++) {
        if (!candidates[i])
            continue;
        char mk[PATH_MAX];
        if (join(mk, sizeof mk, candidates[i], "/Makefile") && is_file(mk, false) &&
            join(out, cap, candidates[i], ""))
            return true;
        if (i == 0) {
            gjt_error("demo: --build-dir %s: no Makefile there (give a configured build tree)",
                      given);
            return false;
        }
    }
    return false;
}

/* abs_top_srcdir from the build tree's Makefile. */
static bool find_source_dir(const char *build, char *out, size_t cap)
{
    char mk[PATH_MAX];
    if (!join(mk, sizeof mk, build, "/Makefile"))
        return false;
    FILE *f = fopen(mk, "r");
    if (!f)
        return false;
    char line[PATH_MAX + 64];
    bool found = false;
    while (!found && fgets(line, sizeof line, f)) {
        if (strncmp(line, "abs_top_srcdir = ", 17) == 0) {
            line[strcspn(line, "\n")] = '\0';
            found = join(out, cap, line + 17, "");
        }
    }
    fclose(f);
    return found;
}

static bool find_in_path(const char *name, char *out, size_t cap)
{
    const char *path = getenv("PATH");
    while (path && *path) {
        size_t len = strcspn(path, ":");
        int n = snprintf(out, cap, "%.*s/%s", (int)len, path, name);
        if (len && n > 0 && (size_t)n < cap && is_file(out, true))
            return true;
        path += len + (path[len] == ':');
    }
    return false;
}

/* Start argv[0] with stdout on a pipe, stderr to /dev/null, and wait up to
 * 15 s for "PORT n".  The child gets SIGTERM if this program dies. */
static int start_server(server *s, char *const argv[], int *port, char *why, size_t whycap)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) {
        snprintf(why, whycap, "pipe: %s", strerror(errno));
        return -1;
    }
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(why, whycap, "fork: %s", strerror(errno));
        close(p[0]);
        close(p[1]);
        return -1;
    }
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent)
            _exit(127);
        int null = open("/dev/null", O_RDWR);
        dup2(p[1], 1);
        if (null >= 0) {
            dup2(null, 0);
            dup2(null, 2);
        }
        execv(argv[0], argv);
        _exit(127);
    }
    close(p[1]);
    s->pid = pid;
    s->out_fd = p[0];
    char buf[4096];
    size_t len = 0;
    double until = gjt_now_ms() + 15000;
    for (;;) {
        buf[len] = '\0';
        char *line = strstr(buf, "PORT ");
        if (line && strchr(line, '\n')) {
            *port = atoi(line + 5);
            if (*port > 0)
                return 0;
        }
        double left = until - gjt_now_ms();
        struct pollfd pf = { .fd = s->out_fd, .events = POLLIN };
        if (left <= 0 || poll(&pf, 1, (int)left) <= 0) {
            snprintf(why, whycap, "%s printed no port within 15 s", argv[0]);
            return -1;
        }
        ssize_t r = read(s->out_fd, buf + len, sizeof buf - 1 - len);
        if (r <= 0) {
            snprintf(why, whycap, "%s exited before listening", argv[0]);
            return -1;
        }
        len += (size_t)r;
        if (len == sizeof buf - 1)
            len = 0;
    }
}

static void stop_server(server *s)
{
    if (s->pid > 0) {
        kill(s->pid, SIGTERM);
        int status;
        double until = gjt_now_ms() + 5000;
        while (waitpid(s->pid, &status, WNOHANG) == 0) {
            if (gjt_now_ms() > until) {
                kill(s->pid, SIGKILL);
                waitpid(s->pid, &status, 0);
                break;
            }
            usleep(10000);
        }
        s->pid = -1;
    }
    if (s->out_fd >= 0)
        close(s->out_fd);
    s->out_fd = -1;
}

/* text on one line, cut to fit cap with "...". */
static void clip(char *buf, size_t cap, const char *text)
{
    size_t n = strlen(text);
    if (n < cap) {
        memcpy(buf, text, n + 1);
    } else {
        size_t keep = cap - 4;
        while (keep > 0 && ((unsigned char)text[keep] & 0xC0) == 0x80)
            keep--;
        memcpy(buf, text, keep);
        memcpy(buf + keep, "...", 4);
    }
    for (char *p = buf; *p; p++)
        if (*p == '\n' || *p == '\r' || *p == '\t')
            *p = ' ';
}

static gj_job *submit(gj_client *client, const char *text, const char *param,
                      const char *json, gj_error *err)
{
    gj_request *req = NULL;
    gj_job *job = NULL;
    if (gj_request_new_query(&req, text) != 0)
        return NULL;
    if (param) {
        gj_value *v = NULL;
        if (gj_value_from_json(&v, json, strlen(json), NULL) == 0)
            gj_request_set_param(req, param, v);
    }
    if (gj_client_submit(client, req, NULL, &job, err) != 0)
        job = NULL;
    gj_request_unref(req);
    return job;
}

/* Wait for a job, print one line about it; returns its code. */
static int report(gj_job *job, const char *text, double started, bool cancelled)
{
    char q[48], detail[160];
    clip(q, sizeof q, text);
    if (!job) {
        printf("  (not submitted)  %s\n", q);
        return GJ_EINVAL;
    }
    gj_error *err = gj_error_new();
    gj_result *res = NULL;
    gj_job_wait(job, 60000, NULL);
    double ms = gjt_now_ms() - started;
    int rc = gj_job_result(job, &res, err);
    const char *status = rc == 0 ? "done" : rc == GJ_ECANCELLED ? "cancelled" : "failed";
    if (rc == 0) {
        char *rows = NULL;
        gj_value_to_json(gj_result_rows(res), 0, &rows, NULL);
        char r[96];
        clip(r, sizeof r, rows ? rows : "?");
        size_t n = gj_result_row_count(res);
        snprintf(detail, sizeof detail, "%zu row%s %s", n, n == 1 ? "" : "s", r);
        gj_free(rows);
    } else if (rc == GJ_ECANCELLED) {
        snprintf(detail, sizeof detail, "cancelled while %s, ended %.0f ms after submission",
                 cancelled ? "running" : "pending", ms);
    } else {
        char m[100];
        clip(m, sizeof m, gj_error_message(err));
        const char *code = gj_error_server_code(err);
        snprintf(detail, sizeof detail, "%s%s%s: %s", gj_code_name(rc), code ? " " : "",
                 code ? code : "", m);
    }
    printf("  job %-3" PRIu64 " %-9s  %-44s  %s\n", gj_job_id(job), status, q, detail);
    gj_result_free(res);
    gj_error_free(err);
    return rc;
}

/* Run one backend; returns 0 ok, 1 unexpected outcome, 2 skipped. */
static int demo_one(const demo_backend *b, const char *build, const char *source)
{
    char program[PATH_MAX], script[PATH_MAX], node[PATH_MAX], why[PATH_MAX + 64];
    char *argv[10];
    size_t argc = 0;
    printf("\n== %s: %s\n", b->name, b->title);
    if (b->program) {
        if (!join(program, sizeof program, build, "/") ||
            !join(program + strlen(program), sizeof program - strlen(program), b->program, "") ||
            !is_file(program, true)) {
            printf("  skipped: %s is not built (make %s)\n", b->program, b->program);
            return 2;
        }
        argv[argc++] = program;
    } else {
        if (!find_in_path("node", node, sizeof node)) {
            printf("  skipped: the %s server needs node, which is not in PATH\n", b->name);
            return 2;
        }
        char modules[PATH_MAX];
        bool fits = join(script, sizeof script, source, "/") &&
                    join(script + strlen(script), sizeof script - strlen(script), b->script, "") &&
                    join(modules, sizeof modules, source,
                         "/tests/peers/node_modules/graphql-http/package.json");
        if (!fits || !is_file(script, false) || !is_file(modules, false)) {
            printf("  skipped: %s or its npm packages are not there (cd tests/peers && npm ci)\n",
                   b->script);
            return 2;
        }
        argv[argc++] = node;
        argv[argc++] = script;
    }
    for (size_t i = 0; b->args[i]; i++)
        argv[argc++] = (char *)b->args[i];
    argv[argc] = NULL;

    /* Is the backend in this build? (No connection is made yet.) */
    char url[256];
    gj_error *err = gj_error_new();
    gj_config *cfg = NULL;
    gj_client *client = NULL;
    snprintf(url, sizeof url, "%s%d%s", b->url, 1, b->url_path);
    if (gj_config_from_url(&cfg, url, err) != 0 ||
        gj_client_new(&client, cfg, err) != 0) {
        printf("  skipped: %s\n", gj_error_message(err));
        gj_config_free(cfg);
        gj_error_free(err);
        return 2;
    }
    gj_client_free(client);
    gj_config_free(cfg);
    client = NULL;

    server srv = { .pid = -1, .out_fd = -1 };
    int port = 0;
    if (start_server(&srv, argv, &port, why, sizeof why) != 0) {
        printf("  failed: %s\n", why);
        stop_server(&srv);
        gj_error_free(err);
        return 1;
    }
    snprintf(url, sizeof url, "%s%d%s", b->url, port, b->url_path);
    char shown[256];
    snprintf(shown, sizeof shown, "%s", url);
    char *at = strchr(shown, '@'), *colon = strstr(shown, "://");
    if (at && colon) {               /* never print a password, even the demo's */
        char *pw = strchr(colon + 3, ':');
        if (pw && pw < at)
            memmove(pw + 4, at, strlen(at) + 1), memcpy(pw, ":***", 4);
    }
    printf("  %s started on 127.0.0.1:%d; the client's URL: %s\n",
           b->program ? b->program : b->script, port, shown);
    int result = 0;
    if (gj_client_new_url(&client, url, err) != 0) {
        printf("  failed: %s\n", gj_error_message(err));
        result = 1;
    } else {
        printf("  four jobs submitted at once; the slow one is cancelled while it runs:\n");
        double t0 = gjt_now_ms();
        gj_job *j1 = submit(client, b->rows, NULL, NULL, err);
        gj_job *j2 = submit(client, b->param_query, b->param_name, b->param_json, err);
        gj_job *j3 = submit(client, b->error, NULL, NULL, err);
        gj_job *j4 = submit(client, b->slow, NULL, NULL, err);
        int rc[4];
        rc[0] = report(j1, b->rows, t0, false);
        rc[1] = report(j2, b->param_query, t0, false);
        rc[2] = report(j3, b->error, t0, false);
        /* Let the slow job reach the server, then cancel it. */
        for (int i = 0; j4 && i < 200 && !gj_job_started(j4); i++)
            usleep(10000);
        usleep(50000);
        bool running = j4 && gj_job_started(j4);
        if (j4)
            gj_job_cancel(j4, NULL);
        rc[3] = report(j4, b->slow, t0, running);
        if (rc[0] != 0 || rc[1] != 0 || rc[2] == 0 || rc[3] != GJ_ECANCELLED)
            result = 1;
        gj_job_unref(j1);
        gj_job_unref(j2);
        gj_job_unref(j3);
        gj_job_unref(j4);
        int done = 0, failed = 0, cancelled = 0;
        for (int i = 0; i < 4; i++) {
            if (rc[i] == 0)
                done++;
            else if (rc[i] == GJ_ECANCELLED)
                cancelled++;
            else
                failed++;
        }
        printf("  %d done, %d failed, %d cancelled%s\n", done, failed, cancelled,
               result ? " (not what the demo expects: 2 done, 1 failed, 1 cancelled)" : "");
    }
    gj_client_free(client);
    stop_server(&srv);
    printf("  server stopped\n");
    gj_error_free(err);
    return result;
}

int gjt_demo_main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "build-dir", required_argument, NULL, 'b' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *given = NULL;
    int ch;
    while ((ch = getopt_long(argc, argv, "b:h", longopts, NULL)) != -1) {
        if (ch == 'b') {
            given = optarg;
        } else if (ch == 'h') {
            printf("usage: graphjob demo [--build-dir DIR]\n"
                   "Start the bundled reference servers on 127.0.0.1 (from a build tree of\n"
                   "libgraphjob), run a few jobs on each backend, stop them.\n");
            return 0;
        } else {
            return gjt_usage_error("demo: bad usage");
        }
    }
    if (optind < argc)
        return gjt_usage_error("demo: unexpected argument '%s'", argv[optind]);
    signal(SIGPIPE, SIG_IGN);
    char build[PATH_MAX], source[PATH_MAX];
    if (!find_build_dir(given, build, sizeof build)) {
        gjt_error("demo: no build tree of libgraphjob here: the reference servers are not "
                  "installed with graphjob; run it from a build tree (scripts/demo.sh does), "
                  "or give --build-dir DIR");
        return GJT_EXIT_USAGE;
    }
    if (!find_source_dir(build, source, sizeof source))
        snprintf(source, sizeof source, "%s", build);
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("graphjob demo: libgraphjob %s; reference servers from %s\n", gj_version(), build);
    int ran = 0, bad = 0, skipped = 0;
    for (size_t i = 0; i < sizeof backends / sizeof backends[0]; i++) {
        int rc = demo_one(&backends[i], build, source);
        if (rc == 2)
            skipped++;
        else
            ran++;
        if (rc == 1)
            bad++;
    }
    printf("\ngraphjob demo: %d backend%s ran (%d as expected), %d skipped\n", ran,
           ran == 1 ? "" : "s", ran - bad, skipped);
    return bad || ran == 0 ? GJT_EXIT_QUERY : 0;
}
