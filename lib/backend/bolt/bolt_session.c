/*
 * Bolt session: handshake (manifest v1 + ranges), HELLO / LOGON, message
 * reading and writing, ping, close, and the backend's vtable.
 *
 * Authentication: the target option "auth_scheme" ("none", "basic",
 * "bearer"); without it, basic when the URL has a user name, bearer (the
 * password is the token) when it has only a password, else none.
 * Credentials go in HELLO up to Bolt 5.0 and in LOGON from 5.1; they are
 * never logged, the maps holding them are released at once and the send
 * buffer that carried them is wiped.
 */
#include "backend/bolt/bolt.h"
#include "codec/bolt_handshake.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>


#define USER_AGENT "libgraphjob/" GJ_VERSION_STRING

/* ---- the transport --------------------------------------------------------------- */

int gj__bolt_sock_write(gj_conn *c, const uint8_t *data, size_t len, int64_t deadline_ms,
                        unsigned flags, gj_error *err)
{
    int rc = gj__tcp_write(&c->tcp, data, len, deadline_ms, flags, err);
    if (rc && rc != GJ_ECANCELLED)
        c->broken = true;
    return rc;
}

int gj__bolt_sock_read(gj_conn *c, uint8_t *buf, size_t cap, size_t *got, int64_t deadline_ms,
                       unsigned flags, gj_error *err)
{
    int rc = gj__tcp_read(&c->tcp, buf, cap, got, deadline_ms, flags,
                          c->connecting ? "waiting for the server's handshake (connect_timeout)"
                                        : "waiting for the server's response", err);
    if (rc && rc != GJ_ECANCELLED)
        c->broken = true;
    return rc;
}

static bool scheme_ssc(const gj_target_settings *ts)
{
    size_t n = ts->scheme ? strlen(ts->scheme) : 0;
    return n >= 4 && strcmp(ts->scheme + n - 4, "+ssc") == 0;
}

/* TCP, and TLS when the scheme asks for it (+s verifies, +ssc does not). */
static int sock_open(gj_conn *c, const char *host, int port, const gj_target_settings *ts,
                     const gj_abort *abort, int64_t deadline_ms, gj_error *err)
{
    gj_tcp_tls tls = {
        ts->ssl_verify && !scheme_ssc(ts), ts->ssl_cafile, ts->ssl_certfile, ts->ssl_keyfile,
        ts->ssl_password,
    };
    return gj__tcp_connect(&c->tcp, host, port, ts->tls ? &tls : NULL, abort, deadline_ms, err);
}

/* ---- messages ------------------------------------------------------------------ */

int gj__bolt_broken(gj_conn *c, int rc, gj_error *err)
{
    c->broken = true;
    gj__error_prefix(err, "%s", c->endpoint);
    return rc;
}

int gj__bolt_flush(gj_conn *c, int64_t deadline_ms, gj_error *err)
{
    int rc = gj__ps_buf_check(&c->wbuf, err);
    if (rc) {
        gj__ps_buf_reset(&c->wbuf);
        return rc;
    }
    rc = gj__bolt_sock_write(c, c->wbuf.data, c->wbuf.len, deadline_ms, c->connect_io, err);
    gj__ps_buf_reset(&c->wbuf);
    if (c->wipe_wbuf && c->wbuf.data)
        explicit_bzero(c->wbuf.data, c->wbuf.cap);   /* it carried credentials */
    c->wipe_wbuf = false;
    return rc;
}

int gj__bolt_push_pending(gj_conn *c, uint8_t tag, gj_error *err)
{
    if (c->n_pending >= GJ_BOLT_MAX_PENDING)
        return gj__error_set(err, GJ_EPROTOCOL, "%s: too many requests in flight", c->endpoint);
    c->pending[c->n_pending++] = tag;
    return 0;
}

uint8_t gj__bolt_pop_pending(gj_conn *c)
{
    if (!c->n_pending)
        return 0;
    uint8_t tag = c->pending[0];
    memmove(c->pending, c->pending + 1, --c->n_pending);
    return tag;
}

int gj__bolt_read_msg(gj_conn *c, gj_bolt_msg *m, int64_t deadline_ms, unsigned flags,
                      gj_error *err)
{
    return gj__bolt_read_msg_lazy(c, m, NULL, NULL, deadline_ms, flags, err);
}

int gj__bolt_read_msg_lazy(gj_conn *c, gj_bolt_msg *m, int64_t (*deadline_fn)(void *arg),
                           void *arg, int64_t deadline_ms, unsigned flags, gj_error *err)
{
    for (;;) {
        if (c->rpos < c->rlen) {
            size_t used = 0;
            int r = gj__dechunk_feed(&c->dechunker, c->rbuf + c->rpos, c->rlen - c->rpos, &used, err);
            c->rpos += used;
            if (r < 0)
                return gj__bolt_broken(c, r, err);
            if (r == 1) {
                const uint8_t *msg;
                size_t len;
                gj__dechunk_message(&c->dechunker, &msg, &len);
                c->last_msg_len = len;
                int rc = gj__bolt_msg_decode(m, msg, len, &c->ps, GJ_BOLT_RESPONSE, err);
                if (rc)
                    return gj__bolt_broken(c, rc, err);
                return 0;
            }
            continue;
        }
        c->rpos = c->rlen = 0;
        size_t got = 0;
        if (deadline_fn) {   /* the clock is read when the socket is, not per message */
            deadline_ms = deadline_fn(arg);
            deadline_fn = NULL;
        }
        int rc = gj__bolt_sock_read(c, c->rbuf, GJ_BOLT_RECV_BUF, &got, deadline_ms, flags, err);
        if (rc)
            return rc;
        c->rlen = got;
    }
}

int gj__bolt_failure(gj_conn *c, const gj_value *meta, int code, gj_error *err)
{
    int rc = gj__bolt_failure_to_error_code(meta, code, err);
    gj__error_prefix(err, "%s", c->endpoint);   /* "host:port: bolt [code, GQL status] message" */
    return rc;
}

int64_t gj__bolt_read_deadline(const gj_conn *c, int64_t request_deadline)
{
    if (c->recv_timeout_hint_ms <= 0)
        return request_deadline;
    int64_t idle = gj__now_ms() + c->recv_timeout_hint_ms;
    return idle < request_deadline ? idle : request_deadline;
}

/* ---- handshake ----------------------------------------------------------------- */

static bool version_offered(unsigned major, unsigned minor)
{
    return (major == 6 && minor == 0) || (major == 5 && minor <= 8) || (major == 4 && minor == 4);
}

/* Read exactly n bytes (handshake only: the dechunker is not involved). */
static int read_exact(gj_conn *c, uint8_t *out, size_t n, int64_t deadline_ms, gj_error *err)
{
    size_t have = 0;
    while (have < n) {
        size_t got = 0;
        int rc = gj__bolt_sock_read(c, out + have, n - have, &got, deadline_ms, c->connect_io, err);
        if (rc)
            return rc;
        have += got;
    }
    return 0;
}

static int handshake(gj_conn *c, int64_t deadline_ms, gj_error *err)
{
    const uint32_t proposals[4] = {
        GJ_BOLT_MANIFEST_V1, gj__bolt_version_word(5, 8, 8), gj__bolt_version_word(4, 4, 0), 0
    };
    uint8_t hello[GJ_BOLT_HANDSHAKE_LEN];
    gj__bolt_handshake_request(hello, proposals);
    int rc = gj__bolt_sock_write(c, hello, sizeof hello, deadline_ms, c->connect_io, err);
    if (rc)
        return rc;
    uint8_t word[4];
    rc = read_exact(c, word, 4, deadline_ms, err);
    if (rc)
        return rc;
    uint32_t w = ((uint32_t)word[0] << 24) | ((uint32_t)word[1] << 16) | ((uint32_t)word[2] << 8) | word[3];
    if ((word[0] == 0x15 || word[0] == 0x16) && word[1] == 0x03 && word[2] <= 0x04)
        return gj__error_set(err, GJ_EPROTOCOL,
                             "%s: the server answered with TLS: use bolt+s:// (or bolt+ssc://)",
                             c->endpoint);
    if (w == GJ_BOLT_HTTP)
        return gj__error_set(err, GJ_EPROTOCOL,
                             "%s: this is an HTTP port, not Bolt (Neo4j's Bolt port is usually 7687)",
                             c->endpoint);
    if (w == 0)
        return gj__error_set(err, GJ_EUNSUPPORTED,
                             "%s: no common Bolt version (offered 6.0, 5.8..5.0 and 4.4)", c->endpoint);
    if (w == GJ_BOLT_MANIFEST_V1) {
        uint8_t buf[512];
        size_t have = 0, used = 0, n = 0;
        uint32_t ranges[32];
        uint64_t caps = 0;
        for (;;) {
            int r = gj__bolt_manifest_parse(buf, have, &used, ranges, 32, &n, &caps, err);
            if (r < 0) {
                gj__error_prefix(err, "%s: bad Bolt manifest", c->endpoint);
                return r;
            }
            if (r == 1)
                break;
            if (have == sizeof buf)
                return gj__error_set(err, GJ_EPROTOCOL, "%s: Bolt manifest longer than %zu bytes",
                                     c->endpoint, sizeof buf);
            size_t got = 0;
            rc = gj__bolt_sock_read(c, buf + have, 1, &got, deadline_ms, c->connect_io, err);
            if (rc)
                return rc;
            have += got;
        }
        if (used != have)
            return gj__error_set(err, GJ_EPROTOCOL, "%s: unexpected bytes after the Bolt manifest",
                                 c->endpoint);
        /* The highest version in both the server's ranges and ours. */
        unsigned best_major = 0, best_minor = 0;
        for (size_t i = 0; i < n; i++) {
            for (unsigned major = 4; major <= 6; major++)
                for (unsigned minor = 0; minor <= 8; minor++) {
                    if (!version_offered(major, minor) || !gj__bolt_proposal_covers(ranges[i], major, minor))
                        continue;
                    if (major > best_major || (major == best_major && minor > best_minor)) {
                        best_major = major;
                        best_minor = minor;
                    }
                }
        }
        if (!best_major)
            return gj__error_set(err, GJ_EUNSUPPORTED,
                                 "%s: no common Bolt version (the server's manifest lists %zu ranges, "
                                 "none in 6.0, 5.8..5.0 or 4.4)", c->endpoint, n);
        uint8_t choice[4 + GJ_VARINT_MAX];
        size_t len = gj__bolt_manifest_choice(choice, best_major, best_minor, 0);
        rc = gj__bolt_sock_write(c, choice, len, deadline_ms, c->connect_io, err);
        if (rc)
            return rc;
        c->ps.bolt_major = best_major;
        c->ps.bolt_minor = best_minor;
        return 0;
    }
    gj_bolt_version v = gj__bolt_version_of(w);
    if ((w >> 16) != 0 || !version_offered(v.major, v.minor))
        return gj__error_set(err, GJ_EPROTOCOL,
                             "%s: the server chose Bolt version word 0x%08x, which was not offered",
                             c->endpoint, (unsigned)w);
    c->ps.bolt_major = v.major;
    c->ps.bolt_minor = v.minor;
    return 0;
}

/* ---- HELLO / LOGON -------------------------------------------------------------- */

/* Target option telemetry_disabled: true (a bool, 1, or "true"/"1"/"yes"/"on"). */
static bool telemetry_disabled(const gj_target_settings *ts)
{
    return ts->options && gj__value_truthy(gj_value_map_get(ts->options, "telemetry_disabled"));
}

/* ---- notification filters (5.2+) ---------------------------------------------- */

static int upper_copy(char *out, size_t cap, const char *s, size_t len)
{
    if (len == 0 || len >= cap)
        return -1;
    for (size_t i = 0; i < len; i++) {
        char ch = s[i];
        if (ch >= 'a' && ch <= 'z')
            ch = (char)(ch - 'a' + 'A');
        if (!((ch >= 'A' && ch <= 'Z') || ch == '_'))
            return -1;
        out[i] = ch;
    }
    out[len] = '\0';
    return 0;
}

/* One classification name (trimmed, upper-cased) appended to list. */
static int append_class(gj_value *list, const char *s, size_t len)
{
    while (len && (*s == ' ' || *s == '\t'))
        s++, len--;
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    char name[64];
    if (upper_copy(name, sizeof name, s, len) != 0)
        return GJ_EINVAL;
    gj_value *v = gj_value_string(name);
    if (!v || gj_value_list_append(list, v) != 0)
        return GJ_ENOMEM;
    return 0;
}

int gj__bolt_put_notification_filter(gj_value *map, const gj_conn *c, const gj_value *severity,
                                     const gj_value *disabled, const char *where, int bad_code, gj_error *err)
{
    if (!severity && !disabled)
        return 0;
    if (!gj__bolt_version_at_least(&c->ps, 5, 2))
        return gj__error_set(err, GJ_EUNSUPPORTED,
                             "%s: notification filters (%s notifications_*) need Bolt 5.2+; this connection "
                             "speaks Bolt %u.%u", c->endpoint, where, c->ps.bolt_major, c->ps.bolt_minor);
    if (severity) {
        const char *s = NULL;
        size_t len = 0;
        char sev[16];
        if (gj_value_string_get(severity, &s, &len) != 0 || upper_copy(sev, sizeof sev, s, len) != 0 ||
            (strcmp(sev, "OFF") != 0 && strcmp(sev, "WARNING") != 0 && strcmp(sev, "INFORMATION") != 0))
            return gj__error_set(err, bad_code, "%s: %s notifications_minimum_severity must be \"OFF\", "
                                 "\"WARNING\" or \"INFORMATION\"", c->endpoint, where);
        if (gj_value_map_put_str(map, "notifications_minimum_severity", gj_value_string(sev)) != 0)
            return gj__error_set(err, GJ_ENOMEM, "%s: out of memory", c->endpoint);
    }
    if (disabled) {
        gj_value *list = NULL;
        if (gj_value_new_list(&list, 4) != 0)
            return gj__error_set(err, GJ_ENOMEM, "%s: out of memory", c->endpoint);
        int rc = 0;
        const char *s = NULL;
        size_t len = 0;
        if (gj_value_type(disabled) == GJ_TLIST) {
            for (size_t i = 0; !rc && i < gj_value_size(disabled); i++)
                rc = gj_value_string_get(gj_value_list_at(disabled, i), &s, &len) != 0 ? GJ_EINVAL
                     : append_class(list, s, len);
        } else if (gj_value_string_get(disabled, &s, &len) == 0) {
            /* "A,B,C" (a URL query or a config string) */
            while (!rc && len) {
                const char *comma = memchr(s, ',', len);
                size_t n = comma ? (size_t)(comma - s) : len;
                rc = append_class(list, s, n);
                s += comma ? n + 1 : n;
                len -= comma ? n + 1 : n;
            }
        } else {
            rc = GJ_EINVAL;
        }
        /* 5.2-5.4 call them categories, 5.5+ classifications. */
        const char *key = gj__bolt_version_at_least(&c->ps, 5, 5) ? "notifications_disabled_classifications"
                                                                  : "notifications_disabled_categories";
        if (!rc)
            rc = gj_value_map_put_str(map, key, list) != 0 ? GJ_ENOMEM : 0;
        else
            gj_value_unref(list);
        if (rc == GJ_EINVAL)
            return gj__error_set(err, bad_code, "%s: %s notifications_disabled_classifications must be a "
                                 "list of names (or a string \"A,B\") such as UNRECOGNIZED, DEPRECATION, HINT",
                                 c->endpoint, where);
        if (rc)
            return gj__error_set(err, GJ_ENOMEM, "%s: out of memory", c->endpoint);
    }
    return 0;
}

const gj_value *gj__bolt_disabled_classes(const gj_value *options)
{
    const gj_value *v = options ? gj_value_map_get(options, "notifications_disabled_classifications") : NULL;
    if (!v && options)
        v = gj_value_map_get(options, "notifications_disabled_categories");
    return v;
}

static gj_value *bolt_agent(void)
{
    gj_value *m = NULL;
    if (gj_value_new_map(&m, 4))
        return NULL;
    struct utsname u;
    char platform[200] = "unknown";
    if (uname(&u) == 0)
        snprintf(platform, sizeof platform, "%s %s; %s", u.sysname, u.release, u.machine);
    int rc = gj_value_map_put_str(m, "product", gj_value_string(USER_AGENT));
    rc |= gj_value_map_put_str(m, "platform", gj_value_string(platform));
    rc |= gj_value_map_put_str(m, "language", gj_value_string("C/11"));
    if (rc) {
        gj_value_unref(m);
        return NULL;
    }
    return m;
}

/* Send one message with a map field and read its summary: SUCCESS gives
 * *meta (a new reference), FAILURE gives auth_code. */
static int roundtrip_map(gj_conn *c, uint8_t tag, const gj_value *map, int fail_code, gj_value **meta,
                         int64_t deadline_ms, gj_error *err)
{
    int rc = gj__bolt_write_map(&c->wbuf, &c->ps, tag, map, err);
    if (rc)
        return rc;
    rc = gj__bolt_flush(c, deadline_ms, err);
    if (rc)
        return rc;
    gj_bolt_msg m;
    for (;;) {
        rc = gj__bolt_read_msg(c, &m, deadline_ms, c->connect_io, err);
        if (rc)
            return rc;
        if (m.tag != GJ_BOLT_RECORD)
            break;
        gj__bolt_msg_clear(&m);
    }
    if (m.tag == GJ_BOLT_SUCCESS) {
        *meta = m.fields[0];
        m.fields[0] = NULL;
        gj__bolt_msg_clear(&m);
        return 0;
    }
    if (m.tag == GJ_BOLT_FAILURE) {
        c->broken = true;   /* a failed HELLO / LOGON: the server closes */
        const char *scode = NULL;
        if (gj__bolt_meta_string(m.fields[0], "neo4j_code", &scode, NULL) != 0)
            gj__bolt_meta_string(m.fields[0], "code", &scode, NULL);
        if (scode && strstr(scode, ".Security."))
            fail_code = GJ_EAUTH;
        rc = gj__bolt_failure(c, m.fields[0], fail_code, err);
        gj__bolt_msg_clear(&m);
        return rc;
    }
    gj__bolt_msg_clear(&m);
    return gj__error_set(err, GJ_EPROTOCOL, "%s: unexpected %s in answer to %s", c->endpoint,
                         gj__bolt_msg_name(m.tag, GJ_BOLT_RESPONSE), gj__bolt_msg_name(tag, GJ_BOLT_REQUEST));
}

static int hello(gj_conn *c, const gj_target_settings *ts, const char *routing_address, int64_t deadline_ms,
                 gj_error *err)
{
    bool logon = gj__bolt_version_at_least(&c->ps, 5, 1);
    gj_value *extra = NULL;
    if (gj_value_new_map(&extra, 8))
        return gj__error_set(err, GJ_ENOMEM, "%s: out of memory for HELLO", c->endpoint);
    int rc = gj_value_map_put_str(extra, "user_agent", gj_value_string(USER_AGENT));
    if (routing_address) {
        gj_value *routing = NULL;
        rc |= gj_value_new_map(&routing, 1);
        if (routing) {
            rc |= gj_value_map_put_str(routing, "address", gj_value_string(routing_address));
            rc |= gj_value_map_put_str(extra, "routing", routing);
        }
    }
    if (gj__bolt_version_at_least(&c->ps, 5, 3)) {
        gj_value *agent = bolt_agent();
        rc |= agent ? gj_value_map_put_str(extra, "bolt_agent", agent) : GJ_ENOMEM;
    }
    if (c->ps.bolt_major == 4) {
        gj_value *patches = NULL;
        rc |= gj_value_new_list(&patches, 1);
        if (patches) {
            rc |= gj_value_list_append(patches, gj_value_string("utc"));
            rc |= gj_value_map_put_str(extra, "patch_bolt", patches);
        }
    }
    if (rc) {
        gj_value_unref(extra);
        return gj__error_set(err, GJ_ENOMEM, "%s: out of memory for HELLO", c->endpoint);
    }
    rc = gj__bolt_put_notification_filter(
        extra, c, ts->options ? gj_value_map_get(ts->options, "notifications_minimum_severity") : NULL,
        gj__bolt_disabled_classes(ts->options), "target option", GJ_ECONFIG, err);
    if (rc) {
        gj_value_unref(extra);
        return rc;
    }
    gj_bolt_auth auth;
    if ((rc = gj__bolt_auth_of_target(ts, &auth, c->endpoint, err)) != 0 ||
        (!logon && (rc = gj__bolt_auth_put(extra, &auth, c->endpoint, err)) != 0)) {
        gj_value_unref(extra);
        return rc;
    }
    gj__bolt_auth_id(&auth, c->auth_id);
    memcpy(c->target_auth_id, c->auth_id, sizeof c->auth_id);
    gj_value *meta = NULL;
    rc = roundtrip_map(c, GJ_BOLT_HELLO, extra, GJ_ESERVER, &meta, deadline_ms, err);
    gj_value_unref(extra);   /* holds the credentials: dropped at once */
    if (c->wbuf.data)
        explicit_bzero(c->wbuf.data, c->wbuf.cap);
    if (rc)
        return rc;
    const char *s;
    size_t len;
    if (gj__bolt_meta_string(meta, "server", &s, &len) == 0)
        c->server_agent = gj__strndup(s, len);
    if (gj__bolt_meta_string(meta, "connection_id", &s, &len) == 0)
        c->connection_id = gj__strndup(s, len);
    const gj_value *hints = gj_value_map_get(meta, "hints");
    int64_t secs = 0;
    if (hints && gj_value_type(hints) == GJ_TMAP &&
        gj__bolt_meta_int(hints, "connection.recv_timeout_seconds", &secs) == 0 && secs > 0 &&
        secs < INT64_C(1) << 40)
        c->recv_timeout_hint_ms = secs * 1000;
    bool hint = false;
    if (hints && gj_value_type(hints) == GJ_TMAP && gj__bolt_meta_bool(hints, "telemetry.enabled", &hint) == 0 &&
        hint && gj__bolt_version_at_least(&c->ps, 5, 4) && !telemetry_disabled(ts))
        c->telemetry = true;
    const gj_value *patches = gj_value_map_get(meta, "patch_bolt");
    if (c->ps.bolt_major == 4 && patches && gj_value_type(patches) == GJ_TLIST) {
        for (size_t i = 0; i < gj_value_size(patches); i++) {
            const char *p;
            size_t plen;
            if (gj_value_string_get(gj_value_list_at(patches, i), &p, &plen) == 0 && plen == 3 &&
                memcmp(p, "utc", 3) == 0)
                c->ps.utc_patch = true;
        }
    }
    gj_value_unref(meta);
    if (!logon)
        return 0;

    gj_value *token = NULL;
    if (gj_value_new_map(&token, 3))
        return gj__error_set(err, GJ_ENOMEM, "%s: out of memory for LOGON", c->endpoint);
    rc = gj__bolt_auth_put(token, &auth, c->endpoint, err);
    if (!rc)
        rc = roundtrip_map(c, GJ_BOLT_LOGON, token, GJ_ESERVER, &meta, deadline_ms, err);   /* .Security.: GJ_EAUTH */
    gj_value_unref(token);
    if (c->wbuf.data)
        explicit_bzero(c->wbuf.data, c->wbuf.cap);
    if (!rc)
        gj_value_unref(meta);
    return rc;
}

/* ---- vtable ------------------------------------------------------------------- */

static void bolt_free(gj_conn *c)
{
    gj__tcp_destroy(&c->tcp);
    gj__dechunk_free(&c->dechunker);
    gj__ps_buf_free(&c->wbuf);
    free(c->rbuf);
    free(c->server_agent);
    free(c->connection_id);
    free(c->database);
    free(c->host);
    free(c->routing_address);
    free(c);
}

int gj__bolt_session_open(gj_conn **out, const gj_endpoint *ep, const gj_target_settings *ts,
                          const gj_logger *log, const char *routing_address, const gj_abort *abort,
                          int64_t deadline_ms, gj_error *err)
{
    *out = NULL;
    gj_conn *c = calloc(1, sizeof *c);
    if (!c)
        return gj__error_set(err, GJ_ENOMEM, "%s:%d: out of memory", ep->host, ep->port);
    c->tcp.fd = c->tcp.wake_fd = -1;
    c->log = log;
    c->target = ep->target_ctx;
    if (strchr(ep->host, ':'))
        snprintf(c->endpoint, sizeof c->endpoint, "[%s]:%d", ep->host, ep->port);
    else
        snprintf(c->endpoint, sizeof c->endpoint, "%s:%d", ep->host, ep->port);
    /* Every message starts with the endpoint, as the other backends' do:
     * "127.0.0.1:7687: connection closed by the server", and a server's
     * error "127.0.0.1:7687: bolt [Neo.ClientError..., GQL 42001] ...". */
    int rc = gj__tcp_init(&c->tcp, c->endpoint, err);
    if (rc) {
        free(c);
        return rc;
    }
    c->max_message_size = ts->max_message_size ? ts->max_message_size : (size_t)64 << 20;
    gj__dechunk_init(&c->dechunker, c->max_message_size);
    gj__ps_buf_init(&c->wbuf, c->max_message_size + gj__chunk_overhead(c->max_message_size) + 64);
    c->rbuf = malloc(GJ_BOLT_RECV_BUF);
    c->ps.bolt_major = 5;
    c->ps.zone_offset = gj__bolt_zone_offset;   /* zone ids: the system's time-zone database */
    c->ps.zone_arg = c->target;
    c->ts = ts;
    if (ts->database && !(c->database = gj__strdup(ts->database))) {
        bolt_free(c);
        return gj__error_set(err, GJ_ENOMEM, "%s:%d: out of memory", ep->host, ep->port);
    }
    c->host = gj__strdup(ep->host);
    c->port = ep->port;
    if (routing_address)
        c->routing_address = gj__strdup(routing_address);
    if (!c->rbuf || !c->host || (routing_address && !c->routing_address)) {
        bolt_free(c);
        return gj__error_set(err, GJ_ENOMEM, "%s:%d: out of memory", ep->host, ep->port);
    }
    c->connect_io = 0;
    c->connecting = true;
    rc = sock_open(c, ep->host, ep->port, ts, abort, deadline_ms, err);
    if (!rc)
        rc = handshake(c, deadline_ms, err);
    if (!rc)
        rc = hello(c, ts, routing_address, deadline_ms, err);
    c->connecting = false;
    gj__tcp_set_abort(&c->tcp, NULL);   /* the caller's, valid during the call only */
    if (rc) {
        bolt_free(c);
        return rc;
    }
    gj__log(log, GJ_LOG_DEBUG, "bolt %s: connected, Bolt %u.%u, server %s, connection %s", c->endpoint,
            c->ps.bolt_major, c->ps.bolt_minor, c->server_agent ? c->server_agent : "?",
            c->connection_id ? c->connection_id : "?");
    *out = c;
    return 0;
}

int gj__bolt_session_reopen(gj_conn *c, int64_t deadline_ms, gj_error *err)
{
    gj__tcp_close_stream(&c->tcp);
    c->rpos = c->rlen = 0;
    gj__dechunk_reset(&c->dechunker);
    gj__ps_buf_reset(&c->wbuf);
    c->n_pending = 0;
    free(c->server_agent);
    free(c->connection_id);
    c->server_agent = c->connection_id = NULL;
    c->recv_timeout_hint_ms = 0;
    c->telemetry = false;
    memset(&c->ps, 0, sizeof c->ps);
    c->ps.bolt_major = 5;
    c->ps.zone_offset = gj__bolt_zone_offset;
    c->ps.zone_arg = c->target;
    c->broken = false;
    /* Inside execute(): an interrupt ends the reconnect too. */
    c->connect_io = GJ_TCP_INTERRUPTIBLE;
    c->connecting = true;
    int rc = sock_open(c, c->host, c->port, c->ts, NULL, deadline_ms, err);
    if (!rc)
        rc = handshake(c, deadline_ms, err);
    if (!rc)
        rc = hello(c, c->ts, c->routing_address, deadline_ms, err);
    c->connect_io = 0;
    c->connecting = false;
    if (rc) {
        c->broken = true;
        return rc;
    }
    gj__log(c->log, GJ_LOG_INFO, "bolt %s: the server had closed the idle connection; reconnected (Bolt %u.%u, "
            "connection %s)", c->endpoint, c->ps.bolt_major, c->ps.bolt_minor,
            c->connection_id ? c->connection_id : "?");
    return 0;
}

int gj__bolt_session_ping(gj_conn *c, int64_t deadline_ms)
{
    if (c->broken)
        return GJ_EIO;
    gj_error *err = gj_error_new();
    int rc = gj__bolt_reset(c, deadline_ms, err);
    if (rc && GJ__LOG_ON(c->log, GJ_LOG_DEBUG))
        gj__log(c->log, GJ_LOG_DEBUG, "bolt %s: liveness check failed: %s", c->endpoint,
                err ? gj_error_message(err) : gj_strerror(rc));
    gj_error_free(err);
    return rc;
}

void gj__bolt_session_close(gj_conn *c)
{
    if (!c)
        return;
    if (!c->broken && !c->tcp.broken && c->tcp.fd >= 0) {
        /* GOODBYE only when it can go at once: a full send buffer (a peer
         * that stopped reading) must not hold the close. */
        gj_error *err = gj_error_new();
        if (gj__bolt_write_empty(&c->wbuf, GJ_BOLT_GOODBYE, err) == 0)
            gj__bolt_flush(c, gj__now_ms() + 50, err);
        gj_error_free(err);
    }
    bolt_free(c);
}

static bool routed_scheme(const gj_target_settings *ts)
{
    return ts->scheme && strncmp(ts->scheme, "neo4j", 5) == 0;
}

static int bolt_connect(gj_conn **out, const gj_endpoint *ep, const gj_target_settings *ts,
                        const gj_logger *log, const gj_abort *abort, int64_t deadline_ms, gj_error *err)
{
    if (routed_scheme(ts))
        return gj__bolt_router_open(out, ep, ts, log, abort, deadline_ms, err);
    return gj__bolt_session_open(out, ep, ts, log, NULL, abort, deadline_ms, err);
}

static int bolt_execute(gj_conn *c, const gj_request *req, gj_sink *sink, gj_error *err)
{
    gj_bolt_session *ss = gj__sink_session(sink);
    if (ss) {
        ss->jobs++;   /* numbers the session's jobs in its messages */
        bool done = false;
        const char *op = gj_request_op(req);
        int rc = gj__bolt_session_gate(c, ss, op ? op : "", &done, err);
        if (rc || done)
            return rc;
    }
    return c->router ? gj__bolt_router_execute(c, req, sink, err) : gj__bolt_execute(c, req, sink, err);
}

static void bolt_interrupt(gj_conn *c)
{
    if (c->router)
        gj__bolt_router_interrupt(c);
    else
        gj__bolt_interrupt(c);
}

static bool bolt_usable(gj_conn *c)
{
    return c->router ? gj__bolt_router_usable(c) : gj__bolt_usable(c);
}

static int bolt_ping(gj_conn *c, int64_t deadline_ms)
{
    return c->router ? gj__bolt_router_ping(c, deadline_ms) : gj__bolt_session_ping(c, deadline_ms);
}

static void bolt_settle(gj_conn *c, int64_t deadline_ms)
{
    if (c->router)
        gj__bolt_router_settle(c, deadline_ms);
    else
        gj__bolt_settle(c, deadline_ms);
}

static void bolt_close(gj_conn *c)
{
    if (c && c->router)
        gj__bolt_router_close(c);
    else
        gj__bolt_session_close(c);
}

static const char *const bolt_schemes[] = {
    "bolt", "bolt+s", "bolt+ssc", "neo4j", "neo4j+s", "neo4j+ssc", NULL
};

const gj_backend gj_bolt_backend = {
    .name = "bolt",
    .schemes = bolt_schemes,
    .default_port = GJ_BOLT_DEFAULT_PORT,
    .connect = bolt_connect,
    .execute = bolt_execute,
    .settle = bolt_settle,
    .interrupt = bolt_interrupt,
    .usable = bolt_usable,
    .ping = bolt_ping,
    .close = bolt_close,
    .max_inflight = 1,
    .target_open = gj__bolt_target_open,
    .target_close = gj__bolt_target_close,
    .session_check = gj__bolt_session_check,
    .session_open = gj__bolt_session_begin,
    .session_close = gj__bolt_session_end,
};
