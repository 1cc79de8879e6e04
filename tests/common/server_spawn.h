/*
 * Starting a reference server (or any helper program) from a test or a
 * benchmark, and stopping it: written once for bench/ and tests/.
 *
 * Plain C11 (it also compiles as C++: tests/integration/server_process.cc
 * includes the .c), no dependency on libgraphjob, no heap allocation of its
 * own (a test that counts or fails the program's allocations does not see
 * it; libc's posix_spawn helpers allocate inside libc).
 *
 *   gj_spawn_server   posix_spawnp a program with its stdout on a pipe and
 *                     its stderr on a file (or /dev/null, or inherited), then
 *                     wait up to a timeout for N "PORT <n>" lines;
 *   gj_spawn_stop     SIGTERM (or another signal), then SIGKILL after a grace
 *                     period, and reap;
 *   gj_spawn_build_path  a program of the build tree (GJ_BUILDDIR).
 *
 * The lower-level calls (gj_spawn_start, gj_spawn_read_line, gj_spawn_wait)
 * serve programs that print something else than ports (node scripts,
 * valgrind runs).
 *
 * Threads: a gj_spawned is used by one thread at a time.  Signal handlers may
 * read its `pid` and kill() it; nothing else here is async-signal-safe.
 */
#ifndef GJ_TESTS_SERVER_SPAWN_H
#define GJ_TESTS_SERVER_SPAWN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GJ_SPAWN_MAX_PORTS 16
#define GJ_SPAWN_MAX_ARGS 62

/* stderr_path values besides a file name. */
#define GJ_SPAWN_STDERR_NULL NULL   /* /dev/null */
#define GJ_SPAWN_STDERR_INHERIT "-" /* the parent's stderr */

typedef struct gj_spawned {
    pid_t pid;              /* > 0 while the child has not been reaped */
    int out_fd;             /* read end of the child's stdout, or -1 */
    bool eof;               /* the child closed its stdout */
    int nports;             /* "PORT n" lines read so far */
    int ports[GJ_SPAWN_MAX_PORTS];
    size_t len;             /* bytes of stdout read but not consumed yet */
    char buf[4096];
    char error[512];        /* why the last call failed */
} gj_spawned;

/* posix_spawnp `program` (searched in PATH when it has no '/') with the
 * NULL-terminated `args` after it (at most GJ_SPAWN_MAX_ARGS), stdin
 * inherited (a test may make its fd 0 a pipe to command the server), stdout
 * on a pipe (s->out_fd) and stderr to stderr_path
 * (GJ_SPAWN_STDERR_NULL, GJ_SPAWN_STDERR_INHERIT or a file, created or
 * truncated).  envp NULL: this process's environment.  Returns 0, or -1
 * with s->error set (nothing then runs). */
int gj_spawn_start(gj_spawned *s, const char *program, const char *const args[],
                   const char *const envp[], const char *stderr_path);

/* Read the child's stdout until a line that starts with `prefix` arrives
 * (copied without its newline into line[cap]; lines before it are
 * dropped), the child closes its stdout (s->eof is then set), or
 * timeout_ms pass.  Returns 0 when found, -1 otherwise (s->error says
 * which).  An empty prefix matches every line. */
int gj_spawn_read_line(gj_spawned *s, const char *prefix, int timeout_ms, char *line, size_t cap);

/* Read "PORT <n>" lines until s->nports reaches `nports` (at most
 * GJ_SPAWN_MAX_PORTS).  Returns 0, or -1 (timeout, EOF, a bad port). */
int gj_spawn_wait_ports(gj_spawned *s, int nports, int timeout_ms);

/* gj_spawn_start + gj_spawn_wait_ports: a server that prints its ports on
 * stdout.  On failure the child is stopped (SIGKILL) and reaped, and -1
 * returned with s->error set.  The read end of the pipe stays open while
 * the server runs, so that a late write to its stdout does not kill it. */
int gj_spawn_server(gj_spawned *s, const char *program, const char *const args[],
                    const char *stderr_path, int nports, int timeout_ms);

/* Send `sig` (SIGTERM to ask, SIGKILL to end at once), wait up to grace_ms
 * for the child to exit, then SIGKILL it; reap it and close out_fd.
 * Returns its wait status (see waitpid), or -1 when there was no child.
 * Idempotent. */
int gj_spawn_stop(gj_spawned *s, int sig, int grace_ms);

/* Wait up to timeout_ms for the child to exit on its own, then SIGKILL it;
 * reap it and close out_fd.  Returns its exit code (0-255), or -1 when it
 * was killed, died of a signal or there was no child. */
int gj_spawn_wait(gj_spawned *s, int timeout_ms);

/* The same by process id only (for a child whose gj_spawned is gone):
 * `sig`, up to grace_ms, SIGKILL, reap.  Returns the wait status or -1. */
int gj_spawn_kill_pid(pid_t pid, int sig, int grace_ms);

/* out = "<build dir>/<rel>", the build dir taken from the environment's
 * GJ_BUILDDIR, else from the GJ_BUILDDIR macro this file was compiled with,
 * else ".".  Returns 0 when out names an executable file, -1 when it does
 * not or does not fit (out holds the path, or as much as fits). */
int gj_spawn_build_path(char *out, size_t cap, const char *rel);

#ifdef __cplusplus
}
#endif

#endif
