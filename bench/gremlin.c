/*
 * bench/gremlin — the Gremlin backend against the reference server
 * (tests/servers/gremlin/gremlin-refserver), each figure printed next to a
 * baseline measured in the same run, as a ratio (issue 10, "Tests and
 * benchmark"):
 *
 *  (a) messages/s on ONE connection with max_inflight 64: jobs of
 *      "g.V().count()" (one request and one response message each), kept
 *      64 deep by the completion callback resubmitting (2 workers that
 *      send requests and go on; the WebSocket service thread routes the
 *      responses by requestId and the client's completion thread finishes
 *      the jobs: docs/internals.md, "Asynchronous requests").  Goal >= 100 k/s.  The client's
 *      CPU time per request (getrusage, every thread of this process; the
 *      server is another process) is printed beside it.  Baseline: the same
 *      requests through the WebSocket transport and the codec alone (64
 *      pre-encoded requests, each sent again from the service thread as its
 *      answer is decoded: no job, no worker, no pool) — the ceiling of the
 *      transport and the server on this machine.
 *  (b) the same workload through the gremlin npm driver 3.8.2 (one Client,
 *      64 requests outstanding, GraphBinary; bench/gremlin.js under node):
 *      goal >= 2x its requests/s.
 *  (c) decode rates of one response holding 10^5 vertices (each with a
 *      name and an age vertex property), GraphBinary 1.0 against GraphSON
 *      3.0 and 2.0, in memory, best of 3: goal GraphBinary >= 3x GraphSON 3.0.
 *
 * Usage: gremlin [--requests N] [--inflight K] [--workers W] [--vertices V]
 *                [--no-js] [--max-seconds S]
 *   defaults 200000 requests, 64 in flight, 2 workers, 100000 vertices,
 *   10 s per loop.
 * Exit status 2 when a goal is missed, 1 on an error.
 */
#include <graphjob.h>

#include "codec/gremlin_msg.h"
#include "codec/packstream.h"
#include "core/internal.h"
#include "transport/ws.h"

#include "bench_util.h"

#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef GJ_BENCH_SRCDIR
#define GJ_BENCH_SRCDIR "."
#endif
#ifndef GJ_BUILDDIR
#define GJ_BUILDDIR "."
#endif

#define SERVER_START_MS 20000
#define SCRIPT "g.V().count()"

static gj_spawned server;

/* ---- (a) the library ---------------------------------------------------------- */

typedef struct lib_run {
    gj_client *client;
    gj_request *req;
    long total;
    double deadline;
    atomic_long submitted, done, failed;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool finished;
    char error[256];
} lib_run;

static void lib_submit(lib_run *r);

static void lib_on_done(gj_job *job, void *payload)
{
    lib_run *r = payload;
    gj_result *res = NULL;
    gj_error *err = gj_error_new();
    int rc = gj_job_result(job, &res, err);
    int64_t n = 0;
    if (rc == 0 && (gj_result_row_count(res) != 1 || gj_value_int_get(gj_result_row(res, 0), &n) != 0 ||
                    n != 6))
        rc = GJ_EPROTOCOL;
    if (rc) {
        pthread_mutex_lock(&r->mu);
        if (!r->error[0])
            snprintf(r->error, sizeof r->error, "%s", err && gj_error_message(err)[0] ?
                     gj_error_message(err) : gj_strerror(rc));
        pthread_mutex_unlock(&r->mu);
        atomic_fetch_add(&r->failed, 1);
    }
    gj_result_free(res);
    gj_error_free(err);
    long d = atomic_fetch_add(&r->done, 1) + 1;
    if (!rc && bench_now_s() < r->deadline)
        lib_submit(r);
    if (d == atomic_load(&r->submitted)) {
        pthread_mutex_lock(&r->mu);
        if (d == atomic_load(&r->submitted)) {
            r->finished = true;
            pthread_cond_signal(&r->cv);
        }
        pthread_mutex_unlock(&r->mu);
    }
}

static void lib_submit(lib_run *r)
{
    long k = atomic_fetch_add(&r->submitted, 1);
    if (k >= r->total) {
        atomic_fetch_sub(&r->submitted, 1);
        return;
    }
    gj_submit_options o = GJ_SUBMIT_OPTIONS_INIT;
    o.on_done = lib_on_done;
    o.payload = r;
    gj_error *err = gj_error_new();
    int rc = gj_client_submit(r->client, r->req, &o, NULL, err);
    if (rc) {
        atomic_fetch_sub(&r->submitted, 1);
        pthread_mutex_lock(&r->mu);
        if (!r->error[0])
            snprintf(r->error, sizeof r->error, "submit: %s", gj_error_message(err));
        r->finished = true;
        pthread_cond_signal(&r->cv);
        pthread_mutex_unlock(&r->mu);
    }
    gj_error_free(err);
}

/* Requests/s and client CPU us per request of one run. */
static int lib_once(gj_client *client, long total, int inflight, double max_s, double *rate,
                    double *cpu_us)
{
    lib_run r;
    memset(&r, 0, sizeof r);
    r.client = client;
    r.total = total;
    pthread_mutex_init(&r.mu, NULL);
    pthread_cond_init(&r.cv, NULL);
    if (gj_request_new_query(&r.req, SCRIPT) != 0)
        bench_die("out of memory");
    double c0 = bench_cpu_s(), t0 = bench_now_s();
    r.deadline = t0 + max_s;
    for (int i = 0; i < inflight; i++)
        lib_submit(&r);
    pthread_mutex_lock(&r.mu);
    while (!r.finished)
        pthread_cond_wait(&r.cv, &r.mu);
    pthread_mutex_unlock(&r.mu);
    double secs = bench_now_s() - t0, cpu = bench_cpu_s() - c0;
    gj_request_unref(r.req);
    long done = atomic_load(&r.done);
    if (r.error[0] || atomic_load(&r.failed)) {
        fprintf(stderr, "gremlin: (a) %ld requests failed: %s\n", atomic_load(&r.failed), r.error);
        return -1;
    }
    *rate = (double)done / secs;
    *cpu_us = cpu / (double)done * 1e6;
    pthread_mutex_destroy(&r.mu);
    pthread_cond_destroy(&r.cv);
    return 0;
}

static int workers = 2;

static gj_client *lib_client(int port, int inflight)
{
    char url[128];
    snprintf(url, sizeof url, "gremlin://127.0.0.1:%d", port);
    gj_error *err = gj_error_new();
    gj_config *cfg = NULL;
    gj_client *c = NULL;
    if (gj_config_from_url(&cfg, url, err) != 0 ||
        gj_config_set_int(cfg, NULL, "workers", workers, err) != 0 ||
        gj_config_set_int(cfg, NULL, "queue_size", 4 * inflight + 16, err) != 0 ||
        gj_config_set_int(cfg, "default", "max_conns", 1, err) != 0 ||
        gj_config_set_int(cfg, "default", "max_inflight", inflight, err) != 0 ||
        gj_config_set_int(cfg, "default", "max_times_acquired", inflight, err) != 0 ||
        gj_client_new(&c, cfg, err) != 0)
        bench_die("client: %s", gj_error_message(err));
    gj_config_free(cfg);
    gj_error_free(err);
    return c;
}

/* ---- (a) baseline: the transport and the codec alone ------------------------------ */

typedef struct raw_run {
    gj_ws *ws;
    gj_gremlin_format f;
    int inflight;
    gj_ps_buf *frames;          /* one pre-encoded request per slot */
    uint8_t (*ids)[16];
    long total;
    double deadline;
    long sent, done;            /* service thread only */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool finished;
    char error[256];
} raw_run;

static void raw_finish(raw_run *r, const char *why)
{
    pthread_mutex_lock(&r->mu);
    if (why && !r->error[0])
        snprintf(r->error, sizeof r->error, "%s", why);
    r->finished = true;
    pthread_cond_signal(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

static void raw_on_message(void *arg, const uint8_t *data, size_t len, bool binary)
{
    raw_run *r = arg;
    (void)binary;
    gj_gremlin_response resp;
    if (gj__gremlin_response_decode(&resp, r->f, data, len, 0, NULL) != 0) {
        raw_finish(r, "a response did not decode");
        return;
    }
    int64_t n = 0;
    bool ok = resp.status_code == 200 && resp.has_request_id && resp.result_data &&
              gj_value_size(resp.result_data) == 1 &&
              gj_value_int_get(gj_value_list_at(resp.result_data, 0), &n) == 0 && n == 6;
    int slot = -1;
    for (int i = 0; ok && i < r->inflight; i++)
        if (memcmp(r->ids[i], resp.request_id, 16) == 0)
            slot = i;
    gj__gremlin_response_clear(&resp);
    if (!ok || slot < 0) {
        raw_finish(r, "an unexpected response");
        return;
    }
    r->done++;
    if (r->sent < r->total && bench_now_s() < r->deadline) {
        r->sent++;
        if (gj__ws_send(r->ws, r->frames[slot].data, r->frames[slot].len, true, 0, NULL) != 0) {
            raw_finish(r, "send failed");
            return;
        }
    }
    if (r->done == r->sent)
        raw_finish(r, NULL);
}

static void raw_on_close(void *arg, int code, const char *reason)
{
    raw_run *r = arg;
    char why[200];
    snprintf(why, sizeof why, "closed: %d %s", code, reason);
    pthread_mutex_lock(&r->mu);
    bool done = r->finished;
    pthread_mutex_unlock(&r->mu);
    if (!done)
        raw_finish(r, why);
}

static int raw_once(int port, long total, int inflight, double max_s, double *rate, double *cpu_us)
{
    gj_error *err = gj_error_new();
    gj_ws_service *svc = NULL;
    if (gj__ws_service_new(&svc, "bench", NULL, err) != 0)
        bench_die("ws service: %s", gj_error_message(err));
    raw_run r;
    memset(&r, 0, sizeof r);
    r.f = GJ_GREMLIN_GRAPHBINARY_V1;
    r.inflight = inflight;
    r.total = total;
    pthread_mutex_init(&r.mu, NULL);
    pthread_cond_init(&r.cv, NULL);
    r.frames = calloc((size_t)inflight, sizeof *r.frames);
    r.ids = calloc((size_t)inflight, sizeof *r.ids);
    if (!r.frames || !r.ids)
        bench_die("out of memory");
    gj_gremlin_args a = GJ_GREMLIN_ARGS_INIT;
    a.gremlin = SCRIPT;
    gj_value *args = NULL;
    if (gj__gremlin_args_new(&args, &a, err) != 0)
        bench_die("args: %s", gj_error_message(err));
    for (int i = 0; i < inflight; i++) {
        gj_gremlin_request q;
        memset(&q, 0, sizeof q);
        for (int k = 0; k < 16; k++)
            r.ids[i][k] = (uint8_t)(i * 31 + k * 7 + 1);
        r.ids[i][6] = (uint8_t)((r.ids[i][6] & 0x0f) | 0x40);
        r.ids[i][8] = (uint8_t)((r.ids[i][8] & 0x3f) | 0x80);
        memcpy(q.request_id, r.ids[i], 16);
        q.op = "eval";
        q.processor = "";
        q.args = args;
        gj__ps_buf_init(&r.frames[i], 0);
        if (gj__gremlin_request_encode(&r.frames[i], r.f, &q, err) != 0)
            bench_die("encode: %s", gj_error_message(err));
    }
    gj_value_unref(args);
    gj_ws_config wc = { .name = "bench", .host = "127.0.0.1", .port = port, .path = "/gremlin" };
    gj_ws_handlers h = { raw_on_message, raw_on_close, &r };
    gj_ws *ws = NULL;
    if (gj__ws_connect(&ws, svc, &wc, &h, NULL, gj__now_ms() + 10000, err) != 0)
        bench_die("connect: %s", gj_error_message(err));
    /* The handler reads r.ws: set before the first send. */
    r.ws = ws;
    double c0 = bench_cpu_s(), t0 = bench_now_s();
    r.deadline = t0 + max_s;
    pthread_mutex_lock(&r.mu);
    int first = (long)inflight < total ? inflight : (int)total;
    r.sent = first;
    pthread_mutex_unlock(&r.mu);
    for (int i = 0; i < first; i++)
        if (gj__ws_send(ws, r.frames[i].data, r.frames[i].len, true, gj__now_ms() + 10000, err) != 0)
            bench_die("send: %s", gj_error_message(err));
    pthread_mutex_lock(&r.mu);
    while (!r.finished)
        pthread_cond_wait(&r.cv, &r.mu);
    pthread_mutex_unlock(&r.mu);
    double secs = bench_now_s() - t0, cpu = bench_cpu_s() - c0;
    gj__ws_close(ws, 1000, "");
    gj__ws_service_free(svc);
    for (int i = 0; i < inflight; i++)
        gj__ps_buf_free(&r.frames[i]);
    free(r.frames);
    free(r.ids);
    gj_error_free(err);
    if (r.error[0]) {
        fprintf(stderr, "gremlin: (a) baseline: %s\n", r.error);
        return -1;
    }
    *rate = (double)r.done / secs;
    *cpu_us = cpu / (double)r.done * 1e6;
    return 0;
}

/* ---- (b) the gremlin npm driver ------------------------------------------------- */

static int js_once(int port, long total, int inflight, double max_s, double *rate, double *cpu_us,
                   char *version, size_t vcap)
{
    char url[128], n[32], k[32], s[32];
    snprintf(url, sizeof url, "ws://127.0.0.1:%d/gremlin", port);
    snprintf(n, sizeof n, "%ld", total);
    snprintf(k, sizeof k, "%d", inflight);
    snprintf(s, sizeof s, "%g", max_s);
    const char *script = GJ_BENCH_SRCDIR "/bench/gremlin.js";
    const char *args[] = { script, url, n, k, s, NULL };
    extern char **environ;
    const char *envp[256];
    size_t e = 0;
    envp[e++] = "NODE_PATH=" GJ_BENCH_SRCDIR "/tests/peers/node_modules";
    for (char **p = environ; *p && e < 254; p++)
        if (strncmp(*p, "NODE_PATH=", 10) != 0)
            envp[e++] = *p;
    envp[e] = NULL;
    gj_spawned node;
    if (gj_spawn_start(&node, "node", args, envp, GJ_SPAWN_STDERR_INHERIT) != 0) {
        fprintf(stderr, "gremlin: %s\n", node.error);
        return -1;
    }
    char line[256];
    int rc = gj_spawn_read_line(&node, "JS ", (int)(4 * max_s + 40) * 1000, line, sizeof line);
    int st = gj_spawn_wait(&node, rc == 0 ? 5000 : 1000);
    if (rc != 0 || st != 0)
        return -1;
    char v[64] = "?";
    if (sscanf(line, "JS rate=%lf cpu_us=%lf version=%63s", rate, cpu_us, v) < 2)
        return -1;
    snprintf(version, vcap, "%s", v);
    return 0;
}

/* ---- (c) decode rates ------------------------------------------------------------- */

static gj_value *vertex_property(int64_t id, const char *key, gj_value *value)
{
    gj_value *inner = NULL, *vp = NULL;
    if (gj_value_new_map(&inner, 3) != 0)
        bench_die("out of memory");
    gj_value_map_put_str(inner, "id", gj_value_int(id));
    gj_value_map_put_str(inner, "value", value);
    gj_value_map_put_str(inner, "label", gj_value_string(key));
    if (gj_value_new_tagged(&vp, "g:VertexProperty", inner) != 0)
        bench_die("out of memory");
    gj_value *l = NULL;
    gj_value_new_list(&l, 1);
    gj_value_list_append(l, vp);
    return l;
}

static gj_value *vertices(long n)
{
    gj_value *list = NULL;
    if (gj_value_new_list(&list, (size_t)n) != 0)
        bench_die("out of memory");
    for (long i = 0; i < n; i++) {
        char name[32];
        snprintf(name, sizeof name, "person-%ld", i);
        gj_value *props = NULL, *labels = NULL, *id = NULL, *v = NULL, *age = NULL;
        gj_value_new_map(&props, 2);
        gj_value_map_put_str(props, "name", vertex_property(2 * i, "name", gj_value_string(name)));
        gj_value_new_int_bits(&age, 20 + i % 60, 32);
        gj_value_map_put_str(props, "age", vertex_property(2 * i + 1, "age", age));
        gj_value_new_list(&labels, 1);
        gj_value_list_append(labels, gj_value_string("person"));
        gj_value_new_int_bits(&id, i + 1, 64);
        if (gj_value_new_node(&v, id, labels, props) != 0 || gj_value_list_append(list, v) != 0)
            bench_die("out of memory");
    }
    return list;
}

/* Vertices decoded per second (best of 3) of one 200 response. */
static double decode_rate(gj_gremlin_format f, const gj_value *data, long n, size_t *bytes)
{
    gj_gremlin_response resp;
    memset(&resp, 0, sizeof resp);
    resp.has_request_id = true;
    memset(resp.request_id, 0x42, 16);
    resp.status_code = 200;
    resp.result_data = (gj_value *)data;
    gj_ps_buf b;
    gj__ps_buf_init(&b, 0);
    gj_error *err = gj_error_new();
    if (gj__gremlin_response_encode(&b, f, &resp, err) != 0)
        bench_die("encode %s: %s", gj__gremlin_mime(f), gj_error_message(err));
    *bytes = b.len;
    double best = 0;
    for (int run = 0; run < 3; run++) {
        gj_gremlin_response out;
        double t0 = bench_now_s();
        if (gj__gremlin_response_decode(&out, f, b.data, b.len, 0, err) != 0)
            bench_die("decode %s: %s", gj__gremlin_mime(f), gj_error_message(err));
        double secs = bench_now_s() - t0;
        if (gj_value_size(out.result_data) != (size_t)n)
            bench_die("decode %s: %zu vertices, not %ld", gj__gremlin_mime(f), gj_value_size(out.result_data), n);
        gj__gremlin_response_clear(&out);
        if ((double)n / secs > best)
            best = (double)n / secs;
    }
    gj__ps_buf_free(&b);
    gj_error_free(err);
    return best;
}

/* ---- main ------------------------------------------------------------------------------ */

int main(int argc, char **argv)
{
    bench_name = "gremlin";
    long requests = 200000, nvertices = 100000;
    int inflight = 64;
    double max_s = 10;
    bool js = true;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--requests") == 0 && i + 1 < argc)
            requests = atol(argv[++i]);
        else if (strcmp(argv[i], "--inflight") == 0 && i + 1 < argc)
            inflight = atoi(argv[++i]);
        else if (strcmp(argv[i], "--workers") == 0 && i + 1 < argc)
            workers = atoi(argv[++i]);
        else if (strcmp(argv[i], "--vertices") == 0 && i + 1 < argc)
            nvertices = atol(argv[++i]);
        else if (strcmp(argv[i], "--max-seconds") == 0 && i + 1 < argc)
            max_s = atof(argv[++i]);
        else if (strcmp(argv[i], "--no-js") == 0)
            js = false;
        else {
            fprintf(stderr, "usage: gremlin [--requests N] [--inflight K] [--workers W] [--vertices V] "
                            "[--no-js] [--max-seconds S]\n");
            return 1;
        }
    }
    if (requests < 1 || inflight < 1 || inflight > 64 || workers < 1 || workers > 256 || nvertices < 1 ||
        !(max_s > 0)) {
        fprintf(stderr, "gremlin: bad arguments (inflight 1..64, workers 1..256)\n");
        return 1;
    }
    bench_signals();
    const char *path = GJ_BUILDDIR "/tests/servers/gremlin/gremlin-refserver";
    const char *sargs[] = { "--port", "0", NULL };
    if (gj_spawn_server(&server, path, sargs, GJ_SPAWN_STDERR_NULL, 1, SERVER_START_MS) != 0)
        bench_die("%s", server.error);
    bench_child(&server);
    int port = server.ports[0];
    bool missed = false;

    printf("bench/gremlin: %ld requests of %s, %d in flight on one connection, best of 3\n",
           requests, SCRIPT, inflight);
    /* (a) */
    gj_client *client = lib_client(port, inflight);
    double lib_rate = 0, lib_cpu = 1e9, rate, cpu;
    for (int i = 0; i < 3; i++) {
        if (lib_once(client, requests, inflight, max_s, &rate, &cpu) != 0)
            bench_die("(a) failed");
        if (rate > lib_rate)
            lib_rate = rate;
        if (cpu < lib_cpu)
            lib_cpu = cpu;
    }
    gj_client_free(client);
    double raw_rate = 0, raw_cpu = 1e9;
    for (int i = 0; i < 3; i++) {
        if (raw_once(port, requests, inflight, max_s, &rate, &cpu) != 0)
            bench_die("(a) baseline failed");
        if (rate > raw_rate)
            raw_rate = rate;
        if (cpu < raw_cpu)
            raw_cpu = cpu;
    }
    bool ok_a = lib_rate >= 100000;
    missed |= !ok_a;
    printf("(a) libgraphjob:         %9.0f msg/s  %6.2f us CPU/request  goal >= 100000/s: %s\n",
           lib_rate, lib_cpu, ok_a ? "ok" : "MISSED");
    printf("    transport+codec only: %9.0f msg/s  %6.2f us CPU/request  ratio %.2f\n", raw_rate, raw_cpu,
           lib_rate / raw_rate);
    /* (b) */
    if (js) {
        double js_rate = 0, js_cpu = 0;
        char version[64];
        if (js_once(port, requests, inflight, max_s, &js_rate, &js_cpu, version, sizeof version) == 0) {
            bool ok_b = lib_rate >= 2 * js_rate;
            missed |= !ok_b;
            printf("(b) gremlin %s (node):  %9.0f msg/s  %6.2f us CPU/request  ratio %.2f  goal >= 2: %s\n",
                   version, js_rate, js_cpu, lib_rate / js_rate, ok_b ? "ok" : "MISSED");
        } else {
            printf("(b) gremlin driver: not measured (node or tests/peers/node_modules missing, or the "
                   "script failed)\n");
        }
    }
    bench_stop_children();
    /* (c) */
    gj_value *data = vertices(nvertices);
    size_t gb_bytes = 0, v3_bytes = 0, v2_bytes = 0;
    double gb = decode_rate(GJ_GREMLIN_GRAPHBINARY_V1, data, nvertices, &gb_bytes);
    double v3 = decode_rate(GJ_GREMLIN_GRAPHSON_V3, data, nvertices, &v3_bytes);
    double v2 = decode_rate(GJ_GREMLIN_GRAPHSON_V2, data, nvertices, &v2_bytes);
    gj_value_unref(data);
    bool ok_c = gb >= 3 * v3;
    missed |= !ok_c;
    printf("(c) decode of %ld vertices: GraphBinary %.2f M/s (%zu bytes), GraphSON 3.0 %.2f M/s (%zu bytes), "
           "GraphSON 2.0 %.2f M/s (%zu bytes)\n", nvertices, gb / 1e6, gb_bytes, v3 / 1e6, v3_bytes,
           v2 / 1e6, v2_bytes);
    printf("    GraphBinary / GraphSON 3.0 = %.2f  goal >= 3: %s\n", gb / v3, ok_c ? "ok" : "MISSED");
    return missed ? 2 : 0;
}
