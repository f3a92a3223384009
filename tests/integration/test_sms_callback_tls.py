"""
tests/integration/test_sms_callback_tls.py - delivery reports pushed to
https:// callback URLs: the business system's certificate is verified
against [callback] ca_file (or the system's store) and must name the host
or IP address of the URL; a push to a server whose certificate is not
trusted fails and is retried, and nothing reaches that server's handler.
Certificates are made with the openssl command line; the servers are
Python's ssl module on 127.0.0.1; the carrier is the CMPP simulator.
"""
import http.server
import json
import os
import ssl
import subprocess
import sys
import tempfile
import threading
import time

from test_sms_api import Sms

SRC = os.environ.get("HRSS_SOURCE_DIR", ".")
sys.path.insert(0, os.path.join(SRC, "tests", "sim"))
from carrier_harness import Sim  # noqa: E402

WAIT = 30


def make_cert(d, name, san):
    key, crt = os.path.join(d, name + ".key"), os.path.join(d, name + ".pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", crt, "-days", "2",
                    "-subj", "/CN=hrss test callback", "-addext", "subjectAltName=" + san],
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


class TlsSink:
    """An HTTPS server that records the reports pushed to it."""

    def __init__(self, crt, key):
        sink = self
        self.got = []
        self.lock = threading.Lock()

        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length", 0))
                with sink.lock:
                    sink.got.append(json.loads(self.rfile.read(n)))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(crt, key)
        self.srv.socket = ctx.wrap_socket(self.srv.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.srv.server_address[1]}/sms/report"
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


def test_https_callbacks_verified():
    with tempfile.TemporaryDirectory() as tmp:
        trusted, wrong_name, unknown, ca = make_certs(tmp, "reports.example")
        good, bad_name, bad_ca = TlsSink(*trusted), TlsSink(*wrong_name), TlsSink(*unknown)
        sim = Sim("cmpp", "--report-delay", "0.02")
        s = None
        try:
            s = Sms(tmp, start=False, extra=(
                f"[callback]\nca_file = {ca}\nbackoff = 100ms\nretries = 2\ntimeout = 2s\n"
                f"[carrier cm]\nprotocol = cmpp\nhost = 127.0.0.1\nport = {sim.port}\n"
                "account = 900001\nsecret = 888888\nsrc_addr = 10658012333\n"
                "operators = mobile, unicom, telecom\n"))
            s.add_account("app1", callback=good.url)
            s.add_account("app2", callback=bad_name.url)
            s.add_account("app3", callback=bad_ca.url)
            os.chmod(s.conf, 0o600)  # as operations.md says: no warning then
            s.start()
            assert not any("event=config_readable" in x for x in s.log())
            s.wait_log("event=carrier_link carrier=cm up=1", WAIT)
            r1 = s.send(mobile="13800138000", content="挂失已办结", clientMsgId="tls-1")
            r2 = s.send(appName="app2", mobile="13800138001", content="通知")
            r3 = s.send(appName="app3", mobile="13800138002", content="通知")
            assert r1["code"] == r2["code"] == r3["code"] == 1
            end = time.monotonic() + WAIT
            while time.monotonic() < end and not good.got:
                time.sleep(0.05)
            assert good.got and good.got[0]["clientMsgId"] == "tls-1"
            assert good.got[0]["state"] == "delivered"
            # the other two fail every attempt: wrong name, unknown issuer
            for r in (r2, r3):
                msg = r["results"][0]["msgId"]
                s.wait_log(rf"event=push_failed msg={msg} attempt=2", WAIT)
            assert bad_name.got == [] and bad_ca.got == []
        finally:
            if s is not None and s.proc is not None:
                s.stop()
            sim.stop()
            for x in (good, bad_name, bad_ca):
                x.close()
