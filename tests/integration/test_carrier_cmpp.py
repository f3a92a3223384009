"""CMPP 3.0 carrier link against the CMPP simulator (tests/sim/smsc.py) over
real sockets: login and its error codes, submits within the window, reports
matched to every segment (also before the ack and on another connection),
MO decoding, reconnect after a dropped link with in-flight segments resent,
flow-control slow-down, keep-alives and TERMINATE from the gateway."""
import pytest

FAST = ["--timeout-ms", "1000", "--retries", "1", "--reconnect-ms", "200"]


@pytest.fixture
def run(harness):
    probes = []

    def start(sim_args=(), probe_args=()):
        sim = harness.sim("cmpp", *sim_args)
        probe = harness.probe("cmpp", sim.port, *(list(FAST) + list(probe_args)))
        probes.append(probe)
        return sim, probe

    yield start
    for probe in reversed(probes):
        rc = probe.stop()
        assert rc == 0, "carrier-probe exited with %s" % rc


def test_login_submit_window_and_reports(run):
    sim, probe = run(probe_args=["--window", "2"])
    probe.wait_link(1)
    sim.control(cmd="stall", on=True)
    for i in range(5):
        assert probe.submit(i, "1380013800%d" % i, b"hello %d" % i).endswith(" ok")
    # the window holds two: the gateway sees two submits, three wait
    st = probe.wait_stats(lambda s: s["inflight"] == 2 and s["queued"] == 3, "window of 2 full")
    assert st["submitted"] == 2
    sim.wait_stats(lambda s: s["received"] == 2, "two submits received")
    sim.control(cmd="stall", on=False)
    res = probe.results(range(5))
    assert all(st == 0 for st, _ in res.values())
    msgids = [m for _, m in res.values()]
    assert len(set(msgids)) == 5 and all(m.isdigit() for m in msgids)
    reps = probe.reports(msgids)
    for i in range(5):
        ok, stat, dest = reps[res[i][1]]
        assert (ok, stat, dest) == (1, "DELIVRD", "1380013800%d" % i)
    subs = sim.control(cmd="submits")["submits"]
    assert sorted(s["dests"][0] for s in subs) == ["1380013800%d" % i for i in range(5)]
    s0 = [s for s in subs if s["dests"][0] == "13800138000"][0]
    assert s0["src"] == "10658012333" and s0["msg_src"] == "900001"
    assert s0["service_id"] == "HRSS12333" and s0["report"] == 1
    assert bytes.fromhex(s0["content"]) == b"hello 0"
    st = sim.stats()
    assert st["seq_errors"] == 0 and st["logins"] == 1


def test_segments_reports_before_ack_on_other_link(run):
    sim, probe = run(sim_args=["--report-before-ack", "--report-other-link"],
                     probe_args=["--connections", "2"])
    probe.wait_link(1)
    probe.wait_link(2)
    text = "您的社保卡已挂失成功，请携带身份证到网点补办。" * 4
    ucs = text.encode("utf-16-be")
    parts = [ucs[i:i + 134] for i in range(0, len(ucs), 134)]
    refs = []
    for n, part in enumerate(parts, 1):
        udh = bytes([5, 0, 3, 0x21, len(parts), n])
        ref = 100 + n
        refs.append(ref)
        assert probe.submit(ref, "13800138000", udh + part, ext="01", coding=8, udh=1).endswith(" ok")
    res = probe.results(refs)
    assert all(st == 0 for st, _ in res.values())
    reps = probe.reports([m for _, m in res.values()])
    assert all(r[0] == 1 for r in reps.values())
    subs = sim.control(cmd="submits")["submits"]
    assert sorted((s["pk_total"], s["pk_number"]) for s in subs) == \
        [(len(parts), n) for n in range(1, len(parts) + 1)]
    assert all(s["udhi"] == 1 and s["coding"] == 8 and s["src"] == "1065801233301" for s in subs)


def test_failed_reports_and_refused_submit(run):
    sim, probe = run(sim_args=["--fail-prefix", "1390000"])
    probe.wait_link(1)
    probe.submit(1, "13900001111", b"x")
    res = probe.results([1])
    assert probe.reports([res[1][1]])[res[1][1]][:2] == (0, "UNDELIV")
    sim.control(cmd="error", count=1, code=13)
    probe.submit(2, "13800138000", b"y")
    assert probe.results([2])[2] == (13, "-")


def test_mo_decoding(run):
    sim, probe = run()
    probe.wait_link(1)
    cases = [("ucs2", "CBXX#查询", False), ("gbk", "YLZHYE#张三", False),
             ("ascii", "BD#110101199001011234#123456", False), ("ucs2", "LSGS#挂失", True)]
    for coding, text, udh in cases:
        assert sim.control(cmd="mo", src="13800138000", dest="1065801233301", text=text,
                           coding=coding, udh=udh) == {"ok": True}
        line = probe.next(lambda l: l.startswith("mo "), "mo " + text)
        _, src, dest, hx = line.split()
        assert (src, dest, bytes.fromhex(hx).decode()) == ("13800138000", "1065801233301", text)
    sim.wait_stats(lambda s: s["deliver_resps"] == 4, "every DELIVER answered")


def test_reconnect_resends_in_flight(run):
    sim, probe = run(probe_args=["--timeout-ms", "30000"])
    probe.wait_link(1)
    sim.control(cmd="stall", on=True)
    probe.submit(1, "13800138001", b"a")
    probe.submit(2, "13800138002", b"b")
    sim.wait_stats(lambda s: s["received"] == 2, "two submits received")
    sim.control(cmd="stall", on=False)
    sim.control(cmd="drop")
    probe.wait_link(0)
    probe.wait_link(1)
    res = probe.results([1, 2])
    assert all(st == 0 for st, _ in res.values())
    probe.submit(3, "13800138003", b"c")
    assert probe.results([3])[3][0] == 0
    st = sim.stats()
    assert st["logins"] == 2 and st["submits"] == 3


def test_no_answer_drops_link_after_retransmission(run):
    sim, probe = run()  # T = 1 s, N = 1
    probe.wait_link(1)
    sim.control(cmd="stall", on=True)
    probe.submit(1, "13800138001", b"a")
    probe.wait_link(0)
    st = probe.stats()
    assert st["retransmits"] >= 1
    sim.control(cmd="stall", on=False)
    probe.wait_link(1)
    assert probe.results([1])[1][0] == 0


def test_segment_fails_after_max_attempts(run):
    # the gateway never answers: each link is dropped after T, the segment is
    # sent again on the next one, and given up after --max-attempts links
    sim, probe = run(probe_args=["--retries", "0", "--max-attempts", "2"])
    probe.wait_link(1)
    sim.control(cmd="stall", on=True)
    probe.submit(1, "13800138001", b"a")
    assert probe.results([1])[1] == (-1, "-")  # CARRIER_ETIMEOUT
    assert sim.stats()["received"] == 2  # one send per link, no retransmission


def test_flow_control_slows_down(run):
    sim, probe = run(probe_args=["--throttle-pause-ms", "100"])
    probe.wait_link(1)
    sim.control(cmd="flow", count=3)
    for i in range(6):
        probe.submit(i, "1380013800%d" % i, b"m%d" % i)
    res = probe.results(range(6))
    assert all(st == 0 for st, _ in res.values())
    st = probe.stats()
    assert st["throttled"] == 3 and st["acked"] == 6
    assert st["rate_now"] > 0  # unlimited before, capped after flow control
    assert sim.stats()["throttled"] == 3


def test_flow_control_persisting_is_reported(run):
    sim, probe = run(probe_args=["--throttle-pause-ms", "10"])
    probe.wait_link(1)
    sim.control(cmd="flow", count=1000)
    probe.submit(1, "13800138001", b"a")
    assert probe.results([1])[1] == (-2, "-")  # CARRIER_ETHROTTLED after 10 answers


def test_rate_limit_and_connections(run):
    rate = 4
    sim, probe = run(probe_args=["--connections", "2", "--window", "1", "--rate", str(rate)])
    probe.wait_link(1)
    probe.wait_link(2)
    for i in range(10):
        probe.submit(i, "138001380%02d" % i, b"r%d" % i)
    res = probe.results(range(10))
    assert all(st == 0 for st, _ in res.values())
    subs = [s for s in sim.control(cmd="submits")["submits"] if s["first"]]
    assert len(subs) == 10
    assert len({s["conn"] for s in subs}) == 2  # both connections carry traffic
    # never more than `rate` submits within a second (measured at the
    # gateway over 0.8 s so that delivery jitter cannot hide a breach)
    times = sorted(s["t"] for s in subs)
    for i, t in enumerate(times):
        assert len([u for u in times[i:] if u - t < 0.8]) <= rate


@pytest.mark.parametrize("how,status", [("secret", 3), ("account", 2), ("forced", 4)])
def test_failed_login_codes(run, how, status):
    sim_args = []
    probe_args = []
    if how == "secret":
        probe_args = ["--secret", "wrong"]
    elif how == "account":
        probe_args = ["--account", "900002"]
    sim, probe = run(sim_args=sim_args, probe_args=probe_args)
    if how == "forced":
        probe.wait_link(1)
        sim.control(cmd="login", status=4)
        sim.control(cmd="drop")
        probe.wait_link(0)
    st = probe.wait_stats(lambda s: s["logins_failed"] >= 1, "a refused login")
    assert st["last_login_status"] == status and st["links_up"] == 0
    assert probe.submit(9, "13800138000", b"x").endswith(" refused")
    if how == "forced":
        sim.control(cmd="login", status=None)
        probe.wait_link(1)


def test_keepalive_and_terminate(run):
    sim, probe = run(probe_args=["--heartbeat-s", "1"])
    probe.wait_link(1)
    sim.wait_stats(lambda s: s["keepalives"] >= 1, "an ACTIVE_TEST from the client")
    sim.control(cmd="keepalive")  # the gateway tests the link: answered, link stays
    sim.control(cmd="terminate")
    probe.wait_link(0)
    probe.wait_link(1)
    assert sim.stats()["logins"] == 2


def test_malformed_frame_drops_link(run):
    sim, probe = run()
    probe.wait_link(1)
    sim.control(cmd="garbage")
    probe.wait_link(0)
    assert any("why=malformed frame" in l for l in probe.lines)
    probe.wait_link(1)
    probe.submit(1, "13800138000", b"again")
    assert probe.results([1])[1][0] == 0
