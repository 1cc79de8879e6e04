/*
 * ArangoDB backend: the coordinators of a cluster.
 *
 * Discovery: GET /_api/cluster/endpoints answers {"error": false, "code":
 * 200, "endpoints": [{"endpoint": "tcp://host:port"}, ...]} on a
 * coordinator ("ssl://" when the cluster speaks TLS); a single server
 * answers 403 (older versions) or 501: it is not part of a cluster.  The
 * pool asks through the backend's discover() (target option discover); a
 * connection also keeps the list for itself, as the coordinators it may
 * fail over to.
 *
 * Failover: an idempotent call (GET, HEAD) that is not bound to its
 * coordinator (no stream transaction, not a cursor, a server job or a
 * transaction path) and whose connection failed — refused, reset or closed
 * before the reply was complete — is sent again to the next other
 * coordinator this connection knows (the target's hosts, or the discovered
 * ones), each tried once, within the call's deadline.  The connection is then
 * not reused after the job (the pool opens a new one where its bookkeeping
 * says, and marks the dead host down when it fails to connect there).  A
 * call that is not idempotent is never sent twice.
 */
#include "backend/arango/arango_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How fresh a connection's own endpoint list must be for discover() to
 * answer from it instead of asking again (the pool asks right after the
 * connect that fetched it). */
#define PEERS_FRESH_MS 1000

void gj__arango_peers_free(gj_conn *c)
{
    for (size_t i = 0; i < c->n_peers; i++)
        free(c->peers[i].host);
    free(c->peers);
    c->peers = NULL;
    c->n_peers = 0;
}

static void hosts_free(gj_host *h, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(h[i].host);
    free(h);
}

static int hosts_copy(const gj_host *src, size_t n, gj_host **out)
{
    *out = NULL;
    if (n == 0)
        return 0;
    gj_host *h = calloc(n, sizeof *h);
    if (!h)
        return GJ_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        h[i].port = src[i].port;
        if (!(h[i].host = gj__strdup(src[i].host))) {
            hosts_free(h, n);
            return GJ_ENOMEM;
        }
    }
    *out = h;
    return 0;
}

int gj__arango_peers_init(gj_conn *c, const gj_target_settings *ts, int default_port)
{
    gj__arango_peers_free(c);
    size_t n = ts->n_hosts > GJ__ARANGO_MAX_PEERS ? GJ__ARANGO_MAX_PEERS : ts->n_hosts;
    if (n == 0)
        return 0;
    gj_host *h = calloc(n, sizeof *h);
    if (!h)
        return GJ_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        const gj_host *s = &ts->hosts[i];
        h[i].port = s->port ? s->port : ts->port ? ts->port : default_port;
        if (!s->host || !(h[i].host = gj__strdup(s->host))) {
            hosts_free(h, i);
            return GJ_ENOMEM;
        }
    }
    c->peers = h;
    c->n_peers = n;
    return 0;
}

/* "tcp://host:port", "ssl://[v6]:port" into a host (malloc'd) and port.
 * Returns 0, or -1 when the endpoint is not one this connection can use
 * (another scheme, a unix socket, malformed). */
static int parse_endpoint(const char *ep, bool tls, char **host, int *port)
{
    const char *rest = NULL;
    static const char *const plain[] = { "tcp://", "http://", NULL };
    static const char *const secure[] = { "ssl://", "https://", NULL };
    const char *const *schemes = tls ? secure : plain;
    for (size_t i = 0; schemes[i] && !rest; i++)
        if (strncmp(ep, schemes[i], strlen(schemes[i])) == 0)
            rest = ep + strlen(schemes[i]);
    if (!rest)
        return -1;
    const char *h = rest, *h_end, *colon;
    if (*rest == '[') {
        h = rest + 1;
        h_end = strchr(h, ']');
        if (!h_end || h_end[1] != ':')
            return -1;
        colon = h_end + 1;
    } else {
        colon = strrchr(rest, ':');
        if (!colon || memchr(rest, ':', (size_t)(colon - rest)))
            return -1;
        h_end = colon;
    }
    size_t hlen = (size_t)(h_end - h);
    if (hlen == 0 || hlen > 255)
        return -1;
    char *end = NULL;
    long p = strtol(colon + 1, &end, 10);
    if (end == colon + 1 || (*end && *end != '/') || p <= 0 || p > 65535)
        return -1;
    char *copy = malloc(hlen + 1);
    if (!copy)
        return -1;
    memcpy(copy, h, hlen);
    copy[hlen] = '\0';
    *host = copy;
    *port = (int)p;
    return 0;
}

/* GET /_api/cluster/endpoints on c. */
static int fetch_endpoints(gj_conn *c, int64_t deadline, gj_host **out, size_t *n_out,
                           gj_error *err)
{
    *out = NULL;
    *n_out = 0;
    gj__arango_call call = { "GET", NULL, "/_api/cluster/endpoints", NULL, 0, NULL, NULL, true,
                             deadline };
    gj__arango_reply reply = { 0, NULL };
    bool store = c->async_store, fire = c->async_fire, detach = c->async_detach;
    c->async_store = c->async_fire = c->async_detach = false;
    int rc = gj__arango_perform(c, &call, &reply, err);
    c->async_store = store;
    c->async_fire = fire;
    c->async_detach = detach;
    if (rc)
        return rc;
    const char *what = "GET /_api/cluster/endpoints";
    if (reply.status == 403 || reply.status == 404 || reply.status == 501) {
        /* A single server (403 before 3.12, 501 since; 404 where unknown). */
        long status = reply.status;
        char said[256] = "";
        if (gj__arango_reply_error(c, &reply, what, err) && err)
            snprintf(said, sizeof said, "%s", gj_error_message(err));
        gj__arango_reply_clear(&reply);
        return gj__error_set(err, GJ_EUNSUPPORTED, "not a cluster coordinator (HTTP %ld: %s)",
                             status, said);
    }
    if (reply.status >= 400) {
        rc = gj__arango_reply_error(c, &reply, what, err);
        gj__arango_reply_clear(&reply);
        return rc;
    }
    json_object *list = NULL;
    if (reply.status != 200 || !reply.json ||
        !json_object_object_get_ex(reply.json, "endpoints", &list) ||
        !json_object_is_type(list, json_type_array)) {
        gj__arango_reply_clear(&reply);
        return gj__error_set(err, GJ_EPROTOCOL, "%s: %s answered HTTP %ld without an endpoints "
                             "array", c->hostport, what, reply.status);
    }
    size_t n = json_object_array_length(list);
    if (n > GJ__ARANGO_MAX_PEERS)
        n = GJ__ARANGO_MAX_PEERS;
    gj_host *hosts = n ? calloc(n, sizeof *hosts) : NULL;
    if (n && !hosts) {
        gj__arango_reply_clear(&reply);
        return gj__error_set(err, GJ_ENOMEM, "%s: out of memory for the endpoints", c->hostport);
    }
    size_t used = 0, skipped = 0;
    bool tls = strncmp(c->base_url, "https:", 6) == 0;
    for (size_t i = 0; i < n; i++) {
        json_object *item = json_object_array_get_idx(list, i), *ep = NULL;
        if (!json_object_is_type(item, json_type_object) ||
            !json_object_object_get_ex(item, "endpoint", &ep) ||
            !json_object_is_type(ep, json_type_string) ||
            parse_endpoint(json_object_get_string(ep), tls, &hosts[used].host,
                           &hosts[used].port) != 0) {
            skipped++;
            continue;
        }
        used++;
    }
    gj__arango_reply_clear(&reply);
    if (skipped)
        gj__log(c->log, GJ_LOG_INFO, "arango %s: %zu of the cluster's endpoints skipped (not %s "
                "host:port)", c->hostport, skipped, tls ? "ssl://" : "tcp://");
    if (used == 0) {
        free(hosts);
        return gj__error_set(err, GJ_EPROTOCOL, "%s: %s listed no %s endpoint", c->hostport, what,
                             tls ? "ssl://" : "tcp://");
    }
    *out = hosts;
    *n_out = used;
    return 0;
}

int gj__arango_refresh_peers(gj_conn *c, int64_t deadline, gj_error *err)
{
    gj_host *hosts = NULL;
    size_t n = 0;
    int rc = fetch_endpoints(c, deadline, &hosts, &n, err);
    if (rc == GJ_EUNSUPPORTED)
        c->single_at_ms = gj__now_ms();
    if (rc)
        return rc;
    gj__arango_peers_free(c);
    c->peers = hosts;
    c->n_peers = n;
    c->peers_at_ms = gj__now_ms();
    return 0;
}

int gj__arango_discover(gj_conn *c, int64_t deadline_ms, gj_host **out, size_t *n_out,
                        gj_error *err)
{
    *out = NULL;
    *n_out = 0;
    if (c->single_at_ms && gj__now_ms() - c->single_at_ms < PEERS_FRESH_MS)
        return gj__error_set(err, GJ_EUNSUPPORTED, "not a cluster coordinator (it said so "
                             "when this connection opened)");
    if (!(c->peers_at_ms && gj__now_ms() - c->peers_at_ms < PEERS_FRESH_MS)) {
        int rc = gj__arango_refresh_peers(c, deadline_ms, err);
        if (rc)
            return rc;
    }
    if (hosts_copy(c->peers, c->n_peers, out) != 0)
        return gj__error_set(err, GJ_ENOMEM, "%s: out of memory for the endpoints", c->hostport);
    *n_out = c->n_peers;
    return 0;
}

/* ---- failover --------------------------------------------------------------- */

/* Paths whose state lives on one coordinator. */
static bool pinned_path(const char *path)
{
    static const char *const pinned[] = { "/_api/job", "/_admin/job", "/_api/cursor",
                                          "/_api/transaction", NULL };
    for (size_t i = 0; pinned[i]; i++)
        if (strncmp(path, pinned[i], strlen(pinned[i])) == 0)
            return true;
    return false;
}

/* Point c at host:port (the same scheme).  0 or GJ_ENOMEM. */
static int retarget(gj_conn *c, const char *host, int port)
{
    bool tls = strncmp(c->base_url, "https:", 6) == 0;
    bool v6 = strchr(host, ':') != NULL;
    size_t n = strlen(host) + 32;
    char *base = malloc(n), *hp = malloc(n);
    if (!base || !hp) {
        free(base);
        free(hp);
        return GJ_ENOMEM;
    }
    snprintf(base, n, "%s://%s%s%s:%d", tls ? "https" : "http", v6 ? "[" : "", host,
             v6 ? "]" : "", port);
    snprintf(hp, n, "%s%s%s:%d", v6 ? "[" : "", host, v6 ? "]" : "", port);
    if (gj__http_set_base(c->http, base, hp, NULL) != 0) {
        free(base);
        free(hp);
        return GJ_ENOMEM;
    }
    free(c->base_url);
    free(c->hostport);
    c->base_url = base;
    c->hostport = hp;
    return 0;
}

/* Is h the coordinator named "host:port" (IPv6 in brackets)? */
static bool host_is(const gj_host *h, const char *hostport)
{
    char hp[300];
    bool v6 = strchr(h->host, ':') != NULL;
    snprintf(hp, sizeof hp, "%s%s%s:%d", v6 ? "[" : "", h->host, v6 ? "]" : "", h->port);
    return strcmp(hp, hostport) == 0;
}

int gj__arango_perform_failover(gj_conn *c, const gj__arango_call *call,
                                gj__arango_reply *reply, gj_error *err)
{
    bool store = c->async_store, fire = c->async_fire, detach = c->async_detach;
    int rc = gj__arango_perform(c, call, reply, err);
    if ((rc != GJ_ECONNECT && rc != GJ_EIO) || !call->idempotent || call->trx_id ||
        pinned_path(call->path) || c->n_peers < 2)
        return rc;
    /* Start after this coordinator in the list, so that connections to
     * different coordinators spread their retries. */
    size_t start = 0;
    for (size_t i = 0; i < c->n_peers; i++)
        if (host_is(&c->peers[i], c->hostport))
            start = i + 1;
    char first[256];
    snprintf(first, sizeof first, "%s", err ? gj_error_message(err) : gj_strerror(rc));
    char *from = gj__strdup(c->hostport);
    if (!from)
        return rc;
    for (size_t k = 0; k < c->n_peers && (rc == GJ_ECONNECT || rc == GJ_EIO); k++) {
        const gj_host *h = &c->peers[(start + k) % c->n_peers];
        if (host_is(h, from) || host_is(h, c->hostport))
            continue;
        if (gj__http_interrupt_pending(c->http) ||
            (call->deadline_ms != INT64_MAX && gj__now_ms() >= call->deadline_ms))
            break;
        if (retarget(c, h->host, h->port) != 0)
            break;
        c->broken = true;   /* not reused after this job: the pool reconnects */
        gj__log(c->log, GJ_LOG_INFO, "arango %s: %s %s failed (%s); trying %s", from,
                call->method, call->path, first, c->hostport);
        c->async_store = store;
        c->async_fire = fire;
        c->async_detach = detach;
        gj__arango_reply_clear(reply);
        if (err)
            gj_error_clear(err);
        rc = gj__arango_perform(c, call, reply, err);
    }
    if (rc && strcmp(from, c->hostport) != 0)
        gj__error_prefix(err, "%s failed (%s), then", from, first);
    free(from);
    return rc;
}
