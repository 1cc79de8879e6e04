/*
 * Error codes and the gj_error detail object.
 */
#include "core/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GJ__MSG_MAX 1024
#define GJ__SHORT_MAX 128

struct gj_error {
    int code;
    char message[GJ__MSG_MAX];
    char backend[16];
    char server_code[GJ__SHORT_MAX];
    char gql_status[16];
    bool has_server_code;
    bool has_gql_status;
    long server_number;
    int http_status;
    gj_value *extra;
};

static const struct {
    int code;
    const char *name;
    const char *text;
} code_table[] = {
    { GJ_OK, "GJ_OK", "no error" },
    { GJ_ENOMEM, "GJ_ENOMEM", "out of memory" },
    { GJ_EINVAL, "GJ_EINVAL", "invalid argument" },
    { GJ_ENOTFOUND, "GJ_ENOTFOUND", "job not found" },
    { GJ_ENOTDONE, "GJ_ENOTDONE", "job not done" },
    { GJ_ECANCELLED, "GJ_ECANCELLED", "job cancelled" },
    { GJ_ETIMEDOUT, "GJ_ETIMEDOUT", "timed out" },
    { GJ_EBUSY, "GJ_EBUSY", "queue full" },
    { GJ_ESERVER, "GJ_ESERVER", "server error" },
    { GJ_EPROTOCOL, "GJ_EPROTOCOL", "protocol error" },
    { GJ_ECONNECT, "GJ_ECONNECT", "could not connect" },
    { GJ_EIO, "GJ_EIO", "connection failed" },
    { GJ_ETLS, "GJ_ETLS", "TLS error" },
    { GJ_EAUTH, "GJ_EAUTH", "authentication failed" },
    { GJ_ECONFIG, "GJ_ECONFIG", "configuration error" },
    { GJ_ESHUTDOWN, "GJ_ESHUTDOWN", "client shutting down" },
    { GJ_EUNSUPPORTED, "GJ_EUNSUPPORTED", "not supported" },
    { GJ_ETOOBIG, "GJ_ETOOBIG", "message too large" },
    { GJ_EDEADLK, "GJ_EDEADLK", "blocking wait on a worker thread" },
    { GJ_ETYPE, "GJ_ETYPE", "wrong value type" },
    { GJ_ESTATE, "GJ_ESTATE", "wrong state" },
    { GJ_EABORTED, "GJ_EABORTED", "stopped by the row callback" },
};

const char *gj_strerror(int code)
{
    for (size_t i = 0; i < sizeof code_table / sizeof code_table[0]; i++)
        if (code_table[i].code == code)
            return code_table[i].text;
    return "unknown error";
}

const char *gj_code_name(int code)
{
    for (size_t i = 0; i < sizeof code_table / sizeof code_table[0]; i++)
        if (code_table[i].code == code)
            return code_table[i].name;
    return "GJ_UNKNOWN";
}

gj_error *gj_error_new(void)
{
    return calloc(1, sizeof(gj_error));
}

void gj_error_clear(gj_error *err)
{
    if (!err)
        return;
    gj_value_unref(err->extra);
    /* Everything but the text buffers, which only need their first byte. */
    err->code = 0;
    err->message[0] = '\0';
    err->backend[0] = '\0';
    err->server_code[0] = '\0';
    err->gql_status[0] = '\0';
    err->has_server_code = err->has_gql_status = false;
    err->server_number = 0;
    err->http_status = 0;
    err->extra = NULL;
}

void gj_error_free(gj_error *err)
{
    if (!err)
        return;
    gj_value_unref(err->extra);
    free(err);
}

int gj_error_copy(gj_error *dst, const gj_error *src)
{
    if (!dst || !src || dst == src)
        return 0;
    gj_value_unref(dst->extra);
    *dst = *src;
    dst->extra = src->extra ? gj_value_ref(src->extra) : NULL;
    return 0;
}

void gj__error_move(gj_error *dst, gj_error *src)
{
    if (!dst || !src || dst == src)
        return;
    gj_value_unref(dst->extra);
    *dst = *src;
    memset(src, 0, sizeof *src);
}

int gj_error_code(const gj_error *err)
{
    return err ? err->code : 0;
}

const char *gj_error_message(const gj_error *err)
{
    return err ? err->message : "";
}

const char *gj_error_backend(const gj_error *err)
{
    return err && err->backend[0] ? err->backend : NULL;
}

const char *gj_error_server_code(const gj_error *err)
{
    return err && err->has_server_code ? err->server_code : NULL;
}

long gj_error_server_number(const gj_error *err)
{
    return err ? err->server_number : 0;
}

const char *gj_error_gql_status(const gj_error *err)
{
    return err && err->has_gql_status ? err->gql_status : NULL;
}

int gj_error_http_status(const gj_error *err)
{
    return err ? err->http_status : 0;
}

const gj_value *gj_error_extra(const gj_error *err)
{
    return err ? err->extra : NULL;
}

/* Truncate cleanly at a UTF-8 boundary when a message does not fit. */
static void fix_truncation(char *buf, size_t cap, int written)
{
    if (written < 0) {
        buf[0] = '\0';
        return;
    }
    if ((size_t)written < cap)
        return;
    /* vsnprintf kept cap - 1 bytes: drop the last character if it is cut. */
    size_t len = cap - 1;
    size_t start = len;
    while (start > 0 && ((unsigned char)buf[start - 1] & 0xC0) == 0x80)
        start--;
    if (start == 0)
        return;
    unsigned char lead = (unsigned char)buf[start - 1];
    size_t need = lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
    if ((start - 1) + need > len)
        buf[start - 1] = '\0';
}

int gj__error_setv(gj_error *err, int code, const char *fmt, va_list ap)
{
    if (!err)
        return code;
    gj_error_clear(err);
    err->code = code;
    int n = vsnprintf(err->message, sizeof err->message, fmt, ap);
    fix_truncation(err->message, sizeof err->message, n);
    return code;
}

int gj__error_set(gj_error *err, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    gj__error_setv(err, code, fmt, ap);
    va_end(ap);
    return code;
}

int gj__error_prefix(gj_error *err, const char *fmt, ...)
{
    if (!err)
        return 0;
    char prefix[GJ__MSG_MAX];
    char old[GJ__MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    fix_truncation(prefix, sizeof prefix, n);
    memcpy(old, err->message, sizeof old);
    n = snprintf(err->message, sizeof err->message, "%s: %s", prefix, old);
    fix_truncation(err->message, sizeof err->message, n);
    return err->code;
}

static void copy_short(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
    fix_truncation(dst, cap, (int)strlen(src));
}

int gj__error_set_server(gj_error *err, const gj__server_error *se)
{
    int code = se->code ? se->code : GJ_ESERVER;
    if (!err) {
        gj_value_unref(se->extra);
        return code;
    }
    gj_error_clear(err);
    err->code = code;
    if (se->backend)
        copy_short(err->backend, sizeof err->backend, se->backend);
    if (se->server_code) {
        copy_short(err->server_code, sizeof err->server_code, se->server_code);
        err->has_server_code = true;
    }
    if (se->gql_status) {
        copy_short(err->gql_status, sizeof err->gql_status, se->gql_status);
        err->has_gql_status = true;
    }
    err->server_number = se->server_number;
    err->http_status = se->http_status;
    err->extra = se->extra;

    /* The message says who answered what: "[arango 1501, HTTP 400] AQL: syntax error ..." */
    char ident[GJ__SHORT_MAX * 2];
    size_t len = 0;
    ident[0] = '\0';
#define IDENT(...) do { \
        int w_ = snprintf(ident + len, sizeof ident - len, __VA_ARGS__); \
        if (w_ > 0) len = (size_t)w_ + len < sizeof ident ? len + (size_t)w_ : sizeof ident - 1; \
    } while (0)
    if (se->server_code)
        IDENT("%s", se->server_code);
    else if (se->server_number)
        IDENT("%ld", se->server_number);
    if (se->gql_status)
        IDENT("%sGQL %s", len ? ", " : "", se->gql_status);
    if (se->http_status)
        IDENT("%sHTTP %d", len ? ", " : "", se->http_status);
#undef IDENT
    int n;
    if (len)
        n = snprintf(err->message, sizeof err->message, "%s%s[%s] %s",
                     se->backend ? se->backend : "", se->backend ? " " : "", ident,
                     se->message ? se->message : "");
    else
        n = snprintf(err->message, sizeof err->message, "%s%s%s",
                     se->backend ? se->backend : "", se->backend ? ": " : "",
                     se->message ? se->message : "");
    fix_truncation(err->message, sizeof err->message, n);
    return code;
}
