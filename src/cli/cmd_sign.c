/*
 * cli/cmd_sign.c - "hrss sign" and "hrss verify": complete and sign a
 * request envelope's header, or check one's signature, with the profiles of
 * docs/design.md decision 2 (sm3, hmac-sm3, sm2). "hrss verify
 * --print-canonical" shows the string that is signed, for vendors whose
 * own signatures do not match.
 *
 * Uses only the public SDK (sign.h, envelope.h, codes.h, crypto.h).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

/* What the command line asked for. */
typedef struct sign_opts {
    int verify; /* 1 for "hrss verify" */
    const char *profile_name;
    const char *key_file;
    const char *secret_arg;
    const char *secret_file;
    const char *system;
    const char *state_dir;
    long long window; /* -1: no time window check */
    int response;
    int print_canonical;
} sign_opts;

/* Key material read for the profile; freed by key_material_free. */
typedef struct key_material {
    hrss_sig_key key;
    hrss_sm2_key *sm2;
    char *secret;
    size_t secret_len;
} key_material;

static void sign_usage(FILE *f)
{
    fprintf(f, "usage: hrss sign --profile sm3|hmac-sm3|sm2|none [options] < REQUEST.json\n"
               "\n"
               "Completes a request envelope and signs its header (LD/T 6008-2024 7.1.1.2):\n"
               "adds serviceReqId, serviceReqTime and nonce when they are absent or empty,\n"
               "sets \"signature\", checks the result against the rules of tables 1 and 2 and\n"
               "prints it as one line of JSON.\n"
               "\n"
               "options:\n"
               "  --profile P         sm3 (SM3 hex: integrity only, proves no identity),\n"
               "                      hmac-sm3 (HMAC-SM3 hex with a shared secret),\n"
               "                      sm2 (SM2-with-SM3, ID 1234567812345678, DER, Base64),\n"
               "                      none (removes any signature)\n"
               "  --key FILE          sm2: PEM private key (PKCS#8 or SEC1)\n"
               "  --secret-file FILE  hmac-sm3: file holding the secret (one trailing newline\n"
               "                      is ignored)\n"
               "  --secret TEXT       hmac-sm3: the secret itself. Other users of the machine\n"
               "                      can read it in 'ps': prefer --secret-file or HRSS_SECRET\n"
               "  --system CODE       system code of serviceReqId (default: the header's appCode)\n"
               "  --state-dir DIR     where id sequences are kept (default: $HRSS_STATE_DIR,\n"
               "                      else $XDG_STATE_HOME/hrss, else ~/.local/state/hrss)\n"
               "  -h, --help          this text\n"
               "\n"
               "environment:\n"
               "  HRSS_SECRET         hmac-sm3 secret when no --secret or --secret-file is given\n"
               "\n"
               "exit status: 0 signed, 1 invalid request, 2 bad usage or unreadable input\n");
}

static void verify_usage(FILE *f)
{
    fprintf(f,
            "usage: hrss verify --profile sm3|hmac-sm3|sm2|none [options] < ENVELOPE.json\n"
            "       hrss verify --print-canonical < ENVELOPE.json\n"
            "\n"
            "Parses an envelope strictly and checks the signature of its header\n"
            "(LD/T 6008-2024 7.1.1.2); prints \"ok\" when it holds.\n"
            "\n"
            "options:\n"
            "  --profile P         sm3, hmac-sm3, sm2 or none (see 'hrss sign --help')\n"
            "  --key FILE          sm2: PEM public key (or the private key)\n"
            "  --secret-file FILE  hmac-sm3: file holding the secret (one trailing newline\n"
            "                      is ignored)\n"
            "  --secret TEXT       hmac-sm3: the secret itself. Other users of the machine\n"
            "                      can read it in 'ps': prefer --secret-file or HRSS_SECRET\n"
            "  --window SECONDS    also refuse an envelope whose serviceReqTime (serviceResTime\n"
            "                      with --response), in CST, is more than SECONDS away from\n"
            "                      now; without it no time is checked (a node uses 900)\n"
            "  --response          the input is a response envelope\n"
            "  --print-canonical   print the string the signature is computed over\n"
            "                      (header fields but \"signature\", sorted, key=value joined\n"
            "                      by &) and stop; needs no profile and checks nothing else\n"
            "  -h, --help          this text\n"
            "\n"
            "environment:\n"
            "  HRSS_SECRET         hmac-sm3 secret when no --secret or --secret-file is given\n"
            "\n"
            "exit status: 0 valid, 1 invalid envelope, signature mismatch or stale time,\n"
            "2 bad usage or unreadable input\n");
}

enum {
    OPT_PROFILE = 256,
    OPT_KEY,
    OPT_SECRET,
    OPT_SECRET_FILE,
    OPT_SYSTEM,
    OPT_STATE_DIR,
    OPT_WINDOW,
    OPT_RESPONSE,
    OPT_PRINT_CANONICAL
};

static const struct option long_opts[] = {
    {"profile", required_argument, NULL, OPT_PROFILE},
    {"key", required_argument, NULL, OPT_KEY},
    {"secret", required_argument, NULL, OPT_SECRET},
    {"secret-file", required_argument, NULL, OPT_SECRET_FILE},
    {"system", required_argument, NULL, OPT_SYSTEM},
    {"state-dir", required_argument, NULL, OPT_STATE_DIR},
    {"window", required_argument, NULL, OPT_WINDOW},
    {"response", no_argument, NULL, OPT_RESPONSE},
    {"print-canonical", no_argument, NULL, OPT_PRINT_CANONICAL},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* "--name" of a long option's value, for messages. */
static const char *opt_name(int c)
{
    for (size_t i = 0; long_opts[i].name != NULL; i++)
        if (long_opts[i].val == c)
            return long_opts[i].name;
    return "?";
}

static int parse_window(const char *s, long long *out)
{
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    /* A year is more than any clock skew anyone should accept. */
    if (errno != 0 || end == s || *end != '\0' || v < 0 || v > 366LL * 86400)
        return -1;
    *out = v;
    return 0;
}

/* CLI_OK, CLI_USAGE (message printed), or -1 when help was printed. */
static int parse_opts(int argc, char **argv, sign_opts *o)
{
    const char *cmd = argv[0];
    int c;

    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":h", long_opts, NULL)) != -1) {
        int verify_only = c == OPT_WINDOW || c == OPT_RESPONSE || c == OPT_PRINT_CANONICAL;
        int sign_only = c == OPT_SYSTEM || c == OPT_STATE_DIR;
        if ((verify_only && !o->verify) || (sign_only && o->verify)) {
            cli_error("%s: option --%s does not apply here (try 'hrss %s --help')", cmd,
                      opt_name(c), cmd);
            return CLI_USAGE;
        }
        switch (c) {
        case 'h':
            if (o->verify)
                verify_usage(stdout);
            else
                sign_usage(stdout);
            return -1;
        case OPT_PROFILE:
            o->profile_name = optarg;
            break;
        case OPT_KEY:
            o->key_file = optarg;
            break;
        case OPT_SECRET:
            o->secret_arg = optarg;
            break;
        case OPT_SECRET_FILE:
            o->secret_file = optarg;
            break;
        case OPT_SYSTEM:
            o->system = optarg;
            break;
        case OPT_STATE_DIR:
            o->state_dir = optarg;
            break;
        case OPT_WINDOW:
            if (parse_window(optarg, &o->window) != 0) {
                cli_error("%s: --window: '%s' is not a number of seconds (0 to 31622400)", cmd,
                          optarg);
                return CLI_USAGE;
            }
            break;
        case OPT_RESPONSE:
            o->response = 1;
            break;
        case OPT_PRINT_CANONICAL:
            o->print_canonical = 1;
            break;
        case ':':
            cli_error("%s: option %s needs a value", cmd, argv[optind - 1]);
            return CLI_USAGE;
        default:
            cli_error("%s: unknown option '%s' (try 'hrss %s --help')", cmd, argv[optind - 1], cmd);
            return CLI_USAGE;
        }
    }
    if (optind < argc) {
        cli_error("%s: unexpected argument '%s' (the envelope is read from stdin)", cmd,
                  argv[optind]);
        return CLI_USAGE;
    }
    return CLI_OK;
}

static void key_material_free(key_material *km)
{
    if (km->secret != NULL) {
        explicit_bzero(km->secret, km->secret_len);
        free(km->secret);
    }
    hrss_sm2_key_free(km->sm2);
    memset(km, 0, sizeof(*km));
}

static int load_secret(const sign_opts *o, key_material *km)
{
    const char *cmd = o->verify ? "verify" : "sign";
    char *buf = NULL;
    size_t len = 0;

    if (o->secret_arg != NULL && o->secret_file != NULL) {
        cli_error("%s: give --secret or --secret-file, not both", cmd);
        return CLI_USAGE;
    }
    if (o->secret_file != NULL) {
        if (cli_read_file(o->secret_file, &buf, &len) != CLI_OK)
            return CLI_USAGE;
        if (len > 0 && buf[len - 1] == '\n')
            len--;
        if (len > 0 && buf[len - 1] == '\r')
            len--;
    } else {
        if (o->secret_arg != NULL)
            cli_error("warning: --secret shows the secret to every user of this machine "
                      "(ps, /proc); prefer --secret-file or HRSS_SECRET");
        const char *s = o->secret_arg != NULL ? o->secret_arg : getenv("HRSS_SECRET");
        if (s == NULL) {
            cli_error("%s: hmac-sm3 needs a secret (--secret-file FILE, HRSS_SECRET, or "
                      "--secret TEXT)",
                      cmd);
            return CLI_USAGE;
        }
        len = strlen(s);
        buf = malloc(len + 1);
        if (buf == NULL) {
            cli_error("out of memory");
            return CLI_USAGE;
        }
        memcpy(buf, s, len + 1);
    }
    km->secret = buf;
    km->secret_len = len;
    if (len == 0) {
        cli_error("%s: the hmac-sm3 secret is empty", cmd);
        return CLI_USAGE;
    }
    km->key.secret = (const unsigned char *)km->secret;
    km->key.secret_len = km->secret_len;
    return CLI_OK;
}

static int load_sm2_key(const sign_opts *o, key_material *km)
{
    const char *cmd = o->verify ? "verify" : "sign";
    char *pem = NULL;
    size_t len = 0;
    hrss_error err = {0};
    int rc;

    if (o->key_file == NULL) {
        cli_error("%s: sm2 needs --key FILE (%s key, PEM)", cmd,
                  o->verify ? "the signer's public" : "a private");
        return CLI_USAGE;
    }
    if (cli_read_file(o->key_file, &pem, &len) != CLI_OK)
        return CLI_USAGE;
    rc = hrss_sm2_key_from_pem(pem, len, &km->sm2, &err);
    explicit_bzero(pem, len);
    free(pem);
    if (rc != HRSS_OK) {
        cli_error("%s: %s", o->key_file, err.msg);
        return CLI_USAGE;
    }
    if (!o->verify && !hrss_sm2_key_has_private(km->sm2)) {
        cli_error("%s: %s holds a public key; signing needs the private key", cmd, o->key_file);
        return CLI_USAGE;
    }
    km->key.sm2 = km->sm2;
    return CLI_OK;
}

/* Checks that the options fit the profile and reads the key material. */
static int load_key(const sign_opts *o, key_material *km)
{
    const char *cmd = o->verify ? "verify" : "sign";
    int has_secret = o->secret_arg != NULL || o->secret_file != NULL;

    if (o->profile_name == NULL) {
        cli_error("%s: --profile is required (sm3, hmac-sm3, sm2 or none)", cmd);
        return CLI_USAGE;
    }
    if (hrss_sig_profile_parse(o->profile_name, &km->key.profile) != HRSS_OK) {
        cli_error("%s: unknown profile '%s' (sm3, hmac-sm3, sm2 or none)", cmd, o->profile_name);
        return CLI_USAGE;
    }
    if (o->key_file != NULL && km->key.profile != HRSS_SIG_SM2) {
        cli_error("%s: --key is for the sm2 profile", cmd);
        return CLI_USAGE;
    }
    if (has_secret && km->key.profile != HRSS_SIG_HMAC_SM3) {
        cli_error("%s: --secret and --secret-file are for the hmac-sm3 profile", cmd);
        return CLI_USAGE;
    }
    switch (km->key.profile) {
    case HRSS_SIG_HMAC_SM3:
        return load_secret(o, km);
    case HRSS_SIG_SM2:
        return load_sm2_key(o, km);
    default:
        return CLI_OK;
    }
}

/* Prints each violation of the envelope rules on stderr. */
static void print_violation(void *ctx, int code, const char *field, const char *msg)
{
    (void)ctx;
    (void)code;
    if (field != NULL && field[0] != '\0')
        cli_error("%s: %s", field, msg);
    else
        cli_error("%s", msg);
}

/*
 * Loads the text as JSON without the envelope rules (a request to sign may
 * lack the fields sign fills in): duplicate keys refused, top level an
 * object with "header" (an object) and optionally "body", nothing else.
 * Returns the object (a new reference) or NULL after printing why.
 */
static json_t *load_loose(const char *buf, size_t len)
{
    json_error_t jerr;
    json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL) {
        cli_error("stdin: line %d, column %d: %s", jerr.line, jerr.column, jerr.text);
        return NULL;
    }
    if (!json_is_object(root)) {
        cli_error("stdin: the envelope is not a JSON object");
        goto fail;
    }
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v)
    {
        if (strcmp(key, "header") != 0 && strcmp(key, "body") != 0) {
            cli_error("stdin: unexpected top-level member \"%s\" (only header and body)", key);
            goto fail;
        }
    }
    if (!json_is_object(json_object_get(root, "header"))) {
        cli_error("stdin: \"header\" is missing or not an object");
        goto fail;
    }
    return root;
fail:
    json_decref(root);
    return NULL;
}

/* A request envelope made of a loosely loaded one; NULL after a message. */
static hrss_envelope *envelope_of(json_t *root)
{
    hrss_envelope *e = hrss_envelope_new(HRSS_ENV_REQUEST);
    if (e == NULL) {
        cli_error("out of memory");
        return NULL;
    }
    const char *key;
    json_t *v;
    json_object_foreach(json_object_get(root, "header"), key, v)
    {
        if (!json_is_string(v)) {
            cli_error("header.%s: not a string (header values are strings)", key);
            goto fail;
        }
        if (hrss_envelope_set(e, key, json_string_value(v)) != HRSS_OK) {
            cli_error("header.%s: cannot be set", key);
            goto fail;
        }
    }
    json_t *body = json_object_get(root, "body");
    if (body != NULL && hrss_envelope_set_body(e, json_incref(body)) != HRSS_OK) {
        cli_error("body: cannot be set");
        goto fail;
    }
    return e;
fail:
    hrss_envelope_free(e);
    return NULL;
}

int cmd_sign(int argc, char **argv)
{
    sign_opts o = {.verify = 0, .window = -1};
    key_material km = {0};
    hrss_error err = {0};
    hrss_envelope *e = NULL;
    hrss_idgen *g = NULL;
    json_t *root = NULL;
    char *buf = NULL, *out = NULL;
    size_t len = 0, outlen = 0;
    int rc = parse_opts(argc, argv, &o);

    if (rc != CLI_OK)
        return rc < 0 ? CLI_OK : rc;
    if ((rc = load_key(&o, &km)) != CLI_OK)
        goto done;
    if ((rc = cli_read_stdin(&buf, &len)) != CLI_OK)
        goto done;

    rc = CLI_FAIL;
    if ((root = load_loose(buf, len)) == NULL || (e = envelope_of(root)) == NULL)
        goto done;

    const char *id = hrss_envelope_get(e, "serviceReqId");
    if (id == NULL || id[0] == '\0') {
        const char *system = o.system != NULL ? o.system : hrss_envelope_get(e, "appCode");
        const char *dir = o.state_dir != NULL ? o.state_dir : cli_state_dir();
        if (system == NULL || system[0] == '\0') {
            cli_error("header.serviceReqId: absent, and no appCode or --system to make one");
            goto done;
        }
        int irc = hrss_idgen_new(system, dir, &g, &err);
        if (irc != HRSS_OK) {
            cli_error("serviceReqId: %s (system code %s, state directory %s)", err.msg, system,
                      dir);
            rc = irc == HRSS_EIO ? CLI_USAGE : CLI_FAIL;
            goto done;
        }
    }
    if (hrss_envelope_fill_request(e, g, &err) != HRSS_OK) {
        cli_error("%s", err.msg);
        goto done;
    }
    if (hrss_envelope_sign(e, &km.key, &err) != HRSS_OK) {
        cli_error("%s", err.msg);
        goto done;
    }
    if (hrss_envelope_validate(e, print_violation, NULL, &err) != HRSS_OK)
        goto done;
    if (hrss_envelope_serialize(e, &out, &outlen) != HRSS_OK) {
        cli_error("cannot serialise the envelope");
        goto done;
    }
    rc = cli_write_stdout(out, outlen);
    if (rc == CLI_OK)
        rc = cli_write_stdout("\n", 1);
done:
    hrss_free(out);
    hrss_idgen_free(g);
    hrss_envelope_free(e);
    json_decref(root);
    free(buf);
    key_material_free(&km);
    return rc;
}

/* "hrss verify --print-canonical": the header as sent, rules not applied. */
static int print_canonical(const char *buf, size_t len)
{
    hrss_error err = {0};
    char *canon = NULL;
    size_t canonlen = 0;
    int rc = CLI_FAIL;
    json_t *root = load_loose(buf, len);

    if (root == NULL)
        return CLI_FAIL;
    if (hrss_canonical_header(json_object_get(root, "header"), &canon, &canonlen, &err) !=
        HRSS_OK) {
        cli_error("%s", err.msg);
        goto done;
    }
    rc = cli_write_stdout(canon, canonlen);
    if (rc == CLI_OK)
        rc = cli_write_stdout("\n", 1);
done:
    hrss_free(canon);
    json_decref(root);
    return rc;
}

int cmd_verify(int argc, char **argv)
{
    sign_opts o = {.verify = 1, .window = -1};
    key_material km = {0};
    hrss_error err = {0};
    hrss_envelope *e = NULL;
    char *buf = NULL;
    size_t len = 0;
    int rc = parse_opts(argc, argv, &o);

    if (rc != CLI_OK)
        return rc < 0 ? CLI_OK : rc;
    if (o.print_canonical) {
        if (o.profile_name != NULL || o.key_file != NULL || o.secret_arg != NULL ||
            o.secret_file != NULL || o.window >= 0 || o.response) {
            cli_error("verify: --print-canonical takes no other option");
            return CLI_USAGE;
        }
        if ((rc = cli_read_stdin(&buf, &len)) == CLI_OK)
            rc = print_canonical(buf, len);
        free(buf);
        return rc;
    }
    if ((rc = load_key(&o, &km)) != CLI_OK)
        goto done;
    if ((rc = cli_read_stdin(&buf, &len)) != CLI_OK)
        goto done;

    rc = CLI_FAIL;
    if (hrss_envelope_parse(buf, len, o.response ? HRSS_ENV_RESPONSE : HRSS_ENV_REQUEST, &e,
                            print_violation, NULL, &err) != HRSS_OK)
        goto done;
    int vrc = hrss_envelope_verify(e, &km.key, &err);
    if (vrc == HRSS_EBADSIG) {
        cli_error("signature mismatch (%s)", err.msg);
        goto done;
    }
    if (vrc != HRSS_OK) {
        cli_error("%s", err.msg);
        goto done;
    }
    if (o.window >= 0) {
        /* A request's time, or a response's own. */
        const char *field = o.response ? "serviceResTime" : "serviceReqTime";
        const char *t = hrss_envelope_get(e, field);
        if (t == NULL) {
            cli_error("header.%s: missing, cannot check the window", field);
            goto done;
        }
        if (hrss_time_check_window(t, strlen(t), (int64_t)time(NULL), o.window, &err) != HRSS_OK) {
            cli_error("header.%s: %s (window %lld s)", field, err.msg, o.window);
            goto done;
        }
    }
    rc = cli_write_stdout("ok\n", 3);
done:
    hrss_envelope_free(e);
    free(buf);
    key_material_free(&km);
    return rc;
}
