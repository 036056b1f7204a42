#!/usr/bin/env bash
# Kills the echo app mid-stream (echo --fault-after 50 touches an unmapped
# address after 50 echoed datagrams) while a host client is sending, and checks
# that the kernel goes on: the app is reported killed, a ticker app on the same
# hart keeps ticking after the kill and exits 0, and nothing panics.
#
#   net_kill_test.sh LOADGEN
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
loadgen=$1
port=$((20000 + RANDOM % 20000))
log=$(mktemp)
cleanup() {
  pkill -f "hostfwd=udp:127.0.0.1:$port-" 2>/dev/null
  kill "$qemu_pid" 2>/dev/null
  wait "$qemu_pid" 2>/dev/null
  rm -f "$log"
}
trap cleanup EXIT

"$root/scripts/run-qemu.sh" --no-build --timeout 120 --net "udp:$port:5555" \
  --append "shutdown init=echo:--udp:5555:--fault-after:50,ticker:100" >"$log" 2>&1 &
qemu_pid=$!
for _ in $(seq 1 300); do
  grep -q "libos: network up" "$log" && break
  sleep 0.1
done

failed=0
fail() { echo "FAILED: $*"; failed=1; }
grep -q "libos: network up" "$log" || fail "the echo app never brought the network up"
# The client sees the first 49 answers, then silence: timeouts are expected.
"$loadgen" --proto udp --port "$port" --clients 1 --size 64 --requests 100 --timeout-ms 300 \
  --allow-timeouts --no-progress >/dev/null 2>&1
for _ in $(seq 1 100); do  # the ticker needs about 2 s of guest time
  grep -q "all apps done" "$log" && break
  sleep 0.1
done
wait "$qemu_pid"
rc=$?
tr -d '\r' <"$log" >"$log.txt"
grep -q "^app echo (hart [0-9]*) killed: store/AMO page fault .* address 0x0000000000000010$" "$log.txt" \
  || fail "echo was not reported killed"
killed_at=$(grep -n "^app echo (hart [0-9]*) killed" "$log.txt" | head -1 | cut -d: -f1)
ticks_after=$(awk -v k="${killed_at:-999999}" 'NR > k && /^ticker: tick [0-9]+ on hart/' "$log.txt" | wc -l)
[ "$ticks_after" -gt 0 ] || fail "the ticker made no progress after echo was killed"
grep -q "^app ticker (hart [0-9]*) exited with code 0$" "$log.txt" || fail "the ticker did not finish"
grep -q "^all apps done: powering off$" "$log.txt" || fail "the kernel did not power off after the last app"
grep -q "PANIC" "$log.txt" && fail "the kernel panicked"
[ "$rc" -eq 0 ] || fail "QEMU exit code $rc"
if [ $failed -ne 0 ]; then echo "---- console ----"; tail -40 "$log.txt"; rm -f "$log.txt"; exit 1; fi
rm -f "$log.txt"
echo "ok: echo killed after 50 requests, the ticker ticked $ticks_after more times and the machine shut down cleanly"
