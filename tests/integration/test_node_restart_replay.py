"""
tests/integration/test_node_restart_replay.py - a restart of hrss-node never
makes a used nonce usable again (docs/design.md, decision 22).

A request answered once is sent again after the node is stopped with SIGTERM
and after it is killed with SIGKILL: both times the answer is commStatus 30
"nonce replayed", read back from the journal in data_dir/nonces. When the
journal says the last run was neither closed nor run under this boot (the
machine crashed, so its last second may be lost), requests timed before the
start are refused and new ones pass.
"""
import glob
import os
import time

from conftest import PROVIDER_BODY, card_node, expect, node_answer, sign


def cst(offset=0):
    """serviceReqTime offset seconds from now (China Standard Time)."""
    return time.strftime("%Y%m%d%H%M%S", time.gmtime(time.time() + 8 * 3600 + offset))


def test_replay_refused_after_sigterm_and_kill(harness):
    node = card_node(harness)
    raw = sign(harness.tmp)
    status, _, body = node.post(raw.encode())
    assert (status, body) == (200, PROVIDER_BODY)

    assert node.stop() == 0
    node.start()
    node.wait_log(r"event=nonces_loaded nonces=1 ", 5)
    expect(node, raw, "30", "nonce replayed")

    other = sign(harness.tmp)
    status, _, body = node.post(other.encode())
    assert (status, body) == (200, PROVIDER_BODY)
    node.kill()
    node.start()
    node.wait_log(r"event=nonces_loaded nonces=2 ", 5)
    expect(node, raw, "30", "nonce replayed")
    expect(node, other, "30", "nonce replayed")
    # neither restart was a crash of the machine: no fence, a slow clock passes
    assert not any("nonce_fence" in line for line in node.log())
    status, _, body = node.post(sign(harness.tmp, header={"serviceReqTime": cst(-60)}).encode())
    assert (status, body) == (200, PROVIDER_BODY)
    assert node.stop() == 0


def test_fence_after_a_crash_of_the_machine(harness):
    node = card_node(harness)
    status, _, body = node.post(sign(harness.tmp).encode())
    assert (status, body) == (200, PROVIDER_BODY)
    node.kill()
    # the journal as a machine crash leaves it: written under another boot,
    # never closed
    files = glob.glob(os.path.join(node.data, "nonces", "*.log"))
    assert files
    for path in files:
        with open(path) as f:
            lines = f.readlines()
        with open(path, "w") as f:
            for line in lines:
                if line.startswith("open "):
                    _, _, t = line.split()
                    line = f"open 00000000-0000-0000-0000-000000000000 {t}\n"
                f.write(line)
        assert os.stat(path).st_mode & 0o777 == 0o600
    node.start()
    node.wait_log(r"event=nonce_fence .*machine restarted", 5)
    h = node_answer(node, sign(harness.tmp, header={"serviceReqTime": cst(-30)}))
    assert h["commStatus"] == "30"
    assert "before the node's restart" in h["msg"], h["msg"]
    status, _, body = node.post(sign(harness.tmp, header={"serviceReqTime": cst(1)}).encode())
    assert (status, body) == (200, PROVIDER_BODY)
    # a clean stop under this boot lifts it at the next start
    assert node.stop() == 0
    node.start()
    node.wait_log(r"event=nonces_loaded ", 5)
    assert not any("nonce_fence" in line for line in node.log())
    status, _, body = node.post(sign(harness.tmp, header={"serviceReqTime": cst(-30)}).encode())
    assert (status, body) == (200, PROVIDER_BODY)
    assert node.stop() == 0
