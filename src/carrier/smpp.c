/*
 * carrier/smpp.c - the SMPP 3.4 codec: section 4 PDUs of the SMPP v3.4
 * specification (bind_transceiver 4.1.5, submit_sm 4.4, deliver_sm 4.6,
 * unbind 4.2, enquire_link 4.11, generic_nack 4.3), the optional parameters
 * of 5.3 that carry receipts and long messages, and the receipt text of
 * Appendix B. Pure functions, no global state.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "smpp.h"
#include "wire.h"

long smpp_frame_len(const uint8_t *data, size_t avail)
{
    return wire_frame_len(data, avail, SMPP_HEADER_LEN, SMPP_MAX_PDU);
}

/* A C-string of at most max bytes counting its NUL. */
static void cstr(wire_rd *r, size_t max, char *dst)
{
    dst[0] = '\0';
    if (r->err)
        return;
    size_t lim = r->left < max ? r->left : max;
    const uint8_t *nul = memchr(r->p, 0, lim);
    if (nul == NULL) {
        r->err = 1;
        return;
    }
    size_t n = (size_t)(nul - r->p);
    memcpy(dst, r->p, n);
    dst[n] = '\0';
    wire_take(r, n + 1);
}

static void decode_tlvs(wire_rd *r, smpp_sm *s)
{
    while (!r->err && r->left > 0) {
        uint16_t tag = wire_u16(r), len = wire_u16(r);
        const uint8_t *v = wire_take(r, len);
        if (v == NULL)
            return;
        switch (tag) {
        case SMPP_TLV_RECEIPTED_MESSAGE_ID: {
            /* a C-string; tolerate a missing NUL */
            size_t n = len;
            const uint8_t *nul = memchr(v, 0, len);
            if (nul)
                n = (size_t)(nul - v);
            if (n >= sizeof(s->receipted_message_id)) {
                r->err = 1;
                return;
            }
            memcpy(s->receipted_message_id, v, n);
            s->receipted_message_id[n] = '\0';
            break;
        }
        case SMPP_TLV_MESSAGE_STATE:
            if (len != 1) {
                r->err = 1;
                return;
            }
            s->message_state = v[0];
            break;
        case SMPP_TLV_MESSAGE_PAYLOAD:
            if (len > SMPP_MAX_PAYLOAD) {
                r->err = 1;
                return;
            }
            memcpy(s->payload, v, len);
            s->payload_len = len;
            s->has_payload = 1;
            break;
        case SMPP_TLV_SAR_MSG_REF_NUM:
            if (len != 2) {
                r->err = 1;
                return;
            }
            s->sar_msg_ref_num = (uint16_t)(v[0] << 8 | v[1]);
            s->has_sar = 1;
            break;
        case SMPP_TLV_SAR_TOTAL_SEGMENTS:
        case SMPP_TLV_SAR_SEGMENT_SEQNUM:
            if (len != 1) {
                r->err = 1;
                return;
            }
            if (tag == SMPP_TLV_SAR_TOTAL_SEGMENTS)
                s->sar_total_segments = v[0];
            else
                s->sar_segment_seqnum = v[0];
            s->has_sar = 1;
            break;
        default:
            break; /* 5.3: unknown optional parameters are ignored */
        }
    }
}

static void decode_sm(wire_rd *r, smpp_sm *s)
{
    s->message_state = -1;
    cstr(r, 6, s->service_type);
    s->source_addr_ton = wire_u8(r);
    s->source_addr_npi = wire_u8(r);
    cstr(r, 21, s->source_addr);
    s->dest_addr_ton = wire_u8(r);
    s->dest_addr_npi = wire_u8(r);
    cstr(r, 21, s->destination_addr);
    s->esm_class = wire_u8(r);
    s->protocol_id = wire_u8(r);
    s->priority_flag = wire_u8(r);
    cstr(r, 17, s->schedule_delivery_time);
    cstr(r, 17, s->validity_period);
    s->registered_delivery = wire_u8(r);
    s->replace_if_present_flag = wire_u8(r);
    s->data_coding = wire_u8(r);
    s->sm_default_msg_id = wire_u8(r);
    s->sm_length = wire_u8(r);
    if (s->sm_length > sizeof(s->short_message)) {
        r->err = 1;
        return;
    }
    const uint8_t *q = wire_take(r, s->sm_length);
    if (q != NULL && s->sm_length)
        memcpy(s->short_message, q, s->sm_length);
    decode_tlvs(r, s);
}

int smpp_decode(const uint8_t *data, size_t len, smpp_pdu *pdu)
{
    memset(pdu, 0, sizeof(*pdu));
    if (len < SMPP_HEADER_LEN || wire_get32(data) != len || len > SMPP_MAX_PDU)
        return -1;
    pdu->command_id = wire_get32(data + 4);
    pdu->command_status = wire_get32(data + 8);
    pdu->sequence_number = wire_get32(data + 12);
    wire_rd r;
    wire_rd_init(&r, data + SMPP_HEADER_LEN, len - SMPP_HEADER_LEN);
    int is_resp = (pdu->command_id & 0x80000000u) != 0;
    if (is_resp && pdu->command_status != 0 && r.left == 0 &&
        pdu->command_id != SMPP_GENERIC_NACK)
        return pdu->command_id == SMPP_BIND_TRANSCEIVER_RESP ||
                       pdu->command_id == SMPP_SUBMIT_SM_RESP ||
                       pdu->command_id == SMPP_DELIVER_SM_RESP ||
                       pdu->command_id == SMPP_UNBIND_RESP ||
                       pdu->command_id == SMPP_ENQUIRE_LINK_RESP
                   ? 0
                   : -1;
    switch (pdu->command_id) {
    case SMPP_BIND_TRANSCEIVER: {
        smpp_bind *b = &pdu->u.bind;
        cstr(&r, 16, b->system_id);
        cstr(&r, 9, b->password);
        cstr(&r, 13, b->system_type);
        b->interface_version = wire_u8(&r);
        b->addr_ton = wire_u8(&r);
        b->addr_npi = wire_u8(&r);
        cstr(&r, 41, b->address_range);
        break;
    }
    case SMPP_BIND_TRANSCEIVER_RESP:
        cstr(&r, 16, pdu->u.system_id);
        /* an optional sc_interface_version TLV may follow: skip TLVs */
        while (!r.err && r.left > 0) {
            wire_u16(&r);
            wire_take(&r, wire_u16(&r));
        }
        break;
    case SMPP_SUBMIT_SM:
    case SMPP_DELIVER_SM:
        decode_sm(&r, &pdu->u.sm);
        break;
    case SMPP_SUBMIT_SM_RESP:
    case SMPP_DELIVER_SM_RESP:
        cstr(&r, 65, pdu->u.message_id);
        break;
    case SMPP_UNBIND:
    case SMPP_UNBIND_RESP:
    case SMPP_ENQUIRE_LINK:
    case SMPP_ENQUIRE_LINK_RESP:
    case SMPP_GENERIC_NACK:
        break;
    default:
        return -1;
    }
    return r.err || r.left != 0 ? -1 : 0;
}

static int add_cstr(hrss_buf *b, const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n + 1 > max)
        return -1;
    return buf_append(b, s, n + 1);
}

static int add_tlv(hrss_buf *b, unsigned tag, const void *v, size_t len)
{
    return wire_add_u16(b, tag) | wire_add_u16(b, (unsigned)len) |
           (len ? buf_append(b, v, len) : 0);
}

static int encode_sm(const smpp_sm *s, hrss_buf *b)
{
    if (s->sm_length > sizeof(s->short_message) || s->payload_len > SMPP_MAX_PAYLOAD)
        return -1;
    int rc = add_cstr(b, s->service_type, 6) | wire_add_u8(b, s->source_addr_ton) |
             wire_add_u8(b, s->source_addr_npi) | add_cstr(b, s->source_addr, 21) |
             wire_add_u8(b, s->dest_addr_ton) | wire_add_u8(b, s->dest_addr_npi) |
             add_cstr(b, s->destination_addr, 21) | wire_add_u8(b, s->esm_class) |
             wire_add_u8(b, s->protocol_id) | wire_add_u8(b, s->priority_flag) |
             add_cstr(b, s->schedule_delivery_time, 17) | add_cstr(b, s->validity_period, 17) |
             wire_add_u8(b, s->registered_delivery) | wire_add_u8(b, s->replace_if_present_flag) |
             wire_add_u8(b, s->data_coding) | wire_add_u8(b, s->sm_default_msg_id) |
             wire_add_u8(b, s->sm_length);
    if (s->sm_length)
        rc |= buf_append(b, s->short_message, s->sm_length);
    if (s->has_sar) {
        uint8_t ref[2] = {(uint8_t)(s->sar_msg_ref_num >> 8), (uint8_t)s->sar_msg_ref_num};
        rc |= add_tlv(b, SMPP_TLV_SAR_MSG_REF_NUM, ref, 2) |
              add_tlv(b, SMPP_TLV_SAR_TOTAL_SEGMENTS, &s->sar_total_segments, 1) |
              add_tlv(b, SMPP_TLV_SAR_SEGMENT_SEQNUM, &s->sar_segment_seqnum, 1);
    }
    if (s->receipted_message_id[0]) {
        size_t n = strlen(s->receipted_message_id);
        if (n >= sizeof(s->receipted_message_id))
            return -1;
        rc |= add_tlv(b, SMPP_TLV_RECEIPTED_MESSAGE_ID, s->receipted_message_id, n + 1);
    }
    if (s->message_state >= 0) {
        uint8_t v = (uint8_t)s->message_state;
        rc |= add_tlv(b, SMPP_TLV_MESSAGE_STATE, &v, 1);
    }
    if (s->has_payload)
        rc |= add_tlv(b, SMPP_TLV_MESSAGE_PAYLOAD, s->payload, s->payload_len);
    return rc ? -1 : 0;
}

int smpp_encode(const smpp_pdu *pdu, hrss_buf *out)
{
    size_t start = out->len;
    int rc = wire_add_u32(out, 0) | wire_add_u32(out, pdu->command_id) |
             wire_add_u32(out, pdu->command_status) | wire_add_u32(out, pdu->sequence_number);
    if (rc)
        return -1;
    int is_resp = (pdu->command_id & 0x80000000u) != 0;
    if (is_resp && pdu->command_status != 0) {
        /* 3.3: a response with an error status carries no body */
    } else {
        switch (pdu->command_id) {
        case SMPP_BIND_TRANSCEIVER: {
            const smpp_bind *b = &pdu->u.bind;
            rc = add_cstr(out, b->system_id, 16) | add_cstr(out, b->password, 9) |
                 add_cstr(out, b->system_type, 13) | wire_add_u8(out, b->interface_version) |
                 wire_add_u8(out, b->addr_ton) | wire_add_u8(out, b->addr_npi) |
                 add_cstr(out, b->address_range, 41);
            break;
        }
        case SMPP_BIND_TRANSCEIVER_RESP:
            rc = add_cstr(out, pdu->u.system_id, 16);
            break;
        case SMPP_SUBMIT_SM:
        case SMPP_DELIVER_SM:
            rc = encode_sm(&pdu->u.sm, out);
            break;
        case SMPP_SUBMIT_SM_RESP:
        case SMPP_DELIVER_SM_RESP:
            rc = add_cstr(out, pdu->u.message_id, 65);
            break;
        case SMPP_UNBIND:
        case SMPP_UNBIND_RESP:
        case SMPP_ENQUIRE_LINK:
        case SMPP_ENQUIRE_LINK_RESP:
        case SMPP_GENERIC_NACK:
            break;
        default:
            return -1;
        }
    }
    size_t n = out->len - start;
    if (rc || n > SMPP_MAX_PDU)
        return -1;
    wire_put32((uint8_t *)out->p + start, (uint32_t)n);
    return 0;
}

/* Copies the value after key (up to a space or the end) into dst. */
static void receipt_field(const char *t, size_t len, const char *key, char *dst, size_t size)
{
    size_t kl = strlen(key);
    dst[0] = '\0';
    for (size_t i = 0; i + kl <= len; i++) {
        if ((i == 0 || t[i - 1] == ' ') && strncasecmp(t + i, key, kl) == 0) {
            size_t j = i + kl, n = 0;
            while (j < len && t[j] != ' ' && t[j] != '\0' && n + 1 < size)
                dst[n++] = t[j++];
            dst[n] = '\0';
            return;
        }
    }
}

int smpp_receipt_parse(const uint8_t *text, size_t len, smpp_receipt *r)
{
    const char *t = (const char *)text;
    receipt_field(t, len, "id:", r->id, sizeof(r->id));
    receipt_field(t, len, "stat:", r->stat, sizeof(r->stat));
    receipt_field(t, len, "err:", r->err, sizeof(r->err));
    receipt_field(t, len, "submit date:", r->submit_date, sizeof(r->submit_date));
    receipt_field(t, len, "done date:", r->done_date, sizeof(r->done_date));
    return r->id[0] ? 0 : -1;
}

const char *smpp_state_word(int state)
{
    static const char *const words[] = {"",        "ENROUTE", "DELIVRD", "EXPIRED", "DELETED",
                                        "UNDELIV", "ACCEPTD", "UNKNOWN", "REJECTD"};
    if (state >= 1 && state <= 8)
        return words[state];
    return "UNKNOWN";
}

void smpp_msgid_canon(const char *id, int base, char *out, size_t out_size)
{
    if (base == 10 || base == 16) {
        uint64_t v = 0;
        int ok = id[0] != '\0';
        for (const char *p = id; *p && ok; p++) {
            int d;
            if (*p >= '0' && *p <= '9')
                d = *p - '0';
            else if (base == 16 && *p >= 'a' && *p <= 'f')
                d = *p - 'a' + 10;
            else if (base == 16 && *p >= 'A' && *p <= 'F')
                d = *p - 'A' + 10;
            else
                d = -1;
            if (d < 0 || v > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
                ok = 0;
            else
                v = v * (uint64_t)base + (uint64_t)d;
        }
        if (ok) {
            snprintf(out, out_size, "%" PRIu64, v);
            return;
        }
    }
    snprintf(out, out_size, "%s", id);
}

const char *smpp_command_name(uint32_t id)
{
    switch (id) {
    case SMPP_GENERIC_NACK: return "generic_nack";
    case SMPP_BIND_TRANSCEIVER: return "bind_transceiver";
    case SMPP_BIND_TRANSCEIVER_RESP: return "bind_transceiver_resp";
    case SMPP_SUBMIT_SM: return "submit_sm";
    case SMPP_SUBMIT_SM_RESP: return "submit_sm_resp";
    case SMPP_DELIVER_SM: return "deliver_sm";
    case SMPP_DELIVER_SM_RESP: return "deliver_sm_resp";
    case SMPP_UNBIND: return "unbind";
    case SMPP_UNBIND_RESP: return "unbind_resp";
    case SMPP_ENQUIRE_LINK: return "enquire_link";
    case SMPP_ENQUIRE_LINK_RESP: return "enquire_link_resp";
    default: return "unknown";
    }
}
