/*
 * examples/bolt — Neo4j over Bolt: write with parameters, read rows by
 * field name, stream a large result through a row callback, and a server
 * error with its Neo4j identity.  Only the installed API:
 *
 *   cc bolt.c $(pkg-config --cflags --libs graphjob) -o bolt
 *   ./bolt 'bolt://neo4j:secret@localhost:7687'
 *
 * (or NEO4J_PASSWORD in the environment and a URL without the password).
 */
#include <graphjob.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

/* Runs on a worker for every row: memory stays bounded by one batch. */
static int sum_row(const gj_value *row, void *payload)
{
    int64_t *sum = payload, x = 0;
    gj_value_int_get(gj_value_list_at(row, 0), &x);
    *sum += x;
    return 0;                                   /* non-zero would stop the query */
}

static int check(int rc, const char *what, const gj_error *err)
{
    if (rc != 0)
        fprintf(stderr, "%s: %s: %s\n", what, gj_code_name(rc), gj_error_message(err));
    return rc;
}

int main(int argc, char **argv)
{
    const char *url = argc > 1 ? argv[1] : "bolt://neo4j@127.0.0.1:7687";
    gj_error *err = gj_error_new();
    gj_config *cfg = NULL;
    gj_client *client = NULL;
    int status = 1;

    /* The URL, plus a password from the environment if it has none. */
    if (check(gj_config_from_url(&cfg, url, err), "config", err))
        goto out;
    const char *pw = getenv("NEO4J_PASSWORD");
    const char *have = NULL;
    gj_config_get_string(cfg, NULL, "password", &have, NULL);
    if (pw && !have)
        gj_config_set_string(cfg, NULL, "password", pw, NULL);
    if (check(gj_client_new(&client, cfg, err), "client", err))
        goto out;

    /* 1. A write with parameters (blocking: submit + wait + result). */
    gj_request *req;
    gj_request_new_query(&req, "CREATE (p:Person {name: $name, age: $age}) RETURN p.name AS name");
    gj_request_set_param(req, "name", gj_value_string("Dora"));
    gj_request_set_param(req, "age", gj_value_int(51));
    gj_result *res = NULL;
    int rc = gj_client_execute(client, req, 10000, &res, err);
    gj_request_unref(req);
    if (check(rc, "create", err))
        goto out;
    gj_counters counters = GJ_COUNTERS_INIT;
    gj_result_counters(res, &counters);
    printf("created %" PRId64 " node(s), set %" PRId64 " properties\n", counters.nodes_created,
           counters.properties_set);
    gj_result_free(res);

    /* 2. A read as a job: submit returns at once, wait, then the rows. */
    gj_request_new_query(&req, "MATCH (p:Person) WHERE p.age > $age RETURN p.name AS name, p.age AS age");
    gj_request_set_param(req, "age", gj_value_int(30));
    gj_job *job;
    if (check(gj_client_submit(client, req, NULL, &job, err), "submit", err)) {
        gj_request_unref(req);
        goto out;
    }
    gj_request_unref(req);
    gj_job_wait(job, 10000, err);
    rc = gj_job_result(job, &res, err);
    gj_job_unref(job);
    if (check(rc, "match", err))
        goto out;
    for (size_t i = 0; i < gj_result_row_count(res); i++) {
        const char *name = "?";
        size_t len = 1;
        int64_t age = 0;
        gj_value_string_get(gj_result_row_get(res, i, "name"), &name, &len);
        gj_value_int_get(gj_result_row_get(res, i, "age"), &age);
        printf("  %.*s is %" PRId64 "\n", (int)len, name, age);
    }
    printf("%zu people older than 30\n", gj_result_row_count(res));
    gj_result_free(res);

    /* 3. A large result, row by row on a worker. */
    int64_t sum = 0;
    gj_request_new_query(&req, "UNWIND range(1, 100000) AS x RETURN x");
    gj_request_set_row_callback(req, sum_row, &sum);
    rc = gj_client_execute(client, req, 60000, NULL, err);
    gj_request_unref(req);
    if (check(rc, "unwind", err))
        goto out;
    printf("sum of 1..100000 streamed: %" PRId64 "\n", sum);

    /* 4. The server's error keeps its identity. */
    gj_request_new_query(&req, "RETRUN 1");
    rc = gj_client_execute(client, req, 10000, NULL, err);
    gj_request_unref(req);
    printf("a syntax error: %s, code %s, GQL status %s\n", gj_code_name(rc),
           gj_error_server_code(err) ? gj_error_server_code(err) : "-",
           gj_error_gql_status(err) ? gj_error_gql_status(err) : "-");
    status = rc == GJ_ESERVER && sum == 5000050000 ? 0 : 1;
out:
    gj_client_free(client);
    gj_config_free(cfg);
    gj_error_free(err);
    return status;
}
