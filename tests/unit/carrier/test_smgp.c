/*
 * tests/unit/carrier/test_smgp.c - the SMGP 3.0 codec: the Login
 * authenticators (computed independently with Python's hashlib for client
 * "hrss0001", secret "secret", timestamp 0301000000 of the standard's 6.2.4
 * example), the byte layout of Login, Submit with its TLVs, Deliver and the
 * answers, the MsgID text, the status report with a 10-byte and a hex id,
 * and malformed input refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "carrier/smgp.h"

static size_t encode(const smgp_pdu *p, uint8_t *out)
{
    hrss_buf b;
    buf_init(&b, SMGP_MAX_PDU);
    assert_int_equal(smgp_encode(p, &b), 0);
    assert_int_equal(smgp_frame_len((const uint8_t *)b.p, b.len), (long)b.len);
    size_t n = b.len;
    memcpy(out, b.p, n);
    buf_free(&b);
    return n;
}

static void hex16(const uint8_t *a, char out[33])
{
    static const char h[] = "0123456789abcdef";
    for (int i = 0; i < 16; i++) {
        out[2 * i] = h[a[i] >> 4];
        out[2 * i + 1] = h[a[i] & 15];
    }
    out[32] = '\0';
}

static void test_login(void **state)
{
    (void)state;
    uint8_t a[16], s[16];
    char t[33];
    smgp_auth_client("hrss0001", "secret", 301000000u, a);
    hex16(a, t);
    assert_string_equal(t, "690623daaab9a330b42974fbfc2d6b69");
    smgp_auth_server(0, a, "secret", s);
    hex16(s, t);
    assert_string_equal(t, "9096a3133430d258af422359e5a78f92");

    smgp_pdu p = {.request_id = SMGP_LOGIN, .sequence_id = 1};
    memcpy(p.u.login.client_id, "hrss0001", 9);
    memcpy(p.u.login.authenticator, a, 16);
    p.u.login.login_mode = SMGP_MODE_BOTH;
    p.u.login.timestamp = 301000000u;
    p.u.login.version = SMGP_VERSION;
    uint8_t b[128];
    size_t n = encode(&p, b);
    assert_int_equal(n, 12 + 8 + 16 + 1 + 4 + 1);
    /* the timestamp 0301000000 is 0x11F0E540 on the wire (6.2.4) */
    static const uint8_t ts[] = {2, 0x11, 0xf0, 0xe5, 0x40, 0x30};
    assert_memory_equal(b + 12 + 24, ts, sizeof(ts));
    smgp_pdu q;
    assert_int_equal(smgp_decode(b, n, &q), 0);
    assert_string_equal(q.u.login.client_id, "hrss0001");
    assert_memory_equal(q.u.login.authenticator, a, 16);
}

static void test_submit_tlvs(void **state)
{
    (void)state;
    static smgp_pdu p, q;
    memset(&p, 0, sizeof(p));
    p.request_id = SMGP_SUBMIT;
    p.sequence_id = 9;
    smgp_submit *s = &p.u.submit;
    s->msg_type = 6;
    s->need_report = 1;
    memcpy(s->service_id, "HRSS12333", 10);
    memcpy(s->fee_type, "00", 3);
    memcpy(s->fee_code, "000000", 7);
    memcpy(s->fixed_fee, "000000", 7);
    s->msg_format = 8;
    memcpy(s->src_term_id, "1065900012333", 14);
    s->dest_count = 1;
    memcpy(s->dest_term_id[0], "13312345678", 12);
    s->msg_length = 8;
    memcpy(s->content, "\x05\x00\x03\x21\x02\x01\x4f\x60", 8);
    s->tlv.has_tp_udhi = 1;
    s->tlv.tp_udhi = 1;
    s->tlv.has_pk = 1;
    s->tlv.pk_total = 2;
    s->tlv.pk_number = 1;
    memcpy(s->tlv.link_id, "LINK0001", 9);
    uint8_t b[SMGP_MAX_PDU];
    size_t n = encode(&p, b);
    size_t fixed = 12 + 3 + 10 + 2 + 6 + 6 + 1 + 17 + 17 + 21 + 21 + 1 + 21 + 1 + 8 + 8;
    assert_int_equal(n, fixed + 5 + 24 + 5 + 5);
    /* TP_udhi first, in tag order: 0002 0001 01 */
    static const uint8_t udhi[] = {0, 2, 0, 1, 1, 0, 3, 0, 20, 'L', 'I', 'N', 'K'};
    assert_memory_equal(b + fixed, udhi, sizeof(udhi));
    assert_int_equal(smgp_decode(b, n, &q), 0);
    assert_int_equal(q.u.submit.tlv.tp_udhi, 1);
    assert_int_equal(q.u.submit.tlv.pk_total, 2);
    assert_string_equal(q.u.submit.tlv.link_id, "LINK0001");
    assert_string_equal(q.u.submit.dest_term_id[0], "13312345678");
    /* a TLV running past the end, or TP_udhi of two bytes: refused */
    b[fixed + 3] = 2;
    assert_int_not_equal(smgp_decode(b, n, &q), 0);
    b[fixed + 3] = 1;
    b[3] = (uint8_t)(n - 1);
    assert_int_not_equal(smgp_decode(b, n - 1, &q), 0);
}

static void test_deliver_and_report(void **state)
{
    (void)state;
    static smgp_pdu p, q;
    static const uint8_t mid[10] = {0x01, 0x00, 0x61, 0x12, 0x03, 0x16, 0x24, 0x01, 0x23, 0x45};
    memset(&p, 0, sizeof(p));
    p.request_id = SMGP_DELIVER;
    smgp_deliver *d = &p.u.deliver;
    d->is_report = 1;
    memcpy(d->recv_time, "20241203162500", 15);
    memcpy(d->src_term_id, "13312345678", 12);
    memcpy(d->dest_term_id, "1065900012333", 14);
    int len = smgp_report_format(mid, "DELIVRD", "000", "2412031624", "2412031625", d->content,
                                 sizeof(d->content));
    assert_true(len > 0 && len <= 122);
    d->msg_length = (uint8_t)len;
    uint8_t b[SMGP_MAX_PDU];
    size_t n = encode(&p, b);
    assert_int_equal(n, 12 + 10 + 1 + 1 + 14 + 21 + 21 + 1 + (size_t)len + 8);
    assert_int_equal(smgp_decode(b, n, &q), 0);
    smgp_report r;
    assert_int_equal(smgp_report_parse(q.u.deliver.content, q.u.deliver.msg_length, &r), 0);
    assert_string_equal(r.id, "01006112031624012345");
    assert_string_equal(r.stat, "DELIVRD");
    assert_string_equal(r.err, "000");
    assert_string_equal(r.done_date, "2412031625");
    char t[21];
    smgp_msgid_text(mid, t);
    assert_string_equal(t, r.id);

    /* a gateway writing the id in hex and the other field names */
    static const char hx[] = "id:01006112031624012345 sub:001 dlvrd:001 Submit_date:2412031624 "
                             "done_date:2412031625 Stat:UNDELIV Err:004 Txt:";
    assert_int_equal(smgp_report_parse((const uint8_t *)hx, strlen(hx), &r), 0);
    assert_string_equal(r.id, "01006112031624012345");
    assert_string_equal(r.stat, "UNDELIV");
    assert_string_equal(r.err, "004");
    assert_string_equal(r.submit_date, "2412031624");
    /* no id: not a report */
    assert_int_not_equal(smgp_report_parse((const uint8_t *)"stat:DELIVRD", 12, &r), 0);

    memset(&p, 0, sizeof(p));
    p.request_id = SMGP_SUBMIT_RESP;
    memcpy(p.u.resp.msg_id, mid, 10);
    p.u.resp.status = SMGP_STATUS_BUSY;
    n = encode(&p, b);
    assert_int_equal(n, 26);
    assert_int_equal(smgp_decode(b, n, &q), 0);
    assert_int_equal(q.u.resp.status, 1);
    assert_memory_equal(q.u.resp.msg_id, mid, 10);
    p.request_id = SMGP_ACTIVE_TEST;
    assert_int_equal(encode(&p, b), 12);
    assert_int_equal(smgp_decode(b, 12, &q), 0);
    b[7] = 0x55;
    assert_int_not_equal(smgp_decode(b, 12, &q), 0);
    assert_int_equal(q.request_id, 0x55);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_login),
        cmocka_unit_test(test_submit_tlvs),
        cmocka_unit_test(test_deliver_and_report),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
