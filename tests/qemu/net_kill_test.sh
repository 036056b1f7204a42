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
. "$(dirname "$0")/net_boot.sh"
port=$(free_port)
net_boot_start 120 "udp:$port:5555" "shutdown init=echo:--udp:5555:--fault-after:50,ticker:100"

failed=0
fail() { echo "FAILED: $*"; failed=1; }
net_boot_wait || fail "the echo app never brought the network up"
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
if [ $failed -ne 0 ]; then echo "---- console ----"; tail -40 "$log.txt"; exit 1; fi
echo "ok: echo killed after 50 requests, the ticker ticked $ticks_after more times and the machine shut down cleanly"
