/*
 * JSON text and json-c objects -> values (lib/core/json_in.c).  Never
 * installed; the only internal header that names a json-c type.
 */
#ifndef GJ_CORE_JSON_IN_H
#define GJ_CORE_JSON_IN_H

#include "core/internal.h"

#include <json-c/json.h>

GJ_BEGIN_DECLS

/* Deepest nesting accepted from JSON. */
#define GJ__JSON_MAX_DEPTH 128

/* A json-c object as a value: objects become maps with string keys (in
 * document order), arrays lists, integers ints (beyond int64: doubles),
 * doubles floats, null null.  GJ_EPROTOCOL for invalid UTF-8 or nesting
 * deeper than GJ__JSON_MAX_DEPTH (the message says where). */
int gj__json_to_value(const json_object *j, gj_value **out, gj_error *err);

GJ_END_DECLS

#endif
