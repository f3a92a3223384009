#!/usr/bin/env bash
# Runs every libFuzzer target of a fuzz build for a bounded time, each from
# its committed corpus (fuzz/corpus/<target>/), new inputs going to a scratch
# directory. Prints the executions each target ran; exits 1 on any finding
# (the crashing input is kept under build/fuzz/findings/).
#   scripts/fuzz.sh BUILD_DIR SECONDS_PER_TARGET
set -uo pipefail
dir=${1:?build dir}
secs=${2:-60}
top=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$dir/findings"
status=0
for bin in "$dir"/fuzz_*; do
  [[ -x $bin ]] || continue
  name=$(basename "$bin"); target=${name#fuzz_}
  scratch=$(mktemp -d)
  log="$dir/findings/$target.log"
  "$bin" -max_total_time="$secs" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
      -artifact_prefix="$dir/findings/$target-" "$scratch" "$top/fuzz/corpus/$target" >"$log" 2>&1
  rc=$?
  execs=$(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}')
  cov=$(grep -E '^#[0-9]+' "$log" | tail -n 1 | grep -oE 'cov: [0-9]+' || true)
  printf '%-12s %ss  executions: %s  %s  corpus+new: %s\n' "$target" "$secs" "${execs:-?}" \
      "$cov" "$(ls "$scratch" | wc -l)"
  if [[ $rc -ne 0 ]]; then
    echo "  FINDING in $target (exit $rc), see $log:"
    grep -E 'ERROR|SUMMARY|Test unit written' "$log" | head -n 5 | sed 's/^/    /'
    status=1
  fi
  rm -rf "$scratch"
done
exit $status
