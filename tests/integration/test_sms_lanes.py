"""
tests/integration/test_sms_lanes.py - priority lanes (LD/T 6007 8.2, DESIGN
8): a verification code or a reply (priority 0) queued behind a backlog of
bulk notices (priority 2) is submitted before them, and business notices
(priority 1) come between. The carrier simulator refuses the login while
the backlog is queued, then lets the link up with a window of one; no
timing is asserted, only the order in which the carrier received the
submits.
"""
import os
import sys
import tempfile
import time

from test_sms_api import Sms

SRC = os.environ.get("HRSS_SOURCE_DIR", ".")
sys.path.insert(0, os.path.join(SRC, "tests", "sim"))
from carrier_harness import Sim  # noqa: E402

WAIT = 30


def test_lanes_order_the_backlog():
    sim = Sim("cmpp", "--report-delay", "0.02")
    # the carrier refuses the login until the backlog is queued
    assert sim.control(cmd="login", status=3)["ok"]
    with tempfile.TemporaryDirectory() as tmp:
        s = Sms(tmp, start=False, extra=(
            f"[carrier cm]\nprotocol = cmpp\nhost = 127.0.0.1\nport = {sim.port}\n"
            "account = 900001\nsecret = 888888\nsrc_addr = 10658012333\n"
            "operators = mobile, unicom, telecom\nwindow = 1\n"))
        try:
            s.add_account("app1")
            s.start()
            bulk = [f"1390000{i:04d}" for i in range(20)]
            r = s.send(mobile=",".join(bulk), content="批量通知", priority=2)
            assert r["code"] == 1 and r["accepted"] == 20
            assert s.send(mobile="13700000001", content="业务通知", priority=1)["code"] == 1
            assert s.send(mobile="13600000001", content="验证码123456", priority=0)["code"] == 1
            assert sim.control(cmd="login", status=None)["ok"]
            s.wait_log("event=carrier_link carrier=cm up=1", WAIT)
            subs = []
            end = time.monotonic() + WAIT
            while time.monotonic() < end:
                subs = [x["dests"][0] for x in sim.control(cmd="submits")["submits"]]
                if len(subs) >= 22:
                    break
                time.sleep(0.05)
            assert len(subs) == 22, subs
            # queued last, sent first: the verification code, the business
            # notice, then the bulk notices in their order
            assert subs == ["13600000001", "13700000001"] + bulk, subs
        finally:
            s.stop()
            sim.stop()
