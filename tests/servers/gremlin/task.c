/* task.c — evaluation, responses and sessions: the bottom half of a request.
 *
 * A task is one request on its way: its script or bytecode is run (aliases
 * checked, the plan evaluated, Thread.sleep and evaluationTimeout on lws
 * timers), then its results leave in batches of batchSize: 206 partials,
 * then 200 with the status attribute "host", or 204 when there are none.
 * A task that waits (a sleep, a stall, a paced stream) keeps its place in
 * its connection's list and its session's queue; a closing connection frees
 * them and cancels their timers.  A session runs its tasks one at a time in
 * arrival order, is bound to the connection that opened it and dies with it,
 * or on op "close" once its queue is empty. */
#include "gs.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

struct gs_session {
    gs_session *next;
    char *id;
    gs_conn *conn;
    gj_value *vars;                /* the session's variables (a map only this file holds) */
    gs_task *queue_head, *queue_tail;
    bool running;
    bool closed;                   /* op close: no longer found; freed once its queue is empty */
};

static void session_pump(gs_session *s);

/* ---- responses --------------------------------------------------------------------------- */

const char *gs_uuid_text(const gs_reply_to *to, char buf[37])
{
    if (!to->has_id)
        return "null";
    static const char hex[] = "0123456789abcdef";
    size_t n = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            buf[n++] = '-';
        buf[n++] = hex[to->id[i] >> 4];
        buf[n++] = hex[to->id[i] & 15];
    }
    buf[n] = '\0';
    return buf;
}

static gj_value *map_of(const char *key, gj_value *value)
{
    gj_value *m = NULL;
    if (gj_value_new_map(&m, 1) != 0) {
        gj_value_unref(value);
        return NULL;
    }
    gj_value_map_put_str(m, key, value);
    return m;
}

static gj_value *host_attributes(const gs_conn *c)
{
    return map_of("host", gj_value_string(c->peer));
}

/* ResponseMessage.Builder.statusAttributeException(): the exception's class
 * chain and its stack trace. */
static gj_value *exception_attributes(const char *exception, const char *message)
{
    gj_value *m = NULL, *classes = NULL;
    if (gj_value_new_map(&m, 2) != 0 || gj_value_new_list(&classes, 1) != 0) {
        gj_value_unref(m);
        return NULL;
    }
    gj_value_list_append(classes, gj_value_string(exception));
    gj_value_map_put_str(m, "exceptions", classes);
    size_t cap = strlen(exception) + strlen(message) + 128;
    char *trace = malloc(cap);
    if (trace) {
        snprintf(trace, cap, "%s: %s\n\tat Script1.run(Script1.groovy:1)\n", exception, message);
        gj_value *t = NULL;
        if (gj_value_new_string(&t, trace, strlen(trace)) == 0)
            gj_value_map_put_str(m, "stackTrace", t);
        free(trace);
    }
    return m;
}

/* Encode and queue one response; attrs and data are taken over. */
void gs_respond(gs_conn *c, const gs_reply_to *to, int code, const char *message, gj_value *attrs,
                    gj_value *data)
{
    gj_gremlin_response r;
    memset(&r, 0, sizeof r);
    r.has_request_id = to->has_id;
    memcpy(r.request_id, to->id, 16);
    r.status_code = code;
    gj_value_new_string(&r.status_message, message ? message : "", message ? strlen(message) : 0);
    r.status_attributes = attrs;
    r.result_data = data;
    gj_ps_buf b;
    gj__ps_buf_init(&b, 0);
    gj_error *err = gj_error_new();
    int rc = gj__gremlin_response_encode(&b, to->fmt, &r, err);
    char id[37];
    if (rc == 0) {
        gs_frame *f = gs_frame_new(b.len, to->text);
        if (f) {
            memcpy(f->data + LWS_PRE, b.data, b.len);
            gs_conn_queue(c, f);
        }
        gs_log("RESPONSE %s %d %zu bytes", gs_uuid_text(to, id), code, b.len);
    }
    char why[600] = "";
    if (rc != 0)
        snprintf(why, sizeof why, "Error during serialization: %s", gj_error_message(err));
    gj__ps_buf_free(&b);
    gj_error_free(err);
    gj__gremlin_response_clear(&r);
    if (rc != 0 && code != GJ_GREMLIN_SERVER_ERROR_SERIALIZATION) {
        gs_log("response %d of %s could not be serialized: %s", code, gs_uuid_text(to, id), why);
        gs_respond(c, to, GJ_GREMLIN_SERVER_ERROR_SERIALIZATION, why,
                exception_attributes("org.apache.tinkerpop.gremlin.util.ser.SerializationException", why), NULL);
    }
}

void gs_respond_error(gs_conn *c, const gs_reply_to *to, int code, const char *fmt, ...)
{
    char msg[1200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    gs_respond(c, to, code, msg, NULL, NULL);
}

static void respond_exception(gs_conn *c, const gs_reply_to *to, int code, const char *exception,
                              const char *message)
{
    gs_respond(c, to, code, message, exception_attributes(exception, message), NULL);
}

/* One batch of results from items[off]: a 206 partial, or the final 200
 * with the status attribute "host".  Traversal results travel as
 * Traversers of bulk 1.  Returns the offset of the next batch (n when done). */
static size_t respond_batch(gs_conn *c, const gs_reply_to *to, const gj_value *items, size_t off,
                            int32_t batch, bool traversers)
{
    size_t n = gj_value_size(items);
    size_t end = off + (size_t)batch < n ? off + (size_t)batch : n;
    gj_value *chunk = NULL;
    if (gj_value_new_list(&chunk, end - off) != 0)
        return n;
    for (size_t i = off; i < end; i++) {
        gj_value *item = gj_value_ref(gj_value_list_at(items, i));
        if (traversers) {
            gj_value *inner = NULL, *t = NULL;
            gj_value_new_map(&inner, 2);
            gj_value_map_put_str(inner, "bulk", gj_value_int(1));
            gj_value_map_put_str(inner, "value", item);
            gj_value_new_tagged(&t, "g:Traverser", inner);
            item = t;
        }
        gj_value_list_append(chunk, item);
    }
    bool last = end == n;
    gs_respond(c, to, last ? GJ_GREMLIN_SUCCESS : GJ_GREMLIN_PARTIAL_CONTENT, "", last ? host_attributes(c) : NULL,
            chunk);
    return end;
}

/* All results: batches of 206 then 200; 204 (with "host") when there are
 * none.  items is taken over. */
static void respond_results(gs_conn *c, const gs_reply_to *to, gj_value *items, int32_t batch,
                            bool traversers)
{
    size_t n = gj_value_size(items);
    if (n == 0)
        gs_respond(c, to, GJ_GREMLIN_NO_CONTENT, "", host_attributes(c), NULL);
    for (size_t off = 0; off < n;)
        off = respond_batch(c, to, items, off, batch, traversers);
    gj_value_unref(items);
}

/* ---- requests and tasks ------------------------------------------------------------------- */

void gs_request_free(gs_request *r)
{
    if (!r)
        return;
    if (r->valid)
        gj__gremlin_request_clear(&r->msg);
    free(r);
}

gs_task *gs_task_new(gs_conn *c, gs_request *r)
{
    gs_task *t = calloc(1, sizeof *t);
    if (!t) {
        gs_request_free(r);
        return NULL;
    }
    t->conn = c;
    t->req = r;
    t->next = c->tasks;
    if (c->tasks)
        c->tasks->prev = t;
    c->tasks = t;
    return t;
}

void gs_task_free(gs_task *t)
{
    lws_sul_cancel(&t->sul_wait);
    lws_sul_cancel(&t->sul_timeout);
    if (t->prev)
        t->prev->next = t->next;
    else
        t->conn->tasks = t->next;
    if (t->next)
        t->next->prev = t->prev;
    gs_plan_free(&t->plan);
    gj_value_unref(t->paced);
    gs_request_free(t->req);
    free(t);
}

static void schedule(lws_sorted_usec_list_t *sul, sul_cb_t cb, int64_t ms)
{
    lws_sul_schedule(gs_srv->context, 0, sul, cb, (lws_usec_t)ms * LWS_US_PER_MS);
}

#define TASK_OF(sul, member) ((gs_task *)(void *)((char *)(sul) - offsetof(gs_task, member)))

/* The end of a task that belongs to a session or stands alone. */
static void task_finished(gs_task *t)
{
    gs_session *s = t->session;
    if (!s) {
        gs_task_free(t);
        return;
    }
    s->queue_head = t->queue_next;
    if (!s->queue_head)
        s->queue_tail = NULL;
    s->running = false;
    gs_task_free(t);
    session_pump(s);
}

/* ---- evaluation ----------------------------------------------------------------------------- */

static const char *const traversal_sources[] = { "g", NULL };
static const char *const graphs[] = { "graph", NULL };

bool gs_in_list(const char *s, const char *const *list)
{
    for (int i = 0; list[i]; i++)
        if (!strcmp(s, list[i]))
            return true;
    return false;
}

/* Aliases of an eval request: each value must name a graph or a traversal
 * source of the server ("graph", "g"), as StandardOpProcessor checks. */
static bool aliases_ok(gs_task *t)
{
    const gj_value *aliases = t->args.aliases;
    for (size_t i = 0; i < gj_value_size(aliases); i++) {
        const char *k, *v;
        size_t kl, vl;
        gj_value_string_get(gj_value_map_key_at(aliases, i), &k, &kl);
        gj_value_string_get(gj_value_map_value_at(aliases, i), &v, &vl);
        if (!gs_in_list(v, traversal_sources) && !gs_in_list(v, graphs)) {
            gs_respond_error(t->conn, &t->req->to, GJ_GREMLIN_REQUEST_ERROR_INVALID_REQUEST_ARGUMENTS,
                          "Could not alias [%s] to [%s] as [%s] not in the Graph or TraversalSource global bindings",
                          k, v, v);
            return false;
        }
    }
    return true;
}

/* What the name before ".V()" is: 1 a traversal source, 0 a graph, -1 nothing. */
static int source_kind(gs_task *t, const char *name)
{
    const gj_value *alias = t->args.aliases ? gj_value_map_get(t->args.aliases, name) : NULL;
    const char *v;
    size_t len;
    if (alias && gj_value_string_get(alias, &v, &len) == 0)
        return gs_in_list(v, traversal_sources) ? 1 : 0;
    if (gs_in_list(name, traversal_sources))
        return 1;
    return gs_in_list(name, graphs) ? 0 : -1;
}

static void timeout_fired(lws_sorted_usec_list_t *sul)
{
    gs_task *t = TASK_OF(sul, sul_timeout);
    char msg[1400];
    snprintf(msg, sizeof msg,
             "Evaluation exceeded the configured 'evaluationTimeout' threshold of %lld ms or evaluation was "
             "otherwise cancelled directly for request [%s]: sleep interrupted",
             (long long)t->timeout_ms, t->args.gremlin ? t->args.gremlin : "");
    respond_exception(t->conn, &t->req->to, GJ_GREMLIN_SERVER_ERROR_TIMEOUT,
                      "java.util.concurrent.TimeoutException", msg);
    task_finished(t);
}

static void pace_next(lws_sorted_usec_list_t *sul)
{
    gs_task *t = TASK_OF(sul, sul_wait);
    t->paced_offset = respond_batch(t->conn, &t->req->to, t->paced, t->paced_offset, t->paced_batch, t->bytecode);
    if (t->paced_offset < gj_value_size(t->paced))
        schedule(&t->sul_wait, pace_next, t->pace_ms);
    else
        task_finished(t);
}

static void sleep_done(lws_sorted_usec_list_t *sul)
{
    gs_task *t = TASK_OF(sul, sul_wait);
    gj_value *items = NULL;
    if (gj_value_new_list(&items, 1) == 0)
        gj_value_list_append(items, gj_value_null());   /* Thread.sleep() returns null */
    int32_t batch = t->args.batch_size > 0 ? t->args.batch_size : gs_srv->cfg.batch_size;
    respond_results(t->conn, &t->req->to, items, batch, false);
    task_finished(t);
}

/* Merge a request's bindings into its session's variables (the session's
 * Bindings get putAll(bindings) on the real server). */
static void session_take_bindings(gs_session *s, const gj_value *bindings)
{
    for (size_t i = 0; i < gj_value_size(bindings); i++)
        gj_value_map_put(s->vars, gj_value_ref(gj_value_map_key_at(bindings, i)),
                         gj_value_ref(gj_value_map_value_at(bindings, i)));
}

/* Run a task's script or bytecode.  0: finished (the caller ends the task);
 * 1: it waits on a timer. */
static int run(gs_task *t)
{
    gs_conn *c = t->conn;
    const gs_reply_to *to = &t->req->to;
    char why[1400];
    t->state = GS_TASK_RUNNING;
    if (!t->bytecode) {
        if (!aliases_ok(t))
            return 0;
        if (gs_script_parse(t->args.gremlin, &t->plan, why, sizeof why) != 0) {
            respond_exception(c, to, GJ_GREMLIN_SERVER_ERROR_EVALUATION,
                              "org.codehaus.groovy.control.MultipleCompilationErrorsException", why);
            return 0;
        }
    }
    gs_fault *big = gs_fault_take(gs_srv->cfg.faults, gs_srv->cfg.n_faults, GS_FAULT_OVERSIZED,
                                  t->args.gremlin);
    if (big) {
        char *s = malloc(big->bytes + 1);
        gj_value *text = NULL, *list = NULL;
        if (s) {
            memset(s, 'x', big->bytes);
            gj_value_new_string(&text, s, big->bytes);
            free(s);
        }
        if (text && gj_value_new_list(&list, 1) == 0)
            gj_value_list_append(list, text);
        else
            gj_value_unref(text);
        gs_log("oversized fault: a %zu-byte string answers the request", big->bytes);
        gs_respond(c, to, GJ_GREMLIN_SUCCESS, "", host_attributes(c), list);
        return 0;
    }
    t->timeout_ms = t->args.evaluation_timeout >= 0 ? t->args.evaluation_timeout
                                                    : gs_srv->cfg.evaluation_timeout;
    const gs_plan *p = &t->plan;
    gs_session *s = t->session;
    if (s && t->args.bindings)
        session_take_bindings(s, t->args.bindings);
    gs_scope scope = { t->args.bindings, s ? s->vars : NULL };
    if (p->kind == GS_PLAN_SLEEP) {
        t->state = GS_TASK_SLEEPING;
        if (t->timeout_ms > 0 && p->sleep_ms > t->timeout_ms)
            schedule(&t->sul_timeout, timeout_fired, t->timeout_ms);
        else
            schedule(&t->sul_wait, sleep_done, p->sleep_ms);
        return 1;
    }
    if (p->kind == GS_PLAN_THROW) {
        respond_exception(c, to, GJ_GREMLIN_SERVER_ERROR_EVALUATION, "java.lang.Exception", p->message);
        return 0;
    }
    if (p->kind == GS_PLAN_TRAVERSAL && !t->bytecode) {
        int kind = source_kind(t, p->name);
        if (kind < 0 && !gs_scope_get(&scope, p->name)) {
            snprintf(why, sizeof why, "No such property: %s for class: Script1", p->name);
            respond_exception(c, to, GJ_GREMLIN_SERVER_ERROR_EVALUATION, "groovy.lang.MissingPropertyException", why);
            return 0;
        }
        if (kind != 1) {
            snprintf(why, sizeof why,
                     "No signature of method: %s.%s() is applicable for argument types: () values: []",
                     kind == 0 ? "org.apache.tinkerpop.gremlin.tinkergraph.structure.TinkerGraph" : "java.lang.Object",
                     p->source == GS_SOURCE_V ? "V" : p->source == GS_SOURCE_E ? "E" : "inject");
            respond_exception(c, to, GJ_GREMLIN_SERVER_ERROR_EVALUATION, "groovy.lang.MissingMethodException", why);
            return 0;
        }
    }
    gj_value *items = NULL;
    gs_eval_error e;
    if (gs_plan_eval(p, &scope, &items, &e) != 0) {
        /* the traversal processor answers iteration failures with 500 */
        respond_exception(c, to, t->bytecode ? GJ_GREMLIN_SERVER_ERROR : e.code, e.exception, e.message);
        return 0;
    }
    if (p->kind == GS_PLAN_ASSIGN) {
        const gj_value *v = p->value.value ? p->value.value : gs_scope_get(&scope, p->value.name);
        gj_value *target = s ? s->vars : NULL;
        if (target && v)
            gj_value_map_put_str(target, p->name, gj_value_ref(v));
    }
    int32_t batch = t->args.batch_size > 0 ? t->args.batch_size : gs_srv->cfg.batch_size;
    gs_fault *pace = gj_value_size(items) > (size_t)batch
                         ? gs_fault_take(gs_srv->cfg.faults, gs_srv->cfg.n_faults, GS_FAULT_PACE, t->args.gremlin)
                         : NULL;
    if (pace) {
        gs_log("pace fault: one frame every %ld ms", pace->ms);
        t->paced = items;
        t->paced_batch = batch;
        t->pace_ms = pace->ms;
        t->paced_offset = respond_batch(c, to, items, 0, batch, t->bytecode);
        t->state = GS_TASK_SLEEPING;
        schedule(&t->sul_wait, pace_next, t->pace_ms);
        return 1;
    }
    respond_results(c, to, items, batch, t->bytecode);
    return 0;
}

bool gs_task_run(gs_task *t)
{
    return run(t) != 0;
}

bool gs_is_traversal_source(const char *name)
{
    return gs_in_list(name, traversal_sources);
}

static void stall_over(lws_sorted_usec_list_t *sul)
{
    gs_task *t = TASK_OF(sul, sul_wait);
    gs_log("stall fault over");
    gs_select_op(t);
}

void gs_task_stall(gs_task *t, double secs)
{
    t->state = GS_TASK_STALLED;
    if (secs > 0)
        schedule(&t->sul_wait, stall_over, (int64_t)(secs * 1000));
}

/* ---- sessions ------------------------------------------------------------------------------ */

static void session_free(gs_session *s)
{
    gs_session **pp = &gs_srv->sessions;
    while (*pp && *pp != s)
        pp = &(*pp)->next;
    if (*pp)
        *pp = s->next;
    while (s->queue_head) {
        gs_task *t = s->queue_head;
        s->queue_head = t->queue_next;
        gs_task_free(t);
    }
    gj_value_unref(s->vars);
    free(s->id);
    free(s);
}

static gs_session *session_find(const char *id)
{
    for (gs_session *s = gs_srv->sessions; s; s = s->next)
        if (!s->closed && !strcmp(s->id, id))
            return s;
    return NULL;
}

static void session_pump(gs_session *s)
{
    while (s->queue_head && !s->running) {
        gs_task *t = s->queue_head;
        s->running = true;
        if (run(t) != 0)
            return;               /* it waits on a timer; task_finished resumes */
        s->queue_head = t->queue_next;
        if (!s->queue_head)
            s->queue_tail = NULL;
        s->running = false;
        gs_task_free(t);
    }
    if (s->closed && !s->queue_head)
        session_free(s);
}

bool gs_session_submit(gs_task *t)
{
    gs_conn *c = t->conn;
    gs_session *s = session_find(t->args.session);
    if (s && s->conn != c) {
        gs_respond_error(c, &t->req->to, GJ_GREMLIN_SERVER_ERROR, "Session %s is not bound to the connecting client",
                         s->id);
        return false;
    }
    if (!s) {
        s = calloc(1, sizeof *s);
        if (!s || !(s->id = strdup(t->args.session)) || gj_value_new_map(&s->vars, 4) != 0) {
            if (s)
                free(s->id);
            free(s);
            gs_respond_error(c, &t->req->to, GJ_GREMLIN_SERVER_ERROR, "out of memory");
            return false;
        }
        s->conn = c;
        s->next = gs_srv->sessions;
        gs_srv->sessions = s;
        gs_log("session %s opened on connection %lu", s->id, c->id);
    }
    t->session = s;
    t->state = GS_TASK_QUEUED;
    if (s->queue_tail)
        s->queue_tail->queue_next = t;
    else
        s->queue_head = t;
    s->queue_tail = t;
    session_pump(s);
    return true;
}

void gs_session_close(const char *id)
{
    gs_session *s = session_find(id);
    if (!s)
        return;
    gs_log("session %s closed", s->id);
    s->closed = true;
    if (!s->queue_head)
        session_free(s);
}

/* ---- teardown -------------------------------------------------------------------------------- */

void gs_conn_release(gs_conn *c)
{
    for (gs_session *s = gs_srv->sessions, *next; s; s = next) {
        next = s->next;
        if (s->conn == c) {
            gs_log("session %s ends with its connection", s->id);
            session_free(s);
        }
    }
    while (c->tasks)
        gs_task_free(c->tasks);
    gs_request_free(c->auth_original);
    c->auth_original = NULL;
    while (c->deferred_head) {
        gs_request *d = c->deferred_head;
        c->deferred_head = d->next;
        gs_request_free(d);
    }
    c->deferred_tail = NULL;
}

void gs_sessions_free(void)
{
    while (gs_srv->sessions)
        session_free(gs_srv->sessions);
}
