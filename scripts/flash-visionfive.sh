#!/usr/bin/env bash
# Builds a StarFive VisionFive 2 SD-card image for Ringlet and writes it to a
# card, or only builds the image file. No root needed to build the image: the
# partition table and the FAT file system are made in ordinary files.
#
#   scripts/flash-visionfive.sh [options] DEVICE      build, then write to DEVICE (e.g. /dev/sdX)
#   scripts/flash-visionfive.sh [options] --image FILE    only build the image into FILE
#
#   --image FILE        build the image into FILE; write no device
#   --dry-run           print what would be done (and check DEVICE); change nothing
#   --no-build          use the kernel already built in the build directory
#   --build-dir DIR     where Image and initrd.cpio are (default $RINGLET_RISCV_BUILD or build/riscv64)
#   --kernel FILE       the kernel Image (default BUILD_DIR/Image)
#   --initrd FILE|none  the initrd (default BUILD_DIR/initrd.cpio, if it exists)
#   --bootargs "ARGS"   the kernel command line boot.scr uses (default: empty)
#   --dtb FILE          also copy FILE as ringlet.dtb: boot.scr then passes it instead of U-Boot's tree
#   --spl FILE          put FILE (the vendor u-boot-spl.bin.normal.out) in partition 1 (SD boot mode)
#   --uboot FILE        put FILE (the vendor visionfive2_fw_payload.img) in partition 2 (SD boot mode)
#   --boot-size MIB     size of the FAT boot partition in MiB (default 64)
#   --yes               do not ask before overwriting DEVICE
#   -h, --help          this text
#
# The image (GPT): partition 1 (2 MiB) and 2 (4 MiB) are where the JH7110's
# boot ROM looks for SPL and U-Boot in SD boot mode (left empty unless --spl
# and --uboot are given: in the default QSPI mode the firmware comes from the
# board's flash); partition 3 is the FAT boot partition, marked bootable,
# holding Image, initrd.cpio, boot.scr and uEnv.txt. Stock U-Boot reads
# uEnv.txt from partition 3; mainline U-Boot's distro boot runs boot.scr.
#
# A DEVICE is refused if it is not a block device, is a partition rather than
# a whole disk, holds the host's root file system, has anything mounted or
# used as swap, or is smaller than the image.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
prog=flash-visionfive.sh
board_dir=$root/arch/riscv64/board/visionfive2

# GPT partition type GUIDs (util-linux names them "HiFive BBL", "HiFive FSBL",
# "EFI System"); the JH7110 boot ROM uses the first two in SD boot mode.
readonly kTypeSpl=2E54B353-1271-4842-806F-E436D6AF6985
readonly kTypeUboot=5B193300-FC78-40CD-8002-E86C45580B47
readonly kTypeEsp=C12A7328-F81F-11D2-BA4B-00A0C93EC93B
# Layout in 512-byte sectors: SPL at 2 MiB, U-Boot at 4 MiB, FAT at 8 MiB.
readonly kSplStart=4096 kSplSectors=4096 kUbootStart=8192 kUbootSectors=8192 kBootStart=16384

usage() { sed -n '2,32p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
die() { echo "$prog: $*" >&2; exit 1; }
note() { echo "$prog: $*" >&2; }

image="" device="" dry_run=0 build=1 build_dir=${RINGLET_RISCV_BUILD:-$root/build/riscv64}
kernel="" initrd="" bootargs="" dtb="" spl="" uboot="" boot_mib=64 assume_yes=0
while [ $# -gt 0 ]; do
  case "$1" in
    --image) [ $# -ge 2 ] || die "--image needs a file name"; image=$2; shift 2 ;;
    --dry-run) dry_run=1; shift ;;
    --no-build) build=0; shift ;;
    --build-dir) [ $# -ge 2 ] || die "--build-dir needs a directory"; build_dir=$2; shift 2 ;;
    --kernel) [ $# -ge 2 ] || die "--kernel needs a file"; kernel=$2; shift 2 ;;
    --initrd) [ $# -ge 2 ] || die "--initrd needs a file or 'none'"; initrd=$2; shift 2 ;;
    --bootargs) [ $# -ge 2 ] || die "--bootargs needs a value (\"\" for none)"; bootargs=$2; shift 2 ;;
    --dtb) [ $# -ge 2 ] || die "--dtb needs a file"; dtb=$2; shift 2 ;;
    --spl) [ $# -ge 2 ] || die "--spl needs a file"; spl=$2; shift 2 ;;
    --uboot) [ $# -ge 2 ] || die "--uboot needs a file"; uboot=$2; shift 2 ;;
    --boot-size) [ $# -ge 2 ] || die "--boot-size needs a size in MiB"; boot_mib=$2; shift 2 ;;
    --yes) assume_yes=1; shift ;;
    -h|--help) usage 0 ;;
    -*) echo "$prog: unknown option '$1'" >&2; usage 2 ;;
    *) [ -z "$device" ] || die "only one DEVICE, got '$device' and '$1'"; device=$1; shift ;;
  esac
done

if [ -n "$image" ] && [ -n "$device" ]; then die "give either DEVICE or --image FILE, not both"; fi
if [ -z "$image" ] && [ -z "$device" ]; then echo "$prog: no DEVICE and no --image FILE" >&2; usage 2; fi
case "$boot_mib" in ''|*[!0-9]*) die "--boot-size must be a whole number of MiB" ;; esac
[ "$boot_mib" -ge 16 ] || die "--boot-size must be at least 16 (MiB)"
case "$bootargs" in *\'*|*$'\n'*|*\\*) die "--bootargs cannot contain quotes, backslashes or newlines (U-Boot script quoting)" ;; esac
for tool in sfdisk mkfs.vfat mcopy mdir mkimage; do
  command -v "$tool" >/dev/null || die "$tool not found (apt-get install fdisk dosfstools mtools u-boot-tools)"
done

# Prints a command (shell-quoted) in --dry-run mode, runs it otherwise.
run() {
  if [ $dry_run -eq 1 ]; then
    printf '+'; printf ' %q' "$@"; printf '\n'
  else
    "$@"
  fi
}
# The same, with the command's own output dropped when it runs.
run_quiet() {
  if [ $dry_run -eq 1 ]; then run "$@"; else "$@" >/dev/null; fi
}

# ---- the device checks (read-only; also done in --dry-run) ---------------

# The whole disks under the file system mounted at /, one path per line.
root_disks() {
  local src majmin name
  src=$(findmnt -nro SOURCE / 2>/dev/null || true)
  src=${src%%\[*}  # btrfs subvolume suffix: /dev/sda2[/@]
  if [ -n "$src" ] && [ -b "$src" ]; then
    lsblk -nrpso NAME,TYPE -- "$src" 2>/dev/null | awk '$2 == "disk" || $2 == "loop" { print $1 }'
  fi
  majmin=$(findmnt -nro MAJ:MIN / 2>/dev/null || true)
  if [ -n "$majmin" ] && [ -e "/sys/dev/block/$majmin" ]; then
    name=$(basename "$(readlink -f "/sys/dev/block/$majmin")")
    [ -b "/dev/$name" ] && lsblk -nrpso NAME,TYPE -- "/dev/$name" 2>/dev/null |
      awk '$2 == "disk" || $2 == "loop" { print $1 }'
  fi
  return 0
}

# Refuses (exits) unless $1 is a whole, unused disk that can hold $2 bytes.
check_device() {
  local dev=$1 need=$2 real type disk name used="" size
  [ -e "$dev" ] || die "$dev does not exist"
  [ -b "$dev" ] || die "$dev is not a block device; to build an image file use --image FILE"
  real=$(readlink -f -- "$dev")
  command -v lsblk >/dev/null && command -v findmnt >/dev/null ||
    die "lsblk and findmnt are needed to check $dev (apt-get install util-linux mount)"
  type=$(lsblk -dno TYPE -- "$real" 2>/dev/null || true)
  case "$type" in
    disk|loop) ;;
    part) die "$dev is a partition; give the whole card (e.g. /dev/sdX or /dev/mmcblkN)" ;;
    '') die "lsblk does not know $dev; refusing to write to it" ;;
    *) die "$dev is a '$type' device, not a whole disk; refusing to write to it" ;;
  esac
  local roots
  roots=$(root_disks)
  if [ -z "$roots" ]; then
    note "warning: cannot tell which disk holds / (root is $(findmnt -nro SOURCE / 2>/dev/null || echo unknown))"
  fi
  for disk in $roots; do
    [ "$(readlink -f -- "$disk")" = "$real" ] &&
      die "$dev is the host's root disk (it holds the file system mounted at /); refusing to write to it"
  done
  # Anything on the disk or its partitions mounted or used as swap.
  while read -r name; do
    [ -n "$name" ] || continue
    if findmnt -rn --source "$name" >/dev/null 2>&1; then
      used+=" $name (mounted on $(findmnt -rno TARGET --source "$name" | head -n1))"
    elif awk -v d="$name" 'NR > 1 && $1 == d { found = 1 } END { exit !found }' /proc/swaps 2>/dev/null; then
      used+=" $name (swap)"
    fi
  done < <(lsblk -nrpo NAME -- "$real")
  [ -z "$used" ] || die "$dev is in use:$used; unmount it first (e.g. udisksctl unmount -b ...) and run again"
  size=$(lsblk -bdno SIZE -- "$real" | tr -d " ")
  [ "$size" -ge "$need" ] || die "$dev holds $size bytes, less than the image's $need"
  if [ ! -w "$real" ]; then
    if [ $dry_run -eq 1 ]; then note "note: $dev is not writable by you; the real run needs sudo"
    else die "cannot write to $dev (permission denied): run with sudo, or join the 'disk' group"; fi
  fi
}

# ---- the image ------------------------------------------------------------

image_bytes=$(( (kBootStart + boot_mib * 2048 + 2048) * 512 ))  # + 1 MiB for the backup GPT
if [ -n "$device" ]; then
  check_device "$device" "$image_bytes"
  # Asked before the build, so nobody has to wait at the terminal for it.
  if [ $dry_run -eq 0 ] && [ $assume_yes -eq 0 ]; then
    [ -t 0 ] || die "refusing to overwrite $device without confirmation: run in a terminal or pass --yes"
    describe=$(lsblk -dno MODEL,SIZE,TRAN -- "$(readlink -f -- "$device")" 2>/dev/null | tr -s ' ' || true)
    printf '%s: this ERASES %s (%s). Type yes to go on: ' "$prog" "$device" "${describe:-unknown disk}" >&2
    read -r answer
    [ "$answer" = yes ] || die "not confirmed; $device left alone"
  fi
fi

if [ $build -eq 1 ]; then
  if [ "$(readlink -f -- "$build_dir")" = "$root/build/riscv64" ]; then
    (cd "$root" && run_quiet cmake --preset riscv64 && run cmake --build --preset riscv64 -- -j"$(nproc)") ||
      die "building the kernel failed (see above); --no-build takes the Image already in $build_dir"
  else
    run cmake --build "$build_dir" -- -j"$(nproc)" ||
      die "building $build_dir failed (see above); --no-build takes the Image already there"
  fi
fi
[ -n "$kernel" ] || kernel=$build_dir/Image
if [ -z "$initrd" ]; then
  initrd=$build_dir/initrd.cpio
  [ -f "$initrd" ] || { [ $dry_run -eq 1 ] && [ $build -eq 1 ]; } || initrd=none
fi

# Refuses a kernel without the Linux RISC-V Image header booti needs.
check_kernel() {
  [ -f "$kernel" ] || die "no kernel Image at $kernel (build it, or give --kernel FILE)"
  local magic
  magic=$(od -An -tx1 -j 56 -N 4 -- "$kernel" | tr -d ' \n')
  [ "$magic" = 52534305 ] ||
    die "$kernel has no RISC-V Image header (no 'RSC\\x05' at 0x38): booti would refuse it; use build/riscv64/Image, not the ELF"
}
check_file() {  # check_file WHAT FILE [MAX_BYTES]
  [ -f "$2" ] || die "$1 $2 does not exist"
  [ -z "${3:-}" ] || [ "$(stat -c %s -- "$2")" -le "$3" ] || die "$1 $2 is larger than its $(( $3 >> 20 )) MiB partition"
}
if [ $dry_run -eq 0 ] || [ $build -eq 0 ]; then check_kernel; fi
if [ "$initrd" != none ] && { [ $dry_run -eq 0 ] || [ $build -eq 0 ]; }; then check_file initrd "$initrd"; fi
[ -z "$dtb" ] || check_file "device tree" "$dtb"
[ -z "$spl" ] || check_file SPL "$spl" $(( kSplSectors * 512 ))
[ -z "$uboot" ] || check_file U-Boot "$uboot" $(( kUbootSectors * 512 ))

if [ -n "$image" ]; then
  [ ! -b "$image" ] || die "$image is a block device; write devices with '$prog $image', not --image"
  [ ! -e "$image" ] || [ -f "$image" ] || die "$image exists and is not a regular file"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/ringlet-sd.XXXXXX")
trap 'rm -rf "$work"' EXIT
out=${image:-$work/sdcard.img}
tmp_out=$out.partial.$$
[ -n "$image" ] || tmp_out=$out

# The files of the boot partition.
{
  printf "setenv ringlet_default_bootargs '%s'\n" "$bootargs"
  cat "$board_dir/boot.cmd"
} >"$work/boot.cmd"
run_quiet mkimage -A riscv -O linux -T script -C none -n "Ringlet boot script" -d "$work/boot.cmd" "$work/boot.scr"
boot_files=("$kernel" "$work/boot.scr" "$board_dir/uEnv.txt")
[ "$initrd" = none ] || boot_files+=("$initrd")
if [ $dry_run -eq 0 ]; then
  total=0
  for f in "${boot_files[@]}" ${dtb:+"$dtb"}; do total=$(( total + $(stat -c %s -- "$f") )); done
  [ $(( total + (1 << 20) )) -le $(( boot_mib << 20 )) ] ||
    die "the boot files ($(( total >> 20 )) MiB) do not fit a ${boot_mib} MiB boot partition; use --boot-size"
fi

# The FAT file system, built in its own file and then placed at partition 3.
fat=$work/boot.fat
run_quiet mkfs.vfat -C -n RINGLET --invariant "$fat" $(( boot_mib * 1024 ))
run mcopy -i "$fat" -o "$kernel" ::Image
run mcopy -i "$fat" -o "$work/boot.scr" ::boot.scr
run mcopy -i "$fat" -o "$board_dir/uEnv.txt" ::uEnv.txt
[ "$initrd" = none ] || run mcopy -i "$fat" -o "$initrd" ::initrd.cpio
[ -z "$dtb" ] || run mcopy -i "$fat" -o "$dtb" ::ringlet.dtb

# The partition table, in the image file.
table="label: gpt
start=$kSplStart, size=$kSplSectors, type=$kTypeSpl, name=\"spl\"
start=$kUbootStart, size=$kUbootSectors, type=$kTypeUboot, name=\"uboot\"
start=$kBootStart, size=$(( boot_mib * 2048 )), type=$kTypeEsp, name=\"boot\", attrs=\"LegacyBIOSBootable\""
run rm -f "$tmp_out"
run truncate -s "$image_bytes" "$tmp_out"
if [ $dry_run -eq 1 ]; then
  printf '+ sfdisk --quiet %q <<EOF\n%s\nEOF\n' "$tmp_out" "$table"
else
  sfdisk --quiet --no-reread --no-tell-kernel "$tmp_out" <<<"$table" >/dev/null
fi
run dd if="$fat" of="$tmp_out" bs=512 seek=$kBootStart conv=notrunc,sparse status=none
[ -z "$spl" ] || run dd if="$spl" of="$tmp_out" bs=512 seek=$kSplStart conv=notrunc status=none
[ -z "$uboot" ] || run dd if="$uboot" of="$tmp_out" bs=512 seek=$kUbootStart conv=notrunc status=none
if [ "$tmp_out" != "$out" ]; then run mv -f "$tmp_out" "$out"; fi

if [ $dry_run -eq 0 ]; then
  echo "$prog: image $out ($(( image_bytes >> 20 )) MiB):"
  sfdisk --list "$out" | sed -n '/^Device/,$p'
  echo "boot partition (3):"
  mdir -i "$out@@$(( kBootStart * 512 ))" -b :: | sed 's|^::/|  |'
fi
[ -n "$device" ] || exit 0

# ---- writing the card -------------------------------------------------------

real=$(readlink -f -- "$device")
run dd if="$out" of="$real" bs=4M conv=fsync status=progress
# The image's backup GPT sits at the image's end: move it to the card's end.
run sfdisk --quiet --relocate gpt-bak-std "$real"
run sync
[ $dry_run -eq 1 ] || echo "$prog: $device written; it boots Ringlet on the VisionFive 2 (serial 115200 8N1)"
