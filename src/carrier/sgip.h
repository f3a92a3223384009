/*
 * carrier/sgip.h - the SGIP 1.2 codec (China Unicom's SP-SMG interface):
 * PDUs to and from bytes, the three-part sequence number and its text form,
 * nothing about sockets. The SGIP client (sgip_client.c), its listener for
 * the gateway's connections and the fuzz target sit on it.
 *
 * All integers are big-endian; text fields are fixed width, NUL padded. A PDU
 * is a 20-byte header (Message Length, Command ID, Sequence Number of three
 * u32: node id, MMDDHHMMSS, counter) and a body whose layout depends on the
 * command. The sequence number of a Submit is also its message id: a Report
 * names the Submit it reports on by it.
 */
#ifndef HRSS_CARRIER_SGIP_H
#define HRSS_CARRIER_SGIP_H

#include <stddef.h>
#include <stdint.h>

#include "common/util.h"

#define SGIP_BIND 0x00000001u
#define SGIP_BIND_RESP 0x80000001u
#define SGIP_UNBIND 0x00000002u
#define SGIP_UNBIND_RESP 0x80000002u
#define SGIP_SUBMIT 0x00000003u
#define SGIP_SUBMIT_RESP 0x80000003u
#define SGIP_DELIVER 0x00000004u
#define SGIP_DELIVER_RESP 0x80000004u
#define SGIP_REPORT 0x00000005u
#define SGIP_REPORT_RESP 0x80000005u
#define SGIP_TRACE 0x00001000u
#define SGIP_TRACE_RESP 0x80001000u

#define SGIP_HEADER_LEN 20
#define SGIP_MAX_PDU 4096     /* a Submit to 100 numbers is 2,300 bytes + content */
#define SGIP_MAX_USERS 100    /* UserCount 1 to 100 */
#define SGIP_MAX_CONTENT 1024 /* MessageLength kept; longer ones are refused */
#define SGIP_MAX_TRACE 8      /* Trace_Resp records kept */

/* Bind LoginType */
#define SGIP_LOGIN_SP 1  /* SP -> SMG */
#define SGIP_LOGIN_SMG 2 /* SMG -> SP */

/* Result codes (5.2) used here */
#define SGIP_RESULT_BAD_LOGIN 1
#define SGIP_RESULT_BAD_FORMAT 5
#define SGIP_RESULT_BUSY 11   /* node busy: slow down and send again */

/* Report State */
#define SGIP_STATE_OK 0
#define SGIP_STATE_WAITING 1
#define SGIP_STATE_FAILED 2

typedef struct sgip_seq {
    uint32_t node;    /* 3AAAACCCCC for an SP: area code and corporation id */
    uint32_t time;    /* MMDDHHMMSS as a number */
    uint32_t counter;
} sgip_seq;

typedef struct sgip_bind {
    uint8_t login_type;
    char login_name[17];
    char login_password[17];
} sgip_bind;

typedef struct sgip_resp { /* Bind_Resp, Submit_Resp, Deliver_Resp, Report_Resp */
    uint8_t result;
} sgip_resp;

typedef struct sgip_submit {
    char sp_number[22];
    char charge_number[22];
    uint8_t user_count;
    char user_number[SGIP_MAX_USERS][22];
    char corp_id[6];
    char service_type[11];
    uint8_t fee_type;
    char fee_value[7];
    char given_value[7];
    uint8_t agent_flag, morelateto_mt_flag, priority;
    char expire_time[17];
    char schedule_time[17];
    uint8_t report_flag, tp_pid, tp_udhi, message_coding, message_type;
    uint32_t message_length;
    uint8_t content[SGIP_MAX_CONTENT];
} sgip_submit;

typedef struct sgip_deliver {
    char user_number[22];
    char sp_number[22];
    uint8_t tp_pid, tp_udhi, message_coding;
    uint32_t message_length;
    uint8_t content[SGIP_MAX_CONTENT];
} sgip_deliver;

typedef struct sgip_report {
    sgip_seq submit_seq;
    uint8_t report_type;  /* 0 on a Submit, 1 on a forwarded Deliver */
    char user_number[22];
    uint8_t state;        /* SGIP_STATE_* */
    uint8_t error_code;
} sgip_report;

typedef struct sgip_trace {
    sgip_seq submit_seq;
    char user_number[22];
} sgip_trace;

typedef struct sgip_trace_resp {
    uint8_t count;        /* records in the PDU; at most SGIP_MAX_TRACE kept */
    struct {
        uint8_t result;
        char node_id[7];
        char receive_time[17];
        char send_time[17];
    } rec[SGIP_MAX_TRACE];
} sgip_trace_resp;

typedef struct sgip_pdu {
    uint32_t command_id;
    sgip_seq seq;
    union {
        sgip_bind bind;
        sgip_resp resp;
        sgip_submit submit;
        sgip_deliver deliver;
        sgip_report report;
        sgip_trace trace;
        sgip_trace_resp trace_resp;
    } u;
} sgip_pdu;

/* Length of the PDU starting at data: 0 when fewer than 20 bytes are there,
 * -1 when Message Length is below 20 or above SGIP_MAX_PDU, else the length
 * (which may exceed avail: wait for more). */
long sgip_frame_len(const uint8_t *data, size_t avail);

/* Decodes exactly one PDU (header included). 0, or -1 for an unknown command
 * or a malformed body (command and sequence still filled in, so that an
 * answer can be sent). */
int sgip_decode(const uint8_t *data, size_t len, sgip_pdu *pdu);

/* Appends the bytes of pdu to out. 0, or -1 when a field does not fit. */
int sgip_encode(const sgip_pdu *pdu, hrss_buf *out);

/* Text form of a sequence number, the canonical message id of a Submit:
 * "NODE-MMDDHHMMSS-COUNTER" in decimal, the time with its ten digits.
 * out holds >= 36 bytes. */
void sgip_seq_text(const sgip_seq *s, char out[36]);

/* Name of a command id ("SUBMIT_RESP"), "UNKNOWN" otherwise. */
const char *sgip_command_name(uint32_t command_id);

#endif
