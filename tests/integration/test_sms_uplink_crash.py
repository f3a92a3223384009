"""
tests/integration/test_sms_uplink_crash.py - no uplink message is lost to a
crash (uplink.h): messages stored while the engine is off are handled once
it starts; messages arriving while hrss-sms is killed with SIGKILL twice
are all handled after the restarts; every stored message gets exactly one
reply queued (the replies and the handled mark are one commit) and sent at
least once (a part acknowledged by the carrier but not yet recorded at the
kill is sent again: the downlink's documented window). The commands need no
back end (unknown commands and TD), so no node runs.
"""
import signal
import time

from conftest import carrier_conf, uplink_conf

WAIT = 60
PHONES = [f"1350000{i:04d}" for i in range(40)]


def mo(sim, i, p):
    assert sim.control(cmd="mo", src=p, dest="10658012333",
                       text="TD" if i % 5 == 0 else f"HELLO{i}")["ok"]


def test_kill_9_while_answering_loses_nothing(harness):
    sim = harness.sim("cmpp", "--report-delay", "0.02")
    carrier = carrier_conf(sim.port)
    uplink = uplink_conf(threads=2)
    # 1. the engine off: ten messages are stored, not handled; kill -9
    s = harness.sms(extra=carrier, start=False)
    s.add_account("12333", signature="【12333】", balance=100000)
    s.start()
    s.wait_log("event=carrier_link carrier=cm up=1", WAIT)
    for i, p in enumerate(PHONES[:10]):
        mo(sim, i, p)
    db = s.db()
    end = time.monotonic() + WAIT
    while time.monotonic() < end and db.execute("SELECT COUNT(*) FROM mo").fetchone()[0] < 10:
        time.sleep(0.05)
    assert db.execute("SELECT COUNT(*) FROM mo WHERE handled = 0").fetchone()[0] == 10
    db.close()
    s.stop(signal.SIGKILL)
    # 2. the engine on: the ten are handled after the start; more come and
    # the daemon is killed again while it answers them
    with open(s.conf, "a") as f:
        f.write(uplink)
    s.start()
    s.wait_log("event=carrier_link carrier=cm up=1", WAIT)
    for i, p in enumerate(PHONES[10:25], 10):
        mo(sim, i, p)
    s.stop(signal.SIGKILL)
    # 3. again, and the rest
    s.start()
    s.wait_log("event=carrier_link carrier=cm up=1", WAIT)
    for i, p in enumerate(PHONES[25:], 25):
        mo(sim, i, p)
    db = s.db()
    stored = set()
    end = time.monotonic() + WAIT
    while time.monotonic() < end:
        rows = db.execute("SELECT src, handled FROM mo").fetchall()
        stored = {r[0] for r in rows}
        if set(PHONES[25:]) <= stored and all(h == 1 for _, h in rows):
            break
        time.sleep(0.1)
    rows = db.execute("SELECT src, handled FROM mo").fetchall()
    db.close()
    assert all(h == 1 for _, h in rows), rows
    # those stored before each kill are all there (the carrier delivers
    # again those the daemon had not acknowledged)
    assert set(PHONES[:10]) | set(PHONES[25:]) <= stored
    # every stored message got exactly one reply, and it went out
    db = s.db()
    queued = dict(db.execute("SELECT mobile, COUNT(*) FROM msgs WHERE app = '12333' "
                             "GROUP BY mobile").fetchall())
    db.close()
    assert queued == {p: 1 for p in stored}, (stored, queued)
    got = {}
    end = time.monotonic() + WAIT
    while time.monotonic() < end:
        got = {x["dests"][0] for x in sim.control(cmd="submits")["submits"]}
        if stored <= got:
            break
        time.sleep(0.1)
    assert stored <= got, stored - got
    s.stop()
