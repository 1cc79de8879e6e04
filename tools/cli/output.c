/*
 * graphjob — printing jobs: the row spool and the four formats.
 *
 * Rows reach the program through a row callback on a worker thread, one at
 * a time, and are kept as JSON text, one row a line (gjt_spool): in memory
 * while every job's spool together stays under SPOOL_MEMORY, in an unlinked
 * temporary file after that.  A result of 10^6 rows is therefore never one
 * value nor one string in memory; it is printed row by row when its job's
 * turn comes.
 *
 *   json   one object per job (one line; --pretty indents it but it stays one
 *          object): job, query, status, then fields, rows, meta for a done
 *          job or error for a failed or cancelled one, and time_ms.
 *   table  cypher-shell's: a box of columns whose widths come from the first
 *          SAMPLE_ROWS rows, cells cut with "…" past the widest allowed, then
 *          the row count and the time.
 *   csv    RFC 4180: a header of column names, then the rows.
 *   plain  for scripts: no header, one line per row, values separated by a
 *          tab, strings as they are (\t \n \r \\ escaped), null empty.
 * In table, csv and plain a failed job is reported on stderr.
 */
#include "graphjob.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define SPOOL_MEMORY (64u << 20)  /* every in-memory spool together */
#define SPOOL_JOB_MEMORY (8u << 20) /* one job's in memory */
#define SAMPLE_ROWS 1000

static atomic_size_t spool_memory;

/* ---- the spool -------------------------------------------------------------- */

int gjt_spool_add(gjt_spool *s, const gj_value *row)
{
    if (s->error)
        return s->error;
    char *text = NULL;
    size_t len = 0;
    int rc = gj_value_to_json(row, 0, &text, &len);
    if (rc != 0)
        return s->error = rc;
    if (!s->file && s->len + len + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 4096;
        while (cap < s->len + len + 1)
            cap *= 2;
        size_t grow = cap - s->cap;
        bool fits = cap <= SPOOL_JOB_MEMORY &&
                    atomic_fetch_add(&spool_memory, grow) + grow <= SPOOL_MEMORY;
        char *b = fits ? realloc(s->buf, cap) : NULL;
        if (b) {
            s->buf = b;
            s->cap = cap;
        } else {
            if (fits || cap <= SPOOL_JOB_MEMORY)
                atomic_fetch_sub(&spool_memory, grow);
            s->file = tmpfile();
            if (!s->file) {
                gj_free(text);
                return s->error = GJ_EIO;
            }
        }
    }
    if (s->file) {
        if (fwrite(text, 1, len, s->file) != len || putc('\n', s->file) == EOF)
            rc = s->error = GJ_EIO;
    } else {
        memcpy(s->buf + s->len, text, len);
        s->buf[s->len + len] = '\n';
        s->len += len + 1;
    }
    gj_free(text);
    if (rc == 0)
        s->rows++;
    return rc;
}

void gjt_spool_free(gjt_spool *s)
{
    if (s->cap)
        atomic_fetch_sub(&spool_memory, s->cap);
    free(s->buf);
    if (s->file)
        fclose(s->file);
    memset(s, 0, sizeof *s);
}

typedef struct spool_iter {
    const gjt_spool *s;
    size_t off;
    bool file_started;
    char *line;
    size_t line_cap;
} spool_iter;

/* The next row's JSON text (not NUL-terminated in memory: *len), or NULL. */
static const char *spool_next(spool_iter *it, size_t *len)
{
    const gjt_spool *s = it->s;
    if (it->off < s->len) {
        const char *p = s->buf + it->off;
        const char *nl = memchr(p, '\n', s->len - it->off);
        size_t n = nl ? (size_t)(nl - p) : s->len - it->off;
        it->off += n + 1;
        *len = n;
        return p;
    }
    if (!s->file)
        return NULL;
    if (!it->file_started) {
        fflush(s->file);
        rewind(s->file);
        it->file_started = true;
    }
    ssize_t n = getline(&it->line, &it->line_cap, s->file);
    if (n <= 0)
        return NULL;
    if (it->line[n - 1] == '\n')
        n--;
    *len = (size_t)n;
    return it->line;
}

static gj_value *spool_value(const char *text, size_t len)
{
    gj_value *v = NULL;
    if (gj_value_from_json(&v, text, len, NULL) != 0)
        return NULL;
    return v;
}

/* ---- json ------------------------------------------------------------------- */

static void put_indented(FILE *f, const char *text, int indent)
{
    for (const char *p = text; *p; p++) {
        putc(*p, f);
        if (*p == '\n')
            fprintf(f, "%*s", indent, "");
    }
}

static void json_member(FILE *f, bool pretty, const char *name, bool first)
{
    fputs(first ? "" : ",", f);
    if (pretty)
        fprintf(f, "\n  \"%s\": ", name);
    else
        fprintf(f, "\"%s\":", name);
}

static void json_value_member(FILE *f, unsigned flags, const char *name, const gj_value *v)
{
    bool pretty = flags & GJ_JSON_PRETTY;
    json_member(f, pretty, name, false);
    char *text = NULL;
    if (v && gj_value_to_json(v, flags, &text, NULL) == 0)
        pretty ? put_indented(f, text, 2) : (void)fputs(text, f);
    else
        fputs("null", f);
    gj_free(text);
}

static void output_json(gjt_output *o, const gjt_outcome *job)
{
    FILE *f = o->out;
    bool pretty = o->json_flags & GJ_JSON_PRETTY;
    fputc('{', f);
    json_member(f, pretty, "job", true);
    fprintf(f, "%llu", (unsigned long long)job->id);
    json_member(f, pretty, "query", false);
    gjt_json_string(f, job->query, strlen(job->query));
    json_member(f, pretty, "status", false);
    fprintf(f, "\"%s\"", job->status);
    if (job->code == 0 && job->res) {
        json_value_member(f, o->json_flags, "fields", gj_result_fields(job->res));
        json_member(f, pretty, "rows", false);
        fputc('[', f);
        spool_iter it = { .s = job->rows };
        const char *text;
        size_t len;
        bool first = true;
        while (job->rows && (text = spool_next(&it, &len))) {
            if (!first)
                fputc(',', f);
            first = false;
            if (pretty) {
                gj_value *v = spool_value(text, len);
                char *p = NULL;
                fputs("\n    ", f);
                if (v && gj_value_to_json(v, GJ_JSON_PRETTY, &p, NULL) == 0)
                    put_indented(f, p, 4);
                gj_free(p);
                gj_value_unref(v);
            } else {
                fwrite(text, 1, len, f);
            }
        }
        free(it.line);
        if (pretty && !first)
            fputs("\n  ", f);
        fputc(']', f);
        json_value_member(f, o->json_flags, "meta", gj_result_meta(job->res));
    } else {
        json_member(f, pretty, "error", false);
        char *e = gjt_error_json(job->code, job->err, job->message, o->json_flags);
        if (e)
            pretty ? put_indented(f, e, 2) : (void)fputs(e, f);
        else
            fputs("null", f);
        gj_free(e);
    }
    json_member(f, pretty, "time_ms", false);
    fprintf(f, "%.3f", job->ms);
    fputs(pretty ? "\n}\n" : "}\n", f);
}

/* ---- cells ------------------------------------------------------------------ */

typedef enum col_mode { COL_INDEX, COL_KEY, COL_SCALAR } col_mode;

typedef struct columns {
    col_mode mode;
    char **names;
    size_t n, cap;
} columns;

static void columns_free(columns *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->names[i]);
    free(c->names);
    memset(c, 0, sizeof *c);
}

static int columns_add(columns *c, const char *name, size_t len)
{
    for (size_t i = 0; i < c->n; i++)
        if (strlen(c->names[i]) == len && memcmp(c->names[i], name, len) == 0)
            return 0;
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 8;
        char **n = realloc(c->names, cap * sizeof *n);
        if (!n)
            return -1;
        c->names = n;
        c->cap = cap;
    }
    c->names[c->n] = strndup(name, len);
    if (!c->names[c->n])
        return -1;
    c->n++;
    return 0;
}

/* Columns: the result's fields (Bolt), else the keys of map rows in the
 * sample (documents), else one column per list item, else "value". */
static void columns_pick(columns *c, const gj_result *res, gj_value **sample, size_t n)
{
    const gj_value *fields = res ? gj_result_fields(res) : NULL;
    if (fields && gj_value_size(fields) > 0) {
        c->mode = COL_INDEX;
        for (size_t i = 0; i < gj_value_size(fields); i++) {
            const char *s;
            size_t len;
            if (gj_value_string_get(gj_value_list_at(fields, i), &s, &len) != 0) {
                s = "?";
                len = 1;
            }
            columns_add(c, s, len);
        }
        return;
    }
    gj_type t = n ? gj_value_type(sample[0]) : GJ_TNULL;
    if (t == GJ_TMAP) {
        c->mode = COL_KEY;
        for (size_t r = 0; r < n; r++) {
            if (gj_value_type(sample[r]) != GJ_TMAP)
                continue;
            for (size_t i = 0; i < gj_value_size(sample[r]); i++) {
                const char *s;
                size_t len;
                if (gj_value_string_get(gj_value_map_key_at(sample[r], i), &s, &len) == 0)
                    columns_add(c, s, len);
            }
        }
    } else if (t == GJ_TLIST) {
        c->mode = COL_INDEX;
        size_t width = 0;
        for (size_t r = 0; r < n; r++)
            if (gj_value_size(sample[r]) > width)
                width = gj_value_size(sample[r]);
        for (size_t i = 0; i < width; i++) {
            char name[24];
            snprintf(name, sizeof name, "%zu", i + 1);
            columns_add(c, name, strlen(name));
        }
    }
    if (c->n == 0 && n > 0) {
        c->mode = COL_SCALAR;
        columns_add(c, "value", 5);
    }
}

/* The value of column i in a row, or NULL when the row has none. */
static const gj_value *cell_of(const columns *c, const gj_value *row, size_t i)
{
    switch (c->mode) {
    case COL_INDEX:
        if (gj_value_type(row) == GJ_TLIST)
            return gj_value_list_at(row, i);
        return i == 0 ? row : NULL;
    case COL_KEY:
        if (gj_value_type(row) == GJ_TMAP)
            return gj_value_map_get(row, c->names[i]);
        return i == 0 ? row : NULL;
    case COL_SCALAR:
        return i == 0 ? row : NULL;
    }
    return NULL;
}

/* A cell's text (malloc'd).  raw: strings as they are (csv, plain);
 * otherwise JSON, with null as NULL (table, as cypher-shell). */
static char *cell_text(const gj_value *v, bool raw)
{
    if (!v)
        return strdup("");
    if (gj_value_type(v) == GJ_TNULL)
        return strdup(raw ? "" : "NULL");
    if (raw && gj_value_type(v) == GJ_TSTRING) {
        const char *s;
        size_t len;
        gj_value_string_get(v, &s, &len);
        return strndup(s, len);
    }
    char *text = NULL;
    if (gj_value_to_json(v, 0, &text, NULL) != 0)
        return strdup("?");
    char *copy = strdup(text);
    gj_free(text);
    return copy;
}

/* Characters (code points) in UTF-8 text. */
static size_t text_width(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            n++;
    return n;
}

/* Print s in `width` characters: cut with "…" when longer, padded after. */
static void put_cell(FILE *f, const char *s, size_t width)
{
    size_t w = text_width(s);
    if (w <= width) {
        fputs(s, f);
        fprintf(f, "%*s", (int)(width - w), "");
        return;
    }
    size_t keep = width ? width - 1 : 0, chars = 0;
    const char *p = s;
    while (*p) {
        if (((unsigned char)*p & 0xC0) != 0x80) {
            if (chars == keep)
                break;
            chars++;
        }
        putc(*p, f);
        p++;
    }
    if (width)
        fputs("\xe2\x80\xa6", f);  /* … */
}

/* ---- table ------------------------------------------------------------------ */

static void table_rule(FILE *f, const size_t *w, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        putc('+', f);
        for (size_t k = 0; k < w[i] + 2; k++)
            putc('-', f);
    }
    fputs("+\n", f);
}

static void table_row(FILE *f, const columns *c, const gj_value *row, const size_t *w)
{
    for (size_t i = 0; i < c->n; i++) {
        char *t = cell_text(cell_of(c, row, i), false);
        fputs("| ", f);
        put_cell(f, t ? t : "", w[i]);
        putc(' ', f);
        free(t);
    }
    fputs("|\n", f);
}

static int64_t meta_int(const gj_value *meta, const char *key, bool *found)
{
    int64_t v = 0;
    *found = gj_value_int_get(gj_value_map_get(meta, key), &v) == 0;
    return v;
}

/* Bolt statistics as cypher-shell words them. */
static void print_stats(FILE *f, const gj_value *meta)
{
    static const struct { const char *key, *verb, *what; } words[] = {
        { "nodes-created", "Added", "nodes" }, { "nodes-deleted", "Deleted", "nodes" },
        { "relationships-created", "Created", "relationships" },
        { "relationships-deleted", "Deleted", "relationships" },
        { "properties-set", "Set", "properties" }, { "labels-added", "Added", "labels" },
        { "labels-removed", "Removed", "labels" },
    };
    const gj_value *stats = gj_value_map_get(meta, "stats");
    if (gj_value_type(stats) != GJ_TMAP)
        return;
    bool any = false;
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        bool found;
        int64_t n = meta_int(stats, words[i].key, &found);
        if (found && n > 0) {
            fputs(any ? ", " : "", f);
            fprintf(f, "%s %lld %s", words[i].verb, (long long)n, words[i].what);
            any = true;
        }
    }
    if (any)
        putc('\n', f);
}

static size_t table_cap(const gjt_output *o, size_t ncols)
{
    if (o->max_width > 0)
        return (size_t)o->max_width;
    return 80 > 8 * ncols ? 80 / (ncols ? ncols : 1) + 20 : 10;
}

static void output_rows(gjt_output *o, const gjt_outcome *job)
{
    FILE *f = o->out;
    bool table = o->format == GJT_TABLE;
    /* The sample: the first rows as values. */
    gj_value *sample[SAMPLE_ROWS];
    size_t n = 0;
    spool_iter it = { .s = job->rows };
    const char *text;
    size_t len;
    while (job->rows && n < SAMPLE_ROWS && (text = spool_next(&it, &len))) {
        gj_value *v = spool_value(text, len);
        if (v)
            sample[n++] = v;
    }
    columns c = { 0 };
    columns_pick(&c, job->res, sample, n);
    size_t *w = calloc(c.n ? c.n : 1, sizeof *w);
    if (table && w) {
        size_t cap = table_cap(o, c.n);
        for (size_t i = 0; i < c.n; i++) {
            w[i] = text_width(c.names[i]);
            for (size_t r = 0; r < n; r++) {
                char *t = cell_text(cell_of(&c, sample[r], i), false);
                size_t tw = t ? text_width(t) : 0;
                if (tw > w[i])
                    w[i] = tw;
                free(t);
            }
            if (w[i] > cap)
                w[i] = cap;
        }
    }
    if (o->printed > 0 && o->format != GJT_PLAIN)
        putc('\n', f);
    /* Header. */
    if (table && c.n && w) {
        table_rule(f, w, c.n);
        for (size_t i = 0; i < c.n; i++) {
            fputs("| ", f);
            put_cell(f, c.names[i], w[i]);
            putc(' ', f);
        }
        fputs("|\n", f);
        table_rule(f, w, c.n);
    } else if (o->format == GJT_CSV && c.n) {
        for (size_t i = 0; i < c.n; i++) {
            fputs(i ? "," : "", f);
            bool quote = strpbrk(c.names[i], ",\"\r\n") != NULL;
            if (quote) {
                putc('"', f);
                for (const char *p = c.names[i]; *p; p++)
                    *p == '"' ? fputs("\"\"", f) : putc(*p, f);
                putc('"', f);
            } else {
                fputs(c.names[i], f);
            }
        }
        fputs("\r\n", f);
    }
    /* Rows: the sample, then the rest as they come. */
    uint64_t count = 0;
    for (size_t r = 0;; r++) {
        gj_value *row;
        if (r < n) {
            row = sample[r];
        } else {
            text = spool_next(&it, &len);
            if (!text)
                break;
            row = spool_value(text, len);
            if (!row)
                continue;
        }
        count++;
        if (table && w) {
            table_row(f, &c, row, w);
        } else if (o->format == GJT_CSV) {
            for (size_t i = 0; i < c.n; i++) {
                char *t = cell_text(cell_of(&c, row, i), true);
                fputs(i ? "," : "", f);
                if (t && (strpbrk(t, ",\"\r\n") || (t[0] == ' ' || (*t && t[strlen(t) - 1] == ' ')))) {
                    putc('"', f);
                    for (const char *p = t; *p; p++)
                        *p == '"' ? fputs("\"\"", f) : putc(*p, f);
                    putc('"', f);
                } else if (t) {
                    fputs(t, f);
                }
                free(t);
            }
            fputs("\r\n", f);
        } else { /* plain: the row's own items */
            size_t items = gj_value_type(row) == GJ_TLIST || gj_value_type(row) == GJ_TMAP
                         ? gj_value_size(row) : 1;
            for (size_t i = 0; i < items; i++) {
                const gj_value *v = gj_value_type(row) == GJ_TLIST ? gj_value_list_at(row, i)
                                  : gj_value_type(row) == GJ_TMAP ? gj_value_map_value_at(row, i)
                                  : row;
                char *t = cell_text(v, true);
                if (i)
                    putc('\t', f);
                for (const char *p = t ? t : ""; *p; p++) {
                    switch (*p) {
                    case '\t': fputs("\\t", f); break;
                    case '\n': fputs("\\n", f); break;
                    case '\r': fputs("\\r", f); break;
                    case '\\': fputs("\\\\", f); break;
                    default: putc(*p, f);
                    }
                }
                free(t);
            }
            putc('\n', f);
        }
        if (r >= n)
            gj_value_unref(row);
    }
    if (table) {
        if (c.n && w)
            table_rule(f, w, c.n);
        const gj_value *meta = job->res ? gj_result_meta(job->res) : NULL;
        fprintf(f, "\n%llu row%s\n", (unsigned long long)count, count == 1 ? "" : "s");
        bool has_first, has_last;
        int64_t first = meta_int(meta, "t_first", &has_first);
        int64_t last = meta_int(meta, "t_last", &has_last);
        if (has_first && has_last)
            fprintf(f, "ready to start consuming query after %lld ms, results consumed after "
                    "another %lld ms\n", (long long)first, (long long)last);
        else
            fprintf(f, "completed after %.0f ms\n", job->ms);
        if (meta)
            print_stats(f, meta);
    }
    for (size_t r = 0; r < n; r++)
        gj_value_unref(sample[r]);
    free(it.line);
    free(w);
    columns_free(&c);
}

static void output_failure(gjt_output *o, const gjt_outcome *job)
{
    const gj_error *err = job->err;
    fprintf(stderr, "graphjob: job %llu %s (%s): %s", (unsigned long long)job->id, job->status,
            gj_code_name(job->code),
            job->message ? job->message : err ? gj_error_message(err) : gj_strerror(job->code));
    if (err && gj_error_http_status(err))
        fprintf(stderr, " (HTTP %d)", gj_error_http_status(err));
    fprintf(stderr, "\n  in: %.200s%s\n", job->query, strlen(job->query) > 200 ? "..." : "");
    (void)o;
}

void gjt_output_job(gjt_output *o, const gjt_outcome *job)
{
    if (o->format == GJT_JSON) {
        output_json(o, job);
    } else if (job->code != 0 || !job->res) {
        fflush(o->out);
        output_failure(o, job);
        return;
    } else {
        output_rows(o, job);
    }
    o->printed++;
}
