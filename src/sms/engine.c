/*
 * engine.c - runs uplink SMS commands: parse, act (bindings, notices, a
 * back-end service through the collaboration platform), reply. See engine.h.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hrss/person.h"

#include "engine.h"
#include "log.h"
#include "common/xalloc.h"

#define VARS_MAX 40
#define VAR_VALUE_MAX 128

const char *const sms_engine_replies[] = {
    "unknown",   "malformed",  "empty",        "try_later",      "td_ok",     "bd_ok",
    "bd_already", "bd_moved_old", "bd_no_person", "bd_full",     "bad_password", "locked",
    "qxbd_ok",   "not_bound",  "qxfw_ok",      "no_binding",     "name_unknown",
    "name_ambiguous", "mmcz_ok", "service_refused", NULL};

struct sms_engine {
    sms_engine_options o;
    sms_engine_ops ops;
    pthread_mutex_t db_lock; /* one connection: one transaction at a time */
    char commands[256];      /* "TD BD QXBD ..." for help replies */
};

sms_engine *sms_engine_new(const sms_engine_options *o, const sms_engine_ops *ops, char *err)
{
    for (int i = 0; sms_engine_replies[i] != NULL; i++)
        if (sms_replies_get(o->replies, sms_engine_replies[i]) == NULL) {
            snprintf(err, SMS_ENGINE_ERR_MAX, "reply \"%s\" missing", sms_engine_replies[i]);
            return NULL;
        }
    for (int i = 0; i < sms_cmd_table_count(o->cmds); i++) {
        const sms_cmd_def *d = sms_cmd_table_at(o->cmds, i);
        if (d->reply != NULL && sms_replies_get(o->replies, d->reply) == NULL) {
            snprintf(err, SMS_ENGINE_ERR_MAX, "command %s: reply \"%.60s\" missing", d->name,
                     d->reply);
            return NULL;
        }
        if (strcmp(d->handler, "service") == 0 && d->reply == NULL) {
            snprintf(err, SMS_ENGINE_ERR_MAX, "command %s: a service command needs \"reply\"",
                     d->name);
            return NULL;
        }
        static const char *const builtins[] = {"builtin:td", "builtin:bd", "builtin:qxbd",
                                               "builtin:qxfw", "builtin:mmcz", "service"};
        int known = 0;
        for (size_t k = 0; k < sizeof(builtins) / sizeof(builtins[0]); k++)
            known |= strcmp(d->handler, builtins[k]) == 0;
        if (!known) {
            snprintf(err, SMS_ENGINE_ERR_MAX,
                     "command %s: handler \"%.40s\" is not one of builtin:td, builtin:bd, "
                     "builtin:qxbd, builtin:qxfw, builtin:mmcz, service",
                     d->name, d->handler);
            return NULL;
        }
    }
    if (bind_init(o->db, err, SMS_ENGINE_ERR_MAX) != 0)
        return NULL;
    sms_engine *e = xcalloc(1, sizeof(*e));
    e->o = *o;
    e->ops = *ops;
    pthread_mutex_init(&e->db_lock, NULL);
    size_t used = 0;
    for (int i = 0; i < sms_cmd_table_count(o->cmds); i++) {
        const char *n = sms_cmd_table_at(o->cmds, i)->name;
        size_t len = strlen(n);
        if (used + 1 + len >= sizeof(e->commands))
            break;
        if (used > 0)
            e->commands[used++] = ' ';
        memcpy(e->commands + used, n, len + 1);
        used += len;
    }
    return e;
}

void sms_engine_free(sms_engine *e)
{
    if (e == NULL)
        return;
    pthread_mutex_destroy(&e->db_lock);
    free(e);
}

/* ---- reply variables ---- */

typedef struct vars {
    sms_var v[VARS_MAX];
    char names[VARS_MAX][48];
    char values[VARS_MAX][VAR_VALUE_MAX];
    size_t n;
} vars;

/* Copies src into dst (size bytes), cut at a whole UTF-8 character. */
static void copy_cut(char *dst, size_t size, const char *src)
{
    size_t n = strnlen(src, size - 1);
    if (src[n] != '\0')
        while (n > 0 && ((unsigned char)src[n] & 0xc0) == 0x80)
            n--;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static void var_add(vars *vs, const char *name, const char *value)
{
    if (vs->n >= VARS_MAX)
        return;
    copy_cut(vs->names[vs->n], sizeof(vs->names[0]), name);
    copy_cut(vs->values[vs->n], sizeof(vs->values[0]), value);
    vs->v[vs->n].name = vs->names[vs->n];
    vs->v[vs->n].value = vs->values[vs->n];
    vs->n++;
}

static void var_add_int(vars *vs, const char *name, long long v)
{
    char b[32];
    snprintf(b, sizeof(b), "%lld", v);
    var_add(vs, name, b);
}

static void var_add_ssn(vars *vs, const char *ssn)
{
    char m[HRSS_SSN_LEN + 1];
    var_add(vs, "ssn", hrss_ssn_mask(ssn, strlen(ssn), m));
}

/* The scalar members of a response body as variables: "key" for the top
 * level and "key.sub" one level down ({"data": {"balance": ...}}). */
static void var_add_json(vars *vs, const char *prefix, json_t *o, int depth)
{
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v) {
        char name[48];
        snprintf(name, sizeof(name), "%s%s%s", prefix, prefix[0] ? "." : "", k);
        if (json_is_string(v))
            var_add(vs, name, json_string_value(v));
        else if (json_is_integer(v))
            var_add_int(vs, name, (long long)json_integer_value(v));
        else if (json_is_real(v)) {
            char b[48];
            snprintf(b, sizeof(b), "%.2f", json_real_value(v));
            var_add(vs, name, b);
        } else if (json_is_object(v) && depth == 0)
            var_add_json(vs, name, v, 1);
    }
}

/* ---- replies ---- */

/* Renders reply `name` and queues it to phone; when it cannot be rendered
 * within the room, "try_later" goes instead. Returns the reply sent. */
static const char *send_reply(sms_engine *e, const char *phone, const char *name, const vars *vs)
{
    char err[SMS_REPLY_ERR_MAX], mp[HRSS_MOBILE_LEN + 1];
    const char *tmpl = sms_replies_get(e->o.replies, name);
    char *text = sms_render(tmpl, vs ? vs->v : NULL, vs ? vs->n : 0, e->o.room, err, sizeof(err));
    if (text == NULL) {
        sms_log(SMS_LOG_ERROR, "reply_failed", "reply=%s why=\"%s\"", name, err);
        name = "try_later";
        text = sms_render(sms_replies_get(e->o.replies, name), NULL, 0, 0, err, sizeof(err));
        if (text == NULL)
            return name;
    }
    if (e->ops.reply(e->ops.ctx, phone, text) != 0)
        sms_log(SMS_LOG_ERROR, "reply_not_queued", "phone=%s reply=%s",
                hrss_mobile_mask(phone, strlen(phone), mp), name);
    free(text);
    return name;
}

/* A help reply listing the commands (${commands}): when the whole list does
 * not fit in one message, the first ones that do and "等" (a province's
 * table may be long; the reply is never cut nor replaced by try_later). */
static const char *send_help(sms_engine *e, const char *phone, const char *name)
{
    char list[sizeof(e->commands) + 8];
    size_t words = 1;
    for (const char *p = e->commands; *p != '\0'; p++)
        words += *p == ' ';
    for (size_t k = words; k > 0; k--) {
        /* the first k names */
        size_t at = 0, seen = 0;
        for (const char *p = e->commands; *p != '\0'; p++) {
            if (*p == ' ' && ++seen == k)
                break;
            list[at++] = *p;
        }
        list[at] = '\0';
        if (k < words)
            snprintf(list + at, sizeof(list) - at, "等");
        vars vs = {0};
        var_add(&vs, "commands", list);
        char err[SMS_REPLY_ERR_MAX];
        char *text = sms_render(sms_replies_get(e->o.replies, name), vs.v, vs.n, e->o.room, err,
                                sizeof(err));
        if (text != NULL) {
            free(text);
            return send_reply(e, phone, name, &vs);
        }
    }
    return send_reply(e, phone, "try_later", NULL);
}

static const char *password_refused(sms_engine *e, const char *phone, bind_result r, int left)
{
    vars vs = {0};
    if (r == BIND_LOCKED) {
        var_add_int(&vs, "minutes", (e->o.policy.lock_seconds + 59) / 60);
        return send_reply(e, phone, "locked", &vs);
    }
    var_add_int(&vs, "left", left);
    return send_reply(e, phone, "bad_password", &vs);
}

static const char *storage_failed(sms_engine *e, const char *phone, const char *cmd)
{
    char mp[HRSS_MOBILE_LEN + 1];
    sms_log(SMS_LOG_ERROR, "binding_store_failed", "phone=%s command=%s",
            hrss_mobile_mask(phone, strlen(phone), mp), cmd);
    return send_reply(e, phone, "try_later", NULL);
}

/* ---- builtins ---- */

static const char *do_bd(sms_engine *e, const char *phone, const sms_cmd *c, int64_t now)
{
    char old[HRSS_MOBILE_LEN + 1], name[BIND_NAME_MAX + 1];
    int left = 0;
    vars vs = {0};

    pthread_mutex_lock(&e->db_lock);
    bind_result r =
        bind_add(e->o.db, &e->o.policy, phone, c->params[0], c->params[1], now, old, &left, name);
    pthread_mutex_unlock(&e->db_lock);
    var_add_ssn(&vs, c->params[0]);
    var_add(&vs, "name", name);
    switch (r) {
    case BIND_MOVED: { /* the phone that held the number is told (6.2.1 b, c) */
        vars ov = {0};
        var_add_ssn(&ov, c->params[0]);
        send_reply(e, old, "bd_moved_old", &ov);
    }
        /* fall through */
    case BIND_OK:
        return send_reply(e, phone, "bd_ok", &vs);
    case BIND_ALREADY:
        return send_reply(e, phone, "bd_already", &vs);
    case BIND_NO_PERSON:
        return send_reply(e, phone, "bd_no_person", &vs);
    case BIND_FULL:
        return send_reply(e, phone, "bd_full", &vs);
    case BIND_BAD_PASSWORD:
    case BIND_LOCKED:
        return password_refused(e, phone, r, left);
    default:
        return storage_failed(e, phone, "BD");
    }
}

static const char *do_qxbd(sms_engine *e, const char *phone, const sms_cmd *c)
{
    vars vs = {0};
    pthread_mutex_lock(&e->db_lock);
    bind_result r = bind_remove(e->o.db, phone, c->params[0]);
    pthread_mutex_unlock(&e->db_lock);
    var_add_ssn(&vs, c->params[0]);
    if (r == BIND_OK)
        return send_reply(e, phone, "qxbd_ok", &vs);
    if (r == BIND_NOT_BOUND)
        return send_reply(e, phone, "not_bound", &vs);
    return storage_failed(e, phone, "QXBD");
}

static const char *do_qxfw(sms_engine *e, const char *phone)
{
    vars vs = {0};
    int n = 0;
    pthread_mutex_lock(&e->db_lock);
    bind_result r = bind_remove_all(e->o.db, phone, &n);
    pthread_mutex_unlock(&e->db_lock);
    if (r != BIND_OK && r != BIND_NONE)
        return storage_failed(e, phone, "QXFW");
    if (e->ops.unsubscribe(e->ops.ctx, phone) != 0)
        return storage_failed(e, phone, "QXFW");
    var_add_int(&vs, "count", n);
    return send_reply(e, phone, "qxfw_ok", &vs);
}

static const char *do_td(sms_engine *e, const char *phone)
{
    if (e->ops.unsubscribe(e->ops.ctx, phone) != 0)
        return storage_failed(e, phone, "TD");
    return send_reply(e, phone, "td_ok", NULL);
}

static const char *do_mmcz(sms_engine *e, const char *phone, const sms_cmd *c, int64_t now)
{
    int left = 0;
    pthread_mutex_lock(&e->db_lock);
    bind_result r = bind_password_change(e->o.db, &e->o.policy, phone, c->params[0],
                                         c->params[1], now, &left);
    pthread_mutex_unlock(&e->db_lock);
    switch (r) {
    case BIND_OK:
        return send_reply(e, phone, "mmcz_ok", NULL);
    case BIND_NONE:
        return send_reply(e, phone, "no_binding", NULL);
    case BIND_BAD_PASSWORD:
    case BIND_LOCKED:
        return password_refused(e, phone, r, left);
    default:
        return storage_failed(e, phone, "MMCZ");
    }
}

/* ---- service commands ---- */

/* A copy of the request template with ${ssn} and ${name} filled (the full
 * number: it goes to the back end, never to a reply or a log). */
static json_t *fill_request(const json_t *tmpl, const sms_var *v, size_t n)
{
    if (json_is_string(tmpl)) {
        char err[SMS_REPLY_ERR_MAX];
        char *s = sms_render(json_string_value(tmpl), v, n, 0, err, sizeof(err));
        json_t *out = s ? json_string(s) : json_null();
        free(s);
        return out;
    }
    if (json_is_object(tmpl)) {
        json_t *o = json_object();
        const char *k;
        json_t *x;
        json_object_foreach((json_t *)tmpl, k, x)
            json_object_set_new(o, k, fill_request(x, v, n));
        return o;
    }
    if (json_is_array(tmpl)) {
        json_t *a = json_array();
        size_t i;
        json_t *x;
        json_array_foreach(tmpl, i, x)
            json_array_append_new(a, fill_request(x, v, n));
        return a;
    }
    return json_deep_copy(tmpl);
}

static const char *do_service(sms_engine *e, const char *phone, const sms_cmd *c)
{
    char ssn[HRSS_SSN_LEN + 1], name[BIND_NAME_MAX + 1], mp[HRSS_MOBILE_LEN + 1];
    const char *want = c->nparams > 0 ? c->params[0] : NULL;
    vars vs = {0};

    pthread_mutex_lock(&e->db_lock);
    bind_result r = bind_find(e->o.db, phone, want, ssn, name);
    pthread_mutex_unlock(&e->db_lock);
    if (r == BIND_NONE) {
        if (want == NULL)
            return send_reply(e, phone, "no_binding", NULL);
        var_add(&vs, "name", want);
        return send_reply(e, phone, "name_unknown", &vs);
    }
    if (r == BIND_AMBIGUOUS) {
        var_add(&vs, "name", want);
        return send_reply(e, phone, "name_ambiguous", &vs);
    }
    if (r != BIND_OK)
        return storage_failed(e, phone, c->def->name);

    const sms_var full[] = {{"ssn", ssn}, {"name", name}};
    json_t *body = c->def->request ? fill_request(c->def->request, full, 2)
                                   : json_pack("{s:s}", "aac002", ssn);
    json_t *resp = NULL;
    char why[SMS_ENGINE_ERR_MAX] = "";
    int rc = e->ops.call(e->ops.ctx, c->def->service, c->def->area, body, &resp, why, sizeof(why));
    json_decref(body);
    if (rc == 1) {
        /* the service answered and refused (a business failure): the
         * citizen is told so; not an alert */
        sms_log(SMS_LOG_INFO, "service_refused", "command=%s service=%s phone=%s why=\"%s\"",
                c->def->name, c->def->service, hrss_mobile_mask(phone, strlen(phone), mp), why);
        var_add(&vs, "name", name);
        return send_reply(e, phone, "service_refused", &vs);
    }
    if (rc != 0 || !json_is_object(resp)) {
        /* an alert: the citizen gets a polite reply, the operators a line */
        sms_log(SMS_LOG_ERROR, "backend_failed", "command=%s service=%s phone=%s why=\"%s\"",
                c->def->name, c->def->service, hrss_mobile_mask(phone, strlen(phone), mp),
                rc != 0 ? why : "response body is not an object");
        json_decref(resp);
        return send_reply(e, phone, "try_later", NULL);
    }
    var_add_json(&vs, "", resp, 0);
    json_decref(resp);
    if (c->def->work_order != NULL) {
        /* the service opened a work order whose result is sent later (7.3) */
        const char *order = NULL;
        for (size_t i = 0; i < vs.n && order == NULL; i++)
            if (strcmp(vs.names[i], c->def->work_order) == 0)
                order = vs.values[i];
        if (order == NULL || order[0] == '\0' || e->ops.work_order == NULL ||
            e->ops.work_order(e->ops.ctx, phone, c->def->name, order, ssn, name) != 0)
            sms_log(SMS_LOG_ERROR, "work_order_not_recorded", "command=%s phone=%s why=\"%s\"",
                    c->def->name, hrss_mobile_mask(phone, strlen(phone), mp),
                    order == NULL || order[0] == '\0' ? "no order number in the answer"
                                                      : "storage");
    }
    /* the engine's own values win over the response's: ssn is masked */
    vars out = {0};
    var_add(&out, "name", name);
    var_add_ssn(&out, ssn);
    for (size_t i = 0; i < vs.n; i++)
        if (strcmp(vs.names[i], "ssn") != 0 && strcmp(vs.names[i], "name") != 0)
            var_add(&out, vs.names[i], vs.values[i]);
    return send_reply(e, phone, c->def->reply, &out);
}

/* ---- entry ---- */

const char *sms_engine_handle(sms_engine *e, const char *phone, const char *text, int64_t now)
{
    sms_cmd c;
    vars vs = {0};

    sms_cmd_parse(e->o.cmds, text, strlen(text), &c);
    switch (c.status) {
    case SMS_CMD_EMPTY:
        return send_help(e, phone, "empty");
    case SMS_CMD_UNKNOWN:
        return send_help(e, phone, "unknown");
    case SMS_CMD_MALFORMED:
        var_add(&vs, "usage", c.def->usage);
        return send_reply(e, phone, "malformed", &vs);
    case SMS_CMD_OK:
        break;
    }
    const char *h = c.def->handler;
    if (strcmp(h, "service") == 0)
        return do_service(e, phone, &c);
    if (strcmp(h, "builtin:bd") == 0)
        return do_bd(e, phone, &c, now);
    if (strcmp(h, "builtin:qxbd") == 0)
        return do_qxbd(e, phone, &c);
    if (strcmp(h, "builtin:qxfw") == 0)
        return do_qxfw(e, phone);
    if (strcmp(h, "builtin:td") == 0)
        return do_td(e, phone);
    if (strcmp(h, "builtin:mmcz") == 0)
        return do_mmcz(e, phone, &c, now);
    return send_reply(e, phone, "try_later", NULL); /* refused at load: unreachable */
}
