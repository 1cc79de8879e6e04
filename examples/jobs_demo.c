/*
 * examples/jobs_demo — the job model end to end, python-arango's AsyncJob
 * walk-through, on the built-in test backend (no server needed):
 *
 *   submit two jobs that succeed and one that fails (a server error with
 *   ArangoDB's identity: errorNum 1501, HTTP 400), poll their status, take the
 *   results (the failing one re-raises the server error), see that cancelling
 *   a finished job says "job N not found", clear jobs, list jobs by status,
 *   and wake up on the client's event fd instead of a thread.
 *
 * The test backend is compiled into this example (tests/common/test_backend.c);
 * a real program uses a URL such as bolt://, http:// (ArangoDB), ws://.
 */
#include <graphjob.h>

#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>

#include "tests/common/test_backend.h"

/* Runs once per job on a worker.  (The event fd may wake the main thread
 * before every callback has run, and main may clear the job meanwhile, so
 * the callback reports only what it owns: the job's id.) */
static void on_done(gj_job *job, void *payload)
{
    (void)payload;
    printf("  [callback on a worker] job %" PRIu64 " finished\n", gj_job_id(job));
}

static gj_job *submit(gj_client *client, gj_request *req, gj_error *err)
{
    gj_submit_options opts = GJ_SUBMIT_OPTIONS_INIT;
    opts.on_done = on_done;
    gj_job *job = NULL;
    if (gj_client_submit(client, req, &opts, &job, err) != 0) {
        fprintf(stderr, "submit: %s\n", gj_error_message(err));
        exit(1);
    }
    return job;
}

static void print_ids(gj_client *client, gj_job_status status)
{
    uint64_t *ids;
    size_t n;
    gj_client_list_jobs(client, status, 0, &ids, &n, NULL);
    printf("  %s jobs (%zu):", gj_job_status_name(status), n);
    for (size_t i = 0; i < n; i++)
        printf(" %" PRIu64, ids[i]);
    printf("\n");
    gj_free(ids);
}

int main(void)
{
    gj_error *err = gj_error_new();
    gj_client *client;
    if (gj_test_client_new(&client, 2, 1000, err) != 0) {
        fprintf(stderr, "client: %s\n", gj_error_message(err));
        return 1;
    }
    printf("libgraphjob %s — the job model on the test backend\n", gj_version());

    gj_request *insert, *query, *bad;
    gj_request_new_query(&insert, "INSERT @doc INTO students");
    gj_request_set_param(insert, "doc", gj_value_string("Abby"));
    gj_request_set_option(insert, "echo", gj_value_bool(true));
    gj_request_set_option(insert, "delay_ms", gj_value_int(50));
    gj_request_new_query(&query, "FOR i IN 0..2 RETURN i");
    gj_request_set_option(query, "rows", gj_value_int(3));
    gj_request_new_query(&bad, "INVALID QUERY");
    gj_request_set_option(bad, "fail", gj_value_string("server"));

    printf("submit 3 jobs\n");
    gj_job *job1 = submit(client, insert, err);
    gj_job *job2 = submit(client, query, err);
    gj_job *job3 = submit(client, bad, err);
    print_ids(client, GJ_JOB_PENDING);

    /* Wait for completions on the event fd, as an event loop would. */
    struct pollfd pfd = { gj_client_event_fd(client), POLLIN, 0 };
    size_t finished = 0;
    while (finished < 3 && poll(&pfd, 1, 5000) == 1)
        finished += (size_t)gj_client_ack_events(client);
    printf("event fd: %zu jobs finished\n", finished);
    print_ids(client, GJ_JOB_DONE);

    gj_job *jobs[] = { job1, job2, job3 };
    for (size_t i = 0; i < 3; i++) {
        gj_job_status st;
        gj_job_get_status(jobs[i], &st, err);
        printf("job %" PRIu64 ": %s\n", gj_job_id(jobs[i]), gj_job_status_name(st));
    }

    gj_result *res;
    if (gj_job_result(job2, &res, err) == 0) {
        char *json;
        gj_result_to_json(res, 0, &json, NULL);
        printf("job %" PRIu64 " result: %s\n", gj_job_id(job2), json);
        gj_free(json);
        gj_result_free(res);
    }
    int rc = gj_job_result(job3, &res, err);
    printf("job %" PRIu64 " result: %s (%s), errorNum %ld, HTTP %d: %s\n", gj_job_id(job3),
           gj_code_name(rc), gj_strerror(rc), gj_error_server_number(err),
           gj_error_http_status(err), gj_error_message(err));

    rc = gj_job_cancel(job1, err);
    printf("cancel finished job %" PRIu64 ": %s: %s\n", gj_job_id(job1), gj_code_name(rc),
           gj_error_message(err));
    rc = gj_job_clear(job2, err);
    printf("clear fetched job %" PRIu64 ": %s: %s\n", gj_job_id(job2), gj_code_name(rc),
           gj_error_message(err));

    size_t cleared;
    gj_client_clear_jobs(client, 0, &cleared, err);
    printf("clear all finished jobs: %zu cleared\n", cleared);
    print_ids(client, GJ_JOB_DONE);

    for (size_t i = 0; i < 3; i++)
        gj_job_unref(jobs[i]);
    gj_request_unref(insert);
    gj_request_unref(query);
    gj_request_unref(bad);
    gj_client_free(client);
    gj_error_free(err);
    return 0;
}
