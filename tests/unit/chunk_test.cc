// Bolt chunking: framing of messages into <= 65535-byte chunks + 00 00, and
// the incremental dechunker (arbitrary splits, NOOPs, size limit).
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

extern "C" {
#include "codec/chunk.h"
}

namespace {

using Bytes = std::vector<uint8_t>;

Bytes Frame(const Bytes &msg)
{
    gj_ps_buf b;
    gj__ps_buf_init(&b, 0);
    EXPECT_EQ(0, gj__ps_buf_append(&b, msg.data(), msg.size()));
    EXPECT_EQ(0, gj__chunk_frame(&b, 0));
    Bytes out(b.data, b.data + b.len);
    gj__ps_buf_free(&b);
    return out;
}

Bytes Pattern(size_t n, unsigned seed = 1)
{
    Bytes b(n);
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)(i * 31 + seed);
    return b;
}

// Feed `stream` in pieces of the given sizes (cycled); collect messages.
struct Fed {
    std::vector<Bytes> messages;
    int rc = 0;
    std::string msg;
};

Fed Feed(const Bytes &stream, const std::vector<size_t> &pieces, size_t max = 0)
{
    Fed f;
    gj_dechunker d;
    gj__dechunk_init(&d, max);
    gj_error *err = gj_error_new();
    size_t pos = 0, k = 0;
    while (pos < stream.size()) {
        size_t n = std::min(pieces[k++ % pieces.size()], stream.size() - pos);
        size_t off = 0;
        while (off < n) {
            size_t used = 0;
            int rc = gj__dechunk_feed(&d, stream.data() + pos + off, n - off, &used, err);
            if (rc < 0) {
                f.rc = rc;
                f.msg = gj_error_message(err);
                goto done;
            }
            EXPECT_LE(used, n - off);
            off += used;
            if (rc == 1) {
                const uint8_t *m;
                size_t len;
                gj__dechunk_message(&d, &m, &len);
                f.messages.emplace_back(m, m + len);
            } else {
                EXPECT_EQ(off, n);
            }
        }
        pos += n;
    }
    EXPECT_TRUE(gj__dechunk_idle(&d));
done:
    gj__dechunk_free(&d);
    gj_error_free(err);
    return f;
}

TEST(Chunk, FramesASmallMessage)
{
    Bytes m = {0xB1, 0x70, 0xA0};   // SUCCESS {}
    Bytes want = {0x00, 0x03, 0xB1, 0x70, 0xA0, 0x00, 0x00};
    EXPECT_EQ(want, Frame(m));
    EXPECT_EQ(4u, gj__chunk_overhead(3));
}

TEST(Chunk, ChunkSizeBoundaries)
{
    struct {
        size_t len;
        std::vector<size_t> chunks;
    } cases[] = {
        {1, {1}},
        {65534, {65534}},
        {65535, {65535}},
        {65536, {65535, 1}},
        {131070, {65535, 65535}},
        {131071, {65535, 65535, 1}},
        {200000, {65535, 65535, 65535, 3395}},
    };
    for (auto &c : cases) {
        SCOPED_TRACE(c.len);
        Bytes m = Pattern(c.len);
        Bytes f = Frame(m);
        EXPECT_EQ(c.len + gj__chunk_overhead(c.len), f.size());
        size_t pos = 0, from = 0;
        for (size_t size : c.chunks) {
            ASSERT_LE(pos + 2 + size, f.size());
            EXPECT_EQ(size, (size_t)(f[pos] << 8 | f[pos + 1]));
            EXPECT_TRUE(std::equal(m.begin() + (long)from, m.begin() + (long)(from + size), f.begin() + (long)pos + 2));
            pos += 2 + size;
            from += size;
        }
        ASSERT_EQ(pos + 2, f.size());
        EXPECT_EQ(0, f[pos]);
        EXPECT_EQ(0, f[pos + 1]);
        Fed back = Feed(f, {f.size()});
        ASSERT_EQ(0, back.rc) << back.msg;
        ASSERT_EQ(1u, back.messages.size());
        EXPECT_TRUE(m == back.messages[0]);
    }
}

TEST(Chunk, EmptyMessageFramesAsNothing)
{
    gj_ps_buf b;
    gj__ps_buf_init(&b, 0);
    EXPECT_EQ(0, gj__chunk_frame(&b, 0));
    EXPECT_EQ(0u, b.len);
    EXPECT_EQ(GJ_EINVAL, gj__chunk_frame(&b, 5));
    gj__ps_buf_free(&b);
}

TEST(Chunk, PipelinedMessagesInOneBuffer)
{
    gj_ps_buf b;
    gj__ps_buf_init(&b, 0);
    Bytes big = Pattern(70000, 7);
    std::vector<Bytes> msgs = {{0xB1, 0x10}, big, {0xB0, 0x0F}};
    for (auto &m : msgs) {
        size_t start = b.len;
        ASSERT_EQ(0, gj__ps_buf_append(&b, m.data(), m.size()));
        ASSERT_EQ(0, gj__chunk_frame(&b, start));
    }
    ASSERT_EQ(0, gj__chunk_put_noop(&b));
    Bytes stream(b.data, b.data + b.len);
    gj__ps_buf_free(&b);
    EXPECT_EQ((Bytes{0x00, 0x02, 0xB1, 0x10, 0x00, 0x00}), Bytes(stream.begin(), stream.begin() + 6));
    for (std::vector<size_t> pieces : std::vector<std::vector<size_t>>{{stream.size()}, {1}, {2}, {3}, {7, 1, 65537}}) {
        Fed f = Feed(stream, pieces);
        ASSERT_EQ(0, f.rc) << f.msg;
        ASSERT_EQ(msgs.size(), f.messages.size());
        for (size_t i = 0; i < msgs.size(); i++)
            EXPECT_TRUE(msgs[i] == f.messages[i]) << i;
    }
}

TEST(Chunk, NoopsBetweenMessagesAreSkipped)
{
    Bytes stream = {0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0xB0, 0x7E, 0x00, 0x00, 0x00, 0x00,
                    0x00, 0x01, 0xB0, 0x00, 0x01, 0x7E, 0x00, 0x00, 0x00, 0x00};
    gj_dechunker d;
    gj__dechunk_init(&d, 0);
    size_t pos = 0, used = 0;
    std::vector<Bytes> got;
    while (pos < stream.size()) {
        int rc = gj__dechunk_feed(&d, stream.data() + pos, stream.size() - pos, &used, nullptr);
        ASSERT_GE(rc, 0);
        pos += used;
        if (rc == 1) {
            const uint8_t *m;
            size_t len;
            gj__dechunk_message(&d, &m, &len);
            got.emplace_back(m, m + len);
        }
    }
    ASSERT_EQ(2u, got.size());
    EXPECT_EQ((Bytes{0xB0, 0x7E}), got[0]);
    EXPECT_EQ((Bytes{0xB0, 0x7E}), got[1]);   // second one in two chunks
    EXPECT_EQ(4u, d.noops);
    gj__dechunk_free(&d);
}

TEST(Chunk, OneChunkMessageIsNotCopied)
{
    Bytes stream = {0x00, 0x02, 0xB0, 0x7E, 0x00, 0x00, 0x00, 0x02, 0xB0};
    gj_dechunker d;
    gj__dechunk_init(&d, 0);
    size_t used = 0;
    ASSERT_EQ(1, gj__dechunk_feed(&d, stream.data(), stream.size(), &used, nullptr));
    EXPECT_EQ(6u, used);
    const uint8_t *m;
    size_t len;
    gj__dechunk_message(&d, &m, &len);
    EXPECT_EQ(stream.data() + 2, m);
    EXPECT_EQ(2u, len);
    EXPECT_EQ(nullptr, d.buf);   // nothing allocated
    // The rest is a partial message: consumed, no message yet.
    EXPECT_EQ(0, gj__dechunk_feed(&d, stream.data() + used, stream.size() - used, &used, nullptr));
    EXPECT_EQ(3u, used);
    EXPECT_FALSE(gj__dechunk_idle(&d));
    gj__dechunk_reset(&d);
    EXPECT_TRUE(gj__dechunk_idle(&d));
    gj__dechunk_free(&d);
}

TEST(Chunk, MaxMessageSize)
{
    Bytes m = Pattern(100);
    Bytes f = Frame(m);
    Fed ok = Feed(f, {1}, 100);
    ASSERT_EQ(0, ok.rc) << ok.msg;
    ASSERT_EQ(1u, ok.messages.size());
    Fed bad = Feed(f, {1}, 99);
    EXPECT_EQ(GJ_ETOOBIG, bad.rc);
    EXPECT_NE(std::string::npos, bad.msg.find("at least 100 bytes exceeds max_message_size (99 bytes)")) << bad.msg;
    // Across chunks: 3 chunks of 65535 with a limit of 100000.
    Bytes big = Frame(Pattern(150000));
    Fed bad2 = Feed(big, {4096}, 100000);
    EXPECT_EQ(GJ_ETOOBIG, bad2.rc);
    EXPECT_NE(std::string::npos, bad2.msg.find("at least 131070 bytes")) << bad2.msg;
}

TEST(Chunk, HeaderAloneAllocatesAtMostOneChunk)
{
    // A header claiming 65535 bytes, then nothing: the buffer is sized for
    // that chunk, never more, and the reader waits.
    Bytes stream = {0xFF, 0xFF, 0x01};
    gj_dechunker d;
    gj__dechunk_init(&d, 1 << 30);
    size_t used = 0;
    EXPECT_EQ(0, gj__dechunk_feed(&d, stream.data(), stream.size(), &used, nullptr));
    EXPECT_EQ(3u, used);
    EXPECT_LE(d.cap, 2u * 65535u);
    EXPECT_EQ(65534u, d.chunk_left);
    gj__dechunk_free(&d);
}

TEST(Chunk, RandomSplitsReassemble)
{
    std::mt19937 rng(7);
    std::vector<Bytes> msgs;
    Bytes stream;
    for (int i = 0; i < 50; i++) {
        size_t n = 1 + rng() % (i % 10 == 0 ? 140000 : 300);
        msgs.push_back(Pattern(n, (unsigned)i));
        if (rng() % 3 == 0)
            stream.insert(stream.end(), {0, 0});
        Bytes f = Frame(msgs.back());
        stream.insert(stream.end(), f.begin(), f.end());
    }
    for (int round = 0; round < 20; round++) {
        std::vector<size_t> pieces;
        for (int k = 0; k < 17; k++)
            pieces.push_back(1 + rng() % (round < 10 ? 10 : 100000));
        Fed f = Feed(stream, pieces);
        ASSERT_EQ(0, f.rc) << f.msg;
        ASSERT_EQ(msgs.size(), f.messages.size());
        for (size_t i = 0; i < msgs.size(); i++)
            ASSERT_TRUE(msgs[i] == f.messages[i]) << "round " << round << " message " << i;
    }
}

TEST(Chunk, FramingRespectsBufferLimit)
{
    gj_ps_buf b;
    gj__ps_buf_init(&b, 10);
    Bytes m = Pattern(7);
    ASSERT_EQ(0, gj__ps_buf_append(&b, m.data(), m.size()));
    EXPECT_EQ(GJ_ETOOBIG, gj__chunk_frame(&b, 0));   // needs 11
    gj_error *err = gj_error_new();
    EXPECT_EQ(GJ_ETOOBIG, gj__ps_buf_check(&b, err));
    EXPECT_NE(std::string::npos, std::string(gj_error_message(err)).find("needs 11 bytes")) << gj_error_message(err);
    gj_error_free(err);
    gj__ps_buf_free(&b);
}

}  // namespace
