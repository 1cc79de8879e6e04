/*
 * Internal helpers of the value model for codecs and the rest of lib/
 * (never installed).  Implemented in lib/core/value.c and lib/core/json.c.
 *
 * Threading: every function here is reentrant and touches only its
 * arguments; the values passed in may be shared.
 */
#ifndef GJ_CORE_VALUE_INTERNAL_H
#define GJ_CORE_VALUE_INTERNAL_H

#include <graphjob.h>

GJ_BEGIN_DECLS

/* A capacity hint passed to gj_value_new_list/_set/_map above this is
 * clamped to it (hints may come from the wire); the container still grows
 * (x2) past it as items are added. */
#define GJ__VALUE_HINT_MAX 4096u

/* Longest datetime zone id and tagged-value tag accepted, in bytes
 * (longer ones give GJ_EINVAL). */
#define GJ__VALUE_NAME_MAX 1024u

/* Largest number of entries in one map (GJ_ETOOBIG beyond). */
#define GJ__VALUE_MAP_MAX ((size_t)0x7fffffff)

/* Maps with more entries than this get a hash index; smaller ones are
 * searched linearly. */
#define GJ__VALUE_MAP_LINEAR_MAX 16u

/* True when s[0..len) is well-formed UTF-8 (no overlong forms, no
 * surrogates, nothing above U+10FFFF; NUL bytes are allowed).  Otherwise
 * false, and *bad_offset (may be NULL) receives the byte offset of the first
 * byte of the first ill-formed sequence. */
bool gj__utf8_valid(const char *s, size_t len, size_t *bad_offset);

/* The items of a list or set as an array (borrowed, `*count` entries), or
 * NULL with *count = 0 for any other type. */
gj_value *const *gj__value_list_items(const gj_value *v, size_t *count);

/* Proleptic Gregorian calendar over the whole int64 range of day numbers
 * (day 0 = 1970-01-01; year 0 = 1 BC). */
void gj__civil_from_days(int64_t days, int64_t *year, unsigned *month, unsigned *day);
/* GJ_EINVAL for a month outside 1..12, a day outside the month, or a year
 * whose day number does not fit in int64. */
int gj__days_from_civil(int64_t year, unsigned month, unsigned day, int64_t *days);

/* Enough room for the ISO-8601 text of any temporal value. */
#define GJ__ISO_TEXT_MAX (96u + GJ__VALUE_NAME_MAX)

/* Write the ISO-8601 text of a date, time, local time, datetime, local
 * datetime or duration into buf (NUL-terminated, truncated to size like
 * snprintf), exactly as gj_value_to_json renders it but without quotes.
 * Returns the full length, or GJ_ETYPE for another type. */
int gj__value_iso_text(const gj_value *v, char *buf, size_t size);

/* Put key -> val into a map being built whose keys are known to be
 * distinct (a parser's object, whose repeated keys it resolved already): no
 * search for an equal key.  Takes over both, as gj_value_map_put. */
int gj__value_map_append(gj_value *map, gj_value *key, gj_value *val);

/* An immortal string value for one of the keys that servers' replies
 * repeat (ArangoDB's cursor and stats members, GraphQL's response members),
 * or NULL: a reply's keys then cost no allocation. */
gj_value *gj__value_common_key(const char *s, size_t len);

/* prefix, then s[0..len) as a JSON string, then suffix, into a new buffer
 * (free with gj_free), without building a value: GJ_EINVAL when s is not
 * UTF-8, GJ_ENOMEM. */
int gj__json_string_wrap(const char *prefix, const char *s, size_t len, const char *suffix,
                         char **out, size_t *out_len);

/* The shared immortal empty list and map (ref/unref are no-ops on them;
 * they cannot be built into). */
gj_value *gj__value_empty_list(void);
gj_value *gj__value_empty_map(void);

GJ_END_DECLS

#endif
