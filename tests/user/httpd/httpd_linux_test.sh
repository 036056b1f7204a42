#!/usr/bin/env bash
# httpd on the Linux backend, driven by curl, socat and wrk
# (httpd_checks.sh), then the same server serving a real directory (--root).
#
#   httpd_linux_test.sh HTTPD_BIN
set -uo pipefail
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
free_port() {
  local p
  for _ in $(seq 1 50); do
    p=$((20000 + RANDOM % 12000))
    if ! ss -Hltn 2>/dev/null | awk '{print $4}' | grep -q ":$p\$"; then echo "$p"; return; fi
  done
  echo 24998
}
pids=()
tmp=$(mktemp -d)
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$tmp"; }
trap cleanup EXIT
start() {  # start PORT ARGS...: starts httpd and waits until it answers
  local port=$1; shift
  RINGLET_BACKEND=linux "$bin" --port "$port" "$@" >"$tmp/log.$port" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 100); do
    curl -s -o /dev/null "http://127.0.0.1:$port/" && return 0
    sleep 0.1
  done
  echo "FAILED: httpd did not start"; cat "$tmp/log.$port"; return 1
}

failed=0
port=$(free_port)
start "$port" --idle-timeout 2000 || exit 1
"$here/httpd_checks.sh" "$port" 2000 3 || failed=1
kill -0 "${pids[0]}" 2>/dev/null || { echo "FAILED: httpd exited"; failed=1; }

# The connection limit (64): a 65th connection is closed at once, the 64
# idle ones are closed after --idle-timeout, and then the server serves again.
python3 - "$port" <<'PY' || failed=1
import socket, sys, time
port = int(sys.argv[1])
held = [socket.create_connection(("127.0.0.1", port)) for _ in range(64)]
time.sleep(0.5)
extra = socket.create_connection(("127.0.0.1", port))
extra.settimeout(5)
try:
    refused = extra.recv(1) == b""
except (ConnectionResetError, socket.timeout):
    refused = False
if not refused:
    print("FAILED: a 65th connection was not closed at once")
    sys.exit(1)
held[0].settimeout(10)
if held[0].recv(1) != b"":
    print("FAILED: an idle connection was not closed")
    sys.exit(1)
PY
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/")" = 200 ] \
  || { echo "FAILED: not serving after the connection limit"; failed=1; }

# --root DIR: a real directory.
mkdir -p "$tmp/root/sub"
printf 'root file\n' >"$tmp/root/sub/a.txt"
port2=$(free_port)
start "$port2" --root "$tmp/root" || exit 1
[ "$(curl -s "http://127.0.0.1:$port2/sub/a.txt")" = "root file" ] || { echo "FAILED: --root"; failed=1; }
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port2/index.html")" = 404 ] \
  || { echo "FAILED: --root serves the default site"; failed=1; }
[ $failed -eq 0 ] && echo "ok: httpd on Linux passed every client check"
exit $failed
