/*
 * examples/gremlin — Apache TinkerPop Gremlin Server: a script with
 * bindings, a session whose variables live from one job to the next, and a
 * script the server rejects (status 597).
 *
 *   cc gremlin.c $(pkg-config --cflags --libs graphjob) -o gremlin
 *   ./gremlin 'ws://localhost:8182/gremlin'
 */
#include <graphjob.h>

#include <inttypes.h>
#include <stdio.h>

static void print_rows(const char *what, const gj_result *res)
{
    char *json = NULL;
    gj_value_to_json(gj_result_rows(res), 0, &json, NULL);
    printf("%s: %s\n", what, json ? json : "?");
    gj_free(json);
}

int main(int argc, char **argv)
{
    const char *url = argc > 1 ? argv[1] : "ws://127.0.0.1:8182/gremlin";
    gj_error *err = gj_error_new();
    gj_client *client;
    if (gj_client_new_url(&client, url, err) != 0) {
        fprintf(stderr, "%s\n", gj_error_message(err));
        return 1;
    }
    int status = 1;
    gj_result *res = NULL;

    /* A script with a binding (Gremlin Server's "bindings"). */
    gj_request *req;
    gj_request_new_query(&req, "g.V().hasLabel(kind).values('name')");
    gj_request_set_param(req, "kind", gj_value_string("person"));
    int rc = gj_client_execute(client, req, 10000, &res, err);
    gj_request_unref(req);
    if (rc != 0) {
        fprintf(stderr, "%s: %s\n", gj_code_name(rc), gj_error_message(err));
        goto out;
    }
    print_rows("people", res);
    gj_result_free(res);

    /* A session: the jobs run in order on one connection, sharing variables. */
    gj_session *session;
    if (gj_client_open_session(client, NULL, NULL, &session, err) != 0) {
        fprintf(stderr, "session: %s\n", gj_error_message(err));
        goto out;
    }
    gj_job *set, *get;
    gj_request_new_query(&req, "x = 42");
    gj_session_submit(session, req, NULL, &set, err);
    gj_request_unref(req);
    gj_request_new_query(&req, "x");
    gj_session_submit(session, req, NULL, &get, err);     /* runs after the first */
    gj_request_unref(req);
    gj_job_wait(get, 10000, NULL);
    rc = gj_job_result(get, &res, err);
    int64_t x = 0;
    if (rc == 0)
        gj_value_int_get(gj_result_row(res, 0), &x);
    printf("the session kept x = %" PRId64 "\n", x);
    gj_result_free(res);
    gj_job_unref(set);
    gj_job_unref(get);
    gj_session_close(session, NULL);

    /* The server's error: Gremlin status 597 (script evaluation error). */
    gj_request_new_query(&req, "g.V().nosuchstep()");
    rc = gj_client_execute(client, req, 10000, NULL, err);
    gj_request_unref(req);
    printf("a bad script: %s, Gremlin status %ld\n", gj_code_name(rc), gj_error_server_number(err));
    status = x == 42 && rc == GJ_ESERVER && gj_error_server_number(err) == 597 ? 0 : 1;
out:
    gj_client_free(client);
    gj_error_free(err);
    return status;
}
