/*
 * carrier/smgp_client.c - the SMGP 3.0 driver of the session core: Login
 * (LoginMode 2, send and receive on one connection) with its authenticator,
 * Submit built from a segment (TP_udhi, PkTotal and PkNumber TLVs from its
 * UDH), Submit_Resp to the window, Deliver split by IsReport into status
 * reports and uplink messages (each answered with Deliver_Resp after it was
 * handed over), Active_Test both ways, Exit both ways.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmpp.h"
#include "common/str.h"
#include "session.h"
#include "smgp.h"

static void send_pdu(carrier_link *l, const smgp_pdu *p)
{
    hrss_buf b;
    buf_init(&b, SMGP_MAX_PDU);
    if (smgp_encode(p, &b) == 0)
        link_write(l, b.p, b.len);
    else
        link_log(l, 0, "event=encode_failed command=%s", smgp_command_name(p->request_id));
    buf_free(&b);
}

static void send_simple(carrier_link *l, uint32_t id, uint32_t seq)
{
    smgp_pdu p = {.request_id = id, .sequence_id = seq};
    send_pdu(l, &p);
}

static void send_login(carrier_link *l)
{
    const carrier_config *cfg = &l->c->cfg;
    smgp_pdu p = {.request_id = SMGP_LOGIN, .sequence_id = link_next_seq(l)};
    smgp_login *g = &p.u.login;
    str_copy(g->client_id, sizeof(g->client_id), cfg->account);
    g->login_mode = SMGP_MODE_BOTH;
    g->timestamp = cmpp_timestamp(time(NULL)); /* the same MMDDHHMMSS as CMPP's */
    g->version = SMGP_VERSION;
    smgp_auth_client(g->client_id, cfg->secret, g->timestamp, g->authenticator);
    memcpy(l->auth_source, g->authenticator, 16);
    send_pdu(l, &p);
}

static int send_submit(carrier_link *l, const carrier_seg *s, uint32_t seq)
{
    const carrier_config *cfg = &l->c->cfg;
    smgp_pdu *p = calloc(1, sizeof(*p)); /* 2.5 KB of destination slots */
    if (p == NULL)
        return -1;
    p->request_id = SMGP_SUBMIT;
    p->sequence_id = seq;
    smgp_submit *m = &p->u.submit;
    m->msg_type = 6; /* MT */
    m->need_report = s->report;
    str_copy(m->service_id, sizeof(m->service_id), cfg->service_id);
    str_copy(m->fee_type, sizeof(m->fee_type), cfg->fee_type);
    str_copy(m->fee_code, sizeof(m->fee_code), cfg->fee_code);
    str_copy(m->fixed_fee, sizeof(m->fixed_fee), "000000");
    m->msg_format = s->coding;
    str_copy(m->src_term_id, sizeof(m->src_term_id), s->src);
    m->dest_count = 1;
    str_copy(m->dest_term_id[0], sizeof(m->dest_term_id[0]), s->dest);
    m->msg_length = (uint8_t)s->ud_len;
    memcpy(m->content, s->ud, s->ud_len);
    int total, part;
    if (s->udh) {
        m->tlv.has_tp_udhi = 1;
        m->tlv.tp_udhi = 1;
        if (carrier_udh_parts(s->ud, s->ud_len, &total, &part) == 0) {
            m->tlv.has_pk = 1;
            m->tlv.pk_total = (uint8_t)total;
            m->tlv.pk_number = (uint8_t)part;
        }
    }
    hrss_buf b;
    buf_init(&b, SMGP_MAX_PDU);
    int rc = smgp_encode(p, &b);
    if (rc == 0)
        link_write(l, b.p, b.len);
    buf_free(&b);
    free(p);
    return rc;
}

static void send_keepalive(carrier_link *l, uint32_t seq)
{
    send_simple(l, SMGP_ACTIVE_TEST, seq);
}

static void send_logout(carrier_link *l)
{
    send_simple(l, SMGP_EXIT, link_next_seq(l));
}

static enum carrier_text text_of(uint8_t fmt)
{
    switch (fmt) {
    case 0: return TEXT_ASCII;
    case 8: return TEXT_UCS2;
    case 15: return TEXT_GBK;
    case 3:
    case 4: return TEXT_BINARY;
    default: return TEXT_LATIN1;
    }
}

static void on_deliver(carrier_link *l, const smgp_pdu *p)
{
    const smgp_deliver *d = &p->u.deliver;
    uint32_t status = 0;
    if (d->is_report == 1) {
        smgp_report r;
        if (smgp_report_parse(d->content, d->msg_length, &r) == 0) {
            link_report(l, r.id, strcmp(r.stat, "DELIVRD") == 0, r.stat, d->src_term_id);
        } else {
            link_log(l, 1, "event=bad_report length=%u", d->msg_length);
            status = SMGP_STATUS_STRUCTURE;
        }
    } else {
        link_mo(l, d->src_term_id, d->dest_term_id, text_of(d->msg_format),
                d->tlv.has_tp_udhi && (d->tlv.tp_udhi & 1), d->content, d->msg_length);
    }
    smgp_pdu r = {.request_id = SMGP_DELIVER_RESP, .sequence_id = p->sequence_id};
    memcpy(r.u.resp.msg_id, d->msg_id, SMGP_MSGID_LEN);
    r.u.resp.status = status;
    send_pdu(l, &r);
}

static void dispatch(carrier_link *l, const smgp_pdu *p)
{
    switch (p->request_id) {
    case SMGP_LOGIN_RESP: {
        const smgp_login_resp *r = &p->u.login_resp;
        if (r->status == 0) {
            uint8_t want[16];
            smgp_auth_server(0, l->auth_source, l->c->cfg.secret, want);
            if (memcmp(want, r->authenticator, 16) != 0)
                link_log(l, 1, "event=server_authenticator_mismatch");
        }
        link_login_done(l, r->status);
        break;
    }
    case SMGP_SUBMIT_RESP: {
        char id[21];
        smgp_msgid_text(p->u.resp.msg_id, id);
        link_submit_resp(l, p->sequence_id, p->u.resp.status, id);
        break;
    }
    case SMGP_DELIVER:
        if (l->state == LINK_UP)
            on_deliver(l, p);
        break;
    case SMGP_ACTIVE_TEST:
        send_simple(l, SMGP_ACTIVE_TEST_RESP, p->sequence_id);
        break;
    case SMGP_ACTIVE_TEST_RESP:
        link_keepalive_resp(l, p->sequence_id);
        break;
    case SMGP_EXIT:
        send_simple(l, SMGP_EXIT_RESP, p->sequence_id);
        link_close_after_flush(l, "Exit from the gateway");
        break;
    case SMGP_EXIT_RESP:
        link_close(l, "Exit answered");
        break;
    default:
        link_log(l, 1, "event=unexpected_pdu command=%s", smgp_command_name(p->request_id));
        break;
    }
}

static void on_pdu(carrier_link *l, const uint8_t *data, size_t len)
{
    smgp_pdu *p = malloc(sizeof(*p));
    if (p == NULL) {
        link_close(l, "out of memory");
        return;
    }
    if (smgp_decode(data, len, p) == 0) {
        dispatch(l, p);
    } else {
        link_log(l, 1, "event=bad_pdu command=0x%08x seq=%u", p->request_id, p->sequence_id);
        if (p->request_id == SMGP_DELIVER) {
            smgp_pdu r = {.request_id = SMGP_DELIVER_RESP, .sequence_id = p->sequence_id};
            if (len >= SMGP_HEADER_LEN + SMGP_MSGID_LEN)
                memcpy(r.u.resp.msg_id, data + SMGP_HEADER_LEN, SMGP_MSGID_LEN);
            r.u.resp.status = SMGP_STATUS_STRUCTURE;
            send_pdu(l, &r);
        } else if (p->request_id == SMGP_SUBMIT_RESP) {
            link_submit_resp(l, p->sequence_id, SMGP_STATUS_STRUCTURE, "");
        } else if (l->state == LINK_LOGIN) {
            link_close(l, "malformed login answer");
        }
    }
    free(p);
}

static int is_throttle(int status)
{
    return status == SMGP_STATUS_BUSY;
}

const carrier_proto carrier_smgp_proto = {
    .name = "smgp30",
    .header_len = SMGP_HEADER_LEN,
    .frame_len = smgp_frame_len,
    .send_login = send_login,
    .send_submit = send_submit,
    .send_keepalive = send_keepalive,
    .send_logout = send_logout,
    .on_pdu = on_pdu,
    .is_throttle = is_throttle,
};
