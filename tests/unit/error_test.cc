// Error codes, the gj_error object, log plumbing and URL redaction.
#include <gtest/gtest.h>

#include <graphjob.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "core/internal.h"

namespace {

TEST(Error, EveryCodeHasATextAndAName)
{
    for (int code = 0; code >= GJ_EABORTED; code--) {
        EXPECT_STRNE("unknown error", gj_strerror(code)) << code;
        EXPECT_STRNE("GJ_UNKNOWN", gj_code_name(code)) << code;
    }
    EXPECT_STREQ("unknown error", gj_strerror(-9999));
    EXPECT_STREQ("GJ_ENOTFOUND", gj_code_name(GJ_ENOTFOUND));
    EXPECT_STREQ("job not found", gj_strerror(GJ_ENOTFOUND));
    // Append-only: the published numbers never change.
    EXPECT_EQ(-3, GJ_ENOTFOUND);
    EXPECT_EQ(-7, GJ_EBUSY);
    EXPECT_EQ(-8, GJ_ESERVER);
}

TEST(Error, SetPrefixClearCopy)
{
    gj_error *e = gj_error_new();
    ASSERT_NE(nullptr, e);
    EXPECT_EQ(0, gj_error_code(e));
    EXPECT_STREQ("", gj_error_message(e));
    EXPECT_EQ(GJ_EINVAL, gj__error_set(e, GJ_EINVAL, "key '%s': expected %s", "max_conns", "an integer"));
    EXPECT_STREQ("key 'max_conns': expected an integer", gj_error_message(e));
    gj__error_prefix(e, "file %s:%d", "a.yaml", 3);
    EXPECT_STREQ("file a.yaml:3: key 'max_conns': expected an integer", gj_error_message(e));
    EXPECT_EQ(GJ_EINVAL, gj_error_code(e));

    gj_error *copy = gj_error_new();
    gj_error_copy(copy, e);
    EXPECT_STREQ(gj_error_message(e), gj_error_message(copy));
    gj_error_clear(e);
    EXPECT_EQ(0, gj_error_code(e));
    EXPECT_STREQ("", gj_error_message(e));
    EXPECT_EQ(nullptr, gj_error_server_code(e));
    EXPECT_EQ(GJ_EINVAL, gj_error_code(copy));
    // NULL error objects are accepted everywhere.
    EXPECT_EQ(GJ_EIO, gj__error_set(nullptr, GJ_EIO, "x"));
    EXPECT_EQ(0, gj_error_code(nullptr));
    gj_error_free(nullptr);
    gj_error_free(e);
    gj_error_free(copy);
}

TEST(Error, ServerIdentityIsKept)
{
    gj_error *e = gj_error_new();
    gj_value *extra = nullptr;
    ASSERT_EQ(0, gj_value_new_map(&extra, 1));
    gj_value_map_put_str(extra, "errorNum", gj_value_int(1501));
    gj__server_error se = {};
    se.backend = "arango";
    se.server_code = "1501";
    se.server_number = 1501;
    se.http_status = 400;
    se.message = "AQL: syntax error, unexpected identifier near 'BAD'";
    se.extra = extra;
    EXPECT_EQ(GJ_ESERVER, gj__error_set_server(e, &se));
    EXPECT_EQ(GJ_ESERVER, gj_error_code(e));
    EXPECT_STREQ("arango", gj_error_backend(e));
    EXPECT_STREQ("1501", gj_error_server_code(e));
    EXPECT_EQ(1501, gj_error_server_number(e));
    EXPECT_EQ(400, gj_error_http_status(e));
    EXPECT_EQ(nullptr, gj_error_gql_status(e));
    EXPECT_STREQ("arango [1501, HTTP 400] AQL: syntax error, unexpected identifier near 'BAD'",
                 gj_error_message(e));
    ASSERT_NE(nullptr, gj_error_extra(e));
    EXPECT_NE(nullptr, gj_value_map_get(gj_error_extra(e), "errorNum"));

    gj__server_error neo = {};
    neo.backend = "bolt";
    neo.server_code = "Neo.ClientError.Statement.SyntaxError";
    neo.gql_status = "42001";
    neo.message = "Invalid input 'RETRUN'";
    gj__error_set_server(e, &neo);
    EXPECT_STREQ("bolt [Neo.ClientError.Statement.SyntaxError, GQL 42001] Invalid input 'RETRUN'",
                 gj_error_message(e));
    EXPECT_STREQ("42001", gj_error_gql_status(e));
    EXPECT_EQ(nullptr, gj_error_extra(e));
    gj_error_free(e);
}

TEST(Error, LongMessagesAreCutAtACharacterBoundary)
{
    gj_error *e = gj_error_new();
    std::string longtext;
    for (int i = 0; i < 600; i++)
        longtext += "\xc3\xa9"; // é, two bytes each
    gj__error_set(e, GJ_EINVAL, "%s", longtext.c_str());
    std::string msg = gj_error_message(e);
    EXPECT_LT(msg.size(), longtext.size());
    EXPECT_EQ(0u, msg.size() % 2) << "a character was cut in half";
    gj_error_free(e);
}

struct Captured {
    std::vector<std::pair<gj_log_level, std::string>> lines;
};

void capture(gj_log_level level, const char *message, void *payload)
{
    static_cast<Captured *>(payload)->lines.emplace_back(level, message);
}

TEST(Log, LevelsFilterAndNothingWithoutACallback)
{
    Captured cap;
    gj_logger lg = { capture, GJ_LOG_WARN, &cap };
    gj__log(&lg, GJ_LOG_ERROR, "e %d", 1);
    gj__log(&lg, GJ_LOG_WARN, "w");
    gj__log(&lg, GJ_LOG_INFO, "i");
    gj__log(&lg, GJ_LOG_DEBUG, "d");
    ASSERT_EQ(2u, cap.lines.size());
    EXPECT_EQ("e 1", cap.lines[0].second);
    EXPECT_EQ(GJ_LOG_WARN, cap.lines[1].first);
    gj_logger off = { nullptr, GJ_LOG_TRACE, nullptr };
    gj__log(&off, GJ_LOG_ERROR, "nobody hears this");
    gj__log(nullptr, GJ_LOG_ERROR, "nor this");
    EXPECT_STREQ("debug", gj_log_level_name(GJ_LOG_DEBUG));
}

std::string redact(const char *url)
{
    char buf[256];
    gj__redact_url(url, buf, sizeof buf);
    return buf;
}

TEST(Log, UrlsNeverShowSecrets)
{
    EXPECT_EQ("bolt://neo4j:***@db:7687", redact("bolt://neo4j:s3cret@db:7687"));
    EXPECT_EQ("http://root@h:8529/x", redact("http://root@h:8529/x"));
    EXPECT_EQ("http://h:8529/_db/x?max_conns=3&password=***&token=***",
              redact("http://h:8529/_db/x?max_conns=3&password=p&token=t"));
    EXPECT_EQ("neo4j://u:***@a:1,b:2?ssl_password=***",
              redact("neo4j://u:p%40ss@a:1,b:2?ssl_password=x"));
    EXPECT_EQ("ws://h:8182/gremlin", redact("ws://h:8182/gremlin"));
    // A password containing '@' is still hidden (the last '@' ends the user info).
    EXPECT_EQ("bolt://u:***@host", redact("bolt://u:a@b@host"));
    char tiny[8];
    gj__redact_url("bolt://neo4j:s3cret@db", tiny, sizeof tiny);
    EXPECT_EQ(std::string::npos, std::string(tiny).find("s3cret"));
}

// ---- A call that succeeds leaves the caller's gj_error empty ------------------------
//
// Each test fills the error object with an old server error (code, message,
// backend, server code and number, HTTP status, extra), then makes a call
// that succeeds, and checks that nothing of the old error is left.

void dirty(gj_error *e)
{
    gj_value *extra = nullptr;
    ASSERT_EQ(0, gj_value_new_map(&extra, 1));
    ASSERT_EQ(0, gj_value_map_put_str(extra, "errorNum", gj_value_int(1501)));
    gj__server_error se = {};
    se.backend = "arango";
    se.server_code = "1501";
    se.server_number = 1501;
    se.gql_status = "42001";
    se.http_status = 400;
    se.message = "an old error";
    se.extra = extra;
    ASSERT_EQ(GJ_ESERVER, gj__error_set_server(e, &se));
    ASSERT_EQ(GJ_ESERVER, gj_error_code(e));
}

::testing::AssertionResult empty(const gj_error *e)
{
    if (gj_error_code(e) != 0)
        return ::testing::AssertionFailure() << "code " << gj_code_name(gj_error_code(e)) << ": "
                                             << gj_error_message(e);
    if (gj_error_message(e)[0])
        return ::testing::AssertionFailure() << "message left: " << gj_error_message(e);
    if (gj_error_backend(e) || gj_error_server_code(e) || gj_error_server_number(e) ||
        gj_error_gql_status(e) || gj_error_http_status(e) || gj_error_extra(e))
        return ::testing::AssertionFailure() << "server detail left";
    return ::testing::AssertionSuccess();
}

// Check that `call` succeeds (returns 0) and leaves a dirtied error empty.
#define EXPECT_CLEARS(e, call)                                                   \
    do {                                                                         \
        dirty(e);                                                                \
        EXPECT_EQ(0, (call)) << #call << ": " << gj_error_message(e);            \
        EXPECT_TRUE(empty(e)) << #call;                                          \
    } while (0)

struct ErrObj {
    gj_error *e = gj_error_new();
    ~ErrObj() { gj_error_free(e); }
};

TEST(ErrorCleared, ConfigFamily)
{
    ErrObj err;
    gj_error *e = err.e;
    gj_config *cfg = nullptr;
    EXPECT_CLEARS(e, gj_config_from_url(&cfg, "bolt://neo4j:pw@db:7687?max_conns=3", e));
    EXPECT_CLEARS(e, gj_config_add_url(cfg, "docs", "http://root@a:8529", e));
    EXPECT_CLEARS(e, gj_config_set_int(cfg, nullptr, "workers", 2, e));
    EXPECT_CLEARS(e, gj_config_set_bool(cfg, "default", "ssl_verify", false, e));
    EXPECT_CLEARS(e, gj_config_set_duration(cfg, "default", "response_timeout", 5000, e));
    EXPECT_CLEARS(e, gj_config_set_string(cfg, "default", "database", "neo4j", e));
    gj_value *aliases = nullptr;
    ASSERT_EQ(0, gj_value_new_map(&aliases, 1));
    ASSERT_EQ(0, gj_value_map_put_str(aliases, "g", gj_value_string("g1")));
    EXPECT_CLEARS(e, gj_config_set_value(cfg, "default", "aliases", aliases, e));
    gj_value_unref(aliases);
    int64_t i = 0;
    bool b = true;
    const char *s = nullptr;
    EXPECT_CLEARS(e, gj_config_get_int(cfg, "default", "max_conns", &i, e));
    EXPECT_EQ(3, i);
    EXPECT_CLEARS(e, gj_config_get_bool(cfg, "default", "ssl_verify", &b, e));
    EXPECT_FALSE(b);
    EXPECT_CLEARS(e, gj_config_get_duration(cfg, "default", "response_timeout", &i, e));
    EXPECT_EQ(5000, i);
    EXPECT_CLEARS(e, gj_config_get_string(cfg, "default", "database", &s, e));
    EXPECT_STREQ("neo4j", s);
    gj_config_free(cfg);

    // A failure fills it; the next success empties it again.
    cfg = nullptr;
    EXPECT_EQ(GJ_ECONFIG, gj_config_from_url(&cfg, "nosuch://x", e));
    EXPECT_EQ(GJ_ECONFIG, gj_error_code(e));
    const char text[] = "{\"url\": \"http://root@h:8529\", \"workers\": 2}";
    EXPECT_CLEARS(e, gj_config_parse(&cfg, text, sizeof text - 1, GJ_CONFIG_JSON, "<string>", e));
    gj_config_free(cfg);
    cfg = nullptr;

    char path[] = "/tmp/gj-error-test-XXXXXX.yaml";
    int fd = mkstemps(path, 5);
    ASSERT_GE(fd, 0);
    const char yaml[] = "url: http://root@h:8529\nqueue_size: 16\n";
    ASSERT_EQ((ssize_t)(sizeof yaml - 1), write(fd, yaml, sizeof yaml - 1));
    close(fd);
    EXPECT_CLEARS(e, gj_config_load_file(&cfg, path, e));
    unlink(path);
    gj_config_free(cfg);
}

TEST(ErrorCleared, ValueFamily)
{
    ErrObj err;
    gj_value *v = nullptr;
    const char *text = "{\"a\": [1, 2]}";
    EXPECT_CLEARS(err.e, gj_value_from_json(&v, text, strlen(text), err.e));
    EXPECT_EQ(GJ_TMAP, gj_value_type(v));
    gj_value_unref(v);
}

// A minimal ArangoDB for the client, job and session families: enough of
// the HTTP API that jobs succeed (GET /_api/version, POST /_api/cursor,
// stream transaction begin and abort).  A cursor body holding "SLEEP" is
// answered only when the client hangs up or after 10 s (a job to cancel).
class FakeArango {
public:
    FakeArango()
    {
        fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a = {};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        if (fd_ < 0 || bind(fd_, (sockaddr *)&a, sizeof a) != 0 || listen(fd_, 16) != 0 ||
            getsockname(fd_, (sockaddr *)&a, &len) != 0)
            return;
        port_ = ntohs(a.sin_port);
        thread_ = std::thread([this] { serve(); });
    }
    ~FakeArango()
    {
        stop_ = true;
        if (thread_.joinable())
            thread_.join();
        for (auto &t : conns_)
            t.join();
        if (fd_ >= 0)
            close(fd_);
    }
    int port() const { return port_; }
    std::string url() const { return "http://root:pw@127.0.0.1:" + std::to_string(port_); }

private:
    void serve()
    {
        while (!stop_) {
            pollfd p = { fd_, POLLIN, 0 };
            if (poll(&p, 1, 50) <= 0)
                continue;
            int c = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
            if (c >= 0)
                conns_.emplace_back([this, c] { connection(c); });
        }
    }
    // Read until `want` bytes are buffered or the peer is gone; false then.
    bool fill(int c, std::string &buf, size_t want)
    {
        char tmp[4096];
        while (buf.size() < want) {
            pollfd p = { c, POLLIN, 0 };
            if (stop_)
                return false;
            if (poll(&p, 1, 50) <= 0)
                continue;
            ssize_t n = read(c, tmp, sizeof tmp);
            if (n <= 0)
                return false;
            buf.append(tmp, (size_t)n);
        }
        return true;
    }
    void connection(int c)
    {
        std::string buf;
        for (;;) {
            size_t end;
            while ((end = buf.find("\r\n\r\n")) == std::string::npos)
                if (!fill(c, buf, buf.size() + 1))
                    goto out;
            {
                std::string head = buf.substr(0, end);
                size_t body_len = 0;
                size_t cl = head.find("Content-Length: ");
                if (cl == std::string::npos)
                    cl = head.find("content-length: ");
                if (cl != std::string::npos)
                    body_len = strtoul(head.c_str() + cl + 16, nullptr, 10);
                if (!fill(c, buf, end + 4 + body_len))
                    goto out;
                std::string body = buf.substr(end + 4, body_len);
                buf.erase(0, end + 4 + body_len);
                std::string method = head.substr(0, head.find(' '));
                size_t p0 = head.find(' ') + 1;
                std::string path = head.substr(p0, head.find(' ', p0) - p0);
                int status = 200;
                std::string reply;
                if (path.find("/_api/version") != std::string::npos) {
                    reply = "{\"server\":\"arango\",\"version\":\"3.12.4\",\"license\":\"community\"}";
                } else if (path.find("/_api/cursor") != std::string::npos) {
                    if (body.find("SLEEP") != std::string::npos) {
                        // Until the client hangs up (a cancel) or 10 s.
                        for (int i = 0; i < 200 && !stop_; i++) {
                            pollfd p = { c, POLLIN, 0 };
                            if (poll(&p, 1, 50) > 0)
                                break;
                        }
                    }
                    status = 201;
                    reply = "{\"result\":[1],\"hasMore\":false,\"cached\":false,\"error\":false,\"code\":201}";
                } else if (path.find("/_api/transaction/begin") != std::string::npos) {
                    status = 201;
                    reply = "{\"code\":201,\"error\":false,\"result\":{\"id\":\"7\",\"status\":\"running\"}}";
                } else if (path.find("/_api/transaction/7") != std::string::npos) {
                    reply = std::string("{\"code\":200,\"error\":false,\"result\":{\"id\":\"7\",\"status\":\"") +
                            (method == "PUT" ? "committed" : "aborted") + "\"}}";
                } else {
                    status = 404;
                    reply = "{\"code\":404,\"error\":true,\"errorNum\":404,\"errorMessage\":\"unknown path\"}";
                }
                char hdr[256];
                snprintf(hdr, sizeof hdr,
                         "HTTP/1.1 %d X\r\nContent-Type: application/json; charset=utf-8\r\n"
                         "Content-Length: %zu\r\n\r\n",
                         status, reply.size());
                std::string out = hdr + reply;
                if (send(c, out.data(), out.size(), MSG_NOSIGNAL) != (ssize_t)out.size())
                    goto out;
            }
        }
    out:
        close(c);
    }

    int fd_ = -1;
    int port_ = 0;
    std::atomic<bool> stop_{ false };
    std::thread thread_;
    std::vector<std::thread> conns_;
};

gj_request *aql(const char *text)
{
    gj_request *r = nullptr;
    EXPECT_EQ(0, gj_request_new_query(&r, text));
    return r;
}

TEST(ErrorCleared, ClientFamily)
{
    FakeArango server;
    ASSERT_GT(server.port(), 0);
    ErrObj err;
    gj_error *e = err.e;
    gj_client *c = nullptr;
    EXPECT_CLEARS(e, gj_client_new_url(&c, server.url().c_str(), e));
    gj_client_free(c);
    gj_config *cfg = nullptr;
    ASSERT_EQ(0, gj_config_from_url(&cfg, server.url().c_str(), e));
    c = nullptr;
    EXPECT_CLEARS(e, gj_client_new(&c, cfg, e));
    gj_config_free(cfg);
    ASSERT_NE(nullptr, c);

    gj_request *req = aql("RETURN 1");
    gj_result *res = nullptr;
    EXPECT_CLEARS(e, gj_client_execute(c, req, 10000, &res, e));
    EXPECT_EQ(1u, gj_result_row_count(res));
    gj_result_free(res);
    // Again, now through the pooled connection (the caller runs it).
    EXPECT_CLEARS(e, gj_client_execute(c, req, 10000, &res, e));
    gj_result_free(res);
    gj_job *job = nullptr;
    EXPECT_CLEARS(e, gj_client_submit(c, req, nullptr, &job, e));
    ASSERT_EQ(0, gj_job_wait(job, 10000, e));
    gj_job *again = nullptr;
    EXPECT_CLEARS(e, gj_client_job(c, gj_job_id(job), &again, e));
    gj_job_unref(again);
    uint64_t *ids = nullptr;
    size_t n = 0;
    EXPECT_CLEARS(e, gj_client_list_jobs(c, GJ_JOB_DONE, 0, &ids, &n, e));
    EXPECT_EQ(1u, n);
    gj_free(ids);
    size_t cleared = 0;
    EXPECT_CLEARS(e, gj_client_clear_jobs(c, 0, &cleared, e));
    EXPECT_EQ(1u, cleared);
    gj_job_unref(job);
    gj_request_unref(req);
    gj_client_free(c);
}

TEST(ErrorCleared, JobFamily)
{
    FakeArango server;
    ASSERT_GT(server.port(), 0);
    ErrObj err;
    gj_error *e = err.e;
    gj_client *c = nullptr;
    ASSERT_EQ(0, gj_client_new_url(&c, server.url().c_str(), e)) << gj_error_message(e);
    gj_request *req = aql("RETURN 1");
    gj_job *job = nullptr;
    ASSERT_EQ(0, gj_client_submit(c, req, nullptr, &job, e));
    EXPECT_CLEARS(e, gj_job_wait(job, 10000, e));
    gj_job_status st = GJ_JOB_PENDING;
    EXPECT_CLEARS(e, gj_job_get_status(job, &st, e));
    EXPECT_EQ(GJ_JOB_DONE, st);
    gj_result *res = nullptr;
    EXPECT_CLEARS(e, gj_job_result(job, &res, e));
    gj_result_free(res);
    gj_job_unref(job);

    job = nullptr;
    ASSERT_EQ(0, gj_client_submit(c, req, nullptr, &job, e));
    ASSERT_EQ(0, gj_job_wait(job, 10000, e));
    EXPECT_CLEARS(e, gj_job_clear(job, e));
    gj_job_unref(job);
    gj_request_unref(req);

    // Cancel a job the server sits on.
    req = aql("RETURN SLEEP(10)");
    job = nullptr;
    ASSERT_EQ(0, gj_client_submit(c, req, nullptr, &job, e));
    EXPECT_CLEARS(e, gj_job_cancel(job, e));
    EXPECT_EQ(0, gj_job_wait(job, 20000, e));
    gj_job_unref(job);
    gj_request_unref(req);
    gj_client_free(c);
}

TEST(ErrorCleared, SessionFamily)
{
    FakeArango server;
    ASSERT_GT(server.port(), 0);
    ErrObj err;
    gj_error *e = err.e;
    gj_client *c = nullptr;
    ASSERT_EQ(0, gj_client_new_url(&c, server.url().c_str(), e)) << gj_error_message(e);
    gj_session *s = nullptr;
    EXPECT_CLEARS(e, gj_client_open_session(c, nullptr, nullptr, &s, e));
    ASSERT_NE(nullptr, s);
    gj_request *begin = nullptr;
    ASSERT_EQ(0, gj_request_new(&begin, GJ_OP_BEGIN, nullptr));
    gj_value *coll = nullptr;
    ASSERT_EQ(0, gj_value_new_map(&coll, 1));
    ASSERT_EQ(0, gj_value_map_put_str(coll, "write", gj_value_string("users")));
    ASSERT_EQ(0, gj_request_set_option(begin, "collections", coll));
    gj_job *job = nullptr;
    EXPECT_CLEARS(e, gj_session_submit(s, begin, nullptr, &job, e));
    gj_result *res = nullptr;
    ASSERT_EQ(0, gj_job_wait(job, 10000, e));
    EXPECT_CLEARS(e, gj_job_result(job, &res, e));
    gj_result_free(res);
    gj_job_unref(job);
    gj_request_unref(begin);
    // Closing with the transaction open aborts it (DELETE): a success.
    EXPECT_CLEARS(e, gj_session_close(s, e));
    EXPECT_CLEARS(e, gj_session_close(nullptr, e));
    gj_client_free(c);
}

} // namespace
