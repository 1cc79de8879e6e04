/* store.c — databases, collections and documents, with the overlay of a
 * stream transaction.  Every function here expects srv->store_mu held. */
#include "rs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int rs_store_init(rs_server *srv)
{
    pthread_mutex_init(&srv->store_mu, NULL);
    srv->ndbs = 0;
    return rs_db_create(srv, "_system") ? 0 : -1;
}

static void coll_free(rs_collection *c)
{
    if (!c)
        return;
    json_object_put(c->docs);
    free(c->name);
    free(c);
}

static void db_free(rs_database *db)
{
    for (size_t i = 0; i < db->ncolls; i++)
        coll_free(db->colls[i]);
    free(db->name);
    free(db);
}

void rs_store_free(rs_server *srv)
{
    for (size_t i = 0; i < srv->ndbs; i++)
        db_free(srv->dbs[i]);
    srv->ndbs = 0;
    rs_trx_free_all(srv);
    pthread_mutex_destroy(&srv->store_mu);
}

rs_database *rs_db_find(rs_server *srv, const char *name)
{
    for (size_t i = 0; i < srv->ndbs; i++)
        if (!strcmp(srv->dbs[i]->name, name))
            return srv->dbs[i];
    return NULL;
}

rs_database *rs_db_create(rs_server *srv, const char *name)
{
    if (srv->ndbs >= RS_MAX_DATABASES)
        return NULL;
    rs_database *db = calloc(1, sizeof *db);
    if (!db)
        return NULL;
    db->name = strdup(name);
    db->id = rs_next_tick(srv);
    if (!db->name) {
        free(db);
        return NULL;
    }
    srv->dbs[srv->ndbs++] = db;
    return db;
}

void rs_db_drop(rs_server *srv, rs_database *db)
{
    for (size_t i = 0; i < srv->ndbs; i++) {
        if (srv->dbs[i] == db) {
            memmove(&srv->dbs[i], &srv->dbs[i + 1], (srv->ndbs - i - 1) * sizeof srv->dbs[0]);
            srv->ndbs--;
            db_free(db);
            return;
        }
    }
}

rs_collection *rs_coll_find(rs_database *db, const char *name)
{
    for (size_t i = 0; i < db->ncolls; i++)
        if (!strcmp(db->colls[i]->name, name))
            return db->colls[i];
    return NULL;
}

rs_collection *rs_coll_create(rs_server *srv, rs_database *db, const char *name, int type)
{
    if (db->ncolls >= RS_MAX_COLLECTIONS)
        return NULL;
    rs_collection *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->name = strdup(name);
    c->docs = json_object_new_object();
    c->id = rs_next_tick(srv);
    c->type = type == 3 ? 3 : 2;
    c->is_system = name[0] == '_';
    if (!c->name || !c->docs) {
        coll_free(c);
        return NULL;
    }
    db->colls[db->ncolls++] = c;
    return c;
}

void rs_coll_drop(rs_database *db, rs_collection *c)
{
    for (size_t i = 0; i < db->ncolls; i++) {
        if (db->colls[i] == c) {
            memmove(&db->colls[i], &db->colls[i + 1], (db->ncolls - i - 1) * sizeof db->colls[0]);
            db->ncolls--;
            coll_free(c);
            return;
        }
    }
}

/* The transaction's pending changes for collection c: { key -> doc | null }. */
static json_object *overlay_of(rs_trx *t, rs_collection *c, int create)
{
    if (!t)
        return NULL;
    json_object *ov = NULL;
    if (json_object_object_get_ex(t->overlay, c->name, &ov))
        return ov;
    if (!create)
        return NULL;
    ov = json_object_new_object();
    if (ov && json_object_object_add(t->overlay, c->name, ov) != 0) {
        json_object_put(ov);
        return NULL;
    }
    return ov;
}

/* Borrowed; valid while the store lock is held and nothing is written. */
json_object *rs_doc_get(rs_collection *c, rs_trx *t, const char *key)
{
    json_object *ov = overlay_of(t, c, 0), *doc = NULL;
    if (ov && json_object_object_get_ex(ov, key, &doc))
        return doc; /* NULL = deleted inside the transaction */
    if (json_object_object_get_ex(c->docs, key, &doc))
        return doc;
    return NULL;
}

/* Insert or replace; doc is consumed.  Inside a transaction the change stays
 * in the overlay until commit. */
int rs_doc_set(rs_collection *c, rs_trx *t, const char *key, json_object *doc)
{
    json_object *target = t ? overlay_of(t, c, 1) : c->docs;
    if (!target) {
        json_object_put(doc);
        return -1;
    }
    if (json_object_object_length(target) >= (int)RS_MAX_DOCUMENTS &&
        !json_object_object_get_ex(target, key, NULL)) {
        json_object_put(doc);
        return -1;
    }
    if (json_object_object_add(target, key, doc) != 0) {
        json_object_put(doc);
        return -1;
    }
    return 0;
}

void rs_doc_del(rs_collection *c, rs_trx *t, const char *key)
{
    if (!t) {
        json_object_object_del(c->docs, key);
        return;
    }
    json_object *ov = overlay_of(t, c, 1);
    if (ov)
        json_object_object_add(ov, key, NULL);
}

int rs_coll_foreach(rs_collection *c, rs_trx *t, rs_doc_cb cb, void *ctx)
{
    json_object *ov = overlay_of(t, c, 0);
    json_object_object_foreach(c->docs, key, val) {
        json_object *doc = val, *changed = NULL;
        if (ov && json_object_object_get_ex(ov, key, &changed))
            doc = changed;
        if (doc) {
            int rc = cb(doc, ctx);
            if (rc)
                return rc;
        }
    }
    if (ov) {
        json_object_object_foreach(ov, okey, oval) {
            if (oval && !json_object_object_get_ex(c->docs, okey, NULL)) {
                int rc = cb(oval, ctx);
                if (rc)
                    return rc;
            }
        }
    }
    return 0;
}

static int count_cb(json_object *doc, void *ctx)
{
    (void)doc;
    (*(size_t *)ctx)++;
    return 0;
}

size_t rs_coll_count(rs_collection *c, rs_trx *t)
{
    if (!overlay_of(t, c, 0))
        return (size_t)json_object_object_length(c->docs);
    size_t n = 0;
    rs_coll_foreach(c, t, count_cb, &n);
    return n;
}

void rs_coll_truncate(rs_collection *c, rs_trx *t)
{
    if (!t) {
        json_object *fresh = json_object_new_object();
        if (fresh) {
            json_object_put(c->docs);
            c->docs = fresh;
        }
        return;
    }
    json_object *ov = overlay_of(t, c, 1);
    if (!ov)
        return;
    json_object_object_foreach(c->docs, key, val) {
        (void)val;
        json_object_object_add(ov, key, NULL);
    }
    json_object_object_foreach(ov, okey, oval) {
        if (oval)
            json_object_object_add(ov, okey, NULL);
    }
}

/* The collection description of the collection API; with `properties` the
 * longer form of /properties and of POST /_api/collection. */
json_object *rs_coll_info(rs_collection *c, int properties)
{
    json_object *o = json_object_new_object();
    if (!o)
        return NULL;
    char id[32], guid[48];
    snprintf(id, sizeof id, "%llu", (unsigned long long)c->id);
    snprintf(guid, sizeof guid, "h%llx/%llu", (unsigned long long)c->id * 2654435761u,
             (unsigned long long)c->id);
    json_object_object_add(o, "error", json_object_new_boolean(0));
    json_object_object_add(o, "code", json_object_new_int(200));
    json_object_object_add(o, "id", json_object_new_string(id));
    json_object_object_add(o, "name", json_object_new_string(c->name));
    json_object_object_add(o, "status", json_object_new_int(3));
    json_object_object_add(o, "type", json_object_new_int(c->type));
    json_object_object_add(o, "isSystem", json_object_new_boolean(c->is_system));
    json_object_object_add(o, "globallyUniqueId", json_object_new_string(guid));
    if (properties) {
        json_object *ko = json_object_new_object();
        json_object_object_add(ko, "type", json_object_new_string("traditional"));
        json_object_object_add(ko, "allowUserKeys", json_object_new_boolean(1));
        json_object_object_add(ko, "lastValue", json_object_new_int64(0));
        json_object_object_add(o, "statusString", json_object_new_string("loaded"));
        json_object_object_add(o, "waitForSync", json_object_new_boolean(c->wait_for_sync));
        json_object_object_add(o, "keyOptions", ko);
        json_object_object_add(o, "writeConcern", json_object_new_int(1));
        json_object_object_add(o, "cacheEnabled", json_object_new_boolean(0));
        json_object_object_add(o, "computedValues", NULL);
        json_object_object_add(o, "schema", NULL);
        json_object_object_add(o, "syncByRevision", json_object_new_boolean(1));
        json_object_object_add(o, "usesRevisionsAsDocumentIds", json_object_new_boolean(1));
        json_object_object_add(o, "isSmartChild", json_object_new_boolean(0));
        json_object_object_add(o, "isDisjoint", json_object_new_boolean(0));
        json_object_object_add(o, "internalValidatorType", json_object_new_int(0));
        json_object_object_add(o, "objectId", json_object_new_string(id));
    }
    return o;
}
