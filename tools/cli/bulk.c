/*
 * graphjob — bulk runs: the latency histogram, the progress bar, the summary.
 *
 * Latencies (submission to the end of the job) go into a log-scale
 * histogram: bucket i holds latencies from R^i to R^(i+1) microseconds with
 * R = 1.02, so a percentile is exact to 2 % and the memory is fixed (about
 * 10 KiB) however many jobs run.  The maximum is kept exactly.
 */
#include "graphjob.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define RATIO 1.02
#define BUCKETS 1300     /* up to 1.02^1300 µs: about 4 days */

int gjt_stats_init(gjt_stats *st, bool progress)
{
    memset(st, 0, sizeof *st);
    st->buckets = calloc(BUCKETS, sizeof *st->buckets);
    if (!st->buckets)
        return GJ_ENOMEM;
    st->started_ms = gjt_now_ms();
    st->progress = progress;
    return 0;
}

void gjt_stats_free(gjt_stats *st)
{
    free(st->buckets);
    st->buckets = NULL;
}

void gjt_stats_add(gjt_stats *st, const char *status, double latency_ms)
{
    if (strcmp(status, "done") == 0)
        st->done++;
    else if (strcmp(status, "failed") == 0)
        st->failed++;
    else
        st->cancelled++;
    if (strcmp(status, "cancelled") == 0)
        return;   /* a cancelled job's time says nothing about the server */
    double us = latency_ms * 1000.0;
    int i = us < 1 ? 0 : (int)(log(us) / log(RATIO));
    if (i >= BUCKETS)
        i = BUCKETS - 1;
    st->buckets[i]++;
    st->samples++;
    if (latency_ms > st->max_ms)
        st->max_ms = latency_ms;
}

double gjt_stats_percentile(const gjt_stats *st, double p)
{
    if (st->samples == 0)
        return 0;
    uint64_t want = (uint64_t)ceil(p / 100.0 * (double)st->samples);
    if (want == 0)
        want = 1;
    uint64_t seen = 0;
    for (int i = 0; i < BUCKETS; i++) {
        seen += st->buckets[i];
        if (seen >= want) {
            /* the middle of the bucket (geometric), never above the max */
            double ms = pow(RATIO, i + 0.5) / 1000.0;
            return ms < st->max_ms ? ms : st->max_ms;
        }
    }
    return st->max_ms;
}

static int terminal_columns(void)
{
    struct winsize ws;
    if (ioctl(2, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20)
        return ws.ws_col;
    return 80;
}

void gjt_progress_draw(gjt_stats *st, bool force)
{
    if (!st->progress)
        return;
    double now = gjt_now_ms();
    if (!force && now - st->last_draw_ms < 200)
        return;
    st->last_draw_ms = now;
    uint64_t finished = st->done + st->failed + st->cancelled;
    double secs = (now - st->started_ms) / 1000.0;
    double rate = secs > 0 ? (double)finished / secs : 0;
    char line[512], eta[32] = "";
    if (st->total && rate > 0 && finished < st->total) {
        double left = (double)(st->total - finished) / rate;
        if (left < 100)
            snprintf(eta, sizeof eta, "  ETA %.0fs", ceil(left));
        else if (left < 6000)
            snprintf(eta, sizeof eta, "  ETA %.0fm%02.0fs", floor(left / 60), fmod(left, 60));
        else
            snprintf(eta, sizeof eta, "  ETA %.1fh", left / 3600);
    }
    int n;
    if (st->total)
        n = snprintf(line, sizeof line, " %llu/%llu jobs, %llu failed, %.0f/s%s ",
                     (unsigned long long)finished, (unsigned long long)st->total,
                     (unsigned long long)st->failed, rate, eta);
    else
        n = snprintf(line, sizeof line, " %llu jobs, %llu failed, %.0f/s ",
                     (unsigned long long)finished, (unsigned long long)st->failed, rate);
    int cols = terminal_columns() - 1;
    int bar = cols - n - 2;
    fputs("\r", stderr);
    if (st->total && bar >= 10) {
        int fill = (int)((double)bar * (double)finished / (double)st->total);
        if (fill > bar)
            fill = bar;
        putc('[', stderr);
        for (int i = 0; i < bar; i++)
            putc(i < fill ? '=' : i == fill ? '>' : ' ', stderr);
        putc(']', stderr);
        n += bar + 2;
    }
    fputs(line, stderr);
    if (st->drawn > n)
        fprintf(stderr, "%*s", st->drawn - n, "");
    st->drawn = n;
    fflush(stderr);
}

void gjt_progress_clear(gjt_stats *st)
{
    if (st->progress && st->drawn) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
        st->drawn = 0;
    }
}

void gjt_summary_print(const gjt_stats *st, FILE *f, const char *why_stopped)
{
    double secs = (gjt_now_ms() - st->started_ms) / 1000.0;
    uint64_t finished = st->done + st->failed + st->cancelled;
    if (why_stopped)
        fprintf(f, "graphjob: %s\n", why_stopped);
    fprintf(f, "graphjob: %llu jobs in %.2f s: %llu done, %llu failed, %llu cancelled; "
            "%.0f jobs/s\n",
            (unsigned long long)finished, secs, (unsigned long long)st->done,
            (unsigned long long)st->failed, (unsigned long long)st->cancelled,
            secs > 0 ? (double)(st->done + st->failed) / secs : 0.0);
    if (st->samples)
        fprintf(f, "graphjob: latency p50 %.3f ms, p90 %.3f ms, p99 %.3f ms, max %.3f ms\n",
                gjt_stats_percentile(st, 50), gjt_stats_percentile(st, 90),
                gjt_stats_percentile(st, 99), st->max_ms);
}
