/*
 * bench/job_overhead — the cost of the job engine itself, on the test
 * backend (no network), each figure printed next to a raw pthread baseline
 * measured in the same run:
 *
 *  (a) round trip: submit + wait + result of one no-op job at a time, vs a
 *      raw mutex+condvar hand-off of one item to a worker thread and back.
 *      Goal: ratio <= 1.1.
 *  (b) throughput: submit N no-op jobs, then wait for all and take their
 *      results, with 1 and 2 workers, vs a naive mutex+condvar queue (one
 *      signal per item) with the same number of consumer threads.
 *      Goal: >= 5 M jobs/s with 2 workers.
 *  (c) memory: heap bytes per queued job (job, registry slot, queue link),
 *      besides the request, which all jobs share.  Goal: <= 128.
 *
 * Usage: job_overhead [round_trips] [jobs]   (defaults 100000 and 2000000)
 * Times are the best of 3 runs of each measurement.
 */
#include "tests/common/test_backend.h"
#include "core/internal.h"

#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- raw baselines --------------------------------------------------------- */

typedef struct handoff {
    pthread_mutex_t mu;
    pthread_cond_t to_worker, to_main;
    long item;     /* 0 = empty */
    long done;     /* last item finished */
    bool stop;
} handoff;

static void *handoff_worker(void *arg)
{
    handoff *h = arg;
    pthread_mutex_lock(&h->mu);
    for (;;) {
        while (!h->item && !h->stop)
            pthread_cond_wait(&h->to_worker, &h->mu);
        if (h->stop)
            break;
        h->done = h->item;
        h->item = 0;
        pthread_cond_signal(&h->to_main);
    }
    pthread_mutex_unlock(&h->mu);
    return NULL;
}

static double raw_round_trip(long n)
{
    handoff h = { .item = 0, .done = 0, .stop = false };
    pthread_mutex_init(&h.mu, NULL);
    pthread_cond_init(&h.to_worker, NULL);
    pthread_cond_init(&h.to_main, NULL);
    pthread_t t;
    pthread_create(&t, NULL, handoff_worker, &h);
    double t0 = now_s();
    for (long i = 1; i <= n; i++) {
        pthread_mutex_lock(&h.mu);
        h.item = i;
        pthread_cond_signal(&h.to_worker);
        while (h.done != i)
            pthread_cond_wait(&h.to_main, &h.mu);
        pthread_mutex_unlock(&h.mu);
    }
    double dt = now_s() - t0;
    pthread_mutex_lock(&h.mu);
    h.stop = true;
    pthread_cond_signal(&h.to_worker);
    pthread_mutex_unlock(&h.mu);
    pthread_join(t, NULL);
    return dt / (double)n;
}

typedef struct naive_queue {
    pthread_mutex_t mu;
    pthread_cond_t nonempty, all_done;
    long *items;
    long head, tail, done, total;
    bool stop;
} naive_queue;

static void *naive_worker(void *arg)
{
    naive_queue *q = arg;
    pthread_mutex_lock(&q->mu);
    for (;;) {
        while (q->head == q->tail && !q->stop)
            pthread_cond_wait(&q->nonempty, &q->mu);
        if (q->head == q->tail)
            break;
        long item = q->items[q->head++];
        pthread_mutex_unlock(&q->mu);
        (void)item; /* a no-op "job" */
        pthread_mutex_lock(&q->mu);
        if (++q->done == q->total)
            pthread_cond_signal(&q->all_done);
    }
    pthread_mutex_unlock(&q->mu);
    return NULL;
}

static double raw_throughput(long n, unsigned workers)
{
    naive_queue q = { .head = 0, .tail = 0, .done = 0, .total = n, .stop = false };
    q.items = malloc((size_t)n * sizeof *q.items);
    pthread_mutex_init(&q.mu, NULL);
    pthread_cond_init(&q.nonempty, NULL);
    pthread_cond_init(&q.all_done, NULL);
    pthread_t t[8];
    for (unsigned i = 0; i < workers; i++)
        pthread_create(&t[i], NULL, naive_worker, &q);
    double t0 = now_s();
    for (long i = 0; i < n; i++) {
        pthread_mutex_lock(&q.mu);
        q.items[q.tail++] = i;
        pthread_cond_signal(&q.nonempty);
        pthread_mutex_unlock(&q.mu);
    }
    pthread_mutex_lock(&q.mu);
    while (q.done < n)
        pthread_cond_wait(&q.all_done, &q.mu);
    q.stop = true;
    pthread_cond_broadcast(&q.nonempty);
    pthread_mutex_unlock(&q.mu);
    double dt = now_s() - t0;
    for (unsigned i = 0; i < workers; i++)
        pthread_join(t[i], NULL);
    free(q.items);
    return (double)n / dt;
}

/* ---- the job engine ------------------------------------------------------------ */

static gj_client *client_or_die(unsigned workers, size_t queue)
{
    gj_client *c;
    gj_error *err = gj_error_new();
    if (gj_test_client_new(&c, workers, queue, err) != 0) {
        fprintf(stderr, "job_overhead: %s\n", gj_error_message(err));
        exit(1);
    }
    gj_error_free(err);
    return c;
}

static double gj_round_trip(long n)
{
    gj_client *c = client_or_die(1, 1024);
    gj_request *req;
    gj_request_new_query(&req, "noop");
    double t0 = now_s();
    for (long i = 0; i < n; i++) {
        gj_job *job;
        gj_result *res;
        if (gj_client_submit(c, req, NULL, &job, NULL) != 0 || gj_job_wait(job, -1, NULL) != 0 ||
            gj_job_result(job, &res, NULL) != 0) {
            fprintf(stderr, "job_overhead: round trip failed\n");
            exit(1);
        }
        gj_result_free(res);
        gj_job_unref(job);
    }
    double dt = now_s() - t0;
    gj_request_unref(req);
    gj_client_free(c);
    return dt / (double)n;
}

static double gj_throughput(long n, unsigned workers)
{
    gj_client *c = client_or_die(workers, (size_t)n);
    gj_request *req;
    gj_request_new_query(&req, "noop");
    gj_job **jobs = malloc((size_t)n * sizeof *jobs);
    double t0 = now_s();
    for (long i = 0; i < n; i++)
        if (gj_client_submit(c, req, NULL, &jobs[i], NULL) != 0) {
            fprintf(stderr, "job_overhead: submit failed\n");
            exit(1);
        }
    for (long i = 0; i < n; i++) {
        gj_result *res;
        if (gj_job_wait(jobs[i], -1, NULL) != 0 || gj_job_result(jobs[i], &res, NULL) != 0) {
            fprintf(stderr, "job_overhead: wait failed\n");
            exit(1);
        }
        gj_result_free(res);
        gj_job_unref(jobs[i]);
    }
    double dt = now_s() - t0;
    free(jobs);
    gj_request_unref(req);
    gj_client_free(c);
    return (double)n / dt;
}

static double bytes_per_queued_job(long n)
{
    gj_client *c = client_or_die(1, (size_t)n + 1);
    gj_request *block, *req;
    gj_request_new_query(&block, "block");
    gj_request_set_option(block, "delay_ms", gj_value_int(60000));
    gj_request_new_query(&req, "noop");
    gj_job *blocker;
    gj_client_submit(c, block, NULL, &blocker, NULL);
    while (!gj_job_started(blocker)) {
        struct timespec ms = { 0, 1000000 };
        nanosleep(&ms, NULL);
    }
    gj_job **jobs = malloc((size_t)n * sizeof *jobs);
    /* The handles array is the program's, not the library's. */
    /* Heap bytes, including the client's job slab chunks (malloc'd; the
     * large ones may be mmapped: hblkhd). */
    struct mallinfo2 before = mallinfo2();
    for (long i = 0; i < n; i++)
        gj_client_submit(c, req, NULL, &jobs[i], NULL);
    struct mallinfo2 after = mallinfo2();
    double per_job = ((double)after.uordblks - (double)before.uordblks +
                      (double)after.hblkhd - (double)before.hblkhd) / (double)n;
    gj_job_cancel(blocker, NULL);
    for (long i = 0; i < n; i++)
        gj_job_unref(jobs[i]);
    free(jobs);
    gj_job_unref(blocker);
    gj_request_unref(block);
    gj_request_unref(req);
    gj_client_free(c);
    return per_job;
}

static double best_min(double (*f)(long), long n)
{
    double best = 1e300;
    for (int i = 0; i < 3; i++) {
        double v = f(n);
        if (v < best)
            best = v;
    }
    return best;
}

static double best_max2(double (*f)(long, unsigned), long n, unsigned w)
{
    double best = 0;
    for (int i = 0; i < 3; i++) {
        double v = f(n, w);
        if (v > best)
            best = v;
    }
    return best;
}

int main(int argc, char **argv)
{
    long trips = argc > 1 ? atol(argv[1]) : 100000;
    long jobs = argc > 2 ? atol(argv[2]) : 2000000;
    int failed = 0;

    printf("job_overhead: %ld round trips, %ld jobs per throughput run, best of 3\n",
           trips, jobs);

    double raw_rt = best_min(raw_round_trip, trips);
    double gj_rt = best_min(gj_round_trip, trips);
    double ratio = gj_rt / raw_rt;
    printf("(a) round trip      gj %8.2f us   raw mutex+condvar %8.2f us   ratio %.3f  (goal <= 1.1) %s\n",
           gj_rt * 1e6, raw_rt * 1e6, ratio, ratio <= 1.1 ? "ok" : "MISSED");
    failed |= ratio > 1.1;

    for (unsigned w = 1; w <= 2; w++) {
        double raw = best_max2(raw_throughput, jobs, w);
        double ours = best_max2(gj_throughput, jobs, w);
        bool goal = w == 2 ? ours >= 5e6 : true;
        printf("(b) throughput %u worker%s gj %6.2f M jobs/s   raw naive queue %6.2f M/s   ratio %.2f%s\n",
               w, w > 1 ? "s" : " ", ours / 1e6, raw / 1e6, ours / raw,
               w == 2 ? (goal ? "  (goal >= 5 M/s) ok" : "  (goal >= 5 M/s) MISSED") : "");
        failed |= !goal;
    }

    double bytes = bytes_per_queued_job(jobs < 200000 ? jobs : 200000);
    printf("(c) memory          %.1f bytes per queued job besides the request (goal <= 128) %s\n",
           bytes, bytes <= 128 ? "ok" : "MISSED");
    failed |= bytes > 128;
    return failed ? 2 : 0;
}
