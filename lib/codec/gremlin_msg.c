/*
 * Gremlin Server request and response messages (see gremlin_msg.h).
 *
 * GraphBinary messages are read and written field by field with the value-
 * only pieces of the GraphBinary codec.  GraphSON messages are decoded as
 * one document into a map (plain objects become maps, typed values their
 * values) whose members are then checked and taken over; they are written
 * member by member, the values typed by the GraphSON encoder.
 */
#include "codec/gremlin_msg.h"
#include "core/value_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const mimes[] = {
    [GJ_GREMLIN_GRAPHBINARY_V1] = GJ_GREMLIN_MIME_GRAPHBINARY_V1,
    [GJ_GREMLIN_GRAPHSON_V3] = GJ_GREMLIN_MIME_GRAPHSON_V3,
    [GJ_GREMLIN_GRAPHSON_V2] = GJ_GREMLIN_MIME_GRAPHSON_V2,
};

const char *gj__gremlin_mime(gj_gremlin_format f)
{
    return (unsigned)f < 3 ? mimes[f] : "";
}

int gj__gremlin_format_from_mime(const char *mime, size_t len, gj_gremlin_format *out)
{
    for (unsigned f = 0; f < 3; f++)
        if (strlen(mimes[f]) == len && memcmp(mimes[f], mime, len) == 0) {
            *out = (gj_gremlin_format)f;
            return 0;
        }
    return GJ_EUNSUPPORTED;
}

static gj_graphson_version graphson_version(gj_gremlin_format f)
{
    return f == GJ_GREMLIN_GRAPHSON_V2 ? GJ_GRAPHSON_V2 : GJ_GRAPHSON_V3;
}

static int bad_format(gj_gremlin_format f, gj_error *err)
{
    return gj__error_set(err, GJ_EINVAL, "unknown Gremlin serializer %d", (int)f);
}

static void uuid_text(const uint8_t u[16], char text[37])
{
    snprintf(text, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12],
             u[13], u[14], u[15]);
}

/* A request id as GraphSON carries it: the text of a UUID, or a g:UUID. */
static int request_id_of(const gj_value *v, uint8_t out[16], bool *present, gj_error *err)
{
    const char *s;
    size_t len;
    *present = false;
    if (!v || gj_value_type(v) == GJ_TNULL)
        return 0;
    if (gj_value_uuid_get(v, out) == 0) {
        *present = true;
        return 0;
    }
    gj_value *u = NULL;
    if (gj_value_string_get(v, &s, &len) == 0 && strlen(s) == len &&
        gj_value_new_uuid_text(&u, s) == 0) {
        gj_value_uuid_get(u, out);
        gj_value_unref(u);
        *present = true;
        return 0;
    }
    return gj__error_set(err, GJ_EPROTOCOL, "GraphSON message: requestId is not a UUID");
}

/* ---- GraphSON message helpers ------------------------------------------------------- */

static int put_key(gj_ps_buf *b, const char *key, bool first)
{
    int rc = first ? 0 : gj__graphson_put_raw(b, ",");
    if (rc == 0)
        rc = gj__graphson_put_string(b, key, strlen(key));
    return rc ? rc : gj__graphson_put_raw(b, ":");
}

/* A map member (typed); NULL writes an empty map. */
static int put_map_member(gj_ps_buf *b, gj_gremlin_format f, const gj_value *map, gj_error *err)
{
    if (map && gj_value_type(map) != GJ_TMAP)
        return gj__error_set(err, GJ_EINVAL, "a Gremlin message map is a %s",
                             gj_type_name(gj_value_type(map)));
    return gj__graphson_put_value(b, graphson_version(f), map ? map : gj__value_empty_map(), err);
}

/* A decoded GraphSON message as a map. */
static int decode_document(gj_value **doc, gj_gremlin_format f, const void *data, size_t len,
                           unsigned max_depth, const char *what, gj_error *err)
{
    int rc = gj__graphson_decode(doc, graphson_version(f), data, len, max_depth, err);
    if (rc == 0 && gj_value_type(*doc) != GJ_TMAP) {
        gj_value_unref(*doc);
        *doc = NULL;
        rc = gj__error_set(err, GJ_EPROTOCOL, "GraphSON %s is not a JSON object", what);
    }
    return rc;
}

/* A member that must be a map (or absent/null: NULL). */
static int take_map(const gj_value *parent, const char *key, const char *what, gj_value **out,
                    gj_error *err)
{
    const gj_value *v = gj_value_map_get(parent, key);
    *out = NULL;
    if (!v || gj_value_type(v) == GJ_TNULL)
        return 0;
    if (gj_value_type(v) != GJ_TMAP)
        return gj__error_set(err, GJ_EPROTOCOL, "GraphSON %s.%s is a %s, not a map", what, key,
                             gj_type_name(gj_value_type(v)));
    *out = gj_value_ref(v);
    return 0;
}

/* ---- requests ---------------------------------------------------------------------------- */

int gj__gremlin_request_encode(gj_ps_buf *out, gj_gremlin_format f,
                               const gj_gremlin_request *req, gj_error *err)
{
    if ((unsigned)f > GJ_GREMLIN_GRAPHSON_V2)
        return bad_format(f, err);
    if (!req || !req->op)
        return gj__error_set(err, GJ_EINVAL, "a Gremlin request needs an op");
    if (req->args && gj_value_type(req->args) != GJ_TMAP)
        return gj__error_set(err, GJ_EINVAL, "Gremlin request args are a %s, not a map",
                             gj_type_name(gj_value_type(req->args)));
    const char *mime = gj__gremlin_mime(f), *processor = req->processor ? req->processor : "";
    int rc = gj__gb_put_u8(out, (uint8_t)strlen(mime));
    if (rc == 0)
        rc = gj__graphson_put_raw(out, mime);
    if (rc == 0 && f == GJ_GREMLIN_GRAPHBINARY_V1) {
        rc = gj__gb_put_u8(out, GJ_GB_VERSION);
        if (rc == 0)
            rc = gj__gb_put_uuid(out, req->request_id);
        if (rc == 0)
            rc = gj__gb_put_string(out, req->op, strlen(req->op));
        if (rc == 0)
            rc = gj__gb_put_string(out, processor, strlen(processor));
        if (rc == 0)
            rc = gj__gb_put_map(out, req->args, 0, err);
    } else if (rc == 0) {
        char id[37];
        uuid_text(req->request_id, id);
        rc = gj__graphson_put_raw(out, "{");
        if (rc == 0)
            rc = put_key(out, "requestId", true);
        if (rc == 0)
            rc = gj__graphson_put_string(out, id, 36);
        if (rc == 0)
            rc = put_key(out, "op", false);
        if (rc == 0)
            rc = gj__graphson_put_string(out, req->op, strlen(req->op));
        if (rc == 0)
            rc = put_key(out, "processor", false);
        if (rc == 0)
            rc = gj__graphson_put_string(out, processor, strlen(processor));
        if (rc == 0)
            rc = put_key(out, "args", false);
        if (rc == 0)
            rc = put_map_member(out, f, req->args, err);
        if (rc == 0)
            rc = gj__graphson_put_raw(out, "}");
    }
    return rc && out->error ? gj__ps_buf_check(out, err) : rc;
}

void gj__gremlin_request_clear(gj_gremlin_request *req)
{
    if (!req)
        return;
    gj_value_unref(req->args);
    free(req->storage_);
    memset(req, 0, sizeof *req);
}

/* op and processor copied into one block. */
static int store_names(gj_gremlin_request *out, const char *op, size_t op_len,
                       const char *processor, size_t proc_len, gj_error *err)
{
    out->storage_ = malloc(op_len + proc_len + 2);
    if (!out->storage_)
        return gj__error_set(err, GJ_ENOMEM, "out of memory decoding a Gremlin request");
    memcpy(out->storage_, op, op_len);
    out->storage_[op_len] = '\0';
    memcpy(out->storage_ + op_len + 1, processor, proc_len);
    out->storage_[op_len + 1 + proc_len] = '\0';
    out->op = out->storage_;
    out->processor = out->storage_ + op_len + 1;
    return 0;
}

static int gb_version(gj_gb_reader *r, const char *what, gj_error *err)
{
    uint8_t v;
    int rc = gj__gb_read_u8(r, what, &v, err);
    if (rc == 0 && v != GJ_GB_VERSION)
        rc = gj__error_set(err, GJ_EUNSUPPORTED, "GraphBinary %s has the version byte 0x%02X, "
                           "not 0x81", what, v);
    return rc;
}

static int gb_end(const gj_gb_reader *r, const char *what, gj_error *err)
{
    if (r->pos == r->len)
        return 0;
    return gj__error_set(err, GJ_EPROTOCOL, "GraphBinary %s ends at byte %zu, %zu bytes before "
                         "the end of the data", what, r->pos, r->len - r->pos);
}

static int request_graphbinary(gj_gremlin_request *out, const void *payload, size_t len,
                               unsigned max_depth, gj_error *err)
{
    gj_gb_reader r;
    gj__gb_reader_init(&r, payload, len, max_depth);
    gj_value *op = NULL, *processor = NULL;
    int rc = gb_version(&r, "request", err);
    if (rc == 0)
        rc = gj__gb_read_uuid(&r, "request id", out->request_id, err);
    if (rc == 0)
        rc = gj__gb_read_string(&r, "request op", &op, err);
    if (rc == 0)
        rc = gj__gb_read_string(&r, "request processor", &processor, err);
    if (rc == 0)
        rc = gj__gb_read_map(&r, 0, "request args", &out->args, err);
    if (rc == 0)
        rc = gb_end(&r, "request", err);
    if (rc == 0) {
        const char *o, *p;
        size_t ol, pl;
        gj_value_string_get(op, &o, &ol);
        gj_value_string_get(processor, &p, &pl);
        rc = store_names(out, o, ol, p, pl, err);
    }
    gj_value_unref(op);
    gj_value_unref(processor);
    return rc;
}

static int request_graphson(gj_gremlin_request *out, gj_gremlin_format f, const void *payload,
                            size_t len, unsigned max_depth, gj_error *err)
{
    gj_value *doc = NULL;
    int rc = decode_document(&doc, f, payload, len, max_depth, "request", err);
    if (rc)
        return rc;
    const char *op = NULL, *processor = "";
    size_t op_len = 0, proc_len = 0;
    bool present;
    const gj_value *p = gj_value_map_get(doc, "processor");
    rc = request_id_of(gj_value_map_get(doc, "requestId"), out->request_id, &present, err);
    if (rc == 0 && !present)
        rc = gj__error_set(err, GJ_EPROTOCOL, "GraphSON request has no requestId");
    if (rc == 0 && gj_value_string_get(gj_value_map_get(doc, "op"), &op, &op_len) != 0)
        rc = gj__error_set(err, GJ_EPROTOCOL, "GraphSON request has no op string");
    if (rc == 0 && p && gj_value_type(p) != GJ_TNULL &&
        gj_value_string_get(p, &processor, &proc_len) != 0)
        rc = gj__error_set(err, GJ_EPROTOCOL, "GraphSON request processor is not a string");
    if (rc == 0)
        rc = take_map(doc, "args", "request", &out->args, err);
    if (rc == 0)
        rc = store_names(out, op, op_len, processor, proc_len, err);
    gj_value_unref(doc);
    return rc;
}

int gj__gremlin_request_decode_payload(gj_gremlin_request *out, gj_gremlin_format f,
                                       const void *payload, size_t len, unsigned max_depth,
                                       gj_error *err)
{
    memset(out, 0, sizeof *out);
    if ((unsigned)f > GJ_GREMLIN_GRAPHSON_V2)
        return bad_format(f, err);
    int rc = f == GJ_GREMLIN_GRAPHBINARY_V1
                 ? request_graphbinary(out, payload, len, max_depth, err)
                 : request_graphson(out, f, payload, len, max_depth, err);
    if (rc)
        gj__gremlin_request_clear(out);
    return rc;
}

int gj__gremlin_request_decode(gj_gremlin_request *out, gj_gremlin_format *f, const void *frame,
                               size_t len, unsigned max_depth, gj_error *err)
{
    memset(out, 0, sizeof *out);
    const uint8_t *p = frame;
    if (len < 1 || (size_t)p[0] > len - 1)
        return gj__error_set(err, GJ_EPROTOCOL, "Gremlin request frame of %zu bytes has no "
                             "complete mime type", len);
    gj_gremlin_format format;
    if (gj__gremlin_format_from_mime((const char *)p + 1, p[0], &format) != 0)
        return gj__error_set(err, GJ_EUNSUPPORTED, "Gremlin request mime type \"%.*s\" is not "
                             "supported", (int)p[0], (const char *)p + 1);
    if (f)
        *f = format;
    return gj__gremlin_request_decode_payload(out, format, p + 1 + p[0], len - 1 - p[0],
                                              max_depth, err);
}

/* ---- request arguments ---------------------------------------------------------------------- */

static int put_string_arg(gj_value *map, const char *key, const char *s, gj_error *err)
{
    if (!s)
        return 0;
    gj_value *v;
    int rc = gj_value_new_string(&v, s, strlen(s));
    if (rc == 0)
        rc = gj_value_map_put_str(map, key, v);
    return rc ? gj__error_set(err, rc, "cannot build the Gremlin argument %s (%s)", key,
                              gj_strerror(rc)) : 0;
}

static int put_arg(gj_value *map, const char *key, gj_value *v, gj_error *err)
{
    int rc = v ? gj_value_map_put_str(map, key, v) : GJ_ENOMEM;
    return rc ? gj__error_set(err, rc, "cannot build the Gremlin argument %s", key) : 0;
}

int gj__gremlin_args_new(gj_value **out, const gj_gremlin_args *a, gj_error *err)
{
    *out = NULL;
    if ((a->bindings && gj_value_type(a->bindings) != GJ_TMAP) ||
        (a->aliases && gj_value_type(a->aliases) != GJ_TMAP))
        return gj__error_set(err, GJ_EINVAL, "Gremlin bindings and aliases must be maps");
    gj_value *map;
    if (gj_value_new_map(&map, 8) != 0)
        return gj__error_set(err, GJ_ENOMEM, "out of memory building Gremlin arguments");
    int rc = put_string_arg(map, "gremlin", a->gremlin, err);
    if (rc == 0 && a->bindings)
        rc = put_arg(map, "bindings", gj_value_ref(a->bindings), err);
    if (rc == 0)
        rc = put_string_arg(map, "language", a->language, err);
    if (rc == 0 && a->aliases)
        rc = put_arg(map, "aliases", gj_value_ref(a->aliases), err);
    if (rc == 0 && a->evaluation_timeout >= 0) {
        gj_value *v = NULL;
        gj_value_new_int_bits(&v, a->evaluation_timeout, 64);
        rc = put_arg(map, "evaluationTimeout", v, err);
    }
    if (rc == 0 && a->batch_size > 0) {
        gj_value *v = NULL;
        gj_value_new_int_bits(&v, a->batch_size, 32);
        rc = put_arg(map, "batchSize", v, err);
    }
    if (rc == 0)
        rc = put_string_arg(map, "userAgent", a->user_agent, err);
    if (rc == 0)
        rc = put_string_arg(map, "session", a->session, err);
    if (rc == 0 && a->manage_transaction >= 0)
        rc = put_arg(map, "manageTransaction", gj_value_bool(a->manage_transaction != 0), err);
    if (rc == 0)
        rc = put_string_arg(map, "sasl", a->sasl, err);
    if (rc == 0)
        rc = put_string_arg(map, "saslMechanism", a->sasl_mechanism, err);
    if (rc) {
        gj_value_unref(map);
        return rc;
    }
    *out = map;
    return 0;
}

static int arg_error(const char *key, const char *want, const gj_value *v, gj_error *err)
{
    return gj__error_set(err, GJ_EINVAL, "the Gremlin argument %s is a %s, not %s", key,
                         gj_type_name(gj_value_type(v)), want);
}

static int read_string_arg(const gj_value *args, const char *key, const char **out,
                           gj_error *err)
{
    const gj_value *v = gj_value_map_get(args, key);
    size_t len;
    if (!v || gj_value_type(v) == GJ_TNULL)
        return 0;
    if (gj_value_string_get(v, out, &len) != 0)
        return arg_error(key, "a string", v, err);
    return 0;
}

int gj__gremlin_args_read(const gj_value *args, gj_gremlin_args *out, gj_error *err)
{
    static const gj_gremlin_args init = GJ_GREMLIN_ARGS_INIT;
    *out = init;
    if (!args)
        return 0;
    if (gj_value_type(args) != GJ_TMAP)
        return arg_error("args", "a map", args, err);
    const gj_value *v;
    int64_t i;
    int rc = read_string_arg(args, "gremlin", &out->gremlin, err);
    if (rc == 0)
        rc = read_string_arg(args, "language", &out->language, err);
    if (rc == 0)
        rc = read_string_arg(args, "userAgent", &out->user_agent, err);
    if (rc == 0)
        rc = read_string_arg(args, "session", &out->session, err);
    if (rc == 0)
        rc = read_string_arg(args, "saslMechanism", &out->sasl_mechanism, err);
    if (rc)
        return rc;
    if ((v = gj_value_map_get(args, "sasl")) != NULL && gj_value_type(v) != GJ_TNULL &&
        gj_value_bytes_get(v, &out->sasl_bytes, &out->sasl_bytes_len) != 0 &&
        (rc = read_string_arg(args, "sasl", &out->sasl, err)) != 0)
        return rc;
    static const char *const maps[] = {"bindings", "aliases"};
    for (int k = 0; k < 2; k++) {
        v = gj_value_map_get(args, maps[k]);
        if (!v || gj_value_type(v) == GJ_TNULL)
            continue;
        if (gj_value_type(v) != GJ_TMAP)
            return arg_error(maps[k], "a map", v, err);
        size_t n = gj_value_size(v);
        for (size_t j = 0; j < n; j++) {
            const gj_value *key = gj_value_map_key_at(v, j);
            if (gj_value_type(key) != GJ_TSTRING)
                return arg_error(k ? "aliases key" : "bindings key", "a string", key, err);
            if (k && gj_value_type(gj_value_map_value_at(v, j)) != GJ_TSTRING)
                return arg_error("aliases value", "a string", gj_value_map_value_at(v, j), err);
        }
        *(k ? &out->aliases : &out->bindings) = v;
    }
    if ((v = gj_value_map_get(args, "evaluationTimeout")) != NULL && gj_value_type(v) != GJ_TNULL) {
        if (gj_value_int_get(v, &i) != 0 || i < 0)
            return arg_error("evaluationTimeout", "a count of milliseconds", v, err);
        out->evaluation_timeout = i;
    }
    if ((v = gj_value_map_get(args, "batchSize")) != NULL && gj_value_type(v) != GJ_TNULL) {
        if (gj_value_int_get(v, &i) != 0 || i <= 0 || i > INT32_MAX)
            return arg_error("batchSize", "a positive Int", v, err);
        out->batch_size = (int32_t)i;
    }
    if ((v = gj_value_map_get(args, "manageTransaction")) != NULL && gj_value_type(v) != GJ_TNULL) {
        bool b;
        if (gj_value_bool_get(v, &b) != 0)
            return arg_error("manageTransaction", "a boolean", v, err);
        out->manage_transaction = b;
    }
    return 0;
}

/* ---- responses ------------------------------------------------------------------------------ */

void gj__gremlin_response_clear(gj_gremlin_response *resp)
{
    if (!resp)
        return;
    gj_value_unref(resp->status_message);
    gj_value_unref(resp->status_attributes);
    gj_value_unref(resp->result_meta);
    gj_value_unref(resp->result_data);
    memset(resp, 0, sizeof *resp);
}

int gj__gremlin_response_encode(gj_ps_buf *out, gj_gremlin_format f,
                                const gj_gremlin_response *resp, gj_error *err)
{
    if ((unsigned)f > GJ_GREMLIN_GRAPHSON_V2)
        return bad_format(f, err);
    const char *msg = NULL;
    size_t msg_len = 0;
    if (resp->status_message && gj_value_string_get(resp->status_message, &msg, &msg_len) != 0)
        return gj__error_set(err, GJ_EINVAL, "a Gremlin status message is a %s, not a string",
                             gj_type_name(gj_value_type(resp->status_message)));
    int rc;
    if (f == GJ_GREMLIN_GRAPHBINARY_V1) {
        rc = gj__gb_put_u8(out, GJ_GB_VERSION);
        if (rc == 0)
            rc = gj__gb_put_u8(out, resp->has_request_id ? GJ_GB_FLAG_VALUE : GJ_GB_FLAG_NULL);
        if (rc == 0 && resp->has_request_id)
            rc = gj__gb_put_uuid(out, resp->request_id);
        if (rc == 0)
            rc = gj__gb_put_int(out, resp->status_code);
        if (rc == 0)
            rc = gj__gb_put_u8(out, msg ? GJ_GB_FLAG_VALUE : GJ_GB_FLAG_NULL);
        if (rc == 0 && msg)
            rc = gj__gb_put_string(out, msg, msg_len);
        if (rc == 0)
            rc = gj__gb_put_map(out, resp->status_attributes, 0, err);
        if (rc == 0)
            rc = gj__gb_put_map(out, resp->result_meta, 0, err);
        if (rc == 0)
            rc = gj__gb_put_value(out, resp->result_data, 0, err);
    } else {
        char id[37];
        uuid_text(resp->request_id, id);
        rc = gj__graphson_put_raw(out, "{");
        if (rc == 0)
            rc = put_key(out, "requestId", true);
        if (rc == 0)
            rc = resp->has_request_id ? gj__graphson_put_string(out, id, 36)
                                      : gj__graphson_put_raw(out, "null");
        if (rc == 0)
            rc = put_key(out, "status", false);
        if (rc == 0)
            rc = gj__graphson_put_raw(out, "{");
        if (rc == 0)
            rc = put_key(out, "message", true);
        if (rc == 0)
            rc = msg ? gj__graphson_put_string(out, msg, msg_len) : gj__graphson_put_raw(out, "null");
        if (rc == 0)
            rc = put_key(out, "code", false);
        if (rc == 0)
            rc = gj__graphson_put_int(out, resp->status_code);
        if (rc == 0)
            rc = put_key(out, "attributes", false);
        if (rc == 0)
            rc = put_map_member(out, f, resp->status_attributes, err);
        if (rc == 0)
            rc = gj__graphson_put_raw(out, "}");
        if (rc == 0)
            rc = put_key(out, "result", false);
        if (rc == 0)
            rc = gj__graphson_put_raw(out, "{");
        if (rc == 0)
            rc = put_key(out, "data", true);
        if (rc == 0)
            rc = gj__graphson_put_value(out, graphson_version(f), resp->result_data, err);
        if (rc == 0)
            rc = put_key(out, "meta", false);
        if (rc == 0)
            rc = put_map_member(out, f, resp->result_meta, err);
        if (rc == 0)
            rc = gj__graphson_put_raw(out, "}}");
    }
    return rc && out->error ? gj__ps_buf_check(out, err) : rc;
}

static int response_graphbinary(gj_gremlin_response *out, const void *data, size_t len,
                                unsigned max_depth, gj_error *err)
{
    gj_gb_reader r;
    gj__gb_reader_init(&r, data, len, max_depth);
    uint8_t flag;
    int rc = gb_version(&r, "response", err);
    if (rc == 0)
        rc = gj__gb_read_u8(&r, "response request id flag", &flag, err);
    if (rc == 0 && flag == GJ_GB_FLAG_VALUE) {
        out->has_request_id = true;
        rc = gj__gb_read_uuid(&r, "response request id", out->request_id, err);
    } else if (rc == 0 && flag != GJ_GB_FLAG_NULL) {
        rc = gj__error_set(err, GJ_EPROTOCOL, "GraphBinary response request id flag at byte 1 "
                           "is 0x%02X", flag);
    }
    if (rc == 0)
        rc = gj__gb_read_int(&r, "response status code", &out->status_code, err);
    size_t at = r.pos;
    if (rc == 0)
        rc = gj__gb_read_u8(&r, "response status message flag", &flag, err);
    if (rc == 0 && flag == GJ_GB_FLAG_VALUE)
        rc = gj__gb_read_string(&r, "response status message", &out->status_message, err);
    else if (rc == 0 && flag != GJ_GB_FLAG_NULL)
        rc = gj__error_set(err, GJ_EPROTOCOL, "GraphBinary response status message flag at byte "
                           "%zu is 0x%02X", at, flag);
    if (rc == 0)
        rc = gj__gb_read_map(&r, 0, "response status attributes", &out->status_attributes, err);
    if (rc == 0)
        rc = gj__gb_read_map(&r, 0, "response meta", &out->result_meta, err);
    if (rc == 0)
        rc = gj__gb_read_value(&r, 0, &out->result_data, err);
    if (rc == 0 && gj_value_type(out->result_data) == GJ_TNULL)
        out->result_data = NULL;   /* an immortal null: nothing to release */
    if (rc == 0)
        rc = gb_end(&r, "response", err);
    return rc;
}

static int response_graphson(gj_gremlin_response *out, gj_gremlin_format f, const void *data,
                             size_t len, unsigned max_depth, gj_error *err)
{
    gj_value *doc = NULL;
    int rc = decode_document(&doc, f, data, len, max_depth, "response", err);
    if (rc)
        return rc;
    const gj_value *status = gj_value_map_get(doc, "status"), *result = gj_value_map_get(doc, "result");
    const gj_value *code = gj_value_map_get(status, "code"), *msg = gj_value_map_get(status, "message");
    int64_t c;
    rc = request_id_of(gj_value_map_get(doc, "requestId"), out->request_id, &out->has_request_id,
                       err);
    if (rc == 0 && gj_value_type(status) != GJ_TMAP)
        rc = gj__error_set(err, GJ_EPROTOCOL, "GraphSON response has no status object");
    if (rc == 0 && (gj_value_int_get(code, &c) != 0 || c < INT32_MIN || c > INT32_MAX))
        rc = gj__error_set(err, GJ_EPROTOCOL, "GraphSON response status.code is not an Int");
    if (rc == 0) {
        out->status_code = (int32_t)c;
        if (msg && gj_value_type(msg) == GJ_TSTRING)
            out->status_message = gj_value_ref(msg);
        else if (msg && gj_value_type(msg) != GJ_TNULL)
            rc = gj__error_set(err, GJ_EPROTOCOL, "GraphSON response status.message is not a "
                               "string");
    }
    if (rc == 0)
        rc = take_map(status, "attributes", "response status", &out->status_attributes, err);
    if (rc == 0 && result && gj_value_type(result) != GJ_TMAP && gj_value_type(result) != GJ_TNULL)
        rc = gj__error_set(err, GJ_EPROTOCOL, "GraphSON response result is not an object");
    if (rc == 0 && result) {
        const gj_value *d = gj_value_map_get(result, "data");
        out->result_data = d && gj_value_type(d) != GJ_TNULL ? gj_value_ref(d) : NULL;
        rc = take_map(result, "meta", "response result", &out->result_meta, err);
    }
    gj_value_unref(doc);
    return rc;
}

int gj__gremlin_response_decode(gj_gremlin_response *out, gj_gremlin_format f, const void *data,
                                size_t len, unsigned max_depth, gj_error *err)
{
    memset(out, 0, sizeof *out);
    if ((unsigned)f > GJ_GREMLIN_GRAPHSON_V2)
        return bad_format(f, err);
    int rc = f == GJ_GREMLIN_GRAPHBINARY_V1 ? response_graphbinary(out, data, len, max_depth, err)
                                            : response_graphson(out, f, data, len, max_depth, err);
    if (rc)
        gj__gremlin_response_clear(out);
    return rc;
}
