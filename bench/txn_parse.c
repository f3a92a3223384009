/*
 * bench/txn_parse.c - CPU time of the library work hrss-node does for one
 * transaction before it calls the provider: the strict parse of the
 * request envelope and the hmac-sm3 signature check, each way the library
 * offers it, on the request bench/node.sh sends. Thread CPU time per
 * operation, so a busy machine skews it little.
 *
 *   bench_txn_parse [--seconds S]
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hrss/hrss.h"

#define SECRET "0123456789abcdef0123"

static char req[1024];
static size_t req_len;
static hrss_hmac_sm3_key *hk;

static double cpu_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int full_parse(void)
{
    hrss_envelope *e = NULL;
    int rc = hrss_envelope_parse(req, req_len, HRSS_ENV_REQUEST, &e, NULL, NULL, NULL);
    hrss_envelope_free(e);
    return rc;
}

static int relay_parse(void)
{
    hrss_envelope *e = NULL;
    int rc = hrss_envelope_parse_relay(req, req_len, HRSS_ENV_REQUEST, &e, NULL);
    hrss_envelope_free(e);
    return rc;
}

static int full_verify(void)
{
    hrss_sig_key k = {.profile = HRSS_SIG_HMAC_SM3, .secret = (const unsigned char *)SECRET,
                      .secret_len = strlen(SECRET)};
    hrss_envelope *e = NULL;
    int rc = hrss_envelope_parse(req, req_len, HRSS_ENV_REQUEST, &e, NULL, NULL, NULL);
    if (rc == HRSS_OK)
        rc = hrss_envelope_verify(e, &k, NULL);
    hrss_envelope_free(e);
    return rc;
}

static int relay_verify(void)
{
    hrss_envelope *e = NULL;
    int rc = hrss_envelope_parse_relay(req, req_len, HRSS_ENV_REQUEST, &e, NULL);
    if (rc == HRSS_OK)
        rc = hrss_envelope_verify_hmac(e, hk, NULL);
    hrss_envelope_free(e);
    return rc;
}

static const struct {
    const char *label;
    int (*run)(void);
} cases[] = {
    {"hrss_envelope_parse + free", full_parse},
    {"hrss_envelope_parse_relay + free", relay_parse},
    {"parse + hrss_envelope_verify (secret)", full_verify},
    {"parse_relay + verify_hmac (prepared key)", relay_verify},
};

int main(int argc, char **argv)
{
    double secs = 1.0;
    static const struct option opts[] = {{"seconds", required_argument, NULL, 's'}, {0}};
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c != 's' || (secs = strtod(optarg, NULL)) <= 0) {
            fprintf(stderr, "usage: bench_txn_parse [--seconds S]\n");
            return 2;
        }
    }
    /* the request of bench/node.sh, signed */
    const char *text =
        "{\"header\":{\"serviceCode\":\"S110000Y70PYTjb\",\"appCode\":\"B100000KJGK\","
        "\"serviceAreaCode\":\"110000\",\"serviceReqId\":\"B100000KJGK20261123141500001\","
        "\"serviceReqTime\":\"20261123141500\",\"nonce\":\"b00000000000000000000001\"},"
        "\"body\":{\"aac003\":\"zhang\",\"aac002\":\"440101199001019090\"}}";
    hrss_sig_key k = {.profile = HRSS_SIG_HMAC_SM3, .secret = (const unsigned char *)SECRET,
                      .secret_len = strlen(SECRET)};
    hrss_envelope *e = NULL;
    char *s = NULL;
    if (hrss_envelope_parse(text, strlen(text), HRSS_ENV_REQUEST, &e, NULL, NULL, NULL) !=
            HRSS_OK ||
        hrss_envelope_sign(e, &k, NULL) != HRSS_OK ||
        hrss_envelope_serialize(e, &s, &req_len) != HRSS_OK || req_len >= sizeof(req) ||
        hrss_hmac_sm3_key_new(SECRET, strlen(SECRET), &hk) != HRSS_OK) {
        fprintf(stderr, "bench_txn_parse: cannot build the request\n");
        return 1;
    }
    memcpy(req, s, req_len);
    hrss_free(s);
    hrss_envelope_free(e);
    printf("request of %zu bytes; CPU time per operation\n", req_len);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        long n = 0;
        double t0 = cpu_now(), t;
        do {
            for (int j = 0; j < 256; j++)
                if (cases[i].run() != HRSS_OK) {
                    fprintf(stderr, "bench_txn_parse: %s failed\n", cases[i].label);
                    return 1;
                }
            n += 256;
        } while ((t = cpu_now() - t0) < secs);
        printf("%-44s %8.2f us\n", cases[i].label, t / (double)n * 1e6);
    }
    hrss_hmac_sm3_key_free(hk);
    return 0;
}
