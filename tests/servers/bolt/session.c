/* session.c — the Bolt server state machine (4.4, 5.0–5.8, 6.0) and its message
 * handlers.  Strict: a message the current state does not accept gets
 * FAILURE (Neo.ClientError.Request.Invalid) and the session is FAILED: every
 * later request is IGNORED until RESET.  Failed authentication and
 * protocol violations close the connection after FAILURE. */
#include "bs.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define REQUEST_INVALID "Neo.ClientError.Request.Invalid"

static const char *state_name(bs_state st)
{
    static const char *names[] = { "CONNECTED", "UNAUTHENTICATED", "READY", "STREAMING",
                                   "TX_READY", "TX_STREAMING", "FAILED", "DEFUNCT" };
    return names[st];
}

void bs_session_init(bs_session *s, bs_server *srv, bs_conn *conn, int member, long conn_id)
{
    memset(s, 0, sizeof *s);
    s->srv = srv;
    s->conn = conn;
    s->member = member;
    s->conn_id = conn_id;
    s->ps.bolt_major = 5;
    s->ps.allow_graph_values = true;
    s->state = BS_CONNECTED;
    s->last_qid = -1;
    gj__ps_buf_init(&s->out, 0);
}

static void close_results(bs_session *s)
{
    for (size_t i = 0; i < s->n_results; i++)
        bs_result_free(s->results[i]);
    s->n_results = 0;
    s->last_qid = -1;
}

static void end_tx(bs_session *s, bool commit, uint64_t *bookmark)
{
    close_results(s);
    if (s->tx) {
        if (commit)
            *bookmark = bs_store_commit(&s->srv->store, s->tx, s->tx_wrote);
        else
            bs_store_rollback(&s->srv->store, s->tx);
    }
    s->tx = 0;
    s->tx_wrote = false;
}

void bs_session_free(bs_session *s)
{
    uint64_t bm;
    end_tx(s, false, &bm);
    gj__ps_buf_free(&s->out);
}

int bs_session_flush(bs_session *s)
{
    if (!s->out.len)
        return 0;
    int rc = bs_conn_write(s->conn, s->out.data, s->out.len);
    gj__ps_buf_reset(&s->out);
    return rc;
}

/* ---- responses ---- */

static void send_map(bs_session *s, uint8_t tag, gj_value *map)
{
    gj_error *err = gj_error_new();
    if (gj__bolt_write_map(&s->out, &s->ps, tag, map, err) != 0)
        BS_LOG(s->srv, "cannot encode a response: %s", gj_error_message(err));
    gj_error_free(err);
    gj_value_unref(map);
}

static void success(bs_session *s, gj_value *meta)
{
    send_map(s, GJ_BOLT_SUCCESS, meta);
}

static void ignored(bs_session *s)
{
    gj__bolt_write_empty(&s->out, GJ_BOLT_IGNORED, NULL);
}

static void failure_of(bs_session *s, const bs_failure *f)
{
    BS_LOG(s->srv, "conn %ld: FAILURE %s: %s", s->conn_id, f->code, f->message);
    gj__bolt_write_failure_cause(&s->out, &s->ps, f->code, f->message, f->gql, f->description, f->cause_gql,
                                 f->cause_description[0] ? f->cause_description : NULL, NULL);
    if (s->state != BS_DEFUNCT)
        s->state = BS_FAILED;
    uint64_t bm;
    end_tx(s, false, &bm);
}

static void failure(bs_session *s, const char *code, const char *gql, const char *message)
{
    bs_failure f;
    memset(&f, 0, sizeof f);
    f.code = code;
    f.gql = gql;
    snprintf(f.message, sizeof f.message, "%s", message);
    failure_of(s, &f);
}

static int wrong_state(bs_session *s, const char *msg)
{
    char text[256];
    snprintf(text, sizeof text, "Message '%s' cannot be handled by a session in the %s state.", msg,
             state_name(s->state));
    failure(s, REQUEST_INVALID, "08N06", text);
    return 0;
}

static gj_value *new_map(void)
{
    gj_value *m;
    if (gj_value_new_map(&m, 8) != 0)
        abort();
    return m;
}

void bs_session_protocol_error(bs_session *s, const char *why)
{
    failure(s, REQUEST_INVALID, "08N06", why);
    s->state = BS_DEFUNCT;
}

/* ---- authentication ---- */

static bool str_is(const gj_value *m, const char *key, const char **out)
{
    const char *v;
    if (gj__bolt_meta_string(m, key, &v, NULL) != 0)
        return false;
    if (out)
        *out = v;
    return true;
}

/* 0 = authenticated; -1 = FAILURE written (connection closes). */
static int authenticate(bs_session *s, const gj_value *auth)
{
    const bs_config *cfg = &s->srv->cfg;
    const char *scheme = "none", *principal = NULL, *credentials = NULL;
    str_is(auth, "scheme", &scheme);
    str_is(auth, "principal", &principal);
    str_is(auth, "credentials", &credentials);
    bool ok = false;
    if (cfg->no_auth) {
        ok = true;
    } else if (!strcmp(scheme, "basic")) {
        ok = principal && credentials && bs_user_ok(cfg, principal, credentials);
    } else if (!strcmp(scheme, "bearer")) {
        ok = cfg->bearer && credentials && !strcmp(credentials, cfg->bearer);
        principal = "bearer";
    }
    if (!ok) {
        failure(s, "Neo.ClientError.Security.Unauthorized", "42NFF",
                "The client is unauthorized due to authentication failure.");
        s->state = BS_DEFUNCT;
        return -1;
    }
    snprintf(s->user, sizeof s->user, "%s", principal ? principal : "anonymous");
    return 0;
}

/* ---- notification filters (5.2+) ---- */

/* -1 = the extra map says nothing, 0 = notifications on, 1 = the warnings
 * this server sends (UNRECOGNIZED, WARNING) are filtered out. */
static int notification_filter(const bs_session *s, const gj_value *extra)
{
    if (!gj__bolt_version_at_least(&s->ps, 5, 2))
        return -1;
    int result = -1;
    const char *sev;
    if (str_is(extra, "notifications_minimum_severity", &sev))
        result = !strcmp(sev, "OFF");
    /* The key of the version: categories on 5.2-5.4, classifications from
     * 5.5 (the other one is not looked at, as a server of that version would
     * not know it). */
    const char *key = gj__bolt_version_at_least(&s->ps, 5, 5) ? "notifications_disabled_classifications"
                                                               : "notifications_disabled_categories";
    const gj_value *l = gj_value_map_get(extra, key);
    if (!l || gj_value_type(l) != GJ_TLIST)
        return result;
    if (result < 0)
        result = 0;
    for (size_t i = 0; i < gj_value_size(l); i++) {
        const char *c;
        size_t n;
        if (gj_value_string_get(gj_value_list_at(l, i), &c, &n) == 0 && n == 12 && !memcmp(c, "UNRECOGNIZED", 12))
            result = 1;
    }
    return result;
}

/* ---- HELLO / LOGON / LOGOFF ---- */

static int on_hello(bs_session *s, const gj_value *extra)
{
    const bs_config *cfg = &s->srv->cfg;
    const char *ua;
    if (!str_is(extra, "user_agent", &ua) || !*ua) {
        bs_session_protocol_error(s, "Expected \"user_agent\" to be a non-empty string");
        return -1;
    }
    if (gj__bolt_version_at_least(&s->ps, 5, 3)) {
        const gj_value *agent = gj_value_map_get(extra, "bolt_agent");
        if (!agent || gj_value_type(agent) != GJ_TMAP || !str_is(agent, "product", NULL)) {
            bs_session_protocol_error(s, "Expected \"bolt_agent\" to be a map with a \"product\" string");
            return -1;
        }
    }
    const gj_value *routing = gj_value_map_get(extra, "routing");
    if (routing && gj_value_type(routing) != GJ_TMAP && gj_value_type(routing) != GJ_TNULL) {
        bs_session_protocol_error(s, "Expected \"routing\" to be a map or null");
        return -1;
    }
    bool logon = gj__bolt_version_at_least(&s->ps, 5, 1);
    if (logon && (gj_value_map_get(extra, "principal") || gj_value_map_get(extra, "credentials"))) {
        bs_session_protocol_error(s, "Credentials belong in LOGON from Bolt 5.1 on, not in HELLO");
        return -1;
    }
    if (!logon && authenticate(s, extra) != 0)
        return -1;
    s->notifications_off = notification_filter(s, extra) == 1;
    gj_value *meta = new_map();
    gj_value_map_put_str(meta, "server", gj_value_string(cfg->server_agent));
    char cid[32];
    snprintf(cid, sizeof cid, "bolt-%ld", s->conn_id);
    gj_value_map_put_str(meta, "connection_id", gj_value_string(cid));
    if (s->ps.bolt_major == 4 && !cfg->no_utc_patch) {
        const gj_value *patches = gj_value_map_get(extra, "patch_bolt");
        for (size_t i = 0; patches && i < gj_value_size(patches); i++) {
            const char *p;
            size_t n;
            if (gj_value_string_get(gj_value_list_at(patches, i), &p, &n) == 0 && n == 3 && !memcmp(p, "utc", 3))
                s->ps.utc_patch = true;
        }
        if (s->ps.utc_patch) {
            gj_value *l;
            gj_value_new_list(&l, 1);
            gj_value_list_append(l, gj_value_string("utc"));
            gj_value_map_put_str(meta, "patch_bolt", l);
        }
    }
    gj_value *hints = new_map();
    if (cfg->recv_timeout_hint > 0)
        gj_value_map_put_str(hints, "connection.recv_timeout_seconds", gj_value_int(cfg->recv_timeout_hint));
    if (cfg->telemetry_hint && gj__bolt_version_at_least(&s->ps, 5, 4))
        gj_value_map_put_str(hints, "telemetry.enabled", gj_value_bool(true));
    gj_value_map_put_str(meta, "hints", hints);
    success(s, meta);
    s->state = logon ? BS_UNAUTHENTICATED : BS_READY;
    BS_LOG(s->srv, "conn %ld: HELLO from '%s' (Bolt %u.%u%s)", s->conn_id, ua, s->ps.bolt_major,
           s->ps.bolt_minor, s->ps.utc_patch ? " utc" : "");
    return 0;
}

/* ---- transactions: extra of RUN / BEGIN ---- */

typedef struct tx_extra {
    bool read_mode;
    bool notifications_off;
    int64_t timeout_ms;
    char db[BS_NAME_MAX];
} tx_extra;

/* 0, or -1 after a FAILURE. */
static int check_db(bs_session *s, const char *db)
{
    if (*db && strcmp(db, "neo4j") != 0 && strcmp(db, "system") != 0 && !s->srv->cfg.any_db) {
        char text[256];
        snprintf(text, sizeof text, "Database does not exist. Database name: '%s'.", db);
        failure(s, "Neo.ClientError.Database.DatabaseNotFound", "22N51", text);
        return -1;
    }
    return 0;
}

static int check_bookmarks(bs_session *s, const gj_value *bookmarks)
{
    if (!bookmarks || gj_value_type(bookmarks) == GJ_TNULL)
        return 0;
    if (gj_value_type(bookmarks) != GJ_TLIST) {
        failure(s, REQUEST_INVALID, "08N06", "Expected \"bookmarks\" to be a list of strings");
        return -1;
    }
    for (size_t i = 0; i < gj_value_size(bookmarks); i++) {
        const char *b;
        size_t n;
        uint64_t num;
        if (gj_value_string_get(gj_value_list_at(bookmarks, i), &b, &n) != 0 || bs_bookmark_parse(b, n, &num) != 0) {
            char text[256];
            snprintf(text, sizeof text, "Supplied bookmark [%.*s] does not conform to pattern FB:refserver:<n>",
                     (int)(n > 100 ? 100 : n), b ? b : "");
            failure(s, "Neo.ClientError.Transaction.InvalidBookmark", "08N13", text);
            return -1;
        }
        pthread_mutex_lock(&s->srv->store.lock);
        uint64_t last = s->srv->store.last_commit;
        pthread_mutex_unlock(&s->srv->store.lock);
        if (num > last) {
            char text[256];
            snprintf(text, sizeof text, "Database 'neo4j' not up to the requested version: %" PRIu64
                     ". Latest database version is %" PRIu64, num, last);
            failure(s, "Neo.TransientError.Transaction.BookmarkTimeout", "08N10", text);
            return -1;
        }
    }
    return 0;
}

static int parse_tx_extra(bs_session *s, const gj_value *extra, tx_extra *x)
{
    memset(x, 0, sizeof *x);
    const char *mode = "w", *db = "";
    const gj_value *v;
    if ((v = gj_value_map_get(extra, "mode")) && gj_value_type(v) != GJ_TNULL) {
        if (!str_is(extra, "mode", &mode) || (strcmp(mode, "r") && strcmp(mode, "w"))) {
            failure(s, REQUEST_INVALID, "08N06", "Expected \"mode\" to be \"r\" or \"w\"");
            return -1;
        }
    }
    if ((v = gj_value_map_get(extra, "db")) && gj_value_type(v) != GJ_TNULL && !str_is(extra, "db", &db)) {
        failure(s, REQUEST_INVALID, "08N06", "Expected \"db\" to be a string");
        return -1;
    }
    if ((v = gj_value_map_get(extra, "tx_timeout")) && gj_value_type(v) != GJ_TNULL) {
        int64_t t;
        if (gj_value_int_get(v, &t) != 0 || t < 0) {
            failure(s, REQUEST_INVALID, "08N06", "Expected \"tx_timeout\" to be a non-negative integer");
            return -1;
        }
        x->timeout_ms = t;
    }
    if ((v = gj_value_map_get(extra, "tx_metadata")) && gj_value_type(v) != GJ_TNULL && gj_value_type(v) != GJ_TMAP) {
        failure(s, REQUEST_INVALID, "08N06", "Expected \"tx_metadata\" to be a map");
        return -1;
    }
    if ((v = gj_value_map_get(extra, "imp_user")) && gj_value_type(v) != GJ_TNULL) {
        const char *imp;
        if (!str_is(extra, "imp_user", &imp)) {
            failure(s, REQUEST_INVALID, "08N06", "Expected \"imp_user\" to be a string");
            return -1;
        }
        if (!s->srv->cfg.no_auth && !bs_user_ok(&s->srv->cfg, imp, NULL)) {
            char text[256];
            snprintf(text, sizeof text, "Impersonation failed: user '%.100s' does not exist.", imp);
            failure(s, "Neo.ClientError.Security.Forbidden", "42NFF", text);
            return -1;
        }
    }
    if (check_db(s, db) || check_bookmarks(s, gj_value_map_get(extra, "bookmarks")))
        return -1;
    const gj_value *bms = gj_value_map_get(extra, "bookmarks");
    if (s->srv->cfg.verbose && bms && gj_value_size(bms)) {
        char text[512];
        size_t n = 0;
        for (size_t i = 0; i < gj_value_size(bms) && n < sizeof text - 1; i++) {
            const char *b = "";
            gj_value_string_get(gj_value_list_at(bms, i), &b, NULL);
            int w = snprintf(text + n, sizeof text - n, "%s%s", i ? " " : "", b);
            n = w < 0 ? n : n + (size_t)w >= sizeof text ? sizeof text - 1 : n + (size_t)w;
        }
        text[n] = '\0';
        BS_LOG(s->srv, "conn %ld: bookmarks [%s]", s->conn_id, text);
    }
    x->read_mode = !strcmp(mode, "r");
    int filter = notification_filter(s, extra);
    x->notifications_off = filter < 0 ? s->notifications_off : filter == 1;
    snprintf(x->db, sizeof x->db, "%s", *db ? db : "neo4j");
    return 0;
}

/* ---- RUN / PULL / DISCARD ---- */

static int on_run(bs_session *s, gj_bolt_msg *m)
{
    const char *text;
    size_t len;
    gj_value_string_get(m->fields[0], &text, &len);
    bool in_tx = s->state == BS_TX_READY || s->state == BS_TX_STREAMING;
    tx_extra x;
    if (in_tx) {
        memset(&x, 0, sizeof x);
        x.read_mode = s->tx_read_mode;
        x.notifications_off = s->tx_notifications_off;
        if (s->n_results >= sizeof s->results / sizeof s->results[0]) {
            failure(s, REQUEST_INVALID, "08N06", "Too many open results in this transaction");
            return 0;
        }
    } else if (parse_tx_extra(s, m->fields[2], &x) != 0) {
        return 0;
    }
    if (bs_fault_take(s->srv->cfg.faults, s->srv->cfg.n_faults, BS_FAULT_CLOSE, GJ_BOLT_RUN, text, s->member)) {
        BS_LOG(s->srv, "conn %ld: fault: close on RUN", s->conn_id);
        return -1;
    }
    BS_LOG(s->srv, "conn %ld: RUN %.*s", s->conn_id, (int)(len > 200 ? 200 : len), text);
    uint64_t tx = in_tx ? s->tx : bs_store_begin(&s->srv->store);
    bs_query_ctx ctx = { s->srv, s, tx, x.read_mode, m->fields[1] };
    bs_result *r = NULL;
    bs_failure fail = { 0 };
    if (bs_query_run(&ctx, text, len, &r, &fail) != 0) {
        if (!in_tx)
            bs_store_rollback(&s->srv->store, tx);
        failure_of(s, &fail);
        return 0;
    }
    if (x.notifications_off)
        bs_result_drop_notifications(r);
    bool wrote;
    gj_value *tmp = new_map();
    bs_result_summary(r, &s->ps, tmp, &wrote);
    gj_value_unref(tmp);
    gj_value *meta = new_map();
    gj_value_map_put_str(meta, "fields", gj_value_ref(bs_result_fields(r)));
    gj_value_map_put_str(meta, "t_first", gj_value_int(0));
    if (in_tx) {
        s->tx_wrote |= wrote;
        s->results[s->n_results] = r;
        s->last_qid = (int64_t)s->n_results++;
        gj_value_map_put_str(meta, "qid", gj_value_int(s->last_qid));
        s->state = BS_TX_STREAMING;
    } else {
        /* Auto-commit: the statement ran at RUN; commit it now and report
         * the bookmark in the final SUCCESS of the stream. */
        s->bookmark = bs_store_commit(&s->srv->store, tx, wrote);
        close_results(s);
        s->results[0] = r;
        s->n_results = 1;
        s->last_qid = 0;
        snprintf(s->db, sizeof s->db, "%s", x.db);
        s->tx_timeout_ms = x.timeout_ms;
        s->state = BS_STREAMING;
    }
    success(s, meta);
    return 0;
}

/* The result a PULL / DISCARD addresses: qid -1 = the last one. */
static bs_result **find_result(bs_session *s, int64_t qid, size_t *index)
{
    if (qid == -1)
        qid = s->last_qid;
    if (qid < 0 || (size_t)qid >= s->n_results || !s->results[qid])
        return NULL;
    *index = (size_t)qid;
    return &s->results[qid];
}

static void stream_finished(bs_session *s, size_t index, gj_value *meta)
{
    bs_result *r = s->results[index];
    bool wrote;
    bs_result_summary(r, &s->ps, meta, &wrote);
    gj_value_map_put_str(meta, "t_last", gj_value_int(0));
    gj_value_map_put_str(meta, "db", gj_value_string(s->db[0] ? s->db : "neo4j"));
    bs_result_free(r);
    s->results[index] = NULL;
    if (s->state == BS_STREAMING) {
        char bm[64];
        bs_bookmark_text(s->bookmark, bm, sizeof bm);
        gj_value_map_put_str(meta, "bookmark", gj_value_string(bm));
        close_results(s);
        s->state = BS_READY;
    } else {
        bool open = false;
        for (size_t i = 0; i < s->n_results; i++)
            open |= s->results[i] != NULL;
        if (!open)
            s->state = BS_TX_READY;
    }
}

/* 0, or -1 to close the connection (fault). */
static int on_pull(bs_session *s, gj_bolt_msg *m, bool discard)
{
    const gj_value *extra = m->fields[0];
    int64_t n = 0, qid = -1;
    if (gj__bolt_meta_int(extra, "n", &n) != 0 || (n < 1 && n != -1)) {
        failure(s, REQUEST_INVALID, "08N06",
                "Expecting PULL/DISCARD size n to be a Long value between 1 and Long.MAX or -1");
        return 0;
    }
    int rc = gj__bolt_meta_int(extra, "qid", &qid);
    if (rc == GJ_ETYPE || (rc == 0 && qid < -1)) {
        failure(s, REQUEST_INVALID, "08N06", "Expecting \"qid\" to be an integer >= -1");
        return 0;
    }
    size_t index;
    bs_result **slot = find_result(s, qid, &index);
    if (!slot) {
        char text[128];
        snprintf(text, sizeof text, "Unknown statement id: %" PRId64, qid);
        failure(s, REQUEST_INVALID, "08N06", text);
        return 0;
    }
    bs_result *r = *slot;
    const char *qtext = bs_result_text(r);
    if (discard)
        BS_LOG(s->srv, "conn %ld: DISCARD n %" PRId64, s->conn_id, n);
    const bs_config *cfg = &s->srv->cfg;
    uint8_t tag = discard ? GJ_BOLT_DISCARD : GJ_BOLT_PULL;

    bs_fault *stall = bs_fault_take((bs_fault *)cfg->faults, cfg->n_faults, BS_FAULT_STALL, tag, qtext, s->member);
    if (stall) {
        BS_LOG(s->srv, "conn %ld: fault: stall %.1f s", s->conn_id, stall->secs);
        bs_session_flush(s);
        if (bs_conn_sleep(s->conn, stall->secs > 0 ? (long)(stall->secs * 1000) : -1)) {
            ignored(s);
            return 0;
        }
    }
    if (bs_fault_take((bs_fault *)cfg->faults, cfg->n_faults, BS_FAULT_GARBAGE, tag, qtext, s->member)) {
        static const uint8_t junk[] = { 0x00, 0x04, 0xEE, 0xEE, 0xC4, 0xFF, 0x00, 0x00, 0x48, 0x54, 0x54, 0x50 };
        BS_LOG(s->srv, "conn %ld: fault: garbage", s->conn_id);
        gj__ps_buf_append(&s->out, junk, sizeof junk);
        return 0;
    }
    if (bs_fault_take((bs_fault *)cfg->faults, cfg->n_faults, BS_FAULT_CLOSE, tag, qtext, s->member))
        return -1;
    long sleep_ms = bs_result_sleep_ms(r);
    if (sleep_ms > 0) {
        bool timeout = s->tx_timeout_ms > 0 && sleep_ms > s->tx_timeout_ms;
        bs_session_flush(s);
        if (bs_conn_sleep(s->conn, timeout ? (long)s->tx_timeout_ms : sleep_ms)) {
            ignored(s);
            return 0;
        }
        if (timeout) {
            failure(s, "Neo.ClientError.Transaction.TransactionTimedOutClientConfiguration", "25N05",
                    "The transaction has been terminated. Retry your operation in a new transaction, and you "
                    "should see a successful result. The transaction has not completed within the timeout "
                    "specified at its start by the client. You may want to retry with a longer timeout.");
            return 0;
        }
    }
    bs_fault *mid = discard ? NULL
                  : bs_fault_take((bs_fault *)cfg->faults, cfg->n_faults, BS_FAULT_CLOSE_MID_STREAM, tag, qtext,
                                  s->member);
    int64_t sent = 0;
    int stop = 0;
    gj_error *err = gj_error_new();
    while (!bs_result_done(r) && (n == -1 || sent < n)) {
        /* A range row is written straight from its integer (no values, the
         * bench's 10^6-row UNWIND); other rows go through the encoder. */
        int64_t iv = 0;
        gj_value *row = NULL;
        bool fast = bs_result_next_int(r, &iv);
        if (!fast && (row = bs_result_next(r)) == NULL)
            break;
        if (!discard) {
            if (mid && sent >= mid->after) {
                gj_value_unref(row);
                BS_LOG(s->srv, "conn %ld: fault: close mid-stream after %" PRId64 " records", s->conn_id, sent);
                bs_session_flush(s);
                stop = -1;
                break;
            }
            if (fast) {
                size_t start = s->out.len;
                gj__ps_put_struct_header(&s->out, 1, GJ_BOLT_RECORD);
                gj__ps_put_list_header(&s->out, 1);
                gj__ps_put_int(&s->out, iv);
                if (!s->out.error)
                    gj__chunk_frame(&s->out, start);
            } else {
                gj_error_clear(err);
                if (gj__bolt_write_record_list(&s->out, &s->ps, row, err))
                    BS_LOG(s->srv, "conn %ld: cannot encode a record: %s", s->conn_id, gj_error_message(err));
            }
        }
        gj_value_unref(row);
        sent++;
        if (s->out.len >= 64 * 1024 && bs_session_flush(s) != 0) {
            stop = -1;
            break;
        }
        if ((sent & 1023) == 0 && bs_conn_interrupted(s->conn)) {
            ignored(s);
            stop = 1;
            break;
        }
    }
    gj_error_free(err);
    if (stop)
        return stop < 0 ? -1 : 0;
    gj_value *meta = new_map();
    if (bs_result_done(r))
        stream_finished(s, index, meta);
    else
        gj_value_map_put_str(meta, "has_more", gj_value_bool(true));
    success(s, meta);
    return 0;
}

/* ---- explicit transactions ---- */

static int on_begin(bs_session *s, gj_bolt_msg *m)
{
    tx_extra x;
    if (parse_tx_extra(s, m->fields[0], &x) != 0)
        return 0;
    s->tx = bs_store_begin(&s->srv->store);
    s->tx_wrote = false;
    s->tx_read_mode = x.read_mode;
    s->tx_notifications_off = x.notifications_off;
    s->tx_timeout_ms = x.timeout_ms;
    snprintf(s->db, sizeof s->db, "%s", x.db);
    s->state = BS_TX_READY;
    BS_LOG(s->srv, "conn %ld: BEGIN tx %" PRIu64 " (mode %s, db %s, tx_timeout %" PRId64 ")", s->conn_id, s->tx,
           x.read_mode ? "r" : "w", x.db, x.timeout_ms);
    success(s, NULL);
    return 0;
}

static int on_commit(bs_session *s)
{
    uint64_t bm = 0;
    end_tx(s, true, &bm);
    char text[64];
    bs_bookmark_text(bm, text, sizeof text);
    BS_LOG(s->srv, "conn %ld: COMMIT -> %s", s->conn_id, text);
    gj_value *meta = new_map();
    gj_value_map_put_str(meta, "bookmark", gj_value_string(text));
    if (gj__bolt_version_at_least(&s->ps, 5, 0))
        gj_value_map_put_str(meta, "db", gj_value_string(s->db[0] ? s->db : "neo4j"));
    s->state = BS_READY;
    success(s, meta);
    return 0;
}

static int on_rollback(bs_session *s)
{
    BS_LOG(s->srv, "conn %ld: ROLLBACK", s->conn_id);
    uint64_t bm;
    end_tx(s, false, &bm);
    s->state = BS_READY;
    success(s, NULL);
    return 0;
}

/* ---- ROUTE ---- */

static gj_value *address_list(bs_session *s, char (*addrs)[BS_ADDR_MAX], size_t n)
{
    gj_value *l;
    gj_value_new_list(&l, n);
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(addrs[i], "self")) {
            char self[BS_ADDR_MAX];
            snprintf(self, sizeof self, "%s:%d", s->srv->cfg.host, s->srv->ports[s->member]);
            gj_value_list_append(l, gj_value_string(self));
        } else {
            gj_value_list_append(l, gj_value_string(addrs[i]));
        }
    }
    return l;
}

static gj_value *member_list(bs_session *s, int from, int to)
{
    gj_value *l;
    gj_value_new_list(&l, (size_t)(to - from));
    for (int i = from; i < to; i++) {
        char a[BS_ADDR_MAX];
        snprintf(a, sizeof a, "%s:%d", s->srv->cfg.host, s->srv->ports[i]);
        gj_value_list_append(l, gj_value_string(a));
    }
    return l;
}

static gj_value *server_entry(gj_value *addresses, const char *role)
{
    gj_value *m = new_map();
    gj_value_map_put_str(m, "addresses", addresses);
    gj_value_map_put_str(m, "role", gj_value_string(role));
    return m;
}

static int on_route(bs_session *s, gj_bolt_msg *m)
{
    const bs_config *cfg = &s->srv->cfg;
    const gj_value *extra = m->fields[2];
    const char *db = "";
    if (gj_value_type(extra) == GJ_TMAP) {
        str_is(extra, "db", &db);
    } else if (gj_value_type(extra) == GJ_TSTRING) {
        if (s->ps.bolt_major != 4 || s->ps.bolt_minor != 3) {
            failure(s, REQUEST_INVALID, "08N06", "ROUTE takes an extra map (not a database name) from Bolt 4.4 on");
            return 0;
        }
        gj_value_string_get(extra, &db, NULL);
    }
    BS_LOG(s->srv, "conn %ld: ROUTE db '%s'", s->conn_id, db);
    if (check_db(s, db) || check_bookmarks(s, m->fields[1]))
        return 0;
    gj_value *servers;
    gj_value_new_list(&servers, 3);
    if (cfg->explicit_routing) {
        gj_value_list_append(servers, server_entry(address_list(s, (char (*)[BS_ADDR_MAX])cfg->route, cfg->n_route), "ROUTE"));
        gj_value_list_append(servers, server_entry(address_list(s, (char (*)[BS_ADDR_MAX])cfg->read, cfg->n_read), "READ"));
        gj_value_list_append(servers, server_entry(address_list(s, (char (*)[BS_ADDR_MAX])cfg->write, cfg->n_write), "WRITE"));
    } else {
        int members = cfg->members;
        gj_value_list_append(servers, server_entry(member_list(s, 0, members), "ROUTE"));
        gj_value_list_append(servers, server_entry(members > 1 ? member_list(s, 1, members) : member_list(s, 0, 1), "READ"));
        gj_value_list_append(servers, server_entry(member_list(s, 0, 1), "WRITE"));
    }
    gj_value *rt = new_map();
    gj_value_map_put_str(rt, "ttl", gj_value_int(cfg->ttl));
    gj_value_map_put_str(rt, "db", gj_value_string(*db ? db : "neo4j"));
    gj_value_map_put_str(rt, "servers", servers);
    gj_value *meta = new_map();
    gj_value_map_put_str(meta, "rt", rt);
    success(s, meta);
    return 0;
}

/* ---- dispatch ---- */

int bs_session_handle(bs_session *s, gj_bolt_msg *m, bool interrupted)
{
    const char *name = gj__bolt_msg_name(m->tag, GJ_BOLT_REQUEST);
    uint8_t tag = m->tag;
    if (tag == GJ_BOLT_GOODBYE) {
        BS_LOG(s->srv, "conn %ld: GOODBYE", s->conn_id);
        return -1;
    }
    if (s->state == BS_DEFUNCT)
        return -1;
    if (tag == GJ_BOLT_HELLO || tag == GJ_BOLT_LOGON) {
        /* Fault injection at authentication: hang up, or refuse with words. */
        bs_fault *f = bs_fault_take(s->srv->cfg.faults, s->srv->cfg.n_faults, BS_FAULT_CLOSE, tag, NULL, s->member);
        if (f) {
            BS_LOG(s->srv, "conn %ld: fault: close on %s", s->conn_id, name);
            return -1;
        }
        f = bs_fault_take(s->srv->cfg.faults, s->srv->cfg.n_faults, BS_FAULT_REFUSE, tag, NULL, s->member);
        if (f) {
            BS_LOG(s->srv, "conn %ld: fault: refuse %s", s->conn_id, name);
            gj__bolt_write_failure(&s->out, &s->ps, f->code, f->message, "50N42", NULL);
            s->state = BS_DEFUNCT;   /* the connection closes after the FAILURE */
            return -1;
        }
    }
    if (s->state == BS_CONNECTED) {
        if (tag != GJ_BOLT_HELLO) {
            char text[128];
            snprintf(text, sizeof text, "Message '%s' cannot be handled by a session in the CONNECTED state.", name);
            bs_session_protocol_error(s, text);
            return -1;
        }
        return on_hello(s, m->fields[0]) == 0 ? 0 : -1;
    }
    if (tag == GJ_BOLT_RESET) {
        BS_LOG(s->srv, "conn %ld: RESET", s->conn_id);
        uint64_t bm;
        end_tx(s, false, &bm);
        s->state = s->user[0] ? BS_READY : BS_UNAUTHENTICATED;
        success(s, NULL);
        return 0;
    }
    if (interrupted || s->state == BS_FAILED) {
        ignored(s);
        return 0;
    }
    if (s->state == BS_UNAUTHENTICATED) {
        if (tag != GJ_BOLT_LOGON) {
            char text[128];
            snprintf(text, sizeof text, "Message '%s' cannot be handled by a session in the UNAUTHENTICATED state.",
                     name);
            bs_session_protocol_error(s, text);
            return -1;
        }
        if (authenticate(s, m->fields[0]) != 0)
            return -1;
        BS_LOG(s->srv, "conn %ld: LOGON as '%s'", s->conn_id, s->user);
        s->state = BS_READY;
        success(s, NULL);
        return 0;
    }
    switch (tag) {
    case GJ_BOLT_HELLO:
        bs_session_protocol_error(s, "HELLO may only be sent once, right after the handshake");
        return -1;
    case GJ_BOLT_LOGON:
        return wrong_state(s, name);
    case GJ_BOLT_LOGOFF:
        if (s->state != BS_READY)
            return wrong_state(s, name);
        BS_LOG(s->srv, "conn %ld: LOGOFF", s->conn_id);
        s->user[0] = '\0';
        s->state = BS_UNAUTHENTICATED;
        success(s, NULL);
        return 0;
    case GJ_BOLT_RUN:
        if (s->state != BS_READY && s->state != BS_TX_READY && s->state != BS_TX_STREAMING)
            return wrong_state(s, name);
        return on_run(s, m);
    case GJ_BOLT_PULL:
    case GJ_BOLT_DISCARD:
        if (s->state != BS_STREAMING && s->state != BS_TX_STREAMING)
            return wrong_state(s, name);
        return on_pull(s, m, tag == GJ_BOLT_DISCARD);
    case GJ_BOLT_BEGIN:
        if (s->state != BS_READY)
            return wrong_state(s, name);
        return on_begin(s, m);
    case GJ_BOLT_COMMIT:
    case GJ_BOLT_ROLLBACK:
        if (s->state != BS_TX_READY && s->state != BS_TX_STREAMING)
            return wrong_state(s, name);
        return tag == GJ_BOLT_COMMIT ? on_commit(s) : on_rollback(s);
    case GJ_BOLT_ROUTE:
        if (s->state != BS_READY)
            return wrong_state(s, name);
        return on_route(s, m);
    case GJ_BOLT_TELEMETRY: {
        if (s->state != BS_READY && s->state != BS_TX_READY)
            return wrong_state(s, name);
        int64_t api = -1;
        gj_value_int_get(m->fields[0], &api);
        BS_LOG(s->srv, "conn %ld: TELEMETRY api %" PRId64, s->conn_id, api);
        success(s, NULL);
        return 0;
    }
    default:
        return wrong_state(s, name ? name : "?");
    }
}
