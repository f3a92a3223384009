/*
 * lib/errors.c - names and texts of the error codes (generated from
 * HRSS_ERRNO_MAP) and the error-filling helpers of internal.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "internal.h"

const char *hrss_strerror(int code)
{
    switch (code) {
#define HRSS__ERR_TEXT(name, num, text)                                                            \
    case (num):                                                                                    \
        return (text);
        HRSS_ERRNO_MAP(HRSS__ERR_TEXT)
#undef HRSS__ERR_TEXT
    }
    return "unknown error";
}

const char *hrss_err_name(int code)
{
    switch (code) {
#define HRSS__ERR_NAME(name, num, text)                                                            \
    case (num):                                                                                    \
        return #name;
        HRSS_ERRNO_MAP(HRSS__ERR_NAME)
#undef HRSS__ERR_NAME
    }
    return "UNKNOWN";
}

void hrss_free(void *p)
{
    free(p);
}

int hrss__error(hrss_error *err, int code, const char *fmt, ...)
{
    if (err != NULL) {
        va_list ap;
        err->code = code;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
        va_end(ap);
        utf8_mend(err->msg); /* a message goes into JSON answers: never a cut character */
    }
    return code;
}

void hrss__error_prefix(hrss_error *err, const char *field)
{
    char tmp[HRSS_ERROR_MSG_MAX];
    if (err == NULL || field == NULL || field[0] == '\0')
        return;
    memcpy(tmp, err->msg, sizeof(tmp));
    tmp[sizeof(tmp) - 1] = '\0';
    /* The message may be cut; that is fine for a human-readable detail. */
    int n = snprintf(err->msg, sizeof(err->msg), "%s: ", field);
    if (n > 0 && (size_t)n < sizeof(err->msg))
        snprintf(err->msg + n, sizeof(err->msg) - (size_t)n, "%.*s",
                 (int)(sizeof(err->msg) - (size_t)n - 1), tmp);
    utf8_mend(err->msg);
}
