/*
 * carrier/sgip.c - the SGIP 1.2 codec: byte layouts of the SP-SMG interface
 * (section 4.2.3: Bind, Unbind, Submit, Deliver, Report, Trace and their
 * answers). Pure functions: no allocation beyond the caller's buffer, no
 * I/O, no global state.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "sgip.h"
#include "wire.h"

#define RESERVE 8

long sgip_frame_len(const uint8_t *data, size_t avail)
{
    return wire_frame_len(data, avail, SGIP_HEADER_LEN, SGIP_MAX_PDU);
}

static void rd_seq(wire_rd *r, sgip_seq *s)
{
    s->node = wire_u32(r);
    s->time = wire_u32(r);
    s->counter = wire_u32(r);
}

static int add_seq(hrss_buf *b, const sgip_seq *s)
{
    return wire_add_u32(b, s->node) | wire_add_u32(b, s->time) | wire_add_u32(b, s->counter);
}

/* content of n bytes (n <= SGIP_MAX_CONTENT) */
static void rd_content(wire_rd *r, uint32_t n, uint8_t *dst)
{
    if (n > SGIP_MAX_CONTENT) {
        r->err = 1;
        return;
    }
    const uint8_t *q = wire_take(r, n);
    if (q != NULL && n > 0)
        memcpy(dst, q, n);
}

static void decode_submit(wire_rd *r, sgip_submit *s)
{
    wire_fixed(r, 21, s->sp_number);
    wire_fixed(r, 21, s->charge_number);
    s->user_count = wire_u8(r);
    if (s->user_count == 0 || s->user_count > SGIP_MAX_USERS) {
        r->err = 1;
        return;
    }
    for (unsigned i = 0; i < s->user_count; i++)
        wire_fixed(r, 21, s->user_number[i]);
    wire_fixed(r, 5, s->corp_id);
    wire_fixed(r, 10, s->service_type);
    s->fee_type = wire_u8(r);
    wire_fixed(r, 6, s->fee_value);
    wire_fixed(r, 6, s->given_value);
    s->agent_flag = wire_u8(r);
    s->morelateto_mt_flag = wire_u8(r);
    s->priority = wire_u8(r);
    wire_fixed(r, 16, s->expire_time);
    wire_fixed(r, 16, s->schedule_time);
    s->report_flag = wire_u8(r);
    s->tp_pid = wire_u8(r);
    s->tp_udhi = wire_u8(r);
    s->message_coding = wire_u8(r);
    s->message_type = wire_u8(r);
    s->message_length = wire_u32(r);
    rd_content(r, s->message_length, s->content);
    wire_take(r, RESERVE);
}

static void decode_deliver(wire_rd *r, sgip_deliver *d)
{
    wire_fixed(r, 21, d->user_number);
    wire_fixed(r, 21, d->sp_number);
    d->tp_pid = wire_u8(r);
    d->tp_udhi = wire_u8(r);
    d->message_coding = wire_u8(r);
    d->message_length = wire_u32(r);
    rd_content(r, d->message_length, d->content);
    wire_take(r, RESERVE);
}

static void decode_trace_resp(wire_rd *r, sgip_trace_resp *t)
{
    t->count = wire_u8(r);
    for (unsigned i = 0; i < t->count && !r->err; i++) {
        if (i < SGIP_MAX_TRACE) {
            t->rec[i].result = wire_u8(r);
            wire_fixed(r, 6, t->rec[i].node_id);
            wire_fixed(r, 16, t->rec[i].receive_time);
            wire_fixed(r, 16, t->rec[i].send_time);
        } else {
            wire_take(r, 1 + 6 + 16 + 16);
        }
        wire_take(r, RESERVE);
    }
    if (t->count > SGIP_MAX_TRACE)
        t->count = SGIP_MAX_TRACE;
}

int sgip_decode(const uint8_t *data, size_t len, sgip_pdu *pdu)
{
    memset(pdu, 0, sizeof(*pdu));
    if (len < SGIP_HEADER_LEN || wire_get32(data) != len || len > SGIP_MAX_PDU)
        return -1;
    wire_rd r;
    wire_rd_init(&r, data + 4, SGIP_HEADER_LEN - 4);
    pdu->command_id = wire_u32(&r);
    rd_seq(&r, &pdu->seq);
    wire_rd_init(&r, data + SGIP_HEADER_LEN, len - SGIP_HEADER_LEN);
    switch (pdu->command_id) {
    case SGIP_BIND:
        pdu->u.bind.login_type = wire_u8(&r);
        wire_fixed(&r, 16, pdu->u.bind.login_name);
        wire_fixed(&r, 16, pdu->u.bind.login_password);
        wire_take(&r, RESERVE);
        break;
    case SGIP_BIND_RESP:
    case SGIP_SUBMIT_RESP:
    case SGIP_DELIVER_RESP:
    case SGIP_REPORT_RESP:
        pdu->u.resp.result = wire_u8(&r);
        wire_take(&r, RESERVE);
        break;
    case SGIP_UNBIND:
    case SGIP_UNBIND_RESP:
        break;
    case SGIP_SUBMIT:
        decode_submit(&r, &pdu->u.submit);
        break;
    case SGIP_DELIVER:
        decode_deliver(&r, &pdu->u.deliver);
        break;
    case SGIP_REPORT:
        rd_seq(&r, &pdu->u.report.submit_seq);
        pdu->u.report.report_type = wire_u8(&r);
        wire_fixed(&r, 21, pdu->u.report.user_number);
        pdu->u.report.state = wire_u8(&r);
        pdu->u.report.error_code = wire_u8(&r);
        wire_take(&r, RESERVE);
        break;
    case SGIP_TRACE:
        rd_seq(&r, &pdu->u.trace.submit_seq);
        wire_fixed(&r, 21, pdu->u.trace.user_number);
        wire_take(&r, RESERVE);
        break;
    case SGIP_TRACE_RESP:
        decode_trace_resp(&r, &pdu->u.trace_resp);
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

static int encode_submit(const sgip_submit *s, hrss_buf *b)
{
    if (s->user_count == 0 || s->user_count > SGIP_MAX_USERS ||
        s->message_length > SGIP_MAX_CONTENT)
        return -1;
    int rc = wire_add_fixed(b, s->sp_number, 21) | wire_add_fixed(b, s->charge_number, 21) |
             wire_add_u8(b, s->user_count);
    for (unsigned i = 0; i < s->user_count; i++)
        rc |= wire_add_fixed(b, s->user_number[i], 21);
    rc |= wire_add_fixed(b, s->corp_id, 5) | wire_add_fixed(b, s->service_type, 10) |
          wire_add_u8(b, s->fee_type) | wire_add_fixed(b, s->fee_value, 6) |
          wire_add_fixed(b, s->given_value, 6) | wire_add_u8(b, s->agent_flag) |
          wire_add_u8(b, s->morelateto_mt_flag) | wire_add_u8(b, s->priority) |
          wire_add_fixed(b, s->expire_time, 16) | wire_add_fixed(b, s->schedule_time, 16) |
          wire_add_u8(b, s->report_flag) | wire_add_u8(b, s->tp_pid) |
          wire_add_u8(b, s->tp_udhi) | wire_add_u8(b, s->message_coding) |
          wire_add_u8(b, s->message_type) | wire_add_u32(b, s->message_length);
    if (s->message_length > 0)
        rc |= buf_append(b, s->content, s->message_length);
    return rc | add_reserve(b);
}

static int encode_deliver(const sgip_deliver *d, hrss_buf *b)
{
    if (d->message_length > SGIP_MAX_CONTENT)
        return -1;
    int rc = wire_add_fixed(b, d->user_number, 21) | wire_add_fixed(b, d->sp_number, 21) |
             wire_add_u8(b, d->tp_pid) | wire_add_u8(b, d->tp_udhi) |
             wire_add_u8(b, d->message_coding) | wire_add_u32(b, d->message_length);
    if (d->message_length > 0)
        rc |= buf_append(b, d->content, d->message_length);
    return rc | add_reserve(b);
}

static int encode_trace_resp(const sgip_trace_resp *t, hrss_buf *b)
{
    if (t->count > SGIP_MAX_TRACE)
        return -1;
    int rc = wire_add_u8(b, t->count);
    for (unsigned i = 0; i < t->count; i++)
        rc |= wire_add_u8(b, t->rec[i].result) | wire_add_fixed(b, t->rec[i].node_id, 6) |
              wire_add_fixed(b, t->rec[i].receive_time, 16) |
              wire_add_fixed(b, t->rec[i].send_time, 16) | add_reserve(b);
    return rc;
}

int sgip_encode(const sgip_pdu *pdu, hrss_buf *out)
{
    size_t start = out->len;
    int rc = wire_add_u32(out, 0) | wire_add_u32(out, pdu->command_id) | add_seq(out, &pdu->seq);
    if (rc)
        return -1;
    switch (pdu->command_id) {
    case SGIP_BIND:
        rc = wire_add_u8(out, pdu->u.bind.login_type) |
             wire_add_fixed(out, pdu->u.bind.login_name, 16) |
             wire_add_fixed(out, pdu->u.bind.login_password, 16) | add_reserve(out);
        break;
    case SGIP_BIND_RESP:
    case SGIP_SUBMIT_RESP:
    case SGIP_DELIVER_RESP:
    case SGIP_REPORT_RESP:
        rc = wire_add_u8(out, pdu->u.resp.result) | add_reserve(out);
        break;
    case SGIP_UNBIND:
    case SGIP_UNBIND_RESP:
        break;
    case SGIP_SUBMIT:
        rc = encode_submit(&pdu->u.submit, out);
        break;
    case SGIP_DELIVER:
        rc = encode_deliver(&pdu->u.deliver, out);
        break;
    case SGIP_REPORT: {
        const sgip_report *p = &pdu->u.report;
        rc = add_seq(out, &p->submit_seq) | wire_add_u8(out, p->report_type) |
             wire_add_fixed(out, p->user_number, 21) | wire_add_u8(out, p->state) |
             wire_add_u8(out, p->error_code) | add_reserve(out);
        break;
    }
    case SGIP_TRACE:
        rc = add_seq(out, &pdu->u.trace.submit_seq) |
             wire_add_fixed(out, pdu->u.trace.user_number, 21) | add_reserve(out);
        break;
    case SGIP_TRACE_RESP:
        rc = encode_trace_resp(&pdu->u.trace_resp, out);
        break;
    default:
        return -1;
    }
    size_t n = out->len - start;
    if (rc || n > SGIP_MAX_PDU)
        return -1;
    wire_put32((uint8_t *)out->p + start, (uint32_t)n);
    return 0;
}

void sgip_seq_text(const sgip_seq *s, char out[36])
{
    snprintf(out, 36, "%" PRIu32 "-%010" PRIu32 "-%" PRIu32, s->node, s->time, s->counter);
}

const char *sgip_command_name(uint32_t id)
{
    switch (id) {
    case SGIP_BIND: return "BIND";
    case SGIP_BIND_RESP: return "BIND_RESP";
    case SGIP_UNBIND: return "UNBIND";
    case SGIP_UNBIND_RESP: return "UNBIND_RESP";
    case SGIP_SUBMIT: return "SUBMIT";
    case SGIP_SUBMIT_RESP: return "SUBMIT_RESP";
    case SGIP_DELIVER: return "DELIVER";
    case SGIP_DELIVER_RESP: return "DELIVER_RESP";
    case SGIP_REPORT: return "REPORT";
    case SGIP_REPORT_RESP: return "REPORT_RESP";
    case SGIP_TRACE: return "TRACE";
    case SGIP_TRACE_RESP: return "TRACE_RESP";
    default: return "UNKNOWN";
    }
}
