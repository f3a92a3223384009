"""SMGP 3.0 (China Telecom) carrier link against the SMGP simulator
(tests/sim/smsc.py --protocol smgp) over real sockets: Login with a good and
a bad authenticator, submits within the window, a long message in parts
with TP_udhi and PkTotal/PkNumber, reports per part (also before the submit
answer and on another connection, with the MsgID as bytes or as hex), uplink
messages with their TLVs, keep-alive, the gateway closing and the link
coming back with what was in flight, and flow control."""
import pytest

FAST = ["--timeout-ms", "1000", "--retries", "1", "--reconnect-ms", "200",
        "--account", "hrss0001", "--secret", "smgpsecret", "--src-addr", "1065900012333"]
SIM = ["--account", "hrss0001", "--secret", "smgpsecret"]


@pytest.fixture
def run(harness):
    probes = []

    def start(sim_args=(), probe_args=()):
        sim = harness.sim("smgp", *(SIM + list(sim_args)))
        probe = harness.probe("smgp", sim.port, *(FAST + list(probe_args)))
        probes.append(probe)
        return sim, probe

    yield start
    for probe in reversed(probes):
        assert probe.stop() == 0, "carrier-probe did not exit cleanly"


def test_login_window_and_reports(run):
    sim, probe = run(probe_args=["--window", "2"])
    probe.wait_link(1)
    sim.control(cmd="stall", on=True)
    for i in range(5):
        assert probe.submit(i, "1331234567%d" % i, b"hello %d" % i).endswith(" ok")
    st = probe.wait_stats(lambda s: s["inflight"] == 2 and s["queued"] == 3, "window of 2 full")
    assert st["submitted"] == 2
    sim.wait_stats(lambda s: s["received"] == 2, "two submits received")
    sim.control(cmd="stall", on=False)
    res = probe.results(range(5))
    assert all(st == 0 for st, _ in res.values())
    msgids = [m for _, m in res.values()]
    assert len(set(msgids)) == 5
    assert all(len(m) == 20 and int(m, 16) >= 0 for m in msgids)  # 10 bytes in hex
    reps = probe.reports(msgids)
    for i in range(5):
        assert reps[res[i][1]] == (1, "DELIVRD", "1331234567%d" % i)
    subs = sim.control(cmd="submits")["submits"]
    s0 = [s for s in subs if s["dests"][0] == "13312345670"][0]
    assert s0["msg_type"] == 6 and s0["report"] == 1 and s0["src"] == "1065900012333"
    assert s0["service_id"] == "HRSS12333" and s0["fee_type"] == "00"
    assert bytes.fromhex(s0["content"]) == b"hello 0" and s0["udhi"] == 0
    st = sim.stats()
    assert st["seq_errors"] == 0 and st["logins"] == 1


@pytest.mark.parametrize("hexid", [False, True])
def test_long_message_reports_before_ack_on_other_link(run, hexid):
    sim, probe = run(sim_args=["--report-before-ack", "--report-other-link"] +
                     (["--report-hex-id"] if hexid else []),
                     probe_args=["--connections", "2"])
    probe.wait_link(1)
    probe.wait_link(2)
    text = "您的社保卡已挂失成功，请携带身份证到网点补办。" * 4
    ucs = text.encode("utf-16-be")
    parts = [ucs[i:i + 134] for i in range(0, len(ucs), 134)]
    refs = []
    for n, part in enumerate(parts, 1):
        udh = bytes([5, 0, 3, 0x21, len(parts), n])
        refs.append(100 + n)
        assert probe.submit(100 + n, "13312345678", udh + part, ext="01", coding=8,
                            udh=1).endswith(" ok")
    res = probe.results(refs)
    assert all(st == 0 for st, _ in res.values())
    reps = probe.reports([m for _, m in res.values()])
    assert len(reps) == len(parts) and all(r[0] == 1 for r in reps.values())
    subs = sim.control(cmd="submits")["submits"]
    assert sorted((s["pk_total"], s["pk_number"]) for s in subs) == \
        [(len(parts), n) for n in range(1, len(parts) + 1)]
    assert all(s["udhi"] == 1 and s["coding"] == 8 and s["src"] == "106590001233301"
               for s in subs)


def test_failed_report_and_refused_submit(run):
    sim, probe = run(sim_args=["--fail-prefix", "1330000"])
    probe.wait_link(1)
    probe.submit(1, "13300001111", b"x")
    mid = probe.results([1])[1][1]
    assert probe.reports([mid])[mid][:2] == (0, "UNDELIV")
    sim.control(cmd="error", count=1, code=47)
    probe.submit(2, "13312345678", b"y")
    assert probe.results([2])[2] == (47, "-")


def test_uplink_messages(run):
    sim, probe = run()
    probe.wait_link(1)
    cases = [("ucs2", "CBXX#查询", False), ("gbk", "YLZHYE#张三", False),
             ("ascii", "BD#110101199001011234#123456", False), ("ucs2", "LSGS#挂失", True)]
    for coding, text, udh in cases:
        assert sim.control(cmd="mo", src="13312345678", dest="106590001233301", text=text,
                           coding=coding, udh=udh, link_id="LINK0001") == {"ok": True}
        line = probe.next(lambda l: l.startswith("mo "), "mo " + text)
        _, src, dest, hx = line.split()
        assert (src, dest, bytes.fromhex(hx).decode()) == ("13312345678", "106590001233301", text)
    # a long uplink message in three parts, out of order
    long_text = "我要查询养老保险个人账户余额和最近十二个月的缴费记录，谢谢" * 2
    assert sim.control(cmd="mo", src="13312345678", dest="1065900012333", text=long_text,
                       parts=3, order=[2, 3, 1])["ok"]
    line = probe.next(lambda l: l.startswith("mo "), "joined long mo")
    assert bytes.fromhex(line.split()[3]).decode() == long_text
    sim.wait_stats(lambda s: s["deliver_resps"] == 7, "every Deliver answered")


@pytest.mark.parametrize("how,status", [("secret", 21), ("forced", 22)])
def test_failed_login(run, how, status):
    sim, probe = run(probe_args=["--secret", "wrong"] if how == "secret" else [])
    if how == "forced":
        probe.wait_link(1)
        sim.control(cmd="login", status=22)
        sim.control(cmd="drop")
        probe.wait_link(0)
    st = probe.wait_stats(lambda s: s["logins_failed"] >= 1, "a refused login")
    assert st["last_login_status"] == status and st["links_up"] == 0
    assert any("event=login_failed status=%d" % status in l for l in probe.lines)
    assert not any("wrong" in l for l in probe.lines)  # the secret is never logged
    assert probe.submit(9, "13312345678", b"x").endswith(" refused")


def test_gateway_closing_and_link_back(run):
    sim, probe = run(probe_args=["--timeout-ms", "30000"])
    probe.wait_link(1)
    sim.control(cmd="stall", on=True)
    probe.submit(1, "13312345671", b"a")
    probe.submit(2, "13312345672", b"b")
    sim.wait_stats(lambda s: s["received"] == 2, "two submits received")
    sim.control(cmd="stall", on=False)
    sim.control(cmd="drop")
    probe.wait_link(0)
    probe.wait_link(1)
    res = probe.results([1, 2])
    assert all(st == 0 for st, _ in res.values())
    sim.control(cmd="terminate")  # Exit from the gateway: answered, link back
    probe.wait_link(0)
    probe.wait_link(1)
    assert sim.stats()["logins"] == 3


def test_keepalive(run):
    sim, probe = run(probe_args=["--heartbeat-s", "1"])
    probe.wait_link(1)
    sim.wait_stats(lambda s: s["keepalives"] >= 1, "an Active_Test from the client")
    sim.control(cmd="keepalive")  # the gateway tests the link: answered, link stays
    probe.submit(1, "13312345678", b"still up")
    assert probe.results([1])[1][0] == 0
    assert sim.stats()["logins"] == 1


def test_flow_control(run):
    sim, probe = run(probe_args=["--throttle-pause-ms", "100"])
    probe.wait_link(1)
    sim.control(cmd="flow", count=3)
    for i in range(6):
        probe.submit(i, "1331234567%d" % i, b"m%d" % i)
    res = probe.results(range(6))
    assert all(st == 0 for st, _ in res.values())
    st = probe.stats()
    assert st["throttled"] == 3 and st["acked"] == 6 and st["rate_now"] > 0
