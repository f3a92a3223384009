"""
tests/integration/test_node_daemon.py - the real hrss-node binary on
127.0.0.1 (ports picked by the kernel), a temporary data directory, real
SQLite and a self-signed TLS certificate: health and readiness, the registry
CLI while the daemon runs (the change served within one second), SIGHUP
without dropping a keep-alive connection, body limit, HTTPS, SIGTERM exit 0.
Every wait is bounded in time.
"""
import http.client
import json
import os
import socket
import signal
import ssl
import subprocess
import time

import pytest

from conftest import NODE

REGISTRY = {
    "systems": [
        {"code": "B100000KJGK", "name": "ministry caller", "level": "B", "area": "100000",
         "status": "active", "signature": "hmac-sm3", "secret": "0123456789abcdef0123",
         "allowedIps": ["127.0.0.1"]},
        {"code": "S110000Y70P", "name": "Beijing provider", "level": "S", "area": "110000",
         "status": "active", "signature": "sm3", "allowedIps": ["0.0.0.0/0", "::/0"]},
    ],
    "services": [
        {"code": "S110000Y70PYTjb", "name": "card status", "provider": "S110000Y70P",
         "upstreams": ["http://127.0.0.1:9/card"], "timeoutMs": 3000, "retries": 1},
    ],
    "grants": [
        {"caller": "B100000KJGK", "service": "S110000Y70PYTjb", "expires": None,
         "revoked": False},
    ],
}


@pytest.fixture
def node(harness):
    return harness.node(https=True, http_extra="body_limit = 4K\n")


def test_health_ready_and_routes(node):
    assert node.get("/healthz") == (200, "ok\n")
    assert node.get("/readyz") == (200, "ready\n")
    v = node.version()
    assert v["generation"] >= 1 and v["systems"] == 0
    for path in ("/api/v1/transaction", "/S110000Y70PYTjb"):
        c = http.client.HTTPConnection("127.0.0.1", node.port, timeout=5)
        c.request("POST", path, body=b"{}", headers={"Content-Type": "application/json"})
        r = c.getresponse()
        body = json.loads(r.read())
        assert r.status == 400 and body["error"] == "bad_envelope"
        c.close()
    assert node.get("/nope")[0] == 404
    assert node.get("/api/v1/transaction")[0] == 405
    # a body over the limit is refused by the HTTP layer, with a JSON error
    c = http.client.HTTPConnection("127.0.0.1", node.port, timeout=5)
    c.request("POST", "/api/v1/transaction", body=b"x" * 8192)
    r = c.getresponse()
    assert r.status == 413 and r.getheader("Content-Type") == "application/json"
    assert json.loads(r.read())["error"] == "too_large"
    c.close()
    # logs never carry bodies
    assert not any("xxxxxxxx" in line for line in node.log())
    assert node.stop() == 0


def raw(port, data, shut=False):
    """Sends data on a new connection and returns all it receives until the
    node closes it (bounded by the socket timeout)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(data)
    if shut:
        s.shutdown(socket.SHUT_WR)
    out = b""
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            out += b
    except socket.timeout:
        pass
    s.close()
    return out


def test_http_framing(node):
    port = node.port
    # pipelined requests are answered in order on one connection
    out = raw(port, b"GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n"
                    b"GET /nope HTTP/1.1\r\nHost: a\r\n\r\n"
                    b"GET /readyz HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
    parts = out.split(b"HTTP/1.1 ")[1:]
    assert [p[:3] for p in parts] == [b"200", b"404", b"200"], out
    assert parts[0].endswith(b"ok\n") and b"ready" in parts[2]
    # HTTP/1.0 without keep-alive: answered, then closed
    out = raw(port, b"GET /healthz HTTP/1.0\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 200 ") and out.endswith(b"\r\n\r\nok\n")
    # a chunked body is decoded (here: not an envelope, so 400 bad_envelope)
    out = raw(port, b"POST /api/v1/transaction HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
                    b"Connection: close\r\n\r\n1\r\n{\r\n1\r\n}\r\n0\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 400 ") and b'"bad_envelope"' in out
    # Expect: 100-continue gets its interim answer before the body is sent
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(b"POST /api/v1/transaction HTTP/1.1\r\nContent-Length: 2\r\n"
              b"Expect: 100-continue\r\nConnection: close\r\n\r\n")
    assert s.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"
    s.sendall(b"{}")
    out = b""
    while (b := s.recv(65536)):
        out += b
    s.close()
    assert out.startswith(b"HTTP/1.1 400 ") and b'"bad_envelope"' in out
    # malformed heads, smuggling-prone framing and oversized heads: JSON errors
    for data, status, code in [
        (b"GET / HTTP/1.1\r\nBad header\r\n\r\n", b"400", b"bad_request"),
        (b"POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
         b"400", b"bad_request"),
        (b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", b"501", b"not_implemented"),
        (b"GET / HTTP/1.1\r\nX: " + b"a" * 20000 + b"\r\n\r\n", b"431", b"header_too_large"),
        (b"POST /api/v1/transaction HTTP/1.1\r\nContent-Length: 5000\r\n\r\n", b"413",
         b"too_large"),
    ]:
        out = raw(port, data, shut=True)
        assert out.startswith(b"HTTP/1.1 " + status + b" "), out[:200]
        assert b"Content-Type: application/json" in out and b'"' + code + b'"' in out
        assert b"Connection: close" in out
    # HEAD: the headers of GET without the body
    out = raw(port, b"HEAD /healthz HTTP/1.1\r\nConnection: close\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 200 ") and b"Content-Length: 3\r\n" in out
    assert out.endswith(b"\r\n\r\n")
    # a request cut short by the client is dropped without an answer
    assert raw(port, b"POST /api/v1/transaction HTTP/1.1\r\nContent-Length: 10\r\n\r\n{",
               shut=True) == b""
    assert node.get("/healthz") == (200, "ok\n")
    assert node.stop() == 0


def test_registry_import_live_within_one_second(node):
    before = node.version()
    path = os.path.join(node.tmp, "registry.json")
    with open(path, "w") as f:
        json.dump(REGISTRY, f)
    t0 = time.monotonic()
    r = node.cli("registry", "import", path)
    assert r.returncode == 0, r.stderr
    assert "2 systems, 1 services, 1 grants" in r.stdout
    while True:
        v = node.version()
        if v["version"] != before["version"]:
            break
        assert time.monotonic() - t0 < 1.0, "registry change not live within 1 s"
        time.sleep(0.02)
    assert v["systems"] == 2 and v["services"] == 1 and v["grants"] == 1
    assert v["generation"] > before["generation"]

    # export: secrets redacted unless asked for
    r = node.cli("registry", "export")
    assert r.returncode == 0 and "0123456789abcdef0123" not in r.stdout
    assert json.loads(r.stdout)["systems"][0]["secret"] == "(redacted)"
    r = node.cli("registry", "export", "--with-secrets")
    assert json.loads(r.stdout)["systems"][0]["secret"] == "0123456789abcdef0123"
    # the secret never reaches the log
    assert not any("0123456789abcdef" in line for line in node.log())

    # an invalid document: exit 1, every problem with its path, nothing changed
    bad = json.loads(json.dumps(REGISTRY))
    bad["systems"][0]["allowedIps"] = ["300.1.1.1"]
    bad["grants"][0]["caller"] = "B100000XXXX"
    r = node.cli("registry", "import", "-", stdin=json.dumps(bad))
    assert r.returncode == 1
    assert "-: systems[0].allowedIps[0]: not an IPv4/IPv6 address" in r.stderr
    assert "-: grants[0]: caller B100000XXXX is not in systems" in r.stderr
    time.sleep(0.4)
    assert node.version()["version"] == v["version"]
    assert node.stop() == 0


def test_sighup_reloads_without_dropping_connections(node):
    conn = http.client.HTTPConnection("127.0.0.1", node.port, timeout=5)
    assert node.get("/healthz", conn) == (200, "ok\n")
    sock = conn.sock
    gen = node.version()["generation"]
    # a bad edit is refused and the node keeps its configuration
    with open(node.conf) as f:
        good = f.read()
    with open(node.conf, "w") as f:
        f.write(good + "[log]\nlevel = loud\n")
    mark = len(node.log())
    node.send_signal(signal.SIGHUP)
    node.wait_log(r"event=reload_failed .*level = loud|event=reload_failed .*loud", 5, mark)
    # a good edit is applied: the body limit grows, the registry is reloaded
    with open(node.conf, "w") as f:
        f.write(good.replace("body_limit = 4K", "body_limit = 16K"))
    mark = len(node.log())
    node.send_signal(signal.SIGHUP)
    node.wait_log("event=reloaded", 5, mark)
    node.wait_log("event=registry_loaded reason=reload", 5, mark)
    assert node.get("/healthz", conn) == (200, "ok\n")
    assert conn.sock is sock, "the keep-alive connection was dropped"
    assert node.version()["generation"] > gen
    deadline = time.monotonic() + 2
    while True:  # workers apply the new limit on their own loop
        c = http.client.HTTPConnection("127.0.0.1", node.port, timeout=5)
        c.request("POST", "/api/v1/transaction", body=b"x" * 8192)
        status = c.getresponse().status
        c.close()
        if status == 400:
            break
        assert time.monotonic() < deadline, f"body limit not reloaded ({status})"
        time.sleep(0.05)
    conn.close()
    assert node.stop() == 0


def test_https_healthz(node):
    r = subprocess.run(["curl", "-sk", "--max-time", "5",
                        f"https://127.0.0.1:{node.https_port}/healthz"],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 0 and r.stdout == "ok\n", r.stderr
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    c = http.client.HTTPSConnection("127.0.0.1", node.https_port, timeout=5, context=ctx)
    c.request("GET", "/readyz")
    assert c.getresponse().status == 200
    c.close()
    assert node.stop() == 0


def test_https_certificate_verified_and_reloaded(node, harness):
    """7.1.2: a client that checks certificates (no -k) reaches the node
    only when it trusts the node's certificate, which names 127.0.0.1; a
    new certificate is served to new connections after SIGHUP."""

    def served(cafile):
        ctx = ssl.create_default_context(cafile=cafile)  # chain and name checked
        c = http.client.HTTPSConnection("127.0.0.1", node.https_port, timeout=5, context=ctx)
        c.request("GET", "/healthz")
        r = c.getresponse()
        answer = (r.status, r.read().decode())
        der = c.sock.getpeercert(binary_form=True)
        c.close()
        return answer, der

    def der_of(path):
        with open(path) as f:
            return ssl.PEM_cert_to_DER_cert(f.read())

    assert served(node.cert) == ((200, "ok\n"), der_of(node.cert))
    r = subprocess.run(["curl", "-s", "--max-time", "5", "--cacert", node.cert,
                        f"https://127.0.0.1:{node.https_port}/healthz"],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 0 and r.stdout == "ok\n", r.stderr
    # a client trusting another certificate refuses the node
    other, _ = harness.cert("other")
    with pytest.raises(ssl.SSLCertVerificationError):
        served(other)
    # the certificate and key replaced on disk, then SIGHUP
    cert2, key2 = harness.cert("second")
    os.replace(cert2, node.cert)
    os.replace(key2, node.key)
    mark = node.mark()
    node.send_signal(signal.SIGHUP)
    node.wait_log("event=reloaded", 5, mark)
    assert served(node.cert) == ((200, "ok\n"), der_of(node.cert))
    assert node.stop() == 0


def test_sigterm_with_idle_keepalive_exits_zero(node):
    conn = http.client.HTTPConnection("127.0.0.1", node.port, timeout=5)
    assert node.get("/healthz", conn)[0] == 200
    t0 = time.monotonic()
    assert node.stop(signal.SIGTERM) == 0
    assert time.monotonic() - t0 < 5
    node.wait_log("event=stopped unanswered=0", 1)
    conn.close()


def test_bad_config_is_refused_with_file_and_line(harness):
    conf = harness.path("bad.conf")
    with open(conf, "w") as f:
        f.write("[node]\nsystem_code = B100000N0D1\nworkerz = 2\n")
    r = subprocess.run([NODE, "--config", conf], capture_output=True, text=True, timeout=10)
    assert r.returncode == 2
    assert f"{conf}:3: unknown key 'workerz' in [node]" in r.stderr
    r = subprocess.run([NODE, "--config", conf, "--check"], capture_output=True, text=True,
                       timeout=10)
    assert r.returncode == 2 and ":3: unknown key" in r.stderr


def test_busy_port_fails_to_start(harness):
    first = harness.node()
    try:
        other = harness.dir("other")
        conf = os.path.join(other, "n.conf")
        with open(conf, "w") as f:
            f.write("[node]\nsystem_code = B100000N0D1\narea = 100000\n"
                    f"data_dir = {other}/data\n[http]\nlisten = 127.0.0.1:{first.port}\n")
        r = subprocess.run([NODE, "--config", conf], capture_output=True, text=True,
                           timeout=10)
        assert r.returncode == 2 and "event=listen_failed" in r.stderr
    finally:
        assert first.stop() == 0
