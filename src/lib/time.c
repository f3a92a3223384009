/*
 * lib/time.c - the 14-digit times of LD/T 6008-2024 (YYYYMMDDHH24MISS,
 * tables 1 and 2) in China Standard Time, UTC+8 without daylight saving.
 *
 * Conversions are pure arithmetic on the proleptic Gregorian calendar
 * (Howard Hinnant's days-from-civil algorithms), never localtime() or TZ:
 * a node in any time zone reads and writes the same CST times, and tests
 * can prove it by setting TZ. Years are 0001-9999, the range four digits
 * can hold; formatting clamps to it.
 */
#include <time.h>

#include "envelope_private.h"

#define CST_OFFSET (8 * 3600)
#define DAY_SECONDS 86400

int64_t hrss__days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void hrss__civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
    *m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

/* First and last epoch seconds whose CST time has a four-digit year >= 1. */
static int64_t epoch_min(void)
{
    return hrss__days_from_civil(1, 1, 1) * DAY_SECONDS - CST_OFFSET;
}

static int64_t epoch_max(void)
{
    return hrss__days_from_civil(9999, 12, 31) * DAY_SECONDS + DAY_SECONDS - 1 - CST_OFFSET;
}

/* Splits a (clamped) epoch second into the CST calendar. */
static void cst_split(int64_t epoch, int64_t *y, unsigned *mo, unsigned *d, unsigned *secs)
{
    if (epoch < epoch_min())
        epoch = epoch_min();
    if (epoch > epoch_max())
        epoch = epoch_max();
    int64_t local = epoch + CST_OFFSET;
    int64_t days = local / DAY_SECONDS;
    int64_t rem = local % DAY_SECONDS;
    if (rem < 0) {
        rem += DAY_SECONDS;
        days--;
    }
    hrss__civil_from_days(days, y, mo, d);
    *secs = (unsigned)rem;
}

uint32_t hrss__cst_date(int64_t epoch)
{
    int64_t y;
    unsigned m, d, secs;
    cst_split(epoch, &y, &m, &d, &secs);
    return (uint32_t)(y * 10000 + m * 100 + d);
}

static unsigned digits_value(const char *s, size_t n)
{
    unsigned v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (unsigned)(s[i] - '0');
    return v;
}

/* Days in a month of a proleptic Gregorian year. */
static unsigned days_in_month(unsigned y, unsigned m)
{
    static const unsigned char dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return dim[m - 1];
}

int hrss__date_check(const char *s, hrss_error *err)
{
    unsigned y = digits_value(s, 4), m = digits_value(s + 4, 2), d = digits_value(s + 6, 2);
    if (y < 1 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
        return hrss__error(err, HRSS_EFORMAT, "%.8s is not a calendar date", s);
    return HRSS_OK;
}

static void put_digits(char *out, uint64_t v, size_t n)
{
    while (n-- > 0) {
        out[n] = (char)('0' + v % 10);
        v /= 10;
    }
}

int hrss_time_check(const char *s, size_t len, hrss_error *err)
{
    unsigned hh, mi, ss;
    int rc;

    if (len != HRSS_TIME_LEN)
        return hrss__error(err, HRSS_EFORMAT, "length %zu, must be %d (YYYYMMDDHH24MISS)", len,
                           HRSS_TIME_LEN);
    for (size_t i = 0; i < len; i++)
        if (s[i] < '0' || s[i] > '9')
            return hrss__error(err, HRSS_EFORMAT, "must be 14 digits (YYYYMMDDHH24MISS)");
    rc = hrss__date_check(s, err);
    if (rc != HRSS_OK)
        return rc;
    hh = digits_value(s + 8, 2);
    mi = digits_value(s + 10, 2);
    ss = digits_value(s + 12, 2);
    if (hh > 23)
        return hrss__error(err, HRSS_EFORMAT, "hour %02u, at most 23", hh);
    if (mi > 59)
        return hrss__error(err, HRSS_EFORMAT, "minute %02u, at most 59", mi);
    if (ss > 59)
        return hrss__error(err, HRSS_EFORMAT, "second %02u, at most 59", ss);
    return HRSS_OK;
}

int hrss_time_parse(const char *s, size_t len, int64_t *epoch, hrss_error *err)
{
    int rc = hrss_time_check(s, len, err);
    if (rc != HRSS_OK)
        return rc;
    int64_t days =
        hrss__days_from_civil(digits_value(s, 4), digits_value(s + 4, 2), digits_value(s + 6, 2));
    int64_t secs =
        digits_value(s + 8, 2) * 3600 + digits_value(s + 10, 2) * 60 + digits_value(s + 12, 2);
    if (epoch != NULL)
        *epoch = days * DAY_SECONDS + secs - CST_OFFSET;
    return HRSS_OK;
}

void hrss_time_format(int64_t epoch, char out[HRSS_TIME_LEN + 1])
{
    int64_t y;
    unsigned mo, d, secs;

    cst_split(epoch, &y, &mo, &d, &secs);
    put_digits(out, (uint64_t)y, 4);
    put_digits(out + 4, mo, 2);
    put_digits(out + 6, d, 2);
    put_digits(out + 8, secs / 3600, 2);
    put_digits(out + 10, secs / 60 % 60, 2);
    put_digits(out + 12, secs % 60, 2);
    out[HRSS_TIME_LEN] = '\0';
}

void hrss_time_now(char out[HRSS_TIME_LEN + 1])
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    hrss_time_format((int64_t)ts.tv_sec, out);
}

int hrss_time_check_window(const char *s, size_t len, int64_t now, int64_t window_sec,
                           hrss_error *err)
{
    int64_t t;
    uint64_t diff;
    int rc = hrss_time_parse(s, len, &t, err);

    if (rc != HRSS_OK)
        return rc;
    if (window_sec < 0)
        window_sec = 0;
    /* Unsigned difference: now may be any int64_t, t is within years 1-9999. */
    diff = t >= now ? (uint64_t)t - (uint64_t)now : (uint64_t)now - (uint64_t)t;
    if (diff > (uint64_t)window_sec)
        return hrss__error(err, HRSS_ESTALE, "%.14s is %llu s %s the clock, at most %lld s", s,
                           (unsigned long long)diff, t >= now ? "ahead of" : "behind",
                           (long long)window_sec);
    return HRSS_OK;
}
