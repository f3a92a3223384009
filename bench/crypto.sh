#!/usr/bin/env bash
# bench/crypto.sh - libhrss's SM3, SM4-ECB and SM2 beside "openssl speed" on this machine,
# in one run: the hrss figures come from BUILD_DIR/bench_crypto (the public API, one call
# per message: context set-up, allocation and PKCS#7 padding included), the reference from
# the openssl command line (EVP, one context reused for SM4; "speed sm2" for SM2). Both
# divide by CPU time (openssl speed's default), so a busy machine skews them less than
# wall-clock time would. hrss and openssl are measured in turn ROUNDS times (default 3);
# the table shows the medians of each side and the ratio lines the median of the
# per-round ratios (hrss/openssl, above 1 means hrss is faster). Ends with:
#   sm2 sign hrss/openssl ratio: X
#   sm2 verify hrss/openssl ratio: X
#   sm4-ecb hrss/openssl ratio: X          (8 KiB messages)
# Takes about 25 s per round at 1 s per case.
#   bench/crypto.sh BUILD_DIR [SECONDS_PER_CASE]       (environment: ROUNDS)
# Use a release build: a sanitizer build is several times slower.
set -euo pipefail

build=${1:?usage: bench/crypto.sh BUILD_DIR [SECONDS_PER_CASE]}
secs=${2:-1}
ROUNDS=${ROUNDS:-3}
[[ $secs =~ ^[1-9][0-9]?$ ]] || { echo "SECONDS_PER_CASE must be a whole number 1..99 (openssl speed -seconds)" >&2; exit 2; }
bench=$build/bench_crypto
[[ -x $bench ]] || { echo "no $bench (build the bench_crypto target)" >&2; exit 2; }
command -v openssl >/dev/null || { echo "openssl not found" >&2; exit 2; }
[[ $ROUNDS =~ ^[1-9][0-9]?$ ]] || { echo "ROUNDS must be 1..99" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Each round appends "case hrss openssl" lines to $tmp/rows.
#   openssl speed -mr: "+F:n:alg:v16:v64:v256:v1024:v8192:v16384" in bytes/s for the EVP
#   cases, "+F7:n:bits:CurveSM2:sign/s:verify/s" for SM2 (OpenSSL 3.0 has "speed sm2").
: >"$tmp/rows"
for ((round = 1; round <= ROUNDS; round++)); do
  "$bench" --mr --seconds "$secs" >"$tmp/hrss"
  openssl speed -seconds "$secs" -mr -evp sm3 2>/dev/null | grep '^+F:' >"$tmp/sm3" || true
  openssl speed -seconds "$secs" -mr -evp sm4-ecb 2>/dev/null | grep '^+F:' >"$tmp/sm4" || true
  openssl speed -seconds "$secs" -mr sm2 2>/dev/null | grep '^+F7:' >"$tmp/sm2" || true
  hv() { awk -v k="$1" '$1 == k { print $2 }' "$tmp/hrss"; }
  # field N (1-based, after splitting on ':') of the first line of a file
  of() { awk -F: -v n="$2" 'NR == 1 { print $n }' "$tmp/$1"; }
  # openssl columns: 16 B = field 4, 1 KiB = field 7, 8 KiB = field 8
  {
    echo "sm3:16 $(hv sm3:16) $(of sm3 4)"
    echo "sm3:1024 $(hv sm3:1024) $(of sm3 7)"
    echo "sm3:8192 $(hv sm3:8192) $(of sm3 8)"
    echo "sm4-ecb:1024 $(hv sm4-ecb:1024) $(of sm4 7)"
    echo "sm4-ecb:8192 $(hv sm4-ecb:8192) $(of sm4 8)"
    echo "sm2:sign $(hv sm2:sign) $(of sm2 5)"
    echo "sm2:verify $(hv sm2:verify) $(of sm2 6)"
  } >>"$tmp/rows"
done

printf 'SM crypto: hrss (libhrss public API) vs openssl speed, %s s per case, median of %s rounds\n' \
  "$secs" "$ROUNDS"
printf '%s\n' "$(openssl version)"
printf '%-20s %14s %14s %8s\n' case hrss openssl ratio
# row CASE LABEL UNIT [RATIO_NAME]: medians of each column and of the per-round ratios;
# with RATIO_NAME, also a "RATIO_NAME hrss/openssl ratio: X" line for the end
: >"$tmp/ratios"
row() {
  awk -v c="$1" -v l="$2" -v u="$3" -v rn="${4:-}" -v rf="$tmp/ratios" '
    function median(a, n,   i, j, t) {
      for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
        t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
      return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    $1 == c && NF == 3 && $3 > 0 { n++; h[n] = $2; o[n] = $3; r[n] = $2 / $3 }
    END {
      if (n == 0) {
        printf "%-20s %14s %14s %8s\n", l, "n/a", "n/a", "-"
        if (rn != "") printf "%s hrss/openssl ratio: n/a\n", rn >>rf
        exit
      }
      mh = median(h, n); mo = median(o, n); mr = median(r, n)
      if (u == "MB/s") { mh /= 1e6; mo /= 1e6 }
      printf "%-20s %9.1f %-4s %9.1f %-4s %8.2f\n", l, mh, u, mo, u, mr
      if (rn != "") printf "%s hrss/openssl ratio: %.2f\n", rn, mr >>rf
    }' "$tmp/rows"
}
row sm3:16 "SM3 16 B" MB/s
row sm3:1024 "SM3 1 KiB" MB/s
row sm3:8192 "SM3 8 KiB" MB/s
row sm4-ecb:1024 "SM4-ECB enc 1 KiB" MB/s
row sm4-ecb:8192 "SM4-ECB enc 8 KiB" MB/s sm4-ecb
row sm2:sign "SM2 sign" op/s "sm2 sign"
row sm2:verify "SM2 verify" op/s "sm2 verify"
[[ -s $tmp/sm2 ]] || echo "note: this openssl has no 'speed sm2'; SM2 has no reference figure"
# the three ratio lines, in the order sm2 sign, sm2 verify, sm4-ecb
grep '^sm2 sign' "$tmp/ratios"
grep '^sm2 verify' "$tmp/ratios"
grep '^sm4-ecb' "$tmp/ratios"
