/*
 * sms/carrier_conf.h - from a [carrier NAME] section to the carrier link's
 * configuration.
 */
#ifndef HRSS_SMS_CARRIER_CONF_H
#define HRSS_SMS_CARRIER_CONF_H

#include "carrier/carrier.h"
#include "config.h"

/* Fills cc from k: the protocol's defaults (carrier_config_init), then what
 * k sets. Strings point into k, which must outlive cc's use (the carrier
 * client copies them). */
void sms_carrier_to_config(const sms_carrier_conf *k, carrier_config *cc);

#endif
