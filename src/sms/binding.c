/*
 * binding.c - bindings of phones and social security numbers, service
 * passwords with lockout (LD/T 6007 6.2.1). See binding.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "binding.h"

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS persons("
    " ssn TEXT PRIMARY KEY,"
    " name TEXT NOT NULL,"
    " pw TEXT,"
    " failures INTEGER NOT NULL DEFAULT 0,"
    " locked_until INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE IF NOT EXISTS bindings("
    " ssn TEXT PRIMARY KEY REFERENCES persons(ssn),"
    " phone TEXT NOT NULL,"
    " created INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS bindings_phone ON bindings(phone, created);";

const char *bind_result_name(bind_result r)
{
    static const char *const names[] = {
        "ok",       "moved",     "already", "no_person", "bad_password", "locked",
        "not_bound", "ambiguous", "none",    "full",      "error",
    };
    return (unsigned)r < sizeof(names) / sizeof(names[0]) ? names[r] : "?";
}

void bind_policy_default(bind_policy *p)
{
    p->max_failures = 5;
    p->lock_seconds = 1800;
    p->kdf_iterations = 10000;
}

int bind_init(sqlite3 *db, char *err, size_t errlen)
{
    char *msg = NULL;
    sqlite3_busy_timeout(db, 10000);
    if (sqlite3_exec(db, schema, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "bindings schema: %s", msg ? msg : "error");
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

static int exec(sqlite3 *db, const char *sql)
{
    return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

static bind_result begin(sqlite3 *db)
{
    return exec(db, "BEGIN IMMEDIATE") == 0 ? BIND_OK : BIND_ERROR;
}

/* Ends the transaction: commit when r is a result that changed or checked
 * state (failed password attempts are state too), else roll back. */
static bind_result finish(sqlite3 *db, bind_result r)
{
    if (r == BIND_ERROR) {
        exec(db, "ROLLBACK");
        return r;
    }
    if (exec(db, "COMMIT") != 0) {
        exec(db, "ROLLBACK");
        return BIND_ERROR;
    }
    return r;
}

/* Prepares sql and binds the text arguments (NULL-terminated list). */
static sqlite3_stmt *prep(sqlite3 *db, const char *sql, const char *a, const char *b)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return NULL;
    if ((a != NULL && sqlite3_bind_text(st, 1, a, -1, SQLITE_TRANSIENT) != SQLITE_OK) ||
        (b != NULL && sqlite3_bind_text(st, 2, b, -1, SQLITE_TRANSIENT) != SQLITE_OK)) {
        sqlite3_finalize(st);
        return NULL;
    }
    return st;
}

/* Runs a statement that returns no row. */
static int run(sqlite3 *db, const char *sql, const char *a, const char *b, int64_t n)
{
    sqlite3_stmt *st = prep(db, sql, a, b);
    int rc;
    if (st == NULL)
        return -1;
    if (sqlite3_bind_parameter_count(st) >= 3)
        sqlite3_bind_int64(st, 3, n);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

static void copy_col(sqlite3_stmt *st, int col, char *out, size_t size)
{
    const unsigned char *v = sqlite3_column_text(st, col);
    snprintf(out, size, "%s", v ? (const char *)v : "");
}

/* Checks ssn's password inside a transaction, counting failures. */
static bind_result password_check(sqlite3 *db, const bind_policy *pol, const char *ssn,
                                  const char *password, int64_t now, int *left,
                                  char person[BIND_NAME_MAX + 1])
{
    sqlite3_stmt *st = prep(db, "SELECT pw, failures, locked_until, name FROM persons WHERE ssn = ?1",
                            ssn, NULL);
    bind_result r;
    if (st == NULL)
        return BIND_ERROR;
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_finalize(st);
        return rc == SQLITE_DONE ? BIND_NO_PERSON : BIND_ERROR;
    }
    const char *pw = (const char *)sqlite3_column_text(st, 0);
    int failures = sqlite3_column_int(st, 1);
    int64_t locked_until = sqlite3_column_int64(st, 2);
    if (person != NULL)
        copy_col(st, 3, person, BIND_NAME_MAX + 1);
    if (locked_until > now) {
        sqlite3_finalize(st);
        return BIND_LOCKED;
    }
    int ok = pw != NULL && acct_password_check(pw, password);
    sqlite3_finalize(st);
    if (ok) {
        if (failures > 0 &&
            run(db, "UPDATE persons SET failures = 0 WHERE ssn = ?1", ssn, NULL, 0) != 0)
            return BIND_ERROR;
        return BIND_OK;
    }
    failures++;
    if (failures >= pol->max_failures) {
        r = run(db, "UPDATE persons SET failures = 0, locked_until = ?3 WHERE ssn = ?1", ssn,
                NULL, now + pol->lock_seconds) == 0
                ? BIND_LOCKED
                : BIND_ERROR;
        if (left != NULL)
            *left = 0;
        return r;
    }
    if (run(db, "UPDATE persons SET failures = ?3 WHERE ssn = ?1", ssn, NULL, failures) != 0)
        return BIND_ERROR;
    if (left != NULL)
        *left = pol->max_failures - failures;
    return BIND_BAD_PASSWORD;
}

bind_result bind_person_set(sqlite3 *db, const bind_policy *pol, const char *ssn,
                            const char *name, const char *password)
{
    char *hash = NULL;
    bind_result r;

    if (password != NULL && (hash = acct_password_hash(password, pol->kdf_iterations)) == NULL)
        return BIND_ERROR;
    if (begin(db) != BIND_OK) {
        free(hash);
        return BIND_ERROR;
    }
    sqlite3_stmt *st =
        prep(db,
             "INSERT INTO persons(ssn, name, pw) VALUES (?1, ?2, ?3)"
             " ON CONFLICT(ssn) DO UPDATE SET name = excluded.name,"
             " pw = coalesce(excluded.pw, persons.pw), failures = 0, locked_until = 0",
             ssn, name);
    if (st == NULL) {
        free(hash);
        return finish(db, BIND_ERROR);
    }
    if (hash != NULL)
        sqlite3_bind_text(st, 3, hash, -1, SQLITE_TRANSIENT);
    r = sqlite3_step(st) == SQLITE_DONE ? BIND_OK : BIND_ERROR;
    sqlite3_finalize(st);
    free(hash);
    return finish(db, r);
}

/* How many numbers phone binds, or -1. */
static int count_of(sqlite3 *db, const char *phone)
{
    sqlite3_stmt *st = prep(db, "SELECT count(*) FROM bindings WHERE phone = ?1", phone, NULL);
    int n = -1;
    if (st != NULL && sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return n;
}

bind_result bind_add(sqlite3 *db, const bind_policy *pol, const char *phone, const char *ssn,
                     const char *password, int64_t now, char old_phone[HRSS_MOBILE_LEN + 1],
                     int *left, char person[BIND_NAME_MAX + 1])
{
    bind_result r;

    old_phone[0] = '\0';
    if (person != NULL)
        person[0] = '\0';
    if (begin(db) != BIND_OK)
        return BIND_ERROR;
    r = password_check(db, pol, ssn, password, now, left, person);
    if (r != BIND_OK)
        return finish(db, r);
    sqlite3_stmt *st = prep(db, "SELECT phone FROM bindings WHERE ssn = ?1", ssn, NULL);
    if (st == NULL)
        return finish(db, BIND_ERROR);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        copy_col(st, 0, old_phone, HRSS_MOBILE_LEN + 1);
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return finish(db, BIND_ERROR);
    if (old_phone[0] != '\0' && strcmp(old_phone, phone) == 0) {
        old_phone[0] = '\0';
        return finish(db, BIND_ALREADY);
    }
    int n = count_of(db, phone);
    if (n < 0)
        return finish(db, BIND_ERROR);
    if (n >= BIND_LIST_MAX) {
        old_phone[0] = '\0';
        return finish(db, BIND_FULL);
    }
    if (old_phone[0] != '\0') {
        if (run(db, "UPDATE bindings SET phone = ?2, created = ?3 WHERE ssn = ?1", ssn, phone,
                now) != 0)
            return finish(db, BIND_ERROR);
        return finish(db, BIND_MOVED);
    }
    if (run(db, "INSERT INTO bindings(ssn, phone, created) VALUES (?1, ?2, ?3)", ssn, phone,
            now) != 0)
        return finish(db, BIND_ERROR);
    return finish(db, BIND_OK);
}

bind_result bind_remove(sqlite3 *db, const char *phone, const char *ssn)
{
    if (begin(db) != BIND_OK)
        return BIND_ERROR;
    if (run(db, "DELETE FROM bindings WHERE ssn = ?1 AND phone = ?2", ssn, phone, 0) != 0)
        return finish(db, BIND_ERROR);
    return finish(db, sqlite3_changes(db) > 0 ? BIND_OK : BIND_NOT_BOUND);
}

bind_result bind_remove_all(sqlite3 *db, const char *phone, int *count)
{
    *count = 0;
    if (begin(db) != BIND_OK)
        return BIND_ERROR;
    if (run(db, "DELETE FROM bindings WHERE phone = ?1", phone, NULL, 0) != 0)
        return finish(db, BIND_ERROR);
    *count = sqlite3_changes(db);
    return finish(db, *count > 0 ? BIND_OK : BIND_NONE);
}

/* Finds without a transaction of its own (one statement reads one snapshot). */
static bind_result find(sqlite3 *db, const char *phone, const char *name,
                        char ssn[HRSS_SSN_LEN + 1], char person[BIND_NAME_MAX + 1])
{
    int named = name != NULL && name[0] != '\0';
    sqlite3_stmt *st =
        prep(db,
             named ? "SELECT b.ssn, p.name FROM bindings b JOIN persons p ON p.ssn = b.ssn"
                     " WHERE b.phone = ?1 AND p.name = ?2 ORDER BY b.created, b.rowid LIMIT 2"
                   : "SELECT b.ssn, p.name FROM bindings b JOIN persons p ON p.ssn = b.ssn"
                     " WHERE b.phone = ?1 ORDER BY b.created, b.rowid LIMIT 1",
             phone, named ? name : NULL);
    int rows = 0, rc;
    if (st == NULL)
        return BIND_ERROR;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (rows++ == 0) {
            copy_col(st, 0, ssn, HRSS_SSN_LEN + 1);
            copy_col(st, 1, person, BIND_NAME_MAX + 1);
        }
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return BIND_ERROR;
    if (rows == 0)
        return BIND_NONE;
    return rows > 1 ? BIND_AMBIGUOUS : BIND_OK;
}

bind_result bind_find(sqlite3 *db, const char *phone, const char *name,
                      char ssn[HRSS_SSN_LEN + 1], char person[BIND_NAME_MAX + 1])
{
    ssn[0] = person[0] = '\0';
    return find(db, phone, name, ssn, person);
}

bind_result bind_password_change(sqlite3 *db, const bind_policy *pol, const char *phone,
                                 const char *old_pw, const char *new_pw, int64_t now, int *left)
{
    char ssn[HRSS_SSN_LEN + 1], person[BIND_NAME_MAX + 1];
    char *hash = acct_password_hash(new_pw, pol->kdf_iterations);
    bind_result r;

    if (hash == NULL)
        return BIND_ERROR;
    if (begin(db) != BIND_OK) {
        free(hash);
        return BIND_ERROR;
    }
    r = find(db, phone, NULL, ssn, person);
    if (r == BIND_OK)
        r = password_check(db, pol, ssn, old_pw, now, left, NULL);
    if (r == BIND_OK &&
        run(db, "UPDATE persons SET pw = ?2 WHERE ssn = ?1", ssn, hash, 0) != 0)
        r = BIND_ERROR;
    free(hash);
    return finish(db, r);
}

bind_result bind_phone_of(sqlite3 *db, const char *ssn, char phone[HRSS_MOBILE_LEN + 1])
{
    sqlite3_stmt *st = prep(db, "SELECT phone FROM bindings WHERE ssn = ?1", ssn, NULL);
    phone[0] = '\0';
    if (st == NULL)
        return BIND_ERROR;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        copy_col(st, 0, phone, HRSS_MOBILE_LEN + 1);
    sqlite3_finalize(st);
    if (rc == SQLITE_ROW)
        return BIND_OK;
    return rc == SQLITE_DONE ? BIND_NOT_BOUND : BIND_ERROR;
}
