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

/* A metadata entry; value taken over.  A key set twice: last wins. */
int gj__sink_meta(gj_sink *s, const char *key, gj_value *value);

/* True once the job was asked to cancel (backends that poll may check). */
bool gj__sink_cancel_requested(const gj_sink *s);

/* The request's effective response timeout in ms (0 = none), combining the
 * request's and the target's. */
int64_t gj__sink_response_timeout(const gj_sink *s);

/* ---- for the job engine and tests ---- */
typedef struct gj_result gj_result;
/* A standalone sink (tests of backends): row_fn may be NULL. */
int gj__sink_new(gj_sink **out, gj_row_fn row_fn, void *row_payload);
void gj__sink_free(gj_sink *s);
/* Turn what was collected into a result (the sink is emptied). */
int gj__sink_take_result(gj_sink *s, gj_result **out);

#endif
