/*
 * URLs: scheme://[user[:password]@]host[:port][,host[:port]...][/path][?key=value&...]
 *
 * The scheme picks the backend and TLS; user, password and query values are
 * percent-decoded; query keys are the setting names of config.c's table.
 * In the user info an empty user name is no user name (NULL), so
 * ":TOKEN@host" is a password alone, and an empty password is no password.
 * Error messages name the part that is wrong and never the password.
 */
#include "config/config_internal.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct scheme_entry {
    const char *name;
    const char *backend;
    bool tls;
    bool insecure;   /* +ssc: TLS without certificate verification */
} scheme_entry;

static const scheme_entry schemes[] = {
    {"bolt", "bolt", false, false},
    {"bolt+s", "bolt", true, false},
    {"bolt+ssc", "bolt", true, true},
    {"neo4j", "bolt", false, false},
    {"neo4j+s", "bolt", true, false},
    {"neo4j+ssc", "bolt", true, true},
    {"ws", "gremlin", false, false},
    {"wss", "gremlin", true, false},
    {"gremlin", "gremlin", false, false},
    {"gremlin+ws", "gremlin", false, false},
    {"gremlin+wss", "gremlin", true, false},
    {"http", "arango", false, false},
    {"https", "arango", true, false},
    {"arangodb", "arango", false, false},
    {"arangodb+http", "arango", false, false},
    {"arangodb+https", "arango", true, false},
    {"graphql", "graphql", false, false},
    {"graphql+http", "graphql", false, false},
    {"graphql+https", "graphql", true, false},
    {"graphql+ws", "graphql", false, false},
    {"graphql+wss", "graphql", true, false},
    {"graphql+unix", "graphql", false, false},
    {"test", "test", false, false},
};

int gj__config_scheme(const char *scheme, const char **backend, bool *tls, bool *insecure,
                      gj_error *err)
{
    for (size_t i = 0; scheme != NULL && i < sizeof schemes / sizeof schemes[0]; i++) {
        if (strcasecmp(scheme, schemes[i].name) == 0) {
            *backend = schemes[i].backend;
            *tls = schemes[i].tls;
            *insecure = schemes[i].insecure;
            return 0;
        }
    }
    char q[128];
    gj__config_quote(scheme != NULL ? scheme : "", scheme != NULL ? strlen(scheme) : 0, q,
                     sizeof q);
    return gj__error_set(err, GJ_ECONFIG,
                         "unknown URL scheme %s (expected bolt, neo4j (+s, +ssc), ws, wss, "
                         "gremlin (+ws, +wss), http, https, arangodb (+http, +https), "
                         "graphql (+http, +https, +ws, +wss, +unix) or test)",
                         q);
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decode len bytes into a new string; NULL on a bad escape or an
 * encoded NUL (*nomem tells out of memory apart). */
static char *percent_decode(const char *s, size_t len, bool *nomem)
{
    char *out = malloc(len + 1);
    size_t o = 0;
    *nomem = out == NULL;
    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < len; i++) {
        if (s[i] != '%') {
            out[o++] = s[i];
            continue;
        }
        int hi = i + 2 < len ? hex_value(s[i + 1]) : -1;
        int lo = hi >= 0 ? hex_value(s[i + 2]) : -1;
        if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
            free(out);
            return NULL;
        }
        out[o++] = (char)(hi * 16 + lo);
        i += 2;
    }
    out[o] = '\0';
    return out;
}

static int decode_part(const char *s, size_t len, const char *what, bool quote_on_error,
                       char **out, gj_error *err)
{
    bool nomem;
    *out = percent_decode(s, len, &nomem);
    if (*out != NULL)
        return 0;
    if (nomem)
        return gj__error_set(err, GJ_ENOMEM, "out of memory");
    if (quote_on_error) {
        char q[128];
        gj__config_quote(s, len, q, sizeof q);
        return gj__error_set(err, GJ_ECONFIG, "bad percent-encoding in the %s %s", what, q);
    }
    return gj__error_set(err, GJ_ECONFIG, "bad percent-encoding in the %s", what);
}

static bool scheme_char(char c, bool first)
{
    bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (first)
        return alpha;
    return alpha || (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.';
}

/* Apply the query "k=v&k=v" (len bytes) to cfg / ts. */
static int apply_query(gj_config *cfg, gj_target_settings *ts, const char *query, size_t len,
                       gj__url_info *info, gj_error *err)
{
    const char *seen[64];
    size_t n_seen = 0;
    const char *p = query, *end = query + len;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *item_end = amp != NULL ? amp : end;
        size_t item_len = (size_t)(item_end - p);
        if (item_len > 0) {
            const char *eq = memchr(p, '=', item_len);
            char *key, *value;
            int rc;
            if (eq == NULL) {
                char q[128];
                gj__config_quote(p, item_len, q, sizeof q);
                return gj__error_set(err, GJ_ECONFIG, "URL query item %s has no '='", q);
            }
            rc = decode_part(p, (size_t)(eq - p), "URL query key", true, &key, err);
            if (rc != 0)
                return rc;
            const gj__setting *s = gj__setting_find(key);
            if (s == NULL) {
                char q[128];
                gj__config_quote(key, strlen(key), q, sizeof q);
                free(key);
                return gj__error_set(err, GJ_ECONFIG, "unknown URL query key %s", q);
            }
            free(key);
            key = NULL;
            const char *name = gj__setting_name(s);
            if (strcmp(name, "url") == 0 || gj__setting_get_type(s) == GJ__SETTING_MAP)
                return gj__error_set(err, GJ_ECONFIG, "'%s' cannot be given in a URL query",
                                     name);
            for (size_t i = 0; i < n_seen; i++) {
                if (seen[i] == name)
                    return gj__error_set(err, GJ_ECONFIG, "duplicate URL query key '%s'", name);
            }
            if (n_seen < sizeof seen / sizeof seen[0])
                seen[n_seen++] = name;
            rc = decode_part(eq + 1, (size_t)(item_end - eq - 1), "value", false, &value, err);
            if (rc != 0) {
                gj__error_prefix(err, "URL query key '%s'", name);
                return rc;
            }
            rc = gj__setting_apply_text(cfg, ts, s, value, err);
            if (strcmp(name, "password") == 0)
                explicit_bzero(value, strlen(value));
            free(value);
            if (rc != 0) {
                gj__error_prefix(err, "URL query key '%s'", name);
                return rc;
            }
            if (strcmp(name, "password") == 0)
                info->has_password = true;
            else if (strcmp(name, "password_env") == 0)
                info->has_password_env = true;
        }
        p = item_end + (amp != NULL ? 1 : 0);
    }
    return 0;
}

/* graphql+unix:///run/app.sock:/graphql (the socket path, then ':' and the
 * HTTP path), or graphql+unix://%2Frun%2Fapp.sock/graphql: the socket path
 * becomes the target's one host (a host that is an absolute path is a unix
 * socket to the GraphQL backend).  *rest: where the path or query starts. */
static int apply_unix_socket(gj_target_settings *ts, const char *authority, const char **rest,
                             gj_error *err)
{
    const char *end;
    char *socket_path = NULL;
    int rc;
    if (authority[0] == '/') {
        const char *colon = strstr(authority, ":/");
        const char *query = strchr(authority, '?');
        end = colon != NULL && (query == NULL || colon < query) ? colon
              : query != NULL ? query : authority + strlen(authority);
        rc = decode_part(authority, (size_t)(end - authority), "unix socket path", true,
                         &socket_path, err);
        if (rc == 0 && *end == ':')
            end++;   /* the HTTP path follows */
    } else {
        end = authority + strcspn(authority, "/?");
        rc = decode_part(authority, (size_t)(end - authority), "unix socket path", true,
                         &socket_path, err);
        if (rc == 0 && socket_path[0] != '/') {
            free(socket_path);
            return gj__error_set(err, GJ_ECONFIG, "a graphql+unix URL names an absolute socket "
                                 "path: graphql+unix:///run/app.sock:/graphql");
        }
    }
    if (rc != 0)
        return rc;
    if (socket_path[0] == '\0' || strlen(socket_path) >= 108) {
        free(socket_path);
        return gj__error_set(err, GJ_ECONFIG, "a graphql+unix URL needs a socket path of at "
                             "most 107 bytes");
    }
    gj_host *hosts = calloc(1, sizeof *hosts);
    if (hosts == NULL) {
        free(socket_path);
        return gj__error_set(err, GJ_ENOMEM, "out of memory");
    }
    hosts[0].host = socket_path;
    hosts[0].port = 0;
    *rest = end;
    return gj__setting_apply_hosts(ts, hosts, 1, err);
}

static int apply_url(gj_config *cfg, gj_target_settings *ts, const char *url,
                     gj__url_info *info, gj_error *err)
{
    size_t len = strlen(url);
    const char *sep = strstr(url, "://");
    const char *p;
    char scheme[32];
    int rc;

    if (len > GJ__CONFIG_MAX_URL)
        return gj__error_set(err, GJ_ECONFIG, "URL longer than %d bytes", GJ__CONFIG_MAX_URL);
    if (sep == NULL || sep == url)
        return gj__error_set(err, GJ_ECONFIG, "URL has no scheme (expected scheme://host...)");
    for (p = url; p < sep; p++) {
        if (!scheme_char(*p, p == url) || p - url >= (ptrdiff_t)sizeof scheme - 1) {
            char q[128];
            gj__config_quote(url, (size_t)(sep - url), q, sizeof q);
            return gj__error_set(err, GJ_ECONFIG, "bad URL scheme %s", q);
        }
    }
    memcpy(scheme, url, (size_t)(sep - url));
    scheme[sep - url] = '\0';
    if (memchr(url, '#', len) != NULL)
        return gj__error_set(err, GJ_ECONFIG, "URL fragments ('#...') are not supported");
    for (p = url; *p != '\0'; p++) {
        if ((unsigned char)*p <= 0x20 || *p == 0x7f)
            return gj__error_set(err, GJ_ECONFIG,
                                 "URL contains a space or control character at offset %zu",
                                 (size_t)(p - url));
    }
    rc = gj__setting_apply_text(cfg, ts, gj__setting_find("scheme"), scheme, err);
    if (rc != 0)
        return rc;

    const char *authority = sep + 3;
    const char *auth_end = authority + strcspn(authority, "/?");
    if (strcasecmp(scheme, "graphql+unix") == 0) {
        rc = apply_unix_socket(ts, authority, &auth_end, err);
        if (rc != 0)
            return rc;
        goto path_and_query;
    }
    const char *at = NULL;
    for (p = authority; p < auth_end; p++) {
        if (*p == '@')
            at = p;
    }
    const char *hosts_start = authority;
    if (at != NULL) {
        const char *colon = memchr(authority, ':', (size_t)(at - authority));
        const char *user_end = colon != NULL ? colon : at;
        char *user = NULL, *password = NULL;
        rc = decode_part(authority, (size_t)(user_end - authority), "user name", false, &user,
                         err);
        if (rc != 0)
            return rc;
        if (colon != NULL) {
            rc = decode_part(colon + 1, (size_t)(at - colon - 1), "password", false, &password,
                             err);
            if (rc != 0) {
                free(user);
                return rc;
            }
        }
        /* An empty user name is no user name: "scheme://:TOKEN@host" carries
         * only a password (Bolt then sends it as a bearer token).  An empty
         * password is no password either ("scheme://u:@host", "://:@host"). */
        if (user[0] == '\0') {
            free(user);
            user = NULL;
        }
        if (password != NULL && password[0] == '\0') {
            free(password);
            password = NULL;
        }
        rc = gj__setting_apply_text(cfg, ts, gj__setting_find("username"), user, err);
        if (rc == 0 && password != NULL) {
            rc = gj__setting_apply_text(cfg, ts, gj__setting_find("password"), password, err);
            info->has_password = true;
        }
        free(user);
        if (password != NULL) {
            explicit_bzero(password, strlen(password));
            free(password);
        }
        if (rc != 0)
            return rc;
        hosts_start = at + 1;
    }

    size_t hosts_len = (size_t)(auth_end - hosts_start);
    if (hosts_len == 0) {
        if (strcmp(ts->scheme, "test") != 0)
            return gj__error_set(err, GJ_ECONFIG, "URL has no host");
        rc = gj__setting_apply_hosts(ts, NULL, 0, err);
    } else {
        char *hosts_text = strndup(hosts_start, hosts_len);
        gj_host *hosts;
        size_t n_hosts;
        if (hosts_text == NULL)
            return gj__error_set(err, GJ_ENOMEM, "out of memory");
        rc = gj__config_parse_hosts(hosts_text, &hosts, &n_hosts, err);
        free(hosts_text);
        if (rc != 0) {
            gj__error_prefix(err, "URL");
            return rc;
        }
        rc = gj__setting_apply_hosts(ts, hosts, n_hosts, err);
    }
    if (rc != 0)
        return rc;

path_and_query:;
    const char *query = strchr(auth_end, '?');
    const char *path_end = query != NULL ? query : url + len;
    if (*auth_end == '/') {
        char *path = strndup(auth_end, (size_t)(path_end - auth_end));
        if (path == NULL)
            return gj__error_set(err, GJ_ENOMEM, "out of memory");
        rc = gj__setting_apply_text(cfg, ts, gj__setting_find("path"), path, err);
        free(path);
        if (rc != 0) {
            gj__error_prefix(err, "URL");
            return rc;
        }
    }
    if (query != NULL) {
        rc = apply_query(cfg, ts, query + 1, (size_t)(url + len - query - 1), info, err);
        if (rc != 0)
            return rc;
    }
    if (info->has_password && info->has_password_env)
        return gj__error_set(err, GJ_ECONFIG,
                             "URL gives both a password and password_env: give one");
    char *copy = strdup(url);
    if (copy == NULL)
        return gj__error_set(err, GJ_ENOMEM, "out of memory");
    free(ts->url);
    ts->url = copy;
    return 0;
}

int gj__config_apply_url(gj_config *cfg, gj_target_settings *ts, const char *url,
                         gj__url_info *info, gj_error *err)
{
    gj__url_info local = {false, false};
    gj_target_settings work;
    struct gj_config saved = *cfg;

    if (url == NULL)
        return gj__error_set(err, GJ_EINVAL, "url is NULL");
    /* Work on a copy so that a failure leaves the target as it was. */
    if (gj__target_settings_copy(&work, ts) != 0)
        return gj__error_set(err, GJ_ENOMEM, "out of memory");
    int rc = apply_url(cfg, &work, url, &local, err);
    if (rc != 0) {
        gj__target_settings_free(&work);
        gj__config_restore_client(cfg, &saved);
        return rc;
    }
    gj__target_settings_free(ts);
    *ts = work;
    if (info != NULL)
        *info = local;
    return 0;
}

int gj_config_add_url(gj_config *cfg, const char *name, const char *url, gj_error *err)
{
    gj_error_clear(err);
    gj_target_settings fresh;
    int rc;

    if (cfg == NULL || url == NULL)
        return gj__error_set(err, GJ_EINVAL, "%s is NULL", cfg == NULL ? "cfg" : "url");
    if (name == NULL)
        name = "default";
    if ((rc = gj__config_check_target_name(name, err)) != 0)
        return rc;
    memset(&fresh, 0, sizeof fresh);
    gj__target_settings_init(&fresh);
    if ((fresh.name = strdup(name)) == NULL)
        return gj__error_set(err, GJ_ENOMEM, "out of memory");
    struct gj_config saved = *cfg;
    rc = gj__config_apply_url(cfg, &fresh, url, NULL, err);
    if (rc == 0)
        rc = gj__config_put_target(cfg, &fresh, err);
    if (rc != 0) {
        /* Nothing changed: not the target, not the client-level settings. */
        gj__config_restore_client(cfg, &saved);
        gj__target_settings_free(&fresh);
        return rc;
    }
    return 0;
}

int gj_config_from_url(gj_config **out, const char *url, gj_error *err)
{
    gj_error_clear(err);
    gj_config *cfg;
    if (out == NULL)
        return gj__error_set(err, GJ_EINVAL, "out is NULL");
    *out = NULL;
    if (gj_config_new(&cfg) != 0)
        return gj__error_set(err, GJ_ENOMEM, "out of memory");
    int rc = gj_config_add_url(cfg, NULL, url, err);
    if (rc != 0) {
        gj_config_free(cfg);
        return rc;
    }
    *out = cfg;
    return 0;
}
