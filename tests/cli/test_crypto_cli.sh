#!/usr/bin/env bash
# tests/cli/test_crypto_cli.sh - "hrss sm3", "hrss sm4", "hrss keygen" and "hrss sm2"
# cross-checked with the openssl command line (OpenSSL 3): digests and HMACs equal
# "openssl dgst", SM4-ECB equals "openssl enc -sm4-ecb", SM2 signatures (ID
# 1234567812345678) verify both ways with "openssl pkeyutl", SM2 ciphertexts (GM/T 0009
# DER) decrypt both ways; then the official vectors through the CLI, and bad input:
# exit codes (0 ok, 1 refused, 2 bad usage/input), messages on stderr, --help.
# Needs HRSS_BIN (and HRSS_SOURCE_DIR for the vector file), openssl, base64, od.
set -euo pipefail
# shellcheck source=../lib/cli.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/cli.sh"

HRSS=${HRSS_BIN:?HRSS_BIN must name the hrss binary}
SRC=${HRSS_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
VECTORS=$SRC/tests/vectors/sm-vectors.txt
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"


hex_of() { od -An -v -tx1 | tr -d ' \n'; }
vec() { sed -n "s/^$1: //p" "$VECTORS"; }
same() { [[ $1 == "$2" ]] || fail "$3: got '$1', expected '$2'"; }

printf 'message digest' >msg
head -c 10000 /dev/urandom >big
: >empty

# ---- SM3 and HMAC-SM3 ----
for f in msg big empty; do
  same "$("$HRSS" sm3 <$f)" "$(openssl dgst -sm3 <$f | awk '{print $NF}')" "sm3 of $f"
  same "$("$HRSS" sm3 --hmac-key-hex 6b6579 <$f)" \
       "$(openssl dgst -sm3 -mac HMAC -macopt hexkey:6b6579 <$f | awk '{print $NF}')" \
       "hmac-sm3 of $f"
done
same "$(printf abc | "$HRSS" sm3)" "$(vec sm3_msg1_digest)" "sm3 official msg1"

# ---- SM4-ECB ----
KEY=1234567890123456
KHEX=31323334353637383930313233343536
for f in msg big empty; do
  same "$("$HRSS" sm4 encrypt --key $KEY --hex <$f)" \
       "$(openssl enc -sm4-ecb -K $KHEX <$f | hex_of)" "sm4-ecb of $f"
  "$HRSS" sm4 encrypt --key $KEY <$f >ct.b64
  "$HRSS" sm4 decrypt --key $KEY <ct.b64 >back
  cmp -s back $f || fail "sm4 base64 round trip of $f"
  base64 -d ct.b64 | openssl enc -d -sm4-ecb -K $KHEX >back
  cmp -s back $f || fail "openssl decrypts hrss sm4 output of $f"
  "$HRSS" sm4 encrypt --key $KEY --hex <$f | "$HRSS" sm4 decrypt --key $KEY --hex >back
  cmp -s back $f || fail "sm4 hex round trip of $f"
done
printf '{"aac002":"110101199003077777"}' >json
same "$("$HRSS" sm4 encrypt --key $KEY <json)" "5NE5MLW1KdfAG99YimS6/UQTNm671alyr/koPv1yzwI=" \
     "local json vector"
printf '%s\n' $KEY >keyfile
same "$("$HRSS" sm4 encrypt --key-file keyfile --hex <json)" "$(vec local_sm4ecb_pkcs7_ct_json)" \
     "--key-file"
# GCM profile: round trip, AAD bound.
"$HRSS" sm4 encrypt --key $KEY --gcm --aad hdr <big >gcm.b64
"$HRSS" sm4 decrypt --key $KEY --gcm --aad hdr <gcm.b64 >back
cmp -s back big || fail "sm4 gcm round trip"
expect 1 "$HRSS" sm4 decrypt --key $KEY --gcm --aad other <gcm.b64
grep -q "tag mismatch" err || fail "gcm tag failure message"

# ---- SM2 keys ----
expect 0 "$HRSS" keygen sm2 --out P
[[ ! -s out ]] || fail "keygen printed something on stdout"
[[ $(stat -c %a P.key) == 600 ]] || fail "P.key mode $(stat -c %a P.key)"
head -n 1 P.key | grep -qx -- '-----BEGIN PRIVATE KEY-----' || fail "P.key is not PKCS#8 PEM"
head -n 1 P.pub | grep -qx -- '-----BEGIN PUBLIC KEY-----' || fail "P.pub is not SPKI PEM"
openssl pkey -in P.key -noout -text | grep -q 'ASN1 OID: SM2' ||
  fail "openssl does not see an SM2 key"
same "$(openssl pkey -in P.key -pubout)" "$(cat P.pub)" "public key of P.key"
# RFC 5915: the ECPrivateKey inside the PKCS#8 carries [0] parameters (namedCurve SM2),
# which GmSSL requires; openssl reads the key with it.
openssl pkey -in P.key -out P.reread.pem || fail "openssl pkey does not read P.key"
inner=$(openssl asn1parse -in P.key | awk -F: '/OCTET STRING/ { print $1; exit }' | tr -d ' ')
openssl asn1parse -in P.key -strparse "$inner" -i >ecpriv.txt ||
  fail "the PKCS#8 privateKey is not DER"
grep -q 'cont \[ 0 \]' ecpriv.txt || fail "no [0] parameters in the ECPrivateKey"
grep -A1 'cont \[ 0 \]' ecpriv.txt | grep -q 'OBJECT *:sm2' ||
  fail "the [0] parameters do not name SM2"
grep -q 'cont \[ 1 \]' ecpriv.txt || fail "no [1] public key in the ECPrivateKey"
# A key written by openssl (without [0]) still loads and signs.
openssl genpkey -algorithm SM2 -out O.key 2>/dev/null
expect 0 "$HRSS" sm2 sign --key O.key <msg
expect 0 "$HRSS" keygen sm2 --out R --print-raw
grep -Eq '^d [0-9a-f]{64}$' out && grep -Eq '^pub 04[0-9a-f]{128}$' out || fail "--print-raw output"

# ---- SM2 signatures both ways ----
ID=distid:1234567812345678
for f in msg big empty; do
  "$HRSS" sm2 sign --key P.key <$f >sig.b64
  base64 -d sig.b64 >sig.der
  openssl pkeyutl -verify -pubin -inkey P.pub -rawin -digest sm3 -pkeyopt $ID \
      -in $f -sigfile sig.der >/dev/null || fail "openssl rejects hrss signature of $f"
  openssl pkeyutl -sign -inkey P.key -rawin -digest sm3 -pkeyopt $ID -in $f -out osig.der
  expect 0 "$HRSS" sm2 verify --key P.pub --signature "$(base64 -w0 osig.der)" <$f
  same "$(cat out)" ok "hrss verify of openssl signature of $f"
done
# Another user ID, both ways.
"$HRSS" sm2 sign --key P.key --id alice@example.com <msg | base64 -d >sig.der
openssl pkeyutl -verify -pubin -inkey P.pub -rawin -digest sm3 -pkeyopt distid:alice@example.com \
    -in msg -sigfile sig.der >/dev/null || fail "openssl rejects signature with --id"
expect 1 "$HRSS" sm2 verify --key P.pub --signature "$(base64 -w0 sig.der)" <msg
grep -q "signature mismatch" err || fail "mismatch message"
expect 0 "$HRSS" sm2 verify --key P.pub --id alice@example.com \
    --signature "$(base64 -w0 sig.der)" <msg
# r||s in hex, from a file.
"$HRSS" sm2 sign --key P.key --sig-format raw --hex <msg >sig.hex
grep -Eqx '[0-9a-f]{128}' sig.hex || fail "raw hex signature shape"
expect 0 "$HRSS" sm2 verify --key P.pub --sig-format raw --hex --sigfile sig.hex <msg
expect 1 "$HRSS" sm2 verify --key P.pub --sig-format raw --hex --sigfile sig.hex <big
expect 1 "$HRSS" sm2 verify --key P.pub --sig-format der --hex --sigfile sig.hex <msg

# ---- SM2 encryption both ways ----
for f in msg big; do
  openssl pkeyutl -encrypt -pubin -inkey P.pub -in $f -out ct.der
  base64 -w0 ct.der | "$HRSS" sm2 decrypt --key P.key --format der >back
  cmp -s back $f || fail "hrss decrypts openssl ciphertext of $f"
  "$HRSS" sm2 encrypt --key P.pub --format der <$f | base64 -d >ct2.der
  openssl pkeyutl -decrypt -inkey P.key -in ct2.der >back
  cmp -s back $f || fail "openssl decrypts hrss ciphertext of $f"
  for fmt in c1c3c2 c1c2c3 der; do
    "$HRSS" sm2 encrypt --key P.pub --format $fmt --hex <$f >ct.hex
    "$HRSS" sm2 decrypt --key P.key --format $fmt --hex <ct.hex >back
    cmp -s back $f || fail "sm2 $fmt round trip of $f"
  done
done
# C1C3C2 is the default, and it is 97 bytes longer than the message.
"$HRSS" sm2 encrypt --key P.pub <msg | base64 -d >ct.raw
[[ $(stat -c %s ct.raw) == $((97 + 14)) ]] || fail "c1c3c2 length"
"$HRSS" sm2 decrypt --key P.key --format c1c3c2 < <(base64 -w0 ct.raw) >back
cmp -s back msg || fail "default format is c1c3c2"

# ---- official vectors through the CLI ----
vec sm2_priv_sec1_der | xxd -r -p >sec1.der
pem() { echo "-----BEGIN $1-----"; base64 -w64 "$2"; echo "-----END $1-----"; }
pem 'EC PRIVATE KEY' sec1.der >off.key
vec sm2_pub_spki_der | xxd -r -p >spki.der
pem 'PUBLIC KEY' spki.der >off.pub
expect 0 "$HRSS" sm2 verify --key off.pub --hex --signature "$(vec sm2_sig_der)" <msg
expect 0 "$HRSS" sm2 verify --key off.key --sig-format raw --hex \
    --signature "$(vec sm2_sig_r)$(vec sm2_sig_s)" <msg
for pair in c1c3c2:sm2_enc_C1C3C2 c1c2c3:sm2_enc_C1C2C3 der:sm2_enc_gmt0009_der; do
  vec "${pair#*:}" | "$HRSS" sm2 decrypt --key off.key --format "${pair%%:*}" --hex >back
  same "$(cat back)" "encryption standard" "official ciphertext ${pair%%:*}"
done

# ---- bad input ----
expect 2 "$HRSS" sm4 encrypt --key 123456789012345 <msg
grep -q "need exactly 16 digits" err || fail "short key message"
grep -q 123456789012345 err && fail "the key was echoed on stderr"
expect 2 "$HRSS" sm4 encrypt --key 123456789012345x <msg
expect 2 "$HRSS" sm4 encrypt <msg
expect 2 "$HRSS" sm4 encrypt --key $KEY --key-file keyfile <msg
expect 2 "$HRSS" sm4 encrypt --key $KEY --aad x <msg
expect 2 "$HRSS" sm4 frobnicate --key $KEY <msg
expect 2 "$HRSS" sm4 decrypt --key $KEY <<<'not base64!'
[[ -s err ]] || fail "no message for bad base64"
printf 'secret message' | "$HRSS" sm4 encrypt --key $KEY >ct.b64
expect 1 "$HRSS" sm4 decrypt --key 6543210987654321 <ct.b64
grep -q padding err || fail "wrong key message"
expect 1 "$HRSS" sm4 decrypt --key $KEY <<<'AAAAAAAAAAAAAAAAAAAAAA=='
expect 2 "$HRSS" sm2 sign <msg
expect 2 "$HRSS" sm2 sign --key P.pub <msg # no private part
expect 2 "$HRSS" sm2 sign --key nonexistent.pem <msg
expect 2 "$HRSS" sm2 sign --key msg <msg # not a PEM
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out p256.key 2>/dev/null
expect 2 "$HRSS" sm2 sign --key p256.key <msg
grep -q "not SM2" err || fail "wrong curve message"
expect 2 "$HRSS" sm2 encrypt --key P.pub --format c1c2 <msg
expect 2 "$HRSS" sm2 sign --key P.key --sig-format asn1 <msg
expect 2 "$HRSS" sm2 verify --key P.pub <msg # no signature
expect 2 "$HRSS" sm2 verify --key P.pub --signature '***' <msg
expect 1 "$HRSS" sm2 verify --key P.pub --signature AAAA <msg
"$HRSS" sm2 encrypt --key P.pub --hex <msg >ct.hex
sed 's/^\(.\{200\}\)./\1f/' ct.hex >bad.hex # a C2/C3 byte changed
cmp -s ct.hex bad.hex && sed -i 's/^\(.\{200\}\)./\10/' bad.hex
expect 1 "$HRSS" sm2 decrypt --key P.key --hex <bad.hex
expect 1 "$HRSS" sm2 decrypt --key R.key --hex <ct.hex # another key
expect 2 "$HRSS" sm2 decrypt --key P.pub --hex <ct.hex # public key cannot decrypt
expect 2 "$HRSS" sm2 frobnicate --key P.key <msg
expect 2 "$HRSS" keygen rsa --out X
expect 2 "$HRSS" keygen sm2
expect 2 "$HRSS" sm3 --bogus <msg
expect 2 "$HRSS" sm3 extra <msg

# ---- --help everywhere ----
for cmd in "sm3" "sm4" "sm4 encrypt" "sm4 decrypt" "keygen" "keygen sm2" "sm2" "sm2 sign" \
           "sm2 verify" "sm2 encrypt" "sm2 decrypt"; do
  # shellcheck disable=SC2086
  expect 0 "$HRSS" $cmd --help </dev/null
  grep -q '^usage: hrss' out || fail "hrss $cmd --help prints no usage"
done

echo "crypto cli: all checks passed"
