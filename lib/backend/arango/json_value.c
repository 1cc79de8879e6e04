/*
 * ArangoDB backend: json-c objects to gj_value (the core converter, see
 * core/json_in.h), and gj_value to JSON text for request bodies.
 */
#include "backend/arango/arango_internal.h"

#include <stdlib.h>
#include <string.h>

int gj__arango_json_to_value(const json_object *j, gj_value **out, gj_error *err)
{
    return gj__json_to_value(j, out, err);
}

int gj__arango_value_to_text(const gj_value *v, char **out, size_t *len, gj_error *err)
{
    int rc = gj_value_to_json(v, 0, out, len);
    if (rc)
        return gj__error_set(err, rc, "cannot render a request body as JSON: %s",
                             gj_strerror(rc));
    return 0;
}
