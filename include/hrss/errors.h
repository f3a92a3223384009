/*
 * hrss/errors.h - the one error code space of libhrss.
 *
 * Every function of the SDK that can fail returns HRSS_OK (0) or one of the
 * negative codes below. The list is generated from one X-macro so that the
 * enum, the names and the texts can never drift apart. The list only grows:
 * a retired code keeps its number.
 *
 * Detail a user can act on travels in an hrss_error out-parameter: the code
 * plus a message that names the field and the rule that was broken.
 */
#ifndef HRSS_ERRORS_H
#define HRSS_ERRORS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(HRSS_BUILDING_LIB) && defined(__GNUC__)
#define HRSS_API __attribute__((visibility("default")))
#else
#define HRSS_API
#endif

/* X(name, number, text) */
#define HRSS_ERRNO_MAP(X)                                                                          \
    X(OK, 0, "success")                                                                            \
    X(EINVAL, -1, "invalid argument")                                                              \
    X(ENOMEM, -2, "out of memory")                                                                 \
    X(EFORMAT, -3, "malformed input")                                                              \
    X(ETOOBIG, -4, "input exceeds its size limit")                                                 \
    X(EMISSING, -5, "required field missing")                                                      \
    X(EDUPKEY, -6, "duplicate JSON key")                                                           \
    X(EUTF8, -7, "invalid UTF-8")                                                                  \
    X(ECRYPTO, -8, "cryptographic operation failed")                                               \
    X(EKEY, -9, "unusable key")                                                                    \
    X(EBADSIG, -10, "signature mismatch")                                                          \
    X(EDECRYPT, -11, "decryption failed")                                                          \
    X(EREPLAY, -12, "nonce replayed")                                                              \
    X(ESTALE, -13, "request time outside the accepted window")                                     \
    X(EFULL, -14, "store full")                                                                    \
    X(EUNAVAIL, -15, "store unavailable")                                                          \
    X(EIO, -16, "input/output error")                                                              \
    X(ETYPE, -17, "wrong JSON type")                                                               \
    X(ERANGE, -18, "value out of range")                                                           \
    X(ENOTFOUND, -19, "not found")                                                                 \
    X(ENET, -20, "peer unreachable")                                                               \
    X(ETIMEOUT, -21, "timed out")                                                                  \
    X(EMISMATCH, -22, "response does not answer the request")                                      \
    X(EHTTP, -23, "HTTP error status")

typedef enum hrss_errcode {
#define HRSS__ERR_ENUM(name, num, text) HRSS_##name = (num),
    HRSS_ERRNO_MAP(HRSS__ERR_ENUM)
#undef HRSS__ERR_ENUM
} hrss_errcode;

#define HRSS_ERROR_MSG_MAX 256

/*
 * Detail of a failure. Callers allocate it (usually on the stack) and pass
 * its address; every function that takes one fills it when it fails and
 * leaves it alone when it succeeds. Passing NULL is allowed.
 */
typedef struct hrss_error {
    int code;                      /* an HRSS_E* value */
    char msg[HRSS_ERROR_MSG_MAX];  /* valid UTF-8, e.g. "header.appCode: length 12, at most 11" */
} hrss_error;

/* Text of a code ("signature mismatch"); never NULL, "unknown error" for others. */
HRSS_API const char *hrss_strerror(int code);

/* Name of a code without the prefix ("EBADSIG"); never NULL, "UNKNOWN" for others. */
HRSS_API const char *hrss_err_name(int code);

/* Frees any buffer the SDK returned to the caller. NULL is a no-op. */
HRSS_API void hrss_free(void *p);

#ifdef __cplusplus
}
#endif
#endif
