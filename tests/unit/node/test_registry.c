/*
 * tests/unit/node/test_registry.c - the registry database: a valid
 * document imports and loads into a snapshot; export redacts secrets
 * unless asked and round-trips; every validation rule refuses with its
 * JSON path and leaves the stored registry unchanged; another connection's
 * commit changes data_version.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <netinet/in.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include "node/registry.h"

#define PUB_PEM                                                                                    \
    "-----BEGIN PUBLIC KEY-----\\n"                                                                \
    "MFkwEwYHKoZIzj0CAQYIKoEcz1UBgi0DQgAEXybyB3H1K9qFbEawwf1nhnTWN5Un\\n"                          \
    "daoeJTjA251nsrgf9n7h0QCyiEdPg6HtXHFRxJBNAl9G4dHCBDnM1wK0Vg==\\n"                              \
    "-----END PUBLIC KEY-----\\n"
#define PRIV_PEM                                                                                   \
    "-----BEGIN PRIVATE KEY-----\\n"                                                               \
    "MIGHAgEAMBMGByqGSM49AgEGCCqBHM9VAYItBG0wawIBAQQgoqGH5IvjCIFFP44P\\n"                          \
    "fD+VY+NjG94DOkaPVAGj4VZ0iFehRANCAARfJvIHcfUr2oVsRrDB/WeGdNY3lSd1\\n"                          \
    "qh4lOMDbnWeyuB/2fuHRALKIR0+Doe1ccVHEkE0CX0bh0cIEOczXArRW\\n"                                  \
    "-----END PRIVATE KEY-----\\n"

#define SYS_B                                                                                      \
    "{\"code\":\"B100000KJGK\",\"name\":\"ministry caller\",\"level\":\"B\",\"area\":\"100000\","  \
    "\"status\":\"active\",\"signature\":\"hmac-sm3\",\"secret\":\"0123456789abcdef0123\","       \
    "\"allowedIps\":[\"127.0.0.1\",\"10.0.0.0/8\",\"2001:db8::/32\"]}"
#define SYS_S                                                                                      \
    "{\"code\":\"S110000Y70P\",\"name\":\"Beijing provider\",\"level\":\"S\",\"area\":\"110000\"," \
    "\"status\":\"frozen\",\"signature\":\"sm2\",\"publicKey\":\"" PUB_PEM "\","                  \
    "\"allowedIps\":[\"0.0.0.0/0\"]}"
#define SVC                                                                                        \
    "{\"code\":\"S110000Y70PYTjb\",\"name\":\"card status\",\"provider\":\"S110000Y70P\","         \
    "\"upstreams\":[\"http://127.0.0.1:9000/card\",\"https://p.example:8443/x\"],"               \
    "\"timeoutMs\":2500,\"retries\":0,\"pipeline\":8}"
#define GRANT                                                                                      \
    "{\"caller\":\"B100000KJGK\",\"service\":\"S110000Y70PYTjb\",\"expires\":\"20991231235959\","  \
    "\"revoked\":false,\"encryption\":\"sm4-ecb\",\"encoding\":\"hex\",\"key\":\"1234567890123456\"}"
#define DOC(sys, svc, gr) "{\"systems\":[" sys "],\"services\":[" svc "],\"grants\":[" gr "]}"
#define GOOD DOC(SYS_B "," SYS_S, SVC, GRANT)

static char dir[] = "/tmp/hrss-test-registry-XXXXXX";

static int setup(void **state)
{
    (void)state;
    if (mkdtemp(dir) == NULL)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static registry *open_reg(void)
{
    registry *r = NULL;
    char err[REGISTRY_ERR_MAX];
    if (registry_open(dir, &r, err) != 0)
        fail_msg("%s", err);
    return r;
}

static void import_ok(registry *r, const char *doc)
{
    char err[REGISTRY_ERR_MAX];
    if (registry_import(r, doc, strlen(doc), err) != 0)
        fail_msg("import: %s", err);
}

static void import_load_lookup(void **state)
{
    (void)state;
    registry *r = open_reg();
    char err[REGISTRY_ERR_MAX];
    import_ok(r, GOOD);
    snapshot *s = NULL;
    if (registry_load(r, &s, err) != 0)
        fail_msg("load: %s", err);
    assert_int_equal(s->n_systems, 2);
    assert_int_equal(s->n_services, 1);
    assert_int_equal(s->n_grants, 1);
    assert_true(s->version >= 1);

    const snap_system *b = snapshot_system(s, "B100000KJGK", 11);
    assert_non_null(b);
    assert_true(b->active);
    assert_int_equal(b->sig, HRSS_SIG_HMAC_SM3);
    assert_int_equal(b->secret_len, 20);
    assert_memory_equal(b->secret, "0123456789abcdef0123", 20);
    assert_int_equal(b->n_nets, 3);
    const snap_system *p = snapshot_system(s, "S110000Y70PXX", 11); /* length bounds the key */
    assert_non_null(p);
    assert_false(p->active);
    assert_non_null(p->sm2);
    assert_null(snapshot_system(s, "S110000Y70Q", 11));

    const snap_service *v = snapshot_service(s, "S110000Y70PYTjb", 15);
    assert_non_null(v);
    assert_string_equal(v->provider, "S110000Y70P");
    assert_int_equal(v->n_upstreams, 2);
    assert_int_equal(v->timeout_ms, 2500);
    assert_int_equal(v->retries, 0);
    assert_int_equal(v->pipeline, 8);

    const snap_grant *g = snapshot_grant(s, "B100000KJGK", 11, "S110000Y70PYTjb", 15);
    assert_non_null(g);
    assert_int_equal(g->cipher, HRSS_BODY_SM4_ECB);
    assert_int_equal(g->encoding, HRSS_TEXT_HEX);
    assert_memory_equal(g->sm4, "1234567890123456", 16);
    assert_true(g->expires > 0);
    assert_null(snapshot_grant(s, "S110000Y70P", 11, "S110000Y70PYTjb", 15));

    /* allowed source addresses */
    struct sockaddr_in a4 = {.sin_family = AF_INET};
    inet_pton(AF_INET, "10.20.30.40", &a4.sin_addr);
    assert_true(snap_system_addr_allowed(b, (struct sockaddr *)&a4));
    inet_pton(AF_INET, "11.0.0.1", &a4.sin_addr);
    assert_false(snap_system_addr_allowed(b, (struct sockaddr *)&a4));
    struct sockaddr_in6 a6 = {.sin6_family = AF_INET6};
    inet_pton(AF_INET6, "::ffff:127.0.0.1", &a6.sin6_addr); /* v4-mapped counts as v4 */
    assert_true(snap_system_addr_allowed(b, (struct sockaddr *)&a6));
    inet_pton(AF_INET6, "2001:db8:1::5", &a6.sin6_addr);
    assert_true(snap_system_addr_allowed(b, (struct sockaddr *)&a6));
    inet_pton(AF_INET6, "2001:db9::5", &a6.sin6_addr);
    assert_false(snap_system_addr_allowed(b, (struct sockaddr *)&a6));
    inet_pton(AF_INET, "203.0.113.9", &a4.sin_addr);
    assert_true(snap_system_addr_allowed(p, (struct sockaddr *)&a4));

    snapshot_unref(s);
    registry_close(r);
}

static void export_redacts_and_round_trips(void **state)
{
    (void)state;
    registry *r = open_reg();
    char err[REGISTRY_ERR_MAX];
    import_ok(r, GOOD);
    char *red = NULL, *full = NULL, *again = NULL;
    assert_int_equal(registry_export(r, 0, &red, err), 0);
    assert_null(strstr(red, "0123456789abcdef0123"));
    assert_null(strstr(red, "1234567890123456"));
    assert_non_null(strstr(red, "\"secret\": \"" REGISTRY_REDACTED "\""));
    assert_non_null(strstr(red, "\"key\": \"" REGISTRY_REDACTED "\""));
    assert_non_null(strstr(red, "BEGIN PUBLIC KEY")); /* public keys are not secrets */

    /* a redacted export cannot be imported back by mistake */
    assert_int_equal(registry_import(r, red, strlen(red), err), -1);
    assert_non_null(strstr(err, "systems[0]: secret is redacted"));
    assert_non_null(strstr(err, "grants[0]: key is redacted"));

    assert_int_equal(registry_export(r, 1, &full, err), 0);
    assert_non_null(strstr(full, "0123456789abcdef0123"));
    import_ok(r, full);
    assert_int_equal(registry_export(r, 1, &again, err), 0);
    assert_string_equal(full, again);
    free(red);
    free(full);
    free(again);
    registry_close(r);
}

static const struct {
    const char *doc;
    const char *msg;
} bad[] = {
    {"{\"systems\":[}", "line 1, column 13"},
    {"{\"systems\":[],\"systems\":[]}", "duplicate object key"},
    {"[]", "must be a JSON object"},
    {"{\"system\":[]}", "(top level): unknown key 'system'"},
    {"{\"systems\":{}}", "systems: must be an array"},
    {DOC("3", "", ""), "systems[0]: must be an object"},
    {DOC("{\"code\":\"B100000KJGK\"}", "", ""), "systems[0]: missing 'name'"},
    {DOC("{\"code\":\"B100000KJGK\"}", "", ""), "systems[0]: missing 'allowedIps'"},
    {DOC(SYS_B "," SYS_B, "", ""), "systems[1]: code B100000KJGK already defined in systems[0]"},
    {DOC("{\"code\":\"B110000KJGK\",\"name\":\"x\",\"level\":\"B\",\"area\":\"110000\","
         "\"status\":\"active\",\"signature\":\"none\",\"allowedIps\":[\"::/0\"]}",
         "", ""),
     "systems[0]: code 'B110000KJGK': "},
    {DOC("{\"code\":\"S110000Y70P\",\"name\":\"x\",\"level\":\"B\",\"area\":\"120000\","
         "\"status\":\"active\",\"signature\":\"none\",\"allowedIps\":[\"::/0\"],\"x\":1}",
         "", ""),
     "systems[0]: unknown key 'x'"},
    {DOC("{\"code\":\"S110000Y70P\",\"name\":\"x\",\"level\":\"B\",\"area\":\"120000\","
         "\"status\":\"active\",\"signature\":\"none\",\"allowedIps\":[\"::/0\"]}",
         "", ""),
     "systems[0]: level B does not match code S110000Y70P"},
    {DOC("{\"code\":\"S110000Y70P\",\"name\":\"x\",\"level\":\"S\",\"area\":\"120000\","
         "\"status\":\"active\",\"signature\":\"none\",\"allowedIps\":[\"::/0\"]}",
         "", ""),
     "systems[0]: area 120000 does not match code S110000Y70P"},
    {DOC("{\"code\":\"S110000Y70P\",\"name\":\"\",\"level\":\"X\",\"area\":\"999999\","
         "\"status\":\"paused\",\"signature\":\"rsa\",\"allowedIps\":[]}",
         "", ""),
     "systems[0]: status 'paused': must be active or frozen"},
    {DOC("{\"code\":\"S110000Y70P\",\"name\":\"\",\"level\":\"X\",\"area\":\"999999\","
         "\"status\":\"paused\",\"signature\":\"rsa\",\"allowedIps\":[]}",
         "", ""),
     "systems[0]: signature 'rsa': must be none, sm3, hmac-sm3 or sm2"},
    {DOC("{\"code\":\"S110000Y70P\",\"name\":\"\",\"level\":\"X\",\"area\":\"999999\","
         "\"status\":\"paused\",\"signature\":\"rsa\",\"allowedIps\":[]}",
         "", ""),
     "systems[0]: 'allowedIps' must be an array of 1 to 64"},
    {DOC("{\"code\":\"S110000Y70P\",\"name\":\"\",\"level\":\"X\",\"area\":\"999999\","
         "\"status\":\"paused\",\"signature\":\"rsa\",\"allowedIps\":[]}",
         "", ""),
     "systems[0]: 'name' must have 1 to 200 characters"},
    {DOC("{\"code\":\"S110000Y70P\",\"name\":\"x\",\"level\":\"S\",\"area\":\"110000\","
         "\"status\":\"active\",\"signature\":\"hmac-sm3\",\"allowedIps\":[\"1.2.3.4/33\"]}",
         "", ""),
     "systems[0].allowedIps[0]: not an IPv4/IPv6 address"},
    {DOC("{\"code\":\"S110000Y70P\",\"name\":\"x\",\"level\":\"S\",\"area\":\"110000\","
         "\"status\":\"active\",\"signature\":\"hmac-sm3\",\"allowedIps\":[\"::/0\"]}",
         "", ""),
     "systems[0]: signature hmac-sm3 needs 'secret'"},
    {DOC("{\"code\":\"S110000Y70P\",\"name\":\"x\",\"level\":\"S\",\"area\":\"110000\","
         "\"status\":\"active\",\"signature\":\"hmac-sm3\",\"secret\":\"short\","
         "\"allowedIps\":[\"::/0\"]}",
         "", ""),
     "systems[0]: secret must have 16 to 256 bytes, has 5"},
    {DOC("{\"code\":\"S110000Y70P\",\"name\":\"x\",\"level\":\"S\",\"area\":\"110000\","
         "\"status\":\"active\",\"signature\":\"sm3\",\"secret\":\"0123456789abcdef\","
         "\"allowedIps\":[\"::/0\"]}",
         "", ""),
     "systems[0]: 'secret' is only for signature hmac-sm3"},
    {DOC("{\"code\":\"S110000Y70P\",\"name\":\"x\",\"level\":\"S\",\"area\":\"110000\","
         "\"status\":\"active\",\"signature\":\"sm2\",\"allowedIps\":[\"::/0\"]}",
         "", ""),
     "systems[0]: signature sm2 needs 'publicKey'"},
    {DOC("{\"code\":\"S110000Y70P\",\"name\":\"x\",\"level\":\"S\",\"area\":\"110000\","
         "\"status\":\"active\",\"signature\":\"sm2\",\"publicKey\":\"not a pem\","
         "\"allowedIps\":[\"::/0\"]}",
         "", ""),
     "systems[0]: publicKey: "},
    {DOC("{\"code\":\"S110000Y70P\",\"name\":\"x\",\"level\":\"S\",\"area\":\"110000\","
         "\"status\":\"active\",\"signature\":\"sm2\",\"publicKey\":\"" PRIV_PEM "\","
         "\"allowedIps\":[\"::/0\"]}",
         "", ""),
     "systems[0]: publicKey holds a private key"},
    {DOC(SYS_B "," SYS_S, SVC "," SVC, ""), "services[1]: code S110000Y70PYTjb already defined"},
    {DOC(SYS_B "," SYS_S, "{\"code\":\"S110000Y70PYT\",\"provider\":\"S110000Y70P\","
                          "\"upstreams\":[\"http://a\"]}", ""),
     "services[0]: code 'S110000Y70PYT': "},
    {DOC(SYS_B, "{\"code\":\"S110000Y70PYTjb\",\"provider\":\"S110000Y70P\","
                "\"upstreams\":[\"http://a\"]}", ""),
     "services[0]: provider S110000Y70P is not in systems"},
    {DOC(SYS_B "," SYS_S, "{\"code\":\"B100000KJGKYTjb\",\"provider\":\"S110000Y70P\","
                          "\"upstreams\":[\"http://a\"]}", ""),
     "services[0]: interface code B100000KJGKYTjb belongs to system B100000KJGK, not provider"},
    {DOC(SYS_B "," SYS_S, "{\"code\":\"S110000Y70PYTjb\",\"provider\":\"S110000Y70P\","
                          "\"upstreams\":[]}", ""),
     "services[0]: 'upstreams' must be an array of 1 to 8 URLs"},
    {DOC(SYS_B "," SYS_S, "{\"code\":\"S110000Y70PYTjb\",\"provider\":\"S110000Y70P\","
                          "\"upstreams\":[\"ftp://a/\"]}", ""),
     "services[0].upstreams[0]: not an http:// or https:// URL"},
    {DOC(SYS_B "," SYS_S, "{\"code\":\"S110000Y70PYTjb\",\"provider\":\"S110000Y70P\","
                          "\"upstreams\":[\"http://a\"],\"timeoutMs\":0}", ""),
     "services[0]: 'timeoutMs' must be an integer from 1 to 600000"},
    {DOC(SYS_B "," SYS_S, "{\"code\":\"S110000Y70PYTjb\",\"provider\":\"S110000Y70P\","
                          "\"upstreams\":[\"http://a\"],\"retries\":\"1\"}", ""),
     "services[0]: 'retries' must be an integer from 0 to 3"},
    {DOC(SYS_B "," SYS_S, "{\"code\":\"S110000Y70PYTjb\",\"provider\":\"S110000Y70P\","
                          "\"upstreams\":[\"http://a\"],\"pipeline\":0}", ""),
     "services[0]: 'pipeline' must be an integer from 1 to 32"},
    {DOC(SYS_B "," SYS_S, "{\"code\":\"S110000Y70PYTjb\",\"provider\":\"S110000Y70P\","
                          "\"upstreams\":[\"http://a\"],\"pipeline\":33}", ""),
     "services[0]: 'pipeline' must be an integer from 1 to 32"},
    {DOC(SYS_B "," SYS_S, SVC, GRANT "," GRANT),
     "grants[1]: grant of S110000Y70PYTjb to B100000KJGK already defined in grants[0]"},
    {DOC(SYS_B "," SYS_S, SVC, "{\"caller\":\"B100000KJGX\",\"service\":\"S110000Y70PYTjx\"}"),
     "grants[0]: caller B100000KJGX is not in systems"},
    {DOC(SYS_B "," SYS_S, SVC, "{\"caller\":\"B100000KJGX\",\"service\":\"S110000Y70PYTjx\"}"),
     "grants[0]: service S110000Y70PYTjx is not in services"},
    {DOC(SYS_B "," SYS_S, SVC,
         "{\"caller\":\"B100000KJGK\",\"service\":\"S110000Y70PYTjb\",\"expires\":\"20250230000000\"}"),
     "grants[0]: expires '20250230000000': "},
    {DOC(SYS_B "," SYS_S, SVC,
         "{\"caller\":\"B100000KJGK\",\"service\":\"S110000Y70PYTjb\",\"revoked\":1}"),
     "grants[0]: 'revoked' must be true or false"},
    {DOC(SYS_B "," SYS_S, SVC,
         "{\"caller\":\"B100000KJGK\",\"service\":\"S110000Y70PYTjb\",\"encryption\":\"aes\"}"),
     "grants[0]: encryption 'aes': must be none, sm4-ecb, sm4-gcm or sm2"},
    {DOC(SYS_B "," SYS_S, SVC,
         "{\"caller\":\"B100000KJGK\",\"service\":\"S110000Y70PYTjb\",\"encoding\":\"b32\"}"),
     "grants[0]: encoding 'b32': must be base64 or hex"},
    {DOC(SYS_B "," SYS_S, SVC,
         "{\"caller\":\"B100000KJGK\",\"service\":\"S110000Y70PYTjb\",\"encryption\":\"sm4-gcm\"}"),
     "grants[0]: encryption sm4-gcm needs 'key' (16 digits)"},
    {DOC(SYS_B "," SYS_S, SVC,
         "{\"caller\":\"B100000KJGK\",\"service\":\"S110000Y70PYTjb\",\"encryption\":\"sm4-ecb\","
         "\"key\":\"12345678901234ab\"}"),
     "grants[0]: key: "},
    {DOC(SYS_B "," SYS_S, SVC,
         "{\"caller\":\"B100000KJGK\",\"service\":\"S110000Y70PYTjb\",\"key\":\"1234567890123456\"}"),
     "grants[0]: 'key' is only for encryption sm4-ecb or sm4-gcm"},
    {DOC(SYS_B "," SYS_S, SVC,
         "{\"caller\":\"B100000KJGK\",\"service\":\"S110000Y70PYTjb\",\"encryption\":\"sm2\"}"),
     "grants[0]: encryption sm2 needs a publicKey on caller B100000KJGK"},
};

static void invalid_documents_refused_with_path(void **state)
{
    (void)state;
    registry *r = open_reg();
    char err[REGISTRY_ERR_MAX];
    import_ok(r, GOOD);
    snapshot *before = NULL;
    assert_int_equal(registry_load(r, &before, err), 0);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int rc = registry_import(r, bad[i].doc, strlen(bad[i].doc), err);
        if (rc == 0 || strstr(err, bad[i].msg) == NULL)
            fail_msg("case %zu: rc %d, got '%s', want '%s'", i, rc, err, bad[i].msg);
    }
    /* nothing changed: same version, same content */
    snapshot *after = NULL;
    assert_int_equal(registry_load(r, &after, err), 0);
    assert_int_equal(after->version, before->version);
    assert_int_equal(after->n_systems, 2);
    snapshot_unref(before);
    snapshot_unref(after);
    registry_close(r);
}

static void many_errors_listed_and_capped(void **state)
{
    (void)state;
    registry *r = open_reg();
    char err[REGISTRY_ERR_MAX];
    char doc[8192] = "{\"systems\":[";
    for (int i = 0; i < 40; i++)
        strncat(doc, i ? ",{}" : "{}", sizeof(doc) - strlen(doc) - 1);
    strncat(doc, "]}", sizeof(doc) - strlen(doc) - 1);
    assert_int_equal(registry_import(r, doc, strlen(doc), err), -1);
    assert_non_null(strstr(err, "systems[0]: missing 'code'\nsystems[0]: missing 'name'"));
    assert_non_null(strstr(err, "... more problems not shown"));
    registry_close(r);
}

static void data_version_moves_on_foreign_commit(void **state)
{
    (void)state;
    registry *a = open_reg(), *b = open_reg();
    char err[REGISTRY_ERR_MAX];
    int64_t v1, v2, v3;
    assert_int_equal(registry_data_version(a, &v1, err), 0);
    assert_int_equal(registry_data_version(a, &v2, err), 0);
    assert_true(v1 == v2);
    import_ok(b, GOOD);
    assert_int_equal(registry_data_version(a, &v3, err), 0);
    assert_true(v3 != v2);
    registry_close(a);
    registry_close(b);
}

static void empty_registry_loads(void **state)
{
    (void)state;
    registry *r = open_reg();
    char err[REGISTRY_ERR_MAX];
    import_ok(r, "{}");
    snapshot *s = NULL;
    assert_int_equal(registry_load(r, &s, err), 0);
    assert_int_equal(s->n_systems + s->n_services + s->n_grants, 0);
    assert_null(snapshot_system(s, "B100000KJGK", 11));
    snapshot_unref(s);
    registry_close(r);
}

/* A registry written before services.pipeline existed (schema 1) is
 * upgraded in place when opened: its services keep their settings and get
 * pipeline 1 (no pipelining); a schema newer than this build is refused. */
static void schema_1_upgraded_newer_refused(void **state)
{
    (void)state;
    char sub[512], path[600], err[REGISTRY_ERR_MAX];
    snprintf(sub, sizeof(sub), "%s/old", dir);
    assert_int_equal(mkdir(sub, 0750), 0);
    snprintf(path, sizeof(path), "%s/%s", sub, REGISTRY_FILE);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    const char *v1 =
        "CREATE TABLE meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL);"
        "INSERT INTO meta VALUES('schema', 1), ('version', 3);"
        "CREATE TABLE systems(code TEXT PRIMARY KEY, name TEXT NOT NULL, level TEXT NOT NULL,"
        " area TEXT NOT NULL, status TEXT NOT NULL, signature TEXT NOT NULL, secret TEXT,"
        " public_key TEXT, allowed_ips TEXT NOT NULL);"
        "CREATE TABLE services(code TEXT PRIMARY KEY, name TEXT, provider TEXT NOT NULL"
        " REFERENCES systems(code), upstreams TEXT NOT NULL, timeout_ms INTEGER NOT NULL,"
        " retries INTEGER NOT NULL);"
        "CREATE TABLE grants(caller TEXT NOT NULL REFERENCES systems(code), service TEXT NOT"
        " NULL REFERENCES services(code), expires TEXT, revoked INTEGER NOT NULL, cipher TEXT"
        " NOT NULL, encoding TEXT NOT NULL, sm4_key TEXT, PRIMARY KEY(caller, service));"
        "INSERT INTO systems VALUES('S110000Y70P', 'p', 'S', '110000', 'active', 'sm3', NULL,"
        " NULL, '[\"0.0.0.0/0\"]');"
        "INSERT INTO services VALUES('S110000Y70PYTjb', NULL, 'S110000Y70P',"
        " '[\"http://127.0.0.1:9/x\"]', 1500, 2);";
    assert_int_equal(sqlite3_exec(db, v1, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);

    registry *r = NULL;
    if (registry_open(sub, &r, err) != 0)
        fail_msg("%s", err);
    snapshot *s = NULL;
    if (registry_load(r, &s, err) != 0)
        fail_msg("load: %s", err);
    const snap_service *v = snapshot_service(s, "S110000Y70PYTjb", 15);
    assert_non_null(v);
    assert_int_equal(v->timeout_ms, 1500);
    assert_int_equal(v->retries, 2);
    assert_int_equal(v->pipeline, 1);
    snapshot_unref(s);
    registry_close(r);

    r = NULL; /* opening again leaves it as it is */
    if (registry_open(sub, &r, err) != 0)
        fail_msg("%s", err);
    registry_close(r);

    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = 'schema'", -1,
                                        &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 2);
    sqlite3_finalize(st);
    assert_int_equal(
        sqlite3_exec(db, "UPDATE meta SET value = 3 WHERE key = 'schema'", NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);
    r = NULL;
    assert_int_equal(registry_open(sub, &r, err), -1);
    assert_non_null(strstr(err, "schema 3 is newer than this hrss-node knows (2)"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(import_load_lookup),
        cmocka_unit_test(export_redacts_and_round_trips),
        cmocka_unit_test(invalid_documents_refused_with_path),
        cmocka_unit_test(many_errors_listed_and_capped),
        cmocka_unit_test(data_version_moves_on_foreign_commit),
        cmocka_unit_test(empty_registry_loads),
        cmocka_unit_test(schema_1_upgraded_newer_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
