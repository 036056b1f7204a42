#!/usr/bin/env bash
# One app on many harts over a multiqueue NIC (issue 14, test b): echo on 4
# harts (init=echo@all), a multiqueue tap (queues=4, mq=on, rss=on) in a
# private network namespace; the libOS programs RSS with its steering
# function and each core drives its own queue pair. 4 concurrent UDP
# clients and 16 concurrent TCP clients from the namespace (every byte
# checked by loadgen); every core must serve, and the hand-off counters
# must show that no frame went from one core to another (only ARP replies
# are copied from core 0, which the device sends every non-IP frame to).
# Needs root for unshare -n and the tap device (CI runs as root).
# With `reset`, one core's NIC faults on purpose and the checks of
# cores_mq_reset.sh follow instead (the device reset by every core); with
# `spin`, core 0's app task spins and those of cores_mq_spin.sh (the other
# cores' flows still answered).
#
#   cores_mq_test.sh LOADGEN [reset|spin]
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
loadgen=$1
mode=${2:-plain}
harts=4
echo_args="--core-stats:1000"
[ "$mode" = reset ] && echo_args="--nic-fault-after:30"
[ "$mode" = spin ] && echo_args="--spin-after:20:--core-stats:20:--stats:100"

. "$(dirname "$0")/netns.sh" "$0" "$@"  # from here on in a private network namespace

log=$(mktemp)
qemu_pid=""
failed=0
. "$(dirname "$0")/mq_tap.sh"

setpriv --pdeathsig KILL -- "$root/scripts/run-qemu.sh" --no-build --timeout 240 --smp $harts --queues $harts \
  --net tap:tap0 --append "init=echo:--udp:5555:--tcp:5555:$echo_args@all" >"$log" 2>&1 &
qemu_pid=$!

for _ in $(seq 1 600); do
  [ "$(tr -d '\r' <"$log" | grep -cE '^echo: core [0-9]+ ready')" -ge $harts ] && break
  kill -0 "$qemu_pid" 2>/dev/null || break
  sleep 0.1
done
[ "$(tr -d '\r' <"$log" | grep -cE '^echo: core [0-9]+ ready')" -ge $harts ] || die "not every core came up"
grep -q "libos: $harts queue pairs with RSS" "$log" || fail "the device did not take $harts pairs with RSS"
if [ "$mode" != plain ]; then
  [ $failed -eq 0 ] || die "not on $harts pairs"
  . "$(dirname "$0")/cores_mq_$mode.sh"
  exit $failed
fi

if [ $failed -eq 0 ]; then
  "$loadgen" --host 10.0.2.15 --proto udp --port 5555 --clients 4 --sizes 16-1472 --requests 4000 \
    --timeout-ms 3000 --no-progress || fail "loadgen: 4,000 UDP datagrams from 4 concurrent clients"
  "$loadgen" --host 10.0.2.15 --proto tcp --port 5555 --clients 16 --sizes 64,1024,8192 --requests 3200 \
    --timeout-ms 10000 --no-progress || fail "loadgen: 16 concurrent TCP clients"
  "$loadgen" --host 10.0.2.15 --proto tcp --port 5555 --clients 16 --size 65536 --requests 64 \
    --timeout-ms 30000 --no-progress || fail "loadgen: 16 concurrent TCP clients, 64 KiB messages"
  # One more report from each core: 1,000 small UDP requests on 16 flows.
  "$loadgen" --host 10.0.2.15 --proto udp --port 5555 --clients 16 --size 64 --requests 8000 \
    --timeout-ms 3000 --no-progress || fail "loadgen: UDP after the load"
  sleep 1
  console=$(tr -d '\r' <"$log")
  for k in $(seq 0 $((harts - 1))); do
    grep -q "^echo: core $k served its first request" <<<"$console" || fail "core $k served nothing"
  done
  mesh=$(grep -E '^echo: mesh: core ' <<<"$console" | tail -$harts)
  echo "$mesh"
  [ "$(grep -c . <<<"$mesh")" = $harts ] || fail "no hand-off counters reported"
  while read -r line; do
    case "$line" in
      *" handed=0 "*" received=0 tx_handed=0 tx_sent_for_others=0 "*) ;;
      *) fail "a frame went from one core to another: $line" ;;
    esac
  done <<<"$mesh"
fi

kill -0 "$qemu_pid" 2>/dev/null || fail "QEMU exited during the test"
tr -d '\r' <"$log" | grep -E "PANIC|killed:|assertion failed" && fail "the console reports a panic, a killed app or an lwIP assertion"
if [ $failed -ne 0 ]; then show_console; exit 1; fi
echo "ok: echo on $harts harts, $harts queue pairs with RSS: every client answered, every core served, no frame forwarded"
