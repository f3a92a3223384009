"""
tests/integration/test_node_upstream_pipeline.py - a service's "pipeline"
setting on the real hrss-node: calls to the same upstream that start
together go out pipelined on one connection, in one write, and each caller
gets its own answer. The provider is a raw HTTP/1.1 server on 127.0.0.1
that reads pipelined requests and records how many arrived in each read;
it answers each request with the request's nonce, so a mix-up would show.

To make calls start together without relying on timing, the node is
stopped (SIGSTOP) while the clients write their requests and continued
(SIGCONT): its workers then find them all ready at once.

Provoked: batching (and none with pipeline 1), an answer saying
"Connection: close" in the middle of a batch (the rest are sent again and
answered, each processed once), a provider that resets the connection after
the first answer (the rest are refused with 20, none sent twice), and a
call of a batch that times out while the one behind it, of another service
with a longer timeout, still gets its answer. No assertion on timings;
every loop is bounded in count and time.
"""
import http.client
import json
import os
import signal
import socket
import struct
import threading
import time

import pytest

from conftest import one_caller_registry, resign, sign


class PipeProvider:
    """Reads pipelined requests; for each read, records how many complete
    requests it held (per path). Paths: /echo and /echo1 answer every
    request at once; /close answers the third request on a connection with
    "Connection: close" and closes (later requests unread); /reset answers
    the first request on a connection, then resets it; /ordered answers in
    order, the first request of each read after a second."""

    def __init__(self, h):
        self.lock = threading.Lock()
        self.chunks = {}      # path -> [requests per read]
        self.processed = []   # (path, nonce) of every request answered or acted on
        self.conns = 0
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.port = self.sock.getsockname()[1]
        self.stopping = False
        h.own(self, self.stop)
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.stopping:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.conns += 1
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    @staticmethod
    def _split(buf):
        """Complete requests at the start of buf: [(path, body)], rest."""
        out = []
        while True:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return out, buf
            head = buf[:end].decode("latin-1").split("\r\n")
            n = 0
            for h in head[1:]:
                k, _, v = h.partition(":")
                if k.strip().lower() == "content-length":
                    n = int(v)
            if len(buf) < end + 4 + n:
                return out, buf
            out.append((head[0].split()[1], buf[end + 4:end + 4 + n]))
            buf = buf[end + 4 + n:]

    @staticmethod
    def _answer(nonce, close=False):
        body = json.dumps({"header": {"serviceCode": "S110000Y70PYTjb", "commStatus": "00"},
                           "body": {"nonce": nonce}}).encode()
        return (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" +
                (b"Connection: close\r\n" if close else b"") +
                b"Content-Length: %d\r\n\r\n" % len(body) + body)

    def _serve(self, c):
        buf, served = b"", 0
        c.settimeout(30)
        try:
            while True:
                data = c.recv(65536)
                if not data:
                    return
                reqs, buf = self._split(buf + data)
                if reqs:
                    with self.lock:
                        self.chunks.setdefault(reqs[0][0], []).append(len(reqs))
                for i, (path, body) in enumerate(reqs):
                    nonce = json.loads(body)["header"]["nonce"]
                    served += 1
                    with self.lock:
                        self.processed.append((path, nonce))
                    if path == "/close" and served == 3:
                        c.sendall(self._answer(nonce, close=True))
                        return  # what followed is not read, not processed
                    if path == "/reset" and served == 2:
                        with self.lock:
                            self.processed.pop()  # not answered: reset first
                        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                     struct.pack("ii", 1, 0))
                        return
                    if path == "/ordered" and i == 0:
                        time.sleep(1.0)
                    c.sendall(self._answer(nonce))
        except OSError:
            pass
        finally:
            c.close()

    def stop(self):
        self.stopping = True
        self.sock.close()


def doc(port):
    up = f"http://127.0.0.1:{port}"

    def svc(code, path, pipeline, timeout=5000, retries=1):
        return {"code": code, "name": code, "provider": "S110000Y70P",
                "upstreams": [up + path], "timeoutMs": timeout, "retries": retries,
                "pipeline": pipeline}

    services = [svc("S110000Y70PYTjb", "/echo", 8), svc("S110000Y70PONE1", "/echo1", 1),
                svc("S110000Y70PCLOS", "/close", 8), svc("S110000Y70PREST", "/reset", 8),
                svc("S110000Y70PSLOA", "/ordered", 8, timeout=300),
                svc("S110000Y70PFSTB", "/ordered", 8, timeout=5000)]
    return one_caller_registry(services)


@pytest.fixture(scope="module")
def env(module_harness):
    h = module_harness
    provider = PipeProvider(h)
    # one worker: calls that start together meet in one event loop
    node = h.node(extra="[upstream]\nbreaker_failures = 1000\n", workers=1)
    node.import_registry(doc(provider.port))
    templates = {}
    state = {"tmp": h.tmp, "node": node, "provider": provider, "templates": templates,
             "seq": [0]}
    yield state
    assert node.stop() == 0


def request(env, service, tag=""):
    """A request to service with a nonce of its own (tag marks it)."""
    t = env["templates"]
    if service not in t:
        t[service] = sign(env["tmp"], service=service)
    env["seq"][0] += 1
    nonce = f"{tag}{env['seq'][0]:08d}".ljust(24, "n")[:24]
    return nonce, resign(t[service], nonce)


def http_read(s, parse=True):
    """One HTTP/1.1 answer (Content-Length framed) from socket s, its JSON
    body parsed."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = s.recv(65536)
        if not d:
            raise ConnectionError(buf)
        buf += d
    head, _, rest = buf.partition(b"\r\n\r\n")
    n = int([h.split(b":")[1] for h in head.split(b"\r\n")
             if h.lower().startswith(b"content-length:")][0])
    while len(rest) < n:
        d = s.recv(65536)
        if not d:
            raise ConnectionError(buf)
        rest += d
    assert head.startswith(b"HTTP/1.1 200 "), (head, rest)
    return json.loads(rest[:n]) if parse else rest[:n]


def post_raw(raw):
    return (b"POST /api/v1/transaction HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(raw) + raw)


def stopped(pid):
    """Waits (at most 5 s) until every thread of pid has stopped: kill()
    returns before the stop takes effect."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        states = []
        for t in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{t}/stat") as f:
                    states.append(f.read().rsplit(")", 1)[1].split()[0])
            except OSError:
                pass
        if states and all(st in "tT" for st in states):
            return
        time.sleep(0.005)
    raise AssertionError("the node did not stop")


def burst(env, reqs):
    """Sends every request of reqs [(nonce, raw)] on its own connection while
    the node is stopped, continues it, and returns the answers in order."""
    node = env["node"]
    socks = []
    for _ in reqs:
        s = socket.create_connection(("127.0.0.1", node.port), timeout=20)
        socks.append(s)
    # every connection accepted before the stop: one health check on each
    for s in socks:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        http_read(s, parse=False)
    node.send_signal(signal.SIGSTOP)
    stopped(node.pid)
    try:
        for s, (_, raw) in zip(socks, reqs):
            s.sendall(post_raw(raw))
    finally:
        node.send_signal(signal.SIGCONT)
    out = [http_read(s) for s in socks]
    for s in socks:
        s.close()
    return out


def batch_metrics(node):
    """hrss_node_upstream_batch_calls from /metrics: bucket label, sum, count."""
    c = http.client.HTTPConnection("127.0.0.1", node.port, timeout=10)
    c.request("GET", "/metrics")
    text = c.getresponse().read().decode()
    c.close()
    out = {}
    for line in text.splitlines():
        if line.startswith("hrss_node_upstream_batch_calls"):
            name, value = line.rsplit(" ", 1)
            key = name.split("{", 1)[1].rstrip("}") if "{" in name else name.rsplit("_", 1)[1]
            out[key] = int(value)
    return out


def test_calls_that_start_together_share_one_write(env):
    p = env["provider"]
    before = batch_metrics(env["node"])
    for service, path in (("S110000Y70PYTjb", "/echo"), ("S110000Y70PONE1", "/echo1")):
        reqs = [request(env, service, "b") for _ in range(40)]
        answers = burst(env, reqs)
        # each caller got the provider's answer to its own request
        assert [a["body"]["nonce"] for a in answers] == [n for n, _ in reqs]
        with p.lock:
            chunks = list(p.chunks[path])
        if path == "/echo":  # batches: more than one request in a read, at most 8
            assert max(chunks) >= 2 and max(chunks) <= 8, chunks
        else:  # pipeline 1: one request on a connection at a time
            assert max(chunks) == 1, chunks
        assert sum(chunks) == 40
    # the metrics tell the calls that shared a write from those that went alone
    d = {k: v - before[k] for k, v in batch_metrics(env["node"]).items()}
    assert d["count"] == 80 and d['le="8"'] == 80 and 40 <= d['le="1"'] < 80, d
    assert d["sum"] > d["count"]


def test_close_in_a_batch_sends_the_rest_again(env):
    p = env["provider"]
    reqs = [request(env, "S110000Y70PCLOS", "c") for _ in range(6)]
    answers = burst(env, reqs)
    assert [a["body"]["nonce"] for a in answers] == [n for n, _ in reqs]
    with p.lock:
        chunks = list(p.chunks["/close"])
        done = [n for path, n in p.processed if path == "/close"]
    assert max(chunks) >= 4, chunks  # requests went out behind the one answered with close
    assert sorted(done) == sorted(n for n, _ in reqs)  # each processed exactly once


def test_reset_in_a_batch_fails_the_rest_once(env):
    p = env["provider"]
    node = env["node"]
    reqs = [request(env, "S110000Y70PREST", "r") for _ in range(6)]
    answers = burst(env, reqs)
    with p.lock:
        chunks = list(p.chunks["/reset"])
    # in each read, the first request is answered, then the connection reset
    assert max(chunks) >= 2, chunks
    answered = [a for a, (nonce, _) in zip(answers, reqs)
                if a.get("body", {}).get("nonce") == nonce]
    failed = [a for a in answers
              if (a["header"]["commStatus"], a["header"].get("msg")) ==
              ("20", "provider connection failed")]
    assert len(answered) == len(chunks) and len(failed) == 6 - len(chunks), answers
    # they reached the provider: none is sent again
    assert sum(chunks) == 6
    node.wait_log("event=upstream_failed .*result=3", 5)


def test_timeout_in_a_batch_keeps_the_answers_behind_it(env):
    p = env["provider"]
    # whichever of the two is first in the batch, its answer comes after a
    # second: the 300 ms call times out while the other is still waited for
    slow_n, slow = request(env, "S110000Y70PSLOA", "slow")
    fast_n, fast = request(env, "S110000Y70PFSTB", "fast")
    answers = burst(env, [(slow_n, slow), (fast_n, fast)])
    assert (answers[0]["header"]["commStatus"], answers[0]["header"]["msg"]) == \
        ("20", "provider timeout after 300 ms")
    assert answers[1]["body"]["nonce"] == fast_n  # its own answer, not the late one
    with p.lock:
        chunks = list(p.chunks["/ordered"])
    assert chunks == [2], chunks  # both went out in one write
