/*
 * sms/log.h - hrss-sms's names for the shared structured log lines
 * (common/log.h), the same as hrss-node's: `ts=... level=... event=...
 * key=value...` on stderr, one write(2) per line. Callers never pass
 * passwords, message content or full mobile numbers (sms_mobile_mask).
 */
#ifndef HRSS_SMS_LOG_H
#define HRSS_SMS_LOG_H

#include "common/log.h"

typedef hrss_log_level sms_log_level;
#define SMS_LOG_ERROR HRSS_LOG_ERROR
#define SMS_LOG_WARN HRSS_LOG_WARN
#define SMS_LOG_INFO HRSS_LOG_INFO
#define SMS_LOG_DEBUG HRSS_LOG_DEBUG

#define sms_log_set_level hrss_log_set_level
#define sms_log_enabled hrss_log_enabled
#define sms_log_level_name hrss_log_level_name
#define sms_log hrss_log
#define sms_log_quote hrss_log_quote

#endif
