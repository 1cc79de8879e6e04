/*
 * Bolt on gj_session: interactive transactions across jobs, the session's
 * causal chain of bookmarks, and the target's bookmark manager.
 *
 * A session is a gj_bolt_session (session_open makes it; no I/O) handed to
 * every job of the session through the sink.  Its jobs run one at a time on
 * the connection the core pinned; bolt_exec.c runs them:
 *
 *   begin      BEGIN with the transaction's extra (bookmarks, tx_timeout,
 *              tx_metadata, mode, db, imp_user, notification filters);
 *              in_tx from its SUCCESS on
 *   query      inside the transaction: RUN (empty extra) + PULL; outside:
 *              an auto-commit query with the session's defaults
 *   commit     COMMIT; its bookmark becomes the session's chain
 *   rollback   ROLLBACK
 *
 * A FAILURE, a cancel or a result too large inside the transaction is
 * followed by RESET, which rolls the transaction back on the server: the
 * session then records why (tx_failed) and its later jobs fail saying so
 * until a "begin" (or a "rollback", which acknowledges it).  A connection
 * lost mid-transaction loses it too: on bolt:// the core ends the session
 * (every later job fails with GJ_EIO); on neo4j:// the member is dropped
 * and the session's later jobs fail saying the transaction is lost.
 *
 * Bookmarks: every transaction and auto-commit query of a session carries
 * the session's chain (the bookmark of its last commit, or the session
 * option "bookmarks" before that), plus the request's own option
 * "bookmarks", plus, with the target's bookmark manager on (setting
 * bookmark_manager), the manager's.  A commit's bookmark replaces the
 * session's chain; the manager forgets the bookmarks that commit was given
 * and keeps the new one, as the Neo4j drivers' bookmark manager does.  The
 * manager is shared by every connection and session of the target (a mutex;
 * at most GJ_BOLT_MAX_BOOKMARKS kept, the oldest dropped first).
 */
#include "backend/bolt/bolt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the target's shared state: the bookmark manager ------------------------- */

int gj__bolt_target_open(void **ctx, const gj_target_settings *ts, const gj_logger *log, gj_error *err)
{
    (void)log;
    gj_bolt_target *t = calloc(1, sizeof *t);
    if (!t || pthread_mutex_init(&t->mu, NULL) != 0) {
        free(t);
        return gj__error_set(err, GJ_ENOMEM, "bolt: out of memory for the target '%s'", ts->name ? ts->name : "");
    }
    if (pthread_mutex_init(&t->tz_mu, NULL) != 0) {
        pthread_mutex_destroy(&t->mu);
        free(t);
        return gj__error_set(err, GJ_ENOMEM, "bolt: out of memory for the target '%s'", ts->name ? ts->name : "");
    }
    const char *tzdir = getenv("TZDIR");   /* read once, when the client is made */
    snprintf(t->tzdir, sizeof t->tzdir, "%s", tzdir && *tzdir ? tzdir : "/usr/share/zoneinfo");
    /* The setting, or the same key among the target's Bolt options. */
    t->manager = ts->bookmark_manager ||
                 (ts->options && gj__value_truthy(gj_value_map_get(ts->options, "bookmark_manager")));
    *ctx = t;
    return 0;
}

void gj__bolt_target_close(void *ctx)
{
    gj_bolt_target *t = ctx;
    if (!t)
        return;
    gj_value_unref(t->bookmarks);
    gj__bolt_zones_free(t);
    pthread_mutex_destroy(&t->tz_mu);
    pthread_mutex_destroy(&t->mu);
    free(t);
}

static bool list_has(const gj_value *list, const char *s, size_t len)
{
    for (size_t i = 0; i < gj_value_size(list); i++) {
        const char *x;
        size_t n;
        if (gj_value_string_get(gj_value_list_at(list, i), &x, &n) == 0 && n == len && memcmp(x, s, n) == 0)
            return true;
    }
    return false;
}

/* Append the strings of src (a string or a list of strings) that are not
 * in *list yet, making *list when needed. */
static int add_distinct(gj_value **list, const gj_value *src)
{
    if (!src)
        return 0;
    bool one = gj_value_type(src) == GJ_TSTRING;
    size_t n = one ? 1 : gj_value_size(src);
    for (size_t i = 0; i < n; i++) {
        const gj_value *v = one ? src : gj_value_list_at(src, i);
        const char *s;
        size_t len;
        if (gj_value_string_get(v, &s, &len) != 0 || (*list && list_has(*list, s, len)))
            continue;
        if (!*list && gj_value_new_list(list, 4) != 0)
            return GJ_ENOMEM;
        if (gj_value_list_append(*list, gj_value_ref(v)) != 0)
            return GJ_ENOMEM;
    }
    return 0;
}

static bool manager_applies(const gj_conn *c, const gj_bolt_session *ss)
{
    return c->target && c->target->manager && (!ss || ss->use_manager);
}

int gj__bolt_bookmarks_for(gj_conn *c, const gj_value *req_bookmarks, const gj_bolt_session *ss,
                           gj_value **out, gj_error *err)
{
    gj_value *list = NULL;
    int rc = add_distinct(&list, req_bookmarks);
    if (!rc && ss)
        rc = add_distinct(&list, ss->bookmarks);
    if (!rc && manager_applies(c, ss)) {
        pthread_mutex_lock(&c->target->mu);
        rc = add_distinct(&list, c->target->bookmarks);
        pthread_mutex_unlock(&c->target->mu);
    }
    if (rc) {
        gj_value_unref(list);
        return gj__error_set(err, GJ_ENOMEM, "%s: out of memory for the bookmarks", c->endpoint);
    }
    *out = list;
    return 0;
}

/* A new list: the items of old not in drop, then add (when not NULL); at
 * most GJ_BOLT_MAX_BOOKMARKS (the oldest dropped).  NULL when out of memory:
 * the caller keeps old. */
static gj_value *replaced(const gj_value *old, const gj_value *drop, const gj_value *add)
{
    gj_value *keep = NULL;
    if (gj_value_new_list(&keep, gj_value_size(old) + 1) != 0)
        return NULL;
    size_t n = gj_value_size(old), skip = 0;
    size_t survivors = 0;
    for (size_t i = 0; i < n; i++) {
        const char *s;
        size_t len;
        if (gj_value_string_get(gj_value_list_at(old, i), &s, &len) == 0 && !list_has(drop, s, len))
            survivors++;
    }
    if (survivors + (add ? 1 : 0) > GJ_BOLT_MAX_BOOKMARKS)
        skip = survivors + (add ? 1 : 0) - GJ_BOLT_MAX_BOOKMARKS;
    for (size_t i = 0; i < n; i++) {
        const gj_value *v = gj_value_list_at(old, i);
        const char *s;
        size_t len;
        if (gj_value_string_get(v, &s, &len) != 0 || list_has(drop, s, len))
            continue;
        if (skip) {
            skip--;
            continue;
        }
        if (gj_value_list_append(keep, gj_value_ref(v)) != 0) {
            gj_value_unref(keep);
            return NULL;
        }
    }
    if (add) {
        const char *s;
        size_t len;
        gj_value_string_get(add, &s, &len);
        if (!list_has(keep, s, len) && gj_value_list_append(keep, gj_value_ref(add)) != 0) {
            gj_value_unref(keep);
            return NULL;
        }
    }
    return keep;
}

void gj__bolt_bookmarks_committed(gj_conn *c, gj_bolt_session *ss, const gj_value *sent,
                                  const gj_value *bookmark)
{
    if (!bookmark || gj_value_type(bookmark) != GJ_TSTRING)
        return;
    if (ss) {
        gj_value *chain = NULL;
        if (gj_value_new_list(&chain, 1) == 0 && gj_value_list_append(chain, gj_value_ref(bookmark)) == 0) {
            gj_value_unref(ss->bookmarks);
            ss->bookmarks = chain;
        } else {
            gj_value_unref(chain);   /* out of memory: the old chain stays (still causal) */
        }
    }
    if (manager_applies(c, ss)) {
        pthread_mutex_lock(&c->target->mu);
        gj_value *next = replaced(c->target->bookmarks, sent, bookmark);
        if (next) {
            gj_value_unref(c->target->bookmarks);
            c->target->bookmarks = next;
        }
        pthread_mutex_unlock(&c->target->mu);
    }
}

void gj__bolt_tx_lost(gj_bolt_session *ss, const char *fmt, ...)
{
    if (!ss)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(ss->why, sizeof ss->why, fmt, ap);
    va_end(ap);
    if (n < 0)
        snprintf(ss->why, sizeof ss->why, "the session's transaction was rolled back");
    ss->in_tx = false;
    ss->tx_failed = true;
    gj_value_unref(ss->tx_sent);
    ss->tx_sent = NULL;
    free(ss->tx_db);
    ss->tx_db = NULL;
}

/* ---- session options ----------------------------------------------------------- */

static const char *const session_keys[] = {
    "database", "mode", "bookmarks", "imp_user", "bookmark_manager", NULL,
};

static bool bookmarks_ok(const gj_value *v)
{
    gj_type t = gj_value_type(v);
    bool ok = t == GJ_TSTRING || t == GJ_TLIST;
    for (size_t k = 0; ok && t == GJ_TLIST && k < gj_value_size(v); k++)
        ok = gj_value_type(gj_value_list_at(v, k)) == GJ_TSTRING;
    return ok;
}

int gj__bolt_session_check(const gj_value *options, gj_error *err)
{
    for (size_t i = 0; i < gj_value_size(options); i++) {
        const char *key = NULL;
        gj_value_string_get(gj_value_map_key_at(options, i), &key, NULL);
        const gj_value *v = gj_value_map_value_at(options, i);
        size_t k = 0;
        while (key && session_keys[k] && strcmp(session_keys[k], key) != 0)
            k++;
        if (!key || !session_keys[k])
            return gj__error_set(err, GJ_EINVAL, "bolt: unknown session option '%s' (known: database, mode, "
                                 "bookmarks, imp_user, bookmark_manager)", key ? key : "(not a string)");
        gj_type t = gj_value_type(v);
        const char *s = NULL;
        if ((!strcmp(key, "database") || !strcmp(key, "imp_user")) && t != GJ_TSTRING)
            return gj__error_set(err, GJ_EINVAL, "bolt: session option '%s' must be a string", key);
        if (!strcmp(key, "mode") &&
            (gj_value_string_get(v, &s, NULL) != 0 ||
             (strcmp(s, "r") && strcmp(s, "read") && strcmp(s, "w") && strcmp(s, "write"))))
            return gj__error_set(err, GJ_EINVAL, "bolt: session option 'mode' must be \"r\" (read) or \"w\" (write)");
        if (!strcmp(key, "bookmarks") && !bookmarks_ok(v))
            return gj__error_set(err, GJ_EINVAL, "bolt: session option 'bookmarks' must be a string or a list of "
                                 "strings");
        if (!strcmp(key, "bookmark_manager") && t != GJ_TBOOL)
            return gj__error_set(err, GJ_EINVAL, "bolt: session option 'bookmark_manager' must be a boolean");
    }
    return 0;
}

static void session_free(gj_bolt_session *ss)
{
    if (!ss)
        return;
    free(ss->database);
    free(ss->imp_user);
    free(ss->tx_db);
    gj_value_unref(ss->bookmarks);
    gj_value_unref(ss->tx_sent);
    free(ss);
}

int gj__bolt_session_begin(gj_conn *c, const gj_value *options, void **state, int64_t deadline_ms,
                           gj_error *err)
{
    (void)deadline_ms;   /* no I/O: the first job talks to the server */
    gj_bolt_session *ss = calloc(1, sizeof *ss);
    if (!ss)
        return gj__error_set(err, GJ_ENOMEM, "%s: out of memory for a session", c->endpoint);
    const gj_value *v;
    const char *s = NULL;
    int rc = 0;
    if ((v = gj_value_map_get(options, "database")) && gj_value_string_get(v, &s, NULL) == 0 &&
        !(ss->database = gj__strdup(s)))
        rc = GJ_ENOMEM;
    if ((v = gj_value_map_get(options, "imp_user")) && gj_value_string_get(v, &s, NULL) == 0 &&
        !(ss->imp_user = gj__strdup(s)))
        rc = GJ_ENOMEM;
    if ((v = gj_value_map_get(options, "mode")) && gj_value_string_get(v, &s, NULL) == 0)
        ss->read_mode = s[0] == 'r';
    ss->use_manager = true;
    if ((v = gj_value_map_get(options, "bookmark_manager")))
        gj_value_bool_get(v, &ss->use_manager);
    if (!rc)
        rc = add_distinct(&ss->bookmarks, gj_value_map_get(options, "bookmarks"));
    if (rc) {
        session_free(ss);
        return gj__error_set(err, GJ_ENOMEM, "%s: out of memory for a session", c->endpoint);
    }
    *state = ss;
    return 0;
}

/* ROLLBACK on a connection that is READY in a transaction: 0 when the
 * server answered SUCCESS before deadline_ms. */
static int rollback_now(gj_conn *c, int64_t deadline_ms, gj_error *err)
{
    if (c->broken || c->tcp.broken || c->n_pending || gj__tcp_interrupt_pending(&c->tcp))
        return gj__error_set(err, GJ_EIO, "%s: the connection is not usable", c->endpoint);
    int rc = gj__bolt_write_empty(&c->wbuf, GJ_BOLT_ROLLBACK, err);
    if (!rc)
        rc = gj__bolt_push_pending(c, GJ_BOLT_ROLLBACK, err);
    if (!rc)
        rc = gj__bolt_flush(c, deadline_ms, err);
    while (!rc && c->n_pending) {
        gj_bolt_msg m;
        rc = gj__bolt_read_msg(c, &m, deadline_ms, GJ_TCP_INTERRUPTIBLE, err);
        if (rc)
            break;
        if (m.tag == GJ_BOLT_RECORD) {
            gj__bolt_msg_clear(&m);
            continue;
        }
        gj__bolt_pop_pending(c);
        if (m.tag == GJ_BOLT_FAILURE) {
            rc = gj__bolt_failure(c, m.fields[0], GJ_ESERVER, err);
            gj__bolt_msg_clear(&m);
            /* FAILED: RESET brings it back (and ends the transaction anyway). */
            gj_error *tmp = gj_error_new();
            gj__bolt_reset(c, deadline_ms, tmp);
            gj_error_free(tmp);
            return rc;
        }
        if (m.tag != GJ_BOLT_SUCCESS)
            rc = gj__error_set(err, GJ_EPROTOCOL, "%s: ROLLBACK answered with %s", c->endpoint,
                               gj__bolt_msg_name(m.tag, GJ_BOLT_RESPONSE));
        gj__bolt_msg_clear(&m);
    }
    if (rc == GJ_ECANCELLED)
        gj__error_set(err, GJ_ECANCELLED, "%s: interrupted while rolling the transaction back", c->endpoint);
    if (rc)
        c->broken = true;
    return rc;
}

void gj__bolt_session_end(gj_conn *c, void *state, int64_t deadline_ms, gj_error *err)
{
    gj_bolt_session *ss = state;
    if (!ss)
        return;
    if (ss->in_tx) {
        /* Closing with a transaction open rolls it back (as a driver's
         * session.close() does).  A connection that cannot carry ROLLBACK
         * is closed by the pool, which ends the transaction on the server
         * as surely. */
        gj_conn *m = c->router ? gj__bolt_router_member(c, ss->member) : c;
        const char *where = c->router ? ss->member : c->endpoint;
        gj_error *e = gj_error_new();
        int rc = m ? rollback_now(m, deadline_ms, e)
                   : gj__error_set(e, GJ_EIO, "%s: the cluster member is gone", where);
        if (rc) {
            gj__log(m ? m->log : NULL, GJ_LOG_WARN, "%s: rolling back the session's transaction (begun by its job "
                    "%llu) at close failed: %s", where, (unsigned long long)ss->tx_job, gj_error_message(e));
            if (err) {
                gj__error_move(err, e);
                gj__error_prefix(err, "the session's open transaction (begun by its job %llu) could not be "
                                 "rolled back at close; the server ends it with the connection",
                                 (unsigned long long)ss->tx_job);
            }
        }
        gj_error_free(e);
    }
    session_free(ss);
}
