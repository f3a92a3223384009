"""hrss-sms with one link to each carrier, each in its own protocol: China
Mobile over CMPP 3.0, China Unicom over SGIP 1.2 (the simulated gateway
connects back to hrss-sms's SGIP listener for the reports) and China
Telecom over SMGP 3.0. One send with a number of each carrier leaves by the
three links, each number by its carrier's, and all three are reported
delivered."""
from conftest import WAIT, free_port
from test_sms_dispatch import wait_states


def test_batch_of_three_carriers_leaves_by_three_protocols(harness):
    cm = harness.sim("cmpp")
    cu = harness.sim("sgip", "--account", "hrsssp", "--secret", "sgippass",
                     "--sp-login", "smg", "--sp-password", "smgpass")
    ct = harness.sim("smgp", "--account", "hrss0001", "--secret", "smgpsecret")
    listen = free_port()
    s = harness.sms(extra=(
        f"[carrier cm]\nprotocol = cmpp30\nhost = 127.0.0.1\nport = {cm.port}\n"
        "account = 900001\nsecret = 888888\nsrc_addr = 10658012333\noperators = mobile\n"
        f"[carrier cu]\nprotocol = sgip12\nhost = 127.0.0.1\nport = {cu.port}\n"
        "account = hrsssp\nsecret = sgippass\nsrc_addr = 1065580012333\noperators = unicom\n"
        f"corp_id = 12345\nnode_id = 3002012345\nlisten = 127.0.0.1:{listen}\n"
        "gw_login = smg\ngw_password = smgpass\n"
        f"[carrier ct]\nprotocol = smgp30\nhost = 127.0.0.1\nport = {ct.port}\n"
        "account = hrss0001\nsecret = smgpsecret\nsrc_addr = 1065900012333\n"
        "operators = telecom\n"))
    s.add_account("app1")
    for name in ("cm", "cu", "ct"):
        s.wait_log(f"event=carrier_link carrier={name} up=1", WAIT)
    assert cu.control(cmd="sp", port=listen) == {"ok": True}
    r = s.send(mobile="13800138000,13012345678,13312345678", content="您的社保卡已挂失成功")
    assert r["code"] == 1
    ids = [x["msgId"] for x in r["results"]]
    st = wait_states(s, ids, "delivered")
    assert all(st[i]["stat"] == "DELIVRD" for i in ids)
    got = {name: [x["dests"][0] for x in sim.control(cmd="submits")["submits"]]
           for name, sim in (("cm", cm), ("cu", cu), ("ct", ct))}
    assert got == {"cm": ["13800138000"], "cu": ["8613012345678"], "ct": ["13312345678"]}
    assert cu.stats()["callback_logins"] == 1  # the Unicom reports came back on the listener


def test_broadnet_and_unlisted_carriers_go_to_the_fallback_else_code_12(harness):
    cm = harness.sim("cmpp")
    ct = harness.sim("smgp", "--account", "hrss0001", "--secret", "smgpsecret")
    s = harness.sms(extra=(
        f"[carrier cm]\nprotocol = cmpp30\nhost = 127.0.0.1\nport = {cm.port}\n"
        "account = 900001\nsecret = 888888\nsrc_addr = 10658012333\noperators = mobile\n"
        f"[carrier ct]\nprotocol = smgp30\nhost = 127.0.0.1\nport = {ct.port}\n"
        "account = hrss0001\nsecret = smgpsecret\nsrc_addr = 1065900012333\n"
        "operators = telecom\nfallback = yes\n"))
    s.add_account("app1")
    s.wait_log("event=carrier_link carrier=cm up=1", WAIT)
    s.wait_log("event=carrier_link carrier=ct up=1", WAIT)
    # China Broadnet (192) and China Unicom have no link of their own: the
    # fallback takes them; a virtual operator's 165 number is Mobile's
    r = s.send(mobile="19212345678,13012345678,16512345678,13312345678", content="通知")
    assert [x["code"] for x in r["results"]] == [1, 1, 1, 1]
    wait_states(s, [x["msgId"] for x in r["results"]], "delivered")
    assert sorted(x["dests"][0] for x in ct.control(cmd="submits")["submits"]) == \
        ["13012345678", "13312345678", "19212345678"]
    assert [x["dests"][0] for x in cm.control(cmd="submits")["submits"]] == ["16512345678"]


def test_broadnet_without_a_link_gets_code_12(harness):
    s = harness.sms(extra=(
        "[carrier cm]\nprotocol = cmpp30\nhost = 127.0.0.1\nport = 9\naccount = 901234\n"
        "secret = x\nsrc_addr = 10658012333\noperators = mobile, unicom, telecom\n"))
    s.add_account("app1")
    r = s.send(mobile="13800138000,19212345678", content="x")
    assert [x["code"] for x in r["results"]] == [1, 12]
