#!/usr/bin/env bash
# One app on the network and the disk at once: `blkcheck serve:5555` writes
# every UDP datagram to the virtio-blk disk through its PDPIX storage queue,
# reads it back from there and answers with what it read. Host clients are
# socat processes through QEMU's user networking:
#
#   1. 40 datagrams one after another, sizes 1..1472 (sector multiples and
#      not), each answered with exactly what was sent;
#   2. 16 clients at once (the network delivers while the disk is busy);
#   3. QUIT: the app flushes, answers "BYE 56", exits 0, the machine powers off;
#   4. on the host, the image holds every datagram of phase 1 at its slot
#      (byte 1 MiB + n * 4 KiB), zero-padded to whole sectors, and every one
#      of phase 2 in one of the slots that follow.
# Needs RINGLET_RISCV_BUILD (Image and initrd.cpio with blkcheck), socat.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
: "${RINGLET_RISCV_BUILD:?set RINGLET_RISCV_BUILD to the riscv64 build directory}"

dir=$(mktemp -d)
img=$dir/disk.img
log=$dir/console.log
qemu_pid=
cleanup() {
  # run-qemu.sh runs in its own process group (setsid): stop all of it.
  [ -n "$qemu_pid" ] && kill -- "-$qemu_pid" 2>/dev/null
  rm -rf "$dir"
}
trap cleanup EXIT
truncate -s 16M "$img"
failed=0
fail() { echo "FAILED: $*"; failed=1; }
port=$(python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

setsid "$root/scripts/run-qemu.sh" --no-build --timeout 240 --net "udp:$port:5555" --disk "$img" \
  --append "shutdown init=blkcheck:serve:5555" </dev/null >"$log" 2>&1 &
qemu_pid=$!
for _ in $(seq 1 300); do
  grep -q "^blkcheck: serving UDP port 5555" "$log" && break
  kill -0 "$qemu_pid" 2>/dev/null || break
  sleep 0.1
done
grep -q "^blkcheck: serving UDP port 5555" "$log" || { cat "$log"; echo "FAILED: blkcheck did not start serving"; exit 1; }

# payload FILE SIZE: SIZE printable random bytes.
payload() { head -c $(( $2 * 2 )) /dev/urandom | base64 -w0 | head -c "$2" >"$1"; }
# ask FILE [LEN]: one request; the answer (LEN bytes expected, default the
# request's size: socat ends once they arrived) in FILE.got.
ask() {
  local len=${2:-$(stat -c %s "$1")}
  socat -t 10 -T 10 - "UDP:127.0.0.1:$port,readbytes=$len" <"$1" >"$1.got" 2>/dev/null
}

# ---- 1. one after another -------------------------------------------------
sizes=(1 37 511 512 513 1024 1400 1472)
n1=40
for i in $(seq 0 $((n1 - 1))); do
  payload "$dir/seq$i" "${sizes[i % ${#sizes[@]}]}"
  ask "$dir/seq$i"
  cmp -s "$dir/seq$i" "$dir/seq$i.got" || fail "request $i ($(stat -c %s "$dir/seq$i") bytes): answer differs"
done
[ $failed -eq 0 ] && echo "ok: $n1 datagrams of 1..1472 bytes went to disk and came back"

# ---- 2. sixteen at once ---------------------------------------------------
n2=16
pids=()
for i in $(seq 0 $((n2 - 1))); do
  payload "$dir/par$i" $(( 200 + 77 * i ))
  ask "$dir/par$i" &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
for i in $(seq 0 $((n2 - 1))); do
  cmp -s "$dir/par$i" "$dir/par$i.got" || fail "concurrent request $i: answer differs"
done
[ $failed -eq 0 ] && echo "ok: $n2 concurrent clients answered from the disk"

# ---- 3. quit --------------------------------------------------------------
printf QUIT >"$dir/quit"
bye="BYE $((n1 + n2))"
ask "$dir/quit" ${#bye}
[ "$(cat "$dir/quit.got")" = "$bye" ] || fail "QUIT answered '$(cat "$dir/quit.got")', expected '$bye'"
rc=
for _ in $(seq 1 300); do
  if ! kill -0 "$qemu_pid" 2>/dev/null; then wait "$qemu_pid"; rc=$?; break; fi
  sleep 0.1
done
qemu_pid=
[ "$rc" = 0 ] || fail "QEMU exit code '${rc:-still running}', expected 0 (clean power-off)"
tr -d '\r' <"$log" >"$log.txt"
has() { grep -Eq -- "$1" "$log.txt" || fail "console lacks /$1/"; }
has "^libos: network up"
has "^blkcheck: served $((n1 + n2)) requests, 0 FAILED$"
has "^app blkcheck \(hart [0-9]+\) exited with code 0$"
! grep -Eq "FAILED: |MISMATCH|PANIC|killed" "$log.txt" || fail "console reports a failure"

# ---- 4. the image ---------------------------------------------------------
slot() { echo $(( (1 << 20) + $1 * 4096 )); }
stored() {  # FILE SLOT: the slot holds FILE, then zeros up to the sector boundary
  local size pad
  size=$(stat -c %s "$1"); pad=$(( (size + 511) / 512 * 512 - size ))
  cmp -s -n "$size" -i "$(slot "$2"):0" "$img" "$1" &&
    cmp -s -n "$pad" -i "$(( $(slot "$2") + size )):0" "$img" /dev/zero
}
for i in $(seq 0 $((n1 - 1))); do
  stored "$dir/seq$i" "$i" || fail "image: request $i is not at byte $(slot "$i")"
done
for i in $(seq 0 $((n2 - 1))); do
  found=0
  for s in $(seq $n1 $((n1 + n2 - 1))); do stored "$dir/par$i" "$s" && { found=1; break; }; done
  [ $found -eq 1 ] || fail "image: concurrent request $i is in none of slots $n1..$((n1 + n2 - 1))"
done
[ $failed -eq 0 ] && echo "ok: the image holds every datagram at its slot"

grep -E "blkcheck|libos|PANIC" "$log.txt"
if [ $failed -ne 0 ]; then
  echo "---- console ----"; cat "$log.txt"
  exit 1
fi
echo "ok: one app served the network from the disk"
