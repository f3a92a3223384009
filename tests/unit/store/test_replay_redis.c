/*
 * tests/unit/store/test_replay_redis.c - the shared replay store against a
 * real redis-server started here on a loopback port: a nonce is accepted
 * once across two stores (two node instances), per caller, again after it
 * expires; the store fails closed when Redis is down or the password is
 * wrong, and recovers when Redis is back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "store/replay_redis.h"

#define PASSWORD "test-password-0123"

static int port;
static pid_t server = -1;

static int free_port(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0)
        return -1;
    close(fd);
    return ntohs(a.sin_port);
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Starts redis-server on port (no persistence, loopback only) and waits up
 * to 10 s for it to answer. */
static void start_server(void)
{
    char portstr[16];
    snprintf(portstr, sizeof(portstr), "%d", port);
    server = fork();
    assert_true(server >= 0);
    if (server == 0) {
        /* its log goes to stdout: keep the test's output for the test */
        if (freopen("/dev/null", "w", stdout) == NULL)
            _exit(126);
        execlp("redis-server", "redis-server", "--port", portstr, "--bind", "127.0.0.1",
               "--save", "", "--appendonly", "no", "--requirepass", PASSWORD, "--loglevel",
               "warning", (char *)NULL);
        fprintf(stderr, "redis-server not found: apt-get install redis-server\n");
        _exit(127);
    }
    replay_redis_config c = {"127.0.0.1", port, PASSWORD, 200, "test:"};
    for (int i = 0; i < 200; i++) {
        hrss_replay *r;
        hrss_error err = {0};
        if (replay_redis_new(&c, 60, &r, &err) == HRSS_OK) {
            hrss_replay_free(r);
            return;
        }
        int st;
        if (waitpid(server, &st, WNOHANG) == server)
            fail_msg("redis-server exited (%d): is it installed?", st);
        sleep_ms(50);
    }
    fail_msg("redis-server did not answer on port %d", port);
}

static void stop_server(void)
{
    if (server > 0) {
        kill(server, SIGKILL);
        waitpid(server, NULL, 0);
        server = -1;
    }
}

static int setup(void **state)
{
    (void)state;
    port = free_port();
    if (port <= 0)
        return -1;
    start_server();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    stop_server();
    return 0;
}

static hrss_replay *store(int64_t ttl)
{
    replay_redis_config c = {"127.0.0.1", port, PASSWORD, 200, NULL};
    hrss_replay *r = NULL;
    hrss_error err = {0};
    if (replay_redis_new(&c, ttl, &r, &err) != HRSS_OK)
        fail_msg("%s", err.msg);
    return r;
}

static int check(hrss_replay *r, const char *caller, const char *nonce, hrss_error *err)
{
    return hrss_replay_check(r, caller, strlen(caller), nonce, strlen(nonce), 0, err);
}

static void test_once_across_instances(void **state)
{
    (void)state;
    hrss_error err = {0};
    hrss_replay *a = store(900), *b = store(900);
    char nonce[32];
    snprintf(nonce, sizeof(nonce), "n%ld%d", (long)time(NULL), getpid());
    assert_int_equal(check(a, "B100000KJGK", nonce, &err), HRSS_OK);
    assert_int_equal(check(a, "B100000KJGK", nonce, &err), HRSS_EREPLAY);
    assert_string_equal(err.msg, "nonce replayed");
    /* the other instance sees it too */
    assert_int_equal(check(b, "B100000KJGK", nonce, &err), HRSS_EREPLAY);
    /* per caller */
    assert_int_equal(check(b, "S370000mlb2", nonce, &err), HRSS_OK);
    /* many nonces from both, each once */
    for (int i = 0; i < 200; i++) {
        char n[40];
        snprintf(n, sizeof(n), "%s-%d", nonce, i);
        assert_int_equal(check(i % 2 ? a : b, "B100000KJGK", n, &err), HRSS_OK);
        assert_int_equal(check(i % 2 ? b : a, "B100000KJGK", n, &err), HRSS_EREPLAY);
    }
    hrss_replay_free(a);
    hrss_replay_free(b);
}

static void test_expiry(void **state)
{
    (void)state;
    hrss_error err = {0};
    hrss_replay *a = store(1);
    assert_int_equal(check(a, "B100000KJGK", "expiring-nonce", &err), HRSS_OK);
    assert_int_equal(check(a, "B100000KJGK", "expiring-nonce", &err), HRSS_EREPLAY);
    /* Redis forgets the key after its ttl: poll, bounded to 10 s */
    int rc = HRSS_EREPLAY;
    for (int i = 0; i < 100 && rc == HRSS_EREPLAY; i++) {
        sleep_ms(100);
        rc = check(a, "B100000KJGK", "expiring-nonce", &err);
    }
    assert_int_equal(rc, HRSS_OK);
    hrss_replay_free(a);
}

static void test_wrong_password_and_address(void **state)
{
    (void)state;
    hrss_error err = {0};
    hrss_replay *r = NULL;
    replay_redis_config c = {"127.0.0.1", port, "wrong", 200, NULL};
    assert_int_equal(replay_redis_new(&c, 900, &r, &err), HRSS_EUNAVAIL);
    assert_null(r);
    assert_non_null(strstr(err.msg, "authentication"));
    assert_null(strstr(err.msg, "wrong")); /* the password is never in a message */
    c.password = NULL;
    c.port = free_port();
    assert_int_equal(replay_redis_new(&c, 900, &r, &err), HRSS_EUNAVAIL);
    assert_non_null(strstr(err.msg, "replay store: redis 127.0.0.1:"));
}

static void test_fails_closed_and_recovers(void **state)
{
    (void)state;
    hrss_error err = {0};
    hrss_replay *a = store(900);
    assert_int_equal(check(a, "B100000KJGK", "before-outage", &err), HRSS_OK);
    stop_server();
    assert_int_equal(check(a, "B100000KJGK", "during-outage", &err), HRSS_EUNAVAIL);
    assert_int_equal(check(a, "B100000KJGK", "during-outage-2", &err), HRSS_EUNAVAIL);
    start_server(); /* a fresh Redis: nothing of before is kept (no persistence) */
    int rc = check(a, "B100000KJGK", "after-outage", &err);
    assert_int_equal(rc, HRSS_OK);
    assert_int_equal(check(a, "B100000KJGK", "after-outage", &err), HRSS_EREPLAY);
    hrss_replay_free(a);
}

static void test_parse_url(void **state)
{
    (void)state;
    replay_redis_config c;
    char buf[256];
    hrss_error err = {0};
    assert_int_equal(replay_redis_parse_url("redis://127.0.0.1", &c, buf, sizeof(buf), &err),
                     HRSS_OK);
    assert_string_equal(c.host, "127.0.0.1");
    assert_int_equal(c.port, 6379);
    assert_null(c.password);
    assert_null(c.prefix);
    assert_int_equal(replay_redis_parse_url("redis://:s3cr@t@redis.local:6380/node1:", &c, buf,
                                            sizeof(buf), &err),
                     HRSS_OK);
    assert_string_equal(c.host, "redis.local");
    assert_int_equal(c.port, 6380);
    assert_string_equal(c.password, "s3cr@t");
    assert_string_equal(c.prefix, "node1:");
    assert_int_equal(replay_redis_parse_url("redis://default:pw@[::1]:7000", &c, buf,
                                            sizeof(buf), &err),
                     HRSS_OK);
    assert_string_equal(c.host, "::1");
    assert_int_equal(c.port, 7000);
    assert_string_equal(c.password, "pw");
    assert_int_equal(replay_redis_parse_url("http://x", &c, buf, sizeof(buf), &err),
                     HRSS_EFORMAT);
    assert_int_equal(replay_redis_parse_url("redis://h:0", &c, buf, sizeof(buf), &err),
                     HRSS_EFORMAT);
    assert_int_equal(replay_redis_parse_url("redis://h:x", &c, buf, sizeof(buf), &err),
                     HRSS_EFORMAT);
    assert_int_equal(replay_redis_parse_url("redis://", &c, buf, sizeof(buf), &err),
                     HRSS_EFORMAT);
    assert_int_equal(replay_redis_parse_url("redis://[::1", &c, buf, sizeof(buf), &err),
                     HRSS_EFORMAT);
    assert_int_equal(replay_redis_parse_url("redis://127.0.0.1", &c, buf, 5, &err),
                     HRSS_ETOOBIG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_url),
        cmocka_unit_test(test_once_across_instances),
        cmocka_unit_test(test_expiry),
        cmocka_unit_test(test_wrong_password_and_address),
        cmocka_unit_test(test_fails_closed_and_recovers),
    };
    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, setup, teardown);
}
