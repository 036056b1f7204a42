#!/usr/bin/env bash
# Where each core's instructions go when echo spans harts (issue 14): boots
# echo on --harts N (init=echo@all) under -icount shift=0 -singlestep,
# drives UDP 64 B echo from --clients closed-loop clients, records every
# instruction every hart retires in the window (QEMU's exec log, switched on
# and off through the monitor), splits the log by hart (each Trace line
# names its vCPU; under -icount the vCPUs take turns on one thread, so an
# undo line belongs to the hart of the Trace line before it), and prints
# ringlet-profile's report for each hart: totals, layers and the flat
# profile, per request THAT HART served (counted from the hart's calls of
# a function run once per echoed datagram, --per; default demi_pushto). Unlike echo --stats this includes the wait syscall (the kernel's
# part of sleeping and waking), so the sleep path shows in full.
#
#   scripts/bench/scaling_profile.sh [--tap] [--harts N] [--clients C] [--requests N] [--warmup N]
#                                    [--rate R] [--top K] [--per SYMBOL] [--keep-dir DIR]
# --rate R: open loop instead, R requests/s over --clients sockets at fixed
# spacing: at a low rate every request finds its core asleep, so each one
# pays the whole sleep and wake-up path (closed loop under the exec log's
# slowdown, cores seldom sleep: the busy path).
# --tap (root): a multiqueue tap with a queue pair per hart and RSS, in a
# private network namespace (as scaling.sh --tap); otherwise QEMU user
# networking (one queue pair, core 0 steers). Uses what is built.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
tap=0 harts=2 clients=16 requests=2000 warmup=500 top=30 per="" keep="" rate=""
args=("$@")
while [ $# -gt 0 ]; do
  case "$1" in
    --tap) tap=1; shift ;;
    --harts) harts=$2; shift 2 ;;
    --clients) clients=$2; shift 2 ;;
    --requests) requests=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --top) top=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --per) per=$2; shift 2 ;;
    --keep-dir) keep=$2; shift 2 ;;
    *) echo "scaling_profile.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
done
rv_build=${RINGLET_RISCV_BUILD:-$root/build/riscv64}
host_build=${RINGLET_HOST_BUILD:-$root/build/host}
loadgen=$host_build/tools/loadgen/loadgen
profiler=$host_build/tools/profile/ringlet-profile
for f in "$loadgen" "$profiler" "$rv_build/Image"; do [ -e "$f" ] || { echo "scaling_profile.sh: missing $f" >&2; exit 1; }; done
command -v socat >/dev/null || { echo "scaling_profile.sh: socat is needed" >&2; exit 1; }
host=127.0.0.1
# shellcheck source=scripts/bench/scaling_lib.sh
source "$root/scripts/bench/scaling_lib.sh"
if [ $tap -eq 1 ]; then
  scaling_netns "$0" "${args[@]}"
  host=10.0.2.15
fi

work=$(mktemp -d)
mon=$work/monitor.sock exec_log=$work/exec.log console=$work/console.log
qemu_pid=""
cleanup() {
  if [ -n "$qemu_pid" ]; then kill "$qemu_pid" 2>/dev/null || true; wait "$qemu_pid" 2>/dev/null || true; fi
  [ -n "$keep" ] && { mkdir -p "$keep"; cp -r "$work"/. "$keep"/; }
  rm -rf "$work"
}
trap cleanup EXIT
monitor() { printf '%s\n' "$1" | socat -t 0.5 - "UNIX-CONNECT:$mon" >/dev/null 2>&1; }

append="init=echo:--udp:5555:--tcp:5555@all"
qemu_extra=(-- -singlestep -monitor "unix:$mon,server,nowait" -D "$exec_log")
if [ $tap -eq 1 ]; then
  scaling_tap "$harts"
  port=5555
  RINGLET_RISCV_BUILD=$rv_build "$root/scripts/run-qemu.sh" --no-build --icount --smp "$harts" --net tap:tap0 \
    --queues "$harts" --append "$append" "${qemu_extra[@]}" </dev/null >"$console" 2>&1 &
else
  port=$((20000 + RANDOM % 12000))
  RINGLET_RISCV_BUILD=$rv_build "$root/scripts/run-qemu.sh" --no-build --icount --smp "$harts" \
    --net "udp:$port:5555,tcp:$port:5555" --append "$append" "${qemu_extra[@]}" </dev/null >"$console" 2>&1 &
fi
qemu_pid=$!
for _ in $(seq 1 900); do
  [ "$(tr -d '\r' <"$console" | grep -cE '^echo: core [0-9]+ ready')" -ge "$harts" ] && break
  kill -0 "$qemu_pid" 2>/dev/null || break
  sleep 0.2
done
[ "$(tr -d '\r' <"$console" | grep -cE '^echo: core [0-9]+ ready')" -ge "$harts" ] ||
  { echo "scaling_profile.sh: echo did not come up: $(tail -5 "$console")" >&2; exit 1; }

drive() {
  "$loadgen" --host "$host" --proto udp --port "$port" --size 64 --clients "$clients" --requests "$1" \
    ${rate:+--rate "$rate" --arrival fixed} \
    --timeout-ms 5000 --max-timeouts "$1" --no-progress >"$work/loadgen.out" 2>&1 || { echo "loadgen: $(tail -3 "$work/loadgen.out")" >&2; exit 1; }
}
[ "$warmup" -gt 0 ] && drive "$warmup"
sleep 1
monitor "log exec,nochain"
drive "$requests"
window=$(grep -E "^requests" "$work/loadgen.out" || true)
scaling_quiet "$exec_log" 20
monitor "log none"
monitor "quit"
wait "$qemu_pid" 2>/dev/null || true
qemu_pid=""

# One log per hart: Trace lines carry the vCPU index; other lines (undo)
# follow the Trace line of their own hart.
awk -v dir="$work" '/^Trace [0-9]+:/ { c = $2; sub(":", "", c) } c != "" { print > (dir "/hart" c ".log") }' "$exec_log"
kernel_elf=$rv_build/arch/riscv64/ringlet.elf app_elf=$rv_build/user/echo/echo.elf
per=${per:-demi_pushto}
echo "echo on $harts harts, $([ $tap -eq 1 ] && echo "multiqueue tap + RSS" || echo "user networking"), $clients clients${rate:+ open loop at $rate/s}, $requests UDP 64 B requests in the window ($window)"
for ((c = 0; c < harts; c++)); do
  log=$work/hart$c.log
  [ -s "$log" ] || { echo "hart $c: no instructions"; continue; }
  # Requests this hart served: its calls of $per (the profile's calls column).
  "$profiler" --log "$log" --kernel "$kernel_elf" --app "$app_elf" --requests 1 --top 0 >"$work/hart$c.raw"
  served=$(awk -v f="$per" '$NF == f { print $4; exit }' "$work/hart$c.raw")
  served=${served%.*}
  echo
  echo "== hart $c: served $served requests (calls of $per) =="
  [ -n "$served" ] && [ "$served" -gt 0 ] || { head -40 "$work/hart$c.raw"; continue; }
  "$profiler" --log "$log" --kernel "$kernel_elf" --app "$app_elf" --requests "$served" --top "$top" \
    --title "hart $c"
done
