// Unit tests of the connection manager (lib/core/pool.c) against a fake
// backend defined here: its connect can fail per host, sleep, and counts
// calls; its ping can fail; usable() reads a flag on the connection.

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

extern "C" {
#include "core/pool.h"
}

struct gj_conn {
    int id;
    size_t host;
    std::atomic<bool> usable{true};
};

namespace {

constexpr int kMaxHosts = 4;

// The fake backend's state: the backend table has no payload pointer, so
// it is a file-level object, reset by each test's SetUp.
struct FakeState {
    std::atomic<int> next_id{0};
    std::atomic<int> connects[kMaxHosts];
    std::atomic<int> connect_ok{0};
    std::atomic<int> closes{0};
    std::atomic<int> pings{0};
    std::atomic<int> live{0};
    std::atomic<bool> host_fails[kMaxHosts];
    std::atomic<int> fail_next[kMaxHosts];    // fail this many more connects
    std::atomic<int> connect_delay_ms{0};
    std::atomic<bool> ping_fails{false};
    std::atomic<bool> auth_fails{false};
    std::atomic<int> random_fail_permille{0};
    std::atomic<int> random_ping_fail_permille{0};
    std::atomic<int64_t> last_connect_deadline{0};
    std::mutex mu;
    std::vector<size_t> connect_hosts;        // host index of each connect, in order
    std::vector<std::string> connect_names;   // "host:port" of each connect, in order
    // discover(): the members it reports (or discover_rc when not 0).
    std::vector<std::pair<std::string, int>> members;
    std::atomic<int> discover_rc{0};
    std::atomic<int> discovers{0};

    void reset()
    {
        next_id = 0;
        for (int i = 0; i < kMaxHosts; i++) {
            connects[i] = 0;
            host_fails[i] = false;
            fail_next[i] = 0;
        }
        connect_ok = closes = pings = live = 0;
        connect_delay_ms = 0;
        ping_fails = false;
        auth_fails = false;
        random_fail_permille = random_ping_fail_permille = 0;
        last_connect_deadline = 0;
        discover_rc = 0;
        discovers = 0;
        std::lock_guard<std::mutex> lock(mu);
        connect_hosts.clear();
        connect_names.clear();
        members.clear();
    }
};
FakeState fake;

bool random_permille(int permille)
{
    if (permille <= 0)
        return false;
    thread_local std::minstd_rand rng(std::hash<std::thread::id>()(std::this_thread::get_id()));
    return (int)(rng() % 1000) < permille;
}

int fake_connect(gj_conn **out, const gj_endpoint *ep, const gj_target_settings *ts, const gj_logger *log,
                 const gj_abort *, int64_t deadline_ms, gj_error *err)
{
    (void)ts;
    (void)log;
    size_t h = ep->host_index;
    fake.connects[h]++;
    fake.last_connect_deadline = deadline_ms;
    {
        std::lock_guard<std::mutex> lock(fake.mu);
        fake.connect_hosts.push_back(h);
        fake.connect_names.push_back(std::string(ep->host) + ":" + std::to_string(ep->port));
    }
    int delay = fake.connect_delay_ms;
    if (delay > 0) {
        int64_t now = gj__now_ms();
        if (now + delay > deadline_ms) {
            if (deadline_ms > now)
                std::this_thread::sleep_for(std::chrono::milliseconds(deadline_ms - now));
            return gj__error_set(err, GJ_ETIMEDOUT, "connect to %s:%d timed out", ep->host, ep->port);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(delay));
    }
    if (fake.auth_fails)
        return gj__error_set(err, GJ_EAUTH, "authentication failed at %s:%d: wrong password", ep->host, ep->port);
    if (fake.host_fails[h] || random_permille(fake.random_fail_permille))
        return gj__error_set(err, GJ_ECONNECT, "connection refused by %s:%d", ep->host, ep->port);
    if (fake.fail_next[h].fetch_sub(1) > 0)
        return gj__error_set(err, GJ_ECONNECT, "connection refused by %s:%d", ep->host, ep->port);
    fake.fail_next[h] = 0;
    gj_conn *c = new gj_conn;
    c->id = ++fake.next_id;
    c->host = h;
    fake.connect_ok++;
    fake.live++;
    *out = c;
    return 0;
}

int fake_execute(gj_conn *, const gj_request *, gj_sink *, gj_error *)
{
    return 0;
}

bool fake_usable(gj_conn *c)
{
    return c->usable;
}

int fake_ping(gj_conn *c, int64_t deadline_ms)
{
    (void)deadline_ms;
    fake.pings++;
    if (fake.ping_fails || random_permille(fake.random_ping_fail_permille)) {
        c->usable = false;
        return GJ_EIO;
    }
    return 0;
}

void fake_close(gj_conn *c)
{
    fake.closes++;
    fake.live--;
    delete c;
}

int fake_discover(gj_conn *, int64_t, gj_host **out, size_t *n_out, gj_error *err)
{
    fake.discovers++;
    if (fake.discover_rc)
        return gj__error_set(err, fake.discover_rc, "not a coordinator");
    std::lock_guard<std::mutex> lock(fake.mu);
    auto *hosts = static_cast<gj_host *>(calloc(fake.members.size() + 1, sizeof(gj_host)));
    for (size_t i = 0; i < fake.members.size(); i++) {
        hosts[i].host = strdup(fake.members[i].first.c_str());
        hosts[i].port = fake.members[i].second;
    }
    *out = hosts;
    *n_out = fake.members.size();
    return 0;
}

const char *const fake_schemes[] = { "fake", nullptr };

gj_backend make_backend(unsigned max_inflight)
{
    gj_backend b;
    std::memset(&b, 0, sizeof b);
    b.name = "fake";
    b.schemes = fake_schemes;
    b.default_port = 7687;
    b.connect = fake_connect;
    b.execute = fake_execute;
    b.interrupt = nullptr;
    b.usable = fake_usable;
    b.ping = fake_ping;
    b.close = fake_close;
    b.max_inflight = max_inflight;
    return b;
}

const gj_backend plain_backend = make_backend(1);
const gj_backend mux_backend = make_backend(8);

gj_backend make_discovering_backend()
{
    gj_backend b = make_backend(1);
    b.discover = fake_discover;
    return b;
}
const gj_backend discovering_backend = make_discovering_backend();

// Settings with the documented defaults, over the given hosts.
struct Target {
    std::vector<std::string> names;
    std::vector<gj_host> hosts;
    gj_target_settings ts;

    explicit Target(std::vector<std::pair<std::string, int>> endpoints = { { "db1", 0 } })
    {
        std::memset(&ts, 0, sizeof ts);
        names.reserve(endpoints.size());
        for (auto &e : endpoints)
            names.push_back(e.first);
        for (size_t i = 0; i < endpoints.size(); i++)
            hosts.push_back(gj_host{ const_cast<char *>(names[i].c_str()), endpoints[i].second });
        ts.name = const_cast<char *>("default");
        ts.hosts = hosts.data();
        ts.n_hosts = hosts.size();
        ts.username = const_cast<char *>("neo4j");
        ts.password = const_cast<char *>("s3cret-pw");
        ts.ssl_verify = true;
        ts.response_timeout_ms = 30000;
        ts.connect_timeout_ms = 10000;
        ts.acquire_timeout_ms = 60000;
        ts.min_conns = 0;
        ts.max_conns = 4;
        ts.max_times_acquired = 16;
        ts.max_inflight = 64;
        ts.max_lifetime_ms = 3600000;
        ts.idle_timeout_ms = 300000;
        ts.liveness_check_ms = 30000;
        ts.host_backoff_ms = 1000;
        ts.max_message_size = 64u << 20;
    }
};

struct Logged {
    std::mutex mu;
    std::vector<std::pair<gj_log_level, std::string>> lines;
};

void capture_log(gj_log_level level, const char *message, void *payload)
{
    auto *l = static_cast<Logged *>(payload);
    std::lock_guard<std::mutex> lock(l->mu);
    l->lines.emplace_back(level, message);
}

int64_t ms_since(int64_t start)
{
    return gj__now_ms() - start;
}

// Poll until pred() holds, at most 5 s.
template <class Pred> bool eventually(Pred pred)
{
    int64_t until = gj__now_ms() + 5000;
    while (!pred()) {
        if (gj__now_ms() > until)
            return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
}

class PoolTest : public ::testing::Test {
  protected:
    gj_pool *pool = nullptr;
    gj_error *err = nullptr;

    void SetUp() override
    {
        fake.reset();
        err = gj_error_new();
        ASSERT_NE(err, nullptr);
    }

    void TearDown() override
    {
        if (pool)
            gj__pool_free(pool);
        pool = nullptr;
        gj_error_free(err);
        EXPECT_EQ(fake.live.load(), 0) << "connections left open after gj__pool_free";
    }

    void make(const Target &t, const gj_backend *b = &plain_backend, const gj_logger *log = nullptr)
    {
        ASSERT_EQ(gj__pool_new(&pool, b, &t.ts, log, err), 0) << gj_error_message(err);
    }

    gj_pool_stats stats()
    {
        gj_pool_stats s;
        gj__pool_stats(pool, &s);
        return s;
    }

    int acquire(gj_conn **c, int64_t timeout_ms, gj_error *e = nullptr)
    {
        return gj__pool_acquire(pool, gj__now_ms() + timeout_ms, c, e ? e : err);
    }
};

// "timed out after N ms <rest>": N is the timeout the test asked for, less
// the moment between the test's clock read and the pool's (a millisecond or
// more under valgrind), and <rest> exactly.
void expect_timeout_message(const char *msg, long ms, const std::string &rest)
{
    std::string m = msg ? msg : "";
    long n = -1;
    int used = 0;
    ASSERT_EQ(1, sscanf(m.c_str(), "timed out after %ld ms %n", &n, &used)) << m;
    EXPECT_LE(n, ms) << m;
    EXPECT_GE(n, ms - 10) << m;
    EXPECT_EQ(rest, m.substr((size_t)used)) << m;
}

TEST_F(PoolTest, RejectsBadSettings)
{
    Target t;
    t.ts.max_conns = 0;
    EXPECT_EQ(gj__pool_new(&pool, &plain_backend, &t.ts, nullptr, err), GJ_EINVAL);
    EXPECT_NE(std::string(gj_error_message(err)).find("max_conns 0"), std::string::npos) << gj_error_message(err);
    EXPECT_EQ(pool, nullptr);
    Target none;
    none.ts.n_hosts = 0;
    EXPECT_EQ(gj__pool_new(&pool, &plain_backend, &none.ts, nullptr, err), GJ_EINVAL);
    EXPECT_STREQ(gj_error_message(err), "target 'default': no hosts to connect to");
}

TEST_F(PoolTest, ReusesOneConnection)
{
    Target t;
    make(t);
    gj_conn *a = nullptr, *b = nullptr;
    ASSERT_EQ(acquire(&a, 1000), 0) << gj_error_message(err);
    ASSERT_NE(a, nullptr);
    EXPECT_EQ(stats().leased, 1u);
    gj__pool_release(pool, a);
    EXPECT_EQ(stats().idle, 1u);
    ASSERT_EQ(acquire(&b, 1000), 0);
    EXPECT_EQ(a, b);
    EXPECT_EQ(fake.connects[0].load(), 1);
    gj__pool_release(pool, b);
    gj_pool_stats s = stats();
    EXPECT_EQ(s.created, 1u);
    EXPECT_EQ(s.open, 1u);
    EXPECT_EQ(s.idle, 1u);
    EXPECT_EQ(s.leased, 0u);
    EXPECT_EQ(s.closed, 0u);
}

TEST_F(PoolTest, PortFallsBackToTargetThenBackendDefault)
{
    Target t({ { "a", 1111 }, { "b", 0 } });
    t.ts.port = 2222;
    t.ts.max_conns = 1;
    make(t);
    gj_conn *c = nullptr;
    ASSERT_EQ(acquire(&c, 1000), 0);
    gj_conn *d = nullptr;
    ASSERT_EQ(acquire(&d, 20), GJ_ETIMEDOUT);
    expect_timeout_message(gj_error_message(err), 20,
                           "waiting for a connection to a:1111, b:2222 (max_conns 1, all in use)");
    gj__pool_release(pool, c);

    gj__pool_free(pool);
    pool = nullptr;
    Target u({ { "::1", 0 } });
    u.ts.max_conns = 1;
    make(u);
    ASSERT_EQ(acquire(&c, 1000), 0);
    ASSERT_EQ(acquire(&d, 20), GJ_ETIMEDOUT);
    expect_timeout_message(gj_error_message(err), 20,
                           "waiting for a connection to [::1]:7687 (max_conns 1, all in use)");
    gj__pool_release(pool, c);
}

TEST_F(PoolTest, MaxConnsBoundsConcurrentLeases)
{
    Target t;
    t.ts.max_conns = 3;
    make(t);
    std::atomic<int> in_use{0}, max_in_use{0}, failures{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 8; i++)
        threads.emplace_back([&] {
            for (int k = 0; k < 200; k++) {
                gj_conn *c = nullptr;
                if (gj__pool_acquire(pool, gj__now_ms() + 10000, &c, nullptr) != 0) {
                    failures++;
                    continue;
                }
                int now = ++in_use;
                int seen = max_in_use;
                while (now > seen && !max_in_use.compare_exchange_weak(seen, now)) {
                }
                std::this_thread::sleep_for(std::chrono::microseconds(100));
                --in_use;
                gj__pool_release(pool, c);
            }
        });
    for (auto &th : threads)
        th.join();
    EXPECT_EQ(failures.load(), 0);
    EXPECT_EQ(max_in_use.load(), 3);
    gj_pool_stats s = stats();
    EXPECT_EQ(s.created, 3u);
    EXPECT_EQ(s.open, 3u);
    EXPECT_EQ(s.waiting, 0u);
    EXPECT_EQ(s.leased, 0u);
}

TEST_F(PoolTest, WaitersAreServedInArrivalOrder)
{
    Target t;
    t.ts.max_conns = 1;
    make(t);
    gj_conn *held = nullptr;
    ASSERT_EQ(acquire(&held, 1000), 0);
    std::mutex mu;
    std::vector<int> order;
    std::vector<std::thread> threads;
    const int n = 6;
    for (int i = 0; i < n; i++) {
        threads.emplace_back([&, i] {
            gj_conn *c = nullptr;
            if (gj__pool_acquire(pool, gj__now_ms() + 10000, &c, nullptr) != 0)
                return;
            {
                std::lock_guard<std::mutex> lock(mu);
                order.push_back(i);
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
            gj__pool_release(pool, c);
        });
        // The next thread starts only once this one is queued.
        ASSERT_TRUE(eventually([&] { return stats().waiting == (unsigned)i + 1; }));
    }
    gj__pool_release(pool, held);
    for (auto &th : threads)
        th.join();
    std::vector<int> expected;
    for (int i = 0; i < n; i++)
        expected.push_back(i);
    EXPECT_EQ(order, expected);
    EXPECT_EQ(stats().created, 1u);
}

TEST_F(PoolTest, NewcomerDoesNotOvertakeQueuedWaiter)
{
    Target t;
    t.ts.max_conns = 1;
    make(t);
    gj_conn *held = nullptr;
    ASSERT_EQ(acquire(&held, 1000), 0);
    std::atomic<bool> waiter_got{false};
    std::thread waiter([&] {
        gj_conn *c = nullptr;
        if (gj__pool_acquire(pool, gj__now_ms() + 10000, &c, nullptr) == 0) {
            waiter_got = true;
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
            gj__pool_release(pool, c);
        }
    });
    ASSERT_TRUE(eventually([&] { return stats().waiting == 1; }));
    // Release and immediately ask again from this thread: the queued waiter
    // goes first, so this acquire has to wait for its release.
    gj__pool_release(pool, held);
    gj_conn *again = nullptr;
    ASSERT_EQ(acquire(&again, 5000), 0);
    EXPECT_TRUE(waiter_got.load());
    gj__pool_release(pool, again);
    waiter.join();
}

TEST_F(PoolTest, AcquireTimeoutHasExactMessage)
{
    Target t;
    t.ts.max_conns = 1;
    make(t);
    gj_conn *held = nullptr;
    ASSERT_EQ(acquire(&held, 1000), 0);
    gj_conn *c = nullptr;
    int64_t start = gj__now_ms();
    EXPECT_EQ(acquire(&c, 100), GJ_ETIMEDOUT);
    int64_t took = ms_since(start);
    EXPECT_GE(took, 100);
    EXPECT_LT(took, 1000);
    EXPECT_EQ(c, nullptr);
    EXPECT_EQ(gj_error_code(err), GJ_ETIMEDOUT);
    expect_timeout_message(gj_error_message(err), 100,
                           "waiting for a connection to db1:7687 (max_conns 1, all in use)");
    EXPECT_EQ(stats().waiting, 0u);
    gj__pool_release(pool, held);
}

TEST_F(PoolTest, TimedOutWaiterPassesItsTurnOn)
{
    Target t;
    t.ts.max_conns = 1;
    make(t);
    for (int round = 0; round < 30; round++) {
        gj_conn *held = nullptr;
        ASSERT_EQ(acquire(&held, 1000), 0);
        std::atomic<int> first_rc{1}, second_rc{1};
        std::thread first([&] {
            gj_conn *c = nullptr;
            first_rc = gj__pool_acquire(pool, gj__now_ms() + 10, &c, nullptr);
            if (first_rc == 0)
                gj__pool_release(pool, c);
        });
        ASSERT_TRUE(eventually([&] { return stats().waiting == 1 || first_rc != 1; }));
        std::thread second([&] {
            gj_conn *c = nullptr;
            second_rc = gj__pool_acquire(pool, gj__now_ms() + 3000, &c, nullptr);
            if (second_rc == 0)
                gj__pool_release(pool, c);
        });
        ASSERT_TRUE(eventually([&] { return stats().waiting >= 1; }));
        // Release around the moment the first waiter gives up.
        std::this_thread::sleep_for(std::chrono::microseconds(round * 400));
        int64_t released = gj__now_ms();
        gj__pool_release(pool, held);
        first.join();
        second.join();
        EXPECT_EQ(second_rc.load(), 0) << "round " << round;
        EXPECT_LT(ms_since(released), 1000) << "round " << round;
        EXPECT_TRUE(first_rc == 0 || first_rc == GJ_ETIMEDOUT);
    }
    EXPECT_EQ(stats().waiting, 0u);
    EXPECT_EQ(stats().created, 1u);
}

TEST_F(PoolTest, TwoReleasesServeTwoWaiters)
{
    Target t;
    t.ts.max_conns = 2;
    make(t);
    for (int round = 0; round < 20; round++) {
        gj_conn *a = nullptr, *b = nullptr;
        ASSERT_EQ(acquire(&a, 1000), 0);
        ASSERT_EQ(acquire(&b, 1000), 0);
        std::atomic<int> served{0};
        std::vector<std::thread> waiters;
        for (int i = 0; i < 2; i++) {
            waiters.emplace_back([&] {
                gj_conn *c = nullptr;
                if (gj__pool_acquire(pool, gj__now_ms() + 5000, &c, nullptr) != 0)
                    return;
                served++;
                // Hold it until both are served, so neither release helps.
                eventually([&] { return served == 2; });
                gj__pool_release(pool, c);
            });
            ASSERT_TRUE(eventually([&] { return stats().waiting == (unsigned)i + 1; }));
        }
        int64_t start = gj__now_ms();
        gj__pool_release(pool, a);
        gj__pool_release(pool, b);
        ASSERT_TRUE(eventually([&] { return served == 2; }));
        EXPECT_LT(ms_since(start), 1000) << "round " << round;
        for (auto &th : waiters)
            th.join();
    }
    EXPECT_EQ(stats().created, 2u);
}

TEST_F(PoolTest, WaiterBehindAFailedHeadRetriesAfterBackoff)
{
    Target t;
    t.ts.max_conns = 1;
    t.ts.host_backoff_ms = 400;
    t.ts.connect_retry_ms = 5000;   // retries asked for
    make(t);
    gj_conn *held = nullptr;
    ASSERT_EQ(acquire(&held, 1000), 0);
    std::atomic<int> first_rc{1}, second_rc{1};
    std::atomic<int64_t> second_done{0};
    std::thread first([&] {
        gj_conn *c = nullptr;
        first_rc = gj__pool_acquire(pool, gj__now_ms() + 200, &c, nullptr);
        if (first_rc == 0)
            gj__pool_release(pool, c);
    });
    ASSERT_TRUE(eventually([&] { return stats().waiting == 1; }));
    std::thread second([&] {
        gj_conn *c = nullptr;
        second_rc = gj__pool_acquire(pool, gj__now_ms() + 5000, &c, nullptr);
        second_done = gj__now_ms();
        if (second_rc == 0)
            gj__pool_release(pool, c);
    });
    ASSERT_TRUE(eventually([&] { return stats().waiting == 2; }));
    // The connection dies and the host refuses: the first waiter connects,
    // fails, cannot retry before its deadline and gives up; the second must
    // then retry when the backoff ends, not sleep until its own deadline.
    fake.host_fails[0] = true;
    held->usable = false;
    int64_t start = gj__now_ms();
    gj__pool_release(pool, held);
    first.join();
    EXPECT_EQ(first_rc.load(), GJ_ECONNECT);
    fake.host_fails[0] = false;
    second.join();
    EXPECT_EQ(second_rc.load(), 0);
    EXPECT_GE(second_done - start, 350);
    EXPECT_LT(second_done - start, 2500);
}

TEST_F(PoolTest, DeadlineCoversSlowConnect)
{
    Target t;
    t.ts.host_backoff_ms = 10000;
    make(t);
    fake.connect_delay_ms = 5000;
    gj_conn *c = nullptr;
    int64_t start = gj__now_ms();
    int64_t deadline = start + 150;
    EXPECT_EQ(gj__pool_acquire(pool, deadline, &c, err), GJ_ETIMEDOUT);
    int64_t took = ms_since(start);
    EXPECT_GE(took, 140);
    EXPECT_LT(took, 1000);
    EXPECT_LE(fake.last_connect_deadline.load(), deadline);
    EXPECT_STREQ(gj_error_message(err), "could not connect to db1:7687: connect to db1:7687 timed out");
    EXPECT_EQ(stats().connect_failures, 1u);
    EXPECT_EQ(stats().open, 0u);
}

TEST_F(PoolTest, ConnectTimeoutBoundsEachConnect)
{
    Target t;
    t.ts.connect_timeout_ms = 100;
    t.ts.host_backoff_ms = 10000;
    make(t);
    fake.connect_delay_ms = 5000;
    gj_conn *c = nullptr;
    int64_t start = gj__now_ms();
    EXPECT_EQ(acquire(&c, 5000), GJ_ETIMEDOUT);
    int64_t took = ms_since(start);
    // One connect bounded by connect_timeout, then no host can be tried
    // before the deadline: fail at once instead of waiting 5 s.
    EXPECT_GE(took, 95);
    EXPECT_LT(took, 1500);
    EXPECT_GE(fake.last_connect_deadline.load(), start + 100);
    EXPECT_LE(fake.last_connect_deadline.load(), start + 150);
    EXPECT_EQ(fake.connects[0].load(), 1);
}

TEST_F(PoolTest, RoundRobinOverHosts)
{
    Target t({ { "a", 1 }, { "b", 2 } });
    make(t);
    gj_conn *c[4];
    for (auto &x : c)
        ASSERT_EQ(acquire(&x, 1000), 0);
    EXPECT_EQ(c[0]->host, 0u);
    EXPECT_EQ(c[1]->host, 1u);
    EXPECT_EQ(c[2]->host, 0u);
    EXPECT_EQ(c[3]->host, 1u);
    for (auto &x : c)
        gj__pool_release(pool, x);
}

TEST_F(PoolTest, DownHostIsSkippedThenRetriedAfterBackoff)
{
    Target t({ { "a", 1 }, { "b", 2 } });
    t.ts.host_backoff_ms = 200;
    Logged logged;
    gj_logger lg = { capture_log, GJ_LOG_DEBUG, &logged };
    make(t, &plain_backend, &lg);
    fake.host_fails[0] = true;

    gj_conn *c1 = nullptr, *c2 = nullptr, *c3 = nullptr;
    ASSERT_EQ(acquire(&c1, 1000), 0) << gj_error_message(err);
    EXPECT_EQ(c1->host, 1u);
    EXPECT_EQ(fake.connects[0].load(), 1);
    EXPECT_EQ(fake.connects[1].load(), 1);
    gj_pool_stats s = stats();
    EXPECT_EQ(s.hosts_down, 1u);
    EXPECT_EQ(s.connect_failures, 1u);

    // Within the backoff, a is not tried again.
    ASSERT_EQ(acquire(&c2, 1000), 0);
    EXPECT_EQ(c2->host, 1u);
    EXPECT_EQ(fake.connects[0].load(), 1);

    // After it, a is tried again and is back.
    fake.host_fails[0] = false;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    ASSERT_EQ(acquire(&c3, 1000), 0);
    EXPECT_EQ(c3->host, 0u);
    EXPECT_EQ(fake.connects[0].load(), 2);
    EXPECT_EQ(stats().hosts_down, 0u);
    gj__pool_release(pool, c1);
    gj__pool_release(pool, c2);
    gj__pool_release(pool, c3);

    std::lock_guard<std::mutex> lock(logged.mu);
    bool warned = false;
    for (auto &l : logged.lines) {
        EXPECT_EQ(l.second.find("s3cret-pw"), std::string::npos) << l.second;
        if (l.first == GJ_LOG_WARN && l.second.find("a:1") != std::string::npos)
            warned = true;
    }
    EXPECT_TRUE(warned);
}

TEST_F(PoolTest, BackoffDoublesAndRetriesWithinDeadline)
{
    Target t;
    t.ts.host_backoff_ms = 30;
    t.ts.connect_retry_ms = 3000;
    make(t);
    fake.fail_next[0] = 2;
    gj_conn *c = nullptr;
    int64_t start = gj__now_ms();
    ASSERT_EQ(acquire(&c, 3000), 0) << gj_error_message(err);
    // Failure, 30 ms, failure, 60 ms, success.
    EXPECT_GE(ms_since(start), 85);
    EXPECT_EQ(fake.connects[0].load(), 3);
    gj_pool_stats s = stats();
    EXPECT_EQ(s.connect_failures, 2u);
    EXPECT_EQ(s.hosts_down, 0u);
    EXPECT_EQ(s.created, 1u);
    gj__pool_release(pool, c);
}

TEST_F(PoolTest, AllHostsDownErrorNamesThem)
{
    Target t({ { "a", 1 }, { "b", 2 } });
    t.ts.host_backoff_ms = 10000;
    make(t);
    fake.host_fails[0] = true;
    fake.host_fails[1] = true;
    gj_conn *c = nullptr;
    int64_t start = gj__now_ms();
    EXPECT_EQ(acquire(&c, 3000), GJ_ECONNECT);
    EXPECT_LT(ms_since(start), 1000) << "no host can be retried before the deadline: fail fast";
    EXPECT_STREQ(gj_error_message(err), "could not connect to a:1, b:2: connection refused by b:2");
    EXPECT_EQ(stats().hosts_down, 2u);

    // A later caller (no connect_retry) probes each down host once itself,
    // whatever the backoff, and fails with what it saw.
    start = gj__now_ms();
    EXPECT_EQ(acquire(&c, 3000), GJ_ECONNECT);
    EXPECT_LT(ms_since(start), 1000);
    EXPECT_STREQ(gj_error_message(err), "could not connect to a:1, b:2: connection refused by b:2");
    EXPECT_EQ(fake.connects[0].load() + fake.connects[1].load(), 4);

}

TEST_F(PoolTest, EveryHostDownAndRetryWindowShorterThanBackoff)
{
    Target t({ { "a", 1 }, { "b", 2 } });
    t.ts.host_backoff_ms = 10000;
    t.ts.connect_retry_ms = 500;
    make(t);
    fake.host_fails[0] = true;
    fake.host_fails[1] = true;
    gj_conn *c = nullptr;
    int64_t start = gj__now_ms();
    EXPECT_EQ(acquire(&c, 3000), GJ_ECONNECT);
    // a and b refuse at once; no backoff ends within the 500 ms window, so
    // one last attempt is made when it closes, then the caller fails.
    int64_t took = ms_since(start);
    EXPECT_GE(took, 450);
    EXPECT_LT(took, 2500);
    EXPECT_EQ(fake.connects[0].load() + fake.connects[1].load(), 3);
    EXPECT_EQ(stats().hosts_down, 2u);
}

TEST_F(PoolTest, WithoutConnectRetryAServerThatCameBackIsUsedAtOnce)
{
    Target t;
    t.ts.host_backoff_ms = 60000;   // a long backoff must not delay the recovery
    make(t);
    fake.host_fails[0] = true;
    gj_conn *c = nullptr;
    int64_t start = gj__now_ms();
    EXPECT_EQ(acquire(&c, 5000), GJ_ECONNECT);
    EXPECT_LT(ms_since(start), 1000) << "a refused connect fails the caller at once";
    EXPECT_EQ(stats().hosts_down, 1u);
    fake.host_fails[0] = false;
    ASSERT_EQ(acquire(&c, 5000), 0) << gj_error_message(err);
    EXPECT_EQ(stats().hosts_down, 0u);
    gj__pool_release(pool, c);
}

TEST_F(PoolTest, WithoutConnectRetryAWaiterFailsWithAnotherCallersFailedConnect)
{
    Target t;
    t.ts.max_conns = 1;
    t.ts.host_backoff_ms = 60000;
    make(t);
    gj_conn *held = nullptr;
    ASSERT_EQ(acquire(&held, 1000), 0);
    std::atomic<int> rc{1};
    std::atomic<int64_t> done{0};
    std::thread waiter([&] {
        gj_conn *c = nullptr;
        gj_error *e = gj_error_new();
        rc = gj__pool_acquire(pool, gj__now_ms() + 10000, &c, e);
        done = gj__now_ms();
        gj_error_free(e);
        if (rc == 0)
            gj__pool_release(pool, c);
    });
    ASSERT_TRUE(eventually([&] { return stats().waiting == 1; }));
    // The held connection dies and the host refuses: the waiter connects,
    // fails, and reports it at once (not at its 10 s deadline).
    fake.host_fails[0] = true;
    held->usable = false;
    int64_t start = gj__now_ms();
    gj__pool_release(pool, held);
    waiter.join();
    EXPECT_EQ(rc.load(), GJ_ECONNECT);
    EXPECT_LT(done - start, 2000);
}

TEST_F(PoolTest, AnAbortedWaiterLeavesAtOnce)
{
    Target t;
    t.ts.max_conns = 1;
    make(t);
    gj_conn *held = nullptr;
    ASSERT_EQ(acquire(&held, 1000), 0);
    std::atomic<unsigned> state{0};
    gj_abort abort = { reinterpret_cast<const unsigned *>(&state), 0x8u, -1, nullptr, -1 };
    std::atomic<int> rc{1};
    std::atomic<int64_t> done{0};
    std::thread waiter([&] {
        gj_conn *c = nullptr;
        rc = gj__pool_acquire_for(pool, gj__now_ms() + 30000, &abort, &c, nullptr);
        done = gj__now_ms();
    });
    ASSERT_TRUE(eventually([&] { return stats().waiting == 1; }));
    int64_t start = gj__now_ms();
    state = 0x8u;            // the job was cancelled ...
    gj__pool_wake(pool);     // ... and the pool told
    waiter.join();
    EXPECT_EQ(rc.load(), GJ_ECANCELLED);
    EXPECT_LT(done - start, 2000);
    EXPECT_EQ(stats().waiting, 0u);
    gj__pool_release(pool, held);
    // The pool still serves others.
    gj_conn *c = nullptr;
    ASSERT_EQ(acquire(&c, 1000), 0);
    gj__pool_release(pool, c);
}

TEST_F(PoolTest, WrongCredentialsFailAtOnceNotAfterTheDeadline)
{
    Target t;
    t.ts.host_backoff_ms = 50; // retries would be possible before the deadline
    make(t);
    fake.auth_fails = true;
    gj_conn *c = nullptr;
    int64_t start = gj__now_ms();
    EXPECT_EQ(acquire(&c, 5000), GJ_EAUTH);
    EXPECT_LT(ms_since(start), 1000) << "an authentication failure is the answer, not a reason to retry";
    EXPECT_STREQ(gj_error_message(err),
                 "could not connect to db1:7687: authentication failed at db1:7687: wrong password");
    EXPECT_EQ(fake.connects[0].load(), 1);
    // Once the credentials work again (and the backoff passed) the pool recovers.
    fake.auth_fails = false;
    std::this_thread::sleep_for(std::chrono::milliseconds(60));
    ASSERT_EQ(acquire(&c, 5000), 0);
    gj__pool_release(pool, c);
}

TEST_F(PoolTest, UnusableConnectionIsClosedNotReused)
{
    Target t;
    make(t);
    gj_conn *a = nullptr, *b = nullptr;
    ASSERT_EQ(acquire(&a, 1000), 0);
    int first_id = a->id;
    a->usable = false;
    gj__pool_release(pool, a);
    gj_pool_stats s = stats();
    EXPECT_EQ(fake.closes.load(), 1);
    EXPECT_EQ(s.open, 0u);
    EXPECT_EQ(s.closed, 1u);
    ASSERT_EQ(acquire(&b, 1000), 0);
    EXPECT_NE(b->id, first_id);
    EXPECT_EQ(stats().created, 2u);
    gj__pool_release(pool, b);
}

TEST_F(PoolTest, ReleasePastLifetimeCloses)
{
    Target t;
    t.ts.max_lifetime_ms = 100;
    make(t);
    gj_conn *a = nullptr;
    ASSERT_EQ(acquire(&a, 1000), 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(130));
    gj__pool_release(pool, a);
    EXPECT_EQ(fake.closes.load(), 1);
    EXPECT_EQ(stats().open, 0u);
}

TEST_F(PoolTest, ReapClosesPastLifetime)
{
    Target t;
    t.ts.max_lifetime_ms = 100;
    make(t);
    gj_conn *a = nullptr;
    ASSERT_EQ(acquire(&a, 1000), 0);
    gj__pool_release(pool, a);
    gj__pool_reap(pool);
    EXPECT_EQ(stats().open, 1u);
    std::this_thread::sleep_for(std::chrono::milliseconds(130));
    gj__pool_reap(pool);
    gj_pool_stats s = stats();
    EXPECT_EQ(s.open, 0u);
    EXPECT_EQ(s.closed, 1u);
    EXPECT_EQ(fake.closes.load(), 1);
}

TEST_F(PoolTest, ReapClosesIdleButKeepsMinConns)
{
    Target t;
    t.ts.idle_timeout_ms = 100;
    t.ts.min_conns = 1;
    make(t);
    ASSERT_EQ(gj__pool_fill(pool, err), 0);
    EXPECT_EQ(stats().open, 1u);
    EXPECT_EQ(stats().idle, 1u);
    gj_conn *a = nullptr, *b = nullptr;
    ASSERT_EQ(acquire(&a, 1000), 0);
    ASSERT_EQ(acquire(&b, 1000), 0);
    gj__pool_release(pool, a);
    gj__pool_release(pool, b);
    EXPECT_EQ(stats().open, 2u);
    gj__pool_reap(pool);
    EXPECT_EQ(stats().open, 2u);
    std::this_thread::sleep_for(std::chrono::milliseconds(130));
    gj__pool_reap(pool);
    gj_pool_stats s = stats();
    EXPECT_EQ(s.open, 1u);
    EXPECT_EQ(s.idle, 1u);
    EXPECT_EQ(s.closed, 1u);
}

TEST_F(PoolTest, FillOpensMinConns)
{
    Target t({ { "a", 1 }, { "b", 2 } });
    t.ts.min_conns = 3;
    make(t);
    ASSERT_EQ(gj__pool_fill(pool, err), 0) << gj_error_message(err);
    gj_pool_stats s = stats();
    EXPECT_EQ(s.open, 3u);
    EXPECT_EQ(s.idle, 3u);
    EXPECT_EQ(fake.connects[0].load(), 2);
    EXPECT_EQ(fake.connects[1].load(), 1);
    ASSERT_EQ(gj__pool_fill(pool, err), 0);
    EXPECT_EQ(stats().created, 3u);
}

TEST_F(PoolTest, FillReportsConnectError)
{
    Target t;
    t.ts.min_conns = 2;
    make(t);
    fake.host_fails[0] = true;
    EXPECT_EQ(gj__pool_fill(pool, err), GJ_ECONNECT);
    EXPECT_STREQ(gj_error_message(err), "connection refused by db1:7687");
    EXPECT_EQ(stats().open, 0u);
    EXPECT_EQ(fake.connects[0].load(), 1);
}

TEST_F(PoolTest, LivenessCheckPingsOnlyAfterIdleThreshold)
{
    Target t;
    t.ts.liveness_check_ms = 100;
    make(t);
    gj_conn *c = nullptr;
    ASSERT_EQ(acquire(&c, 1000), 0);
    int first_id = c->id;
    gj__pool_release(pool, c);
    ASSERT_EQ(acquire(&c, 1000), 0);
    EXPECT_EQ(fake.pings.load(), 0);
    EXPECT_EQ(c->id, first_id);
    gj__pool_release(pool, c);

    std::this_thread::sleep_for(std::chrono::milliseconds(130));
    ASSERT_EQ(acquire(&c, 1000), 0);
    EXPECT_EQ(fake.pings.load(), 1);
    EXPECT_EQ(c->id, first_id);
    gj__pool_release(pool, c);

    // A failed ping closes the connection and acquire opens another.
    fake.ping_fails = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(130));
    ASSERT_EQ(acquire(&c, 1000), 0) << gj_error_message(err);
    EXPECT_EQ(fake.pings.load(), 2);
    EXPECT_NE(c->id, first_id);
    EXPECT_EQ(fake.closes.load(), 1);
    gj_pool_stats s = stats();
    EXPECT_EQ(s.created, 2u);
    EXPECT_EQ(s.closed, 1u);
    gj__pool_release(pool, c);
}

TEST_F(PoolTest, LivenessZeroAlwaysPingsNeverNeverDoes)
{
    Target t;
    t.ts.liveness_check_ms = 0;
    make(t);
    gj_conn *c = nullptr;
    for (int i = 0; i < 3; i++) {
        ASSERT_EQ(acquire(&c, 1000), 0);
        gj__pool_release(pool, c);
    }
    EXPECT_EQ(fake.pings.load(), 2);   // not on the fresh connection

    gj__pool_free(pool);
    pool = nullptr;
    fake.pings = 0;
    Target n;
    n.ts.liveness_check_ms = GJ_LIVENESS_NEVER;
    make(n);
    ASSERT_EQ(acquire(&c, 1000), 0);
    gj__pool_release(pool, c);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    ASSERT_EQ(acquire(&c, 1000), 0);
    gj__pool_release(pool, c);
    EXPECT_EQ(fake.pings.load(), 0);
}

TEST_F(PoolTest, MultiplexedConnectionsAreSharedUpToTheLimit)
{
    Target t;
    t.ts.max_conns = 2;
    t.ts.max_times_acquired = 3;   // backend allows 8, settings 3 and 64
    make(t, &mux_backend);
    gj_conn *c[6];
    for (auto &x : c)
        ASSERT_EQ(acquire(&x, 1000), 0) << gj_error_message(err);
    EXPECT_EQ(c[0], c[1]);
    EXPECT_EQ(c[0], c[2]);
    EXPECT_NE(c[0], c[3]);
    EXPECT_EQ(c[3], c[4]);
    EXPECT_EQ(c[3], c[5]);
    gj_pool_stats s = stats();
    EXPECT_EQ(s.open, 2u);
    EXPECT_EQ(s.leased, 2u);
    EXPECT_EQ(s.created, 2u);
    gj_conn *extra = nullptr;
    EXPECT_EQ(acquire(&extra, 30), GJ_ETIMEDOUT);

    // One seat frees up on the first connection: the next caller gets it.
    gj__pool_release(pool, c[1]);
    ASSERT_EQ(acquire(&extra, 1000), 0);
    EXPECT_EQ(extra, c[0]);
    gj__pool_release(pool, extra);
    for (int i : { 0, 2, 3, 4, 5 })
        gj__pool_release(pool, c[i]);
    s = stats();
    EXPECT_EQ(s.leased, 0u);
    EXPECT_EQ(s.idle, 2u);
}

TEST_F(PoolTest, MultiplexLimitIsTheSmallestOfTheThree)
{
    Target t;
    t.ts.max_conns = 1;
    t.ts.max_inflight = 2;
    make(t, &mux_backend);
    gj_conn *a = nullptr, *b = nullptr, *d = nullptr;
    ASSERT_EQ(acquire(&a, 1000), 0);
    ASSERT_EQ(acquire(&b, 1000), 0);
    EXPECT_EQ(a, b);
    int first_id = a->id;
    EXPECT_EQ(acquire(&d, 20), GJ_ETIMEDOUT);
    // An unusable shared connection is closed when its last user gives it back.
    a->usable = false;
    gj__pool_release(pool, a);
    EXPECT_EQ(fake.closes.load(), 0);
    EXPECT_EQ(acquire(&d, 20), GJ_ETIMEDOUT) << "a retiring connection takes no new users";
    gj__pool_release(pool, b);
    EXPECT_EQ(fake.closes.load(), 1);
    ASSERT_EQ(acquire(&d, 1000), 0);
    EXPECT_NE(d->id, first_id);
    gj__pool_release(pool, d);
}

TEST_F(PoolTest, ShutdownWakesWaitersAndFreeWaitsForLeases)
{
    Target t;
    t.ts.max_conns = 1;
    make(t);
    gj_conn *held = nullptr;
    ASSERT_EQ(acquire(&held, 1000), 0);
    std::atomic<int> waiter_rc{1};
    std::string waiter_msg;
    std::thread waiter([&] {
        gj_error *e = gj_error_new();
        gj_conn *c = nullptr;
        waiter_rc = gj__pool_acquire(pool, gj__now_ms() + 10000, &c, e);
        waiter_msg = gj_error_message(e);
        gj_error_free(e);
    });
    ASSERT_TRUE(eventually([&] { return stats().waiting == 1; }));
    int64_t start = gj__now_ms();
    gj__pool_shutdown(pool);
    waiter.join();
    EXPECT_LT(ms_since(start), 1000);
    EXPECT_EQ(waiter_rc.load(), GJ_ESHUTDOWN);
    EXPECT_EQ(waiter_msg, "the connection pool for db1:7687 is shutting down");
    gj_conn *c = nullptr;
    EXPECT_EQ(acquire(&c, 1000), GJ_ESHUTDOWN);

    // free() blocks until the leased connection comes back from another thread.
    std::atomic<bool> released{false};
    std::thread releaser([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        released = true;
        gj__pool_release(pool, held);
    });
    start = gj__now_ms();
    gj__pool_free(pool);
    pool = nullptr;
    EXPECT_TRUE(released.load());
    EXPECT_GE(ms_since(start), 150);
    releaser.join();
    EXPECT_EQ(fake.closes.load(), 1);
    EXPECT_EQ(fake.live.load(), 0);
}

TEST_F(PoolTest, FreeClosesIdleConnections)
{
    Target t;
    t.ts.min_conns = 3;
    make(t);
    ASSERT_EQ(gj__pool_fill(pool, err), 0);
    EXPECT_EQ(fake.live.load(), 3);
    gj__pool_free(pool);
    pool = nullptr;
    EXPECT_EQ(fake.closes.load(), 3);
}

TEST_F(PoolTest, StressCountersAddUp)
{
    Target t({ { "a", 1 }, { "b", 2 } });
    t.ts.max_conns = 4;
    t.ts.host_backoff_ms = 1;
    t.ts.liveness_check_ms = 0;
    t.ts.min_conns = 1;
    make(t);
    fake.random_fail_permille = 20;
    fake.random_ping_fail_permille = 10;
    const int threads_n = 8, per_thread = 20000;
    std::atomic<int> ok{0}, failed{0}, in_use{0}, max_in_use{0};
    std::atomic<bool> stop{false};
    std::thread housekeeper([&] {
        while (!stop) {
            gj__pool_reap(pool);
            gj__pool_fill(pool, nullptr);
            gj_pool_stats s;
            gj__pool_stats(pool, &s);
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
    });
    std::vector<std::thread> threads;
    for (int i = 0; i < threads_n; i++)
        threads.emplace_back([&] {
            std::minstd_rand rng(std::hash<std::thread::id>()(std::this_thread::get_id()));
            for (int k = 0; k < per_thread; k++) {
                gj_conn *c = nullptr;
                if (gj__pool_acquire(pool, gj__now_ms() + 10000, &c, nullptr) != 0) {
                    failed++;
                    continue;
                }
                ok++;
                int now = ++in_use;
                int seen = max_in_use;
                while (now > seen && !max_in_use.compare_exchange_weak(seen, now)) {
                }
                if (rng() % 1000 < 20)
                    c->usable = false;
                --in_use;
                gj__pool_release(pool, c);
            }
        });
    for (auto &th : threads)
        th.join();
    stop = true;
    housekeeper.join();
    EXPECT_EQ(ok + failed, threads_n * per_thread);
    EXPECT_GT(ok.load(), threads_n * per_thread * 9 / 10);
    EXPECT_LE(max_in_use.load(), 4);
    gj_pool_stats s = stats();
    EXPECT_EQ(s.created - s.closed, (uint64_t)s.open);
    EXPECT_EQ(s.created, (uint64_t)fake.connect_ok.load());
    EXPECT_EQ(s.closed, (uint64_t)fake.closes.load());
    EXPECT_EQ((int)s.open, fake.live.load());
    EXPECT_EQ(s.leased, 0u);
    EXPECT_EQ(s.waiting, 0u);
    EXPECT_EQ(s.idle, s.open);
    EXPECT_GT(s.connect_failures, 0u);
    EXPECT_GT(s.closed, 0u);
    gj__pool_free(pool);
    pool = nullptr;
    EXPECT_EQ(fake.live.load(), 0);
}

// ---- discovery ---------------------------------------------------------------

// options: {discover: true[, discover_interval: ms]} owned by the test.
struct DiscoverOptions {
    gj_value *map = nullptr;
    explicit DiscoverOptions(gj_value *discover, int64_t interval_ms = 0)
    {
        gj_value_new_map(&map, 2);
        gj_value_map_put_str(map, "discover", discover);
        if (interval_ms)
            gj_value_map_put_str(map, "discover_interval", gj_value_int(interval_ms));
    }
    ~DiscoverOptions() { gj_value_unref(map); }
};

std::vector<std::string> connect_names()
{
    std::lock_guard<std::mutex> lock(fake.mu);
    return fake.connect_names;
}

TEST_F(PoolTest, DiscoveredMembersAreServedRoundRobin)
{
    Target t({ { "db1", 1 } });
    t.ts.max_conns = 6;
    DiscoverOptions o(gj_value_bool(true));
    t.ts.options = o.map;
    fake.members = { { "db1", 1 }, { "db2", 2 }, { "db3", 3 } };
    make(t, &discovering_backend);
    std::vector<gj_conn *> held;
    for (int i = 0; i < 6; i++) {
        gj_conn *c = nullptr;
        ASSERT_EQ(acquire(&c, 2000), 0) << gj_error_message(err);
        held.push_back(c);
    }
    EXPECT_EQ(fake.discovers.load(), 1);   // asked once, on the first connection
    std::vector<std::string> want = { "db1:1", "db2:2", "db3:3", "db1:1", "db2:2", "db3:3" };
    EXPECT_EQ(connect_names(), want);
    for (gj_conn *c : held)
        gj__pool_release(pool, c);
}

TEST_F(PoolTest, SeedsNotListedAreTheFallbackAndDiscoveryIsAskedAgain)
{
    Target t({ { "lb", 9 } });
    t.ts.max_conns = 4;
    t.ts.host_backoff_ms = 60000;
    DiscoverOptions o(gj_value_string("true"));
    t.ts.options = o.map;
    fake.members = { { "db2", 2 }, { "db3", 3 } };
    make(t, &discovering_backend);
    std::vector<gj_conn *> held;
    for (int i = 0; i < 3; i++) {
        gj_conn *c = nullptr;
        ASSERT_EQ(acquire(&c, 2000), 0) << gj_error_message(err);
        held.push_back(c);
    }
    // The seed only for the first connection; then the members.
    std::vector<std::string> want = { "lb:9", "db2:2", "db3:3" };
    EXPECT_EQ(connect_names(), want);
    EXPECT_EQ(fake.discovers.load(), 1);
    // Both members die: the connections are dropped, new ones fall back to
    // the seed, and that connection asks for the members again.
    fake.host_fails[1] = fake.host_fails[2] = true;
    for (gj_conn *c : held) {
        c->usable = false;
        gj__pool_release(pool, c);
    }
    gj_conn *c = nullptr;
    ASSERT_EQ(acquire(&c, 2000), 0) << gj_error_message(err);
    EXPECT_EQ(c->host, 0u);   // the seed
    want = { "lb:9", "db2:2", "db3:3", "db2:2", "db3:3", "lb:9" };
    EXPECT_EQ(connect_names(), want);
    EXPECT_EQ(fake.discovers.load(), 2);
    EXPECT_EQ(stats().hosts_down, 2u);
    gj__pool_release(pool, c);
}

TEST_F(PoolTest, SingleServerKeepsTheConfiguredHosts)
{
    Target t({ { "a", 1 }, { "b", 2 } });
    DiscoverOptions o(gj_value_bool(true));
    t.ts.options = o.map;
    fake.discover_rc = GJ_EUNSUPPORTED;
    Logged logged;
    gj_logger log = { capture_log, GJ_LOG_DEBUG, &logged };
    make(t, &discovering_backend, &log);
    std::vector<gj_conn *> held;
    for (int i = 0; i < 3; i++) {
        gj_conn *c = nullptr;
        ASSERT_EQ(acquire(&c, 2000), 0) << gj_error_message(err);
        held.push_back(c);
    }
    std::vector<std::string> want = { "a:1", "b:2", "a:1" };
    EXPECT_EQ(connect_names(), want);
    EXPECT_EQ(fake.discovers.load(), 1);   // not asked again
    bool logged_it = false;
    {
        std::lock_guard<std::mutex> lock(logged.mu);
        for (auto &l : logged.lines)
            logged_it = logged_it || (l.second.find("a:1 is not part of a cluster") != std::string::npos &&
                                      l.second.find("keeping the configured hosts") != std::string::npos);
    }
    EXPECT_TRUE(logged_it);
    for (gj_conn *c : held)
        gj__pool_release(pool, c);
}

TEST_F(PoolTest, DiscoveryIsAskedAgainAtTheInterval)
{
    Target t({ { "db1", 1 } });
    DiscoverOptions o(gj_value_bool(true), 50);
    t.ts.options = o.map;
    fake.members = { { "db1", 1 } };
    make(t, &discovering_backend);
    gj_conn *a = nullptr, *b = nullptr;
    ASSERT_EQ(acquire(&a, 2000), 0);
    gj__pool_release(pool, a);
    ASSERT_EQ(acquire(&a, 2000), 0);   // within the interval: not asked
    EXPECT_EQ(fake.discovers.load(), 1);
    gj__pool_release(pool, a);
    {
        std::lock_guard<std::mutex> lock(fake.mu);
        fake.members = { { "db1", 1 }, { "db4", 4 } };
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(80));
    ASSERT_EQ(acquire(&a, 2000), 0);   // the idle connection asks again
    EXPECT_EQ(fake.discovers.load(), 2);
    ASSERT_EQ(acquire(&b, 2000), 0);   // a new connection: the new member
    EXPECT_EQ(connect_names().back(), "db4:4");
    gj__pool_release(pool, a);
    gj__pool_release(pool, b);
}

TEST_F(PoolTest, NoDiscoveryWithoutTheOption)
{
    Target t({ { "a", 1 }, { "b", 2 } });
    DiscoverOptions off(gj_value_bool(false));
    t.ts.options = off.map;
    fake.members = { { "z", 26 } };
    make(t, &discovering_backend);
    gj_conn *a = nullptr, *b = nullptr;
    ASSERT_EQ(acquire(&a, 2000), 0);
    ASSERT_EQ(acquire(&b, 2000), 0);
    EXPECT_EQ(fake.discovers.load(), 0);
    std::vector<std::string> want = { "a:1", "b:2" };
    EXPECT_EQ(connect_names(), want);
    gj__pool_release(pool, a);
    gj__pool_release(pool, b);
}

}  // namespace
