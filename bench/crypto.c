/*
 * bench/crypto.c - throughput of libhrss's SM primitives through the public API, each
 * case run for a bounded time: SM3 on 16 B, 1 KiB and 8 KiB (one hrss_sm3 call per
 * message), SM4-ECB+PKCS#7 encryption of 1 KiB and 8 KiB (one hrss_sm4_ecb_encrypt call,
 * allocation and padding included), SM2-with-SM3 sign and verify of a 32-byte message
 * with the default user ID. bench/crypto.sh sets these beside "openssl speed".
 *
 *   bench_crypto [--seconds S] [--elapsed] [--mr]
 *
 * --mr prints one "name value" line per case (bytes/s for SM3 and SM4, ops/s for SM2)
 * for scripts; the default is a table.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hrss/crypto.h"

#if defined(__SANITIZE_ADDRESS__)
#define BENCH_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BENCH_SANITIZED 1
#endif
#endif

typedef struct bench_case {
    const char *name;  /* machine-readable name */
    const char *label; /* table label */
    size_t size;       /* message size; 0 for SM2 (ops/s only) */
    int (*run)(size_t size);
} bench_case;

static unsigned char data[8192];
static unsigned char sm4_key[HRSS_SM4_KEY_LEN];
static hrss_sm2_key *sm2_key;
static unsigned char *sm2_sig;
static size_t sm2_siglen;

/* CPU time of the process by default, as "openssl speed" divides by CPU time; wall-clock
 * time with --elapsed (as "openssl speed -elapsed"). */
static clockid_t bench_clock = CLOCK_PROCESS_CPUTIME_ID;

static double now(void)
{
    struct timespec ts;
    clock_gettime(bench_clock, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int run_sm3(size_t size)
{
    unsigned char md[HRSS_SM3_LEN];
    return hrss_sm3(data, size, md);
}

static int run_sm4(size_t size)
{
    unsigned char *out = NULL;
    size_t n = 0;
    int rc = hrss_sm4_ecb_encrypt(sm4_key, data, size, &out, &n, NULL);
    hrss_free(out);
    return rc;
}

static int run_sm2_sign(size_t size)
{
    unsigned char *sig = NULL;
    size_t n = 0;
    int rc;
    (void)size;
    rc = hrss_sm2_sign(sm2_key, NULL, 0, data, 32, HRSS_SM2_SIG_DER, &sig, &n, NULL);
    hrss_free(sig);
    return rc;
}

static int run_sm2_verify(size_t size)
{
    (void)size;
    return hrss_sm2_verify(sm2_key, NULL, 0, data, 32, HRSS_SM2_SIG_DER, sm2_sig, sm2_siglen, NULL);
}

static const bench_case cases[] = {
    {"sm3:16", "SM3 16 B", 16, run_sm3},
    {"sm3:1024", "SM3 1 KiB", 1024, run_sm3},
    {"sm3:8192", "SM3 8 KiB", 8192, run_sm3},
    {"sm4-ecb:1024", "SM4-ECB enc 1 KiB", 1024, run_sm4},
    {"sm4-ecb:8192", "SM4-ECB enc 8 KiB", 8192, run_sm4},
    {"sm2:sign", "SM2 sign", 0, run_sm2_sign},
    {"sm2:verify", "SM2 verify", 0, run_sm2_verify},
};

/* Runs c for about seconds; returns operations per second, or -1 on a failure. */
static double measure(const bench_case *c, double seconds)
{
    double start = now(), elapsed;
    unsigned long ops = 0, batch = 1;

    do {
        for (unsigned long i = 0; i < batch; i++)
            if (c->run(c->size) != HRSS_OK)
                return -1;
        ops += batch;
        elapsed = now() - start;
        /* Grow batches so that the clock is read rarely, but stay near the deadline. */
        if (elapsed < seconds / 20 && batch < (1ul << 20))
            batch *= 2;
    } while (elapsed < seconds);
    return (double)ops / elapsed;
}

static void usage(FILE *f)
{
    fputs("usage: bench_crypto [--seconds S] [--elapsed] [--mr]\n"
          "  --seconds S  time per case (default 1)\n"
          "  --elapsed    divide by wall-clock time instead of CPU time\n"
          "  --mr         machine-readable lines: name value (bytes/s or ops/s)\n",
          f);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {{"seconds", required_argument, NULL, 's'},
                                         {"mr", no_argument, NULL, 'm'},
                                         {"elapsed", no_argument, NULL, 'e'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    double seconds = 1.0;
    int mr = 0, c, status = 0;
    hrss_error err;

    while ((c = getopt_long(argc, argv, "s:meh", opts, NULL)) != -1) {
        switch (c) {
        case 's': {
            char *end = NULL;
            seconds = strtod(optarg, &end);
            if (end == optarg || *end != '\0' || !(seconds > 0 && seconds <= 600)) {
                fprintf(stderr, "bench_crypto: --seconds wants a number in (0, 600]\n");
                return 2;
            }
            break;
        }
        case 'm':
            mr = 1;
            break;
        case 'e':
            bench_clock = CLOCK_MONOTONIC;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (unsigned char)(i * 131 + 7);
    if (hrss_sm4_key_from_digits("1234567890123456", 16, sm4_key, &err) != HRSS_OK ||
        hrss_sm2_key_generate(&sm2_key, &err) != HRSS_OK ||
        hrss_sm2_sign(sm2_key, NULL, 0, data, 32, HRSS_SM2_SIG_DER, &sm2_sig, &sm2_siglen, &err) !=
            HRSS_OK) {
        fprintf(stderr, "bench_crypto: setup failed: %s\n", err.msg);
        return 1;
    }
#ifdef BENCH_SANITIZED
    fprintf(stderr, "bench_crypto: built with sanitizers; figures are not representative\n");
#endif
    if (!mr)
        printf("libhrss crypto, %.1f s of %s time per case\n%-20s %14s %12s\n", seconds,
               bench_clock == CLOCK_MONOTONIC ? "wall-clock" : "CPU", "case", "ops/s", "MB/s");
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        double ops = measure(&cases[i], seconds);
        if (ops < 0) {
            fprintf(stderr, "bench_crypto: %s failed\n", cases[i].name);
            status = 1;
            continue;
        }
        if (mr)
            printf("%s %.2f\n", cases[i].name, cases[i].size ? ops * (double)cases[i].size : ops);
        else if (cases[i].size)
            printf("%-20s %14.0f %12.2f\n", cases[i].label, ops, ops * (double)cases[i].size / 1e6);
        else
            printf("%-20s %14.0f %12s\n", cases[i].label, ops, "-");
        fflush(stdout);
    }
    hrss_free(sm2_sig);
    hrss_sm2_key_free(sm2_key);
    return status;
}
