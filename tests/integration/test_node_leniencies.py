"""
tests/integration/test_node_leniencies.py - what hrss-node used to let
through and now refuses, each as the standard and docs/design.md read:

- a signature in upper-case hex: the profiles give lower-case hex and the
  standard compares the value it computes with the one received, so the
  same digest in capitals is commStatus 30 "signature mismatch";
- a serviceReqId dated far from serviceReqTime (an id is dated the day it is
  made; a day apart passes, for midnight): commStatus 90 naming both dates;
- a nonce of 25 characters: HTTP 400 naming header.nonce, not 413 (the
  request is malformed, not too large).
"""
import json
import time

from conftest import PROVIDER_BODY, card_node, expect, node_answer, resign, sign


def cst_date(offset_days=0):
    return time.strftime("%Y%m%d", time.gmtime(time.time() + 8 * 3600 + offset_days * 86400))


def test_leniencies_refused(harness):
    node = card_node(harness)

    # upper-case hex: the same HMAC-SM3 value, in capitals
    d = json.loads(sign(harness.tmp))
    d["header"]["signature"] = d["header"]["signature"].upper()
    expect(node, json.dumps(d, ensure_ascii=False), "30", "signature mismatch")

    # serviceReqId dated years before serviceReqTime
    raw = sign(harness.tmp, header={"serviceReqId": "B100000KJGK20170122100000001"})
    h = node_answer(node, raw)
    assert h["commStatus"] == "90"
    assert h["msg"].startswith("serviceReqId is dated 20170122, "), h["msg"]
    assert "days from serviceReqTime " + cst_date() in h["msg"], h["msg"]
    # a day apart is midnight between the id and the time: accepted
    raw = sign(harness.tmp, header={"serviceReqId": f"B100000KJGK{cst_date(-1)}100000002"})
    status, _, body = node.post(raw.encode())
    assert (status, body) == (200, PROVIDER_BODY)

    # a nonce one character too long: 400 naming the field
    bad = resign(sign(harness.tmp), "n" * 25)
    status, ctype, body = node.post(bad)
    err = json.loads(body)
    assert (status, ctype, err["error"]) == (400, "application/json", "bad_envelope"), body
    assert err["message"].startswith("header.nonce: length 25"), err["message"]
    assert node.stop() == 0
