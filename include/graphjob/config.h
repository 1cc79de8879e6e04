/*
 * libgraphjob — configuration.
 *
 * A configuration holds client-wide settings (workers, queue_size, logging)
 * and one or more named targets.  A target is one backend at one or more
 * hosts with its connection-pool settings.  Configurations come from a URL,
 * a YAML or JSON file, or the setters below; the client copies what it needs
 * at gj_client_new(), so a configuration may be freed or reused right after.
 *
 * URL form:
 *   scheme://[user[:password]@]host[:port][,host[:port]...][/path][?key=value&...]
 * e.g. bolt://neo4j:secret@db1:7687,db2:7687?max_conns=8&response_timeout=5s
 * User and password are percent-decoded; an empty user name or password is
 * none, so "bolt://:TOKEN@host" gives a password alone (Bolt: a bearer
 * token).  Query keys are the setting names below.  A GraphQL server on a
 * unix socket: graphql+unix:///run/app.sock:/graphql (the socket path, ':',
 * the HTTP path).
 *
 * File form (YAML or JSON, same keys):
 *   workers: 4                   # client-wide
 *   queue_size: 100000
 *   url: bolt://localhost:7687   # a single target named "default", or:
 *   backends:
 *     graph: { url: "neo4j://db:7687", max_conns: 8 }
 *     docs:
 *       backend: arango
 *       hosts: [ "a:8529", "b:8529" ]
 *       password_env: ARANGO_PASSWORD
 *
 * Settings (target-level unless noted; durations are numbers of
 * milliseconds or strings like "250ms", "5s", "2m", "1h"):
 *   workers (client, int, 4), queue_size (client, int, 65536),
 *   backend (string: bolt | gremlin | arango | graphql; else from scheme),
 *   url, hosts (list or comma string of host[:port]), port (int), scheme,
 *   path, username, password, password_env (name of an environment variable
 *   holding the password), database,
 *   ssl_certfile, ssl_keyfile, ssl_password, ssl_cafile, ssl_verify (bool, true),
 *   response_timeout (duration, 30s; 0 = none), connect_timeout (10s),
 *   acquire_timeout (60s; covers connect + TLS + handshake + auth),
 *   min_conns (0), max_conns (4), max_times_acquired (16; how many jobs may
 *   hold one connection at once where the protocol multiplexes, as in
 *   aiogremlin), max_inflight (64; unanswered requests at once on one
 *   connection where the protocol multiplexes; backends that do not
 *   multiplex use each connection for one job at a time), max_lifetime (1h, 0 = unlimited), idle_timeout (5m),
 *   liveness_check (duration: a connection idle longer than this is pinged
 *   before reuse; 0 = always, "off" = never; 30s), message_serializer
 *   (string), max_message_size (bytes, 64 MiB), aliases (map of
 *   string -> string), host_backoff (duration, 1s: first retry delay of a
 *   host marked down, doubled up to 60s), options (map: backend-specific).
 *
 * Errors name the file, the line and column (YAML; JSON: the offset), the key
 * and what was expected.  Unknown keys are errors.
 *
 * Threading: a configuration is not synchronised; build it on one thread.
 * After that it may be read (gj_client_new, getters) from several threads.
 */
#ifndef GRAPHJOB_CONFIG_H
#define GRAPHJOB_CONFIG_H

#include "common.h"
#include "log.h"

GJ_BEGIN_DECLS

/* An empty configuration: defaults, no target. */
GJ_EXTERN int gj_config_new(gj_config **out);
GJ_EXTERN void gj_config_free(gj_config *cfg);
/* A deep copy. */
GJ_EXTERN int gj_config_copy(gj_config **out, const gj_config *cfg);

/* A configuration with one target named "default" from a URL. */
GJ_EXTERN int gj_config_from_url(gj_config **out, const char *url, gj_error *err);

/* Add (or replace) a target `name` from a URL.  name NULL = "default". */
GJ_EXTERN int gj_config_add_url(gj_config *cfg, const char *name, const char *url,
                                gj_error *err);

/* Load a YAML or JSON file (chosen by extension .json / .yaml / .yml, else by
 * content: a file starting with '{' is JSON). */
GJ_EXTERN int gj_config_load_file(gj_config **out, const char *path, gj_error *err);

typedef enum gj_config_format { GJ_CONFIG_YAML = 0, GJ_CONFIG_JSON = 1 } gj_config_format;

/* Parse text already in memory; `origin` names it in error messages (a file
 * name, "<string>"). */
GJ_EXTERN int gj_config_parse(gj_config **out, const char *text, size_t len,
                              gj_config_format format, const char *origin,
                              gj_error *err);

/* Typed setters and getters, by setting name (see the list above).
 * target: the target's name; NULL = the client-wide settings for workers /
 * queue_size / log, else the "default" target.  A setter on a target that
 * does not exist creates it.  A name that is not a setting, or a setting of
 * another type, gives GJ_ECONFIG with a message naming it. */
GJ_EXTERN int gj_config_set_int(gj_config *cfg, const char *target, const char *key,
                                int64_t value, gj_error *err);
GJ_EXTERN int gj_config_set_bool(gj_config *cfg, const char *target, const char *key,
                                 bool value, gj_error *err);
/* Durations in milliseconds. */
GJ_EXTERN int gj_config_set_duration(gj_config *cfg, const char *target, const char *key,
                                     int64_t millis, gj_error *err);
/* Strings are copied.  Durations, ints and bools also accept their text form
 * here ("5s", "8", "true"); "hosts" accepts "a:1,b:2". */
GJ_EXTERN int gj_config_set_string(gj_config *cfg, const char *target, const char *key,
                                   const char *value, gj_error *err);
/* Map settings (aliases, options): the value (a map) is referenced. */
GJ_EXTERN int gj_config_set_value(gj_config *cfg, const char *target, const char *key,
                                  const gj_value *value, gj_error *err);

GJ_EXTERN int gj_config_get_int(const gj_config *cfg, const char *target, const char *key,
                                int64_t *out, gj_error *err);
GJ_EXTERN int gj_config_get_bool(const gj_config *cfg, const char *target, const char *key,
                                 bool *out, gj_error *err);
GJ_EXTERN int gj_config_get_duration(const gj_config *cfg, const char *target,
                                     const char *key, int64_t *millis, gj_error *err);
/* *out is borrowed from cfg (valid until the setting changes or cfg is
 * freed); NULL when unset.  "hosts" gives "a:1,b:2".  Secrets are never
 * handed out: "url" gives the URL as logs show it, its password and secret
 * query values (password, token, ...) replaced by "***" and the user name
 * kept ("bolt://neo4j:***@db:7687"); "password" and "ssl_password" give
 * "***" when set. */
GJ_EXTERN int gj_config_get_string(const gj_config *cfg, const char *target,
                                   const char *key, const char **out, gj_error *err);

/* Number of targets, and the name of the i-th (borrowed). */
GJ_EXTERN size_t gj_config_target_count(const gj_config *cfg);
GJ_EXTERN const char *gj_config_target_name(const gj_config *cfg, size_t i);

/* Logging: lines at `level` or more severe go to fn. fn NULL = off. */
GJ_EXTERN void gj_config_set_log(gj_config *cfg, gj_log_fn fn, gj_log_level level,
                                 void *payload);

GJ_END_DECLS

#endif
