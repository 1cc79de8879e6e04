/*
 * libFuzzer target: configuration text (YAML, JSON) and URLs.
 *
 * Input: byte 0 chooses what the rest is: bit 0 = YAML or JSON, bit 1 = a
 * URL instead of a file.  Whatever parses is read back through the getters
 * and deep-copied; everything must be freed (ASan's leak check).
 *
 * Build: configure --enable-fuzzing CC=clang CXX=clang++; make tests/fuzz/config_fuzz
 * Run:   tests/fuzz/config_fuzz -max_total_time=60 $(srcdir)/tests/fuzz/corpus/config
 */
#include <graphjob.h>

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    /* The corpus' password_env names this variable. */
    setenv("GJ_CONFIG_TEST_PASSWORD", "fuzz", 1);
    return 0;
}

static void read_back(const gj_config *cfg)
{
    gj_config *copy = NULL;
    for (size_t i = 0; i < gj_config_target_count(cfg); i++) {
        const char *name = gj_config_target_name(cfg, i);
        const char *s = NULL;
        int64_t v;
        bool b;
        if (name == NULL)
            abort();
        if (gj_config_get_string(cfg, name, "hosts", &s, NULL) != 0 ||
            gj_config_get_string(cfg, name, "url", &s, NULL) != 0 ||
            gj_config_get_int(cfg, name, "max_conns", &v, NULL) != 0 ||
            gj_config_get_duration(cfg, name, "liveness_check", &v, NULL) != 0 ||
            gj_config_get_bool(cfg, name, "ssl_verify", &b, NULL) != 0)
            abort();
    }
    if (gj_config_copy(&copy, cfg) == 0) {
        if (gj_config_target_count(copy) != gj_config_target_count(cfg))
            abort();
        gj_config_free(copy);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gj_config *cfg = NULL;
    gj_error *err = gj_error_new();
    if (size == 0 || err == NULL) {
        gj_error_free(err);
        return 0;
    }
    uint8_t mode = data[0];
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    int rc;

    if (mode & 2) {
        char *url = malloc(len + 1);
        if (url == NULL) {
            gj_error_free(err);
            return 0;
        }
        memcpy(url, text, len);
        url[len] = '\0';
        rc = gj_config_from_url(&cfg, url, err);
        free(url);
    } else {
        rc = gj_config_parse(&cfg, text, len, (mode & 1) ? GJ_CONFIG_JSON : GJ_CONFIG_YAML,
                             "fuzz", err);
    }
    if (rc == 0) {
        read_back(cfg);
        gj_config_free(cfg);
    } else if (cfg != NULL || gj_error_message(err)[0] == '\0') {
        abort();  /* a failure leaves no config and always says why */
    }
    gj_error_free(err);
    return 0;
}
