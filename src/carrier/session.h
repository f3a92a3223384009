/*
 * carrier/session.h - the protocol-agnostic session core under the CMPP,
 * SMPP, SGIP and SMGP clients (internal to src/carrier). The core owns the connections and
 * everything that is the same for both protocols: connecting, the login
 * timeout, keep-alive timing, the per-connection window and sequence map,
 * retransmission, the account's rate limit and its slow-down on flow
 * control, requeueing on link loss, reconnect backoff, and the callbacks.
 * A protocol driver (carrier_proto) turns those decisions into PDUs and
 * turns received PDUs into calls of the link_* functions below.
 *
 * Everything runs on the client's event_base thread.
 */
#ifndef HRSS_CARRIER_SESSION_H
#define HRSS_CARRIER_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "carrier.h"

struct bufferevent;
struct event;

/* One queued or in-flight segment. */
typedef struct carrier_seg {
    struct carrier_seg *next;
    uint64_t ref;
    char dest[22];
    char src[22];          /* service number + extension */
    uint8_t ud[255];
    size_t ud_len;
    uint8_t coding, udh, report;
    int attempts;          /* link losses while in flight */
    int throttles;         /* flow-control answers */
} carrier_seg;

typedef struct carrier_slot {
    carrier_seg *seg;      /* NULL: free */
    uint32_t seq;
    uint64_t sent_ms;
    int tries;             /* retransmissions so far */
} carrier_slot;

enum link_state { LINK_DOWN, LINK_CONNECTING, LINK_LOGIN, LINK_UP, LINK_CLOSING };

typedef struct carrier_link {
    struct carrier_client *c;
    int idx;
    enum link_state state;
    struct bufferevent *bev;
    uint32_t seq;          /* last sequence number used */
    carrier_slot *slots;   /* window entries */
    int inflight;
    uint64_t last_rx_ms;
    uint64_t login_sent_ms;
    int hb_out;            /* keep-alive awaiting its response */
    uint32_t hb_seq;
    uint64_t hb_sent_ms;
    int hb_tries;
    int in_read;           /* inside the read loop: teardown is deferred */
    int close_pending;
    int backoff_ms;
    uint64_t reconnect_at_ms;
    uint8_t auth_source[16]; /* CMPP, SMGP: the authenticator sent at login */
    uint32_t stamp;        /* SGIP: the time part of this login's sequence numbers */
} carrier_link;

typedef struct carrier_proto {
    const char *name;
    size_t header_len;
    /* as cmpp_frame_len: 0 need more, -1 malformed, else the PDU length */
    long (*frame_len)(const uint8_t *data, size_t avail);
    void (*send_login)(carrier_link *l);
    /* writes the submit of s with sequence seq; -1 if it cannot be encoded */
    int (*send_submit)(carrier_link *l, const carrier_seg *s, uint32_t seq);
    void (*send_keepalive)(carrier_link *l, uint32_t seq);
    void (*send_logout)(carrier_link *l);
    void (*on_pdu)(carrier_link *l, const uint8_t *pdu, size_t len);
    int (*is_throttle)(int status);
    /* Optional: what the client runs besides its links (the SGIP listener),
     * started once the client is set up (-1: the client is refused) and
     * stopped when it is freed; listen_port says where it listens. */
    int (*start)(struct carrier_client *c);
    void (*stop)(struct carrier_client *c);
    int (*listen_port)(const struct carrier_client *c);
} carrier_proto;

/* A protocol without a keep-alive (SGIP) has send_keepalive NULL: a link idle
 * for heartbeat_s is logged out and logs in again. */

extern const carrier_proto carrier_cmpp_proto;
extern const carrier_proto carrier_smpp_proto;
extern const carrier_proto carrier_sgip_proto;
extern const carrier_proto carrier_smgp_proto;

/* A long uplink message whose parts are still arriving (3GPP TS 23.040
 * concatenation: reference, total, sequence in the UDH). */
#define CARRIER_MO_PARTS_MAX 16    /* longer ones are passed on part by part */
#define CARRIER_MO_PENDING_MAX 32  /* long messages being reassembled at once */
#define CARRIER_MO_WAIT_MS 60000   /* then what arrived is passed on */
typedef struct carrier_mo_long {
    char src[32], dest[32];
    int ref, total, have;
    uint64_t first_ms;
    char *parts[CARRIER_MO_PARTS_MAX];
} carrier_mo_long;

struct carrier_client {
    struct event_base *base;
    carrier_config cfg;    /* strings point into strs below */
    char *strs[13];
    carrier_callbacks cb;
    const carrier_proto *proto;
    carrier_link *links;
    int nlinks;
    int links_up;
    int rr;                /* round robin over links */
    carrier_seg *q_head, *q_tail;
    size_t queued;
    struct event *tick;    /* housekeeping every 100 ms */
    struct event *pump;    /* deferred send */
    uint64_t *ring;        /* send times of the last ring_cap submits, oldest first */
    int ring_cap, ring_len, ring_head;
    int rate_now;
    uint64_t pause_until_ms;
    uint64_t last_throttle_ms, last_raise_ms;
    uint64_t sec_start_ms;
    unsigned sent_this_sec, sent_last_sec;
    carrier_stats st;
    carrier_mo_long mo_long[CARRIER_MO_PENDING_MAX];
    int n_mo_long;
    void *proto_data;      /* the driver's own state (the SGIP listener) */
    uint32_t last_stamp;   /* SGIP: the last time part given to a login */
};

/* Milliseconds of a monotonic clock. */
uint64_t carrier_now_ms(void);

/* Next sequence number of the link (1 .. 0x7fffffff, wrapping). */
uint32_t link_next_seq(carrier_link *l);
/* Queues bytes for the peer. */
void link_write(carrier_link *l, const void *p, size_t n);
/* Login answered with the protocol's status as on the wire: 0 brings the
 * link up, anything else fails it. */
void link_login_done(carrier_link *l, uint32_t status);
/* A submit response for seq with its wire status (msgid already in
 * canonical form). */
void link_submit_resp(carrier_link *l, uint32_t seq, uint32_t status, const char *msgid);
void link_keepalive_resp(carrier_link *l, uint32_t seq);
void link_report(carrier_link *l, const char *msgid, int ok, const char *stat, const char *dest);
/* The same for what arrives outside the links (the SGIP listener). */
void carrier_report(carrier_client *c, const char *msgid, int ok, const char *stat,
                    const char *dest);
/* A log line of the client, as link_log without a link. */
void carrier_log(carrier_client *c, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

enum carrier_text { TEXT_ASCII, TEXT_LATIN1, TEXT_UCS2, TEXT_GBK, TEXT_BINARY };
/* An MO message: decodes content (UDH removed when udhi) and calls on_mo. */
void link_mo(carrier_link *l, const char *src, const char *dest, enum carrier_text coding,
             int udhi, const uint8_t *content, size_t len);
void carrier_mo(carrier_client *c, const char *src, const char *dest, enum carrier_text coding,
                int udhi, const uint8_t *content, size_t len);
/* Drops the link now (why goes to the log); in-flight segments are
 * requeued and a reconnect is scheduled. */
void link_close(carrier_link *l, const char *why);
/* Drops the link once what was written has gone out (after a TERMINATE or
 * unbind answer). */
void link_close_after_flush(carrier_link *l, const char *why);
void link_log(carrier_link *l, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Converts text to UTF-8 into out (always NUL-terminated; invalid input
 * becomes U+FFFD). Exposed for the unit tests. */
void carrier_text_utf8(enum carrier_text coding, const uint8_t *p, size_t n, char *out,
                       size_t out_size);

/* Reads the concatenation UDH at the start of ud (8-bit or 16-bit reference):
 * 0 with *total and *seq set, or -1 when there is none. */
int carrier_udh_parts(const uint8_t *ud, size_t len, int *total, int *seq);
/* The same with the concatenation reference (8 or 16 bits). */
int carrier_udh_concat(const uint8_t *ud, size_t len, int *ref, int *total, int *seq);
/* Passes on long uplink messages waiting longer than CARRIER_MO_WAIT_MS
 * (all of them when now is 0), with the parts that arrived. */
void carrier_mo_long_expire(carrier_client *c, uint64_t now);

#endif
