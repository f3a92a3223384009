"""
tests/integration/test_sms_api.py - the real hrss-sms binary on 127.0.0.1
with a temporary data directory and real SQLite: the send interface answers
every code of LD/T 6007 table A.1 (1, -1, 2, 3, 5, 6, 7, 8, 9) and the
platform's own (10 blacklist, 11 sensitive word, 12 no carrier for the
segment), each provoked here; the content rules (signature counted, 70/160,
islong parts, numbers, segments); idempotent clientMsgId; templates; form
bodies; the status query; accounts managed by the CLI while the daemon
runs; health, readiness, metrics, SIGHUP and SIGTERM; HTTPS, the body limit
and the certificate reloaded, and the drain answering every request it took.
Every wait is bounded.
"""
import http.client
import json
import os
import re
import signal
import ssl
import subprocess
import threading
import time
import urllib.parse

import pytest

from conftest import PASSWORD, SMS


@pytest.fixture
def sms(harness):
    s = harness.sms()
    s.add_account("app1")
    return s


def test_code_1_ok_with_per_number_results_and_status(sms):
    r = sms.send(mobile="13800138000,+8613900139000", content="您的社保卡已挂失成功")
    assert r["code"] == 1 and r["msg"] == "OK"
    assert r["accepted"] == 2 and r["parts"] == 1
    ids = [x["msgId"] for x in r["results"]]
    assert [x["code"] for x in r["results"]] == [1, 1]
    assert all(re.fullmatch(r"\d+", i) for i in ids) and ids[0] != ids[1]
    st = sms.status(ids)
    assert st["code"] == 1
    assert [m["state"] for m in st["messages"]] == ["queued", "queued"]
    assert st["messages"][1]["mobile"] == "13900139000"
    assert sms.balance() == 1000 - 2
    # another account cannot see these ids
    sms.add_account("app2")
    st = sms.status(ids, app="app2")
    assert [m["state"] for m in st["messages"]] == ["unknown", "unknown"]
    # the log never holds the number or the content
    text = "\n".join(sms.log())
    assert "13800138000" not in text and "社保卡" not in text


def test_code_minus_1_missing_parameters(sms):
    for missing in ("appName", "password", "mobile", "content"):
        body = {"appName": "app1", "password": PASSWORD, "mobile": "13800138000",
                "content": "x"}
        del body[missing]
        status, data = sms.request("POST", "/sms/send", body)
        r = json.loads(data)
        assert r["code"] == -1 and r["msg"] == "请求参数缺失", (missing, r)
        assert missing in r["detail"] or (missing == "content" and "content" in r["detail"])
    # a template variable the request does not give
    sms.change("template", "add", "app1", "t1", "您好${name}，验证码${code}")
    r = sms.send(mobile="13800138000", templateId="t1", variables={"name": "张三"})
    assert r["code"] == -1 and "code" in r["detail"]


def test_code_2_format_errors(sms):
    cases = [
        {"mobile": "123,abc", "content": "x"},                      # no valid number
        {"mobile": "13800138000", "content": "x", "priority": 7},
        {"mobile": "13800138000", "content": "x", "sendTime": "2030-01-01"},
        {"mobile": "13800138000", "content": "x", "clientMsgId": "bad id!"},
        {"mobile": "13800138000", "content": "x", "templateId": "t1"},  # both
        {"mobile": "13800138000", "templateId": "nosuch"},
        {"mobile": "13800138000", "content": "x",
         "sendTime": time.strftime("%Y%m%d%H%M%S", time.gmtime(time.time() + 8 * 3600 +
                                                                 90 * 86400))},
    ]
    for c in cases:
        r = sms.send(**c)
        assert r["code"] == 2 and r["msg"] == "请求参数格式错误", (c, r)
    status, data = sms.request("POST", "/sms/send", "{not json")
    assert json.loads(data)["code"] == 2
    status, data = sms.request("POST", "/sms/send", '{"appName":"a","appName":"b"}')
    assert json.loads(data)["code"] == 2
    # a mix of good and bad numbers: code 1, the bad one has code 2
    r = sms.send(mobile="13800138000,1380013800", content="x")
    assert r["code"] == 1
    assert [x["code"] for x in r["results"]] == [1, 2]
    assert "msgId" not in r["results"][1]


def test_code_3_balance(sms):
    sms.add_account("poor", balance=3)
    r = sms.send(appName="poor", mobile="13800138000,13900139000", content="好" * 80,
                 islong=1)  # 2 numbers x 2 parts = 4 > 3
    assert r["code"] == 3 and r["msg"] == "账户余额不足"
    assert sms.balance("poor") == 3
    r = sms.send(appName="poor", mobile="13800138000", content="好" * 80, islong=1)
    assert r["code"] == 1 and r["parts"] == 2
    assert sms.balance("poor") == 1
    assert sms.cli("account", "set", "poor", "--topup", "10").returncode == 0
    r = sms.send(appName="poor", mobile="13800138000,13900139000", content="好" * 80, islong=1)
    assert r["code"] == 1 and sms.balance("poor") == 7


def test_code_5_ip_not_whitelisted(sms):
    sms.add_account("remote", ips="10.1.2.0/24, ::1")
    r = sms.send(appName="remote", mobile="13800138000", content="x")
    assert r["code"] == 5 and r["msg"] == "IP没有权限"
    assert sms.change("account", "set", "remote", "--ips",
                      "10.1.2.0/24,127.0.0.0/8").returncode == 0
    assert sms.send(appName="remote", mobile="13800138000", content="x")["code"] == 1


def test_code_6_unknown_or_frozen_app(sms):
    r = sms.send(appName="nosuch", mobile="13800138000", content="x")
    assert r["code"] == 6 and r["msg"] == "appName输入错误"
    assert sms.change("account", "freeze", "app1").returncode == 0
    assert sms.send(mobile="13800138000", content="x")["code"] == 6
    assert sms.change("account", "unfreeze", "app1").returncode == 0
    assert sms.send(mobile="13800138000", content="x")["code"] == 1


def test_code_7_islong_invalid_or_too_many_parts(harness):
    s = harness.sms(extra="[queue]\nbatch_max = 8\n")
    s.add_account("app1")
    r = s.send(mobile="13800138000", content="x", islong=5)
    assert r["code"] == 7 and r["msg"] == "短信内容为长短信"
    r = s.send(mobile="13800138000", content="x", islong="yes")
    assert r["code"] == 7
    # default max_parts = 10: 11 parts of 67 are refused even with islong=1
    r = s.send(mobile="13800138000", content="好" * (67 * 10), islong=1)
    assert r["code"] == 7 and "10" in r["detail"]
    r = s.send(mobile="13800138000", content="好" * (67 * 10 - 5), islong=1)
    assert r["code"] == 1 and r["parts"] == 10


def test_code_8_wrong_password(sms):
    r = sms.send(password="wrong-password", mobile="13800138000", content="x")
    assert r["code"] == 8 and r["msg"] == "客户端接入密码错误"
    st = sms.status(["1"], password="wrong-password")
    assert st["code"] == 8
    # a new password applies at once; the old one (cached as verified) no longer works
    assert sms.send(mobile="13800138000", content="x")["code"] == 1
    assert sms.change("account", "set", "app1", "--password",
                   stdin="another-pass\n").returncode == 0
    assert sms.send(mobile="13800138000", content="x")["code"] == 8
    assert sms.send(password="another-pass", mobile="13800138000", content="x")["code"] == 1
    # the stored form is a salted PBKDF2-HMAC-SM3, never the password
    db = sms.db()
    pw = db.execute("SELECT pw FROM accounts WHERE app='app1'").fetchone()[0]
    db.close()
    assert pw.startswith("pbkdf2-sm3$") and "another-pass" not in pw


def test_code_9_length_with_signature(sms):
    # 【人社局】 is 5 characters: 65 more make 70 (one message), 66 make 71
    assert sms.send(mobile="13800138000", content="好" * 65)["code"] == 1
    r = sms.send(mobile="13800138000", content="好" * 66)
    assert r["code"] == 9 and r["msg"] == "短信内容超过最大字数限制"
    r = sms.send(mobile="13800138000", content="好" * 66, islong=0)
    assert r["code"] == 9
    r = sms.send(mobile="13800138000", content="好" * 66, islong=1)
    assert r["code"] == 1 and r["parts"] == 2


def test_gsm_160_with_ascii_signature(sms):
    sms.add_account("latin", signature="(HRSS)")
    # GSM 03.38 only: 6 + 154 = 160 fits, 155 does not
    assert sms.send(appName="latin", mobile="13800138000", content="a" * 154)["code"] == 1
    assert sms.send(appName="latin", mobile="13800138000", content="a" * 155)["code"] == 9
    # one character outside GSM 03.38 makes the limit 70
    assert sms.send(appName="latin", mobile="13800138000", content="a" * 63 + "`")["code"] == 1
    assert sms.send(appName="latin", mobile="13800138000", content="a" * 64 + "`")["code"] == 9
    # long GSM text: parts of 153 septets
    r = sms.send(appName="latin", mobile="13800138000", content="a" * 300, islong=1)
    assert r["code"] == 1 and r["parts"] == 2


def test_code_10_blacklist(sms):
    assert sms.cli("blacklist", "add", "13900139000").returncode == 0
    r = sms.send(mobile="13800138000,13900139000", content="x")
    assert r["code"] == 1
    assert [x["code"] for x in r["results"]] == [1, 10]
    assert r["results"][1]["msg"] == "号码在黑名单中"
    r = sms.send(mobile="+8613900139000", content="x")
    assert r["code"] == 10
    assert sms.balance() == 1000 - 1
    assert sms.cli("blacklist", "del", "13900139000").returncode == 0
    assert sms.send(mobile="13900139000", content="x")["code"] == 1


def test_code_11_sensitive_word(sms):
    assert sms.change("words", "add", "赌博", "BadWord").returncode == 0
    r = sms.send(mobile="13800138000", content="网上赌博")
    assert r["code"] == 11 and r["msg"] == "短信内容含有敏感词"
    assert sms.send(mobile="13800138000", content="this has a badword")["code"] == 11
    assert sms.send(mobile="13800138000", content="正常通知")["code"] == 1


def test_code_12_segment_without_carrier(harness):
    # with a link for China Mobile only, a Unicom number is refused
    s = harness.sms(extra=(
        "[carrier cm]\nprotocol = cmpp\nhost = 127.0.0.1\nport = 9\naccount = 901234\n"
        "secret = x\nsrc_addr = 10658012333\noperators = mobile\n"))
    s.add_account("app1")
    r = s.send(mobile="13800138000,18612345678,14012345678", content="x")
    assert r["code"] == 1
    assert [x["code"] for x in r["results"]] == [1, 12, 12]
    assert s.send(mobile="18612345678", content="x")["code"] == 12


def test_duplicate_client_msg_id_is_idempotent(sms):
    first = sms.send(mobile="13800138000,13900139000", content="x", clientMsgId="order-42")
    again = sms.send(mobile="13800138000,13900139000", content="x", clientMsgId="order-42")
    assert first == again and first["code"] == 1
    assert sms.balance() == 1000 - 2
    # concurrent duplicates: one set of messages
    results = []

    def go():
        results.append(sms.send(mobile="13700137000", content="y", clientMsgId="order-43"))
    ts = [threading.Thread(target=go) for _ in range(6)]
    [t.start() for t in ts]
    [t.join(20) for t in ts]
    assert len(results) == 6 and all(r == results[0] for r in results)
    assert sms.balance() == 1000 - 3
    # a refused request is not remembered: it can be retried once fixed
    sms.cli("blacklist", "add", "13600136000")
    assert sms.send(mobile="13600136000", content="z", clientMsgId="order-44")["code"] == 10
    sms.cli("blacklist", "del", "13600136000")
    assert sms.send(mobile="13600136000", content="z", clientMsgId="order-44")["code"] == 1


def test_form_body_template_schedule_and_priority(sms):
    body = urllib.parse.urlencode({"appName": "app1", "password": PASSWORD,
                                   "mobile": "13800138000;13900139000",
                                   "content": "社保 费用 已到账 a+b"})
    status, data = sms.request("POST", "/sms/send", body,
                               ctype="application/x-www-form-urlencoded")
    r = json.loads(data)
    assert r["code"] == 1 and r["accepted"] == 2
    sms.change("template", "add", "app1", "verify", "验证码${code}，5分钟内有效")
    r = sms.send(mobile="13800138000", templateId="verify", variables={"code": "123456"},
                 priority=0)
    assert r["code"] == 1
    later = time.strftime("%Y%m%d%H%M%S", time.gmtime(time.time() + 8 * 3600 + 3600))
    r = sms.send(mobile="13800138000", content="明天办理", sendTime=later)
    assert r["code"] == 1
    st = sms.status([r["results"][0]["msgId"]])
    assert st["messages"][0]["state"] == "accepted"
    db = sms.db()
    rows = db.execute("SELECT content, lane FROM msgs ORDER BY id").fetchall()
    db.close()
    assert rows[0][0] == "【人社局】社保 费用 已到账 a+b"
    assert rows[2] == ("【人社局】验证码123456，5分钟内有效", 0)
    assert rows[3][1] == 1


def test_account_cli_refuses_bad_input(sms):
    r = sms.cli("account", "add", "app1", "--ips", "127.0.0.1", "--signature", "【x】",
                stdin=PASSWORD + "\n")
    assert r.returncode == 1 and "exists" in r.stderr
    r = sms.cli("account", "add", "bad name", "--ips", "127.0.0.1", "--signature", "x",
                stdin=PASSWORD + "\n")
    assert r.returncode == 2
    r = sms.cli("account", "add", "x2", "--ips", "300.1.1.1", "--signature", "x",
                stdin=PASSWORD + "\n")
    assert r.returncode == 1 and "not an IPv4" in r.stderr
    r = sms.cli("account", "add", "x3", "--ips", "127.0.0.1", "--signature", "x",
                stdin="short\n")
    assert r.returncode == 1
    r = sms.cli("account", "freeze", "nosuch")
    assert r.returncode == 1
    r = sms.cli("blacklist", "add", "12345")
    assert r.returncode == 1
    out = sms.cli("account", "list").stdout
    assert "app1\t" in out and "pbkdf2" not in out


def test_health_ready_metrics_reload_and_term(sms):
    assert sms.request("GET", "/healthz") == (200, "ok\n")
    assert sms.request("GET", "/readyz") == (200, "ready\n")
    assert sms.request("GET", "/nope")[0] == 404
    assert sms.request("GET", "/sms/send")[0] == 405
    sms.send(mobile="13800138000", content="x")
    sms.send(password="bad-password", mobile="13800138000", content="x")
    status, text = sms.request("GET", "/metrics")
    assert status == 200
    assert re.search(r'^hrss_sms_api_answers_total\{code="1"\} 1$', text, re.M)
    assert re.search(r'^hrss_sms_api_answers_total\{code="8"\} 1$', text, re.M)
    assert re.search(r"^hrss_sms_messages_accepted_total 1$", text, re.M)
    with open(sms.conf, "a") as f:
        f.write("[log]\nlevel = debug\n")
    mark = len(sms.log())
    sms.send_signal(signal.SIGHUP)
    sms.wait_log("event=reloaded level=debug", 5, mark)
    assert sms.send(mobile="13800138000", content="x")["code"] == 1
    with open(sms.conf, "a") as f:
        f.write("[bogus]\n")
    mark = len(sms.log())
    sms.send_signal(signal.SIGHUP)
    sms.wait_log("event=reload_failed", 5, mark)
    assert sms.request("GET", "/healthz")[0] == 200
    assert sms.stop() == 0
    # the configuration check command
    r = subprocess.run([SMS, "--config", sms.conf, "--check"], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 2 and "unknown section [bogus]" in r.stderr


def test_https_body_limit_and_certificate_reload_and_drain(harness):
    cert, key = harness.cert("first")
    s = harness.sms(start=False)
    conf = (f"[sms]\ndata_dir = {s.data}\nworkers = 2\ndrain_timeout = 5s\n"
            "[http]\nlisten = 127.0.0.1:0\nbody_limit = {limit}\n"
            f"[https]\nlisten = 127.0.0.1:0\ncert = {cert}\nkey = {key}\n")
    with open(s.conf, "w") as f:
        f.write(conf.replace("{limit}", "4K"))
    s.add_account("app1", balance=100000)
    s.start()
    tls_port = int(re.search(r"addr=\S+:(\d+)",
                             s.wait_log("event=listening proto=https ", 5)).group(1))

    def tls_send():
        ctx = ssl.create_default_context(cafile=None)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        c = http.client.HTTPSConnection("127.0.0.1", tls_port, timeout=10, context=ctx)
        body = json.dumps({"appName": "app1", "password": PASSWORD,
                           "mobile": "13800138000", "content": "x"})
        c.request("POST", "/sms/send", body, {"Content-Type": "application/json"})
        r = c.getresponse()
        answer = (r.status, json.loads(r.read()))
        der = c.sock.getpeercert(binary_form=True)
        c.close()
        return answer, ssl.DER_cert_to_PEM_cert(der)

    (status, answer), pem = tls_send()
    assert status == 200 and answer["code"] == 1
    with open(cert) as f:
        assert ssl.PEM_cert_to_DER_cert(f.read()) == ssl.PEM_cert_to_DER_cert(pem)

    # the body limit: 413 over it, then raised by SIGHUP; a new
    # certificate for new connections at the same time
    big = {"appName": "app1", "password": PASSWORD, "mobile": "13800138000",
           "content": "x" * 5000}
    assert s.request("POST", "/sms/send", big)[0] == 413
    cert2, key2 = harness.cert("second")
    os.replace(cert2, cert)
    os.replace(key2, key)
    with open(s.conf, "w") as f:
        f.write(conf.replace("{limit}", "64K"))
    mark = len(s.log())
    s.send_signal(signal.SIGHUP)
    s.wait_log("event=reloaded", 5, mark)
    status, data = s.request("POST", "/sms/send", big)
    assert status == 200 and json.loads(data)["code"] == 9  # too long without islong
    (status, answer), pem = tls_send()
    assert status == 200 and answer["code"] == 1
    with open(cert) as f:
        assert ssl.PEM_cert_to_DER_cert(f.read()) == ssl.PEM_cert_to_DER_cert(pem)

    # SIGTERM while clients keep sending: every request the daemon
    # took is answered before it exits, and only those are stored
    answered = []
    lock = threading.Lock()
    stop = threading.Event()

    def client(k):
        try:
            c = http.client.HTTPConnection("127.0.0.1", s.port, timeout=10)
            for i in range(200):
                if stop.is_set():
                    break
                body = json.dumps({"appName": "app1", "password": PASSWORD,
                                   "mobile": "13800138000", "content": "x",
                                   "clientMsgId": f"d{k}-{i}"})
                c.request("POST", "/sms/send", body, {"Content-Type": "application/json"})
                r = c.getresponse()
                got = json.loads(r.read())
                with lock:
                    answered.append(got["code"])
                if r.getheader("Connection", "").lower() == "close":
                    break
        except (OSError, http.client.HTTPException):
            pass  # refused or closed once the drain began

    threads = [threading.Thread(target=client, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 10
    while len(answered) < 50 and time.monotonic() < deadline:
        time.sleep(0.01)
    rc = s.stop()
    stop.set()
    for t in threads:
        t.join(timeout=15)
    assert rc == 0
    assert len(answered) >= 50 and set(answered) == {1}
    db = s.db()
    stored = db.execute("SELECT count(*) FROM msgs WHERE client_id LIKE 'd%'").fetchone()[0]
    db.close()
    assert stored == len(answered)
