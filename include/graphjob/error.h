/*
 * libgraphjob — error codes and error detail.
 *
 * Every function that can fail returns 0 (GJ_OK) or a negative GJ_E* code.
 * The detail (a message that names the problem, and a server's own error
 * identity) travels in a gj_error object that the caller owns and passes in,
 * or on the job that failed.  Nothing is ever reported through errno or
 * thread-local state: a job's error is typically read on another thread than
 * the one that produced it.
 *
 * Every function that reports into a caller's `gj_error *err` (its last
 * parameter; NULL is always allowed) leaves it describing that call only:
 * a call that fails fills it, a call that succeeds leaves it empty (code
 * GJ_OK, message "", no server detail), whatever an earlier call had put
 * there.  So one error object can serve a sequence of calls, and
 * gj_error_code(err) after a call is that call's outcome.
 *
 * Threading: a gj_error is not synchronised; use one per thread (or per call
 * site).  gj_strerror() may be called from any thread.
 */
#ifndef GRAPHJOB_ERROR_H
#define GRAPHJOB_ERROR_H

#include "common.h"

GJ_BEGIN_DECLS

/* Error codes.  This enum is append-only: a value is never renumbered nor
 * reused.  New codes are added at the end. */
typedef enum gj_code {
    GJ_OK = 0,
    GJ_ENOMEM = -1,       /* out of memory */
    GJ_EINVAL = -2,       /* invalid argument (the message names it) */
    GJ_ENOTFOUND = -3,    /* "job N not found": unknown, cleared or fetched job */
    GJ_ENOTDONE = -4,     /* "job N not done": result asked of a pending job */
    GJ_ECANCELLED = -5,   /* "job N cancelled" */
    GJ_ETIMEDOUT = -6,    /* a wait, a response or an acquisition timed out */
    GJ_EBUSY = -7,        /* the submit queue is full (backpressure) */
    GJ_ESERVER = -8,      /* the server answered with an error; see gj_error_server_* */
    GJ_EPROTOCOL = -9,    /* the peer broke the protocol (the message says where) */
    GJ_ECONNECT = -10,    /* could not connect (DNS, refused, unreachable) */
    GJ_EIO = -11,         /* the connection failed mid-request */
    GJ_ETLS = -12,        /* TLS handshake or certificate verification failed */
    GJ_EAUTH = -13,       /* authentication failed */
    GJ_ECONFIG = -14,     /* bad configuration (the message names the key, file, line) */
    GJ_ESHUTDOWN = -15,   /* the client is being freed */
    GJ_EUNSUPPORTED = -16,/* not supported by this backend or server version */
    GJ_ETOOBIG = -17,     /* a message exceeds max_message_size or a protocol limit */
    GJ_EDEADLK = -18,     /* a blocking wait was attempted on a worker thread */
    GJ_ETYPE = -19,       /* a value is not of the type the call expects */
    GJ_ESTATE = -20,      /* the object is in the wrong state for the call */
    GJ_EABORTED = -21     /* a row callback asked to stop */
} gj_code;

/* A static, human-readable description of a code ("job not found", ...).
 * Never NULL; unknown codes give "unknown error". */
GJ_EXTERN const char *gj_strerror(int code);

/* A static identifier of a code ("GJ_ENOTFOUND"). Never NULL. */
GJ_EXTERN const char *gj_code_name(int code);

/* Allocate an empty error (code GJ_OK).  Returns NULL only when out of
 * memory.  The caller owns it: gj_error_free() releases it.  An error object
 * can be reused for any number of calls; each failing call overwrites it,
 * each successful call empties it (see the top of this file). */
GJ_EXTERN gj_error *gj_error_new(void);

/* Free an error (NULL is fine). */
GJ_EXTERN void gj_error_free(gj_error *err);

/* Reset to GJ_OK with no detail. */
GJ_EXTERN void gj_error_clear(gj_error *err);

/* Copy all detail of src into dst.  Returns 0 or GJ_ENOMEM (dst then keeps
 * code and message, without the server extras). */
GJ_EXTERN int gj_error_copy(gj_error *dst, const gj_error *src);

/* The code (0 when no error was recorded). */
GJ_EXTERN int gj_error_code(const gj_error *err);

/* The message: says what went wrong and names the key, byte, endpoint or
 * server message involved.  Never NULL ("" when none).  Borrowed: valid until
 * the error is changed or freed. */
GJ_EXTERN const char *gj_error_message(const gj_error *err);

/* Which backend produced the error ("bolt", "gremlin", "arango", "graphql"),
 * or NULL for library-side errors.  Borrowed like the message. */
GJ_EXTERN const char *gj_error_backend(const gj_error *err);

/* The server's own error code string, or NULL: the Neo4j code
 * ("Neo.ClientError.Statement.SyntaxError"), the ArangoDB errorNum as text,
 * the Gremlin status code as text, the first GraphQL error's
 * extensions.code.  Borrowed like the message. */
GJ_EXTERN const char *gj_error_server_code(const gj_error *err);

/* The server's numeric error code, or 0: ArangoDB errorNum (1501 ...),
 * Gremlin status (597 ...). */
GJ_EXTERN long gj_error_server_number(const gj_error *err);

/* The GQL status (Neo4j 5.7+: "42001"), or NULL.  Borrowed. */
GJ_EXTERN const char *gj_error_gql_status(const gj_error *err);

/* The HTTP status the server answered with, or 0 when not HTTP. */
GJ_EXTERN int gj_error_http_status(const gj_error *err);

/* Any further structured detail the server sent (GraphQL errors[] with
 * locations and path; Bolt: the FAILURE's metadata (description,
 * diagnostic_record, the cause chain); Gremlin status attributes;
 * the whole ArangoDB error body), or NULL.  Borrowed: valid until the error
 * is changed or freed; take a reference with gj_value_ref() to keep it. */
GJ_EXTERN const gj_value *gj_error_extra(const gj_error *err);

GJ_END_DECLS

#endif
