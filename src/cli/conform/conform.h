/*
 * cli/conform/conform.h - the conformance kit of "hrss conform": a black-box
 * judge of LD/T 6008-2024 nodes, providers (conform_target_run) and callers
 * (conform_serve_run), whatever their vendor.
 *
 * Every check records one result: the clause of the standard it tests, a
 * stable id, what it checked, the reading of docs/design.md
 * (a numbered decision) it relies on, and a verdict: pass, fail (the standard's
 * text is broken), differs (the standard is ambiguous and the peer reads it
 * otherwise than hrss: both readings are shown) or skip (not applicable, or
 * not asked for). Results become a terminal summary, JSON and a one-page
 * HTML report (report.c). Requests and answers kept in a report have the
 * run's secrets, SM4 keys and personal numbers redacted.
 *
 * Uses only the public SDK, libcurl (the checks' HTTP client) and libevent
 * (the reference server of serve.c).
 */
#ifndef HRSS_CLI_CONFORM_H
#define HRSS_CLI_CONFORM_H

#include <stddef.h>
#include <stdio.h>

#include "hrss/hrss.h"

typedef enum cf_verdict { CF_PASS = 0, CF_FAIL, CF_DIFFERS, CF_SKIP } cf_verdict;

typedef struct cf_result {
    char *clause;   /* "7.1.1.2" */
    char *id;       /* "signature.tampered" */
    char *title;    /* what was checked */
    char *reading;  /* hrss's reading relied on ("" when the text is plain) */
    char *detail;   /* what was seen: the reason of a fail, both readings of a differs */
    char *request;  /* the request as sent (fail and differs only; redacted) */
    char *response; /* the answer as received (same) */
    cf_verdict verdict;
} cf_result;

typedef struct cf_report {
    const char *mode;   /* "node", "provider", "serve" */
    const char *target; /* URL or listening address */
    char started[HRSS_TIME_LEN + 1];
    cf_result *items;
    size_t n, cap;
    /* texts replaced by "[redacted]" in kept requests and answers */
    const char *secrets[4];
    size_t secret_lens[4];
} cf_report;

/* Adds a result; printf-style detail. The request/response texts may be
 * NULL; they are copied (redacted) only for fail and differs. Out of memory
 * aborts the tool (a report with holes would lie). */
void cf_add(cf_report *r, const char *clause, const char *id, const char *title,
            const char *reading, cf_verdict v, const char *req, const char *resp, const char *fmt,
            ...) __attribute__((format(printf, 9, 10)));
void cf_report_free(cf_report *r);
/* Registers a secret to redact (borrowed; at most 4). */
void cf_report_secret(cf_report *r, const char *s, size_t len);
/* Copy of text with the report's secrets, 18-character ID numbers and
 * 11-digit mobile numbers masked; free(). */
char *cf_redact(const cf_report *r, const char *text);

/* Number of results with verdict v. */
size_t cf_count(const cf_report *r, cf_verdict v);
/* The terminal summary: a line per clause (pass/fail/differs/skip counts),
 * then one line per result that did not pass. */
void cf_print_summary(const cf_report *r, FILE *f);
/* Writes the report as JSON (path ends in .json) or HTML (.html); CLI_OK or
 * CLI_USAGE with a message. */
int cf_write_report(const cf_report *r, const char *path);
const char *cf_verdict_name(cf_verdict v);

/* ---- judgements shared by both directions (judge.c) ---- */

/* Readings of 7.1.1.2 met in the field besides hrss's. */
typedef enum cf_sign_reading {
    CF_SIGN_HRSS = 0,
    CF_SIGN_NO_NONCE,  /* the nonce not in the signed string */
    CF_SIGN_TIMESTAMP, /* the time signed under the key "timestamp" */
    CF_SIGN_UPPER      /* hex signatures in uppercase */
} cf_sign_reading;
/* One sentence naming the reading and hrss's (static). */
const char *cf_sign_reading_text(cf_sign_reading rd);
/* A copy of header, without "signature", as rd canonicalises it
 * (json_decref; NULL when out of memory). */
json_t *cf_header_as_read(const json_t *header, cf_sign_reading rd);

/* Does header's "signature" hold under k? PASS, FAIL, or DIFFERS when it is
 * right under another reading of 7.1.1.2 (uppercase hex, nonce not signed,
 * the "timestamp" key); detail says which. */
cf_verdict cf_judge_signature(const json_t *header, const hrss_sig_key *k, char *detail, size_t n);
/* Does body open under the profile (7.1.1.1)? On PASS or DIFFERS *plain (may
 * be NULL) is the plaintext object (json_decref). DIFFERS names another
 * reading (hex, uppercase hex, C1C2C3, DER); FAIL the breach (zero padding,
 * plaintext where ciphertext is due, wrong key). */
cf_verdict cf_judge_cipher(const json_t *body, hrss_body_cipher cipher, hrss_text_encoding enc,
                           const char *sm4_key, const hrss_sm2_key *own, json_t **plain,
                           char *detail, size_t n);

/* ---- checks of a node or a provider (target.c) ---- */

typedef struct cf_target_opts {
    int provider; /* 0: a node; 1: a provider called as a node would */
    const char *url, *caller, *service, *area;
    const char *paged_service, *batch_service, *ungranted_service;
    hrss_sig_key sign;   /* the caller's credential profile */
    hrss_sig_key verify; /* the answers' signatures; NONE: not checked */
    hrss_body_cipher cipher;
    hrss_text_encoding encoding;
    const char *sm4_key;
    const hrss_sm2_key *peer_sm2; /* SM2 bodies: the provider's public key */
    const hrss_sm2_key *own_sm2;  /* SM2 bodies: the caller's private key */
    const char *body_json;        /* the good request's body; NULL: {} */
    const char *state_dir;
    int standalone; /* provider: reachable without a node, so it checks time,
                     * signatures and nonces itself */
    long timeout_ms;
} cf_target_opts;

/* Runs every check against the target, adding results to r. CLI_OK, or
 * CLI_USAGE when the run could not start (message printed). */
int conform_target_run(const cf_target_opts *o, cf_report *r);

/* ---- the reference server judging a caller (serve.c) ---- */

typedef struct cf_serve_opts {
    const char *listen; /* "127.0.0.1:PORT" */
    const char *caller, *service, *area, *system;
    hrss_sig_key verify; /* the caller's profile */
    hrss_sig_key sign;   /* the answers' signatures */
    hrss_body_cipher cipher;
    hrss_text_encoding encoding;
    const char *sm4_key;
    const hrss_sm2_key *own_sm2;    /* opens SM2 requests */
    const hrss_sm2_key *caller_sm2; /* seals SM2 answers */
    const char *state_dir;
    long count;         /* stop after this many requests; 0: at SIGINT/SIGTERM */
    const char *report; /* written after each request and at the end */
} cf_serve_opts;

int conform_serve_run(const cf_serve_opts *o, cf_report *r);

#endif
