# Shared by the kv QEMU tests (sourced): boot kv on Ringlet in its own process
# group with a host port forwarded to its 6379, SIGKILL it, ask it things.
# Needs RINGLET_RISCV_BUILD (Image and initrd.cpio with kv), redis-tools, python3.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
: "${RINGLET_RISCV_BUILD:?set RINGLET_RISCV_BUILD to the riscv64 build directory}"
dir=$(mktemp -d)
qemu_pid=
failed=0
fail() { echo "FAILED: $*"; failed=1; }
cleanup() {
  [ -n "$qemu_pid" ] && kill -9 -- "-$qemu_pid" 2>/dev/null
  rm -rf "$dir"
}
trap cleanup EXIT
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

# kv_boot LOG [QEMU-DISK-ARGS...]: boots kv (the disk from `--disk $img` unless
# other drive arguments are given; kv's arguments from $kv_append if set) and
# waits until it serves (or fails).
kv_boot() {
  local log=$1; shift
  local disk_args=(--disk "$img")
  [ $# -gt 0 ] && disk_args=(-- "$@")
  local args=(--no-build --timeout 300 --net "tcp:$port:6379" --append "${kv_append:-init=kv:--port:6379}")
  if [ "${disk_args[0]}" = -- ]; then args+=("${disk_args[@]}"); else args=("${disk_args[@]}" "${args[@]}"); fi
  setsid "$root/scripts/run-qemu.sh" "${args[@]}" </dev/null >"$log" 2>&1 &
  qemu_pid=$!
  for _ in $(seq 1 600); do
    grep -q "^kv: serving RESP" "$log" && return 0
    kill -0 "$qemu_pid" 2>/dev/null || break
    sleep 0.05
  done
  cat "$log"
  echo "FAILED: kv did not start serving"
  return 1
}

# kv_kill: SIGKILL to QEMU (and run-qemu.sh's timeout) at once.
kv_kill() {
  [ -n "$qemu_pid" ] && kill -9 -- "-$qemu_pid" 2>/dev/null
  [ -n "$qemu_pid" ] && wait "$qemu_pid" 2>/dev/null
  qemu_pid=
}

cli() { timeout 20 redis-cli -p "$port" --no-raw "$@" 2>&1; }

# expect WANT ARGS...: redis-cli ARGS must print exactly WANT.
expect() {
  local want=$1; shift
  local got
  got=$(cli "$@")
  [ "$got" = "$want" ] || fail "redis-cli $*: got '$got', want '$want'"
}
