// Unit tests of the value model (lib/core/value.c).
#include <graphjob.h>

#include "core/value_internal.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

// Owns one reference.
struct Ref {
    gj_value *v = nullptr;
    Ref() = default;
    explicit Ref(gj_value *x) : v(x) {}
    Ref(const Ref &) = delete;
    Ref &operator=(const Ref &) = delete;
    ~Ref() { gj_value_unref(v); }
    gj_value *get() const { return v; }
    gj_value **out() { return &v; }
    gj_value *release() {
        gj_value *x = v;
        v = nullptr;
        return x;
    }
};

gj_value *str(const char *s) { return gj_value_string(s); }

gj_value *list_of_strings(std::initializer_list<const char *> items) {
    gj_value *l = nullptr;
    EXPECT_EQ(0, gj_value_new_list(&l, items.size()));
    for (const char *s : items) EXPECT_EQ(0, gj_value_list_append(l, str(s)));
    return l;
}

std::string string_of(const gj_value *v) {
    const char *s = nullptr;
    size_t len = 0;
    if (gj_value_string_get(v, &s, &len) != 0) return "<not a string>";
    return std::string(s, len);
}

int64_t int_of(const gj_value *v) {
    int64_t i = -12345;
    EXPECT_EQ(0, gj_value_int_get(v, &i));
    return i;
}

// ---- type names, immortals -------------------------------------------------

TEST(Value, TypeNames) {
    EXPECT_STREQ("null", gj_type_name(GJ_TNULL));
    EXPECT_STREQ("int", gj_type_name(GJ_TINT));
    EXPECT_STREQ("local_datetime", gj_type_name(GJ_TLOCAL_DATETIME));
    EXPECT_STREQ("set", gj_type_name(GJ_TSET));
    EXPECT_STREQ("unknown", gj_type_name(static_cast<gj_type>(99)));
}

TEST(Value, ImmortalsAreShared) {
    gj_value *n = gj_value_null();
    EXPECT_EQ(n, gj_value_null());
    EXPECT_EQ(GJ_TNULL, gj_value_type(n));
    EXPECT_EQ(n, gj_value_ref(n));
    for (int i = 0; i < 10; i++) gj_value_unref(n);  // no-ops
    EXPECT_EQ(GJ_TNULL, gj_value_type(gj_value_null()));

    bool b = false;
    EXPECT_EQ(0, gj_value_bool_get(gj_value_bool(true), &b));
    EXPECT_TRUE(b);
    EXPECT_EQ(0, gj_value_bool_get(gj_value_bool(false), &b));
    EXPECT_FALSE(b);
    EXPECT_EQ(gj_value_bool(true), gj_value_bool(true));
    EXPECT_NE(gj_value_bool(true), gj_value_bool(false));
    gj_value_unref(gj_value_bool(true));
    gj_value_unref(nullptr);
    EXPECT_EQ(nullptr, gj_value_ref(nullptr));
}

// ---- scalars ---------------------------------------------------------------

TEST(Value, Ints) {
    Ref i(gj_value_int(INT64_MIN));
    ASSERT_NE(nullptr, i.get());
    EXPECT_EQ(GJ_TINT, gj_value_type(i.get()));
    EXPECT_EQ(INT64_MIN, int_of(i.get()));
    EXPECT_EQ(64u, gj_value_int_bits(i.get()));

    Ref i8;
    ASSERT_EQ(0, gj_value_new_int_bits(i8.out(), -128, 8));
    EXPECT_EQ(8u, gj_value_int_bits(i8.get()));
    EXPECT_EQ(-128, int_of(i8.get()));
    Ref i32;
    ASSERT_EQ(0, gj_value_new_int_bits(i32.out(), 2147483647, 32));
    EXPECT_EQ(32u, gj_value_int_bits(i32.get()));

    gj_value *bad = reinterpret_cast<gj_value *>(1);
    EXPECT_EQ(GJ_EINVAL, gj_value_new_int_bits(&bad, 128, 8));
    EXPECT_EQ(nullptr, bad);
    EXPECT_EQ(GJ_EINVAL, gj_value_new_int_bits(&bad, -32769, 16));
    EXPECT_EQ(GJ_EINVAL, gj_value_new_int_bits(&bad, INT64_C(1) << 31, 32));
    EXPECT_EQ(GJ_EINVAL, gj_value_new_int_bits(&bad, 1, 12));
    EXPECT_EQ(GJ_EINVAL, gj_value_new_int_bits(nullptr, 1, 64));
    EXPECT_EQ(0u, gj_value_int_bits(gj_value_null()));
}

TEST(Value, SmallIntsAndTheirNeighbours) {
    // Small ints are shared statics; values at and past the edges stay exact.
    const int64_t samples[] = {-257, -256, -1, 0, 1, 1023, 1024, INT64_MAX};
    for (int64_t x : samples) {
        Ref a(gj_value_int(x)), b(gj_value_int(x));
        ASSERT_NE(nullptr, a.get());
        EXPECT_EQ(x, int_of(a.get()));
        EXPECT_EQ(64u, gj_value_int_bits(a.get()));
        EXPECT_TRUE(gj_value_equal(a.get(), b.get()));
        gj_value *extra = gj_value_ref(a.get());
        gj_value_unref(extra);
        EXPECT_EQ(x, int_of(a.get()));
    }
    Ref s8;
    ASSERT_EQ(0, gj_value_new_int_bits(s8.out(), 3, 8));
    EXPECT_EQ(8u, gj_value_int_bits(s8.get()));  // not the shared 64-bit 3
}

TEST(Value, Floats) {
    Ref f(gj_value_float(2.5));
    double d = 0;
    ASSERT_EQ(0, gj_value_float_get(f.get(), &d));
    EXPECT_EQ(2.5, d);
    EXPECT_EQ(64u, gj_value_float_bits(f.get()));
    Ref f32;
    ASSERT_EQ(0, gj_value_new_float_bits(f32.out(), 0.5, 32));
    EXPECT_EQ(32u, gj_value_float_bits(f32.get()));
    gj_value *bad;
    EXPECT_EQ(GJ_EINVAL, gj_value_new_float_bits(&bad, 1.0, 16));
    EXPECT_EQ(0u, gj_value_float_bits(f.get() ? gj_value_null() : nullptr));
}

TEST(Value, AccessorTypeErrorsLeaveOutputsUntouched) {
    Ref s(str("x"));
    int64_t i = 77;
    EXPECT_EQ(GJ_ETYPE, gj_value_int_get(s.get(), &i));
    EXPECT_EQ(77, i);
    double d = 1.5;
    EXPECT_EQ(GJ_ETYPE, gj_value_float_get(s.get(), &d));
    EXPECT_EQ(1.5, d);
    bool b = true;
    EXPECT_EQ(GJ_ETYPE, gj_value_bool_get(s.get(), &b));
    EXPECT_TRUE(b);
    const uint8_t *data = nullptr;
    EXPECT_EQ(GJ_ETYPE, gj_value_bytes_get(s.get(), &data, nullptr));
    EXPECT_EQ(nullptr, data);
    Ref n(gj_value_int(3));
    const char *cs = "untouched";
    EXPECT_EQ(GJ_ETYPE, gj_value_string_get(n.get(), &cs, nullptr));
    EXPECT_STREQ("untouched", cs);
    uint8_t u[16] = {9};
    EXPECT_EQ(GJ_ETYPE, gj_value_uuid_get(n.get(), u));
    EXPECT_EQ(9, u[0]);
    int64_t days = 5;
    EXPECT_EQ(GJ_ETYPE, gj_value_date_get(n.get(), &days));
    EXPECT_EQ(5, days);
    EXPECT_EQ(GJ_ETYPE, gj_value_time_get(n.get(), nullptr, nullptr));
    EXPECT_EQ(GJ_ETYPE, gj_value_datetime_get(n.get(), nullptr, nullptr, nullptr, nullptr, nullptr));
    EXPECT_EQ(GJ_ETYPE, gj_value_duration_get(n.get(), nullptr, nullptr, nullptr, nullptr));
    EXPECT_EQ(GJ_ETYPE, gj_value_point_get(n.get(), nullptr, nullptr, nullptr, nullptr, nullptr));
    EXPECT_EQ(GJ_ETYPE, gj_value_tagged_get(n.get(), nullptr, nullptr));
    EXPECT_EQ(GJ_EINVAL, gj_value_int_get(nullptr, &i));
    EXPECT_EQ(0u, gj_value_size(n.get()));
    EXPECT_EQ(nullptr, gj_value_list_at(n.get(), 0));
    EXPECT_EQ(nullptr, gj_value_map_key_at(n.get(), 0));
    EXPECT_EQ(nullptr, gj_value_map_value_at(n.get(), 0));
    EXPECT_EQ(nullptr, gj_value_map_get(n.get(), "k"));
    EXPECT_EQ(nullptr, gj_value_node_labels(n.get()));
    EXPECT_EQ(nullptr, gj_value_edge_type(n.get()));
    EXPECT_EQ(nullptr, gj_value_path_objects(n.get()));
    EXPECT_EQ(nullptr, gj_value_element_id(n.get()));
}

TEST(Value, Strings) {
    Ref s(str("héllo"));
    ASSERT_NE(nullptr, s.get());
    EXPECT_EQ(GJ_TSTRING, gj_value_type(s.get()));
    const char *p = nullptr;
    size_t len = 0;
    ASSERT_EQ(0, gj_value_string_get(s.get(), &p, &len));
    EXPECT_EQ(6u, len);
    EXPECT_STREQ("héllo", p);

    // Embedded NUL, and NUL-terminated storage.
    Ref z;
    ASSERT_EQ(0, gj_value_new_string(z.out(), "a\0b", 3));
    ASSERT_EQ(0, gj_value_string_get(z.get(), &p, &len));
    EXPECT_EQ(3u, len);
    EXPECT_EQ(0, memcmp(p, "a\0b", 4));

    Ref e;
    ASSERT_EQ(0, gj_value_new_string(e.out(), nullptr, 0));
    EXPECT_EQ("", string_of(e.get()));
    gj_value *bad = nullptr;
    EXPECT_EQ(GJ_EINVAL, gj_value_new_string(&bad, nullptr, 3));
    EXPECT_EQ(nullptr, gj_value_string(nullptr));
    EXPECT_EQ(nullptr, gj_value_string("\xff"));
    EXPECT_EQ(GJ_EINVAL, gj_value_new_string(&bad, "\xc3", 1));
    EXPECT_EQ(nullptr, bad);
}

TEST(Value, Bytes) {
    const uint8_t raw[] = {0, 0xff, 0x80, 'x'};
    Ref b;
    ASSERT_EQ(0, gj_value_new_bytes(b.out(), raw, sizeof raw));  // not UTF-8: fine for bytes
    const uint8_t *d = nullptr;
    size_t len = 0;
    ASSERT_EQ(0, gj_value_bytes_get(b.get(), &d, &len));
    ASSERT_EQ(4u, len);
    EXPECT_EQ(0, memcmp(d, raw, 4));
    EXPECT_EQ(GJ_TBYTES, gj_value_type(b.get()));
    const char *s;
    EXPECT_EQ(GJ_ETYPE, gj_value_string_get(b.get(), &s, nullptr));
}

struct Utf8Case {
    const char *bytes;
    size_t len;
    bool valid;
    size_t bad_offset;
};

TEST(Value, Utf8Vectors) {
    const Utf8Case cases[] = {
        {"", 0, true, 0},
        {"plain ascii text that is longer than eight bytes", 48, true, 0},
        {"\x00", 1, true, 0},                       // NUL is a character
        {"\x7f", 1, true, 0},
        {"\xc2\x80", 2, true, 0},                   // U+0080, smallest 2-byte
        {"\xdf\xbf", 2, true, 0},                   // U+07FF
        {"\xe0\xa0\x80", 3, true, 0},               // U+0800
        {"\xe2\x82\xac", 3, true, 0},               // €
        {"\xed\x9f\xbf", 3, true, 0},               // U+D7FF, just below surrogates
        {"\xee\x80\x80", 3, true, 0},               // U+E000, just above
        {"\xef\xbf\xbf", 3, true, 0},               // U+FFFF
        {"\xf0\x90\x80\x80", 4, true, 0},           // U+10000
        {"\xf0\x9f\x98\x80", 4, true, 0},           // 😀
        {"\xf4\x8f\xbf\xbf", 4, true, 0},           // U+10FFFF
        {"\xc0\x80", 2, false, 0},                  // overlong NUL
        {"\xc1\xbf", 2, false, 0},                  // overlong
        {"\xe0\x80\xaf", 3, false, 0},              // overlong '/'
        {"\xe0\x9f\xbf", 3, false, 0},              // overlong U+07FF
        {"\xf0\x80\x80\xaf", 4, false, 0},          // overlong
        {"\xf0\x8f\xbf\xbf", 4, false, 0},          // overlong U+FFFF
        {"\xed\xa0\x80", 3, false, 0},              // U+D800
        {"\xed\xbf\xbf", 3, false, 0},              // U+DFFF
        {"\xf4\x90\x80\x80", 4, false, 0},          // U+110000
        {"\xf5\x80\x80\x80", 4, false, 0},
        {"\xff", 1, false, 0},
        {"\x80", 1, false, 0},                      // lone continuation
        {"ab\xe2\x82", 4, false, 2},                // truncated 3-byte
        {"\xf0\x9f\x98", 3, false, 0},              // truncated 4-byte
        {"\xc3", 1, false, 0},                      // truncated 2-byte
        {"\xe2\x28\xa1", 3, false, 0},              // bad continuation
        {"\xf0\x9f\x28\x80", 4, false, 0},          // bad third byte
        {"0123456789abcdef\xc3(", 18, false, 16},   // after the 8-byte fast path
        {"0123456789\xc3\xa9xyz\xed\xa0\x80", 18, false, 15},
    };
    for (const Utf8Case &c : cases) {
        size_t off = 999;
        bool ok = gj__utf8_valid(c.bytes, c.len, &off);
        EXPECT_EQ(c.valid, ok) << "case at len " << c.len << " first byte "
                               << (c.len ? (unsigned)(unsigned char)c.bytes[0] : 0u);
        if (!c.valid) {
            EXPECT_EQ(c.bad_offset, off);
        }
        gj_value *v = nullptr;
        EXPECT_EQ(c.valid ? 0 : GJ_EINVAL, gj_value_new_string(&v, c.bytes, c.len));
        gj_value_unref(v);
    }
}

TEST(Value, Uuid) {
    const uint8_t raw[16] = {0x12, 0x3e, 0x45, 0x67, 0xe8, 0x9b, 0x12, 0xd3,
                             0xa4, 0x56, 0x42, 0x66, 0x14, 0x17, 0x40, 0x00};
    Ref a, b;
    ASSERT_EQ(0, gj_value_new_uuid(a.out(), raw));
    ASSERT_EQ(0, gj_value_new_uuid_text(b.out(), "123E4567-e89b-12d3-a456-426614174000"));
    uint8_t got[16];
    ASSERT_EQ(0, gj_value_uuid_get(b.get(), got));
    EXPECT_EQ(0, memcmp(raw, got, 16));
    EXPECT_TRUE(gj_value_equal(a.get(), b.get()));
    gj_value *bad = nullptr;
    const char *bad_texts[] = {
        "123e4567-e89b-12d3-a456-42661417400",    // short
        "123e4567-e89b-12d3-a456-4266141740000",  // long
        "123e4567xe89b-12d3-a456-426614174000",   // separator
        "123e4567-e89b-12d3-a456-42661417400g",   // not hex
        "123e4567-e89b-12d3-a456-42661417-000",
        "",
    };
    for (const char *t : bad_texts) EXPECT_EQ(GJ_EINVAL, gj_value_new_uuid_text(&bad, t)) << t;
    EXPECT_EQ(GJ_EINVAL, gj_value_new_uuid_text(&bad, nullptr));
    EXPECT_EQ(GJ_EINVAL, gj_value_new_uuid(&bad, nullptr));
}

// ---- lists -----------------------------------------------------------------

TEST(Value, ListBuildAndRead) {
    Ref l;
    ASSERT_EQ(0, gj_value_new_list(l.out(), 2));
    EXPECT_EQ(GJ_TLIST, gj_value_type(l.get()));
    EXPECT_EQ(0u, gj_value_size(l.get()));
    for (int i = 0; i < 100; i++) ASSERT_EQ(0, gj_value_list_append(l.get(), gj_value_int(i)));
    ASSERT_EQ(100u, gj_value_size(l.get()));
    for (int i = 0; i < 100; i++) EXPECT_EQ(i, int_of(gj_value_list_at(l.get(), i)));
    EXPECT_EQ(nullptr, gj_value_list_at(l.get(), 100));
    size_t n = 0;
    gj_value *const *items = gj__value_list_items(l.get(), &n);
    ASSERT_EQ(100u, n);
    EXPECT_EQ(gj_value_list_at(l.get(), 42), items[42]);
    EXPECT_EQ(nullptr, gj__value_list_items(gj_value_null(), &n));
    EXPECT_EQ(0u, n);
}

TEST(Value, HostileCapacityHintIsClamped) {
    Ref l, m;
    // A wire-supplied count must not allocate terabytes up front.
    ASSERT_EQ(0, gj_value_new_list(l.out(), SIZE_MAX / 4));
    ASSERT_EQ(0, gj_value_new_map(m.out(), SIZE_MAX / 4));
    ASSERT_EQ(0, gj_value_list_append(l.get(), gj_value_int(1)));
    ASSERT_EQ(0, gj_value_map_put_str(m.get(), "k", gj_value_int(1)));
    EXPECT_EQ(1u, gj_value_size(l.get()));
    EXPECT_EQ(1u, gj_value_size(m.get()));
}

TEST(Value, SetIsAListWithItsOwnType) {
    Ref s;
    ASSERT_EQ(0, gj_value_new_set(s.out(), 0));
    EXPECT_EQ(GJ_TSET, gj_value_type(s.get()));
    ASSERT_EQ(0, gj_value_list_append(s.get(), str("a")));
    ASSERT_EQ(0, gj_value_list_append(s.get(), str("b")));
    EXPECT_EQ(2u, gj_value_size(s.get()));
    EXPECT_EQ("b", string_of(gj_value_list_at(s.get(), 1)));
    Ref l(list_of_strings({"a", "b"}));
    EXPECT_FALSE(gj_value_equal(s.get(), l.get()));  // different types
}

TEST(Value, AppendErrorsReleaseTheItem) {
    // ASan/valgrind prove the passed item is released on every failure.
    Ref s(str("not a list"));
    EXPECT_EQ(GJ_ETYPE, gj_value_list_append(s.get(), str("item")));
    EXPECT_EQ(GJ_EINVAL, gj_value_list_append(nullptr, str("item")));
    Ref l;
    ASSERT_EQ(0, gj_value_new_list(l.out(), 0));
    EXPECT_EQ(GJ_EINVAL, gj_value_list_append(l.get(), nullptr));
    EXPECT_EQ(0u, gj_value_size(l.get()));
}

TEST(Value, BuildingAfterSharingIsRefused) {
    Ref l;
    ASSERT_EQ(0, gj_value_new_list(l.out(), 0));
    ASSERT_EQ(0, gj_value_list_append(l.get(), gj_value_int(1)));
    gj_value *shared = gj_value_ref(l.get());
    EXPECT_EQ(GJ_ESTATE, gj_value_list_append(l.get(), gj_value_int(2)));
    EXPECT_EQ(1u, gj_value_size(l.get()));
    gj_value_unref(shared);
    // Back to a single owner: building is allowed again.
    EXPECT_EQ(0, gj_value_list_append(l.get(), gj_value_int(2)));

    Ref m;
    ASSERT_EQ(0, gj_value_new_map(m.out(), 0));
    shared = gj_value_ref(m.get());
    EXPECT_EQ(GJ_ESTATE, gj_value_map_put_str(m.get(), "k", gj_value_int(1)));
    EXPECT_EQ(GJ_ESTATE, gj_value_map_put(m.get(), str("k"), gj_value_int(1)));
    gj_value_unref(shared);

    Ref node;
    ASSERT_EQ(0, gj_value_new_node(node.out(), gj_value_int(1), nullptr, nullptr));
    shared = gj_value_ref(node.get());
    EXPECT_EQ(GJ_ESTATE, gj_value_node_set_element_id(node.get(), str("4:x:1")));
    EXPECT_EQ(nullptr, gj_value_element_element_id(node.get()));
    gj_value_unref(shared);

    // The empty labels list of a node is an immortal: never buildable.
    gj_value *labels = const_cast<gj_value *>(gj_value_node_labels(node.get()));
    ASSERT_NE(nullptr, labels);
    EXPECT_EQ(GJ_ESTATE, gj_value_list_append(labels, str("X")));
    EXPECT_EQ(0u, gj_value_size(labels));
}

TEST(Value, SelfInsertionIsRefused) {
    Ref l;
    ASSERT_EQ(0, gj_value_new_list(l.out(), 0));
    // Inserting a list into itself needs a second reference, which makes it shared.
    EXPECT_EQ(GJ_ESTATE, gj_value_list_append(l.get(), gj_value_ref(l.get())));
    EXPECT_EQ(0u, gj_value_size(l.get()));
    // The extra reference was released: the list is buildable again.
    EXPECT_EQ(0, gj_value_list_append(l.get(), gj_value_int(1)));
    Ref m;
    ASSERT_EQ(0, gj_value_new_map(m.out(), 0));
    EXPECT_EQ(GJ_ESTATE, gj_value_map_put(m.get(), str("k"), gj_value_ref(m.get())));
    EXPECT_EQ(0, gj_value_map_put_str(m.get(), "k", gj_value_int(1)));
}

// ---- maps ------------------------------------------------------------------

TEST(Value, MapPutGetOrder) {
    Ref m;
    ASSERT_EQ(0, gj_value_new_map(m.out(), 4));
    EXPECT_EQ(GJ_TMAP, gj_value_type(m.get()));
    ASSERT_EQ(0, gj_value_map_put_str(m.get(), "b", gj_value_int(1)));
    ASSERT_EQ(0, gj_value_map_put_str(m.get(), "a", gj_value_int(2)));
    ASSERT_EQ(0, gj_value_map_put(m.get(), gj_value_int(7), gj_value_int(3)));
    ASSERT_EQ(3u, gj_value_size(m.get()));
    EXPECT_EQ("b", string_of(gj_value_map_key_at(m.get(), 0)));
    EXPECT_EQ("a", string_of(gj_value_map_key_at(m.get(), 1)));
    EXPECT_EQ(7, int_of(gj_value_map_key_at(m.get(), 2)));
    EXPECT_EQ(2, int_of(gj_value_map_get(m.get(), "a")));
    EXPECT_EQ(nullptr, gj_value_map_get(m.get(), "c"));
    EXPECT_EQ(nullptr, gj_value_map_get(m.get(), nullptr));
    EXPECT_EQ(nullptr, gj_value_map_key_at(m.get(), 3));
    EXPECT_EQ(3, int_of(gj_value_map_value_at(m.get(), 2)));
}

TEST(Value, MapOutgrowsItsHint) {
    Ref m;
    ASSERT_EQ(0, gj_value_new_map(m.out(), 2));
    char key[16];
    for (int i = 0; i < 40; i++) {
        snprintf(key, sizeof key, "k%d", i);
        ASSERT_EQ(0, gj_value_map_put_str(m.get(), key, gj_value_int(i * 1000)));
    }
    ASSERT_EQ(40u, gj_value_size(m.get()));
    for (int i = 0; i < 40; i++) {
        snprintf(key, sizeof key, "k%d", i);
        EXPECT_EQ(key, string_of(gj_value_map_key_at(m.get(), i)));
        EXPECT_EQ(i * 1000, int_of(gj_value_map_get(m.get(), key)));
    }
}

TEST(Value, MapDuplicateKeyLastWinsKeepsPosition) {
    Ref m;
    ASSERT_EQ(0, gj_value_new_map(m.out(), 0));
    ASSERT_EQ(0, gj_value_map_put_str(m.get(), "x", gj_value_int(1)));
    ASSERT_EQ(0, gj_value_map_put_str(m.get(), "y", gj_value_int(2)));
    ASSERT_EQ(0, gj_value_map_put_str(m.get(), "x", gj_value_int(3)));
    ASSERT_EQ(2u, gj_value_size(m.get()));
    EXPECT_EQ("x", string_of(gj_value_map_key_at(m.get(), 0)));
    EXPECT_EQ(3, int_of(gj_value_map_value_at(m.get(), 0)));
    EXPECT_EQ(3, int_of(gj_value_map_get(m.get(), "x")));

    // Integer keys match whatever their width; -0.0 matches 0.0; NaN matches NaN.
    gj_value *k32;
    ASSERT_EQ(0, gj_value_new_int_bits(&k32, 5, 32));
    ASSERT_EQ(0, gj_value_map_put(m.get(), gj_value_int(5), str("int64")));
    ASSERT_EQ(0, gj_value_map_put(m.get(), k32, str("int32")));
    ASSERT_EQ(0, gj_value_map_put(m.get(), gj_value_float(0.0), str("zero")));
    ASSERT_EQ(0, gj_value_map_put(m.get(), gj_value_float(-0.0), str("minus zero")));
    ASSERT_EQ(0, gj_value_map_put(m.get(), gj_value_float(NAN), str("nan1")));
    ASSERT_EQ(0, gj_value_map_put(m.get(), gj_value_float(NAN), str("nan2")));
    ASSERT_EQ(5u, gj_value_size(m.get()));
    EXPECT_EQ("int32", string_of(gj_value_map_value_at(m.get(), 2)));
    EXPECT_EQ("minus zero", string_of(gj_value_map_value_at(m.get(), 3)));
    EXPECT_EQ("nan2", string_of(gj_value_map_value_at(m.get(), 4)));
}

TEST(Value, MapPutErrorsReleaseBoth) {
    Ref l;
    ASSERT_EQ(0, gj_value_new_list(l.out(), 0));
    EXPECT_EQ(GJ_ETYPE, gj_value_map_put(l.get(), str("k"), str("v")));
    EXPECT_EQ(GJ_ETYPE, gj_value_map_put_str(l.get(), "k", str("v")));
    Ref m;
    ASSERT_EQ(0, gj_value_new_map(m.out(), 0));
    EXPECT_EQ(GJ_EINVAL, gj_value_map_put(m.get(), nullptr, str("v")));
    EXPECT_EQ(GJ_EINVAL, gj_value_map_put(m.get(), str("k"), nullptr));
    EXPECT_EQ(GJ_EINVAL, gj_value_map_put_str(m.get(), nullptr, str("v")));
    EXPECT_EQ(GJ_EINVAL, gj_value_map_put_str(m.get(), "bad \xc0\x80 key", str("v")));
    EXPECT_EQ(0u, gj_value_size(m.get()));
}

// Keys of every type in one big map (exercises hashing of each type).
TEST(Value, MapWithKeysOfEveryTypeCrossingTheIndexThreshold) {
    Ref m;
    ASSERT_EQ(0, gj_value_new_map(m.out(), 0));
    auto keys = [](int round) {
        std::vector<gj_value *> k;
        k.push_back(gj_value_null());
        k.push_back(gj_value_bool(true));
        k.push_back(gj_value_int(round));
        k.push_back(gj_value_float(round + 0.5));
        k.push_back(gj_value_string(("s" + std::to_string(round)).c_str()));
        gj_value *v;
        uint8_t raw[16] = {static_cast<uint8_t>(round)};
        EXPECT_EQ(0, gj_value_new_bytes(&v, raw, 3)); k.push_back(v);
        EXPECT_EQ(0, gj_value_new_uuid(&v, raw)); k.push_back(v);
        EXPECT_EQ(0, gj_value_new_date(&v, round)); k.push_back(v);
        EXPECT_EQ(0, gj_value_new_time(&v, round, 3600)); k.push_back(v);
        EXPECT_EQ(0, gj_value_new_local_time(&v, round)); k.push_back(v);
        EXPECT_EQ(0, gj_value_new_datetime(&v, round, 0, 0, "Europe/Paris", 0)); k.push_back(v);
        EXPECT_EQ(0, gj_value_new_local_datetime(&v, round, 1)); k.push_back(v);
        EXPECT_EQ(0, gj_value_new_duration(&v, round, 0, 0, 0)); k.push_back(v);
        EXPECT_EQ(0, gj_value_new_point(&v, 7203, 2, round, 1, 0)); k.push_back(v);
        EXPECT_EQ(0, gj_value_new_tagged(&v, "g:T", gj_value_int(round))); k.push_back(v);
        gj_value *l = list_of_strings({"a", "b"});
        EXPECT_EQ(0, gj_value_list_append(l, gj_value_int(round)));
        k.push_back(l);
        return k;
    };
    // Two rounds of distinct keys (32 > 16: the index is built), then round 0 again.
    for (int round = 0; round < 2; round++)
        for (gj_value *k : keys(round))
            ASSERT_EQ(0, gj_value_map_put(m.get(), k, gj_value_int(round)));
    size_t distinct = gj_value_size(m.get());
    EXPECT_EQ(30u, distinct);  // null and true repeat across rounds
    for (gj_value *k : keys(0)) ASSERT_EQ(0, gj_value_map_put(m.get(), k, gj_value_int(100)));
    EXPECT_EQ(distinct, gj_value_size(m.get()));
    EXPECT_EQ(100, int_of(gj_value_map_value_at(m.get(), 0)));      // null
    EXPECT_EQ(1, int_of(gj_value_map_key_at(m.get(), 16)));         // round 1's int key
    EXPECT_EQ(1, int_of(gj_value_map_value_at(m.get(), 16)));
    EXPECT_EQ(100, int_of(gj_value_map_value_at(m.get(), 15)));     // round 0 list
}

TEST(Value, BigHostileMapIsFast) {
    auto t0 = std::chrono::steady_clock::now();
    Ref m;
    ASSERT_EQ(0, gj_value_new_map(m.out(), 65535));
    const int n = 100000;
    char key[32];
    for (int i = 0; i < n; i++) {
        snprintf(key, sizeof key, "key%d", i);
        ASSERT_EQ(0, gj_value_map_put_str(m.get(), key, gj_value_int(i)));
    }
    // Duplicates of every key: last wins, positions kept, size unchanged.
    for (int i = 0; i < n; i += 1) {
        snprintf(key, sizeof key, "key%d", i);
        ASSERT_EQ(0, gj_value_map_put_str(m.get(), key, gj_value_int(-i)));
    }
    ASSERT_EQ(static_cast<size_t>(n), gj_value_size(m.get()));
    for (int i = 0; i < n; i += 997) {
        snprintf(key, sizeof key, "key%d", i);
        EXPECT_EQ(-i, int_of(gj_value_map_get(m.get(), key)));
        EXPECT_EQ(key, string_of(gj_value_map_key_at(m.get(), i)));
    }
    EXPECT_EQ(nullptr, gj_value_map_get(m.get(), "key100000"));
    // Non-string keys through the index as well.
    Ref im;
    ASSERT_EQ(0, gj_value_new_map(im.out(), 0));
    for (int i = 0; i < n; i++) ASSERT_EQ(0, gj_value_map_put(im.get(), gj_value_int(i % 50000), gj_value_int(i)));
    EXPECT_EQ(50000u, gj_value_size(im.get()));
    EXPECT_EQ(99999, int_of(gj_value_map_value_at(im.get(), 49999)));
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    EXPECT_LT(secs, 5.0);  // quadratic would be ~10^10 comparisons
}

// ---- graph elements ------------------------------------------------------------

TEST(Value, Node) {
    Ref props;
    ASSERT_EQ(0, gj_value_new_map(props.out(), 1));
    ASSERT_EQ(0, gj_value_map_put_str(props.get(), "name", str("Ann")));
    Ref node;
    ASSERT_EQ(0, gj_value_new_node(node.out(), gj_value_int(42), list_of_strings({"Person", "Admin"}),
                                   props.release()));
    EXPECT_EQ(GJ_TNODE, gj_value_type(node.get()));
    EXPECT_EQ(42, int_of(gj_value_element_id(node.get())));
    EXPECT_EQ(2u, gj_value_size(gj_value_node_labels(node.get())));
    EXPECT_EQ("Ann", string_of(gj_value_map_get(gj_value_element_properties(node.get()), "name")));
    EXPECT_EQ(nullptr, gj_value_element_element_id(node.get()));
    ASSERT_EQ(0, gj_value_node_set_element_id(node.get(), str("4:db:42")));
    EXPECT_EQ("4:db:42", string_of(gj_value_element_element_id(node.get())));
    ASSERT_EQ(0, gj_value_node_set_element_id(node.get(), str("4:db:43")));  // replaces
    EXPECT_EQ("4:db:43", string_of(gj_value_element_element_id(node.get())));
    EXPECT_EQ(GJ_ETYPE, gj_value_node_set_element_id(node.get(), gj_value_int(1)));
    EXPECT_EQ(nullptr, gj_value_edge_type(node.get()));

    // Absent labels and properties read as empty.
    Ref bare;
    ASSERT_EQ(0, gj_value_new_node(bare.out(), gj_value_int(1), nullptr, nullptr));
    EXPECT_EQ(GJ_TLIST, gj_value_type(gj_value_node_labels(bare.get())));
    EXPECT_EQ(0u, gj_value_size(gj_value_node_labels(bare.get())));
    EXPECT_EQ(GJ_TMAP, gj_value_type(gj_value_element_properties(bare.get())));
}

TEST(Value, NodeTypeErrors) {
    gj_value *out = reinterpret_cast<gj_value *>(1);
    EXPECT_EQ(GJ_ETYPE, gj_value_new_node(&out, gj_value_int(1), str("Person"), nullptr));
    EXPECT_EQ(nullptr, out);
    gj_value *labels = list_of_strings({"A"});
    ASSERT_EQ(0, gj_value_list_append(labels, gj_value_int(3)));
    EXPECT_EQ(GJ_ETYPE, gj_value_new_node(&out, gj_value_int(1), labels, nullptr));
    gj_value *l = nullptr;
    ASSERT_EQ(0, gj_value_new_list(&l, 0));
    EXPECT_EQ(GJ_ETYPE, gj_value_new_node(&out, gj_value_int(1), nullptr, l));
    EXPECT_EQ(GJ_EINVAL, gj_value_new_node(nullptr, gj_value_int(1), nullptr, nullptr));
    Ref edge;
    ASSERT_EQ(0, gj_value_new_edge(edge.out(), gj_value_int(1), str("T"), nullptr, nullptr, nullptr));
    EXPECT_EQ(GJ_ETYPE, gj_value_node_set_element_id(edge.get(), str("x")));
}

TEST(Value, Edge) {
    Ref e;
    ASSERT_EQ(0, gj_value_new_edge(e.out(), gj_value_int(7), str("KNOWS"), gj_value_int(1),
                                   gj_value_int(2), nullptr));
    EXPECT_EQ(GJ_TEDGE, gj_value_type(e.get()));
    EXPECT_EQ(7, int_of(gj_value_element_id(e.get())));
    EXPECT_EQ("KNOWS", string_of(gj_value_edge_type(e.get())));
    EXPECT_EQ(1, int_of(gj_value_edge_start_id(e.get())));
    EXPECT_EQ(2, int_of(gj_value_edge_end_id(e.get())));
    EXPECT_EQ(0u, gj_value_size(gj_value_element_properties(e.get())));
    EXPECT_EQ(nullptr, gj_value_edge_start_element_id(e.get()));
    ASSERT_EQ(0, gj_value_edge_set_element_ids(e.get(), str("5:x:7"), str("4:x:1"), str("4:x:2")));
    EXPECT_EQ("5:x:7", string_of(gj_value_element_element_id(e.get())));
    EXPECT_EQ("4:x:1", string_of(gj_value_edge_start_element_id(e.get())));
    EXPECT_EQ("4:x:2", string_of(gj_value_edge_end_element_id(e.get())));
    ASSERT_EQ(0, gj_value_edge_set_end_labels(e.get(), str("person"), str("software")));
    EXPECT_EQ("person", string_of(gj_value_edge_start_label(e.get())));
    EXPECT_EQ("software", string_of(gj_value_edge_end_label(e.get())));
    EXPECT_EQ(GJ_ETYPE, gj_value_edge_set_end_labels(e.get(), gj_value_int(1), str("x")));
    EXPECT_EQ("person", string_of(gj_value_edge_start_label(e.get())));  // unchanged on failure
    EXPECT_EQ(nullptr, gj_value_node_labels(e.get()));

    // Unbound relationship.
    Ref u;
    ASSERT_EQ(0, gj_value_new_edge(u.out(), gj_value_int(8), str("R"), nullptr, nullptr, nullptr));
    EXPECT_EQ(nullptr, gj_value_edge_start_id(u.get()));
    gj_value *out;
    EXPECT_EQ(GJ_ETYPE, gj_value_new_edge(&out, gj_value_int(1), gj_value_int(2), nullptr, nullptr, nullptr));
    EXPECT_EQ(GJ_ETYPE, gj_value_new_edge(&out, gj_value_int(1), str("T"), nullptr, nullptr, str("p")));
}

TEST(Value, Path) {
    gj_value *objects = nullptr;
    ASSERT_EQ(0, gj_value_new_list(&objects, 3));
    gj_value *n1, *n2, *r;
    ASSERT_EQ(0, gj_value_new_node(&n1, gj_value_int(1), nullptr, nullptr));
    ASSERT_EQ(0, gj_value_new_node(&n2, gj_value_int(2), nullptr, nullptr));
    ASSERT_EQ(0, gj_value_new_edge(&r, gj_value_int(3), str("R"), gj_value_int(1), gj_value_int(2), nullptr));
    ASSERT_EQ(0, gj_value_list_append(objects, n1));
    ASSERT_EQ(0, gj_value_list_append(objects, r));
    ASSERT_EQ(0, gj_value_list_append(objects, n2));
    Ref p;
    ASSERT_EQ(0, gj_value_new_path(p.out(), objects, nullptr));
    EXPECT_EQ(GJ_TPATH, gj_value_type(p.get()));
    EXPECT_EQ(3u, gj_value_size(gj_value_path_objects(p.get())));
    EXPECT_EQ(nullptr, gj_value_path_labels(p.get()));
    EXPECT_EQ(GJ_TEDGE, gj_value_type(gj_value_list_at(gj_value_path_objects(p.get()), 1)));
    gj_value *out;
    EXPECT_EQ(GJ_ETYPE, gj_value_new_path(&out, str("x"), nullptr));
}

TEST(Value, Tagged) {
    Ref t;
    ASSERT_EQ(0, gj_value_new_tagged(t.out(), "gx:BigDecimal", str("1.50")));
    const char *tag = nullptr;
    const gj_value *inner = nullptr;
    ASSERT_EQ(0, gj_value_tagged_get(t.get(), &tag, &inner));
    EXPECT_STREQ("gx:BigDecimal", tag);
    EXPECT_EQ("1.50", string_of(inner));
    gj_value *out;
    EXPECT_EQ(GJ_EINVAL, gj_value_new_tagged(&out, nullptr, gj_value_int(1)));
    EXPECT_EQ(GJ_EINVAL, gj_value_new_tagged(&out, "", gj_value_int(1)));
    EXPECT_EQ(GJ_EINVAL, gj_value_new_tagged(&out, "\xff", gj_value_int(1)));
    std::string longtag(GJ__VALUE_NAME_MAX + 1, 'x');
    EXPECT_EQ(GJ_EINVAL, gj_value_new_tagged(&out, longtag.c_str(), gj_value_int(1)));
    Ref same, other;
    ASSERT_EQ(0, gj_value_new_tagged(same.out(), "gx:BigDecimal", str("1.50")));
    ASSERT_EQ(0, gj_value_new_tagged(other.out(), "gx:BigInteger", str("1.50")));
    EXPECT_TRUE(gj_value_equal(t.get(), same.get()));
    EXPECT_FALSE(gj_value_equal(t.get(), other.get()));
}

// ---- temporal and spatial ------------------------------------------------------------

TEST(Value, Temporal) {
    Ref d, t, lt, dt, ldt, du;
    ASSERT_EQ(0, gj_value_new_date(d.out(), -719162));
    int64_t days = 0;
    ASSERT_EQ(0, gj_value_date_get(d.get(), &days));
    EXPECT_EQ(-719162, days);

    ASSERT_EQ(0, gj_value_new_time(t.out(), 45296789000000, 3600));
    int64_t nanos = 0;
    int32_t offset = 0;
    ASSERT_EQ(0, gj_value_time_get(t.get(), &nanos, &offset));
    EXPECT_EQ(45296789000000, nanos);
    EXPECT_EQ(3600, offset);

    ASSERT_EQ(0, gj_value_new_local_time(lt.out(), 1));
    offset = 999;
    ASSERT_EQ(0, gj_value_time_get(lt.get(), &nanos, &offset));
    EXPECT_EQ(1, nanos);
    EXPECT_EQ(999, offset);  // untouched for a local time
    EXPECT_EQ(GJ_TLOCAL_TIME, gj_value_type(lt.get()));

    ASSERT_EQ(0, gj_value_new_datetime(dt.out(), 1706704496, 500000000, 3600, "Europe/Paris",
                                       GJ_DATETIME_HAS_OFFSET));
    int64_t secs = 0;
    int32_t ns = 0;
    const char *zone = nullptr;
    unsigned flags = 0;
    ASSERT_EQ(0, gj_value_datetime_get(dt.get(), &secs, &ns, &offset, &zone, &flags));
    EXPECT_EQ(1706704496, secs);
    EXPECT_EQ(500000000, ns);
    EXPECT_EQ(3600, offset);
    EXPECT_STREQ("Europe/Paris", zone);
    EXPECT_EQ(unsigned(GJ_DATETIME_HAS_OFFSET), flags);
    ASSERT_EQ(0, gj_value_datetime_get(dt.get(), nullptr, nullptr, nullptr, nullptr, nullptr));

    ASSERT_EQ(0, gj_value_new_local_datetime(ldt.out(), -1, 999999999));
    ASSERT_EQ(0, gj_value_datetime_get(ldt.get(), &secs, &ns, &offset, &zone, &flags));
    EXPECT_EQ(-1, secs);
    EXPECT_EQ(999999999, ns);
    EXPECT_EQ(nullptr, zone);
    EXPECT_EQ(0u, flags);
    EXPECT_EQ(GJ_TLOCAL_DATETIME, gj_value_type(ldt.get()));

    ASSERT_EQ(0, gj_value_new_duration(du.out(), 14, 3, 4, 500000000));
    int64_t mo = 0, dd = 0, ss = 0;
    ASSERT_EQ(0, gj_value_duration_get(du.get(), &mo, &dd, &ss, &ns));
    EXPECT_EQ(14, mo);
    EXPECT_EQ(3, dd);
    EXPECT_EQ(4, ss);
    EXPECT_EQ(500000000, ns);

    gj_value *bad = nullptr;
    EXPECT_EQ(GJ_EINVAL, gj_value_new_time(&bad, -1, 0));
    EXPECT_EQ(GJ_EINVAL, gj_value_new_time(&bad, INT64_C(86400000000000), 0));
    EXPECT_EQ(GJ_EINVAL, gj_value_new_time(&bad, 0, 18 * 3600 + 1));
    EXPECT_EQ(GJ_EINVAL, gj_value_new_local_time(&bad, -5));
    EXPECT_EQ(GJ_EINVAL, gj_value_new_datetime(&bad, 0, 1000000000, 0, nullptr, 0));
    EXPECT_EQ(GJ_EINVAL, gj_value_new_datetime(&bad, 0, -1, 0, nullptr, 0));
    EXPECT_EQ(GJ_EINVAL, gj_value_new_datetime(&bad, 0, 0, 0, nullptr, 0x10));
    EXPECT_EQ(GJ_EINVAL, gj_value_new_datetime(&bad, 0, 0, 0, "", 0));
    EXPECT_EQ(GJ_EINVAL, gj_value_new_datetime(&bad, 0, 0, 0, "\xc0\xaf", 0));
    EXPECT_EQ(GJ_EINVAL, gj_value_new_datetime(&bad, 0, 0, -19 * 3600, nullptr, GJ_DATETIME_HAS_OFFSET));
    EXPECT_EQ(GJ_EINVAL, gj_value_new_local_datetime(&bad, 0, 1000000000));
    EXPECT_EQ(GJ_EINVAL, gj_value_new_duration(&bad, 0, 0, 0, 1000000000));
    EXPECT_EQ(GJ_EINVAL, gj_value_new_duration(&bad, 0, 0, 0, -1000000000));
    EXPECT_EQ(nullptr, bad);

    // Without GJ_DATETIME_HAS_OFFSET the offset is not meaningful and reads 0.
    Ref noff;
    ASSERT_EQ(0, gj_value_new_datetime(noff.out(), 5, 0, 7200, nullptr, 0));
    ASSERT_EQ(0, gj_value_datetime_get(noff.get(), nullptr, nullptr, &offset, &zone, nullptr));
    EXPECT_EQ(0, offset);
    EXPECT_EQ(nullptr, zone);
}

TEST(Value, Point) {
    Ref p2, p3;
    ASSERT_EQ(0, gj_value_new_point(p2.out(), 4326, 2, 12.5, -3.25, 99.0));
    ASSERT_EQ(0, gj_value_new_point(p3.out(), 9157, 3, 1, 2, 3));
    int64_t srid = 0;
    unsigned dims = 0;
    double x = 0, y = 0, z = 5;
    ASSERT_EQ(0, gj_value_point_get(p2.get(), &srid, &dims, &x, &y, &z));
    EXPECT_EQ(4326, srid);
    EXPECT_EQ(2u, dims);
    EXPECT_EQ(12.5, x);
    EXPECT_EQ(-3.25, y);
    EXPECT_EQ(0.0, z);  // z ignored for 2 dimensions
    ASSERT_EQ(0, gj_value_point_get(p3.get(), &srid, &dims, &x, &y, &z));
    EXPECT_EQ(3u, dims);
    EXPECT_EQ(3.0, z);
    gj_value *bad;
    EXPECT_EQ(GJ_EINVAL, gj_value_new_point(&bad, 1, 4, 0, 0, 0));
    Ref p2b;
    ASSERT_EQ(0, gj_value_new_point(p2b.out(), 4326, 2, 12.5, -3.25, -1.0));
    EXPECT_TRUE(gj_value_equal(p2.get(), p2b.get()));
}

// ---- equality -------------------------------------------------------------------

TEST(Value, Equality) {
    gj_value *i32;
    ASSERT_EQ(0, gj_value_new_int_bits(&i32, 5, 32));
    Ref a(i32), b(gj_value_int(5)), c(gj_value_int(6)), f(gj_value_float(5.0));
    EXPECT_TRUE(gj_value_equal(a.get(), b.get()));
    EXPECT_FALSE(gj_value_equal(a.get(), c.get()));
    EXPECT_FALSE(gj_value_equal(b.get(), f.get()));  // int vs float: different types
    Ref n1(gj_value_float(NAN)), n2(gj_value_float(NAN));
    EXPECT_TRUE(gj_value_equal(n1.get(), n2.get()));  // NaN equals NaN here
    EXPECT_TRUE(gj_value_equal(nullptr, nullptr));
    EXPECT_FALSE(gj_value_equal(nullptr, b.get()));
    Ref s1(str("ab")), s2(str("ab")), s3(str("abc"));
    EXPECT_TRUE(gj_value_equal(s1.get(), s2.get()));
    EXPECT_FALSE(gj_value_equal(s1.get(), s3.get()));
    Ref by;
    ASSERT_EQ(0, gj_value_new_bytes(by.out(), "ab", 2));
    EXPECT_FALSE(gj_value_equal(s1.get(), by.get()));

    auto make_map = [](bool swapped, int v) {
        gj_value *m;
        EXPECT_EQ(0, gj_value_new_map(&m, 2));
        EXPECT_EQ(0, gj_value_map_put_str(m, swapped ? "b" : "a", gj_value_int(swapped ? 2 : 1)));
        EXPECT_EQ(0, gj_value_map_put_str(m, swapped ? "a" : "b", gj_value_int(swapped ? 1 : v)));
        return m;
    };
    Ref m1(make_map(false, 2)), m2(make_map(false, 2)), m3(make_map(true, 2)), m4(make_map(false, 3));
    EXPECT_TRUE(gj_value_equal(m1.get(), m2.get()));
    EXPECT_FALSE(gj_value_equal(m1.get(), m3.get()));  // same pairs, other order
    EXPECT_FALSE(gj_value_equal(m1.get(), m4.get()));

    Ref l1(list_of_strings({"x", "y"})), l2(list_of_strings({"x", "y"})), l3(list_of_strings({"x"}));
    EXPECT_TRUE(gj_value_equal(l1.get(), l2.get()));
    EXPECT_FALSE(gj_value_equal(l1.get(), l3.get()));

    Ref d1, d2, d3;
    ASSERT_EQ(0, gj_value_new_datetime(d1.out(), 1, 2, 3600, "Europe/Paris", GJ_DATETIME_HAS_OFFSET));
    ASSERT_EQ(0, gj_value_new_datetime(d2.out(), 1, 2, 3600, "Europe/Paris", GJ_DATETIME_HAS_OFFSET));
    ASSERT_EQ(0, gj_value_new_datetime(d3.out(), 1, 2, 3600, "Europe/Berlin", GJ_DATETIME_HAS_OFFSET));
    EXPECT_TRUE(gj_value_equal(d1.get(), d2.get()));
    EXPECT_FALSE(gj_value_equal(d1.get(), d3.get()));

    Ref e1, e2;
    ASSERT_EQ(0, gj_value_new_node(e1.out(), gj_value_int(1), list_of_strings({"A"}), nullptr));
    ASSERT_EQ(0, gj_value_new_node(e2.out(), gj_value_int(1), list_of_strings({"A"}), nullptr));
    EXPECT_TRUE(gj_value_equal(e1.get(), e2.get()));
    ASSERT_EQ(0, gj_value_node_set_element_id(e2.get(), str("4:x:1")));
    EXPECT_FALSE(gj_value_equal(e1.get(), e2.get()));
}

// ---- deep trees ------------------------------------------------------------------

gj_value *deep_list(int depth, int leaf) {
    gj_value *v = gj_value_int(leaf);
    for (int i = 0; i < depth; i++) {
        gj_value *l = nullptr;
        EXPECT_EQ(0, gj_value_new_list(&l, 1));
        EXPECT_EQ(0, gj_value_list_append(l, v));
        v = l;
    }
    return v;
}

TEST(Value, DeepNestingFreesAndComparesWithoutRecursion) {
    const int depth = 100000;
    Ref a(deep_list(depth, 1)), b(deep_list(depth, 1)), c(deep_list(depth, 2));
    EXPECT_TRUE(gj_value_equal(a.get(), b.get()));
    EXPECT_FALSE(gj_value_equal(a.get(), c.get()));

    // Deep maps and mixed element nesting too.
    gj_value *v = gj_value_null();
    for (int i = 0; i < depth; i++) {
        gj_value *m;
        ASSERT_EQ(0, gj_value_new_map(&m, 1));
        ASSERT_EQ(0, gj_value_map_put_str(m, "k", v));
        if (i % 3 == 0) {
            gj_value *t;
            ASSERT_EQ(0, gj_value_new_tagged(&t, "x:T", m));
            m = t;
        }
        v = m;
    }
    gj_value_unref(v);
    // A shared subtree survives the death of one of its parents.
    gj_value *shared = deep_list(1000, 3);
    gj_value *p1, *p2;
    ASSERT_EQ(0, gj_value_new_list(&p1, 1));
    ASSERT_EQ(0, gj_value_new_list(&p2, 1));
    ASSERT_EQ(0, gj_value_list_append(p1, gj_value_ref(shared)));
    ASSERT_EQ(0, gj_value_list_append(p2, shared));
    gj_value_unref(p1);
    EXPECT_EQ(1u, gj_value_size(gj_value_list_at(p2, 0)));
    gj_value_unref(p2);
}

// ---- threads ----------------------------------------------------------------------

TEST(Value, ConcurrentRefUnrefOnASharedTree) {
    // Build a tree, then let 8 threads take and drop references to it and its
    // parts while reading and rendering it.  Run under TSan and ASan.
    Ref root;
    ASSERT_EQ(0, gj_value_new_list(root.out(), 64));
    for (int i = 0; i < 64; i++) {
        gj_value *m;
        ASSERT_EQ(0, gj_value_new_map(&m, 2));
        ASSERT_EQ(0, gj_value_map_put_str(m, "i", gj_value_int(i)));
        ASSERT_EQ(0, gj_value_map_put_str(m, "labels", list_of_strings({"a", "b"})));
        ASSERT_EQ(0, gj_value_list_append(root.get(), m));
    }
    char *expected = nullptr;
    ASSERT_EQ(0, gj_value_to_json(root.get(), 0, &expected, nullptr));
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    // Each thread starts with its own reference, handed over from this thread.
    for (int t = 0; t < 8; t++) {
        gj_value *mine = gj_value_ref(root.get());
        threads.emplace_back([mine, t, expected, &failures] {
            auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
            for (int round = 0; round < 2000 && std::chrono::steady_clock::now() < deadline; round++) {
                const gj_value *part = gj_value_list_at(mine, (round + t) % 64);
                gj_value *held = gj_value_ref(part);
                gj_value *again = gj_value_ref(mine);
                int64_t i = -1;
                if (gj_value_int_get(gj_value_map_get(held, "i"), &i) != 0 || i != (round + t) % 64)
                    failures++;
                if (round % 200 == 0) {
                    char *json = nullptr;
                    if (gj_value_to_json(again, 0, &json, nullptr) != 0 || strcmp(json, expected) != 0)
                        failures++;
                    gj_free(json);
                }
                gj_value_unref(again);
                gj_value_unref(held);
            }
            gj_value_unref(mine);
        });
    }
    // Drop the creator's reference while the threads run: the last thread frees.
    gj_value_unref(root.release());
    for (auto &th : threads) th.join();
    EXPECT_EQ(0, failures.load());
    gj_free(expected);
}

}  // namespace

// Keys that replies repeat are immortal statics; every other string is not.
TEST(CommonKeys, EveryKeyIsFoundAndOthersAreNot)
{
    const char *keys[] = { "id", "new", "old", "_id", "_to", "code", "data", "item", "line", "path",
                           "plan", "type", "_key", "_rev", "stats", "count", "error", "extra",
                           "items", "label", "nodes", "_from", "column", "result", "cached",
                           "server", "errors", "hasNext", "message", "profile", "payload",
                           "version", "warnings", "filtered", "errorNum", "locations", "cacheHits",
                           "fullCount", "extensions", "incremental", "cacheMisses", "scannedFull",
                           "errorMessage", "scannedIndex", "httpRequests", "executionTime",
                           "writesIgnored", "writesExecuted", "cursorsCreated", "cursorsRearmed",
                           "documentLookups", "peakMemoryUsage", "intermediateCommits" };
    EXPECT_EQ(53u, sizeof keys / sizeof keys[0]);
    for (const char *k : keys) {
        gj_value *v = gj__value_common_key(k, strlen(k));
        ASSERT_NE(nullptr, v) << k;
        const char *s = nullptr;
        size_t len = 0;
        ASSERT_EQ(0, gj_value_string_get(v, &s, &len));
        EXPECT_EQ(std::string(k), std::string(s, len));
        EXPECT_EQ('\0', s[len]);
        gj_value_unref(gj_value_ref(v));   // no-ops on an immortal
    }
    EXPECT_EQ(nullptr, gj__value_common_key("resultx", 7));
    EXPECT_EQ(nullptr, gj__value_common_key("Result", 6));
    EXPECT_EQ(nullptr, gj__value_common_key("x", 1));
    EXPECT_EQ(nullptr, gj__value_common_key("aVeryLongKeyThatIsNotThere", 26));
}
