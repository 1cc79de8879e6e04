/*
 * The extra map of RUN and BEGIN from a request's options (and a session's
 * defaults and bookmarks): which options each kind of request takes, their
 * checks, and the names the server knows them by.
 *
 * Request options (gj_request_set_option):
 *   fetch_size   int > 0 or -1 (all): records per PULL (default 1000)
 *   mode         "r"/"read" or "w"/"write" (default write)
 *   bookmarks    a string or a list of strings
 *   tx_timeout   int, milliseconds
 *   tx_metadata  map
 *   imp_user     string: impersonate this user (4.4+)
 *   discard      bool: DISCARD instead of PULL (no records; summary only)
 *   auth_scheme, auth_user, auth_password, auth_token    per-request credentials (5.1+)
 *   notifications_minimum_severity, notifications_disabled_classifications (5.2+)
 *   statements, max_retries   op "transaction" only
 * A query inside a session's open transaction takes fetch_size and discard
 * only: the rest belongs to its "begin".
 */
#include "backend/bolt/bolt.h"

#include <string.h>


static int opt_error(gj_conn *c, gj_error *err, const char *key, const char *want)
{
    return gj__error_set(err, GJ_EINVAL, "%s: option '%s' must be %s", c->endpoint, key, want);
}

/* Options a query inside an open transaction may not carry: they belong to
 * the transaction (its begin). */
static int in_tx_option_error(gj_conn *c, const gj_bolt_session *ss, const char *key, gj_error *err)
{
    return gj__error_set(err, GJ_EINVAL, "%s: option '%s' cannot be given to a query inside the session's "
                         "open transaction (begun by its job %llu): it belongs to the \"begin\"", c->endpoint, key,
                         (unsigned long long)ss->tx_job);
}

int gj__bolt_build_extra(gj_conn *c, const gj_request *req, gj_bolt_extra_kind kind, const gj_bolt_session *ss,
                         gj_value **out, int64_t *fetch, gj_value **sent, gj_error *err)
{
    gj_value *extra = NULL;
    *sent = NULL;
    if (gj_value_new_map(&extra, 6))
        return gj__error_set(err, GJ_ENOMEM, "%s: out of memory", c->endpoint);
    int rc = 0;
    bool tx = kind == GJ_BOLT_EXTRA_TX, begin = kind == GJ_BOLT_EXTRA_BEGIN, in_tx = kind == GJ_BOLT_EXTRA_IN_TX;
    bool mode_given = false, imp_given = false;
    const gj_value *req_bookmarks = NULL;
    *fetch = GJ_BOLT_DEFAULT_FETCH;
    const gj_value *opts = gj_request_options(req);
    for (size_t i = 0; !rc && i < gj_value_size(opts); i++) {
        const char *key = NULL;
        gj_value_string_get(gj_value_map_key_at(opts, i), &key, NULL);
        const gj_value *v = gj_value_map_value_at(opts, i);
        gj_type t = gj_value_type(v);
        if (!key) {
            rc = gj__error_set(err, GJ_EINVAL, "%s: option names must be strings", c->endpoint);
        } else if (!begin && strcmp(key, "fetch_size") == 0) {
            int64_t n = 0;
            if (gj_value_int_get(v, &n) || !(n > 0 || n == -1))
                rc = opt_error(c, err, key, "a positive integer or -1 (all)");
            *fetch = n;
        } else if (!begin && strcmp(key, "discard") == 0) {
            if (t != GJ_TBOOL)
                rc = opt_error(c, err, key, "a boolean");
        } else if (in_tx && (strcmp(key, "mode") == 0 || strcmp(key, "bookmarks") == 0 ||
                             strcmp(key, "tx_timeout") == 0 || strcmp(key, "tx_metadata") == 0 ||
                             strcmp(key, "imp_user") == 0 || strncmp(key, "auth_", 5) == 0 ||
                             strncmp(key, "notifications_", 14) == 0)) {
            rc = in_tx_option_error(c, ss, key, err);
        } else if (strcmp(key, "mode") == 0) {
            const char *m = NULL;
            size_t len = 0;
            gj_value_string_get(v, &m, &len);
            mode_given = true;
            if (m && (strcmp(m, "r") == 0 || strcmp(m, "read") == 0))
                rc = gj_value_map_put_str(extra, "mode", gj_value_string("r"));
            else if (!m || !(strcmp(m, "w") == 0 || strcmp(m, "write") == 0))
                rc = opt_error(c, err, key, "\"r\" (read) or \"w\" (write)");
        } else if (strcmp(key, "bookmarks") == 0) {
            bool ok = t == GJ_TSTRING || t == GJ_TLIST;
            for (size_t k = 0; ok && t == GJ_TLIST && k < gj_value_size(v); k++)
                ok = gj_value_type(gj_value_list_at(v, k)) == GJ_TSTRING;
            if (!ok)
                rc = opt_error(c, err, key, "a string or a list of strings");
            req_bookmarks = v;
        } else if (strcmp(key, "tx_timeout") == 0) {
            int64_t ms = 0;
            if (gj_value_int_get(v, &ms) || ms < 0)
                rc = opt_error(c, err, key, "a non-negative integer (milliseconds)");
            else
                rc = gj_value_map_put_str(extra, "tx_timeout", gj_value_ref(v));
        } else if (strcmp(key, "tx_metadata") == 0) {
            if (t != GJ_TMAP)
                rc = opt_error(c, err, key, "a map");
            else if (gj_value_size(v))
                rc = gj_value_map_put_str(extra, "tx_metadata", gj_value_ref(v));
        } else if (tx && strcmp(key, "statements") == 0) {
            /* checked by write_statements */
        } else if (tx && strcmp(key, "max_retries") == 0) {
            int64_t n = 0;
            if (gj_value_int_get(v, &n) || n < 0 || n > 10)
                rc = opt_error(c, err, key, "an integer from 0 to 10");
        } else if (strcmp(key, "auth_scheme") == 0 || strcmp(key, "auth_user") == 0 ||
                   strcmp(key, "auth_password") == 0 || strcmp(key, "auth_token") == 0) {
            if (t != GJ_TSTRING)
                rc = opt_error(c, err, key, "a string");
        } else if (strcmp(key, "notifications_minimum_severity") == 0 ||
                   strcmp(key, "notifications_disabled_classifications") == 0 ||
                   strcmp(key, "notifications_disabled_categories") == 0) {
            /* below */
        } else if (strcmp(key, "imp_user") == 0) {
            imp_given = true;
            if (t != GJ_TSTRING)
                rc = opt_error(c, err, key, "a string");
            else
                rc = gj_value_map_put_str(extra, "imp_user", gj_value_ref(v));
        } else {
            rc = gj__error_set(err, GJ_EINVAL,
                               "%s: unknown option '%s' (known: %s)", c->endpoint, key,
                               in_tx ? "fetch_size, discard (inside an open transaction)"
                               : begin ? "mode, bookmarks, tx_timeout, tx_metadata, imp_user, auth_scheme, "
                                         "auth_user, auth_password, auth_token, notifications_minimum_severity, "
                                         "notifications_disabled_classifications"
                               : tx ? "fetch_size, mode, bookmarks, tx_timeout, tx_metadata, imp_user, discard, "
                                      "auth_scheme, auth_user, auth_password, auth_token, "
                                      "notifications_minimum_severity, notifications_disabled_classifications, "
                                      "statements, max_retries"
                                    : "fetch_size, mode, bookmarks, tx_timeout, tx_metadata, imp_user, discard, "
                                      "auth_scheme, auth_user, auth_password, auth_token, "
                                      "notifications_minimum_severity, notifications_disabled_classifications");
        }
        if (rc == GJ_ENOMEM)
            rc = gj__error_set(err, GJ_ENOMEM, "%s: out of memory", c->endpoint);
    }
    const char *db = gj_request_database(req);
    if (!rc && in_tx) {
        /* The transaction's database was chosen by its begin. */
        const char *txdb = ss->tx_db ? ss->tx_db : "";
        if (db && strcmp(db, txdb) != 0)
            rc = gj__error_set(err, GJ_EINVAL, "%s: the request names database '%s' but the session's open "
                               "transaction (begun by its job %llu) runs in '%s'", c->endpoint, db,
                               (unsigned long long)ss->tx_job, *txdb ? txdb : "(the default)");
        if (rc) {
            gj_value_unref(extra);
            return rc;
        }
        *out = extra;
        return 0;
    }
    if (!rc)
        rc = gj__bolt_put_notification_filter(extra, c, gj_request_option(req, "notifications_minimum_severity"),
                                              gj__bolt_disabled_classes(opts), "option", GJ_EINVAL, err);
    /* The session's defaults. */
    if (!rc && ss && !mode_given && ss->read_mode && gj_value_map_put_str(extra, "mode", gj_value_string("r")))
        rc = GJ_ENOMEM;
    if (!rc && ss && !imp_given && ss->imp_user &&
        gj_value_map_put_str(extra, "imp_user", gj_value_string(ss->imp_user)))
        rc = GJ_ENOMEM;
    if (!db && ss)
        db = ss->database;
    if (!db)
        db = c->database;
    if (!rc && db && *db && gj_value_map_put_str(extra, "db", gj_value_string(db)))
        rc = GJ_ENOMEM;
    if (!rc)
        rc = gj__bolt_bookmarks_for(c, req_bookmarks, ss, sent, err);
    if (!rc && *sent && gj_value_size(*sent) && gj_value_map_put_str(extra, "bookmarks", gj_value_ref(*sent)))
        rc = GJ_ENOMEM;
    if (rc == GJ_ENOMEM)
        rc = gj__error_set(err, GJ_ENOMEM, "%s: out of memory", c->endpoint);
    if (rc) {
        gj_value_unref(extra);
        gj_value_unref(*sent);
        *sent = NULL;
        return rc;
    }
    *out = extra;
    return 0;
}
