"""
tests/integration/test_sms_uplink_routing.py - replies to uplink messages
are routed like a business system's messages (queue.h send_dest_route):
with a link for China Mobile only, a citizen on China Mobile gets the
reply; a Unicom number that wrote in through that link (a ported number)
cannot be answered, and the log says so without the number. No back end
is needed (unknown commands).
"""
import os
import sys
import tempfile
import time

from test_sms_api import Sms

SRC = os.environ.get("HRSS_SOURCE_DIR", ".")
sys.path.insert(0, os.path.join(SRC, "tests", "sim"))
from carrier_harness import Sim  # noqa: E402

WAIT = 60


def test_reply_to_a_number_whose_carrier_has_no_link():
    sim = Sim("cmpp", "--report-delay", "0.02")
    tmp = tempfile.TemporaryDirectory()
    s = None
    try:
        extra = (f"[carrier cm]\nprotocol = cmpp\nhost = 127.0.0.1\nport = {sim.port}\n"
                 "account = 900001\nsecret = 888888\nsrc_addr = 10658012333\n"
                 "operators = mobile\n"
                 f"[uplink]\ncommands = {SRC}/etc/sms-commands.json\n"
                 f"replies = {SRC}/etc/sms-replies.json\naccount = 12333\nthreads = 1\n")
        s = Sms(tmp.name, extra=extra, start=False)
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
    finally:
        if s is not None:
            s.stop()
        sim.stop()
        tmp.cleanup()
