/* store.c — the in-memory graph shared by the listeners of one process:
 * nodes and relationships, transaction visibility, bookmarks. */
#include "bs.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define BOOKMARK_PREFIX "FB:refserver:"

int bs_store_init(bs_store *s)
{
    memset(s, 0, sizeof *s);
    s->next_id = 0;
    s->next_tx = 1;
    return pthread_mutex_init(&s->lock, NULL) == 0 ? 0 : -1;
}

static void entity_free(bs_entity *e)
{
    for (size_t i = 0; i < e->n_labels; i++)
        free(e->labels[i]);
    free(e->labels);
    gj_value_unref(e->props);
    free(e);
}

void bs_store_free(bs_store *s)
{
    for (size_t i = 0; i < s->n; i++)
        entity_free(s->items[i]);
    free(s->items);
    pthread_mutex_destroy(&s->lock);
}

uint64_t bs_store_begin(bs_store *s)
{
    pthread_mutex_lock(&s->lock);
    uint64_t tx = s->next_tx++;
    pthread_mutex_unlock(&s->lock);
    return tx;
}

/* Drop entities deleted for good (caller holds the lock). */
static void compact(bs_store *s)
{
    size_t w = 0;
    for (size_t i = 0; i < s->n; i++) {
        bs_entity *e = s->items[i];
        if (e->deleted_by == UINT64_MAX)
            entity_free(e);
        else
            s->items[w++] = e;
    }
    s->n = w;
}

uint64_t bs_store_commit(bs_store *s, uint64_t tx, bool wrote)
{
    pthread_mutex_lock(&s->lock);
    for (size_t i = 0; i < s->n; i++) {
        bs_entity *e = s->items[i];
        if (e->created_by == tx)
            e->created_by = 0;
        if (e->deleted_by == tx)
            e->deleted_by = UINT64_MAX;
    }
    compact(s);
    if (wrote)
        s->last_commit++;
    uint64_t bm = s->last_commit;
    pthread_mutex_unlock(&s->lock);
    return bm;
}

void bs_store_rollback(bs_store *s, uint64_t tx)
{
    pthread_mutex_lock(&s->lock);
    for (size_t i = 0; i < s->n; i++) {
        bs_entity *e = s->items[i];
        if (e->created_by == tx)
            e->deleted_by = UINT64_MAX;
        else if (e->deleted_by == tx)
            e->deleted_by = 0;
    }
    compact(s);
    pthread_mutex_unlock(&s->lock);
}

void bs_bookmark_text(uint64_t n, char *buf, size_t len)
{
    snprintf(buf, len, BOOKMARK_PREFIX "%" PRIu64, n);
}

int bs_bookmark_parse(const char *s, size_t len, uint64_t *n)
{
    size_t plen = strlen(BOOKMARK_PREFIX);
    if (len <= plen || len > plen + 20 || memcmp(s, BOOKMARK_PREFIX, plen) != 0)
        return -1;
    uint64_t v = 0;
    for (size_t i = plen; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    *n = v;
    return 0;
}

bool bs_entity_visible(const bs_entity *e, uint64_t tx)
{
    if (e->deleted_by == UINT64_MAX)
        return false;
    if (e->created_by && e->created_by != tx)
        return false;
    if (e->deleted_by && tx && e->deleted_by == tx)
        return false;
    return true;
}

const bs_entity *bs_store_get(const bs_store *s, int64_t id)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->items[i]->id == id)
            return s->items[i];
    return NULL;
}

static gj_value *element_id(const char *kind, int64_t id)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%s:refserver:%" PRId64, kind, id);
    return gj_value_string(buf);
}

gj_value *bs_entity_value(const bs_entity *e)
{
    gj_value *v = NULL;
    if (!e->is_rel) {
        gj_value *labels;
        if (gj_value_new_list(&labels, e->n_labels) != 0)
            return NULL;
        for (size_t i = 0; i < e->n_labels; i++)
            gj_value_list_append(labels, gj_value_string(e->labels[i]));
        if (gj_value_new_node(&v, gj_value_int(e->id), labels, gj_value_ref(e->props)) != 0)
            return NULL;
        gj_value_node_set_element_id(v, element_id("4", e->id));
    } else {
        if (gj_value_new_edge(&v, gj_value_int(e->id), gj_value_string(e->labels[0]), gj_value_int(e->start),
                              gj_value_int(e->end), gj_value_ref(e->props)) != 0)
            return NULL;
        gj_value_edge_set_element_ids(v, element_id("5", e->id), element_id("4", e->start),
                                      element_id("4", e->end));
    }
    return v;
}

/* ---- changes (the caller holds the lock) ---- */

void bs_store_delete(bs_store *s, bs_entity *e, uint64_t tx)
{
    (void)s;
    e->deleted_by = tx;
}

bs_entity *bs_store_add(bs_store *s, bool is_rel, const char *const *labels, size_t n_labels,
                        int64_t start, int64_t end, gj_value *props, uint64_t tx)
{
    bs_entity *e = calloc(1, sizeof *e);
    if (!e || (n_labels && !(e->labels = calloc(n_labels, sizeof *e->labels)))) {
        free(e);
        gj_value_unref(props);
        return NULL;
    }
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        bs_entity **items = realloc(s->items, cap * sizeof *items);
        if (!items) {
            free(e->labels);
            free(e);
            gj_value_unref(props);
            return NULL;
        }
        s->items = items;
        s->cap = cap;
    }
    for (size_t i = 0; i < n_labels; i++)
        e->labels[i] = strdup(labels[i]);
    e->n_labels = n_labels;
    e->is_rel = is_rel;
    e->start = start;
    e->end = end;
    e->props = props;
    e->id = s->next_id++;
    e->created_by = tx;
    s->items[s->n++] = e;
    return e;
}

static gj_value *props2(const char *k1, gj_value *v1, const char *k2, gj_value *v2)
{
    gj_value *m;
    if (gj_value_new_map(&m, 2) != 0)
        return NULL;
    if (k1)
        gj_value_map_put_str(m, k1, v1);
    if (k2)
        gj_value_map_put_str(m, k2, v2);
    return m;
}

void bs_store_seed(bs_store *s)
{
    static const char *person[] = { "Person" };
    static const char *knows[] = { "KNOWS" };
    pthread_mutex_lock(&s->lock);
    bs_entity *alice = bs_store_add(s, false, person, 1, 0, 0,
                                    props2("name", gj_value_string("Alice"), "age", gj_value_int(33)), 0);
    bs_entity *bob = bs_store_add(s, false, person, 1, 0, 0,
                                  props2("name", gj_value_string("Bob"), "age", gj_value_int(44)), 0);
    bs_entity *carol = bs_store_add(s, false, person, 1, 0, 0,
                                    props2("name", gj_value_string("Carol"), NULL, NULL), 0);
    if (alice && bob && carol) {
        bs_store_add(s, true, knows, 1, alice->id, bob->id, props2("since", gj_value_int(2020), NULL, NULL), 0);
        bs_store_add(s, true, knows, 1, bob->id, carol->id, props2("since", gj_value_int(2021), NULL, NULL), 0);
    }
    pthread_mutex_unlock(&s->lock);
}
