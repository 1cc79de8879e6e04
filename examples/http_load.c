/*
 * examples/http_load — the load test of examples/http_service: C requests
 * at once (libcurl multi, one thread), N in all, half of them a slow query
 * and half a quick one whose answer must be its own (n echoed back), then
 * the service's /stats: how many requests were in flight at once, next to
 * its HTTP threads and the library's workers and connections.
 *
 *   ./http_load http://127.0.0.1:8080 [N] [C] [SLOW_QUERY] [QUICK_QUERY]
 *   defaults: 400, 64, "CALL apoc.util.sleep(5)", "RETURN $n AS n" (Cypher)
 *
 * Exit status 0 when every answer was 200 and right, and more requests were
 * in flight at once than the service has threads and connections together
 * (no thread waited for the database).
 */
#include <curl/curl.h>

#include <stdbool.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct transfer {
    CURL *easy;
    char url[1024];
    long n;                  /* the quick query's parameter, or -1 */
    char body[4096];
    size_t len;
} transfer;

static size_t on_data(char *p, size_t size, size_t nmemb, void *userdata)
{
    transfer *t = userdata;
    size_t n = size * nmemb;
    size_t room = sizeof t->body - 1 - t->len;
    memcpy(t->body + t->len, p, n < room ? n : room);
    t->len += n < room ? n : room;
    t->body[t->len] = '\0';
    return n;
}

static void start(CURLM *multi, transfer *t, const char *base, long i, const char *slow,
                  const char *quick)
{
    t->len = 0;
    t->body[0] = '\0';
    t->n = i % 2 ? i : -1;
    char *q = curl_easy_escape(t->easy, t->n >= 0 ? quick : slow, 0);
    if (t->n >= 0)
        snprintf(t->url, sizeof t->url, "%s/query?q=%s&n=%ld", base, q, t->n);
    else
        snprintf(t->url, sizeof t->url, "%s/query?q=%s", base, q);
    curl_free(q);
    curl_easy_setopt(t->easy, CURLOPT_URL, t->url);
    curl_multi_add_handle(multi, t->easy);
}

static long json_long(const char *json, const char *key)
{
    char k[64];
    snprintf(k, sizeof k, "\"%s\":", key);
    const char *p = strstr(json, k);
    return p ? strtol(p + strlen(k), NULL, 10) : -1;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: http_load BASE_URL [N] [C] [SLOW_QUERY] [QUICK_QUERY]\n");
        return 2;
    }
    const char *base = argv[1];
    long total = argc > 2 ? atol(argv[2]) : 400, conc = argc > 3 ? atol(argv[3]) : 64;
    const char *slow = argc > 4 ? argv[4] : "CALL apoc.util.sleep(5)";
    const char *quick = argc > 5 ? argv[5] : "RETURN $n AS n";
    if (conc > total)
        conc = total;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURLM *multi = curl_multi_init();
    curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, conc);
    transfer *ts = calloc((size_t)conc, sizeof *ts);
    long next = 0, finished = 0, ok = 0, wrong = 0;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long i = 0; i < conc; i++) {
        ts[i].easy = curl_easy_init();
        curl_easy_setopt(ts[i].easy, CURLOPT_WRITEFUNCTION, on_data);
        curl_easy_setopt(ts[i].easy, CURLOPT_WRITEDATA, &ts[i]);
        curl_easy_setopt(ts[i].easy, CURLOPT_PRIVATE, &ts[i]);
        curl_easy_setopt(ts[i].easy, CURLOPT_TIMEOUT, 120L);
        curl_easy_setopt(ts[i].easy, CURLOPT_NOSIGNAL, 1L);
        start(multi, &ts[i], base, next++, slow, quick);
    }
    while (finished < total) {
        int running;
        curl_multi_perform(multi, &running);
        CURLMsg *m;
        int left;
        while ((m = curl_multi_info_read(multi, &left))) {
            if (m->msg != CURLMSG_DONE)
                continue;
            transfer *t;
            curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&t);
            long status = 0;
            curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &status);
            char want[64];
            snprintf(want, sizeof want, "[[%ld]]", t->n);
            bool right = m->data.result == CURLE_OK && status == 200 &&
                         (t->n < 0 || strstr(t->body, want));
            if (right) {
                ok++;
            } else if (wrong++ < 3) {
                fprintf(stderr, "%s: %s, HTTP %ld: %s\n", t->url,
                        curl_easy_strerror(m->data.result), status, t->body);
            }
            finished++;
            curl_multi_remove_handle(multi, t->easy);
            if (next < total)
                start(multi, t, base, next++, slow, quick);
        }
        if (finished < total)
            curl_multi_poll(multi, NULL, 0, 1000, NULL);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;

    /* What the service saw. */
    transfer st = { 0 };
    st.easy = curl_easy_init();
    snprintf(st.url, sizeof st.url, "%s/stats", base);
    curl_easy_setopt(st.easy, CURLOPT_URL, st.url);
    curl_easy_setopt(st.easy, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(st.easy, CURLOPT_WRITEDATA, &st);
    curl_easy_perform(st.easy);
    long max_in_flight = json_long(st.body, "max_in_flight");
    long threads = json_long(st.body, "http_threads"), conns = json_long(st.body, "max_conns");
    long workers = json_long(st.body, "workers");
    printf("%ld requests, %ld at once: %ld answered right, %ld not, in %.2f s (%.0f requests/s)\n",
           total, conc, ok, wrong, secs, secs > 0 ? (double)total / secs : 0.0);
    printf("the service had %ld HTTP threads, %ld library workers and %ld connections; "
           "up to %ld requests were in flight at once\n", threads, workers, conns, max_in_flight);
    bool shared = max_in_flight > threads + conns;
    if (!shared)
        printf("(fewer requests at once than threads + connections: nothing shown about sharing)\n");
    for (long i = 0; i < conc; i++)
        curl_easy_cleanup(ts[i].easy);
    curl_easy_cleanup(st.easy);
    free(ts);
    curl_multi_cleanup(multi);
    curl_global_cleanup();
    return ok == total && shared ? 0 : 1;
}
