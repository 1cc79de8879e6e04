/* aql_exec.c — running a parsed query: ranges and arrays, collection scans
 * (deep copies taken under the store lock), FILTER, LIMIT with fullCount,
 * RETURN, INSERT, and an interruptible SLEEP (query kill, job cancel,
 * maxRuntime, shutdown). */
#include "aql.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- evaluation -------------------------------------------------------------- */

typedef struct env {
    rs_server *srv;
    rs_request *req;
    double deadline;
    const char *var;
    json_object *value;         /* borrowed */
    rs_aql_error *err;
    int failed;
} env;

static int type_rank(json_object *v)
{
    switch (json_object_get_type(v)) {
    case json_type_null: return 0;
    case json_type_boolean: return 1;
    case json_type_int:
    case json_type_double: return 2;
    case json_type_string: return 3;
    case json_type_array: return 4;
    default: return 5;
    }
}

static int compare(json_object *a, json_object *b)
{
    int ra = type_rank(a), rb = type_rank(b);
    if (ra != rb)
        return ra < rb ? -1 : 1;
    switch (ra) {
    case 0: return 0;
    case 1: return json_object_get_boolean(a) - json_object_get_boolean(b);
    case 2: {
        if (json_object_is_type(a, json_type_int) && json_object_is_type(b, json_type_int)) {
            int64_t x = json_object_get_int64(a), y = json_object_get_int64(b);
            return x < y ? -1 : x > y;
        }
        double x = json_object_get_double(a), y = json_object_get_double(b);
        return x < y ? -1 : x > y;
    }
    case 3: {
        int c = strcmp(json_object_get_string(a), json_object_get_string(b));
        return c < 0 ? -1 : c > 0;
    }
    case 4: {
        size_t na = json_object_array_length(a), nb = json_object_array_length(b);
        for (size_t i = 0; i < na && i < nb; i++) {
            int c = compare(json_object_array_get_idx(a, i), json_object_array_get_idx(b, i));
            if (c)
                return c;
        }
        return na < nb ? -1 : na > nb;
    }
    default:
        return json_object_equal(a, b) ? 0 : 1;
    }
}

static int truthy(json_object *v)
{
    switch (json_object_get_type(v)) {
    case json_type_null: return 0;
    case json_type_boolean: return json_object_get_boolean(v);
    case json_type_int: return json_object_get_int64(v) != 0;
    case json_type_double: return json_object_get_double(v) != 0.0;
    case json_type_string: return json_object_get_string_len(v) > 0;
    default: return 1;
    }
}

static json_object *eval(expr *e, env *en);

static void interrupted(env *en, rs_interrupt why)
{
    en->failed = 1;
    if (why == RS_CANCELED)
        rs_aql_seterr(en->err, 410, 21, "canceled request");
    else if (why == RS_SHUTDOWN)
        rs_aql_seterr(en->err, 503, 30, "shutdown in progress");
    else
        rs_aql_seterr(en->err, 410, 1500, "query killed");
}

static json_object *eval_sleep(expr *e, env *en)
{
    json_object *arg = eval(e->kids[0], en);
    if (en->failed)
        return NULL;
    int num = json_object_is_type(arg, json_type_int) || json_object_is_type(arg, json_type_double);
    double secs = num ? json_object_get_double(arg) : 0;
    json_object_put(arg);
    if (!num || !(secs >= 0) || secs > RS_MAX_SLEEP) {
        en->failed = 1;
        rs_aql_seterr(en->err, 400, 1542, "invalid argument type in call to function 'SLEEP()'");
        return NULL;
    }
    rs_interrupt why = rs_exec_sleep(en->srv, &en->req->exec, secs, en->deadline);
    if (why != RS_RUN)
        interrupted(en, why);
    return NULL;
}

static json_object *eval(expr *e, env *en)
{
    if (en->failed)
        return NULL;
    switch (e->kind) {
    case E_VALUE:
        return json_object_get(e->value);
    case E_VAR:
        return json_object_get(en->value);
    case E_SLEEP:
        return eval_sleep(e, en);
    case E_ATTR: {
        json_object *base = eval(e->kids[0], en), *v = NULL;
        if (base && json_object_is_type(base, json_type_object) && json_object_object_get_ex(base, e->name, &v))
            json_object_get(v);
        else
            v = NULL;
        json_object_put(base);
        return v;
    }
    case E_INDEX: {
        json_object *base = eval(e->kids[0], en), *idx = eval(e->kids[1], en), *v = NULL;
        if (base && json_object_is_type(base, json_type_array) && json_object_is_type(idx, json_type_int)) {
            int64_t i = json_object_get_int64(idx), n = (int64_t)json_object_array_length(base);
            if (i < 0)
                i += n;
            if (i >= 0 && i < n)
                v = json_object_get(json_object_array_get_idx(base, (size_t)i));
        } else if (base && json_object_is_type(base, json_type_object) && json_object_is_type(idx, json_type_string)) {
            if (json_object_object_get_ex(base, json_object_get_string(idx), &v))
                json_object_get(v);
            else
                v = NULL;
        }
        json_object_put(base);
        json_object_put(idx);
        return v;
    }
    case E_ARRAY:
    case E_OBJECT: {
        json_object *out = e->kind == E_ARRAY ? json_object_new_array() : json_object_new_object();
        for (size_t i = 0; out && i < e->nkids && !en->failed; i++) {
            json_object *v = eval(e->kids[i], en);
            if (e->kind == E_ARRAY)
                json_object_array_add(out, v);
            else
                json_object_object_add(out, e->keys[i], v);
        }
        if (en->failed) {
            json_object_put(out);
            return NULL;
        }
        return out;
    }
    }
    return NULL;
}

static int filters_pass(rs_aql *q, env *en)
{
    for (size_t i = 0; i < q->nfilters && !en->failed; i++) {
        json_object *l = eval(q->flhs[i], en);
        int ok;
        if (q->fop[i] == OP_TRUTHY) {
            ok = truthy(l);
        } else {
            json_object *r = eval(q->frhs[i], en);
            int c = compare(l, r);
            json_object_put(r);
            switch (q->fop[i]) {
            case OP_EQ: ok = c == 0; break;
            case OP_NE: ok = c != 0; break;
            case OP_LT: ok = c < 0; break;
            case OP_LE: ok = c <= 0; break;
            case OP_GT: ok = c > 0; break;
            default: ok = c >= 0; break;
            }
        }
        json_object_put(l);
        if (!ok)
            return 0;
    }
    return !en->failed;
}

typedef struct scan {
    rs_aql *q;
    env *en;
    json_object *matched;
    rs_aql_stats *stats;
} scan;

static int scan_cb(json_object *doc, void *ctx)
{
    scan *s = ctx;
    s->stats->scanned_full++;
    s->en->value = doc;
    int pass = filters_pass(s->q, s->en);
    s->en->value = NULL;
    if (s->en->failed)
        return 1;
    if (!pass) {
        s->stats->filtered++;
        return 0;
    }
    json_object *copy = NULL;
    if (json_object_deep_copy(doc, &copy, NULL) != 0 || json_object_array_add(s->matched, copy) != 0 ||
        json_object_array_length(s->matched) > RS_MAX_ROWS) {
        s->en->failed = 1;
        rs_aql_seterr(s->en->err, 500, 32, "resource limit exceeded: more than %u rows", RS_MAX_ROWS);
        return 1;
    }
    return 0;
}

/* Under the store lock: the database, the collection and the transaction. */
static rs_collection *lock_collection(env *en, const char *name, rs_trx **t, int write)
{
    rs_server *srv = en->srv;
    pthread_mutex_lock(&srv->store_mu);
    rs_trx_sweep(srv);
    rs_response tmp;
    rs_response_init(&tmp);
    rs_database *db = rs_db_find(srv, en->req->dbname);
    rs_collection *c = db ? rs_coll_find(db, name) : NULL;
    if (!db) {
        rs_aql_seterr(en->err, 404, 1228, "database not found");
    } else if (!c) {
        rs_aql_seterr(en->err, 404, 1203, "AQL: collection or view not found: %s (while parsing)", name);
    } else if (rs_trx_resolve(en->req, t, &tmp) != 0 ||
               (write ? rs_trx_may_write(*t, name, &tmp) : rs_trx_may_read(*t, name, &tmp)) != 0) {
        json_object *body = rs_parse_json(tmp.body, tmp.body_len), *v = NULL;
        const char *msg = body && json_object_object_get_ex(body, "errorMessage", &v) ? json_object_get_string(v) : "";
        int errnum = body && json_object_object_get_ex(body, "errorNum", &v) ? json_object_get_int(v) : 1655;
        rs_aql_seterr(en->err, tmp.status, errnum, "%s", msg);
        json_object_put(body);
        c = NULL;
    }
    rs_response_free(&tmp);
    if (!c) {
        en->failed = 1;
        pthread_mutex_unlock(&srv->store_mu);
    }
    return c;
}

static json_object *run_insert(rs_aql *q, env *en, rs_aql_stats *stats)
{
    json_object *doc = eval(q->doc, en);
    if (en->failed)
        return NULL;
    rs_trx *t = NULL;
    rs_collection *c = lock_collection(en, q->coll, &t, 1);
    if (!c) {
        json_object_put(doc);
        return NULL;
    }
    int errnum = 0;
    char msg[512];
    int status = rs_document_insert(en->srv, c, t, doc, NULL, &errnum, msg, sizeof msg);
    pthread_mutex_unlock(&en->srv->store_mu);
    if (status != 0) {
        en->failed = 1;
        rs_aql_seterr(en->err, status, errnum, "%s", msg);
        return NULL;
    }
    stats->writes_executed++;
    return json_object_new_array();
}

json_object *rs_aql_execute(rs_aql *q, rs_request *req, double deadline, int full_count, rs_aql_stats *stats,
                            rs_aql_error *err)
{
    env en = { .srv = req->coord->srv, .req = req, .deadline = deadline, .err = err, .var = q->var };
    memset(stats, 0, sizeof *stats);
    if (q->kind == Q_INSERT)
        return run_insert(q, &en, stats);
    json_object *rows = json_object_new_array();
    if (!rows) {
        rs_aql_seterr(err, 500, 4, "out of memory");
        return NULL;
    }
    if (q->kind == Q_RETURN) {
        json_object *v = eval(q->ret, &en);
        if (en.failed) {
            json_object_put(rows);
            return NULL;
        }
        json_object_array_add(rows, v);
        return rows;
    }
    /* FOR: source, filters, limit, return */
    json_object *matched = json_object_new_array();
    if (!matched) {
        json_object_put(rows);
        rs_aql_seterr(err, 500, 4, "out of memory");
        return NULL;
    }
    if (q->src == SRC_COLL) {
        rs_trx *t = NULL;
        rs_collection *c = lock_collection(&en, q->coll, &t, 0);
        if (c) {
            scan s = { .q = q, .en = &en, .matched = matched, .stats = stats };
            rs_coll_foreach(c, t, scan_cb, &s);
            pthread_mutex_unlock(&en.srv->store_mu);
        }
    } else {
        json_object *lo = eval(q->src == SRC_RANGE ? q->lo : q->array, &en);
        json_object *hi = q->src == SRC_RANGE ? eval(q->hi, &en) : NULL;
        json_object *items = NULL;
        if (!en.failed && q->src == SRC_RANGE) {
            int numbers = type_rank(lo) == 2 && type_rank(hi) == 2;
            int64_t a = (int64_t)json_object_get_double(lo), b = (int64_t)json_object_get_double(hi);
            uint64_t n = numbers ? (uint64_t)(a <= b ? b - a : a - b) + 1 : 0;
            if (!numbers || n > RS_MAX_ROWS) {
                en.failed = 1;
                rs_aql_seterr(err, 400, numbers ? 32 : 1561, numbers ? "resource limit exceeded: range of %llu values"
                                                               : "invalid arithmetic value (range of %llu)",
                        (unsigned long long)n);
            } else {
                items = json_object_new_array_ext((int)n);
                for (uint64_t i = 0; items && i < n; i++)
                    json_object_array_add(items, json_object_new_int64(a <= b ? a + (int64_t)i : a - (int64_t)i));
            }
        } else if (!en.failed) {
            if (!json_object_is_type(lo, json_type_array)) {
                en.failed = 1;
                rs_aql_seterr(err, 400, 1563, "array expected");
            } else {
                items = json_object_get(lo);
            }
        }
        size_t n = items ? json_object_array_length(items) : 0;
        for (size_t i = 0; i < n && !en.failed; i++) {
            json_object *v = json_object_array_get_idx(items, i);
            en.value = v;
            int pass = filters_pass(q, &en);
            en.value = NULL;
            if (pass)
                json_object_array_add(matched, json_object_get(v));
            else if (!en.failed)
                stats->filtered++;
        }
        json_object_put(items);
        json_object_put(lo);
        json_object_put(hi);
    }
    size_t n = json_object_array_length(matched);
    if (full_count) {
        stats->has_full_count = 1;
        stats->full_count = n;
    }
    size_t from = q->has_limit ? (size_t)q->offset : 0;
    size_t to = q->has_limit ? from + (size_t)q->limit : n;
    if (to > n)
        to = n;
    for (size_t i = from; i < to && !en.failed; i++) {
        en.value = json_object_array_get_idx(matched, i);
        json_object *v = eval(q->ret, &en);
        en.value = NULL;
        if (!en.failed)
            json_object_array_add(rows, v);
    }
    json_object_put(matched);
    if (en.failed) {
        json_object_put(rows);
        return NULL;
    }
    return rows;
}
