// The job contract (DESIGN.md) on the test backend: every row of the table.
#include <gtest/gtest.h>

#include <atomic>
#include <cstddef>
#include <chrono>
#include <cstring>
#include <poll.h>
#include <sys/resource.h>
#include <string>
#include <mutex>
#include <thread>
#include <vector>

extern "C" {
#include "tests/common/test_backend.h"

#if defined(__SANITIZE_ADDRESS__)
#define GJ_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GJ_TEST_ASAN 1
#endif
#endif
}

namespace {

struct Err {
    gj_error *e = gj_error_new();
    ~Err() { gj_error_free(e); }
    std::string msg() const { return gj_error_message(e); }
};

gj_request *make(std::initializer_list<std::pair<const char *, gj_value *>> opts)
{
    gj_request *req = nullptr;
    EXPECT_EQ(0, gj_request_new_query(&req, "test"));
    for (auto &o : opts)
        EXPECT_EQ(0, gj_request_set_option(req, o.first, o.second));
    return req;
}

gj_job_status status_of(gj_job *job)
{
    gj_job_status st = GJ_JOB_PENDING;
    EXPECT_EQ(0, gj_job_get_status(job, &st, nullptr));
    return st;
}

class JobTest : public ::testing::Test {
protected:
    gj_client *client = nullptr;
    Err err;
    void start(unsigned workers = 2, size_t queue = 1024)
    {
        ASSERT_EQ(0, gj_test_client_new(&client, workers, queue, err.e)) << err.msg();
    }
    void TearDown() override { gj_client_free(client); }
    gj_job *submit(gj_request *req, const gj_submit_options *opts = nullptr)
    {
        gj_job *job = nullptr;
        EXPECT_EQ(0, gj_client_submit(client, req, opts, &job, err.e)) << err.msg();
        return job;
    }
};

TEST_F(JobTest, DoneJobGivesItsResultOnceThenIsNotFound)
{
    start();
    gj_request *req = make({ { "rows", gj_value_int(3) } });
    gj_job *job = submit(req);
    ASSERT_NE(nullptr, job);
    EXPECT_GE(gj_job_id(job), 1u);
    ASSERT_EQ(0, gj_job_wait(job, 5000, err.e)) << err.msg();
    EXPECT_EQ(GJ_JOB_DONE, status_of(job));
    EXPECT_TRUE(gj_job_started(job));
    EXPECT_GT(gj_job_finished_at(job), 0);

    gj_result *res = nullptr;
    ASSERT_EQ(0, gj_job_result(job, &res, err.e)) << err.msg();
    ASSERT_NE(nullptr, res);
    EXPECT_EQ(3u, gj_result_row_count(res));
    EXPECT_EQ(2u, gj_value_size(gj_result_fields(res)));
    int64_t i = -1;
    EXPECT_EQ(0, gj_value_int_get(gj_value_list_at(gj_result_row(res, 2), 0), &i));
    EXPECT_EQ(2, i);
    EXPECT_EQ(nullptr, gj_result_row(res, 3));
    EXPECT_NE(nullptr, gj_value_map_get(gj_result_meta(res), "count"));
    gj_result_free(res);

    // Consumed: every call now says "job N not found".
    std::string nf = "job " + std::to_string(gj_job_id(job)) + " not found";
    gj_job_status st;
    EXPECT_EQ(GJ_ENOTFOUND, gj_job_get_status(job, &st, err.e));
    EXPECT_EQ(nf, err.msg());
    EXPECT_EQ(GJ_ENOTFOUND, gj_job_result(job, &res, err.e));
    EXPECT_EQ(GJ_ENOTFOUND, gj_job_wait(job, 0, err.e));
    EXPECT_EQ(GJ_ENOTFOUND, gj_job_cancel(job, err.e));
    EXPECT_EQ(GJ_ENOTFOUND, gj_job_clear(job, err.e));
    EXPECT_EQ(nf, err.msg());
    gj_job *again = nullptr;
    EXPECT_EQ(GJ_ENOTFOUND, gj_client_job(client, gj_job_id(job), &again, err.e));
    gj_job_unref(job);
    gj_request_unref(req);
}

TEST_F(JobTest, PendingJobIsNotDoneAndWaitTimesOut)
{
    start(1);
    gj_request *req = make({ { "delay_ms", gj_value_int(300) } });
    gj_job *job = submit(req);
    EXPECT_EQ(GJ_JOB_PENDING, status_of(job));
    gj_result *res = nullptr;
    EXPECT_EQ(GJ_ENOTDONE, gj_job_result(job, &res, err.e));
    EXPECT_EQ("job " + std::to_string(gj_job_id(job)) + " not done", err.msg());
    EXPECT_EQ(GJ_ETIMEDOUT, gj_job_wait(job, 20, err.e));
    EXPECT_EQ(GJ_ETIMEDOUT, gj_job_wait(job, 0, err.e));
    // Not consumed by the failed result call: it still finishes normally.
    ASSERT_EQ(0, gj_job_wait(job, 5000, err.e)) << err.msg();
    EXPECT_EQ(GJ_JOB_DONE, status_of(job));
    EXPECT_EQ(0, gj_job_result(job, &res, err.e));
    EXPECT_EQ(0u, gj_result_row_count(res));
    gj_result_free(res);
    gj_job_unref(job);
    gj_request_unref(req);
}

TEST_F(JobTest, ServerErrorKeepsItsIdentity)
{
    start();
    gj_request *req = make({ { "fail", gj_value_string("server") } });
    gj_job *job = submit(req);
    ASSERT_EQ(0, gj_job_wait(job, 5000, err.e));
    EXPECT_EQ(GJ_JOB_DONE, status_of(job));
    gj_result *res = reinterpret_cast<gj_result *>(0x1);
    EXPECT_EQ(GJ_ESERVER, gj_job_result(job, &res, err.e));
    EXPECT_EQ(nullptr, res);
    EXPECT_EQ(1501, gj_error_server_number(err.e));
    EXPECT_EQ(400, gj_error_http_status(err.e));
    EXPECT_STREQ("1501", gj_error_server_code(err.e));
    EXPECT_STREQ("test", gj_error_backend(err.e));
    EXPECT_NE(std::string::npos, err.msg().find("syntax error")) << err.msg();
    EXPECT_NE(std::string::npos, err.msg().find("HTTP 400")) << err.msg();
    // The error was the result: the job is consumed.
    EXPECT_EQ(GJ_ENOTFOUND, gj_job_result(job, &res, err.e));
    gj_job_unref(job);
    gj_request_unref(req);
}

TEST_F(JobTest, CancelQueuedJobEndsCancelledAtOnce)
{
    start(1);
    gj_request *slow = make({ { "delay_ms", gj_value_int(2000) } });
    gj_request *quick = make({});
    gj_job *blocker = submit(slow);
    // Let the single worker pick the blocker up.
    while (!gj_job_started(blocker))
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    std::atomic<int> calls{ 0 };
    std::thread::id cb_thread;
    gj_submit_options opts = GJ_SUBMIT_OPTIONS_INIT;
    opts.on_done = [](gj_job *, void *p) { ++*static_cast<std::atomic<int> *>(p); };
    opts.payload = &calls;
    gj_job *queued = submit(quick, &opts);
    EXPECT_EQ(GJ_JOB_PENDING, status_of(queued));
    EXPECT_FALSE(gj_job_started(queued));
    ASSERT_EQ(0, gj_job_cancel(queued, err.e)) << err.msg();
    EXPECT_EQ(GJ_JOB_CANCELLED, status_of(queued));
    EXPECT_EQ(1, calls.load());
    EXPECT_EQ(0, gj_job_wait(queued, 0, err.e));
    gj_result *res = nullptr;
    EXPECT_EQ(GJ_ECANCELLED, gj_job_result(queued, &res, err.e));
    EXPECT_EQ("job " + std::to_string(gj_job_id(queued)) + " cancelled", err.msg());
    // Cancel of a cancelled job: not found.
    EXPECT_EQ(GJ_ENOTFOUND, gj_job_cancel(queued, err.e));
    (void)cb_thread;

    // Running job: interrupted through the backend, ends CANCELLED quickly.
    auto t0 = std::chrono::steady_clock::now();
    ASSERT_EQ(0, gj_job_cancel(blocker, err.e));
    ASSERT_EQ(0, gj_job_wait(blocker, 5000, err.e));
    auto took = std::chrono::steady_clock::now() - t0;
    EXPECT_LT(took, std::chrono::milliseconds(1500));
    EXPECT_EQ(GJ_JOB_CANCELLED, status_of(blocker));
    EXPECT_EQ(1, calls.load());
    gj_job_unref(blocker);
    gj_job_unref(queued);
    gj_request_unref(slow);
    gj_request_unref(quick);
}

TEST_F(JobTest, CancelOfDoneJobIsNotFound)
{
    start();
    gj_request *req = make({});
    gj_job *job = submit(req);
    ASSERT_EQ(0, gj_job_wait(job, 5000, err.e));
    EXPECT_EQ(GJ_ENOTFOUND, gj_job_cancel(job, err.e));
    EXPECT_EQ("job " + std::to_string(gj_job_id(job)) + " not found", err.msg());
    // Still done, still has its result.
    EXPECT_EQ(GJ_JOB_DONE, status_of(job));
    EXPECT_EQ(0, gj_job_result(job, nullptr, err.e));
    gj_job_unref(job);
    gj_request_unref(req);
}

TEST_F(JobTest, ClearDoneAndPendingJobs)
{
    start(1);
    gj_request *quick = make({ { "rows", gj_value_int(2) } });
    gj_request *slow = make({ { "delay_ms", gj_value_int(3000) } });
    gj_job *done = submit(quick);
    ASSERT_EQ(0, gj_job_wait(done, 5000, err.e));
    EXPECT_EQ(0, gj_job_clear(done, err.e));
    gj_job_status st;
    EXPECT_EQ(GJ_ENOTFOUND, gj_job_get_status(done, &st, err.e));
    EXPECT_EQ(GJ_ENOTFOUND, gj_job_clear(done, err.e));

    std::atomic<int> calls{ 0 };
    gj_submit_options opts = GJ_SUBMIT_OPTIONS_INIT;
    opts.on_done = [](gj_job *, void *p) { ++*static_cast<std::atomic<int> *>(p); };
    opts.payload = &calls;
    gj_job *running = submit(slow, &opts);
    while (!gj_job_started(running))
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    EXPECT_EQ(0, gj_job_clear(running, err.e));
    EXPECT_EQ(GJ_ENOTFOUND, gj_job_get_status(running, &st, err.e));
    // The worker lets go soon (interrupt) and the callback runs once.
    for (int i = 0; i < 500 && calls.load() == 0; i++)
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    EXPECT_EQ(1, calls.load());
    gj_job_unref(done);
    gj_job_unref(running);
    gj_request_unref(quick);
    gj_request_unref(slow);
}

TEST_F(JobTest, ClearWakesAWaiterWithNotFound)
{
    start(1);
    // A backend that cannot be interrupted would keep the job running; the
    // waiter must still hear at once that the job is gone.
    gj_request *slow = make({ { "delay_ms", gj_value_int(1500) },
                              { "uninterruptible", gj_value_bool(true) } });
    gj_job *job = submit(slow);
    while (!gj_job_started(job))
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    std::atomic<int> rc{ 1 };
    std::atomic<bool> returned{ false };
    std::thread waiter([&] {
        rc = gj_job_wait(job, 10000, nullptr);
        returned = true;
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(100)); // the waiter sleeps
    auto t0 = std::chrono::steady_clock::now();
    ASSERT_EQ(0, gj_job_clear(job, err.e));
    waiter.join();
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(1000));
    EXPECT_EQ(GJ_ENOTFOUND, rc.load());
    gj_job_unref(job);
    gj_request_unref(slow);
}

TEST_F(JobTest, ListByStatusWithCountAndClearAll)
{
    start(1);
    gj_request *quick = make({});
    gj_request *slow = make({ { "delay_ms", gj_value_int(5000) } });
    std::vector<gj_job *> done;
    for (int i = 0; i < 5; i++)
        done.push_back(submit(quick));
    for (auto *j : done)
        ASSERT_EQ(0, gj_job_wait(j, 5000, err.e));
    gj_job *p1 = submit(slow);
    gj_job *p2 = submit(slow);

    uint64_t *ids = nullptr;
    size_t n = 0;
    ASSERT_EQ(0, gj_client_list_jobs(client, GJ_JOB_DONE, 0, &ids, &n, err.e));
    ASSERT_EQ(5u, n);
    for (size_t i = 0; i < n; i++)
        EXPECT_EQ(gj_job_id(done[i]), ids[i]); // submission order
    gj_free(ids);
    ASSERT_EQ(0, gj_client_list_jobs(client, GJ_JOB_DONE, 2, &ids, &n, err.e));
    EXPECT_EQ(2u, n);
    gj_free(ids);
    ASSERT_EQ(0, gj_client_list_jobs(client, GJ_JOB_PENDING, 0, &ids, &n, err.e));
    ASSERT_EQ(2u, n);
    EXPECT_EQ(gj_job_id(p1), ids[0]);
    EXPECT_EQ(gj_job_id(p2), ids[1]);
    gj_free(ids);

    // Clear only those finished before a time: none finished before done[0].
    size_t cleared = 99;
    ASSERT_EQ(0, gj_client_clear_jobs(client, gj_job_finished_at(done[0]), &cleared, err.e));
    EXPECT_EQ(0u, cleared);
    ASSERT_EQ(0, gj_client_clear_jobs(client, 0, &cleared, err.e));
    EXPECT_EQ(5u, cleared);
    ASSERT_EQ(0, gj_client_list_jobs(client, GJ_JOB_DONE, 0, &ids, &n, err.e));
    EXPECT_EQ(0u, n);
    EXPECT_EQ(nullptr, ids);
    // Pending jobs are untouched by clear-all.
    EXPECT_EQ(GJ_JOB_PENDING, status_of(p1));
    EXPECT_EQ(0, gj_job_cancel(p1, err.e));
    EXPECT_EQ(0, gj_job_cancel(p2, err.e));
    for (auto *j : done)
        gj_job_unref(j);
    gj_job_unref(p1);
    gj_job_unref(p2);
    gj_request_unref(quick);
    gj_request_unref(slow);
}

TEST_F(JobTest, LookupById)
{
    start();
    gj_request *req = make({});
    gj_job *job = submit(req);
    gj_job *same = nullptr;
    ASSERT_EQ(0, gj_client_job(client, gj_job_id(job), &same, err.e));
    EXPECT_EQ(job, same);
    gj_job_unref(same);
    EXPECT_EQ(GJ_ENOTFOUND, gj_client_job(client, 999999, &same, err.e));
    EXPECT_EQ("job 999999 not found", err.msg());
    gj_job_wait(job, 5000, nullptr);
    gj_job_unref(job);
    gj_request_unref(req);
}

struct CallbackProbe {
    std::atomic<int> calls{ 0 };
    std::atomic<int> wait_rc{ 1 };
    std::atomic<int> status_rc{ 1 };
    std::atomic<bool> on_submitter{ false };
    std::thread::id submitter;
    gj_client *client = nullptr;
    gj_request *follow_up = nullptr;
    std::atomic<gj_job *> child{ nullptr };
};

TEST_F(JobTest, CallbackRunsOnceOnAWorkerAndMayCallTheApi)
{
    start();
    CallbackProbe probe;
    probe.submitter = std::this_thread::get_id();
    probe.client = client;
    probe.follow_up = make({});
    gj_submit_options opts = GJ_SUBMIT_OPTIONS_INIT;
    opts.payload = &probe;
    opts.on_done = [](gj_job *job, void *p) {
        auto *pr = static_cast<CallbackProbe *>(p);
        pr->calls++;
        pr->on_submitter = std::this_thread::get_id() == pr->submitter;
        gj_job_status st;
        pr->status_rc = gj_job_get_status(job, &st, nullptr);
        pr->wait_rc = gj_job_wait(job, 100, nullptr); // done: returns at once
        gj_job *other = nullptr;
        gj_client_submit(pr->client, pr->follow_up, nullptr, &other, nullptr);
        pr->child = other;
    };
    gj_request *req = make({ { "delay_ms", gj_value_int(10) } });
    gj_job *job = submit(req, &opts);
    ASSERT_EQ(0, gj_job_wait(job, 5000, err.e));
    for (int i = 0; i < 1000 && !probe.child.load(); i++)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    EXPECT_EQ(1, probe.calls.load());
    EXPECT_FALSE(probe.on_submitter.load());
    EXPECT_EQ(0, probe.status_rc.load());
    EXPECT_EQ(0, probe.wait_rc.load());
    ASSERT_NE(nullptr, probe.child.load());
    EXPECT_EQ(0, gj_job_wait(probe.child.load(), 5000, err.e));
    gj_job_unref(probe.child.load());
    gj_job_unref(job);
    gj_request_unref(req);
    gj_request_unref(probe.follow_up);
}

TEST_F(JobTest, BlockingWaitOnAWorkerIsRefused)
{
    start(1);
    struct P {
        gj_job *other;
        std::atomic<int> rc{ 1 };
        std::atomic<bool> ran{ false };
    } p;
    gj_request *slow = make({ { "delay_ms", gj_value_int(2000) } });
    gj_request *quick = make({});
    gj_job *pending = submit(slow);
    // The callback of a second job (runs on a worker after the first) waits
    // on a pending job; instead of a deadlock it gets GJ_EDEADLK.
    p.other = nullptr;
    gj_submit_options opts = GJ_SUBMIT_OPTIONS_INIT;
    opts.payload = &p;
    opts.on_done = [](gj_job *, void *pp) {
        auto *q = static_cast<P *>(pp);
        q->rc = gj_job_wait(q->other, -1, nullptr);
        q->ran = true;
    };
    gj_job *quick_job = submit(quick, &opts);
    gj_job *slow2 = submit(slow); // queued behind quick_job
    p.other = slow2;
    gj_job_cancel(pending, nullptr); // let the worker move on
    ASSERT_EQ(0, gj_job_wait(quick_job, 10000, err.e));
    for (int i = 0; i < 1000 && !p.ran.load(); i++)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    EXPECT_EQ(GJ_EDEADLK, p.rc.load());
    gj_job_cancel(slow2, nullptr);
    gj_job_unref(pending);
    gj_job_unref(slow2);
    gj_job_unref(quick_job);
    gj_request_unref(slow);
    gj_request_unref(quick);
}

TEST_F(JobTest, FullQueueFailsFastWithBusy)
{
    start(1, 2);
    gj_request *slow = make({ { "delay_ms", gj_value_int(3000) } });
    std::atomic<int> calls{ 0 };
    gj_submit_options opts = GJ_SUBMIT_OPTIONS_INIT;
    opts.on_done = [](gj_job *, void *p) { ++*static_cast<std::atomic<int> *>(p); };
    opts.payload = &calls;
    gj_job *running = submit(slow, &opts);
    while (!gj_job_started(running))
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    gj_job *q1 = submit(slow, &opts);
    gj_job *q2 = submit(slow, &opts);
    gj_job *q3 = nullptr;
    auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(GJ_EBUSY, gj_client_submit(client, slow, &opts, &q3, err.e));
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(500));
    EXPECT_EQ(nullptr, q3);
    EXPECT_NE(std::string::npos, err.msg().find("queue is full")) << err.msg();
    gj_client_stats stats;
    stats.size = sizeof stats;
    ASSERT_EQ(0, gj_client_get_stats(client, &stats));
    EXPECT_EQ(1u, stats.rejected);
    EXPECT_EQ(3u, stats.submitted);
    EXPECT_EQ(2u, stats.queued);
    // Cancelling a queued job frees its place.
    ASSERT_EQ(0, gj_job_cancel(q1, err.e));
    EXPECT_EQ(0, gj_client_submit(client, slow, &opts, &q3, err.e)) << err.msg();
    for (auto *j : { running, q2, q3 })
        gj_job_cancel(j, nullptr);
    for (auto *j : { running, q1, q2, q3 }) {
        EXPECT_EQ(0, gj_job_wait(j, 5000, nullptr));
        gj_job_unref(j);
    }
    // The library wakes a job's waiters, then runs its callback: the
    // callback of the job cancelled while running may still be on its way.
    for (int i = 0; i < 5000 && calls.load() < 4; i++)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_EQ(4, calls.load()); // never for the rejected submit
    gj_request_unref(slow);
}

TEST_F(JobTest, EventFdBecomesReadableWhenJobsFinish)
{
    start();
    int fd = gj_client_event_fd(client);
    ASSERT_GE(fd, 0);
    struct pollfd pfd = { fd, POLLIN, 0 };
    EXPECT_EQ(0, poll(&pfd, 1, 0));
    gj_request *req = make({});
    gj_job *a = submit(req);
    gj_job *b = submit(req);
    gj_job_wait(a, 5000, nullptr);
    gj_job_wait(b, 5000, nullptr);
    // A job is visible as finished before it is counted and signalled (so
    // the fd never fires ahead of what the program can see): b's signal may
    // come just after its wait returned, as a second readable fd.
    uint64_t acked = 0;
    for (int round = 0; round < 2 && acked < 2; round++) {
        pfd.revents = 0;
        ASSERT_EQ(1, poll(&pfd, 1, 5000));
        acked += gj_client_ack_events(client);
    }
    EXPECT_EQ(2u, acked);
    // At most one late signal for a job an ack already counted: it acks 0.
    pfd.revents = 0;
    if (poll(&pfd, 1, 0) == 1) {
        EXPECT_EQ(0u, gj_client_ack_events(client));
    }
    pfd.revents = 0;
    EXPECT_EQ(0, poll(&pfd, 1, 0));
    gj_job_unref(a);
    gj_job_unref(b);
    gj_request_unref(req);
}

TEST_F(JobTest, DetachedJobClearsItselfAndOnlyTheCallbackHears)
{
    start();
    struct P {
        std::atomic<int> calls{ 0 };
        std::atomic<int> code{ 0 };
    } p;
    gj_submit_options opts = GJ_SUBMIT_OPTIONS_INIT;
    opts.flags = GJ_SUBMIT_DETACHED;
    opts.payload = &p;
    opts.on_done = [](gj_job *job, void *pp) {
        auto *q = static_cast<P *>(pp);
        gj_error *e = gj_error_new();
        q->code = gj_job_result(job, nullptr, e); // the outcome, in the callback
        gj_error_free(e);
        q->calls++;
    };
    gj_request *bad = make({ { "fail", gj_value_string("server") } });
    gj_job *job = nullptr;
    ASSERT_EQ(0, gj_client_submit(client, bad, &opts, &job, err.e));
    uint64_t id = gj_job_id(job);
    for (int i = 0; i < 2000 && p.calls.load() == 0; i++)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    EXPECT_EQ(1, p.calls.load());
    EXPECT_EQ(GJ_ESERVER, p.code.load());
    gj_job *again = nullptr;
    for (int i = 0; i < 1000 && gj_client_job(client, id, &again, nullptr) == 0; i++) {
        gj_job_unref(again);
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    EXPECT_EQ(GJ_ENOTFOUND, gj_client_job(client, id, &again, err.e));
    gj_job_unref(job);
    // Without a handle at all.
    ASSERT_EQ(0, gj_client_submit(client, bad, &opts, nullptr, err.e));
    for (int i = 0; i < 2000 && p.calls.load() < 2; i++)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    EXPECT_EQ(2, p.calls.load());
    gj_request_unref(bad);
}

TEST_F(JobTest, ExecuteIsSubmitWaitResult)
{
    start();
    gj_request *req = make({ { "rows", gj_value_int(4) } });
    gj_result *res = nullptr;
    ASSERT_EQ(0, gj_client_execute(client, req, 5000, &res, err.e)) << err.msg();
    EXPECT_EQ(4u, gj_result_row_count(res));
    gj_result_free(res);
    gj_request *bad = make({ { "fail", gj_value_string("io") } });
    EXPECT_EQ(GJ_EIO, gj_client_execute(client, bad, 5000, &res, err.e));
    EXPECT_NE(std::string::npos, err.msg().find("connection reset")) << err.msg();
    gj_request *slow = make({ { "delay_ms", gj_value_int(3000) } });
    EXPECT_EQ(GJ_ETIMEDOUT, gj_client_execute(client, slow, 30, &res, err.e));
    gj_request_unref(req);
    gj_request_unref(bad);
    gj_request_unref(slow);
}

TEST_F(JobTest, SubmittedRequestIsFrozen)
{
    start();
    gj_request *req = make({});
    EXPECT_EQ(0, gj_request_set_param(req, "x", gj_value_int(1)));
    gj_job *job = submit(req);
    EXPECT_EQ(GJ_ESTATE, gj_request_set_param(req, "y", gj_value_int(2)));
    EXPECT_EQ(GJ_ESTATE, gj_request_set_timeout(req, 5));
    gj_request *copy = nullptr;
    ASSERT_EQ(0, gj_request_copy(&copy, req));
    EXPECT_EQ(0, gj_request_set_param(copy, "y", gj_value_int(2)));
    EXPECT_EQ(2u, gj_value_size(gj_request_params(copy)));
    EXPECT_EQ(1u, gj_value_size(gj_request_params(req)));
    gj_job_wait(job, 5000, nullptr);
    gj_job_unref(job);
    gj_request_unref(req);
    gj_request_unref(copy);
}

TEST_F(JobTest, RowCallbackStreamsAndCanStop)
{
    start();
    struct P {
        std::atomic<int> rows{ 0 };
        int stop_after;
    } p;
    p.stop_after = 1000000;
    gj_request *req = make({ { "rows", gj_value_int(1000) } });
    ASSERT_EQ(0, gj_request_set_row_callback(req, [](const gj_value *row, void *pp) {
        auto *q = static_cast<P *>(pp);
        EXPECT_EQ(GJ_TLIST, gj_value_type(row));
        return ++q->rows >= q->stop_after ? 1 : 0;
    }, &p));
    gj_result *res = nullptr;
    ASSERT_EQ(0, gj_client_execute(client, req, 5000, &res, err.e)) << err.msg();
    EXPECT_EQ(1000, p.rows.load());
    EXPECT_EQ(0u, gj_result_row_count(res)); // streamed, not collected
    gj_result_free(res);

    p.rows = 0;
    p.stop_after = 10;
    EXPECT_EQ(GJ_EABORTED, gj_client_execute(client, req, 5000, &res, err.e));
    EXPECT_EQ(10, p.rows.load());
    gj_request_unref(req);
}

TEST_F(JobTest, SubmitOptionsMustCarryTheirSize)
{
    start();
    gj_request *req = make({});
    gj_submit_options opts = {};
    gj_job *job = nullptr;
    EXPECT_EQ(GJ_EINVAL, gj_client_submit(client, req, &opts, &job, err.e));
    EXPECT_NE(std::string::npos, err.msg().find("GJ_SUBMIT_OPTIONS_INIT")) << err.msg();
    gj_submit_options good = GJ_SUBMIT_OPTIONS_INIT;
    EXPECT_EQ(0, gj_client_submit(client, req, &good, &job, err.e));
    gj_job_wait(job, 5000, nullptr);
    gj_job_unref(job);
    gj_request_unref(req);
}

TEST_F(JobTest, UnknownTargetFailsAtSubmit)
{
    start();
    gj_request *req = make({});
    ASSERT_EQ(0, gj_request_set_target(req, "nosuch"));
    gj_job *job = nullptr;
    EXPECT_EQ(GJ_EINVAL, gj_client_submit(client, req, nullptr, &job, err.e));
    EXPECT_EQ("no target named 'nosuch' is configured", err.msg());
    gj_request_unref(req);
}

// gj_job_wait spins (pauses, then yields) only briefly before sleeping, and
// longer only while the client's recent waits were short: waiting for a slow
// job costs the waiting thread almost no CPU, even right after short ones.
TEST_F(JobTest, WaitingForASlowJobSleeps)
{
    start(1, 16);
    gj_request *quick = make({ { "delay_us", gj_value_int(30) } });
    for (int i = 0; i < 50; i++) {
        gj_job *j = submit(quick);
        EXPECT_EQ(0, gj_job_wait(j, 10000, err.e)) << err.msg();
        gj_job_unref(j);
    }
    gj_request *slow = make({ { "delay_ms", gj_value_int(300) } });
    gj_job *j = submit(slow);
    struct rusage before, after;
    getrusage(RUSAGE_THREAD, &before);
    EXPECT_EQ(0, gj_job_wait(j, 10000, err.e)) << err.msg();
    getrusage(RUSAGE_THREAD, &after);
    auto cpu_us = [](const struct rusage &r) {
        return (r.ru_utime.tv_sec + r.ru_stime.tv_sec) * 1000000L + r.ru_utime.tv_usec +
               r.ru_stime.tv_usec;
    };
    EXPECT_LT(cpu_us(after) - cpu_us(before), 30000L) << "a 300 ms wait burnt the CPU";
    gj_job_unref(j);
    gj_request_unref(quick);
    gj_request_unref(slow);
}

// Job records come from the client's slab and are reused: a second burst of
// the same size takes no more memory, and the stats say what is held.  (Under
// AddressSanitizer records are malloc'd one by one and job_memory is 0.)
TEST_F(JobTest, JobRecordsAreReusedAcrossBursts)
{
    start(2, 10000);
    gj_request *req = make({});
    auto burst = [&] {
        std::vector<gj_job *> jobs(5000);
        for (auto &j : jobs)
            j = submit(req);
        for (auto *j : jobs) {
            gj_result *res = nullptr;
            EXPECT_EQ(0, gj_job_wait(j, 10000, err.e)) << err.msg();
            EXPECT_EQ(0, gj_job_result(j, &res, err.e)) << err.msg();
            gj_result_free(res);
            gj_job_unref(j);
        }
    };
    auto held = [&] {
        gj_client_stats st;
        st.size = sizeof st;
        EXPECT_EQ(0, gj_client_get_stats(client, &st));
        return st.job_memory;
    };
    burst();
    uint64_t after_first = held();
    burst();
    burst();
    EXPECT_EQ(after_first, held());
#ifndef GJ_TEST_ASAN
    EXPECT_GE(after_first, 5000u * 80u); // 5,000 records of at least 80 bytes
    // ... of 104 bytes, in chunks that double in size (up to twice that).
    EXPECT_LE(after_first, 5000u * 2u * 128u);
#endif
    gj_request_unref(req);
}

// A caller built against the first gj_client_stats (without job_memory) is
// still served, and nothing past its size is written.
TEST_F(JobTest, StatsAcceptTheFirstStructSize)
{
    start(1, 16);
    unsigned char buf[sizeof(gj_client_stats) + 8];
    memset(buf, 0xab, sizeof buf);
    gj_client_stats *st = reinterpret_cast<gj_client_stats *>(buf);
    st->size = offsetof(gj_client_stats, job_memory);
    EXPECT_EQ(0, gj_client_get_stats(client, st));
    for (size_t i = offsetof(gj_client_stats, job_memory); i < sizeof buf; i++)
        EXPECT_EQ(0xab, buf[i]) << "byte " << i;
    st->size = offsetof(gj_client_stats, job_memory) - 1;
    EXPECT_EQ(GJ_EINVAL, gj_client_get_stats(client, st));
}

// ---- caller-runs: the calling thread runs a job it would only wait for ----

// Which thread ran a job: its row callback runs where execute() runs.
struct ThreadProbe {
    std::atomic<bool> seen{ false };
    std::thread::id id;
    std::mutex mu;
    static int fn(const gj_value *, void *p)
    {
        auto *t = static_cast<ThreadProbe *>(p);
        std::lock_guard<std::mutex> lock(t->mu);
        t->id = std::this_thread::get_id();
        t->seen = true;
        return 0;
    }
    bool on_this_thread()
    {
        std::lock_guard<std::mutex> lock(t_mu());
        std::lock_guard<std::mutex> l2(mu);
        return seen && id == std::this_thread::get_id();
    }
    static std::mutex &t_mu()
    {
        static std::mutex m;
        return m;
    }
};

gj_request *probed(ThreadProbe *probe, std::initializer_list<std::pair<const char *, gj_value *>> opts)
{
    gj_request *req = make(opts);
    EXPECT_EQ(0, gj_request_set_option(req, "rows", gj_value_int(1)));
    EXPECT_EQ(0, gj_request_set_row_callback(req, ThreadProbe::fn, probe));
    return req;
}

class CallerRuns : public JobTest {
protected:
    void start_url(const char *url)
    {
        ASSERT_EQ(0, gj_test_client_new_url(&client, url, err.e)) << err.msg();
    }
    // The first job of a client opens the pool's connection on a worker;
    // afterwards it is idle in the pool.
    void warm_up()
    {
        gj_request *req = make({});
        ASSERT_EQ(0, gj_client_execute(client, req, 5000, nullptr, err.e)) << err.msg();
        gj_request_unref(req);
        std::this_thread::sleep_for(std::chrono::milliseconds(20));   // the worker gives it back
    }
};

TEST_F(CallerRuns, ExecuteRunsOnTheCallingThreadWhenNothingIsQueued)
{
    start_url("test://localhost?workers=2&max_conns=2");
    warm_up();
    ThreadProbe probe;
    gj_request *req = probed(&probe, {});
    gj_result *res = nullptr;
    ASSERT_EQ(0, gj_client_execute(client, req, 5000, &res, err.e)) << err.msg();
    EXPECT_TRUE(probe.on_this_thread()) << "the job ran on a worker";
    gj_result_free(res);
    // It was an ordinary job: counted as done, consumed by execute.
    gj_client_stats st;
    std::memset(&st, 0, sizeof st);
    st.size = sizeof st;
    ASSERT_EQ(0, gj_client_get_stats(client, &st));
    EXPECT_EQ(2u, st.done);
    EXPECT_EQ(0u, st.registered);
    gj_request_unref(req);
}

TEST_F(CallerRuns, TurnedOffEveryJobRunsOnAWorker)
{
    start_url("test://localhost?workers=2&max_conns=2&caller_runs=false");
    warm_up();
    ThreadProbe probe;
    gj_request *req = probed(&probe, {});
    ASSERT_EQ(0, gj_client_execute(client, req, 5000, nullptr, err.e)) << err.msg();
    EXPECT_TRUE(probe.seen.load());
    EXPECT_FALSE(probe.on_this_thread());
    gj_request_unref(req);
}

TEST_F(CallerRuns, ExecuteDoesNotJumpAheadOfQueuedJobs)
{
    start_url("test://localhost?workers=1&max_conns=2");
    warm_up();
    // The only worker is busy; job B waits in the queue.
    gj_request *slow = make({ { "delay_ms", gj_value_int(200) } });
    gj_job *a = submit(slow);
    for (int i = 0; i < 1000 && !gj_job_started(a); i++)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    ASSERT_TRUE(gj_job_started(a));
    gj_request *quick = make({});
    gj_job *b = submit(quick);
    EXPECT_FALSE(gj_job_started(b));
    // C finds B queued: it goes through the queue, behind B, on the worker.
    ThreadProbe probe;
    gj_request *c = probed(&probe, {});
    ASSERT_EQ(0, gj_client_execute(client, c, 5000, nullptr, err.e)) << err.msg();
    EXPECT_FALSE(probe.on_this_thread());
    EXPECT_EQ(GJ_JOB_DONE, status_of(b)) << "C ended before B, which was queued first";
    EXPECT_LE(gj_job_finished_at(b), gj_job_finished_at(a) + 1000);
    gj_job_unref(a);
    gj_job_unref(b);
    gj_request_unref(slow);
    gj_request_unref(quick);
    gj_request_unref(c);
}

TEST_F(CallerRuns, AJobRunByItsCallerIsListedAndCancelledFromAnotherThread)
{
    start_url("test://localhost?workers=2&max_conns=2");
    warm_up();
    gj_request *req = make({ { "delay_ms", gj_value_int(30000) } });
    std::atomic<int> rc{ 1 };
    std::atomic<int64_t> ended{ 0 };
    std::thread caller([&] {
        gj_error *e = gj_error_new();
        rc = gj_client_execute(client, req, -1, nullptr, e);
        ended = gj__now_ms();
        gj_error_free(e);
    });
    // It is an ordinary pending job: listed, found by id, cancelled.
    uint64_t *ids = nullptr;
    size_t n = 0;
    for (int i = 0; i < 2000 && n == 0; i++) {
        gj_free(ids);
        ids = nullptr;
        ASSERT_EQ(0, gj_client_list_jobs(client, GJ_JOB_PENDING, 0, &ids, &n, err.e));
        if (n == 0)
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ASSERT_EQ(1u, n);
    gj_job *job = nullptr;
    ASSERT_EQ(0, gj_client_job(client, ids[0], &job, err.e)) << err.msg();
    gj_free(ids);
    for (int i = 0; i < 1000 && !gj_job_started(job); i++)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    int64_t t0 = gj__now_ms();
    ASSERT_EQ(0, gj_job_cancel(job, err.e)) << err.msg();
    caller.join();
    EXPECT_EQ(GJ_ECANCELLED, rc.load());
    EXPECT_LT(ended - t0, 2000);
    gj_job_status st;
    EXPECT_EQ(GJ_ENOTFOUND, gj_job_get_status(job, &st, nullptr)) << "execute clears the job it ran";
    gj_job_unref(job);
    gj_request_unref(req);
}

TEST_F(CallerRuns, WaitingForTheFirstJobInLineRunsIt)
{
    start_url("test://localhost?workers=1&max_conns=2");
    warm_up();
    gj_request *slow = make({ { "delay_ms", gj_value_int(300) } });
    gj_job *a = submit(slow);
    for (int i = 0; i < 1000 && !gj_job_started(a); i++)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    ASSERT_TRUE(gj_job_started(a));
    // B is first in line behind the busy worker: a wait without a time
    // limit runs it here, callback included.
    ThreadProbe probe;
    gj_request *req = probed(&probe, {});
    std::atomic<int> calls{ 0 };
    std::atomic<bool> callback_here{ false };
    struct Cb {
        std::atomic<int> *calls;
        std::atomic<bool> *here;
        std::thread::id self;
    } cb{ &calls, &callback_here, std::this_thread::get_id() };
    gj_submit_options opts = GJ_SUBMIT_OPTIONS_INIT;
    opts.payload = &cb;
    opts.on_done = [](gj_job *, void *p) {
        auto *c = static_cast<Cb *>(p);
        (*c->calls)++;
        *c->here = std::this_thread::get_id() == c->self;
    };
    gj_job *b = submit(req, &opts);
    ASSERT_EQ(0, gj_job_wait(b, -1, err.e)) << err.msg();
    EXPECT_TRUE(probe.on_this_thread());
    EXPECT_EQ(1, calls.load());
    EXPECT_TRUE(callback_here.load()) << "the callback runs on the thread that ran the job";
    EXPECT_EQ(GJ_JOB_PENDING, status_of(a)) << "B did not wait behind A";
    // A wait with a time limit does not run a queued job (it may return first).
    gj_job *c = submit(req);
    gj_job *d = submit(req);
    EXPECT_EQ(GJ_ETIMEDOUT, gj_job_wait(d, 0, err.e));
    ASSERT_EQ(0, gj_job_wait(c, 5000, err.e));
    ASSERT_EQ(0, gj_job_wait(d, 5000, err.e));
    for (gj_job *j : { a, b, c, d })
        gj_job_unref(j);
    gj_request_unref(slow);
    gj_request_unref(req);
}

TEST_F(CallerRuns, AWorkerNeverRunsAnotherJobThisWay)
{
    start_url("test://localhost?workers=1&max_conns=2");
    warm_up();
    struct Probe {
        gj_client *client;
        gj_request *req;
        std::atomic<int> exec_rc{ 1 };
        std::atomic<int> wait_rc{ 1 };
        std::atomic<bool> done{ false };
    } probe;
    probe.client = client;
    probe.req = make({});
    gj_submit_options opts = GJ_SUBMIT_OPTIONS_INIT;
    opts.payload = &probe;
    opts.on_done = [](gj_job *, void *p) {
        auto *pr = static_cast<Probe *>(p);
        pr->exec_rc = gj_client_execute(pr->client, pr->req, 1000, nullptr, nullptr);
        gj_job *other = nullptr;
        gj_client_submit(pr->client, pr->req, nullptr, &other, nullptr);
        pr->wait_rc = gj_job_wait(other, -1, nullptr);
        gj_job_unref(other);
        pr->done = true;
    };
    gj_request *req = make({ { "delay_ms", gj_value_int(5) } });
    gj_job *job = submit(req, &opts);   // runs on the worker
    for (int i = 0; i < 5000 && !probe.done.load(); i++)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    ASSERT_TRUE(probe.done.load());
    EXPECT_EQ(GJ_EDEADLK, probe.exec_rc.load());
    EXPECT_EQ(GJ_EDEADLK, probe.wait_rc.load());
    gj_job_unref(job);
    gj_request_unref(req);
    gj_request_unref(probe.req);
}

TEST(JobShutdown, FreeCancelsQueuedInterruptsRunningAndKeepsHandlesValid)
{
    gj_client *client = nullptr;
    Err err;
    ASSERT_EQ(0, gj_test_client_new(&client, 2, 100, err.e)) << err.msg();
    std::atomic<int> calls{ 0 };
    gj_submit_options opts = GJ_SUBMIT_OPTIONS_INIT;
    opts.on_done = [](gj_job *, void *p) { ++*static_cast<std::atomic<int> *>(p); };
    opts.payload = &calls;
    gj_request *slow = make({ { "delay_ms", gj_value_int(10000) } });
    std::vector<gj_job *> jobs(10);
    for (auto &j : jobs)
        ASSERT_EQ(0, gj_client_submit(client, slow, &opts, &j, err.e));
    while (!gj_job_started(jobs[0]) || !gj_job_started(jobs[1]))
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    auto t0 = std::chrono::steady_clock::now();
    gj_client_free(client);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(3));
    EXPECT_EQ(10, calls.load());
    for (auto *j : jobs) {
        gj_job_status st;
        EXPECT_EQ(0, gj_job_get_status(j, &st, nullptr));
        EXPECT_EQ(GJ_JOB_CANCELLED, st);
        EXPECT_EQ(0, gj_job_wait(j, -1, nullptr));
        EXPECT_EQ(GJ_ECANCELLED, gj_job_result(j, nullptr, nullptr));
        EXPECT_EQ(0, gj_job_clear(j, nullptr));
        gj_job_unref(j);
    }
    gj_request_unref(slow);
}

} // namespace
