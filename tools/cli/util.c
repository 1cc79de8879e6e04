/*
 * graphjob — small helpers: messages, option values, durations, clocks,
 * exit codes, the password prompt, JSON strings.
 */
#include "graphjob.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

void gjt_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("graphjob: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

int gjt_usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("graphjob: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputs("\n(graphjob --help lists the options)\n", stderr);
    va_end(ap);
    return GJT_EXIT_USAGE;
}

int gjt_parse_count(const char *option, const char *text, long min, long max, long *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || end == text || *end || v < min || v > max) {
        gjt_usage_error("%s: expected a whole number from %ld to %ld, got '%s'", option, min,
                        max, text);
        return -1;
    }
    *out = v;
    return 0;
}

int gjt_parse_duration(const char *option, const char *text, bool allow_zero, int64_t *ms)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(text, &end);
    double scale = 1000;            /* a bare number is seconds, as curl's -m */
    if (errno || end == text || !isfinite(v) || text[0] == '-' || text[0] == '+')
        goto bad;
    if (*end) {
        if (strcmp(end, "ms") == 0)
            scale = 1;
        else if (strcmp(end, "s") == 0)
            scale = 1000;
        else if (strcmp(end, "m") == 0 || strcmp(end, "min") == 0)
            scale = 60000;
        else if (strcmp(end, "h") == 0)
            scale = 3600000;
        else
            goto bad;
    }
    double total = v * scale;
    if (total > 365.0 * 24 * 3600000 || (!allow_zero && total < 1) || total < 0)
        goto bad;
    *ms = (int64_t)llround(total);
    return 0;
bad:
    gjt_usage_error("%s: expected a duration%s (seconds, or a number with ms, s, m or h: "
                    "\"2\", \"0.5\", \"250ms\"), got '%s'",
                    option, allow_zero ? "" : " above zero", text);
    return -1;
}

void gjt_format_duration(char *buf, size_t cap, int64_t ms)
{
    if (ms < 1000)
        snprintf(buf, cap, "%lld ms", (long long)ms);
    else if (ms % 1000 == 0 && ms < 120000)
        snprintf(buf, cap, "%lld s", (long long)(ms / 1000));
    else if (ms < 120000)
        snprintf(buf, cap, "%.1f s", (double)ms / 1000);
    else if (ms % 60000 == 0)
        snprintf(buf, cap, "%lld min", (long long)(ms / 60000));
    else
        snprintf(buf, cap, "%.1f min", (double)ms / 60000);
}

double gjt_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

int gjt_exit_for_code(int code)
{
    switch (code) {
    case GJ_OK: return GJT_EXIT_OK;
    case GJ_ECONFIG: return GJT_EXIT_CONFIG;
    case GJ_ECONNECT:
    case GJ_EIO:
    case GJ_ETLS:
    case GJ_EPROTOCOL:
    case GJ_ESHUTDOWN: return GJT_EXIT_CONNECT;
    case GJ_EAUTH: return GJT_EXIT_AUTH;
    case GJ_ETIMEDOUT: return GJT_EXIT_TIMEOUT;
    case GJ_ECANCELLED: return GJT_EXIT_CANCELLED;
    default: return GJT_EXIT_QUERY;
    }
}

char *gjt_prompt_password(const char *prompt)
{
    int fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return NULL;
    struct termios saved, quiet;
    bool restore = tcgetattr(fd, &saved) == 0;
    if (restore) {
        quiet = saved;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        quiet.c_lflag |= ECHONL;
        tcsetattr(fd, TCSAFLUSH, &quiet);
    }
    if (write(fd, prompt, strlen(prompt)) < 0) {
        /* the read below still works */
    }
    char buf[1024];
    size_t n = 0;
    bool ok = false;
    for (;;) {
        char c;
        ssize_t r = read(fd, &c, 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        if (c == '\n' || c == '\r') {
            ok = true;
            break;
        }
        if (n + 1 < sizeof buf)
            buf[n++] = c;
    }
    if (restore)
        tcsetattr(fd, TCSAFLUSH, &saved);
    close(fd);
    buf[n] = '\0';
    char *pw = ok ? strdup(buf) : NULL;
    explicit_bzero(buf, sizeof buf);
    return pw;
}

char *gjt_error_json(int code, const gj_error *err, const char *message, unsigned flags)
{
    gj_value *e = NULL;
    if (gj_value_new_map(&e, 8) != 0)
        return NULL;
    gj_value_map_put_str(e, "code", gj_value_string(gj_code_name(code)));
    gj_value *msg = NULL;
    const char *m = message ? message : err ? gj_error_message(err) : gj_strerror(code);
    if (gj_value_new_string(&msg, m, strlen(m)) != 0)
        msg = gj_value_string("(message not UTF-8)");
    gj_value_map_put_str(e, "message", msg);
    if (err && gj_error_backend(err))
        gj_value_map_put_str(e, "backend", gj_value_string(gj_error_backend(err)));
    if (err && gj_error_server_code(err))
        gj_value_map_put_str(e, "server_code", gj_value_string(gj_error_server_code(err)));
    if (err && gj_error_server_number(err))
        gj_value_map_put_str(e, "server_number", gj_value_int(gj_error_server_number(err)));
    if (err && gj_error_gql_status(err))
        gj_value_map_put_str(e, "gql_status", gj_value_string(gj_error_gql_status(err)));
    if (err && gj_error_http_status(err))
        gj_value_map_put_str(e, "http_status", gj_value_int(gj_error_http_status(err)));
    if (err && gj_error_extra(err))
        gj_value_map_put_str(e, "extra", gj_value_ref(gj_error_extra(err)));
    char *text = NULL;
    if (gj_value_to_json(e, flags, &text, NULL) != 0)
        text = NULL;
    gj_value_unref(e);
    return text;
}

void gjt_json_string(FILE *f, const char *s, size_t len)
{
    gj_value *v = NULL;
    char *text = NULL;
    if (gj_value_new_string(&v, s, len) == 0 && gj_value_to_json(v, 0, &text, NULL) == 0)
        fputs(text, f);
    else
        fputs("null", f);
    gj_free(text);
    gj_value_unref(v);
}
