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

int gj__registry_insert_locked(gj_registry *r, gj_job *job)
{
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
            if (!grown)
                return GJ_ENOMEM;
            r->chunks = grown;
            r->cap_chunks = cap;
        }
        gj_reg_chunk *chunk = calloc(1, sizeof *chunk);
        if (!chunk)
            return GJ_ENOMEM;
        r->chunks[r->n_chunks++] = chunk;
    }
    gj_reg_chunk *chunk = r->chunks[ci];
    chunk->slot[id % GJ__REG_CHUNK] = job;
    chunk->live++;
    job->id = id;
    r->next_id = id + 1;
    r->live++;
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

gj_job *gj__registry_collect(gj_registry *r, bool (*pick)(const gj_job *job, void *arg),
                             void *arg)
{
    gj_job *list = NULL;
    pthread_mutex_lock(&r->mu);
    for (size_t ci = 0; ci < r->n_chunks; ci++) {
        gj_reg_chunk *chunk = r->chunks[ci];
        if (!chunk)
            continue;
        for (size_t k = 0; k < GJ__REG_CHUNK; k++) {
            gj_job *job = chunk->slot[k];
            if (job && pick(job, arg)) {
                atomic_fetch_add_explicit(&job->refs, 1, memory_order_relaxed);
                job->qprev = list; /* qprev is free outside the queue */
                list = job;
            }
        }
    }
    pthread_mutex_unlock(&r->mu);
    return list;
}

/* ---- the client's queries by id ---------------------------------------------- */

int gj_client_job(gj_client *c, uint64_t id, gj_job **out, gj_error *err)
{
    gj_error_clear(err);
    if (!c || !out)
        return gj__error_set(err, GJ_EINVAL, "gj_client_job: client and out are required");
    *out = gj__registry_get(&c->registry, id);
    if (!*out)
        return gj__error_set(err, GJ_ENOTFOUND, "job %llu not found", (unsigned long long)id);
    return 0;
}

typedef struct id_list {
    bool finished;
    size_t max;
    uint64_t *ids;
    size_t n;
} id_list;

static bool pick_listed(const gj_job *job, void *arg)
{
    id_list *l = arg;
    unsigned st = atomic_load_explicit(&job->state, memory_order_acquire);
    if (l->n < l->max && !(st & GJ__ST_GONE) && GJ__TERMINAL(st) == l->finished)
        l->ids[l->n++] = job->id;
    return false; /* ids only, no references */
}

int gj_client_list_jobs(gj_client *c, gj_job_status status, size_t max_count,
                        uint64_t **ids, size_t *count, gj_error *err)
{
    gj_error_clear(err);
    if (!c || !ids || !count)
        return gj__error_set(err, GJ_EINVAL, "gj_client_list_jobs: client, ids and count are required");
    *ids = NULL;
    *count = 0;
    if (status != GJ_JOB_PENDING && status != GJ_JOB_DONE)
        return gj__error_set(err, GJ_EINVAL, "gj_client_list_jobs: status must be "
                             "GJ_JOB_PENDING or GJ_JOB_DONE");
    /* Size the array for what is registered now, with room for ids added
     * before the walk (the walk never writes past max). */
    pthread_mutex_lock(&c->registry.mu);
    size_t live = c->registry.live;
    pthread_mutex_unlock(&c->registry.mu);
    id_list l = { status == GJ_JOB_DONE, live + 64, NULL, 0 };
    if (max_count && max_count < l.max)
        l.max = max_count;
    l.ids = malloc(l.max * sizeof *l.ids);
    if (!l.ids)
        return gj__error_set(err, GJ_ENOMEM, "out of memory listing jobs");
    gj__registry_collect(&c->registry, pick_listed, &l);
    if (!l.n) {
        free(l.ids);
        l.ids = NULL;
    }
    *ids = l.ids;
    *count = l.n;
    return 0;
}

static bool pick_finished_before(const gj_job *job, void *arg)
{
    int64_t before = *(const int64_t *)arg;
    unsigned st = atomic_load_explicit(&job->state, memory_order_acquire);
    return GJ__TERMINAL(st) && !(st & GJ__ST_GONE) && (!before || job->finished_at < before);
}

int gj_client_clear_jobs(gj_client *c, int64_t before_ms, size_t *cleared, gj_error *err)
{
    gj_error_clear(err);
    if (cleared)
        *cleared = 0;
    if (!c)
        return gj__error_set(err, GJ_EINVAL, "gj_client_clear_jobs: client is NULL");
    /* Collect under the lock, clear outside it (freeing results can take time). */
    size_t n = 0;
    for (gj_job *j = gj__registry_collect(&c->registry, pick_finished_before, &before_ms); j;) {
        gj_job *next = j->qprev;
        j->qprev = NULL;
        if (gj__job_cancel(j, true, NULL) == 0)
            n++;
        gj_job_unref(j);
        j = next;
    }
    if (cleared)
        *cleared = n;
    return 0;
}
