# tests/lib/cli.sh - helpers shared by the command-line tests (sourced, not run).
#   fail MSG           print FAIL: MSG on stderr and exit 1
#   expect RC CMD...   run CMD (stdin inherited), stdout to ./out, stderr to ./err;
#                      fail, showing both, unless it exits with RC
fail() {
  echo "FAIL: $*" >&2
  exit 1
}

expect() {
  local want=$1 got=0
  shift
  "$@" >out 2>err || got=$?
  if [[ $got != "$want" ]]; then
    echo "--- stdout (first lines):" >&2; head -n 50 out >&2
    echo "--- stderr:" >&2; cat err >&2
    fail "exit $got, expected $want: $*"
  fi
}
