/*
 * Text forms of configuration values: integers, booleans, durations, sizes
 * and host lists, as they appear in URL queries, gj_config_set_string() and
 * string scalars of configuration files.
 */
#include "config/config_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define QUOTE_BUF 256

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

void gj__config_quote(const char *s, size_t len, char *buf, size_t buflen)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    if (buflen == 0)
        return;
    if (buflen < 16) {
        buf[0] = '\0';
        return;
    }
    buf[o++] = '"';
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (i >= 60 || o + 10 >= buflen) {
            memcpy(buf + o, "...", 3);
            o += 3;
            break;
        }
        if (c < 0x20 || c == 0x7f || c == '"' || c == '\\') {
            if (c == '"' || c == '\\') {
                buf[o++] = '\\';
                buf[o++] = (char)c;
            } else {
                buf[o++] = '\\';
                buf[o++] = 'x';
                buf[o++] = hex[c >> 4];
                buf[o++] = hex[c & 15];
            }
        } else {
            buf[o++] = (char)c;  /* UTF-8 sequences pass through */
        }
    }
    buf[o++] = '"';
    buf[o] = '\0';
}

static int expected(gj_error *err, const char *what, const char *text)
{
    char q[QUOTE_BUF];
    if (text == NULL)
        return gj__error_set(err, GJ_ECONFIG, "expected %s, got null", what);
    gj__config_quote(text, strlen(text), q, sizeof q);
    return gj__error_set(err, GJ_ECONFIG, "expected %s, got %s", what, q);
}

/* [+-]digits in decimal; *overflow when outside int64. */
static bool parse_int_text(const char *text, int64_t *out, bool *overflow)
{
    const char *p = text;
    char *end = NULL;
    *overflow = false;
    if (text == NULL)
        return false;
    if (*p == '+' || *p == '-')
        p++;
    if (!is_digit(*p))
        return false;
    while (is_digit(*p))
        p++;
    if (*p != '\0')
        return false;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno == ERANGE) {
        *overflow = true;
        return false;
    }
    *out = (int64_t)v;
    return true;
}

int gj__config_parse_int(const char *text, int64_t *out, gj_error *err)
{
    bool overflow;
    if (parse_int_text(text, out, &overflow))
        return 0;
    if (overflow) {
        char q[QUOTE_BUF];
        gj__config_quote(text, strlen(text), q, sizeof q);
        return gj__error_set(err, GJ_ECONFIG, "integer out of range, got %s", q);
    }
    return expected(err, "an integer", text);
}

int gj__config_parse_int_overflow(const char *text, int64_t *out, bool *overflow)
{
    return parse_int_text(text, out, overflow) ? 0 : GJ_ECONFIG;
}

int gj__config_parse_bool(const char *text, bool *out, gj_error *err)
{
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};
    if (text != NULL) {
        for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
            if (strcasecmp(text, yes[i]) == 0) {
                *out = true;
                return 0;
            }
            if (strcasecmp(text, no[i]) == 0) {
                *out = false;
                return 0;
            }
        }
    }
    return expected(err, "a boolean (true or false)", text);
}

static const char duration_expected[] = "a duration such as 250ms, 5s, 1.5s, 2m or 1h";

int gj__config_parse_duration(const char *text, bool allow_off, int64_t *millis, gj_error *err)
{
    static const struct {
        const char *name;
        int64_t ms;
    } units[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000}};
    const int64_t max = GJ__CONFIG_MAX_DURATION_MS;
    const char *p = text;
    int64_t total = 0;

    if (text == NULL || *text == '\0')
        return expected(err, duration_expected, text);
    if (allow_off && strcasecmp(text, "off") == 0) {
        *millis = GJ_LIVENESS_NEVER;
        return 0;
    }
    if (*p == '-' && (is_digit(p[1]) || p[1] == '.'))
        return expected(err, "a duration of 0 or more", text);
    /* A bare number: milliseconds. */
    {
        const char *q = p;
        while (is_digit(*q))
            q++;
        if (*q == '\0') {
            int64_t v;
            bool overflow;
            if (!parse_int_text(text, &v, &overflow) || v > max)
                return expected(err, "a duration of at most 10 years", text);
            *millis = v;
            return 0;
        }
    }
    while (*p != '\0') {
        int64_t whole = 0, frac = 0, scale = 1;
        size_t n_digits = 0;
        while (is_digit(*p)) {
            if (whole > max)
                return expected(err, "a duration of at most 10 years", text);
            whole = whole * 10 + (*p - '0');
            p++;
            n_digits++;
        }
        if (*p == '.') {
            p++;
            while (is_digit(*p)) {
                if (scale >= INT64_C(1000000000))
                    return expected(err, duration_expected, text);
                frac = frac * 10 + (*p - '0');
                scale *= 10;
                p++;
                n_digits++;
            }
        }
        if (n_digits == 0)
            return expected(err, duration_expected, text);
        const char *unit = p;
        while (is_alpha(*p))
            p++;
        size_t unit_len = (size_t)(p - unit);
        int64_t unit_ms = 0;
        for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
            if (strlen(units[i].name) == unit_len && strncmp(unit, units[i].name, unit_len) == 0)
                unit_ms = units[i].ms;
        }
        if (unit_ms == 0)
            return expected(err, duration_expected, text);
        if (whole > max / unit_ms)
            return expected(err, "a duration of at most 10 years", text);
        if ((frac * unit_ms) % scale != 0)
            return expected(err, "a whole number of milliseconds", text);
        int64_t part = whole * unit_ms + frac * unit_ms / scale;
        if (part > max - total)
            return expected(err, "a duration of at most 10 years", text);
        total += part;
    }
    *millis = total;
    return 0;
}

static const char size_expected[] = "a size in bytes such as 65536, 64KiB or 16MiB";

int gj__config_parse_size(const char *text, uint64_t *out, gj_error *err)
{
    static const struct {
        const char *name;
        uint64_t mult;
    } units[] = {
        {"", 1},
        {"b", 1},
        {"k", 1000},
        {"kb", 1000},
        {"mb", 1000000},
        {"gb", 1000000000},
        {"kib", 1024},
        {"mib", 1024 * 1024},
        {"gib", 1024 * 1024 * 1024},
    };
    const char *p = text;
    uint64_t v = 0;
    bool overflow = false;
    if (text == NULL || !is_digit(*p))
        return expected(err, size_expected, text);
    while (is_digit(*p)) {
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10)
            overflow = true;
        else
            v = v * 10 + d;
        p++;
    }
    while (*p == ' ')
        p++;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strcasecmp(p, units[i].name) == 0) {
            if (overflow || v > UINT64_MAX / units[i].mult)
                *out = UINT64_MAX;
            else
                *out = v * units[i].mult;
            return 0;
        }
    }
    return expected(err, size_expected, text);
}

static bool host_name_char(char c)
{
    return is_alpha(c) || is_digit(c) || c == '.' || c == '-' || c == '_';
}

static bool ipv6_char(char c)
{
    /* hex digits, ':' and '.', a zone after '%' (letters, digits, '-', '_'). */
    return is_alpha(c) || is_digit(c) || c == ':' || c == '.' || c == '%' || c == '-' ||
           c == '_';
}

static int parse_port(const char *spec, size_t spec_len, const char *p, size_t len, int *port,
                      gj_error *err)
{
    char q[QUOTE_BUF], h[QUOTE_BUF];
    int v = 0;
    bool ok = len > 0 && len <= 5;
    for (size_t i = 0; ok && i < len; i++) {
        if (!is_digit(p[i]))
            ok = false;
        else
            v = v * 10 + (p[i] - '0');
    }
    if (ok && v >= 1 && v <= 65535) {
        *port = v;
        return 0;
    }
    gj__config_quote(p, len, q, sizeof q);
    gj__config_quote(spec, spec_len, h, sizeof h);
    return gj__error_set(err, GJ_ECONFIG, "bad port %s in host %s (expected 1 to 65535)", q, h);
}

int gj__config_parse_host(const char *text, size_t len, gj_host *out, gj_error *err)
{
    char q[QUOTE_BUF];
    const char *name;
    size_t name_len;
    int port = 0;

    gj__config_quote(text, len, q, sizeof q);
    if (len == 0)
        return gj__error_set(err, GJ_ECONFIG, "empty host name");
    if (text[0] == '[') {
        const char *close = memchr(text, ']', len);
        if (close == NULL)
            return gj__error_set(err, GJ_ECONFIG, "missing ']' in host %s", q);
        name = text + 1;
        name_len = (size_t)(close - name);
        if (name_len == 0 || memchr(name, ':', name_len) == NULL)
            return gj__error_set(err, GJ_ECONFIG, "bad IPv6 address in host %s", q);
        for (size_t i = 0; i < name_len; i++) {
            if (!ipv6_char(name[i]))
                return gj__error_set(err, GJ_ECONFIG, "bad IPv6 address in host %s", q);
        }
        const char *rest = close + 1;
        size_t rest_len = len - (size_t)(rest - text);
        if (rest_len > 0) {
            if (rest[0] != ':')
                return gj__error_set(err, GJ_ECONFIG, "unexpected text after ']' in host %s",
                                     q);
            if (parse_port(text, len, rest + 1, rest_len - 1, &port, err) != 0)
                return GJ_ECONFIG;
        }
    } else {
        const char *colon = memchr(text, ':', len);
        name = text;
        name_len = len;
        if (colon != NULL) {
            const char *after = colon + 1;
            if (memchr(after, ':', len - (size_t)(after - text)) != NULL)
                return gj__error_set(err, GJ_ECONFIG,
                                     "IPv6 address in host %s must be in brackets, as in "
                                     "[::1]:7687",
                                     q);
            name_len = (size_t)(colon - text);
            if (parse_port(text, len, after, len - (size_t)(after - text), &port, err) != 0)
                return GJ_ECONFIG;
        }
        if (name_len == 0)
            return gj__error_set(err, GJ_ECONFIG, "empty host name in %s", q);
        for (size_t i = 0; i < name_len; i++) {
            if (!host_name_char(name[i]))
                return gj__error_set(err, GJ_ECONFIG, "bad character in host %s", q);
        }
    }
    out->host = strndup(name, name_len);
    if (out->host == NULL)
        return gj__error_set(err, GJ_ENOMEM, "out of memory");
    out->port = port;
    return 0;
}

void gj__config_hosts_free(gj_host *hosts, size_t n)
{
    if (hosts == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        free(hosts[i].host);
    free(hosts);
}

int gj__config_parse_hosts(const char *text, gj_host **out, size_t *n_out, gj_error *err)
{
    gj_host *hosts;
    size_t n = 0, count = 1;
    const char *p;

    if (text == NULL)
        return expected(err, "a list of hosts", text);
    for (p = text; *p != '\0'; p++) {
        if (*p == ',')
            count++;
    }
    if (count > GJ__CONFIG_MAX_HOSTS)
        return gj__error_set(err, GJ_ECONFIG, "too many hosts (at most %d)",
                             GJ__CONFIG_MAX_HOSTS);
    hosts = calloc(count, sizeof *hosts);
    if (hosts == NULL)
        return gj__error_set(err, GJ_ENOMEM, "out of memory");
    p = text;
    for (;;) {
        const char *end = strchr(p, ',');
        size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
        while (len > 0 && *p == ' ') {
            p++;
            len--;
        }
        while (len > 0 && p[len - 1] == ' ')
            len--;
        if (len == 0) {
            char q[QUOTE_BUF];
            gj__config_hosts_free(hosts, n);
            gj__config_quote(text, strlen(text), q, sizeof q);
            return gj__error_set(err, GJ_ECONFIG, "empty host in the list %s", q);
        }
        int rc = gj__config_parse_host(p, len, &hosts[n], err);
        if (rc != 0) {
            gj__config_hosts_free(hosts, n);
            return rc;
        }
        n++;
        if (end == NULL)
            break;
        p = end + 1;
    }
    *out = hosts;
    *n_out = n;
    return 0;
}

char *gj__config_hosts_text(const gj_host *hosts, size_t n)
{
    size_t total = 1;
    for (size_t i = 0; i < n; i++)
        total += strlen(hosts[i].host) + 2 /* [] */ + 6 /* :65535 */ + 1 /* , */;
    char *s = malloc(total);
    if (s == NULL)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        bool v6 = strchr(hosts[i].host, ':') != NULL;
        int w = snprintf(s + o, total - o, "%s%s%s%s", i > 0 ? "," : "", v6 ? "[" : "",
                         hosts[i].host, v6 ? "]" : "");
        o += (size_t)w;
        if (hosts[i].port > 0) {
            w = snprintf(s + o, total - o, ":%d", hosts[i].port);
            o += (size_t)w;
        }
    }
    s[o] = '\0';
    return s;
}
