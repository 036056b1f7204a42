#!/usr/bin/env bash
# Outgoing flows from every core (issue 14): `dial` on every hart
# (init=dial@all) connects out to a TCP echo server and exchanges UDP
# datagrams with a UDP echo server, every byte checked. A flow a core opens
# is answered on that core only if the libOS chose its local port so that
# the steering brings the replies back to it (net/local_ports.h); each core
# must report ok.
#   user: QEMU user networking (one queue pair: core 0 steers in software);
#         the servers listen on the host's 127.0.0.1, which the guest
#         reaches as 10.0.2.2. Every other core must have received frames
#         through core 0 (its replies were steered to it).
#   tap:  a multiqueue tap (queues=HARTS, RSS) in a private network
#         namespace, the servers on the namespace's tap0 (10.0.2.2): the
#         device's RSS steers the replies, and no frame may go from one
#         core to another. Needs root (unshare -n, tap).
# With `restart` the app runs with --restart (libos/backend/close_order.h):
#   user: every other core closes its libOS, opens it again, dials again and
#         closes for good; core 0's close is refused while they are up (and
#         its libOS still dials after), it closes last, and may not open
#         again. On one hart core 0 is alone on the NIC: it closes, opens
#         again (the device reset and set up anew) and dials again.
#   tap:  every core drives its own queue pair, so every close is refused.
#
#   cores_dial_test.sh user|tap HARTS [restart]
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
mode=$1 harts=$2 restart=${3:-}
rounds=8
extra=""
[ "$restart" = restart ] && extra=":--restart"

# Echo servers on $1 (address), TCP port $2 and UDP port $3; sets $servers.
start_servers() {
  socat "TCP-LISTEN:$2,bind=$1,fork,reuseaddr" PIPE &
  servers="$!"
  python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
while True:
    data, peer = s.recvfrom(65536)
    s.sendto(data, peer)
' "$1" "$3" &
  servers="$servers $!"
}
stop_servers() { [ -n "${servers:-}" ] && kill $servers 2>/dev/null; }

failed=0
fail() { echo "FAILED: $*"; failed=1; }

if [ "$mode" = tap ]; then
  . "$(dirname "$0")/netns.sh" "$0" "$@"  # from here on in a private network namespace
  log=$(mktemp)
  qemu_pid=""
  . "$(dirname "$0")/mq_tap.sh"  # tap0 = 10.0.2.2, fail/die/cleanup
  trap 'stop_servers; cleanup' EXIT
  start_servers 10.0.2.2 7001 7002
  setpriv --pdeathsig KILL -- "$root/scripts/run-qemu.sh" --no-build --timeout 120 --smp "$harts" \
    --queues "$harts" --net tap:tap0 --append "init=dial:--host:10.0.2.2:--tcp:7001:--udp:7002:--rounds:$rounds$extra@all" \
    >"$log" 2>&1 &
  qemu_pid=$!
else
  . "$(dirname "$0")/net_boot.sh"
  port=$(free_port)  # an unused forward: user networking needs one rule
  tport=$(free_port)
  uport=$(free_port)
  while [ "$tport" = "$port" ]; do tport=$(free_port); done
  while [ "$uport" = "$port" ] || [ "$uport" = "$tport" ]; do uport=$(free_port); done
  start_servers 127.0.0.1 "$tport" "$uport"
  net_boot_smp=$harts
  net_boot_start 120 "udp:$port:9" "init=dial:--host:10.0.2.2:--tcp:$tport:--udp:$uport:--rounds:$rounds$extra@all"
  trap 'stop_servers; net_boot_cleanup' EXIT
fi

for _ in $(seq 1 900); do
  done_re="every core ok"
  [ -n "$extra" ] && done_re="core 0: (closed last|close refused)"
  [ -n "$extra" ] && [ "$harts" -eq 1 ] && done_re="core 0: closed last, opened again|core 0: closed last; opening"
  grep -qE "^dial: ($done_re|FAILED|core [0-9]+: FAILED)" <(tr -d '\r' <"$log") && break
  kill -0 "$qemu_pid" 2>/dev/null || break
  sleep 0.1
done
sleep 0.5
console=$(tr -d '\r' <"$log")
grep -E "^dial: " <<<"$console"
for k in $(seq 0 $((harts - 1))); do
  grep -q "^dial: core $k: ok, $rounds TCP connections and $rounds UDP exchanges checked" <<<"$console" \
    || fail "core $k did not finish its outgoing TCP and UDP flows"
done
grep -q "^dial: every core ok" <<<"$console" || fail "the app did not report every core ok"
if [ -n "$extra" ]; then
  if [ "$harts" -gt 1 ]; then
    grep -q "^dial: core 0: close refused while other cores are up (EBUSY); still dials: ok" <<<"$console" \
      || fail "core 0's close was not refused while the other cores were up, or its libOS did not dial after"
  fi
  for k in $(seq 1 $((harts - 1))); do
    if [ "$mode" = tap ]; then
      grep -q "^dial: core $k: close refused: EBUSY" <<<"$console" \
        || fail "core $k closed although it drives its own queue pair"
    else
      grep -q "^dial: core $k: closed, back: ok, $rounds TCP connections and $rounds UDP exchanges checked, closed" \
        <<<"$console" || fail "core $k did not close, come back, dial again and close"
    fi
  done
  if [ "$mode" = tap ]; then
    grep -q "^dial: core 0: close refused: EBUSY" <<<"$console" || fail "core 0 closed while cores on their own pairs were up"
  elif [ "$harts" -eq 1 ]; then
    grep -q "^dial: core 0: closed last, opened again: ok, $rounds TCP connections and $rounds UDP exchanges checked" \
      <<<"$console" || fail "core 0, alone on the NIC, did not close, open again and dial"
  else
    grep -q "^dial: core 0: closed last; opening again refused" <<<"$console" \
      || fail "core 0 did not close last, or opened again over the NIC it had closed"
  fi
fi
if [ "$mode" = tap ]; then
  grep -q "libos: $harts queue pairs with RSS" <<<"$console" || fail "the device did not take $harts pairs with RSS"
  while read -r line; do
    case "$line" in
      *" handed=0 received=0 tx_handed=0 tx_sent_for_others=0 tx_copied_bytes=0") ;;
      *) fail "a frame went from one core to another: $line" ;;
    esac
  done < <(grep -E "^dial: mesh: core " <<<"$console")
else
  for k in $(seq 1 $((harts - 1))); do
    grep -qE "^dial: mesh: core $k kept=0 handed=0 received=[1-9]" <<<"$console" \
      || fail "core $k received nothing through core 0's steering"
  done
  # The other cores' frames went out from their own buffers: core 0 copied none.
  if [ "$harts" -gt 1 ]; then
    grep -qE "^dial: mesh: core 0 .* tx_copied_bytes=0$" <<<"$console" || fail "core 0 copied other cores' frames"
  fi
fi
grep -E "PANIC|killed:|assertion failed" <<<"$console" && fail "the console reports a panic, a killed app or an lwIP assertion"
if [ $failed -ne 0 ]; then
  echo "---- console ----"; tail -40 <<<"$console"; exit 1
fi
echo "ok: dial on $harts harts ($mode): every core's outgoing TCP and UDP flows answered on that core"
