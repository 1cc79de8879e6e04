/* aql.c — the small AQL repertoire of the reference server.
 *
 *   RETURN <expr>                         literals, @bind, arrays, objects, SLEEP(s)
 *   FOR v IN a..b [FILTER c]* [LIMIT [o,] n] RETURN <expr>
 *   FOR v IN [..] | @bind ...             (array source)
 *   FOR d IN coll | @@coll [FILTER d.k == @v]* [LIMIT ..] RETURN <expr>
 *   INSERT <expr> INTO coll | @@coll
 *
 * Everything else is a syntax error 1501 (HTTP 400) with a message in
 * ArangoDB's form.  Bind parameters are checked like ArangoDB does: 1551 for
 * a declared parameter without a value, 1552 for a value nobody declared,
 * 1553 for a collection parameter that is not a string. */
#include "rs.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_FILTERS 8
#define MAX_DEPTH 64
#define MAX_BINDS 64

typedef enum { T_EOF, T_IDENT, T_NUMBER, T_STRING, T_BIND, T_BIND_COLL, T_PUNCT } tkind;

typedef struct token {
    tkind kind;
    const char *start;
    size_t len;
    int line, col;
} token;

typedef enum { E_VALUE, E_VAR, E_ATTR, E_INDEX, E_ARRAY, E_OBJECT, E_SLEEP } ekind;

typedef struct expr {
    ekind kind;
    json_object *value;         /* E_VALUE (NULL = null) */
    char *name;                 /* E_VAR, E_ATTR */
    struct expr **kids;
    char **keys;                /* E_OBJECT */
    size_t nkids;
} expr;

enum { Q_RETURN, Q_FOR, Q_INSERT };
enum { SRC_RANGE, SRC_ARRAY, SRC_COLL };
enum { OP_TRUTHY, OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE };

struct rs_aql {
    int kind;
    char *var;
    int src;
    expr *lo, *hi, *array;
    char *coll;
    expr *flhs[MAX_FILTERS], *frhs[MAX_FILTERS];
    int fop[MAX_FILTERS];
    size_t nfilters;
    int has_limit;
    int64_t offset, limit;
    expr *ret;
    expr *doc;
};

typedef struct parser {
    const char *q;
    size_t pos;
    token tok;
    json_object *binds;
    char *used[MAX_BINDS];
    size_t nused;
    rs_aql_error *err;
    int failed;
    int depth;
    const char *var;            /* the loop variable in scope */
} parser;

/* ---- errors ---------------------------------------------------------------- */

static void set_err(rs_aql_error *err, int status, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void set_err(rs_aql_error *err, int status, int errnum, const char *fmt, ...)
{
    err->status = status;
    err->errnum = errnum;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
}

static const char *describe(const token *t)
{
    static const char *const kw[][2] = {
        { "FOR", "FOR declaration" }, { "RETURN", "RETURN declaration" }, { "FILTER", "FILTER declaration" },
        { "LIMIT", "LIMIT declaration" }, { "LET", "LET declaration" }, { "SORT", "SORT declaration" },
        { "COLLECT", "COLLECT declaration" }, { "INSERT", "INSERT command" }, { "UPDATE", "UPDATE command" },
        { "REPLACE", "REPLACE command" }, { "REMOVE", "REMOVE command" }, { "UPSERT", "UPSERT command" },
        { "IN", "IN keyword" }, { "INTO", "INTO keyword" }, { "WITH", "WITH keyword" },
        { "WINDOW", "WINDOW declaration" }, { "SEARCH", "SEARCH declaration" },
    };
    switch (t->kind) {
    case T_EOF: return "end of query";
    case T_NUMBER: return memchr(t->start, '.', t->len) ? "number" : "integer number";
    case T_STRING: return "quoted string";
    case T_BIND: return "bind parameter";
    case T_BIND_COLL: return "bind data source parameter";
    case T_PUNCT: return "symbol";
    case T_IDENT:
        for (size_t i = 0; i < sizeof kw / sizeof kw[0]; i++)
            if (strlen(kw[i][0]) == t->len && !strncasecmp(t->start, kw[i][0], t->len))
                return kw[i][1];
        return "identifier";
    }
    return "token";
}

static void syntax_error(parser *p, const char *expecting)
{
    if (p->failed)
        return;
    p->failed = 1;
    char near[40];
    size_t n = strlen(p->tok.start);
    if (n > 32)
        n = 32;
    memcpy(near, p->tok.start, n);
    near[n] = '\0';
    set_err(p->err, 400, 1501, "AQL: syntax error, unexpected %s%s%s near '%s' at position %d:%d (while parsing)",
            describe(&p->tok), expecting ? ", expecting " : "", expecting ? expecting : "", near,
            p->tok.line, p->tok.col);
}

/* ---- lexer -------------------------------------------------------------------- */

static void position(const char *q, size_t pos, int *line, int *col)
{
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < pos; i++) {
        if (q[i] == '\n') {
            (*line)++;
            *col = 1;
        } else {
            (*col)++;
        }
    }
}

static void next(parser *p)
{
    const char *q = p->q;
    size_t i = p->pos;
    for (;;) {
        while (q[i] && isspace((unsigned char)q[i]))
            i++;
        if (q[i] == '/' && q[i + 1] == '/') {
            while (q[i] && q[i] != '\n')
                i++;
        } else if (q[i] == '/' && q[i + 1] == '*') {
            const char *end = strstr(q + i + 2, "*/");
            i = end ? (size_t)(end - q) + 2 : strlen(q);
        } else {
            break;
        }
    }
    token *t = &p->tok;
    t->start = q + i;
    position(q, i, &t->line, &t->col);
    size_t j = i;
    if (!q[i]) {
        t->kind = T_EOF;
    } else if (isalpha((unsigned char)q[i]) || q[i] == '_') {
        while (isalnum((unsigned char)q[j]) || q[j] == '_')
            j++;
        t->kind = T_IDENT;
    } else if (q[i] == '`') {
        j++;
        while (q[j] && q[j] != '`')
            j++;
        if (q[j] == '`')
            j++;
        t->kind = T_IDENT;
    } else if (isdigit((unsigned char)q[i])) {
        while (isdigit((unsigned char)q[j]))
            j++;
        if (q[j] == '.' && isdigit((unsigned char)q[j + 1])) {
            j++;
            while (isdigit((unsigned char)q[j]))
                j++;
        }
        if ((q[j] == 'e' || q[j] == 'E') &&
            (isdigit((unsigned char)q[j + 1]) || ((q[j + 1] == '+' || q[j + 1] == '-') && isdigit((unsigned char)q[j + 2])))) {
            j += 2;
            while (isdigit((unsigned char)q[j]))
                j++;
        }
        t->kind = T_NUMBER;
    } else if (q[i] == '"' || q[i] == '\'') {
        char quote = q[i];
        j++;
        while (q[j] && q[j] != quote) {
            if (q[j] == '\\' && q[j + 1])
                j++;
            j++;
        }
        if (q[j] == quote)
            j++;
        t->kind = T_STRING;
    } else if (q[i] == '@') {
        int coll = q[i + 1] == '@';
        j = i + 1 + (size_t)coll;
        while (isalnum((unsigned char)q[j]) || q[j] == '_')
            j++;
        t->kind = coll ? T_BIND_COLL : T_BIND;
    } else {
        static const char *const two[] = { "..", "==", "!=", "<=", ">=", "&&", "||" };
        t->kind = T_PUNCT;
        j = i + 1;
        for (size_t k = 0; k < sizeof two / sizeof two[0]; k++)
            if (!strncmp(q + i, two[k], 2))
                j = i + 2;
    }
    t->len = j - i;
    p->pos = j;
}

static int is_kw(const token *t, const char *kw)
{
    return t->kind == T_IDENT && strlen(kw) == t->len && !strncasecmp(t->start, kw, t->len);
}

static int is_punct(const token *t, const char *s)
{
    return t->kind == T_PUNCT && strlen(s) == t->len && !strncmp(t->start, s, t->len);
}

static int is_reserved(const token *t)
{
    static const char *const words[] = {
        "FOR", "RETURN", "FILTER", "SORT", "LIMIT", "LET", "COLLECT", "WINDOW", "INSERT", "UPDATE",
        "REPLACE", "REMOVE", "UPSERT", "WITH", "INTO", "IN", "NOT", "AND", "OR", "LIKE", "SEARCH",
        "AGGREGATE", "GRAPH", "OUTBOUND", "INBOUND", "ANY", "ALL", "NONE", "DISTINCT", "ASC", "DESC",
        "NULL", "TRUE", "FALSE", "SHORTEST_PATH", "K_SHORTEST_PATHS", "PRUNE", "OPTIONS",
    };
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (is_kw(t, words[i]))
            return 1;
    return 0;
}

static char *tok_ident(const token *t)
{
    if (t->start[0] == '`' && t->len >= 2)
        return rs_strndup(t->start + 1, t->len - 2);
    return rs_strndup(t->start, t->len);
}

/* ---- expressions ----------------------------------------------------------- */

static void expr_free(expr *e)
{
    if (!e)
        return;
    json_object_put(e->value);
    free(e->name);
    for (size_t i = 0; i < e->nkids; i++) {
        expr_free(e->kids[i]);
        if (e->keys)
            free(e->keys[i]);
    }
    free(e->kids);
    free(e->keys);
    free(e);
}

static expr *new_expr(ekind k)
{
    expr *e = calloc(1, sizeof(expr));
    if (e)
        e->kind = k;
    return e;
}

static int add_kid(expr *e, expr *kid, char *key)
{
    expr **kids = realloc(e->kids, (e->nkids + 1) * sizeof *kids);
    if (!kids)
        return -1;
    e->kids = kids;
    if (e->kind == E_OBJECT) {
        char **keys = realloc(e->keys, (e->nkids + 1) * sizeof *keys);
        if (!keys)
            return -1;
        e->keys = keys;
        e->keys[e->nkids] = key;
    }
    e->kids[e->nkids++] = kid;
    return 0;
}

static json_object *decode_string(const token *t)
{
    char *buf = malloc(t->len + 1);
    if (!buf)
        return NULL;
    size_t o = 0;
    for (size_t i = 1; i + 1 < t->len; i++) {
        char ch = t->start[i];
        if (ch == '\\' && i + 2 < t->len) {
            char n = t->start[++i];
            ch = n == 'n' ? '\n' : n == 't' ? '\t' : n == 'r' ? '\r' : n == 'b' ? '\b' : n == 'f' ? '\f' : n;
        }
        buf[o++] = ch;
    }
    json_object *s = json_object_new_string_len(buf, (int)o);
    free(buf);
    return s;
}

static json_object *number_value(const char *s, size_t len, int negate)
{
    char buf[64];
    if (len >= sizeof buf)
        len = sizeof buf - 1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    if (!strpbrk(buf, ".eE")) {
        char *end = NULL;
        long long v = strtoll(buf, &end, 10);
        if (*end == '\0' && v < INT64_MAX)
            return json_object_new_int64(negate ? -(int64_t)v : (int64_t)v);
    }
    double d = strtod(buf, NULL);
    return json_object_new_double(negate ? -d : d);
}

/* The value of @name (or @@name with coll = 1): a deep copy. */
static int bind_value(parser *p, const token *t, int coll, json_object **out)
{
    char name[RS_NAME_MAX + 2];
    size_t skip = coll ? 2 : 1;
    size_t n = t->len - skip;
    if (n == 0 || n >= sizeof name - 1) {
        syntax_error(p, NULL);
        return -1;
    }
    name[0] = '@';
    memcpy(name + 1, t->start + skip, n);
    name[n + 1] = '\0';
    const char *key = coll ? name : name + 1;
    json_object *v = NULL;
    if (!p->binds || !json_object_object_get_ex(p->binds, key, &v)) {
        if (!p->failed)
            set_err(p->err, 400, 1551, "no value specified for declared bind parameter '%s' (while parsing)", key);
        p->failed = 1;
        return -1;
    }
    if (coll && !json_object_is_type(v, json_type_string)) {
        if (!p->failed)
            set_err(p->err, 400, 1553, "bind parameter '%s' has an invalid value or type (while parsing)", key);
        p->failed = 1;
        return -1;
    }
    if (p->nused < MAX_BINDS) {
        p->used[p->nused] = strdup(key);
        if (p->used[p->nused])
            p->nused++;
    }
    *out = NULL;
    if (v && json_object_deep_copy(v, out, NULL) != 0) {
        p->failed = 1;
        set_err(p->err, 500, 4, "out of memory");
        return -1;
    }
    return 0;
}

static expr *parse_expr(parser *p);

static expr *parse_primary(parser *p)
{
    token t = p->tok;
    expr *e = NULL;
    if (++p->depth > MAX_DEPTH) {
        syntax_error(p, NULL);
        return NULL;
    }
    if (t.kind == T_NUMBER || t.kind == T_STRING || is_kw(&t, "true") || is_kw(&t, "false") || is_kw(&t, "null")) {
        e = new_expr(E_VALUE);
        if (!e)
            return NULL;
        e->kind = E_VALUE;
        if (t.kind == T_NUMBER)
            e->value = number_value(t.start, t.len, 0);
        else if (t.kind == T_STRING)
            e->value = decode_string(&t);
        else if (!is_kw(&t, "null"))
            e->value = json_object_new_boolean(is_kw(&t, "true"));
        next(p);
    } else if (is_punct(&t, "-")) {
        next(p);
        if (p->tok.kind != T_NUMBER) {
            syntax_error(p, NULL);
            return NULL;
        }
        e = new_expr(E_VALUE);
        if (!e)
            return NULL;
        e->kind = E_VALUE;
        e->value = number_value(p->tok.start, p->tok.len, 1);
        next(p);
    } else if (t.kind == T_BIND) {
        e = new_expr(E_VALUE);
        if (!e)
            return NULL;
        e->kind = E_VALUE;
        if (bind_value(p, &t, 0, &e->value) != 0) {
            expr_free(e);
            return NULL;
        }
        next(p);
    } else if (is_punct(&t, "[") || is_punct(&t, "{")) {
        int obj = is_punct(&t, "{");
        e = new_expr(obj ? E_OBJECT : E_ARRAY);
        if (!e)
            return NULL;
        e->kind = obj ? E_OBJECT : E_ARRAY;
        next(p);
        while (!p->failed && !is_punct(&p->tok, obj ? "}" : "]")) {
            char *key = NULL;
            if (obj) {
                if (p->tok.kind == T_IDENT)
                    key = tok_ident(&p->tok);
                else if (p->tok.kind == T_STRING) {
                    json_object *s = decode_string(&p->tok);
                    key = s ? strdup(json_object_get_string(s)) : NULL;
                    json_object_put(s);
                } else {
                    syntax_error(p, NULL);
                    break;
                }
                next(p);
                if (!is_punct(&p->tok, ":")) {
                    free(key);
                    syntax_error(p, NULL);
                    break;
                }
                next(p);
            }
            expr *kid = parse_expr(p);
            if (!kid || add_kid(e, kid, key) != 0) {
                expr_free(kid);
                free(key);
                break;
            }
            if (is_punct(&p->tok, ","))
                next(p);
            else if (!is_punct(&p->tok, obj ? "}" : "]"))
                syntax_error(p, NULL);
        }
        if (!p->failed)
            next(p);
    } else if (is_punct(&t, "(")) {
        next(p);
        e = parse_expr(p);
        if (e && !is_punct(&p->tok, ")"))
            syntax_error(p, NULL);
        if (!p->failed)
            next(p);
    } else if (t.kind == T_IDENT && !is_reserved(&t)) {
        next(p);
        if (is_punct(&p->tok, "(")) {
            if (!(t.len == 5 && !strncasecmp(t.start, "SLEEP", 5))) {
                p->tok = t; /* report the function name */
                syntax_error(p, NULL);
                return NULL;
            }
            next(p);
            e = new_expr(E_SLEEP);
            if (!e)
                return NULL;
            e->kind = E_SLEEP;
            expr *arg = parse_expr(p);
            if (!arg || add_kid(e, arg, NULL) != 0) {
                expr_free(arg);
            } else if (!is_punct(&p->tok, ")")) {
                syntax_error(p, NULL);
            } else {
                next(p);
            }
        } else {
            char *name = tok_ident(&t);
            if (!p->var || !name || strcmp(name, p->var) != 0) {
                free(name);
                p->tok = t;
                syntax_error(p, NULL);
                return NULL;
            }
            e = new_expr(E_VAR);
            if (!e) {
                free(name);
                return NULL;
            }
            e->kind = E_VAR;
            e->name = name;
        }
    } else {
        syntax_error(p, NULL);
        return NULL;
    }
    if (p->failed) {
        expr_free(e);
        return NULL;
    }
    p->depth--;
    return e;
}

static expr *parse_expr(parser *p)
{
    expr *e = parse_primary(p);
    while (e && !p->failed && (is_punct(&p->tok, ".") || is_punct(&p->tok, "["))) {
        int dot = is_punct(&p->tok, ".");
        next(p);
        expr *access = new_expr(dot ? E_ATTR : E_INDEX);
        if (!access)
            break;
        access->kind = dot ? E_ATTR : E_INDEX;
        if (add_kid(access, e, NULL) != 0) {
            expr_free(access);
            break;
        }
        e = access;
        if (dot) {
            if (p->tok.kind != T_IDENT) {
                syntax_error(p, "identifier");
                break;
            }
            access->name = tok_ident(&p->tok);
            next(p);
        } else {
            expr *idx = parse_expr(p);
            if (!idx || add_kid(access, idx, NULL) != 0) {
                expr_free(idx);
                break;
            }
            if (!is_punct(&p->tok, "]")) {
                syntax_error(p, NULL);
                break;
            }
            next(p);
        }
    }
    if (p->failed) {
        expr_free(e);
        return NULL;
    }
    return e;
}

/* A non-negative integer (literal or bind) for LIMIT. */
static int parse_count(parser *p, int64_t *out)
{
    expr *e = parse_primary(p);
    if (!e)
        return -1;
    int ok = e->kind == E_VALUE && json_object_is_type(e->value, json_type_int) &&
             json_object_get_int64(e->value) >= 0;
    if (ok)
        *out = json_object_get_int64(e->value);
    expr_free(e);
    if (!ok && !p->failed) {
        p->failed = 1;
        set_err(p->err, 400, 1504, "number out of range (while parsing)");
    }
    return ok ? 0 : -1;
}

static int parse_collection(parser *p, rs_aql *q)
{
    if (p->tok.kind == T_BIND_COLL) {
        json_object *v = NULL;
        if (bind_value(p, &p->tok, 1, &v) != 0)
            return -1;
        q->coll = strdup(json_object_get_string(v));
        json_object_put(v);
    } else if (p->tok.kind == T_IDENT && !is_reserved(&p->tok)) {
        q->coll = tok_ident(&p->tok);
    } else {
        syntax_error(p, NULL);
        return -1;
    }
    next(p);
    return q->coll ? 0 : -1;
}

static void parse_for(parser *p, rs_aql *q)
{
    q->kind = Q_FOR;
    next(p);
    if (p->tok.kind != T_IDENT || is_reserved(&p->tok)) {
        syntax_error(p, "variable name");
        return;
    }
    q->var = tok_ident(&p->tok);
    next(p);
    if (!is_kw(&p->tok, "IN")) {
        syntax_error(p, "IN keyword");
        return;
    }
    next(p);
    if (p->tok.kind == T_BIND_COLL ||
        (p->tok.kind == T_IDENT && !is_reserved(&p->tok) && !is_kw(&p->tok, "true") && !is_kw(&p->tok, "false"))) {
        /* a collection name, unless it is a function call */
        size_t save_pos = p->pos;
        token save = p->tok;
        next(p);
        int call = is_punct(&p->tok, "(");
        p->pos = save_pos;
        p->tok = save;
        if (!call) {
            q->src = SRC_COLL;
            if (parse_collection(p, q) != 0)
                return;
            goto clauses;
        }
    }
    {
        const char *var = p->var;
        p->var = NULL; /* the loop variable is not visible in its own source */
        expr *lo = parse_expr(p);
        p->var = var;
        if (!lo)
            return;
        if (is_punct(&p->tok, "..")) {
            next(p);
            q->src = SRC_RANGE;
            q->lo = lo;
            q->hi = parse_expr(p);
            if (!q->hi)
                return;
        } else {
            q->src = SRC_ARRAY;
            q->array = lo;
        }
    }
clauses:
    p->var = q->var;
    while (!p->failed && is_kw(&p->tok, "FILTER")) {
        if (q->nfilters >= MAX_FILTERS || q->has_limit) {
            syntax_error(p, NULL);
            return;
        }
        next(p);
        size_t i = q->nfilters++;
        q->flhs[i] = parse_expr(p);
        if (!q->flhs[i])
            return;
        static const char *const ops[] = { "==", "!=", "<", "<=", ">", ">=" };
        q->fop[i] = OP_TRUTHY;
        for (size_t k = 0; k < 6; k++) {
            if (is_punct(&p->tok, ops[k])) {
                q->fop[i] = (int)k + OP_EQ;
                next(p);
                q->frhs[i] = parse_expr(p);
                if (!q->frhs[i])
                    return;
                break;
            }
        }
    }
    if (!p->failed && is_kw(&p->tok, "LIMIT")) {
        next(p);
        int64_t a = 0, b = 0;
        if (parse_count(p, &a) != 0)
            return;
        if (is_punct(&p->tok, ",")) {
            next(p);
            if (parse_count(p, &b) != 0)
                return;
            q->offset = a;
            q->limit = b;
        } else {
            q->limit = a;
        }
        q->has_limit = 1;
    }
    if (!p->failed && !is_kw(&p->tok, "RETURN")) {
        syntax_error(p, NULL);
        return;
    }
    next(p);
    q->ret = parse_expr(p);
}

void rs_aql_free(rs_aql *q)
{
    if (!q)
        return;
    free(q->var);
    free(q->coll);
    expr_free(q->lo);
    expr_free(q->hi);
    expr_free(q->array);
    for (size_t i = 0; i < q->nfilters; i++) {
        expr_free(q->flhs[i]);
        expr_free(q->frhs[i]);
    }
    expr_free(q->ret);
    expr_free(q->doc);
    free(q);
}

rs_aql *rs_aql_parse(const char *query, json_object *bind_vars, rs_aql_error *err)
{
    parser p = { .q = query, .binds = bind_vars, .err = err };
    rs_aql *q = calloc(1, sizeof *q);
    if (!q) {
        set_err(err, 500, 4, "out of memory");
        return NULL;
    }
    next(&p);
    if (p.tok.kind == T_EOF) {
        set_err(err, 400, 1502, "query is empty");
        p.failed = 1;
    } else if (is_kw(&p.tok, "RETURN")) {
        q->kind = Q_RETURN;
        next(&p);
        q->ret = parse_expr(&p);
    } else if (is_kw(&p.tok, "FOR")) {
        parse_for(&p, q);
    } else if (is_kw(&p.tok, "INSERT")) {
        q->kind = Q_INSERT;
        next(&p);
        q->doc = parse_expr(&p);
        if (!p.failed && !is_kw(&p.tok, "INTO") && !is_kw(&p.tok, "IN"))
            syntax_error(&p, "INTO keyword");
        if (!p.failed) {
            next(&p);
            parse_collection(&p, q);
        }
    } else {
        syntax_error(&p, NULL);
    }
    if (!p.failed && p.tok.kind != T_EOF)
        syntax_error(&p, "end of query");
    if (!p.failed && bind_vars) {
        json_object_object_foreach(bind_vars, key, val) {
            (void)val;
            int found = 0;
            for (size_t i = 0; i < p.nused && !found; i++)
                found = !strcmp(p.used[i], key);
            if (!found) {
                set_err(err, 400, 1552, "bind parameter '%s' was not declared in the query (while parsing)", key);
                p.failed = 1;
                break;
            }
        }
    }
    for (size_t i = 0; i < p.nused; i++)
        free(p.used[i]);
    if (p.failed) {
        rs_aql_free(q);
        return NULL;
    }
    return q;
}

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
        set_err(en->err, 410, 21, "canceled request");
    else if (why == RS_SHUTDOWN)
        set_err(en->err, 503, 30, "shutdown in progress");
    else
        set_err(en->err, 410, 1500, "query killed");
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
        set_err(en->err, 400, 1542, "invalid argument type in call to function 'SLEEP()'");
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
        set_err(s->en->err, 500, 32, "resource limit exceeded: more than %u rows", RS_MAX_ROWS);
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
        set_err(en->err, 404, 1228, "database not found");
    } else if (!c) {
        set_err(en->err, 404, 1203, "AQL: collection or view not found: %s (while parsing)", name);
    } else if (rs_trx_resolve(en->req, t, &tmp) != 0 || (write && rs_trx_may_write(*t, name, &tmp) != 0)) {
        json_object *body = rs_parse_json(tmp.body, tmp.body_len), *v = NULL;
        const char *msg = body && json_object_object_get_ex(body, "errorMessage", &v) ? json_object_get_string(v) : "";
        int errnum = body && json_object_object_get_ex(body, "errorNum", &v) ? json_object_get_int(v) : 1655;
        set_err(en->err, tmp.status, errnum, "%s", msg);
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
        set_err(en->err, status, errnum, "%s", msg);
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
        set_err(err, 500, 4, "out of memory");
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
        set_err(err, 500, 4, "out of memory");
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
                set_err(err, 400, numbers ? 32 : 1561, numbers ? "resource limit exceeded: range of %llu values"
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
                set_err(err, 400, 1563, "array expected");
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
