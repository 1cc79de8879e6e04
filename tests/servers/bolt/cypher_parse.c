/* cypher_parse.c — the grammar of bolt-refserver's fixed query repertoire.  Not
 * Cypher: a small grammar that covers what the tests send, and a syntax error
 * (as Neo4j reports it) for everything else.
 *
 *   [EXPLAIN|PROFILE] RETURN item, ... [LIMIT n]
 *   [EXPLAIN|PROFILE] UNWIND expr AS x RETURN item, ... [LIMIT n]     expr: range(a, b[, step]), a list, $param
 *   CREATE pattern [RETURN item, ...]
 *   MATCH pattern [WHERE v.key OP expr] RETURN item, ... [LIMIT n]    OP: = <> < <= > >=
 *   MATCH pattern [WHERE v.key OP expr] [DETACH] DELETE v
 *   CALL apoc.util.sleep(ms)                                          slow; RESET interrupts it
 *
 *   pattern: [p =] (a[:Label...] [{k: expr, ...}]) [-[r[:TYPE] [{...}]]-> (b ...)]   (or <-[...]-)
 *   item:    expr [AS name];  expr: literal, $param, [..], {k: ..}, v, v.key, count(*),
 *            count(v), id(v), elementId(v), labels(v), type(r), size(x)
 */
#include "cypher.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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
    bs_fail_set(p->fail, "Neo.ClientError.Statement.SyntaxError", "42001",
             "Invalid input %s: expected %s (line 1, column %zu (offset: %zu))", what, expected, at + 1, at);
    /* As Neo4j 5.26+ reports it: 42001 caused by 42I06 (invalid input). */
    p->fail->description = "error: syntax error or access rule violation - invalid syntax";
    p->fail->cause_gql = "42I06";
    snprintf(p->fail->cause_description, sizeof p->fail->cause_description,
             "error: syntax error or access rule violation - invalid input. %s", p->fail->message);
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



static expr *new_expr(parser *p, ekind k, size_t at)
{
    expr *e = arena_alloc(p, sizeof *e);
    e->kind = k;
    e->at = at;
    return e;
}


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

/* A comparison operator: =, <>, <, <=, >, >= (two punctuation tokens for
 * the two-character ones, with nothing between them). */
static int parse_comparison(parser *p, char op[3])
{
    if (!is_punct(p, '=') && !is_punct(p, '<') && !is_punct(p, '>'))
        return syntax_error(p, "a comparison operator (=, <>, <, <=, >, >=)");
    char first = p->t.p;
    size_t end = p->t.at + 1;
    op[0] = first;
    op[1] = op[2] = '\0';
    if (next(p))
        return -1;
    if (first != '=' && p->t.kind == T_PUNCT && p->t.at == end &&
        (p->t.p == '=' || (first == '<' && p->t.p == '>'))) {
        op[1] = p->t.p;
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
            if (parse_comparison(p, q->where_op) || !(q->where_value = parse_expr(p, &q->lits)))
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
            bs_fail_set(p->fail, "Neo.ClientError.Procedure.ProcedureNotFound", "42N08",
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

int bs_cypher_parse(query *q, const char *text, size_t len, bs_failure *fail)
{
    parser p = { .text = text, .len = len, .fail = fail };
    int rc = parse_query(&p, q);
    q->arena = p.arena;
    return rc;
}

void bs_cypher_query_free(query *q)
{
    for (size_t i = 0; i < q->lits.n; i++)
        gj_value_unref(q->lits.v[i]);
    parser p = { .arena = q->arena };
    arena_free(&p);
    q->arena = NULL;
}
