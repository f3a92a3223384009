"""
tests/integration/test_sms_backup.py - the backup of docs/operations.md
("Data and durability", LD/T 6007 8.2 b): a copy of sms.db taken with
SQLite's online backup (what `sqlite3 sms.db ".backup FILE"` does) while
hrss-sms runs and accepts messages holds the accounts, templates,
sensitive words, blacklist and queued messages; a new hrss-sms started on
the copy alone refuses the same number and word, knows the account and its
password, and answers the status of the messages accepted before the copy.
"""
import os
import shutil
import sqlite3


def test_online_backup_restores_rules_accounts_and_queue(harness):
    s = harness.sms()
    s.add_account("app1")
    assert s.change("words", "add", "赌博").returncode == 0
    assert s.cli("blacklist", "add", "13900139000").returncode == 0
    assert s.change("template", "add", "app1", "t1", "验证码${code}").returncode == 0
    r = s.send(mobile="13800138000,13700137000", content="社保卡已挂失")
    assert r["code"] == 1
    ids = [x["msgId"] for x in r["results"]]

    # the copy, taken while the daemon runs
    copy = harness.path("backup.db")
    src = sqlite3.connect(os.path.join(s.data, "sms.db"))
    dst = sqlite3.connect(copy)
    src.backup(dst)
    dst.close()
    src.close()
    assert s.send(mobile="13800138000", content="备份之后")["code"] == 1  # still serving
    s.stop()

    # a new platform on the copy alone
    t = harness.sms(start=False)
    os.makedirs(t.data)
    shutil.copy(copy, os.path.join(t.data, "sms.db"))
    t.start()
    assert t.send(mobile="13900139000", content="x")["code"] == 10
    assert t.send(mobile="13800138000", content="网上赌博")["code"] == 11
    r = t.send(mobile="13800138000", templateId="t1", variables={"code": "1234"})
    assert r["code"] == 1
    assert t.send(password="wrong-password", mobile="13800138000", content="x")["code"] == 8
    st = t.status(ids)
    assert [m["state"] for m in st["messages"]] == ["queued", "queued"]
    assert t.balance() == 1000 - 3
    assert t.stop() == 0
