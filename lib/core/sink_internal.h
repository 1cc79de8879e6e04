/* The sink and result objects (lib/core/sink.c).  Never installed. */
#ifndef GJ_CORE_SINK_INTERNAL_H
#define GJ_CORE_SINK_INTERNAL_H

#include "core/sink.h"
#include <stdatomic.h>

struct gj_sink {
    gj_value *fields;            /* list or NULL */
    gj_value *rows;              /* list, created on the first row */
    gj_value *meta;              /* map, created on the first entry */
    gj_row_fn row_fn;
    void *row_payload;
    const atomic_uint *cancel_word; /* the job's state word, or NULL */
    unsigned cancel_mask;
    int64_t response_timeout_ms;
    int64_t deadline_ms;         /* INT64_MAX = none */
    size_t max_result;           /* 0 = no limit */
    size_t collected;            /* bytes counted so far */
    void *session;               /* the backend's session state, or NULL */
};

struct gj_result {
    gj_value *fields;            /* list or NULL */
    gj_value *rows;              /* list, or NULL = empty */
    gj_value *meta;              /* map, or NULL = empty */
};

/* Initialise a sink in place (for the worker's stack): no deadline, no
 * result limit. */
void gj__sink_init(gj_sink *s, gj_row_fn row_fn, void *row_payload,
                   const atomic_uint *cancel_word, unsigned cancel_mask,
                   int64_t response_timeout_ms);
/* The deadline from a response timeout (ms, 0 = none) counted from now,
 * and the result limit (bytes, 0 = none). */
void gj__sink_set_limits(gj_sink *s, int64_t response_timeout_ms, size_t max_result);
/* Bring the deadline forward to cap (gj__now_ms clock) when it is later. */
void gj__sink_cap_deadline(gj_sink *s, int64_t cap);
/* Release whatever the sink still holds. */
void gj__sink_clear(gj_sink *s);
/* True when nothing was collected (no result object is needed). */
bool gj__sink_empty(const gj_sink *s);
/* The shared empty result (gj_result_free ignores it). */
int gj__result_new_empty(gj_result **out);

#endif
