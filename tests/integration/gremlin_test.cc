// The Gremlin backend through the public API against gremlin-refserver
// (tests/servers/gremlin): every serializer, partial responses, the row
// callback, status codes, SASL, sessions, multiplexing on one connection,
// cancel, timeouts, limits, faults, restarts, TLS and configuration files.
#include <graphjob.h>

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "arango_server.h"   // make_self_signed_cert
#include "server_process.h"

using gjtest::ServerProcess;

namespace {

using Clock = std::chrono::steady_clock;

int64_t ms_since(Clock::time_point t0)
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
}

std::string server_path() { return gjtest::build_path("tests/servers/gremlin/gremlin-refserver"); }

struct Err {
    gj_error *e = gj_error_new();
    ~Err() { gj_error_free(e); }
    const char *msg() const { return gj_error_message(e); }
};

using Settings = std::vector<std::pair<std::string, std::string>>;

gj_client *make_client(const std::string &url, const Settings &settings = {}, int workers = 2,
                       int max_conns = 1)
{
    Err err;
    gj_config *cfg = nullptr;
    if (gj_config_from_url(&cfg, url.c_str(), err.e) != 0) {
        ADD_FAILURE() << "config: " << err.msg();
        return nullptr;
    }
    EXPECT_EQ(0, gj_config_set_int(cfg, nullptr, "workers", workers, err.e)) << err.msg();
    EXPECT_EQ(0, gj_config_set_int(cfg, "default", "max_conns", max_conns, err.e)) << err.msg();
    for (const auto &kv : settings)
        EXPECT_EQ(0, gj_config_set_string(cfg, kv.first == "caller_runs" ? nullptr : "default",
                                          kv.first.c_str(), kv.second.c_str(), err.e))
            << kv.first << ": " << err.msg();
    gj_client *c = nullptr;
    int rc = gj_client_new(&c, cfg, err.e);
    gj_config_free(cfg);
    if (rc != 0) {
        ADD_FAILURE() << "client: " << err.msg();
        return nullptr;
    }
    return c;
}

gj_request *script(const char *text)
{
    gj_request *r = nullptr;
    EXPECT_EQ(0, gj_request_new_query(&r, text));
    return r;
}

gj_value *json(const std::string &text)
{
    gj_value *v = nullptr;
    Err err;
    EXPECT_EQ(0, gj_value_from_json(&v, text.data(), text.size(), err.e)) << err.msg();
    return v;
}

std::string str_of(const gj_value *v)
{
    const char *s = nullptr;
    size_t len = 0;
    if (gj_value_string_get(v, &s, &len) != 0)
        return "<not a string>";
    return std::string(s, len);
}

int64_t int_of(const gj_value *v)
{
    int64_t n = -999;
    EXPECT_EQ(0, gj_value_int_get(v, &n));
    return n;
}

std::string json_of(const gj_value *v)
{
    char *s = nullptr;
    size_t len = 0;
    if (gj_value_to_json(v, 0, &s, &len) != 0)
        return "<json failed>";
    std::string out(s, len);
    gj_free(s);
    return out;
}

// What a job ended with.
struct Outcome {
    int code = 1;
    std::string msg, server_code;
    gj_result *res = nullptr;
    ~Outcome() { gj_result_free(res); }
    size_t rows() const { return res ? gj_result_row_count(res) : 0; }
    const gj_value *row(size_t i) const { return gj_result_row(res, i); }
};

void run(gj_client *c, gj_request *req, Outcome &o, int64_t timeout_ms = 30000)
{
    Err err;
    o.code = gj_client_execute(c, req, timeout_ms, &o.res, err.e);
    o.msg = err.msg();
    if (const char *sc = gj_error_server_code(err.e))
        o.server_code = sc;
    gj_request_unref(req);
}

size_t await_log(const ServerProcess &s, const std::string &needle, size_t n = 1)
{
    auto t0 = Clock::now();
    while (s.count_in_log(needle) < n && ms_since(t0) < 10000)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return s.count_in_log(needle);
}

// A loopback port nothing listens on (bound, then closed).
int dead_port()
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t sl = sizeof sa;
    int port = -1;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
        getsockname(fd, (struct sockaddr *)&sa, &sl) == 0)
        port = ntohs(sa.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

class GremlinTest : public ::testing::Test {
protected:
    void start(std::vector<std::string> extra = {})
    {
        std::vector<std::string> a = { "--port", "0", "--verbose" };
        a.insert(a.end(), extra.begin(), extra.end());
        server.reset(new ServerProcess(server_path(), a));
        ASSERT_TRUE(server->ok()) << server->error();
    }
    std::string url(const std::string &userinfo = "", const std::string &query = "") const
    {
        return "gremlin://" + (userinfo.empty() ? "" : userinfo + "@") + "127.0.0.1:" +
               std::to_string(server->port()) + (query.empty() ? "" : "?" + query);
    }
    void TearDown() override
    {
        if (client)
            gj_client_free(client);
        client = nullptr;
    }
    size_t connections() const { return server->count_in_log("CONNECTION "); }
    std::unique_ptr<ServerProcess> server;
    gj_client *client = nullptr;
};

// ---- every serializer -------------------------------------------------------------

class GremlinFormat : public GremlinTest, public ::testing::WithParamInterface<const char *> {
protected:
    void SetUp() override
    {
        start();
        client = make_client(url(), { { "message_serializer", GetParam() } });
        ASSERT_TRUE(client);
    }
};

TEST_P(GremlinFormat, CountIsALong)
{
    Outcome o;
    run(client, script("g.V().count()"), o);
    ASSERT_EQ(0, o.code) << o.msg;
    ASSERT_EQ(1u, o.rows());
    EXPECT_EQ(6, int_of(o.row(0)));
    EXPECT_EQ(64u, gj_value_int_bits(o.row(0)));
    const gj_value *sc = gj_value_map_get(gj_result_meta(o.res), "status_code");
    ASSERT_TRUE(sc);
    EXPECT_EQ(200, int_of(sc));
}

TEST_P(GremlinFormat, BindingsPickTheVertex)
{
    for (int id = 1; id <= 6; id++) {
        static const char *names[] = { "", "marko", "vadas", "lop", "josh", "ripple", "peter" };
        gj_request *r = script("g.V(x).values('name')");
        gj_request_set_param(r, "x", gj_value_int(id));
        Outcome o;
        run(client, r, o);
        ASSERT_EQ(0, o.code) << o.msg;
        ASSERT_EQ(1u, o.rows());
        EXPECT_EQ(names[id], str_of(o.row(0)));
    }
}

TEST_P(GremlinFormat, VerticesAreNodesEdgesAreEdges)
{
    Outcome o;
    run(client, script("g.V()"), o);
    ASSERT_EQ(0, o.code) << o.msg;
    ASSERT_EQ(6u, o.rows());
    for (size_t i = 0; i < 6; i++) {
        ASSERT_EQ(GJ_TNODE, gj_value_type(o.row(i)));
        const gj_value *labels = gj_value_node_labels(o.row(i));
        ASSERT_EQ(1u, gj_value_size(labels));
        std::string l = str_of(gj_value_list_at(labels, 0));
        EXPECT_TRUE(l == "person" || l == "software") << l;
    }
    Outcome e;
    run(client, script("g.E()"), e);
    ASSERT_EQ(0, e.code) << e.msg;
    ASSERT_EQ(6u, e.rows());
    for (size_t i = 0; i < 6; i++) {
        ASSERT_EQ(GJ_TEDGE, gj_value_type(e.row(i)));
        std::string t = str_of(gj_value_edge_type(e.row(i)));
        EXPECT_TRUE(t == "knows" || t == "created") << t;
    }
}

TEST_P(GremlinFormat, HasLabelWithABinding)
{
    gj_request *r = script("g.V().hasLabel(l).values('name')");
    gj_request_set_param(r, "l", gj_value_string("software"));
    Outcome o;
    run(client, r, o);
    ASSERT_EQ(0, o.code) << o.msg;
    ASSERT_EQ(2u, o.rows());
    EXPECT_EQ("lop", str_of(o.row(0)));
    EXPECT_EQ("ripple", str_of(o.row(1)));
}

TEST_P(GremlinFormat, InjectRoundTripsValues)
{
    // Every kind the three serializers share (GraphSON 2.0 maps have string keys).
    const char *doc = "[1, -7000000000, 2.5, \"text \\u00e9\", true, false, null, [1, [2, \"x\"]], "
                      "{\"a\": 1, \"b\": [true, null]}]";
    gj_value *values = json(doc);
    gj_request *r = script("g.inject(v).unfold()");
    gj_request_set_param(r, "v", values);
    Outcome o;
    run(client, r, o);
    ASSERT_EQ(0, o.code) << o.msg;
    // unfold() flattens the outer list only.
    std::string got;
    for (size_t i = 0; i < o.rows(); i++)
        got += json_of(o.row(i)) + ";";
    EXPECT_EQ("1;-7000000000;2.5;\"text \xc3\xa9\";true;false;null;[1,[2,\"x\"]];"
              "{\"a\":1,\"b\":[true,null]};",
              got);
}

TEST_P(GremlinFormat, EmptyResultIs204)
{
    Outcome o;
    run(client, script("g.V().hasLabel('nothing')"), o);
    ASSERT_EQ(0, o.code) << o.msg;
    EXPECT_EQ(0u, o.rows());
    EXPECT_EQ(204, int_of(gj_value_map_get(gj_result_meta(o.res), "status_code")));
}

TEST_P(GremlinFormat, PartialResponsesAreCollectedInOrder)
{
    std::string doc = "[";
    for (int i = 0; i < 1000; i++)
        doc += (i ? "," : "") + std::to_string(i);
    doc += "]";
    gj_request *r = script("g.inject(v).unfold()");
    gj_request_set_param(r, "v", json(doc));
    gj_request_set_option(r, "batchSize", gj_value_int(7));
    Outcome o;
    run(client, r, o);
    ASSERT_EQ(0, o.code) << o.msg;
    ASSERT_EQ(1000u, o.rows());
    for (size_t i = 0; i < 1000; i++)
        ASSERT_EQ((int64_t)i, int_of(o.row(i)));
    // 143 frames: 142 partials (206) and the final 200.
    EXPECT_GE(await_log(*server, " 206 ", 142), 142u);
}

TEST_P(GremlinFormat, ScriptErrorKeepsTheServersIdentity)
{
    Err err;
    gj_result *res = nullptr;
    gj_request *r = script("throw new Exception('boom')");
    int rc = gj_client_execute(client, r, 30000, &res, err.e);
    gj_request_unref(r);
    EXPECT_EQ(GJ_ESERVER, rc);
    EXPECT_STREQ("597", gj_error_server_code(err.e));
    EXPECT_EQ(597, gj_error_server_number(err.e));
    EXPECT_STREQ("gremlin", gj_error_backend(err.e));
    EXPECT_NE(nullptr, strstr(err.msg(), "boom")) << err.msg();
    EXPECT_NE(nullptr, strstr(err.msg(), "[597]")) << err.msg();
    const gj_value *extra = gj_error_extra(err.e);
    ASSERT_TRUE(extra);
    const gj_value *ex = gj_value_map_get(extra, "exceptions");
    ASSERT_TRUE(ex) << json_of(extra);
    EXPECT_EQ("java.lang.Exception", str_of(gj_value_list_at(ex, 0)));
    EXPECT_TRUE(gj_value_map_get(extra, "stackTrace"));
    gj_result_free(res);
}

TEST_P(GremlinFormat, EvaluationTimeoutIs598)
{
    gj_request *r = script("Thread.sleep(20000)");
    gj_request_set_option(r, "evaluationTimeout", gj_value_int(100));
    Outcome o;
    auto t0 = Clock::now();
    run(client, r, o);
    EXPECT_EQ(GJ_ESERVER, o.code) << o.msg;
    EXPECT_EQ("598", o.server_code);
    EXPECT_NE(std::string::npos, o.msg.find("evaluationTimeout")) << o.msg;
    EXPECT_LT(ms_since(t0), 15000);
}

INSTANTIATE_TEST_SUITE_P(Serializers, GremlinFormat,
                         ::testing::Values("graphbinary", "graphsonv3", "graphsonv2"),
                         [](const ::testing::TestParamInfo<const char *> &i) { return std::string(i.param); });

// ---- requests ---------------------------------------------------------------------------

TEST_F(GremlinTest, OptionsAreChecked)
{
    start();
    client = make_client(url());
    ASSERT_TRUE(client);
    gj_request *r = script("g.V().count()");
    gj_request_set_option(r, "batchsize", gj_value_int(5));
    Outcome o;
    run(client, r, o);
    EXPECT_EQ(GJ_EINVAL, o.code);
    EXPECT_NE(std::string::npos, o.msg.find("unknown option 'batchsize'")) << o.msg;

    r = script("g.V().count()");
    gj_request_set_option(r, "batchSize", gj_value_int(0));
    Outcome o2;
    run(client, r, o2);
    EXPECT_EQ(GJ_EINVAL, o2.code);
    EXPECT_NE(std::string::npos, o2.msg.find("'batchSize' must be a positive integer")) << o2.msg;

    gj_request *b = nullptr;
    ASSERT_EQ(0, gj_request_new(&b, "insert", "x"));
    Outcome o3;
    run(client, b, o3);
    EXPECT_EQ(GJ_EUNSUPPORTED, o3.code);
    EXPECT_NE(std::string::npos, o3.msg.find("'insert'")) << o3.msg;

    // The connection is fine after all of that.
    Outcome ok;
    run(client, script("g.V().count()"), ok);
    EXPECT_EQ(0, ok.code) << ok.msg;
}

TEST_F(GremlinTest, UnknownScriptIsTheServersCompilationError)
{
    start();
    client = make_client(url());
    ASSERT_TRUE(client);
    Outcome o;
    run(client, script("g.V().outE().inV().path()"), o);
    EXPECT_EQ(GJ_ESERVER, o.code);
    EXPECT_EQ("597", o.server_code);
}

TEST_F(GremlinTest, AliasesAndLanguageAreSent)
{
    start();
    client = make_client(url());
    ASSERT_TRUE(client);
    gj_request *r = script("g.V().count()");
    gj_value *aliases = nullptr;
    ASSERT_EQ(0, gj_value_new_map(&aliases, 1));
    gj_value_map_put_str(aliases, "g", gj_value_string("h"));
    gj_request_set_option(r, "aliases", aliases);
    Outcome o;
    run(client, r, o);
    EXPECT_EQ(GJ_ESERVER, o.code);
    EXPECT_EQ("499", o.server_code);
    EXPECT_NE(std::string::npos, o.msg.find("Could not alias")) << o.msg;

    r = script("g.V().count()");
    gj_request_set_option(r, "language", gj_value_string("gremlin-groovy"));
    gj_request_set_option(r, "userAgent", gj_value_string("gremlin_test/1"));
    Outcome o2;
    run(client, r, o2);
    EXPECT_EQ(0, o2.code) << o2.msg;
}

// The row callback gets each row as its frame arrives; nothing is collected.
TEST_F(GremlinTest, RowCallbackStreamsPartials)
{
    start({ "--fault", "pace:ms=50,script=unfold" });
    client = make_client(url());
    ASSERT_TRUE(client);
    struct Seen {
        std::atomic<int> rows{ 0 };
        std::atomic<int64_t> first_ms{ -1 };
        Clock::time_point t0 = Clock::now();
    } seen;
    gj_request *r = script("g.inject(v).unfold()");
    gj_request_set_param(r, "v", json("[0,1,2,3,4,5,6,7,8,9]"));
    gj_request_set_option(r, "batchSize", gj_value_int(1));
    gj_request_set_row_callback(r, [](const gj_value *, void *p) {
        Seen *s = static_cast<Seen *>(p);
        if (s->rows++ == 0)
            s->first_ms = ms_since(s->t0);
        return 0;
    }, &seen);
    Outcome o;
    run(client, r, o);
    ASSERT_EQ(0, o.code) << o.msg;
    EXPECT_EQ(10, seen.rows.load());
    EXPECT_EQ(0u, o.rows());
    // The first row came before the last frame was sent (10 frames 50 ms apart).
    int64_t total = ms_since(seen.t0);
    EXPECT_LT(seen.first_ms.load(), total);
}

// ---- one connection, many jobs --------------------------------------------------------

TEST_F(GremlinTest, HundredsOfJobsInFlightOnOneConnection)
{
    start();
    client = make_client(url(), { { "max_inflight", "64" }, { "max_times_acquired", "64" } },
                         /*workers=*/64, /*max_conns=*/1);
    ASSERT_TRUE(client);
    static const char *names[] = { "marko", "vadas", "lop", "josh", "ripple", "peter" };
    const int n = 600;
    std::vector<gj_job *> jobs(n, nullptr);
    Err err;
    for (int i = 0; i < n; i++) {
        // Every fourth job sleeps on the server, so that requests overlap.
        gj_request *r = script(i % 4 == 0 ? "Thread.sleep(20)" : "g.V(x).values('name')");
        if (i % 4)
            gj_request_set_param(r, "x", gj_value_int(i % 6 + 1));
        ASSERT_EQ(0, gj_client_submit(client, r, nullptr, &jobs[i], err.e)) << err.msg();
        gj_request_unref(r);
    }
    for (int i = 0; i < n; i++) {
        ASSERT_EQ(0, gj_job_wait(jobs[i], 60000, err.e)) << err.msg();
        gj_result *res = nullptr;
        ASSERT_EQ(0, gj_job_result(jobs[i], &res, err.e)) << i << ": " << err.msg();
        ASSERT_EQ(1u, gj_result_row_count(res));
        if (i % 4)
            EXPECT_EQ(names[i % 6], str_of(gj_result_row(res, 0)));
        else
            EXPECT_EQ(GJ_TNULL, gj_value_type(gj_result_row(res, 0)));
        gj_result_free(res);
        gj_job_unref(jobs[i]);
    }
    EXPECT_EQ(1u, connections()) << server->log().substr(0, 2000);
    // How many requests the server held at once on that connection: from
    // its log, a request is outstanding from its REQUEST line to its final
    // RESPONSE line.
    std::string log = server->log();
    std::vector<std::string> open;
    size_t most = 0, pos = 0;
    while (pos < log.size()) {
        size_t end = log.find('\n', pos);
        if (end == std::string::npos)
            end = log.size();
        std::string line = log.substr(pos, end - pos);
        pos = end + 1;
        size_t colon = line.find(": ");   // "gremlin-refserver: "
        if (colon != std::string::npos)
            line = line.substr(colon + 2);
        char a[64], b[64], id[64];
        int code = 0;
        if (std::sscanf(line.c_str(), "REQUEST eval %63s %63s", a, id) == 2) {
            open.push_back(id);
            most = std::max(most, open.size());
        } else if (std::sscanf(line.c_str(), "RESPONSE %63s %d", b, &code) == 2 && code != 206) {
            for (size_t k = 0; k < open.size(); k++)
                if (open[k] == b) {
                    open.erase(open.begin() + (long)k);
                    break;
                }
        }
    }
    std::printf("[ measure ] %d jobs on one connection: at most %zu requests in flight at the server\n", n,
                most);
    EXPECT_GE(most, 2u);
    EXPECT_TRUE(open.empty()) << open.size() << " requests never answered";
}

// A slow request does not hold back the others on the same connection.
TEST_F(GremlinTest, ASlowRequestDoesNotBlockTheConnection)
{
    start();
    client = make_client(url(), {}, 4, 1);
    ASSERT_TRUE(client);
    Err err;
    gj_job *slow = nullptr;
    gj_request *r = script("Thread.sleep(3000)");
    ASSERT_EQ(0, gj_client_submit(client, r, nullptr, &slow, err.e)) << err.msg();
    gj_request_unref(r);
    ASSERT_GE(await_log(*server, "SCRIPT Thread.sleep(3000)"), 1u);
    for (int i = 0; i < 20; i++) {
        Outcome o;
        run(client, script("g.V().count()"), o);
        ASSERT_EQ(0, o.code) << o.msg;
    }
    gj_job_status st;
    ASSERT_EQ(0, gj_job_get_status(slow, &st, err.e));
    EXPECT_EQ(GJ_JOB_PENDING, st) << "the slow script should still run";
    EXPECT_EQ(0, gj_job_wait(slow, 30000, err.e)) << err.msg();
    gj_job_unref(slow);
    EXPECT_EQ(1u, connections());
}

// ---- cancel and timeouts ----------------------------------------------------------------

// Cancel in the middle of a 206 stream: CANCELLED at once, the rest of the
// stream is dropped, the connection serves the next job.
TEST_F(GremlinTest, CancelDuringA206Stream)
{
    start({ "--fault", "pace:ms=100,script=unfold" });
    client = make_client(url(), {}, 2, 1);
    ASSERT_TRUE(client);
    struct State {
        std::atomic<int> rows{ 0 };
    } st;
    std::string doc = "[";
    for (int i = 0; i < 200; i++)
        doc += (i ? "," : "") + std::to_string(i);
    doc += "]";
    gj_request *r = script("g.inject(v).unfold()");
    gj_request_set_param(r, "v", json(doc));
    gj_request_set_option(r, "batchSize", gj_value_int(1));
    gj_request_set_row_callback(r, [](const gj_value *, void *p) {
        static_cast<State *>(p)->rows++;
        return 0;
    }, &st);
    Err err;
    gj_job *job = nullptr;
    ASSERT_EQ(0, gj_client_submit(client, r, nullptr, &job, err.e)) << err.msg();
    gj_request_unref(r);
    auto t0 = Clock::now();
    while (st.rows.load() < 3 && ms_since(t0) < 30000)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    ASSERT_GE(st.rows.load(), 3);
    auto tc = Clock::now();
    ASSERT_EQ(0, gj_job_cancel(job, err.e)) << err.msg();
    ASSERT_EQ(0, gj_job_wait(job, 10000, err.e)) << err.msg();
    int64_t cancel_ms = ms_since(tc);
    gj_job_status status;
    ASSERT_EQ(0, gj_job_get_status(job, &status, err.e));
    EXPECT_EQ(GJ_JOB_CANCELLED, status);
    int rows_at_cancel = st.rows.load();
    std::printf("[ measure ] cancel during a 206 stream: CANCELLED in %lld ms after %d rows\n",
                (long long)cancel_ms, rows_at_cancel);
    EXPECT_LT(rows_at_cancel, 200);
    gj_job_unref(job);
    // No more rows reach the callback, and the same connection answers.
    Outcome o;
    run(client, script("g.V().count()"), o);
    EXPECT_EQ(0, o.code) << o.msg;
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_EQ(rows_at_cancel, st.rows.load());
    EXPECT_EQ(1u, connections());
}

TEST_F(GremlinTest, AStalledServerTimesOutOnlyThatJob)
{
    start({ "--fault", "stall:secs=0,script=count" });
    client = make_client(url(), {}, 2, 1);
    ASSERT_TRUE(client);
    Outcome o;
    auto t0 = Clock::now();
    run(client, script("g.V().count()"), o, 400);
    int64_t took = ms_since(t0);
    EXPECT_EQ(GJ_ETIMEDOUT, o.code) << o.msg;
    EXPECT_LT(took, 10000);
    std::printf("[ measure ] stalled request, timeout 400 ms: %s after %lld ms\n", o.msg.c_str(),
                (long long)took);
    Outcome ok;
    run(client, script("g.V(1).values('name')"), ok);
    EXPECT_EQ(0, ok.code) << ok.msg;
    EXPECT_EQ(1u, connections());
}

TEST_F(GremlinTest, ResponseTimeoutSettingBoundsTheRequest)
{
    start({ "--fault", "stall:secs=0" });
    client = make_client(url(), { { "response_timeout", "300ms" } }, 1, 1);
    ASSERT_TRUE(client);
    Err err;
    gj_job *job = nullptr;
    gj_request *r = script("g.V().count()");
    ASSERT_EQ(0, gj_client_submit(client, r, nullptr, &job, err.e));
    gj_request_unref(r);
    ASSERT_EQ(0, gj_job_wait(job, 20000, err.e)) << err.msg();
    gj_result *res = nullptr;
    EXPECT_EQ(GJ_ETIMEDOUT, gj_job_result(job, &res, err.e)) << err.msg();
    gj_job_unref(job);
}

TEST_F(GremlinTest, ClientFreeDoesNotWaitForAStalledServer)
{
    start({ "--fault", "stall:secs=0" });
    client = make_client(url(), {}, 2, 1);
    ASSERT_TRUE(client);
    Err err;
    gj_job *job = nullptr;
    gj_request *r = script("g.V().count()");
    ASSERT_EQ(0, gj_client_submit(client, r, nullptr, &job, err.e));
    gj_request_unref(r);
    ASSERT_GE(await_log(*server, "REQUEST eval"), 1u);
    auto t0 = Clock::now();
    gj_client_free(client);
    client = nullptr;
    int64_t took = ms_since(t0);
    std::printf("[ measure ] gj_client_free with a request the server never answers: %lld ms\n",
                (long long)took);
    EXPECT_LT(took, 5000);
    gj_job_status st;
    ASSERT_EQ(0, gj_job_get_status(job, &st, err.e));
    EXPECT_EQ(GJ_JOB_CANCELLED, st);
    gj_job_unref(job);
}

// ---- limits -------------------------------------------------------------------------------

TEST_F(GremlinTest, OversizedResponseFrameIsAClearError)
{
    start({ "--fault", "oversized:bytes=3000000,count=1" });
    client = make_client(url(), { { "max_message_size", "1048576" } }, 1, 1);
    ASSERT_TRUE(client);
    Outcome o;
    run(client, script("g.V().count()"), o);
    EXPECT_EQ(GJ_ETOOBIG, o.code) << o.msg;
    EXPECT_NE(std::string::npos, o.msg.find("max_message_size")) << o.msg;
    // The connection was dropped; the next job gets a new one.
    Outcome ok;
    run(client, script("g.V().count()"), ok);
    EXPECT_EQ(0, ok.code) << ok.msg;
    EXPECT_EQ(2u, connections());
}

TEST_F(GremlinTest, OversizedRequestIsRefusedByTheServer)
{
    start({ "--max-content-length", "4096" });
    client = make_client(url(), {}, 1, 1);
    ASSERT_TRUE(client);
    gj_request *r = script("g.inject(v)");
    gj_request_set_param(r, "v", gj_value_string(std::string(10000, 'x').c_str()));
    Outcome o;
    run(client, r, o);
    EXPECT_NE(0, o.code);
    EXPECT_NE(std::string::npos, o.msg.find("1009")) << o.msg;
    EXPECT_NE(std::string::npos, o.msg.find("Max frame length")) << o.msg;
    Outcome ok;
    run(client, script("g.V().count()"), ok);
    EXPECT_EQ(0, ok.code) << ok.msg;
}

TEST_F(GremlinTest, MaxResultSizeStopsCollecting)
{
    start();
    client = make_client(url(), { { "max_result_size", "20000" } }, 1, 1);
    ASSERT_TRUE(client);
    std::string doc = "[";
    for (int i = 0; i < 5000; i++)
        doc += std::string(i ? "," : "") + "\"row number " + std::to_string(i) + "\"";
    doc += "]";
    gj_request *r = script("g.inject(v).unfold()");
    gj_request_set_param(r, "v", json(doc));
    gj_request_set_option(r, "batchSize", gj_value_int(50));
    Outcome o;
    run(client, r, o);
    EXPECT_EQ(GJ_ETOOBIG, o.code) << o.msg;
    EXPECT_NE(std::string::npos, o.msg.find("max_result_size")) << o.msg;
    Outcome ok;
    run(client, script("g.V().count()"), ok);
    EXPECT_EQ(0, ok.code) << ok.msg;
    EXPECT_EQ(1u, connections());
}

// ---- faults and restarts --------------------------------------------------------------------

TEST_F(GremlinTest, ADroppedConnectionFailsItsJobsAndIsReplaced)
{
    start({ "--fault", "drop:after=3,count=1" });
    client = make_client(url(), {}, 1, 1);
    ASSERT_TRUE(client);
    std::string doc = "[";
    for (int i = 0; i < 100; i++)
        doc += (i ? "," : "") + std::to_string(i);
    doc += "]";
    gj_request *r = script("g.inject(v).unfold()");
    gj_request_set_param(r, "v", json(doc));
    gj_request_set_option(r, "batchSize", gj_value_int(10));
    Outcome o;
    run(client, r, o);
    EXPECT_EQ(GJ_EIO, o.code) << o.msg;
    EXPECT_NE(std::string::npos, o.msg.find("connection")) << o.msg;
    Outcome ok;
    run(client, script("g.V().count()"), ok);
    EXPECT_EQ(0, ok.code) << ok.msg;
    EXPECT_EQ(2u, connections());
}

TEST_F(GremlinTest, ServerRestartIsSurvived)
{
    start();
    client = make_client(url(), {}, 1, 1);
    ASSERT_TRUE(client);
    Outcome a;
    run(client, script("g.V().count()"), a);
    ASSERT_EQ(0, a.code) << a.msg;
    int port = server->port();
    server->kill_now();
    server.reset(new ServerProcess(server_path(), { "--port", std::to_string(port), "--verbose" }));
    ASSERT_TRUE(server->ok()) << server->error();
    // The old connection closed with the server; the pool notices and
    // connects again.  At most the first job may see the dead connection.
    int failures = 0;
    for (int i = 0; i < 5; i++) {
        Outcome o;
        run(client, script("g.V().count()"), o);
        if (o.code != 0) {
            failures++;
            EXPECT_EQ(GJ_EIO, o.code) << o.msg;
        }
    }
    EXPECT_LE(failures, 1);
    EXPECT_EQ(1u, connections());
}

TEST_F(GremlinTest, RefusedFirstHostFailsOverToTheNext)
{
    start();
    int dead = dead_port();
    ASSERT_GT(dead, 0);
    client = make_client("gremlin://127.0.0.1:" + std::to_string(dead) + ",127.0.0.1:" +
                         std::to_string(server->port()), {}, 1, 2);
    ASSERT_TRUE(client);
    for (int i = 0; i < 4; i++) {
        Outcome o;
        run(client, script("g.V().count()"), o);
        EXPECT_EQ(0, o.code) << o.msg;
    }
}

TEST_F(GremlinTest, ConnectionRefusedIsImmediate)
{
    int dead = dead_port();
    ASSERT_GT(dead, 0);
    client = make_client("gremlin://127.0.0.1:" + std::to_string(dead), {}, 1, 1);
    ASSERT_TRUE(client);
    Outcome o;
    auto t0 = Clock::now();
    run(client, script("g.V().count()"), o);
    EXPECT_EQ(GJ_ECONNECT, o.code) << o.msg;
    EXPECT_NE(std::string::npos, o.msg.find("127.0.0.1:" + std::to_string(dead))) << o.msg;
    EXPECT_LT(ms_since(t0), 10000);
}

TEST_F(GremlinTest, WrongPathIsTheServers404)
{
    start();
    client = make_client(url(), { { "path", "/nothing" } }, 1, 1);
    ASSERT_TRUE(client);
    Outcome o;
    run(client, script("g.V().count()"), o);
    EXPECT_NE(0, o.code);
    EXPECT_NE(std::string::npos, o.msg.find("404")) << o.msg;
}

// ---- SASL ---------------------------------------------------------------------------------------

TEST_F(GremlinTest, SaslPlainAnswersThe407)
{
    start({ "--user", "stephen", "--password", "p@ss word" });
    client = make_client(url("stephen:p%40ss%20word"), {}, 2, 1);
    ASSERT_TRUE(client);
    for (int i = 0; i < 3; i++) {
        Outcome o;
        run(client, script("g.V().count()"), o);
        ASSERT_EQ(0, o.code) << o.msg;
        EXPECT_EQ(6, int_of(o.row(0)));
    }
    // One negotiation: the connection stays authenticated.
    EXPECT_EQ(1u, server->count_in_log(" authenticated"));
    EXPECT_EQ(std::string::npos, server->log().find("p@ss word")) << "the password reached the log";
}

TEST_F(GremlinTest, WrongPasswordIsGJ_EAUTH)
{
    start({ "--user", "stephen", "--password", "secret" });
    client = make_client(url("stephen:wrong"), {}, 1, 1);
    ASSERT_TRUE(client);
    Outcome o;
    run(client, script("g.V().count()"), o);
    EXPECT_EQ(GJ_EAUTH, o.code) << o.msg;
    EXPECT_EQ("401", o.server_code);
    EXPECT_NE(std::string::npos, o.msg.find("Username and/or password are incorrect")) << o.msg;
    EXPECT_EQ(std::string::npos, o.msg.find("wrong")) << "a secret in the message: " << o.msg;
}

TEST_F(GremlinTest, NoCredentialsForA407)
{
    start({ "--user", "stephen", "--password", "secret" });
    client = make_client(url(), {}, 1, 1);
    ASSERT_TRUE(client);
    Outcome o;
    run(client, script("g.V().count()"), o, 10000);
    EXPECT_EQ(GJ_EAUTH, o.code) << o.msg;
    EXPECT_NE(std::string::npos, o.msg.find("no username and password")) << o.msg;
}

// ---- the asynchronous path ------------------------------------------------------------------
// A worker sends a job's request and hands it to the client's completion
// thread (docs/internals.md), which finishes it when its answer comes.  With
// caller_runs off every job takes that path.

// Every serializer, every kind of answer (200, 206 partials, 204, a script
// error), many jobs at once on one connection.
TEST_F(GremlinTest, AsyncPathEveryAnswerEverySerializer)
{
    start();
    std::string doc = "[";
    for (int i = 0; i < 300; i++)
        doc += (i ? "," : "") + std::to_string(i);
    doc += "]";
    for (const char *ser : { "graphbinary", "graphson3", "graphson2" }) {
        gj_client *c = make_client(url(), { { "message_serializer", ser },
                                            { "max_inflight", "64" },
                                            { "max_times_acquired", "64" },
                                            { "caller_runs", "false" } },
                                   2, 1);
        ASSERT_TRUE(c);
        const int n = 200;
        std::vector<gj_job *> jobs(n, nullptr);
        Err err;
        for (int i = 0; i < n; i++) {
            gj_request *r;
            switch (i % 4) {
            case 0: r = script("g.V().count()"); break;
            case 1:
                r = script("g.inject(v).unfold()");
                gj_request_set_param(r, "v", json(doc));
                gj_request_set_option(r, "batchSize", gj_value_int(64));
                break;
            case 2: r = script("g.V().hasLabel('nothing')"); break;
            default: r = script("g.V().outE().inV().path()"); break;
            }
            ASSERT_EQ(0, gj_client_submit(c, r, nullptr, &jobs[i], err.e)) << err.msg();
            gj_request_unref(r);
        }
        for (int i = 0; i < n; i++) {
            ASSERT_EQ(0, gj_job_wait(jobs[i], 60000, err.e)) << err.msg();
            gj_result *res = nullptr;
            int rc = gj_job_result(jobs[i], &res, err.e);
            switch (i % 4) {
            case 0:
                ASSERT_EQ(0, rc) << ser << " " << i << ": " << err.msg();
                ASSERT_EQ(1u, gj_result_row_count(res));
                EXPECT_EQ(6, int_of(gj_result_row(res, 0)));
                break;
            case 1:
                ASSERT_EQ(0, rc) << ser << " " << i << ": " << err.msg();
                ASSERT_EQ(300u, gj_result_row_count(res));
                for (size_t k = 0; k < 300; k += 37)
                    EXPECT_EQ((int64_t)k, int_of(gj_result_row(res, k)));
                break;
            case 2:
                ASSERT_EQ(0, rc) << ser << " " << i << ": " << err.msg();
                EXPECT_EQ(0u, gj_result_row_count(res));
                break;
            default:
                EXPECT_EQ(GJ_ESERVER, rc) << ser << " " << i << ": " << err.msg();
                EXPECT_TRUE(gj_error_server_code(err.e)) << err.msg();
                break;
            }
            gj_result_free(res);
            gj_job_unref(jobs[i]);
        }
        gj_client_free(c);
    }
    EXPECT_EQ(3u, connections());
}

// Cancel of jobs the server holds, while the others on the same connection
// finish: each cancelled job ends CANCELLED at once; what the server sends
// for it later is dropped.
TEST_F(GremlinTest, AsyncCancelWhileOthersFinish)
{
    start({ "--fault", "stall:secs=0,script=sleep" });
    client = make_client(url(), { { "max_inflight", "64" }, { "max_times_acquired", "64" }, { "caller_runs", "false" } }, 2, 1);
    ASSERT_TRUE(client);
    Err err;
    std::vector<gj_job *> held, fast;
    for (int i = 0; i < 40; i++) {
        gj_request *r = script(i % 4 == 0 ? "Thread.sleep(1)" : "g.V().count()");
        gj_job *j = nullptr;
        ASSERT_EQ(0, gj_client_submit(client, r, nullptr, &j, err.e)) << err.msg();
        gj_request_unref(r);
        (i % 4 == 0 ? held : fast).push_back(j);
    }
    for (gj_job *j : fast) {
        ASSERT_EQ(0, gj_job_wait(j, 30000, err.e)) << err.msg();
        gj_result *res = nullptr;
        ASSERT_EQ(0, gj_job_result(j, &res, err.e)) << err.msg();
        EXPECT_EQ(6, int_of(gj_result_row(res, 0)));
        gj_result_free(res);
        gj_job_unref(j);
    }
    ASSERT_GE(await_log(*server, "stall fault", held.size()), held.size());
    int64_t worst = 0;
    for (gj_job *j : held) {
        gj_job_status st;
        ASSERT_EQ(0, gj_job_get_status(j, &st, err.e));
        EXPECT_EQ(GJ_JOB_PENDING, st);
        auto t0 = Clock::now();
        ASSERT_EQ(0, gj_job_cancel(j, err.e)) << err.msg();
        ASSERT_EQ(0, gj_job_wait(j, 10000, err.e)) << err.msg();
        worst = std::max(worst, ms_since(t0));
        ASSERT_EQ(0, gj_job_get_status(j, &st, err.e));
        EXPECT_EQ(GJ_JOB_CANCELLED, st);
        gj_job_unref(j);
    }
    std::printf("[ measure ] cancel of %zu held jobs on the asynchronous path: slowest %lld ms\n",
                held.size(), (long long)worst);
    EXPECT_LT(worst, 5000);
    Outcome o;
    run(client, script("g.V(1).values('name')"), o);
    EXPECT_EQ(0, o.code) << o.msg;
    EXPECT_EQ(1u, connections());
}

// A request deadline ends a held job with GJ_ETIMEDOUT from the completion
// thread while the connection goes on serving.
TEST_F(GremlinTest, AsyncDeadlineEndsOnlyThatJob)
{
    start({ "--fault", "stall:secs=0,script=sleep" });
    client = make_client(url(), { { "max_inflight", "64" }, { "max_times_acquired", "64" }, { "caller_runs", "false" } }, 2, 1);
    ASSERT_TRUE(client);
    Err err;
    std::vector<gj_job *> held;
    for (int i = 0; i < 5; i++) {
        gj_request *r = script("Thread.sleep(1)");
        gj_request_set_timeout(r, 300 + 100 * i);
        gj_job *j = nullptr;
        ASSERT_EQ(0, gj_client_submit(client, r, nullptr, &j, err.e)) << err.msg();
        gj_request_unref(r);
        held.push_back(j);
    }
    for (int i = 0; i < 20; i++) {
        Outcome o;
        run(client, script("g.V().count()"), o);
        ASSERT_EQ(0, o.code) << o.msg;
    }
    for (gj_job *j : held) {
        ASSERT_EQ(0, gj_job_wait(j, 30000, err.e)) << err.msg();
        gj_result *res = nullptr;
        EXPECT_EQ(GJ_ETIMEDOUT, gj_job_result(j, &res, err.e)) << err.msg();
        gj_job_unref(j);
    }
    EXPECT_EQ(1u, connections());
}

// A connection that drops with many requests outstanding ends every one of
// them, exactly once, with the connection's error; the next job reconnects.
TEST_F(GremlinTest, AsyncDropEndsEveryOutstandingJob)
{
    start({ "--fault", "stall:secs=0,script=sleep" });
    client = make_client(url(), { { "max_inflight", "64" }, { "max_times_acquired", "64" }, { "caller_runs", "false" } }, 2, 1);
    ASSERT_TRUE(client);
    struct Count {
        std::atomic<int> calls{ 0 };
    } cb;
    Err err;
    std::vector<gj_job *> held;
    for (int i = 0; i < 30; i++) {
        gj_request *r = script("Thread.sleep(1)");
        gj_submit_options so = GJ_SUBMIT_OPTIONS_INIT;
        so.on_done = [](gj_job *, void *p) { static_cast<Count *>(p)->calls++; };
        so.payload = &cb;
        gj_job *j = nullptr;
        ASSERT_EQ(0, gj_client_submit(client, r, &so, &j, err.e)) << err.msg();
        gj_request_unref(r);
        held.push_back(j);
    }
    ASSERT_GE(await_log(*server, "stall fault", held.size()), held.size());
    server->kill_now();
    for (gj_job *j : held) {
        ASSERT_EQ(0, gj_job_wait(j, 30000, err.e)) << err.msg();
        gj_result *res = nullptr;
        EXPECT_EQ(GJ_EIO, gj_job_result(j, &res, err.e)) << err.msg();
        gj_job_unref(j);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    EXPECT_EQ(30, cb.calls.load());
}

// A server that asks for SASL on each new connection while twenty jobs are
// submitted at once: one negotiation, every job answered.
TEST_F(GremlinTest, AsyncSaslWithManyJobsAtOnce)
{
    start({ "--user", "stephen", "--password", "secret" });
    client = make_client(url("stephen:secret"), { { "max_inflight", "64" }, { "max_times_acquired", "64" }, { "caller_runs", "false" } }, 4, 1);
    ASSERT_TRUE(client);
    Err err;
    std::vector<gj_job *> jobs;
    for (int i = 0; i < 20; i++) {
        gj_request *r = script("g.V().count()");
        gj_job *j = nullptr;
        ASSERT_EQ(0, gj_client_submit(client, r, nullptr, &j, err.e)) << err.msg();
        gj_request_unref(r);
        jobs.push_back(j);
    }
    for (gj_job *j : jobs) {
        ASSERT_EQ(0, gj_job_wait(j, 30000, err.e)) << err.msg();
        gj_result *res = nullptr;
        ASSERT_EQ(0, gj_job_result(j, &res, err.e)) << err.msg();
        EXPECT_EQ(6, int_of(gj_result_row(res, 0)));
        gj_result_free(res);
        gj_job_unref(j);
    }
    EXPECT_EQ(1u, connections());
}

// ---- sessions -------------------------------------------------------------------------------------

TEST_F(GremlinTest, SessionRunsInOrderAndKeepsVariables)
{
    start();
    client = make_client(url(), {}, 4, 2);
    ASSERT_TRUE(client);
    Err err;
    gj_session *s = nullptr;
    ASSERT_EQ(0, gj_client_open_session(client, nullptr, nullptr, &s, err.e)) << err.msg();
    std::vector<gj_job *> jobs;
    const char *texts[] = { "x = 41", "Thread.sleep(300)", "y = x", "y" };
    for (const char *t : texts) {
        gj_job *j = nullptr;
        gj_request *r = script(t);
        ASSERT_EQ(0, gj_session_submit(s, r, nullptr, &j, err.e)) << err.msg();
        gj_request_unref(r);
        jobs.push_back(j);
    }
    int64_t prev = 0;
    for (size_t i = 0; i < jobs.size(); i++) {
        ASSERT_EQ(0, gj_job_wait(jobs[i], 30000, err.e)) << err.msg();
        gj_result *res = nullptr;
        ASSERT_EQ(0, gj_job_result(jobs[i], &res, err.e)) << texts[i] << ": " << err.msg();
        if (i == 3) {
            ASSERT_EQ(1u, gj_result_row_count(res));
            EXPECT_EQ(41, int_of(gj_result_row(res, 0)));
        }
        gj_result_free(res);
        EXPECT_GE(gj_job_finished_at(jobs[i]), prev) << "job " << i << " ended before job " << i - 1;
        prev = gj_job_finished_at(jobs[i]);
        gj_job_unref(jobs[i]);
    }
    ASSERT_EQ(0, gj_session_close(s, err.e)) << err.msg();
    EXPECT_GE(await_log(*server, "REQUEST close session"), 1u) << server->log();
    // Every request of the session carried processor "session".
    EXPECT_EQ(4u, server->count_in_log("REQUEST eval session"));
}

TEST_F(GremlinTest, SessionsAreSeparate)
{
    start();
    client = make_client(url(), {}, 4, 2);
    ASSERT_TRUE(client);
    Err err;
    gj_session *a = nullptr, *b = nullptr;
    ASSERT_EQ(0, gj_client_open_session(client, nullptr, nullptr, &a, err.e)) << err.msg();
    ASSERT_EQ(0, gj_client_open_session(client, nullptr, nullptr, &b, err.e)) << err.msg();
    gj_job *ja = nullptr, *jb = nullptr;
    gj_request *r = script("x = 1");
    ASSERT_EQ(0, gj_session_submit(a, r, nullptr, &ja, err.e));
    gj_request_unref(r);
    ASSERT_EQ(0, gj_job_wait(ja, 30000, err.e));
    r = script("x");
    ASSERT_EQ(0, gj_session_submit(b, r, nullptr, &jb, err.e));
    gj_request_unref(r);
    ASSERT_EQ(0, gj_job_wait(jb, 30000, err.e));
    gj_result *res = nullptr;
    EXPECT_EQ(GJ_ESERVER, gj_job_result(jb, &res, err.e));
    EXPECT_NE(nullptr, strstr(err.msg(), "No such property: x")) << err.msg();
    gj_job_unref(ja);
    gj_job_unref(jb);
    EXPECT_EQ(0, gj_session_close(a, err.e)) << err.msg();
    EXPECT_EQ(0, gj_session_close(b, err.e)) << err.msg();
}

TEST_F(GremlinTest, SessionOptionsAreChecked)
{
    start();
    client = make_client(url());
    ASSERT_TRUE(client);
    Err err;
    gj_session *s = nullptr;
    gj_value *opts = json("{\"manageTransaction\": true}");
    ASSERT_EQ(0, gj_client_open_session(client, nullptr, opts, &s, err.e)) << err.msg();
    gj_value_unref(opts);
    gj_job *j = nullptr;
    gj_request *r = script("g.V().count()");
    ASSERT_EQ(0, gj_session_submit(s, r, nullptr, &j, err.e));
    gj_request_unref(r);
    EXPECT_EQ(0, gj_job_wait(j, 30000, err.e));
    gj_result *res = nullptr;
    EXPECT_EQ(0, gj_job_result(j, &res, err.e)) << err.msg();
    gj_result_free(res);
    gj_job_unref(j);
    EXPECT_EQ(0, gj_session_close(s, err.e));

    opts = json("{\"manage\": true}");
    EXPECT_EQ(GJ_EINVAL, gj_client_open_session(client, nullptr, opts, &s, err.e));
    EXPECT_NE(nullptr, strstr(err.msg(), "unknown session option 'manage'")) << err.msg();
    gj_value_unref(opts);
}

// Cancelling a session's running job closes its connection: the server's
// session state is unknown.
TEST_F(GremlinTest, CancelInASessionClosesItsConnection)
{
    start();
    client = make_client(url(), {}, 2, 2);
    ASSERT_TRUE(client);
    Err err;
    gj_session *s = nullptr;
    ASSERT_EQ(0, gj_client_open_session(client, nullptr, nullptr, &s, err.e)) << err.msg();
    gj_job *j = nullptr;
    gj_request *r = script("Thread.sleep(20000)");
    ASSERT_EQ(0, gj_session_submit(s, r, nullptr, &j, err.e));
    gj_request_unref(r);
    ASSERT_GE(await_log(*server, "SCRIPT Thread.sleep(20000)"), 1u);
    auto t0 = Clock::now();
    ASSERT_EQ(0, gj_job_cancel(j, err.e));
    ASSERT_EQ(0, gj_job_wait(j, 10000, err.e));
    EXPECT_LT(ms_since(t0), 5000);
    gj_job_status st;
    gj_job_get_status(j, &st, err.e);
    EXPECT_EQ(GJ_JOB_CANCELLED, st);
    gj_job_unref(j);
    gj_session_close(s, err.e);
    // The connection went: the server saw its session end with it.
    Outcome o;
    run(client, script("g.V().count()"), o);
    EXPECT_EQ(0, o.code) << o.msg;
    EXPECT_EQ(2u, connections());
}

// ---- TLS and configuration --------------------------------------------------------------------

class GremlinTls : public GremlinTest {
protected:
    void SetUp() override
    {
        char tmpl[] = "/tmp/gj-gremlin-tls-XXXXXX";
        ASSERT_TRUE(mkdtemp(tmpl));
        dir = tmpl;
        cert = dir + "/cert.pem";
        key = dir + "/key.pem";
        ASSERT_TRUE(make_self_signed_cert(cert, key));
        start({ "--tls-cert", cert, "--tls-key", key });
    }
    void TearDown() override
    {
        GremlinTest::TearDown();
        unlink(cert.c_str());
        unlink(key.c_str());
        rmdir(dir.c_str());
    }
    std::string wss() const { return "gremlin+wss://127.0.0.1:" + std::to_string(server->port()); }
    std::string dir, cert, key;
};

TEST_F(GremlinTls, VerifiesByDefault)
{
    client = make_client(wss(), {}, 1, 1);
    ASSERT_TRUE(client);
    Outcome o;
    run(client, script("g.V().count()"), o);
    EXPECT_EQ(GJ_ETLS, o.code) << o.msg;
    EXPECT_NE(std::string::npos, o.msg.find("self-signed")) << o.msg;
}

TEST_F(GremlinTls, TrustsItsCaFile)
{
    client = make_client(wss(), { { "ssl_cafile", cert } }, 1, 1);
    ASSERT_TRUE(client);
    Outcome o;
    run(client, script("g.V().count()"), o);
    ASSERT_EQ(0, o.code) << o.msg;
    EXPECT_EQ(6, int_of(o.row(0)));
}

TEST_F(GremlinTls, HostNameIsChecked)
{
    client = make_client("gremlin+wss://localhost:" + std::to_string(server->port()),
                         { { "ssl_cafile", cert } }, 1, 1);
    ASSERT_TRUE(client);
    Outcome o;
    run(client, script("g.V().count()"), o);
    EXPECT_EQ(GJ_ETLS, o.code) << o.msg;
}

TEST_F(GremlinTls, InsecureIsAnExplicitChoice)
{
    client = make_client(wss(), { { "ssl_verify", "false" } }, 1, 1);
    ASSERT_TRUE(client);
    Outcome o;
    run(client, script("g.V().count()"), o);
    EXPECT_EQ(0, o.code) << o.msg;
}

// aiogremlin's Cluster keys from a YAML file and a JSON file.
TEST_F(GremlinTest, AiogremlinClusterKeysFromFiles)
{
    start({ "--user", "u", "--password", "pw" });
    char tmpl[] = "/tmp/gj-gremlin-cfg-XXXXXX";
    ASSERT_TRUE(mkdtemp(tmpl));
    std::string dir = tmpl, yaml = dir + "/cluster.yaml", jsn = dir + "/cluster.json";
    std::string port = std::to_string(server->port());
    {
        std::ofstream y(yaml);
        y << "scheme: ws\nhosts: [127.0.0.1]\nport: " << port
          << "\nusername: u\npassword: pw\nresponse_timeout: 20s\nmax_conns: 2\nmin_conns: 1\n"
             "max_times_acquired: 8\nmax_inflight: 32\nmessage_serializer: "
             "gremlin_python.driver.serializer.GraphSONMessageSerializer\n";
    }
    {
        std::ofstream j(jsn);
        j << "{\"scheme\": \"ws\", \"hosts\": [\"127.0.0.1\"], \"port\": " << port
          << ", \"username\": \"u\", \"password\": \"pw\", \"message_serializer\": "
             "\"graphsonv2\", \"max_inflight\": 16}";
    }
    for (const std::string &path : { yaml, jsn }) {
        Err err;
        gj_config *cfg = nullptr;
        ASSERT_EQ(0, gj_config_load_file(&cfg, path.c_str(), err.e)) << path << ": " << err.msg();
        gj_client *c = nullptr;
        ASSERT_EQ(0, gj_client_new(&c, cfg, err.e)) << path << ": " << err.msg();
        gj_config_free(cfg);
        Outcome o;
        run(c, script("g.V().count()"), o);
        EXPECT_EQ(0, o.code) << path << ": " << o.msg;
        gj_client_free(c);
    }
    EXPECT_GE(server->count_in_log("application/vnd.gremlin-v3.0+json"), 1u);
    EXPECT_GE(server->count_in_log("application/vnd.gremlin-v2.0+json"), 1u);
    unlink(yaml.c_str());
    unlink(jsn.c_str());
    rmdir(dir.c_str());
}

TEST_F(GremlinTest, UnknownSerializerIsAConfigError)
{
    start();
    Err err;
    gj_config *cfg = nullptr;
    ASSERT_EQ(0, gj_config_from_url(&cfg, url().c_str(), err.e));
    ASSERT_EQ(0, gj_config_set_string(cfg, "default", "message_serializer", "gryo", err.e));
    gj_client *c = nullptr;
    EXPECT_EQ(GJ_ECONFIG, gj_client_new(&c, cfg, err.e));
    EXPECT_NE(nullptr, strstr(err.msg(), "message_serializer")) << err.msg();
    EXPECT_NE(nullptr, strstr(err.msg(), "gryo")) << err.msg();
    gj_config_free(cfg);
}

}  // namespace
