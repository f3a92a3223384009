/*
 * tests/unit/common/test_cidr.c - address allowlists: parsing networks,
 * matching peers given as socket addresses or text, IPv4-mapped IPv6.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <netinet/in.h>

#include "common/cidr.h"

static int allowed(const cidr *list, int n, const char *peer)
{
    cidr_addr a;
    return cidr_addr_of_text(peer, &a) == 0 && cidr_list_match(list, n, &a);
}

static void matches_v4_v6_and_mapped(void **state)
{
    (void)state;
    cidr l[3];
    assert_int_equal(cidr_parse("10.1.0.0/16", &l[0]), 0);
    assert_int_equal(cidr_parse("2001:db8::/32", &l[1]), 0);
    assert_int_equal(cidr_parse("192.0.2.7", &l[2]), 0);
    assert_true(allowed(l, 3, "10.1.200.3"));
    assert_false(allowed(l, 3, "10.2.0.1"));
    assert_true(allowed(l, 3, "::ffff:10.1.0.9"));
    assert_true(allowed(l, 3, "2001:db8:1::5"));
    assert_false(allowed(l, 3, "2001:db9::5"));
    assert_true(allowed(l, 3, "192.0.2.7"));
    assert_false(allowed(l, 3, "192.0.2.8"));
    assert_false(allowed(l, 3, "not an address"));
    assert_false(allowed(l, 0, "10.1.200.3"));

    struct sockaddr_in6 s6 = {.sin6_family = AF_INET6};
    inet_pton(AF_INET6, "::ffff:192.0.2.7", &s6.sin6_addr);
    cidr_addr a;
    assert_int_equal(cidr_addr_of_sockaddr((struct sockaddr *)&s6, &a), 0);
    assert_int_equal(a.family, AF_INET);
    assert_true(cidr_list_match(l, 3, &a));
}

static void everything_and_nothing(void **state)
{
    (void)state;
    cidr all;
    assert_int_equal(cidr_parse("0.0.0.0/0", &all), 0);
    assert_true(allowed(&all, 1, "203.0.113.9"));
    assert_false(allowed(&all, 1, "::1"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(matches_v4_v6_and_mapped),
        cmocka_unit_test(everything_and_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
