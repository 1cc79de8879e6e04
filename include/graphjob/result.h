/*
 * libgraphjob — results.
 *
 * A result holds what a DONE job produced: the field names (Bolt), the rows
 * (records, documents, traversers, the GraphQL data) and the metadata
 * (statistics, bookmark, query type, plan, notifications, cursor extra,
 * GraphQL extensions ...).  It is immutable and may be read from any thread;
 * it belongs to whoever took it from the job (gj_job_result) and is freed
 * with gj_result_free().
 *
 * Threading: any thread; all functions are read-only except _free.
 */
#ifndef GRAPHJOB_RESULT_H
#define GRAPHJOB_RESULT_H

#include "common.h"

GJ_BEGIN_DECLS

/* Free a result and every value it holds (values the program took a
 * reference to with gj_value_ref stay valid).  NULL is fine. */
GJ_EXTERN void gj_result_free(gj_result *res);

/* Field names: a list of strings, or NULL when the backend has none.
 * Borrowed from res. */
GJ_EXTERN const gj_value *gj_result_fields(const gj_result *res);

/* The rows: a list (never NULL; empty when rows went to a row callback). */
GJ_EXTERN const gj_value *gj_result_rows(const gj_result *res);
GJ_EXTERN size_t gj_result_row_count(const gj_result *res);
/* Row i, or NULL past the end.  A Bolt row is a list of field values. */
GJ_EXTERN const gj_value *gj_result_row(const gj_result *res, size_t i);

/* Metadata: a map (never NULL). */
GJ_EXTERN const gj_value *gj_result_meta(const gj_result *res);

/* The whole result as JSON: {"fields":[...],"rows":[...],"meta":{...}}.
 * Caller frees *out with gj_free(). */
GJ_EXTERN int gj_result_to_json(const gj_result *res, unsigned flags, char **out,
                                size_t *len);

/* ==== Typed accessors ===================================================
 * (this block and lib/core/result_meta.c go together)
 *
 * What users read from every result, without knowing the meta keys.  Each
 * reads gj_result_meta(res) (and the fields and rows); none allocates; a
 * string returned is borrowed from res (valid until gj_result_free).  A
 * NULL res is allowed: NULL, 0, false or GJ_QUERY_TYPE_UNKNOWN.  A meta
 * entry of an unexpected type is treated as absent.
 *
 * Structs filled by these calls start with their size, set by the caller
 * (the _INIT macros do it): the library fills only the members that fit,
 * so a program built against an older header keeps working.
 */

/* ---- Reading a row by field name ----------------------------------------- */

/* The position of field `name` in gj_result_fields(res) (Bolt rows are
 * lists in that order).  True and *index set when found; false otherwise
 * (a result without fields: ArangoDB, Gremlin, GraphQL). */
GJ_EXTERN bool gj_result_field_index(const gj_result *res, const char *name, size_t *index);

/* The value named `name` in row `row`: for a row that is a list (Bolt), the
 * item at the field's position; for a row that is a map (an ArangoDB
 * document, a GraphQL object), the value under that key.  NULL when the
 * row or the name does not exist (a null value is a GJ_TNULL value, never
 * NULL).  Borrowed from res. */
GJ_EXTERN const gj_value *gj_result_row_get(const gj_result *res, size_t row, const char *name);

/* ---- Neo4j (Bolt): the result summary (meta keys in docs/bolt.md) -------- */

/* The bookmark of the work (an auto-commit query's, or COMMIT's), to pass
 * to a later request that must see it; NULL when the server sent none. */
GJ_EXTERN const char *gj_result_bookmark(const gj_result *res);

/* The query type the server reported (meta "type"). */
typedef enum gj_query_type {
    GJ_QUERY_TYPE_UNKNOWN = 0,     /* absent or not one of the below */
    GJ_QUERY_TYPE_READ = 1,        /* "r" */
    GJ_QUERY_TYPE_WRITE = 2,       /* "w" */
    GJ_QUERY_TYPE_READ_WRITE = 3,  /* "rw" */
    GJ_QUERY_TYPE_SCHEMA = 4       /* "s": schema write */
} gj_query_type;
GJ_EXTERN gj_query_type gj_result_query_type(const gj_result *res);

/* The update counters (meta "stats"; Neo4j sends only the ones that are
 * not 0: the others read 0 here).  contains_updates and
 * contains_system_updates are the server's flags when it sent them, else
 * computed as neo4j-driver does (any counter > 0; system_updates > 0). */
typedef struct gj_counters {
    size_t size;                   /* sizeof(gj_counters): set by the caller */
    int64_t nodes_created;
    int64_t nodes_deleted;
    int64_t relationships_created;
    int64_t relationships_deleted;
    int64_t properties_set;
    int64_t labels_added;
    int64_t labels_removed;
    int64_t indexes_added;
    int64_t indexes_removed;
    int64_t constraints_added;
    int64_t constraints_removed;
    int64_t system_updates;
    bool contains_updates;
    bool contains_system_updates;
} gj_counters;
#define GJ_COUNTERS_INIT { sizeof(gj_counters), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, false, false }
/* Fill *out (every member that fits out->size; zeros when absent).  True
 * when the result has counters; false when it has none, or out->size is
 * smaller than the first version of the struct (nothing is written). */
GJ_EXTERN bool gj_result_counters(const gj_result *res, gj_counters *out);

/* Notifications and GQL statuses: the result's "statuses" (Bolt 5.6+: GQL
 * status objects, success statuses included), else its "notifications"
 * (Bolt <= 5.4).  Each entry, whichever form it came in: */
typedef struct gj_notification {
    size_t size;                   /* sizeof(gj_notification): set by the caller */
    const char *code;              /* Neo4j code ("Neo.ClientNotification.Statement.
                                      UnknownLabelWarning"), or NULL: "code",
                                      or a status's "neo4j_code" */
    const char *gql_status;        /* "01N50" (statuses only), or NULL */
    const char *title;             /* or NULL */
    const char *description;       /* "description", or NULL */
    const char *status_description;/* a status's "status_description", or NULL */
    const char *severity;          /* "WARNING", "INFORMATION" ... ("severity", or
                                      diagnostic_record._severity), or NULL */
    const char *classification;    /* "UNRECOGNIZED", "PERFORMANCE" ... ("category",
                                      or diagnostic_record._classification), or NULL */
    bool has_position;             /* the next three are meaningful */
    int64_t offset, line, column;  /* in the query text */
    bool is_notification;          /* a notification (a notifications entry, or a
                                      status with neo4j_code), not a plain status */
    const gj_value *raw;           /* the entry as the server sent it (a map) */
} gj_notification;
#define GJ_NOTIFICATION_INIT { sizeof(gj_notification), NULL, NULL, NULL, NULL, NULL, NULL, \
                               NULL, false, 0, 0, 0, false, NULL }
/* How many entries there are. */
GJ_EXTERN size_t gj_result_notification_count(const gj_result *res);
/* Entry i into *out (borrowed strings).  False past the end, for an entry
 * that is not a map, or when out->size is too small (nothing written). */
GJ_EXTERN bool gj_result_notification(const gj_result *res, size_t i, gj_notification *out);

/* The server that ran the query: its address "host:port" (meta "address";
 * an ArangoDB result that has no "address" gives meta "coordinator", which
 * detached and fire-and-forget results carry) and its agent string (meta
 * "server": "Neo4j/5.26.0"), or NULL. */
GJ_EXTERN const char *gj_result_server_address(const gj_result *res);
GJ_EXTERN const char *gj_result_server_agent(const gj_result *res);

/* ---- ArangoDB: the cursor's count and extra (meta keys in docs/arango.md) */

/* The total number of result documents (meta "count", sent when the query
 * asked for option count: true).  True and *count set when present. */
GJ_EXTERN bool gj_result_count(const gj_result *res, int64_t *count);

/* The query's extra.stats (absent members read 0; full_count -1 when the
 * query did not ask for option fullCount). */
typedef struct gj_arango_stats {
    size_t size;                   /* sizeof(gj_arango_stats): set by the caller */
    int64_t writes_executed;
    int64_t writes_ignored;
    int64_t scanned_full;
    int64_t scanned_index;
    int64_t filtered;
    int64_t full_count;            /* -1: not asked for */
    int64_t http_requests;
    int64_t document_lookups;
    int64_t seeks;
    int64_t cursors_created;
    int64_t cursors_rearmed;
    int64_t cache_hits;
    int64_t cache_misses;
    int64_t peak_memory_usage;     /* bytes */
    int64_t intermediate_commits;
    double execution_time;         /* seconds */
} gj_arango_stats;
#define GJ_ARANGO_STATS_INIT { sizeof(gj_arango_stats), 0, 0, 0, 0, 0, -1, 0, 0, 0, 0, 0, 0, \
                               0, 0, 0, 0.0 }
/* Fill *out (members that fit out->size).  True when the result has
 * extra.stats; false when not, or out->size is too small (nothing written). */
GJ_EXTERN bool gj_result_arango_stats(const gj_result *res, gj_arango_stats *out);

/* The query's extra.warnings ({code, message} each). */
GJ_EXTERN size_t gj_result_warning_count(const gj_result *res);
/* Warning i: its code (1562 ...) and message (borrowed); either out may be
 * NULL.  False past the end or for an entry without a numeric code. */
GJ_EXTERN bool gj_result_warning(const gj_result *res, size_t i, int64_t *code,
                                 const char **message);

/* ==== end of the typed accessors ======================================== */

GJ_END_DECLS

#endif
