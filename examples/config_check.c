/*
 * examples/config_check — load a configuration (a URL, or a YAML/JSON file)
 * and print what the client would use, with errors that name the problem.
 * Uses only the installed public API:
 *
 *   cc config_check.c $(pkg-config --cflags --libs graphjob)
 *   ./config_check 'bolt://neo4j:secret@db1,db2:7687?max_conns=8'
 *   ./config_check graphjob.yaml
 */
#include <graphjob.h>

#include <stdio.h>
#include <string.h>

static const char *const keys[] = { "backend", "scheme", "hosts", "database", "username",
                                     "max_conns", "acquire_timeout", "response_timeout",
                                     NULL };

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s URL | FILE.yaml | FILE.json\n", argv[0]);
        return 2;
    }
    gj_error *err = gj_error_new();
    gj_config *cfg = NULL;
    int rc = strstr(argv[1], "://") ? gj_config_from_url(&cfg, argv[1], err)
                                    : gj_config_load_file(&cfg, argv[1], err);
    if (rc) {
        fprintf(stderr, "%s: %s\n", gj_code_name(rc), gj_error_message(err));
        gj_error_free(err);
        return 1;
    }
    int64_t workers = 0, queue = 0;
    gj_config_get_int(cfg, NULL, "workers", &workers, err);
    gj_config_get_int(cfg, NULL, "queue_size", &queue, err);
    printf("libgraphjob %s: %lld workers, queue_size %lld\n", gj_version(), (long long)workers,
           (long long)queue);
    for (size_t i = 0; i < gj_config_target_count(cfg); i++) {
        const char *name = gj_config_target_name(cfg, i);
        printf("target %s\n", name);
        for (size_t k = 0; keys[k]; k++) {
            const char *text = NULL;
            int64_t n = 0;
            if (gj_config_get_string(cfg, name, keys[k], &text, NULL) == 0) {
                printf("  %-17s %s\n", keys[k], text ? text : "(unset)");
            } else if (gj_config_get_duration(cfg, name, keys[k], &n, NULL) == 0) {
                printf("  %-17s %lld ms\n", keys[k], (long long)n);
            } else if (gj_config_get_int(cfg, name, keys[k], &n, NULL) == 0) {
                printf("  %-17s %lld\n", keys[k], (long long)n);
            }
        }
    }
    gj_config_free(cfg);
    gj_error_free(err);
    return 0;
}
