"""
tests/integration/test_sms_dispatch.py - hrss-sms end to end through the
carrier simulator (tests/sim/smsc.py, CMPP 3.0 and SMPP 3.4): queued
messages are split, submitted, acknowledged and reported delivered, per
part and per message; reports that come before their acknowledgement was
recorded, or on another connection, are matched; refusals and UNDELIV
reports fail the message; final states are pushed to the account's
callback URL; uplink messages are stored and TD blacklists the sender;
after a SIGKILL while sending, every message is still delivered and the
parts submitted twice are at most those acknowledged but not yet
recorded. Every wait is bounded.
"""
import re
import time

import pytest

from conftest import WAIT, carrier_conf


def wait_states(s, ids, want, timeout=WAIT):
    end = time.monotonic() + timeout
    st = None
    while time.monotonic() < end:
        msgs = []
        for i in range(0, len(ids), 100):
            msgs += s.status(ids[i:i + 100])["messages"]
        st = {m["msgId"]: m for m in msgs}
        if all(st[i]["state"] == want for i in ids):
            return st
        time.sleep(0.1)
    raise AssertionError(f"not all {want}: " +
                         str({i: st[i]["state"] for i in ids if st[i]["state"] != want}))


@pytest.fixture
def env(harness):
    def make(protocol="cmpp", sim_args=(), extra="", callback=None):
        sim = harness.sim(protocol, *sim_args)
        s = harness.sms(extra="[queue]\nretry_backoff = 200ms\n[callback]\nbackoff = 200ms\n" +
                        carrier_conf(sim.port, protocol, extra=extra))
        s.add_account("app1", callback=callback)
        s.wait_log("event=carrier_link carrier=cm up=1", WAIT)
        return sim, s
    return make


@pytest.mark.parametrize("protocol", ["cmpp", "smpp"])
def test_end_to_end_delivered_and_pushed(env, harness, protocol):
    sink = harness.sink()
    sim, s = env(protocol, callback=sink.url)
    r1 = s.send(mobile="13800138000,18612345678", content="您的社保卡已挂失成功",
                clientMsgId="k1")
    r2 = s.send(mobile="18912345678", content="通知" * 40, islong=1)
    assert r1["code"] == 1 and r2["code"] == 1 and r2["parts"] == 2
    ids = [x["msgId"] for x in r1["results"] + r2["results"]]
    st = wait_states(s, ids, "delivered")
    assert st[ids[2]]["deliveredParts"] == 2 and st[ids[2]]["stat"] == "DELIVRD"
    subs = sim.control(cmd="submits")["submits"]
    assert len(subs) == 4
    if protocol == "cmpp":
        long_parts = [x for x in subs if x["pk_total"] == 2]
        assert sorted(x["pk_number"] for x in long_parts) == [1, 2]
        for x in long_parts:
            assert x["udhi"] == 1 and x["coding"] == 8
            assert x["content"].startswith("050003")
        short = [x for x in subs if x["pk_total"] == 1][0]
        # the signature is in front of the content, in UCS-2
        assert bytes.fromhex(short["content"]).decode("utf-16-be").startswith("【人社局】")
    pushes = sink.wait(3)
    assert sorted(p["msgId"] for p in pushes) == sorted(ids)
    assert all(p["state"] == "delivered" for p in pushes)
    assert [p.get("clientMsgId") for p in pushes if p["msgId"] == ids[0]] == ["k1"]
    db = s.db()
    end = time.monotonic() + WAIT  # the push's success is recorded after the answer
    while db.execute("SELECT count(*) FROM pushes").fetchone()[0] and time.monotonic() < end:
        time.sleep(0.05)
    assert db.execute("SELECT count(*) FROM pushes").fetchone()[0] == 0
    assert db.execute("SELECT count(*) FROM segs WHERE state = 3").fetchone()[0] == 4
    db.close()
    assert "13800138000" not in "\n".join(s.log())


def test_report_before_ack_is_parked_then_matched(env):
    sim, s = env("cmpp", sim_args=("--report-before-ack",))
    r = s.send(mobile="13800138000,13900139000,13700137000", content="x")
    ids = [x["msgId"] for x in r["results"]]
    wait_states(s, ids, "delivered")
    _, text = s.request("GET", "/metrics")
    parked = int(re.search(r"^hrss_sms_reports_parked_total (\d+)$", text, re.M).group(1))
    assert parked >= 1
    db = s.db()
    assert db.execute("SELECT count(*) FROM reports_pending").fetchone()[0] == 0
    db.close()


def test_report_on_another_connection(env):
    sim, s = env("cmpp", sim_args=("--report-other-link",), extra="connections = 2\n")
    s.wait_log("event=carrier_link carrier=cm up=2", WAIT)
    r = s.send(mobile=",".join("1380013%04d" % i for i in range(20)), content="x")
    wait_states(s, [x["msgId"] for x in r["results"]], "delivered")


def test_undelivered_and_refused_fail_the_message(env, harness):
    sink = harness.sink(fail_first=1)  # the first push is refused: retried
    sim, s = env("cmpp", sim_args=("--fail-prefix", "1391"), callback=sink.url)
    r = s.send(mobile="13912345678", content="x")
    mid = r["results"][0]["msgId"]
    st = wait_states(s, [mid], "failed")
    assert st[mid]["stat"] == "UNDELIV" and st[mid]["failedParts"] == 1
    assert sink.wait(1)[0]["state"] == "failed"
    sim.control(cmd="error", count=1, code=13)
    r = s.send(mobile="13800138000", content="y")
    mid = r["results"][0]["msgId"]
    st = wait_states(s, [mid], "failed")
    assert st[mid]["stat"] == "REFUSED:13"


def test_mo_is_stored_and_td_blacklists_the_sender(env):
    sim, s = env("cmpp")
    assert sim.control(cmd="mo", src="13800138000", dest="10658012333", text="CBXX#张三")["ok"]
    assert sim.control(cmd="mo", src="13900139000", dest="10658012333", text="td")["ok"]
    end = time.monotonic() + WAIT
    while time.monotonic() < end:
        if "13900139000\ttd" in s.cli("blacklist", "list").stdout:
            break
        time.sleep(0.1)
    assert "13900139000\ttd" in s.cli("blacklist", "list").stdout
    db = s.db()
    rows = db.execute("SELECT src, text FROM mo ORDER BY id").fetchall()
    db.close()
    assert rows == [("13800138000", "CBXX#张三"), ("13900139000", "td")]
    assert s.send(mobile="13900139000", content="x")["code"] == 10


def test_kill_9_while_sending_delivers_everything_once_or_in_the_window(env):
    sim, s = env("cmpp", sim_args=("--report-delay", "0.02"))
    n = 150
    ids = []
    for i in range(0, n, 50):
        r = s.send(mobile=",".join("1380014%04d" % k for k in range(i, i + 50)), content="x")
        ids += [x["msgId"] for x in r["results"]]
    sim.wait_stats(lambda st: st["submits"] >= 20, "some submits")
    s.kill()
    before = sim.stats()["submits"]
    db = s.db()
    recorded = db.execute("SELECT count(*) FROM segs").fetchone()[0]
    db.close()
    s.start()
    # a report the simulator sent to the killed process is lost (a carrier
    # would send it again): such a message stays submitted
    end = time.monotonic() + 60
    while time.monotonic() < end:
        st = {}
        for i in range(0, len(ids), 100):
            st.update({m["msgId"]: m["state"] for m in s.status(ids[i:i + 100])["messages"]})
        # parts sent again after the restart are "submitted" until their
        # report comes: wait for those reports too, not only for the sends
        if (all(v in ("delivered", "submitted") for v in st.values()) and
                list(st.values()).count("submitted") <= before):
            break
        time.sleep(0.1)
    assert all(v in ("delivered", "submitted") for v in st.values()), st
    assert list(st.values()).count("submitted") <= before
    subs = sim.control(cmd="submits")["submits"]
    dests = [x["dests"][0] for x in subs]
    twice = len(dests) - len(set(dests))
    # only parts the carrier took whose acknowledgement was not on disk at
    # the kill may go twice
    assert twice <= before - recorded, (twice, before, recorded)
    assert set(dests) == {"1380014%04d" % k for k in range(n)}
