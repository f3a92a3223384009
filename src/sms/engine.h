/*
 * sms/engine.h - the uplink command engine of hrss-sms (LD/T 6007 6.2, 6.3,
 * 7.2, 7.3, 7.5): an uplink message from a phone is parsed against the
 * command table (command.h), run, and answered with a reply from the
 * template file (reply.h).
 *
 * Handlers:
 *   builtin:td    the phone no longer receives notices (ops->unsubscribe)
 *   builtin:bd    BD#ssn#password: bind (binding.h); a number taken from
 *                 another phone tells that phone too
 *   builtin:qxbd  QXBD#ssn: unbind
 *   builtin:qxfw  QXFW#: unbind every number and stop notices
 *   builtin:mmcz  MMCZ#old#new: change the service password
 *   service       a collaboration-platform service (ops->call): the person
 *                 the command acts for (the phone's own binding, or the
 *                 bound person of the name given) fills the request
 *                 template's ${ssn} and ${name}; the response body's fields
 *                 fill the reply template (${cardStatus}, ${data.balance}).
 *                 A back end that fails gets the "try_later" reply and an
 *                 alert in the log; one that refuses (a business failure)
 *                 gets "service_refused".
 *
 * Replies never carry a full social security number: ${ssn} in a reply is
 * always the masked form. The engine is safe from any thread; calls to the
 * back end run on the calling thread (hrss-sms runs the engine on worker
 * threads, never on its event loop).
 */
#ifndef HRSS_SMS_ENGINE_H
#define HRSS_SMS_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <sqlite3.h>

#include "binding.h"
#include "command.h"
#include "reply.h"

#define SMS_ENGINE_ERR_MAX 200

typedef struct sms_engine_ops {
    /* Queues text as a reply to phone. 0, or -1 when it could not be queued. */
    int (*reply)(void *ctx, const char *phone, const char *text);
    /* The phone no longer receives notices (TD, QXFW). 0 or -1. */
    int (*unsubscribe)(void *ctx, const char *phone);
    /* Calls service in area (may be NULL) with body (borrowed). 0 with *out
     * the response body (the caller's, json_decref it); 1 with why when the
     * service answered with a business failure (commStatus 10: the citizen
     * is told it could not be done); -1 with why when it could not be
     * reached or failed (the citizen is asked to try later, and it is an
     * alert for the operators). */
    int (*call)(void *ctx, const char *service, const char *area, json_t *body, json_t **out,
                char *why, size_t whylen);
    /* A service command opened work order `order` for the person ssn/name
     * on behalf of phone (command def's "workOrder"): remember it so that
     * its result can be sent when a case worker completes it. May be NULL. */
    int (*work_order)(void *ctx, const char *phone, const char *command, const char *order,
                      const char *ssn, const char *name);
    void *ctx;
} sms_engine_ops;

typedef struct sms_engine_options {
    sqlite3 *db;                 /* bindings live here (bind_init is run) */
    const sms_cmd_table *cmds;   /* borrowed, outlives the engine */
    const sms_replies *replies;  /* borrowed, outlives the engine */
    bind_policy policy;
    size_t room;                 /* characters a reply may have (63) */
} sms_engine_options;

typedef struct sms_engine sms_engine;

/* The reply names the engine uses; a reply file must hold them all. */
extern const char *const sms_engine_replies[];

sms_engine *sms_engine_new(const sms_engine_options *o, const sms_engine_ops *ops, char *err);
void sms_engine_free(sms_engine *e);

/* Handles one uplink text from phone (11 digits) at now (epoch seconds).
 * Returns the name of the reply sent to phone ("bd_ok", "unknown" ...), for
 * logs and tests; never the text. */
const char *sms_engine_handle(sms_engine *e, const char *phone, const char *text, int64_t now);

#endif
