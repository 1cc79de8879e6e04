/* jobs.c — server-side async execution (x-arango-async) and /_api/job.
 *
 * Each coordinator keeps its own jobs (they are pinned to the coordinator
 * that accepted them, as in ArangoDB): a bounded run queue served by a few
 * worker threads, and the list of stored jobs in ascending id order.
 *   GET    /_api/job/{id}             200 done, 204 pending, 404
 *   PUT    /_api/job/{id}             the stored response + x-arango-async-id, then gone
 *   PUT    /_api/job/{id}/cancel      200 {"result":true}; the job ends 410 / 21
 *   DELETE /_api/job/{id}|all|expired?stamp=
 *   GET    /_api/job/done|pending?count=N
 */
#include "rs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void job_free(rs_job *j)
{
    rs_request_free(j->req);
    rs_response_free(&j->res);
    free(j);
}

static void unlink_stored(rs_jobs *js, rs_job *j)
{
    if (j->prev)
        j->prev->next = j->next;
    else
        js->head = j->next;
    if (j->next)
        j->next->prev = j->prev;
    else
        js->tail = j->prev;
    j->prev = j->next = NULL;
    js->stored--;
}

static void canceled_response(rs_response *res)
{
    rs_response_free(res);
    rs_response_error(res, 410, 21, "canceled request");
}

static void *worker(void *arg)
{
    rs_coord *co = arg;
    rs_jobs *js = &co->jobs;
    pthread_mutex_lock(&js->mu);
    for (;;) {
        while (!js->stopping && !js->qhead)
            pthread_cond_wait(&js->cond, &js->mu);
        if (js->stopping)
            break;
        rs_job *j = js->qhead;
        js->qhead = j->qnext;
        if (!js->qhead)
            js->qtail = NULL;
        js->queued--;
        j->qnext = NULL;
        j->state = RS_JOB_RUNNING;
        rs_request *req = j->req;
        pthread_mutex_unlock(&js->mu);

        rs_response res;
        rs_response_init(&res);
        rs_dispatch(req, &res);
        if (rs_exec_check(co->srv, &req->exec) == RS_CANCELED)
            canceled_response(&res);

        pthread_mutex_lock(&js->mu);
        j->req = NULL;
        if (!j->store || j->deleted) {
            rs_response_free(&res);
            job_free(j);
        } else {
            rs_response_move(&j->res, &res);
            j->state = RS_JOB_DONE;
            j->stamp = rs_now();
        }
        /* the request is freed outside the lock: nobody can reach it now */
        pthread_mutex_unlock(&js->mu);
        rs_request_free(req);
        pthread_mutex_lock(&js->mu);
    }
    pthread_mutex_unlock(&js->mu);
    return NULL;
}

int rs_jobs_start(rs_coord *co)
{
    rs_jobs *js = &co->jobs;
    pthread_mutex_init(&js->mu, NULL);
    pthread_cond_init(&js->cond, NULL);
    js->queue_max = co->srv->cfg.job_queue;
    size_t n = co->srv->cfg.workers;
    for (size_t i = 0; i < n && i < RS_MAX_WORKERS; i++) {
        if (pthread_create(&js->workers[i], NULL, worker, co) != 0)
            return -1;
        js->nworkers = i + 1;
    }
    return 0;
}

void rs_jobs_stop(rs_coord *co)
{
    rs_jobs *js = &co->jobs;
    pthread_mutex_lock(&js->mu);
    js->stopping = 1;
    pthread_cond_broadcast(&js->cond);
    /* wake running jobs sleeping inside a query: they see srv->stopping */
    pthread_mutex_unlock(&js->mu);
    for (size_t i = 0; i < js->nworkers; i++)
        pthread_join(js->workers[i], NULL);
    js->nworkers = 0;
    /* queued jobs never ran: fire-and-forget ones are only in the queue */
    for (rs_job *j = js->qhead; j;) {
        rs_job *next = j->qnext;
        if (!j->store)
            job_free(j);
        j = next;
    }
    js->qhead = js->qtail = NULL;
    for (rs_job *j = js->head; j;) {
        rs_job *next = j->next;
        job_free(j);
        j = next;
    }
    js->head = js->tail = NULL;
    pthread_cond_destroy(&js->cond);
    pthread_mutex_destroy(&js->mu);
}

void rs_jobs_submit(rs_coord *co, rs_request *req, int store, rs_response *res)
{
    rs_jobs *js = &co->jobs;
    rs_job *j = calloc(1, sizeof *j);
    if (!j) {
        rs_request_free(req);
        rs_response_error(res, 500, 4, "out of memory");
        return;
    }
    pthread_mutex_lock(&js->mu);
    if (js->queued >= js->queue_max || (store && js->stored >= RS_MAX_JOBS) || js->stopping) {
        pthread_mutex_unlock(&js->mu);
        free(j);
        rs_request_free(req);
        rs_response_error(res, 503, 503, "service unavailable: the async job queue is full (%zu queued)",
                          js->queue_max);
        return;
    }
    j->id = rs_next_tick(co->srv);
    j->store = store;
    j->state = RS_JOB_QUEUED;
    j->stamp = rs_now();
    j->req = req;
    if (js->qtail)
        js->qtail->qnext = j;
    else
        js->qhead = j;
    js->qtail = j;
    js->queued++;
    if (store) {
        j->prev = js->tail;
        if (js->tail)
            js->tail->next = j;
        else
            js->head = j;
        js->tail = j;
        js->stored++;
    }
    uint64_t id = j->id;
    pthread_cond_signal(&js->cond);
    pthread_mutex_unlock(&js->mu);
    rs_response_text(res, 202, RS_TEXT_CT, "");
    if (store) {
        char buf[24];
        snprintf(buf, sizeof buf, "%llu", (unsigned long long)id);
        rs_response_header(res, "x-arango-async-id", buf);
    }
}

/* ---- /_api/job -------------------------------------------------------------- */

static int parse_job_id(const char *s, uint64_t *out)
{
    if (!s || *s < '1' || *s > '9')
        return -1;
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}

static rs_job *find(rs_jobs *js, uint64_t id)
{
    for (rs_job *j = js->head; j; j = j->next)
        if (j->id == id)
            return j;
    return NULL;
}

static void result_true(rs_response *res)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "result", json_object_new_boolean(1));
    rs_response_json(res, 200, o);
}

/* Remove a stored job; a running one keeps running and is discarded when it
 * ends (as ArangoDB does: deleting a result does not abort the job). */
static void remove_job(rs_jobs *js, rs_job *j)
{
    unlink_stored(js, j);
    if (j->state == RS_JOB_RUNNING) {
        j->deleted = 1;
        return;
    }
    if (j->state == RS_JOB_QUEUED) {
        /* take it off the run queue as well */
        rs_job **pp = &js->qhead, *prev = NULL;
        while (*pp && *pp != j) {
            prev = *pp;
            pp = &(*pp)->qnext;
        }
        if (*pp) {
            *pp = j->qnext;
            if (js->qtail == j)
                js->qtail = prev;
            js->queued--;
        }
    }
    job_free(j);
}

static void list_jobs(rs_jobs *js, rs_request *req, rs_response *res, int done)
{
    size_t max = 100;
    const char *c = rs_arg(req, "count");
    if (c) {
        char *end = NULL;
        unsigned long long v = strtoull(c, &end, 10);
        max = (size_t)v;
    }
    json_object *arr = json_object_new_array();
    size_t n = 0;
    for (rs_job *j = js->head; j && n < max; j = j->next) {
        if ((j->state == RS_JOB_DONE) != done)
            continue;
        char id[24];
        snprintf(id, sizeof id, "%llu", (unsigned long long)j->id);
        json_object_array_add(arr, json_object_new_string(id));
        n++;
    }
    rs_response_json(res, 200, arr);
}

static void get_job(rs_jobs *js, rs_request *req, rs_response *res)
{
    const char *what = req->segs[2];
    uint64_t id = 0;
    if (req->nsegs != 3) {
        rs_response_error(res, 400, 400, NULL);
    } else if (!strcmp(what, "done") || !strcmp(what, "pending")) {
        list_jobs(js, req, res, !strcmp(what, "done"));
    } else if (parse_job_id(what, &id) != 0) {
        rs_response_error(res, 400, 400, NULL);
    } else {
        rs_job *j = find(js, id);
        if (!j)
            rs_response_error(res, 404, 404, NULL);
        else
            rs_response_text(res, j->state == RS_JOB_DONE ? 200 : 204, RS_TEXT_CT, "");
    }
}

static void put_job(rs_jobs *js, rs_request *req, rs_response *res)
{
    uint64_t id = 0;
    if (req->nsegs < 3 || req->nsegs > 4) {
        rs_response_error(res, 400, 400, NULL);
        return;
    }
    if (req->nsegs == 4 && strcmp(req->segs[3], "cancel") != 0) {
        rs_response_error(res, 400, 400, NULL);
        return;
    }
    rs_job *j = parse_job_id(req->segs[2], &id) == 0 ? find(js, id) : NULL;
    if (req->nsegs == 4) {
        if (!j) {
            rs_response_error(res, 404, 404, "could not find job (%s) in AsyncJobManager during cancel operation",
                              req->segs[2]);
            return;
        }
        if (j->state == RS_JOB_RUNNING) {
            rs_exec_signal(&j->req->exec, 0, 1);
        } else if (j->state == RS_JOB_QUEUED) {
            /* never started: it ends at once, canceled */
            rs_job **pp = &js->qhead, *prev = NULL;
            while (*pp && *pp != j) {
                prev = *pp;
                pp = &(*pp)->qnext;
            }
            if (*pp) {
                *pp = j->qnext;
                if (js->qtail == j)
                    js->qtail = prev;
                js->queued--;
            }
            rs_request_free(j->req);
            j->req = NULL;
            canceled_response(&j->res);
            j->state = RS_JOB_DONE;
            j->stamp = rs_now();
        }
        result_true(res);
        return;
    }
    if (!j) {
        rs_response_error(res, 404, 404, NULL);
    } else if (j->state != RS_JOB_DONE) {
        rs_response_text(res, 204, RS_TEXT_CT, "");
    } else {
        rs_response_move(res, &j->res);
        rs_response_header(res, "x-arango-async-id", req->segs[2]);
        remove_job(js, j);
    }
}

static void delete_job(rs_jobs *js, rs_request *req, rs_response *res)
{
    if (req->nsegs != 3) {
        rs_response_error(res, 400, 400, NULL);
        return;
    }
    const char *what = req->segs[2];
    if (!strcmp(what, "all")) {
        while (js->head)
            remove_job(js, js->head);
    } else if (!strcmp(what, "expired")) {
        const char *s = rs_arg(req, "stamp");
        char *end = NULL;
        double stamp = s ? strtod(s, &end) : 0;
        if (!s || end == s || *end) {
            rs_response_error(res, 400, 400, "expecting a numeric 'stamp' parameter");
            return;
        }
        for (rs_job *j = js->head; j;) {
            rs_job *next = j->next;
            if (j->stamp < stamp)
                remove_job(js, j);
            j = next;
        }
    } else {
        uint64_t id = 0;
        rs_job *j = parse_job_id(what, &id) == 0 ? find(js, id) : NULL;
        if (!j) {
            rs_response_error(res, 404, 404, NULL);
            return;
        }
        remove_job(js, j);
    }
    result_true(res);
}

void rs_api_job(rs_request *req, rs_response *res)
{
    rs_jobs *js = &req->coord->jobs;
    if (req->nsegs < 3) {
        rs_response_error(res, 400, 400, NULL);
        return;
    }
    pthread_mutex_lock(&js->mu);
    if (req->method == RS_GET || req->method == RS_HEAD)
        get_job(js, req, res);
    else if (req->method == RS_PUT)
        put_job(js, req, res);
    else if (req->method == RS_DELETE)
        delete_job(js, req, res);
    else
        rs_response_error(res, 405, 405, NULL);
    pthread_mutex_unlock(&js->mu);
}
