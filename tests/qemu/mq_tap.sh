# Sourced by the multiqueue tap tests (net_mq, cores_mq, cores_dial tap mode),
# inside their private network namespace, after they set $log, $qemu_pid
# and $failed: the common failure helpers, cleanup, and a multiqueue tap0
# that is 10.0.2.2/24 (the guest is 10.0.2.15).
fail() { echo "FAILED: $*"; failed=1; }
cleanup() {
  if [ -n "$qemu_pid" ]; then kill "$qemu_pid" 2>/dev/null; wait "$qemu_pid" 2>/dev/null; fi
  ip link del tap0 2>/dev/null
  rm -rf "$log" ${work:+"$work"}
}
trap cleanup EXIT
trap 'exit 1' INT TERM
show_console() { echo "---- console ----"; tr -d '\r' <"$log" | tail -40; }
die() { fail "$*"; show_console; exit 1; }

ip link set lo up
ip tuntap add dev tap0 mode tap multi_queue || die "cannot create a multiqueue tap0"
ip addr add 10.0.2.2/24 dev tap0 || die "cannot give tap0 its address"
ip link set tap0 up || die "cannot bring tap0 up"
