#!/usr/bin/env bash
# scripts/bench/report.py's apps section (scripts/bench/apps_report.py) on a
# small results folder in the formats scripts/bench/apps.sh writes:
# redis-benchmark's default output (progress lines, summary), wrk --latency,
# the load files and the exec-log instruction windows. Checks the tables'
# figures and ratios, the flag on a run cut before its summary, and the PNGs.
#   apps_report_test.sh SOURCE_DIR OUT_DIR
set -euo pipefail
src=$1 out=$2
rm -rf "$out"
a=$out/apps
fail() { echo "apps_report_test: $*" >&2; echo "--- $out/results.md" >&2; cat "$out/results.md" >&2 || true; exit 1; }

# redis_run DIR SET_RPS GET_RPS [cut|stall]: one redis-benchmark run, SET then
# GET, each with 250 ms progress lines (the first idle, as when it starts; with
# stall or cut one more idle line) and a summary (none when cut).
redis_run() {
  mkdir -p "$1"
  {
    for t in SET GET; do
      local r; r=$([ $t = SET ] && echo "$2" || echo "$3")
      printf '%s: rps=0.0 (overall: -nan) avg_msec=-nan (overall: -nan)\r' "$t"
      printf '%s: rps=%s.0 (overall: %s.0) avg_msec=1.000 (overall: 1.000)\r' "$t" "$r" "$r"
      [ -n "${4:-}" ] && printf '%s: rps=0.0 (overall: %s.0) avg_msec=-nan (overall: 1.000)\r' "$t" "$r"
      printf '%s: rps=%s.0 (overall: %s.0) avg_msec=1.000 (overall: 1.000)\r' "$t" "$r" "$r"
      [ "${4:-}" = cut ] && continue
      printf '====== %s ======\n  2000 requests completed in 1.00 seconds\n  50 parallel clients\n' "$t"
      printf 'Summary:\n  throughput summary: %s.00 requests per second\n  latency summary (msec):\n' "$((r / 2))"
      printf '          avg       min       p50       p95       p99       max\n'
      printf '        1.000     0.100     0.800     2.000     3.500     9.000\n'
    done
  } >"$1/round1.txt"
  echo "1.50 1.20 1.00 2/300 4242" >"$1/round1.load"
}
redis_run "$a/ringlet-kv/redis-benchmark-P1-c50" 8000 6000
redis_run "$a/linux-kv/redis-benchmark-P1-c50" 2000 2000 stall
redis_run "$a/linux-redis/redis-benchmark-P1-c50" 4000 3000 cut
echo "Error: Connection reset by peer" >"$a/linux-redis/redis-benchmark-P1-c50/round1.err"

wrk_run() {  # wrk_run DIR RPS
  mkdir -p "$1"
  cat >"$1/round1.txt" <<WRK
Running 1s test @ http://127.0.0.1:1/1k.bin
  2 threads and 16 connections
  Latency Distribution
     50%  800.00us
     75%    1.20ms
     90%    2.50ms
     99%   12.00ms
  $2 requests in 1.00s, 1.00MB read
Requests/sec:   $2.00
Transfer/sec:      1.00MB
WRK
  echo "2.25 1.20 1.00 2/300 4242" >"$1/round1.load"
}
wrk_run "$a/ringlet-httpd/wrk-1k-c16" 3000
wrk_run "$a/linux-httpd/wrk-1k-c16" 1000
wrk_run "$a/linux-lighttpd/wrk-1k-c16" 1500

# REQUEST PIPELINE N1 COUNT1 N2 COUNT2: 100 requests more cost the difference.
echo "GET 1 100 1500000 300 3500000" >"$a/icount-ringlet-kv.txt"   # 10,000 per request
echo "GET 1 100 4000000 300 9000000" >"$a/icount-linux-redis.txt"  # 25,000 per request
echo "GET-1k 1 50 2000000 150 4000000" >"$a/icount-ringlet-httpd.txt"  # 20,000
echo "GET-1k 1 50 5000000 150 10000000" >"$a/icount-linux-lighttpd.txt"  # 50,000

python3 "$src/scripts/bench/report.py" "$out" || fail "report.py failed"
md=$out/results.md
row() { grep -E "$1" "$md" | head -1; }
expect() {  # expect ROW_REGEX TEXT: the row holds TEXT
  row "$1" | grep -qF -- "$2" || fail "row /$1/ does not show '$2': $(row "$1")"
}
# Ringlet kv SET: whole run 4,000 (the summary), intervals with traffic 8,000, no
# stall; Linux kv 1,000 and 2,000 with 0.25 s of stall: no whole-run ratio;
# Redis's run was cut before its summary: no whole-run ratio, 2.00x on intervals.
expect '^\| SET, pipeline 1 \| Ringlet kv \|' '| 4,000 | 8,000 | 0.00 |'
expect '^\| SET, pipeline 1 \| Ringlet kv \|' '| - / 2.00× | - / 4.00× |'
expect '^\| SET, pipeline 1 \| Ringlet kv \|' '| 0.80 | 3.50 | 1.50 |'
expect '^\| SET, pipeline 1 \| Linux Redis 7 \|' '1 ended early'
expect '^\| GET, pipeline 1 \| Ringlet kv \|' '| 3,000 | 6,000 |'
expect '^\| SET, pipeline 1 \| Linux kv \|' '| 1,000 | 2,000 | 0.25 |'
grep -q "reasons: Error: Connection reset by peer" "$md" || fail "the cut run is not explained"
expect '^\| 1 KiB \| Ringlet httpd \|' '| 3,000 | 3.00× | 2.00× | 0.80 | 2.50 | 12.00 | 0 | 2.25 |'
expect '^\| GET, pipeline 1 \| 10,000 \|' '| 10,000 | - | 25,000 | 2.50× | - |'
expect '^\| HTTP GET 1 KiB' '| 20,000 | - | 50,000 | - | 2.50× |'
for p in apps-kv apps-httpd apps-instructions; do
  f=$out/$p.png
  [ -s "$f" ] || fail "no $p.png"
  [ "$(head -c 8 "$f" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || fail "$p.png is not a PNG"
  grep -q "($p.png)" "$md" || fail "the table does not show $p.png"
done
echo "apps_report_test: tables and plots OK ($out)"
