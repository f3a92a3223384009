/*
 * node/registry.c - the registry database of registry.h. The schema keeps
 * one row per system, service and grant; lists (allowed networks, upstream
 * URLs) are JSON arrays in a column because they are only ever read whole.
 *
 * Import validates the whole document first, collecting every problem with
 * its JSON path, and writes nothing unless all of it is valid; then it
 * replaces the three tables and bumps meta.version in one IMMEDIATE
 * transaction, so a reader (the daemon's snapshot loader) sees either the
 * old registry or the new one. Codes are checked with the SDK's
 * validators, keys with the SDK's parsers, so the node accepts exactly
 * what the SDK can use on the transaction path.
 */
#include "registry.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <event2/http.h>
#include <jansson.h>
#include <sqlite3.h>

#include "common/util.h"
#include "common/xalloc.h"
#include "common/str.h"
#include "net/upstream.h"

#define MAX_ERRORS 20
#define MAX_ALLOWED_NETS 64
#define NAME_MAX_CHARS 200
#define SECRET_MIN 16
#define SECRET_MAX 256
#define URL_MAX 1024

struct registry {
    sqlite3 *db;
};

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL);"
    "INSERT OR IGNORE INTO meta VALUES('schema', 2), ('version', 0);"
    "CREATE TABLE IF NOT EXISTS systems("
    " code TEXT PRIMARY KEY, name TEXT NOT NULL, level TEXT NOT NULL, area TEXT NOT NULL,"
    " status TEXT NOT NULL, signature TEXT NOT NULL, secret TEXT, public_key TEXT,"
    " allowed_ips TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS services("
    " code TEXT PRIMARY KEY, name TEXT, provider TEXT NOT NULL REFERENCES systems(code),"
    " upstreams TEXT NOT NULL, timeout_ms INTEGER NOT NULL, retries INTEGER NOT NULL,"
    " pipeline INTEGER NOT NULL DEFAULT 1);"
    "CREATE TABLE IF NOT EXISTS grants("
    " caller TEXT NOT NULL REFERENCES systems(code),"
    " service TEXT NOT NULL REFERENCES services(code),"
    " expires TEXT, revoked INTEGER NOT NULL, cipher TEXT NOT NULL, encoding TEXT NOT NULL,"
    " sm4_key TEXT, PRIMARY KEY(caller, service));";

/* Schema 1 (before services.pipeline) to 2, in one transaction; a
 * database already at 2 is left alone. */
static const char upgrade_1_2[] =
    "BEGIN IMMEDIATE;"
    "ALTER TABLE services ADD COLUMN pipeline INTEGER NOT NULL DEFAULT 1;"
    "UPDATE meta SET value = 2 WHERE key = 'schema';"
    "COMMIT;";

/* The schema's number in the database (1 when it predates meta's row). */
static int schema_version(sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    int v = 1;
    if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = 'schema'", -1, &st, NULL) ==
            SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* ---- error collection ---- */

typedef struct verr {
    char *buf;
    size_t len;
    int count;
} verr;

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static void add_err(verr *v, const char *path, const char *fmt, ...)
{
    v->count++;
    if (v->count > MAX_ERRORS)
        return;
    if (v->count == MAX_ERRORS) {
        fmt = "... more problems not shown";
        path = "";
    }
    size_t room = REGISTRY_ERR_MAX - v->len;
    if (room < 2)
        return;
    int n = snprintf(v->buf + v->len, room, "%s%s%s", v->len ? "\n" : "", path,
                     path[0] ? ": " : "");
    if (n < 0 || (size_t)n >= room) {
        v->buf[v->len] = '\0';
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(v->buf + v->len + n, room - (size_t)n, fmt, ap);
    va_end(ap);
    if (m < 0)
        m = 0;
    v->len += (size_t)n + (size_t)m;
    if (v->len >= REGISTRY_ERR_MAX)
        v->len = REGISTRY_ERR_MAX - 1;
}

static int db_fail(registry *r, char *err, const char *what)
{
    snprintf(err, REGISTRY_ERR_MAX, "registry database: %s: %s", what, sqlite3_errmsg(r->db));
    return -1;
}

/* ---- open ---- */

static int mkdir_p(const char *dir, char *err)
{
    char path[4096];
    if (snprintf(path, sizeof(path), "%s", dir) >= (int)sizeof(path)) {
        snprintf(err, REGISTRY_ERR_MAX, "data directory path too long");
        return -1;
    }
    for (char *p = path + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char saved = *p;
        *p = '\0';
        if (mkdir(path, 0750) != 0 && errno != EEXIST) {
            snprintf(err, REGISTRY_ERR_MAX, "data directory %.3000s: %s", path, strerror(errno));
            return -1;
        }
        *p = saved;
        if (saved == '\0')
            break;
    }
    return 0;
}

int registry_open(const char *data_dir, registry **out, char err[REGISTRY_ERR_MAX])
{
    int rc = -1;
    char path[4096];
    registry *r = xcalloc(1, sizeof(*r));
    if (mkdir_p(data_dir, err) != 0)
        goto done;
    snprintf(path, sizeof(path), "%s/%s", data_dir, REGISTRY_FILE);
    if (sqlite3_open_v2(path, &r->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                                          SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        snprintf(err, REGISTRY_ERR_MAX, "%.3000s: %s", path,
                 r->db ? sqlite3_errmsg(r->db) : "cannot open");
        goto done;
    }
    sqlite3_busy_timeout(r->db, 5000);
    char *msg = NULL;
    if (sqlite3_exec(r->db,
                     "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                     "PRAGMA foreign_keys=ON;",
                     NULL, NULL, &msg) != SQLITE_OK ||
        sqlite3_exec(r->db, schema, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, REGISTRY_ERR_MAX, "%.3000s: %s", path, msg ? msg : "cannot set up");
        sqlite3_free(msg);
        goto done;
    }
    int version = schema_version(r->db);
    if (version == 1 && sqlite3_exec(r->db, upgrade_1_2, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, REGISTRY_ERR_MAX, "%.3000s: upgrading the schema: %s", path,
                 msg ? msg : "failed");
        sqlite3_free(msg);
        sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
        goto done;
    }
    if (version > 2) {
        snprintf(err, REGISTRY_ERR_MAX,
                 "%.3000s: schema %d is newer than this hrss-node knows (2): downgrade refused",
                 path, version);
        goto done;
    }
    rc = 0;
done:
    if (rc == 0) {
        *out = r;
    } else {
        registry_close(r);
    }
    return rc;
}

void registry_close(registry *r)
{
    if (r == NULL)
        return;
    sqlite3_close(r->db);
    free(r);
}

int registry_data_version(registry *r, int64_t *out, char err[REGISTRY_ERR_MAX])
{
    sqlite3_stmt *st = NULL;
    int rc = -1;
    if (sqlite3_prepare_v2(r->db, "PRAGMA data_version", -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW) {
        db_fail(r, err, "data_version");
        goto done;
    }
    *out = sqlite3_column_int64(st, 0);
    rc = 0;
done:
    sqlite3_finalize(st);
    return rc;
}

/* ---- validation of an import document ---- */

typedef struct vctx {
    verr *v;
    json_t *systems, *services; /* the document's arrays, for references */
} vctx;

/* Refuses keys of obj not in allowed (NULL-terminated). */
static void check_keys(verr *v, const char *path, json_t *obj, const char *const *allowed)
{
    const char *k;
    json_t *val;
    json_object_foreach(obj, k, val) {
        int ok = 0;
        for (const char *const *a = allowed; *a != NULL && !ok; a++)
            ok = strcmp(*a, k) == 0;
        if (!ok)
            add_err(v, path, "unknown key '%s'", k);
    }
}

/* The string at obj.key, or NULL (with an error when required). */
static const char *get_str(verr *v, const char *path, json_t *obj, const char *key,
                           int required)
{
    json_t *j = json_object_get(obj, key);
    if (j == NULL || (json_is_null(j) && !required)) {
        if (required)
            add_err(v, path, "missing '%s'", key);
        return NULL;
    }
    if (!json_is_string(j)) {
        add_err(v, path, "'%s' must be a string", key);
        return NULL;
    }
    return json_string_value(j);
}

static int get_int(verr *v, const char *path, json_t *obj, const char *key, long long def,
                   long long min, long long max, long long *out)
{
    json_t *j = json_object_get(obj, key);
    *out = def;
    if (j == NULL)
        return 0;
    if (!json_is_integer(j) || json_integer_value(j) < min || json_integer_value(j) > max) {
        add_err(v, path, "'%s' must be an integer from %lld to %lld", key, min, max);
        return -1;
    }
    *out = json_integer_value(j);
    return 0;
}

static int one_of(const char *s, const char *const *names)
{
    for (int i = 0; names[i] != NULL; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return -1;
}

static const char *const statuses[] = {"active", "frozen", NULL};
static const char *const cipher_names[] = {"none", "sm4-ecb", "sm4-gcm", "sm2", NULL};
static const hrss_body_cipher cipher_values[] = {HRSS_BODY_PLAIN, HRSS_BODY_SM4_ECB,
                                                 HRSS_BODY_SM4_GCM, HRSS_BODY_SM2};
static const char *const encoding_names[] = {"base64", "hex", NULL};

/* Finds the element of arr whose "code" is code, before index `before`. */
static int find_code(json_t *arr, const char *code, size_t before)
{
    size_t i;
    json_t *e;
    json_array_foreach(arr, i, e) {
        if (i >= before)
            break;
        json_t *c = json_object_get(e, "code");
        if (json_is_string(c) && strcmp(json_string_value(c), code) == 0)
            return (int)i;
    }
    return -1;
}

static void check_system(vctx *c, size_t idx, json_t *s)
{
    static const char *const keys[] = {"code",      "name",       "level", "area", "status",
                                       "signature", "secret", "publicKey", "allowedIps", NULL};
    char path[64];
    hrss_error e;
    snprintf(path, sizeof(path), "systems[%zu]", idx);
    if (!json_is_object(s)) {
        add_err(c->v, path, "must be an object");
        return;
    }
    check_keys(c->v, path, s, keys);
    const char *code = get_str(c->v, path, s, "code", 1);
    const char *name = get_str(c->v, path, s, "name", 1);
    const char *level = get_str(c->v, path, s, "level", 1);
    const char *area = get_str(c->v, path, s, "area", 1);
    const char *status = get_str(c->v, path, s, "status", 1);
    const char *sig = get_str(c->v, path, s, "signature", 1);
    const char *secret = get_str(c->v, path, s, "secret", 0);
    const char *pub = get_str(c->v, path, s, "publicKey", 0);
    int code_ok = 0;

    if (code != NULL) {
        if (hrss_system_code_check(code, strlen(code), &e) != HRSS_OK) {
            add_err(c->v, path, "code '%s': %s", code, e.msg);
        } else {
            code_ok = 1;
            int prev = find_code(c->systems, code, idx);
            if (prev >= 0)
                add_err(c->v, path, "code %s already defined in systems[%d]", code, prev);
        }
    }
    if (name != NULL && (name[0] == '\0' || utf8_count(name, strlen(name)) > NAME_MAX_CHARS))
        add_err(c->v, path, "'name' must have 1 to %d characters", NAME_MAX_CHARS);
    if (level != NULL) {
        if (strcmp(level, "B") != 0 && strcmp(level, "S") != 0)
            add_err(c->v, path, "level '%s': must be B (ministry) or S (province)", level);
        else if (code_ok && level[0] != code[0])
            add_err(c->v, path, "level %s does not match code %s", level, code);
    }
    if (area != NULL) {
        if (hrss_area_code_check(area, strlen(area), &e) != HRSS_OK)
            add_err(c->v, path, "area '%s': %s", area, e.msg);
        else if (code_ok && memcmp(code + 1, area, HRSS_AREA_CODE_LEN) != 0)
            add_err(c->v, path, "area %s does not match code %s", area, code);
    }
    if (status != NULL && one_of(status, statuses) < 0)
        add_err(c->v, path, "status '%s': must be active or frozen", status);

    hrss_sig_profile prof = HRSS_SIG_NONE;
    int alg = sig != NULL && hrss_sig_profile_parse(sig, &prof) == HRSS_OK;
    if (sig != NULL && !alg)
        add_err(c->v, path, "signature '%s': must be none, sm3, hmac-sm3 or sm2", sig);
    if (secret != NULL) {
        size_t n = strlen(secret);
        if (alg && prof != HRSS_SIG_HMAC_SM3)
            add_err(c->v, path, "'secret' is only for signature hmac-sm3");
        else if (strcmp(secret, REGISTRY_REDACTED) == 0)
            add_err(c->v, path,
                    "secret is redacted (an export without --with-secrets): give the secret");
        else if (n < SECRET_MIN || n > SECRET_MAX)
            add_err(c->v, path, "secret must have %d to %d bytes, has %zu", SECRET_MIN,
                    SECRET_MAX, n);
    } else if (alg && prof == HRSS_SIG_HMAC_SM3) {
        add_err(c->v, path, "signature hmac-sm3 needs 'secret'");
    }
    if (pub != NULL) {
        hrss_sm2_key *k = NULL;
        if (hrss_sm2_key_from_pem(pub, strlen(pub), &k, &e) != HRSS_OK)
            add_err(c->v, path, "publicKey: %s", e.msg);
        else if (hrss_sm2_key_has_private(k))
            add_err(c->v, path, "publicKey holds a private key: register the public key only");
        hrss_sm2_key_free(k);
    } else if (alg && prof == HRSS_SIG_SM2) {
        add_err(c->v, path, "signature sm2 needs 'publicKey' (SM2 public key, PEM)");
    }

    json_t *ips = json_object_get(s, "allowedIps");
    if (ips == NULL) {
        add_err(c->v, path, "missing 'allowedIps' (use [\"0.0.0.0/0\", \"::/0\"] for any)");
    } else if (!json_is_array(ips) || json_array_size(ips) == 0 ||
               json_array_size(ips) > MAX_ALLOWED_NETS) {
        add_err(c->v, path, "'allowedIps' must be an array of 1 to %d addresses or networks",
                MAX_ALLOWED_NETS);
    } else {
        size_t i;
        json_t *ip;
        json_array_foreach(ips, i, ip) {
            cidr n;
            char p2[128];
            snprintf(p2, sizeof(p2), "%s.allowedIps[%zu]", path, i);
            if (!json_is_string(ip) || cidr_parse(json_string_value(ip), &n) != 0)
                add_err(c->v, p2, "not an IPv4/IPv6 address or ADDRESS/PREFIX network");
        }
    }
}

static int url_is_valid(const char *u)
{
    if (strlen(u) > URL_MAX)
        return 0;
    struct evhttp_uri *uri = evhttp_uri_parse_with_flags(u, 0);
    if (uri == NULL)
        return 0;
    const char *scheme = evhttp_uri_get_scheme(uri);
    const char *host = evhttp_uri_get_host(uri);
    int ok = scheme != NULL && (strcmp(scheme, "http") == 0 || strcmp(scheme, "https") == 0) &&
             host != NULL && host[0] != '\0' && evhttp_uri_get_fragment(uri) == NULL &&
             evhttp_uri_get_userinfo(uri) == NULL;
    evhttp_uri_free(uri);
    return ok;
}

static void check_service(vctx *c, size_t idx, json_t *s)
{
    static const char *const keys[] = {"code",      "name",    "provider", "upstreams",
                                       "timeoutMs", "retries", "pipeline", NULL};
    char path[64];
    hrss_error e;
    long long n;
    snprintf(path, sizeof(path), "services[%zu]", idx);
    if (!json_is_object(s)) {
        add_err(c->v, path, "must be an object");
        return;
    }
    check_keys(c->v, path, s, keys);
    const char *code = get_str(c->v, path, s, "code", 1);
    const char *name = get_str(c->v, path, s, "name", 0);
    const char *provider = get_str(c->v, path, s, "provider", 1);
    int code_ok = 0;
    if (code != NULL) {
        if (hrss_interface_code_check(code, strlen(code), &e) != HRSS_OK) {
            add_err(c->v, path, "code '%s': %s", code, e.msg);
        } else {
            code_ok = 1;
            int prev = find_code(c->services, code, idx);
            if (prev >= 0)
                add_err(c->v, path, "code %s already defined in services[%d]", code, prev);
        }
    }
    if (name != NULL && utf8_count(name, strlen(name)) > NAME_MAX_CHARS)
        add_err(c->v, path, "'name' must have at most %d characters", NAME_MAX_CHARS);
    if (provider != NULL) {
        if (find_code(c->systems, provider, SIZE_MAX) < 0)
            add_err(c->v, path, "provider %s is not in systems", provider);
        else if (code_ok && strncmp(code, provider, HRSS_SYSTEM_CODE_LEN) != 0)
            add_err(c->v, path, "interface code %s belongs to system %.11s, not provider %s",
                    code, code, provider);
    }
    json_t *ups = json_object_get(s, "upstreams");
    if (!json_is_array(ups) || json_array_size(ups) == 0 ||
        json_array_size(ups) > SNAP_MAX_UPSTREAMS) {
        add_err(c->v, path, "'upstreams' must be an array of 1 to %d URLs", SNAP_MAX_UPSTREAMS);
    } else {
        size_t i;
        json_t *u;
        json_array_foreach(ups, i, u) {
            char p2[128];
            snprintf(p2, sizeof(p2), "%s.upstreams[%zu]", path, i);
            if (!json_is_string(u) || !url_is_valid(json_string_value(u)))
                add_err(c->v, p2, "not an http:// or https:// URL with a host");
        }
    }
    get_int(c->v, path, s, "timeoutMs", 3000, 1, 600000, &n);
    get_int(c->v, path, s, "retries", 1, 0, 3, &n);
    get_int(c->v, path, s, "pipeline", 1, 1, UPSTREAM_BATCH_MAX, &n);
}

static void check_grant(vctx *c, size_t idx, json_t *g, json_t *grants)
{
    static const char *const keys[] = {"caller",     "service",  "expires", "revoked",
                                       "encryption", "encoding", "key",     NULL};
    char path[64];
    hrss_error e;
    snprintf(path, sizeof(path), "grants[%zu]", idx);
    if (!json_is_object(g)) {
        add_err(c->v, path, "must be an object");
        return;
    }
    check_keys(c->v, path, g, keys);
    const char *caller = get_str(c->v, path, g, "caller", 1);
    const char *service = get_str(c->v, path, g, "service", 1);
    const char *expires = get_str(c->v, path, g, "expires", 0);
    const char *cipher = get_str(c->v, path, g, "encryption", 0);
    const char *encoding = get_str(c->v, path, g, "encoding", 0);
    const char *key = get_str(c->v, path, g, "key", 0);
    json_t *revoked = json_object_get(g, "revoked");
    int caller_idx = -1;

    if (caller != NULL && (caller_idx = find_code(c->systems, caller, SIZE_MAX)) < 0)
        add_err(c->v, path, "caller %s is not in systems", caller);
    if (service != NULL && find_code(c->services, service, SIZE_MAX) < 0)
        add_err(c->v, path, "service %s is not in services", service);
    if (caller != NULL && service != NULL) {
        size_t i;
        json_t *o;
        json_array_foreach(grants, i, o) {
            if (i >= idx)
                break;
            json_t *oc = json_object_get(o, "caller"), *os = json_object_get(o, "service");
            if (json_is_string(oc) && json_is_string(os) &&
                strcmp(json_string_value(oc), caller) == 0 &&
                strcmp(json_string_value(os), service) == 0) {
                add_err(c->v, path, "grant of %s to %s already defined in grants[%zu]", service,
                        caller, i);
                break;
            }
        }
    }
    if (expires != NULL && hrss_time_check(expires, strlen(expires), &e) != HRSS_OK)
        add_err(c->v, path, "expires '%s': %s (YYYYMMDDHHMMSS, China Standard Time)", expires,
                e.msg);
    if (revoked != NULL && !json_is_boolean(revoked))
        add_err(c->v, path, "'revoked' must be true or false");
    int ci = cipher != NULL ? one_of(cipher, cipher_names) : 0;
    if (ci < 0)
        add_err(c->v, path, "encryption '%s': must be none, sm4-ecb, sm4-gcm or sm2", cipher);
    if (encoding != NULL && one_of(encoding, encoding_names) < 0)
        add_err(c->v, path, "encoding '%s': must be base64 or hex", encoding);
    int sm4 = ci > 0 && (cipher_values[ci] == HRSS_BODY_SM4_ECB ||
                         cipher_values[ci] == HRSS_BODY_SM4_GCM);
    if (key != NULL) {
        unsigned char k[HRSS_SM4_KEY_LEN];
        if (!sm4)
            add_err(c->v, path, "'key' is only for encryption sm4-ecb or sm4-gcm");
        else if (strcmp(key, REGISTRY_REDACTED) == 0)
            add_err(c->v, path, "key is redacted (an export without --with-secrets): give the key");
        else if (hrss_sm4_key_from_digits(key, strlen(key), k, &e) != HRSS_OK)
            add_err(c->v, path, "key: %s", e.msg);
        memset(k, 0, sizeof(k));
    } else if (sm4) {
        add_err(c->v, path, "encryption %s needs 'key' (16 digits)", cipher);
    }
    if (ci > 0 && cipher_values[ci] == HRSS_BODY_SM2 && caller_idx >= 0 &&
        !json_is_string(json_object_get(json_array_get(c->systems, (size_t)caller_idx),
                                        "publicKey")))
        add_err(c->v, path, "encryption sm2 needs a publicKey on caller %s", caller);
}

static json_t *get_array(verr *v, json_t *doc, const char *key)
{
    json_t *a = json_object_get(doc, key);
    if (a == NULL)
        return json_array(); /* an absent list is an empty one */
    if (!json_is_array(a)) {
        add_err(v, key, "must be an array");
        return json_array();
    }
    return json_incref(a);
}

static void validate(verr *v, json_t *doc, json_t **systems, json_t **services,
                     json_t **grants)
{
    static const char *const top[] = {"systems", "services", "grants", NULL};
    *systems = *services = *grants = NULL;
    if (!json_is_object(doc)) {
        add_err(v, "", "the registry must be a JSON object with systems, services, grants");
        return;
    }
    check_keys(v, "(top level)", doc, top);
    *systems = get_array(v, doc, "systems");
    *services = get_array(v, doc, "services");
    *grants = get_array(v, doc, "grants");
    vctx c = {v, *systems, *services};
    size_t i;
    json_t *e;
    json_array_foreach(*systems, i, e) check_system(&c, i, e);
    json_array_foreach(*services, i, e) check_service(&c, i, e);
    json_array_foreach(*grants, i, e) check_grant(&c, i, e, *grants);
}

/* ---- import: write ---- */

static const char *str_or_null(json_t *obj, const char *key)
{
    json_t *j = json_object_get(obj, key);
    return json_is_string(j) ? json_string_value(j) : NULL;
}

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s != NULL)
        sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

static void bind_json(sqlite3_stmt *st, int i, json_t *j)
{
    char *t = json_dumps(j, JSON_COMPACT);
    if (t == NULL)
        xalloc_die();
    sqlite3_bind_text(st, i, t, -1, SQLITE_TRANSIENT);
    free(t);
}

static long long int_or(json_t *obj, const char *key, long long def)
{
    json_t *j = json_object_get(obj, key);
    return json_is_integer(j) ? json_integer_value(j) : def;
}

static int write_all(registry *r, json_t *systems, json_t *services, json_t *grants, char *err)
{
    int rc = -1;
    int in_tx = 0;
    sqlite3_stmt *sys = NULL, *svc = NULL, *gr = NULL;
    size_t i;
    json_t *e;

    if (sqlite3_exec(r->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        db_fail(r, err, "begin");
        goto done;
    }
    in_tx = 1;
    if (sqlite3_exec(r->db,
                     "DELETE FROM grants; DELETE FROM services; DELETE FROM systems;"
                     "UPDATE meta SET value = value + 1 WHERE key = 'version';",
                     NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(r->db, "INSERT INTO systems VALUES(?,?,?,?,?,?,?,?,?)", -1, &sys,
                           NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(r->db, "INSERT INTO services VALUES(?,?,?,?,?,?,?)", -1, &svc, NULL) !=
            SQLITE_OK ||
        sqlite3_prepare_v2(r->db, "INSERT INTO grants VALUES(?,?,?,?,?,?,?)", -1, &gr, NULL) !=
            SQLITE_OK) {
        db_fail(r, err, "prepare");
        goto done;
    }
    json_array_foreach(systems, i, e) {
        static const char *const cols[] = {"code",      "name",   "level",    "area",
                                           "status",    "signature", "secret", "publicKey"};
        for (int c = 0; c < 8; c++)
            bind_text(sys, c + 1, str_or_null(e, cols[c]));
        bind_json(sys, 9, json_object_get(e, "allowedIps"));
        if (sqlite3_step(sys) != SQLITE_DONE) {
            db_fail(r, err, "insert system");
            goto done;
        }
        sqlite3_reset(sys);
    }
    json_array_foreach(services, i, e) {
        bind_text(svc, 1, str_or_null(e, "code"));
        bind_text(svc, 2, str_or_null(e, "name"));
        bind_text(svc, 3, str_or_null(e, "provider"));
        bind_json(svc, 4, json_object_get(e, "upstreams"));
        sqlite3_bind_int64(svc, 5, int_or(e, "timeoutMs", 3000));
        sqlite3_bind_int64(svc, 6, int_or(e, "retries", 1));
        sqlite3_bind_int64(svc, 7, int_or(e, "pipeline", 1));
        if (sqlite3_step(svc) != SQLITE_DONE) {
            db_fail(r, err, "insert service");
            goto done;
        }
        sqlite3_reset(svc);
    }
    json_array_foreach(grants, i, e) {
        const char *cipher = str_or_null(e, "encryption");
        const char *encoding = str_or_null(e, "encoding");
        bind_text(gr, 1, str_or_null(e, "caller"));
        bind_text(gr, 2, str_or_null(e, "service"));
        bind_text(gr, 3, str_or_null(e, "expires"));
        sqlite3_bind_int(gr, 4, json_is_true(json_object_get(e, "revoked")));
        bind_text(gr, 5, cipher ? cipher : "none");
        bind_text(gr, 6, encoding ? encoding : "base64");
        bind_text(gr, 7, str_or_null(e, "key"));
        if (sqlite3_step(gr) != SQLITE_DONE) {
            db_fail(r, err, "insert grant");
            goto done;
        }
        sqlite3_reset(gr);
    }
    if (sqlite3_exec(r->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        db_fail(r, err, "commit");
        goto done;
    }
    in_tx = 0;
    rc = 0;
done:
    sqlite3_finalize(sys);
    sqlite3_finalize(svc);
    sqlite3_finalize(gr);
    if (in_tx)
        sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

int registry_import(registry *r, const char *text, size_t len, char err[REGISTRY_ERR_MAX])
{
    int rc = -1;
    json_error_t je;
    json_t *systems = NULL, *services = NULL, *grants = NULL;
    verr v = {err, 0, 0};
    err[0] = '\0';
    json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (doc == NULL) {
        snprintf(err, REGISTRY_ERR_MAX, "line %d, column %d: %s", je.line, je.column, je.text);
        goto done;
    }
    validate(&v, doc, &systems, &services, &grants);
    if (v.count > 0)
        goto done;
    rc = write_all(r, systems, services, grants, err);
done:
    json_decref(systems);
    json_decref(services);
    json_decref(grants);
    json_decref(doc);
    return rc;
}

/* ---- reading: export and snapshot share the row readers ---- */

static const char *col_text(sqlite3_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(st, i);
}

static json_t *col_json(sqlite3_stmt *st, int i)
{
    const char *t = col_text(st, i);
    json_t *j = t ? json_loads(t, 0, NULL) : NULL;
    return j ? j : json_array();
}

static void set_str(json_t *o, const char *key, const char *val)
{
    if (val != NULL)
        json_object_set_new(o, key, json_string(val));
}

static int read_rows(registry *r, const char *sql, sqlite3_stmt **st, char *err)
{
    if (sqlite3_prepare_v2(r->db, sql, -1, st, NULL) != SQLITE_OK)
        return db_fail(r, err, "prepare");
    return 0;
}

#define SYSTEMS_SQL                                                                                \
    "SELECT code, name, level, area, status, signature, secret, public_key, allowed_ips "        \
    "FROM systems ORDER BY code"
#define SERVICES_SQL                                                                               \
    "SELECT code, name, provider, upstreams, timeout_ms, retries, pipeline FROM services "     \
    "ORDER BY code"
#define GRANTS_SQL                                                                                 \
    "SELECT caller, service, expires, revoked, cipher, encoding, sm4_key FROM grants "           \
    "ORDER BY caller, service"

int registry_export(registry *r, int with_secrets, char **out, char err[REGISTRY_ERR_MAX])
{
    int rc = -1, s = SQLITE_DONE;
    sqlite3_stmt *st = NULL;
    json_t *doc = json_object(), *arr;
    int in_tx = 0;
    if (sqlite3_exec(r->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
        db_fail(r, err, "begin");
        goto done;
    }
    in_tx = 1;
    arr = json_array();
    json_object_set_new(doc, "systems", arr);
    if (read_rows(r, SYSTEMS_SQL, &st, err) != 0)
        goto done;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *o = json_object();
        set_str(o, "code", col_text(st, 0));
        set_str(o, "name", col_text(st, 1));
        set_str(o, "level", col_text(st, 2));
        set_str(o, "area", col_text(st, 3));
        set_str(o, "status", col_text(st, 4));
        set_str(o, "signature", col_text(st, 5));
        if (col_text(st, 6) != NULL)
            set_str(o, "secret", with_secrets ? col_text(st, 6) : REGISTRY_REDACTED);
        set_str(o, "publicKey", col_text(st, 7));
        json_object_set_new(o, "allowedIps", col_json(st, 8));
        json_array_append_new(arr, o);
    }
    if (s != SQLITE_DONE)
        goto step_failed;
    sqlite3_finalize(st);
    st = NULL;

    arr = json_array();
    json_object_set_new(doc, "services", arr);
    if (read_rows(r, SERVICES_SQL, &st, err) != 0)
        goto done;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *o = json_object();
        set_str(o, "code", col_text(st, 0));
        set_str(o, "name", col_text(st, 1));
        set_str(o, "provider", col_text(st, 2));
        json_object_set_new(o, "upstreams", col_json(st, 3));
        json_object_set_new(o, "timeoutMs", json_integer(sqlite3_column_int64(st, 4)));
        json_object_set_new(o, "retries", json_integer(sqlite3_column_int64(st, 5)));
        json_object_set_new(o, "pipeline", json_integer(sqlite3_column_int64(st, 6)));
        json_array_append_new(arr, o);
    }
    if (s != SQLITE_DONE)
        goto step_failed;
    sqlite3_finalize(st);
    st = NULL;

    arr = json_array();
    json_object_set_new(doc, "grants", arr);
    if (read_rows(r, GRANTS_SQL, &st, err) != 0)
        goto done;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *o = json_object();
        set_str(o, "caller", col_text(st, 0));
        set_str(o, "service", col_text(st, 1));
        json_object_set_new(o, "expires",
                            col_text(st, 2) ? json_string(col_text(st, 2)) : json_null());
        json_object_set_new(o, "revoked", json_boolean(sqlite3_column_int(st, 3)));
        set_str(o, "encryption", col_text(st, 4));
        set_str(o, "encoding", col_text(st, 5));
        if (col_text(st, 6) != NULL)
            set_str(o, "key", with_secrets ? col_text(st, 6) : REGISTRY_REDACTED);
        json_array_append_new(arr, o);
    }
    if (s != SQLITE_DONE)
        goto step_failed;
    *out = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (*out == NULL)
        xalloc_die();
    rc = 0;
    goto done;
step_failed:
    db_fail(r, err, "read");
done:
    sqlite3_finalize(st);
    if (in_tx)
        sqlite3_exec(r->db, "COMMIT", NULL, NULL, NULL);
    json_decref(doc);
    return rc;
}

static int count_rows(registry *r, const char *table, int *n, char *err)
{
    char sql[64];
    sqlite3_stmt *st = NULL;
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", table);
    if (sqlite3_prepare_v2(r->db, sql, -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_finalize(st);
        return db_fail(r, err, "count");
    }
    *n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return 0;
}

/* Fills one system from a row; -1 with err when the stored data is not
 * usable (a hand-edited database). */
static int load_system(sqlite3_stmt *st, snap_system *y, char *err)
{
    hrss_error e;
    str_copy(y->code, sizeof(y->code), col_text(st, 0));
    y->name = xstrdup(col_text(st, 1));
    y->level = col_text(st, 2) ? col_text(st, 2)[0] : '?';
    str_copy(y->area, sizeof(y->area), col_text(st, 3));
    y->active = col_text(st, 4) && strcmp(col_text(st, 4), "active") == 0;
    if (col_text(st, 5) == NULL || hrss_sig_profile_parse(col_text(st, 5), &y->sig) != HRSS_OK) {
        snprintf(err, REGISTRY_ERR_MAX, "system %s: unknown signature algorithm", y->code);
        return -1;
    }
    if (col_text(st, 6) != NULL) {
        y->secret_len = (size_t)sqlite3_column_bytes(st, 6);
        y->secret = xmalloc(y->secret_len + 1);
        memcpy(y->secret, col_text(st, 6), y->secret_len + 1);
        /* keyed once here rather than for every request it signs */
        if (y->sig == HRSS_SIG_HMAC_SM3 && y->secret_len > 0 &&
            hrss_hmac_sm3_key_new(y->secret, y->secret_len, &y->hmac) != HRSS_OK) {
            snprintf(err, REGISTRY_ERR_MAX, "system %s: cannot prepare its secret", y->code);
            return -1;
        }
    }
    if (col_text(st, 7) != NULL &&
        hrss_sm2_key_from_pem(col_text(st, 7), (size_t)sqlite3_column_bytes(st, 7), &y->sm2,
                              &e) != HRSS_OK) {
        snprintf(err, REGISTRY_ERR_MAX, "system %s: public key: %s", y->code, e.msg);
        return -1;
    }
    json_t *ips = col_json(st, 8);
    y->nets = xcalloc(json_array_size(ips) + 1, sizeof(cidr));
    size_t i;
    json_t *ip;
    json_array_foreach(ips, i, ip) {
        if (!json_is_string(ip) || cidr_parse(json_string_value(ip), &y->nets[i]) != 0) {
            snprintf(err, REGISTRY_ERR_MAX, "system %s: bad allowed address", y->code);
            json_decref(ips);
            return -1;
        }
        y->n_nets++;
    }
    json_decref(ips);
    return 0;
}

static int load_service(sqlite3_stmt *st, snap_service *v, char *err)
{
    str_copy(v->code, sizeof(v->code), col_text(st, 0));
    v->name = col_text(st, 1) ? xstrdup(col_text(st, 1)) : NULL;
    str_copy(v->provider, sizeof(v->provider), col_text(st, 2));
    json_t *ups = col_json(st, 3);
    size_t i;
    json_t *u;
    json_array_foreach(ups, i, u) {
        if (i >= SNAP_MAX_UPSTREAMS || !json_is_string(u)) {
            snprintf(err, REGISTRY_ERR_MAX, "service %s: bad upstream list", v->code);
            json_decref(ups);
            return -1;
        }
        v->upstreams[v->n_upstreams++] = xstrdup(json_string_value(u));
    }
    json_decref(ups);
    v->timeout_ms = sqlite3_column_int(st, 4);
    v->retries = sqlite3_column_int(st, 5);
    v->pipeline = sqlite3_column_int(st, 6);
    return 0;
}

static int load_grant(sqlite3_stmt *st, snap_grant *g, char *err)
{
    hrss_error e;
    str_copy(g->caller, sizeof(g->caller), col_text(st, 0));
    str_copy(g->service, sizeof(g->service), col_text(st, 1));
    const char *exp = col_text(st, 2);
    if (exp != NULL && hrss_time_parse(exp, strlen(exp), &g->expires, &e) != HRSS_OK) {
        snprintf(err, REGISTRY_ERR_MAX, "grant %s/%s: expires: %s", g->caller, g->service,
                 e.msg);
        return -1;
    }
    g->revoked = sqlite3_column_int(st, 3) != 0;
    int ci = col_text(st, 4) ? one_of(col_text(st, 4), cipher_names) : -1;
    int enc = col_text(st, 5) ? one_of(col_text(st, 5), encoding_names) : -1;
    if (ci < 0 || enc < 0) {
        snprintf(err, REGISTRY_ERR_MAX, "grant %s/%s: bad encryption profile", g->caller,
                 g->service);
        return -1;
    }
    g->cipher = cipher_values[ci];
    g->encoding = enc == 0 ? HRSS_TEXT_BASE64 : HRSS_TEXT_HEX;
    const char *key = col_text(st, 6);
    if (key != NULL && hrss_sm4_key_from_digits(key, strlen(key), g->sm4, &e) != HRSS_OK) {
        snprintf(err, REGISTRY_ERR_MAX, "grant %s/%s: key: %s", g->caller, g->service, e.msg);
        return -1;
    }
    return 0;
}

int registry_load(registry *r, snapshot **out, char err[REGISTRY_ERR_MAX])
{
    int rc = -1, in_tx = 0, s = SQLITE_DONE, i;
    sqlite3_stmt *st = NULL;
    snapshot *snap = snapshot_new();

    /* one read transaction: the three tables and the version agree */
    if (sqlite3_exec(r->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
        db_fail(r, err, "begin");
        goto done;
    }
    in_tx = 1;
    if (read_rows(r, "SELECT value FROM meta WHERE key = 'version'", &st, err) != 0)
        goto done;
    if (sqlite3_step(st) == SQLITE_ROW)
        snap->version = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    st = NULL;
    if (count_rows(r, "systems", &snap->n_systems, err) != 0 ||
        count_rows(r, "services", &snap->n_services, err) != 0 ||
        count_rows(r, "grants", &snap->n_grants, err) != 0)
        goto done;
    snap->systems = calloc((size_t)snap->n_systems + 1, sizeof(snap_system));
    snap->services = calloc((size_t)snap->n_services + 1, sizeof(snap_service));
    snap->grants = calloc((size_t)snap->n_grants + 1, sizeof(snap_grant));
    if (snap->systems == NULL || snap->services == NULL || snap->grants == NULL)
        xalloc_die();
    /* counts become "rows filled" so that a failure frees only those */
    int want = snap->n_systems;
    snap->n_systems = 0;
    if (read_rows(r, SYSTEMS_SQL, &st, err) != 0)
        goto done;
    for (i = 0; i < want && (s = sqlite3_step(st)) == SQLITE_ROW; i++) {
        snap->n_systems++;
        if (load_system(st, &snap->systems[i], err) != 0)
            goto done;
    }
    sqlite3_finalize(st);
    st = NULL;
    want = snap->n_services;
    snap->n_services = 0;
    if (read_rows(r, SERVICES_SQL, &st, err) != 0)
        goto done;
    for (i = 0; i < want && (s = sqlite3_step(st)) == SQLITE_ROW; i++) {
        snap->n_services++;
        if (load_service(st, &snap->services[i], err) != 0)
            goto done;
    }
    sqlite3_finalize(st);
    st = NULL;
    want = snap->n_grants;
    snap->n_grants = 0;
    if (read_rows(r, GRANTS_SQL, &st, err) != 0)
        goto done;
    for (i = 0; i < want && (s = sqlite3_step(st)) == SQLITE_ROW; i++) {
        snap->n_grants++;
        if (load_grant(st, &snap->grants[i], err) != 0)
            goto done;
    }
    if (s != SQLITE_ROW && s != SQLITE_DONE) {
        db_fail(r, err, "read");
        goto done;
    }
    if (snapshot_index(snap, err, REGISTRY_ERR_MAX) != 0)
        goto done;
    rc = 0;
done:
    sqlite3_finalize(st);
    if (in_tx)
        sqlite3_exec(r->db, "COMMIT", NULL, NULL, NULL);
    if (rc == 0)
        *out = snap;
    else
        snapshot_unref(snap);
    return rc;
}
