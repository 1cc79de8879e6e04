/*
 * The built-in backends.  Adding a backend: one folder under lib/backend/,
 * its fragment in mk/ (which adds -DGJ_HAVE_<NAME>_BACKEND to
 * libgraphjob_internal_la_CPPFLAGS), and one line in the table below.
 */
#include "backend/backend.h"

#include <string.h>

#ifdef GJ_HAVE_BOLT_BACKEND
extern const gj_backend gj_bolt_backend;
#endif
#ifdef GJ_HAVE_ARANGO_BACKEND
extern const gj_backend gj_arango_backend;
#endif
#ifdef GJ_HAVE_GREMLIN_BACKEND
extern const gj_backend gj_gremlin_backend;
#endif
#ifdef GJ_HAVE_GRAPHQL_BACKEND
extern const gj_backend gj_graphql_backend;
#endif

static const gj_backend *const builtin[] = {
#ifdef GJ_HAVE_BOLT_BACKEND
    &gj_bolt_backend,
#endif
#ifdef GJ_HAVE_ARANGO_BACKEND
    &gj_arango_backend,
#endif
#ifdef GJ_HAVE_GREMLIN_BACKEND
    &gj_gremlin_backend,
#endif
#ifdef GJ_HAVE_GRAPHQL_BACKEND
    &gj_graphql_backend,
#endif
    NULL
};

const gj_backend *gj__backend_by_name(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; builtin[i]; i++)
        if (strcmp(builtin[i]->name, name) == 0)
            return builtin[i];
    return NULL;
}

const gj_backend *gj__backend_by_scheme(const char *scheme)
{
    if (!scheme)
        return NULL;
    for (size_t i = 0; builtin[i]; i++)
        for (const char *const *s = builtin[i]->schemes; s && *s; s++)
            if (strcmp(*s, scheme) == 0)
                return builtin[i];
    return NULL;
}
