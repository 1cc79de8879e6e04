/* fault.c — fault injection: --fault KIND[:on=MSG,after=N,count=M,secs=S,query=TEXT,member=I]
 *
 *   close-mid-stream  during a PULL, close the socket after `after` records (default 0)
 *   stall             before answering `on` (default PULL), wait `secs` (default: until
 *                     the client closes or sends RESET)
 *   garbage           answer `on` (default RUN) with bytes that are not a Bolt message
 *   close             close the socket on receiving `on` (default RUN; HELLO and LOGON too)
 *   refuse            answer `on` (default HELLO) with FAILURE {code, message} and close
 *                     (code=C default Neo.TransientError.General.DatabaseUnavailable,
 *                     message=TEXT, no commas)
 *
 * `after` (for stall, garbage, close) lets that many matching messages pass
 * first; `count` limits how often it fires (default unlimited); `query`
 * restricts it to statements containing the text; `member` to one listener.
 * Counters are shared by all connections. */
#include "bs.h"

#include <stdlib.h>
#include <string.h>

static const struct {
    const char *name;
    uint8_t tag;
} msg_names[] = {
    { "HELLO", GJ_BOLT_HELLO }, { "LOGON", GJ_BOLT_LOGON }, { "RUN", GJ_BOLT_RUN },
    { "PULL", GJ_BOLT_PULL }, { "DISCARD", GJ_BOLT_DISCARD }, { "BEGIN", GJ_BOLT_BEGIN },
    { "COMMIT", GJ_BOLT_COMMIT }, { "ROLLBACK", GJ_BOLT_ROLLBACK }, { "ROUTE", GJ_BOLT_ROUTE },
    { "RESET", GJ_BOLT_RESET }, { "ANY", 0 },
};

static int parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

int bs_fault_parse(const char *spec, bs_fault *f, char *errbuf, size_t errlen)
{
    char buf[512];
    if (strlen(spec) >= sizeof buf) {
        snprintf(errbuf, errlen, "fault spec too long");
        return -1;
    }
    strcpy(buf, spec);
    memset(f, 0, sizeof *f);
    f->count = -1;
    f->member = -1;
    char *opts = strchr(buf, ':');
    if (opts)
        *opts++ = '\0';
    if (!strcmp(buf, "close-mid-stream")) {
        f->kind = BS_FAULT_CLOSE_MID_STREAM;
        f->on = GJ_BOLT_PULL;
    } else if (!strcmp(buf, "stall")) {
        f->kind = BS_FAULT_STALL;
        f->on = GJ_BOLT_PULL;
    } else if (!strcmp(buf, "garbage")) {
        f->kind = BS_FAULT_GARBAGE;
        f->on = GJ_BOLT_RUN;
    } else if (!strcmp(buf, "close")) {
        f->kind = BS_FAULT_CLOSE;
        f->on = GJ_BOLT_RUN;
    } else if (!strcmp(buf, "refuse")) {
        f->kind = BS_FAULT_REFUSE;
        f->on = GJ_BOLT_HELLO;
        snprintf(f->code, sizeof f->code, "Neo.TransientError.General.DatabaseUnavailable");
        snprintf(f->message, sizeof f->message, "The database is not available.");
    } else {
        snprintf(errbuf, errlen, "unknown fault kind '%s'", buf);
        return -1;
    }
    char *save = NULL;
    for (char *kv = opts ? strtok_r(opts, ",", &save) : NULL; kv; kv = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(kv, '=');
        if (!eq) {
            snprintf(errbuf, errlen, "fault option '%s' has no value", kv);
            return -1;
        }
        *eq++ = '\0';
        int bad = 0;
        if (!strcmp(kv, "on")) {
            bad = 1;
            for (size_t i = 0; i < sizeof msg_names / sizeof msg_names[0]; i++)
                if (!strcmp(eq, msg_names[i].name)) {
                    f->on = msg_names[i].tag;
                    bad = 0;
                }
        } else if (!strcmp(kv, "after")) {
            bad = parse_long(eq, 0, 1L << 40, &f->after);
        } else if (!strcmp(kv, "count")) {
            bad = parse_long(eq, 0, 1L << 40, &f->count);
        } else if (!strcmp(kv, "member")) {
            long m = -1;
            bad = parse_long(eq, 0, BS_MAX_MEMBERS - 1, &m);
            f->member = (int)m;
        } else if (!strcmp(kv, "secs")) {
            char *end;
            f->secs = strtod(eq, &end);
            bad = end == eq || *end || f->secs < 0 || f->secs > 86400;
        } else if (!strcmp(kv, "code") || !strcmp(kv, "message")) {
            char *dst = !strcmp(kv, "code") ? f->code : f->message;
            bad = strlen(eq) >= BS_NAME_MAX;
            if (!bad)
                strcpy(dst, eq);
        } else if (!strcmp(kv, "query")) {
            bad = strlen(eq) >= sizeof f->query;
            if (!bad)
                strcpy(f->query, eq);
        } else {
            snprintf(errbuf, errlen, "unknown fault option '%s'", kv);
            return -1;
        }
        if (bad) {
            snprintf(errbuf, errlen, "bad value for fault option '%s': '%s'", kv, eq);
            return -1;
        }
    }
    return 0;
}

bs_fault *bs_fault_take(bs_fault *faults, size_t n, bs_fault_kind kind, uint8_t tag,
                        const char *query, int member)
{
    for (size_t i = 0; i < n; i++) {
        bs_fault *f = &faults[i];
        if (f->kind != kind || (f->on && f->on != tag) || (f->member >= 0 && f->member != member))
            continue;
        if (f->query[0] && (!query || !strstr(query, f->query)))
            continue;
        long seen = atomic_fetch_add(&f->seen, 1);
        if (kind != BS_FAULT_CLOSE_MID_STREAM && seen < f->after)
            continue;
        if (f->count >= 0 && atomic_fetch_add(&f->fired, 1) >= f->count)
            continue;
        return f;
    }
    return NULL;
}
