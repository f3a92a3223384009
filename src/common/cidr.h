/*
 * common/cidr.h - address allowlists: IPv4 and IPv6 networks parsed once
 * when a registry or account snapshot is loaded, then matched against the
 * peer of each request without parsing again. hrss-node's callers
 * (allowedIps) and hrss-sms's accounts (ips) both use it, so both accept
 * and refuse the same spellings. An IPv4-mapped IPv6 peer (::ffff:a.b.c.d,
 * as a dual-stack listener reports IPv4 clients) matches IPv4 networks.
 */
#ifndef HRSS_COMMON_CIDR_H
#define HRSS_COMMON_CIDR_H

#include <stddef.h>
#include <sys/socket.h>

typedef struct cidr {
    int family;             /* AF_INET or AF_INET6 */
    unsigned char addr[16]; /* network address, host bits cleared */
    int prefix;             /* 0..32 or 0..128 */
} cidr;

/* An address to match: the family and 4 or 16 bytes. */
typedef struct cidr_addr {
    int family;
    unsigned char addr[16];
} cidr_addr;

/* Parses "a.b.c.d[/n]" or "ipv6[/n]" (the prefix in decimal without
 * sign or leading zero). 0, or -1 when text is neither. */
int cidr_parse(const char *text, cidr *out);

/* The address of a socket peer, or of its text form (inet_ntop's);
 * IPv4-mapped IPv6 becomes IPv4. 0, or -1 for another family or text. */
int cidr_addr_of_sockaddr(const struct sockaddr *sa, cidr_addr *out);
int cidr_addr_of_text(const char *text, cidr_addr *out);

/* 1 when a is in one of the n networks of list, else 0. */
int cidr_list_match(const cidr *list, int n, const cidr_addr *a);

#endif
