#!/usr/bin/env bash
# Tests scripts/flash-visionfive.sh without root and without touching a disk:
#  - the image it builds (--image): GPT layout, partition types, the bootable
#    FAT partition and its files, boot.scr with the chosen bootargs;
#  - what it refuses: bad arguments, a kernel without the Image header, a
#    DEVICE that is missing, not a block device, a partition, the root disk,
#    mounted, too small, or unconfirmed.
# The device cases run with stand-ins for lsblk and findmnt that describe a
# made-up disk, and with dd, sfdisk, mkfs.vfat, mcopy and sync replaced by
# stubs that only record being called: a mistake in the script can at worst
# make this test fail, never write a disk.
#
#   tests/board/flash_visionfive_test.sh [--work DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
flash=$root/scripts/flash-visionfive.sh

work=""
while [ $# -gt 0 ]; do
  case "$1" in
    --work) work=$2; shift 2 ;;
    *) echo "flash_visionfive_test.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
done
if [ -z "$work" ]; then
  work=$(mktemp -d "${TMPDIR:-/tmp}/ringlet-flash.XXXXXX")
  trap 'rm -rf "$work"' EXIT
else
  mkdir -p "$work"
fi

failed=0
fail() { echo "FAILED: $*"; failed=1; }
ok() { echo "ok: $*"; }

# expect_fail NAME REGEX cmd...: cmd must fail and say REGEX on stderr.
expect_fail() {
  local name=$1 re=$2 rc=0
  shift 2
  "$@" >"$work/out" 2>"$work/err" </dev/null || rc=$?
  if [ $rc -eq 0 ]; then
    fail "$name: succeeded, expected a refusal"; cat "$work/out" "$work/err"
  elif ! grep -Eq -- "$re" "$work/err"; then
    fail "$name: exit $rc but stderr lacks /$re/:"; cat "$work/err"
  else
    ok "$name (exit $rc): $(head -n1 "$work/err")"
  fi
}

# A stand-in kernel: only the Image header's magic matters to the script.
kernel=$work/Image
head -c 8192 /dev/urandom >"$kernel"
printf 'RISCV\0\0\0RSC\005' | dd of="$kernel" bs=1 seek=48 conv=notrunc status=none
initrd=$work/initrd.cpio
head -c 3000 /dev/urandom >"$initrd"
dtb=$work/board.dtb
printf 'not really a dtb' >"$dtb"
common=(--no-build --kernel "$kernel" --initrd "$initrd")

# ---- the image ------------------------------------------------------------

img=$work/sd.img
if "$flash" "${common[@]}" --dtb "$dtb" --bootargs "init=hello shutdown" --image "$img" >"$work/out" 2>&1; then
  ok "--image builds $(basename "$img")"
else
  fail "--image failed:"; cat "$work/out"
fi
if [ -f "$img" ]; then
  dump=$(sfdisk --dump "$img")
  grep -q '^label: gpt$' <<<"$dump" || fail "image is not GPT"
  [ "$(grep -c 'start=' <<<"$dump")" -eq 3 ] || fail "image has not 3 partitions: $dump"
  grep -Eq 'img1 : start= +4096, size= +4096, type=2E54B353-1271-4842-806F-E436D6AF6985.*name="spl"' <<<"$dump" ||
    fail "partition 1 is not the 2 MiB SPL slot at sector 4096"
  grep -Eq 'img2 : start= +8192, size= +8192, type=5B193300-FC78-40CD-8002-E86C45580B47.*name="uboot"' <<<"$dump" ||
    fail "partition 2 is not the 4 MiB U-Boot slot at sector 8192"
  grep -Eq 'img3 : start= +16384, size= +131072, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B.*attrs="LegacyBIOSBootable"' <<<"$dump" ||
    fail "partition 3 is not the bootable 64 MiB FAT partition at 8 MiB"
  fat="$img@@$((16384 * 512))"
  files=$(mdir -i "$fat" -b :: | sort | tr '\n' ' ')
  [ "$files" = "::/Image ::/boot.scr ::/initrd.cpio ::/ringlet.dtb ::/uEnv.txt " ] || fail "boot partition holds: $files"
  for pair in "Image:$kernel" "initrd.cpio:$initrd" "ringlet.dtb:$dtb" "uEnv.txt:$root/arch/riscv64/board/visionfive2/uEnv.txt"; do
    mcopy -n -i "$fat" "::${pair%%:*}" "$work/copy"
    cmp -s "$work/copy" "${pair#*:}" || fail "${pair%%:*} on the card differs from ${pair#*:}"
    rm -f "$work/copy"
  done
  mcopy -n -i "$fat" ::boot.scr "$work/boot.scr"
  mkimage -l "$work/boot.scr" | grep -q 'Script' || fail "boot.scr is not a U-Boot script image"
  grep -aq "setenv ringlet_default_bootargs 'init=hello shutdown'" "$work/boot.scr" || fail "boot.scr lacks the bootargs line"
  grep -aq 'booti ${kernel_addr_r} ${ringlet_initrd} ${ringlet_fdt}' "$work/boot.scr" || fail "boot.scr lacks the booti line"
  ok "image layout and boot partition contents"
fi

# --spl/--uboot land at the start of partitions 1 and 2.
head -c 5000 /dev/urandom >"$work/spl.bin"; head -c 7000 /dev/urandom >"$work/payload.img"
if "$flash" "${common[@]}" --initrd none --spl "$work/spl.bin" --uboot "$work/payload.img" --image "$img" >/dev/null 2>&1; then
  cmp -s <(dd if="$img" bs=512 skip=4096 count=10 status=none | head -c 5000) "$work/spl.bin" || fail "--spl not at sector 4096"
  cmp -s <(dd if="$img" bs=512 skip=8192 count=14 status=none | head -c 7000) "$work/payload.img" || fail "--uboot not at sector 8192"
  mdir -i "$img@@$((16384 * 512))" -b :: | grep -q initrd && fail "--initrd none still put an initrd on the card"
  ok "--spl, --uboot, --initrd none"
else
  fail "--spl/--uboot image failed"
fi

# --dry-run --image prints the steps and creates nothing.
rm -f "$work/dry.img"
if "$flash" "${common[@]}" --dry-run --image "$work/dry.img" >"$work/out" 2>&1; then
  [ ! -e "$work/dry.img" ] || fail "--dry-run created the image"
  for step in mkimage mkfs.vfat mcopy truncate 'sfdisk --quiet' 'dd if='; do
    grep -q -- "^+ $step" "$work/out" || fail "--dry-run does not show '$step'"
  done
  ok "--dry-run --image shows the steps, writes nothing"
else
  fail "--dry-run --image failed:"; cat "$work/out"
fi

# ---- argument refusals ------------------------------------------------------

expect_fail "no target" 'no DEVICE and no --image' "$flash" "${common[@]}"
expect_fail "device and image" 'either DEVICE or --image' "$flash" "${common[@]}" --image "$img" /dev/sdz
expect_fail "two devices" 'only one DEVICE' "$flash" "${common[@]}" /dev/sdy /dev/sdz
expect_fail "unknown option" "unknown option '--bogus'" "$flash" --bogus
expect_fail "quote in bootargs" 'cannot contain quotes' "$flash" "${common[@]}" --bootargs "it's" --image "$img"
expect_fail "tiny boot partition" 'at least 16' "$flash" "${common[@]}" --boot-size 8 --image "$img"
head -c 4096 /dev/zero >"$work/not-an-image"
expect_fail "kernel without Image header" 'no RISC-V Image header' \
  "$flash" --no-build --kernel "$work/not-an-image" --initrd none --image "$img"
expect_fail "missing kernel" 'no kernel Image at' "$flash" --no-build --kernel "$work/nope" --image "$img"
expect_fail "SPL too large" 'larger than its 2 MiB partition' \
  bash -c "head -c 3M /dev/zero >'$work/big'; '$flash' ${common[*]} --spl '$work/big' --image '$img'"
expect_fail "boot files too large" 'do not fit a 16 MiB boot partition' \
  bash -c "head -c 17M /dev/urandom >'$work/big-initrd'; '$flash' --no-build --kernel '$kernel' --initrd '$work/big-initrd' --boot-size 16 --image '$img'"
mkdir -p "$work/adir"
expect_fail "--image on a directory" 'exists and is not a regular file' "$flash" "${common[@]}" --image "$work/adir"

# ---- device refusals --------------------------------------------------------

expect_fail "missing device" 'does not exist' "$flash" "${common[@]}" --dry-run "$work/no-such-disk"
expect_fail "regular file as device" 'is not a block device; to build an image file use --image' \
  "$flash" "${common[@]}" --dry-run "$img"
expect_fail "character device" 'is not a block device' "$flash" "${common[@]}" --dry-run /dev/null

# The rest needs some block device node to point at; what it is does not
# matter, as lsblk/findmnt are stand-ins and every writing tool is a stub.
dev=""
for d in /dev/loop0 /dev/loop* /dev/zram* /dev/vd? /dev/sd? /dev/nvme?n? /dev/mmcblk?; do
  if [ -b "$d" ]; then dev=$d; break; fi
done
if [ -z "$dev" ]; then
  echo "skipped: no block device node on this host for the device checks"
  exit $failed
fi
real=$(readlink -f "$dev")

fake=$work/fakebin
mkdir -p "$fake"
cat >"$fake/lsblk" <<'EOF'
#!/usr/bin/env bash
# Stand-in lsblk: FAKE_TYPE (default disk) with children FAKE_CHILDREN.
# Called as: lsblk -<flags>o COLUMNS -- DEVICE
[ $# -eq 4 ] && [ "$3" = -- ] || { echo "fake lsblk: unexpected '$*'" >&2; exit 1; }
cols=$2 dev=$4
case "$cols" in
  TYPE) echo "${FAKE_TYPE:-disk}" ;;
  NAME) echo "$dev"; for c in ${FAKE_CHILDREN:-}; do echo "$c"; done ;;
  NAME,TYPE) echo "$dev disk" ;;
  SIZE) echo "${FAKE_SIZE:-16000000000}" ;;
  MODEL,SIZE,TRAN) echo "Fake SD 14.9G usb" ;;
  *) echo "fake lsblk: unexpected columns '$cols'" >&2; exit 1 ;;
esac
EOF
cat >"$fake/findmnt" <<'EOF'
#!/usr/bin/env bash
# Stand-in findmnt: / is on FAKE_ROOT; FAKE_MOUNTED names are mounted on /media/card.
args="$*"
case "$args" in
  "-nro SOURCE /") echo "${FAKE_ROOT:-overlay}" ;;
  "-nro MAJ:MIN /") echo "0:99" ;;
  "-rn --source "*|"-rno TARGET --source "*)
    src=${args##* }
    for m in ${FAKE_MOUNTED:-}; do
      if [ "$m" = "$src" ]; then echo /media/card; exit 0; fi
    done
    exit 1 ;;
  *) echo "fake findmnt: unexpected '$args'" >&2; exit 1 ;;
esac
EOF
for tool in dd sfdisk mkfs.vfat mcopy sync truncate mkimage; do
  printf '#!/bin/sh\necho "%s $*" >>"%s/calls"\n' "$tool" "$work" >"$fake/$tool"
done
chmod +x "$fake"/*
fpath="$fake:$PATH"
: >"$work/calls"

expect_fail "partition" 'is a partition; give the whole card' \
  env PATH="$fpath" FAKE_TYPE=part "$flash" "${common[@]}" --dry-run "$dev"
expect_fail "rom drive" "is a 'rom' device, not a whole disk" \
  env PATH="$fpath" FAKE_TYPE=rom "$flash" "${common[@]}" --dry-run "$dev"
expect_fail "root disk" "is the host's root disk" \
  env PATH="$fpath" FAKE_ROOT="$real" "$flash" "${common[@]}" --dry-run "$dev"
expect_fail "mounted partition" "is in use: .*${real}p1 \\(mounted on /media/card\\)" \
  env PATH="$fpath" FAKE_CHILDREN="${real}p1 ${real}p2" FAKE_MOUNTED="${real}p1" "$flash" "${common[@]}" --dry-run "$dev"
expect_fail "mounted disk" "is in use: $real \\(mounted on /media/card\\)" \
  env PATH="$fpath" FAKE_MOUNTED="$real" "$flash" "${common[@]}" --dry-run "$dev"
expect_fail "too small" 'holds 1000000 bytes, less than the image' \
  env PATH="$fpath" FAKE_SIZE=1000000 "$flash" "${common[@]}" --dry-run "$dev"
expect_fail "no confirmation" 'without confirmation|permission denied' \
  env PATH="$fpath" "$flash" "${common[@]}" "$dev"
[ ! -s "$work/calls" ] || { fail "a refused run called a writing tool:"; cat "$work/calls"; }

# A disk that passes every check, in --dry-run: the plan ends with dd onto
# it and moving the backup GPT to its end, and nothing runs.
if env PATH="$fpath" FAKE_CHILDREN="${real}p1" "$flash" "${common[@]}" --dry-run "$dev" >"$work/out" 2>"$work/err"; then
  grep -q "^+ dd if=.* of=$real bs=4M conv=fsync" "$work/out" || fail "--dry-run DEVICE does not show the dd onto $real"
  grep -q "^+ sfdisk --quiet --relocate gpt-bak-std $real" "$work/out" || fail "--dry-run DEVICE does not relocate the backup GPT"
  grep -q "cannot tell which disk holds /" "$work/err" || fail "no warning when / is not on a block device"
  ok "--dry-run DEVICE on an unused whole disk shows the plan"
else
  fail "--dry-run on an acceptable disk failed:"; cat "$work/err"
fi
[ ! -s "$work/calls" ] || { fail "--dry-run called a writing tool:"; cat "$work/calls"; }

exit $failed
