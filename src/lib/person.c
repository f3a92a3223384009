/*
 * person.c - social security numbers (GB 11643-1999 check character; also
 * residence permits of Hong Kong, Macao and Taiwan residents and foreign
 * permanent resident ID cards, LD/T 6007 3.6) and
 * mainland mobile numbers, and their masked forms.
 */
#include <string.h>

#include "hrss/person.h"

#include "envelope_private.h"
#include "internal.h"

static int all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

char hrss_ssn_check_char(const char *s17)
{
    /* ISO 7064 MOD 11-2: weights 2^(17-i) mod 11, check = (12 - sum) mod 11 */
    static const int w[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
    static const char code[] = "10X98765432";
    int sum = 0;

    if (s17 == NULL || !all_digits(s17, 17))
        return 0;
    for (int i = 0; i < 17; i++)
        sum += (s17[i] - '0') * w[i];
    return code[sum % 11];
}

int hrss_ssn_check(const char *s, size_t len, hrss_error *err)
{
    char c;
    int rc;

    if (len != HRSS_SSN_LEN)
        return hrss__error(err, HRSS_EFORMAT, "length %zu, must be 18", len);
    if (!all_digits(s, 17))
        return hrss__error(err, HRSS_EFORMAT, "the first 17 characters must be digits");
    /* LD/T 6007 3.6 note: the numbers of residence permits of Hong Kong,
     * Macao and Taiwan residents (810000, 820000, 830000) and of the 2023
     * foreign permanent resident ID card (9, then the province that issued
     * it, the nationality, the birth date) work as citizens' numbers do,
     * with the same check character. */
    int province = (s[0] - '0') * 10 + (s[1] - '0');
    int issuer = (s[1] - '0') * 10 + (s[2] - '0');
    if (!(province >= 11 && province <= 82) && memcmp(s, "830000", 6) != 0 &&
        !(s[0] == '9' && issuer >= 11 && issuer <= 82))
        return hrss__error(err, HRSS_EFORMAT,
                           "address code must start with a province (11-82), 830000 or, for a "
                           "foreign permanent resident, 9 and a province");
    rc = hrss__date_check(s + 6, err);
    if (rc != HRSS_OK || memcmp(s + 6, "1800", 4) < 0)
        return hrss__error(err, HRSS_EFORMAT, "characters 7-14 must be a date of birth YYYYMMDD");
    c = s[17] == 'x' ? 'X' : s[17];
    if (c != hrss_ssn_check_char(s))
        return hrss__error(err, HRSS_EFORMAT, "check character does not match (GB 11643)");
    return HRSS_OK;
}

static const char *mask(const char *s, size_t len, size_t full, size_t head, size_t tail,
                        char *out)
{
    if (len != full || s == NULL) {
        size_t n = len < full ? len : full;
        memset(out, '*', n);
        out[n] = '\0';
        return out;
    }
    memcpy(out, s, head);
    memset(out + head, '*', full - head - tail);
    memcpy(out + full - tail, s + full - tail, tail);
    out[full] = '\0';
    return out;
}

const char *hrss_ssn_mask(const char *s, size_t len, char out[HRSS_SSN_LEN + 1])
{
    return mask(s, len, HRSS_SSN_LEN, 6, 4, out);
}

const char *hrss_mobile_mask(const char *s, size_t len, char out[HRSS_MOBILE_LEN + 1])
{
    return mask(s, len, HRSS_MOBILE_LEN, 3, 4, out);
}

int hrss_mobile_check(const char *s, size_t len, char *canonical, hrss_error *err)
{
    if (canonical != NULL) {
        if (len == 14 && memcmp(s, "+86", 3) == 0) {
            s += 3;
            len -= 3;
        } else if (len == 13 && memcmp(s, "86", 2) == 0) {
            s += 2;
            len -= 2;
        }
    }
    if (len != HRSS_MOBILE_LEN || !all_digits(s, len))
        return hrss__error(err, HRSS_EFORMAT, "must be 11 digits");
    if (s[0] != '1' || s[1] < '3')
        return hrss__error(err, HRSS_EFORMAT, "must start with 13-19");
    if (canonical != NULL) {
        memcpy(canonical, s, HRSS_MOBILE_LEN);
        canonical[HRSS_MOBILE_LEN] = '\0';
    }
    return HRSS_OK;
}
