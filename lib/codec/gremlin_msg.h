/*
 * Gremlin Server (TinkerPop 3) request and response messages for the three
 * serializers: GraphBinary 1.0, GraphSON 3.0 and GraphSON 2.0.  No I/O: bytes
 * in, structs out, and back.  See ../shared/PROTOCOLS.md section 2.
 *
 * A request travels as one binary WebSocket frame [mime length][mime]
 * [payload]; the mime type names the serializer of the payload and of the
 * responses.  Responses carry no mime prefix.
 *
 *   request   {requestId (UUID), op, processor, args (map)}
 *     GraphBinary: {0x81}{UUID}{String op}{String processor}{Map args}
 *     GraphSON:    {"requestId": "<uuid>", "op", "processor", "args": map}
 *   response  {requestId, status {code, message, attributes}, result {data, meta}}
 *     GraphBinary: {0x81}{nullable UUID}{Int code}{nullable String message}
 *                  {Map attributes}{Map meta}{fully qualified data}
 *     GraphSON:    {"requestId", "status": {"message", "code", "attributes"},
 *                   "result": {"data", "meta"}}
 * (a nullable value-only field is a flag byte 0x00 followed by the value, or
 * 0x01 alone).  GraphSON maps are g:Map in 3.0 and objects in 2.0; the
 * decoders also take a typed g:UUID request id and an args object in 3.0, as
 * the official drivers send them.
 *
 * Errors: GJ_EPROTOCOL naming the field and the byte offset or JSON path,
 * GJ_EUNSUPPORTED for an unknown mime type or GraphBinary version byte.
 *
 * Threading: no shared state; the structs belong to their caller.
 */
#ifndef GJ_CODEC_GREMLIN_MSG_H
#define GJ_CODEC_GREMLIN_MSG_H

#include "codec/graphbinary.h"
#include "codec/graphson.h"

typedef enum gj_gremlin_format {
    GJ_GREMLIN_GRAPHBINARY_V1 = 0,
    GJ_GREMLIN_GRAPHSON_V3 = 1,
    GJ_GREMLIN_GRAPHSON_V2 = 2
} gj_gremlin_format;

#define GJ_GREMLIN_MIME_GRAPHBINARY_V1 "application/vnd.graphbinary-v1.0"
#define GJ_GREMLIN_MIME_GRAPHSON_V3 "application/vnd.gremlin-v3.0+json"
#define GJ_GREMLIN_MIME_GRAPHSON_V2 "application/vnd.gremlin-v2.0+json"

/* The mime type of a format (a static string). */
const char *gj__gremlin_mime(gj_gremlin_format f);
/* The format of a mime type: 0, or GJ_EUNSUPPORTED. */
int gj__gremlin_format_from_mime(const char *mime, size_t len, gj_gremlin_format *out);

/* Response status codes. */
enum {
    GJ_GREMLIN_SUCCESS = 200,
    GJ_GREMLIN_NO_CONTENT = 204,
    GJ_GREMLIN_PARTIAL_CONTENT = 206,
    GJ_GREMLIN_UNAUTHORIZED = 401,
    GJ_GREMLIN_FORBIDDEN = 403,
    GJ_GREMLIN_AUTHENTICATE = 407,
    GJ_GREMLIN_REQUEST_ERROR_SERIALIZATION = 497,
    GJ_GREMLIN_REQUEST_ERROR_MALFORMED_REQUEST = 498,
    GJ_GREMLIN_REQUEST_ERROR_INVALID_REQUEST_ARGUMENTS = 499,
    GJ_GREMLIN_SERVER_ERROR = 500,
    GJ_GREMLIN_SERVER_ERROR_FAIL_STEP = 595,
    GJ_GREMLIN_SERVER_ERROR_TEMPORARY = 596,
    GJ_GREMLIN_SERVER_ERROR_EVALUATION = 597,
    GJ_GREMLIN_SERVER_ERROR_TIMEOUT = 598,
    GJ_GREMLIN_SERVER_ERROR_SERIALIZATION = 599
};

/* ---- requests -------------------------------------------------------------- */

typedef struct gj_gremlin_request {
    uint8_t request_id[16];
    const char *op;          /* "eval", "authentication", "close", "bytecode", ... */
    const char *processor;   /* "" (standard), "session", "traversal" */
    gj_value *args;          /* a map with string keys; NULL = none */
    char *storage_;          /* a decoded request's op and processor live here */
} gj_gremlin_request;

/* Encode [mime length][mime][payload] (appended to out).  req is borrowed. */
int gj__gremlin_request_encode(gj_ps_buf *out, gj_gremlin_format f,
                               const gj_gremlin_request *req, gj_error *err);

/* Decode a whole frame: the mime prefix selects the format (*f, may be
 * NULL).  *out owns what it holds: release with gj__gremlin_request_clear.
 * max_depth 0 = GJ_GREMLIN_DEFAULT_MAX_DEPTH. */
int gj__gremlin_request_decode(gj_gremlin_request *out, gj_gremlin_format *f,
                               const void *frame, size_t len, unsigned max_depth,
                               gj_error *err);
/* The same for a payload whose format is known. */
int gj__gremlin_request_decode_payload(gj_gremlin_request *out, gj_gremlin_format f,
                                       const void *payload, size_t len, unsigned max_depth,
                                       gj_error *err);
/* Release a decoded request (zeroes it). */
void gj__gremlin_request_clear(gj_gremlin_request *req);

/* The arguments of eval, authentication and close requests. */
typedef struct gj_gremlin_args {
    const char *gremlin;          /* the script */
    const gj_value *bindings;     /* a map with string keys, or NULL */
    const char *language;         /* "gremlin-groovy", ... or NULL */
    const gj_value *aliases;      /* a map string -> string, or NULL */
    int64_t evaluation_timeout;   /* milliseconds; < 0 = absent */
    int32_t batch_size;           /* <= 0 = absent */
    const char *user_agent;
    const char *session;          /* the session id (a UUID's text) */
    int manage_transaction;       /* -1 = absent, 0 = false, 1 = true */
    const char *sasl;             /* base64 of the SASL response */
    const char *sasl_mechanism;   /* "PLAIN" */
    /* Set by gj__gremlin_args_read only: a sasl argument sent as bytes. */
    const uint8_t *sasl_bytes;
    size_t sasl_bytes_len;
} gj_gremlin_args;

#define GJ_GREMLIN_ARGS_INIT {.evaluation_timeout = -1, .manage_transaction = -1}

/* The args map of a request (absent members left out), with Gremlin
 * Server's types: evaluationTimeout a Long, batchSize an Int,
 * manageTransaction a Boolean, the rest strings and maps (copied). */
int gj__gremlin_args_new(gj_value **out, const gj_gremlin_args *a, gj_error *err);

/* Read the known members of an args map (NULL = empty) into *out (pointers
 * borrowed from args, NUL-terminated); unknown members are ignored.
 * GJ_EINVAL names a member of the wrong type, as Gremlin Server refuses it
 * (status 499). */
int gj__gremlin_args_read(const gj_value *args, gj_gremlin_args *out, gj_error *err);

/* ---- responses --------------------------------------------------------------- */

typedef struct gj_gremlin_response {
    bool has_request_id;          /* false: the response's request id is null */
    uint8_t request_id[16];
    int32_t status_code;
    gj_value *status_message;     /* a string; NULL = null */
    gj_value *status_attributes;  /* a map; NULL = empty */
    gj_value *result_meta;        /* a map; NULL = empty */
    gj_value *result_data;        /* any value; NULL = null */
} gj_gremlin_response;

/* Encode a response (no mime prefix) appended to out; resp is borrowed. */
int gj__gremlin_response_encode(gj_ps_buf *out, gj_gremlin_format f,
                                const gj_gremlin_response *resp, gj_error *err);

/* Decode one response.  *out owns its values: release with
 * gj__gremlin_response_clear.  max_depth 0 = GJ_GREMLIN_DEFAULT_MAX_DEPTH. */
int gj__gremlin_response_decode(gj_gremlin_response *out, gj_gremlin_format f,
                                const void *data, size_t len, unsigned max_depth,
                                gj_error *err);
void gj__gremlin_response_clear(gj_gremlin_response *resp);

#endif
