/*
 * sms/send.h - the send and status requests of the hrss-sms HTTP API
 * (LD/T 6007 5.1 interface access, appendix A codes), parsed from JSON
 * (application/json) or from a form (application/x-www-form-urlencoded, for
 * older clients), and the codes and messages of table A.1 with the
 * platform's own additions (docs/api.md).
 *
 * Parsing only checks presence and format (codes -1 and 2); who may send
 * what is decided by the caller (api.c). Pure; any thread.
 */
#ifndef HRSS_SMS_SEND_H
#define HRSS_SMS_SEND_H

#include <stddef.h>
#include <stdint.h>

/* Table A.1, then the platform's codes for what A.1 does not name. */
#define SMS_CODE_OK 1
#define SMS_CODE_MISSING (-1)
#define SMS_CODE_FORMAT 2
#define SMS_CODE_BALANCE 3
#define SMS_CODE_IP 5
#define SMS_CODE_APP 6
#define SMS_CODE_ISLONG 7
#define SMS_CODE_PASSWORD 8
#define SMS_CODE_TOO_LONG 9
#define SMS_CODE_BLACKLIST 10 /* the number is on the blacklist or unsubscribed (TD) */
#define SMS_CODE_SENSITIVE 11 /* the content holds a sensitive word */
#define SMS_CODE_OPERATOR 12  /* no carrier serves the number's segment */
#define SMS_CODE_SYSTEM 99    /* the platform could not store the message: retry */

/* "OK", "请求参数缺失", ... (the standard's texts). */
const char *sms_code_text(int code);

#define SEND_MAX_MOBILES 1000
#define SEND_MAX_CONTENT_BYTES 8192
#define SEND_MAX_VARS 32
#define SEND_MAX_CLIENT_ID 64
#define SEND_MAX_IDS 100

typedef struct send_req {
    char *app;
    char *password;
    char *content;      /* NULL when a template is used */
    char *template_id;
    char *client_id;    /* clientMsgId: idempotency key per appName */
    char **mobiles;     /* as given (not yet normalised) */
    int n_mobiles;
    char *var_names[SEND_MAX_VARS];
    char *var_values[SEND_MAX_VARS];
    int n_vars;
    int islong;         /* -1 absent, 0, 1, or 2 for any other value (code 7 later) */
    int priority;       /* lane: 0 verification and replies, 1 business (default), 2 bulk */
    int64_t send_time;  /* scheduled time (epoch seconds, CST input), 0 = now */
    char *ids[SEND_MAX_IDS]; /* status query: msgId values */
    int n_ids;
} send_req;

typedef enum send_kind { SEND_KIND_SEND, SEND_KIND_STATUS } send_kind;

/*
 * Parses a request body. content_type may be NULL (then JSON if the body
 * starts with '{', else form). Returns SMS_CODE_OK, SMS_CODE_MISSING or
 * SMS_CODE_FORMAT with msg (a short English explanation naming the field).
 * r is always filled as far as parsed and must be released with
 * send_req_free.
 */
int send_parse(send_kind kind, const char *content_type, const char *body, size_t len,
               send_req *r, char *msg, size_t msglen);
void send_req_free(send_req *r);

/* Expands ${name} placeholders of tmpl with the request's variables.
 * Returns a malloc'd text, or NULL with msg when a variable is missing or
 * the result exceeds SEND_MAX_CONTENT_BYTES. */
char *send_expand(const char *tmpl, const send_req *r, char *msg, size_t msglen);

#endif
