// The typed result accessors (lib/core/result_meta.c): results built by
// hand through a sink with the meta keys each backend sets (docs/bolt.md,
// docs/arango.md), then the same accessors on real results from
// bolt-refserver and arango-refserver (skipped when they were not built).
#include <gtest/gtest.h>

#include <graphjob.h>

#include <cstring>
#include <memory>
#include <string>
#include <unistd.h>

extern "C" {
#include "core/sink.h"
}
#include "../integration/server_process.h"

namespace {

gj_value *str(const char *s) { return gj_value_string(s); }

gj_value *map_of(std::initializer_list<std::pair<const char *, gj_value *>> kv)
{
    gj_value *m = nullptr;
    EXPECT_EQ(0, gj_value_new_map(&m, kv.size()));
    for (auto &p : kv)
        EXPECT_EQ(0, gj_value_map_put_str(m, p.first, p.second));
    return m;
}

gj_value *list_of(std::initializer_list<gj_value *> items)
{
    gj_value *l = nullptr;
    EXPECT_EQ(0, gj_value_new_list(&l, items.size()));
    for (gj_value *v : items)
        EXPECT_EQ(0, gj_value_list_append(l, v));
    return l;
}

// A result with the given fields (or none), rows and meta entries; every
// value passed is taken over.
struct Built {
    gj_result *res = nullptr;
    Built(gj_value *fields, std::initializer_list<gj_value *> rows,
          std::initializer_list<std::pair<const char *, gj_value *>> meta)
    {
        gj_sink *s = nullptr;
        EXPECT_EQ(0, gj__sink_new(&s, nullptr, nullptr));
        if (fields) {
            EXPECT_EQ(0, gj__sink_fields(s, fields));
        }
        for (gj_value *r : rows)
            EXPECT_EQ(0, gj__sink_row(s, r));
        for (auto &m : meta)
            EXPECT_EQ(0, gj__sink_meta(s, m.first, m.second));
        EXPECT_EQ(0, gj__sink_take_result(s, &res));
        gj__sink_free(s);
    }
    ~Built() { gj_result_free(res); }
};

std::string text(const gj_value *v)
{
    const char *s = nullptr;
    return v && gj_value_string_get(v, &s, nullptr) == 0 ? s : "<none>";
}

int64_t num(const gj_value *v)
{
    int64_t i = -999;
    EXPECT_EQ(0, gj_value_int_get(v, &i));
    return i;
}

// ---- rows by field name ----------------------------------------------------------

TEST(ResultMeta, RowByFieldNameInListRows)
{
    Built b(list_of({ str("name"), str("age"), str("name2") }),
            { list_of({ str("ann"), gj_value_int(31), gj_value_null() }),
              list_of({ str("bob"), gj_value_int(42), str("x") }) },
            {});
    size_t i = 99;
    EXPECT_TRUE(gj_result_field_index(b.res, "age", &i));
    EXPECT_EQ(1u, i);
    EXPECT_TRUE(gj_result_field_index(b.res, "name2", &i));
    EXPECT_EQ(2u, i);
    EXPECT_TRUE(gj_result_field_index(b.res, "name", nullptr));
    EXPECT_FALSE(gj_result_field_index(b.res, "nam", &i));
    EXPECT_EQ(2u, i) << "untouched when not found";
    EXPECT_FALSE(gj_result_field_index(b.res, nullptr, &i));
    EXPECT_EQ("bob", text(gj_result_row_get(b.res, 1, "name")));
    EXPECT_EQ(31, num(gj_result_row_get(b.res, 0, "age")));
    // A null value is a value, an unknown name or row is NULL.
    ASSERT_NE(nullptr, gj_result_row_get(b.res, 0, "name2"));
    EXPECT_EQ(GJ_TNULL, gj_value_type(gj_result_row_get(b.res, 0, "name2")));
    EXPECT_EQ(nullptr, gj_result_row_get(b.res, 0, "nope"));
    EXPECT_EQ(nullptr, gj_result_row_get(b.res, 2, "name"));
    EXPECT_EQ(nullptr, gj_result_row_get(nullptr, 0, "name"));
}

TEST(ResultMeta, RowByFieldNameInMapRowsAndWithoutFields)
{
    Built b(nullptr,
            { map_of({ { "_key", str("k1") }, { "age", gj_value_int(7) } }), gj_value_int(5) },
            {});
    EXPECT_FALSE(gj_result_field_index(b.res, "_key", nullptr));
    EXPECT_EQ("k1", text(gj_result_row_get(b.res, 0, "_key")));
    EXPECT_EQ(7, num(gj_result_row_get(b.res, 0, "age")));
    EXPECT_EQ(nullptr, gj_result_row_get(b.res, 0, "other"));
    // A scalar row has no names.
    EXPECT_EQ(nullptr, gj_result_row_get(b.res, 1, "age"));
    // A list row without fields cannot be read by name.
    Built c(nullptr, { list_of({ gj_value_int(1) }) }, {});
    EXPECT_EQ(nullptr, gj_result_row_get(c.res, 0, "x"));
}

// ---- Neo4j ---------------------------------------------------------------------------

TEST(ResultMeta, BoltSummary)
{
    Built b(list_of({ str("n") }), {},
            { { "bookmark", str("FB:kcwQ") },
              { "type", str("rw") },
              { "server", str("Neo4j/5.26.0") },
              { "address", str("db1:7687") },
              { "stats", map_of({ { "nodes-created", gj_value_int(2) },
                                  { "properties-set", gj_value_int(4) },
                                  { "labels-added", gj_value_int(2) },
                                  { "relationships-deleted", gj_value_int(1) },
                                  { "system-updates", gj_value_int(0) } }) } });
    EXPECT_STREQ("FB:kcwQ", gj_result_bookmark(b.res));
    EXPECT_EQ(GJ_QUERY_TYPE_READ_WRITE, gj_result_query_type(b.res));
    EXPECT_STREQ("Neo4j/5.26.0", gj_result_server_agent(b.res));
    EXPECT_STREQ("db1:7687", gj_result_server_address(b.res));
    gj_counters c = GJ_COUNTERS_INIT;
    ASSERT_TRUE(gj_result_counters(b.res, &c));
    EXPECT_EQ(sizeof(gj_counters), c.size);
    EXPECT_EQ(2, c.nodes_created);
    EXPECT_EQ(4, c.properties_set);
    EXPECT_EQ(2, c.labels_added);
    EXPECT_EQ(1, c.relationships_deleted);
    EXPECT_EQ(0, c.nodes_deleted);
    EXPECT_EQ(0, c.constraints_added);
    EXPECT_EQ(0, c.system_updates);
    EXPECT_TRUE(c.contains_updates) << "computed from the counters";
    EXPECT_FALSE(c.contains_system_updates);
}

TEST(ResultMeta, QueryTypesAndAbsentKeys)
{
    const char *names[] = { "r", "w", "rw", "s", "x", "" };
    gj_query_type want[] = { GJ_QUERY_TYPE_READ, GJ_QUERY_TYPE_WRITE, GJ_QUERY_TYPE_READ_WRITE,
                             GJ_QUERY_TYPE_SCHEMA, GJ_QUERY_TYPE_UNKNOWN, GJ_QUERY_TYPE_UNKNOWN };
    for (size_t i = 0; i < 6; i++) {
        Built b(nullptr, {}, { { "type", str(names[i]) } });
        EXPECT_EQ(want[i], gj_result_query_type(b.res)) << names[i];
    }
    // Nothing in the meta: every accessor says absent, the structs read 0.
    Built e(nullptr, {}, {});
    EXPECT_EQ(nullptr, gj_result_bookmark(e.res));
    EXPECT_EQ(GJ_QUERY_TYPE_UNKNOWN, gj_result_query_type(e.res));
    EXPECT_EQ(nullptr, gj_result_server_agent(e.res));
    EXPECT_EQ(nullptr, gj_result_server_address(e.res));
    gj_counters c = GJ_COUNTERS_INIT;
    c.nodes_created = 77;
    EXPECT_FALSE(gj_result_counters(e.res, &c));
    EXPECT_EQ(0, c.nodes_created);
    EXPECT_FALSE(c.contains_updates);
    EXPECT_EQ(0u, gj_result_notification_count(e.res));
    gj_notification n = GJ_NOTIFICATION_INIT;
    EXPECT_FALSE(gj_result_notification(e.res, 0, &n));
    // The wrong type reads as absent.
    Built w(nullptr, {}, { { "bookmark", gj_value_int(3) }, { "stats", str("x") }, { "type", gj_value_int(1) } });
    EXPECT_EQ(nullptr, gj_result_bookmark(w.res));
    EXPECT_EQ(GJ_QUERY_TYPE_UNKNOWN, gj_result_query_type(w.res));
    EXPECT_FALSE(gj_result_counters(w.res, &c));
    // NULL results.
    EXPECT_EQ(nullptr, gj_result_bookmark(nullptr));
    EXPECT_FALSE(gj_result_counters(nullptr, &c));
    EXPECT_EQ(0u, gj_result_notification_count(nullptr));
    int64_t count = 0;
    EXPECT_FALSE(gj_result_count(nullptr, &count));
    EXPECT_EQ(0u, gj_result_warning_count(nullptr));
}

TEST(ResultMeta, CountersFlagsFromTheServerWin)
{
    Built b(nullptr, {},
            { { "stats", map_of({ { "system-updates", gj_value_int(3) },
                                  { "contains-updates", gj_value_bool(false) },
                                  { "contains-system-updates", gj_value_bool(true) } }) } });
    gj_counters c = GJ_COUNTERS_INIT;
    ASSERT_TRUE(gj_result_counters(b.res, &c));
    EXPECT_EQ(3, c.system_updates);
    EXPECT_FALSE(c.contains_updates);
    EXPECT_TRUE(c.contains_system_updates);
    // Computed: system updates alone are not "updates" (neo4j-driver).
    Built d(nullptr, {}, { { "stats", map_of({ { "system-updates", gj_value_int(1) } }) } });
    ASSERT_TRUE(gj_result_counters(d.res, &c));
    EXPECT_FALSE(c.contains_updates);
    EXPECT_TRUE(c.contains_system_updates);
}

TEST(ResultMeta, StructSizeIsHonoured)
{
    Built b(nullptr, {}, { { "stats", map_of({ { "nodes-created", gj_value_int(1) } }) } });
    // Too small for the first version: nothing written.
    gj_counters c = GJ_COUNTERS_INIT;
    c.size = offsetof(gj_counters, nodes_deleted);
    c.nodes_created = 42;
    EXPECT_FALSE(gj_result_counters(b.res, &c));
    EXPECT_EQ(42, c.nodes_created);
    // A caller built against a later, larger struct: the members known
    // here are filled, the bytes beyond are left alone.
    struct Larger {
        gj_counters c;
        int64_t future;
    } big;
    memset(&big, 0, sizeof big);
    big.c.size = sizeof big;
    big.future = 1234;
    EXPECT_TRUE(gj_result_counters(b.res, &big.c));
    EXPECT_EQ(1, big.c.nodes_created);
    EXPECT_EQ(sizeof big, big.c.size);
    EXPECT_EQ(1234, big.future);
    gj_arango_stats st = GJ_ARANGO_STATS_INIT;
    st.size = 8;
    EXPECT_FALSE(gj_result_arango_stats(b.res, &st));
    gj_notification n = GJ_NOTIFICATION_INIT;
    n.size = sizeof n - 1;
    EXPECT_FALSE(gj_result_notification(b.res, 0, &n));
}

TEST(ResultMeta, NotificationsUpToBolt54)
{
    gj_value *pos = map_of({ { "offset", gj_value_int(9) }, { "line", gj_value_int(1) },
                             { "column", gj_value_int(10) } });
    Built b(nullptr, {},
            { { "notifications",
                list_of({ map_of({ { "code", str("Neo.ClientNotification.Statement.UnknownLabelWarning") },
                                   { "title", str("The provided label is not in the database.") },
                                   { "description", str("One of the labels ...") },
                                   { "severity", str("WARNING") },
                                   { "category", str("UNRECOGNIZED") },
                                   { "position", pos } }),
                          map_of({ { "code", str("Neo.ClientNotification.Statement.CartesianProduct") } }),
                          gj_value_int(3) }) } });
    ASSERT_EQ(3u, gj_result_notification_count(b.res));
    gj_notification n = GJ_NOTIFICATION_INIT;
    ASSERT_TRUE(gj_result_notification(b.res, 0, &n));
    EXPECT_STREQ("Neo.ClientNotification.Statement.UnknownLabelWarning", n.code);
    EXPECT_EQ(nullptr, n.gql_status);
    EXPECT_STREQ("The provided label is not in the database.", n.title);
    EXPECT_STREQ("One of the labels ...", n.description);
    EXPECT_EQ(nullptr, n.status_description);
    EXPECT_STREQ("WARNING", n.severity);
    EXPECT_STREQ("UNRECOGNIZED", n.classification);
    EXPECT_TRUE(n.has_position);
    EXPECT_EQ(9, n.offset);
    EXPECT_EQ(1, n.line);
    EXPECT_EQ(10, n.column);
    EXPECT_TRUE(n.is_notification);
    ASSERT_NE(nullptr, n.raw);
    EXPECT_EQ(GJ_TMAP, gj_value_type(n.raw));
    // A sparse one: absent parts are NULL, no position.
    ASSERT_TRUE(gj_result_notification(b.res, 1, &n));
    EXPECT_STREQ("Neo.ClientNotification.Statement.CartesianProduct", n.code);
    EXPECT_EQ(nullptr, n.title);
    EXPECT_EQ(nullptr, n.severity);
    EXPECT_FALSE(n.has_position);
    EXPECT_EQ(0, n.line);
    // Not a map, past the end.
    EXPECT_FALSE(gj_result_notification(b.res, 2, &n));
    EXPECT_FALSE(gj_result_notification(b.res, 3, &n));
}

TEST(ResultMeta, GqlStatusesFromBolt56)
{
    gj_value *diag = map_of({ { "OPERATION", str("") },
                              { "_severity", str("WARNING") },
                              { "_classification", str("UNRECOGNIZED") },
                              { "_position", map_of({ { "offset", gj_value_int(0) }, { "line", gj_value_int(2) },
                                                      { "column", gj_value_int(1) } }) } });
    Built b(nullptr, {},
            { { "notifications", list_of({ map_of({ { "code", str("ignored when statuses exist") } }) }) },
              { "statuses",
                list_of({ map_of({ { "gql_status", str("01N50") },
                                   { "status_description", str("warn: label does not exist.") },
                                   { "neo4j_code", str("Neo.ClientNotification.Statement.UnknownLabelWarning") },
                                   { "title", str("The provided label is not in the database.") },
                                   { "description", str("legacy text") },
                                   { "diagnostic_record", diag } }),
                          map_of({ { "gql_status", str("00000") },
                                   { "status_description", str("note: successful completion") },
                                   { "diagnostic_record", map_of({}) } }) }) } });
    ASSERT_EQ(2u, gj_result_notification_count(b.res));
    gj_notification n = GJ_NOTIFICATION_INIT;
    ASSERT_TRUE(gj_result_notification(b.res, 0, &n));
    EXPECT_STREQ("01N50", n.gql_status);
    EXPECT_STREQ("Neo.ClientNotification.Statement.UnknownLabelWarning", n.code);
    EXPECT_STREQ("warn: label does not exist.", n.status_description);
    EXPECT_STREQ("legacy text", n.description);
    EXPECT_STREQ("WARNING", n.severity);
    EXPECT_STREQ("UNRECOGNIZED", n.classification);
    EXPECT_TRUE(n.has_position);
    EXPECT_EQ(0, n.offset);
    EXPECT_EQ(2, n.line);
    EXPECT_TRUE(n.is_notification);
    ASSERT_TRUE(gj_result_notification(b.res, 1, &n));
    EXPECT_STREQ("00000", n.gql_status);
    EXPECT_EQ(nullptr, n.code);
    EXPECT_FALSE(n.is_notification) << "a success status is not a notification";
    EXPECT_EQ(nullptr, n.severity);
    EXPECT_FALSE(n.has_position);
}

// ---- ArangoDB ------------------------------------------------------------------------

TEST(ResultMeta, ArangoCountStatsWarnings)
{
    gj_value *stats = map_of({ { "writesExecuted", gj_value_int(2) },
                               { "writesIgnored", gj_value_int(1) },
                               { "scannedFull", gj_value_int(10) },
                               { "scannedIndex", gj_value_int(3) },
                               { "filtered", gj_value_int(7) },
                               { "httpRequests", gj_value_int(0) },
                               { "fullCount", gj_value_int(12) },
                               { "peakMemoryUsage", gj_value_int(32768) },
                               { "executionTime", gj_value_float(0.25) },
                               { "documentLookups", gj_value_float(4.0) } });
    gj_value *warnings = list_of({ map_of({ { "code", gj_value_int(1562) }, { "message", str("division by zero") } }),
                                   map_of({ { "message", str("no code") } }) });
    Built b(nullptr, { map_of({ { "_key", str("a") } }) },
            { { "count", gj_value_int(12) },
              { "cached", gj_value_bool(false) },
              { "extra", map_of({ { "stats", gj_value_ref(stats) }, { "warnings", gj_value_ref(warnings) } }) },
              { "stats", stats },
              { "warnings", warnings } });
    int64_t count = 0;
    ASSERT_TRUE(gj_result_count(b.res, &count));
    EXPECT_EQ(12, count);
    EXPECT_TRUE(gj_result_count(b.res, nullptr));
    gj_arango_stats st = GJ_ARANGO_STATS_INIT;
    ASSERT_TRUE(gj_result_arango_stats(b.res, &st));
    EXPECT_EQ(2, st.writes_executed);
    EXPECT_EQ(1, st.writes_ignored);
    EXPECT_EQ(10, st.scanned_full);
    EXPECT_EQ(3, st.scanned_index);
    EXPECT_EQ(7, st.filtered);
    EXPECT_EQ(12, st.full_count);
    EXPECT_EQ(32768, st.peak_memory_usage);
    EXPECT_EQ(4, st.document_lookups) << "an integral float counts";
    EXPECT_EQ(0, st.cache_hits);
    EXPECT_DOUBLE_EQ(0.25, st.execution_time);
    ASSERT_EQ(2u, gj_result_warning_count(b.res));
    int64_t code = 0;
    const char *msg = nullptr;
    ASSERT_TRUE(gj_result_warning(b.res, 0, &code, &msg));
    EXPECT_EQ(1562, code);
    EXPECT_STREQ("division by zero", msg);
    EXPECT_FALSE(gj_result_warning(b.res, 1, &code, &msg)) << "no numeric code";
    EXPECT_FALSE(gj_result_warning(b.res, 2, &code, &msg));
    EXPECT_TRUE(gj_result_warning(b.res, 0, nullptr, nullptr));
}

TEST(ResultMeta, ArangoExtraOnlyAndNoFullCount)
{
    // Only "extra" (as a job.attach replay might carry): stats and warnings
    // are found inside it; fullCount absent reads -1.
    Built b(nullptr, {},
            { { "extra", map_of({ { "stats", map_of({ { "scannedFull", gj_value_int(5) },
                                                     { "executionTime", gj_value_int(1) } }) },
                                  { "warnings", list_of({ map_of({ { "code", gj_value_int(1) },
                                                                   { "message", str("m") } }) }) } }) } });
    gj_arango_stats st = GJ_ARANGO_STATS_INIT;
    ASSERT_TRUE(gj_result_arango_stats(b.res, &st));
    EXPECT_EQ(5, st.scanned_full);
    EXPECT_EQ(-1, st.full_count);
    EXPECT_DOUBLE_EQ(1.0, st.execution_time);
    EXPECT_EQ(1u, gj_result_warning_count(b.res));
    int64_t count = 5;
    EXPECT_FALSE(gj_result_count(b.res, &count));
    EXPECT_EQ(5, count) << "untouched when absent";
    // An Arango detached result names its coordinator as the address.
    Built d(nullptr, {}, { { "coordinator", str("c1:8529") } });
    EXPECT_STREQ("c1:8529", gj_result_server_address(d.res));
    Built e(nullptr, {}, {});
    EXPECT_FALSE(gj_result_arango_stats(e.res, &st));
    EXPECT_EQ(-1, st.full_count);
    EXPECT_EQ(0, st.scanned_full);
}

// ---- round trips through the reference servers ---------------------------------

struct Err {
    gj_error *e = gj_error_new();
    ~Err() { gj_error_free(e); }
    const char *msg() const { return gj_error_message(e); }
};

int run(gj_client *c, const char *text, gj_result **res, Err &err,
        std::initializer_list<std::pair<const char *, gj_value *>> options = {})
{
    gj_request *req = nullptr;
    EXPECT_EQ(0, gj_request_new(&req, GJ_OP_QUERY, text));
    for (auto &o : options)
        EXPECT_EQ(0, gj_request_set_option(req, o.first, o.second));
    int rc = gj_client_execute(c, req, 30000, res, err.e);
    gj_request_unref(req);
    return rc;
}

TEST(ResultMetaRoundTrip, Bolt)
{
    std::string bin = gjtest::build_path("tests/servers/bolt/bolt-refserver");
    if (access(bin.c_str(), X_OK) != 0)
        GTEST_SKIP() << "bolt-refserver not built";
    for (const char *version : { "5.8", "5.4" }) {
        gjtest::ServerProcess server(bin, { "--port", "0", "--versions", version });
        ASSERT_TRUE(server.ok()) << server.error();
        Err err;
        gj_client *c = nullptr;
        std::string url = "bolt://neo4j:password@127.0.0.1:" + std::to_string(server.port());
        ASSERT_EQ(0, gj_client_new_url(&c, url.c_str(), err.e)) << err.msg();
        gj_result *res = nullptr;
        ASSERT_EQ(0, run(c, "CREATE (n:Meta {v: 1, w: 2}) RETURN n.v AS v, n.w AS w", &res, err)) << err.msg();
        // CREATE ... RETURN reads what it wrote: "rw", as Neo4j says.
        EXPECT_EQ(GJ_QUERY_TYPE_READ_WRITE, gj_result_query_type(res)) << version;
        ASSERT_NE(nullptr, gj_result_bookmark(res));
        EXPECT_EQ(0, strncmp(gj_result_bookmark(res), "FB:", 3)) << gj_result_bookmark(res);
        gj_counters cnt = GJ_COUNTERS_INIT;
        ASSERT_TRUE(gj_result_counters(res, &cnt));
        EXPECT_EQ(1, cnt.nodes_created);
        EXPECT_EQ(2, cnt.properties_set);
        EXPECT_EQ(1, cnt.labels_added);
        EXPECT_TRUE(cnt.contains_updates);
        EXPECT_EQ(2, num(gj_result_row_get(res, 0, "w")));
        EXPECT_EQ(1, num(gj_result_row_get(res, 0, "v")));
        // The member that ran it (meta "address", the Bolt backend's endpoint).
        ASSERT_NE(nullptr, gj_result_server_address(res));
        EXPECT_NE(std::string::npos,
                  std::string(gj_result_server_address(res)).find("127.0.0.1:" + std::to_string(server.port())))
            << gj_result_server_address(res);
        ASSERT_NE(nullptr, gj_result_server_agent(res));
        EXPECT_EQ(0, strncmp(gj_result_server_agent(res), "Neo4j/", 6)) << gj_result_server_agent(res);
        gj_result_free(res);

        ASSERT_EQ(0, run(c, "MATCH (n:NoSuchLabel) RETURN n", &res, err)) << err.msg();
        EXPECT_EQ(GJ_QUERY_TYPE_READ, gj_result_query_type(res));
        ASSERT_EQ(1u, gj_result_notification_count(res)) << version;
        gj_notification n = GJ_NOTIFICATION_INIT;
        ASSERT_TRUE(gj_result_notification(res, 0, &n));
        EXPECT_STREQ("Neo.ClientNotification.Statement.UnknownLabelWarning", n.code);
        EXPECT_STREQ("WARNING", n.severity);
        EXPECT_STREQ("UNRECOGNIZED", n.classification);
        EXPECT_TRUE(n.has_position);
        EXPECT_EQ(1, n.line);
        EXPECT_TRUE(n.is_notification);
        if (strcmp(version, "5.8") == 0) {
            EXPECT_STREQ("01N50", n.gql_status);
        } else {
            EXPECT_EQ(nullptr, n.gql_status);
        }
        gj_result_free(res);
        gj_client_free(c);
    }
}

TEST(ResultMetaRoundTrip, Arango)
{
    std::string bin = gjtest::build_path("tests/servers/arango/arango-refserver");
    if (access(bin.c_str(), X_OK) != 0)
        GTEST_SKIP() << "arango-refserver not built";
    gjtest::ServerProcess server(bin, { "--port", "0", "--user", "root", "--password", "pw" });
    ASSERT_TRUE(server.ok()) << server.error();
    Err err;
    gj_client *c = nullptr;
    std::string url = "http://root:pw@127.0.0.1:" + std::to_string(server.port());
    ASSERT_EQ(0, gj_client_new_url(&c, url.c_str(), err.e)) << err.msg();
    gj_result *res = nullptr;
    ASSERT_EQ(0, run(c, "FOR i IN 1..10 FILTER i > 3 LIMIT 2 RETURN {i: i, sq: i}", &res, err,
                     { { "count", gj_value_bool(true) }, { "fullCount", gj_value_bool(true) } }))
        << err.msg();
    int64_t count = 0;
    ASSERT_TRUE(gj_result_count(res, &count));
    EXPECT_EQ(2, count);
    gj_arango_stats st = GJ_ARANGO_STATS_INIT;
    ASSERT_TRUE(gj_result_arango_stats(res, &st));
    EXPECT_EQ(3, st.filtered);
    EXPECT_EQ(7, st.full_count);
    EXPECT_EQ(0, st.writes_executed);
    EXPECT_GE(st.execution_time, 0.0);
    EXPECT_EQ(0u, gj_result_warning_count(res));
    EXPECT_EQ(5, num(gj_result_row_get(res, 1, "i")));
    EXPECT_EQ(nullptr, gj_result_row_get(res, 0, "nope"));
    EXPECT_EQ(nullptr, gj_result_bookmark(res));
    gj_result_free(res);
    gj_client_free(c);
}

} // namespace
