// Bolt on sessions through the public API against bolt-refserver:
// interactive transactions across jobs (begin, queries whose text depends on
// earlier results, commit / rollback), a FAILURE or a cancel inside, the
// causal chain of bookmarks in a session and across sessions (the target's
// bookmark manager), a neo4j:// session staying on its member and a member
// that dies mid-transaction.
#include <graphjob.h>

#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "server_process.h"

using gjtest::ServerProcess;

#ifndef GJ_OP_BEGIN
#define GJ_OP_BEGIN "begin"
#define GJ_OP_COMMIT "commit"
#define GJ_OP_ROLLBACK "rollback"
#endif

namespace {

std::string server_path() { return gjtest::build_path("tests/servers/bolt/bolt-refserver"); }

std::vector<std::string> args_with(std::vector<std::string> extra)
{
    std::vector<std::string> a = { "--port", "0", "--verbose" };
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
}

struct Err {
    gj_error *e = gj_error_new();
    ~Err() { gj_error_free(e); }
    std::string msg() const { return gj_error_message(e); }
};

gj_client *make_client(const std::string &url, const gj_value *target_options = nullptr, int workers = 2,
                       int max_conns = 2)
{
    Err err;
    gj_config *cfg = nullptr;
    if (gj_config_from_url(&cfg, url.c_str(), err.e) != 0) {
        ADD_FAILURE() << "config: " << err.msg();
        return nullptr;
    }
    EXPECT_EQ(0, gj_config_set_int(cfg, nullptr, "workers", workers, err.e)) << err.msg();
    EXPECT_EQ(0, gj_config_set_int(cfg, "default", "max_conns", max_conns, err.e)) << err.msg();
    if (target_options) {
        EXPECT_EQ(0, gj_config_set_value(cfg, "default", "options", target_options, err.e)) << err.msg();
    }
    gj_client *c = nullptr;
    int rc = gj_client_new(&c, cfg, err.e);
    gj_config_free(cfg);
    if (rc != 0) {
        ADD_FAILURE() << "client: " << err.msg();
        return nullptr;
    }
    return c;
}

std::string url_for(const ServerProcess &s, const std::string &scheme = "bolt", size_t member = 0)
{
    return scheme + "://neo4j:password@127.0.0.1:" + std::to_string(s.port(member));
}

gj_request *req(const char *op, const char *text = nullptr)
{
    gj_request *r = nullptr;
    EXPECT_EQ(0, gj_request_new(&r, op, text));
    return r;
}

gj_request *query(const char *text) { return req(GJ_OP_QUERY, text); }

// Submit to the session and wait: the job's code, *res its result.
int in_session(gj_session *s, gj_request *r, gj_result **res, Err &err)
{
    *res = nullptr;
    gj_job *job = nullptr;
    int rc = gj_session_submit(s, r, nullptr, &job, err.e);
    gj_request_unref(r);
    if (rc)
        return rc;
    rc = gj_job_wait(job, 30000, err.e);
    if (rc == 0) {
        gj_job_status st;
        gj_job_get_status(job, &st, err.e);
        rc = st == GJ_JOB_CANCELLED ? GJ_ECANCELLED : gj_job_result(job, res, err.e);
    }
    gj_job_unref(job);
    return rc;
}

// The same, dropping the result.
int in_session(gj_session *s, gj_request *r, Err &err)
{
    gj_result *res = nullptr;
    int rc = in_session(s, r, &res, err);
    gj_result_free(res);
    return rc;
}

// Outside any session.
int run(gj_client *c, gj_request *r, gj_result **res, Err &err)
{
    *res = nullptr;
    int rc = gj_client_execute(c, r, 30000, res, err.e);
    gj_request_unref(r);
    return rc;
}

int64_t count_of(gj_client *c, const char *label)
{
    Err err;
    gj_result *res = nullptr;
    std::string q = std::string("MATCH (n:") + label + ") RETURN count(n) AS c";
    if (run(c, query(q.c_str()), &res, err) != 0) {
        ADD_FAILURE() << err.msg();
        return -1;
    }
    int64_t n = -1;
    gj_value_int_get(gj_value_list_at(gj_result_row(res, 0), 0), &n);
    gj_result_free(res);
    return n;
}

std::string str_of(const gj_value *v)
{
    const char *s = nullptr;
    size_t len = 0;
    if (gj_value_string_get(v, &s, &len) != 0)
        return "<not a string>";
    return std::string(s, len);
}

std::string meta_str(const gj_result *res, const char *key)
{
    return str_of(gj_value_map_get(gj_result_meta(res), key));
}

size_t await_log(const ServerProcess &s, const std::string &needle, size_t n = 1)
{
    auto t0 = std::chrono::steady_clock::now();
    while (s.count_in_log(needle) < n && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5))
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return s.count_in_log(needle);
}

class BoltSession : public ::testing::Test {
protected:
    void start(std::vector<std::string> extra = {}, int ports = 1)
    {
        server.reset(new ServerProcess(server_path(), args_with(extra), ports));
        ASSERT_TRUE(server->ok()) << server->error();
    }
    void TearDown() override
    {
        if (client)
            gj_client_free(client);
        client = nullptr;
    }
    std::unique_ptr<ServerProcess> server;
    gj_client *client = nullptr;
};

// BEGIN, a statement whose text depends on the previous result, COMMIT with
// its bookmark; the writes are invisible to other connections until then.
TEST_F(BoltSession, InteractiveTransactionCommits)
{
    start({ "--seed" });
    client = make_client(url_for(*server));
    ASSERT_TRUE(client);
    Err err;
    gj_session *s = nullptr;
    ASSERT_EQ(0, gj_client_open_session(client, nullptr, nullptr, &s, err.e)) << err.msg();
    gj_result *res = nullptr;
    ASSERT_EQ(0, in_session(s, req(GJ_OP_BEGIN), err)) << err.msg();
    ASSERT_EQ(0, in_session(s, query("CREATE (n:Acct {name: 'a', v: 10}) RETURN n.v AS v"), &res, err)) << err.msg();
    int64_t v = 0;
    ASSERT_EQ(0, gj_value_int_get(gj_value_list_at(gj_result_row(res, 0), 0), &v));
    gj_result_free(res);
    // The next statement is written from the last result.
    std::string next = "CREATE (n:Acct {name: 'b', v: " + std::to_string(v * 2) + "}) RETURN n.v AS v";
    ASSERT_EQ(0, in_session(s, query(next.c_str()), err)) << err.msg();
    gj_request *sum = query("MATCH (n:Acct) WHERE n.v >= $min RETURN n.name AS name");
    gj_request_set_param(sum, "min", gj_value_int(v));
    ASSERT_EQ(0, in_session(s, sum, &res, err)) << err.msg();
    EXPECT_EQ(2u, gj_result_row_count(res)) << "the transaction sees its own writes";
    gj_result_free(res);
    EXPECT_EQ(0, count_of(client, "Acct")) << "nothing is visible outside before COMMIT";
    ASSERT_EQ(0, in_session(s, req(GJ_OP_COMMIT), &res, err)) << err.msg();
    std::string bm = meta_str(res, "bookmark");
    EXPECT_EQ(0u, bm.rfind("FB:refserver:", 0)) << bm;
    gj_result_free(res);
    EXPECT_EQ(2, count_of(client, "Acct"));
    EXPECT_EQ(0, gj_session_close(s, err.e)) << err.msg();
    EXPECT_EQ(1u, server->count_in_log("BEGIN tx")) << server->log();
    EXPECT_EQ(1u, server->count_in_log("COMMIT -> " + bm)) << server->log();
    EXPECT_EQ(0u, server->count_in_log("ROLLBACK"));
}

TEST_F(BoltSession, RollbackDiscards)
{
    start();
    client = make_client(url_for(*server));
    ASSERT_TRUE(client);
    Err err;
    gj_session *s = nullptr;
    ASSERT_EQ(0, gj_client_open_session(client, nullptr, nullptr, &s, err.e)) << err.msg();
    ASSERT_EQ(0, in_session(s, req(GJ_OP_BEGIN), err)) << err.msg();
    ASSERT_EQ(0, in_session(s, query("CREATE (n:Gone)"), err)) << err.msg();
    ASSERT_EQ(0, in_session(s, req(GJ_OP_ROLLBACK), err)) << err.msg();
    EXPECT_EQ(0, count_of(client, "Gone"));
    // The session goes on: a new transaction, and auto-commit work.
    ASSERT_EQ(0, in_session(s, req(GJ_OP_BEGIN), err)) << err.msg();
    ASSERT_EQ(0, in_session(s, query("CREATE (n:Kept)"), err)) << err.msg();
    ASSERT_EQ(0, in_session(s, req(GJ_OP_COMMIT), err)) << err.msg();
    ASSERT_EQ(0, in_session(s, query("CREATE (n:Kept)"), err)) << err.msg();
    EXPECT_EQ(2, count_of(client, "Kept"));
    EXPECT_EQ(0, gj_session_close(s, err.e)) << err.msg();
}

// A FAILURE inside the transaction rolls it back: the later jobs of the
// session fail saying so (with the server's words) until a new begin.
TEST_F(BoltSession, FailureInsideRollsBackAndLaterJobsSaySo)
{
    start();
    client = make_client(url_for(*server));
    ASSERT_TRUE(client);
    Err err;
    gj_session *s = nullptr;
    ASSERT_EQ(0, gj_client_open_session(client, nullptr, nullptr, &s, err.e)) << err.msg();
    ASSERT_EQ(0, in_session(s, req(GJ_OP_BEGIN), err)) << err.msg();
    ASSERT_EQ(0, in_session(s, query("CREATE (n:Half)"), err)) << err.msg();
    EXPECT_EQ(GJ_ESERVER, in_session(s, query("RETRUN 1"), err));
    EXPECT_STREQ("Neo.ClientError.Statement.SyntaxError", gj_error_server_code(err.e));
    for (const char *op : { GJ_OP_QUERY, GJ_OP_COMMIT }) {
        EXPECT_EQ(GJ_ESTATE, in_session(s, req(op, strcmp(op, GJ_OP_QUERY) ? nullptr : "RETURN 1"), err)) << op;
        EXPECT_NE(std::string::npos, err.msg().find("rolled back")) << err.msg();
        EXPECT_NE(std::string::npos, err.msg().find("Invalid input 'RETRUN'")) << err.msg();
        EXPECT_NE(std::string::npos, err.msg().find("job 3 failed")) << err.msg();
        EXPECT_NE(std::string::npos, err.msg().find("begun by its job 1")) << err.msg();
    }
    EXPECT_EQ(0, count_of(client, "Half"));
    // Until a new begin: then everything works again.
    ASSERT_EQ(0, in_session(s, req(GJ_OP_BEGIN), err)) << err.msg();
    ASSERT_EQ(0, in_session(s, query("CREATE (n:Whole)"), err)) << err.msg();
    ASSERT_EQ(0, in_session(s, req(GJ_OP_COMMIT), err)) << err.msg();
    EXPECT_EQ(1, count_of(client, "Whole"));
    // A rollback also acknowledges a failed transaction.
    ASSERT_EQ(0, in_session(s, req(GJ_OP_BEGIN), err)) << err.msg();
    EXPECT_EQ(GJ_ESERVER, in_session(s, query("RETURN $missing"), err));
    EXPECT_EQ(0, in_session(s, req(GJ_OP_ROLLBACK), err)) << err.msg();
    EXPECT_EQ(0, in_session(s, query("RETURN 1"), err)) << err.msg();
    EXPECT_EQ(0, gj_session_close(s, err.e)) << err.msg();
    EXPECT_GE(server->count_in_log("RESET"), 2u) << "the FAILUREs were followed by RESET";
}

// State checks in the library (nothing is sent) and in the server.
TEST_F(BoltSession, WrongOrderIsRefused)
{
    start();
    client = make_client(url_for(*server));
    ASSERT_TRUE(client);
    Err err;
    gj_result *res;
    // Outside a session there is no transaction to begin.
    EXPECT_EQ(GJ_EINVAL, run(client, req(GJ_OP_BEGIN), &res, err));
    EXPECT_NE(std::string::npos, err.msg().find("session")) << err.msg();
    gj_session *s = nullptr;
    ASSERT_EQ(0, gj_client_open_session(client, nullptr, nullptr, &s, err.e)) << err.msg();
    EXPECT_EQ(GJ_ESTATE, in_session(s, req(GJ_OP_COMMIT), err));
    EXPECT_NE(std::string::npos, err.msg().find("no open transaction")) << err.msg();
    EXPECT_EQ(GJ_ESTATE, in_session(s, req(GJ_OP_ROLLBACK), err));
    ASSERT_EQ(0, in_session(s, req(GJ_OP_BEGIN), err)) << err.msg();
    EXPECT_EQ(GJ_ESTATE, in_session(s, req(GJ_OP_BEGIN), err));
    EXPECT_NE(std::string::npos, err.msg().find("still open")) << err.msg();
    EXPECT_EQ(GJ_ESTATE, in_session(s, req("transaction", "RETURN 1"), err));
    // Options of the transaction cannot be given to a statement inside it;
    // the transaction stays open.
    gj_request *r = query("RETURN 1");
    gj_request_set_option(r, "bookmarks", gj_value_string("FB:refserver:0"));
    EXPECT_EQ(GJ_EINVAL, in_session(s, r, err));
    EXPECT_NE(std::string::npos, err.msg().find("belongs to the \"begin\"")) << err.msg();
    r = query("RETURN 1");
    gj_request_set_database(r, "system");
    EXPECT_EQ(GJ_EINVAL, in_session(s, r, err));
    EXPECT_EQ(0, in_session(s, query("CREATE (n:StillOpen)"), err)) << err.msg();
    EXPECT_EQ(0, in_session(s, req(GJ_OP_COMMIT), err)) << err.msg();
    EXPECT_EQ(1, count_of(client, "StillOpen"));
    EXPECT_EQ(1u, server->count_in_log("BEGIN tx")) << "the refused jobs sent nothing";
    EXPECT_EQ(0, gj_session_close(s, err.e)) << err.msg();
    // Unknown session options are refused when the session is opened.
    gj_value *opts = nullptr;
    gj_value_new_map(&opts, 1);
    gj_value_map_put_str(opts, "colour", gj_value_string("red"));
    EXPECT_EQ(GJ_EINVAL, gj_client_open_session(client, nullptr, opts, &s, err.e));
    EXPECT_NE(std::string::npos, err.msg().find("colour")) << err.msg();
    gj_value_unref(opts);
}

// Begin's options reach the server: access mode, database, tx_timeout,
// tx_metadata; the session's own defaults apply to every transaction.
TEST_F(BoltSession, BeginOptions)
{
    start({ "--seed", "--add-user", "alice:secret" });
    client = make_client(url_for(*server));
    ASSERT_TRUE(client);
    Err err;
    gj_value *opts = nullptr;
    gj_value_new_map(&opts, 2);
    gj_value_map_put_str(opts, "mode", gj_value_string("read"));
    gj_value_map_put_str(opts, "database", gj_value_string("neo4j"));
    gj_session *s = nullptr;
    ASSERT_EQ(0, gj_client_open_session(client, nullptr, opts, &s, err.e)) << err.msg();
    gj_value_unref(opts);
    ASSERT_EQ(0, in_session(s, req(GJ_OP_BEGIN), err)) << err.msg();
    EXPECT_EQ(1u, await_log(*server, "(mode r, db neo4j, tx_timeout 0)")) << server->log();
    EXPECT_EQ(GJ_ESERVER, in_session(s, query("CREATE (n:NoWrite)"), err));
    EXPECT_STREQ("Neo.ClientError.Statement.AccessMode", gj_error_server_code(err.e)) << err.msg();
    // A begin overrides the session's mode; tx_timeout, tx_metadata, imp_user.
    gj_request *b = req(GJ_OP_BEGIN);
    gj_request_set_option(b, "mode", gj_value_string("w"));
    gj_request_set_option(b, "tx_timeout", gj_value_int(250));
    gj_value *md = nullptr;
    gj_value_new_map(&md, 1);
    gj_value_map_put_str(md, "app", gj_value_string("test"));
    gj_request_set_option(b, "tx_metadata", md);
    gj_request_set_option(b, "imp_user", gj_value_string("alice"));
    ASSERT_EQ(0, in_session(s, b, err)) << err.msg();
    EXPECT_EQ(1u, await_log(*server, "(mode w, db neo4j, tx_timeout 250)")) << server->log();
    auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(GJ_ESERVER, in_session(s, query("CALL apoc.util.sleep(10000)"), err));
    EXPECT_STREQ("Neo.ClientError.Transaction.TransactionTimedOutClientConfiguration", gj_error_server_code(err.e));
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(8));
    // An unknown database fails the begin; no transaction is open after it.
    b = req(GJ_OP_BEGIN);
    gj_request_set_database(b, "nope");
    EXPECT_EQ(GJ_ESERVER, in_session(s, b, err));
    EXPECT_STREQ("Neo.ClientError.Database.DatabaseNotFound", gj_error_server_code(err.e));
    EXPECT_EQ(GJ_ESTATE, in_session(s, req(GJ_OP_COMMIT), err));
    EXPECT_EQ(0, gj_session_close(s, err.e)) << err.msg();
}

// A cancelled statement inside the transaction: RESET stops it and rolls
// the transaction back; the session's next jobs say so.
TEST_F(BoltSession, CancelInsideRollsBack)
{
    start();
    client = make_client(url_for(*server));
    ASSERT_TRUE(client);
    Err err;
    gj_session *s = nullptr;
    ASSERT_EQ(0, gj_client_open_session(client, nullptr, nullptr, &s, err.e)) << err.msg();
    ASSERT_EQ(0, in_session(s, req(GJ_OP_BEGIN), err)) << err.msg();
    ASSERT_EQ(0, in_session(s, query("CREATE (n:Cancelled)"), err)) << err.msg();
    gj_request *slow = query("CALL apoc.util.sleep(20000)");
    gj_job *job = nullptr;
    ASSERT_EQ(0, gj_session_submit(s, slow, nullptr, &job, err.e)) << err.msg();
    gj_request_unref(slow);
    ASSERT_EQ(1u, await_log(*server, "RUN CALL apoc.util.sleep")) << server->log();
    auto t0 = std::chrono::steady_clock::now();
    ASSERT_EQ(0, gj_job_cancel(job, err.e)) << err.msg();
    ASSERT_EQ(0, gj_job_wait(job, 10000, err.e)) << err.msg();
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
    gj_job_status st;
    gj_job_get_status(job, &st, err.e);
    EXPECT_EQ(GJ_JOB_CANCELLED, st);
    gj_job_unref(job);
    EXPECT_EQ(GJ_ESTATE, in_session(s, query("RETURN 1"), err));
    EXPECT_NE(std::string::npos, err.msg().find("cancelled")) << err.msg();
    EXPECT_EQ(0, count_of(client, "Cancelled"));
    ASSERT_EQ(0, in_session(s, req(GJ_OP_BEGIN), err)) << err.msg();
    EXPECT_EQ(0, gj_session_close(s, err.e)) << err.msg();
}

// Closing a session (or freeing the client) with a transaction open rolls
// it back.
TEST_F(BoltSession, CloseWithOpenTransactionRollsBack)
{
    start();
    client = make_client(url_for(*server));
    ASSERT_TRUE(client);
    Err err;
    gj_session *s = nullptr;
    ASSERT_EQ(0, gj_client_open_session(client, nullptr, nullptr, &s, err.e)) << err.msg();
    ASSERT_EQ(0, in_session(s, req(GJ_OP_BEGIN), err)) << err.msg();
    ASSERT_EQ(0, in_session(s, query("CREATE (n:Open)"), err)) << err.msg();
    EXPECT_EQ(0, gj_session_close(s, err.e)) << err.msg();
    EXPECT_EQ(1u, await_log(*server, "ROLLBACK")) << server->log();
    EXPECT_EQ(0, count_of(client, "Open"));
    // Forgotten: gj_client_free closes it (the server rolls back either way).
    ASSERT_EQ(0, gj_client_open_session(client, nullptr, nullptr, &s, err.e)) << err.msg();
    ASSERT_EQ(0, in_session(s, req(GJ_OP_BEGIN), err)) << err.msg();
    ASSERT_EQ(0, in_session(s, query("CREATE (n:Open)"), err)) << err.msg();
    gj_client_free(client);
    client = make_client(url_for(*server));
    ASSERT_TRUE(client);
    EXPECT_EQ(0, count_of(client, "Open"));
}

// The bookmarks of a session's committed work go with its next transaction
// (and auto-commit query) by themselves.
TEST_F(BoltSession, CausalChainInASession)
{
    start();
    client = make_client(url_for(*server));
    ASSERT_TRUE(client);
    Err err;
    gj_value *opts = nullptr;
    gj_value_new_map(&opts, 1);
    gj_value_map_put_str(opts, "bookmarks", gj_value_string("FB:refserver:0"));
    gj_session *s = nullptr;
    ASSERT_EQ(0, gj_client_open_session(client, nullptr, opts, &s, err.e)) << err.msg();
    gj_value_unref(opts);
    gj_result *res = nullptr;
    ASSERT_EQ(0, in_session(s, query("CREATE (n:Chain {i: 1})"), &res, err)) << err.msg();
    std::string b1 = meta_str(res, "bookmark");
    gj_result_free(res);
    EXPECT_EQ(1u, server->count_in_log("bookmarks [FB:refserver:0]")) << "the session's first bookmarks";
    ASSERT_EQ(0, in_session(s, req(GJ_OP_BEGIN), err)) << err.msg();
    EXPECT_EQ(1u, server->count_in_log("bookmarks [" + b1 + "]")) << server->log();
    ASSERT_EQ(0, in_session(s, query("CREATE (n:Chain {i: 2})"), err)) << err.msg();
    ASSERT_EQ(0, in_session(s, req(GJ_OP_COMMIT), &res, err)) << err.msg();
    std::string b2 = meta_str(res, "bookmark");
    gj_result_free(res);
    EXPECT_NE(b1, b2);
    ASSERT_EQ(0, in_session(s, query("MATCH (n:Chain) RETURN count(n) AS c"), err)) << err.msg();
    EXPECT_EQ(1u, server->count_in_log("bookmarks [" + b2 + "]")) << server->log();
    EXPECT_EQ(0, gj_session_close(s, err.e)) << err.msg();
    // Another session starts its own chain: without the manager it sends none.
    ASSERT_EQ(0, gj_client_open_session(client, nullptr, nullptr, &s, err.e)) << err.msg();
    size_t before = server->count_in_log("bookmarks [");
    ASSERT_EQ(0, in_session(s, req(GJ_OP_BEGIN), err)) << err.msg();
    ASSERT_EQ(0, in_session(s, req(GJ_OP_ROLLBACK), err)) << err.msg();
    EXPECT_EQ(before, server->count_in_log("bookmarks [")) << server->log();
    EXPECT_EQ(0, gj_session_close(s, err.e)) << err.msg();
}

// The target's bookmark manager: every session and job of the target
// carries the bookmarks of the work committed before (across connections).
TEST_F(BoltSession, BookmarkManagerAcrossSessions)
{
    start();
    gj_value *topts = nullptr;
    gj_value_new_map(&topts, 1);
    gj_value_map_put_str(topts, "bookmark_manager", gj_value_bool(true));
    client = make_client(url_for(*server), topts, 2, 3);   // two sessions + plain jobs
    gj_value_unref(topts);
    ASSERT_TRUE(client);
    Err err;
    gj_session *a = nullptr, *b = nullptr;
    ASSERT_EQ(0, gj_client_open_session(client, nullptr, nullptr, &a, err.e)) << err.msg();
    ASSERT_EQ(0, gj_client_open_session(client, nullptr, nullptr, &b, err.e)) << err.msg();
    gj_result *res = nullptr;
    ASSERT_EQ(0, in_session(a, req(GJ_OP_BEGIN), err)) << err.msg();
    ASSERT_EQ(0, in_session(a, query("CREATE (n:Managed)"), err)) << err.msg();
    ASSERT_EQ(0, in_session(a, req(GJ_OP_COMMIT), &res, err)) << err.msg();
    std::string ba = meta_str(res, "bookmark");
    gj_result_free(res);
    // Session b (its own connection) begins after a's commit: it carries it.
    ASSERT_EQ(0, in_session(b, req(GJ_OP_BEGIN), err)) << err.msg();
    EXPECT_EQ(1u, server->count_in_log("bookmarks [" + ba + "]")) << server->log();
    ASSERT_EQ(0, in_session(b, query("CREATE (n:Managed)"), err)) << err.msg();
    ASSERT_EQ(0, in_session(b, req(GJ_OP_COMMIT), &res, err)) << err.msg();
    std::string bb = meta_str(res, "bookmark");
    gj_result_free(res);
    // A plain job of the client carries the manager's (now b's) bookmark.
    ASSERT_EQ(0, run(client, query("MATCH (n:Managed) RETURN count(n) AS c"), &res, err)) << err.msg();
    gj_result_free(res);
    EXPECT_EQ(1u, server->count_in_log("bookmarks [" + bb + "]")) << server->log();
    // A session may opt out.
    gj_value *opts = nullptr;
    gj_value_new_map(&opts, 1);
    gj_value_map_put_str(opts, "bookmark_manager", gj_value_bool(false));
    gj_session *c = nullptr;
    ASSERT_EQ(0, gj_client_open_session(client, nullptr, opts, &c, err.e)) << err.msg();
    gj_value_unref(opts);
    size_t before = server->count_in_log("bookmarks [");
    ASSERT_EQ(0, in_session(c, query("RETURN 1"), err)) << err.msg();
    EXPECT_EQ(before, server->count_in_log("bookmarks ["));
    EXPECT_EQ(0, gj_session_close(a, err.e)) << err.msg();
    EXPECT_EQ(0, gj_session_close(b, err.e)) << err.msg();
    EXPECT_EQ(0, gj_session_close(c, err.e)) << err.msg();
}

// The setting bookmark_manager (a target setting; the Bolt option of the
// same name above is equivalent).
TEST_F(BoltSession, BookmarkManagerSetting)
{
    start();
    Err err;
    gj_config *cfg = nullptr;
    ASSERT_EQ(0, gj_config_from_url(&cfg, url_for(*server).c_str(), err.e)) << err.msg();
    if (gj_config_set_bool(cfg, "default", "bookmark_manager", true, err.e) != 0) {
        gj_config_free(cfg);
        GTEST_SKIP() << "the setting is not in lib/config/config_setting.c's table yet: " << err.msg();
    }
    ASSERT_EQ(0, gj_client_new(&client, cfg, err.e)) << err.msg();
    gj_config_free(cfg);
    gj_result *res = nullptr;
    ASSERT_EQ(0, run(client, query("CREATE (n:Set)"), &res, err)) << err.msg();
    std::string b1 = meta_str(res, "bookmark");
    gj_result_free(res);
    ASSERT_EQ(0, run(client, query("RETURN 1"), &res, err)) << err.msg();
    gj_result_free(res);
    EXPECT_EQ(1u, server->count_in_log("bookmarks [" + b1 + "]")) << server->log();
}

// A server that accepts the connection and hangs up (or refuses) during
// HELLO / LOGON: the job fails at once with what the server said.
TEST_F(BoltSession, HangUpDuringHelloFailsAtOnce)
{
    for (std::string fault : { "close:on=HELLO", "close:on=LOGON",
                               "refuse:on=HELLO,message=Try again later (maintenance)",
                               "refuse:on=LOGON,message=Try again later (maintenance)" }) {
        SCOPED_TRACE(fault);
        start({ "--fault", fault });
        Err err;
        gj_config *cfg = nullptr;
        ASSERT_EQ(0, gj_config_from_url(&cfg, url_for(*server).c_str(), err.e)) << err.msg();
        ASSERT_EQ(0, gj_config_set_string(cfg, "default", "acquire_timeout", "20s", err.e)) << err.msg();
        ASSERT_EQ(0, gj_client_new(&client, cfg, err.e)) << err.msg();
        gj_config_free(cfg);
        gj_result *res = nullptr;
        auto t0 = std::chrono::steady_clock::now();
        int rc = run(client, query("RETURN 1"), &res, err);
        auto took = std::chrono::steady_clock::now() - t0;
        EXPECT_NE(0, rc);
        EXPECT_LT(took, std::chrono::seconds(3)) << "failed after "
            << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms: " << err.msg();
        EXPECT_NE(std::string::npos, err.msg().find("127.0.0.1:" + std::to_string(server->port()))) << err.msg();
        if (fault.rfind("refuse", 0) == 0) {
            EXPECT_EQ(GJ_ESERVER, rc) << err.msg();
            EXPECT_STREQ("Neo.TransientError.General.DatabaseUnavailable", gj_error_server_code(err.e));
            EXPECT_NE(std::string::npos, err.msg().find("Try again later (maintenance)")) << err.msg();
        } else {
            EXPECT_EQ(GJ_EIO, rc) << err.msg();
            EXPECT_NE(std::string::npos, err.msg().find("closed")) << err.msg();
        }
        gj_client_free(client);
        client = nullptr;
    }
}

// A refserver with --control on a pipe (as bolt_test.cc's).
class ControlledServer {
public:
    ControlledServer(std::vector<std::string> extra, int ports)
    {
        int p[2];
        if (pipe2(p, O_CLOEXEC) != 0)
            return;
        int saved = dup(0);
        dup2(p[0], 0);
        extra.push_back("--control");
        proc.reset(new ServerProcess(server_path(), args_with(extra), ports));
        dup2(saved, 0);
        close(saved);
        close(p[0]);
        cmd_fd = p[1];
    }
    ~ControlledServer()
    {
        if (cmd_fd >= 0)
            close(cmd_fd);
    }
    bool ok() const { return proc && proc->ok() && cmd_fd >= 0; }
    bool command(const std::string &verb, int member)
    {
        std::string line = verb + " " + std::to_string(member) + "\n";
        std::string done = "member " + std::to_string(member) + (verb == "stop-member" ? " stopped" : " started");
        size_t before = proc->count_in_log(done);
        if (write(cmd_fd, line.data(), line.size()) != (ssize_t)line.size())
            return false;
        auto t0 = std::chrono::steady_clock::now();
        while (proc->count_in_log(done) == before) {
            if (std::chrono::steady_clock::now() - t0 > std::chrono::seconds(5))
                return false;
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
        return true;
    }
    std::unique_ptr<ServerProcess> proc;
    int cmd_fd = -1;
};

// neo4j://: a write session's transaction runs on the writer and stays
// there; when the writer dies mid-transaction the next job fails at once
// saying the transaction is lost (never retried elsewhere), and the later
// jobs say so until a new begin, which works once a writer is back.
TEST(BoltSessionCluster, WriterDiesMidTransaction)
{
    ControlledServer srv({ "--members", "3" }, 3);
    ASSERT_TRUE(srv.ok()) << (srv.proc ? srv.proc->error() : "pipe");
    gj_client *client = make_client(url_for(*srv.proc, "neo4j"), nullptr, 2, 1);
    ASSERT_TRUE(client);
    Err err;
    gj_session *s = nullptr;
    ASSERT_EQ(0, gj_client_open_session(client, nullptr, nullptr, &s, err.e)) << err.msg();
    gj_result *res = nullptr;
    ASSERT_EQ(0, in_session(s, req(GJ_OP_BEGIN), err)) << err.msg();
    for (int i = 0; i < 3; i++) {
        ASSERT_EQ(0, in_session(s, query("CREATE (n:Tx) RETURN n"), &res, err)) << err.msg();
        std::string writer = "127.0.0.1:" + std::to_string(srv.proc->port(0));
        EXPECT_EQ(writer, meta_str(res, "address")) << "on the writer";
        gj_result_free(res);
    }
    ASSERT_TRUE(srv.command("stop-member", 0));
    auto t0 = std::chrono::steady_clock::now();
    int rc = in_session(s, query("CREATE (n:Tx)"), err);
    EXPECT_EQ(GJ_EIO, rc) << err.msg();
    std::cout << "[ info     ] " << err.msg() << "\n";
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
    EXPECT_NE(std::string::npos, err.msg().find("transaction")) << err.msg();
    EXPECT_NE(std::string::npos, err.msg().find(std::to_string(srv.proc->port(0)))) << err.msg();
    EXPECT_EQ(GJ_ESTATE, in_session(s, req(GJ_OP_COMMIT), err));
    EXPECT_NE(std::string::npos, err.msg().find("lost")) << err.msg();
    EXPECT_EQ(3u, srv.proc->count_in_log("RUN CREATE (n:Tx)")) << "not run again elsewhere";
    ASSERT_TRUE(srv.command("start-member", 0));
    ASSERT_EQ(0, in_session(s, req(GJ_OP_BEGIN), err)) << err.msg();
    ASSERT_EQ(0, in_session(s, query("CREATE (n:Tx2)"), err)) << err.msg();
    ASSERT_EQ(0, in_session(s, req(GJ_OP_COMMIT), err)) << err.msg();
    EXPECT_EQ(0, gj_session_close(s, err.e)) << err.msg();
    EXPECT_EQ(0, count_of(client, "Tx"));
    EXPECT_EQ(1, count_of(client, "Tx2"));
    gj_client_free(client);
}

// A read session's transaction runs on one reader and stays there however
// many statements it runs (the readers are otherwise used round robin).
TEST(BoltSessionCluster, ReadSessionStaysOnItsReader)
{
    ServerProcess srv(server_path(), args_with({ "--members", "3", "--seed" }), 3);
    ASSERT_TRUE(srv.ok()) << srv.error();
    gj_client *client = make_client(url_for(srv, "neo4j"), nullptr, 2, 1);
    ASSERT_TRUE(client);
    Err err;
    gj_value *opts = nullptr;
    gj_value_new_map(&opts, 1);
    gj_value_map_put_str(opts, "mode", gj_value_string("r"));
    gj_session *s = nullptr;
    ASSERT_EQ(0, gj_client_open_session(client, nullptr, opts, &s, err.e)) << err.msg();
    gj_value_unref(opts);
    ASSERT_EQ(0, in_session(s, req(GJ_OP_BEGIN), err)) << err.msg();
    std::string first;
    for (int i = 0; i < 6; i++) {
        gj_result *res = nullptr;
        ASSERT_EQ(0, in_session(s, query("MATCH (n:Person) RETURN n.name AS name"), &res, err)) << err.msg();
        std::string at = meta_str(res, "address");
        gj_result_free(res);
        if (first.empty())
            first = at;
        EXPECT_EQ(first, at);
    }
    EXPECT_TRUE(first == "127.0.0.1:" + std::to_string(srv.port(1)) ||
                first == "127.0.0.1:" + std::to_string(srv.port(2))) << first;
    ASSERT_EQ(0, in_session(s, req(GJ_OP_COMMIT), err)) << err.msg();
    EXPECT_EQ(0, gj_session_close(s, err.e)) << err.msg();
    gj_client_free(client);
}

}  // namespace
