#!/usr/bin/env bash
# Makes the disk image for booting Ringlet through U-Boot in QEMU: the very
# SD-card image the VisionFive 2 gets (scripts/flash-visionfive.sh --image),
# from the kernel already built, so QEMU runs the board's boot.scr and booti.
#
#   scripts/uboot-disk.sh [--build-dir DIR] [--initrd FILE|none] [--bootargs "ARGS"] [--dtb FILE] OUT.img
#
# Boot it with (see tests/board/uboot_boot_test.sh):
#   qemu-system-riscv64 -M virt -smp 4 -m 512M -bios default \
#     -kernel /usr/lib/u-boot/qemu-riscv64_smode/u-boot.bin \
#     -drive file=OUT.img,format=raw,if=none,id=hd0 -device virtio-blk-device,drive=hd0 \
#     -display none -serial stdio -monitor none
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

usage() { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
die() { echo "uboot-disk.sh: $*" >&2; exit 1; }

build_dir=${RINGLET_RISCV_BUILD:-$root/build/riscv64} out="" args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --build-dir) [ $# -ge 2 ] || die "--build-dir needs a directory"; build_dir=$2; shift 2 ;;
    --initrd|--bootargs|--dtb) [ $# -ge 2 ] || die "$1 needs a value"; args+=("$1" "$2"); shift 2 ;;
    -h|--help) usage 0 ;;
    -*) echo "uboot-disk.sh: unknown option '$1'" >&2; usage 2 ;;
    *) [ -z "$out" ] || die "only one output file, got '$out' and '$1'"; out=$1; shift ;;
  esac
done
[ -n "$out" ] || { echo "uboot-disk.sh: no output file" >&2; usage 2; }
[ -f "$build_dir/Image" ] || die "no kernel at $build_dir/Image: build first (cmake --preset riscv64 && cmake --build --preset riscv64)"

exec "$root/scripts/flash-visionfive.sh" --no-build --build-dir "$build_dir" "${args[@]}" --image "$out"
