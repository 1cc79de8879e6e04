/*
 * The configuration object: the settings table, target settings, and the
 * typed setters and getters of include/graphjob/config.h.
 */
#include "core/config_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

/* A gj_config as allocated here: the struct everyone reads, then what the
 * getters hand out that settings.h has no room for.  hosts_text[i] is the
 * "hosts" getter's text of targets[i] (NULL when it has no hosts); it is
 * computed when a target changes so that getters only read. */
typedef struct config_impl {
    struct gj_config pub;
    char **hosts_text;
} config_impl;

static config_impl *impl_of(gj_config *cfg)
{
    return (config_impl *)(void *)cfg;
}

static const config_impl *impl_of_const(const gj_config *cfg)
{
    return (const config_impl *)(const void *)cfg;
}

/* ---- the settings table ----------------------------------------------------- */

typedef enum store_kind {
    STORE_INT,       /* int */
    STORE_UNSIGNED,  /* unsigned */
    STORE_SIZE,      /* size_t */
    STORE_I64,       /* int64_t (durations) */
    STORE_BOOL,
    STORE_STRING,    /* char * */
    STORE_HOSTS,     /* hosts + n_hosts */
    STORE_VALUE      /* gj_value * */
} store_kind;

#define FLAG_SECRET 0x1       /* never show the value in a message */
#define FLAG_ALLOW_OFF 0x2    /* duration: "off" = GJ_LIVENESS_NEVER */
#define FLAG_STRING_MAP 0x4   /* map of string -> string */

typedef int (*string_hook)(gj_config *cfg, gj_target_settings *ts, const char *text,
                           gj_error *err);

struct gj__setting {
    const char *name;
    gj__setting_type type;
    gj__setting_level level;
    store_kind store;
    size_t offset;
    int64_t min, max;     /* integers and sizes */
    unsigned flags;
    string_hook hook;     /* strings: replaces the plain copy; text NULL = unset */
};

static int hook_url(gj_config *cfg, gj_target_settings *ts, const char *text, gj_error *err);
static int hook_backend(gj_config *cfg, gj_target_settings *ts, const char *text, gj_error *err);
static int hook_scheme(gj_config *cfg, gj_target_settings *ts, const char *text, gj_error *err);
static int hook_path(gj_config *cfg, gj_target_settings *ts, const char *text, gj_error *err);
static int hook_password(gj_config *cfg, gj_target_settings *ts, const char *text,
                         gj_error *err);
static int hook_password_env(gj_config *cfg, gj_target_settings *ts, const char *text,
                             gj_error *err);

#define CLIENT(n, t, st, field, lo, hi) \
    {n, t, GJ__LEVEL_CLIENT, st, offsetof(struct gj_config, field), lo, hi, 0, NULL}
#define TARGET(n, t, st, field, lo, hi, fl, hk) \
    {n, t, GJ__LEVEL_TARGET, st, offsetof(gj_target_settings, field), lo, hi, fl, hk}
#define T_STRING(n, field, fl, hk) TARGET(n, GJ__SETTING_STRING, STORE_STRING, field, 0, 0, fl, hk)
#define T_INT(n, st, field, lo, hi) TARGET(n, GJ__SETTING_INT, st, field, lo, hi, 0, NULL)
#define T_DURATION(n, field, fl) \
    TARGET(n, GJ__SETTING_DURATION, STORE_I64, field, 0, GJ__CONFIG_MAX_DURATION_MS, fl, NULL)

static const gj__setting settings[] = {
    CLIENT("workers", GJ__SETTING_INT, STORE_UNSIGNED, workers, 1, 1024),
    CLIENT("queue_size", GJ__SETTING_INT, STORE_SIZE, queue_size, 1, INT64_C(1) << 30),
    T_STRING("backend", backend, 0, hook_backend),
    T_STRING("url", url, FLAG_SECRET, hook_url),
    TARGET("hosts", GJ__SETTING_HOSTS, STORE_HOSTS, hosts, 0, 0, 0, NULL),
    T_INT("port", STORE_INT, port, 0, 65535),
    T_STRING("scheme", scheme, 0, hook_scheme),
    T_STRING("path", path, 0, hook_path),
    T_STRING("username", username, 0, NULL),
    T_STRING("password", password, FLAG_SECRET, hook_password),
    T_STRING("password_env", password_env, 0, hook_password_env),
    T_STRING("database", database, 0, NULL),
    T_STRING("ssl_certfile", ssl_certfile, 0, NULL),
    T_STRING("ssl_keyfile", ssl_keyfile, 0, NULL),
    T_STRING("ssl_password", ssl_password, FLAG_SECRET, NULL),
    T_STRING("ssl_cafile", ssl_cafile, 0, NULL),
    TARGET("ssl_verify", GJ__SETTING_BOOL, STORE_BOOL, ssl_verify, 0, 0, 0, NULL),
    T_DURATION("response_timeout", response_timeout_ms, 0),
    T_DURATION("connect_timeout", connect_timeout_ms, 0),
    T_DURATION("acquire_timeout", acquire_timeout_ms, 0),
    T_INT("min_conns", STORE_UNSIGNED, min_conns, 0, 10000),
    T_INT("max_conns", STORE_UNSIGNED, max_conns, 1, 10000),
    T_INT("max_times_acquired", STORE_UNSIGNED, max_times_acquired, 1, 65535),
    T_INT("max_inflight", STORE_UNSIGNED, max_inflight, 1, 65535),
    T_DURATION("max_lifetime", max_lifetime_ms, 0),
    T_DURATION("idle_timeout", idle_timeout_ms, 0),
    T_DURATION("liveness_check", liveness_check_ms, FLAG_ALLOW_OFF),
    T_DURATION("host_backoff", host_backoff_ms, 0),
    T_STRING("message_serializer", message_serializer, 0, NULL),
    TARGET("max_message_size", GJ__SETTING_SIZE, STORE_SIZE, max_message_size, 1,
           INT64_C(1) << 32, 0, NULL),
    TARGET("aliases", GJ__SETTING_MAP, STORE_VALUE, aliases, 0, 0, FLAG_STRING_MAP, NULL),
    TARGET("options", GJ__SETTING_MAP, STORE_VALUE, options, 0, 0, 0, NULL),
};

const gj__setting *gj__setting_find(const char *name)
{
    if (name == NULL)
        return NULL;
    for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++) {
        if (strcmp(settings[i].name, name) == 0)
            return &settings[i];
    }
    return NULL;
}

const char *gj__setting_name(const gj__setting *s)
{
    return s->name;
}

gj__setting_type gj__setting_get_type(const gj__setting *s)
{
    return s->type;
}

gj__setting_level gj__setting_get_level(const gj__setting *s)
{
    return s->level;
}

const char *gj__setting_type_desc(gj__setting_type type)
{
    switch (type) {
    case GJ__SETTING_INT: return "an integer";
    case GJ__SETTING_BOOL: return "a boolean";
    case GJ__SETTING_DURATION: return "a duration";
    case GJ__SETTING_STRING: return "a string";
    case GJ__SETTING_HOSTS: return "a list of hosts";
    case GJ__SETTING_MAP: return "a mapping";
    case GJ__SETTING_SIZE: return "a size in bytes";
    }
    return "a value";
}

static void *field_of(gj_config *cfg, gj_target_settings *ts, const gj__setting *s)
{
    char *base = s->level == GJ__LEVEL_CLIENT ? (char *)cfg : (char *)ts;
    return base + s->offset;
}

static const void *field_of_const(const gj_config *cfg, const gj_target_settings *ts,
                                  const gj__setting *s)
{
    const char *base = s->level == GJ__LEVEL_CLIENT ? (const char *)cfg : (const char *)ts;
    return base + s->offset;
}

static int mismatch(const gj__setting *s, const char *got, gj_error *err)
{
    return gj__error_set(err, GJ_ECONFIG, "expected %s, got %s", gj__setting_type_desc(s->type),
                         got);
}

static int out_of_memory(gj_error *err)
{
    return gj__error_set(err, GJ_ENOMEM, "out of memory");
}

/* ---- applying values -------------------------------------------------------- */

int gj__setting_range_error(const gj__setting *s, const char *text, gj_error *err)
{
    if (s->type == GJ__SETTING_SIZE)
        return gj__error_set(err, GJ_ECONFIG,
                             "expected a size from %lld to %lld bytes, got %s",
                             (long long)s->min, (long long)s->max, text);
    return gj__error_set(err, GJ_ECONFIG, "expected an integer from %lld to %lld, got %s",
                         (long long)s->min, (long long)s->max, text);
}

int gj__setting_apply_int(gj_config *cfg, gj_target_settings *ts, const gj__setting *s,
                          int64_t value, gj_error *err)
{
    if (s->type != GJ__SETTING_INT && s->type != GJ__SETTING_SIZE)
        return mismatch(s, "an integer", err);
    if (value < s->min || value > s->max) {
        char text[32];
        snprintf(text, sizeof text, "%lld", (long long)value);
        return gj__setting_range_error(s, text, err);
    }
    void *f = field_of(cfg, ts, s);
    switch (s->store) {
    case STORE_INT: *(int *)f = (int)value; break;
    case STORE_UNSIGNED: *(unsigned *)f = (unsigned)value; break;
    case STORE_SIZE: *(size_t *)f = (size_t)value; break;
    default: return mismatch(s, "an integer", err);
    }
    return 0;
}

int gj__setting_apply_bool(gj_config *cfg, gj_target_settings *ts, const gj__setting *s,
                           bool value, gj_error *err)
{
    if (s->type != GJ__SETTING_BOOL)
        return mismatch(s, value ? "true" : "false", err);
    *(bool *)field_of(cfg, ts, s) = value;
    return 0;
}

int gj__setting_apply_duration(gj_config *cfg, gj_target_settings *ts, const gj__setting *s,
                               int64_t millis, gj_error *err)
{
    if (s->type != GJ__SETTING_DURATION)
        return mismatch(s, "a duration", err);
    if (millis < 0 && !((s->flags & FLAG_ALLOW_OFF) && millis == GJ_LIVENESS_NEVER))
        return gj__error_set(err, GJ_ECONFIG, "expected a duration of 0 or more, got %lld ms",
                             (long long)millis);
    if (millis > GJ__CONFIG_MAX_DURATION_MS)
        return gj__error_set(err, GJ_ECONFIG,
                             "expected a duration of at most 10 years, got %lld ms",
                             (long long)millis);
    *(int64_t *)field_of(cfg, ts, s) = millis;
    return 0;
}

static int check_string_map(const gj_value *map, gj_error *err)
{
    size_t n = gj_value_size(map);
    for (size_t i = 0; i < n; i++) {
        const gj_value *k = gj_value_map_key_at(map, i);
        const gj_value *v = gj_value_map_value_at(map, i);
        const char *ks;
        size_t klen;
        if (gj_value_string_get(k, &ks, &klen) != 0)
            return gj__error_set(err, GJ_ECONFIG,
                                 "expected a mapping of strings to strings, got a key of type %s",
                                 gj_type_name(gj_value_type(k)));
        if (gj_value_type(v) != GJ_TSTRING)
            return gj__error_set(err, GJ_ECONFIG,
                                 "expected a mapping of strings to strings, got %s for '%s'",
                                 gj_type_name(gj_value_type(v)), ks);
    }
    return 0;
}

int gj__setting_apply_value(gj_config *cfg, gj_target_settings *ts, const gj__setting *s,
                            const gj_value *value, gj_error *err)
{
    if (s->type != GJ__SETTING_MAP) {
        if (value == NULL)
            return gj__setting_apply_null(cfg, ts, s, err);
        return gj__error_set(err, GJ_ECONFIG, "expected %s, got a value of type %s",
                             gj__setting_type_desc(s->type), gj_type_name(gj_value_type(value)));
    }
    if (value != NULL) {
        if (gj_value_type(value) != GJ_TMAP)
            return gj__error_set(err, GJ_ECONFIG, "expected a mapping, got a value of type %s",
                                 gj_type_name(gj_value_type(value)));
        if ((s->flags & FLAG_STRING_MAP) && check_string_map(value, err) != 0)
            return GJ_ECONFIG;
    }
    gj_value **f = field_of(cfg, ts, s);
    gj_value *old = *f;
    *f = gj_value_ref(value);
    gj_value_unref(old);
    return 0;
}

int gj__setting_apply_hosts(gj_target_settings *ts, gj_host *hosts, size_t n_hosts,
                            gj_error *err)
{
    if (n_hosts > GJ__CONFIG_MAX_HOSTS) {
        gj__config_hosts_free(hosts, n_hosts);
        return gj__error_set(err, GJ_ECONFIG, "too many hosts (at most %d)",
                             GJ__CONFIG_MAX_HOSTS);
    }
    gj__config_hosts_free(ts->hosts, ts->n_hosts);
    ts->hosts = hosts;
    ts->n_hosts = n_hosts;
    return 0;
}

static int set_string_field(char **f, const char *text, bool secret, gj_error *err)
{
    char *copy = NULL;
    if (text != NULL && (copy = strdup(text)) == NULL)
        return out_of_memory(err);
    if (*f != NULL && secret)
        explicit_bzero(*f, strlen(*f));
    free(*f);
    *f = copy;
    return 0;
}

int gj__setting_apply_null(gj_config *cfg, gj_target_settings *ts, const gj__setting *s,
                           gj_error *err)
{
    switch (s->type) {
    case GJ__SETTING_STRING:
        if (s->hook != NULL)
            return s->hook(cfg, ts, NULL, err);
        return set_string_field(field_of(cfg, ts, s), NULL, s->flags & FLAG_SECRET, err);
    case GJ__SETTING_HOSTS:
        return gj__setting_apply_hosts(ts, NULL, 0, err);
    case GJ__SETTING_MAP:
        return gj__setting_apply_value(cfg, ts, s, NULL, err);
    default:
        return mismatch(s, "null", err);
    }
}

int gj__setting_apply_text(gj_config *cfg, gj_target_settings *ts, const gj__setting *s,
                           const char *text, gj_error *err)
{
    char q[128];
    int64_t i64;
    uint64_t u64;
    bool b, overflow;

    if (text == NULL)
        return gj__setting_apply_null(cfg, ts, s, err);
    switch (s->type) {
    case GJ__SETTING_INT:
        if (gj__config_parse_int_overflow(text, &i64, &overflow) != 0) {
            if (!overflow)
                return gj__config_parse_int(text, &i64, err);
            gj__config_quote(text, strlen(text), q, sizeof q);
            return gj__setting_range_error(s, q, err);
        }
        return gj__setting_apply_int(cfg, ts, s, i64, err);
    case GJ__SETTING_SIZE:
        if (gj__config_parse_size(text, &u64, err) != 0)
            return GJ_ECONFIG;
        if (u64 < (uint64_t)s->min || u64 > (uint64_t)s->max) {
            gj__config_quote(text, strlen(text), q, sizeof q);
            return gj__setting_range_error(s, q, err);
        }
        return gj__setting_apply_int(cfg, ts, s, (int64_t)u64, err);
    case GJ__SETTING_BOOL:
        if (gj__config_parse_bool(text, &b, err) != 0)
            return GJ_ECONFIG;
        return gj__setting_apply_bool(cfg, ts, s, b, err);
    case GJ__SETTING_DURATION:
        if (gj__config_parse_duration(text, s->flags & FLAG_ALLOW_OFF, &i64, err) != 0)
            return GJ_ECONFIG;
        return gj__setting_apply_duration(cfg, ts, s, i64, err);
    case GJ__SETTING_STRING:
        if (s->hook != NULL)
            return s->hook(cfg, ts, text, err);
        return set_string_field(field_of(cfg, ts, s), text, s->flags & FLAG_SECRET, err);
    case GJ__SETTING_HOSTS: {
        gj_host *hosts;
        size_t n;
        int rc = gj__config_parse_hosts(text, &hosts, &n, err);
        if (rc != 0)
            return rc;
        return gj__setting_apply_hosts(ts, hosts, n, err);
    }
    case GJ__SETTING_MAP:
        return mismatch(s, "a string", err);
    }
    return mismatch(s, "a string", err);
}

/* ---- string settings with more to them ---------------------------------------- */

static int hook_url(gj_config *cfg, gj_target_settings *ts, const char *text, gj_error *err)
{
    if (text == NULL)
        return set_string_field(&ts->url, NULL, true, err);
    return gj__config_apply_url(cfg, ts, text, NULL, err);
}

static int hook_backend(gj_config *cfg, gj_target_settings *ts, const char *text, gj_error *err)
{
    GJ__UNUSED(cfg);
    if (text != NULL) {
        size_t len = strlen(text);
        bool ok = len > 0 && len <= 32;
        for (size_t i = 0; ok && i < len; i++) {
            char c = text[i];
            ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
        }
        if (!ok) {
            char q[128];
            gj__config_quote(text, len, q, sizeof q);
            return gj__error_set(err, GJ_ECONFIG,
                                 "expected a backend name (bolt, gremlin, arango, graphql), "
                                 "got %s",
                                 q);
        }
    }
    return set_string_field(&ts->backend, text, false, err);
}

/* The backend a scheme implies, or NULL. */
static const char *backend_of_scheme(const char *scheme)
{
    const char *backend = NULL;
    bool tls, insecure;
    if (scheme == NULL || gj__config_scheme(scheme, &backend, &tls, &insecure, NULL) != 0)
        return NULL;
    return backend;
}

static int hook_scheme(gj_config *cfg, gj_target_settings *ts, const char *text, gj_error *err)
{
    const char *backend = NULL;
    bool tls = false, insecure = false;
    char *lower = NULL;
    GJ__UNUSED(cfg);
    if (text != NULL) {
        if (gj__config_scheme(text, &backend, &tls, &insecure, err) != 0)
            return GJ_ECONFIG;
        if ((lower = strdup(text)) == NULL)
            return out_of_memory(err);
        for (char *p = lower; *p != '\0'; p++) {
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p - 'A' + 'a');
        }
    }
    /* The backend follows the scheme unless it was set on its own. */
    const char *derived = backend_of_scheme(ts->scheme);
    if (backend != NULL &&
        (ts->backend == NULL || (derived != NULL && strcmp(ts->backend, derived) == 0))) {
        if (set_string_field(&ts->backend, backend, false, err) != 0) {
            free(lower);
            return GJ_ENOMEM;
        }
    }
    free(ts->scheme);
    ts->scheme = lower;
    ts->tls = tls;
    if (insecure)
        ts->ssl_verify = false;
    return 0;
}

static int hook_path(gj_config *cfg, gj_target_settings *ts, const char *text, gj_error *err)
{
    GJ__UNUSED(cfg);
    if (text != NULL) {
        bool ok = text[0] == '/';
        for (const char *p = text; ok && *p != '\0'; p++)
            ok = (unsigned char)*p > 0x20 && *p != 0x7f;
        if (!ok) {
            char q[128];
            gj__config_quote(text, strlen(text), q, sizeof q);
            return gj__error_set(err, GJ_ECONFIG,
                                 "expected a path starting with '/' without spaces, got %s", q);
        }
    }
    return set_string_field(&ts->path, text, false, err);
}

static int hook_password(gj_config *cfg, gj_target_settings *ts, const char *text,
                         gj_error *err)
{
    GJ__UNUSED(cfg);
    if (set_string_field(&ts->password, text, true, err) != 0)
        return GJ_ENOMEM;
    free(ts->password_env);
    ts->password_env = NULL;
    return 0;
}

static int hook_password_env(gj_config *cfg, gj_target_settings *ts, const char *text,
                             gj_error *err)
{
    GJ__UNUSED(cfg);
    if (text == NULL)
        return set_string_field(&ts->password_env, NULL, false, err);
    size_t len = strlen(text);
    bool ok = len > 0 && len <= 128 && !(text[0] >= '0' && text[0] <= '9');
    for (size_t i = 0; ok && i < len; i++) {
        char c = text[i];
        ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
             c == '_';
    }
    if (!ok) {
        char q[192];
        gj__config_quote(text, len, q, sizeof q);
        return gj__error_set(err, GJ_ECONFIG, "expected the name of an environment variable, got %s",
                             q);
    }
    const char *value = getenv(text);
    if (value == NULL)
        return gj__error_set(err, GJ_ECONFIG,
                             "environment variable %s (password_env) is not set", text);
    char *name = strdup(text);
    if (name == NULL || set_string_field(&ts->password, value, true, err) != 0) {
        free(name);
        return out_of_memory(err);
    }
    free(ts->password_env);
    ts->password_env = name;
    return 0;
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
}

void gj__target_settings_free(gj_target_settings *ts)
{
    if (ts == NULL)
        return;
    if (ts->password != NULL)
        explicit_bzero(ts->password, strlen(ts->password));
    if (ts->ssl_password != NULL)
        explicit_bzero(ts->ssl_password, strlen(ts->ssl_password));
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

static int refresh_target(config_impl *c, size_t i)
{
    const gj_target_settings *ts = &c->pub.targets[i];
    char *text = NULL;
    if (ts->n_hosts > 0 && (text = gj__config_hosts_text(ts->hosts, ts->n_hosts)) == NULL)
        return GJ_ENOMEM;
    free(c->hosts_text[i]);
    c->hosts_text[i] = text;
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
        free(c->hosts_text[found]);
        c->hosts_text[found] = NULL;
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
    char **texts = realloc(c->hosts_text, n * sizeof *texts);
    if (texts == NULL) {
        free(name_copy);
        return out_of_memory(err);
    }
    c->hosts_text = texts;
    texts[n - 1] = NULL;
    gj_target_settings *ts = &targets[n - 1];
    memset(ts, 0, sizeof *ts);
    gj__target_settings_init(ts);
    ts->name = name_copy;
    cfg->n_targets = n;
    *out = ts;
    return 0;
}

/* Remove the last target (one a failed setter had just created). */
static void pop_target(gj_config *cfg)
{
    config_impl *c = impl_of(cfg);
    size_t i = cfg->n_targets - 1;
    gj__target_settings_free(&cfg->targets[i]);
    free(c->hosts_text[i]);
    c->hosts_text[i] = NULL;
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
        free(c->hosts_text[i]);
    }
    free(cfg->targets);
    free(c->hosts_text);
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
    copy->log = cfg->log;
    if (cfg->n_targets > 0) {
        config_impl *c = impl_of(copy);
        copy->targets = calloc(cfg->n_targets, sizeof *copy->targets);
        c->hosts_text = calloc(cfg->n_targets, sizeof *c->hosts_text);
        if (copy->targets == NULL || c->hosts_text == NULL)
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

/* After an apply: on failure undo a target creation and name the key; on
 * success refresh what the getters hand out. */
static int finish_set(gj_config *cfg, const located *loc, const char *target, const char *key,
                      int rc, gj_error *err)
{
    if (rc != 0) {
        if (loc->created)
            pop_target(cfg);
        prefix_key(err, target, key);
        return rc;
    }
    if (loc->ts != NULL && refresh_target(impl_of(cfg), (size_t)loc->index) != 0)
        return out_of_memory(err);
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
    SETTER_BODY(gj__setting_apply_int(cfg, loc.ts, loc.s, value, err));
}

int gj_config_set_bool(gj_config *cfg, const char *target, const char *key, bool value,
                       gj_error *err)
{
    SETTER_BODY(gj__setting_apply_bool(cfg, loc.ts, loc.s, value, err));
}

int gj_config_set_duration(gj_config *cfg, const char *target, const char *key, int64_t millis,
                           gj_error *err)
{
    SETTER_BODY(gj__setting_apply_duration(cfg, loc.ts, loc.s, millis, err));
}

int gj_config_set_string(gj_config *cfg, const char *target, const char *key,
                         const char *value, gj_error *err)
{
    SETTER_BODY(gj__setting_apply_text(cfg, loc.ts, loc.s, value, err));
}

int gj_config_set_value(gj_config *cfg, const char *target, const char *key,
                        const gj_value *value, gj_error *err)
{
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
    located loc;
    int rc = locate(cfg, target, key, false, &loc, err);
    if (rc != 0)
        return rc;
    if (loc.s->type != GJ__SETTING_INT && loc.s->type != GJ__SETTING_SIZE)
        return getter_mismatch(&loc, target, key, "an integer", err);
    const void *f = field_of_const(cfg, loc.ts, loc.s);
    switch (loc.s->store) {
    case STORE_INT: *out = *(const int *)f; break;
    case STORE_UNSIGNED: *out = *(const unsigned *)f; break;
    default: *out = (int64_t) * (const size_t *)f; break;
    }
    return 0;
}

int gj_config_get_bool(const gj_config *cfg, const char *target, const char *key, bool *out,
                       gj_error *err)
{
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
    located loc;
    int rc = locate(cfg, target, key, false, &loc, err);
    if (rc != 0)
        return rc;
    if (loc.s->type == GJ__SETTING_HOSTS) {
        *out = impl_of_const(cfg)->hosts_text[loc.index];
        return 0;
    }
    if (loc.s->type != GJ__SETTING_STRING)
        return getter_mismatch(&loc, target, key, "a string", err);
    *out = *(char *const *)field_of_const(cfg, loc.ts, loc.s);
    return 0;
}
