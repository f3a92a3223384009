#!/usr/bin/env bash
# tests/cli/test_envelope_cli.sh - "hrss envelope check": the standard's
# examples pass (or, for the batch request's short id, fail with the rule),
# invalid envelopes list every violation as "field: rule" in document order
# with exit 1, and bad usage exits 2. Needs HRSS_BIN and HRSS_SOURCE_DIR.
set -euo pipefail
# shellcheck source=../lib/cli.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/cli.sh"

HRSS=${HRSS_BIN:?HRSS_BIN must name the hrss binary}
DATA=${HRSS_SOURCE_DIR:?HRSS_SOURCE_DIR must name the source tree}/tests/data/envelopes
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"


# expect_lines FILE LINE...: stdout of the last command is exactly these lines.
expect_lines() {
  printf '%s\n' "$@" >want
  diff -u want out >&2 || fail "unexpected output"
}

# The standard's examples.
expect 0 "$HRSS" envelope check <"$DATA/std-6.2.2.1.1-request.json"
expect_lines ok
expect 0 "$HRSS" envelope check "$DATA/std-6.2.2.2.1-paged-request.json"
expect_lines ok
for f in std-6.2.2.1.2-response std-6.2.1.4-success-response std-6.2.1.4-failure-response \
         std-6.2.2.2.2-paged-response std-6.2.2.3.2-batch-response; do
  expect 0 "$HRSS" envelope check --response <"$DATA/$f.json"
  expect_lines ok
done
expect 1 "$HRSS" envelope check <"$DATA/std-6.2.2.3.1-batch-request.json"
expect_lines "header.serviceReqId: length 27, must be 28 (system code + YYYYMMDD + 9 digits)"
# the failure example has no body: fine for a response, not for a request
expect 1 "$HRSS" envelope check <"$DATA/std-6.2.1.4-failure-response.json"
expect_lines "body: missing (required by table 1)"

# Several violations, in document order.
cat >several.json <<'JSON'
{"header": {"serviceCode": "S110000Y70PYTjb", "appCode": "B100000KJGKX",
            "serviceAreaCode": 110000, "serviceReqTime": "20170230101020",
            "nonce": "short"},
 "extra": 1,
 "body": []}
JSON
expect 1 "$HRSS" envelope check <several.json
expect_lines "header.appCode: length 12, at most 11" \
  "header.serviceAreaCode: must be a string, found number" \
  "header.serviceReqTime: 20170230 is not a calendar date" \
  "header.nonce: length 5, must be 24" \
  "header.serviceReqId: missing (required by table 1)" \
  "extra: unknown member (an envelope has only header and body)" \
  "body: must be an object or a string, found array"

# Response rules.
sed 's/"commStatus": "00"/"commStatus": "11"/' "$DATA/std-6.2.2.1.2-response.json" >bad-status.json
expect 1 "$HRSS" envelope check --response <bad-status.json
expect_lines 'header.commStatus: "11" is not a value of table 2 (00 10 20 30 40 50 90)'
expect 1 "$HRSS" envelope check --response <"$DATA/std-6.2.2.1.1-request.json"
expect_lines "header.serviceResId: missing (required by table 2)" \
  "header.serviceResTime: missing (required by table 2)" \
  "header.commStatus: missing (required by table 2)"

# The JSON layer: a duplicate key deep in the body, a byte that is not UTF-8.
sed 's/"aac002": "4401011\*\*\*\*9090236"/"aac002": "1", "aac002": "2"/' \
  "$DATA/std-6.2.2.1.1-request.json" >dup.json
expect 1 "$HRSS" envelope check <dup.json
expect_lines "body.aac002: duplicate key (line 12, column 27)"
printf '{"header":{"appCode":"B100000\xffKJG"},"body":{}}' >utf8.json
expect 1 "$HRSS" envelope check <utf8.json
expect_lines "header.appCode: invalid UTF-8 (line 1, column 29)"

# Usage.
expect 0 "$HRSS" envelope check --help
grep -q '^usage: hrss envelope check' out || fail "no usage"
expect 0 "$HRSS" envelope --help
expect 2 "$HRSS" envelope
expect 2 "$HRSS" envelope frobnicate
expect 2 "$HRSS" envelope check --bogus </dev/null
expect 2 "$HRSS" envelope check a.json b.json
expect 2 "$HRSS" envelope check "$tmp/does-not-exist.json"

echo "ok"
