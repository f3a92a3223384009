/*
 * lib/codes.c - validators of the identifiers of LD/T 6008-2024: area codes
 * (5.3 b, GB/T 2260 province level), system codes (5.3), interface codes
 * (6.1), serviceReqId/serviceResId (tables 1 and 2, docs/design.md decision 6)
 * and the commStatus values of table 2. Times and the calendar live in
 * time.c; the id generator in idgen.c.
 *
 * Every validator works on (pointer, length), never allocates, and on
 * failure names the broken rule in err->msg without a field name, so that
 * the envelope checker can prefix "header.appCode: ".
 */
#include <stdio.h>
#include <string.h>

#include "common/util.h"
#include "envelope_private.h"

/*
 * Province-level codes of GB/T 2260 (31 provinces, autonomous regions and
 * municipalities, plus Taiwan 710000, Hong Kong 810000 and Macao 820000),
 * and 100000, the ministry's own code in 5.3 b.
 *
 * 660000, the Xinjiang Production and Construction Corps, is not a
 * province-level code of GB/T 2260, but the ministry runs the Corps' human
 * resources and social security department as a provincial-level unit with
 * its own systems, so its systems need area codes too: it is accepted.
 */
static const char *const area_codes[] = {
    "100000",                                                             /* ministry */
    "110000", "120000", "130000", "140000", "150000",                     /* north */
    "210000", "220000", "230000",                                         /* north-east */
    "310000", "320000", "330000", "340000", "350000", "360000", "370000", /* east */
    "410000", "420000", "430000", "440000", "450000", "460000",           /* centre, south */
    "500000", "510000", "520000", "530000", "540000",                     /* south-west */
    "610000", "620000", "630000", "640000", "650000",                     /* north-west */
    "660000",                                                             /* XPCC, see above */
    "710000", "810000", "820000",                                         /* TW, HK, MO */
};

char *hrss__show(char *out, size_t outsz, const char *s, size_t len, size_t max_chars)
{
    size_t o = 0, i = 0, chars = 0;

    if (outsz == 0)
        return out;
    while (i < len && chars < max_chars) {
        size_t n = utf8_prefix(s + i, len - i, 1);
        unsigned char c = (unsigned char)s[i];
        if (n == 0 || c < 0x20 || c == 0x7f) {
            n = 1;
            if (o + 1 >= outsz)
                break;
            out[o++] = '?';
        } else {
            if (o + n >= outsz)
                break;
            memcpy(out + o, s + i, n);
            o += n;
        }
        i += n;
        chars++;
    }
    if (i < len && o + 3 < outsz) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
    return out;
}

/* "'x'" for a printable ASCII character, else "byte 0xNN". */
static const char *show_char(char out[16], unsigned char c)
{
    if (c > 0x20 && c < 0x7f)
        snprintf(out, 16, "'%c'", c);
    else
        snprintf(out, 16, "byte 0x%02x", c);
    return out;
}

static int is_alnum(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static int all_digits(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

/* Checks that s[from..to) (0-based) are [0-9A-Za-z]; messages count from 1. */
static int check_alnum(const char *s, size_t from, size_t to, hrss_error *err)
{
    char c[16];
    for (size_t i = from; i < to; i++)
        if (!is_alnum((unsigned char)s[i]))
            return hrss__error(err, HRSS_EFORMAT, "character %zu must be [0-9A-Za-z], found %s",
                               i + 1, show_char(c, (unsigned char)s[i]));
    return HRSS_OK;
}

static int area_is_known(const char *s)
{
    for (size_t i = 0; i < HRSS_ARRAY_LEN(area_codes); i++)
        if (memcmp(s, area_codes[i], HRSS_AREA_CODE_LEN) == 0)
            return 1;
    return 0;
}

int hrss_area_code_check(const char *s, size_t len, hrss_error *err)
{
    if (len != HRSS_AREA_CODE_LEN)
        return hrss__error(err, HRSS_EFORMAT, "length %zu, must be %d", len, HRSS_AREA_CODE_LEN);
    if (!all_digits(s, len))
        return hrss__error(err, HRSS_EFORMAT, "must be 6 digits");
    if (!area_is_known(s))
        return hrss__error(err, HRSS_EFORMAT,
                           "%.6s is not 100000 nor a province-level code of GB/T 2260", s);
    return HRSS_OK;
}

int hrss_system_code_check(const char *s, size_t len, hrss_error *err)
{
    char c[16];
    int ministry;

    if (len != HRSS_SYSTEM_CODE_LEN)
        return hrss__error(err, HRSS_EFORMAT, "length %zu, must be %d", len, HRSS_SYSTEM_CODE_LEN);
    if (s[0] != 'B' && s[0] != 'S')
        return hrss__error(err, HRSS_EFORMAT, "must start with B or S, found %s",
                           show_char(c, (unsigned char)s[0]));
    if (!all_digits(s + 1, HRSS_AREA_CODE_LEN))
        return hrss__error(err, HRSS_EFORMAT, "characters 2-7 must be a 6-digit area code");
    if (!area_is_known(s + 1))
        return hrss__error(err, HRSS_EFORMAT,
                           "area %.6s is not 100000 nor a province-level code of GB/T 2260", s + 1);
    ministry = memcmp(s + 1, HRSS_MINISTRY_AREA, HRSS_AREA_CODE_LEN) == 0;
    if (s[0] == 'B' && !ministry)
        return hrss__error(err, HRSS_EFORMAT, "B (ministry) requires area 100000, found %.6s",
                           s + 1);
    if (s[0] == 'S' && ministry)
        return hrss__error(err, HRSS_EFORMAT,
                           "S (province) cannot have area 100000, which is the ministry's");
    return check_alnum(s, 1 + HRSS_AREA_CODE_LEN, HRSS_SYSTEM_CODE_LEN, err);
}

int hrss_interface_code_check(const char *s, size_t len, hrss_error *err)
{
    int rc;

    if (len != HRSS_INTERFACE_CODE_LEN)
        return hrss__error(err, HRSS_EFORMAT, "length %zu, must be %d", len,
                           HRSS_INTERFACE_CODE_LEN);
    /* The system code is the prefix, so its messages' positions still hold. */
    rc = hrss_system_code_check(s, HRSS_SYSTEM_CODE_LEN, err);
    if (rc != HRSS_OK)
        return rc;
    return check_alnum(s, HRSS_SYSTEM_CODE_LEN, HRSS_INTERFACE_CODE_LEN, err);
}

int hrss_id_check(const char *s, size_t len, hrss_error *err)
{
    const char *date = s + HRSS_SYSTEM_CODE_LEN;
    int rc;

    if (len != HRSS_ID_LEN)
        return hrss__error(err, HRSS_EFORMAT,
                           "length %zu, must be %d (system code + YYYYMMDD + 9 digits)", len,
                           HRSS_ID_LEN);
    rc = hrss_system_code_check(s, HRSS_SYSTEM_CODE_LEN, err);
    if (rc != HRSS_OK)
        return rc;
    if (!all_digits(date, 8))
        return hrss__error(err, HRSS_EFORMAT, "characters 12-19 must be a date YYYYMMDD");
    rc = hrss__date_check(date, err);
    if (rc != HRSS_OK)
        return rc;
    if (!all_digits(date + 8, 9))
        return hrss__error(err, HRSS_EFORMAT, "characters 20-28 must be a 9-digit sequence");
    return HRSS_OK;
}

/* Table 2, in its order. */
static const struct {
    hrss_comm_status st;
    const char *wire;
    const char *meaning;
} comm_statuses[] = {
    {HRSS_COMM_OK, "00", "business success"},
    {HRSS_COMM_BUSINESS_FAIL, "10", "business failure"},
    {HRSS_COMM_SYSTEM_ERROR, "20", "system error"},
    {HRSS_COMM_SIGNATURE, "30", "signature failure"},
    {HRSS_COMM_DECRYPT, "40", "decryption failure"},
    {HRSS_COMM_PERMISSION, "50", "insufficient permission"},
    {HRSS_COMM_OTHER, "90", "other error"},
};

const char *hrss_comm_status_str(hrss_comm_status st)
{
    for (size_t i = 0; i < HRSS_ARRAY_LEN(comm_statuses); i++)
        if (comm_statuses[i].st == st)
            return comm_statuses[i].wire;
    return NULL;
}

const char *hrss_comm_status_meaning(hrss_comm_status st)
{
    for (size_t i = 0; i < HRSS_ARRAY_LEN(comm_statuses); i++)
        if (comm_statuses[i].st == st)
            return comm_statuses[i].meaning;
    return NULL;
}

int hrss_comm_status_parse(const char *s, size_t len, hrss_comm_status *out, hrss_error *err)
{
    char shown[64];

    if (len == 2)
        for (size_t i = 0; i < HRSS_ARRAY_LEN(comm_statuses); i++)
            if (memcmp(s, comm_statuses[i].wire, 2) == 0) {
                if (out != NULL)
                    *out = comm_statuses[i].st;
                return HRSS_OK;
            }
    return hrss__error(err, HRSS_EFORMAT, "\"%s\" is not a value of table 2 (00 10 20 30 40 50 90)",
                       hrss__show(shown, sizeof(shown), s, len, 8));
}
