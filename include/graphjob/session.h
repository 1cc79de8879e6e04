/*
 * libgraphjob — sessions: ordered jobs on one connection.
 *
 * Some work must run in order on one server-side context: a Gremlin session
 * (processor "session": the same connection and the same variables for
 * every script), a Neo4j explicit transaction whose next statement depends
 * on the last result, an ArangoDB stream transaction.  A session is that
 * context:
 *
 *     gj_session *s;
 *     gj_client_open_session(client, NULL, NULL, &s, err);   // no I/O yet
 *     gj_session_submit(s, req1, NULL, &job1, err);          // as gj_client_submit
 *     gj_session_submit(s, req2, NULL, &job2, err);          // runs after job1
 *     gj_session_close(s, err);                              // ends it on the server
 *
 * - A session's jobs run one at a time, in submission order, on the
 *   connection the session pinned with its first job (on a multiplexing
 *   backend such as Gremlin, one share of it); that connection goes back to
 *   the pool when the session closes, or is closed if it failed.
 * - Each job is an ordinary job: status, wait, result, cancel, clear, the
 *   job listing, callbacks, detached submission — the contract of job.h.
 *   A job that fails does not end the session, unless the server ended its
 *   context (the backend then fails the later jobs saying so).  When the
 *   session's connection is lost, every later job fails with GJ_EIO naming
 *   the cause.
 * - Cancel: a job waiting behind another is CANCELLED at once; the running
 *   one is interrupted.  A cancelled job may leave the server-side context
 *   unknown: the backend then ends the session (Gremlin closes the
 *   connection) and the later jobs fail saying so.
 * - A backend without sessions answers GJ_EUNSUPPORTED at
 *   gj_client_open_session.
 *
 * Threading: every function may be called from any thread; a session may
 * be used from several threads at once (jobs run in the order their
 * gj_session_submit calls returned).
 */
#ifndef GRAPHJOB_SESSION_H
#define GRAPHJOB_SESSION_H

#include "common.h"
#include "client.h"

GJ_BEGIN_DECLS

/* Open a session on `target` (NULL: the default target) with
 * backend-specific options (a map, copied; NULL = none; see the backend's
 * page in docs/).  No I/O: the connection is pinned by the first job.  Each
 * open session holds one connection (or one share of a multiplexed one)
 * from its first job until it is closed.  GJ_EUNSUPPORTED when the
 * target's backend has no sessions, GJ_EINVAL for an unknown target or a
 * bad option.  *out belongs to the caller until gj_session_close. */
GJ_EXTERN int gj_client_open_session(gj_client *client, const char *target,
                                     const gj_value *options, gj_session **out, gj_error *err);

/* Queue a request in the session, behind the session's earlier jobs.  The
 * same contract as gj_client_submit (never blocks on the network, GJ_EBUSY
 * when the client's queue is full, *out a job handle the caller owns);
 * GJ_ESTATE after gj_session_close began.  A request naming another target
 * than the session's is GJ_EINVAL. */
GJ_EXTERN int gj_session_submit(gj_session *session, gj_request *req,
                                const gj_submit_options *opts, gj_job **out, gj_error *err);

/* End the session: the jobs still waiting are cancelled (their callbacks
 * run on this thread), the running one is interrupted and waited for, the
 * server-side context is ended (Gremlin: the session is closed; a Bolt or
 * ArangoDB transaction still open is rolled back), and the connection goes
 * back to the pool.  Blocks for that (bounded by the target's
 * response_timeout).  Returns 0, or the error that ended the session earlier
 * (its connection lost: GJ_EIO ...) or that the close met; the session is
 * freed either way and must not be used again.  Not from a worker thread
 * (a callback): GJ_EDEADLK, and nothing is done.  gj_client_free closes the
 * sessions left open (their handles are then invalid).  NULL is fine. */
GJ_EXTERN int gj_session_close(gj_session *session, gj_error *err);

/* The jobs submitted to the session so far (for statistics and tests). */
GJ_EXTERN uint64_t gj_session_job_count(const gj_session *session);

GJ_END_DECLS

#endif
