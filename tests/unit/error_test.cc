// Error codes, the gj_error object, log plumbing and URL redaction.
#include <gtest/gtest.h>

#include <string>
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

} // namespace
