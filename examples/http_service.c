/*
 * examples/http_service — a small multithreaded HTTP service (libmicrohttpd)
 * in front of a graph database: each request becomes a job, and the answer
 * is sent from the job's completion callback.  No thread waits for the
 * database: the request's connection is suspended (MHD_suspend_connection)
 * when its job is submitted and resumed by the callback, so a few HTTP
 * threads and a small connection pool serve many requests at once.
 *
 *   GET /query?q=TEXT[&n=INT]   run TEXT (with parameter n, if given) and
 *                               answer 200 {"rows":[...]} or an error
 *                               (502 for a server error, 504 timeout, 503
 *                               busy, 500 otherwise) {"error":{...}}
 *   GET /stats                  {"requests":N,"in_flight":N,"max_in_flight":N,
 *                                "http_threads":N,"workers":N,"max_conns":N}
 *
 *   cc http_service.c $(pkg-config --cflags --libs graphjob libmicrohttpd) -o http_service
 *   ./http_service 'bolt://neo4j:secret@db:7687?max_conns=2&workers=2' [PORT] [HTTP_THREADS]
 *
 * It prints "PORT n" once listening (PORT 0: any free port) and stops on
 * SIGINT or SIGTERM.  examples/http_load is its load test.
 */
#include <graphjob.h>

#include <microhttpd.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if MHD_VERSION < 0x00097002
typedef int MHD_RESULT;
#else
typedef enum MHD_Result MHD_RESULT;
#endif

typedef struct service {
    gj_client *client;
    atomic_long requests, in_flight, max_in_flight;
    int http_threads;
    int64_t workers, max_conns;
} service;

/* One HTTP request: from the access handler to the completion callback. */
typedef struct call {
    service *svc;
    struct MHD_Connection *conn;
    pthread_mutex_t mu;
    int refs;               /* the HTTP request's and the job's */
    bool done, suspended, closed;
    unsigned status;
    char *body;
} call;

/* Drop one reference (c->mu held); frees the call with the last. */
static void call_release(call *c)
{
    bool last = --c->refs == 0;
    pthread_mutex_unlock(&c->mu);
    if (last) {
        pthread_mutex_destroy(&c->mu);
        free(c->body);
        free(c);
    }
}

static char *error_body(int code, const gj_error *err, unsigned *status)
{
    *status = code == GJ_ESERVER ? 502 : code == GJ_ETIMEDOUT ? 504 : code == GJ_EBUSY ? 503 : 500;
    gj_value *e, *wrap;
    gj_value_new_map(&e, 4);
    gj_value_map_put_str(e, "code", gj_value_string(gj_code_name(code)));
    gj_value_map_put_str(e, "message", gj_value_string(gj_error_message(err)));
    if (gj_error_server_code(err))
        gj_value_map_put_str(e, "server_code", gj_value_string(gj_error_server_code(err)));
    gj_value_new_map(&wrap, 1);
    gj_value_map_put_str(wrap, "error", e);
    char *text = NULL;
    gj_value_to_json(wrap, 0, &text, NULL);
    gj_value_unref(wrap);
    return text;
}

/* The job ended (on a worker): make the answer, wake the connection. */
static void on_done(gj_job *job, void *payload)
{
    call *c = payload;
    gj_error *err = gj_error_new();
    gj_result *res = NULL;
    unsigned status = 200;
    char *body = NULL;
    int rc = gj_job_result(job, &res, err);
    if (rc == 0) {
        char *rows = NULL;
        gj_value_to_json(gj_result_rows(res), 0, &rows, NULL);
        size_t n = strlen(rows ? rows : "[]") + 16;
        body = malloc(n);
        if (body)
            snprintf(body, n, "{\"rows\":%s}", rows ? rows : "[]");
        gj_free(rows);
        gj_result_free(res);
    } else {
        body = error_body(rc, err, &status);
    }
    gj_error_free(err);
    atomic_fetch_sub(&c->svc->in_flight, 1);
    pthread_mutex_lock(&c->mu);
    c->body = body;
    c->status = status;
    c->done = true;
    if (c->suspended && !c->closed)
        MHD_resume_connection(c->conn);   /* thread-safe: MHD calls the handler again */
    call_release(c);
}

static MHD_RESULT reply(struct MHD_Connection *conn, unsigned status, const char *body)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), (void *)body,
                                                             MHD_RESPMEM_MUST_COPY);
    MHD_add_response_header(r, "Content-Type", "application/json");
    MHD_RESULT ret = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

static MHD_RESULT handle(void *cls, struct MHD_Connection *conn, const char *url,
                         const char *method, const char *version, const char *upload,
                         size_t *upload_size, void **state)
{
    (void)version, (void)upload, (void)upload_size;
    service *svc = cls;
    call *c = *state;
    if (c) {                          /* called again after MHD_resume_connection */
        pthread_mutex_lock(&c->mu);
        bool done = c->done;
        pthread_mutex_unlock(&c->mu);
        return done ? reply(conn, c->status, c->body ? c->body : "{}") : MHD_YES;
    }
    if (strcmp(method, "GET") != 0)
        return reply(conn, 405, "{\"error\":{\"message\":\"GET only\"}}");
    if (strcmp(url, "/stats") == 0) {
        char body[256];
        snprintf(body, sizeof body,
                 "{\"requests\":%ld,\"in_flight\":%ld,\"max_in_flight\":%ld,\"http_threads\":%d,"
                 "\"workers\":%lld,\"max_conns\":%lld}",
                 atomic_load(&svc->requests), atomic_load(&svc->in_flight),
                 atomic_load(&svc->max_in_flight), svc->http_threads, (long long)svc->workers,
                 (long long)svc->max_conns);
        return reply(conn, 200, body);
    }
    const char *q = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "q");
    if (strcmp(url, "/query") != 0 || !q)
        return reply(conn, 404, "{\"error\":{\"message\":\"GET /query?q=TEXT or /stats\"}}");

    c = calloc(1, sizeof *c);
    if (!c)
        return MHD_NO;
    c->svc = svc;
    c->conn = conn;
    c->refs = 2;
    pthread_mutex_init(&c->mu, NULL);
    *state = c;
    gj_request *req;
    gj_request_new_query(&req, q);
    const char *n = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "n");
    if (n)
        gj_request_set_param(req, "n", gj_value_int(strtoll(n, NULL, 10)));
    gj_submit_options opts = GJ_SUBMIT_OPTIONS_INIT;
    opts.on_done = on_done;
    opts.payload = c;
    opts.flags = GJ_SUBMIT_DETACHED;         /* the callback takes the result */
    gj_error *err = gj_error_new();
    atomic_fetch_add(&svc->requests, 1);
    long now = atomic_fetch_add(&svc->in_flight, 1) + 1;
    long max = atomic_load(&svc->max_in_flight);
    while (now > max && !atomic_compare_exchange_weak(&svc->max_in_flight, &max, now)) {
    }
    int rc = gj_client_submit(svc->client, req, &opts, NULL, err);
    gj_request_unref(req);
    if (rc != 0) {                           /* the callback will not run */
        atomic_fetch_sub(&svc->in_flight, 1);
        c->refs = 1;
        c->body = error_body(rc, err, &c->status);
        c->done = true;
        gj_error_free(err);
        return reply(conn, c->status, c->body ? c->body : "{}");
    }
    gj_error_free(err);
    /* Park the connection until the callback resumes it (or answer now if
     * the job already ended). */
    pthread_mutex_lock(&c->mu);
    if (!c->done) {
        c->suspended = true;
        MHD_suspend_connection(conn);
    }
    pthread_mutex_unlock(&c->mu);
    return MHD_YES;
}

/* MHD is done with the request (answered, or the client went away). */
static void completed(void *cls, struct MHD_Connection *conn, void **state,
                      enum MHD_RequestTerminationCode why)
{
    (void)cls, (void)conn, (void)why;
    call *c = *state;
    if (c) {
        pthread_mutex_lock(&c->mu);
        c->closed = true;
        call_release(c);
    }
}

static volatile sig_atomic_t stop;
static void on_signal(int sig) { (void)sig; stop = 1; }

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: http_service URL [PORT] [HTTP_THREADS]\n");
        return 2;
    }
    service svc = { 0 };
    int port = argc > 2 ? atoi(argv[2]) : 8080;
    svc.http_threads = argc > 3 ? atoi(argv[3]) : 4;
    gj_error *err = gj_error_new();
    gj_config *cfg;
    if (gj_config_from_url(&cfg, argv[1], err) != 0 || gj_client_new(&svc.client, cfg, err) != 0) {
        fprintf(stderr, "%s\n", gj_error_message(err));
        return 1;
    }
    gj_config_get_int(cfg, NULL, "workers", &svc.workers, NULL);
    gj_config_get_int(cfg, NULL, "max_conns", &svc.max_conns, NULL);
    gj_config_free(cfg);

    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG,
        (uint16_t)port, NULL, NULL, handle, &svc,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)svc.http_threads,
        MHD_OPTION_NOTIFY_COMPLETED, completed, &svc,
        MHD_OPTION_CONNECTION_LIMIT, 10000u,
        MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "could not listen on port %d\n", port);
        return 1;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    printf("PORT %u\n", info ? info->port : (unsigned)port);
    fflush(stdout);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    while (!stop)
        pause();
    gj_client_free(svc.client);   /* first: the last callbacks resume their connections */
    MHD_stop_daemon(d);
    gj_error_free(err);
    return 0;
}
