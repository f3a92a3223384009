/*
 * carrier/carrier.h - the carrier links of hrss-sms: one client per configured
 * carrier account, speaking CMPP 3.0 (China Mobile) or SMPP 3.4 over one or
 * more TCP connections, on the caller's libevent loop.
 *
 * A client logs in on every connection, keeps the links alive (ACTIVE_TEST /
 * enquire_link), sends the segments it is given within a sliding window per
 * connection and a rate per second for the whole account, retransmits on
 * response timeout, slows down when the carrier answers with a flow-control
 * result, and reconnects with an exponential backoff. Everything the carrier
 * sends back comes out through the callbacks: submit results, delivery
 * reports and uplink (MO) messages, whichever connection they arrived on.
 *
 * Message ids cross this interface in one canonical text form per account,
 * the same in on_submit_result and on_report, so that the caller can match a
 * report to its segment by plain string comparison:
 *   - SGIP: the Submit's sequence number, "NODE-MMDDHHMMSS-COUNTER"
 *     (sgip_seq_text), which the Report names.
 *   - SMGP: the 10-byte MsgID in lower-case hex (20 characters).
 *   - CMPP: the 8-byte Msg_Id as an unsigned decimal number (no leading
 *     zeros), both from SUBMIT_RESP and from the Msg_Id inside the report.
 *   - SMPP: the message_id text as received, unless smpp_msgid_type says the
 *     carrier writes one side in hex and the other in decimal (as Kannel's
 *     msg-id-type); then both are converted to unsigned decimal.
 * Reports may arrive before the submit acknowledgement, or on another
 * connection: the client hands each over at once; keeping a table of reports
 * whose id is not yet known is the caller's job.
 *
 * Segmentation (UDH, parts of 67/153 characters) is the caller's: a client
 * carries the bytes of one segment as given.
 *
 * Threading: a client and its callbacks live on the thread running its
 * event_base; no function here may be called from another thread. A
 * callback may call carrier_submit and carrier_client_stats, but must not
 * free the client (defer that to the loop, e.g. with event_base_once).
 */
#ifndef HRSS_CARRIER_CARRIER_H
#define HRSS_CARRIER_CARRIER_H

#include <stddef.h>
#include <stdint.h>

struct event_base;

typedef enum carrier_protocol {
    CARRIER_CMPP30 = 1, /* China Mobile CMPP 3.0 (QB-GF-028-2003) */
    CARRIER_SMPP34 = 2, /* SMPP v3.4, bind_transceiver */
    CARRIER_SGIP12 = 3, /* China Unicom SGIP 1.2; the gateway connects back */
    CARRIER_SMGP30 = 4, /* China Telecom SMGP 3.0 */
} carrier_protocol;

/* Local outcomes of a segment, reported in on_submit_result's status as
 * negative numbers (positive numbers are the carrier's own result codes:
 * CMPP SUBMIT_RESP Result, SMPP command_status). */
#define CARRIER_ETIMEOUT (-1) /* no answer after every retransmission and resend */
#define CARRIER_ETHROTTLED (-2) /* flow control answered more times than allowed */
#define CARRIER_EENCODE (-3) /* the segment cannot be encoded (field too long) */

/* One carrier account. Strings are copied by carrier_client_new; NULL is the
 * empty string. Start from carrier_config_init() and set what differs. */
typedef struct carrier_config {
    const char *name;      /* label in log lines, e.g. "cmcc-1" */
    carrier_protocol protocol;
    const char *host;      /* numeric address or name, resolved at connect */
    uint16_t port;         /* CMPP 7890, SMPP 2775 by custom */
    const char *account;   /* CMPP: SP_Id (Source_Addr, 6 chars); SMPP: system_id
                              (15); SGIP: LoginName (16); SMGP: ClientID (8) */
    const char *secret;    /* CMPP: shared secret; SMPP: password (<= 8 chars);
                              SGIP: LoginPassword (16); SMGP: shared secret */
    const char *system_type;   /* SMPP bind system_type, may be empty */
    const char *service_id;    /* CMPP Service_Id (<= 10), SMPP service_type (<= 5) */
    const char *src_addr;      /* service number, e.g. 10658012333; carrier_submit's
                                  src_ext is appended (CMPP Src_Id, SMPP source_addr) */
    int connections;       /* TCP connections to open (default 1) */
    int window;            /* unacknowledged submits per connection (default 16) */
    int rate;              /* submits in any one second for the account (at most
                              100000), 0 = no limit */
    int queue_max;         /* segments waiting for a window slot (default 1024) */
    int heartbeat_s;       /* idle seconds before a keep-alive (CMPP, SMGP 180,
                              SMPP 30); SGIP, which has none, closes the link with
                              Unbind after this (default 50, gateways close idle
                              links after 60) and logs in again */
    int response_timeout_ms; /* T: wait for a response (default 60000) */
    int retries;           /* N: retransmissions after a timeout (default 3) */
    int max_attempts;      /* sends of one segment over link losses (default 3) */
    int reconnect_min_ms;  /* first reconnect delay (default 1000) */
    int reconnect_max_ms;  /* backoff ceiling (default 60000) */
    int throttle_pause_ms; /* pause after a flow-control answer (default 1000) */
    int throttle_max;      /* flow-control answers one segment may get (default 10) */
    /* CMPP submit fields */
    int cmpp_version;      /* CONNECT Version (default 0x30) */
    int fee_user_type;     /* Fee_UserType (default 2, the SP pays) */
    const char *fee_type;  /* CMPP FeeType (default "01", free); SMGP FeeType
                              (default "00", free); SGIP FeeType (default "1") */
    const char *fee_code;  /* CMPP, SMGP FeeCode, SGIP FeeValue (default "000000") */
    /* SGIP */
    const char *corp_id;   /* CorpId, 5 digits */
    uint32_t sgip_node_id; /* SP node number of the sequence numbers, 3AAAACCCCC
                              (area code, corporation id) */
    const char *listen;    /* HOST:PORT where the gateway connects to deliver
                              uplink messages and reports ("" = no listener) */
    const char *gw_login;  /* the LoginName and LoginPassword the gateway must */
    const char *gw_password; /* give on that listener (compared in constant time) */
    /* SMPP addressing and message id form */
    int src_ton, src_npi, dst_ton, dst_npi; /* defaults 0/0 and 1/1; the number
                              is sent as dst_ton says: 86 + number with 1, the
                              national 11 digits with 0 or 2 */
    int smpp_msgid_type;   /* -1 (default): ids compared as received; 0..3 as
                              Kannel's msg-id-type: bit 0 set = submit_sm_resp
                              id in hex, bit 1 set = receipt id in hex, and
                              both are converted to decimal */
} carrier_config;

/* Fills cfg with the defaults above (no host, account or secret). */
void carrier_config_init(carrier_config *cfg, carrier_protocol protocol);


typedef struct carrier_callbacks {
    /* The carrier acknowledged (status 0) or refused (status != 0) one
     * segment. msgid is the canonical message id ("" when refused); valid
     * during the call only. Called exactly once per accepted carrier_submit,
     * unless the client is freed first. */
    void (*on_submit_result)(void *arg, uint64_t seg_ref, int status, const char *msgid);
    /* A delivery report for a carrier msgid. stat is the carrier's state word
     * (DELIVRD, UNDELIV, EXPIRED, REJECTD, ...), ok = 1 only for DELIVRD;
     * dest is the recipient number. Strings valid during the call only. */
    void (*on_report)(void *arg, const char *msgid, int ok, const char *stat, const char *dest);
    /* An uplink (MO) message: source number, destination (service number +
     * extension), text decoded to UTF-8 (UCS2, GBK, ASCII/IA5 and Latin-1
     * inputs; a UDH is removed). A long message sent in parts (UDH
     * concatenation, up to 16 parts, on any of the links) is passed on once,
     * joined, when its last part arrives, or with the parts that came after
     * 60 seconds. Parts are kept in memory: those of a message still
     * incomplete when the process stops are lost (the carrier had them
     * acknowledged). */
    void (*on_mo)(void *arg, const char *src, const char *dest, const char *text_utf8);
    /* The number of logged-in connections changed; up = that number. */
    void (*on_link)(void *arg, int up);
    /* Optional: a log line (level 0 error, 1 warning, 2 info). Never holds
     * the secret, a message body or a full phone number. */
    void (*on_log)(void *arg, int level, const char *line);
    void *arg;
} carrier_callbacks;

typedef struct carrier_client carrier_client;

/* Creates a client and starts connecting every connection. Returns NULL when
 * the configuration is unusable (unknown protocol, no host, bad sizes) or on
 * memory exhaustion. cfg and cb are copied. Free with carrier_client_free. */
carrier_client *carrier_client_new(struct event_base *base, const carrier_config *cfg,
                                   const carrier_callbacks *cb);

/* Queues one segment (already split, UDH at the start of ud when has_udh)
 * for dest. seg_ref is echoed in on_submit_result. data_coding: 0 GSM/ASCII,
 * 8 UCS2 (15 GBK for CMPP). Returns 0 when queued, -1 when no connection is
 * logged in, the queue is full or the arguments are out of range (dest over
 * 21 characters, ud over 254 bytes); the caller keeps the segment and tries
 * again later. Never calls a callback from inside. */
int carrier_submit(carrier_client *c, uint64_t seg_ref, const char *dest, const char *src_ext,
                   const uint8_t *ud, size_t ud_len, int data_coding, int has_udh,
                   int want_report);

typedef struct carrier_stats {
    int links_up;          /* logged-in connections */
    size_t queued;         /* segments waiting to be sent */
    size_t inflight;       /* sent, not yet answered */
    uint64_t submitted;    /* submits written (retransmissions excluded) */
    uint64_t acked;        /* submit responses with status 0 */
    uint64_t refused;      /* submit responses with another status */
    uint64_t throttled;    /* flow-control answers */
    uint64_t retransmits;  /* submits and keep-alives sent again after a timeout */
    uint64_t reports;      /* delivery reports received */
    uint64_t mo;           /* uplink messages received */
    uint64_t logins_failed;
    uint64_t reconnects;
    int last_login_status; /* CONNECT_RESP Status / bind command_status, -1 none */
    int rate_now;          /* current submits per second cap (0 = none) */
} carrier_stats;

void carrier_client_stats(const carrier_client *c, carrier_stats *st);

/* The port of the SGIP listener once it listens (0 when there is none):
 * with listen = "127.0.0.1:0" the system picks it. */
int carrier_listen_port(const carrier_client *c);

/* Text for a status of on_submit_result (local or the protocol's). */
const char *carrier_status_text(carrier_protocol protocol, int status);

/* Closes every connection at once (a TERMINATE / unbind is written but not
 * waited for) and frees the client. Queued and in-flight segments get no
 * callback. NULL is a no-op. */
void carrier_client_free(carrier_client *c);

#endif
