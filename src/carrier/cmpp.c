/*
 * carrier/cmpp.c - the CMPP 3.0 codec: byte layouts of QB-GF-028-2003
 * section 7.4 (CONNECT, TERMINATE, SUBMIT, DELIVER and its status report,
 * ACTIVE_TEST), the authenticators of 7.4.1.1 and 7.4.1.2. Pure functions:
 * no allocation beyond the caller's buffer, no I/O, no global state.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "cmpp.h"
#include "wire.h"

long cmpp_frame_len(const uint8_t *data, size_t avail)
{
    return wire_frame_len(data, avail, CMPP_HEADER_LEN, CMPP_MAX_PDU);
}

static void decode_submit(wire_rd *r, cmpp_submit *s)
{
    s->msg_id = wire_u64(r);
    s->pk_total = wire_u8(r);
    s->pk_number = wire_u8(r);
    s->registered_delivery = wire_u8(r);
    s->msg_level = wire_u8(r);
    wire_fixed(r, 10, s->service_id);
    s->fee_user_type = wire_u8(r);
    wire_fixed(r, 32, s->fee_terminal_id);
    s->fee_terminal_type = wire_u8(r);
    s->tp_pid = wire_u8(r);
    s->tp_udhi = wire_u8(r);
    s->msg_fmt = wire_u8(r);
    wire_fixed(r, 6, s->msg_src);
    wire_fixed(r, 2, s->fee_type);
    wire_fixed(r, 6, s->fee_code);
    wire_fixed(r, 17, s->valid_time);
    wire_fixed(r, 17, s->at_time);
    wire_fixed(r, 21, s->src_id);
    s->dest_count = wire_u8(r);
    if (s->dest_count == 0 || s->dest_count > CMPP_MAX_DEST) {
        r->err = 1;
        return;
    }
    for (unsigned i = 0; i < s->dest_count; i++)
        wire_fixed(r, 32, s->dest[i]);
    s->dest_terminal_type = wire_u8(r);
    s->msg_length = wire_u8(r);
    const uint8_t *q = wire_take(r, s->msg_length);
    if (q != NULL)
        memcpy(s->content, q, s->msg_length);
    wire_fixed(r, 20, s->link_id);
}

static void decode_deliver(wire_rd *r, cmpp_deliver *d)
{
    d->msg_id = wire_u64(r);
    wire_fixed(r, 21, d->dest_id);
    wire_fixed(r, 10, d->service_id);
    d->tp_pid = wire_u8(r);
    d->tp_udhi = wire_u8(r);
    d->msg_fmt = wire_u8(r);
    wire_fixed(r, 32, d->src_terminal_id);
    d->src_terminal_type = wire_u8(r);
    d->registered_delivery = wire_u8(r);
    d->msg_length = wire_u8(r);
    const uint8_t *q = wire_take(r, d->msg_length);
    if (q != NULL)
        memcpy(d->content, q, d->msg_length);
    if (r->err)
        return;
    /* LinkID: tolerated when short or missing, as some gateways send it. */
    size_t n = r->left < 20 ? r->left : 20;
    wire_fixed(r, n, d->link_id);
}

int cmpp_decode(const uint8_t *data, size_t len, cmpp_pdu *pdu)
{
    memset(pdu, 0, sizeof(*pdu));
    if (len < CMPP_HEADER_LEN || wire_get32(data) != len || len > CMPP_MAX_PDU)
        return -1;
    pdu->command_id = wire_get32(data + 4);
    pdu->sequence_id = wire_get32(data + 8);
    wire_rd r;
    wire_rd_init(&r, data + CMPP_HEADER_LEN, len - CMPP_HEADER_LEN);
    switch (pdu->command_id) {
    case CMPP_CONNECT: {
        cmpp_connect *c = &pdu->u.connect;
        wire_fixed(&r, 6, c->source_addr);
        const uint8_t *a = wire_take(&r, 16);
        if (a != NULL)
            memcpy(c->authenticator, a, 16);
        c->version = wire_u8(&r);
        c->timestamp = wire_u32(&r);
        break;
    }
    case CMPP_CONNECT_RESP: {
        cmpp_connect_resp *c = &pdu->u.connect_resp;
        c->status = wire_u32(&r);
        const uint8_t *a = wire_take(&r, 16);
        if (a != NULL)
            memcpy(c->authenticator, a, 16);
        c->version = wire_u8(&r);
        break;
    }
    case CMPP_TERMINATE:
    case CMPP_TERMINATE_RESP:
    case CMPP_ACTIVE_TEST:
        break;
    case CMPP_ACTIVE_TEST_RESP:
        pdu->u.active_test_reserved = wire_u8(&r);
        break;
    case CMPP_SUBMIT:
        decode_submit(&r, &pdu->u.submit);
        break;
    case CMPP_SUBMIT_RESP:
        pdu->u.submit_resp.msg_id = wire_u64(&r);
        pdu->u.submit_resp.result = wire_u32(&r);
        break;
    case CMPP_DELIVER:
        decode_deliver(&r, &pdu->u.deliver);
        break;
    case CMPP_DELIVER_RESP:
        pdu->u.deliver_resp.msg_id = wire_u64(&r);
        pdu->u.deliver_resp.result = wire_u32(&r);
        break;
    default:
        return -1;
    }
    return r.err || r.left != 0 ? -1 : 0;
}

static int encode_submit(const cmpp_submit *s, hrss_buf *b)
{
    if (s->dest_count == 0 || s->dest_count > CMPP_MAX_DEST)
        return -1;
    int rc = wire_add_u64(b, s->msg_id) | wire_add_u8(b, s->pk_total) |
             wire_add_u8(b, s->pk_number) | wire_add_u8(b, s->registered_delivery) |
             wire_add_u8(b, s->msg_level) | wire_add_fixed(b, s->service_id, 10) |
             wire_add_u8(b, s->fee_user_type) | wire_add_fixed(b, s->fee_terminal_id, 32) |
             wire_add_u8(b, s->fee_terminal_type) | wire_add_u8(b, s->tp_pid) |
             wire_add_u8(b, s->tp_udhi) | wire_add_u8(b, s->msg_fmt) |
             wire_add_fixed(b, s->msg_src, 6) | wire_add_fixed(b, s->fee_type, 2) |
             wire_add_fixed(b, s->fee_code, 6) | wire_add_fixed(b, s->valid_time, 17) |
             wire_add_fixed(b, s->at_time, 17) | wire_add_fixed(b, s->src_id, 21) |
             wire_add_u8(b, s->dest_count);
    for (unsigned i = 0; i < s->dest_count; i++)
        rc |= wire_add_fixed(b, s->dest[i], 32);
    rc |= wire_add_u8(b, s->dest_terminal_type) | wire_add_u8(b, s->msg_length);
    if (s->msg_length > 0)
        rc |= buf_append(b, s->content, s->msg_length);
    rc |= wire_add_fixed(b, s->link_id, 20);
    return rc ? -1 : 0;
}

static int encode_deliver(const cmpp_deliver *d, hrss_buf *b)
{
    int rc = wire_add_u64(b, d->msg_id) | wire_add_fixed(b, d->dest_id, 21) |
             wire_add_fixed(b, d->service_id, 10) | wire_add_u8(b, d->tp_pid) |
             wire_add_u8(b, d->tp_udhi) | wire_add_u8(b, d->msg_fmt) |
             wire_add_fixed(b, d->src_terminal_id, 32) | wire_add_u8(b, d->src_terminal_type) |
             wire_add_u8(b, d->registered_delivery) | wire_add_u8(b, d->msg_length);
    if (d->msg_length > 0)
        rc |= buf_append(b, d->content, d->msg_length);
    rc |= wire_add_fixed(b, d->link_id, 20);
    return rc ? -1 : 0;
}

int cmpp_encode(const cmpp_pdu *pdu, hrss_buf *out)
{
    size_t start = out->len;
    int rc = wire_add_u32(out, 0) | wire_add_u32(out, pdu->command_id) |
             wire_add_u32(out, pdu->sequence_id);
    if (rc)
        return -1;
    switch (pdu->command_id) {
    case CMPP_CONNECT: {
        const cmpp_connect *c = &pdu->u.connect;
        rc = wire_add_fixed(out, c->source_addr, 6) | buf_append(out, c->authenticator, 16) |
             wire_add_u8(out, c->version) | wire_add_u32(out, c->timestamp);
        break;
    }
    case CMPP_CONNECT_RESP: {
        const cmpp_connect_resp *c = &pdu->u.connect_resp;
        rc = wire_add_u32(out, c->status) | buf_append(out, c->authenticator, 16) |
             wire_add_u8(out, c->version);
        break;
    }
    case CMPP_TERMINATE:
    case CMPP_TERMINATE_RESP:
    case CMPP_ACTIVE_TEST:
        break;
    case CMPP_ACTIVE_TEST_RESP:
        rc = wire_add_u8(out, pdu->u.active_test_reserved);
        break;
    case CMPP_SUBMIT:
        rc = encode_submit(&pdu->u.submit, out);
        break;
    case CMPP_SUBMIT_RESP:
        rc = wire_add_u64(out, pdu->u.submit_resp.msg_id) |
             wire_add_u32(out, pdu->u.submit_resp.result);
        break;
    case CMPP_DELIVER:
        rc = encode_deliver(&pdu->u.deliver, out);
        break;
    case CMPP_DELIVER_RESP:
        rc = wire_add_u64(out, pdu->u.deliver_resp.msg_id) |
             wire_add_u32(out, pdu->u.deliver_resp.result);
        break;
    default:
        return -1;
    }
    size_t n = out->len - start;
    if (rc || n > CMPP_MAX_PDU)
        return -1;
    wire_put32((uint8_t *)out->p + start, (uint32_t)n);
    return 0;
}

int cmpp_report_decode(const uint8_t *content, size_t len, cmpp_report *rep)
{
    memset(rep, 0, sizeof(*rep));
    wire_rd r;
    wire_rd_init(&r, content, len);
    rep->msg_id = wire_u64(&r);
    wire_fixed(&r, 7, rep->stat);
    if (r.err)
        return -1;
    /* The rest may be cut short by some gateways: take what is there. */
    if (r.left >= 10)
        wire_fixed(&r, 10, rep->submit_time);
    if (r.left >= 10)
        wire_fixed(&r, 10, rep->done_time);
    if (r.left >= 32)
        wire_fixed(&r, 32, rep->dest_terminal_id);
    else if (r.left >= 21) /* CMPP 2.0 width */
        wire_fixed(&r, 21, rep->dest_terminal_id);
    if (r.left >= 4)
        rep->smsc_sequence = wire_u32(&r);
    return 0;
}

int cmpp_report_encode(const cmpp_report *rep, uint8_t out[CMPP_REPORT_LEN])
{
    hrss_buf b;
    buf_init(&b, CMPP_REPORT_LEN);
    int rc = wire_add_u64(&b, rep->msg_id) | wire_add_fixed(&b, rep->stat, 7) |
             wire_add_fixed(&b, rep->submit_time, 10) | wire_add_fixed(&b, rep->done_time, 10) |
             wire_add_fixed(&b, rep->dest_terminal_id, 32) | wire_add_u32(&b, rep->smsc_sequence);
    if (rc == 0 && b.len == CMPP_REPORT_LEN)
        memcpy(out, b.p, CMPP_REPORT_LEN);
    else
        rc = -1;
    buf_free(&b);
    return rc;
}

static void md5(const uint8_t *data, size_t n, uint8_t out[16])
{
    unsigned len = 16;
    if (EVP_Digest(data, n, out, &len, EVP_md5(), NULL) != 1)
        memset(out, 0, 16); /* only without the default provider; login then fails */
}

void carrier_login_digest(const char *id, size_t id_width, const char *secret,
                          uint32_t timestamp, uint8_t out[16])
{
    uint8_t in[15 + 256 + 10];
    size_t a = strlen(id), s = strlen(secret), n = 0;
    if (a > id_width)
        a = id_width;
    if (s > 256)
        s = 256;
    memcpy(in, id, a);
    n = a;
    memset(in + n, 0, 15 - id_width); /* the id and its NULs fill 15 bytes */
    n += 15 - id_width;
    memcpy(in + n, secret, s);
    n += s;
    char ts[11];
    snprintf(ts, sizeof(ts), "%010" PRIu32, timestamp);
    memcpy(in + n, ts, 10);
    n += 10;
    md5(in, n, out);
}

void cmpp_auth_source(const char *source_addr, const char *secret, uint32_t timestamp,
                      uint8_t out[16])
{
    carrier_login_digest(source_addr, 6, secret, timestamp, out);
}

void cmpp_auth_ismg(uint32_t status, const uint8_t auth_source[16], const char *secret,
                    uint8_t out[16])
{
    uint8_t in[4 + 16 + 256];
    size_t s = strlen(secret);
    if (s > 256)
        s = 256;
    wire_put32(in, status);
    memcpy(in + 4, auth_source, 16);
    memcpy(in + 20, secret, s);
    md5(in, 20 + s, out);
}

uint32_t cmpp_timestamp(time_t t)
{
    time_t cst = t + 8 * 3600;
    struct tm tm;
    if (gmtime_r(&cst, &tm) == NULL)
        return 0;
    return (uint32_t)(tm.tm_mon + 1) * 100000000u + (uint32_t)tm.tm_mday * 1000000u +
           (uint32_t)tm.tm_hour * 10000u + (uint32_t)tm.tm_min * 100u + (uint32_t)tm.tm_sec;
}

void cmpp_msgid_text(uint64_t msg_id, char out[21])
{
    snprintf(out, 21, "%" PRIu64, msg_id);
}

const char *cmpp_command_name(uint32_t id)
{
    switch (id) {
    case CMPP_CONNECT: return "CONNECT";
    case CMPP_CONNECT_RESP: return "CONNECT_RESP";
    case CMPP_TERMINATE: return "TERMINATE";
    case CMPP_TERMINATE_RESP: return "TERMINATE_RESP";
    case CMPP_SUBMIT: return "SUBMIT";
    case CMPP_SUBMIT_RESP: return "SUBMIT_RESP";
    case CMPP_DELIVER: return "DELIVER";
    case CMPP_DELIVER_RESP: return "DELIVER_RESP";
    case CMPP_ACTIVE_TEST: return "ACTIVE_TEST";
    case CMPP_ACTIVE_TEST_RESP: return "ACTIVE_TEST_RESP";
    default: return "UNKNOWN";
    }
}
