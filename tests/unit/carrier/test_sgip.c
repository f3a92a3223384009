/*
 * tests/unit/carrier/test_sgip.c - the SGIP 1.2 codec: the header of three
 * sequence parts, the byte layout and length of Bind, Submit (with a UDH and
 * two numbers), Deliver, Report and the answers, the sequence number's text
 * form, round trips, and malformed input refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "carrier/sgip.h"

static size_t encode(const sgip_pdu *p, uint8_t *out)
{
    hrss_buf b;
    buf_init(&b, SGIP_MAX_PDU);
    assert_int_equal(sgip_encode(p, &b), 0);
    assert_int_equal(sgip_frame_len((const uint8_t *)b.p, b.len), (long)b.len);
    size_t n = b.len;
    memcpy(out, b.p, n);
    buf_free(&b);
    return n;
}

static void test_bind_layout(void **state)
{
    (void)state;
    sgip_pdu p = {.command_id = SGIP_BIND, .seq = {3000012345u, 1203162435u, 7}};
    p.u.bind.login_type = SGIP_LOGIN_SP;
    memcpy(p.u.bind.login_name, "hrss", 5);
    memcpy(p.u.bind.login_password, "secret", 7);
    uint8_t b[256];
    size_t n = encode(&p, b);
    assert_int_equal(n, 20 + 1 + 16 + 16 + 8);
    static const uint8_t head[] = {0, 0, 0, 61, 0, 0, 0, 1, 0xb2, 0xd0, 0x8e, 0x39,
                                   0x47, 0xb6, 0xcd, 0x43, 0, 0, 0, 7, 1, 'h', 'r', 's', 's'};
    assert_memory_equal(b, head, sizeof(head));
    assert_memory_equal(b + 21 + 16, "secret", 6);
    sgip_pdu q;
    assert_int_equal(sgip_decode(b, n, &q), 0);
    assert_int_equal(q.seq.node, 3000012345u);
    assert_int_equal(q.seq.time, 1203162435u);
    assert_int_equal(q.seq.counter, 7);
    assert_string_equal(q.u.bind.login_name, "hrss");
    assert_string_equal(q.u.bind.login_password, "secret");
    /* one byte short of its Reserve, or one too many: refused */
    b[3] = 60;
    assert_int_not_equal(sgip_decode(b, 60, &q), 0);
}

static void test_submit_layout(void **state)
{
    (void)state;
    static sgip_pdu p, q;
    memset(&p, 0, sizeof(p));
    p.command_id = SGIP_SUBMIT;
    p.seq = (sgip_seq){1, 2, 3};
    sgip_submit *s = &p.u.submit;
    memcpy(s->sp_number, "1065580012333", 14);
    memset(s->charge_number, '0', 21);
    s->user_count = 2;
    memcpy(s->user_number[0], "8613012345678", 14);
    memcpy(s->user_number[1], "8613112345678", 14);
    memcpy(s->corp_id, "12345", 6);
    memcpy(s->service_type, "HRSS12333", 10);
    s->fee_type = 1;
    s->morelateto_mt_flag = 2;
    s->report_flag = 1;
    s->tp_udhi = 1;
    s->message_coding = 8;
    s->message_length = 10;
    memcpy(s->content, "\x05\x00\x03\x21\x02\x01\x4f\x60\x59\x7d", 10);
    uint8_t b[SGIP_MAX_PDU];
    size_t n = encode(&p, b);
    /* 123 fixed bytes + 21 a number + content */
    assert_int_equal(n, 20 + 123 + 2 * 21 + 10);
    assert_int_equal(b[20 + 42], 2); /* UserCount after SPNumber and ChargeNumber */
    assert_int_equal(sgip_decode(b, n, &q), 0);
    assert_string_equal(q.u.submit.user_number[1], "8613112345678");
    assert_int_equal(q.u.submit.message_length, 10);
    assert_memory_equal(q.u.submit.content, s->content, 10);
    assert_int_equal(q.u.submit.report_flag, 1);
    assert_int_equal(q.u.submit.charge_number[20], '0');
    /* no number, or more than 100: refused both ways */
    s->user_count = 0;
    hrss_buf x;
    buf_init(&x, 64);
    assert_int_not_equal(sgip_encode(&p, &x), 0);
    buf_free(&x);
    b[20 + 42] = 0;
    assert_int_not_equal(sgip_decode(b, n, &q), 0);
}

static void test_deliver_report_resp(void **state)
{
    (void)state;
    static sgip_pdu p, q;
    uint8_t b[SGIP_MAX_PDU];
    memset(&p, 0, sizeof(p));
    p.command_id = SGIP_DELIVER;
    memcpy(p.u.deliver.user_number, "8613012345678", 14);
    memcpy(p.u.deliver.sp_number, "106558001233301", 16);
    p.u.deliver.message_coding = 15;
    p.u.deliver.message_length = 4;
    memcpy(p.u.deliver.content, "\xd5\xc5\xc8\xfd", 4);
    size_t n = encode(&p, b);
    assert_int_equal(n, 20 + 21 + 21 + 3 + 4 + 4 + 8);
    assert_int_equal(sgip_decode(b, n, &q), 0);
    assert_string_equal(q.u.deliver.sp_number, "106558001233301");
    /* a MessageLength beyond the PDU is refused */
    b[20 + 45 + 3] = 200;
    assert_int_not_equal(sgip_decode(b, n, &q), 0);

    memset(&p, 0, sizeof(p));
    p.command_id = SGIP_REPORT;
    p.u.report.submit_seq = (sgip_seq){3000012345u, 1203162435u, 8};
    memcpy(p.u.report.user_number, "8613012345678", 14);
    p.u.report.state = SGIP_STATE_FAILED;
    p.u.report.error_code = 25;
    n = encode(&p, b);
    assert_int_equal(n, 20 + 12 + 1 + 21 + 1 + 1 + 8);
    assert_int_equal(sgip_decode(b, n, &q), 0);
    assert_int_equal(q.u.report.submit_seq.counter, 8);
    assert_int_equal(q.u.report.state, 2);
    assert_int_equal(q.u.report.error_code, 25);

    memset(&p, 0, sizeof(p));
    p.command_id = SGIP_SUBMIT_RESP;
    p.u.resp.result = SGIP_RESULT_BUSY;
    n = encode(&p, b);
    assert_int_equal(n, 29);
    assert_int_equal(sgip_decode(b, n, &q), 0);
    assert_int_equal(q.u.resp.result, 11);

    p.command_id = SGIP_UNBIND;
    n = encode(&p, b);
    assert_int_equal(n, 20);
    assert_int_equal(sgip_decode(b, n, &q), 0);
}

static void test_seq_text_and_framing(void **state)
{
    (void)state;
    char t[36];
    sgip_seq s = {3000012345u, 101000000u, 42};
    sgip_seq_text(&s, t);
    assert_string_equal(t, "3000012345-0101000000-42");
    uint8_t b[24] = {0, 0, 0, 19};
    assert_int_equal(sgip_frame_len(b, 10), 0);
    assert_int_equal(sgip_frame_len(b, 24), -1);
    b[3] = 0;
    b[2] = 0x20; /* 8192 > SGIP_MAX_PDU */
    assert_int_equal(sgip_frame_len(b, 24), -1);
    sgip_pdu q;
    uint8_t u[20] = {0, 0, 0, 20, 0, 0, 0, 0x77};
    assert_int_not_equal(sgip_decode(u, 20, &q), 0); /* unknown command */
    assert_int_equal(q.command_id, 0x77);
    assert_string_equal(sgip_command_name(SGIP_REPORT_RESP), "REPORT_RESP");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bind_layout),
        cmocka_unit_test(test_submit_layout),
        cmocka_unit_test(test_deliver_report_resp),
        cmocka_unit_test(test_seq_text_and_framing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
