/*
 * Clocks and small memory helpers.
 */
#include "core/internal.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t gj__now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t gj__now_ms(void)
{
    return gj__now_ns() / 1000000;
}

int64_t gj__wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t gj__wall_ms_coarse(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME_COARSE, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t gj__deadline_ms(int64_t timeout_ms)
{
    if (timeout_ms < 0)
        return INT64_MAX;
    int64_t now = gj__now_ms();
    if (timeout_ms > INT64_MAX - now)
        return INT64_MAX;
    return now + timeout_ms;
}

void gj__deadline_to_timespec(int64_t deadline_ms, struct timespec *ts)
{
    /* Far deadlines are capped at ~68 years to stay within time_t. */
    const int64_t cap = INT64_C(2147483647) * 1000;
    if (deadline_ms > cap)
        deadline_ms = cap;
    if (deadline_ms < 0)
        deadline_ms = 0;
    ts->tv_sec = (time_t)(deadline_ms / 1000);
    ts->tv_nsec = (long)(deadline_ms % 1000) * 1000000L;
}

char *gj__strdup(const char *s)
{
    return s ? gj__strndup(s, strlen(s)) : NULL;
}

char *gj__strndup(const char *s, size_t n)
{
    if (!s)
        return NULL;
    char *p = malloc(n + 1);
    if (!p)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}
