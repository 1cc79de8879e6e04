// lib/transport/ws (the WebSocket client on libwebsockets) against a real
// peer: tests/peers/ws_peer.js, a server made with node's `ws` package (one
// mode per process: echo, big, frag, close, silent, subprotocol, reject,
// wss).  Skipped, with the reason, when node or the package is missing
// (cd tests/peers && npm ci).
//
// Waits are event-driven with generous limits (30 s); the few bounds the
// transport promises (an abort ends a connect within 1 s, the service frees
// within 1 s, a refused port fails fast) are asserted as such, and every
// measured time is printed as "[ measure ] ...".
extern "C" {
#include "transport/ws.h"
}

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <signal.h>
#include <string.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "../integration/arango_server.h"
#include "../integration/server_process.h"

using gjtest::ServerProcess;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kWaitMs = 30000;

double ms_since(Clock::time_point t0)
{
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

std::string src_dir()
{
    const char *s = getenv("GJ_SRCDIR");
    return s ? s : GJ_SRCDIR;
}

// node from PATH, or "".
std::string find_node()
{
    const char *path = getenv("PATH");
    std::string p = path ? path : "/usr/bin:/bin";
    size_t at = 0;
    while (at <= p.size()) {
        size_t end = p.find(':', at);
        if (end == std::string::npos)
            end = p.size();
        std::string dir = p.substr(at, end - at);
        std::string cand = (dir.empty() ? "." : dir) + "/node";
        if (access(cand.c_str(), X_OK) == 0)
            return cand;
        at = end + 1;
    }
    return "";
}

// Why the peer cannot run here, or "".
std::string peer_missing()
{
    if (find_node().empty())
        return "node is not in PATH";
    std::string pkg = src_dir() + "/tests/peers/node_modules/ws/package.json";
    if (access(pkg.c_str(), R_OK) != 0)
        return "the npm package ws is not installed (cd tests/peers && npm ci)";
    return "";
}

std::unique_ptr<ServerProcess> start_peer(const std::vector<std::string> &mode_args)
{
    std::vector<std::string> args = { src_dir() + "/tests/peers/ws_peer.js" };
    args.insert(args.end(), mode_args.begin(), mode_args.end());
    return std::make_unique<ServerProcess>(find_node(), args, 1, kWaitMs);
}

// What the handlers saw.
struct Seen {
    std::mutex mu;
    std::condition_variable cv;
    std::vector<std::pair<std::string, bool>> messages;   // data, binary
    int closes = 0;
    int close_code = 0;
    std::string close_reason;
    std::atomic<int> after_close{ 0 };                     // messages after on_close

    static void on_message(void *arg, const uint8_t *data, size_t len, bool binary)
    {
        auto *s = static_cast<Seen *>(arg);
        std::lock_guard<std::mutex> lk(s->mu);
        if (s->closes)
            s->after_close++;
        s->messages.emplace_back(std::string(reinterpret_cast<const char *>(data), len), binary);
        s->cv.notify_all();
    }
    static void on_close(void *arg, int code, const char *reason)
    {
        auto *s = static_cast<Seen *>(arg);
        std::lock_guard<std::mutex> lk(s->mu);
        s->closes++;
        s->close_code = code;
        s->close_reason = reason ? reason : "(null)";
        s->cv.notify_all();
    }
    gj_ws_handlers handlers() { return gj_ws_handlers{ on_message, on_close, this }; }

    bool wait_messages(size_t n, int ms = kWaitMs)
    {
        std::unique_lock<std::mutex> lk(mu);
        return cv.wait_for(lk, std::chrono::milliseconds(ms), [&] { return messages.size() >= n; });
    }
    bool wait_close(int ms = kWaitMs)
    {
        std::unique_lock<std::mutex> lk(mu);
        return cv.wait_for(lk, std::chrono::milliseconds(ms), [&] { return closes > 0; });
    }
    size_t count()
    {
        std::lock_guard<std::mutex> lk(mu);
        return messages.size();
    }
    std::pair<std::string, bool> message(size_t i)
    {
        std::lock_guard<std::mutex> lk(mu);
        return messages.at(i);
    }
};

struct ErrorDeleter {
    void operator()(gj_error *e) const { gj_error_free(e); }
};
using ErrorPtr = std::unique_ptr<gj_error, ErrorDeleter>;

class WsTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        std::string why = peer_missing();
        if (!why.empty())
            GTEST_SKIP() << why;
        err_.reset(gj_error_new());
        ASSERT_EQ(gj__ws_service_new(&service_, "ws-test", nullptr, err_.get()), 0)
            << gj_error_message(err_.get());
    }
    void TearDown() override
    {
        for (gj_ws *ws : open_)
            gj__ws_close(ws, 1000, "");
        gj__ws_service_free(service_);
    }

    bool start(const std::vector<std::string> &mode_args)
    {
        peer_ = start_peer(mode_args);
        if (!peer_->ok()) {
            ADD_FAILURE() << "ws_peer.js did not start: " << peer_->error() << "\n" << peer_->log();
            return false;
        }
        return true;
    }

    gj_ws_config config(const char *path = "/")
    {
        gj_ws_config c{};
        c.name = "ws-test peer";
        c.host = "127.0.0.1";
        c.port = peer_ ? peer_->port() : 0;
        c.path = path;
        c.verify = true;
        return c;
    }

    // Connect (deadline 30 s); the handle is closed by TearDown.
    gj_ws *connect(const gj_ws_config &cfg, Seen &seen)
    {
        gj_ws_handlers h = seen.handlers();
        gj_ws *ws = nullptr;
        int rc = gj__ws_connect(&ws, service_, &cfg, &h, nullptr, gj__now_ms() + kWaitMs,
                                err_.get());
        EXPECT_EQ(rc, 0) << gj_error_message(err_.get());
        if (ws)
            open_.push_back(ws);
        return ws;
    }

    int connect_error(const gj_ws_config &cfg, Seen &seen, int64_t deadline_ms = -1,
                      const gj_abort *abort = nullptr)
    {
        gj_ws_handlers h = seen.handlers();
        gj_ws *ws = nullptr;
        int rc = gj__ws_connect(&ws, service_, &cfg, &h, abort,
                                deadline_ms < 0 ? gj__now_ms() + kWaitMs : deadline_ms, err_.get());
        EXPECT_EQ(ws, nullptr);
        if (ws)
            open_.push_back(ws);
        return rc;
    }

    void close(gj_ws *ws, int code = 1000, const char *reason = "")
    {
        for (auto it = open_.begin(); it != open_.end(); ++it)
            if (*it == ws) {
                open_.erase(it);
                break;
            }
        gj__ws_close(ws, code, reason);
    }

    int send(gj_ws *ws, const std::string &data, bool binary)
    {
        return gj__ws_send(ws, data.data(), data.size(), binary, gj__now_ms() + kWaitMs,
                           err_.get());
    }

    std::string message() { return gj_error_message(err_.get()); }

    // Wait until the peer logged `line` (its stderr), up to kWaitMs.
    bool peer_logged(const std::string &line)
    {
        auto t0 = Clock::now();
        while (ms_since(t0) < kWaitMs) {
            if (peer_ && peer_->log().find(line) != std::string::npos)
                return true;
            usleep(10000);
        }
        return false;
    }

    gj_ws_service *service_ = nullptr;
    std::unique_ptr<ServerProcess> peer_;
    ErrorPtr err_;
    std::vector<gj_ws *> open_;
    // Handlers' state outlives the connections (TearDown closes them first).
    std::vector<std::unique_ptr<Seen>> seen_;
    Seen &new_seen()
    {
        seen_.push_back(std::make_unique<Seen>());
        return *seen_.back();
    }
};

std::string pattern(size_t n, unsigned seed)
{
    std::string s(n, '\0');
    for (size_t i = 0; i < n; i++)
        s[i] = static_cast<char>('a' + (i * 7 + seed) % 26);   // valid UTF-8 text
    return s;
}

// ---- messages ----------------------------------------------------------------

TEST_F(WsTest, EchoesTextAndBinaryFromOneByteToEightMiB)
{
    ASSERT_TRUE(start({ "echo" }));
    Seen &seen = new_seen();
    gj_ws_config cfg = config();
    gj_ws *ws = connect(cfg, seen);
    ASSERT_NE(ws, nullptr);
    EXPECT_TRUE(gj__ws_is_open(ws));
    EXPECT_EQ(gj__ws_protocol(ws), nullptr);
    const size_t sizes[] = { 1, 125, 126, 127, 65535, 65536, 65537, 300000, 1u << 20, 8u << 20 };
    size_t expected = 0;
    for (size_t n : sizes) {
        for (bool binary : { false, true }) {
            std::string data = pattern(n, static_cast<unsigned>(n + binary));
            if (binary)
                data[0] = '\0';
            auto t0 = Clock::now();
            ASSERT_EQ(send(ws, data, binary), 0) << message();
            ASSERT_TRUE(seen.wait_messages(++expected)) << "no echo of " << n << " bytes";
            auto got = seen.message(expected - 1);
            EXPECT_EQ(got.second, binary) << n;
            ASSERT_EQ(got.first.size(), n);
            EXPECT_TRUE(got.first == data) << "echo of " << n << " bytes differs";
            if (n >= (1u << 20))
                printf("[ measure ] echo of %zu bytes (%s): %.1f ms\n", n,
                       binary ? "binary" : "text", ms_since(t0));
        }
    }
    EXPECT_EQ(seen.closes, 0);
}

TEST_F(WsTest, EmptyMessageEchoes)
{
    ASSERT_TRUE(start({ "echo" }));
    Seen &seen = new_seen();
    gj_ws_config cfg = config();
    gj_ws *ws = connect(cfg, seen);
    ASSERT_NE(ws, nullptr);
    ASSERT_EQ(gj__ws_send(ws, nullptr, 0, true, gj__now_ms() + kWaitMs, err_.get()), 0);
    ASSERT_TRUE(seen.wait_messages(1));
    EXPECT_EQ(seen.message(0).first, "");
    EXPECT_TRUE(seen.message(0).second);
}

TEST_F(WsTest, ThousandMessagesFromFourThreadsKeepEachThreadsOrder)
{
    ASSERT_TRUE(start({ "echo" }));
    Seen &seen = new_seen();
    gj_ws_config cfg = config();
    gj_ws *ws = connect(cfg, seen);
    ASSERT_NE(ws, nullptr);
    constexpr int kThreads = 4, kEach = 250;
    std::atomic<int> failures{ 0 };
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; t++)
        threads.emplace_back([&, t] {
            gj_error *e = gj_error_new();
            for (int i = 0; i < kEach; i++) {
                std::string m = std::to_string(t) + ":" + std::to_string(i) + ":" + pattern(i, t);
                if (gj__ws_send(ws, m.data(), m.size(), (i & 1) != 0, gj__now_ms() + kWaitMs, e))
                    failures++;
            }
            gj_error_free(e);
        });
    for (auto &th : threads)
        th.join();
    EXPECT_EQ(failures.load(), 0);
    ASSERT_TRUE(seen.wait_messages(kThreads * kEach)) << seen.count() << " echoes";
    int next[kThreads] = { 0, 0, 0, 0 };
    for (size_t i = 0; i < seen.count(); i++) {
        auto m = seen.message(i);
        int t = -1, n = -1;
        ASSERT_EQ(sscanf(m.first.c_str(), "%d:%d:", &t, &n), 2) << m.first.substr(0, 20);
        ASSERT_TRUE(t >= 0 && t < kThreads);
        EXPECT_EQ(n, next[t]) << "thread " << t << " out of order";
        EXPECT_EQ(m.second, (n & 1) != 0);
        EXPECT_EQ(m.first, std::to_string(t) + ":" + std::to_string(n) + ":" + pattern(n, t));
        next[t] = n + 1;
    }
    for (int t = 0; t < kThreads; t++)
        EXPECT_EQ(next[t], kEach);
}

TEST_F(WsTest, FragmentsAreReassembled)
{
    ASSERT_TRUE(start({ "frag", "7" }));
    Seen &seen = new_seen();
    gj_ws_config cfg = config();
    gj_ws *ws = connect(cfg, seen);
    ASSERT_NE(ws, nullptr);
    std::string text = "hello, fragmented world";
    std::string bin = pattern(300001, 5);
    bin[7] = '\0';
    ASSERT_EQ(send(ws, text, false), 0);
    ASSERT_EQ(send(ws, bin, true), 0);
    ASSERT_TRUE(seen.wait_messages(2));
    EXPECT_EQ(seen.count(), 2u);   // one message each, not seven
    EXPECT_EQ(seen.message(0).first, text);
    EXPECT_FALSE(seen.message(0).second);
    EXPECT_TRUE(seen.message(1).first == bin);
    EXPECT_TRUE(seen.message(1).second);
}

// ---- limits ------------------------------------------------------------------

TEST_F(WsTest, MessageOverMaxMessageClosesWith1009)
{
    ASSERT_TRUE(start({ "big", std::to_string(2 << 20) }));
    Seen &seen = new_seen();
    gj_ws_config cfg = config();
    cfg.max_message = 1 << 20;
    gj_ws *ws = connect(cfg, seen);
    ASSERT_NE(ws, nullptr);
    ASSERT_EQ(send(ws, "go", false), 0);
    ASSERT_TRUE(seen.wait_close());
    EXPECT_EQ(seen.close_code, 1009);
    EXPECT_EQ(seen.close_reason,
              "message of at least 2097152 bytes exceeds max_message_size (1048576 bytes)");
    EXPECT_EQ(seen.count(), 0u);
    EXPECT_FALSE(gj__ws_is_open(ws));
    EXPECT_EQ(send(ws, "more", false), GJ_EIO);
    EXPECT_NE(message().find("1009"), std::string::npos) << message();
    // The peer got a close frame saying so.
    EXPECT_TRUE(
        peer_logged("close 1009 message of at least 2097152 bytes exceeds max_message_size"))
        << peer_->log();
    EXPECT_EQ(seen.closes, 1);
}

TEST_F(WsTest, FragmentedMessageOverMaxMessageIsRefusedEarly)
{
    ASSERT_TRUE(start({ "frag", "8" }));
    Seen &seen = new_seen();
    gj_ws_config cfg = config();
    cfg.max_message = 1 << 20;
    gj_ws *ws = connect(cfg, seen);
    ASSERT_NE(ws, nullptr);
    // 2 MiB out (the limit is on what comes in), 8 fragments of 256 KiB back.
    ASSERT_EQ(send(ws, pattern(2 << 20, 1), true), 0);
    ASSERT_TRUE(seen.wait_close());
    EXPECT_EQ(seen.close_code, 1009);
    unsigned long n = 0;
    ASSERT_EQ(sscanf(seen.close_reason.c_str(),
                     "message of at least %lu bytes exceeds max_message_size (1048576 bytes)", &n),
              1)
        << seen.close_reason;
    // Refused at the fifth fragment: before the whole message was read.
    EXPECT_GT(n, 1ul << 20);
    EXPECT_LE(n, 5ul << 18);
    EXPECT_EQ(seen.count(), 0u);
}

// ---- closing -----------------------------------------------------------------

TEST_F(WsTest, PeerCloseCodeAndReasonReachOnClose)
{
    ASSERT_TRUE(start({ "close", "4000", "bye now" }));
    Seen &seen = new_seen();
    gj_ws_config cfg = config();
    gj_ws *ws = connect(cfg, seen);
    ASSERT_NE(ws, nullptr);
    ASSERT_EQ(send(ws, "x", false), 0);
    ASSERT_TRUE(seen.wait_close());
    EXPECT_EQ(seen.close_code, 4000);
    EXPECT_EQ(seen.close_reason, "bye now");
    EXPECT_FALSE(gj__ws_is_open(ws));
    EXPECT_EQ(send(ws, "y", false), GJ_EIO);
    EXPECT_NE(message().find("connection closed: 4000 bye now"), std::string::npos) << message();
    usleep(100000);
    EXPECT_EQ(seen.closes, 1);
}

TEST_F(WsTest, DroppedConnectionIs1006ConnectionLost)
{
    ASSERT_TRUE(start({ "echo" }));
    Seen &seen = new_seen();
    gj_ws_config cfg = config("/drop");
    gj_ws *ws = connect(cfg, seen);
    ASSERT_NE(ws, nullptr);
    ASSERT_EQ(send(ws, "x", false), 0);
    ASSERT_TRUE(seen.wait_close());
    EXPECT_EQ(seen.close_code, 1006);
    EXPECT_EQ(seen.close_reason, "connection lost");
    usleep(100000);
    EXPECT_EQ(seen.closes, 1);
}

TEST_F(WsTest, CloseSendsTheFrameAndNoHandlerRunsAfter)
{
    ASSERT_TRUE(start({ "echo" }));
    Seen &seen = new_seen();
    gj_ws_config cfg = config();
    gj_ws *ws = connect(cfg, seen);
    ASSERT_NE(ws, nullptr);
    for (int i = 0; i < 50; i++)
        ASSERT_EQ(send(ws, "m" + std::to_string(i), false), 0);
    close(ws, 4321, "done here");
    size_t n;
    int closes;
    {
        std::lock_guard<std::mutex> lk(seen.mu);
        n = seen.messages.size();
        closes = seen.closes;
    }
    EXPECT_LE(closes, 1);
    if (closes) {
        EXPECT_EQ(seen.close_code, 4321);
    }
    EXPECT_EQ(seen.after_close.load(), 0);
    // The peer got the close frame (after the queued messages), and
    // nothing more arrives once gj__ws_close returned.
    EXPECT_TRUE(peer_logged("close 4321 done here")) << peer_->log();
    std::lock_guard<std::mutex> lk(seen.mu);
    EXPECT_EQ(seen.messages.size(), n);
    EXPECT_EQ(seen.closes, closes);
}

// ---- keep-alive ----------------------------------------------------------------

TEST_F(WsTest, PingsKeepALiveConnectionOpen)
{
    ASSERT_TRUE(start({ "echo" }));
    Seen &seen = new_seen();
    gj_ws_config cfg = config();
    cfg.ping_interval_ms = 50;
    gj_ws *ws = connect(cfg, seen);
    ASSERT_NE(ws, nullptr);
    usleep(600000);
    EXPECT_TRUE(gj__ws_is_open(ws));
    ASSERT_EQ(send(ws, "?pings", false), 0);
    ASSERT_TRUE(seen.wait_messages(1));
    EXPECT_GE(atoi(seen.message(0).first.c_str()), 2) << "pings seen by the peer";
    EXPECT_EQ(seen.closes, 0);
}

TEST_F(WsTest, NoPongClosesWith1006)
{
    ASSERT_TRUE(start({ "silent" }));
    Seen &seen = new_seen();
    gj_ws_config cfg = config();
    cfg.ping_interval_ms = 100;
    cfg.pong_timeout_ms = 300;
    gj_ws *ws = connect(cfg, seen);
    ASSERT_NE(ws, nullptr);
    auto t0 = Clock::now();
    ASSERT_TRUE(seen.wait_close());
    double ms = ms_since(t0);
    printf("[ measure ] closed for want of a pong after %.0f ms (interval 100, timeout 300)\n", ms);
    EXPECT_EQ(seen.close_code, 1006);
    EXPECT_EQ(seen.close_reason, "no pong within 300 ms");
    EXPECT_GE(ms, 350);   // one interval + the timeout at the least
    EXPECT_FALSE(gj__ws_is_open(ws));
}

// ---- the upgrade -----------------------------------------------------------------

TEST_F(WsTest, SubprotocolChosenByTheServerIsReported)
{
    ASSERT_TRUE(start({ "subprotocol" }));
    Seen &seen = new_seen();
    gj_ws_config cfg = config();
    cfg.subprotocols = "a.v1, graphql-transport-ws";
    gj_ws *ws = connect(cfg, seen);
    ASSERT_NE(ws, nullptr);
    ASSERT_NE(gj__ws_protocol(ws), nullptr);
    EXPECT_STREQ(gj__ws_protocol(ws), "graphql-transport-ws");
    ASSERT_EQ(send(ws, "still echoing", false), 0);
    ASSERT_TRUE(seen.wait_messages(1));
}

TEST_F(WsTest, NoSubprotocolAcceptedIsAProtocolError)
{
    ASSERT_TRUE(start({ "subprotocol" }));
    Seen &seen = new_seen();
    gj_ws_config cfg = config("/none");
    cfg.subprotocols = "graphql-transport-ws";
    EXPECT_EQ(connect_error(cfg, seen), GJ_EPROTOCOL);
    EXPECT_NE(message().find("none of the offered subprotocols"), std::string::npos) << message();
    EXPECT_NE(message().find("ws-test peer"), std::string::npos) << message();
    EXPECT_EQ(seen.closes, 0);
}

TEST_F(WsTest, ExtraHeadersAreSent)
{
    ASSERT_TRUE(start({ "echo" }));
    Seen &seen = new_seen();
    gj_ws_config cfg = config();
    const char *headers[] = { "Authorization: Bearer s3cr3t", "X-Gj-Test: 42" };
    cfg.headers = headers;
    cfg.n_headers = 2;
    gj_ws *ws = connect(cfg, seen);
    ASSERT_NE(ws, nullptr);
    ASSERT_EQ(send(ws, "?headers", false), 0);
    ASSERT_TRUE(seen.wait_messages(1));
    std::string h = seen.message(0).first;
    EXPECT_NE(h.find("\"authorization\":\"Bearer s3cr3t\""), std::string::npos) << h;
    EXPECT_NE(h.find("\"x-gj-test\":\"42\""), std::string::npos) << h;
}

TEST_F(WsTest, Upgrade404IsAProtocolErrorNamingTheStatus)
{
    ASSERT_TRUE(start({ "reject" }));
    Seen &seen = new_seen();
    gj_ws_config cfg = config("/gremlin");
    EXPECT_EQ(connect_error(cfg, seen), GJ_EPROTOCOL);
    printf("[ measure ] %s\n", message().c_str());
    EXPECT_NE(message().find("HTTP 404"), std::string::npos) << message();
    EXPECT_NE(message().find("ws-test peer"), std::string::npos) << message();
}

TEST_F(WsTest, RefusedPortIsConnectErrorFast)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(fd, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof a;
    ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr *>(&a), sizeof a), 0);
    ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr *>(&a), &al), 0);
    int port = ntohs(a.sin_port);
    ::close(fd);   // nothing listens there now
    Seen &seen = new_seen();
    gj_ws_config cfg = config();
    cfg.port = port;
    auto t0 = Clock::now();
    EXPECT_EQ(connect_error(cfg, seen), GJ_ECONNECT) << message();
    double ms = ms_since(t0);
    printf("[ measure ] refused connect failed after %.1f ms: %s\n", ms, message().c_str());
    EXPECT_LT(ms, 2000);
    EXPECT_NE(message().find("ws-test peer"), std::string::npos) << message();
}

TEST_F(WsTest, UnresolvableHostIsConnectError)
{
    Seen &seen = new_seen();
    gj_ws_config cfg = config();
    cfg.host = "no-such-host.invalid";
    cfg.port = 80;
    EXPECT_EQ(connect_error(cfg, seen), GJ_ECONNECT) << message();
    EXPECT_NE(message().find("cannot resolve host"), std::string::npos) << message();
}

TEST_F(WsTest, AbortEndsAConnectToASilentListenerWithinOneSecond)
{
    ASSERT_TRUE(start({ "silent" }));
    Seen &seen = new_seen();
    gj_ws_config cfg = config("/stall");
    unsigned state = 0;
    int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    ASSERT_GE(efd, 0);
    gj_abort abort{ &state, 0x4u, efd, nullptr, -1 };
    Clock::time_point fired;
    std::thread canceller([&] {
        usleep(300000);
        fired = Clock::now();
        __atomic_store_n(&state, 0x4u, __ATOMIC_RELEASE);
        uint64_t one = 1;
        EXPECT_EQ(write(efd, &one, sizeof one), 8);
    });
    EXPECT_EQ(connect_error(cfg, seen, gj__now_ms() + kWaitMs, &abort), GJ_ECANCELLED)
        << message();
    double ms = ms_since(fired);
    canceller.join();
    printf("[ measure ] connect returned %.1f ms after the abort\n", ms);
    EXPECT_LT(ms, 1000);
    EXPECT_NE(message().find("cancelled"), std::string::npos) << message();
    ::close(efd);
    EXPECT_EQ(seen.closes, 0);
}

TEST_F(WsTest, DeadlineEndsAConnectToASilentListener)
{
    ASSERT_TRUE(start({ "silent" }));
    Seen &seen = new_seen();
    gj_ws_config cfg = config("/stall");
    auto t0 = Clock::now();
    EXPECT_EQ(connect_error(cfg, seen, gj__now_ms() + 300), GJ_ETIMEDOUT) << message();
    double ms = ms_since(t0);
    printf("[ measure ] connect with a 300 ms deadline returned after %.1f ms\n", ms);
    EXPECT_GE(ms, 290);
    EXPECT_LT(ms, 1300);
}

TEST_F(WsTest, HostNamesAreResolvedAndEachAddressTried)
{
    ASSERT_TRUE(start({ "echo" }));
    Seen &seen = new_seen();
    gj_ws_config cfg = config();
    cfg.host = "localhost";   // may give ::1 first, where nothing listens
    gj_ws *ws = connect(cfg, seen);
    ASSERT_NE(ws, nullptr) << message();
    ASSERT_EQ(send(ws, "by name", false), 0);
    ASSERT_TRUE(seen.wait_messages(1));
}

// A handler may queue messages (a protocol's pong, a reply).
struct Replier {
    std::atomic<gj_ws *> ws{ nullptr };
    Seen seen;
    std::atomic<int> send_errors{ 0 };
    static void on_message(void *arg, const uint8_t *data, size_t len, bool binary)
    {
        auto *r = static_cast<Replier *>(arg);
        Seen::on_message(&r->seen, data, len, binary);
        int n = atoi(std::string(reinterpret_cast<const char *>(data), len).c_str());
        if (n < 20) {
            std::string next = std::to_string(n + 1);
            if (gj__ws_send(r->ws.load(), next.data(), next.size(), false, gj__now_ms() + 1000,
                            nullptr))
                r->send_errors++;
        }
    }
    static void on_close(void *arg, int code, const char *reason)
    {
        Seen::on_close(&static_cast<Replier *>(arg)->seen, code, reason);
    }
};

TEST_F(WsTest, HandlersMaySend)
{
    ASSERT_TRUE(start({ "echo" }));
    auto r = std::make_unique<Replier>();
    gj_ws_handlers h{ Replier::on_message, Replier::on_close, r.get() };
    gj_ws_config cfg = config();
    gj_ws *ws = nullptr;
    ASSERT_EQ(gj__ws_connect(&ws, service_, &cfg, &h, nullptr, gj__now_ms() + kWaitMs, err_.get()),
              0)
        << message();
    r->ws = ws;
    ASSERT_EQ(send(ws, "0", false), 0);
    ASSERT_TRUE(r->seen.wait_messages(21));
    EXPECT_EQ(r->seen.message(20).first, "20");
    EXPECT_EQ(r->send_errors.load(), 0);
    close(ws);
}

TEST_F(WsTest, ConnectInProgressEndsWithShutdownWhenTheServiceIsFreed)
{
    ASSERT_TRUE(start({ "silent" }));
    Seen &seen = new_seen();
    gj_ws_config cfg = config("/stall");
    std::atomic<int> rc{ 1 };
    std::string msg;
    std::thread connecting([&] {
        gj_error *e = gj_error_new();
        gj_ws_handlers h = seen.handlers();
        gj_ws *ws = nullptr;
        rc = gj__ws_connect(&ws, service_, &cfg, &h, nullptr, gj__now_ms() + kWaitMs, e);
        msg = gj_error_message(e);
        gj_error_free(e);
        if (ws)
            gj__ws_close(ws, 1000, "");
    });
    usleep(300000);   // the upgrade request is out, unanswered
    auto t0 = Clock::now();
    gj__ws_service_free(service_);
    connecting.join();
    service_ = nullptr;
    printf("[ measure ] service freed and connect returned after %.1f ms: %s\n", ms_since(t0),
           msg.c_str());
    EXPECT_LT(ms_since(t0), 1000);
    EXPECT_EQ(rc.load(), GJ_ESHUTDOWN) << msg;
    EXPECT_EQ(seen.closes, 0);
}

TEST(WsServiceTest, KeepsTheProcesssSigpipeDisposition)
{
    struct sigaction before, after, mine;
    ASSERT_EQ(sigaction(SIGPIPE, nullptr, &before), 0);
    memset(&mine, 0, sizeof mine);
    mine.sa_handler = SIG_DFL;
    ASSERT_EQ(sigaction(SIGPIPE, &mine, nullptr), 0);
    gj_ws_service *s = nullptr;
    ASSERT_EQ(gj__ws_service_new(&s, "sig", nullptr, nullptr), 0);
    ASSERT_EQ(sigaction(SIGPIPE, nullptr, &after), 0);
    gj__ws_service_free(s);
    sigaction(SIGPIPE, &before, nullptr);
    EXPECT_EQ(after.sa_handler, SIG_DFL) << "lws's SIG_IGN leaked out";
}

TEST(WsServiceTest, BadConfigurationIsRefused)
{
    gj_ws_service *s = nullptr;
    ASSERT_EQ(gj__ws_service_new(&s, "cfg", nullptr, nullptr), 0);
    gj_error *e = gj_error_new();
    gj_ws_handlers h{ nullptr, nullptr, nullptr };
    gj_ws *ws = nullptr;
    gj_ws_config cfg{};
    cfg.host = "127.0.0.1";
    cfg.port = 0;
    EXPECT_EQ(gj__ws_connect(&ws, s, &cfg, &h, nullptr, gj__now_ms() + 1000, e), GJ_EINVAL);
    cfg.port = 80;
    cfg.path = "no-slash";
    EXPECT_EQ(gj__ws_connect(&ws, s, &cfg, &h, nullptr, gj__now_ms() + 1000, e), GJ_EINVAL);
    cfg.path = "/";
    const char *bad[] = { "X-Split: a\r\nX-Injected: b" };
    cfg.headers = bad;
    cfg.n_headers = 1;
    EXPECT_EQ(gj__ws_connect(&ws, s, &cfg, &h, nullptr, gj__now_ms() + 1000, e), GJ_EINVAL);
    EXPECT_NE(std::string(gj_error_message(e)).find("header"), std::string::npos);
    EXPECT_EQ(ws, nullptr);
    gj_error_free(e);
    gj__ws_service_free(s);
}

// ---- TLS -------------------------------------------------------------------------

class WssTest : public WsTest {
protected:
    void SetUp() override
    {
        WsTest::SetUp();
        if (IsSkipped() || HasFatalFailure())
            return;
        char dir[] = "/tmp/gj-ws-test-XXXXXX";
        ASSERT_NE(mkdtemp(dir), nullptr);
        dir_ = dir;
        cert_ = dir_ + "/cert.pem";
        key_ = dir_ + "/key.pem";
        ASSERT_TRUE(make_self_signed_cert(cert_, key_));
        ASSERT_TRUE(start({ "wss", cert_, key_ }));
    }
    void TearDown() override
    {
        WsTest::TearDown();
        if (!dir_.empty()) {
            unlink(cert_.c_str());
            unlink(key_.c_str());
            rmdir(dir_.c_str());
        }
    }
    gj_ws_config tls_config()
    {
        gj_ws_config c = config();
        c.tls = true;
        return c;
    }
    std::string dir_, cert_, key_;
};

TEST_F(WssTest, SelfSignedCertificateFailsVerification)
{
    Seen &seen = new_seen();
    gj_ws_config cfg = tls_config();
    EXPECT_EQ(connect_error(cfg, seen), GJ_ETLS);
    EXPECT_NE(message().find("certificate"), std::string::npos) << message();
    printf("[ measure ] %s\n", message().c_str());
}

TEST_F(WssTest, WorksWithTheCertificateAsCa)
{
    Seen &seen = new_seen();
    gj_ws_config cfg = tls_config();
    cfg.ca = cert_.c_str();
    gj_ws *ws = connect(cfg, seen);
    ASSERT_NE(ws, nullptr);
    std::string big = pattern(3 << 20, 9);
    ASSERT_EQ(send(ws, "over TLS", false), 0);
    ASSERT_EQ(send(ws, big, true), 0);
    ASSERT_TRUE(seen.wait_messages(2));
    EXPECT_EQ(seen.message(0).first, "over TLS");
    EXPECT_TRUE(seen.message(1).first == big);
}

TEST_F(WssTest, HostNameMismatchFailsVerification)
{
    Seen &seen = new_seen();
    gj_ws_config cfg = tls_config();
    cfg.ca = cert_.c_str();
    cfg.host = "localhost";   // the certificate names IP 127.0.0.1 only
    EXPECT_EQ(connect_error(cfg, seen), GJ_ETLS) << message();
    EXPECT_NE(message().find("does not match 'localhost'"), std::string::npos) << message();
}

TEST_F(WssTest, InsecureOptInSkipsVerification)
{
    Seen &seen = new_seen();
    gj_ws_config cfg = tls_config();
    cfg.verify = false;
    gj_ws *ws = connect(cfg, seen);
    ASSERT_NE(ws, nullptr);
    ASSERT_EQ(send(ws, "insecure", false), 0);
    ASSERT_TRUE(seen.wait_messages(1));
}

TEST_F(WssTest, PlainWebSocketToATlsPortFails)
{
    Seen &seen = new_seen();
    gj_ws_config cfg = config();
    int rc = connect_error(cfg, seen, gj__now_ms() + 5000);
    EXPECT_TRUE(rc == GJ_ECONNECT || rc == GJ_EPROTOCOL || rc == GJ_ETIMEDOUT) << rc << " "
                                                                              << message();
    printf("[ measure ] %s: %s\n", gj_code_name(rc), message().c_str());
}

TEST_F(WsTest, ClientCertificateWithAKeyPasswordIsPresented)
{
    char dir[] = "/tmp/gj-ws-test-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    std::string d = dir, cert = d + "/cert.pem", key = d + "/key.pem", ccert, ckey;
    ASSERT_TRUE(make_self_signed_cert(cert, key));
    ASSERT_TRUE(make_client_cert(d, "k3y pw", &ccert, &ckey));
    ASSERT_TRUE(start({ "wss", cert, key, ccert }));
    gj_ws_config cfg = config();
    cfg.tls = true;
    cfg.ca = cert.c_str();
    // Without a client certificate the server refuses.
    Seen &refused = new_seen();
    int rc = connect_error(cfg, refused, gj__now_ms() + 10000);
    printf("[ measure ] without a client certificate: %s: %s\n", gj_code_name(rc),
           message().c_str());
    // TLS 1.3 refuses it with an alert after the client's side of the
    // handshake; libwebsockets says only "read failed", the library names it.
    EXPECT_EQ(rc, GJ_ETLS) << message();
    EXPECT_NE(message().find("certificate required"), std::string::npos) << message();
    // A wrong key password is a TLS error.
    cfg.certfile = ccert.c_str();
    cfg.keyfile = ckey.c_str();
    cfg.key_password = "wrong";
    Seen &wrong = new_seen();
    EXPECT_EQ(connect_error(cfg, wrong), GJ_ETLS) << message();
    printf("[ measure ] wrong key password: %s\n", message().c_str());
    // With it, the connection works.
    cfg.key_password = "k3y pw";
    Seen &seen = new_seen();
    gj_ws *ws = connect(cfg, seen);
    ASSERT_NE(ws, nullptr);
    ASSERT_EQ(send(ws, "mutual", false), 0);
    ASSERT_TRUE(seen.wait_messages(1));
    close(ws);
    for (const std::string &f : { cert, key, ccert, ckey })
        unlink(f.c_str());
    rmdir(dir);
}

// ---- flow control and shutdown ------------------------------------------------------

TEST_F(WsTest, PauseStopsDeliveryUntilResumed)
{
    ASSERT_TRUE(start({ "echo" }));
    Seen &seen = new_seen();
    gj_ws_config cfg = config();
    // Keep-alive on: a paused connection reads no pongs and must not be
    // closed for it.
    cfg.ping_interval_ms = 50;
    cfg.pong_timeout_ms = 100;
    gj_ws *ws = connect(cfg, seen);
    ASSERT_NE(ws, nullptr);
    gj__ws_pause(ws, true);
    for (int i = 0; i < 3; i++)
        ASSERT_EQ(send(ws, "p" + std::to_string(i), false), 0);
    usleep(400000);
    EXPECT_EQ(seen.count(), 0u) << "delivered while paused";
    EXPECT_TRUE(gj__ws_is_open(ws));
    gj__ws_pause(ws, false);
    ASSERT_TRUE(seen.wait_messages(3));
    EXPECT_EQ(seen.message(2).first, "p2");
    EXPECT_EQ(seen.closes, 0);
}

TEST_F(WsTest, ServiceFreeClosesEveryConnectionOnceWithinOneSecond)
{
    ASSERT_TRUE(start({ "echo" }));
    Seen *seen[3] = { &new_seen(), &new_seen(), &new_seen() };
    gj_ws *ws[3];
    for (int i = 0; i < 3; i++) {
        gj_ws_config cfg = config();
        ws[i] = connect(cfg, *seen[i]);
        ASSERT_NE(ws[i], nullptr);
        ASSERT_EQ(send(ws[i], "hi", false), 0);
        ASSERT_TRUE(seen[i]->wait_messages(1));
    }
    auto t0 = Clock::now();
    gj__ws_service_free(service_);
    service_ = nullptr;
    double ms = ms_since(t0);
    printf("[ measure ] gj__ws_service_free with 3 open connections: %.1f ms\n", ms);
    EXPECT_LT(ms, 1000);
    EXPECT_TRUE(peer_logged("close 1001 shutting down")) << peer_->log();
    for (int i = 0; i < 3; i++) {
        EXPECT_EQ(seen[i]->closes, 1) << i;
        EXPECT_EQ(seen[i]->close_code, 1001) << i;
        EXPECT_EQ(seen[i]->close_reason, "shutting down") << i;
        EXPECT_FALSE(gj__ws_is_open(ws[i]));
        EXPECT_EQ(send(ws[i], "late", false), GJ_EIO);
    }
    // The handles stay valid until closed (TearDown closes them).
}

TEST_F(WsTest, ConnectAfterServiceFreeIsRefusedAndManyServicesCoexist)
{
    ASSERT_TRUE(start({ "echo" }));
    gj_ws_service *other = nullptr;
    ASSERT_EQ(gj__ws_service_new(&other, "other", nullptr, err_.get()), 0);
    Seen &a = new_seen(), &b = new_seen();
    gj_ws_config cfg = config();
    gj_ws_handlers hb = b.handlers();
    gj_ws *wb = nullptr;
    ASSERT_EQ(gj__ws_connect(&wb, other, &cfg, &hb, nullptr, gj__now_ms() + kWaitMs, err_.get()), 0)
        << message();
    gj_ws *wa = connect(cfg, a);
    ASSERT_NE(wa, nullptr);
    ASSERT_EQ(send(wa, "to a", false), 0);
    ASSERT_EQ(gj__ws_send(wb, "to b", 4, false, gj__now_ms() + kWaitMs, err_.get()), 0);
    ASSERT_TRUE(a.wait_messages(1));
    ASSERT_TRUE(b.wait_messages(1));
    gj__ws_close(wb, 1000, "");
    gj__ws_service_free(other);
    EXPECT_EQ(send(wa, "a still works", false), 0);
    ASSERT_TRUE(a.wait_messages(2));
}

}  // namespace
