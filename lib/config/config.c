/*
 * The configuration object: targets and their settings (init, copy, free),
 * and the typed setters and getters of include/graphjob/config.h, which go
 * through the settings table of config_setting.c.
 */
#include "config/config_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

/* What the getters hand out for one target that settings.h has no room
 * for: the "hosts" text ("a:1,b:2"; NULL when it has no hosts) and the "url"
 * with its secrets redacted (NULL when it has no URL). */
typedef struct getter_text {
    char *hosts;
    char *url;
} getter_text;

/* A gj_config as allocated here: the struct everyone reads, then texts[i],
 * the getter texts of targets[i], computed when a target changes so that
 * getters only read. */
typedef struct config_impl {
    struct gj_config pub;
    getter_text *texts;
} config_impl;

/* What a getter gives for a secret setting (password, ssl_password) that is set. */
static const char redacted_secret[] = "***";

static config_impl *impl_of(gj_config *cfg)
{
    return (config_impl *)(void *)cfg;
}

static const config_impl *impl_of_const(const gj_config *cfg)
{
    return (const config_impl *)(const void *)cfg;
}

static int out_of_memory(gj_error *err)
{
    return gj__error_set(err, GJ_ENOMEM, "out of memory");
}

static const void *field_of_const(const gj_config *cfg, const gj_target_settings *ts,
                                  const gj__setting *s)
{
    const char *base = s->level == GJ__LEVEL_CLIENT ? (const char *)cfg : (const char *)ts;
    return base + s->offset;
}

/* ---- target settings ------------------------------------------------------------ */

static const size_t string_fields[] = {
    offsetof(gj_target_settings, name),         offsetof(gj_target_settings, backend),
    offsetof(gj_target_settings, scheme),       offsetof(gj_target_settings, url),
    offsetof(gj_target_settings, path),         offsetof(gj_target_settings, username),
    offsetof(gj_target_settings, password),     offsetof(gj_target_settings, password_env),
    offsetof(gj_target_settings, database),     offsetof(gj_target_settings, ssl_certfile),
    offsetof(gj_target_settings, ssl_keyfile),  offsetof(gj_target_settings, ssl_password),
    offsetof(gj_target_settings, ssl_cafile),   offsetof(gj_target_settings, message_serializer),
};
#define N_STRING_FIELDS (sizeof string_fields / sizeof string_fields[0])

static char **string_field(gj_target_settings *ts, size_t i)
{
    return (char **)(void *)((char *)ts + string_fields[i]);
}

void gj__target_settings_init(gj_target_settings *ts)
{
    ts->ssl_verify = true;
    ts->tls = false;
    ts->response_timeout_ms = 30000;
    ts->connect_timeout_ms = 10000;
    ts->acquire_timeout_ms = 60000;
    ts->min_conns = 0;
    ts->max_conns = 4;
    ts->max_times_acquired = 16;
    ts->max_inflight = 64;
    ts->max_lifetime_ms = 3600000;
    ts->idle_timeout_ms = 300000;
    ts->liveness_check_ms = 30000;
    ts->host_backoff_ms = 1000;
    ts->max_message_size = (size_t)64 << 20;
    ts->max_result_size = (size_t)256 << 20;
    ts->connect_retry_ms = 0;
}

void gj__target_settings_free(gj_target_settings *ts)
{
    if (ts == NULL)
        return;
    if (ts->password != NULL)
        explicit_bzero(ts->password, strlen(ts->password));
    if (ts->ssl_password != NULL)
        explicit_bzero(ts->ssl_password, strlen(ts->ssl_password));
    if (ts->url != NULL)
        explicit_bzero(ts->url, strlen(ts->url));  /* may hold user:password@ */
    for (size_t i = 0; i < N_STRING_FIELDS; i++)
        free(*string_field(ts, i));
    gj__config_hosts_free(ts->hosts, ts->n_hosts);
    gj_value_unref(ts->aliases);
    gj_value_unref(ts->options);
    memset(ts, 0, sizeof *ts);
}

int gj__target_settings_copy(gj_target_settings *dst, const gj_target_settings *src)
{
    *dst = *src;
    for (size_t i = 0; i < N_STRING_FIELDS; i++)
        *string_field(dst, i) = NULL;
    dst->hosts = NULL;
    dst->n_hosts = 0;
    dst->aliases = gj_value_ref(src->aliases);
    dst->options = gj_value_ref(src->options);
    for (size_t i = 0; i < N_STRING_FIELDS; i++) {
        const char *s = *string_field((gj_target_settings *)src, i);
        if (s != NULL && (*string_field(dst, i) = strdup(s)) == NULL)
            goto fail;
    }
    if (src->n_hosts > 0) {
        dst->hosts = calloc(src->n_hosts, sizeof *dst->hosts);
        if (dst->hosts == NULL)
            goto fail;
        for (size_t i = 0; i < src->n_hosts; i++) {
            dst->hosts[i].port = src->hosts[i].port;
            dst->n_hosts = i + 1;
            if ((dst->hosts[i].host = strdup(src->hosts[i].host)) == NULL)
                goto fail;
        }
    }
    return 0;
fail:
    gj__target_settings_free(dst);
    return GJ_ENOMEM;
}

static ssize_t find_target(const gj_config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->n_targets; i++) {
        if (strcmp(cfg->targets[i].name, name) == 0)
            return (ssize_t)i;
    }
    return -1;
}

const gj_target_settings *gj__config_target(const gj_config *cfg, const char *name)
{
    if (cfg == NULL)
        return NULL;
    ssize_t i = find_target(cfg, name != NULL ? name : "default");
    if (i >= 0)
        return &cfg->targets[i];
    if (name == NULL && cfg->n_targets == 1)
        return &cfg->targets[0];
    return NULL;
}

int gj__config_check_target_name(const char *name, gj_error *err)
{
    size_t len = name != NULL ? strlen(name) : 0;
    if (len == 0)
        return gj__error_set(err, GJ_ECONFIG, "empty target name");
    if (len > GJ__CONFIG_MAX_NAME)
        return gj__error_set(err, GJ_ECONFIG, "target name longer than %d bytes",
                             GJ__CONFIG_MAX_NAME);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c < 0x20 || c == 0x7f) {
            char q[192];
            gj__config_quote(name, len, q, sizeof q);
            return gj__error_set(err, GJ_ECONFIG, "control character in target name %s", q);
        }
    }
    return 0;
}

static void texts_free(getter_text *t)
{
    free(t->hosts);
    free(t->url);
    t->hosts = t->url = NULL;
}

/* The URL as logs show it (gj__redact_url): the password and secret query
 * values replaced by "***", the user name kept.  NULL when out of memory. */
static char *redacted_url(const char *url)
{
    /* ":password" becomes ":***" (3 bytes more at most, once) and a secret
     * query item "auth=..." or longer becomes "auth=***" (3 more per 5). */
    size_t cap = 2 * strlen(url) + 16;
    char *text = malloc(cap);
    if (text != NULL)
        gj__redact_url(url, text, cap);
    return text;
}

/* The getter texts of ts into *out (GJ_ENOMEM: nothing to free). */
static int make_texts(const gj_target_settings *ts, getter_text *out)
{
    getter_text t = {NULL, NULL};
    if (ts->n_hosts > 0 && (t.hosts = gj__config_hosts_text(ts->hosts, ts->n_hosts)) == NULL)
        return GJ_ENOMEM;
    if (ts->url != NULL && (t.url = redacted_url(ts->url)) == NULL) {
        texts_free(&t);
        return GJ_ENOMEM;
    }
    *out = t;
    return 0;
}

static int refresh_target(config_impl *c, size_t i)
{
    getter_text t;
    if (make_texts(&c->pub.targets[i], &t) != 0)
        return GJ_ENOMEM;
    texts_free(&c->texts[i]);
    c->texts[i] = t;
    return 0;
}

int gj__config_refresh(gj_config *cfg)
{
    for (size_t i = 0; i < cfg->n_targets; i++) {
        if (refresh_target(impl_of(cfg), i) != 0)
            return GJ_ENOMEM;
    }
    return 0;
}

int gj__config_reset_target(gj_config *cfg, const char *name, gj_target_settings **out,
                            gj_error *err)
{
    config_impl *c = impl_of(cfg);
    char *name_copy;
    if (gj__config_check_target_name(name, err) != 0)
        return GJ_ECONFIG;
    ssize_t found = find_target(cfg, name);
    if (found >= 0) {
        gj_target_settings *ts = &cfg->targets[found];
        name_copy = ts->name;
        ts->name = NULL;
        gj__target_settings_free(ts);
        gj__target_settings_init(ts);
        ts->name = name_copy;
        texts_free(&c->texts[found]);
        *out = ts;
        return 0;
    }
    if (cfg->n_targets >= GJ__CONFIG_MAX_TARGETS)
        return gj__error_set(err, GJ_ECONFIG, "too many targets (at most %d)",
                             GJ__CONFIG_MAX_TARGETS);
    if ((name_copy = strdup(name)) == NULL)
        return out_of_memory(err);
    size_t n = cfg->n_targets + 1;
    gj_target_settings *targets = realloc(cfg->targets, n * sizeof *targets);
    if (targets == NULL) {
        free(name_copy);
        return out_of_memory(err);
    }
    cfg->targets = targets;
    getter_text *texts = realloc(c->texts, n * sizeof *texts);
    if (texts == NULL) {
        free(name_copy);
        return out_of_memory(err);
    }
    c->texts = texts;
    texts[n - 1].hosts = texts[n - 1].url = NULL;
    gj_target_settings *ts = &targets[n - 1];
    memset(ts, 0, sizeof *ts);
    gj__target_settings_init(ts);
    ts->name = name_copy;
    cfg->n_targets = n;
    *out = ts;
    return 0;
}

int gj__config_put_target(gj_config *cfg, gj_target_settings *ts, gj_error *err)
{
    config_impl *c = impl_of(cfg);
    getter_text t;
    if (make_texts(ts, &t) != 0)
        return out_of_memory(err);
    ssize_t i = find_target(cfg, ts->name);
    if (i < 0) {
        size_t n = cfg->n_targets + 1;
        if (cfg->n_targets >= GJ__CONFIG_MAX_TARGETS) {
            texts_free(&t);
            return gj__error_set(err, GJ_ECONFIG, "too many targets (at most %d)",
                                 GJ__CONFIG_MAX_TARGETS);
        }
        gj_target_settings *targets = realloc(cfg->targets, n * sizeof *targets);
        if (targets != NULL)
            cfg->targets = targets;
        getter_text *texts = targets != NULL ? realloc(c->texts, n * sizeof *texts) : NULL;
        if (texts == NULL) {
            texts_free(&t);
            return out_of_memory(err);
        }
        c->texts = texts;
        i = (ssize_t)n - 1;
        texts[i].hosts = texts[i].url = NULL;
        memset(&targets[i], 0, sizeof targets[i]);
        cfg->n_targets = n;
    }
    gj__target_settings_free(&cfg->targets[i]);
    cfg->targets[i] = *ts;
    texts_free(&c->texts[i]);
    c->texts[i] = t;
    return 0;
}

void gj__config_restore_client(gj_config *cfg, const struct gj_config *saved)
{
    gj_target_settings *targets = cfg->targets;
    size_t n_targets = cfg->n_targets;
    gj_logger log = cfg->log;
    *cfg = *saved;
    cfg->targets = targets;
    cfg->n_targets = n_targets;
    cfg->log = log;
}

/* Remove the last target (one a failed setter had just created). */
static void pop_target(gj_config *cfg)
{
    config_impl *c = impl_of(cfg);
    size_t i = cfg->n_targets - 1;
    gj__target_settings_free(&cfg->targets[i]);
    texts_free(&c->texts[i]);
    cfg->n_targets = i;
}

/* ---- the object -------------------------------------------------------------------- */

int gj_config_new(gj_config **out)
{
    if (out == NULL)
        return GJ_EINVAL;
    config_impl *c = calloc(1, sizeof *c);
    if (c == NULL)
        return GJ_ENOMEM;
    c->pub.workers = 4;
    c->pub.queue_size = 65536;
    c->pub.caller_runs = true;
    c->pub.log.level = GJ_LOG_WARN;
    *out = &c->pub;
    return 0;
}

void gj_config_free(gj_config *cfg)
{
    if (cfg == NULL)
        return;
    config_impl *c = impl_of(cfg);
    for (size_t i = 0; i < cfg->n_targets; i++) {
        gj__target_settings_free(&cfg->targets[i]);
        texts_free(&c->texts[i]);
    }
    free(cfg->targets);
    free(c->texts);
    free(c);
}

int gj_config_copy(gj_config **out, const gj_config *cfg)
{
    gj_config *copy;
    if (out == NULL || cfg == NULL)
        return GJ_EINVAL;
    int rc = gj_config_new(&copy);
    if (rc != 0)
        return rc;
    copy->workers = cfg->workers;
    copy->queue_size = cfg->queue_size;
    copy->caller_runs = cfg->caller_runs;
    copy->log = cfg->log;
    if (cfg->n_targets > 0) {
        config_impl *c = impl_of(copy);
        copy->targets = calloc(cfg->n_targets, sizeof *copy->targets);
        c->texts = calloc(cfg->n_targets, sizeof *c->texts);
        if (copy->targets == NULL || c->texts == NULL)
            goto nomem;
        for (size_t i = 0; i < cfg->n_targets; i++) {
            if (gj__target_settings_copy(&copy->targets[i], &cfg->targets[i]) != 0)
                goto nomem;
            copy->n_targets = i + 1;
            if (refresh_target(c, i) != 0)
                goto nomem;
        }
    }
    *out = copy;
    return 0;
nomem:
    gj_config_free(copy);
    return GJ_ENOMEM;
}

size_t gj_config_target_count(const gj_config *cfg)
{
    return cfg != NULL ? cfg->n_targets : 0;
}

const char *gj_config_target_name(const gj_config *cfg, size_t i)
{
    if (cfg == NULL || i >= cfg->n_targets)
        return NULL;
    return cfg->targets[i].name;
}

void gj_config_set_log(gj_config *cfg, gj_log_fn fn, gj_log_level level, void *payload)
{
    if (cfg == NULL)
        return;
    cfg->log.fn = fn;
    cfg->log.level = level;
    cfg->log.payload = payload;
}

/* ---- typed setters and getters ------------------------------------------------------ */

typedef struct located {
    const gj__setting *s;
    gj_target_settings *ts;   /* NULL for client settings */
    ssize_t index;            /* of ts */
    bool created;
} located;

static int locate(const gj_config *cfg, const char *target, const char *key, bool create,
                  located *loc, gj_error *err)
{
    loc->ts = NULL;
    loc->index = -1;
    loc->created = false;
    if (cfg == NULL || key == NULL)
        return gj__error_set(err, GJ_EINVAL, "%s is NULL", cfg == NULL ? "cfg" : "key");
    loc->s = gj__setting_find(key);
    if (loc->s == NULL)
        return gj__error_set(err, GJ_ECONFIG, "unknown setting '%s'", key);
    if (loc->s->level == GJ__LEVEL_CLIENT) {
        if (target != NULL)
            return gj__error_set(err, GJ_ECONFIG,
                                 "'%s' is a client setting, not a target's: pass target NULL",
                                 key);
        return 0;
    }
    const char *name = target != NULL ? target : "default";
    loc->index = find_target(cfg, name);
    if (loc->index < 0 && target == NULL && !create && cfg->n_targets == 1)
        loc->index = 0;
    if (loc->index < 0) {
        if (!create)
            return gj__error_set(err, GJ_ECONFIG, "no target '%s'", name);
        int rc = gj__config_reset_target((gj_config *)cfg, name, &loc->ts, err);
        if (rc != 0)
            return rc;
        loc->index = (ssize_t)cfg->n_targets - 1;
        loc->created = true;
    }
    loc->ts = &cfg->targets[loc->index];
    return 0;
}

static int prefix_key(gj_error *err, const char *target, const char *key)
{
    if (target != NULL)
        return gj__error_prefix(err, "target '%s', key '%s'", target, key);
    return gj__error_prefix(err, "key '%s'", key);
}

/* After an apply: on failure undo a target creation and name the key.  On
 * success only an unset "hosts" or "url" changes what the getters hand out
 * (set_hosts and set_url install the texts of new values themselves), so
 * nothing is allocated here: a setter that failed changed nothing, one that
 * succeeded is complete. */
static int finish_set(gj_config *cfg, const located *loc, const char *target, const char *key,
                      int rc, gj_error *err)
{
    if (rc != 0) {
        if (loc->created)
            pop_target(cfg);
        prefix_key(err, target, key);
        return rc;
    }
    if (loc->ts != NULL) {
        getter_text *t = &impl_of(cfg)->texts[loc->index];
        if (loc->ts->n_hosts == 0) {
            free(t->hosts);
            t->hosts = NULL;
        }
        if (loc->ts->url == NULL) {
            free(t->url);
            t->url = NULL;
        }
    }
    return 0;
}

/* "hosts" from text: the new hosts and their getter text are made before
 * anything changes. */
static int set_hosts(gj_config *cfg, const located *loc, const char *text, gj_error *err)
{
    gj_host *hosts;
    size_t n;
    int rc = gj__config_parse_hosts(text, &hosts, &n, err);
    if (rc != 0)
        return rc;
    char *shown = NULL;
    if (n > 0 && (shown = gj__config_hosts_text(hosts, n)) == NULL) {
        gj__config_hosts_free(hosts, n);
        return out_of_memory(err);
    }
    rc = gj__setting_apply_hosts(loc->ts, hosts, n, err);   /* takes hosts over */
    if (rc != 0) {
        free(shown);
        return rc;
    }
    getter_text *t = &impl_of(cfg)->texts[loc->index];
    free(t->hosts);
    t->hosts = shown;
    return 0;
}

/* "url": applied to a copy of the target, which replaces it (with its
 * getter texts) only when all of it worked.  Client-level keys in the
 * query are applied to cfg; gj__config_apply_url puts them back on failure. */
static int set_url(gj_config *cfg, const located *loc, const char *url, gj_error *err)
{
    gj_target_settings work;
    if (gj__target_settings_copy(&work, loc->ts) != 0)
        return out_of_memory(err);
    struct gj_config saved = *cfg;
    int rc = gj__config_apply_url(cfg, &work, url, NULL, err);
    getter_text t;
    if (rc == 0 && make_texts(&work, &t) != 0) {
        gj__config_restore_client(cfg, &saved);
        rc = out_of_memory(err);
    }
    if (rc != 0) {
        gj__target_settings_free(&work);
        return rc;
    }
    gj__target_settings_free(loc->ts);
    *loc->ts = work;
    getter_text *old = &impl_of(cfg)->texts[loc->index];
    texts_free(old);
    *old = t;
    return 0;
}

#define SETTER_BODY(apply_call)                                   \
    located loc;                                                  \
    int rc = locate(cfg, target, key, true, &loc, err);           \
    if (rc != 0)                                                  \
        return rc;                                                \
    rc = apply_call;                                              \
    return finish_set(cfg, &loc, target, key, rc, err)

int gj_config_set_int(gj_config *cfg, const char *target, const char *key, int64_t value,
                      gj_error *err)
{
    gj_error_clear(err);
    SETTER_BODY(gj__setting_apply_int(cfg, loc.ts, loc.s, value, err));
}

int gj_config_set_bool(gj_config *cfg, const char *target, const char *key, bool value,
                       gj_error *err)
{
    gj_error_clear(err);
    SETTER_BODY(gj__setting_apply_bool(cfg, loc.ts, loc.s, value, err));
}

int gj_config_set_duration(gj_config *cfg, const char *target, const char *key, int64_t millis,
                           gj_error *err)
{
    gj_error_clear(err);
    SETTER_BODY(gj__setting_apply_duration(cfg, loc.ts, loc.s, millis, err));
}

int gj_config_set_string(gj_config *cfg, const char *target, const char *key,
                         const char *value, gj_error *err)
{
    gj_error_clear(err);
    located loc;
    int rc = locate(cfg, target, key, true, &loc, err);
    if (rc != 0)
        return rc;
    if (loc.ts != NULL && value != NULL && loc.s->type == GJ__SETTING_HOSTS)
        rc = set_hosts(cfg, &loc, value, err);
    else if (loc.ts != NULL && value != NULL && strcmp(loc.s->name, "url") == 0)
        rc = set_url(cfg, &loc, value, err);
    else
        rc = gj__setting_apply_text(cfg, loc.ts, loc.s, value, err);
    return finish_set(cfg, &loc, target, key, rc, err);
}

int gj_config_set_value(gj_config *cfg, const char *target, const char *key,
                        const gj_value *value, gj_error *err)
{
    gj_error_clear(err);
    SETTER_BODY(gj__setting_apply_value(cfg, loc.ts, loc.s, value, err));
}

static int getter_mismatch(const located *loc, const char *target, const char *key,
                           const char *wanted, gj_error *err)
{
    gj__error_set(err, GJ_ECONFIG, "holds %s, not %s", gj__setting_type_desc(loc->s->type),
                  wanted);
    prefix_key(err, target, key);
    return GJ_ECONFIG;
}

int gj_config_get_int(const gj_config *cfg, const char *target, const char *key, int64_t *out,
                      gj_error *err)
{
    gj_error_clear(err);
    located loc;
    int rc = locate(cfg, target, key, false, &loc, err);
    if (rc != 0)
        return rc;
    if (loc.s->type != GJ__SETTING_INT && loc.s->type != GJ__SETTING_SIZE)
        return getter_mismatch(&loc, target, key, "an integer", err);
    const void *f = field_of_const(cfg, loc.ts, loc.s);
    switch (loc.s->store) {
    case GJ__STORE_INT: *out = *(const int *)f; break;
    case GJ__STORE_UNSIGNED: *out = *(const unsigned *)f; break;
    default: *out = (int64_t) * (const size_t *)f; break;
    }
    return 0;
}

int gj_config_get_bool(const gj_config *cfg, const char *target, const char *key, bool *out,
                       gj_error *err)
{
    gj_error_clear(err);
    located loc;
    int rc = locate(cfg, target, key, false, &loc, err);
    if (rc != 0)
        return rc;
    if (loc.s->type != GJ__SETTING_BOOL)
        return getter_mismatch(&loc, target, key, "a boolean", err);
    *out = *(const bool *)field_of_const(cfg, loc.ts, loc.s);
    return 0;
}

int gj_config_get_duration(const gj_config *cfg, const char *target, const char *key,
                           int64_t *millis, gj_error *err)
{
    gj_error_clear(err);
    located loc;
    int rc = locate(cfg, target, key, false, &loc, err);
    if (rc != 0)
        return rc;
    if (loc.s->type != GJ__SETTING_DURATION)
        return getter_mismatch(&loc, target, key, "a duration", err);
    *millis = *(const int64_t *)field_of_const(cfg, loc.ts, loc.s);
    return 0;
}

int gj_config_get_string(const gj_config *cfg, const char *target, const char *key,
                         const char **out, gj_error *err)
{
    gj_error_clear(err);
    located loc;
    int rc = locate(cfg, target, key, false, &loc, err);
    if (rc != 0)
        return rc;
    if (loc.s->type == GJ__SETTING_HOSTS) {
        *out = impl_of_const(cfg)->texts[loc.index].hosts;
        return 0;
    }
    if (loc.s->type != GJ__SETTING_STRING)
        return getter_mismatch(&loc, target, key, "a string", err);
    const char *value = *(char *const *)field_of_const(cfg, loc.ts, loc.s);
    /* Secrets never leave through a getter: the URL as logs show it, the
     * password and ssl_password as "***" (NULL when unset). */
    if (value != NULL && (loc.s->flags & GJ__SETTING_SECRET)) {
        if (loc.ts != NULL && value == loc.ts->url)
            value = impl_of_const(cfg)->texts[loc.index].url;
        else
            value = redacted_secret;
    }
    *out = value;
    return 0;
}
