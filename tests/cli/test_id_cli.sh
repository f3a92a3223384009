#!/usr/bin/env bash
# tests/cli/test_id_cli.sh - "hrss id new": two processes drawing 100,000 ids
# each from one state directory never hand out the same id, a later run
# (a restart) repeats none of them, and a bad system code is refused with
# the rule that it breaks. Needs HRSS_BIN.
set -euo pipefail
# shellcheck source=../lib/cli.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/cli.sh"

HRSS=${HRSS_BIN:?HRSS_BIN must name the hrss binary}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
code=S110000Y70P


# Two concurrent processes on one state directory and system code.
"$HRSS" id new --system $code --count 100000 --state-dir "$tmp/state" >a.txt &
pa=$!
"$HRSS" id new --system $code --count 100000 --state-dir "$tmp/state" >b.txt &
pb=$!
wait $pa || fail "first process failed"
wait $pb || fail "second process failed"
[[ $(wc -l <a.txt) -eq 100000 && $(wc -l <b.txt) -eq 100000 ]] || fail "wrong counts"
sort a.txt b.txt >first.txt
[[ $(wc -l <first.txt) -eq 200000 ]] || fail "not 200000 ids"
dups=$(uniq -d first.txt | head -5)
[[ -z $dups ]] || fail "duplicate ids across processes: $dups"
[[ $(sort -u first.txt | wc -l) -eq 200000 ]] || fail "duplicates after sort -u"

# Every line is one id: the code, a date, 9 digits.
bad=$(grep -cvE "^${code}[0-9]{8}[0-9]{9}\$" first.txt || true)
[[ $bad -eq 0 ]] || fail "$bad malformed ids"
state=$(stat -c %a "$tmp/state")
[[ $state == 700 ]] || fail "state directory mode $state, expected 700"
[[ -f $tmp/state/$code.seq ]] || fail "no state file $code.seq"

# A restart (through $HRSS_STATE_DIR this time) repeats none of them.
HRSS_STATE_DIR=$tmp/state "$HRSS" id new --system $code --count 50000 | sort >second.txt
[[ $(wc -l <second.txt) -eq 50000 ]] || fail "restart: wrong count"
common=$(comm -12 first.txt second.txt | head -5)
[[ -z $common ]] || fail "restart repeated ids: $common"

# Another system code has its own sequence.
expect 0 "$HRSS" id new --system B100000KJGK --state-dir "$tmp/state"
grep -qE '^B100000KJGK[0-9]{8}000000001$' out || fail "new code does not start at 1: $(cat out)"

# Bad usage: exit 2 and the rule on stderr, nothing on stdout.
expect 2 "$HRSS" id new --system B110000KJGK --state-dir "$tmp/state"
grep -q 'B (ministry) requires area 100000' err || fail "rule not named: $(cat err)"
[[ ! -s out ]] || fail "bad code printed ids"
expect 2 "$HRSS" id new --system S110000KJG --state-dir "$tmp/state"
grep -q 'length 10, must be 11' err || fail "length rule not named: $(cat err)"
expect 2 "$HRSS" id new --state-dir "$tmp/state"
expect 2 "$HRSS" id new --system $code --count 0 --state-dir "$tmp/state"
expect 2 "$HRSS" id new --system $code --count 12x --state-dir "$tmp/state"
expect 2 "$HRSS" id new --system $code --count -1 --state-dir "$tmp/state"
expect 2 "$HRSS" id bogus
expect 0 "$HRSS" id new --help
grep -q 'usage: hrss id new' out || fail "no usage on --help"

# A corrupt state file is an error (exit 1), never a silent restart at 1.
echo garbage >"$tmp/state/$code.seq"
expect 1 "$HRSS" id new --system $code --state-dir "$tmp/state"
grep -q 'is corrupt' err || fail "corruption not reported: $(cat err)"

echo "ok"
