/* The request object (lib/core/request.c).  Never installed. */
#ifndef GJ_CORE_REQUEST_INTERNAL_H
#define GJ_CORE_REQUEST_INTERNAL_H

#include "core/internal.h"
#include <stdatomic.h>

struct gj_request {
    /* Every submit takes a reference while workers read the fields below:
     * keep the counter on a cache line of its own. */
    _Alignas(64) atomic_uint refs;
    _Alignas(64) atomic_bool frozen;
    char *op;
    char *text;
    char *target;
    char *database;
    int64_t timeout_ms;      /* -1 = unset */
    gj_value *params;        /* map */
    gj_value *options;       /* map */
    gj_row_fn row_fn;
    void *row_payload;
};

/* Called by submit: later setters fail with GJ_ESTATE. */
void gj__request_freeze(gj_request *req);

#endif
