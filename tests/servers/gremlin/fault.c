/* fault.c — fault injection: --fault KIND[:OPTION=VALUE,...]
 *
 *   drop[:after=K,count=N]
 *        on each connection, once K response frames (default 0) were written,
 *        shut the TCP connection down (no close frame) instead of writing the
 *        next one: a drop in the middle of a 206 stream.  count: connections
 *        dropped (default unlimited).
 *   stall[:secs=S,after=K,count=N,script=TEXT]
 *        hold a request S seconds (default 0 = until the connection closes)
 *        before processing it: the server stops answering it.
 *   oversized[:bytes=N,after=K,count=N,script=TEXT]
 *        answer a request with one 200 frame whose data is a string of N
 *        bytes (default 17 MiB): a frame larger than the client allows.
 *   pace[:ms=M,after=K,count=N,script=TEXT]
 *        send the result frames of a request M ms apart (default 100): a
 *        206 stream that lasts, to cancel or drop in the middle of.
 *
 * For stall, oversized and pace, `after` lets that many matching requests pass
 * first, `count` limits how often it fires (default unlimited) and `script`
 * restricts it to requests whose script contains the text.  Counters are
 * shared by all connections (one thread). */
#include "gs.h"

#include <stdlib.h>
#include <string.h>

static int parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

int gs_fault_parse(const char *spec, gs_fault *f, char *errbuf, size_t errlen)
{
    char buf[512];
    if (strlen(spec) >= sizeof buf) {
        snprintf(errbuf, errlen, "fault spec too long");
        return -1;
    }
    strcpy(buf, spec);
    memset(f, 0, sizeof *f);
    f->count = -1;
    f->bytes = 17u << 20;
    f->ms = 100;
    char *opts = strchr(buf, ':');
    if (opts)
        *opts++ = '\0';
    if (!strcmp(buf, "drop"))
        f->kind = GS_FAULT_DROP;
    else if (!strcmp(buf, "stall"))
        f->kind = GS_FAULT_STALL;
    else if (!strcmp(buf, "oversized"))
        f->kind = GS_FAULT_OVERSIZED;
    else if (!strcmp(buf, "pace"))
        f->kind = GS_FAULT_PACE;
    else {
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
        long v = 0;
        if (!strcmp(kv, "after")) {
            bad = parse_long(eq, 0, 1L << 40, &f->after);
        } else if (!strcmp(kv, "count")) {
            bad = parse_long(eq, 0, 1L << 40, &f->count);
        } else if (!strcmp(kv, "secs") && f->kind == GS_FAULT_STALL) {
            char *end;
            f->secs = strtod(eq, &end);
            bad = end == eq || *end || !(f->secs >= 0 && f->secs <= 86400);
        } else if (!strcmp(kv, "bytes") && f->kind == GS_FAULT_OVERSIZED) {
            bad = parse_long(eq, 1, 1L << 30, &v);
            f->bytes = (size_t)v;
        } else if (!strcmp(kv, "ms") && f->kind == GS_FAULT_PACE) {
            bad = parse_long(eq, 0, 3600000L, &f->ms);
        } else if (!strcmp(kv, "script") && f->kind != GS_FAULT_DROP) {
            bad = strlen(eq) >= sizeof f->script;
            if (!bad)
                strcpy(f->script, eq);
        } else {
            snprintf(errbuf, errlen, "unknown option '%s' for this fault", kv);
            return -1;
        }
        if (bad) {
            snprintf(errbuf, errlen, "bad value for fault option '%s': '%s'", kv, eq);
            return -1;
        }
    }
    return 0;
}

gs_fault *gs_fault_take(gs_fault *faults, size_t n, gs_fault_kind kind, const char *script)
{
    for (size_t i = 0; i < n; i++) {
        gs_fault *f = &faults[i];
        if (f->kind != kind)
            continue;
        if (f->script[0] && (!script || !strstr(script, f->script)))
            continue;
        if (f->seen++ < f->after)
            continue;
        if (f->count >= 0 && f->fired >= f->count)
            continue;
        f->fired++;
        return f;
    }
    return NULL;
}
