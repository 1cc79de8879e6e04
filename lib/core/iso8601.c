/*
 * ISO-8601 text of temporal values (gj__value_iso_text) and the proleptic
 * Gregorian date arithmetic behind it, over the whole int64 range of day
 * numbers (no gmtime/timegm: they fail outside time_t and year ranges).
 *
 * Rendering choices:
 *  - time and local time: fraction of 9 digits when not zero
 *    ("12:34:56.789000000+01:00"); datetime and local datetime: fraction
 *    without trailing zeros ("2024-01-31T12:34:56.5Z");
 *  - years beyond 9999 get a '+', years before 0 a '-' (ISO-8601 expanded);
 *  - offsets: "Z" for zero, "+01:00", "+01:00:30" with seconds;
 *  - a datetime with a zone id but no offset is an instant: "...Z[Europe/Paris]"
 *    (the offset is not computed: no time zone database is consulted);
 *  - durations: "P14M3DT4.5S" (months are not folded into years), "PT0S" when
 *    zero, negative seconds as "PT-0.5S".
 */
#include "core/value_internal.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

/* ---- calendar --------------------------------------------------------------
 * Days from civil / civil from days after H. Hinnant's public-domain
 * derivation: 400-year eras of 146097 days, years starting on March 1st. */

#define DAYS_PER_ERA 146097
#define EPOCH_SHIFT 719468   /* days from 0000-03-01 to 1970-01-01 */
#define YEAR_LIMIT INT64_C(25000000000000000)

void gj__civil_from_days(int64_t days, int64_t *year, unsigned *month, unsigned *day)
{
    /* era / day-of-era of days + EPOCH_SHIFT, without overflowing int64. */
    int64_t era = days / DAYS_PER_ERA;
    int64_t doe = days % DAYS_PER_ERA;
    if (doe < 0) {
        doe += DAYS_PER_ERA;
        era--;
    }
    doe += EPOCH_SHIFT;
    era += doe / DAYS_PER_ERA;
    doe %= DAYS_PER_ERA;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    unsigned m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    *day = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
    *month = m;
    *year = yoe + era * 400 + (m <= 2);
}

static bool leap_year(int64_t y)
{
    return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

int gj__days_from_civil(int64_t year, unsigned month, unsigned day, int64_t *days)
{
    static const unsigned char mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (month < 1 || month > 12 || day < 1 || year > YEAR_LIMIT || year < -YEAR_LIMIT)
        return GJ_EINVAL;
    if (day > (unsigned)mdays[month - 1] + (month == 2 && leap_year(year)))
        return GJ_EINVAL;
    int64_t y = year - (month <= 2);
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    int64_t r;
    if (__builtin_mul_overflow(era, (int64_t)DAYS_PER_ERA, &r) ||
        __builtin_add_overflow(r, doe - EPOCH_SHIFT, &r))
        return GJ_EINVAL;
    *days = r;
    return 0;
}

/* ---- ISO-8601 text ----------------------------------------------------------- */

/* Append formatted text to buf[*n..size) (truncating), counting the full length. */
typedef struct {
    char *buf;
    size_t size, n;
} textbuf;

static void tb_printf(textbuf *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void tb_printf(textbuf *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *at = t->n < t->size ? t->buf + t->n : NULL;
    int k = vsnprintf(at, at ? t->size - t->n : 0, fmt, ap);
    va_end(ap);
    if (k > 0)
        t->n += (size_t)k;
}

static void tb_date(textbuf *t, int64_t days)
{
    int64_t y;
    unsigned m, d;
    gj__civil_from_days(days, &y, &m, &d);
    if (y > 9999)
        tb_printf(t, "+%" PRId64, y);
    else if (y < 0)
        tb_printf(t, "-%04" PRId64, -y);
    else
        tb_printf(t, "%04" PRId64, y);
    tb_printf(t, "-%02u-%02u", m, d);
}

/* "HH:MM:SS" plus a fraction: all 9 digits, or trimmed of trailing zeros. */
static void tb_clock(textbuf *t, int64_t seconds_of_day, int32_t nanos, bool full_fraction)
{
    tb_printf(t, "%02d:%02d:%02d", (int)(seconds_of_day / 3600),
              (int)(seconds_of_day / 60 % 60), (int)(seconds_of_day % 60));
    if (!nanos)
        return;
    char frac[16];
    snprintf(frac, sizeof frac, "%09d", (int)nanos);
    int len = 9;
    while (!full_fraction && frac[len - 1] == '0')
        len--;
    tb_printf(t, ".%.*s", len, frac);
}

static void tb_offset(textbuf *t, int32_t offset)
{
    if (offset == 0) {
        tb_printf(t, "Z");
        return;
    }
    char sign = offset < 0 ? '-' : '+';
    int32_t a = offset < 0 ? -offset : offset;
    tb_printf(t, "%c%02d:%02d", sign, (int)(a / 3600), (int)(a / 60 % 60));
    if (a % 60)
        tb_printf(t, ":%02d", (int)(a % 60));
}

static void split_seconds(int64_t seconds, int64_t *days, int64_t *sod)
{
    *days = seconds / 86400;
    *sod = seconds % 86400;
    if (*sod < 0) {
        *sod += 86400;
        (*days)--;
    }
}

static void tb_datetime(textbuf *t, const gj_value *v)
{
    int64_t seconds, days, sod;
    int32_t nanos, offset;
    const char *zone;
    unsigned flags;
    gj_value_datetime_get(v, &seconds, &nanos, &offset, &zone, &flags);
    split_seconds(seconds, &days, &sod);
    bool utc = !(flags & GJ_DATETIME_LOCAL_SECONDS);
    if (utc && (flags & GJ_DATETIME_HAS_OFFSET)) {
        sod += offset;
        if (sod < 0) {
            sod += 86400;
            days--;
        } else if (sod >= 86400) {
            sod -= 86400;
            days++;
        }
    }
    tb_date(t, days);
    tb_printf(t, "T");
    tb_clock(t, sod, nanos, false);
    if (gj_value_type(v) == GJ_TLOCAL_DATETIME)
        return;
    if (flags & GJ_DATETIME_HAS_OFFSET)
        tb_offset(t, offset);
    else if (utc)
        tb_printf(t, "Z");
    if (zone)
        tb_printf(t, "[%s]", zone);
}

static void tb_duration(textbuf *t, const gj_value *v)
{
    int64_t months, days, seconds;
    int32_t nanos;
    gj_value_duration_get(v, &months, &days, &seconds, &nanos);
    if (!months && !days && !seconds && !nanos) {
        tb_printf(t, "PT0S");
        return;
    }
    tb_printf(t, "P");
    if (months)
        tb_printf(t, "%" PRId64 "M", months);
    if (days)
        tb_printf(t, "%" PRId64 "D", days);
    if (!seconds && !nanos)
        return;
    /* Give seconds and nanos one sign (|nanos| < 1e9 by construction). */
    if (seconds > 0 && nanos < 0) {
        seconds--;
        nanos += 1000000000;
    } else if (seconds < 0 && nanos > 0) {
        seconds++;
        nanos -= 1000000000;
    }
    bool negative = seconds < 0 || nanos < 0;
    uint64_t mag = seconds < 0 ? (uint64_t)0 - (uint64_t)seconds : (uint64_t)seconds;
    tb_printf(t, "T%s%" PRIu64, negative ? "-" : "", mag);
    if (nanos) {
        char frac[16];
        snprintf(frac, sizeof frac, "%09d", nanos < 0 ? -nanos : nanos);
        int len = 9;
        while (frac[len - 1] == '0')
            len--;
        tb_printf(t, ".%.*s", len, frac);
    }
    tb_printf(t, "S");
}

int gj__value_iso_text(const gj_value *v, char *buf, size_t size)
{
    textbuf t = {buf, size, 0};
    if (buf && size)
        buf[0] = '\0';
    int64_t i64;
    int32_t offset = 0;
    switch (gj_value_type(v)) {
    case GJ_TDATE:
        gj_value_date_get(v, &i64);
        tb_date(&t, i64);
        break;
    case GJ_TTIME:
    case GJ_TLOCAL_TIME:
        gj_value_time_get(v, &i64, &offset);
        tb_clock(&t, i64 / 1000000000, (int32_t)(i64 % 1000000000), true);
        if (gj_value_type(v) == GJ_TTIME)
            tb_offset(&t, offset);
        break;
    case GJ_TDATETIME:
    case GJ_TLOCAL_DATETIME:
        tb_datetime(&t, v);
        break;
    case GJ_TDURATION:
        tb_duration(&t, v);
        break;
    default:
        return GJ_ETYPE;
    }
    return t.n > INT32_MAX ? GJ_ETOOBIG : (int)t.n;
}
