// ArangoDB stream transactions on sessions, through the public API against
// arango-refserver: begin / commit / abort as session jobs, the
// x-arango-trx-id header on every later job of the session (seen in the
// server's request log), isolation (writes visible inside before commit,
// not outside), a failed job leaving the transaction running, a
// transaction the server ended, a cancelled job, closing with a
// transaction open, the pinned coordinator, and the errors of misuse.
#include <gtest/gtest.h>

#include <graphjob.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "arango_server.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Err {
    gj_error *e = gj_error_new();
    ~Err() { gj_error_free(e); }
    std::string msg() const { return gj_error_message(e); }
};

gj_value *map_of(std::initializer_list<std::pair<const char *, gj_value *>> kv)
{
    gj_value *m = nullptr;
    EXPECT_EQ(0, gj_value_new_map(&m, kv.size()));
    for (auto &p : kv)
        EXPECT_EQ(0, gj_value_map_put_str(m, p.first, p.second));
    return m;
}

gj_value *list_of(std::initializer_list<const char *> items)
{
    gj_value *l = nullptr;
    EXPECT_EQ(0, gj_value_new_list(&l, items.size()));
    for (const char *s : items)
        EXPECT_EQ(0, gj_value_list_append(l, gj_value_string(s)));
    return l;
}

gj_request *op(const char *name, const char *text = nullptr,
               std::initializer_list<std::pair<const char *, gj_value *>> options = {})
{
    gj_request *req = nullptr;
    EXPECT_EQ(0, gj_request_new(&req, name, text));
    for (auto &o : options)
        EXPECT_EQ(0, gj_request_set_option(req, o.first, o.second));
    return req;
}

// op "begin" writing the given collections (and more options).
gj_request *begin_writing(std::initializer_list<const char *> write,
                          std::initializer_list<std::pair<const char *, gj_value *>> more = {})
{
    gj_request *req = op(GJ_OP_BEGIN, nullptr, { { "collections", map_of({ { "write", list_of(write) } }) } });
    for (auto &o : more)
        EXPECT_EQ(0, gj_request_set_option(req, o.first, o.second));
    return req;
}

gj_request *insert_doc(const char *coll, const char *key)
{
    return op(GJ_OP_DOCUMENT_INSERT, nullptr,
              { { "collection", gj_value_string(coll) }, { "document", map_of({ { "_key", gj_value_string(key) } }) } });
}

std::string str_of(const gj_value *v)
{
    const char *s = nullptr;
    return v && gj_value_string_get(v, &s, nullptr) == 0 ? s : "<none>";
}

int64_t int_of(const gj_value *v)
{
    int64_t i = -999;
    EXPECT_EQ(0, gj_value_int_get(v, &i));
    return i;
}

// One entry of the server's request log.
struct Logged {
    std::string method, path, trx;
    int64_t status;
};

class ArangoSessionTest : public ::testing::Test {
protected:
    std::unique_ptr<ArangoServer> server;
    gj_client *client = nullptr;
    Err err;

    // Start the server (every coordinator it runs goes into the URL, served
    // round robin) and a client; create the collections users and other.
    // max_conns leaves one connection more than the workers can hold at
    // once besides the session's: a worker keeps the connection of its last
    // job while it runs a session's job (on the session's connection).
    void start(const std::vector<std::string> &args = {}, int workers = 2, int max_conns = 4)
    {
        server.reset(new ArangoServer(args));
        ASSERT_TRUE(server->ok()) << server->error();
        std::string url = "http://root:pw@";
        for (size_t i = 0; i < server->ports().size(); i++)
            url += (i ? ",127.0.0.1:" : "127.0.0.1:") + std::to_string(server->ports()[i]);
        gj_config *cfg = nullptr;
        ASSERT_EQ(0, gj_config_from_url(&cfg, url.c_str(), err.e)) << err.msg();
        ASSERT_EQ(0, gj_config_set_int(cfg, nullptr, "workers", workers, err.e));
        ASSERT_EQ(0, gj_config_set_int(cfg, nullptr, "max_conns", max_conns, err.e));
        ASSERT_EQ(0, gj_client_new(&client, cfg, err.e)) << err.msg();
        gj_config_free(cfg);
        ASSERT_EQ(0, run(op(GJ_OP_COLLECTION_CREATE, nullptr, { { "name", gj_value_string("users") } })))
            << err.msg();
        ASSERT_EQ(0, run(op(GJ_OP_COLLECTION_CREATE, nullptr, { { "name", gj_value_string("other") } })))
            << err.msg();
        for (size_t i = 0; i < server->ports().size(); i++)
            clear_requests(i);
    }
    void TearDown() override
    {
        gj_client_free(client);
        client = nullptr;
        server.reset();
    }

    // A job outside any session.
    int run(gj_request *req, gj_result **res = nullptr)
    {
        gj_result *r = nullptr;
        int rc = gj_client_execute(client, req, 20000, &r, err.e);
        gj_request_unref(req);
        if (res)
            *res = r;
        else
            gj_result_free(r);
        return rc;
    }
    // A job of session s, waited for.
    int in(gj_session *s, gj_request *req, gj_result **res = nullptr)
    {
        gj_job *job = nullptr;
        int rc = gj_session_submit(s, req, nullptr, &job, err.e);
        gj_request_unref(req);
        if (rc)
            return rc;
        rc = gj_job_wait(job, 20000, err.e);
        gj_result *r = nullptr;
        if (rc == 0)
            rc = gj_job_result(job, &r, err.e);
        gj_job_unref(job);
        if (res)
            *res = r;
        else
            gj_result_free(r);
        return rc;
    }
    gj_session *open_session()
    {
        gj_session *s = nullptr;
        EXPECT_EQ(0, gj_client_open_session(client, nullptr, nullptr, &s, err.e)) << err.msg();
        return s;
    }
    // Begin in s; returns the transaction's id.
    std::string begin(gj_session *s, gj_request *req)
    {
        gj_result *res = nullptr;
        EXPECT_EQ(0, in(s, req, &res)) << err.msg();
        if (!res)
            return "";
        std::string id = str_of(gj_value_map_get(gj_result_meta(res), "trx_id"));
        EXPECT_EQ(1u, gj_result_row_count(res));
        EXPECT_EQ(id, str_of(gj_result_row_get(res, 0, "id")));
        EXPECT_EQ("running", str_of(gj_result_row_get(res, 0, "status")));
        gj_result_free(res);
        return id;
    }
    // The keys of collection coll seen by a job outside the session.
    std::vector<std::string> keys_outside(const char *coll)
    {
        gj_request *req = op(GJ_OP_QUERY, "FOR d IN @@c RETURN d._key");
        gj_request_set_param(req, "@c", gj_value_string(coll));
        gj_result *res = nullptr;
        std::vector<std::string> out;
        EXPECT_EQ(0, run(req, &res)) << err.msg();
        for (size_t i = 0; i < gj_result_row_count(res); i++)
            out.push_back(str_of(gj_result_row(res, i)));
        gj_result_free(res);
        return out;
    }
    std::vector<std::string> keys_in(gj_session *s, const char *coll)
    {
        gj_request *req = op(GJ_OP_QUERY, "FOR d IN @@c RETURN d._key");
        gj_request_set_param(req, "@c", gj_value_string(coll));
        gj_result *res = nullptr;
        std::vector<std::string> out;
        EXPECT_EQ(0, in(s, req, &res)) << err.msg();
        for (size_t i = 0; i < gj_result_row_count(res); i++)
            out.push_back(str_of(gj_result_row(res, i)));
        gj_result_free(res);
        return out;
    }
    std::string status_of(const std::string &id)
    {
        gj_result *res = nullptr;
        EXPECT_EQ(0, run(op(GJ_OP_TRANSACTION_STATUS, nullptr, { { "id", gj_value_string(id.c_str()) } }), &res))
            << err.msg();
        std::string st = str_of(gj_value_map_get(gj_value_map_get(gj_result_row(res, 0), "result"), "status"));
        gj_result_free(res);
        return st;
    }

    std::vector<Logged> requests(size_t coordinator = 0)
    {
        std::string body;
        EXPECT_EQ(200, server->request("GET", "/_refserver/requests", "", &body, false, coordinator));
        gj_value *v = nullptr;
        std::vector<Logged> out;
        if (gj_value_from_json(&v, body.data(), body.size(), err.e) != 0)
            return out;
        const gj_value *list = gj_value_map_get(v, "requests");
        for (size_t i = 0; i < gj_value_size(list); i++) {
            const gj_value *e = gj_value_list_at(list, i);
            const gj_value *trx = gj_value_map_get(e, "trx");
            if (str_of(gj_value_map_get(e, "path")).find("/_refserver") != std::string::npos)
                continue;   // the test's own control requests
            out.push_back({ str_of(gj_value_map_get(e, "method")), str_of(gj_value_map_get(e, "path")),
                            gj_value_type(trx) == GJ_TSTRING ? str_of(trx) : "",
                            int_of(gj_value_map_get(e, "status")) });
        }
        gj_value_unref(v);
        return out;
    }
    void clear_requests(size_t coordinator = 0)
    {
        server->request("DELETE", "/_refserver/requests", "", nullptr, false, coordinator);
    }
    // Wait (up to 10 s) for a logged request: method and path containing `path`.
    bool await_request(const std::string &method, const std::string &path)
    {
        auto t0 = Clock::now();
        while (Clock::now() - t0 < std::chrono::seconds(10)) {
            for (auto &r : requests())
                if (r.method == method && r.path.find(path) != std::string::npos)
                    return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        return false;
    }
};

using Keys = std::vector<std::string>;

TEST_F(ArangoSessionTest, BeginWorkCommitWithIsolation)
{
    start();
    gj_session *s = open_session();
    ASSERT_NE(nullptr, s);
    std::string id = begin(s, begin_writing({ "users" }, { { "waitForSync", gj_value_bool(false) },
                                                          { "lockTimeout", gj_value_int(5) },
                                                          { "maxTransactionSize", gj_value_int(1 << 20) },
                                                          { "allowImplicit", gj_value_bool(true) } }));
    ASSERT_FALSE(id.empty());
    ASSERT_EQ(0, in(s, insert_doc("users", "a"))) << err.msg();
    gj_request *aql = op(GJ_OP_QUERY, "INSERT @d INTO users");
    gj_request_set_param(aql, "d", map_of({ { "_key", gj_value_string("b") } }));
    ASSERT_EQ(0, in(s, aql)) << err.msg();

    // Inside: both writes; outside: none, until the commit.
    EXPECT_EQ(Keys({ "a", "b" }), keys_in(s, "users"));
    EXPECT_EQ(Keys({}), keys_outside("users"));
    gj_result *res = nullptr;
    ASSERT_EQ(0, in(s, op(GJ_OP_DOCUMENT_GET, nullptr, { { "collection", gj_value_string("users") },
                                                         { "key", gj_value_string("a") } }),
                    &res))
        << err.msg();
    EXPECT_EQ("a", str_of(gj_result_row_get(res, 0, "_key")));
    gj_result_free(res);
    EXPECT_EQ(GJ_ESERVER, run(op(GJ_OP_DOCUMENT_GET, nullptr, { { "collection", gj_value_string("users") },
                                                              { "key", gj_value_string("a") } })));
    EXPECT_EQ(1202, gj_error_server_number(err.e)) << err.msg();
    ASSERT_EQ(0, in(s, op(GJ_OP_COLLECTION_COUNT, nullptr, { { "name", gj_value_string("users") } }), &res))
        << err.msg();
    EXPECT_EQ(2, int_of(gj_result_row_get(res, 0, "count")));
    gj_result_free(res);
    // transaction.status without an id asks about the session's.
    ASSERT_EQ(0, in(s, op(GJ_OP_TRANSACTION_STATUS), &res)) << err.msg();
    EXPECT_EQ("running", str_of(gj_value_map_get(gj_result_row_get(res, 0, "result"), "status")));
    gj_result_free(res);

    ASSERT_EQ(0, in(s, op(GJ_OP_COMMIT), &res)) << err.msg();
    EXPECT_EQ(id, str_of(gj_value_map_get(gj_result_meta(res), "trx_id")));
    EXPECT_EQ("committed", str_of(gj_result_row_get(res, 0, "status")));
    gj_result_free(res);
    EXPECT_EQ(Keys({ "a", "b" }), keys_outside("users"));
    EXPECT_EQ("committed", status_of(id));

    // Every job between begin and commit named the transaction; begin and
    // commit did not send the header (the server refuses it on begin).
    size_t with_trx = 0;
    for (auto &r : requests()) {
        if (r.path.find("/_api/transaction") != std::string::npos) {
            EXPECT_EQ("", r.trx) << r.method << " " << r.path;
        } else if (r.trx.size()) {
            EXPECT_EQ(id, r.trx) << r.method << " " << r.path;
            with_trx++;
        }
    }
    EXPECT_EQ(5u, with_trx) << "insert, AQL insert, AQL read, document get, count, and nothing else";

    // After the commit the session's jobs run outside any transaction.
    clear_requests();
    ASSERT_EQ(0, in(s, op(GJ_OP_QUERY, "RETURN 1"))) << err.msg();
    for (auto &r : requests())
        EXPECT_EQ("", r.trx) << r.method << " " << r.path;
    EXPECT_EQ(0, gj_session_close(s, err.e)) << err.msg();
}

TEST_F(ArangoSessionTest, AbortAndRollbackDiscard)
{
    start();
    gj_session *s = open_session();
    for (const char *end : { GJ_OP_ABORT, GJ_OP_ROLLBACK }) {
        std::string id = begin(s, begin_writing({ "users" }));
        ASSERT_EQ(0, in(s, insert_doc("users", "gone"))) << err.msg();
        EXPECT_EQ(Keys({ "gone" }), keys_in(s, "users"));
        gj_result *res = nullptr;
        ASSERT_EQ(0, in(s, op(end), &res)) << end << ": " << err.msg();
        EXPECT_EQ("aborted", str_of(gj_result_row_get(res, 0, "status")));
        gj_result_free(res);
        EXPECT_EQ(Keys({}), keys_outside("users"));
        EXPECT_EQ(Keys({}), keys_in(s, "users")) << "no transaction any more";
        EXPECT_EQ("aborted", status_of(id));
    }
    EXPECT_EQ(0, gj_session_close(s, err.e)) << err.msg();
}

TEST_F(ArangoSessionTest, ClosingWithATransactionOpenAbortsIt)
{
    start();
    gj_session *s = open_session();
    std::string id = begin(s, begin_writing({ "users" }));
    ASSERT_EQ(0, in(s, insert_doc("users", "x"))) << err.msg();
    clear_requests();
    EXPECT_EQ(0, gj_session_close(s, err.e)) << err.msg();
    auto log = requests();
    ASSERT_EQ(1u, log.size());
    EXPECT_EQ("DELETE", log[0].method);
    EXPECT_NE(std::string::npos, log[0].path.find("/_api/transaction/" + id)) << log[0].path;
    EXPECT_EQ(200, log[0].status);
    EXPECT_EQ("aborted", status_of(id));
    EXPECT_EQ(Keys({}), keys_outside("users"));

    // A session closed without a transaction sends nothing.
    s = open_session();
    ASSERT_EQ(0, in(s, op(GJ_OP_QUERY, "RETURN 1"))) << err.msg();
    clear_requests();
    EXPECT_EQ(0, gj_session_close(s, err.e)) << err.msg();
    EXPECT_EQ(0u, requests().size());
}

// ArangoDB leaves a stream transaction running when one of its operations
// fails: the failed one changed nothing, the others stay.
TEST_F(ArangoSessionTest, AFailedJobLeavesTheTransactionRunning)
{
    start();
    gj_session *s = open_session();
    std::string id = begin(s, begin_writing({ "users" }));
    ASSERT_EQ(0, in(s, insert_doc("users", "k1"))) << err.msg();
    EXPECT_EQ(GJ_ESERVER, in(s, insert_doc("users", "k1")));
    EXPECT_EQ(1210, gj_error_server_number(err.e)) << err.msg();
    EXPECT_EQ(GJ_ESERVER, in(s, op(GJ_OP_QUERY, "RETURN nonsense(")));
    EXPECT_EQ(1501, gj_error_server_number(err.e)) << err.msg();
    // Writing a collection not declared for writing: 1652, still running.
    EXPECT_EQ(GJ_ESERVER, in(s, insert_doc("other", "o1")));
    EXPECT_EQ(1652, gj_error_server_number(err.e)) << err.msg();
    EXPECT_EQ("running", status_of(id));
    ASSERT_EQ(0, in(s, insert_doc("users", "k2"))) << err.msg();
    ASSERT_EQ(0, in(s, op(GJ_OP_COMMIT))) << err.msg();
    EXPECT_EQ(Keys({ "k1", "k2" }), keys_outside("users"));
    EXPECT_EQ(Keys({}), keys_outside("other"));
    EXPECT_EQ(0, gj_session_close(s, err.e)) << err.msg();
}

TEST_F(ArangoSessionTest, AllowImplicitFalseRefusesUndeclaredReads)
{
    start();
    gj_session *s = open_session();
    std::string id = begin(s, begin_writing({ "users" }, { { "allowImplicit", gj_value_bool(false) } }));
    EXPECT_EQ(GJ_ESERVER, in(s, op(GJ_OP_QUERY, "FOR d IN other RETURN d")));
    EXPECT_EQ(1652, gj_error_server_number(err.e)) << err.msg();
    EXPECT_EQ(Keys({}), keys_in(s, "users")) << "a declared collection reads";
    ASSERT_EQ(0, in(s, op(GJ_OP_ABORT))) << err.msg();
    // The read collections of a begin are declared too.
    id = begin(s, op(GJ_OP_BEGIN, nullptr,
                     { { "collections", map_of({ { "read", gj_value_string("other") } }) },
                       { "allowImplicit", gj_value_bool(false) } }));
    EXPECT_EQ(Keys({}), keys_in(s, "other"));
    EXPECT_EQ(0, gj_session_close(s, err.e)) << err.msg();
    EXPECT_EQ("aborted", status_of(id));
}

// The server ends the transaction (here: another client aborts it by id):
// the job that meets it fails with the server's 1655, the later ones of the
// session at once with GJ_ESTATE, until a new begin.
TEST_F(ArangoSessionTest, ATransactionTheServerEndedFailsTheLaterJobs)
{
    start();
    gj_session *s = open_session();
    std::string id = begin(s, begin_writing({ "users" }));
    ASSERT_EQ(0, in(s, insert_doc("users", "lost"))) << err.msg();
    ASSERT_EQ(0, run(op(GJ_OP_TRANSACTION_ABORT, nullptr, { { "id", gj_value_string(id.c_str()) } }))) << err.msg();
    EXPECT_EQ(GJ_ESERVER, in(s, op(GJ_OP_QUERY, "RETURN 1")));
    EXPECT_EQ(1655, gj_error_server_number(err.e)) << err.msg();
    clear_requests();
    EXPECT_EQ(GJ_ESTATE, in(s, insert_doc("users", "later")));
    EXPECT_NE(std::string::npos, err.msg().find(id)) << err.msg();
    EXPECT_NE(std::string::npos, err.msg().find("no longer running")) << err.msg();
    EXPECT_EQ(GJ_ESTATE, in(s, op(GJ_OP_COMMIT)));
    EXPECT_EQ(0u, requests().size()) << "nothing was sent";
    // A job that does not run in the transaction still runs.
    ASSERT_EQ(0, in(s, op(GJ_OP_VERSION))) << err.msg();
    // A new begin starts over.
    std::string id2 = begin(s, begin_writing({ "users" }));
    EXPECT_NE(id, id2);
    ASSERT_EQ(0, in(s, insert_doc("users", "kept"))) << err.msg();
    ASSERT_EQ(0, in(s, op(GJ_OP_COMMIT))) << err.msg();
    EXPECT_EQ(Keys({ "kept" }), keys_outside("users"));
    EXPECT_EQ(0, gj_session_close(s, err.e)) << err.msg();
}

TEST_F(ArangoSessionTest, AnIdleTimeoutEndsIt)
{
    // The server's idle timeout (60 s in ArangoDB; 0.2 s here).
    start({ "--trx-idle-timeout", "0.2" });
    gj_session *s = open_session();
    std::string id = begin(s, begin_writing({ "users" }));
    std::this_thread::sleep_for(std::chrono::milliseconds(600));
    EXPECT_EQ(GJ_ESERVER, in(s, insert_doc("users", "late")));
    EXPECT_EQ(1655, gj_error_server_number(err.e)) << err.msg();
    EXPECT_EQ(GJ_ESTATE, in(s, op(GJ_OP_QUERY, "RETURN 1")));
    // Abort acknowledges it (the server answers for the expired one).
    gj_result *res = nullptr;
    ASSERT_EQ(0, in(s, op(GJ_OP_ABORT), &res)) << err.msg();
    EXPECT_EQ("aborted", str_of(gj_result_row_get(res, 0, "status")));
    gj_result_free(res);
    ASSERT_EQ(0, in(s, op(GJ_OP_QUERY, "RETURN 1"))) << err.msg();
    EXPECT_EQ(0, gj_session_close(s, err.e)) << err.msg();
}

// A cancelled job leaves the transaction's state unknown: it is aborted at
// once, and the session ends.
TEST_F(ArangoSessionTest, CancelInsideAbortsTheTransactionAndEndsTheSession)
{
    start();
    gj_session *s = open_session();
    std::string id = begin(s, begin_writing({ "users" }));
    ASSERT_EQ(0, in(s, insert_doc("users", "c1"))) << err.msg();
    gj_job *job = nullptr;
    gj_request *slow = op(GJ_OP_QUERY, "RETURN SLEEP(30)");
    ASSERT_EQ(0, gj_session_submit(s, slow, nullptr, &job, err.e)) << err.msg();
    gj_request_unref(slow);
    // Cancel once the server runs it.
    auto t0 = Clock::now();
    size_t running = 0;
    while (running == 0 && Clock::now() - t0 < std::chrono::seconds(20)) {
        gj_result *cur = nullptr;
        ASSERT_EQ(0, run(op(GJ_OP_HTTP, nullptr, { { "path", gj_value_string("/_api/query/current") } }), &cur))
            << err.msg();
        running = gj_value_size(gj_result_row(cur, 0));
        gj_result_free(cur);
        if (running == 0)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_EQ(1u, running) << "the query never ran";
    ASSERT_EQ(0, gj_job_cancel(job, err.e)) << err.msg();
    ASSERT_EQ(0, gj_job_wait(job, 10000, err.e)) << err.msg();
    gj_job_status st = GJ_JOB_PENDING;
    ASSERT_EQ(0, gj_job_get_status(job, &st, err.e));
    EXPECT_EQ(GJ_JOB_CANCELLED, st);
    gj_job_unref(job);
    EXPECT_TRUE(await_request("DELETE", "/_api/transaction/" + id)) << "the transaction is aborted";
    EXPECT_EQ("aborted", status_of(id));
    EXPECT_EQ(Keys({}), keys_outside("users"));
    // The session has ended: its next job says why.
    EXPECT_EQ(GJ_EIO, in(s, op(GJ_OP_QUERY, "RETURN 1")));
    EXPECT_NE(std::string::npos, err.msg().find("cancelled")) << err.msg();
    EXPECT_EQ(GJ_EIO, gj_session_close(s, err.e));
}

// With two coordinators served round robin, every job of a session goes to
// the coordinator its transaction began on.
TEST_F(ArangoSessionTest, TheSessionStaysOnItsCoordinator)
{
    start({ "--coordinators", "2" }, 4, 6);
    // Warm both coordinators' connections.
    std::vector<gj_job *> warm;
    for (int i = 0; i < 8; i++) {
        gj_job *j = nullptr;
        gj_request *r = op(GJ_OP_QUERY, "RETURN SLEEP(0.05)");
        ASSERT_EQ(0, gj_client_submit(client, r, nullptr, &j, err.e));
        gj_request_unref(r);
        warm.push_back(j);
    }
    for (gj_job *j : warm) {
        EXPECT_EQ(0, gj_job_wait(j, 20000, err.e));
        gj_job_unref(j);
    }
    ASSERT_GT(requests(0).size(), 0u);
    ASSERT_GT(requests(1).size(), 0u) << "round robin reached the second coordinator";
    clear_requests(0);
    clear_requests(1);

    for (int round = 0; round < 3; round++) {
        gj_session *s = open_session();
        std::string id = begin(s, begin_writing({ "users" }));
        for (int i = 0; i < 5; i++) {
            std::string key = "r" + std::to_string(round) + "_" + std::to_string(i);
            ASSERT_EQ(0, in(s, insert_doc("users", key.c_str()))) << err.msg();
            // Other work meanwhile, spread over both coordinators.
            ASSERT_EQ(0, run(op(GJ_OP_QUERY, "RETURN 1"))) << err.msg();
        }
        ASSERT_EQ(0, in(s, op(GJ_OP_COMMIT))) << err.msg();
        EXPECT_EQ(0, gj_session_close(s, err.e)) << err.msg();
        size_t on[2] = { 0, 0 };
        for (size_t co = 0; co < 2; co++)
            for (auto &r : requests(co))
                if (r.trx == id || r.path.find("/_api/transaction") != std::string::npos)
                    on[co]++;
        EXPECT_EQ(7u, on[0] + on[1]) << "begin, 5 inserts, commit";
        EXPECT_TRUE(on[0] == 0 || on[1] == 0) << on[0] << " and " << on[1];
        clear_requests(0);
        clear_requests(1);
    }
}

TEST_F(ArangoSessionTest, PagingInsideTheTransaction)
{
    start();
    gj_session *s = open_session();
    std::string id = begin(s, begin_writing({ "users" }));
    for (int i = 0; i < 5; i++)
        ASSERT_EQ(0, in(s, insert_doc("users", ("p" + std::to_string(i)).c_str()))) << err.msg();
    clear_requests();
    gj_request *req = op(GJ_OP_QUERY, "FOR d IN users RETURN d._key",
                         { { "batchSize", gj_value_int(2) }, { "count", gj_value_bool(true) } });
    gj_result *res = nullptr;
    ASSERT_EQ(0, in(s, req, &res)) << err.msg();
    EXPECT_EQ(5u, gj_result_row_count(res));
    int64_t count = 0;
    EXPECT_TRUE(gj_result_count(res, &count));
    EXPECT_EQ(5, count);
    gj_result_free(res);
    auto log = requests();
    ASSERT_EQ(3u, log.size()) << "the first batch and two more";
    for (auto &r : log)
        EXPECT_EQ(id, r.trx) << r.method << " " << r.path;
    EXPECT_EQ(0, gj_session_close(s, err.e)) << err.msg();
}

TEST_F(ArangoSessionTest, Misuse)
{
    start();
    // Session options: none known.
    gj_session *s = nullptr;
    gj_value *opts = map_of({ { "bogus", gj_value_int(1) } });
    EXPECT_EQ(GJ_EINVAL, gj_client_open_session(client, nullptr, opts, &s, err.e));
    EXPECT_NE(std::string::npos, err.msg().find("bogus")) << err.msg();
    gj_value_unref(opts);
    // begin / commit / abort outside a session.
    EXPECT_EQ(GJ_EINVAL, run(begin_writing({ "users" })));
    EXPECT_NE(std::string::npos, err.msg().find("session")) << err.msg();
    EXPECT_EQ(GJ_EINVAL, run(op(GJ_OP_COMMIT)));

    s = open_session();
    // Nothing to end.
    EXPECT_EQ(GJ_ESTATE, in(s, op(GJ_OP_COMMIT)));
    EXPECT_NE(std::string::npos, err.msg().find("no stream transaction")) << err.msg();
    EXPECT_EQ(GJ_ESTATE, in(s, op(GJ_OP_ABORT)));
    // Bad begins: nothing is sent.
    clear_requests();
    EXPECT_EQ(GJ_EINVAL, in(s, op(GJ_OP_BEGIN)));
    EXPECT_NE(std::string::npos, err.msg().find("collections")) << err.msg();
    EXPECT_EQ(GJ_EINVAL, in(s, op(GJ_OP_BEGIN, nullptr, { { "collections", map_of({ { "writ", gj_value_string("users") } }) } })));
    EXPECT_NE(std::string::npos, err.msg().find("writ")) << err.msg();
    EXPECT_EQ(GJ_EINVAL, in(s, op(GJ_OP_BEGIN, nullptr, { { "collections", map_of({ { "write", gj_value_int(3) } }) } })));
    EXPECT_EQ(GJ_EINVAL, in(s, begin_writing({ "users" }, { { "lockTimeout", gj_value_string("5") } })));
    EXPECT_NE(std::string::npos, err.msg().find("lockTimeout")) << err.msg();
    EXPECT_EQ(GJ_EINVAL, in(s, begin_writing({ "users" }, { { "waitForSync", gj_value_int(1) } })));
    EXPECT_EQ(GJ_EINVAL, in(s, begin_writing({ "users" }, { { "nope", gj_value_int(1) } })));
    EXPECT_EQ(GJ_EINVAL, in(s, begin_writing({ "users" }, { { "async", gj_value_string("store") } })));
    EXPECT_EQ(0u, requests().size());
    // An unknown collection: the server's 1203.
    EXPECT_EQ(GJ_ESERVER, in(s, begin_writing({ "nosuch" })));
    EXPECT_EQ(1203, gj_error_server_number(err.e)) << err.msg();
    // A second begin while one is open.
    std::string id = begin(s, begin_writing({ "users" }));
    EXPECT_EQ(GJ_ESTATE, in(s, begin_writing({ "users" })));
    EXPECT_NE(std::string::npos, err.msg().find(id)) << err.msg();
    // async does not go with a transaction; a request in another database
    // cannot run in it.
    EXPECT_EQ(GJ_EINVAL, in(s, op(GJ_OP_QUERY, "RETURN 1", { { "async", gj_value_string("store") } })));
    gj_request *other_db = op(GJ_OP_QUERY, "RETURN 1");
    gj_request_set_database(other_db, "elsewhere");
    EXPECT_EQ(GJ_EINVAL, in(s, other_db));
    EXPECT_NE(std::string::npos, err.msg().find("elsewhere")) << err.msg();
    // An explicit option trx wins over the session's.
    EXPECT_EQ(GJ_ESERVER, in(s, op(GJ_OP_QUERY, "RETURN 1", { { "trx", gj_value_string("999999") } })));
    EXPECT_EQ(1655, gj_error_server_number(err.e)) << err.msg();
    EXPECT_EQ("running", status_of(id)) << "the session's transaction is not affected";
    ASSERT_EQ(0, in(s, op(GJ_OP_QUERY, "RETURN 1"))) << err.msg();
    EXPECT_EQ(0, gj_session_close(s, err.e)) << err.msg();
    EXPECT_EQ("aborted", status_of(id));
}

} // namespace
