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
 * a short mutex, so the session cannot be closed meanwhile); when none runs
 * it is recorded on the routed connection (and its eventfd written), which
 * ends a member connect or a ROUTE under way and is honoured by the next
 * execute().
 */
#include "backend/bolt/bolt.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define MAX_ADDRS 32u       /* per role */
#define MAX_MEMBERS 16u     /* member sessions kept open */
#define MAX_TABLES 16u      /* routing tables (databases) kept */
#define ADDR_MAX 300u
#define DB_MAX 128u
#define MAX_HOMES 8u        /* home databases kept (the target's user and impersonated ones) */

typedef enum { ROLE_ROUTE = 0, ROLE_READ = 1, ROLE_WRITE = 2, N_ROLES = 3 } role;

static const char *const role_names[N_ROLES] = { "ROUTE", "READ", "WRITE" };

typedef struct member {
    char address[ADDR_MAX];
    gj_conn *conn;
} member;

/* The routing table of one database. */
typedef struct rtable {
    char db[DB_MAX];                /* rt.db as the server named it ("" = unnamed default) */
    int64_t expires_ms;             /* now + ttl when fetched; 0 = refresh before use */
    uint64_t used;                  /* last use (the router's clock): the least recent is evicted */
    char addrs[N_ROLES][MAX_ADDRS][ADDR_MAX];
    size_t n_addrs[N_ROLES];
    unsigned next[N_ROLES];         /* round robin */
} rtable;

struct gj_bolt_router {
    const gj_target_settings *ts;   /* the pool's copy: outlives the connection */
    gj_bolt_target *target;         /* shared by the target's connections (bookmark manager) */
    const gj_logger *log;
    char seed[ADDR_MAX];            /* the URL's host:port: the first router */

    rtable *tables[MAX_TABLES];     /* one per database, allocated when first fetched */
    size_t n_tables;
    uint64_t clock;                 /* counts table uses */
    /* What ROUTE without a database resolved to, per impersonated user
     * ("" = the target's own user); replaced round robin. */
    struct { char user[DB_MAX]; char db[DB_MAX]; } homes[MAX_HOMES];
    size_t n_homes, next_home;

    member members[MAX_MEMBERS];
    size_t n_members;

    pthread_mutex_t mu;             /* active */
    gj_conn *active;                /* the member running a request or settling */
    atomic_uint interrupted;        /* 0 or 1: recorded while no member runs */
    int intr_fd;                    /* written with it */
    gj_abort own_abort;             /* interrupted + intr_fd, for member connects and ROUTE */
    const gj_abort *cur_abort;      /* what member connects and ROUTE give up on now */
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

static void drop_address(rtable *t, role ro, const char *addr)
{
    for (size_t i = 0; i < t->n_addrs[ro]; i++) {
        if (strcmp(t->addrs[ro][i], addr) == 0) {
            memmove(t->addrs[ro][i], t->addrs[ro][i + 1], (t->n_addrs[ro] - i - 1) * ADDR_MAX);
            t->n_addrs[ro]--;
            return;
        }
    }
}

/* A member that cannot be reached: gone from every role of every table. */
static void forget_member(gj_bolt_router *r, const char *addr)
{
    for (size_t i = 0; i < r->n_tables; i++)
        for (int k = 0; k < N_ROLES; k++)
            drop_address(r->tables[i], (role)k, addr);
}

/* ---- tables --------------------------------------------------------------------- */

static rtable *find_table(gj_bolt_router *r, const char *db)
{
    for (size_t i = 0; i < r->n_tables; i++)
        if (strcmp(r->tables[i]->db, db) == 0)
            return r->tables[i];
    return NULL;
}

/* The table slot for db: the existing one, a new one, or the least recently
 * used one evicted.  NULL when out of memory. */
static rtable *table_slot(gj_bolt_router *r, const char *db)
{
    rtable *t = find_table(r, db);
    if (t)
        return t;
    if (r->n_tables < MAX_TABLES) {
        t = calloc(1, sizeof *t);
        if (!t)
            return NULL;
        r->tables[r->n_tables++] = t;
    } else {
        t = r->tables[0];
        for (size_t i = 1; i < r->n_tables; i++)
            if (r->tables[i]->used < t->used)
                t = r->tables[i];
        gj__log(r->log, GJ_LOG_DEBUG, "bolt %s: routing table for '%s' evicted (%u tables kept)", r->seed,
                t->db, MAX_TABLES);
        memset(t, 0, sizeof *t);
    }
    snprintf(t->db, sizeof t->db, "%s", db);
    return t;
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
    if (m && (m->conn->n_pending || gj__tcp_interrupt_pending(&m->conn->tcp))) {
        /* Used again within one request (a refused write retried, a
         * router that is also the writer): RESET's answer first. */
        int64_t dl = gj__now_ms() + GJ_BOLT_SETTLE_MS;
        gj__bolt_settle(m->conn, dl < deadline_ms ? dl : deadline_ms);
        if (m->conn->broken || m->conn->tcp.broken) {
            close_member(r, (size_t)(m - r->members));
            m = NULL;
        }
    }
    if (m) {
        *out = m->conn;
        return 0;
    }
    char host[ADDR_MAX];
    int port;
    if (parse_address(addr, host, sizeof host, &port) != 0)
        return gj__error_set(err, GJ_EPROTOCOL, "%s: the routing table holds a bad address '%s'", r->seed, addr);
    if (r->n_members == MAX_MEMBERS)
        close_member(r, 0);
    gj_endpoint ep = { host, port, 0, r->target };
    gj_conn *c = NULL;
    int rc = gj__bolt_session_open(&c, &ep, r->ts, r->log, r->seed, r->cur_abort, deadline_ms, err);
    if (rc)
        return rc;
    m = &r->members[r->n_members++];
    snprintf(m->address, sizeof m->address, "%s", addr);
    m->conn = c;
    *out = c;
    return 0;
}

/* ---- ROUTE ---------------------------------------------------------------------- */

static int parse_table(rtable *r, const gj_value *rt, const char *from, gj_error *err)
{
    int64_t ttl = 0;
    const gj_value *servers = gj_value_map_get(rt, "servers");
    if (gj__bolt_meta_int(rt, "ttl", &ttl) != 0 || ttl < 0 || !servers || gj_value_type(servers) != GJ_TLIST)
        return gj__error_set(err, GJ_EPROTOCOL, "%s: ROUTE answered without rt.ttl and rt.servers", from);
    memset(r->n_addrs, 0, sizeof r->n_addrs);
    for (size_t i = 0; i < gj_value_size(servers); i++) {
        const gj_value *srv = gj_value_list_at(servers, i);
        const char *rolename = NULL;
        const gj_value *addrs = gj_value_map_get(srv, "addresses");
        if (gj__bolt_meta_string(srv, "role", &rolename, NULL) != 0 || !addrs || gj_value_type(addrs) != GJ_TLIST)
            return gj__error_set(err, GJ_EPROTOCOL, "%s: routing table entry %zu lacks role or addresses",
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
                return gj__error_set(err, GJ_EPROTOCOL, "%s: bad address in the routing table", from);
            if (r->n_addrs[ro] < MAX_ADDRS) {
                memcpy(r->addrs[ro][r->n_addrs[ro]], a, len);
                r->addrs[ro][r->n_addrs[ro]++][len] = '\0';
            }
        }
    }
    if (r->n_addrs[ROLE_ROUTE] == 0)
        return gj__error_set(err, GJ_EPROTOCOL, "%s: the routing table has no routers", from);
    if (ttl > INT64_C(86400) * 365)
        ttl = INT64_C(86400) * 365;
    r->expires_ms = gj__now_ms() + ttl * 1000;
    return 0;
}

/* The home database of user ("" = the target's), or NULL. */
static const char *home_of(const gj_bolt_router *r, const char *user)
{
    for (size_t i = 0; i < r->n_homes; i++)
        if (strcmp(r->homes[i].user, user) == 0)
            return r->homes[i].db;
    return NULL;
}

static void remember_home(gj_bolt_router *r, const char *user, const char *db)
{
    if (strlen(user) >= DB_MAX)
        return;   /* not cached: such a user routes every time */
    size_t i = 0;
    while (i < r->n_homes && strcmp(r->homes[i].user, user) != 0)
        i++;
    if (i == r->n_homes) {
        if (r->n_homes < MAX_HOMES)
            r->n_homes++;
        else
            i = r->next_home++ % MAX_HOMES;
    }
    snprintf(r->homes[i].user, DB_MAX, "%s", user);
    snprintf(r->homes[i].db, DB_MAX, "%s", db);
}

/* What a request asks of the routing: its database ("" = the home
 * database), an impersonated user, bookmarks. */
typedef struct route_req {
    const char *db;
    const char *imp_user;           /* NULL = none */
    const gj_value *bookmarks;      /* NULL = none */
} route_req;

/* ROUTE on one session; the table is stored under rt.db (or the requested
 * database when the server does not name it), *out. */
static int route_on(gj_bolt_router *r, gj_conn *c, const route_req *q, rtable **out, int64_t deadline_ms,
                    gj_error *err)
{
    gj_value *routing = NULL, *extra = NULL, *bookmarks = NULL;
    int rc = gj_value_new_map(&routing, 1);
    rc |= gj_value_new_map(&extra, 2);
    if (!rc)
        rc = gj_value_map_put_str(routing, "address", gj_value_string(r->seed));
    if (!rc && *q->db)
        rc = gj_value_map_put_str(extra, "db", gj_value_string(q->db));
    if (!rc && q->imp_user)
        rc = gj_value_map_put_str(extra, "imp_user", gj_value_string(q->imp_user));
    if (!rc && q->bookmarks && gj_value_type(q->bookmarks) == GJ_TSTRING) {
        rc = gj_value_new_list(&bookmarks, 1);
        if (!rc)
            rc = gj_value_list_append(bookmarks, gj_value_ref(q->bookmarks));
    } else if (!rc && q->bookmarks && gj_value_type(q->bookmarks) == GJ_TLIST) {
        bookmarks = gj_value_ref(q->bookmarks);
    }
    if (rc) {
        gj_value_unref(routing);
        gj_value_unref(extra);
        gj_value_unref(bookmarks);
        return gj__error_set(err, GJ_ENOMEM, "%s: out of memory for ROUTE", c->endpoint);
    }
    rc = gj__bolt_write_route(&c->wbuf, &c->ps, routing, bookmarks, extra, err);
    gj_value_unref(routing);
    gj_value_unref(extra);
    gj_value_unref(bookmarks);
    if (!rc)
        rc = gj__bolt_push_pending(c, GJ_BOLT_ROUTE, err);
    if (!rc)
        rc = gj__bolt_flush(c, deadline_ms, err);
    if (rc) {
        c->broken = true;
        return rc;
    }
    gj_bolt_msg m;
    rc = gj__bolt_read_msg(c, &m, deadline_ms, 0, err);
    if (rc)
        return rc;
    gj__bolt_pop_pending(c);
    if (m.tag == GJ_BOLT_SUCCESS) {
        const gj_value *rt = gj_value_map_get(m.fields[0], "rt");
        rtable *tmp = malloc(sizeof *tmp);
        if (!tmp)
            rc = gj__error_set(err, GJ_ENOMEM, "%s: out of memory for the routing table", c->endpoint);
        else if (!rt || gj_value_type(rt) != GJ_TMAP)
            rc = gj__error_set(err, GJ_EPROTOCOL, "%s: ROUTE answered without rt", c->endpoint);
        else
            rc = parse_table(tmp, rt, c->endpoint, err);
        const char *named = NULL;
        size_t named_len = 0;
        if (!rc && gj__bolt_meta_string(rt, "db", &named, &named_len) == 0 && named_len >= DB_MAX)
            rc = gj__error_set(err, GJ_EPROTOCOL, "%s: ROUTE named a database of %zu bytes", c->endpoint,
                               named_len);
        if (!rc) {
            char key[DB_MAX];
            if (named)
                snprintf(key, sizeof key, "%.*s", (int)named_len, named);
            else
                snprintf(key, sizeof key, "%s", q->db);
            rtable *t = table_slot(r, key);
            if (!t) {
                rc = gj__error_set(err, GJ_ENOMEM, "%s: out of memory for the routing table", c->endpoint);
            } else {
                memcpy(t->addrs, tmp->addrs, sizeof t->addrs);
                memcpy(t->n_addrs, tmp->n_addrs, sizeof t->n_addrs);
                t->expires_ms = tmp->expires_ms;
                t->used = ++r->clock;
                *out = t;
                if (!*q->db)
                    remember_home(r, q->imp_user ? q->imp_user : "", key);
            }
        }
        free(tmp);
    } else if (m.tag == GJ_BOLT_FAILURE) {
        rc = gj__bolt_failure(c, m.fields[0], GJ_ESERVER, err);
        gj_error *tmp = gj_error_new();
        gj__bolt_reset(c, deadline_ms, tmp);
        gj_error_free(tmp);
    } else {
        c->broken = true;
        rc = gj__error_set(err, GJ_EPROTOCOL, "%s: ROUTE answered with %s", c->endpoint,
                           gj__bolt_msg_name(m.tag, GJ_BOLT_RESPONSE));
    }
    gj__bolt_msg_clear(&m);
    return rc;
}

/* Drop member sessions that are broken (one still owing RESET's answer is
 * kept for settle()). */
static void prune_members(gj_bolt_router *r)
{
    for (size_t i = r->n_members; i-- > 0;) {
        gj_conn *s = r->members[i].conn;
        if (s->broken || s->tcp.broken)
            close_member(r, i);
    }
}

static void add_router(char (*routers)[ADDR_MAX], size_t *n, const char *addr)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp(routers[i], addr) == 0)
            return;
    if (*n < MAX_ADDRS + 1)
        snprintf(routers[(*n)++], ADDR_MAX, "%s", addr);
}

/* Fetch the table for q from the routers known for that database (or, for
 * a database not seen yet, those of the most recently used table), then the
 * seed. */
static int refresh(gj_bolt_router *r, const route_req *q, const rtable *known, rtable **out, int64_t deadline_ms,
                   gj_error *err)
{
    if (!known)
        for (size_t i = 0; i < r->n_tables; i++)
            if (!known || r->tables[i]->used > known->used)
                known = r->tables[i];
    char (*routers)[ADDR_MAX] = malloc((MAX_ADDRS + 1) * sizeof *routers);
    if (!routers)
        return gj__error_set(err, GJ_ENOMEM, "%s: out of memory", r->seed);
    size_t n = 0;
    for (size_t i = 0; known && i < known->n_addrs[ROLE_ROUTE]; i++)
        add_router(routers, &n, known->addrs[ROLE_ROUTE][i]);
    add_router(routers, &n, r->seed);
    int rc = GJ_ECONNECT;
    for (size_t i = 0; i < n; i++) {
        gj_conn *c = NULL;
        rc = member_session(r, routers[i], deadline_ms, &c, err);
        if (!rc) {
            gj__tcp_set_abort(&c->tcp, r->cur_abort);
            rc = route_on(r, c, q, out, deadline_ms, err);
            gj__tcp_set_abort(&c->tcp, NULL);
        }
        prune_members(r);
        if (rc == GJ_ECANCELLED || rc == GJ_ESHUTDOWN)
            break;
        if (!rc) {
            const rtable *t = *out;
            gj__log(r->log, GJ_LOG_DEBUG, "bolt %s: routing table for '%s' from %s: %zu readers, %zu writers, "
                    "%zu routers", r->seed, t->db[0] ? t->db : "(default)", routers[i], t->n_addrs[ROLE_READ],
                    t->n_addrs[ROLE_WRITE], t->n_addrs[ROLE_ROUTE]);
            free(routers);
            return 0;
        }
        if (rc == GJ_ESERVER || rc == GJ_EAUTH || rc == GJ_ENOMEM)
            break;   /* the server answered: another router would say the same */
    }
    free(routers);
    if (rc != GJ_ESERVER && rc != GJ_EAUTH && rc != GJ_ENOMEM && rc != GJ_ECANCELLED && rc != GJ_ESHUTDOWN)
        gj__error_prefix(err, "%s: no router answered ROUTE", r->seed);
    return rc;
}

/* ---- the vtable's routed side ------------------------------------------------- */

static void router_free(gj_bolt_router *r)
{
    for (size_t i = 0; i < r->n_members; i++)
        gj__bolt_session_close(r->members[i].conn);
    for (size_t i = 0; i < r->n_tables; i++)
        free(r->tables[i]);
    if (r->intr_fd >= 0)
        close(r->intr_fd);
    pthread_mutex_destroy(&r->mu);
    free(r);
}

int gj__bolt_router_open(gj_conn **out, const gj_endpoint *ep, const gj_target_settings *ts, const gj_logger *log,
                         const gj_abort *abort, int64_t deadline_ms, gj_error *err)
{
    *out = NULL;
    gj_conn *c = calloc(1, sizeof *c);
    gj_bolt_router *r = calloc(1, sizeof *r);
    int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (!c || !r || efd < 0 || pthread_mutex_init(&r->mu, NULL) != 0) {
        free(c);
        free(r);
        if (efd >= 0)
            close(efd);
        return gj__error_set(err, GJ_ENOMEM, "%s:%d: out of memory", ep->host, ep->port);
    }
    c->router = r;
    c->target = r->target = ep->target_ctx;
    c->tcp.fd = c->tcp.wake_fd = -1;
    atomic_init(&r->interrupted, 0);
    r->intr_fd = efd;
    r->own_abort = (gj_abort){ (const unsigned *)&r->interrupted, 1u, efd, NULL, -1 };
    r->ts = ts;
    r->log = log;
    if (strchr(ep->host, ':'))
        snprintf(r->seed, sizeof r->seed, "[%s]:%d", ep->host, ep->port);
    else
        snprintf(r->seed, sizeof r->seed, "%s:%d", ep->host, ep->port);
    snprintf(c->endpoint, sizeof c->endpoint, "%s", r->seed);
    /* Connect and route now, so a bad address or password shows at once. */
    route_req q = { ts->database ? ts->database : "", NULL, NULL };
    rtable *t = NULL;
    r->cur_abort = abort;   /* the caller's, valid during the call only */
    int rc = refresh(r, &q, NULL, &t, deadline_ms, err);
    r->cur_abort = NULL;
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

/* Consume the routed connection's own interrupt record. */
static bool take_interrupt(gj_bolt_router *r)
{
    if (atomic_exchange(&r->interrupted, 0) == 0)
        return false;
    uint64_t v;
    if (read(r->intr_fd, &v, sizeof v) < 0) {
        /* EAGAIN: nothing to drain */
    }
    return true;
}

static role request_role(const gj_request *req, const gj_bolt_session *ss)
{
    const gj_value *mode = gj_request_option(req, "mode");
    const char *m = NULL;
    if (mode && gj_value_string_get(mode, &m, NULL) == 0)
        return strcmp(m, "r") == 0 || strcmp(m, "read") == 0 ? ROLE_READ : ROLE_WRITE;
    return ss && ss->read_mode ? ROLE_READ : ROLE_WRITE;
}

/* A job of a session whose transaction is open: on the member the
 * transaction began on, whatever the routing table says now; never
 * elsewhere. */
static int run_pinned(gj_conn *c, gj_bolt_session *ss, const gj_request *req, gj_sink *sink, int64_t deadline,
                      gj_error *err)
{
    gj_bolt_router *r = c->router;
    char addr[ADDR_MAX];
    snprintf(addr, sizeof addr, "%s", ss->member);
    gj_conn *s = NULL;
    int rc = member_session(r, addr, deadline, &s, err);
    if (rc == GJ_ECANCELLED || rc == GJ_ESHUTDOWN)
        return rc;
    if (rc) {
        forget_member(r, addr);
        gj__error_prefix(err, "%s: the cluster member %s running the session's transaction (begun by its job "
                         "%llu) cannot be reached; the transaction is lost", r->seed, addr,
                         (unsigned long long)ss->tx_job);
        gj__bolt_tx_lost(ss, "%s", gj_error_message(err));
        return rc == GJ_ECONNECT || rc == GJ_ETIMEDOUT || rc == GJ_ETLS ? GJ_EIO : rc;
    }
    pthread_mutex_lock(&r->mu);
    if (take_interrupt(r))
        gj__bolt_interrupt(s);
    r->active = s;
    pthread_mutex_unlock(&r->mu);
    rc = gj__bolt_execute(s, req, sink, err);
    pthread_mutex_lock(&r->mu);
    r->active = NULL;
    pthread_mutex_unlock(&r->mu);
    if (s->broken || s->tcp.broken) {
        /* Never retried elsewhere: the transaction was on that member.
         * (gj__bolt_execute recorded that the transaction is lost.) */
        gj__log(r->log, GJ_LOG_WARN, "%s: member %s failed during the session's transaction (%s), dropped "
                "from the routing tables", r->seed, addr, gj_error_message(err));
        forget_member(r, addr);
        for (size_t i = 0; i < r->n_tables; i++)
            r->tables[i]->expires_ms = 0;
        if (rc == 0)
            rc = gj__error_set(err, GJ_EIO, "%s: the connection to %s broke", r->seed, addr);
    }
    prune_members(r);
    return rc;
}

/* The table to use for q: the database's, or the home database's; NULL when
 * it must be fetched. */
static rtable *usable_table(gj_bolt_router *r, const route_req *q, role ro)
{
    rtable *t = NULL;
    const char *home;
    if (*q->db)
        t = find_table(r, q->db);
    else if ((home = home_of(r, q->imp_user ? q->imp_user : "")) != NULL)
        t = find_table(r, home);
    if (t && (gj__now_ms() >= t->expires_ms || t->n_addrs[ro] == 0))
        return NULL;
    return t;
}

static int router_execute(gj_conn *c, const gj_request *req, gj_sink *sink, gj_error *err);

int gj__bolt_router_execute(gj_conn *c, const gj_request *req, gj_sink *sink, gj_error *err)
{
    gj_bolt_router *r = c->router;
    if (take_interrupt(r))
        return gj__error_set(err, GJ_ECANCELLED, "%s: cancelled", r->seed);
    r->cur_abort = &r->own_abort;
    int rc = router_execute(c, req, sink, err);
    r->cur_abort = NULL;
    if (rc == GJ_ECANCELLED && take_interrupt(r))
        gj__error_set(err, GJ_ECANCELLED, "%s: cancelled", r->seed);
    return rc;
}

static int router_execute(gj_conn *c, const gj_request *req, gj_sink *sink, gj_error *err)
{
    gj_bolt_router *r = c->router;
    gj_bolt_session *ss = gj__sink_session(sink);
    if (ss && ss->in_tx && ss->member[0]) {
        int64_t connect_ms = r->ts->connect_timeout_ms > 0 ? r->ts->connect_timeout_ms : 10000;
        int64_t dl = gj__now_ms() + connect_ms;
        if (gj__sink_deadline(sink) < dl)
            dl = gj__sink_deadline(sink);
        return run_pinned(c, ss, req, sink, dl, err);
    }
    bool begin = ss && strcmp(gj_request_op(req), GJ_BOLT_OP_BEGIN) == 0;
    role ro = request_role(req, ss);
    route_req q = { gj_request_database(req), NULL, gj_request_option(req, "bookmarks") };
    if (!q.db && ss && ss->database)
        q.db = ss->database;
    if (!q.bookmarks && ss)
        q.bookmarks = ss->bookmarks;
    if (!q.db)
        q.db = r->ts->database ? r->ts->database : "";
    const gj_value *imp = gj_request_option(req, "imp_user");
    if (imp && gj_value_string_get(imp, &q.imp_user, NULL) != 0)
        q.imp_user = NULL;   /* execute names the bad option */
    int64_t connect_ms = r->ts->connect_timeout_ms > 0 ? r->ts->connect_timeout_ms : 10000;
    int rc = 0;
    bool retried_write = false;
    unsigned refreshes = 0;
    char last[ADDR_MAX] = "";
    /* Finding a member (routing table, connect) gets connect_timeout in all. */
    int64_t deadline = gj__now_ms() + connect_ms;
    if (gj__sink_deadline(sink) < deadline)
        deadline = gj__sink_deadline(sink);
    for (unsigned attempt = 0; attempt < MAX_ADDRS + 2; attempt++) {
        if (attempt > 0 && gj__now_ms() >= deadline)
            break;
        rtable *t = usable_table(r, &q, ro);
        if (!t) {
            if (refreshes == 2 && rc)
                break;   /* the fresh tables name only members that failed */
            refreshes++;
            gj_error_clear(err);
            rc = refresh(r, &q, *q.db ? find_table(r, q.db) : NULL, &t, deadline, err);
            if (rc)
                return rc;
            if (t->n_addrs[ro] == 0)
                return gj__error_set(err, GJ_ECONNECT, "%s: the routing table for '%s' has no %s server",
                                     r->seed, t->db[0] ? t->db : "(default)", ro == ROLE_READ ? "reader" : "writer");
        }
        t->used = ++r->clock;
        char addr[ADDR_MAX];
        snprintf(addr, sizeof addr, "%s", t->addrs[ro][t->next[ro]++ % t->n_addrs[ro]]);
        snprintf(last, sizeof last, "%s", addr);
        gj_conn *s = NULL;
        gj_error_clear(err);
        rc = member_session(r, addr, deadline, &s, err);
        if (rc == GJ_ECANCELLED || rc == GJ_ESHUTDOWN)
            return rc;
        if (rc == GJ_ECONNECT || rc == GJ_ETIMEDOUT || rc == GJ_EIO || rc == GJ_ETLS) {
            gj__log(r->log, GJ_LOG_WARN, "bolt %s: %s member %s unreachable, dropped from the routing tables: %s",
                    r->seed, role_names[ro], addr, gj_error_message(err));
            forget_member(r, addr);
            continue;
        }
        if (rc)
            return rc;
        pthread_mutex_lock(&r->mu);
        if (take_interrupt(r))
            gj__bolt_interrupt(s);
        r->active = s;
        pthread_mutex_unlock(&r->mu);
        rc = gj__bolt_execute(s, req, sink, err);
        pthread_mutex_lock(&r->mu);
        r->active = NULL;
        pthread_mutex_unlock(&r->mu);
        if (begin && rc == 0)
            snprintf(ss->member, sizeof ss->member, "%s", addr);   /* the transaction stays there */
        bool broken = s->broken, idle_closed = s->idle_closed, answered = s->responses > 0;
        prune_members(r);   /* s is closed when broken */
        if (broken && idle_closed) {
            /* The member had closed the pooled session and cannot be
             * reached again; nothing was sent: run the request elsewhere. */
            if (rc == GJ_ECONNECT || rc == GJ_ETIMEDOUT || rc == GJ_EIO || rc == GJ_ETLS) {
                gj__log(r->log, GJ_LOG_WARN, "bolt %s: %s member %s is gone, dropped from the routing tables: %s",
                        r->seed, role_names[ro], addr, gj_error_message(err));
                forget_member(r, addr);
                continue;
            }
            return rc;
        }
        if (rc == GJ_EIO && broken) {
            /* The member went away while running the request: like the
             * Neo4j drivers, forget it until the next routing table.  A read
             * it never answered is run on another reader; anything else may
             * have had effects and fails, naming the member. */
            gj__log(r->log, GJ_LOG_WARN, "bolt %s: %s member %s failed (%s), dropped from the routing tables",
                    r->seed, role_names[ro], addr, gj_error_message(err));
            forget_member(r, addr);
            if (ro == ROLE_READ && !answered)
                continue;
            t->expires_ms = 0;   /* refreshed before the next use */
            return rc;
        }
        if (rc == GJ_ESERVER && ro == ROLE_WRITE && !retried_write && write_refused(err)) {
            gj__log(r->log, GJ_LOG_INFO, "bolt %s: %s refused a write (%s); refreshing the routing table",
                    r->seed, addr, gj_error_server_code(err));
            drop_address(t, ROLE_WRITE, addr);
            t->expires_ms = 0;
            retried_write = true;
            gj_error_clear(err);
            rc = 0;
            continue;
        }
        return rc;
    }
    if (!rc)
        rc = gj__error_set(err, GJ_ECONNECT, "%s: no cluster member could run the request", r->seed);
    else
        gj__error_prefix(err, "%s: no %s could be reached (last tried %s)", r->seed,
                         ro == ROLE_READ ? "reader" : "writer", last);
    return rc;
}

void gj__bolt_router_interrupt(gj_conn *c)
{
    gj_bolt_router *r = c->router;
    pthread_mutex_lock(&r->mu);
    if (r->active) {
        gj__bolt_interrupt(r->active);
    } else {
        atomic_store(&r->interrupted, 1);
        uint64_t one = 1;
        if (write(r->intr_fd, &one, sizeof one) < 0) {
            /* the counter is already non-zero */
        }
    }
    pthread_mutex_unlock(&r->mu);
}

bool gj__bolt_router_usable(gj_conn *c)
{
    gj_bolt_router *r = c->router;
    if (r->broken || atomic_load(&r->interrupted))
        return false;
    for (size_t i = 0; i < r->n_members; i++)
        if (!gj__bolt_usable(r->members[i].conn))
            return false;   /* not settled, or interrupted late */
    return true;
}

int gj__bolt_router_settle(gj_conn *c, int64_t deadline_ms)
{
    gj_bolt_router *r = c->router;
    for (size_t i = 0; i < r->n_members; i++) {
        gj_conn *s = r->members[i].conn;
        if (!s->n_pending && !gj__tcp_interrupt_pending(&s->tcp))
            continue;
        pthread_mutex_lock(&r->mu);
        r->active = s;   /* an interrupt (the pool shutting down) reaches it */
        pthread_mutex_unlock(&r->mu);
        gj__bolt_settle(s, deadline_ms);
        pthread_mutex_lock(&r->mu);
        r->active = NULL;
        pthread_mutex_unlock(&r->mu);
    }
    prune_members(r);   /* closes the sessions left broken */
    return 0;
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

gj_conn *gj__bolt_router_member(gj_conn *c, const char *addr)
{
    member *m = addr && *addr ? find_member(c->router, addr) : NULL;
    return m ? m->conn : NULL;
}
