// The job contract under hostile servers and dead hosts (issue #9), through
// the public API: cancel that always works, per-request deadlines, bounded
// collected results, fail-fast connects, error texts that say what happened.
//
// The servers: tests/servers/hostile/hostile-server (one misbehaviour per
// run), bolt-refserver (bearer auth, bolt+s at a plain port) and
// arango-refserver (TLS).  Every test runs under a watchdog: a test body
// (TearDown's gj_client_free included) that runs longer than
// GJ_HOSTILE_WATCHDOG_S seconds (60), or a process whose RSS passes
// GJ_HOSTILE_MAX_RSS_MB (2048), prints which test it was, kills the servers
// this process started and _exit(1)s — a hang is a failure, never a stuck CI.
//
// Timing bounds are an order of magnitude above the goal (cancel: goal
// 100 ms, asserted 1 s) and every measured time and memory figure is printed
// as "[ measure ] ..." so that it can be quoted.
#include <graphjob.h>

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "arango_server.h"
#include "server_process.h"

using gjtest::ServerProcess;
using Clock = std::chrono::steady_clock;

namespace {

double ms_since(Clock::time_point t0)
{
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

long env_long(const char *name, long dflt)
{
    const char *v = getenv(name);
    return v && *v ? strtol(v, nullptr, 10) : dflt;
}

// This process's resident set, in bytes (/proc/self/statm).
size_t rss_bytes()
{
    std::ifstream f("/proc/self/statm");
    size_t pages_total = 0, pages_resident = 0;
    f >> pages_total >> pages_resident;
    return pages_resident * (size_t)sysconf(_SC_PAGESIZE);
}

double mib(double bytes) { return bytes / (1024.0 * 1024.0); }

// ---- the watchdog ------------------------------------------------------------

// Kill (SIGKILL) every direct child of this process: the servers the tests
// started, which an _exit() would otherwise leave running.
void kill_children()
{
    pid_t me = getpid();
    DIR *d = opendir("/proc");
    if (!d)
        return;
    while (struct dirent *e = readdir(d)) {
        if (!isdigit((unsigned char)e->d_name[0]))
            continue;
        char path[300];
        snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        char buf[512] = "";
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[n] = 0;
        const char *close_paren = strrchr(buf, ')');   // "pid (comm) state ppid ..."
        int ppid = 0;
        char state;
        if (close_paren && sscanf(close_paren + 1, " %c %d", &state, &ppid) == 2 && ppid == me)
            kill((pid_t)atoi(e->d_name), SIGKILL);
    }
    closedir(d);
}

// The watchdog's state lives for the whole process (never freed): its thread
// is detached and still runs while gtest destroys its listeners at exit.
struct WatchdogState {
    std::mutex mu;
    std::string name;
    Clock::time_point started;
    bool armed = false;
    long limit_ms = env_long("GJ_HOSTILE_WATCHDOG_S", 60) * 1000;
    size_t max_rss = static_cast<size_t>(env_long("GJ_HOSTILE_MAX_RSS_MB", 2048)) << 20;
};

WatchdogState *const watchdog_state = new WatchdogState;

[[noreturn]] void watchdog_bite(const std::string &why)
{
    std::fprintf(stderr, "\n[ watchdog ] %s\n[ watchdog ] killing the servers and exiting 1\n", why.c_str());
    std::fflush(stderr);
    std::fflush(stdout);
    kill_children();
    _exit(1);
}

void watchdog_run(WatchdogState *w)
{
    for (;;) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        std::string name;
        double ran = 0;
        {
            std::lock_guard<std::mutex> lock(w->mu);
            if (!w->armed)
                continue;
            name = w->name;
            ran = ms_since(w->started);
        }
        if (ran > (double)w->limit_ms)
            watchdog_bite(name + " HUNG: still running after " + std::to_string(w->limit_ms / 1000) + " s");
        size_t rss = rss_bytes();
        if (rss > w->max_rss)
            watchdog_bite(name + ": RSS " + std::to_string(rss >> 20) + " MiB passed the limit of " +
                          std::to_string(w->max_rss >> 20) + " MiB (an unbounded result?) after " +
                          std::to_string((long)ran) + " ms");
    }
}

// Arms the watchdog for each test (TearDown included), disarms it after.
class Watchdog : public ::testing::EmptyTestEventListener {
public:
    explicit Watchdog(WatchdogState *w) : w_(w) { std::thread(watchdog_run, w).detach(); }
    void OnTestStart(const ::testing::TestInfo &info) override
    {
        std::lock_guard<std::mutex> lock(w_->mu);
        w_->name = std::string(info.test_suite_name()) + "." + info.name();
        w_->started = Clock::now();
        w_->armed = true;
    }
    void OnTestEnd(const ::testing::TestInfo &) override
    {
        std::lock_guard<std::mutex> lock(w_->mu);
        w_->armed = false;
    }

private:
    WatchdogState *const w_;
};

struct WatchdogInstaller {
    WatchdogInstaller() { ::testing::UnitTest::GetInstance()->listeners().Append(new Watchdog(watchdog_state)); }
} watchdog_installer;

// ---- helpers -------------------------------------------------------------------

struct Err {
    gj_error *e = gj_error_new();
    ~Err() { gj_error_free(e); }
    const char *msg() const { return gj_error_message(e); }
};

std::string lower(std::string s)
{
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return (char)std::tolower(c); });
    return s;
}

bool contains(const std::string &hay, const std::string &needle) { return hay.find(needle) != std::string::npos; }
bool icontains(const std::string &hay, const std::string &needle) { return contains(lower(hay), lower(needle)); }

// A port nothing listens on: bound, read, closed.
int refused_port()
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    int port = 0;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

// Rows seen by a row callback (on a worker thread).
struct Rows {
    std::atomic<long> n{ 0 };
    std::atomic<long long> bytes{ 0 };       // bytes of the string column (index 1)
    long notify_at = 1;                      // wake the waiter when n reaches this
    long long stop_after_bytes = -1;         // return non-zero once bytes pass this
    std::mutex mu;
    std::condition_variable cv;

    bool wait_for_rows(long want, int64_t timeout_ms)
    {
        std::unique_lock<std::mutex> lock(mu);
        return cv.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return n.load() >= want; });
    }
};

int on_row(const gj_value *row, void *payload)
{
    Rows *r = static_cast<Rows *>(payload);
    const char *s = nullptr;
    size_t len = 0;
    if (gj_value_size(row) > 1 && gj_value_string_get(gj_value_list_at(row, 1), &s, &len) == 0)
        r->bytes += (long long)len;
    long n = ++r->n;
    if (n == r->notify_at) {
        std::lock_guard<std::mutex> lock(r->mu);
        r->cv.notify_all();
    }
    return r->stop_after_bytes >= 0 && r->bytes.load() > r->stop_after_bytes ? 1 : 0;
}

gj_request *query(const std::string &text, int64_t fetch_size = 0, Rows *rows = nullptr)
{
    gj_request *r = nullptr;
    EXPECT_EQ(0, gj_request_new_query(&r, text.c_str()));
    if (fetch_size) {
        EXPECT_EQ(0, gj_request_set_option(r, "fetch_size", gj_value_int(fetch_size)));
    }
    if (rows) {
        EXPECT_EQ(0, gj_request_set_row_callback(r, on_row, rows));
    }
    return r;
}

// An endless stream on the Bolt hostile servers (no "LIMIT").
const char *const ENDLESS = "UNWIND range(0, 9223372036854775806) AS n RETURN n, 'x' AS s";

// How a job ended, as seen from the test thread.
struct Outcome {
    bool ended = false;                   // terminal within the bound
    gj_job_status status = GJ_JOB_PENDING;
    int code = 1;                         // gj_job_result's code (1 = never ended)
    std::string msg;
    int http = 0;
    double ms = 0;                        // from t0 to the terminal state (or the bound)
    size_t rows = 0;                      // collected rows, when it succeeded
    size_t rss_before = 0, rss_peak = 0, rss_after = 0;

    std::string describe() const
    {
        if (!ended)
            return "still pending after " + std::to_string((long)ms) + " ms";
        return std::string(gj_job_status_name(status)) + ", " + gj_code_name(code) + " \"" + msg + "\" after " +
               std::to_string((long)ms) + " ms";
    }
};

// Wait up to bound_ms for the job (sampling this process's RSS every 10 ms
// when watch_rss: the peak is kept; the wait stops early when RSS grew by more
// than 1 GiB), then take its status and result.  The job handle is released.
Outcome finish(gj_job *job, Clock::time_point t0, int64_t bound_ms, bool watch_rss = false, size_t rss0 = 0)
{
    Outcome o;
    Err err;
    o.rss_before = rss0 ? rss0 : rss_bytes();
    o.rss_peak = o.rss_before;
    int rc;
    if (!watch_rss) {
        rc = gj_job_wait(job, bound_ms, err.e);
    } else {
        for (;;) {
            rc = gj_job_wait(job, 10, err.e);
            size_t now = rss_bytes();
            o.rss_peak = std::max(o.rss_peak, now);
            if (rc != GJ_ETIMEDOUT || ms_since(t0) > (double)bound_ms || now > o.rss_before + ((size_t)1 << 30))
                break;
        }
    }
    o.ms = ms_since(t0);
    o.ended = rc == 0;
    if (o.ended) {
        gj_job_get_status(job, &o.status, err.e);
        gj_result *res = nullptr;
        o.code = gj_job_result(job, &res, err.e);
        if (o.code != 0) {
            o.msg = gj_error_message(err.e);
            o.http = gj_error_http_status(err.e);
        } else if (res) {
            o.rows = gj_result_row_count(res);
        }
        gj_result_free(res);
    }
    o.rss_after = rss_bytes();
    gj_job_unref(job);
    return o;
}

void print_rss(const char *what, const Outcome &o)
{
    std::printf("[ measure ] %s: RSS before %.1f MiB, peak %.1f MiB (+%.1f), after %.1f MiB\n", what,
                mib((double)o.rss_before), mib((double)o.rss_peak), mib((double)o.rss_peak - (double)o.rss_before),
                mib((double)o.rss_after));
}

std::string hostile_path() { return gjtest::build_path("tests/servers/hostile/hostile-server"); }
std::string bolt_refserver_path() { return gjtest::build_path("tests/servers/bolt/bolt-refserver"); }

class Hostile : public ::testing::Test {
protected:
    void TearDown() override
    {
        if (client) {
            double ms = free_client();
            std::printf("[ measure ] TearDown: gj_client_free took %.1f ms\n", ms);
        }
    }

    // Start the hostile server in `mode` (with --verbose, so it logs).
    void start(const std::string &mode, std::vector<std::string> extra = {})
    {
        std::vector<std::string> args = { mode, "--port", "0", "--verbose" };
        args.insert(args.end(), extra.begin(), extra.end());
        server.reset(new ServerProcess(hostile_path(), args));
        ASSERT_TRUE(server->ok()) << server->error();
    }

    std::string url(const std::string &scheme, const std::string &query = "", const std::string &userinfo = "")
    {
        std::string ui = !userinfo.empty() ? userinfo : scheme == "http" || scheme == "https" ? "root:pw" : "neo4j:pw";
        return scheme + "://" + ui + "@127.0.0.1:" + std::to_string(server->port()) + (query.empty() ? "" : "?" + query);
    }

    // A client on `workers` workers (a client-wide setting, so not a URL key).
    gj_client *connect(const std::string &u, int workers = 2)
    {
        Err err;
        gj_config *cfg = nullptr;
        if (gj_config_from_url(&cfg, u.c_str(), err.e) != 0) {
            ADD_FAILURE() << "config from " << u << ": " << gj_code_name(gj_error_code(err.e)) << " " << err.msg();
            return nullptr;
        }
        EXPECT_EQ(0, gj_config_set_int(cfg, nullptr, "workers", workers, err.e)) << err.msg();
        gj_client *c = nullptr;
        int rc = gj_client_new(&c, cfg, err.e);
        gj_config_free(cfg);
        if (rc != 0) {
            ADD_FAILURE() << "client: " << err.msg();
            return nullptr;
        }
        return c;
    }

    gj_job *submit(gj_request *req)
    {
        Err err;
        gj_job *job = nullptr;
        EXPECT_EQ(0, gj_client_submit(client, req, nullptr, &job, err.e)) << err.msg();
        gj_request_unref(req);
        return job;
    }

    // Submit and wait (bound_ms) for the outcome, timed from the submit.
    Outcome run(gj_request *req, int64_t bound_ms, bool watch_rss = false)
    {
        size_t rss0 = rss_bytes();
        Clock::time_point t0 = Clock::now();
        gj_job *job = submit(req);
        if (!job)
            return Outcome();
        return finish(job, t0, bound_ms, watch_rss, rss0);
    }

    double free_client()
    {
        Clock::time_point t0 = Clock::now();
        gj_client_free(client);
        client = nullptr;
        return ms_since(t0);
    }

    // Wait (up to timeout_ms) until the server's log holds `needle` at least n times.
    size_t wait_log(const std::string &needle, size_t n = 1, int timeout_ms = 2000)
    {
        Clock::time_point t0 = Clock::now();
        size_t got;
        while ((got = server->count_in_log(needle)) < n && ms_since(t0) < timeout_ms)
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        return got;
    }

    // Case 1: stream from `mode` into a counting row callback, cancel once
    // `want_rows` arrived; returns the outcome (timed from the cancel).
    Outcome cancel_streaming(const std::string &mode, long want_rows, std::vector<std::string> extra = {})
    {
        start(mode, extra);
        if (HasFatalFailure())
            return Outcome();
        client = connect(url("bolt"));
        if (!client)
            return Outcome();
        Rows rows;
        rows.notify_at = want_rows;
        gj_job *job = submit(query(ENDLESS, -1, &rows));
        EXPECT_TRUE(rows.wait_for_rows(want_rows, 15000)) << "only " << rows.n << " rows arrived";
        long before = rows.n;
        Err err;
        Clock::time_point t0 = Clock::now();
        EXPECT_EQ(0, gj_job_cancel(job, err.e)) << err.msg();
        Outcome o = finish(job, t0, 10000);
        std::printf("[ measure ] %s: cancel took %.1f ms (goal 100 ms, bound 1000 ms); rows %ld at cancel, %ld in all\n",
                    mode.c_str(), o.ms, before, rows.n.load());
        EXPECT_TRUE(o.ended) << "the job did not end after cancel: " << o.describe();
        EXPECT_EQ(GJ_JOB_CANCELLED, o.status) << o.describe();
        EXPECT_LT(o.ms, 1000.0) << o.describe();
        return o;
    }

    std::unique_ptr<ServerProcess> server;
    gj_client *client = nullptr;
};

// ---- 1. cancel while the server keeps sending (Bolt) ----------------------------

// 1a: the server floods records until RESET; cancel ends the job CANCELLED at
// once, and the client can run a query on the same server afterwards.
TEST_F(Hostile, Cancel1aBoltFlood)
{
    Outcome o = cancel_streaming("bolt-flood", 1001);
    if (HasFatalFailure() || !o.ended)
        return;
    Outcome next = run(query("RETURN n LIMIT 3"), 10000);
    EXPECT_EQ(0, next.code) << "a second query after the cancel: " << next.describe();
    EXPECT_EQ(3u, next.rows);
    std::printf("[ measure ] bolt-flood: second query %s in %.1f ms; server saw %zu connection(s), %zu RESET(s)\n",
                next.code == 0 ? "succeeded" : "failed", next.ms, server->count_in_log("CONNECTION"),
                server->count_in_log("RESET"));
}

// 1b: the server never stops and ignores RESET: cancel still ends the job,
// and gj_client_free does not wait for the server.
TEST_F(Hostile, Cancel1bBoltFloodDeaf)
{
    cancel_streaming("bolt-flood-deaf", 1001);
    if (HasFatalFailure() || !client)
        return;
    double ms = free_client();
    std::printf("[ measure ] bolt-flood-deaf: gj_client_free took %.1f ms (goal 1000 ms, bound 2000 ms)\n", ms);
    EXPECT_LT(ms, 2000.0);
}

// 1c: one record every 50 ms forever, RESET never answered.
TEST_F(Hostile, Cancel1cBoltTrickle)
{
    cancel_streaming("bolt-trickle", 3, { "--interval-ms", "50" });
    if (HasFatalFailure() || !client)
        return;
    double ms = free_client();
    std::printf("[ measure ] bolt-trickle: gj_client_free took %.1f ms (goal 1000 ms, bound 2000 ms)\n", ms);
    EXPECT_LT(ms, 2000.0);
}

// 1d: gj_client_free while a job streams from a deaf server (no cancel
// first): it returns in time and the job reads CANCELLED afterwards.
TEST_F(Hostile, Cancel1dClientFreeWhileRunning)
{
    start("bolt-flood-deaf");
    client = connect(url("bolt"));
    ASSERT_TRUE(client);
    Rows rows;
    rows.notify_at = 1001;
    gj_job *job = submit(query(ENDLESS, -1, &rows));
    ASSERT_TRUE(job);
    EXPECT_TRUE(rows.wait_for_rows(1001, 15000)) << "only " << rows.n << " rows arrived";
    double ms = free_client();
    std::printf("[ measure ] bolt-flood-deaf: gj_client_free with a running job took %.1f ms (bound 2000 ms)\n", ms);
    EXPECT_LT(ms, 2000.0);
    Err err;
    gj_job_status st = GJ_JOB_PENDING;
    EXPECT_EQ(0, gj_job_get_status(job, &st, err.e)) << err.msg();
    EXPECT_EQ(GJ_JOB_CANCELLED, st) << gj_job_status_name(st);
    gj_job_unref(job);
}

// 1e: the server never answers RUN/PULL (nor RESET): cancel after 200 ms.
TEST_F(Hostile, Cancel1eBoltMute)
{
    start("bolt-mute");
    client = connect(url("bolt"));
    ASSERT_TRUE(client);
    gj_job *job = submit(query("RETURN 1 AS n"));
    ASSERT_TRUE(job);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));   // the case: cancel after 200 ms
    Err err;
    Clock::time_point t0 = Clock::now();
    EXPECT_EQ(0, gj_job_cancel(job, err.e)) << err.msg();
    Outcome o = finish(job, t0, 10000);
    std::printf("[ measure ] bolt-mute: cancel took %.1f ms (bound 1000 ms): %s\n", o.ms, o.describe().c_str());
    EXPECT_TRUE(o.ended) << o.describe();
    EXPECT_EQ(GJ_JOB_CANCELLED, o.status) << o.describe();
    EXPECT_LT(o.ms, 1000.0);
    if (!o.ended)
        return;
    double ms = free_client();
    std::printf("[ measure ] bolt-mute: gj_client_free took %.1f ms (bound 2000 ms)\n", ms);
    EXPECT_LT(ms, 2000.0);
}

// ---- 2. cancel of a job waiting for a connection -----------------------------------

// 2a: the host refuses and the user asked for retries: cancel ends the job
// at once, not when the retries end.
TEST_F(Hostile, Cancel2aWhileRetryingRefusedPort)
{
    int port = refused_port();
    ASSERT_GT(port, 0);
    client = connect("bolt://neo4j:pw@127.0.0.1:" + std::to_string(port) + "?connect_retry=30s");
    ASSERT_TRUE(client);
    gj_job *job = submit(query("RETURN 1 AS n"));
    ASSERT_TRUE(job);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));   // the case: cancel after 300 ms
    Err err;
    Clock::time_point t0 = Clock::now();
    gj_job_cancel(job, err.e);
    Outcome o = finish(job, t0, 40000);
    std::printf("[ measure ] refused port, connect_retry=30s: cancel took %.1f ms (bound 1000 ms): %s\n", o.ms,
                o.describe().c_str());
    EXPECT_TRUE(o.ended) << o.describe();
    EXPECT_EQ(GJ_JOB_CANCELLED, o.status) << o.describe();
    EXPECT_LT(o.ms, 1000.0);
}

// 2b: max_conns=1, the only connection held by a job the server never
// answers; a second job waits for it; cancelling the second ends it at once
// while the first still runs.
TEST_F(Hostile, Cancel2bWhileWaitingForPooledConnection)
{
    start("bolt-mute");
    client = connect(url("bolt", "max_conns=1"));
    ASSERT_TRUE(client);
    gj_job *first = submit(query("RETURN 1 AS n"));
    ASSERT_TRUE(first);
    ASSERT_EQ(1u, wait_log("RUN", 1, 10000)) << "the first job never ran: " << server->log();
    gj_job *second = submit(query("RETURN 2 AS n"));
    ASSERT_TRUE(second);
    Clock::time_point w = Clock::now();
    while (!gj_job_started(second) && ms_since(w) < 10000)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    EXPECT_TRUE(gj_job_started(second)) << "the second job never left the queue (2 workers)";
    std::this_thread::sleep_for(std::chrono::milliseconds(100));   // let it block on the pool
    Err err;
    Clock::time_point t0 = Clock::now();
    EXPECT_EQ(0, gj_job_cancel(second, err.e)) << err.msg();
    Outcome o = finish(second, t0, 40000);
    std::printf("[ measure ] waiting for the only connection: cancel took %.1f ms (bound 1000 ms): %s\n", o.ms,
                o.describe().c_str());
    EXPECT_TRUE(o.ended) << o.describe();
    EXPECT_EQ(GJ_JOB_CANCELLED, o.status) << o.describe();
    EXPECT_LT(o.ms, 1000.0);
    gj_job_status st = GJ_JOB_DONE;
    EXPECT_EQ(0, gj_job_get_status(first, &st, err.e)) << err.msg();
    EXPECT_EQ(GJ_JOB_PENDING, st) << "the first job should still be running on the mute server";
    EXPECT_EQ(1u, server->count_in_log("RUN")) << "the cancelled job must not have run";
    gj_job_cancel(first, err.e);
    gj_job_unref(first);
}

// ---- 3. response_timeout is per request (send to last byte) -----------------------------

// 3a: records trickle in every 50 ms; a 500 ms response timeout still ends
// the request (it must not restart on every record).
TEST_F(Hostile, Timeout3aBoltTrickleWholeRequest)
{
    start("bolt-trickle", { "--interval-ms", "50" });
    client = connect(url("bolt", "response_timeout=500ms"));
    ASSERT_TRUE(client);
    Rows rows;
    Outcome o = run(query(ENDLESS, -1, &rows), 20000);
    std::printf("[ measure ] bolt-trickle, response_timeout=500ms, row callback: %s (bound 5000 ms), %ld rows\n",
                o.describe().c_str(), rows.n.load());
    EXPECT_TRUE(o.ended) << o.describe();
    EXPECT_EQ(GJ_ETIMEDOUT, o.code) << o.describe();
    EXPECT_LT(o.ms, 5000.0);
    if (!o.ended)
        return;
    Outcome c = run(query(ENDLESS), 20000);
    std::printf("[ measure ] bolt-trickle, response_timeout=500ms, collected: %s (bound 5000 ms)\n",
                c.describe().c_str());
    EXPECT_TRUE(c.ended) << c.describe();
    EXPECT_EQ(GJ_ETIMEDOUT, c.code) << c.describe();
    EXPECT_LT(c.ms, 5000.0);
}

// 3b: gj_request_set_timeout overrides the target's response_timeout.
TEST_F(Hostile, Timeout3bRequestOverridesTarget)
{
    start("bolt-trickle", { "--interval-ms", "50" });
    client = connect(url("bolt", "response_timeout=60s"));
    ASSERT_TRUE(client);
    Rows rows;
    gj_request *req = query(ENDLESS, -1, &rows);
    ASSERT_EQ(0, gj_request_set_timeout(req, 300));
    Outcome o = run(req, 20000);
    std::printf("[ measure ] bolt-trickle, request timeout 300 ms over target 60 s: %s (bound 5000 ms)\n",
                o.describe().c_str());
    EXPECT_TRUE(o.ended) << o.describe();
    EXPECT_EQ(GJ_ETIMEDOUT, o.code) << o.describe();
    EXPECT_LT(o.ms, 5000.0);
}

// 3c: an HTTP server that reads the request and never answers.
TEST_F(Hostile, Timeout3cHttpSilent)
{
    start("http-silent");
    client = connect(url("http", "response_timeout=500ms"));
    ASSERT_TRUE(client);
    Outcome o = run(query("FOR i IN 1..3 RETURN i"), 20000);
    std::printf("[ measure ] http-silent, response_timeout=500ms: %s (bound 5000 ms)\n", o.describe().c_str());
    EXPECT_TRUE(o.ended) << o.describe();
    EXPECT_EQ(GJ_ETIMEDOUT, o.code) << o.describe();
    EXPECT_LT(o.ms, 5000.0);
}

// ---- 4. max_result_size ----------------------------------------------------------------

// 4a: an endless RECORD stream collected into a result stops at
// max_result_size with GJ_ETOOBIG, and the server is told (RESET).
TEST_F(Hostile, Limit4aBoltCollectedResult)
{
    start("bolt-flood", { "--record-bytes", "1024" });
    client = connect(url("bolt", "max_result_size=4194304"));
    ASSERT_TRUE(client);
    Outcome o = run(query(ENDLESS, -1), 30000, true);
    std::printf("[ measure ] bolt-flood collected, max_result_size=4 MiB: %s\n", o.describe().c_str());
    print_rss("bolt-flood collected", o);
    EXPECT_TRUE(o.ended) << o.describe();
    EXPECT_EQ(GJ_ETOOBIG, o.code) << o.describe();
    EXPECT_TRUE(contains(o.msg, "max_result_size")) << o.msg;
    EXPECT_LT(o.rss_peak - o.rss_before, (size_t)64 << 20) << "RSS grew by " << mib((double)(o.rss_peak - o.rss_before))
                                                          << " MiB";
    EXPECT_GE(wait_log("RESET"), 1u) << "the server was not told to stop: " << server->log();
}

// 4b: row callbacks are not limited: a callback sees more than
// max_result_size bytes, and its stop ends the job GJ_EABORTED.
TEST_F(Hostile, Limit4bRowCallbackIsNotLimited)
{
    start("bolt-flood", { "--record-bytes", "16384" });
    client = connect(url("bolt", "max_result_size=4194304"));
    ASSERT_TRUE(client);
    Rows rows;
    rows.stop_after_bytes = 50LL << 20;
    Outcome o = run(query(ENDLESS, -1, &rows), 30000, true);
    std::printf("[ measure ] bolt-flood row callback, max_result_size=4 MiB: %s; the callback saw %.1f MiB in %ld rows\n",
                o.describe().c_str(), mib((double)rows.bytes.load()), rows.n.load());
    print_rss("bolt-flood row callback", o);
    EXPECT_TRUE(o.ended) << o.describe();
    EXPECT_EQ(GJ_EABORTED, o.code) << o.describe();
    EXPECT_GT(rows.bytes.load(), 4194304LL);
    EXPECT_GE(rows.bytes.load(), 50LL << 20);
}

// 4c: an endless ArangoDB cursor (hasMore forever) stops at max_result_size
// with GJ_ETOOBIG, and the cursor is deleted.
TEST_F(Hostile, Limit4cHttpEndlessCursor)
{
    start("http-endless-cursor");
    client = connect(url("http", "max_result_size=4194304"));
    ASSERT_TRUE(client);
    Outcome o = run(query("FOR i IN 1..1000000000 RETURN i"), 30000, true);
    std::printf("[ measure ] http-endless-cursor collected, max_result_size=4 MiB: %s; %zu batch requests\n",
                o.describe().c_str(), server->count_in_log("POST /_api/cursor"));
    print_rss("http-endless-cursor collected", o);
    EXPECT_TRUE(o.ended) << o.describe();
    EXPECT_EQ(GJ_ETOOBIG, o.code) << o.describe();
    EXPECT_TRUE(contains(o.msg, "max_result_size")) << o.msg;
    EXPECT_LT(o.rss_peak - o.rss_before, (size_t)64 << 20) << "RSS grew by " << mib((double)(o.rss_peak - o.rss_before))
                                                          << " MiB";
    EXPECT_GE(wait_log("DELETE /_api/cursor/42"), 1u) << "the cursor was not deleted: " << server->log();
}

// 4d: the setting's default and its forms, read back with the getters.
TEST_F(Hostile, Limit4dMaxResultSizeSetting)
{
    Err err;
    gj_config *cfg = nullptr;
    ASSERT_EQ(0, gj_config_from_url(&cfg, "bolt://127.0.0.1:7687", err.e)) << err.msg();
    int64_t v = -1;
    EXPECT_EQ(0, gj_config_get_int(cfg, "default", "max_result_size", &v, err.e)) << err.msg();
    EXPECT_EQ(268435456, v) << "default max_result_size: 256 MiB";
    int64_t d = -1;
    EXPECT_EQ(0, gj_config_get_duration(cfg, "default", "connect_retry", &d, err.e)) << err.msg();
    EXPECT_EQ(0, d) << "default connect_retry";
    gj_config_free(cfg);

    cfg = nullptr;
    ASSERT_EQ(0, gj_config_from_url(&cfg, "bolt://127.0.0.1:7687?max_result_size=4MiB&connect_retry=2s", err.e))
        << err.msg();
    v = -1;
    EXPECT_EQ(0, gj_config_get_int(cfg, "default", "max_result_size", &v, err.e)) << err.msg();
    EXPECT_EQ(4194304, v);
    d = -1;
    EXPECT_EQ(0, gj_config_get_duration(cfg, "default", "connect_retry", &d, err.e)) << err.msg();
    EXPECT_EQ(2000, d);
    EXPECT_EQ(0, gj_config_set_string(cfg, "default", "max_result_size", "0", err.e)) << err.msg();
    EXPECT_EQ(0, gj_config_get_int(cfg, "default", "max_result_size", &v, err.e)) << err.msg();
    EXPECT_EQ(0, v) << "0 = no limit";
    gj_config_free(cfg);
}

// ---- 5. connect failures fail fast ----------------------------------------------------------

// 5a: a refused port, default settings: the reason at once.
TEST_F(Hostile, Connect5aRefusedFailsFast)
{
    int port = refused_port();
    ASSERT_GT(port, 0);
    client = connect("bolt://neo4j:pw@127.0.0.1:" + std::to_string(port));
    ASSERT_TRUE(client);
    Outcome o = run(query("RETURN 1 AS n"), 40000);
    std::printf("[ measure ] refused port, defaults: %s (bound 3000 ms)\n", o.describe().c_str());
    EXPECT_TRUE(o.ended) << o.describe();
    EXPECT_EQ(GJ_ECONNECT, o.code) << o.describe();
    EXPECT_LT(o.ms, 3000.0);
    EXPECT_TRUE(icontains(o.msg, "refused")) << o.msg;
}

// 5b: an unknown host: the reason at once.
TEST_F(Hostile, Connect5bUnknownHostFailsFast)
{
    client = connect("bolt://neo4j:pw@nosuchhost.invalid:7687");
    ASSERT_TRUE(client);
    Outcome o = run(query("RETURN 1 AS n"), 40000);
    std::printf("[ measure ] unknown host: %s (bound 5000 ms)\n", o.describe().c_str());
    EXPECT_TRUE(o.ended) << o.describe();
    EXPECT_EQ(GJ_ECONNECT, o.code) << o.describe();
    EXPECT_LT(o.ms, 5000.0);
    EXPECT_TRUE(icontains(o.msg, "resolve")) << o.msg;
}

// 5c: a server that accepts TCP and never answers the handshake:
// connect_timeout bounds TCP + handshake.
TEST_F(Hostile, Connect5cSilentHandshakeTimesOut)
{
    start("silent");
    client = connect(url("bolt", "connect_timeout=500ms"));
    ASSERT_TRUE(client);
    Outcome o = run(query("RETURN 1 AS n"), 40000);
    std::printf("[ measure ] silent server, connect_timeout=500ms: %s (bound 5000 ms); %zu connection(s)\n",
                o.describe().c_str(), server->count_in_log("CONNECTION"));
    EXPECT_TRUE(o.ended) << o.describe();
    EXPECT_EQ(GJ_ETIMEDOUT, o.code) << o.describe();
    EXPECT_LT(o.ms, 5000.0);
    EXPECT_TRUE(icontains(o.msg, "handshake") || icontains(o.msg, "connect")) << o.msg;
    EXPECT_TRUE(icontains(o.msg, "timed out") || icontains(o.msg, "timeout")) << o.msg;
}

// 5d: connect_retry keeps trying a refused port for about that long.
TEST_F(Hostile, Connect5dRetryWindow)
{
    int port = refused_port();
    ASSERT_GT(port, 0);
    client = connect("bolt://neo4j:pw@127.0.0.1:" + std::to_string(port) + "?connect_retry=2s");
    ASSERT_TRUE(client);
    Outcome o = run(query("RETURN 1 AS n"), 40000);
    std::printf("[ measure ] refused port, connect_retry=2s: %s (expected 1500..15000 ms)\n", o.describe().c_str());
    EXPECT_TRUE(o.ended) << o.describe();
    EXPECT_EQ(GJ_ECONNECT, o.code) << o.describe();
    EXPECT_GE(o.ms, 1500.0);
    EXPECT_LE(o.ms, 15000.0);
}

// 5e: an oversized message while connecting is final: one connection, not
// one per retry.
TEST_F(Hostile, Connect5eOversizedHelloIsFinal)
{
    start("bolt-big-hello", { "--hello-bytes", "2097152" });
    client = connect(url("bolt", "max_message_size=65536"));
    ASSERT_TRUE(client);
    Outcome o = run(query("RETURN 1 AS n"), 40000);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));   // a retry would show up by now
    size_t conns = server->count_in_log("CONNECTION");
    std::printf("[ measure ] bolt-big-hello, max_message_size=64 KiB: %s; %zu connection(s)\n", o.describe().c_str(),
                conns);
    EXPECT_TRUE(o.ended) << o.describe();
    EXPECT_EQ(GJ_ETOOBIG, o.code) << o.describe();
    EXPECT_EQ(1u, conns) << server->log();
}

// 5f: a TLS failure while connecting is final too: bolt+s at a plain port.
TEST_F(Hostile, Connect5fTlsFailureIsFinal)
{
    server.reset(new ServerProcess(bolt_refserver_path(), { "--port", "0", "--verbose" }));
    ASSERT_TRUE(server->ok()) << server->error();
    client = connect("bolt+s://neo4j:password@127.0.0.1:" + std::to_string(server->port()));
    ASSERT_TRUE(client);
    Outcome o = run(query("RETURN 1 AS n"), 40000);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));   // a retry would show up by now
    size_t attempts = server->count_in_log("not a Bolt client");
    std::printf("[ measure ] bolt+s at a plain Bolt port: %s (bound 5000 ms); %zu connection attempt(s)\n",
                o.describe().c_str(), attempts);
    EXPECT_TRUE(o.ended) << o.describe();
    EXPECT_TRUE(o.code == GJ_ETLS || o.code == GJ_EPROTOCOL) << o.describe();
    EXPECT_LT(o.ms, 5000.0);
    EXPECT_EQ(1u, attempts) << server->log();
}

// ---- 6. bolt://:TOKEN@host means bearer auth ---------------------------------------------------

TEST_F(Hostile, Auth6BearerFromPasswordOnlyUrl)
{
    server.reset(new ServerProcess(bolt_refserver_path(), { "--port", "0", "--verbose", "--bearer", "tok-9" }));
    ASSERT_TRUE(server->ok()) << server->error();
    client = connect("bolt://:tok-9@127.0.0.1:" + std::to_string(server->port()));
    ASSERT_TRUE(client);
    Outcome o = run(query("RETURN 1 AS a"), 20000);
    std::printf("[ measure ] bolt://:TOKEN@: %s\n", o.describe().c_str());
    EXPECT_EQ(0, o.code) << o.describe();
    EXPECT_EQ(1u, o.rows);
    EXPECT_GE(server->count_in_log("LOGON as 'bearer'"), 1u) << server->log();
}

TEST_F(Hostile, Auth6WrongBearerFails)
{
    server.reset(new ServerProcess(bolt_refserver_path(), { "--port", "0", "--verbose", "--bearer", "tok-9" }));
    ASSERT_TRUE(server->ok()) << server->error();
    client = connect("bolt://:wrong-token@127.0.0.1:" + std::to_string(server->port()));
    ASSERT_TRUE(client);
    Outcome o = run(query("RETURN 1 AS a"), 20000);
    std::printf("[ measure ] bolt://:WRONG@: %s\n", o.describe().c_str());
    EXPECT_TRUE(o.ended) << o.describe();
    EXPECT_EQ(GJ_EAUTH, o.code) << o.describe();
}

// ---- 7. ArangoDB TLS and non-JSON errors -----------------------------------------------------------

class HostileArangoTls : public Hostile {
protected:
    void SetUp() override
    {
        if (arango_server_path().empty())
            GTEST_SKIP() << "arango-refserver not built (no libmicrohttpd)";
        char tmpl[] = "/tmp/gj-hostile-tls.XXXXXX";
        ASSERT_TRUE(mkdtemp(tmpl));
        dir = tmpl;
        cert = dir + "/cert.pem";
        key = dir + "/key.pem";
        ASSERT_TRUE(make_self_signed_cert(cert, key));
        arango.reset(new ArangoServer({ "--tls-cert", cert, "--tls-key", key }));
        ASSERT_TRUE(arango->ok()) << arango->error();
    }
    void TearDown() override
    {
        Hostile::TearDown();
        arango.reset();
        if (!dir.empty()) {
            unlink(cert.c_str());
            unlink(key.c_str());
            rmdir(dir.c_str());
        }
    }
    std::string port() const { return std::to_string(arango->port()); }

    std::unique_ptr<ArangoServer> arango;
    std::string dir, cert, key;
};

// 7a: a self-signed certificate: curl's own detail, not only "not OK".
TEST_F(HostileArangoTls, Tls7aSelfSignedSaysSo)
{
    client = connect("https://root:pw@127.0.0.1:" + port());
    ASSERT_TRUE(client);
    Outcome o = run(query("RETURN 1"), 20000);
    std::printf("[ measure ] https, self-signed, no ssl_cafile: %s\n", o.describe().c_str());
    EXPECT_EQ(GJ_ETLS, o.code) << o.describe();
    EXPECT_TRUE(icontains(o.msg, "self-signed") || icontains(o.msg, "self signed")) << o.msg;
}

// 7b: the certificate is for 127.0.0.1, the URL says localhost.
TEST_F(HostileArangoTls, Tls7bNameMismatchSaysSo)
{
    client = connect("https://root:pw@localhost:" + port() + "?ssl_cafile=" + cert);
    ASSERT_TRUE(client);
    Outcome o = run(query("RETURN 1"), 20000);
    std::printf("[ measure ] https://localhost, certificate for 127.0.0.1: %s\n", o.describe().c_str());
    EXPECT_EQ(GJ_ETLS, o.code) << o.describe();
    EXPECT_TRUE(icontains(o.msg, "name")) << o.msg;
    EXPECT_TRUE(icontains(o.msg, "localhost") || icontains(o.msg, "match")) << o.msg;
}

// 7c: http:// at a TLS port: the message says the server speaks TLS.
TEST_F(HostileArangoTls, Tls7cPlainUrlAtTlsPort)
{
    client = connect("http://root:pw@127.0.0.1:" + port());
    ASSERT_TRUE(client);
    Outcome o = run(query("RETURN 1"), 20000);
    std::printf("[ measure ] http:// at a TLS port: %s\n", o.describe().c_str());
    EXPECT_TRUE(o.ended) << o.describe();
    EXPECT_NE(0, o.code) << o.describe();
    EXPECT_TRUE(contains(o.msg, "TLS")) << o.msg;
    EXPECT_TRUE(icontains(o.msg, "https")) << o.msg;
}

// 7d: an HTML page where JSON was expected (a proxy's login page).
TEST_F(Hostile, Http7dHtmlPage)
{
    start("http-html");
    client = connect(url("http"));
    ASSERT_TRUE(client);
    Outcome o = run(query("RETURN 1"), 20000);
    std::printf("[ measure ] http-html (200): %s\n", o.describe().c_str());
    EXPECT_EQ(GJ_EPROTOCOL, o.code) << o.describe();
    EXPECT_TRUE(icontains(o.msg, "html")) << o.msg;
    EXPECT_TRUE(contains(o.msg, "Login")) << "an excerpt of the page: " << o.msg;
}

TEST_F(Hostile, Http7dHtmlPageKeepsStatus)
{
    start("http-html", { "--status", "502" });
    client = connect(url("http"));
    ASSERT_TRUE(client);
    Outcome o = run(query("RETURN 1"), 20000);
    std::printf("[ measure ] http-html (502): %s, HTTP status %d\n", o.describe().c_str(), o.http);
    EXPECT_TRUE(o.ended) << o.describe();
    EXPECT_NE(0, o.code) << o.describe();
    EXPECT_EQ(502, o.http) << o.describe();
    EXPECT_TRUE(icontains(o.msg, "html")) << o.msg;
}

}  // namespace
