/*
 * The test backend: see test_backend.h.
 */
#include "test_backend.h"
#include "core/job_internal.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct gj_conn {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    atomic_bool interrupted;  /* written under mu; read without it in usable() */
    atomic_bool broken;
    long id;                  /* 1, 2, ... in connect order (over the process) */
};

/* A session's state: the number of its jobs run so far. */
typedef struct tb_session {
    long seq;
} tb_session;

static atomic_long n_connects, n_closes, n_executes, n_interrupts, n_pings;
static atomic_long n_session_opens, n_session_closes, n_conn_ids;

void gj_test_backend_counters_get(gj_test_backend_counters *out)
{
    out->connects = atomic_load(&n_connects);
    out->closes = atomic_load(&n_closes);
    out->executes = atomic_load(&n_executes);
    out->interrupts = atomic_load(&n_interrupts);
    out->pings = atomic_load(&n_pings);
    out->session_opens = atomic_load(&n_session_opens);
    out->session_closes = atomic_load(&n_session_closes);
}

/* Host "slow": a connect that takes until its deadline, unless aborted. */
static int slow_connect(const gj_endpoint *ep, const gj_abort *abort, int64_t deadline_ms,
                        gj_error *err)
{
    for (;;) {
        int a = gj__abort_check(abort);
        if (a)
            return gj__error_set(err, a, "test: connect to %s:%d given up: %s", ep->host, ep->port,
                                 gj__abort_reason(a));
        int64_t left = deadline_ms == INT64_MAX ? 1000 : deadline_ms - gj__now_ms();
        if (left <= 0)
            return gj__error_set(err, GJ_ETIMEDOUT, "test: connect to %s:%d timed out", ep->host,
                                 ep->port);
        struct pollfd p[2];
        int n = gj__abort_pollfds(abort, p);
        if (poll(p, (nfds_t)n, left > 1000 ? 1000 : (int)left) > 0 && !gj__abort_check(abort))
            gj__abort_drain(abort);
    }
}

static int tb_connect(gj_conn **out, const gj_endpoint *ep, const gj_target_settings *ts,
                      const gj_logger *log, const gj_abort *abort, int64_t deadline_ms,
                      gj_error *err)
{
    (void)ts;
    (void)log;
    if (strcmp(ep->host, "down") == 0)
        return gj__error_set(err, GJ_ECONNECT, "test: connection to %s:%d refused",
                             ep->host, ep->port);
    if (strcmp(ep->host, "slow") == 0)
        return slow_connect(ep, abort, deadline_ms, err);
    gj_conn *c = calloc(1, sizeof *c);
    if (!c)
        return gj__error_set(err, GJ_ENOMEM, "test: out of memory");
    c->id = atomic_fetch_add(&n_conn_ids, 1) + 1;
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, &attr);
    pthread_condattr_destroy(&attr);
    atomic_fetch_add(&n_connects, 1);
    *out = c;
    return 0;
}

static int64_t opt_int(const gj_request *req, const char *key)
{
    int64_t v = 0;
    const gj_value *o = gj_request_option(req, key);
    if (o && gj_value_int_get(o, &v) == 0)
        return v;
    return 0;
}

/* Sleep for ns or until an interrupt; GJ_ETIMEDOUT when the request's
 * deadline (ms) comes first. */
static int tb_sleep(gj_conn *c, int64_t ns, int64_t deadline_ms)
{
    int64_t until = gj__now_ns() + ns;
    bool late = false;
    if (deadline_ms != INT64_MAX && deadline_ms <= INT64_MAX / 1000000 &&
        deadline_ms * 1000000 < until) {
        until = deadline_ms * 1000000;
        late = true;
    }
    struct timespec ts = { (time_t)(until / 1000000000), (long)(until % 1000000000) };
    int rc = 0;
    pthread_mutex_lock(&c->mu);
    while (!c->interrupted) {
        if (pthread_cond_timedwait(&c->cv, &c->mu, &ts) == ETIMEDOUT)
            break;
    }
    if (c->interrupted) {
        c->interrupted = false; /* consumed */
        rc = GJ_ECANCELLED;
    } else if (late) {
        rc = GJ_ETIMEDOUT;
    }
    pthread_mutex_unlock(&c->mu);
    return rc;
}

static int tb_execute(gj_conn *c, const gj_request *req, gj_sink *sink, gj_error *err)
{
    atomic_fetch_add_explicit(&n_executes, 1, memory_order_relaxed);
    tb_session *ss = gj__sink_session(sink);
    if (ss) {
        /* A session's job: its place in the session and the connection it
         * ran on, as metadata. */
        ss->seq++;
        if (gj__sink_meta(sink, "session_seq", gj_value_int(ss->seq)) != 0 ||
            gj__sink_meta(sink, "conn_id", gj_value_int(c->id)) != 0)
            return gj__error_set(err, GJ_ENOMEM, "test: out of memory");
    }
    if (gj_value_size(gj_request_options(req)) == 0) {
        /* A no-op: only an interrupt recorded before it started matters. */
        if (!atomic_load(&c->interrupted))
            return 0;
        pthread_mutex_lock(&c->mu);
        atomic_store(&c->interrupted, false);
        pthread_mutex_unlock(&c->mu);
        return GJ_ECANCELLED;
    }
    int64_t delay_ns = opt_int(req, "delay_ms") * 1000000 + opt_int(req, "delay_us") * 1000;
    if (delay_ns > 0 && gj_request_option(req, "uninterruptible")) {
        struct timespec ts = { (time_t)(delay_ns / 1000000000), (long)(delay_ns % 1000000000) };
        while (nanosleep(&ts, &ts) != 0)
            ;
    } else if (delay_ns > 0) {
        int rc = tb_sleep(c, delay_ns, gj__sink_deadline(sink));
        if (rc == GJ_ETIMEDOUT)
            return gj__error_set(err, GJ_ETIMEDOUT, "test: timed out after %lld ms",
                                 (long long)gj__sink_response_timeout(sink));
        if (rc)
            return rc;
    } else {
        /* Honour an interrupt recorded before execute started. */
        pthread_mutex_lock(&c->mu);
        bool was = c->interrupted;
        c->interrupted = false;
        pthread_mutex_unlock(&c->mu);
        if (was)
            return GJ_ECANCELLED;
    }

    const gj_value *fail = gj_request_option(req, "fail");
    if (fail) {
        const char *what = "";
        size_t len;
        gj_value_string_get(fail, &what, &len);
        if (strcmp(what, "io") == 0) {
            c->broken = true;
            return gj__error_set(err, GJ_EIO, "test: connection reset mid-request");
        }
        if (strcmp(what, "timeout") == 0)
            return gj__error_set(err, GJ_ETIMEDOUT, "test: no response within %lld ms",
                                 (long long)gj__sink_response_timeout(sink));
        gj__server_error se = { 0 };
        se.backend = "test";
        se.server_code = "1501";
        se.server_number = 1501;
        se.http_status = 400;
        se.message = "AQL: syntax error, unexpected identifier near 'BAD QUERY'";
        return gj__error_set_server(err, &se);
    }

    int64_t rows = opt_int(req, "rows");
    if (rows > 0) {
        gj_value *fields;
        if (gj_value_new_list(&fields, 2) != 0)
            return gj__error_set(err, GJ_ENOMEM, "test: out of memory");
        if (gj_value_list_append(fields, gj_value_string("i")) != 0 ||
            gj_value_list_append(fields, gj_value_string("label")) != 0) {
            gj_value_unref(fields);
            return gj__error_set(err, GJ_ENOMEM, "test: out of memory");
        }
        gj__sink_fields(sink, fields);
        for (int64_t i = 0; i < rows; i++) {
            if (gj__sink_cancel_requested(sink)) {
                pthread_mutex_lock(&c->mu);
                c->interrupted = false;
                pthread_mutex_unlock(&c->mu);
                return GJ_ECANCELLED;
            }
            char label[32];
            snprintf(label, sizeof label, "row %lld", (long long)i);
            gj_value *row;
            if (gj_value_new_list(&row, 2) != 0)
                return gj__error_set(err, GJ_ENOMEM, "test: out of memory");
            int rc = gj_value_list_append(row, gj_value_int(i));
            if (rc == 0)
                rc = gj_value_list_append(row, gj_value_string(label));
            if (rc) {
                gj_value_unref(row);
                return gj__error_set(err, GJ_ENOMEM, "test: out of memory");
            }
            rc = gj__sink_row(sink, row);
            if (rc == GJ_EABORTED)
                return gj__error_set(err, GJ_EABORTED, "test: stopped by the row callback "
                                     "after %lld rows", (long long)i + 1);
            if (rc)
                return gj__error_set(err, rc, "test: could not collect row %lld", (long long)i);
        }
        if (gj__sink_meta(sink, "count", gj_value_int(rows)) != 0)
            return gj__error_set(err, GJ_ENOMEM, "test: out of memory for the row count");
    }
    const gj_value *echo = gj_request_option(req, "echo");
    if (echo && gj_value_type(echo) == GJ_TBOOL) {
        int rc = gj__sink_row(sink, gj_value_ref(gj_request_params(req)));
        if (rc == GJ_EABORTED)
            return gj__error_set(err, rc, "test: stopped by the row callback");
        if (rc)
            return gj__error_set(err, rc, "test: could not collect the echoed row");
    }
    return 0;
}

static void tb_interrupt(gj_conn *c)
{
    atomic_fetch_add(&n_interrupts, 1);
    pthread_mutex_lock(&c->mu);
    c->interrupted = true;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

static bool tb_usable(gj_conn *c)
{
    return !atomic_load(&c->broken) && !atomic_load(&c->interrupted);
}

static int tb_ping(gj_conn *c, int64_t deadline_ms)
{
    (void)deadline_ms;
    atomic_fetch_add(&n_pings, 1);
    return c->broken ? GJ_EIO : 0;
}

static void tb_close(gj_conn *c)
{
    atomic_fetch_add(&n_closes, 1);
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cv);
    free(c);
}

static const char *const tb_schemes[] = { "test", NULL };

static int tb_session_check(const gj_value *options, gj_error *err)
{
    for (size_t i = 0; i < gj_value_size(options); i++) {
        const char *key = NULL;
        gj_value_string_get(gj_value_map_key_at(options, i), &key, NULL);
        if (!key || strcmp(key, "fail_open") != 0)
            return gj__error_set(err, GJ_EINVAL, "test: unknown session option %s",
                                 key ? key : "(not a string)");
    }
    return 0;
}

static int tb_session_open(gj_conn *c, const gj_value *options, void **state, int64_t deadline_ms,
                           gj_error *err)
{
    (void)c;
    (void)deadline_ms;
    if (gj_value_map_get(options, "fail_open"))
        return gj__error_set(err, GJ_ESERVER, "test: the server refused the session");
    tb_session *s = calloc(1, sizeof *s);
    if (!s)
        return gj__error_set(err, GJ_ENOMEM, "test: out of memory");
    atomic_fetch_add(&n_session_opens, 1);
    *state = s;
    return 0;
}

static void tb_session_close(gj_conn *c, void *state, int64_t deadline_ms, gj_error *err)
{
    (void)c;
    (void)deadline_ms;
    (void)err;
    atomic_fetch_add(&n_session_closes, 1);
    free(state);
}

const gj_backend gj_test_backend = {
    .name = "test",
    .schemes = tb_schemes,
    .default_port = 1,
    .connect = tb_connect,
    .execute = tb_execute,
    .interrupt = tb_interrupt,
    .usable = tb_usable,
    .ping = tb_ping,
    .close = tb_close,
    .session_check = tb_session_check,
    .session_open = tb_session_open,
    .session_close = tb_session_close,
    .max_inflight = 1,
};

int gj_test_client_new(gj_client **out, unsigned workers, size_t queue_size, gj_error *err)
{
    gj_config *cfg;
    int rc = gj_config_from_url(&cfg, "test://localhost", err);
    if (rc)
        return rc;
    rc = gj_config_set_int(cfg, NULL, "workers", workers, err);
    if (rc == 0)
        rc = gj_config_set_int(cfg, NULL, "queue_size", (int64_t)queue_size, err);
    /* One connection per worker at most, never waiting for a connection. */
    if (rc == 0)
        rc = gj_config_set_int(cfg, "default", "max_conns", workers, err);
    const gj_backend *const extra[] = { &gj_test_backend };
    if (rc == 0)
        rc = gj__client_new_with_backends(out, cfg, extra, 1, err);
    gj_config_free(cfg);
    return rc;
}

int gj_test_client_new_url(gj_client **out, const char *url, gj_error *err)
{
    gj_config *cfg;
    int rc = gj_config_from_url(&cfg, url, err);
    if (rc)
        return rc;
    const gj_backend *const extra[] = { &gj_test_backend };
    rc = gj__client_new_with_backends(out, cfg, extra, 1, err);
    gj_config_free(cfg);
    return rc;
}
