# Shared by scaling.sh and scaling_profile.sh (sourced, not run).

# scaling_netns SCRIPT ARGS...: with --tap, runs SCRIPT again inside a
# private network namespace (once), with its loopback up.
scaling_netns() {
  if [ "${RINGLET_SCALING_NS:-}" != 1 ]; then
    RINGLET_SCALING_NS=1 exec unshare -n -- "$@"
  fi
  ip link set lo up
}

# scaling_tap HARTS: a fresh tap0 at 10.0.2.2/24 for a guest on HARTS harts.
# QEMU opens a tap as multiqueue only for queues > 1, and the kernel refuses
# a multi_queue tap opened otherwise: a new one per boot.
scaling_tap() {
  ip link del tap0 2>/dev/null || true
  if [ "$1" -gt 1 ]; then ip tuntap add dev tap0 mode tap multi_queue; else ip tuntap add dev tap0 mode tap; fi
  ip addr add 10.0.2.2/24 dev tap0
  ip link set tap0 up
}

# scaling_quiet FILE SECONDS: returns once FILE has kept its size for half
# a second (the guest's exec log: the guest is idle), or after SECONDS.
scaling_quiet() {
  local size prev=-1 same=0 n
  for ((n = 0; n < $2 * 10 && same < 5; ++n)); do
    size=$(stat -c %s "$1" 2>/dev/null || echo 0)
    if [ "$size" = "$prev" ]; then same=$((same + 1)); else same=0; prev=$size; fi
    sleep 0.1
  done
}
