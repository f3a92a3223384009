"""
tests/integration/test_node_upstream_tls.py - https:// upstreams of the
real hrss-node: the provider's certificate must chain to [upstream]
ca_file and name the URL's IP address. Trusted: answers relayed byte for
byte, also pipelined. Wrong name or an unknown CA: commStatus 20 "provider
TLS handshake failed", the reason in the node's log, nothing reaches the
provider's handler. SIGHUP reads the CA file again; a CA file that is not
PEM stops the node from starting. Certificates are made with the openssl
command line; the providers are Python's ssl module on 127.0.0.1.
"""
import signal
import socket
import subprocess
import threading

import pytest

from conftest import NODE, PROVIDER_BODY, expect, one_caller_registry, sign, tls_context


class Mute:
    """Accepts connections and never says a word (no TLS handshake)."""

    def __init__(self, h):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.conns = []
        h.own(self, self.stop)
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                self.conns.append(self.sock.accept()[0])
            except OSError:
                return

    def stop(self):
        self.sock.close()
        for c in self.conns:
            c.close()


def doc(good, wrong, unknown, mute):
    def svc(code, ports, pipeline=1, timeout=5000, retries=0):
        return {"code": code, "name": code, "provider": "S110000Y70P",
                "upstreams": [f"https://127.0.0.1:{p}/card" for p in ports],
                "timeoutMs": timeout, "retries": retries, "pipeline": pipeline}

    services = [svc("S110000Y70PYTjb", [good], 4), svc("S110000Y70PNAME", [wrong]),
                svc("S110000Y70PUNCA", [unknown]),
                svc("S110000Y70PMUTE", [mute, good], timeout=300, retries=1)]
    return one_caller_registry(services)


@pytest.fixture(scope="module")
def env(module_harness):
    h = module_harness
    trusted, wrong_name, unknown, ca = h.certs("provider.example")
    provs = [h.provider(tls=tls_context(*c)) for c in (trusted, wrong_name, unknown)]
    mute = Mute(h)
    node = h.node(extra=f"[upstream]\nca_file = {ca}\nbreaker_failures = 1000\n")
    node.import_registry(doc(*(p.port for p in provs), mute.port))
    yield {"tmp": h.tmp, "node": node, "provs": provs, "ca": ca, "unknown": unknown,
           "mute": mute}
    assert node.stop() == 0


def test_trusted_provider_answers_relayed(env):
    node, tmp = env["node"], env["tmp"]
    raws = [sign(tmp).encode() for _ in range(8)]
    assert node.post(raws[0]) == (200, "application/json", PROVIDER_BODY)
    out = [None] * len(raws)

    def one(i):
        out[i] = node.post(raws[i])

    threads = [threading.Thread(target=one, args=(i,)) for i in range(1, len(raws))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert out[1:] == [(200, "application/json", PROVIDER_BODY)] * (len(raws) - 1)
    assert len(env["provs"][0].received) == len(raws)


def test_untrusted_providers_refused_before_any_byte(env):
    node, tmp = env["node"], env["tmp"]
    expect(node, sign(tmp, service="S110000Y70PNAME"), "20", "provider TLS handshake failed")
    node.wait_log(r"event=upstream_failed .*tls=\"certificate: IP address mismatch\"", 5)
    expect(node, sign(tmp, service="S110000Y70PUNCA"), "20", "provider TLS handshake failed")
    node.wait_log(r"event=upstream_failed .*tls=\"certificate: self-signed certificate\"", 5)
    assert env["provs"][1].received == [] and env["provs"][2].received == []


def test_handshake_without_answer_tries_the_next_url(env):
    # the first URL takes the connection and never answers the handshake:
    # nothing went out, so at its timeout the call goes to the next URL
    node, tmp = env["node"], env["tmp"]
    for _ in range(4):
        status, ctype, body = node.post(sign(tmp, service="S110000Y70PMUTE").encode())
        assert (status, body) == (200, PROVIDER_BODY)
    assert len(env["mute"].conns) >= 1


def test_sighup_reads_the_ca_file_again(env):
    node, tmp = env["node"], env["tmp"]
    with open(env["ca"], "a") as f:
        f.write(open(env["unknown"][0]).read())
    node.send_signal(signal.SIGHUP)
    node.wait_log("event=reloaded", 10)
    status, ctype, body = node.post(sign(tmp, service="S110000Y70PUNCA").encode())
    assert (status, body) == (200, PROVIDER_BODY)


def test_ca_file_not_pem_stops_the_start(tmp_path):
    bad = tmp_path / "ca.pem"
    bad.write_text("not a certificate\n")
    conf = tmp_path / "node.conf"
    conf.write_text(f"[node]\nsystem_code = B100000N0D1\narea = 100000\n"
                    f"data_dir = {tmp_path}/data\n[http]\nlisten = 127.0.0.1:0\n"
                    f"[upstream]\nca_file = {bad}\n")
    r = subprocess.run([NODE, "--config", str(conf)], capture_output=True, text=True, timeout=30)
    assert r.returncode == 2
    assert f"{bad}: not a PEM file of certificates" in r.stderr
