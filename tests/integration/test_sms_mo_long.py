"""
tests/integration/test_sms_mo_long.py - long uplink messages sent in parts
(UDH concatenation) are stored once, joined in order, whatever the order
and the connection their parts arrive on, over CMPP and SMPP; a part sent
twice counts once; short messages around them are not held up.
"""
import signal
import time

import pytest

from conftest import WAIT, carrier_conf

LONG = "我对窗口服务的意见如下：" + "办事排队时间太长，希望增加窗口。" * 8


@pytest.mark.parametrize("protocol", ["cmpp", "smpp"])
def test_long_mo_joined(harness, protocol):
    sim = harness.sim(protocol)
    s = harness.sms(extra=carrier_conf(sim.port, protocol, extra="connections = 2\n"))
    s.wait_log("event=carrier_link carrier=cm up=2", WAIT)
    ctl = dict(cmd="mo", src="13800138000", dest="10658012333", text=LONG)
    r = sim.control(**ctl, parts=3, order=[3, 1, 2], ref=7)
    assert r["ok"] and r["parts"] == 3
    assert sim.control(cmd="mo", src="13900139000", dest="10658012333", text="CBXX")["ok"]
    # the same message again, parts on the other link, one twice
    sim.control(**ctl, parts=2, order=[2, 2, 1], ref=9, link=1)
    db = s.db()
    rows = []
    end = time.monotonic() + WAIT
    while time.monotonic() < end:
        rows = db.execute("SELECT src, text FROM mo ORDER BY id").fetchall()
        if len(rows) >= 3:
            break
        time.sleep(0.05)
    time.sleep(0.3)  # nothing more comes
    rows = db.execute("SELECT src, text FROM mo ORDER BY id").fetchall()
    db.close()
    assert sorted(rows) == sorted([("13800138000", LONG), ("13900139000", "CBXX"),
                                   ("13800138000", LONG)]), rows
    s.stop(signal.SIGTERM)
