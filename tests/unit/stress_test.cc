// Stress: 8 submitter threads x N jobs (default 100,000 each; GJ_STRESS_JOBS
// overrides) on the test backend with random delays, failures, cancels,
// clears and wait timeouts.  Every job must end in exactly one state, every
// callback must run exactly once, and the counts must add up.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <random>
#include <thread>
#include <vector>

extern "C" {
#include "tests/common/test_backend.h"
}

namespace {

constexpr int kThreads = 8;

struct Tally {
    std::atomic<long> callbacks{ 0 };
    std::atomic<long> done_ok{ 0 };
    std::atomic<long> done_failed{ 0 };
    std::atomic<long> cancelled{ 0 };
    std::atomic<long> busy{ 0 };
    std::atomic<long> submitted{ 0 };
    std::atomic<long> cleared{ 0 };
    std::atomic<long> double_callback{ 0 };
};

// One slot per job to detect a second callback.
struct Slot {
    std::atomic<int> calls{ 0 };
    Tally *tally;
};

void on_done(gj_job *job, void *payload)
{
    Slot *slot = static_cast<Slot *>(payload);
    if (slot->calls.fetch_add(1) != 0)
        slot->tally->double_callback++;
    slot->tally->callbacks++;
    gj_job_status st;
    if (gj_job_get_status(job, &st, nullptr) == 0 && st == GJ_JOB_CANCELLED)
        slot->tally->cancelled++;
}

long jobs_per_thread()
{
    const char *env = getenv("GJ_STRESS_JOBS");
    return env ? atol(env) : 100000;
}

TEST(Stress, EveryJobEndsOnceAndEveryCallbackRunsOnce)
{
    const long per_thread = jobs_per_thread();
    gj_client *client = nullptr;
    gj_error *err = gj_error_new();
    ASSERT_EQ(0, gj_test_client_new(&client, 4, 4096, err)) << gj_error_message(err);

    // A few request kinds, shared (frozen) between all threads.
    auto mk = [](std::initializer_list<std::pair<const char *, gj_value *>> opts) {
        gj_request *r = nullptr;
        gj_request_new_query(&r, "stress");
        for (auto &o : opts)
            gj_request_set_option(r, o.first, o.second);
        return r;
    };
    gj_request *noop = mk({});
    gj_request *rows = mk({ { "rows", gj_value_int(3) } });
    gj_request *fail = mk({ { "fail", gj_value_string("server") } });
    gj_request *broken = mk({ { "fail", gj_value_string("io") } });
    gj_request *sleepy = mk({ { "delay_us", gj_value_int(200) } });
    gj_request *slow = mk({ { "delay_ms", gj_value_int(5) } });

    Tally tally;
    std::vector<Slot> slots(static_cast<size_t>(per_thread) * kThreads);
    for (auto &s : slots)
        s.tally = &tally;
    std::atomic<long> result_ok{ 0 }, result_failed{ 0 }, result_cancelled{ 0 };

    auto submitter = [&](int t) {
        std::mt19937 rng(1234 + t);
        std::uniform_int_distribution<int> pick(0, 99);
        std::vector<gj_job *> mine;
        mine.reserve(256);
        auto settle = [&](gj_job *job) {
            // Decide this job's fate from the caller's side.
            int what = pick(rng);
            if (what < 10) {
                gj_job_cancel(job, nullptr);
            } else if (what < 20) {
                if (gj_job_clear(job, nullptr) == 0)
                    tally.cleared++;
                gj_job_unref(job);
                return;
            } else if (what < 25) {
                gj_job_wait(job, 0, nullptr); // poll: may time out
            }
            int rc = gj_job_wait(job, -1, nullptr);
            EXPECT_EQ(0, rc);
            gj_result *res = nullptr;
            rc = gj_job_result(job, &res, nullptr);
            if (rc == 0)
                result_ok++;
            else if (rc == GJ_ECANCELLED)
                result_cancelled++;
            else
                result_failed++;
            gj_result_free(res);
            if (rc == GJ_ECANCELLED)
                gj_job_clear(job, nullptr);
            gj_job_unref(job);
        };
        for (long i = 0; i < per_thread; i++) {
            int kind = pick(rng);
            gj_request *req = kind < 60 ? noop : kind < 75 ? rows : kind < 85 ? fail
                              : kind < 88 ? broken : kind < 99 ? sleepy : slow;
            gj_submit_options opts = GJ_SUBMIT_OPTIONS_INIT;
            opts.on_done = on_done;
            opts.payload = &slots[static_cast<size_t>(t) * per_thread + i];
            gj_job *job = nullptr;
            int rc = gj_client_submit(client, req, &opts, &job, nullptr);
            if (rc == GJ_EBUSY) {
                tally.busy++;
                slots[static_cast<size_t>(t) * per_thread + i].calls = -1000; // never called
                // Back off by settling what we have.
                for (gj_job *j : mine)
                    settle(j);
                mine.clear();
                continue;
            }
            ASSERT_EQ(0, rc);
            tally.submitted++;
            mine.push_back(job);
            if (mine.size() >= 200) {
                for (gj_job *j : mine)
                    settle(j);
                mine.clear();
            }
        }
        for (gj_job *j : mine)
            settle(j);
    };

    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; t++)
        threads.emplace_back(submitter, t);
    for (auto &th : threads)
        th.join();

    // Wait for cleared-while-running jobs to let go, then check the books.
    gj_client_stats stats;
    stats.size = sizeof stats;
    for (int i = 0; i < 10000; i++) {
        ASSERT_EQ(0, gj_client_get_stats(client, &stats));
        // Counters move before the callback runs: wait for both.
        if (stats.done + stats.cancelled == stats.submitted &&
            tally.callbacks.load() == tally.submitted.load())
            break;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    EXPECT_EQ((uint64_t)tally.submitted.load(), stats.submitted);
    EXPECT_EQ((uint64_t)tally.busy.load(), stats.rejected);
    EXPECT_EQ(stats.submitted, stats.done + stats.cancelled);
    EXPECT_EQ(0u, stats.queued);
    EXPECT_EQ(0u, stats.running);
    EXPECT_EQ(tally.submitted.load(), tally.callbacks.load());
    EXPECT_EQ(0, tally.double_callback.load());
    // A callback sees CANCELLED unless the job was cleared first (then its
    // status is "not found"), so it can only see fewer.
    EXPECT_LE(tally.cancelled.load(), (long)stats.cancelled);
    // Every job that was not cleared was settled by exactly one result call.
    EXPECT_EQ(tally.submitted.load() - tally.cleared.load(),
              result_ok.load() + result_failed.load() + result_cancelled.load());
    // Failed jobs were either settled by a result call or cleared.
    EXPECT_LE(result_failed.load(), (long)stats.failed);
    EXPECT_GE(result_failed.load() + tally.cleared.load(), (long)stats.failed);
    // Nothing left registered: results taken, cancelled ones cleared.
    EXPECT_EQ(0u, stats.registered);
    long wrong = 0;
    for (auto &s : slots)
        wrong += !(s.calls.load() == 1 || s.calls.load() == -1000);
    EXPECT_EQ(0, wrong) << "jobs whose callback did not run exactly once";

    gj_client_free(client);
    for (auto *r : { noop, rows, fail, broken, sleepy, slow })
        gj_request_unref(r);
    gj_error_free(err);
}

} // namespace

namespace {

// Cancel by id concurrently with submit: every job is found and cancelled
// while queued, the queue stays consistent, and it still runs work after.
// (The narrow window where a cancel finds a job between its registration and
// its push onto the queue is handled in gj__queue_remove; this test exercises
// the path but cannot force that window.)
TEST(Stress, CancelByIdRacesWithSubmit)
{
    const long n = jobs_per_thread() / 5 + 1000;
    gj_client *client = nullptr;
    ASSERT_EQ(0, gj_test_client_new(&client, 1, (size_t)n + 10, nullptr));
    gj_request *block = nullptr, *noop = nullptr;
    gj_request_new_query(&block, "block");
    gj_request_set_option(block, "delay_ms", gj_value_int(60000));
    gj_request_new_query(&noop, "noop");
    gj_job *blocker = nullptr;
    ASSERT_EQ(0, gj_client_submit(client, block, nullptr, &blocker, nullptr));
    while (!gj_job_started(blocker))
        std::this_thread::yield();
    const uint64_t first = gj_job_id(blocker) + 1;

    std::atomic<long> cancelled{ 0 };
    std::thread canceller([&] {
        for (uint64_t id = first; id < first + (uint64_t)n; id++) {
            gj_job *job = nullptr;
            while (gj_client_job(client, id, &job, nullptr) != 0)
                std::this_thread::yield();
            if (gj_job_cancel(job, nullptr) == 0)
                cancelled++;
            gj_job_unref(job);
        }
    });
    std::vector<gj_job *> jobs((size_t)n);
    for (long i = 0; i < n; i++)
        ASSERT_EQ(0, gj_client_submit(client, noop, nullptr, &jobs[(size_t)i], nullptr));
    canceller.join();

    EXPECT_EQ(n, cancelled.load()); // all were queued behind the blocker
    gj_client_stats stats;
    stats.size = sizeof stats;
    ASSERT_EQ(0, gj_client_get_stats(client, &stats));
    EXPECT_EQ(0u, stats.queued);
    for (gj_job *j : jobs) {
        gj_job_status st;
        ASSERT_EQ(0, gj_job_get_status(j, &st, nullptr));
        EXPECT_EQ(GJ_JOB_CANCELLED, st);
        gj_job_unref(j);
    }
    // The queue still works.
    gj_job_cancel(blocker, nullptr);
    gj_result *res = nullptr;
    EXPECT_EQ(0, gj_client_execute(client, noop, 5000, &res, nullptr));
    gj_result_free(res);
    gj_job_unref(blocker);
    gj_request_unref(block);
    gj_request_unref(noop);
    gj_client_free(client);
}

} // namespace
