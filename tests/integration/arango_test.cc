// The ArangoDB backend through the public API against arango-refserver.
#include <gtest/gtest.h>

#include <graphjob.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "arango_server.h"

namespace {

using Clock = std::chrono::steady_clock;

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

int64_t as_int(const gj_value *v)
{
    int64_t i = -1;
    EXPECT_EQ(0, gj_value_int_get(v, &i)) << json(v);
    return i;
}

std::string as_str(const gj_value *v)
{
    const char *s = nullptr;
    size_t n = 0;
    if (!v || gj_value_string_get(v, &s, &n) != 0)
        return "<not a string>";
    return std::string(s, n);
}

/* Log lines, to count connections opened. */
struct LogLines {
    std::mutex mu;
    std::vector<std::string> lines;
    static void fn(gj_log_level, const char *msg, void *p)
    {
        auto *self = static_cast<LogLines *>(p);
        std::lock_guard<std::mutex> g(self->mu);
        self->lines.push_back(msg);
    }
    size_t count(const std::string &needle)
    {
        std::lock_guard<std::mutex> g(mu);
        size_t n = 0;
        for (auto &l : lines)
            n += l.find(needle) != std::string::npos;
        return n;
    }
    bool any_contains(const std::string &needle) { return count(needle) > 0; }
};

class ArangoTest : public ::testing::Test {
protected:
    std::unique_ptr<ArangoServer> server;
    gj_client *client = nullptr;
    LogLines log;
    Err err;

    void SetUp() override
    {
        if (arango_server_path().empty())
            GTEST_SKIP() << "arango-refserver not built";
    }
    void TearDown() override
    {
        gj_client_free(client);
        client = nullptr;
    }
    void start_server(const std::vector<std::string> &args = {})
    {
        server.reset(new ArangoServer(args));
        ASSERT_TRUE(server->ok()) << server->error();
    }
    void start_client(const std::string &password = "pw", const gj_value *options = nullptr,
                      unsigned workers = 1, const std::string &url = "")
    {
        // The default deadlines: a failed connect (wrong password, TLS) is
        // reported at once without a short acquire_timeout, and a slow
        // handshake (TSan, a loaded machine) still has its 10 s.
        new_client(url.empty() ? server->url(password) : url, options, workers, [](gj_config *) {});
    }
    /* A client of url with options, workers, max_conns and liveness_check
     * (ms; -1 = never; INT64_MIN = the default). */
    void start_client_at(const std::string &url, const gj_value *options, unsigned workers,
                         unsigned max_conns, int64_t liveness_ms = INT64_MIN)
    {
        new_client(url, options, workers, [&](gj_config *cfg) {
            ASSERT_EQ(0, gj_config_set_int(cfg, "default", "max_conns", max_conns, err.e)) << err.msg();
            if (liveness_ms != INT64_MIN) {
                ASSERT_EQ(0, gj_config_set_duration(cfg, "default", "liveness_check", liveness_ms, err.e))
                    << err.msg();
            }
        });
    }
    /* The client both of the above make: url, workers, the test's own
     * settings (tune), then options and the log. */
    template <typename Tune>
    void new_client(const std::string &url, const gj_value *options, unsigned workers, Tune tune)
    {
        gj_config *cfg = nullptr;
        ASSERT_EQ(0, gj_config_from_url(&cfg, url.c_str(), err.e)) << err.msg();
        ASSERT_EQ(0, gj_config_set_int(cfg, nullptr, "workers", workers, err.e)) << err.msg();
        tune(cfg);
        if (options) {
            ASSERT_EQ(0, gj_config_set_value(cfg, "default", "options", options, err.e)) << err.msg();
        }
        gj_config_set_log(cfg, LogLines::fn, GJ_LOG_DEBUG, &log);
        int rc = gj_client_new(&client, cfg, err.e);
        gj_config_free(cfg);
        ASSERT_EQ(0, rc) << err.msg();
    }
    void start(const std::vector<std::string> &args = {})
    {
        start_server(args);
        if (!HasFatalFailure())
            start_client();
    }

    gj_request *op(const char *name, const char *text,
                   std::initializer_list<std::pair<const char *, gj_value *>> opts = {})
    {
        gj_request *req = nullptr;
        EXPECT_EQ(0, gj_request_new(&req, name, text));
        for (auto &o : opts)
            EXPECT_EQ(0, gj_request_set_option(req, o.first, o.second));
        return req;
    }
    /* Run and return the code; *res gets the result on success. */
    int run(gj_request *req, gj_result **res = nullptr, int64_t timeout_ms = 20000)
    {
        gj_result *r = nullptr;
        gj_error_clear(err.e);
        int rc = gj_client_execute(client, req, timeout_ms, &r, err.e);
        gj_request_unref(req);
        if (res)
            *res = r;
        else
            gj_result_free(r);
        return rc;
    }
    gj_job *submit(gj_request *req)
    {
        gj_job *job = nullptr;
        EXPECT_EQ(0, gj_client_submit(client, req, nullptr, &job, err.e)) << err.msg();
        gj_request_unref(req);
        return job;
    }
    /* The refserver's request log, as "METHOD path status" lines. */
    std::vector<std::string> requests(size_t coordinator = 0)
    {
        return requests_of(*server, coordinator);
    }
    static std::vector<std::string> requests_of(const ArangoServer &srv, size_t coordinator = 0)
    {
        std::string body;
        EXPECT_EQ(200, srv.request("GET", "/_refserver/requests", "", &body, false, coordinator));
        std::vector<std::string> out;
        /* A tiny scan of {"method":"X","database":..,"path":"Y",...,"status":N}. */
        size_t pos = 0;
        while ((pos = body.find("\"method\":", pos)) != std::string::npos) {
            auto field = [&](const char *name) {
                size_t p = body.find(std::string("\"") + name + "\":", pos);
                if (p == std::string::npos)
                    return std::string();
                p += strlen(name) + 3;
                size_t q = p;
                if (body[p] == '"') {
                    q = body.find('"', p + 1);
                    return body.substr(p + 1, q - p - 1);
                }
                while (q < body.size() && isdigit((unsigned char)body[q]))
                    q++;
                return body.substr(p, q - p);
            };
            out.push_back(field("method") + " " + field("path") + " " + field("status"));
            pos += 9;
        }
        return out;
    }
    /* Wait (up to 5 s) until the server logged at least n requests
     * starting with prefix. */
    void await_requests(const std::string &prefix, size_t n = 1)
    {
        auto t0 = Clock::now();
        while (Clock::now() - t0 < std::chrono::seconds(5) && count_requests(prefix) < n)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    /* Cancel a running job: it ends CANCELLED within 2 s.  Drops the handle. */
    void cancel_running(gj_job *job)
    {
        auto c0 = Clock::now();
        ASSERT_EQ(0, gj_job_cancel(job, err.e)) << err.msg();
        ASSERT_EQ(0, gj_job_wait(job, 5000, err.e)) << err.msg();
        EXPECT_LT(Clock::now() - c0, std::chrono::seconds(2));
        gj_job_status st;
        ASSERT_EQ(0, gj_job_get_status(job, &st, err.e));
        EXPECT_EQ(GJ_JOB_CANCELLED, st);
        gj_job_unref(job);
    }
    size_t count_requests(const std::string &prefix, size_t coordinator = 0)
    {
        return count_requests_of(*server, prefix, coordinator);
    }
    static size_t count_requests_of(const ArangoServer &srv, const std::string &prefix,
                                    size_t coordinator = 0)
    {
        size_t n = 0;
        for (auto &r : requests_of(srv, coordinator))
            n += r.rfind(prefix, 0) == 0;
        return n;
    }
    void clear_requests() { server->request("DELETE", "/_refserver/requests", "", nullptr); }
    void set_fault(const std::string &spec_json)
    {
        std::string body;
        ASSERT_EQ(200, server->request("PUT", "/_refserver/fault", spec_json, &body)) << body;
    }
};

gj_value *map_of(std::initializer_list<std::pair<const char *, gj_value *>> kv)
{
    gj_value *m = nullptr;
    EXPECT_EQ(0, gj_value_new_map(&m, kv.size()));
    for (auto &p : kv)
        EXPECT_EQ(0, gj_value_map_put_str(m, p.first, p.second));
    return m;
}

TEST_F(ArangoTest, LiteralAndBindVars)
{
    start();
    gj_result *res = nullptr;
    ASSERT_EQ(0, run(op("query", "RETURN 42"), &res)) << err.msg();
    ASSERT_EQ(1u, gj_result_row_count(res));
    EXPECT_EQ(42, as_int(gj_result_row(res, 0)));
    gj_result_free(res);

    ASSERT_EQ(0, run(op("query", "RETURN {a: 1, b: [true, null, 2.5, \"x\"]}"), &res))
        << err.msg();
    ASSERT_EQ(1u, gj_result_row_count(res));
    const gj_value *row = gj_result_row(res, 0);
    EXPECT_EQ(GJ_TMAP, gj_value_type(row));
    EXPECT_EQ("{\"a\":1,\"b\":[true,null,2.5,\"x\"]}", json(row));
    gj_result_free(res);

    gj_request *req = op("query", "RETURN @x");
    gj_request_set_param(req, "x", gj_value_string("hello"));
    ASSERT_EQ(0, run(req, &res)) << err.msg();
    EXPECT_EQ("hello", as_str(gj_result_row(res, 0)));
    gj_result_free(res);

    ASSERT_EQ(0, run(op("collection.create", nullptr, { { "name", gj_value_string("people") } })))
        << err.msg();
    for (int i = 1; i <= 3; i++) {
        gj_request *ins = op("query", "INSERT @doc INTO people");
        gj_request_set_param(ins, "doc", map_of({ { "n", gj_value_int(i) } }));
        ASSERT_EQ(0, run(ins)) << err.msg();
    }
    req = op("query", "FOR d IN @@coll FILTER d.n >= @min RETURN d.n");
    gj_request_set_param(req, "@coll", gj_value_string("people"));
    gj_request_set_param(req, "min", gj_value_int(2));
    ASSERT_EQ(0, run(req, &res)) << err.msg();
    ASSERT_EQ(2u, gj_result_row_count(res));
    EXPECT_EQ(2, as_int(gj_result_row(res, 0)));
    EXPECT_EQ(3, as_int(gj_result_row(res, 1)));
    gj_result_free(res);

    // A missing bind value is the server's 1551, and an unknown option is ours.
    EXPECT_EQ(GJ_ESERVER, run(op("query", "RETURN @nope")));
    EXPECT_EQ(1551, gj_error_server_number(err.e)) << err.msg();
    EXPECT_EQ(GJ_EINVAL, run(op("query", "RETURN 1", { { "bogus", gj_value_int(1) } })));
    EXPECT_NE(std::string::npos, err.msg().find("bogus")) << err.msg();
}

TEST_F(ArangoTest, ManyBatchesWithCountAndMeta)
{
    start();
    clear_requests();
    gj_result *res = nullptr;
    ASSERT_EQ(0, run(op("query", "FOR i IN 1..10000 RETURN i",
                        { { "batchSize", gj_value_int(1000) }, { "count", gj_value_bool(true) } }),
                     &res))
        << err.msg();
    ASSERT_EQ(10000u, gj_result_row_count(res));
    for (size_t i = 0; i < 10000; i += 997)
        ASSERT_EQ((int64_t)i + 1, as_int(gj_result_row(res, i)));
    EXPECT_EQ(10000, as_int(gj_result_row(res, 9999)));
    const gj_value *meta = gj_result_meta(res);
    EXPECT_EQ(10000, as_int(gj_value_map_get(meta, "count"))) << json(meta);
    EXPECT_NE(nullptr, gj_value_map_get(meta, "stats")) << json(meta);
    gj_result_free(res);
    EXPECT_EQ(1u, count_requests("POST /_api/cursor 201"));
    EXPECT_EQ(9u, count_requests("POST /_api/cursor/")) << ::testing::PrintToString(requests());
}

struct StopAfter {
    std::atomic<int> seen{ 0 };
    int limit;
    static int fn(const gj_value *row, void *p)
    {
        auto *self = static_cast<StopAfter *>(p);
        int64_t v = 0;
        gj_value_int_get(row, &v);
        int n = ++self->seen;
        return n >= self->limit ? 1 : 0;
    }
};

TEST_F(ArangoTest, RowCallbackStreamsAndStopDeletesTheCursor)
{
    start();
    // All rows through the callback, several batches.
    StopAfter all;
    all.limit = 1 << 30;
    gj_request *req = op("query", "FOR i IN 1..2500 RETURN i", { { "batchSize", gj_value_int(100) } });
    gj_request_set_row_callback(req, StopAfter::fn, &all);
    gj_result *res = nullptr;
    ASSERT_EQ(0, run(req, &res)) << err.msg();
    EXPECT_EQ(2500, all.seen.load());
    if (res) {
        EXPECT_EQ(0u, gj_result_row_count(res));
    }
    gj_result_free(res);

    clear_requests();
    StopAfter some;
    some.limit = 150;
    req = op("query", "FOR i IN 1..10000 RETURN i", { { "batchSize", gj_value_int(100) } });
    gj_request_set_row_callback(req, StopAfter::fn, &some);
    EXPECT_EQ(GJ_EABORTED, run(req)) << err.msg();
    EXPECT_EQ(150, some.seen.load());
    await_requests("DELETE /_api/cursor/");   // right after the job ended
    auto log_lines = requests();
    EXPECT_EQ(1u, count_requests("DELETE /_api/cursor/")) << ::testing::PrintToString(log_lines);
    EXPECT_EQ(1u, count_requests("POST /_api/cursor/")) << ::testing::PrintToString(log_lines);
    // The connection is still good.
    ASSERT_EQ(0, run(op("query", "RETURN 1"))) << err.msg();
}

TEST_F(ArangoTest, SyntaxErrorKeepsIdentityAndConnectionIsReused)
{
    start();
    ASSERT_EQ(0, run(op("query", "RETURN 1"))) << err.msg();
    EXPECT_EQ(GJ_ESERVER, run(op("query", "FOR x IN")));
    EXPECT_EQ(1501, gj_error_server_number(err.e));
    EXPECT_STREQ("1501", gj_error_server_code(err.e));
    EXPECT_EQ(400, gj_error_http_status(err.e));
    EXPECT_STREQ("arango", gj_error_backend(err.e));
    ASSERT_NE(nullptr, gj_error_extra(err.e));
    EXPECT_EQ(1501, as_int(gj_value_map_get(gj_error_extra(err.e), "errorNum")));
    EXPECT_NE(std::string::npos, err.msg().find("syntax error")) << err.msg();
    EXPECT_NE(std::string::npos, err.msg().find("127.0.0.1:" + std::to_string(server->port())))
        << err.msg();
    ASSERT_EQ(0, run(op("query", "RETURN 2"))) << err.msg();
    EXPECT_EQ(1u, log.count("arango: connected to"));
}

TEST_F(ArangoTest, DocumentsCrudAndConflicts)
{
    start();
    ASSERT_EQ(0, run(op("collection.create", nullptr, { { "name", gj_value_string("docs") } })))
        << err.msg();
    EXPECT_EQ(GJ_ESERVER, run(op("collection.create", nullptr, { { "name", gj_value_string("docs") } })));
    EXPECT_EQ(1207, gj_error_server_number(err.e));

    gj_result *res = nullptr;
    ASSERT_EQ(0, run(op("document.insert", nullptr,
                        { { "collection", gj_value_string("docs") },
                          { "document", map_of({ { "_key", gj_value_string("a") },
                                                  { "v", gj_value_int(1) } }) },
                          { "returnNew", gj_value_bool(true) } }),
                     &res))
        << err.msg();
    const gj_value *doc = gj_result_row(res, 0);
    EXPECT_EQ("a", as_str(gj_value_map_get(doc, "_key")));
    EXPECT_EQ("docs/a", as_str(gj_value_map_get(doc, "_id")));
    EXPECT_EQ(1, as_int(gj_value_map_get(gj_value_map_get(doc, "new"), "v"))) << json(doc);
    std::string rev = as_str(gj_value_map_get(doc, "_rev"));
    gj_result_free(res);

    // Unique constraint.
    EXPECT_EQ(GJ_ESERVER, run(op("document.insert", nullptr,
                                 { { "collection", gj_value_string("docs") },
                                   { "document", map_of({ { "_key", gj_value_string("a") } }) } })));
    EXPECT_EQ(1210, gj_error_server_number(err.e)) << err.msg();
    EXPECT_EQ(409, gj_error_http_status(err.e));

    // Get.
    ASSERT_EQ(0, run(op("document.get", nullptr,
                        { { "collection", gj_value_string("docs") }, { "key", gj_value_string("a") } }),
                     &res))
        << err.msg();
    EXPECT_EQ(1, as_int(gj_value_map_get(gj_result_row(res, 0), "v")));
    gj_result_free(res);

    // Update with a stale revision: 1200 / 412.
    EXPECT_EQ(GJ_ESERVER, run(op("document.update", nullptr,
                                 { { "collection", gj_value_string("docs") },
                                   { "key", gj_value_string("a") },
                                   { "rev", gj_value_string("12345") },
                                   { "document", map_of({ { "v", gj_value_int(2) } }) } })));
    EXPECT_EQ(1200, gj_error_server_number(err.e)) << err.msg();
    EXPECT_EQ(412, gj_error_http_status(err.e));

    // Replace with the right revision.
    ASSERT_EQ(0, run(op("document.replace", nullptr,
                        { { "collection", gj_value_string("docs") },
                          { "key", gj_value_string("a") },
                          { "rev", gj_value_string(rev.c_str()) },
                          { "returnOld", gj_value_bool(true) },
                          { "returnNew", gj_value_bool(true) },
                          { "document", map_of({ { "w", gj_value_int(7) } }) } }),
                     &res))
        << err.msg();
    doc = gj_result_row(res, 0);
    EXPECT_EQ(1, as_int(gj_value_map_get(gj_value_map_get(doc, "old"), "v"))) << json(doc);
    EXPECT_EQ(7, as_int(gj_value_map_get(gj_value_map_get(doc, "new"), "w"))) << json(doc);
    EXPECT_EQ(nullptr, gj_value_map_get(gj_value_map_get(doc, "new"), "v")) << json(doc);
    gj_result_free(res);

    // Update merges.
    ASSERT_EQ(0, run(op("document.update", nullptr,
                        { { "collection", gj_value_string("docs") },
                          { "key", gj_value_string("a") },
                          { "returnNew", gj_value_bool(true) },
                          { "document", map_of({ { "x", gj_value_int(8) } }) } }),
                     &res))
        << err.msg();
    doc = gj_value_map_get(gj_result_row(res, 0), "new");
    EXPECT_EQ(7, as_int(gj_value_map_get(doc, "w")));
    EXPECT_EQ(8, as_int(gj_value_map_get(doc, "x")));
    gj_result_free(res);

    // Many at once: errors inline.
    gj_value *list = nullptr;
    gj_value_new_list(&list, 2);
    gj_value_list_append(list, map_of({ { "_key", gj_value_string("b") } }));
    gj_value_list_append(list, map_of({ { "_key", gj_value_string("a") } }));
    ASSERT_EQ(0, run(op("document.insert", nullptr,
                        { { "collection", gj_value_string("docs") }, { "documents", list } }),
                     &res))
        << err.msg();
    ASSERT_EQ(2u, gj_result_row_count(res));
    EXPECT_EQ("b", as_str(gj_value_map_get(gj_result_row(res, 0), "_key")));
    EXPECT_EQ(1210, as_int(gj_value_map_get(gj_result_row(res, 1), "errorNum")));
    gj_result_free(res);

    ASSERT_EQ(0, run(op("collection.count", nullptr, { { "name", gj_value_string("docs") } }), &res))
        << err.msg();
    EXPECT_EQ(2, as_int(gj_value_map_get(gj_result_row(res, 0), "count")));
    gj_result_free(res);

    // Remove, then it is gone (1202 / 404).
    ASSERT_EQ(0, run(op("document.remove", nullptr,
                        { { "collection", gj_value_string("docs") }, { "key", gj_value_string("a") } })))
        << err.msg();
    EXPECT_EQ(GJ_ESERVER, run(op("document.get", nullptr,
                                 { { "collection", gj_value_string("docs") },
                                   { "key", gj_value_string("a") } })));
    EXPECT_EQ(1202, gj_error_server_number(err.e));
    EXPECT_EQ(404, gj_error_http_status(err.e));

    // Collections: list, truncate, properties, drop; 1203 afterwards.
    ASSERT_EQ(0, run(op("collection.list", nullptr), &res)) << err.msg();
    bool found = false;
    for (size_t i = 0; i < gj_result_row_count(res); i++)
        found |= as_str(gj_value_map_get(gj_result_row(res, i), "name")) == "docs";
    EXPECT_TRUE(found);
    gj_result_free(res);
    ASSERT_EQ(0, run(op("collection.truncate", nullptr, { { "name", gj_value_string("docs") } })))
        << err.msg();
    ASSERT_EQ(0, run(op("collection.properties", nullptr, { { "name", gj_value_string("docs") } }),
                     &res))
        << err.msg();
    EXPECT_EQ("docs", as_str(gj_value_map_get(gj_result_row(res, 0), "name")));
    gj_result_free(res);
    ASSERT_EQ(0, run(op("collection.drop", nullptr, { { "name", gj_value_string("docs") } })))
        << err.msg();
    EXPECT_EQ(GJ_ESERVER, run(op("collection.count", nullptr, { { "name", gj_value_string("docs") } })));
    EXPECT_EQ(1203, gj_error_server_number(err.e));
    EXPECT_EQ(404, gj_error_http_status(err.e));
}

TEST_F(ArangoTest, VersionAndGenericHttp)
{
    start();
    gj_result *res = nullptr;
    ASSERT_EQ(0, run(op("version", nullptr), &res)) << err.msg();
    EXPECT_EQ("arango", as_str(gj_value_map_get(gj_result_row(res, 0), "server")));
    gj_result_free(res);
    ASSERT_EQ(0, run(op("http", nullptr,
                        { { "path", gj_value_string("/_api/version") },
                          { "query", map_of({ { "details", gj_value_bool(true) } }) } }),
                     &res))
        << err.msg();
    EXPECT_NE(nullptr, gj_value_map_get(gj_result_row(res, 0), "details")) << json(gj_result_row(res, 0));
    EXPECT_EQ(200, as_int(gj_value_map_get(gj_result_meta(res), "http_status")));
    gj_result_free(res);
    // A body through the generic call: an AQL cursor.
    ASSERT_EQ(0, run(op("http", nullptr,
                        { { "method", gj_value_string("POST") },
                          { "path", gj_value_string("/_api/cursor") },
                          { "body", map_of({ { "query", gj_value_string("RETURN 5") } }) } }),
                     &res))
        << err.msg();
    EXPECT_EQ(201, as_int(gj_value_map_get(gj_result_meta(res), "http_status")));
    EXPECT_EQ("[5]", json(gj_value_map_get(gj_result_row(res, 0), "result")));
    gj_result_free(res);
    EXPECT_EQ(GJ_EINVAL, run(op("http", nullptr, { { "path", gj_value_string("no-slash") } })));
    EXPECT_EQ(GJ_EUNSUPPORTED, run(op("graph.traverse", nullptr)));
}

TEST_F(ArangoTest, WrongPasswordIsAuthError)
{
    start_server();
    start_client("wrong");
    EXPECT_EQ(GJ_EAUTH, run(op("query", "RETURN 1")));
    EXPECT_EQ(11, gj_error_server_number(err.e)) << err.msg();
    EXPECT_EQ(401, gj_error_http_status(err.e));
    EXPECT_NE(std::string::npos, err.msg().find("127.0.0.1:" + std::to_string(server->port())))
        << err.msg();
    EXPECT_EQ(std::string::npos, err.msg().find("wrong")) << err.msg();
    for (auto &l : log.lines)
        EXPECT_EQ(std::string::npos, l.find(":wrong@")) << l;
}

TEST_F(ArangoTest, RefusedConnectionNamesTheEndpoint)
{
    // A port nobody listens on: bind, read the port, close.
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_GE(fd, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(0, bind(fd, reinterpret_cast<sockaddr *>(&a), sizeof a));
    socklen_t len = sizeof a;
    ASSERT_EQ(0, getsockname(fd, reinterpret_cast<sockaddr *>(&a), &len));
    int port = ntohs(a.sin_port);
    close(fd);
    start_server();
    start_client("pw", nullptr, 1, "http://root:pw@127.0.0.1:" + std::to_string(port));
    EXPECT_EQ(GJ_ECONNECT, run(op("query", "RETURN 1"))) << err.msg();
    EXPECT_NE(std::string::npos, err.msg().find("127.0.0.1:" + std::to_string(port))) << err.msg();
}

TEST_F(ArangoTest, JwtAuthentication)
{
    start_server();
    gj_value *opts = map_of({ { "auth", gj_value_string("jwt") } });
    start_client("pw", opts);
    gj_value_unref(opts);
    clear_requests();
    ASSERT_EQ(0, run(op("query", "RETURN 1"))) << err.msg();
    std::string body;
    server->request("GET", "/_refserver/requests", "", &body);
    EXPECT_NE(std::string::npos, body.find("\"auth\":\"bearer\"")) << body;
    EXPECT_EQ(std::string::npos, body.find("\"auth\":\"basic\"")) << body;
}

TEST_F(ArangoTest, CancelSleepKillsTheQuery)
{
    start();
    clear_requests();
    gj_job *job = submit(op("query", "RETURN SLEEP(10)"));
    // Wait until the server runs it.
    auto t0 = Clock::now();
    bool running = false;
    while (Clock::now() - t0 < std::chrono::seconds(5) && !running) {
        std::string body;
        server->request("GET", "/_api/query/current", "", &body, true);
        running = body.find("SLEEP") != std::string::npos;
        if (!running)
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ASSERT_TRUE(running);
    auto c0 = Clock::now();
    ASSERT_EQ(0, gj_job_cancel(job, err.e)) << err.msg();
    ASSERT_EQ(0, gj_job_wait(job, 5000, err.e)) << err.msg();
    auto took = Clock::now() - c0;
    gj_job_status st;
    ASSERT_EQ(0, gj_job_get_status(job, &st, err.e));
    EXPECT_EQ(GJ_JOB_CANCELLED, st);
    EXPECT_LT(took, std::chrono::seconds(2));
    gj_job_unref(job);
    // The server saw the kill and runs nothing any more.
    bool killed = false;
    std::string cur;
    for (int i = 0; i < 100 && !killed; i++) {
        cur.clear();
        server->request("GET", "/_api/query/current", "", &cur, true);
        killed = cur == "[]";
        if (!killed)
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    EXPECT_TRUE(killed) << cur;
    EXPECT_EQ(1u, count_requests("DELETE /_api/query/")) << ::testing::PrintToString(requests());
    EXPECT_EQ(1u, count_requests("DELETE /_api/query/") - count_requests("DELETE /_api/query/ 4"));
    // Later jobs work.
    ASSERT_EQ(0, run(op("query", "RETURN 3"))) << err.msg();
}

TEST_F(ArangoTest, CloseMidResponseIsIoAndDropsTheConnection)
{
    start();
    ASSERT_EQ(0, run(op("query", "RETURN 1"))) << err.msg();
    set_fault("[\"close-mid-response:path=/_api/cursor,count=1\"]");
    EXPECT_EQ(GJ_EIO, run(op("query", "FOR i IN 1..100 RETURN i")));
    EXPECT_NE(std::string::npos, err.msg().find("127.0.0.1:" + std::to_string(server->port())))
        << err.msg();
    gj_result *res = nullptr;
    ASSERT_EQ(0, run(op("query", "FOR i IN 1..100 RETURN i"), &res)) << err.msg();
    EXPECT_EQ(100u, gj_result_row_count(res));
    gj_result_free(res);
    EXPECT_EQ(2u, log.count("arango: connected to"));
}

TEST_F(ArangoTest, ServiceUnavailable)
{
    start();
    ASSERT_EQ(0, run(op("query", "RETURN 1"))) << err.msg();
    // Not idempotent: a cursor POST is not retried.
    set_fault("[\"503:path=/_api/cursor,count=1\"]");
    EXPECT_EQ(GJ_ESERVER, run(op("query", "RETURN 1")));
    EXPECT_EQ(503, gj_error_http_status(err.e));
    ASSERT_EQ(0, run(op("query", "RETURN 1"))) << err.msg();
    // Idempotent: a GET is retried and succeeds.
    clear_requests();
    set_fault("[\"503:path=/_api/version,count=1\"]");
    gj_result *res = nullptr;
    ASSERT_EQ(0, run(op("version", nullptr), &res)) << err.msg();
    gj_result_free(res);
    EXPECT_EQ(1u, count_requests("GET /_api/version 503"));
    EXPECT_EQ(1u, count_requests("GET /_api/version 200"));
    EXPECT_EQ(1u, log.count("arango: connected to"));
}

TEST_F(ArangoTest, JwtIsRenewedWhenItExpires)
{
    start_server({ "--jwt-ttl", "1" });
    gj_value *opts = map_of({ { "auth", gj_value_string("jwt") } });
    start_client("pw", opts);
    gj_value_unref(opts);
    ASSERT_EQ(0, run(op("query", "RETURN 1"))) << err.msg();
    std::this_thread::sleep_for(std::chrono::milliseconds(2100));
    clear_requests();
    ASSERT_EQ(0, run(op("query", "RETURN 2"))) << err.msg();
    auto log_lines = requests();
    EXPECT_EQ(1u, count_requests("POST /_open/auth 200")) << ::testing::PrintToString(log_lines);
    EXPECT_EQ(1u, count_requests("POST /_api/cursor 401")) << ::testing::PrintToString(log_lines);
    EXPECT_EQ(1u, count_requests("POST /_api/cursor 201")) << ::testing::PrintToString(log_lines);
    // A JWT login with a wrong password is an auth error too.
    gj_client_free(client);
    client = nullptr;
    opts = map_of({ { "auth", gj_value_string("jwt") } });
    start_client("nope", opts);
    gj_value_unref(opts);
    EXPECT_EQ(GJ_EAUTH, run(op("query", "RETURN 1")));
    EXPECT_EQ(401, gj_error_http_status(err.e)) << err.msg();
}

TEST_F(ArangoTest, DatabaseSelection)
{
    start();
    clear_requests();
    gj_request *req = op("query", "RETURN 1");
    gj_request_set_database(req, "nosuchdb");
    EXPECT_EQ(GJ_ESERVER, run(req));
    EXPECT_EQ(1228, gj_error_server_number(err.e)) << err.msg();
    EXPECT_EQ(404, gj_error_http_status(err.e));
    ASSERT_EQ(0, run(op("http", nullptr,
                        { { "method", gj_value_string("POST") },
                          { "path", gj_value_string("/_api/database") },
                          { "body", map_of({ { "name", gj_value_string("school") } }) } })))
        << err.msg();
    req = op("collection.create", nullptr, { { "name", gj_value_string("pupils") } });
    gj_request_set_database(req, "school");
    ASSERT_EQ(0, run(req)) << err.msg();
    // The collection lives in "school", not in _system.
    EXPECT_EQ(GJ_ESERVER, run(op("collection.count", nullptr, { { "name", gj_value_string("pupils") } })));
    EXPECT_EQ(1203, gj_error_server_number(err.e));
    std::string body;
    server->request("GET", "/_refserver/requests", "", &body);
    EXPECT_NE(std::string::npos, body.find("\"database\":\"school\"")) << body;
}

TEST_F(ArangoTest, ResponseTimeoutKillsTheQuery)
{
    start();
    clear_requests();
    gj_request *req = op("query", "RETURN SLEEP(5)");
    gj_request_set_timeout(req, 300);
    auto t0 = Clock::now();
    EXPECT_EQ(GJ_ETIMEDOUT, run(req));
    EXPECT_LT(Clock::now() - t0, std::chrono::seconds(3));
    EXPECT_NE(std::string::npos, err.msg().find("127.0.0.1:")) << err.msg();
    await_requests("DELETE /_api/query/");   // right after the job ended
    EXPECT_EQ(1u, count_requests("DELETE /_api/query/")) << ::testing::PrintToString(requests());
    ASSERT_EQ(0, run(op("query", "RETURN 3"))) << err.msg();
}

TEST_F(ArangoTest, CancelWhileFetchingABatchDeletesTheCursor)
{
    start();
    set_fault("[\"stall:path=/_api/cursor/,secs=10,count=1\"]");
    clear_requests();
    gj_job *job = submit(op("query", "FOR i IN 1..1000 RETURN i", { { "batchSize", gj_value_int(10) } }));
    // Wait until the first batch came back and the second one stalls.
    await_requests("POST /_api/cursor 201");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    ASSERT_NO_FATAL_FAILURE(cancel_running(job));
    set_fault("[]");
    // The cursor is deleted right after the job ended (the worker's settle step).
    await_requests("DELETE /_api/cursor/");
    EXPECT_EQ(1u, count_requests("DELETE /_api/cursor/")) << ::testing::PrintToString(requests());
}

TEST_F(ArangoTest, Https)
{
    char dir[] = "/tmp/gj-arango-tls.XXXXXX";
    ASSERT_NE(nullptr, mkdtemp(dir));
    std::string cert = std::string(dir) + "/cert.pem", key = std::string(dir) + "/key.pem";
    ASSERT_TRUE(make_self_signed_cert(cert, key));
    start_server({ "--tls-cert", cert, "--tls-key", key });
    std::string base = "https://root:pw@127.0.0.1:" + std::to_string(server->port());
    // Verified with the CA file.
    start_client("pw", nullptr, 1, base + "?ssl_cafile=" + cert);
    gj_result *res = nullptr;
    ASSERT_EQ(0, run(op("query", "RETURN \"tls\""), &res)) << err.msg();
    EXPECT_EQ("tls", as_str(gj_result_row(res, 0)));
    gj_result_free(res);
    gj_client_free(client);
    client = nullptr;
    // Unknown issuer: a TLS error.
    start_client("pw", nullptr, 1, base);
    EXPECT_EQ(GJ_ETLS, run(op("query", "RETURN 1"))) << err.msg();
    gj_client_free(client);
    client = nullptr;
    // Verification off.
    start_client("pw", nullptr, 1, base + "?ssl_verify=false");
    EXPECT_EQ(0, run(op("query", "RETURN 1"))) << err.msg();
    gj_client_free(client);
    client = nullptr;
    // HTTP/2 offered through ALPN; the server only speaks HTTP/1.1.
    gj_value *h2 = map_of({ { "http2", gj_value_bool(true) } });
    start_client("pw", h2, 1, base + "?ssl_cafile=" + cert);
    gj_value_unref(h2);
    EXPECT_EQ(0, run(op("query", "RETURN 1"))) << err.msg();
    unlink(cert.c_str());
    unlink(key.c_str());
    rmdir(dir);
}

// python-arango's async walk-through, in client-side async mode.
TEST_F(ArangoTest, PythonArangoAsyncWalkThrough)
{
    start();
    ASSERT_EQ(0, run(op("collection.create", nullptr, { { "name", gj_value_string("students") } })))
        << err.msg();
    gj_job *j1 = submit(op("document.insert", nullptr,
                           { { "collection", gj_value_string("students") },
                             { "document", map_of({ { "_key", gj_value_string("Neal") } }) } }));
    gj_job *j2 = submit(op("document.insert", nullptr,
                           { { "collection", gj_value_string("students") },
                             { "document", map_of({ { "_key", gj_value_string("Lily") } }) } }));
    gj_job *j3 = submit(op("query", "RETURN 100000"));
    gj_job *j4 = submit(op("query", "INVALID QUERY"));
    for (gj_job *j : { j1, j2, j3, j4 }) {
        gj_job_status st = GJ_JOB_PENDING;
        auto t0 = Clock::now();
        while (Clock::now() - t0 < std::chrono::seconds(10)) {
            ASSERT_EQ(0, gj_job_get_status(j, &st, err.e)) << err.msg();
            if (st != GJ_JOB_PENDING)
                break;
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        EXPECT_EQ(GJ_JOB_DONE, st);
    }
    // List done jobs.
    uint64_t *ids = nullptr;
    size_t n = 0;
    ASSERT_EQ(0, gj_client_list_jobs(client, GJ_JOB_DONE, 0, &ids, &n, err.e));
    EXPECT_EQ(4u, n);
    gj_free(ids);
    ASSERT_EQ(0, gj_client_list_jobs(client, GJ_JOB_PENDING, 0, &ids, &n, err.e));
    EXPECT_EQ(0u, n);
    gj_free(ids);

    gj_result *res = nullptr;
    ASSERT_EQ(0, gj_job_result(j1, &res, err.e)) << err.msg();
    EXPECT_EQ("Neal", as_str(gj_value_map_get(gj_result_row(res, 0), "_key")));
    gj_result_free(res);
    ASSERT_EQ(0, gj_job_result(j3, &res, err.e)) << err.msg();
    EXPECT_EQ(100000, as_int(gj_result_row(res, 0)));
    gj_result_free(res);
    // The bad query re-raises the server's error.
    EXPECT_EQ(GJ_ESERVER, gj_job_result(j4, &res, err.e));
    EXPECT_EQ(1501, gj_error_server_number(err.e));
    EXPECT_EQ(400, gj_error_http_status(err.e));
    // Cancel of a done job: not found.
    EXPECT_EQ(GJ_ENOTFOUND, gj_job_cancel(j2, err.e));
    EXPECT_EQ("job " + std::to_string(gj_job_id(j2)) + " not found", err.msg());
    // Clear of a fetched job: not found.
    EXPECT_EQ(GJ_ENOTFOUND, gj_job_clear(j1, err.e));
    // Clear all: j2 was the only finished, unfetched one.
    size_t cleared = 0;
    ASSERT_EQ(0, gj_client_clear_jobs(client, 0, &cleared, err.e));
    EXPECT_EQ(1u, cleared);
    ASSERT_EQ(0, gj_client_list_jobs(client, GJ_JOB_DONE, 0, &ids, &n, err.e));
    EXPECT_EQ(0u, n);
    gj_free(ids);
    for (gj_job *j : { j1, j2, j3, j4 })
        gj_job_unref(j);
    // The documents are there.
    ASSERT_EQ(0, run(op("collection.count", nullptr, { { "name", gj_value_string("students") } }),
                     &res))
        << err.msg();
    EXPECT_EQ(2, as_int(gj_value_map_get(gj_result_row(res, 0), "count")));
    gj_result_free(res);
}

TEST_F(ArangoTest, StreamTransaction)
{
    start();
    ASSERT_EQ(0, run(op("collection.create", nullptr, { { "name", gj_value_string("acct") } })))
        << err.msg();
    gj_value *write = nullptr;
    gj_value_new_list(&write, 1);
    gj_value_list_append(write, gj_value_string("acct"));
    gj_result *res = nullptr;
    ASSERT_EQ(0, run(op("transaction.begin", nullptr,
                        { { "collections", map_of({ { "write", write } }) } }),
                     &res))
        << err.msg();
    std::string trx = as_str(gj_value_map_get(gj_value_map_get(gj_result_row(res, 0), "result"), "id"));
    gj_result_free(res);
    ASSERT_FALSE(trx.empty());
    ASSERT_EQ(0, run(op("document.insert", nullptr,
                        { { "collection", gj_value_string("acct") },
                          { "document", map_of({ { "_key", gj_value_string("x") } }) },
                          { "trx", gj_value_string(trx.c_str()) } })))
        << err.msg();
    // Not visible outside the transaction yet.
    ASSERT_EQ(0, run(op("collection.count", nullptr, { { "name", gj_value_string("acct") } }), &res));
    EXPECT_EQ(0, as_int(gj_value_map_get(gj_result_row(res, 0), "count")));
    gj_result_free(res);
    gj_request *q = op("query", "FOR d IN acct RETURN d._key", { { "trx", gj_value_string(trx.c_str()) } });
    ASSERT_EQ(0, run(q, &res)) << err.msg();
    EXPECT_EQ(1u, gj_result_row_count(res));
    gj_result_free(res);
    ASSERT_EQ(0, run(op("transaction.commit", nullptr, { { "id", gj_value_string(trx.c_str()) } })))
        << err.msg();
    ASSERT_EQ(0, run(op("collection.count", nullptr, { { "name", gj_value_string("acct") } }), &res));
    EXPECT_EQ(1, as_int(gj_value_map_get(gj_result_row(res, 0), "count")));
    gj_result_free(res);
    EXPECT_EQ(GJ_ESERVER, run(op("transaction.abort", nullptr, { { "id", gj_value_string(trx.c_str()) } })));
    EXPECT_EQ(1653, gj_error_server_number(err.e)) << err.msg();
    EXPECT_EQ(GJ_ESERVER, run(op("transaction.status", nullptr, { { "id", gj_value_string("999999") } })));
    EXPECT_EQ(1655, gj_error_server_number(err.e)) << err.msg();
}

// python-arango's async walk-through with server-side async jobs
// (x-arango-async: store) under each job.
TEST_F(ArangoTest, PythonArangoWalkThroughServerSide)
{
    start();
    ASSERT_EQ(0, run(op("collection.create", nullptr, { { "name", gj_value_string("students") } })))
        << err.msg();
    clear_requests();
    auto store = [] { return gj_value_string("store"); };
    gj_job *j1 = submit(op("document.insert", nullptr,
                           { { "collection", gj_value_string("students") },
                             { "document", map_of({ { "_key", gj_value_string("Neal") } }) },
                             { "async", store() } }));
    gj_job *j2 = submit(op("document.insert", nullptr,
                           { { "collection", gj_value_string("students") },
                             { "document", map_of({ { "_key", gj_value_string("Lily") } }) },
                             { "async", store() } }));
    gj_job *j3 = submit(op("query", "FOR i IN 1..50 RETURN i",
                           { { "async", store() }, { "batchSize", gj_value_int(20) } }));
    gj_job *j4 = submit(op("query", "INVALID QUERY", { { "async", store() } }));
    for (gj_job *j : { j1, j2, j3, j4 })
        ASSERT_EQ(0, gj_job_wait(j, 10000, err.e)) << err.msg();
    gj_result *res = nullptr;
    ASSERT_EQ(0, gj_job_result(j1, &res, err.e)) << err.msg();
    EXPECT_EQ("Neal", as_str(gj_value_map_get(gj_result_row(res, 0), "_key")));
    EXPECT_NE("<not a string>", as_str(gj_value_map_get(gj_result_meta(res), "async_id")));
    gj_result_free(res);
    ASSERT_EQ(0, gj_job_result(j3, &res, err.e)) << err.msg();
    EXPECT_EQ(50u, gj_result_row_count(res));
    gj_result_free(res);
    EXPECT_EQ(GJ_ESERVER, gj_job_result(j4, &res, err.e));
    EXPECT_EQ(1501, gj_error_server_number(err.e)) << err.msg();
    EXPECT_EQ(400, gj_error_http_status(err.e));
    EXPECT_EQ(GJ_ENOTFOUND, gj_job_cancel(j2, err.e));
    EXPECT_EQ(GJ_ENOTFOUND, gj_job_clear(j1, err.e));
    size_t cleared = 0;
    ASSERT_EQ(0, gj_client_clear_jobs(client, 0, &cleared, err.e));
    EXPECT_EQ(1u, cleared);
    for (gj_job *j : { j1, j2, j3, j4 })
        gj_job_unref(j);
    // Every job went through the server's job API and was fetched once.
    auto lines = requests();
    EXPECT_EQ(4u, count_requests("PUT /_api/job/")) << ::testing::PrintToString(lines);
    EXPECT_EQ(2u, count_requests("POST /_api/document/students 202")) << ::testing::PrintToString(lines);
    EXPECT_EQ(2u, count_requests("POST /_api/cursor/")) << ::testing::PrintToString(lines);
    std::string body;
    server->request("GET", "/_api/job/done", "", &body, true);
    EXPECT_EQ("[]", body);

    // Cancel of a running server job: the job is cancelled and deleted.
    clear_requests();
    gj_job *slow = submit(op("query", "RETURN SLEEP(10)", { { "async", store() } }));
    await_requests("GET /_api/job/");
    ASSERT_NO_FATAL_FAILURE(cancel_running(slow));
    // The job ends at once; the server job is cancelled and deleted right
    // after (the worker's settle step).
    await_requests("DELETE /_api/job/");
    lines = requests();
    bool cancel_seen = false;
    for (auto &l : lines)
        cancel_seen |= l.find("/cancel 200") != std::string::npos;
    EXPECT_TRUE(cancel_seen) << ::testing::PrintToString(lines);
    body.clear();
    server->request("GET", "/_api/job/pending", "", &body, true);
    EXPECT_EQ("[]", body);
    EXPECT_EQ(GJ_EINVAL, run(op("version", nullptr, { { "async", gj_value_string("sometimes") } })));
}

// python-arango's walk-through in server-side mode with a client restart
// in the middle: client A detaches server jobs and records their ids; it is
// freed; client B re-attaches to them by id (ops job.*).
TEST_F(ArangoTest, DetachedServerJobsSurviveAClientRestart)
{
    start();
    ASSERT_EQ(0, run(op("collection.create", nullptr, { { "name", gj_value_string("students") } })))
        << err.msg();
    auto detached = [](gj_request *req) {
        EXPECT_EQ(0, gj_request_set_option(req, "async", gj_value_string("store")));
        EXPECT_EQ(0, gj_request_set_option(req, "detach", gj_value_bool(true)));
        return req;
    };
    // Client A: the job ends at the 202 with the server job's id.
    std::vector<std::string> ids;
    std::vector<gj_request *> reqs = {
        detached(op("document.insert", nullptr,
                    { { "collection", gj_value_string("students") },
                      { "document", map_of({ { "_key", gj_value_string("Neal") } }) } })),
        detached(op("document.insert", nullptr,
                    { { "collection", gj_value_string("students") },
                      { "document", map_of({ { "_key", gj_value_string("Lily") } }) } })),
        detached(op("query", "FOR i IN 1..50 RETURN i", { { "batchSize", gj_value_int(20) } })),
        detached(op("query", "INVALID QUERY")),
        detached(op("query", "RETURN SLEEP(1)")),
    };
    for (gj_request *req : reqs) {
        gj_result *res = nullptr;
        ASSERT_EQ(0, run(req, &res)) << err.msg();
        ASSERT_EQ(1u, gj_result_row_count(res));
        std::string id = as_str(gj_value_map_get(gj_result_row(res, 0), "async_id"));
        EXPECT_EQ(id, as_str(gj_value_map_get(gj_result_meta(res), "async_id")));
        EXPECT_EQ("127.0.0.1:" + std::to_string(server->port()),
                  as_str(gj_value_map_get(gj_result_meta(res), "coordinator")));
        EXPECT_EQ(202, as_int(gj_value_map_get(gj_result_meta(res), "http_status")));
        EXPECT_NE(std::string::npos, id.find_first_of("0123456789")) << id;
        ids.push_back(id);
        gj_result_free(res);
    }
    gj_client_free(client);  // the client "restarts"
    client = nullptr;
    start_client();
    auto by_id = [&](const char *name, const std::string &id) {
        return op(name, nullptr, { { "id", gj_value_string(id.c_str()) } });
    };
    const std::string &neal = ids[0], &lily = ids[1], &good = ids[2], &bad = ids[3],
                      &slow = ids[4];
    // The slow one is still running.
    gj_result *res = nullptr;
    ASSERT_EQ(0, run(by_id("job.status", slow), &res)) << err.msg();
    EXPECT_EQ("pending", as_str(gj_result_row(res, 0)));
    gj_result_free(res);
    // The good ones give their results.
    ASSERT_EQ(0, run(by_id("job.attach", neal), &res)) << err.msg();
    EXPECT_EQ("Neal", as_str(gj_value_map_get(gj_result_row(res, 0), "_key")));
    EXPECT_EQ(neal, as_str(gj_value_map_get(gj_result_meta(res), "async_id")));
    gj_result_free(res);
    ASSERT_EQ(0, run(by_id("job.attach", lily), &res)) << err.msg();
    EXPECT_EQ("Lily", as_str(gj_value_map_get(gj_result_row(res, 0), "_key")));
    gj_result_free(res);
    clear_requests();
    ASSERT_EQ(0, run(by_id("job.attach", good), &res)) << err.msg();
    ASSERT_EQ(50u, gj_result_row_count(res));
    for (size_t i = 0; i < 50; i++)
        EXPECT_EQ((int64_t)i + 1, as_int(gj_result_row(res, i)));
    gj_result_free(res);
    // Two later batches paged from the coordinator that holds the cursor.
    EXPECT_EQ(2u, count_requests("POST /_api/cursor/")) << ::testing::PrintToString(requests());
    // The bad one re-raises the server's error.
    EXPECT_EQ(GJ_ESERVER, run(by_id("job.attach", bad)));
    EXPECT_EQ(1501, gj_error_server_number(err.e)) << err.msg();
    EXPECT_EQ(400, gj_error_http_status(err.e));
    // A fetched job is gone.
    EXPECT_EQ(GJ_ENOTFOUND, run(by_id("job.attach", neal)));
    EXPECT_EQ("server job " + neal + " not found", err.msg());
    EXPECT_EQ(GJ_ENOTFOUND, run(by_id("job.status", neal)));
    EXPECT_EQ(GJ_ENOTFOUND, run(by_id("job.delete", lily)));
    EXPECT_EQ("server job " + lily + " not found", err.msg());
    // The slow one: pending, then done (bounded wait), then its result.
    std::string st;
    auto t0 = Clock::now();
    while (st != "done" && Clock::now() - t0 < std::chrono::seconds(10)) {
        ASSERT_EQ(0, run(by_id("job.status", slow), &res)) << err.msg();
        st = as_str(gj_result_row(res, 0));
        gj_result_free(res);
        if (st != "done")
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    EXPECT_EQ("done", st);
    ASSERT_EQ(0, run(by_id("job.attach", slow), &res)) << err.msg();
    EXPECT_EQ(1u, gj_result_row_count(res));
    gj_result_free(res);
    // Cancel of a done (fetched) job: not found.
    EXPECT_EQ(GJ_ENOTFOUND, run(by_id("job.cancel", good)));
    EXPECT_EQ("server job " + good + " not found", err.msg());

    // Listing: three done, one pending; count limits the list.
    std::vector<std::string> more;
    for (int i = 0; i < 3; i++) {
        gj_request *req = detached(op("query", "RETURN @i"));
        gj_request_set_param(req, "i", gj_value_int(i));
        ASSERT_EQ(0, run(req, &res)) << err.msg();
        more.push_back(as_str(gj_value_map_get(gj_result_row(res, 0), "async_id")));
        gj_result_free(res);
    }
    for (auto &id : more) {
        st.clear();
        t0 = Clock::now();
        while (st != "done" && Clock::now() - t0 < std::chrono::seconds(5)) {
            ASSERT_EQ(0, run(by_id("job.status", id), &res)) << err.msg();
            st = as_str(gj_result_row(res, 0));
            gj_result_free(res);
        }
        EXPECT_EQ("done", st);
    }
    ASSERT_EQ(0, run(detached(op("query", "RETURN SLEEP(1)")), &res)) << err.msg();
    std::string pending = as_str(gj_value_map_get(gj_result_row(res, 0), "async_id"));
    gj_result_free(res);
    auto list = [&](const char *status, int64_t count) {
        gj_request *req = op("job.list", nullptr, { { "status", gj_value_string(status) } });
        if (count > 0)
            gj_request_set_option(req, "count", gj_value_int(count));
        gj_result *r = nullptr;
        std::vector<std::string> out;
        EXPECT_EQ(0, run(req, &r)) << err.msg();
        for (size_t i = 0; r && i < gj_result_row_count(r); i++)
            out.push_back(as_str(gj_result_row(r, i)));
        gj_result_free(r);
        return out;
    };
    EXPECT_EQ(more, list("done", 0));
    EXPECT_EQ(std::vector<std::string>(more.begin(), more.begin() + 2), list("done", 2));
    EXPECT_EQ(std::vector<std::string>{ pending }, list("pending", 0));
    // Cancel of the running one: the server answers {"result": true}; it
    // then ends as a replayed "canceled request" (HTTP 410).
    ASSERT_EQ(0, run(by_id("job.cancel", pending), &res)) << err.msg();
    EXPECT_TRUE(gj_value_map_get(gj_result_row(res, 0), "result") != nullptr)
        << json(gj_result_row(res, 0));
    gj_result_free(res);
    EXPECT_EQ(GJ_ESERVER, run(by_id("job.attach", pending), nullptr, 5000));
    EXPECT_EQ(410, gj_error_http_status(err.e)) << err.msg();
    // Delete one, expired ones (none before stamp 1), then all.
    ASSERT_EQ(0, run(by_id("job.delete", more[0]))) << err.msg();
    EXPECT_EQ(GJ_ENOTFOUND, run(by_id("job.status", more[0])));
    ASSERT_EQ(0, run(op("job.delete", nullptr, { { "which", gj_value_string("expired") },
                                                 { "stamp", gj_value_int(1) } })))
        << err.msg();
    EXPECT_EQ(2u, list("done", 0).size());
    ASSERT_EQ(0, run(op("job.delete", nullptr, { { "which", gj_value_string("all") } }), &res))
        << err.msg();
    EXPECT_EQ(200, as_int(gj_value_map_get(gj_result_meta(res), "http_status")));
    gj_result_free(res);
    EXPECT_TRUE(list("done", 0).empty());
    EXPECT_TRUE(list("pending", 0).empty());
}

TEST_F(ArangoTest, JobOpsRejectBadOptions)
{
    start();
    EXPECT_EQ(GJ_EINVAL, run(op("job.attach", nullptr)));
    EXPECT_NE(std::string::npos, err.msg().find("needs option id")) << err.msg();
    EXPECT_EQ(GJ_EINVAL, run(op("job.status", nullptr, { { "id", gj_value_string("12a") } })));
    EXPECT_EQ(GJ_EINVAL, run(op("job.attach", nullptr, { { "id", gj_value_string("1") },
                                                          { "async", gj_value_string("store") } })));
    EXPECT_EQ(GJ_EINVAL, run(op("job.list", nullptr)));
    EXPECT_EQ(GJ_EINVAL, run(op("job.list", nullptr, { { "status", gj_value_string("all") } })));
    EXPECT_EQ(GJ_EINVAL, run(op("job.delete", nullptr, { { "which", gj_value_string("expired") } })));
    EXPECT_EQ(GJ_EINVAL, run(op("job.delete", nullptr, { { "which", gj_value_string("some") } })));
    EXPECT_EQ(GJ_EINVAL, run(op("job.cancel", nullptr, { { "id", gj_value_int(1) },
                                                          { "which", gj_value_string("all") } })));
    EXPECT_EQ(GJ_EUNSUPPORTED, run(op("job.frobnicate", nullptr)));
    EXPECT_EQ(GJ_EINVAL, run(op("version", nullptr, { { "detach", gj_value_bool(true) } })));
    EXPECT_NE(std::string::npos, err.msg().find("async")) << err.msg();
    // An int id works as well as a string; an unknown one is not found.
    EXPECT_EQ(GJ_ENOTFOUND, run(op("job.status", nullptr, { { "id", gj_value_int(987654) } })));
    EXPECT_EQ("server job 987654 not found", err.msg());
    EXPECT_EQ(GJ_ENOTFOUND, run(op("job.cancel", nullptr, { { "id", gj_value_int(987654) } })));
}

// Cancelling a job.attach stops waiting at once and leaves the server job
// running (it can be attached to again).
TEST_F(ArangoTest, CancelAttachLeavesTheServerJob)
{
    start();
    gj_result *res = nullptr;
    ASSERT_EQ(0, run(op("query", "RETURN SLEEP(10)", { { "async", gj_value_string("store") },
                                                       { "detach", gj_value_bool(true) } }),
                     &res))
        << err.msg();
    std::string id = as_str(gj_value_map_get(gj_result_row(res, 0), "async_id"));
    gj_result_free(res);
    clear_requests();
    gj_job *job = submit(op("job.attach", nullptr, { { "id", gj_value_string(id.c_str()) } }));
    await_requests("GET /_api/job/", 2);
    ASSERT_NO_FATAL_FAILURE(cancel_running(job));
    for (auto &l : requests())
        EXPECT_EQ(std::string::npos, l.find("/cancel")) << l;
    ASSERT_EQ(0, run(op("job.status", nullptr, { { "id", gj_value_string(id.c_str()) } }), &res))
        << err.msg();
    EXPECT_EQ("pending", as_str(gj_result_row(res, 0)));
    gj_result_free(res);
    // A response timeout on job.attach: GJ_ETIMEDOUT, the job still there.
    EXPECT_EQ(GJ_ETIMEDOUT, run(op("job.attach", nullptr, { { "id", gj_value_string(id.c_str()) } }),
                                nullptr, 300));
    ASSERT_EQ(0, run(op("job.cancel", nullptr, { { "id", gj_value_string(id.c_str()) } })))
        << err.msg();
    ASSERT_EQ(0, run(op("job.delete", nullptr, { { "which", gj_value_string("all") } })))
        << err.msg();
}

// The coordinator rule: a detached server job is attached through a target
// that points at the coordinator that accepted it (meta coordinator); the
// other coordinator does not know it.
TEST_F(ArangoTest, DetachedJobsAreAttachedOnTheirCoordinator)
{
    start_server({ "--coordinators", "2" });
    ASSERT_EQ(2u, server->ports().size());
    std::string hp[2];
    for (int k = 0; k < 2; k++)
        hp[k] = "127.0.0.1:" + std::to_string(server->ports()[k]);
    gj_config *cfg = nullptr;
    ASSERT_EQ(0, gj_config_from_url(&cfg, ("http://root:pw@" + hp[0] + "," + hp[1]).c_str(), err.e))
        << err.msg();
    ASSERT_EQ(0, gj_config_add_url(cfg, "c0", ("http://root:pw@" + hp[0]).c_str(), err.e)) << err.msg();
    ASSERT_EQ(0, gj_config_add_url(cfg, "c1", ("http://root:pw@" + hp[1]).c_str(), err.e)) << err.msg();
    ASSERT_EQ(0, gj_config_set_int(cfg, nullptr, "workers", 4, err.e)) << err.msg();
    int rc = gj_client_new(&client, cfg, err.e);
    gj_config_free(cfg);
    ASSERT_EQ(0, rc) << err.msg();
    // Detach jobs through the round-robin target until both coordinators
    // accepted some (bounded).
    struct Made { std::string id; int coord; int64_t value; };
    std::vector<Made> made;
    bool seen[2] = { false, false };
    std::vector<gj_job *> jobs;
    for (int i = 0; i < 16; i++) {
        gj_request *req = op("query", "FOR i IN 1..@n RETURN i",
                             { { "async", gj_value_string("store") },
                               { "detach", gj_value_bool(true) },
                               { "batchSize", gj_value_int(4) } });
        gj_request_set_param(req, "n", gj_value_int(10 + i));
        jobs.push_back(submit(req));
    }
    for (size_t i = 0; i < jobs.size(); i++) {
        ASSERT_EQ(0, gj_job_wait(jobs[i], 10000, err.e)) << err.msg();
        gj_result *res = nullptr;
        ASSERT_EQ(0, gj_job_result(jobs[i], &res, err.e)) << err.msg();
        std::string coord = as_str(gj_value_map_get(gj_result_meta(res), "coordinator"));
        int k = coord == hp[0] ? 0 : coord == hp[1] ? 1 : -1;
        EXPECT_NE(-1, k) << coord;
        if (k >= 0) {
            seen[k] = true;
            made.push_back({ as_str(gj_value_map_get(gj_result_row(res, 0), "async_id")), k,
                             (int64_t)(10 + i) });
        }
        gj_result_free(res);
        gj_job_unref(jobs[i]);
    }
    EXPECT_TRUE(seen[0] && seen[1]) << "the pool used one coordinator only";
    for (auto &m : made) {
        const char *home = m.coord == 0 ? "c0" : "c1", *other = m.coord == 0 ? "c1" : "c0";
        gj_request *req = op("job.status", nullptr, { { "id", gj_value_string(m.id.c_str()) } });
        gj_request_set_target(req, other);
        // The other coordinator does not know it (ids are unique across the
        // reference server's coordinators, as ArangoDB's are per cluster).
        EXPECT_EQ(GJ_ENOTFOUND, run(req)) << other;
        EXPECT_EQ("server job " + m.id + " not found", err.msg());
        req = op("job.attach", nullptr, { { "id", gj_value_string(m.id.c_str()) } });
        gj_request_set_target(req, home);
        gj_result *res = nullptr;
        ASSERT_EQ(0, run(req, &res)) << err.msg() << " (" << home << ")";
        EXPECT_EQ((size_t)m.value, gj_result_row_count(res));
        EXPECT_EQ(m.value, as_int(gj_result_row(res, gj_result_row_count(res) - 1)));
        gj_result_free(res);
    }
    // Later batches went to the coordinator that holds their cursor: no 404.
    for (size_t k = 0; k < 2; k++) {
        size_t batches = 0;
        for (auto &l : requests(k)) {
            if (l.rfind("POST /_api/cursor/", 0) != 0)
                continue;
            EXPECT_EQ(std::string::npos, l.find(" 404")) << l;
            batches++;
        }
        EXPECT_GT(batches, 0u) << "coordinator " << k;
    }
}

TEST_F(ArangoTest, CoordinatorsRoundRobinCursorsStayHome)
{
    start_server({ "--coordinators", "2" });
    ASSERT_EQ(2u, server->ports().size());
    std::string url = "http://root:pw@127.0.0.1:" + std::to_string(server->ports()[0]) +
                      ",127.0.0.1:" + std::to_string(server->ports()[1]);
    start_client("pw", nullptr, 4, url);
    // Server-side async jobs and their cursors stay on their coordinator.
    std::vector<gj_job *> jobs;
    for (int i = 0; i < 8; i++)
        jobs.push_back(submit(op("query", "FOR i IN 1..50 RETURN i",
                                 { { "batchSize", gj_value_int(10) },
                                   { "async", gj_value_string("store") } })));
    for (auto *j : jobs) {
        ASSERT_EQ(0, gj_job_wait(j, 20000, err.e)) << err.msg();
        gj_result *res = nullptr;
        ASSERT_EQ(0, gj_job_result(j, &res, err.e)) << err.msg();
        EXPECT_EQ(50u, gj_result_row_count(res));
        gj_result_free(res);
        gj_job_unref(j);
    }
    for (size_t k = 0; k < 2; k++) {
        for (auto &l : requests(k))
            EXPECT_EQ(std::string::npos, l.find(" 404")) << l;
        server->request("DELETE", "/_refserver/requests", "", nullptr, false, k);
    }
    jobs.clear();
    for (int i = 0; i < 24; i++)
        jobs.push_back(submit(op("query", "FOR i IN 1..100 RETURN i", { { "batchSize", gj_value_int(25) } })));
    for (auto *j : jobs) {
        ASSERT_EQ(0, gj_job_wait(j, 20000, err.e)) << err.msg();
        gj_result *res = nullptr;
        ASSERT_EQ(0, gj_job_result(j, &res, err.e)) << err.msg();
        EXPECT_EQ(100u, gj_result_row_count(res));
        gj_result_free(res);
        gj_job_unref(j);
    }
    // Both coordinators served cursors, and no batch went to the wrong one.
    size_t total = 0;
    for (size_t k = 0; k < 2; k++) {
        auto lines = requests(k);
        size_t created = 0;
        for (auto &l : lines) {
            EXPECT_EQ(std::string::npos, l.find(" 404")) << l;
            created += l.rfind("POST /_api/cursor 201", 0) == 0;
        }
        total += created;
        EXPECT_GT(created, 0u) << "coordinator " << k;
    }
    EXPECT_EQ(24u, total);
}

TEST_F(ArangoTest, MaxMessageSizeAndLiveness)
{
    start_server();
    start_client("pw", nullptr, 1, server->url() + "?max_message_size=4096&liveness_check=0");
    EXPECT_EQ(GJ_ETOOBIG, run(op("query", "FOR i IN 1..10000 RETURN i", { { "batchSize", gj_value_int(5000) } })));
    EXPECT_NE(std::string::npos, err.msg().find("4096")) << err.msg();
    clear_requests();
    for (int i = 0; i < 3; i++) {
        ASSERT_EQ(0, run(op("query", "RETURN 1"))) << err.msg();
        // Let the worker go idle and give the connection back to the pool.
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    // A new connection after the oversized reply, then a liveness ping
    // (GET /_api/version) before each reuse from the pool.
    EXPECT_GE(count_requests("GET /_api/version 200"), 3u) << ::testing::PrintToString(requests());
}

TEST_F(ArangoTest, ParallelWorkersShareThePool)
{
    start_server();
    start_client("pw", nullptr, 4);
    std::vector<gj_job *> jobs;
    for (int i = 0; i < 64; i++) {
        gj_request *req = op("query", "RETURN @i");
        gj_request_set_param(req, "i", gj_value_int(i));
        jobs.push_back(submit(req));
    }
    for (int i = 0; i < 64; i++) {
        ASSERT_EQ(0, gj_job_wait(jobs[i], 10000, err.e)) << err.msg();
        gj_result *res = nullptr;
        ASSERT_EQ(0, gj_job_result(jobs[i], &res, err.e)) << err.msg();
        EXPECT_EQ(i, as_int(gj_result_row(res, 0)));
        gj_result_free(res);
        gj_job_unref(jobs[i]);
    }
}

// ---- fire and forget (x-arango-async: true) -----------------------------------

TEST_F(ArangoTest, FireAndForgetInsertIsSeenByALaterRead)
{
    start();
    ASSERT_EQ(0, run(op("collection.create", nullptr, { { "name", gj_value_string("ff") } })))
        << err.msg();
    clear_requests();
    gj_result *res = nullptr;
    ASSERT_EQ(0, run(op("document.insert", nullptr,
                        { { "collection", gj_value_string("ff") },
                          { "document", map_of({ { "_key", gj_value_string("k1") },
                                                 { "v", gj_value_int(7) } }) },
                          { "async", gj_value_bool(true) } }),
                     &res))
        << err.msg();
    // DONE with no rows; the meta says the server accepted it.
    ASSERT_NE(nullptr, res);
    EXPECT_EQ(0u, gj_result_row_count(res));
    const gj_value *meta = gj_result_meta(res);
    EXPECT_EQ("accepted", as_str(gj_value_map_get(meta, "async"))) << json(meta);
    EXPECT_EQ(202, as_int(gj_value_map_get(meta, "http_status")));
    EXPECT_EQ("127.0.0.1:" + std::to_string(server->port()),
              as_str(gj_value_map_get(meta, "coordinator")));
    EXPECT_EQ(nullptr, gj_value_map_get(meta, "async_id"));
    gj_result_free(res);
    // The server got x-arango-async: true and answered 202.
    std::string body;
    ASSERT_EQ(200, server->request("GET", "/_refserver/requests", "", &body));
    EXPECT_NE(std::string::npos, body.find("\"path\":\"/_api/document/ff\",\"async\":\"true\""))
        << body;
    EXPECT_EQ(1u, count_requests("POST /_api/document/ff 202"));
    // A later read sees the document (the server runs it in the background).
    auto until = Clock::now() + std::chrono::seconds(5);
    int rc = GJ_ENOTFOUND;
    while (Clock::now() < until) {
        rc = run(op("document.get", nullptr,
                    { { "collection", gj_value_string("ff") }, { "key", gj_value_string("k1") } }),
                 &res);
        if (rc == 0)
            break;
        ASSERT_EQ(GJ_ESERVER, rc) << err.msg();
        ASSERT_EQ(1202, gj_error_server_number(err.e)) << err.msg();
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ASSERT_EQ(0, rc) << err.msg();
    ASSERT_EQ(1u, gj_result_row_count(res));
    EXPECT_EQ(7, as_int(gj_value_map_get(gj_result_row(res, 0), "v")));
    gj_result_free(res);
    // Nothing was stored on the server: no job to list.
    ASSERT_EQ(0, run(op("job.list", nullptr, { { "status", gj_value_string("done") } }), &res))
        << err.msg();
    EXPECT_EQ(0u, gj_result_row_count(res));
    gj_result_free(res);
    // A fire-and-forget query: accepted, no rows, no cursor kept.
    ASSERT_EQ(0, run(op("query", "RETURN SLEEP(0.01)", { { "async", gj_value_string("true") } }),
                     &res))
        << err.msg();
    EXPECT_EQ(0u, gj_result_row_count(res));
    EXPECT_EQ("accepted", as_str(gj_value_map_get(gj_result_meta(res), "async")));
    gj_result_free(res);
    // detach goes with store only; the job API takes no async; bad values.
    EXPECT_EQ(GJ_EINVAL, run(op("version", nullptr, { { "async", gj_value_bool(true) },
                                                      { "detach", gj_value_bool(true) } })));
    EXPECT_NE(std::string::npos, err.msg().find("detach")) << err.msg();
    EXPECT_EQ(GJ_EINVAL, run(op("job.list", nullptr, { { "status", gj_value_string("done") },
                                                       { "async", gj_value_bool(true) } })));
    EXPECT_EQ(GJ_EINVAL, run(op("version", nullptr, { { "async", gj_value_string("later") } })));
    EXPECT_NE(std::string::npos, err.msg().find("option async")) << err.msg();
}

TEST_F(ArangoTest, AsyncModeAsATargetOption)
{
    start_server();
    // Every request fire-and-forget unless it says otherwise.
    gj_value *opts = map_of({ { "async", gj_value_bool(true) } });
    start_client("pw", opts);
    gj_value_unref(opts);
    gj_result *res = nullptr;
    ASSERT_EQ(0, run(op("version", nullptr), &res)) << err.msg();
    EXPECT_EQ(0u, gj_result_row_count(res));
    EXPECT_EQ("accepted", as_str(gj_value_map_get(gj_result_meta(res), "async")));
    gj_result_free(res);
    std::string body;
    ASSERT_EQ(200, server->request("GET", "/_refserver/requests", "", &body));
    EXPECT_NE(std::string::npos, body.find("\"path\":\"/_api/version\",\"async\":\"true\""))
        << body;
    // async: false on the request: an ordinary call.
    ASSERT_EQ(0, run(op("version", nullptr, { { "async", gj_value_bool(false) } }), &res))
        << err.msg();
    ASSERT_EQ(1u, gj_result_row_count(res));
    EXPECT_EQ("arango", as_str(gj_value_map_get(gj_result_row(res, 0), "server")));
    gj_result_free(res);
    // async: "store" on the request: the stored reply.
    ASSERT_EQ(0, run(op("query", "RETURN 5", { { "async", gj_value_string("store") } }), &res))
        << err.msg();
    ASSERT_EQ(1u, gj_result_row_count(res));
    EXPECT_EQ(5, as_int(gj_result_row(res, 0)));
    gj_result_free(res);
    // The job API is not affected by the target's default.
    ASSERT_EQ(0, run(op("job.list", nullptr, { { "status", gj_value_string("pending") } }), &res))
        << err.msg();
    gj_result_free(res);
    // The target option "store".
    gj_client_free(client);
    client = nullptr;
    opts = map_of({ { "async", gj_value_string("store") } });
    start_client("pw", opts);
    gj_value_unref(opts);
    clear_requests();
    ASSERT_EQ(0, run(op("query", "RETURN 6"), &res)) << err.msg();
    ASSERT_EQ(1u, gj_result_row_count(res));
    EXPECT_EQ(6, as_int(gj_result_row(res, 0)));
    EXPECT_NE(nullptr, gj_value_map_get(gj_result_meta(res), "async_id"));
    gj_result_free(res);
    EXPECT_EQ(1u, count_requests("POST /_api/cursor 202"));
    // A bad value fails the connection with a config error.
    gj_client_free(client);
    client = nullptr;
    opts = map_of({ { "async", gj_value_string("sometimes") } });
    start_client("pw", opts);
    gj_value_unref(opts);
    EXPECT_EQ(GJ_ECONFIG, run(op("version", nullptr)));
    EXPECT_NE(std::string::npos, err.msg().find("arango option async")) << err.msg();
}

// ---- coordinators: discovery and failover --------------------------------------

std::unique_ptr<ArangoServer> start_member(const std::vector<std::string> &args = {})
{
    std::unique_ptr<ArangoServer> s(new ArangoServer(args));
    EXPECT_TRUE(s->ok()) << s->error();
    return s;
}

std::string endpoint_of(const ArangoServer &s)
{
    return "tcp://127.0.0.1:" + std::to_string(s.port());
}

/* Run the requests as parallel jobs; every one must succeed.  Returns the
 * rows of each. */
std::vector<size_t> run_all(gj_client *client, std::vector<gj_request *> reqs)
{
    std::vector<gj_job *> jobs;
    Err e;
    for (gj_request *r : reqs) {
        gj_job *job = nullptr;
        EXPECT_EQ(0, gj_client_submit(client, r, nullptr, &job, e.e)) << e.msg();
        gj_request_unref(r);
        jobs.push_back(job);
    }
    std::vector<size_t> rows;
    for (gj_job *j : jobs) {
        gj_result *res = nullptr;
        EXPECT_EQ(0, gj_job_wait(j, 20000, e.e)) << e.msg();
        EXPECT_EQ(0, gj_job_result(j, &res, e.e)) << e.msg();
        rows.push_back(res ? gj_result_row_count(res) : 0);
        gj_result_free(res);
        gj_job_unref(j);
    }
    return rows;
}

TEST_F(ArangoTest, DiscoveredCoordinatorsShareTheWorkAndSurviveOneStopping)
{
    auto s2 = start_member();
    auto s3 = start_member();
    ASSERT_TRUE(s2->ok() && s3->ok());
    start_server({ "--endpoints", "self," + endpoint_of(*s2) + "," + endpoint_of(*s3) });
    gj_value *opts = map_of({ { "discover", gj_value_bool(true) } });
    // Only the first server is configured; liveness checked before each reuse.
    start_client_at(server->url(), opts, 6, 6, 0);
    gj_value_unref(opts);
    ASSERT_EQ(0, run(op("version", nullptr))) << err.msg();
    EXPECT_TRUE(log.any_contains("discovery at 127.0.0.1:" + std::to_string(server->port()) +
                                 ": 3 endpoints"));
    ArangoServer *members[3] = { server.get(), s2.get(), s3.get() };
    // Slow queries in parallel: six connections, two per coordinator.
    std::vector<gj_request *> reqs;
    for (int i = 0; i < 12; i++)
        reqs.push_back(op("query", "RETURN SLEEP(0.05)"));
    run_all(client, reqs);
    for (int k = 0; k < 3; k++)
        EXPECT_GT(count_requests_of(*members[k], "POST /_api/cursor 201"), 0u) << "member " << k;
    // Stop the second one: requests keep succeeding on the others; cursors
    // and server jobs stay on the coordinator that made them (the members
    // share nothing, so a batch or a poll elsewhere would be a 404).
    s2.reset();
    for (int k : { 0, 2 })
        members[k]->request("DELETE", "/_refserver/requests", "", nullptr);
    reqs.clear();
    for (int i = 0; i < 6; i++) {
        reqs.push_back(op("version", nullptr));
        reqs.push_back(op("query", "FOR i IN 1..20 RETURN i", { { "batchSize", gj_value_int(3) } }));
        reqs.push_back(op("query", "FOR i IN 1..20 RETURN i", { { "batchSize", gj_value_int(5) },
                                                                { "async", gj_value_string("store") } }));
    }
    auto rows = run_all(client, reqs);
    for (size_t i = 0; i < rows.size(); i++)
        EXPECT_EQ(i % 3 == 0 ? 1u : 20u, rows[i]) << "request " << i;
    for (int k : { 0, 2 }) {
        for (auto &l : requests_of(*members[k]))
            EXPECT_EQ(std::string::npos, l.find(" 404")) << l;
    }
    EXPECT_GT(count_requests_of(*members[0], "POST /_api/cursor") +
                  count_requests_of(*members[2], "POST /_api/cursor"),
              0u);
}

TEST_F(ArangoTest, WhenTheSeedStopsItsDiscoveredPeersTakeOver)
{
    auto s2 = start_member();
    auto s3 = start_member();
    ASSERT_TRUE(s2->ok() && s3->ok());
    start_server({ "--endpoints", "self," + endpoint_of(*s2) + "," + endpoint_of(*s3) });
    gj_value *opts = map_of({ { "discover", gj_value_bool(true) } });
    // One connection, to the seed, never pinged before reuse.
    start_client_at(server->url(), opts, 1, 1, -1);
    gj_value_unref(opts);
    ASSERT_EQ(0, run(op("version", nullptr))) << err.msg();
    int seed_port = server->port();
    server.reset();
    // The connection knows the discovered coordinators: the GET goes on.
    gj_result *res = nullptr;
    ASSERT_EQ(0, run(op("version", nullptr), &res)) << err.msg();
    ASSERT_EQ(1u, gj_result_row_count(res));
    gj_result_free(res);
    EXPECT_EQ(1u, count_requests_of(*s2, "GET /_api/version 200") +
                      count_requests_of(*s3, "GET /_api/version 200"));
    EXPECT_TRUE(log.any_contains("arango 127.0.0.1:" + std::to_string(seed_port) +
                                 ": GET /_api/version failed"));
    // Later requests, GET or not, go to the members that are up.
    for (int i = 0; i < 4; i++) {
        ASSERT_EQ(0, run(op("query", "FOR i IN 1..5 RETURN i", { { "batchSize", gj_value_int(2) } }),
                         &res))
            << err.msg();
        EXPECT_EQ(5u, gj_result_row_count(res));
        gj_result_free(res);
    }
}

TEST_F(ArangoTest, DiscoveryUsesOnlyEndpointsOfTheTargetsKind)
{
    auto s2 = start_member();
    ASSERT_TRUE(s2->ok());
    // A unix socket, a TLS endpoint, junk and a bad port are skipped.
    start_server({ "--endpoints", "self,unix:///tmp/arango.sock,ssl://127.0.0.1:9," +
                                      endpoint_of(*s2) + ",garbage,tcp://127.0.0.1:99999" });
    gj_value *opts = map_of({ { "discover", gj_value_bool(true) } });
    start_client_at(server->url(), opts, 4, 4);
    gj_value_unref(opts);
    ASSERT_EQ(0, run(op("version", nullptr))) << err.msg();
    EXPECT_TRUE(log.any_contains("discovery at 127.0.0.1:" + std::to_string(server->port()) +
                                 ": 2 endpoints, serving 127.0.0.1:" + std::to_string(server->port()) +
                                 ", 127.0.0.1:" + std::to_string(s2->port())));
    EXPECT_TRUE(log.any_contains("4 of the cluster's endpoints skipped (not tcp:// host:port)"));
    std::vector<gj_request *> reqs;
    for (int i = 0; i < 8; i++)
        reqs.push_back(op("query", "RETURN SLEEP(0.05)"));
    run_all(client, reqs);
    EXPECT_GT(count_requests("POST /_api/cursor 201"), 0u);
    EXPECT_GT(count_requests_of(*s2, "POST /_api/cursor 201"), 0u);
}

TEST_F(ArangoTest, DiscoveryOverTlsUsesSslEndpoints)
{
    char dir[] = "/tmp/gj-arango-tls.XXXXXX";
    ASSERT_NE(nullptr, mkdtemp(dir));
    std::string cert = std::string(dir) + "/cert.pem", key = std::string(dir) + "/key.pem";
    ASSERT_TRUE(make_self_signed_cert(cert, key));
    // Two TLS coordinators in one process: /_api/cluster/endpoints lists
    // both as ssl://127.0.0.1:P.
    start_server({ "--coordinators", "2", "--tls-cert", cert, "--tls-key", key });
    std::string base = "https://root:pw@127.0.0.1:" + std::to_string(server->port());
    gj_value *opts = map_of({ { "discover", gj_value_bool(true) } });
    start_client_at(base + "?ssl_cafile=" + cert, opts, 4, 4);
    gj_value_unref(opts);
    ASSERT_EQ(0, run(op("version", nullptr))) << err.msg();
    EXPECT_TRUE(log.any_contains("discovery at 127.0.0.1:" + std::to_string(server->ports()[0]) +
                                 ": 2 endpoints"));
    std::vector<gj_request *> reqs;
    for (int i = 0; i < 8; i++)
        reqs.push_back(op("query", "RETURN SLEEP(0.05)"));
    run_all(client, reqs);
    for (size_t k = 0; k < 2; k++)
        EXPECT_GT(count_requests("POST /_api/cursor 201", k), 0u) << "coordinator " << k;
    unlink(cert.c_str());
    unlink(key.c_str());
    rmdir(dir);
}

TEST_F(ArangoTest, SingleServerDiscoveryKeepsTheConfiguredHost)
{
    start_server();
    gj_value *opts = map_of({ { "discover", gj_value_string("true") } });
    start_client_at(server->url(), opts, 1, 2);
    gj_value_unref(opts);
    gj_result *res = nullptr;
    ASSERT_EQ(0, run(op("query", "RETURN 1"), &res)) << err.msg();
    gj_result_free(res);
    for (int i = 0; i < 3; i++) {
        ASSERT_EQ(0, run(op("version", nullptr))) << err.msg();
    }
    std::string hp = "127.0.0.1:" + std::to_string(server->port());
    EXPECT_EQ(1u, log.count(hp + " is not part of a cluster")) << "one log line";
    EXPECT_TRUE(log.any_contains("keeping the configured hosts"));
    // Asked once, when the (only) connection opened; the pool does not ask again.
    EXPECT_EQ(1u, count_requests("GET /_api/cluster/endpoints 501"));
    EXPECT_EQ(1u, log.count("arango: connected to"));
}

TEST_F(ArangoTest, ConnectionErrorsFailOverOnlyForIdempotentRequests)
{
    auto other = start_member();
    ASSERT_TRUE(other->ok());
    start_server();
    std::string url = server->url() + ",127.0.0.1:" + std::to_string(other->port());
    // One connection, never pinged: the job finds the dead server itself.
    start_client_at(url, nullptr, 1, 1, -1);
    ASSERT_EQ(0, run(op("version", nullptr))) << err.msg();   // on the first server
    EXPECT_EQ(0u, count_requests_of(*other, "GET /_api/version"));
    int first_port = server->port();
    server.reset();
    // A GET: refused by the stopped server, sent to the other one.
    gj_result *res = nullptr;
    ASSERT_EQ(0, run(op("version", nullptr), &res)) << err.msg();
    ASSERT_EQ(1u, gj_result_row_count(res));
    gj_result_free(res);
    EXPECT_EQ(1u, count_requests_of(*other, "GET /_api/version 200"));
    EXPECT_TRUE(log.any_contains("arango 127.0.0.1:" + std::to_string(first_port) +
                                 ": GET /_api/version failed"));
    EXPECT_TRUE(log.any_contains("trying 127.0.0.1:" + std::to_string(other->port())));

    // A POST to a stopped server is not sent to the other one.
    gj_client_free(client);
    client = nullptr;
    start_server();
    url = server->url() + ",127.0.0.1:" + std::to_string(other->port());
    start_client_at(url, nullptr, 1, 1, -1);
    ASSERT_EQ(0, run(op("version", nullptr))) << err.msg();   // on the first server
    int stopped_port = server->port();
    server.reset();
    other->request("DELETE", "/_refserver/requests", "", nullptr);
    int rc = run(op("query", "RETURN 1"));
    EXPECT_TRUE(rc == GJ_ECONNECT || rc == GJ_EIO) << rc << " " << err.msg();
    EXPECT_NE(std::string::npos, err.msg().find("127.0.0.1:" + std::to_string(stopped_port)))
        << err.msg();
    EXPECT_EQ(0u, count_requests_of(*other, "POST /_api/cursor"));

    // A POST is never sent twice: a reset before any byte of the reply
    // (the server closes without answering) fails the job.
    gj_client_free(client);
    client = nullptr;
    start_server({ "--fault", "close-mid-response:path=/_api/cursor" });
    url = server->url() + ",127.0.0.1:" + std::to_string(other->port());
    start_client_at(url, nullptr, 1, 1, -1);
    other->request("DELETE", "/_refserver/requests", "", nullptr);
    rc = run(op("query", "RETURN 1"));
    EXPECT_TRUE(rc == GJ_EIO || rc == GJ_ECONNECT) << rc << " " << err.msg();
    EXPECT_NE(std::string::npos, err.msg().find("127.0.0.1:" + std::to_string(server->port())))
        << err.msg();
    EXPECT_EQ(0u, count_requests_of(*other, "POST /_api/cursor"));
    // The same reset on a GET: retried on the other server.
    set_fault("[\"close-mid-response:path=/_api/collection\"]");
    ASSERT_EQ(0, run(op("collection.list", nullptr), &res)) << err.msg();
    gj_result_free(res);
    EXPECT_EQ(1u, count_requests_of(*other, "GET /_api/collection 200"));
    // Pinned paths are not moved: a job poll stays where the job is.
    EXPECT_EQ(0u, count_requests_of(*other, "GET /_api/job"));
}

}  // namespace
