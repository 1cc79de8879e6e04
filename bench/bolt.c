/*
 * bench/bolt — the Bolt backend against the reference server
 * (tests/servers/bolt/bolt-refserver), each figure printed next to a
 * baseline measured in the same run, as a ratio (issue 3, "Benchmark"):
 *
 *  (a) small queries/s ("RETURN 1 AS x") on one connection (1 worker,
 *      max_conns 1):
 *        unpipelined  one job at a time: gj_client_execute, with the
 *                     caller-runs fast path (the default: the calling
 *                     thread runs the job on the idle connection) and with
 *                     caller_runs off (submit, a worker runs it, wait); the
 *                     client CPU time per query of both (getrusage);
 *        queued       all jobs submitted at once, then waited for (the
 *                     backend runs one job at a time per connection: no
 *                     pipelining across jobs);
 *        transaction  op "transaction": BEGIN, S x (RUN + PULL), COMMIT in one
 *                     write; counted in statements/s.  Goal >= 150 k/s.
 *  (b) records/s decoded into values for an N-row UNWIND (default 10^6),
 *      through a row callback and collected into the result.  Goal >= 2 M/s.
 *      Extra baseline: a raw loop over the codec (dechunk + RECORD decode
 *      into values) on the same bytes, in memory.
 *  (c) 4 submitter threads, each calling gj_client_execute with
 *      "RETURN 1 AS x" in a loop, on one client whose target has max_conns
 *      4 (4 workers): queries/s and client CPU time per query
 *      (getrusage(RUSAGE_SELF) user + sys over the loop, all threads of this
 *      process; the server is another process), next to the same run with
 *      caller_runs off.  Goal: <= 11 us of client CPU per query.
 *  (d) allocations per record in (b) (malloc + calloc + realloc calls of the
 *      whole process while the job runs, counted by interposing them in this
 *      program).  Goal <= 10.
 *  (e) every workload of (a) and (b) with the official neo4j-driver 6.3
 *      (bench/bolt.js, run with node): goal >= 3x its throughput.
 *
 * Usage: bolt [options] [queries] [transactions] [rows]
 *   defaults 20000 queries, 2000 transactions of 16 statements, 1000000 rows
 *   --statements S    statements per transaction (default 16: the reference
 *                     server keeps at most 16 results open in a transaction)
 *   --no-js           skip the neo4j-driver side
 *   --time-limit S    each measured loop stops after S seconds (default 15)
 *   --callgrind=W     run only workload W once (no JS, no best of 3) with
 *                     callgrind's counters zeroed before it and dumped after
 *                     it; W is unpipelined, queued, transaction, records_cb,
 *                     records_collected, codec or threads ((c)'s loop, 4
 *                     connections).  See bench/README.md.
 *   --no-caller-runs  with --callgrind: the client setting caller_runs off.
 * Times are the best of 3 runs (CPU per query: the lowest of 3).  Exit
 * status 2 when a goal is missed, 1 on an error.
 */
#include <graphjob.h>

#include "codec/bolt_msg.h"
#include "codec/chunk.h"
#include "codec/packstream.h"

#include "bench_util.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#if defined(__has_include)
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define HAVE_CALLGRIND 1
#endif
#endif
#ifndef HAVE_CALLGRIND
#define CALLGRIND_ZERO_STATS
#define CALLGRIND_DUMP_STATS_AT(s) ((void)(s))
#endif

#ifndef GJ_BENCH_SRCDIR
#define GJ_BENCH_SRCDIR "."
#endif

#define SMALL_QUERY "RETURN 1 AS x"
#define WAIT_MS 120000
#define THREADS 4   /* (c): submitter threads, connections and workers */

/* ---- allocation counting ---------------------------------------------------
 * malloc, calloc and realloc of the whole process (the library included)
 * are these, which count and forward to glibc.  Not under sanitizers, which
 * own the allocator. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define COUNT_ALLOCS 0
#else
#define COUNT_ALLOCS 1
#endif

static atomic_long g_allocs;

#if COUNT_ALLOCS
void *__libc_malloc(size_t n);
void *__libc_calloc(size_t n, size_t size);
void *__libc_realloc(void *p, size_t n);
void *malloc(size_t n);
void *calloc(size_t n, size_t size);
void *realloc(void *p, size_t n);

void *malloc(size_t n)
{
    atomic_fetch_add_explicit(&g_allocs, 1, memory_order_relaxed);
    return __libc_malloc(n);
}

void *calloc(size_t n, size_t size)
{
    atomic_fetch_add_explicit(&g_allocs, 1, memory_order_relaxed);
    return __libc_calloc(n, size);
}

void *realloc(void *p, size_t n)
{
    atomic_fetch_add_explicit(&g_allocs, 1, memory_order_relaxed);
    return __libc_realloc(p, n);
}
#endif

static long allocs_now(void)
{
    return atomic_load_explicit(&g_allocs, memory_order_relaxed);
}

/* False when another allocator took malloc over (sanitizers, valgrind's
 * memcheck): then nothing is counted. */
static bool counting_works(void)
{
    long before = allocs_now();
    void *volatile probe = malloc(16);
    free(probe);
    return COUNT_ALLOCS && allocs_now() > before;
}

/* ---- clocks, errors ------------------------------------------------------------ */

/* Children to stop at exit (also on failure and on SIGINT / SIGTERM):
 * bench_util.h keeps them. */
static gj_spawned g_server, g_node;

static void die(const char *what, const gj_error *err)
{
    fprintf(stderr, "bench/bolt: %s%s%s\n", what, err ? ": " : "", err ? gj_error_message(err) : "");
    exit(1);   /* atexit stops the server */
}

/* ---- the reference server ---------------------------------------------------- */

static int start_server(void)
{
    char path[PATH_MAX];
    gj_spawn_build_path(path, sizeof path, "tests/servers/bolt/bolt-refserver");
    const char *args[] = { "--host", "127.0.0.1", "--port", "0", NULL };
    if (gj_spawn_server(&g_server, path, args, GJ_SPAWN_STDERR_NULL, 1, 10000) != 0) {
        fprintf(stderr, "bench/bolt: %s\n", g_server.error);
        exit(1);
    }
    bench_child(&g_server);
    return g_server.ports[0];
}

/* ---- the library side ----------------------------------------------------- */

typedef struct bench {
    int port;
    long queries, txs, stmts, rows;
    double limit_s;
} bench;

/* A client with `conns` connections and as many workers; caller_runs false:
 * every job goes through the queue to a worker. */
static gj_client *client_new(const bench *b, long queue, unsigned conns, bool caller_runs)
{
    char url[96];
    snprintf(url, sizeof url, "bolt://neo4j:password@127.0.0.1:%d", b->port);
    gj_error *err = gj_error_new();
    gj_config *cfg = NULL;
    gj_client *c = NULL;
    if (!err || gj_config_from_url(&cfg, url, err) != 0 ||
        gj_config_set_int(cfg, NULL, "workers", conns, err) != 0 ||
        gj_config_set_int(cfg, NULL, "queue_size", queue < 65536 ? 65536 : queue + 16, err) != 0 ||
        gj_config_set_bool(cfg, NULL, "caller_runs", caller_runs, err) != 0 ||
        gj_config_set_int(cfg, "default", "max_conns", conns, err) != 0 || gj_client_new(&c, cfg, err) != 0)
        die("client", err);
    gj_config_free(cfg);
    gj_error_free(err);
    return c;
}

static gj_request *request_or_die(const char *op, const char *text)
{
    gj_request *r = NULL;
    if (gj_request_new(&r, op, text) != 0)
        die("request", NULL);
    return r;
}

static void check_small(const gj_result *res, const char *what)
{
    int64_t v = 0;
    if (gj_result_row_count(res) != 1 || gj_value_int_get(gj_value_list_at(gj_result_row(res, 0), 0), &v) != 0 ||
        v != 1) {
        fprintf(stderr, "bench/bolt: %s: wrong answer\n", what);
        exit(1);
    }
}

/* One figure of one run: how many things in how long, with how many
 * allocations and how much CPU time of this process (seconds). */
typedef struct run {
    double count, seconds;
    long allocs;
    double cpu;
} run;

static run gj_unpipelined(const bench *b, gj_client *c)
{
    gj_request *req = request_or_die(GJ_OP_QUERY, SMALL_QUERY);
    gj_error *err = gj_error_new();
    long n = 0;
    long a0 = allocs_now();
    double t0 = bench_now_s(), c0 = bench_cpu_s();
    while (n < b->queries && bench_now_s() - t0 < b->limit_s) {
        gj_result *res;
        if (gj_client_execute(c, req, WAIT_MS, &res, err) != 0)
            die("unpipelined query", err);
        check_small(res, "unpipelined query");
        gj_result_free(res);
        n++;
    }
    run r = { (double)n, bench_now_s() - t0, allocs_now() - a0, bench_cpu_s() - c0 };
    gj_error_free(err);
    gj_request_unref(req);
    return r;
}

/* (c): THREADS threads, each calling gj_client_execute on the shared client
 * (THREADS connections) b->queries / THREADS times, or until the time limit. */
typedef struct exec_thread {
    const bench *b;
    gj_client *c;
    long n;
    double deadline;
    pthread_barrier_t *start;
    long done;
} exec_thread;

static void *exec_thread_main(void *p)
{
    exec_thread *t = p;
    gj_request *req = request_or_die(GJ_OP_QUERY, SMALL_QUERY);
    gj_error *err = gj_error_new();
    if (!err)
        die("out of memory", NULL);
    pthread_barrier_wait(t->start);
    for (t->done = 0; t->done < t->n; t->done++) {
        if ((t->done & 63) == 0 && bench_now_s() > t->deadline)
            break;
        gj_result *res;
        if (gj_client_execute(t->c, req, WAIT_MS, &res, err) != 0)
            die("threaded query", err);
        check_small(res, "threaded query");
        gj_result_free(res);
    }
    gj_error_free(err);
    gj_request_unref(req);
    return NULL;
}

static run gj_threads(const bench *b, gj_client *c)
{
    exec_thread t[THREADS];
    pthread_t tid[THREADS];
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, THREADS + 1);
    double deadline = bench_now_s() + b->limit_s;
    for (int i = 0; i < THREADS; i++) {
        t[i] = (exec_thread){ b, c, b->queries / THREADS, deadline, &start, 0 };
        if (pthread_create(&tid[i], NULL, exec_thread_main, &t[i]) != 0)
            die("pthread_create failed", NULL);
    }
    long a0 = allocs_now();
    pthread_barrier_wait(&start);
    double t0 = bench_now_s(), c0 = bench_cpu_s();
    long n = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(tid[i], NULL);
        n += t[i].done;
    }
    run r = { (double)n, bench_now_s() - t0, allocs_now() - a0, bench_cpu_s() - c0 };
    pthread_barrier_destroy(&start);
    return r;
}

/* Submit n jobs of req at once, then wait for each; the result checked by
 * check (rows in the result: 1). */
static run gj_queued(const bench *b, gj_client *c, gj_request *req, long n, const char *what)
{
    gj_job **jobs = calloc((size_t)n, sizeof *jobs);
    gj_error *err = gj_error_new();
    if (!jobs || !err)
        die("out of memory", NULL);
    long a0 = allocs_now();
    double t0 = bench_now_s();
    for (long i = 0; i < n; i++)
        if (gj_client_submit(c, req, NULL, &jobs[i], err) != 0)
            die(what, err);
    for (long i = 0; i < n; i++) {
        int64_t left_ms = (int64_t)((t0 + b->limit_s * 4 - bench_now_s()) * 1000);
        gj_result *res;
        if (gj_job_wait(jobs[i], left_ms > 0 ? left_ms : 0, err) != 0 || gj_job_result(jobs[i], &res, err) != 0) {
            for (long j = i; j < n; j++)
                gj_job_cancel(jobs[j], NULL);
            die(what, err);
        }
        check_small(res, what);
        gj_result_free(res);
        gj_job_unref(jobs[i]);
    }
    run r = { (double)n, bench_now_s() - t0, allocs_now() - a0, 0 };
    free(jobs);
    gj_error_free(err);
    return r;
}

static run gj_queued_small(const bench *b, gj_client *c)
{
    gj_request *req = request_or_die(GJ_OP_QUERY, SMALL_QUERY);
    run r = gj_queued(b, c, req, b->queries, "queued query");
    gj_request_unref(req);
    return r;
}

static run gj_transactions(const bench *b, gj_client *c)
{
    gj_request *req = request_or_die("transaction", SMALL_QUERY);
    gj_value *list = NULL;
    if (gj_value_new_list(&list, (size_t)b->stmts - 1) != 0)
        die("out of memory", NULL);
    for (long i = 0; i + 1 < b->stmts; i++)
        if (gj_value_list_append(list, gj_value_string(SMALL_QUERY)) != 0)
            die("out of memory", NULL);
    if (gj_request_set_option(req, "statements", list) != 0)
        die("option statements", NULL);
    run r = gj_queued(b, c, req, b->txs, "transaction");
    r.count *= (double)b->stmts;
    gj_request_unref(req);
    return r;
}

typedef struct row_sum {
    long rows;
    long long sum;
    bool bad;
} row_sum;

static int sum_row(const gj_value *row, void *payload)
{
    row_sum *s = payload;
    int64_t v = 0;
    if (gj_value_int_get(gj_value_list_at(row, 0), &v) != 0)
        s->bad = true;
    s->rows++;
    s->sum += v;
    return 0;
}

static gj_request *unwind_request(const bench *b)
{
    char q[96];
    snprintf(q, sizeof q, "UNWIND range(1, %ld) AS x RETURN x", b->rows);
    return request_or_die(GJ_OP_QUERY, q);
}

static run gj_records_cb(const bench *b, gj_client *c)
{
    gj_request *req = unwind_request(b);
    row_sum s = { 0, 0, false };
    gj_request_set_row_callback(req, sum_row, &s);
    gj_error *err = gj_error_new();
    gj_result *res;
    long a0 = allocs_now();
    double t0 = bench_now_s();
    if (gj_client_execute(c, req, (int64_t)(b->limit_s * 4000), &res, err) != 0)
        die("UNWIND through a row callback", err);
    run r = { (double)s.rows, bench_now_s() - t0, allocs_now() - a0, 0 };
    gj_result_free(res);
    if (s.bad || s.rows != b->rows || s.sum != (long long)b->rows * (b->rows + 1) / 2)
        die("UNWIND through a row callback: wrong rows", NULL);
    gj_error_free(err);
    gj_request_unref(req);
    return r;
}

static run gj_records_collected(const bench *b, gj_client *c)
{
    gj_request *req = unwind_request(b);
    gj_error *err = gj_error_new();
    gj_result *res;
    long a0 = allocs_now();
    double t0 = bench_now_s();
    if (gj_client_execute(c, req, (int64_t)(b->limit_s * 4000), &res, err) != 0)
        die("UNWIND collected", err);
    run r = { (double)gj_result_row_count(res), bench_now_s() - t0, allocs_now() - a0, 0 };
    int64_t last = 0;
    if (gj_result_row_count(res) != (size_t)b->rows ||
        gj_value_int_get(gj_value_list_at(gj_result_row(res, (size_t)b->rows - 1), 0), &last) != 0 ||
        last != b->rows)
        die("UNWIND collected: wrong rows", NULL);
    gj_result_free(res);   /* not timed */
    gj_error_free(err);
    gj_request_unref(req);
    return r;
}

/* ---- the codec baseline ---------------------------------------------------------
 * The bytes the server sends for the UNWIND's records (RECORD [x], chunked),
 * decoded in memory in 64 KiB reads like the backend's, each record's list
 * taken over as the row value and freed. */

static void codec_stream_build(gj_ps_buf *b, long rows)
{
    gj__ps_buf_init(b, 0);
    for (long i = 1; i <= rows; i++) {
        size_t start = b->len;
        gj__ps_put_struct_header(b, 1, GJ_BOLT_RECORD);
        gj__ps_put_list_header(b, 1);
        gj__ps_put_int(b, i);
        if (gj__ps_buf_check(b, NULL) != 0 || gj__chunk_frame(b, start) != 0)
            die("codec stream: out of memory", NULL);
    }
}

/* Built once in main, read by codec_decode. */
static gj_ps_buf g_codec_stream;

static run codec_decode(const bench *b, gj_client *c)
{
    (void)c;
    gj_ps_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.bolt_major = 5;
    cfg.bolt_minor = 8;
    gj_dechunker d;
    gj__dechunk_init(&d, 64u << 20);
    const uint8_t *data = g_codec_stream.data;
    size_t total = g_codec_stream.len, pos = 0;
    long rows = 0;
    long long sum = 0;
    long a0 = allocs_now();
    double t0 = bench_now_s();
    while (pos < total) {
        size_t piece = total - pos < 65536 ? total - pos : 65536;
        size_t off = 0;
        while (off < piece) {
            size_t used = 0;
            int rc = gj__dechunk_feed(&d, data + pos + off, piece - off, &used, NULL);
            off += used;
            if (rc < 0)
                die("codec: dechunk", NULL);
            if (rc == 0)
                break;
            const uint8_t *msg;
            size_t len;
            gj__dechunk_message(&d, &msg, &len);
            gj_bolt_msg m;
            int64_t v = 0;
            if (gj__bolt_msg_decode(&m, msg, len, &cfg, GJ_BOLT_RESPONSE, NULL) != 0 || m.tag != GJ_BOLT_RECORD ||
                gj_value_int_get(gj_value_list_at(m.fields[0], 0), &v) != 0)
                die("codec: decode", NULL);
            gj_value *row = m.fields[0];   /* taken over, as the backend does */
            m.fields[0] = NULL;
            gj__bolt_msg_clear(&m);
            gj_value_unref(row);
            rows++;
            sum += v;
        }
        pos += piece;
    }
    run r = { (double)rows, bench_now_s() - t0, allocs_now() - a0, 0 };
    gj__dechunk_free(&d);
    if (rows != b->rows || sum != (long long)b->rows * (b->rows + 1) / 2)
        die("codec: wrong rows", NULL);
    return r;
}

/* ---- the JS side ------------------------------------------------------------- */

typedef struct js_figures {
    bool ran;
    double unpipelined, queued, transaction, records_cb, records_collected;
    char why[160];
} js_figures;

static double js_value(const char *out, const char *name)
{
    char key[64];
    snprintf(key, sizeof key, "\n%s ", name);
    const char *at = strstr(out, key);
    return at ? strtod(at + strlen(key), NULL) : 0;
}

static void run_js(const bench *b, js_figures *js)
{
    char script[PATH_MAX], port[16], q[24], t[24], s[24], rows[24], lim[24];
    snprintf(script, sizeof script, "%s/bench/bolt.js", GJ_BENCH_SRCDIR);
    snprintf(port, sizeof port, "%d", b->port);
    snprintf(q, sizeof q, "%ld", b->queries);
    snprintf(t, sizeof t, "%ld", b->txs);
    snprintf(s, sizeof s, "%ld", b->stmts);
    snprintf(rows, sizeof rows, "%ld", b->rows);
    snprintf(lim, sizeof lim, "%.0f", b->limit_s);
    const char *args[] = { script, port, q, t, s, rows, lim, NULL };
    if (gj_spawn_start(&g_node, "node", args, NULL, GJ_SPAWN_STDERR_INHERIT) != 0) {
        snprintf(js->why, sizeof js->why, "%.150s", g_node.error);
        return;
    }
    bench_child(&g_node);
    /* Every line of its output, each after a newline (see js_value). */
    char out[4096];
    size_t len = 0;
    double deadline = bench_now_s() + b->limit_s * 5 + 30;
    char line[256];
    while (!g_node.eof) {
        double left = deadline - bench_now_s();
        if (left <= 0)
            break;
        if (gj_spawn_read_line(&g_node, "", (int)(left * 1000), line, sizeof line) == 0 &&
            len + strlen(line) + 2 < sizeof out)
            len += (size_t)snprintf(out + len, sizeof out - len, "\n%s", line);
    }
    out[len] = '\0';
    bool finished = g_node.eof;
    bench_child_done(&g_node);
    int status = gj_spawn_wait(&g_node, finished ? 5000 : 0);
    if (!finished) {
        snprintf(js->why, sizeof js->why, "bolt.js did not finish in time");
        return;
    }
    if (status != 0 || !strstr(out, "\ndone")) {
        snprintf(js->why, sizeof js->why, "bolt.js failed (status %d)%s", status,
                 strstr(out, "\nskip") ? ": neo4j-driver not installed" : "");
        return;
    }
    js->ran = true;
    js->unpipelined = js_value(out, "unpipelined");
    js->queued = js_value(out, "queued");
    js->transaction = js_value(out, "transaction");
    js->records_cb = js_value(out, "records_cb");
    js->records_collected = js_value(out, "records_collected");
}

/* ---- reporting ---------------------------------------------------------------- */

typedef run (*workload_fn)(const bench *b, gj_client *c);

typedef struct workload {
    const char *name;
    workload_fn fn;
    unsigned conns;   /* connections and workers of the client it runs on */
} workload;

static const workload WORKLOADS[] = {
    { "unpipelined", gj_unpipelined, 1 },       { "queued", gj_queued_small, 1 },
    { "transaction", gj_transactions, 1 },      { "records_cb", gj_records_cb, 1 },
    { "records_collected", gj_records_collected, 1 }, { "codec", codec_decode, 1 },
    { "threads", gj_threads, THREADS },
};

/* Best rate of 3 runs; *allocs_per the allocations per item of the best;
 * *cpu_us_per the least CPU time per item of the 3, in microseconds (for
 * the workloads that measure it). */
static double best_of_3(const bench *b, gj_client *c, workload_fn fn, double *allocs_per,
                        double *cpu_us_per)
{
    double best = 0;
    for (int i = 0; i < 3; i++) {
        run r = fn(b, c);
        double rate = r.count / r.seconds;
        if (rate > best) {
            best = rate;
            if (allocs_per)
                *allocs_per = r.count > 0 ? (double)r.allocs / r.count : 0;
        }
        double cpu_us = r.count > 0 ? r.cpu * 1e6 / r.count : 0;
        if (cpu_us_per && (i == 0 || cpu_us < *cpu_us_per))
            *cpu_us_per = cpu_us;
    }
    return best;
}

static const char *human(double v, char *buf, size_t cap)
{
    if (v >= 1e6)
        snprintf(buf, cap, "%7.2f M/s", v / 1e6);
    else
        snprintf(buf, cap, "%7.1f k/s", v / 1e3);
    return buf;
}

/* Allocations per item, or "-" when they are not counted. */
static const char *allocs_text(bool counting, double v, char *buf, size_t cap)
{
    if (counting)
        snprintf(buf, cap, "%5.1f", v);
    else
        snprintf(buf, cap, "    -");
    return buf;
}

/* One row: ours next to the JS driver's, with the 3x goal. */
static bool js_line(const char *label, double ours, const js_figures *js, double theirs)
{
    char a[32], t[32];
    if (!js->ran) {
        printf("(e) %-28s gj %s   neo4j-driver: not run (%s)\n", label, human(ours, a, sizeof a), js->why);
        return true;
    }
    double ratio = theirs > 0 ? ours / theirs : 0;
    bool ok = ratio >= 3;
    printf("(e) %-28s gj %s   neo4j-driver %s   ratio %6.2f  (goal >= 3) %s\n", label, human(ours, a, sizeof a),
           human(theirs, t, sizeof t), ratio, ok ? "ok" : "MISSED");
    return ok;
}

static int callgrind_mode(const bench *b, const char *name, bool caller_runs)
{
    for (size_t i = 0; i < sizeof WORKLOADS / sizeof WORKLOADS[0]; i++) {
        if (strcmp(WORKLOADS[i].name, name) != 0)
            continue;
        gj_client *c = client_new(b, b->queries > b->txs ? b->queries : b->txs, WORKLOADS[i].conns,
                                  caller_runs);
        /* Connect first, so only the measured loop is in the dump: one
         * query, or with several connections a short run of the threads. */
        if (WORKLOADS[i].conns > 1) {
            bench warm = *b;
            warm.queries = 100 * THREADS;
            gj_threads(&warm, c);
        } else {
            gj_result *res;
            gj_request *req = request_or_die(GJ_OP_QUERY, SMALL_QUERY);
            if (gj_client_execute(c, req, WAIT_MS, &res, NULL) != 0)
                die("first query", NULL);
            gj_result_free(res);
            gj_request_unref(req);
        }
        CALLGRIND_ZERO_STATS;
        run r = WORKLOADS[i].fn(b, c);
        CALLGRIND_DUMP_STATS_AT(name);
        char al[16];
        printf("callgrind %s%s: %.0f items in %.3f s, %s allocations per item, %.1f us CPU per item\n", name,
               caller_runs ? "" : " (caller_runs off)", r.count, r.seconds,
               allocs_text(counting_works(), r.count > 0 ? (double)r.allocs / r.count : 0, al, sizeof al),
               r.count > 0 ? r.cpu * 1e6 / r.count : 0);
        gj_client_free(c);
        return 0;
    }
    fprintf(stderr, "bench/bolt: unknown workload '%s'\n", name);
    return 1;
}

static long positive_arg(const char *s, const char *what)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v <= 0 || v > 100000000) {
        fprintf(stderr, "bench/bolt: %s must be a number from 1 to 10^8, not '%s'\n", what, s);
        exit(1);
    }
    return v;
}

int main(int argc, char **argv)
{
    bench b = { 0, 20000, 2000, 16, 1000000, 15 };
    bool no_js = false, caller_runs = true;
    const char *cg = NULL;
    int positional = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--no-js") == 0)
            no_js = true;
        else if (strncmp(argv[i], "--callgrind=", 12) == 0)
            cg = argv[i] + 12;
        else if (strcmp(argv[i], "--no-caller-runs") == 0)
            caller_runs = false;
        else if (strcmp(argv[i], "--statements") == 0 && i + 1 < argc)
            b.stmts = positive_arg(argv[++i], "--statements");
        else if (strcmp(argv[i], "--time-limit") == 0 && i + 1 < argc)
            b.limit_s = (double)positive_arg(argv[++i], "--time-limit");
        else if (argv[i][0] != '-' && positional < 3) {
            long v = positive_arg(argv[i], "a size");
            if (positional == 0)
                b.queries = v;
            else if (positional == 1)
                b.txs = v;
            else
                b.rows = v;
            positional++;
        } else {
            fprintf(stderr, "usage: bolt [--no-js] [--statements S] [--time-limit S] [--callgrind=WORKLOAD "
                            "[--no-caller-runs]] [queries] [transactions] [rows]\n");
            return 1;
        }
    }
    if (b.stmts > 50) {
        fprintf(stderr, "bench/bolt: at most 50 statements per transaction (the backend's limit)\n");
        return 1;
    }

    bench_name = "bench/bolt";
    atexit(bench_stop_children);
    bench_signals();
    b.port = start_server();
    codec_stream_build(&g_codec_stream, b.rows);

    if (cg) {
        int rc = callgrind_mode(&b, cg, caller_runs);
        gj__ps_buf_free(&g_codec_stream);
        return rc;
    }

    printf("bench/bolt: bolt-refserver on 127.0.0.1:%d; %ld queries, %ld transactions of %ld statements, "
           "%ld-row UNWIND; 1 worker and max_conns 1, %d for (c); best of 3\n",
           b.port, b.queries, b.txs, b.stmts, b.rows, THREADS);
    fflush(stdout);

    js_figures js;
    memset(&js, 0, sizeof js);
    if (no_js)
        snprintf(js.why, sizeof js.why, "--no-js");
    else
        run_js(&b, &js);   /* first, alone on the machine's cores with the server */

    bool counting = counting_works();
    long queue = b.queries > b.txs ? b.queries : b.txs;
    gj_client *c = client_new(&b, queue, 1, true), *c_off = client_new(&b, queue, 1, false);
    gj_unpipelined(&b, c);   /* warm up: connect */
    gj_unpipelined(&b, c_off);
    int failed = 0;
    char x[32], y[32];

    double unp_allocs = 0, que_allocs = 0, txn_allocs = 0, unp_cpu = 0, unp_off_allocs = 0, unp_off_cpu = 0;
    double unp = best_of_3(&b, c, gj_unpipelined, &unp_allocs, &unp_cpu);
    double unp_off = best_of_3(&b, c_off, gj_unpipelined, &unp_off_allocs, &unp_off_cpu);
    double que = best_of_3(&b, c, gj_queued_small, &que_allocs, NULL);
    double txn = best_of_3(&b, c, gj_transactions, &txn_allocs, NULL);
    char al[16];
    printf("(a) small queries, unpipelined      gj %s   %s allocations per query   %5.1f us CPU per query "
           "(baseline: neo4j-driver, (e))\n",
           human(unp, x, sizeof x), allocs_text(counting, unp_allocs, al, sizeof al), unp_cpu);
    printf("(a)   the same, caller_runs off     gj %s   %s allocations per query   %5.1f us CPU per query   "
           "ratio to caller_runs on %.2f\n",
           human(unp_off, x, sizeof x), allocs_text(counting, unp_off_allocs, al, sizeof al), unp_off_cpu,
           unp_off / unp);
    printf("(a) small queries, queued jobs      gj %s   %s allocations per query   ratio to unpipelined %.2f\n",
           human(que, x, sizeof x), allocs_text(counting, que_allocs, al, sizeof al), que / unp);
    printf("(a) transaction, %2ld stmts pipelined gj %s   %s allocations per statement   ratio to unpipelined "
           "%.2f  (goal >= 150 k statements/s) %s\n",
           b.stmts, human(txn, x, sizeof x), allocs_text(counting, txn_allocs, al, sizeof al), txn / unp,
           txn >= 150e3 ? "ok" : "MISSED");
    failed |= txn < 150e3;
    fflush(stdout);

    double cb_allocs = 0, coll_allocs = 0, codec_allocs = 0;
    double cb = best_of_3(&b, c, gj_records_cb, &cb_allocs, NULL);
    double coll = best_of_3(&b, c, gj_records_collected, &coll_allocs, NULL);
    double codec = best_of_3(&b, c, codec_decode, &codec_allocs, NULL);
    printf("(b) records, row callback          gj %s   codec loop %s   ratio %.2f  (goal >= 2 M/s) %s\n",
           human(cb, x, sizeof x), human(codec, y, sizeof y), cb / codec, cb >= 2e6 ? "ok" : "MISSED");
    printf("(b) records, collected             gj %s   codec loop %s   ratio %.2f  (goal >= 2 M/s) %s\n",
           human(coll, x, sizeof x), human(codec, y, sizeof y), coll / codec, coll >= 2e6 ? "ok" : "MISSED");
    failed |= cb < 2e6 || coll < 2e6;
    fflush(stdout);

    gj_client *c4 = client_new(&b, queue, THREADS, true), *c4_off = client_new(&b, queue, THREADS, false);
    bench warm = b;
    warm.queries = 100 * THREADS;
    gj_threads(&warm, c4);   /* warm up: connect */
    gj_threads(&warm, c4_off);
    double thr_cpu = 0, thr_off_cpu = 0;
    double thr = best_of_3(&b, c4, gj_threads, NULL, &thr_cpu);
    double thr_off = best_of_3(&b, c4_off, gj_threads, NULL, &thr_off_cpu);
    printf("(c) %d threads x gj_client_execute, %d connections   gj %s   %5.1f us CPU per query  "
           "(goal <= 11 us) %s\n",
           THREADS, THREADS, human(thr, x, sizeof x), thr_cpu, thr_cpu <= 11 ? "ok" : "MISSED");
    printf("(c)   the same, caller_runs off                   gj %s   %5.1f us CPU per query   "
           "ratio of queries/s on/off %.2f\n",
           human(thr_off, x, sizeof x), thr_off_cpu, thr / thr_off);
    failed |= thr_cpu > 11;
    gj_client_free(c4);
    gj_client_free(c4_off);
    fflush(stdout);

    if (counting) {
        printf("(d) allocations per record, row callback %.2f   codec loop %.2f  (goal <= 10) %s\n", cb_allocs,
               codec_allocs, cb_allocs <= 10 ? "ok" : "MISSED");
        printf("(d) allocations per record, collected    %.2f   codec loop %.2f  (goal <= 10) %s\n", coll_allocs,
               codec_allocs, coll_allocs <= 10 ? "ok" : "MISSED");
        failed |= cb_allocs > 10 || coll_allocs > 10;
    } else {
        printf("(d) allocations per record: not counted (another allocator owns malloc: sanitizers, valgrind)\n");
    }

    failed |= !js_line("small queries, unpipelined", unp, &js, js.unpipelined);
    failed |= !js_line("small queries, queued", que, &js, js.queued);
    failed |= !js_line("transaction statements", txn, &js, js.transaction);
    failed |= !js_line("records, row callback", cb, &js, js.records_cb);
    failed |= !js_line("records, collected", coll, &js, js.records_collected);

    gj_client_free(c);
    gj_client_free(c_off);
    gj__ps_buf_free(&g_codec_stream);
    bench_stop_children();
    return failed ? 2 : 0;
}
