/*
 * tests/unit/sms/test_binding.c - bindings and service passwords (LD/T 6007
 * 6.2.1) on a real SQLite file: one number binds one phone, a phone binds
 * many, re-binding moves a number and names the old phone, the lockout, the
 * "own binding" rule, and the rules under threads binding at once on
 * separate connections.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <pthread.h>

#include "sms/binding.h"

#define SSN_A "11010519491231002X" /* GB 11643's example */
#define SSN_B "440524188001010014" /* the other one */

static char dir[] = "/tmp/hrss-binding-XXXXXX";
static char path[128];
static bind_policy pol;

static sqlite3 *open_db(void)
{
    sqlite3 *db;
    char err[128];
    if (sqlite3_open(path, &db) != SQLITE_OK)
        fail_msg("open %s", path);
    sqlite3_exec(db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL);
    if (bind_init(db, err, sizeof(err)) != 0)
        fail_msg("%s", err);
    return db;
}

static int setup(void **state)
{
    if (mkdtemp(dir) == NULL)
        return -1;
    snprintf(path, sizeof(path), "%s/sms.db", dir);
    bind_policy_default(&pol);
    pol.kdf_iterations = 1000; /* the rules, not the KDF's cost, are under test */
    pol.max_failures = 3;
    pol.lock_seconds = 600;
    *state = open_db();
    assert_int_equal(bind_person_set(*state, &pol, SSN_A, "张三", "123456"), BIND_OK);
    assert_int_equal(bind_person_set(*state, &pol, SSN_B, "李四", "654321"), BIND_OK);
    return 0;
}

static int teardown(void **state)
{
    char cmd[256];
    sqlite3_close(*state);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_bind_move_and_many(void **state)
{
    sqlite3 *db = *state;
    char old[HRSS_MOBILE_LEN + 1], ssn[HRSS_SSN_LEN + 1], name[BIND_NAME_MAX + 1];
    int left = -1;

    assert_int_equal(bind_add(db, &pol, "13800000001", SSN_A, "123456", 1000, old, &left, name),
                     BIND_OK);
    assert_string_equal(old, "");
    assert_string_equal(name, "张三");
    assert_int_equal(bind_add(db, &pol, "13800000001", SSN_A, "123456", 1001, old, &left, NULL),
                     BIND_ALREADY);
    /* a phone binds many numbers */
    assert_int_equal(bind_add(db, &pol, "13800000001", SSN_B, "654321", 1002, old, &left, NULL),
                     BIND_OK);
    /* one number binds one phone: binding it elsewhere moves it and names the old phone */
    assert_int_equal(bind_add(db, &pol, "13900000002", SSN_A, "123456", 1003, old, &left, NULL),
                     BIND_MOVED);
    assert_string_equal(old, "13800000001");
    char phone[HRSS_MOBILE_LEN + 1];
    assert_int_equal(bind_phone_of(db, SSN_A, phone), BIND_OK);
    assert_string_equal(phone, "13900000002");
    /* the old phone keeps its other number, which is now its own binding */
    assert_int_equal(bind_find(db, "13800000001", NULL, ssn, name), BIND_OK);
    assert_string_equal(ssn, SSN_B);
    assert_string_equal(name, "李四");
    assert_int_equal(bind_find(db, "13800000001", "张三", ssn, name), BIND_NONE);
}

static void test_find_by_name_and_own(void **state)
{
    sqlite3 *db = *state;
    char old[HRSS_MOBILE_LEN + 1], ssn[HRSS_SSN_LEN + 1], name[BIND_NAME_MAX + 1];
    int left;
    char c[HRSS_SSN_LEN + 1];

    /* a third person, also named 张三, with a valid number */
    memcpy(c, "44010119900307000", 17);
    c[17] = hrss_ssn_check_char(c);
    c[18] = '\0';
    assert_int_equal(bind_person_set(db, &pol, c, "张三", "111111"), BIND_OK);
    assert_int_equal(bind_add(db, &pol, "13700000003", SSN_B, "654321", 2000, old, &left, NULL),
                     BIND_MOVED);
    assert_int_equal(bind_add(db, &pol, "13700000003", c, "111111", 2001, old, &left, NULL), BIND_OK);
    /* no name: the first binding the phone made */
    assert_int_equal(bind_find(db, "13700000003", NULL, ssn, name), BIND_OK);
    assert_string_equal(ssn, SSN_B);
    assert_int_equal(bind_find(db, "13700000003", "", ssn, name), BIND_OK);
    assert_string_equal(ssn, SSN_B);
    assert_int_equal(bind_find(db, "13700000003", "张三", ssn, name), BIND_OK);
    assert_string_equal(ssn, c);
    /* two bound persons of the same name: ambiguous */
    assert_int_equal(bind_add(db, &pol, "13700000003", SSN_A, "123456", 2002, old, &left, NULL),
                     BIND_MOVED);
    assert_int_equal(bind_find(db, "13700000003", "张三", ssn, name), BIND_AMBIGUOUS);
    assert_int_equal(bind_find(db, "13600000000", NULL, ssn, name), BIND_NONE);
}

static void test_remove(void **state)
{
    sqlite3 *db = *state;
    char old[HRSS_MOBILE_LEN + 1];
    int left, n;

    assert_int_equal(bind_add(db, &pol, "13500000005", SSN_A, "123456", 3000, old, &left, NULL),
                     BIND_MOVED);
    assert_int_equal(bind_remove(db, "13500000006", SSN_A), BIND_NOT_BOUND);
    assert_int_equal(bind_remove(db, "13500000005", SSN_A), BIND_OK);
    assert_int_equal(bind_remove(db, "13500000005", SSN_A), BIND_NOT_BOUND);
    assert_int_equal(bind_add(db, &pol, "13500000005", SSN_A, "123456", 3001, old, &left, NULL),
                     BIND_OK);
    assert_int_equal(bind_add(db, &pol, "13500000005", SSN_B, "654321", 3002, old, &left, NULL),
                     BIND_MOVED);
    assert_int_equal(bind_remove_all(db, "13500000005", &n), BIND_OK);
    assert_int_equal(n, 2);
    assert_int_equal(bind_remove_all(db, "13500000005", &n), BIND_NONE);
    assert_int_equal(n, 0);
}

static void test_unknown_person_and_lockout(void **state)
{
    sqlite3 *db = *state;
    char old[HRSS_MOBILE_LEN + 1];
    int left = -1;

    assert_int_equal(bind_add(db, &pol, "13400000004", "110101199003070016", "123456", 4000,
                              old, &left, NULL),
                     BIND_NO_PERSON);
    assert_int_equal(bind_add(db, &pol, "13400000004", SSN_A, "000000", 4000, old, &left, NULL),
                     BIND_BAD_PASSWORD);
    assert_int_equal(left, 2);
    /* a right password resets the count */
    assert_int_equal(bind_add(db, &pol, "13400000004", SSN_A, "123456", 4001, old, &left, NULL),
                     BIND_OK);
    assert_int_equal(bind_add(db, &pol, "13400000005", SSN_A, "000000", 4002, old, &left, NULL),
                     BIND_BAD_PASSWORD);
    assert_int_equal(left, 2);
    assert_int_equal(bind_add(db, &pol, "13400000005", SSN_A, "000001", 4003, old, &left, NULL),
                     BIND_BAD_PASSWORD);
    assert_int_equal(left, 1);
    assert_int_equal(bind_add(db, &pol, "13400000005", SSN_A, "000002", 4004, old, &left, NULL),
                     BIND_LOCKED);
    /* locked: even the right password is refused until the lock ends */
    assert_int_equal(bind_add(db, &pol, "13400000005", SSN_A, "123456", 4005, old, &left, NULL),
                     BIND_LOCKED);
    assert_int_equal(bind_add(db, &pol, "13400000005", SSN_A, "123456", 4004 + 600, old, &left, NULL),
                     BIND_MOVED);
    assert_string_equal(old, "13400000004");
    /* provisioning a new password clears a lock */
    for (int i = 0; i < 3; i++)
        bind_add(db, &pol, "13400000005", SSN_A, "999999", 5000 + i, old, &left, NULL);
    assert_int_equal(bind_add(db, &pol, "13400000005", SSN_A, "123456", 5010, old, &left, NULL),
                     BIND_LOCKED);
    assert_int_equal(bind_person_set(db, &pol, SSN_A, "张三", "222222"), BIND_OK);
    assert_int_equal(bind_add(db, &pol, "13400000005", SSN_A, "222222", 5011, old, &left, NULL),
                     BIND_ALREADY);
}

static void test_password_change(void **state)
{
    sqlite3 *db = *state;
    char old[HRSS_MOBILE_LEN + 1];
    int left;

    assert_int_equal(bind_password_change(db, &pol, "13300000000", "1", "2", 6000, &left),
                     BIND_NONE);
    assert_int_equal(bind_person_set(db, &pol, SSN_B, "李四", "654321"), BIND_OK);
    /* QXFW in test_remove left SSN_B unbound */
    assert_int_equal(bind_add(db, &pol, "13300000003", SSN_B, "654321", 6000, old, &left, NULL),
                     BIND_OK);
    assert_int_equal(bind_password_change(db, &pol, "13300000003", "000000", "777777", 6001,
                                          &left),
                     BIND_BAD_PASSWORD);
    assert_int_equal(bind_password_change(db, &pol, "13300000003", "654321", "777777", 6002,
                                          &left),
                     BIND_OK);
    assert_int_equal(bind_add(db, &pol, "13300000009", SSN_B, "654321", 6003, old, &left, NULL),
                     BIND_BAD_PASSWORD);
    assert_int_equal(bind_add(db, &pol, "13300000009", SSN_B, "777777", 6004, old, &left, NULL),
                     BIND_MOVED);
}

/* ---- concurrency: several phones bind the same numbers at once ---- */

#define THREADS 6
#define ROUNDS 25

static int thread_failures; /* cmocka's asserts belong to the main thread */

static void *binder(void *arg)
{
    int id = (int)(intptr_t)arg;
    char phone[HRSS_MOBILE_LEN + 1], old[HRSS_MOBILE_LEN + 1];
    int left;
    sqlite3 *db = open_db();
    snprintf(phone, sizeof(phone), "1510000%04d", id);
    for (int i = 0; i < ROUNDS; i++) {
        const char *ssn = (i + id) % 2 ? SSN_A : SSN_B;
        const char *pw = (i + id) % 2 ? "222222" : "777777";
        bind_result r = bind_add(db, &pol, phone, ssn, pw, 7000 + i, old, &left, NULL);
        if (r != BIND_OK && r != BIND_MOVED && r != BIND_ALREADY) {
            fprintf(stderr, "thread %d: %s\n", id, bind_result_name(r));
            __atomic_add_fetch(&thread_failures, 1, __ATOMIC_SEQ_CST);
        }
    }
    sqlite3_close(db);
    return NULL;
}

static void test_concurrent_binds_keep_the_rules(void **state)
{
    sqlite3 *db = *state;
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, binder, (void *)(intptr_t)i), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(thread_failures, 0);
    /* each number is bound exactly once, to one of the phones that asked */
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT ssn, count(*), min(phone) FROM bindings"
                                        " WHERE ssn IN (?1, ?2) GROUP BY ssn",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, SSN_A, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, SSN_B, -1, SQLITE_STATIC);
    int rows = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        rows++;
        assert_int_equal(sqlite3_column_int(st, 1), 1);
        assert_memory_equal(sqlite3_column_text(st, 2), "1510000", 7);
    }
    sqlite3_finalize(st);
    assert_int_equal(rows, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bind_move_and_many),
        cmocka_unit_test(test_find_by_name_and_own),
        cmocka_unit_test(test_remove),
        cmocka_unit_test(test_unknown_person_and_lockout),
        cmocka_unit_test(test_password_change),
        cmocka_unit_test(test_concurrent_binds_keep_the_rules),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
