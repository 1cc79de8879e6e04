/*
 * Bolt execute: RUN + PULL pipelined, records streamed into the sink, PULL
 * again while has_more; FAILURE, an interrupt and a result past
 * max_result_size end with RESET so the connection stays usable: execute
 * returns as soon as RESET is sent, and settle() reads what the server still
 * sends up to RESET's SUCCESS (dropping the connection when that does not
 * come within GJ_BOLT_SETTLE_MS).  A row callback that stops a batched
 * auto-commit stream ends it with DISCARD {n: -1} instead (the rest of the
 * current batch is dropped as it arrives); a fetch-all stream or a
 * transaction is RESET.
 *
 * Time: the request's deadline (gj__sink_deadline: response_timeout or the
 * request's own timeout, from the start of execute) bounds the whole
 * request; the server's connection.recv_timeout_seconds hint bounds each
 * wait for the next bytes (an idle timeout).  Each socket read looks at the
 * interrupt record and the deadline first, and each message read from the
 * buffer at the interrupt record, so neither a fast nor a slow server holds
 * a cancelled or late request.
 *
 * Operations:
 *   "query"        one auto-commit statement: the request's text and params
 *   "transaction"  several statements in one explicit transaction, pipelined
 *                  in one write: BEGIN, RUN + PULL per statement, COMMIT.
 *                  The statements are the option "statements" (a list of
 *                  strings or of maps {query, params}) followed by the
 *                  request's text with its params, if any.  The result holds
 *                  the last statement's fields, rows and summary, plus
 *                  COMMIT's bookmark.  Any FAILURE rolls everything back
 *                  (RESET).  A transient error (Neo.TransientError.*, but not
 *                  Terminated / LockClientStopped) is retried up to
 *                  "max_retries" times (default 3) with exponential backoff
 *                  from 100 ms, unless rows were already given to a row
 *                  callback.
 *   "begin", "commit", "rollback"   a gj_session's interactive transaction
 *                  (bolt_tx.c says what a session is): BEGIN, COMMIT,
 *                  ROLLBACK; a "query" in between runs inside it (RUN with
 *                  an empty extra).  A RESET or a broken connection during
 *                  one of its jobs ends the transaction (session_after).
 *
 * The request options and the extra they make: bolt_extra.c.
 */
#include "backend/bolt/bolt.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


typedef struct exec_state {
    gj_conn *c;
    gj_sink *sink;
    gj_error *err;
    int64_t deadline;  /* the whole request's (INT64_MAX = none) */
    int64_t timeout_ms;
    int64_t fetch;
    bool in_tx;        /* op "transaction": a stop rolls back (RESET) */
    bool reauth;       /* LOGOFF + LOGON went out with the request */
    uint8_t prev_auth_id[GJ_BOLT_AUTH_ID_LEN];   /* the identity before (restored when nothing is sent) */
    bool discard_all;  /* option "discard": DISCARD instead of PULL */
    bool reset_sent;
    bool cancelled;
    bool stopped;      /* the row callback asked to stop */
    bool failed;       /* err holds the server's FAILURE (or a sink error) */
    int fail_code;
    bool transient;    /* the FAILURE may be retried */
    size_t rows;       /* rows given to the sink */
    gj_bolt_session *ss;   /* the session's state (a job of a gj_session), or NULL */
    bool interactive;  /* a query inside the session's open transaction */
    gj_value *sent;    /* the bookmarks the request carried, or NULL */
    gj_value *bookmark;/* the bookmark the server gave (auto-commit, COMMIT), or NULL */
} exec_state;

void gj__bolt_interrupt(gj_conn *c)
{
    gj__tcp_interrupt(&c->tcp);
}

bool gj__bolt_usable(gj_conn *c)
{
    return !c->broken && !c->tcp.broken && c->n_pending == 0 && !gj__tcp_interrupt_pending(&c->tcp);
}

static bool consume_interrupt(gj_conn *c)
{
    return gj__tcp_take_interrupt(&c->tcp);
}

static int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

/* RESET goes out within a short time whatever the request's deadline: a
 * peer that stopped reading must not hold a cancel. */
static int64_t reset_deadline(int64_t request_deadline)
{
    return min64(request_deadline, gj__now_ms() + GJ_BOLT_SETTLE_MS);
}

static int send_reset(gj_conn *c, int64_t deadline_ms, gj_error *err)
{
    int rc = gj__bolt_write_empty(&c->wbuf, GJ_BOLT_RESET, err);
    if (!rc)
        rc = gj__bolt_push_pending(c, GJ_BOLT_RESET, err);
    if (!rc)
        rc = gj__bolt_flush(c, deadline_ms, err);
    if (rc)
        c->broken = true;
    return rc;
}

/* Read and drop every outstanding response (records, IGNORED, summaries)
 * up to the last one, RESET's SUCCESS, before deadline_ms.  An interrupt
 * ends it.  Any failure leaves the connection broken, except an interrupt
 * when settle_later: nothing was half read, so settle() can finish the
 * drain and the connection is reused. */
static int drain_pending_for(gj_conn *c, int64_t deadline_ms, bool settle_later, gj_error *err)
{
    int rc = 0;
    while (!rc && c->n_pending) {
        gj_bolt_msg m;
        rc = gj__bolt_read_msg(c, &m, deadline_ms, GJ_TCP_INTERRUPTIBLE, err);
        if (rc)
            break;
        if (m.tag != GJ_BOLT_RECORD) {
            uint8_t tag = gj__bolt_pop_pending(c) & ~GJ_BOLT_DELIVER;
            if (tag == GJ_BOLT_RESET && m.tag != GJ_BOLT_SUCCESS)
                rc = gj__error_set(err, GJ_EPROTOCOL, "%s: RESET answered with %s", c->endpoint,
                                   gj__bolt_msg_name(m.tag, GJ_BOLT_RESPONSE));
        }
        gj__bolt_msg_clear(&m);
    }
    if (rc == GJ_ECANCELLED)
        gj__error_set(err, GJ_ECANCELLED, "%s: interrupted while waiting for RESET's answer", c->endpoint);
    if (rc && !(rc == GJ_ECANCELLED && settle_later))
        c->broken = true;
    return rc;
}

static int drain_pending(gj_conn *c, int64_t deadline_ms, gj_error *err)
{
    return drain_pending_for(c, deadline_ms, false, err);
}

int gj__bolt_reset(gj_conn *c, int64_t deadline_ms, gj_error *err)
{
    if (c->broken || c->tcp.broken)
        return gj__error_set(err, GJ_EIO, "%s: connection is broken", c->endpoint);
    int rc = send_reset(c, deadline_ms, err);
    return rc ? rc : drain_pending(c, deadline_ms, err);
}

int gj__bolt_settle(gj_conn *c, int64_t deadline_ms)
{
    if (c->broken || c->tcp.broken)
        return 0;
    if (gj__tcp_interrupt_pending(&c->tcp)) {
        /* Interrupted after execute returned (a late cancel, the pool
         * shutting down): the connection's state is not worth finding out. */
        c->broken = true;
        return GJ_ECANCELLED;
    }
    if (c->n_pending == 0)
        return 0;
    gj_error *e = gj_error_new();
    int rc = e ? drain_pending(c, deadline_ms, e) : GJ_ENOMEM;
    if (rc) {
        c->broken = true;
        gj__log(c->log, GJ_LOG_DEBUG, "bolt %s: dropping the connection: %s", c->endpoint,
                e && gj_error_message(e)[0] ? gj_error_message(e) : gj_strerror(rc));
    }
    gj_error_free(e);
    return rc;
}

/* ---- responses ------------------------------------------------------------------ */

static void sink_fail(exec_state *st, int rc)
{
    if (st->failed || st->stopped || st->cancelled)
        return;
    st->failed = true;
    st->fail_code = gj__error_set(st->err, rc, "%s: cannot keep the result: %s", st->c->endpoint,
                                  gj_strerror(rc));
}

/* Begin the cleanup: RESET (once).  execute() returns after it; settle()
 * reads the answer. */
static int begin_reset(exec_state *st)
{
    if (st->reset_sent)
        return 0;
    st->reset_sent = true;
    gj_error *tmp = gj_error_new();
    int rc = send_reset(st->c, reset_deadline(st->deadline), tmp);
    if (rc)
        gj__error_move(st->err, tmp);
    gj_error_free(tmp);
    return rc;
}

static int on_record(exec_state *st, gj_bolt_msg *m, bool deliver)
{
    if (!deliver || st->stopped || st->cancelled || st->failed || st->reset_sent)
        return 0;
    st->rows++;
    gj_value *row = m->fields[0];
    m->fields[0] = NULL;
    int rc = gj__sink_row_sized(st->sink, row, st->c->last_msg_len);
    if (rc == GJ_ETOOBIG) {
        /* Past max_result_size: the server's work is stopped (RESET). */
        st->failed = true;
        st->fail_code = gj__sink_too_big(st->sink, st->err);
        gj__error_prefix(st->err, "%s", st->c->endpoint);
        return begin_reset(st);
    }
    if (rc == GJ_EABORTED) {
        /* Batched stream: the rest of this batch is dropped and the next
         * PULL becomes DISCARD (on_success), so no RESET is needed.  A
         * fetch-all auto-commit stream or a managed transaction (rolled
         * back) is RESET; inside a session's open transaction the rest is
         * dropped as it arrives, so the transaction stays open. */
        st->stopped = true;
        return (st->fetch == GJ_BOLT_ALL && !st->interactive) || st->in_tx ? begin_reset(st) : 0;
    }
    if (rc) {
        sink_fail(st, rc);
        return begin_reset(st);
    }
    return 0;
}

static void forward_meta(exec_state *st, const gj_value *meta, bool final)
{
    for (size_t i = 0; i < gj_value_size(meta); i++) {
        const char *key = NULL;
        gj_value_string_get(gj_value_map_key_at(meta, i), &key, NULL);
        if (!key || strcmp(key, "has_more") == 0 || strcmp(key, "qid") == 0 || strcmp(key, "fields") == 0)
            continue;
        if (!final && strcmp(key, "t_first") != 0)
            continue;
        int rc = gj__sink_meta(st->sink, key, gj_value_ref(gj_value_map_value_at(meta, i)));
        if (rc)
            sink_fail(st, rc);
    }
}

static int on_success(exec_state *st, uint8_t entry, gj_bolt_msg *m)
{
    gj_conn *c = st->c;
    const gj_value *meta = m->fields[0];
    uint8_t tag = entry & ~GJ_BOLT_DELIVER;
    if (tag == GJ_BOLT_COMMIT) {
        const gj_value *bm = gj_value_map_get(meta, "bookmark");
        if (bm && gj_value_type(bm) == GJ_TSTRING && !st->bookmark)
            st->bookmark = gj_value_ref(bm);
        if (!st->cancelled && (entry & GJ_BOLT_DELIVER))
            forward_meta(st, meta, true);   /* a session's commit: bookmark, db */
        else if (bm && !st->cancelled && gj__sink_meta(st->sink, "bookmark", gj_value_ref(bm)))
            sink_fail(st, GJ_ENOMEM);
        return 0;
    }
    if (!(entry & GJ_BOLT_DELIVER))
        return 0;
    if (tag == GJ_BOLT_RUN) {
        gj_value *fields = (gj_value *)gj_value_map_get(meta, "fields");
        if (fields && gj_value_type(fields) == GJ_TLIST && !st->cancelled) {
            int rc = gj__sink_fields(st->sink, gj_value_ref(fields));
            if (rc)
                sink_fail(st, rc);
        }
        forward_meta(st, meta, false);
        return 0;
    }
    if (tag != GJ_BOLT_PULL && tag != GJ_BOLT_DISCARD)
        return 0;
    bool has_more = false;
    gj__bolt_meta_bool(meta, "has_more", &has_more);
    if (has_more) {
        if (st->reset_sent)
            return 0;
        /* A stopped stream: DISCARD {n: -1} ends it, and its SUCCESS leaves
         * the connection READY without a RESET. */
        uint8_t next = tag == GJ_BOLT_DISCARD || st->stopped ? GJ_BOLT_DISCARD : GJ_BOLT_PULL;
        gj_error *e = st->err;   /* empty: a FAILURE or cancel would have sent RESET */
        int rc = gj__bolt_write_pull(&c->wbuf, next, next == GJ_BOLT_PULL ? st->fetch : GJ_BOLT_ALL, GJ_BOLT_ALL, e);
        if (!rc)
            rc = gj__bolt_push_pending(c, next | GJ_BOLT_DELIVER, e);
        if (!rc)
            rc = gj__bolt_flush(c, st->deadline, e);
        if (rc)
            c->broken = true;
        return rc;
    }
    const gj_value *bm = gj_value_map_get(meta, "bookmark");
    if (bm && gj_value_type(bm) == GJ_TSTRING && !st->bookmark)
        st->bookmark = gj_value_ref(bm);   /* an auto-commit query committed */
    if (!st->cancelled && !st->stopped)
        forward_meta(st, meta, true);
    return 0;
}

static bool is_transient(const gj_error *err)
{
    const char *code = gj_error_server_code(err);
    return code && strncmp(code, "Neo.TransientError.", 19) == 0 &&
           strcmp(code, "Neo.TransientError.Transaction.Terminated") != 0 &&
           strcmp(code, "Neo.TransientError.Transaction.LockClientStopped") != 0;
}

static int64_t response_deadline(void *arg)
{
    exec_state *st = arg;
    return gj__bolt_read_deadline(st->c, st->deadline);
}

/* A timeout while reading: the request's whole deadline, or the server's
 * idle hint. */
static int timeout_error(exec_state *st, gj_error *e)
{
    gj_conn *c = st->c;
    if (st->deadline != INT64_MAX && gj__now_ms() >= st->deadline)
        return gj__error_set(e, GJ_ETIMEDOUT, "%s: timed out after %lld ms: no complete response "
                             "within the request's timeout", c->endpoint, (long long)st->timeout_ms);
    return gj__error_set(e, GJ_ETIMEDOUT, "%s: the server sent nothing for %lld ms (its "
                         "connection.recv_timeout_seconds hint)", c->endpoint,
                         (long long)c->recv_timeout_hint_ms);
}

/* Read responses until every request is answered, or until RESET went out
 * (a FAILURE, an interrupt, a result too large): settle() reads the rest. */
static int read_responses(exec_state *st)
{
    gj_conn *c = st->c;
    while (c->n_pending && !st->reset_sent) {
        gj_bolt_msg m;
        gj_error *e = (st->failed || st->stopped || st->cancelled) ? NULL : st->err;
        gj_error *tmp = NULL;
        if (!e)
            e = tmp = gj_error_new();   /* keep the first error in st->err */
        /* The interrupt record is looked at for every message, not only
         * when the socket has to be read. */
        int rc = gj__tcp_interrupt_pending(&c->tcp)
                     ? GJ_ECANCELLED
                     : gj__bolt_read_msg_lazy(c, &m, response_deadline, st, 0, GJ_TCP_INTERRUPTIBLE, e);
        if (rc == GJ_ECANCELLED) {
            gj_error_free(tmp);
            if (consume_interrupt(c)) {
                st->cancelled = true;
                rc = begin_reset(st);
                if (rc)
                    return rc;
            }
            continue;
        }
        if (rc) {
            if (rc == GJ_ETIMEDOUT)
                timeout_error(st, e);
            if (tmp) {
                gj__error_move(st->err, tmp);
                gj_error_free(tmp);
            }
            c->broken = true;
            return rc;
        }
        gj_error_free(tmp);
        c->responses++;
        if (m.tag == GJ_BOLT_RECORD) {
            uint8_t head = c->n_pending ? c->pending[0] : 0;
            if ((head & ~GJ_BOLT_DELIVER) != GJ_BOLT_PULL) {
                gj__bolt_msg_clear(&m);
                c->broken = true;
                return gj__error_set(st->err, GJ_EPROTOCOL, "%s: RECORD in answer to %s",
                                     c->endpoint,
                                     head ? gj__bolt_msg_name(head & ~GJ_BOLT_DELIVER, GJ_BOLT_REQUEST) : "nothing");
            }
            rc = on_record(st, &m, head & GJ_BOLT_DELIVER);
        } else {
            uint8_t tag = gj__bolt_pop_pending(c);
            if (m.tag == GJ_BOLT_SUCCESS) {
                rc = on_success(st, tag, &m);
            } else if (m.tag == GJ_BOLT_FAILURE) {
                if (tag == GJ_BOLT_RESET) {
                    c->broken = true;
                    rc = gj__error_set(st->err, GJ_EPROTOCOL, "%s: RESET failed", c->endpoint);
                } else if (tag == GJ_BOLT_LOGON || tag == GJ_BOLT_LOGOFF) {
                    /* Re-authentication refused: the server closes the
                     * connection; what follows was not run. */
                    const char *code = NULL;
                    if (gj__bolt_meta_string(m.fields[0], "neo4j_code", &code, NULL) != 0)
                        gj__bolt_meta_string(m.fields[0], "code", &code, NULL);
                    c->broken = true;
                    st->failed = true;
                    rc = st->fail_code = gj__bolt_failure(c, m.fields[0],
                                                          code && strstr(code, ".Security.") ? GJ_EAUTH : GJ_ESERVER,
                                                          st->err);
                } else {
                    if (!st->failed && !st->cancelled && !st->stopped) {
                        st->failed = true;
                        st->fail_code = gj__bolt_failure(c, m.fields[0], GJ_ESERVER, st->err);
                        st->transient = is_transient(st->err);
                    }
                    rc = begin_reset(st);
                }
            }
        }
        gj__bolt_msg_clear(&m);
        if (rc)
            return rc;
    }
    return 0;
}

/* The end of an attempt: the code execute returns. */
static int finish(exec_state *st, int rc)
{
    gj_conn *c = st->c;
    if (rc) {
        c->broken = true;
        return rc;
    }
    /* An interrupt that came once everything was read: the connection is
     * idle and READY, so the record is simply consumed. */
    if (consume_interrupt(c))
        st->cancelled = true;
    if (st->cancelled && st->reauth)
        c->broken = true;   /* whether LOGON ran before the RESET is unknown */
    if (st->cancelled)
        return gj__error_set(st->err, GJ_ECANCELLED, "%s: cancelled", c->endpoint);
    if (st->stopped)
        return gj__error_set(st->err, GJ_EABORTED, "%s: the row callback asked to stop", c->endpoint);
    if (st->failed)
        return st->fail_code;
    if (c->server_agent) {
        gj_value *s = gj_value_string(c->server_agent);
        if (!s || gj__sink_meta(st->sink, "server", s))
            return gj__error_set(st->err, GJ_ENOMEM, "%s: out of memory for the result", c->endpoint);
    }
    gj_value *a = gj_value_string(c->endpoint);   /* the server (cluster member) that ran it */
    if (!a || gj__sink_meta(st->sink, "address", a))
        return gj__error_set(st->err, GJ_ENOMEM, "%s: out of memory for the result", c->endpoint);
    return 0;
}

/* The credentials the request runs with (see gj__bolt_queue_reauth). */
static int prepare_auth(exec_state *st, const gj_request *req)
{
    bool queued = false;
    int rc = gj__bolt_queue_reauth(st->c, req, st->prev_auth_id, &queued, st->err);
    st->reauth |= queued;
    return rc;
}

/* TELEMETRY {api} ahead of the request when the server asked for it
 * (hints.telemetry.enabled), as the Neo4j drivers send it: with each
 * auto-commit query and each transaction. */
static int queue_telemetry(exec_state *st, int64_t api)
{
    gj_conn *c = st->c;
    if (!c->telemetry)
        return 0;
    int rc = gj__bolt_write_telemetry(&c->wbuf, api, st->err);
    if (!rc)
        rc = gj__bolt_push_pending(c, GJ_BOLT_TELEMETRY, st->err);
    return rc;
}

/* Drop what was queued but not sent: the connection is as it was. */
static void unsend(exec_state *st)
{
    gj_conn *c = st->c;
    if (st->reauth) {
        memcpy(c->auth_id, st->prev_auth_id, sizeof c->auth_id);
        if (c->wbuf.data)
            explicit_bzero(c->wbuf.data, c->wbuf.cap);
        c->wipe_wbuf = false;
        st->reauth = false;
    }
    gj__ps_buf_reset(&c->wbuf);
    c->n_pending = 0;
}

/* Write RUN + PULL for one statement; flags GJ_BOLT_DELIVER for the one
 * whose result is kept. */
static int write_statement(exec_state *st, const char *text, size_t len, const gj_value *params,
                           const gj_value *extra, int64_t n, uint8_t flags)
{
    gj_conn *c = st->c;
    uint8_t fetch = st->discard_all ? GJ_BOLT_DISCARD : GJ_BOLT_PULL;
    int rc = gj__bolt_write_run(&c->wbuf, &c->ps, text, len, params, extra, st->err);
    if (!rc)
        rc = gj__bolt_write_pull(&c->wbuf, fetch, st->discard_all ? GJ_BOLT_ALL : n, GJ_BOLT_ALL, st->err);
    if (!rc)
        rc = gj__bolt_push_pending(c, GJ_BOLT_RUN | flags, st->err);
    if (!rc)
        rc = gj__bolt_push_pending(c, fetch | flags, st->err);
    return rc;
}

static int run_query(exec_state *st, const gj_request *req)
{
    gj_conn *c = st->c;
    const char *text = gj_request_text(req);
    if (!text)
        return gj__error_set(st->err, GJ_EINVAL, "%s: a query needs text", c->endpoint);
    gj_value *extra = NULL;
    int rc = gj__bolt_build_extra(c, req, st->interactive ? GJ_BOLT_EXTRA_IN_TX : GJ_BOLT_EXTRA_QUERY, st->ss, &extra, &st->fetch,
                         &st->sent, st->err);
    if (rc)
        return rc;
    if (!st->interactive)
        rc = prepare_auth(st, req);
    if (!rc) {
        if (!st->interactive)
            rc = queue_telemetry(st, GJ_BOLT_API_AUTO_COMMIT);
        if (!rc)
            rc = write_statement(st, text, strlen(text), gj_request_params(req), extra, st->fetch,
                                 GJ_BOLT_DELIVER);
        if (rc)
            gj__error_prefix(st->err, "%s", c->endpoint);
    }
    gj_value_unref(extra);
    if (rc) {
        unsend(st);   /* nothing was sent: still usable */
        return rc;
    }
    rc = gj__bolt_flush(c, st->deadline, st->err);
    if (!rc)
        rc = read_responses(st);
    rc = finish(st, rc);
    if (!rc && !st->interactive)
        gj__bolt_bookmarks_committed(c, st->ss, st->sent, st->bookmark);
    return rc;
}

/* A session's "begin": BEGIN with the transaction's extra. */
static int run_begin(exec_state *st, const gj_request *req)
{
    gj_conn *c = st->c;
    gj_bolt_session *ss = st->ss;
    if (gj_request_text(req))
        return gj__error_set(st->err, GJ_EINVAL, "%s: \"begin\" takes no text: the transaction's statements "
                             "are the session's later query jobs", c->endpoint);
    gj_value *extra = NULL;
    int64_t fetch;
    int rc = gj__bolt_build_extra(c, req, GJ_BOLT_EXTRA_BEGIN, ss, &extra, &fetch, &st->sent, st->err);
    if (rc)
        return rc;
    const gj_value *db = gj_value_map_get(extra, "db");
    const char *dbs = NULL;
    gj_value_string_get(db, &dbs, NULL);
    char *txdb = gj__strdup(dbs ? dbs : "");
    rc = txdb ? prepare_auth(st, req) : gj__error_set(st->err, GJ_ENOMEM, "%s: out of memory", c->endpoint);
    if (!rc && (rc = queue_telemetry(st, GJ_BOLT_API_EXPLICIT_TX)) != 0)
        gj__error_prefix(st->err, "%s", c->endpoint);
    if (!rc && (rc = gj__bolt_write_map(&c->wbuf, &c->ps, GJ_BOLT_BEGIN, extra, st->err)) != 0)
        gj__error_prefix(st->err, "%s: BEGIN", c->endpoint);
    if (!rc)
        rc = gj__bolt_push_pending(c, GJ_BOLT_BEGIN, st->err);
    gj_value_unref(extra);
    if (rc) {
        free(txdb);
        unsend(st);
        return rc;
    }
    rc = gj__bolt_flush(c, st->deadline, st->err);
    if (!rc)
        rc = read_responses(st);
    rc = finish(st, rc);
    if (rc) {
        free(txdb);
        return rc;
    }
    ss->in_tx = true;
    ss->tx_failed = false;
    ss->why[0] = '\0';
    ss->tx_job = ss->jobs;
    free(ss->tx_db);
    ss->tx_db = txdb;
    gj_value_unref(ss->tx_sent);
    ss->tx_sent = st->sent;
    st->sent = NULL;
    return 0;
}

/* A session's "commit" or "rollback". */
static int run_end(exec_state *st, const gj_request *req, uint8_t tag)
{
    gj_conn *c = st->c;
    gj_bolt_session *ss = st->ss;
    const char *name = tag == GJ_BOLT_COMMIT ? "commit" : "rollback";
    if (gj_request_text(req) || gj_value_size(gj_request_options(req)))
        return gj__error_set(st->err, GJ_EINVAL, "%s: \"%s\" takes no text and no options", c->endpoint, name);
    int rc = gj__bolt_write_empty(&c->wbuf, tag, st->err);
    if (!rc)
        rc = gj__bolt_push_pending(c, tag | GJ_BOLT_DELIVER, st->err);
    if (rc) {
        unsend(st);
        return gj__error_prefix(st->err, "%s", c->endpoint);
    }
    rc = gj__bolt_flush(c, st->deadline, st->err);
    if (!rc)
        rc = read_responses(st);
    rc = finish(st, rc);
    if (rc == 0 && tag == GJ_BOLT_COMMIT)
        gj__bolt_bookmarks_committed(c, ss, ss->tx_sent, st->bookmark);
    return rc;
}

/* The statements of a transaction request, checked before anything is
 * written. */
static int check_statements(gj_conn *c, const gj_request *req, size_t *count, gj_error *err)
{
    const gj_value *list = gj_request_option(req, "statements");
    size_t n = 0;
    if (list) {
        if (gj_value_type(list) != GJ_TLIST)
            return gj__error_set(err, GJ_EINVAL, "%s: option 'statements' must be a list of strings or of maps "
                                 "{query, params}", c->endpoint);
        for (size_t i = 0; i < gj_value_size(list); i++) {
            const gj_value *item = gj_value_list_at(list, i);
            gj_type t = gj_value_type(item);
            const gj_value *q = t == GJ_TMAP ? gj_value_map_get(item, "query") : item;
            const gj_value *p = t == GJ_TMAP ? gj_value_map_get(item, "params") : NULL;
            if (gj_value_type(q) != GJ_TSTRING || (p && gj_value_type(p) != GJ_TMAP && gj_value_type(p) != GJ_TNULL))
                return gj__error_set(err, GJ_EINVAL,
                                     "%s: statement %zu of option 'statements' must be a string or a map "
                                     "{query: string, params: map}", c->endpoint, i);
        }
        n = gj_value_size(list);
    }
    if (gj_request_text(req))
        n++;
    if (n == 0)
        return gj__error_set(err, GJ_EINVAL, "%s: a transaction needs statements (option 'statements' "
                             "or the request's text)", c->endpoint);
    if (n > GJ_BOLT_MAX_TX_STATEMENTS)
        return gj__error_set(err, GJ_EINVAL, "%s: %zu statements in one transaction (at most %u)",
                             c->endpoint, n, GJ_BOLT_MAX_TX_STATEMENTS);
    *count = n;
    return 0;
}

static int write_transaction(exec_state *st, const gj_request *req, const gj_value *extra, size_t count)
{
    gj_conn *c = st->c;
    int rc = gj__bolt_write_map(&c->wbuf, &c->ps, GJ_BOLT_BEGIN, extra, st->err);
    if (!rc)
        rc = gj__bolt_push_pending(c, GJ_BOLT_BEGIN, st->err);
    const gj_value *list = gj_request_option(req, "statements");
    size_t listed = list ? gj_value_size(list) : 0;
    for (size_t i = 0; !rc && i < listed; i++) {
        const gj_value *item = gj_value_list_at(list, i);
        bool map = gj_value_type(item) == GJ_TMAP;
        const gj_value *q = map ? gj_value_map_get(item, "query") : item;
        const gj_value *p = map ? gj_value_map_get(item, "params") : NULL;
        if (p && gj_value_type(p) == GJ_TNULL)
            p = NULL;
        const char *text;
        size_t len;
        gj_value_string_get(q, &text, &len);
        rc = write_statement(st, text, len, p, NULL, -1, i + 1 == count ? GJ_BOLT_DELIVER : 0);
    }
    const char *text = gj_request_text(req);
    if (!rc && text)
        rc = write_statement(st, text, strlen(text), gj_request_params(req), NULL, -1, GJ_BOLT_DELIVER);
    if (!rc)
        rc = gj__bolt_write_empty(&c->wbuf, GJ_BOLT_COMMIT, st->err);
    if (!rc)
        rc = gj__bolt_push_pending(c, GJ_BOLT_COMMIT, st->err);
    if (rc) {
        gj__ps_buf_reset(&c->wbuf);
        c->n_pending = 0;
        gj__error_prefix(st->err, "%s", c->endpoint);
    }
    return rc;
}

/* Sleep before a retry; GJ_ECANCELLED when interrupted meanwhile,
 * GJ_ETIMEDOUT when the pause would end past the request's deadline. */
static int backoff(gj_conn *c, unsigned attempt, int64_t deadline)
{
    int64_t ms = INT64_C(100) << (attempt < 6 ? attempt : 6);
    ms = ms / 2 + (int64_t)((uint64_t)gj__now_ns() % (uint64_t)ms);   /* jitter: 50..150 % */
    int64_t until = gj__now_ms() + ms;
    if (until >= deadline)
        return GJ_ETIMEDOUT;
    for (;;) {
        if (consume_interrupt(c))
            return GJ_ECANCELLED;
        int64_t left = until - gj__now_ms();
        if (left <= 0)
            return 0;
        struct pollfd p = { c->tcp.wake_fd, POLLIN, 0 };
        poll(&p, 1, (int)left);
    }
}

static int run_transaction(exec_state *st, const gj_request *req)
{
    gj_conn *c = st->c;
    size_t count = 0;
    int64_t retries = 3;
    const gj_value *mr = gj_request_option(req, "max_retries");
    if (mr)
        gj_value_int_get(mr, &retries);
    gj_value *extra = NULL;
    int rc = check_statements(c, req, &count, st->err);
    if (!rc)
        rc = gj__bolt_build_extra(c, req, GJ_BOLT_EXTRA_TX, st->ss, &extra, &st->fetch, &st->sent, st->err);
    if (rc)
        return rc;
    for (unsigned attempt = 0;; attempt++) {
        rc = prepare_auth(st, req);
        if (!rc && attempt == 0 && (rc = queue_telemetry(st, GJ_BOLT_API_MANAGED_TX)) != 0)   /* not per retry */
            gj__error_prefix(st->err, "%s", c->endpoint);
        if (!rc)
            rc = write_transaction(st, req, extra, count);
        if (rc) {
            unsend(st);
            break;
        }
        rc = gj__bolt_flush(c, st->deadline, st->err);
        if (!rc)
            rc = read_responses(st);
        rc = finish(st, rc);
        if (rc != GJ_ESERVER || !st->transient || st->rows > 0 || attempt >= retries)
            break;
        /* The FAILURE's RESET must be answered before the retry. */
        gj_error *tmp = gj_error_new();
        /* A cancel meanwhile leaves the rest of RESET's answer to settle(). */
        int drc = tmp ? drain_pending_for(c, reset_deadline(st->deadline), true, tmp) : GJ_ENOMEM;
        gj_error_free(tmp);
        if (drc == GJ_ECANCELLED && consume_interrupt(c)) {
            rc = gj__error_set(st->err, GJ_ECANCELLED, "%s: cancelled", c->endpoint);
            break;
        }
        if (drc)
            break;   /* the connection is broken: the server's error stands */
        gj__log(c->log, GJ_LOG_INFO, "bolt %s: transient error, retry %u of %lld: %s", c->endpoint,
                attempt + 1, (long long)retries, gj_error_message(st->err));
        int brc = backoff(c, attempt, st->deadline);
        if (brc == GJ_ECANCELLED) {
            rc = gj__error_set(st->err, GJ_ECANCELLED, "%s: cancelled", c->endpoint);
            break;
        }
        if (brc)
            break;   /* no time left for another attempt: the server's error stands */
        gj_sink *sink = st->sink;
        gj_error *err = st->err;
        int64_t timeout = st->timeout_ms, deadline = st->deadline;
        bool discard_all = st->discard_all;
        gj_bolt_session *ss = st->ss;
        gj_value *sent = st->sent;
        gj_value_unref(st->bookmark);
        memset(st, 0, sizeof *st);
        st->c = c;
        st->sink = sink;
        st->err = err;
        st->timeout_ms = timeout;
        st->deadline = deadline;
        st->in_tx = true;
        st->discard_all = discard_all;
        st->ss = ss;
        st->sent = sent;
        gj_error_clear(err);
    }
    gj_value_unref(extra);
    if (!rc)
        gj__bolt_bookmarks_committed(c, st->ss, st->sent, st->bookmark);
    return rc;
}

int gj__bolt_session_gate(gj_conn *c, gj_bolt_session *ss, const char *op, bool *done, gj_error *err)
{
    *done = false;
    bool begin = strcmp(op, GJ_BOLT_OP_BEGIN) == 0, commit = strcmp(op, GJ_BOLT_OP_COMMIT) == 0;
    bool rollback = strcmp(op, GJ_BOLT_OP_ROLLBACK) == 0;
    if (begin && ss->in_tx)
        return gj__error_set(err, GJ_ESTATE, "%s: the session's transaction begun by its job %llu is still open: "
                             "commit or roll it back before beginning another", c->endpoint,
                             (unsigned long long)ss->tx_job);
    if (begin)
        return 0;
    if (ss->tx_failed) {
        if (rollback) {
            /* Acknowledged: the transaction is gone already. */
            ss->tx_failed = false;
            *done = true;
            return 0;
        }
        return gj__error_set(err, GJ_ESTATE, "%s: %s; begin a new transaction (or roll back to go on without "
                             "one)", c->endpoint, ss->why);
    }
    if ((commit || rollback) && !ss->in_tx)
        return gj__error_set(err, GJ_ESTATE, "%s: \"%s\": the session has no open transaction (\"begin\" "
                             "opens one)", c->endpoint, op);
    if (strcmp(op, GJ_BOLT_OP_TRANSACTION) == 0 && ss->in_tx)
        return gj__error_set(err, GJ_ESTATE, "%s: a \"transaction\" job cannot run inside the session's open "
                             "transaction (begun by its job %llu)", c->endpoint, (unsigned long long)ss->tx_job);
    return 0;
}

/* After a job that ran inside the session's open transaction (a query,
 * commit or rollback): RESET (a FAILURE, a cancel, a result too large) or a
 * broken connection ended the transaction on the server. */
static void session_after(exec_state *st, const char *op, int rc)
{
    gj_bolt_session *ss = st->ss;
    gj_conn *c = st->c;
    bool commit = strcmp(op, GJ_BOLT_OP_COMMIT) == 0, rollback = strcmp(op, GJ_BOLT_OP_ROLLBACK) == 0;
    if (!ss->in_tx)
        return;
    if (rollback || (commit && rc == 0)) {
        gj__bolt_tx_lost(ss, "(ended)");
        ss->tx_failed = false;   /* ended as asked: nothing to report */
        return;
    }
    bool ended = st->reset_sent || c->broken || c->tcp.broken || commit;
    if (!ended || rc == 0)
        return;
    const char *what = gj_error_message(st->err);
    if (rc == GJ_ECANCELLED)
        gj__bolt_tx_lost(ss, "the session's transaction (begun by its job %llu) was rolled back when its job %llu "
                         "was cancelled%s", (unsigned long long)ss->tx_job, (unsigned long long)ss->jobs,
                         commit ? " while committing (whether it committed is unknown)" : "");
    else if (c->broken || c->tcp.broken)
        gj__bolt_tx_lost(ss, "the session's transaction (begun by its job %llu) is lost: its job %llu %s: %s",
                         (unsigned long long)ss->tx_job, (unsigned long long)ss->jobs,
                         commit ? "(commit) lost the connection, whether it committed is unknown"
                                : "lost the connection", what);
    else
        gj__bolt_tx_lost(ss, "the session's transaction (begun by its job %llu) was %s when its job %llu failed: %s",
                         (unsigned long long)ss->tx_job, commit ? "not committed" : "rolled back",
                         (unsigned long long)ss->jobs, what);
}

int gj__bolt_execute(gj_conn *c, const gj_request *req, gj_sink *sink, gj_error *err)
{
    gj_bolt_session *ss = gj__sink_session(sink);
    const char *op = gj_request_op(req);
    if (!op)
        op = "(null)";
    if (consume_interrupt(c))
        return gj__error_set(err, GJ_ECANCELLED, "%s: cancelled", c->endpoint);
    if (c->broken || c->tcp.broken || c->n_pending)
        return gj__error_set(err, GJ_EIO, "%s: connection is not usable", c->endpoint);
    bool session_op = strcmp(op, GJ_BOLT_OP_BEGIN) == 0 || strcmp(op, GJ_BOLT_OP_COMMIT) == 0 ||
                      strcmp(op, GJ_BOLT_OP_ROLLBACK) == 0;
    if (session_op && !ss)
        return gj__error_set(err, GJ_EINVAL, "%s: operation \"%s\" belongs to a session "
                             "(gj_client_open_session); a single job can use \"transaction\"", c->endpoint, op);
    c->responses = 0;
    c->idle_closed = false;
    int64_t deadline = gj__sink_deadline(sink);
    if (gj__tcp_peer_closed(&c->tcp)) {
        if (ss && ss->in_tx) {
            /* The transaction lived on that connection: it is gone. */
            c->broken = true;
            gj__error_set(err, GJ_EIO, "%s: the server closed the connection of the session's open transaction "
                          "(begun by its job %llu); the transaction is lost", c->endpoint,
                          (unsigned long long)ss->tx_job);
            gj__bolt_tx_lost(ss, "%s", gj_error_message(err));
            return GJ_EIO;
        }
        /* Closed by the server while pooled (idle timeout, restart): nothing
         * was sent, so open the session again and go on. */
        c->idle_closed = true;
        int64_t ms = c->ts->connect_timeout_ms > 0 ? c->ts->connect_timeout_ms : 10000;
        int rc = gj__bolt_session_reopen(c, min64(deadline, gj__now_ms() + ms), err);
        if (rc) {
            gj__error_prefix(err, "%s: the server closed the idle connection and reconnecting failed",
                             c->endpoint);
            return rc;
        }
    }
    exec_state st;
    memset(&st, 0, sizeof st);
    st.c = c;
    st.sink = sink;
    st.err = err;
    st.deadline = deadline;
    st.timeout_ms = gj__sink_response_timeout(sink);
    st.ss = ss;
    st.interactive = ss && ss->in_tx && strcmp(op, GJ_OP_QUERY) == 0;
    const gj_value *discard = gj_request_option(req, "discard");
    if (discard)
        gj_value_bool_get(discard, &st.discard_all);   /* checked in gj__bolt_build_extra */
    int rc;
    if (strcmp(op, GJ_OP_QUERY) == 0) {
        rc = run_query(&st, req);
    } else if (strcmp(op, GJ_BOLT_OP_TRANSACTION) == 0) {
        st.in_tx = true;
        rc = run_transaction(&st, req);
    } else if (strcmp(op, GJ_BOLT_OP_BEGIN) == 0) {
        rc = run_begin(&st, req);
    } else if (strcmp(op, GJ_BOLT_OP_COMMIT) == 0 || strcmp(op, GJ_BOLT_OP_ROLLBACK) == 0) {
        rc = run_end(&st, req, strcmp(op, GJ_BOLT_OP_COMMIT) == 0 ? GJ_BOLT_COMMIT : GJ_BOLT_ROLLBACK);
    } else {
        rc = gj__error_set(err, GJ_EUNSUPPORTED, "%s: operation '%s' is not supported (\"query\", \"transaction\"; "
                           "in a session also \"begin\", \"commit\", \"rollback\")", c->endpoint, op);
    }
    if (ss && (st.interactive || strcmp(op, GJ_BOLT_OP_COMMIT) == 0 || strcmp(op, GJ_BOLT_OP_ROLLBACK) == 0))
        session_after(&st, op, rc);
    gj_value_unref(st.sent);
    gj_value_unref(st.bookmark);
    return rc;
}
