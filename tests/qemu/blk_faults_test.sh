#!/usr/bin/env bash
# The storage queue on a disk whose host side fails requests: QEMU's blkdebug
# driver under the raw image fails one write (sector 2056) and the first read
# of sector 2064, once each; the device reports them as VIRTIO_BLK_S_IOERR.
# `blkcheck faults` (user/blkcheck/faults.cc) writes and verifies its pattern,
# then checks that exactly those operations end in EIO while the ones in
# flight with them succeed, that the same read again returns the acknowledged
# bytes, that the failed write works when repeated, and that the pattern is
# intact at the end. A boot on the same image without blkdebug then finds
# the pattern too.
# Needs RINGLET_RISCV_BUILD (Image and initrd.cpio with blkcheck).
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
: "${RINGLET_RISCV_BUILD:?set RINGLET_RISCV_BUILD to the riscv64 build directory}"

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
img=$dir/disk.img
truncate -s 16M "$img"
seed=$(( (RANDOM << 15 | RANDOM) + 1 ))
failed=0
fail() { echo "FAILED: $*"; failed=1; }

cat >"$dir/blkdebug.conf" <<'CONF'
[inject-error]
event = "write_aio"
sector = "2056"
errno = "5"
once = "on"

[inject-error]
event = "read_aio"
sector = "2064"
errno = "5"
once = "on"
CONF

# boot NAME ARGS [QEMU ARGS...]: one QEMU run, console (CRs stripped) in
# $dir/NAME.log, QEMU's exit code in $rc.
boot() {
  local name=$1 args=$2
  shift 2
  "$root/scripts/run-qemu.sh" --no-build --timeout 90 --append "shutdown init=blkcheck:$args" "$@" \
    >"$dir/$name.raw" 2>&1
  rc=$?
  tr -d '\r' <"$dir/$name.raw" >"$dir/$name.log"
}
has() { grep -Eq -- "$2" "$dir/$1.log" || fail "$1 boot: console lacks /$2/"; }
lacks() { ! grep -Eq -- "$2" "$dir/$1.log" || fail "$1 boot: console has /$2/"; }

boot faults "faults:$seed" -- \
  -drive "file=blkdebug:$dir/blkdebug.conf:$img,format=raw,if=none,id=disk0" -device virtio-blk-device,drive=disk0
[ $rc -eq 0 ] || fail "faults boot: exit code $rc"
has faults "^blkcheck: wrote 512 sectors, verified$"
has faults "^blkcheck: faults: write of block 0: Ok$"
has faults "^blkcheck: faults: write of block \(injected error\) 1: EIO$"
has faults "^blkcheck: faults: write of block 2: Ok$"
has faults "^blkcheck: faults: write of block 3: Ok$"
has faults "^blkcheck: faults: read of block \(injected error\) 2: EIO$"
has faults "^blkcheck: faults: read again of block 2: Ok$"
has faults "^blkcheck: faults: rewrite of block 1: Ok$"
has faults "^blkcheck: faults: read back of the rewritten block 1: Ok$"
has faults "^blkcheck: pattern intact \(512 sectors\)$"
has faults "^blkcheck: all checks passed"
has faults "^app blkcheck \(hart [0-9]+\) exited with code 0$"
lacks faults "FAILED|MISMATCH|PANIC|killed|misbehaved"  # an IOERR is an answer, not a reason to reset

boot verify "verify:$seed" --disk "$img"
[ $rc -eq 0 ] || fail "verify boot: exit code $rc"
has verify "^blkcheck: pattern intact \(512 sectors\)$"
lacks verify "FAILED|MISMATCH|PANIC"

if [ $failed -ne 0 ]; then
  for n in faults verify; do echo "---- $n boot ----"; grep -E "blkcheck|libos|PANIC|killed" "$dir/$n.log"; done
  exit 1
fi
echo "blkdebug faults: each failed request EIO, the rest intact, later requests work"
