/*
 * Internal helpers shared across lib/ (never installed).
 */
#ifndef GJ_CORE_INTERNAL_H
#define GJ_CORE_INTERNAL_H

#include <graphjob.h>
#include <stdarg.h>

GJ_BEGIN_DECLS

#define GJ__PRINTF(f, a) __attribute__((format(printf, f, a)))
#define GJ__UNUSED(x) ((void)(x))

/* ---- errors (lib/core/error.c) ---------------------------------------------
 * All of these accept err == NULL and then only return the code. */

/* Record code + formatted message; returns code. */
int gj__error_set(gj_error *err, int code, const char *fmt, ...) GJ__PRINTF(3, 4);
int gj__error_setv(gj_error *err, int code, const char *fmt, va_list ap) GJ__PRINTF(3, 0);
/* Prefix the existing message with formatted text and ": " (keeps the code
 * and the server detail). Returns the error's code. */
int gj__error_prefix(gj_error *err, const char *fmt, ...) GJ__PRINTF(2, 3);

/* A server's error identity.  Strings are copied (NULL = absent); extra is
 * taken over (may be NULL).  Sets code GJ_ESERVER unless code is non-zero.
 * Returns the code it set. */
typedef struct gj__server_error {
    int code;                  /* 0 = GJ_ESERVER */
    const char *backend;       /* "bolt", ... */
    const char *server_code;   /* "Neo.ClientError...", "1501", "597" */
    long server_number;        /* errorNum, Gremlin status */
    const char *gql_status;
    int http_status;
    const char *message;       /* the server's message */
    gj_value *extra;
} gj__server_error;
int gj__error_set_server(gj_error *err, const gj__server_error *se);

/* Move src's content into dst (src is left cleared). */
void gj__error_move(gj_error *dst, gj_error *src);

/* ---- logging (lib/core/log.c) ---------------------------------------------- */
typedef struct gj_logger {
    gj_log_fn fn;
    gj_log_level level;
    void *payload;
} gj_logger;

#define GJ__LOG_ON(lg, lvl) ((lg) && (lg)->fn && (int)(lvl) <= (int)(lg)->level)
void gj__log(const gj_logger *lg, gj_log_level level, const char *fmt, ...) GJ__PRINTF(3, 4);

/* Write `url` into buf with the password (and any "token"/"password" query
 * parameter value) replaced by "***".  Always NUL-terminates. */
void gj__redact_url(const char *url, char *buf, size_t buflen);

/* ---- clocks (lib/core/clock.c) --------------------------------------------- */
int64_t gj__now_ms(void);    /* CLOCK_MONOTONIC */
int64_t gj__now_ns(void);    /* CLOCK_MONOTONIC */
int64_t gj__wall_ms(void);   /* CLOCK_REALTIME */
int64_t gj__wall_ms_coarse(void); /* CLOCK_REALTIME_COARSE: cheap, a few ms of resolution */

/* A pause in a spin loop. */
static inline void gj__cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}
/* gj_job_wait on a pending job: GJ__WAIT_SPINS looks a pause apart (about
 * 5 us with the ~25 ns pause of current x86 server parts, less on others),
 * then looks a sched_yield() apart for twice the client's recent wait time
 * when that is at most GJ__WAIT_ADAPT_MAX_NS / 2, else for
 * GJ__WAIT_YIELD_MIN_NS; then it sleeps on the job's condition variable.
 * A sleep and a wake-up cost 5 to 60 us on a virtual machine (most on an
 * idle one): spinning through a short network round trip saves that, while
 * slow jobs cost a waiter only a few microseconds of yields. */
#ifndef GJ__WAIT_SPINS
#define GJ__WAIT_SPINS 200
#endif
#ifndef GJ__WAIT_YIELD_MIN_NS
#define GJ__WAIT_YIELD_MIN_NS 5000
#endif
#ifndef GJ__WAIT_ADAPT_MAX_NS
#define GJ__WAIT_ADAPT_MAX_NS 200000
#endif
/* now + timeout; timeout < 0 gives INT64_MAX (no deadline). */
int64_t gj__deadline_ms(int64_t timeout_ms);
/* Fill a struct timespec (CLOCK_MONOTONIC) for a deadline in ms. */
struct timespec;
void gj__deadline_to_timespec(int64_t deadline_ms, struct timespec *ts);

/* ---- option values (lib/core/value_access.c) ------------------------------- */
/* A yes/no option: true for true, a non-zero integer, or the text "true",
 * "1", "yes" or "on"; false for anything else, and for NULL. */
bool gj__value_truthy(const gj_value *v);

/* ---- memory ---------------------------------------------------------------- */
char *gj__strdup(const char *s);                 /* NULL -> NULL */
char *gj__strndup(const char *s, size_t n);

GJ_END_DECLS

#endif
