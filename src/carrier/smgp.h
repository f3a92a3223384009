/*
 * carrier/smgp.h - the SMGP 3.0 codec (China Telecom, SMGP V3.0.3): PDUs to
 * and from bytes, the Login authenticators, the message id's text form and
 * the status report text, nothing about sockets. The SMGP client
 * (smgp_client.c) and the fuzz target sit on it.
 *
 * All integers are big-endian; octet strings are fixed width, NUL padded. A
 * PDU is a 12-byte header (PacketLength, RequestID, SequenceID) and a body;
 * Submit and Deliver end with optional TLVs (Tag 2, Length 2, Value).
 */
#ifndef HRSS_CARRIER_SMGP_H
#define HRSS_CARRIER_SMGP_H

#include <stddef.h>
#include <stdint.h>

#include "common/util.h"

#define SMGP_LOGIN 0x00000001u
#define SMGP_LOGIN_RESP 0x80000001u
#define SMGP_SUBMIT 0x00000002u
#define SMGP_SUBMIT_RESP 0x80000002u
#define SMGP_DELIVER 0x00000003u
#define SMGP_DELIVER_RESP 0x80000003u
#define SMGP_ACTIVE_TEST 0x00000004u
#define SMGP_ACTIVE_TEST_RESP 0x80000004u
#define SMGP_EXIT 0x00000006u
#define SMGP_EXIT_RESP 0x80000006u

#define SMGP_HEADER_LEN 12
#define SMGP_MAX_PDU 4096   /* a Submit to 100 numbers is 2,300 bytes + content */
#define SMGP_MAX_DEST 100
#define SMGP_VERSION 0x30
#define SMGP_MSGID_LEN 10

/* TLV tags (6.3.1) */
#define SMGP_TLV_TP_PID 0x0001
#define SMGP_TLV_TP_UDHI 0x0002
#define SMGP_TLV_LINKID 0x0003
#define SMGP_TLV_PKTOTAL 0x0009
#define SMGP_TLV_PKNUMBER 0x000A
#define SMGP_TLV_SRCTERMTYPE 0x000D

/* Status values (6.2.6) used here */
#define SMGP_STATUS_BUSY 1        /* system busy: slow down and send again */
#define SMGP_STATUS_STRUCTURE 10
#define SMGP_STATUS_AUTH 21

/* LoginMode */
#define SMGP_MODE_SEND 0
#define SMGP_MODE_RECEIVE 1
#define SMGP_MODE_BOTH 2

typedef struct smgp_login {
    char client_id[9];
    uint8_t authenticator[16];
    uint8_t login_mode;
    uint32_t timestamp;   /* MMDDHHMMSS as a number */
    uint8_t version;
} smgp_login;

typedef struct smgp_login_resp {
    uint32_t status;
    uint8_t authenticator[16];
    uint8_t version;
} smgp_login_resp;

/* Optional parameters of Submit and Deliver (has_* = 0 when absent). */
typedef struct smgp_tlvs {
    int has_tp_pid, has_tp_udhi, has_pk, has_src_term_type;
    uint8_t tp_pid, tp_udhi, pk_total, pk_number, src_term_type;
    char link_id[21];     /* empty when absent */
} smgp_tlvs;

typedef struct smgp_submit {
    uint8_t msg_type;     /* 6 = MT */
    uint8_t need_report;
    uint8_t priority;
    char service_id[11];
    char fee_type[3];
    char fee_code[7];
    char fixed_fee[7];
    uint8_t msg_format;
    char valid_time[18];
    char at_time[18];
    char src_term_id[22];
    char charge_term_id[22];
    uint8_t dest_count;
    char dest_term_id[SMGP_MAX_DEST][22];
    uint8_t msg_length;
    uint8_t content[255];
    smgp_tlvs tlv;
} smgp_submit;

typedef struct smgp_msgid_resp { /* Submit_Resp, Deliver_Resp */
    uint8_t msg_id[SMGP_MSGID_LEN];
    uint32_t status;
} smgp_msgid_resp;

typedef struct smgp_deliver {
    uint8_t msg_id[SMGP_MSGID_LEN];
    uint8_t is_report;
    uint8_t msg_format;
    char recv_time[15];
    char src_term_id[22];
    char dest_term_id[22];
    uint8_t msg_length;
    uint8_t content[255];
    smgp_tlvs tlv;
} smgp_deliver;

typedef struct smgp_pdu {
    uint32_t request_id;
    uint32_t sequence_id;
    union {
        smgp_login login;
        smgp_login_resp login_resp;
        smgp_submit submit;
        smgp_msgid_resp resp;
        smgp_deliver deliver;
    } u;
} smgp_pdu;

/* As cmpp_frame_len: 0 need more, -1 out of bounds, else PacketLength. */
long smgp_frame_len(const uint8_t *data, size_t avail);

/* Decodes exactly one PDU. 0, or -1 for an unknown request or a malformed
 * body (header fields still filled in). Unknown TLVs are skipped. */
int smgp_decode(const uint8_t *data, size_t len, smgp_pdu *pdu);

/* Appends the bytes of pdu; -1 when a field does not fit. TLVs are written
 * in tag order, those absent not at all. */
int smgp_encode(const smgp_pdu *pdu, hrss_buf *out);

/* AuthenticatorClient = MD5(ClientID + 7 NULs + secret + MMDDHHMMSS). */
void smgp_auth_client(const char *client_id, const char *secret, uint32_t timestamp,
                      uint8_t out[16]);
/* AuthenticatorServer = MD5(Status (4 bytes) + AuthenticatorClient + secret). */
void smgp_auth_server(uint32_t status, const uint8_t auth_client[16], const char *secret,
                      uint8_t out[16]);

/* Canonical text of a MsgID: its 10 bytes in lower-case hex (20 chars). */
void smgp_msgid_text(const uint8_t id[SMGP_MSGID_LEN], char out[21]);

/* The status report in a Deliver with IsReport = 1 (6.2.63, the SMPP
 * receipt form): "id:" then the MsgID as 10 bytes (or, from some gateways,
 * as 20 hex digits), then "sub:", "dlvrd:", "submit date:", "done date:",
 * "stat:", "err:" and "text:" fields. -1 when there is no id. */
typedef struct smgp_report {
    char id[21];          /* canonical, as smgp_msgid_text */
    char stat[8];
    char err[4];
    char submit_date[11];
    char done_date[11];
} smgp_report;
int smgp_report_parse(const uint8_t *text, size_t len, smgp_report *r);
/* Writes the report of msg id with stat and err as a gateway does (id as 10
 * bytes); returns its length (<= 122), or -1 when it does not fit out. */
int smgp_report_format(const uint8_t id[SMGP_MSGID_LEN], const char *stat, const char *err,
                       const char *submit_date, const char *done_date, uint8_t *out,
                       size_t out_size);

const char *smgp_command_name(uint32_t request_id);

#endif
