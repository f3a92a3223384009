/*
 * hrss/person.h - the personal numbers LD/T 6007-2024 works with: the social
 * security number (3.6: the citizen identity number of GB 11643-1999, 18
 * characters with an ISO 7064 MOD 11-2 check character) and mainland mobile
 * numbers, with the masked forms that are the only ones logs, consoles and
 * SMS replies may show (docs/design.md decision 9).
 *
 * Validators take a pointer and a length (no NUL needed), return HRSS_OK or
 * HRSS_EFORMAT with the broken rule in err->msg. Nothing allocates; every
 * function is safe from any thread.
 */
#ifndef HRSS_PERSON_H
#define HRSS_PERSON_H

#include <stddef.h>

#include "errors.h"

#ifdef __cplusplus
extern "C" {
#endif

#define HRSS_SSN_LEN 18
#define HRSS_MOBILE_LEN 11

/* The GB 11643 check character ('0'-'9' or 'X') of the 17 digits at s;
 * 0 when s holds anything else than 17 digits. */
HRSS_API char hrss_ssn_check_char(const char *s17);

/* 6-digit address code (province part 11-82), 8-digit date of birth that is a
 * real calendar date, 3-digit sequence, check character ('x' is accepted as
 * 'X'). A number in the 15-digit form of 1989 is refused: social security
 * numbers are 18 characters. */
HRSS_API int hrss_ssn_check(const char *s, size_t len, hrss_error *err);

/* "440101********0236": the first 6 and last 4 characters, 8 asterisks
 * between. Input that is not 18 characters long is masked whole ("*" for
 * each character, at most 18) so that a malformed number never leaks.
 * out must hold HRSS_SSN_LEN + 1 bytes; returns out. */
HRSS_API const char *hrss_ssn_mask(const char *s, size_t len, char out[HRSS_SSN_LEN + 1]);

/* A mainland China mobile number: 11 digits, "1" then 3-9; a leading "+86"
 * or "86" is accepted when canonical is given, which receives the 11 digits
 * (HRSS_MOBILE_LEN + 1 bytes). */
HRSS_API int hrss_mobile_check(const char *s, size_t len, char *canonical, hrss_error *err);

/* "138****5678" for an 11-digit number; anything else masked whole (at most
 * 11 asterisks). out must hold HRSS_MOBILE_LEN + 1 bytes; returns out. */
HRSS_API const char *hrss_mobile_mask(const char *s, size_t len,
                                      char out[HRSS_MOBILE_LEN + 1]);

#ifdef __cplusplus
}
#endif

#endif
