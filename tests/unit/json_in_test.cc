// JSON text -> values (gj_value_from_json).
#include <gtest/gtest.h>

#include <string>

#include <graphjob.h>

namespace {

struct Parsed {
    gj_value *v = nullptr;
    gj_error *err = gj_error_new();
    int rc;
    explicit Parsed(const std::string &text) { rc = gj_value_from_json(&v, text.data(), text.size(), err); }
    ~Parsed() { gj_value_unref(v); gj_error_free(err); }
    std::string json() const
    {
        char *out = nullptr;
        EXPECT_EQ(0, gj_value_to_json(v, 0, &out, nullptr));
        std::string s = out ? out : "";
        gj_free(out);
        return s;
    }
};

TEST(JsonIn, ObjectsKeepOrderAndTypes)
{
    Parsed p(R"({"b":1,"a":[true,null,2.5,"x\u00e9"],"c":{"d":-9223372036854775808}})");
    ASSERT_EQ(0, p.rc) << gj_error_message(p.err);
    EXPECT_EQ(GJ_TMAP, gj_value_type(p.v));
    EXPECT_EQ("b", std::string(gj_value_string_get(gj_value_map_key_at(p.v, 0), nullptr, nullptr) == 0
                                   ? "b" : "?"));
    const gj_value *a = gj_value_map_get(p.v, "a");
    ASSERT_NE(nullptr, a);
    EXPECT_EQ(4u, gj_value_size(a));
    EXPECT_EQ(GJ_TBOOL, gj_value_type(gj_value_list_at(a, 0)));
    EXPECT_EQ(GJ_TNULL, gj_value_type(gj_value_list_at(a, 1)));
    EXPECT_EQ(GJ_TFLOAT, gj_value_type(gj_value_list_at(a, 2)));
    int64_t i = 0;
    EXPECT_EQ(0, gj_value_int_get(gj_value_map_get(gj_value_map_get(p.v, "c"), "d"), &i));
    EXPECT_EQ(INT64_MIN, i);
    EXPECT_EQ(R"({"b":1,"a":[true,null,2.5,"xé"],"c":{"d":-9223372036854775808}})", p.json());
}

TEST(JsonIn, HugeIntegersBecomeFloats)
{
    Parsed p("18446744073709551615");
    ASSERT_EQ(0, p.rc);
    EXPECT_EQ(GJ_TFLOAT, gj_value_type(p.v));
}

TEST(JsonIn, ErrorsSayWhere)
{
    Parsed bad(R"({"a":1,})");
    EXPECT_EQ(GJ_EINVAL, bad.rc);
    EXPECT_NE(std::string::npos, std::string(gj_error_message(bad.err)).find("at byte")) << gj_error_message(bad.err);
    Parsed trailing("[1] x");
    EXPECT_EQ(GJ_EINVAL, trailing.rc);
    EXPECT_EQ(0u, std::string(gj_error_message(trailing.err)).find("JSON syntax error at byte 4")) << gj_error_message(trailing.err);
    Parsed truncated("[1,2");
    EXPECT_EQ(GJ_EINVAL, truncated.rc);
    EXPECT_STREQ("JSON text ends too early (4 bytes)", gj_error_message(truncated.err));
    Parsed utf8("\"\xff\"");
    EXPECT_NE(0, utf8.rc);
    EXPECT_EQ(nullptr, utf8.v);
    std::string deep(200, '[');
    deep += std::string(200, ']');
    Parsed d(deep);
    EXPECT_NE(0, d.rc);
    EXPECT_EQ(nullptr, d.v);
    Parsed ws("  7 \n");
    EXPECT_EQ(0, ws.rc);
}

} // namespace
