// Bolt messages (definitions per version, writers) and the handshake
// helpers, with byte vectors from neo4j/docs-bolt (message.adoc,
// handshake.adoc) and from what neo4j-driver 6.3 sends.
#include <gtest/gtest.h>

#include <string>
#include <vector>

extern "C" {
#include "codec/bolt_handshake.h"
#include "codec/bolt_msg.h"
}

namespace {

using Bytes = std::vector<uint8_t>;

Bytes H(const std::string &hex)
{
    Bytes out;
    int hi = -1;
    for (char c : hex) {
        int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10
              : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
        if (d < 0)
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

std::string Hex(const uint8_t *p, size_t n)
{
    static const char *digits = "0123456789ABCDEF";
    std::string s;
    for (size_t i = 0; i < n; i++) {
        if (i)
            s += ' ';
        s += digits[p[i] >> 4];
        s += digits[p[i] & 15];
    }
    return s;
}


gj_ps_config Cfg(unsigned major, unsigned minor)
{
    gj_ps_config c{};
    c.bolt_major = major;
    c.bolt_minor = minor;
    return c;
}

struct Buf {
    gj_ps_buf b;
    Buf() { gj__ps_buf_init(&b, 0); }
    ~Buf() { gj__ps_buf_free(&b); }
    std::string hex() const { return Hex(b.data, b.len); }
};

struct Err {
    gj_error *e = gj_error_new();
    ~Err() { gj_error_free(e); }
    std::string msg() const { return gj_error_message(e); }
};

// Decode a message given as unframed hex.
int Decode(const std::string &hex, const gj_ps_config &cfg, gj_bolt_dir dir, gj_bolt_msg *m, std::string *msg)
{
    Bytes b = H(hex);
    Err err;
    int rc = gj__bolt_msg_decode(m, b.data(), b.size(), &cfg, dir, err.e);
    if (msg)
        *msg = err.msg();
    return rc;
}

/* ---- writers: exact bytes ------------------------------------------------------------- */

TEST(BoltMsg, EmptyMessages)
{
    Buf b;
    Err err;
    ASSERT_EQ(0, gj__bolt_write_empty(&b.b, GJ_BOLT_RESET, err.e));
    ASSERT_EQ(0, gj__bolt_write_empty(&b.b, GJ_BOLT_GOODBYE, err.e));
    ASSERT_EQ(0, gj__bolt_write_empty(&b.b, GJ_BOLT_COMMIT, err.e));
    EXPECT_EQ("00 02 B0 0F 00 00 00 02 B0 02 00 00 00 02 B0 12 00 00", b.hex());
}

TEST(BoltMsg, PullAndDiscard)
{
    Buf b;
    Err err;
    ASSERT_EQ(0, gj__bolt_write_pull(&b.b, GJ_BOLT_PULL, 1000, GJ_BOLT_ALL, err.e));
    EXPECT_EQ("00 08 B1 3F A1 81 6E C9 03 E8 00 00", b.hex());   // PULL {"n": 1000}
    gj__ps_buf_reset(&b.b);
    ASSERT_EQ(0, gj__bolt_write_pull(&b.b, GJ_BOLT_DISCARD, GJ_BOLT_ALL, 7, err.e));
    EXPECT_EQ("00 0B B1 2F A2 81 6E FF 83 71 69 64 07 00 00", b.hex());   // DISCARD {n: -1, qid: 7}
}

TEST(BoltMsg, RunWithParamsAndExtra)
{
    Buf b;
    Err err;
    gj_value *params, *extra;
    ASSERT_EQ(0, gj_value_new_map(&params, 1));
    ASSERT_EQ(0, gj_value_map_put_str(params, "x", gj_value_int(1)));
    ASSERT_EQ(0, gj_value_new_map(&extra, 1));
    ASSERT_EQ(0, gj_value_map_put_str(extra, "mode", gj_value_string("r")));
    gj_ps_config cfg = Cfg(5, 4);
    const char *q = "RETURN $x AS x";
    ASSERT_EQ(0, gj__bolt_write_run(&b.b, &cfg, q, strlen(q), params, extra, err.e));
    // RUN "RETURN $x AS x" {"x": 1} {"mode": "r"}
    EXPECT_EQ("00 1D B3 10 8E 52 45 54 55 52 4E 20 24 78 20 41 53 20 78 A1 81 78 01 A1 84 6D 6F 64 65 81 72 00 00",
              b.hex());
    gj__ps_buf_reset(&b.b);
    ASSERT_EQ(0, gj__bolt_write_run(&b.b, &cfg, "RETURN 1", 8, nullptr, nullptr, err.e));
    EXPECT_EQ("00 0D B3 10 88 52 45 54 55 52 4E 20 31 A0 A0 00 00", b.hex());
    // A node is not a parameter: nothing is written.
    gj_value *node;
    ASSERT_EQ(0, gj_value_new_node(&node, gj_value_int(1), nullptr, nullptr));
    gj_value *bad;
    ASSERT_EQ(0, gj_value_new_map(&bad, 1));
    ASSERT_EQ(0, gj_value_map_put_str(bad, "n", node));
    gj__ps_buf_reset(&b.b);
    EXPECT_EQ(GJ_EINVAL, gj__bolt_write_run(&b.b, &cfg, "RETURN $n", 9, bad, nullptr, err.e));
    EXPECT_EQ(0u, b.b.len);
    EXPECT_EQ(0, b.b.error);
    EXPECT_NE(std::string::npos, err.msg().find("query parameter")) << err.msg();
    EXPECT_EQ(GJ_EINVAL, gj__bolt_write_run(&b.b, &cfg, "\xff", 1, nullptr, nullptr, err.e));
    gj_value_unref(bad);
    gj_value_unref(params);
    gj_value_unref(extra);
}

TEST(BoltMsg, HelloLogonSuccessRecord)
{
    Buf b;
    Err err;
    gj_ps_config cfg = Cfg(5, 1);
    gj_value *auth;
    ASSERT_EQ(0, gj_value_new_map(&auth, 1));
    ASSERT_EQ(0, gj_value_map_put_str(auth, "scheme", gj_value_string("none")));
    ASSERT_EQ(0, gj__bolt_write_map(&b.b, &cfg, GJ_BOLT_LOGON, auth, err.e));
    EXPECT_EQ("00 0F B1 6A A1 86 73 63 68 65 6D 65 84 6E 6F 6E 65 00 00", b.hex());
    gj__ps_buf_reset(&b.b);
    ASSERT_EQ(0, gj__bolt_write_map(&b.b, &cfg, GJ_BOLT_SUCCESS, nullptr, err.e));
    EXPECT_EQ("00 03 B1 70 A0 00 00", b.hex());
    gj__ps_buf_reset(&b.b);
    const gj_value *vals[] = {gj_value_null(), auth};
    ASSERT_EQ(0, gj__bolt_write_record(&b.b, &cfg, vals, 2, err.e));
    EXPECT_EQ("00 11 B1 71 92 C0 A1 86 73 63 68 65 6D 65 84 6E 6F 6E 65 00 00", b.hex());
    gj_value_unref(auth);
    gj__ps_buf_reset(&b.b);
    EXPECT_EQ(GJ_EINVAL, gj__bolt_write_map(&b.b, &cfg, GJ_BOLT_HELLO, gj_value_null(), err.e));
    EXPECT_EQ(0u, b.b.len);
}

TEST(BoltMsg, RouteAndTelemetry)
{
    Buf b;
    Err err;
    gj_ps_config cfg = Cfg(4, 4);
    ASSERT_EQ(0, gj__bolt_write_route(&b.b, &cfg, nullptr, nullptr, nullptr, err.e));
    EXPECT_EQ("00 05 B3 66 A0 90 C0 00 00", b.hex());   // ROUTE {} [] null
    gj__ps_buf_reset(&b.b);
    ASSERT_EQ(0, gj__bolt_write_telemetry(&b.b, 2, err.e));
    EXPECT_EQ("00 03 B1 54 02 00 00", b.hex());
}

TEST(BoltMsg, FailureFormsPerVersion)
{
    Buf b;
    Err err;
    gj_ps_config c56 = Cfg(5, 6);
    ASSERT_EQ(0, gj__bolt_write_failure(&b.b, &c56, "Neo.ClientError.Statement.SyntaxError", "bad", nullptr, err.e));
    gj_bolt_msg m;
    const uint8_t *msg = b.b.data + 2;
    size_t len = b.b.len - 4;
    ASSERT_EQ(0, gj__bolt_msg_decode(&m, msg, len, &c56, GJ_BOLT_RESPONSE, err.e)) << err.msg();
    EXPECT_EQ(GJ_BOLT_FAILURE, m.tag);
    EXPECT_EQ(2u, gj_value_size(m.fields[0]));
    EXPECT_NE(nullptr, gj_value_map_get(m.fields[0], "code"));
    EXPECT_EQ(GJ_ESERVER, gj__bolt_failure_to_error(m.fields[0], err.e));
    EXPECT_STREQ("Neo.ClientError.Statement.SyntaxError", gj_error_server_code(err.e));
    EXPECT_STREQ("bolt", gj_error_backend(err.e));
    EXPECT_NE(std::string::npos, err.msg().find("bad")) << err.msg();
    gj__bolt_msg_clear(&m);

    gj__ps_buf_reset(&b.b);
    gj_ps_config c57 = Cfg(5, 7);
    ASSERT_EQ(0, gj__bolt_write_failure(&b.b, &c57, "Neo.ClientError.Statement.SyntaxError", "bad", "42001", err.e));
    ASSERT_EQ(0, gj__bolt_msg_decode(&m, b.b.data + 2, b.b.len - 4, &c57, GJ_BOLT_RESPONSE, err.e)) << err.msg();
    const gj_value *meta = m.fields[0];
    EXPECT_NE(nullptr, gj_value_map_get(meta, "neo4j_code"));
    EXPECT_EQ(nullptr, gj_value_map_get(meta, "code"));
    EXPECT_EQ(GJ_ESERVER, gj__bolt_failure_to_error(meta, err.e));
    EXPECT_STREQ("Neo.ClientError.Statement.SyntaxError", gj_error_server_code(err.e));
    EXPECT_STREQ("42001", gj_error_gql_status(err.e));
    ASSERT_NE(nullptr, gj_error_extra(err.e));
    // extra: the FAILURE's metadata (description, diagnostic_record, cause).
    EXPECT_NE(nullptr, gj_value_map_get(gj_value_map_get(gj_error_extra(err.e), "diagnostic_record"),
                                        "CURRENT_SCHEMA"));
    EXPECT_NE(nullptr, gj_value_map_get(gj_error_extra(err.e), "description"));
    gj__bolt_msg_clear(&m);
}

// 5.7+: description and the cause chain (each cause with its GQL status)
// are kept, in the error's extra and in its message.
TEST(BoltMsg, FailureCauseChainIsKept)
{
    Buf b;
    Err err;
    gj_ps_config c = Cfg(6, 0);
    ASSERT_EQ(0, gj__bolt_write_failure_cause(&b.b, &c, "Neo.ClientError.Statement.SyntaxError", "Invalid input 'X'",
                                              "42001", "error: syntax error or access rule violation - invalid syntax",
                                              "42I06", "Invalid input 'X', expected: 'RETURN'", err.e));
    gj_bolt_msg m;
    ASSERT_EQ(0, gj__bolt_msg_decode(&m, b.b.data + 2, b.b.len - 4, &c, GJ_BOLT_RESPONSE, err.e)) << err.msg();
    EXPECT_EQ(GJ_ESERVER, gj__bolt_failure_to_error(m.fields[0], err.e));
    EXPECT_STREQ("42001", gj_error_gql_status(err.e));
    EXPECT_EQ("bolt [Neo.ClientError.Statement.SyntaxError, GQL 42001] Invalid input 'X' (caused by [GQL 42I06] "
              "Invalid input 'X', expected: 'RETURN')", err.msg());
    const gj_value *extra = gj_error_extra(err.e);
    ASSERT_NE(nullptr, extra);
    const char *s = nullptr;
    ASSERT_EQ(0, gj_value_string_get(gj_value_map_get(extra, "description"), &s, nullptr));
    EXPECT_STREQ("error: syntax error or access rule violation - invalid syntax", s);
    const gj_value *cause = gj_value_map_get(extra, "cause");
    ASSERT_NE(nullptr, cause);
    ASSERT_EQ(0, gj_value_string_get(gj_value_map_get(cause, "gql_status"), &s, nullptr));
    EXPECT_STREQ("42I06", s);
    EXPECT_NE(nullptr, gj_value_map_get(cause, "diagnostic_record"));
    gj__bolt_msg_clear(&m);

    // A chain of three, built by hand: every link is named in the message.
    gj_value *meta = nullptr, *c1 = nullptr, *c2 = nullptr;
    ASSERT_EQ(0, gj_value_new_map(&meta, 4));
    ASSERT_EQ(0, gj_value_new_map(&c1, 3));
    ASSERT_EQ(0, gj_value_new_map(&c2, 3));
    gj_value_map_put_str(c2, "gql_status", gj_value_string("22N27"));
    gj_value_map_put_str(c2, "description", gj_value_string("innermost"));
    gj_value_map_put_str(c1, "gql_status", gj_value_string("22G03"));
    gj_value_map_put_str(c1, "message", gj_value_string("middle"));
    gj_value_map_put_str(c1, "cause", c2);
    gj_value_map_put_str(meta, "neo4j_code", gj_value_string("Neo.ClientError.Statement.TypeError"));
    gj_value_map_put_str(meta, "message", gj_value_string("top"));
    gj_value_map_put_str(meta, "gql_status", gj_value_string("22000"));
    gj_value_map_put_str(meta, "cause", c1);
    EXPECT_EQ(GJ_ESERVER, gj__bolt_failure_to_error(meta, err.e));
    EXPECT_NE(std::string::npos, err.msg().find("top (caused by [GQL 22G03] middle; [GQL 22N27] innermost)"))
        << err.msg();
    gj_value_unref(meta);
}

TEST(BoltMsg, WriterRollsBackWhenTooBig)
{
    gj_ps_buf b;
    gj__ps_buf_init(&b, 20);
    Err err;
    ASSERT_EQ(0, gj__bolt_write_empty(&b, GJ_BOLT_RESET, err.e));
    size_t before = b.len;
    std::string big(40, 'x');
    EXPECT_EQ(GJ_ETOOBIG, gj__bolt_write_run(&b, nullptr, big.data(), big.size(), nullptr, nullptr, err.e));
    EXPECT_EQ(before, b.len);
    EXPECT_EQ(0, b.error);
    EXPECT_NE(std::string::npos, err.msg().find("max_message_size (20)")) << err.msg();
    EXPECT_EQ(0, gj__bolt_write_empty(&b, GJ_BOLT_GOODBYE, err.e));   // still usable
    gj__ps_buf_free(&b);
}

/* ---- decoding with checks ----------------------------------------------------------------- */

TEST(BoltMsg, DecodesRequests)
{
    gj_bolt_msg m;
    std::string msg;
    gj_ps_config c5 = Cfg(5, 4);
    ASSERT_EQ(0, Decode("B3 10 88 52 45 54 55 52 4E 20 31 A0 A0", c5, GJ_BOLT_REQUEST, &m, &msg)) << msg;
    EXPECT_EQ(GJ_BOLT_RUN, m.tag);
    EXPECT_EQ(3u, m.n_fields);
    EXPECT_EQ(GJ_TSTRING, gj_value_type(m.fields[0]));
    gj__bolt_msg_clear(&m);
    ASSERT_EQ(0, Decode("B1 3F A1 81 6E C9 03 E8", c5, GJ_BOLT_REQUEST, &m, &msg)) << msg;
    int64_t n = 0;
    EXPECT_EQ(0, gj__bolt_meta_int(m.fields[0], "n", &n));
    EXPECT_EQ(1000, n);
    EXPECT_EQ(GJ_ENOTFOUND, gj__bolt_meta_int(m.fields[0], "qid", &n));
    gj__bolt_msg_clear(&m);
    ASSERT_EQ(0, Decode("B0 0F", c5, GJ_BOLT_REQUEST, &m, &msg)) << msg;
    EXPECT_EQ(GJ_BOLT_RESET, m.tag);
    ASSERT_EQ(0, Decode("B3 66 A0 90 C0", Cfg(4, 4), GJ_BOLT_REQUEST, &m, &msg)) << msg;
    gj__bolt_msg_clear(&m);
    ASSERT_EQ(0, Decode("B1 54 01", c5, GJ_BOLT_REQUEST, &m, &msg)) << msg;
    gj__bolt_msg_clear(&m);
}

TEST(BoltMsg, RejectsWhatTheVersionDoesNotHave)
{
    gj_bolt_msg m;
    std::string msg;
    EXPECT_EQ(GJ_EPROTOCOL, Decode("B1 6A A0", Cfg(4, 4), GJ_BOLT_REQUEST, &m, &msg));
    EXPECT_NE(std::string::npos, msg.find("LOGON (0x6A) is not a Bolt 4.4 message (it needs 5.1)")) << msg;
    EXPECT_EQ(GJ_EPROTOCOL, Decode("B1 6A A0", Cfg(5, 0), GJ_BOLT_REQUEST, &m, &msg));
    EXPECT_EQ(0, Decode("B1 6A A0", Cfg(5, 1), GJ_BOLT_REQUEST, &m, &msg)) << msg;
    gj__bolt_msg_clear(&m);
    EXPECT_EQ(GJ_EPROTOCOL, Decode("B1 54 01", Cfg(5, 3), GJ_BOLT_REQUEST, &m, &msg));
    EXPECT_NE(std::string::npos, msg.find("TELEMETRY")) << msg;
}

TEST(BoltMsg, RejectsMalformedMessages)
{
    gj_bolt_msg m;
    std::string msg;
    gj_ps_config c5 = Cfg(5, 4);
    EXPECT_EQ(GJ_EPROTOCOL, Decode("B0 0E", c5, GJ_BOLT_REQUEST, &m, &msg));   // ACK_FAILURE: v1/v2 only
    EXPECT_NE(std::string::npos, msg.find("unknown Bolt request message 0x0E")) << msg;
    EXPECT_EQ(GJ_EPROTOCOL, Decode("B1 70 A0", c5, GJ_BOLT_REQUEST, &m, &msg));   // SUCCESS from a client
    EXPECT_EQ(GJ_EPROTOCOL, Decode("B0 10", c5, GJ_BOLT_RESPONSE, &m, &msg));     // RUN from a server
    EXPECT_EQ(GJ_EPROTOCOL, Decode("B2 10 80 A0", c5, GJ_BOLT_REQUEST, &m, &msg));
    EXPECT_NE(std::string::npos, msg.find("Bolt RUN has 2 fields, expected 3")) << msg;
    EXPECT_EQ(GJ_EPROTOCOL, Decode("B3 10 80 90 A0", c5, GJ_BOLT_REQUEST, &m, &msg));
    EXPECT_NE(std::string::npos, msg.find("Bolt RUN field parameters (byte 3) is a list, expected a map")) << msg;
    EXPECT_EQ(GJ_EPROTOCOL, Decode("B1 3F A0 00", c5, GJ_BOLT_REQUEST, &m, &msg));
    EXPECT_NE(std::string::npos, msg.find("1 unexpected bytes")) << msg;
    EXPECT_EQ(GJ_EPROTOCOL, Decode("91 01", c5, GJ_BOLT_REQUEST, &m, &msg));
    EXPECT_NE(std::string::npos, msg.find("Bolt message: PackStream structure expected at byte 0")) << msg;
    EXPECT_EQ(GJ_EPROTOCOL, Decode("B1 71 91 82 61", c5, GJ_BOLT_RESPONSE, &m, &msg));
    EXPECT_NE(std::string::npos, msg.find("Bolt RECORD field data: PackStream string at byte 3 is truncated")) << msg;
    EXPECT_EQ(0u, m.n_fields);
    EXPECT_EQ(GJ_EPROTOCOL, Decode("B1 71 A0", c5, GJ_BOLT_RESPONSE, &m, &msg));
    // Errors without an error object still return the code.
    Bytes b = H("B1 71 91 82 61");
    EXPECT_EQ(GJ_EPROTOCOL, gj__bolt_msg_decode(&m, b.data(), b.size(), &c5, GJ_BOLT_RESPONSE, nullptr));
    b = H("B3 10 80 90 A0");
    EXPECT_EQ(GJ_EPROTOCOL, gj__bolt_msg_decode(&m, b.data(), b.size(), &c5, GJ_BOLT_REQUEST, nullptr));
}

TEST(BoltMsg, Names)
{
    EXPECT_STREQ("HELLO", gj__bolt_msg_name(0x01, GJ_BOLT_REQUEST));
    EXPECT_STREQ("RECORD", gj__bolt_msg_name(0x71, GJ_BOLT_RESPONSE));
    EXPECT_EQ(nullptr, gj__bolt_msg_name(0x71, GJ_BOLT_REQUEST));
}

/* ---- handshake ---------------------------------------------------------------------------- */

// What neo4j-driver 6.3 sends: manifest v1, 5.8..5.0, 4.4..4.2, 3.0.
const char *kDriverHandshake = "60 60 B0 17 00 00 01 FF 00 08 08 05 00 02 04 04 00 00 00 03";

TEST(BoltHandshake, ServerChoice)
{
    Bytes in = H(kDriverHandshake);
    gj_bolt_version all[] = {{5, 8}, {5, 7}, {5, 6}, {5, 4}, {5, 3}, {5, 2}, {5, 1}, {5, 0}, {4, 4}};
    gj_bolt_version only44[] = {{4, 4}};
    gj_bolt_version only50[] = {{5, 0}};
    gj_bolt_version none[] = {{6, 0}};
    uint32_t reply = 1;
    Err err;
    ASSERT_EQ(0, gj__bolt_handshake_choose(in.data(), all, 9, true, &reply, err.e));
    EXPECT_EQ(GJ_BOLT_MANIFEST_V1, reply);
    ASSERT_EQ(0, gj__bolt_handshake_choose(in.data(), all, 9, false, &reply, err.e));
    EXPECT_EQ(gj__bolt_version_word(5, 8, 0), reply);
    ASSERT_EQ(0, gj__bolt_handshake_choose(in.data(), only44, 1, false, &reply, err.e));
    EXPECT_EQ(UINT32_C(0x00000404), reply);
    ASSERT_EQ(0, gj__bolt_handshake_choose(in.data(), only50, 1, false, &reply, err.e));
    EXPECT_EQ(UINT32_C(0x00000005), reply);
    ASSERT_EQ(0, gj__bolt_handshake_choose(in.data(), none, 1, false, &reply, err.e));
    EXPECT_EQ(0u, reply);
    Bytes http = H("47 45 54 20 2F 20 48 54 54 50 2F 31 2E 31 0D 0A 48 6F 73 74");   // "GET / HTTP/1.1\r\nHost"
    EXPECT_EQ(GJ_EPROTOCOL, gj__bolt_handshake_choose(http.data(), all, 9, true, &reply, err.e));
    EXPECT_NE(std::string::npos, err.msg().find("starts with 47 45 54 20, not 60 60 B0 17")) << err.msg();
}

TEST(BoltHandshake, ProposalRanges)
{
    uint32_t p = 0x00080805;   // 5.8 and 8 minors below
    EXPECT_TRUE(gj__bolt_proposal_covers(p, 5, 8));
    EXPECT_TRUE(gj__bolt_proposal_covers(p, 5, 0));
    EXPECT_FALSE(gj__bolt_proposal_covers(p, 5, 9));
    EXPECT_FALSE(gj__bolt_proposal_covers(p, 4, 4));
    EXPECT_TRUE(gj__bolt_proposal_covers(0x00000404, 4, 4));
    EXPECT_FALSE(gj__bolt_proposal_covers(0x00000404, 4, 3));
    EXPECT_FALSE(gj__bolt_proposal_covers(GJ_BOLT_MANIFEST_V1, 255, 1));
    uint8_t out[20];
    uint32_t props[4] = {GJ_BOLT_MANIFEST_V1, 0x00080805, 0x00020404, 0x00000003};
    gj__bolt_handshake_request(out, props);
    EXPECT_EQ(kDriverHandshake, Hex(out, 20));
}

TEST(BoltHandshake, Varints)
{
    struct {
        uint64_t v;
        const char *hex;
    } cases[] = {{0, "00"}, {1, "01"}, {127, "7F"}, {128, "80 01"}, {300, "AC 02"},
                 {UINT64_MAX, "FF FF FF FF FF FF FF FF FF 01"}};
    for (auto &c : cases) {
        uint8_t out[GJ_VARINT_MAX];
        size_t n = gj__varint_put(out, c.v);
        EXPECT_EQ(c.hex, Hex(out, n));
        uint64_t back = 0;
        size_t used = 0;
        EXPECT_EQ(1, gj__varint_get(out, n, &back, &used));
        EXPECT_EQ(c.v, back);
        EXPECT_EQ(n, used);
        EXPECT_EQ(0, gj__varint_get(out, n - 1, &back, &used));   // needs more
    }
    Bytes too_long = H("FF FF FF FF FF FF FF FF FF FF 01");
    uint64_t v;
    size_t used;
    EXPECT_EQ(GJ_EPROTOCOL, gj__varint_get(too_long.data(), too_long.size(), &v, &used));
    Bytes too_big = H("FF FF FF FF FF FF FF FF FF 02");
    EXPECT_EQ(GJ_EPROTOCOL, gj__varint_get(too_big.data(), too_big.size(), &v, &used));
}

TEST(BoltHandshake, ManifestExchange)
{
    // Server offers 5.8..5.6 and 4.4..4.0 with capabilities 0x09 (handshake.adoc example).
    uint32_t ranges[] = {0x00020805, 0x00040404};
    uint8_t out[64];
    size_t n = gj__bolt_manifest_offer(out, sizeof out, ranges, 2, 9);
    EXPECT_EQ("02 00 02 08 05 00 04 04 04 09", Hex(out, n));
    EXPECT_EQ(0u, gj__bolt_manifest_offer(out, 5, ranges, 2, 9));
    Err err;
    uint32_t got[4];
    size_t count = 0, used = 0;
    uint64_t caps = 0;
    for (size_t cut = 0; cut < n; cut++)
        EXPECT_EQ(0, gj__bolt_manifest_parse(out, cut, &used, got, 4, &count, &caps, err.e)) << cut;
    ASSERT_EQ(1, gj__bolt_manifest_parse(out, n, &used, got, 4, &count, &caps, err.e));
    EXPECT_EQ(n, used);
    EXPECT_EQ(2u, count);
    EXPECT_EQ(ranges[0], got[0]);
    EXPECT_EQ(ranges[1], got[1]);
    EXPECT_EQ(9u, caps);
    EXPECT_EQ(GJ_EPROTOCOL, gj__bolt_manifest_parse(out, n, &used, got, 1, &count, &caps, err.e));
    EXPECT_NE(std::string::npos, err.msg().find("2 version ranges, more than 1")) << err.msg();

    // Client chooses 5.7 and capability bit 4.
    uint8_t choice[14];
    size_t cn = gj__bolt_manifest_choice(choice, 5, 7, 8);
    EXPECT_EQ("00 00 07 05 08", Hex(choice, cn));
    gj_bolt_version v{};
    EXPECT_EQ(0, gj__bolt_manifest_choice_parse(choice, 4, &used, &v, &caps, err.e));
    ASSERT_EQ(1, gj__bolt_manifest_choice_parse(choice, cn, &used, &v, &caps, err.e));
    EXPECT_EQ(5u, v.major);
    EXPECT_EQ(7u, v.minor);
    EXPECT_EQ(8u, caps);
    Bytes ranged = H("00 02 08 05 00");
    EXPECT_EQ(GJ_EPROTOCOL, gj__bolt_manifest_choice_parse(ranged.data(), ranged.size(), &used, &v, &caps, err.e));
}

}  // namespace
