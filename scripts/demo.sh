#!/usr/bin/env bash
# make demo: the platform at work on loopback. hrss-node and
# hrss-demo-provider start with SQLite under ./var/demo, the systems,
# services and grants are registered, then real transactions go through the
# node with `hrss call` (the SDK's caller API), one explanation line before
# each: plain, SM4, SM2, paged, batch, no grant (50), tampered signature
# (30), replay (refused). Then hrss-sms joins as a caller of the node, with
# the carrier simulator of tests/sim standing in for China Mobile: a phone
# binds a person and asks CBXX#name, answered from the provider through
# the node. Last, `hrss conform node` judges the node clause by clause and
# prints its summary. Then it stays up and prints the URLs until Ctrl-C.
#   scripts/demo.sh BUILD_DIR [--once]
# --once exits after the steps: 0 when every step behaved as shown.
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
once=0
[[ ${2:-} == --once ]] && once=1
hrss="$build/hrss"
node="$build/hrss-node"
provider="$build/hrss-demo-provider"
top=$(cd "$(dirname "$0")/.." && pwd)
work=${HRSS_DEMO_DIR:-"$top/var/demo"}
sms="$build/hrss-sms"
for b in "$hrss" "$node" "$provider" "$sms"; do
  [[ -x $b ]] || { echo "demo: $b is missing: run 'make' first" >&2; exit 1; }
done
rm -rf "$work"
umask 077 # secrets, keys, the registry and sms.conf: for this user only
mkdir -p "$work"
export HRSS_STATE_DIR="$work/state"
step=0
bold() { if [[ -t 1 ]]; then printf '\033[1m%s\033[0m\n' "$*"; else printf '%s\n' "$*"; fi; }
say() { step=$((step + 1)); echo; bold "$step. $*"; }
fail() { echo "demo: FAILED: $*" >&2; exit 1; }
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# ---- the cast: a ministry caller (HMAC-SM3), a Guangdong caller (SM2),
# ---- the Beijing provider (SM2) and its four services ----
CALLER=B100000KJGK
CALLER2=S440000GDR1
PROV=S110000Y70P
SM4_KEY=1234567890123456
printf 'demo-secret-0123456789' >"$work/caller.secret"
"$hrss" keygen sm2 --out "$work/caller2" >/dev/null
"$hrss" keygen sm2 --out "$work/provider" >/dev/null
node_port=$(free_port)
prov_port=$(free_port)
NODE="http://127.0.0.1:$node_port"

python3 - "$work" "$prov_port" <<'PY'
import json, sys
work, port = sys.argv[1], sys.argv[2]
pub = lambda n: open(f"{work}/{n}.pub").read()
up = [f"http://127.0.0.1:{port}/"]
svc = lambda s, name: {"code": "S110000Y70P" + s, "name": name, "provider": "S110000Y70P",
                       "upstreams": up, "timeoutMs": 3000, "retries": 1}
doc = {
  "systems": [
    {"code": "B100000KJGK", "name": "ministry caller", "level": "B", "area": "100000",
     "status": "active", "signature": "hmac-sm3", "secret": "demo-secret-0123456789",
     "allowedIps": ["127.0.0.1"]},
    {"code": "S440000GDR1", "name": "Guangdong caller", "level": "S", "area": "440000",
     "status": "active", "signature": "sm2", "publicKey": pub("caller2"),
     "allowedIps": ["127.0.0.1"]},
    {"code": "B100000DXPT", "name": "12333 SMS platform", "level": "B", "area": "100000",
     "status": "active", "signature": "hmac-sm3", "secret": "demo-sms-secret-0123",
     "allowedIps": ["127.0.0.1"]},
    {"code": "S110000Y70P", "name": "Beijing social security", "level": "S", "area": "110000",
     "status": "active", "signature": "sm2", "publicKey": pub("provider"),
     "allowedIps": ["127.0.0.1"]}],
  "services": [svc("SBKZ", "social security card status"), svc("JYJL", "employment history"),
               svc("YLYE", "pension account balance"), svc("LSGS", "temporary card loss")],
  "grants": [
    {"caller": "B100000KJGK", "service": "S110000Y70PSBKZ"},
    {"caller": "B100000KJGK", "service": "S110000Y70PJYJL"},
    {"caller": "B100000KJGK", "service": "S110000Y70PYLYE", "encryption": "sm4-ecb",
     "key": "1234567890123456"},
    {"caller": "S440000GDR1", "service": "S110000Y70PSBKZ", "encryption": "sm2"},
    {"caller": "S440000GDR1", "service": "S110000Y70PLSGS", "encryption": "sm2"},
    {"caller": "B100000DXPT", "service": "S110000Y70PSBKZ", "encryption": "sm4-ecb",
     "key": "8765432109876543"},
    {"caller": "B100000DXPT", "service": "S110000Y70PYLYE", "encryption": "sm4-ecb",
     "key": "8765432109876543"}]}
json.dump(doc, open(f"{work}/registry.json", "w"), ensure_ascii=False, indent=1)
PY

cat >"$work/node.conf" <<CONF
[node]
system_code = B100000N0D1
area = 100000
data_dir = $work/node
workers = 1
drain_timeout = 5s
[http]
listen = 127.0.0.1:$node_port
[log]
level = warn
CONF

bold "hrss demo: one node, one provider, three callers, on 127.0.0.1 (work files in $work)"
"$node" --config "$work/node.conf" registry import "$work/registry.json" >/dev/null
"$node" --config "$work/node.conf" 2>"$work/node.log" &
pids+=($!)
"$provider" --db "$work/provider.db" --listen "127.0.0.1:$prov_port" --key "$work/provider.key" \
  --registry "$work/registry.json" --require-grant --state-dir "$work/state" \
  2>"$work/provider.log" &
pids+=($!)
ready=0
for _ in $(seq 100); do
  if curl -fsS "$NODE/readyz" >/dev/null 2>&1 &&
     curl -fsS "http://127.0.0.1:$prov_port/healthz" >/dev/null 2>&1; then ready=1; break; fi
  sleep 0.1
done
[[ $ready -eq 1 ]] || { cat "$work/node.log" "$work/provider.log" >&2; fail "node or provider did not start"; }
echo "node $NODE (registry: 4 systems, 4 services, 7 grants), provider http://127.0.0.1:$prov_port"

# Three fictitious insured persons of the provider's fixture.
mapfile -t persons < <("$provider" --db "$work/provider.db" --list | head -3 | cut -f1)
P1=${persons[0]} P2=${persons[1]} P3=${persons[2]}

call1() { # the ministry caller
  "$hrss" call --node "$NODE" --system $CALLER --secret-file "$work/caller.secret" \
    --provider-key "$work/provider.pub" --area 110000 "$@"
}
call2() { # the Guangdong caller
  "$hrss" call --node "$NODE" --system $CALLER2 --key "$work/caller2.key" \
    --provider-key "$work/provider.pub" --area 110000 "$@"
}
expect_status() { # FILE STATUS
  grep -q "\"commStatus\": \"$2\"" "$1" || grep -q "\"commStatus\":\"$2\"" "$1" ||
    fail "step $step: expected commStatus $2"
}

say "A plain call: card status of one person (6.2.2.1). The SDK makes ids, time and nonce, signs (HMAC-SM3) and checks the provider's SM2 signature on the answer:"
echo "{\"aac002\":\"$P1\"}" | call1 --service ${PROV}SBKZ >"$work/1.out" || fail "plain call"
cat "$work/1.out"; expect_status "$work/1.out" 00

say "An SM4-encrypted call (pension balance, the grant's 16-digit key): ciphertext on the wire both ways, plaintext after decryption:"
echo "{\"aac002\":\"$P1\"}" | call1 --service ${PROV}YLYE --encrypt sm4 --sm4-key $SM4_KEY --wire \
  >"$work/2.out" || fail "sm4 call"
cat "$work/2.out"; expect_status "$work/2.out" 00
grep -q "$P1" <(sed -n '/^--> request/,/^=== response/p' "$work/2.out") && fail "plaintext on the wire"

say "An SM2-encrypted call by the Guangdong caller: the request sealed with the provider's public key, the answer with the caller's (docs/design.md decision 5), SM2 signatures both ways:"
echo "{\"aac002\":\"$P2\"}" | call2 --service ${PROV}SBKZ --encrypt sm2 --wire >"$work/3.out" ||
  fail "sm2 call"
cat "$work/3.out"; expect_status "$work/3.out" 00

say "A paged query (6.2.2.2): employment history, page 1 of 2 rows; totalCount and totalPage come back with the list:"
echo "{\"aac002\":\"$P1\",\"cpage\":1,\"rows\":2}" | call1 --service ${PROV}JYJL >"$work/4.out" ||
  fail "paged call"
cat "$work/4.out"; expect_status "$work/4.out" 00; grep -q '"totalPage"' "$work/4.out" || fail "no totalPage"

say "A batch query (6.2.2.3): the card status of three persons in one call:"
echo "{\"totalCount\":3,\"list\":[{\"aac002\":\"$P1\"},{\"aac002\":\"$P2\"},{\"aac002\":\"$P3\"}]}" |
  call1 --service ${PROV}SBKZ >"$work/5.out" || fail "batch call"
cat "$work/5.out"; expect_status "$work/5.out" 00

say "A call without a grant: the ministry caller asks for a card loss it was never granted; the node refuses with commStatus 50:"
rc=0; echo "{\"aac002\":\"$P1\"}" | call1 --service ${PROV}LSGS >"$work/6.out" || rc=$?
cat "$work/6.out"; [[ $rc -eq 1 ]] || fail "no-grant call exited $rc"; expect_status "$work/6.out" 50

say "A tampered signature: a request signed with hrss sign, one character of its signature changed, posted with curl; commStatus 30:"
printf '{"header":{"serviceCode":"%sSBKZ","appCode":"%s","serviceAreaCode":"110000"},"body":{"aac002":"%s"}}' \
  $PROV $CALLER "$P1" >"$work/7.req"
"$hrss" sign --profile hmac-sm3 --secret-file "$work/caller.secret" <"$work/7.req" >"$work/7.signed"
python3 - "$work/7.signed" <<'PY'
import json, sys
p = sys.argv[1]; d = json.load(open(p))
s = d["header"]["signature"]; d["header"]["signature"] = ("0" if s[0] != "0" else "1") + s[1:]
json.dump(d, open(p, "w"), ensure_ascii=False, separators=(",", ":"))
PY
curl -sS -H 'Content-Type: application/json' --data-binary @"$work/7.signed" "$NODE/api/v1/transaction" |
  python3 -m json.tool --indent 2 --no-ensure-ascii | tee "$work/7.out"
expect_status "$work/7.out" 30

say "A replay: the same signed request posted twice; the first goes through, the second is refused (nonce replayed, 30):"
"$hrss" sign --profile hmac-sm3 --secret-file "$work/caller.secret" <"$work/7.req" >"$work/8.signed"
curl -sS -H 'Content-Type: application/json' --data-binary @"$work/8.signed" "$NODE/api/v1/transaction" \
  >"$work/8a.out"
python3 -c 'import json,sys; h=json.load(open(sys.argv[1]))["header"]; print("    first:  commStatus", h["commStatus"], h.get("msg", ""))' "$work/8a.out"
expect_status "$work/8a.out" 00
curl -sS -H 'Content-Type: application/json' --data-binary @"$work/8.signed" "$NODE/api/v1/transaction" |
  python3 -m json.tool --indent 2 --no-ensure-ascii | tee "$work/8b.out"
expect_status "$work/8b.out" 30
grep -q 'nonce replayed' "$work/8b.out" || fail "replay not named"

# ---- the 12333 SMS platform: hrss-sms, a caller system of the node ----
sim_out="$work/smsc.out"
python3 "$top/tests/sim/smsc.py" --protocol cmpp --lifetime 86400 >"$sim_out" 2>&1 &
pids+=($!)
for _ in $(seq 100); do grep -q '^READY' "$sim_out" 2>/dev/null && break; sleep 0.1; done
grep -q '^READY' "$sim_out" || fail "carrier simulator did not start"
smsc_port=$(sed -n 's/^READY port=\([0-9]*\) control=\([0-9]*\).*/\1/p' "$sim_out")
smsc_ctl=$(sed -n 's/^READY port=\([0-9]*\) control=\([0-9]*\).*/\2/p' "$sim_out")
sms_port=$(free_port)
cat >"$work/sms.conf" <<CONF
[sms]
data_dir = $work/sms
workers = 1
drain_timeout = 5s
[http]
listen = 127.0.0.1:$sms_port
[log]
level = warn
[uplink]
commands = $top/etc/sms-commands.json
replies = $top/etc/sms-replies.json
account = 12333
[platform]
node_url = $NODE
system_code = B100000DXPT
secret = demo-sms-secret-0123
sm4_key = 8765432109876543
[carrier cmcc]
protocol = cmpp
host = 127.0.0.1
port = $smsc_port
account = 900001
secret = 888888
src_addr = 10658012333
operators = mobile, unicom, telecom
CONF
printf 'demo-sms-password\n' | "$sms" --config "$work/sms.conf" account add 12333 --ips 127.0.0.1 \
  --signature '【12333】' --balance 100000 --iterations 1000 >/dev/null
printf 'demo-sms-password\n' | "$sms" --config "$work/sms.conf" account add card-office \
  --ips 127.0.0.1 --signature '【人社局】' --balance 1000 --iterations 1000 >/dev/null
"$sms" --config "$work/sms.conf" 2>"$work/sms.log" &
pids+=($!)
SMS="http://127.0.0.1:$sms_port"
for _ in $(seq 100); do curl -fsS "$SMS/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fsS "$SMS/readyz" >/dev/null 2>&1 || { cat "$work/sms.log" >&2; fail "hrss-sms did not start"; }
name1=$("$provider" --db "$work/provider.db" --list | head -1 | cut -f2)

phone() { # PHONE TEXT: the phone sends TEXT to 12333 and shows the reply
  python3 - "$smsc_ctl" "$1" "$2" <<'PY'
import json, socket, sys, time
port, phone, text = int(sys.argv[1]), sys.argv[2], sys.argv[3]
s = socket.create_connection(("127.0.0.1", port), timeout=10)
f = s.makefile("r")
def ctl(**req):
    s.sendall(json.dumps(req).encode() + b"\n")
    return json.loads(f.readline())
def texts():
    out = []
    for m in ctl(cmd="submits")["submits"]:
        raw = bytes.fromhex(m["content"])
        if m["udhi"]:
            raw = raw[raw[0] + 1:]
        out.append((m["dests"][0], raw.decode("utf-16-be" if m["coding"] == 8 else "latin-1")))
    return out
before = len(texts())
for _ in range(100):
    if ctl(cmd="stats").get("connections"):
        break
    time.sleep(0.1)
import re
shown = re.sub(r"(\d{6})\d{8}(\d{3}[0-9X])", r"\1********\2", text)  # as logs show it
print(f"    {phone[:3]}****{phone[7:]} -> 10658012333: {shown}")
assert ctl(cmd="mo", src=phone, dest="10658012333", text=text).get("ok"), "no carrier link"
for _ in range(200):
    new = [t for p, t in texts()[before:] if p == phone]
    if new:
        print(f"    10658012333 -> {phone[:3]}****{phone[7:]}: {new[0]}")
        sys.exit(0)
    time.sleep(0.05)
sys.exit("no reply")
PY
}

say "hrss-sms, the 12333 SMS platform, is a caller system of the node (HMAC-SM3, SM4 bodies). A business system sets a citizen's SMS service password:"
curl -sS -H 'Content-Type: application/json' "$SMS/uplink/persons" --data-binary \
  "{\"appName\":\"card-office\",\"password\":\"demo-sms-password\",\"ssn\":\"$P1\",\"name\":\"$name1\",\"servicePassword\":\"2580\"}" |
  tee "$work/9.out"; echo
grep -q '"code": *1' "$work/9.out" || fail "service password not set"

say "A citizen's phone binds that number by SMS (BD#number#password); the reply masks it:"
phone 13800138000 "BD#$P1#2580" >"$work/10.out" || { cat "$work/10.out" "$work/sms.log" >&2; fail "no BD reply"; }
cat "$work/10.out"; grep -q '绑定成功' "$work/10.out" || fail "BD not confirmed"

say "The phone asks for the person's card status by name (cbxx#name): hrss-sms calls the provider's service through the node and answers by SMS:"
phone 13800138000 "cbxx#$name1" >"$work/11.out" || { cat "$work/11.out" "$work/sms.log" >&2; fail "no CBXX reply"; }
cat "$work/11.out"; grep -q '社会保障卡' "$work/11.out" || fail "CBXX not answered"
grep -q "$P1" "$work/11.out" && fail "a full number in a reply"

say "A conformance run against this node (hrss conform node), as a province would judge a vendor's node: well-formed calls and every violation a node can detect, each answer judged clause by clause of LD/T 6008:"
"$hrss" conform node --url "$NODE" --caller $CALLER --secret-file "$work/caller.secret" \
  --service ${PROV}SBKZ --area 110000 --provider-key "$work/provider.pub" \
  --body "{\"aac002\":\"$P1\"}" --ungranted-service ${PROV}LSGS \
  --report "$work/conform.html" --report "$work/conform.json" >"$work/12.out" ||
  { cat "$work/12.out"; fail "the node failed its conformance run"; }
cat "$work/12.out"
echo "the report, a table per clause: $work/conform.html"

echo
bold "demo: every step behaved as shown."
cat <<EOF
  node       $NODE/api/v1/transaction   (health: $NODE/healthz, metrics: $NODE/metrics)
  provider   http://127.0.0.1:$prov_port/   (health: /healthz)
  sms        $SMS/sms/send   (health: $SMS/healthz, metrics: $SMS/metrics)
  try        echo '{"aac002":"$P1"}' | $hrss call --node $NODE --system $CALLER \\
               --secret-file $work/caller.secret --provider-key $work/provider.pub \\
               --service ${PROV}SBKZ --area 110000
EOF
if [[ $once -eq 1 ]]; then
  exit 0
fi
echo "Running; Ctrl-C stops the node, the provider, hrss-sms and the carrier simulator."
wait -n "${pids[@]}" || true
