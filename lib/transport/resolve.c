/* Name resolution with a deadline (resolve.h). */
#include "transport/resolve.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

/* Longest host name accepted (DNS allows 253; IDN and odd resolvers some more). */
#define MAX_HOST_LEN 1024

struct gj_resolve {
    atomic_int refs;             /* the caller's and the thread's */
    atomic_bool done;
    int efd;
    int gai_rc;
    int gai_errno;
    struct addrinfo *res;
    char port[16];
    char host[];
};

bool gj__resolve_is_ip(const char *host, bool *v6)
{
    unsigned char buf[sizeof(struct in6_addr)];
    bool six = inet_pton(AF_INET6, host, buf) == 1;
    if (v6)
        *v6 = six;
    return six || inet_pton(AF_INET, host, buf) == 1;
}

static int resolve_error(const char *name, int rc, int saved_errno, gj_error *err)
{
    const char *why = rc == EAI_SYSTEM ? strerror(saved_errno) : gai_strerror(rc);
    return gj__error_set(err, rc == EAI_MEMORY ? GJ_ENOMEM : GJ_ECONNECT,
                         "%s: cannot resolve host: %s", name, why);
}

void gj__resolve_release(gj_resolve *j)
{
    if (!j || atomic_fetch_sub_explicit(&j->refs, 1, memory_order_acq_rel) != 1)
        return;
    if (j->res)
        freeaddrinfo(j->res);
    close(j->efd);
    free(j);
}

static void *resolve_main(void *arg)
{
    gj_resolve *j = arg;
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_ADDRCONFIG;
    j->gai_rc = getaddrinfo(j->host, j->port, &hints, &j->res);
    j->gai_errno = errno;
    atomic_store_explicit(&j->done, true, memory_order_release);
    uint64_t one = 1;
    if (write(j->efd, &one, sizeof one) < 0) {
        /* cannot fail for a fresh eventfd */
    }
    gj__resolve_release(j);
    return NULL;
}

int gj__resolve_start(const char *name, const char *host, int port, gj_resolve **job,
                      struct addrinfo **out, gj_error *err)
{
    char portbuf[16];
    snprintf(portbuf, sizeof portbuf, "%d", port);
    *job = NULL;
    *out = NULL;
    if (gj__resolve_is_ip(host, NULL)) {
        struct addrinfo hints;
        memset(&hints, 0, sizeof hints);
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
        int rc = getaddrinfo(host, portbuf, &hints, out);
        return rc ? resolve_error(name, rc, errno, err) : 0;
    }
    size_t hl = strlen(host);
    if (hl == 0 || hl > MAX_HOST_LEN)
        return gj__error_set(err, GJ_ECONNECT, "%s: cannot resolve host: %s", name,
                             hl ? "name too long" : "no host name");
    gj_resolve *j = calloc(1, sizeof *j + hl + 1);
    if (!j)
        return gj__error_set(err, GJ_ENOMEM, "%s: out of memory resolving the host", name);
    memcpy(j->host, host, hl + 1);
    memcpy(j->port, portbuf, sizeof portbuf);
    atomic_init(&j->refs, 2);
    atomic_init(&j->done, false);
    j->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    pthread_attr_t attr;
    bool attr_ok = j->efd >= 0 && pthread_attr_init(&attr) == 0;
    pthread_t th;
    bool started = attr_ok && pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED) == 0 &&
                   pthread_create(&th, &attr, resolve_main, j) == 0;
    if (attr_ok)
        pthread_attr_destroy(&attr);
    if (!started) {
        if (j->efd >= 0)
            close(j->efd);
        free(j);
        return gj__error_set(err, GJ_ENOMEM, "%s: cannot start a thread to resolve the host", name);
    }
    *job = j;
    return 0;
}

int gj__resolve_fd(const gj_resolve *j)
{
    return j->efd;
}

bool gj__resolve_done(const gj_resolve *j)
{
    return atomic_load_explicit(&j->done, memory_order_acquire);
}

int gj__resolve_take(gj_resolve *j, const char *name, struct addrinfo **out, gj_error *err)
{
    *out = NULL;
    if (j->gai_rc)
        return resolve_error(name, j->gai_rc, j->gai_errno, err);
    *out = j->res;
    j->res = NULL;
    return 0;
}
