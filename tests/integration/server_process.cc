#include "server_process.h"

#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

// The C module that starts and stops servers for bench/ and tests/, compiled
// into this translation unit (it is written to compile as C++ too), so that
// every test program that links server_process.cc has it without listing
// another source.  A program must not link tests/common/server_spawn.c as
// well.
#include "../common/server_spawn.c"

namespace gjtest {

std::string build_path(const std::string &rel)
{
    char path[4096];
    gj_spawn_build_path(path, sizeof path, rel.c_str());
    return path;
}

ServerProcess::ServerProcess(const std::string &program, const std::vector<std::string> &args, int ports,
                             int timeout_ms)
{
    char tmpl[] = "/tmp/gj-server-log-XXXXXX";
    int log_fd = mkstemp(tmpl);
    if (log_fd < 0) {
        error_ = "mkstemp failed";
        return;
    }
    close(log_fd);   // reopened (truncated) as the server's stderr
    log_path_ = tmpl;
    std::vector<const char *> argv;
    for (const auto &a : args)
        argv.push_back(a.c_str());
    argv.push_back(nullptr);
    gj_spawned s;
    if (gj_spawn_start(&s, program.c_str(), argv.data(), nullptr, log_path_.c_str()) != 0) {
        error_ = s.error;
        return;
    }
    pid_ = s.pid;
    if (gj_spawn_wait_ports(&s, ports, timeout_ms) != 0) {
        error_ = s.error;
        if (error_.find("closed its stdout") != std::string::npos)
            error_ += ": " + log();
    } else {
        ports_.assign(s.ports, s.ports + s.nports);
    }
    // The server stays up (also when its ports did not come: a test may read
    // its log) until the destructor or kill_now; its stdout stays open so
    // that a late write there does not kill it with SIGPIPE.
    out_fd_ = s.out_fd;
}

void ServerProcess::stop(int sig)
{
    if (pid_ <= 0)
        return;
    gj_spawn_kill_pid(pid_, sig, 5000);
    pid_ = -1;
}

void ServerProcess::kill_now() { stop(SIGKILL); }

ServerProcess::~ServerProcess()
{
    stop(SIGTERM);
    if (out_fd_ >= 0)
        close(out_fd_);
    if (!log_path_.empty())
        unlink(log_path_.c_str());
}

std::string ServerProcess::log() const
{
    std::ifstream f(log_path_);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

size_t ServerProcess::count_in_log(const std::string &needle) const
{
    std::string s = log();
    size_t n = 0;
    for (size_t at = s.find(needle); at != std::string::npos; at = s.find(needle, at + needle.size()))
        n++;
    return n;
}

}  // namespace gjtest
