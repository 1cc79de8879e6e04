// Cost of decoding Bolt records: allocations per record (goal <= 10 for a
// record of a few small values) and a throughput sanity figure.  Counts
// allocations by interposing malloc/calloc/realloc, so it is skipped under
// sanitizers (which own the allocator); the benchmark in bench/ measures
// the goals against the reference server.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <vector>

extern "C" {
#include "codec/bolt_msg.h"
}

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define GJ_COUNT_ALLOCS 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
#define GJ_COUNT_ALLOCS 0
#endif
#endif
#ifndef GJ_COUNT_ALLOCS
#define GJ_COUNT_ALLOCS 1
#endif

namespace {
std::atomic<long> g_allocs{0};
}

#if GJ_COUNT_ALLOCS
extern "C" {
void *__libc_malloc(size_t);
void *__libc_calloc(size_t, size_t);
void *__libc_realloc(void *, size_t);

void *malloc(size_t n)
{
    g_allocs.fetch_add(1, std::memory_order_relaxed);
    return __libc_malloc(n);
}

void *calloc(size_t n, size_t size)
{
    g_allocs.fetch_add(1, std::memory_order_relaxed);
    return __libc_calloc(n, size);
}

void *realloc(void *p, size_t n)
{
    g_allocs.fetch_add(1, std::memory_order_relaxed);
    return __libc_realloc(p, n);
}
}
#endif

namespace {

using Bytes = std::vector<uint8_t>;

// A chunked stream of `n` RECORD messages, each built by `fill`.
template <typename F> Bytes RecordStream(int n, F fill)
{
    gj_ps_buf b;
    gj__ps_buf_init(&b, 0);
    for (int i = 0; i < n; i++) {
        size_t start = b.len;
        fill(&b, i);
        EXPECT_EQ(0, gj__chunk_frame(&b, start));
    }
    Bytes out(b.data, b.data + b.len);
    gj__ps_buf_free(&b);
    return out;
}

// Dechunk + decode every RECORD; returns the number of records.
long DecodeAll(const Bytes &stream, const gj_ps_config &cfg)
{
    gj_dechunker d;
    gj__dechunk_init(&d, 1 << 20);
    size_t pos = 0;
    long n = 0;
    while (pos < stream.size()) {
        size_t used = 0;
        size_t piece = std::min<size_t>(65536, stream.size() - pos);
        int rc = gj__dechunk_feed(&d, stream.data() + pos, piece, &used, nullptr);
        pos += used;
        if (rc < 0)
            break;
        if (rc == 1) {
            const uint8_t *msg;
            size_t len;
            gj__dechunk_message(&d, &msg, &len);
            gj_bolt_msg m;
            if (gj__bolt_msg_decode(&m, msg, len, &cfg, GJ_BOLT_RESPONSE, nullptr) != 0)
                break;
            n += m.tag == GJ_BOLT_RECORD;
            gj__bolt_msg_clear(&m);
        }
    }
    gj__dechunk_free(&d);
    return n;
}

void SmallRecord(gj_ps_buf *b, int i)
{
    gj__ps_put_struct_header(b, 1, GJ_BOLT_RECORD);
    gj__ps_put_list_header(b, 4);
    gj__ps_put_int(b, i);
    gj__ps_put_string(b, "name", 4);
    gj__ps_put_float(b, 3.5);
    gj__ps_put_bool(b, true);
}

TEST(PackStreamCost, SmallRecordAllocations)
{
    if (!GJ_COUNT_ALLOCS)
        GTEST_SKIP() << "allocation counting is off under sanitizers";
    const int n = 1000;
    Bytes stream = RecordStream(n, SmallRecord);
    gj_ps_config cfg{};
    cfg.bolt_major = 5;
    DecodeAll(stream, cfg);   // warm up
    long before = g_allocs.load();
    long got = DecodeAll(stream, cfg);
    long allocs = g_allocs.load() - before;
    ASSERT_EQ(n, got);
    double per_record = (double)allocs / n;
    RecordProperty("allocations_per_record", std::to_string(per_record));
    printf("[ info     ] %.2f allocations per record [int, string, float, bool]\n", per_record);
    EXPECT_LE(per_record, 10.0);
}

TEST(PackStreamCost, UnwindRecordThroughput)
{
    const int n = 300000;
    Bytes stream = RecordStream(n, [](gj_ps_buf *b, int i) {
        gj__ps_put_struct_header(b, 1, GJ_BOLT_RECORD);
        gj__ps_put_list_header(b, 1);
        gj__ps_put_int(b, i);
    });
    gj_ps_config cfg{};
    cfg.bolt_major = 5;
    long before = g_allocs.load();
    auto t0 = std::chrono::steady_clock::now();
    long got = DecodeAll(stream, cfg);
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    long allocs = g_allocs.load() - before;
    ASSERT_EQ(n, got);
    printf("[ info     ] RECORD [x]: %.2f M records/s decoded, %.2f allocations per record\n", n / s / 1e6,
           GJ_COUNT_ALLOCS ? (double)allocs / n : -1.0);
    RecordProperty("records_per_second", std::to_string((long)(n / s)));
    EXPECT_GT(n / s, 50000.0);   // a loose floor: the benchmark checks the 2 M/s goal
    if (GJ_COUNT_ALLOCS) {
        EXPECT_LE((double)allocs / n, 4.0);
    }
}

}  // namespace
