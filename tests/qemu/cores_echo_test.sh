#!/usr/bin/env bash
# One app on many harts over a single-queue NIC (issue 14, test a): echo on
# every hart (init=echo@all) with QEMU user networking, so core 0 owns the
# device and steers each flow's frames to the core its hash names
# (libos/backend/core_mesh.h). 4 concurrent UDP clients and 16 concurrent
# TCP clients (every byte checked by loadgen); each core must announce that
# it served, the per-core hand-off counters are printed, and the kernel
# reports no panic and no killed app. The other cores' frames must go out
# in place: core 0's tx_copied_bytes stays 0 after UDP and TCP.
#
# With `spin`: a core that stops polling cannot stall the others (issue 14,
# bad input). Core 0's app task spins for good after 20 UDP echoes (echo
# --spin-after), never returning to its libOS - and over one queue pair
# every frame passes through core 0. Its upcall (libos/backend/
# owner_upcall.h: the kernel interrupts an app that ran a whole period
# outside its libOS) keeps steering frames to the other cores and sending
# theirs: core0_spin.sh's checks (their flows answered, each serves on).
#
#   cores_echo_test.sh HARTS LOADGEN [spin]
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
harts=$1 loadgen=$2 mode=${3:-plain}

. "$(dirname "$0")/net_boot.sh"
port=$(free_port)
net_boot_smp=$harts
if [ "$mode" = spin ]; then
  net_boot_start 300 "udp:$port:5555" "init=echo:--udp:5555:--spin-after:20:--core-stats:20@all"
else
  net_boot_start 300 "udp:$port:5555,tcp:$port:5555" "init=echo:--udp:5555:--tcp:5555:--core-stats:2000@all"
fi

failed=0
fail() { echo "FAILED: $*"; failed=1; }
die() { fail "$*"; echo "---- console ----"; tr -d '\r' <"$log" | tail -40; exit 1; }
net_boot_wait || fail "the echo app never brought the network up"
for _ in $(seq 1 200); do
  [ "$(tr -d '\r' <"$log" | grep -cE '^echo: core [0-9]+ ready')" -ge "$harts" ] && break
  sleep 0.1
done
[ "$(tr -d '\r' <"$log" | grep -cE '^echo: core [0-9]+ ready')" -ge "$harts" ] || fail "not every core came up"

if [ "$mode" = spin ]; then
  [ $failed -eq 0 ] || die "echo did not come up on every core"
  . "$(dirname "$0")/core0_spin.sh"
  core0_spin_load --port "$port"
  kill -0 "$qemu_pid" 2>/dev/null || fail "QEMU exited during the test"
  grep -E "PANIC|killed:|assertion failed" <<<"$after" && fail "the console reports a panic, a killed app or an lwIP assertion"
  [ $failed -eq 0 ] || die "see above"
  echo "ok: echo on $harts harts over one queue pair: core 0 spinning, the other cores still answered $completed of 4000"
  exit 0
fi

if [ $failed -eq 0 ]; then
  # One lost datagram of 4,000 is tolerated: UDP through QEMU's user
  # network on a loaded 2-core CI host once lost one (every answer that came
  # back was right; 360,000 datagrams in soak runs here lost none). Frames
  # our side drops are counted by the libOS and checked below, so a drop in
  # Ringlet fails the test even when the client does not notice it.
  "$loadgen" --proto udp --port "$port" --clients 4 --sizes 16-1472 --requests 4000 --timeout-ms 3000 \
    --max-timeouts 1 --no-progress || fail "loadgen: 4,000 UDP datagrams from 4 concurrent clients"
  "$loadgen" --proto tcp --port "$port" --clients 16 --sizes 64,1024,8192 --requests 3200 --timeout-ms 10000 \
    --no-progress || fail "loadgen: 16 concurrent TCP clients"
  "$loadgen" --proto tcp --port "$port" --clients 16 --size 65536 --requests 64 --timeout-ms 30000 \
    --no-progress || fail "loadgen: 16 concurrent TCP clients, 64 KiB messages"
  echo "after the load" | timeout 5 socat -T2 - "UDP:127.0.0.1:$port" | grep -q "after the load" \
    || fail "echo no longer answers after the load"
  sleep 1
  # Read the whole console first: `tr | grep -q` under pipefail fails at
  # random when grep quits early and tr dies of SIGPIPE on a long log.
  # Steering is by flow hash (the guest sees the host clients' source
  # ports): the ~36 flows above can, rarely, miss a core altogether (seen:
  # core 0 kept no flow, 21,001 frames handed to the others). A new source
  # port is a new flow, so add single-datagram flows, up to 32, until every
  # core has served one; a core that still has none is a failure.
  missing=""
  for extra in $(seq 0 32); do
    console=$(tr -d '\r' <"$log")
    missing=""
    for k in $(seq 0 $((harts - 1))); do
      grep -q "^echo: core $k served its first request" <<<"$console" || missing="$missing $k"
    done
    [ -z "$missing" ] && break
    [ "$extra" -eq 32 ] && break
    echo "extra flow $extra" | timeout 5 socat -T1 - "UDP:127.0.0.1:$port" >/dev/null || true
    sleep 0.2
  done
  [ -n "$missing" ] && fail "core(s)$missing served nothing, even after 32 extra flows"
  [ "$extra" -gt 0 ] && echo "note: $extra extra flow(s) were needed before every core had served one"
  tr -d '\r' <"$log" | grep -E '^echo: core [0-9]+: (served|mesh)' | tail -$((2 * harts))
  # The last report of every core's hand-off counters (cumulative): no frame
  # dropped on a full hand-off ring, no descriptor missing, no copy or send
  # the owner could not make.
  mesh=$(tr -d '\r' <"$log" | grep -E '^echo: mesh: core ' | tail -"$harts")
  echo "$mesh"
  [ "$(grep -c . <<<"$mesh")" -eq "$harts" ] || fail "no hand-off counters were reported"
  grep -E ' (dropped|tx_dropped|arp_copy_failed|tx_send_failed)=[1-9]' <<<"$mesh" \
    && fail "the libOS dropped frames between cores (counters above)"
  # Other cores' frames go out from their own buffers (zero-copy both ways):
  # the owner copied no byte of them, and it did send some.
  grep -qE '^echo: mesh: core 0 .* tx_sent_for_others=[1-9][0-9]* .* tx_copied_bytes=0$' <<<"$mesh" \
    || fail "core 0 copied other cores' frames, or sent none (tx_copied_bytes, tx_sent_for_others above)"
fi

kill -0 "$qemu_pid" 2>/dev/null || fail "QEMU exited during the test"
tr -d '\r' <"$log" | grep -E "PANIC|killed:|assertion failed" && fail "the console reports a panic, a killed app or an lwIP assertion"
if [ $failed -ne 0 ]; then
  echo "---- console ----"; tr -d '\r' <"$log" | tail -40; exit 1
fi
echo "ok: echo on $harts harts answered every UDP and TCP client, every core served"
