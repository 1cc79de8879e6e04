// A reference server started from a test: spawned with posix_spawn, its
// "PORT <n>" lines read from its stdout, its stderr kept in a file (so a test
// can look at what the server logged with --verbose), and killed by pid when
// the object goes away.
#ifndef GJ_TESTS_SERVER_PROCESS_H
#define GJ_TESTS_SERVER_PROCESS_H

#include <sys/types.h>

#include <string>
#include <vector>

namespace gjtest {

class ServerProcess {
public:
    // program: path of the server binary; args: its arguments.  Waits up to
    // timeout_ms for `ports` "PORT n" lines.  ok() tells whether it started.
    ServerProcess(const std::string &program, const std::vector<std::string> &args, int ports = 1,
                  int timeout_ms = 10000);
    ~ServerProcess();
    ServerProcess(const ServerProcess &) = delete;
    ServerProcess &operator=(const ServerProcess &) = delete;

    bool ok() const { return pid_ > 0 && !ports_.empty(); }
    int port(size_t i = 0) const { return i < ports_.size() ? ports_[i] : 0; }
    pid_t pid() const { return pid_; }
    const std::string &error() const { return error_; }

    // What the server wrote on stderr so far.
    std::string log() const;
    // How often `needle` occurs in log().
    size_t count_in_log(const std::string &needle) const;

    // SIGKILL now and reap it (idempotent).
    void kill_now();

private:
    void stop(int sig);
    pid_t pid_ = -1;
    int out_fd_ = -1;
    std::vector<int> ports_;
    std::string log_path_;
    std::string error_;
};

// The path of a program in the build tree (GJ_BUILDDIR/rel).
std::string build_path(const std::string &rel);

}  // namespace gjtest

#endif
