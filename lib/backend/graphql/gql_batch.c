/*
 * The GraphQL backend: batching.  Operations of jobs that run within a
 * window (batch_window, default 5 ms) go out as one HTTP request, an array
 * of operations, answered by an array of responses, at most batch_max of
 * them per request.
 *
 * Data.  The batcher (one per target, made with the target when the option
 * batch is on) holds a FIFO of pending items and a few sender threads (at
 * most max_conns, started as needed), each with its own HTTP transport
 * connection.  A job's execute() builds its item (the operation's JSON),
 * queues it and sleeps on its connection's condition variable; a sender
 * takes up to batch_max items when the oldest has waited the window (or at
 * once when batch_max are waiting), sends them, and delivers each answer
 * to its item; the job then turns it into rows and meta on its own thread
 * (its sink, its row callback).
 *
 * The contract: each job ends exactly once, on its own thread.  A job that
 * is cancelled or times out leaves at once: its item is taken out of the
 * queue, or, when already sent, marked abandoned, and its answer is dropped
 * when it comes (the sender frees the item).  When every item of a request
 * in flight was abandoned, the request is aborted.
 *
 * Locking.  The batcher's mutex guards the queue, the items' state and the
 * requests in flight; a sender delivers under it, taking the waiting job's
 * connection mutex inside it (the only nesting: batcher, then connection).
 * A job waits holding only its connection's mutex and looks at its item's
 * delivered flag (atomic) there; it takes the batcher's mutex only after
 * letting go of its own.
 */
#include "backend/graphql/gql.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_SENDERS 16

typedef struct batch_request batch_request;

typedef struct batch_item {
    struct batch_item *next;
    gj_conn *conn;               /* the waiting job's (valid until abandoned) */
    char *body;                  /* the operation's JSON */
    size_t len;
    int64_t deadline_ms;
    int64_t queued_at;
    bool taken;                  /* in a request (not in the queue any more) */
    bool abandoned;              /* the job left: the sender frees it */
    atomic_bool delivered;
    batch_request *req;          /* while in flight */
    /* The answer. */
    int rc;
    gj_error *err;
    long status;
    json_object *reply;          /* this operation's response object */
} batch_item;

struct batch_request {
    batch_item **items;
    size_t n, abandoned;
    gj_http *http;               /* the sender's, for an abort */
};

typedef struct sender {
    gj__gql_batcher *b;
    pthread_t thread;
    gj_http *http;
    char base[320];
    char name[300];
    char socket[300];
    bool started;
} sender;

struct gj__gql_batcher {
    gj__gql_target *t;
    pthread_mutex_t mu;
    pthread_cond_t cv;           /* CLOCK_MONOTONIC: senders wait here */
    batch_item *head, *tail;
    size_t pending;
    size_t idle;                 /* senders waiting for work */
    size_t max_senders;
    size_t n_senders;
    bool stop;
    sender senders[MAX_SENDERS];
};

static void item_free(batch_item *it)
{
    if (!it)
        return;
    free(it->body);
    gj_error_free(it->err);
    if (it->reply)
        json_object_put(it->reply);
    free(it);
}

/* Under b->mu: the answer to one item (reply taken over, or the error
 * copied). */
static void deliver(batch_item *it, long status, json_object *reply, int rc, const gj_error *err)
{
    if (it->abandoned) {
        if (reply)
            json_object_put(reply);
        item_free(it);
        return;
    }
    it->status = status;
    it->reply = reply;
    it->rc = rc;
    if (rc && err && (it->err = gj_error_new()) != NULL)
        gj_error_copy(it->err, err);
    it->req = NULL;
    gj_conn *c = it->conn;
    pthread_mutex_lock(&c->mu);
    atomic_store(&it->delivered, true);
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

/* Send one request of n items (not under the lock) and deliver the answers. */
static void send_batch(sender *s, batch_request *br)
{
    gj__gql_batcher *b = s->b;
    gj__gql_buf body = { 0 };
    int64_t deadline = 0;
    gj__gql_buf_put(&body, "[", 1);
    for (size_t i = 0; i < br->n; i++) {
        if (i)
            gj__gql_buf_put(&body, ",", 1);
        gj__gql_buf_put(&body, br->items[i]->body, br->items[i]->len);
        int64_t d = br->items[i]->deadline_ms;
        if (d > deadline)
            deadline = d;
    }
    gj__gql_buf_put(&body, "]", 1);
    gj_error *err = gj_error_new();
    int rc = body.nomem || !err ? GJ_ENOMEM : 0;
    gj_http_response resp = { 0 };
    if (rc)
        gj__error_set(err, rc, "out of memory for a batch");
    if (!rc) {
        gj_http_request rq = { .method = "POST", .path = b->t->path, .body = body.p,
                               .body_len = body.len, .deadline_ms = deadline };
        rc = gj__http_perform(s->http, &rq, &resp, err);
        if (rc == GJ_ECANCELLED)
            gj__http_take_interrupt(s->http);
    }
    json_object *arr = NULL;
    if (!rc && resp.status >= 200 && resp.status < 300) {
        arr = gj__gql_json_parse(resp.body, resp.len);
        if (arr && (!json_object_is_type(arr, json_type_array) ||
                    json_object_array_length(arr) != br->n)) {
            /* One response for the whole batch (a request error) is given
             * to every item; anything else is not an answer. */
            gj__gql_response r;
            if (!json_object_is_type(arr, json_type_object) || !gj__gql_take(arr, &r)) {
                rc = gj__error_set(err, GJ_EPROTOCOL, "%s: a batch of %zu operations was "
                                   "answered with %s", s->name, br->n,
                                   json_object_is_type(arr, json_type_array)
                                       ? "another number of responses" : "something else");
                json_object_put(arr);
                arr = NULL;
            }
        }
    }
    /* json-c's reference counts are not atomic: each job gets an object
     * nothing else references (an element taken out of the array, or a
     * copy of a response to the whole batch), made here before any job
     * sees it. */
    json_object *mine[1024];
    for (size_t i = 0; !rc && arr && i < br->n; i++) {
        mine[i] = NULL;
        if (json_object_is_type(arr, json_type_array)) {
            mine[i] = json_object_get(json_object_array_get_idx(arr, i));
            json_object_array_put_idx(arr, i, NULL);
        } else if (json_object_deep_copy(arr, &mine[i], NULL) != 0) {
            mine[i] = NULL;
        }
    }
    pthread_mutex_lock(&b->mu);
    for (size_t i = 0; i < br->n; i++) {
        batch_item *it = br->items[i];
        if (rc) {
            deliver(it, 0, NULL, rc, err);
        } else if (arr && !mine[i]) {
            gj_error *e = gj_error_new();
            gj__error_set(e, GJ_ENOMEM, "out of memory for a batch's answer");
            deliver(it, 0, NULL, GJ_ENOMEM, e);
            gj_error_free(e);
        } else if (arr) {
            deliver(it, resp.status, mine[i], 0, NULL);
        } else {
            /* Not a GraphQL answer (an error status, a body that is not
             * JSON): each job reports it from the status and body. */
            json_object *text = json_object_new_string_len(resp.body ? resp.body : "",
                                                           (int)(resp.len < 65536 ? resp.len : 65536));
            deliver(it, resp.status, text, 0, NULL);
        }
    }
    pthread_mutex_unlock(&b->mu);
    if (arr)
        json_object_put(arr);
    gj_error_free(err);
    gj__gql_buf_free(&body);
    gj__http_trim(s->http, (size_t)1 << 20);
}

static void *sender_main(void *arg)
{
    sender *s = arg;
    gj__gql_batcher *b = s->b;
    batch_item *items[1024];
    pthread_mutex_lock(&b->mu);
    while (!b->stop) {
        if (!b->head) {
            b->idle++;
            pthread_cond_wait(&b->cv, &b->mu);
            b->idle--;
            continue;
        }
        int64_t now = gj__now_ms();
        int64_t ready_at = b->head->queued_at + b->t->batch_window_ms;
        if (b->pending < b->t->batch_max && now < ready_at) {
            struct timespec ts;
            gj__deadline_to_timespec(ready_at, &ts);
            b->idle++;
            pthread_cond_timedwait(&b->cv, &b->mu, &ts);
            b->idle--;
            continue;
        }
        batch_request br = { items, 0, 0, NULL };
        size_t max = b->t->batch_max < 1024 ? b->t->batch_max : 1024;
        while (b->head && br.n < max) {
            batch_item *it = b->head;
            b->head = it->next;
            if (!b->head)
                b->tail = NULL;
            b->pending--;
            it->next = NULL;
            it->taken = true;
            it->req = &br;
            items[br.n++] = it;
        }
        /* Where to send: the first item's connection says (its host). */
        gj_conn *c0 = items[0]->conn;
        const char *sock = gj__gql_socket(c0);
        bool same = s->http && strcmp(s->base, c0->base_url) == 0 &&
                    strcmp(s->socket, sock ? sock : "") == 0;
        char base[sizeof s->base], name[sizeof s->name], socket[sizeof s->socket];
        snprintf(base, sizeof base, "%s", c0->base_url);
        snprintf(name, sizeof name, "%s", c0->hostport);
        snprintf(socket, sizeof socket, "%s", sock ? sock : "");
        if (b->head && b->idle)
            pthread_cond_signal(&b->cv);
        pthread_mutex_unlock(&b->mu);
        int rc = 0;
        gj_error *err = NULL;
        gj_http *fresh = NULL, *old = NULL;
        if (!same) {
            snprintf(s->base, sizeof s->base, "%s", base);
            snprintf(s->name, sizeof s->name, "%s", name);
            snprintf(s->socket, sizeof s->socket, "%s", socket);
            err = gj_error_new();
            rc = gj__gql_http_new(b->t, s->base, s->name, s->socket[0] ? s->socket : NULL,
                                  &fresh, err);
        }
        pthread_mutex_lock(&b->mu);
        if (!same && !rc) {
            old = s->http;
            s->http = fresh;
        }
        br.http = s->http;
        if (!rc && b->stop) {
            rc = GJ_ESHUTDOWN;
            if (err)
                gj__error_set(err, rc, "%s: the client is shutting down", s->name);
        }
        if (old) {
            pthread_mutex_unlock(&b->mu);
            gj__http_free(old);
            pthread_mutex_lock(&b->mu);
        }
        if (rc) {
            for (size_t i = 0; i < br.n; i++)
                deliver(items[i], 0, NULL, rc, err);
            gj_error_free(err);
            continue;
        }
        gj_error_free(err);
        bool all_gone = br.abandoned == br.n;
        pthread_mutex_unlock(&b->mu);
        if (all_gone) {
            pthread_mutex_lock(&b->mu);
            for (size_t i = 0; i < br.n; i++)
                deliver(items[i], 0, NULL, GJ_ECANCELLED, NULL);
            continue;
        }
        send_batch(s, &br);
        pthread_mutex_lock(&b->mu);
    }
    pthread_mutex_unlock(&b->mu);
    return NULL;
}

int gj__gql_batcher_new(gj__gql_batcher **out, gj__gql_target *t, gj_error *err)
{
    *out = NULL;
    gj__gql_batcher *b = calloc(1, sizeof *b);
    if (!b)
        return gj__error_set(err, GJ_ENOMEM, "out of memory");
    pthread_condattr_t ca;
    bool ok = pthread_condattr_init(&ca) == 0;
    ok = ok && pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0 &&
         pthread_cond_init(&b->cv, &ca) == 0;
    pthread_condattr_destroy(&ca);
    if (!ok || pthread_mutex_init(&b->mu, NULL) != 0) {
        if (ok)
            pthread_cond_destroy(&b->cv);
        free(b);
        return gj__error_set(err, GJ_ENOMEM, "out of memory");
    }
    b->t = t;
    b->max_senders = t->ts->max_conns ? t->ts->max_conns : 1;
    if (b->max_senders > MAX_SENDERS)
        b->max_senders = MAX_SENDERS;
    for (size_t i = 0; i < MAX_SENDERS; i++)
        b->senders[i].b = b;
    *out = b;
    return 0;
}

void gj__gql_batcher_free(gj__gql_batcher *b)
{
    if (!b)
        return;
    pthread_mutex_lock(&b->mu);
    b->stop = true;
    pthread_cond_broadcast(&b->cv);
    for (size_t i = 0; i < b->n_senders; i++)
        if (b->senders[i].http)
            gj__http_interrupt(b->senders[i].http);
    pthread_mutex_unlock(&b->mu);
    for (size_t i = 0; i < b->n_senders; i++) {
        pthread_join(b->senders[i].thread, NULL);
        gj__http_free(b->senders[i].http);
    }
    /* No job waits any more (every connection was closed): nothing queued
     * is owned by anyone but us. */
    while (b->head) {
        batch_item *it = b->head;
        b->head = it->next;
        item_free(it);
    }
    pthread_cond_destroy(&b->cv);
    pthread_mutex_destroy(&b->mu);
    free(b);
}

/* Under b->mu: a job that asked for work, with no idle sender, starts one. */
static void wake_sender(gj__gql_batcher *b)
{
    if (b->idle) {
        pthread_cond_signal(&b->cv);
        return;
    }
    if (b->n_senders >= b->max_senders)
        return;
    sender *s = &b->senders[b->n_senders];
    if (pthread_create(&s->thread, NULL, sender_main, s) == 0) {
        s->started = true;
        b->n_senders++;
    }
}

int gj__gql_batch_execute(gj_conn *c, gj__gql_op *op, gj_sink *sink, gj_error *err)
{
    gj__gql_batcher *b = c->t->batcher;
    /* Only what can share one HTTP request: POST JSON, no headers or cookies
     * of its own, no incremental delivery, no persisted query. */
    if (op->get || op->n_headers || op->cookie || op->incremental || op->n_files || op->apq)
        return gj__gql_http_execute(c, op, sink, err);
    batch_item *it = calloc(1, sizeof *it);
    if (!it)
        return gj__error_set(err, GJ_ENOMEM, "out of memory");
    gj__gql_buf body = { 0 };
    gj__gql_body(&body, op, true, false, NULL);
    if (body.nomem) {
        gj__gql_buf_free(&body);
        free(it);
        return gj__error_set(err, GJ_ENOMEM, "out of memory");
    }
    it->body = body.p;
    it->len = body.len;
    it->conn = c;
    it->deadline_ms = gj__sink_deadline(sink);
    atomic_init(&it->delivered, false);

    pthread_mutex_lock(&b->mu);
    if (b->stop) {
        pthread_mutex_unlock(&b->mu);
        item_free(it);
        return gj__error_set(err, GJ_ESHUTDOWN, "%s: the client is shutting down", c->hostport);
    }
    it->queued_at = gj__now_ms();
    if (b->tail)
        b->tail->next = it;
    else
        b->head = it;
    b->tail = it;
    b->pending++;
    if (b->pending >= b->t->batch_max || b->pending == 1 || !b->idle)
        wake_sender(b);
    bool no_sender = b->n_senders == 0;
    pthread_mutex_unlock(&b->mu);
    if (no_sender) {
        /* No thread could be started: send it alone. */
        pthread_mutex_lock(&b->mu);
        bool mine = !it->taken;
        if (mine) {
            batch_item **pp = &b->head, *prev = NULL;
            while (*pp && *pp != it) {
                prev = *pp;
                pp = &(*pp)->next;
            }
            if (*pp) {
                *pp = it->next;
                if (b->tail == it)
                    b->tail = prev;
                b->pending--;
            }
        }
        pthread_mutex_unlock(&b->mu);
        if (mine) {
            item_free(it);
            return gj__gql_http_execute(c, op, sink, err);
        }
    }

    int64_t deadline = gj__sink_deadline(sink);
    int rc = 0;
    pthread_mutex_lock(&c->mu);
    while (!atomic_load(&it->delivered) && (rc = gj__gql_wait(c, sink, deadline)) == 0)
        ;
    pthread_mutex_unlock(&c->mu);
    if (!atomic_load(&it->delivered)) {
        /* Cancelled or late: leave now; the answer, if it comes, is dropped. */
        pthread_mutex_lock(&b->mu);
        if (atomic_load(&it->delivered)) {
            item_free(it);
        } else if (!it->taken) {
            batch_item **pp = &b->head, *prev = NULL;
            while (*pp && *pp != it) {
                prev = *pp;
                pp = &(*pp)->next;
            }
            if (*pp) {
                *pp = it->next;
                if (b->tail == it)
                    b->tail = prev;
                b->pending--;
            }
            item_free(it);
        } else {
            it->abandoned = true;
            batch_request *br = it->req;
            if (br && ++br->abandoned == br->n && br->http)
                gj__http_interrupt(br->http);
        }
        pthread_mutex_unlock(&b->mu);
        if (rc == GJ_ECANCELLED)
            return gj__error_set(err, GJ_ECANCELLED, "%s: cancelled (its batch's answer is "
                                 "dropped)", c->hostport);
        return gj__error_set(err, GJ_ETIMEDOUT, "%s: no response within the timeout",
                             c->hostport);
    }
    /* Delivered: the item is ours. */
    if (it->rc) {
        rc = it->rc;
        if (it->err)
            gj_error_copy(err, it->err);
        else
            gj__error_set(err, rc, "%s: %s", c->hostport, gj_strerror(rc));
        item_free(it);
        return rc;
    }
    json_object *reply = it->reply;
    it->reply = NULL;
    long status = it->status;
    item_free(it);
    if (json_object_is_type(reply, json_type_string)) {
        /* The batch's reply was not GraphQL: its status and body. */
        rc = gj__gql_reply(c, status, NULL, json_object_get_string(reply),
                           (size_t)json_object_get_string_len(reply), sink, err);
        json_object_put(reply);
        return rc;
    }
    gj__gql_response r;
    if (!gj__gql_take(reply, &r)) {
        json_object_put(reply);
        return gj__error_set(err, GJ_EPROTOCOL, "%s: a batch answered this operation with "
                             "something that is not a GraphQL response", c->hostport);
    }
    gj_value *batched = gj_value_bool(true);
    if (gj__sink_meta(sink, "batched", batched) != 0) {
        gj__gql_response_clear(&r);
        return gj__error_set(err, GJ_ENOMEM, "out of memory");
    }
    return gj__gql_reply_parsed(c, status, &r, sink, err);
}
