#!/usr/bin/env bash
# blkcheck's pattern, written through the PDPIX storage queue, survives a
# restart of QEMU on the same disk image.
#
#   1. boot on a fresh image: `blkcheck write SEED` pushes (4 writes in
#      flight), flushes, pops back and verifies 512 sectors, and checks the
#      errnos of refused requests;
#   2. on the host: the image holds the pattern (header words of sectors 0
#      and 511, hash words recomputed here) and nothing past it;
#   3. boot again on the same image: `blkcheck verify SEED` finds it intact;
#   4. corrupt one sector on the host and boot again: verify must name it
#      (so step 3 could have failed) and exit non-zero.
# SEED is random per run, so a pattern left by an earlier run cannot pass.
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

# boot NAME ARGS: one QEMU run; the console (CRs stripped) in $dir/NAME.log,
# QEMU's exit code in $rc.
boot() {
  local name=$1 args=$2
  "$root/scripts/run-qemu.sh" --no-build --disk "$img" --timeout 60 --append "shutdown init=blkcheck:$args" \
    >"$dir/$name.raw" 2>&1
  rc=$?
  tr -d '\r' <"$dir/$name.raw" >"$dir/$name.log"
}
has() { grep -Eq -- "$2" "$dir/$1.log" || fail "$1 boot: console lacks /$2/"; }
lacks() { ! grep -Eq -- "$2" "$dir/$1.log" || fail "$1 boot: console has /$2/"; }
show() { echo "---- $1 boot (exit code $rc) ----"; grep -E "blkcheck|PANIC|killed" "$dir/$1.log"; }

refusals() {
  has "$1" "^blkcheck: read past capacity refused: ERANGE$"
  has "$1" "^blkcheck: read straddling the end refused: ERANGE$"
  has "$1" "^blkcheck: read at an offset near 2\^64 refused: ERANGE$"
  has "$1" "^blkcheck: write past capacity refused: ERANGE$"
  has "$1" "^blkcheck: read at a misaligned offset refused: EINVAL$"
  has "$1" "^blkcheck: read of a partial sector refused: EINVAL$"
  has "$1" "^blkcheck: write of a partial sector refused: EINVAL$"
  has "$1" "^blkcheck: demi_pop on a storage queue refused: ENOTSUP$"
  has "$1" "^blkcheck: read of the last sector: Ok$"
}

# ---- 1. write -------------------------------------------------------------
boot write "write:$seed"
[ $rc -eq 0 ] || fail "write boot: exit code $rc"
has write "^blkcheck: storage queue: 32768 sectors \(16384 KiB\), seed $seed$"
has write "^blkcheck: wrote 512 sectors, verified$"
refusals write
has write "^blkcheck: all checks passed"
has write "^app blkcheck \(hart [0-9]+\) exited with code 0$"
lacks write "FAILED|MISMATCH|PANIC"
show write

# ---- 2. the image on the host ---------------------------------------------
# The pattern's hash, as blkcheck computes it (splitmix64's finaliser); bash
# arithmetic is 64-bit two's complement, so >> needs masking to be logical.
shr() { echo $(( ($1 >> $2) & ((1 << (64 - $2)) - 1) )); }
mix() {
  local x=$(( $1 + 0x9e3779b97f4a7c15 ))
  x=$(( (x ^ $(shr $x 30)) * 0xbf58476d1ce4e5b9 ))
  x=$(( (x ^ $(shr $x 27)) * 0x94d049bb133111eb ))
  echo $(( x ^ $(shr $x 31) ))
}
word_at() { od -A n -t x8 --endian=little -j "$1" -N 8 "$img" | tr -d ' \n'; }
expect_word() {  # byte offset, expected value, what
  local got want
  got=$(word_at "$1"); want=$(printf '%016x' "$2")
  [ "$got" = "$want" ] || fail "image: $3 at byte $1 is $got, expected $want"
}
magic=$(printf '%s' RINGBLK1 | od -A n -t x8 --endian=little | tr -d ' \n')
[ "$(stat -c %s "$img")" -eq $((16 << 20)) ] || fail "image: size changed to $(stat -c %s "$img")"
for s in 0 1 300 511; do
  base=$((s * 512))
  [ "$(word_at $base)" = "$magic" ] || fail "image: sector $s lacks the RINGBLK1 magic"
  expect_word $((base + 8)) "$s" "sector $s: sector number"
  expect_word $((base + 16)) "$seed" "sector $s: seed"
  for w in 3 63; do
    expect_word $((base + 8 * w)) "$(mix $(( seed ^ $(mix $((s * 64 + w))) )))" "sector $s: word $w"
  done
done
cmp -s -n 512 -i $((512 * 512)):0 "$img" /dev/zero || fail "image: sector 512 (past the pattern) is not zero"
[ $failed -eq 0 ] && echo "image: pattern found on the host (sectors 0, 1, 300, 511; sector 512 untouched)"

# ---- 3. verify after a restart --------------------------------------------
boot verify "verify:$seed"
[ $rc -eq 0 ] || fail "verify boot: exit code $rc"
has verify "^blkcheck: pattern intact \(512 sectors\)$"
refusals verify
has verify "^blkcheck: all checks passed"
has verify "^app blkcheck \(hart [0-9]+\) exited with code 0$"
lacks verify "FAILED|MISMATCH|PANIC"
show verify

# ---- 4. a corrupted sector is caught --------------------------------------
printf 'XXXXXXXX' | dd of="$img" bs=1 seek=$((300 * 512 + 40)) conv=notrunc status=none
boot corrupt "verify:$seed"
has corrupt "^blkcheck: MISMATCH: first bad sector 300, word 5 is 0x5858585858585858, expected 0x[0-9a-f]+$"
has corrupt "^app blkcheck \(hart [0-9]+\) exited with code 1$"
lacks corrupt "pattern intact|all checks passed"
show corrupt

if [ $failed -ne 0 ]; then
  for b in write verify corrupt; do [ -f "$dir/$b.log" ] && { echo "---- $b console ----"; cat "$dir/$b.log"; }; done
  exit 1
fi
echo "ok: pattern written, found on the host, intact after a restart, corruption detected"
