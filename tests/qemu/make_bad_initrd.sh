#!/usr/bin/env bash
# make_bad_initrd.sh GOOD_APP.elf OUT.cpio: an initrd of apps the loader must
# refuse, each made from a good app by changing one field:
#   not_elf       - text, not ELF
#   truncated     - the first 100 bytes of the app
#   wx_segment    - its first segment made writable and executable
#   kernel_vaddr  - its first segment placed at a kernel address
#   ok            - the good app itself, which must still run
set -euo pipefail
good=$1 out=$2
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

# The patches assume the first program header is PT_LOAD at offset 64.
readelf -lW "$good" | awk '/Program Headers/{getline; getline; print $1; exit}' | grep -qx LOAD \
  || { echo "make_bad_initrd.sh: first program header of $good is not LOAD" >&2; exit 1; }
phoff=$(od -An -t u8 -j 32 -N 8 "$good" | tr -d ' ')
[ "$phoff" = 64 ] || { echo "make_bad_initrd.sh: unexpected e_phoff $phoff" >&2; exit 1; }

echo "this is not an ELF file" >"$stage/not_elf"
head -c 100 "$good" >"$stage/truncated"
cp "$good" "$stage/wx_segment"
printf '\x07' | dd of="$stage/wx_segment" bs=1 seek=$((64 + 4)) conv=notrunc status=none
cp "$good" "$stage/kernel_vaddr"
printf '\x00\x00\x00\x00\xc0\xff\xff\xff' | dd of="$stage/kernel_vaddr" bs=1 seek=$((64 + 16)) conv=notrunc status=none
cp "$good" "$stage/ok"
(cd "$stage" && ls | LC_ALL=C sort | cpio --quiet -o -H newc) >"$out"
