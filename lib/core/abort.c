/*
 * Aborting blocking calls: the flags and the file descriptors (abort.h).
 */
#include "core/abort.h"

#include <unistd.h>

int gj__abort_check(const gj_abort *a)
{
    if (!a)
        return 0;
    if (a->job_state && (__atomic_load_n(a->job_state, __ATOMIC_ACQUIRE) & a->job_mask))
        return GJ_ECANCELLED;
    if (a->stop && __atomic_load_n(a->stop, __ATOMIC_ACQUIRE))
        return GJ_ESHUTDOWN;
    return 0;
}

int gj__abort_pollfds(const gj_abort *a, struct pollfd *p)
{
    int n = 0;
    if (!a)
        return 0;
    if (a->job_fd >= 0)
        p[n++] = (struct pollfd){ a->job_fd, POLLIN, 0 };
    if (a->stop_fd >= 0)
        p[n++] = (struct pollfd){ a->stop_fd, POLLIN, 0 };
    return n;
}

void gj__abort_drain(const gj_abort *a)
{
    uint64_t v;
    if (a && a->job_fd >= 0 && read(a->job_fd, &v, sizeof v) < 0) {
        /* EAGAIN: nothing to drain */
    }
}

const char *gj__abort_reason(int code)
{
    return code == GJ_ESHUTDOWN ? "the client is shutting down" : "cancelled";
}
