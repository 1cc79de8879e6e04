/*
 * graphjob — the command-line program (tools/cli/): what its files share.
 *
 *   main.c     options, credentials, the configuration, exit codes, and the
 *              sub-commands `job` and `jobs` (ArangoDB server-side jobs)
 *   input.c    where queries come from (arguments, -f FILE, stdin, @file) and
 *              the splitting of scripts on ';' outside strings and comments
 *   run.c      the run: submit with a window of C jobs (backpressure), per-job
 *              and whole-run deadlines, Ctrl-C, printing in order or not
 *   output.c   the formats (json, table, csv, plain) and the row spool that
 *              keeps a large result out of memory
 *   bulk.c     latency histogram, the progress bar and the summary
 *   demo.c     `graphjob demo`: the bundled reference servers, a few jobs each
 *   util.c     numbers, durations, clocks, the password prompt
 *
 * One thread (main) does everything but the row and completion callbacks,
 * which run on the library's workers and touch only their own slot (rows)
 * and the completion list (under run->mu).
 */
#ifndef GRAPHJOB_TOOL_H
#define GRAPHJOB_TOOL_H

#include <graphjob.h>

#include <pthread.h>
#include <stdio.h>

/* Exit codes (curl-style; documented in graphjob(1)). */
enum {
    GJT_EXIT_OK = 0,
    GJT_EXIT_QUERY = 1,    /* a query failed on the server (or was refused) */
    GJT_EXIT_USAGE = 2,
    GJT_EXIT_CONFIG = 3,
    GJT_EXIT_CONNECT = 4,  /* connection, TLS, protocol, I/O */
    GJT_EXIT_AUTH = 5,
    GJT_EXIT_TIMEOUT = 6,
    GJT_EXIT_CANCELLED = 7
};

typedef enum gjt_format { GJT_JSON, GJT_TABLE, GJT_CSV, GJT_PLAIN } gjt_format;

/* ---- util.c ---------------------------------------------------------------- */
void gjt_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int gjt_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Option values: 0, or -1 after printing a usage error that names `option`. */
int gjt_parse_count(const char *option, const char *text, long min, long max, long *out);
/* A duration: a number of seconds ("2", "0.5") or with a unit ("250ms",
 * "2s", "1m", "1h").  > 0 unless allow_zero. */
int gjt_parse_duration(const char *option, const char *text, bool allow_zero, int64_t *ms);
/* "2 s", "250 ms", "1.5 s", "2 min" */
void gjt_format_duration(char *buf, size_t cap, int64_t ms);
double gjt_now_ms(void);      /* CLOCK_MONOTONIC, milliseconds */
int gjt_exit_for_code(int code);
/* Prompt on /dev/tty without echo.  Returns a malloc'd string or NULL. */
char *gjt_prompt_password(const char *prompt);
/* The error of a job as a JSON object (caller frees with gj_free); message
 * (may be NULL) replaces the error's own. */
char *gjt_error_json(int code, const gj_error *err, const char *message, unsigned flags);
/* Write s (len bytes) to f as a JSON string. */
void gjt_json_string(FILE *f, const char *s, size_t len);

/* ---- input.c --------------------------------------------------------------- */
typedef struct gjt_input gjt_input;
/* split: cut files and stdin into statements on ';' */
int gjt_input_new(gjt_input **out, bool split);
void gjt_input_free(gjt_input *in);
/* Sources, read in the order added. */
int gjt_input_add_text(gjt_input *in, const char *text);   /* one query */
int gjt_input_add_file(gjt_input *in, const char *path);   /* "-" = stdin; split */
int gjt_input_add_file_whole(gjt_input *in, const char *path); /* @file: one query */
/* The next query: 1 with *text (malloc'd, caller frees), 0 at the end,
 * -1 on a read error (printed), GJT_INPUT_WAIT when it needs more bytes from
 * a descriptor that has none yet (poll gjt_input_fd()). */
#define GJT_INPUT_WAIT 2
int gjt_input_next(gjt_input *in, char **text);
int gjt_input_fd(const gjt_input *in);  /* descriptor to poll, or -1 */
bool gjt_input_reads_tty(const gjt_input *in);

/* ---- output.c -------------------------------------------------------------- */
/* A job's rows as they arrive (row callback on a worker): JSON text, one row a
 * line, in memory up to a budget shared by every job, then in a temporary
 * file. */
typedef struct gjt_spool {
    char *buf;
    size_t len, cap;
    FILE *file;          /* spilled rows (after buf's) */
    uint64_t rows;
    int error;           /* GJ_ENOMEM / GJ_EIO while spooling: the row callback stops */
} gjt_spool;

int gjt_spool_add(gjt_spool *s, const gj_value *row);
void gjt_spool_free(gjt_spool *s);

typedef struct gjt_output {
    FILE *out;
    gjt_format format;
    unsigned json_flags;    /* GJ_JSON_PRETTY */
    int max_width;          /* table: widest column, characters */
    bool errors_to_stderr;  /* table, csv, plain */
    uint64_t printed;       /* jobs printed */
} gjt_output;

/* Everything known about a finished job, for printing. */
typedef struct gjt_outcome {
    uint64_t id;
    const char *query;         /* what the user wrote (or "job.attach 42") */
    const char *status;        /* "done", "failed", "cancelled" */
    int code;                  /* 0 or the GJ_E* code */
    const gj_error *err;       /* detail when code != 0 */
    const char *message;       /* overrides the error's message, or NULL */
    const gj_result *res;      /* fields, meta (rows are in the spool) */
    gjt_spool *rows;
    double ms;                 /* submit to finish */
} gjt_outcome;

void gjt_output_job(gjt_output *o, const gjt_outcome *job);

/* ---- bulk.c ------------------------------------------------------------------ */
typedef struct gjt_stats {
    uint64_t done, failed, cancelled, rows;
    uint64_t total;            /* jobs to run, 0 while unknown */
    double started_ms;
    double max_ms;
    uint32_t *buckets;         /* latency histogram */
    uint64_t samples;
    /* progress bar */
    bool progress;
    double last_draw_ms;
    int drawn;                 /* characters on the line */
} gjt_stats;

int gjt_stats_init(gjt_stats *st, bool progress);
void gjt_stats_free(gjt_stats *st);
void gjt_stats_add(gjt_stats *st, const char *status, double latency_ms);
double gjt_stats_percentile(const gjt_stats *st, double p);
void gjt_progress_draw(gjt_stats *st, bool force);
void gjt_progress_clear(gjt_stats *st);
void gjt_summary_print(const gjt_stats *st, FILE *f, const char *why_stopped);

/* ---- run.c ------------------------------------------------------------------- */
typedef struct gjt_kv {
    char *name;
    gj_value *value;
} gjt_kv;

typedef struct gjt_run_options {
    gjt_input *input;          /* queries, or NULL for `fixed` */
    const char *fixed_label;   /* one request without text: label to print */
    const char *op;
    const char *target;
    const char *database;
    gjt_kv *params;
    size_t n_params;
    gjt_kv *options;           /* request options (-o, --async, job.* ids) */
    size_t n_options;
    long repeat;
    long concurrency;
    int64_t timeout_ms;        /* per job, from its submission; 0 = none */
    int64_t deadline_ms;       /* the whole run; 0 = none */
    bool unordered;
    bool progress;             /* draw the progress bar */
    bool summary;              /* print the summary on stderr */
    bool summary_if_stopped;   /* ... also when Ctrl-C or --deadline stopped the run */
    gjt_output output;
} gjt_run_options;

/* Run every query; returns the exit code. */
int gjt_run(gj_client *client, gjt_run_options *opts);

/* ---- demo.c ------------------------------------------------------------- */
enum { GJT_JOB_FETCH, GJT_JOB_STATUS, GJT_JOB_CANCEL, GJT_JOB_CLEAR };  /* graphjob job --... */

int gjt_demo_main(int argc, char **argv);

#endif
