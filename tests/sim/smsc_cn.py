"""The SMGP 3.0 and SGIP 1.2 halves of the test SMS centre (smsc.py): the
China Telecom gateway (SMGW) and the China Unicom gateway (SMG), with the
same counters and misbehaviours as the CMPP one. Standard library only."""
import asyncio
import hashlib
import struct
import time

RESP = 0x80000000
SMGP_LOGIN, SMGP_SUBMIT, SMGP_DELIVER, SMGP_ACTIVE_TEST, SMGP_EXIT = 1, 2, 3, 4, 6
SGIP_BIND, SGIP_UNBIND, SGIP_SUBMIT, SGIP_DELIVER, SGIP_REPORT = 1, 2, 3, 4, 5


def fixed(s, w):
    b = s.encode() if isinstance(s, str) else s
    if len(b) > w:
        raise ValueError("field too long")
    return b + b"\0" * (w - len(b))


def unfixed(b):
    return b.split(b"\0", 1)[0].decode("latin-1")


def smgp_auth_client(cid, secret, ts):
    return hashlib.md5(cid.encode() + b"\0" * 7 + secret.encode() + b"%010d" % ts).digest()


def smgp_auth_server(status, auth, secret):
    return hashlib.md5(struct.pack(">I", status) + auth + secret.encode()).digest()


def smgp_tlvs(b):
    t = {}
    o = 0
    while o < len(b):
        tag, ln = struct.unpack_from(">HH", b, o)
        o += 4
        if o + ln > len(b):
            raise ValueError("TLV past the end")
        t[tag] = b[o:o + ln]
        o += ln
    return t


def decode_smgp_submit(b):
    o = 0
    msg_type, need_report, prio = b[0], b[1], b[2]; o = 3
    service_id = unfixed(b[o:o + 10]); o += 10
    fee_type = unfixed(b[o:o + 2]); o += 2
    fee_code = unfixed(b[o:o + 6]); o += 6
    o += 6  # FixedFee
    fmt = b[o]; o += 1
    o += 17 + 17
    src = unfixed(b[o:o + 21]); o += 21
    o += 21  # ChargeTermID
    n = b[o]; o += 1
    if n < 1 or n > 100:
        raise ValueError("DestTermIDCount")
    dests = [unfixed(b[o + 21 * i:o + 21 * i + 21]) for i in range(n)]
    o += 21 * n
    ln = b[o]; o += 1
    content = b[o:o + ln]
    if len(content) != ln:
        raise ValueError("MsgLength")
    o += ln + 8
    if o > len(b):
        raise ValueError("short Submit")
    tl = smgp_tlvs(b[o:])
    udhi = tl.get(2, b"\0")[0]
    return dict(msg_type=msg_type, report=need_report, service_id=service_id, fee_type=fee_type,
                fee_code=fee_code, coding=fmt, src=src, dests=dests, content=content.hex(),
                udhi=udhi, pk_total=tl.get(9, b"\1")[0], pk_number=tl.get(10, b"\1")[0],
                link_id=unfixed(tl.get(3, b"")), tlvs=sorted(tl))


def decode_sgip_submit(b):
    o = 0
    sp = unfixed(b[o:o + 21]); o += 21
    charge = unfixed(b[o:o + 21]); o += 21
    n = b[o]; o += 1
    if n < 1 or n > 100:
        raise ValueError("UserCount")
    users = [unfixed(b[o + 21 * i:o + 21 * i + 21]) for i in range(n)]
    o += 21 * n
    corp = unfixed(b[o:o + 5]); o += 5
    service = unfixed(b[o:o + 10]); o += 10
    fee_type = b[o]; o += 1
    fee_value = unfixed(b[o:o + 6]); o += 6
    o += 6 + 3 + 16 + 16  # GivenValue, flags, times
    report_flag, pid, udhi, coding, mtype = b[o:o + 5]; o += 5
    ln = struct.unpack_from(">I", b, o)[0]; o += 4
    content = b[o:o + ln]
    if len(content) != ln:
        raise ValueError("MessageLength")
    o += ln + 8
    if o != len(b):
        raise ValueError("Submit length %d != %d" % (len(b), o))
    return dict(src=sp, charge=charge, dests=users, corp_id=corp, service_id=service,
                fee_type=fee_type, fee_value=fee_value, report_flag=report_flag,
                report=1 if report_flag in (0, 1) else 0, udhi=udhi, coding=coding,
                content=content.hex())


class Smgp:
    """The SMGW side, mixed into Smsc."""

    def smgp_msgid(self):
        self.msg_seq = (self.msg_seq + 1) % 1000000
        t = time.gmtime(time.time() + 8 * 3600)
        bcd = "%06d%02d%02d%02d%02d%06d" % (self.a.gateway_code % 1000000, t.tm_mon, t.tm_mday,
                                            t.tm_hour, t.tm_min, self.msg_seq)
        return bytes.fromhex(bcd)

    async def on_smgp(self, c, cmd, seq, body):
        a = self.a
        if cmd == SMGP_LOGIN:
            if len(body) != 30:
                c.send(self.pdu(SMGP_LOGIN | RESP, seq, struct.pack(">I", 10) + b"\0" * 16 + b"\x30"))
                return
            cid = unfixed(body[:8])
            auth = body[8:24]
            ts = struct.unpack(">I", body[25:29])[0]
            version = body[29]
            if self.login_status is not None:
                status = self.login_status
            elif cid != a.account or auth != smgp_auth_client(cid, a.secret, ts):
                status = 21
            elif version > 0x30:
                status = 22
            else:
                status = 0
            srv = smgp_auth_server(status, auth, a.secret) if status == 0 else b"\0" * 16
            c.send(self.pdu(SMGP_LOGIN | RESP, seq, struct.pack(">I", status) + srv + b"\x30"))
            if status == 0:
                c.bound = True
                c.last_seq_in = seq
                self.stats["logins"] += 1
            else:
                self.stats["login_failures"] += 1
            return
        if cmd == SMGP_ACTIVE_TEST:
            self.stats["keepalives"] += 1
            c.send(self.pdu(SMGP_ACTIVE_TEST | RESP, seq, b""))
            return
        if cmd == SMGP_EXIT:
            self.stats["unbinds"] += 1
            c.send(self.pdu(SMGP_EXIT | RESP, seq, b""))
            await c.writer.drain()
            c.writer.close()
            return
        if cmd in (SMGP_ACTIVE_TEST | RESP, SMGP_EXIT | RESP):
            if cmd == SMGP_EXIT | RESP:
                c.writer.close()
            return
        if cmd == SMGP_DELIVER | RESP:
            self.stats["deliver_resps"] += 1
            return
        if not c.bound:
            c.writer.close()
            return
        if cmd == SMGP_SUBMIT:
            first = self.check_seq(c, seq)
            if self.stall:
                return
            try:
                sub = decode_smgp_submit(body)
            except (ValueError, IndexError, struct.error):
                c.send(self.pdu(SMGP_SUBMIT | RESP, seq, b"\0" * 10 + struct.pack(">I", 10)))
                return
            ans = self.pick_submit_answer()
            if ans == "flow":
                c.send(self.pdu(SMGP_SUBMIT | RESP, seq, b"\0" * 10 + struct.pack(">I", 1)))
                return
            if ans != 0:
                c.send(self.pdu(SMGP_SUBMIT | RESP, seq, b"\0" * 10 + struct.pack(">I", ans)))
                return
            mid = self.smgp_msgid()
            sub.update(msgid=mid.hex(), seq=seq, first=first, conn=c.id, t=time.monotonic())
            self.submits.append(sub)
            self.stats["submits"] += 1
            resp = self.pdu(SMGP_SUBMIT | RESP, seq, mid + struct.pack(">I", 0))
            if sub["report"] and a.report_before_ack:
                self.send_smgp_report(c, mid, sub["dests"][0], sub["src"])
                c.send(resp)
            else:
                c.send(resp)
                if sub["report"]:
                    asyncio.get_running_loop().call_later(
                        a.report_delay, self.send_smgp_report, c, mid, sub["dests"][0], sub["src"])
            return
        c.send(self.pdu(cmd | RESP, seq, b""))

    def smgp_deliver(self, c, is_report, fmt, src, dest, content, tlvs=b""):
        now = time.strftime("%Y%m%d%H%M%S", time.gmtime(time.time() + 8 * 3600))
        body = (self.smgp_msgid() + bytes([is_report, fmt]) + fixed(now, 14) + fixed(src, 21) +
                fixed(dest, 21) + bytes([len(content)]) + content + b"\0" * 8 + tlvs)
        c.send(self.pdu(SMGP_DELIVER, c.next_seq(), body))

    def send_smgp_report(self, c, mid, dest, src):
        c = self.report_conn(c)
        stat = self.report_stat(dest)
        now = time.strftime("%y%m%d%H%M", time.gmtime(time.time() + 8 * 3600))
        if self.a.report_hex_id:
            rid = mid.hex().upper().encode()
        else:
            rid = mid
        text = (b"id:" + rid + (" sub:001 dlvrd:001 submit date:%s done date:%s stat:%s err:%s text:"
                                % (now, now, stat, "000" if stat == "DELIVRD" else "004")).encode()
                + b"000" + b"\0" * 17)
        self.smgp_deliver(c, 1, 0, dest, src, text)
        self.stats["reports_sent"] += 1

    def send_smgp_mo(self, c, src, dest, content, fmt, udhi, link_id=""):
        tlvs = struct.pack(">HHB", 2, 1, udhi)
        if link_id:
            tlvs += struct.pack(">HH", 3, 20) + fixed(link_id, 20)
        self.smgp_deliver(c, 0, fmt, src, dest, content, tlvs)


class Sgip:
    """The SMG side, mixed into Smsc: the SP's connections in, and the one
    the SMG opens to the SP for Deliver and Report."""

    def sgip_pdu(self, cmd, seq, body):
        return struct.pack(">II", 20 + len(body), cmd) + struct.pack(">III", *seq) + body

    def sgip_seq(self):
        self.cb_counter = (getattr(self, "cb_counter", 0) + 1) & 0xffffffff
        t = time.gmtime(time.time() + 8 * 3600)
        stamp = int("%02d%02d%02d%02d%02d" % (t.tm_mon, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec))
        return (self.a.gateway_code, stamp, self.cb_counter)

    async def on_sgip(self, c, cmd, seq, body):
        a = self.a
        r0 = b"\0" + b"\0" * 8
        if cmd == SGIP_BIND:
            if len(body) != 41:
                c.send(self.sgip_pdu(SGIP_BIND | RESP, seq, b"\x05" + b"\0" * 8))
                return
            ltype, name, pw = body[0], unfixed(body[1:17]), unfixed(body[17:33])
            if self.login_status is not None:
                st = self.login_status
            elif ltype != 1:
                st = 4
            elif name != a.account or pw != a.secret:
                st = 1
            else:
                st = 0
            c.send(self.sgip_pdu(SGIP_BIND | RESP, seq, bytes([st]) + b"\0" * 8))
            if st == 0:
                c.bound = True
                c.last_seq_in = seq[2]
                self.stats["logins"] += 1
            else:
                self.stats["login_failures"] += 1
            return
        if cmd == SGIP_UNBIND:
            self.stats["unbinds"] += 1
            c.send(self.sgip_pdu(SGIP_UNBIND | RESP, seq, b""))
            await c.writer.drain()
            c.writer.close()
            return
        if cmd == SGIP_UNBIND | RESP:
            c.writer.close()
            return
        if not c.bound:
            c.writer.close()
            return
        if cmd == SGIP_SUBMIT:
            first = self.check_seq(c, seq[2])
            if self.stall:
                return
            try:
                sub = decode_sgip_submit(body)
            except (ValueError, IndexError, struct.error):
                c.send(self.sgip_pdu(SGIP_SUBMIT | RESP, seq, b"\x05" + b"\0" * 8))
                return
            ans = self.pick_submit_answer()
            if ans == "flow":
                c.send(self.sgip_pdu(SGIP_SUBMIT | RESP, seq, b"\x0b" + b"\0" * 8))
                return
            if ans != 0:
                c.send(self.sgip_pdu(SGIP_SUBMIT | RESP, seq, bytes([ans]) + b"\0" * 8))
                return
            sub.update(msgid="%d-%010d-%d" % seq, seq=seq[2], first=first, conn=c.id,
                       t=time.monotonic())
            self.submits.append(sub)
            self.stats["submits"] += 1
            resp = self.sgip_pdu(SGIP_SUBMIT | RESP, seq, r0)
            if sub["report"] and a.report_before_ack:
                await self.send_sgip_report(seq, sub["dests"][0])
                c.send(resp)
            else:
                c.send(resp)
                if sub["report"]:
                    asyncio.get_running_loop().call_later(
                        a.report_delay,
                        lambda s=seq, d=sub["dests"][0]: asyncio.ensure_future(self.send_sgip_report(s, d)))
            return
        c.send(self.sgip_pdu(cmd | RESP, seq, r0))

    # -- the connection to the SP
    async def callback(self):
        """The open, logged-in connection to the SP, or None."""
        cb = getattr(self, "cb", None)
        if cb is not None and (cb["w"] is None or not cb["w"].is_closing()):
            await cb["ready"]  # connecting, or connected
            return cb if cb["ok"] else None
        sp = getattr(self, "sp", None)
        if sp is None:
            return None
        loop = asyncio.get_running_loop()
        cb = {"ready": loop.create_future(), "ok": False, "w": None, "waiting": {}}
        self.cb = cb
        try:
            r, w = await asyncio.open_connection("127.0.0.1", sp["port"])
        except OSError:
            self.cb = None
            cb["ready"].set_result(False)
            return None
        cb["w"] = w
        self.stats["callback_connections"] += 1
        seq = self.sgip_seq()
        w.write(self.sgip_pdu(SGIP_BIND, seq, bytes([2]) + fixed(sp["login"], 16) +
                              fixed(sp["password"], 16) + b"\0" * 8))
        asyncio.ensure_future(self.callback_read(cb, r))
        await cb["ready"]
        return cb if cb["ok"] else None

    async def callback_read(self, cb, r):
        try:
            while True:
                hdr = await r.readexactly(20)
                ln, cmd = struct.unpack(">II", hdr[:8])
                seq = struct.unpack(">III", hdr[8:20])
                body = await r.readexactly(ln - 20)
                if cmd == SGIP_BIND | RESP:
                    cb["ok"] = body[0] == 0
                    self.stats["callback_logins" if cb["ok"] else "callback_refused"] += 1
                    cb["ready"].set_result(cb["ok"])
                elif cmd in (SGIP_REPORT | RESP, SGIP_DELIVER | RESP):
                    self.stats["report_resps" if cmd == SGIP_REPORT | RESP else "deliver_resps"] += 1
                    f = cb["waiting"].pop(seq, None)
                    if f is not None and not f.done():
                        f.set_result(body[0])
                elif cmd == SGIP_UNBIND:
                    cb["w"].write(self.sgip_pdu(SGIP_UNBIND | RESP, seq, b""))
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            if not cb["ready"].done():
                cb["ready"].set_result(False)
            if cb["w"] is not None:
                cb["w"].close()
            for f in cb["waiting"].values():
                if not f.done():
                    f.set_result(None)

    async def callback_send(self, cmd, body):
        """Sends on the connection to the SP and waits for the answer's result."""
        cb = await self.callback()
        if cb is None:
            return None
        seq = self.sgip_seq()
        f = asyncio.get_running_loop().create_future()
        cb["waiting"][seq] = f
        cb["w"].write(self.sgip_pdu(cmd, seq, body))
        try:
            return await asyncio.wait_for(f, 10)
        except asyncio.TimeoutError:
            return None

    async def send_sgip_report(self, submit_seq, dest):
        stat = self.report_stat(dest[2:] if dest.startswith("86") else dest)
        body = (struct.pack(">III", *submit_seq) + b"\0" + fixed(dest, 21) +
                bytes([0 if stat == "DELIVRD" else 2, 0 if stat == "DELIVRD" else 25]) + b"\0" * 8)
        if await self.callback_send(SGIP_REPORT, body) is not None:
            self.stats["reports_sent"] += 1

    async def send_sgip_mo(self, src, dest, content, coding, udhi):
        user = src if src.startswith("86") else "86" + src
        body = (fixed(user, 21) + fixed(dest, 21) + bytes([0, udhi, coding]) +
                struct.pack(">I", len(content)) + content + b"\0" * 8)
        if await self.callback_send(SGIP_DELIVER, body) is not None:
            self.stats["mo_sent"] += 1
