/*
 * command.c - normalisation and parsing of uplink SMS commands against a
 * configured command table (LD/T 6007 6.3). See command.h for the rules.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hrss/person.h"

#include "common/util.h"
#include "common/xalloc.h"

#include "command.h"

#define TABLE_FILE_MAX (1024 * 1024)

struct sms_cmd_table {
    int n;
    sms_cmd_def *defs;
};

static void def_free(sms_cmd_def *d)
{
    free(d->usage);
    free(d->handler);
    free(d->service);
    free(d->area);
    free(d->reply);
    free(d->work_order);
    json_decref(d->request);
    for (int i = 0; i < d->nparams; i++)
        free(d->params[i].name);
}

void sms_cmd_table_free(sms_cmd_table *t)
{
    if (t == NULL)
        return;
    for (int i = 0; i < t->n; i++)
        def_free(&t->defs[i]);
    free(t->defs);
    free(t);
}

int sms_cmd_table_count(const sms_cmd_table *t)
{
    return t->n;
}

const sms_cmd_def *sms_cmd_table_at(const sms_cmd_table *t, int i)
{
    return i >= 0 && i < t->n ? &t->defs[i] : NULL;
}

const sms_cmd_def *sms_cmd_table_find(const sms_cmd_table *t, const char *name)
{
    for (int i = 0; i < t->n; i++)
        if (strcmp(t->defs[i].name, name) == 0)
            return &t->defs[i];
    return NULL;
}

const char *sms_cmd_table_usages(const sms_cmd_table *t, const char *sep, char *out,
                                 size_t outlen)
{
    size_t used = 0, seplen = strlen(sep);

    if (outlen == 0)
        return out;
    out[0] = '\0';
    for (int i = 0; i < t->n; i++) {
        size_t ulen = strlen(t->defs[i].usage);
        size_t need = (used > 0 ? seplen : 0) + ulen;
        if (used + need >= outlen)
            break;
        if (used > 0) {
            memcpy(out + used, sep, seplen);
            used += seplen;
        }
        memcpy(out + used, t->defs[i].usage, ulen);
        used += ulen;
        out[used] = '\0';
    }
    return out;
}

/* ---- loading ---- */

static int type_parse(const char *s, sms_param_type *out)
{
    static const struct {
        const char *name;
        sms_param_type type;
    } types[] = {{"text", SMS_PARAM_TEXT},         {"ssn", SMS_PARAM_SSN},
                 {"password", SMS_PARAM_PASSWORD}, {"name", SMS_PARAM_NAME},
                 {"digits", SMS_PARAM_DIGITS}};
    for (size_t i = 0; i < HRSS_ARRAY_LEN(types); i++)
        if (strcmp(s, types[i].name) == 0) {
            *out = types[i].type;
            return 0;
        }
    return -1;
}

static int category_parse(const char *s, sms_cmd_category *out)
{
    if (strcmp(s, "manage") == 0)
        *out = SMS_CMD_MANAGE;
    else if (strcmp(s, "query") == 0)
        *out = SMS_CMD_QUERY;
    else if (strcmp(s, "business") == 0)
        *out = SMS_CMD_BUSINESS;
    else
        return -1;
    return 0;
}

/* A string member, or NULL when absent; -1 (with err) when present but not
 * a non-empty string. */
static int opt_string(json_t *o, const char *key, const char **out, const char *where, char *err)
{
    json_t *v = json_object_get(o, key);
    *out = NULL;
    if (v == NULL)
        return 0;
    if (!json_is_string(v) || json_string_length(v) == 0) {
        snprintf(err, SMS_CMD_ERR_MAX, "%s: \"%s\" must be a non-empty string", where, key);
        return -1;
    }
    *out = json_string_value(v);
    return 0;
}

static int load_params(json_t *ps, sms_cmd_def *d, const char *where, char *err)
{
    size_t i;
    json_t *p;
    int seen_optional = 0;

    if (ps == NULL)
        return 0;
    if (!json_is_array(ps) || json_array_size(ps) > SMS_CMD_PARAMS_MAX) {
        snprintf(err, SMS_CMD_ERR_MAX, "%s: \"params\" must be an array of at most %d",
                 where, SMS_CMD_PARAMS_MAX);
        return -1;
    }
    json_array_foreach(ps, i, p) {
        const char *name, *type;
        char pw[80];
        snprintf(pw, sizeof(pw), "%.40s param %d", where, (int)i + 1);
        if (!json_is_object(p)) {
            snprintf(err, SMS_CMD_ERR_MAX, "%s: must be an object", pw);
            return -1;
        }
        if (opt_string(p, "name", &name, pw, err) != 0 ||
            opt_string(p, "type", &type, pw, err) != 0)
            return -1;
        if (name == NULL) {
            snprintf(err, SMS_CMD_ERR_MAX, "%s: \"name\" missing", pw);
            return -1;
        }
        sms_param_def *pd = &d->params[d->nparams];
        if (type_parse(type ? type : "text", &pd->type) != 0) {
            snprintf(err, SMS_CMD_ERR_MAX,
                     "%s: unknown type (text, ssn, password, name, digits)", pw);
            return -1;
        }
        json_t *opt = json_object_get(p, "optional");
        if (opt != NULL && !json_is_boolean(opt)) {
            snprintf(err, SMS_CMD_ERR_MAX, "%s: \"optional\" must be true or false", pw);
            return -1;
        }
        pd->optional = json_is_true(opt);
        if (seen_optional && !pd->optional) {
            snprintf(err, SMS_CMD_ERR_MAX, "%s: a required parameter after an optional one",
                     pw);
            return -1;
        }
        seen_optional |= pd->optional;
        pd->name = xstrdup(name);
        d->nparams++;
    }
    return 0;
}

static int load_def(json_t *c, size_t idx, sms_cmd_def *d, char *err)
{
    char where[48];
    const char *name, *category, *usage, *handler, *service, *area, *reply, *order;

    snprintf(where, sizeof(where), "command %zu", idx + 1);
    if (!json_is_object(c)) {
        snprintf(err, SMS_CMD_ERR_MAX, "%s: must be an object", where);
        return -1;
    }
    if (opt_string(c, "name", &name, where, err) != 0)
        return -1;
    if (name == NULL) {
        snprintf(err, SMS_CMD_ERR_MAX, "%s: \"name\" missing", where);
        return -1;
    }
    size_t nlen = strlen(name);
    if (nlen > SMS_CMD_NAME_MAX) {
        snprintf(err, SMS_CMD_ERR_MAX, "%s: name longer than %d letters", where,
                 SMS_CMD_NAME_MAX);
        return -1;
    }
    for (size_t i = 0; i < nlen; i++) {
        char ch = name[i];
        if (ch >= 'a' && ch <= 'z')
            ch = (char)(ch - 'a' + 'A');
        if (ch < 'A' || ch > 'Z') {
            snprintf(err, SMS_CMD_ERR_MAX,
                     "%s: name must be letters (pinyin initials, 6.3.1 a)", where);
            return -1;
        }
        d->name[i] = ch;
    }
    d->name[nlen] = '\0';
    snprintf(where, sizeof(where), "command %s", d->name);
    if (opt_string(c, "category", &category, where, err) != 0 ||
        opt_string(c, "usage", &usage, where, err) != 0 ||
        opt_string(c, "handler", &handler, where, err) != 0 ||
        opt_string(c, "service", &service, where, err) != 0 ||
        opt_string(c, "area", &area, where, err) != 0 ||
        opt_string(c, "reply", &reply, where, err) != 0 ||
        opt_string(c, "workOrder", &order, where, err) != 0)
        return -1;
    if (category_parse(category ? category : "", &d->category) != 0) {
        snprintf(err, SMS_CMD_ERR_MAX, "%s: \"category\" must be manage, query or business",
                 where);
        return -1;
    }
    if (handler == NULL ||
        (strcmp(handler, "service") != 0 && strncmp(handler, "builtin:", 8) != 0) ||
        strcmp(handler, "builtin:") == 0) {
        snprintf(err, SMS_CMD_ERR_MAX, "%s: \"handler\" must be \"builtin:NAME\" or \"service\"",
                 where);
        return -1;
    }
    if (strcmp(handler, "service") == 0 && service == NULL) {
        snprintf(err, SMS_CMD_ERR_MAX, "%s: handler \"service\" needs \"service\"", where);
        return -1;
    }
    json_t *req = json_object_get(c, "request");
    if (req != NULL && !json_is_object(req)) {
        snprintf(err, SMS_CMD_ERR_MAX, "%s: \"request\" must be an object", where);
        return -1;
    }
    d->handler = xstrdup(handler);
    d->usage = xstrdup(usage ? usage : d->name);
    d->service = service ? xstrdup(service) : NULL;
    d->area = area ? xstrdup(area) : NULL;
    d->reply = reply ? xstrdup(reply) : NULL;
    d->work_order = order ? xstrdup(order) : NULL;
    d->request = json_incref(req);
    return load_params(json_object_get(c, "params"), d, where, err);
}

sms_cmd_table *sms_cmd_table_load(const char *name, const char *text, size_t len, char *err)
{
    json_error_t je;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    sms_cmd_table *t = NULL;
    char inner[SMS_CMD_ERR_MAX];

    if (root == NULL) {
        snprintf(err, SMS_CMD_ERR_MAX, "%.40s:%d: %.100s", name, je.line, je.text);
        return NULL;
    }
    json_t *cmds = json_object_get(root, "commands");
    if (!json_is_array(cmds) || json_array_size(cmds) == 0 || json_array_size(cmds) > 256) {
        snprintf(err, SMS_CMD_ERR_MAX, "%s: \"commands\" must be an array of 1 to 256", name);
        goto fail;
    }
    t = calloc(1, sizeof(*t));
    if (t == NULL || (t->defs = calloc(json_array_size(cmds), sizeof(*t->defs))) == NULL)
        xalloc_die();
    size_t i;
    json_t *c;
    json_array_foreach(cmds, i, c) {
        sms_cmd_def *d = &t->defs[t->n];
        int rc = load_def(c, i, d, inner);
        t->n++; /* counted even when half-loaded, so that it is freed */
        if (rc != 0) {
            snprintf(err, SMS_CMD_ERR_MAX, "%.40s: %.110s", name, inner);
            goto fail;
        }
        for (int j = 0; j < t->n - 1; j++)
            if (strcmp(t->defs[j].name, d->name) == 0) {
                snprintf(err, SMS_CMD_ERR_MAX, "%s: command %s defined twice", name, d->name);
                goto fail;
            }
    }
    json_decref(root);
    return t;
fail:
    sms_cmd_table_free(t);
    json_decref(root);
    return NULL;
}

sms_cmd_table *sms_cmd_table_load_file(const char *path, char *err)
{
    size_t len;
    char *text = read_file(path, TABLE_FILE_MAX, &len, err, SMS_CMD_ERR_MAX);
    if (text == NULL)
        return NULL;
    sms_cmd_table *t = sms_cmd_table_load(path, text, len, err);
    free(text);
    return t;
}

/* ---- normalising and parsing ---- */

/* Decodes one code point of valid UTF-8 at s (n bytes left); returns its
 * length, or 0 when invalid. */
static size_t utf8_decode(const unsigned char *s, size_t n, unsigned *cp)
{
    size_t len;
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    if ((s[0] & 0xe0) == 0xc0)
        len = 2;
    else if ((s[0] & 0xf0) == 0xe0)
        len = 3;
    else if ((s[0] & 0xf8) == 0xf0)
        len = 4;
    else
        return 0;
    if (len > n || !utf8_is_valid((const char *)s, len))
        return 0;
    *cp = s[0] & (0x7f >> len);
    for (size_t i = 1; i < len; i++)
        *cp = (*cp << 6) | (s[i] & 0x3f);
    return len;
}

static int is_blank(unsigned cp)
{
    return cp == ' ' || cp == '\t' || cp == '\r' || cp == '\n' || cp == 0x3000 || cp == 0xa0;
}

long sms_cmd_normalise(const char *text, size_t len, char *out, size_t outlen)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t i = 0, o = 0, last_nonblank = 0;
    int started = 0;

    if (outlen == 0)
        return -1;
    while (i < len) {
        unsigned cp;
        size_t n = utf8_decode(s + i, len - i, &cp);
        if (n == 0 || cp == 0)
            return -1;
        if (is_blank(cp)) { /* dropped before the text, one space inside */
            if (started) {
                if (o + 1 >= outlen)
                    return -1;
                out[o++] = ' ';
            }
            i += n;
            continue;
        }
        started = 1;
        if (cp >= 0xff01 && cp <= 0xff5e) { /* full-width ASCII forms */
            if (o + 1 >= outlen)
                return -1;
            out[o++] = (char)(cp - 0xff01 + 0x21);
        } else {
            if (o + n >= outlen)
                return -1;
            memcpy(out + o, s + i, n);
            o += n;
        }
        last_nonblank = o;
        i += n;
    }
    o = last_nonblank;
    out[o] = '\0';
    return (long)o;
}

static int all_in(const char *s, const char *set_lo, const char *set_hi)
{
    for (; *s; s++) {
        int ok = 0;
        for (size_t k = 0; set_lo[k]; k++)
            if (*s >= set_lo[k] && *s <= set_hi[k])
                ok = 1;
        if (!ok)
            return 0;
    }
    return 1;
}

/* Checks one parameter by its type; fills why on failure. */
static int param_check(const sms_param_def *p, int idx, const char *v, char *why)
{
    size_t len = strlen(v);
    hrss_error err = {0};

    switch (p->type) {
    case SMS_PARAM_SSN:
        if (hrss_ssn_check(v, len, &err) != HRSS_OK) {
            snprintf(why, SMS_CMD_ERR_MAX, "parameter %d (%.20s): %.100s", idx, p->name, err.msg);
            return -1;
        }
        return 0;
    case SMS_PARAM_PASSWORD:
        if (len < 4 || len > 16 || !all_in(v, "0Aa", "9Zz")) {
            snprintf(why, SMS_CMD_ERR_MAX, "parameter %d (%s): 4 to 16 letters or digits", idx,
                     p->name);
            return -1;
        }
        return 0;
    case SMS_PARAM_DIGITS:
        if (!all_in(v, "0", "9")) {
            snprintf(why, SMS_CMD_ERR_MAX, "parameter %d (%s): digits only", idx, p->name);
            return -1;
        }
        return 0;
    case SMS_PARAM_NAME: {
        size_t chars = utf8_count(v, len);
        if (chars > 20 || strpbrk(v, "0123456789") != NULL) {
            snprintf(why, SMS_CMD_ERR_MAX, "parameter %d (%s): a name of 1 to 20 characters",
                     idx, p->name);
            return -1;
        }
        return 0;
    }
    case SMS_PARAM_TEXT:
        return 0;
    }
    return 0;
}

void sms_cmd_parse(const sms_cmd_table *t, const char *text, size_t len, sms_cmd *out)
{
    char norm[SMS_CMD_TEXT_MAX + 1];
    long n;

    memset(out, 0, sizeof(*out));
    n = sms_cmd_normalise(text, len, norm, sizeof(norm));
    if (n < 0) {
        /* undecodable or too long for any command: nothing of it is kept */
        out->status = SMS_CMD_UNKNOWN;
        return;
    }
    if (n == 0) {
        out->status = SMS_CMD_EMPTY;
        return;
    }
    /* command name: up to the first '#', blanks around it ignored */
    char *hash = strchr(norm, '#');
    char *end = hash ? hash : norm + n;
    char *nm = norm;
    while (end > nm && end[-1] == ' ')
        end--;
    size_t nlen = (size_t)(end - nm);
    int letters = nlen > 0;
    for (size_t i = 0; i < nlen; i++) {
        char ch = nm[i];
        if (ch >= 'a' && ch <= 'z')
            ch = (char)(ch - 'a' + 'A');
        if (ch < 'A' || ch > 'Z')
            letters = 0;
        if (i < SMS_CMD_NAME_MAX)
            out->name[i] = ch;
    }
    out->name[nlen < SMS_CMD_NAME_MAX ? nlen : SMS_CMD_NAME_MAX] = '\0';
    if (!letters || nlen > SMS_CMD_NAME_MAX ||
        (out->def = sms_cmd_table_find(t, out->name)) == NULL) {
        out->def = NULL;
        if (!letters)
            out->name[0] = '\0'; /* not a command name: may be anything, never echoed */
        out->status = SMS_CMD_UNKNOWN;
        return;
    }
    /* parameters: '#'-separated; a trailing '#' and blanks around values
     * are ignored ("TD#" is "TD") */
    const sms_cmd_def *d = out->def;
    char *p = hash ? hash + 1 : NULL;
    while (p != NULL) {
        char *next = strchr(p, '#');
        char *e = next ? next : p + strlen(p);
        while (*p == ' ')
            p++;
        while (e > p && e[-1] == ' ')
            e--;
        size_t plen = (size_t)(e - p);
        if (plen == 0) {
            if (next == NULL)
                break; /* trailing separator */
            out->status = SMS_CMD_MALFORMED;
            snprintf(out->why, sizeof(out->why), "parameter %d is empty", out->nparams + 1);
            return;
        }
        if (out->nparams >= d->nparams) {
            out->status = SMS_CMD_MALFORMED;
            snprintf(out->why, sizeof(out->why), "%s takes at most %d parameter%s", d->name,
                     d->nparams, d->nparams == 1 ? "" : "s");
            return;
        }
        if (plen > SMS_CMD_PARAM_MAX) {
            out->status = SMS_CMD_MALFORMED;
            snprintf(out->why, sizeof(out->why), "parameter %d is too long", out->nparams + 1);
            return;
        }
        memcpy(out->params[out->nparams], p, plen);
        out->params[out->nparams][plen] = '\0';
        out->nparams++;
        p = next ? next + 1 : NULL;
    }
    /* missing required parameters: none given means "for myself" (6.3.1 d),
     * which only commands whose parameters are all optional allow */
    for (int i = out->nparams; i < d->nparams; i++)
        if (!d->params[i].optional) {
            out->status = SMS_CMD_MALFORMED;
            snprintf(out->why, sizeof(out->why), "parameter %d (%s) missing", i + 1,
                     d->params[i].name);
            return;
        }
    for (int i = 0; i < out->nparams; i++) {
        if (d->params[i].type == SMS_PARAM_SSN && strlen(out->params[i]) == HRSS_SSN_LEN &&
            out->params[i][17] == 'x')
            out->params[i][17] = 'X';
        if (param_check(&d->params[i], i + 1, out->params[i], out->why) != 0) {
            out->status = SMS_CMD_MALFORMED;
            return;
        }
    }
    out->status = SMS_CMD_OK;
}
