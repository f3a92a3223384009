/*
 * carrier/smpp_client.c - the SMPP 3.4 driver of the session core, as an
 * ESME bound in transceiver mode: bind_transceiver, submit_sm from a segment
 * (esm_class UDHI when it carries a UDH), submit_sm_resp and generic_nack to
 * the window, deliver_sm split into delivery receipts (esm_class 0x04) and
 * MO messages, each answered with deliver_sm_resp after it was handed over,
 * enquire_link both ways, unbind both ways.
 *
 * Message ids: smpp_msgid_type (carrier.h) says in which base the carrier
 * writes the id of submit_sm_resp (bit 0) and of the receipt text (bit 1);
 * a receipted_message_id TLV carries the id as in submit_sm_resp.
 */
#include <stdlib.h>
#include <string.h>

#include "session.h"
#include "smpp.h"
#include "common/str.h"

static void send_pdu(carrier_link *l, const smpp_pdu *p)
{
    hrss_buf b;
    buf_init(&b, SMPP_MAX_PDU);
    if (smpp_encode(p, &b) == 0)
        link_write(l, b.p, b.len);
    else
        link_log(l, 0, "event=encode_failed command=%s", smpp_command_name(p->command_id));
    buf_free(&b);
}

static void send_simple(carrier_link *l, uint32_t cmd, uint32_t status, uint32_t seq)
{
    smpp_pdu p = {.command_id = cmd, .command_status = status, .sequence_number = seq};
    send_pdu(l, &p);
}

static void send_login(carrier_link *l)
{
    const carrier_config *cfg = &l->c->cfg;
    smpp_pdu p = {.command_id = SMPP_BIND_TRANSCEIVER, .sequence_number = link_next_seq(l)};
    str_copy(p.u.bind.system_id, sizeof(p.u.bind.system_id), cfg->account);
    str_copy(p.u.bind.password, sizeof(p.u.bind.password), cfg->secret);
    str_copy(p.u.bind.system_type, sizeof(p.u.bind.system_type), cfg->system_type);
    p.u.bind.interface_version = 0x34;
    send_pdu(l, &p);
}

void smpp_dest_form(int ton, const char *dest, char *out, size_t size)
{
    size_t n = strlen(dest);
    int national = n == 11 && dest[0] == '1';
    int with_cc = n == 13 && dest[0] == '8' && dest[1] == '6' && dest[2] == '1';
    if (ton == 1 && national && size > 13) {
        memcpy(out, "86", 2); /* international: the country code in front */
        memcpy(out + 2, dest, 12);
    } else if (ton != 1 && with_cc) {
        str_copy(out, size, dest + 2); /* unknown or national: without it */
    } else {
        str_copy(out, size, dest);
    }
}

static int send_submit(carrier_link *l, const carrier_seg *s, uint32_t seq)
{
    const carrier_config *cfg = &l->c->cfg;
    smpp_pdu *p = calloc(1, sizeof(*p));
    if (p == NULL)
        return -1;
    p->command_id = SMPP_SUBMIT_SM;
    p->sequence_number = seq;
    smpp_sm *m = &p->u.sm;
    m->message_state = -1;
    str_copy(m->service_type, sizeof(m->service_type), cfg->service_id);
    m->source_addr_ton = (uint8_t)cfg->src_ton;
    m->source_addr_npi = (uint8_t)cfg->src_npi;
    str_copy(m->source_addr, sizeof(m->source_addr), s->src);
    m->dest_addr_ton = (uint8_t)cfg->dst_ton;
    m->dest_addr_npi = (uint8_t)cfg->dst_npi;
    smpp_dest_form(cfg->dst_ton, s->dest, m->destination_addr, sizeof(m->destination_addr));
    m->esm_class = s->udh ? 0x40 : 0x00;
    m->registered_delivery = s->report;
    m->data_coding = s->coding;
    m->sm_length = (uint8_t)s->ud_len;
    memcpy(m->short_message, s->ud, s->ud_len);
    hrss_buf b;
    buf_init(&b, SMPP_MAX_PDU);
    int rc = smpp_encode(p, &b);
    if (rc == 0)
        link_write(l, b.p, b.len);
    buf_free(&b);
    free(p);
    return rc;
}

static void send_keepalive(carrier_link *l, uint32_t seq)
{
    send_simple(l, SMPP_ENQUIRE_LINK, 0, seq);
}

static void send_logout(carrier_link *l)
{
    send_simple(l, SMPP_UNBIND, 0, link_next_seq(l));
}

static enum carrier_text text_of(uint8_t dcs)
{
    switch (dcs) {
    case 0x00: /* SMSC default alphabet, unpacked: ASCII for the commands */
    case 0x01: return TEXT_ASCII;
    case 0x03: return TEXT_LATIN1;
    case 0x08: return TEXT_UCS2;
    case 0x02:
    case 0x04: return TEXT_BINARY;
    default: return (dcs & 0x0c) == 0x08 ? TEXT_UCS2 : TEXT_LATIN1;
    }
}

static void on_deliver(carrier_link *l, const smpp_pdu *p)
{
    const smpp_sm *m = &p->u.sm;
    const carrier_config *cfg = &l->c->cfg;
    int type = cfg->smpp_msgid_type;
    const uint8_t *text = m->has_payload && m->sm_length == 0 ? m->payload : m->short_message;
    size_t tlen = m->has_payload && m->sm_length == 0 ? m->payload_len : m->sm_length;
    uint32_t status = 0;
    int kind = m->esm_class & 0x3c;
    if (kind == 0x04 || kind == 0x08 || kind == 0x20) {
        /* SMSC delivery receipt, SME delivery or intermediate notification */
        smpp_receipt r;
        memset(&r, 0, sizeof(r));
        int have_text = smpp_receipt_parse(text, tlen, &r) == 0;
        char id[80];
        if (m->receipted_message_id[0])
            smpp_msgid_canon(m->receipted_message_id, type < 0 ? 0 : (type & 1) ? 16 : 10, id,
                             sizeof(id));
        else if (have_text)
            smpp_msgid_canon(r.id, type < 0 ? 0 : (type & 2) ? 16 : 10, id, sizeof(id));
        else
            id[0] = '\0';
        const char *stat = m->message_state >= 0 ? smpp_state_word(m->message_state) : r.stat;
        if (id[0]) {
            link_report(l, id, strcmp(stat, "DELIVRD") == 0, stat, m->source_addr);
        } else {
            link_log(l, 1, "event=receipt_without_id");
        }
    } else {
        link_mo(l, m->source_addr, m->destination_addr, text_of(m->data_coding),
                (m->esm_class & 0x40) != 0, text, tlen);
    }
    smpp_pdu r = {.command_id = SMPP_DELIVER_SM_RESP, .command_status = status,
                  .sequence_number = p->sequence_number};
    send_pdu(l, &r);
}

static void dispatch(carrier_link *l, const smpp_pdu *p)
{
    const carrier_config *cfg = &l->c->cfg;
    uint32_t st = p->command_status;
    switch (p->command_id) {
    case SMPP_BIND_TRANSCEIVER_RESP:
        link_login_done(l, st);
        break;
    case SMPP_SUBMIT_SM_RESP: {
        char id[80];
        int base = cfg->smpp_msgid_type < 0 ? 0 : (cfg->smpp_msgid_type & 1) ? 16 : 10;
        smpp_msgid_canon(p->u.message_id, base, id, sizeof(id));
        link_submit_resp(l, p->sequence_number, st, st == 0 ? id : "");
        break;
    }
    case SMPP_GENERIC_NACK:
        link_log(l, 1, "event=generic_nack status=0x%x seq=%u", p->command_status,
                 p->sequence_number);
        link_submit_resp(l, p->sequence_number, st ? st : SMPP_ESME_RINVCMDID, "");
        break;
    case SMPP_DELIVER_SM:
        if (l->state == LINK_UP)
            on_deliver(l, p);
        else
            send_simple(l, SMPP_DELIVER_SM_RESP, 0x04, p->sequence_number);
        break;
    case SMPP_ENQUIRE_LINK:
        send_simple(l, SMPP_ENQUIRE_LINK_RESP, 0, p->sequence_number);
        break;
    case SMPP_ENQUIRE_LINK_RESP:
        link_keepalive_resp(l, p->sequence_number);
        break;
    case SMPP_UNBIND:
        send_simple(l, SMPP_UNBIND_RESP, 0, p->sequence_number);
        link_close_after_flush(l, "unbind from the SMSC");
        break;
    case SMPP_UNBIND_RESP:
        link_close(l, "unbind answered");
        break;
    case SMPP_DELIVER_SM_RESP:
    default:
        link_log(l, 1, "event=unexpected_pdu command=%s", smpp_command_name(p->command_id));
        break;
    }
}

static void on_pdu(carrier_link *l, const uint8_t *data, size_t len)
{
    smpp_pdu *p = malloc(sizeof(*p));
    if (p == NULL) {
        link_close(l, "out of memory");
        return;
    }
    if (smpp_decode(data, len, p) == 0) {
        dispatch(l, p);
    } else if (p->command_id == SMPP_BIND_TRANSCEIVER_RESP && l->state == LINK_LOGIN) {
        link_close(l, "malformed bind answer");
    } else if (p->command_id == SMPP_SUBMIT_SM_RESP) {
        /* answered, even if the id cannot be read: the status still counts */
        uint32_t st = p->command_status;
        link_submit_resp(l, p->sequence_number, st ? st : 0x08 /* system error */, "");
    } else {
        link_log(l, 1, "event=bad_pdu command=0x%08x seq=%u", p->command_id,
                 p->sequence_number);
        if (p->command_id == SMPP_DELIVER_SM)
            send_simple(l, SMPP_DELIVER_SM_RESP, 0x01, p->sequence_number);
        else if (!(p->command_id & 0x80000000u))
            send_simple(l, SMPP_GENERIC_NACK,
                        smpp_command_name(p->command_id)[0] == 'u' ? SMPP_ESME_RINVCMDID : 0x01,
                        p->sequence_number);
    }
    free(p);
}

static int is_throttle(int status)
{
    return status == SMPP_ESME_RTHROTTLED || status == SMPP_ESME_RMSGQFUL;
}

const carrier_proto carrier_smpp_proto = {
    .name = "smpp34",
    .header_len = SMPP_HEADER_LEN,
    .frame_len = smpp_frame_len,
    .send_login = send_login,
    .send_submit = send_submit,
    .send_keepalive = send_keepalive,
    .send_logout = send_logout,
    .on_pdu = on_pdu,
    .is_throttle = is_throttle,
};
