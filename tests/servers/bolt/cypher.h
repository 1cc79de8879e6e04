/* cypher.h — the query repertoire of bolt-refserver (private to
 * cypher_parse.c, cypher.c and result.c): the syntax tree, the result
 * stream, and the helpers they share.  See cypher_parse.c for the grammar. */
#ifndef BS_CYPHER_H
#define BS_CYPHER_H

#include "bs.h"

#define NAME 64
#define MAX_ITEMS 64
#define MAX_LABELS 4

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

/* Literal values are kept in a list so they are freed with the query. */
typedef struct lits {
    gj_value *v[256];
    size_t n;
} lits;

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

typedef struct query {
    qkind kind;
    bool explain, profile;
    expr *source;                   /* UNWIND source, sleep ms */
    char unwind_var[NAME];
    pattern pat;
    expr *where_prop, *where_value;
    char where_op[3];               /* "=", "<>", "<", "<=", ">", ">=" */
    bool delete_, detach;
    char delete_var[NAME];
    ret_item items[MAX_ITEMS];
    size_t n_items;
    int64_t limit;
    lits lits;
    void *arena;                    /* the AST lives here (cypher_parse.c) */
} query;

/* Parse a query into q (zeroed by the caller): 0, or -1 with *fail set
 * (a syntax error as Neo4j reports it).  Free with bs_cypher_query_free. */
int bs_cypher_parse(query *q, const char *text, size_t len, bs_failure *fail);
void bs_cypher_query_free(query *q);

/* Fill a failure (printf-style message). */
void bs_fail_set(bs_failure *f, const char *code, const char *gql, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

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

bs_result *bs_result_new(const char *text, size_t len);
void bs_result_add_row(bs_result *r, gj_value *row);

#endif
