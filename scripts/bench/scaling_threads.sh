#!/usr/bin/env bash
# Where the host's time goes while Ringlet's echo is under load (issue 14's
# scaling figure): echo on N harts, 16 closed-loop UDP clients of 64 B for
# 10 s, and the CPU each QEMU thread (its main loop - the network backend
# and device I/O - and one thread per hart), the load generator and the
# whole host used meanwhile (/proc, utime + stime). If a hart's thread is
# mostly idle at 1 hart, the guest is not what limits requests/s, and more
# harts cannot raise it.
#
#   scripts/bench/scaling_threads.sh [--tap] [--harts "1 2"]
# --tap (root): a multiqueue tap in a private network namespace (a queue
# pair per hart, RSS) instead of QEMU user networking.
# Uses what is built (build/riscv64, build/host's loadgen).
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
tap=0 harts_list="1 2"
args=("$@")
while [ $# -gt 0 ]; do
  case "$1" in
    --tap) tap=1; shift ;;
    --harts) harts_list=$2; shift 2 ;;
    *) echo "scaling_threads.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
done
# shellcheck source=scripts/bench/scaling_lib.sh
source "$root/scripts/bench/scaling_lib.sh"  # scaling_netns, scaling_tap
[ $tap -eq 1 ] && scaling_netns "$0" "${args[@]}"
loadgen=${LOADGEN:-$root/build/host/tools/loadgen/loadgen}
[ -x "$loadgen" ] || { echo "scaling_threads.sh: no loadgen at $loadgen" >&2; exit 1; }

# CPU ticks (utime + stime) of every thread of process $1: "tid:name ticks".
thread_ticks() { for t in /proc/"$1"/task/*; do echo "$(basename "$t"):$(tr ' ' _ <"$t/comm") $(awk '{print $14 + $15}' "$t/stat")"; done; }
busy_ticks() { head -1 /proc/stat | awk '{print $2 + $3 + $4 + $7 + $8, $2 + $3 + $4 + $5 + $6 + $7 + $8}'; }

echo "host: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); $(qemu-system-riscv64 --version | head -1)"
echo "network: $([ $tap -eq 1 ] && echo "multiqueue tap + RSS, a pair per hart" || echo "QEMU user networking (core 0 steers)")"
for harts in $harts_list; do
  log=$(mktemp)
  if [ $tap -eq 1 ]; then
    scaling_tap "$harts"
    net=(--net tap:tap0 --queues "$harts") host=10.0.2.15 port=5555
  else
    port=$((20000 + RANDOM % 20000))
    net=(--net "udp:$port:5555,tcp:$port:5555") host=127.0.0.1
  fi
  "$root/scripts/run-qemu.sh" --no-build --smp "$harts" "${net[@]}" --append "init=echo:--udp:5555:--tcp:5555@all" \
    -- -name ringlet,debug-threads=on >"$log" 2>&1 &
  runner=$!
  for _ in $(seq 1 200); do [ "$(grep -c '^echo: core [0-9]* ready' "$log")" -ge "$harts" ] && break; sleep 0.1; done
  qemu=$runner  # run-qemu.sh execs QEMU, or runs it as its child (with --timeout)
  [ "$(cat /proc/$runner/comm 2>/dev/null)" = qemu-system-ris ] || qemu=$(pgrep -P "$runner" qemu-system-ris | head -1)
  [ -n "$qemu" ] || { echo "no QEMU for $harts harts"; tail -5 "$log"; exit 1; }
  "$loadgen" --host $host --port $port --proto udp --clients 16 --size 64 --duration 2 --no-progress >/dev/null 2>&1
  before=$(thread_ticks "$qemu") host_before=$(busy_ticks) t0=$(date +%s.%N)
  "$loadgen" --host $host --port $port --proto udp --clients 16 --size 64 --duration 10 --no-progress --json \
    >"$log.json" 2>/dev/null &
  lg=$!
  lg_ticks=0
  while kill -0 $lg 2>/dev/null; do lg_ticks=$(awk '{print $14 + $15}' /proc/$lg/stat 2>/dev/null || echo "$lg_ticks"); sleep 0.2; done
  after=$(thread_ticks "$qemu") host_after=$(busy_ticks) t1=$(date +%s.%N)
  hz=$(getconf CLK_TCK)
  echo "$harts hart(s): $(grep -oE '"requests_per_s":[0-9]+' "$log.json" | cut -d: -f2) requests/s"
  join <(sort <<<"$before") <(sort <<<"$after") |
    awk -v dt="$(echo "$t1 - $t0" | bc)" -v hz="$hz" '{ d = ($3 - $2) / hz / dt * 100; if (d >= 1) printf "  %-22s %5.1f %% of a core\n", $1, d }'
  echo "  loadgen                $(echo "$lg_ticks / $hz / 10 * 100" | bc -l | xargs printf '%5.1f') % of a core"
  read -r b0 a0 <<<"$host_before"; read -r b1 a1 <<<"$host_after"
  echo "  host                   $(echo "($b1 - $b0) / ($a1 - $a0) * 100" | bc -l | xargs printf '%5.1f') % of its $(nproc) cores busy"
  kill "$runner" 2>/dev/null; pkill -P "$runner" 2>/dev/null; wait "$runner" 2>/dev/null
  rm -f "$log" "$log.json"
done
