"""
tests/integration/test_harness.py - the harness of conftest.py stops what it
started when a fixture fails half-way. An inner pytest session runs three
tests with this directory's conftest.py: a function fixture that fails
after starting hrss-node and hrss-demo-provider; a module fixture that
starts both and then a program whose readiness wait fails; and, as the
control that proves the check can see a leak, a test that starts a
program without the harness. After the inner session has ended, every
process the harness started is gone, none runs with the harness's
directories on its command line, and the directories are removed; the
control program still runs (and is stopped here).
"""
import os
import shutil
import signal
import subprocess
import sys
import textwrap

INNER = textwrap.dedent('''
    import os
    import subprocess
    import sys

    import pytest

    def record(*items):
        with open(os.environ["HRSS_HARNESS_RECORD"], "a") as f:
            f.write("".join(f"{x}\\n" for x in items))

    SLEEPER = [sys.executable, "-c", "import time; time.sleep(300)"]

    @pytest.fixture
    def half(harness):
        record(f"tmp {harness.tmp}")
        node = harness.node()
        demo = harness.demo_provider()
        record(f"pid {node.pid}", f"pid {demo.pid}")
        raise AssertionError("this fixture fails after starting a node and a provider")

    @pytest.fixture(scope="module")
    def platform(module_harness):
        h = module_harness
        record(f"tmp {h.tmp}")
        demo = h.demo_provider()
        node = h.node()
        never = h.daemon(SLEEPER + [h.tmp])
        record(f"pid {demo.pid}", f"pid {node.pid}", f"pid {never.pid}")
        never.wait_log("event=started", timeout=1)  # fails: it never says so
        yield

    def test_function_fixture(half):
        pass

    def test_module_fixture(platform):
        pass

    def test_control_without_harness():
        p = subprocess.Popen(SLEEPER + ["hrss-harness-control"])
        record(f"leak {p.pid}")
''')


def cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return None


def alive(pid):
    """pid runs and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_a_fixture_failing_half_way_leaves_nothing_running(harness):
    inner = harness.dir("inner")
    here = os.path.dirname(os.path.abspath(__file__))
    shutil.copy(os.path.join(here, "conftest.py"), inner)
    with open(os.path.join(inner, "test_inner.py"), "w") as f:
        f.write(INNER)
    record = harness.path("record")
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                        "--rootdir", inner, inner], capture_output=True, text=True,
                       timeout=300, env=dict(os.environ, HRSS_HARNESS_RECORD=record))
    out = r.stdout + r.stderr
    with open(record) as f:
        rows = [line.split(" ", 1) for line in f.read().splitlines()]
    tmps = [v for k, v in rows if k == "tmp"]
    pids = [int(v) for k, v in rows if k == "pid"]
    leaks = [int(v) for k, v in rows if k == "leak"]
    try:
        # both fixtures failed during setup; the control test passed
        assert r.returncode == 1, out
        assert "1 passed, 2 errors" in out, out
        assert "this fixture fails after starting a node and a provider" in out, out
        assert "no log line /event=started/ within 1s" in out, out
        assert len(tmps) == 2 and len(pids) == 5 and len(leaks) == 1, rows
        # the control: a program started without the harness is still there
        assert alive(leaks[0]) and "hrss-harness-control" in cmdline(leaks[0])
        # everything the harness started is gone, its directories too
        assert [p for p in pids if alive(p)] == [], [cmdline(p) for p in pids]
        for t in tmps:
            assert not os.path.exists(t), t
        left = []
        for p in os.listdir("/proc"):
            if p.isdigit() and alive(int(p)):
                c = cmdline(int(p)) or ""
                if any(t in c for t in tmps):
                    left.append(c)
        assert left == [], left
    finally:
        for p in leaks:
            if alive(p) and "hrss-harness-control" in (cmdline(p) or ""):
                os.kill(p, signal.SIGKILL)
