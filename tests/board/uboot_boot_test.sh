#!/usr/bin/env bash
# The VisionFive 2's boot path, run in QEMU: OpenSBI -> Debian's U-Boot
# (qemu-riscv64_smode) -> the SD-card image's boot.scr -> booti -> Ringlet.
# The disk is the image scripts/flash-visionfive.sh builds for the board.
#
#   tests/board/uboot_boot_test.sh [--build DIR] [--work DIR] [--keep]
#
#   --build DIR   the riscv64 build holding Image and initrd.cpio
#                 (default $RINGLET_RISCV_BUILD or build/riscv64)
#   --work DIR    where disk images and console logs go (default: a temporary directory)
#   --keep        keep the work directory
#
# Four boots, each must power off cleanly (QEMU exit code 0):
#  1. distro boot finds boot.scr; Image and initrd through booti, bootarg
#     "shutdown": U-Boot, the banner, 4 harts online, the initrd's hello app;
#  2. the same without an initrd: boot.scr passes none and the kernel says so;
#  3. the stock VisionFive 2 U-Boot's way, typed at the U-Boot prompt: import
#     uEnv.txt from partition 3 and run its uenvcmd (pointed at virtio 0, not
#     the board's mmc 1), which runs the same boot.scr;
#  4. --dtb: a ringlet.dtb on the boot partition replaces U-Boot's own tree
#     (QEMU's tree for -m 256M while the machine has 512M: the kernel must
#     see 256M).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)

usage() { sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
build=${RINGLET_RISCV_BUILD:-$root/build/riscv64} work="" keep=0
while [ $# -gt 0 ]; do
  case "$1" in
    --build) build=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    -h|--help) usage 0 ;;
    *) echo "uboot_boot_test.sh: unknown option '$1'" >&2; usage 2 ;;
  esac
done

uboot=/usr/lib/u-boot/qemu-riscv64_smode/u-boot.bin
[ -f "$uboot" ] || { echo "uboot_boot_test.sh: $uboot missing (apt-get install u-boot-qemu)" >&2; exit 2; }
[ -f "$build/Image" ] || { echo "uboot_boot_test.sh: no kernel at $build/Image" >&2; exit 2; }
if [ -z "$work" ]; then
  work=$(mktemp -d "${TMPDIR:-/tmp}/ringlet-uboot.XXXXXX")
  [ $keep -eq 1 ] || trap 'rm -rf "$work"' EXIT
else
  mkdir -p "$work"
fi

failed=0
fail() { echo "FAILED ($case_name): $*"; case_failed=1; }
has() { grep -Eq -- "$1" "$log" || fail "console lacks /$1/"; }
lacks() { ! grep -Eq -- "$1" "$log" || fail "console has /$1/"; }
count() {
  local n
  n=$(grep -Ec -- "$1" "$log" || true)
  [ "$n" -eq "$2" ] || fail "/$1/ seen $n times, expected $2"
}

# boot NAME DISK [INPUT_FILE]: boots U-Boot with DISK as a virtio disk; sets
# $log and $rc. INPUT_FILE, if given, is typed at the serial console once
# U-Boot offers to stop autoboot.
boot() {
  case_name=$1 case_failed=0
  local disk=$2 input=${3:-}
  log=$work/$1.log
  local qemu=(qemu-system-riscv64 -M virt -smp 4 -m 512M -bios default -kernel "$uboot"
              -drive "file=$disk,format=raw,if=none,id=hd0" -device virtio-blk-device,drive=hd0
              -display none -serial stdio -monitor none)
  echo "== $case_name: ${qemu[*]}"
  set +e
  if [ -z "$input" ]; then
    timeout --foreground 120 "${qemu[@]}" </dev/null >"$log.raw" 2>&1
    rc=$?
  else
    local fifo=$work/$1.in done=$work/$1.done
    rm -f "$fifo" "$done"; mkfifo "$fifo"
    : >"$log.raw"
    (
      exec 3>"$fifo"
      for _ in $(seq 600); do
        grep -q "Hit any key to stop autoboot" "$log.raw" 2>/dev/null && break
        sleep 0.1
      done
      printf '\r' >&3
      sleep 0.5
      while IFS= read -r line; do printf '%s\r' "$line" >&3; sleep 0.2; done <"$input"
      # Hold the console open (an EOF is harmless, but keep it a terminal-like
      # session) until QEMU is gone.
      for _ in $(seq 1300); do [ -e "$done" ] && break; sleep 0.1; done
    ) >/dev/null 2>&1 &
    local feeder=$!
    timeout --foreground 120 "${qemu[@]}" <"$fifo" >"$log.raw" 2>&1
    rc=$?
    touch "$done"
    wait "$feeder" 2>/dev/null
  fi
  set -e
  tr -d '\r' <"$log.raw" >"$log"
}

# finish: reports the case's checks.
finish() {
  if [ $case_failed -ne 0 ]; then
    failed=1
    echo "---- console of $case_name (exit code $rc) ----"; cat "$log"; echo "----"
  else
    echo "ok: $case_name"
  fi
}

# Checks shared by every case: U-Boot ran our boot.scr, booti moved the Image
# to RAM + text_offset, and Ringlet came up on all four harts and powered off.
common_checks() {
  [ "$rc" -eq 0 ] || fail "QEMU exit code $rc, expected 0 (the kernel's clean shutdown)"
  has '^U-Boot 20[0-9][0-9]\.'
  has '^Ringlet: booting from virtio 0:3$'
  has '^Ringlet: Image loaded at 0x'
  has '^Moving Image from 0x[0-9a-f]+ to 0x80200000'
  has '^Starting kernel'
  has '^Ringlet [0-9.]+: an asynchronous exokernel for RISC-V'
  has '^bootargs: "shutdown"$'
  local h
  for h in 0 1 2 3; do count "^hart $h online$" 1; done
  has '^all 4 harts online$'
  lacks 'PANIC'
}

# 1. Distro boot, Image + initrd.
"$root/scripts/uboot-disk.sh" --build-dir "$build" --bootargs shutdown "$work/with-initrd.img" >/dev/null
boot distro_boot_with_initrd "$work/with-initrd.img"
common_checks
has '^Found U-Boot script /boot.scr$'
has '^Ringlet: initrd 0x[0-9a-f]+:[0-9a-f]+$'
has '^hello from U-mode on hart index 0$'
has '^app hello \(hart [0-3]\) exited with code 0$'
has '^all apps done: powering off$'
finish

# 2. Distro boot, no initrd.
"$root/scripts/uboot-disk.sh" --build-dir "$build" --initrd none --bootargs shutdown "$work/no-initrd.img" >/dev/null
boot distro_boot_no_initrd "$work/no-initrd.img"
common_checks
has '^Ringlet: initrd -$'
has '^no initrd: no apps to start$'
has '^shutdown requested: powering off$'
finish

# 3. The stock U-Boot's uEnv.txt route, typed at the prompt.
cat >"$work/uenv.keys" <<'EOF'
load virtio 0:3 ${scriptaddr} uEnv.txt
env import -t ${scriptaddr} ${filesize}
setenv ringlet_devtype virtio
setenv ringlet_devnum 0
run uenvcmd
EOF
boot uenv_txt "$work/with-initrd.img" "$work/uenv.keys"
common_checks
lacks '^Found U-Boot script'   # distro boot did not run: uenvcmd did
has '^hello from U-mode on hart index 0$'
finish

# 4. A device tree of our own on the boot partition.
qemu-system-riscv64 -M virt,dumpdtb="$work/virt-256m.dtb" -smp 4 -m 256M -bios default >/dev/null 2>&1
"$root/scripts/uboot-disk.sh" --build-dir "$build" --initrd none --bootargs shutdown \
  --dtb "$work/virt-256m.dtb" "$work/own-dtb.img" >/dev/null
boot own_dtb "$work/own-dtb.img"
common_checks
has '^Ringlet: device tree at 0x8c000000$'  # fdt_addr_r, not U-Boot's own
has '^memory: 2[0-9][0-9] MiB usable'
finish

exit $failed
