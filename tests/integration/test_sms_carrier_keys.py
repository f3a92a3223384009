"""Every setting docs/operations.md lists for a [carrier NAME] section is
accepted by `hrss-sms --check`, alone and all together, for each protocol it
applies to; a key the docs do not list is refused. (Sixteen documented keys
used to stop the daemon as unknown.) What each setting does is checked in
tests/unit/sms/test_carrier_conf.c (the key reaches its field) and the
carrier tests (the field's effect on the wire)."""
import os
import re
import subprocess

from conftest import SMS, SRC, built

# a valid sample value for each documented key; a key documented without
# one here fails the test, so that docs and this list move together
SAMPLE = {
    "protocol": None, "host": "127.0.0.1", "port": "7890", "account": "900001",
    "secret": "888888", "system_type": "hrss", "service_id": "HRSS12333",
    "src_addr": "10658012333", "operators": "mobile", "connections": "2", "window": "8",
    "rate": "100", "queue_max": "64", "heartbeat_s": "60", "response_timeout_ms": "30000",
    "retries": "2", "max_attempts": "4", "reconnect_min_ms": "500",
    "reconnect_max_ms": "30000", "throttle_pause_ms": "500", "throttle_max": "5",
    "cmpp_version": "0x30", "fee_user_type": "2", "fee_type": "01", "fee_code": "000000",
    "src_ton": "0", "src_npi": "0", "dst_ton": "1", "dst_npi": "1", "smpp_msgid_type": "1",
    "corp_id": "12345", "node_id": "3002012345", "listen": "127.0.0.1:0",
    "gw_login": "smg", "gw_password": "smgpass", "fallback": "yes",
}
REQUIRED = ["protocol", "host", "port", "account", "secret", "src_addr", "operators"]
SGIP_REQUIRED = ["listen", "gw_login", "gw_password"]


def documented_keys():
    text = open(os.path.join(SRC, "docs", "operations.md"), encoding="utf-8").read()
    section = text.split("\n## Carrier links\n", 1)[1].split("\n## ", 1)[0]
    keys = []
    for line in section.splitlines():
        if line.startswith("| `"):
            keys += re.findall(r"`([a-z_]+)`", line.split("|")[1])
    return keys


def check(tmp_path, body):
    conf = tmp_path / "sms.conf"
    conf.write_text("[sms]\ndata_dir = %s\n[http]\nlisten = 127.0.0.1:0\n%s" % (tmp_path, body))
    r = subprocess.run([built(SMS), "--config", str(conf), "--check"], capture_output=True,
                       text=True, timeout=30)
    return r.returncode, r.stderr


def section(protocol, extra):
    keys = dict((k, SAMPLE[k]) for k in REQUIRED if k != "protocol")
    if protocol == "sgip12":
        keys.update((k, SAMPLE[k]) for k in SGIP_REQUIRED)
        keys["account"] = "hrsssp"
    if protocol == "smgp30":
        keys["account"] = "hrss0001"
    keys.update(extra)
    return "[carrier x]\nprotocol = %s\n" % protocol + "".join(
        "%s = %s\n" % kv for kv in keys.items())


def test_docs_list_the_carrier_keys():
    keys = documented_keys()
    assert len(keys) >= 30 and "smpp_msgid_type" in keys and "listen" in keys
    assert not set(keys) - set(SAMPLE), "documented keys without a sample: %s" % (
        sorted(set(keys) - set(SAMPLE)))


def test_every_documented_key_is_accepted_alone(tmp_path):
    for key in documented_keys():
        if key == "protocol":
            continue
        protocol = "sgip12" if key in ("corp_id", "node_id") + tuple(SGIP_REQUIRED) else "cmpp30"
        if key in ("system_type", "src_ton", "src_npi", "dst_ton", "dst_npi", "smpp_msgid_type"):
            protocol = "smpp34"
        rc, err = check(tmp_path, section(protocol, {key: SAMPLE[key]}))
        assert rc == 0, "%s: %s" % (key, err)


def test_all_documented_keys_together_for_each_protocol(tmp_path):
    every = dict((k, SAMPLE[k]) for k in documented_keys() if k != "protocol")
    for protocol in ("cmpp30", "smpp34", "sgip12", "smgp30"):
        keys = dict(every)
        if protocol == "smpp34":
            keys["service_id"] = "HRSS"  # service_type is at most 5
        if protocol == "sgip12":
            keys["account"] = "hrsssp"
            keys["fee_type"] = "1"
        if protocol == "smgp30":
            keys["account"] = "hrss0001"
        rc, err = check(tmp_path, section(protocol, keys))
        assert rc == 0, "%s: %s" % (protocol, err)


def test_an_undocumented_key_is_refused(tmp_path):
    rc, err = check(tmp_path, section("cmpp30", {"heartbeat": "60"}))
    assert rc != 0 and "unknown key 'heartbeat' in [carrier NAME]" in err
