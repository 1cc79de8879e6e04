/*
 * libgraphjob — common definitions shared by every public header.
 *
 * Threading: nothing in this header has run-time behaviour.
 */
#ifndef GRAPHJOB_COMMON_H
#define GRAPHJOB_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#ifdef __cplusplus
#define GJ_BEGIN_DECLS extern "C" {
#define GJ_END_DECLS }
#else
#define GJ_BEGIN_DECLS
#define GJ_END_DECLS
#endif

/* GJ_EXTERN marks the functions the shared library exports; everything else
 * is built with -fvisibility=hidden. */
#if defined(GJ_BUILDING_LIBRARY) && defined(__GNUC__)
#define GJ_EXTERN __attribute__((visibility("default")))
#else
#define GJ_EXTERN
#endif

GJ_BEGIN_DECLS

/* Opaque handles.  Every one of them is created through a `**out` parameter
 * and released with its own _free or _unref function, never with free(). */
typedef struct gj_client gj_client;   /* executor, job registry, pools */
typedef struct gj_config gj_config;   /* settings, from URL / YAML / JSON / setters */
typedef struct gj_request gj_request; /* one query or operation */
typedef struct gj_job gj_job;         /* a submitted request (refcounted) */
typedef struct gj_result gj_result;   /* the rows and metadata of a DONE job */
typedef struct gj_value gj_value;     /* immutable, refcounted value */
typedef struct gj_error gj_error;     /* error detail, owned by the caller */
typedef struct gj_session gj_session; /* ordered jobs pinned to one connection */

GJ_END_DECLS

#endif
