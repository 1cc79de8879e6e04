/*
 * graphjob — where queries come from.
 *
 * Sources are read in the order they were added: a query text (an
 * argument), a file or stdin cut into statements, or a file taken whole
 * (@file).  Files and stdin are read in chunks as the run needs queries, so
 * a script of a million statements is never in memory at once, and stdin
 * from a terminal or a slow pipe does not hold up the printing of results
 * (gjt_input_next answers GJT_INPUT_WAIT instead of blocking).
 *
 * Splitting follows cypher-shell: a statement ends at ';' outside strings
 * ('...', "..." with backslash escapes), quoted names (`...`) and comments
 * (// to the end of the line, / * ... * /); the ';' is not part of it, and
 * comments are left out of it, as cypher-shell does (a block comment
 * becomes a space).  Statements that are only blanks and comments are
 * skipped.  The scanner keeps its state between chunks, and compacts the
 * statement in place as it goes (out <= pos).
 */
#include "graphjob.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef enum source_kind { SRC_TEXT, SRC_SPLIT, SRC_WHOLE } source_kind;

typedef struct source {
    source_kind kind;
    char *arg;              /* text, or path ("-" = stdin) */
} source;

typedef enum scan_state { S_CODE, S_SQUOTE, S_DQUOTE, S_BACKTICK, S_LINE_COMMENT, S_BLOCK_COMMENT } scan_state;

typedef struct scanner {
    char *buf;
    size_t len, cap;
    size_t pos;             /* scanned up to here; the statement starts at 0 */
    size_t out;             /* the statement without its comments: buf[0, out) */
    scan_state state;
    bool escape;            /* the last byte was a backslash inside a string */
    bool content;           /* the statement has something besides blanks and comments */
} scanner;

struct gjt_input {
    bool split;
    source *sources;
    size_t n, cap;
    size_t cur;             /* the source being read */
    int fd;                 /* its descriptor (SRC_SPLIT), or -1 */
    bool opened;
    bool eof;
    scanner sc;
};

int gjt_input_new(gjt_input **out, bool split)
{
    gjt_input *in = calloc(1, sizeof *in);
    if (!in)
        return GJ_ENOMEM;
    in->split = split;
    in->fd = -1;
    *out = in;
    return 0;
}

void gjt_input_free(gjt_input *in)
{
    if (!in)
        return;
    for (size_t i = 0; i < in->n; i++)
        free(in->sources[i].arg);
    free(in->sources);
    if (in->fd > 0)
        close(in->fd);
    free(in->sc.buf);
    free(in);
}

static int add(gjt_input *in, source_kind kind, const char *arg)
{
    if (in->n == in->cap) {
        size_t cap = in->cap ? in->cap * 2 : 8;
        source *s = realloc(in->sources, cap * sizeof *s);
        if (!s)
            return GJ_ENOMEM;
        in->sources = s;
        in->cap = cap;
    }
    char *copy = strdup(arg);
    if (!copy)
        return GJ_ENOMEM;
    in->sources[in->n].kind = kind;
    in->sources[in->n].arg = copy;
    in->n++;
    return 0;
}

int gjt_input_add_text(gjt_input *in, const char *text) { return add(in, SRC_TEXT, text); }
int gjt_input_add_file(gjt_input *in, const char *path) { return add(in, SRC_SPLIT, path); }
int gjt_input_add_file_whole(gjt_input *in, const char *path) { return add(in, SRC_WHOLE, path); }

bool gjt_input_reads_tty(const gjt_input *in)
{
    for (size_t i = 0; i < in->n; i++)
        if (in->sources[i].kind != SRC_TEXT && strcmp(in->sources[i].arg, "-") == 0)
            return isatty(0);
    return false;
}

int gjt_input_fd(const gjt_input *in)
{
    return in->cur < in->n && in->opened && !in->eof ? in->fd : -1;
}

/* ---- the scanner ------------------------------------------------------------ */

static bool blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Scan sc->buf from sc->pos, copying what is not a comment down to
 * sc->out.  Returns the offset of the ending ';' of a statement, or
 * (size_t)-1 when the buffer ends first.  With `more` (bytes may follow) a
 * '/' or '*' at the very end is left for the next chunk, since it may start
 * or end a comment. */
static size_t scan(scanner *sc, bool more)
{
    while (sc->pos < sc->len) {
        char c = sc->buf[sc->pos];
        char next = sc->pos + 1 < sc->len ? sc->buf[sc->pos + 1] : '\0';
        bool at_end = sc->pos + 1 == sc->len;
        bool keep = true;
        switch (sc->state) {
        case S_CODE:
            if (c == ';')
                return sc->pos;
            if (c == '/') {
                if (at_end && more)
                    return (size_t)-1;
                if (next == '/' || next == '*') {
                    sc->state = next == '/' ? S_LINE_COMMENT : S_BLOCK_COMMENT;
                    sc->pos += 2;
                    continue;
                }
            }
            if (c == '\'')
                sc->state = S_SQUOTE;
            else if (c == '"')
                sc->state = S_DQUOTE;
            else if (c == '`')
                sc->state = S_BACKTICK;
            if (!blank(c))
                sc->content = true;
            break;
        case S_SQUOTE:
        case S_DQUOTE:
            if (sc->escape)
                sc->escape = false;
            else if (c == '\\')
                sc->escape = true;
            else if (c == (sc->state == S_SQUOTE ? '\'' : '"'))
                sc->state = S_CODE;
            break;
        case S_BACKTICK:
            if (c == '`')
                sc->state = S_CODE;
            break;
        case S_LINE_COMMENT:
            if (c == '\n')
                sc->state = S_CODE;     /* the newline stays */
            else
                keep = false;
            break;
        case S_BLOCK_COMMENT:
            keep = false;
            if (c == '*') {
                if (at_end && more)
                    return (size_t)-1;
                if (next == '/') {
                    sc->state = S_CODE;
                    sc->buf[sc->out++] = ' ';
                    sc->pos += 2;
                    continue;
                }
            }
            break;
        }
        if (keep)
            sc->buf[sc->out++] = c;
        sc->pos++;
    }
    return (size_t)-1;
}

/* The statement buf[0, end) trimmed, as a new string; the scanner then
 * starts after `consumed` bytes. */
static char *take(scanner *sc, size_t end, size_t consumed)
{
    size_t a = 0, b = end;
    while (a < b && blank(sc->buf[a]))
        a++;
    while (b > a && blank(sc->buf[b - 1]))
        b--;
    char *s = NULL;
    if (sc->content) {
        s = malloc(b - a + 1);
        if (s) {
            memcpy(s, sc->buf + a, b - a);
            s[b - a] = '\0';
        }
    }
    memmove(sc->buf, sc->buf + consumed, sc->len - consumed);
    sc->len -= consumed;
    sc->pos = 0;
    sc->out = 0;
    sc->state = S_CODE;
    sc->escape = false;
    sc->content = false;
    return s;
}

/* ---- reading ---------------------------------------------------------------- */

static int open_source(gjt_input *in, const source *src)
{
    if (strcmp(src->arg, "-") == 0) {
        in->fd = 0;
    } else {
        in->fd = open(src->arg, O_RDONLY | O_CLOEXEC);
        if (in->fd < 0) {
            gjt_error("%s: %s", src->arg, strerror(errno));
            return -1;
        }
    }
    in->opened = true;
    in->eof = false;
    return 0;
}

static void close_source(gjt_input *in)
{
    if (in->fd > 0)
        close(in->fd);
    in->fd = -1;
    in->opened = false;
    in->cur++;
}

static char *read_whole(const char *path)
{
    int fd = strcmp(path, "-") == 0 ? 0 : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        gjt_error("@%s: %s", path, strerror(errno));
        return NULL;
    }
    size_t len = 0, cap = 4096;
    char *buf = malloc(cap);
    for (;;) {
        if (!buf)
            break;
        if (len + 1 >= cap) {
            char *b = realloc(buf, cap * 2);
            if (!b) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = b;
            cap *= 2;
        }
        ssize_t r = read(fd, buf + len, cap - len - 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            gjt_error("@%s: %s", path, strerror(errno));
            free(buf);
            buf = NULL;
            break;
        }
        if (r == 0)
            break;
        len += (size_t)r;
    }
    if (fd > 0)
        close(fd);
    if (buf)
        buf[len] = '\0';
    else
        gjt_error("@%s: out of memory", path);
    return buf;
}

int gjt_input_next(gjt_input *in, char **text)
{
    *text = NULL;
    while (in->cur < in->n) {
        const source *src = &in->sources[in->cur];
        if (src->kind == SRC_TEXT) {
            *text = strdup(src->arg);
            in->cur++;
            return *text ? 1 : -1;
        }
        if (src->kind == SRC_WHOLE) {
            *text = read_whole(src->arg);
            in->cur++;
            return *text ? 1 : -1;
        }
        if (!in->opened && open_source(in, src) != 0)
            return -1;
        scanner *sc = &in->sc;
        for (;;) {
            if (in->split) {
                size_t end = scan(sc, !in->eof);
                if (end != (size_t)-1) {
                    bool content = sc->content;
                    char *s = take(sc, sc->out, end + 1);
                    if (content && !s)
                        return -1;
                    if (s) {
                        *text = s;
                        return 1;
                    }
                    continue;
                }
            }
            if (in->eof) {
                if (!in->split)
                    for (size_t i = 0; i < sc->len && !sc->content; i++)
                        sc->content = !blank(sc->buf[i]);
                if (in->split)
                    scan(sc, false);    /* a '/' or '*' left at the very end */
                char *s = take(sc, in->split ? sc->out : sc->len, sc->len);
                close_source(in);
                if (s) {
                    *text = s;
                    return 1;
                }
                break;     /* the next source */
            }
            /* More bytes: without blocking when they are not there yet. */
            struct pollfd p = { .fd = in->fd, .events = POLLIN };
            int pr = poll(&p, 1, 0);
            if (pr == 0)
                return GJT_INPUT_WAIT;
            if (sc->cap - sc->len < 65536) {
                size_t cap = sc->cap ? sc->cap * 2 : 131072;
                char *b = realloc(sc->buf, cap);
                if (!b) {
                    gjt_error("%s: out of memory", src->arg);
                    return -1;
                }
                sc->buf = b;
                sc->cap = cap;
            }
            ssize_t r = read(in->fd, sc->buf + sc->len, sc->cap - sc->len);
            if (r < 0 && (errno == EINTR || errno == EAGAIN))
                continue;
            if (r < 0) {
                gjt_error("%s: %s", strcmp(src->arg, "-") ? src->arg : "stdin", strerror(errno));
                return -1;
            }
            if (r == 0)
                in->eof = true;
            sc->len += (size_t)r;
        }
    }
    return 0;
}
