// tests/common/server_spawn.c: starting a program, reading its "PORT n"
// lines, stopping it by pid (SIGTERM, then SIGKILL), and finding a program
// in the build tree.  The children are /bin/sh scripts; no deadline here
// depends on the machine's speed except the ones a test expects to expire
// (those are short and the child never prints in time).
#include "tests/common/server_spawn.h"

#include <gtest/gtest.h>

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <pthread.h>
#include <string.h>

#include <fstream>
#include <sstream>
#include <string>

namespace {

const int kGenerous = 30000;   // ms: for lines that do come

int start_sh(gj_spawned *s, const char *script, const char *stderr_path = GJ_SPAWN_STDERR_NULL)
{
    const char *args[] = { "-c", script, nullptr };
    return gj_spawn_start(s, "/bin/sh", args, nullptr, stderr_path);
}

bool alive(pid_t pid)
{
    return kill(pid, 0) == 0;
}

TEST(ServerSpawn, ReadsPortsAndStopsWithSigterm)
{
    gj_spawned s;
    const char *args[] = { "-c", "echo hello; echo 'PORT 1234'; echo 'PORT 5678'; exec sleep 60", nullptr };
    ASSERT_EQ(0, gj_spawn_server(&s, "/bin/sh", args, GJ_SPAWN_STDERR_NULL, 2, kGenerous)) << s.error;
    EXPECT_EQ(2, s.nports);
    EXPECT_EQ(1234, s.ports[0]);
    EXPECT_EQ(5678, s.ports[1]);
    pid_t pid = s.pid;
    ASSERT_GT(pid, 0);
    EXPECT_TRUE(alive(pid));
    int status = gj_spawn_stop(&s, SIGTERM, kGenerous);
    ASSERT_NE(-1, status);
    EXPECT_TRUE(WIFSIGNALED(status));
    EXPECT_EQ(SIGTERM, WTERMSIG(status));
    EXPECT_EQ(-1, s.pid);
    EXPECT_EQ(-1, s.out_fd);
    EXPECT_FALSE(alive(pid)) << "reaped";
    EXPECT_EQ(-1, gj_spawn_stop(&s, SIGTERM, 0)) << "idempotent";
}

TEST(ServerSpawn, SigkillAfterTheGracePeriod)
{
    gj_spawned s;
    // The shell ignores SIGTERM and says so before printing its port.
    ASSERT_EQ(0, start_sh(&s, "trap '' TERM; echo 'PORT 9'; while :; do sleep 1; done"));
    ASSERT_EQ(0, gj_spawn_wait_ports(&s, 1, kGenerous)) << s.error;
    int status = gj_spawn_stop(&s, SIGTERM, 100);
    ASSERT_NE(-1, status);
    ASSERT_TRUE(WIFSIGNALED(status));
    EXPECT_EQ(SIGKILL, WTERMSIG(status));
}

TEST(ServerSpawn, NoPortLineInTime)
{
    gj_spawned s;
    const char *args[] = { "-c", "echo 'not a port'; exec sleep 60", nullptr };
    EXPECT_EQ(-1, gj_spawn_server(&s, "/bin/sh", args, GJ_SPAWN_STDERR_NULL, 1, 200));
    EXPECT_NE(nullptr, strstr(s.error, "within 200 ms")) << s.error;
    EXPECT_EQ(-1, s.pid) << "stopped on failure";
}

TEST(ServerSpawn, ExitBeforePortIsEof)
{
    gj_spawned s;
    ASSERT_EQ(0, start_sh(&s, "echo 'PORT 77'; exit 3"));
    ASSERT_EQ(0, gj_spawn_wait_ports(&s, 1, kGenerous)) << s.error;
    EXPECT_EQ(77, s.ports[0]);
    EXPECT_EQ(-1, gj_spawn_wait_ports(&s, 2, kGenerous));
    EXPECT_TRUE(s.eof);
    EXPECT_NE(nullptr, strstr(s.error, "closed its stdout")) << s.error;
    EXPECT_EQ(3, gj_spawn_wait(&s, kGenerous)) << "the exit code";
}

TEST(ServerSpawn, BadPortLine)
{
    gj_spawned s;
    ASSERT_EQ(0, start_sh(&s, "echo 'PORT 70000'; exec sleep 60"));
    EXPECT_EQ(-1, gj_spawn_wait_ports(&s, 1, kGenerous));
    EXPECT_NE(nullptr, strstr(s.error, "bad port")) << s.error;
    gj_spawn_stop(&s, SIGKILL, 0);
}

TEST(ServerSpawn, ReadLineWithPrefixAndLastLineWithoutNewline)
{
    gj_spawned s;
    ASSERT_EQ(0, start_sh(&s, "echo one; echo 'JS two=2'; printf 'last'"));
    char line[64];
    ASSERT_EQ(0, gj_spawn_read_line(&s, "JS ", kGenerous, line, sizeof line)) << s.error;
    EXPECT_STREQ("JS two=2", line);
    ASSERT_EQ(0, gj_spawn_read_line(&s, "", kGenerous, line, sizeof line)) << s.error;
    EXPECT_STREQ("last", line);
    EXPECT_EQ(-1, gj_spawn_read_line(&s, "", kGenerous, line, sizeof line));
    EXPECT_TRUE(s.eof);
    EXPECT_EQ(0, gj_spawn_wait(&s, kGenerous));
}

TEST(ServerSpawn, StderrToAFileArgumentsAndEnvironment)
{
    char path[] = "/tmp/gj-spawn-test-XXXXXX";
    int fd = mkstemp(path);
    ASSERT_GE(fd, 0);
    close(fd);
    gj_spawned s;
    const char *args[] = { "-c", "echo \"$1 $GJ_SPAWN_TEST\" >&2; echo done", "sh", "first arg", nullptr };
    const char *envp[] = { "GJ_SPAWN_TEST=from envp", nullptr };
    ASSERT_EQ(0, gj_spawn_start(&s, "/bin/sh", args, envp, path)) << s.error;
    ASSERT_EQ(0, gj_spawn_read_line(&s, "done", kGenerous, nullptr, 0)) << s.error;
    EXPECT_EQ(0, gj_spawn_wait(&s, kGenerous));
    std::ifstream f(path);
    std::stringstream ss;
    ss << f.rdbuf();
    EXPECT_EQ("first arg from envp\n", ss.str());
    unlink(path);
}

TEST(ServerSpawn, ProgramSearchedInPathAndMissingProgram)
{
    gj_spawned s;
    const char *args[] = { "PORT 42", nullptr };
    ASSERT_EQ(0, gj_spawn_server(&s, "echo", args, GJ_SPAWN_STDERR_NULL, 1, kGenerous)) << s.error;
    EXPECT_EQ(42, s.ports[0]);
    EXPECT_EQ(0, gj_spawn_wait(&s, kGenerous));
    EXPECT_EQ(-1, gj_spawn_start(&s, "/nonexistent/gj-no-such-program", nullptr, nullptr,
                                 GJ_SPAWN_STDERR_NULL));
    EXPECT_NE(nullptr, strstr(s.error, "cannot start")) << s.error;
    EXPECT_EQ(-1, s.pid);
}

TEST(ServerSpawn, SignalsBlockedInTheParentAreNotInherited)
{
    sigset_t term, old;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    ASSERT_EQ(0, pthread_sigmask(SIG_BLOCK, &term, &old));
    gj_spawned s;
    int rc = start_sh(&s, "echo 'PORT 1'; exec sleep 60");
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    ASSERT_EQ(0, rc) << s.error;
    ASSERT_EQ(0, gj_spawn_wait_ports(&s, 1, kGenerous)) << s.error;
    int status = gj_spawn_stop(&s, SIGTERM, kGenerous);
    ASSERT_TRUE(WIFSIGNALED(status));
    EXPECT_EQ(SIGTERM, WTERMSIG(status)) << "SIGTERM ended it, no SIGKILL needed";
}

TEST(ServerSpawn, BuildPath)
{
    char out[4096];
    const char *saved = getenv("GJ_BUILDDIR");
    std::string keep = saved ? saved : "";
    setenv("GJ_BUILDDIR", "/bin", 1);
    EXPECT_EQ(0, gj_spawn_build_path(out, sizeof out, "sh"));
    EXPECT_STREQ("/bin/sh", out);
    EXPECT_EQ(-1, gj_spawn_build_path(out, sizeof out, "gj-no-such-program"));
    EXPECT_STREQ("/bin/gj-no-such-program", out);
    char tiny[4];
    EXPECT_EQ(-1, gj_spawn_build_path(tiny, sizeof tiny, "sh"));
    unsetenv("GJ_BUILDDIR");
    gj_spawn_build_path(out, sizeof out, "x");
    EXPECT_STREQ(GJ_BUILDDIR "/x", out) << "the configured build directory";
    if (saved)
        setenv("GJ_BUILDDIR", keep.c_str(), 1);
}

}  // namespace
