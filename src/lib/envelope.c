/*
 * lib/envelope.c - request and response envelopes of LD/T 6008-2024 6.2:
 * the strict JSON loader, the rule engine shared by hrss_envelope_parse and
 * hrss_envelope_validate (tables 1 and 2, docs/design.md decisions 1, 7 and 12),
 * accessors, and serialisation. Body shapes and encrypted bodies are in
 * body.c.
 *
 * The engine reports every violation, in document order, through the
 * caller's callback; the first one also goes into hrss_error as
 * "field: rule". Fields are paths such as "header.appCode" or
 * "body.list[1].aac002"; untrusted names in them are made printable with
 * hrss__show, so that a violation is always one line.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "envelope_private.h"

#define KEY_SHOW_MAX 64 /* characters of a member name quoted in a path */
#define HEADER_FIELDS_MAX HRSS__HEADER_FIELDS_MAX
#define HEADER_KEY_MAX 64
#define HEADER_VALUE_MAX 255

/* The header of an envelope made by the fast path: decoded fields, until
 * something asks for the header as an object. It lives in the envelope's
 * own allocation, followed by the fields' text (keys and values, each
 * NUL-terminated): one small block per request. */
struct flat_header {
    size_t n;
    hrss__field f[];
};

struct hrss_envelope {
    hrss_envelope_kind kind;
    json_t *header; /* an object; NULL while flat holds the header */
    json_t *body;   /* object, string, or NULL when absent (or not kept) */
    struct flat_header *flat; /* inside this allocation; NULL once header is built */
    int body_checked; /* the body was checked at parse and not kept */
};

/* ---- the strict loader ---- */

/* One open container met by the scanner: its current member (key or index). */
struct scan_frame {
    char kind; /* '{' or '[' */
    int want_key;
    const char *key; /* raw text between the quotes, escapes not decoded */
    size_t keylen;
    size_t index;
};

/*
 * Follows the nesting of JSON text up to stop bytes, outside strings only,
 * recording in frames (room for max_depth of them) the open containers and
 * their current members. Tolerates malformed text: it only ever guides
 * messages and the depth limit. Returns the offset of the bracket that
 * opens level max_depth + 1, or SIZE_MAX when there is none before stop.
 */
static size_t scan(const char *buf, size_t stop, size_t max_depth, struct scan_frame *frames,
                   size_t *depth_out)
{
    size_t depth = 0, str_start = 0, found = SIZE_MAX;
    int in_str = 0;

    for (size_t i = 0; i < stop; i++) {
        char c = buf[i];
        if (in_str) {
            if (c == '\\') {
                i++;
            } else if (c == '"') {
                in_str = 0;
                if (depth > 0 && frames[depth - 1].want_key) {
                    frames[depth - 1].key = buf + str_start;
                    frames[depth - 1].keylen = i - str_start;
                    frames[depth - 1].want_key = 0;
                }
            }
            continue;
        }
        switch (c) {
        case '"':
            in_str = 1;
            str_start = i + 1;
            break;
        case '{':
        case '[':
            if (depth == max_depth) {
                found = i;
                goto done;
            }
            frames[depth] = (struct scan_frame){c, c == '{', NULL, 0, 0};
            depth++;
            break;
        case '}':
        case ']':
            if (depth > 0)
                depth--;
            break;
        case ',':
            if (depth > 0) {
                if (frames[depth - 1].kind == '[')
                    frames[depth - 1].index++;
                else
                    frames[depth - 1].want_key = 1;
            }
            break;
        default:
            break;
        }
    }
done:
    *depth_out = depth;
    return found;
}

/* Appends printf output to a path buffer, cutting at its end. */
static void path_add(char *path, size_t size, const char *fmt, ...) HRSS__PRINTF(3, 4);
static void path_add(char *path, size_t size, const char *fmt, ...)
{
    size_t used = strlen(path);
    va_list ap;
    if (used + 1 >= size)
        return;
    va_start(ap, fmt);
    vsnprintf(path + used, size - used, fmt, ap);
    va_end(ap);
    utf8_mend(path);
}

/* Appends ".name" (or "name" at the start) for a member name of n bytes. */
static void path_add_key(char *path, size_t size, const char *name, size_t n)
{
    char shown[KEY_SHOW_MAX * 4 + 4];
    hrss__show(shown, sizeof(shown), name, n, KEY_SHOW_MAX);
    path_add(path, size, "%s%s", path[0] != '\0' ? "." : "", shown);
}

/* Path of the member being read at byte pos of a text that passed the depth
 * scan: prefix, then each open container's current key or index. */
static void path_at(const char *buf, size_t pos, const char *prefix, char *path, size_t size)
{
    struct scan_frame frames[HRSS_JSON_MAX_DEPTH];
    size_t depth;

    snprintf(path, size, "%s", prefix);
    scan(buf, pos, HRSS_JSON_MAX_DEPTH, frames, &depth);
    for (size_t i = 0; i < depth; i++) {
        const struct scan_frame *f = &frames[i];
        if (f->kind == '[') {
            path_add(path, size, "[%zu]", f->index);
        } else if (f->key != NULL && !f->want_key) {
            /* Decode escapes through jansson; keep the raw text if that fails. */
            json_t *k = NULL;
            if (memchr(f->key, '\\', f->keylen) != NULL)
                k = json_loadb(f->key - 1, f->keylen + 2, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
            if (json_is_string(k))
                path_add_key(path, size, json_string_value(k), json_string_length(k));
            else
                path_add_key(path, size, f->key, f->keylen);
            json_decref(k);
        } else {
            break;
        }
    }
}

/* Line and column (in characters, from 1) of byte pos. */
static void line_col(const char *buf, size_t pos, size_t *line, size_t *col)
{
    size_t start = 0;
    *line = 1;
    for (size_t i = 0; i < pos; i++)
        if (buf[i] == '\n') {
            (*line)++;
            start = i + 1;
        }
    *col = utf8_count(buf + start, pos - start) + 1;
}

int hrss__json_load_strict(const char *buf, size_t len, size_t base_depth, const char *prefix,
                           json_t **out, char *field, size_t fieldsz, char *msg, size_t msgsz)
{
    struct scan_frame frames[HRSS_JSON_MAX_DEPTH];
    size_t depth, line, col, max_depth = HRSS_JSON_MAX_DEPTH - base_depth;
    size_t pos;
    json_error_t jerr;
    char near[128];
    int code;

    *out = NULL;
    snprintf(field, fieldsz, "%s", prefix);
    pos = scan(buf, len, max_depth, frames, &depth);
    if (pos != SIZE_MAX) {
        line_col(buf, pos, &line, &col);
        snprintf(msg, msgsz, "nesting depth %zu, at most %d (line %zu, column %zu)",
                 base_depth + max_depth + 1, HRSS_JSON_MAX_DEPTH, line, col);
        return HRSS_ETOOBIG;
    }
    /* A NUL byte is never JSON text (RFC 8259: control characters only
     * escaped, inside strings), but jansson reads past one that follows a
     * number or a literal: refused here. */
    const char *nul = memchr(buf, '\0', len);
    if (nul != NULL) {
        pos = (size_t)(nul - buf);
        line_col(buf, pos, &line, &col);
        path_at(buf, pos, prefix, field, fieldsz);
        snprintf(msg, msgsz, "a NUL byte is not JSON (line %zu, column %zu)", line, col);
        return HRSS_EFORMAT;
    }
    *out = json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (*out != NULL)
        return HRSS_OK;

    pos = jerr.position >= 0 && (size_t)jerr.position <= len ? (size_t)jerr.position : len;
    path_at(buf, pos, prefix, field, fieldsz);
    switch (json_error_code(&jerr)) {
    case json_error_out_of_memory:
        snprintf(msg, msgsz, "out of memory");
        return HRSS_ENOMEM;
    case json_error_duplicate_key:
        code = HRSS_EDUPKEY;
        snprintf(msg, msgsz, "duplicate key (line %d, column %d)", jerr.line, jerr.column);
        break;
    case json_error_invalid_utf8:
        code = HRSS_EUTF8;
        snprintf(msg, msgsz, "invalid UTF-8 (line %d, column %d)", jerr.line, jerr.column);
        break;
    case json_error_null_character:
    case json_error_null_byte_in_key:
        code = HRSS_EFORMAT;
        snprintf(msg, msgsz, "\\u0000 is not allowed (line %d, column %d)", jerr.line, jerr.column);
        break;
    default:
        code = HRSS_EFORMAT;
        /* jansson quotes the raw input after "near": make it printable. */
        hrss__show(near, sizeof(near), jerr.text, strlen(jerr.text), 100);
        snprintf(msg, msgsz, "invalid JSON: %s (line %d, column %d)", near, jerr.line, jerr.column);
        break;
    }
    return code;
}

size_t hrss__json_depth(const json_t *v, size_t limit)
{
    size_t max = 0, d;

    if (!json_is_object(v) && !json_is_array(v))
        return 0;
    if (limit == 0)
        return 1; /* deep enough to be over any limit the caller has */
    if (json_is_object(v)) {
        const char *key;
        json_t *child;
        json_object_foreach((json_t *)v, key, child)
        {
            d = hrss__json_depth(child, limit - 1);
            if (d > max)
                max = d;
            if (max >= limit)
                break;
        }
    } else {
        for (size_t i = 0; i < json_array_size(v) && max < limit; i++) {
            d = hrss__json_depth(json_array_get(v, i), limit - 1);
            if (d > max)
                max = d;
        }
    }
    return max + 1;
}

/* ---- the rule engine ---- */

struct checker {
    hrss_envelope_kind kind;
    hrss_violation_fn report;
    void *ctx;
    hrss_error *err;
    int first;   /* code of the first violation; HRSS_OK while there is none */
    int comm_ok; /* response: commStatus seen and "00" */
};

static void violation(struct checker *c, int code, const char *field, const char *fmt, ...)
    HRSS__PRINTF(4, 5);
static void violation(struct checker *c, int code, const char *field, const char *fmt, ...)
{
    char msg[HRSS_ERROR_MSG_MAX];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    utf8_mend(msg);
    if (c->first == HRSS_OK) {
        c->first = code;
        /* A long path gives way to the message: what is wrong matters more
         * than the end of where. */
        size_t room = HRSS_ERROR_MSG_MAX - 1, flen = strlen(field), mlen = strlen(msg);
        if (field[0] != '\0' && flen + 2 + mlen > room && mlen + 5 < room)
            hrss__error(c->err, code, "%.*s...: %s",
                        (int)utf8_prefix(field, room - mlen - 5, SIZE_MAX), field, msg);
        else if (field[0] != '\0')
            hrss__error(c->err, code, "%s: %s", field, msg);
        else
            hrss__error(c->err, code, "%s", msg);
    }
    if (c->report != NULL)
        c->report(c->ctx, code, field, msg);
}

const char *hrss__json_type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "object";
    case JSON_ARRAY:
        return "array";
    case JSON_STRING:
        return "string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "boolean";
    default:
        return "null";
    }
}

static int comm_status_check(const char *s, size_t len, hrss_error *err)
{
    return hrss_comm_status_parse(s, len, NULL, err);
}

#define IN_REQ 1u
#define IN_RES 2u

/* Rules the engine refers to by position. */
enum { RULE_REQ_TIME = 4, RULE_COMM_STATUS = 7, RULE_TIMESTAMP = 10 };

/* Header fields of tables 1 and 2 (and the nonce of design.md 1), in the
 * order missing ones are reported. A field unknown to a kind is checked as
 * an "other" field. */
static const struct field_rule {
    const char *name;
    size_t max;        /* characters */
    unsigned known;    /* kinds that know the field */
    unsigned required; /* kinds that require it */
    int (*check)(const char *, size_t, hrss_error *);
} field_rules[] = {
    {"serviceCode", HRSS_INTERFACE_CODE_LEN, IN_REQ | IN_RES, IN_REQ | IN_RES,
     hrss_interface_code_check},
    {"appCode", HRSS_SYSTEM_CODE_LEN, IN_REQ | IN_RES, IN_REQ | IN_RES, hrss_system_code_check},
    {"serviceAreaCode", HRSS_AREA_CODE_LEN, IN_REQ | IN_RES, IN_REQ | IN_RES, hrss_area_code_check},
    {"serviceReqId", HRSS_ID_LEN, IN_REQ | IN_RES, IN_REQ | IN_RES, hrss_id_check},
    [RULE_REQ_TIME] = {"serviceReqTime", HRSS_TIME_LEN, IN_REQ | IN_RES, IN_REQ | IN_RES,
                       hrss_time_check},
    {"serviceResId", HRSS_ID_LEN, IN_RES, IN_RES, hrss_id_check},
    {"serviceResTime", HRSS_TIME_LEN, IN_RES, IN_RES, hrss_time_check},
    [RULE_COMM_STATUS] = {"commStatus", 2, IN_RES, IN_RES, comm_status_check},
    {"busiStatus", HRSS_BUSI_STATUS_MAX, IN_RES, 0, NULL},
    {"msg", HRSS_MSG_MAX, IN_RES, 0, NULL},
    [RULE_TIMESTAMP] = {"timestamp", HRSS_TIME_LEN, IN_REQ | IN_RES, 0, /* alias, design.md 1 */
                        hrss_time_check},
    {"signature", HRSS_SIGNATURE_MAX, IN_REQ | IN_RES, 0, NULL},
    {"nonce", HRSS_NONCE_LEN, IN_REQ | IN_RES, 0, hrss_nonce_check},
};

static const struct field_rule *find_rule(const char *name, size_t len, unsigned kind)
{
    for (size_t i = 0; i < HRSS_ARRAY_LEN(field_rules); i++)
        if ((field_rules[i].known & kind) && strlen(field_rules[i].name) == len &&
            memcmp(field_rules[i].name, name, len) == 0)
            return &field_rules[i];
    return NULL;
}

static int is_header_key(const char *k, size_t len)
{
    if (len < 1 || len > HEADER_KEY_MAX)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char ch = k[i];
        if (!((ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
              ch == '_'))
            return 0;
    }
    return 1;
}

static void check_header_field(struct checker *c, const char *path, const struct field_rule *rule,
                               const char *key, size_t keylen, const json_t *value)
{
    const char *s;
    size_t n, chars, max;
    hrss_error e;

    if (!json_is_string(value)) {
        violation(c, HRSS_ETYPE, path, "must be a string, found %s", hrss__json_type_name(value));
        return;
    }
    s = json_string_value(value);
    n = json_string_length(value);
    if (!utf8_is_valid(s, n)) { /* only a built envelope can get here */
        violation(c, HRSS_EUTF8, path, "invalid UTF-8");
        return;
    }
    if (memchr(s, '\0', n) != NULL) {
        violation(c, HRSS_EFORMAT, path, "contains U+0000");
        return;
    }
    if (rule == NULL && !is_header_key(key, keylen))
        violation(c, HRSS_EFORMAT, path, "field name must be 1 to %d of [A-Za-z0-9_]",
                  HEADER_KEY_MAX);
    chars = utf8_count(s, n);
    max = rule != NULL ? rule->max : HEADER_VALUE_MAX;
    if (chars > max) {
        /* a malformed field (HTTP 400 naming it), not an oversized request (413) */
        violation(c, HRSS_EFORMAT, path, "length %zu, at most %zu", chars, max);
        return;
    }
    if (rule != NULL && rule->check != NULL && rule->check(s, n, &e) != HRSS_OK) {
        violation(c, e.code, path, "%s", e.msg);
        return;
    }
    if (rule == &field_rules[RULE_COMM_STATUS])
        c->comm_ok = n == 2 && memcmp(s, "00", 2) == 0;
}

static void check_header(struct checker *c, json_t *header)
{
    unsigned kind = c->kind == HRSS_ENV_RESPONSE ? IN_RES : IN_REQ;
    const char *table = c->kind == HRSS_ENV_RESPONSE ? "table 2" : "table 1";
    int seen[HRSS_ARRAY_LEN(field_rules)] = {0};
    char path[HRSS_ERROR_MSG_MAX];
    size_t nfields;

    if (!json_is_object(header)) {
        violation(c, HRSS_ETYPE, "header", "must be an object, found %s",
                  hrss__json_type_name(header));
        return;
    }
    nfields = json_object_size(header);
    if (nfields > HEADER_FIELDS_MAX)
        violation(c, HRSS_ETOOBIG, "header", "%zu fields, at most %d", nfields, HEADER_FIELDS_MAX);
    for (void *it = json_object_iter(header); it != NULL; it = json_object_iter_next(header, it)) {
        const char *key = json_object_iter_key(it);
        size_t keylen = json_object_iter_key_len(it);
        const struct field_rule *rule = find_rule(key, keylen, kind);

        path[0] = '\0';
        path_add(path, sizeof(path), "header");
        path_add_key(path, sizeof(path), key, keylen);
        if (rule != NULL) {
            size_t idx = (size_t)(rule - field_rules);
            seen[idx] = 1;
            if ((idx == RULE_TIMESTAMP && seen[RULE_REQ_TIME]) ||
                (idx == RULE_REQ_TIME && seen[RULE_TIMESTAMP]))
                violation(c, HRSS_EFORMAT, path,
                          "both timestamp and serviceReqTime; send one (timestamp is an alias)");
        }
        check_header_field(c, path, rule, key, keylen, json_object_iter_value(it));
    }
    for (size_t i = 0; i < HRSS_ARRAY_LEN(field_rules); i++) {
        if (!(field_rules[i].required & kind) || seen[i])
            continue;
        if (i == RULE_REQ_TIME && seen[RULE_TIMESTAMP])
            continue;
        snprintf(path, sizeof(path), "header.%s", field_rules[i].name);
        violation(c, HRSS_EMISSING, path, "missing (required by %s)", table);
    }
}

/* Counts the characters of a compact dump, stopping once past the limit. */
struct char_count {
    size_t n;
    size_t limit;
};

static int count_chars(const char *buf, size_t size, void *data)
{
    struct char_count *cc = data;
    cc->n += utf8_count(buf, size);
    return cc->n > cc->limit ? -1 : 0;
}

static void check_body(struct checker *c, json_t *body)
{
    size_t depth, chars;

    if (json_is_string(body)) {
        chars = utf8_count(json_string_value(body), json_string_length(body));
        if (chars > HRSS_BODY_MAX_CHARS)
            violation(c, HRSS_ETOOBIG, "body", "%zu characters, at most %d", chars,
                      HRSS_BODY_MAX_CHARS);
        return;
    }
    if (!json_is_object(body)) {
        violation(c, HRSS_ETYPE, "body", "must be an object or a string, found %s",
                  hrss__json_type_name(body));
        return;
    }
    /* The envelope is level 1, so the body's own levels start at 2. */
    depth = 1 + hrss__json_depth(body, HRSS_JSON_MAX_DEPTH);
    if (depth > HRSS_JSON_MAX_DEPTH) {
        violation(c, HRSS_ETOOBIG, "body", "nesting depth over %d", HRSS_JSON_MAX_DEPTH);
        return;
    }
    struct char_count cc = {0, HRSS_BODY_MAX_CHARS};
    if (json_dump_callback(body, count_chars, &cc, JSON_COMPACT) != 0 &&
        cc.n <= HRSS_BODY_MAX_CHARS) {
        /* Only a built body gets here: invalid UTF-8 set with a _nocheck
         * jansson call, or no memory. */
        violation(c, HRSS_EFORMAT, "body", "cannot be serialised as JSON");
        return;
    }
    if (cc.n > HRSS_BODY_MAX_CHARS)
        violation(c, HRSS_ETOOBIG, "body", "more than %d characters of compact JSON",
                  HRSS_BODY_MAX_CHARS);
}

static void check_body_absent(struct checker *c)
{
    if (c->kind == HRSS_ENV_REQUEST)
        violation(c, HRSS_EMISSING, "body", "missing (required by table 1)");
    else if (c->comm_ok)
        violation(c, HRSS_EMISSING, "body", "missing (required by table 2 when commStatus is 00)");
}

/* ---- public API ---- */

int hrss_envelope_parse(const char *buf, size_t len, hrss_envelope_kind kind, hrss_envelope **out,
                        hrss_violation_fn report, void *ctx, hrss_error *err)
{
    struct checker c = {kind, report, ctx, err, HRSS_OK, 0};
    char field[HRSS_ERROR_MSG_MAX], msg[HRSS_ERROR_MSG_MAX], path[HRSS_ERROR_MSG_MAX];
    json_t *root = NULL, *header = NULL, *body = NULL;
    hrss_envelope *e = NULL;
    int rc;

    if (out != NULL)
        *out = NULL;
    if (out == NULL || (buf == NULL && len > 0) ||
        (kind != HRSS_ENV_REQUEST && kind != HRSS_ENV_RESPONSE))
        return hrss__error(err, HRSS_EINVAL, "no output, no input, or an unknown kind");
    if (len > HRSS_ENVELOPE_MAX_BYTES) {
        violation(&c, HRSS_ETOOBIG, "", "%zu bytes, at most %d", len, HRSS_ENVELOPE_MAX_BYTES);
        return c.first;
    }
    rc = hrss__json_load_strict(buf != NULL ? buf : "", len, 0, "", &root, field, sizeof(field),
                                msg, sizeof(msg));
    if (rc != HRSS_OK) {
        violation(&c, rc, field, "%s", msg);
        return c.first;
    }
    if (!json_is_object(root)) {
        violation(&c, HRSS_ETYPE, "", "the top level must be an object, found %s",
                  hrss__json_type_name(root));
        goto done;
    }
    for (void *it = json_object_iter(root); it != NULL; it = json_object_iter_next(root, it)) {
        const char *key = json_object_iter_key(it);
        json_t *value = json_object_iter_value(it);
        if (strcmp(key, "header") == 0) {
            header = value;
            check_header(&c, header);
        } else if (strcmp(key, "body") == 0) {
            body = value;
            check_body(&c, body);
        } else {
            path[0] = '\0';
            path_add_key(path, sizeof(path), key, json_object_iter_key_len(it));
            violation(&c, HRSS_EFORMAT, path,
                      "unknown member (an envelope has only header and body)");
        }
    }
    if (header == NULL)
        violation(&c, HRSS_EMISSING, "header", "missing");
    if (body == NULL && header != NULL)
        check_body_absent(&c);
    if (c.first != HRSS_OK)
        goto done;
    e = calloc(1, sizeof(*e));
    if (e == NULL) {
        violation(&c, HRSS_ENOMEM, "", "out of memory");
        goto done;
    }
    e->kind = kind;
    e->header = json_incref(header);
    e->body = json_incref(body);
    *out = e;
done:
    json_decref(root);
    return c.first;
}

/* ---- the relay parse: one pass, a flat header ---- */

/* The rules of check_header and check_body_absent on decoded fields, with
 * no report: 1 when none is broken. */
static int flat_header_ok(hrss_envelope_kind kind, const struct flat_header *h, int has_body)
{
    unsigned k = kind == HRSS_ENV_RESPONSE ? IN_RES : IN_REQ;
    int seen[HRSS_ARRAY_LEN(field_rules)] = {0};
    int comm_ok = 0;
    hrss_error e;

    for (size_t i = 0; i < h->n; i++) {
        const hrss__field *f = &h->f[i];
        const struct field_rule *rule = find_rule(f->key, f->key_len, k);
        if (rule != NULL) {
            size_t idx = (size_t)(rule - field_rules);
            seen[idx] = 1;
            if ((idx == RULE_TIMESTAMP && seen[RULE_REQ_TIME]) ||
                (idx == RULE_REQ_TIME && seen[RULE_TIMESTAMP]))
                return 0;
        } else if (!is_header_key(f->key, f->key_len)) {
            return 0;
        }
        if (utf8_count(f->val, f->val_len) > (rule != NULL ? rule->max : HEADER_VALUE_MAX))
            return 0;
        if (rule != NULL && rule->check != NULL && rule->check(f->val, f->val_len, &e) != HRSS_OK)
            return 0;
        if (rule == &field_rules[RULE_COMM_STATUS])
            comm_ok = f->val_len == 2 && memcmp(f->val, "00", 2) == 0;
    }
    for (size_t i = 0; i < HRSS_ARRAY_LEN(field_rules); i++)
        if ((field_rules[i].required & k) && !seen[i] &&
            !(i == RULE_REQ_TIME && seen[RULE_TIMESTAMP]))
            return 0;
    if (!has_body && (kind == HRSS_ENV_REQUEST || comm_ok))
        return 0;
    return 1;
}

int hrss__envelope_parse_fast(const char *buf, size_t len, hrss_envelope_kind kind,
                              hrss_envelope **out)
{
    hrss__scan sc;
    size_t room = 0;
    int rc;

    *out = NULL;
    rc = hrss__envelope_scan(buf, len, &sc);
    if (rc != HRSS__SCAN_ACCEPT)
        return rc;
    for (size_t i = 0; i < sc.n_fields; i++)
        room += sc.fields[i].key_len + sc.fields[i].val_len + 2;
    size_t fsz = sizeof(struct flat_header) + sc.n_fields * sizeof(hrss__field);
    hrss_envelope *e = malloc(sizeof(*e) + fsz + room);
    if (e == NULL)
        return HRSS__SCAN_DEFER; /* the full parser reports the lack of memory */
    memset(e, 0, sizeof(*e));
    struct flat_header *h = (struct flat_header *)(e + 1);
    char *t = (char *)h + fsz;
    h->n = sc.n_fields;
    for (size_t i = 0; i < sc.n_fields; i++) {
        const hrss__scan_field *sf = &sc.fields[i];
        hrss__field *f = &h->f[i];
        f->key = t;
        if (sf->key_escaped)
            f->key_len = hrss__json_unescape(sf->key, sf->key_len, t);
        else
            memcpy(t, sf->key, f->key_len = sf->key_len);
        t += f->key_len;
        *t++ = '\0';
        f->val = t;
        if (sf->val_escaped)
            f->val_len = hrss__json_unescape(sf->val, sf->val_len, t);
        else
            memcpy(t, sf->val, f->val_len = sf->val_len);
        t += f->val_len;
        *t++ = '\0';
    }
    if (!flat_header_ok(kind, h, sc.has_body)) {
        free(e);
        return HRSS__SCAN_REJECT;
    }
    e->kind = kind;
    e->flat = h;
    e->body_checked = sc.has_body;
    *out = e;
    return HRSS__SCAN_ACCEPT;
}

int hrss_envelope_parse_relay(const char *buf, size_t len, hrss_envelope_kind kind,
                              hrss_envelope **out, hrss_error *err)
{
    int rc;

    if (out == NULL || (buf == NULL && len > 0) ||
        (kind != HRSS_ENV_REQUEST && kind != HRSS_ENV_RESPONSE)) {
        if (out != NULL)
            *out = NULL;
        return hrss__error(err, HRSS_EINVAL, "no output, no input, or an unknown kind");
    }
    if (hrss__envelope_parse_fast(buf != NULL ? buf : "", len, kind, out) == HRSS__SCAN_ACCEPT)
        return HRSS_OK;
    /* refused or not settled: the full parser gives the verdict and message */
    rc = hrss_envelope_parse(buf, len, kind, out, NULL, NULL, err);
    if (rc == HRSS_OK && (*out)->body != NULL) {
        json_decref((*out)->body);
        (*out)->body = NULL;
        (*out)->body_checked = 1;
    }
    return rc;
}

size_t hrss__envelope_flat(const hrss_envelope *e, const hrss__field **fields)
{
    if (e == NULL || e->header != NULL || e->flat == NULL) {
        *fields = NULL;
        return 0;
    }
    *fields = e->flat->f;
    return e->flat->n;
}

/* The header as an object: built from the flat fields the first time it is
 * asked for (the envelope is not shared between threads). NULL when out of
 * memory. */
static json_t *header_obj(const hrss_envelope *ce)
{
    hrss_envelope *e = (hrss_envelope *)ce;
    if (e->header != NULL || e->flat == NULL)
        return e->header;
    json_t *h = json_object();
    for (size_t i = 0; h != NULL && i < e->flat->n; i++) {
        const hrss__field *f = &e->flat->f[i];
        if (json_object_setn_new_nocheck(h, f->key, f->key_len,
                                         json_stringn_nocheck(f->val, f->val_len)) != 0) {
            json_decref(h);
            h = NULL;
        }
    }
    if (h != NULL) {
        e->header = h;
        e->flat = NULL; /* its memory goes with the envelope */
    }
    return h;
}

hrss_envelope *hrss_envelope_new(hrss_envelope_kind kind)
{
    hrss_envelope *e = calloc(1, sizeof(*e));
    if (e == NULL)
        return NULL;
    e->kind = kind;
    e->header = json_object();
    if (e->header == NULL) {
        free(e);
        return NULL;
    }
    return e;
}

void hrss_envelope_free(hrss_envelope *e)
{
    if (e == NULL)
        return;
    json_decref(e->header);
    json_decref(e->body);
    free(e);
}

hrss_envelope_kind hrss_envelope_kind_of(const hrss_envelope *e)
{
    return e->kind;
}

/* The header member holding field: "serviceReqTime" falls back to its
 * alias "timestamp" (docs/design.md decision 1). */
static json_t *header_member(const hrss_envelope *e, const char *field, const char **key)
{
    json_t *header = header_obj(e);
    json_t *v = json_object_get(header, field);
    *key = field;
    if (v == NULL && strcmp(field, "serviceReqTime") == 0) {
        v = json_object_get(header, "timestamp");
        if (v != NULL)
            *key = "timestamp";
    }
    return v;
}

const char *hrss_envelope_get(const hrss_envelope *e, const char *field)
{
    const char *key;
    json_t *v;

    if (e == NULL || field == NULL)
        return NULL;
    if (e->header == NULL && e->flat != NULL) {
        /* the flat header: a few fields, looked at in turn */
        size_t n = strlen(field);
        const char *alias = NULL;
        for (size_t i = 0; i < e->flat->n; i++) {
            const hrss__field *f = &e->flat->f[i];
            if (f->key_len == n && memcmp(f->key, field, n) == 0)
                return f->val;
            if (f->key_len == 9 && memcmp(f->key, "timestamp", 9) == 0)
                alias = f->val;
        }
        return strcmp(field, "serviceReqTime") == 0 ? alias : NULL;
    }
    v = header_member(e, field, &key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

int hrss_envelope_set(hrss_envelope *e, const char *field, const char *value)
{
    const char *key;
    json_t *v;

    if (e == NULL || field == NULL)
        return HRSS_EINVAL;
    if (!utf8_is_valid(field, strlen(field)))
        return HRSS_EUTF8;
    /* Setting the request time updates "timestamp" when the envelope uses
     * that alias, so that there is never both; removing removes either. */
    header_member(e, field, &key);
    if (e->header == NULL)
        return HRSS_ENOMEM;
    if (value == NULL) {
        json_object_del(e->header, key);
        return HRSS_OK;
    }
    if (!utf8_is_valid(value, strlen(value)))
        return HRSS_EUTF8;
    v = json_string(value);
    if (v == NULL || json_object_set_new(e->header, key, v) != 0)
        return HRSS_ENOMEM;
    return HRSS_OK;
}

json_t *hrss_envelope_header(const hrss_envelope *e)
{
    return e != NULL ? header_obj(e) : NULL;
}

json_t *hrss_envelope_body(const hrss_envelope *e)
{
    return e != NULL ? e->body : NULL;
}

int hrss_envelope_set_body(hrss_envelope *e, json_t *body)
{
    if (e == NULL) {
        json_decref(body);
        return HRSS_EINVAL;
    }
    json_decref(e->body);
    e->body = body;
    return HRSS_OK;
}

int hrss_envelope_validate(const hrss_envelope *e, hrss_violation_fn report, void *ctx,
                           hrss_error *err)
{
    if (e == NULL)
        return hrss__error(err, HRSS_EINVAL, "no envelope");
    struct checker c = {e->kind, report, ctx, err, HRSS_OK, 0};
    json_t *header = header_obj(e);
    if (header == NULL && e->flat != NULL)
        return hrss__error(err, HRSS_ENOMEM, "out of memory");
    check_header(&c, header);
    if (e->body != NULL)
        check_body(&c, e->body);
    else if (!e->body_checked)
        check_body_absent(&c);
    return c.first;
}

int hrss_envelope_new_response(const hrss_envelope *req, const char *res_id, hrss_comm_status st,
                               const char *busi_status, const char *msg, hrss_envelope **out,
                               hrss_error *err)
{
    static const char *const copied[] = {"serviceCode", "appCode", "serviceAreaCode",
                                         "serviceReqId", "serviceReqTime"};
    const char *status = hrss_comm_status_str(st);
    char now[HRSS_TIME_LEN + 1];
    hrss_envelope *e = NULL;
    char *cut = NULL;
    int rc = HRSS_OK;

    if (out != NULL)
        *out = NULL;
    if (req == NULL || res_id == NULL || out == NULL || status == NULL)
        return hrss__error(err, HRSS_EINVAL,
                           "a request, a response id and a commStatus of table 2 are required");
    e = hrss_envelope_new(HRSS_ENV_RESPONSE);
    if (e == NULL)
        return hrss__error(err, HRSS_ENOMEM, "out of memory");
    /* The order of the standard's examples (6.2.1.4). */
    for (size_t i = 0; i < HRSS_ARRAY_LEN(copied) && rc == HRSS_OK; i++) {
        const char *v = hrss_envelope_get(req, copied[i]);
        if (v != NULL)
            rc = hrss_envelope_set(e, copied[i], v);
    }
    hrss_time_now(now);
    if (rc == HRSS_OK)
        rc = hrss_envelope_set(e, "serviceResTime", now);
    if (rc == HRSS_OK)
        rc = hrss_envelope_set(e, "serviceResId", res_id);
    if (rc == HRSS_OK)
        rc = hrss_envelope_set(e, "commStatus", status);
    if (rc == HRSS_OK && busi_status != NULL)
        rc = hrss_envelope_set(e, "busiStatus", busi_status);
    if (rc == HRSS_OK && msg != NULL) {
        /* Cut at 200 characters on a character boundary (and before any
         * invalid byte, which could not be sent anyway). */
        size_t n = utf8_prefix(msg, strlen(msg), HRSS_MSG_MAX);
        cut = malloc(n + 1);
        if (cut == NULL) {
            rc = HRSS_ENOMEM;
        } else {
            memcpy(cut, msg, n);
            cut[n] = '\0';
            rc = hrss_envelope_set(e, "msg", cut);
        }
    }
    if (rc != HRSS_OK) {
        hrss__error(err, rc,
                    rc == HRSS_EUTF8 ? "response id or busiStatus: invalid UTF-8"
                                     : "out of memory");
        goto done;
    }
    *out = e;
    e = NULL;
done:
    free(cut);
    hrss_envelope_free(e);
    return rc;
}

static int append_dump(const char *buf, size_t size, void *data)
{
    return buf_append(data, buf, size);
}

int hrss__json_dump_compact(const json_t *v, char **out, size_t *outlen)
{
    hrss_buf b;
    int rc = HRSS_OK;

    *out = NULL;
    buf_init(&b, SIZE_MAX);
    if (json_dump_callback(v, append_dump, &b, JSON_COMPACT | JSON_PRESERVE_ORDER) != 0)
        rc = HRSS_EFORMAT; /* or no memory: jansson does not say which */
    else if ((*out = buf_detach(&b, outlen)) == NULL)
        rc = HRSS_ENOMEM;
    buf_free(&b);
    return rc;
}

int hrss_envelope_serialize(const hrss_envelope *e, char **out, size_t *outlen)
{
    json_t *root = NULL;
    int rc = HRSS_ENOMEM;

    if (out != NULL)
        *out = NULL;
    if (e == NULL || out == NULL)
        return HRSS_EINVAL;
    root = json_object();
    if (root == NULL || header_obj(e) == NULL || json_object_set(root, "header", e->header) != 0 ||
        (e->body != NULL && json_object_set(root, "body", e->body) != 0))
        goto done;
    rc = hrss__json_dump_compact(root, out, outlen);
done:
    json_decref(root);
    return rc;
}
