#!/usr/bin/env bash
# Runs scripts/profile.sh on the echo app for a short 64 B UDP window and
# checks the report is sane: instructions per request in a broad range, the
# driver, lwIP, kernel and app layers all present, and the flat profile
# (every function, --top 0) adding up to the total exactly.
#
#   profile_test.sh LOADGEN RINGLET_PROFILE
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
loadgen=$1 profiler=$2
out=$(mktemp)
trap 'rm -f "$out" "$out.err"' EXIT

failed=0
fail() { echo "FAILED: $*"; failed=1; }
"$root/scripts/profile.sh" --no-build --workload udp:64 --requests 50 --warmup 50 --top 0 \
  --loadgen "$loadgen" --profiler "$profiler" >"$out" 2>"$out.err" || fail "profile.sh exited $?: $(tail -5 "$out.err")"

# "instructions retired in the window: T over 50 requests = X per request"
total=$(sed -n 's/^instructions retired in the window: \([0-9,]*\) over 50 requests = \([0-9,.]*\) per request$/\1/p' "$out" | tr -d ,)
per_req=$(sed -n 's/^instructions retired in the window: .* = \([0-9,]*\)\.[0-9] per request$/\1/p' "$out" | tr -d ,)
if [ -z "$total" ] || [ -z "$per_req" ]; then
  fail "no totals line"
else
  [ "$per_req" -ge 1000 ] && [ "$per_req" -le 100000 ] || fail "$per_req instructions per request, outside 1,000..100,000"
fi
# Per-layer rows: "layer  instr/req  %  instructions  what".
for layer in driver lwip kernel app; do
  n=$(awk -v l="$layer" '$1 == l && NF >= 4 { gsub(",", "", $4); print $4; exit }' "$out")
  [ -n "$n" ] && [ "$n" -gt 0 ] || fail "layer $layer has no instructions (${n:-no row})"
done
# Flat rows after the "Flat profile" heading: the 5th column is the count;
# the closing row is "X  100.0  T  total".
sum=$(awk '/^Flat profile/ { on = 1; next } on && $1 != "instr/req" && $NF != "total" && NF >= 7 { gsub(",", "", $5); s += $5 }
           END { print s + 0 }' "$out")
[ -n "$total" ] && [ "$sum" = "$total" ] || fail "flat profile sums to $sum, total is ${total:-missing}"
grep -q "libc .*memcpy" "$out" || fail "memcpy missing from the flat profile"

if [ $failed -ne 0 ]; then
  echo "---- report ----"; cat "$out"; echo "---- stderr ----"; tail -20 "$out.err"; exit 1
fi
head -20 "$out"
echo "ok: $per_req instructions per request; the flat profile adds up to $total"
