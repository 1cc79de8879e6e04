/*
 * Typed accessors of a result (include/graphjob/result.h, the block "Typed
 * accessors"): the Neo4j summary (bookmark, query type, counters,
 * notifications / GQL statuses, server) and ArangoDB's cursor extra
 * (count, stats, warnings) read from the meta map, and a row's value by
 * field name.  Read-only, no allocation: every pointer handed out is
 * borrowed from the result.  Built on the public value API only.
 *
 * The meta keys are the backends' (docs/bolt.md "Results", docs/arango.md
 * "Operations"); a key of an unexpected type reads as absent, so a result
 * from another backend simply has none of these.
 */
#include "core/internal.h"

#include <string.h>

/* ---- helpers ------------------------------------------------------------------ */

static const gj_value *meta_get(const gj_result *res, const char *key)
{
    return res ? gj_value_map_get(gj_result_meta(res), key) : NULL;
}

/* The string under key in map m, or NULL. */
static const char *str_at(const gj_value *m, const char *key)
{
    const char *s = NULL;
    if (!m || gj_value_string_get(gj_value_map_get(m, key), &s, NULL) != 0)
        return NULL;
    return s;
}

/* The integer under key in map m into *out (a float with an integral
 * value counts: JSON numbers may come as either); false when absent. */
static bool int_at(const gj_value *m, const char *key, int64_t *out)
{
    const gj_value *v = m ? gj_value_map_get(m, key) : NULL;
    double d = 0;
    if (!v)
        return false;
    if (gj_value_int_get(v, out) == 0)
        return true;
    if (gj_value_float_get(v, &d) == 0 && d >= -9.2e18 && d <= 9.2e18 && d == (double)(int64_t)d) {
        *out = (int64_t)d;
        return true;
    }
    return false;
}

/* A map under key in map m, or NULL. */
static const gj_value *map_at(const gj_value *m, const char *key)
{
    const gj_value *v = m ? gj_value_map_get(m, key) : NULL;
    return v && gj_value_type(v) == GJ_TMAP ? v : NULL;
}

/* A list under key in the result's meta, or NULL. */
static const gj_value *meta_list(const gj_result *res, const char *key)
{
    const gj_value *v = meta_get(res, key);
    return v && gj_value_type(v) == GJ_TLIST ? v : NULL;
}

/* Does the caller's struct *out (of type T, out->size bytes) reach to the
 * end of `member`?  The checks below name the last member of each struct's
 * first version: they must not change when members are added. */
#define FITS(out, T, member) ((out)->size >= offsetof(T, member) + sizeof((out)->member))

/* ---- rows by field name ------------------------------------------------------------ */

bool gj_result_field_index(const gj_result *res, const char *name, size_t *index)
{
    const gj_value *fields = res ? gj_result_fields(res) : NULL;
    if (!fields || !name)
        return false;
    size_t n = gj_value_size(fields);
    for (size_t i = 0; i < n; i++) {
        const char *f = NULL;
        if (gj_value_string_get(gj_value_list_at(fields, i), &f, NULL) == 0 && strcmp(f, name) == 0) {
            if (index)
                *index = i;
            return true;
        }
    }
    return false;
}

const gj_value *gj_result_row_get(const gj_result *res, size_t row, const char *name)
{
    const gj_value *r = res && name ? gj_result_row(res, row) : NULL;
    if (!r)
        return NULL;
    gj_type t = gj_value_type(r);
    if (t == GJ_TMAP)
        return gj_value_map_get(r, name);
    size_t i = 0;
    if (t == GJ_TLIST && gj_result_field_index(res, name, &i))
        return gj_value_list_at(r, i);
    return NULL;
}

/* ---- Neo4j ------------------------------------------------------------------------- */

const char *gj_result_bookmark(const gj_result *res)
{
    return res ? str_at(gj_result_meta(res), "bookmark") : NULL;
}

gj_query_type gj_result_query_type(const gj_result *res)
{
    const char *t = res ? str_at(gj_result_meta(res), "type") : NULL;
    if (!t)
        return GJ_QUERY_TYPE_UNKNOWN;
    if (strcmp(t, "r") == 0)
        return GJ_QUERY_TYPE_READ;
    if (strcmp(t, "w") == 0)
        return GJ_QUERY_TYPE_WRITE;
    if (strcmp(t, "rw") == 0)
        return GJ_QUERY_TYPE_READ_WRITE;
    if (strcmp(t, "s") == 0)
        return GJ_QUERY_TYPE_SCHEMA;
    return GJ_QUERY_TYPE_UNKNOWN;
}

bool gj_result_counters(const gj_result *res, gj_counters *out)
{
    if (!out || !FITS(out, gj_counters, contains_system_updates))
        return false;
    size_t size = out->size;
    gj_counters c;
    memset(&c, 0, sizeof c);
    const gj_value *stats = res ? map_at(gj_result_meta(res), "stats") : NULL;
    static const struct {
        const char *key;
        size_t offset;
    } counts[] = {
        { "nodes-created", offsetof(gj_counters, nodes_created) },
        { "nodes-deleted", offsetof(gj_counters, nodes_deleted) },
        { "relationships-created", offsetof(gj_counters, relationships_created) },
        { "relationships-deleted", offsetof(gj_counters, relationships_deleted) },
        { "properties-set", offsetof(gj_counters, properties_set) },
        { "labels-added", offsetof(gj_counters, labels_added) },
        { "labels-removed", offsetof(gj_counters, labels_removed) },
        { "indexes-added", offsetof(gj_counters, indexes_added) },
        { "indexes-removed", offsetof(gj_counters, indexes_removed) },
        { "constraints-added", offsetof(gj_counters, constraints_added) },
        { "constraints-removed", offsetof(gj_counters, constraints_removed) },
    };
    int64_t any = 0;
    for (size_t i = 0; stats && i < sizeof counts / sizeof counts[0]; i++) {
        int64_t v = 0;
        if (int_at(stats, counts[i].key, &v)) {
            memcpy((char *)&c + counts[i].offset, &v, sizeof v);
            any += v > 0 ? 1 : 0;
        }
    }
    if (stats)
        int_at(stats, "system-updates", &c.system_updates);
    bool b = false;
    if (stats && gj_value_bool_get(gj_value_map_get(stats, "contains-updates"), &b) == 0)
        c.contains_updates = b;
    else
        c.contains_updates = any > 0;
    if (stats && gj_value_bool_get(gj_value_map_get(stats, "contains-system-updates"), &b) == 0)
        c.contains_system_updates = b;
    else
        c.contains_system_updates = c.system_updates > 0;
    c.size = size;
    memcpy(out, &c, size < sizeof c ? size : sizeof c);
    return stats != NULL;
}

/* The list of notifications / statuses and whether it holds GQL statuses. */
static const gj_value *notification_list(const gj_result *res, bool *statuses)
{
    const gj_value *l = meta_list(res, "statuses");
    *statuses = l != NULL;
    return l ? l : meta_list(res, "notifications");
}

size_t gj_result_notification_count(const gj_result *res)
{
    bool statuses;
    return gj_value_size(notification_list(res, &statuses));
}

bool gj_result_notification(const gj_result *res, size_t i, gj_notification *out)
{
    if (!out || !FITS(out, gj_notification, raw))
        return false;
    bool statuses = false;
    const gj_value *e = gj_value_list_at(notification_list(res, &statuses), i);
    if (!e || gj_value_type(e) != GJ_TMAP)
        return false;
    gj_notification n;
    memset(&n, 0, sizeof n);
    n.raw = e;
    n.title = str_at(e, "title");
    n.description = str_at(e, "description");
    const gj_value *pos;
    if (statuses) {
        const gj_value *diag = map_at(e, "diagnostic_record");
        n.code = str_at(e, "neo4j_code");
        n.gql_status = str_at(e, "gql_status");
        n.status_description = str_at(e, "status_description");
        n.severity = str_at(diag, "_severity");
        n.classification = str_at(diag, "_classification");
        n.is_notification = n.code != NULL;
        pos = map_at(diag, "_position");
    } else {
        n.code = str_at(e, "code");
        n.severity = str_at(e, "severity");
        n.classification = str_at(e, "category");
        n.is_notification = true;
        pos = map_at(e, "position");
    }
    if (pos && int_at(pos, "offset", &n.offset) && int_at(pos, "line", &n.line) &&
        int_at(pos, "column", &n.column))
        n.has_position = true;
    else
        n.offset = n.line = n.column = 0;
    n.size = out->size;
    memcpy(out, &n, out->size < sizeof n ? out->size : sizeof n);
    return true;
}

const char *gj_result_server_address(const gj_result *res)
{
    if (!res)
        return NULL;
    const char *a = str_at(gj_result_meta(res), "address");
    return a ? a : str_at(gj_result_meta(res), "coordinator");
}

const char *gj_result_server_agent(const gj_result *res)
{
    return res ? str_at(gj_result_meta(res), "server") : NULL;
}

/* ---- ArangoDB ----------------------------------------------------------------------- */

bool gj_result_count(const gj_result *res, int64_t *count)
{
    int64_t n = 0;
    if (!res || !int_at(gj_result_meta(res), "count", &n))
        return false;
    if (count)
        *count = n;
    return true;
}

/* The stats map: meta "stats", else meta "extra".stats. */
static const gj_value *arango_stats(const gj_result *res)
{
    if (!res)
        return NULL;
    const gj_value *s = map_at(gj_result_meta(res), "stats");
    return s ? s : map_at(map_at(gj_result_meta(res), "extra"), "stats");
}

bool gj_result_arango_stats(const gj_result *res, gj_arango_stats *out)
{
    if (!out || !FITS(out, gj_arango_stats, execution_time))
        return false;
    size_t size = out->size;
    gj_arango_stats st;
    memset(&st, 0, sizeof st);
    st.full_count = -1;
    const gj_value *s = arango_stats(res);
    static const struct {
        const char *key;
        size_t offset;
    } counts[] = {
        { "writesExecuted", offsetof(gj_arango_stats, writes_executed) },
        { "writesIgnored", offsetof(gj_arango_stats, writes_ignored) },
        { "scannedFull", offsetof(gj_arango_stats, scanned_full) },
        { "scannedIndex", offsetof(gj_arango_stats, scanned_index) },
        { "filtered", offsetof(gj_arango_stats, filtered) },
        { "fullCount", offsetof(gj_arango_stats, full_count) },
        { "httpRequests", offsetof(gj_arango_stats, http_requests) },
        { "documentLookups", offsetof(gj_arango_stats, document_lookups) },
        { "seeks", offsetof(gj_arango_stats, seeks) },
        { "cursorsCreated", offsetof(gj_arango_stats, cursors_created) },
        { "cursorsRearmed", offsetof(gj_arango_stats, cursors_rearmed) },
        { "cacheHits", offsetof(gj_arango_stats, cache_hits) },
        { "cacheMisses", offsetof(gj_arango_stats, cache_misses) },
        { "peakMemoryUsage", offsetof(gj_arango_stats, peak_memory_usage) },
        { "intermediateCommits", offsetof(gj_arango_stats, intermediate_commits) },
    };
    for (size_t i = 0; s && i < sizeof counts / sizeof counts[0]; i++) {
        int64_t v = 0;
        if (int_at(s, counts[i].key, &v))
            memcpy((char *)&st + counts[i].offset, &v, sizeof v);
    }
    const gj_value *et = s ? gj_value_map_get(s, "executionTime") : NULL;
    int64_t ei = 0;
    if (gj_value_float_get(et, &st.execution_time) != 0 && gj_value_int_get(et, &ei) == 0)
        st.execution_time = (double)ei;
    st.size = size;
    memcpy(out, &st, size < sizeof st ? size : sizeof st);
    return s != NULL;
}

/* The warnings list: meta "warnings", else meta "extra".warnings. */
static const gj_value *arango_warnings(const gj_result *res)
{
    const gj_value *w = meta_list(res, "warnings");
    if (w || !res)
        return w;
    w = gj_value_map_get(map_at(gj_result_meta(res), "extra"), "warnings");
    return w && gj_value_type(w) == GJ_TLIST ? w : NULL;
}

size_t gj_result_warning_count(const gj_result *res)
{
    return gj_value_size(arango_warnings(res));
}

bool gj_result_warning(const gj_result *res, size_t i, int64_t *code, const char **message)
{
    const gj_value *e = gj_value_list_at(arango_warnings(res), i);
    int64_t c = 0;
    if (!e || gj_value_type(e) != GJ_TMAP || !int_at(e, "code", &c))
        return false;
    if (code)
        *code = c;
    if (message)
        *message = str_at(e, "message");
    return true;
}
