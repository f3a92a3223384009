/*
 * cli/cmd_call.c - "hrss call": one LD/T 6008-2024 transaction through a
 * node with the caller API (hrss/client.h). The body is read from stdin;
 * the response envelope, body decrypted, is printed as indented JSON.
 * --wire also prints the request and the response as they travelled.
 *
 * Uses only the public SDK.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Exit status of a call that reached the node but did not succeed. */
#define CALL_NET 3

typedef struct call_opts {
    const char *node, *system, *profile, *key, *secret_file, *service, *area, *encrypt;
    const char *sm4_key, *provider_key, *response_profile, *response_secret_file, *state_dir;
    const char *cacert, *cert, *cert_key;
    long timeout_ms;
    int hex, wire, no_verify;
} call_opts;

static void call_usage(FILE *f)
{
    fprintf(f,
            "usage: hrss call --node URL --system CODE --service CODE --area AREA [options]\n"
            "                 < BODY.json\n"
            "\n"
            "Makes one transaction through a node (LD/T 6008-2024): builds the request\n"
            "envelope around the JSON object read from stdin (serviceReqId, serviceReqTime,\n"
            "nonce), encrypts the body, signs the header, sends it, checks the response\n"
            "(ids, signature) and prints it with its body decrypted.\n"
            "\n"
            "options:\n"
            "  --node URL             the node (http://HOST:PORT or a full transaction URL)\n"
            "  --system CODE          the caller's system code (appCode)\n"
            "  --service CODE         serviceCode, 15 characters\n"
            "  --area AREA            serviceAreaCode: the provider's area\n"
            "  --profile P            the caller's signature: hmac-sm3 (default with a secret),\n"
            "                         sm2 (default with --key), sm3, none\n"
            "  --key PEM              the caller's SM2 private key: signs (sm2) and opens\n"
            "                         SM2-encrypted responses\n"
            "  --secret-file FILE     hmac-sm3 secret shared with the node (or HRSS_SECRET)\n"
            "  --encrypt E            none (default), sm4 (SM4-ECB), sm4-gcm, sm2\n"
            "  --sm4-key DIGITS       the grant's 16-digit SM4 key (or HRSS_SM4_KEY)\n"
            "  --hex                  ciphertext as hex instead of Base64\n"
            "  --provider-key PEM     the provider's SM2 public key: encrypts sm2 requests,\n"
            "                         verifies responses (then --response-profile sm2)\n"
            "  --response-profile P   how responses are signed: sm2, sm3, hmac-sm3\n"
            "                         (default: sm2 with --provider-key)\n"
            "  --response-secret-file FILE  hmac-sm3 secret of the provider's responses\n"
            "  --no-verify            print the response without checking its signature\n"
            "                         (without a way to check it, the call is refused)\n"
            "  --timeout MS           whole call (default 30000)\n"
            "  --cacert FILE, --cert FILE, --cert-key FILE   TLS for https:// nodes\n"
            "  --state-dir DIR        where serviceReqId sequences are kept\n"
            "  --wire                 also print the request and response as sent/received\n"
            "  -h, --help             this text\n"
            "\n"
            "exit status: 0 commStatus 00; 1 another commStatus, or the response failed a\n"
            "check (ids, signature, decryption); 2 bad usage; 3 node unreachable or timeout\n");
}

enum {
    O_NODE = 256, O_SYSTEM, O_PROFILE, O_KEY, O_SECRET_FILE, O_SERVICE, O_AREA, O_ENCRYPT,
    O_SM4, O_HEX, O_PROVIDER_KEY, O_RESP_PROFILE, O_RESP_SECRET, O_TIMEOUT, O_CACERT, O_CERT,
    O_CERT_KEY, O_STATE, O_WIRE, O_NO_VERIFY
};

static const struct option long_opts[] = {
    {"node", required_argument, NULL, O_NODE},
    {"system", required_argument, NULL, O_SYSTEM},
    {"profile", required_argument, NULL, O_PROFILE},
    {"key", required_argument, NULL, O_KEY},
    {"secret-file", required_argument, NULL, O_SECRET_FILE},
    {"service", required_argument, NULL, O_SERVICE},
    {"area", required_argument, NULL, O_AREA},
    {"encrypt", required_argument, NULL, O_ENCRYPT},
    {"sm4-key", required_argument, NULL, O_SM4},
    {"hex", no_argument, NULL, O_HEX},
    {"provider-key", required_argument, NULL, O_PROVIDER_KEY},
    {"response-profile", required_argument, NULL, O_RESP_PROFILE},
    {"response-secret-file", required_argument, NULL, O_RESP_SECRET},
    {"timeout", required_argument, NULL, O_TIMEOUT},
    {"cacert", required_argument, NULL, O_CACERT},
    {"cert", required_argument, NULL, O_CERT},
    {"cert-key", required_argument, NULL, O_CERT_KEY},
    {"state-dir", required_argument, NULL, O_STATE},
    {"wire", no_argument, NULL, O_WIRE},
    {"no-verify", no_argument, NULL, O_NO_VERIFY},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* Prints text (JSON) indented, or as it is when it is not JSON. */
static void print_json(const char *title, const char *text, size_t len)
{
    json_t *doc = json_loadb(text, len, 0, NULL);
    if (title != NULL)
        printf("%s\n", title);
    if (doc == NULL) {
        fwrite(text, 1, len, stdout);
        printf("\n");
        return;
    }
    char *s = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    printf("%s\n", s != NULL ? s : "");
    free(s);
    json_decref(doc);
}

static int parse_opts(int argc, char **argv, call_opts *o)
{
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":h", long_opts, NULL)) != -1) {
        switch (c) {
        case 'h': call_usage(stdout); return -1;
        case O_NODE: o->node = optarg; break;
        case O_SYSTEM: o->system = optarg; break;
        case O_PROFILE: o->profile = optarg; break;
        case O_KEY: o->key = optarg; break;
        case O_SECRET_FILE: o->secret_file = optarg; break;
        case O_SERVICE: o->service = optarg; break;
        case O_AREA: o->area = optarg; break;
        case O_ENCRYPT: o->encrypt = optarg; break;
        case O_SM4: o->sm4_key = optarg; break;
        case O_HEX: o->hex = 1; break;
        case O_PROVIDER_KEY: o->provider_key = optarg; break;
        case O_RESP_PROFILE: o->response_profile = optarg; break;
        case O_RESP_SECRET: o->response_secret_file = optarg; break;
        case O_CACERT: o->cacert = optarg; break;
        case O_CERT: o->cert = optarg; break;
        case O_CERT_KEY: o->cert_key = optarg; break;
        case O_STATE: o->state_dir = optarg; break;
        case O_WIRE: o->wire = 1; break;
        case O_NO_VERIFY: o->no_verify = 1; break;
        case O_TIMEOUT: {
            char *end = NULL;
            errno = 0;
            o->timeout_ms = strtol(optarg, &end, 10);
            if (errno != 0 || end == optarg || *end != '\0' || o->timeout_ms <= 0 ||
                o->timeout_ms > 3600000) {
                cli_error("call: --timeout: '%s' is not a number of milliseconds", optarg);
                return CLI_USAGE;
            }
            break;
        }
        case ':':
            cli_error("call: option %s needs a value", argv[optind - 1]);
            return CLI_USAGE;
        default:
            cli_error("call: unknown option '%s' (try 'hrss call --help')", argv[optind - 1]);
            return CLI_USAGE;
        }
    }
    if (optind < argc) {
        cli_error("call: unexpected argument '%s' (the body is read from stdin)", argv[optind]);
        return CLI_USAGE;
    }
    if (o->node == NULL || o->system == NULL || o->service == NULL || o->area == NULL) {
        cli_error("call: --node, --system, --service and --area are required");
        return CLI_USAGE;
    }
    return CLI_OK;
}

int cmd_call(int argc, char **argv)
{
    call_opts o = {0};
    hrss_sm2_key *own = NULL, *prov = NULL;
    char *secret = NULL, *rsecret = NULL, *in = NULL;
    size_t secret_len = 0, rsecret_len = 0, inlen = 0;
    hrss_client *client = NULL;
    hrss_response *r = NULL;
    json_t *body = NULL;
    hrss_error e = {0, ""};
    int rc = parse_opts(argc, argv, &o);
    if (rc != CLI_OK)
        return rc < 0 ? CLI_OK : rc;

    hrss_client_options co = {.node_url = o.node, .system_code = o.system,
                              .state_dir = o.state_dir ? o.state_dir : cli_state_dir(),
                              .ca_file = o.cacert, .cert_file = o.cert, .key_file = o.cert_key,
                              .timeout_ms = o.timeout_ms};
    hrss_call call = {.service_code = o.service, .area_code = o.area,
                      .encoding = o.hex ? HRSS_TEXT_HEX : HRSS_TEXT_BASE64};
    rc = CLI_USAGE;
    if ((o.key != NULL && cli_read_sm2_key(o.key, &own) != CLI_OK) ||
        (o.provider_key != NULL && cli_read_sm2_key(o.provider_key, &prov) != CLI_OK) ||
        cli_read_secret(o.secret_file, "HRSS_SECRET", &secret, &secret_len) != CLI_OK)
        goto done;
    /* the caller's profile */
    const char *profile = o.profile;
    if (profile == NULL)
        profile = own != NULL ? "sm2" : secret != NULL ? "hmac-sm3" : "none";
    if (hrss_sig_profile_parse(profile, &co.sign.profile) != HRSS_OK) {
        cli_error("call: unknown profile '%s' (hmac-sm3, sm2, sm3 or none)", profile);
        goto done;
    }
    co.sign.secret = (const unsigned char *)secret;
    co.sign.secret_len = secret_len;
    co.sign.sm2 = own;
    co.own_sm2 = own;
    /* the provider's: an answer nobody checked is printed only when asked */
    const char *rprofile = o.response_profile ? o.response_profile : prov ? "sm2" : "none";
    if (o.no_verify && (o.response_profile != NULL || prov != NULL) &&
        strcmp(rprofile, "none") != 0) {
        cli_error("call: --no-verify and a way to check the response (--provider-key or "
                  "--response-profile) exclude each other");
        goto done;
    }
    if (hrss_sig_profile_parse(rprofile, &co.verify.profile) != HRSS_OK) {
        cli_error("call: unknown response profile '%s'", rprofile);
        goto done;
    }
    if (co.verify.profile == HRSS_SIG_NONE && !o.no_verify) {
        cli_error("call: the provider's signature on the response would not be checked: give "
                  "--provider-key PEM (sm2), --response-profile sm3 or hmac-sm3 (with "
                  "--response-secret-file), or --no-verify to print it unchecked");
        goto done;
    }
    if (co.verify.profile == HRSS_SIG_HMAC_SM3 &&
        (o.response_secret_file == NULL ||
         cli_read_secret(o.response_secret_file, NULL, &rsecret, &rsecret_len) != CLI_OK)) {
        cli_error("call: --response-profile hmac-sm3 needs --response-secret-file");
        goto done;
    }
    co.verify.secret = (const unsigned char *)rsecret;
    co.verify.secret_len = rsecret_len;
    co.verify.sm2 = prov;
    call.provider_sm2 = prov;
    /* the body's profile */
    const char *enc = o.encrypt ? o.encrypt : "none";
    if (strcmp(enc, "none") == 0)
        call.cipher = HRSS_BODY_PLAIN;
    else if (strcmp(enc, "sm4") == 0 || strcmp(enc, "sm4-ecb") == 0)
        call.cipher = HRSS_BODY_SM4_ECB;
    else if (strcmp(enc, "sm4-gcm") == 0)
        call.cipher = HRSS_BODY_SM4_GCM;
    else if (strcmp(enc, "sm2") == 0)
        call.cipher = HRSS_BODY_SM2;
    else {
        cli_error("call: --encrypt: '%s' is none, sm4, sm4-gcm or sm2", enc);
        goto done;
    }
    call.sm4_key = o.sm4_key ? o.sm4_key : getenv("HRSS_SM4_KEY");
    if ((call.cipher == HRSS_BODY_SM4_ECB || call.cipher == HRSS_BODY_SM4_GCM) &&
        call.sm4_key == NULL) {
        cli_error("call: --encrypt %s needs --sm4-key (the grant's 16 digits)", enc);
        goto done;
    }
    if (call.cipher == HRSS_BODY_SM2 && (prov == NULL || own == NULL)) {
        cli_error("call: --encrypt sm2 needs --provider-key (to encrypt) and --key (to open "
                  "the response)");
        goto done;
    }
    if (cli_read_stdin(&in, &inlen) != CLI_OK)
        goto done;
    json_error_t jerr;
    body = json_loadb(in, inlen, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(body)) {
        cli_error("call: stdin: %s", body == NULL ? jerr.text : "the body must be a JSON object");
        goto done;
    }
    call.body = body;
    if (hrss_client_new(&co, &client, &e) != HRSS_OK) {
        cli_error("call: %s", e.msg);
        goto done;
    }
    int crc = hrss_client_call(client, &call, &r, &e);
    size_t n;
    if (o.wire && r != NULL) {
        const char *t = hrss_response_request_text(r, &n);
        print_json("--> request, as sent:", t, n);
        t = hrss_response_wire_text(r, &n);
        print_json("<-- response, as received:", t, n);
    }
    if (crc != HRSS_OK) {
        cli_error("call: %s: %s", hrss_err_name(crc), e.msg);
        rc = crc == HRSS_ENET || crc == HRSS_ETIMEOUT ? CALL_NET
             : crc == HRSS_EINVAL                     ? CLI_USAGE
                                                      : CLI_FAIL;
        goto done;
    }
    char *text = NULL;
    size_t len = 0;
    if (hrss_envelope_serialize(hrss_response_envelope(r), &text, &len) == HRSS_OK)
        print_json(o.wire ? (o.no_verify ? "=== response, NOT checked (--no-verify), decrypted:"
                                         : "=== response, checked and decrypted:")
                          : NULL,
                   text, len);
    if (o.no_verify)
        cli_error("call: the response's signature was not checked (--no-verify)");
    hrss_free(text);
    rc = hrss_response_comm_status(r) == HRSS_COMM_OK ? CLI_OK : CLI_FAIL;
done:
    hrss_response_free(r);
    hrss_client_free(client);
    json_decref(body);
    free(in);
    if (secret != NULL)
        explicit_bzero(secret, secret_len);
    if (rsecret != NULL)
        explicit_bzero(rsecret, rsecret_len);
    free(secret);
    free(rsecret);
    hrss_sm2_key_free(own);
    hrss_sm2_key_free(prov);
    return rc;
}
