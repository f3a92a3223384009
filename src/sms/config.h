/*
 * sms/config.h - the hrss-sms configuration file: `key = value` lines in
 * `[sections]`, `#` comments, parsed strictly like hrss-node's (unknown
 * sections and keys, bad values, duplicates and missing required keys are
 * refused with FILE:LINE and the rule). Documented in etc/hrss-sms.conf and
 * docs/operations.md.
 *
 * An sms_config is plain data owned by its holder: sms_config_init, then
 * sms_config_parse or sms_config_load, then sms_config_free. Any thread,
 * on its own config.
 */
#ifndef HRSS_SMS_CONFIG_H
#define HRSS_SMS_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "content.h"
#include "log.h"

#define SMS_CONFIG_MAX_LISTEN 8
#define SMS_CONFIG_MAX_CARRIERS 8
#define SMS_CONFIG_MAX_BYTES (256 * 1024)
#define SMS_CONFIG_ERR_MAX 512

/* One [carrier NAME] section: a link to one carrier's SMSC. */
typedef struct sms_carrier_conf {
    char *name;
    int protocol;      /* 0 cmpp, 1 smpp, 2 sgip, 3 smgp */
    char *host;
    int port;
    char *account;     /* CMPP Source_Addr / SMPP system_id */
    char *secret;      /* CMPP shared secret / SMPP password */
    char *service_id;  /* CMPP Service_Id / SMPP system_type (may be NULL) */
    char *src_addr;    /* service number; an extension may be appended */
    char *system_type; /* SMPP bind system_type (may be NULL) */
    int operators;     /* bit set of sms_operator served by this link */
    int fallback;      /* 1: also takes the operators no link lists */
    int window;        /* submits awaiting their response */
    int rate;          /* submits per second, 0 = unlimited */
    int connections;
    /* SGIP: CorpId, the SP's node id, and the listener the gateway connects
     * to with gw_login / gw_password */
    char *corp_id;
    int64_t node_id;
    char *listen;
    char *gw_login;
    char *gw_password;
    char *fee_type;    /* CMPP/SMGP FeeType, SGIP FeeType (NULL: the protocol's default) */
    char *fee_code;    /* FeeCode / SGIP FeeValue (NULL: "000000") */
    /* The link's tuning (carrier.h, carrier_config): -1 where the
     * configuration did not set it, so that the protocol's default holds. */
    struct sms_carrier_link {
        int queue_max, heartbeat_s, response_timeout_ms, retries, max_attempts;
        int reconnect_min_ms, reconnect_max_ms, throttle_pause_ms, throttle_max;
        int cmpp_version, fee_user_type, src_ton, src_npi, dst_ton, dst_npi;
        int smpp_msgid_type; /* -1 is also a value: -2 when unset */
    } link;
} sms_carrier_conf;

/* Marks every field of the link's tuning unset. */
void sms_carrier_link_unset(struct sms_carrier_link *l);

typedef struct sms_config {
    /* [sms] */
    char *data_dir;
    int workers;
    int drain_timeout_ms;
    int max_parts;        /* longest long message in parts (code 7 beyond) */
    /* [http] / [https] */
    char *http_listen[SMS_CONFIG_MAX_LISTEN];
    int n_http_listen;
    char *https_listen[SMS_CONFIG_MAX_LISTEN];
    int n_https_listen;
    char *tls_cert;
    char *tls_key;
    size_t body_limit;
    int idle_timeout_sec;
    /* [log] */
    sms_log_level log_level;
    int log_access;
    /* [queue] */
    int batch_max;             /* requests committed in one transaction at most */
    int retry_max;             /* submit attempts of a part before it fails */
    int64_t retry_backoff_ms;  /* first retry delay, doubled each time */
    int64_t validity_ms;       /* a message not sent this long after its time expires */
    int64_t schedule_max_ms;   /* how far ahead a scheduled time may be */
    int64_t report_park_ms;    /* how long a report for an unknown msgid waits */
    int64_t report_wait_ms;    /* how long a submitted part waits for its report */
    /* [callback] */
    int64_t callback_timeout_ms;
    int callback_retries;
    int64_t callback_backoff_ms;
    char *callback_ca_file;    /* CAs for https:// callbacks (NULL: the system's) */
    /* [uplink]: the command engine (off without commands) */
    char *uplink_commands;     /* command table (etc/sms-commands.json) */
    char *uplink_replies;      /* reply templates (etc/sms-replies.json) */
    char *uplink_account;      /* account whose signature and balance replies use */
    int uplink_threads;
    int uplink_max_failures;   /* wrong service passwords before a lock */
    int uplink_lock_sec;
    /* [platform]: hrss-sms as a caller on a collaboration platform node */
    char *platform_url;
    char *platform_system;
    char *platform_secret;     /* hmac-sm3 secret shared with the node */
    char *platform_sm4_key;    /* the grants' SM4 key (NULL: plain bodies) */
    int64_t platform_timeout_ms;
    /* [segments] */
    sms_segments segments;
    /* [carrier NAME] */
    sms_carrier_conf carriers[SMS_CONFIG_MAX_CARRIERS];
    int n_carriers;
} sms_config;

void sms_config_init(sms_config *c);
void sms_config_free(sms_config *c);

/* The carriers the configured links serve: a bit per sms_operator (0 when
 * there is no link; every bit when a link is the fallback). */
int sms_config_operators_served(const sms_config *c);

/* Parses text[0..len) named `name`. Returns 0, or -1 with err =
 * "NAME:LINE: message"; c must be freed either way. */
int sms_config_parse(sms_config *c, const char *name, const char *text, size_t len,
                     char err[SMS_CONFIG_ERR_MAX]);
/* Reads the file (at most SMS_CONFIG_MAX_BYTES) and parses it. */
int sms_config_load(sms_config *c, const char *path, char err[SMS_CONFIG_ERR_MAX]);

#endif
