/* aql.h — the parsed form of a query, shared by aql_parse.c and aql_exec.c
 * (private to the reference server). */
#ifndef GJ_TESTS_ARANGO_AQL_H
#define GJ_TESTS_ARANGO_AQL_H

#include "rs.h"

#define AQL_MAX_FILTERS 8

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
    expr *flhs[AQL_MAX_FILTERS], *frhs[AQL_MAX_FILTERS];
    int fop[AQL_MAX_FILTERS];
    size_t nfilters;
    int has_limit;
    int64_t offset, limit;
    expr *ret;
    expr *doc;
};

void rs_aql_seterr(rs_aql_error *err, int status, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
