/*
 * sms/reply.h - the texts hrss-sms sends back to citizens: every reply lives
 * in a template file (etc/sms-replies.json, Chinese, short, LD/T 6007 6.2.2),
 * so that a province words them without code. Placeholders are ${name};
 * values are supplied at rendering and must already be masked where they are
 * personal numbers.
 *
 * A reply must fit in one message: rendering refuses a text longer than the
 * characters the caller allows (70 for UCS2 minus the account signature,
 * docs/design.md decision 8), so that the caller falls back to a shorter
 * reply rather than sending something cut. Loaded sets are immutable and may
 * be shared by threads.
 */
#ifndef HRSS_SMS_REPLY_H
#define HRSS_SMS_REPLY_H

#include <stddef.h>

#define SMS_REPLY_ERR_MAX 160

typedef struct sms_var {
    const char *name;
    const char *value;
} sms_var;

typedef struct sms_replies sms_replies;

/* Loads a JSON object of name -> template. required lists the names that
 * must be present (NULL-terminated, may be NULL). Every template must be a
 * non-empty string with well-formed placeholders whose fixed text leaves
 * room within max_chars. NULL with "file: name: what" in err on error. */
sms_replies *sms_replies_load(const char *file, const char *text, size_t len,
                              const char *const *required, size_t max_chars, char *err);
sms_replies *sms_replies_load_file(const char *path, const char *const *required,
                                   size_t max_chars, char *err);
void sms_replies_free(sms_replies *r);

/* The template of that name, or NULL. */
const char *sms_replies_get(const sms_replies *r, const char *name);

/* Fills tmpl's placeholders from vars. Returns a malloc'd text, or NULL with
 * err when a placeholder has no value, a value is not valid UTF-8, or the
 * text would exceed max_chars characters (0: no limit). */
char *sms_render(const char *tmpl, const sms_var *vars, size_t nvars, size_t max_chars,
                 char *err, size_t errlen);

#endif
