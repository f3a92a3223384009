/*
 * common/cidr.c - address allowlists (cidr.h).
 */
#include "common/cidr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

/* Clears the bits of addr (nbytes long) past prefix. */
static void mask_bits(unsigned char *addr, int nbytes, int prefix)
{
    for (int i = 0; i < nbytes; i++) {
        int keep = prefix - i * 8;
        if (keep >= 8)
            continue;
        addr[i] &= keep <= 0 ? 0 : (unsigned char)(0xFF << (8 - keep));
    }
}

int cidr_parse(const char *text, cidr *out)
{
    char host[64];
    const char *slash = strchr(text, '/');
    size_t hlen = slash ? (size_t)(slash - text) : strlen(text);
    if (hlen == 0 || hlen >= sizeof(host))
        return -1;
    memcpy(host, text, hlen);
    host[hlen] = '\0';
    memset(out, 0, sizeof(*out));
    int max;
    if (inet_pton(AF_INET, host, out->addr) == 1) {
        out->family = AF_INET;
        max = 32;
    } else if (inet_pton(AF_INET6, host, out->addr) == 1) {
        out->family = AF_INET6;
        max = 128;
    } else {
        return -1;
    }
    out->prefix = max;
    if (slash != NULL) {
        const char *p = slash + 1;
        int n = 0, digits = 0;
        while (*p >= '0' && *p <= '9' && digits < 4) {
            n = n * 10 + (*p++ - '0');
            digits++;
        }
        if (digits == 0 || *p != '\0' || n > max || (digits > 1 && slash[1] == '0'))
            return -1;
        out->prefix = n;
    }
    mask_bits(out->addr, max / 8, out->prefix);
    return 0;
}

/* ::ffff:a.b.c.d is the IPv4 address a.b.c.d. */
static void unmap(cidr_addr *a)
{
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
    if (a->family == AF_INET6 && memcmp(a->addr, mapped, 12) == 0) {
        memmove(a->addr, a->addr + 12, 4);
        a->family = AF_INET;
    }
}

int cidr_addr_of_sockaddr(const struct sockaddr *sa, cidr_addr *out)
{
    memset(out, 0, sizeof(*out));
    if (sa->sa_family == AF_INET) {
        memcpy(out->addr, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
        out->family = AF_INET;
    } else if (sa->sa_family == AF_INET6) {
        memcpy(out->addr, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
        out->family = AF_INET6;
        unmap(out);
    } else {
        return -1;
    }
    return 0;
}

int cidr_addr_of_text(const char *text, cidr_addr *out)
{
    memset(out, 0, sizeof(*out));
    if (inet_pton(AF_INET, text, out->addr) == 1) {
        out->family = AF_INET;
    } else if (inet_pton(AF_INET6, text, out->addr) == 1) {
        out->family = AF_INET6;
        unmap(out);
    } else {
        return -1;
    }
    return 0;
}

int cidr_list_match(const cidr *list, int n, const cidr_addr *a)
{
    int len = a->family == AF_INET ? 4 : 16;
    for (int i = 0; i < n; i++) {
        if (list[i].family != a->family)
            continue;
        unsigned char m[16];
        memcpy(m, a->addr, sizeof(m));
        mask_bits(m, len, list[i].prefix);
        if (memcmp(m, list[i].addr, (size_t)len) == 0)
            return 1;
    }
    return 0;
}
