"""Test harness of the carrier links: starts a simulator (smsc.py or the
Net::SMPP one) and the carrier-probe driver, talks to both, and stops them.
Started and stopped through the harness of tests/integration/conftest.py.
Waits are bounded (the simulator's first line too) so that a broken build
fails a test instead of hanging it; nothing asserts speed."""
import json
import os
import queue
import socket
import subprocess
import sys
import threading
import time

SRC = os.environ.get("HRSS_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("HRSS_BUILD_DIR", os.path.join(SRC, "build"))
PROBE = os.path.join(BUILD, "carrier-probe")
SIM = os.path.join(SRC, "tests", "sim", "smsc.py")
WAIT = 20.0  # upper bound of any single wait


class Sim:
    def __init__(self, protocol, *args, cmd=None):
        argv = cmd or [sys.executable, SIM, "--protocol", protocol, "--lifetime", "300"]
        self.p = subprocess.Popen(list(argv) + list(args), stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True)
        self.ctl = None
        self.out = queue.Queue()
        self.seen = []
        # read what the simulator prints so that it never blocks on a pipe
        threading.Thread(target=self._drain, daemon=True).start()
        try:  # its first line says where it listens, within WAIT
            line = self.out.get(timeout=WAIT) or ""
        except queue.Empty:
            line = ""
        if not line.startswith("READY"):
            self.p.kill()
            self.p.wait()
            rest = []
            while (x := self.out.get(timeout=WAIT)) is not None:
                rest.append(x)
            raise RuntimeError("simulator did not start: %r %s" % (line, "\n".join(rest)))
        kv = dict(x.split("=") for x in line.split()[1:])
        self.port = int(kv["port"])
        self.control_port = int(kv.get("control", 0))

    def _drain(self):
        for line in self.p.stdout:
            self.out.put(line.rstrip("\n"))
        self.out.put(None)

    def next_line(self, pred, what):
        """The next line the simulator printed that satisfies pred."""
        end = time.monotonic() + WAIT
        while True:
            left = end - time.monotonic()
            if left <= 0:
                raise AssertionError("simulator never printed: %s\n%s" % (what, "\n".join(self.seen)))
            try:
                line = self.out.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                raise AssertionError("simulator exited waiting for %s\n%s" % (what, "\n".join(self.seen)))
            self.seen.append(line)
            if pred(line):
                return line

    def control(self, **req):
        if self.ctl is None:
            s = socket.create_connection(("127.0.0.1", self.control_port), timeout=WAIT)
            self.ctl = (s, s.makefile("r"))
        self.ctl[0].sendall(json.dumps(req).encode() + b"\n")
        return json.loads(self.ctl[1].readline())

    def stats(self):
        return self.control(cmd="stats")

    def wait_stats(self, pred, what):
        end = time.monotonic() + WAIT
        while time.monotonic() < end:
            st = self.stats()
            if pred(st):
                return st
            time.sleep(0.05)
        raise AssertionError("simulator never reached: %s (%s)" % (what, self.stats()))

    def stop(self):
        if self.ctl:
            self.ctl[0].close()
        self.p.kill()
        self.p.wait()


class Probe:
    def __init__(self, protocol, port, *args):
        self.p = subprocess.Popen([PROBE, "--protocol", protocol, "--port", str(port)] +
                                  [str(a) for a in args], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.q = queue.Queue()
        self.lines = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.p.stdout:
            self.q.put(line.rstrip("\n"))
        self.q.put(None)

    def send(self, line):
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()

    def next(self, pred, what):
        """The first line not seen before that satisfies pred (earlier lines
        are kept in self.lines)."""
        end = time.monotonic() + WAIT
        while True:
            left = end - time.monotonic()
            if left <= 0:
                raise AssertionError("probe never printed: %s\n%s" % (what, "\n".join(self.lines[-30:])))
            try:
                line = self.q.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                raise AssertionError("probe exited waiting for %s\n%s" % (what, "\n".join(self.lines[-30:])))
            self.lines.append(line)
            if pred(line):
                return line

    def wait_link(self, n):
        return self.next(lambda l: l == "link %d" % n, "link %d" % n)

    def submit(self, ref, dest, ud=b"", ext="-", coding=0, udh=0, report=1):
        self.send("submit %d %s %s %d %d %d %s" % (ref, dest, ext, coding, udh, report,
                                                   ud.hex() or "-"))
        return self.next(lambda l: l.startswith("submit %d " % ref), "submit %d" % ref)

    def results(self, refs):
        """Waits for on_submit_result of every ref: {ref: (status, msgid)}."""
        got = {}
        for line in self.lines:
            if line.startswith("result "):
                _, r, st, mid = line.split()
                got[int(r)] = (int(st), mid)
        while not set(refs) <= set(got):
            line = self.next(lambda l: l.startswith("result "), "results of %s (have %s)" % (refs, sorted(got)))
            _, r, st, mid = line.split()
            got[int(r)] = (int(st), mid)
        return got

    def reports(self, msgids):
        """Waits for a report of every msgid: {msgid: (ok, stat, dest)}."""
        got = {}
        for line in self.lines:
            if line.startswith("report "):
                _, m, ok, stat, dest = line.split()
                got[m] = (int(ok), stat, dest)
        while not set(msgids) <= set(got):
            line = self.next(lambda l: l.startswith("report "), "reports of %s" % (set(msgids) - set(got)))
            _, m, ok, stat, dest = line.split()
            got[m] = (int(ok), stat, dest)
        return got

    def stats(self):
        self.send("stats")
        line = self.next(lambda l: l.startswith("stats "), "stats")
        return {k: int(v) for k, v in (x.split("=") for x in line.split()[1:])}

    def wait_stats(self, pred, what):
        end = time.monotonic() + WAIT
        while time.monotonic() < end:
            st = self.stats()
            if pred(st):
                return st
            time.sleep(0.05)
        raise AssertionError("probe never reached: %s (%s)" % (what, self.stats()))

    def stop(self):
        try:
            self.send("quit")
            self.p.wait(timeout=5)
        except (BrokenPipeError, subprocess.TimeoutExpired, ValueError):
            self.p.kill()
            self.p.wait()
        return self.p.returncode

