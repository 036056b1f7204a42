# Sourced first by the tests that need a private network namespace (a tap
# device, addresses and routes of their own). The sourcing script is run
# again inside a new namespace, once: RINGLET_IN_NETNS marks the second run.
# Without root (unshare -n) that is a failure, said plainly (CI runs as root).
#
#   . "$(dirname "$0")/netns.sh" "$0" "$@"
if [ "${RINGLET_IN_NETNS:-}" != 1 ]; then
  if ! unshare -n true 2>/dev/null; then
    echo "FAILED: cannot create a network namespace (unshare -n): this test needs root (uid $(id -u))"
    exit 1
  fi
  RINGLET_IN_NETNS=1 exec unshare -n -- "$@"
fi
