/*
 * The parsed form of a configuration (lib/config/config*.c fills it; the
 * client, the pool and the backends read it).  Never installed.
 */
#ifndef GJ_CONFIG_SETTINGS_H
#define GJ_CONFIG_SETTINGS_H

#include "core/internal.h"

typedef struct gj_host {
    char *host;   /* name or address; IPv6 without brackets */
    int port;     /* 0 = the backend's default port */
} gj_host;

/* "Never" for liveness_check. */
#define GJ_LIVENESS_NEVER INT64_C(-1)

typedef struct gj_target_settings {
    char *name;              /* "default", or the key under backends: */
    char *backend;           /* "bolt", "gremlin", "arango", "graphql", "test"... NULL = from scheme */
    char *scheme;            /* as written in the URL ("bolt+s", "neo4j", "http", ...) */
    char *url;               /* the URL it came from, or NULL */
    gj_host *hosts;
    size_t n_hosts;
    int port;                /* default port for hosts without one (0 = backend's) */
    char *path;              /* "/gremlin", "/graphql"; NULL = backend default */
    char *username;
    char *password;          /* resolved: password_env is read at parse time */
    char *password_env;
    char *database;
    char *ssl_certfile, *ssl_keyfile, *ssl_password, *ssl_cafile;
    bool ssl_verify;         /* default true */
    bool tls;                /* scheme asked for TLS (+s, +ssc, https, wss) */
    int64_t response_timeout_ms;   /* 30000; 0 = none */
    int64_t connect_timeout_ms;    /* 10000 */
    int64_t acquire_timeout_ms;    /* 60000 */
    int64_t connect_retry_ms;      /* 0: a job fails at once when every host refused;
                                      else keep trying (with backoff) this long */
    unsigned min_conns;            /* 0 */
    unsigned max_conns;            /* 4 */
    unsigned max_times_acquired;   /* 16: jobs sharing one connection at once (multiplexing backends) */
    unsigned max_inflight;         /* 64 */
    int64_t max_lifetime_ms;       /* 3600000; 0 = unlimited */
    int64_t idle_timeout_ms;       /* 300000; 0 = unlimited */
    int64_t liveness_check_ms;     /* 30000; 0 = always; GJ_LIVENESS_NEVER */
    int64_t host_backoff_ms;       /* 1000 (doubles up to 60000) */
    char *message_serializer;      /* NULL = backend default */
    size_t max_message_size;       /* 64 MiB */
    size_t max_result_size;        /* 256 MiB of collected results; 0 = none */
    gj_value *aliases;             /* map string->string, or NULL */
    gj_value *options;             /* map of backend-specific options, or NULL */
    bool bookmark_manager;         /* false; Bolt: one causal chain of bookmarks for every
                                      session and job of the target (docs/config.md) */
} gj_target_settings;

struct gj_config {
    unsigned workers;        /* 4 */
    size_t queue_size;       /* 65536 */
    bool caller_runs;        /* true: gj_client_execute (and a wait on the first
                                job in line) may run the job on the calling thread */
    gj_logger log;
    gj_target_settings *targets;
    size_t n_targets;
};

/* Defaults into a zeroed target. */
void gj__target_settings_init(gj_target_settings *ts);
/* Deep copy / free of one target. */
int gj__target_settings_copy(gj_target_settings *dst, const gj_target_settings *src);
void gj__target_settings_free(gj_target_settings *ts);
/* Find a target by name; name NULL = "default", or the only target. */
const gj_target_settings *gj__config_target(const gj_config *cfg, const char *name);

#endif
