/*
 * libgraphjob — operation names.
 *
 * gj_request_new(&req, op, text) takes an operation name: GJ_OP_QUERY,
 * which every backend runs as its query language, or one of the
 * backend-specific names below.  Use these macros instead of the strings:
 * a misspelt macro does not compile, a misspelt string fails the job at run
 * time (GJ_EUNSUPPORTED naming it).  Each backend's page in docs/ says what
 * an operation does and which request options it takes.
 *
 * The values are the strings the backends compare against; they never
 * change.  New names are added, never renamed.
 *
 * Threading: nothing in this header has run-time behaviour.
 */
#ifndef GRAPHJOB_OPS_H
#define GRAPHJOB_OPS_H

/* ---- every backend --------------------------------------------------------- */

/* Run the request's text as the backend's query language: Cypher (Bolt),
 * Gremlin (a script), AQL (ArangoDB), a GraphQL document.  Also defined by
 * request.h, with the same value. */
#ifndef GJ_OP_QUERY
#define GJ_OP_QUERY "query"
#endif

/* ---- sessions (session.h): interactive transactions ------------------------
 * Jobs of a gj_session, in order:
 *   Bolt:     GJ_OP_BEGIN, queries ..., GJ_OP_COMMIT or GJ_OP_ROLLBACK
 *   ArangoDB: GJ_OP_BEGIN (a stream transaction), queries and document
 *             operations ..., GJ_OP_COMMIT or GJ_OP_ABORT (GJ_OP_ROLLBACK
 *             is accepted as the same; outside a session they fail
 *             with GJ_EINVAL)
 * What each takes and returns is on the backend's page in docs/. */
#define GJ_OP_BEGIN "begin"
#define GJ_OP_COMMIT "commit"
#define GJ_OP_ROLLBACK "rollback"
#define GJ_OP_ABORT "abort"

/* ---- Bolt (docs/bolt.md) ----------------------------------------------------- */

/* Several statements in one explicit transaction, pipelined in one job
 * (option "statements"), with retries of transient errors. */
#define GJ_OP_TRANSACTION "transaction"

/* ---- ArangoDB (docs/arango.md) ----------------------------------------------- */

/* Documents: option "collection", "key", "document" / "documents" ... */
#define GJ_OP_DOCUMENT_INSERT "document.insert"
#define GJ_OP_DOCUMENT_GET "document.get"
#define GJ_OP_DOCUMENT_REPLACE "document.replace"
#define GJ_OP_DOCUMENT_UPDATE "document.update"
#define GJ_OP_DOCUMENT_REMOVE "document.remove"

/* Collections: option "name". */
#define GJ_OP_COLLECTION_CREATE "collection.create"
#define GJ_OP_COLLECTION_DROP "collection.drop"
#define GJ_OP_COLLECTION_COUNT "collection.count"
#define GJ_OP_COLLECTION_TRUNCATE "collection.truncate"
#define GJ_OP_COLLECTION_PROPERTIES "collection.properties"
#define GJ_OP_COLLECTION_LIST "collection.list"

/* Stream transactions by id, outside a session (option "id"; later
 * requests name the transaction with option "trx").  In a session,
 * GJ_OP_BEGIN / GJ_OP_COMMIT / GJ_OP_ABORT do this for every job. */
#define GJ_OP_TRANSACTION_BEGIN "transaction.begin"
#define GJ_OP_TRANSACTION_COMMIT "transaction.commit"
#define GJ_OP_TRANSACTION_ABORT "transaction.abort"
#define GJ_OP_TRANSACTION_STATUS "transaction.status"

/* The server's version (option "details"). */
#define GJ_OP_VERSION "version"

/* Any HTTP request below /_db/{db} (options "method", "path", "query",
 * "body"). */
#define GJ_OP_HTTP "http"

/* Server-side async jobs (x-arango-async: store), by option "id". */
#define GJ_OP_JOB_ATTACH "job.attach"
#define GJ_OP_JOB_STATUS "job.status"
#define GJ_OP_JOB_CANCEL "job.cancel"
#define GJ_OP_JOB_DELETE "job.delete"
#define GJ_OP_JOB_LIST "job.list"

/* ---- Gremlin Server ---------------------------------------------------------- */

/* A script evaluation (op "eval" of the Gremlin protocol); the same as
 * GJ_OP_QUERY. */
#define GJ_OP_EVAL "eval"

/* ---- GraphQL (docs/graphql.md) ------------------------------------------------ */

/* A subscription as a job: pending while it streams, each event a row,
 * DONE after the server's complete (GJ_OP_QUERY with a subscription
 * document does the same). */
#define GJ_OP_SUBSCRIBE "subscribe"

/* The standard introspection query: the schema as a value. */
#define GJ_OP_INTROSPECT "introspect"

#endif
