/*
 * Bolt messages (4.4, 5.x and 6.0): a message is a PackStream structure whose tag
 * is the message type and whose fields are values.  This layer checks each
 * message against its definition for the negotiated version (which messages
 * exist, how many fields, of which types) and writes framed messages for
 * clients and servers.  No I/O.
 *
 * Threading: nothing here shares state.
 */
#ifndef GJ_CODEC_BOLT_MSG_H
#define GJ_CODEC_BOLT_MSG_H

#include "codec/chunk.h"
#include "codec/packstream.h"

/* Message tags (signatures). */
enum {
    GJ_BOLT_HELLO = 0x01,
    GJ_BOLT_GOODBYE = 0x02,
    GJ_BOLT_RESET = 0x0F,
    GJ_BOLT_RUN = 0x10,
    GJ_BOLT_BEGIN = 0x11,
    GJ_BOLT_COMMIT = 0x12,
    GJ_BOLT_ROLLBACK = 0x13,
    GJ_BOLT_DISCARD = 0x2F,
    GJ_BOLT_PULL = 0x3F,
    GJ_BOLT_TELEMETRY = 0x54,   /* 5.4+ */
    GJ_BOLT_ROUTE = 0x66,       /* 4.3+ */
    GJ_BOLT_LOGON = 0x6A,       /* 5.1+ */
    GJ_BOLT_LOGOFF = 0x6B,      /* 5.1+ */
    GJ_BOLT_SUCCESS = 0x70,
    GJ_BOLT_RECORD = 0x71,
    GJ_BOLT_IGNORED = 0x7E,
    GJ_BOLT_FAILURE = 0x7F
};

/* Who sends the message: requests come from clients, responses (SUCCESS,
 * RECORD, IGNORED, FAILURE) from servers. */
typedef enum gj_bolt_dir {
    GJ_BOLT_REQUEST = 0,
    GJ_BOLT_RESPONSE = 1
} gj_bolt_dir;

/* PULL / DISCARD: all records; the last statement. */
#define GJ_BOLT_ALL (-1)

/* A decoded message.  The fields are owned by it; a caller may take one over
 * (a RECORD's list becomes the row) by setting the slot to NULL before
 * gj__bolt_msg_clear(). */
typedef struct gj_bolt_msg {
    uint8_t tag;
    unsigned n_fields;
    gj_value *fields[GJ_PS_MAX_STRUCT_FIELDS];   /* owned; [n_fields..] are NULL */
} gj_bolt_msg;

/* "HELLO", "RUN", ... or NULL when the tag is not a message in that direction. */
const char *gj__bolt_msg_name(uint8_t tag, gj_bolt_dir dir);

/* Decode one dechunked message and check it against its definition in the
 * Bolt version of cfg (fields are decoded with cfg).  On success *m owns
 * its fields (release with gj__bolt_msg_clear).  Errors are GJ_EPROTOCOL
 * naming the message, the field and what was wrong (or a decoder error),
 * and *m is left empty. */
int gj__bolt_msg_decode(gj_bolt_msg *m, const uint8_t *data, size_t len, const gj_ps_config *cfg,
                        gj_bolt_dir dir, gj_error *err);
void gj__bolt_msg_clear(gj_bolt_msg *m);

/* Is the version of cfg at least major.minor? */
bool gj__bolt_version_at_least(const gj_ps_config *cfg, unsigned major, unsigned minor);

/* ---- Writers ------------------------------------------------------------------
 * Each appends one framed message (chunks + 00 00) to b, so several can be
 * pipelined in one buffer.  Values are borrowed.  On failure the buffer's
 * length is restored and the code returned (err filled). */

/* Any message: tag + fields (n <= 15). */
int gj__bolt_write(gj_ps_buf *b, const gj_ps_config *cfg, uint8_t tag,
                   const gj_value *const *fields, unsigned n, gj_error *err);

/* A message without fields: RESET, GOODBYE, COMMIT, ROLLBACK, LOGOFF, IGNORED. */
int gj__bolt_write_empty(gj_ps_buf *b, uint8_t tag, gj_error *err);

/* A message with one dictionary (NULL = {}): HELLO, LOGON, BEGIN, SUCCESS,
 * FAILURE. */
int gj__bolt_write_map(gj_ps_buf *b, const gj_ps_config *cfg, uint8_t tag, const gj_value *map,
                       gj_error *err);

/* PULL or DISCARD {n, qid}; qid GJ_BOLT_ALL (-1) is left out. */
int gj__bolt_write_pull(gj_ps_buf *b, uint8_t tag, int64_t n, int64_t qid, gj_error *err);

/* RUN query params extra (params / extra NULL = {}). */
int gj__bolt_write_run(gj_ps_buf *b, const gj_ps_config *cfg, const char *query, size_t query_len,
                       const gj_value *params, const gj_value *extra, gj_error *err);

/* ROUTE routing bookmarks extra (NULL = {} / [] / null). */
int gj__bolt_write_route(gj_ps_buf *b, const gj_ps_config *cfg, const gj_value *routing,
                         const gj_value *bookmarks, const gj_value *extra, gj_error *err);

/* TELEMETRY api (5.4+). */
int gj__bolt_write_telemetry(gj_ps_buf *b, int64_t api, gj_error *err);

/* RECORD [values...] (servers). */
int gj__bolt_write_record(gj_ps_buf *b, const gj_ps_config *cfg, const gj_value *const *values,
                          size_t n, gj_error *err);

/* RECORD with the items of a list value as its data (servers). */
int gj__bolt_write_record_list(gj_ps_buf *b, const gj_ps_config *cfg, const gj_value *list,
                               gj_error *err);

/* FAILURE in the form of the version (servers): {code, message} up to 5.6;
 * from 5.7 {neo4j_code, message, gql_status, description,
 * diagnostic_record}.  gql_status NULL = "50N42" (general processing
 * exception). */
int gj__bolt_write_failure(gj_ps_buf *b, const gj_ps_config *cfg, const char *code,
                           const char *message, const char *gql_status, gj_error *err);
/* The same with a description (NULL = the message) and, from 5.7, one
 * cause {message, gql_status, description, diagnostic_record} when
 * cause_gql_status is not NULL (cause_description NULL = the message). */
int gj__bolt_write_failure_cause(gj_ps_buf *b, const gj_ps_config *cfg, const char *code, const char *message,
                                 const char *gql_status, const char *description, const char *cause_gql_status,
                                 const char *cause_description, gj_error *err);

/* ---- Reading responses (clients) ---------------------------------------------- */

/* A FAILURE's metadata -> err: GJ_ESERVER with backend "bolt", the Neo4j
 * code (code or neo4j_code), the GQL status, the message followed by the
 * cause chain's ("... (caused by [GQL 42I06] ...)"), and the whole
 * metadata map as extra (description, diagnostic_record and the cause
 * chain, each cause with its gql_status, as the server sent them).
 * Returns GJ_ESERVER (or GJ_ENOMEM). */
int gj__bolt_failure_to_error(const gj_value *meta, gj_error *err);
/* The same with the code to report (GJ_ESERVER, GJ_EAUTH ...). */
int gj__bolt_failure_to_error_code(const gj_value *meta, int code, gj_error *err);

/* String / integer / boolean entries of a metadata map: 0, or GJ_ENOTFOUND
 * when absent (or null), or GJ_ETYPE when of another type. */
int gj__bolt_meta_string(const gj_value *meta, const char *key, const char **s, size_t *len);
int gj__bolt_meta_int(const gj_value *meta, const char *key, int64_t *out);
int gj__bolt_meta_bool(const gj_value *meta, const char *key, bool *out);

#endif
