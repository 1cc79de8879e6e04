// Unit tests of the configuration (lib/config/config*.c): URLs, text forms,
// typed setters and getters, YAML and JSON files and their error messages.
#include <graphjob.h>

extern "C" {
#include "config/config_internal.h"
}

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <unistd.h>

namespace {

struct Err {
    gj_error *e = gj_error_new();
    Err() = default;
    Err(const Err &) = delete;
    Err &operator=(const Err &) = delete;
    ~Err() { gj_error_free(e); }
    std::string msg() const { return gj_error_message(e); }
    int code() const { return gj_error_code(e); }
};

struct Cfg {
    gj_config *c = nullptr;
    Cfg() = default;
    Cfg(const Cfg &) = delete;
    Cfg &operator=(const Cfg &) = delete;
    ~Cfg() { gj_config_free(c); }
    gj_config **out() { return &c; }
};

std::string data_path(const char *name)
{
    const char *srcdir = std::getenv("GJ_SRCDIR");
    return std::string(srcdir != nullptr ? srcdir : GJ_SRCDIR) + "/tests/unit/data/config/" + name;
}

const gj_target_settings *target(const gj_config *cfg, const char *name)
{
    const gj_target_settings *ts = gj__config_target(cfg, name);
    EXPECT_NE(ts, nullptr) << "no target " << (name ? name : "(default)");
    return ts;
}

std::string get_string(const gj_config *cfg, const char *tgt, const char *key)
{
    Err err;
    const char *s = nullptr;
    EXPECT_EQ(gj_config_get_string(cfg, tgt, key, &s, err.e), 0) << err.msg();
    return s != nullptr ? s : "(null)";
}

int64_t get_int(const gj_config *cfg, const char *tgt, const char *key)
{
    Err err;
    int64_t v = -12345;
    EXPECT_EQ(gj_config_get_int(cfg, tgt, key, &v, err.e), 0) << err.msg();
    return v;
}

int64_t get_duration(const gj_config *cfg, const char *tgt, const char *key)
{
    Err err;
    int64_t v = -12345;
    EXPECT_EQ(gj_config_get_duration(cfg, tgt, key, &v, err.e), 0) << err.msg();
    return v;
}

// The error message of a URL that must fail with GJ_ECONFIG.
std::string url_error(const char *url)
{
    Cfg cfg;
    Err err;
    EXPECT_EQ(gj_config_from_url(cfg.out(), url, err.e), GJ_ECONFIG) << url;
    EXPECT_EQ(cfg.c, nullptr);
    EXPECT_EQ(err.code(), GJ_ECONFIG);
    return err.msg();
}

// The error message of a document that must fail with GJ_ECONFIG.
std::string doc_error(const std::string &text, gj_config_format format)
{
    Cfg cfg;
    Err err;
    const char *origin = format == GJ_CONFIG_JSON ? "bad.json" : "bad.yaml";
    EXPECT_EQ(gj_config_parse(cfg.out(), text.data(), text.size(), format, origin, err.e),
              GJ_ECONFIG)
        << text;
    EXPECT_EQ(cfg.c, nullptr);
    return err.msg();
}

std::string yaml_error(const std::string &text) { return doc_error(text, GJ_CONFIG_YAML); }
std::string json_error(const std::string &text) { return doc_error(text, GJ_CONFIG_JSON); }

class EnvVar {
  public:
    EnvVar(const char *name, const char *value) : name_(name) { setenv(name, value, 1); }
    ~EnvVar() { unsetenv(name_); }
    EnvVar(const EnvVar &) = delete;
    EnvVar &operator=(const EnvVar &) = delete;

  private:
    const char *name_;
};

// ---- URLs ---------------------------------------------------------------------

TEST(ConfigUrl, MultiHostWithCredentialsAndQuery)
{
    Cfg cfg;
    Err err;
    const char *url =
        "bolt://neo4j:s%40cr%3At@db1:7687,db2:7688,db3?max_conns=8&response_timeout=5s"
        "&database=my%20db&ssl_verify=false";
    ASSERT_EQ(gj_config_from_url(cfg.out(), url, err.e), 0) << err.msg();
    ASSERT_EQ(gj_config_target_count(cfg.c), 1u);
    EXPECT_STREQ(gj_config_target_name(cfg.c, 0), "default");
    const gj_target_settings *ts = target(cfg.c, nullptr);
    ASSERT_NE(ts, nullptr);
    EXPECT_STREQ(ts->backend, "bolt");
    EXPECT_STREQ(ts->scheme, "bolt");
    EXPECT_STREQ(ts->url, url);
    EXPECT_FALSE(ts->tls);
    EXPECT_FALSE(ts->ssl_verify);
    EXPECT_STREQ(ts->username, "neo4j");
    EXPECT_STREQ(ts->password, "s@cr:t");
    EXPECT_STREQ(ts->database, "my db");
    ASSERT_EQ(ts->n_hosts, 3u);
    EXPECT_STREQ(ts->hosts[0].host, "db1");
    EXPECT_EQ(ts->hosts[0].port, 7687);
    EXPECT_STREQ(ts->hosts[1].host, "db2");
    EXPECT_EQ(ts->hosts[1].port, 7688);
    EXPECT_STREQ(ts->hosts[2].host, "db3");
    EXPECT_EQ(ts->hosts[2].port, 0);
    EXPECT_EQ(ts->max_conns, 8u);
    EXPECT_EQ(ts->response_timeout_ms, 5000);
    EXPECT_EQ(ts->path, nullptr);
    EXPECT_EQ(get_string(cfg.c, nullptr, "hosts"), "db1:7687,db2:7688,db3");
    // Untouched settings keep their defaults.
    EXPECT_EQ(ts->connect_timeout_ms, 10000);
    EXPECT_EQ(ts->max_inflight, 64u);
    EXPECT_EQ(ts->max_message_size, (size_t)64 << 20);
}

TEST(ConfigUrl, Ipv6Hosts)
{
    Cfg cfg;
    Err err;
    ASSERT_EQ(gj_config_from_url(cfg.out(), "bolt+s://[::1]:7687,[2001:db8::2],h:1", err.e), 0)
        << err.msg();
    const gj_target_settings *ts = target(cfg.c, nullptr);
    ASSERT_NE(ts, nullptr);
    ASSERT_EQ(ts->n_hosts, 3u);
    EXPECT_STREQ(ts->hosts[0].host, "::1");
    EXPECT_EQ(ts->hosts[0].port, 7687);
    EXPECT_STREQ(ts->hosts[1].host, "2001:db8::2");
    EXPECT_EQ(ts->hosts[1].port, 0);
    EXPECT_TRUE(ts->tls);
    EXPECT_TRUE(ts->ssl_verify);
    EXPECT_EQ(get_string(cfg.c, nullptr, "hosts"), "[::1]:7687,[2001:db8::2],h:1");
}

TEST(ConfigUrl, EveryScheme)
{
    struct Case {
        const char *scheme, *backend;
        bool tls, verify;
    } cases[] = {
        {"bolt", "bolt", false, true},           {"bolt+s", "bolt", true, true},
        {"bolt+ssc", "bolt", true, false},       {"neo4j", "bolt", false, true},
        {"neo4j+s", "bolt", true, true},         {"neo4j+ssc", "bolt", true, false},
        {"ws", "gremlin", false, true},          {"wss", "gremlin", true, true},
        {"gremlin", "gremlin", false, true},     {"gremlin+ws", "gremlin", false, true},
        {"gremlin+wss", "gremlin", true, true},  {"http", "arango", false, true},
        {"https", "arango", true, true},         {"arangodb", "arango", false, true},
        {"arangodb+http", "arango", false, true}, {"arangodb+https", "arango", true, true},
        {"graphql", "graphql", false, true},     {"graphql+http", "graphql", false, true},
        {"graphql+https", "graphql", true, true}, {"graphql+ws", "graphql", false, true},
        {"graphql+wss", "graphql", true, true},  {"test", "test", false, true},
        {"BOLT+S", "bolt", true, true},
    };
    for (const Case &c : cases) {
        Cfg cfg;
        Err err;
        std::string url = std::string(c.scheme) + "://host:1234/p";
        ASSERT_EQ(gj_config_from_url(cfg.out(), url.c_str(), err.e), 0) << url << err.msg();
        const gj_target_settings *ts = target(cfg.c, nullptr);
        ASSERT_NE(ts, nullptr);
        EXPECT_STREQ(ts->backend, c.backend) << url;
        EXPECT_EQ(ts->tls, c.tls) << url;
        EXPECT_EQ(ts->ssl_verify, c.verify) << url;
        EXPECT_STREQ(ts->path, "/p") << url;
        std::string lower(c.scheme);
        for (char &ch : lower)
            ch = (char)std::tolower((unsigned char)ch);
        EXPECT_STREQ(ts->scheme, lower.c_str());
    }
}

TEST(ConfigUrl, GraphqlUnixSocket)
{
    Err err;
    // The socket path, ':' and the HTTP path; query keys still apply.
    Cfg a;
    ASSERT_EQ(gj_config_from_url(a.out(), "graphql+unix:///run/app.sock:/graphql?max_conns=2", err.e),
              0)
        << err.msg();
    const gj_target_settings *ts = target(a.c, nullptr);
    ASSERT_NE(ts, nullptr);
    EXPECT_STREQ(ts->backend, "graphql");
    ASSERT_EQ(ts->n_hosts, 1u);
    EXPECT_STREQ(ts->hosts[0].host, "/run/app.sock");
    EXPECT_EQ(ts->hosts[0].port, 0);
    EXPECT_STREQ(ts->path, "/graphql");
    EXPECT_EQ(ts->max_conns, 2u);
    // Without an HTTP path: the backend's default.
    Cfg b;
    ASSERT_EQ(gj_config_from_url(b.out(), "graphql+unix:///tmp/x.sock", err.e), 0) << err.msg();
    EXPECT_STREQ(target(b.c, nullptr)->hosts[0].host, "/tmp/x.sock");
    EXPECT_EQ(target(b.c, nullptr)->path, nullptr);
    // Percent-encoded, docker style.
    Cfg c;
    ASSERT_EQ(gj_config_from_url(c.out(), "graphql+unix://%2Fvar%2Frun%2Fg.sock/api/graphql", err.e), 0)
        << err.msg();
    EXPECT_STREQ(target(c.c, nullptr)->hosts[0].host, "/var/run/g.sock");
    EXPECT_STREQ(target(c.c, nullptr)->path, "/api/graphql");
    EXPECT_EQ(url_error("graphql+unix://relative.sock/graphql"),
              "a graphql+unix URL names an absolute socket path: "
              "graphql+unix:///run/app.sock:/graphql");
    EXPECT_EQ(url_error("graphql+unix://"), "a graphql+unix URL names an absolute socket path: "
                                            "graphql+unix:///run/app.sock:/graphql");
    EXPECT_EQ(url_error(("graphql+unix:///" + std::string(200, 'a') + ":/g").c_str()),
              "a graphql+unix URL needs a socket path of at most 107 bytes");
}

TEST(ConfigUrl, PathClientKeysAndTestSchemeWithoutHost)
{
    Cfg cfg;
    Err err;
    ASSERT_EQ(gj_config_from_url(cfg.out(), "http://c1:8529,c2:8529/_db/shop?workers=3&queue_size=10",
                                 err.e),
              0)
        << err.msg();
    EXPECT_EQ(cfg.c->workers, 3u);
    EXPECT_EQ(cfg.c->queue_size, 10u);
    EXPECT_STREQ(target(cfg.c, nullptr)->path, "/_db/shop");

    Cfg t;
    ASSERT_EQ(gj_config_from_url(t.out(), "test://", err.e), 0) << err.msg();
    EXPECT_EQ(target(t.c, nullptr)->n_hosts, 0u);
    EXPECT_STREQ(target(t.c, nullptr)->backend, "test");
}

TEST(ConfigUrl, BadPorts)
{
    EXPECT_EQ(url_error("bolt://db1:99999"),
              "URL: bad port \"99999\" in host \"db1:99999\" (expected 1 to 65535)");
    EXPECT_EQ(url_error("bolt://a:1,db2:0"),
              "URL: bad port \"0\" in host \"db2:0\" (expected 1 to 65535)");
    EXPECT_EQ(url_error("bolt://db:65536"),
              "URL: bad port \"65536\" in host \"db:65536\" (expected 1 to 65535)");
    EXPECT_EQ(url_error("bolt://db:http"),
              "URL: bad port \"http\" in host \"db:http\" (expected 1 to 65535)");
    EXPECT_EQ(url_error("bolt://db:"), "URL: bad port \"\" in host \"db:\" (expected 1 to 65535)");
    EXPECT_EQ(url_error("bolt://[::1]:123456"),
              "URL: bad port \"123456\" in host \"[::1]:123456\" (expected 1 to 65535)");
    // The highest and lowest ports are fine.
    Cfg cfg;
    Err err;
    EXPECT_EQ(gj_config_from_url(cfg.out(), "bolt://a:1,b:65535", err.e), 0) << err.msg();
}

TEST(ConfigUrl, Errors)
{
    EXPECT_EQ(url_error("bolt://db?max_conn=3"), "unknown URL query key \"max_conn\"");
    EXPECT_EQ(url_error("bolt://db?max_conns=lots"),
              "URL query key 'max_conns': expected an integer, got \"lots\"");
    EXPECT_EQ(url_error("bolt://db?max_conns=0"),
              "URL query key 'max_conns': expected an integer from 1 to 10000, got 0");
    EXPECT_EQ(url_error("bolt://db?max_conns=1&max_conns=2"), "duplicate URL query key 'max_conns'");
    EXPECT_EQ(url_error("bolt://db?tls"), "URL query item \"tls\" has no '='");
    EXPECT_EQ(url_error("bolt://db?url=x"), "'url' cannot be given in a URL query");
    EXPECT_EQ(url_error("bolt://db?aliases=x"), "'aliases' cannot be given in a URL query");
    EXPECT_EQ(url_error("mongodb://db"),
              "unknown URL scheme \"mongodb\" (expected bolt, neo4j (+s, +ssc), ws, wss, gremlin "
              "(+ws, +wss), http, https, arangodb (+http, +https), graphql (+http, +https, +ws, "
              "+wss, +unix) or test)");
    EXPECT_EQ(url_error("db:7687"), "URL has no scheme (expected scheme://host...)");
    EXPECT_EQ(url_error("://db"), "URL has no scheme (expected scheme://host...)");
    EXPECT_EQ(url_error("bolt://"), "URL has no host");
    EXPECT_EQ(url_error("bolt://u:p@/x"), "URL has no host");
    EXPECT_EQ(url_error("bolt://::1:7687"),
              "URL: IPv6 address in host \"::1:7687\" must be in brackets, as in [::1]:7687");
    EXPECT_EQ(url_error("bolt://[::1"), "URL: missing ']' in host \"[::1\"");
    EXPECT_EQ(url_error("bolt://a,,b"), "URL: empty host in the list \"a,,b\"");
    EXPECT_EQ(url_error("bolt://d b"), "URL contains a space or control character at offset 8");
    EXPECT_EQ(url_error("bolt://db#frag"), "URL fragments ('#...') are not supported");
    EXPECT_EQ(url_error("bolt://u%zz@db"), "bad percent-encoding in the user name");
    EXPECT_EQ(url_error("bolt://db?database=%00"),
              "URL query key 'database': bad percent-encoding in the value");
    EXPECT_EQ(url_error("http://db/a b"), "URL contains a space or control character at offset 11");
}

TEST(ConfigUrl, PasswordNeverInMessages)
{
    const char *urls[] = {
        "bolt://u:TopSecret@db:99999",
        "bolt://u:TopSecret%zz@db",
        "bolt://u:TopSecret@db?max_conns=x",
        "bolt://u:TopSecret@db?password_env=GJ_CONFIG_TEST_PW_UNSET",
        "bolt://u@db?password=TopSecret&max_conns=0",
        "bolt://u:TopSecret@::1",
    };
    for (const char *url : urls) {
        std::string msg = url_error(url);
        EXPECT_EQ(msg.find("TopSecret"), std::string::npos) << msg;
        EXPECT_FALSE(msg.empty());
    }
    EXPECT_EQ(url_error("bolt://u:p%4@db"), "bad percent-encoding in the password");
}

TEST(ConfigUrl, PasswordEnv)
{
    EnvVar pw("GJ_CONFIG_TEST_PW", "from env");
    Cfg cfg;
    Err err;
    ASSERT_EQ(gj_config_from_url(cfg.out(), "bolt://u@db?password_env=GJ_CONFIG_TEST_PW", err.e), 0)
        << err.msg();
    EXPECT_STREQ(target(cfg.c, nullptr)->password, "from env");
    EXPECT_STREQ(target(cfg.c, nullptr)->password_env, "GJ_CONFIG_TEST_PW");

    EXPECT_EQ(url_error("bolt://u:p@db?password_env=GJ_CONFIG_TEST_PW"),
              "URL gives both a password and password_env: give one");
    EXPECT_EQ(url_error("bolt://u@db?password_env=GJ_CONFIG_TEST_PW_UNSET"),
              "URL query key 'password_env': environment variable GJ_CONFIG_TEST_PW_UNSET "
              "(password_env) is not set");
    EXPECT_EQ(url_error("bolt://u@db?password_env=1X"),
              "URL query key 'password_env': expected the name of an environment variable, got "
              "\"1X\"");
}

TEST(ConfigUrl, AddUrlReplacesAndFailureKeepsConfig)
{
    Cfg cfg;
    Err err;
    ASSERT_EQ(gj_config_new(cfg.out()), 0);
    EXPECT_EQ(gj_config_target_count(cfg.c), 0u);
    ASSERT_EQ(gj_config_add_url(cfg.c, "graph", "bolt://a:1?max_conns=7", err.e), 0) << err.msg();
    ASSERT_EQ(gj_config_add_url(cfg.c, "docs", "http://b:2", err.e), 0) << err.msg();
    ASSERT_EQ(gj_config_target_count(cfg.c), 2u);
    EXPECT_STREQ(gj_config_target_name(cfg.c, 0), "graph");
    EXPECT_STREQ(gj_config_target_name(cfg.c, 1), "docs");
    EXPECT_EQ(gj_config_target_name(cfg.c, 2), nullptr);

    // Replacing "graph" starts from defaults (max_conns back to 4) and keeps its place.
    ASSERT_EQ(gj_config_add_url(cfg.c, "graph", "neo4j://c:3", err.e), 0) << err.msg();
    ASSERT_EQ(gj_config_target_count(cfg.c), 2u);
    EXPECT_STREQ(gj_config_target_name(cfg.c, 0), "graph");
    EXPECT_EQ(target(cfg.c, "graph")->max_conns, 4u);
    EXPECT_EQ(get_string(cfg.c, "graph", "hosts"), "c:3");

    // A failing URL changes nothing, client settings included.
    EXPECT_EQ(gj_config_add_url(cfg.c, "graph", "neo4j://d:4?workers=9&max_conns=x", err.e),
              GJ_ECONFIG);
    EXPECT_EQ(cfg.c->workers, 4u);
    EXPECT_EQ(get_string(cfg.c, "graph", "hosts"), "c:3");
    EXPECT_EQ(gj_config_add_url(cfg.c, "", "bolt://x", err.e), GJ_ECONFIG);
    EXPECT_EQ(err.msg(), "empty target name");
    EXPECT_EQ(gj_config_target_count(cfg.c), 2u);
}

// ---- text forms -------------------------------------------------------------------

TEST(ConfigText, Durations)
{
    struct Case {
        const char *text;
        int64_t ms;
    } good[] = {
        {"250ms", 250},   {"5s", 5000},       {"1.5s", 1500},  {"2m", 120000},
        {"1h", 3600000},  {"0", 0},           {"0s", 0},       {"1500", 1500},
        {"1h30m", 5400000}, {"0.25s", 250},   {"2d", 172800000}, {"1m1s1ms", 61001},
    };
    for (const Case &c : good) {
        Err err;
        int64_t ms = -1;
        EXPECT_EQ(gj__config_parse_duration(c.text, false, &ms, err.e), 0) << c.text << err.msg();
        EXPECT_EQ(ms, c.ms) << c.text;
    }
    Err err;
    int64_t ms = 0;
    EXPECT_EQ(gj__config_parse_duration("off", true, &ms, err.e), 0);
    EXPECT_EQ(ms, GJ_LIVENESS_NEVER);

    struct Bad {
        const char *text, *msg;
    } bad[] = {
        {"5 sec", "expected a duration such as 250ms, 5s, 1.5s, 2m or 1h, got \"5 sec\""},
        {"off", "expected a duration such as 250ms, 5s, 1.5s, 2m or 1h, got \"off\""},
        {"1.5", "expected a duration such as 250ms, 5s, 1.5s, 2m or 1h, got \"1.5\""},
        {"s", "expected a duration such as 250ms, 5s, 1.5s, 2m or 1h, got \"s\""},
        {"", "expected a duration such as 250ms, 5s, 1.5s, 2m or 1h, got \"\""},
        {"5y", "expected a duration such as 250ms, 5s, 1.5s, 2m or 1h, got \"5y\""},
        {"1M", "expected a duration such as 250ms, 5s, 1.5s, 2m or 1h, got \"1M\""},
        {"5S", "expected a duration such as 250ms, 5s, 1.5s, 2m or 1h, got \"5S\""},
        {"-5s", "expected a duration of 0 or more, got \"-5s\""},
        {"0.5ms", "expected a whole number of milliseconds, got \"0.5ms\""},
        {"99999999999h", "expected a duration of at most 10 years, got \"99999999999h\""},
        {"99999999999999999999", "expected a duration of at most 10 years, got \"99999999999999999999\""},
    };
    for (const Bad &b : bad) {
        Err e;
        ms = 77;
        EXPECT_EQ(gj__config_parse_duration(b.text, false, &ms, e.e), GJ_ECONFIG) << b.text;
        EXPECT_EQ(e.msg(), b.msg);
        EXPECT_EQ(ms, 77);
    }
}

TEST(ConfigText, SizesIntsBools)
{
    struct Case {
        const char *text;
        uint64_t bytes;
    } good[] = {
        {"65536", 65536},       {"64KiB", 65536},          {"16MiB", 16u << 20},
        {"1GiB", 1u << 30},     {"10kB", 10000},           {"5MB", 5000000},
        {"2GB", 2000000000ull}, {"100 B", 100},            {"1kib", 1024},
    };
    for (const Case &c : good) {
        Err err;
        uint64_t v = 0;
        EXPECT_EQ(gj__config_parse_size(c.text, &v, err.e), 0) << c.text << err.msg();
        EXPECT_EQ(v, c.bytes) << c.text;
    }
    Err err;
    uint64_t v;
    EXPECT_EQ(gj__config_parse_size("lots", &v, err.e), GJ_ECONFIG);
    EXPECT_EQ(err.msg(), "expected a size in bytes such as 65536, 64KiB or 16MiB, got \"lots\"");
    EXPECT_EQ(gj__config_parse_size("12XB", &v, err.e), GJ_ECONFIG);
    EXPECT_EQ(gj__config_parse_size("-1", &v, err.e), GJ_ECONFIG);

    int64_t i = 0;
    EXPECT_EQ(gj__config_parse_int("-42", &i, err.e), 0);
    EXPECT_EQ(i, -42);
    EXPECT_EQ(gj__config_parse_int("+7", &i, err.e), 0);
    EXPECT_EQ(i, 7);
    EXPECT_EQ(gj__config_parse_int("9223372036854775807", &i, err.e), 0);
    EXPECT_EQ(i, INT64_MAX);
    EXPECT_EQ(gj__config_parse_int("9223372036854775808", &i, err.e), GJ_ECONFIG);
    EXPECT_EQ(err.msg(), "integer out of range, got \"9223372036854775808\"");
    EXPECT_EQ(gj__config_parse_int("4x", &i, err.e), GJ_ECONFIG);
    EXPECT_EQ(err.msg(), "expected an integer, got \"4x\"");
    EXPECT_EQ(gj__config_parse_int("", &i, err.e), GJ_ECONFIG);

    bool b = false;
    for (const char *t : {"true", "TRUE", "yes", "on", "1"}) {
        b = false;
        EXPECT_EQ(gj__config_parse_bool(t, &b, err.e), 0) << t;
        EXPECT_TRUE(b) << t;
    }
    for (const char *t : {"false", "No", "off", "0"}) {
        b = true;
        EXPECT_EQ(gj__config_parse_bool(t, &b, err.e), 0) << t;
        EXPECT_FALSE(b) << t;
    }
    EXPECT_EQ(gj__config_parse_bool("maybe", &b, err.e), GJ_ECONFIG);
    EXPECT_EQ(err.msg(), "expected a boolean (true or false), got \"maybe\"");
}

TEST(ConfigText, HostsAndQuoting)
{
    Err err;
    gj_host *hosts = nullptr;
    size_t n = 0;
    ASSERT_EQ(gj__config_parse_hosts(" a:1 , [::1] ,b-2.example_x", &hosts, &n, err.e), 0)
        << err.msg();
    ASSERT_EQ(n, 3u);
    EXPECT_STREQ(hosts[0].host, "a");
    EXPECT_EQ(hosts[0].port, 1);
    EXPECT_STREQ(hosts[1].host, "::1");
    EXPECT_EQ(hosts[1].port, 0);
    EXPECT_STREQ(hosts[2].host, "b-2.example_x");
    char *text = gj__config_hosts_text(hosts, n);
    ASSERT_NE(text, nullptr);
    EXPECT_STREQ(text, "a:1,[::1],b-2.example_x");
    free(text);
    gj__config_hosts_free(hosts, n);

    EXPECT_EQ(gj__config_parse_hosts("a/b", &hosts, &n, err.e), GJ_ECONFIG);
    EXPECT_EQ(err.msg(), "bad character in host \"a/b\"");
    EXPECT_EQ(gj__config_parse_hosts("[::1]x", &hosts, &n, err.e), GJ_ECONFIG);
    EXPECT_EQ(err.msg(), "unexpected text after ']' in host \"[::1]x\"");
    EXPECT_EQ(gj__config_parse_hosts("[]:1", &hosts, &n, err.e), GJ_ECONFIG);
    EXPECT_EQ(err.msg(), "bad IPv6 address in host \"[]:1\"");
    EXPECT_EQ(gj__config_parse_hosts(":1", &hosts, &n, err.e), GJ_ECONFIG);
    EXPECT_EQ(err.msg(), "empty host name in \":1\"");
    std::string many;
    for (int i = 0; i <= GJ__CONFIG_MAX_HOSTS; i++)
        many += i ? ",h" : "h";
    EXPECT_EQ(gj__config_parse_hosts(many.c_str(), &hosts, &n, err.e), GJ_ECONFIG);
    EXPECT_EQ(err.msg(), "too many hosts (at most 256)");

    char buf[256];
    gj__config_quote("a\"b\\c\n\x01", 7, buf, sizeof buf);
    EXPECT_STREQ(buf, "\"a\\\"b\\\\c\\x0a\\x01\"");
    std::string longtext(100, 'x');
    gj__config_quote(longtext.data(), longtext.size(), buf, sizeof buf);
    EXPECT_EQ(std::string(buf), "\"" + std::string(60, 'x') + "...\"");
}

// ---- setters and getters ------------------------------------------------------------------

TEST(ConfigSetters, RoundTripEveryType)
{
    Cfg cfg;
    Err err;
    ASSERT_EQ(gj_config_new(cfg.out()), 0);
    EXPECT_EQ(get_int(cfg.c, nullptr, "workers"), 4);
    EXPECT_EQ(get_int(cfg.c, nullptr, "queue_size"), 65536);

    ASSERT_EQ(gj_config_set_int(cfg.c, nullptr, "workers", 16, err.e), 0) << err.msg();
    ASSERT_EQ(gj_config_set_int(cfg.c, nullptr, "queue_size", 500, err.e), 0) << err.msg();
    EXPECT_EQ(gj_config_target_count(cfg.c), 0u);  // client settings create no target
    EXPECT_EQ(get_int(cfg.c, nullptr, "workers"), 16);
    EXPECT_EQ(cfg.c->queue_size, 500u);

    // target NULL: the "default" target, created on first use.
    ASSERT_EQ(gj_config_set_int(cfg.c, nullptr, "max_conns", 9, err.e), 0) << err.msg();
    ASSERT_EQ(gj_config_target_count(cfg.c), 1u);
    EXPECT_STREQ(gj_config_target_name(cfg.c, 0), "default");
    EXPECT_EQ(get_int(cfg.c, nullptr, "max_conns"), 9);
    EXPECT_EQ(get_int(cfg.c, "default", "max_conns"), 9);
    EXPECT_EQ(get_int(cfg.c, nullptr, "min_conns"), 0);

    ASSERT_EQ(gj_config_set_int(cfg.c, nullptr, "port", 7687, err.e), 0);
    EXPECT_EQ(get_int(cfg.c, nullptr, "port"), 7687);
    ASSERT_EQ(gj_config_set_int(cfg.c, nullptr, "max_message_size", 1024, err.e), 0);
    EXPECT_EQ(get_int(cfg.c, nullptr, "max_message_size"), 1024);

    bool b = true;
    ASSERT_EQ(gj_config_get_bool(cfg.c, nullptr, "ssl_verify", &b, err.e), 0);
    EXPECT_TRUE(b);
    ASSERT_EQ(gj_config_set_bool(cfg.c, nullptr, "ssl_verify", false, err.e), 0);
    ASSERT_EQ(gj_config_get_bool(cfg.c, nullptr, "ssl_verify", &b, err.e), 0);
    EXPECT_FALSE(b);

    EXPECT_EQ(get_duration(cfg.c, nullptr, "response_timeout"), 30000);
    EXPECT_EQ(get_duration(cfg.c, nullptr, "liveness_check"), 30000);
    EXPECT_EQ(get_duration(cfg.c, nullptr, "max_lifetime"), 3600000);
    EXPECT_EQ(get_duration(cfg.c, nullptr, "idle_timeout"), 300000);
    EXPECT_EQ(get_duration(cfg.c, nullptr, "host_backoff"), 1000);
    ASSERT_EQ(gj_config_set_duration(cfg.c, nullptr, "response_timeout", 0, err.e), 0);
    EXPECT_EQ(get_duration(cfg.c, nullptr, "response_timeout"), 0);
    ASSERT_EQ(gj_config_set_duration(cfg.c, nullptr, "liveness_check", GJ_LIVENESS_NEVER, err.e), 0)
        << err.msg();
    EXPECT_EQ(get_duration(cfg.c, nullptr, "liveness_check"), GJ_LIVENESS_NEVER);

    // Strings, including text forms of the other types.
    ASSERT_EQ(gj_config_set_string(cfg.c, nullptr, "database", "shop", err.e), 0);
    EXPECT_EQ(get_string(cfg.c, nullptr, "database"), "shop");
    ASSERT_EQ(gj_config_set_string(cfg.c, nullptr, "connect_timeout", "2.5s", err.e), 0);
    EXPECT_EQ(get_duration(cfg.c, nullptr, "connect_timeout"), 2500);
    ASSERT_EQ(gj_config_set_string(cfg.c, nullptr, "liveness_check", "off", err.e), 0);
    EXPECT_EQ(get_duration(cfg.c, nullptr, "liveness_check"), GJ_LIVENESS_NEVER);
    ASSERT_EQ(gj_config_set_string(cfg.c, nullptr, "max_inflight", "8", err.e), 0);
    EXPECT_EQ(get_int(cfg.c, nullptr, "max_inflight"), 8);
    ASSERT_EQ(gj_config_set_string(cfg.c, nullptr, "ssl_verify", "true", err.e), 0);
    ASSERT_EQ(gj_config_get_bool(cfg.c, nullptr, "ssl_verify", &b, err.e), 0);
    EXPECT_TRUE(b);
    ASSERT_EQ(gj_config_set_string(cfg.c, nullptr, "max_message_size", "16MiB", err.e), 0);
    EXPECT_EQ(get_int(cfg.c, nullptr, "max_message_size"), 16 << 20);
    ASSERT_EQ(gj_config_set_string(cfg.c, nullptr, "hosts", "a:1,b:2", err.e), 0);
    EXPECT_EQ(get_string(cfg.c, nullptr, "hosts"), "a:1,b:2");
    EXPECT_EQ(target(cfg.c, nullptr)->n_hosts, 2u);
    ASSERT_EQ(gj_config_set_string(cfg.c, nullptr, "hosts", nullptr, err.e), 0);
    EXPECT_EQ(get_string(cfg.c, nullptr, "hosts"), "(null)");
    ASSERT_EQ(gj_config_set_string(cfg.c, nullptr, "database", nullptr, err.e), 0);
    EXPECT_EQ(get_string(cfg.c, nullptr, "database"), "(null)");

    // scheme drives tls and the backend; an explicit backend wins over it.
    ASSERT_EQ(gj_config_set_string(cfg.c, nullptr, "scheme", "https", err.e), 0);
    EXPECT_EQ(get_string(cfg.c, nullptr, "backend"), "arango");
    EXPECT_TRUE(target(cfg.c, nullptr)->tls);
    ASSERT_EQ(gj_config_set_string(cfg.c, nullptr, "scheme", "graphql+http", err.e), 0);
    EXPECT_EQ(get_string(cfg.c, nullptr, "backend"), "graphql");
    EXPECT_FALSE(target(cfg.c, nullptr)->tls);
    ASSERT_EQ(gj_config_set_string(cfg.c, nullptr, "backend", "custom", err.e), 0);
    ASSERT_EQ(gj_config_set_string(cfg.c, nullptr, "scheme", "bolt+ssc", err.e), 0);
    EXPECT_EQ(get_string(cfg.c, nullptr, "backend"), "custom");
    EXPECT_FALSE(target(cfg.c, nullptr)->ssl_verify);

    // url on an existing target: what the URL says replaces, the rest stays.
    ASSERT_EQ(gj_config_set_string(cfg.c, nullptr, "url", "neo4j://x:1,y:2/p", err.e), 0)
        << err.msg();
    EXPECT_EQ(get_string(cfg.c, nullptr, "url"), "neo4j://x:1,y:2/p");
    EXPECT_EQ(get_string(cfg.c, nullptr, "hosts"), "x:1,y:2");
    EXPECT_EQ(get_string(cfg.c, nullptr, "path"), "/p");
    EXPECT_EQ(get_int(cfg.c, nullptr, "max_conns"), 9);

    // A named target is created by its first setter.
    ASSERT_EQ(gj_config_set_string(cfg.c, "docs", "hosts", "[::1]:8529", err.e), 0) << err.msg();
    ASSERT_EQ(gj_config_target_count(cfg.c), 2u);
    EXPECT_EQ(get_string(cfg.c, "docs", "hosts"), "[::1]:8529");
    EXPECT_EQ(get_int(cfg.c, "docs", "max_conns"), 4);
}

TEST(ConfigSetters, Maps)
{
    Cfg cfg;
    Err err;
    ASSERT_EQ(gj_config_new(cfg.out()), 0);
    gj_value *aliases = nullptr;
    ASSERT_EQ(gj_value_new_map(&aliases, 2), 0);
    ASSERT_EQ(gj_value_map_put_str(aliases, "g", gj_value_string("graph")), 0);
    ASSERT_EQ(gj_config_set_value(cfg.c, nullptr, "aliases", aliases, err.e), 0) << err.msg();
    EXPECT_EQ(target(cfg.c, nullptr)->aliases, aliases);  // referenced, not copied
    gj_value_unref(aliases);

    gj_value *bad = nullptr;
    ASSERT_EQ(gj_value_new_map(&bad, 1), 0);
    ASSERT_EQ(gj_value_map_put_str(bad, "g", gj_value_int(1)), 0);
    EXPECT_EQ(gj_config_set_value(cfg.c, nullptr, "aliases", bad, err.e), GJ_ECONFIG);
    EXPECT_EQ(err.msg(), "key 'aliases': expected a mapping of strings to strings, got int for 'g'");
    // options take any map.
    ASSERT_EQ(gj_config_set_value(cfg.c, nullptr, "options", bad, err.e), 0) << err.msg();
    gj_value_unref(bad);
    const gj_value *g = gj_value_map_get(target(cfg.c, nullptr)->options, "g");
    int64_t i = 0;
    ASSERT_EQ(gj_value_int_get(g, &i), 0);
    EXPECT_EQ(i, 1);

    gj_value *list = nullptr;
    ASSERT_EQ(gj_value_new_list(&list, 0), 0);
    EXPECT_EQ(gj_config_set_value(cfg.c, nullptr, "options", list, err.e), GJ_ECONFIG);
    EXPECT_EQ(err.msg(), "key 'options': expected a mapping, got a value of type list");
    EXPECT_EQ(gj_config_set_value(cfg.c, nullptr, "max_conns", list, err.e), GJ_ECONFIG);
    EXPECT_EQ(err.msg(), "key 'max_conns': expected an integer, got a value of type list");
    gj_value_unref(list);

    ASSERT_EQ(gj_config_set_value(cfg.c, nullptr, "options", nullptr, err.e), 0);
    EXPECT_EQ(target(cfg.c, nullptr)->options, nullptr);
    EXPECT_EQ(gj_config_set_string(cfg.c, nullptr, "aliases", "g=graph", err.e), GJ_ECONFIG);
    EXPECT_EQ(err.msg(), "key 'aliases': expected a mapping, got a string");
}

TEST(ConfigSetters, TypeAndNameErrors)
{
    Cfg cfg;
    Err err;
    ASSERT_EQ(gj_config_new(cfg.out()), 0);
    struct Case {
        int rc;
        const char *msg;
    };
    auto check = [&](int rc, const char *msg) {
        EXPECT_EQ(rc, GJ_ECONFIG) << msg;
        EXPECT_EQ(err.msg(), msg);
    };
    check(gj_config_set_int(cfg.c, nullptr, "max_conn", 1, err.e), "unknown setting 'max_conn'");
    EXPECT_EQ(gj_config_target_count(cfg.c), 0u);
    check(gj_config_set_int(cfg.c, nullptr, "response_timeout", 5, err.e),
          "key 'response_timeout': expected a duration, got an integer");
    // A failed setter does not leave the target it would have created.
    EXPECT_EQ(gj_config_target_count(cfg.c), 0u);
    check(gj_config_set_bool(cfg.c, nullptr, "max_conns", true, err.e),
          "key 'max_conns': expected an integer, got true");
    check(gj_config_set_duration(cfg.c, nullptr, "ssl_verify", 5, err.e),
          "key 'ssl_verify': expected a boolean, got a duration");
    check(gj_config_set_int(cfg.c, nullptr, "max_conns", 0, err.e),
          "key 'max_conns': expected an integer from 1 to 10000, got 0");
    check(gj_config_set_int(cfg.c, nullptr, "workers", -1, err.e),
          "key 'workers': expected an integer from 1 to 1024, got -1");
    check(gj_config_set_int(cfg.c, nullptr, "max_message_size", 0, err.e),
          "key 'max_message_size': expected a size from 1 to 4294967296 bytes, got 0");
    check(gj_config_set_string(cfg.c, nullptr, "max_message_size", "8GiB", err.e),
          "key 'max_message_size': expected a size from 1 to 4294967296 bytes, got \"8GiB\"");
    check(gj_config_set_string(cfg.c, nullptr, "max_conns", "99999999999999999999", err.e),
          "key 'max_conns': expected an integer from 1 to 10000, got \"99999999999999999999\"");
    check(gj_config_set_duration(cfg.c, nullptr, "response_timeout", -5, err.e),
          "key 'response_timeout': expected a duration of 0 or more, got -5 ms");
    check(gj_config_set_string(cfg.c, nullptr, "connect_timeout", "soon", err.e),
          "key 'connect_timeout': expected a duration such as 250ms, 5s, 1.5s, 2m or 1h, got "
          "\"soon\"");
    check(gj_config_set_string(cfg.c, nullptr, "scheme", "ftp", err.e),
          "key 'scheme': unknown URL scheme \"ftp\" (expected bolt, neo4j (+s, +ssc), ws, wss, "
          "gremlin (+ws, +wss), http, https, arangodb (+http, +https), graphql (+http, +https, "
          "+ws, +wss, +unix) or test)");
    check(gj_config_set_string(cfg.c, nullptr, "backend", "Neo 4j", err.e),
          "key 'backend': expected a backend name (bolt, gremlin, arango, graphql), got \"Neo 4j\"");
    check(gj_config_set_string(cfg.c, nullptr, "path", "graphql", err.e),
          "key 'path': expected a path starting with '/' without spaces, got \"graphql\"");
    check(gj_config_set_int(cfg.c, "graph", "workers", 2, err.e),
          "'workers' is a client setting, not a target's: pass target NULL");
    check(gj_config_set_string(cfg.c, "graph", "hosts", "a:0", err.e),
          "target 'graph', key 'hosts': bad port \"0\" in host \"a:0\" (expected 1 to 65535)");
    EXPECT_EQ(gj_config_target_count(cfg.c), 0u);

    // Getters: a missing target, and a setting of another type.
    int64_t v = 0;
    check(gj_config_get_int(cfg.c, nullptr, "max_conns", &v, err.e), "no target 'default'");
    ASSERT_EQ(gj_config_set_int(cfg.c, "graph", "max_conns", 3, err.e), 0);
    EXPECT_EQ(get_int(cfg.c, nullptr, "max_conns"), 3);  // the only target
    check(gj_config_get_int(cfg.c, "docs", "max_conns", &v, err.e), "no target 'docs'");
    check(gj_config_get_int(cfg.c, "graph", "response_timeout", &v, err.e),
          "target 'graph', key 'response_timeout': holds a duration, not an integer");
    bool b;
    check(gj_config_get_bool(cfg.c, "graph", "max_conns", &b, err.e),
          "target 'graph', key 'max_conns': holds an integer, not a boolean");
    const char *s;
    check(gj_config_get_string(cfg.c, "graph", "options", &s, err.e),
          "target 'graph', key 'options': holds a mapping, not a string");
    check(gj_config_get_duration(cfg.c, "graph", "username", &v, err.e),
          "target 'graph', key 'username': holds a string, not a duration");
    EXPECT_EQ(gj_config_set_int(nullptr, nullptr, "workers", 1, err.e), GJ_EINVAL);
    EXPECT_EQ(gj_config_set_int(cfg.c, nullptr, nullptr, 1, err.e), GJ_EINVAL);
}

TEST(ConfigSetters, PasswordAndPasswordEnv)
{
    EnvVar pw("GJ_CONFIG_TEST_PW2", "s3cret");
    Cfg cfg;
    Err err;
    ASSERT_EQ(gj_config_new(cfg.out()), 0);
    ASSERT_EQ(gj_config_set_string(cfg.c, nullptr, "password_env", "GJ_CONFIG_TEST_PW2", err.e), 0)
        << err.msg();
    EXPECT_STREQ(target(cfg.c, nullptr)->password, "s3cret");
    EXPECT_EQ(get_string(cfg.c, nullptr, "password"), "***");
    EXPECT_EQ(get_string(cfg.c, nullptr, "password_env"), "GJ_CONFIG_TEST_PW2");
    // A later password replaces it and forgets the variable.
    ASSERT_EQ(gj_config_set_string(cfg.c, nullptr, "password", "direct", err.e), 0);
    EXPECT_STREQ(target(cfg.c, nullptr)->password, "direct");
    EXPECT_EQ(get_string(cfg.c, nullptr, "password_env"), "(null)");
    EXPECT_EQ(gj_config_set_string(cfg.c, nullptr, "password_env", "GJ_CONFIG_TEST_UNSET", err.e),
              GJ_ECONFIG);
    EXPECT_EQ(err.msg(),
              "key 'password_env': environment variable GJ_CONFIG_TEST_UNSET (password_env) is "
              "not set");
    EXPECT_STREQ(target(cfg.c, nullptr)->password, "direct");
}

// Defect 6 of issue 9: a URL with only a password ("bolt://:TOKEN@host") has
// no user name, so Bolt sends the password as a bearer token.
TEST(ConfigUrl, EmptyUserNameOrPasswordIsNone)
{
    struct Case {
        const char *url;
        const char *username;  // nullptr = unset
        const char *password;
    } cases[] = {
        {"bolt://:tok@h", nullptr, "tok"},
        {"bolt://:t%3Ak@h:7688", nullptr, "t:k"},
        {"bolt://u:p@h", "u", "p"},
        {"bolt://u@h", "u", nullptr},
        {"bolt://u:@h", "u", nullptr},
        {"bolt://:@h", nullptr, nullptr},
        {"bolt://@h", nullptr, nullptr},
        {"bolt://h", nullptr, nullptr},
    };
    for (const Case &c : cases) {
        Cfg cfg;
        Err err;
        ASSERT_EQ(gj_config_from_url(cfg.out(), c.url, err.e), 0) << c.url << ": " << err.msg();
        const gj_target_settings *ts = target(cfg.c, nullptr);
        ASSERT_NE(ts, nullptr);
        if (c.username == nullptr)
            EXPECT_EQ(ts->username, nullptr) << c.url << ": " << ts->username;
        else
            EXPECT_STREQ(ts->username, c.username) << c.url;
        if (c.password == nullptr)
            EXPECT_EQ(ts->password, nullptr) << c.url;
        else
            EXPECT_STREQ(ts->password, c.password) << c.url;
        EXPECT_EQ(get_string(cfg.c, nullptr, "username"), c.username ? c.username : "(null)")
            << c.url;
        EXPECT_EQ(get_string(cfg.c, nullptr, "password"), c.password ? "***" : "(null)")
            << c.url;
    }

    // A password alone does not clash with password_env only when there is none.
    EnvVar pw("GJ_CONFIG_TEST_PW3", "fromenv");
    Cfg cfg;
    Err err;
    ASSERT_EQ(gj_config_from_url(cfg.out(), "bolt://:@h?password_env=GJ_CONFIG_TEST_PW3", err.e),
              0)
        << err.msg();
    EXPECT_STREQ(target(cfg.c, nullptr)->password, "fromenv");
    EXPECT_EQ(target(cfg.c, nullptr)->username, nullptr);
    EXPECT_EQ(url_error("bolt://:tok@h?password_env=GJ_CONFIG_TEST_PW3"),
              "URL gives both a password and password_env: give one");

    // Setting a URL on a target replaces its user name, also by none.
    ASSERT_EQ(gj_config_set_string(cfg.c, nullptr, "username", "someone", err.e), 0);
    ASSERT_EQ(gj_config_set_string(cfg.c, nullptr, "url", "bolt://:tok2@h", err.e), 0)
        << err.msg();
    EXPECT_EQ(target(cfg.c, nullptr)->username, nullptr);
    EXPECT_STREQ(target(cfg.c, nullptr)->password, "tok2");
}

// Defect 8 of issue 9: getters never hand out a secret.  "url" reads back
// as logs show it; "password" and "ssl_password" as "***".
TEST(ConfigSetters, SecretsAreRedacted)
{
    struct Case {
        const char *url;
        const char *shown;
    } cases[] = {
        {"bolt://neo4j:s%40cr%3At@db1:7687,db2?max_conns=8", "bolt://neo4j:***@db1:7687,db2?max_conns=8"},
        {"bolt://:TopSecret@db", "bolt://:***@db"},
        {"bolt://neo4j@db", "bolt://neo4j@db"},
        {"bolt://db:7687/x", "bolt://db:7687/x"},
        {"http://u@db?password=TopSecret&database=shop", "http://u@db?password=***&database=shop"},
        {"https://u:TopSecret@db?password_env=GJ_CONFIG_TEST_PW4&max_conns=2",
         "https://u:***@db?password_env=GJ_CONFIG_TEST_PW4&max_conns=2"},
    };
    for (const Case &c : cases) {
        Cfg cfg;
        Err err;
        // password_env with a password in the URL is an error: only the
        // last case sets it, and it is expected to fail below.
        int rc = gj_config_from_url(cfg.out(), c.url, err.e);
        if (std::strstr(c.url, "password_env") != nullptr) {
            EXPECT_EQ(rc, GJ_ECONFIG);
            EXPECT_EQ(err.msg().find("TopSecret"), std::string::npos) << err.msg();
            continue;
        }
        ASSERT_EQ(rc, 0) << c.url << ": " << err.msg();
        std::string shown = get_string(cfg.c, nullptr, "url");
        EXPECT_EQ(shown, c.shown);
        EXPECT_EQ(shown.find("TopSecret"), std::string::npos);
        EXPECT_EQ(shown.find("s@cr"), std::string::npos);
        // The library itself keeps the URL as given.
        EXPECT_STREQ(target(cfg.c, nullptr)->url, c.url);
    }

    // From a file, a setter and a copy; ssl_password as well.
    const std::string yaml = "backends:\n"
                             "  graph:\n"
                             "    url: \"bolt://neo4j:TopSecret@db:7687\"\n"
                             "    ssl_password: KeyPass\n";
    Cfg cfg;
    Err err;
    ASSERT_EQ(gj_config_parse(cfg.out(), yaml.data(), yaml.size(), GJ_CONFIG_YAML, "t.yaml", err.e),
              0)
        << err.msg();
    EXPECT_EQ(get_string(cfg.c, "graph", "url"), "bolt://neo4j:***@db:7687");
    EXPECT_EQ(get_string(cfg.c, "graph", "password"), "***");
    EXPECT_EQ(get_string(cfg.c, "graph", "ssl_password"), "***");
    EXPECT_EQ(get_string(cfg.c, "graph", "username"), "neo4j");
    EXPECT_STREQ(target(cfg.c, "graph")->password, "TopSecret");
    EXPECT_STREQ(target(cfg.c, "graph")->ssl_password, "KeyPass");

    ASSERT_EQ(gj_config_set_string(cfg.c, "graph", "url", "neo4j://u:Other@x:1,y:2", err.e), 0)
        << err.msg();
    EXPECT_EQ(get_string(cfg.c, "graph", "url"), "neo4j://u:***@x:1,y:2");
    Cfg copy;
    ASSERT_EQ(gj_config_copy(copy.out(), cfg.c), 0);
    EXPECT_EQ(get_string(copy.c, "graph", "url"), "neo4j://u:***@x:1,y:2");
    EXPECT_EQ(get_string(copy.c, "graph", "ssl_password"), "***");

    // Unset: NULL, as for any string setting.
    ASSERT_EQ(gj_config_set_string(cfg.c, "graph", "url", nullptr, err.e), 0) << err.msg();
    ASSERT_EQ(gj_config_set_string(cfg.c, "graph", "ssl_password", nullptr, err.e), 0);
    EXPECT_EQ(get_string(cfg.c, "graph", "url"), "(null)");
    EXPECT_EQ(get_string(cfg.c, "graph", "ssl_password"), "(null)");
    EXPECT_EQ(get_string(cfg.c, "graph", "password"), "***");  // the URL's, kept
    ASSERT_EQ(gj_config_set_string(cfg.c, "graph", "password", nullptr, err.e), 0);
    EXPECT_EQ(get_string(cfg.c, "graph", "password"), "(null)");

    // Redaction may make the text longer than the URL ("p" -> "***"): it
    // is never cut.
    Cfg small;
    ASSERT_EQ(gj_config_from_url(small.out(), "http://:p@db?password=q", err.e), 0) << err.msg();
    EXPECT_EQ(get_string(small.c, nullptr, "url"), "http://:***@db?password=***");
    std::string long_url = "http://u:" + std::string(4000, 'p') + "@db/" + std::string(4000, 'x');
    Cfg big;
    ASSERT_EQ(gj_config_from_url(big.out(), long_url.c_str(), err.e), 0) << err.msg();
    EXPECT_EQ(get_string(big.c, nullptr, "url"), "http://u:***@db/" + std::string(4000, 'x'));
}

// connect_retry (duration) and max_result_size (size, 0 .. 2^48) from every
// source, and their errors naming the key.
TEST(ConfigSetters, ConnectRetryAndMaxResultSize)
{
    {
        Cfg cfg;
        Err err;
        ASSERT_EQ(gj_config_new(cfg.out()), 0);
        ASSERT_EQ(gj_config_set_string(cfg.c, nullptr, "url", "bolt://db", err.e), 0);
        EXPECT_EQ(get_duration(cfg.c, nullptr, "connect_retry"), 0);
        EXPECT_EQ(get_int(cfg.c, nullptr, "max_result_size"), 256 << 20);
    }
    {
        Cfg cfg;
        Err err;
        ASSERT_EQ(gj_config_from_url(cfg.out(), "bolt://db?connect_retry=1.5s&max_result_size=16MiB",
                                     err.e),
                  0)
            << err.msg();
        EXPECT_EQ(get_duration(cfg.c, nullptr, "connect_retry"), 1500);
        EXPECT_EQ(get_int(cfg.c, nullptr, "max_result_size"), 16 << 20);
        EXPECT_EQ(target(cfg.c, nullptr)->connect_retry_ms, 1500);
        EXPECT_EQ(target(cfg.c, nullptr)->max_result_size, (size_t)16 << 20);
    }
    {
        Cfg cfg;
        Err err;
        ASSERT_EQ(gj_config_from_url(cfg.out(), "bolt://db?max_result_size=0", err.e), 0)
            << err.msg();
        EXPECT_EQ(get_int(cfg.c, nullptr, "max_result_size"), 0);  // 0 = no limit
    }
    {
        Cfg cfg;
        Err err;
        const std::string yaml = "backends:\n"
                                 "  g:\n"
                                 "    url: bolt://db\n"
                                 "    connect_retry: 2m\n"
                                 "    max_result_size: 1GiB\n";
        ASSERT_EQ(gj_config_parse(cfg.out(), yaml.data(), yaml.size(), GJ_CONFIG_YAML, "t.yaml",
                                  err.e),
                  0)
            << err.msg();
        EXPECT_EQ(get_duration(cfg.c, "g", "connect_retry"), 120000);
        EXPECT_EQ(get_int(cfg.c, "g", "max_result_size"), INT64_C(1) << 30);
    }
    {
        Cfg cfg;
        Err err;
        const std::string json = "{\"backends\": {\"g\": {\"url\": \"bolt://db\", "
                                 "\"connect_retry\": 250, \"max_result_size\": 281474976710656}}}";
        ASSERT_EQ(gj_config_parse(cfg.out(), json.data(), json.size(), GJ_CONFIG_JSON, "t.json",
                                  err.e),
                  0)
            << err.msg();
        EXPECT_EQ(get_duration(cfg.c, "g", "connect_retry"), 250);
        EXPECT_EQ(get_int(cfg.c, "g", "max_result_size"), INT64_C(1) << 48);
    }
    {
        Cfg cfg;
        Err err;
        ASSERT_EQ(gj_config_new(cfg.out()), 0);
        ASSERT_EQ(gj_config_set_duration(cfg.c, nullptr, "connect_retry", 30000, err.e), 0);
        ASSERT_EQ(gj_config_set_int(cfg.c, nullptr, "max_result_size", 4096, err.e), 0);
        EXPECT_EQ(get_duration(cfg.c, nullptr, "connect_retry"), 30000);
        EXPECT_EQ(get_int(cfg.c, nullptr, "max_result_size"), 4096);
        EXPECT_EQ(gj_config_set_int(cfg.c, nullptr, "max_result_size", -1, err.e), GJ_ECONFIG);
        EXPECT_EQ(err.msg(),
                  "key 'max_result_size': expected a size from 0 to 281474976710656 bytes, got -1");
        EXPECT_EQ(gj_config_set_duration(cfg.c, nullptr, "connect_retry", -5, err.e), GJ_ECONFIG);
        EXPECT_EQ(err.msg(), "key 'connect_retry': expected a duration of 0 or more, got -5 ms");
        EXPECT_EQ(get_int(cfg.c, nullptr, "max_result_size"), 4096);
    }

    // Bad values, each message naming the key.
    EXPECT_EQ(url_error("bolt://db?connect_retry=soon"),
              "URL query key 'connect_retry': expected a duration such as 250ms, 5s, 1.5s, 2m or "
              "1h, got \"soon\"");
    EXPECT_EQ(url_error("bolt://db?max_result_size=lots"),
              "URL query key 'max_result_size': expected a size in bytes such as 65536, 64KiB or "
              "16MiB, got \"lots\"");
    EXPECT_EQ(url_error("bolt://db?max_result_size=281474976710657"),
              "URL query key 'max_result_size': expected a size from 0 to 281474976710656 bytes, "
              "got \"281474976710657\"");
    EXPECT_EQ(yaml_error("url: bolt://db\nconnect_retry: 5 sec\n"),
              "bad.yaml:2:16: key 'connect_retry': expected a duration such as 250ms, 5s, 1.5s, "
              "2m or 1h, got \"5 sec\"");
    EXPECT_EQ(yaml_error("url: bolt://db\nmax_result_size: [1]\n"),
              "bad.yaml:2:18: key 'max_result_size': expected a size in bytes, got a list");
    EXPECT_EQ(json_error("{\"url\": \"bolt://db\", \"connect_retry\": -1}"),
              "bad.json:1:39: key 'connect_retry': expected a duration of 0 or more, got -1 ms");
    EXPECT_EQ(json_error("{\"url\": \"bolt://db\", \"max_result_size\": 281474976710657}"),
              "bad.json:1:41: key 'max_result_size': expected a size from 0 to 281474976710656 "
              "bytes, got 281474976710657");
}

TEST(ConfigSetters, CopyIsDeepAndLog)
{
    Cfg cfg;
    Err err;
    ASSERT_EQ(gj_config_from_url(cfg.out(), "bolt://u:p@a:1,b:2?max_conns=5", err.e), 0);
    int calls = 0;
    gj_config_set_log(
        cfg.c, [](gj_log_level, const char *, void *p) { ++*static_cast<int *>(p); },
        GJ_LOG_DEBUG, &calls);
    EXPECT_EQ(cfg.c->log.level, GJ_LOG_DEBUG);
    EXPECT_EQ(cfg.c->log.payload, &calls);

    Cfg copy;
    ASSERT_EQ(gj_config_copy(copy.out(), cfg.c), 0);
    ASSERT_EQ(gj_config_set_string(cfg.c, nullptr, "hosts", "c:3", err.e), 0);
    ASSERT_EQ(gj_config_set_int(cfg.c, nullptr, "max_conns", 6, err.e), 0);
    gj_config_free(cfg.c);
    cfg.c = nullptr;
    EXPECT_EQ(get_string(copy.c, nullptr, "hosts"), "a:1,b:2");
    EXPECT_EQ(get_int(copy.c, nullptr, "max_conns"), 5);
    EXPECT_STREQ(target(copy.c, nullptr)->password, "p");
    EXPECT_EQ(get_string(copy.c, nullptr, "url"), "bolt://u:***@a:1,b:2?max_conns=5");
    EXPECT_EQ(copy.c->log.payload, &calls);
    copy.c->log.fn(GJ_LOG_INFO, "x", copy.c->log.payload);
    EXPECT_EQ(calls, 1);

    gj_target_settings a = {}, b = {};
    gj__target_settings_init(&a);
    EXPECT_EQ(a.max_conns, 4u);
    EXPECT_TRUE(a.ssl_verify);
    EXPECT_EQ(a.liveness_check_ms, 30000);
    a.name = strdup("x");
    ASSERT_EQ(gj__target_settings_copy(&b, &a), 0);
    EXPECT_STREQ(b.name, "x");
    EXPECT_NE(b.name, a.name);
    gj__target_settings_free(&a);
    gj__target_settings_free(&b);
    EXPECT_EQ(b.name, nullptr);
}

// ---- files ------------------------------------------------------------------------------

void check_multi(const gj_config *cfg)
{
    EXPECT_EQ(cfg->workers, 8u);
    EXPECT_EQ(cfg->queue_size, 1000u);
    ASSERT_EQ(gj_config_target_count(cfg), 3u);
    EXPECT_STREQ(gj_config_target_name(cfg, 0), "graph");
    EXPECT_STREQ(gj_config_target_name(cfg, 1), "docs");
    EXPECT_STREQ(gj_config_target_name(cfg, 2), "gql");

    const gj_target_settings *graph = target(cfg, "graph");
    ASSERT_NE(graph, nullptr);
    EXPECT_STREQ(graph->backend, "bolt");
    EXPECT_STREQ(graph->scheme, "neo4j+s");
    EXPECT_TRUE(graph->tls);
    EXPECT_STREQ(graph->username, "neo4j");
    EXPECT_EQ(graph->password, nullptr);
    EXPECT_EQ(graph->max_conns, 8u);  // the file's key overrides the URL's query
    EXPECT_EQ(graph->response_timeout_ms, 1500);
    EXPECT_EQ(graph->liveness_check_ms, GJ_LIVENESS_NEVER);
    EXPECT_EQ(get_string(cfg, "graph", "hosts"), "db1:7687,db2:7687");
    ASSERT_NE(graph->aliases, nullptr);
    ASSERT_EQ(gj_value_size(graph->aliases), 2u);
    const char *s = nullptr;
    size_t len = 0;
    ASSERT_EQ(gj_value_string_get(gj_value_map_get(graph->aliases, "t"), &s, &len), 0);
    EXPECT_STREQ(s, "traversal");

    const gj_target_settings *docs = target(cfg, "docs");
    ASSERT_NE(docs, nullptr);
    EXPECT_STREQ(docs->backend, "arango");
    EXPECT_EQ(docs->scheme, nullptr);
    EXPECT_EQ(docs->url, nullptr);
    EXPECT_FALSE(docs->tls);
    EXPECT_FALSE(docs->ssl_verify);
    EXPECT_STREQ(docs->password, "hunter2");
    EXPECT_STREQ(docs->password_env, "GJ_CONFIG_TEST_PASSWORD");
    EXPECT_STREQ(docs->database, "_system");
    EXPECT_EQ(docs->max_message_size, (size_t)16 << 20);
    EXPECT_EQ(get_string(cfg, "docs", "hosts"), "a:8529,[::1]:8530");
    const gj_value *opts = docs->options;
    ASSERT_NE(opts, nullptr);
    ASSERT_EQ(gj_value_size(opts), 8u);
    int64_t i = 0;
    double d = 0;
    bool b = false;
    ASSERT_EQ(gj_value_int_get(gj_value_map_get(opts, "int"), &i), 0);
    EXPECT_EQ(i, 42);
    ASSERT_EQ(gj_value_int_get(gj_value_map_get(opts, "hex"), &i), 0);
    EXPECT_EQ(i, 31);
    ASSERT_EQ(gj_value_float_get(gj_value_map_get(opts, "float"), &d), 0);
    EXPECT_EQ(d, 2.5);
    ASSERT_EQ(gj_value_string_get(gj_value_map_get(opts, "yes_is_string"), &s, &len), 0);
    EXPECT_STREQ(s, "yes");
    ASSERT_EQ(gj_value_bool_get(gj_value_map_get(opts, "bool"), &b), 0);
    EXPECT_TRUE(b);
    EXPECT_EQ(gj_value_type(gj_value_map_get(opts, "nothing")), GJ_TNULL);
    ASSERT_EQ(gj_value_string_get(gj_value_map_get(opts, "quoted"), &s, &len), 0);
    EXPECT_STREQ(s, "8");
    const gj_value *list = gj_value_map_get(opts, "list");
    ASSERT_EQ(gj_value_type(list), GJ_TLIST);
    ASSERT_EQ(gj_value_size(list), 3u);
    EXPECT_EQ(gj_value_type(gj_value_list_at(list, 0)), GJ_TINT);
    EXPECT_EQ(gj_value_type(gj_value_list_at(list, 1)), GJ_TSTRING);
    EXPECT_EQ(gj_value_type(gj_value_list_at(list, 2)), GJ_TFLOAT);
    // Document order is kept.
    ASSERT_EQ(gj_value_string_get(gj_value_map_key_at(opts, 0), &s, &len), 0);
    EXPECT_STREQ(s, "int");

    const gj_target_settings *gql = target(cfg, "gql");
    ASSERT_NE(gql, nullptr);
    EXPECT_STREQ(gql->backend, "graphql");
    EXPECT_TRUE(gql->tls);
    EXPECT_STREQ(gql->path, "/graphql");
    EXPECT_EQ(gql->idle_timeout_ms, 120000);
    EXPECT_EQ(gql->connect_timeout_ms, 2500);
    EXPECT_EQ(get_string(cfg, "gql", "hosts"), "api.example.com");
}

TEST(ConfigFile, YamlWithNamedBackends)
{
    EnvVar pw("GJ_CONFIG_TEST_PASSWORD", "hunter2");
    Cfg cfg;
    Err err;
    ASSERT_EQ(gj_config_load_file(cfg.out(), data_path("multi.yaml").c_str(), err.e), 0)
        << err.msg();
    check_multi(cfg.c);
}

TEST(ConfigFile, JsonWithNamedBackends)
{
    EnvVar pw("GJ_CONFIG_TEST_PASSWORD", "hunter2");
    Cfg cfg;
    Err err;
    ASSERT_EQ(gj_config_load_file(cfg.out(), data_path("multi.json").c_str(), err.e), 0)
        << err.msg();
    check_multi(cfg.c);
}

TEST(ConfigFile, SingleTargetAndFormatDetection)
{
    Cfg cfg;
    Err err;
    ASSERT_EQ(gj_config_load_file(cfg.out(), data_path("single.yml").c_str(), err.e), 0)
        << err.msg();
    ASSERT_EQ(gj_config_target_count(cfg.c), 1u);
    EXPECT_STREQ(gj_config_target_name(cfg.c, 0), "default");
    EXPECT_EQ(get_int(cfg.c, nullptr, "max_conns"), 2);
    EXPECT_EQ(cfg.c->workers, 4u);

    // Not .json/.yaml/.yml: a file starting with '{' is read as JSON.
    std::string conf = data_path("detect_json.conf");
    Cfg c2;
    EXPECT_EQ(gj_config_load_file(c2.out(), conf.c_str(), err.e), GJ_ECONFIG);
    EXPECT_EQ(err.msg(),
              conf + ":3:16: key 'max_conns': expected an integer, got \"lots\"");

    std::string bad = data_path("bad_type.yaml");
    EXPECT_EQ(gj_config_load_file(c2.out(), bad.c_str(), err.e), GJ_ECONFIG);
    EXPECT_EQ(err.msg(),
              bad + ":4:16: key 'backends.graph.max_conns': expected an integer, got \"lots\"");

    std::string missing = data_path("missing.yaml");
    EXPECT_EQ(gj_config_load_file(c2.out(), missing.c_str(), err.e), GJ_ECONFIG);
    EXPECT_EQ(err.msg(), missing + ": cannot open: No such file or directory");
    std::string dir = data_path("");
    EXPECT_EQ(gj_config_load_file(c2.out(), dir.c_str(), err.e), GJ_ECONFIG);
    EXPECT_EQ(err.msg(), dir + ": not a regular file");
    EXPECT_EQ(c2.c, nullptr);
}

TEST(ConfigFile, TooLarge)
{
    char path[] = "/tmp/gj_config_test_XXXXXX";
    int fd = mkstemp(path);
    ASSERT_GE(fd, 0);
    std::string big = "workers: 4\n" + std::string(GJ__CONFIG_MAX_FILE_SIZE, '#');
    ASSERT_EQ(write(fd, big.data(), big.size()), (ssize_t)big.size());
    close(fd);
    Cfg cfg;
    Err err;
    EXPECT_EQ(gj_config_load_file(cfg.out(), path, err.e), GJ_ECONFIG);
    EXPECT_EQ(err.msg(), std::string(path) + ": larger than 1048576 bytes");
    unlink(path);
    EXPECT_EQ(gj_config_parse(cfg.out(), big.data(), big.size(), GJ_CONFIG_YAML, nullptr, err.e),
              GJ_ECONFIG);
    EXPECT_EQ(err.msg(), "<string>: larger than 1048576 bytes");
}

TEST(ConfigFile, YamlScalarsAndQuoting)
{
    Cfg cfg;
    Err err;
    std::string text =
        "url: bolt://db\n"
        "database: 2024\n"           // an int-looking plain scalar for a string key
        "username: 'yes'\n"
        "max_conns: \"7\"\n"         // text form accepted for an int
        "ssl_verify: no\n"           // text form of a bool
        "password: ~\n"              // null unsets
        "response_timeout: 250\n"    // a number is milliseconds
        "options: {a: 0o17, b: -.inf, c: .nan, d: !!str 12, e: '', f: , g: 1e3, h: +5}\n";
    ASSERT_EQ(gj_config_parse(cfg.out(), text.data(), text.size(), GJ_CONFIG_YAML, "t.yaml", err.e),
              0)
        << err.msg();
    const gj_target_settings *ts = target(cfg.c, nullptr);
    ASSERT_NE(ts, nullptr);
    EXPECT_STREQ(ts->database, "2024");
    EXPECT_STREQ(ts->username, "yes");
    EXPECT_EQ(ts->max_conns, 7u);
    EXPECT_FALSE(ts->ssl_verify);
    EXPECT_EQ(ts->password, nullptr);
    EXPECT_EQ(ts->response_timeout_ms, 250);
    const gj_value *o = ts->options;
    int64_t i = 0;
    double d = 0;
    const char *s;
    size_t len;
    ASSERT_EQ(gj_value_int_get(gj_value_map_get(o, "a"), &i), 0);
    EXPECT_EQ(i, 15);
    ASSERT_EQ(gj_value_float_get(gj_value_map_get(o, "b"), &d), 0);
    EXPECT_TRUE(std::isinf(d) && d < 0);
    ASSERT_EQ(gj_value_float_get(gj_value_map_get(o, "c"), &d), 0);
    EXPECT_TRUE(std::isnan(d));
    ASSERT_EQ(gj_value_string_get(gj_value_map_get(o, "d"), &s, &len), 0);
    EXPECT_STREQ(s, "12");
    ASSERT_EQ(gj_value_string_get(gj_value_map_get(o, "e"), &s, &len), 0);
    EXPECT_EQ(len, 0u);
    EXPECT_EQ(gj_value_type(gj_value_map_get(o, "f")), GJ_TNULL);
    ASSERT_EQ(gj_value_float_get(gj_value_map_get(o, "g"), &d), 0);
    EXPECT_EQ(d, 1000.0);
    ASSERT_EQ(gj_value_int_get(gj_value_map_get(o, "h"), &i), 0);
    EXPECT_EQ(i, 5);
}

TEST(ConfigFile, ValueCountIsBounded)
{
    // 20 lists of 4000 entries: each list is allowed, the document is not.
    std::string yaml = "url: bolt://db\noptions:\n", json = "{\"options\": {";
    for (int i = 0; i < 20; i++) {
        std::string items;
        for (int k = 0; k < 4000; k++)
            items += k ? ",1" : "1";
        yaml += "  k" + std::to_string(i) + ": [" + items + "]\n";
        json += std::string(i ? "," : "") + "\"k" + std::to_string(i) + "\": [" + items + "]";
    }
    json += "}}";
    std::string msg = yaml_error(yaml);
    EXPECT_NE(msg.find(": more than 65536 values in the document"), std::string::npos) << msg;
    EXPECT_EQ(msg.rfind("bad.yaml:19:", 0), 0u) << msg;
    msg = json_error(json);
    EXPECT_NE(msg.find(": more than 65536 values in the document"), std::string::npos) << msg;
    std::string items;
    for (int k = 0; k < 4097; k++)
        items += k ? ",1" : "1";
    EXPECT_EQ(yaml_error("url: bolt://db\noptions: {k: [" + items + "]}\n"),
              "bad.yaml:2:14: more than 4096 entries in 'options.k'");
    EXPECT_EQ(json_error("{\"options\": {\"k\": [" + items + "]}}"),
              "bad.json:1:19: more than 4096 entries in 'options.k'");
}

TEST(ConfigFile, PasswordEnvInFiles)
{
    EnvVar pw("GJ_CONFIG_TEST_PW3", "abc");
    EXPECT_EQ(yaml_error("url: bolt://db\npassword_env: GJ_CONFIG_TEST_UNSET_VAR\n"),
              "bad.yaml:2:15: key 'password_env': environment variable GJ_CONFIG_TEST_UNSET_VAR "
              "(password_env) is not set");
    EXPECT_EQ(yaml_error("backends:\n  g:\n    url: bolt://db\n    password: x\n"
                         "    password_env: GJ_CONFIG_TEST_PW3\n"),
              "bad.yaml:2:3: target 'g': both a password and password_env are given: give one");
    EXPECT_EQ(yaml_error("backends:\n  g:\n    url: bolt://u:x@db\n"
                         "    password_env: GJ_CONFIG_TEST_PW3\n"),
              "bad.yaml:2:3: target 'g': both a password and password_env are given: give one");
    EXPECT_EQ(json_error("{\"url\": \"bolt://db\", \"password\": \"x\",\n"
                         " \"password_env\": \"GJ_CONFIG_TEST_PW3\"}"),
              "bad.json:1:1: target 'default': both a password and password_env are given: give "
              "one");
}

// ---- malformed YAML -------------------------------------------------------------------------

TEST(ConfigYamlErrors, EveryKind)
{
    // wrong type
    EXPECT_EQ(yaml_error("backends:\n  graph:\n    url: bolt://db\n    max_conns: lots\n"),
              "bad.yaml:4:16: key 'backends.graph.max_conns': expected an integer, got \"lots\"");
    EXPECT_EQ(yaml_error("url: bolt://db\nssl_verify: [1]\n"),
              "bad.yaml:2:13: key 'ssl_verify': expected a boolean, got a list");
    EXPECT_EQ(yaml_error("url: bolt://db\noptions: [1, 2]\n"),
              "bad.yaml:2:10: key 'options': expected a mapping, got a list");
    EXPECT_EQ(yaml_error("url: bolt://db\nusername: true\n"),
              "bad.yaml:2:11: key 'username': expected a string, got true");
    EXPECT_EQ(yaml_error("url: bolt://db\nhosts: [a, {b: 1}]\n"),
              "bad.yaml:2:12: key 'hosts[1]': expected a host string, got a mapping");
    EXPECT_EQ(yaml_error("url: bolt://db\nhosts: [a, 'b:0']\n"),
              "bad.yaml:2:12: key 'hosts[1]': bad port \"0\" in host \"b:0\" (expected 1 to 65535)");
    EXPECT_EQ(yaml_error("url: 5\n"), "bad.yaml:1:6: key 'url': expected a string, got 5");
    EXPECT_EQ(yaml_error("url: bolt://db:0\n"),
              "bad.yaml:1:6: key 'url': URL: bad port \"0\" in host \"db:0\" (expected 1 to 65535)");
    EXPECT_EQ(yaml_error("workers: lots\n"),
              "bad.yaml:1:10: key 'workers': expected an integer, got \"lots\"");
    EXPECT_EQ(yaml_error("url: bolt://db\naliases: {g: 1}\n"),
              "bad.yaml:2:10: key 'aliases': expected a mapping of strings to strings, got int "
              "for 'g'");
    // unknown key, at the top and nested
    EXPECT_EQ(yaml_error("wrkers: 4\n"), "bad.yaml:1:1: unknown key 'wrkers'");
    EXPECT_EQ(yaml_error("backends:\n  graph:\n    url: bolt://db\n    max_con: 3\n"),
              "bad.yaml:4:5: unknown key 'backends.graph.max_con'");
    // bad duration
    EXPECT_EQ(yaml_error("url: bolt://db\nresponse_timeout: 5 sec\n"),
              "bad.yaml:2:19: key 'response_timeout': expected a duration such as 250ms, 5s, "
              "1.5s, 2m or 1h, got \"5 sec\"");
    EXPECT_EQ(yaml_error("url: bolt://db\nidle_timeout: 1.5\n"),
              "bad.yaml:2:15: key 'idle_timeout': expected a duration, got 1.5");
    EXPECT_EQ(yaml_error("url: bolt://db\nidle_timeout: -3\n"),
              "bad.yaml:2:15: key 'idle_timeout': expected a duration of 0 or more, got -3 ms");
    // truncated file
    EXPECT_EQ(yaml_error("backends:\n  graph: {url: \"bolt://db"),
              "bad.yaml:2:26: YAML syntax error: found unexpected end of stream (while scanning "
              "a quoted scalar at line 2, column 16)");
    EXPECT_EQ(yaml_error("backends:\n  graph: {url: bolt://db"),
              "bad.yaml:3:1: YAML syntax error: did not find expected ',' or '}' (while parsing "
              "a flow mapping at line 2, column 10)");
    // syntax error
    EXPECT_EQ(yaml_error("workers: 4\n  queue_size: 5\n"),
              "bad.yaml:2:13: YAML syntax error: mapping values are not allowed in this context");
    EXPECT_EQ(yaml_error("a: b: c\n"),
              "bad.yaml:1:5: YAML syntax error: mapping values are not allowed in this context");
    EXPECT_EQ(yaml_error("url: \"\\q\"\n"),
              "bad.yaml:1:7: YAML syntax error: found unknown escape character (while parsing a "
              "quoted scalar at line 1, column 6)");
    // empty file, comments only, an explicit empty document
    EXPECT_EQ(yaml_error(""), "bad.yaml:1:1: empty document (expected a mapping of settings)");
    EXPECT_EQ(yaml_error("# nothing\n\n"),
              "bad.yaml:1:1: empty document (expected a mapping of settings)");
    EXPECT_EQ(yaml_error("---\n"), "bad.yaml:2:1: empty document (expected a mapping of settings)");
    // a list where a map is expected
    EXPECT_EQ(yaml_error("- a\n- b\n"),
              "bad.yaml:1:1: expected a mapping of settings at the top level, got a list");
    EXPECT_EQ(yaml_error("just text\n"),
              "bad.yaml:1:1: expected a mapping of settings at the top level, got \"just text\"");
    EXPECT_EQ(yaml_error("backends:\n  - graph\n"),
              "bad.yaml:2:3: key 'backends': expected a mapping of backend names to settings, got "
              "a list");
    EXPECT_EQ(yaml_error("backends:\n  graph: [1]\n"),
              "bad.yaml:2:10: key 'backends.graph': expected a mapping of settings, got a list");
    EXPECT_EQ(yaml_error("backends: {}\n"),
              "bad.yaml:1:11: key 'backends': no backends in the mapping");
    // duplicate key
    EXPECT_EQ(yaml_error("workers: 1\nworkers: 2\n"),
              "bad.yaml:2:1: duplicate key 'workers' (first at line 1, column 1)");
    EXPECT_EQ(yaml_error("backends:\n  g:\n    url: bolt://db\n    max_conns: 8\n    max_conns: 9\n"),
              "bad.yaml:5:5: duplicate key 'backends.g.max_conns' (first at line 4, column 5)");
    EXPECT_EQ(yaml_error("backends:\n  g: {url: 'bolt://db'}\n  g: {url: 'bolt://db'}\n"),
              "bad.yaml:3:3: duplicate key 'backends.g' (first at line 2, column 3)");
    // negative and overflowing ints
    EXPECT_EQ(yaml_error("url: bolt://db\nmax_conns: -3\n"),
              "bad.yaml:2:12: key 'max_conns': expected an integer from 1 to 10000, got -3");
    EXPECT_EQ(yaml_error("url: bolt://db\nmin_conns: -1\n"),
              "bad.yaml:2:12: key 'min_conns': expected an integer from 0 to 10000, got -1");
    EXPECT_EQ(yaml_error("url: bolt://db\nmax_conns: 99999999999999999999\n"),
              "bad.yaml:2:12: key 'max_conns': expected an integer from 1 to 10000, got "
              "99999999999999999999");
    EXPECT_EQ(yaml_error("url: bolt://db\nconnect_timeout: 99999999999999999999\n"),
              "bad.yaml:2:18: key 'connect_timeout': expected a duration of at most 10 years, got "
              "99999999999999999999 ms");
    EXPECT_EQ(yaml_error("url: bolt://db\noptions: {n: 0x8000000000000000}\n"),
              "bad.yaml:2:14: key 'options.n': integer out of range, got 0x8000000000000000");
    // a non-UTF-8 byte
    EXPECT_EQ(yaml_error("url: bolt://db\ndatabase: caf\xe9\n"),
              "bad.yaml:2:14: YAML: incomplete UTF-8 octet sequence (at offset 28)");
    EXPECT_EQ(yaml_error("url: bolt://db\n\xff: 1\n"),
              "bad.yaml:2:1: YAML: invalid leading UTF-8 octet (byte 0xFF at offset 15)");
    // the other checks made across keys
    EXPECT_EQ(yaml_error("url: bolt://db\nbackends:\n  g: {url: 'bolt://x'}\n"),
              "bad.yaml:1:1: key 'url': target settings at the top level cannot be combined with "
              "'backends' (put them under backends.default)");
    EXPECT_EQ(yaml_error("backends:\n  g:\n    url: bolt://db\n    workers: 3\n"),
              "bad.yaml:4:5: key 'backends.g.workers': 'workers' is a client setting: put it at "
              "the top level");
    EXPECT_EQ(yaml_error("backends:\n  g:\n    backend: bolt\n"),
              "bad.yaml:2:3: target 'g' has no hosts (give 'url' or 'hosts')");
    EXPECT_EQ(yaml_error("hosts: [a]\n"),
              "bad.yaml:1:1: target 'default' has no backend (give 'url', 'scheme' or 'backend')");
    EXPECT_EQ(yaml_error("url: bolt://db\nmin_conns: 5\n"),
              "bad.yaml:1:1: target 'default': min_conns (5) is greater than max_conns (4)");
    EXPECT_EQ(yaml_error("url: bolt://db\n---\nurl: bolt://db\n"),
              "bad.yaml:2:1: more than one YAML document (one per file)");
    EXPECT_EQ(yaml_error("url: &u bolt://db\nusername: *u\n"),
              "bad.yaml:2:11: YAML aliases (*name) are not supported");
    EXPECT_EQ(yaml_error("? [a]\n: 1\n"), "bad.yaml:1:3: mapping keys must be scalars");
    std::string deep = "options: ";
    for (int i = 0; i < 40; i++)
        deep += "[";
    EXPECT_EQ(yaml_error(deep + "\n"), "bad.yaml:1:41: nesting too deep");
}

// ---- malformed JSON -------------------------------------------------------------------------

TEST(ConfigJsonErrors, EveryKind)
{
    // wrong type
    EXPECT_EQ(json_error("{\"backends\": {\"graph\": {\"url\": \"bolt://db\",\n"
                         "  \"max_conns\": \"lots\"}}}"),
              "bad.json:2:16: key 'backends.graph.max_conns': expected an integer, got \"lots\"");
    EXPECT_EQ(json_error("{\"url\": \"bolt://db\", \"ssl_verify\": 1}"),
              "bad.json:1:36: key 'ssl_verify': expected a boolean, got 1");
    EXPECT_EQ(json_error("{\"url\": \"bolt://db\", \"hosts\": {\"a\": 1}}"),
              "bad.json:1:31: key 'hosts': expected a list of hosts, got a mapping");
    EXPECT_EQ(json_error("{\"url\": \"bolt://db\", \"database\": \"a\\u0000b\"}"),
              "bad.json:1:34: key 'database': string contains a NUL character");
    // unknown key
    EXPECT_EQ(json_error("{\"workers\": 2,\n \"wrkers\": 4}"), "bad.json:2:2: unknown key 'wrkers'");
    EXPECT_EQ(json_error("{\"backends\": {\"g\": {\"url\": \"bolt://db\", \"max_con\": 3}}}"),
              "bad.json:1:41: unknown key 'backends.g.max_con'");
    // bad duration
    EXPECT_EQ(json_error("{\"url\": \"bolt://db\", \"response_timeout\": \"5 sec\"}"),
              "bad.json:1:42: key 'response_timeout': expected a duration such as 250ms, 5s, 1.5s, "
              "2m or 1h, got \"5 sec\"");
    // truncated file
    EXPECT_EQ(json_error("{\"backends\": {\"graph\": {\"url\": \"bolt://db\",\n \"max_conns\": 3"),
              "bad.json:2:16: JSON syntax error: unexpected end of data (at byte offset 59)");
    EXPECT_EQ(json_error("{\"url\": \"bolt:"),
              "bad.json:1:15: JSON syntax error: unexpected end of data (at byte offset 14)");
    // syntax errors
    EXPECT_EQ(json_error("{\"workers\": 4,}"),
              "bad.json:1:15: JSON syntax error: unexpected character (at byte offset 14)");
    EXPECT_EQ(json_error("{\"workers\": 4}\n{}"),
              "bad.json:2:1: JSON syntax error: unexpected character (at byte offset 15)");
    EXPECT_EQ(json_error("{'workers': 4}"),
              "bad.json:1:2: JSON syntax error: expected a string in double quotes (at byte offset "
              "1)");
    // empty file
    EXPECT_EQ(json_error(""), "bad.json:1:1: empty document (expected a mapping of settings)");
    EXPECT_EQ(json_error(" \n\t"), "bad.json:1:1: empty document (expected a mapping of settings)");
    EXPECT_EQ(json_error("null"), "bad.json:1:1: empty document (expected a mapping of settings)");
    // a list where a map is expected
    EXPECT_EQ(json_error("[1, 2]"),
              "bad.json:1:1: expected a mapping of settings at the top level, got a list");
    EXPECT_EQ(json_error("{\"backends\": [\"g\"]}"),
              "bad.json:1:14: key 'backends': expected a mapping of backend names to settings, got "
              "a list");
    // duplicate key (json-c alone would keep the last)
    EXPECT_EQ(json_error("{\"workers\": 1,\n \"workers\": [2]}"),
              "bad.json:2:2: duplicate key 'workers' (first at line 1, column 2)");
    EXPECT_EQ(json_error("{\"url\": \"bolt://db\", \"options\": {\"a\": 1, \"\\u0061\": 2}}"),
              "bad.json:1:42: duplicate key 'options.a' (first at line 1, column 34)");
    // negative and overflowing ints
    EXPECT_EQ(json_error("{\"url\": \"bolt://db\", \"max_conns\": -3}"),
              "bad.json:1:35: key 'max_conns': expected an integer from 1 to 10000, got -3");
    EXPECT_EQ(json_error("{\"url\": \"bolt://db\", \"max_conns\": 99999999999999999999}"),
              "bad.json:1:35: key 'max_conns': expected an integer from 1 to 10000, got "
              "99999999999999999999");
    EXPECT_EQ(json_error("{\"url\": \"bolt://db\", \"options\": {\"n\": -99999999999999999999}}"),
              "bad.json:1:39: key 'options.n': integer out of range, got -99999999999999999999");
    // a non-UTF-8 byte, a NUL byte
    EXPECT_EQ(json_error("{\"url\": \"bolt://db\",\n \"database\": \"caf\xe9\"}"),
              "bad.json:2:18: JSON: invalid UTF-8 byte 0xE9 (at byte offset 38)");
    EXPECT_EQ(json_error("{\"a\": \"\xed\xa0\x80\"}"),  // an encoded surrogate
              "bad.json:1:8: JSON: invalid UTF-8 byte 0xED (at byte offset 7)");
    EXPECT_EQ(json_error("{\"a\": \"\xc0\xaf\"}"),  // an overlong form
              "bad.json:1:8: JSON: invalid UTF-8 byte 0xC0 (at byte offset 7)");
    EXPECT_EQ(json_error(std::string("{\"workers\": 4}\0", 15)),
              "bad.json:1:15: JSON: NUL byte at offset 14");
    // nesting
    std::string deep = "{\"options\": ";
    for (int i = 0; i < 40; i++)
        deep += "[";
    EXPECT_EQ(json_error(deep),
              "bad.json:1:44: JSON syntax error: nesting too deep (at byte offset 43)");
    // What json-c's strict mode lets through, the walk refuses.
    EXPECT_EQ(json_error("{\"options\": {\"x\": NaN}}"),
              "bad.json:1:19: JSON syntax error: unexpected character (at byte offset 18)");
    EXPECT_EQ(json_error("{\"options\": {\"x\": 1.}}"),
              "bad.json:1:21: JSON syntax error: bad number (at byte offset 20)");
    EXPECT_EQ(json_error("{\"database\": \"a\tb\"}"),
              "bad.json:1:16: JSON syntax error: control character in a string (at byte offset 15)");
}

TEST(ConfigJson, TypesAndPositionsAcrossLines)
{
    Cfg cfg;
    Err err;
    std::string text =
        "{\n  \"url\": \"bolt://db\",\n  \"options\": {\"s\": \"caf\\u00e9 \\\"q\\\"\", \"f\": -2.5e1,"
        " \"t\": true, \"n\": null, \"big\": 9223372036854775807}\n}\n";
    ASSERT_EQ(gj_config_parse(cfg.out(), text.data(), text.size(), GJ_CONFIG_JSON, nullptr, err.e),
              0)
        << err.msg();
    const gj_value *o = target(cfg.c, nullptr)->options;
    const char *s;
    size_t len;
    double d;
    int64_t i;
    ASSERT_EQ(gj_value_string_get(gj_value_map_get(o, "s"), &s, &len), 0);
    EXPECT_STREQ(s, "caf\xc3\xa9 \"q\"");
    ASSERT_EQ(gj_value_float_get(gj_value_map_get(o, "f"), &d), 0);
    EXPECT_EQ(d, -25.0);
    ASSERT_EQ(gj_value_int_get(gj_value_map_get(o, "big"), &i), 0);
    EXPECT_EQ(i, INT64_MAX);
    EXPECT_EQ(gj_value_type(gj_value_map_get(o, "n")), GJ_TNULL);

    EXPECT_EQ(json_error("{\n  \"url\": \"bolt://db\",\n\n    \"max_conns\": true\n}"),
              "bad.json:4:18: key 'max_conns': expected an integer, got true");
    Cfg c2;
    EXPECT_EQ(gj_config_parse(c2.out(), "{", 1, GJ_CONFIG_JSON, nullptr, err.e), GJ_ECONFIG);
    EXPECT_EQ(err.msg(), "<string>:1:2: JSON syntax error: unexpected end of data (at byte offset 1)");
}

}  // namespace
