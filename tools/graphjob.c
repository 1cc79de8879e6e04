/*
 * graphjob — run queries on a graph database or GraphQL server as jobs.
 *
 *   graphjob [OPTIONS] URL QUERY...
 *   graphjob [OPTIONS] -c CONFIG.yaml [-t TARGET] QUERY...
 *
 * Every QUERY is submitted as one job at once (they run concurrently on the
 * client's workers); then each job is waited for in order and printed as one
 * line of JSON:
 *   {"job":1,"query":"RETURN 1","status":"done","fields":[..],"rows":[..],"meta":{..}}
 *   {"job":2,"query":"RETRUN","status":"done","error":{"code":"GJ_ESERVER",...}}
 * Exit status: 0 when every job succeeded, 1 when one failed, 2 for usage or
 * configuration errors.
 */
#include <graphjob.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PAIRS 64

static void usage(FILE *to)
{
    fprintf(to,
        "usage: graphjob [OPTIONS] URL QUERY...\n"
        "       graphjob [OPTIONS] -c FILE [-t TARGET] QUERY...\n"
        "Run each QUERY as a job (all submitted at once) and print one JSON line per job.\n"
        "\n"
        "  -c, --config FILE     YAML or JSON configuration instead of a URL\n"
        "  -t, --target NAME     target of the configuration to use\n"
        "  -p, --param NAME=JSON a query parameter (repeatable), e.g. -p age=42 -p 'names=[\"a\"]'\n"
        "  -o, --option KEY=JSON a backend option (repeatable), e.g. -o fetch_size=500\n"
        "      --op OP           the operation (default \"query\"; backends document others)\n"
        "  -d, --database NAME   the database\n"
        "  -T, --timeout MS      per-job wait (default 60000; the job is cancelled after it)\n"
        "  -w, --workers N       worker threads (default: the configuration's)\n"
        "      --pretty          indent the JSON\n"
        "  -v, --verbose         log to stderr (-vv for debug)\n"
        "  -V, --version         print the library version\n"
        "  -h, --help\n"
        "\n"
        "URL: bolt://user:pass@host:7687, neo4j://..., http://user:pass@host:8529 (ArangoDB), ...\n"
        "Exit status: 0 all jobs succeeded, 1 a job failed, 2 usage or configuration error.\n");
}

static void log_to_stderr(gj_log_level level, const char *message, void *payload)
{
    (void)payload;
    fprintf(stderr, "graphjob: %s: %s\n", gj_log_level_name(level), message);
}

/* NAME=JSON -> name + parsed value.  Text that is not JSON is taken as a string. */
static int parse_pair(const char *arg, char **name, gj_value **value, gj_error *err)
{
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg) {
        fprintf(stderr, "graphjob: expected NAME=JSON, got '%s'\n", arg);
        return -1;
    }
    *name = strndup(arg, (size_t)(eq - arg));
    const char *json = eq + 1;
    if (gj_value_from_json(value, json, strlen(json), err) != 0) {
        *value = gj_value_string(json);
        if (!*value) {
            fprintf(stderr, "graphjob: '%s' is neither JSON nor UTF-8 text\n", json);
            free(*name);
            return -1;
        }
    }
    return 0;
}

static char *json_of(const gj_value *v, unsigned flags)
{
    char *text = NULL;
    if (gj_value_to_json(v, flags, &text, NULL) != 0)
        return NULL;
    return text;
}

/* The error of a failed job as a JSON object. */
static char *error_json(int code, const gj_error *err, unsigned flags)
{
    gj_value *e = NULL;
    if (gj_value_new_map(&e, 8) != 0)
        return NULL;
    gj_value_map_put_str(e, "code", gj_value_string(gj_code_name(code)));
    gj_value_map_put_str(e, "message", gj_value_string(gj_error_message(err)));
    if (gj_error_backend(err))
        gj_value_map_put_str(e, "backend", gj_value_string(gj_error_backend(err)));
    if (gj_error_server_code(err))
        gj_value_map_put_str(e, "server_code", gj_value_string(gj_error_server_code(err)));
    if (gj_error_server_number(err))
        gj_value_map_put_str(e, "server_number", gj_value_int(gj_error_server_number(err)));
    if (gj_error_gql_status(err))
        gj_value_map_put_str(e, "gql_status", gj_value_string(gj_error_gql_status(err)));
    if (gj_error_http_status(err))
        gj_value_map_put_str(e, "http_status", gj_value_int(gj_error_http_status(err)));
    char *text = json_of(e, flags);
    gj_value_unref(e);
    return text;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "config", required_argument, NULL, 'c' }, { "target", required_argument, NULL, 't' },
        { "param", required_argument, NULL, 'p' },  { "option", required_argument, NULL, 'o' },
        { "op", required_argument, NULL, 'O' },     { "database", required_argument, NULL, 'd' },
        { "timeout", required_argument, NULL, 'T' }, { "workers", required_argument, NULL, 'w' },
        { "pretty", no_argument, NULL, 'P' },       { "verbose", no_argument, NULL, 'v' },
        { "version", no_argument, NULL, 'V' },      { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    const char *config_file = NULL, *target = NULL, *op = GJ_OP_QUERY, *database = NULL;
    const char *params[MAX_PAIRS], *options[MAX_PAIRS];
    size_t n_params = 0, n_options = 0;
    long timeout = 60000, workers = 0;
    unsigned json_flags = 0;
    int verbose = 0, c;
    while ((c = getopt_long(argc, argv, "c:t:p:o:d:T:w:vVh", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': config_file = optarg; break;
        case 't': target = optarg; break;
        case 'p':
        case 'o':
            if ((c == 'p' ? n_params : n_options) == MAX_PAIRS) {
                fprintf(stderr, "graphjob: at most %d -%c options\n", MAX_PAIRS, c);
                return 2;
            }
            if (c == 'p')
                params[n_params++] = optarg;
            else
                options[n_options++] = optarg;
            break;
        case 'O': op = optarg; break;
        case 'd': database = optarg; break;
        case 'T': timeout = strtol(optarg, NULL, 10); break;
        case 'w': workers = strtol(optarg, NULL, 10); break;
        case 'P': json_flags |= GJ_JSON_PRETTY; break;
        case 'v': verbose++; break;
        case 'V': printf("graphjob (libgraphjob) %s\n", gj_version()); return 0;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    int first_query = optind + (config_file ? 0 : 1);
    if ((!config_file && optind >= argc) || first_query >= argc) {
        usage(stderr);
        return 2;
    }

    gj_error *err = gj_error_new();
    gj_config *cfg = NULL;
    int rc = config_file ? gj_config_load_file(&cfg, config_file, err)
                         : gj_config_from_url(&cfg, argv[optind], err);
    if (rc == 0 && workers > 0)
        rc = gj_config_set_int(cfg, NULL, "workers", workers, err);
    if (rc) {
        fprintf(stderr, "graphjob: %s\n", gj_error_message(err));
        gj_config_free(cfg);
        gj_error_free(err);
        return 2;
    }
    if (verbose)
        gj_config_set_log(cfg, log_to_stderr, verbose > 1 ? GJ_LOG_DEBUG : GJ_LOG_INFO, NULL);
    gj_client *client = NULL;
    rc = gj_client_new(&client, cfg, err);
    gj_config_free(cfg);
    if (rc) {
        fprintf(stderr, "graphjob: %s\n", gj_error_message(err));
        gj_error_free(err);
        return 2;
    }

    int n_queries = argc - first_query;
    gj_job **jobs = calloc((size_t)n_queries, sizeof *jobs);
    int status = 0;
    for (int i = 0; i < n_queries && status == 0; i++) {
        gj_request *req = NULL;
        if (gj_request_new(&req, op, argv[first_query + i]) != 0 ||
            (target && gj_request_set_target(req, target) != 0) ||
            (database && gj_request_set_database(req, database) != 0)) {
            fprintf(stderr, "graphjob: out of memory\n");
            status = 2;
        }
        for (size_t k = 0; status == 0 && k < n_params + n_options; k++) {
            char *name;
            gj_value *value;
            bool is_param = k < n_params;
            if (parse_pair(is_param ? params[k] : options[k - n_params], &name, &value, err) != 0) {
                status = 2;
                break;
            }
            if (is_param)
                gj_request_set_param(req, name, value);
            else
                gj_request_set_option(req, name, value);
            free(name);
        }
        if (status == 0 && gj_client_submit(client, req, NULL, &jobs[i], err) != 0) {
            fprintf(stderr, "graphjob: %s\n", gj_error_message(err));
            status = 2;
        }
        gj_request_unref(req);
    }

    for (int i = 0; i < n_queries && jobs[i]; i++) {
        gj_job *job = jobs[i];
        gj_value *query = gj_value_string(argv[first_query + i]);
        char *query_json = query ? json_of(query, 0) : NULL;
        gj_value_unref(query);
        printf("{\"job\":%llu,\"query\":%s,", (unsigned long long)gj_job_id(job),
               query_json ? query_json : "null");
        gj_free(query_json);
        gj_result *res = NULL;
        rc = gj_job_wait(job, timeout, err);
        if (rc == GJ_ETIMEDOUT) {
            gj_job_cancel(job, NULL);
            gj_job_wait(job, -1, NULL);
        }
        if (rc == 0 || rc == GJ_ETIMEDOUT)
            rc = gj_job_result(job, &res, err);
        gj_job_status st = GJ_JOB_DONE;
        if (rc == GJ_ECANCELLED)
            st = GJ_JOB_CANCELLED;
        printf("\"status\":\"%s\",", gj_job_status_name(st));
        if (rc == 0) {
            char *fields = gj_result_fields(res) ? json_of(gj_result_fields(res), json_flags) : NULL;
            char *rows = json_of(gj_result_rows(res), json_flags);
            char *meta = json_of(gj_result_meta(res), json_flags);
            printf("\"fields\":%s,\"rows\":%s,\"meta\":%s}\n", fields ? fields : "null",
                   rows ? rows : "[]", meta ? meta : "{}");
            gj_free(fields);
            gj_free(rows);
            gj_free(meta);
            gj_result_free(res);
        } else {
            char *e = error_json(rc, err, json_flags);
            printf("\"error\":%s}\n", e ? e : "null");
            gj_free(e);
            if (status == 0)
                status = 1;
        }
        fflush(stdout);
        gj_job_unref(job);
    }
    free(jobs);
    gj_client_free(client);
    gj_error_free(err);
    return status;
}
