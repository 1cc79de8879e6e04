/*
 * neo4j:// routing.  A routed connection is a small set of direct sessions
 * (one per cluster member it has used) plus the routing table it got with
 * ROUTE from a router: readers, writers, routers, and a time to live.
 *
 * execute() picks the role from the request's mode (option "mode" r → a
 * reader, otherwise a writer), refreshes the table when it expired or is for
 * another database, and runs the request on that member's session (opened
 * when first needed).  A member that cannot be reached is dropped from the
 * table and the next one is tried; a write that fails with NotALeader or
 * ForbiddenOnReadOnlyDatabase drops that writer, refreshes the table and is
 * retried once.
 *
 * interrupt() is forwarded to the member session running the request (under
 * a short mutex, so the session cannot be closed meanwhile); recorded on the
 * routed connection when none runs, and honoured by the next execute().
 */
#include "backend/bolt/bolt.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ADDRS 32u       /* per role */
#define MAX_MEMBERS 16u     /* member sessions kept open */
#define ADDR_MAX 300u

typedef enum { ROLE_ROUTE = 0, ROLE_READ = 1, ROLE_WRITE = 2, N_ROLES = 3 } role;

static const char *const role_names[N_ROLES] = { "ROUTE", "READ", "WRITE" };

typedef struct member {
    char address[ADDR_MAX];
    gj_conn *conn;
} member;

struct gj_bolt_router {
    const gj_target_settings *ts;   /* the pool's copy: outlives the connection */
    const gj_logger *log;
    char seed[ADDR_MAX];            /* the URL's host:port: the first router */

    bool have_table;
    char table_db[128];
    int64_t expires_ms;
    char addrs[N_ROLES][MAX_ADDRS][ADDR_MAX];
    size_t n_addrs[N_ROLES];
    unsigned next[N_ROLES];         /* round robin */

    member members[MAX_MEMBERS];
    size_t n_members;

    pthread_mutex_t mu;             /* active, interrupted */
    gj_conn *active;
    bool interrupted;
    bool broken;
};

/* ---- addresses ------------------------------------------------------------------ */

static int parse_address(const char *addr, char *host, size_t hostlen, int *port)
{
    const char *colon = strrchr(addr, ':');
    if (!colon || colon == addr)
        return -1;
    const char *h = addr;
    size_t n = (size_t)(colon - addr);
    if (h[0] == '[') {
        if (n < 2 || h[n - 1] != ']')
            return -1;
        h++;
        n -= 2;
    }
    char *end;
    long p = strtol(colon + 1, &end, 10);
    if (*end || p <= 0 || p > 65535 || n == 0 || n >= hostlen)
        return -1;
    memcpy(host, h, n);
    host[n] = '\0';
    *port = (int)p;
    return 0;
}

static void drop_address(gj_bolt_router *r, role ro, const char *addr)
{
    for (size_t i = 0; i < r->n_addrs[ro]; i++) {
        if (strcmp(r->addrs[ro][i], addr) == 0) {
            memmove(r->addrs[ro][i], r->addrs[ro][i + 1], (r->n_addrs[ro] - i - 1) * ADDR_MAX);
            r->n_addrs[ro]--;
            return;
        }
    }
}

/* ---- member sessions ------------------------------------------------------------ */

static void close_member(gj_bolt_router *r, size_t i)
{
    gj__bolt_session_close(r->members[i].conn);
    r->members[i] = r->members[--r->n_members];
}

static member *find_member(gj_bolt_router *r, const char *addr)
{
    for (size_t i = 0; i < r->n_members; i++)
        if (strcmp(r->members[i].address, addr) == 0)
            return &r->members[i];
    return NULL;
}

/* The session to addr, opened when needed. */
static int member_session(gj_bolt_router *r, const char *addr, int64_t deadline_ms, gj_conn **out, gj_error *err)
{
    member *m = find_member(r, addr);
    if (m) {
        *out = m->conn;
        return 0;
    }
    char host[ADDR_MAX];
    int port;
    if (parse_address(addr, host, sizeof host, &port) != 0)
        return gj__error_set(err, GJ_EPROTOCOL, "bolt %s: the routing table holds a bad address '%s'", r->seed, addr);
    if (r->n_members == MAX_MEMBERS)
        close_member(r, 0);
    gj_endpoint ep = { host, port, 0 };
    gj_conn *c = NULL;
    int rc = gj__bolt_session_open(&c, &ep, r->ts, r->log, r->seed, deadline_ms, err);
    if (rc)
        return rc;
    m = &r->members[r->n_members++];
    snprintf(m->address, sizeof m->address, "%s", addr);
    m->conn = c;
    *out = c;
    return 0;
}

/* ---- ROUTE ---------------------------------------------------------------------- */

static int parse_table(gj_bolt_router *r, const gj_value *rt, const char *from, gj_error *err)
{
    int64_t ttl = 0;
    const gj_value *servers = gj_value_map_get(rt, "servers");
    if (gj__bolt_meta_int(rt, "ttl", &ttl) != 0 || ttl < 0 || !servers || gj_value_type(servers) != GJ_TLIST)
        return gj__error_set(err, GJ_EPROTOCOL, "bolt %s: ROUTE answered without rt.ttl and rt.servers", from);
    memset(r->n_addrs, 0, sizeof r->n_addrs);
    for (size_t i = 0; i < gj_value_size(servers); i++) {
        const gj_value *srv = gj_value_list_at(servers, i);
        const char *rolename = NULL;
        const gj_value *addrs = gj_value_map_get(srv, "addresses");
        if (gj__bolt_meta_string(srv, "role", &rolename, NULL) != 0 || !addrs || gj_value_type(addrs) != GJ_TLIST)
            return gj__error_set(err, GJ_EPROTOCOL, "bolt %s: routing table entry %zu lacks role or addresses",
                                 from, i);
        int ro = -1;
        for (int k = 0; k < N_ROLES; k++)
            if (strcmp(rolename, role_names[k]) == 0)
                ro = k;
        if (ro < 0)
            continue;   /* a role this client does not use */
        for (size_t k = 0; k < gj_value_size(addrs); k++) {
            const char *a;
            size_t len;
            if (gj_value_string_get(gj_value_list_at(addrs, k), &a, &len) != 0 || len == 0 || len >= ADDR_MAX)
                return gj__error_set(err, GJ_EPROTOCOL, "bolt %s: bad address in the routing table", from);
            if (r->n_addrs[ro] < MAX_ADDRS) {
                memcpy(r->addrs[ro][r->n_addrs[ro]], a, len);
                r->addrs[ro][r->n_addrs[ro]++][len] = '\0';
            }
        }
    }
    if (r->n_addrs[ROLE_ROUTE] == 0)
        return gj__error_set(err, GJ_EPROTOCOL, "bolt %s: the routing table has no routers", from);
    if (ttl > INT64_C(86400) * 365)
        ttl = INT64_C(86400) * 365;
    r->expires_ms = gj__now_ms() + ttl * 1000;
    r->have_table = true;
    return 0;
}

/* ROUTE on one session; the table goes into r. */
static int route_on(gj_bolt_router *r, gj_conn *c, const char *db, const gj_value *bookmarks, int64_t deadline_ms,
                    gj_error *err)
{
    gj_value *routing = NULL, *extra = NULL;
    int rc = gj_value_new_map(&routing, 1);
    rc |= gj_value_new_map(&extra, 1);
    if (!rc)
        rc = gj_value_map_put_str(routing, "address", gj_value_string(r->seed));
    if (!rc && *db)
        rc = gj_value_map_put_str(extra, "db", gj_value_string(db));
    if (rc) {
        gj_value_unref(routing);
        gj_value_unref(extra);
        return gj__error_set(err, GJ_ENOMEM, "bolt %s: out of memory for ROUTE", c->endpoint);
    }
    rc = gj__bolt_write_route(&c->wbuf, &c->ps, routing, bookmarks, extra, err);
    gj_value_unref(routing);
    gj_value_unref(extra);
    if (!rc)
        rc = gj__bolt_push_pending(c, GJ_BOLT_ROUTE, err);
    if (!rc)
        rc = gj__bolt_flush(c, deadline_ms, err);
    if (rc) {
        c->broken = true;
        return rc;
    }
    gj_bolt_msg m;
    rc = gj__bolt_read_msg(c, &m, deadline_ms, false, err);
    if (rc)
        return rc;
    gj__bolt_pop_pending(c);
    if (m.tag == GJ_BOLT_SUCCESS) {
        const gj_value *rt = gj_value_map_get(m.fields[0], "rt");
        rc = rt && gj_value_type(rt) == GJ_TMAP ? parse_table(r, rt, c->endpoint, err)
                                                 : gj__error_set(err, GJ_EPROTOCOL,
                                                                 "bolt %s: ROUTE answered without rt", c->endpoint);
        if (!rc)
            snprintf(r->table_db, sizeof r->table_db, "%s", db);
    } else if (m.tag == GJ_BOLT_FAILURE) {
        rc = gj__bolt_failure(c, m.fields[0], GJ_ESERVER, err);
        gj_error *tmp = gj_error_new();
        gj__bolt_reset(c, deadline_ms, tmp);
        gj_error_free(tmp);
    } else {
        c->broken = true;
        rc = gj__error_set(err, GJ_EPROTOCOL, "bolt %s: ROUTE answered with %s", c->endpoint,
                           gj__bolt_msg_name(m.tag, GJ_BOLT_RESPONSE));
    }
    gj__bolt_msg_clear(&m);
    return rc;
}

/* Drop member sessions that are no longer usable. */
static void prune_members(gj_bolt_router *r)
{
    for (size_t i = r->n_members; i-- > 0;)
        if (!gj__bolt_usable(r->members[i].conn))
            close_member(r, i);
}

/* Refresh the table from the known routers, then the seed. */
static int refresh(gj_bolt_router *r, const char *db, const gj_value *bookmarks, int64_t deadline_ms, gj_error *err)
{
    char routers[MAX_ADDRS + 1][ADDR_MAX];
    size_t n = 0;
    for (size_t i = 0; r->have_table && i < r->n_addrs[ROLE_ROUTE]; i++)
        snprintf(routers[n++], ADDR_MAX, "%s", r->addrs[ROLE_ROUTE][i]);
    snprintf(routers[n++], ADDR_MAX, "%s", r->seed);
    int rc = GJ_ECONNECT;
    for (size_t i = 0; i < n; i++) {
        gj_conn *c = NULL;
        rc = member_session(r, routers[i], deadline_ms, &c, err);
        if (!rc)
            rc = route_on(r, c, db, bookmarks, deadline_ms, err);
        prune_members(r);
        if (!rc) {
            gj__log(r->log, GJ_LOG_DEBUG, "bolt %s: routing table for '%s' from %s: %zu readers, %zu writers, "
                    "%zu routers", r->seed, *db ? db : "(default)", routers[i], r->n_addrs[ROLE_READ],
                    r->n_addrs[ROLE_WRITE], r->n_addrs[ROLE_ROUTE]);
            return 0;
        }
        if (rc == GJ_ESERVER || rc == GJ_EAUTH)
            return rc;   /* the server answered: another router would say the same */
    }
    gj__error_prefix(err, "bolt %s: no router answered ROUTE", r->seed);
    return rc;
}

/* ---- the vtable's routed side ------------------------------------------------- */

static void router_free(gj_bolt_router *r)
{
    for (size_t i = 0; i < r->n_members; i++)
        gj__bolt_session_close(r->members[i].conn);
    pthread_mutex_destroy(&r->mu);
    free(r);
}

int gj__bolt_router_open(gj_conn **out, const gj_endpoint *ep, const gj_target_settings *ts, const gj_logger *log,
                         int64_t deadline_ms, gj_error *err)
{
    *out = NULL;
    gj_conn *c = calloc(1, sizeof *c);
    gj_bolt_router *r = calloc(1, sizeof *r);
    if (!c || !r || pthread_mutex_init(&r->mu, NULL) != 0) {
        free(c);
        free(r);
        return gj__error_set(err, GJ_ENOMEM, "bolt %s:%d: out of memory", ep->host, ep->port);
    }
    c->router = r;
    c->fd = c->wake_fd = -1;
    r->ts = ts;
    r->log = log;
    if (strchr(ep->host, ':'))
        snprintf(r->seed, sizeof r->seed, "[%s]:%d", ep->host, ep->port);
    else
        snprintf(r->seed, sizeof r->seed, "%s:%d", ep->host, ep->port);
    snprintf(c->endpoint, sizeof c->endpoint, "%s", r->seed);
    /* Connect and route now, so a bad address or password shows at once. */
    int rc = refresh(r, ts->database ? ts->database : "", NULL, deadline_ms, err);
    if (rc) {
        router_free(r);
        free(c);
        return rc;
    }
    *out = c;
    return 0;
}

static bool write_refused(const gj_error *err)
{
    const char *code = gj_error_server_code(err);
    return code && (strcmp(code, "Neo.ClientError.Cluster.NotALeader") == 0 ||
                    strcmp(code, "Neo.ClientError.General.ForbiddenOnReadOnlyDatabase") == 0);
}

static role request_role(const gj_request *req)
{
    const gj_value *mode = gj_request_option(req, "mode");
    const char *m = NULL;
    if (mode && gj_value_string_get(mode, &m, NULL) == 0 && (strcmp(m, "r") == 0 || strcmp(m, "read") == 0))
        return ROLE_READ;
    return ROLE_WRITE;
}

int gj__bolt_router_execute(gj_conn *c, const gj_request *req, gj_sink *sink, gj_error *err)
{
    gj_bolt_router *r = c->router;
    pthread_mutex_lock(&r->mu);
    bool cancelled = r->interrupted;
    r->interrupted = false;
    pthread_mutex_unlock(&r->mu);
    if (cancelled)
        return gj__error_set(err, GJ_ECANCELLED, "bolt %s: cancelled", r->seed);
    role ro = request_role(req);
    const char *db = gj_request_database(req);
    if (!db)
        db = r->ts->database ? r->ts->database : "";
    int64_t connect_ms = r->ts->connect_timeout_ms > 0 ? r->ts->connect_timeout_ms : 10000;
    int rc = 0;
    bool retried_write = false;
    /* Finding a member (routing table, connect) gets connect_timeout in all. */
    int64_t deadline = gj__now_ms() + connect_ms;
    for (unsigned attempt = 0; attempt < MAX_ADDRS + 2; attempt++) {
        if (attempt > 0 && gj__now_ms() >= deadline)
            break;
        if (!r->have_table || gj__now_ms() >= r->expires_ms || strcmp(r->table_db, db) != 0 ||
            r->n_addrs[ro] == 0) {
            rc = refresh(r, db, gj_request_option(req, "bookmarks"), deadline, err);
            if (rc)
                return rc;
            if (r->n_addrs[ro] == 0)
                return gj__error_set(err, GJ_ECONNECT, "bolt %s: the routing table for '%s' has no %s server",
                                     r->seed, *db ? db : "(default)", ro == ROLE_READ ? "reader" : "writer");
        }
        char addr[ADDR_MAX];
        snprintf(addr, sizeof addr, "%s", r->addrs[ro][r->next[ro]++ % r->n_addrs[ro]]);
        gj_conn *s = NULL;
        rc = member_session(r, addr, deadline, &s, err);
        if (rc == GJ_ECONNECT || rc == GJ_ETIMEDOUT || rc == GJ_EIO || rc == GJ_ETLS) {
            gj__log(r->log, GJ_LOG_WARN, "bolt %s: %s member %s unreachable, dropped from the routing table: %s",
                    r->seed, role_names[ro], addr, gj_error_message(err));
            for (int k = 0; k < N_ROLES; k++)
                drop_address(r, (role)k, addr);
            continue;
        }
        if (rc)
            return rc;
        pthread_mutex_lock(&r->mu);
        if (r->interrupted) {
            r->interrupted = false;
            gj__bolt_interrupt(s);
        }
        r->active = s;
        pthread_mutex_unlock(&r->mu);
        rc = gj__bolt_execute(s, req, sink, err);
        pthread_mutex_lock(&r->mu);
        r->active = NULL;
        pthread_mutex_unlock(&r->mu);
        prune_members(r);
        if (rc == GJ_ESERVER && ro == ROLE_WRITE && !retried_write && write_refused(err)) {
            gj__log(r->log, GJ_LOG_INFO, "bolt %s: %s refused a write (%s); refreshing the routing table",
                    r->seed, addr, gj_error_server_code(err));
            drop_address(r, ROLE_WRITE, addr);
            r->have_table = false;
            retried_write = true;
            gj_error_clear(err);
            rc = 0;
            continue;
        }
        return rc;
    }
    if (!rc)
        rc = gj__error_set(err, GJ_ECONNECT, "bolt %s: no cluster member could run the request", r->seed);
    else
        gj__error_prefix(err, "bolt %s: no %s could be reached", r->seed, ro == ROLE_READ ? "reader" : "writer");
    return rc;
}

void gj__bolt_router_interrupt(gj_conn *c)
{
    gj_bolt_router *r = c->router;
    pthread_mutex_lock(&r->mu);
    if (r->active)
        gj__bolt_interrupt(r->active);
    else
        r->interrupted = true;
    pthread_mutex_unlock(&r->mu);
}

bool gj__bolt_router_usable(gj_conn *c)
{
    gj_bolt_router *r = c->router;
    pthread_mutex_lock(&r->mu);
    bool ok = !r->broken && !r->interrupted;
    pthread_mutex_unlock(&r->mu);
    return ok;
}

int gj__bolt_router_ping(gj_conn *c, int64_t deadline_ms)
{
    gj_bolt_router *r = c->router;
    for (size_t i = r->n_members; i-- > 0;) {
        if (gj__bolt_session_ping(r->members[i].conn, deadline_ms) != 0)
            close_member(r, i);
    }
    return 0;   /* members are reopened on demand */
}

void gj__bolt_router_close(gj_conn *c)
{
    router_free(c->router);
    free(c);
}
