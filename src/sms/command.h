/*
 * sms/command.h - the SMS command engine's parser (LD/T 6007 6.3): uplink
 * texts such as "cbxx#张三" or "ＢＤ＃440101199003070236＃123456" are
 * normalised and parsed against a command table that a province configures
 * (6.3.2: provinces extend table 1 by the same coding rules), so adding a
 * command needs no code.
 *
 * Rules (6.3.1 and docs/design.md decision 10): command names are pinyin
 * initials, case-insensitive; the command and its parameters are separated
 * by "#"; full-width forms (＃, Ａ-Ｚ, ０-９, the ideographic space) are
 * accepted and normalised to half-width; a command without parameters acts
 * for the sender himself ("TD#" and "TD" are the same command).
 *
 * The command table is JSON (etc/sms-commands.json documents it):
 *
 *   {"commands": [
 *     {"name": "CBXX", "category": "query", "usage": "CBXX#参保人姓名",
 *      "params": [{"name": "name", "type": "name", "optional": true}],
 *      "handler": "service", "service": "S110000Y70PYTjb",
 *      "request": {"aac003": "${name}"}, "reply": "cbxx"},
 *     ...]}
 *
 * category: "manage", "query" or "business" (the three classes of 6.3.1);
 * handler: "builtin:<name>" (TD, BD, QXBD, QXFW, MMCZ ... implemented in
 * hrss-sms) or "service" (a collaboration-platform service: request is the
 * body template, its ${param} placeholders filled from the parameters and
 * the sender's binding; reply names the reply template).
 * Parameter types: "ssn" (GB 11643), "password" (4-16 of 0-9A-Za-z), "name"
 * (1-20 characters, no digits), "digits", "text".
 *
 * A table is immutable once loaded and may be shared by threads.
 */
#ifndef HRSS_SMS_COMMAND_H
#define HRSS_SMS_COMMAND_H

#include <stddef.h>

#include <jansson.h>

#define SMS_CMD_NAME_MAX 16    /* bytes of a command name */
#define SMS_CMD_PARAMS_MAX 4   /* parameters of one command */
#define SMS_CMD_PARAM_MAX 64   /* bytes of one parameter, normalised */
#define SMS_CMD_TEXT_MAX 480   /* bytes of an uplink text that is parsed */
#define SMS_CMD_ERR_MAX 160

typedef enum sms_param_type {
    SMS_PARAM_TEXT,
    SMS_PARAM_SSN,
    SMS_PARAM_PASSWORD,
    SMS_PARAM_NAME,
    SMS_PARAM_DIGITS,
} sms_param_type;

typedef enum sms_cmd_category {
    SMS_CMD_MANAGE,
    SMS_CMD_QUERY,
    SMS_CMD_BUSINESS,
} sms_cmd_category;

typedef struct sms_param_def {
    char *name;
    sms_param_type type;
    int optional; /* only trailing parameters may be optional */
} sms_param_def;

typedef struct sms_cmd_def {
    char name[SMS_CMD_NAME_MAX + 1]; /* upper case */
    sms_cmd_category category;
    char *usage;   /* "BD#社会保障号码#密码", shown in help replies */
    char *handler; /* "builtin:bd" or "service" */
    char *service; /* interface code, for handler "service" */
    char *area;    /* serviceAreaCode, for handler "service" (may be NULL) */
    json_t *request; /* body template, for handler "service" (may be NULL) */
    char *reply;     /* reply template name (may be NULL) */
    char *work_order; /* the response field holding the number of a work order
                       * the service opened ("data.workOrder"), for a
                       * business command whose result is sent later (7.3);
                       * may be NULL */
    int nparams;
    sms_param_def params[SMS_CMD_PARAMS_MAX];
} sms_cmd_def;

typedef struct sms_cmd_table sms_cmd_table;

/* Loads a table from JSON text; on error returns NULL with "where: what" in
 * err (SMS_CMD_ERR_MAX bytes). name is the file name used in messages. */
sms_cmd_table *sms_cmd_table_load(const char *name, const char *text, size_t len, char *err);
sms_cmd_table *sms_cmd_table_load_file(const char *path, char *err);
void sms_cmd_table_free(sms_cmd_table *t);

int sms_cmd_table_count(const sms_cmd_table *t);
const sms_cmd_def *sms_cmd_table_at(const sms_cmd_table *t, int i);
/* The command of that (normalised, upper-case) name, or NULL. */
const sms_cmd_def *sms_cmd_table_find(const sms_cmd_table *t, const char *name);

/* The usages of every command, "TD# BD#社会保障号码#密码 ...", separated by
 * sep, into out (outlen bytes, always terminated, cut at a whole usage).
 * Returns out. */
const char *sms_cmd_table_usages(const sms_cmd_table *t, const char *sep, char *out,
                                 size_t outlen);

typedef enum sms_cmd_status {
    SMS_CMD_OK,        /* def and params filled */
    SMS_CMD_EMPTY,     /* nothing but blanks */
    SMS_CMD_UNKNOWN,   /* no such command; name holds what was sent (cut) */
    SMS_CMD_MALFORMED, /* known command, bad parameters; why says which rule */
} sms_cmd_status;

typedef struct sms_cmd {
    sms_cmd_status status;
    const sms_cmd_def *def; /* OK and MALFORMED */
    char name[SMS_CMD_NAME_MAX + 1];
    int nparams; /* parameters given (0: for the sender himself) */
    char params[SMS_CMD_PARAMS_MAX][SMS_CMD_PARAM_MAX + 1];
    char why[SMS_CMD_ERR_MAX]; /* MALFORMED: e.g. "parameter 1 (ssn): check character..." */
} sms_cmd;

/* Normalises text to half-width (see above) into out (outlen bytes, always
 * terminated) and trims blanks at both ends; returns the length, or -1 when
 * text is not valid UTF-8 or does not fit. */
long sms_cmd_normalise(const char *text, size_t len, char *out, size_t outlen);

/* Parses one uplink text against t. Never fails for bad input: the status
 * says what the text was. Parameters are never logged by this module; the
 * caller masks them (a parameter may be a social security number or a
 * password). */
void sms_cmd_parse(const sms_cmd_table *t, const char *text, size_t len, sms_cmd *out);

#endif
