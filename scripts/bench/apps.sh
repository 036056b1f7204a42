# shellcheck shell=bash disable=SC2154  # $root, $rv_build, $mem, $out, $quick, $apps_rounds, $linux_* come from bench.sh
# Sourced by scripts/bench.sh: the apps phase (issue 16 item 6). The real
# servers side by side on the same QEMU machine and virtio-net, one guest
# after the other:
#   Ringlet: user/kv, user/httpd (build/bench-rv's initrd)
#   Linux:   Redis 7 and lighttpd (Debian's sources, static), user/kv and
#            user/httpd built for riscv64 Linux over the libOS's linux backend
#            (the riscv64-linux preset), from scripts/bench/linux-guest.sh --apps
# $apps_servers (bench.sh --apps-servers) picks some, e.g. "linux-lighttpd".
# Throughput: redis-benchmark GET/SET, 50 clients, pipelining 1 and 16; wrk
# with 1 KiB and 64 KiB files, 16 connections. The 1-minute load average is
# recorded beside each run (the host is shared). Then instructions per
# request under -icount shift=0 -singlestep -smp 1: QEMU's exec log, switched
# on and off through the monitor, counted as it is written (a FIFO, nothing
# on disk), for two windows of N1 and N2 requests from one client; the
# difference over N2-N1 is the marginal cost of a request, so the client's
# connection set-up and first queries cancel out. Everything the hart retires
# counts (app, libc/libOS, network stack, driver, kernel, timer ticks); idle
# retires nothing (WFI).
#
#   apps_phase   writes $out/apps/<guest>-<server>/<workload>/round<N>.{txt,load}
#                and $out/apps/icount-<guest>-<server>.txt

app_pid="" app_port="" app_log="" app_mon="" app_counter=""

apps_servers() {  # the servers of GUEST
  local all
  case "$1" in ringlet) all="kv httpd" ;; linux) all="redis kv httpd lighttpd" ;; esac
  for s in $all; do
    case " ${apps_servers:-all} " in *" all "*|*" $1-$s "*) echo "$s" ;; esac
  done
}

apps_load() { cut -d' ' -f1 /proc/loadavg; }

apps_is_http() { [ "$1" = httpd ] || [ "$1" = lighttpd ]; }

# app_start GUEST SERVER ICOUNT LOG: boots GUEST serving SERVER; waits until
# the server answers. ICOUNT=1 adds -icount shift=0 -singlestep and a monitor.
app_start() {
  local guest=$1 server=$2 icount=$3 kernel initrd append gport
  app_log=$4
  gport=$(apps_is_http "$server" && echo 8080 || echo 6379)
  case "$guest" in
    ringlet)
      kernel=$rv_build/Image initrd=$rv_build/initrd.cpio
      # kv without its log on both guests, like Redis without RDB or AOF.
      case "$server" in
        kv) append="init=kv:--port:6379:--no-disk" ;;
        httpd) append="init=httpd:--port:8080" ;;
      esac ;;
    linux)
      kernel=$linux_IMAGE initrd=$linux_apps_INITRD
      append="console=ttyS0 quiet report_every=1000000000 app=$server" ;;
  esac
  app_port=$(free_port)
  app_mon=$app_log.mon
  rm -f "$app_mon"
  # shellcheck disable=SC2054  # the commas belong to QEMU option values
  local qemu=(qemu-system-riscv64 -machine virt -cpu "$RINGLET_QEMU_CPU" -smp 1 -m "$mem" -bios default
              -kernel "$kernel" -initrd "$initrd" -append "$append"
              -display none -serial stdio -monitor none
              -global virtio-mmio.force-legacy=false
              -netdev "user,id=net0,hostfwd=tcp:127.0.0.1:$app_port-:$gport"
              -device virtio-net-device,netdev=net0)
  app_counter=""
  if [ "$icount" -eq 1 ]; then
    qemu+=(-icount shift=0 -singlestep -monitor "unix:$app_mon,server,nowait" -D "$app_log.exec")
    # The exec log goes through a FIFO into a counter: nothing on disk.
    rm -f "$app_log.exec" "$app_log.count"; mkfifo "$app_log.exec"
    python3 "$bench_dir/count_trace.py" "$app_log.exec" "$app_log.count" &
    app_counter=$!
  fi
  echo "${qemu[*]}" >"$app_log.cmd"
  "${qemu[@]}" </dev/null >"$app_log" 2>&1 &
  app_pid=$!
  trap app_stop EXIT
  # QEMU's port forward listens with a backlog of 1: 50 clients connecting at
  # once overflow the host's accept queue and wait for SYN retransmissions
  # (1 s, 3 s, 7 s...), on every guest. Raise it before any client connects.
  for _ in $(seq 1 40); do
    [ -n "$(ss -Hltn "sport = :$app_port")" ] && break
    sleep 0.05
  done
  python3 "$bench_dir/apps_listen_backlog.py" "$app_pid" "$app_port" >"$app_log.backlog" 2>&1 ||
    say "apps: QEMU's listen backlog stays 1 ($(cat "$app_log.backlog")): 50-client runs may stall"
  for _ in $(seq 1 1200); do
    app_probe "$server" && return 0
    kill -0 "$app_pid" 2>/dev/null || die "$guest $server exited while booting; console: $(tail -5 "$app_log")"
    sleep 0.25
  done
  app_stop
  die "$guest $server did not answer within 300 s; see $app_log"
}

app_probe() {  # 0 when SERVER answers on $app_port now
  case "$1" in
    httpd|lighttpd) curl -sf -m 5 -o /dev/null "http://127.0.0.1:$app_port/1k.bin" 2>/dev/null ;;
    *) [ "$(redis-cli -p "$app_port" ping 2>/dev/null)" = PONG ] ;;
  esac
}

app_stop() {  # the QEMU (and exec-log counter) this script started, by pid
  if [ -n "$app_pid" ]; then
    kill "$app_pid" 2>/dev/null || true
    wait "$app_pid" 2>/dev/null || true
    app_pid=""
  fi
  if [ -n "${app_counter:-}" ]; then
    kill "$app_counter" 2>/dev/null || true
    wait "$app_counter" 2>/dev/null || true
    app_counter=""
  fi
}

# One HMP command; socat waits briefly so that it has run before we go on.
app_monitor() { printf '%s\n' "$1" | socat -t 0.5 - "UNIX-CONNECT:$app_mon" >/dev/null 2>&1; }

# app_window N CMD...: the instructions the hart retires while CMD runs (it
# sends N requests): the exec-log counter's total after minus before.
app_window() {
  local before after
  before=$(app_settled_count)
  app_monitor "log exec,nochain"
  "${@:2}" >/dev/null 2>&1 || { app_monitor "log none"; die "icount window: '${*:2}' failed"; }
  sleep 2  # the last reply's tail (TX completion, going idle) belongs to it
  app_monitor "log none"
  after=$(app_settled_count)
  echo $((after - before))
}

# The counter's total once it has stopped moving (the log is off and drained).
app_settled_count() {
  local last="" now
  for _ in $(seq 1 600); do
    sleep 0.5
    now=$(cat "$app_log.count" 2>/dev/null || echo "")
    [ -n "$now" ] && [ "$now" = "$last" ] && { echo "$now"; return 0; }
    last=$now
  done
  die "the exec-log counter did not settle; see $app_log"
}

# apps_icount GUEST SERVER: "request pipeline n1 c1 n2 c2" lines.
apps_icount() {
  local guest=$1 server=$2 file=$out/apps/icount-$1-$2.txt n1 n2 c1 c2
  say "apps icount: $guest $server (-icount shift=0 -singlestep -smp 1, exec log)"
  app_start "$guest" "$server" 1 "$out/apps/console-icount-$guest-$server.log"
  : >"$file"
  if apps_is_http "$server"; then
    n1=50 n2=150; [ "$quick" -eq 1 ] && n1=10 n2=30
    ab -k -c 1 -n 50 "http://127.0.0.1:$app_port/1k.bin" >/dev/null 2>&1 || die "ab warm-up on $guest $server"
    c1=$(app_window "$n1" ab -k -c 1 -n "$n1" "http://127.0.0.1:$app_port/1k.bin")
    c2=$(app_window "$n2" ab -k -c 1 -n "$n2" "http://127.0.0.1:$app_port/1k.bin")
    echo "GET-1k 1 $n1 $c1 $n2 $c2" >>"$file"
  else
    redis-benchmark -p "$app_port" -c 1 -n 200 -t get,set -q >/dev/null 2>&1 || die "redis-benchmark warm-up on $guest $server"
    local pipes=(1 16); [ "$quick" -eq 1 ] && pipes=(1)
    for op in get set; do
      for p in "${pipes[@]}"; do
        n1=$((100 * p)) n2=$((300 * p)); [ "$quick" -eq 1 ] && n1=20 n2=60
        c1=$(app_window "$n1" redis-benchmark -p "$app_port" -c 1 -n "$n1" -P "$p" -t "$op" -q)
        c2=$(app_window "$n2" redis-benchmark -p "$app_port" -c 1 -n "$n2" -P "$p" -t "$op" -q)
        echo "${op^^} $p $n1 $c1 $n2 $c2" >>"$file"
      done
    done
  fi
  app_stop
  say "apps icount: $guest $server: $(awk '{printf "%s P%s %.0f/request; ", $1, $2, ($6-$4)/($5-$3)}' "$file")"
}

# apps_throughput GUEST SERVER ROUND
apps_throughput() {
  local guest=$1 server=$2 round=$3 dir txt
  app_start "$guest" "$server" 0 "$out/apps/console-$guest-$server-round$round.log"
  if apps_is_http "$server"; then
    for f in 1k 64k; do
      dir=$out/apps/$guest-$server/wrk-$f-c16; mkdir -p "$dir"; txt=$dir/round$round.txt
      apps_load >"$dir/round$round.load"
      wrk -t 2 -c 16 -d "${apps_duration}s" --latency "http://127.0.0.1:$app_port/$f.bin" >"$txt" 2>&1 ||
        die "wrk on $guest $server /$f.bin: $(tail -3 "$txt")"
      say "apps [$guest $server round $round] wrk /$f.bin x16: $(grep -E 'Requests/sec' "$txt" | tr -s ' ') (load $(cat "$dir/round$round.load"))"
    done
  else
    for p in 1 16; do
      local n=$((apps_requests * (p == 1 ? 1 : 5)))
      dir=$out/apps/$guest-$server/redis-benchmark-P$p-c50; mkdir -p "$dir"; txt=$dir/round$round.txt
      apps_load >"$dir/round$round.load"
      # Not --csv: the 250 ms progress lines show stalls (see apps_report.py).
      # A run still waiting for clients after 60 s is stopped there, and one
      # that a reset connection ended is kept too: both are data (tabled and
      # flagged, the reason in round<N>.err).
      set +e
      timeout 60 redis-benchmark -p "$app_port" -c 50 -n "$n" -P "$p" -t set,get >"$txt" 2>"$dir/round$round.err"
      local rc=$?
      set -e
      [ $rc -eq 124 ] && echo "stopped after 60 s" >>"$dir/round$round.err"
      say "apps [$guest $server round $round] redis-benchmark -c 50 -P $p: $(tr '\r' '\n' <"$txt" | grep -E 'throughput summary' | tr -s ' ' | tr '\n' ' ')$([ $rc -ne 0 ] && echo "ended early: $(tail -1 "$dir/round$round.err") ")(load $(cat "$dir/round$round.load"))"
      if ! kill -0 "$app_pid" 2>/dev/null; then
        echo "$guest $server, round $round: the guest stopped during redis-benchmark -P $p" >>"$out/apps/incidents.txt"
        app_stop
        return 0
      fi
    done
    # The server still holds what SET wrote (redis-benchmark's key, 3 bytes).
    [ "$(redis-cli -p "$app_port" strlen key:__rand_int__ 2>/dev/null)" = 3 ] ||
      echo "$guest $server, round $round: key:__rand_int__ is not the 3 bytes SET wrote" >>"$out/apps/incidents.txt"
  fi
  kill -0 "$app_pid" 2>/dev/null || echo "$guest $server, round $round: the guest stopped" >>"$out/apps/incidents.txt"
  app_stop
}

apps_phase() {
  local guests=(ringlet) round guest server
  [ "$linux" -eq 1 ] && guests+=(linux)
  mkdir -p "$out/apps"
  [ "$do_tput" -eq 1 ] || apps_rounds=0
  for round in $(seq 1 "$apps_rounds"); do
    for guest in "${guests[@]}"; do
      for server in $(apps_servers "$guest"); do apps_throughput "$guest" "$server" "$round"; done
    done
  done
  if [ "$do_icount" -eq 1 ]; then
    for guest in "${guests[@]}"; do
      for server in $(apps_servers "$guest"); do apps_icount "$guest" "$server"; done
    done
  fi
}
