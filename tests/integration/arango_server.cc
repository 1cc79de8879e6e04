#include "arango_server.h"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <string.h>
#include <unistd.h>

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
    std::vector<std::string> all = { "--port", "0", "--user", "root", "--password", "pw" };
    all.insert(all.end(), args.begin(), args.end());
    int want = 1;   /* --coordinators N prints N PORT lines */
    for (size_t i = 0; i + 1 < args.size(); i++) {
        if (args[i] == "--coordinators")
            want = atoi(args[i + 1].c_str());
        if (args[i] == "--tls-cert")
            tls_ = true;
    }
    proc_.reset(new gjtest::ServerProcess(bin, all, want, 10000));
    if (!proc_->ok()) {
        error_ = proc_->error();
        return;
    }
    for (int i = 0; i < want; i++)
        ports_.push_back(proc_->port((size_t)i));
    port_ = ports_[0];
}

ArangoServer::~ArangoServer() = default;

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
    std::string u = (tls_ ? "https://127.0.0.1:" : "http://127.0.0.1:") + std::to_string(port) + path;
    std::string sink;
    curl_easy_setopt(c, CURLOPT_URL, u.c_str());
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
    if (tls_) {
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    }
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

bool make_client_cert(const std::string &dir, const std::string &password, std::string *cert,
                      std::string *key)
{
    *cert = dir + "/client.pem";
    *key = dir + "/client-key.pem";
    std::string plain = dir + "/client-plain-key.pem";
    if (!make_self_signed_cert(*cert, plain))
        return false;
    FILE *in = fopen(plain.c_str(), "r");
    EVP_PKEY *pk = in ? PEM_read_PrivateKey(in, nullptr, nullptr, nullptr) : nullptr;
    if (in)
        fclose(in);
    unlink(plain.c_str());
    FILE *out = pk ? fopen(key->c_str(), "w") : nullptr;
    bool ok = out && PEM_write_PrivateKey(out, pk, EVP_aes_128_cbc(),
                                          reinterpret_cast<const unsigned char *>(password.data()),
                                          static_cast<int>(password.size()), nullptr, nullptr);
    if (out)
        fclose(out);
    EVP_PKEY_free(pk);
    return ok;
}
