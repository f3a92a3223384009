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
import shutil
import sqlite3
import subprocess
import tempfile
import threading
import time

import pytest

BUILD = os.environ.get("HRSS_BUILD_DIR", "build")
SRC = os.environ.get("HRSS_SOURCE_DIR", ".")
NODE = os.environ.get("HRSS_NODE_BIN", os.path.join(BUILD, "hrss-node"))
HRSS = os.environ.get("HRSS_BIN", os.path.join(BUILD, "hrss"))
DEMO = os.environ.get("HRSS_DEMO_PROVIDER_BIN", os.path.join(BUILD, "hrss-demo-provider"))
SECRET = "sdk-test-secret-0123"
CALLER = "B100000KJGK"
PROV = "S110000Y70P"


class Proc:
    """A daemon whose stderr is collected line by line."""

    def __init__(self, argv, env=None):
        self.lines = []
        self.lock = threading.Lock()
        self.proc = subprocess.Popen(argv, stderr=subprocess.PIPE, text=True, env=env)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stderr:
            with self.lock:
                self.lines.append(line.rstrip("\n"))

    def wait_log(self, pattern, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                for line in self.lines:
                    m = re.search(pattern, line)
                    if m:
                        return m
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        raise AssertionError(f"no /{pattern}/:\n" + "\n".join(self.lines))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
        rc = self.proc.wait(timeout=15)
        self.reader.join(timeout=5)
        return rc


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
def env():
    tmp = tempfile.mkdtemp(prefix="hrss-sdk-")
    run_env = dict(os.environ, LD_LIBRARY_PATH=BUILD, HRSS_STATE_DIR=os.path.join(tmp, "state"))
    compile_example("caller.c", os.path.join(tmp, "caller"))
    compile_example("provider.c", os.path.join(tmp, "provider"))
    example = Proc([os.path.join(tmp, "provider"), "127.0.0.1:0"], run_env)
    ex_port = int(example.wait_log(r"listening on port (\d+)").group(1))

    subprocess.run([HRSS, "keygen", "sm2", "--out", os.path.join(tmp, "prov")], check=True,
                   capture_output=True)
    demo = Proc([DEMO, "--db", os.path.join(tmp, "demo.db"), "--listen", "127.0.0.1:0",
                 "--key", os.path.join(tmp, "prov.key"), "--state-dir",
                 os.path.join(tmp, "state")])
    demo_port = int(demo.wait_log(r"event=listening port=(\d+)").group(1))

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
                    [svc(PROV + s, demo_port) for s in ("SBKZ", "JYJL", "YLYE", "LSGS")],
        "grants": [{"caller": CALLER, "service": PROV + s}
                   for s in ("YTjb", "SBKZ", "JYJL", "YLYE", "LSGS")],
    }
    conf = os.path.join(tmp, "node.conf")
    with open(conf, "w") as f:
        f.write(f"[node]\nsystem_code = B100000N0D1\narea = 100000\n"
                f"data_dir = {tmp}/node\nworkers = 1\ndrain_timeout = 5s\n"
                "[http]\nlisten = 127.0.0.1:0\n")
    r = subprocess.run([NODE, "--config", conf, "registry", "import", "-"],
                       input=json.dumps(registry), capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    node = Proc([NODE, "--config", conf])
    node_port = int(node.wait_log(r"event=listening proto=http addr=\S+:(\d+)").group(1))
    node.wait_log("event=started")
    state = {"tmp": tmp, "env": run_env, "url": f"http://127.0.0.1:{node_port}",
             "node": node, "demo": demo, "example": example, "db": os.path.join(tmp, "demo.db")}
    yield state
    assert node.stop() == 0
    assert demo.stop() == 0
    assert example.stop() == 0
    shutil.rmtree(tmp, ignore_errors=True)


def persons(env):
    r = subprocess.run([DEMO, "--db", env["db"], "--list"], capture_output=True, text=True,
                       check=True)
    return [l.split("\t") for l in r.stdout.splitlines()]


def call(env, service, body, *extra):
    r = subprocess.run([HRSS, "call", "--node", env["url"], "--system", CALLER,
                        "--service", service, "--area", "110000",
                        "--provider-key", os.path.join(env["tmp"], "prov.pub"),
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


def test_no_number_in_logs(env):
    nums = [p[0] for p in persons(env)] + ["110101199003077774"]
    for proc in (env["node"], env["demo"], env["example"]):
        with proc.lock:
            text = "\n".join(proc.lines)
        assert not any(n in text for n in nums)
    assert any("event=transaction service=S110000Y70PLSGS" in l for l in env["demo"].lines)
