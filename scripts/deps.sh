#!/usr/bin/env bash
# Installs the Debian packages hrss needs and that are missing (apt-get,
# through sudo when not root). Usage: scripts/deps.sh [build|fuzz|bench|all]
set -euo pipefail
what=${1:-build}
build=(build-essential cmake pkg-config openssl libssl-dev libjansson-dev libcmocka-dev
       libevent-dev libsqlite3-dev libcurl4-openssl-dev libhiredis-dev redis-server python3 python3-pytest python3-cryptography curl
       libnet-smpp-perl valgrind)
fuzz=(clang libclang-rt-dev)
bench=(wrk nginx-light kannel kannel-extras)
case $what in
  build) pkgs=("${build[@]}") ;;
  fuzz) pkgs=("${build[@]}" "${fuzz[@]}") ;;
  bench) pkgs=("${build[@]}" "${bench[@]}") ;;
  all) pkgs=("${build[@]}" "${fuzz[@]}" "${bench[@]}") ;;
  *) echo "usage: $0 [build|fuzz|bench|all]" >&2; exit 2 ;;
esac
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0
echo "installing: ${missing[*]}"
sudo=()
[[ $(id -u) -eq 0 ]] || sudo=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
