/*
 * Where a backend puts what a request produced (lib/core/sink.c).  One sink
 * per running job; used only by the worker running the job.  Never installed.
 */
#ifndef GJ_CORE_SINK_H
#define GJ_CORE_SINK_H

#include "internal.h"

typedef struct gj_sink gj_sink;

/* Field names (a list of strings); taken over. */
int gj__sink_fields(gj_sink *s, gj_value *fields);

/* One row; taken over.  With a row callback the row goes to it (and is then
 * released); returns GJ_EABORTED when the callback asked to stop — the
 * backend must then stop reading, release server-side state (cursor) and
 * return GJ_EABORTED. */
int gj__sink_row(gj_sink *s, gj_value *row);

/* The same, counting `bytes` (what the row took on the wire) against the
 * target's max_result_size when rows are collected (a row callback is not
 * limited).  Past the limit the row is released and GJ_ETOOBIG returned:
 * the backend must stop the server's work (RESET, cursor delete) and
 * return GJ_ETOOBIG with gj__sink_too_big's message. */
int gj__sink_row_sized(gj_sink *s, gj_value *row, size_t bytes);

/* Count bytes received for the collected result (a batch, before its rows
 * are added with gj__sink_row): GJ_ETOOBIG past max_result_size. */
int gj__sink_account(gj_sink *s, size_t bytes);

/* Fill err with "the result is larger than max_result_size (N bytes)"
 * and return GJ_ETOOBIG. */
int gj__sink_too_big(const gj_sink *s, gj_error *err);

/* A metadata entry; value taken over.  A key set twice: last wins. */
int gj__sink_meta(gj_sink *s, const char *key, gj_value *value);

/* True once the job was asked to cancel (backends that poll may check). */
bool gj__sink_cancel_requested(const gj_sink *s);

/* The request's effective response timeout in ms (0 = none), combining the
 * request's and the target's. */
int64_t gj__sink_response_timeout(const gj_sink *s);

/* The backend's session state (session_open's) when the job belongs to a
 * session, else NULL. */
void *gj__sink_session(const gj_sink *s);

/* The request's deadline (gj__now_ms clock; INT64_MAX = none): the
 * response timeout counted from when execute() was called.  It bounds the
 * whole request, from sending it to its last byte. */
int64_t gj__sink_deadline(const gj_sink *s);

/* ---- for the job engine and tests ---- */
typedef struct gj_result gj_result;
/* A standalone sink (tests of backends): row_fn may be NULL. */
int gj__sink_new(gj_sink **out, gj_row_fn row_fn, void *row_payload);
void gj__sink_free(gj_sink *s);
/* Turn what was collected into a result (the sink is emptied). */
int gj__sink_take_result(gj_sink *s, gj_result **out);

#endif
