/*
 * tests/unit/carrier/test_cmpp.c - the CMPP 3.0 codec: the CONNECT vector and
 * authenticators of the published test case (SP 900001, secret 888888,
 * timestamp 1021080510), the byte layout and length of every PDU, round trips,
 * and malformed input refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "carrier/carrier.h"
#include "carrier/cmpp.h"

static size_t unhex(const char *h, uint8_t *out, size_t cap)
{
    size_t n = 0;
    for (; h[0] && h[1] && n < cap; h += 2) {
        while (*h == ' ')
            h++;
        unsigned v;
        char two[3] = {h[0], h[1], 0};
        v = (unsigned)strtoul(two, NULL, 16);
        out[n++] = (uint8_t)v;
    }
    return n;
}

static void assert_bytes(const uint8_t *got, size_t n, const char *hex)
{
    uint8_t want[4096];
    size_t m = unhex(hex, want, sizeof(want));
    assert_int_equal(n, m);
    assert_memory_equal(got, want, n);
}

/* Encodes, checks the length field, decodes back into *back. */
static size_t round_trip(const cmpp_pdu *p, cmpp_pdu *back, uint8_t *bytes)
{
    hrss_buf b;
    buf_init(&b, CMPP_MAX_PDU);
    assert_int_equal(cmpp_encode(p, &b), 0);
    assert_int_equal(cmpp_frame_len((const uint8_t *)b.p, b.len), (long)b.len);
    assert_int_equal(cmpp_decode((const uint8_t *)b.p, b.len, back), 0);
    assert_int_equal(back->command_id, p->command_id);
    assert_int_equal(back->sequence_id, p->sequence_id);
    size_t n = b.len;
    memcpy(bytes, b.p, n);
    buf_free(&b);
    return n;
}

static void test_authenticators(void **state)
{
    (void)state;
    uint8_t a[16], m[16];
    cmpp_auth_source("900001", "888888", 1021080510u, a);
    assert_bytes(a, 16, "90d00c1d517abd0b4f65f6bcf8535d16");
    cmpp_auth_ismg(0, a, "888888", m);
    assert_bytes(m, 16, "7942977274098cf210ab0c16c367bc8d");
    /* a leading zero month keeps ten digits */
    uint8_t b[16];
    cmpp_auth_source("900001", "888888", 101003005u, b);
    assert_memory_not_equal(a, b, 16);
    assert_int_equal(cmpp_timestamp(1735662605), 101003005u); /* 01-01 00:30:05 CST */
}

static void test_connect_vector(void **state)
{
    (void)state;
    cmpp_pdu p = {.command_id = CMPP_CONNECT, .sequence_id = 0x17};
    memcpy(p.u.connect.source_addr, "900001", 7);
    cmpp_auth_source("900001", "888888", 1021080510u, p.u.connect.authenticator);
    p.u.connect.version = 0x21;
    p.u.connect.timestamp = 1021080510u;
    cmpp_pdu back;
    uint8_t bytes[CMPP_MAX_PDU];
    size_t n = round_trip(&p, &back, bytes);
    assert_bytes(bytes, n,
                 "00000027 00000001 00000017 393030303031 90d00c1d517abd0b4f65f6bcf8535d16 21 "
                 "3cdc73be");
    assert_string_equal(back.u.connect.source_addr, "900001");
    assert_int_equal(back.u.connect.timestamp, 1021080510u);
    assert_int_equal(back.u.connect.version, 0x21);
    assert_memory_equal(back.u.connect.authenticator, p.u.connect.authenticator, 16);
}

static void test_connect_resp(void **state)
{
    (void)state;
    cmpp_pdu p = {.command_id = CMPP_CONNECT_RESP, .sequence_id = 0x17};
    p.u.connect_resp.status = 3;
    memset(p.u.connect_resp.authenticator, 0xab, 16);
    p.u.connect_resp.version = 0x30;
    cmpp_pdu back;
    uint8_t bytes[CMPP_MAX_PDU];
    size_t n = round_trip(&p, &back, bytes);
    assert_int_equal(n, 12 + 21);
    assert_bytes(bytes, n,
                 "00000021 80000001 00000017 00000003 abababababababababababababababab 30");
    assert_int_equal(back.u.connect_resp.status, 3);
}

static void test_bodiless(void **state)
{
    (void)state;
    const uint32_t ids[] = {CMPP_TERMINATE, CMPP_TERMINATE_RESP, CMPP_ACTIVE_TEST};
    for (size_t i = 0; i < 3; i++) {
        cmpp_pdu p = {.command_id = ids[i], .sequence_id = 7}, back;
        uint8_t bytes[CMPP_MAX_PDU];
        assert_int_equal(round_trip(&p, &back, bytes), 12);
    }
    cmpp_pdu p = {.command_id = CMPP_ACTIVE_TEST_RESP, .sequence_id = 9}, back;
    uint8_t bytes[CMPP_MAX_PDU];
    size_t n = round_trip(&p, &back, bytes);
    assert_bytes(bytes, n, "0000000d 80000008 00000009 00");
}

static void fill_submit(cmpp_submit *s, unsigned ndest, const char *content, size_t len)
{
    memset(s, 0, sizeof(*s));
    s->pk_total = 2;
    s->pk_number = 1;
    s->registered_delivery = 1;
    memcpy(s->service_id, "HRSS12333", 10);
    s->fee_user_type = 2;
    s->tp_udhi = 1;
    s->msg_fmt = 8;
    memcpy(s->msg_src, "900001", 7);
    memcpy(s->fee_type, "01", 3);
    memcpy(s->fee_code, "000000", 7);
    memcpy(s->src_id, "1065801233301", 14);
    s->dest_count = (uint8_t)ndest;
    for (unsigned i = 0; i < ndest; i++)
        memcpy(s->dest[i], "13800138000", 12);
    s->msg_length = (uint8_t)len;
    memcpy(s->content, content, s->msg_length);
}

static void test_submit(void **state)
{
    (void)state;
    cmpp_pdu p = {.command_id = CMPP_SUBMIT, .sequence_id = 0x100}, back;
    fill_submit(&p.u.submit, 1, "\x05\x00\x03\x01\x02\x01hi", 8);
    uint8_t bytes[CMPP_MAX_PDU];
    size_t n = round_trip(&p, &back, bytes);
    assert_int_equal(n, 12 + 151 + 32 + 8);
    /* fields at their offsets (body offsets of the 3.0 layout) */
    const uint8_t *body = bytes + 12;
    assert_int_equal(body[8], 2);         /* Pk_total */
    assert_int_equal(body[9], 1);         /* Pk_number */
    assert_int_equal(body[10], 1);        /* Registered_Delivery */
    assert_memory_equal(body + 12, "HRSS12333\0", 10);
    assert_int_equal(body[22], 2);        /* Fee_UserType */
    assert_int_equal(body[57], 1);        /* TP_udhi after Fee_terminal_Id 32, type, TP_pId */
    assert_int_equal(body[58], 8);        /* Msg_Fmt */
    assert_memory_equal(body + 59, "900001", 6);
    assert_memory_equal(body + 65, "01", 2);
    assert_memory_equal(body + 67, "000000", 6);
    assert_memory_equal(body + 107, "1065801233301", 13);
    assert_int_equal(body[128], 1);       /* DestUsr_tl */
    assert_memory_equal(body + 129, "13800138000", 11);
    assert_int_equal(body[161], 0);       /* Dest_terminal_type */
    assert_int_equal(body[162], 8);       /* Msg_Length */
    assert_memory_equal(body + 163, "\x05\x00\x03\x01\x02\x01hi", 8);
    assert_string_equal(back.u.submit.src_id, "1065801233301");
    assert_string_equal(back.u.submit.dest[0], "13800138000");
    assert_int_equal(back.u.submit.msg_length, 8);
    assert_memory_equal(back.u.submit.content, p.u.submit.content, 8);

    /* three numbers: 151 + 32n + len */
    fill_submit(&p.u.submit, 3, "abc", 3);
    n = round_trip(&p, &back, bytes);
    assert_int_equal(n, 12 + 151 + 96 + 3);
    assert_int_equal(back.u.submit.dest_count, 3);

    /* no number, or a field too wide: refused by the encoder */
    hrss_buf b;
    buf_init(&b, CMPP_MAX_PDU);
    p.u.submit.dest_count = 0;
    assert_int_equal(cmpp_encode(&p, &b), -1);
    buf_free(&b);
}

static void test_submit_resp(void **state)
{
    (void)state;
    cmpp_pdu p = {.command_id = CMPP_SUBMIT_RESP, .sequence_id = 0x100}, back;
    p.u.submit_resp.msg_id = 0x0102030405060708ull;
    p.u.submit_resp.result = CMPP_RESULT_FLOW_CONTROL;
    uint8_t bytes[CMPP_MAX_PDU];
    size_t n = round_trip(&p, &back, bytes);
    assert_bytes(bytes, n, "00000018 80000004 00000100 0102030405060708 00000008");
    assert_true(back.u.submit_resp.msg_id == 0x0102030405060708ull);
    char text[21];
    cmpp_msgid_text(back.u.submit_resp.msg_id, text);
    assert_string_equal(text, "72623859790382856");
    cmpp_msgid_text(UINT64_MAX, text);
    assert_string_equal(text, "18446744073709551615");
}

static void test_deliver_mo_and_report(void **state)
{
    (void)state;
    cmpp_pdu p = {.command_id = CMPP_DELIVER, .sequence_id = 5}, back;
    cmpp_deliver *d = &p.u.deliver;
    d->msg_id = 42;
    memcpy(d->dest_id, "1065801233301", 14);
    memcpy(d->service_id, "HRSS12333", 10);
    d->msg_fmt = 8;
    memcpy(d->src_terminal_id, "13800138000", 12);
    d->msg_length = 4;
    memcpy(d->content, "\x00" "C\x00" "B", 4);
    uint8_t bytes[CMPP_MAX_PDU];
    size_t n = round_trip(&p, &back, bytes);
    assert_int_equal(n, 12 + 97 + 4);
    assert_int_equal(bytes[12 + 73], 0); /* Registered_Delivery: MO */
    assert_string_equal(back.u.deliver.src_terminal_id, "13800138000");
    assert_string_equal(back.u.deliver.dest_id, "1065801233301");
    assert_memory_equal(back.u.deliver.content, "\x00" "C\x00" "B", 4);

    /* a status report */
    cmpp_report rep = {.msg_id = 0x0102030405060708ull, .smsc_sequence = 77};
    memcpy(rep.stat, "DELIVRD", 8);
    memcpy(rep.submit_time, "2611231130", 11);
    memcpy(rep.done_time, "2611231131", 11);
    memcpy(rep.dest_terminal_id, "13800138000", 12);
    d->registered_delivery = 1;
    d->msg_length = CMPP_REPORT_LEN;
    assert_int_equal(cmpp_report_encode(&rep, d->content), 0);
    assert_bytes(d->content, 15, "0102030405060708 44454c49565244");
    n = round_trip(&p, &back, bytes);
    assert_int_equal(n, 12 + 97 + 71);
    cmpp_report r2;
    assert_int_equal(cmpp_report_decode(back.u.deliver.content, back.u.deliver.msg_length, &r2), 0);
    assert_true(r2.msg_id == rep.msg_id);
    assert_string_equal(r2.stat, "DELIVRD");
    assert_string_equal(r2.done_time, "2611231131");
    assert_string_equal(r2.dest_terminal_id, "13800138000");
    assert_int_equal(r2.smsc_sequence, 77);
    /* cut short after Stat: still a report */
    assert_int_equal(cmpp_report_decode(d->content, 15, &r2), 0);
    assert_string_equal(r2.stat, "DELIVRD");
    assert_int_equal(cmpp_report_decode(d->content, 14, &r2), -1);

    /* LinkID cut short (11 bytes missing) is accepted; body cut inside the content is not */
    hrss_buf b;
    buf_init(&b, CMPP_MAX_PDU);
    assert_int_equal(cmpp_encode(&p, &b), 0);
    uint8_t *q = (uint8_t *)b.p;
    size_t len = b.len - 11;
    q[0] = 0, q[1] = 0, q[2] = (uint8_t)(len >> 8), q[3] = (uint8_t)len;
    assert_int_equal(cmpp_decode(q, len, &back), 0);
    assert_int_equal(back.u.deliver.msg_length, 71);
    len = b.len - 30;
    q[2] = (uint8_t)(len >> 8), q[3] = (uint8_t)len;
    assert_int_equal(cmpp_decode(q, len, &back), -1);
    assert_int_equal(back.command_id, CMPP_DELIVER);
    assert_int_equal(back.sequence_id, 5);
    buf_free(&b);

    cmpp_pdu r = {.command_id = CMPP_DELIVER_RESP, .sequence_id = 5};
    r.u.deliver_resp.msg_id = 42;
    n = round_trip(&r, &back, bytes);
    assert_bytes(bytes, n, "00000018 80000005 00000005 000000000000002a 00000000");
}

static void test_malformed(void **state)
{
    (void)state;
    uint8_t buf[64];
    cmpp_pdu p;
    /* framing */
    size_t n = unhex("0000000b 00000008 00000001", buf, sizeof(buf));
    assert_int_equal(cmpp_frame_len(buf, 5), 0);
    assert_int_equal(cmpp_frame_len(buf, n), -1);             /* length < 12 */
    n = unhex("00001001 00000008 00000001", buf, sizeof(buf));
    assert_int_equal(cmpp_frame_len(buf, n), -1);             /* length > max */
    n = unhex("0000000c 00000008 00000001", buf, sizeof(buf));
    assert_int_equal(cmpp_frame_len(buf, n), 12);
    assert_int_equal(cmpp_decode(buf, n, &p), 0);
    assert_int_equal(p.command_id, CMPP_ACTIVE_TEST);
    /* length field disagreeing with the bytes given */
    assert_int_equal(cmpp_decode(buf, n - 1, &p), -1);
    /* unknown command */
    n = unhex("0000000c 00000063 00000001", buf, sizeof(buf));
    assert_int_equal(cmpp_decode(buf, n, &p), -1);
    assert_int_equal(p.sequence_id, 1);
    /* a body on a bodiless command, a short SUBMIT_RESP */
    n = unhex("0000000d 00000008 00000001 00", buf, sizeof(buf));
    assert_int_equal(cmpp_decode(buf, n, &p), -1);
    n = unhex("00000017 80000004 00000001 0102030405060708 000000", buf, sizeof(buf));
    assert_int_equal(cmpp_decode(buf, n, &p), -1);
    /* a SUBMIT with DestUsr_tl 0 or a Msg_Length past the end */
    cmpp_pdu s = {.command_id = CMPP_SUBMIT, .sequence_id = 1};
    fill_submit(&s.u.submit, 1, "abc", 3);
    hrss_buf b;
    buf_init(&b, CMPP_MAX_PDU);
    assert_int_equal(cmpp_encode(&s, &b), 0);
    uint8_t *q = (uint8_t *)b.p;
    q[12 + 128] = 0;
    assert_int_equal(cmpp_decode(q, b.len, &p), -1);
    q[12 + 128] = 1;
    q[12 + 162] = 200;
    assert_int_equal(cmpp_decode(q, b.len, &p), -1);
    q[12 + 162] = 3;
    assert_int_equal(cmpp_decode(q, b.len, &p), 0);
    buf_free(&b);
}

static void test_status_text(void **state)
{
    (void)state;
    assert_string_equal(carrier_status_text(CARRIER_CMPP30, 8), "flow control");
    assert_string_equal(carrier_status_text(CARRIER_CMPP30, CARRIER_ETIMEOUT),
                        "no answer from the carrier");
    assert_string_equal(carrier_status_text(CARRIER_SMPP34, 0x58), "throttling error");
    assert_string_equal(cmpp_command_name(CMPP_SUBMIT_RESP), "SUBMIT_RESP");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_authenticators), cmocka_unit_test(test_connect_vector),
        cmocka_unit_test(test_connect_resp),   cmocka_unit_test(test_bodiless),
        cmocka_unit_test(test_submit),         cmocka_unit_test(test_submit_resp),
        cmocka_unit_test(test_deliver_mo_and_report), cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_status_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
