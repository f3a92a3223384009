/*
 * carrier/carrier.c - configuration defaults and status texts of the carrier
 * links (carrier.h); the links themselves live in session.c over the
 * protocol drivers cmpp_client.c and smpp_client.c.
 */
#include <stdio.h>
#include <string.h>

#include "carrier.h"

void carrier_config_init(carrier_config *cfg, carrier_protocol protocol)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->protocol = protocol;
    cfg->name = "carrier";
    cfg->port = protocol == CARRIER_SMPP34 ? 2775 : 7890;
    cfg->connections = 1;
    cfg->window = 16;
    cfg->rate = 0;
    cfg->queue_max = 1024;
    cfg->heartbeat_s = protocol == CARRIER_SMPP34 ? 30 : 180;
    cfg->response_timeout_ms = 60000;
    cfg->retries = 3;
    cfg->max_attempts = 3;
    cfg->reconnect_min_ms = 1000;
    cfg->reconnect_max_ms = 60000;
    cfg->throttle_pause_ms = 1000;
    cfg->throttle_max = 10;
    cfg->cmpp_version = 0x30;
    cfg->fee_user_type = 2;
    cfg->fee_type = "01";
    cfg->fee_code = "000000";
    cfg->src_ton = 0;
    cfg->src_npi = 0;
    cfg->dst_ton = 1;
    cfg->dst_npi = 1;
    cfg->smpp_msgid_type = -1;
}

static const char *cmpp_result_text(int status)
{
    static const char *const texts[] = {
        "ok", "structure error", "command word error", "duplicate sequence",
        "message length error", "fee code error", "message too long", "service code error",
        "flow control", "charged number error", "Src_Id error", "Msg_src error",
        "Fee_terminal_Id error", "Dest_terminal_Id error",
    };
    if (status >= 0 && (size_t)status < sizeof(texts) / sizeof(texts[0]))
        return texts[status];
    return "carrier error";
}

static const char *smpp_status_text(int status)
{
    switch (status) {
    case 0x00: return "ok";
    case 0x01: return "invalid message length";
    case 0x02: return "invalid command length";
    case 0x03: return "invalid command id";
    case 0x04: return "incorrect bind status";
    case 0x05: return "already bound";
    case 0x08: return "system error";
    case 0x0A: return "invalid source address";
    case 0x0B: return "invalid destination address";
    case 0x0D: return "bind failed";
    case 0x0E: return "invalid password";
    case 0x0F: return "invalid system id";
    case 0x14: return "message queue full";
    case 0x45: return "submit failed";
    case 0x58: return "throttling error";
    case 0x61: return "invalid scheduled delivery time";
    case 0x62: return "invalid validity period";
    default: return "carrier error";
    }
}

const char *carrier_status_text(carrier_protocol protocol, int status)
{
    switch (status) {
    case CARRIER_ETIMEOUT: return "no answer from the carrier";
    case CARRIER_ETHROTTLED: return "carrier flow control persisted";
    case CARRIER_EENCODE: return "segment cannot be encoded";
    default: break;
    }
    return protocol == CARRIER_SMPP34 ? smpp_status_text(status) : cmpp_result_text(status);
}
