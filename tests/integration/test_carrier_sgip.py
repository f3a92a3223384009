"""SGIP 1.2 (China Unicom) carrier link against the SGIP simulator
(tests/sim/smsc.py --protocol sgip) over real sockets. The client half:
Bind with a good and a bad login, submits within the window, a long
message in parts, flow control, the gateway closing and the link coming
back, and the idle Unbind that stands in for a keep-alive. The listener
half: the simulated gateway connects back to deliver reports (per part,
also before the submit answer) and uplink messages, and its login there is
checked."""
import pytest

NODE = 3002012345
FAST = ["--timeout-ms", "1000", "--retries", "1", "--reconnect-ms", "200",
        "--account", "hrsssp", "--secret", "sgippass", "--src-addr", "1065580012333",
        "--corp-id", "12345", "--node-id", str(NODE), "--listen", "127.0.0.1:0",
        "--gw-login", "smg", "--gw-password", "smgpass"]
SIM = ["--account", "hrsssp", "--secret", "sgippass", "--sp-login", "smg",
       "--sp-password", "smgpass"]


@pytest.fixture
def run(harness):
    probes = []

    def start(sim_args=(), probe_args=(), connect_back=True):
        sim = harness.sim("sgip", *(SIM + list(sim_args)))
        probe = harness.probe("sgip", sim.port, *(FAST + list(probe_args)))
        probes.append(probe)
        port = int(probe.next(lambda l: l.startswith("listen "), "listen PORT").split()[1])
        if connect_back:
            sim.control(cmd="sp", port=port)
        probe.listen_port = port
        return sim, probe

    yield start
    for probe in reversed(probes):
        assert probe.stop() == 0, "carrier-probe did not exit cleanly"


def test_login_window_and_reports_on_the_listener(run):
    sim, probe = run(probe_args=["--window", "2"])
    probe.wait_link(1)
    sim.control(cmd="stall", on=True)
    for i in range(5):
        assert probe.submit(i, "1301234567%d" % i, b"hello %d" % i).endswith(" ok")
    st = probe.wait_stats(lambda s: s["inflight"] == 2 and s["queued"] == 3, "window of 2 full")
    assert st["submitted"] == 2
    sim.wait_stats(lambda s: s["received"] == 2, "two submits received")
    sim.control(cmd="stall", on=False)
    res = probe.results(range(5))
    assert all(st == 0 for st, _ in res.values())
    msgids = [m for _, m in res.values()]
    assert len(set(msgids)) == 5
    # the message id is the Submit's sequence number: node, login time, counter
    assert all(m.startswith("%d-" % NODE) and len(m.split("-")[1]) == 10 for m in msgids)
    reps = probe.reports(msgids)
    for i in range(5):
        assert reps[res[i][1]] == (1, "DELIVRD", "1301234567%d" % i)
    subs = sim.control(cmd="submits")["submits"]
    s0 = [s for s in subs if s["dests"][0] == "8613012345670"][0]  # 86 in front
    assert s0["src"] == "1065580012333" and s0["corp_id"] == "12345"
    assert s0["service_id"] == "HRSS12333" and s0["report_flag"] == 1
    assert s0["charge"] == "0" * 21 and bytes.fromhex(s0["content"]) == b"hello 0"
    st = sim.wait_stats(lambda s: s["report_resps"] == 5, "every Report answered")
    assert st["seq_errors"] == 0 and st["logins"] == 1 and st["callback_logins"] == 1


def test_long_message_reports_per_part_before_ack(run):
    sim, probe = run(sim_args=["--report-before-ack"])
    probe.wait_link(1)
    text = "您的社保卡已挂失成功，请携带身份证到网点补办。" * 4
    ucs = text.encode("utf-16-be")
    parts = [ucs[i:i + 134] for i in range(0, len(ucs), 134)]
    refs = []
    for n, part in enumerate(parts, 1):
        udh = bytes([5, 0, 3, 0x21, len(parts), n])
        refs.append(100 + n)
        assert probe.submit(100 + n, "13012345678", udh + part, ext="01", coding=8,
                            udh=1).endswith(" ok")
    res = probe.results(refs)
    assert all(st == 0 for st, _ in res.values())
    reps = probe.reports([m for _, m in res.values()])
    assert len(reps) == len(parts) and all(r[0] == 1 for r in reps.values())
    # each report reached the client before its submit answer
    for m in reps:
        r_at = next(i for i, l in enumerate(probe.lines) if l.startswith("report %s " % m))
        a_at = next(i for i, l in enumerate(probe.lines) if l.startswith("result ") and l.endswith(" " + m))
        assert r_at < a_at
    subs = sim.control(cmd="submits")["submits"]
    assert all(s["udhi"] == 1 and s["coding"] == 8 and s["src"] == "106558001233301"
               for s in subs)
    assert len(subs) == len(parts)


def test_failed_report_and_refused_submit(run):
    sim, probe = run(sim_args=["--fail-prefix", "1300000"])
    probe.wait_link(1)
    probe.submit(1, "13000001111", b"x")
    mid = probe.results([1])[1][1]
    assert probe.reports([mid])[mid] == (0, "UNDELIV", "13000001111")
    sim.control(cmd="error", count=1, code=6)
    probe.submit(2, "13012345678", b"y")
    assert probe.results([2])[2] == (6, "-")


def test_uplink_messages_through_the_listener(run):
    sim, probe = run()
    probe.wait_link(1)
    cases = [("ucs2", "CBXX#查询", False), ("gbk", "YLZHYE#张三", False),
             ("ascii", "BD#110101199001011234#123456", False), ("ucs2", "LSGS#挂失", True)]
    for coding, text, udh in cases:
        assert sim.control(cmd="mo", src="13012345678", dest="106558001233301", text=text,
                           coding=coding, udh=udh) == {"ok": True}
        line = probe.next(lambda l: l.startswith("mo "), "mo " + text)
        _, src, dest, hx = line.split()
        assert (src, dest, bytes.fromhex(hx).decode()) == ("13012345678", "106558001233301", text)
    long_text = "我要查询养老保险个人账户余额和最近十二个月的缴费记录，谢谢" * 2
    assert sim.control(cmd="mo", src="13012345678", dest="1065580012333", text=long_text,
                       parts=3, order=[3, 1, 2])["ok"]
    line = probe.next(lambda l: l.startswith("mo "), "joined long mo")
    assert bytes.fromhex(line.split()[3]).decode() == long_text
    sim.wait_stats(lambda s: s["deliver_resps"] == 7, "every Deliver answered")
    assert sim.stats()["callback_logins"] == 1


def test_gateway_login_on_the_listener_is_checked(run):
    sim, probe = run(connect_back=False)
    probe.wait_link(1)
    sim.control(cmd="sp", port=probe.listen_port, password="wrongpass")
    assert sim.control(cmd="mo", src="13012345678", dest="1065580012333", text="CBXX",
                       coding="ascii") == {"ok": True}
    sim.wait_stats(lambda s: s["callback_refused"] == 1, "the gateway's login refused")
    line = probe.next(lambda l: "event=gateway_login_refused" in l, "refusal logged")
    assert "wrongpass" not in line
    assert not any(l.startswith("mo ") for l in probe.lines)
    # the right login is accepted on a new connection
    sim.control(cmd="sp", port=probe.listen_port)
    sim.control(cmd="mo", src="13012345678", dest="1065580012333", text="CBXX", coding="ascii")
    probe.next(lambda l: l.startswith("mo "), "mo after a good login")


def test_bad_login(run):
    sim, probe = run(probe_args=["--secret", "wrong"])
    st = probe.wait_stats(lambda s: s["logins_failed"] >= 1, "a refused Bind")
    assert st["last_login_status"] == 1 and st["links_up"] == 0
    assert any("event=login_failed status=1 (illegal login)" in l for l in probe.lines)
    assert probe.submit(9, "13012345678", b"x").endswith(" refused")


def test_gateway_closing_and_link_back(run):
    sim, probe = run(probe_args=["--timeout-ms", "30000"])
    probe.wait_link(1)
    sim.control(cmd="stall", on=True)
    probe.submit(1, "13012345671", b"a")
    probe.submit(2, "13012345672", b"b")
    sim.wait_stats(lambda s: s["received"] == 2, "two submits received")
    sim.control(cmd="stall", on=False)
    sim.control(cmd="drop")
    probe.wait_link(0)
    probe.wait_link(1)
    res = probe.results([1, 2])
    assert all(st == 0 for st, _ in res.values())
    sim.control(cmd="terminate")  # Unbind from the gateway: answered, link back
    probe.wait_link(0)
    probe.wait_link(1)
    assert sim.stats()["logins"] == 3


def test_idle_link_unbinds_and_binds_again(run):
    sim, probe = run(probe_args=["--heartbeat-s", "1"])
    probe.wait_link(1)
    probe.next(lambda l: "event=idle_logout" in l, "idle Unbind")
    probe.wait_link(0)
    probe.wait_link(1)
    st = sim.wait_stats(lambda s: s["logins"] >= 2, "a second Bind")
    assert st["unbinds"] >= 1
    probe.submit(1, "13012345678", b"after idle")
    assert probe.results([1])[1][0] == 0


def test_flow_control(run):
    sim, probe = run(probe_args=["--throttle-pause-ms", "100"])
    probe.wait_link(1)
    sim.control(cmd="flow", count=3)
    for i in range(6):
        probe.submit(i, "1301234567%d" % i, b"m%d" % i)
    res = probe.results(range(6))
    assert all(st == 0 for st, _ in res.values())
    st = probe.stats()
    assert st["throttled"] == 3 and st["acked"] == 6 and st["rate_now"] > 0
