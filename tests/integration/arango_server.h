/*
 * The ArangoDB reference server (tests/servers/arango) for an integration
 * test: started and stopped by gjtest::ServerProcess (root / pw), with the
 * ArangoDB-specific helpers (URL, control requests, a test certificate).
 */
#ifndef GJ_TESTS_ARANGO_SERVER_H
#define GJ_TESTS_ARANGO_SERVER_H

#include "server_process.h"

#include <memory>
#include <string>
#include <vector>
#include <sys/types.h>

class ArangoServer {
public:
    /* args: extra command-line options (--fault ..., --password ...). */
    explicit ArangoServer(const std::vector<std::string> &args = {});
    ~ArangoServer();
    ArangoServer(const ArangoServer &) = delete;
    ArangoServer &operator=(const ArangoServer &) = delete;

    bool ok() const { return port_ > 0; }
    int port() const { return port_; }
    /* Every coordinator's port (--coordinators N prints N PORT lines). */
    const std::vector<int> &ports() const { return ports_; }
    const std::string &error() const { return error_; }
    /* "http://root:pw@127.0.0.1:PORT" with the given password. */
    std::string url(const std::string &password = "pw") const;

    /* A request to the server with libcurl (no auth: /_refserver paths;
     * HTTPS without verification when the server speaks TLS).
     * Returns the HTTP status, body in *body. */
    long request(const std::string &method, const std::string &path, const std::string &body,
                 std::string *out, bool auth = false, size_t coordinator = 0) const;

private:
    std::unique_ptr<gjtest::ServerProcess> proc_;
    int port_ = 0;
    std::vector<int> ports_;
    std::string error_;
    bool tls_ = false;            /* started with --tls-cert: request() speaks HTTPS */
};

/* Write a throw-away self-signed certificate for IP 127.0.0.1 (EC P-256,
 * valid for an hour) and its key as PEM files.  True on success. */
bool make_self_signed_cert(const std::string &cert_path, const std::string &key_path);

/* A second self-signed pair in dir, for a client: dir/client.pem and
 * dir/client-key.pem, the key encrypted (AES-128-CBC) with password.  True
 * on success; *cert and *key name the files. */
bool make_client_cert(const std::string &dir, const std::string &password, std::string *cert,
                      std::string *key);

/* The server binary, or "" when it was not built. */
std::string arango_server_path();

#endif
