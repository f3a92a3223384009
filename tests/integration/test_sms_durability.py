"""
tests/integration/test_sms_durability.py - no accepted message is lost
when hrss-sms is killed with SIGKILL at any moment: clients send
continuously (each request with its own clientMsgId) while the daemon is
killed at random points a few times and restarted; afterwards every
message answered with code 1 is in the queue, the balance charged equals
the parts stored, and the requests whose answers were lost, sent again with
the same clientMsgId, end with exactly one stored message each. Bounded: a
few cycles of under a second each.
"""
import http.client
import json
import random
import threading
import time

from conftest import PASSWORD

CYCLES = 4
CLIENTS = 4
BALANCE = 1000000


def post(port, body):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        c.request("POST", "/sms/send", body=json.dumps(body),
                  headers={"Content-Type": "application/json"})
        r = c.getresponse()
        return json.loads(r.read().decode())
    finally:
        c.close()


def test_kill_9_loses_no_accepted_message(harness):
    rnd = random.Random(6007)
    s = harness.sms(extra="[queue]\nbatch_max = 64\n")
    s.add_account("app1", balance=BALANCE)
    accepted = {}   # clientMsgId -> [msgId, ...] answered with code 1
    lost = {}       # clientMsgId -> request body whose answer never came
    lock = threading.Lock()
    seq = [0]

    def client(port, stop, cid):
        while not stop.is_set():
            with lock:
                seq[0] += 1
                n = seq[0]
            # one or two numbers, one or two parts
            mobiles = ["1380013%04d" % (n % 10000)]
            if n % 3 == 0:
                mobiles.append("1390013%04d" % (n % 10000))
            body = {"appName": "app1", "password": PASSWORD, "mobile": ",".join(mobiles),
                    "content": "通知" * (40 if n % 4 == 0 else 5), "islong": 1,
                    "clientMsgId": f"c{n}"}
            try:
                r = post(port, body)
            except (OSError, http.client.HTTPException, ValueError):
                with lock:
                    lost[body["clientMsgId"]] = body
                time.sleep(0.01)
                continue
            assert r["code"] == 1, r
            with lock:
                accepted[body["clientMsgId"]] = [x["msgId"] for x in r["results"]]

    for cycle in range(CYCLES):
        stop = threading.Event()
        threads = [threading.Thread(target=client, args=(s.port, stop, i))
                   for i in range(CLIENTS)]
        [t.start() for t in threads]
        time.sleep(rnd.uniform(0.2, 0.8))
        s.kill()
        stop.set()
        [t.join(10) for t in threads]
        assert not any(t.is_alive() for t in threads)
        s.start()

    assert len(accepted) > 0
    # every acknowledged message is stored, with its own id
    db = s.db()
    rows = db.execute("SELECT id, client_id, parts FROM msgs").fetchall()
    stored = {str(r[0]) for r in rows}
    for cid, ids in accepted.items():
        for i in ids:
            assert i in stored, (cid, i)
    # the balance was charged in the same transaction as the messages
    balance = db.execute("SELECT balance FROM accounts WHERE app='app1'").fetchone()[0]
    assert BALANCE - balance == sum(r[2] for r in rows)
    db.close()
    # through the API too, after the restart
    some = [i for ids in list(accepted.values())[:50] for i in ids][:100]
    st = s.status(some)
    assert all(m["state"] == "queued" for m in st["messages"]), st

    # clients retry what they never heard back about: one set of messages each
    for cid, body in lost.items():
        r = post(s.port, body)
        assert r["code"] == 1
    db = s.db()
    want = {cid: len(body["mobile"].split(",")) for cid, body in lost.items()}
    want.update({cid: len(ids) for cid, ids in list(accepted.items())[:200]})
    for cid, n_numbers in want.items():
        n = db.execute("SELECT count(*) FROM msgs WHERE client_id=?", (cid,)).fetchone()[0]
        assert n == n_numbers, (cid, n, n_numbers)
    db.close()
    assert s.stop() == 0
