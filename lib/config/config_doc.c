/*
 * Configuration documents: the tree the YAML and JSON readers build
 * (gj__cnode), the walker that applies it to a gj_config through the
 * settings table, and the file entry points gj_config_parse /
 * gj_config_load_file.
 *
 * Errors read  FILE:LINE:COL: key 'backends.graph.max_conns': expected an
 * integer, got "lots".
 */
#include "config/config_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define PATH_BUF 512
#define DESC_BUF 160

/* ---- the tree ---------------------------------------------------------------- */

gj__cnode *gj__cnode_new(gj__cnode_kind kind, unsigned line, unsigned col, const char *text,
                         size_t text_len)
{
    gj__cnode *n = calloc(1, sizeof *n);
    if (n == NULL)
        return NULL;
    n->kind = kind;
    n->line = line;
    n->col = col;
    if (text != NULL) {
        n->text = malloc(text_len + 1);
        if (n->text == NULL) {
            free(n);
            return NULL;
        }
        memcpy(n->text, text, text_len);
        n->text[text_len] = '\0';
        n->text_len = text_len;
    }
    return n;
}

void gj__cnode_free(gj__cnode *node)
{
    if (node == NULL)
        return;
    for (size_t i = 0; i < node->n_items; i++)
        gj__cnode_free(node->items[i]);
    free(node->items);
    free(node->key);
    free(node->text);
    free(node);
}

static void path_append(char *buf, size_t len, size_t *o, const char *s)
{
    size_t n = strlen(s);
    if (*o + n + 1 > len) {
        n = *o + 1 < len ? len - *o - 1 : 0;
    }
    memcpy(buf + *o, s, n);
    *o += n;
    buf[*o] = '\0';
}

static void path_of(const gj__cnode *node, char *buf, size_t len, size_t *o)
{
    const gj__cnode *parent = node->parent;
    if (parent == NULL)
        return;
    path_of(parent, buf, len, o);
    if (parent->kind == GJ__CNODE_MAP) {
        if (*o > 0)
            path_append(buf, len, o, ".");
        path_append(buf, len, o, node->key != NULL ? node->key : "?");
    } else {
        char idx[32];
        size_t i = 0;
        while (i < parent->n_items && parent->items[i] != node)
            i++;
        snprintf(idx, sizeof idx, "[%zu]", i);
        path_append(buf, len, o, idx);
    }
}

void gj__cnode_path(const gj__cnode *node, char *buf, size_t len)
{
    size_t o = 0;
    if (len == 0)
        return;
    buf[0] = '\0';
    path_of(node, buf, len, &o);
}

static int at_error(gj_error *err, int code, const char *origin, unsigned line, unsigned col,
                    const char *fmt, ...) GJ__PRINTF(6, 7);

static int at_error(gj_error *err, int code, const char *origin, unsigned line, unsigned col,
                    const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return gj__error_set(err, code, "%s:%u:%u: %s", origin, line, col, msg);
}

int gj__cnode_append(gj__cnode *parent, gj__cnode *child, const char *origin, gj_error *err)
{
    char path[PATH_BUF];
    if (parent->kind == GJ__CNODE_MAP) {
        for (size_t i = 0; i < parent->n_items; i++) {
            if (strcmp(parent->items[i]->key, child->key) == 0) {
                size_t o;
                int rc;
                gj__cnode_path(parent, path, sizeof path);
                o = strlen(path);
                if (o > 0)
                    path_append(path, sizeof path, &o, ".");
                path_append(path, sizeof path, &o, child->key);
                rc = at_error(err, GJ_ECONFIG, origin, child->key_line, child->key_col,
                              "duplicate key '%s' (first at line %u, column %u)", path,
                              parent->items[i]->key_line, parent->items[i]->key_col);
                gj__cnode_free(child);
                return rc;
            }
        }
    }
    if (parent->n_items >= GJ__CONFIG_MAX_ENTRIES) {
        gj__cnode_path(parent, path, sizeof path);
        gj__cnode_free(child);
        return at_error(err, GJ_ECONFIG, origin, parent->line, parent->col,
                        "more than %d entries in '%s'", GJ__CONFIG_MAX_ENTRIES, path);
    }
    if (parent->n_items == parent->cap_items) {
        size_t cap = parent->cap_items == 0 ? 8 : parent->cap_items * 2;
        gj__cnode **items = realloc(parent->items, cap * sizeof *items);
        if (items == NULL) {
            gj__cnode_free(child);
            return gj__error_set(err, GJ_ENOMEM, "out of memory");
        }
        parent->items = items;
        parent->cap_items = cap;
    }
    child->parent = parent;
    parent->items[parent->n_items++] = child;
    return 0;
}

void gj__config_position(const char *text, size_t len, size_t offset, unsigned *line,
                         unsigned *col)
{
    unsigned l = 1;
    size_t line_start = 0;
    if (offset > len)
        offset = len;
    for (size_t i = 0; i < offset; i++) {
        if (text[i] == '\n') {
            l++;
            line_start = i + 1;
        }
    }
    *line = l;
    *col = (unsigned)(offset - line_start + 1);
}

/* ---- the walker ---------------------------------------------------------------- */

typedef struct walk {
    gj_config *cfg;
    const char *origin;
    gj_error *err;
} walk;

static const char *kind_desc(const gj__cnode *n, char *buf, size_t len)
{
    switch (n->kind) {
    case GJ__CNODE_NULL: return "null";
    case GJ__CNODE_BOOL: return n->boolean ? "true" : "false";
    case GJ__CNODE_INT:
    case GJ__CNODE_FLOAT:
        snprintf(buf, len, "%.60s", n->text != NULL ? n->text : "?");
        return buf;
    case GJ__CNODE_STRING: gj__config_quote(n->text, n->text_len, buf, len); return buf;
    case GJ__CNODE_LIST: return "a list";
    case GJ__CNODE_MAP: return "a mapping";
    }
    return "?";
}

/* Prefix the message in err with where node is and its key path. */
static int name_node(const walk *w, const gj__cnode *node, int rc)
{
    char path[PATH_BUF];
    gj__cnode_path(node, path, sizeof path);
    gj__error_prefix(w->err, "%s:%u:%u: key '%s'", w->origin, node->line, node->col, path);
    return rc;
}

static int node_mismatch(const walk *w, const gj__setting *s, const gj__cnode *node)
{
    char desc[DESC_BUF];
    gj__error_set(w->err, GJ_ECONFIG, "expected %s, got %s",
                  gj__setting_type_desc(gj__setting_get_type(s)), kind_desc(node, desc, sizeof desc));
    return name_node(w, node, GJ_ECONFIG);
}

/* A map or list node as a gj_value (YAML/JSON types kept). */
static int node_value(const walk *w, const gj__cnode *n, gj_value **out)
{
    gj_value *v = NULL;
    int rc = 0;
    switch (n->kind) {
    case GJ__CNODE_NULL: v = gj_value_null(); break;
    case GJ__CNODE_BOOL: v = gj_value_bool(n->boolean); break;
    case GJ__CNODE_INT:
        if (n->int_overflow) {
            gj__error_set(w->err, GJ_ECONFIG, "integer out of range, got %.60s", n->text);
            return name_node(w, n, GJ_ECONFIG);
        }
        v = gj_value_int(n->integer);
        break;
    case GJ__CNODE_FLOAT: v = gj_value_float(n->number); break;
    case GJ__CNODE_STRING:
        rc = gj_value_new_string(&v, n->text, n->text_len);
        if (rc == GJ_EINVAL) {
            gj__error_set(w->err, GJ_ECONFIG, "string is not valid UTF-8");
            return name_node(w, n, GJ_ECONFIG);
        }
        break;
    case GJ__CNODE_LIST:
    case GJ__CNODE_MAP: {
        bool map = n->kind == GJ__CNODE_MAP;
        rc = map ? gj_value_new_map(&v, n->n_items) : gj_value_new_list(&v, n->n_items);
        for (size_t i = 0; rc == 0 && i < n->n_items; i++) {
            gj_value *item;
            rc = node_value(w, n->items[i], &item);
            if (rc != 0) {
                gj_value_unref(v);
                return rc;
            }
            rc = map ? gj_value_map_put_str(v, n->items[i]->key, item)
                     : gj_value_list_append(v, item);
        }
        break;
    }
    }
    if (rc == 0 && v == NULL)
        rc = GJ_ENOMEM;
    if (rc != 0) {
        gj_value_unref(v);
        return gj__error_set(w->err, GJ_ENOMEM, "out of memory");
    }
    *out = v;
    return 0;
}

static int apply_hosts_list(const walk *w, gj_target_settings *ts, const gj__cnode *list)
{
    gj_host *hosts;
    size_t n = 0;
    if (list->n_items > GJ__CONFIG_MAX_HOSTS) {
        gj__error_set(w->err, GJ_ECONFIG, "too many hosts (at most %d)", GJ__CONFIG_MAX_HOSTS);
        return name_node(w, list, GJ_ECONFIG);
    }
    hosts = calloc(list->n_items + 1, sizeof *hosts);
    if (hosts == NULL)
        return gj__error_set(w->err, GJ_ENOMEM, "out of memory");
    for (; n < list->n_items; n++) {
        const gj__cnode *item = list->items[n];
        int rc;
        if (item->kind != GJ__CNODE_STRING) {
            char desc[DESC_BUF];
            gj__config_hosts_free(hosts, n);
            gj__error_set(w->err, GJ_ECONFIG, "expected a host string, got %s",
                          kind_desc(item, desc, sizeof desc));
            return name_node(w, item, GJ_ECONFIG);
        }
        rc = gj__config_parse_host(item->text, item->text_len, &hosts[n], w->err);
        if (rc != 0) {
            gj__config_hosts_free(hosts, n);
            return name_node(w, item, rc);
        }
    }
    int rc = gj__setting_apply_hosts(ts, hosts, n, w->err);
    return rc != 0 ? name_node(w, list, rc) : 0;
}

/* Apply one document node to a setting. */
static int apply_node(const walk *w, gj_target_settings *ts, const gj__setting *s,
                      const gj__cnode *node)
{
    gj__setting_type type = gj__setting_get_type(s);
    gj_config *cfg = w->cfg;
    gj_error *err = w->err;
    int rc;

    switch (node->kind) {
    case GJ__CNODE_NULL:
        if (type != GJ__SETTING_STRING && type != GJ__SETTING_HOSTS && type != GJ__SETTING_MAP)
            return node_mismatch(w, s, node);
        rc = gj__setting_apply_null(cfg, ts, s, err);
        break;
    case GJ__CNODE_BOOL:
        if (type != GJ__SETTING_BOOL)
            return node_mismatch(w, s, node);
        rc = gj__setting_apply_bool(cfg, ts, s, node->boolean, err);
        break;
    case GJ__CNODE_INT:
        if (type == GJ__SETTING_STRING) {
            rc = gj__setting_apply_text(cfg, ts, s, node->text, err);
        } else if (type == GJ__SETTING_INT || type == GJ__SETTING_SIZE) {
            if (node->int_overflow)
                rc = gj__setting_range_error(s, node->text, err);
            else
                rc = gj__setting_apply_int(cfg, ts, s, node->integer, err);
        } else if (type == GJ__SETTING_DURATION) {
            if (node->int_overflow)
                rc = gj__error_set(err, GJ_ECONFIG,
                                   "expected a duration of at most 10 years, got %.60s ms",
                                   node->text);
            else
                rc = gj__setting_apply_duration(cfg, ts, s, node->integer, err);
        } else {
            return node_mismatch(w, s, node);
        }
        break;
    case GJ__CNODE_FLOAT:
        if (type != GJ__SETTING_STRING)
            return node_mismatch(w, s, node);
        rc = gj__setting_apply_text(cfg, ts, s, node->text, err);
        break;
    case GJ__CNODE_STRING:
        if (type == GJ__SETTING_MAP)
            return node_mismatch(w, s, node);
        if (strlen(node->text) != node->text_len) {
            gj__error_set(err, GJ_ECONFIG, "string contains a NUL character");
            return name_node(w, node, GJ_ECONFIG);
        }
        rc = gj__setting_apply_text(cfg, ts, s, node->text, err);
        break;
    case GJ__CNODE_LIST:
        if (type != GJ__SETTING_HOSTS)
            return node_mismatch(w, s, node);
        return apply_hosts_list(w, ts, node);
    case GJ__CNODE_MAP: {
        gj_value *v;
        if (type != GJ__SETTING_MAP)
            return node_mismatch(w, s, node);
        if ((rc = node_value(w, node, &v)) != 0)
            return rc;
        rc = gj__setting_apply_value(cfg, ts, s, v, err);
        gj_value_unref(v);
        break;
    }
    default:
        return node_mismatch(w, s, node);
    }
    return rc != 0 ? name_node(w, node, rc) : 0;
}

static const gj__cnode *find_item(const gj__cnode *map, const char *key)
{
    for (size_t i = 0; i < map->n_items; i++) {
        if (strcmp(map->items[i]->key, key) == 0)
            return map->items[i];
    }
    return NULL;
}

static int unknown_key(const walk *w, const gj__cnode *item)
{
    char path[PATH_BUF];
    gj__cnode_path(item, path, sizeof path);
    return at_error(w->err, GJ_ECONFIG, w->origin, item->key_line, item->key_col,
                    "unknown key '%s'", path);
}

/* The target `name` from the settings in map (at the top level, skip the
 * client keys and "backends"). */
static int apply_target(const walk *w, const char *name, const gj__cnode *map, bool top)
{
    gj_target_settings *ts;
    gj__url_info info = {false, false};
    unsigned line = top ? 1 : map->key_line, col = top ? 1 : map->key_col;
    int rc = gj__config_reset_target(w->cfg, name, &ts, w->err);
    if (rc != 0)
        return name_node(w, map, rc);

    /* url first: the other keys override what it says. */
    const gj__cnode *url = find_item(map, "url");
    if (url != NULL && url->kind != GJ__CNODE_NULL) {
        if (url->kind != GJ__CNODE_STRING)
            return node_mismatch(w, gj__setting_find("url"), url);
        rc = gj__config_apply_url(w->cfg, ts, url->text, &info, w->err);
        if (rc != 0)
            return name_node(w, url, rc);
    }
    for (size_t i = 0; i < map->n_items; i++) {
        const gj__cnode *item = map->items[i];
        const gj__setting *s = gj__setting_find(item->key);
        if (item == url)
            continue;
        if (top && (strcmp(item->key, "backends") == 0 ||
                    (s != NULL && gj__setting_get_level(s) == GJ__LEVEL_CLIENT)))
            continue;
        if (s == NULL)
            return unknown_key(w, item);
        if (gj__setting_get_level(s) == GJ__LEVEL_CLIENT) {
            char path[PATH_BUF];
            gj__cnode_path(item, path, sizeof path);
            return at_error(w->err, GJ_ECONFIG, w->origin, item->key_line, item->key_col,
                            "key '%s': '%s' is a client setting: put it at the top level", path,
                            item->key);
        }
        if ((rc = apply_node(w, ts, s, item)) != 0)
            return rc;
        if (item->kind != GJ__CNODE_NULL) {
            if (strcmp(item->key, "password") == 0)
                info.has_password = true;
            else if (strcmp(item->key, "password_env") == 0)
                info.has_password_env = true;
        }
    }

    if (info.has_password && info.has_password_env)
        return at_error(w->err, GJ_ECONFIG, w->origin, line, col,
                        "target '%s': both a password and password_env are given: give one",
                        name);
    if (ts->min_conns > ts->max_conns)
        return at_error(w->err, GJ_ECONFIG, w->origin, line, col,
                        "target '%s': min_conns (%u) is greater than max_conns (%u)", name,
                        ts->min_conns, ts->max_conns);
    bool test = ts->backend != NULL && strcmp(ts->backend, "test") == 0;
    if (ts->n_hosts == 0 && !test)
        return at_error(w->err, GJ_ECONFIG, w->origin, line, col,
                        "target '%s' has no hosts (give 'url' or 'hosts')", name);
    if (ts->backend == NULL)
        return at_error(w->err, GJ_ECONFIG, w->origin, line, col,
                        "target '%s' has no backend (give 'url', 'scheme' or 'backend')", name);
    return 0;
}

int gj__config_apply_tree(gj_config *cfg, const gj__cnode *root, const char *origin,
                          gj_error *err)
{
    walk w = {cfg, origin, err};
    const gj__cnode *backends = NULL, *first_target_key = NULL;
    char desc[DESC_BUF];
    int rc;

    if (root == NULL || root->kind == GJ__CNODE_NULL)
        return at_error(err, GJ_ECONFIG, origin, root != NULL ? root->line : 1,
                        root != NULL ? root->col : 1,
                        "empty document (expected a mapping of settings)");
    if (root->kind != GJ__CNODE_MAP)
        return at_error(err, GJ_ECONFIG, origin, root->line, root->col,
                        "expected a mapping of settings at the top level, got %s",
                        kind_desc(root, desc, sizeof desc));
    for (size_t i = 0; i < root->n_items; i++) {
        const gj__cnode *item = root->items[i];
        const gj__setting *s;
        if (strcmp(item->key, "backends") == 0) {
            backends = item;
            continue;
        }
        if ((s = gj__setting_find(item->key)) == NULL)
            return unknown_key(&w, item);
        if (gj__setting_get_level(s) == GJ__LEVEL_CLIENT) {
            if ((rc = apply_node(&w, NULL, s, item)) != 0)
                return rc;
        } else if (first_target_key == NULL) {
            first_target_key = item;
        }
    }
    if (backends != NULL && first_target_key != NULL)
        return at_error(err, GJ_ECONFIG, origin, first_target_key->key_line,
                        first_target_key->key_col,
                        "key '%s': target settings at the top level cannot be combined with "
                        "'backends' (put them under backends.default)",
                        first_target_key->key);
    if (first_target_key != NULL && (rc = apply_target(&w, "default", root, true)) != 0)
        return rc;
    if (backends != NULL) {
        if (backends->kind != GJ__CNODE_MAP) {
            gj__error_set(err, GJ_ECONFIG, "expected a mapping of backend names to settings, got %s",
                          kind_desc(backends, desc, sizeof desc));
            return name_node(&w, backends, GJ_ECONFIG);
        }
        if (backends->n_items == 0) {
            gj__error_set(err, GJ_ECONFIG, "no backends in the mapping");
            return name_node(&w, backends, GJ_ECONFIG);
        }
        for (size_t i = 0; i < backends->n_items; i++) {
            const gj__cnode *target = backends->items[i];
            if (target->kind != GJ__CNODE_MAP) {
                gj__error_set(err, GJ_ECONFIG, "expected a mapping of settings, got %s",
                              kind_desc(target, desc, sizeof desc));
                return name_node(&w, target, GJ_ECONFIG);
            }
            if ((rc = apply_target(&w, target->key, target, false)) != 0)
                return rc;
        }
    }
    if (gj__config_refresh(cfg) != 0)
        return gj__error_set(err, GJ_ENOMEM, "out of memory");
    return 0;
}

/* ---- entry points -------------------------------------------------------------------- */

int gj_config_parse(gj_config **out, const char *text, size_t len, gj_config_format format,
                    const char *origin, gj_error *err)
{
    gj_error_clear(err);
    gj__cnode *root = NULL;
    gj_config *cfg = NULL;
    int rc;

    if (out == NULL || (text == NULL && len > 0))
        return gj__error_set(err, GJ_EINVAL, "%s is NULL", out == NULL ? "out" : "text");
    *out = NULL;
    if (origin == NULL)
        origin = "<string>";
    if (len > GJ__CONFIG_MAX_FILE_SIZE)
        return gj__error_set(err, GJ_ECONFIG, "%s: larger than %zu bytes", origin,
                             GJ__CONFIG_MAX_FILE_SIZE);
    if (text == NULL)
        text = "";
    if (format == GJ_CONFIG_JSON)
        rc = gj__config_json_tree(text, len, origin, &root, err);
    else if (format == GJ_CONFIG_YAML)
        rc = gj__config_yaml_tree(text, len, origin, &root, err);
    else
        return gj__error_set(err, GJ_EINVAL, "unknown configuration format %d", (int)format);
    if (rc != 0)
        return rc;
    if ((rc = gj_config_new(&cfg)) != 0) {
        gj__cnode_free(root);
        return gj__error_set(err, GJ_ENOMEM, "out of memory");
    }
    rc = gj__config_apply_tree(cfg, root, origin, err);
    gj__cnode_free(root);
    if (rc != 0) {
        gj_config_free(cfg);
        return rc;
    }
    *out = cfg;
    return 0;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

int gj_config_load_file(gj_config **out, const char *path, gj_error *err)
{
    gj_error_clear(err);
    char ebuf[128];
    struct stat st;
    char *buf;
    size_t n = 0;
    int fd, rc;

    if (out == NULL || path == NULL)
        return gj__error_set(err, GJ_EINVAL, "%s is NULL", out == NULL ? "out" : "path");
    *out = NULL;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return gj__error_set(err, GJ_ECONFIG, "%s: cannot open: %s", path,
                             strerror_r(errno, ebuf, sizeof ebuf));
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return gj__error_set(err, GJ_ECONFIG, "%s: not a regular file", path);
    }
    if ((uint64_t)st.st_size > GJ__CONFIG_MAX_FILE_SIZE) {
        close(fd);
        return gj__error_set(err, GJ_ECONFIG, "%s: larger than %zu bytes", path,
                             GJ__CONFIG_MAX_FILE_SIZE);
    }
    /* Read up to the limit + 1 in case the file grew since fstat. */
    buf = malloc(GJ__CONFIG_MAX_FILE_SIZE + 1);
    if (buf == NULL) {
        close(fd);
        return gj__error_set(err, GJ_ENOMEM, "out of memory");
    }
    for (;;) {
        ssize_t r = read(fd, buf + n, GJ__CONFIG_MAX_FILE_SIZE + 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = gj__error_set(err, GJ_ECONFIG, "%s: cannot read: %s", path,
                               strerror_r(errno, ebuf, sizeof ebuf));
            close(fd);
            free(buf);
            return rc;
        }
        if (r == 0 || n + (size_t)r > GJ__CONFIG_MAX_FILE_SIZE) {
            n += (size_t)r;
            break;
        }
        n += (size_t)r;
    }
    close(fd);

    gj_config_format format = GJ_CONFIG_YAML;
    if (ends_with(path, ".json")) {
        format = GJ_CONFIG_JSON;
    } else if (!ends_with(path, ".yaml") && !ends_with(path, ".yml")) {
        size_t i = 0;
        while (i < n && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' || buf[i] == '\n'))
            i++;
        if (i < n && buf[i] == '{')
            format = GJ_CONFIG_JSON;
    }
    rc = gj_config_parse(out, buf, n, format, path, err);
    free(buf);
    return rc;
}
