/*
 * libFuzzer target: the Bolt client's whole response handling — handshake
 * (plain version word or manifest v1), HELLO / LOGON, RUN + PULL streaming,
 * FAILURE / IGNORED / RESET, DISCARD after a stopping row callback,
 * transactions — through the backend's vtable, on a real socket.
 *
 * Input: byte 0 chooses the client's side (below); the rest is what the
 * server sends, as it would come: the handshake answer word, then chunked
 * messages.  Per input a server thread accepts connections on a loopback
 * listener (opened once, on a port the kernel picks); on each it writes
 * those bytes while reading and discarding whatever the client sends, then
 * shuts its sending side and reads until the client closes.  So every wait
 * of the client ends: with the bytes it expects, or with "closed by the
 * server".  Meanwhile this thread calls gj_bolt_backend.connect (deadlines
 * 200 ms), then, when connected, execute of a request and close.  As the
 * server has closed its side by then, execute first opens the session again
 * (the path of a connection the server closed while pooled) and reads the
 * same bytes from the start on the new connection.  Nothing sleeps, and
 * nothing waits on a clock except the client's own deadlines.
 *
 * Byte 0:
 *   bits 0-1  request: 0 query "RETURN 1"; 1 the same with fetch_size 2;
 *             2 a row callback that stops after the first row (DISCARD or
 *             RESET); 3 op "transaction" with two statements (max_retries 0)
 *   bit 2     max_message_size 256 bytes (GJ_ETOOBIG paths)
 *   bit 3     credentials: a password alone (bearer) instead of user + password
 *   bit 4     option discard (DISCARD instead of PULL)
 *   bit 5     the target's database "neo4j"
 *   bit 6     a request parameter (a map with a list)
 * With GJ_FUZZ_VERBOSE set in the environment each run prints its outcome
 * to stderr (to check that the seed corpus gets where it should).
 *
 * Seed corpus: tests/fuzz/corpus/bolt_session/, written by
 * tests/fuzz/gen_bolt_session_corpus.py (see there).
 *
 * Build: configure --enable-fuzzing CC=clang CXX=clang++; make tests/fuzz/bolt_session_fuzz
 * Run:   tests/fuzz/bolt_session_fuzz -max_total_time=60 $(srcdir)/tests/fuzz/corpus/bolt_session
 */
#include "backend/bolt/bolt.h"

#include <graphjob.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CLIENT_DEADLINE_MS 200

static int listen_fd = -1;
static int listen_port;
static bool verbose;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    struct sockaddr_in a;
    socklen_t alen = sizeof a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        listen(listen_fd, 4) != 0 || getsockname(listen_fd, (struct sockaddr *)&a, &alen) != 0) {
        perror("bolt_session_fuzz: loopback listener");
        abort();
    }
    listen_port = ntohs(a.sin_port);
    verbose = getenv("GJ_FUZZ_VERBOSE") != NULL;
    return 0;
}

/* ---- the server side ------------------------------------------------------ */

typedef struct server_run {
    const uint8_t *bytes;
    size_t len;
    int stop_fd;   /* readable when the client is done (it may never have connected) */
} server_run;

/* Send the bytes (reading whatever the client sends meanwhile), shut the
 * sending side, then read until the client closes.  False when the client
 * is done (stop_fd). */
static bool serve_one(const server_run *run, int fd)
{
    size_t sent = 0;
    bool shut = false;
    uint8_t discard[4096];
    for (;;) {
        if (sent == run->len && !shut) {
            shutdown(fd, SHUT_WR);
            shut = true;
        }
        struct pollfd q[2] = { { fd, (short)(POLLIN | (shut ? 0 : POLLOUT)), 0 },
                               { run->stop_fd, POLLIN, 0 } };
        if (poll(q, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            return false;
        }
        if (q[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t n = recv(fd, discard, sizeof discard, MSG_DONTWAIT);
            if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
                return true;   /* the client closed this connection */
        }
        if (!shut && (q[0].revents & POLLOUT)) {
            ssize_t n = send(fd, run->bytes + sent, run->len - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n > 0)
                sent += (size_t)n;
            else if (n < 0 && errno != EINTR && errno != EAGAIN)
                return true;
        }
        if (q[1].revents)
            return false;
    }
}

/* Serve every connection of this run, one at a time, each with the whole
 * input: the client opens a second one when it finds the first closed by
 * the server as execute() starts (a session the server closed while idle
 * is opened again), and that one then carries the request. */
static void *serve(void *arg)
{
    server_run *run = arg;
    for (;;) {
        struct pollfd p[2] = { { listen_fd, POLLIN, 0 }, { run->stop_fd, POLLIN, 0 } };
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            return NULL;
        }
        if (p[1].revents)
            return NULL;
        if (!p[0].revents)
            continue;
        int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
            return NULL;
        bool more = serve_one(run, fd);
        close(fd);
        if (!more)
            return NULL;
    }
}

/* ---- the client side ------------------------------------------------------ */

typedef struct row_counter {
    unsigned seen, stop_after;
} row_counter;

static int on_row(const gj_value *row, void *payload)
{
    row_counter *rc = payload;
    if (row == NULL)
        abort();
    rc->seen++;
    return rc->stop_after != 0 && rc->seen >= rc->stop_after;
}

static gj_request *make_request(uint8_t mode)
{
    gj_request *req = NULL;
    int rc;
    if ((mode & 3) == 3) {
        rc = gj_request_new(&req, "transaction", "RETURN 3 AS n");
        if (rc == 0) {
            gj_value *list = NULL;
            if (gj_value_new_list(&list, 2) == 0) {
                gj_value_list_append(list, gj_value_string("CREATE (:T)"));
                gj_value_list_append(list, gj_value_string("RETURN 2 AS n"));
                gj_request_set_option(req, "statements", list);
            }
            gj_request_set_option(req, "max_retries", gj_value_int(0));
        }
    } else {
        rc = gj_request_new_query(&req, "RETURN 1 AS n");
    }
    if (rc != 0)
        return NULL;
    if ((mode & 3) == 1)
        gj_request_set_option(req, "fetch_size", gj_value_int(2));
    if (mode & 0x10)
        gj_request_set_option(req, "discard", gj_value_bool(true));
    if (mode & 0x40) {
        gj_value *map = NULL, *list = NULL;
        if (gj_value_new_map(&map, 1) == 0 && gj_value_new_list(&list, 2) == 0) {
            gj_value_list_append(list, gj_value_int(1));
            gj_value_list_append(list, gj_value_string("two"));
            gj_value_map_put_str(map, "xs", list);
            list = NULL;
        }
        gj_value_unref(list);
        if (map != NULL)
            gj_request_set_param(req, "p", map);
    }
    return req;
}

static void check_failure(int rc, gj_error *err, const char *where)
{
    /* Every failure is a GJ_E* code with a message. */
    if (rc >= 0 || gj_error_message(err)[0] == '\0') {
        fprintf(stderr, "bolt_session_fuzz: %s returned %d with message \"%s\"\n", where, rc,
                gj_error_message(err));
        abort();
    }
}

static void run_client(uint8_t mode)
{
    gj_target_settings ts;
    memset(&ts, 0, sizeof ts);
    gj__target_settings_init(&ts);
    char scheme[] = "bolt", backend[] = "bolt", user[] = "neo4j", password[] = "secret",
         database[] = "neo4j";
    ts.scheme = scheme;
    ts.backend = backend;
    ts.username = (mode & 8) ? NULL : user;
    ts.password = password;
    if (mode & 0x20)
        ts.database = database;
    if (mode & 4)
        ts.max_message_size = 256;
    ts.response_timeout_ms = CLIENT_DEADLINE_MS;
    ts.connect_timeout_ms = CLIENT_DEADLINE_MS;

    gj_error *err = gj_error_new();
    if (err == NULL)
        return;
    char host[] = "127.0.0.1";
    gj_endpoint ep = { host, listen_port, 0 };
    gj_conn *c = NULL;
    int rc = gj_bolt_backend.connect(&c, &ep, &ts, NULL, NULL, gj__now_ms() + CLIENT_DEADLINE_MS,
                                     err);
    if (verbose)
        fprintf(stderr, "connect: %s %s\n", gj_code_name(rc), rc ? gj_error_message(err) : "");
    if (rc != 0) {
        check_failure(rc, err, "connect");
        if (c != NULL)
            abort();
        gj_error_free(err);
        return;
    }
    gj_request *req = make_request(mode);
    row_counter counter = { 0, 1 };
    gj_sink *sink = NULL;
    if (req != NULL &&
        gj__sink_new(&sink, (mode & 3) == 2 ? on_row : NULL, &counter) == 0) {
        gj_error_clear(err);
        rc = gj_bolt_backend.execute(c, req, sink, err);
        if (verbose)
            fprintf(stderr, "execute: %s %s (rows to the callback: %u)\n", gj_code_name(rc),
                    rc ? gj_error_message(err) : "", counter.seen);
        if (rc != 0) {
            check_failure(rc, err, "execute");
        } else {
            gj_result *res = NULL;
            if (gj__sink_take_result(sink, &res) == 0) {
                if (verbose)
                    fprintf(stderr, "result: %zu rows\n", gj_result_row_count(res));
                char *text = NULL;
                if (gj_result_to_json(res, GJ_JSON_TYPED, &text, NULL) == 0)
                    gj_free(text);
                gj_result_free(res);
            }
        }
        if (gj_bolt_backend.settle != NULL)
            gj_bolt_backend.settle(c, gj__now_ms() + CLIENT_DEADLINE_MS);
        (void)gj_bolt_backend.usable(c);
        gj__sink_free(sink);
    }
    gj_request_unref(req);
    gj_bolt_backend.close(c);
    gj_error_free(err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int stop[2];
    if (pipe2(stop, O_CLOEXEC) != 0)
        abort();
    server_run run = { data + 1, size - 1, stop[0] };
    pthread_t server;
    if (pthread_create(&server, NULL, serve, &run) != 0)
        abort();
    run_client(data[0]);
    /* The client closed its socket (or never connected): end the server. */
    if (write(stop[1], "x", 1) != 1)
        abort();
    pthread_join(server, NULL);
    close(stop[0]);
    close(stop[1]);
    /* A connection the server never took (a client that gave up while it
     * was queued) must not be served the next input's bytes. */
    struct pollfd p = { listen_fd, POLLIN, 0 };
    while (poll(&p, 1, 0) == 1 && (p.revents & POLLIN)) {
        int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
            break;
        close(fd);
    }
    return 0;
}
