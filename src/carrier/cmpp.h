/*
 * carrier/cmpp.h - the CMPP 3.0 codec (China Mobile QB-GF-028-2003): PDUs to
 * and from bytes, the CONNECT authenticators, nothing about sockets. The CMPP
 * client (cmpp_client.c) and the fuzz target sit on it.
 *
 * All integers are big-endian; octet strings are fixed width, NUL padded.
 * A PDU is a 12-byte header (Total_Length, Command_Id, Sequence_Id) and a
 * body whose layout depends on Command_Id.
 */
#ifndef HRSS_CARRIER_CMPP_H
#define HRSS_CARRIER_CMPP_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/util.h"

#define CMPP_CONNECT 0x00000001u
#define CMPP_CONNECT_RESP 0x80000001u
#define CMPP_TERMINATE 0x00000002u
#define CMPP_TERMINATE_RESP 0x80000002u
#define CMPP_SUBMIT 0x00000004u
#define CMPP_SUBMIT_RESP 0x80000004u
#define CMPP_DELIVER 0x00000005u
#define CMPP_DELIVER_RESP 0x80000005u
#define CMPP_ACTIVE_TEST 0x00000008u
#define CMPP_ACTIVE_TEST_RESP 0x80000008u

#define CMPP_HEADER_LEN 12
#define CMPP_MAX_PDU 4096    /* a SUBMIT to 100 numbers is 3,775 bytes */
#define CMPP_MAX_DEST 100    /* DestUsr_tl < 100 */
#define CMPP_REPORT_LEN 71   /* status report inside a DELIVER's Msg_Content */
#define CMPP_VERSION 0x30

/* SUBMIT_RESP Result values that mean "slow down and send again". */
#define CMPP_RESULT_FLOW_CONTROL 8

typedef struct cmpp_connect {
    char source_addr[7];      /* SP_Id */
    uint8_t authenticator[16];
    uint8_t version;
    uint32_t timestamp;       /* MMDDHHMMSS as a number */
} cmpp_connect;

typedef struct cmpp_connect_resp {
    uint32_t status;          /* 0 ok, 1 structure, 2 source address, 3 auth, 4 version */
    uint8_t authenticator[16];
    uint8_t version;
} cmpp_connect_resp;

typedef struct cmpp_submit {
    uint64_t msg_id;
    uint8_t pk_total, pk_number, registered_delivery, msg_level;
    char service_id[11];
    uint8_t fee_user_type;
    char fee_terminal_id[33];
    uint8_t fee_terminal_type, tp_pid, tp_udhi, msg_fmt;
    char msg_src[7];
    char fee_type[3];
    char fee_code[7];
    char valid_time[18];
    char at_time[18];
    char src_id[22];
    uint8_t dest_count;
    char dest[CMPP_MAX_DEST][33];
    uint8_t dest_terminal_type;
    uint8_t msg_length;
    uint8_t content[255];
    char link_id[21];
} cmpp_submit;

typedef struct cmpp_submit_resp {
    uint64_t msg_id;
    uint32_t result;          /* 0 ok, 8 flow control, ... */
} cmpp_submit_resp;

typedef struct cmpp_deliver {
    uint64_t msg_id;
    char dest_id[22];
    char service_id[11];
    uint8_t tp_pid, tp_udhi, msg_fmt;
    char src_terminal_id[33];
    uint8_t src_terminal_type;
    uint8_t registered_delivery; /* 1: content is a status report */
    uint8_t msg_length;
    uint8_t content[255];
    char link_id[21];
} cmpp_deliver;

typedef struct cmpp_deliver_resp {
    uint64_t msg_id;
    uint32_t result;
} cmpp_deliver_resp;

/* The status report carried in a DELIVER with Registered_Delivery = 1. */
typedef struct cmpp_report {
    uint64_t msg_id;          /* the Msg_Id of the SUBMIT_RESP */
    char stat[8];             /* DELIVRD, UNDELIV, ... */
    char submit_time[11];     /* YYMMDDHHMM */
    char done_time[11];
    char dest_terminal_id[33];
    uint32_t smsc_sequence;
} cmpp_report;

typedef struct cmpp_pdu {
    uint32_t command_id;
    uint32_t sequence_id;
    union {
        cmpp_connect connect;
        cmpp_connect_resp connect_resp;
        cmpp_submit submit;
        cmpp_submit_resp submit_resp;
        cmpp_deliver deliver;
        cmpp_deliver_resp deliver_resp;
        uint8_t active_test_reserved;
    } u;
} cmpp_pdu;

/* Length of the PDU starting at data: 0 when fewer than 12 bytes are there,
 * -1 when Total_Length is below 12 or above CMPP_MAX_PDU (the peer must be
 * dropped), else Total_Length (which may exceed avail: wait for more). */
long cmpp_frame_len(const uint8_t *data, size_t avail);

/* Decodes exactly one PDU (header included, len = its Total_Length).
 * Returns 0, or -1 for an unknown command or a malformed body (with the
 * command and sequence still filled in, so that a response can be sent).
 * A DELIVER whose LinkID is cut short is accepted (some gateways do). */
int cmpp_decode(const uint8_t *data, size_t len, cmpp_pdu *pdu);

/* Appends the bytes of pdu to out. Returns 0, or -1 when a field does not
 * fit its width or the buffer refuses (out is then left partly written). */
int cmpp_encode(const cmpp_pdu *pdu, hrss_buf *out);

/* Decodes/encodes the 71-byte report of a DELIVER's Msg_Content. Decoding
 * accepts a report cut short after Stat (the rest is left empty). */
int cmpp_report_decode(const uint8_t *content, size_t len, cmpp_report *r);
int cmpp_report_encode(const cmpp_report *r, uint8_t out[CMPP_REPORT_LEN]);

/* MD5(id + NULs to 15 bytes + secret + MMDDHHMMSS), id cut at id_width (at
 * most 15): CMPP's AuthenticatorSource (6 + 9 NULs) and SMGP's
 * AuthenticatorClient (8 + 7 NULs). */
void carrier_login_digest(const char *id, size_t id_width, const char *secret,
                          uint32_t timestamp, uint8_t out[16]);
/* AuthenticatorSource = MD5(Source_Addr + 9 NULs + secret + MMDDHHMMSS). */
void cmpp_auth_source(const char *source_addr, const char *secret, uint32_t timestamp,
                      uint8_t out[16]);
/* AuthenticatorISMG = MD5(Status (4 bytes) + AuthenticatorSource + secret). */
void cmpp_auth_ismg(uint32_t status, const uint8_t auth_source[16], const char *secret,
                    uint8_t out[16]);
/* MMDDHHMMSS of t in China Standard Time, as CONNECT's Timestamp. */
uint32_t cmpp_timestamp(time_t t);

/* Canonical text of a Msg_Id: unsigned decimal. out holds >= 21 bytes. */
void cmpp_msgid_text(uint64_t msg_id, char out[21]);

/* Name of a command id ("SUBMIT_RESP"), "UNKNOWN" otherwise. */
const char *cmpp_command_name(uint32_t command_id);

#endif
