#!/usr/bin/env bash
# Boots Ringlet with the echo server on a virtio-net NIC (QEMU user networking,
# host ports forwarded from 127.0.0.1) and drives it with real host clients,
# checking every echoed byte:
#   UDP: datagrams of 1..15 bytes with socat, then 10,000 datagrams of
#        16..1472 bytes with loadgen, from 1 and then from 4 concurrent
#        clients, none lost;
#   TCP: a 10 MiB stream (1280 x 8 KiB on one connection), messages larger
#        than lwIP's send buffer (64 KiB, 256 KiB, 1 MiB) echoed whole,
#        then 32 concurrent clients with 64 B and 1 KiB messages, and 8 with
#        64 KiB..1 MiB ones;
# and finally that the kernel is still healthy (no panic, no app killed).
#
#   net_echo_test.sh LOADGEN
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
loadgen=$1

. "$(dirname "$0")/net_boot.sh"
port=$(free_port)
net_boot_start 400 "udp:$port:5555,tcp:$port:5555" "init=echo:--udp:5555:--tcp:5555:--stats:2000"

failed=0
fail() { echo "FAILED: $*"; failed=1; }
net_boot_wait || fail "the echo app never brought the network up"

if [ $failed -eq 0 ]; then
  # UDP below loadgen's 16-byte minimum, byte for byte.
  for n in 1 2 3 7 8 15; do
    want=$(head -c "$n" /dev/zero | tr '\0' 'x')
    got=$(printf '%s' "$want" | timeout 5 socat -T2 - "UDP:127.0.0.1:$port")
    [ "$got" = "$want" ] || fail "UDP $n-byte datagram: got '${got}'"
  done
  "$loadgen" --proto udp --port "$port" --clients 1 --sizes 16-1472 --requests 10000 --timeout-ms 2000 \
    --no-progress || fail "loadgen: 10,000 UDP datagrams of 16..1472 bytes"
  "$loadgen" --proto udp --port "$port" --clients 4 --sizes 16-1472 --requests 10000 --timeout-ms 2000 \
    --no-progress || fail "loadgen: 10,000 UDP datagrams from 4 concurrent clients"
  "$loadgen" --proto tcp --port "$port" --clients 1 --size 8192 --requests 1280 --timeout-ms 10000 \
    --no-progress || fail "loadgen: 10 MiB over one TCP connection"
  for size in 65536 262144 1048576; do
    "$loadgen" --proto tcp --port "$port" --clients 1 --size "$size" --requests 8 --timeout-ms 30000 \
      --no-progress || fail "loadgen: TCP messages of $size bytes"
  done
  "$loadgen" --proto tcp --port "$port" --clients 32 --sizes 64,1024 --requests 6400 --timeout-ms 5000 \
    --no-progress || fail "loadgen: 32 concurrent TCP clients, 64 B and 1 KiB messages"
  "$loadgen" --proto tcp --port "$port" --clients 8 --sizes 65536,262144,1048576 --requests 32 --timeout-ms 60000 \
    --no-progress || fail "loadgen: 8 concurrent TCP clients, 64 KiB..1 MiB messages"
  echo "after the load" | timeout 5 socat -T2 - "UDP:127.0.0.1:$port" | grep -q "after the load" \
    || fail "echo no longer answers after the load"
  # Zero-copy: after all of the above (UDP up to 1472 B, TCP up to 1 MiB
  # messages), a stats window (--stats 2000) reports the payload bytes the
  # libOS copied since start: none.
  "$loadgen" --proto udp --port "$port" --clients 1 --size 64 --requests 2100 --timeout-ms 2000 \
    --no-progress || fail "loadgen: UDP after the load"
  sleep 1
  dp=$(tr -d '\r' <"$log" | grep -E '^echo: dataplane: ' | tail -1)
  echo "${dp:-no dataplane line}"
  case "$dp" in
    "echo: dataplane: copied=0 "*) ;;
    *) fail "echo copied payload bytes (or printed no dataplane line): '$dp'" ;;
  esac
  lent=$(echo "$dp" | sed -n 's/.* lent=\([0-9]*\).*/\1/p')
  [ "${lent:-0}" -ge 20000 ] || fail "fewer received payloads lent than UDP datagrams echoed: '$dp'"
fi

kill -0 "$qemu_pid" 2>/dev/null || fail "QEMU exited during the test"
tr -d '\r' <"$log" | grep -E "PANIC|killed:" && fail "the console reports a panic or a killed app"
if [ $failed -ne 0 ]; then
  echo "---- console ----"; tr -d '\r' <"$log" | tail -40; exit 1
fi
echo "ok: echo on Ringlet answered every UDP and TCP client, every byte checked"
