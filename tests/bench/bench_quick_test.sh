#!/usr/bin/env bash
# Runs scripts/bench.sh --quick --ringlet-only against the given builds and
# checks what it wrote: the Markdown table with positive, parseable figures
# for every phase (loadgen, -icount instructions, host benchmarks), no failed
# requests, and real PNG files.
#   bench_quick_test.sh SOURCE_DIR RISCV_BUILD HOST_BUILD OUT_DIR
set -euo pipefail
src=$1 rv=$2 host=$3 out=$4
rm -rf "$out"
"$src/scripts/bench.sh" --quick --ringlet-only --no-build --rv-build "$rv" --host-build "$host" --out "$out"
md=$out/results.md
fail() { echo "bench_quick_test: $*" >&2; echo "--- $md" >&2; cat "$md" >&2 || true; exit 1; }
[ -s "$md" ] || fail "no table"

# cell ROW_REGEX N: the Nth |-separated cell of the first row matching ROW_REGEX,
# as a plain number (thousands separators and the (min-max) spread dropped).
cell() {
  grep -E "$1" "$md" | head -1 | awk -F'|' -v n="$2" '{print $(n+1)}' | sed 's/(.*//; s/[ ,]//g'
}
positive() {  # positive NAME VALUE [MIN]
  [[ "$2" =~ ^[0-9]+(\.[0-9]+)?$ ]] || fail "$1: '$2' is not a number"
  awk -v v="$2" -v m="${3:-0}" 'BEGIN { exit !(v > m) }' || fail "$1: $2 is not above ${3:-0}"
}
for w in "UDP 64 B, 1 client" "TCP 64 B, 1 client"; do
  row="^\| $w \| Ringlet \|"
  grep -qE "$row" "$md" || fail "no row for $w"
  positive "$w requests/s" "$(cell "$row" 3)"
  for col in 5 6 7; do positive "$w latency column $col" "$(cell "$row" "$col")"; done
  [ "$(cell "$row" 8)" = 0 ] || fail "$w: requests timed out or failed"
done
# Ringlet's echo on rv64 spends thousands of instructions per datagram.
positive "instructions per 64 B request" "$(cell '^\| UDP 64 B \|' 2)" 1000
# The exact profile of the same echo (kernel included).
positive "profiled instructions per 64 B UDP echo" "$(cell '^\| udp 64 \|' 2)" 1000
for b in "executor pick-next, 1 ready task" "coroutine yield round trip" "spawn \+ run \+ complete a task" \
         "PDPIX loopback push \+ pop" "inter-hart ring message, one way" "inter-hart ring message, round trip" \
         "syscall round trip" "yield round trip"; do
  positive "$b" "$(cell "^\| $b" 2)"
done
for p in throughput latency instructions; do
  f=$out/$p.png
  [ -s "$f" ] || fail "no $p.png"
  [ "$(head -c 8 "$f" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || fail "$p.png is not a PNG"
  grep -q "($p.png)" "$md" || fail "the table does not show $p.png"
done
echo "bench_quick_test: table and plots OK ($out)"
