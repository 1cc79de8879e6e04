/*
 * The connection manager: cluster discovery (pool_internal.h).
 *
 * With the target option discover: true and a backend that has
 * discover(), the pool asks the server behind a connection it just opened
 * (the first one, then whenever the interval has passed, also on an idle
 * connection being handed out) for the members of its cluster.  The hosts
 * are the seeds (the target's hosts) followed by what discovery added; the
 * active ones (those the last discovery listed, or every seed before any
 * discovery) are served round robin, and the seeds it did not list stay as
 * the fallback when every active host is down (the next connect then asks
 * again).  Discovered names are never freed before the pool, so an index or
 * name taken under the lock stays valid while it is released.
 */
#include "core/pool_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define POOL_DISCOVER_INTERVAL_MS INT64_C(60000)
#define POOL_DISCOVER_INTERVAL_MAX_MS INT64_C(86400000)

/* Under the lock: should a connection now be used to ask for the cluster's
 * members?  If so the turn is taken (discovering). */
bool gj__pool_discovery_turn(gj_pool *p, int64_t now, int64_t deadline)
{
    if (!p->discover || p->discovering || p->shutdown || now < p->next_discover_ms ||
        now >= deadline)
        return false;
    p->discovering = true;
    return true;
}

static size_t find_host(const gj_pool *p, const char *name, int port)
{
    for (size_t i = 0; i < p->n_hosts; i++)
        if (p->hosts[i].port == port && strcmp(p->hosts[i].name, name) == 0)
            return i;
    return NO_HOST;
}

/* Under the lock: make the discovered hosts (taken over; their names are
 * kept or freed here) the active ones.  Returns how many are active. */
static size_t apply_discovery(gj_pool *p, gj_host *found, size_t n_found)
{
    for (size_t i = 0; i < p->n_hosts; i++)
        p->hosts[i].active = false;
    size_t active = 0;
    for (size_t i = 0; i < n_found; i++) {
        char *name = found[i].host;
        found[i].host = NULL;
        int port = found[i].port;
        bool valid = name && name[0] && port > 0 && port <= 65535;
        size_t h = valid ? find_host(p, name, port) : NO_HOST;
        if (valid && h == NO_HOST && p->n_hosts < POOL_MAX_HOSTS) {
            if (p->n_hosts == p->hosts_cap) {
                size_t cap = p->hosts_cap * 2 > POOL_MAX_HOSTS ? POOL_MAX_HOSTS : p->hosts_cap * 2;
                pool_host *grown = realloc(p->hosts, cap * sizeof *grown);
                if (grown) {
                    memset(grown + p->hosts_cap, 0, (cap - p->hosts_cap) * sizeof *grown);
                    p->hosts = grown;
                    p->hosts_cap = cap;
                }
            }
            if (p->n_hosts < p->hosts_cap) {
                h = p->n_hosts++;
                pool_host *host = &p->hosts[h];
                memset(host, 0, sizeof *host);
                host->owned = name;
                host->name = name;
                host->port = port;
                host->backoff_ms = p->backoff_base_ms;
                gj__pool_append_endpoint(p, p->names, sizeof p->names, h);
                name = NULL;
            }
        }
        if (h < p->n_hosts) {
            active += !p->hosts[h].active;
            p->hosts[h].active = true;
        }
        free(name);
    }
    return active;
}

/* Called without the lock by the holder of a discovery turn, on connection
 * c to `ep` ("host:port") that it holds: ask the backend, log, then book the
 * outcome under the lock and give the turn back. */
void gj__pool_discover_unlocked(gj_pool *p, gj_conn *c, const char *ep, int64_t deadline)
{
    const char *tname = p->ts.name ? p->ts.name : "default";
    gj_host *found = NULL;
    size_t n_found = 0;
    gj_error *e = gj_error_new();
    int rc = e ? p->backend->discover(c, deadline, &found, &n_found, e) : GJ_ENOMEM;
    if (rc == 0 && n_found == 0)
        rc = gj__error_set(e, GJ_EPROTOCOL, "%s listed no endpoints", ep);
    pthread_mutex_lock(&p->mu);
    int64_t now = gj__now_ms();
    size_t active = 0;
    char names[POOL_NAMES_MAX] = "";
    if (rc == 0) {
        active = apply_discovery(p, found, n_found);
        p->discovered = active > 0;
        if (!active)   /* nothing usable (out of memory): back to the seeds */
            for (size_t i = 0; i < p->n_hosts; i++)
                p->hosts[i].active = p->hosts[i].seed;
        for (size_t i = 0; i < p->n_hosts; i++)
            if (p->hosts[i].active)
                gj__pool_append_endpoint(p, names, sizeof names, i);
        gj__pool_kick(p);
    }
    if (rc == GJ_EUNSUPPORTED)
        p->discover = false;   /* a single server: keep the configured hosts */
    else
        p->next_discover_ms = now + p->discover_interval_ms;
    p->discovering = false;
    pthread_mutex_unlock(&p->mu);
    for (size_t i = 0; i < n_found; i++)
        free(found[i].host);
    free(found);
    const char *why = e && gj_error_message(e)[0] ? gj_error_message(e) : gj_strerror(rc);
    if (rc == 0)
        gj__log(&p->log, GJ_LOG_INFO, "%s pool '%s': discovery at %s: %zu endpoints, serving %s",
                p->backend->name, tname, ep, active, names);
    else if (rc == GJ_EUNSUPPORTED)
        gj__log(&p->log, GJ_LOG_INFO, "%s pool '%s': %s is not part of a cluster (%s); "
                "keeping the configured hosts", p->backend->name, tname, ep, why);
    else
        gj__log(&p->log, GJ_LOG_WARN, "%s pool '%s': discovery at %s failed (%s); keeping the "
                "current hosts, next attempt in %lld ms", p->backend->name, tname, ep, why,
                (long long)p->discover_interval_ms);
    gj_error_free(e);
}


void gj__pool_discovery_init(gj_pool *p)
{
    if (!p->backend->discover || !p->ts.options)
        return;
    p->discover = gj__value_truthy(gj_value_map_get(p->ts.options, "discover"));
    int64_t iv = 0;
    const gj_value *v = gj_value_map_get(p->ts.options, "discover_interval");
    p->discover_interval_ms = v && gj_value_int_get(v, &iv) == 0 && iv > 0
                                  ? (iv > POOL_DISCOVER_INTERVAL_MAX_MS ? POOL_DISCOVER_INTERVAL_MAX_MS : iv)
                                  : POOL_DISCOVER_INTERVAL_MS;
}
