/*
 * bench/arango — the ArangoDB backend end to end (issues 4 and 13), against
 * the reference server (tests/servers/arango) started here as a separate
 * process on 127.0.0.1, port 0, and stopped by its PID at the end (also on
 * failure).  Every figure is printed next to a baseline measured in the same
 * run:
 *
 *  (a) requests/s of `RETURN 1` (POST /_api/cursor) through the job API
 *      (gj_client_execute), one connection, one request at a time, vs raw
 *      libcurl: one reused easy handle doing the same POST (same headers,
 *      Basic auth, HTTP/1.1) with curl_easy_perform.  Goal: ratio >= 0.9.
 *      Printed too, without a goal: the raw loop plus json_tokener_parse +
 *      json_object_put of each reply, and the same with the lean libcurl
 *      setup (see (e)).  The loops run interleaved in slices of 250
 *      requests, so that a change of load on a shared machine hits all of
 *      them alike.
 *  (b) C (4) submitter threads, each calling gj_client_execute in a loop on
 *      ONE client whose target has max_conns C (workers C), vs C threads of
 *      raw libcurl + json-c parse with the lean setup (rawleanjson), one
 *      reused easy handle each.  Goal: ratio >= 0.9.  Printed too, without
 *      goals: the same gj run with caller_runs off (every job handed to a
 *      worker), and the ratio to C threads of plain raw libcurl without
 *      json-c (the baseline before issue 13).
 *  (b') 2*C (8) submitter threads, each doing gj_client_submit +
 *      gj_job_wait + gj_job_result on the same C-connection pool (the
 *      asynchronous use), with a finite wait (30 s: the job is always
 *      handed to a worker) and with wait(-1) (the waiter may run a job
 *      that no worker has taken yet).  Ratio to (b)'s baseline, no goal.
 *      (b) and (b') run interleaved in slices of 250 requests per
 *      connection, like (a), and print the client's CPU time per request:
 *      getrusage(RUSAGE_SELF) user + sys over the measured loop (all
 *      threads of this process; the server is another process) divided by
 *      the requests.
 *  (c) (a) and (b) vs arangojs 10.4 (bench/arango.js, run with node:
 *      db.query + cursor.all(), poolSize 1 and C).  Goal: ratio >= 2.
 *  (d) heap allocations per request in the client process (malloc, calloc
 *      and realloc calls, counted by wrappers in this program around
 *      glibc's __libc_* functions; no LD_PRELOAD), (a)'s loop vs the floor:
 *      the lean libcurl + json-c parse loop counted the same way.  Goal:
 *      <= 1.5 x the floor.  Raw libcurl without json-c printed too.
 *  (e) instructions per request on the client side ABOVE the floor of
 *      libcurl + json-c: this program re-runs itself under `valgrind
 *      --tool=callgrind --instr-atstart=no` in the --callgrind mode, which
 *      instruments only the measured loop (CALLGRIND_START/STOP_
 *      INSTRUMENTATION, all threads), against the server already running
 *      natively in its own process; `gj` (one connection, gj_client_execute)
 *      minus `rawleanjson` (the lean libcurl setup: CURLOPT_CURLU and a
 *      prebuilt Authorization header, as libgraphjob does, + json-c parse).
 *      Goal: <= 15 k.  Printed too, without goals: gj with caller_runs off,
 *      raw libcurl with and without json-c, lean libcurl without json-c.
 *
 * Usage: arango [--requests N] [--conns C] [--max-seconds S] [--js-requests J]
 *               [--cg-requests M] [--server PATH] [--no-js] [--no-callgrind]
 *        arango --callgrind MODE --port P [--requests M] [--no-caller-runs]
 *               (one loop only)
 * MODE: gj, raw, rawjson, rawlean or rawleanjson (as in (e)), or for perf
 * (M requests over 4 connections, the rate printed): gjexec (4 threads of
 * gj_client_execute, (b)), gjpar (one thread keeping 8 jobs in flight with
 * gj_client_submit / gj_job_wait), rawpar (4 threads of plain raw libcurl)
 * and rawleanjsonpar (4 threads of lean libcurl + json-c, (b)'s baseline).
 * --no-caller-runs: the gj modes with the client setting caller_runs off.
 * Defaults: N 10000, C 4, S 10 (time cap of each run), J 2000 (arangojs is
 * ~10x slower), M 2000.  Times are the best of 3 runs (CPU per request: the
 * lowest of 3).  Exit status 2 when a goal is missed, 1 on failure.
 */
#include <graphjob.h>

#include "bench_util.h"

#include <curl/curl.h>
#include <errno.h>
#include <json-c/json.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
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
#define SERVER_START_MS 10000
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

static gj_spawned server;

static int start_server(const char *path)
{
    const char *args[] = { "--port", "0", "--user", USER, "--password", PASSWORD, NULL };
    if (gj_spawn_server(&server, path, args, GJ_SPAWN_STDERR_INHERIT, 1, SERVER_START_MS) != 0)
        bench_die("%s", server.error);
    bench_child(&server);
    return server.ports[0];
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
        bench_die("out of memory setting up libcurl");
    c->headers = h;
    CURL *e = c->easy;
    if (lean) {
        c->url = curl_url();
        if (!c->url || curl_url_set(c->url, CURLUPART_URL, url, 0) != CURLUE_OK)
            bench_die("cannot parse %s", url);
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
        bench_die("raw libcurl request failed: %s, HTTP %ld, body %.200s", curl_easy_strerror(cc),
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
        bench_die("raw libcurl + json-c: unexpected reply %.200s", c->buf);
    json_object_put(j);
}

/* ---- the job API ------------------------------------------------------------ */

/* A client with one target of `conns` connections and as many workers;
 * caller_runs false: every job goes through the queue to a worker. */
static gj_client *gj_open(int port, unsigned conns, bool caller_runs)
{
    char url[160];
    snprintf(url, sizeof url, "http://" USER ":" PASSWORD "@127.0.0.1:%d?max_conns=%u", port, conns);
    gj_error *err = gj_error_new();
    gj_config *cfg = NULL;
    gj_client *client = NULL;
    if (!err)
        bench_die("out of memory");
    if (gj_config_from_url(&cfg, url, err) != 0)
        bench_die("config %s: %s", url, gj_error_message(err));
    if (gj_config_set_int(cfg, NULL, "workers", conns, err) != 0 ||
        gj_config_set_bool(cfg, NULL, "caller_runs", caller_runs, err) != 0 ||
        gj_client_new(&client, cfg, err) != 0)
        bench_die("client: %s", gj_error_message(err));
    gj_config_free(cfg);
    gj_error_free(err);
    return client;
}

static void gj_check(int rc, gj_result *res, const gj_error *err)
{
    int64_t v = 0;
    if (rc != 0)
        bench_die("job failed: %s", gj_error_message(err));
    if (gj_result_row_count(res) != 1 || gj_value_int_get(gj_result_row(res, 0), &v) != 0 || v != 1)
        bench_die("job returned %zu rows, not [1]", gj_result_row_count(res));
}

static void gj_one(gj_client *client, gj_request *req, gj_error *err)
{
    gj_result *res = NULL;
    int rc = gj_client_execute(client, req, 30000, &res, err);
    gj_check(rc, res, err);
    gj_result_free(res);
}

/* The asynchronous use: submit, wait (wait_ms; -1 lets this thread run the
 * job itself when no worker took it yet), take the result. */
static void gj_submit_wait(gj_client *client, gj_request *req, int64_t wait_ms, gj_error *err)
{
    gj_job *job = NULL;
    gj_result *res = NULL;
    if (gj_client_submit(client, req, NULL, &job, err) != 0)
        bench_die("submit: %s", gj_error_message(err));
    int rc = gj_job_wait(job, wait_ms, err);
    if (rc == 0)
        rc = gj_job_result(job, &res, err);
    gj_check(rc, res, err);
    gj_result_free(res);
    gj_job_unref(job);
}

/* ---- measurements ------------------------------------------------------------
 * Each returns requests/s over the requests it completed: `n` of them, or
 * fewer when `max_s` seconds passed first (capped is then set). */

typedef struct run {
    double rate;
    double allocs;   /* heap allocations per request (sequential runs) */
    double cpu_us;   /* client CPU time per request, in microseconds (threaded runs) */
    bool capped;
    long count;      /* threaded runs: requests done, */
    double seconds;  /* in this much time, */
    double cpu;      /* with this much CPU time of the process (s) */
} run;

static run raw_seq(raw_conn *c, long n, double max_s)
{
    run r = { 0, 0, 0, false };
    double t0 = bench_now_s(), deadline = t0 + max_s;
    unsigned long a0 = allocs_now();
    long i;
    for (i = 0; i < n; i++) {
        if ((i & 63) == 0 && bench_now_s() > deadline) {
            r.capped = true;
            break;
        }
        raw_request(c);
    }
    r.allocs = (double)(allocs_now() - a0) / (double)(i ? i : 1);
    r.rate = (double)i / (bench_now_s() - t0);
    return r;
}

static run gj_seq(gj_client *client, gj_request *req, long n, double max_s)
{
    run r = { 0, 0, 0, false };
    gj_error *err = gj_error_new();
    if (!err)
        bench_die("out of memory");
    double t0 = bench_now_s(), deadline = t0 + max_s;
    unsigned long a0 = allocs_now();
    long i;
    for (i = 0; i < n; i++) {
        if ((i & 63) == 0 && bench_now_s() > deadline) {
            r.capped = true;
            break;
        }
        gj_one(client, req, err);
    }
    r.allocs = (double)(allocs_now() - a0) / (double)(i ? i : 1);
    r.rate = (double)i / (bench_now_s() - t0);
    gj_error_free(err);
    return r;
}

/* (a): the sequential loops interleaved in slices of SEQ_SLICE requests, so
 * that all see the same load on a shared machine; each kind's rate is its
 * requests over its own time.  out[SEQ_RAW] raw libcurl, out[SEQ_GJ] the
 * job API, out[SEQ_RAWJSON] raw libcurl + json-c, out[SEQ_LEANJSON] lean
 * libcurl + json-c (the floor of (d)). */
#define SEQ_SLICE 250
enum { SEQ_RAW, SEQ_GJ, SEQ_RAWJSON, SEQ_LEANJSON, SEQ_KINDS };
static void seq_interleaved(raw_conn *raw, raw_conn *lean, gj_client *client, gj_request *req,
                            long n, double max_s, run out[SEQ_KINDS])
{
    double spent[SEQ_KINDS] = { 0 };
    unsigned long allocs[SEQ_KINDS] = { 0 };
    long done = 0;
    bool capped = false;
    gj_error *err = gj_error_new();
    if (!err)
        bench_die("out of memory");
    while (done < n && !capped) {
        long k = n - done < SEQ_SLICE ? n - done : SEQ_SLICE;
        for (int w = 0; w < SEQ_KINDS; w++) {
            unsigned long a0 = allocs_now();
            double t0 = bench_now_s();
            for (long i = 0; i < k; i++) {
                if (w == SEQ_RAW)
                    raw_request(raw);
                else if (w == SEQ_GJ)
                    gj_one(client, req, err);
                else if (w == SEQ_RAWJSON)
                    raw_json_request(raw);
                else
                    raw_json_request(lean);
            }
            spent[w] += bench_now_s() - t0;
            allocs[w] += allocs_now() - a0;
            capped |= spent[w] > max_s;
        }
        done += k;
    }
    for (int w = 0; w < SEQ_KINDS; w++)
        out[w] = (run){ (double)done / spent[w], (double)allocs[w] / (double)done, 0, capped, 0, 0, 0 };
    gj_error_free(err);
}

/* One thread of a threaded run: n requests (or until the deadline) of
 * either raw libcurl on its own connection or the job API on a shared
 * client. */
typedef enum thread_kind {
    T_RAW,          /* one(conn) */
    T_EXECUTE,      /* gj_client_execute */
    T_SUBMIT_WAIT,  /* gj_client_submit + gj_job_wait(30 s) + gj_job_result */
    T_SUBMIT_WAIT_FOREVER,  /* the same with gj_job_wait(-1) */
} thread_kind;

typedef struct bench_thread {
    thread_kind kind;
    void (*one)(raw_conn *);
    raw_conn *conn;
    gj_client *client;
    gj_request *req;
    long n;
    double deadline;
    pthread_barrier_t *start;
    long done;
} bench_thread;

static void *bench_thread_main(void *p)
{
    bench_thread *t = p;
    gj_error *err = t->kind == T_RAW ? NULL : gj_error_new();
    if (t->kind != T_RAW && !err)
        bench_die("out of memory");
    pthread_barrier_wait(t->start);
    for (t->done = 0; t->done < t->n; t->done++) {
        if ((t->done & 63) == 0 && bench_now_s() > t->deadline)
            break;
        switch (t->kind) {
        case T_RAW: t->one(t->conn); break;
        case T_EXECUTE: gj_one(t->client, t->req, err); break;
        case T_SUBMIT_WAIT: gj_submit_wait(t->client, t->req, 30000, err); break;
        case T_SUBMIT_WAIT_FOREVER: gj_submit_wait(t->client, t->req, -1, err); break;
        }
    }
    gj_error_free(err);
    return NULL;
}

/* nthreads threads of `kind`, n / nthreads requests each; conns[i] is
 * thread i's connection (raw; opened and warmed up by the caller). */
static run threads_run(thread_kind kind, unsigned nthreads, raw_conn *conns, void (*one)(raw_conn *),
                       gj_client *client, gj_request *req, long n, double max_s)
{
    enum { THREADS_MAX = 2 * MAX_CONNS };
    run r = { 0, 0, 0, false };
    bench_thread t[THREADS_MAX];
    pthread_t tid[THREADS_MAX];
    pthread_barrier_t start;
    if (nthreads > THREADS_MAX)
        bench_die("at most %d threads", THREADS_MAX);
    pthread_barrier_init(&start, NULL, nthreads + 1);
    double deadline = bench_now_s() + max_s + 1;
    for (unsigned i = 0; i < nthreads; i++) {
        t[i] = (bench_thread){ kind, one, conns ? &conns[i] : NULL, client, req, n / nthreads,
                               deadline, &start, 0 };
        if (pthread_create(&tid[i], NULL, bench_thread_main, &t[i]) != 0)
            bench_die("pthread_create failed");
    }
    pthread_barrier_wait(&start);
    double t0 = bench_now_s(), c0 = bench_cpu_s();
    long done = 0;
    for (unsigned i = 0; i < nthreads; i++) {
        pthread_join(tid[i], NULL);
        done += t[i].done;
        r.capped |= t[i].done < t[i].n;
    }
    double spent = bench_now_s() - t0, cpu = bench_cpu_s() - c0;
    r.rate = (double)done / spent;
    r.cpu_us = done ? cpu * 1e6 / (double)done : 0;
    r.count = done;
    r.seconds = spent;
    r.cpu = cpu;
    pthread_barrier_destroy(&start);
    return r;
}

/* (b) and (b'): the threaded loops interleaved in slices of PAR_SLICE
 * requests per connection (each slice a fresh set of threads; starting
 * them costs well under 1 % of a slice), like (a), so that a change of
 * load on a shared machine hits all of them alike; each kind's rate is its
 * requests over its own time, its CPU per request its own CPU time over its
 * requests. */
#define PAR_SLICE 250
typedef struct par_kind {
    thread_kind kind;
    unsigned nthreads;
    raw_conn *conns;              /* T_RAW: one per thread */
    void (*one)(raw_conn *);      /* T_RAW */
    gj_client *client;            /* the others */
} par_kind;

static void par_interleaved(const par_kind *kinds, size_t nkinds, gj_request *req, unsigned nconns,
                            long n, double max_s, run *out)
{
    enum { KINDS_MAX = 8 };
    run sum[KINDS_MAX];
    long done = 0;
    bool capped = false;
    if (nkinds > KINDS_MAX)
        bench_die("at most %d kinds", KINDS_MAX);
    memset(sum, 0, sizeof sum);
    while (done < n && !capped) {
        long k = n - done < PAR_SLICE * (long)nconns ? n - done : PAR_SLICE * (long)nconns;
        for (size_t w = 0; w < nkinds; w++) {
            const par_kind *pk = &kinds[w];
            run r = threads_run(pk->kind, pk->nthreads, pk->conns, pk->one, pk->client, req, k,
                                max_s - sum[w].seconds);
            sum[w].count += r.count;
            sum[w].seconds += r.seconds;
            sum[w].cpu += r.cpu;
            capped |= r.capped || sum[w].seconds > max_s;
        }
        done += k;
    }
    for (size_t w = 0; w < nkinds; w++) {
        run *o = &out[w];
        *o = sum[w];
        o->rate = o->seconds > 0 ? (double)o->count / o->seconds : 0;
        o->cpu_us = o->count ? o->cpu * 1e6 / (double)o->count : 0;
        o->capped = capped;
    }
}

static run raw_par(raw_conn *conns, unsigned nconns, long n, double max_s, void (*one)(raw_conn *))
{
    return threads_run(T_RAW, nconns, conns, one, NULL, NULL, n, max_s);
}

static run gj_threads(thread_kind kind, gj_client *client, gj_request *req, unsigned nthreads, long n,
                      double max_s)
{
    return threads_run(kind, nthreads, NULL, NULL, client, req, n, max_s);
}

/* One thread keeping 2 * nconns jobs in flight (gj_client_submit, then
 * gj_job_wait on the oldest): the perf loop `gjpar`. */
static run gj_window(gj_client *client, gj_request *req, unsigned nconns, long n, double max_s)
{
    run r = { 0, 0, 0, false };
    enum { WINDOW_MAX = 2 * MAX_CONNS };
    gj_job *ring[WINDOW_MAX];
    size_t window = 2 * (size_t)nconns, head = 0, inflight = 0;
    long submitted = 0, done = 0;
    gj_error *err = gj_error_new();
    if (!err)
        bench_die("out of memory");
    double t0 = bench_now_s(), deadline = t0 + max_s, c0 = bench_cpu_s();
    while (done < submitted || (submitted < n && !r.capped)) {
        if (submitted < n && !r.capped && inflight < window) {
            if ((submitted & 63) == 0 && bench_now_s() > deadline) {
                r.capped = true;
                continue;
            }
            if (gj_client_submit(client, req, NULL, &ring[(head + inflight) % window], err) != 0)
                bench_die("submit: %s", gj_error_message(err));
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
    r.rate = (double)done / (bench_now_s() - t0);
    r.cpu_us = done ? (bench_cpu_s() - c0) * 1e6 / (double)done : 0;
    gj_error_free(err);
    return r;
}

/* The best rate, the fewest allocations and the least CPU per request over
 * the rounds. */
static void keep_best(run *best, run r)
{
    if (r.rate > best->rate)
        best->rate = r.rate;
    if (r.allocs > 0 && (best->allocs == 0 || r.allocs < best->allocs))
        best->allocs = r.allocs;
    if (r.cpu_us > 0 && (best->cpu_us == 0 || r.cpu_us < best->cpu_us))
        best->cpu_us = r.cpu_us;
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
    const char *args[] = { script, url, USER, PASSWORD, ns, cs, ss, NULL };

    /* The environment with NODE_PATH pointing at tests/peers/node_modules. */
    size_t count = 0;
    while (environ[count])
        count++;
    const char **envp = calloc(count + 2, sizeof *envp);
    if (!envp)
        bench_die("out of memory");
    size_t k = 0;
    envp[k++] = "NODE_PATH=" GJ_SRCDIR "/tests/peers/node_modules";
    for (size_t i = 0; i < count; i++)
        if (strncmp(environ[i], "NODE_PATH=", 10) != 0)
            envp[k++] = environ[i];
    envp[k] = NULL;

    gj_spawned node;
    int rc = gj_spawn_start(&node, "node", args, envp, GJ_SPAWN_STDERR_INHERIT);
    free((void *)envp);
    if (rc != 0) {
        fprintf(stderr, "arango: %s\n", node.error);
        return -1;
    }
    int limit_ms = (int)((8 * max_s + 40) * 1000);
    char line[256];
    rc = gj_spawn_read_line(&node, "JS ", limit_ms, line, sizeof line);
    int st = gj_spawn_wait(&node, rc == 0 ? 5000 : 1000);
    if (rc != 0 || st != 0)
        return -1;
    if (sscanf(line, "JS one=%lf many=%lf version=%31s", one, many, ns) != 3)
        return -1;
    snprintf(version, vcap, "%s", ns);
    return 0;
}

/* ---- callgrind ------------------------------------------------------------------ */

/* Run this program under callgrind in --callgrind mode `which` (with
 * caller_runs off when !caller_runs); returns instructions per request, or
 * -1. */
static double run_callgrind(const char *which, bool caller_runs, int port, long n)
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
    const char *args[] = { "-q", "--tool=callgrind", "--instr-atstart=no", outopt, exe,
                           "--callgrind", which, "--port", ps, "--requests", ns,
                           caller_runs ? NULL : "--no-caller-runs", NULL };
    gj_spawned vg;
    if (gj_spawn_start(&vg, "valgrind", args, NULL, GJ_SPAWN_STDERR_INHERIT) != 0) {
        fprintf(stderr, "arango: %s\n", vg.error);
        unlink(out);
        return -1;
    }
    int rc = gj_spawn_read_line(&vg, "CG done", 300000, NULL, 0);
    int st = gj_spawn_wait(&vg, rc == 0 ? 60000 : 1000);
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

/* The --callgrind mode: warm up, then only the measured loop instrumented
 * (gj, raw*), or a loop over 4 connections for perf (the *par and gjexec
 * modes; not used by callgrind). */
static int callgrind_child(const char *which, bool caller_runs, int port, long n)
{
    enum { PERF_CONNS = 4 };
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
        gj_client *client = gj_open(port, 1, caller_runs);
        gj_request *req;
        gj_error *err = gj_error_new();
        if (!err || gj_request_new_query(&req, "RETURN 1") != 0)
            bench_die("out of memory");
        for (int i = 0; i < 20; i++)
            gj_one(client, req, err);
        CALLGRIND_START_INSTRUMENTATION;
        for (long i = 0; i < n; i++)
            gj_one(client, req, err);
        CALLGRIND_STOP_INSTRUMENTATION;
        gj_error_free(err);
        gj_request_unref(req);
        gj_client_free(client);
    } else if (strcmp(which, "rawpar") == 0 || strcmp(which, "rawleanjsonpar") == 0) {
        bool lean = which[3] == 'l';
        raw_conn c[PERF_CONNS];
        for (unsigned i = 0; i < PERF_CONNS; i++)
            raw_open_setup(&c[i], port, lean);
        run r = raw_par(c, PERF_CONNS, n, 3600, lean ? raw_json_request : raw_request);
        printf("%s %.0f req/s, %.1f us CPU per request\n", which, r.rate, r.cpu_us);
        for (unsigned i = 0; i < PERF_CONNS; i++)
            raw_close(&c[i]);
    } else if (strcmp(which, "gjpar") == 0 || strcmp(which, "gjexec") == 0) {
        gj_client *client = gj_open(port, PERF_CONNS, caller_runs);
        gj_request *req;
        if (gj_request_new_query(&req, "RETURN 1") != 0)
            bench_die("out of memory");
        run r = which[2] == 'p' ? gj_window(client, req, PERF_CONNS, n, 3600)
                                : gj_threads(T_EXECUTE, client, req, PERF_CONNS, n, 3600);
        printf("%s%s %.0f req/s, %.1f us CPU per request\n", which,
               caller_runs ? "" : " (caller_runs off)", r.rate, r.cpu_us);
        gj_request_unref(req);
        gj_client_free(client);
    } else {
        bench_die("--callgrind takes gj, raw, rawjson, rawlean, rawleanjson, gjexec, gjpar, rawpar or "
            "rawleanjsonpar, not '%s'", which);
    }
    printf("CG done %ld\n", n);
    fflush(stdout);
    return 0;
}

/* ---- main ------------------------------------------------------------------------ */

static const char *capped(run a, run b)
{
    return a.capped || b.capped ? "  [time cap hit]" : "";
}

int main(int argc, char **argv)
{
    bench_name = "arango";
    long n = 10000, cg_n = 2000, js_n = 2000;
    long conns = 4, max_s = 10;
    int port = 0;
    bool js = true, cg = true, caller_runs = true;
    const char *cg_mode = NULL;
    const char *server_path = GJ_BUILDDIR "/tests/servers/arango/arango-refserver";
    enum { O_REQ = 256, O_CONNS, O_MAXS, O_JSREQ, O_CGREQ, O_SERVER, O_NOJS, O_NOCG, O_CG, O_PORT,
           O_NOCR };
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
        { "no-caller-runs", no_argument, NULL, O_NOCR },
        { NULL, 0, NULL, 0 },
    };
    int o;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case O_REQ: n = bench_arg_long("--requests", optarg, 1, 10000000); break;
        case O_CONNS: conns = bench_arg_long("--conns", optarg, 1, MAX_CONNS); break;
        case O_MAXS: max_s = bench_arg_long("--max-seconds", optarg, 1, 3600); break;
        case O_JSREQ: js_n = bench_arg_long("--js-requests", optarg, 1, 10000000); break;
        case O_CGREQ: cg_n = bench_arg_long("--cg-requests", optarg, 1, 1000000); break;
        case O_SERVER: server_path = optarg; break;
        case O_NOJS: js = false; break;
        case O_NOCG: cg = false; break;
        case O_CG: cg_mode = optarg; break;
        case O_PORT: port = (int)bench_arg_long("--port", optarg, 1, 65535); break;
        case O_NOCR: caller_runs = false; break;
        default:
            fputs("usage: arango [--requests N] [--conns C] [--max-seconds S] [--js-requests J]\n"
                  "              [--cg-requests M] [--server PATH] [--no-js] [--no-callgrind]\n"
                  "       arango --callgrind MODE --port P [--requests M] [--no-caller-runs]\n"
                  "MODE: gj raw rawjson rawlean rawleanjson gjexec gjpar rawpar rawleanjsonpar\n",
                  stderr);
            return 1;
        }
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        bench_die("curl_global_init failed");
    if (cg_mode) {
        if (!port)
            bench_die("--callgrind needs --port");
        return callgrind_child(cg_mode, caller_runs, port, n);
    }

    bench_signals();
    port = start_server(server_path);
    unsigned nc = (unsigned)conns;
    printf("arango: RETURN 1 as POST /_api/cursor against the reference server on 127.0.0.1:%d,\n"
           "        %ld requests per run (capped at %ld s), %u connections for (b), best of 3\n",
           port, n, max_s, nc);
    fflush(stdout);

    /* Connections opened and warmed up once; kept for all three rounds. */
    raw_conn raw1, lean1, rawc[MAX_CONNS], leanc[MAX_CONNS];
    raw_open(&raw1, port);
    raw_open_setup(&lean1, port, true);
    for (unsigned i = 0; i < nc; i++) {
        raw_open(&rawc[i], port);
        raw_open_setup(&leanc[i], port, true);
    }
    gj_client *gj1 = gj_open(port, 1, true), *gjc = gj_open(port, nc, true);
    gj_client *gjc_off = gj_open(port, nc, false);
    gj_request *req;
    if (gj_request_new_query(&req, "RETURN 1") != 0)
        bench_die("out of memory");
    raw_seq(&raw1, 50, 30);
    raw_seq(&lean1, 50, 30);
    for (unsigned i = 0; i < nc; i++) {
        raw_seq(&rawc[i], 10, 30);
        raw_seq(&leanc[i], 10, 30);
    }
    gj_seq(gj1, req, 50, 30);
    gj_threads(T_EXECUTE, gjc, req, nc, 20 * nc, 30);
    gj_threads(T_SUBMIT_WAIT, gjc, req, 2 * nc, 20 * nc, 30);
    gj_threads(T_EXECUTE, gjc_off, req, nc, 20 * nc, 30);

    /* (b) and (b'), interleaved: */
    enum { PAR_RAW, PAR_LEANJSON, PAR_GJ, PAR_GJ_OFF, PAR_ASYNC, PAR_ASYNC_FOREVER, PAR_KINDS };
    const par_kind kinds[PAR_KINDS] = {
        [PAR_RAW] = { T_RAW, nc, rawc, raw_request, NULL },
        [PAR_LEANJSON] = { T_RAW, nc, leanc, raw_json_request, NULL },
        [PAR_GJ] = { T_EXECUTE, nc, NULL, NULL, gjc },
        [PAR_GJ_OFF] = { T_EXECUTE, nc, NULL, NULL, gjc_off },
        [PAR_ASYNC] = { T_SUBMIT_WAIT, 2 * nc, NULL, NULL, gjc },
        [PAR_ASYNC_FOREVER] = { T_SUBMIT_WAIT_FOREVER, 2 * nc, NULL, NULL, gjc },
    };
    run zero = { 0, 0, 0, false, 0, 0, 0 };
    run seq_best[SEQ_KINDS] = { zero, zero, zero, zero };
    run par_best[PAR_KINDS] = { zero, zero, zero, zero, zero, zero };
    for (int round = 0; round < 3; round++) {
        run seq[SEQ_KINDS], par[PAR_KINDS];
        seq_interleaved(&raw1, &lean1, gj1, req, n, (double)max_s, seq);
        for (int k = 0; k < SEQ_KINDS; k++)
            keep_best(&seq_best[k], seq[k]);
        par_interleaved(kinds, PAR_KINDS, req, nc, n, (double)max_s, par);
        for (int k = 0; k < PAR_KINDS; k++)
            keep_best(&par_best[k], par[k]);
    }
    gj_request_unref(req);
    gj_client_free(gj1);
    gj_client_free(gjc);
    gj_client_free(gjc_off);
    raw_close(&raw1);
    raw_close(&lean1);
    for (unsigned i = 0; i < nc; i++) {
        raw_close(&rawc[i]);
        raw_close(&leanc[i]);
    }
    run raw_a = seq_best[SEQ_RAW], gj_a = seq_best[SEQ_GJ], rawj_a = seq_best[SEQ_RAWJSON];
    run leanj_a = seq_best[SEQ_LEANJSON];
    run raw_b = par_best[PAR_RAW], lean_b = par_best[PAR_LEANJSON], gj_b = par_best[PAR_GJ];
    run gj_b_off = par_best[PAR_GJ_OFF], gj_async = par_best[PAR_ASYNC];
    run gj_async_forever = par_best[PAR_ASYNC_FOREVER];

    int missed = 0;
    const char *cs = nc > 1 ? "s" : "";
    double ra = gj_a.rate / raw_a.rate, rb = gj_b.rate / lean_b.rate;
    printf("(a) 1 connection, gj_client_execute   gj %8.0f req/s   raw libcurl %8.0f req/s   "
           "ratio %.2f  (goal >= 0.9) %s%s\n",
           gj_a.rate, raw_a.rate, ra, bench_verdict(ra >= 0.9), capped(gj_a, raw_a));
    printf("    (no goal) raw libcurl + json-c parse %8.0f req/s (ratio %.2f), lean libcurl + "
           "json-c parse %8.0f req/s (ratio %.2f)\n",
           rawj_a.rate, gj_a.rate / rawj_a.rate, leanj_a.rate, gj_a.rate / leanj_a.rate);
    printf("(b) %u threads x gj_client_execute, %u connection%s\n", nc, nc, cs);
    printf("    gj                       %8.0f req/s %6.1f us CPU/req   lean libcurl + json-c, %u "
           "threads %8.0f req/s %6.1f us CPU/req   ratio %.2f  (goal >= 0.9) %s%s\n",
           gj_b.rate, gj_b.cpu_us, nc, lean_b.rate, lean_b.cpu_us, rb, bench_verdict(rb >= 0.9),
           capped(gj_b, lean_b));
    printf("    gj, caller_runs off      %8.0f req/s %6.1f us CPU/req   ratio %.2f  (no goal)%s\n",
           gj_b_off.rate, gj_b_off.cpu_us, gj_b_off.rate / lean_b.rate, capped(gj_b_off, lean_b));
    printf("    (no goal) vs raw libcurl without json-c, %u threads %8.0f req/s %6.1f us CPU/req: "
           "ratio %.2f\n", nc, raw_b.rate, raw_b.cpu_us, gj_b.rate / raw_b.rate);
    printf("(b') %u threads x gj_client_submit + gj_job_wait, %u connection%s\n", 2 * nc, nc, cs);
    printf("    wait(30 s)               %8.0f req/s %6.1f us CPU/req   ratio %.2f to (b)'s "
           "baseline  (no goal)%s\n",
           gj_async.rate, gj_async.cpu_us, gj_async.rate / lean_b.rate, capped(gj_async, lean_b));
    printf("    wait(-1)                 %8.0f req/s %6.1f us CPU/req   ratio %.2f to (b)'s "
           "baseline  (no goal)%s\n",
           gj_async_forever.rate, gj_async_forever.cpu_us, gj_async_forever.rate / lean_b.rate,
           capped(gj_async_forever, lean_b));
    missed |= ra < 0.9 || rb < 0.9;
    fflush(stdout);

    if (js) {
        double one = 0, many = 0;
        char version[32] = "?";
        if (run_js(port, js_n, nc, (double)max_s, &one, &many, version, sizeof version) == 0) {
            double ja = gj_a.rate / one, jb = gj_b.rate / many;
            printf("(c) 1 connection    gj %8.0f req/s   arangojs %s %8.0f req/s   ratio %.2f  (goal >= 2) %s\n",
                   gj_a.rate, version, one, ja, bench_verdict(ja >= 2));
            printf("    %u connection%s  gj %8.0f req/s   arangojs %s %8.0f req/s   ratio %.2f  (goal >= 2) %s\n"
                   "    [gj: (b); arangojs: %ld requests per run, best of 3]\n",
                   nc, cs, gj_b.rate, version, many, jb, bench_verdict(jb >= 2), js_n);
            missed |= ja < 2 || jb < 2;
        } else {
            printf("(c) arangojs: not measured (node or tests/peers/node_modules missing, or the "
                   "script failed; run `npm ci` in tests/peers)  MISSED\n");
            missed = 1;
        }
        fflush(stdout);
    }

    if (COUNT_ALLOCS) {
        double rd = leanj_a.allocs > 0 ? gj_a.allocs / leanj_a.allocs : 0;
        printf("(d) allocations     gj %6.1f per request   floor (lean libcurl + json-c parse) %6.1f   "
               "ratio %.2f  (goal <= 1.5) %s   [raw libcurl without json-c %.1f]\n",
               gj_a.allocs, leanj_a.allocs, rd, bench_verdict(rd <= 1.5), raw_a.allocs);
        missed |= rd > 1.5;
    } else {
        printf("(d) allocations: not counted in a sanitizer build\n");
    }
    fflush(stdout);

    if (cg) {
#ifdef HAVE_CALLGRIND_H
        double ig = run_callgrind("gj", true, port, cg_n);
        double ifl = run_callgrind("rawleanjson", true, port, cg_n);
        double ioff = run_callgrind("gj", false, port, cg_n);
        double ir = run_callgrind("raw", true, port, cg_n);
        double ij = run_callgrind("rawjson", true, port, cg_n);
        double il = run_callgrind("rawlean", true, port, cg_n);
        if (ig > 0 && ifl > 0) {
            double above = ig - ifl;
            printf("(e) instructions    gj %7.1f k per request   floor (lean libcurl + json-c parse) "
                   "%7.1f k   above the floor %6.1f k  (goal <= 15 k) %s  [callgrind, %ld requests]\n",
                   ig / 1e3, ifl / 1e3, above / 1e3, bench_verdict(above <= 15e3), cg_n);
            printf("    (no goal) gj with caller_runs off %.1f k; raw libcurl %.1f k, + json-c %.1f k; "
                   "lean libcurl %.1f k\n", ioff / 1e3, ir / 1e3, ij / 1e3, il / 1e3);
            missed |= above > 15e3;
        } else {
            printf("(e) instructions: not measured (valgrind missing or failed)  MISSED\n");
            missed = 1;
        }
#else
        printf("(e) instructions: not measured (built without valgrind/callgrind.h)  MISSED\n");
        missed = 1;
#endif
    }

    bench_stop_children();
    curl_global_cleanup();
    return missed ? 2 : 0;
}
