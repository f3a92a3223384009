/*
 * hrss/codes.h - identifiers and times of LD/T 6008-2024 (5.3, 6.1, tables 1
 * and 2): system codes, interface codes, area codes, request/response ids,
 * 14-digit times in China Standard Time, commStatus values, and a generator
 * of ids that never repeat.
 *
 * Validators take a pointer and a length (no NUL needed), return HRSS_OK or
 * HRSS_EFORMAT and, on failure, fill err->msg with the rule that was broken
 * (without a field name: callers prefix it). They never allocate and are safe
 * from any thread.
 */
#ifndef HRSS_CODES_H
#define HRSS_CODES_H

#include <stdint.h>
#include <time.h>

#include "errors.h"

#ifdef __cplusplus
extern "C" {
#endif

#define HRSS_SYSTEM_CODE_LEN 11    /* Y + XXXXXX + NNNN (5.3) */
#define HRSS_INTERFACE_CODE_LEN 15 /* system code + YYYY (6.1) */
#define HRSS_AREA_CODE_LEN 6
#define HRSS_ID_LEN 28             /* system code + YYYYMMDD + 9-digit sequence */
#define HRSS_TIME_LEN 14           /* YYYYMMDDHH24MISS */
#define HRSS_MINISTRY_AREA "100000"

/* "B" or "S" + a valid area ("B" only with 100000, "S" never with it) + 4 of [0-9A-Za-z]. */
HRSS_API int hrss_system_code_check(const char *s, size_t len, hrss_error *err);

/* A valid system code followed by 4 of [0-9A-Za-z]. */
HRSS_API int hrss_interface_code_check(const char *s, size_t len, hrss_error *err);

/* 100000 or a province-level code of GB/T 2260 (110000 ... 820000). */
HRSS_API int hrss_area_code_check(const char *s, size_t len, hrss_error *err);

/* serviceReqId / serviceResId: a valid system code, a real calendar date
 * YYYYMMDD, then 9 digits. */
HRSS_API int hrss_id_check(const char *s, size_t len, hrss_error *err);

/* 14 digits forming a real calendar date and time (no Feb 30, no 24:00:00). */
HRSS_API int hrss_time_check(const char *s, size_t len, hrss_error *err);

/* Converts a valid 14-digit CST time to seconds since the epoch. */
HRSS_API int hrss_time_parse(const char *s, size_t len, int64_t *epoch, hrss_error *err);

/* Formats an epoch second as a 14-digit CST time plus NUL, whatever TZ says. */
HRSS_API void hrss_time_format(int64_t epoch, char out[HRSS_TIME_LEN + 1]);

/* hrss_time_format of the current time. */
HRSS_API void hrss_time_now(char out[HRSS_TIME_LEN + 1]);

/* HRSS_OK when |time - now| <= window_sec, else HRSS_ESTALE (or the parse error). */
HRSS_API int hrss_time_check_window(const char *s, size_t len, int64_t now, int64_t window_sec,
                                    hrss_error *err);

/* commStatus of table 2. */
typedef enum hrss_comm_status {
    HRSS_COMM_OK = 0,            /* "00" business success */
    HRSS_COMM_BUSINESS_FAIL = 10,/* "10" business failure */
    HRSS_COMM_SYSTEM_ERROR = 20, /* "20" system error */
    HRSS_COMM_SIGNATURE = 30,    /* "30" signature failure */
    HRSS_COMM_DECRYPT = 40,      /* "40" decryption failure */
    HRSS_COMM_PERMISSION = 50,   /* "50" insufficient permission */
    HRSS_COMM_OTHER = 90         /* "90" other error */
} hrss_comm_status;

/* The two-character wire form ("00", "30"...); NULL for a value not in table 2. */
HRSS_API const char *hrss_comm_status_str(hrss_comm_status st);

/* The meaning in table 2 ("signature failure"); NULL for a value not in table 2. */
HRSS_API const char *hrss_comm_status_meaning(hrss_comm_status st);

/* Parses a wire value; HRSS_EFORMAT for anything not in table 2. */
HRSS_API int hrss_comm_status_parse(const char *s, size_t len, hrss_comm_status *out,
                                    hrss_error *err);

/*
 * Generator of serviceReqId/serviceResId values (docs/design.md decision 6):
 * system code + CST date + 9-digit sequence, never repeated, also across
 * restarts and across processes that share one system code and state
 * directory. Sequences are reserved in blocks from a file in state_dir under
 * an exclusive lock and made durable before use; a crash only skips ids.
 * A clock that goes back keeps the latest date already used.
 *
 * hrss_idgen_new: state_dir must exist or be creatable (mode 0700); the
 * handle is freed with hrss_idgen_free. hrss_idgen_next is thread-safe and
 * writes 28 characters plus NUL. HRSS_ERANGE when a day's 999,999,999
 * sequences are used up.
 */
typedef struct hrss_idgen hrss_idgen;
HRSS_API int hrss_idgen_new(const char *system_code, const char *state_dir, hrss_idgen **out,
                            hrss_error *err);
HRSS_API int hrss_idgen_next(hrss_idgen *g, char out[HRSS_ID_LEN + 1], hrss_error *err);
HRSS_API void hrss_idgen_free(hrss_idgen *g);

#ifdef __cplusplus
}
#endif
#endif
