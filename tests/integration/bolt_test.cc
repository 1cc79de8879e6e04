// The Bolt backend through the public API against bolt-refserver.
#include <graphjob.h>

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <malloc.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "server_process.h"

using gjtest::ServerProcess;

namespace {

std::string server_path() { return gjtest::build_path("tests/servers/bolt/bolt-refserver"); }

std::vector<std::string> args_with(std::vector<std::string> extra)
{
    std::vector<std::string> a = { "--port", "0", "--verbose" };
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
}

struct Err {
    gj_error *e = gj_error_new();
    ~Err() { gj_error_free(e); }
    const char *msg() const { return gj_error_message(e); }
};

// A client on one worker with at most one connection, so consecutive jobs
// share the pooled connection when it is reusable.
gj_client *make_client(const std::string &url, const std::vector<std::pair<std::string, std::string>> &settings = {},
                       int workers = 1)
{
    Err err;
    gj_config *cfg = nullptr;
    if (gj_config_from_url(&cfg, url.c_str(), err.e) != 0) {
        ADD_FAILURE() << "config: " << err.msg();
        return nullptr;
    }
    EXPECT_EQ(0, gj_config_set_int(cfg, nullptr, "workers", workers, err.e)) << err.msg();
    EXPECT_EQ(0, gj_config_set_int(cfg, "default", "max_conns", 1, err.e)) << err.msg();
    for (const auto &kv : settings)
        EXPECT_EQ(0, gj_config_set_string(cfg, "default", kv.first.c_str(), kv.second.c_str(), err.e))
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

// Wait (up to 5 s) until the server logged `needle` at least n times: what
// the client sends after a job ended (RESET's answer is read by the
// worker's settle step) reaches the log a moment later.
size_t await_log(const ServerProcess &s, const std::string &needle, size_t n = 1)
{
    auto t0 = std::chrono::steady_clock::now();
    while (s.count_in_log(needle) < n && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5))
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return s.count_in_log(needle);
}

std::string url_for(const ServerProcess &s, const std::string &scheme = "bolt",
                     const std::string &userinfo = "neo4j:password", const std::string &host = "127.0.0.1")
{
    return scheme + "://" + userinfo + "@" + host + ":" + std::to_string(s.port());
}

// Run a request; returns the code, *res the result on success.
int run(gj_client *c, gj_request *req, gj_result **res, Err &err, int64_t timeout_ms = 30000)
{
    *res = nullptr;
    int rc = gj_client_execute(c, req, timeout_ms, res, err.e);
    gj_request_unref(req);
    return rc;
}

gj_request *query(const char *text)
{
    gj_request *r = nullptr;
    EXPECT_EQ(0, gj_request_new_query(&r, text));
    return r;
}

int64_t int_at(const gj_value *row, size_t i)
{
    int64_t v = -999;
    EXPECT_EQ(0, gj_value_int_get(gj_value_list_at(row, i), &v));
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

class BoltTest : public ::testing::Test {
protected:
    void start(std::vector<std::string> extra = {}, int ports = 1)
    {
        server.reset(new ServerProcess(server_path(), args_with(extra), ports));
        ASSERT_TRUE(server->ok()) << server->error();
    }
    void TearDown() override
    {
        if (client)
            gj_client_free(client);
        client = nullptr;
    }
    std::unique_ptr<ServerProcess> server;
    gj_client *client = nullptr;
};

TEST_F(BoltTest, ReturnsLiterals)
{
    start();
    client = make_client(url_for(*server));
    ASSERT_TRUE(client);
    Err err;
    gj_result *res;
    ASSERT_EQ(0, run(client, query("RETURN 1 AS a, 'x' AS b, 2.5 AS c, true AS d, null AS e, [1, 2] AS f"), &res,
                     err))
        << err.msg();
    const gj_value *fields = gj_result_fields(res);
    ASSERT_EQ(6u, gj_value_size(fields));
    EXPECT_EQ("a", str_of(gj_value_list_at(fields, 0)));
    EXPECT_EQ("f", str_of(gj_value_list_at(fields, 5)));
    ASSERT_EQ(1u, gj_result_row_count(res));
    const gj_value *row = gj_result_row(res, 0);
    EXPECT_EQ(1, int_at(row, 0));
    EXPECT_EQ("x", str_of(gj_value_list_at(row, 1)));
    double d = 0;
    EXPECT_EQ(0, gj_value_float_get(gj_value_list_at(row, 2), &d));
    EXPECT_EQ(2.5, d);
    bool b = false;
    EXPECT_EQ(0, gj_value_bool_get(gj_value_list_at(row, 3), &b));
    EXPECT_TRUE(b);
    EXPECT_EQ(GJ_TNULL, gj_value_type(gj_value_list_at(row, 4)));
    EXPECT_EQ(2u, gj_value_size(gj_value_list_at(row, 5)));
    const gj_value *meta = gj_result_meta(res);
    ASSERT_TRUE(meta);
    EXPECT_TRUE(gj_value_map_get(meta, "type")) << "query type in the metadata";
    EXPECT_EQ("Neo4j/5.26.0", str_of(gj_value_map_get(meta, "server")));
    gj_result_free(res);
    // The user agent and the negotiated version, as the server saw them.
    EXPECT_EQ(1u, server->count_in_log("HELLO from 'libgraphjob/")) << server->log();
    EXPECT_EQ(1u, server->count_in_log("(Bolt 5.8")) << server->log();
}

// Parameters of every type PackStream carries go out and come back equal.
static std::vector<std::pair<std::string, gj_value *>> every_type()
{
    std::vector<std::pair<std::string, gj_value *>> v;
    auto add = [&](const char *name, gj_value *x) {
        EXPECT_TRUE(x) << name;
        v.emplace_back(name, x);
    };
    gj_value *x;
    add("n", gj_value_null());
    add("t", gj_value_bool(true));
    add("i0", gj_value_int(-16));
    add("i1", gj_value_int(-17));
    add("i2", gj_value_int(200));
    add("i3", gj_value_int(INT64_C(1) << 40));
    add("i4", gj_value_int(INT64_MIN));
    add("f", gj_value_float(-1.25e300));
    add("nan", gj_value_float(NAN));
    add("s", gj_value_string("h\xc3\xa9llo \xe2\x9c\x93"));
    std::string big(70000, 'z');
    x = nullptr;
    gj_value_new_string(&x, big.data(), big.size());
    add("bigs", x);
    const uint8_t bytes[] = { 0, 1, 2, 0xff };
    x = nullptr;
    gj_value_new_bytes(&x, bytes, sizeof bytes);
    add("by", x);
    gj_value *l = nullptr;
    gj_value_new_list(&l, 3);
    gj_value_list_append(l, gj_value_int(1));
    gj_value_list_append(l, gj_value_string("two"));
    gj_value_list_append(l, gj_value_null());
    add("l", l);
    gj_value *m = nullptr, *inner = nullptr;
    gj_value_new_map(&m, 2);
    gj_value_new_map(&inner, 1);
    gj_value_map_put_str(inner, "deep", gj_value_float(0.5));
    gj_value_map_put_str(m, "k", gj_value_string("v"));
    gj_value_map_put_str(m, "inner", inner);
    add("m", m);
    x = nullptr; gj_value_new_date(&x, -719162); add("date", x);
    x = nullptr; gj_value_new_time(&x, INT64_C(45296000000123), 3600); add("time", x);
    x = nullptr; gj_value_new_local_time(&x, INT64_C(86399999999999)); add("ltime", x);
    x = nullptr; gj_value_new_datetime(&x, 1700000000, 5, -18000, nullptr, GJ_DATETIME_HAS_OFFSET); add("dt", x);
    x = nullptr; gj_value_new_datetime(&x, 1700000000, 0, 0, "Europe/Paris", 0); add("dtz", x);
    x = nullptr; gj_value_new_local_datetime(&x, -1, 999999999); add("ldt", x);
    x = nullptr; gj_value_new_duration(&x, 14, -3, 3600, 7); add("dur", x);
    x = nullptr; gj_value_new_point(&x, 4326, 2, 1.5, -2.5, 0); add("p2", x);
    x = nullptr; gj_value_new_point(&x, 9157, 3, 1, 2, 3); add("p3", x);
    return v;
}

static void params_round_trip(gj_client *client)
{
    auto values = every_type();
    std::string text = "RETURN ";
    for (size_t i = 0; i < values.size(); i++)
        text += (i ? ", $" : "$") + values[i].first + " AS " + values[i].first;
    gj_request *req = query(text.c_str());
    for (auto &kv : values)
        ASSERT_EQ(0, gj_request_set_param(req, kv.first.c_str(), gj_value_ref(kv.second)));
    Err err;
    gj_result *res;
    ASSERT_EQ(0, run(client, req, &res, err)) << err.msg();
    ASSERT_EQ(1u, gj_result_row_count(res));
    const gj_value *row = gj_result_row(res, 0);
    ASSERT_EQ(values.size(), gj_value_size(row));
    for (size_t i = 0; i < values.size(); i++) {
        if (values[i].first == "dtz") {
            // A zone id without its offset comes back with it (the system's
            // time-zone database; docs/bolt.md "Values"): same instant, same zone.
            int64_t secs = 0;
            int32_t off = -1;
            const char *zone = nullptr;
            unsigned flags = 9;
            ASSERT_EQ(0, gj_value_datetime_get(gj_value_list_at(row, i), &secs, nullptr, &off, &zone, &flags));
            EXPECT_EQ(1700000000, secs);
            EXPECT_STREQ("Europe/Paris", zone);
            if (access("/usr/share/zoneinfo/Europe/Paris", R_OK) == 0 && !getenv("TZDIR")) {
                EXPECT_EQ((unsigned)GJ_DATETIME_HAS_OFFSET, flags);
                EXPECT_EQ(3600, off);
            }
        } else {
            EXPECT_TRUE(gj_value_equal(values[i].second, gj_value_list_at(row, i)))
                << values[i].first << " came back as " << gj_type_name(gj_value_type(gj_value_list_at(row, i)));
        }
        gj_value_unref(values[i].second);
    }
    gj_result_free(res);
}

TEST_F(BoltTest, ParamsOfEveryTypeRoundTrip)
{
    start();
    client = make_client(url_for(*server));
    ASSERT_TRUE(client);
    params_round_trip(client);
}

TEST_F(BoltTest, Negotiates44WithUtcPatch)
{
    start({ "--versions", "4.4" });
    client = make_client(url_for(*server));
    ASSERT_TRUE(client);
    params_round_trip(client);
    EXPECT_EQ(1u, server->count_in_log("(Bolt 4.4")) << server->log();
}

TEST_F(BoltTest, Negotiates50WithoutManifestCredentialsInHello)
{
    start({ "--versions", "5.0", "--no-manifest" });
    client = make_client(url_for(*server));
    ASSERT_TRUE(client);
    params_round_trip(client);
    EXPECT_EQ(1u, server->count_in_log("(Bolt 5.0")) << server->log();
}

TEST_F(BoltTest, Negotiates54ThroughManifest)
{
    start({ "--versions", "5.4,5.2" });
    client = make_client(url_for(*server));
    ASSERT_TRUE(client);
    Err err;
    gj_result *res;
    ASSERT_EQ(0, run(client, query("RETURN 1 AS one"), &res, err)) << err.msg();
    gj_result_free(res);
    EXPECT_EQ(1u, server->count_in_log("(Bolt 5.4")) << server->log();
}

// Bolt 6.0 (Neo4j 2025.10+) through the manifest: every type still round
// trips, and vectors go both ways: as parameters, from VECTOR(), stored as
// properties.
TEST_F(BoltTest, Negotiates60ThroughManifestWithVectors)
{
    start({ "--versions", "6.0,5.8,5.7,5.6,5.4,5.3,5.2,5.1,5.0,4.4", "--server-agent", "Neo4j/2025.10.1" });
    client = make_client(url_for(*server));
    ASSERT_TRUE(client);
    params_round_trip(client);
    EXPECT_EQ(1u, server->count_in_log("(Bolt 6.0")) << server->log();
    Err err;
    gj_result *res;
    const float emb[] = { 0.25f, -1.5f, 3.0f, 1e-3f };
    gj_value *vec = nullptr;
    ASSERT_EQ(0, gj_value_new_vector(&vec, GJ_VECTOR_FLOAT32, emb, 4));
    gj_request *r = query("RETURN $v AS v, VECTOR([1, 2, 3], 3, INTEGER8) AS i8, VECTOR([0.5], 1, FLOAT) AS f64");
    ASSERT_EQ(0, gj_request_set_param(r, "v", gj_value_ref(vec)));
    ASSERT_EQ(0, run(client, r, &res, err)) << err.msg();
    const gj_value *row = gj_result_row(res, 0);
    EXPECT_TRUE(gj_value_equal(vec, gj_value_list_at(row, 0)));
    gj_vector_type t;
    size_t n = 0;
    ASSERT_EQ(0, gj_value_vector_get(gj_value_list_at(row, 0), &t, &n, nullptr, nullptr));
    EXPECT_EQ(GJ_VECTOR_FLOAT32, t);
    EXPECT_EQ(4u, n);
    float back[4];
    ASSERT_EQ(0, gj_value_vector_copy(gj_value_list_at(row, 0), back, 4, &n));
    EXPECT_EQ(0, memcmp(emb, back, sizeof emb));
    ASSERT_EQ(0, gj_value_vector_get(gj_value_list_at(row, 1), &t, &n, nullptr, nullptr));
    EXPECT_EQ(GJ_VECTOR_INT8, t);
    int64_t third = 0;
    EXPECT_EQ(0, gj_value_vector_int_at(gj_value_list_at(row, 1), 2, &third));
    EXPECT_EQ(3, third);
    double half = 0;
    EXPECT_EQ(0, gj_value_vector_float_at(gj_value_list_at(row, 2), 0, &half));
    EXPECT_EQ(0.5, half);
    gj_result_free(res);
    // Stored as a property, read back.
    r = query("CREATE (d:Doc {embedding: $v}) RETURN d.embedding AS e");
    gj_request_set_param(r, "v", gj_value_ref(vec));
    ASSERT_EQ(0, run(client, r, &res, err)) << err.msg();
    gj_result_free(res);
    ASSERT_EQ(0, run(client, query("MATCH (d:Doc) RETURN d.embedding AS e"), &res, err)) << err.msg();
    EXPECT_TRUE(gj_value_equal(vec, gj_value_list_at(gj_result_row(res, 0), 0)));
    gj_result_free(res);
    gj_value_unref(vec);
}

// A datetime with a zone id comes back as the same value, in the same form
// (UTC seconds + the zone's offset + the zone), whichever Bolt version
// carried it: 6.0, 5.x, 4.4 with the utc patch, and 4.4 without it (wall-
// clock seconds on the wire, converted with the system's time-zone
// database); its JSON text is Neo4j's.
TEST(BoltDatetime, ZoneIdSameWhateverTheVersion)
{
    if (access("/usr/share/zoneinfo/Europe/Paris", R_OK) != 0 && !getenv("TZDIR"))
        GTEST_SKIP() << "no time-zone database on this machine (docs/bolt.md: what is known without one)";
    // 2024-02-29T12:14:15Z (winter, +01:00) and 2024-07-01T10:00:00.5Z (summer, +02:00).
    const int64_t winter = 1709208855, summer = 1719828000;
    const char *versions[][2] = {
        { "6.0,5.8", "" }, { "5.8", "" }, { "5.0", "--no-manifest" }, { "4.4", "" }, { "4.4", "--no-utc-patch" },
    };
    std::vector<std::string> texts;
    for (auto &v : versions) {
        SCOPED_TRACE(std::string(v[0]) + " " + v[1]);
        std::vector<std::string> args = { "--port", "0", "--verbose", "--versions", v[0] };
        if (*v[1])
            args.push_back(v[1]);
        ServerProcess srv(server_path(), args);
        ASSERT_TRUE(srv.ok()) << srv.error();
        gj_client *client = make_client(url_for(srv));
        ASSERT_TRUE(client);
        Err err;
        gj_value *a = nullptr, *b = nullptr;
        ASSERT_EQ(0, gj_value_new_datetime(&a, winter, 0, 0, "Europe/Paris", 0));   // a zone, no offset
        ASSERT_EQ(0, gj_value_new_datetime(&b, summer, 500000000, 7200, "Europe/Paris", GJ_DATETIME_HAS_OFFSET));
        gj_request *r = query("RETURN $a AS a, $b AS b");
        gj_request_set_param(r, "a", a);
        gj_request_set_param(r, "b", b);
        gj_result *res = nullptr;
        ASSERT_EQ(0, run(client, r, &res, err)) << err.msg();
        const gj_value *row = gj_result_row(res, 0);
        int64_t secs = 0;
        int32_t nanos = 0, off = 0;
        const char *zone = nullptr;
        unsigned flags = 0;
        ASSERT_EQ(0, gj_value_datetime_get(gj_value_list_at(row, 0), &secs, &nanos, &off, &zone, &flags));
        EXPECT_EQ(winter, secs);
        EXPECT_EQ(3600, off);
        EXPECT_STREQ("Europe/Paris", zone);
        EXPECT_EQ((unsigned)GJ_DATETIME_HAS_OFFSET, flags);
        ASSERT_EQ(0, gj_value_datetime_get(gj_value_list_at(row, 1), &secs, &nanos, &off, &zone, &flags));
        EXPECT_EQ(summer, secs);
        EXPECT_EQ(500000000, nanos);
        EXPECT_EQ(7200, off);
        EXPECT_EQ((unsigned)GJ_DATETIME_HAS_OFFSET, flags);
        char *json = nullptr;
        ASSERT_EQ(0, gj_value_to_json(row, 0, &json, nullptr));
        texts.push_back(json);
        gj_free(json);
        gj_result_free(res);
        gj_client_free(client);
        if (std::string(v[1]) == "--no-utc-patch") {
            EXPECT_EQ(0u, srv.count_in_log(" utc)")) << "the legacy forms were used";
        }
    }
    for (const auto &t : texts)
        EXPECT_EQ("[\"2024-02-29T13:14:15+01:00[Europe/Paris]\",\"2024-07-01T12:00:00.5+02:00[Europe/Paris]\"]", t);
}

// The README's example, and every comparison operator of the reference
// server's WHERE (numbers compare across int and float; null never matches).
TEST_F(BoltTest, WhereComparesWithParameters)
{
    start({ "--seed" });   // Alice 33, Bob 44, Carol (no age)
    client = make_client(url_for(*server));
    ASSERT_TRUE(client);
    struct Case {
        const char *where;
        gj_value *param;
        const char *names;
    } cases[] = {
        { "p.age > $x", gj_value_int(30), "Alice,Bob" },
        { "p.age >= $x", gj_value_int(44), "Bob" },
        { "p.age < $x", gj_value_float(40.5), "Alice" },
        { "p.age <= $x", gj_value_int(33), "Alice" },
        { "p.age = $x", gj_value_float(33.0), "Alice" },
        { "p.age <> $x", gj_value_int(33), "Bob" },
        { "p.name <> $x", gj_value_string("Bob"), "Alice,Carol" },
        { "p.name < $x", gj_value_string("Bz"), "Alice,Bob" },
        { "p.age > $x", gj_value_string("10"), "" },
    };
    for (auto &c : cases) {
        std::string text = std::string("MATCH (p:Person) WHERE ") + c.where + " RETURN p.name";
        SCOPED_TRACE(text);
        gj_request *r = query(text.c_str());
        gj_request_set_param(r, "x", c.param);
        Err err;
        gj_result *res;
        ASSERT_EQ(0, run(client, r, &res, err)) << err.msg();
        std::string names;
        for (size_t i = 0; i < gj_result_row_count(res); i++)
            names += (i ? "," : "") + str_of(gj_value_list_at(gj_result_row(res, i), 0));
        EXPECT_EQ(c.names, names);
        gj_result_free(res);
    }
    Err err;
    gj_result *res;
    EXPECT_EQ(GJ_ESERVER, run(client, query("MATCH (p:Person) WHERE p.age => 1 RETURN p"), &res, err));
    EXPECT_STREQ("Neo.ClientError.Statement.SyntaxError", gj_error_server_code(err.e));
}

// The typed accessors of result.h read what the Bolt backend puts in the
// metadata (docs/bolt.md, "Metadata keys"), on a 5.4 server (notifications)
// and a 5.8 one (GQL statuses).
TEST(BoltAccessors, TypedAccessorsOnBoltResults)
{
    for (const char *versions : { "5.4", "5.8" }) {
        SCOPED_TRACE(versions);
        ServerProcess srv(server_path(), { "--port", "0", "--versions", versions, "--seed" });
        ASSERT_TRUE(srv.ok()) << srv.error();
        gj_client *client = make_client(url_for(srv));
        ASSERT_TRUE(client);
        Err err;
        gj_result *res = nullptr;
        ASSERT_EQ(0, run(client, query("CREATE (n:Acc {a: 1, b: 2}) RETURN n.a AS a, n.b AS b"), &res, err))
            << err.msg();
        EXPECT_EQ(GJ_QUERY_TYPE_READ_WRITE, gj_result_query_type(res));
        const char *bm = gj_result_bookmark(res);
        ASSERT_TRUE(bm);
        EXPECT_EQ(0, strncmp(bm, "FB:refserver:", 13)) << bm;
        gj_counters c = GJ_COUNTERS_INIT;
        ASSERT_TRUE(gj_result_counters(res, &c));
        EXPECT_EQ(1, c.nodes_created);
        EXPECT_EQ(2, c.properties_set);
        EXPECT_EQ(1, c.labels_added);
        EXPECT_TRUE(c.contains_updates);
        EXPECT_STREQ("Neo4j/5.26.0", gj_result_server_agent(res));
        EXPECT_EQ("127.0.0.1:" + std::to_string(srv.port()), std::string(gj_result_server_address(res)
                                                                          ? gj_result_server_address(res) : ""));
        size_t ix = 9;
        ASSERT_TRUE(gj_result_field_index(res, "b", &ix));
        EXPECT_EQ(1u, ix);
        EXPECT_EQ(2, int_at(gj_result_row(res, 0), ix));
        int64_t a = 0;
        EXPECT_EQ(0, gj_value_int_get(gj_result_row_get(res, 0, "a"), &a));
        EXPECT_EQ(1, a);
        EXPECT_EQ(0u, gj_result_notification_count(res));
        gj_result_free(res);
        ASSERT_EQ(0, run(client, query("MATCH (n:NoSuchLabel) RETURN n"), &res, err)) << err.msg();
        EXPECT_EQ(GJ_QUERY_TYPE_READ, gj_result_query_type(res));
        gj_counters none = GJ_COUNTERS_INIT;
        gj_result_counters(res, &none);
        EXPECT_EQ(0, none.nodes_created);
        bool found = false;
        for (size_t i = 0; i < gj_result_notification_count(res); i++) {
            gj_notification n = GJ_NOTIFICATION_INIT;
            ASSERT_TRUE(gj_result_notification(res, i, &n));
            if (!n.code || strcmp(n.code, "Neo.ClientNotification.Statement.UnknownLabelWarning") != 0)
                continue;
            found = true;
            EXPECT_TRUE(n.is_notification);
            EXPECT_STREQ("WARNING", n.severity);
            EXPECT_STREQ("UNRECOGNIZED", n.classification);
            ASSERT_TRUE(n.has_position);
            EXPECT_EQ(9, n.offset);
            if (std::string(versions) == "5.8") {
                EXPECT_STREQ("01N50", n.gql_status);
            }
        }
        EXPECT_TRUE(found);
        gj_result_free(res);
        gj_client_free(client);
    }
}

// Before 6.0 a vector parameter is refused before anything is sent.
TEST_F(BoltTest, VectorNeedsBolt60)
{
    start();
    client = make_client(url_for(*server));
    ASSERT_TRUE(client);
    Err err;
    gj_result *res;
    const int8_t x[] = { 1, 2 };
    gj_value *vec = nullptr;
    ASSERT_EQ(0, gj_value_new_vector(&vec, GJ_VECTOR_INT8, x, 2));
    gj_request *r = query("RETURN $v AS v");
    gj_request_set_param(r, "v", vec);
    EXPECT_EQ(GJ_EINVAL, run(client, r, &res, err));
    EXPECT_NE(std::string::npos, std::string(err.msg()).find("Bolt 6.0")) << err.msg();
    EXPECT_EQ(0u, server->count_in_log("RUN RETURN $v")) << "nothing was sent";
    ASSERT_EQ(0, run(client, query("RETURN 1 AS one"), &res, err)) << err.msg();   // the connection is fine
    gj_result_free(res);
}

TEST_F(BoltTest, StreamsHundredThousandRowsInBatches)
{
    start();
    client = make_client(url_for(*server));
    ASSERT_TRUE(client);
    Err err;
    gj_result *res;
    gj_request *req = query("UNWIND range(1, 100000) AS x RETURN x");
    ASSERT_EQ(0, gj_request_set_option(req, "fetch_size", gj_value_int(999)));
    ASSERT_EQ(0, run(client, req, &res, err)) << err.msg();
    ASSERT_EQ(100000u, gj_result_row_count(res));
    for (size_t i = 0; i < 100000; i += 9973)
        ASSERT_EQ((int64_t)i + 1, int_at(gj_result_row(res, i), 0));
    EXPECT_EQ(100000, int_at(gj_result_row(res, 99999), 0));
    gj_result_free(res);
    // 100000 / 999 batches: one PULL each, and nothing else went wrong.
    EXPECT_EQ(1u, server->count_in_log("HELLO from"));
}

struct RowCount {
    std::atomic<int64_t> rows{ 0 };
    std::atomic<int64_t> sum{ 0 };
    int64_t stop_after = -1;
};

int count_rows(const gj_value *row, void *payload)
{
    auto *rc = static_cast<RowCount *>(payload);
    int64_t x = 0;
    gj_value_int_get(gj_value_list_at(row, 0), &x);
    rc->sum += x;
    int64_t n = ++rc->rows;
    return rc->stop_after >= 0 && n >= rc->stop_after ? 1 : 0;
}

TEST_F(BoltTest, RowCallbackStreamsAndStops)
{
    start();
    client = make_client(url_for(*server));
    ASSERT_TRUE(client);
    Err err;
    gj_result *res;
    RowCount all;
    gj_request *req = query("UNWIND range(1, 100000) AS x RETURN x");
    ASSERT_EQ(0, gj_request_set_row_callback(req, count_rows, &all));
    ASSERT_EQ(0, run(client, req, &res, err)) << err.msg();
    EXPECT_EQ(100000, all.rows.load());
    EXPECT_EQ(INT64_C(5000050000), all.sum.load());
    if (res) {
        EXPECT_EQ(0u, gj_result_row_count(res));
    }
    gj_result_free(res);

    RowCount some;
    some.stop_after = 10;
    req = query("UNWIND range(1, 100000) AS x RETURN x");
    ASSERT_EQ(0, gj_request_set_row_callback(req, count_rows, &some));
    EXPECT_EQ(GJ_EABORTED, run(client, req, &res, err));
    EXPECT_EQ(10, some.rows.load());
    gj_result_free(res);

    // The same connection goes on.
    ASSERT_EQ(0, run(client, query("RETURN 7 AS x"), &res, err)) << err.msg();
    EXPECT_EQ(7, int_at(gj_result_row(res, 0), 0));
    gj_result_free(res);
    EXPECT_EQ(1u, server->count_in_log("HELLO from")) << server->log();
}

// A row callback that stops a batched stream ends it with DISCARD: no RESET,
// and the same connection runs the next job.
TEST_F(BoltTest, StoppedStreamIsDiscardedWithoutReset)
{
    start();
    client = make_client(url_for(*server));
    ASSERT_TRUE(client);
    Err err;
    gj_result *res;
    RowCount some;
    some.stop_after = 150;
    gj_request *req = query("UNWIND range(1, 100000) AS x RETURN x");
    ASSERT_EQ(0, gj_request_set_option(req, "fetch_size", gj_value_int(100)));
    ASSERT_EQ(0, gj_request_set_row_callback(req, count_rows, &some));
    EXPECT_EQ(GJ_EABORTED, run(client, req, &res, err));
    EXPECT_EQ(150, some.rows.load()) << "the rest of the second batch is dropped";
    gj_result_free(res);
    ASSERT_EQ(0, run(client, query("RETURN 7 AS x"), &res, err)) << err.msg();
    EXPECT_EQ(7, int_at(gj_result_row(res, 0), 0));
    gj_result_free(res);
    EXPECT_EQ(1u, server->count_in_log("DISCARD n -1")) << server->log();
    EXPECT_EQ(0u, server->count_in_log(": RESET")) << server->log();
    EXPECT_EQ(1u, server->count_in_log("HELLO from")) << server->log();

    // Stopped in the last batch: nothing is left to discard.
    RowCount last;
    last.stop_after = 5;
    req = query("UNWIND range(1, 10) AS x RETURN x");
    ASSERT_EQ(0, gj_request_set_row_callback(req, count_rows, &last));
    EXPECT_EQ(GJ_EABORTED, run(client, req, &res, err));
    EXPECT_EQ(5, last.rows.load());
    EXPECT_EQ(1u, server->count_in_log("DISCARD n -1")) << server->log();
    EXPECT_EQ(0u, server->count_in_log(": RESET")) << server->log();

    // Fetching everything at once: RESET stops the server's stream.
    RowCount all_at_once;
    all_at_once.stop_after = 3;
    req = query("UNWIND range(1, 100000) AS x RETURN x");
    ASSERT_EQ(0, gj_request_set_option(req, "fetch_size", gj_value_int(-1)));
    ASSERT_EQ(0, gj_request_set_row_callback(req, count_rows, &all_at_once));
    EXPECT_EQ(GJ_EABORTED, run(client, req, &res, err));
    EXPECT_EQ(1u, await_log(*server, ": RESET")) << server->log();
    ASSERT_EQ(0, run(client, query("RETURN 8 AS x"), &res, err)) << err.msg();
    gj_result_free(res);
    EXPECT_EQ(1u, server->count_in_log("HELLO from")) << server->log();
}

// Option "discard": RUN + DISCARD, no records, the summary still arrives.
TEST_F(BoltTest, DiscardOptionKeepsOnlyTheSummary)
{
    start();
    client = make_client(url_for(*server));
    ASSERT_TRUE(client);
    Err err;
    gj_result *res;
    gj_request *req = query("CREATE (n:Disc {v: 1}) RETURN n");
    ASSERT_EQ(0, gj_request_set_option(req, "discard", gj_value_bool(true)));
    ASSERT_EQ(0, run(client, req, &res, err)) << err.msg();
    EXPECT_EQ(0u, gj_result_row_count(res));
    EXPECT_EQ(1u, gj_value_size(gj_result_fields(res)));
    const gj_value *stats = gj_value_map_get(gj_result_meta(res), "stats");
    ASSERT_TRUE(stats);
    int64_t created = 0;
    EXPECT_EQ(0, gj_value_int_get(gj_value_map_get(stats, "nodes-created"), &created));
    EXPECT_EQ(1, created);
    EXPECT_TRUE(gj_value_map_get(gj_result_meta(res), "bookmark"));
    gj_result_free(res);
    EXPECT_EQ(1u, server->count_in_log("DISCARD n -1")) << server->log();

    req = query("UNWIND range(1, 50000) AS x RETURN x");
    ASSERT_EQ(0, gj_request_set_option(req, "discard", gj_value_bool(true)));
    ASSERT_EQ(0, run(client, req, &res, err)) << err.msg();
    EXPECT_EQ(0u, gj_result_row_count(res));
    EXPECT_TRUE(gj_value_map_get(gj_result_meta(res), "type"));
    gj_result_free(res);

    // In a transaction every statement is discarded; the commit still counts.
    req = nullptr;
    ASSERT_EQ(0, gj_request_new(&req, "transaction", "CREATE (n:Disc {v: 2}) RETURN n"));
    ASSERT_EQ(0, gj_request_set_option(req, "discard", gj_value_bool(true)));
    ASSERT_EQ(0, run(client, req, &res, err)) << err.msg();
    EXPECT_EQ(0u, gj_result_row_count(res));
    EXPECT_TRUE(gj_value_map_get(gj_result_meta(res), "bookmark"));
    gj_result_free(res);

    ASSERT_EQ(0, run(client, query("MATCH (n:Disc) RETURN n.v AS v"), &res, err)) << err.msg();
    EXPECT_EQ(2u, gj_result_row_count(res));
    gj_result_free(res);

    req = query("RETURN 1 AS x");
    ASSERT_EQ(0, gj_request_set_option(req, "discard", gj_value_int(1)));
    EXPECT_EQ(GJ_EINVAL, run(client, req, &res, err));
    EXPECT_EQ(0u, server->count_in_log(": RESET")) << server->log();
    EXPECT_EQ(1u, server->count_in_log("HELLO from")) << server->log();
}

// Heap in use (glibc: every arena, plus mmapped chunks).
size_t heap_in_use()
{
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define GJ_TEST_OWN_ALLOCATOR 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define GJ_TEST_OWN_ALLOCATOR 1
#endif
#endif

struct MemWatch {
    int64_t rows = 0;
    int64_t out_of_order = 0;
    size_t start = 0, peak = 0;
};

int watch_rows(const gj_value *row, void *payload)
{
    auto *w = static_cast<MemWatch *>(payload);
    int64_t x = 0;
    gj_value_int_get(gj_value_list_at(row, 0), &x);
    if (x != w->rows + 1)
        w->out_of_order++;
    w->rows++;
    if (w->rows == 1000 || w->rows % 10000 == 0) {   // sampled: mallinfo2 walks the arenas
        size_t h = heap_in_use();
        if (w->rows == 1000)
            w->start = h;
        if (h > w->peak)
            w->peak = h;
    }
    return 0;
}

// 10^6 records through a row callback: all arrive, in order, and the
// client's heap does not grow with the row count.
TEST_F(BoltTest, MillionRowsThroughCallback)
{
    start();
    client = make_client(url_for(*server));
    ASSERT_TRUE(client);
    Err err;
    gj_result *res;
    MemWatch w;
    gj_request *req = query("UNWIND range(1, 1000000) AS x RETURN x");
    ASSERT_EQ(0, gj_request_set_row_callback(req, watch_rows, &w));
    ASSERT_EQ(0, run(client, req, &res, err, 120000)) << err.msg();
    EXPECT_EQ(1000000, w.rows);
    EXPECT_EQ(0, w.out_of_order);
    EXPECT_EQ(0u, res ? gj_result_row_count(res) : 0u);
    gj_result_free(res);
#ifndef GJ_TEST_OWN_ALLOCATOR
    EXPECT_GT(w.peak, 0u);
    EXPECT_LT(w.peak - w.start, (size_t)4 << 20)
        << "heap grew from " << w.start << " to " << w.peak << " bytes over 10^6 rows";
#endif
}

TEST_F(BoltTest, SyntaxErrorKeepsServerIdentityAndConnection)
{
    start();
    client = make_client(url_for(*server));
    ASSERT_TRUE(client);
    Err err;
    gj_result *res;
    ASSERT_EQ(GJ_ESERVER, run(client, query("RETRUN 1"), &res, err));
    EXPECT_STREQ("bolt", gj_error_backend(err.e));
    EXPECT_STREQ("Neo.ClientError.Statement.SyntaxError", gj_error_server_code(err.e));
    std::string msg = err.msg();
    EXPECT_NE(std::string::npos, msg.find("127.0.0.1:" + std::to_string(server->port()))) << msg;
    EXPECT_NE(std::string::npos, msg.find("RETRUN")) << msg;
    for (int i = 0; i < 3; i++) {
        ASSERT_EQ(0, run(client, query("RETURN 42 AS x"), &res, err)) << err.msg();
        EXPECT_EQ(42, int_at(gj_result_row(res, 0), 0));
        gj_result_free(res);
    }
    EXPECT_EQ(1u, server->count_in_log("HELLO from")) << server->log();
}

TEST_F(BoltTest, GqlStatusOn57)
{
    start({ "--versions", "5.8" });
    client = make_client(url_for(*server));
    ASSERT_TRUE(client);
    Err err;
    gj_result *res;
    ASSERT_EQ(GJ_ESERVER, run(client, query("RETRUN 1"), &res, err));
    EXPECT_STREQ("Neo.ClientError.Statement.SyntaxError", gj_error_server_code(err.e));
    ASSERT_TRUE(gj_error_gql_status(err.e));
    EXPECT_STREQ("42001", gj_error_gql_status(err.e));
    // The description and the cause chain are kept (extra: the FAILURE's
    // metadata), and the cause is named in the message.
    const gj_value *extra = gj_error_extra(err.e);
    ASSERT_TRUE(extra);
    EXPECT_EQ("error: syntax error or access rule violation - invalid syntax",
              str_of(gj_value_map_get(extra, "description")));
    const gj_value *cause = gj_value_map_get(extra, "cause");
    ASSERT_TRUE(cause);
    EXPECT_EQ("42I06", str_of(gj_value_map_get(cause, "gql_status")));
    EXPECT_NE(std::string::npos, str_of(gj_value_map_get(cause, "description")).find("Invalid input 'RETRUN'"));
    EXPECT_TRUE(gj_value_map_get(extra, "diagnostic_record"));
    std::string msg = err.msg();
    EXPECT_EQ(0u, msg.find("127.0.0.1:" + std::to_string(server->port()) +
                           ": bolt [Neo.ClientError.Statement.SyntaxError, GQL 42001] Invalid input 'RETRUN'"))
        << msg;
    EXPECT_NE(std::string::npos, msg.find("(caused by [GQL 42I06] ")) << msg;
}

// One form for every error: "HOST:PORT: ..." (as the other backends), the
// server's errors "HOST:PORT: bolt [code, GQL status] message".
TEST_F(BoltTest, ErrorTextHasOneForm)
{
    start();
    std::string where = "127.0.0.1:" + std::to_string(server->port()) + ": ";
    client = make_client(url_for(*server));
    ASSERT_TRUE(client);
    Err err;
    gj_result *res;
    ASSERT_EQ(GJ_ESERVER, run(client, query("RETRUN 1"), &res, err));
    EXPECT_EQ(0u, std::string(err.msg()).find(where + "bolt [Neo.ClientError.Statement.SyntaxError")) << err.msg();
    gj_request *r = query("RETURN 1");
    gj_request_set_option(r, "fetch_size", gj_value_int(0));
    ASSERT_EQ(GJ_EINVAL, run(client, r, &res, err));
    EXPECT_EQ(0u, std::string(err.msg()).find(where + "option 'fetch_size'")) << err.msg();
    gj_client_free(client);
    // Connection errors: a wrong password, a server that closes mid-stream.
    client = make_client(url_for(*server, "bolt", "neo4j:wrong"));
    ASSERT_TRUE(client);
    ASSERT_EQ(GJ_EAUTH, run(client, query("RETURN 1"), &res, err));
    EXPECT_NE(std::string::npos, std::string(err.msg()).find(where + "bolt [Neo.ClientError.Security.Unauthorized"))
        << err.msg();
    gj_client_free(client);
    client = nullptr;
    start({ "--fault", "close-mid-stream:after=3" });
    where = "127.0.0.1:" + std::to_string(server->port()) + ": ";
    client = make_client(url_for(*server));
    ASSERT_TRUE(client);
    ASSERT_EQ(GJ_EIO, run(client, query("UNWIND range(1, 100) AS x RETURN x"), &res, err));
    EXPECT_EQ(0u, std::string(err.msg()).find(where)) << err.msg();
    EXPECT_EQ(std::string::npos, std::string(err.msg()).find("bolt " + where)) << err.msg();
}

TEST_F(BoltTest, WrongPasswordIsAuthError)
{
    start();
    client = make_client(url_for(*server, "bolt", "neo4j:wrong"));
    ASSERT_TRUE(client);
    Err err;
    gj_result *res;
    ASSERT_EQ(GJ_EAUTH, run(client, query("RETURN 1 AS x"), &res, err));
    EXPECT_STREQ("Neo.ClientError.Security.Unauthorized", gj_error_server_code(err.e));
    std::string msg = err.msg();
    EXPECT_NE(std::string::npos, msg.find(std::to_string(server->port()))) << msg;
    EXPECT_EQ(std::string::npos, msg.find("wrong")) << "the password leaked: " << msg;
}

TEST_F(BoltTest, WrongPasswordOn50)
{
    start({ "--versions", "5.0" });
    client = make_client(url_for(*server, "bolt", "neo4j:wrong"));
    ASSERT_TRUE(client);
    Err err;
    gj_result *res;
    ASSERT_EQ(GJ_EAUTH, run(client, query("RETURN 1 AS x"), &res, err));
    EXPECT_STREQ("Neo.ClientError.Security.Unauthorized", gj_error_server_code(err.e));
}

TEST_F(BoltTest, CancelSlowQueryReusesConnection)
{
    start();
    client = make_client(url_for(*server));
    ASSERT_TRUE(client);
    Err err;
    gj_request *req = query("CALL apoc.util.sleep(60000)");
    gj_job *job = nullptr;
    ASSERT_EQ(0, gj_client_submit(client, req, nullptr, &job, err.e)) << err.msg();
    gj_request_unref(req);
    auto t0 = std::chrono::steady_clock::now();
    while (!gj_job_started(job) && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5))
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    ASSERT_EQ(0, gj_job_cancel(job, err.e)) << err.msg();
    ASSERT_EQ(0, gj_job_wait(job, 10000, err.e)) << err.msg();
    auto took = std::chrono::steady_clock::now() - t0;
    EXPECT_LT(took, std::chrono::seconds(10));
    gj_job_status st;
    ASSERT_EQ(0, gj_job_get_status(job, &st, err.e));
    EXPECT_EQ(GJ_JOB_CANCELLED, st);
    gj_job_unref(job);

    gj_result *res;
    ASSERT_EQ(0, run(client, query("RETURN 1 AS x"), &res, err)) << err.msg();
    EXPECT_EQ(1, int_at(gj_result_row(res, 0), 0));
    gj_result_free(res);
    EXPECT_EQ(1u, server->count_in_log("HELLO from")) << server->log();
}

TEST_F(BoltTest, CancelDuringLongStream)
{
    start();
    client = make_client(url_for(*server));
    ASSERT_TRUE(client);
    Err err;
    RowCount rc;
    gj_request *req = query("UNWIND range(1, 100000000) AS x RETURN x");
    ASSERT_EQ(0, gj_request_set_row_callback(req, count_rows, &rc));
    gj_job *job = nullptr;
    ASSERT_EQ(0, gj_client_submit(client, req, nullptr, &job, err.e)) << err.msg();
    gj_request_unref(req);
    auto t0 = std::chrono::steady_clock::now();
    while (rc.rows.load() < 5000 && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(10))
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    ASSERT_EQ(0, gj_job_cancel(job, err.e)) << err.msg();
    ASSERT_EQ(0, gj_job_wait(job, 10000, err.e)) << err.msg();
    gj_job_status st;
    ASSERT_EQ(0, gj_job_get_status(job, &st, err.e));
    EXPECT_EQ(GJ_JOB_CANCELLED, st);
    EXPECT_LT(rc.rows.load(), 100000000);
    gj_job_unref(job);
    gj_result *res;
    ASSERT_EQ(0, run(client, query("RETURN 2 AS x"), &res, err)) << err.msg();
    EXPECT_EQ(2, int_at(gj_result_row(res, 0), 0));
    gj_result_free(res);
    EXPECT_EQ(1u, server->count_in_log("HELLO from")) << server->log();
}

TEST_F(BoltTest, ServerClosingMidStreamIsIoErrorAndConnectionDropped)
{
    start({ "--fault", "close-mid-stream:after=500,count=1" });
    client = make_client(url_for(*server));
    ASSERT_TRUE(client);
    Err err;
    gj_result *res;
    ASSERT_EQ(GJ_EIO, run(client, query("UNWIND range(1, 100000) AS x RETURN x"), &res, err));
    std::string msg = err.msg();
    EXPECT_NE(std::string::npos, msg.find("127.0.0.1:" + std::to_string(server->port()))) << msg;
    ASSERT_EQ(0, run(client, query("RETURN 3 AS x"), &res, err)) << err.msg();
    EXPECT_EQ(3, int_at(gj_result_row(res, 0), 0));
    gj_result_free(res);
    EXPECT_EQ(2u, server->count_in_log("HELLO from")) << "a new connection after the broken one";
}

TEST_F(BoltTest, ServerKilledMidQueryIsIoError)
{
    start();
    client = make_client(url_for(*server));
    ASSERT_TRUE(client);
    Err err;
    gj_request *req = query("CALL apoc.util.sleep(60000)");
    gj_job *job = nullptr;
    ASSERT_EQ(0, gj_client_submit(client, req, nullptr, &job, err.e)) << err.msg();
    gj_request_unref(req);
    auto t0 = std::chrono::steady_clock::now();
    while (server->count_in_log("RUN CALL") == 0 && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5))
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    server->kill_now();
    ASSERT_EQ(0, gj_job_wait(job, 10000, err.e)) << err.msg();
    EXPECT_EQ(GJ_EIO, gj_job_result(job, nullptr, err.e)) << err.msg();
    gj_job_unref(job);
}

TEST_F(BoltTest, ResponseTimeoutNamesServer)
{
    start({ "--fault", "stall:on=PULL,count=1" });
    client = make_client(url_for(*server));
    ASSERT_TRUE(client);
    Err err;
    gj_result *res;
    gj_request *req = query("RETURN 1 AS x");
    ASSERT_EQ(0, gj_request_set_timeout(req, 300));
    auto t0 = std::chrono::steady_clock::now();
    ASSERT_EQ(GJ_ETIMEDOUT, run(client, req, &res, err));
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
    std::string msg = err.msg();
    EXPECT_NE(std::string::npos, msg.find("127.0.0.1:" + std::to_string(server->port()))) << msg;
    // The stalled connection was dropped; a new one works.
    ASSERT_EQ(0, run(client, query("RETURN 4 AS x"), &res, err)) << err.msg();
    EXPECT_EQ(4, int_at(gj_result_row(res, 0), 0));
    gj_result_free(res);
    EXPECT_EQ(2u, server->count_in_log("HELLO from"));
}

TEST_F(BoltTest, OptionsReachTheServer)
{
    start();
    client = make_client(url_for(*server));
    ASSERT_TRUE(client);
    Err err;
    gj_result *res;
    gj_request *req = query("RETURN 5 AS x");
    ASSERT_EQ(0, gj_request_set_option(req, "mode", gj_value_string("r")));
    ASSERT_EQ(0, gj_request_set_option(req, "tx_timeout", gj_value_int(5000)));
    ASSERT_EQ(0, run(client, req, &res, err)) << err.msg();
    EXPECT_EQ(5, int_at(gj_result_row(res, 0), 0));
    gj_result_free(res);

    req = query("RETURN 5 AS x");
    ASSERT_EQ(0, gj_request_set_option(req, "no_such_option", gj_value_int(1)));
    ASSERT_EQ(GJ_EINVAL, run(client, req, &res, err));
    EXPECT_NE(std::string::npos, std::string(err.msg()).find("no_such_option")) << err.msg();
    req = query("RETURN 5 AS x");
    ASSERT_EQ(0, gj_request_set_option(req, "mode", gj_value_string("sideways")));
    ASSERT_EQ(GJ_EINVAL, run(client, req, &res, err));
    // Nothing was sent: the connection is still the first one.
    ASSERT_EQ(0, run(client, query("RETURN 6 AS x"), &res, err)) << err.msg();
    gj_result_free(res);
    EXPECT_EQ(1u, server->count_in_log("HELLO from"));
}

// ---- neo4j:// routing -----------------------------------------------------------

TEST_F(BoltTest, RoutingOnOneServer)
{
    start();
    client = make_client(url_for(*server, "neo4j"));
    ASSERT_TRUE(client);
    Err err;
    gj_result *res;
    ASSERT_EQ(0, run(client, query("CREATE (n:R {v: 1}) RETURN n.v AS v"), &res, err)) << err.msg();
    EXPECT_EQ(1, int_at(gj_result_row(res, 0), 0));
    gj_result_free(res);
    gj_request *req = query("MATCH (n:R) RETURN n.v AS v");
    ASSERT_EQ(0, gj_request_set_option(req, "mode", gj_value_string("r")));
    ASSERT_EQ(0, run(client, req, &res, err)) << err.msg();
    EXPECT_EQ(1u, gj_result_row_count(res));
    gj_result_free(res);
    // The seed is router, reader and writer: one session.
    EXPECT_EQ(1u, server->count_in_log("HELLO from")) << server->log();
}

TEST_F(BoltTest, RoutingOn44)
{
    start({ "--versions", "4.4", "--members", "2" }, 2);
    client = make_client(url_for(*server, "neo4j"));
    ASSERT_TRUE(client);
    Err err;
    gj_result *res;
    ASSERT_EQ(0, run(client, query("CREATE (n:R44) RETURN 1 AS one"), &res, err)) << err.msg();
    gj_result_free(res);
    gj_request *req = query("MATCH (n:R44) RETURN count(n) AS c");
    ASSERT_EQ(0, gj_request_set_option(req, "mode", gj_value_string("r")));
    ASSERT_EQ(0, run(client, req, &res, err)) << err.msg();
    EXPECT_EQ(1, int_at(gj_result_row(res, 0), 0));
    gj_result_free(res);
    EXPECT_EQ(2u, server->count_in_log("(Bolt 4.4")) << server->log();
}

TEST_F(BoltTest, RoutingWritesToWriterReadsFromReaders)
{
    start({ "--members", "3" }, 3);
    client = make_client(url_for(*server, "neo4j"));
    ASSERT_TRUE(client);
    Err err;
    gj_result *res;
    // Only member 0 takes writes; the others answer NotALeader.
    for (int i = 0; i < 3; i++) {
        ASSERT_EQ(0, run(client, query("CREATE (n:C {v: 7})"), &res, err)) << err.msg();
        gj_result_free(res);
    }
    EXPECT_EQ(0u, server->count_in_log("NotALeader")) << server->log();
    for (int i = 0; i < 4; i++) {
        gj_request *req = query("MATCH (n:C) RETURN n.v AS v");
        ASSERT_EQ(0, gj_request_set_option(req, "mode", gj_value_string("r")));
        ASSERT_EQ(0, run(client, req, &res, err)) << err.msg();
        EXPECT_EQ(3u, gj_result_row_count(res));
        gj_result_free(res);
    }
    // Member 0 (seed, router, writer) and both readers (round robin).
    EXPECT_EQ(3u, server->count_in_log("HELLO from")) << server->log();
}

TEST_F(BoltTest, RoutingSkipsUnreachableReader)
{
    start({ "--route", "self", "--write", "self", "--read", "127.0.0.1:1,self" });
    client = make_client(url_for(*server, "neo4j"));
    ASSERT_TRUE(client);
    Err err;
    gj_result *res;
    for (int i = 0; i < 3; i++) {
        gj_request *req = query("RETURN 1 AS x");
        ASSERT_EQ(0, gj_request_set_option(req, "mode", gj_value_string("r")));
        ASSERT_EQ(0, run(client, req, &res, err)) << err.msg();
        gj_result_free(res);
    }
}

TEST_F(BoltTest, RoutingRetriesRefusedWriteOnce)
{
    start({ "--read-only" });
    client = make_client(url_for(*server, "neo4j"));
    ASSERT_TRUE(client);
    Err err;
    gj_result *res;
    ASSERT_EQ(GJ_ESERVER, run(client, query("CREATE (n:X)"), &res, err));
    EXPECT_STREQ("Neo.ClientError.Cluster.NotALeader", gj_error_server_code(err.e));
    EXPECT_EQ(2u, server->count_in_log("FAILURE Neo.ClientError.Cluster.NotALeader")) << server->log();
    ASSERT_EQ(0, run(client, query("RETURN 1 AS x"), &res, err)) << err.msg();
    gj_result_free(res);
}

TEST_F(BoltTest, RoutingCancel)
{
    start({ "--members", "2" }, 2);
    client = make_client(url_for(*server, "neo4j"));
    ASSERT_TRUE(client);
    Err err;
    gj_request *req = query("CALL apoc.util.sleep(60000)");
    ASSERT_EQ(0, gj_request_set_option(req, "mode", gj_value_string("r")));
    gj_job *job = nullptr;
    ASSERT_EQ(0, gj_client_submit(client, req, nullptr, &job, err.e)) << err.msg();
    gj_request_unref(req);
    auto t0 = std::chrono::steady_clock::now();
    while (server->count_in_log("RUN CALL") == 0 && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5))
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    ASSERT_EQ(0, gj_job_cancel(job, err.e)) << err.msg();
    ASSERT_EQ(0, gj_job_wait(job, 10000, err.e)) << err.msg();
    gj_job_status st;
    ASSERT_EQ(0, gj_job_get_status(job, &st, err.e));
    EXPECT_EQ(GJ_JOB_CANCELLED, st);
    gj_job_unref(job);
    gj_result *res;
    req = query("RETURN 1 AS x");
    ASSERT_EQ(0, gj_request_set_option(req, "mode", gj_value_string("r")));
    ASSERT_EQ(0, run(client, req, &res, err)) << err.msg();
    gj_result_free(res);
    EXPECT_EQ(2u, server->count_in_log("HELLO from")) << "the reader's session was reused";
}

TEST_F(BoltTest, RoutingWrongPassword)
{
    start();
    client = make_client(url_for(*server, "neo4j", "neo4j:wrong"));
    ASSERT_TRUE(client);
    Err err;
    gj_result *res;
    ASSERT_EQ(GJ_EAUTH, run(client, query("RETURN 1 AS x"), &res, err));
    EXPECT_STREQ("Neo.ClientError.Security.Unauthorized", gj_error_server_code(err.e));
}

gj_request *query_on(const char *text, const char *db, bool read = false)
{
    gj_request *r = query(text);
    if (db) {
        EXPECT_EQ(0, gj_request_set_database(r, db));
    }
    if (read) {
        EXPECT_EQ(0, gj_request_set_option(r, "mode", gj_value_string("r")));
    }
    return r;
}

// One routing table per database, each with its own time to live; a
// request without a database uses the home database's table.
TEST_F(BoltTest, RoutingTablePerDatabase)
{
    start();   // ttl 300 s
    client = make_client(url_for(*server, "neo4j"));
    ASSERT_TRUE(client);
    Err err;
    gj_result *res;
    for (int i = 0; i < 3; i++) {
        ASSERT_EQ(0, run(client, query_on("RETURN 1 AS x", "neo4j", true), &res, err)) << err.msg();
        gj_result_free(res);
        ASSERT_EQ(0, run(client, query_on("RETURN 2 AS x", "system", true), &res, err)) << err.msg();
        gj_result_free(res);
        ASSERT_EQ(0, run(client, query_on("RETURN 3 AS x", nullptr), &res, err)) << err.msg();
        gj_result_free(res);
    }
    // Once for the home database (at connect: ROUTE without a database
    // answered rt.db "neo4j"), once for system.
    EXPECT_EQ(2u, server->count_in_log(": ROUTE db")) << server->log();
    EXPECT_EQ(1u, server->count_in_log(": ROUTE db ''")) << server->log();
    EXPECT_EQ(1u, server->count_in_log(": ROUTE db 'system'")) << server->log();
    EXPECT_EQ(0u, server->count_in_log(": ROUTE db 'neo4j'")) << server->log();
}

TEST_F(BoltTest, RoutingTablesExpireOnTheirOwn)
{
    start({ "--ttl", "1" });
    client = make_client(url_for(*server, "neo4j"));
    ASSERT_TRUE(client);
    Err err;
    gj_result *res;
    ASSERT_EQ(0, run(client, query_on("RETURN 1 AS x", "system"), &res, err)) << err.msg();
    gj_result_free(res);
    ASSERT_EQ(0, run(client, query_on("RETURN 1 AS x", "neo4j"), &res, err)) << err.msg();
    gj_result_free(res);
    ASSERT_EQ(0, run(client, query_on("RETURN 1 AS x", "system"), &res, err)) << err.msg();
    gj_result_free(res);
    EXPECT_EQ(2u, server->count_in_log(": ROUTE db")) << server->log();
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
    ASSERT_EQ(0, run(client, query_on("RETURN 1 AS x", "neo4j"), &res, err)) << err.msg();
    gj_result_free(res);
    EXPECT_EQ(1u, server->count_in_log(": ROUTE db 'neo4j'")) << server->log();
    EXPECT_EQ(1u, server->count_in_log(": ROUTE db 'system'")) << server->log();
    ASSERT_EQ(0, run(client, query_on("RETURN 1 AS x", "system"), &res, err)) << err.msg();
    gj_result_free(res);
    EXPECT_EQ(2u, server->count_in_log(": ROUTE db 'system'")) << server->log();
    ASSERT_EQ(0, run(client, query_on("RETURN 1 AS x", "neo4j"), &res, err)) << err.msg();
    gj_result_free(res);
    EXPECT_EQ(4u, server->count_in_log(": ROUTE db")) << server->log();
}

// At most 16 tables: the least recently used one goes.
TEST_F(BoltTest, RoutingTablesEvictLeastRecentlyUsed)
{
    start({ "--any-db" });
    client = make_client(url_for(*server, "neo4j"));
    ASSERT_TRUE(client);
    Err err;
    gj_result *res;
    auto on = [&](const std::string &db) {
        ASSERT_EQ(0, run(client, query_on("RETURN 1 AS x", db.c_str(), true), &res, err)) << db << ": " << err.msg();
        gj_result_free(res);
    };
    auto routes = [&](const std::string &db) { return server->count_in_log(": ROUTE db '" + db + "'"); };
    // The home database's table (from connect) and db0..db14: 16 tables.
    for (int i = 0; i < 15; i++)
        on("db" + std::to_string(i));
    on("neo4j");   // home: no ROUTE, and now the most recent
    EXPECT_EQ(0u, routes("neo4j"));
    on("db15");    // evicts db0, the least recently used
    on("db1");     // still there
    EXPECT_EQ(1u, routes("db1"));
    on("db0");     // evicted: routed again (evicting db2)
    EXPECT_EQ(2u, routes("db0")) << server->log();
    on("db3");
    EXPECT_EQ(1u, routes("db3"));
    on("db2");
    EXPECT_EQ(2u, routes("db2")) << server->log();
    on("neo4j");
    EXPECT_EQ(0u, routes("neo4j")) << server->log();
}

// The home database is kept per impersonated user too.
TEST_F(BoltTest, RoutingHomeDatabasePerImpersonatedUser)
{
    start({ "--add-user", "alice:secret" });
    client = make_client(url_for(*server, "neo4j"));
    ASSERT_TRUE(client);
    Err err;
    gj_result *res;
    for (int i = 0; i < 3; i++) {
        gj_request *req = query("RETURN 1 AS x");
        ASSERT_EQ(0, gj_request_set_option(req, "imp_user", gj_value_string("alice")));
        ASSERT_EQ(0, run(client, req, &res, err)) << err.msg();
        gj_result_free(res);
        ASSERT_EQ(0, run(client, query("RETURN 2 AS x"), &res, err)) << err.msg();
        gj_result_free(res);
    }
    // At connect for the target's user, once for alice.
    EXPECT_EQ(2u, server->count_in_log(": ROUTE db ''")) << server->log();
    EXPECT_EQ(2u, server->count_in_log(": ROUTE db")) << server->log();
}

// A refserver with --control: its stdin is a pipe the test writes commands
// to (fd 0 is the pipe while the server is spawned, so it inherits it).
class ControlledServer {
public:
    ControlledServer(std::vector<std::string> extra, int ports)
    {
        int p[2];
        if (pipe2(p, O_CLOEXEC) != 0)
            return;
        int saved = dup(0);
        dup2(p[0], 0);   // not close-on-exec: the child gets it as stdin
        extra.push_back("--control");
        proc.reset(new ServerProcess(server_path(), args_with(extra), ports));
        dup2(saved, 0);
        close(saved);
        close(p[0]);
        cmd_fd = p[1];
    }
    ~ControlledServer()
    {
        if (cmd_fd >= 0)
            close(cmd_fd);
    }
    bool ok() const { return proc && proc->ok() && cmd_fd >= 0; }
    // "stop-member N" / "start-member N"; waits until the server logged it.
    bool command(const std::string &verb, int member)
    {
        std::string line = verb + " " + std::to_string(member) + "\n";
        std::string done = "member " + std::to_string(member) + (verb == "stop-member" ? " stopped" : " started");
        size_t before = proc->count_in_log(done);
        if (write(cmd_fd, line.data(), line.size()) != (ssize_t)line.size())
            return false;
        auto t0 = std::chrono::steady_clock::now();
        while (proc->count_in_log(done) == before) {
            if (std::chrono::steady_clock::now() - t0 > std::chrono::seconds(5))
                return false;
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
        return true;
    }
    std::unique_ptr<ServerProcess> proc;
    int cmd_fd = -1;
};

struct JobOutcome {
    int done_ok = 0, failed = 0, cancelled = 0, pending = 0;
    std::vector<std::string> errors;
};

// Wait for every job; each ends in exactly one state.
JobOutcome collect(std::vector<gj_job *> &jobs, size_t want_rows)
{
    JobOutcome o;
    Err err;
    for (gj_job *job : jobs) {
        EXPECT_EQ(0, gj_job_wait(job, 30000, err.e)) << err.msg();
        gj_job_status st;
        EXPECT_EQ(0, gj_job_get_status(job, &st, err.e));
        gj_result *res = nullptr;
        if (st == GJ_JOB_PENDING) {
            o.pending++;
        } else if (st == GJ_JOB_CANCELLED) {
            o.cancelled++;
        } else if (gj_job_result(job, &res, err.e) == 0) {
            EXPECT_EQ(want_rows, gj_result_row_count(res));
            o.done_ok++;
        } else {
            o.failed++;
            o.errors.push_back(err.msg());
        }
        gj_result_free(res);
        gj_job_unref(job);
    }
    jobs.clear();
    return o;
}

// Three members on loopback: member 0 writes, 1 and 2 read, all route.
// A reader dies while reads run: later reads go to the other reader and
// none is lost.  The writer dies: writes fail naming it, reads go on; it
// comes back: writes work again.
TEST(BoltFailover, ReaderThenWriterDies)
{
    ControlledServer srv({ "--members", "3" }, 3);
    ASSERT_TRUE(srv.ok()) << (srv.proc ? srv.proc->error() : "pipe");
    Err err;
    gj_config *cfg = nullptr;
    ASSERT_EQ(0, gj_config_from_url(&cfg, ("neo4j://neo4j:password@127.0.0.1:" +
                                           std::to_string(srv.proc->port(0))).c_str(), err.e));
    ASSERT_EQ(0, gj_config_set_int(cfg, nullptr, "workers", 4, err.e));
    ASSERT_EQ(0, gj_config_set_int(cfg, "default", "max_conns", 4, err.e));
    gj_client *client = nullptr;
    ASSERT_EQ(0, gj_client_new(&client, cfg, err.e)) << err.msg();
    gj_config_free(cfg);
    gj_result *res;
    ASSERT_EQ(0, run(client, query("CREATE (n:F {v: 1})"), &res, err)) << err.msg();
    gj_result_free(res);

    std::vector<gj_job *> jobs;
    auto submit_reads = [&](int n) {
        for (int i = 0; i < n; i++) {
            gj_request *req = query_on("UNWIND range(1, 2000) AS x RETURN x", nullptr, true);
            gj_job *job = nullptr;
            ASSERT_EQ(0, gj_client_submit(client, req, nullptr, &job, err.e)) << err.msg();
            gj_request_unref(req);
            jobs.push_back(job);
        }
    };
    submit_reads(150);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    int finished_before = 0;
    for (gj_job *job : jobs) {
        gj_job_status st;
        gj_job_get_status(job, &st, err.e);
        finished_before += st != GJ_JOB_PENDING;
    }
    ASSERT_TRUE(srv.command("stop-member", 2));
    submit_reads(150);
    JobOutcome o = collect(jobs, 2000);
    std::cout << "[ info     ] reader stopped after " << finished_before << " of 150 reads; then " << o.done_ok
              << " succeeded, " << o.failed << " failed" << (o.errors.empty() ? "" : ": " + o.errors[0]) << "\n";
    EXPECT_EQ(0, o.pending);
    EXPECT_EQ(0, o.cancelled);
    EXPECT_EQ(300, o.done_ok + o.failed);
    // Only a read the dying member had begun answering may fail (at most
    // one per connection), and then it names that member.
    EXPECT_LE(o.failed, 4);
    std::string dead2 = "127.0.0.1:" + std::to_string(srv.proc->port(2));
    for (const auto &e : o.errors)
        EXPECT_NE(std::string::npos, e.find(dead2)) << e;
    // Every read after the stop succeeds.
    submit_reads(100);
    o = collect(jobs, 2000);
    EXPECT_EQ(100, o.done_ok) << (o.errors.empty() ? "" : o.errors[0]);

    // The writer dies: writes fail with an error naming it; reads go on.
    ASSERT_TRUE(srv.command("stop-member", 0));
    std::string dead0 = "127.0.0.1:" + std::to_string(srv.proc->port(0));
    for (int i = 0; i < 3; i++) {
        int rc = run(client, query("CREATE (n:F {v: 2})"), &res, err);
        EXPECT_EQ(GJ_ECONNECT, rc) << err.msg();
        EXPECT_NE(std::string::npos, std::string(err.msg()).find(dead0)) << err.msg();
        EXPECT_NE(std::string::npos, std::string(err.msg()).find("writer")) << err.msg();
    }
    submit_reads(50);
    o = collect(jobs, 2000);
    EXPECT_EQ(50, o.done_ok) << (o.errors.empty() ? "" : o.errors[0]);

    // It comes back: the next write finds it through a fresh routing table.
    ASSERT_TRUE(srv.command("start-member", 0));
    ASSERT_EQ(0, run(client, query("CREATE (n:F {v: 3})"), &res, err)) << err.msg();
    gj_result_free(res);
    ASSERT_EQ(0, run(client, query_on("MATCH (n:F) RETURN n.v AS v", nullptr, true), &res, err)) << err.msg();
    EXPECT_EQ(2u, gj_result_row_count(res));
    gj_result_free(res);
    gj_client_free(client);
}

// A write running when the writer dies: it may have had effects, so it is
// not run elsewhere; the job fails at once naming the member.
TEST(BoltFailover, WriterDiesMidWrite)
{
    ControlledServer srv({ "--members", "3" }, 3);
    ASSERT_TRUE(srv.ok()) << (srv.proc ? srv.proc->error() : "pipe");
    gj_client *client = make_client("neo4j://neo4j:password@127.0.0.1:" + std::to_string(srv.proc->port(0)));
    ASSERT_TRUE(client);
    Err err;
    gj_result *res;
    ASSERT_EQ(0, run(client, query("CREATE (n:W {v: 1})"), &res, err)) << err.msg();
    gj_result_free(res);
    gj_request *req = query("CALL apoc.util.sleep(5000)");
    gj_job *job = nullptr;
    ASSERT_EQ(0, gj_client_submit(client, req, nullptr, &job, err.e)) << err.msg();
    gj_request_unref(req);
    auto t0 = std::chrono::steady_clock::now();
    while (srv.proc->count_in_log("RUN CALL") == 0 && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5))
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    ASSERT_TRUE(srv.command("stop-member", 0));
    ASSERT_EQ(0, gj_job_wait(job, 10000, err.e)) << err.msg();
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(4)) << "not waiting for the sleep";
    gj_job_status st;
    ASSERT_EQ(0, gj_job_get_status(job, &st, err.e));
    EXPECT_EQ(GJ_JOB_DONE, st);
    EXPECT_EQ(GJ_EIO, gj_job_result(job, &res, err.e));
    std::string dead0 = "127.0.0.1:" + std::to_string(srv.proc->port(0));
    EXPECT_NE(std::string::npos, std::string(err.msg()).find(dead0)) << err.msg();
    gj_job_unref(job);
    EXPECT_EQ(1u, srv.proc->count_in_log("RUN CALL")) << "not run again elsewhere";
    // Back: the next write gets a fresh routing table and the writer.
    ASSERT_TRUE(srv.command("start-member", 0));
    ASSERT_EQ(0, run(client, query("CREATE (n:W {v: 2})"), &res, err)) << err.msg();
    gj_result_free(res);
    gj_client_free(client);
}

gj_request *as_user(const char *text, const char *user, const char *password)
{
    gj_request *r = query(text);
    EXPECT_EQ(0, gj_request_set_option(r, "auth_user", gj_value_string(user)));
    EXPECT_EQ(0, gj_request_set_option(r, "auth_password", gj_value_string(password)));
    return r;
}

// bolt://: a pooled connection the server closed while idle is opened again
// before the request is sent, so the job does not fail; when the server is
// gone the job fails saying so.
TEST(BoltReconnect, IdleConnectionClosedByTheServer)
{
    ControlledServer srv({ "--add-user", "alice:secret" }, 1);
    ASSERT_TRUE(srv.ok()) << (srv.proc ? srv.proc->error() : "pipe");
    gj_client *client = make_client("bolt://neo4j:password@127.0.0.1:" + std::to_string(srv.proc->port(0)));
    ASSERT_TRUE(client);
    Err err;
    gj_result *res;
    ASSERT_EQ(0, run(client, as_user("RETURN 1 AS x", "alice", "secret"), &res, err)) << err.msg();
    gj_result_free(res);
    ASSERT_TRUE(srv.command("stop-member", 0));
    ASSERT_TRUE(srv.command("start-member", 0));
    // The new session logs in as the target's user, then switches to alice.
    ASSERT_EQ(0, run(client, as_user("RETURN 2 AS x", "alice", "secret"), &res, err)) << err.msg();
    EXPECT_EQ(2, int_at(gj_result_row(res, 0), 0));
    gj_result_free(res);
    EXPECT_EQ(2u, srv.proc->count_in_log("HELLO from")) << srv.proc->log();
    EXPECT_EQ(2u, srv.proc->count_in_log("LOGON as 'alice'")) << srv.proc->log();
    ASSERT_EQ(0, run(client, query("RETURN 3 AS x"), &res, err)) << err.msg();
    gj_result_free(res);
    EXPECT_EQ(2u, srv.proc->count_in_log("HELLO from")) << srv.proc->log();

    ASSERT_TRUE(srv.command("stop-member", 0));
    EXPECT_EQ(GJ_ECONNECT, run(client, query("RETURN 4 AS x"), &res, err)) << err.msg();
    EXPECT_NE(std::string::npos, std::string(err.msg()).find("closed the idle connection")) << err.msg();
    gj_client_free(client);
}

// Per-request credentials on 5.1+: LOGOFF + LOGON ahead of the query when
// the pooled connection is someone else; it keeps that identity.
TEST_F(BoltTest, PerRequestAuthReauthenticates)
{
    start({ "--add-user", "alice:secret", "--bearer", "tok-123" });
    client = make_client(url_for(*server));
    ASSERT_TRUE(client);
    Err err;
    gj_result *res;
    ASSERT_EQ(0, run(client, query("RETURN 1 AS x"), &res, err)) << err.msg();
    gj_result_free(res);
    EXPECT_EQ(1u, server->count_in_log("LOGON as 'neo4j'")) << server->log();
    ASSERT_EQ(0, run(client, as_user("RETURN 2 AS x", "alice", "secret"), &res, err)) << err.msg();
    EXPECT_EQ(2, int_at(gj_result_row(res, 0), 0));
    gj_result_free(res);
    EXPECT_EQ(1u, server->count_in_log(": LOGOFF")) << server->log();
    EXPECT_EQ(1u, server->count_in_log("LOGON as 'alice'")) << server->log();
    // Alice again: nothing to switch.
    ASSERT_EQ(0, run(client, as_user("RETURN 3 AS x", "alice", "secret"), &res, err)) << err.msg();
    gj_result_free(res);
    EXPECT_EQ(1u, server->count_in_log(": LOGOFF")) << server->log();
    // No credentials: back to the target's user.
    ASSERT_EQ(0, run(client, query("RETURN 4 AS x"), &res, err)) << err.msg();
    gj_result_free(res);
    EXPECT_EQ(2u, server->count_in_log(": LOGOFF")) << server->log();
    EXPECT_EQ(2u, server->count_in_log("LOGON as 'neo4j'")) << server->log();
    // A bearer token, in a transaction.
    gj_request *req = nullptr;
    ASSERT_EQ(0, gj_request_new(&req, "transaction", "RETURN 5 AS x"));
    ASSERT_EQ(0, gj_request_set_option(req, "auth_token", gj_value_string("tok-123")));
    ASSERT_EQ(0, run(client, req, &res, err)) << err.msg();
    EXPECT_EQ(5, int_at(gj_result_row(res, 0), 0));
    gj_result_free(res);
    EXPECT_EQ(1u, server->count_in_log("LOGON as 'bearer'")) << server->log();
    // A query that fails after the switch: the connection is RESET and keeps alice.
    ASSERT_EQ(0, run(client, as_user("RETURN 6 AS x", "alice", "secret"), &res, err)) << err.msg();
    gj_result_free(res);
    EXPECT_EQ(GJ_ESERVER, run(client, as_user("RETRUN 6", "alice", "secret"), &res, err));
    ASSERT_EQ(0, run(client, as_user("RETURN 7 AS x", "alice", "secret"), &res, err)) << err.msg();
    gj_result_free(res);
    EXPECT_EQ(2u, server->count_in_log("LOGON as 'alice'")) << server->log();
    EXPECT_EQ(1u, server->count_in_log("HELLO from")) << server->log();
    // The password never reaches the log.
    EXPECT_EQ(0u, server->count_in_log("secret")) << server->log();

    // Wrong password: GJ_EAUTH with the server's message; the server closes
    // and the next job gets a new connection.
    EXPECT_EQ(GJ_EAUTH, run(client, as_user("RETURN 8 AS x", "alice", "nope"), &res, err));
    EXPECT_STREQ("Neo.ClientError.Security.Unauthorized", gj_error_server_code(err.e));
    EXPECT_NE(std::string::npos, std::string(err.msg()).find("unauthorized")) << err.msg();
    EXPECT_EQ(0u, server->count_in_log("RUN RETURN 8")) << "the query after a refused LOGON is not run";
    ASSERT_EQ(0, run(client, query("RETURN 9 AS x"), &res, err)) << err.msg();
    gj_result_free(res);
    EXPECT_EQ(2u, server->count_in_log("HELLO from")) << server->log();

    // A scheme that does not exist.
    req = query("RETURN 1 AS x");
    ASSERT_EQ(0, gj_request_set_option(req, "auth_scheme", gj_value_string("kerberos")));
    EXPECT_EQ(GJ_EINVAL, run(client, req, &res, err));
    EXPECT_NE(std::string::npos, std::string(err.msg()).find("kerberos")) << err.msg();
}

// Before Bolt 5.1 there is no LOGOFF: per-request credentials other than the
// connection's are refused before anything is sent.
TEST_F(BoltTest, PerRequestAuthNeeds51)
{
    for (const char *version : { "4.4", "5.0" }) {
        start({ "--versions", version, "--add-user", "alice:secret" });
        client = make_client(url_for(*server));
        ASSERT_TRUE(client);
        Err err;
        gj_result *res;
        EXPECT_EQ(GJ_EUNSUPPORTED, run(client, as_user("RETURN 1 AS x", "alice", "secret"), &res, err)) << version;
        EXPECT_NE(std::string::npos, std::string(err.msg()).find("Bolt 5.1")) << err.msg();
        // The target's own credentials are what the connection has: fine.
        ASSERT_EQ(0, run(client, as_user("RETURN 2 AS x", "neo4j", "password"), &res, err)) << err.msg();
        gj_result_free(res);
        ASSERT_EQ(0, run(client, query("RETURN 3 AS x"), &res, err)) << err.msg();
        gj_result_free(res);
        EXPECT_EQ(1u, server->count_in_log("HELLO from")) << server->log();
        gj_client_free(client);
        client = nullptr;
    }
}

// The warnings of the summary: GQL statuses from 5.6, notifications before.
size_t warnings(const gj_result *res)
{
    const gj_value *meta = gj_result_meta(res);
    const gj_value *l = gj_value_map_get(meta, "statuses");
    if (!l)
        l = gj_value_map_get(meta, "notifications");
    return l ? gj_value_size(l) : 0;
}

// Runs the query that yields an unknown-label warning with the given option
// (key NULL = none); returns how many warnings came back (-1 on error).
int warnings_with(gj_client *client, const char *op, const char *key, gj_value *value, Err &err)
{
    gj_request *req = nullptr;
    EXPECT_EQ(0, gj_request_new(&req, op, "MATCH (n:NoSuchLabel) RETURN n"));
    if (key) {
        EXPECT_EQ(0, gj_request_set_option(req, key, value));
    }
    gj_result *res = nullptr;
    int rc = run(client, req, &res, err);
    if (rc != 0)
        return -1;
    int n = (int)warnings(res);
    gj_result_free(res);
    return n;
}

gj_value *str_list(std::initializer_list<const char *> items)
{
    gj_value *l = nullptr;
    EXPECT_EQ(0, gj_value_new_list(&l, items.size()));
    for (const char *i : items)
        EXPECT_EQ(0, gj_value_list_append(l, gj_value_string(i)));
    return l;
}

TEST_F(BoltTest, NotificationFiltersPerRequest)
{
    // 5.8 says classifications, 5.4 categories: the server honours only the
    // key of its version.
    for (const char *version : { "5.8", "5.4" }) {
        start({ "--versions", version });
        client = make_client(url_for(*server));
        ASSERT_TRUE(client);
        Err err;
        EXPECT_EQ(1, warnings_with(client, GJ_OP_QUERY, nullptr, nullptr, err)) << err.msg();
        EXPECT_EQ(0, warnings_with(client, GJ_OP_QUERY, "notifications_minimum_severity", gj_value_string("OFF"), err))
            << err.msg();
        EXPECT_EQ(1, warnings_with(client, GJ_OP_QUERY, "notifications_minimum_severity",
                                   gj_value_string("warning"), err)) << err.msg();
        EXPECT_EQ(0, warnings_with(client, GJ_OP_QUERY, "notifications_disabled_classifications",
                                   str_list({ "UNRECOGNIZED" }), err)) << version << ": " << err.msg();
        EXPECT_EQ(0, warnings_with(client, GJ_OP_QUERY, "notifications_disabled_classifications",
                                   gj_value_string("hint, unrecognized"), err)) << err.msg();
        EXPECT_EQ(1, warnings_with(client, GJ_OP_QUERY, "notifications_disabled_categories",
                                   str_list({ "DEPRECATION" }), err)) << err.msg();
        // In a transaction the filter goes with BEGIN.
        EXPECT_EQ(0, warnings_with(client, "transaction", "notifications_minimum_severity", gj_value_string("OFF"),
                                   err)) << err.msg();
        EXPECT_EQ(1, warnings_with(client, "transaction", nullptr, nullptr, err)) << err.msg();
        // Bad values are refused before anything is sent.
        EXPECT_EQ(-1, warnings_with(client, GJ_OP_QUERY, "notifications_minimum_severity", gj_value_string("LOUD"),
                                    err));
        EXPECT_EQ(GJ_EINVAL, gj_error_code(err.e));
        EXPECT_NE(std::string::npos, std::string(err.msg()).find("notifications_minimum_severity")) << err.msg();
        EXPECT_EQ(-1, warnings_with(client, GJ_OP_QUERY, "notifications_disabled_classifications", gj_value_int(3),
                                    err));
        EXPECT_EQ(GJ_EINVAL, gj_error_code(err.e));
        EXPECT_EQ(1u, server->count_in_log("HELLO from")) << server->log();
        gj_client_free(client);
        client = nullptr;
    }
}

gj_client *client_with_options(const std::string &url, gj_value *opts, Err &err)
{
    gj_config *cfg = nullptr;
    EXPECT_EQ(0, gj_config_from_url(&cfg, url.c_str(), err.e));
    EXPECT_EQ(0, gj_config_set_int(cfg, "default", "max_conns", 1, err.e));
    EXPECT_EQ(0, gj_config_set_value(cfg, "default", "options", opts, err.e)) << err.msg();
    gj_client *c = nullptr;
    EXPECT_EQ(0, gj_client_new(&c, cfg, err.e)) << err.msg();
    gj_config_free(cfg);
    return c;
}

TEST_F(BoltTest, NotificationFiltersOfTheTarget)
{
    start();
    gj_value *opts = nullptr;
    ASSERT_EQ(0, gj_value_new_map(&opts, 1));
    ASSERT_EQ(0, gj_value_map_put_str(opts, "notifications_minimum_severity", gj_value_string("OFF")));
    Err err;
    client = client_with_options(url_for(*server), opts, err);
    ASSERT_TRUE(client);
    EXPECT_EQ(0, warnings_with(client, GJ_OP_QUERY, nullptr, nullptr, err)) << err.msg();
    // A request's own filter wins over the connection's.
    EXPECT_EQ(1, warnings_with(client, GJ_OP_QUERY, "notifications_minimum_severity", gj_value_string("WARNING"),
                               err)) << err.msg();
    gj_client_free(client);
    client = nullptr;
    gj_value_unref(opts);

    ASSERT_EQ(0, gj_value_new_map(&opts, 1));
    ASSERT_EQ(0, gj_value_map_put_str(opts, "notifications_disabled_classifications",
                                      gj_value_string("UNRECOGNIZED")));
    client = client_with_options(url_for(*server), opts, err);
    ASSERT_TRUE(client);
    EXPECT_EQ(0, warnings_with(client, GJ_OP_QUERY, nullptr, nullptr, err)) << err.msg();
    gj_client_free(client);
    client = nullptr;
    gj_value_unref(opts);
}

// Before 5.2 there are no notification filters: like the Neo4j drivers,
// asking for one is an error (not silently ignored).
TEST_F(BoltTest, NotificationFiltersNeed52)
{
    start({ "--versions", "5.1,4.4" });
    client = make_client(url_for(*server));
    ASSERT_TRUE(client);
    Err err;
    EXPECT_EQ(-1, warnings_with(client, GJ_OP_QUERY, "notifications_minimum_severity", gj_value_string("OFF"), err));
    EXPECT_EQ(GJ_EUNSUPPORTED, gj_error_code(err.e));
    EXPECT_NE(std::string::npos, std::string(err.msg()).find("Bolt 5.2")) << err.msg();
    EXPECT_EQ(1, warnings_with(client, GJ_OP_QUERY, nullptr, nullptr, err)) << err.msg();
    EXPECT_EQ(1u, server->count_in_log("HELLO from")) << server->log();
    gj_client_free(client);
    client = nullptr;

    gj_value *opts = nullptr;
    ASSERT_EQ(0, gj_value_new_map(&opts, 1));
    ASSERT_EQ(0, gj_value_map_put_str(opts, "notifications_minimum_severity", gj_value_string("OFF")));
    client = client_with_options(url_for(*server), opts, err);
    ASSERT_TRUE(client);
    gj_result *res;
    EXPECT_EQ(GJ_EUNSUPPORTED, run(client, query("RETURN 1 AS x"), &res, err));
    EXPECT_NE(std::string::npos, std::string(err.msg()).find("target option")) << err.msg();
    gj_value_unref(opts);
}

// TELEMETRY goes out only when the server's HELLO hints ask for it (5.4+):
// with each auto-commit query (api 2) and each transaction (api 0, not per
// retry), pipelined ahead of it.
TEST_F(BoltTest, TelemetryWhenTheServerAsks)
{
    start({ "--telemetry-hint", "--add-user", "alice:secret" });
    client = make_client(url_for(*server));
    ASSERT_TRUE(client);
    Err err;
    gj_result *res;
    for (int i = 0; i < 3; i++) {
        ASSERT_EQ(0, run(client, query("RETURN 1 AS x"), &res, err)) << err.msg();
        gj_result_free(res);
    }
    EXPECT_EQ(3u, server->count_in_log("TELEMETRY api 2")) << server->log();
    gj_request *req = nullptr;
    ASSERT_EQ(0, gj_request_new(&req, "transaction", "RETURN 2 AS x"));
    ASSERT_EQ(0, run(client, req, &res, err)) << err.msg();
    gj_result_free(res);
    EXPECT_EQ(1u, server->count_in_log("TELEMETRY api 0")) << server->log();
    // With per-request credentials it follows LOGOFF + LOGON (the server
    // refuses TELEMETRY while unauthenticated).
    ASSERT_EQ(0, run(client, as_user("RETURN 3 AS x", "alice", "secret"), &res, err)) << err.msg();
    gj_result_free(res);
    EXPECT_EQ(1u, server->count_in_log("LOGON as 'alice'")) << server->log();
    EXPECT_EQ(4u, server->count_in_log("TELEMETRY api 2")) << server->log();
    EXPECT_EQ(1u, server->count_in_log("HELLO from")) << server->log();
    gj_client_free(client);
    client = nullptr;

    // The target may turn it off.
    gj_value *opts = nullptr;
    ASSERT_EQ(0, gj_value_new_map(&opts, 1));
    ASSERT_EQ(0, gj_value_map_put_str(opts, "telemetry_disabled", gj_value_bool(true)));
    client = client_with_options(url_for(*server), opts, err);
    gj_value_unref(opts);
    ASSERT_TRUE(client);
    ASSERT_EQ(0, run(client, query("RETURN 1 AS x"), &res, err)) << err.msg();
    gj_result_free(res);
    EXPECT_EQ(4u, server->count_in_log("TELEMETRY api 2")) << server->log();
}

TEST_F(BoltTest, NoTelemetryWithoutTheHint)
{
    for (const char *version : { "5.8", "5.3" }) {
        // 5.3 has no TELEMETRY: the server gives no hint even when asked to.
        std::vector<std::string> args = { "--versions", version };
        if (strcmp(version, "5.3") == 0)
            args.push_back("--telemetry-hint");
        start(args);
        client = make_client(url_for(*server));
        ASSERT_TRUE(client);
        Err err;
        gj_result *res;
        ASSERT_EQ(0, run(client, query("RETURN 1 AS x"), &res, err)) << err.msg();
        gj_result_free(res);
        gj_request *req = nullptr;
        ASSERT_EQ(0, gj_request_new(&req, "transaction", "RETURN 2 AS x"));
        ASSERT_EQ(0, run(client, req, &res, err)) << err.msg();
        gj_result_free(res);
        EXPECT_EQ(0u, server->count_in_log("TELEMETRY")) << version << "\n" << server->log();
        gj_client_free(client);
        client = nullptr;
    }
}

TEST_F(BoltTest, WriteBookmarkThenReadWithIt)
{
    start();
    client = make_client(url_for(*server));
    ASSERT_TRUE(client);
    Err err;
    gj_result *res;
    ASSERT_EQ(0, run(client, query("CREATE (n:Person {name: 'Ada'}) RETURN n"), &res, err)) << err.msg();
    const gj_value *meta = gj_result_meta(res);
    std::string bookmark = str_of(gj_value_map_get(meta, "bookmark"));
    EXPECT_EQ(0u, bookmark.find("FB:")) << bookmark;
    EXPECT_EQ("neo4j", str_of(gj_value_map_get(meta, "db")));
    EXPECT_TRUE(gj_value_map_get(meta, "stats")) << "write statistics";
    const gj_value *node = gj_value_list_at(gj_result_row(res, 0), 0);
    EXPECT_EQ(GJ_TNODE, gj_value_type(node));
    EXPECT_TRUE(gj_value_element_element_id(node)) << "element ids on 5.x";
    gj_result_free(res);

    gj_request *req = query("MATCH (n:Person) WHERE n.name = 'Ada' RETURN n.name AS name");
    ASSERT_EQ(0, gj_request_set_option(req, "bookmarks", gj_value_string(bookmark.c_str())));
    ASSERT_EQ(0, gj_request_set_option(req, "mode", gj_value_string("r")));
    ASSERT_EQ(0, gj_request_set_database(req, "neo4j"));
    ASSERT_EQ(0, run(client, req, &res, err)) << err.msg();
    ASSERT_EQ(1u, gj_result_row_count(res));
    EXPECT_EQ("Ada", str_of(gj_value_list_at(gj_result_row(res, 0), 0)));
    gj_result_free(res);

    // A bookmark from the future: the server's transient error comes back.
    req = query("RETURN 1 AS x");
    ASSERT_EQ(0, gj_request_set_option(req, "bookmarks", gj_value_string("FB:refserver:999999")));
    ASSERT_EQ(GJ_ESERVER, run(client, req, &res, err));
    EXPECT_STREQ("Neo.TransientError.Transaction.BookmarkTimeout", gj_error_server_code(err.e));
}

TEST_F(BoltTest, UnknownDatabaseIsServerError)
{
    start();
    client = make_client(url_for(*server));
    ASSERT_TRUE(client);
    Err err;
    gj_result *res;
    gj_request *req = query("RETURN 1 AS x");
    ASSERT_EQ(0, gj_request_set_database(req, "nowhere"));
    ASSERT_EQ(GJ_ESERVER, run(client, req, &res, err));
    EXPECT_STREQ("Neo.ClientError.Database.DatabaseNotFound", gj_error_server_code(err.e));
    EXPECT_NE(std::string::npos, std::string(err.msg()).find("nowhere")) << err.msg();
    ASSERT_EQ(0, run(client, query("RETURN 1 AS x"), &res, err)) << err.msg();
    gj_result_free(res);
    EXPECT_EQ(1u, server->count_in_log("HELLO from"));
}

TEST_F(BoltTest, ExplainGivesPlan)
{
    start();
    client = make_client(url_for(*server));
    ASSERT_TRUE(client);
    Err err;
    gj_result *res;
    ASSERT_EQ(0, run(client, query("EXPLAIN RETURN 1 AS x"), &res, err)) << err.msg();
    EXPECT_EQ(0u, gj_result_row_count(res));
    const gj_value *plan = gj_value_map_get(gj_result_meta(res), "plan");
    ASSERT_TRUE(plan);
    EXPECT_EQ(GJ_TMAP, gj_value_type(plan));
    gj_result_free(res);
}

TEST_F(BoltTest, Impersonation)
{
    start({ "--add-user", "alice:pw" });
    client = make_client(url_for(*server));
    ASSERT_TRUE(client);
    Err err;
    gj_result *res;
    gj_request *req = query("RETURN 1 AS x");
    ASSERT_EQ(0, gj_request_set_option(req, "imp_user", gj_value_string("alice")));
    ASSERT_EQ(0, run(client, req, &res, err)) << err.msg();
    gj_result_free(res);
    req = query("RETURN 1 AS x");
    ASSERT_EQ(0, gj_request_set_option(req, "imp_user", gj_value_string("mallory")));
    ASSERT_EQ(GJ_ESERVER, run(client, req, &res, err));
    EXPECT_STREQ("Neo.ClientError.Security.Forbidden", gj_error_server_code(err.e));
    EXPECT_NE(std::string::npos, std::string(err.msg()).find("mallory")) << err.msg();
    ASSERT_EQ(0, run(client, query("RETURN 1 AS x"), &res, err)) << err.msg();
    gj_result_free(res);
    EXPECT_EQ(1u, server->count_in_log("HELLO from"));
}

TEST_F(BoltTest, TxTimeoutEnforcedByServer)
{
    start();
    client = make_client(url_for(*server));
    ASSERT_TRUE(client);
    Err err;
    gj_result *res;
    gj_request *req = query("CALL apoc.util.sleep(3000)");
    ASSERT_EQ(0, gj_request_set_option(req, "tx_timeout", gj_value_int(100)));
    ASSERT_EQ(GJ_ESERVER, run(client, req, &res, err));
    EXPECT_STREQ("Neo.ClientError.Transaction.TransactionTimedOutClientConfiguration", gj_error_server_code(err.e));
    ASSERT_EQ(0, run(client, query("RETURN 1 AS x"), &res, err)) << err.msg();
    gj_result_free(res);
}

TEST_F(BoltTest, BearerToken)
{
    start({ "--bearer", "s3cr3t-token" });
    gj_value *opts = nullptr;
    ASSERT_EQ(0, gj_value_new_map(&opts, 1));
    ASSERT_EQ(0, gj_value_map_put_str(opts, "auth_scheme", gj_value_string("bearer")));
    Err err;
    for (const char *token : { "s3cr3t-token", "bad-token" }) {
        gj_config *cfg = nullptr;
        ASSERT_EQ(0, gj_config_from_url(&cfg, url_for(*server, "bolt", std::string("x:") + token).c_str(), err.e));
        ASSERT_EQ(0, gj_config_set_value(cfg, "default", "options", opts, err.e)) << err.msg();
        ASSERT_EQ(0, gj_client_new(&client, cfg, err.e)) << err.msg();
        gj_config_free(cfg);
        gj_result *res;
        int rc = run(client, query("RETURN 1 AS x"), &res, err);
        if (strcmp(token, "bad-token") == 0) {
            EXPECT_EQ(GJ_EAUTH, rc);
            EXPECT_EQ(std::string::npos, std::string(err.msg()).find(token)) << err.msg();
        } else {
            EXPECT_EQ(0, rc) << err.msg();
            gj_result_free(res);
        }
        gj_client_free(client);
        client = nullptr;
    }
    gj_value_unref(opts);
}

TEST_F(BoltTest, NoAuth)
{
    start({ "--no-auth" });
    client = make_client("bolt://127.0.0.1:" + std::to_string(server->port()));
    ASSERT_TRUE(client);
    Err err;
    gj_result *res;
    ASSERT_EQ(0, run(client, query("RETURN 1 AS x"), &res, err)) << err.msg();
    gj_result_free(res);
}

TEST_F(BoltTest, LivenessCheckPingsWithReset)
{
    start();
    client = make_client(url_for(*server), { { "liveness_check", "0" } });
    ASSERT_TRUE(client);
    Err err;
    gj_result *res;
    for (int i = 0; i < 5; i++) {
        ASSERT_EQ(0, run(client, query("RETURN 1 AS x"), &res, err)) << err.msg();
        gj_result_free(res);
        std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the worker goes idle
    }
    EXPECT_EQ(1u, server->count_in_log("HELLO from")) << server->log();
}

TEST_F(BoltTest, RecvTimeoutHintBoundsWaits)
{
    start({ "--recv-timeout-hint", "1", "--fault", "stall:on=PULL,count=1" });
    client = make_client(url_for(*server));
    ASSERT_TRUE(client);
    Err err;
    gj_result *res;
    gj_request *req = query("RETURN 1 AS x");
    ASSERT_EQ(0, gj_request_set_timeout(req, 0));   // none: only the hint bounds the wait
    auto t0 = std::chrono::steady_clock::now();
    ASSERT_EQ(GJ_ETIMEDOUT, run(client, req, &res, err));
    auto took = std::chrono::steady_clock::now() - t0;
    EXPECT_GE(took, std::chrono::milliseconds(900));
    EXPECT_LT(took, std::chrono::seconds(5));
}

void on_done(gj_job *, void *payload)
{
    ++*static_cast<std::atomic<int> *>(payload);
}

TEST_F(BoltTest, ManyJobsOnFourConnections)
{
    start();
    Err err;
    gj_config *cfg = nullptr;
    ASSERT_EQ(0, gj_config_from_url(&cfg, url_for(*server).c_str(), err.e));
    ASSERT_EQ(0, gj_config_set_int(cfg, nullptr, "workers", 4, err.e));
    ASSERT_EQ(0, gj_config_set_int(cfg, "default", "max_conns", 4, err.e));
    ASSERT_EQ(0, gj_client_new(&client, cfg, err.e)) << err.msg();
    gj_config_free(cfg);
    std::atomic<int> callbacks{ 0 };
    int ok = 0, failed = 0;
    std::vector<gj_job *> jobs;
    for (int i = 0; i < 200; i++) {
        gj_request *req = query(i % 10 == 9 ? "RETRUN 1" : "UNWIND range(1, 100) AS x RETURN x");
        gj_submit_options so = GJ_SUBMIT_OPTIONS_INIT;
        so.on_done = on_done;
        so.payload = &callbacks;
        gj_job *job = nullptr;
        ASSERT_EQ(0, gj_client_submit(client, req, &so, &job, err.e)) << err.msg();
        gj_request_unref(req);
        jobs.push_back(job);
    }
    for (gj_job *job : jobs) {
        EXPECT_EQ(0, gj_job_wait(job, 30000, err.e)) << err.msg();
        gj_result *res = nullptr;
        int rc = gj_job_result(job, &res, err.e);
        if (rc == 0 && gj_result_row_count(res) == 100)
            ok++;
        else if (rc == GJ_ESERVER && gj_error_server_code(err.e) &&
                 strcmp(gj_error_server_code(err.e), "Neo.ClientError.Statement.SyntaxError") == 0)
            failed++;
        gj_result_free(res);
        gj_job_unref(job);
    }
    EXPECT_EQ(180, ok);
    EXPECT_EQ(20, failed);
    // Each completion callback runs once; a callback may still be running
    // when gj_job_wait() returns, so give them a moment.
    auto t0 = std::chrono::steady_clock::now();
    while (callbacks.load() < 200 && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5))
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    EXPECT_EQ(200, callbacks.load());
    EXPECT_LE(server->count_in_log("HELLO from"), 4u);
}

gj_value *statements(std::initializer_list<const char *> texts)
{
    gj_value *l = nullptr;
    EXPECT_EQ(0, gj_value_new_list(&l, texts.size()));
    for (const char *t : texts)
        EXPECT_EQ(0, gj_value_list_append(l, gj_value_string(t)));
    return l;
}

TEST_F(BoltTest, TransactionCommitsAllStatements)
{
    start();
    client = make_client(url_for(*server));
    ASSERT_TRUE(client);
    Err err;
    gj_result *res;
    gj_request *req = nullptr;
    ASSERT_EQ(0, gj_request_new(&req, "transaction", "MATCH (n:Tx) RETURN n.v AS v"));
    gj_value *m = nullptr;
    ASSERT_EQ(0, gj_value_new_map(&m, 2));
    ASSERT_EQ(0, gj_value_map_put_str(m, "query", gj_value_string("CREATE (n:Tx {v: $v})")));
    gj_value *params = nullptr;
    ASSERT_EQ(0, gj_value_new_map(&params, 1));
    ASSERT_EQ(0, gj_value_map_put_str(params, "v", gj_value_int(2)));
    ASSERT_EQ(0, gj_value_map_put_str(m, "params", params));
    gj_value *list = statements({ "CREATE (n:Tx {v: 1})" });
    ASSERT_EQ(0, gj_value_list_append(list, m));
    ASSERT_EQ(0, gj_request_set_option(req, "statements", list));
    ASSERT_EQ(0, run(client, req, &res, err)) << err.msg();
    EXPECT_EQ(2u, gj_result_row_count(res));
    EXPECT_EQ("v", str_of(gj_value_list_at(gj_result_fields(res), 0)));
    EXPECT_EQ(0u, str_of(gj_value_map_get(gj_result_meta(res), "bookmark")).find("FB:"));
    gj_result_free(res);
    // Committed: visible to the next auto-commit query.
    ASSERT_EQ(0, run(client, query("MATCH (n:Tx) RETURN n.v AS v"), &res, err)) << err.msg();
    EXPECT_EQ(2u, gj_result_row_count(res));
    gj_result_free(res);
}

TEST_F(BoltTest, TransactionFailureRollsBack)
{
    start();
    client = make_client(url_for(*server));
    ASSERT_TRUE(client);
    Err err;
    gj_result *res;
    gj_request *req = nullptr;
    ASSERT_EQ(0, gj_request_new(&req, "transaction", nullptr));
    ASSERT_EQ(0, gj_request_set_option(req, "statements",
                                       statements({ "CREATE (n:Gone {v: 1})", "RETRUN 1", "RETURN 2 AS x" })));
    ASSERT_EQ(GJ_ESERVER, run(client, req, &res, err));
    EXPECT_STREQ("Neo.ClientError.Statement.SyntaxError", gj_error_server_code(err.e));
    ASSERT_EQ(0, run(client, query("MATCH (n:Gone) RETURN n.v AS v"), &res, err)) << err.msg();
    EXPECT_EQ(0u, gj_result_row_count(res)) << "the CREATE was rolled back";
    gj_result_free(res);
    EXPECT_EQ(1u, server->count_in_log("HELLO from"));

    ASSERT_EQ(0, gj_request_new(&req, "transaction", nullptr));
    ASSERT_EQ(GJ_EINVAL, run(client, req, &res, err));
    EXPECT_NE(std::string::npos, std::string(err.msg()).find("statements")) << err.msg();
}

TEST_F(BoltTest, TransactionRetriesTransientErrors)
{
    start();
    client = make_client(url_for(*server), { { "max_conns", "2" } }, 2);
    ASSERT_TRUE(client);
    Err err;
    gj_result *res;
    ASSERT_EQ(0, run(client, query("CREATE (n:Seed)"), &res, err)) << err.msg();
    std::string bm = str_of(gj_value_map_get(gj_result_meta(res), "bookmark"));
    gj_result_free(res);
    long n = strtol(bm.c_str() + bm.rfind(':') + 1, nullptr, 10);
    std::string next = "FB:refserver:" + std::to_string(n + 1);

    // Gives up after max_retries: 1 + 2 attempts.
    gj_request *req = nullptr;
    ASSERT_EQ(0, gj_request_new(&req, "transaction", "RETURN 1 AS x"));
    ASSERT_EQ(0, gj_request_set_option(req, "bookmarks", gj_value_string("FB:refserver:999999")));
    ASSERT_EQ(0, gj_request_set_option(req, "max_retries", gj_value_int(2)));
    ASSERT_EQ(GJ_ESERVER, run(client, req, &res, err));
    EXPECT_STREQ("Neo.TransientError.Transaction.BookmarkTimeout", gj_error_server_code(err.e));
    EXPECT_EQ(3u, server->count_in_log("FAILURE Neo.TransientError.Transaction.BookmarkTimeout")) << server->log();

    // Succeeds once another write catches the database up with the bookmark.
    ASSERT_EQ(0, gj_request_new(&req, "transaction", "RETURN 1 AS x"));
    ASSERT_EQ(0, gj_request_set_option(req, "bookmarks", gj_value_string(next.c_str())));
    ASSERT_EQ(0, gj_request_set_option(req, "max_retries", gj_value_int(6)));
    gj_job *job = nullptr;
    ASSERT_EQ(0, gj_client_submit(client, req, nullptr, &job, err.e)) << err.msg();
    gj_request_unref(req);
    auto t0 = std::chrono::steady_clock::now();
    while (server->count_in_log("FAILURE Neo.TransientError.Transaction.BookmarkTimeout") < 4 &&
           std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5))
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    ASSERT_EQ(0, run(client, query("CREATE (n:CatchUp)"), &res, err)) << err.msg();
    gj_result_free(res);
    ASSERT_EQ(0, gj_job_wait(job, 20000, err.e));
    ASSERT_EQ(0, gj_job_result(job, &res, err.e)) << err.msg();
    EXPECT_EQ(1u, gj_result_row_count(res));
    gj_result_free(res);
    gj_job_unref(job);
}

TEST_F(BoltTest, CancelDuringTransactionBackoff)
{
    start();
    client = make_client(url_for(*server));
    ASSERT_TRUE(client);
    Err err;
    gj_request *req = nullptr;
    ASSERT_EQ(0, gj_request_new(&req, "transaction", "RETURN 1 AS x"));
    ASSERT_EQ(0, gj_request_set_option(req, "bookmarks", gj_value_string("FB:refserver:999999")));
    ASSERT_EQ(0, gj_request_set_option(req, "max_retries", gj_value_int(10)));
    gj_job *job = nullptr;
    ASSERT_EQ(0, gj_client_submit(client, req, nullptr, &job, err.e)) << err.msg();
    gj_request_unref(req);
    auto t0 = std::chrono::steady_clock::now();
    while (server->count_in_log("BookmarkTimeout") < 3 && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5))
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    ASSERT_EQ(0, gj_job_cancel(job, err.e)) << err.msg();
    ASSERT_EQ(0, gj_job_wait(job, 5000, err.e)) << err.msg();
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(8));
    gj_job_status st;
    ASSERT_EQ(0, gj_job_get_status(job, &st, err.e));
    EXPECT_EQ(GJ_JOB_CANCELLED, st);
    gj_job_unref(job);
    gj_result *res;
    ASSERT_EQ(0, run(client, query("RETURN 1 AS x"), &res, err)) << err.msg();
    gj_result_free(res);
    EXPECT_EQ(1u, server->count_in_log("HELLO from"));
}

// A listener that reads the 20-byte Bolt opening and answers `reply`.
class FakeListener {
public:
    explicit FakeListener(std::string reply) : reply_(std::move(reply))
    {
        lfd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in sa{};
        sa.sin_family = AF_INET;
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t sl = sizeof sa;
        if (lfd_ < 0 || bind(lfd_, (sockaddr *)&sa, sizeof sa) != 0 || listen(lfd_, 4) != 0 ||
            getsockname(lfd_, (sockaddr *)&sa, &sl) != 0)
            return;
        port_ = ntohs(sa.sin_port);
        thread_ = std::thread([this] {
            int fd = accept(lfd_, nullptr, nullptr);
            if (fd < 0)
                return;
            char buf[20];
            size_t have = 0;
            while (have < sizeof buf) {
                ssize_t n = read(fd, buf + have, sizeof buf - have);
                if (n <= 0)
                    break;
                have += (size_t)n;
            }
            if (write(fd, reply_.data(), reply_.size()) < 0) {
            }
            close(fd);
        });
    }
    ~FakeListener()
    {
        if (lfd_ >= 0)
            shutdown(lfd_, SHUT_RDWR);
        if (thread_.joinable())
            thread_.join();
        if (lfd_ >= 0)
            close(lfd_);
    }
    int port() const { return port_; }

private:
    std::string reply_;
    int lfd_ = -1;
    int port_ = 0;
    std::thread thread_;
};

TEST(BoltHandshake, HttpPortIsNamed)
{
    FakeListener fake("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
    ASSERT_GT(fake.port(), 0);
    gj_client *client = make_client("bolt://neo4j:password@127.0.0.1:" + std::to_string(fake.port()));
    ASSERT_TRUE(client);
    Err err;
    gj_result *res;
    EXPECT_EQ(GJ_EPROTOCOL, run(client, query("RETURN 1 AS x"), &res, err));
    EXPECT_NE(std::string::npos, std::string(err.msg()).find("HTTP port")) << err.msg();
    EXPECT_NE(std::string::npos, std::string(err.msg()).find(std::to_string(fake.port()))) << err.msg();
    gj_client_free(client);
}

TEST(BoltHandshake, NoCommonVersion)
{
    FakeListener fake(std::string(4, '\0'));
    ASSERT_GT(fake.port(), 0);
    gj_client *client = make_client("bolt://neo4j:password@127.0.0.1:" + std::to_string(fake.port()));
    ASSERT_TRUE(client);
    Err err;
    gj_result *res;
    EXPECT_EQ(GJ_EUNSUPPORTED, run(client, query("RETURN 1 AS x"), &res, err));
    EXPECT_NE(std::string::npos, std::string(err.msg()).find("no common Bolt version")) << err.msg();
    gj_client_free(client);
}

TEST(BoltHandshake, VersionNotOfferedIsProtocolError)
{
    FakeListener fake(std::string("\0\0\0\3", 4));   // Bolt 3.0
    ASSERT_GT(fake.port(), 0);
    gj_client *client = make_client("bolt://neo4j:password@127.0.0.1:" + std::to_string(fake.port()));
    ASSERT_TRUE(client);
    Err err;
    gj_result *res;
    EXPECT_EQ(GJ_EPROTOCOL, run(client, query("RETURN 1 AS x"), &res, err));
    gj_client_free(client);
}

TEST_F(BoltTest, GarbageAnswerIsProtocolErrorAndConnectionDropped)
{
    start({ "--fault", "garbage:on=PULL,count=1" });
    client = make_client(url_for(*server));
    ASSERT_TRUE(client);
    Err err;
    gj_result *res;
    int rc = run(client, query("RETURN 1 AS x"), &res, err);
    EXPECT_TRUE(rc == GJ_EPROTOCOL || rc == GJ_EIO) << gj_code_name(rc) << ": " << err.msg();
    EXPECT_NE(std::string::npos, std::string(err.msg()).find(std::to_string(server->port()))) << err.msg();
    ASSERT_EQ(0, run(client, query("RETURN 1 AS x"), &res, err)) << err.msg();
    gj_result_free(res);
    EXPECT_EQ(2u, server->count_in_log("HELLO from"));
}

TEST_F(BoltTest, ServerClosingOnRunIsIoError)
{
    start({ "--fault", "close:on=RUN,count=1" });
    client = make_client(url_for(*server));
    ASSERT_TRUE(client);
    Err err;
    gj_result *res;
    EXPECT_EQ(GJ_EIO, run(client, query("RETURN 1 AS x"), &res, err));
    ASSERT_EQ(0, run(client, query("RETURN 1 AS x"), &res, err)) << err.msg();
    gj_result_free(res);
}

// A scripted Bolt 4.4 peer that looks at the bytes the client sends.
static std::string frame(std::initializer_list<uint8_t> msg)
{
    std::string out;
    out.push_back((char)(msg.size() >> 8));
    out.push_back((char)(msg.size() & 0xFF));
    for (uint8_t b : msg)
        out.push_back((char)b);
    out.append("\0\0", 2);
    return out;
}

// Complete messages (ending with 00 00) at the start of buf.
static size_t count_messages(const std::string &buf)
{
    size_t n = 0, at = 0;
    while (at + 2 <= buf.size()) {
        size_t len = ((uint8_t)buf[at] << 8) | (uint8_t)buf[at + 1];
        at += 2 + len;
        if (at > buf.size())
            break;
        if (len == 0)
            n++;
    }
    return n;
}

TEST(BoltWire, RunAndPullGoOutInOneWrite)
{
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(lfd, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t sl = sizeof sa;
    ASSERT_EQ(0, bind(lfd, (sockaddr *)&sa, sizeof sa));
    ASSERT_EQ(0, listen(lfd, 1));
    ASSERT_EQ(0, getsockname(lfd, (sockaddr *)&sa, &sl));
    std::atomic<size_t> first_read_messages{ 0 };
    std::atomic<bool> hello_seen{ false };
    std::thread peer([&] {
        int fd = accept(lfd, nullptr, nullptr);
        if (fd < 0)
            return;
        auto read_some = [&](std::string &into) {
            char buf[65536];
            ssize_t n = read(fd, buf, sizeof buf);
            if (n > 0)
                into.append(buf, (size_t)n);
            return n;
        };
        std::string in;
        while (in.size() < 20 && read_some(in) > 0) {
        }
        const char v44[4] = { 0, 0, 4, 4 };
        if (write(fd, v44, 4) != 4)
            return;
        in.erase(0, 20);
        while (count_messages(in) < 1 && read_some(in) > 0) {
        }
        hello_seen = in.size() > 4 && (uint8_t)in[3] == 0x01;   // B1 01: HELLO
        std::string ok = frame({ 0xB1, 0x70, 0xA0 });
        if (write(fd, ok.data(), ok.size()) < 0)
            return;
        std::string req;
        read_some(req);                      // one read: RUN and PULL both there?
        first_read_messages = count_messages(req);
        while (count_messages(req) < 2 && read_some(req) > 0) {
        }
        std::string out = frame({ 0xB1, 0x70, 0xA1, 0x86, 'f', 'i', 'e', 'l', 'd', 's', 0x91, 0x81, 'x' }) +
                          frame({ 0xB1, 0x71, 0x91, 0x2A }) + frame({ 0xB1, 0x70, 0xA0 });
        if (write(fd, out.data(), out.size()) < 0)
            return;
        std::string rest;
        read_some(rest);                     // GOODBYE or close
        close(fd);
    });
    gj_client *client = make_client("bolt://neo4j:password@127.0.0.1:" + std::to_string(ntohs(sa.sin_port)));
    ASSERT_TRUE(client);
    Err err;
    gj_result *res;
    ASSERT_EQ(0, run(client, query("RETURN 42 AS x"), &res, err)) << err.msg();
    EXPECT_EQ(42, int_at(gj_result_row(res, 0), 0));
    EXPECT_EQ("x", str_of(gj_value_list_at(gj_result_fields(res), 0)));
    gj_result_free(res);
    gj_client_free(client);
    peer.join();
    close(lfd);
    EXPECT_TRUE(hello_seen.load());
    EXPECT_EQ(2u, first_read_messages.load()) << "RUN and PULL arrive together";
}

// ---- TLS -------------------------------------------------------------------------

class BoltTlsTest : public BoltTest {
protected:
    void SetUp() override
    {
        char tmpl[] = "/tmp/gj-bolt-tls-XXXXXX";
        ASSERT_TRUE(mkdtemp(tmpl));
        dir = tmpl;
        std::string cmd =
            "cd " + dir + " && "
            "openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=gj-test-ca "
            ">/dev/null 2>&1 && "
            "openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=localhost "
            ">/dev/null 2>&1 && "
            "printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > ext.cnf && "
            "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 "
            "-extfile ext.cnf >/dev/null 2>&1 && "
            "openssl req -x509 -newkey rsa:2048 -nodes -keyout other.key -out other.pem -days 2 -subj /CN=other "
            ">/dev/null 2>&1";
        ASSERT_EQ(0, system(cmd.c_str())) << "openssl failed";
        start({ "--tls-cert", dir + "/server.pem", "--tls-key", dir + "/server.key" });
    }
    void TearDown() override
    {
        BoltTest::TearDown();
        std::string cmd = "rm -rf " + dir;
        if (system(cmd.c_str()) != 0) {
        }
    }
    std::string dir;
};

TEST_F(BoltTlsTest, VerifiedWithCaFile)
{
    for (const char *host : { "localhost", "127.0.0.1" }) {
        client = make_client(url_for(*server, "bolt+s", "neo4j:password", host), { { "ssl_cafile", dir + "/ca.pem" } });
        ASSERT_TRUE(client);
        Err err;
        gj_result *res;
        ASSERT_EQ(0, run(client, query("RETURN 'tls' AS x"), &res, err)) << host << ": " << err.msg();
        EXPECT_EQ("tls", str_of(gj_value_list_at(gj_result_row(res, 0), 0)));
        gj_result_free(res);
        gj_client_free(client);
        client = nullptr;
    }
}

TEST_F(BoltTlsTest, WrongCaFails)
{
    client = make_client(url_for(*server, "bolt+s"),
                         { { "ssl_cafile", dir + "/other.pem" } });
    ASSERT_TRUE(client);
    Err err;
    gj_result *res;
    ASSERT_EQ(GJ_ETLS, run(client, query("RETURN 1 AS x"), &res, err));
    EXPECT_NE(std::string::npos, std::string(err.msg()).find("verif")) << err.msg();
}

TEST_F(BoltTlsTest, SelfSignedAcceptedWithSsc)
{
    client = make_client(url_for(*server, "bolt+ssc"));
    ASSERT_TRUE(client);
    Err err;
    gj_result *res;
    gj_request *req = query("UNWIND range(1, 20000) AS x RETURN x");
    ASSERT_EQ(0, run(client, req, &res, err)) << err.msg();
    EXPECT_EQ(20000u, gj_result_row_count(res));
    gj_result_free(res);
}

TEST_F(BoltTlsTest, ClientCertificateLoaded)
{
    client = make_client(url_for(*server, "bolt+s"), { { "ssl_cafile", dir + "/ca.pem" },
                                                       { "ssl_certfile", dir + "/other.pem" },
                                                       { "ssl_keyfile", dir + "/other.key" } });
    ASSERT_TRUE(client);
    Err err;
    gj_result *res;
    ASSERT_EQ(0, run(client, query("RETURN 1 AS x"), &res, err)) << err.msg();
    gj_result_free(res);
    gj_client_free(client);
    // A key that does not match the certificate is refused before connecting.
    client = make_client(url_for(*server, "bolt+s"), { { "ssl_cafile", dir + "/ca.pem" },
                                                       { "ssl_certfile", dir + "/other.pem" },
                                                       { "ssl_keyfile", dir + "/server.key" } });
    ASSERT_TRUE(client);
    ASSERT_EQ(GJ_ETLS, run(client, query("RETURN 1 AS x"), &res, err));
    EXPECT_NE(std::string::npos, std::string(err.msg()).find("server.key")) << err.msg();
}

TEST_F(BoltTlsTest, RoutingOverTls)
{
    client = make_client(url_for(*server, "neo4j+s", "neo4j:password", "localhost"),
                         { { "ssl_cafile", dir + "/ca.pem" } });
    ASSERT_TRUE(client);
    Err err;
    gj_result *res;
    gj_request *req = query("RETURN 'routed' AS x");
    ASSERT_EQ(0, gj_request_set_option(req, "mode", gj_value_string("r")));
    ASSERT_EQ(0, run(client, req, &res, err)) << err.msg();
    EXPECT_EQ("routed", str_of(gj_value_list_at(gj_result_row(res, 0), 0)));
    gj_result_free(res);
}

TEST_F(BoltTlsTest, CancelOverTls)
{
    client = make_client(url_for(*server, "bolt+ssc"));
    ASSERT_TRUE(client);
    Err err;
    gj_request *req = query("CALL apoc.util.sleep(60000)");
    gj_job *job = nullptr;
    ASSERT_EQ(0, gj_client_submit(client, req, nullptr, &job, err.e)) << err.msg();
    gj_request_unref(req);
    auto t0 = std::chrono::steady_clock::now();
    while (server->count_in_log("RUN CALL") == 0 && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5))
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    ASSERT_EQ(0, gj_job_cancel(job, err.e)) << err.msg();
    ASSERT_EQ(0, gj_job_wait(job, 10000, err.e)) << err.msg();
    gj_job_status st;
    ASSERT_EQ(0, gj_job_get_status(job, &st, err.e));
    EXPECT_EQ(GJ_JOB_CANCELLED, st);
    gj_job_unref(job);
    gj_result *res;
    ASSERT_EQ(0, run(client, query("RETURN 1 AS x"), &res, err)) << err.msg();
    gj_result_free(res);
    EXPECT_EQ(1u, server->count_in_log("HELLO from"));
}

}  // namespace
