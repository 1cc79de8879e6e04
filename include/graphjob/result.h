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

GJ_END_DECLS

#endif
