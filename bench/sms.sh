#!/usr/bin/env bash
# bench/sms.sh - hrss-sms beside Kannel on the same kind of load, loopback
# only, every run bounded in time:
#   1. accept rate of the send interface: each answered request is on disk
#      (hrss-sms: group commit, synchronous=FULL) - wrk, one number per
#      request, BENCH_CONNECTIONS connections for BENCH_SECONDS;
#   2. end-to-end rate: BENCH_MESSAGES messages from the send interface
#      through the CMPP simulator (tests/sim/smsc.py) to their delivery
#      reports recorded;
#   3. Kannel (Debian's bearerbox + smsbox, store-type file) with its fake
#      SMSC (/usr/lib/kannel/test/fakesmsc): the same wrk load on
#      /cgi-bin/sendsms, and the same number of messages to the fake SMSC.
#      Like hrss-sms in 1, Kannel has no carrier link while its accept rate
#      is measured (with one it would also be delivering the messages it
#      accepts, which hrss-sms does not do in 1); it starts again afresh
#      with the fake SMSC for the end-to-end rate. Neither side is given
#      an advantage in durability: hrss-sms fsyncs every answered message,
#      Kannel's file store does not fsync at all.
# Ends with "sms/kannel throughput ratio: X.XX" (accept rates). Not part of
# make test. Needs wrk, python3 and the kannel, kannel-extras packages.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${HRSS_BUILD_DIR:-$SRC/build}
SMS=$BUILD/hrss-sms
SECONDS_=${BENCH_SECONDS:-5}
CONNS=${BENCH_CONNECTIONS:-32}
MESSAGES=${BENCH_MESSAGES:-5000}
# the reference setup for Kannel on loopback lives beside the repository
# (../shared/bench/kannel/, or set HRSS_SHARED or KANNEL_CONF)
SHARED=${HRSS_SHARED:-$SRC/../shared}
KCONF=${KANNEL_CONF:-$SHARED/bench/kannel/kannel.conf.in}
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

need() { command -v "$1" >/dev/null || { echo "bench/sms.sh: $1 is missing ($2)" >&2; exit 2; }; }
need wrk "apt-get install wrk"
[[ -x $SMS ]] || { echo "bench/sms.sh: build first (make)" >&2; exit 2; }

wait_for() { # pattern file seconds
  for _ in $(seq 1 $(($3 * 20))); do grep -q "$1" "$2" 2>/dev/null && return 0; sleep 0.05; done
  echo "bench/sms.sh: timeout waiting for '$1' in $2" >&2; cat "$2" >&2; exit 1
}

rps() { awk '/^Requests\/sec:/ {printf "%.0f", $2}'; }

start_sms_info() {
  cat > "$tmp/sms.conf" <<EOF
[sms]
data_dir = $tmp/data
workers = 2
[http]
listen = 127.0.0.1:0
[log]
access = off
$1
EOF
  "$SMS" --config "$tmp/sms.conf" 2> "$tmp/sms.log" &
  sms_pid=$!
  pids+=("$sms_pid")
  wait_for "event=started" "$tmp/sms.log" 10
  sms_port=$(grep -o 'event=listening proto=http addr=127.0.0.1:[0-9]*' "$tmp/sms.log" | head -1 |
             sed 's/.*://')
}

stop_sms() { kill "$sms_pid"; wait "$sms_pid" || true; }

# ---- 1. hrss-sms accept rate ----
mkdir -p "$tmp/data"
cat > "$tmp/sms.conf" <<EOF
[sms]
data_dir = $tmp/data
[http]
listen = 127.0.0.1:0
EOF
echo "bench-password" | "$SMS" --config "$tmp/sms.conf" account add bench --ips 127.0.0.1 \
  --signature "【人社局】" --balance 1000000000 --iterations 1000 >/dev/null
start_sms_info ""
cat > "$tmp/send.lua" <<'EOF'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"appName":"bench","password":"bench-password","mobile":"13800138000","content":"您的社保卡已挂失成功，如需解挂请到经办网点办理。"}'
EOF
wrk -t2 -c"$CONNS" -d"${SECONDS_}s" -s "$tmp/send.lua" "http://127.0.0.1:$sms_port/sms/send" \
  > "$tmp/wrk-sms.txt"
sms_accept=$(rps < "$tmp/wrk-sms.txt")
stored=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select count(*) from msgs').fetchone()[0])" "$tmp/data/sms.db")
metrics=$(python3 - "$sms_port" <<'EOF'
import sys, urllib.request
t = urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/metrics", timeout=5).read().decode()
v = {l.split()[0]: float(l.split()[1]) for l in t.splitlines() if l and not l.startswith("#")}
print("%.1f" % (v["hrss_sms_queue_jobs_total"] / max(1, v["hrss_sms_queue_commits_total"])))
EOF
)
stop_sms
echo "hrss-sms accept (durable): $sms_accept requests/s, $stored messages stored, $metrics requests per commit"

# ---- 2. hrss-sms end to end through the CMPP simulator ----
python3 "$SRC/tests/sim/smsc.py" --protocol cmpp --report-delay 0 --lifetime 300 \
  > "$tmp/sim.out" 2>&1 &
pids+=("$!")
wait_for READY "$tmp/sim.out" 10
sim_port=$(sed -n 's/.*READY port=\([0-9]*\).*/\1/p' "$tmp/sim.out")
rm -rf "$tmp/data"
mkdir -p "$tmp/data"
echo "bench-password" | "$SMS" --config "$tmp/sms.conf" account add bench --ips 127.0.0.1 \
  --signature "【人社局】" --balance 1000000000 --iterations 1000 >/dev/null
start_sms_info "[carrier sim]
protocol = cmpp30
host = 127.0.0.1
port = $sim_port
account = 900001
secret = 888888
src_addr = 10658012333
operators = mobile, unicom, telecom
window = 64
connections = 2"
wait_for "event=carrier_link carrier=sim up=2" "$tmp/sms.log" 20
sms_e2e=$(python3 - "$sms_port" "$MESSAGES" <<'EOF'
import http.client, json, sys, time, urllib.request
port, n = int(sys.argv[1]), int(sys.argv[2])
def metric(name):
    t = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    for l in t.splitlines():
        if l.startswith(name + " "):
            return float(l.split()[1])
    return 0.0
t0 = time.monotonic()
c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
for i in range(0, n, 500):
    nums = ",".join("138%08d" % k for k in range(i, min(n, i + 500)))
    body = json.dumps({"appName": "bench", "password": "bench-password", "mobile": nums,
                       "content": "您的社保卡已挂失成功"})
    c.request("POST", "/sms/send", body, {"Content-Type": "application/json"})
    r = json.loads(c.getresponse().read())
    assert r["code"] == 1, r
deadline = t0 + 240
while metric("hrss_sms_reports_total") < n and time.monotonic() < deadline:
    time.sleep(0.05)
got = metric("hrss_sms_reports_total")
print("%.0f" % (got / (time.monotonic() - t0)))
EOF
)
stop_sms
echo "hrss-sms end to end (send -> CMPP simulator -> report recorded): $sms_e2e messages/s"

# ---- 3. Kannel ----
if ! command -v bearerbox >/dev/null || [[ ! -x /usr/lib/kannel/test/fakesmsc ]]; then
  echo "bench/sms.sh: Kannel is missing (apt-get install kannel kannel-extras): no ratio" >&2
  exit 1
fi
sed "s|@DIR@|$tmp/kannel|g" "$KCONF" > "$tmp/kannel.conf"
text=$(python3 -c "import urllib.parse; print(urllib.parse.quote('【人社局】您的社保卡已挂失成功，如需解挂请到经办网点办理。'))")
kurl="http://127.0.0.1:13013/cgi-bin/sendsms?username=tester&password=foobar&to=13800138000&charset=UTF-8&coding=2&text=$text"
kpids=()
start_kannel() { # 1: with the fake SMSC
  rm -rf "$tmp/kannel"
  mkdir -p "$tmp/kannel"
  bearerbox "$tmp/kannel.conf" > "$tmp/bearerbox.out" 2>&1 &
  kpids=("$!")
  wait_for "." "$tmp/kannel/bearerbox.log" 10
  sleep 1
  smsbox "$tmp/kannel.conf" > "$tmp/smsbox.out" 2>&1 &
  kpids+=("$!")
  if [[ $1 == 1 ]]; then
    # fakesmsc reads messages to send from stdin and stops at its end
    rm -f "$tmp/fake.in"
    mkfifo "$tmp/fake.in"
    sleep 600 > "$tmp/fake.in" &
    kpids+=("$!")
    /usr/lib/kannel/test/fakesmsc -H 127.0.0.1 -r 10000 -i 0 -m 0 < "$tmp/fake.in" \
      > "$tmp/fakesmsc.out" 2>&1 &
    kpids+=("$!")
  fi
  pids+=("${kpids[@]}")
  for _ in $(seq 1 200); do
    st=$(curl -s "http://127.0.0.1:13000/status.txt?password=foo" 2>/dev/null || true)
    if grep -q "smsbox:(none)" <<< "$st" &&
       { [[ $1 == 0 ]] || grep -q "FAKE:10000 (online" <<< "$st"; }; then
      return 0
    fi
    sleep 0.1
  done
  echo "bench/sms.sh: Kannel did not come up" >&2
  exit 1
}
stop_kannel() {
  for p in "${kpids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${kpids[@]}"; do wait "$p" 2>/dev/null || true; done
}
start_kannel 0
wrk -t2 -c"$CONNS" -d"${SECONDS_}s" "$kurl" > "$tmp/wrk-kannel.txt"
kannel_accept=$(rps < "$tmp/wrk-kannel.txt")
stop_kannel
echo "kannel accept (sendsms, store-type file): $kannel_accept requests/s"
start_kannel 1
# end to end: the same number of messages to the fake SMSC
before=$(grep -c "Got message" "$tmp/fakesmsc.out" || true)
kannel_e2e=$(python3 - "$MESSAGES" "$tmp/fakesmsc.out" "$before" "$kurl" <<'EOF'
import sys, time, urllib.request, concurrent.futures
n, out, before, url = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
def count():
    with open(out, errors="replace") as f:
        return sum(1 for l in f if "Got message" in l) - before
t0 = time.monotonic()
with concurrent.futures.ThreadPoolExecutor(16) as ex:
    list(ex.map(lambda i: urllib.request.urlopen(url, timeout=30).read(), range(n)))
deadline = t0 + 240
while count() < n and time.monotonic() < deadline:
    time.sleep(0.05)
print("%.0f" % (count() / (time.monotonic() - t0)))
EOF
)
echo "kannel end to end (sendsms -> fake SMSC): $kannel_e2e messages/s"
echo "end-to-end ratio: $(python3 -c "print('%.2f' % ($sms_e2e / max(1, $kannel_e2e)))")"
echo "sms/kannel throughput ratio: $(python3 -c "print('%.2f' % ($sms_accept / max(1, $kannel_accept)))")"
