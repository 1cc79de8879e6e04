/*
 * Bolt messages: definitions per version, decoding with checks, writers.
 */
#include "codec/bolt_msg.h"

#include <stdio.h>
#include <string.h>

/* Allowed types of a field, as a bit set of (1u << gj_type); T_NULL allows null. */
#define T(x) (1u << (x))
#define T_MAP T(GJ_TMAP)
#define T_LIST T(GJ_TLIST)
#define T_STRING T(GJ_TSTRING)
#define T_INT T(GJ_TINT)
#define T_NULL T(GJ_TNULL)

typedef struct field_spec {
    const char *name;
    unsigned types;
} field_spec;

typedef struct msg_spec {
    uint8_t tag;
    gj_bolt_dir dir;
    const char *name;
    unsigned major, minor;      /* first version that has it */
    unsigned n_fields;
    field_spec fields[3];
} msg_spec;

static const msg_spec specs[] = {
    { GJ_BOLT_HELLO, GJ_BOLT_REQUEST, "HELLO", 3, 0, 1, { { "extra", T_MAP } } },
    { GJ_BOLT_GOODBYE, GJ_BOLT_REQUEST, "GOODBYE", 3, 0, 0, { { NULL, 0 } } },
    { GJ_BOLT_RESET, GJ_BOLT_REQUEST, "RESET", 1, 0, 0, { { NULL, 0 } } },
    { GJ_BOLT_RUN, GJ_BOLT_REQUEST, "RUN", 3, 0, 3,
      { { "query", T_STRING }, { "parameters", T_MAP }, { "extra", T_MAP } } },
    { GJ_BOLT_BEGIN, GJ_BOLT_REQUEST, "BEGIN", 3, 0, 1, { { "extra", T_MAP } } },
    { GJ_BOLT_COMMIT, GJ_BOLT_REQUEST, "COMMIT", 3, 0, 0, { { NULL, 0 } } },
    { GJ_BOLT_ROLLBACK, GJ_BOLT_REQUEST, "ROLLBACK", 3, 0, 0, { { NULL, 0 } } },
    { GJ_BOLT_DISCARD, GJ_BOLT_REQUEST, "DISCARD", 4, 0, 1, { { "extra", T_MAP } } },
    { GJ_BOLT_PULL, GJ_BOLT_REQUEST, "PULL", 4, 0, 1, { { "extra", T_MAP } } },
    { GJ_BOLT_TELEMETRY, GJ_BOLT_REQUEST, "TELEMETRY", 5, 4, 1, { { "api", T_INT } } },
    { GJ_BOLT_ROUTE, GJ_BOLT_REQUEST, "ROUTE", 4, 3, 3,
      { { "routing", T_MAP }, { "bookmarks", T_LIST | T_NULL }, { "extra", T_MAP | T_NULL | T_STRING } } },
    { GJ_BOLT_LOGON, GJ_BOLT_REQUEST, "LOGON", 5, 1, 1, { { "auth", T_MAP } } },
    { GJ_BOLT_LOGOFF, GJ_BOLT_REQUEST, "LOGOFF", 5, 1, 0, { { NULL, 0 } } },
    { GJ_BOLT_SUCCESS, GJ_BOLT_RESPONSE, "SUCCESS", 1, 0, 1, { { "metadata", T_MAP } } },
    { GJ_BOLT_RECORD, GJ_BOLT_RESPONSE, "RECORD", 1, 0, 1, { { "data", T_LIST } } },
    { GJ_BOLT_IGNORED, GJ_BOLT_RESPONSE, "IGNORED", 1, 0, 0, { { NULL, 0 } } },
    { GJ_BOLT_FAILURE, GJ_BOLT_RESPONSE, "FAILURE", 1, 0, 1, { { "metadata", T_MAP } } },
};

static const msg_spec *find_spec(uint8_t tag, gj_bolt_dir dir)
{
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++)
        if (specs[i].tag == tag && specs[i].dir == dir)
            return &specs[i];
    return NULL;
}

const char *gj__bolt_msg_name(uint8_t tag, gj_bolt_dir dir)
{
    const msg_spec *s = find_spec(tag, dir);
    return s ? s->name : NULL;
}

static void version_of(const gj_ps_config *cfg, unsigned *major, unsigned *minor)
{
    *major = (cfg && cfg->bolt_major) ? cfg->bolt_major : 5;
    *minor = cfg ? cfg->bolt_minor : 0;
}

bool gj__bolt_version_at_least(const gj_ps_config *cfg, unsigned major, unsigned minor)
{
    unsigned ma, mi;
    version_of(cfg, &ma, &mi);
    return ma > major || (ma == major && mi >= minor);
}

void gj__bolt_msg_clear(gj_bolt_msg *m)
{
    for (unsigned i = 0; i < m->n_fields && i < GJ_PS_MAX_STRUCT_FIELDS; i++) {
        gj_value_unref(m->fields[i]);
        m->fields[i] = NULL;
    }
    m->n_fields = 0;
}

static const char *types_text(unsigned types)
{
    if (types == T_MAP)
        return "a map";
    if (types == T_LIST)
        return "a list";
    if (types == T_STRING)
        return "a string";
    if (types == T_INT)
        return "an integer";
    if (types == (T_LIST | T_NULL))
        return "a list or null";
    return "a map, a string or null";
}

int gj__bolt_msg_decode(gj_bolt_msg *m, const uint8_t *data, size_t len, const gj_ps_config *cfg,
                        gj_bolt_dir dir, gj_error *err)
{
    memset(m, 0, sizeof *m);
    gj_ps_reader r;
    gj__ps_reader_init(&r, data, len, cfg);
    unsigned n;
    uint8_t tag;
    int rc = gj__ps_read_struct_header(&r, &n, &tag, err);
    if (rc) {
        gj__error_prefix(err, "Bolt message");
        return rc;
    }
    const msg_spec *spec = find_spec(tag, dir);
    unsigned major, minor;
    version_of(cfg, &major, &minor);
    if (!spec)
        return gj__error_set(err, GJ_EPROTOCOL, "unknown Bolt %s message 0x%02X",
                             dir == GJ_BOLT_REQUEST ? "request" : "response", tag);
    if (!gj__bolt_version_at_least(cfg, spec->major, spec->minor))
        return gj__error_set(err, GJ_EPROTOCOL, "%s (0x%02X) is not a Bolt %u.%u message (it needs %u.%u)",
                             spec->name, tag, major, minor, spec->major, spec->minor);
    if (n != spec->n_fields)
        return gj__error_set(err, GJ_EPROTOCOL, "Bolt %s has %u fields, expected %u", spec->name, n,
                             spec->n_fields);
    m->tag = tag;
    for (unsigned i = 0; i < n; i++) {
        size_t at = r.pos;
        gj_value *v = NULL;
        rc = gj__ps_read_value(&r, 1, &v, err);
        if (rc) {
            gj__bolt_msg_clear(m);
            gj__error_prefix(err, "Bolt %s field %s", spec->name, spec->fields[i].name);
            return rc;
        }
        m->fields[i] = v;
        m->n_fields = i + 1;
        if (!(spec->fields[i].types & T(gj_value_type(v)))) {
            gj__error_set(err, GJ_EPROTOCOL, "Bolt %s field %s (byte %zu) is a %s, expected %s",
                          spec->name, spec->fields[i].name, at, gj_type_name(gj_value_type(v)),
                          types_text(spec->fields[i].types));
            gj__bolt_msg_clear(m);
            return GJ_EPROTOCOL;
        }
    }
    if (r.pos != r.len) {
        gj__bolt_msg_clear(m);
        return gj__error_set(err, GJ_EPROTOCOL, "Bolt %s has %zu unexpected bytes at byte %zu",
                             spec->name, r.len - r.pos, r.pos);
    }
    return 0;
}

/* ---- Writers ------------------------------------------------------------------ */

/* Frame the message started at `start`, or roll back on failure. */
static int finish(gj_ps_buf *b, size_t start, int rc, gj_error *err)
{
    if (!rc && !b->error)
        gj__chunk_frame(b, start);
    if (b->error && (!rc || rc == b->error))
        rc = gj__ps_buf_check(b, err);
    if (rc) {
        b->len = start;
        b->error = 0;
    }
    return rc;
}

int gj__bolt_write(gj_ps_buf *b, const gj_ps_config *cfg, uint8_t tag,
                   const gj_value *const *fields, unsigned n, gj_error *err)
{
    if (b->error)
        return gj__ps_buf_check(b, err);
    if (n > GJ_PS_MAX_STRUCT_FIELDS)
        return gj__error_set(err, GJ_EINVAL, "a Bolt message has at most 15 fields (%u given)", n);
    size_t start = b->len;
    int rc = gj__ps_put_struct_header(b, n, tag);
    for (unsigned i = 0; i < n && !rc; i++)
        rc = gj__ps_put_value(b, fields[i], cfg, 1, err);
    return finish(b, start, rc, err);
}

int gj__bolt_write_empty(gj_ps_buf *b, uint8_t tag, gj_error *err)
{
    return gj__bolt_write(b, NULL, tag, NULL, 0, err);
}

static int put_map_or_empty(gj_ps_buf *b, const gj_ps_config *cfg, const gj_value *map, gj_error *err)
{
    if (!map)
        return gj__ps_put_map_header(b, 0);
    if (gj_value_type(map) != GJ_TMAP)
        return gj__error_set(err, GJ_EINVAL, "a Bolt message field must be a map, not a %s",
                             gj_type_name(gj_value_type(map)));
    return gj__ps_put_value(b, map, cfg, 1, err);
}

int gj__bolt_write_map(gj_ps_buf *b, const gj_ps_config *cfg, uint8_t tag, const gj_value *map,
                       gj_error *err)
{
    if (b->error)
        return gj__ps_buf_check(b, err);
    size_t start = b->len;
    int rc = gj__ps_put_struct_header(b, 1, tag);
    if (!rc)
        rc = put_map_or_empty(b, cfg, map, err);
    return finish(b, start, rc, err);
}

int gj__bolt_write_pull(gj_ps_buf *b, uint8_t tag, int64_t n, int64_t qid, gj_error *err)
{
    if (b->error)
        return gj__ps_buf_check(b, err);
    size_t start = b->len;
    gj__ps_put_struct_header(b, 1, tag);
    gj__ps_put_map_header(b, qid == GJ_BOLT_ALL ? 1 : 2);
    gj__ps_put_string(b, "n", 1);
    gj__ps_put_int(b, n);
    if (qid != GJ_BOLT_ALL) {
        gj__ps_put_string(b, "qid", 3);
        gj__ps_put_int(b, qid);
    }
    return finish(b, start, 0, err);
}

int gj__bolt_write_run(gj_ps_buf *b, const gj_ps_config *cfg, const char *query, size_t query_len,
                       const gj_value *params, const gj_value *extra, gj_error *err)
{
    if (b->error)
        return gj__ps_buf_check(b, err);
    if (gj__ps_utf8_invalid_at((const uint8_t *)query, query_len) != query_len)
        return gj__error_set(err, GJ_EINVAL, "the query text is not valid UTF-8 (byte %zu)",
                             gj__ps_utf8_invalid_at((const uint8_t *)query, query_len));
    size_t start = b->len;
    gj__ps_put_struct_header(b, 3, GJ_BOLT_RUN);
    gj__ps_put_string(b, query, query_len);
    int rc = put_map_or_empty(b, cfg, params, err);
    if (!rc)
        rc = put_map_or_empty(b, cfg, extra, err);
    return finish(b, start, rc, err);
}

int gj__bolt_write_route(gj_ps_buf *b, const gj_ps_config *cfg, const gj_value *routing,
                         const gj_value *bookmarks, const gj_value *extra, gj_error *err)
{
    if (b->error)
        return gj__ps_buf_check(b, err);
    size_t start = b->len;
    gj__ps_put_struct_header(b, 3, GJ_BOLT_ROUTE);
    int rc = put_map_or_empty(b, cfg, routing, err);
    if (!rc)
        rc = bookmarks ? gj__ps_put_value(b, bookmarks, cfg, 1, err) : gj__ps_put_list_header(b, 0);
    if (!rc)
        rc = extra ? gj__ps_put_value(b, extra, cfg, 1, err) : gj__ps_put_null(b);
    return finish(b, start, rc, err);
}

int gj__bolt_write_telemetry(gj_ps_buf *b, int64_t api, gj_error *err)
{
    if (b->error)
        return gj__ps_buf_check(b, err);
    size_t start = b->len;
    gj__ps_put_struct_header(b, 1, GJ_BOLT_TELEMETRY);
    gj__ps_put_int(b, api);
    return finish(b, start, 0, err);
}

int gj__bolt_write_record(gj_ps_buf *b, const gj_ps_config *cfg, const gj_value *const *values,
                          size_t n, gj_error *err)
{
    if (b->error)
        return gj__ps_buf_check(b, err);
    size_t start = b->len;
    gj__ps_put_struct_header(b, 1, GJ_BOLT_RECORD);
    int rc = gj__ps_put_list_header(b, n);
    for (size_t i = 0; i < n && !rc; i++)
        rc = gj__ps_put_value(b, values[i], cfg, 2, err);
    return finish(b, start, rc, err);
}

int gj__bolt_write_record_list(gj_ps_buf *b, const gj_ps_config *cfg, const gj_value *list,
                               gj_error *err)
{
    if (b->error)
        return gj__ps_buf_check(b, err);
    if (gj_value_type(list) != GJ_TLIST)
        return gj__error_set(err, GJ_EINVAL, "RECORD data must be a list, not a %s",
                             gj_type_name(gj_value_type(list)));
    size_t start = b->len;
    gj__ps_put_struct_header(b, 1, GJ_BOLT_RECORD);
    int rc = gj__ps_put_value(b, list, cfg, 1, err);
    return finish(b, start, rc, err);
}

static void put_kv_string(gj_ps_buf *b, const char *key, const char *value)
{
    gj__ps_put_cstring(b, key);
    gj__ps_put_cstring(b, value);
}

static void put_diagnostic_record(gj_ps_buf *b)
{
    gj__ps_put_cstring(b, "diagnostic_record");
    gj__ps_put_map_header(b, 3);
    put_kv_string(b, "OPERATION", "");
    put_kv_string(b, "OPERATION_CODE", "0");
    put_kv_string(b, "CURRENT_SCHEMA", "/");
}

int gj__bolt_write_failure(gj_ps_buf *b, const gj_ps_config *cfg, const char *code,
                           const char *message, const char *gql_status, gj_error *err)
{
    return gj__bolt_write_failure_cause(b, cfg, code, message, gql_status, NULL, NULL, NULL, err);
}

int gj__bolt_write_failure_cause(gj_ps_buf *b, const gj_ps_config *cfg, const char *code, const char *message,
                                 const char *gql_status, const char *description, const char *cause_gql_status,
                                 const char *cause_description, gj_error *err)
{
    if (b->error)
        return gj__ps_buf_check(b, err);
    size_t start = b->len;
    gj__ps_put_struct_header(b, 1, GJ_BOLT_FAILURE);
    if (gj__bolt_version_at_least(cfg, 5, 7)) {
        gj__ps_put_map_header(b, cause_gql_status ? 6 : 5);
        put_kv_string(b, "neo4j_code", code);
        put_kv_string(b, "message", message);
        put_kv_string(b, "gql_status", gql_status ? gql_status : "50N42");
        put_kv_string(b, "description", description ? description : message);
        put_diagnostic_record(b);
        if (cause_gql_status) {
            /* The cause: a GQL error object {message, gql_status,
             * description, diagnostic_record} (no neo4j_code). */
            gj__ps_put_cstring(b, "cause");
            gj__ps_put_map_header(b, 4);
            put_kv_string(b, "message", cause_description ? cause_description : message);
            put_kv_string(b, "gql_status", cause_gql_status);
            put_kv_string(b, "description", cause_description ? cause_description : message);
            put_diagnostic_record(b);
        }
    } else {
        gj__ps_put_map_header(b, 2);
        put_kv_string(b, "code", code);
        put_kv_string(b, "message", message);
    }
    return finish(b, start, 0, err);
}

/* ---- Reading responses ----------------------------------------------------------- */

int gj__bolt_meta_string(const gj_value *meta, const char *key, const char **s, size_t *len)
{
    const gj_value *v = gj_value_map_get(meta, key);
    if (!v || gj_value_type(v) == GJ_TNULL)
        return GJ_ENOTFOUND;
    size_t n;
    int rc = gj_value_string_get(v, s, &n);
    if (!rc && len)
        *len = n;
    return rc;
}

int gj__bolt_meta_int(const gj_value *meta, const char *key, int64_t *out)
{
    const gj_value *v = gj_value_map_get(meta, key);
    if (!v || gj_value_type(v) == GJ_TNULL)
        return GJ_ENOTFOUND;
    return gj_value_int_get(v, out);
}

int gj__bolt_meta_bool(const gj_value *meta, const char *key, bool *out)
{
    const gj_value *v = gj_value_map_get(meta, key);
    if (!v || gj_value_type(v) == GJ_TNULL)
        return GJ_ENOTFOUND;
    return gj_value_bool_get(v, out);
}

int gj__bolt_failure_to_error(const gj_value *meta, gj_error *err)
{
    return gj__bolt_failure_to_error_code(meta, GJ_ESERVER, err);
}

/* How deep a cause chain is followed (the server sends a handful). */
#define MAX_CAUSES 8

int gj__bolt_failure_to_error_code(const gj_value *meta, int code, gj_error *err)
{
    const char *scode = NULL, *message = NULL, *gql = NULL;
    if (gj__bolt_meta_string(meta, "neo4j_code", &scode, NULL) != 0)
        gj__bolt_meta_string(meta, "code", &scode, NULL);
    gj__bolt_meta_string(meta, "message", &message, NULL);
    gj__bolt_meta_string(meta, "gql_status", &gql, NULL);
    /* The message, then each cause's GQL status and words. */
    char text[1024];
    size_t len = (size_t)snprintf(text, sizeof text, "%s",
                                  message ? message : "the server reported a failure without a message");
    if (len >= sizeof text)
        len = sizeof text - 1;
    const gj_value *cause = gj_value_map_get(meta, "cause");
    bool any = false;
    for (unsigned depth = 0; depth < MAX_CAUSES && cause && gj_value_type(cause) == GJ_TMAP; depth++) {
        const char *cgql = NULL, *cdesc = NULL;
        gj__bolt_meta_string(cause, "gql_status", &cgql, NULL);
        if (gj__bolt_meta_string(cause, "message", &cdesc, NULL) != 0)
            gj__bolt_meta_string(cause, "description", &cdesc, NULL);
        int w = snprintf(text + len, sizeof text - len, "%s[GQL %s] %s", depth ? "; " : " (caused by ",
                         cgql ? cgql : "?", cdesc ? cdesc : "");
        if (w < 0 || (size_t)w >= sizeof text - len) {
            len = sizeof text - 1;
            break;
        }
        len += (size_t)w;
        any = true;
        cause = gj_value_map_get(cause, "cause");
    }
    if (any && len + 1 < sizeof text) {
        text[len++] = ')';
        text[len] = '\0';
    }
    gj__server_error se;
    memset(&se, 0, sizeof se);
    se.code = code;
    se.backend = "bolt";
    se.server_code = scode;
    se.gql_status = gql;
    se.message = text;
    se.extra = meta && gj_value_type(meta) == GJ_TMAP ? gj_value_ref(meta) : NULL;
    return gj__error_set_server(err, &se);
}
