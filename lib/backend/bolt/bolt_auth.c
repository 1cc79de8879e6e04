/*
 * Bolt authentication: the credentials of a target or of a request, a
 * digest identifying them (a connection is compared by it, the secret is
 * never kept or logged), and re-authentication of a pooled connection with
 * LOGOFF + LOGON (5.1+) queued ahead of a request.
 */
#include "backend/bolt/bolt.h"

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

static const char *target_option(const gj_target_settings *ts, const char *key)
{
    const gj_value *v = ts->options ? gj_value_map_get(ts->options, key) : NULL;
    const char *s = NULL;
    if (v && gj_value_string_get(v, &s, NULL) == 0)
        return s;
    return NULL;
}

int gj__bolt_auth_check(gj_bolt_auth *a, const char *endpoint, gj_error *err)
{
    if (!a->scheme)
        a->scheme = a->principal ? "basic" : a->credentials ? "bearer" : "none";
    if (strcmp(a->scheme, "none") == 0) {
        a->principal = a->credentials = NULL;
    } else if (strcmp(a->scheme, "basic") == 0) {
        if (!a->principal)
            a->principal = "";
        if (!a->credentials)
            a->credentials = "";
    } else if (strcmp(a->scheme, "bearer") == 0) {
        a->principal = NULL;
        if (!a->credentials)
            a->credentials = "";
    } else {
        return gj__error_set(err, GJ_ECONFIG, "%s: auth_scheme '%s' is not one of none, basic, bearer",
                             endpoint, a->scheme);
    }
    return 0;
}

int gj__bolt_auth_of_target(const gj_target_settings *ts, gj_bolt_auth *a, const char *endpoint, gj_error *err)
{
    a->scheme = target_option(ts, "auth_scheme");
    a->principal = ts->username;
    a->credentials = ts->password;
    return gj__bolt_auth_check(a, endpoint, err);
}

/* SHA-256 of scheme, principal and credentials (with their lengths): an
 * identity to compare connections by without keeping the secret. */
void gj__bolt_auth_id(const gj_bolt_auth *a, uint8_t id[GJ_BOLT_AUTH_ID_LEN])
{
    const char *parts[3] = { a->scheme, a->principal ? a->principal : "", a->credentials ? a->credentials : "" };
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned len = 0;
    bool ok = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1;
    for (int i = 0; ok && i < 3; i++) {
        uint64_t n = strlen(parts[i]);
        ok = EVP_DigestUpdate(md, &n, sizeof n) == 1 && EVP_DigestUpdate(md, parts[i], n) == 1;
    }
    if (ok)
        ok = EVP_DigestFinal_ex(md, id, &len) == 1 && len == GJ_BOLT_AUTH_ID_LEN;
    EVP_MD_CTX_free(md);
    if (!ok)
        memset(id, 0xff, GJ_BOLT_AUTH_ID_LEN);   /* never equal to a real digest by chance */
}

/* Put scheme / principal / credentials into map. */
int gj__bolt_auth_put(gj_value *map, const gj_bolt_auth *a, const char *endpoint, gj_error *err)
{
    int rc = gj_value_map_put_str(map, "scheme", gj_value_string(a->scheme));
    if (a->principal)
        rc |= gj_value_map_put_str(map, "principal", gj_value_string(a->principal));
    if (a->credentials)
        rc |= gj_value_map_put_str(map, "credentials", gj_value_string(a->credentials));
    return rc ? gj__error_set(err, GJ_ENOMEM, "%s: out of memory for the credentials", endpoint) : 0;
}

/* ---- re-authentication (5.1+) ---------------------------------------------------- */

static const char *str_option(const gj_request *req, const char *key)
{
    const char *s = NULL;
    const gj_value *v = gj_request_option(req, key);
    if (v && gj_value_string_get(v, &s, NULL) != 0)
        s = NULL;
    return s;
}

int gj__bolt_queue_reauth(gj_conn *c, const gj_request *req, uint8_t prev_id[GJ_BOLT_AUTH_ID_LEN], bool *queued,
                          gj_error *err)
{
    *queued = false;
    gj_bolt_auth a = { str_option(req, "auth_scheme"), str_option(req, "auth_user"), NULL };
    const char *token = str_option(req, "auth_token"), *password = str_option(req, "auth_password");
    bool own = a.scheme || a.principal || token || password;
    /* The common case, the target's user on a connection that has it: no
     * digest to compute. */
    if (!own && CRYPTO_memcmp(c->target_auth_id, c->auth_id, sizeof c->auth_id) == 0)
        return 0;
    int rc;
    if (own) {
        a.credentials = token ? token : password;
        if (!a.scheme && token)
            a.scheme = "bearer";
        rc = gj__bolt_auth_check(&a, c->endpoint, err);
    } else {
        rc = gj__bolt_auth_of_target(c->ts, &a, c->endpoint, err);
    }
    if (rc == GJ_ECONFIG) {
        char msg[400];
        snprintf(msg, sizeof msg, "%s", gj_error_message(err));
        return gj__error_set(err, GJ_EINVAL, "%s", msg);
    }
    if (rc)
        return rc;
    uint8_t id[GJ_BOLT_AUTH_ID_LEN];
    gj__bolt_auth_id(&a, id);
    if (CRYPTO_memcmp(id, c->auth_id, sizeof id) == 0)
        return 0;
    if (!gj__bolt_version_at_least(&c->ps, 5, 1))
        return gj__error_set(err, GJ_EUNSUPPORTED,
                             "%s: per-request authentication needs Bolt 5.1+ (LOGOFF / LOGON); this "
                             "connection speaks Bolt %u.%u", c->endpoint, c->ps.bolt_major, c->ps.bolt_minor);
    gj_value *map = NULL;
    if (gj_value_new_map(&map, 3))
        return gj__error_set(err, GJ_ENOMEM, "%s: out of memory for LOGON", c->endpoint);
    size_t mark = c->wbuf.len;
    rc = gj__bolt_auth_put(map, &a, c->endpoint, err);
    if (!rc)
        rc = gj__bolt_write_empty(&c->wbuf, GJ_BOLT_LOGOFF, err);
    if (!rc)
        rc = gj__bolt_write_map(&c->wbuf, &c->ps, GJ_BOLT_LOGON, map, err);
    gj_value_unref(map);   /* held the credentials */
    c->wipe_wbuf = true;
    if (!rc)
        rc = gj__bolt_push_pending(c, GJ_BOLT_LOGOFF, err);
    if (!rc)
        rc = gj__bolt_push_pending(c, GJ_BOLT_LOGON, err);
    if (rc) {
        explicit_bzero(c->wbuf.data + mark, c->wbuf.len - mark);
        return rc;
    }
    /* Taken now: if LOGON fails the server closes and the connection goes. */
    memcpy(prev_id, c->auth_id, sizeof id);
    memcpy(c->auth_id, id, sizeof id);
    *queued = true;
    gj__log(c->log, GJ_LOG_DEBUG, "bolt %s: re-authenticating (LOGOFF + LOGON, scheme %s)", c->endpoint, a.scheme);
    return 0;
}
