/*
 * carrier/carrier.c - configuration defaults and status texts of the carrier
 * links (carrier.h); the links themselves live in session.c over the
 * protocol drivers cmpp_client.c, smpp_client.c, sgip_client.c and
 * smgp_client.c.
 */
#include <stdio.h>
#include <string.h>

#include "carrier.h"

void carrier_config_init(carrier_config *cfg, carrier_protocol protocol)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->protocol = protocol;
    cfg->name = "carrier";
    cfg->port = protocol == CARRIER_SMPP34   ? 2775
                : protocol == CARRIER_SGIP12 ? 8801
                : protocol == CARRIER_SMGP30 ? 8890
                                             : 7890;
    cfg->connections = 1;
    cfg->window = 16;
    cfg->rate = 0;
    cfg->queue_max = 1024;
    cfg->heartbeat_s = protocol == CARRIER_SMPP34 ? 30 : protocol == CARRIER_SGIP12 ? 50 : 180;
    cfg->response_timeout_ms = 60000;
    cfg->retries = 3;
    cfg->max_attempts = 3;
    cfg->reconnect_min_ms = 1000;
    cfg->reconnect_max_ms = 60000;
    cfg->throttle_pause_ms = 1000;
    cfg->throttle_max = 10;
    cfg->cmpp_version = 0x30;
    cfg->fee_user_type = 2;
    cfg->fee_type = protocol == CARRIER_SMGP30 ? "00" : protocol == CARRIER_SGIP12 ? "1" : "01";
    cfg->fee_code = "000000";
    cfg->src_ton = 0;
    cfg->src_npi = 0;
    cfg->dst_ton = 1;
    cfg->dst_npi = 1;
    cfg->smpp_msgid_type = -1;
    cfg->corp_id = "";
    cfg->listen = "";
    cfg->gw_login = "";
    cfg->gw_password = "";
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

static const char *sgip_result_text(int status)
{
    switch (status) {
    case 0: return "ok";
    case 1: return "illegal login";
    case 2: return "repeated login";
    case 3: return "too many connections";
    case 4: return "wrong login type";
    case 5: return "parameter format error";
    case 6: return "illegal mobile number";
    case 7: return "message id error";
    case 8: return "message length error";
    case 9: return "illegal sequence number";
    case 11: return "node busy";
    case 21: return "destination unreachable";
    case 22: return "routing error";
    case 23: return "no route";
    case 24: return "charge number invalid";
    case 32: return "system failure";
    case 33: return "SMSC queue full";
    default: return "carrier error";
    }
}

static const char *smgp_status_text(int status)
{
    switch (status) {
    case 0: return "ok";
    case 1: return "system busy";
    case 2: return "too many connections";
    case 10: return "message structure error";
    case 11: return "command error";
    case 12: return "duplicate sequence";
    case 20: return "IP address error";
    case 21: return "authentication error";
    case 22: return "version too high";
    case 30: return "illegal MsgType";
    case 32: return "illegal FeeType";
    case 33: return "illegal FeeCode";
    case 34: return "illegal MsgFormat";
    case 36: return "illegal MsgLength";
    case 43: return "illegal ServiceID";
    case 46: return "illegal SrcTermID";
    case 47: return "illegal DestTermID";
    case 74: return "SP sending hours closed";
    case 75: return "SP daily limit exceeded";
    case 76: return "SP account expired";
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
    switch (protocol) {
    case CARRIER_SMPP34: return smpp_status_text(status);
    case CARRIER_SGIP12: return sgip_result_text(status);
    case CARRIER_SMGP30: return smgp_status_text(status);
    default: return cmpp_result_text(status);
    }
}
