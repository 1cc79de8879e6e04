/*
 * The settings table and how a value is applied to a setting: type and
 * range checks, text forms, and the string settings that do more than store
 * (url, backend, scheme, path, password, password_env).  The URL parser, the
 * file walker and the public setters all go through here.
 */
#include "config/config_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the settings table ----------------------------------------------------- */

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
#define T_STRING(n, field, fl, hk) TARGET(n, GJ__SETTING_STRING, GJ__STORE_STRING, field, 0, 0, fl, hk)
#define T_INT(n, st, field, lo, hi) TARGET(n, GJ__SETTING_INT, st, field, lo, hi, 0, NULL)
#define T_DURATION(n, field, fl) \
    TARGET(n, GJ__SETTING_DURATION, GJ__STORE_I64, field, 0, GJ__CONFIG_MAX_DURATION_MS, fl, NULL)

static const gj__setting settings[] = {
    CLIENT("workers", GJ__SETTING_INT, GJ__STORE_UNSIGNED, workers, 1, 1024),
    CLIENT("queue_size", GJ__SETTING_INT, GJ__STORE_SIZE, queue_size, 1, INT64_C(1) << 30),
    CLIENT("caller_runs", GJ__SETTING_BOOL, GJ__STORE_BOOL, caller_runs, 0, 0),
    T_STRING("backend", backend, 0, hook_backend),
    T_STRING("url", url, GJ__SETTING_SECRET, hook_url),
    TARGET("hosts", GJ__SETTING_HOSTS, GJ__STORE_HOSTS, hosts, 0, 0, 0, NULL),
    T_INT("port", GJ__STORE_INT, port, 0, 65535),
    T_STRING("scheme", scheme, 0, hook_scheme),
    T_STRING("path", path, 0, hook_path),
    T_STRING("username", username, 0, NULL),
    T_STRING("password", password, GJ__SETTING_SECRET, hook_password),
    T_STRING("password_env", password_env, 0, hook_password_env),
    T_STRING("database", database, 0, NULL),
    T_STRING("ssl_certfile", ssl_certfile, 0, NULL),
    T_STRING("ssl_keyfile", ssl_keyfile, 0, NULL),
    T_STRING("ssl_password", ssl_password, GJ__SETTING_SECRET, NULL),
    T_STRING("ssl_cafile", ssl_cafile, 0, NULL),
    TARGET("ssl_verify", GJ__SETTING_BOOL, GJ__STORE_BOOL, ssl_verify, 0, 0, 0, NULL),
    T_DURATION("response_timeout", response_timeout_ms, 0),
    T_DURATION("connect_timeout", connect_timeout_ms, 0),
    T_DURATION("acquire_timeout", acquire_timeout_ms, 0),
    T_DURATION("connect_retry", connect_retry_ms, 0),
    T_INT("min_conns", GJ__STORE_UNSIGNED, min_conns, 0, 10000),
    T_INT("max_conns", GJ__STORE_UNSIGNED, max_conns, 1, 10000),
    T_INT("max_times_acquired", GJ__STORE_UNSIGNED, max_times_acquired, 1, 65535),
    T_INT("max_inflight", GJ__STORE_UNSIGNED, max_inflight, 1, 65535),
    T_DURATION("max_lifetime", max_lifetime_ms, 0),
    T_DURATION("idle_timeout", idle_timeout_ms, 0),
    T_DURATION("liveness_check", liveness_check_ms, GJ__SETTING_ALLOW_OFF),
    T_DURATION("host_backoff", host_backoff_ms, 0),
    T_STRING("message_serializer", message_serializer, 0, NULL),
    TARGET("max_message_size", GJ__SETTING_SIZE, GJ__STORE_SIZE, max_message_size, 1,
           INT64_C(1) << 32, 0, NULL),
    TARGET("max_result_size", GJ__SETTING_SIZE, GJ__STORE_SIZE, max_result_size, 0,
           INT64_C(1) << 48, 0, NULL),
    TARGET("aliases", GJ__SETTING_MAP, GJ__STORE_VALUE, aliases, 0, 0, GJ__SETTING_STRING_MAP, NULL),
    TARGET("bookmark_manager", GJ__SETTING_BOOL, GJ__STORE_BOOL, bookmark_manager, 0, 0, 0, NULL),
    TARGET("options", GJ__SETTING_MAP, GJ__STORE_VALUE, options, 0, 0, 0, NULL),
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
    case GJ__STORE_INT: *(int *)f = (int)value; break;
    case GJ__STORE_UNSIGNED: *(unsigned *)f = (unsigned)value; break;
    case GJ__STORE_SIZE: *(size_t *)f = (size_t)value; break;
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
    if (millis < 0 && !((s->flags & GJ__SETTING_ALLOW_OFF) && millis == GJ_LIVENESS_NEVER))
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
        if ((s->flags & GJ__SETTING_STRING_MAP) && check_string_map(value, err) != 0)
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
        return set_string_field(field_of(cfg, ts, s), NULL, s->flags & GJ__SETTING_SECRET, err);
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
        if (gj__config_parse_duration(text, s->flags & GJ__SETTING_ALLOW_OFF, &i64, err) != 0)
            return GJ_ECONFIG;
        return gj__setting_apply_duration(cfg, ts, s, i64, err);
    case GJ__SETTING_STRING:
        if (s->hook != NULL)
            return s->hook(cfg, ts, text, err);
        return set_string_field(field_of(cfg, ts, s), text, s->flags & GJ__SETTING_SECRET, err);
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
