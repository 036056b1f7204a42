# Sourced by the network QEMU tests: boots Ringlet with host port forwards and
# waits for the app to bring the network up.
#
#   port=$(free_port)
#   net_boot_start TIMEOUT NET_SPEC APPEND   sets $log and $qemu_pid, and an
#                                            EXIT trap that stops QEMU
#   net_boot_wait                            0 once "libos: network up" shows

# A port below Linux's ephemeral range (32768-60999 by default): a
# client's outgoing connection (loadgen, curl, ...) can hold a port there
# that `ss -l` does not list, and QEMU's host forward then cannot bind it.
free_port() {
  local p
  for _ in $(seq 1 50); do
    p=$((20000 + RANDOM % 12000))
    if ! ss -Hltun 2>/dev/null | awk '{print $5}' | grep -q ":$p\$"; then echo "$p"; return; fi
  done
  echo 24999
}

net_boot_cleanup() {
  # QEMU runs under `timeout --foreground`, which does not pass a kill on to
  # it: stop QEMU itself (its command line names our port), then the rest.
  pkill -f "hostfwd=[a-z]*:127.0.0.1:$port-" 2>/dev/null
  kill "$qemu_pid" 2>/dev/null
  wait "$qemu_pid" 2>/dev/null
  rm -f "$log" "$log.txt"
}

net_boot_start() {
  log=$(mktemp)
  trap net_boot_cleanup EXIT
  # net_boot_smp=N (optional): harts, for the multi-core tests.
  "$root/scripts/run-qemu.sh" --no-build --smp "${net_boot_smp:-1}" --timeout "$1" --net "$2" --append "$3" \
    >"$log" 2>&1 &
  qemu_pid=$!
}

net_boot_wait() {
  for _ in $(seq 1 300); do
    grep -q "libos: network up" "$log" && return 0
    kill -0 "$qemu_pid" 2>/dev/null || return 1
    sleep 0.1
  done
  grep -q "libos: network up" "$log"
}
