/*
 * libgraphjob — logging.
 *
 * The library never prints.  It hands log lines to a callback set on the
 * configuration (gj_config_set_log).  Secrets (passwords, tokens, the
 * credentials part of URLs, Authorization headers) are never part of a log
 * line.
 *
 * Threading: the callback is called from any library thread (workers, the
 * submitting thread), possibly concurrently, with no library lock held.
 */
#ifndef GRAPHJOB_LOG_H
#define GRAPHJOB_LOG_H

#include "common.h"

GJ_BEGIN_DECLS

typedef enum gj_log_level {
    GJ_LOG_ERROR = 0,
    GJ_LOG_WARN = 1,
    GJ_LOG_INFO = 2,
    GJ_LOG_DEBUG = 3,
    GJ_LOG_TRACE = 4
} gj_log_level;

/* message is NUL-terminated, has no trailing newline, and is only valid
 * during the call. */
typedef void (*gj_log_fn)(gj_log_level level, const char *message, void *payload);

/* "error", "warn", ... (static). */
GJ_EXTERN const char *gj_log_level_name(gj_log_level level);

GJ_END_DECLS

#endif
