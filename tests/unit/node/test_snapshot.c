/*
 * tests/unit/node/test_snapshot.c - snapshot lookups and the holder/view
 * swap: readers on several threads see only whole snapshots, never a freed
 * one, while a writer publishes new generations (run under ASan to catch a
 * use after free or a leak of a superseded snapshot).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pthread.h>

#include "node/snapshot.h"

/* A snapshot of n systems whose names all carry the generation tag, so a
 * reader can tell a torn or freed snapshot from a whole one. */
static snapshot *make(int n, int tag)
{
    char err[128];
    snapshot *s = snapshot_new();
    s->systems = calloc((size_t)n, sizeof(snap_system));
    s->n_systems = n;
    for (int i = 0; i < n; i++) {
        snprintf(s->systems[i].code, sizeof(s->systems[i].code), "S1100%06d", i % 1000000);
        char name[32];
        snprintf(name, sizeof(name), "tag-%d", tag);
        s->systems[i].name = strdup(name);
    }
    s->version = tag;
    if (snapshot_index(s, err, sizeof(err)) != 0)
        fail_msg("%s", err);
    return s;
}

static void lookups(void **state)
{
    (void)state;
    snapshot *s = make(1000, 7);
    for (int i = 0; i < 1000; i++) {
        char code[16];
        snprintf(code, sizeof(code), "S1100%06d", i);
        const snap_system *y = snapshot_system(s, code, strlen(code));
        assert_non_null(y);
        assert_string_equal(y->code, code);
    }
    assert_null(snapshot_system(s, "S1100001000", 11));
    assert_null(snapshot_system(s, "S110000000", 10));
    assert_null(snapshot_service(s, "S110000Y70PYTjb", 15));
    assert_null(snapshot_grant(s, "a", 1, "b", 1));
    snapshot_unref(s);
}

static void duplicates_refused(void **state)
{
    (void)state;
    char err[128];
    snapshot *s = snapshot_new();
    s->systems = calloc(2, sizeof(snap_system));
    s->n_systems = 2;
    memcpy(s->systems[0].code, "S110000Y70P", 12);
    memcpy(s->systems[1].code, "S110000Y70P", 12);
    assert_int_equal(snapshot_index(s, err, sizeof(err)), -1);
    assert_string_equal(err, "duplicate system S110000Y70P");
    snapshot_unref(s);
}

static void nets(void **state)
{
    (void)state;
    cidr n;
    assert_int_equal(cidr_parse("192.168.1.77/24", &n), 0);
    assert_int_equal(n.prefix, 24);
    assert_int_equal(n.addr[3], 0); /* host bits cleared */
    assert_int_equal(cidr_parse("::/0", &n), 0);
    assert_int_equal(cidr_parse("fe80::1", &n), 0);
    assert_int_equal(n.prefix, 128);
    assert_int_equal(cidr_parse("1.2.3.4/", &n), -1);
    assert_int_equal(cidr_parse("1.2.3.4/08", &n), -1);
    assert_int_equal(cidr_parse("1.2.3.4/33", &n), -1);
    assert_int_equal(cidr_parse("::1/129", &n), -1);
    assert_int_equal(cidr_parse("1.2.3", &n), -1);
    assert_int_equal(cidr_parse("/8", &n), -1);
    assert_int_equal(cidr_parse("1.2.3.4/8x", &n), -1);
}

#define READERS 4
#define PUBLISHES 300

typedef struct shared {
    snapshot_holder h;
    atomic_int stop;
    atomic_long reads;
} shared;

static void *reader(void *arg)
{
    shared *sh = arg;
    snapshot_view v = {0};
    uint64_t last = 0;
    while (!atomic_load(&sh->stop)) {
        const snapshot *s = snapshot_view_get(&v, &sh->h);
        if (s == NULL)
            continue;
        /* generations only move forward and every entry agrees with the tag */
        if (s->hold.generation < last)
            abort();
        last = s->hold.generation;
        char want[32];
        snprintf(want, sizeof(want), "tag-%lld", (long long)s->version);
        for (int i = 0; i < s->n_systems; i += 7) {
            const snap_system *y = snapshot_system(s, s->systems[i].code, 11);
            if (y == NULL || strcmp(y->name, want) != 0)
                abort();
        }
        atomic_fetch_add(&sh->reads, 1);
    }
    snapshot_view_release(&v);
    return NULL;
}

static void swap_under_concurrent_readers(void **state)
{
    (void)state;
    static shared sh;
    snapshot_holder_init(&sh.h);
    atomic_init(&sh.stop, 0);
    atomic_init(&sh.reads, 0);
    pthread_t t[READERS];
    for (int i = 0; i < READERS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, reader, &sh), 0);
    for (int g = 1; g <= PUBLISHES; g++) {
        snapshot_holder_publish(&sh.h, make(50 + g % 50, g));
        assert_int_equal(snapshot_holder_generation(&sh.h), g);
    }
    /* let the readers run on the last one for a bounded moment */
    for (int spins = 0; spins < 2000 && atomic_load(&sh.reads) < 1000; spins++) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    atomic_store(&sh.stop, 1);
    for (int i = 0; i < READERS; i++)
        pthread_join(t[i], NULL);
    assert_true(atomic_load(&sh.reads) > 0);
    snapshot *last = snapshot_holder_get(&sh.h);
    assert_int_equal(last->version, PUBLISHES);
    snapshot_unref(last);
    snapshot_holder_destroy(&sh.h); /* ASan reports a leak if any reference was lost */
}

static void view_before_first_publish(void **state)
{
    (void)state;
    snapshot_holder h;
    snapshot_holder_init(&h);
    snapshot_view v = {0};
    assert_null(snapshot_view_get(&v, &h));
    assert_null(snapshot_holder_get(&h));
    snapshot_holder_publish(&h, make(1, 1));
    const snapshot *s = snapshot_view_get(&v, &h);
    assert_non_null(s);
    assert_ptr_equal(snapshot_view_get(&v, &h), s); /* unchanged: same pointer, no lock */
    snapshot_view_release(&v);
    snapshot_holder_destroy(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lookups),
        cmocka_unit_test(duplicates_refused),
        cmocka_unit_test(nets),
        cmocka_unit_test(swap_under_concurrent_readers),
        cmocka_unit_test(view_before_first_publish),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
