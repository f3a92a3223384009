/*
 * carrier/smgp.c - the SMGP 3.0 codec: byte layouts of SMGP V3.0.3 section
 * 5.2.2 (Login, Submit, Deliver, Active_Test, Exit and their answers), the
 * TLVs of 6.3, the authenticators of 6.2.2 and 6.2.7 and the status report
 * of 6.2.63. Pure functions: no allocation beyond the caller's buffer, no
 * I/O, no global state.
 */
#include <ctype.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cmpp.h"
#include "smgp.h"
#include "wire.h"

#define RESERVE 8

long smgp_frame_len(const uint8_t *data, size_t avail)
{
    return wire_frame_len(data, avail, SMGP_HEADER_LEN, SMGP_MAX_PDU);
}

/* The TLVs to the end of the body; unknown tags are skipped, a known one of
 * the wrong length is an error. */
/* The one-byte TLVs: tag, presence flag and value in smgp_tlvs. */
static const struct {
    uint16_t tag;
    size_t has, val;
} byte_tlvs[] = {
    {SMGP_TLV_TP_PID, offsetof(smgp_tlvs, has_tp_pid), offsetof(smgp_tlvs, tp_pid)},
    {SMGP_TLV_TP_UDHI, offsetof(smgp_tlvs, has_tp_udhi), offsetof(smgp_tlvs, tp_udhi)},
    {SMGP_TLV_PKTOTAL, offsetof(smgp_tlvs, has_pk), offsetof(smgp_tlvs, pk_total)},
    {SMGP_TLV_PKNUMBER, offsetof(smgp_tlvs, has_pk), offsetof(smgp_tlvs, pk_number)},
    {SMGP_TLV_SRCTERMTYPE, offsetof(smgp_tlvs, has_src_term_type),
     offsetof(smgp_tlvs, src_term_type)},
};

/* The TLVs to the end of the body; unknown tags are skipped, a known one of
 * the wrong length is an error. */
static void decode_tlvs(wire_rd *r, smgp_tlvs *t)
{
    while (!r->err && r->left > 0) {
        uint16_t tag = wire_u16(r), len = wire_u16(r);
        const uint8_t *v = wire_take(r, len);
        if (v == NULL)
            return;
        if (tag == SMGP_TLV_LINKID) {
            if (len > 20) {
                r->err = 1;
                return;
            }
            size_t n = 0;
            while (n < len && v[n] != 0)
                n++;
            memcpy(t->link_id, v, n);
            t->link_id[n] = '\0';
            continue;
        }
        for (size_t i = 0; i < sizeof(byte_tlvs) / sizeof(byte_tlvs[0]); i++)
            if (byte_tlvs[i].tag == tag) {
                if (len != 1) {
                    r->err = 1;
                    return;
                }
                *(int *)((char *)t + byte_tlvs[i].has) = 1;
                *((uint8_t *)t + byte_tlvs[i].val) = v[0];
            }
    }
}

static int add_tlv_u8(hrss_buf *b, unsigned tag, unsigned v)
{
    return wire_add_u16(b, tag) | wire_add_u16(b, 1) | wire_add_u8(b, v);
}

static int encode_tlvs(const smgp_tlvs *t, hrss_buf *b)
{
    int rc = 0;
    if (t->has_tp_pid)
        rc |= add_tlv_u8(b, SMGP_TLV_TP_PID, t->tp_pid);
    if (t->has_tp_udhi)
        rc |= add_tlv_u8(b, SMGP_TLV_TP_UDHI, t->tp_udhi);
    if (t->link_id[0])
        rc |= wire_add_u16(b, SMGP_TLV_LINKID) | wire_add_u16(b, 20) |
              wire_add_fixed(b, t->link_id, 20);
    if (t->has_pk)
        rc |= add_tlv_u8(b, SMGP_TLV_PKTOTAL, t->pk_total) |
              add_tlv_u8(b, SMGP_TLV_PKNUMBER, t->pk_number);
    if (t->has_src_term_type)
        rc |= add_tlv_u8(b, SMGP_TLV_SRCTERMTYPE, t->src_term_type);
    return rc;
}

static void rd_bytes(wire_rd *r, size_t n, uint8_t *dst)
{
    const uint8_t *q = wire_take(r, n);
    if (q != NULL && n > 0)
        memcpy(dst, q, n);
}

static void decode_submit(wire_rd *r, smgp_submit *s)
{
    s->msg_type = wire_u8(r);
    s->need_report = wire_u8(r);
    s->priority = wire_u8(r);
    wire_fixed(r, 10, s->service_id);
    wire_fixed(r, 2, s->fee_type);
    wire_fixed(r, 6, s->fee_code);
    wire_fixed(r, 6, s->fixed_fee);
    s->msg_format = wire_u8(r);
    wire_fixed(r, 17, s->valid_time);
    wire_fixed(r, 17, s->at_time);
    wire_fixed(r, 21, s->src_term_id);
    wire_fixed(r, 21, s->charge_term_id);
    s->dest_count = wire_u8(r);
    if (s->dest_count == 0 || s->dest_count > SMGP_MAX_DEST) {
        r->err = 1;
        return;
    }
    for (unsigned i = 0; i < s->dest_count; i++)
        wire_fixed(r, 21, s->dest_term_id[i]);
    s->msg_length = wire_u8(r);
    rd_bytes(r, s->msg_length, s->content);
    wire_take(r, RESERVE);
    decode_tlvs(r, &s->tlv);
}

static void decode_deliver(wire_rd *r, smgp_deliver *d)
{
    rd_bytes(r, SMGP_MSGID_LEN, d->msg_id);
    d->is_report = wire_u8(r);
    d->msg_format = wire_u8(r);
    wire_fixed(r, 14, d->recv_time);
    wire_fixed(r, 21, d->src_term_id);
    wire_fixed(r, 21, d->dest_term_id);
    d->msg_length = wire_u8(r);
    rd_bytes(r, d->msg_length, d->content);
    wire_take(r, RESERVE);
    decode_tlvs(r, &d->tlv);
}

int smgp_decode(const uint8_t *data, size_t len, smgp_pdu *pdu)
{
    memset(pdu, 0, sizeof(*pdu));
    if (len < SMGP_HEADER_LEN || wire_get32(data) != len || len > SMGP_MAX_PDU)
        return -1;
    pdu->request_id = wire_get32(data + 4);
    pdu->sequence_id = wire_get32(data + 8);
    wire_rd r;
    wire_rd_init(&r, data + SMGP_HEADER_LEN, len - SMGP_HEADER_LEN);
    switch (pdu->request_id) {
    case SMGP_LOGIN: {
        smgp_login *l = &pdu->u.login;
        wire_fixed(&r, 8, l->client_id);
        rd_bytes(&r, 16, l->authenticator);
        l->login_mode = wire_u8(&r);
        l->timestamp = wire_u32(&r);
        l->version = wire_u8(&r);
        break;
    }
    case SMGP_LOGIN_RESP: {
        smgp_login_resp *l = &pdu->u.login_resp;
        l->status = wire_u32(&r);
        rd_bytes(&r, 16, l->authenticator);
        l->version = wire_u8(&r);
        break;
    }
    case SMGP_SUBMIT:
        decode_submit(&r, &pdu->u.submit);
        break;
    case SMGP_SUBMIT_RESP:
    case SMGP_DELIVER_RESP:
        rd_bytes(&r, SMGP_MSGID_LEN, pdu->u.resp.msg_id);
        pdu->u.resp.status = wire_u32(&r);
        break;
    case SMGP_DELIVER:
        decode_deliver(&r, &pdu->u.deliver);
        break;
    case SMGP_ACTIVE_TEST:
    case SMGP_ACTIVE_TEST_RESP:
    case SMGP_EXIT:
    case SMGP_EXIT_RESP:
        break;
    default:
        return -1;
    }
    return r.err || r.left != 0 ? -1 : 0;
}

static int add_reserve(hrss_buf *b)
{
    static const uint8_t zeros[RESERVE];
    return buf_append(b, zeros, RESERVE);
}

static int encode_submit(const smgp_submit *s, hrss_buf *b)
{
    if (s->dest_count == 0 || s->dest_count > SMGP_MAX_DEST)
        return -1;
    int rc = wire_add_u8(b, s->msg_type) | wire_add_u8(b, s->need_report) |
             wire_add_u8(b, s->priority) | wire_add_fixed(b, s->service_id, 10) |
             wire_add_fixed(b, s->fee_type, 2) | wire_add_fixed(b, s->fee_code, 6) |
             wire_add_fixed(b, s->fixed_fee, 6) | wire_add_u8(b, s->msg_format) |
             wire_add_fixed(b, s->valid_time, 17) | wire_add_fixed(b, s->at_time, 17) |
             wire_add_fixed(b, s->src_term_id, 21) | wire_add_fixed(b, s->charge_term_id, 21) |
             wire_add_u8(b, s->dest_count);
    for (unsigned i = 0; i < s->dest_count; i++)
        rc |= wire_add_fixed(b, s->dest_term_id[i], 21);
    rc |= wire_add_u8(b, s->msg_length);
    if (s->msg_length > 0)
        rc |= buf_append(b, s->content, s->msg_length);
    return rc | add_reserve(b) | encode_tlvs(&s->tlv, b);
}

static int encode_deliver(const smgp_deliver *d, hrss_buf *b)
{
    int rc = buf_append(b, d->msg_id, SMGP_MSGID_LEN) | wire_add_u8(b, d->is_report) |
             wire_add_u8(b, d->msg_format) | wire_add_fixed(b, d->recv_time, 14) |
             wire_add_fixed(b, d->src_term_id, 21) | wire_add_fixed(b, d->dest_term_id, 21) |
             wire_add_u8(b, d->msg_length);
    if (d->msg_length > 0)
        rc |= buf_append(b, d->content, d->msg_length);
    return rc | add_reserve(b) | encode_tlvs(&d->tlv, b);
}

int smgp_encode(const smgp_pdu *pdu, hrss_buf *out)
{
    size_t start = out->len;
    int rc = wire_add_u32(out, 0) | wire_add_u32(out, pdu->request_id) |
             wire_add_u32(out, pdu->sequence_id);
    if (rc)
        return -1;
    switch (pdu->request_id) {
    case SMGP_LOGIN: {
        const smgp_login *l = &pdu->u.login;
        rc = wire_add_fixed(out, l->client_id, 8) | buf_append(out, l->authenticator, 16) |
             wire_add_u8(out, l->login_mode) | wire_add_u32(out, l->timestamp) |
             wire_add_u8(out, l->version);
        break;
    }
    case SMGP_LOGIN_RESP: {
        const smgp_login_resp *l = &pdu->u.login_resp;
        rc = wire_add_u32(out, l->status) | buf_append(out, l->authenticator, 16) |
             wire_add_u8(out, l->version);
        break;
    }
    case SMGP_SUBMIT:
        rc = encode_submit(&pdu->u.submit, out);
        break;
    case SMGP_SUBMIT_RESP:
    case SMGP_DELIVER_RESP:
        rc = buf_append(out, pdu->u.resp.msg_id, SMGP_MSGID_LEN) |
             wire_add_u32(out, pdu->u.resp.status);
        break;
    case SMGP_DELIVER:
        rc = encode_deliver(&pdu->u.deliver, out);
        break;
    case SMGP_ACTIVE_TEST:
    case SMGP_ACTIVE_TEST_RESP:
    case SMGP_EXIT:
    case SMGP_EXIT_RESP:
        break;
    default:
        return -1;
    }
    size_t n = out->len - start;
    if (rc || n > SMGP_MAX_PDU)
        return -1;
    wire_put32((uint8_t *)out->p + start, (uint32_t)n);
    return 0;
}

void smgp_auth_client(const char *client_id, const char *secret, uint32_t timestamp,
                      uint8_t out[16])
{
    carrier_login_digest(client_id, 8, secret, timestamp, out);
}

void smgp_auth_server(uint32_t status, const uint8_t auth_client[16], const char *secret,
                      uint8_t out[16])
{
    cmpp_auth_ismg(status, auth_client, secret, out); /* the same digest as CMPP's ISMG one */
}

void smgp_msgid_text(const uint8_t id[SMGP_MSGID_LEN], char out[21])
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < SMGP_MSGID_LEN; i++) {
        out[2 * i] = hex[id[i] >> 4];
        out[2 * i + 1] = hex[id[i] & 15];
    }
    out[20] = '\0';
}

/* Position of key (lower case) in text[from..len), case-insensitive. */
static long find_key(const uint8_t *t, size_t len, size_t from, const char *key)
{
    size_t k = strlen(key);
    for (size_t i = from; i + k <= len; i++) {
        size_t j = 0;
        while (j < k && tolower(t[i + j]) == key[j])
            j++;
        if (j == k)
            return (long)(i + k);
    }
    return -1;
}

/* The value after key up to a space or the end, at most w bytes. */
static void field(const uint8_t *t, size_t len, size_t from, const char *key, char *dst,
                  size_t w)
{
    long at = find_key(t, len, from, key);
    size_t n = 0;
    if (at >= 0)
        while ((size_t)at + n < len && n < w && t[at + n] != ' ' && t[at + n] != 0)
            n++;
    if (n > 0)
        memcpy(dst, t + at, n);
    dst[n] = '\0';
}

static int is_hex(uint8_t c)
{
    return isxdigit(c) != 0;
}

int smgp_report_parse(const uint8_t *t, size_t len, smgp_report *r)
{
    memset(r, 0, sizeof(*r));
    if (len < 3 + SMGP_MSGID_LEN || tolower(t[0]) != 'i' || tolower(t[1]) != 'd' || t[2] != ':')
        return -1;
    size_t rest;
    int hex = len >= 3 + 20;
    for (size_t i = 0; hex && i < 20; i++)
        hex = is_hex(t[3 + i]);
    if (hex && (len == 23 || t[23] == ' ')) { /* 20 hex digits */
        for (size_t i = 0; i < 20; i++)
            r->id[i] = (char)tolower(t[3 + i]);
        r->id[20] = '\0';
        rest = 23;
    } else {
        smgp_msgid_text(t + 3, r->id);
        rest = 3 + SMGP_MSGID_LEN;
    }
    field(t, len, rest, "stat:", r->stat, 7);
    field(t, len, rest, "err:", r->err, 3);
    /* "submit date:" in the SMPP form, "submit_date:" in some gateways' */
    field(t, len, rest, "submit date:", r->submit_date, 10);
    if (r->submit_date[0] == '\0')
        field(t, len, rest, "submit_date:", r->submit_date, 10);
    field(t, len, rest, "done date:", r->done_date, 10);
    if (r->done_date[0] == '\0')
        field(t, len, rest, "done_date:", r->done_date, 10);
    return 0;
}

int smgp_report_format(const uint8_t id[SMGP_MSGID_LEN], const char *stat, const char *err,
                       const char *submit_date, const char *done_date, uint8_t *out,
                       size_t out_size)
{
    char tail[128];
    int n = snprintf(tail, sizeof(tail),
                     " sub:001 dlvrd:001 submit date:%.10s done date:%.10s stat:%.7s err:%.3s "
                     "text:",
                     submit_date, done_date, stat, err);
    if (n < 0 || (size_t)n >= sizeof(tail) || out_size < 3 + SMGP_MSGID_LEN + (size_t)n + 20)
        return -1;
    memcpy(out, "id:", 3);
    memcpy(out + 3, id, SMGP_MSGID_LEN);
    memcpy(out + 3 + SMGP_MSGID_LEN, tail, (size_t)n);
    size_t at = 3 + SMGP_MSGID_LEN + (size_t)n;
    memset(out + at, 0, 20); /* Txt: 3 length digits and 17 bytes of text, none here */
    memcpy(out + at, "000", 3);
    return (int)(at + 20);
}

const char *smgp_command_name(uint32_t id)
{
    switch (id) {
    case SMGP_LOGIN: return "LOGIN";
    case SMGP_LOGIN_RESP: return "LOGIN_RESP";
    case SMGP_SUBMIT: return "SUBMIT";
    case SMGP_SUBMIT_RESP: return "SUBMIT_RESP";
    case SMGP_DELIVER: return "DELIVER";
    case SMGP_DELIVER_RESP: return "DELIVER_RESP";
    case SMGP_ACTIVE_TEST: return "ACTIVE_TEST";
    case SMGP_ACTIVE_TEST_RESP: return "ACTIVE_TEST_RESP";
    case SMGP_EXIT: return "EXIT";
    case SMGP_EXIT_RESP: return "EXIT_RESP";
    default: return "UNKNOWN";
    }
}
