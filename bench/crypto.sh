#!/usr/bin/env bash
# bench/crypto.sh - libhrss's SM3, SM4-ECB and SM2 beside "openssl speed" on this machine,
# in one run: the hrss figures come from BUILD_DIR/bench_crypto (the public API, one call
# per message: context set-up, allocation and PKCS#7 padding included), the reference from
# the openssl command line (EVP, one context reused for SM4). The ratio is hrss/openssl:
# near 1 means the SDK adds little over OpenSSL. Both divide by CPU time (openssl speed's
# default), so a busy machine skews them less than wall-clock time would. Takes ~25 s.
#   bench/crypto.sh BUILD_DIR [SECONDS_PER_CASE]
# Use a release build: a sanitizer build is several times slower.
set -euo pipefail

build=${1:?usage: bench/crypto.sh BUILD_DIR [SECONDS_PER_CASE]}
secs=${2:-1}
bench=$build/bench_crypto
[[ -x $bench ]] || { echo "no $bench (build the bench_crypto target)" >&2; exit 2; }
command -v openssl >/dev/null || { echo "openssl not found" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$bench" --mr --seconds "$secs" >"$tmp/hrss"
# openssl speed -mr: "+F:n:alg:v16:v64:v256:v1024:v8192:v16384" in bytes/s for the EVP
# cases, "+F7:n:bits:CurveSM2:sign/s:verify/s" for SM2 (OpenSSL 3.0 has "speed sm2").
openssl speed -seconds "$secs" -mr -evp sm3 2>/dev/null | grep '^+F:' >"$tmp/sm3" || true
openssl speed -seconds "$secs" -mr -evp sm4-ecb 2>/dev/null | grep '^+F:' >"$tmp/sm4" || true
openssl speed -seconds "$secs" -mr sm2 2>/dev/null | grep '^+F7:' >"$tmp/sm2" || true

hrss_value() { awk -v k="$1" '$1 == k { print $2 }' "$tmp/hrss"; }
# field N (1-based, after splitting on ':') of the first line of a file
ossl_field() { awk -F: -v n="$2" 'NR == 1 { print $n }' "$tmp/$1"; }

printf 'SM crypto: hrss (libhrss public API) vs openssl speed, %s s per case\n' "$secs"
printf '%s\n' "$(openssl version)"
printf '%-20s %14s %14s %8s\n' case hrss openssl ratio
row() { # row LABEL UNIT HRSS OPENSSL
  local label=$1 unit=$2 h=$3 o=$4
  if [[ -z $h || -z $o ]]; then
    printf '%-20s %14s %14s %8s\n' "$label" "${h:-n/a}" "${o:-n/a}" "-"
    return
  fi
  awk -v l="$label" -v u="$unit" -v h="$h" -v o="$o" 'BEGIN {
    if (u == "MB/s") { h /= 1e6; o /= 1e6 }
    printf "%-20s %9.1f %-4s %9.1f %-4s %8.2f\n", l, h, u, o, u, (o > 0 ? h / o : 0) }'
}
# openssl columns: 16 B = field 4, 1 KiB = field 7, 8 KiB = field 8
row "SM3 16 B" MB/s "$(hrss_value sm3:16)" "$(ossl_field sm3 4)"
row "SM3 1 KiB" MB/s "$(hrss_value sm3:1024)" "$(ossl_field sm3 7)"
row "SM3 8 KiB" MB/s "$(hrss_value sm3:8192)" "$(ossl_field sm3 8)"
row "SM4-ECB enc 1 KiB" MB/s "$(hrss_value sm4-ecb:1024)" "$(ossl_field sm4 7)"
row "SM4-ECB enc 8 KiB" MB/s "$(hrss_value sm4-ecb:8192)" "$(ossl_field sm4 8)"
row "SM2 sign" op/s "$(hrss_value sm2:sign)" "$(ossl_field sm2 5)"
row "SM2 verify" op/s "$(hrss_value sm2:verify)" "$(ossl_field sm2 6)"
[[ -s $tmp/sm2 ]] || echo "note: this openssl has no 'speed sm2'; SM2 has no reference figure"
