// Allocation-failure torture, as curl's test suite does it: every scenario
// is run again and again with the Nth allocation failing, for N = 1, 2, ...
// until a run completes without reaching N.  Every run must end cleanly: a
// step either succeeds with the right answer or fails with a GJ_E* code
// (GJ_ENOMEM where the failure is local) and a message; no crash, no hang,
// no leak (LeakSanitizer in the ASan build, valgrind in scripts/test.sh).
//
// Allocations are counted and failed by tests/unit/alloc_wrap.c, which the
// program is linked to with -Wl,--wrap=malloc,... (mk/torture.mk): those of
// the library and of the test backend are counted, whichever thread makes
// them (one global atomic counter); those inside libcurl, json-c, libyaml,
// OpenSSL, libc and libstdc++ are not.
//
// Scenarios:
//   a. Config   URLs, YAML and JSON files with several targets, getters,
//               setters, copies
//   b. Values   JSON text <-> values, a Bolt RECORD with a node, a
//               relationship and a path (dechunked in small pieces, decoded)
//   c. TestBackendJob  a client on the test backend and four jobs on it
//               (rows, echo of the parameters, a server error, a job
//               cancelled while it runs): submit, wait, result, free
//   d. BoltQuery   a client and four queries against bolt-refserver (nodes,
//               relationships and a path; 25 rows fetched 7 at a time; a
//               syntax error, then RESET; a parameter), on one connection
//   e. ArangoQuery a client and four AQL queries against arango-refserver
//               (10 rows in batches of 3; a bind value; a syntax error;
//               one more after it)
// A job may end with its usual outcome, or with GJ_ENOMEM or GJ_ECANCELLED
// when an allocation failed in the worker, the backend or a connect; a
// success must carry the right result.
// Every scenario runs.  (c and e found two defects, fixed since: the test
// backend ignored gj__sink_row's failure for "echo" and ended DONE without
// the row; an out-of-memory while building the AQL body was reported as
// GJ_EINVAL "the AQL text is not valid UTF-8".)
//
// N is stepped by 1 up to GJ_TORTURE_DENSE (default 2000 allocations), then
// by GJ_TORTURE_STEP (default 7), so that every scenario stays within
// seconds; GJ_TORTURE_DENSE=0 steps by 1 all the way.  (Today every
// scenario makes fewer than 2000 allocations: every N is tried, and the
// whole program takes about a second, 20 s under valgrind.)
// GJ_TORTURE_VERBOSE=1 prints every run (N, allocations, time).
#include <graphjob.h>

extern "C" {
#include "codec/bolt_msg.h"
#include "codec/chunk.h"
#include "tests/common/test_backend.h"
#include "tests/unit/alloc_wrap.h"

/* lib/core/job_internal.h (which is C only). */
int gj__client_new_with_backends(gj_client **out, const gj_config *cfg,
                                 const gj_backend *const *extra, size_t n_extra, gj_error *err);
}

#include "tests/integration/arango_server.h"
#include "tests/integration/server_process.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define GJ_HAVE_VALGRIND_H 1
#endif
#endif
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GJ_TORTURE_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define GJ_TORTURE_ASAN 1
#endif
#ifdef GJ_TORTURE_ASAN
#include <sanitizer/lsan_interface.h>
#endif

namespace {

bool under_valgrind()
{
#ifdef GJ_HAVE_VALGRIND_H
    return RUNNING_ON_VALGRIND != 0;
#else
    return false;
#endif
}

long env_long(const char *name, long fallback)
{
    const char *v = std::getenv(name);
    return v != nullptr && *v != '\0' ? std::atol(v) : fallback;
}

// A run's problems, each naming N and the step.
class Attempt {
public:
    explicit Attempt(long n) : n_(n) {}
    long n() const { return n_; }
    void problem(const std::string &what) { problems_.push_back("N=" + std::to_string(n_) + ": " + what); }
    std::vector<std::string> &problems() { return problems_; }

    // A step that returned rc (err may be NULL): a success, or a clean
    // failure.  `local`: the code must be GJ_ENOMEM (the step runs on this
    // thread and only an allocation can fail); else any GJ_E* code in
    // `allowed` is clean.  A failure while no allocation was failed is a
    // problem as well.
    bool step(const char *what, int rc, const gj_error *err, bool fired_before, bool local = true,
              std::initializer_list<int> allowed = { GJ_ENOMEM })
    {
        if (rc == 0)
            return true;
        std::string msg = err != nullptr ? gj_error_message(err) : "";
        std::string code = gj_code_name(rc);
        if (fired_before || !gj_torture_fired())
            problem(std::string(what) + " failed without an allocation failure: " + code + " " + msg);
        bool ok = false;
        for (int a : allowed)
            ok = ok || rc == a;
        if (local && rc != GJ_ENOMEM)
            ok = false;
        if (!ok)
            problem(std::string(what) + ": " + code + " instead of GJ_ENOMEM: " + msg);
        if (err != nullptr && (msg.empty() || gj_error_code(err) != rc))
            problem(std::string(what) + ": " + code + " without a message (\"" + msg + "\", code " +
                    gj_code_name(gj_error_code(err)) + ")");
        return false;
    }

private:
    long n_;
    std::vector<std::string> problems_;
};

int64_t now_ms()
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

// A run that takes longer than 2 minutes (10 under valgrind) is a hang:
// the watchdog names the scenario and N, and aborts.
class Watchdog {
public:
    explicit Watchdog(const char *scenario) : scenario_(scenario)
    {
        thread_ = std::thread([this] { watch(); });
    }
    ~Watchdog()
    {
        {
            std::lock_guard<std::mutex> lock(mu_);
            stop_ = true;
        }
        cv_.notify_all();
        thread_.join();
    }
    Watchdog(const Watchdog &) = delete;
    Watchdog &operator=(const Watchdog &) = delete;
    // A run with the Nth allocation failing starts now.
    void start(long n)
    {
        n_ = n;
        since_ = now_ms();
    }
    int64_t since() const { return since_.load(); }

private:
    void watch()
    {
        const int64_t limit = under_valgrind() ? 600000 : 120000;
        std::unique_lock<std::mutex> lock(mu_);
        while (!stop_) {
            cv_.wait_for(lock, std::chrono::seconds(1));
            if (!stop_ && now_ms() - since_.load() > limit) {
                std::fprintf(stderr,
                             "alloc_torture_test: scenario %s hangs with allocation N=%ld failed "
                             "(no end after %lld s)\n",
                             scenario_, n_.load(), (long long)(limit / 1000));
                std::abort();
            }
        }
    }
    const char *scenario_;
    std::atomic<long> n_{ 0 };
    std::atomic<int64_t> since_{ now_ms() };
    std::mutex mu_;
    std::condition_variable cv_;
    bool stop_ = false;
    std::thread thread_;
};

struct Sweep {
    long runs = 0;
    long max_allocations = 0;   // of the run without failure
    std::vector<std::string> problems;
};

// Run `scenario` once without failures (it must succeed and is measured),
// then with the Nth allocation failing for N = 1, 2, ... until a run does
// not reach N.
Sweep torture(const char *name, const std::function<void(Attempt &)> &scenario)
{
    Sweep sw;
    const long dense = env_long("GJ_TORTURE_DENSE", 2000);
    const long step = std::max(1L, env_long("GJ_TORTURE_STEP", 7));
    const bool verbose = env_long("GJ_TORTURE_VERBOSE", 0) != 0;
    Watchdog watchdog(name);
    {
        Attempt clean(0);
        watchdog.start(0);
        gj_torture_arm(0);
        scenario(clean);
        sw.max_allocations = gj_torture_disarm();
        for (auto &p : clean.problems())
            sw.problems.push_back("without failures: " + p);
    }
    long limit = 20 * sw.max_allocations + 1000;   // a bound, should runs keep growing
    for (long n = 1; n <= limit; n += (dense == 0 || n < dense) ? 1 : step) {
        Attempt run(n);
        watchdog.start(n);
        gj_torture_arm(n);
        scenario(run);
        long count = gj_torture_disarm();
        bool fired = gj_torture_fired();
        if (verbose)
            std::printf("[ torture  ] %s N=%ld: %ld allocations, %lld ms, %zu problems\n", name, n,
                        count, (long long)(now_ms() - watchdog.since()), run.problems().size());
        sw.runs++;
        for (auto &p : run.problems())
            sw.problems.push_back(p);
        if (!fired && count < n)
            break;
    }
#ifdef GJ_TORTURE_ASAN
    if (__lsan_do_recoverable_leak_check() != 0)
        sw.problems.push_back(std::string("LeakSanitizer found leaks in scenario ") + name +
                              " (see above)");
#endif
    return sw;
}

void report(const char *name, const Sweep &sw)
{
    std::printf("[ torture  ] %s: %ld runs, %ld allocations without failures, %zu problems\n", name,
                sw.runs, sw.max_allocations, sw.problems.size());
    size_t shown = 0;
    for (const auto &p : sw.problems) {
        if (shown++ == 40) {
            std::printf("[ torture  ]   ... and %zu more\n", sw.problems.size() - 40);
            break;
        }
        std::printf("[ torture  ]   %s\n", p.c_str());
    }
    EXPECT_GT(sw.runs, 0);
    EXPECT_TRUE(sw.problems.empty()) << name << ": " << sw.problems.size()
                                     << " problems, the first: " << sw.problems.front();
}

// ---- a. configuration ------------------------------------------------------

class TempDir {
public:
    TempDir()
    {
        char tmpl[] = "/tmp/gj_torture_XXXXXX";
        const char *d = mkdtemp(tmpl);
        path_ = d != nullptr ? d : "";
    }
    ~TempDir()
    {
        for (const auto &f : files_)
            unlink(f.c_str());
        if (!path_.empty())
            rmdir(path_.c_str());
    }
    std::string write(const std::string &name, const std::string &text)
    {
        std::string p = path_ + "/" + name;
        std::ofstream(p) << text;
        files_.push_back(p);
        return p;
    }

private:
    std::string path_;
    std::vector<std::string> files_;
};

const char *const kYaml =
    "workers: 2\n"
    "queue_size: 1000\n"
    "backends:\n"
    "  graph:\n"
    "    url: \"neo4j://neo4j:s3cret@db1:7687,db2:7688?max_conns=8&connect_retry=2s\"\n"
    "    acquire_timeout: 5s\n"
    "    options: { telemetry_disabled: true, auth_scheme: basic, fetch: [1, 2.5, null] }\n"
    "  docs:\n"
    "    backend: arango\n"
    "    hosts: [ \"coord1:8529\", \"[::1]:8530\" ]\n"
    "    database: shop\n"
    "    password_env: GJ_TORTURE_PW\n"
    "    max_result_size: 16MiB\n"
    "  gremlin:\n"
    "    url: \"ws://g@gremlin:8182/gremlin?liveness_check=off\"\n"
    "    aliases: { g: social, h: other }\n";

const char *const kJson =
    "{\"workers\": 2, \"queue_size\": 1000, \"backends\": {\n"
    " \"graph\": {\"url\": \"neo4j://neo4j:s3cret@db1:7687,db2:7688?max_conns=8&connect_retry=2s\",\n"
    "   \"acquire_timeout\": \"5s\", \"options\": {\"telemetry_disabled\": true, \"fetch\": [1, 2.5, null]}},\n"
    " \"docs\": {\"backend\": \"arango\", \"hosts\": [\"coord1:8529\", \"[::1]:8530\"],\n"
    "   \"database\": \"shop\", \"password_env\": \"GJ_TORTURE_PW\", \"max_result_size\": \"16MiB\"},\n"
    " \"gremlin\": {\"url\": \"ws://g@gremlin:8182/gremlin?liveness_check=off\",\n"
    "   \"aliases\": {\"g\": \"social\", \"h\": \"other\"}}}}\n";

std::string get(const gj_config *cfg, const char *target, const char *key)
{
    const char *s = nullptr;
    if (gj_config_get_string(cfg, target, key, &s, nullptr) != 0)
        return "<error>";
    return s != nullptr ? s : "<null>";
}

void check_file_config(Attempt &run, const gj_config *cfg, const char *what)
{
    auto expect = [&](const char *target, const char *key, const std::string &want) {
        std::string got = get(cfg, target, key);
        if (got != want)
            run.problem(std::string(what) + ": " + target + "." + key + " is \"" + got + "\", not \"" +
                        want + "\"");
    };
    if (gj_config_target_count(cfg) != 3)
        run.problem(std::string(what) + ": " + std::to_string(gj_config_target_count(cfg)) +
                    " targets");
    expect("graph", "url", "neo4j://neo4j:***@db1:7687,db2:7688?max_conns=8&connect_retry=2s");
    expect("graph", "hosts", "db1:7687,db2:7688");
    expect("graph", "password", "***");
    expect("docs", "hosts", "coord1:8529,[::1]:8530");
    expect("docs", "database", "shop");
    expect("docs", "password", "***");
    expect("gremlin", "path", "/gremlin");
    int64_t v = 0;
    if (gj_config_get_int(cfg, "docs", "max_result_size", &v, nullptr) != 0 || v != 16 << 20)
        run.problem(std::string(what) + ": docs.max_result_size is " + std::to_string(v));
}

void config_scenario(Attempt &run, const std::string &yaml, const std::string &json)
{
    gj_error *err = gj_error_new();
    if (!run.step("gj_error_new", err != nullptr ? 0 : GJ_ENOMEM, nullptr, false))
        return;

    // A URL, its getters, a setter and a copy.
    bool f = gj_torture_fired();
    gj_config *cfg = nullptr;
    int rc = gj_config_from_url(
        &cfg, "bolt://neo4j:p%40ss@db1:7687,[::1]:7688/x?max_conns=8&response_timeout=5s&max_result_size=1MiB",
        err);
    if (run.step("gj_config_from_url", rc, err, f)) {
        if (get(cfg, nullptr, "url") !=
            "bolt://neo4j:***@db1:7687,[::1]:7688/x?max_conns=8&response_timeout=5s&max_result_size=1MiB")
            run.problem("from_url: url is " + get(cfg, nullptr, "url"));
        if (get(cfg, nullptr, "hosts") != "db1:7687,[::1]:7688")
            run.problem("from_url: hosts is " + get(cfg, nullptr, "hosts"));
        f = gj_torture_fired();
        rc = gj_config_add_url(cfg, "second", "http://root:pw@coord:8529?database=shop&workers=3", err);
        bool second = run.step("gj_config_add_url", rc, err, f);
        if (second && get(cfg, "second", "url") != "http://root:***@coord:8529?database=shop&workers=3")
            run.problem("add_url: url is " + get(cfg, "second", "url"));
        int64_t workers = 0;
        gj_config_get_int(cfg, nullptr, "workers", &workers, nullptr);
        if (workers != (second ? 3 : 4))
            run.problem("add_url: workers is " + std::to_string(workers));
        if (!second && gj_config_target_count(cfg) != 1)
            run.problem("add_url failed but left a target");
        f = gj_torture_fired();
        rc = gj_config_set_string(cfg, nullptr, "hosts", "a:1,b:2,c", err);
        if (run.step("gj_config_set_string hosts", rc, err, f) && get(cfg, nullptr, "hosts") != "a:1,b:2,c")
            run.problem("set hosts: hosts is " + get(cfg, nullptr, "hosts"));
        f = gj_torture_fired();
        gj_config *copy = nullptr;
        rc = gj_config_copy(&copy, cfg);
        if (run.step("gj_config_copy", rc, nullptr, f) && second &&
            get(copy, "second", "database") != "shop")
            run.problem("copy: database is " + get(copy, "second", "database"));
        gj_config_free(copy);
        gj_config_free(cfg);
    } else if (cfg != nullptr) {
        run.problem("from_url failed but returned a configuration");
        gj_config_free(cfg);
    }

    // Files with several targets.
    const std::string *files[] = { &yaml, &json };
    for (const std::string *file : files) {
        f = gj_torture_fired();
        cfg = nullptr;
        rc = gj_config_load_file(&cfg, file->c_str(), err);
        const char *what = file == &yaml ? "gj_config_load_file (YAML)" : "gj_config_load_file (JSON)";
        if (run.step(what, rc, err, f))
            check_file_config(run, cfg, what);
        else if (cfg != nullptr)
            run.problem(std::string(what) + " failed but returned a configuration");
        gj_config_free(cfg);
    }
    gj_error_free(err);
}

TEST(AllocTorture, Config)
{
    setenv("GJ_TORTURE_PW", "from-env", 1);
    TempDir dir;
    std::string yaml = dir.write("targets.yaml", kYaml);
    std::string json = dir.write("targets.json", kJson);
    Sweep sw = torture("config", [&](Attempt &run) { config_scenario(run, yaml, json); });
    report("config", sw);
}

// ---- b. values ---------------------------------------------------------------

const char kDocument[] =
    "{\"a\": [1, 2.5, \"x\", null, true, {\"b\": {\"c\": [[], [{}], [1, [2, [3, [4]]]]]}}],"
    " \"s\": \"h\\u00e9llo \\ud83d\\ude00\", \"big\": 12345678901234567890, \"n\": -3,"
    " \"m\": {\"k1\": \"v1\", \"k2\": {\"k3\": [false, 1e300, -0.5]}}}";

struct ValueRefs {
    gj_value *doc = nullptr;
    std::string doc_text;
    gj_ps_buf record_bytes;       // a framed RECORD message
    gj_ps_config ps{};
    gj_value *record = nullptr;   // its fields[0], decoded without failures
    ValueRefs()
    {
        gj__ps_buf_init(&record_bytes, 0);
    }
    ~ValueRefs()
    {
        gj_value_unref(doc);
        gj_value_unref(record);
        gj__ps_buf_free(&record_bytes);
    }
};

gj_value *str(const char *s) { return gj_value_string(s); }

gj_value *list_of(std::initializer_list<gj_value *> items)
{
    gj_value *l = nullptr;
    if (gj_value_new_list(&l, items.size()) != 0)
        return nullptr;
    for (gj_value *v : items)
        gj_value_list_append(l, v);
    return l;
}

gj_value *node(int64_t id, const char *label, const char *name)
{
    gj_value *props = nullptr, *n = nullptr;
    gj_value_new_map(&props, 2);
    gj_value_map_put_str(props, "name", str(name));
    gj_value_map_put_str(props, "tags", list_of({ str("a"), gj_value_int(id) }));
    gj_value_new_node(&n, gj_value_int(id), list_of({ str(label) }), props);
    gj_value_node_set_element_id(n, str(("4:db:" + std::to_string(id)).c_str()));
    return n;
}

gj_value *edge(int64_t id, int64_t a, int64_t b)
{
    gj_value *props = nullptr, *e = nullptr;
    gj_value_new_map(&props, 1);
    gj_value_map_put_str(props, "since", gj_value_int(2020));
    gj_value_new_edge(&e, gj_value_int(id), str("KNOWS"), gj_value_int(a), gj_value_int(b), props);
    gj_value_edge_set_element_ids(e, str(("5:db:" + std::to_string(id)).c_str()),
                                  str(("4:db:" + std::to_string(a)).c_str()),
                                  str(("4:db:" + std::to_string(b)).c_str()));
    return e;
}

bool make_value_refs(ValueRefs &r)
{
    gj_error *err = gj_error_new();
    bool ok = gj_value_from_json(&r.doc, kDocument, sizeof kDocument - 1, err) == 0;
    EXPECT_TRUE(ok) << gj_error_message(err);
    char *text = nullptr;
    size_t len = 0;
    if (ok && gj_value_to_json(r.doc, 0, &text, &len) == 0) {
        r.doc_text.assign(text, len);
        gj_free(text);
    } else {
        ok = false;
    }
    // RECORD [node, relationship, path, temporal, point] for Bolt 5.4.
    r.ps.bolt_major = 5;
    r.ps.bolt_minor = 4;
    r.ps.allow_graph_values = true;
    gj_value *path = nullptr;
    gj_value_new_path(&path, list_of({ node(1, "Person", "Alice"), edge(7, 1, 2), node(2, "Person", "Bob") }),
                      nullptr);
    gj_value *when = nullptr;
    gj_value_new_datetime(&when, 1700000000, 5, 3600, nullptr, GJ_DATETIME_HAS_OFFSET);
    gj_value *fields[] = { node(1, "Person", "Alice"), edge(7, 1, 2), path, when, str("tail") };
    ok = ok && gj__bolt_write_record(&r.record_bytes, &r.ps, fields, 5, err) == 0;
    EXPECT_TRUE(ok) << gj_error_message(err);
    for (gj_value *f : fields)
        gj_value_unref(f);
    gj_bolt_msg m;
    ok = ok && gj__bolt_msg_decode(&m, r.record_bytes.data + 2, r.record_bytes.len - 4, &r.ps,
                                   GJ_BOLT_RESPONSE, err) == 0;
    EXPECT_TRUE(ok) << gj_error_message(err);
    if (ok) {
        r.record = m.fields[0];
        m.fields[0] = nullptr;
        gj__bolt_msg_clear(&m);
    }
    gj_error_free(err);
    return ok;
}

void values_scenario(Attempt &run, const ValueRefs &r)
{
    gj_error *err = gj_error_new();
    if (!run.step("gj_error_new", err != nullptr ? 0 : GJ_ENOMEM, nullptr, false))
        return;

    bool f = gj_torture_fired();
    gj_value *v = nullptr;
    int rc = gj_value_from_json(&v, kDocument, sizeof kDocument - 1, err);
    if (run.step("gj_value_from_json", rc, err, f)) {
        if (!gj_value_equal(v, r.doc))
            run.problem("gj_value_from_json: a different value");
        f = gj_torture_fired();
        char *text = nullptr;
        size_t len = 0;
        rc = gj_value_to_json(v, 0, &text, &len);
        if (run.step("gj_value_to_json", rc, nullptr, f) && std::string(text, len) != r.doc_text)
            run.problem("gj_value_to_json: " + std::string(text, len));
        gj_free(text);
        f = gj_torture_fired();
        rc = gj_value_to_json(v, GJ_JSON_PRETTY | GJ_JSON_TYPED, &text, &len);
        run.step("gj_value_to_json (pretty, typed)", rc, nullptr, f);
        gj_free(text);
    } else if (v != nullptr) {
        run.problem("gj_value_from_json failed but returned a value");
    }
    gj_value_unref(v);

    // The RECORD, fed to the dechunker 5 bytes at a time, then decoded.
    f = gj_torture_fired();
    gj_dechunker d;
    gj__dechunk_init(&d, 1 << 20);
    const uint8_t *msg = nullptr;
    size_t msg_len = 0, pos = 0;
    rc = 0;
    while (rc == 0 && pos < r.record_bytes.len) {
        size_t piece = std::min<size_t>(5, r.record_bytes.len - pos), used = 0;
        rc = gj__dechunk_feed(&d, r.record_bytes.data + pos, piece, &used, err);
        pos += used;
    }
    if (run.step("gj__dechunk_feed", rc < 0 ? rc : 0, err, f)) {
        if (rc != 1) {
            run.problem("gj__dechunk_feed: no message");
        } else {
            gj__dechunk_message(&d, &msg, &msg_len);
            gj_bolt_msg m;
            f = gj_torture_fired();
            rc = gj__bolt_msg_decode(&m, msg, msg_len, &r.ps, GJ_BOLT_RESPONSE, err);
            if (run.step("gj__bolt_msg_decode", rc, err, f)) {
                if (m.tag != GJ_BOLT_RECORD || !gj_value_equal(m.fields[0], r.record))
                    run.problem("gj__bolt_msg_decode: a different RECORD");
                f = gj_torture_fired();
                char *text = nullptr;
                rc = gj_value_to_json(m.fields[0], GJ_JSON_TYPED, &text, nullptr);
                run.step("gj_value_to_json (RECORD)", rc, nullptr, f);
                gj_free(text);
                gj__bolt_msg_clear(&m);
            }
        }
    }
    gj__dechunk_free(&d);
    gj_error_free(err);
}

TEST(AllocTorture, Values)
{
    ValueRefs refs;
    ASSERT_TRUE(make_value_refs(refs));
    Sweep sw = torture("values", [&](Attempt &run) { values_scenario(run, refs); });
    report("values", sw);
}

// ---- c-e. jobs through a client ------------------------------------------------

// One job of a scenario: its request (NULL when out of memory), the code it
// ends with when no allocation fails, and a check of its result.  A job
// with cancel set is cancelled once started and must end CANCELLED.
struct JobSpec {
    std::function<gj_request *()> make;
    int expect = 0;
    std::function<void(Attempt &, const gj_result *)> check;
    bool cancel = false;
};

// A job's ending is clean when it is what it is without failures, or
// GJ_ENOMEM / GJ_ECANCELLED (an allocation failed in the worker, the
// backend or the connection it needed), with a message.
void finish_job(Attempt &run, const JobSpec &spec, size_t i, gj_job *job, bool fired_before,
                gj_error *err)
{
    const int64_t wait_ms = under_valgrind() ? 300000 : 60000;
    std::string what = "job " + std::to_string(i);
    int rc = gj_job_wait(job, wait_ms, err);
    if (rc != 0) {
        run.problem(what + ": gj_job_wait: " + gj_code_name(rc) + " " + gj_error_message(err) +
                    " (a hang?)");
        return;
    }
    gj_result *res = nullptr;
    rc = gj_job_result(job, &res, err);
    int expect = spec.cancel ? GJ_ECANCELLED : spec.expect;
    if (rc == expect) {
        if (rc == 0 && spec.check)
            spec.check(run, res);
        if (rc != 0 && (gj_error_message(err)[0] == '\0' || gj_error_code(err) != rc))
            run.problem(what + ": " + gj_code_name(rc) + " without a message");
    } else {
        std::string w = what + " (expected " + gj_code_name(expect) + ")";
        run.step(w.c_str(), rc, err, fired_before, false, { GJ_ENOMEM, GJ_ECANCELLED });
    }
    gj_result_free(res);
}

// A client (made by make_client), then the jobs one after the other on it
// (so that later ones reuse the pooled connection), then the client freed.
void job_scenario(Attempt &run, const std::function<int(gj_client **, gj_error *)> &make_client,
                  const std::vector<JobSpec> &jobs)
{
    gj_error *err = gj_error_new();
    if (!run.step("gj_error_new", err != nullptr ? 0 : GJ_ENOMEM, nullptr, false))
        return;
    gj_client *client = nullptr;
    bool f = gj_torture_fired();
    int rc = make_client(&client, err);
    if (!run.step("client", rc, err, f, false, { GJ_ENOMEM })) {
        if (client != nullptr)
            run.problem("client: failed but returned a client");
        gj_error_free(err);
        return;
    }
    for (size_t i = 0; i < jobs.size(); i++) {
        const JobSpec &spec = jobs[i];
        gj_request *req = spec.make();
        if (req == nullptr) {
            // Only an allocation failure may keep a request from being made.
            run.step(("request " + std::to_string(i)).c_str(), GJ_ENOMEM, nullptr, f);
            continue;
        }
        gj_job *job = nullptr;
        f = gj_torture_fired();
        rc = gj_client_submit(client, req, nullptr, &job, err);
        gj_request_unref(req);
        if (!run.step(("submit " + std::to_string(i)).c_str(), rc, err, f, false, { GJ_ENOMEM }))
            continue;
        if (spec.cancel) {
            while (!gj_job_started(job)) {
                gj_job_status st = GJ_JOB_PENDING;
                if (gj_job_get_status(job, &st, nullptr) == 0 && st != GJ_JOB_PENDING)
                    break;
                std::this_thread::yield();
            }
            rc = gj_job_cancel(job, err);
            if (rc != 0)
                run.problem("cancel " + std::to_string(i) + ": " + gj_code_name(rc) + " " +
                            gj_error_message(err));
        }
        finish_job(run, spec, i, job, f, err);
        gj_job_unref(job);
    }
    gj_client_free(client);
    gj_error_free(err);
}

int64_t int_of(const gj_value *v)
{
    int64_t i = -999;
    gj_value_int_get(v, &i);
    return i;
}

gj_request *make_request(const char *op, const char *text,
                         std::initializer_list<std::pair<const char *, std::function<gj_value *()>>> options = {},
                         std::initializer_list<std::pair<const char *, std::function<gj_value *()>>> params = {})
{
    gj_request *r = nullptr;
    if (gj_request_new(&r, op, text) != 0)
        return nullptr;
    for (const auto &o : options) {
        gj_value *v = o.second();
        if (v == nullptr || gj_request_set_option(r, o.first, v) != 0) {
            gj_request_unref(r);
            return nullptr;
        }
    }
    for (const auto &p : params) {
        gj_value *v = p.second();
        if (v == nullptr || gj_request_set_param(r, p.first, v) != 0) {
            gj_request_unref(r);
            return nullptr;
        }
    }
    return r;
}

std::function<gj_value *()> int_value(int64_t i)
{
    return [i] { return gj_value_int(i); };
}

std::function<gj_value *()> string_value(const char *s)
{
    return [s] { return gj_value_string(s); };
}

void expect_rows(Attempt &run, const char *what, const gj_result *res, size_t n)
{
    if (gj_result_row_count(res) != n)
        run.problem(std::string(what) + ": " + std::to_string(gj_result_row_count(res)) +
                    " rows, not " + std::to_string(n));
}

// As gj_test_client_new, with a short host backoff: a connect that failed
// for want of memory is tried again after 5 ms, not 1 s.
int test_client(gj_client **out, gj_error *err)
{
    gj_config *cfg = nullptr;
    int rc = gj_config_from_url(&cfg, "test://localhost?host_backoff=5ms&max_conns=2", err);
    if (rc == 0)
        rc = gj_config_set_int(cfg, nullptr, "workers", 2, err);
    const gj_backend *const extra[] = { &gj_test_backend };
    if (rc == 0)
        rc = gj__client_new_with_backends(out, cfg, extra, 1, err);
    gj_config_free(cfg);
    return rc;
}

TEST(AllocTorture, TestBackendJob)
{
    std::vector<JobSpec> jobs;
    jobs.push_back({ [] { return make_request("query", "rows", { { "rows", int_value(3) } }); }, 0,
                     [](Attempt &run, const gj_result *res) {
                         expect_rows(run, "rows", res, 3);
                         if (int_of(gj_value_list_at(gj_result_row(res, 2), 0)) != 2)
                             run.problem("rows: wrong row 2");
                     } });
    jobs.push_back({ [] {
                        return make_request("query", "echo", { { "echo", [] { return gj_value_bool(true); } } },
                                            { { "x", string_value("hello") }, { "n", int_value(7) } });
                    },
                     0, [](Attempt &run, const gj_result *res) { expect_rows(run, "echo", res, 1); } });
    jobs.push_back({ [] { return make_request("query", "fail", { { "fail", string_value("server") } }); },
                     GJ_ESERVER, nullptr });
    jobs.push_back({ [] { return make_request("query", "slow", { { "delay_ms", int_value(60000) } }); }, 0,
                     nullptr, true });
    Sweep sw = torture("test-backend jobs", [&](Attempt &run) { job_scenario(run, test_client, jobs); });
    report("test-backend jobs", sw);
}

int client_for(gj_client **out, const std::string &url, gj_error *err)
{
    gj_config *cfg = nullptr;
    int rc = gj_config_from_url(&cfg, url.c_str(), err);
    if (rc == 0)
        rc = gj_config_set_int(cfg, nullptr, "workers", 1, err);
    if (rc == 0)
        rc = gj_client_new(out, cfg, err);
    gj_config_free(cfg);
    return rc;
}

TEST(AllocTorture, BoltQuery)
{
    gjtest::ServerProcess server(gjtest::build_path("tests/servers/bolt/bolt-refserver"),
                                 { "--port", "0", "--seed" });
    ASSERT_TRUE(server.ok()) << server.error();
    std::string url = "bolt://neo4j:password@127.0.0.1:" + std::to_string(server.port()) +
                      "?connect_timeout=20s&response_timeout=60s&host_backoff=5ms";
    std::vector<JobSpec> jobs;
    jobs.push_back({ [] {
                        return make_request("query",
                                            "MATCH p = (a:Person)-[r:KNOWS]->(b:Person) RETURN a, r, p, b.name AS name");
                    },
                     0, [](Attempt &run, const gj_result *res) {
                         if (gj_result_row_count(res) == 0 || gj_value_size(gj_result_row(res, 0)) != 4)
                             run.problem("MATCH: wrong result");
                     } });
    jobs.push_back({ [] {
                        return make_request("query", "UNWIND range(1, 25) AS i RETURN i",
                                            { { "fetch_size", int_value(7) } });
                    },
                     0, [](Attempt &run, const gj_result *res) {
                         expect_rows(run, "UNWIND", res, 25);
                         if (int_of(gj_value_list_at(gj_result_row(res, 24), 0)) != 25)
                             run.problem("UNWIND: wrong row 24");
                     } });
    jobs.push_back({ [] { return make_request("query", "RETRN 1"); }, GJ_ESERVER, nullptr });
    jobs.push_back({ [] { return make_request("query", "RETURN $s AS s", {}, { { "s", string_value("x") } }); }, 0,
                     [](Attempt &run, const gj_result *res) { expect_rows(run, "RETURN $s", res, 1); } });
    Sweep sw = torture("bolt queries", [&](Attempt &run) {
        job_scenario(run, [&](gj_client **c, gj_error *err) { return client_for(c, url, err); }, jobs);
    });
    report("bolt queries", sw);
}

TEST(AllocTorture, ArangoQuery)
{
    if (arango_server_path().empty())
        GTEST_SKIP() << "arango-refserver not built (libmicrohttpd missing)";
    ArangoServer server;
    ASSERT_TRUE(server.ok()) << server.error();
    std::string url = server.url() + "?connect_timeout=20s&response_timeout=60s&host_backoff=5ms";
    std::vector<JobSpec> jobs;
    jobs.push_back({ [] {
                        return make_request("query", "FOR i IN 1..10 RETURN {i: i, s: [i, \"x\"]}",
                                            { { "batchSize", int_value(3) } });
                    },
                     0, [](Attempt &run, const gj_result *res) { expect_rows(run, "FOR", res, 10); } });
    jobs.push_back({ [] { return make_request("query", "RETURN @x", {}, { { "x", int_value(42) } }); }, 0,
                     [](Attempt &run, const gj_result *res) {
                         expect_rows(run, "RETURN @x", res, 1);
                         if (int_of(gj_result_row(res, 0)) != 42)
                             run.problem("RETURN @x: not 42");
                     } });
    jobs.push_back({ [] { return make_request("query", "FOR x IN"); }, GJ_ESERVER, nullptr });
    jobs.push_back({ [] { return make_request("query", "RETURN 2"); }, 0,
                     [](Attempt &run, const gj_result *res) { expect_rows(run, "RETURN 2", res, 1); } });
    Sweep sw = torture("arango queries", [&](Attempt &run) {
        job_scenario(run, [&](gj_client **c, gj_error *err) { return client_for(c, url, err); }, jobs);
    });
    report("arango queries", sw);
}

} // namespace
