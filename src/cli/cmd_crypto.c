/*
 * cli/cmd_crypto.c - the primitive subcommands of hrss: sm3, sm4, keygen and sm2. Each
 * reads its input on stdin and writes text (hex or Base64, one line) or raw bytes on
 * stdout, so that scripts can cross-check hrss with the openssl command line. Only the
 * public SDK (hrss/crypto.h) is used.
 *
 * Secrets: keys come from files or the command line, never from stdout; buffers that
 * held them are wiped. keygen prints a private key only when asked (--print-raw).
 * Exit codes follow cli.h: 0 done, 1 refused (signature mismatch, decryption failure),
 * 2 bad usage or unreadable input (bad key, bad Base64).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* ---- shared pieces ---- */

static void wipe_free(void *p, size_t len)
{
    if (p == NULL)
        return;
    explicit_bzero(p, len);
    free(p);
}

/* Exit code for an SDK error: refusals are 1, bad input is 2. */
static int exit_for(int code)
{
    switch (code) {
    case HRSS_OK:
        return CLI_OK;
    case HRSS_EBADSIG:
    case HRSS_EDECRYPT:
    case HRSS_ECRYPTO:
    case HRSS_ENOMEM:
        return CLI_FAIL;
    default:
        return CLI_USAGE;
    }
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Decodes Base64 or hex text, ignoring leading and trailing whitespace. */
static int decode_text(const char *what, const char *text, size_t len, int hex, unsigned char **out,
                       size_t *outlen)
{
    hrss_error err;
    int rc;
    while (len > 0 && is_space(text[0])) {
        text++;
        len--;
    }
    while (len > 0 && is_space(text[len - 1]))
        len--;
    rc = hex ? hrss_hex_decode(text, len, out, outlen, &err)
             : hrss_base64_decode(text, len, out, outlen, &err);
    if (rc != HRSS_OK) {
        cli_error("%s: not valid %s text: %s", what, hex ? "hex" : "Base64 (one line)", err.msg);
        return CLI_USAGE;
    }
    return CLI_OK;
}

/* Prints data as hex or Base64 and a newline. */
static int print_text(const unsigned char *data, size_t len, int hex)
{
    char *s = NULL;
    size_t n = 0;
    int rc = hex ? hrss_hex_encode(data, len, &s, &n) : hrss_base64_encode(data, len, &s, &n);
    if (rc != HRSS_OK) {
        cli_error("encoding the output: %s", hrss_strerror(rc));
        return CLI_FAIL;
    }
    s[n] = '\n'; /* the NUL's place: the string is not used as one after this */
    rc = cli_write_stdout(s, n + 1);
    hrss_free(s);
    return rc;
}

/* Reports an option getopt_long did not accept. */
static int bad_option(const char *cmd, char **argv)
{
    cli_error("%s: unknown option or missing value '%s' (try 'hrss %s --help')", cmd,
              argv[optind - 1], cmd);
    return CLI_USAGE;
}

static int extra_args(const char *cmd, int argc, char **argv)
{
    if (optind < argc) {
        cli_error("%s: unexpected argument '%s' (try 'hrss %s --help')", cmd, argv[optind], cmd);
        return 1;
    }
    return 0;
}

/* ---- sm3 ---- */

static void sm3_usage(FILE *f)
{
    fputs("usage: hrss sm3 [--hmac-key-hex HEX]\n"
          "\n"
          "Prints the SM3 digest of stdin as lowercase hex on one line. With --hmac-key-hex,\n"
          "prints HMAC-SM3 of stdin keyed with the given bytes instead.\n",
          f);
}

int cmd_sm3(int argc, char **argv)
{
    static const struct option opts[] = {{"hmac-key-hex", required_argument, NULL, 'k'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *keyhex = NULL;
    unsigned char md[HRSS_SM3_LEN], *key = NULL;
    size_t len = 0, keylen = 0;
    char *in = NULL;
    int c, rc;

    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'k':
            keyhex = optarg;
            break;
        case 'h':
            sm3_usage(stdout);
            return CLI_OK;
        default:
            return bad_option("sm3", argv);
        }
    }
    if (extra_args("sm3", argc, argv))
        return CLI_USAGE;
    if (keyhex != NULL) {
        rc = decode_text("--hmac-key-hex", keyhex, strlen(keyhex), 1, &key, &keylen);
        if (rc != CLI_OK)
            return rc;
    }
    rc = cli_read_stdin(&in, &len);
    if (rc != CLI_OK)
        goto done;
    rc = key != NULL ? hrss_hmac_sm3(key, keylen, in, len, md) : hrss_sm3(in, len, md);
    if (rc != HRSS_OK) {
        cli_error("sm3: %s", hrss_strerror(rc));
        rc = CLI_FAIL;
        goto done;
    }
    rc = print_text(md, sizeof(md), 1);
done:
    wipe_free(key, keylen);
    free(in);
    return rc;
}

/* ---- sm4 ---- */

static void sm4_usage(FILE *f)
{
    fputs("usage: hrss sm4 encrypt|decrypt (--key DIGITS | --key-file FILE) [--hex]\n"
          "                [--gcm [--aad TEXT]]\n"
          "\n"
          "SM4-ECB with PKCS#7 padding (LD/T 6008-2024 7.1.1.1); the key is exactly 16\n"
          "ASCII digits, used as the 16 key bytes.\n"
          "  encrypt   reads bytes on stdin, prints the ciphertext as Base64 and a newline\n"
          "  decrypt   reads Base64 text on stdin (surrounding whitespace ignored), writes\n"
          "            the plaintext bytes\n"
          "  --key DIGITS     the 16-digit key (visible to other local users: prefer\n"
          "                   --key-file)\n"
          "  --key-file FILE  read the key from FILE (surrounding whitespace ignored)\n"
          "  --hex            hex text instead of Base64\n"
          "  --gcm            the opt-in SM4-GCM profile: IV(12) || ciphertext || tag(16)\n"
          "  --aad TEXT       additional authenticated data for --gcm\n",
          f);
}

/* The 16-digit key from --key or --key-file. */
static int sm4_load_key(const char *digits, const char *file, unsigned char key[16])
{
    hrss_error err;
    char *text = NULL;
    size_t len = 0, textlen = 0;
    const char *p;
    int rc;

    if ((digits == NULL) == (file == NULL)) {
        cli_error("sm4: give the key with exactly one of --key or --key-file");
        return CLI_USAGE;
    }
    if (file != NULL) {
        rc = cli_read_file(file, &text, &textlen);
        if (rc != CLI_OK)
            return rc;
        p = text;
        len = textlen;
        while (len > 0 && is_space(p[0])) {
            p++;
            len--;
        }
        while (len > 0 && is_space(p[len - 1]))
            len--;
    } else {
        p = digits;
        len = strlen(digits);
    }
    rc = hrss_sm4_key_from_digits(p, len, key, &err);
    wipe_free(text, textlen);
    if (rc != HRSS_OK) {
        cli_error("%s", err.msg);
        return CLI_USAGE;
    }
    return CLI_OK;
}

int cmd_sm4(int argc, char **argv)
{
    static const struct option opts[] = {{"key", required_argument, NULL, 'k'},
                                         {"key-file", required_argument, NULL, 'f'},
                                         {"hex", no_argument, NULL, 'x'},
                                         {"gcm", no_argument, NULL, 'g'},
                                         {"aad", required_argument, NULL, 'a'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *digits = NULL, *keyfile = NULL, *aad = NULL;
    unsigned char key[HRSS_SM4_KEY_LEN], *data = NULL, *out = NULL;
    size_t len = 0, datalen = 0, outlen = 0;
    int hex = 0, gcm = 0, enc, c, rc;
    char *in = NULL;
    hrss_error err;

    if (argc < 2) {
        sm4_usage(stderr);
        return CLI_USAGE;
    }
    if (cli_is_help(argv[1])) {
        sm4_usage(stdout);
        return CLI_OK;
    }
    if (strcmp(argv[1], "encrypt") == 0) {
        enc = 1;
    } else if (strcmp(argv[1], "decrypt") == 0) {
        enc = 0;
    } else {
        cli_error("sm4: unknown action '%s' (encrypt or decrypt)", argv[1]);
        return CLI_USAGE;
    }
    argc--;
    argv++;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'k':
            digits = optarg;
            break;
        case 'f':
            keyfile = optarg;
            break;
        case 'x':
            hex = 1;
            break;
        case 'g':
            gcm = 1;
            break;
        case 'a':
            aad = optarg;
            break;
        case 'h':
            sm4_usage(stdout);
            return CLI_OK;
        default:
            return bad_option("sm4", argv);
        }
    }
    if (extra_args("sm4", argc, argv))
        return CLI_USAGE;
    if (aad != NULL && !gcm) {
        cli_error("sm4: --aad needs --gcm");
        return CLI_USAGE;
    }
    rc = sm4_load_key(digits, keyfile, key);
    if (rc != CLI_OK)
        return rc;
    rc = cli_read_stdin(&in, &len);
    if (rc != CLI_OK)
        goto done;
    if (enc) {
        rc = gcm ? hrss_sm4_gcm_encrypt(key, aad, aad ? strlen(aad) : 0, in, len, &out, &outlen,
                                        &err)
                 : hrss_sm4_ecb_encrypt(key, in, len, &out, &outlen, &err);
        if (rc != HRSS_OK) {
            cli_error("%s", err.msg);
            rc = exit_for(rc);
            goto done;
        }
        rc = print_text(out, outlen, hex);
    } else {
        rc = decode_text("stdin", in, len, hex, &data, &datalen);
        if (rc != CLI_OK)
            goto done;
        rc = gcm ? hrss_sm4_gcm_decrypt(key, aad, aad ? strlen(aad) : 0, data, datalen, &out,
                                        &outlen, &err)
                 : hrss_sm4_ecb_decrypt(key, data, datalen, &out, &outlen, &err);
        if (rc != HRSS_OK) {
            cli_error("%s", err.msg);
            rc = exit_for(rc);
            goto done;
        }
        rc = cli_write_stdout(out, outlen);
    }
done:
    explicit_bzero(key, sizeof(key));
    /* The plaintext is the input of encrypt and the output of decrypt. */
    wipe_free(enc ? (void *)in : (void *)out, enc ? len : outlen);
    free(enc ? (void *)out : (void *)in);
    free(data);
    return rc;
}

/* ---- keygen ---- */

static void keygen_usage(FILE *f)
{
    fputs("usage: hrss keygen sm2 --out PREFIX [--print-raw]\n"
          "\n"
          "Generates an SM2 key pair: PREFIX.key (PKCS#8 PEM, mode 0600) and PREFIX.pub\n"
          "(SubjectPublicKeyInfo PEM). --print-raw also prints the raw hex forms on stdout,\n"
          "the private scalar d included: \"d HEX\" and \"pub 04XY\".\n",
          f);
}

int cmd_keygen(int argc, char **argv)
{
    static const struct option opts[] = {{"out", required_argument, NULL, 'o'},
                                         {"print-raw", no_argument, NULL, 'r'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *prefix = NULL;
    hrss_sm2_key *k = NULL;
    char *priv = NULL, *pub = NULL, *path = NULL, *d = NULL, *p = NULL;
    size_t privlen = 0, publen = 0, plen;
    int raw = 0, c, rc;
    hrss_error err;

    if (argc < 2) {
        keygen_usage(stderr);
        return CLI_USAGE;
    }
    if (cli_is_help(argv[1])) {
        keygen_usage(stdout);
        return CLI_OK;
    }
    if (strcmp(argv[1], "sm2") != 0) {
        cli_error("keygen: unknown key type '%s' (only sm2)", argv[1]);
        return CLI_USAGE;
    }
    argc--;
    argv++;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'o':
            prefix = optarg;
            break;
        case 'r':
            raw = 1;
            break;
        case 'h':
            keygen_usage(stdout);
            return CLI_OK;
        default:
            return bad_option("keygen", argv);
        }
    }
    if (extra_args("keygen", argc, argv))
        return CLI_USAGE;
    if (prefix == NULL || prefix[0] == '\0') {
        cli_error("keygen: --out PREFIX is required");
        return CLI_USAGE;
    }
    rc = hrss_sm2_key_generate(&k, &err);
    if (rc != HRSS_OK) {
        cli_error("%s", err.msg);
        return CLI_FAIL;
    }
    if (hrss_sm2_key_to_pem(k, 1, &priv, &privlen) != HRSS_OK ||
        hrss_sm2_key_to_pem(k, 0, &pub, &publen) != HRSS_OK ||
        (raw && hrss_sm2_key_to_raw_hex(k, &d, &p) != HRSS_OK)) {
        cli_error("keygen: encoding the key failed");
        rc = CLI_FAIL;
        goto done;
    }
    plen = strlen(prefix);
    path = malloc(plen + 5);
    if (path == NULL) {
        cli_error("out of memory");
        rc = CLI_FAIL;
        goto done;
    }
    memcpy(path, prefix, plen);
    memcpy(path + plen, ".key", 5);
    rc = cli_write_file(path, priv, privlen, 0600);
    if (rc != CLI_OK)
        goto done;
    memcpy(path + plen, ".pub", 5);
    rc = cli_write_file(path, pub, publen, 0644);
    if (rc != CLI_OK)
        goto done;
    if (raw && printf("d %s\npub %s\n", d, p) < 0)
        rc = CLI_USAGE;
    if (raw && fflush(stdout) != 0)
        rc = CLI_USAGE;
done:
    if (priv != NULL)
        wipe_free(priv, privlen);
    if (d != NULL)
        wipe_free(d, strlen(d));
    hrss_free(p);
    hrss_free(pub);
    free(path);
    hrss_sm2_key_free(k);
    return rc;
}

/* ---- sm2 ---- */

static void sm2_usage(FILE *f)
{
    fputs("usage: hrss sm2 sign    --key KEY.pem [--id ID] [--sig-format der|raw] [--hex]\n"
          "       hrss sm2 verify  --key KEY.pem (--signature TEXT | --sigfile FILE) [--id ID]\n"
          "                        [--sig-format der|raw] [--hex]\n"
          "       hrss sm2 encrypt --key KEY.pem [--format c1c3c2|c1c2c3|der] [--hex]\n"
          "       hrss sm2 decrypt --key KEY.pem [--format c1c3c2|c1c2c3|der] [--hex]\n"
          "\n"
          "SM2 with SM3. The message or plaintext is stdin.\n"
          "  sign      prints the signature as Base64 and a newline\n"
          "  verify    prints \"ok\" (exit 0), or \"signature mismatch\" on stderr (exit 1)\n"
          "  encrypt   prints the ciphertext as Base64 and a newline\n"
          "  decrypt   reads the ciphertext as Base64 text on stdin, writes the plaintext\n"
          "  --key FILE        PEM: PKCS#8 or SEC1 private key, or a SubjectPublicKeyInfo\n"
          "                    public key (enough for verify and encrypt)\n"
          "  --id ID           signer's user ID (default 1234567812345678)\n"
          "  --sig-format F    der (ASN.1 SEQUENCE {r, s}, the default) or raw (r || s)\n"
          "  --signature TEXT  the signature to check, as Base64 (or hex with --hex)\n"
          "  --sigfile FILE    read that text from FILE\n"
          "  --format F        ciphertext layout: c1c3c2 (default), c1c2c3, or der (GM/T 0009)\n"
          "  --hex             hex text instead of Base64 for signatures and ciphertexts\n",
          f);
}

enum sm2_action { SM2_SIGN, SM2_VERIFY, SM2_ENCRYPT, SM2_DECRYPT };

typedef struct sm2_opts {
    const char *keyfile, *id, *sigtext, *sigfile;
    hrss_sm2_sig_format sigfmt;
    hrss_sm2_ct_format ctfmt;
    int hex;
} sm2_opts;

static int sm2_parse(int argc, char **argv, sm2_opts *o)
{
    static const struct option opts[] = {{"key", required_argument, NULL, 'k'},
                                         {"id", required_argument, NULL, 'i'},
                                         {"sig-format", required_argument, NULL, 's'},
                                         {"signature", required_argument, NULL, 'S'},
                                         {"sigfile", required_argument, NULL, 'F'},
                                         {"format", required_argument, NULL, 'f'},
                                         {"hex", no_argument, NULL, 'x'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    int c;

    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'k':
            o->keyfile = optarg;
            break;
        case 'i':
            o->id = optarg;
            break;
        case 's':
            if (strcmp(optarg, "der") == 0) {
                o->sigfmt = HRSS_SM2_SIG_DER;
            } else if (strcmp(optarg, "raw") == 0) {
                o->sigfmt = HRSS_SM2_SIG_RAW;
            } else {
                cli_error("sm2: --sig-format is der or raw, not '%s'", optarg);
                return CLI_USAGE;
            }
            break;
        case 'S':
            o->sigtext = optarg;
            break;
        case 'F':
            o->sigfile = optarg;
            break;
        case 'f':
            if (strcmp(optarg, "c1c3c2") == 0) {
                o->ctfmt = HRSS_SM2_C1C3C2;
            } else if (strcmp(optarg, "c1c2c3") == 0) {
                o->ctfmt = HRSS_SM2_C1C2C3;
            } else if (strcmp(optarg, "der") == 0) {
                o->ctfmt = HRSS_SM2_DER;
            } else {
                cli_error("sm2: --format is c1c3c2, c1c2c3 or der, not '%s'", optarg);
                return CLI_USAGE;
            }
            break;
        case 'x':
            o->hex = 1;
            break;
        case 'h':
            sm2_usage(stdout);
            return -1;
        default:
            return bad_option("sm2", argv);
        }
    }
    if (extra_args("sm2", argc, argv))
        return CLI_USAGE;
    if (o->keyfile == NULL) {
        cli_error("sm2: --key FILE is required");
        return CLI_USAGE;
    }
    return CLI_OK;
}

/* The signature for verify, from --signature or --sigfile. */
static int sm2_signature(const sm2_opts *o, unsigned char **sig, size_t *siglen)
{
    char *text = NULL;
    size_t len = 0;
    int rc;

    if ((o->sigtext == NULL) == (o->sigfile == NULL)) {
        cli_error("sm2 verify: give exactly one of --signature or --sigfile");
        return CLI_USAGE;
    }
    if (o->sigtext != NULL)
        return decode_text("--signature", o->sigtext, strlen(o->sigtext), o->hex, sig, siglen);
    rc = cli_read_file(o->sigfile, &text, &len);
    if (rc != CLI_OK)
        return rc;
    rc = decode_text(o->sigfile, text, len, o->hex, sig, siglen);
    free(text);
    return rc;
}

int cmd_sm2(int argc, char **argv)
{
    sm2_opts o = {NULL, NULL, NULL, NULL, HRSS_SM2_SIG_DER, HRSS_SM2_C1C3C2, 0};
    enum sm2_action act;
    hrss_sm2_key *k = NULL;
    unsigned char *out = NULL, *data = NULL;
    size_t len = 0, outlen = 0, datalen = 0;
    char *in = NULL;
    hrss_error err;
    int rc;

    if (argc < 2) {
        sm2_usage(stderr);
        return CLI_USAGE;
    }
    if (cli_is_help(argv[1])) {
        sm2_usage(stdout);
        return CLI_OK;
    }
    if (strcmp(argv[1], "sign") == 0) {
        act = SM2_SIGN;
    } else if (strcmp(argv[1], "verify") == 0) {
        act = SM2_VERIFY;
    } else if (strcmp(argv[1], "encrypt") == 0) {
        act = SM2_ENCRYPT;
    } else if (strcmp(argv[1], "decrypt") == 0) {
        act = SM2_DECRYPT;
    } else {
        cli_error("sm2: unknown action '%s' (sign, verify, encrypt or decrypt)", argv[1]);
        return CLI_USAGE;
    }
    rc = sm2_parse(argc - 1, argv + 1, &o);
    if (rc != CLI_OK)
        return rc < 0 ? CLI_OK : rc;
    if (act == SM2_VERIFY) {
        rc = sm2_signature(&o, &data, &datalen);
        if (rc != CLI_OK)
            return rc;
    } else if (o.sigtext != NULL || o.sigfile != NULL) {
        cli_error("sm2: --signature and --sigfile are for verify");
        return CLI_USAGE;
    }
    rc = cli_read_sm2_key(o.keyfile, &k);
    if (rc != CLI_OK)
        goto done;
    rc = cli_read_stdin(&in, &len);
    if (rc != CLI_OK)
        goto done;

    switch (act) {
    case SM2_SIGN:
        rc =
            hrss_sm2_sign(k, o.id, o.id ? strlen(o.id) : 0, in, len, o.sigfmt, &out, &outlen, &err);
        break;
    case SM2_VERIFY:
        rc = hrss_sm2_verify(k, o.id, o.id ? strlen(o.id) : 0, in, len, o.sigfmt, data, datalen,
                             &err);
        break;
    case SM2_ENCRYPT:
        rc = hrss_sm2_encrypt(k, in, len, o.ctfmt, &out, &outlen, &err);
        break;
    case SM2_DECRYPT:
        rc = decode_text("stdin", in, len, o.hex, &data, &datalen);
        if (rc != CLI_OK)
            goto done;
        rc = hrss_sm2_decrypt(k, data, datalen, o.ctfmt, &out, &outlen, &err);
        break;
    }
    if (rc != HRSS_OK) {
        cli_error("%s", rc == HRSS_EBADSIG ? "signature mismatch" : err.msg);
        rc = exit_for(rc);
        goto done;
    }
    switch (act) {
    case SM2_SIGN:
    case SM2_ENCRYPT:
        rc = print_text(out, outlen, o.hex);
        break;
    case SM2_VERIFY:
        rc = cli_write_stdout("ok\n", 3);
        break;
    case SM2_DECRYPT:
        rc = cli_write_stdout(out, outlen);
        break;
    }
done:
    if (act == SM2_DECRYPT)
        wipe_free(out, outlen);
    else
        free(out);
    if (act == SM2_ENCRYPT)
        wipe_free(in, len);
    else
        free(in);
    free(data);
    hrss_sm2_key_free(k);
    return rc;
}
