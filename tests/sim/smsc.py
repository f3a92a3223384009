#!/usr/bin/env python3
"""A carrier SMS centre for tests: CMPP 3.0 (ISMG), SMPP 3.4 (SMSC), SMGP 3.0
(China Telecom SMGW) or SGIP 1.2 (China Unicom SMG).

    python3 tests/sim/smsc.py --protocol cmpp|smpp|smgp|sgip --port N --control-port M
        [--account ID --secret S] [--report-delay SECONDS] [--fail-rate F]
        [--report-before-ack] [--report-other-link] [--msgid-hex-receipt-dec]

It accepts logins (checking the CMPP AuthenticatorSource or the SMPP
password), answers submits with message ids, sends a delivery report for each
submit that asked for one after --report-delay seconds (UNDELIV for a
fraction --fail-rate, or for numbers starting with --fail-prefix), answers
keep-alives, and misbehaves on demand through the control port: one JSON
object a line in, one JSON answer a line out.

SGIP: the gateway delivers uplink messages and reports on connections it
opens itself to the SP, logging in there with --sp-login/--sp-password. It
learns where the SP listens from {"cmd": "sp", "port": P} (and may be
given another login there: "login", "password"); the counters
callback_logins / callback_refused tell how that login went. A report
before the submit answer is sent, and answered, before the Submit_Resp.

    {"cmd": "stats"}                       counters, connections, sequence checks
    {"cmd": "submits"}                     every submit received (decoded)
    {"cmd": "mo", "src": .., "dest": .., "text": .., "coding": "ucs2|ascii|gbk", "udh": false}
    {"cmd": "drop"}                        close every connection at once
    {"cmd": "stall", "on": true}           stop answering submits
    {"cmd": "flow", "count": N}            answer N submits with flow control
    {"cmd": "error", "count": N, "code": C}  answer N submits with result C
    {"cmd": "login", "status": S}          answer logins with S (null: check)
    {"cmd": "terminate"}                   CMPP TERMINATE / SMPP unbind to all
    {"cmd": "keepalive"}                   ACTIVE_TEST / enquire_link to all
    {"cmd": "sp", "port": P}               SGIP: where the SP listens
    {"cmd": "garbage"}                     a PDU header with an impossible length

Once listening it prints "READY port=P control=C" on stdout. Standard
library only; loopback only.
"""
import argparse
import asyncio
import hashlib
import json
import random
import struct
import sys
import time

from smsc_cn import Sgip, Smgp, fixed, unfixed

# ---------------------------------------------------------------- CMPP 3.0

CMPP_CONNECT, CMPP_TERMINATE, CMPP_SUBMIT, CMPP_DELIVER, CMPP_ACTIVE_TEST = 1, 2, 4, 5, 8
RESP = 0x80000000


def cmpp_auth_source(sp, secret, ts):
    return hashlib.md5(sp.encode() + b"\0" * 9 + secret.encode() + b"%010d" % ts).digest()


def cmpp_auth_ismg(status, auth_src, secret):
    return hashlib.md5(struct.pack(">I", status) + auth_src + secret.encode()).digest()


def decode_cmpp_submit(b):
    o = 0
    msg_id, pk_total, pk_number, reg, level = struct.unpack_from(">QBBBB", b, o)
    o += 12
    service_id = unfixed(b[o:o + 10]); o += 10
    fee_user_type = b[o]; o += 1
    o += 32 + 1  # Fee_terminal_Id, Fee_terminal_type
    tp_pid, tp_udhi, msg_fmt = b[o], b[o + 1], b[o + 2]; o += 3
    msg_src = unfixed(b[o:o + 6]); o += 6
    fee_type = unfixed(b[o:o + 2]); o += 2
    fee_code = unfixed(b[o:o + 6]); o += 6
    o += 17 + 17
    src_id = unfixed(b[o:o + 21]); o += 21
    n = b[o]; o += 1
    if n < 1 or n >= 100:
        raise ValueError("DestUsr_tl")
    dests = [unfixed(b[o + 32 * i:o + 32 * i + 32]) for i in range(n)]
    o += 32 * n
    o += 1  # Dest_terminal_type
    ln = b[o]; o += 1
    content = b[o:o + ln]
    if len(content) != ln:
        raise ValueError("Msg_Length")
    o += ln + 20
    if o != len(b):
        raise ValueError("SUBMIT length %d != %d" % (len(b), o))
    return dict(pk_total=pk_total, pk_number=pk_number, report=reg, service_id=service_id,
                fee_user_type=fee_user_type, udhi=tp_udhi, coding=msg_fmt, msg_src=msg_src,
                fee_type=fee_type, fee_code=fee_code, src=src_id, dests=dests,
                content=content.hex())


# ---------------------------------------------------------------- SMPP 3.4

BIND_TRX, SUBMIT_SM, DELIVER_SM, UNBIND, ENQUIRE_LINK, GENERIC_NACK = 0x09, 0x04, 0x05, 0x06, 0x15, 0x80000000


def cstr(b, o, maxlen):
    e = b.index(b"\0", o)
    if e - o + 1 > maxlen:
        raise ValueError("C-string too long")
    return b[o:e].decode("latin-1"), e + 1


def decode_sm(b):
    o = 0
    service_type, o = cstr(b, o, 6)
    s_ton, s_npi = b[o], b[o + 1]; o += 2
    src, o = cstr(b, o, 21)
    d_ton, d_npi = b[o], b[o + 1]; o += 2
    dst, o = cstr(b, o, 21)
    esm, pid, prio = b[o], b[o + 1], b[o + 2]; o += 3
    _sched, o = cstr(b, o, 17)
    _valid, o = cstr(b, o, 17)
    reg, _repl, dcs, _defid, ln = b[o], b[o + 1], b[o + 2], b[o + 3], b[o + 4]; o += 5
    sm = b[o:o + ln]
    if len(sm) != ln:
        raise ValueError("sm_length")
    o += ln
    tlvs = {}
    while o < len(b):
        tag, tl = struct.unpack_from(">HH", b, o); o += 4
        tlvs[tag] = b[o:o + tl]; o += tl
    if o != len(b):
        raise ValueError("TLV past the end")
    return dict(service_type=service_type, src_ton=s_ton, src_npi=s_npi, src=src, dst_ton=d_ton,
                dst_npi=d_npi, dests=[dst], esm_class=esm, udhi=1 if esm & 0x40 else 0,
                report=reg & 1, coding=dcs, content=sm.hex(),
                tlvs={"%04x" % k: v.hex() for k, v in tlvs.items()})


def encode_sm(src, dst, esm, dcs, sm, reg=0, tlvs=b""):
    return (b"\0" + bytes([1, 1]) + src.encode() + b"\0" + bytes([0, 0]) + dst.encode() + b"\0" +
            bytes([esm, 0, 0]) + b"\0" + b"\0" + bytes([reg, 0, dcs, 0, len(sm)]) + sm + tlvs)


# ---------------------------------------------------------------- the centre

class Conn:
    def __init__(self, smsc, reader, writer):
        self.smsc, self.reader, self.writer = smsc, reader, writer
        self.bound = False
        self.seq_out = 0
        self.last_seq_in = None
        smsc.conn_count += 1
        self.id = smsc.conn_count
        self.seen_seqs = set()

    def next_seq(self):
        self.seq_out = self.seq_out % 0x7fffffff + 1
        return self.seq_out

    def send(self, data):
        if not self.writer.is_closing():
            self.writer.write(data)


class Smsc(Smgp, Sgip):
    def __init__(self, args):
        self.a = args
        self.proto = args.protocol
        self.conns = []
        self.conn_count = 0
        self.rng = random.Random(args.seed)
        self.stall = False
        self.flow = 0
        self.error = (0, 0)
        self.login_status = None
        self.msg_seq = 0
        self.stats = dict(received=0, logins=0, login_failures=0, submits=0, retransmits=0, reports_sent=0,
                          mo_sent=0, keepalives=0, throttled=0, errors=0, seq_errors=0,
                          deliver_resps=0, connections_total=0, unbinds=0, dropped=0,
                          callback_connections=0, callback_logins=0, callback_refused=0,
                          report_resps=0)
        self.submits = []

    # -- framing
    def pdu(self, cmd, seq, body, status=0):
        if self.proto in ("cmpp", "smgp"):
            return struct.pack(">III", 12 + len(body), cmd, seq) + body
        return struct.pack(">IIII", 16 + len(body), cmd, status, seq) + body

    async def serve(self, reader, writer):
        c = Conn(self, reader, writer)
        self.conns.append(c)
        self.stats["connections_total"] += 1
        hl = {"cmpp": 12, "smgp": 12, "smpp": 16, "sgip": 20}[self.proto]
        try:
            while True:
                hdr = await reader.readexactly(hl)
                total = struct.unpack(">I", hdr[:4])[0]
                if total < hl or total > 8192:
                    break
                body = await reader.readexactly(total - hl)
                if self.proto == "cmpp":
                    cmd, seq = struct.unpack(">II", hdr[4:])
                    await self.on_cmpp(c, cmd, seq, body)
                elif self.proto == "smgp":
                    cmd, seq = struct.unpack(">II", hdr[4:])
                    await self.on_smgp(c, cmd, seq, body)
                elif self.proto == "sgip":
                    cmd = struct.unpack(">I", hdr[4:8])[0]
                    await self.on_sgip(c, cmd, struct.unpack(">III", hdr[8:]), body)
                else:
                    cmd, status, seq = struct.unpack(">III", hdr[4:])
                    await self.on_smpp(c, cmd, status, seq, body)
                if writer.is_closing():
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            if c in self.conns:
                self.conns.remove(c)
            writer.close()

    def check_seq(self, c, seq):
        """A new request's sequence number must not repeat one in use and
        must follow the last (wrapping); the same number again is a
        retransmission."""
        if seq in self.seen_window(c):
            self.stats["retransmits"] += 1
            return False
        if c.last_seq_in is not None and seq != c.last_seq_in % 0x7fffffff + 1:
            self.stats["seq_errors"] += 1
            if self.a.verbose:
                print("sequence %d after %d" % (seq, c.last_seq_in), flush=True)
        c.last_seq_in = seq
        c.seen_seqs.add(seq)
        self.stats["received"] += 1
        if len(c.seen_seqs) > 4096:
            c.seen_seqs.clear()
        return True

    def seen_window(self, c):
        return c.seen_seqs

    def new_msgid(self):
        self.msg_seq = (self.msg_seq + 1) & 0xffff
        t = time.gmtime(time.time() + 8 * 3600)
        return (t.tm_mon << 60 | t.tm_mday << 55 | t.tm_hour << 50 | t.tm_min << 44 |
                t.tm_sec << 38 | (self.a.gateway_code & 0x3fffff) << 16 | self.msg_seq)

    def pick_submit_answer(self):
        if self.flow > 0:
            self.flow -= 1
            self.stats["throttled"] += 1
            return "flow"
        if self.error[0] > 0:
            self.error = (self.error[0] - 1, self.error[1])
            self.stats["errors"] += 1
            return self.error[1]
        return 0

    def report_stat(self, dest):
        if self.a.fail_prefix and dest.startswith(self.a.fail_prefix):
            return "UNDELIV"
        if self.rng.random() < self.a.fail_rate:
            return "UNDELIV"
        return "DELIVRD"

    def report_conn(self, c):
        if self.a.report_other_link:
            others = [o for o in self.conns if o is not c and o.bound]
            if others:
                return others[0]
        return c

    # -- CMPP
    async def on_cmpp(self, c, cmd, seq, body):
        a = self.a
        if cmd == CMPP_CONNECT:
            if len(body) != 27:
                c.send(self.pdu(CMPP_CONNECT | RESP, seq, struct.pack(">I", 1) + b"\0" * 16 + b"\x30"))
                return
            sp = unfixed(body[:6])
            auth = body[6:22]
            version = body[22]
            ts = struct.unpack(">I", body[23:27])[0]
            if self.login_status is not None:
                status = self.login_status
            elif sp != a.account:
                status = 2
            elif auth != cmpp_auth_source(sp, a.secret, ts):
                status = 3
            elif version > 0x30:
                status = 4
            else:
                status = 0
            ismg = cmpp_auth_ismg(status, auth, a.secret) if status == 0 else b"\0" * 16
            c.send(self.pdu(CMPP_CONNECT | RESP, seq, struct.pack(">I", status) + ismg + b"\x30"))
            if status == 0:
                c.bound = True
                c.last_seq_in = seq
                self.stats["logins"] += 1
            else:
                self.stats["login_failures"] += 1
            return
        if cmd == CMPP_ACTIVE_TEST:
            self.stats["keepalives"] += 1
            c.send(self.pdu(CMPP_ACTIVE_TEST | RESP, seq, b"\0"))
            return
        if cmd == CMPP_TERMINATE:
            c.send(self.pdu(CMPP_TERMINATE | RESP, seq, b""))
            self.stats["unbinds"] += 1
            await c.writer.drain()
            c.writer.close()
            return
        if cmd in (CMPP_ACTIVE_TEST | RESP, CMPP_TERMINATE | RESP):
            if cmd == CMPP_TERMINATE | RESP:
                c.writer.close()
            return
        if cmd == CMPP_DELIVER | RESP:
            self.stats["deliver_resps"] += 1
            return
        if not c.bound:
            c.writer.close()
            return
        if cmd == CMPP_SUBMIT:
            first = self.check_seq(c, seq)
            if self.stall:
                return
            try:
                sub = decode_cmpp_submit(body)
            except (ValueError, IndexError, struct.error):
                c.send(self.pdu(CMPP_SUBMIT | RESP, seq, struct.pack(">QI", 0, 1)))
                return
            ans = self.pick_submit_answer()
            if ans == "flow":
                c.send(self.pdu(CMPP_SUBMIT | RESP, seq, struct.pack(">QI", 0, 8)))
                return
            if ans != 0:
                c.send(self.pdu(CMPP_SUBMIT | RESP, seq, struct.pack(">QI", 0, ans)))
                return
            msgid = self.new_msgid()
            sub["msgid"] = str(msgid)
            sub["seq"] = seq
            sub["first"] = first
            sub["conn"] = c.id
            sub["t"] = time.monotonic()
            self.submits.append(sub)
            self.stats["submits"] += 1
            resp = self.pdu(CMPP_SUBMIT | RESP, seq, struct.pack(">QI", msgid, 0))
            if sub["report"] and a.report_before_ack:
                self.send_cmpp_report(c, msgid, sub["dests"][0])
                c.send(resp)
            else:
                c.send(resp)
                if sub["report"]:
                    asyncio.get_running_loop().call_later(
                        a.report_delay, self.send_cmpp_report, c, msgid, sub["dests"][0])
            return
        c.send(self.pdu(cmd | RESP, seq, b""))  # unknown: empty answer

    def send_cmpp_report(self, c, msgid, dest):
        c = self.report_conn(c)
        now = time.strftime("%y%m%d%H%M", time.gmtime(time.time() + 8 * 3600))
        stat = self.report_stat(dest)
        rep = (struct.pack(">Q", msgid) + fixed(stat, 7) + fixed(now, 10) + fixed(now, 10) +
               fixed(dest, 32) + struct.pack(">I", self.msg_seq))
        body = (struct.pack(">Q", self.new_msgid()) + fixed(self.a.service_number, 21) +
                fixed("HRSS", 10) + bytes([0, 0, 0]) + fixed(dest, 32) + bytes([0, 1, len(rep)]) +
                rep + fixed("", 20))
        c.send(self.pdu(CMPP_DELIVER, c.next_seq(), body))
        self.stats["reports_sent"] += 1

    def send_cmpp_mo(self, c, src, dest, content, fmt, udhi):
        body = (struct.pack(">Q", self.new_msgid()) + fixed(dest, 21) + fixed("HRSS", 10) +
                bytes([0, udhi, fmt]) + fixed(src, 32) + bytes([0, 0, len(content)]) + content +
                fixed("", 20))
        c.send(self.pdu(CMPP_DELIVER, c.next_seq(), body))

    # -- SMPP
    async def on_smpp(self, c, cmd, status, seq, body):
        a = self.a
        if cmd == BIND_TRX:
            try:
                sysid, o = cstr(body, 0, 16)
                pw, o = cstr(body, o, 9)
                _stype, o = cstr(body, o, 13)
                ver = body[o]
            except (ValueError, IndexError):
                c.send(self.pdu(BIND_TRX | RESP, seq, b"\0", 0x0D))
                return
            if self.login_status is not None:
                st = self.login_status
            elif sysid != a.account:
                st = 0x0F
            elif pw != a.secret:
                st = 0x0E
            elif ver != 0x34:
                st = 0x0D
            else:
                st = 0
            c.send(self.pdu(BIND_TRX | RESP, seq, b"hrss-sim\0", st))
            if st == 0:
                c.bound = True
                c.last_seq_in = seq
                self.stats["logins"] += 1
            else:
                self.stats["login_failures"] += 1
            return
        if cmd == ENQUIRE_LINK:
            self.stats["keepalives"] += 1
            c.send(self.pdu(ENQUIRE_LINK | RESP, seq, b""))
            return
        if cmd == UNBIND:
            self.stats["unbinds"] += 1
            c.send(self.pdu(UNBIND | RESP, seq, b""))
            await c.writer.drain()
            c.writer.close()
            return
        if cmd == DELIVER_SM | RESP:
            self.stats["deliver_resps"] += 1
            return
        if cmd in (ENQUIRE_LINK | RESP, UNBIND | RESP, GENERIC_NACK):
            if cmd == UNBIND | RESP:
                c.writer.close()
            return
        if not c.bound:
            c.send(self.pdu(GENERIC_NACK, seq, b"", 0x04))
            return
        if cmd == SUBMIT_SM:
            first = self.check_seq(c, seq)
            if self.stall:
                return
            try:
                sub = decode_sm(body)
            except (ValueError, IndexError, struct.error):
                c.send(self.pdu(SUBMIT_SM | RESP, seq, b"\0", 0x01))
                return
            ans = self.pick_submit_answer()
            if ans == "flow":
                c.send(self.pdu(SUBMIT_SM | RESP, seq, b"\0", 0x58))
                return
            if ans != 0:
                c.send(self.pdu(SUBMIT_SM | RESP, seq, b"\0", ans))
                return
            self.msg_seq += 1
            n = 0x1000000 + self.msg_seq
            wire_id = ("%X" % n) if a.msgid_hex_receipt_dec else str(n)
            sub["msgid"] = wire_id
            sub["seq"] = seq
            sub["first"] = first
            sub["conn"] = c.id
            sub["t"] = time.monotonic()
            self.submits.append(sub)
            self.stats["submits"] += 1
            resp = self.pdu(SUBMIT_SM | RESP, seq, wire_id.encode() + b"\0")
            if sub["report"] and a.report_before_ack:
                self.send_smpp_report(c, n, sub["dests"][0], sub["src"])
                c.send(resp)
            else:
                c.send(resp)
                if sub["report"]:
                    asyncio.get_running_loop().call_later(
                        a.report_delay, self.send_smpp_report, c, n, sub["dests"][0], sub["src"])
            return
        c.send(self.pdu(GENERIC_NACK, seq, b"", 0x03))

    def send_smpp_report(self, c, n, dest, src):
        c = self.report_conn(c)
        stat = self.report_stat(dest)
        now = time.strftime("%y%m%d%H%M", time.gmtime(time.time() + 8 * 3600))
        rid = str(n)  # receipt texts carry the id in decimal
        text = ("id:%s sub:001 dlvrd:%s submit date:%s done date:%s stat:%s err:%s text:" %
                (rid, "001" if stat == "DELIVRD" else "000", now, now, stat,
                 "000" if stat == "DELIVRD" else "001")).encode()
        tlvs = b""
        if self.a.receipt_tlvs:  # receipted_message_id as in submit_sm_resp, message_state
            wire_id = ("%X" % n) if self.a.msgid_hex_receipt_dec else str(n)
            rid_tlv = wire_id.encode() + b"\0"
            tlvs = (struct.pack(">HH", 0x001E, len(rid_tlv)) + rid_tlv +
                    struct.pack(">HHB", 0x0427, 1, 2 if stat == "DELIVRD" else 5))
        body = encode_sm(dest, src, 0x04, 0, text, tlvs=tlvs)
        c.send(self.pdu(DELIVER_SM, c.next_seq(), body))
        self.stats["reports_sent"] += 1

    def send_smpp_mo(self, c, src, dest, content, dcs, udhi):
        body = encode_sm(src, dest, 0x40 if udhi else 0, dcs, content)
        c.send(self.pdu(DELIVER_SM, c.next_seq(), body))

    def send_mo(self, c, src, dest, content, code, udhi, link_id=""):
        if self.proto == "cmpp":
            self.send_cmpp_mo(c, src, dest, content, code, udhi)
        elif self.proto == "smgp":
            self.send_smgp_mo(c, src, dest, content, code, udhi, link_id)
        elif self.proto == "sgip":  # on the SMG's own connection to the SP; counted there
            asyncio.ensure_future(self.send_sgip_mo(src, dest, content, code, udhi))
            return
        else:
            self.send_smpp_mo(c, src, dest, content, code, udhi)
        self.stats["mo_sent"] += 1

    # -- control
    def control(self, req):
        cmd = req.get("cmd")
        if cmd == "stats":
            d = dict(self.stats)
            d["connections"] = len([c for c in self.conns if c.bound])
            return d
        if cmd == "submits":
            return {"submits": self.submits}
        if cmd == "mo" and req.get("parts"):
            # a long MO in parts: UCS2, 8-bit reference, sent in the given order
            raw = req["text"].encode("utf-16-be")
            n = int(req["parts"])
            size = -(-len(raw) // n)
            size += size % 2
            chunks = [raw[i:i + size] for i in range(0, len(raw), size)]
            live = [c for c in self.conns if c.bound] or ([None] if self.proto == "sgip" else [])
            if not live:
                return {"error": "no bound connection"}
            for k, seq in enumerate(req.get("order") or range(1, len(chunks) + 1)):
                content = bytes([5, 0, 3, int(req.get("ref", 0x42)) & 0xff, len(chunks), seq]) + \
                    chunks[seq - 1]
                c = live[(req.get("link", 0) + k) % len(live)]
                self.send_mo(c, req["src"], req["dest"], content, 8, 1)
            return {"ok": True, "parts": len(chunks)}
        if cmd == "mo":
            coding = req.get("coding", "ucs2")
            text = req["text"]
            if coding == "ucs2":
                content, code = text.encode("utf-16-be"), 8
            elif coding == "gbk":
                content, code = text.encode("gbk"), 15
            else:
                content, code = text.encode("ascii"), 0
            udhi = 1 if req.get("udh") else 0
            if udhi:
                content = bytes([5, 0, 3, 0x42, 1, 1]) + content
            live = [c for c in self.conns if c.bound] or ([None] if self.proto == "sgip" else [])
            if not live:
                return {"error": "no bound connection"}
            c = live[req.get("link", 0) % len(live)]
            if self.proto == "smpp":
                code = 8 if code == 8 else 0 if code == 0 else 8
            self.send_mo(c, req["src"], req["dest"], content, code, udhi, req.get("link_id", ""))
            return {"ok": True}
        if cmd == "sp":
            self.sp = {"port": int(req["port"]), "login": req.get("login", self.a.sp_login),
                       "password": req.get("password", self.a.sp_password)}
            if getattr(self, "cb", None) is not None and self.cb["w"] is not None:
                self.cb["w"].close()
            self.cb = None
            return {"ok": True}
        if cmd == "drop":
            n = len(self.conns)
            for c in list(self.conns):
                c.writer.transport.abort()
            self.stats["dropped"] += n
            return {"dropped": n}
        if cmd == "stall":
            self.stall = bool(req.get("on", True))
            return {"ok": True}
        if cmd == "flow":
            self.flow = int(req.get("count", 1))
            return {"ok": True}
        if cmd == "error":
            self.error = (int(req.get("count", 1)), int(req["code"]))
            return {"ok": True}
        if cmd == "login":
            self.login_status = req.get("status")
            return {"ok": True}
        if cmd == "terminate":
            for c in self.conns:
                if self.proto == "cmpp":
                    c.send(self.pdu(CMPP_TERMINATE, c.next_seq(), b""))
                elif self.proto == "smgp":
                    c.send(self.pdu(6, c.next_seq(), b""))
                elif self.proto == "sgip":
                    c.send(self.sgip_pdu(2, self.sgip_seq(), b""))
                else:
                    c.send(self.pdu(UNBIND, c.next_seq(), b""))
            return {"ok": True}
        if cmd == "garbage":  # a header whose length is below the header size
            for c in self.conns:
                c.send(struct.pack(">III", 5, 0x80000004, 1) +
                       b"\0" * {"smpp": 4, "sgip": 8}.get(self.proto, 0))
            return {"ok": True}
        if cmd == "keepalive":
            for c in self.conns:
                if self.proto == "cmpp":
                    c.send(self.pdu(CMPP_ACTIVE_TEST, c.next_seq(), b""))
                elif self.proto == "smgp":
                    c.send(self.pdu(4, c.next_seq(), b""))
                elif self.proto == "smpp":
                    c.send(self.pdu(ENQUIRE_LINK, c.next_seq(), b""))
            return {"ok": True}
        return {"error": "unknown command"}

    async def serve_control(self, reader, writer):
        try:
            while True:
                line = await reader.readline()
                if not line:
                    break
                try:
                    ans = self.control(json.loads(line))
                except (ValueError, KeyError, TypeError) as e:
                    ans = {"error": str(e)}
                writer.write(json.dumps(ans).encode() + b"\n")
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()


async def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--protocol", choices=["cmpp", "smpp", "smgp", "sgip"], required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--control-port", type=int, default=0)
    ap.add_argument("--account", default="900001")
    ap.add_argument("--secret", default="888888")
    ap.add_argument("--service-number", default="10658012333")
    ap.add_argument("--gateway-code", type=int, default=12333)
    ap.add_argument("--report-delay", type=float, default=0.05)
    ap.add_argument("--fail-rate", type=float, default=0.0)
    ap.add_argument("--fail-prefix", default="")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--report-before-ack", action="store_true")
    ap.add_argument("--report-other-link", action="store_true")
    ap.add_argument("--msgid-hex-receipt-dec", action="store_true",
                    help="SMPP: submit_sm_resp ids in hex, receipt ids in decimal")
    ap.add_argument("--receipt-tlvs", action="store_true",
                    help="SMPP: receipts also carry receipted_message_id and message_state")
    ap.add_argument("--report-hex-id", action="store_true",
                    help="SMGP: reports carry the MsgID as 20 hex digits, not 10 bytes")
    ap.add_argument("--sp-login", default="smg", help="SGIP: the login on the SP's listener")
    ap.add_argument("--sp-password", default="smgpass")
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--lifetime", type=float, default=600, help="exit after this many seconds")
    args = ap.parse_args()
    smsc = Smsc(args)
    srv = await asyncio.start_server(smsc.serve, "127.0.0.1", args.port)
    ctl = await asyncio.start_server(smsc.serve_control, "127.0.0.1", args.control_port)
    port = srv.sockets[0].getsockname()[1]
    cport = ctl.sockets[0].getsockname()[1]
    print("READY port=%d control=%d" % (port, cport), flush=True)
    await asyncio.sleep(args.lifetime)


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
