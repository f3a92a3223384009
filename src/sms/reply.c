/*
 * reply.c - reply templates of hrss-sms: loading, checking and rendering
 * ${name} placeholders. See reply.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/util.h"
#include "common/xalloc.h"

#include "reply.h"

#define REPLY_FILE_MAX (256 * 1024)
#define VAR_NAME_MAX 32

struct sms_replies {
    json_t *obj; /* name -> template, every value a checked string */
};

/* Scans a placeholder at s ("${" already seen at s[-2..-1]); returns the
 * length of the name, or -1 when malformed ('}' missing, empty name, or
 * characters other than [A-Za-z0-9_.]: names of a response's fields such
 * as cardStatus or data.balance are allowed). */
static int var_name_len(const char *s)
{
    int n = 0;
    while (s[n] != '}') {
        char c = s[n];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.') ||
            n >= VAR_NAME_MAX)
            return -1;
        n++;
    }
    return n > 0 ? n : -1;
}

/* Checks a template; fills err with the rule it breaks. */
static int tmpl_check(const char *t, size_t max_chars, char *err, size_t errlen)
{
    size_t fixed = 0;
    if (!utf8_is_valid(t, strlen(t))) {
        snprintf(err, errlen, "not valid UTF-8");
        return -1;
    }
    for (const char *p = t; *p;) {
        if (p[0] == '$' && p[1] == '{') {
            int n = var_name_len(p + 2);
            if (n < 0) {
                snprintf(err, errlen, "malformed placeholder (want ${name}, name of A-Za-z0-9_.)");
                return -1;
            }
            p += 2 + n + 1;
            continue;
        }
        size_t step = 1;
        while ((p[step] & 0xc0) == 0x80)
            step++;
        fixed++;
        p += step;
    }
    if (max_chars > 0 && fixed > max_chars) {
        snprintf(err, errlen, "%zu characters without its values, at most %zu", fixed, max_chars);
        return -1;
    }
    return 0;
}

sms_replies *sms_replies_load(const char *file, const char *text, size_t len,
                              const char *const *required, size_t max_chars, char *err)
{
    json_error_t je;
    json_t *obj = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    const char *key;
    json_t *v;
    char why[SMS_REPLY_ERR_MAX];

    if (obj == NULL) {
        snprintf(err, SMS_REPLY_ERR_MAX, "%.40s:%d: %.100s", file, je.line, je.text);
        return NULL;
    }
    if (!json_is_object(obj)) {
        snprintf(err, SMS_REPLY_ERR_MAX, "%.40s: must be an object of name: template", file);
        goto fail;
    }
    json_object_foreach(obj, key, v) {
        if (!json_is_string(v) || json_string_length(v) == 0) {
            snprintf(err, SMS_REPLY_ERR_MAX, "%.40s: %.40s: must be a non-empty string", file,
                     key);
            goto fail;
        }
        if (tmpl_check(json_string_value(v), max_chars, why, sizeof(why)) != 0) {
            snprintf(err, SMS_REPLY_ERR_MAX, "%.40s: %.40s: %.70s", file, key, why);
            goto fail;
        }
    }
    for (size_t i = 0; required != NULL && required[i] != NULL; i++)
        if (json_object_get(obj, required[i]) == NULL) {
            snprintf(err, SMS_REPLY_ERR_MAX, "%.40s: reply \"%.40s\" missing", file, required[i]);
            goto fail;
        }
    sms_replies *r = xmalloc(sizeof(*r));
    r->obj = obj;
    return r;
fail:
    json_decref(obj);
    return NULL;
}

sms_replies *sms_replies_load_file(const char *path, const char *const *required,
                                   size_t max_chars, char *err)
{
    size_t len;
    char *text = read_file(path, REPLY_FILE_MAX, &len, err, SMS_REPLY_ERR_MAX);
    if (text == NULL)
        return NULL;
    sms_replies *r = sms_replies_load(path, text, len, required, max_chars, err);
    free(text);
    return r;
}

void sms_replies_free(sms_replies *r)
{
    if (r == NULL)
        return;
    json_decref(r->obj);
    free(r);
}

const char *sms_replies_get(const sms_replies *r, const char *name)
{
    return json_string_value(json_object_get(r->obj, name));
}

static const char *var_find(const sms_var *vars, size_t nvars, const char *name, size_t n)
{
    for (size_t i = 0; i < nvars; i++)
        if (strlen(vars[i].name) == n && memcmp(vars[i].name, name, n) == 0)
            return vars[i].value;
    return NULL;
}

char *sms_render(const char *tmpl, const sms_var *vars, size_t nvars, size_t max_chars,
                 char *err, size_t errlen)
{
    hrss_buf b;
    buf_init(&b, 64 * 1024);
    for (const char *p = tmpl; *p;) {
        if (p[0] == '$' && p[1] == '{') {
            int n = var_name_len(p + 2);
            if (n < 0) {
                snprintf(err, errlen, "malformed placeholder");
                goto fail;
            }
            const char *v = var_find(vars, nvars, p + 2, (size_t)n);
            if (v == NULL) {
                snprintf(err, errlen, "no value for ${%.*s}", n, p + 2);
                goto fail;
            }
            if (!utf8_is_valid(v, strlen(v))) {
                snprintf(err, errlen, "value of ${%.*s} is not valid UTF-8", n, p + 2);
                goto fail;
            }
            if (buf_append_str(&b, v) != 0)
                goto toolong;
            p += 2 + n + 1;
            continue;
        }
        const char *q = strstr(p + 1, "${");
        size_t lit = q ? (size_t)(q - p) : strlen(p);
        if (buf_append(&b, p, lit) != 0)
            goto toolong;
        p += lit;
    }
    if (buf_append(&b, "", 0) != 0)
        goto toolong;
    size_t chars = utf8_count(b.p ? b.p : "", b.len);
    if (max_chars > 0 && chars > max_chars) {
        snprintf(err, errlen, "%zu characters, at most %zu", chars, max_chars);
        goto fail;
    }
    size_t len;
    char *out = buf_detach(&b, &len);
    if (out == NULL && (out = strdup("")) == NULL)
        xalloc_die();
    return out;
toolong:
    snprintf(err, errlen, "longer than 64 KiB");
fail:
    buf_free(&b);
    return NULL;
}
