#include "arango_server.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

std::string arango_server_path()
{
    const char *b = getenv("GJ_BUILDDIR");
    std::string dir = b ? b : GJ_BUILDDIR;
    std::string p = dir + "/tests/servers/arango/arango-refserver";
    return access(p.c_str(), X_OK) == 0 ? p : std::string();
}

ArangoServer::ArangoServer(const std::vector<std::string> &args)
{
    std::string bin = arango_server_path();
    if (bin.empty()) {
        error_ = "arango-refserver not built";
        return;
    }
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
        error_ = "pipe failed";
        return;
    }
    std::vector<std::string> argv_s = { bin, "--port", "0", "--user", "root", "--password", "pw" };
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<char *> argv;
    for (auto &s : argv_s)
        argv.push_back(const_cast<char *>(s.c_str()));
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    pid_t pid;
    int rc = posix_spawn(&pid, bin.c_str(), &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    if (rc != 0) {
        close(fds[0]);
        error_ = std::string("posix_spawn: ") + strerror(rc);
        return;
    }
    pid_ = pid;
    size_t want = 1;
    for (size_t i = 0; i + 1 < args.size(); i++)
        if (args[i] == "--coordinators")
            want = (size_t)atoi(args[i + 1].c_str());
    /* Read a "PORT n\n" line per coordinator within 10 s. */
    std::string line;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        long left = 10000 - ((now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000);
        if (left <= 0) {
            error_ = "no PORT line within 10 s";
            break;
        }
        struct pollfd p = { fds[0], POLLIN, 0 };
        if (poll(&p, 1, (int)left) <= 0)
            continue;
        char ch;
        ssize_t n = read(fds[0], &ch, 1);
        if (n <= 0) {
            error_ = "server exited before printing PORT";
            break;
        }
        if (ch == '\n') {
            if (line.rfind("PORT ", 0) == 0)
                ports_.push_back(atoi(line.c_str() + 5));
            line.clear();
            if (ports_.size() >= want) {
                port_ = ports_[0];
                break;
            }
            continue;
        }
        if (line.size() < 256)
            line += ch;
    }
    close(fds[0]);
}

ArangoServer::~ArangoServer()
{
    if (pid_ > 0) {
        kill(pid_, SIGTERM);
        int st;
        for (int i = 0; i < 500; i++) {   /* 5 s, then SIGKILL */
            if (waitpid(pid_, &st, WNOHANG) == pid_)
                return;
            usleep(10000);
        }
        kill(pid_, SIGKILL);
        waitpid(pid_, &st, 0);
    }
}

std::string ArangoServer::url(const std::string &password) const
{
    return "http://root:" + password + "@127.0.0.1:" + std::to_string(port_);
}

static size_t collect(char *d, size_t s, size_t n, void *p)
{
    static_cast<std::string *>(p)->append(d, s * n);
    return s * n;
}

long ArangoServer::request(const std::string &method, const std::string &path,
                           const std::string &body, std::string *out, bool auth,
                           size_t coordinator) const
{
    CURL *c = curl_easy_init();
    if (!c)
        return -1;
    int port = coordinator < ports_.size() ? ports_[coordinator] : port_;
    std::string u = "http://127.0.0.1:" + std::to_string(port) + path;
    std::string sink;
    curl_easy_setopt(c, CURLOPT_URL, u.c_str());
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
    if (!body.empty() || method == "PUT" || method == "POST") {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.c_str());
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)body.size());
    }
    if (auth) {
        curl_easy_setopt(c, CURLOPT_USERNAME, "root");
        curl_easy_setopt(c, CURLOPT_PASSWORD, "pw");
    }
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out ? out : &sink);
    long status = -1;
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    return status;
}

bool make_self_signed_cert(const std::string &cert_path, const std::string &key_path)
{
    EVP_PKEY *key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
    X509 *cert = X509_new();
    bool ok = key && cert;
    if (ok) {
        X509_set_version(cert, 2);
        ASN1_INTEGER_set(X509_get_serialNumber(cert), 42);
        X509_gmtime_adj(X509_getm_notBefore(cert), -300);
        X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
        X509_set_pubkey(cert, key);
        X509_NAME *subject = X509_get_subject_name(cert);
        X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC,
                                   reinterpret_cast<const unsigned char *>("libgraphjob test"), -1, -1, 0);
        X509_set_issuer_name(cert, subject);
        X509V3_CTX ctx;
        X509V3_set_ctx_nodb(&ctx);
        X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
        const char *ext[2][2] = { { "subjectAltName", "IP:127.0.0.1" },
                                  { "basicConstraints", "critical,CA:TRUE" } };
        for (auto &e : ext) {
            X509_EXTENSION *x = X509V3_EXT_conf(nullptr, &ctx, e[0], e[1]);
            ok = ok && x && X509_add_ext(cert, x, -1);
            X509_EXTENSION_free(x);
        }
        ok = ok && X509_sign(cert, key, EVP_sha256()) > 0;
    }
    if (ok) {
        FILE *fc = fopen(cert_path.c_str(), "w");
        FILE *fk = fopen(key_path.c_str(), "w");
        ok = fc && fk && PEM_write_X509(fc, cert) &&
             PEM_write_PrivateKey(fk, key, nullptr, nullptr, 0, nullptr, nullptr);
        if (fc)
            fclose(fc);
        if (fk)
            fclose(fk);
    }
    X509_free(cert);
    EVP_PKEY_free(key);
    return ok;
}
