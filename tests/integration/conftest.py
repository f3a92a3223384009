"""
tests/integration/conftest.py - the one harness of the integration tests.

Every daemon and helper an integration test needs is started through a
Harness: hrss-node, hrss-demo-provider, hrss-sms, programs such as the SDK
examples, the carrier simulators and carrier-probe of tests/sim,
redis-server, Python providers and report sinks on 127.0.0.1, and
certificates made with the openssl command line. The harness owns a
temporary directory and remembers each thing it started *before* waiting
for it to be ready, so that its close stops all of them (newest first) even
when a fixture or a start fails half-way; then the directory is removed
(kept when HRSS_KEEP_TMP is set). Tests take the `harness` fixture (one per
test) or `module_harness` (one per module, for module-scoped fixtures).

The source and build directories come from HRSS_SOURCE_DIR and
HRSS_BUILD_DIR when ctest runs the tests, otherwise from where this file
lies (build/ under the repository), so `pytest tests/integration` from the
repository root works on a built tree. Every wait is bounded in time;
nothing here asserts speed.
"""
import http.client
import http.server
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.abspath(os.environ.get("HRSS_SOURCE_DIR") or os.path.join(HERE, "..", ".."))
BUILD = os.path.abspath(os.environ.get("HRSS_BUILD_DIR") or os.path.join(SRC, "build"))
# what the children and tests/sim/carrier_harness.py read
os.environ["HRSS_SOURCE_DIR"] = SRC
os.environ["HRSS_BUILD_DIR"] = BUILD
NODE = os.environ.get("HRSS_NODE_BIN", os.path.join(BUILD, "hrss-node"))
HRSS = os.environ.get("HRSS_BIN", os.path.join(BUILD, "hrss"))
SMS = os.environ.get("HRSS_SMS_BIN", os.path.join(BUILD, "hrss-sms"))
DEMO = os.environ.get("HRSS_DEMO_PROVIDER_BIN", os.path.join(BUILD, "hrss-demo-provider"))

sys.path.insert(0, os.path.join(SRC, "tests", "sim"))
from carrier_harness import Probe, Sim  # noqa: E402

WAIT = 30                      # upper bound of a wait for a link, a report, a reply
NODE_CODE = "B100000N0D1"      # the node's own system code
CALLER = "B100000KJGK"         # the test caller of the node (hmac-sm3)
SECRET = "0123456789abcdef0123"  # its secret
PROVIDER = "S110000Y70P"       # the test provider system
PASSWORD = "s3cret-pass"       # hrss-sms accounts' password
PROVIDER_BODY = ('{"header":{"serviceCode":"S110000Y70PYTjb","appCode":"B100000KJGK",'
                 '"commStatus":"00"},  "body": {"data": {"状态": "正常"}}}\n').encode()


def built(path):
    """path, or a test failure saying how to build it."""
    if not os.access(path, os.X_OK):
        pytest.fail(f"{path} is not built: cmake --preset release && "
                    "cmake --build --preset release (or set HRSS_BUILD_DIR)", pytrace=False)
    return path


def free_port():
    """A TCP port of 127.0.0.1 that nothing listened on a moment ago."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# --- the harness -------------------------------------------------------------

class Harness:
    """A temporary directory and everything started for one test or module."""

    def __init__(self, prefix):
        self.tmp = tempfile.mkdtemp(prefix=f"hrss-{prefix}-")
        self._owned = []  # (thing, how to stop it), in start order

    def own(self, thing, stop=None):
        """Remembers thing; close() calls stop (default thing.reap) on it."""
        self._owned.append((thing, stop or thing.reap))
        return thing

    def path(self, *parts):
        return os.path.join(self.tmp, *parts)

    def dir(self, name):
        """A new directory under tmp: name, or name-2, name-3... if taken."""
        d, n = self.path(name), 1
        while os.path.exists(d):
            n += 1
            d = self.path(f"{name}-{n}")
        os.makedirs(d)
        return d

    def close(self):
        """Stops everything, newest first; every stop is tried even if one
        fails. Raises the first failure after removing the directory."""
        errors = []
        while self._owned:
            thing, stop = self._owned.pop()
            try:
                stop()
            except Exception as e:  # noqa: BLE001 - keep stopping the others
                errors.append(f"{thing!r}: {e!r}")
        if not os.environ.get("HRSS_KEEP_TMP"):
            shutil.rmtree(self.tmp, ignore_errors=True)
        if errors:
            raise AssertionError("harness cleanup failed:\n" + "\n".join(errors))

    # --- what it starts ---
    def daemon(self, argv, env=None):
        """Any program, its stderr collected (see Daemon)."""
        return Daemon(self, argv, env).start()

    def node(self, **kw):
        return Node(self, **kw)

    def demo_provider(self, **kw):
        return DemoProvider(self, **kw)

    def sms(self, **kw):
        return Sms(self, **kw)

    def sim(self, protocol, *args, cmd=None):
        """A carrier simulator of tests/sim (smsc.py, or cmd)."""
        sim = Sim(protocol, *args, cmd=cmd)

        def stop():
            if sim.ctl:
                sim.ctl[0].close()
            reap_popen(sim.p)
        return self.own(sim, stop)

    def probe(self, protocol, port, *args):
        """carrier-probe, the test driver of the carrier links."""
        built(os.path.join(BUILD, "carrier-probe"))
        p = Probe(protocol, port, *args)
        return self.own(p, lambda: reap_popen(p.p))

    def redis(self, password, port=None):
        return Redis(self, password, port)

    def provider(self, port=0, tls=None):
        return HttpProvider(self, port, tls)

    def sink(self, cert=None, fail_first=0):
        return ReportSink(self, cert, fail_first)

    def cert(self, name, san="IP:127.0.0.1"):
        return make_cert(self.tmp, name, san)

    def certs(self, wrong_dns):
        return make_certs(self.tmp, wrong_dns)


@pytest.fixture
def harness(request):
    h = Harness(request.node.name[:40].replace("/", "_"))
    yield h
    h.close()


@pytest.fixture(scope="module")
def module_harness(request):
    h = Harness(request.module.__name__)
    yield h
    h.close()


def reap_popen(p, grace=0):
    """Stops the process p if it still runs (SIGTERM and grace seconds, then
    SIGKILL) and waits for it."""
    if p.poll() is None and grace:
        p.terminate()
        try:
            p.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
    if p.poll() is None:
        p.kill()
    p.wait(timeout=30)


# --- processes ---------------------------------------------------------------

class Daemon:
    """A program whose stderr lines are collected by a thread. start() may be
    called again once it has stopped (a restart)."""

    def __init__(self, h, argv, env=None):
        self.h = h
        self.argv = list(argv)
        self.env = env
        self.proc = None
        self.reader = None
        self.lines = []
        self.lock = threading.Lock()
        h.own(self)

    def __repr__(self):
        return f"<{type(self).__name__} {os.path.basename(self.argv[0])}>"

    def start(self):
        built(self.argv[0]) if os.sep in self.argv[0] else None
        with self.lock:
            self.lines = []
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True, encoding="utf-8",
                                     errors="replace", env=self.env)
        self.reader = threading.Thread(target=self._read, args=(self.proc,), daemon=True)
        self.reader.start()
        return self

    def _read(self, proc):
        for line in proc.stderr:
            with self.lock:
                self.lines.append(line.rstrip("\n"))

    @property
    def pid(self):
        return self.proc.pid

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def log(self):
        """The lines written so far (since the last start)."""
        with self.lock:
            return list(self.lines)

    def mark(self):
        """A position in the log for wait_log(..., after=mark)."""
        return len(self.log())

    def wait_match(self, pattern, timeout=10, after=0):
        """The match of the first line from after on that matches pattern;
        fails after timeout seconds or once the program has exited."""
        deadline = time.monotonic() + timeout
        while True:
            done = self.proc.poll() is not None and not self.reader.is_alive()
            for line in self.log()[after:]:
                m = re.search(pattern, line)
                if m:
                    return m
            if done or time.monotonic() >= deadline:
                break
            time.sleep(0.02)
        raise AssertionError(f"{self!r}: no log line /{pattern}/ within {timeout}s"
                             f"{' (exited %s)' % self.proc.returncode if done else ''}:\n" +
                             "\n".join(self.log()))

    def wait_log(self, pattern, timeout=10, after=0):
        """The first line from after on that matches pattern (see wait_match)."""
        return self.wait_match(pattern, timeout, after).string

    def send_signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, sig=signal.SIGTERM, timeout=15):
        """Sends sig if it runs and returns its exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            self.reader.join(timeout=5)

    def kill(self):
        """SIGKILL, as a crash: returns once it is gone and its log read."""
        return self.stop(signal.SIGKILL)

    def reap(self):
        if self.proc is not None:
            reap_popen(self.proc)
            self.reader.join(timeout=5)


def _listen_port(d, proto="http"):
    line = d.wait_log(f"event=listening proto={proto} ", 10)
    return int(re.search(r"addr=\S+:(\d+)", line).group(1))


class Node(Daemon):
    """hrss-node with a configuration of its own in a new directory under the
    harness's: [node] (workers, drain 5 s), [http] on 127.0.0.1:0 plus
    http_extra, [https] with a new certificate (cert, key) if https, then
    extra."""

    def __init__(self, h, extra="", workers=2, http_extra="", https=False, name="node",
                 start=True):
        self.tmp = h.dir(name)
        self.data = os.path.join(self.tmp, "data")
        self.conf = os.path.join(self.tmp, "node.conf")
        text = (f"[node]\nsystem_code = {NODE_CODE}\narea = 100000\n"
                f"data_dir = {self.data}\nworkers = {workers}\ndrain_timeout = 5s\n"
                "[http]\nlisten = 127.0.0.1:0\n" + http_extra + extra)
        self.cert = self.key = None
        if https:
            self.cert, self.key = make_cert(self.tmp, "tls")
            text += f"[https]\nlisten = 127.0.0.1:0\ncert = {self.cert}\nkey = {self.key}\n"
        self.with_https = https
        with open(self.conf, "w") as f:
            f.write(text)
        super().__init__(h, [NODE, "--config", self.conf])
        self.port = self.https_port = None
        if start:
            self.start()

    def start(self):
        super().start()
        self.port = _listen_port(self)
        if self.with_https:
            self.https_port = _listen_port(self, "https")
        self.wait_log("event=started", 10)
        return self

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def cli(self, *args, stdin=None):
        """hrss-node --config <conf> args... (the offline commands)."""
        return subprocess.run([NODE, "--config", self.conf, *args], input=stdin,
                              capture_output=True, text=True, timeout=30)

    def get(self, path, conn=None):
        c = conn or http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        c.request("GET", path)
        r = c.getresponse()
        body = r.read().decode()
        if conn is None:
            c.close()
        return r.status, body

    def post(self, raw, path="/api/v1/transaction"):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        c.request("POST", path, body=raw, headers={"Content-Type": "application/json"})
        r = c.getresponse()
        body = r.read()
        ctype = r.getheader("Content-Type")
        c.close()
        return r.status, ctype, body

    def version(self):
        status, body = self.get("/registry/version")
        assert status == 200, body
        return json.loads(body)

    def import_registry(self, doc):
        """Imports doc; a running node serves it (as many services) within 5 s."""
        r = self.cli("registry", "import", "-", stdin=json.dumps(doc))
        assert r.returncode == 0, r.stderr
        if not self.running():
            return
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if self.version()["services"] == len(doc["services"]):
                return
            time.sleep(0.05)
        raise AssertionError("registry change not served")


class DemoProvider(Daemon):
    """hrss-demo-provider on 127.0.0.1:0 with a new SM2 key (key, pub) and
    its SQLite persons database (db). With registry (a file), its grants
    are read from there (--require-grant if asked)."""

    def __init__(self, h, registry=None, require_grant=False, state_dir=None, name="demo"):
        d = h.dir(name)
        r = subprocess.run([built(HRSS), "keygen", "sm2", "--out", os.path.join(d, "prov")],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stderr
        self.key, self.pub = os.path.join(d, "prov.key"), os.path.join(d, "prov.pub")
        self.db = os.path.join(d, "demo.db")
        argv = [DEMO, "--db", self.db, "--listen", "127.0.0.1:0", "--key", self.key,
                "--state-dir", state_dir or os.path.join(d, "state")]
        if registry:
            argv += ["--registry", registry]
        if require_grant:
            argv.append("--require-grant")
        super().__init__(h, argv)
        self.start()
        self.port = int(self.wait_match(r"event=listening port=(\d+)").group(1))

    def persons(self):
        """[aac002, name, ...] of every person in its database."""
        r = subprocess.run([DEMO, "--db", self.db, "--list"], capture_output=True, text=True,
                           check=True, timeout=30)
        return [line.split("\t") for line in r.stdout.splitlines()]


class Sms(Daemon):
    """hrss-sms with a configuration of its own ([sms] 2 workers, drain 5 s,
    [http] on 127.0.0.1:0, then extra) in a new directory under the
    harness's; data, conf and port as attributes. start=False lets accounts
    be added before it starts."""

    def __init__(self, h, extra="", start=True, name="sms"):
        self.tmp = h.dir(name)
        self.data = os.path.join(self.tmp, "data")
        self.conf = os.path.join(self.tmp, "sms.conf")
        with open(self.conf, "w") as f:
            f.write(f"[sms]\ndata_dir = {self.data}\nworkers = 2\ndrain_timeout = 5s\n"
                    "[http]\nlisten = 127.0.0.1:0\n" + extra)
        super().__init__(h, [SMS, "--config", self.conf])
        self.port = None
        if start:
            self.start()

    def start(self):
        super().start()
        self.port = _listen_port(self)
        self.wait_log("event=started", 10)
        return self

    def cli(self, *args, stdin=None):
        return subprocess.run([built(SMS), "--config", self.conf, *args], input=stdin,
                              capture_output=True, text=True, timeout=60)

    def add_account(self, app, ips="127.0.0.1", signature="【人社局】", balance=1000,
                    password=PASSWORD, callback=None):
        args = ["account", "add", app, "--ips", ips, "--signature", signature,
                "--balance", str(balance), "--iterations", "1000"]
        if callback:
            args += ["--callback", callback]
        r = self.change(*args, stdin=password + "\n")
        assert r.returncode == 0, r.stderr

    def change(self, *args, stdin=None):
        """Runs an account command and waits until the running daemon reloaded."""
        mark = self.mark()
        r = self.cli(*args, stdin=stdin)
        if r.returncode == 0 and self.running():
            self.wait_log("event=accounts_loaded reason=change", 5, mark)
        return r

    def request(self, method, path, body=None, ctype="application/json", timeout=10):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        headers = {"Content-Type": ctype} if body is not None else {}
        if isinstance(body, dict):
            body = json.dumps(body) if ctype == "application/json" else \
                urllib_encode(body)
        c.request(method, path, body=body.encode() if isinstance(body, str) else body,
                  headers=headers)
        r = c.getresponse()
        data = r.read().decode()
        c.close()
        return r.status, data

    def send(self, **fields):
        body = {"appName": "app1", "password": PASSWORD}
        body.update(fields)
        body = {k: v for k, v in body.items() if v is not None}
        status, data = self.request("POST", "/sms/send", body)
        assert status == 200, data
        return json.loads(data)

    def status(self, ids, app="app1", password=PASSWORD):
        status, data = self.request("POST", "/sms/status",
                                    {"appName": app, "password": password, "msgId": ids})
        assert status == 200, data
        return json.loads(data)

    def balance(self, app="app1"):
        out = self.cli("account", "list").stdout
        return int(re.search(rf"^{app}\t.*balance=(\d+)", out, re.M).group(1))

    def db(self):
        """A connection to its queue database (sms.db)."""
        import sqlite3
        return sqlite3.connect(os.path.join(self.data, "sms.db"))


def urllib_encode(fields):
    import urllib.parse
    return urllib.parse.urlencode(fields)


def carrier_conf(port, protocol="cmpp", name="cm", operators="mobile, unicom, telecom",
                 src_addr="10658012333", extra=""):
    """A [carrier NAME] section for a simulator on 127.0.0.1:port."""
    return (f"[carrier {name}]\nprotocol = {protocol}\nhost = 127.0.0.1\nport = {port}\n"
            f"account = 900001\nsecret = 888888\nsrc_addr = {src_addr}\n"
            f"operators = {operators}\n" + extra)


def uplink_conf(threads=2, extra=""):
    """An [uplink] section: the commands and replies of etc/, account 12333."""
    return (f"[uplink]\ncommands = {SRC}/etc/sms-commands.json\n"
            f"replies = {SRC}/etc/sms-replies.json\naccount = 12333\nthreads = {threads}\n" +
            extra)


class Redis:
    """redis-server on 127.0.0.1:port with a password and nothing on disk;
    stop() and start() again keep the port."""

    def __init__(self, h, password, port=None):
        self.password = password
        self.port = port or free_port()
        self.proc = None
        h.own(self)
        self.start()

    def start(self):
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--requirepass", self.password],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            r = subprocess.run(["redis-cli", "-p", str(self.port), "--no-auth-warning", "-a",
                                self.password, "ping"], capture_output=True, text=True,
                               timeout=10)
            if r.stdout.strip() == "PONG":
                return self
            assert self.proc.poll() is None, "redis-server exited: apt-get install redis-server"
            time.sleep(0.05)
        raise AssertionError("redis-server did not start")

    def stop(self):
        self.proc.kill()
        self.proc.wait(timeout=10)

    def reap(self):
        if self.proc is not None:
            reap_popen(self.proc)


# --- Python servers on 127.0.0.1 ----------------------------------------------

class _Server:
    """A ThreadingHTTPServer on 127.0.0.1 serving from a thread, TLS with an
    ssl.SSLContext; stop() (or the harness) shuts it down."""

    def __init__(self, h, handler, port=0, tls=None):
        http.server.ThreadingHTTPServer.daemon_threads = True
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.stopped = False
        h.own(self)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        if not self.stopped:
            self.stopped = True
            self.server.shutdown()
            self.server.server_close()

    reap = stop


def tls_context(crt, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(crt, key)
    return ctx


class HttpProvider(_Server):
    """A provider: /card answers PROVIDER_BODY, /slow sleeps 2 s first,
    /fail answers HTTP 500; received holds every request body."""

    def __init__(self, h, port=0, tls=None):
        received = self.received = []

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                received.append(self.rfile.read(n))
                if self.path == "/slow":
                    time.sleep(2)
                status, body = (500, b"no") if self.path == "/fail" else (200, PROVIDER_BODY)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except OSError:
                    pass

        super().__init__(h, Handler, port, tls)


class ReportSink(_Server):
    """A business system's callback URL (url) recording the JSON pushed to
    it in got; the first fail_first pushes are answered 503. Over HTTPS with
    cert = (crt, key)."""

    def __init__(self, h, cert=None, fail_first=0):
        sink = self
        self.got = []
        self.fail_first = fail_first
        self.lock = threading.Lock()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(n))
                with sink.lock:
                    if sink.fail_first > 0:
                        sink.fail_first -= 1
                        self.send_response(503)
                    else:
                        sink.got.append(body)
                        self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        super().__init__(h, Handler, 0, tls_context(*cert) if cert else None)
        self.url = f"{'https' if cert else 'http'}://127.0.0.1:{self.port}/sms/report"

    def wait(self, n, timeout=WAIT):
        """The pushes once there are at least n."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self.lock:
                if len(self.got) >= n:
                    return list(self.got)
            time.sleep(0.05)
        raise AssertionError(f"{len(self.got)} pushes, wanted {n}")


# --- certificates --------------------------------------------------------------

def make_cert(d, name, san="IP:127.0.0.1"):
    """A self-signed P-256 certificate for san, in d: (name.pem, name.key)."""
    key, crt = os.path.join(d, name + ".key"), os.path.join(d, name + ".pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", crt, "-days", "2",
                    "-subj", "/CN=hrss test " + name, "-addext", "subjectAltName=" + san],
                   check=True, capture_output=True, timeout=30)
    return crt, key


def make_certs(d, wrong_dns):
    """Three self-signed certificates and a CA file: "trusted" (for
    127.0.0.1) and "wrongname" (for wrong_dns) are in the CA file, "unknown"
    (for 127.0.0.1) is not. Returns (trusted, wrong_name, unknown, ca)."""
    trusted = make_cert(d, "trusted", "IP:127.0.0.1")
    wrong_name = make_cert(d, "wrongname", "DNS:" + wrong_dns)
    unknown = make_cert(d, "unknown", "IP:127.0.0.1")
    ca = os.path.join(d, "ca.pem")
    with open(ca, "w") as f:
        f.write(open(trusted[0]).read() + open(wrong_name[0]).read())
    return trusted, wrong_name, unknown, ca


# --- the node's callers ----------------------------------------------------------

def sign(tmp, service="S110000Y70PYTjb", app=CALLER, area="110000", header=None):
    """A request of the test caller signed by the real `hrss sign`
    (hmac-sm3, SECRET), its nonce state in tmp/state."""
    req = {"header": {"serviceCode": service, "appCode": app, "serviceAreaCode": area},
           "body": {"aac002": "110101199003074512"}}
    req["header"].update(header or {})
    r = subprocess.run([built(HRSS), "sign", "--profile", "hmac-sm3", "--secret", SECRET,
                        "--state-dir", os.path.join(tmp, "state")],
                       input=json.dumps(req, ensure_ascii=False), capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


def resign(template, nonce):
    """template (signed by `hrss sign`) with another nonce, signed again with
    HMAC-SM3 over the canonical string (docs/conformance.md, 7.1.1.2)."""
    import hmac
    d = json.loads(template)
    d["header"]["nonce"] = nonce
    h = {k: v for k, v in d["header"].items() if k != "signature" and v != ""}
    canon = "&".join(f"{k}={h[k]}" for k in sorted(h))
    d["header"]["signature"] = hmac.new(SECRET.encode(), canon.encode(), "sm3").hexdigest()
    return json.dumps(d, ensure_ascii=False, separators=(",", ":")).encode()


def node_answer(node, raw, path="/api/v1/transaction"):
    """A response envelope made by the node: HTTP 200, JSON, the request's
    ids, the node's own serviceResId. Returns its header."""
    status, ctype, body = node.post(raw.encode() if isinstance(raw, str) else raw, path)
    assert status == 200 and ctype == "application/json", (status, body)
    h = json.loads(body)["header"]
    req = json.loads(raw)["header"]
    assert h["serviceReqId"] == req["serviceReqId"]
    assert h["serviceResId"].startswith(NODE_CODE)
    assert re.fullmatch(r"\d{14}", h["serviceResTime"])
    return h


def expect(node, raw, comm, msg, path="/api/v1/transaction"):
    """The node answers raw itself with commStatus comm and msg."""
    h = node_answer(node, raw, path)
    assert (h["commStatus"], h["msg"]) == (comm, msg)


def card_node(harness, **kw):
    """A node (harness.node(**kw)) with the test caller granted one service,
    S110000Y70PYTjb, relayed to a new test provider's /card."""
    provider = harness.provider()
    node = harness.node(**kw)
    node.import_registry(one_caller_registry([
        {"code": "S110000Y70PYTjb", "name": "card", "provider": PROVIDER,
         "upstreams": [f"http://127.0.0.1:{provider.port}/card"], "timeoutMs": 3000,
         "retries": 0}]))
    return node


def one_caller_registry(services):
    """A registry of the test caller (hmac-sm3) and provider S110000Y70P,
    the given services of that provider, each granted to the caller."""
    return {
        "systems": [
            {"code": CALLER, "name": "caller", "level": "B", "area": "100000",
             "status": "active", "signature": "hmac-sm3", "secret": SECRET,
             "allowedIps": ["127.0.0.1"]},
            {"code": PROVIDER, "name": "provider", "level": "S", "area": "110000",
             "status": "active", "signature": "sm3", "allowedIps": ["0.0.0.0/0"]}],
        "services": services,
        "grants": [{"caller": CALLER, "service": s["code"], "expires": None, "revoked": False}
                   for s in services],
    }
