/*
 * graphjob — the run: every query a job, at most `concurrency` at once.
 *
 * Slots hold the jobs between submission and printing; there are
 * `concurrency` of them, so that is also how many finished jobs may wait for
 * their turn to print (in order) — memory stays bounded whatever the input.
 * The main thread submits while a slot is free and a query is at hand,
 * prints what finished, and sleeps in poll() on: an eventfd the completion
 * callbacks write, the signal pipe (Ctrl-C), stdin when it is an input still
 * being written, and the nearest deadline (a job's -T, the run's --deadline,
 * the next progress-bar tick).
 *
 * The callbacks (on workers) touch only their slot's spool (rows) and, under
 * run.mu, the finished flag and the completion list.  A full submit queue
 * (GJ_EBUSY) keeps the query and waits for a job to end (backpressure):
 * nothing is dropped.  Ctrl-C or the run's deadline stop the submitting,
 * cancel what is outstanding, and the run ends with what finished, the
 * summary and exit code 7 (Ctrl-C) or 6 (deadline).
 */
#include "graphjob.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

typedef struct run run;

typedef struct slot {
    run *run;
    bool in_use;
    bool finished;          /* on_done ran (under run->mu) */
    bool timed_out;         /* cancelled by us at its -T deadline */
    bool stopped;           /* cancelled by Ctrl-C or --deadline */
    gj_job *job;
    uint64_t seq;
    char *query;            /* the label printed */
    bool owns_query;
    double submitted_ms, deadline_ms, finished_ms;
    int submit_code;        /* gj_client_submit failed: the job is this error */
    gj_error *submit_err;
    gjt_spool rows;
} slot;

struct run {
    gjt_run_options *o;
    gj_client *client;
    pthread_mutex_t mu;
    int wake_fd;
    slot *slots;
    size_t nslots, in_use;
    size_t *done;           /* completion list (slot indexes), unordered mode */
    size_t *taking;         /* its copy being printed */
    size_t ndone;
    uint64_t next_seq, next_print;
    gjt_stats stats;
    int exit_code;          /* of the first failed job printed */
    const char *stop_why;   /* set when Ctrl-C or the deadline stopped the run */
    const char *stop_job;   /* what a job cancelled then says */
    int stop_exit;
    /* queries */
    char **list;            /* --repeat: every query, read first */
    size_t nlist;
    uint64_t total, taken;
    char *pending;          /* a query read but not yet submitted */
    bool input_done, input_waiting;
};

static int sig_pipe[2] = { -1, -1 };

static void on_signal(int sig)
{
    int saved = errno;
    char c = (char)sig;
    if (write(sig_pipe[1], &c, 1) < 0) {
        /* the pipe is full: a signal is already pending */
    }
    errno = saved;
}

static int on_row(const gj_value *row, void *payload)
{
    slot *s = payload;
    return gjt_spool_add(&s->rows, row) != 0;
}

static void on_done(gj_job *job, void *payload)
{
    (void)job;
    slot *s = payload;
    run *r = s->run;
    pthread_mutex_lock(&r->mu);
    s->finished = true;
    s->finished_ms = gjt_now_ms();
    if (r->done)
        r->done[r->ndone++] = (size_t)(s - r->slots);
    pthread_mutex_unlock(&r->mu);
    uint64_t one = 1;
    if (write(r->wake_fd, &one, sizeof one) < 0) {
        /* an eventfd write only fails on overflow: it is readable then */
    }
}

/* ---- queries ------------------------------------------------------------- */

/* The next query: 1 (*text, *owned), 0 at the end, GJT_INPUT_WAIT, -1. */
static int next_query(run *r, char **text, bool *owned)
{
    if (r->o->fixed_label) {
        if (r->taken)
            return 0;
        r->taken++;
        *text = (char *)r->o->fixed_label;
        *owned = false;
        return 1;
    }
    if (r->list) {
        if (r->taken >= r->total)
            return 0;
        *text = r->list[r->taken++ % r->nlist];
        *owned = false;
        return 1;
    }
    if (r->pending) {
        *text = r->pending;
        r->pending = NULL;
        r->taken++;
        *owned = true;
        return 1;
    }
    int rc = gjt_input_next(r->o->input, text);
    if (rc == 1) {
        r->taken++;
        *owned = true;
    }
    return rc;
}

/* --repeat: read every query first (Ctrl-C still works meanwhile). */
static int read_all(run *r)
{
    size_t cap = 0;
    for (;;) {
        char *text;
        int rc = gjt_input_next(r->o->input, &text);
        if (rc == 0)
            return 0;
        if (rc < 0)
            return -1;
        if (rc == GJT_INPUT_WAIT) {
            struct pollfd p[2] = { { .fd = gjt_input_fd(r->o->input), .events = POLLIN },
                                   { .fd = sig_pipe[0], .events = POLLIN } };
            poll(p, 2, -1);
            if (p[1].revents)
                return -2;
            continue;
        }
        if (r->nlist == cap) {
            cap = cap ? cap * 2 : 16;
            char **l = realloc(r->list, cap * sizeof *l);
            if (!l) {
                free(text);
                gjt_error("out of memory reading the queries");
                return -1;
            }
            r->list = l;
        }
        r->list[r->nlist++] = text;
    }
}

/* ---- submitting ---------------------------------------------------------- */

static gj_request *make_request(run *r, const char *text, slot *s, gj_error *err)
{
    gjt_run_options *o = r->o;
    gj_request *req = NULL;
    if (gj_request_new(&req, o->op, o->fixed_label ? NULL : text) != 0)
        goto nomem;
    if ((o->target && gj_request_set_target(req, o->target) != 0) ||
        (o->database && gj_request_set_database(req, o->database) != 0) ||
        /* -T is enforced here, from the submission (cancel at the deadline);
         * the library's own limit, from the request's sending, is a backstop */
        (o->timeout_ms > 0 && gj_request_set_timeout(req, o->timeout_ms + 1000) != 0) ||
        gj_request_set_row_callback(req, on_row, s) != 0)
        goto nomem;
    for (size_t i = 0; i < o->n_params; i++)
        if (gj_request_set_param(req, o->params[i].name, gj_value_ref(o->params[i].value)) != 0)
            goto nomem;
    for (size_t i = 0; i < o->n_options; i++)
        if (gj_request_set_option(req, o->options[i].name, gj_value_ref(o->options[i].value)) != 0)
            goto nomem;
    return req;
nomem:
    gj_request_unref(req);
    (void)err;
    gjt_error("out of memory building a request");
    return NULL;
}

static slot *free_slot(run *r)
{
    if (r->o->unordered) {
        for (size_t i = 0; i < r->nslots; i++)
            if (!r->slots[i].in_use)
                return &r->slots[i];
        return NULL;
    }
    slot *s = &r->slots[r->next_seq % r->nslots];
    return s->in_use ? NULL : s;
}

static void release_slot(run *r, slot *s)
{
    if (s->owns_query)
        free(s->query);
    gjt_spool_free(&s->rows);
    gj_job_unref(s->job);
    gj_error_free(s->submit_err);
    s->submit_err = NULL;
    s->submit_code = 0;
    s->job = NULL;
    s->query = NULL;
    s->in_use = false;
    s->finished = s->timed_out = s->stopped = false;
    r->in_use--;
}

static void print_slot(run *r, slot *s)
{
    gj_error *err = gj_error_new();
    gj_result *res = NULL;
    int code = s->job ? gj_job_result(s->job, &res, err) : s->submit_code;
    if (!s->job && s->submit_err)
        gj_error_copy(err, s->submit_err);
    char message[160];
    const char *override = NULL;
    const char *status = code == 0 ? "done" : code == GJ_ECANCELLED ? "cancelled" : "failed";
    if (code == GJ_ECANCELLED && s->timed_out) {
        char d[32];
        gjt_format_duration(d, sizeof d, r->o->timeout_ms);
        snprintf(message, sizeof message, "timed out after %s", d);
        override = message;
        code = GJ_ETIMEDOUT;
        status = "failed";
    } else if (code == GJ_ECANCELLED && s->stopped) {
        override = r->stop_job;
    } else if (code == GJ_EABORTED && s->rows.error) {
        snprintf(message, sizeof message, "the rows could not be kept: %s",
                 gj_strerror(s->rows.error));
        override = message;
    }
    gjt_outcome out = {
        .id = s->job ? gj_job_id(s->job) : 0,
        .query = s->query ? s->query : "",
        .status = status,
        .code = code,
        .err = override ? NULL : err,
        .message = override,
        .res = res,
        .rows = &s->rows,
        .ms = s->finished_ms - s->submitted_ms,
    };
    gjt_progress_clear(&r->stats);
    gjt_output_job(&r->o->output, &out);
    gjt_stats_add(&r->stats, status, out.ms);
    r->stats.rows += s->rows.rows;
    if (code != 0 && r->exit_code == 0 && !s->stopped)
        r->exit_code = gjt_exit_for_code(code);
    gj_result_free(res);
    gj_error_free(err);
    release_slot(r, s);
}

/* Submit while a slot is free and a query is at hand.  Returns -1 after an
 * input error. */
static int submit_some(run *r, gj_error *err)
{
    while (!r->stop_why && !r->input_done) {
        slot *s = free_slot(r);
        if (!s)
            return 0;
        char *text;
        bool owned = false;
        int rc = next_query(r, &text, &owned);
        if (rc == GJT_INPUT_WAIT) {
            r->input_waiting = true;
            return 0;
        }
        r->input_waiting = false;
        if (rc <= 0) {
            r->input_done = true;
            r->stats.total = r->next_seq;
            return rc < 0 ? -1 : 0;
        }
        memset(&s->rows, 0, sizeof s->rows);
        s->run = r;
        s->query = text;
        s->owns_query = owned;
        gj_request *req = make_request(r, text, s, err);
        if (!req) {
            if (owned)
                free(text);
            return -1;
        }
        gj_submit_options so = GJ_SUBMIT_OPTIONS_INIT;
        so.on_done = on_done;
        so.payload = s;
        s->submitted_ms = gjt_now_ms();
        s->deadline_ms = r->o->timeout_ms > 0 ? s->submitted_ms + (double)r->o->timeout_ms : 0;
        rc = gj_client_submit(r->client, req, &so, &s->job, err);
        gj_request_unref(req);
        if (rc == GJ_EBUSY) {
            /* Backpressure: keep the query, try again when a job ended. */
            if (owned)
                r->pending = text;
            r->taken--;
            s->query = NULL;
            return 0;
        }
        s->in_use = true;
        r->in_use++;
        s->seq = r->next_seq++;
        if (rc != 0) {
            /* Printed as a failed job in its turn. */
            s->job = NULL;
            s->submit_code = rc;
            s->submit_err = gj_error_new();
            if (s->submit_err)
                gj_error_copy(s->submit_err, err);
            pthread_mutex_lock(&r->mu);
            s->finished = true;
            s->finished_ms = s->submitted_ms;
            if (r->done)
                r->done[r->ndone++] = (size_t)(s - r->slots);
            pthread_mutex_unlock(&r->mu);
        }
    }
    return 0;
}

/* ---- printing, deadlines, stopping --------------------------------------- */

/* Print what finished (in order unless --unordered); returns how many. */
static size_t print_finished(run *r)
{
    size_t printed = 0;
    if (r->o->unordered) {
        /* In the order they finished: take the list, print it. */
        pthread_mutex_lock(&r->mu);
        size_t n = r->ndone;
        memcpy(r->taking, r->done, n * sizeof *r->done);
        r->ndone = 0;
        pthread_mutex_unlock(&r->mu);
        for (size_t i = 0; i < n; i++)
            print_slot(r, &r->slots[r->taking[i]]);
        return n;
    }
    for (;;) {
        slot *s = &r->slots[r->next_print % r->nslots];
        pthread_mutex_lock(&r->mu);
        bool ready = s->in_use && s->seq == r->next_print && s->finished;
        pthread_mutex_unlock(&r->mu);
        if (!ready)
            break;
        print_slot(r, s);
        r->next_print++;
        printed++;
    }
    return printed;
}

static void stop_all(run *r, const char *why, const char *job_why, int exit_code)
{
    if (r->stop_why)
        return;
    r->stop_why = why;
    r->stop_job = job_why;
    r->stop_exit = exit_code;
    for (size_t i = 0; i < r->nslots; i++) {
        slot *s = &r->slots[i];
        pthread_mutex_lock(&r->mu);
        bool pending = s->in_use && !s->finished && s->job;
        pthread_mutex_unlock(&r->mu);
        if (pending) {
            s->stopped = true;
            gj_job_cancel(s->job, NULL);
        }
    }
}

/* Cancel the jobs past their -T deadline; returns the nearest deadline to
 * come (0 = none). */
static double check_deadlines(run *r, double now)
{
    double nearest = 0;
    if (r->o->timeout_ms <= 0)
        return 0;
    for (size_t i = 0; i < r->nslots; i++) {
        slot *s = &r->slots[i];
        if (!s->in_use || s->timed_out || s->stopped || !s->job)
            continue;
        pthread_mutex_lock(&r->mu);
        bool finished = s->finished;
        pthread_mutex_unlock(&r->mu);
        if (finished)
            continue;
        if (now >= s->deadline_ms) {
            s->timed_out = true;
            gj_job_cancel(s->job, NULL);
        } else if (nearest == 0 || s->deadline_ms < nearest) {
            nearest = s->deadline_ms;
        }
    }
    return nearest;
}

int gjt_run(gj_client *client, gjt_run_options *o)
{
    run r = { 0 };
    r.o = o;
    r.client = client;
    r.nslots = (size_t)(o->concurrency > 0 ? o->concurrency : 1);
    r.wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    r.slots = calloc(r.nslots, sizeof *r.slots);
    r.done = o->unordered ? calloc(r.nslots, sizeof *r.done) : NULL;
    r.taking = o->unordered ? calloc(r.nslots, sizeof *r.taking) : NULL;
    gj_error *err = gj_error_new();
    if (r.wake_fd < 0 || !r.slots || (o->unordered && (!r.done || !r.taking)) || !err ||
        gjt_stats_init(&r.stats, o->progress) != 0 || pthread_mutex_init(&r.mu, NULL) != 0) {
        gjt_error("out of memory starting the run");
        return GJT_EXIT_QUERY;
    }
    if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
        gjt_error("pipe: %s", strerror(errno));
        return GJT_EXIT_QUERY;
    }
    struct sigaction sa = { 0 };
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESETHAND;    /* a second Ctrl-C ends the program at once */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    int input_error = 0;
    if (o->input && o->repeat > 1) {
        int rc = read_all(&r);
        if (rc == -2)
            stop_all(&r, "interrupted (Ctrl-C) while reading the queries", "cancelled by Ctrl-C",
                     GJT_EXIT_CANCELLED);
        else if (rc < 0)
            input_error = 1;
        r.total = (uint64_t)r.nlist * (uint64_t)o->repeat;
        r.stats.total = r.total;
        if (r.nlist == 0)
            r.input_done = true;
    } else if (o->input && gjt_input_reads_tty(o->input)) {
        fprintf(stderr, "graphjob: reading queries from the terminal: end each with ';', "
                        "and the input with Ctrl-D\n");
    }
    double run_deadline = o->deadline_ms > 0 ? r.stats.started_ms + (double)o->deadline_ms : 0;

    while (!input_error) {
        if (submit_some(&r, err) != 0)
            input_error = 1;
        size_t printed = print_finished(&r);
        fflush(o->output.out);
        if (input_error || (r.input_done && r.in_use == 0) || (r.stop_why && r.in_use == 0))
            break;
        gjt_progress_draw(&r.stats, false);

        double now = gjt_now_ms();
        double wake = check_deadlines(&r, now);
        if (run_deadline && !r.stop_why) {
            if (now >= run_deadline) {
                char d[32];
                static char why[160], job_why[128];
                gjt_format_duration(d, sizeof d, o->deadline_ms);
                snprintf(why, sizeof why, "the run's deadline (--deadline %s) passed: the "
                         "outstanding jobs were cancelled", d);
                snprintf(job_why, sizeof job_why, "cancelled at the run's deadline (--deadline %s)", d);
                stop_all(&r, why, job_why, GJT_EXIT_TIMEOUT);
                continue;
            }
            if (wake == 0 || run_deadline < wake)
                wake = run_deadline;
        }
        if (o->progress && (wake == 0 || now + 200 < wake))
            wake = now + 200;
        /* Slots were freed: submit more at once (after a look at signals). */
        int timeout = printed ? 0 : wake == 0 ? -1 : wake <= now ? 0 : (int)(wake - now) + 1;
        struct pollfd p[3] = { { .fd = r.wake_fd, .events = POLLIN },
                               { .fd = sig_pipe[0], .events = POLLIN },
                               { .fd = -1, .events = POLLIN } };
        if (r.input_waiting && !r.stop_why)
            p[2].fd = gjt_input_fd(o->input);
        int n = poll(p, 3, timeout);
        if (n < 0 && errno != EINTR)
            break;
        if (p[0].revents) {
            uint64_t v;
            if (read(r.wake_fd, &v, sizeof v) < 0) {
                /* nothing to read: fine */
            }
        }
        if (p[1].revents) {
            char c;
            while (read(sig_pipe[0], &c, 1) == 1) {
            }
            stop_all(&r, "interrupted (Ctrl-C): the outstanding jobs were cancelled",
                     "cancelled by Ctrl-C", GJT_EXIT_CANCELLED);
        }
    }
    if (input_error && r.in_use) {
        /* Finish what was submitted before reporting the input error. */
        stop_all(&r, "stopped: the input could not be read", "cancelled: the input could not be read",
                 GJT_EXIT_USAGE);
        while (r.in_use) {
            print_finished(&r);
            if (!r.in_use)
                break;
            struct pollfd p = { .fd = r.wake_fd, .events = POLLIN };
            poll(&p, 1, 1000);
            uint64_t v;
            if (read(r.wake_fd, &v, sizeof v) < 0) {
            }
        }
    }
    fflush(o->output.out);
    gjt_progress_clear(&r.stats);
    if (o->summary || (r.stop_why && o->summary_if_stopped && !input_error))
        gjt_summary_print(&r.stats, stderr, r.stop_why);
    else if (r.stop_why && !input_error)
        gjt_error("%s", r.stop_why);

    int code = input_error ? GJT_EXIT_USAGE : r.stop_why ? r.stop_exit : r.exit_code;
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    close(sig_pipe[0]);
    close(sig_pipe[1]);
    close(r.wake_fd);
    for (size_t i = 0; i < r.nlist; i++)
        free(r.list[i]);
    free(r.list);
    free(r.pending);
    free(r.slots);
    free(r.done);
    free(r.taking);
    gjt_stats_free(&r.stats);
    pthread_mutex_destroy(&r.mu);
    gj_error_free(err);
    return code;
}
