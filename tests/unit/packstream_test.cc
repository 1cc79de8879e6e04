// PackStream v1 codec: byte vectors from the spec (neo4j/docs-bolt,
// packstream/index.adoc and bolt/structure-semantics.adoc) for every marker
// and every size boundary, the Bolt structures per version, round trips,
// and hostile input.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

extern "C" {
#include "codec/packstream.h"
#include "config/settings.h"
/* The Bolt backend's zone resolver (lib/backend/bolt/bolt_tz.c), and the
 * target state it lives in (bolt_tx.c). */
int gj__bolt_zone_offset(void *arg, const char *zone, int64_t seconds, bool local, int32_t *offset);
int gj__bolt_target_open(void **ctx, const gj_target_settings *ts, const gj_logger *log, gj_error *err);
void gj__bolt_target_close(void *ctx);
}

#include <unistd.h>

namespace {

using Bytes = std::vector<uint8_t>;

struct ValueFree {
    void operator()(gj_value *v) const { gj_value_unref(v); }
};
using V = std::unique_ptr<gj_value, ValueFree>;

struct ErrFree {
    void operator()(gj_error *e) const { gj_error_free(e); }
};
using E = std::unique_ptr<gj_error, ErrFree>;

Bytes H(const std::string &hex)
{
    Bytes out;
    int hi = -1;
    for (char c : hex) {
        int d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            d = c - 'A' + 10;
        else
            continue;
        if (hi < 0) {
            hi = d;
        } else {
            out.push_back((uint8_t)(hi << 4 | d));
            hi = -1;
        }
    }
    return out;
}

std::string Hex(const Bytes &b)
{
    static const char *digits = "0123456789ABCDEF";
    std::string s;
    for (size_t i = 0; i < b.size(); i++) {
        if (i)
            s += ' ';
        s += digits[b[i] >> 4];
        s += digits[b[i] & 15];
    }
    return s;
}

Bytes Cat(Bytes a, const Bytes &b)
{
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

Bytes Str(const std::string &s)
{
    return Bytes(s.begin(), s.end());
}

gj_ps_config Cfg5()
{
    gj_ps_config c{};
    c.bolt_major = 5;
    c.bolt_minor = 4;
    return c;
}

gj_ps_config Cfg44(bool utc = false)
{
    gj_ps_config c{};
    c.bolt_major = 4;
    c.bolt_minor = 4;
    c.utc_patch = utc;
    return c;
}

gj_ps_config Server(gj_ps_config c)
{
    c.allow_graph_values = true;
    return c;
}

// Encode; on failure returns an empty vector and fills *code / *msg.
Bytes Enc(const gj_value *v, const gj_ps_config &cfg, int *code = nullptr, std::string *msg = nullptr)
{
    gj_ps_buf b;
    gj__ps_buf_init(&b, 0);
    E err(gj_error_new());
    int rc = gj__ps_encode(&b, v, &cfg, err.get());
    Bytes out;
    if (rc == 0)
        out.assign(b.data, b.data + b.len);
    if (code)
        *code = rc;
    if (msg)
        *msg = gj_error_message(err.get());
    gj__ps_buf_free(&b);
    return out;
}

struct Decoded {
    V v;
    int rc;
    std::string msg;
};

Decoded Dec(const Bytes &b, const gj_ps_config &cfg)
{
    E err(gj_error_new());
    gj_value *v = nullptr;
    int rc = gj__ps_decode(&v, b.data(), b.size(), &cfg, err.get());
    Decoded d{V(rc == 0 ? v : nullptr), rc, gj_error_message(err.get())};
    return d;
}

V Int(int64_t i) { return V(gj_value_int(i)); }
V S(const std::string &s)
{
    gj_value *v = nullptr;
    EXPECT_EQ(0, gj_value_new_string(&v, s.data(), s.size()));
    return V(v);
}

V List(std::vector<V> items)
{
    gj_value *l;
    EXPECT_EQ(0, gj_value_new_list(&l, items.size()));
    for (auto &i : items)
        EXPECT_EQ(0, gj_value_list_append(l, i.release()));
    return V(l);
}

template <typename... Ts> V L(Ts... items)
{
    std::vector<V> v;
    (v.push_back(std::move(items)), ...);
    return List(std::move(v));
}

V IntList(size_t n)
{
    gj_value *l;
    EXPECT_EQ(0, gj_value_new_list(&l, n));
    for (size_t i = 0; i < n; i++)
        EXPECT_EQ(0, gj_value_list_append(l, gj_value_int((int64_t)(i % 100))));
    return V(l);
}

std::string KeyName(size_t i)
{
    return "k" + std::to_string(i);
}

// Expect decoding to fail with GJ_EPROTOCOL and the message to contain `what`.
void ExpectProtocolError(const Bytes &b, const gj_ps_config &cfg, const std::string &what)
{
    Decoded d = Dec(b, cfg);
    EXPECT_EQ(GJ_EPROTOCOL, d.rc) << Hex(b);
    EXPECT_NE(std::string::npos, d.msg.find(what)) << "message: " << d.msg << " | wanted: " << what;
}

// Encode v, compare with the expected bytes, decode them back, compare values.
void ExpectBytes(const gj_value *v, const std::string &hex, const gj_ps_config &cfg = Cfg5())
{
    Bytes want = H(hex);
    int rc;
    std::string msg;
    Bytes got = Enc(v, cfg, &rc, &msg);
    ASSERT_EQ(0, rc) << msg;
    EXPECT_EQ(Hex(want), Hex(got));
    Decoded d = Dec(want, cfg);
    ASSERT_EQ(0, d.rc) << d.msg;
    EXPECT_TRUE(gj_value_equal(v, d.v.get())) << hex;
}

/* ---- scalars ---------------------------------------------------------------- */

TEST(PackStream, NullBooleanFloat)
{
    ExpectBytes(gj_value_null(), "C0");
    ExpectBytes(gj_value_bool(false), "C2");
    ExpectBytes(gj_value_bool(true), "C3");
    V f(gj_value_float(1.23));
    ExpectBytes(f.get(), "C1 3F F3 AE 14 7A E1 47 AE");   // spec example
    V two(gj_value_float(2.0));
    ExpectBytes(two.get(), "C1 40 00 00 00 00 00 00 00");
    V neg0(gj_value_float(-0.0));
    ExpectBytes(neg0.get(), "C1 80 00 00 00 00 00 00 00");

    Decoded inf = Dec(H("C1 7F F0 00 00 00 00 00 00"), Cfg5());
    ASSERT_EQ(0, inf.rc);
    double d = 0;
    ASSERT_EQ(0, gj_value_float_get(inf.v.get(), &d));
    EXPECT_TRUE(std::isinf(d) && d > 0);
    Decoded nan = Dec(H("C1 7F F8 00 00 00 00 00 00"), Cfg5());
    ASSERT_EQ(0, nan.rc);
    ASSERT_EQ(0, gj_value_float_get(nan.v.get(), &d));
    EXPECT_TRUE(std::isnan(d));
}

TEST(PackStream, IntegerBoundaries)
{
    struct {
        int64_t v;
        const char *hex;
    } cases[] = {
        {0, "00"},
        {1, "01"},
        {42, "2A"},
        {127, "7F"},
        {128, "C9 00 80"},
        {-1, "FF"},
        {-16, "F0"},
        {-17, "C8 EF"},
        {-128, "C8 80"},
        {-129, "C9 FF 7F"},
        {32767, "C9 7F FF"},
        {32768, "CA 00 00 80 00"},
        {-32768, "C9 80 00"},
        {-32769, "CA FF FF 7F FF"},
        {2147483647, "CA 7F FF FF FF"},
        {2147483648LL, "CB 00 00 00 00 80 00 00 00"},
        {-2147483648LL, "CA 80 00 00 00"},
        {-2147483649LL, "CB FF FF FF FF 7F FF FF FF"},
        {INT64_MAX, "CB 7F FF FF FF FF FF FF FF"},
        {INT64_MIN, "CB 80 00 00 00 00 00 00 00"},
    };
    for (auto &c : cases) {
        SCOPED_TRACE(c.v);
        V v = Int(c.v);
        ExpectBytes(v.get(), c.hex);
    }
}

TEST(PackStream, IntegerWiderThanNeededStillDecodes)
{
    for (const char *hex : {"2A", "C8 2A", "C9 00 2A", "CA 00 00 00 2A", "CB 00 00 00 00 00 00 00 2A"}) {
        Decoded d = Dec(H(hex), Cfg5());
        ASSERT_EQ(0, d.rc) << hex;
        int64_t i = 0;
        ASSERT_EQ(0, gj_value_int_get(d.v.get(), &i));
        EXPECT_EQ(42, i) << hex;
    }
}

/* ---- strings and bytes -------------------------------------------------------- */

TEST(PackStream, StringExamplesFromSpec)
{
    V empty = S("");
    ExpectBytes(empty.get(), "80");
    V a = S("A");
    ExpectBytes(a.get(), "81 41");
    V alpha = S("ABCDEFGHIJKLMNOPQRSTUVWXYZ");
    ExpectBytes(alpha.get(), "D0 1A 41 42 43 44 45 46 47 48 49 4A 4B 4C 4D 4E 4F 50 51 52 53 54 55 56 "
                             "57 58 59 5A");
    V umlauts = S("Gr\xC3\xB6\xC3\x9F" "enma\xC3\x9F" "st\xC3\xA4" "be");
    ExpectBytes(umlauts.get(), "D0 12 47 72 C3 B6 C3 9F 65 6E 6D 61 C3 9F 73 74 C3 A4 62 65");
}

TEST(PackStream, StringSizeBoundaries)
{
    struct {
        size_t n;
        const char *header;
    } cases[] = {
        {15, "8F"}, {16, "D0 10"}, {255, "D0 FF"}, {256, "D1 01 00"},
        {65535, "D1 FF FF"}, {65536, "D2 00 01 00 00"},
    };
    for (auto &c : cases) {
        SCOPED_TRACE(c.n);
        std::string s(c.n, 'x');
        V v = S(s);
        Bytes want = Cat(H(c.header), Str(s));
        Bytes got = Enc(v.get(), Cfg5());
        ASSERT_EQ(want.size(), got.size());
        EXPECT_TRUE(want == got);
        Decoded d = Dec(want, Cfg5());
        ASSERT_EQ(0, d.rc) << d.msg;
        EXPECT_TRUE(gj_value_equal(v.get(), d.v.get()));
    }
}

TEST(PackStream, StringWithNulRoundTrips)
{
    V v = S(std::string("a\0b", 3));
    ExpectBytes(v.get(), "83 61 00 62");
}

TEST(PackStream, BytesSizeBoundaries)
{
    {
        gj_value *v;
        ASSERT_EQ(0, gj_value_new_bytes(&v, "", 0));
        V e(v);
        ExpectBytes(e.get(), "CC 00");   // spec: no tiny form for bytes
        const uint8_t three[] = {1, 2, 3};
        ASSERT_EQ(0, gj_value_new_bytes(&v, three, 3));
        V t(v);
        ExpectBytes(t.get(), "CC 03 01 02 03");
    }
    struct {
        size_t n;
        const char *header;
    } cases[] = {
        {15, "CC 0F"}, {16, "CC 10"}, {255, "CC FF"}, {256, "CD 01 00"},
        {65535, "CD FF FF"}, {65536, "CE 00 01 00 00"},
    };
    for (auto &c : cases) {
        SCOPED_TRACE(c.n);
        Bytes payload(c.n, 0xAB);
        gj_value *raw;
        ASSERT_EQ(0, gj_value_new_bytes(&raw, payload.data(), payload.size()));
        V v(raw);
        Bytes want = Cat(H(c.header), payload);
        EXPECT_TRUE(want == Enc(v.get(), Cfg5()));
        Decoded d = Dec(want, Cfg5());
        ASSERT_EQ(0, d.rc) << d.msg;
        EXPECT_TRUE(gj_value_equal(v.get(), d.v.get()));
    }
}

TEST(PackStream, InvalidUtf8IsAProtocolErrorWithOffset)
{
    // "a" then a lone continuation byte at offset 2 of the span.
    ExpectProtocolError(H("82 61 80"), Cfg5(), "invalid UTF-8 at byte 2");
    ExpectProtocolError(H("82 C0 80"), Cfg5(), "invalid UTF-8 at byte 1");        // overlong NUL
    ExpectProtocolError(H("83 ED A0 80"), Cfg5(), "invalid UTF-8 at byte 1");     // surrogate
    ExpectProtocolError(H("84 F4 90 80 80"), Cfg5(), "invalid UTF-8 at byte 1");  // > U+10FFFF
    ExpectProtocolError(H("81 F5"), Cfg5(), "invalid UTF-8 at byte 1");
    ExpectProtocolError(H("82 E2 82"), Cfg5(), "invalid UTF-8 at byte 1");        // cut sequence
    ExpectProtocolError(H("91 81 FF"), Cfg5(), "invalid UTF-8 at byte 2");        // inside a list
    // Valid 2, 3 and 4 byte sequences.
    Decoded ok = Dec(H("8A C3 A9 E2 82 AC F0 9F 98 80 41"), Cfg5());
    EXPECT_EQ(0, ok.rc) << ok.msg;
    // The fast path checks 8 bytes at a time: a bad byte after 9 ASCII ones.
    ExpectProtocolError(H("8B 41 41 41 41 41 41 41 41 41 FF 41"), Cfg5(), "invalid UTF-8 at byte 10");
}

TEST(PackStream, Utf8Validator)
{
    auto at = [](const std::string &s) {
        return gj__ps_utf8_invalid_at((const uint8_t *)s.data(), s.size());
    };
    EXPECT_EQ(0u, at(""));
    EXPECT_EQ(17u, at("plain ascii text!"));
    EXPECT_EQ(3u, at("abc\x80"));
    EXPECT_EQ(0u, at("\xE0\x80\x80"));         // overlong 3-byte
    EXPECT_EQ(0u, at("\xF0\x80\x80\x80"));     // overlong 4-byte
    EXPECT_EQ(8u, at("\xEF\xBF\xBF\xF4\x8F\xBF\xBF" "x"));   // U+FFFF, U+10FFFF are valid
    EXPECT_EQ(1u, at("a\xC1\xBF"));
}

/* ---- lists and dictionaries ----------------------------------------------------- */

TEST(PackStream, ListExamplesFromSpec)
{
    V empty = List(std::vector<V>());
    ExpectBytes(empty.get(), "90");
    V three = L(Int(1), Int(2), Int(3));
    ExpectBytes(three.get(), "93 01 02 03");
    V mixed = L(Int(1), V(gj_value_float(2.0)), S("three"));
    ExpectBytes(mixed.get(), "93 01 C1 40 00 00 00 00 00 00 00 85 74 68 72 65 65");
    std::vector<V> forty;
    for (int i = 1; i <= 40; i++)
        forty.push_back(Int(i));
    V l40 = List(std::move(forty));
    ExpectBytes(l40.get(), "D4 28 01 02 03 04 05 06 07 08 09 0A 0B 0C 0D 0E 0F 10 11 12 13 14 15 16 17 "
                           "18 19 1A 1B 1C 1D 1E 1F 20 21 22 23 24 25 26 27 28");
}

TEST(PackStream, ListSizeBoundaries)
{
    struct {
        size_t n;
        const char *header;
    } cases[] = {
        {15, "9F"}, {16, "D4 10"}, {255, "D4 FF"}, {256, "D5 01 00"},
        {65535, "D5 FF FF"}, {65536, "D6 00 01 00 00"},
    };
    for (auto &c : cases) {
        SCOPED_TRACE(c.n);
        V v = IntList(c.n);
        Bytes got = Enc(v.get(), Cfg5());
        Bytes header = H(c.header);
        ASSERT_GE(got.size(), header.size() + c.n);
        EXPECT_TRUE(std::equal(header.begin(), header.end(), got.begin()));
        EXPECT_EQ(header.size() + c.n, got.size());   // items 0..99 are tiny ints
        Decoded d = Dec(got, Cfg5());
        ASSERT_EQ(0, d.rc) << d.msg;
        EXPECT_EQ(c.n, gj_value_size(d.v.get()));
        EXPECT_TRUE(gj_value_equal(v.get(), d.v.get()));
    }
}

TEST(PackStream, DictionaryExamplesFromSpec)
{
    gj_value *m;
    ASSERT_EQ(0, gj_value_new_map(&m, 0));
    V empty(m);
    ExpectBytes(empty.get(), "A0");
    ASSERT_EQ(0, gj_value_new_map(&m, 1));
    ASSERT_EQ(0, gj_value_map_put_str(m, "one", gj_value_string("eins")));
    V one(m);
    ExpectBytes(one.get(), "A1 83 6F 6E 65 84 65 69 6E 73");
    ASSERT_EQ(0, gj_value_new_map(&m, 26));
    for (char c = 'A'; c <= 'Z'; c++) {
        char k[2] = {c, 0};
        ASSERT_EQ(0, gj_value_map_put_str(m, k, gj_value_int(c - 'A' + 1)));
    }
    V az(m);
    ExpectBytes(az.get(), "D8 1A 81 41 01 81 42 02 81 43 03 81 44 04 81 45 05 81 46 06 81 47 07 81 48 08 "
                          "81 49 09 81 4A 0A 81 4B 0B 81 4C 0C 81 4D 0D 81 4E 0E 81 4F 0F 81 50 10 "
                          "81 51 11 81 52 12 81 53 13 81 54 14 81 55 15 81 56 16 81 57 17 81 58 18 "
                          "81 59 19 81 5A 1A");
}

TEST(PackStream, DictionaryRepeatedKeyLastWins)
{
    // [("key_1", 1), ("key_2", 2), ("key_1", 3)] -> {"key_1": 3, "key_2": 2}
    Decoded d = Dec(H("A3 85 6B 65 79 5F 31 01 85 6B 65 79 5F 32 02 85 6B 65 79 5F 31 03"), Cfg5());
    ASSERT_EQ(0, d.rc) << d.msg;
    EXPECT_EQ(2u, gj_value_size(d.v.get()));
    int64_t i = 0;
    ASSERT_EQ(0, gj_value_int_get(gj_value_map_get(d.v.get(), "key_1"), &i));
    EXPECT_EQ(3, i);
    ASSERT_EQ(0, gj_value_int_get(gj_value_map_get(d.v.get(), "key_2"), &i));
    EXPECT_EQ(2, i);
}

TEST(PackStream, DictionarySizeBoundaries)
{
    struct {
        size_t n;
        const char *header;
    } cases[] = {
        {15, "AF"}, {16, "D8 10"}, {255, "D8 FF"}, {256, "D9 01 00"},
        {65535, "D9 FF FF"}, {65536, "DA 00 01 00 00"},
    };
    for (auto &c : cases) {
        SCOPED_TRACE(c.n);
        gj_value *m;
        ASSERT_EQ(0, gj_value_new_map(&m, c.n));
        for (size_t i = 0; i < c.n; i++)
            ASSERT_EQ(0, gj_value_map_put_str(m, KeyName(i).c_str(), gj_value_int(1)));
        V v(m);
        Bytes got = Enc(v.get(), Cfg5());
        Bytes header = H(c.header);
        EXPECT_TRUE(std::equal(header.begin(), header.end(), got.begin()));
        Decoded d = Dec(got, Cfg5());
        ASSERT_EQ(0, d.rc) << d.msg;
        EXPECT_EQ(c.n, gj_value_size(d.v.get()));
        EXPECT_TRUE(gj_value_equal(v.get(), d.v.get()));
    }
}

TEST(PackStream, DictionaryKeyMustBeAString)
{
    ExpectProtocolError(H("A1 01 01"), Cfg5(), "dictionary key at byte 1 is not a String (marker 0x01)");
    ExpectProtocolError(H("A2 81 61 01 C0 01"), Cfg5(), "dictionary key at byte 4");
    // Encoding a map with a non-string key is refused.
    gj_value *m;
    ASSERT_EQ(0, gj_value_new_map(&m, 1));
    ASSERT_EQ(0, gj_value_map_put(m, gj_value_int(1), gj_value_int(2)));
    V v(m);
    int rc;
    std::string msg;
    Enc(v.get(), Cfg5(), &rc, &msg);
    EXPECT_EQ(GJ_EINVAL, rc);
    EXPECT_NE(std::string::npos, msg.find("map key #0 is a int")) << msg;
}

TEST(PackStream, SetIsSentAsAList)
{
    gj_value *s;
    ASSERT_EQ(0, gj_value_new_set(&s, 2));
    gj_value_list_append(s, gj_value_int(1));
    gj_value_list_append(s, gj_value_int(2));
    V v(s);
    EXPECT_EQ("92 01 02", Hex(Enc(v.get(), Cfg5())));
}

/* ---- Bolt structures --------------------------------------------------------------- */

const char *kNode5 = "B4 4E 03 92 87 45 78 61 6D 70 6C 65 84 4E 6F 64 65 A1 84 6E 61 6D 65 87 65 78 61 6D "
                     "70 6C 65 86 61 62 63 31 32 33";
const char *kNode44 = "B3 4E 03 92 87 45 78 61 6D 70 6C 65 84 4E 6F 64 65 A1 84 6E 61 6D 65 87 65 78 61 6D "
                      "70 6C 65";

std::string StrOf(const gj_value *v)
{
    const char *s = nullptr;
    size_t n = 0;
    if (gj_value_string_get(v, &s, &n) != 0)
        return "<not a string>";
    return std::string(s, n);
}

int64_t IntOf(const gj_value *v)
{
    int64_t i = INT64_MIN;
    EXPECT_EQ(0, gj_value_int_get(v, &i));
    return i;
}

TEST(PackStream, NodeBolt5)
{
    Decoded d = Dec(H(kNode5), Cfg5());
    ASSERT_EQ(0, d.rc) << d.msg;
    const gj_value *n = d.v.get();
    ASSERT_EQ(GJ_TNODE, gj_value_type(n));
    EXPECT_EQ(3, IntOf(gj_value_element_id(n)));
    ASSERT_EQ(2u, gj_value_size(gj_value_node_labels(n)));
    EXPECT_EQ("Example", StrOf(gj_value_list_at(gj_value_node_labels(n), 0)));
    EXPECT_EQ("Node", StrOf(gj_value_list_at(gj_value_node_labels(n), 1)));
    EXPECT_EQ("example", StrOf(gj_value_map_get(gj_value_element_properties(n), "name")));
    EXPECT_EQ("abc123", StrOf(gj_value_element_element_id(n)));
    // Graph values are written only by servers.
    EXPECT_EQ(Hex(H(kNode5)), Hex(Enc(n, Server(Cfg5()))));
    int rc;
    std::string msg;
    Enc(n, Cfg5(), &rc, &msg);
    EXPECT_EQ(GJ_EINVAL, rc);
    EXPECT_NE(std::string::npos, msg.find("Neo4j rejects graph elements as parameters")) << msg;
}

TEST(PackStream, NodeBolt44HasThreeFields)
{
    Decoded d = Dec(H(kNode44), Cfg44());
    ASSERT_EQ(0, d.rc) << d.msg;
    EXPECT_EQ(nullptr, gj_value_element_element_id(d.v.get()));
    EXPECT_EQ(Hex(H(kNode44)), Hex(Enc(d.v.get(), Server(Cfg44()))));
    ExpectProtocolError(H(kNode5), Cfg44(), "Node structure at byte 0 has 4 fields; Bolt 4.4 expects 3");
    ExpectProtocolError(H(kNode44), Cfg5(), "Node structure at byte 0 has 3 fields; Bolt 5.4 expects 4");
}

TEST(PackStream, NodeFieldTypesAreChecked)
{
    ExpectProtocolError(H("B3 4E 81 61 90 A0"), Cfg44(), "field id at byte 2 is not an Integer");
    ExpectProtocolError(H("B3 4E 01 A0 A0"), Cfg44(), "field labels at byte 3 is not a List");
    ExpectProtocolError(H("B3 4E 01 91 01 A0"), Cfg44(), "labels (byte 3) item 0 is a int");
    ExpectProtocolError(H("B3 4E 01 90 90"), Cfg44(), "field properties at byte 4 is not a Dictionary");
    ExpectProtocolError(H("B4 4E 01 90 A0 01"), Cfg5(), "field element_id at byte 5 is not a String");
}

const char *kRel5 = "B8 52 0B 02 03 85 4B 4E 4F 57 53 A1 84 6E 61 6D 65 87 65 78 61 6D 70 6C 65 "
                    "86 61 62 63 31 32 33 86 64 65 66 34 35 36 86 67 68 69 37 38 39";

TEST(PackStream, RelationshipBolt5And44)
{
    Decoded d = Dec(H(kRel5), Cfg5());
    ASSERT_EQ(0, d.rc) << d.msg;
    const gj_value *r = d.v.get();
    ASSERT_EQ(GJ_TEDGE, gj_value_type(r));
    EXPECT_EQ(11, IntOf(gj_value_element_id(r)));
    EXPECT_EQ(2, IntOf(gj_value_edge_start_id(r)));
    EXPECT_EQ(3, IntOf(gj_value_edge_end_id(r)));
    EXPECT_EQ("KNOWS", StrOf(gj_value_edge_type(r)));
    EXPECT_EQ("abc123", StrOf(gj_value_element_element_id(r)));
    EXPECT_EQ("def456", StrOf(gj_value_edge_start_element_id(r)));
    EXPECT_EQ("ghi789", StrOf(gj_value_edge_end_element_id(r)));
    EXPECT_EQ(Hex(H(kRel5)), Hex(Enc(r, Server(Cfg5()))));

    const char *rel44 = "B5 52 0B 02 03 85 4B 4E 4F 57 53 A0";
    Decoded d44 = Dec(H(rel44), Cfg44());
    ASSERT_EQ(0, d44.rc) << d44.msg;
    EXPECT_EQ(nullptr, gj_value_element_element_id(d44.v.get()));
    EXPECT_EQ(Hex(H(rel44)), Hex(Enc(d44.v.get(), Server(Cfg44()))));
    ExpectProtocolError(H(rel44), Cfg5(), "Relationship structure at byte 0 has 5 fields");
    ExpectProtocolError(H("B5 52 0B 81 61 03 85 4B 4E 4F 57 53 A0"), Cfg44(), "field startNodeId");
}

TEST(PackStream, UnboundRelationship)
{
    Decoded d = Dec(H("B4 72 11 85 4B 4E 4F 57 53 A0 83 66 6F 6F"), Cfg5());
    ASSERT_EQ(0, d.rc) << d.msg;
    EXPECT_EQ(GJ_TEDGE, gj_value_type(d.v.get()));
    EXPECT_EQ(17, IntOf(gj_value_element_id(d.v.get())));
    EXPECT_EQ(nullptr, gj_value_edge_start_id(d.v.get()));
    EXPECT_EQ("foo", StrOf(gj_value_element_element_id(d.v.get())));
    EXPECT_EQ("B4 72 11 85 4B 4E 4F 57 53 A0 83 66 6F 6F", Hex(Enc(d.v.get(), Server(Cfg5()))));
    Decoded d44 = Dec(H("B3 72 11 85 4B 4E 4F 57 53 A0"), Cfg44());
    EXPECT_EQ(0, d44.rc) << d44.msg;
}

// Node(id, [], {}, "n<id>") on 5.x
std::string NodeHex(int id)
{
    char buf[64];
    snprintf(buf, sizeof buf, "B4 4E %02X 90 A0 82 6E %02X", id, '0' + id);
    return buf;
}

// UnboundRelationship(id, "R", {}, "r<id>")
std::string URelHex(int id)
{
    char buf[64];
    snprintf(buf, sizeof buf, "B4 72 %02X 81 52 A0 82 72 %02X", id, '0' + id);
    return buf;
}

TEST(PackStream, PathResolvesDirections)
{
    // Spec example shape: nodes [n1, n2, n3], rels [r4, r5], indices [1, 1, 1, 0, -2, 2]
    // = (n1)-[r4]->(n2)-[r4]->(n1)<-[r5]-(n3).
    std::string hex = "B3 50 93 " + NodeHex(1) + " " + NodeHex(2) + " " + NodeHex(3) + " 92 " + URelHex(4) +
                      " " + URelHex(5) + " 96 01 01 01 00 FE 02";
    Decoded d = Dec(H(hex), Cfg5());
    ASSERT_EQ(0, d.rc) << d.msg;
    ASSERT_EQ(GJ_TPATH, gj_value_type(d.v.get()));
    const gj_value *walk = gj_value_path_objects(d.v.get());
    ASSERT_EQ(7u, gj_value_size(walk));
    int64_t node_ids[] = {1, 2, 1, 3};
    for (size_t i = 0; i < 4; i++) {
        ASSERT_EQ(GJ_TNODE, gj_value_type(gj_value_list_at(walk, 2 * i)));
        EXPECT_EQ(node_ids[i], IntOf(gj_value_element_id(gj_value_list_at(walk, 2 * i))));
    }
    struct {
        int64_t id, start, end;
        const char *seid, *eeid;
    } rels[] = {{4, 1, 2, "n1", "n2"}, {4, 2, 1, "n2", "n1"}, {5, 3, 1, "n3", "n1"}};
    for (size_t i = 0; i < 3; i++) {
        SCOPED_TRACE(i);
        const gj_value *r = gj_value_list_at(walk, 2 * i + 1);
        ASSERT_EQ(GJ_TEDGE, gj_value_type(r));
        EXPECT_EQ(rels[i].id, IntOf(gj_value_element_id(r)));
        EXPECT_EQ(rels[i].start, IntOf(gj_value_edge_start_id(r)));
        EXPECT_EQ(rels[i].end, IntOf(gj_value_edge_end_id(r)));
        EXPECT_EQ("R", StrOf(gj_value_edge_type(r)));
        EXPECT_EQ(rels[i].seid, StrOf(gj_value_edge_start_element_id(r)));
        EXPECT_EQ(rels[i].eeid, StrOf(gj_value_edge_end_element_id(r)));
    }
    // A server writes it back as the same structure.
    EXPECT_EQ(Hex(H(hex)), Hex(Enc(d.v.get(), Server(Cfg5()))));
    // And refuses it as a parameter.
    int rc;
    Enc(d.v.get(), Cfg5(), &rc);
    EXPECT_EQ(GJ_EINVAL, rc);
}

TEST(PackStream, PathOfOneNodeAndBolt44)
{
    Decoded d = Dec(H("B3 50 91 B3 4E 07 90 A0 90 90"), Cfg44());
    ASSERT_EQ(0, d.rc) << d.msg;
    EXPECT_EQ(1u, gj_value_size(gj_value_path_objects(d.v.get())));
    Decoded d2 = Dec(H("B3 50 92 B3 4E 01 90 A0 B3 4E 02 90 A0 91 B3 72 09 81 52 A0 92 FF 01"), Cfg44());
    ASSERT_EQ(0, d2.rc) << d2.msg;
    const gj_value *r = gj_value_list_at(gj_value_path_objects(d2.v.get()), 1);
    EXPECT_EQ(2, IntOf(gj_value_edge_start_id(r)));
    EXPECT_EQ(1, IntOf(gj_value_edge_end_id(r)));
    EXPECT_EQ(nullptr, gj_value_edge_start_element_id(r));
}

TEST(PackStream, PathHostileIndices)
{
    std::string nodes = "92 " + NodeHex(1) + " " + NodeHex(2);
    std::string rels = "91 " + URelHex(4);
    ExpectProtocolError(H("B3 50 " + nodes + " " + rels + " 92 00 01"), Cfg5(), "index pair 0 (0, 1)");
    ExpectProtocolError(H("B3 50 " + nodes + " " + rels + " 92 02 01"), Cfg5(), "out of range");
    ExpectProtocolError(H("B3 50 " + nodes + " " + rels + " 92 FE 01"), Cfg5(), "out of range");
    ExpectProtocolError(H("B3 50 " + nodes + " " + rels + " 92 01 02"), Cfg5(), "out of range");
    ExpectProtocolError(H("B3 50 " + nodes + " " + rels + " 92 01 FF"), Cfg5(), "out of range");
    ExpectProtocolError(H("B3 50 " + nodes + " " + rels + " 91 01"), Cfg5(), "odd number of indices");
    ExpectProtocolError(H("B3 50 90 90 90"), Cfg5(), "no nodes");
    ExpectProtocolError(H("B3 50 91 01 90 90"), Cfg5(), "nodes (byte 2) item 0 is a int, not a node");
    ExpectProtocolError(H("B3 50 " + nodes + " 91 " + std::string(kRel5) + " 92 01 01"), Cfg5(),
                        "bound Relationship");
    ExpectProtocolError(H("B3 50 " + nodes + " " + rels + " 92 01 81 61"), Cfg5(), "indices");
}

TEST(PackStream, DateTimeAndLocalTypes)
{
    struct {
        const char *hex;
        gj_type type;
    } cases[] = {
        {"B1 44 C9 36 1A", GJ_TDATE},                                 // 13850 = 2007-12-03
        {"B1 44 F0", GJ_TDATE},                                       // -16
        {"B2 54 CB 00 00 0B B8 7F D8 1F 80 C9 0E 10", GJ_TTIME},
        {"B1 74 CA 3B 9A CA 00", GJ_TLOCAL_TIME},
        {"B2 64 CA 5F 5E 10 00 2A", GJ_TLOCAL_DATETIME},
        {"B4 45 0E 1F C9 0E 10 2A", GJ_TDURATION},
        {"B4 45 FF FF FF CA C4 65 36 01", GJ_TDURATION},              // negative, nanos -999999999
        {"B3 58 C9 1E E6 C1 3F F0 00 00 00 00 00 00 C1 40 00 00 00 00 00 00 00", GJ_TPOINT},
        {"B4 59 C9 23 C5 C1 3F F0 00 00 00 00 00 00 C1 40 00 00 00 00 00 00 00 C1 40 08 00 00 00 00 00 00",
         GJ_TPOINT},
    };
    for (auto &c : cases) {
        SCOPED_TRACE(c.hex);
        for (gj_ps_config cfg : {Cfg5(), Cfg44()}) {
            Decoded d = Dec(H(c.hex), cfg);
            ASSERT_EQ(0, d.rc) << d.msg;
            EXPECT_EQ(c.type, gj_value_type(d.v.get()));
            EXPECT_EQ(Hex(H(c.hex)), Hex(Enc(d.v.get(), cfg)));
        }
    }
    Decoded date = Dec(H("B1 44 C9 36 1A"), Cfg5());
    int64_t days = 0;
    ASSERT_EQ(0, gj_value_date_get(date.v.get(), &days));
    EXPECT_EQ(13850, days);
    Decoded time = Dec(H("B2 54 CB 00 00 0B B8 7F D8 1F 80 C9 0E 10"), Cfg5());
    int64_t ns = 0;
    int32_t off = 0;
    ASSERT_EQ(0, gj_value_time_get(time.v.get(), &ns, &off));
    EXPECT_EQ(INT64_C(12887046758272), ns);
    EXPECT_EQ(3600, off);
    Decoded p3 = Dec(H(cases[8].hex), Cfg5());
    int64_t srid = 0;
    unsigned dims = 0;
    double x = 0, y = 0, z = 0;
    ASSERT_EQ(0, gj_value_point_get(p3.v.get(), &srid, &dims, &x, &y, &z));
    EXPECT_EQ(9157, srid);
    EXPECT_EQ(3u, dims);
    EXPECT_EQ(1.0, x);
    EXPECT_EQ(2.0, y);
    EXPECT_EQ(3.0, z);
    Decoded dur = Dec(H("B4 45 0E 1F C9 0E 10 2A"), Cfg5());
    int64_t months, ddays, secs;
    int32_t nanos;
    ASSERT_EQ(0, gj_value_duration_get(dur.v.get(), &months, &ddays, &secs, &nanos));
    EXPECT_EQ(14, months);
    EXPECT_EQ(31, ddays);
    EXPECT_EQ(3600, secs);
    EXPECT_EQ(42, nanos);
}

TEST(PackStream, TemporalFieldChecks)
{
    ExpectProtocolError(H("B1 44 81 61"), Cfg5(), "Date at byte 0: field days at byte 2 is not an Integer");
    ExpectProtocolError(H("B2 44 01 01"), Cfg5(), "Date structure at byte 0 has 2 fields");
    ExpectProtocolError(H("B1 74 FF"), Cfg5(), "nanoseconds = -1 is out of range");
    ExpectProtocolError(H("B3 49 01 CA 3B 9A CA 00 00"), Cfg5(), "nanoseconds = 1000000000 is out of range");
    ExpectProtocolError(H("B3 58 01 01 01"), Cfg5(), "field x at byte 3 is not a Float");
    ExpectProtocolError(H("B4 45 01 01 01 CA 3B 9A CA 00"), Cfg5(), "nanoseconds = 1000000000 is out of range");
    ExpectProtocolError(H("B2 54 01 CA 00 01 51 81"), Cfg5(), "tz_offset_seconds = 86401 is out of range");
    ExpectProtocolError(H("B3 69 01 01 80"), Cfg5(), "tz_id");   // empty zone
}

TEST(PackStream, DateTimeUtcForms)
{
    // 1970-01-01T02:15:00.000000042+01:00 = 4500 s UTC (spec example).
    const char *dt = "B3 49 C9 11 94 2A C9 0E 10";
    Decoded d = Dec(H(dt), Cfg5());
    ASSERT_EQ(0, d.rc) << d.msg;
    int64_t secs = 0;
    int32_t nanos = 0, off = 0;
    const char *zone = "x";
    unsigned flags = 99;
    ASSERT_EQ(0, gj_value_datetime_get(d.v.get(), &secs, &nanos, &off, &zone, &flags));
    EXPECT_EQ(4500, secs);
    EXPECT_EQ(42, nanos);
    EXPECT_EQ(3600, off);
    EXPECT_EQ(nullptr, zone);
    EXPECT_EQ((unsigned)GJ_DATETIME_HAS_OFFSET, flags);
    EXPECT_EQ(Hex(H(dt)), Hex(Enc(d.v.get(), Cfg5())));
    // 4.4 with the utc patch uses the same structure.
    Decoded dp = Dec(H(dt), Cfg44(true));
    ASSERT_EQ(0, dp.rc) << dp.msg;
    EXPECT_TRUE(gj_value_equal(d.v.get(), dp.v.get()));
    EXPECT_EQ(Hex(H(dt)), Hex(Enc(d.v.get(), Cfg44(true))));
    // Plain 4.4 does not know it.
    ExpectProtocolError(H(dt), Cfg44(), "0x49 (DateTime) at byte 0 is not valid in Bolt 4.4 without the utc patch");

    const char *dz = "B3 69 C9 11 94 2A 8C 45 75 72 6F 70 65 2F 50 61 72 69 73";
    Decoded z = Dec(H(dz), Cfg5());
    ASSERT_EQ(0, z.rc) << z.msg;
    ASSERT_EQ(0, gj_value_datetime_get(z.v.get(), &secs, &nanos, &off, &zone, &flags));
    EXPECT_EQ(4500, secs);
    EXPECT_STREQ("Europe/Paris", zone);
    EXPECT_EQ(0u, flags & GJ_DATETIME_LOCAL_SECONDS);
    EXPECT_EQ(Hex(H(dz)), Hex(Enc(z.v.get(), Cfg5())));
}

TEST(PackStream, DateTimeLegacyForms)
{
    // Legacy DateTime: seconds are local (4500 + 3600 = 8100).
    const char *legacy = "B3 46 C9 1F A4 2A C9 0E 10";
    Decoded d = Dec(H(legacy), Cfg44());
    ASSERT_EQ(0, d.rc) << d.msg;
    int64_t secs = 0;
    int32_t nanos = 0, off = 0;
    const char *zone = nullptr;
    unsigned flags = 0;
    ASSERT_EQ(0, gj_value_datetime_get(d.v.get(), &secs, &nanos, &off, &zone, &flags));
    EXPECT_EQ(4500, secs);   // converted to UTC
    EXPECT_EQ(3600, off);
    EXPECT_EQ((unsigned)GJ_DATETIME_HAS_OFFSET, flags);
    // It is the same instant as the 5.x form ...
    Decoded utc = Dec(H("B3 49 C9 11 94 2A C9 0E 10"), Cfg5());
    EXPECT_TRUE(gj_value_equal(d.v.get(), utc.v.get()));
    // ... and goes back out in the form of the version.
    EXPECT_EQ(Hex(H(legacy)), Hex(Enc(d.v.get(), Cfg44())));
    EXPECT_EQ("B3 49 C9 11 94 2A C9 0E 10", Hex(Enc(d.v.get(), Cfg5())));
    ExpectProtocolError(H(legacy), Cfg5(), "0x46 (legacy DateTime) at byte 0 is not valid in Bolt 5.4");
    ExpectProtocolError(H(legacy), Cfg44(true), "not valid in Bolt 4.4");

    // Legacy DateTimeZoneId keeps the local seconds and says so.
    const char *lz = "B3 66 C9 1F A4 2A 8C 45 75 72 6F 70 65 2F 50 61 72 69 73";
    Decoded z = Dec(H(lz), Cfg44());
    ASSERT_EQ(0, z.rc) << z.msg;
    ASSERT_EQ(0, gj_value_datetime_get(z.v.get(), &secs, &nanos, &off, &zone, &flags));
    EXPECT_EQ(8100, secs);
    EXPECT_STREQ("Europe/Paris", zone);
    EXPECT_EQ((unsigned)GJ_DATETIME_LOCAL_SECONDS, flags);
    EXPECT_EQ(Hex(H(lz)), Hex(Enc(z.v.get(), Cfg44())));
    // Without an offset it cannot become UTC for 5.x.
    int rc;
    std::string msg;
    Enc(z.v.get(), Cfg5(), &rc, &msg);
    EXPECT_EQ(GJ_EINVAL, rc);
    EXPECT_NE(std::string::npos, msg.find("cannot be converted to UTC")) << msg;

    // A UTC zone-id datetime with a known offset can be sent in the legacy form.
    gj_value *v;
    ASSERT_EQ(0, gj_value_new_datetime(&v, 4500, 42, 3600, "Europe/Paris", GJ_DATETIME_HAS_OFFSET));
    V withoff(v);
    EXPECT_EQ(Hex(H(lz)), Hex(Enc(withoff.get(), Cfg44())));
    ASSERT_EQ(0, gj_value_new_datetime(&v, 4500, 42, 0, "Europe/Paris", 0));
    V nooff(v);
    Enc(nooff.get(), Cfg44(), &rc, &msg);
    EXPECT_EQ(GJ_EINVAL, rc);
    EXPECT_NE(std::string::npos, msg.find("legacy form")) << msg;
}

TEST(PackStream, UnknownStructureTag)
{
    // Vector (0x56) is Bolt 6: not a structure of 5.x.
    Bytes b = H("B2 56 CC 01 C8 CC 02 01 02");
    ExpectProtocolError(b, Cfg5(), "structure 0x56 (Vector) at byte 0 is not valid in Bolt 5.4 (it needs 6.0)");
    ExpectProtocolError(H("92 01 B0 7F"), Cfg5(), "unknown structure tag 0x7F at byte 2");
    ExpectProtocolError(H("B0 80"), Cfg5(), "structure tag 0x80 at byte 0 is above 0x7F");
    gj_ps_config pass = Cfg5();
    pass.unknown_struct_passthrough = true;
    Decoded d = Dec(b, pass);
    ASSERT_EQ(0, d.rc) << d.msg;
    ASSERT_EQ(GJ_TTAGGED, gj_value_type(d.v.get()));
    const char *tag = nullptr;
    const gj_value *inner = nullptr;
    ASSERT_EQ(0, gj_value_tagged_get(d.v.get(), &tag, &inner));
    EXPECT_STREQ("packstream:struct:56", tag);
    EXPECT_EQ(2u, gj_value_size(inner));
    EXPECT_EQ(Hex(b), Hex(Enc(d.v.get(), pass)));
    // Passthrough also keeps structures of another version.
    gj_ps_config pass44 = Cfg44();
    pass44.unknown_struct_passthrough = true;
    Decoded dt = Dec(H("B3 49 01 02 03"), pass44);
    ASSERT_EQ(0, dt.rc) << dt.msg;
    EXPECT_EQ(GJ_TTAGGED, gj_value_type(dt.v.get()));
    // Other tagged values have no PackStream form.
    gj_value *t;
    ASSERT_EQ(0, gj_value_new_tagged(&t, "g:Tree", gj_value_int(1)));
    V tree(t);
    int rc;
    std::string msg;
    Enc(tree.get(), Cfg5(), &rc, &msg);
    EXPECT_EQ(GJ_EINVAL, rc);
    EXPECT_NE(std::string::npos, msg.find("g:Tree")) << msg;
}

/* ---- Bolt 6.0: Vector and UnsupportedType ------------------------------------ */

gj_ps_config Cfg6()
{
    gj_ps_config c{};
    c.bolt_major = 6;
    c.bolt_minor = 0;
    return c;
}

// Every element type: the bytes of structure-semantics.adoc's Vector
// (B2 56, type_marker as one byte, the elements big-endian) both ways.
TEST(PackStream, VectorOfEveryTypeBolt6)
{
    struct Case {
        gj_vector_type t;
        std::string hex;
    };
    const int8_t i8[] = { 1, -1, 127 };
    const int16_t i16[] = { 1, -2 };
    const int32_t i32[] = { 1, -1 };
    const int64_t i64[] = { INT64_MIN, 5 };
    const float f32[] = { 1.0f, -2.5f };
    const double f64[] = { 1.0, 0.5 };
    const void *data[] = { nullptr, i8, i16, i32, i64, f32, f64 };
    const size_t counts[] = { 0, 3, 2, 2, 2, 2, 2 };
    const Case cases[] = {
        { GJ_VECTOR_INT8, "B2 56 CC 01 C8 CC 03 01 FF 7F" },
        { GJ_VECTOR_INT16, "B2 56 CC 01 C9 CC 04 00 01 FF FE" },
        { GJ_VECTOR_INT32, "B2 56 CC 01 CA CC 08 00 00 00 01 FF FF FF FF" },
        { GJ_VECTOR_INT64, "B2 56 CC 01 CB CC 10 80 00 00 00 00 00 00 00 00 00 00 00 00 00 00 05" },
        { GJ_VECTOR_FLOAT32, "B2 56 CC 01 C6 CC 08 3F 80 00 00 C0 20 00 00" },
        { GJ_VECTOR_FLOAT64, "B2 56 CC 01 C1 CC 10 3F F0 00 00 00 00 00 00 3F E0 00 00 00 00 00 00" },
    };
    for (const Case &c : cases) {
        SCOPED_TRACE(gj_vector_type_name(c.t));
        gj_value *v = nullptr;
        ASSERT_EQ(0, gj_value_new_vector(&v, c.t, data[c.t], counts[c.t]));
        V hold(v);
        ASSERT_TRUE(gj_value_is_vector(v));
        EXPECT_EQ(GJ_TTAGGED, gj_value_type(v));
        ExpectBytes(v, c.hex, Cfg6());
        // Read back element by element and as a C array.
        gj_vector_type t;
        size_t n = 0, len = 0;
        const uint8_t *bytes = nullptr;
        ASSERT_EQ(0, gj_value_vector_get(v, &t, &n, &bytes, &len));
        EXPECT_EQ(c.t, t);
        EXPECT_EQ(counts[c.t], n);
        EXPECT_EQ(n * gj_vector_type_size(t), len);
        double d = 0;
        EXPECT_EQ(0, gj_value_vector_float_at(v, 1, &d));
        int64_t iv = 0;
        if (t == GJ_VECTOR_FLOAT32 || t == GJ_VECTOR_FLOAT64) {
            EXPECT_EQ(t == GJ_VECTOR_FLOAT32 ? -2.5 : 0.5, d);
            EXPECT_EQ(GJ_ETYPE, gj_value_vector_int_at(v, 0, &iv));
        } else {
            EXPECT_EQ(0, gj_value_vector_int_at(v, 1, &iv));
            EXPECT_EQ(t == GJ_VECTOR_INT8 ? -1 : t == GJ_VECTOR_INT16 ? -2 : t == GJ_VECTOR_INT32 ? -1 : 5, iv);
            EXPECT_EQ((double)iv, d);
        }
        EXPECT_EQ(GJ_EINVAL, gj_value_vector_float_at(v, n, &d));
        uint8_t copy[64];
        size_t got = 0;
        ASSERT_EQ(0, gj_value_vector_copy(v, copy, n, &got));
        EXPECT_EQ(n, got);
        EXPECT_EQ(0, memcmp(copy, data[c.t], n * gj_vector_type_size(t)));
        EXPECT_EQ(GJ_ETOOBIG, gj_value_vector_copy(v, copy, n - 1, &got));
        gj_value *list = nullptr;
        ASSERT_EQ(0, gj_value_vector_to_list(v, &list));
        V lhold(list);
        ASSERT_EQ(n, gj_value_size(list));
        if (t == GJ_VECTOR_FLOAT32 || t == GJ_VECTOR_FLOAT64) {
            EXPECT_EQ(t == GJ_VECTOR_FLOAT32 ? 32u : 64u, gj_value_float_bits(gj_value_list_at(list, 0)));
        } else {
            EXPECT_EQ(8 * gj_vector_type_size(t), gj_value_int_bits(gj_value_list_at(list, 0)));
            int64_t first = 0;
            gj_value_int_get(gj_value_list_at(list, 0), &first);
            EXPECT_EQ(t == GJ_VECTOR_INT64 ? INT64_MIN : 1, first);
        }
        // Before Bolt 6.0 it cannot be sent, and the structure is not one.
        int rc;
        std::string msg;
        Enc(v, Cfg5(), &rc, &msg);
        EXPECT_EQ(GJ_EINVAL, rc);
        EXPECT_NE(std::string::npos, msg.find("Bolt 6.0")) << msg;
        ExpectProtocolError(H(c.hex), Cfg5(), "Vector");
    }
    // Its JSON text: the tag and the base64 of the bytes.
    gj_value *v = nullptr;
    ASSERT_EQ(0, gj_value_new_vector(&v, GJ_VECTOR_INT8, i8, 3));
    char *json = nullptr;
    ASSERT_EQ(0, gj_value_to_json(v, 0, &json, nullptr));
    EXPECT_STREQ("{\"@type\":\"vector:INT8\",\"@value\":\"Af9/\"}", json);
    gj_free(json);
    gj_value_unref(v);
}

TEST(PackStream, VectorChecks)
{
    gj_ps_config cfg = Cfg6();
    ExpectProtocolError(H("B2 56 CC 01 C7 CC 00"), cfg, "type_marker");        // no such type
    ExpectProtocolError(H("B2 56 CC 02 C8 C8 CC 00"), cfg, "type_marker");     // two bytes
    ExpectProtocolError(H("B2 56 CC 01 C9 CC 03 00 01 02"), cfg, "whole number"); // 1.5 INT16
    ExpectProtocolError(H("B2 56 81 C8 CC 00"), cfg, "Bytes");                 // a string
    ExpectProtocolError(H("B1 56 CC 01 C8"), cfg, "fields");                   // one field
    ExpectProtocolError(H("B2 56 CC 01 C8 CC 05 01"), cfg, "truncated");       // data cut
    // An empty vector is a vector.
    Decoded d = Dec(H("B2 56 CC 01 C1 CC 00"), cfg);
    ASSERT_EQ(0, d.rc) << d.msg;
    size_t n = 9;
    EXPECT_EQ(0, gj_value_vector_get(d.v.get(), nullptr, &n, nullptr, nullptr));
    EXPECT_EQ(0u, n);
    // Public constructors refuse what does not fit.
    gj_value *v = nullptr;
    const uint8_t three[3] = { 1, 2, 3 };
    EXPECT_EQ(GJ_EINVAL, gj_value_new_vector_bytes(&v, GJ_VECTOR_INT16, three, 3));
    EXPECT_EQ(GJ_EINVAL, gj_value_new_vector(&v, (gj_vector_type)9, three, 1));
    EXPECT_EQ(nullptr, gj_vector_type_name((gj_vector_type)0));
    EXPECT_STREQ("FLOAT32", gj_vector_type_name(GJ_VECTOR_FLOAT32));
    // A tagged value named like a vector whose bytes do not fit is not one.
    gj_value *bytes = nullptr;
    ASSERT_EQ(0, gj_value_new_bytes(&bytes, three, 3));
    ASSERT_EQ(0, gj_value_new_tagged(&v, "vector:INT32", bytes));
    EXPECT_FALSE(gj_value_is_vector(v));
    EXPECT_EQ(GJ_ETYPE, gj_value_vector_get(v, nullptr, nullptr, nullptr, nullptr));
    int rc;
    Enc(v, cfg, &rc);
    EXPECT_EQ(GJ_EINVAL, rc);
    gj_value_unref(v);
    EXPECT_FALSE(gj_value_is_vector(gj_value_int(1)));
}

// UnsupportedType (6.0): a value the server cannot send in this version.
TEST(PackStream, UnsupportedTypeBolt6)
{
    // UnsupportedType("UUID", 6, 1, {message: "needs 6.1"})
    Bytes b = Cat(Cat(H("B4 3F 84"), Str("UUID")), Cat(H("06 01 A1 87"), Cat(Str("message"), Cat(H("89"), Str("needs 6.1")))));
    Decoded d = Dec(b, Cfg6());
    ASSERT_EQ(0, d.rc) << d.msg;
    const char *tag = nullptr;
    const gj_value *inner = nullptr;
    ASSERT_EQ(0, gj_value_tagged_get(d.v.get(), &tag, &inner));
    EXPECT_STREQ(GJ_PS_UNSUPPORTED_TAG, tag);
    EXPECT_EQ("UUID", StrOf(gj_value_map_get(inner, "name")));
    EXPECT_EQ("6.1", StrOf(gj_value_map_get(inner, "minimum_protocol_version")));
    EXPECT_EQ("needs 6.1", StrOf(gj_value_map_get(inner, "message")));
    int rc;
    std::string msg;
    Enc(d.v.get(), Cfg6(), &rc, &msg);
    EXPECT_EQ(GJ_EINVAL, rc);
    EXPECT_NE(std::string::npos, msg.find("UnsupportedType")) << msg;
    // A server (the reference server) sends it as it came.
    EXPECT_EQ(Hex(b), Hex(Enc(d.v.get(), Server(Cfg6()))));
    ExpectProtocolError(Cat(Cat(H("B4 3F 84"), Str("UUID")), H("C9 01 00 01 A0")), Cfg6(), "minimum_protocol_major");
    // Without a message; and not a structure before 6.0.
    Bytes b2 = Cat(Cat(H("B4 3F 84"), Str("UUID")), H("06 01 A0"));
    d = Dec(b2, Cfg6());
    ASSERT_EQ(0, d.rc) << d.msg;
    ASSERT_EQ(0, gj_value_tagged_get(d.v.get(), &tag, &inner));
    EXPECT_EQ(nullptr, gj_value_map_get(inner, "message"));
    ExpectProtocolError(b2, Cfg5(), "UnsupportedType");
    ExpectProtocolError(H("B4 3F 01 06 01 A0"), Cfg6(), "name");
}

/* ---- zone ids with a resolver -------------------------------------------------- */

// A resolver that knows one zone: "Test/Plus1" is always +01:00.
int FixedZone(void *arg, const char *zone, int64_t seconds, bool local, int32_t *offset)
{
    (void)arg;
    (void)seconds;
    (void)local;
    if (strcmp(zone, "Test/Plus1") != 0)
        return -1;
    *offset = 3600;
    return 0;
}

// 69 (UTC seconds) and 66 (4.4 legacy, wall-clock seconds) of the same
// instant decode to the same value when the zone is known; unknown zones
// keep what the wire said.
TEST(PackStream, ZoneIdDatetimeWithResolver)
{
    gj_ps_config c5 = Cfg5(), c44 = Cfg44(false);
    c5.zone_offset = c44.zone_offset = FixedZone;
    // 7200 s UTC = 03:00 at +01:00 (local seconds 10800).
    Bytes utc = Cat(H("B3 69 C9 1C 20 00 8A"), Str("Test/Plus1"));
    Bytes legacy = Cat(H("B3 66 C9 2A 30 00 8A"), Str("Test/Plus1"));
    Decoded a = Dec(utc, c5), b = Dec(legacy, c44);
    ASSERT_EQ(0, a.rc) << a.msg;
    ASSERT_EQ(0, b.rc) << b.msg;
    EXPECT_TRUE(gj_value_equal(a.v.get(), b.v.get()));
    int64_t secs;
    int32_t off;
    unsigned flags;
    ASSERT_EQ(0, gj_value_datetime_get(b.v.get(), &secs, nullptr, &off, nullptr, &flags));
    EXPECT_EQ(7200, secs);
    EXPECT_EQ(3600, off);
    EXPECT_EQ((unsigned)GJ_DATETIME_HAS_OFFSET, flags);
    char *json = nullptr;
    ASSERT_EQ(0, gj_value_to_json(a.v.get(), 0, &json, nullptr));
    EXPECT_STREQ("\"1970-01-01T03:00:00+01:00[Test/Plus1]\"", json);
    gj_free(json);
    // Encoded back: each version's form.
    EXPECT_EQ(Hex(utc), Hex(Enc(a.v.get(), c5)));
    EXPECT_EQ(Hex(legacy), Hex(Enc(a.v.get(), c44)));
    // A zone-only value (no offset) can be sent in the legacy form now.
    gj_value *z = nullptr;
    ASSERT_EQ(0, gj_value_new_datetime(&z, 7200, 0, 0, "Test/Plus1", 0));
    V zh(z);
    EXPECT_EQ(Hex(legacy), Hex(Enc(z, c44)));
    // An unknown zone: as before (UTC + zone; local seconds on 4.4).
    Bytes other = Cat(H("B3 66 C9 2A 30 00 89"), Str("Test/None"));
    Decoded d = Dec(other, c44);
    ASSERT_EQ(0, d.rc) << d.msg;
    ASSERT_EQ(0, gj_value_datetime_get(d.v.get(), &secs, nullptr, &off, nullptr, &flags));
    EXPECT_EQ(10800, secs);
    EXPECT_EQ((unsigned)GJ_DATETIME_LOCAL_SECONDS, flags);
}

// The Bolt backend's resolver on the system's database: offsets, the POSIX
// rule after the last transition, DST gaps and overlaps as java.time
// resolves them (the earlier offset).
TEST(PackStream, SystemTimeZoneDatabase)
{
    const char *dir = getenv("TZDIR") ? getenv("TZDIR") : "/usr/share/zoneinfo";
    if (access((std::string(dir) + "/Europe/Paris").c_str(), R_OK) != 0)
        GTEST_SKIP() << "no time-zone database at " << dir;
    gj_target_settings ts;
    memset(&ts, 0, sizeof ts);
    void *t = nullptr;
    ASSERT_EQ(0, gj__bolt_target_open(&t, &ts, nullptr, nullptr));
    int32_t off = 0;
    // Paris: winter +1, summer +2, in the past and far ahead (the rule).
    EXPECT_EQ(0, gj__bolt_zone_offset(t, "Europe/Paris", 1709208855, false, &off));   // 2024-02-29
    EXPECT_EQ(3600, off);
    EXPECT_EQ(0, gj__bolt_zone_offset(t, "Europe/Paris", 1719828000, false, &off));   // 2024-07-01
    EXPECT_EQ(7200, off);
    EXPECT_EQ(0, gj__bolt_zone_offset(t, "Europe/Paris", INT64_C(4102444800) + 182 * 86400, false, &off));  // 2100-07
    EXPECT_EQ(7200, off);
    EXPECT_EQ(0, gj__bolt_zone_offset(t, "Europe/Paris", INT64_C(4102444800), false, &off));  // 2100-01-01
    EXPECT_EQ(3600, off);
    // Southern hemisphere: Sydney is +11 in January, +10 in July.
    EXPECT_EQ(0, gj__bolt_zone_offset(t, "Australia/Sydney", 1704110400, false, &off));   // 2024-01-01T12Z
    EXPECT_EQ(39600, off);
    EXPECT_EQ(0, gj__bolt_zone_offset(t, "Australia/Sydney", 1719835200, false, &off));   // 2024-07-01T12Z
    EXPECT_EQ(36000, off);
    // Wall clock: 2024-03-31 02:30 in Paris does not exist (gap): the
    // offset before it (+1); 2024-10-27 02:30 happens twice (overlap): the
    // earlier instant (+2).
    const int64_t gap_local = 1711852200, overlap_local = 1729996200;   // as if UTC
    EXPECT_EQ(0, gj__bolt_zone_offset(t, "Europe/Paris", gap_local, true, &off));
    EXPECT_EQ(3600, off);
    EXPECT_EQ(0, gj__bolt_zone_offset(t, "Europe/Paris", overlap_local, true, &off));
    EXPECT_EQ(7200, off);
    EXPECT_EQ(0, gj__bolt_zone_offset(t, "Europe/Paris", 1709212455, true, &off));   // 13:14:15 local
    EXPECT_EQ(3600, off);
    EXPECT_EQ(0, gj__bolt_zone_offset(t, "UTC", 0, false, &off));
    EXPECT_EQ(0, off);
    // Unknown or hostile names: unknown, and nothing outside the database is read.
    EXPECT_EQ(-1, gj__bolt_zone_offset(t, "Mars/Olympus_Mons", 0, false, &off));
    EXPECT_EQ(-1, gj__bolt_zone_offset(t, "../../etc/passwd", 0, false, &off));
    EXPECT_EQ(-1, gj__bolt_zone_offset(t, "/etc/localtime", 0, false, &off));
    EXPECT_EQ(-1, gj__bolt_zone_offset(t, "", 0, false, &off));
    gj__bolt_target_close(t);
}

TEST(PackStream, UuidIsSentAsText)
{
    gj_value *u;
    ASSERT_EQ(0, gj_value_new_uuid_text(&u, "550e8400-e29b-41d4-a716-446655440000"));
    V v(u);
    Bytes b = Enc(v.get(), Cfg5());
    EXPECT_EQ(Hex(Cat(H("D0 24"), Str("550e8400-e29b-41d4-a716-446655440000"))), Hex(b));
}

/* ---- hostile input -------------------------------------------------------------------- */

TEST(PackStream, ReservedMarkers)
{
    for (int m : {0xC4, 0xC5, 0xC6, 0xC7, 0xCF, 0xD3, 0xD7, 0xDB, 0xDC, 0xDD, 0xDE, 0xDF, 0xE0, 0xE8, 0xEF}) {
        Bytes b{(uint8_t)m, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
        char want[64];
        snprintf(want, sizeof want, "reserved marker 0x%02X at byte 0", m);
        Decoded d = Dec(b, Cfg5());
        EXPECT_EQ(GJ_EPROTOCOL, d.rc);
        EXPECT_NE(std::string::npos, d.msg.find(want)) << d.msg;
    }
}

TEST(PackStream, LyingSizesDoNotAllocate)
{
    // Declared sizes far above what follows: refused before any allocation.
    ExpectProtocolError(H("D6 7F FF FF FF 01 02"), Cfg5(), "list at byte 0 is truncated");
    ExpectProtocolError(H("DA 7F FF FF FF 81 61 01"), Cfg5(), "dictionary at byte 0 is truncated");
    ExpectProtocolError(H("D2 7F FF FF FF 41"), Cfg5(), "string at byte 0 is truncated");
    ExpectProtocolError(H("CE 7F FF FF FF 41"), Cfg5(), "byte array at byte 0 is truncated");
    ExpectProtocolError(H("D6 80 00 00 00"), Cfg5(), "above the limit 2147483647");
    ExpectProtocolError(H("DA FF FF FF FF"), Cfg5(), "above the limit");
    ExpectProtocolError(H("D5 FF FF 01"), Cfg5(), "list at byte 0 is truncated");
    ExpectProtocolError(H("BF 4E 01"), Cfg5(), "structure at byte 0 is truncated");
    // A dictionary needs two bytes per entry.
    ExpectProtocolError(H("A2 81 61 01"), Cfg5(), "dictionary at byte 0 is truncated");
}

TEST(PackStream, DepthLimit)
{
    for (unsigned depth : {63u, 64u, 65u, 100000u}) {
        SCOPED_TRACE(depth);
        Bytes b(depth, 0x91);
        b.push_back(0x01);
        Decoded d = Dec(b, Cfg5());
        if (depth <= 64) {
            EXPECT_EQ(0, d.rc) << d.msg;
        } else {
            EXPECT_EQ(GJ_EPROTOCOL, d.rc);
            EXPECT_NE(std::string::npos, d.msg.find("nests deeper than 64 levels")) << d.msg;
        }
    }
    // Maps and structures count too.
    Bytes maps;
    for (int i = 0; i < 70; i++) {
        maps.push_back(0xA1);
        maps.push_back(0x81);
        maps.push_back('k');
    }
    maps.push_back(0x01);
    ExpectProtocolError(maps, Cfg5(), "deeper than 64");
    Bytes paths;
    for (int i = 0; i < 70; i++) {
        paths.push_back(0xB3);
        paths.push_back(0x50);
        paths.push_back(0x91);
    }
    ExpectProtocolError(paths, Cfg5(), "deeper than 64");
    // Configurable.
    gj_ps_config cfg = Cfg5();
    cfg.max_depth = 8;
    Bytes nine(9, 0x91);
    nine.push_back(0x01);
    ExpectProtocolError(nine, cfg, "deeper than 8");
    cfg.max_depth = 200;
    Bytes deep(150, 0x91);
    deep.push_back(0x01);
    Decoded ok = Dec(deep, cfg);
    EXPECT_EQ(0, ok.rc) << ok.msg;
    // The encoder has the same bound.
    V inner = Int(1);
    for (int i = 0; i < 70; i++) {
        std::vector<V> one;
        one.push_back(std::move(inner));
        inner = List(std::move(one));
    }
    int rc;
    std::string msg;
    Enc(inner.get(), Cfg5(), &rc, &msg);
    EXPECT_EQ(GJ_EINVAL, rc);
    EXPECT_NE(std::string::npos, msg.find("deeper than 64")) << msg;
}

Bytes RichValue()
{
    std::string hex = std::string("AB") +
                      "81 61 " + kNode5 +
                      " 81 62 " + kRel5 +
                      " 81 63 B3 50 93 " + NodeHex(1) + " " + NodeHex(2) + " " + NodeHex(3) + " 92 " + URelHex(4) +
                      " " + URelHex(5) + " 96 01 01 01 00 FE 02" +
                      " 81 64 B3 69 C9 11 94 2A 8C 45 75 72 6F 70 65 2F 50 61 72 69 73" +
                      " 81 65 B4 45 0E 1F C9 0E 10 2A" +
                      " 81 66 B3 58 C9 1E E6 C1 3F F0 00 00 00 00 00 00 C1 40 00 00 00 00 00 00 00" +
                      " 81 67 94 C0 C3 C2 CB 7F FF FF FF FF FF FF FF" +
                      " 81 68 CC 03 01 02 03" +
                      " 81 69 D0 12 47 72 C3 B6 C3 9F 65 6E 6D 61 C3 9F 73 74 C3 A4 62 65" +
                      " 81 6A B2 54 CB 00 00 0B B8 7F D8 1F 80 C9 0E 10" +
                      " 81 6B B3 49 C9 11 94 2A C9 0E 10";
    return H(hex);
}

TEST(PackStream, RichValueRoundTrip)
{
    Bytes b = RichValue();
    Decoded d = Dec(b, Cfg5());
    ASSERT_EQ(0, d.rc) << d.msg;
    EXPECT_EQ(11u, gj_value_size(d.v.get()));
    EXPECT_EQ(Hex(b), Hex(Enc(d.v.get(), Server(Cfg5()))));
}

TEST(PackStream, TruncatedAtEveryOffset)
{
    Bytes b = RichValue();
    for (size_t cut = 0; cut < b.size(); cut++) {
        Decoded d = Dec(Bytes(b.begin(), b.begin() + (long)cut), Cfg5());
        EXPECT_EQ(GJ_EPROTOCOL, d.rc) << "cut at " << cut;
        EXPECT_NE(std::string::npos, d.msg.find("truncated")) << "cut at " << cut << ": " << d.msg;
    }
}

TEST(PackStream, TrailingBytesAreAnError)
{
    ExpectProtocolError(H("01 02"), Cfg5(), "1 unexpected bytes after a PackStream value at byte 1");
}

TEST(PackStream, EveryByteFlipNeverCrashes)
{
    // Mutate each byte of a rich value to a few values; decoding either works
    // (and then re-encodes) or fails with a protocol error.
    Bytes b = RichValue();
    gj_ps_config cfg = Server(Cfg5());
    for (size_t i = 0; i < b.size(); i++) {
        for (uint8_t x : {0x00, 0x7F, 0x80, 0x91, 0xB3, 0xC1, 0xD6, 0xFF}) {
            Bytes m = b;
            m[i] = x;
            Decoded d = Dec(m, cfg);
            if (d.rc == 0) {
                int rc;
                Enc(d.v.get(), cfg, &rc);
                EXPECT_EQ(0, rc);
            } else {
                EXPECT_TRUE(d.rc == GJ_EPROTOCOL) << d.rc << " " << d.msg;
            }
        }
    }
}

/* ---- encoder buffer limits --------------------------------------------------------------- */

TEST(PackStream, EncoderRespectsMaxSize)
{
    V v = S(std::string(100, 'x'));
    gj_ps_buf b;
    gj__ps_buf_init(&b, 101);
    E err(gj_error_new());
    EXPECT_EQ(GJ_ETOOBIG, gj__ps_encode(&b, v.get(), nullptr, err.get()));
    EXPECT_NE(std::string::npos, std::string(gj_error_message(err.get())).find("max_message_size (101)"))
        << gj_error_message(err.get());
    gj__ps_buf_free(&b);
    gj__ps_buf_init(&b, 102);
    EXPECT_EQ(0, gj__ps_encode(&b, v.get(), nullptr, err.get()));
    EXPECT_EQ(102u, b.len);
    // Sticky: a failed write keeps failing until reset.
    EXPECT_EQ(GJ_ETOOBIG, gj__ps_put_int(&b, 1));
    EXPECT_EQ(GJ_ETOOBIG, gj__ps_put_null(&b));
    gj__ps_buf_reset(&b);
    EXPECT_EQ(0, gj__ps_put_null(&b));
    EXPECT_EQ(GJ_EINVAL, gj__ps_put_struct_header(&b, 16, 0x01));
    EXPECT_EQ(GJ_EINVAL, gj__ps_buf_check(&b, nullptr));
    gj__ps_buf_free(&b);
}

TEST(PackStream, RandomRoundTrips)
{
    std::mt19937_64 rng(20240611);
    std::function<V(int)> gen = [&](int depth) -> V {
        int kind = (int)(rng() % (depth > 3 ? 12 : 15));
        gj_value *v = nullptr;
        switch (kind) {
        case 0: return V(gj_value_null());
        case 1: return V(gj_value_bool(rng() & 1));
        case 2: {
            int64_t x = (int64_t)(rng() >> (1 + rng() % 63));
            return Int((rng() & 1) ? x : -x - 1);
        }
        case 3: return V(gj_value_float((double)(int64_t)rng() / 7.0));
        case 4: {
            std::string s;
            size_t n = rng() % 40;
            for (size_t i = 0; i < n; i++)
                s += (char)('a' + rng() % 26);
            if (rng() % 4 == 0)
                s += "\xC3\xA9\xF0\x9F\x98\x80";
            return S(s);
        }
        case 5: {
            Bytes b(rng() % 300);
            for (auto &x : b)
                x = (uint8_t)rng();
            EXPECT_EQ(0, gj_value_new_bytes(&v, b.data(), b.size()));
            return V(v);
        }
        case 6: EXPECT_EQ(0, gj_value_new_date(&v, (int64_t)(rng() % 2000000) - 1000000)); return V(v);
        case 7: EXPECT_EQ(0, gj_value_new_local_time(&v, (int64_t)(rng() % INT64_C(86400000000000)))); return V(v);
        case 8:
            EXPECT_EQ(0, gj_value_new_datetime(&v, (int64_t)(rng() % 4000000000ULL), (int32_t)(rng() % 1000000000),
                                               (int32_t)(rng() % 64800) - 32400, nullptr, GJ_DATETIME_HAS_OFFSET));
            return V(v);
        case 9:
            EXPECT_EQ(0, gj_value_new_duration(&v, (int64_t)(rng() % 100), (int64_t)(rng() % 100),
                                               (int64_t)(rng() % 100000), (int32_t)(rng() % 1000000000)));
            return V(v);
        case 10:
            EXPECT_EQ(0, gj_value_new_point(&v, 4326, 2 + (unsigned)(rng() & 1), 1.5, -2.25, 3.0));
            return V(v);
        case 11:
            EXPECT_EQ(0, gj_value_new_local_datetime(&v, (int64_t)(rng() % 4000000000ULL),
                                                     (int32_t)(rng() % 1000000000)));
            return V(v);
        case 12:
        case 13: {
            size_t n = rng() % 20;
            std::vector<V> items;
            for (size_t i = 0; i < n; i++)
                items.push_back(gen(depth + 1));
            return List(std::move(items));
        }
        default: {
            size_t n = rng() % 20;
            EXPECT_EQ(0, gj_value_new_map(&v, n));
            for (size_t i = 0; i < n; i++)
                EXPECT_EQ(0, gj_value_map_put_str(v, KeyName(i).c_str(), gen(depth + 1).release()));
            return V(v);
        }
        }
    };
    for (int i = 0; i < 300; i++) {
        V v = gen(0);
        for (gj_ps_config cfg : {Cfg5(), Cfg44(), Cfg44(true)}) {
            int rc;
            std::string msg;
            Bytes b = Enc(v.get(), cfg, &rc, &msg);
            ASSERT_EQ(0, rc) << msg;
            Decoded d = Dec(b, cfg);
            ASSERT_EQ(0, d.rc) << d.msg;
            ASSERT_TRUE(gj_value_equal(v.get(), d.v.get())) << Hex(b);
            EXPECT_EQ(Hex(b), Hex(Enc(d.v.get(), cfg)));
        }
    }
}

}  // namespace
