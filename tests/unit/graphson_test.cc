// GraphSON 3.0 / 2.0 codec: every v2 and v3 file of TinkerPop's IO files
// decodes and re-encodes to an equal JSON tree (the whole request and
// response messages through the message layer), values checked by hand, the
// Java text forms, the encoder's choices, and hostile input.
//
// Skipped on purpose: *-no-types.json (GraphSON written without types, which
// Gremlin Server does not send with these mime types) and *-v1*.json
// (GraphSON 1.0, untyped, not supported).
#include <gtest/gtest.h>

#include <dirent.h>
#include <json-c/json.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

extern "C" {
#include "codec/gremlin_msg.h"
}

namespace {

struct ValueFree {
    void operator()(gj_value *v) const { gj_value_unref(v); }
};
using V = std::unique_ptr<gj_value, ValueFree>;

struct ErrFree {
    void operator()(gj_error *e) const { gj_error_free(e); }
};
using E = std::unique_ptr<gj_error, ErrFree>;

struct JsonFree {
    void operator()(json_object *j) const { json_object_put(j); }
};
using J = std::unique_ptr<json_object, JsonFree>;

struct Buf {
    gj_ps_buf b;
    Buf() { gj__ps_buf_init(&b, 0); }
    ~Buf() { gj__ps_buf_free(&b); }
    std::string text() const { return std::string((const char *)b.data, b.len); }
};

std::string VectorDir()
{
    const char *srcdir = std::getenv("GJ_SRCDIR");
    return std::string(srcdir != nullptr ? srcdir : GJ_SRCDIR) + "/../shared/vectors/tinkerpop";
}

std::vector<std::string> ListDir(const std::string &dir, const std::string &suffix)
{
    std::vector<std::string> names;
    DIR *d = opendir(dir.c_str());
    if (!d)
        return names;
    while (struct dirent *e = readdir(d)) {
        std::string n = e->d_name;
        if (n.size() > suffix.size() && n.compare(n.size() - suffix.size(), suffix.size(), suffix) == 0)
            names.push_back(n);
    }
    closedir(d);
    std::sort(names.begin(), names.end());
    return names;
}

std::string ReadFile(const std::string &path)
{
    std::ifstream f(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

#define SKIP_WITHOUT_VECTORS()                                                                   \
    do {                                                                                         \
        if (ListDir(VectorDir() + "/graphson", ".json").empty())                                 \
            GTEST_SKIP() << "TinkerPop's GraphSON files are not in " << VectorDir()             \
                         << "/graphson (they live outside the repository)";                      \
    } while (0)

// Two JSON trees are equal: same members in any order, same items in order,
// numbers equal as numbers (a g:Float as a float).
bool Equal(json_object *a, json_object *b, const char *type, std::string *where)
{
    json_type ta = json_object_get_type(a), tb = json_object_get_type(b);
    bool na = ta == json_type_int || ta == json_type_double;
    bool nb = tb == json_type_int || tb == json_type_double;
    if (na && nb) {
        if (ta == json_type_int && tb == json_type_int)
            return json_object_get_int64(a) == json_object_get_int64(b);
        double x = json_object_get_double(a), y = json_object_get_double(b);
        return x == y || (type && !std::strcmp(type, "g:Float") && (float)x == (float)y);
    }
    if (ta != tb)
        return false;
    switch (ta) {
    case json_type_null:
        return true;
    case json_type_boolean:
        return json_object_get_boolean(a) == json_object_get_boolean(b);
    case json_type_string:
        return json_object_get_string_len(a) == json_object_get_string_len(b) &&
               !std::memcmp(json_object_get_string(a), json_object_get_string(b),
                            (size_t)json_object_get_string_len(a));
    case json_type_array: {
        size_t n = json_object_array_length(a);
        if (n != json_object_array_length(b))
            return false;
        for (size_t i = 0; i < n; i++)
            if (!Equal(json_object_array_get_idx(a, i), json_object_array_get_idx(b, i), nullptr,
                       where)) {
                *where = "[" + std::to_string(i) + "]" + *where;
                return false;
            }
        return true;
    }
    case json_type_object: {
        if (json_object_object_length(a) != json_object_object_length(b))
            return false;
        json_object *t = nullptr;
        const char *name = json_object_object_get_ex(a, "@type", &t) ? json_object_get_string(t) : nullptr;
        json_object_object_foreach(a, key, val) {
            json_object *other = nullptr;
            if (!json_object_object_get_ex(b, key, &other) || !Equal(val, other, name, where)) {
                *where = std::string(".") + key + *where;
                return false;
            }
        }
        return true;
    }
    default:
        return false;
    }
}

// json_tokener_parse() stops at 32 levels; these documents may nest more.
json_object *Parse(const std::string &text)
{
    json_tokener *tok = json_tokener_new_ex(1000);
    json_object *j = json_tokener_parse_ex(tok, text.c_str(), (int)text.size() + 1);
    json_tokener_free(tok);
    return j;
}

void ExpectSameTree(const std::string &expected, const std::string &actual)
{
    J a(Parse(expected)), b(Parse(actual));
    ASSERT_NE(a, nullptr);
    ASSERT_NE(b, nullptr) << actual;
    std::string where;
    EXPECT_TRUE(Equal(a.get(), b.get(), nullptr, &where)) << "differs at $" << where << "\n  got: "
                                                           << actual;
}

V Decode(const std::string &text, gj_graphson_version version, int *rc_out = nullptr,
         gj_error *err = nullptr, unsigned depth = 0)
{
    gj_value *v = nullptr;
    int rc = gj__graphson_decode(&v, version, text.data(), text.size(), depth, err);
    if (rc_out)
        *rc_out = rc;
    return V(v);
}

std::string Encode(const gj_value *v, gj_graphson_version version, int *rc_out = nullptr,
                   gj_error *err = nullptr)
{
    Buf b;
    int rc = gj__graphson_encode(&b.b, version, v, err);
    if (rc_out)
        *rc_out = rc;
    return rc ? std::string() : b.text();
}

std::string Text(const gj_value *v)
{
    const char *s = nullptr;
    size_t n = 0;
    if (gj_value_string_get(v, &s, &n) != 0)
        return "<not a string>";
    return std::string(s, n);
}

int64_t Int(const gj_value *v)
{
    int64_t i = INT64_MIN;
    EXPECT_EQ(gj_value_int_get(v, &i), 0);
    return i;
}

const gj_value *Inner(const gj_value *v, const char *tag)
{
    const char *t = nullptr;
    const gj_value *inner = nullptr;
    if (gj_value_tagged_get(v, &t, &inner) != 0 || std::strcmp(t, tag) != 0)
        return nullptr;
    return inner;
}

bool StartsWith(const std::string &s, const std::string &prefix)
{
    return s.compare(0, prefix.size(), prefix) == 0;
}

bool IsMessage(const std::string &name)
{
    for (const char *p : {"session", "standardresult", "authentication"})
        if (StartsWith(name, p))
            return true;
    return false;
}

V DecodeFile(const std::string &name)
{
    gj_graphson_version version = name.find("-v2") != std::string::npos ? GJ_GRAPHSON_V2
                                                                         : GJ_GRAPHSON_V3;
    E err(gj_error_new());
    int rc = 0;
    V v = Decode(ReadFile(VectorDir() + "/graphson/" + name), version, &rc, err.get());
    EXPECT_EQ(rc, 0) << name << ": " << gj_error_message(err.get());
    return v;
}

// ---- TinkerPop's files -------------------------------------------------------------------

TEST(GraphSONVectors, EveryV2AndV3FileRoundTripsToAnEqualTree)
{
    SKIP_WITHOUT_VECTORS();
    size_t values = 0, messages = 0;
    for (const std::string &name : ListDir(VectorDir() + "/graphson", ".json")) {
        if (name.find("no-types") != std::string::npos || name.find("-v1") != std::string::npos)
            continue;   // untyped GraphSON and GraphSON 1.0: see the top of this file
        SCOPED_TRACE(name);
        bool v2 = name.find("-v2") != std::string::npos;
        std::string text = ReadFile(VectorDir() + "/graphson/" + name);
        E err(gj_error_new());
        int rc = 0;
        if (!IsMessage(name)) {
            V v = Decode(text, v2 ? GJ_GRAPHSON_V2 : GJ_GRAPHSON_V3, &rc, err.get());
            ASSERT_EQ(rc, 0) << gj_error_message(err.get());
            std::string out = Encode(v.get(), v2 ? GJ_GRAPHSON_V2 : GJ_GRAPHSON_V3, &rc, err.get());
            ASSERT_EQ(rc, 0) << gj_error_message(err.get());
            ExpectSameTree(text, out);
            values++;
            continue;
        }
        // Whole messages: responses have a status, requests an op.
        gj_gremlin_format f = v2 ? GJ_GREMLIN_GRAPHSON_V2 : GJ_GREMLIN_GRAPHSON_V3;
        Buf out;
        if (text.find("\"status\"") != std::string::npos) {
            gj_gremlin_response resp;
            ASSERT_EQ(gj__gremlin_response_decode(&resp, f, text.data(), text.size(), 0, err.get()), 0)
                << gj_error_message(err.get());
            ASSERT_EQ(gj__gremlin_response_encode(&out.b, f, &resp, err.get()), 0)
                << gj_error_message(err.get());
            gj__gremlin_response_clear(&resp);
            ExpectSameTree(text, out.text());
        } else {
            gj_gremlin_request req;
            ASSERT_EQ(gj__gremlin_request_decode_payload(&req, f, text.data(), text.size(), 0, err.get()), 0)
                << gj_error_message(err.get());
            ASSERT_EQ(gj__gremlin_request_encode(&out.b, f, &req, err.get()), 0)
                << gj_error_message(err.get());
            gj__gremlin_request_clear(&req);
            std::string frame = out.text();
            ASSERT_GT(frame.size(), 34u);
            ExpectSameTree(text, frame.substr(1 + (uint8_t)frame[0]));
        }
        messages++;
    }
    EXPECT_GE(values, 100u);
    EXPECT_GE(messages, 14u);
}

TEST(GraphSONVectors, BigNumbersKeepEveryDigit)
{
    SKIP_WITHOUT_VECTORS();
    for (const char *name : {"biginteger-v3.json", "bigdecimal-v3.json", "biginteger-v2.json",
                             "bigdecimal-v2.json"}) {
        V v = DecodeFile(name);
        const gj_value *inner = Inner(v.get(), std::strstr(name, "integer") ? "gx:BigInteger"
                                                                           : "gx:BigDecimal");
        ASSERT_NE(inner, nullptr) << name;
        EXPECT_EQ(Text(inner), "123456789987654321123456789987654321");
        std::string out = Encode(v.get(), std::strstr(name, "v2") ? GJ_GRAPHSON_V2 : GJ_GRAPHSON_V3);
        EXPECT_NE(out.find("\"@value\":123456789987654321123456789987654321}"), std::string::npos)
            << out;
    }
}

TEST(GraphSONVectors, SelectedValues)
{
    SKIP_WITHOUT_VECTORS();
    struct {
        const char *file;
        int64_t value;
        unsigned bits;
    } ints[] = {{"integer-v3.json", 100, 32}, {"long-v3.json", 100, 64}, {"short-v3.json", 100, 16},
                {"byte-v3.json", 1, 8}, {"integer-v2.json", 100, 32}, {"long-v2.json", 100, 64}};
    for (const auto &c : ints) {
        V v = DecodeFile(c.file);
        EXPECT_EQ(Int(v.get()), c.value) << c.file;
        EXPECT_EQ(gj_value_int_bits(v.get()), c.bits) << c.file;
    }
    V f = DecodeFile("float-v3.json");
    EXPECT_EQ(gj_value_float_bits(f.get()), 32u);

    for (const char *name : {"vertex-v3.json", "vertex-v2.json"}) {
        V v = DecodeFile(name);
        ASSERT_EQ(gj_value_type(v.get()), GJ_TNODE) << name;
        EXPECT_EQ(Int(gj_value_element_id(v.get())), 1);
        EXPECT_EQ(gj_value_int_bits(gj_value_element_id(v.get())), 32u);
        EXPECT_EQ(Text(gj_value_list_at(gj_value_node_labels(v.get()), 0)), "person");
        const gj_value *locations = gj_value_map_get(gj_value_element_properties(v.get()), "location");
        ASSERT_EQ(gj_value_size(locations), 4u);
        const gj_value *vp = Inner(gj_value_list_at(locations, 0), "g:VertexProperty");
        ASSERT_NE(vp, nullptr);
        EXPECT_EQ(Text(gj_value_map_get(vp, "value")), "san diego");
        EXPECT_EQ(Int(gj_value_map_get(gj_value_map_get(vp, "properties"), "endTime")), 2001);
    }

    V e = DecodeFile("edge-v3.json");
    ASSERT_EQ(gj_value_type(e.get()), GJ_TEDGE);
    EXPECT_EQ(Int(gj_value_edge_start_id(e.get())), 1);
    EXPECT_EQ(Int(gj_value_edge_end_id(e.get())), 10);
    EXPECT_EQ(Text(gj_value_edge_end_label(e.get())), "software");
    EXPECT_EQ(Int(gj_value_map_get(gj_value_element_properties(e.get()), "since")), 2009);

    // g:Map with non-string keys: a g:Date and a g:List.
    V m = DecodeFile("map-v3.json");
    ASSERT_EQ(gj_value_type(m.get()), GJ_TMAP);
    EXPECT_EQ(gj_value_type(gj_value_map_key_at(m.get(), 0)), GJ_TDATETIME);
    EXPECT_EQ(gj_value_type(gj_value_map_key_at(m.get(), 1)), GJ_TLIST);
    EXPECT_EQ(Int(gj_value_map_get(m.get(), "test")), 123);

    for (const char *name : {"path-v3.json", "path-v2.json"}) {
        V p = DecodeFile(name);
        ASSERT_EQ(gj_value_type(p.get()), GJ_TPATH) << name;
        EXPECT_EQ(gj_value_size(gj_value_path_objects(p.get())), 3u);
        EXPECT_EQ(gj_value_type(gj_value_list_at(gj_value_path_labels(p.get()), 2)), GJ_TSET) << name;
    }
    V s = DecodeFile("set-v3.json");
    EXPECT_EQ(gj_value_type(s.get()), GJ_TSET);

    V zdt = DecodeFile("zoneddatetime-v3.json");
    const char *zone = nullptr;
    int32_t off = 0, ns = 0;
    gj_value_datetime_get(zdt.get(), nullptr, &ns, &off, &zone, nullptr);
    EXPECT_STREQ(zone, "GMT+02:00");
    EXPECT_EQ(off, 7200);
    EXPECT_EQ(ns, 36);

    V g = DecodeFile("tinkergraph-v3.json");
    ASSERT_NE(Inner(g.get(), "tinker:graph"), nullptr);
    EXPECT_EQ(gj_value_size(gj_value_map_get(Inner(g.get(), "tinker:graph"), "vertices")), 6u);

    V metrics = DecodeFile("metrics-v3.json");
    const gj_value *mi = Inner(metrics.get(), "g:Metrics");
    ASSERT_NE(mi, nullptr);
    EXPECT_EQ(Text(gj_value_map_get(mi, "id")), "7.0.0()");
}

TEST(GraphSONVectors, GraphsLinesDecode)
{
    std::string path = VectorDir() + "/graphs/tinkerpop-modern-v3.json";
    std::ifstream in(path);
    if (!in)
        GTEST_SKIP() << path << " is absent";
    std::string line;
    int n = 0;
    while (std::getline(in, line)) {
        E err(gj_error_new());
        int rc = 0;
        V v = Decode(line, GJ_GRAPHSON_V3, &rc, err.get());
        ASSERT_EQ(rc, 0) << gj_error_message(err.get());
        ASSERT_EQ(gj_value_type(v.get()), GJ_TMAP);
        EXPECT_EQ(gj_value_int_bits(gj_value_map_get(v.get(), "id")), 32u);
        n++;
    }
    EXPECT_EQ(n, 6);   // marko, vadas, lop, josh, ripple, peter
}

// ---- decoding by hand -----------------------------------------------------------------------

TEST(GraphSONDecode, UnknownTypesAreKept)
{
    std::string text = R"({"@type":"janusgraph:RelationIdentifier","@value":{"relationId":"4r6-39s-69zp-3c8","n":7,"l":[1,{"@type":"g:Int32","@value":2}]}})";
    E err(gj_error_new());
    int rc = 0;
    V v = Decode(text, GJ_GRAPHSON_V3, &rc, err.get());
    ASSERT_EQ(rc, 0) << gj_error_message(err.get());
    const gj_value *inner = Inner(v.get(), "janusgraph:RelationIdentifier");
    ASSERT_NE(inner, nullptr);
    EXPECT_EQ(Text(gj_value_map_get(inner, "relationId")), "4r6-39s-69zp-3c8");
    ExpectSameTree(text, Encode(v.get(), GJ_GRAPHSON_V3));
    ExpectSameTree(text, Encode(v.get(), GJ_GRAPHSON_V2));
}

TEST(GraphSONDecode, BareNumbers)
{
    V v = Decode("[1, 2.5, -9223372036854775808, 18446744073709551616, 1.0e0, 2.00e0]",
                 GJ_GRAPHSON_V3);
    ASSERT_EQ(gj_value_size(v.get()), 6u);
    EXPECT_EQ(Int(gj_value_list_at(v.get(), 0)), 1);
    double d = 0;
    gj_value_float_get(gj_value_list_at(v.get(), 1), &d);
    EXPECT_EQ(d, 2.5);
    EXPECT_EQ(Int(gj_value_list_at(v.get(), 2)), INT64_MIN);
    // Beyond int64: every digit kept, even with real numbers that look like
    // the marker the decoder would first choose.
    EXPECT_EQ(Text(Inner(gj_value_list_at(v.get(), 3), "gx:BigInteger")), "18446744073709551616");
    gj_value_float_get(gj_value_list_at(v.get(), 4), &d);
    EXPECT_EQ(d, 1.0);
    gj_value_float_get(gj_value_list_at(v.get(), 5), &d);
    EXPECT_EQ(d, 2.0);
    // A string with many digits is no number.
    V s = Decode(R"(["12345678901234567890123", 99999999999999999999999])", GJ_GRAPHSON_V3);
    EXPECT_EQ(Text(gj_value_list_at(s.get(), 0)), "12345678901234567890123");
    EXPECT_EQ(Text(Inner(gj_value_list_at(s.get(), 1), "gx:BigInteger")), "99999999999999999999999");
}

TEST(GraphSONDecode, JavaTextForms)
{
    struct {
        const char *json;
        const char *again;   // the text Java would write back (nullptr: the same)
    } cases[] = {
        {R"({"@type":"gx:LocalTime","@value":"12:30"})", nullptr},
        {R"({"@type":"gx:LocalTime","@value":"12:30:45.5"})", "12:30:45.500"},
        {R"({"@type":"gx:LocalTime","@value":"00:00:00.000001"})", "00:00:00.000001"},
        {R"({"@type":"gx:LocalDate","@value":"+10000-01-01"})", nullptr},
        {R"({"@type":"gx:LocalDate","@value":"-0001-12-31"})", nullptr},
        {R"({"@type":"gx:LocalDateTime","@value":"2016-01-01T00:00:00"})", "2016-01-01T00:00"},
        {R"({"@type":"gx:OffsetDateTime","@value":"2007-12-03T10:15:30Z"})", nullptr},
        {R"({"@type":"gx:OffsetTime","@value":"10:15:30-05:30"})", nullptr},
        {R"({"@type":"gx:Duration","@value":"PT-0.5S"})", nullptr},
        {R"({"@type":"gx:Duration","@value":"PT0S"})", nullptr},
        {R"({"@type":"gx:Duration","@value":"P2DT3H4M"})", "PT51H4M"},
        {R"({"@type":"gx:Duration","@value":"PT1H1M1.000000001S"})", nullptr},
        {R"({"@type":"gx:Duration","@value":"-PT6H3M"})", "PT-6H-3M"},
        {R"({"@type":"gx:Instant","@value":"2016-12-14T16:39:00Z"})", nullptr},
        {R"({"@type":"gx:ZonedDateTime","@value":"2016-12-23T12:12:24+02:00"})", nullptr},
    };
    for (const auto &c : cases) {
        E err(gj_error_new());
        int rc = 0;
        V v = Decode(c.json, GJ_GRAPHSON_V3, &rc, err.get());
        ASSERT_EQ(rc, 0) << c.json << ": " << gj_error_message(err.get());
        std::string out = Encode(v.get(), GJ_GRAPHSON_V3);
        J j(json_tokener_parse(out.c_str()));
        json_object *val = nullptr;
        ASSERT_TRUE(json_object_object_get_ex(j.get(), "@value", &val)) << out;
        J src(json_tokener_parse(c.json));
        json_object *sval = nullptr;
        json_object_object_get_ex(src.get(), "@value", &sval);
        EXPECT_STREQ(json_object_get_string(val), c.again ? c.again : json_object_get_string(sval))
            << c.json;
    }
}

// ---- encoding ----------------------------------------------------------------------------------

TEST(GraphSONEncode, NativeValues)
{
    gj_value *v = nullptr;
    gj_value_new_map(&v, 2);
    gj_value_map_put(v, gj_value_int(1), gj_value_string("one"));
    V map(v);
    EXPECT_EQ(Encode(map.get(), GJ_GRAPHSON_V3),
              R"({"@type":"g:Map","@value":[{"@type":"g:Int64","@value":1},"one"]})");
    E err(gj_error_new());
    int rc = 0;
    Encode(map.get(), GJ_GRAPHSON_V2, &rc, err.get());
    EXPECT_EQ(rc, GJ_EINVAL);   // GraphSON 2.0 object keys are strings

    gj_value_new_set(&v, 1);
    gj_value_list_append(v, gj_value_string("a\"b\n"));
    V set(v);
    EXPECT_EQ(Encode(set.get(), GJ_GRAPHSON_V3), R"({"@type":"g:Set","@value":["a\"b\n"]})");
    EXPECT_EQ(Encode(set.get(), GJ_GRAPHSON_V2), R"(["a\"b\n"])");

    gj_value_new_float_bits(&v, NAN, 64);
    V nan(v);
    EXPECT_EQ(Encode(nan.get(), GJ_GRAPHSON_V3), R"({"@type":"g:Double","@value":"NaN"})");
    V back = Decode(Encode(nan.get(), GJ_GRAPHSON_V3), GJ_GRAPHSON_V3);
    double d = 0;
    gj_value_float_get(back.get(), &d);
    EXPECT_TRUE(std::isnan(d));

    gj_value_new_float_bits(&v, (double)0.1f, 32);
    V single(v);
    EXPECT_EQ(Encode(single.get(), GJ_GRAPHSON_V3), R"({"@type":"g:Float","@value":0.1})");

    uint8_t bytes[] = {'s', 'o', 'm', 'e'};
    gj_value_new_bytes(&v, bytes, 4);
    V buf(v);
    EXPECT_EQ(Encode(buf.get(), GJ_GRAPHSON_V3), R"({"@type":"gx:ByteBuffer","@value":"c29tZQ=="})");

    gj_value_new_datetime(&v, 1481750076, 295000000, 0, nullptr, 0);
    V date(v);
    EXPECT_EQ(Encode(date.get(), GJ_GRAPHSON_V3), R"({"@type":"g:Date","@value":1481750076295})");
    gj_value_new_datetime(&v, 0, 1, 0, nullptr, 0);
    V instant(v);
    EXPECT_EQ(Encode(instant.get(), GJ_GRAPHSON_V3),
              R"({"@type":"gx:Instant","@value":"1970-01-01T00:00:00.000000001Z"})");
    gj_value_new_point(&v, 7203, 2, 1, 2, 0);
    V point(v);
    Encode(point.get(), GJ_GRAPHSON_V3, &rc, err.get());
    EXPECT_EQ(rc, GJ_EINVAL);
}

TEST(GraphSONEncode, BulkSetV2IsExpandedWithABound)
{
    gj_value *list = nullptr, *v = nullptr;
    gj_value_new_list(&list, 2);
    gj_value_list_append(list, gj_value_string("x"));
    gj_value_list_append(list, gj_value_int(3));
    gj_value_new_tagged(&v, "g:BulkSet", list);
    V bulk(v);
    EXPECT_EQ(Encode(bulk.get(), GJ_GRAPHSON_V2), R"(["x","x","x"])");
    gj_value_new_list(&list, 2);
    gj_value_list_append(list, gj_value_string("x"));
    gj_value_list_append(list, gj_value_int(INT64_C(1) << 40));
    gj_value_new_tagged(&v, "g:BulkSet", list);
    V huge(v);
    E err(gj_error_new());
    int rc = 0;
    Encode(huge.get(), GJ_GRAPHSON_V2, &rc, err.get());
    EXPECT_EQ(rc, GJ_ETOOBIG);
    EXPECT_NE(Encode(huge.get(), GJ_GRAPHSON_V3, &rc), "");

    // Within the item bound, but a large item repeated (found by the fuzzer:
    // 10^6 copies of a 3000-byte string would be 3 GB): bounded in bytes.
    gj_value_new_list(&list, 2);
    gj_value_list_append(list, gj_value_string(std::string(3000, 'y').c_str()));
    gj_value_list_append(list, gj_value_int(1000000));
    gj_value_new_tagged(&v, "g:BulkSet", list);
    V wide(v);
    rc = 0;
    Encode(wide.get(), GJ_GRAPHSON_V2, &rc, err.get());
    EXPECT_EQ(rc, GJ_ETOOBIG);
    EXPECT_NE(nullptr, strstr(gj_error_message(err.get()), "bytes")) << gj_error_message(err.get());

    // Nested: 1000 copies of a BulkSet of 1000 items each is 10^6 items in all.
    gj_value *inner = nullptr;
    gj_value_new_list(&list, 2);
    gj_value_list_append(list, gj_value_int(7));
    gj_value_list_append(list, gj_value_int(1000));
    gj_value_new_tagged(&inner, "g:BulkSet", list);
    gj_value_new_list(&list, 2);
    gj_value_list_append(list, inner);
    gj_value_list_append(list, gj_value_int(2000));
    gj_value_new_tagged(&v, "g:BulkSet", list);
    V nested(v);
    rc = 0;
    Encode(nested.get(), GJ_GRAPHSON_V2, &rc, err.get());
    EXPECT_EQ(rc, GJ_ETOOBIG);
}

// ---- hostile input -----------------------------------------------------------------------------

void ExpectProtocol(const std::string &text, const char *needle, gj_graphson_version version = GJ_GRAPHSON_V3,
                    unsigned depth = 0)
{
    E err(gj_error_new());
    int rc = 0;
    V v = Decode(text, version, &rc, err.get(), depth);
    EXPECT_EQ(rc, GJ_EPROTOCOL) << text.substr(0, 200);
    EXPECT_EQ(v, nullptr);
    EXPECT_NE(std::strstr(gj_error_message(err.get()), needle), nullptr)
        << "\"" << gj_error_message(err.get()) << "\" lacks \"" << needle << "\"";
}

TEST(GraphSONHostile, WrongValuesNameTheTypeAndThePath)
{
    ExpectProtocol(R"({"@type":"g:List","@value":[1,{"@type":"g:Int32","@value":"x"}]})",
                   "g:Int32 has an invalid @value \"x\" at $['@value'][1]['@value']");
    ExpectProtocol(R"({"@type":"g:Int32","@value":3000000000})", "g:Int32");
    ExpectProtocol(R"({"@type":"g:Int64","@value":9223372036854775808})", "g:Int64");
    ExpectProtocol(R"({"@type":"g:Map","@value":[1,2,3]})", "odd number");
    ExpectProtocol(R"({"@type":7,"@value":1})", "@type is not a string");
    ExpectProtocol(R"({"@type":"g:UUID","@value":"not-a-uuid"})", "g:UUID");
    ExpectProtocol(R"({"@type":"gx:LocalDate","@value":"2016-02-30"})", "gx:LocalDate");
    ExpectProtocol(R"({"@type":"gx:ByteBuffer","@value":"!!!"})", "gx:ByteBuffer");
    ExpectProtocol(R"({"@type":"g:Vertex","@value":{"id":1,"properties":[]}})", "properties");
    ExpectProtocol(R"({"a":{"b":[{"@type":"g:Path","@value":{"objects":5}}]}})",
                   "at $.a.b[0]['@value']");
    ExpectProtocol(R"({"@type":"gx:Duration","@value":"PT"})", "gx:Duration");
    ExpectProtocol(R"({"@type":"gx:Char","@value":"ab"})", "gx:Char");
}

TEST(GraphSONHostile, SyntaxAndTruncation)
{
    ExpectProtocol("[1, 2", "ends too early");
    ExpectProtocol("[1, 2]]", "byte 6");
    ExpectProtocol("[1, 2] x", "byte 7");
    ExpectProtocol("{\"a\" 1}", "not JSON");
    ExpectProtocol("[\"\xc3\x28\"]", "");
    ExpectProtocol("", "");
    // Every prefix of a file fails cleanly.
    std::string text = R"({"@type":"g:List","@value":[{"@type":"g:Vertex","@value":{"id":{"@type":"g:Int32","@value":1},"label":"person","properties":{"name":[{"@type":"g:VertexProperty","@value":{"id":{"@type":"g:Int64","@value":0},"value":"marko","label":"name"}}]}}},12345678901234567890123]})";
    int ok = 0;
    for (size_t len = 0; len < text.size(); len++) {
        E err(gj_error_new());
        int rc = 0;
        V v = Decode(text.substr(0, len), GJ_GRAPHSON_V3, &rc, err.get());
        if (rc == 0)
            ok++;   // only a prefix that is itself a document can decode
        else
            EXPECT_EQ(rc, GJ_EPROTOCOL) << len;
    }
    EXPECT_EQ(ok, 0);
}

TEST(GraphSONHostile, DeepNesting)
{
    std::string deep;
    for (int i = 0; i < 300; i++)
        deep += R"({"@type":"g:List","@value":[)";
    deep += "1";
    for (int i = 0; i < 300; i++)
        deep += "]}";
    ExpectProtocol(deep, "");
    std::string arrays(5000, '[');
    arrays += std::string(5000, ']');
    ExpectProtocol(arrays, "");
    int rc = 0;
    std::string ok;
    for (int i = 0; i < 100; i++)
        ok += R"({"@type":"g:List","@value":[)";
    ok += "\"x\"";
    for (int i = 0; i < 100; i++)
        ok += "]}";
    V v = Decode(ok, GJ_GRAPHSON_V3, &rc);
    EXPECT_EQ(rc, 0);
    ExpectSameTree(ok, Encode(v.get(), GJ_GRAPHSON_V3));
    // Plain arrays nest one JSON level per value: the value limit applies.
    ExpectProtocol(std::string(60, '[') + std::string(60, ']'), "deeper than 50", GJ_GRAPHSON_V3, 50);
}

}  // namespace
