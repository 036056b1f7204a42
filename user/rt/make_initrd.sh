#!/bin/sh
# make_initrd.sh OUT.cpio STAGE_DIR: packs every file of STAGE_DIR (flat, sorted
# by name) into a cpio "newc" archive, the initrd format the kernel reads.
set -eu
out=$1 stage=$2
cd "$stage"
ls | LC_ALL=C sort | cpio --quiet -o -H newc >"$out"
