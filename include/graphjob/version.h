/*
 * libgraphjob — version information.
 *
 * Threading: every function here may be called from any thread.
 */
#ifndef GRAPHJOB_VERSION_H
#define GRAPHJOB_VERSION_H

#include "common.h"

#define GJ_VERSION_MAJOR 0
#define GJ_VERSION_MINOR 1
#define GJ_VERSION_PATCH 0
#define GJ_VERSION_STRING "0.1.0"
/* 0xMMmmpp: compare with >= to test for a feature added in a release. */
#define GJ_VERSION_NUM ((GJ_VERSION_MAJOR << 16) | (GJ_VERSION_MINOR << 8) | GJ_VERSION_PATCH)

GJ_BEGIN_DECLS

/* The version of the library the program runs with (it may differ from the
 * headers it was compiled against).  Returns a static string. */
GJ_EXTERN const char *gj_version(void);

/* The same as a number built like GJ_VERSION_NUM. */
GJ_EXTERN unsigned gj_version_num(void);

GJ_END_DECLS

#endif
