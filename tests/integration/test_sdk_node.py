"""
tests/integration/test_sdk_node.py - the SDK end to end through the real
hrss-node on 127.0.0.1: examples/caller.c and examples/provider.c compiled
against the built libhrss.so (as docs/api.md shows) and run as a caller and
a provider; `hrss call` against hrss-demo-provider for the services the demo
does not show (card loss recording a work order in SQLite, a business
failure, an unknown person, the provider's own grant check); the answers'
body shapes (6.2.2) and masking; no full number in any log.
"""
import json
import os
import re
import sqlite3
import subprocess

import pytest

from conftest import BUILD, HRSS, SRC

SECRET = "sdk-test-secret-0123"
CALLER = "B100000KJGK"
PROV = "S110000Y70P"


def sanitizer_flags():
    r = subprocess.run(["nm", "-D", os.path.join(BUILD, "libhrss.so")], capture_output=True,
                       text=True)
    return ["-fsanitize=address,undefined"] if "__asan_" in r.stdout else []


def compile_example(name, out):
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "jansson"], capture_output=True,
                           text=True, check=True).stdout.split()
    subprocess.run(["cc", "-std=c11", "-Wall", "-Wextra", "-Werror",
                    "-I" + os.path.join(SRC, "include"), os.path.join(SRC, "examples", name),
                    "-L" + BUILD, "-lhrss", *flags, "-o", out, *sanitizer_flags()],
                   check=True, timeout=120)


@pytest.fixture(scope="module")
def env(module_harness):
    h = module_harness
    tmp = h.tmp
    run_env = dict(os.environ, LD_LIBRARY_PATH=BUILD, HRSS_STATE_DIR=os.path.join(tmp, "state"))
    compile_example("caller.c", os.path.join(tmp, "caller"))
    compile_example("provider.c", os.path.join(tmp, "provider"))
    example = h.daemon([os.path.join(tmp, "provider"), "127.0.0.1:0"], run_env)
    ex_port = int(example.wait_match(r"listening on port (\d+)").group(1))
    demo = h.demo_provider(state_dir=os.path.join(tmp, "state"))

    def svc(code, port):
        return {"code": code, "name": code, "provider": PROV, "timeoutMs": 5000, "retries": 0,
                "upstreams": [f"http://127.0.0.1:{port}/"]}
    registry = {
        "systems": [
            {"code": CALLER, "name": "caller", "level": "B", "area": "100000",
             "status": "active", "signature": "hmac-sm3", "secret": SECRET,
             "allowedIps": ["127.0.0.1"]},
            {"code": PROV, "name": "provider", "level": "S", "area": "110000",
             "status": "active", "signature": "sm3", "allowedIps": ["127.0.0.1"]}],
        "services": [svc(PROV + "YTjb", ex_port)] +
                    [svc(PROV + s, demo.port) for s in ("SBKZ", "JYJL", "YLYE", "LSGS")],
        "grants": [{"caller": CALLER, "service": PROV + s}
                   for s in ("YTjb", "SBKZ", "JYJL", "YLYE", "LSGS")],
    }
    node = h.node(workers=1, start=False)
    node.import_registry(registry)
    node.start()
    state = {"tmp": tmp, "env": run_env, "url": node.url, "node": node, "demo": demo,
             "example": example, "db": demo.db, "prov_pub": demo.pub}
    yield state
    assert node.stop() == 0
    assert demo.stop() == 0
    assert example.stop() == 0


def persons(env):
    return env["demo"].persons()


def call(env, service, body, *extra):
    r = subprocess.run([HRSS, "call", "--node", env["url"], "--system", CALLER,
                        "--service", service, "--area", "110000",
                        "--provider-key", env["prov_pub"],
                        "--state-dir", os.path.join(env["tmp"], "state"), *extra],
                       input=json.dumps(body, ensure_ascii=False), capture_output=True,
                       text=True, timeout=30, env=dict(os.environ, HRSS_SECRET=SECRET))
    out = json.loads(r.stdout) if r.stdout.startswith("{") else None
    return r.returncode, out, r.stderr


def test_examples_through_the_node(env):
    r = subprocess.run([os.path.join(env["tmp"], "caller"), env["url"]], capture_output=True,
                       text=True, timeout=30, env=dict(env["env"], HRSS_SECRET=SECRET))
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("commStatus 00 ")
    assert json.loads(r.stdout.split(" ", 2)[2]) == {
        "data": {"aac002": "110101********7774", "aaz502": "1"}}
    # the wrong secret: the node refuses, the example says so and exits 1
    r = subprocess.run([os.path.join(env["tmp"], "caller"), env["url"]], capture_output=True,
                       text=True, timeout=30, env=dict(env["env"], HRSS_SECRET="wrong"))
    assert r.returncode == 1


def test_card_status_and_shapes(env):
    people = persons(env)
    assert len(people) == 40
    w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    for pid, _, _ in people:  # GB 11643 check characters
        assert "10X98765432"[sum(int(a) * b for a, b in zip(pid[:17], w)) % 11] == pid[17]
    p1 = people[0][0]
    rc, out, err = call(env, PROV + "SBKZ", {"aac002": p1})
    assert rc == 0, err
    h, data = out["header"], out["body"]["data"]
    assert (h["commStatus"], h["busiStatus"]) == ("00", "001")
    assert h["serviceResId"].startswith(PROV)
    assert data["aac002"] == p1[:6] + "********" + p1[14:]
    assert data["cardStatus"] == "正常"
    # paged
    rc, out, err = call(env, PROV + "JYJL", {"aac002": p1, "cpage": 1, "rows": 1})
    assert rc == 0, err
    d = out["body"]["data"]
    assert d["totalPage"] == d["totalCount"] and len(d["list"]) == 1
    # pension, SM4 refused by the provider: the grant is plain (commStatus 40)
    rc, out, err = call(env, PROV + "YLYE", {"aac002": p1}, "--encrypt", "sm4",
                        "--sm4-key", "1234567890123456")
    assert rc == 1 and out["header"]["commStatus"] == "40", (out, err)
    rc, out, err = call(env, PROV + "YLYE", {"aac002": p1})
    assert rc == 0 and re.fullmatch(r"\d+\.\d\d", out["body"]["data"]["balance"])


def test_card_loss_records_a_work_order(env):
    p = persons(env)[5][0]
    rc, out, err = call(env, PROV + "LSGS", {"aac002": p})
    assert rc == 0, err
    order = out["body"]["data"]["workOrder"]
    assert out["body"]["data"]["cardStatus"] == "临时挂失"
    db = sqlite3.connect(env["db"])
    rows = db.execute("SELECT order_no, caller, req_id FROM work_orders WHERE aac002=?",
                      (p,)).fetchall()
    status = db.execute("SELECT card_status FROM persons WHERE aac002=?", (p,)).fetchone()
    db.close()
    assert rows == [(order, CALLER, out["header"]["serviceReqId"])]
    assert status == ("2",)
    # a second loss of the same card is a business failure, no new order
    rc, out, err = call(env, PROV + "LSGS", {"aac002": p})
    assert rc == 1
    assert (out["header"]["commStatus"], out["header"]["busiStatus"]) == ("10", "004")
    # an unknown person and a malformed number
    rc, out, _ = call(env, PROV + "LSGS", {"aac002": "110101199001010015"})
    assert (out["header"]["commStatus"], out["header"]["busiStatus"]) == ("10", "002")
    rc, out, _ = call(env, PROV + "SBKZ", {"aac002": "123"})
    assert (out["header"]["commStatus"], out["header"]["busiStatus"]) == ("10", "003")


def test_network_errors_of_hrss_call(env):
    rc, out, err = call(dict(env, url="http://127.0.0.1:1"), PROV + "SBKZ", {"aac002": "x"})
    assert rc == 3 and "ENET" in err
    rc, out, err = call(env, "S110000Y70", {})
    assert rc == 2 and "service_code" in err


def test_hrss_call_refuses_an_unchecked_answer(env):
    """Without a way to check the provider's signature hrss call used to
    print the answer and exit 0; now it refuses unless told --no-verify."""
    def run(*extra):
        return subprocess.run([HRSS, "call", "--node", env["url"], "--system", CALLER,
                               "--service", PROV + "SBKZ", "--area", "110000",
                               "--state-dir", os.path.join(env["tmp"], "state"), *extra],
                              input=json.dumps({"aac002": persons(env)[0][0]}),
                              capture_output=True, text=True, timeout=30,
                              env=dict(os.environ, HRSS_SECRET=SECRET))
    r = run()
    assert r.returncode == 2 and r.stdout == "", r
    assert "--provider-key" in r.stderr and "--no-verify" in r.stderr
    r = run("--response-profile", "none")
    assert r.returncode == 2 and r.stdout == ""
    r = run("--no-verify", "--provider-key", env["prov_pub"])
    assert r.returncode == 2 and "exclude each other" in r.stderr
    r = run("--no-verify")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["header"]["commStatus"] == "00"
    assert "not checked (--no-verify)" in r.stderr


def test_no_number_in_logs(env):
    nums = [p[0] for p in persons(env)] + ["110101199003077774"]
    for proc in (env["node"], env["demo"], env["example"]):
        text = "\n".join(proc.log())
        assert not any(n in text for n in nums)
    assert any("event=transaction service=S110000Y70PLSGS" in l for l in env["demo"].log())
