/*
 * Time zones for Bolt's zone-id datetimes, from the system's time-zone
 * database (TZif files under $TZDIR, else /usr/share/zoneinfo; RFC 8536,
 * with the POSIX TZ rule of the file's footer for instants after its last
 * transition).
 *
 * Bolt carries a datetime with a zone id as UTC seconds + the zone (5.x,
 * 4.4 with the utc patch) or as wall-clock seconds + the zone (4.4
 * without).  The codec asks this resolver (gj_ps_config.zone_offset) for
 * the zone's offset at the instant, or at the wall-clock time, so that both
 * forms become the same value: UTC seconds, the offset and the zone, which
 * prints as Neo4j does ("2024-02-29T13:14:15+01:00[Europe/Paris]").  A
 * wall-clock time that a zone skips (a DST gap) or repeats (an overlap)
 * resolves as java.time does: the earlier offset.
 *
 * Zones are read once per target (first use) and kept, immutable, in a list
 * on the gj_bolt_target (a mutex guards the list, not the lookups).  A zone
 * the database lacks is remembered as unknown: the codec then keeps what
 * the wire said (docs/bolt.md says what is known without the database).
 */
#include "backend/bolt/bolt.h"
#include "core/value_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TZ_FILE_MAX (1u << 20)     /* larger files are not zone files */
#define TZ_ZONES_MAX 256u          /* zones remembered per target */
#define TZ_NAME_MAX 128u

typedef struct rule_date {
    char kind;                     /* 'J' (1..365, no Feb 29), 'N' (0..365), 'M' (month.week.day) */
    int n, m, w, d;
} rule_date;

typedef struct tz_rule {
    bool present;
    int32_t std_off, dst_off;      /* seconds east of UTC */
    bool has_dst;
    rule_date start, end;
    int32_t start_time, end_time;  /* seconds after local midnight (standard / daylight) */
} tz_rule;

struct gj_bolt_zone {
    struct gj_bolt_zone *next;
    char name[TZ_NAME_MAX];
    bool known;
    size_t n_trans, n_types;
    int64_t *trans;                /* transition instants (UTC) */
    uint8_t *idx;                  /* type of each transition */
    int32_t *utoff;                /* offset of each type */
    tz_rule rule;                  /* the footer's, for instants after the last transition */
};

/* ---- the POSIX TZ rule of the footer --------------------------------------------- */

static const char *rule_name(const char *p)
{
    if (*p == '<') {
        while (*p && *p != '>')
            p++;
        return *p ? p + 1 : NULL;
    }
    const char *s = p;
    while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z'))
        p++;
    return p - s >= 3 ? p : NULL;
}

/* [+-]hh[:mm[:ss]] -> seconds (hours up to 167). */
static const char *rule_time(const char *p, int32_t *out)
{
    int sign = 1;
    if (*p == '+' || *p == '-')
        sign = *p++ == '-' ? -1 : 1;
    long parts[3] = { 0, 0, 0 };
    for (int i = 0; i < 3; i++) {
        if (*p < '0' || *p > '9')
            return i == 0 ? NULL : p;
        long v = 0;
        while (*p >= '0' && *p <= '9' && v < 1000)
            v = v * 10 + (*p++ - '0');
        parts[i] = v;
        if (*p != ':' || i == 2)
            break;
        p++;
    }
    if (parts[0] > 167 || parts[1] > 59 || parts[2] > 59)
        return NULL;
    *out = (int32_t)(sign * (parts[0] * 3600 + parts[1] * 60 + parts[2]));
    return p;
}

static const char *rule_date_parse(const char *p, rule_date *d)
{
    memset(d, 0, sizeof *d);
    char *end;
    if (*p == 'J' || (*p >= '0' && *p <= '9')) {
        d->kind = *p == 'J' ? 'J' : 'N';
        if (*p == 'J')
            p++;
        long n = strtol(p, &end, 10);
        if (end == p || n < (d->kind == 'J' ? 1 : 0) || n > 365)
            return NULL;
        d->n = (int)n;
        return end;
    }
    if (*p != 'M')
        return NULL;
    d->kind = 'M';
    long v[3];
    p++;
    for (int i = 0; i < 3; i++) {
        v[i] = strtol(p, &end, 10);
        if (end == p || (i < 2 && *end != '.'))
            return NULL;
        p = i < 2 ? end + 1 : end;
    }
    if (v[0] < 1 || v[0] > 12 || v[1] < 1 || v[1] > 5 || v[2] < 0 || v[2] > 6)
        return NULL;
    d->m = (int)v[0];
    d->w = (int)v[1];
    d->d = (int)v[2];
    return p;
}

static bool rule_parse(const char *s, tz_rule *r)
{
    memset(r, 0, sizeof *r);
    const char *p = rule_name(s);
    int32_t off;
    if (!p || !(p = rule_time(p, &off)))
        return false;
    r->std_off = -off;             /* POSIX counts west of Greenwich */
    r->present = true;
    if (!*p)
        return true;
    if (!(p = rule_name(p)))
        return false;
    r->has_dst = true;
    r->dst_off = r->std_off + 3600;
    if (*p && *p != ',') {
        if (!(p = rule_time(p, &off)))
            return false;
        r->dst_off = -off;
    }
    r->start_time = r->end_time = 7200;
    const char *dflt = ",M3.2.0,M11.1.0";   /* POSIX's default (the US rule) */
    if (!*p)
        p = dflt;
    if (*p++ != ',' || !(p = rule_date_parse(p, &r->start)))
        return false;
    if (*p == '/' && !(p = rule_time(p + 1, &r->start_time)))
        return false;
    if (*p++ != ',' || !(p = rule_date_parse(p, &r->end)))
        return false;
    if (*p == '/' && !(p = rule_time(p + 1, &r->end_time)))
        return false;
    return *p == '\0';
}

static int64_t days_of(int64_t year, unsigned month, unsigned day)
{
    int64_t d = 0;
    gj__days_from_civil(year, month, day, &d);
    return d;
}

static bool leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* The day number of a rule date in year y. */
static int64_t rule_day(int64_t y, const rule_date *d)
{
    if (d->kind == 'J')
        return days_of(y, 1, 1) + d->n - 1 + (leap(y) && d->n >= 60 ? 1 : 0);
    if (d->kind == 'N')
        return days_of(y, 1, 1) + d->n;
    int64_t first = days_of(y, (unsigned)d->m, 1);
    int64_t next = d->m == 12 ? days_of(y + 1, 1, 1) : days_of(y, (unsigned)d->m + 1, 1);
    int wd_first = (int)(((first % 7) + 7 + 4) % 7);   /* 1970-01-01 was a Thursday (4) */
    int64_t day = first + (d->d - wd_first + 7) % 7 + (int64_t)(d->w - 1) * 7;
    while (day >= next)
        day -= 7;
    return day;
}

static int32_t rule_offset(const tz_rule *r, int64_t t)
{
    if (!r->has_dst)
        return r->std_off;
    int64_t local = t + r->std_off;
    int64_t days = local / 86400 - (local % 86400 < 0 ? 1 : 0);
    int64_t y;
    unsigned m, d;
    gj__civil_from_days(days, &y, &m, &d);
    int64_t start = rule_day(y, &r->start) * 86400 + r->start_time - r->std_off;
    int64_t end = rule_day(y, &r->end) * 86400 + r->end_time - r->dst_off;
    bool dst = start < end ? (t >= start && t < end) : !(t >= end && t < start);
    return dst ? r->dst_off : r->std_off;
}

/* ---- TZif --------------------------------------------------------------------------- */

static uint32_t be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static uint64_t be64(const uint8_t *p)
{
    return ((uint64_t)be32(p) << 32) | be32(p + 4);
}

/* Parse a TZif file into z; false when it is not one. */
static bool tzif_parse(struct gj_bolt_zone *z, const uint8_t *data, size_t len)
{
    if (len < 44 || memcmp(data, "TZif", 4) != 0)
        return false;
    const uint8_t *h = data;
    size_t pos = 0;
    bool v2 = data[4] >= '2';
    for (int pass = 0; pass < (v2 ? 2 : 1); pass++) {
        if (len - pos < 44 || memcmp(data + pos, "TZif", 4) != 0)
            return false;
        h = data + pos;
        size_t isut = be32(h + 20), isstd = be32(h + 24), leapcnt = be32(h + 28), timecnt = be32(h + 32),
               typecnt = be32(h + 36), charcnt = be32(h + 40);
        size_t tsize = pass == 0 ? 4 : 8;
        if (typecnt == 0 || typecnt > 256 || timecnt > 100000 || leapcnt > 10000 || charcnt > 100000 ||
            isut > typecnt || isstd > typecnt)
            return false;
        size_t body = timecnt * tsize + timecnt + typecnt * 6 + charcnt + leapcnt * (tsize + 4) + isstd + isut;
        if (len - pos - 44 < body)
            return false;
        if (pass + 1 < (v2 ? 2 : 1)) {
            pos += 44 + body;   /* skip the 32-bit data of a v2+ file */
            continue;
        }
        const uint8_t *p = h + 44;
        z->trans = malloc((timecnt ? timecnt : 1) * sizeof *z->trans);
        z->idx = malloc(timecnt ? timecnt : 1);
        z->utoff = malloc(typecnt * sizeof *z->utoff);
        if (!z->trans || !z->idx || !z->utoff)
            return false;
        for (size_t i = 0; i < timecnt; i++)
            z->trans[i] = tsize == 4 ? (int64_t)(int32_t)be32(p + 4 * i) : (int64_t)be64(p + 8 * i);
        p += timecnt * tsize;
        for (size_t i = 0; i < timecnt; i++) {
            z->idx[i] = p[i];
            if (p[i] >= typecnt)
                return false;
        }
        p += timecnt;
        for (size_t i = 0; i < typecnt; i++) {
            int32_t off = (int32_t)be32(p + 6 * i);
            if (off <= -26 * 3600 || off >= 26 * 3600)
                return false;
            z->utoff[i] = off;
        }
        z->n_trans = timecnt;
        z->n_types = typecnt;
        pos += 44 + body;
    }
    /* v2+: the footer "\n<TZ string>\n" rules the instants after the last
     * transition. */
    if (v2 && pos < len && data[pos] == '\n') {
        const uint8_t *nl = memchr(data + pos + 1, '\n', len - pos - 1);
        if (nl && (size_t)(nl - (data + pos + 1)) < 128) {
            char rule[128];
            size_t n = (size_t)(nl - (data + pos + 1));
            memcpy(rule, data + pos + 1, n);
            rule[n] = '\0';
            if (n && !rule_parse(rule, &z->rule))
                memset(&z->rule, 0, sizeof z->rule);
        }
    }
    return true;
}

static int32_t zone_offset_utc(const struct gj_bolt_zone *z, int64_t t)
{
    if (z->n_trans == 0)
        return z->rule.present ? rule_offset(&z->rule, t) : z->utoff[0];
    if (t < z->trans[0])
        return z->utoff[0];
    size_t lo = 0, hi = z->n_trans;   /* the last transition <= t */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (z->trans[mid] <= t)
            lo = mid;
        else
            hi = mid;
    }
    if (lo == z->n_trans - 1 && z->rule.present)
        return rule_offset(&z->rule, t);
    return z->utoff[z->idx[lo]];
}

/* A zone id that names a file under the database and nothing else. */
static bool zone_name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n >= TZ_NAME_MAX || name[0] == '/' || name[0] == '.' || strstr(name, ".."))
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = name[i];
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '/' ||
              ch == '_' || ch == '-' || ch == '+'))
            return false;
    }
    return true;
}

static void zone_load(struct gj_bolt_zone *z, const char *dir)
{
    char path[1024];
    if (!zone_name_ok(z->name) || snprintf(path, sizeof path, "%s/%s", dir, z->name) >= (int)sizeof path)
        return;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    uint8_t *buf = malloc(TZ_FILE_MAX);
    size_t len = 0;
    while (buf && len < TZ_FILE_MAX) {
        ssize_t r = read(fd, buf + len, TZ_FILE_MAX - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        len += (size_t)r;
    }
    close(fd);
    if (buf && len < TZ_FILE_MAX && tzif_parse(z, buf, len))
        z->known = true;
    free(buf);
    if (!z->known) {
        free(z->trans);
        free(z->idx);
        free(z->utoff);
        z->trans = NULL;
        z->idx = NULL;
        z->utoff = NULL;
    }
}

/* The zone named `name`: found, or read and added (unknown ones too). */
static const struct gj_bolt_zone *zone_get(gj_bolt_target *t, const char *name)
{
    pthread_mutex_lock(&t->tz_mu);
    struct gj_bolt_zone *z = t->zones;
    while (z && strcmp(z->name, name) != 0)
        z = z->next;
    if (!z && t->n_zones < TZ_ZONES_MAX && strlen(name) < TZ_NAME_MAX && (z = calloc(1, sizeof *z)) != NULL) {
        /* Read under the lock: once per zone and target. */
        snprintf(z->name, sizeof z->name, "%s", name);
        zone_load(z, t->tzdir);
        z->next = t->zones;
        t->zones = z;
        t->n_zones++;
    }
    pthread_mutex_unlock(&t->tz_mu);
    return z && z->known ? z : NULL;
}

int gj__bolt_zone_offset(void *arg, const char *zone, int64_t seconds, bool local, int32_t *offset)
{
    gj_bolt_target *t = arg;
    const struct gj_bolt_zone *z = t && zone ? zone_get(t, zone) : NULL;
    if (!z)
        return -1;
    if (!local) {
        *offset = zone_offset_utc(z, seconds);
        return 0;
    }
    /* Wall-clock seconds: the offset whose instant maps back to them; in an
     * overlap the earlier instant, in a gap the offset before it. */
    if (seconds < INT64_MIN / 2 || seconds > INT64_MAX / 2)
        return -1;
    int32_t before = zone_offset_utc(z, seconds - 86400), after = zone_offset_utc(z, seconds + 86400);
    if (before == after) {
        *offset = before;
        return 0;
    }
    bool before_ok = zone_offset_utc(z, seconds - before) == before;
    bool after_ok = zone_offset_utc(z, seconds - after) == after;
    *offset = after_ok && !before_ok ? after : before;
    return 0;
}

void gj__bolt_zones_free(gj_bolt_target *t)
{
    struct gj_bolt_zone *z = t->zones;
    while (z) {
        struct gj_bolt_zone *next = z->next;
        free(z->trans);
        free(z->idx);
        free(z->utoff);
        free(z);
        z = next;
    }
    t->zones = NULL;
    t->n_zones = 0;
}
