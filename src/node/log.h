/*
 * node/log.h - hrss-node's names for the shared structured log lines
 * (common/log.h): one line per event on stderr, `ts=... level=... event=...
 * key=value...`, one write(2) each. Callers never pass bodies, keys or
 * secrets; log_quote makes an untrusted value safe to put in a line.
 */
#ifndef HRSS_NODE_LOG_H
#define HRSS_NODE_LOG_H

#include "common/log.h"
#include "config.h"

#define log_set_level hrss_log_set_level
#define log_enabled hrss_log_enabled
#define log_event hrss_log
#define log_quote hrss_log_quote

#endif
