/*
 * tests/unit/sms/test_engine.c - the uplink command engine on the shipped
 * command table and replies, with a real SQLite file and a back end played
 * by the test: every table-1 command, "for myself" and by name, the old
 * phone told when a number moves, a back end that fails, unknown and
 * malformed commands; no reply or log ever holds a full number.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "sms/engine.h"

#define SSN_A "11010519491231002X"
#define SSN_B "440524188001010014"
#define ME "13800000001"
#define OTHER "13900000002"

typedef struct sent {
    char phone[16];
    char text[512];
} sent;

static struct world {
    sqlite3 *db;
    sms_cmd_table *cmds;
    sms_replies *replies;
    sms_engine *e;
    sent out[32];
    int n_out;
    char unsub[8][16];
    int n_unsub;
    int backend_down;
    int backend_refuses;
    char order[96];
    char last_service[32];
    char last_ssn[32];
} w;

static int op_reply(void *ctx, const char *phone, const char *text)
{
    (void)ctx;
    if (w.n_out < 32) {
        snprintf(w.out[w.n_out].phone, sizeof(w.out[0].phone), "%s", phone);
        snprintf(w.out[w.n_out].text, sizeof(w.out[0].text), "%s", text);
        w.n_out++;
    }
    return 0;
}

static int op_unsubscribe(void *ctx, const char *phone)
{
    (void)ctx;
    if (w.n_unsub < 8)
        snprintf(w.unsub[w.n_unsub++], sizeof(w.unsub[0]), "%s", phone);
    return 0;
}

static int op_call(void *ctx, const char *service, const char *area, json_t *body, json_t **out,
                   char *why, size_t whylen)
{
    (void)ctx;
    (void)area;
    snprintf(w.last_service, sizeof(w.last_service), "%s", service);
    snprintf(w.last_ssn, sizeof(w.last_ssn), "%s",
             json_string_value(json_object_get(body, "aac002")));
    if (w.backend_down) {
        snprintf(why, whylen, "node unreachable");
        return -1;
    }
    if (w.backend_refuses) {
        snprintf(why, whylen, "commStatus 10: card is lost already");
        return 1;
    }
    if (strstr(service, "SBKZ"))
        *out = json_pack("{s:{s:s,s:s}}", "data", "cardStatus", "正常", "aaz500", "A123*****");
    else if (strstr(service, "YLYE"))
        *out = json_pack("{s:{s:s,s:i,s:s}}", "data", "balance", "12345.67", "paidMonths", 180,
                         "asOf", "2026-10-31");
    else
        *out = json_pack("{s:{s:s}}", "data", "workOrder", "LSGS0001");
    return 0;
}

static int op_work_order(void *ctx, const char *phone, const char *command, const char *order,
                         const char *ssn, const char *name)
{
    (void)ctx;
    (void)name;
    snprintf(w.order, sizeof(w.order), "%s %s %s %s", phone, command, order, ssn);
    return 0;
}

static int setup(void **state)
{
    (void)state;
    char path[1024], err[256];
    const char *src = getenv("HRSS_SOURCE_DIR");
    static char dir[] = "/tmp/hrss-engine-XXXXXX";
    if (mkdtemp(dir) == NULL)
        return -1;
    snprintf(path, sizeof(path), "%s/sms.db", dir);
    if (sqlite3_open(path, &w.db) != SQLITE_OK)
        return -1;
    snprintf(path, sizeof(path), "%s/etc/sms-commands.json", src ? src : ".");
    w.cmds = sms_cmd_table_load_file(path, err);
    snprintf(path, sizeof(path), "%s/etc/sms-replies.json", src ? src : ".");
    w.replies = sms_replies_load_file(path, sms_engine_replies, 63, err);
    if (w.cmds == NULL || w.replies == NULL)
        fail_msg("%s", err);
    sms_engine_options o = {w.db, w.cmds, w.replies, {3, 600, 1000}, 63};
    sms_engine_ops ops = {.reply = op_reply,
                          .unsubscribe = op_unsubscribe,
                          .call = op_call,
                          .work_order = op_work_order};
    w.e = sms_engine_new(&o, &ops, err);
    if (w.e == NULL)
        fail_msg("%s", err);
    bind_policy pol = o.policy;
    assert_int_equal(bind_person_set(w.db, &pol, SSN_A, "张三", "123456"), BIND_OK);
    assert_int_equal(bind_person_set(w.db, &pol, SSN_B, "李四", "654321"), BIND_OK);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sms_engine_free(w.e);
    sms_cmd_table_free(w.cmds);
    sms_replies_free(w.replies);
    sqlite3_close(w.db);
    return 0;
}

/* Sends text from phone, checks the reply's name and that every reply holds
 * no full social security number. */
static const sent *send(const char *phone, const char *text, const char *want)
{
    w.n_out = 0;
    const char *got = sms_engine_handle(w.e, phone, text, 1000000);
    if (strcmp(got, want) != 0)
        fail_msg("'%s': reply %s, wanted %s (%s)", text, got, want,
                 w.n_out ? w.out[0].text : "nothing sent");
    for (int i = 0; i < w.n_out; i++)
        if (strstr(w.out[i].text, SSN_A) || strstr(w.out[i].text, SSN_B))
            fail_msg("full number in reply: %s", w.out[i].text);
    assert_true(w.n_out >= 1);
    return &w.out[w.n_out - 1];
}

static void test_bind_and_query_for_myself(void **state)
{
    (void)state;
    const sent *s = send(ME, "cbxx", "no_binding");
    assert_string_equal(s->phone, ME);
    s = send(ME, "BD#" SSN_A "#123456", "bd_ok");
    assert_non_null(strstr(s->text, "张三"));
    assert_non_null(strstr(s->text, "110105********002X"));
    s = send(ME, "bd#" SSN_A "#123456", "bd_already");
    s = send(ME, "ＣＢＸＸ", "cbxx");
    assert_string_equal(w.last_service, "S110000Y70PSBKZ");
    assert_string_equal(w.last_ssn, SSN_A); /* the back end gets the full number */
    assert_string_equal(s->text, "张三：社会保障卡正常，卡号A123*****。");
    s = send(ME, "YLZHYE#", "ylzhye");
    assert_non_null(strstr(s->text, "12345.67"));
    assert_non_null(strstr(s->text, "180"));
}

static void test_by_name_and_moves(void **state)
{
    (void)state;
    send(ME, "BD#" SSN_B "#654321", "bd_ok");
    const sent *s = send(ME, "cbxx#李四", "cbxx");
    assert_string_equal(w.last_ssn, SSN_B);
    assert_non_null(strstr(s->text, "李四"));
    s = send(ME, "cbxx#王五", "name_unknown");
    assert_non_null(strstr(s->text, "王五"));
    /* another phone binds 张三: it moves, and the old phone is told */
    w.n_out = 0;
    assert_string_equal(sms_engine_handle(w.e, OTHER, "BD#" SSN_A "#123456", 1000000), "bd_ok");
    assert_int_equal(w.n_out, 2);
    assert_string_equal(w.out[0].phone, ME);
    assert_non_null(strstr(w.out[0].text, "110105********002X"));
    assert_non_null(strstr(w.out[0].text, "改绑"));
    assert_string_equal(w.out[1].phone, OTHER);
    send(ME, "cbxx#张三", "name_unknown");
    send(OTHER, "LSGS", "lsgs");
    assert_string_equal(w.last_service, "S110000Y70PLSGS");
}

static void test_unbind_password_and_lock(void **state)
{
    (void)state;
    send(ME, "QXBD#" SSN_A, "not_bound");
    send(OTHER, "QXBD#" SSN_A, "qxbd_ok");
    send(OTHER, "cbxx", "no_binding");
    send(ME, "MMCZ#000000#111111", "bad_password");
    const sent *s = send(ME, "MMCZ#654321#111111", "mmcz_ok");
    (void)s;
    s = send(OTHER, "BD#" SSN_B "#654321", "bad_password");
    assert_non_null(strstr(s->text, "2"));
    send(OTHER, "BD#" SSN_B "#654322", "bad_password");
    s = send(OTHER, "BD#" SSN_B "#654323", "locked");
    assert_non_null(strstr(s->text, "10")); /* 600 s */
    send(OTHER, "BD#" SSN_B "#111111", "locked");
}

static void test_td_qxfw_and_bad_input(void **state)
{
    (void)state;
    send(OTHER, "td", "td_ok");
    assert_string_equal(w.unsub[w.n_unsub - 1], OTHER);
    const sent *s = send(ME, "QXFW#", "qxfw_ok");
    assert_non_null(strstr(s->text, "1"));
    assert_string_equal(w.unsub[w.n_unsub - 1], ME);
    send(ME, "cbxx", "no_binding");
    s = send(ME, "hello", "unknown");
    assert_non_null(strstr(s->text, "TD BD QXBD QXFW MMCZ CBXX YLZHYE LSGS"));
    s = send(ME, "BD#123", "malformed");
    assert_non_null(strstr(s->text, "BD#社会保障号码#密码"));
    send(ME, "  ", "empty");
    /* a number never echoes, even in an unknown command */
    send(ME, SSN_A, "unknown");
}

static void test_refusal_and_work_order(void **state)
{
    (void)state;
    /* ME binds SSN_A (bound by the test before: "already" is fine too) */
    const char *r = sms_engine_handle(w.e, ME, "BD#" SSN_A "#123456", 1000000);
    assert_true(strcmp(r, "bd_ok") == 0 || strcmp(r, "bd_already") == 0);
    w.order[0] = '\0';
    send(ME, "LSGS", "lsgs");
    /* the work order is remembered with the full number, for the case
     * worker's result; the reply shows only the masked one */
    assert_string_equal(w.order, ME " LSGS LSGS0001 " SSN_A);
    w.backend_refuses = 1;
    w.order[0] = '\0';
    const sent *s = send(ME, "LSGS", "service_refused");
    assert_non_null(strstr(s->text, "12333"));
    assert_string_equal(w.order, "");
    w.backend_refuses = 0;
}

static void test_backend_down_is_try_later(void **state)
{
    (void)state;
    send(ME, "BD#" SSN_A "#123456", "bd_ok");
    w.backend_down = 1;
    send(ME, "cbxx", "try_later");
    w.backend_down = 0;
    send(ME, "cbxx", "cbxx");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bind_and_query_for_myself),
        cmocka_unit_test(test_by_name_and_moves),
        cmocka_unit_test(test_unbind_password_and_lock),
        cmocka_unit_test(test_td_qxfw_and_bad_input),
        cmocka_unit_test(test_backend_down_is_try_later),
        cmocka_unit_test(test_refusal_and_work_order),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
