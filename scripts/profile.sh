#!/usr/bin/env bash
# Exact guest profile of a Ringlet app (issue 13): boots the app under QEMU
# with -icount shift=0 -singlestep -smp 1, drives a workload, records every
# instruction the guest retires during a measured window (QEMU's exec log,
# switched on and off through the monitor), and prints a flat profile
# (instructions and calls per request, per function) and a per-layer summary
# (driver, lwIP, net glue, PDPIX, executor, libOS, app, libc, kernel) with
# build/host/tools/profile/ringlet-profile.
#
#   scripts/profile.sh [options]
#   --app "NAME ARGS"   the app and its arguments (default "echo --udp 5555 --tcp 5555")
#   --app-elf FILE      its ELF with symbols (default build/riscv64/user/NAME/NAME.elf)
#   --workload W        udp:SIZE | tcp:SIZE: tools/loadgen, 1 client, closed loop,
#                       to guest port 5555 (--guest-port); none: you drive it,
#                       Enter starts and Enter stops the recording (default udp:64);
#                       cmd:COMMAND: a host command (bash, $PORT is the host
#                       port) run once as the warm-up and once recorded, e.g.
#                       'cmd:redis-benchmark -p $PORT -c 1 -n 2000 -t get -P 16 -q'
#                       with --requests 2000 (COMMAND must make exactly that many)
#   --requests N        requests in the measured window (200): per-request divisor
#   --warmup N          requests before the window (200): ARP, caches, pools
#   --port P            host port forwarded to the guest (default: a free one)
#   --guest-port P      the app's port in the guest (5555)
#   --top K             flat-profile rows (25; 0 = all)   --markdown   Markdown tables
#   --keep-log FILE     keep the exec log there (it is deleted otherwise)
#   --keep-console FILE keep the guest's serial console there
#   --no-build          use what is built (build/riscv64, build/host)
#   --cpu MODEL         QEMU's -cpu (default run-qemu.sh's: rv64 with V; rv64: no V)
#   --loadgen PATH, --profiler PATH   the host tools (default: in build/host)
# Build directories: RINGLET_RISCV_BUILD (build/riscv64), RINGLET_HOST_BUILD (build/host).
#
# What the window holds: every instruction retired on the hart (U, S and
# M-mode) from the moment logging is switched on, with the guest idle after
# the warm-up, until the guest is idle again after the last echo (the log
# stops growing). That includes the sleep/wake path whenever the app sleeps
# and any timer that fires in the window (lwIP's timers: a few per second of
# wall time); idle itself retires nothing (WFI). Exec logging slows the guest,
# not the client, so the next request is usually waiting already: fewer
# idle polls and sleeps than at full speed. A TCP window also holds the
# connection's handshake and close (loadgen connects once per run).
# Exactness: with -singlestep every traced block is one instruction; the
# lines QEMU takes back (an MMIO access re-executed under -icount, a block
# left before its first instruction) are subtracted. Checked against
# rdinstret (echo --stats 1, windows of ~14,350 instructions): equal to the
# instruction; the raw Trace line count is ~2 per request too high.
# Exit status: 0 with the report on stdout; non-zero with the reason on stderr.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

app="echo --udp 5555 --tcp 5555" app_elf="" workload=udp:64 requests=200 warmup=200 port="" guest_port=5555
top=25 markdown=0 keep_log="" keep_console="" build=1 loadgen="" profiler="" cpu=""
usage() { sed -n '2,/^[^#]/{/^#/s/^# \{0,1\}//p}' "$0"; exit "${1:-0}"; }  # the header comment
while [ $# -gt 0 ]; do
  case "$1" in
    --app) app=$2; shift 2 ;;
    --app-elf) app_elf=$2; shift 2 ;;
    --workload) workload=$2; shift 2 ;;
    --requests) requests=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --port) port=$2; shift 2 ;;
    --guest-port) guest_port=$2; shift 2 ;;
    --top) top=$2; shift 2 ;;
    --markdown) markdown=1; shift ;;
    --keep-log) keep_log=$2; shift 2 ;;
    --keep-console) keep_console=$2; shift 2 ;;
    --no-build) build=0; shift ;;
    --cpu) cpu=$2; shift 2 ;;
    --loadgen) loadgen=$2; shift 2 ;;
    --profiler) profiler=$2; shift 2 ;;
    -h|--help) usage 0 ;;
    *) echo "profile.sh: unknown option '$1'" >&2; usage 2 ;;
  esac
done
say() { echo "profile: $*" >&2; }
die() { echo "profile: FAILED: $*" >&2; exit 1; }
for v in "$requests" "$guest_port" "$top"; do
  case "$v" in ''|*[!0-9]*) die "--requests, --guest-port and --top need a number" ;; esac
done
case "$warmup" in ''|*[!0-9]*) die "--warmup needs a number" ;; esac
[ "$requests" -gt 0 ] || die "--requests must be positive"
case "$workload" in
  udp:*|tcp:*) proto=${workload%%:*} size=${workload#*:}
    case "$size" in ''|*[!0-9]*) die "--workload $workload: SIZE must be a number of bytes" ;; esac ;;
  none) proto=none size=0 ;;
  cmd:?*) proto=cmd size=0 command=${workload#cmd:} ;;
  *) die "--workload: udp:SIZE, tcp:SIZE, cmd:COMMAND or none" ;;
esac

rv_build=${RINGLET_RISCV_BUILD:-$root/build/riscv64}
host_build=${RINGLET_HOST_BUILD:-$root/build/host}
loadgen=${loadgen:-$host_build/tools/loadgen/loadgen}
profiler=${profiler:-$host_build/tools/profile/ringlet-profile}
read -r -a app_words <<<"$app"
app_name=${app_words[0]}
app_elf=${app_elf:-$rv_build/user/$app_name/$app_name.elf}
kernel_elf=$rv_build/arch/riscv64/ringlet.elf

if [ $build -eq 1 ]; then
  say "building riscv64 ($rv_build) and the host tools ($host_build)"
  [ -f "$rv_build/build.ninja" ] || cmake --preset riscv64 -B "$rv_build" >/dev/null
  cmake --build "$rv_build" -- -j2 >/dev/null || die "riscv64 build"
  [ -f "$host_build/build.ninja" ] || cmake --preset host -B "$host_build" >/dev/null
  cmake --build "$host_build" --target ringlet_loadgen ringlet_profile -- -j2 >/dev/null || die "host tools build"
fi
for f in "$kernel_elf" "$app_elf" "$rv_build/Image" "$profiler"; do [ -e "$f" ] || die "missing $f (build it, or drop --no-build)"; done
case "$proto" in udp|tcp) [ -x "$loadgen" ] || die "missing $loadgen" ;; esac
command -v socat >/dev/null || die "socat is needed to talk to the QEMU monitor"

# shellcheck source=tests/qemu/net_boot.sh
source "$root/tests/qemu/net_boot.sh"  # free_port
port_given=${port:+yes}
port=${port:-$(free_port)}
work=$(mktemp -d)
mon=$work/monitor.sock exec_log=$work/exec.log console=$work/console.log
qemu_pid=""
cleanup() {
  if [ -n "$qemu_pid" ] && kill -0 "$qemu_pid" 2>/dev/null; then kill "$qemu_pid" 2>/dev/null || true; fi
  if [ -n "$qemu_pid" ]; then wait "$qemu_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# One HMP command; socat waits briefly for QEMU's answer so the command has
# run before we go on.
monitor() { printf '%s\n' "$1" | socat -t 0.5 - "UNIX-CONNECT:$mon" >/dev/null 2>&1; }
# Waits until the exec log has not grown for 0.5 s (the guest is idle), at most $1 s.
wait_idle() {
  local last=-1 now stable=0
  for _ in $(seq 1 $(($1 * 10))); do
    now=$(stat -c %s "$exec_log" 2>/dev/null || echo 0)
    if [ "$now" = "$last" ]; then stable=$((stable + 1)); [ $stable -ge 5 ] && return 0; else stable=0; fi
    last=$now
    sleep 0.1
  done
}

append="init=$(IFS=:; echo "${app_words[*]}")"
# free_port only saw the port free: another QEMU may take it before ours
# binds it (tests run in parallel). Then QEMU exits at once ("Could not set
# up host forwarding rule"), and a port we picked is picked again.
ready="libos: network up"
for attempt in 1 2 3 4 5; do
  say "booting '$app' (host port $port -> guest $guest_port, UDP and TCP)"
  # run-qemu.sh without --timeout execs QEMU, so $qemu_pid is QEMU itself.
  RINGLET_RISCV_BUILD=$rv_build "$root/scripts/run-qemu.sh" --no-build --icount --smp 1 ${cpu:+--cpu "$cpu"} \
    --net "udp:$port:$guest_port,tcp:$port:$guest_port" --append "$append" \
    -- -singlestep -monitor "unix:$mon,server,nowait" -D "$exec_log" </dev/null >"$console" 2>&1 &
  qemu_pid=$!
  for _ in $(seq 1 600); do
    grep -q "$ready" "$console" && break
    kill -0 "$qemu_pid" 2>/dev/null || break
    sleep 0.2
  done
  grep -q "$ready" "$console" && break
  kill -0 "$qemu_pid" 2>/dev/null && break  # still booting after 120 s: reported below
  wait "$qemu_pid" 2>/dev/null || true
  if [ -z "$port_given" ] && [ "$attempt" -lt 5 ] && grep -q "Could not set up host forwarding" "$console"; then
    say "host port $port was taken meanwhile; picking another"
    port=$(free_port)
    continue
  fi
  die "QEMU exited while booting: $(tail -5 "$console")"
done
grep -q "$ready" "$console" || die "'$ready' did not show within 120 s: $(tail -5 "$console")"

drive() {  # drive N: exactly N closed-loop requests from one client (cmd: the command)
  if [ "$proto" = cmd ]; then
    PORT=$port bash -c "$command" >"$work/loadgen.out" 2>&1 || die "'$command': $(tail -3 "$work/loadgen.out")"
    return
  fi
  "$loadgen" --proto "$proto" --port "$port" --size "$size" --clients 1 --requests "$1" \
    --timeout-ms 10000 --no-progress >"$work/loadgen.out" 2>&1 ||
    die "loadgen ($proto $size B x $1): $(tail -3 "$work/loadgen.out")"
}
if [ "$proto" = none ]; then
  say "drive the app now (host port $port); press Enter to start recording"
  read -r _ </dev/tty
  monitor "log exec,nochain"
  say "recording; press Enter to stop (the report divides by --requests $requests)"
  read -r _ </dev/tty
else
  what="$requests $proto requests of $size B"; [ "$proto" = cmd ] && what="one run of '$command'"
  if [ "$warmup" -gt 0 ]; then say "warm-up: ${what/#$requests/$warmup}"; drive "$warmup"; fi
  # Let the last warm-up echo's tail (TX completion, sleep) finish unlogged.
  sleep 1
  monitor "log exec,nochain"
  say "recording: $what"
  drive "$requests"
  wait_idle 10
fi
monitor "log none"
monitor "quit"
wait "$qemu_pid" 2>/dev/null || true
qemu_pid=""
grep -E "PANIC|killed:" "$console" >&2 && die "the guest reported a panic or a killed app"
[ -s "$exec_log" ] || die "QEMU wrote no exec log"
say "exec log: $(grep -c '^Trace' "$exec_log") trace lines"
[ -n "$keep_log" ] && cp "$exec_log" "$keep_log"
[ -n "$keep_console" ] && cp "$console" "$keep_console"

args=(--log "$exec_log" --kernel "$kernel_elf" --app "$app_elf" --requests "$requests" --top "$top")
[ $markdown -eq 1 ] && args+=(--markdown)
case "$proto" in
  none) what="user-driven window" ;;
  cmd) what="'$command'" ;;
  *) what="$proto ${size} B echo, 1 client, closed loop" ;;
esac
title="$app: $what, $requests requests"
"$profiler" "${args[@]}" --title "$title"
