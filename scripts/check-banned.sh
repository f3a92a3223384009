#!/usr/bin/env bash
# Refuses functions that are easy to misuse (docs/design.md, decision 23):
# unbounded copies and formats, non-reentrant tokenising, unchecked number
# parsing. Run from the top of the source tree; prints offenders, exits 1.
set -euo pipefail
banned='\b(strcpy|strcat|sprintf|vsprintf|gets|strtok|atoi|atol|atoll|atof|strncpy|stpcpy|tmpnam|mktemp)[[:space:]]*\('
files=$(git ls-files '*.c' '*.h' 2>/dev/null || find src include tests fuzz bench -name '*.[ch]')
# strip comments and strings roughly: we only look at code lines not starting a comment
hits=$(grep -nE "$banned" $files | grep -vE '^[^:]+:[0-9]+:[[:space:]]*(/\*|\*)' || true)
if [[ -n $hits ]]; then
  echo "banned functions in use:"
  echo "$hits"
  exit 1
fi
echo "no banned functions"
