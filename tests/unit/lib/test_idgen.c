/*
 * tests/unit/lib/test_idgen.c - the id generator of codes.h (docs/design.md
 * decision 6): unique in a thread, across threads, across handles
 * (as processes would be) and across restarts; new days start at 1; a clock
 * that goes back keeps the later date; a corrupt state file is an error.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hrss/codes.h"
#include "lib/idgen_private.h"

#define CODE "S110000Y70P"
#define DAY_20240228 1709049600LL /* 00:00:00 CST */
#define DAY_20240229 1709136000LL
#define DAY_20240301 1709222400LL

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int setup_dir(void **state)
{
    char *dir = strdup("/tmp/hrss-idgen-XXXXXX");
    if (dir == NULL || mkdtemp(dir) == NULL)
        return -1;
    *state = dir;
    return 0;
}

static int teardown_dir(void **state)
{
    nftw(*state, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    free(*state);
    return 0;
}

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void read_file(const char *dir, const char *name, char *buf, size_t size)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t n = fread(buf, 1, size - 1, f);
    buf[n] = '\0';
    fclose(f);
}

static int cmp_id(const void *a, const void *b)
{
    return strcmp(a, b);
}

static hrss_idgen *gen_new(const char *dir)
{
    hrss_idgen *g = NULL;
    hrss_error err = {0};
    int rc = hrss_idgen_new(CODE, dir, &g, &err);
    if (rc != HRSS_OK)
        fail_msg("hrss_idgen_new: %s", err.msg);
    return g;
}

static void next_at(hrss_idgen *g, int64_t epoch, char *id)
{
    hrss_error err = {0};
    int rc = hrss__idgen_next_at(g, epoch, id, &err);
    if (rc != HRSS_OK)
        fail_msg("next: %s", err.msg);
    assert_int_equal(strlen(id), HRSS_ID_LEN);
    assert_int_equal(hrss_id_check(id, HRSS_ID_LEN, &err), HRSS_OK);
}

static void test_sequential(void **state)
{
    hrss_idgen *g = gen_new(*state);
    char prev[HRSS_ID_LEN + 1] = "", id[HRSS_ID_LEN + 1], today[HRSS_TIME_LEN + 1];
    hrss_error err;

    hrss_time_now(today);
    for (int i = 0; i < 5000; i++) {
        assert_int_equal(hrss_idgen_next(g, id, &err), HRSS_OK);
        assert_int_equal(hrss_id_check(id, strlen(id), &err), HRSS_OK);
        assert_memory_equal(id, CODE, 11);
        if (prev[0] != '\0' && memcmp(prev + 11, id + 11, 8) == 0)
            assert_true(strcmp(id, prev) > 0); /* same day: strictly increasing */
        memcpy(prev, id, sizeof(id));
    }
    hrss_idgen_free(g);
    hrss_idgen_free(NULL);
}

static void test_first_ids_and_file(void **state)
{
    hrss_idgen *g = gen_new(*state);
    char id[HRSS_ID_LEN + 1], rec[64];
    struct stat st;
    char path[512];

    next_at(g, DAY_20240229 + 3600, id);
    assert_string_equal(id, CODE "20240229000000001");
    next_at(g, DAY_20240229 + 3601, id);
    assert_string_equal(id, CODE "20240229000000002");
    /* the first block (16) is on disk before any of it is handed out */
    read_file(*state, CODE ".seq", rec, sizeof(rec));
    assert_string_equal(rec, "20240229 0000000017\n");
    snprintf(path, sizeof(path), "%s/" CODE ".seq", (char *)*state);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    hrss_idgen_free(g);
}

/* A new handle on the same directory is a restart: it continues above. */
static void test_restart_continues(void **state)
{
    char last[HRSS_ID_LEN + 1], id[HRSS_ID_LEN + 1];
    hrss_idgen *g = gen_new(*state);
    for (int i = 0; i < 100; i++)
        next_at(g, DAY_20240229, last);
    hrss_idgen_free(g);

    g = gen_new(*state);
    next_at(g, DAY_20240229, id);
    assert_true(strcmp(id, last) > 0);
    hrss_idgen_free(g);
}

/* Two handles stand for two processes sharing the state file. */
static void test_two_handles(void **state)
{
    enum { N = 3000 };
    static char ids[2 * N][HRSS_ID_LEN + 1];
    hrss_idgen *a = gen_new(*state), *b = gen_new(*state);

    for (int i = 0; i < N; i++) {
        next_at(a, DAY_20240229, ids[2 * i]);
        next_at(b, DAY_20240229, ids[2 * i + 1]);
    }
    qsort(ids, 2 * N, sizeof(ids[0]), cmp_id);
    for (int i = 1; i < 2 * N; i++)
        if (strcmp(ids[i - 1], ids[i]) == 0)
            fail_msg("duplicate id %s", ids[i]);
    hrss_idgen_free(a);
    hrss_idgen_free(b);
}

static void test_new_day_and_clock_back(void **state)
{
    char id[HRSS_ID_LEN + 1], rec[64];
    hrss_idgen *g = gen_new(*state);

    next_at(g, DAY_20240228 + 86399, id); /* 23:59:59 CST */
    assert_string_equal(id, CODE "20240228000000001");
    next_at(g, DAY_20240229, id); /* midnight: a new day starts at 1 */
    assert_string_equal(id, CODE "20240229000000001");
    next_at(g, DAY_20240228 + 100, id); /* clock went back: keep the 29th */
    assert_string_equal(id, CODE "20240229000000002");

    /* Another process whose clock is behind still uses the stored date. */
    hrss_idgen *h = gen_new(*state);
    next_at(h, DAY_20240228, id);
    assert_string_equal(id, CODE "20240229000000033"); /* after g's 2nd block */
    hrss_idgen_free(h);

    /* The stored date moves with the latest day anyone used. */
    next_at(g, DAY_20240301 + 5, id);
    assert_string_equal(id, CODE "20240301000000001");
    read_file(*state, CODE ".seq", rec, sizeof(rec));
    assert_memory_equal(rec, "20240301 ", 9);
    hrss_idgen_free(g);
}

/* UTC midnight is 08:00 CST: the date changes at CST midnight only. */
static void test_day_is_cst(void **state)
{
    char id[HRSS_ID_LEN + 1];
    hrss_idgen *g = gen_new(*state);
    next_at(g, DAY_20240229 - 1, id); /* 2024-02-28T15:59:59Z */
    assert_memory_equal(id + 11, "20240228", 8);
    next_at(g, DAY_20240229, id); /* 2024-02-28T16:00:00Z */
    assert_memory_equal(id + 11, "20240229", 8);
    hrss_idgen_free(g);
}

static void test_range_exhausted(void **state)
{
    char id[HRSS_ID_LEN + 1];
    hrss_error err = {0};
    write_file(*state, CODE ".seq", "20240229 0999999999\n");
    hrss_idgen *g = gen_new(*state);

    next_at(g, DAY_20240229, id);
    assert_string_equal(id, CODE "20240229999999999");
    assert_int_equal(hrss__idgen_next_at(g, DAY_20240229, id, &err), HRSS_ERANGE);
    assert_non_null(strstr(err.msg, "999999999 ids of 20240229"));
    /* and again: no wrap-around */
    assert_int_equal(hrss__idgen_next_at(g, DAY_20240229, id, &err), HRSS_ERANGE);
    /* the next day is fine */
    next_at(g, DAY_20240301, id);
    assert_string_equal(id, CODE "20240301000000001");
    hrss_idgen_free(g);
}

static void expect_corrupt(const char *dir, const char *text)
{
    hrss_idgen *g = NULL;
    hrss_error err = {0};
    write_file(dir, CODE ".seq", text);
    assert_int_equal(hrss_idgen_new(CODE, dir, &g, &err), HRSS_EIO);
    assert_null(g);
    if (strstr(err.msg, "is corrupt") == NULL)
        fail_msg("'%s': %s", text, err.msg);
}

static void test_corrupt_state(void **state)
{
    char id[HRSS_ID_LEN + 1], rec[64];
    hrss_error err = {0};

    expect_corrupt(*state, "garbage");
    expect_corrupt(*state, "20240229 00000");          /* torn */
    expect_corrupt(*state, "20240230 0000000001\n");   /* no such day */
    expect_corrupt(*state, "20240229 0000000000\n");   /* sequence 0 */
    expect_corrupt(*state, "20240229 1000000001\n");   /* past the end */
    expect_corrupt(*state, "20240229 0000000001\nxx"); /* trailing bytes */
    expect_corrupt(*state, "20240229-0000000001\n");

    /* Corruption found while running: an error, never a reset. */
    write_file(*state, CODE ".seq", "");
    hrss_idgen *g = gen_new(*state);
    next_at(g, DAY_20240229, id);
    write_file(*state, CODE ".seq", "junk");
    int rc = HRSS_OK;
    for (int i = 0; i < 100 && rc == HRSS_OK; i++)
        rc = hrss__idgen_next_at(g, DAY_20240229, id, &err);
    assert_int_equal(rc, HRSS_EIO);
    assert_non_null(strstr(err.msg, "is corrupt"));
    read_file(*state, CODE ".seq", rec, sizeof(rec));
    assert_string_equal(rec, "junk");
    hrss_idgen_free(g);
}

static void test_bad_arguments(void **state)
{
    hrss_idgen *g = NULL;
    hrss_error err = {0};
    char path[512];

    assert_int_equal(hrss_idgen_new("B110000KJGK", *state, &g, &err), HRSS_EFORMAT);
    assert_string_equal(err.msg, "system code: B (ministry) requires area 100000, found 110000");
    assert_int_equal(hrss_idgen_new("S110000KJG", *state, &g, &err), HRSS_EFORMAT);
    assert_int_equal(hrss_idgen_new(CODE, NULL, &g, &err), HRSS_EINVAL);
    assert_int_equal(hrss_idgen_new(CODE, "", &g, &err), HRSS_EINVAL);
    write_file(*state, "plain", "x");
    snprintf(path, sizeof(path), "%s/plain", (char *)*state);
    assert_int_equal(hrss_idgen_new(CODE, path, &g, &err), HRSS_EIO);
    assert_null(g);
    assert_int_equal(hrss_idgen_next(NULL, NULL, &err), HRSS_EINVAL);
}

static void test_creates_state_dir(void **state)
{
    char dir[512], id[HRSS_ID_LEN + 1];
    struct stat st;
    snprintf(dir, sizeof(dir), "%s/a/b/c", (char *)*state);
    hrss_idgen *g = gen_new(dir);
    assert_int_equal(stat(dir, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0700);
    next_at(g, DAY_20240229, id);
    hrss_idgen_free(g);
}

enum { THREADS = 4, PER_THREAD = 5000 };
static char thread_ids[THREADS * PER_THREAD][HRSS_ID_LEN + 1];

struct worker {
    hrss_idgen *g;
    int first;
    int rc;
};

static void *worker_run(void *arg)
{
    struct worker *w = arg;
    hrss_error err;
    for (int i = 0; i < PER_THREAD && w->rc == HRSS_OK; i++)
        w->rc = hrss__idgen_next_at(w->g, DAY_20240229, thread_ids[w->first + i], &err);
    return NULL;
}

/* Threads share a handle (and two handles share the file). */
static void test_threads(void **state)
{
    hrss_idgen *g1 = gen_new(*state), *g2 = gen_new(*state);
    pthread_t t[THREADS];
    struct worker w[THREADS];

    for (int i = 0; i < THREADS; i++) {
        w[i] = (struct worker){i % 2 ? g2 : g1, i * PER_THREAD, HRSS_OK};
        assert_int_equal(pthread_create(&t[i], NULL, worker_run, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(w[i].rc, HRSS_OK);
    }
    qsort(thread_ids, THREADS * PER_THREAD, sizeof(thread_ids[0]), cmp_id);
    for (int i = 1; i < THREADS * PER_THREAD; i++)
        if (strcmp(thread_ids[i - 1], thread_ids[i]) == 0)
            fail_msg("duplicate id %s", thread_ids[i]);
    hrss_idgen_free(g1);
    hrss_idgen_free(g2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sequential, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_first_ids_and_file, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_restart_continues, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_two_handles, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_new_day_and_clock_back, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_day_is_cst, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_range_exhausted, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_corrupt_state, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_bad_arguments, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_creates_state_dir, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_threads, setup_dir, teardown_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
