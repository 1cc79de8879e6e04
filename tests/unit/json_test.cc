// Unit tests of JSON text output and date arithmetic (lib/core/json.c).
#include <graphjob.h>

#include "core/value_internal.h"

#include <gtest/gtest.h>

#include <clocale>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

gj_value *str(const char *s) { return gj_value_string(s); }

// Render and release v.
std::string json(gj_value *v, unsigned flags = 0) {
    char *out = nullptr;
    size_t len = 12345;
    int rc = gj_value_to_json(v, flags, &out, &len);
    gj_value_unref(v);
    if (rc != 0) return "<error " + std::to_string(rc) + ">";
    std::string s(out, len);
    EXPECT_EQ(strlen(out), len);
    gj_free(out);
    return s;
}

gj_value *list(std::initializer_list<gj_value *> items) {
    gj_value *l = nullptr;
    EXPECT_EQ(0, gj_value_new_list(&l, items.size()));
    for (gj_value *v : items) EXPECT_EQ(0, gj_value_list_append(l, v));
    return l;
}

gj_value *map(std::initializer_list<std::pair<const char *, gj_value *>> items) {
    gj_value *m = nullptr;
    EXPECT_EQ(0, gj_value_new_map(&m, items.size()));
    for (auto &kv : items) EXPECT_EQ(0, gj_value_map_put_str(m, kv.first, kv.second));
    return m;
}

#define MAKE(call)                         \
    ([&] {                                 \
        gj_value *made_ = nullptr;         \
        EXPECT_EQ(0, (call(&made_)));      \
        return made_;                      \
    }())

gj_value *date(int64_t days) { return MAKE([&](gj_value **o) { return gj_value_new_date(o, days); }); }
gj_value *time_of(int64_t ns, int32_t off) {
    return MAKE([&](gj_value **o) { return gj_value_new_time(o, ns, off); });
}
gj_value *local_time(int64_t ns) { return MAKE([&](gj_value **o) { return gj_value_new_local_time(o, ns); }); }
gj_value *datetime(int64_t s, int32_t ns, int32_t off, const char *zone, unsigned flags) {
    return MAKE([&](gj_value **o) { return gj_value_new_datetime(o, s, ns, off, zone, flags); });
}
gj_value *local_datetime(int64_t s, int32_t ns) {
    return MAKE([&](gj_value **o) { return gj_value_new_local_datetime(o, s, ns); });
}
gj_value *duration(int64_t mo, int64_t d, int64_t s, int32_t ns) {
    return MAKE([&](gj_value **o) { return gj_value_new_duration(o, mo, d, s, ns); });
}
gj_value *bytes(const char *s) {
    return MAKE([&](gj_value **o) { return gj_value_new_bytes(o, s, strlen(s)); });
}
gj_value *float32(double d) { return MAKE([&](gj_value **o) { return gj_value_new_float_bits(o, d, 32); }); }

const int64_t kNoon = 1706704496;   // 2024-01-31T12:34:56Z
const int64_t kTimeNs = INT64_C(45296789000000);  // 12:34:56.789

// ---- scalars ----------------------------------------------------------------

TEST(Json, Scalars) {
    EXPECT_EQ("null", json(gj_value_null()));
    EXPECT_EQ("true", json(gj_value_bool(true)));
    EXPECT_EQ("false", json(gj_value_bool(false)));
    EXPECT_EQ("-42", json(gj_value_int(-42)));
    EXPECT_EQ("-9223372036854775808", json(gj_value_int(INT64_MIN)));
    EXPECT_EQ("9223372036854775807", json(gj_value_int(INT64_MAX)));
}

TEST(Json, Floats) {
    EXPECT_EQ("1.5", json(gj_value_float(1.5)));
    EXPECT_EQ("0.1", json(gj_value_float(0.1)));
    EXPECT_EQ("1.0", json(gj_value_float(1.0)));
    EXPECT_EQ("-0.0", json(gj_value_float(-0.0)));
    EXPECT_EQ("100.0", json(gj_value_float(100.0)));
    EXPECT_EQ("1e+100", json(gj_value_float(1e100)));
    EXPECT_EQ("0.30000000000000004", json(gj_value_float(0.1 + 0.2)));
    EXPECT_EQ("1.2345678901234568e+17", json(gj_value_float(123456789012345678.0)));
    EXPECT_EQ("\"NaN\"", json(gj_value_float(NAN)));
    EXPECT_EQ("\"Infinity\"", json(gj_value_float(INFINITY)));
    EXPECT_EQ("\"-Infinity\"", json(gj_value_float(-INFINITY)));
    // 32-bit floats print as the shortest text that reads back as the same float.
    EXPECT_EQ("0.1", json(float32(static_cast<float>(0.1))));
    EXPECT_EQ("3.4028235e+38", json(float32(3.4028234663852886e+38)));
    // Round trip of awkward doubles.
    const double samples[] = {5e-324, 2.2250738585072014e-308, 1.7976931348623157e308,
                              0.1 * 3, 1.0 / 3, 2.0 / 3, 123.456, 9007199254740993.0};
    for (double d : samples) {
        std::string s = json(gj_value_float(d));
        EXPECT_EQ(d, strtod(s.c_str(), nullptr)) << s;
    }
}

TEST(Json, FloatsIgnoreTheLocaleDecimalPoint) {
    const char *names[] = {"de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "fr_FR.utf8"};
    std::string saved = setlocale(LC_NUMERIC, nullptr);
    const char *found = nullptr;
    for (const char *n : names)
        if (setlocale(LC_NUMERIC, n)) {
            found = n;
            break;
        }
    if (!found) GTEST_SKIP() << "no locale with a decimal comma installed";
    std::string a = json(gj_value_float(1.5)), b = json(gj_value_float(0.30000000000000004));
    setlocale(LC_NUMERIC, saved.c_str());
    EXPECT_EQ("1.5", a);
    EXPECT_EQ("0.30000000000000004", b);
}

TEST(Json, Strings) {
    EXPECT_EQ("\"plain\"", json(str("plain")));
    EXPECT_EQ("\"\"", json(str("")));
    EXPECT_EQ("\"a\\\"b\\\\c\\u000a\\u0001\\u001f\x7f\"", json(str("a\"b\\c\n\x01\x1f\x7f")));
    EXPECT_EQ("\"h\xc3\xa9llo \xf0\x9f\x98\x80 \xe2\x80\xa8\"", json(str("h\xc3\xa9llo \xf0\x9f\x98\x80 \xe2\x80\xa8")));
    gj_value *nul = nullptr;
    ASSERT_EQ(0, gj_value_new_string(&nul, "a\0b", 3));
    EXPECT_EQ("\"a\\u0000b\"", json(nul));
    EXPECT_EQ("\"\\u0009\\u0008\"", json(str("\t\b")));
}

TEST(Json, Bytes) {
    EXPECT_EQ("\"\"", json(bytes("")));
    EXPECT_EQ("\"YQ==\"", json(bytes("a")));
    EXPECT_EQ("\"YWI=\"", json(bytes("ab")));
    EXPECT_EQ("\"YWJj\"", json(bytes("abc")));
    EXPECT_EQ("\"aGVsbG8=\"", json(bytes("hello")));
    const uint8_t raw[] = {0xfb, 0xff, 0xbf};
    gj_value *b = nullptr;
    ASSERT_EQ(0, gj_value_new_bytes(&b, raw, 3));
    EXPECT_EQ("\"+/+/\"", json(b));
}

TEST(Json, Uuid) {
    gj_value *u = nullptr;
    ASSERT_EQ(0, gj_value_new_uuid_text(&u, "123E4567-E89B-12D3-A456-426614174000"));
    EXPECT_EQ("\"123e4567-e89b-12d3-a456-426614174000\"", json(u));
}

// ---- containers --------------------------------------------------------------

TEST(Json, ListsMapsSets) {
    EXPECT_EQ("[]", json(list({})));
    EXPECT_EQ("{}", json(map({})));
    EXPECT_EQ("[1,\"x\",null,[true,[]]]",
              json(list({gj_value_int(1), str("x"), gj_value_null(), list({gj_value_bool(true), list({})})})));
    EXPECT_EQ("{\"b\":1,\"a\":[2.5,{}],\"c\\\"\":\"\"}",
              json(map({{"b", gj_value_int(1)}, {"a", list({gj_value_float(2.5), map({})})}, {"c\"", str("")}})));
    gj_value *s = nullptr;
    ASSERT_EQ(0, gj_value_new_set(&s, 2));
    ASSERT_EQ(0, gj_value_list_append(s, str("a")));
    ASSERT_EQ(0, gj_value_list_append(s, str("b")));
    EXPECT_EQ("[\"a\",\"b\"]", json(s));
    // A map with a non-string key becomes a list of pairs.
    gj_value *m = nullptr;
    ASSERT_EQ(0, gj_value_new_map(&m, 2));
    ASSERT_EQ(0, gj_value_map_put(m, gj_value_int(1), str("one")));
    ASSERT_EQ(0, gj_value_map_put(m, str("two"), list({gj_value_int(2)})));
    EXPECT_EQ("[[1,\"one\"],[\"two\",[2]]]", json(m));
}

// ---- graph elements -------------------------------------------------------------

gj_value *person(int64_t id) {
    gj_value *n = nullptr;
    EXPECT_EQ(0, gj_value_new_node(&n, gj_value_int(id), list({str("Person")}), map({{"name", str("Ann")}})));
    return n;
}

TEST(Json, Node) {
    EXPECT_EQ("{\"id\":1,\"labels\":[\"Person\"],\"properties\":{\"name\":\"Ann\"}}", json(person(1)));
    gj_value *n = nullptr;
    ASSERT_EQ(0, gj_value_new_node(&n, gj_value_int(2), nullptr, nullptr));
    ASSERT_EQ(0, gj_value_node_set_element_id(n, str("4:db:2")));
    EXPECT_EQ("{\"id\":2,\"element_id\":\"4:db:2\",\"labels\":[],\"properties\":{}}", json(n));
}

TEST(Json, Edge) {
    gj_value *e = nullptr;
    ASSERT_EQ(0, gj_value_new_edge(&e, gj_value_int(7), str("KNOWS"), gj_value_int(1), gj_value_int(2),
                                   map({{"since", gj_value_int(2020)}})));
    EXPECT_EQ("{\"id\":7,\"type\":\"KNOWS\",\"start\":1,\"end\":2,\"properties\":{\"since\":2020}}", json(e));

    ASSERT_EQ(0, gj_value_new_edge(&e, str("e1"), str("created"), str("v1"), str("v3"), nullptr));
    ASSERT_EQ(0, gj_value_edge_set_element_ids(e, str("5:x:7"), str("4:x:1"), str("4:x:2")));
    ASSERT_EQ(0, gj_value_edge_set_end_labels(e, str("person"), str("software")));
    EXPECT_EQ("{\"id\":\"e1\",\"element_id\":\"5:x:7\",\"type\":\"created\",\"start\":\"v1\","
              "\"start_element_id\":\"4:x:1\",\"start_label\":\"person\",\"end\":\"v3\","
              "\"end_element_id\":\"4:x:2\",\"end_label\":\"software\",\"properties\":{}}",
              json(e));

    // Unbound relationship: no start, no end.
    ASSERT_EQ(0, gj_value_new_edge(&e, gj_value_int(9), str("R"), nullptr, nullptr, nullptr));
    EXPECT_EQ("{\"id\":9,\"type\":\"R\",\"properties\":{}}", json(e));
}

TEST(Json, Path) {
    gj_value *r = nullptr, *p = nullptr;
    ASSERT_EQ(0, gj_value_new_edge(&r, gj_value_int(3), str("R"), gj_value_int(1), gj_value_int(2), nullptr));
    ASSERT_EQ(0, gj_value_new_path(&p, list({person(1), r, person(2)}), nullptr));
    EXPECT_EQ("{\"objects\":[{\"id\":1,\"labels\":[\"Person\"],\"properties\":{\"name\":\"Ann\"}},"
              "{\"id\":3,\"type\":\"R\",\"start\":1,\"end\":2,\"properties\":{}},"
              "{\"id\":2,\"labels\":[\"Person\"],\"properties\":{\"name\":\"Ann\"}}]}",
              json(p));
    ASSERT_EQ(0, gj_value_new_path(&p, list({str("a"), gj_value_int(1)}), list({list({str("x")}), list({})})));
    EXPECT_EQ("{\"objects\":[\"a\",1],\"labels\":[[\"x\"],[]]}", json(p));
}

TEST(Json, TaggedAndPoint) {
    gj_value *t = nullptr;
    ASSERT_EQ(0, gj_value_new_tagged(&t, "gx:BigDecimal", str("1.50")));
    EXPECT_EQ("{\"@type\":\"gx:BigDecimal\",\"@value\":\"1.50\"}", json(t));
    ASSERT_EQ(0, gj_value_new_tagged(&t, "g:Tree", list({gj_value_int(1)})));
    EXPECT_EQ("{\"@type\":\"g:Tree\",\"@value\":[1]}", json(t));
    gj_value *p = nullptr;
    ASSERT_EQ(0, gj_value_new_point(&p, 4326, 2, 12.5, -3.25, 0));
    EXPECT_EQ("{\"srid\":4326,\"x\":12.5,\"y\":-3.25}", json(p));
    ASSERT_EQ(0, gj_value_new_point(&p, 9157, 3, 1, 2, NAN));
    EXPECT_EQ("{\"srid\":9157,\"x\":1.0,\"y\":2.0,\"z\":\"NaN\"}", json(p));
}

// ---- temporal ----------------------------------------------------------------------

TEST(Json, Dates) {
    EXPECT_EQ("\"2024-01-31\"", json(date(19753)));
    EXPECT_EQ("\"1970-01-01\"", json(date(0)));
    EXPECT_EQ("\"1969-12-31\"", json(date(-1)));
    EXPECT_EQ("\"2000-02-29\"", json(date(11016)));
    EXPECT_EQ("\"0001-01-01\"", json(date(-719162)));
    EXPECT_EQ("\"0000-01-01\"", json(date(-719528)));
    EXPECT_EQ("\"-0001-12-31\"", json(date(-719529)));
    EXPECT_EQ("\"+10000-01-01\"", json(date(2932897)));
    EXPECT_EQ("\"9999-12-31\"", json(date(2932896)));
}

TEST(Json, Times) {
    EXPECT_EQ("\"12:34:56.789000000+01:00\"", json(time_of(kTimeNs, 3600)));
    EXPECT_EQ("\"00:00:00Z\"", json(time_of(0, 0)));
    EXPECT_EQ("\"23:59:59.999999999-01:30\"", json(time_of(INT64_C(86399999999999), -5400)));
    EXPECT_EQ("\"12:34:56+01:01:01\"", json(time_of(INT64_C(45296000000000), 3661)));
    EXPECT_EQ("\"12:34:56\"", json(local_time(INT64_C(45296000000000))));
    EXPECT_EQ("\"12:34:56.000000001\"", json(local_time(INT64_C(45296000000001))));
}

TEST(Json, DateTimes) {
    EXPECT_EQ("\"2024-01-31T12:34:56.5Z\"", json(datetime(kNoon, 500000000, 0, nullptr, 0)));
    EXPECT_EQ("\"2024-01-31T13:34:56.5+01:00\"",
              json(datetime(kNoon, 500000000, 3600, nullptr, GJ_DATETIME_HAS_OFFSET)));
    EXPECT_EQ("\"2024-01-31T12:34:56.5Z[Europe/Paris]\"",
              json(datetime(kNoon, 500000000, 0, "Europe/Paris", 0)));
    EXPECT_EQ("\"2024-01-31T13:34:56.5+01:00[Europe/Paris]\"",
              json(datetime(kNoon, 500000000, 3600, "Europe/Paris", GJ_DATETIME_HAS_OFFSET)));
    // Bolt 4.4 legacy form: the seconds are already wall-clock.
    EXPECT_EQ("\"2024-01-31T12:34:56.5+01:00\"",
              json(datetime(kNoon, 500000000, 3600, nullptr,
                            GJ_DATETIME_HAS_OFFSET | GJ_DATETIME_LOCAL_SECONDS)));
    EXPECT_EQ("\"2024-01-31T12:34:56[Europe/Paris]\"",
              json(datetime(kNoon, 0, 0, "Europe/Paris", GJ_DATETIME_LOCAL_SECONDS)));
    // The offset moves the wall clock across midnight and a year boundary.
    EXPECT_EQ("\"1969-12-31T23:59:59Z\"", json(datetime(-1, 0, 0, nullptr, 0)));
    EXPECT_EQ("\"1969-12-31T22:00:00-02:00\"",
              json(datetime(0, 0, -7200, nullptr, GJ_DATETIME_HAS_OFFSET)));
    EXPECT_EQ("\"1970-01-01T00:00:00.123456789Z\"", json(datetime(0, 123456789, 0, nullptr, 0)));
    EXPECT_EQ("\"2024-01-31T12:34:56\"", json(local_datetime(kNoon, 0)));
    EXPECT_EQ("\"2024-01-31T12:34:56.00012\"", json(local_datetime(kNoon, 120000)));
    // Extremes render without overflow.
    std::string far = json(datetime(INT64_MAX, 999999999, 18 * 3600, nullptr, GJ_DATETIME_HAS_OFFSET));
    EXPECT_EQ('+', far[1]) << far;
    far = json(local_datetime(INT64_MIN, 0));
    EXPECT_EQ('-', far[1]) << far;
}

TEST(Json, Durations) {
    EXPECT_EQ("\"P14M3DT4.5S\"", json(duration(14, 3, 4, 500000000)));
    EXPECT_EQ("\"PT0S\"", json(duration(0, 0, 0, 0)));
    EXPECT_EQ("\"P1M\"", json(duration(1, 0, 0, 0)));
    EXPECT_EQ("\"P-2D\"", json(duration(0, -2, 0, 0)));
    EXPECT_EQ("\"PT0.000000001S\"", json(duration(0, 0, 0, 1)));
    EXPECT_EQ("\"PT-0.5S\"", json(duration(0, 0, -1, 500000000)));
    EXPECT_EQ("\"PT-0.5S\"", json(duration(0, 0, 0, -500000000)));
    EXPECT_EQ("\"PT1.5S\"", json(duration(0, 0, 2, -500000000)));
    EXPECT_EQ("\"PT-3S\"", json(duration(0, 0, -3, 0)));
    EXPECT_EQ("\"PT-9223372036854775808S\"", json(duration(0, 0, INT64_MIN, 0)));
}

TEST(Json, CalendarArithmetic) {
    // Round trip over 20 000 years around the epoch and at the far ends.
    for (int64_t d = -3700000; d <= 3700000; d += 97) {
        int64_t y, back = 0;
        unsigned m, day;
        gj__civil_from_days(d, &y, &m, &day);
        ASSERT_EQ(0, gj__days_from_civil(y, m, day, &back)) << d;
        ASSERT_EQ(d, back);
    }
    const int64_t far[] = {INT64_C(9000000000000000), -INT64_C(9000000000000000)};
    for (int64_t d : far) {
        int64_t y, back = 0;
        unsigned m, day;
        gj__civil_from_days(d, &y, &m, &day);
        ASSERT_EQ(0, gj__days_from_civil(y, m, day, &back));
        EXPECT_EQ(d, back);
    }
    int64_t y;
    unsigned m, day;
    gj__civil_from_days(INT64_MAX, &y, &m, &day);
    EXPECT_GT(y, INT64_C(25000000000000000));
    EXPECT_TRUE(m >= 1 && m <= 12 && day >= 1 && day <= 31);
    gj__civil_from_days(INT64_MIN, &y, &m, &day);
    EXPECT_LT(y, -INT64_C(25000000000000000));
    int64_t days = 7;
    EXPECT_EQ(GJ_EINVAL, gj__days_from_civil(1900, 2, 29, &days));  // not a leap year
    EXPECT_EQ(0, gj__days_from_civil(2000, 2, 29, &days));
    EXPECT_EQ(11016, days);
    EXPECT_EQ(GJ_EINVAL, gj__days_from_civil(2024, 13, 1, &days));
    EXPECT_EQ(GJ_EINVAL, gj__days_from_civil(2024, 4, 31, &days));
    EXPECT_EQ(GJ_EINVAL, gj__days_from_civil(2024, 1, 0, &days));
    EXPECT_EQ(GJ_EINVAL, gj__days_from_civil(INT64_MAX, 1, 1, &days));
}

TEST(Json, IsoTextHelper) {
    gj_value *d = date(19753);
    char buf[8];
    EXPECT_EQ(10, gj__value_iso_text(d, buf, sizeof buf));  // full length, truncated copy
    EXPECT_STREQ("2024-01", buf);
    char big[GJ__ISO_TEXT_MAX];
    EXPECT_EQ(10, gj__value_iso_text(d, big, sizeof big));
    EXPECT_STREQ("2024-01-31", big);
    gj_value_unref(d);
    gj_value *i = gj_value_int(1);
    EXPECT_EQ(GJ_ETYPE, gj__value_iso_text(i, big, sizeof big));
    gj_value_unref(i);
    EXPECT_EQ(GJ_ETYPE, gj__value_iso_text(nullptr, big, sizeof big));
}

// ---- flags ---------------------------------------------------------------------------

TEST(Json, Typed) {
    EXPECT_EQ("{\"$type\":\"date\",\"value\":\"2024-01-31\"}", json(date(19753), GJ_JSON_TYPED));
    EXPECT_EQ("[1,\"s\",{\"$type\":\"bytes\",\"value\":\"YQ==\"},{\"$type\":\"float\",\"value\":\"NaN\"},2.5]",
              json(list({gj_value_int(1), str("s"), bytes("a"), gj_value_float(NAN), gj_value_float(2.5)}),
                   GJ_JSON_TYPED));
    gj_value *s = nullptr;
    ASSERT_EQ(0, gj_value_new_set(&s, 1));
    ASSERT_EQ(0, gj_value_list_append(s, duration(0, 1, 0, 0)));
    EXPECT_EQ("{\"$type\":\"set\",\"value\":[{\"$type\":\"duration\",\"value\":\"P1D\"}]}",
              json(s, GJ_JSON_TYPED));
    gj_value *m = nullptr;
    ASSERT_EQ(0, gj_value_new_map(&m, 1));
    ASSERT_EQ(0, gj_value_map_put(m, gj_value_int(1), gj_value_int(2)));
    EXPECT_EQ("{\"$type\":\"map\",\"value\":[[1,2]]}", json(m, GJ_JSON_TYPED));
    gj_value *n = nullptr;
    ASSERT_EQ(0, gj_value_new_node(&n, gj_value_int(1), nullptr, map({{"d", date(0)}})));
    EXPECT_EQ("{\"$type\":\"node\",\"value\":{\"id\":1,\"labels\":[],\"properties\":"
              "{\"d\":{\"$type\":\"date\",\"value\":\"1970-01-01\"}}}}",
              json(n, GJ_JSON_TYPED));
    gj_value *t = nullptr;
    ASSERT_EQ(0, gj_value_new_tagged(&t, "g:X", gj_value_int(1)));
    EXPECT_EQ("{\"$type\":\"tagged\",\"value\":{\"@type\":\"g:X\",\"@value\":1}}", json(t, GJ_JSON_TYPED));
    EXPECT_EQ("{\"a\":[null,true]}", json(map({{"a", list({gj_value_null(), gj_value_bool(true)})}}),
                                          GJ_JSON_TYPED));
}

TEST(Json, Pretty) {
    EXPECT_EQ("{\n"
              "  \"a\": 1,\n"
              "  \"b\": [\n"
              "    1,\n"
              "    {\n"
              "      \"c\": []\n"
              "    }\n"
              "  ],\n"
              "  \"d\": {}\n"
              "}",
              json(map({{"a", gj_value_int(1)},
                        {"b", list({gj_value_int(1), map({{"c", list({})}})})},
                        {"d", map({})}}),
                   GJ_JSON_PRETTY));
    EXPECT_EQ("1", json(gj_value_int(1), GJ_JSON_PRETTY));
    EXPECT_EQ("{\n  \"$type\": \"date\",\n  \"value\": \"1970-01-01\"\n}",
              json(date(0), GJ_JSON_PRETTY | GJ_JSON_TYPED));
}

TEST(Json, Arguments) {
    gj_value *v = gj_value_int(1);
    char *out = reinterpret_cast<char *>(1);
    size_t len = 9;
    EXPECT_EQ(GJ_EINVAL, gj_value_to_json(nullptr, 0, &out, &len));
    EXPECT_EQ(nullptr, out);
    EXPECT_EQ(0u, len);
    EXPECT_EQ(GJ_EINVAL, gj_value_to_json(v, 0, nullptr, nullptr));
    EXPECT_EQ(GJ_EINVAL, gj_value_to_json(v, 0x100, &out, nullptr));
    ASSERT_EQ(0, gj_value_to_json(v, 0, &out, nullptr));  // len may be NULL
    EXPECT_STREQ("1", out);
    gj_free(out);
    gj_free(nullptr);
    gj_value_unref(v);
}

TEST(Json, DeepNestingDoesNotRecurse) {
    const int depth = 100000;
    gj_value *v = gj_value_int(1);
    for (int i = 0; i < depth; i++) {
        gj_value *l = nullptr;
        ASSERT_EQ(0, gj_value_new_list(&l, 1));
        ASSERT_EQ(0, gj_value_list_append(l, v));
        v = l;
    }
    gj_value *m = nullptr;
    ASSERT_EQ(0, gj_value_new_map(&m, 1));
    ASSERT_EQ(0, gj_value_map_put_str(m, "k", v));
    std::string s = json(m, GJ_JSON_TYPED);
    ASSERT_EQ(size_t(2 * depth + 7), s.size());
    EXPECT_EQ("{\"k\":[[[", s.substr(0, 8));
    EXPECT_EQ(size_t(5 + depth), s.find('1'));
    EXPECT_EQ("1]]]", s.substr(5 + depth, 4));
    EXPECT_EQ("]]}", s.substr(s.size() - 3));
}

}  // namespace
