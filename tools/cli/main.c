/*
 * graphjob — run queries on graph databases and GraphQL servers as jobs.
 *
 *   graphjob [OPTIONS] URL [QUERY...]             (or -c FILE [-t TARGET])
 *   graphjob job [OPTIONS] URL ID                 ArangoDB server-side job
 *   graphjob jobs [OPTIONS] URL [--status S]      its job list
 *   graphjob demo                                 the bundled servers, a few jobs each
 *
 * This file: the options, credentials, the configuration and the client;
 * the run itself is run.c.  graphjob(1) (docs/graphjob.1) is the manual.
 */
#include "graphjob.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum {
    O_OP = 256, O_PRETTY, O_UNORDERED, O_DEADLINE, O_REPEAT, O_ASYNC, O_NO_SPLIT, O_SPLIT,
    O_MAX_WIDTH, O_SUMMARY, O_NO_SUMMARY, O_STATUS, O_CANCEL, O_CLEAR, O_COUNT, O_BEFORE
};

static const char short_options[] = "c:t:u:p::d:P:o:f:F:T:w:C:qvVh";

static const struct option common_options[] = {
    { "config", required_argument, NULL, 'c' },   { "target", required_argument, NULL, 't' },
    { "user", required_argument, NULL, 'u' },     { "password", optional_argument, NULL, 'p' },
    { "database", required_argument, NULL, 'd' }, { "param", required_argument, NULL, 'P' },
    { "option", required_argument, NULL, 'o' },   { "op", required_argument, NULL, O_OP },
    { "file", required_argument, NULL, 'f' },     { "format", required_argument, NULL, 'F' },
    { "pretty", no_argument, NULL, O_PRETTY },    { "max-width", required_argument, NULL, O_MAX_WIDTH },
    { "timeout", required_argument, NULL, 'T' },  { "deadline", required_argument, NULL, O_DEADLINE },
    { "workers", required_argument, NULL, 'w' },  { "concurrency", required_argument, NULL, 'C' },
    { "repeat", required_argument, NULL, O_REPEAT }, { "unordered", no_argument, NULL, O_UNORDERED },
    { "no-split", no_argument, NULL, O_NO_SPLIT }, { "split", no_argument, NULL, O_SPLIT },
    { "async", no_argument, NULL, O_ASYNC },      { "summary", no_argument, NULL, O_SUMMARY },
    { "no-summary", no_argument, NULL, O_NO_SUMMARY },
    { "quiet", no_argument, NULL, 'q' },          { "verbose", no_argument, NULL, 'v' },
    { "version", no_argument, NULL, 'V' },        { "help", no_argument, NULL, 'h' },
};

static void usage(FILE *to)
{
    fputs(
"usage: graphjob [OPTIONS] URL [QUERY...]\n"
"       graphjob [OPTIONS] -c FILE [-t TARGET] [QUERY...]\n"
"       graphjob job [--status|--cancel|--clear] [OPTIONS] URL ID    (ArangoDB)\n"
"       graphjob jobs [--status done|pending] [--count N] [--clear [--before T]] [OPTIONS] URL\n"
"       graphjob demo [--build-dir DIR]\n"
"Run each QUERY as a job of libgraphjob and print each job's rows or error.\n"
"Queries: the arguments (@FILE: that file's text as one query; '-': stdin), then\n"
"-f files; stdin when none is given.  Files and stdin are split on ';' outside\n"
"strings and comments.\n"
"\n"
"Connection\n"
"  -c, --config FILE       YAML or JSON configuration instead of a URL\n"
"  -t, --target NAME       target of the configuration\n"
"  -u, --user NAME         user name (else the URL's, else NEO4J_USERNAME for Bolt)\n"
"  -p, --password[=PW]     password; -p alone prompts (else the URL's,\n"
"                          GRAPHJOB_PASSWORD, NEO4J_PASSWORD for Bolt)\n"
"  -d, --database NAME     database\n"
"  -w, --workers N         worker threads (default: the configuration's, 4)\n"
"Queries\n"
"  -P, --param NAME=JSON   a query parameter (text that is not JSON is a string)\n"
"  -o, --option KEY=JSON   a backend request option (fetch_size, batchSize, ...)\n"
"      --op OP             the operation (default \"query\")\n"
"  -f, --file FILE         read queries from FILE ('-': stdin); repeatable\n"
"      --no-split          a file or stdin is one query (the default for Gremlin)\n"
"      --async             ArangoDB: submit as a server-side job, print its id\n"
"Output\n"
"  -F, --format FMT        json (default when piped), table (on a terminal), csv, plain\n"
"      --pretty            indent the JSON (still one object per job)\n"
"      --max-width N       table: widest column in characters\n"
"      --unordered         print jobs as they finish, not in order\n"
"  -q, --quiet             no progress bar, no summary\n"
"  -v, --verbose           the library's log on stderr (-vv: debug)\n"
"Time and bulk runs\n"
"  -T, --timeout T         each job's deadline from its submission (seconds, or\n"
"                          250ms, 2s, 1m); a late job fails \"timed out after T\"\n"
"      --deadline T        the whole run's deadline: then the rest is cancelled\n"
"      --repeat N          run the queries N times\n"
"  -C, --concurrency N     jobs outstanding at once (default 256)\n"
"      --summary           counts, throughput and latency percentiles on stderr\n"
"                          (the default with --repeat or -C; --no-summary)\n"
"  -V, --version           versions and the backends of this build\n"
"  -h, --help\n"
"\n"
"URL: bolt://user@host:7687, neo4j://..., http://user@host:8529 (ArangoDB),\n"
"ws://host:8182/gremlin, graphql+http://host/graphql; settings as ?key=value.\n"
"Exit status: 0 all jobs done, 1 a query failed, 2 usage, 3 configuration,\n"
"4 connection or TLS, 5 authentication, 6 timeout, 7 cancelled.\n", to);
}

/* The backends compiled into the library: a client is made for each name
 * (nothing connects until a job runs). */
static void print_version(void)
{
    printf("graphjob (libgraphjob) %s\n", gj_version());
    if (strcmp(gj_version(), GJ_VERSION_STRING) != 0)
        printf("built with the headers of libgraphjob %s\n", GJ_VERSION_STRING);
    static const char *const names[] = { "bolt", "arango", "gremlin", "graphql" };
    printf("backends:");
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        gj_config *cfg = NULL;
        gj_client *client = NULL;
        if (gj_config_new(&cfg) == 0 &&
            gj_config_set_string(cfg, NULL, "backend", names[i], NULL) == 0 &&
            gj_config_set_string(cfg, NULL, "hosts", "127.0.0.1:1", NULL) == 0 &&
            gj_config_set_int(cfg, NULL, "workers", 1, NULL) == 0 &&
            gj_client_new(&client, cfg, NULL) == 0)
            printf(" %s", names[i]);
        gj_client_free(client);
        gj_config_free(cfg);
    }
    printf("\n");
}

static void log_to_stderr(gj_log_level level, const char *message, void *payload)
{
    (void)payload;
    fprintf(stderr, "graphjob: %s: %s\n", gj_log_level_name(level), message);
}

/* NAME=JSON: text that is not JSON is a string. */
static int parse_pair(const char *option, const char *arg, gjt_kv *kv)
{
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg)
        return gjt_usage_error("%s: expected NAME=VALUE, got '%s'", option, arg), -1;
    kv->name = strndup(arg, (size_t)(eq - arg));
    const char *json = eq + 1;
    if (gj_value_from_json(&kv->value, json, strlen(json), NULL) != 0 &&
        gj_value_new_string(&kv->value, json, strlen(json)) != 0) {
        free(kv->name);
        return gjt_usage_error("%s: '%s' is neither JSON nor UTF-8 text", option, json), -1;
    }
    return 0;
}

static int push_kv(gjt_kv **list, size_t *n, const char *option, const char *arg)
{
    gjt_kv *l = realloc(*list, (*n + 1) * sizeof *l);
    if (!l)
        return -1;
    *list = l;
    if (parse_pair(option, arg, &l[*n]) != 0)
        return -1;
    (*n)++;
    return 0;
}

static int push_option(gjt_run_options *o, const char *name, gj_value *value)
{
    gjt_kv *l = realloc(o->options, (o->n_options + 1) * sizeof *l);
    if (!l || !value) {
        gj_value_unref(value);
        return -1;
    }
    o->options = l;
    l[o->n_options].name = strdup(name);
    l[o->n_options].value = value;
    o->n_options++;
    return 0;
}

static void free_kvs(gjt_kv *l, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(l[i].name);
        gj_value_unref(l[i].value);
    }
    free(l);
}

typedef enum command { CMD_RUN, CMD_JOB, CMD_JOBS } command;

typedef struct cli {
    command cmd;
    const char *config_file, *target, *user, *database, *format;
    char *password;
    bool password_prompt, password_given;
    const char **files;
    size_t n_files;
    long workers, concurrency, repeat, max_width, count;
    bool concurrency_given, pretty, unordered, quiet, async, summary_on, summary_off;
    int split;               /* -1 default, 0 no, 1 yes */
    int verbose;
    int job_action;          /* job: GJT_JOB_*; jobs: clear or list */
    const char *status, *before;
    int64_t timeout_ms, deadline_ms;
} cli;

static int parse_options(cli *c, gjt_run_options *o, int argc, char **argv)
{
    struct option longopts[sizeof common_options / sizeof common_options[0] + 6];
    size_t n = 0;
    for (; n < sizeof common_options / sizeof common_options[0]; n++)
        longopts[n] = common_options[n];
    if (c->cmd == CMD_JOB) {
        longopts[n++] = (struct option){ "status", no_argument, NULL, O_STATUS };
        longopts[n++] = (struct option){ "cancel", no_argument, NULL, O_CANCEL };
        longopts[n++] = (struct option){ "clear", no_argument, NULL, O_CLEAR };
    } else if (c->cmd == CMD_JOBS) {
        longopts[n++] = (struct option){ "status", required_argument, NULL, O_STATUS };
        longopts[n++] = (struct option){ "count", required_argument, NULL, O_COUNT };
        longopts[n++] = (struct option){ "clear", no_argument, NULL, O_CLEAR };
        longopts[n++] = (struct option){ "before", required_argument, NULL, O_BEFORE };
    }
    longopts[n] = (struct option){ NULL, 0, NULL, 0 };

    int ch;
    while ((ch = getopt_long(argc, argv, short_options, longopts, NULL)) != -1) {
        switch (ch) {
        case 'c': c->config_file = optarg; break;
        case 't': c->target = optarg; break;
        case 'u': c->user = optarg; break;
        case 'p':
            free(c->password);
            c->password = NULL;
            c->password_prompt = optarg == NULL;
            c->password_given = true;
            if (optarg) {
                c->password = strdup(optarg);
                /* keep it out of ps from now on */
                memset(optarg, 'x', strlen(optarg));
            }
            break;
        case 'd': c->database = optarg; break;
        case 'P':
            if (push_kv(&o->params, &o->n_params, "-P/--param", optarg) != 0)
                return GJT_EXIT_USAGE;
            break;
        case 'o':
            if (push_kv(&o->options, &o->n_options, "-o/--option", optarg) != 0)
                return GJT_EXIT_USAGE;
            break;
        case O_OP: o->op = optarg; break;
        case 'f': {
            const char **f = realloc(c->files, (c->n_files + 1) * sizeof *f);
            if (!f)
                return GJT_EXIT_USAGE;
            c->files = f;
            f[c->n_files++] = optarg;
            break;
        }
        case 'F': c->format = optarg; break;
        case O_PRETTY: c->pretty = true; break;
        case O_MAX_WIDTH:
            if (gjt_parse_count("--max-width", optarg, 4, 100000, &c->max_width) != 0)
                return GJT_EXIT_USAGE;
            break;
        case 'T':
            if (gjt_parse_duration("-T/--timeout", optarg, false, &c->timeout_ms) != 0)
                return GJT_EXIT_USAGE;
            break;
        case O_DEADLINE:
            if (gjt_parse_duration("--deadline", optarg, false, &c->deadline_ms) != 0)
                return GJT_EXIT_USAGE;
            break;
        case 'w':
            if (gjt_parse_count("-w/--workers", optarg, 1, 1024, &c->workers) != 0)
                return GJT_EXIT_USAGE;
            break;
        case 'C':
            if (gjt_parse_count("-C/--concurrency", optarg, 1, 1000000, &c->concurrency) != 0)
                return GJT_EXIT_USAGE;
            c->concurrency_given = true;
            break;
        case O_REPEAT:
            if (gjt_parse_count("--repeat", optarg, 1, 1000000000, &c->repeat) != 0)
                return GJT_EXIT_USAGE;
            break;
        case O_UNORDERED: c->unordered = true; break;
        case O_NO_SPLIT: c->split = 0; break;
        case O_SPLIT: c->split = 1; break;
        case O_ASYNC: c->async = true; break;
        case O_SUMMARY: c->summary_on = true; c->summary_off = false; break;
        case O_NO_SUMMARY: c->summary_off = true; c->summary_on = false; break;
        case 'q': c->quiet = true; break;
        case 'v': c->verbose++; break;
        case 'V': print_version(); return -1;
        case 'h': usage(stdout); return -1;
        case O_STATUS:
            if (c->cmd == CMD_JOB) {
                c->job_action = GJT_JOB_STATUS;
            } else {
                if (strcmp(optarg, "done") != 0 && strcmp(optarg, "pending") != 0)
                    return gjt_usage_error("--status: expected done or pending, got '%s'", optarg);
                c->status = optarg;
            }
            break;
        case O_CANCEL: c->job_action = GJT_JOB_CANCEL; break;
        case O_CLEAR: c->job_action = GJT_JOB_CLEAR; break;
        case O_COUNT:
            if (gjt_parse_count("--count", optarg, 1, 1000000000, &c->count) != 0)
                return GJT_EXIT_USAGE;
            break;
        case O_BEFORE: c->before = optarg; break;
        default:
            return gjt_usage_error("bad usage");
        }
    }
    return 0;
}

/* The backend the target uses ("bolt", "arango", ...), or NULL. */
static const char *target_backend(const gj_config *cfg, const char *target)
{
    const char *b = NULL;
    if (gj_config_get_string(cfg, target, "backend", &b, NULL) != 0)
        return NULL;
    return b;
}

static int apply_credentials(cli *c, gj_config *cfg, const char *target, gj_error *err)
{
    const char *backend = target_backend(cfg, target);
    bool bolt = backend && strcmp(backend, "bolt") == 0;
    const char *user = c->user;
    const char *have = NULL;
    gj_config_get_string(cfg, target, "username", &have, NULL);
    if (!user && !have && bolt)
        user = getenv("NEO4J_USERNAME");
    if (user && gj_config_set_string(cfg, target, "username", user, err) != 0)
        return -1;

    char *prompted = NULL;
    const char *password = c->password;
    if (c->password_prompt) {
        prompted = gjt_prompt_password("Password: ");
        if (!prompted) {
            gjt_error("-p: no terminal to ask for the password on (give -pPASSWORD, or set "
                      "GRAPHJOB_PASSWORD)");
            return -2;
        }
        password = prompted;
    }
    if (!password) {
        const char *set = NULL;
        gj_config_get_string(cfg, target, "password", &set, NULL);
        if (!set) {
            password = getenv("GRAPHJOB_PASSWORD");
            if (!password && bolt)
                password = getenv("NEO4J_PASSWORD");
        }
    }
    int rc = 0;
    if (password && gj_config_set_string(cfg, target, "password", password, err) != 0)
        rc = -1;
    if (prompted) {
        explicit_bzero(prompted, strlen(prompted));
        free(prompted);
    }
    return rc;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "demo") == 0)
        return gjt_demo_main(argc - 1, argv + 1);

    cli c = { .cmd = CMD_RUN, .split = -1, .repeat = 1, .concurrency = 256 };
    gjt_run_options o = { .op = GJ_OP_QUERY, .repeat = 1 };
    int arg0 = 0;
    if (argc > 1 && strcmp(argv[1], "job") == 0)
        c.cmd = CMD_JOB, arg0 = 1;
    else if (argc > 1 && strcmp(argv[1], "jobs") == 0)
        c.cmd = CMD_JOBS, arg0 = 1;
    int status = parse_options(&c, &o, argc - arg0, argv + arg0);
    optind += arg0;
    gj_config *cfg = NULL;
    gj_client *client = NULL;
    gj_error *err = gj_error_new();
    char label[128];
    if (status != 0) {
        status = status < 0 ? GJT_EXIT_OK : status;
        goto out;
    }

    /* ---- what to connect to ---- */
    if (!c.config_file && optind >= argc) {
        status = gjt_usage_error("give a URL, or a configuration with -c FILE");
        goto out;
    }
    if (c.target && !c.config_file) {
        status = gjt_usage_error("-t/--target names a target of a configuration (-c FILE)");
        goto out;
    }
    int rc = c.config_file ? gj_config_load_file(&cfg, c.config_file, err)
                           : gj_config_from_url(&cfg, argv[optind++], err);
    if (rc != 0) {
        gjt_error("%s", gj_error_message(err));
        status = gjt_exit_for_code(rc == GJ_ENOMEM ? GJ_ENOMEM : GJ_ECONFIG);
        goto out;
    }
    const char *target = c.target;
    if (!target)
        target = gj_config_target_count(cfg) == 1 ? gj_config_target_name(cfg, 0) : "default";
    bool known = false;
    for (size_t i = 0; i < gj_config_target_count(cfg); i++)
        known |= strcmp(gj_config_target_name(cfg, i), target) == 0;
    if (!known) {
        gjt_error("%s: no target '%s'%s", c.config_file ? c.config_file : "URL", target,
                  c.target ? "" : " (choose one with -t)");
        status = GJT_EXIT_CONFIG;
        goto out;
    }
    const char *backend = target_backend(cfg, target);
    if ((c.workers && gj_config_set_int(cfg, NULL, "workers", c.workers, err) != 0) ||
        (rc = apply_credentials(&c, cfg, target, err)) != 0) {
        if (rc != -2)
            gjt_error("%s", gj_error_message(err));
        status = rc == -2 ? GJT_EXIT_USAGE : GJT_EXIT_CONFIG;
        goto out;
    }
    if (c.verbose)
        gj_config_set_log(cfg, log_to_stderr, c.verbose > 1 ? GJ_LOG_DEBUG : GJ_LOG_INFO, NULL);

    /* ---- what to run ---- */
    bool arango = backend && strcmp(backend, "arango") == 0;
    if ((c.async || c.cmd != CMD_RUN) && !arango) {
        status = gjt_usage_error("%s needs a backend with server-side jobs: ArangoDB (http://, "
                                 "https://, arangodb://); this target's is %s",
                                 c.cmd == CMD_RUN ? "--async" : c.cmd == CMD_JOB ? "graphjob job"
                                                                              : "graphjob jobs",
                                 backend ? backend : "unknown");
        goto out;
    }
    if (c.async && (push_option(&o, "async", gj_value_string("store")) != 0 ||
                    push_option(&o, "detach", gj_value_bool(true)) != 0)) {
        status = GJT_EXIT_USAGE;
        goto out;
    }
    if (c.cmd == CMD_JOB) {
        if (optind + 1 != argc) {
            status = gjt_usage_error("graphjob job: give one job id after the %s",
                                     c.config_file ? "options" : "URL");
            goto out;
        }
        const char *id = argv[optind];
        if (!*id || strspn(id, "0123456789") != strlen(id)) {
            status = gjt_usage_error("graphjob job: a job id is a number, got '%s'", id);
            goto out;
        }
        static const char *const ops[] = { "job.attach", "job.status", "job.cancel", "job.delete" };
        o.op = ops[c.job_action];
        push_option(&o, "id", gj_value_string(id));
        snprintf(label, sizeof label, "%s %s", o.op, id);
        o.fixed_label = label;
    } else if (c.cmd == CMD_JOBS) {
        if (optind != argc) {
            status = gjt_usage_error("graphjob jobs: unexpected argument '%s'", argv[optind]);
            goto out;
        }
        if (c.job_action == GJT_JOB_CLEAR) {
            o.op = "job.delete";
            if (c.before) {
                char *end;
                double stamp = strtod(c.before, &end);
                if (end == c.before || *end || stamp < 0) {
                    status = gjt_usage_error("--before: expected seconds since the epoch, got '%s'",
                                             c.before);
                    goto out;
                }
                push_option(&o, "which", gj_value_string("expired"));
                push_option(&o, "stamp", gj_value_float(stamp));
                snprintf(label, sizeof label, "job.delete expired %s", c.before);
            } else {
                push_option(&o, "which", gj_value_string("all"));
                snprintf(label, sizeof label, "job.delete all");
            }
        } else {
            o.op = "job.list";
            const char *st = c.status ? c.status : "done";
            push_option(&o, "status", gj_value_string(st));
            if (c.count)
                push_option(&o, "count", gj_value_int(c.count));
            snprintf(label, sizeof label, "job.list %s", st);
        }
        o.fixed_label = label;
    } else {
        bool split = c.split >= 0 ? c.split : !(backend && strcmp(backend, "gremlin") == 0);
        if (gjt_input_new(&o.input, split) != 0) {
            status = GJT_EXIT_USAGE;
            goto out;
        }
        for (size_t i = 0; i < c.n_files; i++)
            gjt_input_add_file(o.input, c.files[i]);
        for (int i = optind; i < argc; i++) {
            if (strcmp(argv[i], "-") == 0)
                gjt_input_add_file(o.input, "-");
            else if (argv[i][0] == '@' && argv[i][1])
                gjt_input_add_file_whole(o.input, argv[i] + 1);
            else
                gjt_input_add_text(o.input, argv[i]);
        }
        if (c.n_files == 0 && optind >= argc)
            gjt_input_add_file(o.input, "-");
    }

    /* ---- how to print ---- */
    o.output.out = stdout;
    o.output.format = isatty(1) ? GJT_TABLE : GJT_JSON;
    if (c.format) {
        static const struct { const char *name; gjt_format f; } formats[] = {
            { "json", GJT_JSON }, { "table", GJT_TABLE }, { "csv", GJT_CSV }, { "plain", GJT_PLAIN },
        };
        size_t i = 0;
        while (i < 4 && strcmp(formats[i].name, c.format) != 0)
            i++;
        if (i == 4) {
            status = gjt_usage_error("-F/--format: expected json, table, csv or plain, got '%s'",
                                     c.format);
            goto out;
        }
        o.output.format = formats[i].f;
    }
    o.output.json_flags = c.pretty ? GJ_JSON_PRETTY : 0;
    o.output.max_width = (int)c.max_width;
    o.target = c.target;
    o.database = c.database;
    o.repeat = c.repeat;
    o.concurrency = c.concurrency;
    o.timeout_ms = c.timeout_ms;
    o.deadline_ms = c.deadline_ms;
    o.unordered = c.unordered;
    bool bulk = c.repeat > 1 || c.concurrency_given;
    o.summary = !c.quiet && !c.summary_off && (bulk || c.summary_on);
    o.summary_if_stopped = !c.quiet && !c.summary_off;
    o.progress = !c.quiet && bulk && isatty(2);

    rc = gj_client_new(&client, cfg, err);
    gj_config_free(cfg);
    cfg = NULL;
    if (rc != 0) {
        gjt_error("%s", gj_error_message(err));
        status = gjt_exit_for_code(rc);
        goto out;
    }
    status = gjt_run(client, &o);

out:
    gj_client_free(client);
    gj_config_free(cfg);
    gj_error_free(err);
    gjt_input_free(o.input);
    free_kvs(o.params, o.n_params);
    free_kvs(o.options, o.n_options);
    if (c.password) {
        explicit_bzero(c.password, strlen(c.password));
        free(c.password);
    }
    free(c.files);
    return status;
}
