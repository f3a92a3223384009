"""SMPP 3.4 carrier link over real sockets, against the SMPP simulator
(tests/sim/smsc.py) and against an SMSC built on Net::SMPP (Debian's
libnet-smpp-perl, tests/sim/smsc_netsmpp.pl), which hrss did not write:
bind and its error codes, submit_sm with UDH, receipts matched to message
ids (hex in submit_sm_resp and decimal in the receipt; before the ack; on
another connection), MO, enquire_link, unbind, reconnect, throttling."""
import os

import pytest

from conftest import SRC

FAST = ["--timeout-ms", "1000", "--retries", "1", "--reconnect-ms", "200",
        "--account", "hrss", "--secret", "secret"]
SIM = ["--account", "hrss", "--secret", "secret"]


@pytest.fixture
def run(harness):
    probes = []

    def start(sim_args=(), probe_args=(), sim_cmd=None):
        sim = harness.sim("smpp", *(list(SIM) + list(sim_args))) if sim_cmd is None else \
            harness.sim("smpp", *sim_args, cmd=sim_cmd)
        probe = harness.probe("smpp", sim.port, *(list(FAST) + list(probe_args)))
        probes.append(probe)
        return sim, probe

    yield start
    for probe in reversed(probes):
        rc = probe.stop()
        assert rc == 0, "carrier-probe exited with %s" % rc


def test_bind_submit_udh_and_receipts(run):
    sim, probe = run(probe_args=["--window", "4"])
    probe.wait_link(1)
    refs = []
    for n in (1, 2):
        udh = bytes([5, 0, 3, 0x11, 2, n])
        assert probe.submit(n, "8613800138000", udh + "社保".encode("utf-16-be"), ext="7",
                            coding=8, udh=1).endswith(" ok")
        refs.append(n)
    probe.submit(3, "8613800138001", b"plain text", report=0)
    res = probe.results([1, 2, 3])
    assert all(st == 0 for st, _ in res.values())
    reps = probe.reports([res[1][1], res[2][1]])
    assert all(r[:2] == (1, "DELIVRD") for r in reps.values())
    assert reps[res[1][1]][2] == "8613800138000"
    subs = sim.control(cmd="submits")["submits"]
    by_dest = sorted(subs, key=lambda s: (s["dests"][0], s["content"]))
    udh_subs = [s for s in subs if s["udhi"]]
    assert len(udh_subs) == 2 and all(s["esm_class"] == 0x40 and s["coding"] == 8 and
                                      s["report"] == 1 and s["src"] == "106580123337"
                                      for s in udh_subs)
    plain = [s for s in by_dest if not s["udhi"]][0]
    assert plain["report"] == 0 and bytes.fromhex(plain["content"]) == b"plain text"
    assert plain["dst_ton"] == 1 and plain["dst_npi"] == 1
    st = sim.stats()
    assert st["seq_errors"] == 0 and st["reports_sent"] == 2


@pytest.mark.parametrize("tlvs", [False, True])
def test_hex_ack_decimal_receipt_matched(run, tlvs):
    # submit_sm_resp gives "1000001" in hex, the receipt text the same id in
    # decimal (and, with tlvs, receipted_message_id in hex as in the ack)
    sim, probe = run(sim_args=["--msgid-hex-receipt-dec", "--report-before-ack",
                               "--report-other-link"] + (["--receipt-tlvs"] if tlvs else []),
                     probe_args=["--msgid-type", "1", "--connections", "2"])
    probe.wait_link(1)
    probe.wait_link(2)
    for i in range(4):
        probe.submit(i, "861380013800%d" % i, b"m%d" % i)
    res = probe.results(range(4))
    wire = {s["dests"][0]: s["msgid"] for s in sim.control(cmd="submits")["submits"]}
    for i in range(4):
        st, mid = res[i]
        assert st == 0
        assert mid == str(int(wire["861380013800%d" % i], 16))  # canonical: decimal
    reps = probe.reports([m for _, m in res.values()])
    assert len(reps) == 4 and all(r[:2] == (1, "DELIVRD") for r in reps.values())


def test_mo_throttle_and_errors(run):
    sim, probe = run(probe_args=["--throttle-pause-ms", "100"])
    probe.wait_link(1)
    sim.control(cmd="mo", src="8613800138000", dest="12333", text="YLZHYE#张三", coding="ucs2")
    line = probe.next(lambda l: l.startswith("mo "), "mo")
    assert bytes.fromhex(line.split()[3]).decode() == "YLZHYE#张三"
    sim.control(cmd="mo", src="8613800138000", dest="12333", text="CBXX", coding="ascii",
                udh=True)
    line = probe.next(lambda l: l.startswith("mo "), "mo")
    assert bytes.fromhex(line.split()[3]).decode() == "CBXX"
    sim.control(cmd="flow", count=2)
    for i in range(3):
        probe.submit(i, "8613800138000", b"x")
    assert all(st == 0 for st, _ in probe.results(range(3)).values())
    st = probe.stats()
    assert st["throttled"] == 2 and st["rate_now"] > 0
    sim.control(cmd="error", count=1, code=0x0B)
    probe.submit(9, "8613800138000", b"x")
    assert probe.results([9])[9] == (0x0B, "-")


@pytest.mark.parametrize("args,status", [(["--secret", "wrong"], 0x0E),
                                         (["--account", "other"], 0x0F)])
def test_bind_refused(run, args, status):
    sim, probe = run(probe_args=args)
    st = probe.wait_stats(lambda s: s["logins_failed"] >= 1, "a refused bind")
    assert st["last_login_status"] == status and st["links_up"] == 0
    assert sim.stats()["login_failures"] >= 1


def test_drop_unbind_enquire_link(run):
    sim, probe = run(probe_args=["--heartbeat-s", "1"])
    probe.wait_link(1)
    sim.wait_stats(lambda s: s["keepalives"] >= 1, "an enquire_link from the client")
    sim.control(cmd="keepalive")
    sim.control(cmd="drop")
    probe.wait_link(0)
    probe.wait_link(1)
    sim.control(cmd="terminate")  # unbind from the SMSC: answered, then reconnect
    probe.wait_link(0)
    probe.wait_link(1)
    probe.submit(1, "8613800138000", b"after")
    assert probe.results([1])[1][0] == 0
    st = sim.stats()
    assert st["logins"] == 3


def test_malformed_frame_drops_link(run):
    sim, probe = run()
    probe.wait_link(1)
    sim.control(cmd="garbage")
    probe.wait_link(0)
    assert any("why=malformed frame" in l for l in probe.lines)
    probe.wait_link(1)


def test_interop_net_smpp(run):
    """Against Net::SMPP's SMSC: bind, MO (UCS2), submit with UDH, receipt."""
    perl = ["perl", os.path.join(SRC, "tests", "sim", "smsc_netsmpp.pl")]
    sim, probe = run(sim_args=["--system-id", "hrss", "--password", "secret"], sim_cmd=perl)
    probe.wait_link(1)
    sim.next_line(lambda l: l == "bind system_id=hrss status=0", "bind")
    line = probe.next(lambda l: l.startswith("mo "), "mo from Net::SMPP")
    _, src, dest, hx = line.split()
    assert (src, dest, bytes.fromhex(hx).decode()) == ("8613800138000", "1065801233301",
                                                       "CBXX#查询")
    sim.next_line(lambda l: l.startswith("deliver_sm_resp status=0"), "MO answered")
    ud = bytes([5, 0, 3, 0x2a, 2, 1]) + "您好".encode("utf-16-be")
    probe.submit(1, "8613800138000", ud, ext="01", coding=8, udh=1)
    res = probe.results([1])
    assert res[1][0] == 0
    line = sim.next_line(lambda l: l.startswith("submit "), "submit at Net::SMPP")
    kv = dict(x.split("=") for x in line.split()[1:])
    assert kv["to"] == "8613800138000" and kv["from"] == "1065801233301"
    assert kv["dcs"] == "8" and kv["esm"] == "0x40" and kv["rd"] == "1"
    assert kv["hex"] == ud.hex() and kv["id"] == res[1][1]
    rep = probe.reports([res[1][1]])
    assert rep[res[1][1]] == (1, "DELIVRD", "8613800138000")
    sim.next_line(lambda l: l.startswith("deliver_sm_resp status=0"), "receipt answered")
    probe.send("quit")
    sim.next_line(lambda l: l == "unbind", "unbind at Net::SMPP")


@pytest.mark.parametrize("ton,given,sent", [
    (1, "13800138000", "8613800138000"),    # international: 86 in front
    (1, "8613800138000", "8613800138000"),
    (2, "8613800138000", "13800138000"),    # national: without it
    (0, "13800138000", "13800138000"),
])
def test_dest_number_in_the_form_its_ton_says(run, ton, given, sent):
    # a national number sent with TON 1 was read by SMSCs as +1 3800138000
    sim, probe = run(probe_args=["--dst-ton", str(ton)])
    probe.wait_link(1)
    probe.submit(1, given, b"x", report=0)
    assert probe.results([1])[1][0] == 0
    sub = sim.control(cmd="submits")["submits"][0]
    assert (sub["dests"][0], sub["dst_ton"]) == (sent, ton)
