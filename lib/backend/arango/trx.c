/*
 * ArangoDB backend: stream transactions as sessions (include/graphjob/
 * session.h, docs/arango.md "Sessions: stream transactions").
 *
 * A session's state is at most one stream transaction: GJ_OP_BEGIN sends
 * POST /_api/transaction/begin and keeps the id the server gave; every later
 * job of the session whose operation honours x-arango-trx-id (query,
 * document.*, collection.count, collection.truncate, http) sends it —
 * unless the request names another with option trx — on the session's one
 * connection, so to the coordinator that began it; GJ_OP_COMMIT (PUT
 * /_api/transaction/{id}) and GJ_OP_ABORT (DELETE; GJ_OP_ROLLBACK is the
 * same) end it.  Closing the session with the transaction open aborts it.
 *
 * What ArangoDB does, and so what the session does:
 * - An operation that fails inside the transaction (a document not found,
 *   a unique constraint, an AQL error) leaves it running: the failed
 *   operation changed nothing, the earlier ones stay, and the transaction
 *   may still be committed or aborted.
 * - The server ends a transaction by itself when it stays idle longer than
 *   its idle timeout (60 s by default, --transaction.streaming-idle-timeout,
 *   at most 120 s) or grows past its size limit; requests naming it then
 *   fail with errorNum 1655 "transaction not found" (or 1653).  The session
 *   notes it, and every later job that would run in the transaction fails
 *   at once with GJ_ESTATE saying so, until GJ_OP_BEGIN starts another (or
 *   GJ_OP_ABORT acknowledges it).
 * - A job cancelled (or timed out, or whose connection failed) inside the
 *   transaction leaves its effect unknown: the transaction is aborted right
 *   after (settle: DELETE before GJ__SETTLE_MS), and the session ends as the
 *   core ends a session whose connection failed (later jobs: GJ_EIO).
 *
 * The state belongs to the session's connection (c->session) while it is
 * leased to the session; only the thread running the session's job, or
 * closing it, touches it (lib/core/session.c), so it needs no lock.
 */
#include "backend/arango/arango_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest transaction id we keep (ArangoDB's are 64-bit integers as text). */
#define TRX_ID_MAX 40

struct gj__arango_session {
    char trx[TRX_ID_MAX + 1];            /* the transaction's id, "" when none */
    char db[GJ__ARANGO_MAX_NAME + 1];    /* its database */
    bool ended;                          /* the server ended it (trx still names it) */
    char why[400];                       /* how it ended, for the later jobs */
};

bool gj__arango_is_session_op(const char *op)
{
    return strcmp(op, GJ_OP_BEGIN) == 0 || strcmp(op, GJ_OP_COMMIT) == 0 ||
           strcmp(op, GJ_OP_ABORT) == 0 || strcmp(op, GJ_OP_ROLLBACK) == 0;
}

/* ---- the backend's session members ---------------------------------------------- */

int gj__arango_session_check(const gj_value *options, gj_error *err)
{
    if (options && gj_value_size(options) > 0) {
        const char *key = NULL;
        gj_value_string_get(gj_value_map_key_at(options, 0), &key, NULL);
        return gj__error_set(err, GJ_EINVAL, "arango: unknown session option '%.64s' (an ArangoDB "
                             "session takes no options: begin a stream transaction with op \"%s\")",
                             key ? key : "?", GJ_OP_BEGIN);
    }
    return 0;
}

int gj__arango_session_open(gj_conn *c, const gj_value *options, void **state, int64_t deadline_ms,
                            gj_error *err)
{
    (void)options;
    (void)deadline_ms;
    gj__arango_session *ss = calloc(1, sizeof *ss);
    if (!ss)
        return gj__error_set(err, GJ_ENOMEM, "%s: out of memory for a session", c->hostport);
    c->session = ss;
    *state = ss;
    return 0;
}

/* DELETE /_api/transaction/{id} in ss's database before deadline.  Returns
 * 0 when the transaction is over (aborted now, or already ended: 1653,
 * 1655), else the error (err filled). */
static int abort_now(gj_conn *c, gj__arango_session *ss, int64_t deadline, gj_error *err)
{
    char path[96];
    snprintf(path, sizeof path, "/_api/transaction/%s", ss->trx);
    gj__arango_call call = { "DELETE", ss->db, path, NULL, 0, NULL, NULL, false, deadline };
    gj__arango_reply reply = { 0, NULL, "" };
    /* An interrupt meanwhile (the pool shutting down) ends it, and its
     * record stays for usable() to see. */
    int rc = gj__arango_perform(c, &call, &reply, err);
    if (!rc && reply.status >= 400) {
        rc = gj__arango_reply_error(c, &reply, "abort of the stream transaction", err);
        long num = gj_error_server_number(err);
        if (num == 1653 || num == 1655)
            rc = 0;
    }
    gj__arango_reply_clear(&reply);
    return rc;
}

void gj__arango_session_close(gj_conn *c, void *state, int64_t deadline_ms, gj_error *err)
{
    gj__arango_session *ss = state;
    if (c->session == ss)
        c->session = NULL;
    if (!ss)
        return;
    if (ss->trx[0] && !ss->ended) {
        if (gj__now_ms() >= deadline_ms || gj__http_interrupt_pending(c->http)) {
            /* The session was lost (nothing more is sent) or the client is
             * going away: the server's idle timeout ends it. */
            gj__log(c->log, GJ_LOG_INFO, "arango %s: stream transaction %s left to the server's "
                    "idle timeout", c->hostport, ss->trx);
        } else {
            gj_error *e = gj_error_new();
            int rc = e ? abort_now(c, ss, deadline_ms, e) : GJ_ENOMEM;
            gj__log(c->log, rc ? GJ_LOG_WARN : GJ_LOG_DEBUG, "arango %s: closing the session "
                    "aborted stream transaction %s%s%s", c->hostport, ss->trx, rc ? ": " : "",
                    rc ? (e ? gj_error_message(e) : gj_strerror(rc)) : "");
            if (rc) {
                if (e)
                    gj__error_move(err, e);
                else
                    gj__error_set(err, rc, "out of memory");
                gj__error_prefix(err, "the session's stream transaction %s could not be aborted "
                                 "(the server ends it after its idle timeout)", ss->trx);
            }
            gj_error_free(e);
        }
    }
    free(ss);
}

void gj__arango_session_abort_lost(gj_conn *c, int64_t deadline_ms)
{
    gj__arango_session *ss = c->session;
    if (!ss || !ss->trx[0] || ss->ended || !c->broken)
        return;
    if (gj__http_interrupt_pending(c->http)) {
        /* The pool is shutting down: nothing more is sent. */
        gj__log(c->log, GJ_LOG_INFO, "arango %s: stream transaction %s left to the server's idle "
                "timeout", c->hostport, ss->trx);
        return;
    }
    gj_error *e = gj_error_new();
    int rc = e ? abort_now(c, ss, deadline_ms, e) : GJ_ENOMEM;
    gj__log(c->log, rc ? GJ_LOG_WARN : GJ_LOG_DEBUG, "arango %s: a job of the session did not "
            "finish cleanly: stream transaction %s aborted%s%s%s", c->hostport, ss->trx,
            rc ? " (not confirmed: " : "", rc ? (e ? gj_error_message(e) : "out of memory") : "",
            rc ? ")" : "");
    gj_error_free(e);
    if (rc == 0) {
        ss->ended = true;
        snprintf(ss->why, sizeof ss->why, "stream transaction %s was aborted after a job of the "
                 "session did not finish cleanly", ss->trx);
    }
}

/* ---- the jobs ------------------------------------------------------------------------ */

/* Does op run in the session's transaction (x-arango-trx-id, or the id of
 * transaction.status)? */
static bool takes_trx(const char *op)
{
    return strcmp(op, GJ_OP_QUERY) == 0 || strncmp(op, "document.", 9) == 0 ||
           strcmp(op, "collection.count") == 0 || strcmp(op, "collection.truncate") == 0 ||
           strcmp(op, "http") == 0 || strcmp(op, "transaction.status") == 0;
}

int gj__arango_session_prepare(gj_conn *c, gj__arango_session *ss, const gj_request *req,
                               const char *op, gj_error *err)
{
    c->session_trx = NULL;
    c->session_trx_used = false;
    if (!ss->trx[0] || !takes_trx(op) || gj_request_option(req, "trx"))
        return 0;
    if (ss->ended)
        return gj__error_set(err, GJ_ESTATE, "%s: %s; begin a new one (op \"%s\") or abort it "
                             "(op \"%s\")", c->hostport, ss->why, GJ_OP_BEGIN, GJ_OP_ABORT);
    const char *db = gj__arango_database(c, req);
    if (strcmp(db, ss->db) != 0)
        return gj__error_set(err, GJ_EINVAL, "%s: the session's stream transaction %s is in "
                             "database %.64s; this request names database %.64s", c->hostport,
                             ss->trx, ss->db, db);
    c->session_trx = ss->trx;
    return 0;
}

/* End ss's transaction as the server's answer says: err's errorNum 1655
 * (not found, expired) or 1653 (already committed / aborted). */
static bool server_ended(int rc, const gj_error *err)
{
    long num = rc == GJ_ESERVER ? gj_error_server_number(err) : 0;
    return num == 1655 || num == 1653;
}

void gj__arango_session_after(gj_conn *c, gj__arango_session *ss, const gj_request *req,
                              const char *op, int rc, const gj_error *err)
{
    if (c->session_trx_used && server_ended(rc, err) && !ss->ended) {
        ss->ended = true;
        snprintf(ss->why, sizeof ss->why, "stream transaction %s is no longer running on the "
                 "server (%s)", ss->trx, gj_error_message(err));
        gj__log(c->log, GJ_LOG_INFO, "arango %s: %s", c->hostport, ss->why);
    }
    /* transaction.commit / abort of the session's transaction by id. */
    const char *id = NULL;
    if (ss->trx[0] && (strcmp(op, "transaction.commit") == 0 || strcmp(op, "transaction.abort") == 0) &&
        gj_value_string_get(gj_request_option(req, "id"), &id, NULL) == 0 && strcmp(id, ss->trx) == 0 &&
        (rc == 0 || server_ended(rc, err))) {
        ss->trx[0] = '\0';
        ss->ended = false;
    }
    c->session_trx = NULL;
    c->session_trx_used = false;
}

static const char *const begin_options[] = {
    "collections", "allowImplicit", "lockTimeout", "waitForSync", "maxTransactionSize",
    "skipFastLockRound", NULL
};

/* A name, or a list of names. */
static int check_names(const gj_value *v, const char *key, gj_error *err)
{
    const char *s = NULL;
    if (gj_value_string_get(v, &s, NULL) == 0)
        return *s ? 0 : gj__error_set(err, GJ_EINVAL, "op begin: collections.%s: an empty name", key);
    if (gj_value_type(v) != GJ_TLIST)
        return gj__error_set(err, GJ_EINVAL, "op begin: collections.%s: a collection name or a "
                             "list of names expected, got %s", key, gj_type_name(gj_value_type(v)));
    for (size_t i = 0; i < gj_value_size(v); i++)
        if (gj_value_string_get(gj_value_list_at(v, i), &s, NULL) != 0 || !*s)
            return gj__error_set(err, GJ_EINVAL, "op begin: collections.%s[%zu] is not a "
                                 "collection name", key, i);
    return 0;
}

static int check_begin(const gj_request *req, gj_error *err)
{
    int rc = gj__arango_check_options(req, GJ_OP_BEGIN, begin_options, err);
    if (rc)
        return rc;
    const gj_value *coll = gj_request_option(req, "collections");
    if (!coll || gj_value_type(coll) != GJ_TMAP)
        return gj__error_set(err, GJ_EINVAL, "op begin needs option collections: a map of read, "
                             "write and exclusive, each a collection name or a list of names");
    for (size_t i = 0; i < gj_value_size(coll); i++) {
        const char *key = NULL;
        gj_value_string_get(gj_value_map_key_at(coll, i), &key, NULL);
        if (!key || (strcmp(key, "read") != 0 && strcmp(key, "write") != 0 &&
                     strcmp(key, "exclusive") != 0))
            return gj__error_set(err, GJ_EINVAL, "op begin: collections: unknown key '%.64s' "
                                 "(read, write, exclusive)", key ? key : "?");
        if ((rc = check_names(gj_value_map_value_at(coll, i), key, err)))
            return rc;
    }
    bool b;
    if ((rc = gj__arango_opt_bool(req, "allowImplicit", &b, err)) ||
        (rc = gj__arango_opt_bool(req, "waitForSync", &b, err)) ||
        (rc = gj__arango_opt_bool(req, "skipFastLockRound", &b, err)))
        return rc;
    static const char *const numbers[] = { "lockTimeout", "maxTransactionSize" };
    for (size_t i = 0; i < 2; i++) {
        const gj_value *v = gj_request_option(req, numbers[i]);
        int64_t n = 0;
        double d = 0;
        if (v && !(gj_value_int_get(v, &n) == 0 && n >= 0) &&
            !(gj_value_float_get(v, &d) == 0 && d >= 0))
            return gj__error_set(err, GJ_EINVAL, "op begin: option %s: a number >= 0 expected",
                                 numbers[i]);
    }
    return 0;
}

/* One call of a session op: the reply's result object ({id, status}) is
 * the row, meta trx_id (result.id, also copied into result_id, cap bytes)
 * and http_status.  Returns 0 or the error. */
static int trx_call(gj_conn *c, const char *what, gj__arango_call *call, gj_sink *sink,
                    char *result_id, size_t cap, gj_error *err)
{
    gj__arango_reply reply = { 0, NULL, "" };
    int rc = gj__arango_perform(c, call, &reply, err);
    if (rc == GJ_ECANCELLED && gj__arango_take_interrupt(c))
        return gj__error_set(err, GJ_ECANCELLED, "%s: %s cancelled", c->hostport, what);
    if (rc)
        return rc;
    rc = gj__arango_reply_error(c, &reply, what, err);
    json_object *result = NULL, *id = NULL;
    if (!rc && (!reply.json || !json_object_object_get_ex(reply.json, "result", &result) ||
                !json_object_is_type(result, json_type_object) ||
                !json_object_object_get_ex(result, "id", &id) ||
                !json_object_is_type(id, json_type_string) ||
                json_object_get_string_len(id) == 0 || (size_t)json_object_get_string_len(id) >= cap ||
                strspn(json_object_get_string(id), "0123456789") !=
                    (size_t)json_object_get_string_len(id))) {
        c->broken = true;
        rc = gj__error_set(err, GJ_EPROTOCOL, "%s: %s: HTTP %ld without a transaction id in "
                           "result.id", c->hostport, what, reply.status);
    }
    if (!rc) {
        memcpy(result_id, json_object_get_string(id), (size_t)json_object_get_string_len(id) + 1);
        gj_value *row = NULL;
        rc = gj__arango_json_to_value(result, &row, err);
        if (!rc && (rc = gj__sink_row(sink, row)) != 0)
            rc = gj__error_set(err, rc, rc == GJ_EABORTED ? "the row callback stopped"
                                                         : "out of memory for the result");
    }
    if (!rc) {
        /* gj__sink_meta takes the value over, and fails for NULL. */
        if (gj__sink_meta(sink, "trx_id", gj_value_string(result_id)) ||
            gj__sink_meta(sink, "http_status", gj_value_int(reply.status)))
            rc = gj__error_set(err, GJ_ENOMEM, "out of memory for the result");
    }
    gj__arango_reply_clear(&reply);
    return rc;
}

static int op_begin(gj_conn *c, gj__arango_session *ss, const gj_request *req, gj_sink *sink,
                    int64_t deadline, gj_error *err)
{
    if (ss->trx[0] && !ss->ended)
        return gj__error_set(err, GJ_ESTATE, "%s: stream transaction %s is still open in this "
                             "session; commit or abort it first", c->hostport, ss->trx);
    int rc = check_begin(req, err);
    if (rc)
        return rc;
    /* The body: collections first, then the options as given. */
    gj_value *body = NULL;
    rc = gj_value_new_map(&body, 6);
    if (!rc)
        rc = gj_value_map_put_str(body, "collections",
                                  gj_value_ref(gj_request_option(req, "collections")));
    for (size_t i = 1; !rc && begin_options[i]; i++) {
        const gj_value *v = gj_request_option(req, begin_options[i]);
        if (v)
            rc = gj_value_map_put_str(body, begin_options[i], gj_value_ref(v));
    }
    if (rc) {
        gj_value_unref(body);
        return gj__error_set(err, GJ_ENOMEM, "out of memory building the request");
    }
    char *text = NULL;
    size_t len = 0;
    rc = gj__arango_value_to_text(body, &text, &len, err);
    gj_value_unref(body);
    if (rc)
        return rc;
    const char *db = gj__arango_database(c, req);
    gj__arango_call call = { "POST", db, "/_api/transaction/begin", text, len, NULL, NULL, false,
                             deadline };
    char id[TRX_ID_MAX + 1];
    rc = trx_call(c, "begin of a stream transaction", &call, sink, id, sizeof id, err);
    gj_free(text);
    if (rc)
        return rc;
    if (strlen(db) >= sizeof ss->db) {
        /* Cannot happen: gj__arango_database names are bounded the same. */
        return gj__error_set(err, GJ_EINVAL, "%s: database name too long", c->hostport);
    }
    memcpy(ss->trx, id, strlen(id) + 1);
    memcpy(ss->db, db, strlen(db) + 1);
    ss->ended = false;
    ss->why[0] = '\0';
    gj__log(c->log, GJ_LOG_DEBUG, "arango %s: stream transaction %s begun", c->hostport, ss->trx);
    return 0;
}

static int op_finish(gj_conn *c, gj__arango_session *ss, const gj_request *req, bool commit,
                     gj_sink *sink, int64_t deadline, gj_error *err)
{
    const char *op = commit ? GJ_OP_COMMIT : GJ_OP_ABORT;
    static const char *const no_options[] = { NULL };
    int rc = gj__arango_check_options(req, op, no_options, err);
    if (rc)
        return rc;
    if (!ss->trx[0])
        return gj__error_set(err, GJ_ESTATE, "%s: no stream transaction is open in this session "
                             "(op \"%s\" begins one)", c->hostport, GJ_OP_BEGIN);
    if (commit && ss->ended)
        return gj__error_set(err, GJ_ESTATE, "%s: cannot commit: %s", c->hostport, ss->why);
    char path[96];
    snprintf(path, sizeof path, "/_api/transaction/%s", ss->trx);
    gj__arango_call call = { commit ? "PUT" : "DELETE", ss->db, path, NULL, 0, NULL, NULL, false,
                             deadline };
    char id[TRX_ID_MAX + 1];
    rc = trx_call(c, commit ? "commit of the stream transaction" : "abort of the stream transaction",
                  &call, sink, id, sizeof id, err);
    /* Over unless the server says it still runs (any other error: the
     * outcome is unknown, and closing the session tries to abort it). */
    if (rc == 0 || server_ended(rc, err)) {
        gj__log(c->log, GJ_LOG_DEBUG, "arango %s: stream transaction %s %s%s", c->hostport, ss->trx,
                commit ? "committed" : "aborted", rc ? " (it had ended already)" : "");
        ss->trx[0] = '\0';
        ss->ended = false;
        ss->why[0] = '\0';
    }
    return rc;
}

int gj__arango_session_op(gj_conn *c, gj__arango_session *ss, const gj_request *req,
                          const char *op, gj_sink *sink, int64_t deadline, gj_error *err)
{
    if (!ss)
        return gj__error_set(err, GJ_EINVAL, "op \"%s\" runs in a session (gj_client_open_session);"
                             " outside one, use transaction.begin / commit / abort and option trx",
                             op);
    if (strcmp(op, GJ_OP_BEGIN) == 0)
        return op_begin(c, ss, req, sink, deadline, err);
    return op_finish(c, ss, req, strcmp(op, GJ_OP_COMMIT) == 0, sink, deadline, err);
}
