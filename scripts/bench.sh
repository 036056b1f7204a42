#!/usr/bin/env bash
# Ringlet and Linux side by side (issue 7): the same load generator against
# Ringlet's user/echo and against the Linux guest (scripts/bench/linux-guest.sh),
# on the same QEMU machine, harts, memory and netdev options, one guest after
# the other, round after round; then guest instructions per request under
# -icount; then the host micro-benchmarks. Writes a Markdown table
# (results.md), PNG plots and the raw JSON into a results folder it prints.
#
#   scripts/bench.sh [options]
#   --quick            1 round, 1 s per run, UDP and TCP 64 B with 1 client (smoke test)
#   --ringlet-only     leave out the Linux guest (its first build takes ~6 min)
#   --rounds N         rounds per guest (3)          --duration S   seconds per run (5)
#   --smp N            harts for the loadgen phase (1; the icount phase is always 1)
#   --mem SIZE         guest memory (256M)
#   --icount-requests N  requests per instret window (20000; 1000 with --quick)
#   --no-throughput | --no-icount | --no-host   skip a phase
#   --apps             also the apps phase (issue 16): user/kv vs Redis 7 and kv on
#                      Linux (redis-benchmark GET/SET, 50 clients, -P 1 and 16),
#                      user/httpd on both (wrk, 1 KiB and 64 KiB, 16 connections),
#                      instructions per request under -icount (scripts/bench/apps.sh)
#   --apps-only        only the apps phase      --apps-requests N  per -P 1 run (20000)
#   --apps-servers "GUEST-SERVER ..."  only these (ringlet-kv ringlet-httpd linux-redis
#                      linux-kv linux-httpd linux-lighttpd); results already in --out stay
#   --linux-apps-build DIR  riscv64-linux preset build for the Linux guest's apps
#                      (build/bench-rvlinux)
#   --scaling          add the scaling phase: echo on 1, 2, 4 harts, then 1 and 2 with 500 us of app
#                      work per request (scripts/bench/scaling.sh;
#                      with --scaling-tap, as root, over a multiqueue tap instead of user networking)
#   --out DIR          results folder (bench-results/DATE-TIME, ignored by git)
#   --rv-build DIR     riscv64 build (build/bench-rv)
#   --host-build DIR   host build, Release without sanitizers (build/bench-host)
#   --no-build         use what is built
# Exit status: 0 when every phase ran and the report was written; non-zero,
# with the reason on stderr, when a build, a boot, a guest or a tool failed.
# Runs with timeouts or errors are data: they are tabled and flagged.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bench_dir=$root/scripts/bench

scaling=0 scaling_tap=0 quick=0 linux=1 rounds="" duration="" smp=1 mem=256M icount_n="" do_tput=1 do_icount=1 do_host=1 build=1
out="" rv_build=$root/build/bench-rv host_build=$root/build/bench-host
do_apps=0 do_echo=1 apps_requests="" linux_apps_build=$root/build/bench-rvlinux apps_servers=all
usage() { sed -n '2,34p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1; shift ;;
    --ringlet-only) linux=0; shift ;;
    --rounds) rounds=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --smp) smp=$2; shift 2 ;;
    --mem) mem=$2; shift 2 ;;
    --icount-requests) icount_n=$2; shift 2 ;;
    --no-throughput) do_tput=0; shift ;;
    --no-icount) do_icount=0; shift ;;
    --no-host) do_host=0; shift ;;
    --apps) do_apps=1; shift ;;
    --apps-only) do_apps=1 do_echo=0 do_host=0; shift ;;
    --apps-requests) apps_requests=$2; shift 2 ;;
    --apps-servers) apps_servers=$2; shift 2 ;;
    --linux-apps-build) linux_apps_build=$(realpath -m "$2"); shift 2 ;;
    --scaling) scaling=1; shift ;;
    --scaling-tap) scaling=1 scaling_tap=1; shift ;;
    --out) out=$2; shift 2 ;;
    --rv-build) rv_build=$(realpath -m "$2"); shift 2 ;;
    --host-build) host_build=$(realpath -m "$2"); shift 2 ;;
    --no-build) build=0; shift ;;
    -h|--help) usage 0 ;;
    *) echo "bench.sh: unknown option '$1'" >&2; usage 2 ;;
  esac
done
if [ $quick -eq 1 ]; then
  rounds=${rounds:-1} duration=${duration:-1} icount_n=${icount_n:-1000} apps_requests=${apps_requests:-2000}
  workloads=("udp 64 1" "tcp 64 1")
  icount_sizes=(64)
else
  rounds=${rounds:-3} duration=${duration:-5} icount_n=${icount_n:-20000} apps_requests=${apps_requests:-20000}
  # proto, message bytes, closed-loop clients
  workloads=("udp 64 1" "udp 64 4" "udp 1024 1" "udp 1024 4"
             "tcp 64 1" "tcp 64 4" "tcp 1024 1" "tcp 1024 4" "tcp 8192 1" "tcp 8192 4")
  icount_sizes=(64 1024)
fi
for v in "$rounds" "$duration" "$smp" "$icount_n" "$apps_requests"; do
  case "$v" in ''|*[!0-9]*|0) echo "bench.sh: --rounds, --duration, --smp, --icount-requests and --apps-requests need a positive number" >&2; exit 2 ;; esac
done
apps_rounds=$rounds apps_duration=$duration
guests=(ringlet); [ $linux -eq 1 ] && guests+=(linux)
out=${out:-$root/bench-results/$(date +%Y%m%d-%H%M%S)}
mkdir -p "$out"
out=$(cd "$out" && pwd)

say() { echo "bench: $*" >&2; }
die() { echo "bench: FAILED: $*" >&2; exit 1; }
# shellcheck source=scripts/bench/guest.sh
source "$bench_dir/guest.sh"
# shellcheck source=scripts/bench/apps.sh
source "$bench_dir/apps.sh"
say "results go to $out"

# --- build ------------------------------------------------------------------
loadgen=$host_build/tools/loadgen/loadgen
host_benches=("$host_build/tests/libos/bench/libos_bench" "$host_build/tests/libos/bench/ring_bench")
if [ $build -eq 1 ]; then
  "$root/scripts/setup.sh"
  say "building riscv64 (kernel, echo) in $rv_build"
  cmake --preset riscv64 -B "$rv_build" >"$out/build.log" 2>&1 || die "riscv64 configure; see $out/build.log"
  cmake --build "$rv_build" -j2 >>"$out/build.log" 2>&1 || die "riscv64 build; see $out/build.log"
  # Figures come from optimised code without sanitizers; -Werror stays off
  # because GCC 12 at -O3 warns falsely (-Wrestrict) inside std::string.
  if [ $do_echo -eq 1 ] || [ $do_host -eq 1 ]; then
    say "building host Release (loadgen, benchmarks) in $host_build"
    cmake --preset host -B "$host_build" -DCMAKE_BUILD_TYPE=Release -DRINGLET_SANITIZE=OFF \
      -DRINGLET_WERROR=OFF -DRINGLET_RISCV_BUILD="$rv_build" >>"$out/build.log" 2>&1 || die "host configure; see $out/build.log"
    cmake --build "$host_build" -j2 --target loadgen libos_bench ring_bench ringlet-profile >>"$out/build.log" 2>&1 ||
      die "host build; see $out/build.log"
  fi
  if [ $linux -eq 1 ]; then
    say "Linux guest (cached in ~/.cache/ringlet after its first ~6 min build)"
    "$bench_dir/linux-guest.sh" build || die "the Linux guest build"
  fi
  if [ $do_apps -eq 1 ] && [ $linux -eq 1 ]; then
    say "apps for the Linux guest: kv, httpd (riscv64-linux preset) in $linux_apps_build; Redis from Debian's source"
    cmake --preset riscv64-linux -B "$linux_apps_build" >>"$out/build.log" 2>&1 || die "riscv64-linux configure; see $out/build.log"
    cmake --build "$linux_apps_build" -j2 --target kv httpd >>"$out/build.log" 2>&1 || die "riscv64-linux build; see $out/build.log"
    "$bench_dir/linux-guest.sh" build --apps "$linux_apps_build" || die "the Linux guest's apps initramfs"
  fi
fi
if [ $do_echo -eq 1 ] || [ $do_host -eq 1 ]; then
  [ -x "$loadgen" ] || die "no loadgen at $loadgen (build it, or drop --no-build)"
fi
if [ ! -f "$rv_build/Image" ] || [ ! -f "$rv_build/initrd.cpio" ]; then die "no Image/initrd.cpio in $rv_build"; fi
if [ $linux -eq 1 ]; then
  eval "$("$bench_dir/linux-guest.sh" paths 2>/dev/null | grep -E '^(IMAGE|INITRD)=' | sed 's/^/linux_/')"
  [ -f "${linux_IMAGE:-}" ] || die "the Linux guest is not built (scripts/bench/linux-guest.sh build)"
  if [ $do_apps -eq 1 ]; then
    eval "$("$bench_dir/linux-guest.sh" paths --apps "$linux_apps_build" 2>/dev/null | grep -E '^INITRD=' | sed 's/^/linux_apps_/')"
    [ -f "${linux_apps_INITRD:-}" ] || die "the Linux guest's apps initramfs is not built (scripts/bench/linux-guest.sh build --apps $linux_apps_build)"
  fi
fi
if [ $do_apps -eq 1 ]; then
  for t in redis-benchmark redis-cli wrk ab curl socat; do command -v "$t" >/dev/null || die "the apps phase needs $t (scripts/setup.sh)"; done
fi
{
  echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "commit=$(git -C "$root" rev-parse --short HEAD)$(git -C "$root" diff --quiet HEAD -- . 2>/dev/null || echo +dirty)"
  echo "qemu=$(qemu-system-riscv64 --version | head -1)"
  echo "host=$(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
  echo "load=$(cut -d' ' -f1-3 /proc/loadavg)"
  echo "duration_s=$duration"
  echo "machine=QEMU virt, -smp $smp, -m $mem, virtio-net (modern) on user networking; $rounds round(s) of ${duration} s per run, $icount_n requests per instret window"
  echo "guests=${guests[*]}"
  echo "apps=$do_apps"
} >"$out/meta.txt"

# --- phase 1: loadgen, round after round, the guests one after the other ------
if [ $do_tput -eq 1 ] && [ $do_echo -eq 1 ]; then
  total=$((rounds * ${#guests[@]} * ${#workloads[@]})) n=0
  for round in $(seq 1 "$rounds"); do
    for guest in "${guests[@]}"; do
      guest_start "$guest" "$smp" 0 0 "$out/console-$guest-round$round.log"
      for w in "${workloads[@]}"; do
        read -r proto size clients <<<"$w"
        n=$((n + 1))
        dir=$out/runs/$guest/$proto-$size-c$clients
        mkdir -p "$dir"
        json=$dir/round$round.json
        # Timeouts and errors are data (they go in the table); only a run
        # that produced no summary at all is a failure of the benchmark.
        set +e
        "$loadgen" --proto "$proto" --port "$guest_port" --size "$size" --clients "$clients" \
          --duration "$duration" --timeout-ms 1000 --json --no-progress --allow-timeouts >"$json" 2>"$dir/round$round.err"
        rc=$?
        set -e
        if [ $rc -gt 1 ] || [ ! -s "$json" ]; then
          guest_stop
          die "loadgen exited $rc on $guest $w: $(tail -3 "$dir/round$round.err")"
        fi
        guest_alive || die "$guest died during $w; console: $(tail -5 "$guest_log")"
        { read -r bad; read -r summary; } < <(python3 "$bench_dir/report.py" --run "$json") ||
          die "unreadable loadgen summary $json"
        say "[$n/$total] round $round $guest $proto ${size} B x$clients: $summary"
        # A guest that stopped answering would turn every later run into
        # zeros: note it, and boot it again for the next workload.
        if [ "$bad" -gt 0 ] && ! guest_probe; then
          echo "$guest, round $round: stopped answering UDP or TCP during $proto $size B x$clients; rebooted" >>"$out/incidents.txt"
          say "WARNING: $guest stopped answering during $proto $size B x$clients; booting it again"
          guest_stop
          guest_start "$guest" "$smp" 0 0 "$out/console-$guest-round$round-after-$proto-$size-c$clients.log"
        fi
      done
      guest_stop
    done
  done
fi

# --- phase 2: instructions per request under -icount shift=0 -smp 1 -------------
if [ $do_icount -eq 1 ] && [ $do_echo -eq 1 ]; then
  windows=3
  for guest in "${guests[@]}"; do
    # UDP at each size; TCP 64 B on Linux too, whose init counts a TCP read
    # as a request (Ringlet's echo --stats counts UDP: its TCP figure is the
    # exact profile's, below). Linux's init also prints its getppid() round
    # trip at start (report.py puts it beside microbench's).
    icount_runs=()
    for size in "${icount_sizes[@]}"; do icount_runs+=("udp $size"); done
    [ "$guest" = linux ] && [ $quick -eq 0 ] && icount_runs+=("tcp 64")
    for w in "${icount_runs[@]}"; do
      read -r proto size <<<"$w"
      log=$out/icount-$guest-$proto-$size.log
      say "icount: $guest, ${proto^^} $size B, $windows windows of $icount_n requests (1 client)"
      guest_start "$guest" 1 1 "$icount_n" "$log"
      # One window more than needed: the first one carries the warm-up.
      want=$(( (windows + 1) * (icount_n + 1) + 10 ))
      set +e
      "$loadgen" --proto "$proto" --port "$guest_port" --size "$size" --clients 1 --requests "$want" \
        --timeout-ms 2000 --json --no-progress --allow-timeouts >"$log.json" 2>"$log.err"
      rc=$?
      set -e
      sleep 1
      guest_stop
      [ $rc -le 1 ] || die "loadgen exited $rc (icount, $guest $proto $size B): $(tail -3 "$log.err")"
      got=$(grep -cE "$(guest_icount_regex "$guest")" "$log" || true)
      [ "$got" -ge 2 ] || die "icount: $guest printed $got instruction figures (want >= 2); see $log"
      say "icount: $guest ${proto^^} $size B: $(grep -E "$(guest_icount_regex "$guest")" "$log" | tail -1 | tr -d '\r')"
    done
  done

  # The kernel and libOS micro-figures in exact guest instructions.
  say "icount: user/microbench (syscall, yield, spawn)"
  RINGLET_RISCV_BUILD=$rv_build "$root/scripts/run-qemu.sh" --no-build --icount --smp 1 --timeout 120 \
    --append "shutdown init=microbench" >"$out/icount-microbench.log" 2>&1 ||
    die "microbench under -icount failed; see $out/icount-microbench.log"

  # Ringlet's whole cost per request, exactly: every instruction the hart
  # retired (app, libOS, driver, kernel incl. the sleep/wake path; idle
  # retires nothing) over 200 requests, by scripts/profile.sh.
  if [ ${#guests[@]} -gt 0 ] && [ "${guests[0]}" = ringlet ]; then
    for w in udp:64 udp:1024 tcp:64; do
      [ $quick -eq 1 ] && [ "$w" != udp:64 ] && continue
      say "profile: ringlet echo, $w (200 requests)"
      RINGLET_RISCV_BUILD=$rv_build "$root/scripts/profile.sh" --no-build --workload "$w" --requests 200 \
        --loadgen "$loadgen" --profiler "$host_build/tools/profile/ringlet-profile" --markdown >"$out/profile-${w/:/-}.md" 2>"$out/profile-${w/:/-}.err" ||
        die "profile.sh $w failed; see $out/profile-${w/:/-}.err"
    done
  fi
fi

# --- phase 3: host micro-benchmarks (Google Benchmark, ns) ----------------------
if [ $do_host -eq 1 ]; then
  min_time=0.5; [ $quick -eq 1 ] && min_time=0.05
  reps=3; [ $quick -eq 1 ] && reps=1
  for b in "${host_benches[@]}"; do
    [ -x "$b" ] || die "no host benchmark at $b"
    name=$(basename "$b")
    say "host: $name (${reps}x, min time ${min_time}s each)"
    "$b" --benchmark_min_time="$min_time" --benchmark_repetitions="$reps" \
      --benchmark_format=json --benchmark_out="$out/host-$name.json" --benchmark_out_format=json \
      >/dev/null 2>"$out/host-$name.err" || die "$name failed: $(tail -3 "$out/host-$name.err")"
  done
fi

# --- phase 4: the apps (kv, Redis, httpd), scripts/bench/apps.sh -------------------
[ $do_apps -eq 1 ] && apps_phase
# --- phase 5: scaling over harts (issue 14) --------------------------------------
if [ $scaling -eq 1 ]; then
  say "scaling: echo on 1, 2, 4 harts$([ $scaling_tap -eq 1 ] && echo ', multiqueue tap')"
  RINGLET_RISCV_BUILD=$rv_build LOADGEN=$loadgen "$bench_dir/scaling.sh" \
    $([ $scaling_tap -eq 1 ] && echo --tap) $([ $quick -eq 1 ] && echo "--duration 1 --icount-requests 3000") \
    >"$out/scaling.md" 2>"$out/scaling.err" || die "scaling.sh failed; see $out/scaling.err"
  # With work of the app's own per request the guest, not the host's network
  # emulation, limits requests/s (README, Scaling): 1 and 2 harts.
  say "scaling: with 500 us of app work per request, 1 and 2 harts"
  RINGLET_RISCV_BUILD=$rv_build LOADGEN=$loadgen "$bench_dir/scaling.sh" --harts "1 2" --no-icount --work-us 500 \
    $([ $scaling_tap -eq 1 ] && echo --tap) $([ $quick -eq 1 ] && echo "--duration 1") \
    >>"$out/scaling.md" 2>>"$out/scaling.err" || die "scaling.sh --work-us failed; see $out/scaling.err"
fi

# --- report -------------------------------------------------------------------
python3 "$bench_dir/report.py" "$out" || die "report generation; see above"
if [ -f "$out/scaling.md" ]; then
  { echo; echo "Scaling over harts (scripts/bench/scaling.sh):"; echo; cat "$out/scaling.md"; } >>"$out/results.md"
fi
# The exact profiles' totals under the table, with the files that hold them.
if ls "$out"/profile-*.md >/dev/null 2>&1; then
  {
    echo
    echo "Ringlet echo, exact guest profile (scripts/profile.sh, 200 requests, every retired instruction incl. the kernel):"
    echo
    echo "| workload | instructions per request | profile |"
    echo "|---|---|---|"
    for f in "$out"/profile-*.md; do
      w=$(basename "$f" .md); w=${w#profile-}
      total=$(grep -m1 -oE '= [0-9,.]+ per request' "$f" | grep -oE '[0-9,.]+' || echo "?")
      echo "| ${w/-/ } | $total | $(basename "$f") |"
    done
  } >>"$out/results.md"
fi
say "table: $out/results.md"
say "plots: $(find "$out" -maxdepth 1 -name '*.png' -printf '%f ')"
if grep -q "timeouts or errors" "$out/results.md"; then
  say "WARNING: some runs had timeouts or errors (flagged in the table)"
fi
echo "$out"
