#!/usr/bin/env bash
# tests/cli/test_sign_cli.sh - "hrss sign" and "hrss verify" against the
# openssl command line: every profile signs and verifies, a changed header
# field fails, the sm3 and hmac-sm3 values equal "openssl dgst" of the
# canonical string, and an sm2 signature verifies with "openssl pkeyutl"
# (SM2 with SM3, ID 1234567812345678). Needs HRSS_BIN, openssl, python3.
set -euo pipefail
# shellcheck source=../lib/cli.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/cli.sh"

HRSS=${HRSS_BIN:?HRSS_BIN must name the hrss binary}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export HRSS_STATE_DIR=$tmp/state
unset HRSS_SECRET
# Debian's python3 (deps.sh installs it) starts in a tenth of the time of a shim.
PY=${PYTHON:-$([[ -x /usr/bin/python3 ]] && echo /usr/bin/python3 || command -v python3)}
cd "$tmp"


json_get() { # json_get FILE FIELD -> header field
  "$PY" -c 'import json, sys
print(json.load(open(sys.argv[1]))["header"].get(sys.argv[2], ""))' "$1" "$2"
}

json_set() { # json_set IN OUT FIELD VALUE: sets (or with VALUE "-", removes) a header field
  "$PY" -c '
import json, sys
d = json.load(open(sys.argv[1]))
if sys.argv[4] == "-":
    del d["header"][sys.argv[3]]
else:
    d["header"][sys.argv[3]] = sys.argv[4]
json.dump(d, open(sys.argv[2], "w"), ensure_ascii=False, separators=(",", ":"))
' "$@"
}

cat >req.json <<'EOF'
{"header": {"serviceCode": "S11000012340001", "appCode": "S1100001234",
            "serviceAreaCode": "110000"},
 "body": {"aac002": "440101199001010236", "aac003": "张三"}}
EOF

# ---- help and usage ----
expect 0 "$HRSS" sign --help
grep -q -- '--secret-file' out || fail "sign --help lacks --secret-file"
grep -q "in 'ps'" out || fail "sign --help does not warn that --secret shows in ps"
expect 0 "$HRSS" verify --help
grep -q -- '--window' out || fail "verify --help lacks --window"
grep -q "no time is checked" out || fail "verify --help does not say the window is off by default"
grep -q -- '--print-canonical' out || fail "verify --help lacks --print-canonical"

expect 2 "$HRSS" sign <req.json                          # no profile
expect 2 "$HRSS" sign --profile sha256 <req.json
expect 2 "$HRSS" sign --profile sm3 --key nothing.pem <req.json
expect 2 "$HRSS" sign --profile sm3 --secret x <req.json
expect 2 "$HRSS" sign --profile hmac-sm3 <req.json       # no secret anywhere
expect 2 "$HRSS" sign --profile hmac-sm3 --secret a --secret-file b <req.json
expect 2 "$HRSS" sign --profile sm2 <req.json            # no key
expect 2 "$HRSS" sign --profile sm2 --key missing.pem <req.json
expect 2 "$HRSS" sign --profile sm3 --bogus <req.json
expect 2 "$HRSS" sign --profile sm3 extra <req.json
expect 2 "$HRSS" sign --profile sm3 --window 5 <req.json
expect 2 "$HRSS" verify --profile sm3 --system S1100001234 <req.json
expect 2 "$HRSS" verify --profile sm3 --window -1 <req.json
expect 2 "$HRSS" verify --profile sm3 --window 10s <req.json
expect 2 "$HRSS" verify --print-canonical --profile sm3 <req.json
expect 2 "$HRSS" sign --profile
grep -q "needs a value" err || fail "missing option value not explained"

# ---- sm3: signs, verifies, equals openssl dgst -sm3 of the canonical string ----
expect 0 "$HRSS" sign --profile sm3 <req.json
cp out sm3.json
[[ $(wc -l <sm3.json) == 1 ]] || fail "sign output is not one line"
for f in serviceReqId serviceReqTime nonce signature; do
  [[ -n $(json_get sm3.json $f) ]] || fail "sign did not fill $f"
done
[[ $(json_get sm3.json serviceReqId) == S1100001234* ]] || fail "serviceReqId not from appCode"
[[ $(json_get sm3.json nonce) =~ ^[0-9a-z]{24}$ ]] || fail "nonce not 24 of [0-9a-z]"
expect 0 "$HRSS" verify --profile sm3 <sm3.json
[[ $(cat out) == ok ]] || fail "verify did not print ok"
expect 0 "$HRSS" verify --print-canonical <sm3.json
canon=$(cat out)
[[ $canon == appCode=S1100001234\&nonce=* ]] || fail "unexpected canonical string: $canon"
[[ $canon != *signature=* ]] || fail "canonical string holds the signature"
want=$(printf '%s' "$canon" | openssl dgst -sm3 | awk '{print $NF}')
[[ $(json_get sm3.json signature) == "$want" ]] || fail "sm3 signature differs from openssl dgst"
# The body is not signed (7.1.1.2 signs the header), and is kept as given.
"$PY" -c 'import json,sys; d=json.load(open("sm3.json")); assert d["body"]["aac003"] == "张三"'

# ---- a changed header field fails ----
for change in "serviceAreaCode 120000" "appCode S1100001235" "nonce abcdefghijklmnopqrstuvwx" \
              "serviceReqTime 20170122101020" "extra 1"; do
  set -- $change
  json_set sm3.json tampered.json "$1" "$2"
  expect 1 "$HRSS" verify --profile sm3 <tampered.json
  grep -q "signature mismatch" err || fail "tampered $1: stderr lacks 'signature mismatch'"
done
json_set sm3.json unsigned.json signature -
expect 1 "$HRSS" verify --profile sm3 <unsigned.json
grep -q "signature" err || fail "missing signature not reported"
json_set sm3.json upper.json signature "$(json_get sm3.json signature | tr a-f A-F)"
expect 1 "$HRSS" verify --profile sm3 <upper.json         # the form is lower-case hex
grep -q "upper-case hex" err || fail "upper-case hex not named"

# ---- hmac-sm3: equals openssl dgst -sm3 -hmac; secret from file, env or argument ----
secret='s3cret with spaces & symbols'
printf '%s\n' "$secret" >secret.txt
expect 0 "$HRSS" sign --profile hmac-sm3 --secret-file secret.txt <req.json
cp out hmac.json
expect 0 "$HRSS" verify --print-canonical <hmac.json
canon=$(cat out)
want=$(printf '%s' "$canon" | openssl dgst -sm3 -hmac "$secret" | awk '{print $NF}')
[[ $(json_get hmac.json signature) == "$want" ]] || fail "hmac-sm3 differs from openssl dgst -hmac"
want2=$(printf '%s' "$canon" | openssl mac -digest SM3 -macopt "key:$secret" HMAC | tr A-F a-f)
[[ $want == "$want2" ]] || fail "openssl dgst -hmac and openssl mac disagree"
expect 0 "$HRSS" verify --profile hmac-sm3 --secret-file secret.txt <hmac.json
expect 0 env HRSS_SECRET="$secret" "$HRSS" verify --profile hmac-sm3 <hmac.json
expect 0 "$HRSS" verify --profile hmac-sm3 --secret "$secret" <hmac.json
grep -q "warning: --secret" err || fail "--secret used without a warning"
expect 1 "$HRSS" verify --profile hmac-sm3 --secret "${secret}x" <hmac.json
grep -q "signature mismatch" err || fail "wrong secret: stderr lacks 'signature mismatch'"
expect 1 "$HRSS" verify --profile sm3 <hmac.json
json_set hmac.json tampered.json serviceCode S11000012340002
expect 1 "$HRSS" verify --profile hmac-sm3 --secret-file secret.txt <tampered.json
: >empty.txt
expect 2 "$HRSS" sign --profile hmac-sm3 --secret-file empty.txt <req.json

# ---- sm2: verifies here and with openssl pkeyutl over the canonical string ----
openssl genpkey -algorithm SM2 -out sm2.pem 2>/dev/null
openssl pkey -in sm2.pem -pubout -out sm2pub.pem
openssl ecparam -genkey -name SM2 -noout -out other.pem 2>/dev/null   # SEC1 form
openssl pkey -in other.pem -pubout -out otherpub.pem
expect 0 "$HRSS" sign --profile sm2 --key sm2.pem <req.json
cp out sm2.json
expect 0 "$HRSS" verify --profile sm2 --key sm2pub.pem <sm2.json
expect 0 "$HRSS" verify --profile sm2 --key sm2.pem <sm2.json
expect 1 "$HRSS" verify --profile sm2 --key otherpub.pem <sm2.json
grep -q "signature mismatch" err || fail "other key: stderr lacks 'signature mismatch'"
json_set sm2.json tampered.json serviceAreaCode 120000
expect 1 "$HRSS" verify --profile sm2 --key sm2pub.pem <tampered.json
expect 2 "$HRSS" sign --profile sm2 --key sm2pub.pem <req.json  # a public key cannot sign
expect 0 "$HRSS" verify --print-canonical <sm2.json
printf '%s' "$(cat out)" >canon.txt
json_get sm2.json signature | openssl base64 -d -A >sig.der
openssl pkeyutl -verify -pubin -inkey sm2pub.pem -rawin -digest sm3 -in canon.txt \
  -sigfile sig.der -pkeyopt distid:1234567812345678 >pkeyutl.out 2>&1 ||
  fail "openssl pkeyutl does not verify the sm2 signature: $(cat pkeyutl.out)"
# And the other way: openssl signs, hrss verifies (SEC1 key accepted too).
expect 0 "$HRSS" sign --profile sm2 --key other.pem <req.json
cp out other.json
expect 0 "$HRSS" verify --print-canonical <other.json
printf '%s' "$(cat out)" >canon2.txt
openssl pkeyutl -sign -inkey other.pem -rawin -digest sm3 -in canon2.txt -out sig2.der \
  -pkeyopt distid:1234567812345678
json_set other.json byssl.json signature "$(openssl base64 -A -in sig2.der)"
expect 0 "$HRSS" verify --profile sm2 --key otherpub.pem <byssl.json

# ---- none: removes the signature ----
expect 0 "$HRSS" sign --profile none <sm3.json
cp out none.json
[[ -z $(json_get none.json signature) ]] || fail "profile none left a signature"
expect 0 "$HRSS" verify --profile none <none.json

# ---- existing values kept; "timestamp" signed under its own name ----
cat >given.json <<'EOF'
{"header":{"serviceCode":"S110000Y70PYTjb","appCode":"B100000KJGK","serviceAreaCode":"110000",
"serviceReqId":"B100000KJGK20170122100000001","timestamp":"20170122101020",
"nonce":"dbea7d58e3014126897614c8"},"body":{}}
EOF
expect 0 "$HRSS" sign --profile sm3 <given.json
cp out given-signed.json
[[ $(json_get given-signed.json serviceReqId) == B100000KJGK20170122100000001 ]] ||
  fail "serviceReqId not kept"
[[ $(json_get given-signed.json nonce) == dbea7d58e3014126897614c8 ]] || fail "nonce not kept"
[[ -z $(json_get given-signed.json serviceReqTime) ]] ||
  fail "serviceReqTime added beside timestamp"
expect 0 "$HRSS" verify --print-canonical <given-signed.json
[[ $(cat out) == *"&timestamp=20170122101020" ]] || fail "timestamp not signed as timestamp"
expect 0 "$HRSS" verify --profile sm3 <given-signed.json

# ---- the time window: off unless asked ----
expect 0 "$HRSS" verify --profile sm3 --window 900 <sm3.json
expect 1 "$HRSS" verify --profile sm3 --window 900 <given-signed.json
grep -q "window" err || fail "stale time not explained"

# ---- the standard's example 1 of 7.1.1.2 ----
cat >example.json <<'EOF'
{"header":{"timestamp":"20170122101020","serviceReqId":"100101***120170122100000001",
"serviceCode":"B100000KJGK","nonce":"dbea7d58e3014126897614c8","serviceAreaCode":"110000",
"appCode":"S110000Y70PYTjb"}}
EOF
expect 0 "$HRSS" verify --print-canonical <example.json
std='appCode=S110000Y70PYTjb&nonce=dbea7d58e3014126897614c8&serviceAreaCode=110000'
std+='&serviceCode=B100000KJGK&serviceReqId=100101***120170122100000001&timestamp=20170122101020'
[[ $(cat out) == "$std" ]] ||
  fail "canonical string of the standard's example: $(cat out)"
[[ $(printf '%s' "$(cat out)" | openssl dgst -sm3 | awk '{print $NF}') == \
   7b4b683c15970a845553bed954289c06753fa4d7c0bcbd88d5067bab259e2f6e ]] ||
  fail "sm3 of the standard's example changed"

# ---- invalid requests: exit 1 with the rule broken ----
json_set req.json bad.json appCode S110000123   # 10 characters
expect 1 "$HRSS" sign --profile sm3 --system S1100001234 <bad.json
grep -q "appCode" err || fail "bad appCode not named"
echo '{"header":{"appCode":1},"body":{}}' >bad.json
expect 1 "$HRSS" sign --profile sm3 <bad.json
grep -q "header.appCode" err || fail "non-string field not named"
echo '{"header":{"a":"1","a":"2"},"body":{}}' >bad.json
expect 1 "$HRSS" sign --profile sm3 <bad.json
echo '{"header":{}, "body":{}, "extra":1}' >bad.json
expect 1 "$HRSS" sign --profile sm3 <bad.json
echo '{"header":' >bad.json
expect 1 "$HRSS" sign --profile sm3 <bad.json
expect 1 "$HRSS" verify --profile sm3 <bad.json
echo '{"header":{"serviceCode":"S11000012340001","serviceAreaCode":"110000"},"body":{}}' >bad.json
expect 1 "$HRSS" sign --profile sm3 <bad.json       # no appCode, no --system
grep -q "serviceReqId" err || fail "missing id source not explained"

echo "sign/verify CLI: all checks passed"
