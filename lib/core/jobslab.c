/*
 * Job records: a per-client slab.
 *
 * A client allocates every job record from its own slab instead of one
 * malloc per job: records are carved from chunks (growing from 16 KiB to
 * 1 MiB, from malloc, so the C library may reuse them after the client is
 * gone), and a freed record goes on a lock-free stack from which the next
 * submits take it again.  (Chunks marked for transparent huge pages were
 * tried: on the VMs here a fresh 2 MiB page costs far more to fault in than
 * the 4 KiB pages malloc recycles.)
 *
 * Threads: allocation is serialised by the caller (the registry lock, which
 * submit holds anyway), so only one thread pops; any thread pushes a freed
 * record with one CAS.  With a single consumer a Treiber stack has no ABA
 * problem, and the consumer takes the whole stack at once anyway.
 *
 * Lifetime: job handles stay valid after gj_client_free, so the slab lives
 * until both the client released it and every record came back.  Allocations
 * are counted without atomics (under the caller's lock); frees count down an
 * atomic balance, to which the release adds the number of allocations: the
 * thread that brings it to zero frees the chunks.
 *
 * Memory is kept for reuse until the slab goes (gj_client_stats.job_memory
 * says how much).  Under AddressSanitizer every record is a separate
 * malloc, so use-after-free of a job is still caught; under valgrind the
 * records are marked inaccessible while free.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#include "core/job_internal.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SANITIZE_ADDRESS__)
#define GJ__SLAB_MALLOC 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GJ__SLAB_MALLOC 1
#endif
#endif
#ifndef GJ__SLAB_MALLOC
#define GJ__SLAB_MALLOC 0
#endif

#ifdef HAVE_VALGRIND_MEMCHECK_H
#include <valgrind/memcheck.h>
#else
#define VALGRIND_MAKE_MEM_NOACCESS(a, n) ((void)(a), (void)(n))
#define VALGRIND_MAKE_MEM_UNDEFINED(a, n) ((void)(a), (void)(n))
#endif

#define SLAB_FIRST_CHUNK ((size_t)16 << 10)
#define SLAB_MAX_CHUNK ((size_t)1 << 20)

typedef struct slab_chunk {
    struct slab_chunk *next;
    size_t size;
} slab_chunk;

struct gj_job_slab {
    _Alignas(64) _Atomic(gj_job *) freed;   /* pushed by any thread */
    atomic_llong balance;                    /* -(frees); + allocs at release */
    /* Under the caller's allocation lock. */
    _Alignas(64) gj_job *local;              /* taken from `freed`, linked by qnext */
    char *cur, *end;                         /* the rest of the newest chunk */
    slab_chunk *chunks;
    size_t next_size;
    long long allocs;
    atomic_size_t bytes;                     /* chunk bytes (read by stats) */
};

#define JOB_SIZE ((sizeof(gj_job) + _Alignof(gj_job) - 1) & ~(size_t)(_Alignof(gj_job) - 1))
#define CHUNK_HEAD ((sizeof(slab_chunk) + 63) & ~(size_t)63)

int gj__job_slab_new(gj_job_slab **out)
{
    gj_job_slab *s = calloc(1, sizeof *s);
    if (!s)
        return GJ_ENOMEM;
    atomic_init(&s->freed, NULL);
    atomic_init(&s->balance, 0);
    atomic_init(&s->bytes, 0);
    s->next_size = SLAB_FIRST_CHUNK;
    *out = s;
    return 0;
}

static void slab_destroy(gj_job_slab *s)
{
    slab_chunk *ch = s->chunks;
    while (ch) {
        slab_chunk *next = ch->next;
        free(ch);
        ch = next;
    }
    free(s);
}

#if !GJ__SLAB_MALLOC
static int grow(gj_job_slab *s)
{
    size_t size = s->next_size;
    slab_chunk *ch = malloc(size);
    if (!ch)
        return GJ_ENOMEM;
    ch->next = s->chunks;
    ch->size = size;
    s->chunks = ch;
    s->cur = (char *)ch + CHUNK_HEAD;
    s->end = (char *)ch + size;
    VALGRIND_MAKE_MEM_NOACCESS(s->cur, (size_t)(s->end - s->cur));
    atomic_fetch_add_explicit(&s->bytes, size, memory_order_relaxed);
    if (size < SLAB_MAX_CHUNK)
        s->next_size = size * 2;
    return 0;
}
#endif

gj_job *gj__job_slab_alloc(gj_job_slab *s)
{
#if GJ__SLAB_MALLOC
    gj_job *m = malloc(sizeof *m);
    if (m) {
        m->slab = s;
        s->allocs++;
    }
    return m;
#else
    gj_job *job = s->local;
    if (!job && atomic_load_explicit(&s->freed, memory_order_relaxed))
        job = atomic_exchange_explicit(&s->freed, NULL, memory_order_acquire);
    if (job) {
        s->local = job->qnext;
        VALGRIND_MAKE_MEM_UNDEFINED(job, sizeof *job);
    } else {
        if ((size_t)(s->end - s->cur) < JOB_SIZE && grow(s) != 0)
            return NULL;
        job = (gj_job *)(void *)s->cur;
        s->cur += JOB_SIZE;
        VALGRIND_MAKE_MEM_UNDEFINED(job, sizeof *job);
    }
    job->slab = s;
    s->allocs++;
    return job;
#endif
}

void gj__job_slab_free(gj_job *job)
{
    gj_job_slab *s = job->slab;
#if GJ__SLAB_MALLOC
    free(job);
#else
    /* For valgrind: a freed record is off limits except its link, which
     * the allocating thread reads when it takes the record back. */
    VALGRIND_MAKE_MEM_NOACCESS(job, offsetof(gj_job, qnext));
    VALGRIND_MAKE_MEM_NOACCESS((char *)job + offsetof(gj_job, qnext) + sizeof job->qnext,
                               sizeof *job - offsetof(gj_job, qnext) - sizeof job->qnext);
    gj_job *top = atomic_load_explicit(&s->freed, memory_order_relaxed);
    do {
        job->qnext = top;
    } while (!atomic_compare_exchange_weak_explicit(&s->freed, &top, job, memory_order_release,
                                                    memory_order_relaxed));
#endif
    if (atomic_fetch_sub_explicit(&s->balance, 1, memory_order_acq_rel) == 1)
        slab_destroy(s);
}

void gj__job_slab_release(gj_job_slab *s)
{
    if (!s)
        return;
    long long out = s->allocs;
    if (atomic_fetch_add_explicit(&s->balance, out, memory_order_acq_rel) + out == 0)
        slab_destroy(s);
}

size_t gj__job_slab_bytes(gj_job_slab *s)
{
#if GJ__SLAB_MALLOC
    (void)s;
    return 0;
#else
    return atomic_load_explicit(&s->bytes, memory_order_relaxed);
#endif
}
