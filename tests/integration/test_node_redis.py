"""
tests/integration/test_node_redis.py - two hrss-node instances behind one
address share their nonces through a real redis-server on 127.0.0.1
([security] replay_store = redis://...): a request accepted by one is
refused as a replay by the other; with Redis down the nodes fail closed
(commStatus 20) and recover when it is back; a wrong Redis password stops
the start with the reason, never the password.
"""
import json
import os
import subprocess

import pytest

from conftest import NODE, PROVIDER_BODY, one_caller_registry, sign

PASSWORD = "redis-test-secret-42"


@pytest.fixture(scope="module")
def env(module_harness):
    h = module_harness
    provider = h.provider()
    redis = h.redis(PASSWORD)
    conf = f"[security]\nreplay_store = redis://:{PASSWORD}@127.0.0.1:{redis.port}/it:\n"
    doc = one_caller_registry([
        {"code": "S110000Y70PYTjb", "name": "card", "provider": "S110000Y70P",
         "upstreams": [f"http://127.0.0.1:{provider.port}/card"], "timeoutMs": 3000,
         "retries": 1}])
    nodes = []
    for name in ("a", "b"):
        n = h.node(extra=conf, name=name)
        n.import_registry(doc)
        nodes.append(n)
    state = {"tmp": h.tmp, "nodes": nodes, "redis": redis}
    yield state
    for n in nodes:
        assert n.stop() == 0


def header(node, raw):
    status, ctype, body = node.post(raw.encode())
    assert status == 200, (status, body)
    return body


def test_a_nonce_is_accepted_once_across_instances(env):
    a, b = env["nodes"]
    raw = sign(env["tmp"])
    assert header(a, raw) == PROVIDER_BODY
    h = json.loads(header(b, raw))["header"]
    assert (h["commStatus"], h["msg"]) == ("30", "nonce replayed")
    h = json.loads(header(a, raw))["header"]
    assert (h["commStatus"], h["msg"]) == ("30", "nonce replayed")
    # fresh nonces pass on either
    for i in range(10):
        assert header((a, b)[i % 2], sign(env["tmp"])) == PROVIDER_BODY


def test_redis_down_fails_closed_then_recovers(env):
    a, b = env["nodes"]
    env["redis"].stop()
    raw = sign(env["tmp"])
    for n in (a, b):
        h = json.loads(header(n, raw))["header"]
        assert (h["commStatus"], h["msg"]) == ("20", "replay store unavailable")
    env["redis"].start()  # on the same port
    # the refused request was never recorded: it passes now, once
    assert header(b, raw) == PROVIDER_BODY
    h = json.loads(header(a, raw))["header"]
    assert h["commStatus"] == "30"


def test_wrong_password_stops_the_start(env):
    d = os.path.join(env["tmp"], "c")
    os.mkdir(d)
    conf = os.path.join(d, "node.conf")
    with open(conf, "w") as f:
        f.write(f"[node]\nsystem_code = B100000N0D1\narea = 100000\ndata_dir = {d}/data\n"
                f"[http]\nlisten = 127.0.0.1:0\n[security]\n"
                f"replay_store = redis://:not-the-password@127.0.0.1:{env['redis'].port}\n")
    r = subprocess.run([NODE, "--config", conf], capture_output=True, text=True, timeout=30)
    assert r.returncode != 0
    assert "authentication" in r.stderr, r.stderr
    assert "not-the-password" not in r.stderr


def test_bad_url_is_a_config_error(env):
    d = os.path.join(env["tmp"], "d")
    os.mkdir(d)
    conf = os.path.join(d, "node.conf")
    with open(conf, "w") as f:
        f.write(f"[node]\nsystem_code = B100000N0D1\narea = 100000\ndata_dir = {d}/data\n"
                f"[http]\nlisten = 127.0.0.1:0\n[security]\nreplay_store = redis://h:99999\n")
    r = subprocess.run([NODE, "--config", conf, "--check"], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode != 0
    assert "node.conf:8" in r.stderr and "replay_store" in r.stderr, r.stderr
