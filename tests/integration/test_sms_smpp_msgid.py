"""hrss-sms against an SMSC that answers submit_sm with a hex message id and
writes the same number in decimal in its receipts (as Kannel's msg-id-type
describes): with smpp_msgid_type = 1 in the [carrier NAME] section (a key
the daemon used to refuse) the receipts match and messages are delivered;
without it nothing matches, and each receipt is logged as unmatched once
report_park has passed, instead of messages staying submitted silently."""
import time

from conftest import WAIT, carrier_conf
from test_sms_dispatch import wait_states


def start(harness, extra):
    sim = harness.sim("smpp", "--msgid-hex-receipt-dec")
    s = harness.sms(extra="[queue]\nreport_park = 1s\n" +
                    carrier_conf(sim.port, "smpp", extra=extra))
    s.add_account("app1")
    s.wait_log("event=carrier_link carrier=cm up=1", WAIT)
    return sim, s


def test_hex_ack_decimal_receipt_delivered_with_smpp_msgid_type(harness):
    sim, s = start(harness, "smpp_msgid_type = 1\n")
    r = s.send(mobile="13800138000,13800138001", content="您的社保卡已挂失成功")
    ids = [x["msgId"] for x in r["results"]]
    wait_states(s, ids, "delivered")
    assert "event=report_unmatched" not in "\n".join(s.log())


def test_unmatched_receipt_is_logged(harness):
    sim, s = start(harness, "")
    r = s.send(mobile="13800138000", content="您的社保卡已挂失成功")
    mid = r["results"][0]["msgId"]
    line = s.wait_log("event=report_unmatched", WAIT)
    assert "smpp_msgid_type" in line and "13800138000" not in line
    time.sleep(0.5)
    assert s.status([mid])["messages"][0]["state"] == "submitted"
