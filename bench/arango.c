/*
 * bench/arango — the ArangoDB backend end to end (issue 4), against the
 * reference server (tests/servers/arango) started here as a separate process
 * on 127.0.0.1, port 0, and stopped by its PID at the end (also on failure).
 * Every figure is printed next to a baseline measured in the same run:
 *
 *  (a) requests/s of `RETURN 1` (POST /_api/cursor) through the job API
 *      (gj_client_execute: submit + wait + result), one connection, one
 *      request at a time, vs raw libcurl: one reused easy handle doing the
 *      same POST (same headers, Basic auth, HTTP/1.1) with
 *      curl_easy_perform.  Goal: ratio >= 0.9.  Printed too, without a
 *      goal: the raw loop plus json_tokener_parse + json_object_put of each
 *      reply (what any client that reads the reply must at least do).  The
 *      three loops run interleaved in slices of 250 requests, so that a
 *      change of load on a shared machine hits all of them alike.
 *  (b) the same with C connections: C workers and max_conns C, 2*C jobs in
 *      flight (a sliding window of gj_client_submit / gj_job_wait), vs C
 *      threads each with its own reused easy handle.  Goal: ratio >= 0.9.
 *      Printed too, without a goal: C threads of raw libcurl + json-c.
 *  (c) (a) and (b) vs arangojs 10.4 (bench/arango.js, run with node:
 *      db.query + cursor.all(), poolSize 1 and C).  Goal: ratio >= 2.
 *  (d) heap allocations per request in the client process (malloc, calloc
 *      and realloc calls, counted by wrappers in this program around
 *      glibc's __libc_* functions; no LD_PRELOAD), (a) vs raw libcurl.
 *      No goal; reported.
 *  (e) instructions per request on the client side: this program re-runs
 *      itself under `valgrind --tool=callgrind --instr-atstart=no` in the
 *      --callgrind mode, which instruments only the measured loop
 *      (CALLGRIND_START/STOP_INSTRUMENTATION, all threads), against the
 *      server already running natively in its own process.  Goal: <= 70 k,
 *      with raw libcurl as the baseline.  Printed too, without goals: raw
 *      libcurl + json-c parse (--callgrind rawjson), and the same two with
 *      the leanest libcurl setup found (rawlean, rawleanjson: CURLOPT_CURLU
 *      and a prebuilt Authorization header, as libgraphjob does), the floor
 *      of the two libraries together.
 *
 * Usage: arango [--requests N] [--conns C] [--max-seconds S] [--js-requests J]
 *               [--cg-requests M] [--server PATH] [--no-js] [--no-callgrind]
 *        arango --callgrind MODE --port P [--requests M]   (one loop only)
 * MODE: gj, raw, rawjson, rawlean or rawleanjson (as in (e)), or gjpar or
 * rawpar ((b)'s loops with 4 connections, to run under perf; M requests).
 * Defaults: N 10000, C 4, S 10 (time cap of each run), J 2000 (arangojs is
 * ~10x slower), M 2000.  Times are
 * the best of 3 runs.  Exit status 2 when a goal is missed, 1 on failure.
 */
#include <graphjob.h>

#include <curl/curl.h>
#include <errno.h>
#include <json-c/json.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#if defined(__has_include)
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define HAVE_CALLGRIND_H 1
#endif
#endif
#ifndef HAVE_CALLGRIND_H
#define CALLGRIND_START_INSTRUMENTATION do { } while (0)
#define CALLGRIND_STOP_INSTRUMENTATION do { } while (0)
#endif

extern char **environ;

#define USER "root"
#define PASSWORD "pw"
#define QUERY_BODY "{\"query\":\"RETURN 1\"}"
#define MAX_CONNS 64
#define SERVER_START_SECONDS 10
#define REPLY_LIMIT (1u << 20)

/* ---- allocation counting ---------------------------------------------------
 * The program's own malloc family, forwarding to glibc's: every shared
 * library resolves malloc to these (the executable comes first in symbol
 * lookup), so the counter sees libgraphjob, libcurl and json-c too. */

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
/* The sanitizers own malloc: no counting in those builds. */
#define COUNT_ALLOCS 0
static unsigned long allocs_now(void)
{
    return 0;
}
#else
#define COUNT_ALLOCS 1
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t n);
extern void __libc_free(void *p);

static atomic_ulong alloc_calls;

void *malloc(size_t n)
{
    atomic_fetch_add_explicit(&alloc_calls, 1, memory_order_relaxed);
    return __libc_malloc(n);
}

void *calloc(size_t n, size_t size)
{
    atomic_fetch_add_explicit(&alloc_calls, 1, memory_order_relaxed);
    return __libc_calloc(n, size);
}

void *realloc(void *p, size_t n)
{
    atomic_fetch_add_explicit(&alloc_calls, 1, memory_order_relaxed);
    return __libc_realloc(p, n);
}

void free(void *p)
{
    __libc_free(p);
}

static unsigned long allocs_now(void)
{
    return atomic_load_explicit(&alloc_calls, memory_order_relaxed);
}
#endif

/* ---- helpers ---------------------------------------------------------------- */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static volatile sig_atomic_t server_pid = -1;

/* Stop the server by its PID: SIGTERM, up to 5 s, then SIGKILL. */
static void stop_server(void)
{
    pid_t pid = server_pid;
    if (pid <= 0)
        return;
    server_pid = -1;
    kill(pid, SIGTERM);
    for (int i = 0; i < 500; i++) {
        if (waitpid(pid, NULL, WNOHANG) == pid)
            return;
        struct timespec ms10 = { 0, 10000000 };
        nanosleep(&ms10, NULL);
    }
    fprintf(stderr, "arango: server %d ignored SIGTERM; killing it\n", (int)pid);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

static void on_signal(int sig)
{
    pid_t pid = server_pid;
    if (pid > 0)
        kill(pid, SIGTERM);
    signal(sig, SIG_DFL);
    raise(sig);
}

static _Noreturn void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static _Noreturn void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("arango: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    stop_server();
    exit(1);
}

/* Read from fd until a line starting with `prefix` arrives, the child
 * exits (EOF) or `seconds` pass.  The line (without the newline) goes to
 * out.  Returns 0 when found. */
static int read_line_with(int fd, const char *prefix, double seconds, char *out, size_t cap)
{
    char buf[4096];
    size_t len = 0;
    double deadline = now_s() + seconds;
    for (;;) {
        char *nl;
        while ((nl = memchr(buf, '\n', len)) != NULL) {
            size_t line = (size_t)(nl - buf);
            if (line >= strlen(prefix) && memcmp(buf, prefix, strlen(prefix)) == 0) {
                size_t n = line < cap - 1 ? line : cap - 1;
                memcpy(out, buf, n);
                out[n] = '\0';
                return 0;
            }
            memmove(buf, nl + 1, len - line - 1);
            len -= line + 1;
        }
        if (len == sizeof buf)
            len = 0; /* an overlong line: drop it */
        int left = (int)((deadline - now_s()) * 1000);
        if (left <= 0)
            return -1;
        struct pollfd p = { .fd = fd, .events = POLLIN };
        int r = poll(&p, 1, left);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        ssize_t n = read(fd, buf + len, sizeof buf - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        len += (size_t)n;
    }
}

/* posix_spawnp argv with stdout on a pipe (read end in *out_fd) and
 * optionally stdin from /dev/null.  Returns the pid. */
static pid_t spawn_piped(const char *const argv[], const char *const envp[], int *out_fd)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0)
        die("pipe: %s", strerror(errno));
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, p[1], STDOUT_FILENO);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    pid_t pid;
    /* posix_spawnp does not modify the strings; its prototype predates const. */
    int rc = posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)(const void *)argv,
                          envp ? (char *const *)(const void *)envp : environ);
    posix_spawn_file_actions_destroy(&fa);
    close(p[1]);
    if (rc != 0) {
        close(p[0]);
        errno = rc;
        return -1;
    }
    *out_fd = p[0];
    return pid;
}

/* Wait for a child at most `seconds`; SIGKILL it after that.  Returns its
 * exit status, or -1 when it was killed or did not exit normally. */
static int wait_child(pid_t pid, double seconds)
{
    double deadline = now_s() + seconds;
    int st = 0;
    for (;;) {
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid)
            return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
        if (r < 0)
            return -1;
        if (now_s() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            return -1;
        }
        struct timespec ms10 = { 0, 10000000 };
        nanosleep(&ms10, NULL);
    }
}

static int start_server(const char *path)
{
    const char *argv[] = { path, "--port", "0", "--user", USER, "--password", PASSWORD, NULL };
    int fd;
    pid_t pid = spawn_piped(argv, NULL, &fd);
    if (pid < 0)
        die("cannot start %s: %s", path, strerror(errno));
    server_pid = pid;
    char line[64];
    int rc = read_line_with(fd, "PORT ", SERVER_START_SECONDS, line, sizeof line);
    close(fd); /* the server prints nothing else on stdout */
    long port = rc == 0 ? strtol(line + 5, NULL, 10) : 0;
    if (port <= 0 || port > 65535)
        die("%s did not print its port within %d s", path, SERVER_START_SECONDS);
    return (int)port;
}

/* ---- raw libcurl ---------------------------------------------------------- */

typedef struct raw_conn {
    CURL *easy;
    CURLU *url;              /* lean setup only */
    struct curl_slist *headers;
    char *buf;
    size_t len, cap;
} raw_conn;

static size_t raw_on_write(char *data, size_t size, size_t nmemb, void *userp)
{
    raw_conn *c = userp;
    size_t n = size * nmemb;
    if (c->len + n > REPLY_LIMIT)
        return 0; /* aborts the transfer */
    if (c->len + n + 1 > c->cap) {
        size_t cap = c->cap ? c->cap : 512;
        while (cap < c->len + n + 1)
            cap *= 2;
        char *b = realloc(c->buf, cap);
        if (!b)
            return 0;
        c->buf = b;
        c->cap = cap;
    }
    memcpy(c->buf + c->len, data, n);
    c->len += n;
    c->buf[c->len] = '\0';
    return n;
}

/* The baseline: a reused easy handle set up the plain way (CURLOPT_URL,
 * CURLAUTH_BASIC).  With `lean`, the cheapest per-request setup found for
 * libcurl 7.88 (the one libgraphjob uses): the URL parsed once into a
 * CURLU handle (CURLOPT_CURLU) and the Authorization header built once
 * (base64 of root:pw) instead of CURLAUTH_BASIC. */
static void raw_open_setup(raw_conn *c, int port, bool lean)
{
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/_db/_system/_api/cursor", port);
    memset(c, 0, sizeof *c);
    c->easy = curl_easy_init();
    struct curl_slist *h = curl_slist_append(NULL, "Accept: application/json");
    h = h ? curl_slist_append(h, "Expect:") : NULL;
    h = h ? curl_slist_append(h, "Content-Type: application/json") : NULL;
    if (lean)
        h = h ? curl_slist_append(h, "Authorization: Basic cm9vdDpwdw==") : NULL;
    if (!c->easy || !h)
        die("out of memory setting up libcurl");
    c->headers = h;
    CURL *e = c->easy;
    if (lean) {
        c->url = curl_url();
        if (!c->url || curl_url_set(c->url, CURLUPART_URL, url, 0) != CURLUE_OK)
            die("cannot parse %s", url);
        curl_easy_setopt(e, CURLOPT_CURLU, c->url);
    } else {
        curl_easy_setopt(e, CURLOPT_URL, url);
    }
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    if (!lean) {
        curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(e, CURLOPT_USERNAME, USER);
        curl_easy_setopt(e, CURLOPT_PASSWORD, PASSWORD);
    }
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, QUERY_BODY);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(QUERY_BODY));
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, raw_on_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 30000L);
}

static void raw_open(raw_conn *c, int port)
{
    raw_open_setup(c, port, false);
}

static void raw_close(raw_conn *c)
{
    curl_easy_cleanup(c->easy);
    curl_url_cleanup(c->url);
    curl_slist_free_all(c->headers);
    free(c->buf);
}

/* One request; the reply must be 201 with result [1] (checked with strstr:
 * the baseline does not build values, it only receives the bytes). */
static void raw_request(raw_conn *c)
{
    c->len = 0;
    CURLcode cc = curl_easy_perform(c->easy);
    long status = 0;
    curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &status);
    if (cc != CURLE_OK || status != 201 || !c->buf || !strstr(c->buf, "\"result\":[1]"))
        die("raw libcurl request failed: %s, HTTP %ld, body %.200s", curl_easy_strerror(cc),
            status, c->buf ? c->buf : "");
}

/* The raw request, then the reply parsed with json-c and freed: what any
 * client that looks at the reply must at least do (a second baseline, no
 * goal; it shows how much of the gap the JSON library alone explains). */
static void raw_json_request(raw_conn *c)
{
    raw_request(c);
    json_object *j = json_tokener_parse(c->buf), *r = NULL;
    if (!j || !json_object_object_get_ex(j, "result", &r) ||
        json_object_array_length(r) != 1 ||
        json_object_get_int(json_object_array_get_idx(r, 0)) != 1)
        die("raw libcurl + json-c: unexpected reply %.200s", c->buf);
    json_object_put(j);
}

/* ---- the job API ------------------------------------------------------------ */

static gj_client *gj_open(int port, unsigned conns)
{
    char url[160];
    snprintf(url, sizeof url, "http://" USER ":" PASSWORD "@127.0.0.1:%d?max_conns=%u", port, conns);
    gj_error *err = gj_error_new();
    gj_config *cfg = NULL;
    gj_client *client = NULL;
    if (!err)
        die("out of memory");
    if (gj_config_from_url(&cfg, url, err) != 0)
        die("config %s: %s", url, gj_error_message(err));
    if (gj_config_set_int(cfg, NULL, "workers", conns, err) != 0 ||
        gj_client_new(&client, cfg, err) != 0)
        die("client: %s", gj_error_message(err));
    gj_config_free(cfg);
    gj_error_free(err);
    return client;
}

static void gj_check(int rc, gj_result *res, const gj_error *err)
{
    int64_t v = 0;
    if (rc != 0)
        die("job failed: %s", gj_error_message(err));
    if (gj_result_row_count(res) != 1 || gj_value_int_get(gj_result_row(res, 0), &v) != 0 || v != 1)
        die("job returned %zu rows, not [1]", gj_result_row_count(res));
}

static void gj_one(gj_client *client, gj_request *req, gj_error *err)
{
    gj_result *res = NULL;
    int rc = gj_client_execute(client, req, 30000, &res, err);
    gj_check(rc, res, err);
    gj_result_free(res);
}

/* ---- measurements ------------------------------------------------------------
 * Each returns requests/s over the requests it completed: `n` of them, or
 * fewer when `max_s` seconds passed first (*capped is then set). */

typedef struct run {
    double rate;
    double allocs;   /* heap allocations per request (sequential runs) */
    bool capped;
} run;

static run raw_seq(raw_conn *c, long n, double max_s)
{
    run r = { 0, 0, false };
    double t0 = now_s(), deadline = t0 + max_s;
    unsigned long a0 = allocs_now();
    long i;
    for (i = 0; i < n; i++) {
        if ((i & 63) == 0 && now_s() > deadline) {
            r.capped = true;
            break;
        }
        raw_request(c);
    }
    r.allocs = (double)(allocs_now() - a0) / (double)(i ? i : 1);
    r.rate = (double)i / (now_s() - t0);
    return r;
}

static run gj_seq(gj_client *client, gj_request *req, long n, double max_s)
{
    run r = { 0, 0, false };
    gj_error *err = gj_error_new();
    if (!err)
        die("out of memory");
    double t0 = now_s(), deadline = t0 + max_s;
    unsigned long a0 = allocs_now();
    long i;
    for (i = 0; i < n; i++) {
        if ((i & 63) == 0 && now_s() > deadline) {
            r.capped = true;
            break;
        }
        gj_one(client, req, err);
    }
    r.allocs = (double)(allocs_now() - a0) / (double)(i ? i : 1);
    r.rate = (double)i / (now_s() - t0);
    gj_error_free(err);
    return r;
}

/* (a): the three sequential loops (raw libcurl, the job API, raw libcurl +
 * json-c) interleaved in slices of SEQ_SLICE requests, so that all three
 * see the same load on a shared machine; each kind's rate is its requests
 * over its own time.  out[0] raw, out[1] gj, out[2] raw + json-c. */
#define SEQ_SLICE 250
static void seq_interleaved(raw_conn *raw, gj_client *client, gj_request *req, long n,
                            double max_s, run out[3])
{
    double spent[3] = { 0, 0, 0 };
    unsigned long allocs[3] = { 0, 0, 0 };
    long done = 0;
    bool capped = false;
    gj_error *err = gj_error_new();
    if (!err)
        die("out of memory");
    while (done < n && !capped) {
        long k = n - done < SEQ_SLICE ? n - done : SEQ_SLICE;
        for (int w = 0; w < 3; w++) {
            unsigned long a0 = allocs_now();
            double t0 = now_s();
            for (long i = 0; i < k; i++) {
                if (w == 0)
                    raw_request(raw);
                else if (w == 1)
                    gj_one(client, req, err);
                else
                    raw_json_request(raw);
            }
            spent[w] += now_s() - t0;
            allocs[w] += allocs_now() - a0;
            capped |= spent[w] > max_s;
        }
        done += k;
    }
    for (int w = 0; w < 3; w++)
        out[w] = (run){ (double)done / spent[w], (double)allocs[w] / (double)done, capped };
    gj_error_free(err);
}

typedef struct raw_worker {
    void (*one)(raw_conn *);
    raw_conn *conn;
    long n;
    double deadline;
    pthread_barrier_t *start;
    long done;
} raw_worker;

static void *raw_worker_main(void *p)
{
    raw_worker *w = p;
    pthread_barrier_wait(w->start);
    for (w->done = 0; w->done < w->n; w->done++)
        if ((w->done & 63) == 0 && now_s() > w->deadline)
            break;
        else
            w->one(w->conn);
    return NULL;
}

/* conns threads, each with its own connection (opened and warmed up by the
 * caller), n / conns requests each. */
static run raw_par(raw_conn *conns, unsigned nconns, long n, double max_s,
                   void (*one)(raw_conn *))
{
    run r = { 0, 0, false };
    raw_worker w[MAX_CONNS];
    pthread_t t[MAX_CONNS];
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, nconns + 1);
    double deadline = now_s() + max_s + 1;
    for (unsigned i = 0; i < nconns; i++) {
        w[i] = (raw_worker){ one, &conns[i], n / nconns, deadline, &start, 0 };
        if (pthread_create(&t[i], NULL, raw_worker_main, &w[i]) != 0)
            die("pthread_create failed");
    }
    pthread_barrier_wait(&start);
    double t0 = now_s();
    long done = 0;
    for (unsigned i = 0; i < nconns; i++) {
        pthread_join(t[i], NULL);
        done += w[i].done;
        r.capped |= w[i].done < w[i].n;
    }
    r.rate = (double)done / (now_s() - t0);
    pthread_barrier_destroy(&start);
    return r;
}

/* A sliding window of 2 * conns jobs in flight: submit until the window is
 * full, then wait for the oldest. */
static run gj_par(gj_client *client, gj_request *req, unsigned nconns, long n, double max_s)
{
    run r = { 0, 0, false };
    enum { WINDOW_MAX = 2 * MAX_CONNS };
    gj_job *ring[WINDOW_MAX];
    size_t window = 2 * (size_t)nconns, head = 0, inflight = 0;
    long submitted = 0, done = 0;
    gj_error *err = gj_error_new();
    if (!err)
        die("out of memory");
    double t0 = now_s(), deadline = t0 + max_s;
    while (done < submitted || (submitted < n && !r.capped)) {
        if (submitted < n && !r.capped && inflight < window) {
            if ((submitted & 63) == 0 && now_s() > deadline) {
                r.capped = true;
                continue;
            }
            if (gj_client_submit(client, req, NULL, &ring[(head + inflight) % window], err) != 0)
                die("submit: %s", gj_error_message(err));
            inflight++;
            submitted++;
            continue;
        }
        gj_job *job = ring[head];
        gj_result *res = NULL;
        int rc = gj_job_wait(job, 30000, err);
        if (rc == 0)
            rc = gj_job_result(job, &res, err);
        gj_check(rc, res, err);
        gj_result_free(res);
        gj_job_unref(job);
        head = (head + 1) % window;
        inflight--;
        done++;
    }
    r.rate = (double)done / (now_s() - t0);
    gj_error_free(err);
    return r;
}

/* The best rate, and the fewest allocations per request, over the rounds. */
static void keep_best(run *best, run r)
{
    if (r.rate > best->rate)
        best->rate = r.rate;
    if (r.allocs > 0 && (best->allocs == 0 || r.allocs < best->allocs))
        best->allocs = r.allocs;
    best->capped |= r.capped;
}

/* ---- arangojs (bench/arango.js under node) ------------------------------------ */

/* Returns 0 and the two rates, or -1 (node or arangojs missing, or failed). */
static int run_js(int port, long n, unsigned conns, double max_s, double *one, double *many,
                  char *version, size_t vcap)
{
    char url[64], ns[32], cs[32], ss[32];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
    snprintf(ns, sizeof ns, "%ld", n);
    snprintf(cs, sizeof cs, "%u", conns);
    snprintf(ss, sizeof ss, "%g", max_s);
    const char *script = GJ_SRCDIR "/bench/arango.js";
    const char *argv[] = { "node", script, url, USER, PASSWORD, ns, cs, ss, NULL };

    /* The environment with NODE_PATH pointing at tests/peers/node_modules. */
    size_t count = 0;
    while (environ[count])
        count++;
    const char **envp = calloc(count + 2, sizeof *envp);
    if (!envp)
        die("out of memory");
    size_t k = 0;
    envp[k++] = "NODE_PATH=" GJ_SRCDIR "/tests/peers/node_modules";
    for (size_t i = 0; i < count; i++)
        if (strncmp(environ[i], "NODE_PATH=", 10) != 0)
            envp[k++] = environ[i];
    envp[k] = NULL;

    int fd;
    pid_t pid = spawn_piped(argv, envp, &fd);
    free((void *)envp);
    if (pid < 0) {
        fprintf(stderr, "arango: cannot run node: %s\n", strerror(errno));
        return -1;
    }
    double limit = 8 * max_s + 40;
    char line[256];
    int rc = read_line_with(fd, "JS ", limit, line, sizeof line);
    close(fd);
    int st = wait_child(pid, rc == 0 ? 5 : 1);
    if (rc != 0 || st != 0)
        return -1;
    if (sscanf(line, "JS one=%lf many=%lf version=%31s", one, many, ns) != 3)
        return -1;
    snprintf(version, vcap, "%s", ns);
    return 0;
}

/* ---- callgrind ------------------------------------------------------------------ */

/* Run this program under callgrind in --callgrind mode; returns instructions
 * per request, or -1. */
static double run_callgrind(const char *which, int port, long n)
{
    char exe[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len <= 0)
        return -1;
    exe[len] = '\0';
    char out[] = "/tmp/gj-bench-arango-cg.XXXXXX";
    int tfd = mkstemp(out);
    if (tfd < 0)
        return -1;
    close(tfd);
    char outopt[64], ps[32], ns[32];
    snprintf(outopt, sizeof outopt, "--callgrind-out-file=%s", out);
    snprintf(ps, sizeof ps, "%d", port);
    snprintf(ns, sizeof ns, "%ld", n);
    const char *argv[] = { "valgrind", "-q", "--tool=callgrind", "--instr-atstart=no", outopt, exe,
                     "--callgrind", which, "--port", ps, "--requests", ns, NULL };
    int fd;
    pid_t pid = spawn_piped(argv, NULL, &fd);
    if (pid < 0) {
        fprintf(stderr, "arango: cannot run valgrind: %s\n", strerror(errno));
        unlink(out);
        return -1;
    }
    char line[64];
    int rc = read_line_with(fd, "CG done", 300, line, sizeof line);
    close(fd);
    int st = wait_child(pid, rc == 0 ? 60 : 1);
    double per = -1;
    FILE *f = rc == 0 && st == 0 ? fopen(out, "r") : NULL;
    if (f) {
        char buf[512];
        unsigned long long total = 0;
        bool found = false;
        while (fgets(buf, sizeof buf, f))
            if (sscanf(buf, "totals: %llu", &total) == 1 ||
                sscanf(buf, "summary: %llu", &total) == 1)
                found = true;
        fclose(f);
        if (found)
            per = (double)total / (double)n;
    }
    unlink(out);
    return per;
}

/* The --callgrind mode: warm up, then only the measured loop instrumented. */
static int callgrind_child(const char *which, int port, long n)
{
    if (strcmp(which, "raw") == 0 || strcmp(which, "rawjson") == 0 ||
        strcmp(which, "rawlean") == 0 || strcmp(which, "rawleanjson") == 0) {
        bool lean = strncmp(which, "rawlean", 7) == 0;
        void (*one)(raw_conn *) = strstr(which, "json") ? raw_json_request : raw_request;
        raw_conn c;
        raw_open_setup(&c, port, lean);
        for (int i = 0; i < 20; i++)
            one(&c);
        CALLGRIND_START_INSTRUMENTATION;
        for (long i = 0; i < n; i++)
            one(&c);
        CALLGRIND_STOP_INSTRUMENTATION;
        raw_close(&c);
    } else if (strcmp(which, "gj") == 0) {
        gj_client *client = gj_open(port, 1);
        gj_request *req;
        gj_error *err = gj_error_new();
        if (!err || gj_request_new_query(&req, "RETURN 1") != 0)
            die("out of memory");
        for (int i = 0; i < 20; i++)
            gj_one(client, req, err);
        CALLGRIND_START_INSTRUMENTATION;
        for (long i = 0; i < n; i++)
            gj_one(client, req, err);
        CALLGRIND_STOP_INSTRUMENTATION;
        gj_error_free(err);
        gj_request_unref(req);
        gj_client_free(client);
    } else if (strcmp(which, "gjpar") == 0 || strcmp(which, "rawpar") == 0) {
        /* (b)'s loops, for profiling with perf: not used by callgrind. */
        unsigned nc = 4;
        if (which[0] == 'r') {
            raw_conn c[4];
            for (unsigned i = 0; i < nc; i++)
                raw_open(&c[i], port);
            run r = raw_par(c, nc, n, 3600, raw_request);
            printf("rawpar %.0f req/s\n", r.rate);
            for (unsigned i = 0; i < nc; i++)
                raw_close(&c[i]);
        } else {
            gj_client *client = gj_open(port, nc);
            gj_request *req;
            if (gj_request_new_query(&req, "RETURN 1") != 0)
                die("out of memory");
            run r = gj_par(client, req, nc, n, 3600);
            printf("gjpar %.0f req/s\n", r.rate);
            gj_request_unref(req);
            gj_client_free(client);
        }
    } else {
        die("--callgrind takes gj, raw, rawjson, rawlean, rawleanjson, gjpar or rawpar, "
            "not '%s'", which);
    }
    printf("CG done %ld\n", n);
    fflush(stdout);
    return 0;
}

/* ---- main ------------------------------------------------------------------------ */

static long arg_long(const char *opt, const char *s, long lo, long hi)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < lo || v > hi) {
        fprintf(stderr, "arango: %s takes a number from %ld to %ld, not '%s'\n", opt, lo, hi, s);
        exit(1);
    }
    return v;
}

static const char *verdict(bool ok)
{
    return ok ? "ok" : "MISSED";
}

int main(int argc, char **argv)
{
    long n = 10000, cg_n = 2000, js_n = 2000;
    long conns = 4, max_s = 10;
    int port = 0;
    bool js = true, cg = true;
    const char *cg_mode = NULL;
    const char *server = GJ_BUILDDIR "/tests/servers/arango/arango-refserver";
    enum { O_REQ = 256, O_CONNS, O_MAXS, O_JSREQ, O_CGREQ, O_SERVER, O_NOJS, O_NOCG, O_CG, O_PORT };
    static const struct option opts[] = {
        { "requests", required_argument, NULL, O_REQ },
        { "conns", required_argument, NULL, O_CONNS },
        { "max-seconds", required_argument, NULL, O_MAXS },
        { "js-requests", required_argument, NULL, O_JSREQ },
        { "cg-requests", required_argument, NULL, O_CGREQ },
        { "server", required_argument, NULL, O_SERVER },
        { "no-js", no_argument, NULL, O_NOJS },
        { "no-callgrind", no_argument, NULL, O_NOCG },
        { "callgrind", required_argument, NULL, O_CG },
        { "port", required_argument, NULL, O_PORT },
        { NULL, 0, NULL, 0 },
    };
    int o;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case O_REQ: n = arg_long("--requests", optarg, 1, 10000000); break;
        case O_CONNS: conns = arg_long("--conns", optarg, 1, MAX_CONNS); break;
        case O_MAXS: max_s = arg_long("--max-seconds", optarg, 1, 3600); break;
        case O_JSREQ: js_n = arg_long("--js-requests", optarg, 1, 10000000); break;
        case O_CGREQ: cg_n = arg_long("--cg-requests", optarg, 1, 1000000); break;
        case O_SERVER: server = optarg; break;
        case O_NOJS: js = false; break;
        case O_NOCG: cg = false; break;
        case O_CG: cg_mode = optarg; break;
        case O_PORT: port = (int)arg_long("--port", optarg, 1, 65535); break;
        default:
            fputs("usage: arango [--requests N] [--conns C] [--max-seconds S] [--js-requests J]\n"
                  "              [--cg-requests M] [--server PATH] [--no-js] [--no-callgrind]\n"
                  "       arango --callgrind gj|raw|rawjson --port P [--requests M]\n", stderr);
            return 1;
        }
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        die("curl_global_init failed");
    if (cg_mode) {
        if (!port)
            die("--callgrind needs --port");
        return callgrind_child(cg_mode, port, n);
    }

    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGPIPE, SIG_IGN);
    port = start_server(server);
    unsigned nc = (unsigned)conns;
    printf("arango: RETURN 1 as POST /_api/cursor against the reference server on 127.0.0.1:%d,\n"
           "        %ld requests per run (capped at %ld s), %u connections for (b), best of 3\n",
           port, n, max_s, nc);
    fflush(stdout);

    /* Connections opened and warmed up once; kept for all three rounds. */
    raw_conn raw1, rawc[MAX_CONNS];
    raw_open(&raw1, port);
    for (unsigned i = 0; i < nc; i++)
        raw_open(&rawc[i], port);
    gj_client *gj1 = gj_open(port, 1), *gjc = gj_open(port, nc);
    gj_request *req;
    if (gj_request_new_query(&req, "RETURN 1") != 0)
        die("out of memory");
    raw_seq(&raw1, 50, 30);
    for (unsigned i = 0; i < nc; i++)
        raw_seq(&rawc[i], 10, 30);
    gj_seq(gj1, req, 50, 30);
    gj_par(gjc, req, nc, 20 * nc, 30);

    run raw_a = { 0, 0, false }, gj_a = raw_a, raw_b = raw_a, gj_b = raw_a, rawj_a = raw_a;
    run rawj_b = raw_a;
    for (int round = 0; round < 3; round++) {
        run seq[3];
        seq_interleaved(&raw1, gj1, req, n, (double)max_s, seq);
        keep_best(&raw_a, seq[0]);
        keep_best(&gj_a, seq[1]);
        keep_best(&rawj_a, seq[2]);
        keep_best(&raw_b, raw_par(rawc, nc, n, (double)max_s, raw_request));
        keep_best(&rawj_b, raw_par(rawc, nc, n, (double)max_s, raw_json_request));
        keep_best(&gj_b, gj_par(gjc, req, nc, n, (double)max_s));
    }
    gj_request_unref(req);
    gj_client_free(gj1);
    gj_client_free(gjc);
    raw_close(&raw1);
    for (unsigned i = 0; i < nc; i++)
        raw_close(&rawc[i]);

    int missed = 0;
    double ra = gj_a.rate / raw_a.rate, rb = gj_b.rate / raw_b.rate;
    printf("(a) 1 connection    gj %8.0f req/s   raw libcurl %8.0f req/s   ratio %.2f  (goal >= 0.9) %s%s\n",
           gj_a.rate, raw_a.rate, ra, verdict(ra >= 0.9),
           gj_a.capped || raw_a.capped ? "  [time cap hit]" : "");
    printf("(b) %u connection%s   gj %8.0f req/s   raw libcurl %8.0f req/s   ratio %.2f  (goal >= 0.9) %s%s\n",
           nc, nc > 1 ? "s" : " ", gj_b.rate, raw_b.rate, rb, verdict(rb >= 0.9),
           gj_b.capped || raw_b.capped ? "  [time cap hit]" : "");
    printf("    1 connection    gj %8.0f req/s   raw libcurl + json-c parse %8.0f req/s   "
           "ratio %.2f  (no goal; json-c alone takes raw libcurl to %.2f)\n", gj_a.rate,
           rawj_a.rate, gj_a.rate / rawj_a.rate, rawj_a.rate / raw_a.rate);
    printf("    %u connection%s   gj %8.0f req/s   raw libcurl + json-c parse %8.0f req/s   "
           "ratio %.2f  (no goal; json-c alone takes raw libcurl to %.2f)\n", nc, nc > 1 ? "s" : " ",
           gj_b.rate, rawj_b.rate, gj_b.rate / rawj_b.rate, rawj_b.rate / raw_b.rate);
    missed |= ra < 0.9 || rb < 0.9;
    fflush(stdout);

    if (js) {
        double one = 0, many = 0;
        char version[32] = "?";
        if (run_js(port, js_n, nc, (double)max_s, &one, &many, version, sizeof version) == 0) {
            double ja = gj_a.rate / one, jb = gj_b.rate / many;
            printf("(c) 1 connection    gj %8.0f req/s   arangojs %s %8.0f req/s   ratio %.2f  (goal >= 2) %s\n",
                   gj_a.rate, version, one, ja, verdict(ja >= 2));
            printf("    %u connection%s   gj %8.0f req/s   arangojs %s %8.0f req/s   ratio %.2f  (goal >= 2) %s\n"
                   "    [arangojs: %ld requests per run, best of 3]\n",
                   nc, nc > 1 ? "s" : " ", gj_b.rate, version, many, jb, verdict(jb >= 2), js_n);
            missed |= ja < 2 || jb < 2;
        } else {
            printf("(c) arangojs: not measured (node or tests/peers/node_modules missing, or the "
                   "script failed; run `npm ci` in tests/peers)  MISSED\n");
            missed = 1;
        }
        fflush(stdout);
    }

    if (COUNT_ALLOCS)
        printf("(d) allocations     gj %8.1f per request   raw libcurl %8.1f per request   ratio %.2f  (no goal)\n",
               gj_a.allocs, raw_a.allocs, raw_a.allocs > 0 ? gj_a.allocs / raw_a.allocs : 0.0);
    else
        printf("(d) allocations: not counted in a sanitizer build\n");
    fflush(stdout);

    if (cg) {
#ifdef HAVE_CALLGRIND_H
        double ig = run_callgrind("gj", port, cg_n), ir = run_callgrind("raw", port, cg_n);
        double ij = run_callgrind("rawjson", port, cg_n);
        double il = run_callgrind("rawlean", port, cg_n);
        double ilj = run_callgrind("rawleanjson", port, cg_n);
        if (ig > 0 && ir > 0) {
            printf("(e) instructions    gj %8.1f k per request   raw libcurl %8.1f k per request   "
                   "ratio %.2f  (goal <= 70 k) %s  [callgrind, %ld requests]\n",
                   ig / 1e3, ir / 1e3, ig / ir, verdict(ig <= 70e3), cg_n);
            if (ij > 0)
                printf("    instructions    raw libcurl + json-c parse %8.1f k per request  "
                       "(no goal)\n", ij / 1e3);
            if (il > 0 && ilj > 0)
                printf("    instructions    raw libcurl, lean setup (CURLOPT_CURLU, Authorization "
                       "built once) %8.1f k, + json-c parse %8.1f k per request  (no goal: the "
                       "floor of libcurl and json-c together)\n", il / 1e3, ilj / 1e3);
            missed |= ig > 70e3;
        } else {
            printf("(e) instructions: not measured (valgrind missing or failed)  MISSED\n");
            missed = 1;
        }
#else
        printf("(e) instructions: not measured (built without valgrind/callgrind.h)  MISSED\n");
        missed = 1;
#endif
    }

    stop_server();
    curl_global_cleanup();
    return missed ? 2 : 0;
}
