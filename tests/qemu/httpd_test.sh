#!/usr/bin/env bash
# httpd on Ringlet (lwIP over virtio-net, QEMU user networking) driven by the
# same curl, socat and wrk checks as on Linux (tests/user/httpd/httpd_checks.sh),
# then: the file bodies went out by reference (/stats: the libOS's dataplane
# copied no payload byte), and the kernel is healthy (no panic, no app killed).
# With --root-disk, the site archive is read from a virtio-blk disk instead of
# the copy linked into the app, and the same files come back.
#
#   httpd_test.sh [--root-disk ARCHIVE] [--wrk-seconds N]
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
disk_archive="" wrk_s=3
while [ $# -gt 0 ]; do
  case "$1" in
    --root-disk) disk_archive=$2; shift 2 ;;
    --wrk-seconds) wrk_s=$2; shift 2 ;;
    *) echo "httpd_test.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

. "$(dirname "$0")/net_boot.sh"
port=$(free_port)
failed=0
fail() { echo "FAILED: $*"; failed=1; }
if [ -n "$disk_archive" ]; then
  disk=$(mktemp)
  cp "$disk_archive" "$disk"
  log=$(mktemp)
  trap 'net_boot_cleanup; rm -f "$disk"' EXIT
  "$root/scripts/run-qemu.sh" --no-build --timeout 200 --net "tcp:$port:8080" --disk "$disk" \
    --append "init=httpd:--port:8080:--root-disk" >"$log" 2>&1 &
  qemu_pid=$!
else
  net_boot_start 300 "tcp:$port:8080" "init=httpd:--port:8080:--idle-timeout:2000"
fi
served=0
for _ in $(seq 1 300); do
  grep -q "^httpd: serving" "$log" && { served=1; break; }
  kill -0 "$qemu_pid" 2>/dev/null || break
  sleep 0.1
done
[ $served -eq 1 ] || fail "httpd never started serving"

if [ $failed -eq 0 ] && [ -n "$disk_archive" ]; then
  grep -q "^httpd: 4 files from the disk" "$log" || fail "httpd did not load its files from the disk"
  url=http://127.0.0.1:$port
  [ "$(curl -s --max-time 20 "$url/64k.bin" | wc -c)" = 65536 ] || fail "GET /64k.bin from the disk"
  cmp -s <(curl -s --max-time 20 "$url/") "$root/user/httpd/site/index.html" || fail "GET / from the disk"
  [ "$(curl -s --max-time 20 -o /dev/null -w '%{http_code}' "$url/nope")" = 404 ] || fail "404 from the disk"
elif [ $failed -eq 0 ]; then
  "$root/tests/user/httpd/httpd_checks.sh" "$port" 2000 "$wrk_s" || fail "client checks"
  stats=$(curl -s --max-time 20 "http://127.0.0.1:$port/stats")
  echo "$stats" | grep -E "^(requests|bytes_sent|body_bytes_zero_copy|dataplane_)"
  echo "$stats" | grep -q "^dataplane_payload_bytes_copied 0$" || fail "the dataplane copied payload bytes"
  echo "$stats" | grep -qE "^dataplane_tx_by_reference [1-9]" || fail "nothing was sent by reference"
fi

kill -0 "$qemu_pid" 2>/dev/null || fail "QEMU exited during the test"
tr -d '\r' <"$log" | grep -E "PANIC|killed:" && fail "the console reports a panic or a killed app"
if [ $failed -ne 0 ]; then
  echo "---- console ----"; tr -d '\r' <"$log" | tail -40; exit 1
fi
echo "ok: httpd on Ringlet passed the client checks"
