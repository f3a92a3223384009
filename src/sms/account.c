/*
 * sms/account.c - accounts, their snapshot and their management commands
 * (account.h).
 *
 * Passwords: PBKDF2-HMAC-SM3 (OpenSSL 3), 16-byte random salt, 32-byte
 * output, iterations stored with the hash so that they can be raised later.
 * The first successful check of a password on a running daemon is
 * remembered as an HMAC under a per-process random key, so that the send
 * interface does not pay the KDF on every request; a wrong password always
 * pays it.
 */
#include "account.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "common/util.h"
#include "common/xalloc.h"
#include "content.h"
#include "db.h"
#include "hrss/crypto.h"

#define SALT_LEN 16
#define HASH_LEN 32

static void to_hex(const uint8_t *in, size_t n, char *out)
{
    static const char hx[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hx[in[i] >> 4];
        out[2 * i + 1] = hx[in[i] & 15];
    }
    out[2 * n] = '\0';
}

static int from_hex(const char *s, size_t n, uint8_t *out)
{
    for (size_t i = 0; i < n; i++) {
        int v = 0;
        for (int j = 0; j < 2; j++) {
            char c = s[2 * i + j];
            int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
            if (d < 0)
                return -1;
            v = v * 16 + d;
        }
        out[i] = (uint8_t)v;
    }
    return 0;
}

char *acct_password_hash(const char *password, int iterations)
{
    uint8_t salt[SALT_LEN], hash[HASH_LEN];
    char shex[2 * SALT_LEN + 1], hhex[2 * HASH_LEN + 1], out[160];
    if (RAND_bytes(salt, sizeof(salt)) != 1 ||
        PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt, sizeof(salt), iterations,
                          EVP_sm3(), sizeof(hash), hash) != 1)
        return NULL;
    to_hex(salt, sizeof(salt), shex);
    to_hex(hash, sizeof(hash), hhex);
    snprintf(out, sizeof(out), "pbkdf2-sm3$%d$%s$%s", iterations, shex, hhex);
    return xstrdup(out);
}

int acct_password_check(const char *stored, const char *password)
{
    uint8_t salt[SALT_LEN], want[HASH_LEN], got[HASH_LEN];
    const char *p = stored;
    if (strncmp(p, "pbkdf2-sm3$", 11) != 0)
        return 0;
    p += 11;
    char *end;
    long iter = strtol(p, &end, 10);
    if (end == p || *end != '$' || iter < 1 || iter > 10000000)
        return 0;
    p = end + 1;
    if (strlen(p) != 2 * SALT_LEN + 1 + 2 * HASH_LEN || p[2 * SALT_LEN] != '$' ||
        from_hex(p, SALT_LEN, salt) != 0 || from_hex(p + 2 * SALT_LEN + 1, HASH_LEN, want) != 0)
        return 0;
    if (PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt, sizeof(salt), (int)iter,
                          EVP_sm3(), sizeof(got), got) != 1)
        return 0;
    return CRYPTO_memcmp(got, want, HASH_LEN) == 0;
}

/* ---- the verified-password cache ---- */

static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static hrss_hmac_sm3_key *cache_key; /* random, keyed once: one MAC per request */

static void make_key(void)
{
    uint8_t k[32];
    if (RAND_bytes(k, sizeof(k)) != 1 || hrss_hmac_sm3_key_new(k, sizeof(k), &cache_key) != HRSS_OK)
        abort();
    OPENSSL_cleanse(k, sizeof(k));
}

static void cache_mac(const char *password, uint8_t out[32])
{
    pthread_once(&key_once, make_key);
    if (hrss_hmac_sm3_keyed(cache_key, password, strlen(password), out) != HRSS_OK)
        abort();
}

int acct_verify(account *a, const char *password)
{
    uint8_t mac[32];
    int ok;
    cache_mac(password, mac);
    pthread_mutex_lock(&a->mu);
    ok = a->has_verified && CRYPTO_memcmp(mac, a->verified, sizeof(mac)) == 0;
    pthread_mutex_unlock(&a->mu);
    if (ok)
        return 1;
    if (!acct_password_check(a->pw, password))
        return 0;
    pthread_mutex_lock(&a->mu);
    memcpy(a->verified, mac, sizeof(mac));
    a->has_verified = 1;
    pthread_mutex_unlock(&a->mu);
    return 1;
}

/* ---- IP whitelist ---- */

int acct_ips_parse(const char *list, cidr *out, int *n, char *err, size_t errlen)
{
    char buf[4096];
    *n = 0;
    if (strlen(list) >= sizeof(buf)) {
        snprintf(err, errlen, "IP list too long");
        return -1;
    }
    memcpy(buf, list, strlen(list) + 1);
    for (char *s = buf, *next; s != NULL; s = next) {
        next = strchr(s, ',');
        if (next != NULL)
            *next++ = '\0';
        while (*s == ' ')
            s++;
        size_t l = strlen(s);
        while (l > 0 && s[l - 1] == ' ')
            s[--l] = '\0';
        if (l == 0)
            continue;
        if (*n >= ACCT_MAX_IPS) {
            snprintf(err, errlen, "more than %d address ranges", ACCT_MAX_IPS);
            return -1;
        }
        if (cidr_parse(s, &out[*n]) != 0) {
            snprintf(err, errlen, "'%s' is not an IPv4 or IPv6 address or ADDRESS/PREFIX range", s);
            return -1;
        }
        (*n)++;
    }
    return 0;
}

int acct_ips_allow(const account *a, const char *peer)
{
    cidr_addr addr;
    return cidr_addr_of_text(peer, &addr) == 0 && cidr_list_match(a->ips, a->n_ips, &addr);
}

/* ---- snapshots ---- */

static void snap_free(acct_snap *s)
{
    if (s == NULL)
        return;
    for (int i = 0; i < s->n; i++) {
        account *a = &s->accts[i];
        free(a->pw);
        free(a->signature);
        free(a->callback);
        for (int j = 0; j < a->n_templates; j++) {
            free(a->templates[j].id);
            free(a->templates[j].text);
        }
        free(a->templates);
        pthread_mutex_destroy(&a->mu);
    }
    free(s->accts);
    for (int i = 0; i < s->n_words; i++)
        free(s->words[i]);
    free(s->words);
    free(s->word_len);
    free(s);
}

/* hold is the first member: the snapshot is at the same address. */
static void snap_free_obj(holder_obj *o)
{
    snap_free((acct_snap *)o);
}

void acct_holder_init(acct_holder *h)
{
    holder_init(h);
}

void acct_holder_destroy(acct_holder *h)
{
    holder_destroy(h);
}

acct_snap *acct_snap_get(acct_holder *h)
{
    return (acct_snap *)holder_get(h);
}

void acct_snap_put(acct_snap *s)
{
    if (s != NULL)
        holder_obj_unref(&s->hold);
}

account *acct_find(acct_snap *s, const char *app)
{
    for (int i = 0; s != NULL && i < s->n; i++)
        if (strcmp(s->accts[i].app, app) == 0)
            return &s->accts[i];
    return NULL;
}

const char *acct_template_find(const account *a, const char *id)
{
    for (int i = 0; i < a->n_templates; i++)
        if (strcmp(a->templates[i].id, id) == 0)
            return a->templates[i].text;
    return NULL;
}

static void lower_ascii(char *s)
{
    for (; *s != '\0'; s++)
        if (*s >= 'A' && *s <= 'Z')
            *s = (char)(*s - 'A' + 'a');
}

const char *acct_sensitive_word(const acct_snap *s, const char *text, size_t len)
{
    if (s->n_words == 0)
        return NULL;
    char *low = malloc(len + 1);
    const char *hit = NULL;
    if (low == NULL)
        xalloc_die();
    memcpy(low, text, len);
    low[len] = '\0';
    lower_ascii(low);
    for (int i = 0; i < s->n_words && hit == NULL; i++)
        if (memmem(low, len, s->words[i], s->word_len[i]) != NULL)
            hit = s->words[i];
    free(low);
    return hit;
}

int acct_holder_reload(acct_holder *h, sqlite3 *db, char err[ACCT_ERR_MAX])
{
    sqlite3_stmt *st = NULL;
    acct_snap *s = xcalloc(1, sizeof(*s));
    acct_snap *old = acct_snap_get(h);
    int rc = -1;
    holder_obj_init(&s->hold, snap_free_obj);
    if (db_exec(db, "BEGIN", err) != 0)
        goto done;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM accounts", -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW)
        goto sqlfail;
    int cap = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    st = NULL;
    s->accts = xcalloc((size_t)cap + 1, sizeof(account));
    if (sqlite3_prepare_v2(db,
                           "SELECT app, pw, ips, status, signature, callback FROM accounts "
                           "ORDER BY app",
                           -1, &st, NULL) != SQLITE_OK)
        goto sqlfail;
    while (sqlite3_step(st) == SQLITE_ROW && s->n < cap) {
        account *a = &s->accts[s->n];
        char perr[128];
        snprintf(a->app, sizeof(a->app), "%s", (const char *)sqlite3_column_text(st, 0));
        a->pw = xstrdup((const char *)sqlite3_column_text(st, 1));
        pthread_mutex_init(&a->mu, NULL);
        s->n++;
        if (acct_ips_parse((const char *)sqlite3_column_text(st, 2), a->ips, &a->n_ips, perr,
                           sizeof(perr)) != 0)
            a->n_ips = 0; /* refused by add/set; a damaged row allows nobody */
        a->frozen = sqlite3_column_int(st, 3) != 0;
        a->signature = xstrdup((const char *)sqlite3_column_text(st, 4));
        if (sqlite3_column_type(st, 5) != SQLITE_NULL)
            a->callback = xstrdup((const char *)sqlite3_column_text(st, 5));
        account *prev = acct_find(old, a->app);
        if (prev != NULL && strcmp(prev->pw, a->pw) == 0) {
            pthread_mutex_lock(&prev->mu);
            memcpy(a->verified, prev->verified, sizeof(a->verified));
            a->has_verified = prev->has_verified;
            pthread_mutex_unlock(&prev->mu);
        }
    }
    sqlite3_finalize(st);
    if (sqlite3_prepare_v2(db, "SELECT app, id, text FROM templates", -1, &st, NULL) != SQLITE_OK)
        goto sqlfail;
    while (sqlite3_step(st) == SQLITE_ROW) {
        account *a = acct_find(s, (const char *)sqlite3_column_text(st, 0));
        if (a == NULL)
            continue;
        acct_template *t = xrealloc(a->templates, sizeof(*t) * (size_t)(a->n_templates + 1));
        a->templates = t;
        t[a->n_templates].id = xstrdup((const char *)sqlite3_column_text(st, 1));
        t[a->n_templates].text = xstrdup((const char *)sqlite3_column_text(st, 2));
        a->n_templates++;
    }
    sqlite3_finalize(st);
    if (sqlite3_prepare_v2(db, "SELECT word FROM words", -1, &st, NULL) != SQLITE_OK)
        goto sqlfail;
    while (sqlite3_step(st) == SQLITE_ROW) {
        char **w = realloc(s->words, sizeof(char *) * (size_t)(s->n_words + 1));
        size_t *wl = realloc(s->word_len, sizeof(size_t) * (size_t)(s->n_words + 1));
        if (w == NULL || wl == NULL)
            xalloc_die();
        s->words = w;
        s->word_len = wl;
        w[s->n_words] = xstrdup((const char *)sqlite3_column_text(st, 0));
        lower_ascii(w[s->n_words]);
        wl[s->n_words] = strlen(w[s->n_words]);
        s->n_words++;
    }
    sqlite3_finalize(st);
    st = NULL;
    db_exec(db, "COMMIT", err);
    holder_publish(h, &s->hold);
    s = NULL;
    rc = 0;
    goto done;
sqlfail:
    snprintf(err, ACCT_ERR_MAX, "sqlite: %s", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    db_exec(db, "ROLLBACK", err);
done:
    acct_snap_put(old);
    snap_free(s);
    return rc;
}

/* ---- management commands ---- */

static const char cmd_usage[] =
    "usage: hrss-sms [--config FILE] account add APP --ips LIST --signature SIG\n"
    "                        [--callback URL] [--balance N] [--iterations N]  (password on stdin)\n"
    "       hrss-sms [--config FILE] account set APP [--ips LIST] [--signature SIG]\n"
    "                        [--callback URL|none] [--balance N] [--topup N] [--password]\n"
    "       hrss-sms [--config FILE] account freeze|unfreeze|delete APP\n"
    "       hrss-sms [--config FILE] account list\n"
    "       hrss-sms [--config FILE] template add APP ID TEXT | template del APP ID\n"
    "       hrss-sms [--config FILE] template list APP\n"
    "       hrss-sms [--config FILE] blacklist add|del MOBILE... | blacklist list\n"
    "       hrss-sms [--config FILE] words add|del WORD... | words list\n";

static int usage(void)
{
    fputs(cmd_usage, stderr);
    return 2;
}

static int app_valid(const char *app)
{
    size_t n = strlen(app);
    return n >= 1 && n <= ACCT_APP_MAX &&
           strspn(app, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") == n;
}

static int read_password(FILE *in, char *out, size_t outlen)
{
    if (fgets(out, (int)outlen, in) == NULL)
        return -1;
    size_t n = strlen(out);
    while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r'))
        out[--n] = '\0';
    return n >= 8 && n <= 64 ? 0 : -1;
}

static int sig_valid(const char *sig)
{
    size_t n = strlen(sig);
    return n > 0 && utf8_is_valid(sig, n) && utf8_count(sig, n) <= ACCT_SIG_MAX_CHARS &&
           strpbrk(sig, "\r\n\t") == NULL;
}

static int url_valid(const char *url)
{
    return (strncmp(url, "http://", 7) == 0 || strncmp(url, "https://", 8) == 0) &&
           strlen(url) < 1024 && strpbrk(url, " \r\n\t\"") == NULL;
}

static int parse_count(const char *s, int64_t *out)
{
    char *end;
    long long v = strtoll(s, &end, 10);
    if (end == s || *end != '\0' || v < 0 || v > INT64_C(1000000000000))
        return -1;
    *out = v;
    return 0;
}

static int step_done(sqlite3 *db, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        fprintf(stderr, "hrss-sms: sqlite: %s\n", sqlite3_errmsg(db));
        return -1;
    }
    return 0;
}

static int cmd_account(sqlite3 *db, int argc, char **argv, FILE *in, FILE *out)
{
    char err[256];
    cidr ips[ACCT_MAX_IPS];
    int n_ips;
    if (argc < 1)
        return usage();
    const char *verb = argv[0];
    if (strcmp(verb, "list") == 0) {
        if (argc != 1)
            return usage();
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(db,
                               "SELECT app, ips, balance, status, signature, callback FROM "
                               "accounts ORDER BY app",
                               -1, &st, NULL) != SQLITE_OK)
            return 1;
        while (sqlite3_step(st) == SQLITE_ROW)
            fprintf(out, "%s\tips=%s\tbalance=%lld\tstatus=%s\tsignature=%s\tcallback=%s\n",
                    sqlite3_column_text(st, 0), sqlite3_column_text(st, 1),
                    (long long)sqlite3_column_int64(st, 2),
                    sqlite3_column_int(st, 3) ? "frozen" : "active", sqlite3_column_text(st, 4),
                    sqlite3_column_type(st, 5) == SQLITE_NULL
                        ? "-"
                        : (const char *)sqlite3_column_text(st, 5));
        sqlite3_finalize(st);
        return 0;
    }
    if (argc < 2 || !app_valid(argv[1])) {
        if (argc >= 2)
            fprintf(stderr, "hrss-sms: '%s' is not an appName (1 to 64 of A-Z a-z 0-9 _ - .)\n",
                    argv[1]);
        return usage();
    }
    const char *app = argv[1];
    const char *o_ips = NULL, *o_sig = NULL, *o_cb = NULL, *o_bal = NULL, *o_top = NULL;
    const char *o_iter = NULL;
    int o_pw = 0;
    for (int i = 2; i < argc; i++) {
        const char **slot = NULL;
        if (strcmp(argv[i], "--ips") == 0)
            slot = &o_ips;
        else if (strcmp(argv[i], "--signature") == 0)
            slot = &o_sig;
        else if (strcmp(argv[i], "--callback") == 0)
            slot = &o_cb;
        else if (strcmp(argv[i], "--balance") == 0)
            slot = &o_bal;
        else if (strcmp(argv[i], "--topup") == 0)
            slot = &o_top;
        else if (strcmp(argv[i], "--iterations") == 0)
            slot = &o_iter;
        else if (strcmp(argv[i], "--password") == 0) {
            o_pw = 1;
            continue;
        } else
            return usage();
        if (i + 1 >= argc)
            return usage();
        *slot = argv[++i];
    }
    if (o_ips != NULL && acct_ips_parse(o_ips, ips, &n_ips, err, sizeof(err)) != 0) {
        fprintf(stderr, "hrss-sms: --ips: %s\n", err);
        return 1;
    }
    if (o_sig != NULL && !sig_valid(o_sig)) {
        fprintf(stderr, "hrss-sms: --signature must be 1 to %d characters of UTF-8 text, "
                        "e.g. 【人社局】\n", ACCT_SIG_MAX_CHARS);
        return 1;
    }
    if (o_cb != NULL && strcmp(o_cb, "none") != 0 && !url_valid(o_cb)) {
        fprintf(stderr, "hrss-sms: --callback must be an http:// or https:// URL, or none\n");
        return 1;
    }
    int64_t bal = 0, top = 0, iter = ACCT_KDF_ITER_DEFAULT;
    if ((o_bal != NULL && parse_count(o_bal, &bal) != 0) ||
        (o_top != NULL && parse_count(o_top, &top) != 0) ||
        (o_iter != NULL && (parse_count(o_iter, &iter) != 0 || iter < 1000 || iter > 10000000))) {
        fprintf(stderr, "hrss-sms: --balance, --topup: a whole number of message parts; "
                        "--iterations: 1000 to 10000000\n");
        return 1;
    }
    int64_t now = db_now_ms();
    sqlite3_stmt *st = NULL;
    if (strcmp(verb, "add") == 0) {
        char pw[128];
        if (o_ips == NULL || o_sig == NULL || o_top != NULL || o_pw)
            return usage();
        if (read_password(in, pw, sizeof(pw)) != 0) {
            fprintf(stderr, "hrss-sms: give the password (8 to 64 characters) on stdin\n");
            return 1;
        }
        char *hash = acct_password_hash(pw, (int)iter);
        OPENSSL_cleanse(pw, sizeof(pw));
        if (hash == NULL)
            return 1;
        sqlite3_prepare_v2(db,
                           "INSERT INTO accounts (app, pw, ips, balance, status, signature, "
                           "callback, created, updated) VALUES (?,?,?,?,0,?,?,?,?)",
                           -1, &st, NULL);
        sqlite3_bind_text(st, 1, app, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, hash, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 3, o_ips, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, bal);
        sqlite3_bind_text(st, 5, o_sig, -1, SQLITE_STATIC);
        if (o_cb != NULL && strcmp(o_cb, "none") != 0)
            sqlite3_bind_text(st, 6, o_cb, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 7, now);
        sqlite3_bind_int64(st, 8, now);
        free(hash);
        int rc = sqlite3_step(st);
        sqlite3_finalize(st);
        if (rc == SQLITE_CONSTRAINT) {
            fprintf(stderr, "hrss-sms: account %s exists (use account set)\n", app);
            return 1;
        }
        if (rc != SQLITE_DONE) {
            fprintf(stderr, "hrss-sms: sqlite: %s\n", sqlite3_errmsg(db));
            return 1;
        }
        fprintf(out, "account %s added\n", app);
        return 0;
    }
    int changes = 0;
    if (db_exec(db, "BEGIN IMMEDIATE", err) != 0) {
        fprintf(stderr, "hrss-sms: %s\n", err);
        return 1;
    }
#define UPD(sql, bind)                                                                          \
    do {                                                                                        \
        if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)                            \
            goto fail;                                                                          \
        bind;                                                                                   \
        sqlite3_bind_int64(st, 2, now);                                                         \
        sqlite3_bind_text(st, 3, app, -1, SQLITE_STATIC);                                       \
        if (step_done(db, st) != 0)                                                             \
            goto fail;                                                                          \
        changes += sqlite3_changes(db);                                                         \
    } while (0)
    if (strcmp(verb, "set") == 0) {
        if (argc == 2 || o_iter != NULL)
            goto usage_fail;
        if (o_pw) {
            char pw[128];
            if (read_password(in, pw, sizeof(pw)) != 0) {
                fprintf(stderr, "hrss-sms: give the new password (8 to 64 characters) on stdin\n");
                goto fail;
            }
            char *hash = acct_password_hash(pw, ACCT_KDF_ITER_DEFAULT);
            OPENSSL_cleanse(pw, sizeof(pw));
            if (hash == NULL)
                goto fail;
            UPD("UPDATE accounts SET pw=?1, updated=?2 WHERE app=?3",
                sqlite3_bind_text(st, 1, hash, -1, SQLITE_TRANSIENT));
            free(hash);
        }
        if (o_ips != NULL)
            UPD("UPDATE accounts SET ips=?1, updated=?2 WHERE app=?3",
                sqlite3_bind_text(st, 1, o_ips, -1, SQLITE_STATIC));
        if (o_sig != NULL)
            UPD("UPDATE accounts SET signature=?1, updated=?2 WHERE app=?3",
                sqlite3_bind_text(st, 1, o_sig, -1, SQLITE_STATIC));
        if (o_cb != NULL)
            UPD("UPDATE accounts SET callback=?1, updated=?2 WHERE app=?3",
                if (strcmp(o_cb, "none") != 0) sqlite3_bind_text(st, 1, o_cb, -1, SQLITE_STATIC));
        if (o_bal != NULL)
            UPD("UPDATE accounts SET balance=?1, updated=?2 WHERE app=?3",
                sqlite3_bind_int64(st, 1, bal));
        if (o_top != NULL)
            UPD("UPDATE accounts SET balance=balance+?1, updated=?2 WHERE app=?3",
                sqlite3_bind_int64(st, 1, top));
    } else if (strcmp(verb, "freeze") == 0 || strcmp(verb, "unfreeze") == 0) {
        if (argc != 2)
            goto usage_fail;
        UPD("UPDATE accounts SET status=?1, updated=?2 WHERE app=?3",
            sqlite3_bind_int(st, 1, verb[0] == 'f'));
    } else if (strcmp(verb, "delete") == 0) {
        if (argc != 2)
            goto usage_fail;
        UPD("DELETE FROM accounts WHERE app=?3 AND ?2 IS NOT NULL", (void)0);
        UPD("DELETE FROM templates WHERE app=?3 AND ?2 IS NOT NULL", (void)0);
    } else {
        goto usage_fail;
    }
#undef UPD
    if (changes == 0) {
        fprintf(stderr, "hrss-sms: no account %s\n", app);
        db_exec(db, "ROLLBACK", err);
        return 1;
    }
    if (db_exec(db, "COMMIT", err) != 0) {
        fprintf(stderr, "hrss-sms: %s\n", err);
        return 1;
    }
    fprintf(out, "account %s: %s done\n", app, verb);
    return 0;
usage_fail:
    db_exec(db, "ROLLBACK", err);
    return usage();
fail:
    db_exec(db, "ROLLBACK", err);
    return 1;
}

static int cmd_template(sqlite3 *db, int argc, char **argv, FILE *out)
{
    sqlite3_stmt *st = NULL;
    if (argc == 2 && strcmp(argv[0], "list") == 0) {
        sqlite3_prepare_v2(db, "SELECT id, text FROM templates WHERE app=? ORDER BY id", -1, &st,
                           NULL);
        sqlite3_bind_text(st, 1, argv[1], -1, SQLITE_STATIC);
        while (sqlite3_step(st) == SQLITE_ROW)
            fprintf(out, "%s\t%s\n", sqlite3_column_text(st, 0), sqlite3_column_text(st, 1));
        sqlite3_finalize(st);
        return 0;
    }
    if (argc == 4 && strcmp(argv[0], "add") == 0) {
        size_t n = strlen(argv[3]);
        if (!app_valid(argv[2]) || n == 0 || !utf8_is_valid(argv[3], n)) {
            fprintf(stderr, "hrss-sms: a template id is like an appName; its text is UTF-8\n");
            return 1;
        }
        sqlite3_prepare_v2(db,
                           "INSERT OR REPLACE INTO templates (app, id, text) SELECT app, ?, ? "
                           "FROM accounts WHERE app=?",
                           -1, &st, NULL);
        sqlite3_bind_text(st, 1, argv[2], -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, argv[3], -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, argv[1], -1, SQLITE_STATIC);
    } else if (argc == 3 && strcmp(argv[0], "del") == 0) {
        sqlite3_prepare_v2(db, "DELETE FROM templates WHERE app=? AND id=?", -1, &st, NULL);
        sqlite3_bind_text(st, 1, argv[1], -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, argv[2], -1, SQLITE_STATIC);
    } else {
        return usage();
    }
    if (step_done(db, st) != 0)
        return 1;
    if (sqlite3_changes(db) == 0) {
        fprintf(stderr, "hrss-sms: no such account or template\n");
        return 1;
    }
    fprintf(out, "template %s %s\n", argv[0], argv[1]);
    return 0;
}

static int cmd_list_table(sqlite3 *db, int argc, char **argv, FILE *out, int blacklist)
{
    sqlite3_stmt *st = NULL;
    if (argc == 1 && strcmp(argv[0], "list") == 0) {
        sqlite3_prepare_v2(db,
                           blacklist ? "SELECT mobile, reason FROM blacklist ORDER BY mobile"
                                     : "SELECT word, '' FROM words ORDER BY word",
                           -1, &st, NULL);
        while (sqlite3_step(st) == SQLITE_ROW)
            fprintf(out, "%s%s%s\n", sqlite3_column_text(st, 0), blacklist ? "\t" : "",
                    blacklist ? (const char *)sqlite3_column_text(st, 1) : "");
        sqlite3_finalize(st);
        return 0;
    }
    int add = argc >= 2 && strcmp(argv[0], "add") == 0;
    if (argc < 2 || (!add && strcmp(argv[0], "del") != 0))
        return usage();
    char err[SMS_DB_ERR_MAX];
    if (db_exec(db, "BEGIN IMMEDIATE", err) != 0)
        return 1;
    for (int i = 1; i < argc; i++) {
        char mobile[SMS_MOBILE_LEN + 1];
        const char *v = argv[i];
        if (blacklist) {
            if (sms_mobile_normalize(v, strlen(v), mobile) != 0) {
                fprintf(stderr, "hrss-sms: '%s' is not a mainland mobile number\n", v);
                db_exec(db, "ROLLBACK", err);
                return 1;
            }
            v = mobile;
        } else if (strlen(v) == 0 || !utf8_is_valid(v, strlen(v))) {
            fprintf(stderr, "hrss-sms: a word is non-empty UTF-8 text\n");
            db_exec(db, "ROLLBACK", err);
            return 1;
        }
        const char *sql = blacklist ? (add ? "INSERT OR IGNORE INTO blacklist (mobile, reason, "
                                             "added) VALUES (?1, 'manual', ?2)"
                                           : "DELETE FROM blacklist WHERE mobile=?1 AND ?2>0")
                                    : (add ? "INSERT OR IGNORE INTO words (word) VALUES (?1)"
                                           : "DELETE FROM words WHERE word=?1");
        sqlite3_prepare_v2(db, sql, -1, &st, NULL);
        sqlite3_bind_text(st, 1, v, -1, SQLITE_TRANSIENT);
        if (blacklist)
            sqlite3_bind_int64(st, 2, db_now_ms());
        if (step_done(db, st) != 0) {
            db_exec(db, "ROLLBACK", err);
            return 1;
        }
    }
    if (db_exec(db, "COMMIT", err) != 0)
        return 1;
    fprintf(out, "%s %s: %d\n", blacklist ? "blacklist" : "words", argv[0], argc - 1);
    return 0;
}

int acct_command(sqlite3 *db, int argc, char **argv, FILE *in, FILE *out)
{
    if (argc < 2)
        return usage();
    if (strcmp(argv[0], "account") == 0)
        return cmd_account(db, argc - 1, argv + 1, in, out);
    if (strcmp(argv[0], "template") == 0)
        return cmd_template(db, argc - 1, argv + 1, out);
    if (strcmp(argv[0], "blacklist") == 0)
        return cmd_list_table(db, argc - 1, argv + 1, out, 1);
    if (strcmp(argv[0], "words") == 0)
        return cmd_list_table(db, argc - 1, argv + 1, out, 0);
    return usage();
}
