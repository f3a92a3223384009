/*
 * carrier/smpp.h - the SMPP 3.4 codec (the subset an ESME in transceiver
 * mode needs): bind_transceiver, submit_sm and deliver_sm with the TLVs that
 * matter for delivery reports and long messages, enquire_link, unbind,
 * generic_nack; the delivery receipt text of Appendix B; message id forms.
 * Pure functions, no I/O.
 *
 * A PDU is a 16-byte header (command_length, command_id, command_status,
 * sequence_number) and a body of C-strings (NUL-terminated, with a maximum
 * size counting the NUL), integers and trailing TLVs.
 */
#ifndef HRSS_CARRIER_SMPP_H
#define HRSS_CARRIER_SMPP_H

#include <stddef.h>
#include <stdint.h>

#include "common/util.h"

#define SMPP_GENERIC_NACK 0x80000000u
#define SMPP_BIND_TRANSCEIVER 0x00000009u
#define SMPP_BIND_TRANSCEIVER_RESP 0x80000009u
#define SMPP_SUBMIT_SM 0x00000004u
#define SMPP_SUBMIT_SM_RESP 0x80000004u
#define SMPP_DELIVER_SM 0x00000005u
#define SMPP_DELIVER_SM_RESP 0x80000005u
#define SMPP_UNBIND 0x00000006u
#define SMPP_UNBIND_RESP 0x80000006u
#define SMPP_ENQUIRE_LINK 0x00000015u
#define SMPP_ENQUIRE_LINK_RESP 0x80000015u

#define SMPP_HEADER_LEN 16
#define SMPP_MAX_PDU 8192
#define SMPP_MAX_PAYLOAD 2048 /* message_payload kept; longer ones are refused */

#define SMPP_ESME_ROK 0x00
#define SMPP_ESME_RINVCMDID 0x03
#define SMPP_ESME_RMSGQFUL 0x14
#define SMPP_ESME_RTHROTTLED 0x58

#define SMPP_TLV_RECEIPTED_MESSAGE_ID 0x001E
#define SMPP_TLV_SAR_MSG_REF_NUM 0x020C
#define SMPP_TLV_SAR_TOTAL_SEGMENTS 0x020E
#define SMPP_TLV_SAR_SEGMENT_SEQNUM 0x020F
#define SMPP_TLV_MESSAGE_PAYLOAD 0x0424
#define SMPP_TLV_MESSAGE_STATE 0x0427

typedef struct smpp_bind {
    char system_id[16];
    char password[9];
    char system_type[13];
    uint8_t interface_version;
    uint8_t addr_ton, addr_npi;
    char address_range[41];
} smpp_bind;

/* submit_sm and deliver_sm share their body. */
typedef struct smpp_sm {
    char service_type[6];
    uint8_t source_addr_ton, source_addr_npi;
    char source_addr[21];
    uint8_t dest_addr_ton, dest_addr_npi;
    char destination_addr[21];
    uint8_t esm_class, protocol_id, priority_flag;
    char schedule_delivery_time[17];
    char validity_period[17];
    uint8_t registered_delivery, replace_if_present_flag, data_coding, sm_default_msg_id;
    uint8_t sm_length;
    uint8_t short_message[254];
    /* optional parameters (0 / empty when absent) */
    int has_sar;
    uint16_t sar_msg_ref_num;
    uint8_t sar_total_segments, sar_segment_seqnum;
    char receipted_message_id[65];
    int message_state;     /* -1 when absent */
    size_t payload_len;    /* message_payload, when present */
    int has_payload;
    uint8_t payload[SMPP_MAX_PAYLOAD];
} smpp_sm;

typedef struct smpp_pdu {
    uint32_t command_id;
    uint32_t command_status;
    uint32_t sequence_number;
    union {
        smpp_bind bind;
        char system_id[16];    /* bind_transceiver_resp */
        smpp_sm sm;            /* submit_sm, deliver_sm */
        char message_id[65];   /* submit_sm_resp, deliver_sm_resp */
    } u;
} smpp_pdu;

/* As cmpp_frame_len: 0 need more, -1 out of bounds, else command_length. */
long smpp_frame_len(const uint8_t *data, size_t avail);

/* Decodes exactly one PDU. 0, or -1 for an unknown command or a malformed
 * body (header fields still filled in). A response with a non-zero status
 * may have an empty body. Unknown TLVs are skipped. */
int smpp_decode(const uint8_t *data, size_t len, smpp_pdu *pdu);

/* Appends the bytes of pdu; -1 when a field exceeds its maximum. A response
 * with a non-zero command_status is sent without a body. */
int smpp_encode(const smpp_pdu *pdu, hrss_buf *out);

/* Fields of a delivery receipt text (Appendix B): "id:IIII sub:SSS
 * dlvrd:DDD submit date:YYMMDDhhmm done date:YYMMDDhhmm stat:DDDDDDD
 * err:E text:...". Missing fields are empty. -1 when there is no id. */
typedef struct smpp_receipt {
    char id[65];
    char stat[8];
    char err[4];
    char submit_date[11];
    char done_date[11];
} smpp_receipt;
int smpp_receipt_parse(const uint8_t *text, size_t len, smpp_receipt *r);

/* The state word of a message_state TLV value (2 -> "DELIVRD"). */
const char *smpp_state_word(int message_state);

/* Canonical message id: as received when base is 0; else id is read as a
 * number in base (10 or 16) and written in decimal, falling back to the
 * text as received when it is not such a number. */
void smpp_msgid_canon(const char *id, int base, char *out, size_t out_size);

const char *smpp_command_name(uint32_t command_id);

/* The destination number in the form its type of number says (a mainland
 * mobile number, 11 digits, or 13 with 86 in front): with TON 1
 * (international) 86 + the number, with TON 0 or 2 the national 11 digits;
 * other numbers as given. Defined in smpp_client.c. */
void smpp_dest_form(int ton, const char *dest, char *out, size_t size);

#endif
