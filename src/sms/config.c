/*
 * sms/config.c - strict parser of the hrss-sms configuration (config.h).
 * Keys are one table (section, key, parser, field) as nginx modules declare
 * directives; [carrier NAME] sections may repeat, one per link.
 */
#include "config.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "carrier_conf.h"
#include "common/util.h"
#include "common/xalloc.h"

typedef struct pctx {
    const char *name;
    int line;
    char *err;
} pctx;

typedef int (*parse_fn)(pctx *p, void *field, const char *v);

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static int fail(pctx *p, const char *fmt, ...)
{
    int n = p->line > 0 ? snprintf(p->err, SMS_CONFIG_ERR_MAX, "%s:%d: ", p->name, p->line)
                        : snprintf(p->err, SMS_CONFIG_ERR_MAX, "%s: ", p->name);
    if (n < 0 || n >= SMS_CONFIG_ERR_MAX - 1)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->err + n, SMS_CONFIG_ERR_MAX - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

static int parse_u64(const char *s, const char **end, int64_t *out)
{
    int64_t n = 0;
    if (*s < '0' || *s > '9')
        return -1;
    while (*s >= '0' && *s <= '9') {
        if (n > (INT64_MAX - 9) / 10)
            return -1;
        n = n * 10 + (*s++ - '0');
    }
    *end = s;
    *out = n;
    return 0;
}

static int p_string(pctx *p, void *f, const char *v)
{
    char **dst = f;
    if (v[0] == '\0')
        return fail(p, "empty value");
    free(*dst);
    *dst = xstrdup(v);
    return 0;
}

static int p_path(pctx *p, void *f, const char *v)
{
    if (v[0] != '/')
        return fail(p, "'%s' is not an absolute path", v);
    return p_string(p, f, v);
}

static int int_range(pctx *p, void *f, const char *v, int64_t min, int64_t max)
{
    const char *e;
    int64_t n;
    if (parse_u64(v, &e, &n) != 0 || *e != '\0' || n < min || n > max)
        return fail(p, "'%s' is not a whole number from %" PRId64 " to %" PRId64, v, min, max);
    *(int *)f = (int)n;
    return 0;
}

static int p_workers(pctx *p, void *f, const char *v)
{
    if (strcmp(v, "auto") == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        *(int *)f = n < 1 ? 1 : n > 64 ? 64 : (int)n;
        return 0;
    }
    return int_range(p, f, v, 1, 256);
}

static int p_parts(pctx *p, void *f, const char *v)
{
    return int_range(p, f, v, 1, SMS_MAX_PARTS);
}

static int p_batch(pctx *p, void *f, const char *v)
{
    return int_range(p, f, v, 1, 10000);
}

static int p_count(pctx *p, void *f, const char *v)
{
    return int_range(p, f, v, 0, 1000);
}

static int p_port(pctx *p, void *f, const char *v)
{
    return int_range(p, f, v, 1, 65535);
}

static int p_window(pctx *p, void *f, const char *v)
{
    return int_range(p, f, v, 1, 1024);
}

static int p_rate(pctx *p, void *f, const char *v)
{
    return int_range(p, f, v, 0, 1000000);
}

static int p_conns(pctx *p, void *f, const char *v)
{
    return int_range(p, f, v, 1, 64);
}

static int p_duration(pctx *p, void *f, const char *v)
{
    static const struct {
        const char *s;
        int64_t m;
    } u[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000}};
    const char *e;
    int64_t n;
    if (parse_u64(v, &e, &n) == 0)
        for (size_t i = 0; i < HRSS_ARRAY_LEN(u); i++)
            if (strcmp(e, u[i].s) == 0 && n <= INT64_C(400) * 86400000 / u[i].m) {
                *(int64_t *)f = n * u[i].m;
                return 0;
            }
    return fail(p, "'%s' is not a duration (a number with a unit: ms, s, m, h, d; at most 400d)",
                v);
}

static int p_duration_int(pctx *p, void *f, const char *v)
{
    int64_t ms;
    if (p_duration(p, &ms, v) != 0)
        return -1;
    if (ms > INT32_MAX)
        return fail(p, "'%s' is too long", v);
    *(int *)f = (int)ms;
    return 0;
}

static int p_duration_sec(pctx *p, void *f, const char *v)
{
    int64_t ms;
    if (p_duration(p, &ms, v) != 0)
        return -1;
    if (ms < 1000 || ms > 86400000)
        return fail(p, "'%s' must be from 1s to 1d", v);
    *(int *)f = (int)(ms / 1000);
    return 0;
}

static int p_size(pctx *p, void *f, const char *v)
{
    const char *e;
    int64_t n, m = 0;
    if (parse_u64(v, &e, &n) == 0)
        m = strcmp(e, "") == 0 ? 1 : strcmp(e, "K") == 0 ? 1024 : strcmp(e, "M") == 0 ? 1 << 20 : 0;
    if (m == 0 || n > (64 << 20) / m || n * m < 1024)
        return fail(p, "'%s' is not a size from 1K to 64M (bytes, or a number with K or M)", v);
    *(size_t *)f = (size_t)(n * m);
    return 0;
}

static int p_bool(pctx *p, void *f, const char *v)
{
    if (strcmp(v, "on") == 0 || strcmp(v, "yes") == 0 || strcmp(v, "true") == 0)
        *(int *)f = 1;
    else if (strcmp(v, "off") == 0 || strcmp(v, "no") == 0 || strcmp(v, "false") == 0)
        *(int *)f = 0;
    else
        return fail(p, "'%s' is not on or off", v);
    return 0;
}

static int p_level(pctx *p, void *f, const char *v)
{
    for (int i = 0; i <= SMS_LOG_DEBUG; i++)
        if (strcmp(v, sms_log_level_name((sms_log_level)i)) == 0) {
            *(sms_log_level *)f = (sms_log_level)i;
            return 0;
        }
    return fail(p, "'%s' is not a log level (error, warn, info, debug)", v);
}

static int p_protocol(pctx *p, void *f, const char *v)
{
    if (strcmp(v, "cmpp30") == 0 || strcmp(v, "cmpp") == 0)
        *(int *)f = 0;
    else if (strcmp(v, "smpp34") == 0 || strcmp(v, "smpp") == 0)
        *(int *)f = 1;
    else if (strcmp(v, "sgip12") == 0 || strcmp(v, "sgip") == 0)
        *(int *)f = 2;
    else if (strcmp(v, "smgp30") == 0 || strcmp(v, "smgp") == 0)
        *(int *)f = 3;
    else
        return fail(p, "'%s' is not a protocol (cmpp30, smpp34, sgip12 or smgp30)", v);
    return 0;
}

static int p_queue_max(pctx *p, void *f, const char *v)
{
    return int_range(p, f, v, 1, 1000000);
}

static int p_heartbeat(pctx *p, void *f, const char *v)
{
    return int_range(p, f, v, 1, 86400);
}

static int p_ms(pctx *p, void *f, const char *v)
{
    return int_range(p, f, v, 1, 3600000);
}

static int p_ms0(pctx *p, void *f, const char *v)
{
    return int_range(p, f, v, 0, 3600000);
}

static int p_retries(pctx *p, void *f, const char *v)
{
    return int_range(p, f, v, 0, 1000);
}

static int p_attempts(pctx *p, void *f, const char *v)
{
    return int_range(p, f, v, 1, 1000);
}

static int p_fee_user_type(pctx *p, void *f, const char *v)
{
    return int_range(p, f, v, 0, 3);
}

/* 0..255, in decimal or as 0xNN (CONNECT Version 0x30, address types) */
static int p_byte(pctx *p, void *f, const char *v)
{
    char *e;
    unsigned long n = (v[0] == '0' && (v[1] == 'x' || v[1] == 'X')) ? strtoul(v + 2, &e, 16)
                                                                     : strtoul(v, &e, 10);
    if (v[0] == '\0' || v[0] == '-' || v[0] == '+' || *e != '\0' || e == v || n > 255 ||
        ((v[0] == '0' && (v[1] == 'x' || v[1] == 'X')) && v[2] == '\0'))
        return fail(p, "'%s' is not a byte (0 to 255, or 0x00 to 0xff)", v);
    *(int *)f = (int)n;
    return 0;
}

static int p_msgid_type(pctx *p, void *f, const char *v)
{
    if (strcmp(v, "-1") == 0) {
        *(int *)f = -1;
        return 0;
    }
    return int_range(p, f, v, 0, 3);
}

static int p_node_id(pctx *p, void *f, const char *v)
{
    const char *e;
    int64_t n;
    if (parse_u64(v, &e, &n) != 0 || *e != '\0' || n < 1 || n > UINT32_MAX)
        return fail(p, "'%s' is not a node id (1 to 4294967295, e.g. 3 + area code + "
                       "corporation id)", v);
    *(int64_t *)f = n;
    return 0;
}

static int p_operators(pctx *p, void *f, const char *v)
{
    int set = 0;
    char buf[128];
    snprintf(buf, sizeof(buf), "%s", v);
    for (char *s = buf, *next; s != NULL && *s != '\0'; s = next) {
        next = strchr(s, ',');
        if (next != NULL)
            *next++ = '\0';
        while (*s == ' ')
            s++;
        size_t n = strlen(s);
        while (n > 0 && s[n - 1] == ' ')
            s[--n] = '\0';
        sms_operator op = sms_operator_parse(s);
        if (op == SMS_OP_NONE)
            return fail(p, "'%s' is not an operator (mobile, unicom, telecom, broadnet)", s);
        set |= 1 << op;
    }
    if (set == 0)
        return fail(p, "no operator");
    *(int *)f = set;
    return 0;
}

/* listen = A, B: appended to a list */
static int add_listen(pctx *p, char **list, int *n, const char *v)
{
    char buf[1024];
    snprintf(buf, sizeof(buf), "%s", v);
    for (char *s = buf, *next; s != NULL; s = next) {
        next = strchr(s, ',');
        if (next != NULL)
            *next++ = '\0';
        while (*s == ' ')
            s++;
        size_t l = strlen(s);
        while (l > 0 && s[l - 1] == ' ')
            s[--l] = '\0';
        const char *colon = strrchr(s, ':');
        if (l == 0 || colon == NULL || colon[1] == '\0')
            return fail(p, "'%s' is not HOST:PORT", s);
        if (*n >= SMS_CONFIG_MAX_LISTEN)
            return fail(p, "more than %d listeners", SMS_CONFIG_MAX_LISTEN);
        list[(*n)++] = xstrdup(s);
    }
    return 0;
}

static int p_uplink_threads(pctx *p, void *f, const char *v)
{
    return int_range(p, f, v, 1, 32);
}

static int p_failures(pctx *p, void *f, const char *v)
{
    return int_range(p, f, v, 1, 100);
}

static int p_url(pctx *p, void *f, const char *v)
{
    if (strncmp(v, "http://", 7) != 0 && strncmp(v, "https://", 8) != 0)
        return fail(p, "'%s' is not an http:// or https:// URL", v);
    return p_string(p, f, v);
}

static int p_sm4_key(pctx *p, void *f, const char *v)
{
    if (strlen(v) != 16)
        return fail(p, "an SM4 key is 16 characters (LD/T 6008 7.1.1.3)");
    return p_string(p, f, v);
}

#define OFF(f) offsetof(sms_config, f)
#define COFF(f) offsetof(sms_carrier_conf, f)

static const struct key {
    const char *section; /* "carrier" for [carrier NAME] */
    const char *key;
    parse_fn parse;
    size_t off;
    int required;
} keys[] = {
    {"sms", "data_dir", p_path, OFF(data_dir), 1},
    {"sms", "workers", p_workers, OFF(workers), 0},
    {"sms", "drain_timeout", p_duration_int, OFF(drain_timeout_ms), 0},
    {"sms", "max_parts", p_parts, OFF(max_parts), 0},
    {"http", "body_limit", p_size, OFF(body_limit), 0},
    {"http", "idle_timeout", p_duration_sec, OFF(idle_timeout_sec), 0},
    {"https", "cert", p_path, OFF(tls_cert), 0},
    {"https", "key", p_path, OFF(tls_key), 0},
    {"log", "level", p_level, OFF(log_level), 0},
    {"log", "access", p_bool, OFF(log_access), 0},
    {"queue", "batch_max", p_batch, OFF(batch_max), 0},
    {"queue", "retry_max", p_count, OFF(retry_max), 0},
    {"queue", "retry_backoff", p_duration, OFF(retry_backoff_ms), 0},
    {"queue", "validity", p_duration, OFF(validity_ms), 0},
    {"queue", "schedule_max", p_duration, OFF(schedule_max_ms), 0},
    {"queue", "report_park", p_duration, OFF(report_park_ms), 0},
    {"queue", "report_wait", p_duration, OFF(report_wait_ms), 0},
    {"callback", "timeout", p_duration, OFF(callback_timeout_ms), 0},
    {"callback", "retries", p_count, OFF(callback_retries), 0},
    {"callback", "backoff", p_duration, OFF(callback_backoff_ms), 0},
    {"callback", "ca_file", p_path, OFF(callback_ca_file), 0},
    {"uplink", "commands", p_path, OFF(uplink_commands), 0},
    {"uplink", "replies", p_path, OFF(uplink_replies), 0},
    {"uplink", "account", p_string, OFF(uplink_account), 0},
    {"uplink", "threads", p_uplink_threads, OFF(uplink_threads), 0},
    {"uplink", "password_failures", p_failures, OFF(uplink_max_failures), 0},
    {"uplink", "password_lock", p_duration_sec, OFF(uplink_lock_sec), 0},
    {"platform", "node_url", p_url, OFF(platform_url), 0},
    {"platform", "system_code", p_string, OFF(platform_system), 0},
    {"platform", "secret", p_string, OFF(platform_secret), 0},
    {"platform", "sm4_key", p_sm4_key, OFF(platform_sm4_key), 0},
    {"platform", "timeout", p_duration, OFF(platform_timeout_ms), 0},
    {"carrier", "protocol", p_protocol, COFF(protocol), 1},
    {"carrier", "host", p_string, COFF(host), 1},
    {"carrier", "port", p_port, COFF(port), 1},
    {"carrier", "account", p_string, COFF(account), 1},
    {"carrier", "secret", p_string, COFF(secret), 1},
    {"carrier", "service_id", p_string, COFF(service_id), 0},
    {"carrier", "src_addr", p_string, COFF(src_addr), 1},
    {"carrier", "system_type", p_string, COFF(system_type), 0},
    {"carrier", "operators", p_operators, COFF(operators), 1},
    {"carrier", "window", p_window, COFF(window), 0},
    {"carrier", "rate", p_rate, COFF(rate), 0},
    {"carrier", "connections", p_conns, COFF(connections), 0},
    {"carrier", "corp_id", p_string, COFF(corp_id), 0},
    {"carrier", "node_id", p_node_id, COFF(node_id), 0},
    {"carrier", "listen", p_string, COFF(listen), 0},
    {"carrier", "gw_login", p_string, COFF(gw_login), 0},
    {"carrier", "gw_password", p_string, COFF(gw_password), 0},
    {"carrier", "queue_max", p_queue_max, COFF(link.queue_max), 0},
    {"carrier", "heartbeat_s", p_heartbeat, COFF(link.heartbeat_s), 0},
    {"carrier", "response_timeout_ms", p_ms, COFF(link.response_timeout_ms), 0},
    {"carrier", "retries", p_retries, COFF(link.retries), 0},
    {"carrier", "max_attempts", p_attempts, COFF(link.max_attempts), 0},
    {"carrier", "reconnect_min_ms", p_ms, COFF(link.reconnect_min_ms), 0},
    {"carrier", "reconnect_max_ms", p_ms, COFF(link.reconnect_max_ms), 0},
    {"carrier", "throttle_pause_ms", p_ms0, COFF(link.throttle_pause_ms), 0},
    {"carrier", "throttle_max", p_retries, COFF(link.throttle_max), 0},
    {"carrier", "cmpp_version", p_byte, COFF(link.cmpp_version), 0},
    {"carrier", "fee_user_type", p_fee_user_type, COFF(link.fee_user_type), 0},
    {"carrier", "fee_type", p_string, COFF(fee_type), 0},
    {"carrier", "fee_code", p_string, COFF(fee_code), 0},
    {"carrier", "src_ton", p_byte, COFF(link.src_ton), 0},
    {"carrier", "src_npi", p_byte, COFF(link.src_npi), 0},
    {"carrier", "dst_ton", p_byte, COFF(link.dst_ton), 0},
    {"carrier", "dst_npi", p_byte, COFF(link.dst_npi), 0},
    {"carrier", "smpp_msgid_type", p_msgid_type, COFF(link.smpp_msgid_type), 0},
    {"carrier", "fallback", p_bool, COFF(fallback), 0},
};
#define NKEYS HRSS_ARRAY_LEN(keys)

void sms_config_init(sms_config *c)
{
    memset(c, 0, sizeof(*c));
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    c->workers = n < 1 ? 1 : n > 64 ? 64 : (int)n;
    c->drain_timeout_ms = 30000;
    c->max_parts = 10;
    c->body_limit = 1 << 20;
    c->idle_timeout_sec = 60;
    c->log_level = SMS_LOG_INFO;
    c->log_access = 1;
    c->batch_max = 512;
    c->retry_max = 5;
    c->retry_backoff_ms = 10000;
    c->validity_ms = INT64_C(86400000);
    c->schedule_max_ms = INT64_C(30) * 86400000;
    c->report_park_ms = 600000;
    c->report_wait_ms = INT64_C(72) * 3600000;
    c->callback_timeout_ms = 5000;
    c->callback_retries = 8;
    c->callback_backoff_ms = 10000;
    sms_segments_default(&c->segments);
    c->uplink_threads = 2;
    c->uplink_max_failures = 5;
    c->uplink_lock_sec = 1800;
    c->platform_timeout_ms = 5000;
}

void sms_config_free(sms_config *c)
{
    free(c->data_dir);
    for (int i = 0; i < c->n_http_listen; i++)
        free(c->http_listen[i]);
    for (int i = 0; i < c->n_https_listen; i++)
        free(c->https_listen[i]);
    free(c->tls_cert);
    free(c->tls_key);
    free(c->callback_ca_file);
    free(c->uplink_commands);
    free(c->uplink_replies);
    free(c->uplink_account);
    free(c->platform_url);
    free(c->platform_system);
    if (c->platform_secret != NULL)
        OPENSSL_cleanse(c->platform_secret, strlen(c->platform_secret));
    free(c->platform_secret);
    if (c->platform_sm4_key != NULL)
        OPENSSL_cleanse(c->platform_sm4_key, strlen(c->platform_sm4_key));
    free(c->platform_sm4_key);
    for (int i = 0; i < c->n_carriers; i++) {
        sms_carrier_conf *k = &c->carriers[i];
        free(k->name);
        free(k->host);
        free(k->account);
        free(k->secret);
        free(k->service_id);
        free(k->src_addr);
        free(k->system_type);
        free(k->corp_id);
        free(k->listen);
        free(k->gw_login);
        free(k->gw_password);
        free(k->fee_type);
        free(k->fee_code);
    }
    sms_config_init(c);
}

/* What each protocol's login and submit fields hold: a longer value would be
 * cut short on the wire (and a cut login fails for ever), so it is refused
 * here with the field and its limit. */
static int check_carrier_fields(pctx *p, const sms_carrier_conf *k)
{
    static const char *const names[] = {"cmpp30", "smpp34", "sgip12", "smgp30"};
    /* account, secret, service_id, corp_id, gw_login, gw_password; 0 = any */
    static const size_t limits[4][6] = {
        {6, 0, 10, 0, 0, 0},    /* CMPP: Source_Addr 6, Service_Id 10 */
        {15, 8, 5, 0, 0, 0},    /* SMPP: system_id 16, password 9, service_type 6 with NUL */
        {16, 16, 10, 5, 16, 16}, /* SGIP: LoginName, LoginPassword, ServiceType, CorpId */
        {8, 15, 10, 0, 0, 0},   /* SMGP: ClientID 8, shared secret 15, ServiceID 10 */
    };
    const char *const vals[6] = {k->account, k->secret, k->service_id, k->corp_id,
                                 k->gw_login, k->gw_password};
    static const char *const keyn[6] = {"account", "secret", "service_id", "corp_id",
                                        "gw_login", "gw_password"};
    for (int i = 0; i < 6; i++) {
        size_t lim = limits[k->protocol][i];
        if (vals[i] != NULL && lim > 0 && strlen(vals[i]) > lim)
            return fail(p, "[carrier %s] %s is at most %zu characters in %s (this one has %zu)",
                        k->name, keyn[i], lim, names[k->protocol], strlen(vals[i]));
    }
    if (k->fee_type != NULL && strlen(k->fee_type) > 2)
        return fail(p, "[carrier %s] fee_type is at most 2 characters", k->name);
    if (k->fee_code != NULL && strlen(k->fee_code) > 6)
        return fail(p, "[carrier %s] fee_code is at most 6 characters", k->name);
    carrier_config cc;
    sms_carrier_to_config(k, &cc);
    if (cc.reconnect_max_ms < cc.reconnect_min_ms)
        return fail(p, "[carrier %s] reconnect_max_ms (%d) is below reconnect_min_ms (%d)",
                    k->name, cc.reconnect_max_ms, cc.reconnect_min_ms);
    if (k->src_addr != NULL && strlen(k->src_addr) > 21)
        return fail(p, "[carrier %s] src_addr is at most 21 characters", k->name);
    if (k->protocol == 2 && (k->listen == NULL || k->gw_login == NULL || k->gw_password == NULL))
        return fail(p, "[carrier %s] sgip12 needs listen, gw_login and gw_password: the "
                       "gateway connects there to deliver reports and uplink messages", k->name);
    return 0;
}

static int check_carrier(pctx *p, sms_config *c, const uint8_t *seen)
{
    if (c->n_carriers == 0)
        return 0;
    for (size_t i = 0; i < NKEYS; i++)
        if (strcmp(keys[i].section, "carrier") == 0 && keys[i].required && !seen[i])
            return fail(p, "[carrier %s] needs %s", c->carriers[c->n_carriers - 1].name,
                        keys[i].key);
    return check_carrier_fields(p, &c->carriers[c->n_carriers - 1]);
}

int sms_config_parse(sms_config *c, const char *name, const char *text, size_t len,
                     char err[SMS_CONFIG_ERR_MAX])
{
    pctx p = {name, 0, err};
    char section[64] = "";
    uint8_t seen[NKEYS] = {0};         /* keys seen outside carrier sections */
    uint8_t carrier_seen[NKEYS] = {0}; /* keys seen in the current carrier section */
    int seg_seen[SMS_OP_COUNT] = {0};
    int http_seen = 0, https_seen = 0;
    unsigned sections_seen = 0;
    size_t pos = 0;
    err[0] = '\0';
    while (pos < len) {
        char line[4096];
        size_t e = pos;
        while (e < len && text[e] != '\n')
            e++;
        p.line++;
        if (e - pos >= sizeof(line))
            return fail(&p, "line longer than %zu bytes", sizeof(line) - 1);
        if (memchr(text + pos, '\0', e - pos) != NULL)
            return fail(&p, "NUL byte");
        memcpy(line, text + pos, e - pos);
        line[e - pos] = '\0';
        pos = e + 1;
        char *hash = strchr(line, '#');
        if (hash != NULL)
            *hash = '\0';
        char *s = line;
        while (*s == ' ' || *s == '\t' || *s == '\r')
            s++;
        size_t l = strlen(s);
        while (l > 0 && (s[l - 1] == ' ' || s[l - 1] == '\t' || s[l - 1] == '\r'))
            s[--l] = '\0';
        if (l == 0)
            continue;
        if (s[0] == '[') {
            if (s[l - 1] != ']')
                return fail(&p, "a section is [name]");
            s[l - 1] = '\0';
            s++;
            if (check_carrier(&p, c, carrier_seen) != 0)
                return -1;
            if (strncmp(s, "carrier ", 8) == 0) {
                const char *cn = s + 8;
                while (*cn == ' ')
                    cn++;
                size_t cl = strlen(cn);
                if (cl == 0 || cl > 32 || strspn(cn, "abcdefghijklmnopqrstuvwxyz0123456789_-") != cl)
                    return fail(&p, "a carrier name is 1 to 32 of a-z 0-9 _ -");
                for (int i = 0; i < c->n_carriers; i++)
                    if (strcmp(c->carriers[i].name, cn) == 0)
                        return fail(&p, "[carrier %s] given twice", cn);
                if (c->n_carriers >= SMS_CONFIG_MAX_CARRIERS)
                    return fail(&p, "more than %d carriers", SMS_CONFIG_MAX_CARRIERS);
                sms_carrier_conf *k = &c->carriers[c->n_carriers++];
                memset(k, 0, sizeof(*k));
                k->name = xstrdup(cn);
                k->window = 16;
                k->connections = 1;
                sms_carrier_link_unset(&k->link);
                snprintf(section, sizeof(section), "carrier");
                memset(carrier_seen, 0, sizeof(carrier_seen));
                continue;
            }
            static const char *const known[] = {"sms", "http", "https", "log",
                                                "queue", "callback", "segments",
                                                "uplink", "platform"};
            size_t si;
            for (si = 0; si < HRSS_ARRAY_LEN(known); si++)
                if (strcmp(s, known[si]) == 0)
                    break;
            if (si == HRSS_ARRAY_LEN(known))
                return fail(&p, "unknown section [%s]", s);
            if (sections_seen & (1u << si))
                return fail(&p, "section [%s] given twice", s);
            sections_seen |= 1u << si;
            snprintf(section, sizeof(section), "%s", s);
            continue;
        }
        char *eq = strchr(s, '=');
        if (eq == NULL)
            return fail(&p, "expected key = value");
        char *k = s, *v = eq + 1;
        *eq = '\0';
        size_t kl = strlen(k);
        while (kl > 0 && (k[kl - 1] == ' ' || k[kl - 1] == '\t'))
            k[--kl] = '\0';
        while (*v == ' ' || *v == '\t')
            v++;
        if (section[0] == '\0')
            return fail(&p, "key '%s' outside a section", k);
        if (strcmp(k, "listen") == 0 && (strcmp(section, "http") == 0 || strcmp(section, "https") == 0)) {
            int *flag = section[4] == 's' ? &https_seen : &http_seen;
            if (*flag)
                return fail(&p, "listen given twice");
            *flag = 1;
            if (section[4] == 's') {
                if (add_listen(&p, c->https_listen, &c->n_https_listen, v) != 0)
                    return -1;
            } else if (add_listen(&p, c->http_listen, &c->n_http_listen, v) != 0) {
                return -1;
            }
            continue;
        }
        if (strcmp(section, "segments") == 0) {
            sms_operator op = sms_operator_parse(k);
            char serr[160];
            if (op == SMS_OP_NONE)
                return fail(&p, "unknown key '%s' in [segments] (mobile, unicom, telecom, "
                                "broadnet)", k);
            if (seg_seen[op]++)
                return fail(&p, "%s given twice", k);
            if (sms_segments_set(&c->segments, op, v, serr, sizeof(serr)) != 0)
                return fail(&p, "%s", serr);
            continue;
        }
        size_t i;
        for (i = 0; i < NKEYS; i++)
            if (strcmp(keys[i].section, section) == 0 && strcmp(keys[i].key, k) == 0)
                break;
        if (i == NKEYS)
            return fail(&p, "unknown key '%s' in [%s]", k,
                        strcmp(section, "carrier") == 0 ? "carrier NAME" : section);
        int is_carrier = strcmp(section, "carrier") == 0;
        if (is_carrier ? carrier_seen[i] : seen[i])
            return fail(&p, "%s given twice", k);
        if (is_carrier)
            carrier_seen[i] = 1;
        else
            seen[i] = 1;
        void *base = is_carrier ? (void *)&c->carriers[c->n_carriers - 1] : (void *)c;
        if (keys[i].parse(&p, (char *)base + keys[i].off, v) != 0)
            return -1;
    }
    p.line = 0;
    if (check_carrier(&p, c, carrier_seen) != 0)
        return -1;
    for (size_t i = 0; i < NKEYS; i++)
        if (keys[i].required && strcmp(keys[i].section, "carrier") != 0 &&
            !seen[i])
            return fail(&p, "[%s] %s is required", keys[i].section, keys[i].key);
    if (c->n_http_listen + c->n_https_listen == 0)
        return fail(&p, "no listener: set [http] listen or [https] listen");
    if (c->n_https_listen > 0 && (c->tls_cert == NULL || c->tls_key == NULL))
        return fail(&p, "[https] listen needs cert and key");
    return 0;
}

int sms_config_load(sms_config *c, const char *path, char err[SMS_CONFIG_ERR_MAX])
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(err, SMS_CONFIG_ERR_MAX, "%s: cannot open", path);
        return -1;
    }
    size_t len = 0;
    int toobig = 0;
    char *text = read_stream(f, SMS_CONFIG_MAX_BYTES, &len, &toobig);
    fclose(f);
    if (text == NULL) {
        snprintf(err, SMS_CONFIG_ERR_MAX, "%s: %s", path,
                 toobig ? "larger than 256 KiB" : "read error");
        return -1;
    }
    int rc = sms_config_parse(c, path, text, len, err);
    free(text);
    return rc;
}

int sms_config_operators_served(const sms_config *c)
{
    int served = 0;
    for (int i = 0; i < c->n_carriers; i++)
        served |= c->carriers[i].fallback ? (1 << SMS_OP_COUNT) - 1 : c->carriers[i].operators;
    return served;
}
