#!/usr/bin/env bash
# Scaling of one app over harts (issue 14): Ringlet's echo on 1, 2 and 4
# harts (init=echo@all: one libOS and one lwIP per core), QEMU MTTCG with
# QEMU user networking - one queue pair, so core 0 steers each flow to its
# core (libos/backend/core_mesh.h). For each hart count: requests/s of 64 B
# UDP and TCP echo from 16 closed-loop clients (16 flows, spread over the
# cores by the flow hash); then, under -icount shift=0, the instructions
# each core retired per request it served (asleep excluded) at 1 and 2
# harts. Prints a Markdown table; the host's core count is printed with it,
# because QEMU's harts are host threads: beyond the host's cores, harts
# share them and requests/s cannot grow.
#
#   scripts/bench/scaling.sh [--tap] [--harts "1 2 4"] [--duration S] [--icount-requests N] [--no-icount]
# --tap (root): a multiqueue tap in a private network namespace instead, with
# as many queue pairs as harts and RSS, so each core drives its own pair and
# no frame crosses cores; the clients talk to 10.0.2.15 directly.
# Uses what is built (build/riscv64, build/host's loadgen).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
harts_list="1 2 4" duration=5 icount_n=8000 do_icount=1 tap=0
args=("$@")
while [ $# -gt 0 ]; do
  case "$1" in
    --tap) tap=1; shift ;;
    --harts) harts_list=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --icount-requests) icount_n=$2; shift 2 ;;
    --no-icount) do_icount=0; shift ;;
    *) echo "scaling.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
done
loadgen=${LOADGEN:-$root/build/host/tools/loadgen/loadgen}
[ -x "$loadgen" ] || { echo "scaling.sh: no loadgen at $loadgen" >&2; exit 1; }
host=127.0.0.1
if [ $tap -eq 1 ]; then
  if [ "${RINGLET_SCALING_NS:-}" != 1 ]; then
    RINGLET_SCALING_NS=1 exec unshare -n -- "$0" "${args[@]}"
  fi
  ip link set lo up
  host=10.0.2.15
fi

log="" qemu_pid=""
stop() {
  if [ -n "$qemu_pid" ]; then
    [ $tap -eq 0 ] && { pkill -f "hostfwd=udp:127.0.0.1:$port-" 2>/dev/null || true; }
    kill "$qemu_pid" 2>/dev/null || true
    wait "$qemu_pid" 2>/dev/null || true
  fi
  qemu_pid=""
  [ -n "$log" ] && rm -f "$log"
  log=""
}
trap stop EXIT

# boot HARTS APPEND [run-qemu options]: echo on every hart, ready on each.
boot() {
  local harts=$1 append=$2
  shift 2
  log=$(mktemp)
  if [ $tap -eq 1 ]; then
    # QEMU opens a tap as multiqueue only for queues > 1, and the kernel
    # refuses a multi_queue tap opened otherwise: a fresh tap0 per boot.
    ip link del tap0 2>/dev/null || true
    if [ "$harts" -gt 1 ]; then ip tuntap add dev tap0 mode tap multi_queue; else ip tuntap add dev tap0 mode tap; fi
    ip addr add 10.0.2.2/24 dev tap0
    ip link set tap0 up
    port=5555
    "$root/scripts/run-qemu.sh" --no-build --smp "$harts" --timeout 600 --net tap:tap0 --queues "$harts" \
      --append "$append" "$@" >"$log" 2>&1 &
  else
    port=$((20000 + RANDOM % 12000))
    "$root/scripts/run-qemu.sh" --no-build --smp "$harts" --timeout 600 --net "udp:$port:5555,tcp:$port:5555" \
      --append "$append" "$@" >"$log" 2>&1 &
  fi
  qemu_pid=$!
  for _ in $(seq 1 600); do
    [ "$(tr -d '\r' <"$log" | grep -cE '^echo: core [0-9]+ ready')" -ge "$harts" ] && return 0
    kill -0 "$qemu_pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "scaling.sh: echo did not come up on $harts harts" >&2
  tr -d '\r' <"$log" | tail -20 >&2
  return 1
}

rate() {  # PROTO: requests/s of 64 B echo from 16 clients
  "$loadgen" --host "$host" --proto "$1" --port "$port" --clients 16 --size 64 --duration "$duration" --timeout-ms 2000 \
    --no-progress 2>/dev/null | sed -nE 's/^throughput +([0-9.]+) req\/s.*/\1/p'
}

echo "host: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "$(qemu-system-riscv64 --version | head -1); network: $([ $tap -eq 1 ] && echo "multiqueue tap, a queue pair per hart, RSS" || echo "user networking (one queue pair: core 0 steers)")"
echo
echo "| harts | UDP 64 B req/s | TCP 64 B req/s |"
echo "|---|---|---|"
for h in $harts_list; do
  boot "$h" "init=echo:--udp:5555:--tcp:5555@all"
  "$loadgen" --host "$host" --proto udp --port "$port" --clients 4 --size 64 --requests 400 --no-progress >/dev/null 2>&1 || true
  udp=$(rate udp) tcp=$(rate tcp)
  echo "| $h | ${udp:-failed} | ${tcp:-failed} |"
  stop
done

if [ $do_icount -eq 1 ]; then
  echo
  echo "Instructions per request per core (-icount shift=0, UDP 64 B, 16 clients, windows of 1000 requests;"
  echo "each core counts what its own hart retired for the requests it served, asleep excluded):"
  echo
  echo "| harts | core | instructions per request |"
  echo "|---|---|---|"
  for h in 1 2; do
    boot "$h" "init=echo:--udp:5555:--tcp:5555:--stats:1000@all" --icount
    "$loadgen" --host "$host" --proto udp --port "$port" --clients 16 --size 64 --requests "$icount_n" --timeout-ms 5000 \
      --no-progress >/dev/null 2>&1 || true
    sleep 1
    for c in $(seq 0 $((h - 1))); do
      if [ "$c" = 0 ]; then re='^echo: [0-9]+ requests, ([0-9]+) instructions per request$'
      else re="^echo: core $c: [0-9]+ requests, ([0-9]+) instructions per request\$"; fi
      # The median of the core's windows after its first.
      vals=$(tr -d '\r' <"$log" | sed -nE "s/$re/\1/p" | tail -n +2 | sort -n)
      n=$(echo "$vals" | grep -c . || true)
      med=$( [ "$n" -gt 0 ] && echo "$vals" | sed -n "$(( (n + 1) / 2 ))p" || echo "no window")
      echo "| $h | $c | $med ($n windows) |"
    done
    stop
  done
fi
