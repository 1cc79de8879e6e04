/*
 * libFuzzer target: URLs (gj_config_from_url, gj_config_add_url).
 *
 * Input: the URL text (cut at the first NUL byte).  A URL that parses is
 * read back through the getters ("url" redacted, "hosts", the credentials,
 * the durations and sizes), added again as a second target of the same
 * configuration and copied; one that does not parse leaves no configuration
 * and always says why.  The getters never hand out a secret: "password"
 * reads "***" or NULL.  Everything must be freed (ASan's leak check).
 *
 * Build: configure --enable-fuzzing CC=clang CXX=clang++; make tests/fuzz/url_fuzz
 * Run:   tests/fuzz/url_fuzz -max_total_time=60 $(srcdir)/tests/fuzz/corpus/url
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
    setenv("GJ_URL_FUZZ_PASSWORD", "fuzz", 1);
    return 0;
}

static void read_back(const gj_config *cfg, const char *name)
{
    const char *s = NULL;
    int64_t v;
    bool b;
    if (gj_config_get_string(cfg, name, "url", &s, NULL) != 0 || s == NULL ||
        strstr(s, "://") == NULL)
        abort();
    if (gj_config_get_string(cfg, name, "hosts", &s, NULL) != 0 ||
        gj_config_get_string(cfg, name, "username", &s, NULL) != 0 ||
        gj_config_get_string(cfg, name, "backend", &s, NULL) != 0 ||
        gj_config_get_string(cfg, name, "path", &s, NULL) != 0 ||
        gj_config_get_int(cfg, name, "max_result_size", &v, NULL) != 0 ||
        gj_config_get_duration(cfg, name, "connect_retry", &v, NULL) != 0 ||
        gj_config_get_bool(cfg, name, "ssl_verify", &b, NULL) != 0)
        abort();
    if (gj_config_get_string(cfg, name, "password", &s, NULL) != 0 ||
        (s != NULL && strcmp(s, "***") != 0))
        abort();
    if (gj_config_get_string(cfg, name, "ssl_password", &s, NULL) != 0 ||
        (s != NULL && strcmp(s, "***") != 0))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gj_error *err = gj_error_new();
    char *url = malloc(size + 1);
    if (err == NULL || url == NULL) {
        gj_error_free(err);
        free(url);
        return 0;
    }
    memcpy(url, data, size);
    url[size] = '\0';

    gj_config *cfg = NULL;
    int rc = gj_config_from_url(&cfg, url, err);
    if (rc == 0) {
        if (cfg == NULL || gj_config_target_count(cfg) != 1)
            abort();
        read_back(cfg, NULL);
        /* The same URL as another target, then over the first one. */
        if (gj_config_add_url(cfg, "second", url, err) == 0) {
            read_back(cfg, "second");
            if (gj_config_add_url(cfg, NULL, url, err) != 0)
                abort();
        }
        gj_config *copy = NULL;
        if (gj_config_copy(&copy, cfg) == 0) {
            if (gj_config_target_count(copy) != gj_config_target_count(cfg))
                abort();
            read_back(copy, NULL);
            gj_config_free(copy);
        }
        gj_config_free(cfg);
    } else if (cfg != NULL || rc != gj_error_code(err) || gj_error_message(err)[0] == '\0') {
        abort(); /* a failure leaves no config and always says why */
    }
    free(url);
    gj_error_free(err);
    return 0;
}
