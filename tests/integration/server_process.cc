#include "server_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>

extern char **environ;

namespace gjtest {

static long long now_ms()
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

std::string build_path(const std::string &rel)
{
    const char *b = getenv("GJ_BUILDDIR");
#ifdef GJ_BUILDDIR
    if (!b)
        b = GJ_BUILDDIR;
#endif
    return std::string(b ? b : ".") + "/" + rel;
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
    log_path_ = tmpl;
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) != 0) {
        close(log_fd);
        error_ = "pipe failed";
        return;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
    posix_spawn_file_actions_adddup2(&fa, log_fd, 2);
    std::vector<char *> argv;
    argv.push_back(const_cast<char *>(program.c_str()));
    for (const auto &a : args)
        argv.push_back(const_cast<char *>(a.c_str()));
    argv.push_back(nullptr);
    pid_t pid;
    int rc = posix_spawn(&pid, program.c_str(), &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    close(pipefd[1]);
    close(log_fd);
    if (rc != 0) {
        close(pipefd[0]);
        error_ = "posix_spawn " + program + ": " + strerror(rc);
        return;
    }
    pid_ = pid;
    out_fd_ = pipefd[0];
    std::string buf;
    long long deadline = now_ms() + timeout_ms;
    while ((int)ports_.size() < ports) {
        long long left = deadline - now_ms();
        if (left <= 0) {
            error_ = "no PORT line in time";
            break;
        }
        struct pollfd p = { out_fd_, POLLIN, 0 };
        if (poll(&p, 1, (int)left) <= 0)
            continue;
        char tmp[256];
        ssize_t n = read(out_fd_, tmp, sizeof tmp);
        if (n <= 0) {
            error_ = "server exited before printing PORT: " + log();
            break;
        }
        buf.append(tmp, (size_t)n);
        size_t nl;
        while ((nl = buf.find('\n')) != std::string::npos) {
            std::string line = buf.substr(0, nl);
            buf.erase(0, nl + 1);
            if (line.compare(0, 5, "PORT ") == 0)
                ports_.push_back(atoi(line.c_str() + 5));
        }
    }
    if ((int)ports_.size() < ports)
        ports_.clear();
}

void ServerProcess::stop(int sig)
{
    if (pid_ <= 0)
        return;
    ::kill(pid_, sig);
    long long deadline = now_ms() + 5000;
    int status;
    while (waitpid(pid_, &status, WNOHANG) == 0) {
        if (now_ms() > deadline) {
            ::kill(pid_, SIGKILL);
            waitpid(pid_, &status, 0);
            break;
        }
        usleep(5000);
    }
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
