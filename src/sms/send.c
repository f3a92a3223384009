/*
 * sms/send.c - parsing of send and status requests (send.h). JSON through
 * jansson with duplicate keys refused; forms by a small decoder of our own
 * (evhttp's leaves '+' undecoded). Field names follow the standard's
 * appName and the usual names of SMS platform interfaces; a few aliases
 * are accepted for older clients (docs/api.md).
 */
#include "send.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/util.h"
#include "common/xalloc.h"
#include "hrss/codes.h"

static const struct {
    int code;
    const char *text;
} code_texts[] = {
    {SMS_CODE_OK, "OK"},
    {SMS_CODE_MISSING, "请求参数缺失"},
    {SMS_CODE_FORMAT, "请求参数格式错误"},
    {SMS_CODE_BALANCE, "账户余额不足"},
    {SMS_CODE_IP, "IP没有权限"},
    {SMS_CODE_APP, "appName输入错误"},
    {SMS_CODE_ISLONG, "短信内容为长短信"},
    {SMS_CODE_PASSWORD, "客户端接入密码错误"},
    {SMS_CODE_TOO_LONG, "短信内容超过最大字数限制"},
    {SMS_CODE_BLACKLIST, "号码在黑名单中"},
    {SMS_CODE_SENSITIVE, "短信内容含有敏感词"},
    {SMS_CODE_OPERATOR, "号码所属运营商未开通"},
    {SMS_CODE_SYSTEM, "系统繁忙，请稍后重试"},
};

const char *sms_code_text(int code)
{
    for (size_t i = 0; i < HRSS_ARRAY_LEN(code_texts); i++)
        if (code_texts[i].code == code)
            return code_texts[i].text;
    return "未知错误";
}

void send_req_free(send_req *r)
{
    free(r->app);
    free(r->password);
    free(r->content);
    free(r->template_id);
    free(r->client_id);
    for (int i = 0; i < r->n_mobiles; i++)
        free(r->mobiles[i]);
    free(r->mobiles);
    for (int i = 0; i < r->n_vars; i++) {
        free(r->var_names[i]);
        free(r->var_values[i]);
    }
    for (int i = 0; i < r->n_ids; i++)
        free(r->ids[i]);
    memset(r, 0, sizeof(*r));
}

/* ---- field values, whatever the encoding ---- */

typedef struct field {
    const char *name;
    const char *alias;
} field;

enum {
    F_APP, F_PASSWORD, F_MOBILE, F_CONTENT, F_ISLONG, F_TEMPLATE, F_VARS, F_PRIORITY, F_TIME,
    F_CLIENT_ID, F_MSGID, F_COUNT
};

static const field fields[F_COUNT] = {
    [F_APP] = {"appName", "appname"},
    [F_PASSWORD] = {"password", "pwd"},
    [F_MOBILE] = {"mobile", "mobiles"},
    [F_CONTENT] = {"content", "msg"},
    [F_ISLONG] = {"islong", "isLong"},
    [F_TEMPLATE] = {"templateId", "template"},
    [F_VARS] = {"variables", "params"},
    [F_PRIORITY] = {"priority", NULL},
    [F_TIME] = {"sendTime", "scheduleTime"},
    [F_CLIENT_ID] = {"clientMsgId", "clientId"},
    [F_MSGID] = {"msgId", "msgIds"},
};

static int field_of(const char *key, size_t n)
{
    for (int i = 0; i < F_COUNT; i++)
        if ((strlen(fields[i].name) == n && memcmp(fields[i].name, key, n) == 0) ||
            (fields[i].alias != NULL && strlen(fields[i].alias) == n &&
             memcmp(fields[i].alias, key, n) == 0))
            return i;
    return -1;
}

#define FAIL(code, ...)                                                                         \
    do {                                                                                        \
        snprintf(msg, msglen, __VA_ARGS__);                                                     \
        return code;                                                                            \
    } while (0)

static int has_ctl(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 && s[i] != '\n' && s[i] != '\r' && s[i] != '\t')
            return 1;
    return 0;
}

/* splits "a,b;c d" into the mobile list */
static int add_mobiles(send_req *r, const char *s, size_t n, char *msg, size_t msglen)
{
    size_t i = 0;
    while (i < n) {
        while (i < n && (s[i] == ',' || s[i] == ';' || s[i] == ' '))
            i++;
        size_t b = i;
        while (i < n && s[i] != ',' && s[i] != ';' && s[i] != ' ')
            i++;
        if (i == b)
            break;
        if (r->n_mobiles >= SEND_MAX_MOBILES)
            FAIL(SMS_CODE_FORMAT, "mobile: more than %d numbers", SEND_MAX_MOBILES);
        if (i - b > 20)
            FAIL(SMS_CODE_FORMAT, "mobile: a number longer than 20 characters");
        if (r->mobiles == NULL) {
            r->mobiles = xcalloc(SEND_MAX_MOBILES, sizeof(char *));
        }
        r->mobiles[r->n_mobiles++] = xstrndup(s + b, i - b);
    }
    return SMS_CODE_OK;
}

static int small_int(const char *s, size_t n, int *out)
{
    if (n == 0 || n > 3)
        return -1;
    int neg = s[0] == '-', v = 0;
    for (size_t i = (size_t)neg; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    if (neg && n == 1)
        return -1;
    *out = neg ? -v : v;
    return 0;
}

static int add_id(send_req *r, const char *s, size_t n, char *msg, size_t msglen)
{
    if (n == 0 || n > 20 || strspn(s, "0123456789") < n)
        FAIL(SMS_CODE_FORMAT, "msgId: a platform message id is 1 to 20 digits");
    if (r->n_ids >= SEND_MAX_IDS)
        FAIL(SMS_CODE_FORMAT, "msgId: more than %d ids", SEND_MAX_IDS);
    r->ids[r->n_ids++] = xstrndup(s, n);
    return SMS_CODE_OK;
}

/* One scalar field given as text (from a form, or a JSON string/number). */
static int set_text(send_req *r, int f, const char *v, size_t n, char *msg, size_t msglen)
{
    char **slot = NULL;
    size_t max = 256;
    if (memchr(v, '\0', n) != NULL || !utf8_is_valid(v, n))
        FAIL(SMS_CODE_FORMAT, "%s: not valid UTF-8 text", fields[f].name);
    switch (f) {
    case F_APP:
        slot = &r->app;
        max = 64;
        break;
    case F_PASSWORD:
        slot = &r->password;
        max = 128;
        break;
    case F_CONTENT:
        slot = &r->content;
        max = SEND_MAX_CONTENT_BYTES;
        break;
    case F_TEMPLATE:
        slot = &r->template_id;
        max = 64;
        break;
    case F_CLIENT_ID:
        slot = &r->client_id;
        max = SEND_MAX_CLIENT_ID;
        if (n == 0 || strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                                "_-.:") < n)
            FAIL(SMS_CODE_FORMAT, "clientMsgId: 1 to 64 of A-Z a-z 0-9 _ - . :");
        break;
    case F_MOBILE:
        return add_mobiles(r, v, n, msg, msglen);
    case F_MSGID:
        for (size_t i = 0, b = 0; i <= n; i++)
            if (i == n || v[i] == ',') {
                if (i > b && add_id(r, v + b, i - b, msg, msglen) != SMS_CODE_OK)
                    return SMS_CODE_FORMAT;
                b = i + 1;
            }
        return SMS_CODE_OK;
    case F_ISLONG: {
        int x;
        r->islong = small_int(v, n, &x) == 0 && (x == 0 || x == 1) ? x : 2;
        return SMS_CODE_OK;
    }
    case F_PRIORITY: {
        int x;
        if (small_int(v, n, &x) != 0 || x < 0 || x > 2)
            FAIL(SMS_CODE_FORMAT, "priority: 0 (verification, replies), 1 (business) or 2 (bulk)");
        r->priority = x;
        return SMS_CODE_OK;
    }
    case F_TIME: {
        int64_t t;
        if (n == 0)
            return SMS_CODE_OK;
        if (hrss_time_parse(v, n, &t, NULL) != HRSS_OK)
            FAIL(SMS_CODE_FORMAT, "sendTime: YYYYMMDDHHMMSS (China Standard Time)");
        r->send_time = t;
        return SMS_CODE_OK;
    }
    default:
        FAIL(SMS_CODE_FORMAT, "%s: must be an object", fields[f].name);
    }
    if (n > max)
        FAIL(SMS_CODE_FORMAT, "%s: longer than %zu bytes", fields[f].name, max);
    if (f != F_CONTENT && has_ctl(v, n))
        FAIL(SMS_CODE_FORMAT, "%s: control characters", fields[f].name);
    if (f == F_CONTENT && memchr(v, '\0', n) != NULL)
        FAIL(SMS_CODE_FORMAT, "content: NUL character");
    if (*slot != NULL)
        FAIL(SMS_CODE_FORMAT, "%s given twice", fields[f].name);
    *slot = xstrndup(v, n);
    return SMS_CODE_OK;
}

static int add_var(send_req *r, const char *k, size_t kn, const char *v, size_t vn, char *msg,
                   size_t msglen)
{
    if (r->n_vars >= SEND_MAX_VARS)
        FAIL(SMS_CODE_FORMAT, "variables: more than %d", SEND_MAX_VARS);
    if (kn == 0 || kn > 32 ||
        strspn(k, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") < kn)
        FAIL(SMS_CODE_FORMAT, "variables: a name is 1 to 32 of A-Z a-z 0-9 _");
    if (vn > 512 || memchr(v, '\0', vn) != NULL || !utf8_is_valid(v, vn))
        FAIL(SMS_CODE_FORMAT, "variables: a value is UTF-8 text of at most 512 bytes");
    r->var_names[r->n_vars] = xstrndup(k, kn);
    r->var_values[r->n_vars] = xstrndup(v, vn);
    r->n_vars++;
    return SMS_CODE_OK;
}

/* ---- JSON ---- */

static int json_scalar(send_req *r, int f, json_t *v, char *msg, size_t msglen)
{
    char num[32];
    if (json_is_string(v))
        return set_text(r, f, json_string_value(v), json_string_length(v), msg, msglen);
    if (json_is_integer(v)) {
        int n = snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v));
        return set_text(r, f, num, (size_t)n, msg, msglen);
    }
    if (json_is_null(v))
        return SMS_CODE_OK;
    FAIL(SMS_CODE_FORMAT, "%s: must be a string", fields[f].name);
}

/*
 * The usual body without building a jansson tree: one flat object whose
 * keys are field names (no escapes), each given once, and whose values are
 * strings without escapes or control characters, or integers. The whole
 * body is checked before any field is taken, and the fields are then taken
 * in the order jansson would give them (the order of the body), so the
 * answer is the one parse_json gives. Anything else (an escape, an array,
 * a nested object, true/false/null, a fraction, an unknown or repeated
 * key, "variables", bytes that are not UTF-8) returns FAST_NO and the body
 * goes to jansson.
 */
#define FAST_NO (-1000)
#define FAST_MAX_FIELDS 16

static size_t skip_ws(const char *b, size_t i, size_t len)
{
    while (i < len && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r'))
        i++;
    return i;
}

/* a string at b[i] == '"' without escapes or control characters: its end */
static int plain_string(const char *b, size_t len, size_t *i, const char **v, size_t *n)
{
    size_t k = *i + 1;
    while (k < len && b[k] != '"') {
        if (b[k] == '\\' || (unsigned char)b[k] < 0x20)
            return -1;
        k++;
    }
    if (k >= len)
        return -1;
    *v = b + *i + 1;
    *n = k - *i - 1;
    *i = k + 1;
    return 0;
}

static int parse_json_fast(send_req *r, const char *b, size_t len, char *msg, size_t msglen)
{
    struct {
        int f;
        const char *key, *v;
        size_t kn, n;
        int num;
    } got[FAST_MAX_FIELDS];
    int n_got = 0;
    size_t i = skip_ws(b, 0, len);
    if (i >= len || b[i] != '{')
        return FAST_NO;
    i = skip_ws(b, i + 1, len);
    if (i < len && b[i] == '}') {
        i++;
    } else {
        for (;;) {
            const char *key, *v;
            size_t kn, n;
            if (i >= len || b[i] != '"' || plain_string(b, len, &i, &key, &kn) != 0)
                return FAST_NO;
            int f = field_of(key, kn);
            if (f < 0 || f == F_VARS || n_got == FAST_MAX_FIELDS)
                return FAST_NO;
            for (int k = 0; k < n_got; k++)
                if (got[k].kn == kn && memcmp(got[k].key, key, kn) == 0)
                    return FAST_NO; /* jansson refuses it with its own words */
            i = skip_ws(b, i, len);
            if (i >= len || b[i] != ':')
                return FAST_NO;
            i = skip_ws(b, i + 1, len);
            int num = 0;
            if (i < len && b[i] == '"') {
                if (plain_string(b, len, &i, &v, &n) != 0 || !utf8_is_valid(v, n))
                    return FAST_NO;
            } else {
                /* an integer as JSON writes it: -?(0|[1-9][0-9]*), at most 18 digits */
                size_t k = i + (i < len && b[i] == '-');
                size_t d = k;
                while (k < len && b[k] >= '0' && b[k] <= '9')
                    k++;
                if (k == d || k - d > 18 || (b[d] == '0' && k - d > 1) ||
                    (b[i] == '-' && k - d == 1 && b[d] == '0') ||
                    (k < len && (b[k] == '.' || b[k] == 'e' || b[k] == 'E')))
                    return FAST_NO;
                v = b + i;
                n = k - i;
                i = k;
                num = 1;
            }
            got[n_got].f = f;
            got[n_got].key = key;
            got[n_got].kn = kn;
            got[n_got].v = v;
            got[n_got].n = n;
            got[n_got].num = num;
            n_got++;
            i = skip_ws(b, i, len);
            if (i < len && b[i] == ',') {
                i = skip_ws(b, i + 1, len);
                continue;
            }
            if (i < len && b[i] == '}') {
                i++;
                break;
            }
            return FAST_NO;
        }
    }
    if (skip_ws(b, i, len) != len)
        return FAST_NO;
    for (int k = 0; k < n_got; k++) {
        int code;
        if (got[k].num) {
            char num[24];
            memcpy(num, got[k].v, got[k].n);
            num[got[k].n] = '\0';
            code = set_text(r, got[k].f, num, got[k].n, msg, msglen);
        } else {
            code = set_text(r, got[k].f, got[k].v, got[k].n, msg, msglen);
        }
        if (code != SMS_CODE_OK)
            return code;
    }
    return SMS_CODE_OK;
}

static int parse_json(send_req *r, const char *body, size_t len, char *msg, size_t msglen)
{
    int fast = parse_json_fast(r, body, len, msg, msglen);
    if (fast != FAST_NO)
        return fast;
    /* nothing was taken: the fast path looks at the whole body first */
    json_error_t je;
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
    int code = SMS_CODE_OK;
    if (root == NULL || !json_is_object(root)) {
        json_decref(root);
        FAIL(SMS_CODE_FORMAT, "body: not a JSON object");
    }
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v)
    {
        int f = field_of(key, strlen(key));
        if (f < 0)
            continue; /* unknown fields are ignored, for forward compatibility */
        if ((f == F_MOBILE || f == F_MSGID) && json_is_array(v)) {
            size_t i;
            json_t *e;
            json_array_foreach(v, i, e)
            {
                if (!json_is_string(e)) {
                    snprintf(msg, msglen, "%s: an array of strings", fields[f].name);
                    code = SMS_CODE_FORMAT;
                    break;
                }
                if ((code = set_text(r, f, json_string_value(e), json_string_length(e), msg,
                                     msglen)) != SMS_CODE_OK)
                    break;
            }
        } else if (f == F_VARS) {
            const char *vk;
            json_t *vv;
            if (!json_is_object(v)) {
                snprintf(msg, msglen, "variables: must be an object of strings");
                code = SMS_CODE_FORMAT;
            } else {
                json_object_foreach(v, vk, vv)
                {
                    if (!json_is_string(vv)) {
                        snprintf(msg, msglen, "variables: must be an object of strings");
                        code = SMS_CODE_FORMAT;
                        break;
                    }
                    if ((code = add_var(r, vk, strlen(vk), json_string_value(vv),
                                        json_string_length(vv), msg, msglen)) != SMS_CODE_OK)
                        break;
                }
            }
        } else {
            code = json_scalar(r, f, v, msg, msglen);
        }
        if (code != SMS_CODE_OK)
            break;
    }
    json_decref(root);
    return code;
}

/* ---- forms ---- */

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* decodes s[0..n) into out (at least n bytes); -1 on a bad escape */
static int form_decode(const char *s, size_t n, char *out, size_t *outn)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '+') {
            out[o++] = ' ';
        } else if (s[i] == '%') {
            if (i + 2 >= n)
                return -1;
            int h = hexval(s[i + 1]), l = hexval(s[i + 2]);
            if (h < 0 || l < 0)
                return -1;
            out[o++] = (char)(h * 16 + l);
            i += 2;
        } else {
            out[o++] = s[i];
        }
    }
    *outn = o;
    return 0;
}

static int parse_form(send_req *r, const char *body, size_t len, char *msg, size_t msglen)
{
    char *buf = malloc(len + 1);
    int code = SMS_CODE_OK;
    if (buf == NULL)
        xalloc_die();
    size_t i = 0;
    while (i < len && code == SMS_CODE_OK) {
        size_t b = i;
        while (i < len && body[i] != '&')
            i++;
        const char *pair = body + b;
        size_t pn = i - b;
        i++;
        if (pn == 0)
            continue;
        const char *eq = memchr(pair, '=', pn);
        size_t kn = eq ? (size_t)(eq - pair) : pn;
        char key[64];
        size_t klen, vlen;
        if (kn >= sizeof(key) || form_decode(pair, kn, key, &klen) != 0)
            continue; /* no field has such a name */
        int f = field_of(key, klen);
        if (f < 0)
            continue;
        const char *v = eq ? eq + 1 : pair + pn;
        size_t vn = (size_t)(pair + pn - v);
        if (form_decode(v, vn, buf, &vlen) != 0) {
            snprintf(msg, msglen, "%s: bad percent-encoding", fields[f].name);
            code = SMS_CODE_FORMAT;
            break;
        }
        buf[vlen] = '\0';
        if (f == F_VARS) { /* a JSON object in one field */
            json_error_t je;
            json_t *o = json_loadb(buf, vlen, JSON_REJECT_DUPLICATES, &je);
            const char *vk;
            json_t *vv;
            if (!json_is_object(o)) {
                snprintf(msg, msglen, "variables: a JSON object of strings");
                code = SMS_CODE_FORMAT;
            } else {
                json_object_foreach(o, vk, vv)
                {
                    if (!json_is_string(vv)) {
                        snprintf(msg, msglen, "variables: a JSON object of strings");
                        code = SMS_CODE_FORMAT;
                        break;
                    }
                    if ((code = add_var(r, vk, strlen(vk), json_string_value(vv),
                                        json_string_length(vv), msg, msglen)) != SMS_CODE_OK)
                        break;
                }
            }
            json_decref(o);
        } else {
            code = set_text(r, f, buf, vlen, msg, msglen);
        }
    }
    free(buf);
    return code;
}

int send_parse(send_kind kind, const char *content_type, const char *body, size_t len,
               send_req *r, char *msg, size_t msglen)
{
    memset(r, 0, sizeof(*r));
    r->islong = -1;
    r->priority = 1;
    msg[0] = '\0';
    int json;
    if (content_type != NULL && strncmp(content_type, "application/json", 16) == 0)
        json = 1;
    else if (content_type != NULL &&
             strncmp(content_type, "application/x-www-form-urlencoded", 33) == 0)
        json = 0;
    else {
        size_t i = 0;
        while (i < len && (body[i] == ' ' || body[i] == '\n' || body[i] == '\r' || body[i] == '\t'))
            i++;
        json = i < len && body[i] == '{';
    }
    int code = json ? parse_json(r, body, len, msg, msglen) : parse_form(r, body, len, msg, msglen);
    if (code != SMS_CODE_OK)
        return code;
    if (r->app == NULL || r->app[0] == '\0')
        FAIL(SMS_CODE_MISSING, "appName is missing");
    if (r->password == NULL || r->password[0] == '\0')
        FAIL(SMS_CODE_MISSING, "password is missing");
    if (kind == SEND_KIND_STATUS) {
        if (r->n_ids == 0)
            FAIL(SMS_CODE_MISSING, "msgId is missing");
        return SMS_CODE_OK;
    }
    if (r->n_mobiles == 0)
        FAIL(SMS_CODE_MISSING, "mobile is missing");
    if ((r->content == NULL || r->content[0] == '\0') && r->template_id == NULL)
        FAIL(SMS_CODE_MISSING, "content (or templateId) is missing");
    if (r->content != NULL && r->content[0] != '\0' && r->template_id != NULL)
        FAIL(SMS_CODE_FORMAT, "give content or templateId, not both");
    return SMS_CODE_OK;
}

char *send_expand(const char *tmpl, const send_req *r, char *msg, size_t msglen)
{
    hrss_buf b;
    buf_init(&b, SEND_MAX_CONTENT_BYTES);
    const char *s = tmpl;
    while (*s != '\0') {
        const char *open = strstr(s, "${");
        const char *close = open ? strchr(open + 2, '}') : NULL;
        if (open == NULL || close == NULL) {
            if (buf_append_str(&b, s) != 0)
                goto toolong;
            break;
        }
        if (buf_append(&b, s, (size_t)(open - s)) != 0)
            goto toolong;
        size_t kn = (size_t)(close - open - 2);
        int i;
        for (i = 0; i < r->n_vars; i++)
            if (strlen(r->var_names[i]) == kn && memcmp(r->var_names[i], open + 2, kn) == 0)
                break;
        if (i == r->n_vars) {
            snprintf(msg, msglen, "variables: '%.*s' is missing", (int)(kn > 32 ? 32 : kn),
                     open + 2);
            buf_free(&b);
            return NULL;
        }
        if (buf_append_str(&b, r->var_values[i]) != 0)
            goto toolong;
        s = close + 1;
    }
    if (b.len == 0) {
        snprintf(msg, msglen, "content: the template gives an empty text");
        buf_free(&b);
        return NULL;
    }
    size_t n;
    return buf_detach(&b, &n);
toolong:
    snprintf(msg, msglen, "content: longer than %d bytes", SEND_MAX_CONTENT_BYTES);
    buf_free(&b);
    return NULL;
}
