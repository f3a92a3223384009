/*
 * node/config.h - the hrss-node configuration file: `key = value` lines in
 * `[sections]`, `#` comments, parsed strictly (unknown sections and keys,
 * bad values, duplicates and missing required keys are refused with
 * FILE:LINE and the rule). The format is documented in etc/hrss-node.conf
 * and docs/operations.md.
 *
 * A node_config is plain data owned by its holder: node_config_init fills
 * the defaults, node_config_parse / node_config_load fill it from a file,
 * node_config_free releases its strings. Nothing here touches the network
 * or the data directory; any thread may call these on its own config.
 */
#ifndef HRSS_NODE_CONFIG_H
#define HRSS_NODE_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "common/log.h"
#include "hrss/codes.h"

#define NODE_CONFIG_MAX_LISTEN 8
#define NODE_CONFIG_MAX_BYTES (256 * 1024)
#define NODE_CONFIG_LINE_MAX 4096
#define NODE_CONFIG_ERR_MAX 512

/* The node's names of the shared log levels (common/log.h). */
typedef hrss_log_level node_log_level;
#define NODE_LOG_ERROR HRSS_LOG_ERROR
#define NODE_LOG_WARN HRSS_LOG_WARN
#define NODE_LOG_INFO HRSS_LOG_INFO
#define NODE_LOG_DEBUG HRSS_LOG_DEBUG
#define node_log_level_name hrss_log_level_name

typedef struct node_config {
    /* [node] */
    char system_code[HRSS_SYSTEM_CODE_LEN + 1]; /* this node's own system code */
    char area[HRSS_AREA_CODE_LEN + 1];          /* the area this node serves */
    char *data_dir;                             /* registry.db, audit, state */
    int workers;                                /* 1..256; default: online cores */
    int drain_timeout_ms;                       /* SIGTERM: longest wait for in-flight */
    /* [http] */
    char *http_listen[NODE_CONFIG_MAX_LISTEN];
    int n_http_listen;
    size_t body_limit;       /* bytes of request body; larger is HTTP 413 */
    int idle_timeout_sec;    /* keep-alive and read timeout of a connection */
    /* [https] */
    char *https_listen[NODE_CONFIG_MAX_LISTEN];
    int n_https_listen;
    char *tls_cert; /* PEM chain file */
    char *tls_key;  /* PEM private key file */
    /* [log] */
    node_log_level log_level;
    int log_access; /* one line per request */
    /* [security] */
    int64_t replay_window_sec; /* accepted |request time - now| and nonce memory */
    size_t replay_max_entries; /* nonces remembered at most; when full: refuse (20) */
    char *replay_store;        /* NULL: in-process; "redis://...": shared by instances */
    /* [upstream] */
    int breaker_failures;      /* consecutive failures that open a breaker */
    int breaker_cooldown_ms;   /* open breaker: time before a half-open probe */
    char *upstream_ca_file;    /* https:// upstreams: CAs (PEM); NULL: the system's store */
    /* [audit] */
    int64_t audit_retention_sec;
} node_config;

/* Defaults: workers = online cores, drain 30 s, body 1 MiB, idle 60 s, log
 * info with access lines, replay window 15 min, 1000000 nonces, breaker
 * after 5 failures with a 10 s cool-down, audit retention 180 days. */
void node_config_init(node_config *c);

/* Releases the strings of c (not c itself) and re-initialises it. */
void node_config_free(node_config *c);

/*
 * Parses text[0..len) named `name` (used in messages) into c, which must
 * have been initialised. Returns 0, or -1 with err holding
 * "NAME:LINE: message" (the first error only); c then holds partial data and
 * must still be freed.
 */
int node_config_parse(node_config *c, const char *name, const char *text, size_t len,
                      char err[NODE_CONFIG_ERR_MAX]);

/* Reads the file at path (at most NODE_CONFIG_MAX_BYTES) and parses it. */
int node_config_load(node_config *c, const char *path, char err[NODE_CONFIG_ERR_MAX]);

/* "error", "warn", "info", "debug". */

#endif
