/*
 * sms/binding.h - bindings of phones and social security numbers and the
 * citizens' SMS service passwords (LD/T 6007 6.2.1, docs/design.md decision 9).
 *
 * Rules: one social security number binds one phone; a phone binds many
 * numbers (a citizen may let someone else's phone use the service for him).
 * Binding a number that another phone holds moves it, and the caller is told
 * the old phone so that it can be informed. A command without a name acts
 * for the phone's own binding: its only one, or else the first it made; with
 * a name, for the bound person of that name.
 *
 * Service passwords are provisioned by business systems (bind_person_set),
 * stored hashed (PBKDF2-HMAC-SM3, account.h), and locked after
 * policy.max_failures wrong attempts in a row for policy.lock_seconds.
 *
 * Every function runs one SQLite transaction (BEGIN IMMEDIATE), so that
 * concurrent commands from several phones, on several connections or
 * processes, keep the rules. Tables live in the database handed in; they are
 * created by bind_init. Numbers are never logged here.
 */
#ifndef HRSS_SMS_BINDING_H
#define HRSS_SMS_BINDING_H

#include <stdint.h>

#include <sqlite3.h>

#include "hrss/person.h"

#define BIND_NAME_MAX 64 /* bytes of a person's name */
#define BIND_LIST_MAX 16 /* numbers one phone may bind */

typedef struct bind_policy {
    int max_failures;    /* wrong passwords in a row before a lock (5) */
    int lock_seconds;    /* how long the lock lasts (1800) */
    int kdf_iterations;  /* PBKDF2 iterations for new passwords (10000) */
} bind_policy;

typedef enum bind_result {
    BIND_OK,
    BIND_MOVED,        /* bound, taken from another phone (old_phone filled) */
    BIND_ALREADY,      /* this phone already held it: nothing changed */
    BIND_NO_PERSON,    /* number unknown (no password provisioned) */
    BIND_BAD_PASSWORD, /* wrong password; *left attempts before a lock */
    BIND_LOCKED,       /* locked after too many wrong passwords */
    BIND_NOT_BOUND,    /* the phone does not hold that number */
    BIND_AMBIGUOUS,    /* several bound persons match (or none named, several bound) */
    BIND_NONE,         /* the phone binds nobody (of that name) */
    BIND_FULL,         /* the phone already binds BIND_LIST_MAX numbers */
    BIND_ERROR,        /* storage error (logged by the caller) */
} bind_result;

/* A short English name of a result, for logs and tests. */
const char *bind_result_name(bind_result r);

void bind_policy_default(bind_policy *p);

/* Creates the tables if missing. 0, or -1 with err. */
int bind_init(sqlite3 *db, char *err, size_t errlen);

/* Business-system provisioning: the person's name and a new service
 * password (NULL keeps the current one). Clears a lock. */
bind_result bind_person_set(sqlite3 *db, const bind_policy *pol, const char *ssn,
                            const char *name, const char *password);

/* BD#ssn#password from phone. On BIND_MOVED, old_phone receives the phone
 * that held it; on BIND_BAD_PASSWORD, *left the attempts before a lock;
 * person (may be NULL) receives the person's name when the number is known. */
bind_result bind_add(sqlite3 *db, const bind_policy *pol, const char *phone, const char *ssn,
                     const char *password, int64_t now, char old_phone[HRSS_MOBILE_LEN + 1],
                     int *left, char person[BIND_NAME_MAX + 1]);

/* QXBD#ssn: the phone gives up that number. */
bind_result bind_remove(sqlite3 *db, const char *phone, const char *ssn);

/* QXFW#: the phone gives up every number; *count receives how many. */
bind_result bind_remove_all(sqlite3 *db, const char *phone, int *count);

/* The person a command from phone acts for: name NULL or "" for the phone's
 * own binding. Fills ssn and the person's name. */
bind_result bind_find(sqlite3 *db, const char *phone, const char *name,
                      char ssn[HRSS_SSN_LEN + 1], char person[BIND_NAME_MAX + 1]);

/* MMCZ#old#new from phone: changes the password of the person the phone
 * acts for without a name (its own binding); a wrong old password counts
 * towards that person's lock. */
bind_result bind_password_change(sqlite3 *db, const bind_policy *pol, const char *phone,
                                 const char *old_pw, const char *new_pw, int64_t now, int *left);

/* The phone a number is bound to (for notices to a person). */
bind_result bind_phone_of(sqlite3 *db, const char *ssn, char phone[HRSS_MOBILE_LEN + 1]);

#endif
