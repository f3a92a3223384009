/*
 * cli/cmd_conform.c - "hrss conform node|provider|serve": the command line
 * of the conformance kit (src/cli/conform/): options, credentials, the run,
 * the terminal summary and the reports.
 *
 * Exit status: 0 nothing failed (results that differ from hrss's reading of
 * an ambiguous clause do not fail a run); 1 at least one check failed; 2 bad
 * usage or a run that could not start.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli/conform/conform.h"

#define MAX_REPORTS 4

typedef struct conform_opts {
    const char *url, *caller, *service, *area, *profile, *key, *secret_file, *encrypt;
    const char *sm4_key, *peer_key, *rprofile, *rsecret_file, *ungranted, *paged, *batch;
    const char *body, *state_dir, *listen, *system;
    const char *reports[MAX_REPORTS];
    size_t nreports;
    long timeout_ms, count;
    int hex, standalone, quiet;
} conform_opts;

static void conform_usage(FILE *f)
{
    fprintf(f,
            "usage: hrss conform node     --url URL --caller CODE (--secret-file F | --key PEM)\n"
            "                             --service CODE --area AREA [options]\n"
            "       hrss conform provider --url URL --caller CODE --service CODE --area AREA\n"
            "                             [options]\n"
            "       hrss conform serve    --port P --caller CODE (--secret-file F | --key PEM)\n"
            "                             --service CODE --area AREA [options]\n"
            "\n"
            "A conformance kit for LD/T 6008-2024, for nodes, providers and callers of any\n"
            "vendor. node/provider send well-formed requests and every violation a receiver\n"
            "can detect, and judge each answer clause by clause; serve is a reference\n"
            "node and provider that a caller points at, judging each request it receives.\n"
            "Each check names its clause and the decision of docs/design.md it relies\n"
            "on; where the standard is ambiguous an answer that reads it otherwise is\n"
            "'differs', not 'fail'.\n"
            "\n"
            "options:\n"
            "  --url URL               the node (its transaction path is added when the URL has\n"
            "                          none) or the provider's service URL\n"
            "  --port P, --listen H:P  serve: where to listen (127.0.0.1 unless --listen)\n"
            "  --caller CODE           the caller's system code (appCode)\n"
            "  --service CODE          a service the caller has a grant for\n"
            "  --area AREA             its serviceAreaCode\n"
            "  --profile P             the caller's signature: hmac-sm3 (default with a secret),\n"
            "                          sm2 (default with --key), sm3, none\n"
            "  --secret-file FILE      the caller's HMAC-SM3 secret (or HRSS_SECRET)\n"
            "  --key PEM               node/provider: the caller's SM2 private key (signs, opens\n"
            "                          SM2 answers); serve: the caller's public key\n"
            "  --sm4-key DIGITS        the grant's 16-digit SM4 key (implies --encrypt sm4)\n"
            "  --encrypt E             the grant's body profile: none, sm4, sm2\n"
            "  --hex                   ciphertext as hex instead of Base64\n"
            "  --provider-key PEM      node/provider: the provider's SM2 public key (SM2 bodies,\n"
            "                          sm2 answer signatures); serve: its own private key\n"
            "  --response-profile P    how answers are signed: sm2, sm3, hmac-sm3, none (default:\n"
            "                          sm2 with --provider-key, else none: not checked)\n"
            "  --response-secret-file FILE   hmac-sm3 secret of the answers\n"
            "  --body JSON             the body of the well-formed request (default {})\n"
            "  --ungranted-service CODE   a service the caller has no grant for (50 expected)\n"
            "  --paged-service CODE    provider: a service answering 6.2.2.2 paged queries\n"
            "  --batch-service CODE    provider: a service answering 6.2.2.3 batch queries\n"
            "  --standalone            provider: reachable without a node, so it must check\n"
            "                          times, signatures, nonces and callers itself\n"
            "  --system CODE           serve: its own system code (default: the service's)\n"
            "  --count N               serve: stop after N requests (default: at SIGINT/SIGTERM)\n"
            "  --report FILE           .json or .html (self-contained); may be given twice\n"
            "  --state-dir DIR         where serviceReqId/serviceResId sequences are kept\n"
            "  --timeout MS            per request (default 10000)\n"
            "  --quiet                 no terminal summary\n"
            "  -h, --help              this text\n"
            "\n"
            "exit status: 0 nothing failed; 1 a check failed; 2 bad usage\n");
}

enum {
    O_URL = 256,
    O_CALLER,
    O_SERVICE,
    O_AREA,
    O_PROFILE,
    O_KEY,
    O_SECRET,
    O_SM4,
    O_ENCRYPT,
    O_HEX,
    O_PEER_KEY,
    O_RPROFILE,
    O_RSECRET,
    O_UNGRANTED,
    O_PAGED,
    O_BATCH,
    O_BODY,
    O_STANDALONE,
    O_REPORT,
    O_STATE,
    O_TIMEOUT,
    O_QUIET,
    O_PORT,
    O_LISTEN,
    O_SYSTEM,
    O_COUNT
};

static const struct option long_opts[] = {
    {"url", required_argument, NULL, O_URL},
    {"caller", required_argument, NULL, O_CALLER},
    {"service", required_argument, NULL, O_SERVICE},
    {"area", required_argument, NULL, O_AREA},
    {"profile", required_argument, NULL, O_PROFILE},
    {"key", required_argument, NULL, O_KEY},
    {"secret-file", required_argument, NULL, O_SECRET},
    {"sm4-key", required_argument, NULL, O_SM4},
    {"encrypt", required_argument, NULL, O_ENCRYPT},
    {"hex", no_argument, NULL, O_HEX},
    {"provider-key", required_argument, NULL, O_PEER_KEY},
    {"response-profile", required_argument, NULL, O_RPROFILE},
    {"response-secret-file", required_argument, NULL, O_RSECRET},
    {"ungranted-service", required_argument, NULL, O_UNGRANTED},
    {"paged-service", required_argument, NULL, O_PAGED},
    {"batch-service", required_argument, NULL, O_BATCH},
    {"body", required_argument, NULL, O_BODY},
    {"standalone", no_argument, NULL, O_STANDALONE},
    {"report", required_argument, NULL, O_REPORT},
    {"state-dir", required_argument, NULL, O_STATE},
    {"timeout", required_argument, NULL, O_TIMEOUT},
    {"quiet", no_argument, NULL, O_QUIET},
    {"port", required_argument, NULL, O_PORT},
    {"listen", required_argument, NULL, O_LISTEN},
    {"system", required_argument, NULL, O_SYSTEM},
    {"count", required_argument, NULL, O_COUNT},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static int number(const char *opt, const char *s, long max, long *out)
{
    char *end = NULL;
    errno = 0;
    *out = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || *out < 0 || *out > max) {
        cli_error("conform: %s: '%s' is not a number from 0 to %ld", opt, s, max);
        return CLI_USAGE;
    }
    return CLI_OK;
}

static int parse_opts(int argc, char **argv, conform_opts *o, char *listen, size_t lsz)
{
    int c;
    long v;
    opterr = 0;
    optind = 2; /* argv[1] is node, provider or serve */
    while ((c = getopt_long(argc, argv, ":h", long_opts, NULL)) != -1) {
        switch (c) {
        case 'h':
            conform_usage(stdout);
            return -1;
        case O_URL:
            o->url = optarg;
            break;
        case O_CALLER:
            o->caller = optarg;
            break;
        case O_SERVICE:
            o->service = optarg;
            break;
        case O_AREA:
            o->area = optarg;
            break;
        case O_PROFILE:
            o->profile = optarg;
            break;
        case O_KEY:
            o->key = optarg;
            break;
        case O_SECRET:
            o->secret_file = optarg;
            break;
        case O_SM4:
            o->sm4_key = optarg;
            break;
        case O_ENCRYPT:
            o->encrypt = optarg;
            break;
        case O_HEX:
            o->hex = 1;
            break;
        case O_PEER_KEY:
            o->peer_key = optarg;
            break;
        case O_RPROFILE:
            o->rprofile = optarg;
            break;
        case O_RSECRET:
            o->rsecret_file = optarg;
            break;
        case O_UNGRANTED:
            o->ungranted = optarg;
            break;
        case O_PAGED:
            o->paged = optarg;
            break;
        case O_BATCH:
            o->batch = optarg;
            break;
        case O_BODY:
            o->body = optarg;
            break;
        case O_STANDALONE:
            o->standalone = 1;
            break;
        case O_STATE:
            o->state_dir = optarg;
            break;
        case O_QUIET:
            o->quiet = 1;
            break;
        case O_SYSTEM:
            o->system = optarg;
            break;
        case O_LISTEN:
            o->listen = optarg;
            break;
        case O_REPORT:
            if (o->nreports == MAX_REPORTS) {
                cli_error("conform: at most %d --report", MAX_REPORTS);
                return CLI_USAGE;
            }
            o->reports[o->nreports++] = optarg;
            break;
        case O_TIMEOUT:
            if (number("--timeout", optarg, 3600000, &o->timeout_ms) != CLI_OK)
                return CLI_USAGE;
            break;
        case O_COUNT:
            if (number("--count", optarg, 1000000, &o->count) != CLI_OK)
                return CLI_USAGE;
            break;
        case O_PORT:
            if (number("--port", optarg, 65535, &v) != CLI_OK)
                return CLI_USAGE;
            snprintf(listen, lsz, "127.0.0.1:%ld", v);
            o->listen = listen;
            break;
        case ':':
            cli_error("conform: option %s needs a value", argv[optind - 1]);
            return CLI_USAGE;
        default:
            cli_error("conform: unknown option '%s' (try 'hrss conform --help')", argv[optind - 1]);
            return CLI_USAGE;
        }
    }
    if (optind < argc) {
        cli_error("conform: unexpected argument '%s'", argv[optind]);
        return CLI_USAGE;
    }
    if (o->caller == NULL || o->service == NULL || o->area == NULL) {
        cli_error("conform: --caller, --service and --area are required");
        return CLI_USAGE;
    }
    for (size_t i = 0; i < o->nreports; i++) {
        size_t n = strlen(o->reports[i]);
        if (!(n > 5 && strcmp(o->reports[i] + n - 5, ".json") == 0) &&
            !(n > 5 && strcmp(o->reports[i] + n - 5, ".html") == 0)) {
            cli_error("conform: --report %s: the name must end in .json or .html", o->reports[i]);
            return CLI_USAGE;
        }
    }
    return CLI_OK;
}

/* The profile named, or the default for the credentials given. */
static int profile_of(const char *name, const char *dflt, hrss_sig_profile *out)
{
    const char *n = name != NULL ? name : dflt;
    if (hrss_sig_profile_parse(n, out) != HRSS_OK) {
        cli_error("conform: unknown signature profile '%s' (hmac-sm3, sm2, sm3, none)", n);
        return CLI_USAGE;
    }
    return CLI_OK;
}

int cmd_conform(int argc, char **argv)
{
    conform_opts o = {0};
    char listen[64];
    char *secret = NULL, *rsecret = NULL;
    size_t secret_len = 0, rsecret_len = 0;
    hrss_sm2_key *key = NULL, *peer = NULL;
    cf_report rep = {0};
    int rc = CLI_USAGE;
    if (argc < 2 || cli_is_help(argv[1])) {
        conform_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_USAGE : CLI_OK;
    }
    const char *mode = argv[1];
    if (strcmp(mode, "node") != 0 && strcmp(mode, "provider") != 0 && strcmp(mode, "serve") != 0) {
        cli_error("conform: '%s' is not node, provider or serve", mode);
        return CLI_USAGE;
    }
    int serve = strcmp(mode, "serve") == 0;
    rc = parse_opts(argc, argv, &o, listen, sizeof(listen));
    if (rc != CLI_OK)
        return rc < 0 ? CLI_OK : rc;
    rc = CLI_USAGE;
    if (serve ? o.listen == NULL : o.url == NULL) {
        cli_error("conform: %s needs %s", mode, serve ? "--port or --listen" : "--url");
        goto done;
    }
    if ((o.key != NULL && cli_read_sm2_key(o.key, &key) != CLI_OK) ||
        (o.peer_key != NULL && cli_read_sm2_key(o.peer_key, &peer) != CLI_OK) ||
        cli_read_secret(o.secret_file, "HRSS_SECRET", &secret, &secret_len) != CLI_OK ||
        cli_read_secret(o.rsecret_file, NULL, &rsecret, &rsecret_len) != CLI_OK)
        goto done;
    hrss_sig_key caller = {HRSS_SIG_NONE, (const unsigned char *)secret, secret_len, key};
    hrss_sig_key answers = {HRSS_SIG_NONE, (const unsigned char *)rsecret, rsecret_len, peer};
    if (profile_of(o.profile,
                   key      ? "sm2"
                   : secret ? "hmac-sm3"
                            : "none",
                   &caller.profile) != CLI_OK ||
        profile_of(o.rprofile, peer ? "sm2" : "none", &answers.profile) != CLI_OK)
        goto done;
    if ((caller.profile == HRSS_SIG_HMAC_SM3 && secret == NULL) ||
        (caller.profile == HRSS_SIG_SM2 && key == NULL) ||
        (answers.profile == HRSS_SIG_HMAC_SM3 && rsecret == NULL) ||
        (answers.profile == HRSS_SIG_SM2 && peer == NULL)) {
        cli_error("conform: hmac-sm3 needs its secret file, sm2 its key");
        goto done;
    }
    const char *enc = o.encrypt ? o.encrypt : o.sm4_key ? "sm4" : "none";
    hrss_body_cipher cipher;
    if (strcmp(enc, "none") == 0)
        cipher = HRSS_BODY_PLAIN;
    else if (strcmp(enc, "sm4") == 0 || strcmp(enc, "sm4-ecb") == 0)
        cipher = HRSS_BODY_SM4_ECB;
    else if (strcmp(enc, "sm2") == 0)
        cipher = HRSS_BODY_SM2;
    else {
        cli_error("conform: --encrypt: '%s' is none, sm4 or sm2", enc);
        goto done;
    }
    if (cipher == HRSS_BODY_SM4_ECB && o.sm4_key == NULL) {
        cli_error("conform: --encrypt sm4 needs --sm4-key");
        goto done;
    }
    if (cipher == HRSS_BODY_SM2 && (key == NULL || peer == NULL)) {
        cli_error("conform: --encrypt sm2 needs --key and --provider-key");
        goto done;
    }
    rep.mode = mode;
    rep.target = serve ? o.listen : o.url;
    hrss_time_now(rep.started);
    if (secret != NULL)
        cf_report_secret(&rep, secret, secret_len);
    if (rsecret != NULL)
        cf_report_secret(&rep, rsecret, rsecret_len);
    if (o.sm4_key != NULL)
        cf_report_secret(&rep, o.sm4_key, strlen(o.sm4_key));
    const char *state = o.state_dir ? o.state_dir : cli_state_dir();
    hrss_text_encoding encoding = o.hex ? HRSS_TEXT_HEX : HRSS_TEXT_BASE64;
    if (serve) {
        cf_serve_opts so = {.listen = o.listen,
                            .caller = o.caller,
                            .service = o.service,
                            .area = o.area,
                            .system = o.system,
                            .verify = caller,
                            .sign = answers,
                            .cipher = cipher,
                            .encoding = encoding,
                            .sm4_key = o.sm4_key,
                            .own_sm2 = peer,
                            .caller_sm2 = key,
                            .state_dir = state,
                            .count = o.count,
                            .report = o.nreports ? o.reports[0] : NULL};
        rc = conform_serve_run(&so, &rep);
    } else {
        cf_target_opts to = {.provider = strcmp(mode, "provider") == 0,
                             .url = o.url,
                             .caller = o.caller,
                             .service = o.service,
                             .area = o.area,
                             .paged_service = o.paged,
                             .batch_service = o.batch,
                             .ungranted_service = o.ungranted,
                             .sign = caller,
                             .verify = answers,
                             .cipher = cipher,
                             .encoding = encoding,
                             .sm4_key = o.sm4_key,
                             .peer_sm2 = peer,
                             .own_sm2 = key,
                             .body_json = o.body,
                             .state_dir = state,
                             .standalone = o.standalone,
                             .timeout_ms = o.timeout_ms};
        rc = conform_target_run(&to, &rep);
    }
    if (rc != CLI_OK)
        goto done;
    if (!o.quiet)
        cf_print_summary(&rep, stdout);
    for (size_t i = 0; i < o.nreports; i++)
        if (cf_write_report(&rep, o.reports[i]) != CLI_OK)
            rc = CLI_USAGE;
    if (rc == CLI_OK)
        rc = cf_count(&rep, CF_FAIL) > 0 ? CLI_FAIL : CLI_OK;
done:
    cf_report_free(&rep);
    if (secret != NULL)
        explicit_bzero(secret, secret_len);
    if (rsecret != NULL)
        explicit_bzero(rsecret, rsecret_len);
    free(secret);
    free(rsecret);
    hrss_sm2_key_free(key);
    hrss_sm2_key_free(peer);
    return rc;
}
