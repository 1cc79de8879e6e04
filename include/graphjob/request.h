/*
 * libgraphjob — requests.
 *
 * A request is one thing to run on a backend: a Cypher query, a Gremlin
 * script, an AQL query, a GraphQL operation, or a backend-specific operation
 * (an ArangoDB document call, a generic HTTP request ...).  It is built on
 * one thread, then submitted any number of times: gj_client_submit() takes a
 * reference and freezes it, after which the setters return GJ_ESTATE (copy
 * it with gj_request_copy() to change it).
 *
 * Threading: a request being built belongs to its thread; a frozen request
 * may be submitted from several threads at once.
 */
#ifndef GRAPHJOB_REQUEST_H
#define GRAPHJOB_REQUEST_H

#include "common.h"

GJ_BEGIN_DECLS

/* The operation every backend knows: run `text` as its query language. */
#define GJ_OP_QUERY "query"

/* Called on a worker thread for every row as it arrives, instead of
 * collecting rows into the result (memory stays bounded by one fetch batch).
 * row is borrowed for the duration of the call (gj_value_ref() to keep it).
 * Return 0 to go on, non-zero to stop: the job then ends DONE with error
 * GJ_EABORTED, and the backend releases the server-side cursor. */
typedef int (*gj_row_fn)(const gj_value *row, void *payload);

/* A new request.  op: GJ_OP_QUERY or a backend-specific operation name;
 * text: the query text (copied; may be NULL for operations without text). */
GJ_EXTERN int gj_request_new(gj_request **out, const char *op, const char *text);

/* A shorthand for gj_request_new(out, GJ_OP_QUERY, text). */
GJ_EXTERN int gj_request_new_query(gj_request **out, const char *text);

/* An unfrozen deep copy. */
GJ_EXTERN int gj_request_copy(gj_request **out, const gj_request *req);

GJ_EXTERN gj_request *gj_request_ref(gj_request *req);
GJ_EXTERN void gj_request_unref(gj_request *req);

/* A parameter (Cypher $name, Gremlin binding, AQL @name, GraphQL variable).
 * Takes over `value` (released even on failure).  A name set twice: last wins. */
GJ_EXTERN int gj_request_set_param(gj_request *req, const char *name, gj_value *value);

/* A backend-specific option (Bolt: "fetch_size", "mode"; ArangoDB:
 * "batchSize", "async"; ...).  Takes over `value`.  Each backend documents
 * its options; an option a backend does not know makes the job fail with
 * GJ_EINVAL naming it. */
GJ_EXTERN int gj_request_set_option(gj_request *req, const char *key, gj_value *value);

/* Which configured target runs it (NULL = the "default" target, or the only
 * one). */
GJ_EXTERN int gj_request_set_target(gj_request *req, const char *target);

/* The database (Neo4j db, ArangoDB _db) — overrides the target's. */
GJ_EXTERN int gj_request_set_database(gj_request *req, const char *database);

/* The response timeout in milliseconds (overrides the target's
 * response_timeout; 0 = none). */
GJ_EXTERN int gj_request_set_timeout(gj_request *req, int64_t millis);

/* Stream rows to fn instead of collecting them (see gj_row_fn). */
GJ_EXTERN int gj_request_set_row_callback(gj_request *req, gj_row_fn fn, void *payload);

/* Read back (borrowed; valid while the request lives). */
GJ_EXTERN const char *gj_request_op(const gj_request *req);
GJ_EXTERN const char *gj_request_text(const gj_request *req);   /* may be NULL */
GJ_EXTERN const char *gj_request_target(const gj_request *req); /* may be NULL */
GJ_EXTERN const char *gj_request_database(const gj_request *req);/* may be NULL */
GJ_EXTERN int64_t gj_request_timeout(const gj_request *req);    /* -1 = unset */
/* The parameters as a map value (never NULL; empty when none). */
GJ_EXTERN const gj_value *gj_request_params(const gj_request *req);
/* The options as a map value (never NULL). */
GJ_EXTERN const gj_value *gj_request_options(const gj_request *req);
/* One option, or NULL. */
GJ_EXTERN const gj_value *gj_request_option(const gj_request *req, const char *key);

GJ_END_DECLS

#endif
