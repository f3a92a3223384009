#!/usr/bin/env bash
# Checks that layers point one way (docs/design.md, decision 23):
#   common <- lib <- {store, net} <- daemon <- node;  common <- lib <- carrier;
#   {store, net, daemon, carrier} <- sms;  common <- hrss (the SDK) <- {cli, demo}
# A file in a layer may include headers of the layers listed for it only.
# The CLI uses the public SDK (hrss/*.h) and common, never src/lib internals.
set -euo pipefail
declare -A may=(
  [common]="common"
  [lib]="common lib hrss"
  [store]="common lib hrss store"
  [net]="common lib hrss net"
  [daemon]="common lib hrss net daemon"
  [node]="common lib hrss store net daemon node"
  [carrier]="common lib hrss carrier"
  [sms]="common lib hrss store net daemon carrier sms"
  [cli]="common hrss cli"
  [demo]="common hrss demo"
)
bad=0
for layer in "${!may[@]}"; do
  [[ -d src/$layer ]] || continue
  while IFS= read -r line; do
    file=${line%%:*}
    inc=$(sed -E 's/.*#include[[:space:]]*"([^"]+)".*/\1/' <<<"${line#*:}")
    case $inc in
      */*) top=${inc%%/*} ;;
      *) top=$layer ;;  # same-directory include
    esac
    ok=0
    for allowed in ${may[$layer]}; do [[ $top == "$allowed" ]] && ok=1; done
    if [[ $ok -eq 0 ]]; then
      echo "$file: layer '$layer' may not include \"$inc\""
      bad=1
    fi
  done < <(grep -rHE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "src/$layer" || true)
done
[[ $bad -eq 0 ]] && echo "layers ok"
exit $bad
