// The ArangoDB request path's edge cases (lib/backend/arango/conn.c and
// cursor.c), through the public API against arango-refserver: Basic
// credentials of any bytes (the Authorization line is built by the backend),
// replies nested deeper than the first, small tokener, the plain
// {"query": text} body next to the general one, and URLs longer than the
// backend's stack buffer or with a database name that needs escaping.
#include <gtest/gtest.h>

#include <graphjob.h>

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "arango_server.h"

namespace {

struct Err {
    gj_error *e = gj_error_new();
    ~Err() { gj_error_free(e); }
    std::string msg() const { return gj_error_message(e); }
};

std::string json(const gj_value *v)
{
    char *text = nullptr;
    if (!v || gj_value_to_json(v, 0, &text, nullptr) != 0)
        return "<null>";
    std::string s(text);
    gj_free(text);
    return s;
}

/* Percent-encode everything but unreserved characters (for the URL's userinfo). */
std::string pct(const std::string &s)
{
    static const char hex[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char ch : s) {
        if (isalnum(ch) || ch == '-' || ch == '.' || ch == '_' || ch == '~') {
            out += (char)ch;
        } else {
            out += '%';
            out += hex[ch >> 4];
            out += hex[ch & 15];
        }
    }
    return out;
}

/* A scripted HTTP/1.1 peer on 127.0.0.1 that keeps the head of every
 * request on one connection and answers each with 200 and a cursor body of
 * one row; every wait is bounded (5 s). */
class CapturePeer {
public:
    CapturePeer()
    {
        lfd_ = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        if (lfd_ < 0 || bind(lfd_, (sockaddr *)&a, sizeof a) != 0 || listen(lfd_, 4) != 0 ||
            getsockname(lfd_, (sockaddr *)&a, &len) != 0)
            return;
        port_ = ntohs(a.sin_port);
        th_ = std::thread([this] { serve(); });
    }
    ~CapturePeer()
    {
        stop_ = true;
        if (th_.joinable())
            th_.join();
        if (lfd_ >= 0)
            close(lfd_);
    }
    int port() const { return port_; }
    std::vector<std::string> heads()
    {
        std::lock_guard<std::mutex> g(mu_);
        return heads_;
    }

private:
    bool readable(int fd)
    {
        for (int i = 0; i < 50 && !stop_; i++) {
            pollfd p = { fd, POLLIN, 0 };
            if (poll(&p, 1, 100) > 0)
                return true;
        }
        return false;
    }
    void serve()
    {
        if (!readable(lfd_))
            return;
        int fd = accept(lfd_, nullptr, nullptr);
        if (fd < 0)
            return;
        std::string in;
        char buf[4096];
        while (readable(fd)) {
            ssize_t n = read(fd, buf, sizeof buf);
            if (n <= 0)
                break;
            in.append(buf, (size_t)n);
            size_t end;
            while ((end = in.find("\r\n\r\n")) != std::string::npos) {
                std::string head = in.substr(0, end + 2);
                size_t body = 0, cl = head.find("Content-Length: ");
                if (cl != std::string::npos)
                    body = strtoul(head.c_str() + cl + 16, nullptr, 10);
                if (in.size() < end + 4 + body)
                    break;
                in.erase(0, end + 4 + body);
                {
                    std::lock_guard<std::mutex> g(mu_);
                    heads_.push_back(head);
                }
                static const char reply_body[] = "{\"result\":[1],\"hasMore\":false}";
                std::string reply = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                    "Content-Length: " + std::to_string(sizeof reply_body - 1) +
                                    "\r\n\r\n" + reply_body;
                if (write(fd, reply.data(), reply.size()) != (ssize_t)reply.size())
                    break;
            }
        }
        close(fd);
    }

    int lfd_ = -1;
    int port_ = 0;
    std::atomic<bool> stop_{ false };
    std::thread th_;
    std::mutex mu_;
    std::vector<std::string> heads_;
};

/* Every line of `head` that starts with `name` (case as sent). */
std::vector<std::string> header_lines(const std::string &head, const std::string &name)
{
    std::vector<std::string> out;
    size_t pos = 0;
    while (pos < head.size()) {
        size_t eol = head.find("\r\n", pos);
        if (eol == std::string::npos)
            eol = head.size();
        std::string line = head.substr(pos, eol - pos);
        if (line.compare(0, name.size(), name) == 0)
            out.push_back(line);
        pos = eol + 2;
    }
    return out;
}

TEST(ArangoRequestHeaders, BasicLineAndHeadersOnTheWire)
{
    struct Case {
        const char *user, *password, *base64;
    };
    // Each remainder of base64's last group, and bytes that need encoding.
    const Case cases[] = {
        { "root", "pw", "cm9vdDpwdw==" },
        { "root", "pw1", "cm9vdDpwdzE=" },
        { "root", "x", "cm9vdDp4" },
        { "\xc3\xbc", "a:b", "w7w6YTpi" },
    };
    for (const Case &c : cases) {
        SCOPED_TRACE(c.base64);
        CapturePeer peer;
        ASSERT_GT(peer.port(), 0);
        std::string url = "http://" + pct(c.user) + ":" + pct(c.password) + "@127.0.0.1:" +
                          std::to_string(peer.port());
        Err err;
        gj_config *cfg = nullptr;
        ASSERT_EQ(0, gj_config_from_url(&cfg, url.c_str(), err.e)) << err.msg();
        gj_client *client = nullptr;
        int rc = gj_client_new(&client, cfg, err.e);
        gj_config_free(cfg);
        ASSERT_EQ(0, rc) << err.msg();
        gj_request *req = nullptr;
        ASSERT_EQ(0, gj_request_new_query(&req, "RETURN 1"));
        gj_result *res = nullptr;
        EXPECT_EQ(0, gj_client_execute(client, req, 5000, &res, err.e)) << err.msg();
        gj_result_free(res);
        gj_request_unref(req);
        gj_client_free(client);

        auto heads = peer.heads();
        ASSERT_GE(heads.size(), 2u);   // GET /_api/version on connect, then the cursor
        bool saw_post = false;
        for (const auto &h : heads) {
            auto auth = header_lines(h, "Authorization:");
            ASSERT_EQ(1u, auth.size()) << h;
            EXPECT_EQ(std::string("Authorization: Basic ") + c.base64, auth[0]) << h;
            EXPECT_EQ(1u, header_lines(h, "Accept: application/json").size()) << h;
            EXPECT_EQ(0u, header_lines(h, "Expect:").size()) << h;
            if (h.compare(0, 5, "POST ") == 0) {
                saw_post = true;
                EXPECT_EQ(0u, h.find("POST /_db/_system/_api/cursor HTTP/1.1\r\n")) << h;
                EXPECT_EQ(1u, header_lines(h, "Content-Type: application/json").size()) << h;
            }
        }
        EXPECT_TRUE(saw_post);
    }
}

// The base URL is parsed once per connection and each request sets only its
// path and query: a query string must not stay for the next request, and a
// database prefix must come and go with the request.
TEST(ArangoRequestHeaders, PathAndQueryOfEachRequestOnTheWire)
{
    CapturePeer peer;
    ASSERT_GT(peer.port(), 0);
    // One worker and one connection: the peer serves a single connection.
    std::string url = "http://root:pw@127.0.0.1:" + std::to_string(peer.port()) + "?max_conns=1";
    Err err;
    gj_config *cfg = nullptr;
    ASSERT_EQ(0, gj_config_from_url(&cfg, url.c_str(), err.e)) << err.msg();
    ASSERT_EQ(0, gj_config_set_int(cfg, nullptr, "workers", 1, err.e)) << err.msg();
    gj_client *client = nullptr;
    int rc = gj_client_new(&client, cfg, err.e);
    gj_config_free(cfg);
    ASSERT_EQ(0, rc) << err.msg();

    auto http = [&](const char *path, gj_value *query, const char *db) {
        gj_request *req = nullptr;
        EXPECT_EQ(0, gj_request_new(&req, "http", nullptr));
        EXPECT_EQ(0, gj_request_set_option(req, "path", gj_value_string(path)));
        if (query) {
            EXPECT_EQ(0, gj_request_set_option(req, "query", query));
        }
        if (db) {
            EXPECT_EQ(0, gj_request_set_database(req, db));
        }
        gj_result *res = nullptr;
        EXPECT_EQ(0, gj_client_execute(client, req, 5000, &res, err.e)) << err.msg();
        gj_result_free(res);
        gj_request_unref(req);
    };
    gj_value *q = nullptr;
    ASSERT_EQ(0, gj_value_new_map(&q, 2));
    ASSERT_EQ(0, gj_value_map_put_str(q, "details", gj_value_bool(true)));
    http("/_api/version", q, nullptr);
    http("/_api/version", nullptr, nullptr);
    gj_value *q2 = nullptr;
    ASSERT_EQ(0, gj_value_new_map(&q2, 2));
    ASSERT_EQ(0, gj_value_map_put_str(q2, "count", gj_value_int(3)));
    http("/_api/job/done", q2, "other");
    http("/_api/collection", nullptr, nullptr);
    gj_client_free(client);

    auto heads = peer.heads();
    std::vector<std::string> lines;
    for (const auto &h : heads)
        lines.push_back(h.substr(0, h.find("\r\n")));
    // The first is the GET /_api/version the connection makes when it opens.
    ASSERT_EQ(5u, lines.size());
    EXPECT_EQ("GET /_api/version HTTP/1.1", lines[0]);
    EXPECT_EQ("GET /_db/_system/_api/version?details=true HTTP/1.1", lines[1]);
    EXPECT_EQ("GET /_db/_system/_api/version HTTP/1.1", lines[2]);
    EXPECT_EQ("GET /_db/other/_api/job/done?count=3 HTTP/1.1", lines[3]);
    EXPECT_EQ("GET /_db/_system/_api/collection HTTP/1.1", lines[4]);
}

class ArangoRequestTest : public ::testing::Test {
protected:
    std::unique_ptr<ArangoServer> server;
    gj_client *client = nullptr;
    Err err;

    void SetUp() override
    {
        if (arango_server_path().empty())
            GTEST_SKIP() << "arango-refserver not built";
    }
    void TearDown() override { gj_client_free(client); }

    void start(const std::vector<std::string> &server_args = {}, const std::string &password = "pw")
    {
        server.reset(new ArangoServer(server_args));
        ASSERT_TRUE(server->ok()) << server->error();
        std::string url = "http://root:" + pct(password) + "@127.0.0.1:" +
                          std::to_string(server->port());
        gj_config *cfg = nullptr;
        ASSERT_EQ(0, gj_config_from_url(&cfg, url.c_str(), err.e)) << err.msg();
        ASSERT_EQ(0, gj_config_set_duration(cfg, "default", "acquire_timeout", 2000, err.e))
            << err.msg();
        int rc = gj_client_new(&client, cfg, err.e);
        gj_config_free(cfg);
        ASSERT_EQ(0, rc) << err.msg();
    }
    /* Run a query (params and options taken over); *res gets the result. */
    int query(const std::string &text, gj_result **res,
              std::initializer_list<std::pair<const char *, gj_value *>> params = {},
              std::initializer_list<std::pair<const char *, gj_value *>> opts = {},
              const char *database = nullptr)
    {
        gj_request *req = nullptr;
        EXPECT_EQ(0, gj_request_new_query(&req, text.c_str()));
        for (auto &p : params)
            EXPECT_EQ(0, gj_request_set_param(req, p.first, p.second));
        for (auto &o : opts)
            EXPECT_EQ(0, gj_request_set_option(req, o.first, o.second));
        if (database) {
            EXPECT_EQ(0, gj_request_set_database(req, database));
        }
        gj_error_clear(err.e);
        *res = nullptr;
        int rc = gj_client_execute(client, req, 20000, res, err.e);
        gj_request_unref(req);
        return rc;
    }
};

TEST_F(ArangoRequestTest, BasicCredentialsOfAnyBytes)
{
    // 1, 2 and 3 bytes left over for base64's last group across the three
    // passwords; ':' and non-ASCII inside the password.
    for (const std::string &pw : { std::string("p:\xc3\xa4 \xc3\x9f/%"), std::string("pw"),
                                  std::string("x") }) {
        SCOPED_TRACE(pw);
        gj_client_free(client);
        client = nullptr;
        start({ "--password", pw }, pw);
        if (HasFatalFailure())
            return;
        gj_result *res = nullptr;
        ASSERT_EQ(0, query("RETURN 1", &res)) << err.msg();
        int64_t one = 0;
        ASSERT_EQ(1u, gj_result_row_count(res));
        EXPECT_EQ(0, gj_value_int_get(gj_result_row(res, 0), &one));
        EXPECT_EQ(1, one);
        gj_result_free(res);
    }
}

TEST_F(ArangoRequestTest, WrongBasicPasswordIsStillAnAuthError)
{
    start({ "--password", "right" }, "wr:ong");
    if (HasFatalFailure())
        return;
    gj_result *res = nullptr;
    EXPECT_EQ(GJ_EAUTH, query("RETURN 1", &res)) << err.msg();
    EXPECT_EQ(401, gj_error_http_status(err.e)) << err.msg();
    EXPECT_NE(std::string::npos, err.msg().find("127.0.0.1:" + std::to_string(server->port())))
        << err.msg();
}

TEST_F(ArangoRequestTest, RepliesNestedDeeperThanTheFirstTokener)
{
    start();
    if (HasFatalFailure())
        return;
    // The reply adds two levels ({"result": [...]}); the reference server
    // takes request bodies up to json-c's default depth of 32.
    for (int depth : { 1, 10, 21, 22, 23, 24, 25, 26, 29 }) {
        SCOPED_TRACE(depth);
        gj_value *v = gj_value_int(7);
        for (int i = 0; i < depth; i++) {
            gj_value *l = nullptr;
            ASSERT_EQ(0, gj_value_new_list(&l, 1));
            ASSERT_EQ(0, gj_value_list_append(l, v));
            v = l;
        }
        gj_value *expect = gj_value_ref(v);
        gj_result *res = nullptr;
        ASSERT_EQ(0, query("RETURN @v", &res, { { "v", v } })) << err.msg();
        ASSERT_EQ(1u, gj_result_row_count(res));
        EXPECT_TRUE(gj_value_equal(expect, gj_result_row(res, 0)))
            << json(gj_result_row(res, 0));
        gj_value_unref(expect);
        gj_result_free(res);
    }
}

TEST_F(ArangoRequestTest, PlainAndGeneralBodiesAgree)
{
    start();
    if (HasFatalFailure())
        return;
    gj_result *plain = nullptr, *with_opt = nullptr, *with_param = nullptr;
    ASSERT_EQ(0, query("FOR i IN 1..5 RETURN i", &plain)) << err.msg();
    ASSERT_EQ(0, query("FOR i IN 1..5 RETURN i", &with_opt, {},
                       { { "batchSize", gj_value_int(2) } }))
        << err.msg();
    gj_value *xs = nullptr;
    ASSERT_EQ(0, gj_value_new_list(&xs, 5));
    for (int i = 1; i <= 5; i++)
        ASSERT_EQ(0, gj_value_list_append(xs, gj_value_int(i)));
    ASSERT_EQ(0, query("FOR i IN @xs RETURN i", &with_param, { { "xs", xs } })) << err.msg();
    ASSERT_EQ(5u, gj_result_row_count(plain));
    ASSERT_EQ(5u, gj_result_row_count(with_opt));
    ASSERT_EQ(5u, gj_result_row_count(with_param));
    for (size_t i = 0; i < 5; i++) {
        int64_t a = 0, b = 0, c = 0;
        EXPECT_EQ(0, gj_value_int_get(gj_result_row(plain, i), &a));
        EXPECT_EQ(0, gj_value_int_get(gj_result_row(with_opt, i), &b));
        EXPECT_EQ(0, gj_value_int_get(gj_result_row(with_param, i), &c));
        EXPECT_EQ((int64_t)i + 1, a);
        EXPECT_EQ(a, b);
        EXPECT_EQ(a, c);
    }
    // Meta of a plain query: extra, and its stats and warnings on their own.
    const gj_value *meta = gj_result_meta(plain);
    const gj_value *extra = gj_value_map_get(meta, "extra");
    ASSERT_NE(nullptr, extra) << json(meta);
    EXPECT_TRUE(gj_value_equal(gj_value_map_get(extra, "stats"), gj_value_map_get(meta, "stats")))
        << json(meta);
    EXPECT_TRUE(gj_value_equal(gj_value_map_get(extra, "warnings"),
                               gj_value_map_get(meta, "warnings")))
        << json(meta);
    EXPECT_NE(nullptr, gj_value_map_get(meta, "stats")) << json(meta);
    gj_result_free(plain);
    gj_result_free(with_opt);
    gj_result_free(with_param);

    // AQL text that is not UTF-8 is refused before anything is sent.
    gj_result *res = nullptr;
    EXPECT_EQ(GJ_EINVAL, query("RETURN \"\xff\"", &res));
    EXPECT_NE(std::string::npos, err.msg().find("UTF-8")) << err.msg();
}

TEST_F(ArangoRequestTest, LongAndEscapedDatabaseNames)
{
    start();
    if (HasFatalFailure())
        return;
    // Longer than the backend's URL stack buffer; then one that is escaped.
    for (const std::string &db : { std::string(600, 'a'), std::string("db \xc3\xbc/x") }) {
        gj_result *res = nullptr;
        EXPECT_EQ(GJ_ESERVER, query("RETURN 1", &res, {}, {}, db.c_str())) << err.msg();
        EXPECT_EQ(404, gj_error_http_status(err.e)) << err.msg();
        EXPECT_NE(std::string::npos, err.msg().find("1228")) << err.msg();
        EXPECT_NE(std::string::npos, err.msg().find("127.0.0.1:" + std::to_string(server->port())))
            << err.msg();
        gj_result_free(res);
    }
    // The connection still serves the default database.
    gj_result *res = nullptr;
    EXPECT_EQ(0, query("RETURN 1", &res)) << err.msg();
    gj_result_free(res);
}

} // namespace
