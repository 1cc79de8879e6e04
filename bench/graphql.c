/*
 * bench/graphql — the GraphQL backend end to end (issue 11), against real
 * npm GraphQL servers started here as separate processes on 127.0.0.1,
 * port 0 (tests/peers/graphql_http_server.js: graphql-http;
 * tests/peers/graphql_ws_server.js: graphql-ws), stopped by their PIDs at
 * the end (also on failure).  Every figure is printed next to a baseline
 * measured in the same run:
 *
 *  (a) operations/s of `{ add(a: 1, b: 2) }` (POST /graphql) through the job
 *      API (gj_client_execute), one connection, one operation at a time, vs
 *      raw libcurl: one reused easy handle doing the same POST (same
 *      headers) with curl_easy_perform and json_tokener_parse +
 *      json_object_put of each reply.  The two loops run interleaved in
 *      slices of 250 operations, so that a change of load on the shared
 *      machine hits both alike.  Goal: ratio >= 0.9.
 *  (b) (a) vs a Node client on the same server: fetch (undici, keep-alive)
 *      + JSON parse, sequential (tests/peers/graphql_bench_client.js).
 *      Goal: ratio >= 2.
 *  (c) subscription events/s over WebSocket (graphql-transport-ws,
 *      `subscription { count(to: N) }`, each event to a row callback) vs a
 *      node `ws` client speaking the same protocol to the same server, both
 *      timed from the connect to the complete; three rounds, alternating,
 *      the best of each.  Goal: ratio >= 1.
 * The client's CPU time per operation and per event (getrusage of this
 * process; the servers are other processes) is printed beside (a) and (c).
 *
 * Usage: graphql [--ops N] [--events E] [--node-ops J] [--options JSON]
 * (--options: the target options of the job API's clients, e.g.
 * '{"compressed": false}').
 * Exit status 2 when a goal is missed.  Needs node and tests/peers'
 * node_modules (cd tests/peers && npm ci).
 */
#include <graphjob.h>

#include <curl/curl.h>
#include <json-c/json.h>
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

#include "bench_util.h"

#ifndef GJ_SRCDIR
#define GJ_SRCDIR "."
#endif

#define SLICE 250
#define QUERY "{ add(a: 1, b: 2) }"
#define BODY "{\"query\":\"{ add(a: 1, b: 2) }\"}"

static gj_spawned http_server, ws_server;

static int start_node(gj_spawned *s, const char *script)
{
    const char *args[] = { script, NULL };
    if (gj_spawn_server(s, "node", args, GJ_SPAWN_STDERR_INHERIT, 1, 30000) != 0)
        bench_die("%s: %s", script, s->error);
    bench_child(s);
    return s->ports[0];
}

/* ---- raw libcurl + json-c ------------------------------------------------------ */

typedef struct raw_conn {
    CURL *easy;
    struct curl_slist *headers;
    char *buf;
    size_t len, cap;
} raw_conn;

static size_t raw_on_write(char *data, size_t size, size_t nmemb, void *userp)
{
    raw_conn *c = userp;
    size_t n = size * nmemb;
    if (c->len + n + 1 > c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 4096;
        while (cap < c->len + n + 1)
            cap *= 2;
        char *p = realloc(c->buf, cap);
        if (!p)
            return 0;
        c->buf = p;
        c->cap = cap;
    }
    memcpy(c->buf + c->len, data, n);
    c->len += n;
    c->buf[c->len] = '\0';
    return n;
}

static void raw_open(raw_conn *c, int port)
{
    memset(c, 0, sizeof *c);
    char url[96];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/graphql", port);
    c->easy = curl_easy_init();
    c->headers = curl_slist_append(NULL, "Content-Type: application/json");
    c->headers = curl_slist_append(c->headers, "Accept: application/graphql-response+json, "
                                               "application/json;q=0.9");
    if (!c->easy || !c->headers)
        bench_die("out of memory");
    curl_easy_setopt(c->easy, CURLOPT_URL, url);
    curl_easy_setopt(c->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c->easy, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(c->easy, CURLOPT_HTTPHEADER, c->headers);
    curl_easy_setopt(c->easy, CURLOPT_POSTFIELDS, BODY);
    curl_easy_setopt(c->easy, CURLOPT_POSTFIELDSIZE, (long)strlen(BODY));
    curl_easy_setopt(c->easy, CURLOPT_WRITEFUNCTION, raw_on_write);
    curl_easy_setopt(c->easy, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(c->easy, CURLOPT_PROXY, "");
}

static void raw_one(raw_conn *c)
{
    c->len = 0;
    CURLcode cc = curl_easy_perform(c->easy);
    long status = 0;
    curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &status);
    if (cc != CURLE_OK || status != 200)
        bench_die("raw libcurl: %s, HTTP %ld", curl_easy_strerror(cc), status);
    json_object *j = json_tokener_parse(c->buf);
    json_object *data = NULL, *add = NULL;
    if (!j || !json_object_object_get_ex(j, "data", &data) ||
        !json_object_object_get_ex(data, "add", &add) || json_object_get_int(add) != 3)
        bench_die("raw libcurl: unexpected reply %s", c->buf);
    json_object_put(j);
}

static void raw_close(raw_conn *c)
{
    curl_easy_cleanup(c->easy);
    curl_slist_free_all(c->headers);
    free(c->buf);
}

/* ---- the job API --------------------------------------------------------------- */

static const char *target_options;   /* --options JSON, or NULL */

static gj_client *gj_open(const char *url)
{
    gj_config *cfg = NULL;
    gj_error *err = gj_error_new();
    gj_client *client = NULL;
    gj_value *opts = NULL;
    if (target_options && gj_value_from_json(&opts, target_options, strlen(target_options), err) != 0)
        bench_die("--options: %s", gj_error_message(err));
    if (gj_config_from_url(&cfg, url, err) != 0 ||
        (opts && gj_config_set_value(cfg, "default", "options", opts, err) != 0) ||
        gj_config_set_int(cfg, "default", "max_conns", 1, err) != 0 ||
        gj_config_set_int(cfg, NULL, "workers", 1, err) != 0 ||
        gj_client_new(&client, cfg, err) != 0)
        bench_die("%s: %s", url, gj_error_message(err));
    gj_value_unref(opts);
    gj_config_free(cfg);
    gj_error_free(err);
    return client;
}

static void gj_one(gj_client *client, gj_request *req, gj_error *err)
{
    gj_result *res = NULL;
    int rc = gj_client_execute(client, req, 30000, &res, err);
    if (rc != 0)
        bench_die("gj: %s", gj_error_message(err));
    int64_t v = 0;
    const gj_value *add = gj_value_map_get(gj_result_row(res, 0), "add");
    if (!add || gj_value_int_get(add, &v) != 0 || v != 3)
        bench_die("gj: unexpected result");
    gj_result_free(res);
}

static atomic_long events_seen;

static int count_event(const gj_value *row, void *payload)
{
    (void)row;
    (void)payload;
    atomic_fetch_add_explicit(&events_seen, 1, memory_order_relaxed);
    return 0;
}

/* ---- node --------------------------------------------------------------------- */

/* Run the node baseline; returns its rate, or -1. */
static double run_node(const char *mode, const char *url, long n, const char *prefix)
{
    char ns[32];
    snprintf(ns, sizeof ns, "%ld", n);
    const char *script = GJ_SRCDIR "/tests/peers/graphql_bench_client.js";
    const char *args[] = { script, mode, url, ns, NULL };
    extern char **environ;
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
    int rc = gj_spawn_start(&node, "node", args, (const char *const *)envp, GJ_SPAWN_STDERR_INHERIT);
    free((void *)envp);
    if (rc != 0)
        return -1;
    char line[128];
    rc = gj_spawn_read_line(&node, prefix, 300000, line, sizeof line);
    int st = gj_spawn_wait(&node, rc == 0 ? 5000 : 1000);
    double rate = -1;
    if (rc != 0 || st != 0 || sscanf(line + strlen(prefix), "%lf", &rate) != 1)
        return -1;
    return rate;
}

int main(int argc, char **argv)
{
    bench_name = "graphql";
    long ops = 20000, events = 100000, node_ops = 5000;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--ops") == 0 && i + 1 < argc)
            ops = bench_arg_long("--ops", argv[++i], SLICE, 100000000);
        else if (strcmp(argv[i], "--events") == 0 && i + 1 < argc)
            events = bench_arg_long("--events", argv[++i], 10, 100000000);
        else if (strcmp(argv[i], "--node-ops") == 0 && i + 1 < argc)
            node_ops = bench_arg_long("--node-ops", argv[++i], 10, 100000000);
        else if (strcmp(argv[i], "--options") == 0 && i + 1 < argc)
            target_options = argv[++i];
        else
            bench_die("usage: graphql [--ops N] [--events E] [--node-ops J] [--options JSON]");
    }
    bench_signals();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int hport = start_node(&http_server, GJ_SRCDIR "/tests/peers/graphql_http_server.js");
    int wport = start_node(&ws_server, GJ_SRCDIR "/tests/peers/graphql_ws_server.js");
    printf("graphql: graphql-http on 127.0.0.1:%d, graphql-ws on 127.0.0.1:%d\n", hport, wport);

    /* (a) job API vs raw libcurl + json-c, interleaved slices. */
    char url[128];
    snprintf(url, sizeof url, "graphql+http://127.0.0.1:%d/graphql", hport);
    gj_client *client = gj_open(url);
    gj_request *req = NULL;
    gj_error *err = gj_error_new();
    if (gj_request_new_query(&req, QUERY) != 0 || !err)
        bench_die("out of memory");
    raw_conn raw;
    raw_open(&raw, hport);
    for (int i = 0; i < 200; i++) {   /* warm up both, and node's JIT */
        gj_one(client, req, err);
        raw_one(&raw);
    }
    double t_gj = 0, t_raw = 0, c_gj = 0, c_raw = 0;
    for (long done = 0; done < ops; done += SLICE) {
        double t0 = bench_now_s(), c0 = bench_cpu_s();
        for (int i = 0; i < SLICE; i++)
            gj_one(client, req, err);
        double t1 = bench_now_s(), c1 = bench_cpu_s();
        for (int i = 0; i < SLICE; i++)
            raw_one(&raw);
        double t2 = bench_now_s(), c2 = bench_cpu_s();
        t_gj += t1 - t0;
        t_raw += t2 - t1;
        c_gj += c1 - c0;
        c_raw += c2 - c1;
    }
    long n = (ops + SLICE - 1) / SLICE * SLICE;
    double gj_rate = (double)n / t_gj, raw_rate = (double)n / t_raw;
    double ra = gj_rate / raw_rate;
    printf("(a) ops/s, one connection, sequential: gj %.0f, raw libcurl + json-c %.0f: "
           "ratio %.2f (goal >= 0.9: %s)\n", gj_rate, raw_rate, ra, bench_verdict(ra >= 0.9));
    printf("    client CPU per operation (getrusage): gj %.1f us, raw %.1f us\n", c_gj / (double)n * 1e6,
           c_raw / (double)n * 1e6);
    raw_close(&raw);

    /* (b) vs node fetch. */
    char hurl[96];
    snprintf(hurl, sizeof hurl, "http://127.0.0.1:%d/graphql", hport);
    double node_rate = run_node("http", hurl, node_ops, "OPS ");
    double rb = node_rate > 0 ? gj_rate / node_rate : 0;
    if (node_rate > 0)
        printf("(b) ops/s: gj %.0f, node fetch %.0f: ratio %.2f (goal >= 2: %s)\n", gj_rate,
               node_rate, rb, bench_verdict(rb >= 2));
    else
        printf("(b) node client failed: no figure\n");

    /* (c) subscription events/s over WebSocket vs node ws. */
    char wurl[96];
    snprintf(wurl, sizeof wurl, "graphql+http://127.0.0.1:%d/graphql", wport);
    gj_client *wc = gj_open(wurl);
    char text[96];
    snprintf(text, sizeof text, "subscription { count(to: %ld) }", events);
    gj_request *sub = NULL;
    if (gj_request_new_query(&sub, text) != 0 ||
        gj_request_set_row_callback(sub, count_event, NULL) != 0)
        bench_die("out of memory");
    char nurl[96];
    snprintf(nurl, sizeof nurl, "ws://127.0.0.1:%d/graphql", wport);
    /* Three rounds, alternating, the best of each side: the machine is
     * shared and its load changes. */
    double gj_ev = 0, node_ev = 0, gj_cpu = 0;
    for (int round = 0; round < 3; round++) {
        gj_result *res = NULL;
        atomic_store(&events_seen, 0);
        double t0 = bench_now_s(), c0 = bench_cpu_s();
        if (gj_client_execute(wc, sub, 600000, &res, err) != 0)
            bench_die("gj subscription: %s", gj_error_message(err));
        double tsub = bench_now_s() - t0, csub = bench_cpu_s() - c0;
        if (gj_cpu == 0 || csub / (double)events < gj_cpu)
            gj_cpu = csub / (double)events;
        gj_result_free(res);
        if (atomic_load(&events_seen) != events)
            bench_die("gj subscription: %ld events of %ld", atomic_load(&events_seen), events);
        if ((double)events / tsub > gj_ev)
            gj_ev = (double)events / tsub;
        double nr = run_node("ws", nurl, events, "EVENTS ");
        if (nr > node_ev)
            node_ev = nr;
    }
    double rc = node_ev > 0 ? gj_ev / node_ev : 0;
    if (node_ev > 0)
        printf("(c) subscription events/s over WebSocket: gj %.0f, node ws %.0f: ratio %.2f "
               "(goal >= 1: %s)\n", gj_ev, node_ev, rc, bench_verdict(rc >= 1));
    else
        printf("(c) node ws client failed: no figure\n");
    printf("    client CPU per event (getrusage, best round): gj %.1f us\n", gj_cpu * 1e6);

    gj_request_unref(sub);
    gj_request_unref(req);
    gj_client_free(wc);
    gj_client_free(client);
    gj_error_free(err);
    bench_stop_children();
    curl_global_cleanup();
    bool ok = ra >= 0.9 && (node_rate <= 0 || rb >= 2) && (node_ev <= 0 || rc >= 1);
    return ok ? 0 : 2;
}
