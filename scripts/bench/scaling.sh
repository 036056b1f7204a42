#!/usr/bin/env bash
# Scaling of one app over harts (issue 14): Ringlet's echo on 1, 2 and 4
# harts (init=echo@all: one libOS and one lwIP per core), QEMU MTTCG with
# QEMU user networking - one queue pair, so core 0 steers each flow to its
# core (libos/backend/core_mesh.h). For each hart count: requests/s of 64 B
# UDP and TCP echo from 16 closed-loop clients (16 flows, spread over the
# cores by the flow hash); then, under -icount shift=0, rdinstret per
# request each core served (its wait excluded) at 1 and 2 harts, with its
# sleep-path counts - exact at 1 hart only (see the table's note; each
# hart's own count: scaling_profile.sh). Prints a Markdown table; the host's core count is printed with it,
# because QEMU's harts are host threads: beyond the host's cores, harts
# share them and requests/s cannot grow.
#
#   scripts/bench/scaling.sh [--tap] [--harts "1 2 4"] [--duration S] [--icount-requests N] [--no-icount]
#                            [--icount-clients "16 64"] [--no-rate] [--work-us N]
# --icount-clients: the closed-loop client counts of the -icount part (16);
# --no-rate: the -icount part only.
# --work-us N: each UDP request also costs echo N us of its own computation
# (echo --work-us): the guest's CPU, not the host's emulation of the
# network, then limits requests/s - what a per-core design must scale. The
# rate table has a UDP column only then (TCP requests get no work).
# --tap (root): a multiqueue tap in a private network namespace instead, with
# as many queue pairs as harts and RSS, so each core drives its own pair and
# no frame crosses cores; the clients talk to 10.0.2.15 directly.
# Uses what is built (build/riscv64, build/host's loadgen).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
harts_list="1 2 4" duration=5 icount_n=8000 do_icount=1 tap=0 icount_clients=16 work_us=0
args=("$@")
while [ $# -gt 0 ]; do
  case "$1" in
    --tap) tap=1; shift ;;
    --harts) harts_list=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --icount-requests) icount_n=$2; shift 2 ;;
    --no-icount) do_icount=0; shift ;;
    --icount-clients) icount_clients=$2; shift 2 ;;
    --no-rate) harts_list=""; shift ;;
    --work-us) work_us=$2; shift 2 ;;
    *) echo "scaling.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
done
loadgen=${LOADGEN:-$root/build/host/tools/loadgen/loadgen}
[ -x "$loadgen" ] || { echo "scaling.sh: no loadgen at $loadgen" >&2; exit 1; }
host=127.0.0.1
# shellcheck source=scripts/bench/scaling_lib.sh
source "$root/scripts/bench/scaling_lib.sh"
if [ $tap -eq 1 ]; then
  scaling_netns "$0" "${args[@]}"
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
    scaling_tap "$harts"
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
if [ -n "$harts_list" ]; then
  echo
  if [ "$work_us" -gt 0 ]; then
    echo "With $work_us us of the app's own computation per UDP request (echo --work-us $work_us):"
    echo
    echo "Median of 3 runs of ${duration} s (the range in brackets), after 2 s of the same load to warm up:"
    echo "the first datagrams of a boot can find a core's lwIP still resolving the gateway's address."
    echo
    echo "| harts | UDP 64 B req/s | vs 1 hart |"
  else
    echo "| harts | UDP 64 B req/s | TCP 64 B req/s |"
  fi
  echo "|---|---|---|"
fi
one=""
for h in $harts_list; do
  if [ "$work_us" -gt 0 ]; then
    boot "$h" "init=echo:--udp:5555:--work-us:$work_us@all"
  else
    boot "$h" "init=echo:--udp:5555:--tcp:5555@all"
  fi
  "$loadgen" --host "$host" --proto udp --port "$port" --clients 4 --size 64 --requests 400 --no-progress >/dev/null 2>&1 || true
  if [ "$work_us" -gt 0 ]; then
    "$loadgen" --host "$host" --proto udp --port "$port" --clients 16 --size 64 --duration 2 --timeout-ms 500 \
      --no-progress >/dev/null 2>&1 || true
    runs=$(for _ in 1 2 3; do rate udp; done | sort -n)
    udp=$(sed -n 2p <<<"$runs")
    [ -z "$one" ] && one=$udp
    echo "| $h | ${udp:-failed} ($(head -1 <<<"$runs")–$(tail -1 <<<"$runs")) | $(awk -v a="${udp:-0}" -v b="${one:-0}" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }') |"
  else
    udp=$(rate udp)
    tcp=$(rate tcp)
    echo "| $h | ${udp:-failed} | ${tcp:-failed} |"
  fi
  stop
done

if [ $do_icount -eq 1 ]; then
  echo
  echo "Instructions per request per core (-icount shift=0, UDP 64 B, closed-loop clients, windows of 1000 requests):"
  echo "the rdinstret delta over each window of the requests that core served, the wait syscall's own delta"
  echo "taken out. Exact at 1 hart. At 2 harts NOT the core's own instructions: under -icount QEMU's instret is"
  echo "the machine's instruction clock, shared by both harts, so a core's window also counts what the other"
  echo "hart retired meanwhile (scaling_profile.sh counts each hart's own, from the exec log). Sleep path per"
  echo "request (exact counts): blocks = the executor found nothing to run, waits = wait syscalls, doorbells ="
  echo "wake-ups this core rang for a sleeping core (a syscall each), resleeps = waits begun again at once after"
  echo "a wake-up for another core's queue only (no executor round)."
  echo
  echo "| harts | clients | core | instr/request (median) | blocks/req | waits/req | doorbells/req | resleeps/req |"
  echo "|---|---|---|---|---|---|---|---|"
  for nc in $icount_clients; do
  for h in 1 2; do
    boot "$h" "init=echo:--udp:5555:--tcp:5555:--stats:1000@all" --icount
    "$loadgen" --host "$host" --proto udp --port "$port" --clients "$nc" --size 64 --requests "$icount_n" --timeout-ms 5000 \
      --no-progress >/dev/null 2>&1 || true
    sleep 1
    for c in $(seq 0 $((h - 1))); do
      if [ "$c" = 0 ]; then re='^echo: [0-9]+ requests, ([0-9]+) instructions per request$'
      else re="^echo: core $c: [0-9]+ requests, ([0-9]+) instructions per request\$"; fi
      # The median of the core's windows after its first.
      vals=$(tr -d '\r' <"$log" | sed -nE "s/$re/\1/p" | tail -n +2 | sort -n)
      n=$(echo "$vals" | grep -c . || true)
      med=$( [ "$n" -gt 0 ] && echo "$vals" | sed -n "$(( (n + 1) / 2 ))p" || echo "no window")
      # The sleep counters are cumulative: the change from the core's first
      # window to its last, over the 1000 requests of each window between.
      sleep_cols=$(tr -d '\r' <"$log" | grep -E "^echo: sleep: core $c " | awk '
        { for (i = 4; i <= NF; ++i) { split($i, kv, "="); v[NR, kv[1]] = kv[2] } }
        END {
          if (NR < 2) { print "| - | - | - | - |"; exit }
          r = (NR - 1) * 1000
          printf "| %.3f | %.3f | %.3f | %.3f |\n", (v[NR, "blocks"] - v[1, "blocks"]) / r,
            (v[NR, "waits"] - v[1, "waits"]) / r, (v[NR, "doorbells"] - v[1, "doorbells"]) / r,
            (v[NR, "resleeps"] - v[1, "resleeps"]) / r
        }')
      echo "| $h | $nc | $c | $med ($n windows) $sleep_cols"
    done
    stop
  done
  done
fi
