/*
 * examples/bulk_load — load a file of JSON lines into a database, one job
 * per line, as fast as the pool allows: each line's keys are the query's
 * parameters.  Jobs are detached (the library keeps no result; a completion
 * callback counts them), and a full submit queue (GJ_EBUSY) makes the loader
 * wait for jobs to end instead of dropping lines.
 *
 *   cc bulk_load.c $(pkg-config --cflags --libs graphjob) -o bulk_load
 *   ./bulk_load 'bolt://neo4j:secret@db:7687?max_conns=8&queue_size=1000' \
 *       'CREATE (:Item {n: $n, name: $name})' items.jsonl
 *   ./bulk_load 'http://root:secret@db:8529' 'INSERT { n: @n } INTO items' items.jsonl
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE  /* getline */
#endif
#include <graphjob.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct counts {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    unsigned long finished, failed;
    char first_error[512];
} counts;

/* On a worker, once per job. */
static void on_done(gj_job *job, void *payload)
{
    counts *c = payload;
    gj_error *err = gj_error_new();
    int rc = gj_job_result(job, NULL, err);   /* a detached job may still be asked */
    pthread_mutex_lock(&c->mu);
    c->finished++;
    if (rc != 0 && c->failed++ == 0)
        snprintf(c->first_error, sizeof c->first_error, "%s", gj_error_message(err));
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
    gj_error_free(err);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bulk_load URL QUERY [FILE.jsonl]   (stdin without FILE)\n");
        return 2;
    }
    FILE *in = argc > 3 ? fopen(argv[3], "r") : stdin;
    if (!in) {
        perror(argv[3]);
        return 2;
    }
    gj_error *err = gj_error_new();
    gj_client *client;
    if (gj_client_new_url(&client, argv[1], err) != 0) {
        fprintf(stderr, "%s\n", gj_error_message(err));
        return 1;
    }
    counts c = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, "" };
    gj_submit_options opts = GJ_SUBMIT_OPTIONS_INIT;
    opts.on_done = on_done;
    opts.payload = &c;
    opts.flags = GJ_SUBMIT_DETACHED;

    double t0 = now();
    unsigned long submitted = 0, bad_lines = 0, waits = 0;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, in)) > 0) {
        gj_value *params = NULL;
        if (gj_value_from_json(&params, line, (size_t)len, err) != 0 ||
            gj_value_type(params) != GJ_TMAP) {
            bad_lines++;
            gj_value_unref(params);
            continue;
        }
        gj_request *req;
        gj_request_new_query(&req, argv[2]);
        for (size_t i = 0; i < gj_value_size(params); i++) {
            const char *key;
            size_t klen;
            gj_value_string_get(gj_value_map_key_at(params, i), &key, &klen);
            gj_request_set_param(req, key, gj_value_ref(gj_value_map_value_at(params, i)));
        }
        gj_value_unref(params);
        for (;;) {
            unsigned long seen;
            pthread_mutex_lock(&c.mu);
            seen = c.finished;
            pthread_mutex_unlock(&c.mu);
            int rc = gj_client_submit(client, req, &opts, NULL, err);
            if (rc == 0)
                break;
            if (rc != GJ_EBUSY) {
                fprintf(stderr, "submit: %s\n", gj_error_message(err));
                return 1;
            }
            /* The queue is full: wait until a job ends, then try again. */
            waits++;
            pthread_mutex_lock(&c.mu);
            while (c.finished == seen)
                pthread_cond_wait(&c.cv, &c.mu);
            pthread_mutex_unlock(&c.mu);
        }
        gj_request_unref(req);
        submitted++;
    }
    free(line);
    if (in != stdin)
        fclose(in);

    pthread_mutex_lock(&c.mu);
    while (c.finished < submitted)
        pthread_cond_wait(&c.cv, &c.mu);
    pthread_mutex_unlock(&c.mu);
    double secs = now() - t0;
    printf("%lu lines loaded: %lu done, %lu failed, %lu not JSON objects; %.2f s, %.0f lines/s; "
           "the queue was full %lu times\n",
           submitted, c.finished - c.failed, c.failed, bad_lines, secs,
           secs > 0 ? (double)submitted / secs : 0.0, waits);
    if (c.failed)
        printf("first error: %s\n", c.first_error);
    gj_client_free(client);
    gj_error_free(err);
    return c.failed || bad_lines ? 1 : 0;
}
