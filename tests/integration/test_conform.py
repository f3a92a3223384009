"""
tests/integration/test_conform.py - `hrss conform`, the conformance kit,
against the real hrss-node and hrss-demo-provider on 127.0.0.1 (everything
passes, with each body profile), and against tests/conform/broken_peer.py,
a node, provider and caller written apart from hrss with deviations switched
on one at a time: each is caught and named, as a failure where the
standard's text is plain and as "differs" where hrss's reading of an open
point is only one of the possible ones. `hrss conform serve` judges hrss's
own SDK caller (`hrss call`: everything passes) and the broken caller. Reports: JSON and a self-contained HTML page with the
secrets and personal numbers redacted.
"""
import json
import os
import re
import subprocess
import sys

import pytest

from conftest import HRSS, SRC, WAIT

PEER = os.path.join(SRC, "tests", "conform", "broken_peer.py")
SECRET = "conform-secret-0123456"
SM4_KEY = "1234567890123456"
CALLER = "B100000KJGK"
CALLER2 = "S440000GDR1"
PROV = "S110000Y70P"


@pytest.fixture(scope="module")
def env(module_harness):
    h = module_harness
    tmp = h.tmp
    subprocess.run([HRSS, "keygen", "sm2", "--out", os.path.join(tmp, "caller2")], check=True,
                   capture_output=True, timeout=30)
    with open(os.path.join(tmp, "secret"), "w") as f:
        f.write(SECRET)
    with open(os.path.join(tmp, "caller2.pub")) as f:
        caller2_pub = f.read()

    def registry(port, prov_pub=None):
        up = [f"http://127.0.0.1:{port}/"]
        prov = {"code": PROV, "name": "provider", "level": "S", "area": "110000",
                "status": "active", "signature": "sm2", "allowedIps": ["127.0.0.1"]}
        if prov_pub:
            prov["publicKey"] = prov_pub
        return {
            "systems": [
                {"code": CALLER, "name": "caller", "level": "B", "area": "100000",
                 "status": "active", "signature": "hmac-sm3", "secret": SECRET,
                 "allowedIps": ["127.0.0.1"]},
                {"code": CALLER2, "name": "sm2 caller", "level": "S", "area": "440000",
                 "status": "active", "signature": "sm2", "publicKey": caller2_pub,
                 "allowedIps": ["127.0.0.1"]}, prov],
            "services": [{"code": PROV + s, "name": s, "provider": PROV, "upstreams": up,
                          "timeoutMs": 5000, "retries": 0}
                         for s in ("SBKZ", "JYJL", "YLYE", "LSGS")],
            "grants": [
                {"caller": CALLER, "service": PROV + "SBKZ"},
                {"caller": CALLER, "service": PROV + "JYJL"},
                {"caller": CALLER, "service": PROV + "YLYE", "encryption": "sm4-ecb",
                 "key": SM4_KEY},
                {"caller": CALLER2, "service": PROV + "SBKZ", "encryption": "sm2"},
                {"caller": CALLER2, "service": PROV + "JYJL", "encryption": "sm2"}],
        }

    # the provider reads its grants (callers' keys and profiles) from the
    # registry; the node's copy also names the provider's port and key
    grants = os.path.join(tmp, "grants.json")
    with open(grants, "w") as f:
        json.dump(registry(9), f)
    demo = h.demo_provider(registry=grants, require_grant=True,
                           state_dir=os.path.join(tmp, "state"))
    with open(demo.pub) as f:
        doc = registry(demo.port, f.read())
    node = h.node(workers=1, start=False)
    node.import_registry(doc)
    node.start()
    yield {"tmp": tmp, "node": node.url, "provider": f"http://127.0.0.1:{demo.port}/",
           "prov_pub": demo.pub, "person": demo.persons()[0][0]}
    assert node.stop() == 0
    assert demo.stop() == 0


def conform(env, mode, url, *extra, caller=CALLER, service=PROV + "SBKZ", area="110000",
            report="r.json"):
    out = os.path.join(env["tmp"], report)
    cred = (["--secret-file", os.path.join(env["tmp"], "secret")] if caller == CALLER
            else ["--key", os.path.join(env["tmp"], "caller2.key")])
    r = subprocess.run([HRSS, "conform", mode, "--url", url, "--caller", caller, *cred,
                        "--service", service, "--area", area,
                        "--state-dir", os.path.join(env["tmp"], "state"), "--report", out,
                        "--timeout", "60000", *extra],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode in (0, 1), r.stderr
    with open(out) as f:
        return r, json.load(f)


def verdicts(doc):
    return {x["id"]: x["verdict"] for x in doc["results"]}


def details(doc, check):
    return " ".join(x["detail"] for x in doc["results"] if x["id"] == check)


def named(r, doc, deviation, check, verdict, words):
    """The run r (report doc) caught deviation under check, with verdict and
    a detail holding words; only failures fail the run."""
    assert verdicts(doc).get(check) == verdict, (deviation, r.stdout)
    assert words in details(doc, check), (deviation, details(doc, check))
    assert r.returncode == (1 if verdict == "fail" else 0)


def all_pass(r, doc):
    bad = [x for x in doc["results"] if x["verdict"] in ("fail", "differs")]
    assert r.returncode == 0 and not bad, (r.stdout, bad)


# ---- hrss-node and hrss-demo-provider: everything passes ----

def test_node_hmac_plain_passes_with_reports(env):
    html = os.path.join(env["tmp"], "node.html")
    r, doc = conform(env, "node", env["node"], "--provider-key",
                     env["prov_pub"], "--body",
                     json.dumps({"aac002": env["person"]}), "--ungranted-service",
                     PROV + "LSGS", "--report", html)
    all_pass(r, doc)
    v = verdicts(doc)
    for check in ("request.form", "request.echo", "request.signature", "request.cipher",
                  "signature.altered", "signature.nonce_changed", "nonce.replay",
                  "nonce.reused", "time.stale", "table1.appCode.length",
                  "table1.body.length", "json.duplicate_key", "utf8.invalid",
                  "caller.unknown", "grant.none", "area.wrong", "service.unknown"):
        assert v[check] == "pass", (check, doc)
    # the terminal summary: a line per clause
    for clause in ("5.2", "5.3", "5.4", "6.2.1.2", "6.2.1.3", "7.1.1.1", "7.1.1.2"):
        assert re.search(rf"^{re.escape(clause)} +\d+ +0 +0 ", r.stdout, re.M), r.stdout
    assert doc["totals"]["fail"] == 0 and doc["mode"] == "node"
    page = open(html, encoding="utf-8").read()
    assert page.startswith("<!DOCTYPE html>") and "7.1.1.2" in page and "数字签名验签" in page
    assert not re.search(r"(src|href)=|<script|@import|url\(", page)  # self-contained


def test_node_sm4_and_sm2_bodies_pass(env):
    body = json.dumps({"aac002": env["person"]})
    r, doc = conform(env, "node", env["node"], "--sm4-key", SM4_KEY, "--provider-key",
                     env["prov_pub"], "--body", body,
                     service=PROV + "YLYE")
    all_pass(r, doc)
    assert verdicts(doc)["cipher.undecryptable"] == "pass"
    assert "SM4-ECB, PKCS#7, Base64" in details(doc, "request.cipher")
    r, doc = conform(env, "node", env["node"], "--encrypt", "sm2", "--provider-key",
                     env["prov_pub"], "--body", body, caller=CALLER2)
    all_pass(r, doc)
    assert "SM2, C1C3C2" in details(doc, "request.cipher")


def test_failures_are_reported_with_request_and_answer_redacted(env):
    # a body the provider refuses (no person): the success checks fail, and
    # the report keeps the exchange with the secret and numbers redacted
    html = os.path.join(env["tmp"], "fail.html")
    r, doc = conform(env, "node", env["node"], "--body",
                     json.dumps({"aac002": "110101199003077774", "phone": "13812345678"}),
                     "--report", html)
    assert r.returncode == 1
    assert verdicts(doc)["request.commStatus"] == "fail"
    assert re.search(r"^FAIL +6\.2\.1\.3 request\.commStatus: commStatus 10", r.stdout, re.M)
    item = [x for x in doc["results"] if x["id"] == "request.commStatus"][0]
    assert '"serviceReqId"' in item["request"] and '"commStatus":"10"' in item["response"]
    page = open(html, encoding="utf-8").read()
    for text in (json.dumps(doc), page, r.stdout):
        assert SECRET not in text and SM4_KEY not in text
        assert "110101199003077774" not in text and "13812345678" not in text


# ---- a node of another vendor: each deviation caught and named ----

@pytest.fixture()
def peer(harness):
    def start(role, deviations, *extra):
        p = harness.daemon([sys.executable, PEER, "--role", role, "--caller", CALLER,
                            "--service", PROV + "SBKZ", "--area", "110000", "--secret", SECRET,
                            "--hrss", HRSS, "--deviations", ",".join(deviations), *extra])
        port = p.wait_match(r"listening port (\d+)", WAIT).group(1)
        return f"http://127.0.0.1:{port}/"
    return start


def test_reference_peer_without_deviations_passes(env, peer):
    r, doc = conform(env, "node", peer("node", []), "--response-profile", "sm3")
    all_pass(r, doc)


NODE_DEVIATIONS = [
    # deviation, check, verdict, words the detail names it by
    ("bad-signature", "request.signature", "fail", "does not verify under the sm3 profile"),
    ("upper-hex-signature", "request.signature", "differs", "uppercase hex"),
    ("no-echo", "request.echo", "fail", "serviceReqId missing"),
    ("utc-time", "request.serviceResTime", "fail", "UTC instead of China Standard Time"),
    ("accept-replay", "nonce.replay", "fail", "accepted (commStatus 00)"),
    ("replay-90", "nonce.replay", "differs", "commStatus 90"),
    ("no-signature-check", "signature.altered", "fail", "the signature is not checked"),
    ("unsigned-nonce", "signature.reading", "differs", "without the nonce"),
    ("malformed-90", "table1.appCode.length", "differs", "HTTP 4xx and a JSON error"),
    ("resid-repeat", "replay.first.serviceResId", "fail", "already given to another answer"),
]


@pytest.mark.parametrize("deviation,check,verdict,words", NODE_DEVIATIONS,
                         ids=[d[0] for d in NODE_DEVIATIONS])
def test_broken_node_deviation_named(env, peer, deviation, check, verdict, words):
    r, doc = conform(env, "node", peer("node", [deviation]), "--response-profile", "sm3")
    named(r, doc, deviation, check, verdict, words)
    tag = "FAIL" if verdict == "fail" else "DIFFERS"
    assert re.search(rf"^{tag} +[0-9.]+ {re.escape(check)}: ", r.stdout, re.M), r.stdout


# ---- providers: hrss-demo-provider passes, a broken one is named ----

def test_provider_sm2_caller_passes_with_shapes(env):
    body = json.dumps({"aac002": env["person"]})
    r, doc = conform(env, "provider", env["provider"], "--encrypt", "sm2", "--provider-key",
                     env["prov_pub"], "--body", body, "--paged-service", PROV + "JYJL",
                     "--batch-service", PROV + "SBKZ", caller=CALLER2)
    all_pass(r, doc)
    v = verdicts(doc)
    for check in ("request.shape", "paged.shape", "batch.shape", "paged.cipher",
                  "request.serviceResId", "signature.altered", "signature.field_changed",
                  "service.unknown", "cipher.undecryptable", "table1.serviceReqId.length"):
        assert v[check] == "pass", (check, doc)
    assert "area.wrong" not in v  # a node's routing rule, not a provider's
    # behind a node a provider may leave replays and times to it: skipped,
    # and named as such
    assert v["nonce.replay"] == "skip" and "behind a node" in details(doc, "nonce.replay")


def test_provider_hmac_caller_and_sm4_pass(env):
    r, doc = conform(env, "provider", env["provider"], "--sm4-key", SM4_KEY, "--provider-key",
                     env["prov_pub"], "--body", json.dumps({"aac002": env["person"]}),
                     service=PROV + "YLYE")
    all_pass(r, doc)
    assert verdicts(doc)["cipher.undecryptable"] == "pass"


PROVIDER_DEVIATIONS = [
    ("zero-padding", "request.cipher", "fail", "zero bytes, not PKCS#7"),
    ("hex-cipher", "request.cipher", "differs", "uppercase hex where the grant says Base64"),
    ("bad-signature", "request.signature", "fail", "does not verify"),
    ("no-echo", "request.echo", "fail", "serviceReqId missing"),
    ("foreign-resid", "request.serviceResId", "fail", "not from the provider's system code"),
    ("paged-no-totalpage", "paged.shape", "fail", "totalPage"),
]


@pytest.mark.parametrize("deviation,check,verdict,words", PROVIDER_DEVIATIONS,
                         ids=[d[0] for d in PROVIDER_DEVIATIONS])
def test_broken_provider_deviation_named(env, peer, deviation, check, verdict, words):
    url = peer("provider", [deviation], "--sm4-key", SM4_KEY)
    r, doc = conform(env, "provider", url, "--sm4-key", SM4_KEY, "--response-profile", "sm3",
                     "--paged-service", PROV + "SBKZ")
    named(r, doc, deviation, check, verdict, words)


def test_broken_provider_sm2_in_c1c2c3_order(env, peer):
    sub = subprocess.run([HRSS, "keygen", "sm2", "--out", os.path.join(env["tmp"], "bp")],
                         capture_output=True, timeout=30)
    assert sub.returncode == 0
    url = peer("provider", ["sm2-c1c2c3"], "--own-key", os.path.join(env["tmp"], "bp.key"),
               "--caller-pub", os.path.join(env["tmp"], "caller2.pub"))
    r, doc = conform(env, "provider", url, "--encrypt", "sm2", "--profile", "hmac-sm3",
                     "--key", os.path.join(env["tmp"], "caller2.key"), "--provider-key",
                     os.path.join(env["tmp"], "bp.pub"), "--response-profile", "sm3")
    assert verdicts(doc)["request.cipher"] == "differs", r.stdout
    assert "C1C2C3 order" in details(doc, "request.cipher")


def test_standalone_provider_must_refuse_replays(env, peer):
    url = peer("provider", ["accept-replay"])
    r, doc = conform(env, "provider", url, "--response-profile", "sm3")
    assert verdicts(doc)["nonce.replay"] == "skip" and r.returncode == 0
    r, doc = conform(env, "provider", url, "--response-profile", "sm3", "--standalone")
    assert verdicts(doc)["nonce.replay"] == "fail" and r.returncode == 1


# ---- hrss conform serve: callers judged ----

@pytest.fixture()
def serve(harness):
    """Starts `hrss conform serve` for CALLER's grant on SBKZ; returns the
    daemon, its URL and its JSON report's path."""
    def start(*extra):
        report = harness.path(f"serve-{len(os.listdir(harness.tmp))}.json")
        d = harness.daemon([HRSS, "conform", "serve", "--port", "0", "--caller", CALLER,
                            "--secret-file", harness.path("secret"), "--profile", "hmac-sm3",
                            "--service", PROV + "SBKZ", "--area", "110000", "--report", report,
                            "--state-dir", harness.path("state"), *extra])
        port = d.wait_match(r"listening on 127\.0\.0\.1:(\d+)", WAIT).group(1)
        return d, f"http://127.0.0.1:{port}/", report
    with open(harness.path("secret"), "w") as f:
        f.write(SECRET)
    for name in ("caller", "prov"):
        subprocess.run([HRSS, "keygen", "sm2", "--out", harness.path(name)], check=True,
                       capture_output=True, timeout=30)
    return start


def sdk_call(h, url, *extra):
    r = subprocess.run([HRSS, "call", "--node", url, "--system", CALLER, "--service",
                        PROV + "SBKZ", "--area", "110000", "--secret-file", h.path("secret"),
                        "--state-dir", h.path("state"), *extra],
                       input='{"aac002":"110101199003077774"}', capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_serve_judges_the_sdk_caller_conforming(harness, serve):
    d, url, report = serve("--sm4-key", SM4_KEY, "--provider-key", harness.path("prov.key"))
    for _ in range(2):  # SM4 both ways, the answer signed sm2 and checked by the SDK
        out = sdk_call(harness, url, "--encrypt", "sm4", "--sm4-key", SM4_KEY,
                       "--provider-key", harness.path("prov.pub"))
        assert out["header"]["commStatus"] == "00"
        assert out["body"]["data"]["echo"] == {"aac002": "110101199003077774"}
    assert d.stop() == 0  # SIGTERM: the run ends, nothing failed
    with open(report) as f:
        doc = json.load(f)
    assert doc["mode"] == "serve" and doc["totals"]["fail"] == doc["totals"]["differs"] == 0
    v = verdicts(doc)
    for n in (1, 2):
        for check in ("form", "serviceReqId", "time", "nonce", "signature", "replay", "cipher",
                      "shape"):
            assert v[f"r{n}.{check}"] == "pass", (n, check, doc)
    # SM2 bodies: sealed for the provider, answered sealed for the caller
    d, url, report = serve("--encrypt", "sm2", "--provider-key", harness.path("prov.key"),
                           "--key", harness.path("caller.pub"), "--count", "1")
    out = sdk_call(harness, url, "--profile", "hmac-sm3", "--encrypt", "sm2", "--key",
                   harness.path("caller.key"), "--provider-key", harness.path("prov.pub"))
    assert out["header"]["commStatus"] == "00"
    assert d.proc.wait(timeout=WAIT) == 0  # --count 1: it ends by itself
    with open(report) as f:
        assert "SM2, C1C3C2" in details(json.load(f), "r1.cipher")


CALLER_DEVIATIONS = [
    # deviation, check, verdict, words, the answer's commStatus
    ("upper-hex-signature", "signature", "differs", "uppercase hex", "30"),  # hrss refuses capitals
    ("unsigned-nonce", "signature", "differs", "without the nonce", "30"),
    ("timestamp-key", "signature", "differs", "under the key timestamp", "30"),
    ("sm3-not-hmac", "signature", "fail", "plain SM3", "30"),
    ("no-nonce", "nonce", "differs", "no header field nonce", "30"),
    ("stale-time", "time", "fail", "behind the kit's clock", "30"),
    ("utc-time", "time", "fail", "UTC instead of China Standard Time", "30"),
    ("zero-padding", "cipher", "fail", "zero bytes, not PKCS#7", "40"),
    ("hex-cipher", "cipher", "differs", "uppercase hex", "40"),
]


def peer_call(h, url, *deviations, extra=()):
    r = subprocess.run([sys.executable, PEER, "--role", "caller", "--url", url, "--caller",
                        CALLER, "--service", PROV + "SBKZ", "--area", "110000", "--secret",
                        SECRET, "--hrss", HRSS, "--deviations", ",".join(deviations), *extra],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_serve_names_each_deviation_of_a_broken_caller(harness, serve):
    d, url, report = serve("--sm4-key", SM4_KEY)
    sm4 = ("--sm4-key", SM4_KEY)
    first = peer_call(harness, url, extra=sm4)  # conforming: served
    assert first["answer"]["header"]["commStatus"] == "00", first
    for n, (dev, check, verdict, words, status) in enumerate(CALLER_DEVIATIONS, start=2):
        out = peer_call(harness, url, dev, extra=sm4)
        assert out["answer"]["header"]["commStatus"] == status, (dev, out)
        with open(report) as f:
            doc = json.load(f)
        assert verdicts(doc).get(f"r{n}.{check}") == verdict, (dev, doc["results"][-8:])
        assert words in details(doc, f"r{n}.{check}"), (dev, details(doc, f"r{n}.{check}"))
    # the first request's id and nonce sent again: a replay, a repeated id
    h = first["request"]["header"]
    out = peer_call(harness, url, f"reuse={h['serviceReqId']}:{h['nonce']}", extra=sm4)
    assert out["answer"]["header"]["commStatus"] == "30"
    n = len(CALLER_DEVIATIONS) + 2
    assert d.stop() == 1  # failures were seen
    with open(report) as f:
        doc = json.load(f)
    v = verdicts(doc)
    assert v[f"r{n}.replay"] == "fail" and v[f"r{n}.serviceReqId"] == "fail", doc["results"][-8:]
    assert "sent before" in details(doc, f"r{n}.serviceReqId")
    assert SECRET not in json.dumps(doc) and SM4_KEY not in json.dumps(doc)


def test_serve_names_sm2_in_c1c2c3_order(harness, serve):
    d, url, report = serve("--encrypt", "sm2", "--provider-key", harness.path("prov.key"),
                           "--key", harness.path("caller.pub"))
    pub = ("--provider-pub", harness.path("prov.pub"))
    assert peer_call(harness, url, extra=pub)["answer"]["header"]["commStatus"] == "00"
    out = peer_call(harness, url, "sm2-c1c2c3", extra=pub)
    assert out["answer"]["header"]["commStatus"] == "40"
    d.stop()
    with open(report) as f:
        doc = json.load(f)
    assert verdicts(doc)["r1.cipher"] == "pass"
    assert verdicts(doc)["r2.cipher"] == "differs"
    assert "C1C2C3 order" in details(doc, "r2.cipher")
