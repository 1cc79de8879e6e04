/* request.c — the top half of a request, as Gremlin Server 3.7 handles it.
 *
 * The pipeline, in Gremlin Server's order:
 *   1. decode: a binary frame is [mime length][mime][payload]; an unknown
 *      mime falls back to GraphBinary (WsGremlinBinaryRequestDecoder); a text
 *      frame is GraphSON 3.0 and is answered in text frames.  What does not
 *      decode becomes RequestMessage.INVALID (no request id).
 *   2. SASL PLAIN (SaslAuthenticationHandler) when --user is set: the first
 *      request is kept and answered 407; other requests wait until the
 *      authentication ends; op "authentication" with args.sasl =
 *      base64("\0user\0password") then runs the kept request (and those that
 *      waited), or answers them 401.  An authenticated connection stays so.
 *   3. processor selection (OpSelectorHandler): "" (StandardOpProcessor),
 *      "session" (SessionOpProcessor), "traversal" (TraversalOpProcessor),
 *      anything else 499 "Invalid OpProcessor requested [x]".
 *   4. op selection and argument validation, with the server's messages:
 *      an unknown op 498, a missing gremlin / session / aliases 499, ...
 * The evaluation, the responses and the sessions are task.c's. */
#include "gs.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* ---- validation (the op processors' select()) ------------------------------------------ */

static bool binding_keys_ok(gs_task *t, const gj_value *bindings)
{
    static const char *const reserved[] = {
        "id", "key", "label", "value", "ID", "KEY", "LABEL", "VALUE",              /* T */
        "keys", "values",                                                          /* Column */
        "asc", "desc", "shuffle",                                                  /* Order */
        "sum", "minus", "mult", "div", "min", "max", "assign", "and", "or", "addAll", "sumLong",
        "global", "local",                                                         /* Scope */
        "first", "last", "all", "mixed",                                           /* Pop */
        NULL,
    };
    char bad[600] = "";
    size_t n = gj_value_size(bindings), len = 0;
    for (size_t i = 0; i < n; i++) {
        const char *k;
        size_t kl;
        gj_value_string_get(gj_value_map_key_at(bindings, i), &k, &kl);
        if (gs_in_list(k, reserved) && len + kl + 3 < sizeof bad)
            len += (size_t)snprintf(bad + len, sizeof bad - len, "%s%s", len ? ", " : "", k);
    }
    if (len) {
        gs_respond_error(t->conn, &t->req->to, GJ_GREMLIN_REQUEST_ERROR_INVALID_REQUEST_ARGUMENTS,
                      "The [eval] message supplies one or more invalid parameters key of [[%s]] - these are "
                      "reserved names.", bad);
        return false;
    }
    size_t counted = 0;
    for (size_t i = 0; i < n; i++) {
        const char *k;
        size_t kl;
        gj_value_string_get(gj_value_map_key_at(bindings, i), &k, &kl);
        if (strncmp(k, "#jsr223", 7) != 0)
            counted++;
    }
    if (counted > 16) {
        gs_respond_error(t->conn, &t->req->to, GJ_GREMLIN_REQUEST_ERROR_INVALID_REQUEST_ARGUMENTS,
                      "The [eval] message contains %zu bindings which is more than is allowed by the server 16 "
                      "configuration", n);
        return false;
    }
    return true;
}

/* Read the args of an eval/close request; false when answered (499). */
static bool read_args(gs_task *t)
{
    const gj_value *args = t->req->msg.args;
    const gj_value *bindings = args ? gj_value_map_get(args, "bindings") : NULL;
    for (size_t i = 0; gj_value_type(bindings) == GJ_TMAP && i < gj_value_size(bindings); i++)
        if (gj_value_type(gj_value_map_key_at(bindings, i)) != GJ_TSTRING) {
            gs_respond_error(t->conn, &t->req->to, GJ_GREMLIN_REQUEST_ERROR_INVALID_REQUEST_ARGUMENTS,
                          "The [eval] message is using one or more invalid binding keys - they must be of type "
                          "String and cannot be null");
            return false;
        }
    gj_error *err = gj_error_new();
    int rc = gj__gremlin_args_read(args, &t->args, err);
    if (rc != 0)
        gs_respond_error(t->conn, &t->req->to, GJ_GREMLIN_REQUEST_ERROR_INVALID_REQUEST_ARGUMENTS, "%s",
                      gj_error_message(err));
    gj_error_free(err);
    return rc == 0;
}

static bool eval_ok(gs_task *t, bool in_session)
{
    if (!read_args(t))
        return false;
    if (!t->args.gremlin) {
        gs_respond_error(t->conn, &t->req->to, GJ_GREMLIN_REQUEST_ERROR_INVALID_REQUEST_ARGUMENTS,
                      "A message with an [eval] op code requires a [gremlin] argument.");
        return false;
    }
    if (t->args.bindings && !binding_keys_ok(t, t->args.bindings))
        return false;
    if (in_session && !t->args.session) {
        gs_respond_error(t->conn, &t->req->to, GJ_GREMLIN_REQUEST_ERROR_INVALID_REQUEST_ARGUMENTS,
                      "A message with an [eval] op code requires a [session] argument");
        return false;
    }
    return true;
}

static void not_recognized(gs_task *t)
{
    gs_respond_error(t->conn, &t->req->to, GJ_GREMLIN_REQUEST_ERROR_MALFORMED_REQUEST,
                  "Message with op code [%s] is not recognized.", t->req->msg.op);
}

/* Returns true when the task is still alive (queued or waiting). */
static bool op_standard(gs_task *t)
{
    if (strcmp(t->req->msg.op, "eval") != 0) {
        not_recognized(t);
        return false;
    }
    if (!eval_ok(t, false))
        return false;
    return gs_task_run(t);
}

static bool op_session(gs_task *t)
{
    const char *op = t->req->msg.op;
    if (!strcmp(op, "close")) {
        if (!read_args(t))
            return false;
        if (!t->args.session) {
            gs_respond_error(t->conn, &t->req->to, GJ_GREMLIN_REQUEST_ERROR_INVALID_REQUEST_ARGUMENTS,
                             "A message with an [close] op code requires a [session] argument");
            return false;
        }
        gs_session_close(t->args.session);
        gs_respond(t->conn, &t->req->to, GJ_GREMLIN_NO_CONTENT, "", NULL, NULL);
        return false;
    }
    if (strcmp(op, "eval") != 0) {
        not_recognized(t);
        return false;
    }
    return eval_ok(t, true) && gs_session_submit(t);
}

static bool op_traversal(gs_task *t)
{
    gs_conn *c = t->conn;
    if (strcmp(t->req->msg.op, "bytecode") != 0) {
        not_recognized(t);
        return false;
    }
    const gj_value *args = t->req->msg.args;
    const gj_value *gremlin = args ? gj_value_map_get(args, "gremlin") : NULL;
    const gj_value *aliases = args ? gj_value_map_get(args, "aliases") : NULL;
    if (!gremlin || gj_value_type(gremlin) == GJ_TNULL) {
        gs_respond_error(c, &t->req->to, GJ_GREMLIN_REQUEST_ERROR_INVALID_REQUEST_ARGUMENTS,
                      "A message with [bytecode] op code requires a [gremlin] argument.");
        return false;
    }
    if (!aliases || gj_value_type(aliases) != GJ_TMAP) {
        gs_respond_error(c, &t->req->to, GJ_GREMLIN_REQUEST_ERROR_INVALID_REQUEST_ARGUMENTS,
                      "A message with [bytecode] op code requires a [aliases] argument.");
        return false;
    }
    if (gj_value_size(aliases) != 1) {
        gs_respond_error(c, &t->req->to, GJ_GREMLIN_REQUEST_ERROR_INVALID_REQUEST_ARGUMENTS,
                      "A message with [bytecode] op code requires the [aliases] argument to be a Map containing one "
                      "alias assignment.");
        return false;
    }
    const char *k = "", *v = "";
    size_t len;
    gj_value_string_get(gj_value_map_key_at(aliases, 0), &k, &len);
    gj_value_string_get(gj_value_map_value_at(aliases, 0), &v, &len);
    if (!gs_is_traversal_source(v)) {
        gs_respond_error(c, &t->req->to, GJ_GREMLIN_REQUEST_ERROR_INVALID_REQUEST_ARGUMENTS,
                      "The traversal source [%s] for alias [%s] is not configured on the server.", v, k);
        return false;
    }
    const char *tag = NULL;
    const gj_value *inner = NULL;
    char why[512];
    if (gj_value_tagged_get(gremlin, &tag, &inner) != 0 || strcmp(tag, "g:Bytecode") != 0 ||
        gs_bytecode_plan(inner, &t->plan, why, sizeof why) != 0) {
        if (!tag || strcmp(tag, "g:Bytecode") != 0)
            snprintf(why, sizeof why, "the gremlin argument is not Bytecode");
        gs_respond_error(c, &t->req->to, GJ_GREMLIN_SERVER_ERROR_SERIALIZATION, "%s", why);
        return false;
    }
    t->bytecode = true;
    static const gj_gremlin_args init = GJ_GREMLIN_ARGS_INIT;
    t->args = init;
    const gj_value *bs = gj_value_map_get(args, "batchSize");
    int64_t i;
    if (bs && gj_value_int_get(bs, &i) == 0 && i > 0 && i <= INT32_MAX)
        t->args.batch_size = (int32_t)i;
    return gs_task_run(t);
}

void gs_select_op(gs_task *t)
{
    const char *processor = t->req->msg.processor;
    bool alive;
    if (!strcmp(processor, ""))
        alive = op_standard(t);
    else if (!strcmp(processor, "session"))
        alive = op_session(t);
    else if (!strcmp(processor, "traversal"))
        alive = op_traversal(t);
    else {
        gs_respond_error(t->conn, &t->req->to, GJ_GREMLIN_REQUEST_ERROR_INVALID_REQUEST_ARGUMENTS,
                      "Invalid OpProcessor requested [%s]", processor);
        alive = false;
    }
    if (!alive)
        gs_task_free(t);
}

/* After authentication: Gremlin Server's OpSelectorHandler and below. */
static void dispatch(gs_conn *c, gs_request *r)
{
    char id[37];
    if (!r->valid) {
        gs_log("REQUEST invalid null %s %s", gs_uuid_text(&r->to, id), r->mime);
        gs_respond_error(c, &r->to, GJ_GREMLIN_REQUEST_ERROR_MALFORMED_REQUEST,
                      "Message could not be parsed.  Check the format of the request. [RequestMessage{, "
                      "requestId=null, op='invalid', processor='null', args={}}]");
        gs_request_free(r);
        return;
    }
    const gj_value *args = r->msg.args;
    const char *script = NULL;
    size_t len;
    if (args)
        gj_value_string_get(gj_value_map_get(args, "gremlin"), &script, &len);
    gs_log("REQUEST %s %s %s %s", r->msg.op, r->msg.processor[0] ? r->msg.processor : "\"\"",
           gs_uuid_text(&r->to, id), r->mime);
    if (script)
        gs_log("SCRIPT %s", script);
    gs_task *t = gs_task_new(c, r);
    if (!t)
        return;
    gs_fault *stall = gs_fault_take(gs_srv->cfg.faults, gs_srv->cfg.n_faults, GS_FAULT_STALL, script);
    if (stall) {
        gs_log("stall fault: holding the request %s", stall->secs > 0 ? "for a while" : "until the connection closes");
        gs_task_stall(t, stall->secs);
        return;
    }
    gs_select_op(t);
}

/* ---- SASL PLAIN (SaslAuthenticationHandler) --------------------------------------------- */

static void deferred_push(gs_conn *c, gs_request *r)
{
    r->next = NULL;
    if (c->deferred_tail)
        c->deferred_tail->next = r;
    else
        c->deferred_head = r;
    c->deferred_tail = r;
}

/* respondWithError(): the request itself unless it is the authentication
 * one, the kept first request, and every deferred request. */
static void auth_fail(gs_conn *c, gs_request *r, int code, const char *msg)
{
    bool is_auth = r->valid && !strcmp(r->msg.op, "authentication");
    if (!is_auth)
        gs_respond(c, &r->to, code, msg, NULL, NULL);
    if (c->auth_original)
        gs_respond(c, &c->auth_original->to, code, msg, NULL, NULL);
    while (c->deferred_head) {
        gs_request *d = c->deferred_head;
        c->deferred_head = d->next;
        gs_respond(c, &d->to, code, msg, NULL, NULL);
        if (d != r)
            gs_request_free(d);
    }
    c->deferred_tail = NULL;
    if (is_auth || r != c->auth_original)
        gs_request_free(r);
}

static int base64_value(char ch)
{
    if (ch >= 'A' && ch <= 'Z')
        return ch - 'A';
    if (ch >= 'a' && ch <= 'z')
        return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9')
        return ch - '0' + 52;
    return ch == '+' ? 62 : ch == '/' ? 63 : -1;
}

/* Java's Base64.getDecoder(): padding optional at the end, nothing else. */
static int base64_decode(const char *s, size_t len, unsigned char *out, size_t *n)
{
    unsigned acc = 0;
    int bits = 0;
    size_t i = 0;
    *n = 0;
    for (; i < len && s[i] != '='; i++) {
        int v = base64_value(s[i]);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[(*n)++] = (unsigned char)(acc >> bits);
        }
    }
    size_t pad = len - i;
    for (; i < len; i++)
        if (s[i] != '=')
            return -1;
    return (pad > 2 || bits >= 6) ? -1 : 0;
}

/* SimpleAuthenticator's PLAIN negotiator: NULL when the credentials are
 * right, else AuthenticationException's message. */
static const char *plain_check(const unsigned char *b, size_t n)
{
    const unsigned char *user = NULL, *pass = NULL;
    size_t user_len = 0, pass_len = 0, end = n;
    for (size_t i = n; i-- > 0;) {
        if (b[i] != 0)
            continue;
        if (!pass) {
            pass = b + i + 1;
            pass_len = end - i - 1;
        } else if (!user) {
            user = b + i + 1;
            user_len = end - i - 1;
        }
        end = i;
    }
    if (!user)
        return "Authentication ID must not be null";
    if (!pass)
        return "Password must not be null";
    const gs_config *cfg = &gs_srv->cfg;
    if (user_len != strlen(cfg->user) || memcmp(user, cfg->user, user_len) != 0 ||
        pass_len != strlen(cfg->password) || memcmp(pass, cfg->password, pass_len) != 0)
        return "Username and/or password are incorrect";
    return NULL;
}

static void authenticate(gs_conn *c, gs_request *r)
{
    if (c->auth_state == 0) {
        /* First time through: keep the request, challenge with no data. */
        c->auth_state = 1;
        c->auth_original = r;
        gs_respond(c, &r->to, GJ_GREMLIN_AUTHENTICATE, "", NULL, NULL);
        return;
    }
    if (!r->valid || strcmp(r->msg.op, "authentication") != 0) {
        double now = gs_now();
        if (!c->deferred_head)
            c->deferred_since = now;
        deferred_push(c, r);
        if (now - c->deferred_since > 5.0)
            auth_fail(c, r, GJ_GREMLIN_UNAUTHORIZED,
                      "Authentication did not finish in the allowed duration (PT5Ss).");
        return;
    }
    const gj_value *sasl = r->msg.args ? gj_value_map_get(r->msg.args, "sasl") : NULL;
    if (!sasl) {
        auth_fail(c, r, GJ_GREMLIN_UNAUTHORIZED, "Failed to authenticate");
        return;
    }
    const char *text;
    size_t len;
    unsigned char *raw = NULL;
    size_t raw_len = 0;
    if (gj_value_string_get(sasl, &text, &len) != 0 || !(raw = malloc(len + 1)) ||
        base64_decode(text, len, raw, &raw_len) != 0) {
        free(raw);
        auth_fail(c, r, GJ_GREMLIN_REQUEST_ERROR_MALFORMED_REQUEST,
                  "Incorrect type for : sasl - base64 encoded String is expected");
        return;
    }
    const char *why = plain_check(raw, raw_len);
    free(raw);
    if (why) {
        gs_log("authentication failed: %s", why);
        auth_fail(c, r, GJ_GREMLIN_UNAUTHORIZED, why);
        return;
    }
    gs_log("connection %lu authenticated", c->id);
    c->auth_state = 2;
    gs_request_free(r);
    gs_request *original = c->auth_original;
    c->auth_original = NULL;
    gs_request *d = c->deferred_head;
    c->deferred_head = c->deferred_tail = NULL;
    if (original)
        dispatch(c, original);
    while (d) {
        gs_request *next = d->next;
        dispatch(c, d);
        d = next;
    }
}

/* ---- decoding ------------------------------------------------------------------------------ */

void gs_request_received(gs_conn *c, const unsigned char *data, size_t len, bool text)
{
    gs_request *r = calloc(1, sizeof *r);
    if (!r)
        return;
    gj_error *err = gj_error_new();
    r->to.fmt = GJ_GREMLIN_GRAPHBINARY_V1;
    r->mime = GJ_GREMLIN_MIME_GRAPHBINARY_V1;
    int rc = -1;
    if (text) {
        r->to.fmt = GJ_GREMLIN_GRAPHSON_V3;
        r->to.text = true;
        r->mime = "application/json (text frame)";
        rc = gj__gremlin_request_decode_payload(&r->msg, GJ_GREMLIN_GRAPHSON_V3, data, len, 0, err);
    } else if (len > 0 && data[0] > 0 && data[0] < 0x80 && (size_t)data[0] + 1 <= len) {
        size_t mlen = data[0];
        gj_gremlin_format f;
        if (gj__gremlin_format_from_mime((const char *)data + 1, mlen, &f) == 0) {
            r->to.fmt = f;
            r->mime = gj__gremlin_mime(f);
        } else {
            gs_log("no serializer for the requested mime type [%.*s] - using GraphBinary by default", (int)mlen,
                   (const char *)data + 1);
        }
        rc = gj__gremlin_request_decode_payload(&r->msg, r->to.fmt, data + 1 + mlen, len - 1 - mlen, 0, err);
    }
    if (rc == 0) {
        r->valid = true;
        r->to.has_id = true;
        memcpy(r->to.id, r->msg.request_id, 16);
    } else {
        gs_log("undecodable request (%s)", text ? "text" : "binary");
        if (gj_error_code(err))
            gs_log("  %s", gj_error_message(err));
    }
    gj_error_free(err);
    if (gs_srv->cfg.user && c->auth_state != 2)
        authenticate(c, r);
    else
        dispatch(c, r);
}

