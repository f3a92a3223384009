"""
tests/integration/test_sms_callback_tls.py - delivery reports pushed to
https:// callback URLs: the business system's certificate is verified
against [callback] ca_file (or the system's store) and must name the host
or IP address of the URL; a push to a server whose certificate is not
trusted fails and is retried, and nothing reaches that server's handler.
Certificates are made with the openssl command line; the servers are
Python's ssl module on 127.0.0.1; the carrier is the CMPP simulator.
"""
import os
import time

from conftest import WAIT, carrier_conf


def test_https_callbacks_verified(harness):
    trusted, wrong_name, unknown, ca = harness.certs("reports.example")
    good, bad_name, bad_ca = (harness.sink(cert) for cert in (trusted, wrong_name, unknown))
    sim = harness.sim("cmpp", "--report-delay", "0.02")
    s = harness.sms(start=False, extra=(
        f"[callback]\nca_file = {ca}\nbackoff = 100ms\nretries = 2\ntimeout = 2s\n" +
        carrier_conf(sim.port)))
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
    s.stop()
