/*
 * The job registry: job ids -> jobs.  Ids are handed out in submission order,
 * so a deque of fixed-size chunks indexed by id gives O(1) insert, lookup and
 * removal, and iteration in submission order.  A chunk is freed once every id
 * in it was removed and no new id can land in it.
 */
#include "core/job_internal.h"

#include <stdlib.h>
#include <string.h>

int gj__registry_init(gj_registry *r)
{
    memset(r, 0, sizeof *r);
    r->next_id = 1;
    return pthread_mutex_init(&r->mu, NULL) ? GJ_ENOMEM : 0;
}

void gj__registry_destroy(gj_registry *r)
{
    for (size_t i = 0; i < r->n_chunks; i++)
        free(r->chunks[i]);
    free(r->chunks);
    pthread_mutex_destroy(&r->mu);
}

/* Drop leading freed chunks so the deque does not grow with the id space. */
static void compact_front(gj_registry *r)
{
    size_t empty = 0;
    while (empty < r->n_chunks && !r->chunks[empty])
        empty++;
    if (empty == 0 || (empty < 64 && empty * 2 < r->n_chunks))
        return;
    memmove(r->chunks, r->chunks + empty, (r->n_chunks - empty) * sizeof *r->chunks);
    r->n_chunks -= empty;
    r->base += empty;
}

int gj__registry_insert(gj_registry *r, gj_job *job)
{
    pthread_mutex_lock(&r->mu);
    uint64_t id = r->next_id;
    uint64_t chunk_no = id / GJ__REG_CHUNK;
    size_t ci = (size_t)(chunk_no - r->base);
    if (ci >= r->n_chunks) {
        if (r->n_chunks == r->cap_chunks) {
            compact_front(r);
            ci = (size_t)(chunk_no - r->base);
        }
        if (r->n_chunks == r->cap_chunks) {
            size_t cap = r->cap_chunks ? r->cap_chunks * 2 : 16;
            gj_reg_chunk **grown = realloc(r->chunks, cap * sizeof *grown);
            if (!grown) {
                pthread_mutex_unlock(&r->mu);
                return GJ_ENOMEM;
            }
            r->chunks = grown;
            r->cap_chunks = cap;
        }
        gj_reg_chunk *chunk = calloc(1, sizeof *chunk);
        if (!chunk) {
            pthread_mutex_unlock(&r->mu);
            return GJ_ENOMEM;
        }
        r->chunks[r->n_chunks++] = chunk;
    }
    gj_reg_chunk *chunk = r->chunks[ci];
    chunk->slot[id % GJ__REG_CHUNK] = job;
    chunk->live++;
    job->id = id;
    r->next_id = id + 1;
    r->live++;
    pthread_mutex_unlock(&r->mu);
    return 0;
}

void gj__registry_remove_locked(gj_registry *r, uint64_t id)
{
    uint64_t chunk_no = id / GJ__REG_CHUNK;
    if (chunk_no < r->base || chunk_no - r->base >= r->n_chunks)
        return;
    size_t ci = (size_t)(chunk_no - r->base);
    gj_reg_chunk *chunk = r->chunks[ci];
    if (!chunk || !chunk->slot[id % GJ__REG_CHUNK])
        return;
    chunk->slot[id % GJ__REG_CHUNK] = NULL;
    chunk->live--;
    r->live--;
    /* Free the chunk when it is empty and full (no future id lands in it). */
    if (chunk->live == 0 && (chunk_no + 1) * GJ__REG_CHUNK <= r->next_id) {
        free(chunk);
        r->chunks[ci] = NULL;
        if (ci == 0)
            compact_front(r);
    }
}

gj_job *gj__registry_get(gj_registry *r, uint64_t id)
{
    gj_job *job = NULL;
    pthread_mutex_lock(&r->mu);
    uint64_t chunk_no = id / GJ__REG_CHUNK;
    if (chunk_no >= r->base && chunk_no - r->base < r->n_chunks) {
        gj_reg_chunk *chunk = r->chunks[chunk_no - r->base];
        if (chunk)
            job = chunk->slot[id % GJ__REG_CHUNK];
    }
    if (job)
        atomic_fetch_add_explicit(&job->refs, 1, memory_order_relaxed);
    pthread_mutex_unlock(&r->mu);
    return job;
}
