/*
 * examples/graphql — a GraphQL server over HTTP: a query with variables, a
 * mutation, and an error with its GraphQL locations and path.
 *
 *   cc graphql.c $(pkg-config --cflags --libs graphjob) -o graphql
 *   ./graphql 'graphql+http://localhost:4000/graphql'
 */
#include <graphjob.h>

#include <stdio.h>

static void print_json(const char *what, const gj_value *v)
{
    char *json = NULL;
    gj_value_to_json(v, 0, &json, NULL);
    printf("%s: %s\n", what, json ? json : "null");
    gj_free(json);
}

int main(int argc, char **argv)
{
    const char *url = argc > 1 ? argv[1] : "graphql+http://127.0.0.1:4000/graphql";
    gj_error *err = gj_error_new();
    gj_client *client;
    if (gj_client_new_url(&client, url, err) != 0) {
        fprintf(stderr, "%s\n", gj_error_message(err));
        return 1;
    }
    int status = 1;
    gj_result *res = NULL;

    /* A query with a variable: the row is the response's "data". */
    gj_request *req;
    gj_request_new_query(&req, "query Hello($name: String) { hello(name: $name) }");
    gj_request_set_param(req, "name", gj_value_string("Ada"));
    int rc = gj_client_execute(client, req, 10000, &res, err);
    gj_request_unref(req);
    if (rc != 0) {
        fprintf(stderr, "%s: %s\n", gj_code_name(rc), gj_error_message(err));
        goto out;
    }
    print_json("data", gj_result_row(res, 0));
    gj_result_free(res);

    /* A mutation is a request like any other. */
    gj_request_new_query(&req, "mutation { increment(by: 2) }");
    rc = gj_client_execute(client, req, 10000, &res, err);
    gj_request_unref(req);
    if (rc != 0) {
        fprintf(stderr, "%s: %s\n", gj_code_name(rc), gj_error_message(err));
        goto out;
    }
    print_json("mutation", gj_result_row(res, 0));
    gj_result_free(res);

    /* A field the schema does not have: the errors[] (messages, locations,
     * path) come back in gj_error_extra. */
    gj_request_new_query(&req, "{ nosuchfield }");
    rc = gj_client_execute(client, req, 10000, NULL, err);
    gj_request_unref(req);
    printf("a bad query: %s (HTTP %d)\n", gj_code_name(rc), gj_error_http_status(err));
    print_json("errors", gj_error_extra(err));
    status = rc == GJ_ESERVER ? 0 : 1;
out:
    gj_client_free(client);
    gj_error_free(err);
    return status;
}
