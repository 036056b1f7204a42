#!/bin/sh
# Makes COUNT renamed copies of the network stack (libos/backend/net_core.h
# says why): links OBJ... (lwIP and the net/ glue, compiled once) into one
# relocatable object, then for copy i renames every global symbol it defines
# to rnc<i>_<name>, references inside the object included. Left alone:
# GNU unique symbols ("u": C++ inline variables such as the libOS's
# thread-local counters), which must stay one object shared with the libOS.
# Everything the copies use but do not define (the libOS, the virtio
# driver, libc) stays shared code.
#   make_core_copies.sh LD NM OBJCOPY OUTDIR COUNT OBJ...
set -eu
ld=$1 nm=$2 objcopy=$3 out=$4 count=$5
shift 5
"$ld" -r -o "$out/net_core_all.o" "$@"
"$nm" --defined-only -g "$out/net_core_all.o" | awk 'NF == 3 && $2 != "u" { print $3 }' | sort -u >"$out/net_core.syms"
i=0
while [ "$i" -lt "$count" ]; do
    sed "s/.*/& rnc${i}_&/" "$out/net_core.syms" >"$out/net_core_$i.map"
    "$objcopy" --redefine-syms="$out/net_core_$i.map" "$out/net_core_all.o" "$out/net_core_$i.o"
    i=$((i + 1))
done
