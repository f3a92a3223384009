"""
tests/integration/test_sms_lanes.py - priority lanes (LD/T 6007 8.2,
docs/design.md decision 17): a verification code or a reply (priority 0) queued behind a backlog of
bulk notices (priority 2) is submitted before them, and business notices
(priority 1) come between. The carrier simulator refuses the login while
the backlog is queued, then lets the link up with a window of one; no
timing is asserted, only the order in which the carrier received the
submits.
"""
import time

from conftest import WAIT, carrier_conf


def test_lanes_order_the_backlog(harness):
    sim = harness.sim("cmpp", "--report-delay", "0.02")
    # the carrier refuses the login until the backlog is queued
    assert sim.control(cmd="login", status=3)["ok"]
    s = harness.sms(start=False, extra=carrier_conf(sim.port, extra="window = 1\n"))
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
    s.stop()
