/* cypher.c — the fixed query repertoire of bolt-refserver.  Not Cypher: a
 * small grammar that covers what the tests send, and a syntax error (as
 * Neo4j reports it) for everything else.
 *
 *   [EXPLAIN|PROFILE] RETURN item, ... [LIMIT n]
 *   [EXPLAIN|PROFILE] UNWIND expr AS x RETURN item, ... [LIMIT n]     expr: range(a, b[, step]), a list, $param
 *   CREATE pattern [RETURN item, ...]
 *   MATCH pattern [WHERE v.key = expr] RETURN item, ... [LIMIT n]
 *   MATCH pattern [WHERE v.key = expr] [DETACH] DELETE v
 *   CALL apoc.util.sleep(ms)                                          slow; RESET interrupts it
 *
 *   pattern: [p =] (a[:Label...] [{k: expr, ...}]) [-[r[:TYPE] [{...}]]-> (b ...)]   (or <-[...]-)
 *   item:    expr [AS name];  expr: literal, $param, [..], {k: ..}, v, v.key, count(*),
 *            count(v), id(v), elementId(v), labels(v), type(r), size(x)
 */
#include "bs.h"

#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define NAME 64
#define MAX_ITEMS 64
#define MAX_LABELS 4

/* ======================================================================
 * Tokens
 * ====================================================================== */
typedef enum { T_EOF, T_IDENT, T_INT, T_FLOAT, T_STRING, T_PARAM, T_PUNCT } tok_kind;

typedef struct tok {
    tok_kind kind;
    size_t at, len;          /* span in the query text */
    int64_t i;
    double d;
    char *s;                 /* decoded string / identifier / parameter name (arena) */
    size_t slen;
    char p;                  /* punctuation character */
} tok;

typedef struct arena_block {
    struct arena_block *next;
    max_align_t data[];
} arena_block;

typedef struct parser {
    const char *text;
    size_t len, pos;
    tok t;                   /* current token */
    arena_block *arena;
    bool failed;
    bs_failure *fail;
} parser;

static void *arena_alloc(parser *p, size_t n)
{
    arena_block *b = calloc(1, sizeof *b + n);
    if (!b)
        abort();   /* a test server: out of memory is fatal */
    b->next = p->arena;
    p->arena = b;
    return b->data;
}

static void arena_free(parser *p)
{
    while (p->arena) {
        arena_block *n = p->arena->next;
        free(p->arena);
        p->arena = n;
    }
}

static void fail_set(bs_failure *f, const char *code, const char *gql, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void fail_set(bs_failure *f, const char *code, const char *gql, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->message, sizeof f->message, fmt, ap);
    va_end(ap);
    f->code = code;
    f->gql = gql;
}

/* "Invalid input 'x': expected ..." at the current token. */
static int syntax_error(parser *p, const char *expected)
{
    if (p->failed)
        return -1;
    p->failed = true;
    size_t at = p->t.at;
    char what[64];
    if (p->t.kind == T_EOF)
        snprintf(what, sizeof what, "end of input");
    else
        snprintf(what, sizeof what, "'%.*s'", (int)(p->t.len > 40 ? 40 : p->t.len), p->text + at);
    fail_set(p->fail, "Neo.ClientError.Statement.SyntaxError", "42001",
             "Invalid input %s: expected %s (line 1, column %zu (offset: %zu))", what, expected, at + 1, at);
    return -1;
}

static int next(parser *p)
{
    const char *s = p->text;
    while (p->pos < p->len && isspace((unsigned char)s[p->pos]))
        p->pos++;
    tok *t = &p->t;
    memset(t, 0, sizeof *t);
    t->at = p->pos;
    if (p->pos >= p->len) {
        t->kind = T_EOF;
        return 0;
    }
    char c = s[p->pos];
    if (isalpha((unsigned char)c) || c == '_' || c == '`') {
        size_t start = p->pos;
        if (c == '`') {
            size_t e = start + 1;
            while (e < p->len && s[e] != '`')
                e++;
            if (e >= p->len)
                return syntax_error(p, "a closing backtick");
            t->s = arena_alloc(p, e - start);
            memcpy(t->s, s + start + 1, e - start - 1);
            t->slen = e - start - 1;
            p->pos = e + 1;
        } else {
            while (p->pos < p->len && (isalnum((unsigned char)s[p->pos]) || s[p->pos] == '_'))
                p->pos++;
            t->slen = p->pos - start;
            t->s = arena_alloc(p, t->slen + 1);
            memcpy(t->s, s + start, t->slen);
        }
        t->kind = T_IDENT;
    } else if (isdigit((unsigned char)c)) {
        size_t start = p->pos;
        bool is_float = false;
        while (p->pos < p->len && isdigit((unsigned char)s[p->pos]))
            p->pos++;
        if (p->pos + 1 < p->len && s[p->pos] == '.' && isdigit((unsigned char)s[p->pos + 1])) {
            is_float = true;
            p->pos++;
            while (p->pos < p->len && isdigit((unsigned char)s[p->pos]))
                p->pos++;
        }
        if (p->pos < p->len && (s[p->pos] == 'e' || s[p->pos] == 'E')) {
            is_float = true;
            p->pos++;
            if (p->pos < p->len && (s[p->pos] == '-' || s[p->pos] == '+'))
                p->pos++;
            while (p->pos < p->len && isdigit((unsigned char)s[p->pos]))
                p->pos++;
        }
        char num[64];
        size_t n = p->pos - start;
        if (n >= sizeof num)
            return syntax_error(p, "a shorter number");
        memcpy(num, s + start, n);
        num[n] = '\0';
        if (is_float) {
            t->kind = T_FLOAT;
            t->d = strtod(num, NULL);
        } else {
            t->kind = T_INT;

            unsigned long long v = strtoull(num, NULL, 10);
            if (v > (unsigned long long)INT64_MAX + 1)
                return syntax_error(p, "an integer that fits in 64 bits");
            t->i = (int64_t)v;  /* INT64_MAX + 1 only valid after '-' (checked by the caller) */
        }
    } else if (c == '\'' || c == '"') {
        char q = c;
        size_t e = p->pos + 1;
        char *out = arena_alloc(p, p->len - p->pos + 1);
        size_t n = 0;
        while (e < p->len && s[e] != q) {
            if (s[e] == '\\' && e + 1 < p->len) {
                e++;
                char x = s[e];
                out[n++] = x == 'n' ? '\n' : x == 't' ? '\t' : x == 'r' ? '\r' : x;
                e++;
            } else {
                out[n++] = s[e++];
            }
        }
        if (e >= p->len)
            return syntax_error(p, "a closing quote");
        t->kind = T_STRING;
        t->s = out;
        t->slen = n;
        p->pos = e + 1;
    } else if (c == '$') {
        size_t start = ++p->pos;
        while (p->pos < p->len && (isalnum((unsigned char)s[p->pos]) || s[p->pos] == '_'))
            p->pos++;
        if (p->pos == start)
            return syntax_error(p, "a parameter name");
        t->kind = T_PARAM;
        t->slen = p->pos - start;
        t->s = arena_alloc(p, t->slen + 1);
        memcpy(t->s, s + start, t->slen);
    } else if (strchr("()[]{}:,.=-<>*;+", c)) {
        t->kind = T_PUNCT;
        t->p = c;
        p->pos++;
    } else {
        t->len = 1;
        return syntax_error(p, "a token");
    }
    t->len = p->pos - t->at;
    return 0;
}

static bool is_punct(const parser *p, char c)
{
    return p->t.kind == T_PUNCT && p->t.p == c;
}

static bool is_kw(const parser *p, const char *kw)
{
    return p->t.kind == T_IDENT && strlen(kw) == p->t.slen && !strncasecmp(p->t.s, kw, p->t.slen);
}

static int expect_punct(parser *p, char c)
{
    if (!is_punct(p, c)) {
        char what[8] = { '\'', c, '\'', 0 };
        return syntax_error(p, what);
    }
    return next(p);
}

static int expect_kw(parser *p, const char *kw)
{
    if (!is_kw(p, kw))
        return syntax_error(p, kw);
    return next(p);
}

static int ident(parser *p, char out[NAME])
{
    if (p->t.kind != T_IDENT || p->t.slen >= NAME)
        return syntax_error(p, "an identifier");
    memcpy(out, p->t.s, p->t.slen);
    out[p->t.slen] = '\0';
    return next(p);
}

/* ======================================================================
 * Expressions
 * ====================================================================== */
typedef enum { E_LIT, E_PARAM, E_VAR, E_PROP, E_LIST, E_MAP, E_FUNC } ekind;

typedef struct expr {
    ekind kind;
    gj_value *lit;
    char name[NAME];              /* param, variable, function */
    char key[NAME];               /* property */
    struct expr **items;          /* list items, map values, function arguments */
    char (*keys)[NAME];           /* map keys */
    size_t n;
    bool star;                    /* count(*) */
    size_t at, len;               /* source text */
} expr;

typedef struct query query;

static expr *new_expr(parser *p, ekind k, size_t at)
{
    expr *e = arena_alloc(p, sizeof *e);
    e->kind = k;
    e->at = at;
    return e;
}

/* Literal values are kept in a list so they are freed with the query. */
typedef struct lits {
    gj_value *v[256];
    size_t n;
} lits;

static expr *parse_expr(parser *p, lits *L);

static expr *lit_expr(parser *p, lits *L, gj_value *v, size_t at)
{
    if (L->n >= sizeof L->v / sizeof L->v[0]) {
        gj_value_unref(v);
        syntax_error(p, "fewer literals");
        return NULL;
    }
    L->v[L->n++] = v;
    expr *e = new_expr(p, E_LIT, at);
    e->lit = v;
    return e;
}

static expr *parse_list_or_args(parser *p, lits *L, expr *e, char close)
{
    expr *items[64];
    size_t n = 0;
    if (!is_punct(p, close)) {
        for (;;) {
            if (n >= 64) {
                syntax_error(p, "fewer items");
                return NULL;
            }
            if (is_punct(p, '*') && e->kind == E_FUNC) {
                e->star = true;
                if (next(p))
                    return NULL;
            } else if (!(items[n++] = parse_expr(p, L))) {
                return NULL;
            }
            if (!is_punct(p, ','))
                break;
            if (next(p))
                return NULL;
        }
    }
    if (expect_punct(p, close))
        return NULL;
    e->items = arena_alloc(p, (n ? n : 1) * sizeof *e->items);
    memcpy(e->items, items, n * sizeof *items);
    e->n = n;
    return e;
}

static expr *parse_map(parser *p, lits *L, size_t at)
{
    expr *e = new_expr(p, E_MAP, at);
    expr *vals[64];
    char keys[64][NAME];
    size_t n = 0;
    if (expect_punct(p, '{'))
        return NULL;
    if (!is_punct(p, '}')) {
        for (;;) {
            if (n >= 64) {
                syntax_error(p, "fewer entries");
                return NULL;
            }
            if (ident(p, keys[n]) || expect_punct(p, ':'))
                return NULL;
            if (!(vals[n] = parse_expr(p, L)))
                return NULL;
            n++;
            if (!is_punct(p, ','))
                break;
            if (next(p))
                return NULL;
        }
    }
    if (expect_punct(p, '}'))
        return NULL;
    e->items = arena_alloc(p, (n ? n : 1) * sizeof *e->items);
    e->keys = arena_alloc(p, (n ? n : 1) * sizeof *e->keys);
    memcpy(e->items, vals, n * sizeof *vals);
    memcpy(e->keys, keys, n * sizeof *keys);
    e->n = n;
    return e;
}

static expr *parse_expr(parser *p, lits *L)
{
    size_t at = p->t.at;
    expr *e = NULL;
    gj_value *v = NULL;
    switch (p->t.kind) {
    case T_INT:
        if ((uint64_t)p->t.i > (uint64_t)INT64_MAX) {
            syntax_error(p, "an integer that fits in 64 bits");
            return NULL;
        }
        v = gj_value_int(p->t.i);
        break;
    case T_FLOAT:
        v = gj_value_float(p->t.d);
        break;
    case T_STRING:
        if (gj_value_new_string(&v, p->t.s, p->t.slen) != 0) {
            syntax_error(p, "valid UTF-8");
            return NULL;
        }
        break;
    case T_PARAM:
        e = new_expr(p, E_PARAM, at);
        memcpy(e->name, p->t.s, p->t.slen < NAME ? p->t.slen : NAME - 1);
        if (next(p))
            return NULL;
        break;
    case T_PUNCT:
        if (p->t.p == '[') {
            if (next(p))
                return NULL;
            e = parse_list_or_args(p, L, new_expr(p, E_LIST, at), ']');
        } else if (p->t.p == '{') {
            e = parse_map(p, L, at);
        } else if (p->t.p == '-') {
            if (next(p))
                return NULL;
            if (p->t.kind == T_INT) {
                v = gj_value_int((int64_t)(0 - (uint64_t)p->t.i));
            } else if (p->t.kind == T_FLOAT) {
                v = gj_value_float(-p->t.d);
            } else {
                syntax_error(p, "a number");
                return NULL;
            }
        } else {
            syntax_error(p, "an expression");
            return NULL;
        }
        break;
    case T_IDENT:
        if (is_kw(p, "true") || is_kw(p, "false")) {
            v = gj_value_bool(is_kw(p, "true"));
        } else if (is_kw(p, "null")) {
            v = gj_value_null();
        } else {
            char name[NAME];
            if (ident(p, name))
                return NULL;
            if (is_punct(p, '(')) {
                e = new_expr(p, E_FUNC, at);
                strcpy(e->name, name);
                if (next(p))
                    return NULL;
                e = parse_list_or_args(p, L, e, ')');
            } else if (is_punct(p, '.')) {
                if (next(p))
                    return NULL;
                e = new_expr(p, E_PROP, at);
                strcpy(e->name, name);
                if (ident(p, e->key))
                    return NULL;
            } else {
                e = new_expr(p, E_VAR, at);
                strcpy(e->name, name);
            }
        }
        break;
    default:
        syntax_error(p, "an expression");
        return NULL;
    }
    if (v) {
        if (next(p)) {
            gj_value_unref(v);
            return NULL;
        }
        e = lit_expr(p, L, v, at);
    }
    if (e)
        e->len = (p->t.kind == T_EOF ? p->len : p->t.at) - at;
    return e;
}

/* ======================================================================
 * Patterns and queries
 * ====================================================================== */
typedef struct node_pat {
    char var[NAME];
    char labels[MAX_LABELS][NAME];
    size_t label_at[MAX_LABELS];    /* offsets in the query (notifications) */
    size_t n_labels;
    expr *props;
} node_pat;

typedef struct pattern {
    char path_var[NAME];
    node_pat a, b;
    bool has_rel;
    char rel_var[NAME];
    char rel_type[NAME];
    size_t rel_type_at;
    expr *rel_props;
    int dir;                        /* +1: (a)-[]->(b); -1: (a)<-[]-(b) */
} pattern;

typedef struct ret_item {
    expr *e;
    char name[256];
} ret_item;

typedef enum { Q_RETURN, Q_UNWIND, Q_CREATE, Q_MATCH, Q_SLEEP } qkind;

struct query {
    qkind kind;
    bool explain, profile;
    expr *source;                   /* UNWIND source, sleep ms */
    char unwind_var[NAME];
    pattern pat;
    expr *where_prop, *where_value;
    bool delete_, detach;
    char delete_var[NAME];
    ret_item items[MAX_ITEMS];
    size_t n_items;
    int64_t limit;
    lits lits;
};

static int parse_node(parser *p, node_pat *n, lits *L)
{
    if (expect_punct(p, '('))
        return -1;
    if (p->t.kind == T_IDENT && ident(p, n->var))
        return -1;
    while (is_punct(p, ':')) {
        if (next(p) || n->n_labels >= MAX_LABELS)
            return syntax_error(p, "a label");
        n->label_at[n->n_labels] = p->t.at;
        if (ident(p, n->labels[n->n_labels++]))
            return -1;
    }
    if (is_punct(p, '{') && !(n->props = parse_map(p, L, p->t.at)))
        return -1;
    return expect_punct(p, ')');
}

static int parse_pattern(parser *p, pattern *pat, lits *L)
{
    if (p->t.kind == T_IDENT) {
        if (ident(p, pat->path_var) || expect_punct(p, '='))
            return -1;
    }
    if (parse_node(p, &pat->a, L))
        return -1;
    if (!is_punct(p, '-') && !is_punct(p, '<'))
        return pat->path_var[0] ? syntax_error(p, "a relationship pattern") : 0;
    pat->has_rel = true;
    pat->dir = 1;
    if (is_punct(p, '<')) {
        pat->dir = -1;
        if (next(p))
            return -1;
    }
    if (expect_punct(p, '-') || expect_punct(p, '['))
        return -1;
    if (p->t.kind == T_IDENT && ident(p, pat->rel_var))
        return -1;
    if (is_punct(p, ':')) {
        if (next(p))
            return -1;
        pat->rel_type_at = p->t.at;
        if (ident(p, pat->rel_type))
            return -1;
    }
    if (is_punct(p, '{') && !(pat->rel_props = parse_map(p, L, p->t.at)))
        return -1;
    if (expect_punct(p, ']') || expect_punct(p, '-'))
        return -1;
    if (pat->dir == 1 && expect_punct(p, '>'))
        return -1;
    if (pat->dir == -1 && is_punct(p, '>'))
        return syntax_error(p, "'(' (a relationship has one direction)");
    return parse_node(p, &pat->b, L);
}

static int parse_return(parser *p, query *q)
{
    if (expect_kw(p, "RETURN"))
        return -1;
    for (;;) {
        if (q->n_items >= MAX_ITEMS)
            return syntax_error(p, "fewer return items");
        ret_item *it = &q->items[q->n_items++];
        if (!(it->e = parse_expr(p, &q->lits)))
            return -1;
        if (is_kw(p, "AS")) {
            char alias[NAME];
            if (next(p) || ident(p, alias))
                return -1;
            snprintf(it->name, sizeof it->name, "%s", alias);
        } else {
            size_t n = it->e->len;
            while (n && isspace((unsigned char)p->text[it->e->at + n - 1]))
                n--;
            snprintf(it->name, sizeof it->name, "%.*s", (int)n, p->text + it->e->at);
        }
        if (!is_punct(p, ','))
            break;
        if (next(p))
            return -1;
    }
    if (is_kw(p, "LIMIT")) {
        if (next(p))
            return -1;
        if (p->t.kind != T_INT)
            return syntax_error(p, "an integer");
        q->limit = p->t.i;
        if (next(p))
            return -1;
    }
    return 0;
}

static int parse_query(parser *p, query *q)
{
    q->limit = -1;
    if (next(p))
        return -1;
    if (is_kw(p, "EXPLAIN") || is_kw(p, "PROFILE")) {
        q->explain = is_kw(p, "EXPLAIN");
        q->profile = !q->explain;
        if (next(p))
            return -1;
    }
    if (is_kw(p, "RETURN")) {
        q->kind = Q_RETURN;
        if (parse_return(p, q))
            return -1;
    } else if (is_kw(p, "UNWIND")) {
        q->kind = Q_UNWIND;
        if (next(p) || !(q->source = parse_expr(p, &q->lits)) || expect_kw(p, "AS") ||
            ident(p, q->unwind_var) || parse_return(p, q))
            return -1;
    } else if (is_kw(p, "CREATE")) {
        q->kind = Q_CREATE;
        if (next(p) || parse_pattern(p, &q->pat, &q->lits))
            return -1;
        if (is_kw(p, "RETURN") && parse_return(p, q))
            return -1;
    } else if (is_kw(p, "MATCH")) {
        q->kind = Q_MATCH;
        if (next(p) || parse_pattern(p, &q->pat, &q->lits))
            return -1;
        if (is_kw(p, "WHERE")) {
            if (next(p) || !(q->where_prop = parse_expr(p, &q->lits)))
                return -1;
            if (q->where_prop->kind != E_PROP)
                return syntax_error(p, "a property comparison (v.key = expr)");
            if (expect_punct(p, '=') || !(q->where_value = parse_expr(p, &q->lits)))
                return -1;
        }
        if (is_kw(p, "DETACH") || is_kw(p, "DELETE")) {
            q->detach = is_kw(p, "DETACH");
            if (q->detach && (next(p) || !is_kw(p, "DELETE")))
                return syntax_error(p, "DELETE");
            q->delete_ = true;
            if (next(p) || ident(p, q->delete_var))
                return -1;
        } else if (parse_return(p, q)) {
            return -1;
        }
    } else if (is_kw(p, "CALL")) {
        char name[3 * NAME] = "", part[NAME];
        if (next(p))
            return -1;
        for (;;) {
            if (ident(p, part))
                return -1;
            strncat(name, part, sizeof name - strlen(name) - 1);
            if (!is_punct(p, '.'))
                break;
            strncat(name, ".", sizeof name - strlen(name) - 1);
            if (next(p))
                return -1;
        }
        if (strcasecmp(name, "apoc.util.sleep") != 0) {
            p->t.at = 5;
            p->t.len = strlen(name);
            p->failed = true;
            fail_set(p->fail, "Neo.ClientError.Procedure.ProcedureNotFound", "42N08",
                     "There is no procedure with the name `%s` registered for this database instance.", name);
            return -1;
        }
        q->kind = Q_SLEEP;
        if (expect_punct(p, '(') || !(q->source = parse_expr(p, &q->lits)) || expect_punct(p, ')'))
            return -1;
    } else {
        return syntax_error(p, "ALTER, CALL, CREATE, DELETE, DETACH, EXPLAIN, MATCH, PROFILE, RETURN or UNWIND");
    }
    if (is_punct(p, ';') && next(p))
        return -1;
    if (p->t.kind != T_EOF)
        return syntax_error(p, "end of input");
    return 0;
}

/* ======================================================================
 * Evaluation
 * ====================================================================== */
typedef struct binding {
    const char *names[4];
    gj_value *values[4];         /* borrowed */
    size_t n;
} binding;

typedef struct eval_ctx {
    const bs_query_ctx *q;
    bs_failure *fail;
    uint64_t tx;
} eval_ctx;

static const gj_value *bound(const binding *b, const char *name)
{
    for (size_t i = 0; b && i < b->n; i++)
        if (!strcmp(b->names[i], name))
            return b->values[i];
    return NULL;
}

static gj_value *eval(const eval_ctx *c, const expr *e, const binding *b);

static gj_value *eval_fail(const eval_ctx *c, const char *code, const char *gql, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static gj_value *eval_fail(const eval_ctx *c, const char *code, const char *gql, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->fail->message, sizeof c->fail->message, fmt, ap);
    va_end(ap);
    c->fail->code = code;
    c->fail->gql = gql;
    return NULL;
}

static gj_value *eval_func(const eval_ctx *c, const expr *e, const binding *b)
{
    if (e->n != 1)
        return eval_fail(c, "Neo.ClientError.Statement.SyntaxError", "42001",
                         "Unknown function '%s' (or wrong number of arguments)", e->name);
    gj_value *arg = eval(c, e->items[0], b);
    if (!arg)
        return NULL;
    gj_value *out = NULL;
    gj_type t = gj_value_type(arg);
    if (!strcasecmp(e->name, "id") && (t == GJ_TNODE || t == GJ_TEDGE)) {
        out = gj_value_ref(gj_value_element_id(arg));
    } else if (!strcasecmp(e->name, "elementId") && (t == GJ_TNODE || t == GJ_TEDGE)) {
        out = gj_value_ref(gj_value_element_element_id(arg));
    } else if (!strcasecmp(e->name, "labels") && t == GJ_TNODE) {
        out = gj_value_ref(gj_value_node_labels(arg));
    } else if (!strcasecmp(e->name, "type") && t == GJ_TEDGE) {
        out = gj_value_ref(gj_value_edge_type(arg));
    } else if (!strcasecmp(e->name, "size") && (t == GJ_TLIST || t == GJ_TSTRING)) {
        size_t n = gj_value_size(arg);
        if (t == GJ_TSTRING) {
            const char *s;
            gj_value_string_get(arg, &s, &n);
            size_t cps = 0;
            for (size_t i = 0; i < n; i++)
                cps += ((unsigned char)s[i] & 0xC0) != 0x80;
            n = cps;
        }
        out = gj_value_int((int64_t)n);
    } else {
        gj_value_unref(arg);
        return eval_fail(c, "Neo.ClientError.Statement.TypeError", "22G03",
                         "Type mismatch or unknown function: %s()", e->name);
    }
    gj_value_unref(arg);
    return out ? out : gj_value_null();
}

static gj_value *eval(const eval_ctx *c, const expr *e, const binding *b)
{
    switch (e->kind) {
    case E_LIT:
        return gj_value_ref(e->lit);
    case E_PARAM: {
        const gj_value *v = gj_value_map_get(c->q->params, e->name);
        if (!v)
            return eval_fail(c, "Neo.ClientError.Statement.ParameterMissing", "42N51",
                             "Expected parameter(s): %s", e->name);
        return gj_value_ref(v);
    }
    case E_VAR: {
        const gj_value *v = bound(b, e->name);
        if (!v)
            return eval_fail(c, "Neo.ClientError.Statement.SyntaxError", "42N62",
                             "Variable `%s` not defined", e->name);
        return gj_value_ref(v);
    }
    case E_PROP: {
        const gj_value *v = bound(b, e->name);
        if (!v)
            return eval_fail(c, "Neo.ClientError.Statement.SyntaxError", "42N62",
                             "Variable `%s` not defined", e->name);
        const gj_value *props = gj_value_type(v) == GJ_TMAP ? v : gj_value_element_properties(v);
        const gj_value *x = props ? gj_value_map_get(props, e->key) : NULL;
        return x ? gj_value_ref(x) : gj_value_null();
    }
    case E_LIST: {
        gj_value *l;
        if (gj_value_new_list(&l, e->n) != 0)
            return NULL;
        for (size_t i = 0; i < e->n; i++) {
            gj_value *x = eval(c, e->items[i], b);
            if (!x) {
                gj_value_unref(l);
                return NULL;
            }
            gj_value_list_append(l, x);
        }
        return l;
    }
    case E_MAP: {
        gj_value *m;
        if (gj_value_new_map(&m, e->n) != 0)
            return NULL;
        for (size_t i = 0; i < e->n; i++) {
            gj_value *x = eval(c, e->items[i], b);
            if (!x) {
                gj_value_unref(m);
                return NULL;
            }
            gj_value_map_put_str(m, e->keys[i], x);
        }
        return m;
    }
    case E_FUNC:
        return eval_func(c, e, b);
    }
    return NULL;
}

/* ======================================================================
 * Results
 * ====================================================================== */
struct bs_result {
    char *text;
    gj_value *fields;
    gj_value **rows;
    size_t n_rows, cap_rows, pos;
    bool range;                   /* lazy UNWIND range(a, b, step) */
    int64_t next, end, step, left;/* left: LIMIT for ranges (-1 = none) */
    bool range_done;
    long sleep_ms;
    bool explain, profile;
    bool wrote;
    long nodes_created, rels_created, props_set, labels_added, nodes_deleted, rels_deleted;
    const char *type;
    size_t emitted;
    /* One notification: an unknown label or relationship type in MATCH. */
    bool notify;
    bool notify_rel;
    char notify_name[NAME];
    size_t notify_at;
};

static bs_result *result_new(const char *text, size_t len)
{
    bs_result *r = calloc(1, sizeof *r);
    if (!r || !(r->text = malloc(len + 1)) || gj_value_new_list(&r->fields, 4) != 0)
        abort();
    memcpy(r->text, text, len);
    r->text[len] = '\0';
    r->type = "r";
    r->left = -1;
    return r;
}

static void result_add_row(bs_result *r, gj_value *row)
{
    if (r->n_rows == r->cap_rows) {
        r->cap_rows = r->cap_rows ? r->cap_rows * 2 : 16;
        r->rows = realloc(r->rows, r->cap_rows * sizeof *r->rows);
        if (!r->rows)
            abort();
    }
    r->rows[r->n_rows++] = row;
}

void bs_result_free(bs_result *r)
{
    if (!r)
        return;
    for (size_t i = r->pos; i < r->n_rows; i++)
        gj_value_unref(r->rows[i]);
    free(r->rows);
    gj_value_unref(r->fields);
    free(r->text);
    free(r);
}

const gj_value *bs_result_fields(const bs_result *r) { return r->fields; }
long bs_result_sleep_ms(const bs_result *r) { return r->sleep_ms; }
const char *bs_result_text(const bs_result *r) { return r->text; }

bool bs_result_done(const bs_result *r)
{
    if (r->explain)
        return true;
    if (r->range)
        return r->range_done;
    return r->pos >= r->n_rows;
}

gj_value *bs_result_next(bs_result *r)
{
    if (r->explain)
        return NULL;
    if (r->range) {
        if (r->range_done)
            return NULL;
        gj_value *row;
        if (gj_value_new_list(&row, 1) != 0)
            abort();
        gj_value_list_append(row, gj_value_int(r->next));
        if (r->left > 0)
            r->left--;
        if (r->left == 0 || (r->step > 0 ? r->next > r->end - r->step : r->next < r->end - r->step))
            r->range_done = true;
        else
            r->next += r->step;
        r->emitted++;
        return row;
    }
    if (r->pos >= r->n_rows)
        return NULL;
    r->emitted++;
    return r->rows[r->pos++];
}

static gj_value *plan_map(const bs_result *r, bool profile)
{
    gj_value *plan, *args, *ids, *children;
    gj_value_new_map(&plan, 10);
    gj_value_new_map(&args, 4);
    gj_value_map_put_str(args, "planner", gj_value_string("COST"));
    gj_value_map_put_str(args, "runtime", gj_value_string("PIPELINED"));
    gj_value_map_put_str(args, "Details", gj_value_string(r->text));
    gj_value_map_put_str(args, "EstimatedRows", gj_value_float((double)(r->range ? 1 : r->n_rows)));
    gj_value_new_list(&ids, gj_value_size(r->fields));
    for (size_t i = 0; i < gj_value_size(r->fields); i++)
        gj_value_list_append(ids, gj_value_ref(gj_value_list_at(r->fields, i)));
    gj_value_new_list(&children, 0);
    gj_value_map_put_str(plan, "operatorType", gj_value_string("ProduceResults@neo4j"));
    gj_value_map_put_str(plan, "identifiers", ids);
    gj_value_map_put_str(plan, "arguments", args);
    gj_value_map_put_str(plan, "children", children);
    if (profile) {
        gj_value_map_put_str(plan, "dbHits", gj_value_int(0));
        gj_value_map_put_str(plan, "rows", gj_value_int((int64_t)r->emitted));
        gj_value_map_put_str(plan, "pageCacheHits", gj_value_int(0));
        gj_value_map_put_str(plan, "pageCacheMisses", gj_value_int(0));
        gj_value_map_put_str(plan, "pageCacheHitRatio", gj_value_float(0.0));
        gj_value_map_put_str(plan, "time", gj_value_int(0));
    }
    return plan;
}

/* The unknown label / relationship type warning, as notifications (up to
 * 5.4) or as GQL statuses (5.6+). */
static void put_notification(const bs_result *r, const gj_ps_config *ps, gj_value *map)
{
    const char *what = r->notify_rel ? "relationship type" : "label";
    char legacy[512], gqldesc[512];
    snprintf(legacy, sizeof legacy,
             "One of the %s in your query is not available in the database, make sure you didn't misspell it "
             "or that the label is available when you run this statement in your application (the missing %s "
             "name is: %s)", r->notify_rel ? "relationship types" : "labels", what, r->notify_name);
    snprintf(gqldesc, sizeof gqldesc,
             "warn: %s does not exist. The %s `%s` does not exist in database `neo4j`. Verify that the spelling "
             "is correct.", what, what, r->notify_name);
    const char *code = r->notify_rel ? "Neo.ClientNotification.Statement.UnknownRelationshipTypeWarning"
                                     : "Neo.ClientNotification.Statement.UnknownLabelWarning";
    const char *title = r->notify_rel ? "The provided relationship type is not in the database."
                                      : "The provided label is not in the database.";
    gj_value *pos, *n, *list;
    gj_value_new_map(&pos, 3);
    gj_value_map_put_str(pos, "offset", gj_value_int((int64_t)r->notify_at));
    gj_value_map_put_str(pos, "line", gj_value_int(1));
    gj_value_map_put_str(pos, "column", gj_value_int((int64_t)r->notify_at + 1));
    gj_value_new_map(&n, 8);
    gj_value_new_list(&list, 1);
    if (ps->bolt_major > 5 || (ps->bolt_major == 5 && ps->bolt_minor >= 6)) {
        gj_value *diag;
        gj_value_new_map(&diag, 6);
        gj_value_map_put_str(diag, "OPERATION", gj_value_string(""));
        gj_value_map_put_str(diag, "OPERATION_CODE", gj_value_string("0"));
        gj_value_map_put_str(diag, "CURRENT_SCHEMA", gj_value_string("/"));
        gj_value_map_put_str(diag, "_severity", gj_value_string("WARNING"));
        gj_value_map_put_str(diag, "_classification", gj_value_string("UNRECOGNIZED"));
        gj_value_map_put_str(diag, "_position", pos);
        gj_value_map_put_str(n, "gql_status", gj_value_string(r->notify_rel ? "01N51" : "01N50"));
        gj_value_map_put_str(n, "status_description", gj_value_string(gqldesc));
        gj_value_map_put_str(n, "neo4j_code", gj_value_string(code));
        gj_value_map_put_str(n, "title", gj_value_string(title));
        gj_value_map_put_str(n, "description", gj_value_string(legacy));
        gj_value_map_put_str(n, "diagnostic_record", diag);
        gj_value_list_append(list, n);
        gj_value_map_put_str(map, "statuses", list);
    } else {
        gj_value_map_put_str(n, "code", gj_value_string(code));
        gj_value_map_put_str(n, "title", gj_value_string(title));
        gj_value_map_put_str(n, "description", gj_value_string(legacy));
        gj_value_map_put_str(n, "severity", gj_value_string("WARNING"));
        gj_value_map_put_str(n, "category", gj_value_string("UNRECOGNIZED"));
        gj_value_map_put_str(n, "position", pos);
        gj_value_list_append(list, n);
        gj_value_map_put_str(map, "notifications", list);
    }
}

void bs_result_summary(const bs_result *r, const gj_ps_config *ps, gj_value *map, bool *wrote)
{
    if (r->notify)
        put_notification(r, ps, map);
    gj_value_map_put_str(map, "type", gj_value_string(r->type));
    if (r->wrote) {
        gj_value *stats;
        gj_value_new_map(&stats, 8);
        struct { const char *k; long v; } counters[] = {
            { "nodes-created", r->nodes_created }, { "nodes-deleted", r->nodes_deleted },
            { "relationships-created", r->rels_created }, { "relationships-deleted", r->rels_deleted },
            { "properties-set", r->props_set }, { "labels-added", r->labels_added },
        };
        for (size_t i = 0; i < sizeof counters / sizeof counters[0]; i++)
            if (counters[i].v)
                gj_value_map_put_str(stats, counters[i].k, gj_value_int(counters[i].v));
        gj_value_map_put_str(stats, "contains-updates", gj_value_bool(true));
        gj_value_map_put_str(map, "stats", stats);
    }
    if (r->explain)
        gj_value_map_put_str(map, "plan", plan_map(r, false));
    if (r->profile)
        gj_value_map_put_str(map, "profile", plan_map(r, true));
    *wrote = r->wrote;
}

/* ======================================================================
 * Running queries
 * ====================================================================== */

static bool props_match(const eval_ctx *c, const expr *props, const gj_value *entity_props, const binding *b,
                        bool *failed)
{
    for (size_t i = 0; props && i < props->n; i++) {
        gj_value *want = eval(c, props->items[i], b);
        if (!want) {
            *failed = true;
            return false;
        }
        const gj_value *have = entity_props ? gj_value_map_get(entity_props, props->keys[i]) : NULL;
        bool eq = have && gj_value_equal(have, want);
        gj_value_unref(want);
        if (!eq)
            return false;
    }
    return true;
}

static bool node_matches(const eval_ctx *c, const node_pat *np, const bs_entity *e, const binding *b, bool *failed)
{
    if (e->is_rel)
        return false;
    for (size_t i = 0; i < np->n_labels; i++) {
        bool has = false;
        for (size_t k = 0; k < e->n_labels; k++)
            has |= !strcmp(e->labels[k], np->labels[i]);
        if (!has)
            return false;
    }
    return props_match(c, np->props, e->props, b, failed);
}

/* Property values Neo4j can store: no maps, nodes, ... */
static bool storable(const gj_value *v)
{
    switch (gj_value_type(v)) {
    case GJ_TMAP: case GJ_TNODE: case GJ_TEDGE: case GJ_TPATH: case GJ_TTAGGED: case GJ_TUUID:
        return false;
    case GJ_TLIST:
        for (size_t i = 0; i < gj_value_size(v); i++) {
            gj_type t = gj_value_type(gj_value_list_at(v, i));
            if (t == GJ_TLIST || t == GJ_TNULL || !storable(gj_value_list_at(v, i)))
                return false;
        }
        return true;
    default:
        return true;
    }
}

static gj_value *eval_props(const eval_ctx *c, const expr *props, bs_result *r)
{
    gj_value *m;
    gj_value_new_map(&m, props ? props->n : 0);
    for (size_t i = 0; props && i < props->n; i++) {
        gj_value *v = eval(c, props->items[i], NULL);
        if (!v) {
            gj_value_unref(m);
            return NULL;
        }
        if (gj_value_type(v) == GJ_TNULL) {
            gj_value_unref(v);
            continue;
        }
        if (!storable(v)) {
            fail_set(c->fail, "Neo.ClientError.Statement.TypeError", "22N01",
                     "Property values can only be of primitive types or arrays thereof. "
                     "Encountered: %s.", gj_type_name(gj_value_type(v)));
            gj_value_unref(v);
            gj_value_unref(m);
            return NULL;
        }
        gj_value_map_put_str(m, props->keys[i], v);
        r->props_set++;
    }
    return m;
}

/* Rows of RETURN items for one binding (or the aggregate over all). */
static int project(const eval_ctx *c, query *q, bs_result *r, const binding *rows, size_t n_rows)
{
    bool aggregate = false;
    for (size_t i = 0; i < q->n_items; i++)
        aggregate |= q->items[i].e->kind == E_FUNC && !strcasecmp(q->items[i].e->name, "count");
    size_t out_rows = aggregate ? 1 : n_rows;
    for (size_t k = 0; k < out_rows; k++) {
        if (q->limit >= 0 && (int64_t)k >= q->limit)
            break;
        gj_value *row;
        gj_value_new_list(&row, q->n_items);
        for (size_t i = 0; i < q->n_items; i++) {
            const expr *e = q->items[i].e;
            gj_value *v;
            if (e->kind == E_FUNC && !strcasecmp(e->name, "count")) {
                size_t cnt = 0;
                for (size_t j = 0; j < n_rows; j++) {
                    if (e->star) {
                        cnt++;
                        continue;
                    }
                    gj_value *x = e->n == 1 ? eval(c, e->items[0], &rows[j]) : NULL;
                    if (!x) {
                        gj_value_unref(row);
                        return -1;
                    }
                    cnt += gj_value_type(x) != GJ_TNULL;
                    gj_value_unref(x);
                }
                v = gj_value_int((int64_t)cnt);
            } else {
                v = eval(c, e, aggregate ? NULL : &rows[k]);
            }
            if (!v) {
                gj_value_unref(row);
                return -1;
            }
            gj_value_list_append(row, v);
        }
        result_add_row(r, row);
    }
    return 0;
}

static void set_fields(query *q, bs_result *r)
{
    for (size_t i = 0; i < q->n_items; i++)
        gj_value_list_append(r->fields, gj_value_string(q->items[i].name));
}

static int run_unwind(const eval_ctx *c, query *q, bs_result *r)
{
    const expr *src = q->source;
    if (q->n_items != 1 || q->items[0].e->kind != E_VAR || strcmp(q->items[0].e->name, q->unwind_var) != 0) {
        /* General form: materialize the list and project each element. */
        gj_value *list = eval(c, src, NULL);
        if (!list)
            return -1;
        if (gj_value_type(list) != GJ_TLIST) {
            gj_value_unref(list);
            fail_set(c->fail, "Neo.ClientError.Statement.TypeError", "22G03", "UNWIND needs a list");
            return -1;
        }
        size_t n = gj_value_size(list);
        binding *bs = calloc(n ? n : 1, sizeof *bs);
        for (size_t i = 0; i < n; i++) {
            bs[i].names[0] = q->unwind_var;
            bs[i].values[0] = (gj_value *)gj_value_list_at(list, i);
            bs[i].n = 1;
        }
        int rc = project(c, q, r, bs, n);
        free(bs);
        gj_value_unref(list);
        return rc;
    }
    if (src->kind == E_FUNC && !strcasecmp(src->name, "range")) {
        int64_t a[3] = { 0, 0, 1 };
        if (src->n < 2 || src->n > 3) {
            fail_set(c->fail, "Neo.ClientError.Statement.SyntaxError", "42001", "range() takes 2 or 3 arguments");
            return -1;
        }
        for (size_t i = 0; i < src->n; i++) {
            gj_value *v = eval(c, src->items[i], NULL);
            if (!v)
                return -1;
            int rc = gj_value_int_get(v, &a[i]);
            gj_value_unref(v);
            if (rc) {
                fail_set(c->fail, "Neo.ClientError.Statement.TypeError", "22G03", "range() needs integers");
                return -1;
            }
        }
        if (a[2] == 0) {
            fail_set(c->fail, "Neo.ClientError.Statement.ArgumentError", "22N00", "Step argument to range() can't be 0");
            return -1;
        }
        r->range = true;
        r->next = a[0];
        r->end = a[1];
        r->step = a[2];
        r->left = q->limit;
        r->range_done = (a[2] > 0 ? a[0] > a[1] : a[0] < a[1]) || q->limit == 0;
        return 0;
    }
    gj_value *list = eval(c, src, NULL);
    if (!list)
        return -1;
    if (gj_value_type(list) != GJ_TLIST) {
        gj_value_unref(list);
        fail_set(c->fail, "Neo.ClientError.Statement.TypeError", "22G03", "UNWIND needs a list");
        return -1;
    }
    for (size_t i = 0; i < gj_value_size(list) && (q->limit < 0 || (int64_t)i < q->limit); i++) {
        gj_value *row;
        gj_value_new_list(&row, 1);
        gj_value_list_append(row, gj_value_ref(gj_value_list_at(list, i)));
        result_add_row(r, row);
    }
    gj_value_unref(list);
    return 0;
}

static int run_create(const eval_ctx *c, query *q, bs_result *r)
{
    bs_store *s = &c->q->srv->store;
    const pattern *pat = &q->pat;
    gj_value *pa = eval_props(c, pat->a.props, r), *pb = NULL, *pr = NULL;
    if (!pa)
        return -1;
    if (pat->has_rel) {
        if (!pat->rel_type[0]) {
            gj_value_unref(pa);
            fail_set(c->fail, "Neo.ClientError.Statement.SyntaxError", "42001",
                     "Exactly one relationship type must be specified for CREATE");
            return -1;
        }
        if (!(pb = eval_props(c, pat->b.props, r)) || !(pr = eval_props(c, pat->rel_props, r))) {
            gj_value_unref(pa);
            gj_value_unref(pb);
            return -1;
        }
    }
    const char *la[MAX_LABELS], *lb[MAX_LABELS];
    for (size_t i = 0; i < pat->a.n_labels; i++)
        la[i] = pat->a.labels[i];
    for (size_t i = 0; i < pat->b.n_labels; i++)
        lb[i] = pat->b.labels[i];
    pthread_mutex_lock(&s->lock);
    bs_entity *a = bs_store_add(s, false, la, pat->a.n_labels, 0, 0, pa, c->tx), *b = NULL, *rel = NULL;
    r->nodes_created++;
    r->labels_added += (long)pat->a.n_labels;
    if (pat->has_rel) {
        b = bs_store_add(s, false, lb, pat->b.n_labels, 0, 0, pb, c->tx);
        const char *type[1] = { pat->rel_type };
        if (a && b)
            rel = pat->dir > 0 ? bs_store_add(s, true, type, 1, a->id, b->id, pr, c->tx)
                               : bs_store_add(s, true, type, 1, b->id, a->id, pr, c->tx);
        r->nodes_created++;
        r->rels_created++;
        r->labels_added += (long)pat->b.n_labels;
    }
    gj_value *va = a ? bs_entity_value(a) : NULL, *vb = b ? bs_entity_value(b) : NULL;
    gj_value *vr = rel ? bs_entity_value(rel) : NULL;
    pthread_mutex_unlock(&s->lock);
    r->wrote = true;
    r->type = q->n_items ? "rw" : "w";
    binding bd = { { 0 }, { 0 }, 0 };
    if (pat->a.var[0]) {
        bd.names[bd.n] = pat->a.var;
        bd.values[bd.n++] = va;
    }
    if (pat->b.var[0] && vb) {
        bd.names[bd.n] = pat->b.var;
        bd.values[bd.n++] = vb;
    }
    if (pat->rel_var[0] && vr) {
        bd.names[bd.n] = pat->rel_var;
        bd.values[bd.n++] = vr;
    }
    int rc = q->n_items ? project(c, q, r, &bd, 1) : 0;
    gj_value_unref(va);
    gj_value_unref(vb);
    gj_value_unref(vr);
    return rc;
}

static gj_value *path_value(gj_value *a, gj_value *rel, gj_value *b)
{
    gj_value *walk, *path;
    gj_value_new_list(&walk, 3);
    gj_value_list_append(walk, gj_value_ref(a));
    gj_value_list_append(walk, gj_value_ref(rel));
    gj_value_list_append(walk, gj_value_ref(b));
    if (gj_value_new_path(&path, walk, NULL) != 0)
        return NULL;
    return path;
}

static int run_match(const eval_ctx *c, query *q, bs_result *r)
{
    bs_store *s = &c->q->srv->store;
    const pattern *pat = &q->pat;
    binding *rows = NULL;
    size_t n = 0, cap = 0;
    gj_value **owned = NULL;
    size_t n_owned = 0, cap_owned = 0;
    bool failed = false;
    int rc = 0;
#define OWN(v) do { if (n_owned == cap_owned) { cap_owned = cap_owned ? 2 * cap_owned : 64; \
        owned = realloc(owned, cap_owned * sizeof *owned); if (!owned) abort(); } owned[n_owned++] = (v); } while (0)
#define ADD_ROW() do { if (n == cap) { cap = cap ? 2 * cap : 64; rows = realloc(rows, cap * sizeof *rows); \
        if (!rows) abort(); } memset(&rows[n], 0, sizeof rows[n]); n++; } while (0)

    pthread_mutex_lock(&s->lock);
    /* An unknown label or relationship type gives a notification. */
    const node_pat *nps[2] = { &pat->a, pat->has_rel ? &pat->b : NULL };
    for (int k = 0; k < 2 && !r->notify; k++)
        for (size_t l = 0; nps[k] && l < nps[k]->n_labels && !r->notify; l++) {
            bool known = false;
            for (size_t i = 0; i < s->n && !known; i++)
                for (size_t j = 0; !s->items[i]->is_rel && j < s->items[i]->n_labels && !known; j++)
                    known = !strcmp(s->items[i]->labels[j], nps[k]->labels[l]);
            if (!known) {
                r->notify = true;
                snprintf(r->notify_name, sizeof r->notify_name, "%s", nps[k]->labels[l]);
                r->notify_at = nps[k]->label_at[l];
            }
        }
    if (!r->notify && pat->has_rel && pat->rel_type[0]) {
        bool known = false;
        for (size_t i = 0; i < s->n && !known; i++)
            known = s->items[i]->is_rel && !strcmp(s->items[i]->labels[0], pat->rel_type);
        if (!known) {
            r->notify = r->notify_rel = true;
            snprintf(r->notify_name, sizeof r->notify_name, "%s", pat->rel_type);
            r->notify_at = pat->rel_type_at;
        }
    }
    for (size_t i = 0; i < s->n && !failed; i++) {
        bs_entity *e = s->items[i];
        if (!bs_entity_visible(e, c->tx))
            continue;
        if (!pat->has_rel) {
            if (!node_matches(c, &pat->a, e, NULL, &failed))
                continue;
            gj_value *v = bs_entity_value(e);
            OWN(v);
            ADD_ROW();
            binding *b = &rows[n - 1];
            b->names[0] = pat->a.var[0] ? pat->a.var : "_";
            b->values[0] = v;
            b->n = 1;
            continue;
        }
        if (!e->is_rel || (pat->rel_type[0] && strcmp(e->labels[0], pat->rel_type) != 0))
            continue;
        if (!props_match(c, pat->rel_props, e->props, NULL, &failed))
            continue;
        const bs_entity *from = bs_store_get(s, pat->dir > 0 ? e->start : e->end);
        const bs_entity *to = bs_store_get(s, pat->dir > 0 ? e->end : e->start);
        if (!from || !to || !bs_entity_visible(from, c->tx) || !bs_entity_visible(to, c->tx) ||
            !node_matches(c, &pat->a, from, NULL, &failed) || !node_matches(c, &pat->b, to, NULL, &failed))
            continue;
        gj_value *va = bs_entity_value(from), *vb = bs_entity_value(to), *vr = bs_entity_value(e);
        OWN(va);
        OWN(vb);
        OWN(vr);
        ADD_ROW();
        binding *b = &rows[n - 1];
        if (pat->a.var[0]) {
            b->names[b->n] = pat->a.var;
            b->values[b->n++] = va;
        }
        if (pat->b.var[0]) {
            b->names[b->n] = pat->b.var;
            b->values[b->n++] = vb;
        }
        if (pat->rel_var[0]) {
            b->names[b->n] = pat->rel_var;
            b->values[b->n++] = vr;
        }
        if (pat->path_var[0]) {
            gj_value *pv = path_value(va, vr, vb);
            OWN(pv);
            b->names[b->n] = pat->path_var;
            b->values[b->n++] = pv;
        }
    }
    pthread_mutex_unlock(&s->lock);
    if (failed) {
        rc = -1;
        goto out;
    }
    /* WHERE v.key = expr */
    if (q->where_prop) {
        size_t w = 0;
        for (size_t i = 0; i < n; i++) {
            gj_value *lhs = eval(c, q->where_prop, &rows[i]), *rhs = lhs ? eval(c, q->where_value, &rows[i]) : NULL;
            if (!lhs || !rhs) {
                gj_value_unref(lhs);
                rc = -1;
                goto out;
            }
            if (gj_value_equal(lhs, rhs))
                rows[w++] = rows[i];
            gj_value_unref(lhs);
            gj_value_unref(rhs);
        }
        n = w;
    }
    if (q->delete_) {
        /* Delete what the variable is bound to; DETACH also deletes relationships. */
        pthread_mutex_lock(&s->lock);
        for (size_t i = 0; i < n; i++) {
            const gj_value *v = bound(&rows[i], q->delete_var);
            int64_t id;
            if (!v || gj_value_int_get(gj_value_element_id(v), &id) != 0)
                continue;
            bs_entity *e = (bs_entity *)bs_store_get(s, id);
            if (!e || !bs_entity_visible(e, c->tx))
                continue;
            if (!e->is_rel) {
                bool attached = false;
                for (size_t k = 0; k < s->n; k++) {
                    bs_entity *x = s->items[k];
                    if (x->is_rel && bs_entity_visible(x, c->tx) && (x->start == id || x->end == id)) {
                        attached = true;
                        if (q->detach) {
                            bs_store_delete(s, x, c->tx);
                            r->rels_deleted++;
                        }
                    }
                }
                if (attached && !q->detach) {
                    pthread_mutex_unlock(&s->lock);
                    fail_set(c->fail, "Neo.ClientError.Schema.ConstraintValidationFailed", "22N39",
                             "Cannot delete node<%" PRId64 ">, because it still has relationships. "
                             "To delete this node, you must first delete its relationships.", id);
                    rc = -1;
                    goto out;
                }
                r->nodes_deleted++;
            } else {
                r->rels_deleted++;
            }
            bs_store_delete(s, e, c->tx);
        }
        pthread_mutex_unlock(&s->lock);
        r->wrote = r->nodes_deleted || r->rels_deleted;
        r->type = "w";
    } else {
        rc = project(c, q, r, rows, n);
    }
out:
    for (size_t i = 0; i < n_owned; i++)
        gj_value_unref(owned[i]);
    free(owned);
    free(rows);
#undef OWN
#undef ADD_ROW
    return rc;
}

int bs_query_run(const bs_query_ctx *ctx, const char *text, size_t len, bs_result **out, bs_failure *fail)
{
    parser p = { .text = text, .len = len, .fail = fail };
    query *q = calloc(1, sizeof *q);
    if (!q)
        abort();
    int rc = parse_query(&p, q);
    bs_result *r = NULL;
    if (!rc) {
        r = result_new(text, len);
        r->explain = q->explain;
        r->profile = q->profile;
        set_fields(q, r);
        bool writes = q->kind == Q_CREATE || (q->kind == Q_MATCH && q->delete_);
        const bs_config *cfg = &ctx->srv->cfg;
        bool follower = cfg->members > 1 && !cfg->explicit_routing && ctx->session && ctx->session->member != 0;
        if (writes && (cfg->read_only || follower)) {
            fail_set(fail, "Neo.ClientError.Cluster.NotALeader", "08N07",
                     "No write operations are allowed on this database. This is a read only Neo4j instance.");
            rc = -1;
        } else if (writes && ctx->read_mode) {
            fail_set(fail, "Neo.ClientError.Statement.AccessMode", "08N07",
                     "Writing in read access mode not allowed. Attempted write to internal graph 0 (neo4j)");
            rc = -1;
        } else if (!q->explain) {
            eval_ctx c = { ctx, fail, ctx->tx };
            switch (q->kind) {
            case Q_RETURN:
                rc = project(&c, q, r, NULL, 1);
                break;
            case Q_UNWIND:
                rc = run_unwind(&c, q, r);
                break;
            case Q_CREATE:
                rc = run_create(&c, q, r);
                break;
            case Q_MATCH:
                rc = run_match(&c, q, r);
                break;
            case Q_SLEEP: {
                gj_value *ms = eval(&c, q->source, NULL);
                int64_t v = 0;
                if (!ms || gj_value_int_get(ms, &v) != 0 || v < 0) {
                    if (ms)
                        fail_set(fail, "Neo.ClientError.Statement.TypeError", "22G03",
                                 "apoc.util.sleep needs a non-negative integer");
                    rc = -1;
                }
                gj_value_unref(ms);
                r->sleep_ms = (long)v;
                break;
            }
            }
        }
    }
    for (size_t i = 0; i < q->lits.n; i++)
        gj_value_unref(q->lits.v[i]);
    free(q);
    arena_free(&p);
    if (rc) {
        bs_result_free(r);
        return -1;
    }
    *out = r;
    return 0;
}
