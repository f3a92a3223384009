/*
 * sms/carrier_conf.c - a [carrier NAME] section (config.h) turned into the
 * carrier link's configuration (src/carrier/carrier.h): the protocol's
 * defaults, then every key the section sets. Pure functions, any thread.
 */
#include <string.h>

#include "carrier/carrier.h"
#include "carrier_conf.h"

#define UNSET (-2) /* below every value a key may take (smpp_msgid_type -1) */

void sms_carrier_link_unset(struct sms_carrier_link *l)
{
    int *f = (int *)l;
    for (size_t i = 0; i < sizeof(*l) / sizeof(int); i++)
        f[i] = UNSET;
}

static void set_if(int *dst, int v)
{
    if (v != UNSET)
        *dst = v;
}

void sms_carrier_to_config(const sms_carrier_conf *k, carrier_config *cc)
{
    static const carrier_protocol protos[] = {CARRIER_CMPP30, CARRIER_SMPP34, CARRIER_SGIP12,
                                              CARRIER_SMGP30};
    carrier_config_init(cc, protos[k->protocol]);
    cc->name = k->name;
    cc->host = k->host;
    cc->port = (uint16_t)k->port;
    cc->account = k->account;
    cc->secret = k->secret;
    cc->service_id = k->service_id;
    cc->src_addr = k->src_addr;
    cc->system_type = k->system_type;
    cc->connections = k->connections;
    /* segments wait in hrss-sms's lanes, not in the link, so that priorities
     * hold: the link queues what its windows take, unless queue_max says */
    cc->queue_max = k->window * k->connections;
    cc->window = k->window;
    cc->rate = k->rate;
    if (k->corp_id != NULL)
        cc->corp_id = k->corp_id;
    cc->sgip_node_id = (uint32_t)k->node_id;
    if (k->listen != NULL)
        cc->listen = k->listen;
    if (k->gw_login != NULL)
        cc->gw_login = k->gw_login;
    if (k->gw_password != NULL)
        cc->gw_password = k->gw_password;
    if (k->fee_type != NULL)
        cc->fee_type = k->fee_type;
    if (k->fee_code != NULL)
        cc->fee_code = k->fee_code;
    const struct sms_carrier_link *l = &k->link;
    set_if(&cc->queue_max, l->queue_max);
    set_if(&cc->heartbeat_s, l->heartbeat_s);
    set_if(&cc->response_timeout_ms, l->response_timeout_ms);
    set_if(&cc->retries, l->retries);
    set_if(&cc->max_attempts, l->max_attempts);
    set_if(&cc->reconnect_min_ms, l->reconnect_min_ms);
    set_if(&cc->reconnect_max_ms, l->reconnect_max_ms);
    set_if(&cc->throttle_pause_ms, l->throttle_pause_ms);
    set_if(&cc->throttle_max, l->throttle_max);
    set_if(&cc->cmpp_version, l->cmpp_version);
    set_if(&cc->fee_user_type, l->fee_user_type);
    set_if(&cc->src_ton, l->src_ton);
    set_if(&cc->src_npi, l->src_npi);
    set_if(&cc->dst_ton, l->dst_ton);
    set_if(&cc->dst_npi, l->dst_npi);
    set_if(&cc->smpp_msgid_type, l->smpp_msgid_type);
}
