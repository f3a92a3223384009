/*
 * sms/account.h - business-system accounts of hrss-sms (LD/T 6007
 * appendix A): appName, client access password (PBKDF2-HMAC-SM3, salted,
 * compared in constant time), IP whitelist, balance in message parts,
 * status (active / frozen), signature and delivery-report callback URL;
 * with them the templates, the sensitive words and the management commands.
 *
 * The daemon holds an immutable snapshot (acct_snap) of accounts, templates
 * and words, reloaded when sms.db changes; workers take a reference with
 * acct_snap_get and give it back with acct_snap_put. Balances are
 * authoritative in the database only (the queue's writer charges them).
 */
#ifndef HRSS_SMS_ACCOUNT_H
#define HRSS_SMS_ACCOUNT_H

#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <sqlite3.h>

#include "common/cidr.h"
#include "common/holder.h"

#define ACCT_APP_MAX 64
#define ACCT_SIG_MAX_CHARS 20
#define ACCT_MAX_IPS 64
#define ACCT_ERR_MAX 256
#define ACCT_KDF_ITER_DEFAULT 100000

typedef struct acct_template {
    char *id;
    char *text;
} acct_template;

typedef struct account {
    char app[ACCT_APP_MAX + 1];
    char *pw;        /* pbkdf2-sm3$ITER$SALT_HEX$HASH_HEX */
    cidr ips[ACCT_MAX_IPS];
    int n_ips;
    int frozen;
    char *signature;
    char *callback;  /* may be NULL */
    acct_template *templates;
    int n_templates;
    /* a password once checked with the slow KDF is remembered as
     * HMAC-SM3(process key, password) so that later requests cost one MAC */
    pthread_mutex_t mu;
    uint8_t verified[32];
    int has_verified;
} account;

typedef struct acct_snap {
    holder_obj hold; /* references (common/holder.h) */
    account *accts;
    int n;
    char **words;  /* sensitive words, lower-cased ASCII */
    size_t *word_len;
    int n_words;
} acct_snap;

typedef holder acct_holder;

/* ---- passwords and addresses ---- */

/* Hashes password with a random 16-byte salt: "pbkdf2-sm3$ITER$SALT$HASH"
 * (malloc'd). NULL when the KDF fails. */
char *acct_password_hash(const char *password, int iterations);
/* 1 when password matches the stored form (constant-time compare), else 0. */
int acct_password_check(const char *stored, const char *password);

/* Parses "1.2.3.4, 10.0.0.0/8, ::1" (at most ACCT_MAX_IPS). -1 with err. */
int acct_ips_parse(const char *list, cidr *out, int *n, char *err, size_t errlen);
/* 1 when the address (text form, as evhttp reports peers) is in a range. */
int acct_ips_allow(const account *a, const char *peer);

/* Checks a password for account a of a live snapshot: the cache first, the
 * KDF on a miss. Any thread. */
int acct_verify(account *a, const char *password);

/* ---- snapshots (daemon) ---- */

void acct_holder_init(acct_holder *h);
void acct_holder_destroy(acct_holder *h);
/* Loads a new snapshot from db and publishes it; -1 with err (the previous
 * one stays). The cache of verified passwords survives for accounts whose
 * stored hash did not change. */
int acct_holder_reload(acct_holder *h, sqlite3 *db, char err[ACCT_ERR_MAX]);
acct_snap *acct_snap_get(acct_holder *h);
void acct_snap_put(acct_snap *s);
account *acct_find(acct_snap *s, const char *app);
const char *acct_template_find(const account *a, const char *id);
/* The first sensitive word found in text (case-insensitive for ASCII), or
 * NULL. */
const char *acct_sensitive_word(const acct_snap *s, const char *text, size_t len);

/* ---- management commands: hrss-sms account|template|blacklist|words ... ----
 * Print to out, errors to stderr; return the exit status (0, 1 refused,
 * 2 usage). The password of `account add` and `account set --password` is
 * read from `in` (one line), never from the command line. */
int acct_command(sqlite3 *db, int argc, char **argv, FILE *in, FILE *out);

#endif
