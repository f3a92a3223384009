#!/usr/bin/env bash
# The README's first commands must stay true: `make demo ARGS=--once` runs
# scripts/demo.sh against this build (real hrss-node, real
# hrss-demo-provider, real hrss call) in a temporary directory, and every
# step must behave as shown: plain, SM4, SM2, paged, batch, no grant (50),
# tampered signature (30), replay refused; the closing conformance run of
# hrss conform node against the demo's own node has nothing failed.
set -euo pipefail
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
HRSS_DEMO_DIR="$dir/demo" bash "$HRSS_SOURCE_DIR/scripts/demo.sh" "$(dirname "$HRSS_BIN")" --once \
  >"$dir/out" 2>&1 || { cat "$dir/out"; exit 1; }
for want in 'every step behaved as shown' '"commStatus": "50"' 'no grant for B100000KJGK' \
            'signature mismatch' 'nonce replayed' '"totalPage"' '--> request, as sent:' \
            '=== response, checked and decrypted:' \
            'LD/T 6008-2024 conformance of the node at' '0 fail, 0 differ from hrss'"'"'s reading'; do
  grep -qF -- "$want" "$dir/out" || { cat "$dir/out"; echo "demo output lacks: $want"; exit 1; }
done
# numbers are masked in every answer; no full number in any log
if grep -E '"aac002": "[0-9]{17}[0-9X]"' "$dir/out"; then
  echo "an answer carries an unmasked social security number"; exit 1
fi
"$(dirname "$HRSS_BIN")/hrss-demo-provider" --db "$dir/demo/provider.db" --list | cut -f1 >"$dir/ids"
if grep -F -f "$dir/ids" "$dir/demo/node.log" "$dir/demo/provider.log"; then
  echo "a full social security number reached a log"; exit 1
fi
# files holding secrets are for their owner only (they were 0644)
for f in caller.secret registry.json sms.conf caller2.key provider.key; do
  mode=$(stat -c %a "$dir/demo/$f")
  [[ $mode == 600 ]] || { echo "demo/$f has mode $mode, not 600"; exit 1; }
done
# no process left behind
sleep 0.2
if pgrep -f "$dir/demo/node.conf" >/dev/null; then echo "node left running"; exit 1; fi
echo "demo ok"
