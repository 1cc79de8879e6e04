/*
 * libgraphjob — one job model over Neo4j (Bolt), Gremlin Server, ArangoDB
 * and GraphQL servers.
 *
 *   #include <graphjob.h>      link with `pkg-config --libs graphjob`
 *
 * Start with client.h (gj_client_new_url, gj_client_submit), job.h (the job
 * contract), request.h, result.h and value.h; session.h for work that must
 * run in order on one server-side context.
 */
#ifndef GRAPHJOB_H
#define GRAPHJOB_H

#include "graphjob/common.h"
#include "graphjob/version.h"
#include "graphjob/error.h"
#include "graphjob/log.h"
#include "graphjob/value.h"
#include "graphjob/config.h"
#include "graphjob/request.h"
#include "graphjob/ops.h"
#include "graphjob/result.h"
#include "graphjob/job.h"
#include "graphjob/client.h"
#include "graphjob/session.h"

#endif
