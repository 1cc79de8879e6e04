/*
 * Gremlin types shared by the GraphBinary and GraphSON codecs: the table of
 * tagged types and the Java text forms (see graphson_types.h).
 *
 * The formatters reproduce java.time's toString (LocalDate writes a year
 * below 1000 with four digits and one above 9999 with a '+'; LocalTime
 * leaves out zero seconds and writes fractions in groups of three digits;
 * ZoneOffset writes "Z" for zero), Duration.toString, Period.toString,
 * BigDecimal.toString and InetAddress.getHostAddress (IPv6 as eight
 * uncompressed hex groups), so text decoded from one serializer and written
 * by another is what Gremlin Server itself would write.
 */
#include "codec/graphson_types.h"
#include "core/value_internal.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NANOS_PER_SECOND 1000000000
#define NANOS_PER_DAY INT64_C(86400000000000)
#define SECONDS_PER_DAY 86400
#define MAX_OFFSET (18 * 3600)

/* ---- the table -------------------------------------------------------------- */

/* Sorted by GraphBinary code (gj__gt_by_code searches it). */
static const gj_gt_type types[] = {
    {"g:Timestamp", 0x05, GJ_GT_TIMESTAMP},
    {"g:Class", 0x06, GJ_GT_CLASS},
    {"g:Property", 0x0f, GJ_GT_PROPERTY},
    {"tinker:graph", 0x10, GJ_GT_GRAPH},
    {"g:VertexProperty", 0x12, GJ_GT_VERTEX_PROPERTY},
    {"g:Barrier", 0x13, GJ_GT_ENUM},
    {"g:Binding", 0x14, GJ_GT_BINDING},
    {"g:Bytecode", 0x15, GJ_GT_BYTECODE},
    {"g:Cardinality", 0x16, GJ_GT_ENUM},
    {"g:Column", 0x17, GJ_GT_ENUM},
    {"g:Direction", 0x18, GJ_GT_ENUM},
    {"g:Operator", 0x19, GJ_GT_ENUM},
    {"g:Order", 0x1a, GJ_GT_ENUM},
    {"g:Pick", 0x1b, GJ_GT_ENUM},
    {"g:Pop", 0x1c, GJ_GT_ENUM},
    {"g:Lambda", 0x1d, GJ_GT_LAMBDA},
    {"g:P", 0x1e, GJ_GT_P},
    {"g:Scope", 0x1f, GJ_GT_ENUM},
    {"g:T", 0x20, GJ_GT_ENUM},
    {"g:Traverser", 0x21, GJ_GT_TRAVERSER},
    {"gx:BigDecimal", 0x22, GJ_GT_BIG_DECIMAL},
    {"gx:BigInteger", 0x23, GJ_GT_BIG_INTEGER},
    {"g:TextP", 0x28, GJ_GT_P},
    {"g:TraversalStrategy", 0x29, GJ_GT_STRATEGY},
    {"g:BulkSet", 0x2a, GJ_GT_BULK_SET},
    {"g:Tree", 0x2b, GJ_GT_TREE},
    {"g:Metrics", 0x2c, GJ_GT_METRICS},
    {"g:TraversalMetrics", 0x2d, GJ_GT_TRAVERSAL_METRICS},
    {"g:Merge", 0x2e, GJ_GT_ENUM},
    {"g:DT", 0x2f, GJ_GT_ENUM},
    {"gx:Char", 0x80, GJ_GT_CHAR},
    {"gx:InetAddress", 0x82, GJ_GT_INET},
    {"gx:Instant", 0x83, GJ_GT_INSTANT},
    {"gx:MonthDay", 0x87, GJ_GT_MONTH_DAY},
    {"gx:Period", 0x8a, GJ_GT_PERIOD},
    {"gx:Year", 0x8b, GJ_GT_YEAR},
    {"gx:YearMonth", 0x8c, GJ_GT_YEAR_MONTH},
    {"gx:ZoneOffset", 0x8e, GJ_GT_ZONE_OFFSET},
};
#define N_TYPES (sizeof types / sizeof types[0])

const gj_gt_type *gj__gt_by_name(const char *name, size_t len)
{
    for (size_t i = 0; i < N_TYPES; i++)
        if (strlen(types[i].name) == len && memcmp(types[i].name, name, len) == 0)
            return &types[i];
    return NULL;
}

const gj_gt_type *gj__gt_by_code(uint8_t code)
{
    size_t lo = 0, hi = N_TYPES;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (types[mid].gb_code == code)
            return &types[mid];
        if (types[mid].gb_code < code)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* ---- formatting ----------------------------------------------------------------- */

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

static int64_t floor_mod(int64_t a, int64_t b)
{
    int64_t r = a % b;
    return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r;
}

/* LocalDate's year: four digits below 1000, '+' above 9999 when plus. */
static size_t put_year(char *b, int64_t y, bool plus)
{
    if (y > -1000 && y < 1000)
        return (size_t)sprintf(b, y < 0 ? "-%04" PRId64 : "%04" PRId64, y < 0 ? -y : y);
    return (size_t)sprintf(b, (plus && y > 9999) ? "+%" PRId64 : "%" PRId64, y);
}

size_t gj__gt_format_date(char *buf, int64_t days)
{
    int64_t y;
    unsigned m, d;
    gj__civil_from_days(days, &y, &m, &d);
    size_t n = put_year(buf, y, true);
    return n + (size_t)sprintf(buf + n, "-%02u-%02u", m, d);
}

/* Fraction of a second in groups of three digits (nothing for zero). */
static size_t put_fraction(char *b, int32_t nanos)
{
    if (nanos <= 0)
        return 0;
    if (nanos % 1000000 == 0)
        return (size_t)sprintf(b, ".%03d", (int)(nanos / 1000000));
    if (nanos % 1000 == 0)
        return (size_t)sprintf(b, ".%06d", (int)(nanos / 1000));
    return (size_t)sprintf(b, ".%09d", (int)nanos);
}

/* LocalTime: HH:mm, then :ss and a fraction unless both are zero. */
static size_t put_time(char *b, int64_t sod, int32_t nanos, bool always_seconds)
{
    size_t n = (size_t)sprintf(b, "%02d:%02d", (int)(sod / 3600), (int)(sod / 60 % 60));
    if (always_seconds || sod % 60 || nanos)
        n += (size_t)sprintf(b + n, ":%02d", (int)(sod % 60));
    return n + put_fraction(b + n, nanos);
}

size_t gj__gt_format_time(char *buf, int64_t nanos_of_day)
{
    if (nanos_of_day < 0 || nanos_of_day >= NANOS_PER_DAY)
        nanos_of_day = floor_mod(nanos_of_day, NANOS_PER_DAY);
    return put_time(buf, nanos_of_day / NANOS_PER_SECOND,
                    (int32_t)(nanos_of_day % NANOS_PER_SECOND), false);
}

size_t gj__gt_format_offset(char *buf, int32_t offset)
{
    if (offset == 0)
        return (size_t)sprintf(buf, "Z");
    int32_t a = offset < 0 ? -offset : offset;
    size_t n = (size_t)sprintf(buf, "%c%02d:%02d", offset < 0 ? '-' : '+', (int)(a / 3600),
                               (int)(a / 60 % 60));
    if (a % 60)
        n += (size_t)sprintf(buf + n, ":%02d", (int)(a % 60));
    return n;
}

static size_t put_datetime(char *buf, int64_t seconds, int32_t nanos, bool instant)
{
    int64_t days = floor_div(seconds, SECONDS_PER_DAY);
    int64_t sod = floor_mod(seconds, SECONDS_PER_DAY);
    size_t n = gj__gt_format_date(buf, days);
    buf[n++] = 'T';
    return n + put_time(buf + n, sod, nanos, instant);
}

size_t gj__gt_format_local_datetime(char *buf, int64_t seconds, int32_t nanos)
{
    return put_datetime(buf, seconds, nanos, false);
}

size_t gj__gt_format_instant(char *buf, int64_t seconds, int32_t nanos)
{
    size_t n = put_datetime(buf, seconds, nanos, true);
    buf[n++] = 'Z';
    buf[n] = '\0';
    return n;
}

int gj__gt_duration_normalise(int64_t *seconds, int32_t *nanos)
{
    if (*nanos <= -NANOS_PER_SECOND || *nanos >= NANOS_PER_SECOND)
        return GJ_EINVAL;
    if (*nanos < 0) {
        if (*seconds == INT64_MIN)
            return GJ_EINVAL;
        *seconds -= 1;
        *nanos += NANOS_PER_SECOND;
    }
    return 0;
}

size_t gj__gt_format_duration(char *buf, int64_t seconds, int32_t nanos)
{
    if (gj__gt_duration_normalise(&seconds, &nanos) != 0)
        nanos = 0;
    if (seconds == 0 && nanos == 0)
        return (size_t)sprintf(buf, "PT0S");
    /* Java: hours and minutes of the seconds rounded towards zero. */
    int64_t effective = seconds;
    if (seconds < 0 && nanos > 0)
        effective++;
    int64_t hours = effective / 3600;
    int minutes = (int)((effective % 3600) / 60);
    int secs = (int)(effective % 60);
    size_t n = (size_t)sprintf(buf, "PT");
    if (hours)
        n += (size_t)sprintf(buf + n, "%" PRId64 "H", hours);
    if (minutes)
        n += (size_t)sprintf(buf + n, "%dM", minutes);
    if (secs == 0 && nanos == 0 && n > 2)
        return n;
    if (seconds < 0 && nanos > 0 && secs == 0)
        n += (size_t)sprintf(buf + n, "-0");
    else
        n += (size_t)sprintf(buf + n, "%d", secs);
    if (nanos > 0) {
        char frac[16];
        int f = seconds < 0 ? 2 * NANOS_PER_SECOND - nanos : nanos + NANOS_PER_SECOND;
        int k = sprintf(frac, "%d", f);
        while (k > 1 && frac[k - 1] == '0')
            k--;
        frac[0] = '.';   /* replaces the leading 1 */
        memcpy(buf + n, frac, (size_t)k);
        n += (size_t)k;
    }
    buf[n++] = 'S';
    buf[n] = '\0';
    return n;
}

size_t gj__gt_format_period(char *buf, int32_t years, int32_t months, int32_t days)
{
    if (!years && !months && !days)
        return (size_t)sprintf(buf, "P0D");
    size_t n = (size_t)sprintf(buf, "P");
    if (years)
        n += (size_t)sprintf(buf + n, "%dY", (int)years);
    if (months)
        n += (size_t)sprintf(buf + n, "%dM", (int)months);
    if (days)
        n += (size_t)sprintf(buf + n, "%dD", (int)days);
    return n;
}

size_t gj__gt_format_year(char *buf, int32_t year)
{
    return (size_t)sprintf(buf, "%d", (int)year);
}

size_t gj__gt_format_year_month(char *buf, int32_t year, unsigned month)
{
    size_t n = put_year(buf, year, false);
    return n + (size_t)sprintf(buf + n, "-%02u", month % 100);
}

size_t gj__gt_format_month_day(char *buf, unsigned month, unsigned day)
{
    return (size_t)sprintf(buf, "--%02u-%02u", month % 100, day % 100);
}

size_t gj__gt_format_inet(char *buf, const uint8_t *a, size_t len)
{
    if (len == 4)
        return (size_t)sprintf(buf, "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
    if (len != 16) {
        buf[0] = '\0';
        return 0;
    }
    size_t n = 0;
    for (int i = 0; i < 8; i++)
        n += (size_t)sprintf(buf + n, i ? ":%x" : "%x", (unsigned)(a[2 * i] << 8 | a[2 * i + 1]));
    return n;
}

/* ---- parsing --------------------------------------------------------------------- */

typedef struct {
    const char *s;
    size_t len, pos;
} cursor;

static bool at_end(const cursor *c)
{
    return c->pos == c->len;
}

static bool peek_is(const cursor *c, char ch)
{
    return c->pos < c->len && c->s[c->pos] == ch;
}

static bool eat(cursor *c, char ch)
{
    if (!peek_is(c, ch))
        return false;
    c->pos++;
    return true;
}

/* An ASCII letter in either case (Java's duration and period parsers). */
static bool eat_letter(cursor *c, char upper)
{
    if (c->pos < c->len && (c->s[c->pos] == upper || c->s[c->pos] == upper + ('a' - 'A'))) {
        c->pos++;
        return true;
    }
    return false;
}

static bool is_digit(char ch)
{
    return ch >= '0' && ch <= '9';
}

/* min..max decimal digits (max <= 18). */
static bool digits(cursor *c, size_t min, size_t max, int64_t *out)
{
    size_t start = c->pos;
    int64_t v = 0;
    while (c->pos < c->len && c->pos - start < max && is_digit(c->s[c->pos]))
        v = v * 10 + (c->s[c->pos++] - '0');
    if (c->pos - start < min) {
        c->pos = start;
        return false;
    }
    *out = v;
    return true;
}

/* [+-]?YYYY+-MM-DD */
static bool parse_date_at(cursor *c, int64_t *days)
{
    bool neg = eat(c, '-');
    if (!neg)
        eat(c, '+');
    int64_t y, m, d;
    if (!digits(c, 4, 10, &y) || !eat(c, '-') || !digits(c, 2, 2, &m) || !eat(c, '-') ||
        !digits(c, 2, 2, &d))
        return false;
    return gj__days_from_civil(neg ? -y : y, (unsigned)m, (unsigned)d, days) == 0;
}

/* HH:mm[:ss[.f{1,9}]] */
static bool parse_time_at(cursor *c, int64_t *nanos_of_day)
{
    int64_t h, m, s = 0, frac = 0;
    if (!digits(c, 2, 2, &h) || !eat(c, ':') || !digits(c, 2, 2, &m) || h > 23 || m > 59)
        return false;
    if (eat(c, ':')) {
        if (!digits(c, 2, 2, &s) || s > 59)
            return false;
        if (eat(c, '.')) {
            size_t start = c->pos;
            if (!digits(c, 1, 9, &frac))
                return false;
            for (size_t k = c->pos - start; k < 9; k++)
                frac *= 10;
        }
    }
    *nanos_of_day = ((h * 60 + m) * 60 + s) * NANOS_PER_SECOND + frac;
    return true;
}

/* Z | ±h | ±hh | ±hh:mm | ±hhmm | ±hh:mm:ss | ±hhmmss */
static bool parse_offset_at(cursor *c, int32_t *offset)
{
    if (eat(c, 'Z')) {
        *offset = 0;
        return true;
    }
    bool neg = eat(c, '-');
    if (!neg && !eat(c, '+'))
        return false;
    int64_t h, m = 0, s = 0;
    size_t hour_start = c->pos;
    if (!digits(c, 1, 2, &h))
        return false;
    if (c->pos - hour_start == 2) {    /* two hour digits: minutes may follow */
        bool colon = eat(c, ':');
        if (colon || (c->pos < c->len && is_digit(c->s[c->pos]))) {
            if (!digits(c, 2, 2, &m))
                return false;
            if (colon ? eat(c, ':') : (c->pos < c->len && is_digit(c->s[c->pos]))) {
                if (!digits(c, 2, 2, &s))
                    return false;
            }
        }
    }
    if (m > 59 || s > 59)
        return false;
    int64_t total = h * 3600 + m * 60 + s;
    if (total > MAX_OFFSET)
        return false;
    *offset = (int32_t)(neg ? -total : total);
    return true;
}

static bool parse_local_datetime_at(cursor *c, int64_t *seconds, int32_t *nanos)
{
    int64_t days, nod;
    if (!parse_date_at(c, &days) || !eat(c, 'T') || !parse_time_at(c, &nod))
        return false;
    int64_t s;
    if (__builtin_mul_overflow(days, (int64_t)SECONDS_PER_DAY, &s) ||
        __builtin_add_overflow(s, nod / NANOS_PER_SECOND, &s))
        return false;
    *seconds = s;
    *nanos = (int32_t)(nod % NANOS_PER_SECOND);
    return true;
}

static int finish(const cursor *c, bool ok)
{
    return ok && at_end(c) ? 0 : GJ_EINVAL;
}

int gj__gt_parse_date(const char *s, size_t len, int64_t *days)
{
    cursor c = {s, len, 0};
    return finish(&c, parse_date_at(&c, days));
}

int gj__gt_parse_time(const char *s, size_t len, int64_t *nanos_of_day)
{
    cursor c = {s, len, 0};
    return finish(&c, parse_time_at(&c, nanos_of_day));
}

int gj__gt_parse_offset(const char *s, size_t len, int32_t *offset)
{
    cursor c = {s, len, 0};
    return finish(&c, parse_offset_at(&c, offset));
}

int gj__gt_parse_local_datetime(const char *s, size_t len, int64_t *seconds, int32_t *nanos)
{
    cursor c = {s, len, 0};
    return finish(&c, parse_local_datetime_at(&c, seconds, nanos));
}

/* local seconds - offset, checked. */
static bool to_utc(int64_t *seconds, int32_t offset)
{
    return !__builtin_sub_overflow(*seconds, (int64_t)offset, seconds);
}

int gj__gt_parse_offset_datetime(const char *s, size_t len, int64_t *seconds, int32_t *nanos,
                                 int32_t *offset)
{
    cursor c = {s, len, 0};
    bool ok = parse_local_datetime_at(&c, seconds, nanos) && parse_offset_at(&c, offset) &&
              to_utc(seconds, *offset);
    return finish(&c, ok);
}

int gj__gt_parse_zoned_datetime(const char *s, size_t len, int64_t *seconds, int32_t *nanos,
                                int32_t *offset, const char **zone, size_t *zone_len)
{
    cursor c = {s, len, 0};
    *zone = NULL;
    *zone_len = 0;
    if (!parse_local_datetime_at(&c, seconds, nanos) || !parse_offset_at(&c, offset) ||
        !to_utc(seconds, *offset))
        return GJ_EINVAL;
    if (eat(&c, '[')) {
        size_t start = c.pos;
        while (c.pos < c.len && c.s[c.pos] != ']')
            c.pos++;
        if (c.pos == start || !eat(&c, ']'))
            return GJ_EINVAL;
        *zone = s + start;
        *zone_len = c.pos - 1 - start;
    }
    return finish(&c, true);
}

int gj__gt_parse_offset_time(const char *s, size_t len, int64_t *nanos_of_day, int32_t *offset)
{
    cursor c = {s, len, 0};
    return finish(&c, parse_time_at(&c, nanos_of_day) && parse_offset_at(&c, offset));
}

int gj__gt_parse_instant(const char *s, size_t len, int64_t *seconds, int32_t *nanos)
{
    cursor c = {s, len, 0};
    int32_t offset;
    bool ok = parse_local_datetime_at(&c, seconds, nanos) && parse_offset_at(&c, &offset) &&
              to_utc(seconds, offset);
    return finish(&c, ok);
}

/* [+-]?digits (at most 18) followed by the unit letter; the cursor is left
 * untouched when that is not what follows. */
static bool component(cursor *c, char unit, int64_t *value)
{
    size_t start = c->pos;
    bool neg = eat(c, '-');
    if (!neg)
        eat(c, '+');
    int64_t v;
    if (!digits(c, 1, 18, &v) || !eat_letter(c, unit)) {
        c->pos = start;
        return false;
    }
    *value = neg ? -v : v;
    return true;
}

/* The seconds of a duration: [+-]?digits([.,]digits{0,9})?S */
static bool seconds_component(cursor *c, int64_t *secs, int64_t *nanos)
{
    size_t start = c->pos;
    bool neg = eat(c, '-');
    if (!neg)
        eat(c, '+');
    int64_t v, frac = 0;
    if (!digits(c, 1, 18, &v))
        goto no;
    if (eat(c, '.') || eat(c, ',')) {
        size_t fstart = c->pos;
        if (c->pos < c->len && is_digit(c->s[c->pos]) && !digits(c, 1, 9, &frac))
            goto no;
        for (size_t k = c->pos - fstart; k < 9; k++)
            frac *= 10;
    }
    if (!eat_letter(c, 'S'))
        goto no;
    *secs = neg ? -v : v;
    *nanos = neg ? -frac : frac;
    return true;
no:
    c->pos = start;
    return false;
}

int gj__gt_parse_duration(const char *s, size_t len, int64_t *seconds, int32_t *nanos)
{
    cursor c = {s, len, 0};
    bool neg = eat(&c, '-');
    if (!neg)
        eat(&c, '+');
    if (!eat_letter(&c, 'P'))
        return GJ_EINVAL;
    int64_t days = 0, hours = 0, minutes = 0, secs = 0, frac = 0;
    bool any = component(&c, 'D', &days);
    if (eat_letter(&c, 'T')) {
        bool t = component(&c, 'H', &hours);
        t |= component(&c, 'M', &minutes);
        t |= seconds_component(&c, &secs, &frac);
        if (!t)
            return GJ_EINVAL;
        any = true;
    }
    if (!any || !at_end(&c))
        return GJ_EINVAL;
    int64_t total, part;
    if (__builtin_mul_overflow(days, (int64_t)SECONDS_PER_DAY, &total) ||
        __builtin_mul_overflow(hours, (int64_t)3600, &part) ||
        __builtin_add_overflow(total, part, &total) ||
        __builtin_mul_overflow(minutes, (int64_t)60, &part) ||
        __builtin_add_overflow(total, part, &total) ||
        __builtin_add_overflow(total, secs, &total))
        return GJ_EINVAL;
    if (neg) {
        if (total == INT64_MIN)
            return GJ_EINVAL;
        total = -total;
        frac = -frac;
    }
    int32_t n = (int32_t)frac;
    if (gj__gt_duration_normalise(&total, &n) != 0)
        return GJ_EINVAL;
    *seconds = total;
    *nanos = n;
    return 0;
}

static bool fits_int32(int64_t v)
{
    return v >= INT32_MIN && v <= INT32_MAX;
}

int gj__gt_parse_period(const char *s, size_t len, int32_t *years, int32_t *months,
                        int32_t *days)
{
    cursor c = {s, len, 0};
    bool neg = eat(&c, '-');
    if (!neg)
        eat(&c, '+');
    if (!eat_letter(&c, 'P'))
        return GJ_EINVAL;
    int64_t y = 0, m = 0, w = 0, d = 0;
    bool any = component(&c, 'Y', &y);
    any |= component(&c, 'M', &m);
    any |= component(&c, 'W', &w);
    any |= component(&c, 'D', &d);
    if (!any || !at_end(&c) || !fits_int32(y) || !fits_int32(m) || !fits_int32(w) ||
        !fits_int32(d))
        return GJ_EINVAL;
    d += w * 7;
    if (!fits_int32(d))
        return GJ_EINVAL;
    if (neg) {
        y = -y, m = -m, d = -d;
        if (!fits_int32(y) || !fits_int32(m) || !fits_int32(d))
            return GJ_EINVAL;
    }
    *years = (int32_t)y;
    *months = (int32_t)m;
    *days = (int32_t)d;
    return 0;
}

int gj__gt_parse_year(const char *s, size_t len, int32_t *year)
{
    cursor c = {s, len, 0};
    bool neg = eat(&c, '-');
    if (!neg)
        eat(&c, '+');
    int64_t y;
    if (!digits(&c, 1, 10, &y) || !at_end(&c) || y > 999999999)
        return GJ_EINVAL;
    *year = (int32_t)(neg ? -y : y);
    return 0;
}

int gj__gt_parse_year_month(const char *s, size_t len, int32_t *year, unsigned *month)
{
    cursor c = {s, len, 0};
    bool neg = eat(&c, '-');
    if (!neg)
        eat(&c, '+');
    int64_t y, m;
    if (!digits(&c, 4, 10, &y) || !eat(&c, '-') || !digits(&c, 2, 2, &m) || !at_end(&c) ||
        y > 999999999 || m < 1 || m > 12)
        return GJ_EINVAL;
    *year = (int32_t)(neg ? -y : y);
    *month = (unsigned)m;
    return 0;
}

int gj__gt_parse_month_day(const char *s, size_t len, unsigned *month, unsigned *day)
{
    cursor c = {s, len, 0};
    int64_t m, d, ignored;
    /* 2000 is a leap year: February 29th is a valid month-day. */
    if (!eat(&c, '-') || !eat(&c, '-') || !digits(&c, 2, 2, &m) || !eat(&c, '-') ||
        !digits(&c, 2, 2, &d) || !at_end(&c) ||
        gj__days_from_civil(2000, (unsigned)m, (unsigned)d, &ignored) != 0)
        return GJ_EINVAL;
    *month = (unsigned)m;
    *day = (unsigned)d;
    return 0;
}

int gj__gt_parse_inet(const char *s, size_t len, uint8_t out[16], size_t *n)
{
    char text[64];
    if (len == 0 || len >= sizeof text || memchr(s, '\0', len))
        return GJ_EINVAL;
    memcpy(text, s, len);
    text[len] = '\0';
    if (inet_pton(AF_INET, text, out) == 1) {
        *n = 4;
        return 0;
    }
    if (inet_pton(AF_INET6, text, out) == 1) {
        *n = 16;
        return 0;
    }
    return GJ_EINVAL;
}

void gj__gt_ms_split(int64_t ms, int64_t *seconds, int32_t *nanos)
{
    *seconds = floor_div(ms, 1000);
    *nanos = (int32_t)floor_mod(ms, 1000) * 1000000;
}

int gj__gt_ms_join(int64_t seconds, int32_t nanos, int64_t *ms)
{
    if (nanos < 0 || nanos >= 1000000000 || nanos % 1000000)
        return GJ_EINVAL;
    /* A negative time near INT64_MIN ms: seconds * 1000 alone would
     * overflow where the sum does not (gj__gt_ms_split's floor). */
    int64_t r, part = nanos / 1000000;
    if (seconds < 0 && part > 0) {
        seconds += 1;
        part -= 1000;
    }
    if (__builtin_mul_overflow(seconds, (int64_t)1000, &r) || __builtin_add_overflow(r, part, &r))
        return GJ_EINVAL;
    *ms = r;
    return 0;
}
