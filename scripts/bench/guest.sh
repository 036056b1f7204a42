# shellcheck shell=bash disable=SC2154  # $root, $rv_build, $mem, $loadgen, $linux_* come from bench.sh
# Sourced by scripts/bench.sh: boots one benchmark guest at a time. Both
# guests get the same QEMU command line except for the kernel, the initrd and
# the kernel arguments, so machine, harts, memory and netdev are the same by
# construction.
#
#   guest_start GUEST SMP ICOUNT STATS_N LOG   GUEST = ringlet | linux; ICOUNT 0|1;
#                                             STATS_N = requests per instret
#                                             report (0: none). Sets guest_port,
#                                             guest_pid, guest_log; waits for
#                                             the echo server.
#   guest_probe                               0 when it echoes UDP and TCP now
#   guest_alive / guest_stop
#   guest_icount_regex GUEST                  the console line with the figure
# Needs $root, $rv_build, $mem, $linux_IMAGE/$linux_INITRD (for linux), say, die.

# shellcheck source=tests/qemu/net_boot.sh
source "$root/tests/qemu/net_boot.sh"  # free_port
# shellcheck source=scripts/qemu_cpu.sh
source "$root/scripts/qemu_cpu.sh"  # RINGLET_QEMU_CPU, for both guests

guest_pid=""
guest_port=""
guest_log=""

guest_icount_regex() {
  case "$1" in
    ringlet) echo '^echo: [0-9]+ requests, [0-9]+ instructions per request' ;;
    linux) echo '^echo-init: instret [0-9]+ requests [0-9]+ instructions [0-9.]+ per request' ;;
  esac
}

guest_start() {
  local guest=$1 smp=$2 icount=$3 stats=$4 kernel initrd append ready
  guest_log=$5
  case "$guest" in
    ringlet)
      kernel=$rv_build/Image initrd=$rv_build/initrd.cpio
      append="init=echo:--udp:5555:--tcp:5555"
      [ "$stats" -gt 0 ] && append+=":--stats:$stats"
      ready="libos: network up" ;;
    linux)
      kernel=$linux_IMAGE initrd=$linux_INITRD
      append="console=ttyS0 quiet report_every=$([ "$stats" -gt 0 ] && echo "$stats" || echo 1000000000)"
      ready="echo-init: echo on UDP and TCP port" ;;
    *) die "unknown guest $guest" ;;
  esac
  guest_port=$(free_port)
  # The same machine and CPU for both guests; only kernel, initrd and append differ.
  # shellcheck disable=SC2054  # the commas belong to QEMU option values
  local qemu=(qemu-system-riscv64 -machine virt -cpu "$RINGLET_QEMU_CPU" -smp "$smp" -m "$mem" -bios default
              -kernel "$kernel" -initrd "$initrd" -append "$append"
              -display none -serial stdio -monitor none
              -global virtio-mmio.force-legacy=false
              -netdev "user,id=net0,hostfwd=udp:127.0.0.1:$guest_port-:5555,hostfwd=tcp:127.0.0.1:$guest_port-:5555"
              -device virtio-net-device,netdev=net0)
  [ "$icount" -eq 1 ] && qemu+=(-icount shift=0)
  echo "${qemu[*]}" >"$guest_log.cmd"
  "${qemu[@]}" </dev/null >"$guest_log" 2>&1 &
  guest_pid=$!
  trap guest_stop EXIT

  for _ in $(seq 1 1200); do
    grep -q "$ready" "$guest_log" && break
    guest_alive || die "$guest exited while booting; console: $(tail -5 "$guest_log")"
    sleep 0.1
  done
  grep -q "$ready" "$guest_log" || { guest_stop; die "$guest did not serve within 120 s; see $guest_log"; }
  # Warm-up outside the measurement: ARP, the first TCP connection, caches.
  guest_probe || { guest_stop; die "$guest does not echo UDP and TCP on port $guest_port; see $guest_log"; }
}

# Whether the guest echoes a few UDP datagrams and TCP messages right now.
guest_probe() {
  "$loadgen" --proto udp --port "$guest_port" --requests 20 --no-progress >/dev/null 2>&1 &&
    "$loadgen" --proto tcp --port "$guest_port" --requests 20 --no-progress >/dev/null 2>&1
}

guest_alive() { [ -n "$guest_pid" ] && kill -0 "$guest_pid" 2>/dev/null; }

# Stops the QEMU this script started (by its pid, nothing else).
guest_stop() {
  [ -n "$guest_pid" ] || return 0
  kill "$guest_pid" 2>/dev/null || true
  wait "$guest_pid" 2>/dev/null || true
  guest_pid=""
}
