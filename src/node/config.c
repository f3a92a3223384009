/*
 * node/config.c - strict parser of the hrss-node configuration file
 * (config.h). Keys are declared in one table (section, name, parser,
 * field), as nginx modules declare their directives, so adding a key is one
 * line plus its documentation. Every error names FILE:LINE and says what
 * would be accepted; the first error stops the parse.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "common/xalloc.h"
#include "hrss/codes.h"
#include "store/replay_redis.h"

typedef struct parse_ctx {
    const char *name;
    int line;
    char *err;
} parse_ctx;

typedef int (*key_parse_fn)(parse_ctx *p, node_config *c, size_t off, const char *v);

typedef struct key_def {
    const char *section;
    const char *key;
    key_parse_fn parse;
    size_t off;
    int required;
} key_def;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static int fail(parse_ctx *p, const char *fmt, ...)
{
    int n;
    if (p->line > 0)
        n = snprintf(p->err, NODE_CONFIG_ERR_MAX, "%s:%d: ", p->name, p->line);
    else
        n = snprintf(p->err, NODE_CONFIG_ERR_MAX, "%s: ", p->name);
    if (n < 0 || n >= NODE_CONFIG_ERR_MAX - 1)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->err + n, NODE_CONFIG_ERR_MAX - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

/* Unsigned decimal integer with an optional unit from units[] (each a
 * suffix and its multiplier); the value times the multiplier must fit in
 * [min, max]. */
typedef struct unit {
    const char *suffix;
    int64_t mult;
} unit;

static int parse_scaled(const char *v, const unit *units, size_t nunits, int64_t min,
                        int64_t max, int64_t *out)
{
    const char *s = v;
    int64_t n = 0;
    if (*s < '0' || *s > '9')
        return -1;
    while (*s >= '0' && *s <= '9') {
        if (n > (INT64_MAX - 9) / 10)
            return -1;
        n = n * 10 + (*s - '0');
        s++;
    }
    int64_t mult = 0;
    for (size_t i = 0; i < nunits; i++)
        if (strcmp(s, units[i].suffix) == 0)
            mult = units[i].mult;
    if (mult == 0 || n > INT64_MAX / mult)
        return -1;
    n *= mult;
    if (n < min || n > max)
        return -1;
    *out = n;
    return 0;
}

static const unit duration_units[] = {
    {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000}};
static const unit size_units[] = {{"", 1}, {"K", 1024}, {"M", 1024 * 1024}};

static int fmt_duration_limits(parse_ctx *p, const char *v, int64_t min_ms, int64_t max_ms)
{
    return fail(p,
                "'%s' is not a duration from %" PRId64 " ms to %" PRId64
                " ms (a number with a unit: ms, s, m, h, d; e.g. 30s, 15m)",
                v, min_ms, max_ms);
}

#define FIELD(c, off, type) ((type *)((char *)(c) + (off)))

static int parse_system_code(parse_ctx *p, node_config *c, size_t off, const char *v)
{
    hrss_error e;
    if (hrss_system_code_check(v, strlen(v), &e) != HRSS_OK)
        return fail(p, "'%s' is not a system code: %s", v, e.msg);
    snprintf(FIELD(c, off, char), HRSS_SYSTEM_CODE_LEN + 1, "%s", v);
    return 0;
}

static int parse_area(parse_ctx *p, node_config *c, size_t off, const char *v)
{
    hrss_error e;
    if (hrss_area_code_check(v, strlen(v), &e) != HRSS_OK)
        return fail(p, "'%s' is not an area code: %s", v, e.msg);
    snprintf(FIELD(c, off, char), HRSS_AREA_CODE_LEN + 1, "%s", v);
    return 0;
}

static int parse_path(parse_ctx *p, node_config *c, size_t off, const char *v)
{
    if (v[0] != '/')
        return fail(p, "'%s' is not an absolute path", v);
    char **dst = FIELD(c, off, char *);
    free(*dst);
    *dst = xstrdup(v);
    return 0;
}

/* "memory" (the default, NULL) or a redis:// URL (store/replay_redis.h). */
static int parse_replay_store(parse_ctx *p, node_config *c, size_t off, const char *v)
{
    char **dst = FIELD(c, off, char *);
    free(*dst);
    *dst = NULL;
    if (strcmp(v, "memory") == 0)
        return 0;
    replay_redis_config rc;
    char buf[1024];
    hrss_error e = {0};
    if (replay_redis_parse_url(v, &rc, buf, sizeof(buf), &e) != HRSS_OK)
        return fail(p, "replay_store: 'memory' or redis://[:PASSWORD@]HOST[:PORT][/PREFIX]: %s",
                    e.msg);
    *dst = xstrdup(v);
    return 0;
}

static int parse_workers(parse_ctx *p, node_config *c, size_t off, const char *v)
{
    if (strcmp(v, "auto") == 0)
        return 0; /* the default set by node_config_init */
    int64_t n;
    if (parse_scaled(v, size_units, 1, 1, 256, &n) != 0)
        return fail(p, "'%s' is not a worker count: 'auto' or 1 to 256", v);
    *FIELD(c, off, int) = (int)n;
    return 0;
}

static int parse_drain(parse_ctx *p, node_config *c, size_t off, const char *v)
{
    int64_t n;
    if (parse_scaled(v, duration_units, HRSS_ARRAY_LEN(duration_units), 0, 600000, &n) != 0)
        return fmt_duration_limits(p, v, 0, 600000);
    *FIELD(c, off, int) = (int)n;
    return 0;
}

static int parse_idle(parse_ctx *p, node_config *c, size_t off, const char *v)
{
    int64_t n;
    /* libevent's timeouts are whole seconds */
    if (parse_scaled(v, duration_units + 1, HRSS_ARRAY_LEN(duration_units) - 1, 1000, 3600000,
                     &n) != 0 ||
        n % 1000 != 0)
        return fail(p, "'%s' is not a whole number of seconds from 1s to 1h (e.g. 60s, 5m)", v);
    *FIELD(c, off, int) = (int)(n / 1000);
    return 0;
}

static int parse_window(parse_ctx *p, node_config *c, size_t off, const char *v)
{
    int64_t n;
    if (parse_scaled(v, duration_units, HRSS_ARRAY_LEN(duration_units), 1000, 3600000, &n) !=
            0 ||
        n % 1000 != 0)
        return fail(p, "'%s' is not a whole number of seconds from 1s to 1h (e.g. 15m)", v);
    *FIELD(c, off, int64_t) = n / 1000;
    return 0;
}

static int parse_retention(parse_ctx *p, node_config *c, size_t off, const char *v)
{
    int64_t n;
    const int64_t max = INT64_C(3650) * 86400000;
    if (parse_scaled(v, duration_units, HRSS_ARRAY_LEN(duration_units), 3600000, max, &n) !=
            0 ||
        n % 1000 != 0)
        return fail(p, "'%s' is not a retention from 1h to 3650d (e.g. 180d)", v);
    *FIELD(c, off, int64_t) = n / 1000;
    return 0;
}

static int parse_count(parse_ctx *p, node_config *c, size_t off, const char *v)
{
    int64_t n;
    if (parse_scaled(v, size_units, 1, 1, 100000000, &n) != 0)
        return fail(p, "'%s' is not a count from 1 to 100000000", v);
    *FIELD(c, off, size_t) = (size_t)n;
    return 0;
}

static int parse_failures(parse_ctx *p, node_config *c, size_t off, const char *v)
{
    int64_t n;
    if (parse_scaled(v, size_units, 1, 1, 1000, &n) != 0)
        return fail(p, "'%s' is not a failure count from 1 to 1000", v);
    *FIELD(c, off, int) = (int)n;
    return 0;
}

static int parse_cooldown(parse_ctx *p, node_config *c, size_t off, const char *v)
{
    int64_t n;
    if (parse_scaled(v, duration_units, HRSS_ARRAY_LEN(duration_units), 10, 3600000, &n) != 0)
        return fmt_duration_limits(p, v, 10, 3600000);
    *FIELD(c, off, int) = (int)n;
    return 0;
}

static int parse_body_limit(parse_ctx *p, node_config *c, size_t off, const char *v)
{
    int64_t n;
    if (parse_scaled(v, size_units, HRSS_ARRAY_LEN(size_units), 1024, 64 * 1024 * 1024, &n) !=
        0)
        return fail(p, "'%s' is not a size from 1K to 64M (bytes, or a number with K or M)", v);
    *FIELD(c, off, size_t) = (size_t)n;
    return 0;
}

static int parse_bool(parse_ctx *p, node_config *c, size_t off, const char *v)
{
    if (strcmp(v, "on") == 0 || strcmp(v, "yes") == 0 || strcmp(v, "true") == 0)
        *FIELD(c, off, int) = 1;
    else if (strcmp(v, "off") == 0 || strcmp(v, "no") == 0 || strcmp(v, "false") == 0)
        *FIELD(c, off, int) = 0;
    else
        return fail(p, "'%s' is not on/off (or yes/no, true/false)", v);
    return 0;
}

static int parse_log_level(parse_ctx *p, node_config *c, size_t off, const char *v)
{
    for (int l = NODE_LOG_ERROR; l <= NODE_LOG_DEBUG; l++)
        if (strcmp(v, node_log_level_name((node_log_level)l)) == 0) {
            *FIELD(c, off, node_log_level) = (node_log_level)l;
            return 0;
        }
    return fail(p, "'%s' is not a log level: error, warn, info or debug", v);
}

/* host:port with host an IPv4 address, [IPv6], or a name; port 0..65535. */
static int listen_addr_is_valid(const char *a)
{
    const char *colon;
    if (a[0] == '[') {
        const char *close = strchr(a, ']');
        if (close == NULL || close == a + 1 || close[1] != ':')
            return 0;
        colon = close + 1;
    } else {
        colon = strrchr(a, ':');
        if (colon == NULL || colon == a || memchr(a, ':', (size_t)(colon - a)) != NULL)
            return 0;
        for (const char *s = a; s < colon; s++)
            if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'z') ||
                  (*s >= 'A' && *s <= 'Z') || *s == '.' || *s == '-' || *s == '*'))
                return 0;
    }
    int64_t port;
    return parse_scaled(colon + 1, size_units, 1, 0, 65535, &port) == 0;
}

/* A comma-separated list of listen addresses. The field is the array; its
 * count follows it in the struct for both http and https. */
static int parse_listen(parse_ctx *p, node_config *c, size_t off, const char *v)
{
    char **arr = FIELD(c, off, char *);
    int *n = (int *)(arr + NODE_CONFIG_MAX_LISTEN);
    const char *s = v;
    while (*s != '\0') {
        const char *end = strchr(s, ',');
        size_t len = end ? (size_t)(end - s) : strlen(s);
        while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
            len--;
        char item[256];
        if (len == 0 || len >= sizeof(item))
            return fail(p, "empty or overlong address in the list '%s'", v);
        memcpy(item, s, len);
        item[len] = '\0';
        if (!listen_addr_is_valid(item))
            return fail(p, "'%s' is not a listen address: HOST:PORT, [IPV6]:PORT or *:PORT",
                        item);
        if (*n >= NODE_CONFIG_MAX_LISTEN)
            return fail(p, "more than %d listen addresses", NODE_CONFIG_MAX_LISTEN);
        arr[(*n)++] = xstrdup(item);
        if (end == NULL)
            break;
        s = end + 1;
        while (*s == ' ' || *s == '\t')
            s++;
        if (*s == '\0')
            return fail(p, "trailing comma in the list '%s'", v);
    }
    return 0;
}

#define OFF(f) offsetof(node_config, f)

static const key_def keys[] = {
    {"node", "system_code", parse_system_code, OFF(system_code), 1},
    {"node", "area", parse_area, OFF(area), 1},
    {"node", "data_dir", parse_path, OFF(data_dir), 1},
    {"node", "workers", parse_workers, OFF(workers), 0},
    {"node", "drain_timeout", parse_drain, OFF(drain_timeout_ms), 0},
    {"http", "listen", parse_listen, OFF(http_listen), 0},
    {"http", "body_limit", parse_body_limit, OFF(body_limit), 0},
    {"http", "idle_timeout", parse_idle, OFF(idle_timeout_sec), 0},
    {"https", "listen", parse_listen, OFF(https_listen), 0},
    {"https", "cert", parse_path, OFF(tls_cert), 0},
    {"https", "key", parse_path, OFF(tls_key), 0},
    {"log", "level", parse_log_level, OFF(log_level), 0},
    {"log", "access", parse_bool, OFF(log_access), 0},
    {"security", "replay_window", parse_window, OFF(replay_window_sec), 0},
    {"security", "replay_max_entries", parse_count, OFF(replay_max_entries), 0},
    {"security", "replay_store", parse_replay_store, OFF(replay_store), 0},
    {"upstream", "breaker_failures", parse_failures, OFF(breaker_failures), 0},
    {"upstream", "breaker_cooldown", parse_cooldown, OFF(breaker_cooldown_ms), 0},
    {"upstream", "ca_file", parse_path, OFF(upstream_ca_file), 0},
    {"audit", "retention", parse_retention, OFF(audit_retention_sec), 0},
};

_Static_assert(offsetof(node_config, n_http_listen) ==
                   offsetof(node_config, http_listen) + NODE_CONFIG_MAX_LISTEN * sizeof(char *),
               "parse_listen finds the count right after the array");
_Static_assert(offsetof(node_config, n_https_listen) ==
                   offsetof(node_config, https_listen) + NODE_CONFIG_MAX_LISTEN * sizeof(char *),
               "parse_listen finds the count right after the array");

static const char *const sections[] = {"node",     "http",     "https", "log",
                                       "security", "upstream", "audit"};

void node_config_init(node_config *c)
{
    memset(c, 0, sizeof(*c));
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    c->workers = cores < 1 ? 1 : cores > 256 ? 256 : (int)cores;
    c->drain_timeout_ms = 30000;
    c->body_limit = 1024 * 1024;
    c->idle_timeout_sec = 60;
    c->log_level = NODE_LOG_INFO;
    c->log_access = 1;
    c->replay_window_sec = 15 * 60;
    c->replay_max_entries = 1000000;
    c->breaker_failures = 5;
    c->breaker_cooldown_ms = 10000;
    c->audit_retention_sec = INT64_C(180) * 86400;
}

void node_config_free(node_config *c)
{
    free(c->data_dir);
    free(c->tls_cert);
    free(c->tls_key);
    free(c->upstream_ca_file);
    free(c->replay_store);
    for (int i = 0; i < c->n_http_listen; i++)
        free(c->http_listen[i]);
    for (int i = 0; i < c->n_https_listen; i++)
        free(c->https_listen[i]);
    node_config_init(c);
}

static int is_name_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_';
}

static int check_complete(parse_ctx *p, const node_config *c, const int *seen_line)
{
    p->line = 0;
    for (size_t i = 0; i < HRSS_ARRAY_LEN(keys); i++)
        if (keys[i].required && seen_line[i] == 0)
            return fail(p, "missing required key '%s' in [%s]", keys[i].key, keys[i].section);
    if (c->n_http_listen == 0 && c->n_https_listen == 0)
        return fail(p, "no listener: set listen in [http] or [https]");
    if (c->n_https_listen > 0 && (c->tls_cert == NULL || c->tls_key == NULL))
        return fail(p, "[https] listen needs both cert and key");
    if (c->n_https_listen == 0 && (c->tls_cert != NULL || c->tls_key != NULL))
        return fail(p, "[https] cert and key are set but there is no [https] listen");
    if (strcmp(c->area, HRSS_MINISTRY_AREA) == 0 || c->system_code[0] == 'B') {
        /* a ministry node serves 100000 and has a ministry (B) system code */
        if (strcmp(c->area, HRSS_MINISTRY_AREA) != 0 || c->system_code[0] != 'B')
            return fail(p, "system_code %s does not belong to area %s", c->system_code,
                        c->area);
    } else if (memcmp(c->system_code + 1, c->area, HRSS_AREA_CODE_LEN) != 0) {
        return fail(p, "system_code %s does not belong to area %s", c->system_code, c->area);
    }
    return 0;
}

int node_config_parse(node_config *c, const char *name, const char *text, size_t len,
                      char err[NODE_CONFIG_ERR_MAX])
{
    parse_ctx p = {name, 0, err};
    int seen_line[HRSS_ARRAY_LEN(keys)] = {0};
    int section_line[HRSS_ARRAY_LEN(sections)] = {0};
    const char *section = NULL;
    char line[NODE_CONFIG_LINE_MAX + 1];
    size_t pos = 0;

    err[0] = '\0';
    if (memchr(text, '\0', len) != NULL)
        return fail(&p, "contains a NUL byte: not a text file");
    if (!utf8_is_valid(text, len))
        return fail(&p, "not valid UTF-8");
    while (pos < len) {
        p.line++;
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
        if (n > NODE_CONFIG_LINE_MAX)
            return fail(&p, "line longer than %d bytes", NODE_CONFIG_LINE_MAX);
        memcpy(line, text + pos, n);
        line[n] = '\0';
        pos += n + (nl != NULL);

        /* a comment runs from # to the end of the line; values never hold # */
        char *hash = strchr(line, '#');
        if (hash != NULL)
            *hash = '\0';
        char *s = line;
        while (*s == ' ' || *s == '\t')
            s++;
        char *e = s + strlen(s);
        while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
            *--e = '\0';
        if (*s == '\0')
            continue;

        if (*s == '[') {
            if (e[-1] != ']')
                return fail(&p, "a section header is [name]");
            e[-1] = '\0';
            const char *sec = s + 1;
            size_t i;
            for (i = 0; i < HRSS_ARRAY_LEN(sections); i++)
                if (strcmp(sec, sections[i]) == 0)
                    break;
            if (i == HRSS_ARRAY_LEN(sections))
                return fail(&p,
                            "unknown section [%s] (known: node, http, https, log, security, "
                            "upstream, audit)",
                            sec);
            if (section_line[i] != 0)
                return fail(&p, "section [%s] already opened at line %d", sec,
                            section_line[i]);
            section_line[i] = p.line;
            section = sections[i];
            continue;
        }

        char *k = s;
        while (is_name_char(*s))
            s++;
        char *kend = s;
        while (*s == ' ' || *s == '\t')
            s++;
        if (kend == k || *s != '=')
            return fail(&p, "expected 'key = value', a [section] or a # comment");
        *kend = '\0';
        s++;
        while (*s == ' ' || *s == '\t')
            s++;
        if (section == NULL)
            return fail(&p, "key '%s' before any [section]", k);
        size_t i;
        for (i = 0; i < HRSS_ARRAY_LEN(keys); i++)
            if (strcmp(keys[i].section, section) == 0 && strcmp(keys[i].key, k) == 0)
                break;
        if (i == HRSS_ARRAY_LEN(keys))
            return fail(&p, "unknown key '%s' in [%s]", k, section);
        if (seen_line[i] != 0)
            return fail(&p, "duplicate key '%s' in [%s] (first set at line %d)", k, section,
                        seen_line[i]);
        seen_line[i] = p.line;
        if (*s == '\0')
            return fail(&p, "key '%s' has no value", k);
        if (keys[i].parse(&p, c, keys[i].off, s) != 0)
            return -1;
    }
    return check_complete(&p, c, seen_line);
}

int node_config_load(node_config *c, const char *path, char err[NODE_CONFIG_ERR_MAX])
{
    int rc = -1;
    char *text = NULL;
    size_t len = 0;
    int toobig = 0;
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(err, NODE_CONFIG_ERR_MAX, "%s: %s", path, strerror(errno));
        goto done;
    }
    text = read_stream(f, NODE_CONFIG_MAX_BYTES, &len, &toobig);
    if (text == NULL) {
        snprintf(err, NODE_CONFIG_ERR_MAX, "%s: %s", path,
                 toobig ? "larger than 256 KiB" : "read error");
        goto done;
    }
    rc = node_config_parse(c, path, text, len, err);
done:
    if (f != NULL)
        fclose(f);
    free(text);
    return rc;
}
