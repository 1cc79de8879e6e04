// Gremlin Server messages: TinkerPop's GraphSON request and response files
// (v2 and v3) decoded field by field and re-encoded to equal trees; the
// GraphBinary request and response layouts of the spec byte by byte; one
// response through all three serializers; request arguments; hostile input.
#include <gtest/gtest.h>

#include <dirent.h>
#include <json-c/json.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

extern "C" {
#include "codec/gremlin_msg.h"
}

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

struct JsonFree {
    void operator()(json_object *j) const { json_object_put(j); }
};
using J = std::unique_ptr<json_object, JsonFree>;

struct Buf {
    gj_ps_buf b;
    Buf() { gj__ps_buf_init(&b, 0); }
    ~Buf() { gj__ps_buf_free(&b); }
    Bytes bytes() const { return Bytes(b.data, b.data + b.len); }
    std::string text() const { return std::string((const char *)b.data, b.len); }
};

struct Request : gj_gremlin_request {
    Request() { std::memset(static_cast<gj_gremlin_request *>(this), 0, sizeof(gj_gremlin_request)); }
    ~Request() { gj__gremlin_request_clear(this); }
};

struct Response : gj_gremlin_response {
    Response() { std::memset(static_cast<gj_gremlin_response *>(this), 0, sizeof(gj_gremlin_response)); }
    ~Response() { gj__gremlin_response_clear(this); }
};

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
    static const char *digits = "0123456789abcdef";
    std::string s;
    for (uint8_t x : b) {
        s += digits[x >> 4];
        s += digits[x & 15];
        s += ' ';
    }
    return s;
}

Bytes Str(const std::string &s)
{
    return Bytes(s.begin(), s.end());
}

Bytes Cat(std::initializer_list<Bytes> parts)
{
    Bytes out;
    for (const Bytes &p : parts)
        out.insert(out.end(), p.begin(), p.end());
    return out;
}

std::string VectorDir()
{
    const char *srcdir = std::getenv("GJ_SRCDIR");
    return std::string(srcdir != nullptr ? srcdir : GJ_SRCDIR) + "/../shared/vectors/tinkerpop";
}

bool ReadFile(const std::string &path, std::string *out)
{
    std::ifstream f(path, std::ios::binary);
    if (!f)
        return false;
    *out = std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
    return true;
}

#define READ_VECTOR(name, text)                                                                  \
    std::string text;                                                                            \
    if (!ReadFile(VectorDir() + "/graphson/" + (name), &text))                                   \
        GTEST_SKIP() << "TinkerPop's GraphSON files are not in " << VectorDir()                  \
                     << "/graphson (they live outside the repository)";

bool Equal(json_object *a, json_object *b)
{
    json_type ta = json_object_get_type(a), tb = json_object_get_type(b);
    if ((ta == json_type_int || ta == json_type_double) && (tb == json_type_int || tb == json_type_double))
        return json_object_get_double(a) == json_object_get_double(b);
    if (ta != tb)
        return false;
    switch (ta) {
    case json_type_null:
        return true;
    case json_type_boolean:
        return json_object_get_boolean(a) == json_object_get_boolean(b);
    case json_type_string:
        return std::strcmp(json_object_get_string(a), json_object_get_string(b)) == 0;
    case json_type_array: {
        size_t n = json_object_array_length(a);
        if (n != json_object_array_length(b))
            return false;
        for (size_t i = 0; i < n; i++)
            if (!Equal(json_object_array_get_idx(a, i), json_object_array_get_idx(b, i)))
                return false;
        return true;
    }
    case json_type_object: {
        if (json_object_object_length(a) != json_object_object_length(b))
            return false;
        json_object_object_foreach(a, key, val) {
            json_object *other = nullptr;
            if (!json_object_object_get_ex(b, key, &other) || !Equal(val, other))
                return false;
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
    EXPECT_TRUE(Equal(a.get(), b.get())) << "got: " << actual;
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

const uint8_t kSessionId[16] = {0xcb, 0x68, 0x25, 0x78, 0x9d, 0x92, 0x44, 0x99,
                                0x9e, 0xbc, 0x5c, 0x6a, 0xa7, 0x3c, 0x53, 0x97};
const uint8_t kResultId[16] = {0x41, 0xd2, 0xe2, 0x8a, 0x20, 0xa4, 0x4a, 0xb0,
                               0xb3, 0x79, 0xd8, 0x10, 0xde, 0xde, 0x37, 0x86};

// Decode a GraphSON request file; re-encode it; the frame's payload must be
// an equal tree and its prefix the mime type.
void RequestRoundTrip(const std::string &text, gj_gremlin_format f, Request *req)
{
    E err(gj_error_new());
    ASSERT_EQ(gj__gremlin_request_decode_payload(req, f, text.data(), text.size(), 0, err.get()), 0)
        << gj_error_message(err.get());
    Buf out;
    ASSERT_EQ(gj__gremlin_request_encode(&out.b, f, req, err.get()), 0) << gj_error_message(err.get());
    std::string frame = out.text();
    std::string mime = gj__gremlin_mime(f);
    ASSERT_GT(frame.size(), mime.size() + 1);
    EXPECT_EQ((size_t)(uint8_t)frame[0], mime.size());
    EXPECT_EQ(frame.substr(1, mime.size()), mime);
    ExpectSameTree(text, frame.substr(1 + mime.size()));
    // The whole frame decodes again, choosing the format by its mime type.
    Request again;
    gj_gremlin_format chosen;
    ASSERT_EQ(gj__gremlin_request_decode(&again, &chosen, frame.data(), frame.size(), 0, err.get()), 0)
        << gj_error_message(err.get());
    EXPECT_EQ(chosen, f);
    EXPECT_STREQ(again.op, req->op);
    EXPECT_EQ(std::memcmp(again.request_id, req->request_id, 16), 0);
}

// ---- TinkerPop's GraphSON messages ----------------------------------------------------------

TEST(GremlinMsgVectors, SessionEval)
{
    for (const char *name : {"sessioneval-v3.json", "sessioneval-v2.json"}) {
        SCOPED_TRACE(name);
        READ_VECTOR(name, text);
        gj_gremlin_format f = std::strstr(name, "v2") ? GJ_GREMLIN_GRAPHSON_V2 : GJ_GREMLIN_GRAPHSON_V3;
        Request req;
        RequestRoundTrip(text, f, &req);
        EXPECT_EQ(std::memcmp(req.request_id, kSessionId, 16), 0);
        EXPECT_STREQ(req.op, "eval");
        EXPECT_STREQ(req.processor, "session");
        gj_gremlin_args a;
        E err(gj_error_new());
        ASSERT_EQ(gj__gremlin_args_read(req.args, &a, err.get()), 0) << gj_error_message(err.get());
        EXPECT_STREQ(a.gremlin, "g.V(x)");
        EXPECT_STREQ(a.language, "gremlin-groovy");
        EXPECT_STREQ(a.session, "unique-session-identifier");
        ASSERT_NE(a.bindings, nullptr);
        const gj_value *x = gj_value_map_get(a.bindings, "x");
        EXPECT_EQ(Int(x), 1);
        EXPECT_EQ(gj_value_int_bits(x), 32u);
        EXPECT_EQ(a.evaluation_timeout, -1);
        EXPECT_EQ(a.manage_transaction, -1);
    }
}

TEST(GremlinMsgVectors, OtherRequests)
{
    for (const char *name :
         {"sessionlesseval-v3.json", "sessionlesseval-v2.json", "sessionevalaliased-v3.json",
          "sessionevalaliased-v2.json", "sessionlessevalaliased-v3.json",
          "sessionlessevalaliased-v2.json", "sessionclose-v3.json", "sessionclose-v2.json",
          "authenticationresponse-v3.json", "authenticationresponse-v2.json"}) {
        SCOPED_TRACE(name);
        READ_VECTOR(name, text);
        gj_gremlin_format f = std::strstr(name, "v2") ? GJ_GREMLIN_GRAPHSON_V2 : GJ_GREMLIN_GRAPHSON_V3;
        Request req;
        RequestRoundTrip(text, f, &req);
        gj_gremlin_args a;
        ASSERT_EQ(gj__gremlin_args_read(req.args, &a, nullptr), 0);
        std::string n = name;
        if (n.find("aliased") != std::string::npos) {
            EXPECT_STREQ(a.gremlin, "social.V(x)");
            EXPECT_EQ(Text(gj_value_map_get(a.aliases, "g")), "social");
        }
        if (n.find("sessionless") != std::string::npos) {
            EXPECT_STREQ(req.processor, "");
        }
        if (n.find("close") != std::string::npos) {
            EXPECT_STREQ(req.op, "close");
        }
        if (n.find("authentication") != std::string::npos) {
            EXPECT_STREQ(req.op, "authentication");
            EXPECT_STREQ(a.sasl_mechanism, "PLAIN");
            EXPECT_STREQ(a.sasl, "AHN0ZXBocGhlbgBwYXNzd29yZA==");
        }
    }
}

TEST(GremlinMsgVectors, Responses)
{
    for (const char *name : {"standardresult-v3.json", "standardresult-v2.json",
                             "authenticationchallenge-v3.json", "authenticationchallenge-v2.json"}) {
        SCOPED_TRACE(name);
        READ_VECTOR(name, text);
        gj_gremlin_format f = std::strstr(name, "v2") ? GJ_GREMLIN_GRAPHSON_V2 : GJ_GREMLIN_GRAPHSON_V3;
        Response resp;
        E err(gj_error_new());
        ASSERT_EQ(gj__gremlin_response_decode(&resp, f, text.data(), text.size(), 0, err.get()), 0)
            << gj_error_message(err.get());
        EXPECT_TRUE(resp.has_request_id);
        EXPECT_EQ(std::memcmp(resp.request_id, kResultId, 16), 0);
        EXPECT_EQ(Text(resp.status_message), "");
        EXPECT_EQ(gj_value_size(resp.status_attributes), 0u);
        if (std::strstr(name, "standardresult")) {
            EXPECT_EQ(resp.status_code, GJ_GREMLIN_SUCCESS);
            ASSERT_EQ(gj_value_type(resp.result_data), GJ_TLIST);
            ASSERT_EQ(gj_value_size(resp.result_data), 1u);
            const gj_value *v = gj_value_list_at(resp.result_data, 0);
            ASSERT_EQ(gj_value_type(v), GJ_TNODE);
            EXPECT_EQ(Int(gj_value_element_id(v)), 1);
        } else {
            EXPECT_EQ(resp.status_code, GJ_GREMLIN_AUTHENTICATE);
            EXPECT_EQ(resp.result_data, nullptr);
        }
        Buf out;
        ASSERT_EQ(gj__gremlin_response_encode(&out.b, f, &resp, err.get()), 0)
            << gj_error_message(err.get());
        ExpectSameTree(text, out.text());
    }
}

// ---- GraphBinary layouts --------------------------------------------------------------------------

TEST(GremlinMsgGraphBinary, RequestLayout)
{
    gj_gremlin_args a = GJ_GREMLIN_ARGS_INIT;
    a.gremlin = "g.V()";
    a.batch_size = 64;
    V args;
    {
        gj_value *m = nullptr;
        ASSERT_EQ(gj__gremlin_args_new(&m, &a, nullptr), 0);
        args.reset(m);
    }
    Request req;
    std::memcpy(req.request_id, kSessionId, 16);
    req.op = "eval";
    req.processor = "";
    req.args = args.get();
    Buf out;
    ASSERT_EQ(gj__gremlin_request_encode(&out.b, GJ_GREMLIN_GRAPHBINARY_V1, &req, nullptr), 0);
    req.args = nullptr;   // borrowed: not for the destructor
    Bytes expect = Cat({H("20"), Str("application/vnd.graphbinary-v1.0"), H("81"),
                        H("cb6825789d9244999ebc5c6aa73c5397"), H("00 00 00 04"), Str("eval"),
                        H("00 00 00 00"), H("00 00 00 02"),
                        H("03 00 00 00 00 07"), Str("gremlin"), H("03 00 00 00 00 05"), Str("g.V()"),
                        H("03 00 00 00 00 09"), Str("batchSize"), H("01 00 00 00 00 40")});
    EXPECT_EQ(Hex(out.bytes()), Hex(expect));

    Request back;
    gj_gremlin_format f;
    E err(gj_error_new());
    ASSERT_EQ(gj__gremlin_request_decode(&back, &f, expect.data(), expect.size(), 0, err.get()), 0)
        << gj_error_message(err.get());
    EXPECT_EQ(f, GJ_GREMLIN_GRAPHBINARY_V1);
    EXPECT_STREQ(back.op, "eval");
    EXPECT_STREQ(back.processor, "");
    gj_gremlin_args read;
    ASSERT_EQ(gj__gremlin_args_read(back.args, &read, nullptr), 0);
    EXPECT_STREQ(read.gremlin, "g.V()");
    EXPECT_EQ(read.batch_size, 64);
}

TEST(GremlinMsgGraphBinary, ResponseLayout)
{
    // 206 with a null message, one attribute, empty meta, a List [Int 1].
    Bytes wire = Cat({H("81 00"), H("41d2e28a20a44ab0b379d810dede3786"), H("00 00 00 ce"), H("01"),
                      H("00 00 00 01 03 00 00 00 00 04"), Str("host"), H("03 00 00 00 00 01"), Str("h"),
                      H("00 00 00 00"), H("09 00 00 00 00 01 01 00 00 00 00 01")});
    Response resp;
    E err(gj_error_new());
    ASSERT_EQ(gj__gremlin_response_decode(&resp, GJ_GREMLIN_GRAPHBINARY_V1, wire.data(), wire.size(), 0,
                                          err.get()), 0)
        << gj_error_message(err.get());
    EXPECT_TRUE(resp.has_request_id);
    EXPECT_EQ(std::memcmp(resp.request_id, kResultId, 16), 0);
    EXPECT_EQ(resp.status_code, GJ_GREMLIN_PARTIAL_CONTENT);
    EXPECT_EQ(resp.status_message, nullptr);
    EXPECT_EQ(Text(gj_value_map_get(resp.status_attributes, "host")), "h");
    EXPECT_EQ(gj_value_size(resp.result_meta), 0u);
    ASSERT_EQ(gj_value_size(resp.result_data), 1u);
    EXPECT_EQ(gj_value_int_bits(gj_value_list_at(resp.result_data, 0)), 32u);
    Buf out;
    ASSERT_EQ(gj__gremlin_response_encode(&out.b, GJ_GREMLIN_GRAPHBINARY_V1, &resp, err.get()), 0);
    EXPECT_EQ(Hex(out.bytes()), Hex(wire));

    // A null request id, a message, null data.
    Bytes error = Cat({H("81 01"), H("00 00 02 55"), H("00 00 00 00 04"), Str("boom"), H("00 00 00 00"),
                       H("00 00 00 00"), H("fe 01")});
    Response r2;
    ASSERT_EQ(gj__gremlin_response_decode(&r2, GJ_GREMLIN_GRAPHBINARY_V1, error.data(), error.size(), 0,
                                          err.get()), 0)
        << gj_error_message(err.get());
    EXPECT_FALSE(r2.has_request_id);
    EXPECT_EQ(r2.status_code, GJ_GREMLIN_SERVER_ERROR_EVALUATION);
    EXPECT_EQ(Text(r2.status_message), "boom");
    EXPECT_EQ(r2.result_data, nullptr);
    Buf out2;
    ASSERT_EQ(gj__gremlin_response_encode(&out2.b, GJ_GREMLIN_GRAPHBINARY_V1, &r2, err.get()), 0);
    EXPECT_EQ(Hex(out2.bytes()), Hex(error));

    // Every truncation fails with a protocol error.
    for (size_t len = 0; len < wire.size(); len++) {
        Response cut;
        EXPECT_EQ(gj__gremlin_response_decode(&cut, GJ_GREMLIN_GRAPHBINARY_V1, wire.data(), len, 0,
                                              err.get()), GJ_EPROTOCOL)
            << len;
    }
}

TEST(GremlinMsg, OneResponseThroughEverySerializer)
{
    // A 200 whose data holds a vertex, a map with an Int key and a datetime.
    gj_value *v = nullptr, *labels = nullptr, *data = nullptr, *map = nullptr, *attrs = nullptr;
    gj_value_new_list(&labels, 1);
    gj_value_list_append(labels, gj_value_string("person"));
    gj_value *id = nullptr;
    gj_value_new_int_bits(&id, 1, 32);
    gj_value_new_node(&v, id, labels, nullptr);
    gj_value_new_map(&map, 1);
    gj_value *key = nullptr;
    gj_value_new_int_bits(&key, 7, 32);
    gj_value_map_put(map, key, gj_value_string("seven"));
    gj_value *dt = nullptr;
    gj_value_new_datetime(&dt, 1481750076, 295000000, 3600, nullptr, GJ_DATETIME_HAS_OFFSET);
    gj_value_new_list(&data, 3);
    gj_value_list_append(data, v);
    gj_value_list_append(data, map);
    gj_value_list_append(data, dt);
    gj_value_new_map(&attrs, 1);
    gj_value_map_put_str(attrs, "host", gj_value_string("127.0.0.1"));
    Response resp;
    resp.has_request_id = true;
    std::memcpy(resp.request_id, kResultId, 16);
    resp.status_code = 200;
    resp.status_message = gj_value_string("");
    resp.status_attributes = attrs;
    resp.result_data = data;
    for (gj_gremlin_format f : {GJ_GREMLIN_GRAPHBINARY_V1, GJ_GREMLIN_GRAPHSON_V3}) {
        SCOPED_TRACE((int)f);
        Buf out;
        E err(gj_error_new());
        ASSERT_EQ(gj__gremlin_response_encode(&out.b, f, &resp, err.get()), 0) << gj_error_message(err.get());
        Response back;
        ASSERT_EQ(gj__gremlin_response_decode(&back, f, out.b.data, out.b.len, 0, err.get()), 0)
            << gj_error_message(err.get());
        EXPECT_EQ(back.status_code, 200);
        EXPECT_TRUE(gj_value_equal(back.result_data, data));
        EXPECT_TRUE(gj_value_equal(back.status_attributes, attrs));
        EXPECT_EQ(gj_value_int_bits(gj_value_map_key_at(gj_value_list_at(back.result_data, 1), 0)), 32u);
    }
    // GraphSON 2.0 maps have string keys only: the Int key is refused.
    Buf out;
    E err(gj_error_new());
    EXPECT_EQ(gj__gremlin_response_encode(&out.b, GJ_GREMLIN_GRAPHSON_V2, &resp, err.get()), GJ_EINVAL);
}

// ---- arguments -------------------------------------------------------------------------------

TEST(GremlinMsgArgs, BuildAndReadWithGremlinServerTypes)
{
    gj_value *bindings = nullptr, *aliases = nullptr;
    gj_value_new_map(&bindings, 1);
    gj_value_map_put_str(bindings, "x", gj_value_int(1));
    gj_value_new_map(&aliases, 1);
    gj_value_map_put_str(aliases, "g", gj_value_string("g1"));
    V b(bindings), al(aliases);
    gj_gremlin_args a = GJ_GREMLIN_ARGS_INIT;
    a.gremlin = "g.V(x)";
    a.bindings = bindings;
    a.language = "gremlin-groovy";
    a.aliases = aliases;
    a.evaluation_timeout = 30000;
    a.batch_size = 64;
    a.user_agent = "libgraphjob";
    a.session = "4b6c2ef0-3bd6-4d8d-9a0c-3a4bda3c7b3f";
    a.manage_transaction = 1;
    gj_value *m = nullptr;
    ASSERT_EQ(gj__gremlin_args_new(&m, &a, nullptr), 0);
    V args(m);
    EXPECT_EQ(gj_value_size(args.get()), 9u);
    EXPECT_EQ(gj_value_int_bits(gj_value_map_get(args.get(), "evaluationTimeout")), 64u);
    EXPECT_EQ(gj_value_int_bits(gj_value_map_get(args.get(), "batchSize")), 32u);
    EXPECT_EQ(gj_value_type(gj_value_map_get(args.get(), "manageTransaction")), GJ_TBOOL);
    gj_gremlin_args r;
    ASSERT_EQ(gj__gremlin_args_read(args.get(), &r, nullptr), 0);
    EXPECT_STREQ(r.gremlin, "g.V(x)");
    EXPECT_EQ(r.evaluation_timeout, 30000);
    EXPECT_EQ(r.batch_size, 64);
    EXPECT_EQ(r.manage_transaction, 1);
    EXPECT_STREQ(r.user_agent, "libgraphjob");
    EXPECT_EQ(r.aliases, gj_value_map_get(args.get(), "aliases"));

    // Wrong types are refused, naming the argument.
    gj_value *bad = nullptr;
    gj_value_new_map(&bad, 1);
    gj_value_map_put_str(bad, "batchSize", gj_value_string("64"));
    V badv(bad);
    E err(gj_error_new());
    EXPECT_EQ(gj__gremlin_args_read(badv.get(), &r, err.get()), GJ_EINVAL);
    EXPECT_NE(std::strstr(gj_error_message(err.get()), "batchSize"), nullptr);
    gj_value_new_map(&bad, 1);
    gj_value *al2 = nullptr;
    gj_value_new_map(&al2, 1);
    gj_value_map_put_str(al2, "g", gj_value_int(1));
    gj_value_map_put_str(bad, "aliases", al2);
    V badal(bad);
    EXPECT_EQ(gj__gremlin_args_read(badal.get(), &r, err.get()), GJ_EINVAL);
    EXPECT_NE(std::strstr(gj_error_message(err.get()), "aliases"), nullptr);
}

// ---- hostile input -------------------------------------------------------------------------------

TEST(GremlinMsgHostile, Frames)
{
    E err(gj_error_new());
    Request req;
    Bytes empty;
    EXPECT_EQ(gj__gremlin_request_decode(&req, nullptr, empty.data(), 0, 0, err.get()), GJ_EPROTOCOL);
    Bytes short_mime = Cat({H("40"), Str("application/json")});
    EXPECT_EQ(gj__gremlin_request_decode(&req, nullptr, short_mime.data(), short_mime.size(), 0, err.get()),
              GJ_EPROTOCOL);
    Bytes json = Cat({H("10"), Str("application/json"), Str("{}")});
    EXPECT_EQ(gj__gremlin_request_decode(&req, nullptr, json.data(), json.size(), 0, err.get()),
              GJ_EUNSUPPORTED);
    EXPECT_NE(std::strstr(gj_error_message(err.get()), "application/json"), nullptr);
    Bytes version = Cat({H("20"), Str("application/vnd.graphbinary-v1.0"), H("01")});
    EXPECT_EQ(gj__gremlin_request_decode(&req, nullptr, version.data(), version.size(), 0, err.get()),
              GJ_EUNSUPPORTED);
    Bytes trailing = Cat({H("20"), Str("application/vnd.graphbinary-v1.0"), H("81"), Bytes(16, 0),
                          H("00 00 00 04"), Str("eval"), H("00 00 00 00 00 00 00 00 ff")});
    EXPECT_EQ(gj__gremlin_request_decode(&req, nullptr, trailing.data(), trailing.size(), 0, err.get()),
              GJ_EPROTOCOL);
    EXPECT_EQ(req.op, nullptr);   // nothing kept after a failure

    Response resp;
    std::string no_status = R"({"requestId":"41d2e28a-20a4-4ab0-b379-d810dede3786","result":{"data":null}})";
    EXPECT_EQ(gj__gremlin_response_decode(&resp, GJ_GREMLIN_GRAPHSON_V3, no_status.data(), no_status.size(),
                                          0, err.get()), GJ_EPROTOCOL);
    std::string bad_id = R"({"requestId":"nope","status":{"code":200}})";
    EXPECT_EQ(gj__gremlin_response_decode(&resp, GJ_GREMLIN_GRAPHSON_V3, bad_id.data(), bad_id.size(), 0,
                                          err.get()), GJ_EPROTOCOL);
    std::string not_object = R"([1,2])";
    EXPECT_EQ(gj__gremlin_response_decode(&resp, GJ_GREMLIN_GRAPHSON_V2, not_object.data(),
                                          not_object.size(), 0, err.get()), GJ_EPROTOCOL);
    Bytes flag = H("81 07");
    EXPECT_EQ(gj__gremlin_response_decode(&resp, GJ_GREMLIN_GRAPHBINARY_V1, flag.data(), flag.size(), 0,
                                          err.get()), GJ_EPROTOCOL);
    // A typed g:UUID request id (what gremlin-python sends) is accepted.
    std::string typed_id = R"({"requestId":{"@type":"g:UUID","@value":"41d2e28a-20a4-4ab0-b379-d810dede3786"},"op":"eval","processor":"","args":{"gremlin":"1"}})";
    Request ok;
    ASSERT_EQ(gj__gremlin_request_decode_payload(&ok, GJ_GREMLIN_GRAPHSON_V3, typed_id.data(),
                                                 typed_id.size(), 0, err.get()), 0)
        << gj_error_message(err.get());
    EXPECT_EQ(std::memcmp(ok.request_id, kResultId, 16), 0);
}

}  // namespace
