/*
 * Logging through the user's callback, and redaction of secrets.
 */
#include "core/internal.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

const char *gj_log_level_name(gj_log_level level)
{
    switch (level) {
    case GJ_LOG_ERROR: return "error";
    case GJ_LOG_WARN: return "warn";
    case GJ_LOG_INFO: return "info";
    case GJ_LOG_DEBUG: return "debug";
    case GJ_LOG_TRACE: return "trace";
    }
    return "unknown";
}

void gj__log(const gj_logger *lg, gj_log_level level, const char *fmt, ...)
{
    if (!GJ__LOG_ON(lg, level))
        return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    lg->fn(level, line, lg->payload);
}

/* Query parameter names whose values are secrets. */
static bool secret_param(const char *name, size_t len)
{
    static const char *const names[] = { "password", "token", "secret", "credentials",
                                         "ssl_password", "auth", NULL };
    for (size_t i = 0; names[i]; i++)
        if (strlen(names[i]) == len && strncasecmp(names[i], name, len) == 0)
            return true;
    return false;
}

static void put(char *buf, size_t cap, size_t *at, const char *s, size_t n)
{
    if (*at + 1 >= cap)
        return;
    if (n > cap - 1 - *at)
        n = cap - 1 - *at;
    memcpy(buf + *at, s, n);
    *at += n;
    buf[*at] = '\0';
}

void gj__redact_url(const char *url, char *buf, size_t buflen)
{
    size_t at = 0;
    if (!buflen)
        return;
    buf[0] = '\0';
    if (!url)
        return;
    const char *p = url;
    const char *scheme_end = strstr(p, "://");
    const char *auth_start = scheme_end ? scheme_end + 3 : p;
    const char *auth_end = auth_start + strcspn(auth_start, "/?#");
    /* The last '@' before the path ends the user info. */
    const char *at_sign = NULL;
    for (const char *q = auth_start; q < auth_end; q++)
        if (*q == '@')
            at_sign = q;
    put(buf, buflen, &at, p, (size_t)(auth_start - p));
    if (at_sign) {
        const char *colon = memchr(auth_start, ':', (size_t)(at_sign - auth_start));
        if (colon) {
            put(buf, buflen, &at, auth_start, (size_t)(colon - auth_start));
            put(buf, buflen, &at, ":***", 4);
        } else {
            put(buf, buflen, &at, auth_start, (size_t)(at_sign - auth_start));
        }
        p = at_sign;
    } else {
        p = auth_start;
    }
    /* Host and path as they are, up to the query. */
    const char *query = strchr(p, '?');
    if (!query) {
        put(buf, buflen, &at, p, strlen(p));
        return;
    }
    put(buf, buflen, &at, p, (size_t)(query - p) + 1);
    p = query + 1;
    while (*p) {
        size_t pair = strcspn(p, "&#");
        const char *eq = memchr(p, '=', pair);
        if (eq && secret_param(p, (size_t)(eq - p))) {
            put(buf, buflen, &at, p, (size_t)(eq - p) + 1);
            put(buf, buflen, &at, "***", 3);
        } else {
            put(buf, buflen, &at, p, pair);
        }
        p += pair;
        if (*p) {
            put(buf, buflen, &at, p, 1);
            p++;
        }
    }
}
