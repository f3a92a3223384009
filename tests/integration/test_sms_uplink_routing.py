"""
tests/integration/test_sms_uplink_routing.py - replies to uplink messages
are routed like a business system's messages (queue.h send_dest_route):
with a link for China Mobile only, a citizen on China Mobile gets the
reply; a Unicom number that wrote in through that link (a ported number)
cannot be answered, and the log says so without the number. No back end
is needed (unknown commands).
"""
import time

from conftest import carrier_conf, uplink_conf

WAIT = 60


def test_reply_to_a_number_whose_carrier_has_no_link(harness):
    sim = harness.sim("cmpp", "--report-delay", "0.02")
    extra = carrier_conf(sim.port, operators="mobile") + uplink_conf(threads=1)
    s = harness.sms(extra=extra, start=False)
    s.add_account("12333", signature="【12333】", balance=100000)
    s.start()
    s.wait_log("event=carrier_link carrier=cm up=1", WAIT)
    for phone in ("18612345678", "13500000001"):
        assert sim.control(cmd="mo", src=phone, dest="10658012333", text="HELLO")["ok"]
    end = time.monotonic() + WAIT
    dests = []
    while time.monotonic() < end and "13500000001" not in dests:
        dests = [x["dests"][0] for x in sim.control(cmd="submits")["submits"]]
        time.sleep(0.05)
    assert "13500000001" in dests
    line = s.wait_log(r"event=reply_failed .*why=\"no link to the carrier of the number\"",
                      WAIT)
    assert "18612345678" not in line
    assert "18612345678" not in dests
    s.stop()
