/*
 * fuzz/fuzz_sms_command.c - the SMS command engine's parsers on arbitrary
 * bytes: an input starting with '{' is loaded as a command table and as a
 * reply template file (each must load or refuse with a message; loaded
 * templates are rendered), anything else is parsed as an uplink text
 * against table 1 of LD/T 6007 6.3.2. A parse must always end in
 * a status, with parameters that are terminated and within their limits.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sms/command.h"
#include "sms/reply.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char table1[] =
    "{\"commands\":["
    "{\"name\":\"TD\",\"category\":\"manage\",\"handler\":\"builtin:td\"},"
    "{\"name\":\"BD\",\"category\":\"manage\",\"handler\":\"builtin:bd\",\"params\":["
    "{\"name\":\"ssn\",\"type\":\"ssn\"},{\"name\":\"password\",\"type\":\"password\"}]},"
    "{\"name\":\"MMCZ\",\"category\":\"manage\",\"handler\":\"builtin:mmcz\",\"params\":["
    "{\"name\":\"old\",\"type\":\"password\"},{\"name\":\"new\",\"type\":\"password\"}]},"
    "{\"name\":\"CBXX\",\"category\":\"query\",\"handler\":\"builtin:cbxx\",\"params\":["
    "{\"name\":\"name\",\"type\":\"name\",\"optional\":true}]},"
    "{\"name\":\"JF\",\"category\":\"query\",\"handler\":\"service\",\"service\":\"S110000Y70PYTjb\","
    "\"params\":[{\"name\":\"n\",\"type\":\"digits\",\"optional\":true},"
    "{\"name\":\"t\",\"type\":\"text\",\"optional\":true}]}]}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static sms_cmd_table *t;
    char err[SMS_CMD_ERR_MAX];

    if (t == NULL && (t = sms_cmd_table_load("table1", table1, strlen(table1), err)) == NULL)
        abort();
    if (size > 0 && data[0] == '{') {
        err[0] = '\0';
        sms_cmd_table *u = sms_cmd_table_load("fuzz.json", (const char *)data, size, err);
        if (u == NULL && err[0] == '\0')
            abort();
        if (u != NULL) {
            char usages[256];
            sms_cmd_table_usages(u, " ", usages, sizeof(usages));
            if (strlen(usages) >= sizeof(usages))
                abort();
        }
        sms_cmd_table_free(u);
        err[0] = '\0';
        sms_replies *r = sms_replies_load("fuzz.json", (const char *)data, size, NULL, 63, err);
        if (r == NULL && err[0] == '\0')
            abort();
        if (r != NULL) {
            static const sms_var vars[] = {{"name", "张三"}, {"ssn", "440101********0236"}};
            const char *keys[] = {"a", "unknown", "bd_ok"};
            for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
                const char *tmpl = sms_replies_get(r, keys[i]);
                char *out = tmpl ? sms_render(tmpl, vars, 2, 63, err, sizeof(err)) : NULL;
                free(out);
            }
        }
        sms_replies_free(r);
        return 0;
    }
    sms_cmd c;
    sms_cmd_parse(t, (const char *)data, size, &c);
    switch (c.status) {
    case SMS_CMD_OK:
        if (c.def == NULL || c.nparams > c.def->nparams)
            abort();
        break;
    case SMS_CMD_MALFORMED:
        if (c.def == NULL || c.why[0] == '\0')
            abort();
        break;
    case SMS_CMD_EMPTY:
    case SMS_CMD_UNKNOWN:
        if (c.def != NULL)
            abort();
        break;
    default:
        abort();
    }
    for (int i = 0; i < c.nparams; i++)
        if (strlen(c.params[i]) > SMS_CMD_PARAM_MAX)
            abort();
    return 0;
}
