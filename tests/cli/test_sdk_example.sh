#!/usr/bin/env bash
# The SDK example of docs/api.md builds against the installed-style headers
# and the shared library, and what it prints is a valid request that the
# hrss tool verifies and whose body decrypts with the grant's key.
set -euo pipefail
build=$(dirname "$HRSS_BIN")
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
# A sanitizer build's library needs the sanitizer runtime in the program too.
sanitize=
if nm -D "$build/libhrss.so" 2>/dev/null | grep __asan_ >/dev/null; then  # not -q: an early exit would fail the pipe
  sanitize="-fsanitize=address,undefined"
fi
cc -std=c11 -Wall -Wextra -Werror -I"$HRSS_SOURCE_DIR/include" \
   "$HRSS_SOURCE_DIR/examples/sign_request.c" -L"$build" -lhrss \
   $(pkg-config --cflags --libs jansson) -o "$dir/sign_request" \
   $sanitize
HRSS_STATE_DIR="$dir" LD_LIBRARY_PATH="$build" "$dir/sign_request" >"$dir/req.json"
printf 'shared-with-the-node' >"$dir/secret"
"$HRSS_BIN" envelope check <"$dir/req.json"
"$HRSS_BIN" verify --profile hmac-sm3 --secret-file "$dir/secret" <"$dir/req.json"
python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["body"])' "$dir/req.json" |
  "$HRSS_BIN" sm4 decrypt --key 1234567890123456 >"$dir/body"
grep -q '"aac002":"110101199003077777"' "$dir/body"
echo "sdk example ok"
