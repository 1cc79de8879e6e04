/*
 * Starting and stopping a reference server: see server_spawn.h.
 *
 * Written in the common subset of C11 and C++17 (tests/integration/
 * server_process.cc compiles it into its own translation unit), with no
 * heap allocation of its own.
 */
#include "server_spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static long long spawn_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void spawn_sleep_ms(long ms)
{
    struct timespec ts;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

int gj_spawn_start(gj_spawned *s, const char *program, const char *const args[],
                   const char *const envp[], const char *stderr_path)
{
    memset(s, 0, sizeof *s);
    s->pid = -1;
    s->out_fd = -1;
    const char *argv[GJ_SPAWN_MAX_ARGS + 2];
    size_t argc = 0;
    argv[argc++] = program;
    for (size_t i = 0; args && args[i]; i++) {
        if (argc > GJ_SPAWN_MAX_ARGS) {
            snprintf(s->error, sizeof s->error, "%s: more than %d arguments", program,
                     GJ_SPAWN_MAX_ARGS);
            return -1;
        }
        argv[argc++] = args[i];
    }
    argv[argc] = NULL;
    /* Checked here too: posix_spawn reports a failed exec only where it can
     * (glibc does, valgrind's emulation does not: the child exits 127). */
    if (strchr(program, '/') && access(program, X_OK) != 0) {
        snprintf(s->error, sizeof s->error, "cannot start %s: %s", program, strerror(errno));
        return -1;
    }

    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) {
        snprintf(s->error, sizeof s->error, "pipe: %s", strerror(errno));
        return -1;
    }
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    int rc = posix_spawn_file_actions_init(&fa);
    if (rc == 0 && (rc = posix_spawnattr_init(&attr)) != 0)
        posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        close(p[0]);
        close(p[1]);
        snprintf(s->error, sizeof s->error, "posix_spawn setup: %s", strerror(rc));
        return -1;
    }
    rc = posix_spawn_file_actions_adddup2(&fa, p[1], STDOUT_FILENO);
    if (rc == 0 && stderr_path == GJ_SPAWN_STDERR_NULL)
        rc = posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    else if (rc == 0 && strcmp(stderr_path, GJ_SPAWN_STDERR_INHERIT) != 0)
        rc = posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, stderr_path,
                                              O_WRONLY | O_CREAT | O_TRUNC, 0600);
    /* The child starts with no signal blocked (a test thread may block some)
     * and with SIGTERM and SIGINT at their default action, so that
     * gj_spawn_stop's SIGTERM ends it. */
    sigset_t none, deflt;
    sigemptyset(&none);
    sigemptyset(&deflt);
    sigaddset(&deflt, SIGTERM);
    sigaddset(&deflt, SIGINT);
    if (rc == 0)
        rc = posix_spawnattr_setsigmask(&attr, &none);
    if (rc == 0)
        rc = posix_spawnattr_setsigdefault(&attr, &deflt);
    if (rc == 0)
        rc = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    pid_t pid = -1;
    /* posix_spawnp does not modify the strings; its prototype predates const. */
    if (rc == 0)
        rc = posix_spawnp(&pid, program, &fa, &attr, (char *const *)(void *)argv,
                          envp ? (char *const *)(void *)envp : environ);
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&fa);
    close(p[1]);
    if (rc != 0) {
        close(p[0]);
        snprintf(s->error, sizeof s->error, "cannot start %s: %s", program, strerror(rc));
        return -1;
    }
    s->pid = pid;
    s->out_fd = p[0];
    return 0;
}

int gj_spawn_read_line(gj_spawned *s, const char *prefix, int timeout_ms, char *line, size_t cap)
{
    size_t plen = strlen(prefix);
    long long deadline = spawn_now_ms() + timeout_ms;
    if (s->out_fd < 0) {
        snprintf(s->error, sizeof s->error, "the child's stdout is closed");
        return -1;
    }
    for (;;) {
        char *nl;
        while ((nl = (char *)memchr(s->buf, '\n', s->len)) != NULL) {
            size_t n = (size_t)(nl - s->buf);
            bool found = n >= plen && memcmp(s->buf, prefix, plen) == 0;
            if (found && line && cap > 0) {
                size_t k = n < cap - 1 ? n : cap - 1;
                memcpy(line, s->buf, k);
                line[k] = '\0';
            }
            memmove(s->buf, nl + 1, s->len - n - 1);
            s->len -= n + 1;
            if (found)
                return 0;
        }
        if (s->eof) {
            snprintf(s->error, sizeof s->error, "the child closed its stdout (exited?) before "
                     "printing a \"%s\" line", prefix);
            return -1;
        }
        if (s->len == sizeof s->buf)
            s->len = 0;   /* an overlong line: dropped */
        long long left = deadline - spawn_now_ms();
        if (left <= 0) {
            snprintf(s->error, sizeof s->error, "no \"%s\" line within %d ms", prefix, timeout_ms);
            return -1;
        }
        struct pollfd pfd;
        pfd.fd = s->out_fd;
        pfd.events = POLLIN;
        pfd.revents = 0;
        int r = poll(&pfd, 1, (int)left);
        if (r < 0 && errno != EINTR) {
            snprintf(s->error, sizeof s->error, "poll: %s", strerror(errno));
            return -1;
        }
        if (r <= 0)
            continue;   /* EINTR or timeout: the deadline check decides */
        ssize_t got = read(s->out_fd, s->buf + s->len, sizeof s->buf - s->len);
        if (got < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (got <= 0) {
            s->eof = true;   /* a last line without a newline still counts */
            if (s->len > 0)
                s->buf[s->len++] = '\n';
            continue;
        }
        s->len += (size_t)got;
    }
}

int gj_spawn_wait_ports(gj_spawned *s, int nports, int timeout_ms)
{
    if (nports > GJ_SPAWN_MAX_PORTS) {
        snprintf(s->error, sizeof s->error, "at most %d ports", GJ_SPAWN_MAX_PORTS);
        return -1;
    }
    long long deadline = spawn_now_ms() + timeout_ms;
    while (s->nports < nports) {
        char line[64];
        long long left = deadline - spawn_now_ms();
        if (gj_spawn_read_line(s, "PORT ", left > 0 ? (int)left : 0, line, sizeof line) != 0)
            return -1;
        char *end;
        long port = strtol(line + 5, &end, 10);
        if (end == line + 5 || port <= 0 || port > 65535) {
            snprintf(s->error, sizeof s->error, "bad port line \"%s\"", line);
            return -1;
        }
        s->ports[s->nports++] = (int)port;
    }
    return 0;
}

int gj_spawn_server(gj_spawned *s, const char *program, const char *const args[],
                    const char *stderr_path, int nports, int timeout_ms)
{
    if (gj_spawn_start(s, program, args, NULL, stderr_path) != 0)
        return -1;
    if (gj_spawn_wait_ports(s, nports, timeout_ms) == 0)
        return 0;
    char why[sizeof s->error];
    memcpy(why, s->error, sizeof why);
    gj_spawn_stop(s, SIGKILL, 0);
    snprintf(s->error, sizeof s->error, "%.200s: %.300s", program, why);
    return -1;
}

/* Wait up to grace_ms for pid to exit, then SIGKILL it; reap it.  The wait
 * status, or -1 when it was no child of ours. */
static int reap_within(pid_t pid, int grace_ms)
{
    long long deadline = spawn_now_ms() + grace_ms;
    int status = 0;
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            return status;
        if (r < 0 && errno != EINTR)
            return -1;
        if (spawn_now_ms() >= deadline)
            break;
        spawn_sleep_ms(2);
    }
    kill(pid, SIGKILL);
    for (;;) {
        pid_t r = waitpid(pid, &status, 0);
        if (r == pid)
            return status;
        if (r < 0 && errno != EINTR)
            return -1;
    }
}

int gj_spawn_kill_pid(pid_t pid, int sig, int grace_ms)
{
    if (pid <= 0)
        return -1;
    kill(pid, sig);
    return reap_within(pid, sig == SIGKILL ? 0 : grace_ms);
}

static void close_out(gj_spawned *s)
{
    if (s->out_fd >= 0)
        close(s->out_fd);
    s->out_fd = -1;
    s->len = 0;
}

int gj_spawn_stop(gj_spawned *s, int sig, int grace_ms)
{
    pid_t pid = s->pid;
    s->pid = -1;
    int status = gj_spawn_kill_pid(pid, sig, grace_ms);
    close_out(s);
    return status;
}

int gj_spawn_wait(gj_spawned *s, int timeout_ms)
{
    pid_t pid = s->pid;
    s->pid = -1;
    int status = pid > 0 ? reap_within(pid, timeout_ms) : -1;
    close_out(s);
    return status >= 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int gj_spawn_build_path(char *out, size_t cap, const char *rel)
{
    const char *dir = getenv("GJ_BUILDDIR");
#ifdef GJ_BUILDDIR
    if (!dir || !*dir)
        dir = GJ_BUILDDIR;
#endif
    if (!dir || !*dir)
        dir = ".";
    int n = snprintf(out, cap, "%s/%s", dir, rel);
    if (n < 0 || (size_t)n >= cap)
        return -1;
    return access(out, X_OK) == 0 ? 0 : -1;
}
