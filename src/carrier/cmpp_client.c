/*
 * carrier/cmpp_client.c - the CMPP 3.0 driver of the session core: CONNECT
 * with its authenticator, SUBMIT built from a segment (Pk_total/Pk_number
 * from its UDH), SUBMIT_RESP to the window, DELIVER split into status
 * reports and MO messages (each answered with DELIVER_RESP after it was
 * handed over), ACTIVE_TEST both ways, TERMINATE both ways.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmpp.h"
#include "session.h"
#include "common/str.h"

static void send_pdu(carrier_link *l, const cmpp_pdu *p)
{
    hrss_buf b;
    buf_init(&b, CMPP_MAX_PDU);
    if (cmpp_encode(p, &b) == 0)
        link_write(l, b.p, b.len);
    else
        link_log(l, 0, "event=encode_failed command=%s", cmpp_command_name(p->command_id));
    buf_free(&b);
}

static void send_login(carrier_link *l)
{
    const carrier_config *cfg = &l->c->cfg;
    cmpp_pdu p = {.command_id = CMPP_CONNECT, .sequence_id = link_next_seq(l)};
    cmpp_connect *c = &p.u.connect;
    str_copy(c->source_addr, sizeof(c->source_addr), cfg->account);
    c->timestamp = cmpp_timestamp(time(NULL));
    c->version = (uint8_t)cfg->cmpp_version;
    cmpp_auth_source(c->source_addr, cfg->secret, c->timestamp, c->authenticator);
    memcpy(l->auth_source, c->authenticator, 16);
    send_pdu(l, &p);
}

static int send_submit(carrier_link *l, const carrier_seg *s, uint32_t seq)
{
    const carrier_config *cfg = &l->c->cfg;
    /* 3.4 KB of destination slots: on the heap, not on the stack */
    cmpp_pdu *p = calloc(1, sizeof(*p));
    if (p == NULL)
        return -1;
    p->command_id = CMPP_SUBMIT;
    p->sequence_id = seq;
    cmpp_submit *m = &p->u.submit;
    int total = 1, part = 1;
    if (s->udh && carrier_udh_parts(s->ud, s->ud_len, &total, &part) != 0)
        total = part = 1;
    m->pk_total = (uint8_t)total;
    m->pk_number = (uint8_t)part;
    m->registered_delivery = s->report;
    str_copy(m->service_id, sizeof(m->service_id), cfg->service_id);
    m->fee_user_type = (uint8_t)cfg->fee_user_type;
    m->tp_udhi = s->udh;
    m->msg_fmt = s->coding;
    str_copy(m->msg_src, sizeof(m->msg_src), cfg->account);
    str_copy(m->fee_type, sizeof(m->fee_type), cfg->fee_type);
    str_copy(m->fee_code, sizeof(m->fee_code), cfg->fee_code);
    str_copy(m->src_id, sizeof(m->src_id), s->src);
    m->dest_count = 1;
    str_copy(m->dest[0], sizeof(m->dest[0]), s->dest);
    m->msg_length = (uint8_t)s->ud_len;
    memcpy(m->content, s->ud, s->ud_len);
    hrss_buf b;
    buf_init(&b, CMPP_MAX_PDU);
    int rc = cmpp_encode(p, &b);
    if (rc == 0)
        link_write(l, b.p, b.len);
    buf_free(&b);
    free(p);
    return rc;
}

static void send_keepalive(carrier_link *l, uint32_t seq)
{
    cmpp_pdu p = {.command_id = CMPP_ACTIVE_TEST, .sequence_id = seq};
    send_pdu(l, &p);
}

static void send_logout(carrier_link *l)
{
    cmpp_pdu p = {.command_id = CMPP_TERMINATE, .sequence_id = link_next_seq(l)};
    send_pdu(l, &p);
}

static enum carrier_text text_of(uint8_t fmt)
{
    switch (fmt) {
    case 0: return TEXT_ASCII;
    case 8: return TEXT_UCS2;
    case 15: return TEXT_GBK;
    case 4: return TEXT_BINARY;
    default: return TEXT_LATIN1;
    }
}

static void on_deliver(carrier_link *l, const cmpp_pdu *p)
{
    const cmpp_deliver *d = &p->u.deliver;
    uint32_t result = 0;
    if (d->registered_delivery == 1) {
        cmpp_report r;
        if (cmpp_report_decode(d->content, d->msg_length, &r) == 0) {
            char id[21];
            cmpp_msgid_text(r.msg_id, id);
            link_report(l, id, strcmp(r.stat, "DELIVRD") == 0, r.stat, r.dest_terminal_id);
        } else {
            link_log(l, 1, "event=bad_report length=%u", d->msg_length);
            result = 1;
        }
    } else {
        link_mo(l, d->src_terminal_id, d->dest_id, text_of(d->msg_fmt), d->tp_udhi, d->content,
                d->msg_length);
    }
    cmpp_pdu r = {.command_id = CMPP_DELIVER_RESP, .sequence_id = p->sequence_id};
    r.u.deliver_resp.msg_id = d->msg_id;
    r.u.deliver_resp.result = result;
    send_pdu(l, &r);
}

static void dispatch(carrier_link *l, const cmpp_pdu *p);

static void on_pdu(carrier_link *l, const uint8_t *data, size_t len)
{
    cmpp_pdu *p = malloc(sizeof(*p)); /* 3.5 KB: not on the stack */
    if (p == NULL) {
        link_close(l, "out of memory");
        return;
    }
    if (cmpp_decode(data, len, p) != 0) {
        link_log(l, 1, "event=bad_pdu command=0x%08x seq=%u", p->command_id, p->sequence_id);
        if (p->command_id == CMPP_DELIVER) {
            cmpp_pdu r = {.command_id = CMPP_DELIVER_RESP, .sequence_id = p->sequence_id};
            r.u.deliver_resp.result = 1; /* structure error */
            send_pdu(l, &r);
        } else if (l->state == LINK_LOGIN) {
            link_close(l, "malformed login answer");
        }
    } else {
        dispatch(l, p);
    }
    free(p);
}

static void dispatch(carrier_link *l, const cmpp_pdu *p)
{
    switch (p->command_id) {
    case CMPP_CONNECT_RESP: {
        const cmpp_connect_resp *r = &p->u.connect_resp;
        if (r->status == 0) {
            uint8_t want[16];
            cmpp_auth_ismg(0, l->auth_source, l->c->cfg.secret, want);
            if (memcmp(want, r->authenticator, 16) != 0)
                link_log(l, 1, "event=ismg_authenticator_mismatch");
        }
        link_login_done(l, r->status);
        break;
    }
    case CMPP_SUBMIT_RESP: {
        char id[21];
        cmpp_msgid_text(p->u.submit_resp.msg_id, id);
        link_submit_resp(l, p->sequence_id, p->u.submit_resp.result, id);
        break;
    }
    case CMPP_DELIVER:
        if (l->state == LINK_UP)
            on_deliver(l, p);
        break;
    case CMPP_ACTIVE_TEST: {
        cmpp_pdu r = {.command_id = CMPP_ACTIVE_TEST_RESP, .sequence_id = p->sequence_id};
        send_pdu(l, &r);
        break;
    }
    case CMPP_ACTIVE_TEST_RESP:
        link_keepalive_resp(l, p->sequence_id);
        break;
    case CMPP_TERMINATE: {
        cmpp_pdu r = {.command_id = CMPP_TERMINATE_RESP, .sequence_id = p->sequence_id};
        send_pdu(l, &r);
        link_close_after_flush(l, "TERMINATE from the gateway");
        break;
    }
    case CMPP_TERMINATE_RESP:
        link_close(l, "TERMINATE answered");
        break;
    default:
        link_log(l, 1, "event=unexpected_pdu command=%s", cmpp_command_name(p->command_id));
        break;
    }
}

static int is_throttle(int status)
{
    return status == CMPP_RESULT_FLOW_CONTROL;
}

const carrier_proto carrier_cmpp_proto = {
    .name = "cmpp30",
    .header_len = CMPP_HEADER_LEN,
    .frame_len = cmpp_frame_len,
    .send_login = send_login,
    .send_submit = send_submit,
    .send_keepalive = send_keepalive,
    .send_logout = send_logout,
    .on_pdu = on_pdu,
    .is_throttle = is_throttle,
};
