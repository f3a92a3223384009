#!/usr/bin/env bash
# bench/node.sh - hrss-node with every check on (hmac-sm3 signature, nonce
# store, grant, audit, metrics) against nginx as a plain reverse proxy in
# front of the same provider (../shared/bench/nginx-proxy-baseline.sh), with
# the same wrk settings and as many node workers as nginx has workers.
#
#   bench/node.sh [BUILD_DIR]        (default: build; needs hrss-node and hrss)
#
# Environment: DURATION (wrk -d, default 10s), CONNS (wrk -c, 50), WORKERS
# (node threads = nginx workers, 1), REQUESTS (distinct pre-signed requests,
# 400000; when wrk sends more, repeated nonces are answered 30 and reported),
# ROUNDS (3: nginx and the node are measured in turn, ROUNDS times each, and
# compared by their medians: the machine's other work moves single runs by
# 20 % or more), PIPELINE (the service's "pipeline" setting, 8; 1 turns
# pipelining to the provider off; nginx cannot pipeline to an upstream).
# wrk runs one thread for both so that the pre-signed file is read in order.
#
# Both sides are driven by the same wrk script: every request is formatted
# once, in full, when the script loads, and request() only returns the next
# string. nginx gets the same rotating requests (it does not look at them);
# the node needs them because each carries its own nonce. A script that
# calls wrk.format per request, or a static request for one side only,
# would measure wrk rather than the servers (wrk.format costs about a fifth
# of wrk's rate).
# Prints requests/s and p50/p99 for both, the node's outcome counts, and
# ends with "node/nginx throughput ratio: X.XX", after the load average at
# the end of the runs. "cpu us/req" is the CPU time
# (user + system) the server's processes used per request answered: it
# depends far less than req/s on what else runs on the machine. PROFILE=FILE records the
# node's call graphs (perf record --call-graph dwarf) during its run.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$(cd "${1:-$repo/build}" && pwd)
shared=${HRSS_SHARED:-$repo/../shared}
baseline=$shared/bench/nginx-proxy-baseline.sh
DURATION=${DURATION:-10s}
CONNS=${CONNS:-50}
WORKERS=${WORKERS:-1}
REQUESTS=${REQUESTS:-400000}
ROUNDS=${ROUNDS:-3}
PIPELINE=${PIPELINE:-8}
SECRET=0123456789abcdef0123
for t in wrk nginx python3 curl; do
  command -v $t >/dev/null || { echo "bench/node.sh: $t missing (scripts/deps.sh bench)" >&2; exit 2; }
done
[[ -x $build/hrss-node && -x $build/hrss ]] || { echo "no hrss-node/hrss in $build" >&2; exit 2; }
[[ -f $baseline ]] || { echo "no $baseline (set HRSS_SHARED)" >&2; exit 2; }

tmp=$(mktemp -d)
pdir= xdir= node_pid=
cleanup() {
  [[ -n $node_pid ]] && kill "$node_pid" 2>/dev/null && wait "$node_pid" 2>/dev/null || true
  [[ -n $xdir ]] && bash "$baseline" stop "$xdir"
  [[ -n $pdir ]] && bash "$baseline" stop "$pdir"
  [[ -n ${KEEP:-} ]] || rm -rf "$tmp"
}
trap cleanup EXIT

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
pport=$(port) xport=$(port) nport=$(port)
pdir=$(bash "$baseline" provider "$pport")
xdir=$(bash "$baseline" proxy "$xport" "$pport" "$WORKERS")

cat >"$tmp/node.conf" <<EOF
[node]
system_code = B100000N0D1
area = 100000
data_dir = $tmp/data
workers = $WORKERS
[http]
listen = 127.0.0.1:$nport
[log]
access = off
EOF
"$build/hrss-node" --config "$tmp/node.conf" registry import - >/dev/null <<EOF
{"systems": [
  {"code": "B100000KJGK", "name": "caller", "level": "B", "area": "100000", "status": "active",
   "signature": "hmac-sm3", "secret": "$SECRET", "allowedIps": ["127.0.0.1"]},
  {"code": "S110000Y70P", "name": "provider", "level": "S", "area": "110000", "status": "active",
   "signature": "sm3", "allowedIps": ["0.0.0.0/0"]}],
 "services": [{"code": "S110000Y70PYTjb", "provider": "S110000Y70P",
   "upstreams": ["http://127.0.0.1:$pport/card"], "timeoutMs": 3000, "retries": 1,
   "pipeline": $PIPELINE}],
 "grants": [{"caller": "B100000KJGK", "service": "S110000Y70PYTjb", "expires": null,
   "revoked": false}]}
EOF
# a fresh node for each round, its nonce journal (data/nonces) removed so
# that its nonce store starts empty and the same pre-signed requests serve
# every round (a restart alone now remembers them and answers 30)
start_node() {
  rm -rf "$tmp/data/nonces"
  "$build/hrss-node" --config "$tmp/node.conf" 2>>"$tmp/node.log" &
  node_pid=$!
  for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$nport/readyz" >/dev/null && return
    sleep 0.1
  done
  echo "bench/node.sh: hrss-node did not start" >&2
  exit 1
}
stop_node() {
  kill "$node_pid" && wait "$node_pid" || true
  node_pid=
}

# pre-signed requests: one signed by the real tool, the others re-signed
# with distinct nonces (HMAC-SM3 over the canonical header string)
printf '{"header":{"serviceCode":"S110000Y70PYTjb","appCode":"B100000KJGK","serviceAreaCode":"110000"},"body":{"aac003":"zhang","aac002":"440101199001019090"}}' |
  HRSS_SECRET=$SECRET "$build/hrss" sign --profile hmac-sm3 --state-dir "$tmp/state" >"$tmp/template.json"
python3 - "$tmp/template.json" "$REQUESTS" "$SECRET" >"$tmp/reqs.lua" <<'EOF'
import hmac, json, sys
tmpl, n, secret = open(sys.argv[1]).read(), int(sys.argv[2]), sys.argv[3].encode()
def lua(s):  # a Lua string literal
    return "'" + s.replace("\\", "\\\\").replace("'", "\\'").replace("\r", "\\r").replace("\n", "\\n") + "'"
print("local reqs = {")
for i in range(n):
    d = json.loads(tmpl)
    d["header"]["nonce"] = "b%023d" % i
    h = {k: v for k, v in d["header"].items() if k != "signature"}
    canon = "&".join(f"{k}={h[k]}" for k in sorted(h))
    d["header"]["signature"] = hmac.new(secret, canon.encode(), "sm3").hexdigest()
    body = json.dumps(d, separators=(",", ":")).encode()
    print(lua("POST /api/v1/transaction HTTP/1.1\r\nHost: 127.0.0.1\r\n"
              "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)
              + body.decode()) + ",")
print("""}
local i = 0
request = function()
  i = i + 1
  if i > #reqs then i = 1 end
  return reqs[i]
end""")
EOF

cpu_ticks() { # utime + stime of the given processes, in clock ticks
  local t=0 p
  for p in "$@"; do
    t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat")))
  done
  echo "$t"
}

run() { # run NAME URL SCRIPT PID... -> "rps p50 p99 cpu_us_per_request provider_us wrk_us"
  local name=$1 url=$2 script=$3
  shift 3
  local c0 c1 p0 p1 provs
  provs=$(pgrep -P "$(cat "$pdir/nginx.pid")")
  c0=$(cpu_ticks "$@") p0=$(cpu_ticks $provs)
  # wrk's own CPU time: the user + system time of the finished child
  python3 -c 'import resource, subprocess, sys
subprocess.run(sys.argv[2:], stdout=open(sys.argv[1], "w"), check=True)
r = resource.getrusage(resource.RUSAGE_CHILDREN)
print(r.ru_utime + r.ru_stime)' "$tmp/$name.out" \
    wrk -t1 -c"$CONNS" -d"$DURATION" --latency -s "$script" "$url" >"$tmp/$name.wrkcpu"
  c1=$(cpu_ticks "$@") p1=$(cpu_ticks $provs)
  python3 - "$tmp/$name.out" "$((c1 - c0))" "$(getconf CLK_TCK)" "$((p1 - p0))" \
    "$(cat "$tmp/$name.wrkcpu")" <<'EOF'
import re, sys
t = open(sys.argv[1]).read()
def ms(v, u): return float(v) * {"us": 0.001, "ms": 1, "s": 1000}[u]
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
n = int(re.search(r"(\d+) requests in", t).group(1))
p = {m.group(1): ms(m.group(2), m.group(3)) for m in re.finditer(r"\s(50|99)%\s+([\d.]+)(us|ms|s)\b", t)}
hz = int(sys.argv[3])
cpu = int(sys.argv[2]) / hz * 1e6 / max(n, 1)
prov = int(sys.argv[4]) / hz * 1e6 / max(n, 1)
wrk = float(sys.argv[5]) * 1e6 / max(n, 1)
print(f"{rps:.0f} {p['50']:.2f} {p['99']:.2f} {cpu:.1f} {prov:.1f} {wrk:.1f}")
EOF
}
median() { sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
: >"$tmp/nginx.rounds"
: >"$tmp/node.rounds"
: >"$tmp/outcomes"
for round in $(seq "$ROUNDS"); do
  # the proxy's workers (children of its master); the node is one process
  run nginx "http://127.0.0.1:$xport/" "$tmp/reqs.lua" \
    $(pgrep -P "$(cat "$xdir/nginx.pid")") >>"$tmp/nginx.rounds"
  start_node
  if [[ -n ${PROFILE:-} && $round == 1 ]]; then # call graphs of the node's first run
    perf record -q --call-graph dwarf,16384 -F 499 -p "$node_pid" -o "$PROFILE" \
      -- sleep "${DURATION%s}" 2>/dev/null &
    perf_pid=$!
  fi
  run node "http://127.0.0.1:$nport/" "$tmp/reqs.lua" "$node_pid" >>"$tmp/node.rounds"
  [[ -z ${perf_pid:-} ]] || { wait "$perf_pid"; perf_pid=; }
  curl -s "http://127.0.0.1:$nport/metrics" | grep '^hrss_node_transactions_total' |
    sed "s/^/  round $round: /" >>"$tmp/outcomes"
  stop_node
done
echo "wrk -t1 -c$CONNS -d$DURATION; $WORKERS worker(s) each; $(nproc) cores; pipeline $PIPELINE;" \
  "load average $(cut -d' ' -f1-3 /proc/loadavg) (other work skews req/s more than cpu us/req)"
fmt='%-31s %8s req/s  p50 %6s ms  p99 %7s ms  cpu %6s us/req  (provider %5s, wrk %5s)\n'
for round in $(seq "$ROUNDS"); do
  printf "$fmt" "round $round: nginx" $(sed -n "${round}p" "$tmp/nginx.rounds")
  printf "$fmt" "round $round: hrss-node" $(sed -n "${round}p" "$tmp/node.rounds")
done
med() { # med FILE -> the median of each column
  local i out=
  for i in 1 2 3 4 5 6; do out+="$(cut -d' ' -f$i "$1" | median) "; done
  echo "$out"
}
read -r x_rps x_p50 x_p99 x_cpu x_prov x_wrk < <(med "$tmp/nginx.rounds")
read -r n_rps n_p50 n_p99 n_cpu n_prov n_wrk < <(med "$tmp/node.rounds")
echo "medians of $ROUNDS rounds:"
printf "$fmt" "nginx reverse proxy" "$x_rps" "$x_p50" "$x_p99" "$x_cpu" "$x_prov" "$x_wrk"
printf "$fmt" "hrss-node (all checks, audit)" "$n_rps" "$n_p50" "$n_p99" "$n_cpu" "$n_prov" "$n_wrk"
echo "node outcomes:"
cat "$tmp/outcomes"
python3 -c "import sys; print(f'node/nginx throughput ratio: {float(sys.argv[1]) / float(sys.argv[2]):.2f}')" "$n_rps" "$x_rps"
