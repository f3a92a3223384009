#!/usr/bin/env bash
# The README's first command must stay true: run the demo walk-through
# against this build, in a temporary directory, and require success.
set -euo pipefail
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
HRSS_DEMO_DIR="$dir/demo" bash "$HRSS_SOURCE_DIR/scripts/demo.sh" "$(dirname "$HRSS_BIN")" >"$dir/out" 2>&1 || {
  cat "$dir/out"; exit 1; }
grep -q 'every step behaved as shown' "$dir/out"
grep -q 'signature mismatch' "$dir/out"
echo "demo ok"
