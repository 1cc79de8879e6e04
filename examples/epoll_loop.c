/*
 * examples/epoll_loop — a single-threaded event loop (epoll) that runs jobs
 * without a thread of its own and without callbacks: the client's event fd
 * becomes readable when jobs finish; the loop acknowledges it, asks the
 * client which jobs are finished, and takes their results.  A timerfd in the
 * same loop stands for the program's other work.
 *
 *   cc epoll_loop.c $(pkg-config --cflags --libs graphjob) -o epoll_loop
 *   ./epoll_loop 'bolt://neo4j:secret@localhost:7687' 'RETURN 1 AS x' 100
 */
#include <graphjob.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: epoll_loop URL QUERY [JOBS]\n");
        return 2;
    }
    int jobs = argc > 3 ? atoi(argv[3]) : 100;
    gj_error *err = gj_error_new();
    gj_client *client;
    if (gj_client_new_url(&client, argv[1], err) != 0) {
        fprintf(stderr, "%s\n", gj_error_message(err));
        return 1;
    }

    /* Submit every job; keep no handle: they are found again by id. */
    gj_request *req;
    gj_request_new_query(&req, argv[2]);
    for (int i = 0; i < jobs; i++) {
        if (gj_client_submit(client, req, NULL, NULL, err) != 0) {
            fprintf(stderr, "submit: %s\n", gj_error_message(err));
            return 1;
        }
    }
    gj_request_unref(req);

    int ep = epoll_create1(EPOLL_CLOEXEC);
    int timer = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    struct itimerspec every_10ms = { { 0, 10000000 }, { 0, 10000000 } };
    timerfd_settime(timer, 0, &every_10ms, NULL);
    struct epoll_event ev = { .events = EPOLLIN };
    ev.data.fd = gj_client_event_fd(client);
    epoll_ctl(ep, EPOLL_CTL_ADD, ev.data.fd, &ev);
    ev.data.fd = timer;
    epoll_ctl(ep, EPOLL_CTL_ADD, timer, &ev);

    int finished = 0, failed = 0, wakeups = 0;
    uint64_t ticks = 0, rows = 0;
    while (finished < jobs) {
        struct epoll_event got[2];
        int n = epoll_wait(ep, got, 2, 30000);
        if (n <= 0) {
            fprintf(stderr, "nothing happened for 30 s\n");
            break;
        }
        for (int i = 0; i < n; i++) {
            if (got[i].data.fd == timer) {
                uint64_t t;
                if (read(timer, &t, sizeof t) == sizeof t)
                    ticks += t;            /* the program's other work */
                continue;
            }
            wakeups++;
            gj_client_ack_events(client);  /* first: then look at the jobs */
            uint64_t *ids;
            size_t count;
            gj_client_list_jobs(client, GJ_JOB_DONE, 0, &ids, &count, NULL);
            for (size_t k = 0; k < count; k++) {
                gj_job *job;
                gj_result *res;
                if (gj_client_job(client, ids[k], &job, NULL) != 0)
                    continue;
                if (gj_job_result(job, &res, err) == 0) {   /* consumes the job */
                    rows += gj_result_row_count(res);
                    gj_result_free(res);
                } else {
                    if (failed++ == 0)
                        fprintf(stderr, "job %" PRIu64 ": %s\n", ids[k], gj_error_message(err));
                }
                gj_job_unref(job);
                finished++;
            }
            gj_free(ids);
        }
    }
    printf("%d jobs finished (%d failed, %" PRIu64 " rows) on one thread: the event fd woke "
           "the loop %d times, the timer %" PRIu64 " times\n",
           finished, failed, rows, wakeups, ticks);
    close(timer);
    close(ep);
    gj_client_free(client);
    gj_error_free(err);
    return finished == jobs && failed == 0 ? 0 : 1;
}
