#!/usr/bin/env bash
# Runs scripts/profile.sh on the echo app for a short 64 B UDP window and
# checks the report is sane: instructions per request in a broad range, the
# driver, lwIP, kernel and app layers all present, and the flat profile
# (every function, --top 0) adding up to the total exactly. Then checks that
# the count is exact: with `echo --stats 1` the app prints its own rdinstret
# delta for every other request (minus what it retired asleep in `wait`); the
# profiler's instruction indices at those rdinstret instructions must give
# the same numbers.
#
#   profile_test.sh LOADGEN RINGLET_PROFILE
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
loadgen=$1 profiler=$2
out=$(mktemp)
trap 'rm -f "$out" "$out.err" "$out.log" "$out.console" "$out.marks"' EXIT
rv_build=${RINGLET_RISCV_BUILD:-$root/build/riscv64}
elf=$rv_build/user/echo/echo.elf

failed=0
fail() { echo "FAILED: $*"; failed=1; }
"$root/scripts/profile.sh" --no-build --workload udp:64 --requests 30 --warmup 20 --top 0 \
  --loadgen "$loadgen" --profiler "$profiler" >"$out" 2>"$out.err" || fail "profile.sh exited $?: $(tail -5 "$out.err")"

# "instructions retired in the window: T over 30 requests = X per request"
total=$(sed -n 's/^instructions retired in the window: \([0-9,]*\) over 30 requests = \([0-9,.]*\) per request$/\1/p' "$out" | tr -d ,)
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

# Exactness against rdinstret. The app reads it in main (one window per two
# requests) and around its wait syscall (RingletPlatform::block: the lower
# address is the read before the syscall).
sites=$(riscv64-linux-gnu-objdump -d "$elf" | awk '
  /^[0-9a-f]+ <.*>:$/ { fn = $2 }
  /\trdinstret\t/ { sub(":", "", $1); print (fn ~ /RingletPlatform5block/ ? "sleep" : "app"), $1 }')
app_sites=$(awk '$1 == "app" { printf "%s0x%s", sep, $2; sep = "," }' <<<"$sites")
sleep_sites=$(awk '$1 == "sleep" { print "0x" $2 }' <<<"$sites" | sort)
[ "$(wc -l <<<"$sleep_sites")" = 2 ] && [ -n "$app_sites" ] || { echo "FAILED: rdinstret sites not found: $sites"; exit 1; }
"$root/scripts/profile.sh" --no-build --app "echo --udp 5555 --tcp 5555 --stats 1" --workload udp:64 \
  --requests 14 --warmup 10 --keep-log "$out.log" --keep-console "$out.console" \
  --loadgen "$loadgen" --profiler "$profiler" >/dev/null 2>"$out.err" || { echo "FAILED: profile.sh --stats 1: $(tail -5 "$out.err")"; exit 1; }
"$profiler" --log "$out.log" --app "$elf" --marks "$app_sites,$(tr '\n' , <<<"$sleep_sites" | sed 's/,$//')" --top 1 |
  grep '^mark ' >"$out.marks"
python3 - "$out.marks" "$out.console" $sleep_sites <<'PY' || exit 1
import re, sys
marks = [(int(pc, 16), int(i)) for _, pc, i in (l.split() for l in open(sys.argv[1]))]
printed = [int(m.group(1)) for m in re.finditer(r"echo: 1 requests, (\d+) instructions", open(sys.argv[2], errors="replace").read())]
before, after = int(sys.argv[3], 16), int(sys.argv[4], 16)
app = [i for pc, i in marks if pc not in (before, after)]
sleeps, b = [], None  # [start, end) of every wait syscall seen whole
for pc, i in marks:
    if pc == before: b = i
    elif pc == after and b is not None: sleeps.append((b, i)); b = None
def windows(offset):  # which app read opens a window is not known: try both
    out = []
    for k in range(offset, len(app) - 1, 2):
        lo, hi = app[k], app[k + 1]
        out.append(hi - lo - sum(e - s for s, e in sleeps if lo <= s and e <= hi))
    return out
for offset in (0, 1):
    w = windows(offset)
    if len(w) >= 5 and printed[-len(w):] == w:
        print(f"ok: {len(w)} windows, the trace count equals the app's rdinstret delta exactly: {w[:4]} ...")
        sys.exit(0)
print(f"FAILED: trace windows {windows(0)} / {windows(1)} vs rdinstret {printed[-12:]}")
sys.exit(1)
PY
