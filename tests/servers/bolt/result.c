/* result.c — result streams of bolt-refserver: rows (materialized, or a
 * lazy UNWIND range), and the summary of the final SUCCESS (type, counters,
 * plan / profile, notifications or GQL statuses). */
#include "cypher.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void bs_fail_set(bs_failure *f, const char *code, const char *gql, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->message, sizeof f->message, fmt, ap);
    va_end(ap);
    f->code = code;
    f->gql = gql;
}

/* ======================================================================
 * Results
 * ====================================================================== */

bs_result *bs_result_new(const char *text, size_t len)
{
    bs_result *r = calloc(1, sizeof *r);
    if (!r || !(r->text = malloc(len + 1)) || gj_value_new_list(&r->fields, 4) != 0)
        abort();
    memcpy(r->text, text, len);
    r->text[len] = '\0';
    r->type = "r";
    r->left = -1;
    return r;
}

void bs_result_add_row(bs_result *r, gj_value *row)
{
    if (r->n_rows == r->cap_rows) {
        r->cap_rows = r->cap_rows ? r->cap_rows * 2 : 16;
        r->rows = realloc(r->rows, r->cap_rows * sizeof *r->rows);
        if (!r->rows)
            abort();
    }
    r->rows[r->n_rows++] = row;
}

void bs_result_free(bs_result *r)
{
    if (!r)
        return;
    for (size_t i = r->pos; i < r->n_rows; i++)
        gj_value_unref(r->rows[i]);
    free(r->rows);
    gj_value_unref(r->fields);
    free(r->text);
    free(r);
}

const gj_value *bs_result_fields(const bs_result *r) { return r->fields; }
long bs_result_sleep_ms(const bs_result *r) { return r->sleep_ms; }
const char *bs_result_text(const bs_result *r) { return r->text; }

void bs_result_drop_notifications(bs_result *r)
{
    r->notify = false;
}

bool bs_result_done(const bs_result *r)
{
    if (r->explain)
        return true;
    if (r->range)
        return r->range_done;
    return r->pos >= r->n_rows;
}

bool bs_result_next_int(bs_result *r, int64_t *out)
{
    if (r->explain || !r->range || r->range_done)
        return false;
    *out = r->next;
    if (r->left > 0)
        r->left--;
    if (r->left == 0 || (r->step > 0 ? r->next > r->end - r->step : r->next < r->end - r->step))
        r->range_done = true;
    else
        r->next += r->step;
    r->emitted++;
    return true;
}

gj_value *bs_result_next(bs_result *r)
{
    if (r->explain)
        return NULL;
    if (r->range) {
        int64_t v;
        if (!bs_result_next_int(r, &v))
            return NULL;
        gj_value *row;
        if (gj_value_new_list(&row, 1) != 0)
            abort();
        gj_value_list_append(row, gj_value_int(v));
        return row;
    }
    if (r->pos >= r->n_rows)
        return NULL;
    r->emitted++;
    return r->rows[r->pos++];
}

static gj_value *plan_map(const bs_result *r, bool profile)
{
    gj_value *plan, *args, *ids, *children;
    gj_value_new_map(&plan, 10);
    gj_value_new_map(&args, 4);
    gj_value_map_put_str(args, "planner", gj_value_string("COST"));
    gj_value_map_put_str(args, "runtime", gj_value_string("PIPELINED"));
    gj_value_map_put_str(args, "Details", gj_value_string(r->text));
    gj_value_map_put_str(args, "EstimatedRows", gj_value_float((double)(r->range ? 1 : r->n_rows)));
    gj_value_new_list(&ids, gj_value_size(r->fields));
    for (size_t i = 0; i < gj_value_size(r->fields); i++)
        gj_value_list_append(ids, gj_value_ref(gj_value_list_at(r->fields, i)));
    gj_value_new_list(&children, 0);
    gj_value_map_put_str(plan, "operatorType", gj_value_string("ProduceResults@neo4j"));
    gj_value_map_put_str(plan, "identifiers", ids);
    gj_value_map_put_str(plan, "arguments", args);
    gj_value_map_put_str(plan, "children", children);
    if (profile) {
        gj_value_map_put_str(plan, "dbHits", gj_value_int(0));
        gj_value_map_put_str(plan, "rows", gj_value_int((int64_t)r->emitted));
        gj_value_map_put_str(plan, "pageCacheHits", gj_value_int(0));
        gj_value_map_put_str(plan, "pageCacheMisses", gj_value_int(0));
        gj_value_map_put_str(plan, "pageCacheHitRatio", gj_value_float(0.0));
        gj_value_map_put_str(plan, "time", gj_value_int(0));
    }
    return plan;
}

/* The unknown label / relationship type warning, as notifications (up to
 * 5.4) or as GQL statuses (5.6+). */
static void put_notification(const bs_result *r, const gj_ps_config *ps, gj_value *map)
{
    const char *what = r->notify_rel ? "relationship type" : "label";
    char legacy[512], gqldesc[512];
    snprintf(legacy, sizeof legacy,
             "One of the %s in your query is not available in the database, make sure you didn't misspell it "
             "or that the label is available when you run this statement in your application (the missing %s "
             "name is: %s)", r->notify_rel ? "relationship types" : "labels", what, r->notify_name);
    snprintf(gqldesc, sizeof gqldesc,
             "warn: %s does not exist. The %s `%s` does not exist in database `neo4j`. Verify that the spelling "
             "is correct.", what, what, r->notify_name);
    const char *code = r->notify_rel ? "Neo.ClientNotification.Statement.UnknownRelationshipTypeWarning"
                                     : "Neo.ClientNotification.Statement.UnknownLabelWarning";
    const char *title = r->notify_rel ? "The provided relationship type is not in the database."
                                      : "The provided label is not in the database.";
    gj_value *pos, *n, *list;
    gj_value_new_map(&pos, 3);
    gj_value_map_put_str(pos, "offset", gj_value_int((int64_t)r->notify_at));
    gj_value_map_put_str(pos, "line", gj_value_int(1));
    gj_value_map_put_str(pos, "column", gj_value_int((int64_t)r->notify_at + 1));
    gj_value_new_map(&n, 8);
    gj_value_new_list(&list, 1);
    if (ps->bolt_major > 5 || (ps->bolt_major == 5 && ps->bolt_minor >= 6)) {
        gj_value *diag;
        gj_value_new_map(&diag, 6);
        gj_value_map_put_str(diag, "OPERATION", gj_value_string(""));
        gj_value_map_put_str(diag, "OPERATION_CODE", gj_value_string("0"));
        gj_value_map_put_str(diag, "CURRENT_SCHEMA", gj_value_string("/"));
        gj_value_map_put_str(diag, "_severity", gj_value_string("WARNING"));
        gj_value_map_put_str(diag, "_classification", gj_value_string("UNRECOGNIZED"));
        gj_value_map_put_str(diag, "_position", pos);
        gj_value_map_put_str(n, "gql_status", gj_value_string(r->notify_rel ? "01N51" : "01N50"));
        gj_value_map_put_str(n, "status_description", gj_value_string(gqldesc));
        gj_value_map_put_str(n, "neo4j_code", gj_value_string(code));
        gj_value_map_put_str(n, "title", gj_value_string(title));
        gj_value_map_put_str(n, "description", gj_value_string(legacy));
        gj_value_map_put_str(n, "diagnostic_record", diag);
        gj_value_list_append(list, n);
        gj_value_map_put_str(map, "statuses", list);
    } else {
        gj_value_map_put_str(n, "code", gj_value_string(code));
        gj_value_map_put_str(n, "title", gj_value_string(title));
        gj_value_map_put_str(n, "description", gj_value_string(legacy));
        gj_value_map_put_str(n, "severity", gj_value_string("WARNING"));
        gj_value_map_put_str(n, "category", gj_value_string("UNRECOGNIZED"));
        gj_value_map_put_str(n, "position", pos);
        gj_value_list_append(list, n);
        gj_value_map_put_str(map, "notifications", list);
    }
}

void bs_result_summary(const bs_result *r, const gj_ps_config *ps, gj_value *map, bool *wrote)
{
    if (r->notify)
        put_notification(r, ps, map);
    gj_value_map_put_str(map, "type", gj_value_string(r->type));
    if (r->wrote) {
        gj_value *stats;
        gj_value_new_map(&stats, 8);
        struct { const char *k; long v; } counters[] = {
            { "nodes-created", r->nodes_created }, { "nodes-deleted", r->nodes_deleted },
            { "relationships-created", r->rels_created }, { "relationships-deleted", r->rels_deleted },
            { "properties-set", r->props_set }, { "labels-added", r->labels_added },
        };
        for (size_t i = 0; i < sizeof counters / sizeof counters[0]; i++)
            if (counters[i].v)
                gj_value_map_put_str(stats, counters[i].k, gj_value_int(counters[i].v));
        gj_value_map_put_str(stats, "contains-updates", gj_value_bool(true));
        gj_value_map_put_str(map, "stats", stats);
    }
    if (r->explain)
        gj_value_map_put_str(map, "plan", plan_map(r, false));
    if (r->profile)
        gj_value_map_put_str(map, "profile", plan_map(r, true));
    *wrote = r->wrote;
}

