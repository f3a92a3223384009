"""
tests/integration/test_sms_uplink.py - what a citizen's phone gets from
12333 (LD/T 6007 6.2, 6.3, 7), end to end on 127.0.0.1: hrss-node, the demo
provider behind it, hrss-sms as a registered caller system of the node, and
the CMPP simulator standing in for the carrier. Phones "send" uplink
messages through the simulator; their replies are the submits the simulator
receives. Covers every command of table 1 (TD, BD, QXBD, QXFW, MMCZ, CBXX,
YLZHYE, LSGS), the five scenarios of section 7 (notices, queries, business
handling with a work order completed by a case worker, surveys, information
management), bindings under concurrent commands, and a back end that is
down. Every wait is bounded; nothing asserts speed.
"""
import json
import os
import re
import signal
import sqlite3
import time

import pytest

from conftest import PASSWORD, SRC, WAIT, carrier_conf, uplink_conf

SMS_SYSTEM = "B100000DXPT"
PROV = "S110000Y70P"
SECRET = "uplink-test-secret-42"
SM4_KEY = "8765432109876543"
SERVICE_NUMBER = "10658012333"
SIGNATURE = "【12333】"


def decode(sub):
    raw = bytes.fromhex(sub["content"])
    if sub["udhi"]:
        raw = raw[raw[0] + 1:]
    return raw.decode("utf-16-be") if sub["coding"] == 8 else raw.decode("latin-1")


class Platform:
    """The four processes, started by the harness h, and what the tests
    need of them."""

    def __init__(self, h):
        self.tmp = h.tmp
        registry = {
            "systems": [
                {"code": SMS_SYSTEM, "name": "12333 SMS", "level": "B", "area": "100000",
                 "status": "active", "signature": "hmac-sm3", "secret": SECRET,
                 "allowedIps": ["127.0.0.1"]},
                {"code": PROV, "name": "provider", "level": "S", "area": "110000",
                 "status": "active", "signature": "sm3", "allowedIps": ["127.0.0.1"]}],
            # the provider reads its grants from this file before its port is
            # known: the upstream is filled in for the node below
            "services": [{"code": PROV + s, "name": s, "provider": PROV,
                          "upstreams": ["http://127.0.0.1:9/"]} for s in ("SBKZ", "YLYE", "LSGS")],
            "grants": [{"caller": SMS_SYSTEM, "service": PROV + s, "encryption": "sm4-ecb",
                        "key": SM4_KEY} for s in ("SBKZ", "YLYE", "LSGS")],
        }
        reg = h.path("registry.json")
        with open(reg, "w") as f:
            json.dump(registry, f)
        self.demo = h.demo_provider(registry=reg, require_grant=True)
        registry["services"] = [
            {"code": PROV + s, "name": s, "provider": PROV, "timeoutMs": 3000, "retries": 0,
             "upstreams": [f"http://127.0.0.1:{self.demo.port}/"]}
            for s in ("SBKZ", "YLYE", "LSGS")]
        self.node = h.node(workers=1, start=False)
        self.node.import_registry(registry)
        self.node.start()

        self.sim = h.sim("cmpp", "--report-delay", "0.02")
        extra = (uplink_conf(threads=2) +
                 f"[platform]\nnode_url = {self.node.url}\n"
                 f"system_code = {SMS_SYSTEM}\nsecret = {SECRET}\nsm4_key = {SM4_KEY}\n"
                 "timeout = 5s\n" + carrier_conf(self.sim.port, src_addr=SERVICE_NUMBER))
        self.sms = h.sms(extra=extra, start=False)
        os.chmod(self.sms.conf, 0o644)  # readable by others: hrss-sms warns (test_bd_...)
        self.sms.add_account("12333", signature=SIGNATURE, balance=100000)
        self.sms.add_account("app1", signature="【人社局】", balance=100000)
        self.sms.start()
        self.sms.wait_log("event=uplink_started", 10)
        self.sms.wait_log("event=carrier_link carrier=cm up=1", WAIT)
        self.persons = self.demo.persons()
        self.taken = set()  # indexes of submits already handed out by replies()

    def stop(self):
        self.sms.stop()
        self.sim.stop()
        self.node.stop()
        self.demo.stop()

    # --- phones ---
    def mo(self, phone, text):
        assert self.sim.control(cmd="mo", src=phone, dest=SERVICE_NUMBER, text=text)["ok"]

    def texts(self):
        return [(s["dests"][0], decode(s)) for s in self.sim.control(cmd="submits")["submits"]]

    def replies(self, phone, n=1, timeout=WAIT):
        """The next n texts sent to phone (each handed out once)."""
        end = time.monotonic() + timeout
        got = []
        while time.monotonic() < end:
            got = [(i, t) for i, (p, t) in enumerate(self.texts())
                   if p == phone and i not in self.taken]
            if len(got) >= n:
                self.taken.update(i for i, _ in got[:n])
                return [t for _, t in got[:n]]
            time.sleep(0.05)
        raise AssertionError(f"{phone}: wanted {n} replies, have {[t for _, t in got]}\n" +
                             "\n".join(self.sms.log()[-30:]))

    def ask(self, phone, text, n=1):
        self.mo(phone, text)
        return self.replies(phone, n)

    # --- business systems ---
    def api(self, path, **fields):
        body = dict({"appName": "app1", "password": PASSWORD}, **fields)
        status, data = self.sms.request("POST", path, body)
        return status, json.loads(data)

    def provision(self, ssn, name, password):
        status, r = self.api("/uplink/persons", ssn=ssn, name=name, servicePassword=password)
        assert status == 200 and r["code"] == 1, r


@pytest.fixture(scope="module")
def plat(module_harness):
    p = Platform(module_harness)
    yield p
    p.stop()


def masked(ssn):
    return ssn[:6] + "********" + ssn[14:]


def check_reply(text, ssn=None):
    """6.2.2: short, signed, one message; never a full number."""
    assert text.startswith(SIGNATURE), text
    assert len(text) <= 70, (len(text), text)
    if ssn:
        assert ssn not in text


def test_bd_and_cbxx_query(plat):
    ssn, name, _ = plat.persons[0]
    plat.provision(ssn, name, "2580")
    phone = "13800000001"
    [r] = plat.ask(phone, f"BD#{ssn}#2580")
    check_reply(r, ssn)
    assert name in r and masked(ssn) in r and "绑定成功" in r
    # 7.2 query: by name, lower case, full-width ＃ (6.3.1)
    [r] = plat.ask(phone, f"cbxx＃{name}")
    check_reply(r, ssn)
    assert r.startswith(f"{SIGNATURE}{name}：社会保障卡正常"), r
    # no parameter: for myself
    [r] = plat.ask(phone, "CBXX")
    assert r.startswith(f"{SIGNATURE}{name}：社会保障卡正常"), r
    [r] = plat.ask(phone, "YLZHYE")
    check_reply(r, ssn)
    assert re.search(r"养老保险个人账户余额\d+\.\d\d元", r), r
    # the log names the command's reply, never the number or the text
    log = "\n".join(plat.sms.log())
    # the test's configuration is world-readable and holds secrets: said once
    assert log.count("event=config_readable") == 1 and "mode=644" in log
    assert ssn not in log and phone not in log and "event=uplink" in log


def test_unknown_malformed_and_names(plat):
    phone = "13800000002"
    [r] = plat.ask(phone, "HELLO")
    check_reply(r)
    assert "未能识别" in r and "CBXX" in r
    [r] = plat.ask(phone, "BD#123")
    check_reply(r)
    assert "BD#社会保障号码#密码" in r
    [r] = plat.ask(phone, "CBXX")
    assert "未绑定" in r
    ssn1, name1, _ = plat.persons[1]
    ssn2, name2, _ = plat.persons[2]
    plat.provision(ssn1, name1, "1111")
    plat.provision(ssn2, name2, "2222")
    assert "绑定成功" in plat.ask(phone, f"BD#{ssn1}#1111")[0]
    assert "绑定成功" in plat.ask(phone, f"BD#{ssn2}#2222")[0]
    # a phone binds many numbers; a name picks one of them
    [r] = plat.ask(phone, f"CBXX#{name2}")
    assert r.startswith(f"{SIGNATURE}{name2}："), r
    # without a name (6.2.1 a: no number, no password), the first it bound
    [r] = plat.ask(phone, "CBXX")
    assert r.startswith(f"{SIGNATURE}{name1}："), r
    [r] = plat.ask(phone, "CBXX#无此人")
    assert "未绑定姓名为无此人" in r


def test_rebinding_tells_the_old_phone(plat):
    ssn, name, _ = plat.persons[3]
    plat.provision(ssn, name, "3333")
    old, new = "13800000003", "13900000003"
    assert "绑定成功" in plat.ask(old, f"BD#{ssn}#3333")[0]
    assert "已绑定本手机" in plat.ask(old, f"BD#{ssn}#3333")[0]
    plat.mo(new, f"BD#{ssn}#3333")
    [r_new] = plat.replies(new)
    [r_old] = plat.replies(old)
    assert "绑定成功" in r_new
    assert "改绑到其他手机" in r_old and masked(ssn) in r_old
    check_reply(r_old, ssn)
    # the old phone no longer acts for that person
    assert "未绑定" in plat.ask(old, "CBXX")[0]


def test_wrong_passwords_lock(plat):
    ssn, name, _ = plat.persons[4]
    plat.provision(ssn, name, "4444")
    phone = "13800000004"
    for left in (4, 3, 2, 1):
        [r] = plat.ask(phone, f"BD#{ssn}#0000")
        assert f"还可尝试{left}次" in r, r
    [r] = plat.ask(phone, f"BD#{ssn}#0000")
    assert "已锁定" in r and "30分钟" in r
    # even the right password waits for the lock to pass
    assert "已锁定" in plat.ask(phone, f"BD#{ssn}#4444")[0]
    # a business system provisioning the password again clears the lock
    plat.provision(ssn, name, "4445")
    assert "绑定成功" in plat.ask(phone, f"BD#{ssn}#4445")[0]


def test_information_management_mmcz_qxbd_qxfw(plat):
    ssn, name, _ = plat.persons[5]
    plat.provision(ssn, name, "5555")
    phone = "13800000005"
    assert "绑定成功" in plat.ask(phone, f"BD#{ssn}#5555")[0]
    assert "服务密码已修改" in plat.ask(phone, "MMCZ#5555#6666")[0]
    assert "服务密码错误" in plat.ask(phone, "MMCZ#5555#7777")[0]
    [r] = plat.ask(phone, f"QXBD#{ssn}")
    assert "已取消" in r and masked(ssn) in r
    assert "未绑定" in plat.ask(phone, f"QXBD#{ssn}")[0]
    # the new password binds again
    assert "绑定成功" in plat.ask(phone, f"BD#{ssn}#6666")[0]
    [r] = plat.ask(phone, "QXFW")
    assert "已取消本手机的短信服务，共1个绑定" in r
    # QXFW also stops notices
    r = plat.sms.send(mobile=phone, content="通知")
    assert r["code"] == 10


def test_td_unsubscribes_notices_but_replies_still_come(plat):
    phone = "13800000006"
    [r] = plat.ask(phone, "td")
    assert "已退订" in r
    # 7.1 notices: a batch with template variables; TD respected
    r = plat.sms.cli("template", "add", "app1", "notice1", "${name}您好，${what}已办结。")
    assert r.returncode == 0, r.stderr
    time.sleep(1.2)  # the template reaches the running daemon's snapshot
    r = plat.sms.send(mobile=f"13800000007,{phone}", templateId="notice1",
                      variables={"name": "张先生", "what": "社保卡"})
    assert r["code"] == 1, r
    by = {x["mobile"]: x for x in r["results"]}
    assert by[phone]["code"] == 10 and by["13800000007"]["code"] == 1
    [t] = plat.replies("13800000007")
    assert t == "【人社局】张先生您好，社保卡已办结。"
    # the unsubscribed phone still gets answers to its own commands
    assert "未能识别" in plat.ask(phone, "HELLO")[0]


def test_lsgs_work_order_completed_by_a_case_worker(plat):
    ssn, name, _ = plat.persons[6]
    plat.provision(ssn, name, "6060")
    phone = "13800000008"
    assert "绑定成功" in plat.ask(phone, f"BD#{ssn}#6060")[0]
    [r] = plat.ask(phone, "LSGS")
    check_reply(r, ssn)
    m = re.search(r"工单号(GS\w+)", r)
    assert m and "临时挂失" in r, r
    order = m.group(1)
    # the card service changed the card's state at the back end
    assert "临时挂失" in plat.ask(phone, "CBXX")[0]
    # a case worker completes it; the result goes to the phone
    status, a = plat.api("/uplink/workorders/complete", workOrder=order, result="done")
    assert status == 200 and a["code"] == 1, a
    [r] = plat.replies(phone)
    check_reply(r, ssn)
    assert "已办结" in r and order in r and name in r
    status, a = plat.api("/uplink/workorders/complete", workOrder=order, result="done")
    assert a["code"] == 2 and "already" in a["detail"]
    status, a = plat.api("/uplink/workorders/complete", workOrder="GS000", result="done")
    assert a["code"] == 2
    status, a = plat.api("/uplink/workorders/complete", workOrder=order, result="maybe")
    assert a["code"] == 2
    # a second LSGS: the back end refuses (the card is lost already): the
    # citizen is told it cannot be done, not to try later; no alert
    mark = len(plat.sms.log())
    [r] = plat.ask(phone, "LSGS")
    check_reply(r, ssn)
    assert "暂不能办理" in r and name in r
    line = plat.sms.wait_log("event=service_refused", 10, mark)
    assert "level=info" in line and "command=LSGS" in line


def test_survey_send_answer_remind_results(plat):
    a, b, c = "13800000011", "13800000012", "13800000013"
    now = int(time.time())
    status, r = plat.api("/surveys", title="窗口服务", question="您对窗口服务满意吗？",
                         answers=[{"code": "1", "label": "满意"}, {"code": "2", "label": "一般"},
                                  {"code": "3", "label": "不满意"}],
                         closesAt=now + 3600, phones=[a, b, c], maxReminders=2)
    assert status == 200 and r["code"] == 1 and r["sent"] == 3, r
    sid = r["surveyId"]
    for p in (a, b, c):
        [q] = plat.replies(p)
        assert "您对窗口服务满意吗" in q and "1满意" in q
    [t] = plat.ask(a, "1")
    assert t.startswith(SIGNATURE)
    [t] = plat.ask(b, "7")
    assert "1满意" in t  # the valid answers
    [t] = plat.ask(b, "２")  # full width, normalised
    # results and a reminder to the one who did not answer
    status, r = plat.api("/surveys/results", surveyId=sid)
    assert r["code"] == 1 and r["answered"] == 2 and r["counts"] == {"1": 1, "2": 1, "3": 0}
    status, r = plat.api("/surveys/remind", surveyId=sid)
    assert r["code"] == 1 and r["reminded"] == 1, r
    [q] = plat.replies(c)
    assert "您对窗口服务满意吗" in q
    # a second survey for a: a bare answer is now ambiguous, the code decides
    status, r2 = plat.api("/surveys", title="办事时间", question="等候时间是否合理？",
                          answers=[{"code": "A", "label": "合理"}, {"code": "B", "label": "过长"}],
                          closesAt=now + 3600, phones=[a], replyCode="2301")
    assert r2["code"] == 1 and r2["replyCode"] == "2301", r2
    [q] = plat.replies(a)
    assert "2301#" in q  # the question carries its code: a has two open
    [t] = plat.ask(a, "b")
    assert "多项调查" in t and "2301" in t, t
    plat.ask(a, "2301#b")
    status, r = plat.api("/surveys/results", surveyId=r2["surveyId"])
    assert r["counts"] == {"A": 0, "B": 1}, r
    # an answer-shaped text from someone not asked goes to the command engine
    assert "未能识别" in plat.ask("13800000014", "1")[0]
    # another system may not read this survey
    plat.sms.add_account("other", balance=10)
    status, r = plat.sms.request("POST", "/surveys/results",
                                 {"appName": "other", "password": PASSWORD, "surveyId": sid})
    assert json.loads(r)["code"] == 2


def test_interfaces_refuse_bad_requests(plat):
    ssn = plat.persons[7][0]
    status, r = plat.api("/uplink/persons", ssn=ssn[:-1] + ("0" if ssn[-1] != "0" else "1"),
                         name="某人", servicePassword="1234")
    assert r["code"] == 2 and "ssn" in r["detail"]
    status, r = plat.api("/uplink/persons", name="某人")
    assert r["code"] == -1
    status, r = plat.api("/uplink/persons", ssn=ssn, name="某人", servicePassword="12")
    assert r["code"] == 2
    status, data = plat.sms.request("POST", "/uplink/persons",
                                    {"appName": "app1", "password": "wrong", "ssn": ssn})
    assert json.loads(data)["code"] == 8
    status, data = plat.sms.request("POST", "/uplink/persons",
                                    {"appName": "nobody", "password": "x", "ssn": ssn})
    assert json.loads(data)["code"] == 6
    status, data = plat.sms.request("POST", "/uplink/persons", "not json")
    assert status == 200 and json.loads(data)["code"] == 2
    status, data = plat.sms.request("GET", "/uplink/persons")
    assert status == 405


def test_concurrent_binding_commands(plat):
    """6.2.1 under load: ten phones bind one number at once (it ends on
    exactly one phone, the others are told), and one phone binds three
    numbers at once (it holds all three)."""
    ssn, name, _ = plat.persons[8]
    plat.provision(ssn, name, "8888")
    many = [plat.persons[i] for i in (9, 10, 11)]
    for s, n, _ in many:
        plat.provision(s, n, "9999")
    phones = [f"1370000{i:04d}" for i in range(10)]
    multi = "13600000001"
    # all thirteen reach the daemon in one burst on the carrier link; its
    # uplink workers run them concurrently (one phone's in order)
    for p in phones:
        plat.mo(p, f"BD#{ssn}#8888")
    for s, _, _ in many:
        plat.mo(multi, f"BD#{s}#9999")
    got = {p: [] for p in phones}
    end = time.monotonic() + WAIT
    while time.monotonic() < end:
        texts = plat.texts()
        for p in phones:
            got[p] = [t for q, t in texts if q == p]
        done = all(got[p] for p in phones) and sum(len(v) for v in got.values()) >= 19
        if done and len([t for q, t in texts if q == multi]) >= 3:
            break
        time.sleep(0.1)
    # each phone got bd_ok; all but the last holder were then told it moved
    for p in phones:
        assert "绑定成功" in got[p][0], got[p]
    moved = [p for p in phones if any("改绑到其他手机" in t for t in got[p])]
    holders = [p for p in phones if p not in moved]
    assert len(holders) == 1 and len(moved) == 9, got
    db = sqlite3.connect(os.path.join(plat.sms.data, "uplink.db"))
    try:
        cols = [r[1] for r in db.execute("PRAGMA table_info(bindings)")]
        phone_col = "phone" if "phone" in cols else cols[0]
        rows = db.execute(f"SELECT {phone_col} FROM bindings").fetchall()
        assert (holders[0],) in rows
        assert sum(1 for r in rows if r[0] in phones) == 1
        assert sum(1 for r in rows if r[0] == multi) == 3
    finally:
        db.close()
    for p in phones:
        plat.replies(p, len(got[p]))  # handed out
    assert plat.ask(holders[0], "CBXX")[0].startswith(f"{SIGNATURE}{name}：")


def test_sighup_reloads_the_command_table(plat):
    """A province adds a command: edit the table, SIGHUP, no restart."""
    phone = "13800000030"
    assert "未能识别" in plat.ask(phone, "TDALL")[0]
    table = json.load(open(os.path.join(SRC, "etc", "sms-commands.json")))
    table["commands"].append({"name": "TDALL", "category": "manage", "usage": "TDALL#",
                              "handler": "builtin:td"})
    path = os.path.join(plat.tmp, "commands.json")
    with open(path, "w") as f:
        json.dump(table, f, ensure_ascii=False)
    with open(plat.sms.conf) as f:
        conf = f.read()
    with open(plat.sms.conf, "w") as f:
        f.write(conf.replace(f"commands = {SRC}/etc/sms-commands.json", f"commands = {path}"))
    mark = len(plat.sms.log())
    plat.sms.send_signal(signal.SIGHUP)
    plat.sms.wait_log("event=uplink_reloaded commands=9", 10, mark)
    assert "已退订" in plat.ask(phone, "tdall")[0]
    # the help reply now lists nine commands: more than one message holds, so
    # it lists those that fit and says "等" rather than being cut
    [r] = plat.ask(phone, "HELLO")
    check_reply(r)
    assert "未能识别" in r and "等" in r and "CBXX" in r, r
    # a table the engine refuses (a service command without its reply) is
    # not taken: the one in use stays
    table["commands"].append({"name": "BAD", "category": "query", "handler": "service",
                              "service": "S110000Y70PSBKZ"})
    with open(path, "w") as f:
        json.dump(table, f, ensure_ascii=False)
    mark = len(plat.sms.log())
    plat.sms.send_signal(signal.SIGHUP)
    line = plat.sms.wait_log("event=uplink_reload_failed", 10, mark)
    assert "BAD" in line and "kept=previous" in line
    assert "已退订" in plat.ask(phone, "TDALL")[0]
    assert "未能识别" in plat.ask(phone, "BAD")[0]


def test_zz_back_end_down_gets_try_later_and_an_alert(plat):
    """Last: it stops the provider."""
    ssn, name, _ = plat.persons[12]
    plat.provision(ssn, name, "1212")
    phone = "13800000020"
    assert "绑定成功" in plat.ask(phone, f"BD#{ssn}#1212")[0]
    plat.demo.stop()
    mark = len(plat.sms.log())
    [r] = plat.ask(phone, "CBXX")
    check_reply(r, ssn)
    assert "稍后再试" in r
    line = plat.sms.wait_log("event=backend_failed", 10, mark)
    assert "level=error" in line and "command=CBXX" in line
    assert phone not in line and ssn not in line
