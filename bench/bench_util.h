/*
 * bench/bench_util.h - what every bench/ program needs: a wall clock, this
 * process's CPU time, the servers it started (stopped at the end, on
 * failure and on SIGINT / SIGTERM), failing with a message, checked number
 * options and the verdict word.  Header-only (static inline): each bench is
 * one program.
 *
 * Use: set bench_name, bench_signals() at the start of main, bench_child()
 * for each server started, bench_stop_children() at the end (bench_die and
 * a signal stop them too).
 */
#ifndef GJ_BENCH_UTIL_H
#define GJ_BENCH_UTIL_H

#include "../tests/common/server_spawn.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>

/* The program's name in its messages ("arango: ..."). */
static const char *bench_name = "bench";

/* Seconds on the monotonic clock. */
static inline double bench_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* User + system CPU time of this process (all its threads; the servers are
 * other processes), in seconds. */
static inline double bench_cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
           ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) / 1e6;
}

/* ---- the servers a bench started -------------------------------------------- */

#define BENCH_MAX_CHILDREN 4
static gj_spawned *bench_children[BENCH_MAX_CHILDREN];
/* Copies of their pids for the signal handler (-1: none, or stopped). */
static volatile sig_atomic_t bench_child_pids[BENCH_MAX_CHILDREN] = {-1, -1, -1, -1};

/* Stop one server (SIGTERM, up to 5 s, then SIGKILL), if it still runs. */
static inline void bench_stop_child(gj_spawned *s)
{
    for (int i = 0; i < BENCH_MAX_CHILDREN; i++) {
        if (bench_children[i] != s || bench_child_pids[i] <= 0)
            continue;
        bench_child_pids[i] = -1;
        int st = gj_spawn_stop(s, SIGTERM, 5000);
        if (st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL)
            fprintf(stderr, "%s: a server ignored SIGTERM for 5 s; killed it\n", bench_name);
    }
}

/* Stop every server still running. */
static inline void bench_stop_children(void)
{
    for (int i = BENCH_MAX_CHILDREN - 1; i >= 0; i--)
        if (bench_children[i])
            bench_stop_child(bench_children[i]);
}

/* Remember a started server (gj_spawn_server succeeded on s). */
static inline void bench_child(gj_spawned *s)
{
    for (int i = 0; i < BENCH_MAX_CHILDREN; i++) {
        if (bench_children[i] == NULL || bench_children[i] == s) {
            bench_children[i] = s;
            bench_child_pids[i] = s->pid;
            return;
        }
    }
    fprintf(stderr, "%s: more than %d servers\n", bench_name, BENCH_MAX_CHILDREN);
    abort();
}

/* A server the bench waits for itself (it has ended or is about to). */
static inline void bench_child_done(const gj_spawned *s)
{
    for (int i = 0; i < BENCH_MAX_CHILDREN; i++)
        if (bench_children[i] == s)
            bench_child_pids[i] = -1;
}

static inline void bench_on_signal(int sig)
{
    for (int i = 0; i < BENCH_MAX_CHILDREN; i++) {
        pid_t pid = (pid_t)bench_child_pids[i];
        if (pid > 0)
            kill(pid, SIGTERM);
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

/* SIGINT and SIGTERM stop the servers too; a closed socket is an error
 * return, not a signal. */
static inline void bench_signals(void)
{
    signal(SIGINT, bench_on_signal);
    signal(SIGTERM, bench_on_signal);
    signal(SIGPIPE, SIG_IGN);
}

/* ---- failing, options, verdicts --------------------------------------------- */

static inline _Noreturn void bench_die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* "name: message", the servers stopped, exit status 1. */
static inline _Noreturn void bench_die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", bench_name);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    bench_stop_children();
    exit(1);
}

/* The number option opt's value s, from lo to hi, or bench_die naming it. */
static inline long bench_arg_long(const char *opt, const char *s, long lo, long hi)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        bench_die("%s takes a number from %ld to %ld, not '%s'", opt, lo, hi, s);
    return v;
}

static inline const char *bench_verdict(bool ok)
{
    return ok ? "ok" : "MISSED";
}

#endif
