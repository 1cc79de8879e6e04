/*
 * examples/arango — ArangoDB: create a collection, insert documents, query
 * them with AQL and bind parameters, and run a query as a server-side job
 * that any client can fetch later by its id (python-arango's AsyncJob).
 *
 *   cc arango.c $(pkg-config --cflags --libs graphjob) -o arango
 *   ./arango 'http://root:secret@localhost:8529'
 */
#include <graphjob.h>

#include <stdio.h>
#include <string.h>

static gj_value *person(const char *name, int age)
{
    gj_value *doc;
    gj_value_new_map(&doc, 2);
    gj_value_map_put_str(doc, "name", gj_value_string(name));
    gj_value_map_put_str(doc, "age", gj_value_int(age));
    return doc;
}

/* Run an operation and return its result (NULL after printing the error). */
static gj_result *run(gj_client *client, gj_request *req, gj_error *err)
{
    gj_result *res = NULL;
    int rc = gj_client_execute(client, req, 30000, &res, err);
    gj_request_unref(req);
    if (rc != 0) {
        fprintf(stderr, "%s: %s", gj_code_name(rc), gj_error_message(err));
        if (gj_error_server_number(err))
            fprintf(stderr, " (errorNum %ld, HTTP %d)", gj_error_server_number(err),
                    gj_error_http_status(err));
        fputc('\n', stderr);
    }
    return res;
}

int main(int argc, char **argv)
{
    const char *url = argc > 1 ? argv[1] : "http://root@127.0.0.1:8529";
    gj_error *err = gj_error_new();
    gj_client *client;
    if (gj_client_new_url(&client, url, err) != 0) {
        fprintf(stderr, "%s\n", gj_error_message(err));
        return 1;
    }
    int status = 1;
    gj_request *req;
    gj_result *res;

    /* A collection (409 "duplicate name" when it exists is fine). */
    gj_request_new(&req, GJ_OP_COLLECTION_CREATE, NULL);
    gj_request_set_option(req, "name", gj_value_string("people"));
    res = run(client, req, err);
    if (!res && gj_error_server_number(err) != 1207)
        goto out;
    gj_result_free(res);

    /* Documents. */
    gj_value *docs;
    gj_value_new_list(&docs, 3);
    gj_value_list_append(docs, person("Ada", 36));
    gj_value_list_append(docs, person("Grace", 85));
    gj_value_list_append(docs, person("Linus", 28));
    gj_request_new(&req, GJ_OP_DOCUMENT_INSERT, NULL);
    gj_request_set_option(req, "collection", gj_value_string("people"));
    gj_request_set_option(req, "documents", docs);
    if (!(res = run(client, req, err)))
        goto out;
    printf("inserted %zu documents\n", gj_result_row_count(res));
    gj_result_free(res);

    /* AQL with bind parameters: @@coll binds a collection, @min a value. */
    gj_request_new_query(&req, "FOR p IN @@coll FILTER p.age >= @min RETURN p.name");
    gj_request_set_param(req, "@coll", gj_value_string("people"));
    gj_request_set_param(req, "min", gj_value_int(30));
    if (!(res = run(client, req, err)))
        goto out;
    for (size_t i = 0; i < gj_result_row_count(res); i++) {
        const char *name;
        size_t len;
        if (gj_value_string_get(gj_result_row(res, i), &name, &len) == 0)
            printf("  %.*s\n", (int)len, name);
    }
    printf("%zu people aged 30 or more\n", gj_result_row_count(res));
    gj_result_free(res);

    /* A server-side job: the server answers at once with an id ... */
    gj_request_new_query(&req, "FOR i IN 1..5 RETURN i");
    gj_request_set_option(req, "async", gj_value_string("store"));
    gj_request_set_option(req, "detach", gj_value_bool(true));
    if (!(res = run(client, req, err)))
        goto out;
    char id[64] = "";
    const char *text;
    size_t len;
    if (gj_value_string_get(gj_value_map_get(gj_result_meta(res), "async_id"), &text, &len) == 0 &&
        len < sizeof id)
        memcpy(id, text, len), id[len] = '\0';
    gj_result_free(res);
    printf("server job %s accepted\n", id);

    /* ... and later (another process could do it) its result is fetched. */
    gj_request_new(&req, GJ_OP_JOB_ATTACH, NULL);
    gj_request_set_option(req, "id", gj_value_string(id));
    if (!(res = run(client, req, err)))
        goto out;
    char *json = NULL;
    gj_value_to_json(gj_result_rows(res), 0, &json, NULL);
    printf("server job %s: %s\n", id, json ? json : "?");
    status = gj_result_row_count(res) == 5 ? 0 : 1;
    gj_free(json);
    gj_result_free(res);

    /* A query the server rejects: errorNum 1501, HTTP 400. */
    gj_request_new_query(&req, "FOR p IN people RETURN");
    res = run(client, req, err);
    if (res || gj_error_server_number(err) != 1501)
        status = 1;
    gj_result_free(res);
out:
    gj_client_free(client);
    gj_error_free(err);
    return status;
}
