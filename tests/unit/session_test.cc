// Sessions (include/graphjob/session.h) on the test backend: order,
// pinning, a failed job, cancel of a waiting job, close with jobs pending, a
// lost connection, gj_client_free with sessions left open.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

extern "C" {
#include "tests/common/test_backend.h"
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

int64_t meta_int(const gj_result *res, const char *key)
{
    int64_t v = -1;
    const gj_value *m = gj_value_map_get(gj_result_meta(res), key);
    if (m)
        gj_value_int_get(m, &v);
    return v;
}

gj_test_backend_counters counters()
{
    gj_test_backend_counters c;
    gj_test_backend_counters_get(&c);
    return c;
}

class Sessions : public ::testing::Test {
protected:
    gj_client *client = nullptr;
    Err err;
    void start(const char *url = "test://localhost?workers=4&max_conns=4")
    {
        ASSERT_EQ(0, gj_test_client_new_url(&client, url, err.e)) << err.msg();
    }
    void TearDown() override { gj_client_free(client); }
    gj_job *submit(gj_session *s, gj_request *req, const gj_submit_options *opts = nullptr)
    {
        gj_job *job = nullptr;
        EXPECT_EQ(0, gj_session_submit(s, req, opts, &job, err.e)) << err.msg();
        gj_request_unref(req);
        return job;
    }
};

TEST_F(Sessions, JobsRunInOrderOnOnePinnedConnection)
{
    start();
    gj_session *s = nullptr;
    ASSERT_EQ(0, gj_client_open_session(client, nullptr, nullptr, &s, err.e)) << err.msg();
    std::vector<gj_job *> jobs;
    for (int i = 0; i < 20; i++)
        jobs.push_back(submit(s, make({ { "delay_us", gj_value_int((i * 7919) % 3000) } })));
    // Work outside the session goes on meanwhile, on other connections.
    std::vector<gj_job *> others;
    for (int i = 0; i < 20; i++) {
        gj_job *j = nullptr;
        gj_request *r = make({ { "delay_us", gj_value_int(500) } });
        ASSERT_EQ(0, gj_client_submit(client, r, nullptr, &j, err.e));
        gj_request_unref(r);
        others.push_back(j);
    }
    int64_t conn = -1;
    for (size_t i = 0; i < jobs.size(); i++) {
        ASSERT_EQ(0, gj_job_wait(jobs[i], 10000, err.e)) << err.msg();
        gj_result *res = nullptr;
        ASSERT_EQ(0, gj_job_result(jobs[i], &res, err.e)) << err.msg();
        EXPECT_EQ((int64_t)i + 1, meta_int(res, "session_seq")) << "job " << i << " ran out of order";
        if (conn < 0)
            conn = meta_int(res, "conn_id");
        EXPECT_EQ(conn, meta_int(res, "conn_id")) << "job " << i << " ran on another connection";
        gj_result_free(res);
        gj_job_unref(jobs[i]);
    }
    for (gj_job *j : others) {
        EXPECT_EQ(0, gj_job_wait(j, 10000, err.e));
        gj_job_unref(j);
    }
    EXPECT_EQ(20u, gj_session_job_count(s));
    long closes = counters().session_closes;
    EXPECT_EQ(0, gj_session_close(s, err.e)) << err.msg();
    EXPECT_EQ(closes + 1, counters().session_closes);
}

TEST_F(Sessions, AFailedJobDoesNotEndTheSession)
{
    start();
    gj_session *s = nullptr;
    ASSERT_EQ(0, gj_client_open_session(client, nullptr, nullptr, &s, err.e));
    gj_job *a = submit(s, make({}));
    gj_job *b = submit(s, make({ { "fail", gj_value_string("server") } }));
    gj_job *c = submit(s, make({}));
    ASSERT_EQ(0, gj_job_wait(c, 10000, err.e));
    EXPECT_EQ(GJ_ESERVER, gj_job_result(b, nullptr, err.e));
    EXPECT_EQ(1501, gj_error_server_number(err.e));
    gj_result *res = nullptr;
    ASSERT_EQ(0, gj_job_result(c, &res, err.e)) << err.msg();
    EXPECT_EQ(3, meta_int(res, "session_seq"));
    gj_result_free(res);
    for (gj_job *j : { a, b, c })
        gj_job_unref(j);
    EXPECT_EQ(0, gj_session_close(s, err.e)) << err.msg();
}

TEST_F(Sessions, AWaitingJobIsCancelledAtOnceAndTheRestGoOn)
{
    start();
    gj_session *s = nullptr;
    ASSERT_EQ(0, gj_client_open_session(client, nullptr, nullptr, &s, err.e));
    gj_job *a = submit(s, make({ { "delay_ms", gj_value_int(300) } }));
    gj_job *b = submit(s, make({}));
    gj_job *c = submit(s, make({}));
    // b waits behind a: cancelled at once, without running.
    auto t0 = std::chrono::steady_clock::now();
    ASSERT_EQ(0, gj_job_cancel(b, err.e)) << err.msg();
    EXPECT_EQ(GJ_JOB_CANCELLED, status_of(b));
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(100));
    EXPECT_EQ(GJ_JOB_PENDING, status_of(a));
    // Listed as an ordinary pending job, found by id.
    gj_job *found = nullptr;
    ASSERT_EQ(0, gj_client_job(client, gj_job_id(c), &found, err.e));
    gj_job_unref(found);
    ASSERT_EQ(0, gj_job_wait(c, 10000, err.e));
    gj_result *res = nullptr;
    ASSERT_EQ(0, gj_job_result(c, &res, err.e)) << err.msg();
    EXPECT_EQ(2, meta_int(res, "session_seq")) << "c ran second: b never ran";
    gj_result_free(res);
    EXPECT_EQ(GJ_JOB_DONE, status_of(a));
    for (gj_job *j : { a, b, c })
        gj_job_unref(j);
    EXPECT_EQ(0, gj_session_close(s, err.e));
}

TEST_F(Sessions, CloseCancelsWhatIsPendingAndEndsTheSession)
{
    start();
    gj_session *s = nullptr;
    ASSERT_EQ(0, gj_client_open_session(client, nullptr, nullptr, &s, err.e));
    std::atomic<int> callbacks{ 0 };
    gj_submit_options opts = GJ_SUBMIT_OPTIONS_INIT;
    opts.payload = &callbacks;
    opts.on_done = [](gj_job *, void *p) { (*static_cast<std::atomic<int> *>(p))++; };
    gj_job *a = submit(s, make({ { "delay_ms", gj_value_int(30000) } }), &opts);
    for (int i = 0; i < 2000 && !gj_job_started(a); i++)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    gj_job *b = submit(s, make({}), &opts);
    gj_job *c = submit(s, make({}), &opts);
    long closes = counters().session_closes;
    auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(0, gj_session_close(s, err.e)) << err.msg();
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
    for (gj_job *j : { a, b, c }) {
        EXPECT_EQ(GJ_JOB_CANCELLED, status_of(j));
        gj_job_unref(j);
    }
    EXPECT_EQ(3, callbacks.load());
    EXPECT_EQ(closes + 1, counters().session_closes);
    // The connection went back: plain jobs still run.
    gj_request *r = make({});
    EXPECT_EQ(0, gj_client_execute(client, r, 5000, nullptr, err.e)) << err.msg();
    gj_request_unref(r);
}

TEST_F(Sessions, ALostConnectionEndsTheSessionForTheLaterJobs)
{
    start();
    gj_session *s = nullptr;
    ASSERT_EQ(0, gj_client_open_session(client, nullptr, nullptr, &s, err.e));
    gj_job *a = submit(s, make({ { "fail", gj_value_string("io") } }));
    gj_job *b = submit(s, make({}));
    ASSERT_EQ(0, gj_job_wait(b, 10000, err.e));
    EXPECT_EQ(GJ_EIO, gj_job_result(a, nullptr, err.e));
    EXPECT_EQ(GJ_EIO, gj_job_result(b, nullptr, err.e));
    EXPECT_NE(std::string::npos, err.msg().find("session's connection was lost")) << err.msg();
    EXPECT_NE(std::string::npos, err.msg().find("connection reset")) << err.msg();
    gj_job_unref(a);
    gj_job_unref(b);
    EXPECT_EQ(GJ_EIO, gj_session_close(s, err.e));
    EXPECT_NE(std::string::npos, err.msg().find("lost")) << err.msg();
}

TEST_F(Sessions, ASessionThatCannotBeginFailsItsJobs)
{
    start();
    gj_value *opts = nullptr;
    ASSERT_EQ(0, gj_value_new_map(&opts, 1));
    ASSERT_EQ(0, gj_value_map_put_str(opts, "fail_open", gj_value_bool(true)));
    gj_session *s = nullptr;
    ASSERT_EQ(0, gj_client_open_session(client, nullptr, opts, &s, err.e));
    gj_value_unref(opts);
    gj_job *a = submit(s, make({}));
    ASSERT_EQ(0, gj_job_wait(a, 10000, err.e));
    EXPECT_EQ(GJ_ESERVER, gj_job_result(a, nullptr, err.e));
    EXPECT_NE(std::string::npos, err.msg().find("could not begin")) << err.msg();
    gj_job_unref(a);
    EXPECT_EQ(0, gj_session_close(s, err.e));
    // Bad options are refused at open.
    ASSERT_EQ(0, gj_value_new_map(&opts, 1));
    ASSERT_EQ(0, gj_value_map_put_str(opts, "nonsense", gj_value_int(1)));
    EXPECT_EQ(GJ_EINVAL, gj_client_open_session(client, nullptr, opts, &s, err.e));
    gj_value_unref(opts);
}

TEST_F(Sessions, SubmitAfterCloseBeganAndWrongTargetAreRefused)
{
    start();
    gj_session *s = nullptr;
    ASSERT_EQ(0, gj_client_open_session(client, nullptr, nullptr, &s, err.e));
    gj_request *r = make({});
    ASSERT_EQ(0, gj_request_set_target(r, "other"));
    gj_job *j = nullptr;
    EXPECT_EQ(GJ_EINVAL, gj_session_submit(s, r, nullptr, &j, err.e));
    gj_request_unref(r);
    EXPECT_EQ(0, gj_session_close(s, err.e));
}

TEST_F(Sessions, ClientFreeClosesSessionsLeftOpen)
{
    start();
    long closes = counters().session_closes;
    gj_session *s1 = nullptr, *s2 = nullptr;
    ASSERT_EQ(0, gj_client_open_session(client, nullptr, nullptr, &s1, err.e));
    ASSERT_EQ(0, gj_client_open_session(client, nullptr, nullptr, &s2, err.e));
    gj_job *a = submit(s1, make({}));
    ASSERT_EQ(0, gj_job_wait(a, 10000, err.e));
    gj_job *b = submit(s1, make({ { "delay_ms", gj_value_int(30000) } }));
    gj_job *c = submit(s1, make({}));   // waits behind b
    gj_job *d = submit(s2, make({}));
    ASSERT_EQ(0, gj_job_wait(d, 10000, err.e));
    for (int i = 0; i < 2000 && !gj_job_started(b); i++)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    auto t0 = std::chrono::steady_clock::now();
    gj_client_free(client);
    client = nullptr;
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
    EXPECT_EQ(closes + 2, counters().session_closes);
    EXPECT_EQ(GJ_JOB_CANCELLED, status_of(b));
    EXPECT_EQ(GJ_JOB_CANCELLED, status_of(c));
    for (gj_job *j : { a, b, c, d })
        gj_job_unref(j);
}

TEST(SessionsUnsupported, ABackendWithoutSessionsSaysSo)
{
    Err err;
    gj_client *client = nullptr;
    // GraphQL has no sessions (a subscription is one job).
    ASSERT_EQ(0, gj_client_new_url(&client, "graphql+http://127.0.0.1:1/graphql", err.e)) << err.msg();
    gj_session *s = nullptr;
    EXPECT_EQ(GJ_EUNSUPPORTED, gj_client_open_session(client, nullptr, nullptr, &s, err.e));
    EXPECT_NE(std::string::npos, err.msg().find("graphql")) << err.msg();
    EXPECT_EQ(nullptr, s);
    gj_client_free(client);
}

}  // namespace
