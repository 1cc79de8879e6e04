/* smoke.c — a quick C-level check of arango-refserver with libcurl: starts
 * the server on port 0, speaks to it over HTTP/1.1, stops it with SIGTERM
 * and expects a clean exit.  The full certification is tests/peers
 * (arangojs); this runs without node.
 *
 * usage: arango-smoke [SERVER_BINARY]
 *   default: $ARANGO_REFSERVER, else $GJ_BUILDDIR/tests/servers/arango/arango-refserver */
#include <curl/curl.h>
#include <errno.h>
#include <json-c/json.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef struct buf {
    char *data;
    size_t len;
} buf;

typedef struct reply {
    long status;
    buf body;
    buf headers;
    json_object *json;
} reply;

static int failures;
static int checks;

static void expect(int cond, const char *what, const reply *r)
{
    checks++;
    if (cond) {
        printf("ok %d - %s\n", checks, what);
        return;
    }
    failures++;
    printf("not ok %d - %s (status %ld, body %.300s)\n", checks, what, r ? r->status : 0L,
           r && r->body.data ? r->body.data : "");
}

static size_t collect(char *p, size_t size, size_t n, void *ud)
{
    buf *b = ud;
    size_t add = size * n;
    if (b->len + add > (64u << 20))
        return 0;
    char *d = realloc(b->data, b->len + add + 1);
    if (!d)
        return 0;
    memcpy(d + b->len, p, add);
    b->data = d;
    b->len += add;
    b->data[b->len] = '\0';
    return add;
}

static void reply_free(reply *r)
{
    free(r->body.data);
    free(r->headers.data);
    json_object_put(r->json);
    memset(r, 0, sizeof *r);
}

/* One request; `auth` is "basic", "none" or a bearer token. */
static const char *tls_ca; /* set for the HTTPS phase: https:// and this CA file */

static int request(unsigned port, const char *method, const char *path, const char *body, const char *auth,
                   const char *extra_header, reply *r)
{
    memset(r, 0, sizeof *r);
    CURL *c = curl_easy_init();
    if (!c)
        return -1;
    size_t urlcap = strlen(path) + 64;
    char *url = malloc(urlcap);
    if (!url) {
        curl_easy_cleanup(c);
        return -1;
    }
    snprintf(url, urlcap, "%s://127.0.0.1:%u%s", tls_ca ? "https" : "http", port, path);
    if (tls_ca && *tls_ca)
        curl_easy_setopt(c, CURLOPT_CAINFO, tls_ca);
    struct curl_slist *h = NULL;
    char authz[2048];
    if (!strcmp(auth, "basic")) {
        curl_easy_setopt(c, CURLOPT_USERPWD, "root:");
    } else if (strcmp(auth, "none") != 0) {
        snprintf(authz, sizeof authz, "Authorization: bearer %s", auth);
        h = curl_slist_append(h, authz);
    }
    if (extra_header)
        h = curl_slist_append(h, extra_header);
    h = curl_slist_append(h, "Expect:");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r->body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &r->headers);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    }
    CURLcode rc = curl_easy_perform(c);
    if (rc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    free(url);
    if (rc != CURLE_OK)
        return -1;
    if (r->body.data)
        r->json = json_tokener_parse(r->body.data);
    return 0;
}

static long num(const reply *r, const char *key)
{
    json_object *v = NULL;
    return r->json && json_object_object_get_ex(r->json, key, &v) ? (long)json_object_get_int64(v) : -1;
}

static const char *str(const reply *r, const char *key)
{
    json_object *v = NULL;
    return r->json && json_object_object_get_ex(r->json, key, &v) ? json_object_get_string(v) : "";
}

static int has_header(const reply *r, const char *name, char *value, size_t cap)
{
    size_t n = strlen(name);
    for (const char *p = r->headers.data; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        if (!strncasecmp(p, name, n) && p[n] == ':') {
            const char *v = p + n + 1;
            while (*v == ' ')
                v++;
            size_t len = strcspn(v, "\r\n");
            if (len >= cap)
                len = cap - 1;
            memcpy(value, v, len);
            value[len] = '\0';
            return 1;
        }
    }
    return 0;
}

/* A self-signed certificate for 127.0.0.1 (EC P-256), written as PEM. */
static int make_cert(const char *cert_path, const char *key_path)
{
    int ok = 0;
    EVP_PKEY *pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    X509 *x = X509_new();
    FILE *fc = NULL, *fk = NULL;
    if (!pkey || !x)
        goto out;
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -60);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, pkey);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"127.0.0.1", -1, -1, 0);
    X509_set_issuer_name(x, name);
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
    const char *exts[][2] = { { "subjectAltName", "IP:127.0.0.1" }, { "basicConstraints", "critical,CA:TRUE" } };
    for (size_t i = 0; i < 2; i++) {
        X509_EXTENSION *e = X509V3_EXT_conf(NULL, &ctx, exts[i][0], exts[i][1]);
        if (!e)
            goto out;
        X509_add_ext(x, e, -1);
        X509_EXTENSION_free(e);
    }
    if (!X509_sign(x, pkey, EVP_sha256()))
        goto out;
    fc = fopen(cert_path, "w");
    fk = fopen(key_path, "w");
    ok = fc && fk && PEM_write_X509(fc, x) && PEM_write_PrivateKey(fk, pkey, NULL, NULL, 0, NULL, NULL);
out:
    if (fc)
        fclose(fc);
    if (fk)
        fclose(fk);
    X509_free(x);
    EVP_PKEY_free(pkey);
    return ok ? 0 : -1;
}

static pid_t start_server(const char *bin, unsigned *port, const char *cert, const char *key)
{
    int fds[2];
    if (pipe(fds) != 0)
        return -1;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        if (cert)
            execl(bin, bin, "--port", "0", "--tls-cert", cert, "--tls-key", key, (char *)NULL);
        else
            execl(bin, bin, "--port", "0", "--jwt-ttl", "1", "--max-body", "4096", "--cursor-ttl", "5",
                  "--fault", "503:path=/_api/engine,count=1", (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    char line[128];
    size_t len = 0;
    *port = 0;
    struct pollfd pfd = { .fd = fds[0], .events = POLLIN };
    time_t deadline = time(NULL) + 10;
    while (!*port && time(NULL) < deadline && len + 1 < sizeof line) {
        if (poll(&pfd, 1, 200) <= 0)
            continue;
        ssize_t got = read(fds[0], line + len, sizeof line - 1 - len);
        if (got <= 0)
            break;
        len += (size_t)got;
        line[len] = '\0';
        if (strchr(line, '\n'))
            sscanf(line, "PORT %u", port);
    }
    close(fds[0]);
    if (!*port) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        return -1;
    }
    return pid;
}

static int stop_server(pid_t pid)
{
    kill(pid, SIGTERM);
    for (int i = 0; i < 100; i++) {
        int st = 0;
        pid_t w = waitpid(pid, &st, WNOHANG);
        if (w == pid)
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        struct timespec ts = { 0, 100 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return -1;
}

static void run(unsigned port)
{
    reply r;
    char hv[256];

    request(port, "GET", "/_api/version", NULL, "none", NULL, &r);
    expect(r.status == 401 && num(&r, "errorNum") == 11 && has_header(&r, "www-authenticate", hv, sizeof hv),
           "no credentials: 401, errorNum 11, www-authenticate", &r);
    reply_free(&r);

    request(port, "GET", "/_api/version", NULL, "basic", NULL, &r);
    expect(r.status == 200 && !strcmp(str(&r, "server"), "arango"), "Basic auth: version", &r);
    reply_free(&r);

    request(port, "POST", "/_open/auth", "{\"username\":\"root\",\"password\":\"\"}", "none", NULL, &r);
    char *jwt = strdup(str(&r, "jwt"));
    expect(r.status == 200 && jwt && strchr(jwt, '.'), "POST /_open/auth returns a JWT", &r);
    reply_free(&r);
    if (jwt) {
        request(port, "GET", "/_db/_system/_api/version", NULL, jwt, NULL, &r);
        expect(r.status == 200, "bearer token accepted", &r);
        reply_free(&r);
        struct timespec ts = { 2, 200 * 1000 * 1000 }; /* --jwt-ttl 1 */
        nanosleep(&ts, NULL);
        request(port, "GET", "/_api/version", NULL, jwt, NULL, &r);
        expect(r.status == 401 && num(&r, "errorNum") == 11, "expired token rejected", &r);
        reply_free(&r);
        free(jwt);
    }

    request(port, "POST", "/_api/collection", "{\"name\":\"smoke\"}", "basic", NULL, &r);
    expect(r.status == 200 && !strcmp(str(&r, "name"), "smoke"), "create collection", &r);
    reply_free(&r);
    request(port, "POST", "/_api/document/smoke", "{\"_key\":\"k\",\"v\":1}", "basic", NULL, &r);
    expect(r.status == 202 && !strcmp(str(&r, "_id"), "smoke/k") && *str(&r, "_rev") &&
           has_header(&r, "etag", hv, sizeof hv), "insert document", &r);
    reply_free(&r);
    request(port, "POST", "/_api/document/smoke", "{\"_key\":\"k\"}", "basic", NULL, &r);
    expect(r.status == 409 && num(&r, "errorNum") == 1210, "unique constraint 409 / 1210", &r);
    reply_free(&r);
    request(port, "GET", "/_api/document/smoke/k", NULL, "basic", "If-Match: \"nope\"", &r);
    expect(r.status == 412 && num(&r, "errorNum") == 1200 && !strcmp(str(&r, "_key"), "k"),
           "If-Match mismatch 412 / 1200", &r);
    reply_free(&r);
    request(port, "GET", "/_api/document/smoke/missing", NULL, "basic", NULL, &r);
    expect(r.status == 404 && num(&r, "errorNum") == 1202, "missing document 404 / 1202", &r);
    reply_free(&r);

    request(port, "POST", "/_api/cursor", "{\"query\":\"FOR i IN 1..5 RETURN i\",\"batchSize\":2,\"count\":true}",
            "basic", NULL, &r);
    char *id = strdup(str(&r, "id"));
    json_object *hm = NULL;
    expect(r.status == 201 && num(&r, "count") == 5 && r.json && json_object_object_get_ex(r.json, "hasMore", &hm) &&
           json_object_get_boolean(hm) && !strcmp(str(&r, "nextBatchId"), "2"), "cursor: first batch", &r);
    reply_free(&r);
    char path[128];
    snprintf(path, sizeof path, "/_api/cursor/%s", id ? id : "");
    request(port, "POST", path, NULL, "basic", NULL, &r);
    expect(r.status == 200 && !strcmp(str(&r, "id"), id ? id : "-"), "cursor: next batch", &r);
    reply_free(&r);
    request(port, "DELETE", path, NULL, "basic", NULL, &r);
    expect(r.status == 202, "cursor: DELETE 202", &r);
    reply_free(&r);
    request(port, "POST", path, NULL, "basic", NULL, &r);
    expect(r.status == 404 && num(&r, "errorNum") == 1600, "cursor: gone, 404 / 1600", &r);
    reply_free(&r);
    free(id);

    request(port, "POST", "/_api/cursor", "{\"query\":\"FOR x IN RETURN x\"}", "basic", NULL, &r);
    expect(r.status == 400 && num(&r, "errorNum") == 1501 && strstr(str(&r, "errorMessage"), "syntax error"),
           "AQL syntax error 400 / 1501", &r);
    reply_free(&r);

    request(port, "PUT", "/_api/version", NULL, "basic", "x-arango-async: store", &r);
    char job[32] = "";
    expect(r.status == 202 && has_header(&r, "x-arango-async-id", job, sizeof job), "async store: 202 + id", &r);
    reply_free(&r);
    snprintf(path, sizeof path, "/_api/job/%s", job);
    long st = 0;
    for (int i = 0; i < 200 && st != 200; i++) {
        request(port, "GET", path, NULL, "basic", NULL, &r);
        st = r.status;
        reply_free(&r);
        if (st == 204) {
            struct timespec ts = { 0, 20 * 1000 * 1000 };
            nanosleep(&ts, NULL);
        }
    }
    expect(st == 200, "async job: done", NULL);
    request(port, "PUT", path, NULL, "basic", NULL, &r);
    expect(r.status == 200 && !strcmp(str(&r, "server"), "arango") && has_header(&r, "x-arango-async-id", hv, sizeof hv) &&
           !strcmp(hv, job), "async job: result replayed with x-arango-async-id", &r);
    reply_free(&r);
    request(port, "PUT", path, NULL, "basic", NULL, &r);
    expect(r.status == 404 && num(&r, "errorNum") == 404, "async job: fetched once", &r);
    reply_free(&r);

    char *big = malloc(5001);
    if (big) {
        memset(big, 'x', 5000);
        big[0] = '"';
        big[4999] = '"';
        big[5000] = '\0';
        request(port, "POST", "/_api/document/smoke", big, "basic", NULL, &r);
        expect(r.status == 413, "body over --max-body: 413", &r);
        reply_free(&r);
        free(big);
    }
    char *longpath = malloc(17100);
    if (longpath) {
        strcpy(longpath, "/_api/version/");
        memset(longpath + 14, 'y', 17000);
        longpath[17014] = '\0';
        request(port, "GET", longpath, NULL, "basic", NULL, &r);
        expect(r.status == 414, "URL over 16 KiB: 414", &r);
        reply_free(&r);
        free(longpath);
    }

    request(port, "GET", "/_api/engine", NULL, "basic", NULL, &r);
    expect(r.status == 503 && num(&r, "errorNum") == 503, "injected fault: 503", &r);
    reply_free(&r);
    request(port, "GET", "/_api/engine", NULL, "basic", NULL, &r);
    expect(r.status == 200, "fault count=1: next request served", &r);
    reply_free(&r);
}

int main(int argc, char **argv)
{
    char def[4096];
    const char *bin = argc > 1 ? argv[1] : getenv("ARANGO_REFSERVER");
    if (!bin) {
        const char *bd = getenv("GJ_BUILDDIR");
        snprintf(def, sizeof def, "%s/tests/servers/arango/arango-refserver", bd ? bd : ".");
        bin = def;
    }
    signal(SIGPIPE, SIG_IGN);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
        return 99;
    unsigned port = 0;
    pid_t pid = start_server(bin, &port, NULL, NULL);
    if (pid < 0) {
        fprintf(stderr, "arango-smoke: cannot start %s\n", bin);
        curl_global_cleanup();
        return 99;
    }
    run(port);
    int rc = stop_server(pid);
    expect(rc == 0, "server exits 0 on SIGTERM", NULL);

    /* HTTPS: --tls-cert/--tls-key with a throw-away self-signed certificate */
    char dir[] = "/tmp/arango-smoke.XXXXXX", cert[64], key[64];
    if (mkdtemp(dir)) {
        snprintf(cert, sizeof cert, "%s/cert.pem", dir);
        snprintf(key, sizeof key, "%s/key.pem", dir);
        int made = make_cert(cert, key) == 0;
        expect(made, "self-signed certificate for the HTTPS check", NULL);
        pid = made ? start_server(bin, &port, cert, key) : -1;
        expect(pid > 0, "server starts with --tls-cert/--tls-key", NULL);
        if (pid > 0) {
            reply r;
            tls_ca = cert;
            int got = request(port, "GET", "/_api/version", NULL, "basic", NULL, &r);
            expect(got == 0 && r.status == 200 && !strcmp(str(&r, "server"), "arango"), "HTTPS with the CA file", &r);
            reply_free(&r);
            tls_ca = "";
            got = request(port, "GET", "/_api/version", NULL, "basic", NULL, &r);
            expect(got != 0, "HTTPS without the CA file fails verification", &r);
            reply_free(&r);
            tls_ca = NULL;
            expect(stop_server(pid) == 0, "HTTPS server exits 0 on SIGTERM", NULL);
        }
        unlink(cert);
        unlink(key);
        rmdir(dir);
    }
    curl_global_cleanup();
    printf("1..%d\n", checks);
    return failures ? 1 : 0;
}
