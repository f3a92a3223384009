/*
 * demo/main.c - hrss-demo-provider: command line, grants from the node's
 * registry file, and the SDK's embedded HTTP server.
 *
 *   hrss-demo-provider --db FILE [--listen HOST:PORT] [--system CODE]
 *                      [--key PEM] [--registry FILE] [--require-grant]
 *                      [--state-dir DIR]
 *   hrss-demo-provider --db FILE --list
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "demo.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: hrss-demo-provider --db FILE [options]\n"
            "       hrss-demo-provider --db FILE --list\n"
            "\n"
            "A provider of LD/T 6008-2024 services over a generated database of fictitious\n"
            "insured persons: card status (SBKZ, object or batch), employment history (JYJL,\n"
            "paged), pension balance (YLYE), temporary card loss (LSGS, records a work order).\n"
            "Service codes are the system code followed by those four letters.\n"
            "\n"
            "options:\n"
            "  --db FILE          SQLite database; made with the fixture when empty\n"
            "  --listen H:P       address to serve on (default 127.0.0.1:8081; port 0: any)\n"
            "  --system CODE      the provider's system code (default S110000Y70P)\n"
            "  --key PEM          the provider's SM2 private key: signs responses (sm2) and\n"
            "                     opens SM2-encrypted requests; without it responses are\n"
            "                     signed sm3 and SM2 grants cannot be served\n"
            "  --registry FILE    the node's registry (JSON of 'registry import'): grants on\n"
            "                     this provider's services give each caller's encryption\n"
            "                     profile and key, and sm2/sm3 callers' signatures are checked\n"
            "  --require-grant    refuse callers without a grant (commStatus 50)\n"
            "  --state-dir DIR    where serviceResId sequences are kept\n"
            "  --list             print the fixture's persons (number, name, card status)\n"
            "  -h, --help         this text\n");
}

static int load_text(const char *path, char **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    int toobig = 0;
    if (f == NULL) {
        fprintf(stderr, "hrss-demo-provider: %s: cannot open\n", path);
        return -1;
    }
    *out = read_stream(f, 16u * 1024 * 1024, len, &toobig);
    fclose(f);
    if (*out == NULL) {
        fprintf(stderr, "hrss-demo-provider: %s: cannot read\n", path);
        return -1;
    }
    return 0;
}

static int cipher_of(const char *name, hrss_body_cipher *out)
{
    static const char *const names[] = {"none", "sm4-ecb", "sm4-gcm", "sm2"};
    for (int i = 0; i < 4; i++)
        if (name == NULL || strcmp(name, names[i]) == 0) {
            *out = name == NULL ? HRSS_BODY_PLAIN : (hrss_body_cipher)i;
            return 0;
        }
    return -1;
}

/* Grants of the registry on services whose provider is system. */
static int load_registry(hrss_provider *p, const char *system, const char *path)
{
    char *text = NULL;
    size_t len = 0;
    json_error_t jerr;
    int rc = -1, n = 0;
    hrss_error e;
    if (load_text(path, &text, &len) != 0)
        return -1;
    json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    free(text);
    if (doc == NULL) {
        fprintf(stderr, "hrss-demo-provider: %s: %s\n", path, jerr.text);
        return -1;
    }
    json_t *systems = json_object_get(doc, "systems"), *services = json_object_get(doc, "services");
    json_t *grants = json_object_get(doc, "grants"), *g;
    size_t i;
    json_array_foreach(grants, i, g)
    {
        const char *caller = json_string_value(json_object_get(g, "caller"));
        const char *service = json_string_value(json_object_get(g, "service"));
        if (caller == NULL || service == NULL || json_is_true(json_object_get(g, "revoked")))
            continue;
        int ours = 0;
        size_t j;
        json_t *s, *sys = NULL;
        json_array_foreach(services, j, s)
        {
            const char *code = json_string_value(json_object_get(s, "code"));
            const char *prov = json_string_value(json_object_get(s, "provider"));
            if (code && prov && strcmp(code, service) == 0 && strcmp(prov, system) == 0)
                ours = 1;
        }
        if (!ours)
            continue;
        json_array_foreach(systems, j, s)
        {
            const char *code = json_string_value(json_object_get(s, "code"));
            if (code != NULL && strcmp(code, caller) == 0)
                sys = s;
        }
        hrss_provider_grant pg = {caller, service, {HRSS_SIG_NONE, NULL, 0, NULL},
                                  HRSS_BODY_PLAIN, HRSS_TEXT_BASE64, NULL, NULL};
        const char *enc = json_string_value(json_object_get(g, "encoding"));
        if (cipher_of(json_string_value(json_object_get(g, "encryption")), &pg.cipher) != 0) {
            fprintf(stderr, "hrss-demo-provider: grant %s/%s: unknown encryption\n", caller,
                    service);
            goto done;
        }
        pg.encoding = enc != NULL && strcmp(enc, "hex") == 0 ? HRSS_TEXT_HEX : HRSS_TEXT_BASE64;
        pg.sm4_key = json_string_value(json_object_get(g, "key"));
        hrss_sm2_key *pub = NULL;
        const char *pem = json_string_value(json_object_get(sys, "publicKey"));
        const char *sig = json_string_value(json_object_get(sys, "signature"));
        if (pem != NULL && hrss_sm2_key_from_pem(pem, strlen(pem), &pub, &e) != HRSS_OK) {
            fprintf(stderr, "hrss-demo-provider: system %s: publicKey: %s\n", caller, e.msg);
            goto done;
        }
        pg.caller_sm2 = pub;
        /* The caller's HMAC secret is the node's business; sm2 and sm3 are public. */
        if (sig != NULL && strcmp(sig, "sm2") == 0 && pub != NULL)
            pg.verify = (hrss_sig_key){HRSS_SIG_SM2, NULL, 0, pub};
        else if (sig != NULL && strcmp(sig, "sm3") == 0)
            pg.verify.profile = HRSS_SIG_SM3;
        int grc = hrss_provider_grant_add(p, &pg, &e);
        hrss_sm2_key_free(pub);
        if (grc != HRSS_OK) {
            fprintf(stderr, "hrss-demo-provider: grant %s/%s: %s\n", caller, service, e.msg);
            goto done;
        }
        n++;
    }
    fprintf(stderr, "event=registry_loaded grants=%d\n", n);
    rc = 0;
done:
    json_decref(doc);
    return rc;
}

static int list_persons(sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT aac002, aac003, card_status FROM persons ORDER BY rowid",
                           -1, &st, NULL) != SQLITE_OK)
        return 1;
    while (sqlite3_step(st) == SQLITE_ROW)
        printf("%s\t%s\t%s\n", sqlite3_column_text(st, 0), sqlite3_column_text(st, 1),
               sqlite3_column_text(st, 2));
    sqlite3_finalize(st);
    return 0;
}

enum { OPT_DB = 256, OPT_LISTEN, OPT_SYSTEM, OPT_KEY, OPT_REGISTRY, OPT_REQUIRE, OPT_STATE, OPT_LIST };

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, NULL, OPT_DB},
        {"listen", required_argument, NULL, OPT_LISTEN},
        {"system", required_argument, NULL, OPT_SYSTEM},
        {"key", required_argument, NULL, OPT_KEY},
        {"registry", required_argument, NULL, OPT_REGISTRY},
        {"require-grant", no_argument, NULL, OPT_REQUIRE},
        {"state-dir", required_argument, NULL, OPT_STATE},
        {"list", no_argument, NULL, OPT_LIST},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *db_path = NULL, *listen = "127.0.0.1:8081", *system = "S110000Y70P";
    const char *key_path = NULL, *registry = NULL, *state_dir = NULL;
    int require = 0, list = 0, c, rc = 1;
    sqlite3 *db = NULL;
    hrss_sm2_key *key = NULL;
    hrss_provider *p = NULL;
    hrss_provider_server *srv = NULL;
    hrss_error e;

    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case OPT_DB: db_path = optarg; break;
        case OPT_LISTEN: listen = optarg; break;
        case OPT_SYSTEM: system = optarg; break;
        case OPT_KEY: key_path = optarg; break;
        case OPT_REGISTRY: registry = optarg; break;
        case OPT_REQUIRE: require = 1; break;
        case OPT_STATE: state_dir = optarg; break;
        case OPT_LIST: list = 1; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (db_path == NULL || optind != argc) {
        usage(stderr);
        return 2;
    }
    if (fixture_open(db_path, &db) != 0)
        return 1;
    if (list) {
        rc = list_persons(db);
        sqlite3_close(db);
        return rc;
    }
    if (key_path != NULL) {
        char *pem = NULL;
        size_t len = 0;
        if (load_text(key_path, &pem, &len) != 0)
            goto done;
        int krc = hrss_sm2_key_from_pem(pem, len, &key, &e);
        explicit_bzero(pem, len);
        free(pem);
        if (krc != HRSS_OK || !hrss_sm2_key_has_private(key)) {
            fprintf(stderr, "hrss-demo-provider: %s: %s\n", key_path,
                    krc != HRSS_OK ? e.msg : "not a private key");
            goto done;
        }
    }
    hrss_provider_options o = {
        .system_code = system,
        .state_dir = state_dir,
        .sign = key != NULL ? (hrss_sig_key){HRSS_SIG_SM2, NULL, 0, key}
                            : (hrss_sig_key){HRSS_SIG_SM3, NULL, 0, NULL},
        .require_grant = require,
    };
    if (hrss_provider_new(&o, &p, &e) != HRSS_OK ||
        services_register(p, system, db, &e) != HRSS_OK) {
        fprintf(stderr, "hrss-demo-provider: %s\n", e.msg);
        goto done;
    }
    if (registry != NULL && load_registry(p, system, registry) != 0)
        goto done;
    if (hrss_provider_server_new(p, listen, &srv, &e) != HRSS_OK) {
        fprintf(stderr, "hrss-demo-provider: %s\n", e.msg);
        goto done;
    }
    fprintf(stderr, "event=listening port=%d system=%s services=%s{%s,%s,%s,%s}\n",
            hrss_provider_server_port(srv), system, system, DEMO_SVC_CARD, DEMO_SVC_JOBS,
            DEMO_SVC_PENSION, DEMO_SVC_LOSS);
    fflush(stderr);
    if (hrss_provider_server_run(srv, 1, &e) != HRSS_OK) {
        fprintf(stderr, "hrss-demo-provider: %s\n", e.msg);
        goto done;
    }
    fprintf(stderr, "event=stopped\n");
    rc = 0;
done:
    hrss_provider_server_free(srv);
    hrss_provider_free(p);
    hrss_sm2_key_free(key);
    sqlite3_close(db);
    return rc;
}
