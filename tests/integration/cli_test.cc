// The graphjob command-line program, run as a user runs it, against the
// reference servers (Bolt, and ArangoDB when libmicrohttpd was found):
// exit codes, the four formats, queries from arguments / -f / stdin / @file
// and their splitting on ';', per-job and whole-run deadlines, Ctrl-C, bulk
// runs (summary, backpressure, progress bar on a terminal), large results,
// credentials from the environment, ArangoDB server-side jobs (--async,
// `graphjob job`, `graphjob jobs`), and `graphjob demo`.
//
// Deadlines here are either the thing under test (a -T of 500 ms against a
// query that sleeps 60 s: the assertion is that the run ends long before
// the query would) or generous (60 s for a run), so the tests do not depend
// on the machine's speed.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <memory>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "server_process.h"

extern char **environ;

namespace {

using gjtest::ServerProcess;

struct Result {
    int exit_code = -1;       // -1: killed by a signal or the timeout
    std::string out, err;
    double seconds = 0;
    long max_rss_kb = 0;
};

double now_s()
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

std::string graphjob_path()
{
    return gjtest::build_path("tools/graphjob");
}

// The command line that runs graphjob: under $GJ_CLI_WRAPPER when set
// (scripts/test.sh's valgrind stage: "valgrind -q --error-exitcode=9 ..."),
// through libtool, which puts the wrapper on the real program.
std::vector<std::string> graphjob_argv(const std::vector<std::string> &args)
{
    std::vector<std::string> argv;
    const char *wrapper = getenv("GJ_CLI_WRAPPER");
    if (wrapper && *wrapper) {
        argv.push_back(gjtest::build_path("libtool"));
        argv.push_back("--mode=execute");
        std::istringstream words(wrapper);
        std::string w;
        while (words >> w)
            argv.push_back(w);
    }
    argv.push_back(graphjob_path());
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
}

bool under_wrapper()
{
    const char *wrapper = getenv("GJ_CLI_WRAPPER");
    return wrapper && *wrapper;
}

// The environment of a run: ours without the credential variables the
// program reads, plus `extra`.
std::vector<std::string> make_env(const std::map<std::string, std::string> &extra)
{
    std::vector<std::string> env;
    for (char **e = environ; *e; e++) {
        std::string kv = *e;
        std::string key = kv.substr(0, kv.find('='));
        if (key == "GRAPHJOB_PASSWORD" || key == "NEO4J_USERNAME" || key == "NEO4J_PASSWORD" ||
            extra.count(key))
            continue;
        env.push_back(kv);
    }
    for (const auto &kv : extra)
        env.push_back(kv.first + "=" + kv.second);
    return env;
}

struct Options {
    std::string input;                          // stdin
    std::map<std::string, std::string> env;
    int timeout_s = 120;
    int signal_after_line = 0;                  // send SIGINT once this many stdout lines came
};

Result cli(const std::vector<std::string> &args, const Options &opt = Options())
{
    Result r;
    int in[2], out[2], err[2];
    if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC))
        return r;
    std::vector<std::string> env = make_env(opt.env);
    std::vector<char *> envp, argv;
    for (auto &e : env)
        envp.push_back(&e[0]);
    envp.push_back(nullptr);
    std::vector<std::string> copy = graphjob_argv(args);
    for (auto &a : copy)
        argv.push_back(&a[0]);
    argv.push_back(nullptr);
    double t0 = now_s();
    pid_t pid = fork();
    if (pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        dup2(err[1], 2);
        execve(argv[0], argv.data(), envp.data());
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    close(err[1]);
    size_t written = 0;
    int in_fd = in[1];
    if (opt.input.empty()) {
        close(in_fd);
        in_fd = -1;
    }
    fcntl(in[1], F_SETFL, O_NONBLOCK);
    bool out_open = true, err_open = true, signalled = false;
    while (out_open || err_open) {
        struct pollfd p[3] = { { out[0], POLLIN, 0 }, { err[0], POLLIN, 0 }, { in_fd, POLLOUT, 0 } };
        if (!out_open)
            p[0].fd = -1;
        if (!err_open)
            p[1].fd = -1;
        double left = opt.timeout_s - (now_s() - t0);
        if (left <= 0) {
            kill(pid, SIGKILL);
            break;
        }
        poll(p, 3, (int)(left * 1000) + 1);
        char buf[65536];
        if (p[0].revents) {
            ssize_t n = read(out[0], buf, sizeof buf);
            if (n <= 0)
                out_open = false;
            else
                r.out.append(buf, (size_t)n);
        }
        if (p[1].revents) {
            ssize_t n = read(err[0], buf, sizeof buf);
            if (n <= 0)
                err_open = false;
            else
                r.err.append(buf, (size_t)n);
        }
        if (in_fd >= 0 && p[2].revents) {
            ssize_t n = write(in_fd, opt.input.data() + written, opt.input.size() - written);
            if (n > 0)
                written += (size_t)n;
            if (n < 0 || written == opt.input.size()) {
                close(in_fd);
                in_fd = -1;
            }
        }
        if (opt.signal_after_line && !signalled &&
            std::count(r.out.begin(), r.out.end(), '\n') >= opt.signal_after_line) {
            kill(pid, SIGINT);
            signalled = true;
        }
    }
    if (in_fd >= 0)
        close(in_fd);
    close(out[0]);
    close(err[0]);
    int status = 0;
    struct rusage ru;
    wait4(pid, &status, 0, &ru);
    r.seconds = now_s() - t0;
    r.max_rss_kb = ru.ru_maxrss;
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
}

std::vector<std::string> lines(const std::string &s)
{
    std::vector<std::string> v;
    std::istringstream in(s);
    std::string line;
    while (std::getline(in, line))
        v.push_back(line);
    return v;
}

bool has(const std::string &hay, const std::string &needle)
{
    return hay.find(needle) != std::string::npos;
}

std::string temp_file(const std::string &content)
{
    char path[] = "/tmp/gj-cli-test-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return "";
    if (write(fd, content.data(), content.size()) != (ssize_t)content.size()) {
        close(fd);
        return "";
    }
    close(fd);
    return path;
}

#define EXPECT_RUN(r, code) \
    EXPECT_EQ((r).exit_code, (code)) << "stdout:\n" << (r).out.substr(0, 2000) << "\nstderr:\n" << (r).err

class Bolt : public ::testing::Test {
protected:
    static void SetUpTestSuite()
    {
        server_ = new ServerProcess(gjtest::build_path("tests/servers/bolt/bolt-refserver"), { "--seed" });
    }
    static void TearDownTestSuite()
    {
        delete server_;
        server_ = nullptr;
    }
    void SetUp() override
    {
        ASSERT_TRUE(server_->ok()) << server_->error();
    }
    std::string url(const std::string &cred = "neo4j:password@") const
    {
        return "bolt://" + cred + "127.0.0.1:" + std::to_string(server_->port());
    }
    static ServerProcess *server_;
};
ServerProcess *Bolt::server_ = nullptr;

// ---- usage and configuration ------------------------------------------------

TEST(CliUsage, OptionValuesAreCheckedAndNamed)
{
    Result r = cli({});
    EXPECT_RUN(r, 2);
    EXPECT_TRUE(has(r.err, "give a URL")) << r.err;
    struct { std::vector<std::string> args; const char *names; } cases[] = {
        { { "-T", "abc", "bolt://h", "RETURN 1" }, "-T/--timeout" },
        { { "-T", "-5", "bolt://h", "RETURN 1" }, "-T/--timeout" },
        { { "-T", "0", "bolt://h", "RETURN 1" }, "-T/--timeout" },
        { { "--deadline", "soon", "bolt://h", "RETURN 1" }, "--deadline" },
        { { "-w", "0", "bolt://h", "RETURN 1" }, "-w/--workers" },
        { { "-C", "x", "bolt://h", "RETURN 1" }, "-C/--concurrency" },
        { { "--repeat", "0", "bolt://h", "RETURN 1" }, "--repeat" },
        { { "-F", "xml", "bolt://h", "RETURN 1" }, "-F/--format" },
        { { "-P", "novalue", "bolt://h", "RETURN 1" }, "-P/--param" },
        { { "--no-such-option", "bolt://h" }, "unrecognized" },
        { { "-t", "x", "bolt://h", "RETURN 1" }, "-t/--target" },
    };
    for (const auto &c : cases) {
        Result u = cli(c.args);
        EXPECT_RUN(u, 2) << c.args[0] << " " << c.args[1];
        EXPECT_TRUE(has(u.err, c.names)) << c.names << ": " << u.err;
        EXPECT_TRUE(u.out.empty()) << u.out;
    }
}

TEST(CliUsage, HelpAndVersion)
{
    Result h = cli({ "--help" });
    EXPECT_RUN(h, 0);
    EXPECT_TRUE(has(h.out, "usage: graphjob")) << h.out;
    EXPECT_TRUE(has(h.out, "7 cancelled")) << h.out;
    Result v = cli({ "-V" });
    EXPECT_RUN(v, 0);
    EXPECT_TRUE(has(v.out, "graphjob (libgraphjob) ")) << v.out;
    EXPECT_TRUE(has(v.out, "backends: bolt")) << v.out;
}

TEST(CliConfig, ConfigurationErrorsExit3WithTheirPlace)
{
    Result r = cli({ "nosuch://h", "RETURN 1" });
    EXPECT_RUN(r, 3);
    EXPECT_TRUE(has(r.err, "scheme")) << r.err;

    std::string path = temp_file("workers: 2\nbackends:\n  g:\n    url: bolt://h:7687\n    max_conns: lots\n");
    r = cli({ "-c", path, "RETURN 1" });
    EXPECT_RUN(r, 3);
    EXPECT_TRUE(has(r.err, path + ":5:")) << r.err;
    EXPECT_TRUE(has(r.err, "max_conns")) << r.err;
    unlink(path.c_str());

    r = cli({ "-c", "/nonexistent/graphjob.yaml", "RETURN 1" });
    EXPECT_RUN(r, 3);

    path = temp_file("backends:\n  a: { url: 'bolt://h:1' }\n  b: { url: 'bolt://h:2' }\n");
    r = cli({ "-c", path, "RETURN 1" });
    EXPECT_RUN(r, 3);
    EXPECT_TRUE(has(r.err, "no target 'default'")) << r.err;
    unlink(path.c_str());
}

// ---- results, errors, exit codes ----------------------------------------------

TEST_F(Bolt, OneJsonLinePerJobInOrderAndFailedSaysFailed)
{
    Result r = cli({ url(), "UNWIND range(1, 3) AS x RETURN x", "RETRUN 1", "RETURN 'a' AS s" });
    EXPECT_RUN(r, 1);
    auto l = lines(r.out);
    ASSERT_EQ(l.size(), 3u) << r.out;
    EXPECT_TRUE(has(l[0], "{\"job\":1,\"query\":\"UNWIND range(1, 3) AS x RETURN x\",\"status\":\"done\""))
        << l[0];
    EXPECT_TRUE(has(l[0], "\"fields\":[\"x\"],\"rows\":[[1],[2],[3]]")) << l[0];
    EXPECT_TRUE(has(l[1], "\"job\":2")) << l[1];
    EXPECT_TRUE(has(l[1], "\"status\":\"failed\"")) << l[1];
    EXPECT_FALSE(has(l[1], "\"status\":\"done\"")) << l[1];
    EXPECT_TRUE(has(l[1], "\"server_code\":\"Neo.ClientError.Statement.SyntaxError\"")) << l[1];
    EXPECT_TRUE(has(l[1], "\"gql_status\":\"42001\"")) << l[1];
    EXPECT_TRUE(has(l[2], "\"rows\":[[\"a\"]]")) << l[2];
}

TEST_F(Bolt, ParametersAsJson)
{
    Result r = cli({ "-P", "name=Ada", "-P", "xs=[1,2]", url(), "RETURN $name AS n, $xs AS xs" });
    EXPECT_RUN(r, 0);
    EXPECT_TRUE(has(r.out, "\"rows\":[[\"Ada\",[1,2]]]")) << r.out;
}

TEST_F(Bolt, ReadmeExampleQuery)
{
    // The README's C example runs this; the reference server must answer it.
    Result r = cli({ "-P", "age=30", url(), "MATCH (p:Person) WHERE p.age > $age RETURN p.name" });
    EXPECT_RUN(r, 0);
    EXPECT_TRUE(has(r.out, "\"rows\":[[\"Alice\"],[\"Bob\"]]")) << r.out;
}

TEST_F(Bolt, PrettyStaysOneObjectPerJob)
{
    Result r = cli({ "--pretty", url(), "RETURN 1 AS x", "RETURN 2 AS y" });
    EXPECT_RUN(r, 0);
    EXPECT_EQ(r.out.rfind("{\n  \"job\": 1,", 0), 0u) << r.out;
    int objects = 0;
    for (const auto &l : lines(r.out))
        objects += l == "{";
    EXPECT_EQ(objects, 2) << r.out;
    EXPECT_TRUE(has(r.out, "\"rows\": [\n    [\n      1\n    ]\n  ]")) << r.out;
}

TEST_F(Bolt, ExitCodes)
{
    Result r = cli({ url("neo4j:wrong@"), "RETURN 1" });
    EXPECT_RUN(r, 5);
    EXPECT_TRUE(has(r.out, "GJ_EAUTH")) << r.out;

    // A port nothing listens on (a server that was there and is gone).
    int gone_port;
    {
        ServerProcess gone(gjtest::build_path("tests/servers/bolt/bolt-refserver"), {});
        ASSERT_TRUE(gone.ok()) << gone.error();
        gone_port = gone.port();
    }
    r = cli({ "bolt://neo4j:password@127.0.0.1:" + std::to_string(gone_port), "RETURN 1" });
    EXPECT_RUN(r, 4);
    EXPECT_TRUE(has(r.out, "GJ_ECONNECT")) << r.out;

    // The first failed job (in output order) decides.
    r = cli({ url(), "RETURN 1", "RETRUN", "RETURN 2" });
    EXPECT_RUN(r, 1);
}

TEST_F(Bolt, PasswordNeverPrinted)
{
    Result r = cli({ "-vv", url("neo4j:S3cr3tPw@"), "RETURN 1" });
    EXPECT_RUN(r, 5);
    EXPECT_FALSE(has(r.out + r.err, "S3cr3tPw")) << r.err;
    EXPECT_TRUE(has(r.err, "graphjob: info: ")) << r.err;  // the log was on
}

TEST_F(Bolt, CredentialsFromTheEnvironment)
{
    Options o;
    o.env = { { "NEO4J_USERNAME", "neo4j" }, { "NEO4J_PASSWORD", "password" } };
    Result r = cli({ "-F", "plain", url(""), "RETURN 1" }, o);
    EXPECT_RUN(r, 0);
    EXPECT_EQ(r.out, "1\n");

    o.env = { { "GRAPHJOB_PASSWORD", "password" } };
    r = cli({ "-F", "plain", "-u", "neo4j", url(""), "RETURN 2" }, o);
    EXPECT_RUN(r, 0);
    EXPECT_EQ(r.out, "2\n");

    // -p wins over the environment; and -pVALUE is not left in argv.
    r = cli({ "-F", "plain", "-u", "neo4j", "-pwrong", url(""), "RETURN 3" }, o);
    EXPECT_RUN(r, 5);

    // -p alone prompts, on the terminal only.
    r = cli({ "-p", "-u", "neo4j", url(""), "RETURN 4" });
    EXPECT_RUN(r, 2);
    EXPECT_TRUE(has(r.err, "GRAPHJOB_PASSWORD")) << r.err;
}

// ---- input --------------------------------------------------------------------

TEST_F(Bolt, StdinIsSplitOnSemicolonsOutsideStringsAndComments)
{
    Options o;
    o.input = "RETURN 1 AS a; // a comment; with a semicolon\n"
              "RETURN \"x;y\" AS b;\n"
              "/* a block ; comment */ RETURN 'it\\'s; fine' AS c\n"
              ";;  \n"
              "RETURN 4 AS `we;ird`";  // no ';' at the end
    Result r = cli({ "-F", "csv", url() }, o);
    EXPECT_RUN(r, 0);
    EXPECT_EQ(r.out, "a\r\n1\r\n\nb\r\nx;y\r\n\nc\r\nit's; fine\r\n\nwe;ird\r\n4\r\n");

    o.input = "RETURN 1 AS a;\n// only a comment;\n  ;\nRETURN 'b;' AS b;\n";
    r = cli({ url() }, o);
    EXPECT_RUN(r, 0);
    auto l = lines(r.out);
    ASSERT_EQ(l.size(), 2u) << r.out;
    EXPECT_TRUE(has(l[0], "\"query\":\"RETURN 1 AS a\"")) << l[0];
    EXPECT_TRUE(has(l[1], "\"query\":\"RETURN 'b;' AS b\"")) << l[1];
}

TEST_F(Bolt, FilesDashAndAtFile)
{
    std::string script = temp_file("RETURN 1 AS x;\nRETURN 2 AS x;\n");
    std::string one = temp_file("RETURN 10 AS y");
    Options o;
    o.input = "RETURN 3 AS x";
    Result r = cli({ "-F", "plain", "-f", script, url(), "RETURN 0 AS x", "@" + one, "-" }, o);
    EXPECT_RUN(r, 0);
    // -f files first, then the arguments in order ('-' is stdin).
    EXPECT_EQ(r.out, "1\n2\n0\n10\n3\n");

    // --no-split: a file is one query.
    std::string two = temp_file("RETURN 5 AS x;\n");
    r = cli({ "--no-split", "-f", two, url() });
    EXPECT_EQ(lines(r.out).size(), 1u) << r.out;
    EXPECT_TRUE(has(r.out, "\"query\":\"RETURN 5 AS x;\"")) << r.out;

    r = cli({ "-f", "/nonexistent/queries.cypher", url() });
    EXPECT_RUN(r, 2);
    EXPECT_TRUE(has(r.err, "/nonexistent/queries.cypher")) << r.err;
    unlink(script.c_str());
    unlink(one.c_str());
    unlink(two.c_str());
}

// ---- formats ------------------------------------------------------------------

TEST_F(Bolt, Table)
{
    Result r = cli({ "-F", "table", url(), "MATCH (p:Person) RETURN p.name AS name, p.age AS age" });
    EXPECT_RUN(r, 0);
    EXPECT_EQ(r.out.rfind("+---------+------+\n"
                          "| name    | age  |\n"
                          "+---------+------+\n"
                          "| \"Alice\" | 33   |\n"
                          "| \"Bob\"   | 44   |\n"
                          "| \"Carol\" | NULL |\n"
                          "+---------+------+\n"
                          "\n3 rows\n"
                          "ready to start consuming query after ",
                          0),
              0u)
        << r.out;

    // Cut with "…" past --max-width; failures go to stderr.
    r = cli({ "-F", "table", "--max-width", "6", url(), "RETURN 'abcdefghij' AS long", "RETRUN" });
    EXPECT_RUN(r, 1);
    EXPECT_TRUE(has(r.out, "| \"abcd\xe2\x80\xa6 |")) << r.out;
    EXPECT_TRUE(has(r.err, "job 2 failed (GJ_ESERVER)")) << r.err;
    EXPECT_TRUE(has(r.out, "1 row\n")) << r.out;
}

TEST_F(Bolt, CsvAndPlain)
{
    Result r = cli({ "-F", "csv", url(), "RETURN 'a,b' AS x, 'say \"hi\"' AS y, null AS z, 2 AS n" });
    EXPECT_RUN(r, 0);
    EXPECT_EQ(r.out, "x,y,z,n\r\n\"a,b\",\"say \"\"hi\"\"\",,2\r\n");
    r = cli({ "-F", "plain", url(), "RETURN 'a\tb' AS x, [1, 2] AS l, null AS z" });
    EXPECT_RUN(r, 0);
    EXPECT_EQ(r.out, "a\\tb\t[1,2]\t\n");
}

// ---- time -----------------------------------------------------------------------

TEST_F(Bolt, TimeoutIsPerJobFromTheStartAllTogether)
{
    Result r = cli({ "-T", "0.5", url(), "CALL apoc.util.sleep(60000)", "CALL apoc.util.sleep(60000)",
                  "CALL apoc.util.sleep(60000)", "RETURN 1 AS x" });
    EXPECT_RUN(r, 6);
    auto l = lines(r.out);
    ASSERT_EQ(l.size(), 4u) << r.out;
    for (int i = 0; i < 3; i++) {
        EXPECT_TRUE(has(l[i], "\"status\":\"failed\"")) << l[i];
        EXPECT_TRUE(has(l[i], "\"code\":\"GJ_ETIMEDOUT\",\"message\":\"timed out after 500 ms\"")) << l[i];
    }
    EXPECT_TRUE(has(l[3], "\"status\":\"done\"")) << l[3];
    // Together, not 3 x 0.5 s one after the other (and far from the 60 s sleeps).
    EXPECT_LT(r.seconds, 30) << r.seconds;
}

TEST_F(Bolt, DeadlineForTheWholeRun)
{
    Result r = cli({ "--deadline", "500ms", "-C", "2", url(), "CALL apoc.util.sleep(60000)",
                  "CALL apoc.util.sleep(60000)", "RETURN 1" });
    EXPECT_RUN(r, 6);
    auto l = lines(r.out);
    ASSERT_EQ(l.size(), 2u) << r.out;   // the third was never submitted
    EXPECT_TRUE(has(l[0], "\"status\":\"cancelled\"")) << l[0];
    EXPECT_TRUE(has(l[0], "deadline")) << l[0];
    EXPECT_TRUE(has(r.err, "--deadline 500 ms")) << r.err;
    EXPECT_TRUE(has(r.err, "2 cancelled")) << r.err;   // -C makes it a bulk run: the summary
    EXPECT_LT(r.seconds, 30);
}

TEST_F(Bolt, CtrlCCancelsWhatIsOutstandingAndPrintsTheSummary)
{
    Options o;
    o.signal_after_line = 1;   // once job 1 printed
    Result r = cli({ url(), "RETURN 1 AS x", "CALL apoc.util.sleep(60000)" }, o);
    EXPECT_RUN(r, 7);
    auto l = lines(r.out);
    ASSERT_GE(l.size(), 2u) << r.out;
    EXPECT_TRUE(has(l[0], "\"status\":\"done\"")) << l[0];
    EXPECT_TRUE(has(l[1], "\"status\":\"cancelled\"")) << l[1];
    EXPECT_TRUE(has(l[1], "cancelled by Ctrl-C")) << l[1];
    EXPECT_TRUE(has(r.err, "interrupted (Ctrl-C)")) << r.err;
    EXPECT_TRUE(has(r.err, "2 jobs in ")) << r.err;      // the summary, also without a bulk option
    EXPECT_TRUE(has(r.err, "1 done, 0 failed, 1 cancelled")) << r.err;
    EXPECT_LT(r.seconds, 30);
}

TEST_F(Bolt, UnorderedPrintsAsJobsFinish)
{
    Result r = cli({ "--unordered", url(), "CALL apoc.util.sleep(3000)", "RETURN 2 AS x" });
    EXPECT_RUN(r, 0);
    auto l = lines(r.out);
    ASSERT_EQ(l.size(), 2u) << r.out;
    EXPECT_TRUE(has(l[0], "\"job\":2")) << r.out;
    EXPECT_TRUE(has(l[1], "\"job\":1")) << r.out;
}

// ---- bulk ---------------------------------------------------------------------

TEST_F(Bolt, BulkSummaryAndBackpressure)
{
    // queue_size 4 with 64 outstanding: submit meets GJ_EBUSY and must wait
    // and retry, never drop a query.
    Result r = cli({ "--repeat", "500", "-C", "64", url() + "?queue_size=4", "RETURN 1 AS x" });
    EXPECT_RUN(r, 0);
    auto l = lines(r.out);
    EXPECT_EQ(l.size(), 500u);
    size_t done = 0;
    for (size_t i = 0; i < l.size(); i++) {
        done += has(l[i], "\"status\":\"done\"");
        EXPECT_TRUE(has(l[i], "{\"job\":" + std::to_string(i + 1) + ",")) << l[i];
    }
    EXPECT_EQ(done, 500u);
    EXPECT_TRUE(has(r.err, "graphjob: 500 jobs in ")) << r.err;
    EXPECT_TRUE(has(r.err, "500 done, 0 failed, 0 cancelled")) << r.err;
    EXPECT_TRUE(has(r.err, "p50 ")) << r.err;
    EXPECT_TRUE(has(r.err, "p99 ")) << r.err;
    EXPECT_FALSE(has(r.err, "\r")) << "no progress bar when stderr is not a terminal";

    r = cli({ "-q", "--repeat", "10", url(), "RETURN 1 AS x" });
    EXPECT_RUN(r, 0);
    EXPECT_EQ(lines(r.out).size(), 10u);
    EXPECT_TRUE(r.err.empty()) << r.err;
}

TEST_F(Bolt, ProgressBarOnATerminal)
{
    int master;
    pid_t pid = forkpty(&master, nullptr, nullptr, nullptr);
    ASSERT_GE(pid, 0);
    std::vector<std::string> args = graphjob_argv(
        { "-F", "json", "--repeat", "3000", "-C", "16", url(), "RETURN 1 AS x" });
    std::vector<char *> argv;
    for (auto &a : args)
        argv.push_back(&a[0]);
    argv.push_back(nullptr);
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        execv(argv[0], argv.data());
        _exit(127);
    }
    std::string tty;
    char buf[4096];
    double t0 = now_s();
    for (;;) {
        struct pollfd p = { master, POLLIN, 0 };
        if (now_s() - t0 > 120 || poll(&p, 1, 1000) < 0)
            break;
        if (!p.revents)
            continue;
        ssize_t n = read(master, buf, sizeof buf);
        if (n <= 0)
            break;   // EIO once the child is gone
        tty.append(buf, (size_t)n);
    }
    int status;
    waitpid(pid, &status, 0);
    close(master);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << tty;
    EXPECT_TRUE(has(tty, "/3000 jobs, 0 failed, ")) << tty;
    EXPECT_TRUE(has(tty, "\r\033[K")) << "the bar is cleared at the end";
    EXPECT_TRUE(has(tty, "3000 done, 0 failed")) << tty;
}

TEST_F(Bolt, LargeResultStreamsRowByRow)
{
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    const bool sanitized = true;
#else
    const bool sanitized = false;
#endif
    const bool slow = sanitized || under_wrapper();   // ASan, TSan, valgrind
    const long n = slow ? 100000 : 1000000;
    std::string q = "UNWIND range(1, " + std::to_string(n) + ") AS x RETURN x";
    Result r = cli({ url(), q });
    EXPECT_RUN(r, 0);
    EXPECT_TRUE(has(r.out, "\"rows\":[[1],[2],")) << r.out.substr(0, 200);
    EXPECT_TRUE(has(r.out, "[" + std::to_string(n) + "]],\"meta\"")) << r.out.substr(r.out.size() - 300);
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1);
    // 10^6 rows as values would take well over 100 MB; spooled, the program
    // stays small.
    if (!slow) {
        EXPECT_LT(r.max_rss_kb, 64 * 1024) << "max RSS " << r.max_rss_kb << " KiB";
    }
}

// ---- ArangoDB: errors and server-side jobs --------------------------------------

class Arango : public ::testing::Test {
protected:
    void SetUp() override
    {
        std::string prog = gjtest::build_path("tests/servers/arango/arango-refserver");
        if (access(prog.c_str(), X_OK) != 0)
            GTEST_SKIP() << "arango-refserver not built (no libmicrohttpd)";
        server_.reset(new ServerProcess(prog, { "--password", "pw" }));
        ASSERT_TRUE(server_->ok()) << server_->error();
        url_ = "http://root:pw@127.0.0.1:" + std::to_string(server_->port());
    }
    std::unique_ptr<ServerProcess> server_;
    std::string url_;
};

TEST_F(Arango, RowsAndTheServersErrorIdentity)
{
    Result r = cli({ url_, "FOR i IN 1..3 RETURN i", "BAD QUERY" });
    EXPECT_RUN(r, 1);
    auto l = lines(r.out);
    ASSERT_EQ(l.size(), 2u) << r.out;
    EXPECT_TRUE(has(l[0], "\"rows\":[1,2,3]")) << l[0];
    EXPECT_TRUE(has(l[1], "\"status\":\"failed\"")) << l[1];
    EXPECT_TRUE(has(l[1], "\"server_number\":1501,\"http_status\":400")) << l[1];

    r = cli({ "-F", "table", url_, "FOR i IN 1..2 RETURN { i: i, s: 'x' }" });
    EXPECT_RUN(r, 0);
    EXPECT_TRUE(has(r.out, "| i | s   |\n")) << r.out;
    EXPECT_TRUE(has(r.out, "| 2 | \"x\" |\n")) << r.out;
}

TEST_F(Arango, AsyncJobsFetchedListedCancelledCleared)
{
    Result r = cli({ "--async", "-F", "plain", url_, "FOR i IN 1..3 RETURN i" });
    EXPECT_RUN(r, 0);
    std::string id = r.out.substr(0, r.out.find('\n'));
    ASSERT_FALSE(id.empty());
    ASSERT_EQ(id.find_first_not_of("0123456789"), std::string::npos) << r.out;

    // Wait (event-driven: ask the server) until it is done.
    for (int i = 0; i < 600; i++) {
        r = cli({ "job", "--status", "-F", "plain", url_, id });
        if (r.out == "done\n")
            break;
        usleep(50000);
    }
    EXPECT_EQ(r.out, "done\n");
    r = cli({ "jobs", "-F", "plain", url_, "--status", "done" });
    EXPECT_RUN(r, 0);
    EXPECT_TRUE(has(r.out, id + "\n")) << r.out;

    r = cli({ "job", url_, id });
    EXPECT_RUN(r, 0);
    EXPECT_TRUE(has(r.out, "\"rows\":[1,2,3]")) << r.out;
    r = cli({ "job", url_, id });    // fetched once: gone
    EXPECT_RUN(r, 1);
    EXPECT_TRUE(has(r.out, "GJ_ENOTFOUND")) << r.out;

    // A slow one: cancelled on the server, then its result says so.
    r = cli({ "--async", "-F", "plain", url_, "RETURN SLEEP(60)" });
    EXPECT_RUN(r, 0);
    std::string slow = r.out.substr(0, r.out.find('\n'));
    r = cli({ "job", "--cancel", url_, slow });
    EXPECT_RUN(r, 0);
    EXPECT_TRUE(has(r.out, "\"result\":true")) << r.out;
    r = cli({ "jobs", "--clear", url_ });
    EXPECT_RUN(r, 0);
    r = cli({ "jobs", "-F", "plain", url_, "--status", "done" });
    EXPECT_RUN(r, 0);
    EXPECT_FALSE(has(r.out, slow)) << r.out;

    r = cli({ "job", url_, "abc" });
    EXPECT_RUN(r, 2);
    r = cli({ "--async", "bolt://h:7687", "RETURN 1" });
    EXPECT_RUN(r, 2);
    EXPECT_TRUE(has(r.err, "ArangoDB")) << r.err;
}

// ---- the demo -----------------------------------------------------------------

TEST(CliDemo, RunsEveryBackendItFinds)
{
    // bolt, gremlin (and arango with libmicrohttpd) are built with the tests;
    // the GraphQL server needs node and tests/peers/node_modules.
    std::vector<std::string> expected = { "bolt", "gremlin" };
    if (access(gjtest::build_path("tests/servers/arango/arango-refserver").c_str(), X_OK) == 0)
        expected.push_back("arango");
    std::string peers = std::string(GJ_SRCDIR) + "/tests/peers/node_modules/graphql-http";
    if (system("command -v node >/dev/null 2>&1") == 0 && access(peers.c_str(), F_OK) == 0)
        expected.push_back("graphql");
    Result r = cli({ "demo" });
    EXPECT_RUN(r, 0);
    for (const std::string &name : expected) {
        // its section, from "== name:" to the next "== " (or the end)
        size_t at = r.out.find("== " + name + ":");
        ASSERT_NE(std::string::npos, at) << name << " did not run:\n" << r.out;
        std::string section = r.out.substr(at, r.out.find("\n== ", at + 1) - at);
        EXPECT_TRUE(has(section, "job 1   done")) << section;
        EXPECT_TRUE(has(section, "job 2   done")) << section;
        EXPECT_TRUE(has(section, "Ada")) << "the parameter came back: " << section;
        EXPECT_TRUE(has(section, "job 3   failed     ")) << section;
        EXPECT_TRUE(has(section, "GJ_ESERVER")) << section;
        EXPECT_TRUE(has(section, "job 4   cancelled  ")) << section;
        EXPECT_TRUE(has(section, "cancelled while running")) << section;
        EXPECT_TRUE(has(section, "2 done, 1 failed, 1 cancelled")) << section;
        EXPECT_TRUE(has(section, "server stopped")) << section;
    }
    EXPECT_TRUE(has(r.out, "Neo.ClientError.Statement.SyntaxError")) << r.out;
    std::string ran = std::to_string(expected.size());
    EXPECT_TRUE(has(r.out, ran + " backends ran (" + ran + " as expected)")) << r.out;
    EXPECT_FALSE(has(r.out, ":password@")) << "the demo prints no password";
}

}  // namespace
