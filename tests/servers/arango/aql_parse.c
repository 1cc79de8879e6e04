/* aql_parse.c — parsing the small AQL repertoire of the reference server.
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
#include "aql.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_DEPTH 64
#define MAX_BINDS 64

typedef enum { T_EOF, T_IDENT, T_NUMBER, T_STRING, T_BIND, T_BIND_COLL, T_PUNCT } tkind;

typedef struct token {
    tkind kind;
    const char *start;
    size_t len;
    int line, col;
} token;

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

void rs_aql_seterr(rs_aql_error *err, int status, int errnum, const char *fmt, ...)
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
    rs_aql_seterr(p->err, 400, 1501, "AQL: syntax error, unexpected %s%s%s near '%s' at position %d:%d (while parsing)",
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
            rs_aql_seterr(p->err, 400, 1551, "no value specified for declared bind parameter '%s' (while parsing)", key);
        p->failed = 1;
        return -1;
    }
    if (coll && !json_object_is_type(v, json_type_string)) {
        if (!p->failed)
            rs_aql_seterr(p->err, 400, 1553, "bind parameter '%s' has an invalid value or type (while parsing)", key);
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
        rs_aql_seterr(p->err, 500, 4, "out of memory");
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
        e->value = number_value(p->tok.start, p->tok.len, 1);
        next(p);
    } else if (t.kind == T_BIND) {
        e = new_expr(E_VALUE);
        if (!e)
            return NULL;
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
        rs_aql_seterr(p->err, 400, 1504, "number out of range (while parsing)");
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
        if (q->nfilters >= AQL_MAX_FILTERS || q->has_limit) {
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
        rs_aql_seterr(err, 500, 4, "out of memory");
        return NULL;
    }
    next(&p);
    if (p.tok.kind == T_EOF) {
        rs_aql_seterr(err, 400, 1502, "query is empty");
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
                rs_aql_seterr(err, 400, 1552, "bind parameter '%s' was not declared in the query (while parsing)", key);
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
