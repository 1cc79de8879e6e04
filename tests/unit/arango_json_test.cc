// lib/backend/arango/json_value.c: json-c objects to gj_value.
#include <gtest/gtest.h>

#include <graphjob.h>
#include <json-c/json.h>

#include <cstring>
#include <string>

extern "C" {
/* From lib/backend/arango/arango_internal.h (which is C only: stdatomic). */
int gj__arango_json_to_value(const json_object *j, gj_value **out, gj_error *err);
}

namespace {

struct Converted {
    gj_value *v = nullptr;
    gj_error *err = gj_error_new();
    int rc = 0;
    explicit Converted(const char *text)
    {
        json_tokener *tok = json_tokener_new_ex(200);
        json_object *j = json_tokener_parse_ex(tok, text, (int)strlen(text));
        EXPECT_NE(nullptr, j) << text;
        json_tokener_free(tok);
        rc = gj__arango_json_to_value(j, &v, err);
        json_object_put(j);
    }
    ~Converted()
    {
        gj_value_unref(v);
        gj_error_free(err);
    }
    std::string json() const
    {
        char *t = nullptr;
        if (!v || gj_value_to_json(v, 0, &t, nullptr) != 0)
            return "<none>";
        std::string s(t);
        gj_free(t);
        return s;
    }
};

TEST(ArangoJson, ScalarsKeepTheirTypes)
{
    Converted c("[null, true, false, 0, -7, 9223372036854775807, 1.5, \"h\\u00e9\"]");
    ASSERT_EQ(0, c.rc) << gj_error_message(c.err);
    ASSERT_EQ(GJ_TLIST, gj_value_type(c.v));
    const gj_type want[] = { GJ_TNULL, GJ_TBOOL, GJ_TBOOL, GJ_TINT, GJ_TINT, GJ_TINT, GJ_TFLOAT, GJ_TSTRING };
    ASSERT_EQ(8u, gj_value_size(c.v));
    for (size_t i = 0; i < 8; i++)
        EXPECT_EQ(want[i], gj_value_type(gj_value_list_at(c.v, i))) << i;
    int64_t big = 0;
    ASSERT_EQ(0, gj_value_int_get(gj_value_list_at(c.v, 5), &big));
    EXPECT_EQ(INT64_MAX, big);
    const char *s = nullptr;
    size_t n = 0;
    ASSERT_EQ(0, gj_value_string_get(gj_value_list_at(c.v, 7), &s, &n));
    EXPECT_EQ(std::string("h\xc3\xa9"), std::string(s, n));
}

TEST(ArangoJson, IntegersAboveInt64BecomeDoubles)
{
    Converted c("[18446744073709551615]");
    ASSERT_EQ(0, c.rc);
    const gj_value *v = gj_value_list_at(c.v, 0);
    ASSERT_EQ(GJ_TFLOAT, gj_value_type(v));
    double d = 0;
    gj_value_float_get(v, &d);
    EXPECT_DOUBLE_EQ(18446744073709551615.0, d);
}

TEST(ArangoJson, ObjectsAreOrderedMaps)
{
    Converted c("{\"z\": 1, \"a\": {\"b\": [1, {\"c\": null}]}, \"m\": \"x\"}");
    ASSERT_EQ(0, c.rc);
    ASSERT_EQ(GJ_TMAP, gj_value_type(c.v));
    EXPECT_EQ("{\"z\":1,\"a\":{\"b\":[1,{\"c\":null}]},\"m\":\"x\"}", c.json());
    EXPECT_NE(nullptr, gj_value_map_get(gj_value_map_get(c.v, "a"), "b"));
}

TEST(ArangoJson, InvalidUtf8IsAProtocolError)
{
    // json-c accepts raw bytes in strings; the value model does not.
    Converted c("[\"ok\", \"\xff\xfe\"]");
    EXPECT_EQ(GJ_EPROTOCOL, c.rc);
    EXPECT_EQ(nullptr, c.v);
    EXPECT_NE(std::string::npos, std::string(gj_error_message(c.err)).find("UTF-8"));
    Converted k("{\"\xc3\x28\": 1}");
    EXPECT_EQ(GJ_EPROTOCOL, k.rc);
}

TEST(ArangoJson, DepthIsBounded)
{
    std::string deep(150, '[');
    deep += std::string(150, ']');
    Converted c(deep.c_str());
    EXPECT_EQ(GJ_EPROTOCOL, c.rc);
    EXPECT_NE(std::string::npos, std::string(gj_error_message(c.err)).find("deeper"));
    std::string ok(100, '[');
    ok += std::string(100, ']');
    Converted d(ok.c_str());
    EXPECT_EQ(0, d.rc);
}

}  // namespace
