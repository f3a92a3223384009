/*
 * tests/unit/carrier/test_smpp.c - the SMPP 3.4 codec: byte layouts of
 * bind_transceiver, submit_sm (with UDHI and SAR TLVs), deliver_sm receipts
 * (text and TLVs), the bodiless PDUs and error responses; receipt text
 * parsing; message id forms (hex submit_sm_resp, decimal receipt); malformed
 * input refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "carrier/smpp.h"

static size_t unhex(const char *h, uint8_t *out, size_t cap)
{
    size_t n = 0;
    while (*h && n < cap) {
        if (*h == ' ') {
            h++;
            continue;
        }
        char two[3] = {h[0], h[1], 0};
        out[n++] = (uint8_t)strtoul(two, NULL, 16);
        h += 2;
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

static size_t round_trip(const smpp_pdu *p, smpp_pdu *back, uint8_t *bytes)
{
    hrss_buf b;
    buf_init(&b, SMPP_MAX_PDU);
    assert_int_equal(smpp_encode(p, &b), 0);
    assert_int_equal(smpp_frame_len((const uint8_t *)b.p, b.len), (long)b.len);
    assert_int_equal(smpp_decode((const uint8_t *)b.p, b.len, back), 0);
    assert_int_equal(back->command_id, p->command_id);
    assert_int_equal(back->command_status, p->command_status);
    assert_int_equal(back->sequence_number, p->sequence_number);
    size_t n = b.len;
    memcpy(bytes, b.p, n);
    buf_free(&b);
    return n;
}

static void test_bind(void **state)
{
    (void)state;
    static smpp_pdu p, back;
    memset(&p, 0, sizeof(p));
    p.command_id = SMPP_BIND_TRANSCEIVER;
    p.sequence_number = 1;
    memcpy(p.u.bind.system_id, "hrss", 5);
    memcpy(p.u.bind.password, "secret", 7);
    p.u.bind.interface_version = 0x34;
    uint8_t bytes[SMPP_MAX_PDU];
    size_t n = round_trip(&p, &back, bytes);
    assert_bytes(bytes, n,
                 "00000021 00000009 00000000 00000001 68727373 00 736563726574 00 00 34 00 00 00");
    assert_string_equal(back.u.bind.system_id, "hrss");
    assert_string_equal(back.u.bind.password, "secret");
    assert_int_equal(back.u.bind.interface_version, 0x34);
    /* password of 9 characters: over the limit of 9 bytes counting NUL */
    memcpy(p.u.bind.password, "123456789", 9);
    hrss_buf b;
    buf_init(&b, SMPP_MAX_PDU);
    assert_int_equal(smpp_encode(&p, &b), -1);
    buf_free(&b);

    smpp_pdu r = {.command_id = SMPP_BIND_TRANSCEIVER_RESP, .sequence_number = 1};
    memcpy(r.u.system_id, "SMSC", 5);
    n = round_trip(&r, &back, bytes);
    assert_bytes(bytes, n, "00000015 80000009 00000000 00000001 534d534300");
    /* refused: status, no body (and a body-less answer decodes) */
    r.command_status = 0x0E;
    n = round_trip(&r, &back, bytes);
    assert_bytes(bytes, n, "00000010 80000009 0000000e 00000001");
    /* a bind_resp with the sc_interface_version TLV */
    n = unhex("0000001a 80000009 00000000 00000001 534d534300 0210 0001 34", bytes, sizeof(bytes));
    assert_int_equal(smpp_decode(bytes, n, &back), 0);
    assert_string_equal(back.u.system_id, "SMSC");
}

static void test_submit_sm(void **state)
{
    (void)state;
    static smpp_pdu p, back;
    memset(&p, 0, sizeof(p));
    p.command_id = SMPP_SUBMIT_SM;
    p.sequence_number = 2;
    smpp_sm *m = &p.u.sm;
    m->message_state = -1;
    memcpy(m->source_addr, "12333", 6);
    m->dest_addr_ton = 1;
    m->dest_addr_npi = 1;
    memcpy(m->destination_addr, "8613800138000", 14);
    m->esm_class = 0x40;
    m->registered_delivery = 1;
    m->data_coding = 8;
    const uint8_t ud[] = {5, 0, 3, 0x21, 2, 1, 0x4f, 0x60};
    m->sm_length = sizeof(ud);
    memcpy(m->short_message, ud, sizeof(ud));
    uint8_t bytes[SMPP_MAX_PDU];
    size_t n = round_trip(&p, &back, bytes);
    assert_bytes(bytes, n,
                 "0000003b 00000004 00000000 00000002"
                 " 00 00 00 3132333333 00 01 01 38363133383030313338303030 00"
                 " 40 00 00 00 00 01 00 08 00 08 050003210201 4f60");
    assert_string_equal(back.u.sm.destination_addr, "8613800138000");
    assert_int_equal(back.u.sm.esm_class, 0x40);
    assert_int_equal(back.u.sm.message_state, -1);
    assert_memory_equal(back.u.sm.short_message, ud, sizeof(ud));

    /* SAR TLVs */
    m->has_sar = 1;
    m->sar_msg_ref_num = 0x1234;
    m->sar_total_segments = 2;
    m->sar_segment_seqnum = 1;
    n = round_trip(&p, &back, bytes);
    assert_bytes(bytes + n - 16, 16, "020c 0002 1234 020e 0001 02 020f 0001 01");
    assert_int_equal(back.u.sm.sar_msg_ref_num, 0x1234);
    assert_int_equal(back.u.sm.sar_total_segments, 2);

    /* submit_sm_resp, hex message id */
    smpp_pdu r = {.command_id = SMPP_SUBMIT_SM_RESP, .sequence_number = 2};
    memcpy(r.u.message_id, "1A2B3C", 7);
    n = round_trip(&r, &back, bytes);
    assert_bytes(bytes, n, "00000017 80000004 00000000 00000002 314132423343 00");
    assert_string_equal(back.u.message_id, "1A2B3C");
    r.command_status = SMPP_ESME_RTHROTTLED;
    n = round_trip(&r, &back, bytes);
    assert_bytes(bytes, n, "00000010 80000004 00000058 00000002");
}

static void test_deliver_receipt(void **state)
{
    (void)state;
    static smpp_pdu p, back;
    memset(&p, 0, sizeof(p));
    p.command_id = SMPP_DELIVER_SM;
    p.sequence_number = 7;
    smpp_sm *m = &p.u.sm;
    memcpy(m->source_addr, "8613800138000", 14);
    memcpy(m->destination_addr, "12333", 6);
    m->esm_class = 0x04;
    const char *text = "id:1715004 sub:001 dlvrd:001 submit date:2611231130 done date:2611231131 "
                       "stat:DELIVRD err:000 text:";
    m->sm_length = (uint8_t)strlen(text);
    memcpy(m->short_message, text, m->sm_length);
    memcpy(m->receipted_message_id, "1A2B3C", 7);
    m->message_state = 2;
    uint8_t bytes[SMPP_MAX_PDU];
    size_t n = round_trip(&p, &back, bytes);
    assert_bytes(bytes + n - 16, 16, "001e 0007 31413242334300 0427 0001 02");
    assert_string_equal(back.u.sm.receipted_message_id, "1A2B3C");
    assert_int_equal(back.u.sm.message_state, 2);
    assert_string_equal(smpp_state_word(back.u.sm.message_state), "DELIVRD");
    assert_string_equal(smpp_state_word(5), "UNDELIV");
    assert_string_equal(smpp_state_word(99), "UNKNOWN");

    smpp_receipt r;
    assert_int_equal(smpp_receipt_parse(back.u.sm.short_message, back.u.sm.sm_length, &r), 0);
    assert_string_equal(r.id, "1715004");
    assert_string_equal(r.stat, "DELIVRD");
    assert_string_equal(r.err, "000");
    assert_string_equal(r.submit_date, "2611231130");
    assert_string_equal(r.done_date, "2611231131");
    /* the id printed in decimal matches the hex id of submit_sm_resp */
    char a[80], b[80];
    smpp_msgid_canon("1A2B3C", 16, a, sizeof(a));
    smpp_msgid_canon("1715004", 10, b, sizeof(b));
    assert_string_equal(a, "1715004");
    assert_string_equal(a, b);
    /* as received when no base is configured, or when not a number */
    smpp_msgid_canon("1A2B3C", 0, a, sizeof(a));
    assert_string_equal(a, "1A2B3C");
    smpp_msgid_canon("abc-1", 16, a, sizeof(a));
    assert_string_equal(a, "abc-1");
    smpp_msgid_canon("0000123", 10, a, sizeof(a));
    assert_string_equal(a, "123");
    smpp_msgid_canon("FFFFFFFFFFFFFFFFF", 16, a, sizeof(a)); /* overflow: as received */
    assert_string_equal(a, "FFFFFFFFFFFFFFFFF");
    /* upper-case keys, missing fields */
    const char *odd = "ID:77 STAT:UNDELIV";
    assert_int_equal(smpp_receipt_parse((const uint8_t *)odd, strlen(odd), &r), 0);
    assert_string_equal(r.id, "77");
    assert_string_equal(r.stat, "UNDELIV");
    assert_string_equal(r.err, "");
    assert_int_equal(smpp_receipt_parse((const uint8_t *)"stat:X", 6, &r), -1);

    smpp_pdu resp = {.command_id = SMPP_DELIVER_SM_RESP, .sequence_number = 7};
    n = round_trip(&resp, &back, bytes);
    assert_bytes(bytes, n, "00000011 80000005 00000000 00000007 00");
}

static void test_bodiless(void **state)
{
    (void)state;
    const uint32_t ids[] = {SMPP_ENQUIRE_LINK, SMPP_ENQUIRE_LINK_RESP, SMPP_UNBIND,
                            SMPP_UNBIND_RESP, SMPP_GENERIC_NACK};
    for (size_t i = 0; i < 5; i++) {
        smpp_pdu p = {.command_id = ids[i], .sequence_number = 3}, back;
        uint8_t bytes[SMPP_MAX_PDU];
        assert_int_equal(round_trip(&p, &back, bytes), 16);
    }
    smpp_pdu p = {.command_id = SMPP_ENQUIRE_LINK, .sequence_number = 1}, back;
    uint8_t bytes[SMPP_MAX_PDU];
    size_t n = round_trip(&p, &back, bytes);
    assert_bytes(bytes, n, "00000010 00000015 00000000 00000001");
    p.command_id = SMPP_GENERIC_NACK;
    p.command_status = SMPP_ESME_RINVCMDID;
    n = round_trip(&p, &back, bytes);
    assert_bytes(bytes, n, "00000010 80000000 00000003 00000001");
}

static void test_malformed(void **state)
{
    (void)state;
    uint8_t buf[256];
    static smpp_pdu p;
    size_t n = unhex("0000000f 00000015 00000000 00000001", buf, sizeof(buf));
    assert_int_equal(smpp_frame_len(buf, 8), 0);
    assert_int_equal(smpp_frame_len(buf, n), -1);
    n = unhex("00002001 00000015 00000000 00000001", buf, sizeof(buf));
    assert_int_equal(smpp_frame_len(buf, n), -1);
    /* unknown command, body on enquire_link, length mismatch */
    n = unhex("00000010 00000099 00000000 00000001", buf, sizeof(buf));
    assert_int_equal(smpp_decode(buf, n, &p), -1);
    assert_int_equal(p.sequence_number, 1);
    n = unhex("00000011 00000015 00000000 00000001 00", buf, sizeof(buf));
    assert_int_equal(smpp_decode(buf, n, &p), -1);
    assert_int_equal(smpp_decode(buf, n - 1, &p), -1);
    /* C-string without NUL / over its maximum */
    n = unhex("00000014 80000004 00000000 00000002 31323334", buf, sizeof(buf));
    assert_int_equal(smpp_decode(buf, n, &p), -1);
    /* submit_sm: sm_length past the end, TLV past the end */
    n = unhex("0000002a 00000004 00000000 00000002 00 00 00 3100 00 00 3200 00 00 00 00 00 00 00"
              " 08 00 05 6869",
              buf, sizeof(buf));
    buf[3] = (uint8_t)n;
    assert_int_equal(smpp_decode(buf, n, &p), -1);
    n = unhex("0000002a 00000004 00000000 00000002 00 00 00 3100 00 00 3200 00 00 00 00 00 00 00"
              " 08 00 02 6869 0424 0009 6869",
              buf, sizeof(buf));
    buf[3] = (uint8_t)n;
    assert_int_equal(smpp_decode(buf, n, &p), -1);
    /* the same with a fitting TLV decodes, and the payload is kept */
    n = unhex("0000002a 00000004 00000000 00000002 00 00 00 3100 00 00 3200 00 00 00 00 00 00 00"
              " 08 00 00 0424 0002 6869",
              buf, sizeof(buf));
    buf[3] = (uint8_t)n;
    assert_int_equal(smpp_decode(buf, n, &p), 0);
    assert_int_equal(p.u.sm.has_payload, 1);
    assert_int_equal(p.u.sm.payload_len, 2);
    /* unknown TLVs are skipped; a message_state TLV of the wrong size is not */
    n = unhex("0000002a 00000004 00000000 00000002 00 00 00 3100 00 00 3200 00 00 00 00 00 00 00"
              " 08 00 00 1401 0001 00 0427 0002 0000",
              buf, sizeof(buf));
    buf[3] = (uint8_t)n;
    assert_int_equal(smpp_decode(buf, n, &p), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bind),     cmocka_unit_test(test_submit_sm),
        cmocka_unit_test(test_deliver_receipt), cmocka_unit_test(test_bodiless),
        cmocka_unit_test(test_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
