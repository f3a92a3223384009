/*
 * lib/nonce.c - the Nonce of LD/T 6008-2024 7.1.1.2 note 1: a random
 * 24-character string, sent as the header field "nonce" and signed with the
 * others (docs/design.md decisions 1 and 3). The replay store (replay.c) keeps the
 * ones it has seen.
 *
 * New nonces take 24 characters of [0-9a-z] from OpenSSL's CSPRNG, about
 * 124 bits. Checks accept any 24 of [0-9A-Za-z], as peers may use capitals.
 */
#include <string.h>

#include "internal.h"

static const char nonce_alphabet[] = "0123456789abcdefghijklmnopqrstuvwxyz";

#define NONCE_RADIX 36
/* The largest multiple of 36 that fits a byte: bytes at or above it are
 * dropped, so that every character is equally likely (no modulo bias). */
#define NONCE_BYTE_LIMIT (256 - 256 % NONCE_RADIX) /* 252 */

int hrss_nonce_new(char out[HRSS_NONCE_LEN + 1])
{
    unsigned char pool[32];
    size_t have = 0;
    int rc = HRSS_OK;

    if (out == NULL)
        return HRSS_EINVAL;
    /* About 1.6% of bytes are dropped, so one pool almost always suffices. */
    while (have < HRSS_NONCE_LEN) {
        rc = hrss_random_bytes(pool, sizeof(pool));
        if (rc != HRSS_OK)
            goto done;
        for (size_t i = 0; i < sizeof(pool) && have < HRSS_NONCE_LEN; i++)
            if (pool[i] < NONCE_BYTE_LIMIT)
                out[have++] = nonce_alphabet[pool[i] % NONCE_RADIX];
    }
    out[HRSS_NONCE_LEN] = '\0';
done:
    memset(pool, 0, sizeof(pool));
    if (rc != HRSS_OK)
        memset(out, 0, HRSS_NONCE_LEN + 1);
    return rc;
}

static int is_alnum_ascii(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

int hrss_nonce_check(const char *s, size_t len, hrss_error *err)
{
    if (s == NULL)
        return hrss__error(err, HRSS_EINVAL, "no nonce given");
    if (len != HRSS_NONCE_LEN)
        return hrss__error(err, HRSS_EFORMAT, "length %zu, must be %d", len, HRSS_NONCE_LEN);
    for (size_t i = 0; i < len; i++)
        if (!is_alnum_ascii((unsigned char)s[i]))
            return hrss__error(err, HRSS_EFORMAT, "character %zu is not one of [0-9A-Za-z]", i + 1);
    return HRSS_OK;
}
