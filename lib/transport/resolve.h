/*
 * Name resolution with a deadline, for the transports (tcp.c, ws.c).
 *
 * getaddrinfo() cannot be interrupted, and a DNS server that does not answer
 * holds it for as long as resolv.conf allows.  A numeric host is resolved at
 * once; a name is looked up on a short-lived detached thread, and the caller
 * waits on an eventfd with its own deadline and interrupt.  A caller that
 * gives up releases the lookup and the thread finishes alone (whoever lets
 * go last frees it).
 */
#ifndef GJ_TRANSPORT_RESOLVE_H
#define GJ_TRANSPORT_RESOLVE_H

#include "core/internal.h"

#include <netdb.h>
#include <stdbool.h>

typedef struct gj_resolve gj_resolve;

/* Start resolving host:port (TCP).  A numeric host: *out gets its address
 * at once and *job is NULL.  Else *job is a lookup under way: wait until
 * gj__resolve_fd(*job) is readable or gj__resolve_done(*job), then
 * gj__resolve_take; gj__resolve_release in every case.  name prefixes the
 * messages ("bolt 127.0.0.1:7687").  GJ_ECONNECT (bad name), GJ_ENOMEM. */
int gj__resolve_start(const char *name, const char *host, int port, gj_resolve **job,
                      struct addrinfo **out, gj_error *err);

/* Readable (POLLIN) once the lookup has finished. */
int gj__resolve_fd(const gj_resolve *job);
bool gj__resolve_done(const gj_resolve *job);

/* The lookup's outcome (call once done): *out (freeaddrinfo) or
 * GJ_ECONNECT "cannot resolve host: ..." / GJ_ENOMEM. */
int gj__resolve_take(gj_resolve *job, const char *name, struct addrinfo **out, gj_error *err);

/* Let go of the lookup (finished or not).  NULL is fine. */
void gj__resolve_release(gj_resolve *job);

/* Whether host is an IPv4 or IPv6 literal (*v6 may be NULL). */
bool gj__resolve_is_ip(const char *host, bool *v6);

#endif
