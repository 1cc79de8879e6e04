/*
 * Configuration internals shared by lib/config/config*.c (never installed).
 *
 *   config.c       the gj_config object, targets (settings init/copy/free),
 *                  the typed setters and getters
 *   config_setting.c  the settings table; applying a value to a setting
 *   config_text.c  text forms: ints, bools, durations, sizes, host lists
 *   config_url.c   scheme://user:password@host:port,.../path?key=value
 *   config_doc.c   the document tree (gj__cnode) shared by the YAML and JSON
 *                  readers, and the walker that applies it to a gj_config
 *   config_yaml.c  YAML text -> gj__cnode tree (libyaml event API)
 *   config_json.c  JSON text -> gj__cnode tree (json-c)
 *
 * One settings table drives the URL query parser, the file walker and the
 * public setters/getters: none of them keeps its own list of keys.
 *
 * Every gj_config is allocated by config.c (gj_config_new and friends); the
 * object is larger than struct gj_config (see config.c).  Code elsewhere
 * reads struct gj_config and gj_target_settings directly but never
 * allocates a gj_config itself.
 */
#ifndef GJ_CONFIG_CONFIG_INTERNAL_H
#define GJ_CONFIG_CONFIG_INTERNAL_H

#include "config/settings.h"

/* ---- limits ----------------------------------------------------------------
 * Everything read from a file or a URL is checked against these first. */
#define GJ__CONFIG_MAX_FILE_SIZE ((size_t)1 << 20) /* bytes of a config file */
#define GJ__CONFIG_MAX_DEPTH 32                    /* nesting of maps and lists */
#define GJ__CONFIG_MAX_ENTRIES 4096                /* entries in one map or list */
#define GJ__CONFIG_MAX_NODES 65536                 /* values in one document */
#define GJ__CONFIG_MAX_HOSTS 256                   /* hosts of one target */
#define GJ__CONFIG_MAX_TARGETS 1024
#define GJ__CONFIG_MAX_URL 8192                    /* bytes of a URL */
#define GJ__CONFIG_MAX_NAME 128                    /* bytes of a target name */
#define GJ__CONFIG_MAX_DURATION_MS INT64_C(315360000000) /* 10 years */

/* ---- the settings table (config_setting.c) -------------------------------- */
typedef enum gj__setting_type {
    GJ__SETTING_INT,       /* integer in [min, max] */
    GJ__SETTING_BOOL,
    GJ__SETTING_DURATION,  /* milliseconds */
    GJ__SETTING_STRING,
    GJ__SETTING_HOSTS,     /* list of host[:port] */
    GJ__SETTING_MAP,       /* a gj_value map */
    GJ__SETTING_SIZE       /* bytes, with optional KiB/MiB/GiB/kB/MB/GB unit */
} gj__setting_type;

typedef enum gj__setting_level {
    GJ__LEVEL_CLIENT,      /* stored in struct gj_config */
    GJ__LEVEL_TARGET       /* stored in gj_target_settings */
} gj__setting_level;

/* How a setting is stored (config_setting.c has the table). */
typedef enum gj__store_kind {
    GJ__STORE_INT,       /* int */
    GJ__STORE_UNSIGNED,  /* unsigned */
    GJ__STORE_SIZE,      /* size_t */
    GJ__STORE_I64,       /* int64_t (durations) */
    GJ__STORE_BOOL,
    GJ__STORE_STRING,    /* char * */
    GJ__STORE_HOSTS,     /* hosts + n_hosts */
    GJ__STORE_VALUE      /* gj_value * */
} gj__store_kind;

#define GJ__SETTING_SECRET 0x1       /* never show the value in a message */
#define GJ__SETTING_ALLOW_OFF 0x2    /* duration: "off" = GJ_LIVENESS_NEVER */
#define GJ__SETTING_STRING_MAP 0x4   /* map of string -> string */

/* A string setting that does more than store its text (text NULL = unset). */
typedef int (*gj__setting_hook)(gj_config *cfg, gj_target_settings *ts, const char *text,
                                gj_error *err);

typedef struct gj__setting gj__setting;
struct gj__setting {
    const char *name;
    gj__setting_type type;
    gj__setting_level level;
    gj__store_kind store;
    size_t offset;
    int64_t min, max;     /* integers and sizes */
    unsigned flags;
    gj__setting_hook hook; /* strings: replaces the plain copy */
};

/* The setting called `name`, or NULL. */
const gj__setting *gj__setting_find(const char *name);
const char *gj__setting_name(const gj__setting *s);
gj__setting_type gj__setting_get_type(const gj__setting *s);
gj__setting_level gj__setting_get_level(const gj__setting *s);
/* "an integer", "a duration", ... (static). */
const char *gj__setting_type_desc(gj__setting_type type);

/* Apply a value to a setting.  ts is the target for target-level settings
 * (ignored for client-level ones).  On error the setting is unchanged and
 * err holds a message without the key ("expected an integer from 1 to 10000,
 * got -3"): the caller prefixes it with where the value came from.  Error
 * messages never contain the value of a secret setting. */
int gj__setting_apply_text(gj_config *cfg, gj_target_settings *ts, const gj__setting *s,
                           const char *text, gj_error *err);
int gj__setting_apply_int(gj_config *cfg, gj_target_settings *ts, const gj__setting *s,
                          int64_t value, gj_error *err);
int gj__setting_apply_bool(gj_config *cfg, gj_target_settings *ts, const gj__setting *s,
                           bool value, gj_error *err);
int gj__setting_apply_duration(gj_config *cfg, gj_target_settings *ts, const gj__setting *s,
                               int64_t millis, gj_error *err);
/* Map settings: value is referenced (NULL unsets). */
int gj__setting_apply_value(gj_config *cfg, gj_target_settings *ts, const gj__setting *s,
                            const gj_value *value, gj_error *err);
/* Host settings: hosts[] are taken over (on success and on failure). */
int gj__setting_apply_hosts(gj_target_settings *ts, gj_host *hosts, size_t n_hosts,
                            gj_error *err);
/* Unset (NULL) a string, host or map setting; GJ_ECONFIG for other types. */
int gj__setting_apply_null(gj_config *cfg, gj_target_settings *ts, const gj__setting *s,
                           gj_error *err);
/* The range error of an integer setting, for a number too big to parse:
 * "expected an integer from MIN to MAX, got TEXT".  Returns GJ_ECONFIG. */
int gj__setting_range_error(const gj__setting *s, const char *text, gj_error *err);

/* ---- text forms (config_text.c) --------------------------------------------
 * Each returns 0 or GJ_ECONFIG with "expected ..., got "TEXT"" in err. */
int gj__config_parse_int(const char *text, int64_t *out, gj_error *err);
/* The same without a message: GJ_ECONFIG, with *overflow telling a number
 * outside int64 from text that is not a number. */
int gj__config_parse_int_overflow(const char *text, int64_t *out, bool *overflow);
int gj__config_parse_bool(const char *text, bool *out, gj_error *err);
/* "250ms", "5s", "1.5s", "2m", "1h", "1h30m", "0", a bare number (ms);
 * allow_off: "off" gives GJ_LIVENESS_NEVER. */
int gj__config_parse_duration(const char *text, bool allow_off, int64_t *millis, gj_error *err);
/* "65536", "64KiB", "16MiB", "1GiB", "10kB", "5MB", "1GB". */
int gj__config_parse_size(const char *text, uint64_t *out, gj_error *err);
/* One "host[:port]" or "[v6addr][:port]" of len bytes. */
int gj__config_parse_host(const char *text, size_t len, gj_host *out, gj_error *err);
/* "a:1,b:2" (spaces around items ignored).  *out is a new array. */
int gj__config_parse_hosts(const char *text, gj_host **out, size_t *n_out, gj_error *err);
void gj__config_hosts_free(gj_host *hosts, size_t n);
/* "a:1,[::1]:2,c" into a new string. */
char *gj__config_hosts_text(const gj_host *hosts, size_t n);
/* Write `len` bytes of s into buf as a double-quoted string for a message:
 * non-printable bytes as \xNN, cut with "..." past 60 bytes. */
void gj__config_quote(const char *s, size_t len, char *buf, size_t buflen);

/* ---- schemes (config_url.c) ------------------------------------------------ */
/* Look a URL scheme up (case-insensitive): its backend, whether it asks for
 * TLS, and whether it skips certificate verification (+ssc).  Returns 0 or
 * GJ_ECONFIG "unknown URL scheme 'x' (expected ...)". */
int gj__config_scheme(const char *scheme, const char **backend, bool *tls, bool *insecure,
                      gj_error *err);

/* What a URL carried, for the checks a source makes across keys. */
typedef struct gj__url_info {
    bool has_password;      /* user:password@ or ?password= */
    bool has_password_env;  /* ?password_env= */
} gj__url_info;

/* Apply a URL to a target: url, scheme, tls, ssl_verify (false for +ssc),
 * backend (when the target's backend was derived from its scheme or unset),
 * hosts, path, username, password, and the query keys (client-level ones go
 * to cfg).  info may be NULL.  On error, messages name the part of the URL
 * that is wrong and never contain the password. */
int gj__config_apply_url(gj_config *cfg, gj_target_settings *ts, const char *url,
                         gj__url_info *info, gj_error *err);

/* ---- targets (config.c) ------------------------------------------------------ */
/* Check a target name (non-empty, at most GJ__CONFIG_MAX_NAME bytes, printable). */
int gj__config_check_target_name(const char *name, gj_error *err);
/* Append a new target with default settings, or reset the existing one of
 * that name to defaults (keeping its place).  *out points into cfg->targets
 * (valid until the next target is added). */
int gj__config_reset_target(gj_config *cfg, const char *name, gj_target_settings **out,
                            gj_error *err);
/* Put back the client-level settings (everything but the targets and the
 * logger) saved as `saved` (a copy of *cfg): after a URL whose query set
 * some of them failed. */
void gj__config_restore_client(gj_config *cfg, const struct gj_config *saved);
/* Install ts (complete, with its name) as the target of that name:
 * replacing it (in its place) or appended.  On success ts is taken over;
 * on failure (GJ_ENOMEM, GJ_ECONFIG too many targets) cfg is unchanged and
 * ts is still the caller's. */
int gj__config_put_target(gj_config *cfg, gj_target_settings *ts, gj_error *err);
/* Recompute what the getters hand out for every target ("hosts" text, the
 * redacted "url").  Call after changing targets directly. */
int gj__config_refresh(gj_config *cfg);

/* ---- the document tree (config_doc.c) -------------------------------------- */
typedef enum gj__cnode_kind {
    GJ__CNODE_NULL,
    GJ__CNODE_BOOL,
    GJ__CNODE_INT,
    GJ__CNODE_FLOAT,
    GJ__CNODE_STRING,
    GJ__CNODE_LIST,
    GJ__CNODE_MAP
} gj__cnode_kind;

typedef struct gj__cnode gj__cnode;
struct gj__cnode {
    gj__cnode_kind kind;
    unsigned line, col;          /* where the value starts, 1-based */
    char *key;                   /* as a map entry: its key (NUL-terminated) */
    unsigned key_line, key_col;  /* where the key starts */
    char *text;                  /* scalars: the string, or the number/bool as written */
    size_t text_len;
    bool boolean;
    int64_t integer;
    bool int_overflow;           /* an integer outside int64 (integer not set) */
    double number;
    gj__cnode *parent;
    gj__cnode **items;           /* list items, map entries (in document order) */
    size_t n_items, cap_items;
};

/* A new node (text copied when not NULL). NULL when out of memory. */
gj__cnode *gj__cnode_new(gj__cnode_kind kind, unsigned line, unsigned col, const char *text,
                         size_t text_len);
void gj__cnode_free(gj__cnode *node);
/* Append child to a list or map (for a map, child->key must be set).  A
 * duplicate key, too many entries or no memory give an error whose message
 * names origin:line:col and the key path; child is freed on failure. */
int gj__cnode_append(gj__cnode *parent, gj__cnode *child, const char *origin, gj_error *err);
/* The key path of a node: "backends.graph.hosts[1]" ("" for the root).
 * Always NUL-terminates buf. */
void gj__cnode_path(const gj__cnode *node, char *buf, size_t len);

/* Line and column (1-based) of byte `offset` of text. */
void gj__config_position(const char *text, size_t len, size_t offset, unsigned *line,
                         unsigned *col);

/* Text -> tree.  *root is NULL for an empty document.  Errors name
 * origin:line:col. */
int gj__config_yaml_tree(const char *text, size_t len, const char *origin, gj__cnode **root,
                         gj_error *err);
int gj__config_json_tree(const char *text, size_t len, const char *origin, gj__cnode **root,
                         gj_error *err);

/* Tree -> configuration (cfg is fresh: no targets). */
int gj__config_apply_tree(gj_config *cfg, const gj__cnode *root, const char *origin,
                          gj_error *err);

#endif
