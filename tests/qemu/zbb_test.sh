#!/usr/bin/env bash
# qemu.zbb (tests/qemu/zbb.cmake): the two ways count-trailing-zeros is built,
# read from the binaries, and a boot of the Zbb build.
#   RINGLET_RISCV_BUILD      the plain rv64gc build (preset riscv64)
#   RINGLET_RISCV_ZBB_BUILD  the Zbb build (preset riscv64-zbb)
# Exit 77 (ctest: skipped) when the Zbb build does not exist.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
plain=${RINGLET_RISCV_BUILD:?}
zbb=${RINGLET_RISCV_ZBB_BUILD:?}
if [ ! -f "$zbb/Image" ]; then
  echo "SKIP: no Zbb build at $zbb (cmake --preset riscv64-zbb && cmake --build --preset riscv64-zbb)"
  exit 77
fi
objdump=riscv64-linux-gnu-objdump

failed=0
fail() { echo "FAILED: $*"; failed=1; }
# Whether the disassembly of ELF $1 has a line matching the Perl regex $2
# (grep reads it all: with -q, objdump's SIGPIPE would fail the pipeline).
has() { "$objdump" -d "$1" | grep -P -- "$2" >/dev/null; }

ctz_insn='^\s*[0-9a-f]+:\s+[0-9a-f]+\s+ctzw?\s'
for elf in user/microbench/microbench.elf user/echo/echo.elf arch/riscv64/ringlet.elf; do
  for build in "$plain" "$zbb"; do
    [ -f "$build/$elf" ] || { fail "missing $build/$elf"; continue; }
    ! has "$build/$elf" '<__ctzdi2>' || fail "$build/$elf uses libgcc's __ctzdi2"
  done
  # A ctz in the plain build would be an illegal instruction on rv64gc.
  ! has "$plain/$elf" "$ctz_insn" || fail "$plain/$elf (rv64gc) has a ctz instruction"
done
# The executor's pick-next and the virtqueue allocators use it.
for elf in user/microbench/microbench.elf user/echo/echo.elf; do
  has "$zbb/$elf" "$ctz_insn" || fail "$zbb/$elf (Zbb) has no ctz instruction"
done

RINGLET_RISCV_BUILD=$zbb BOOT_TIMEOUT=60 "$root/tests/qemu/expect_boot.sh" --exit 0 \
  --has "^microbench: syscall round trip: [0-9]+ instructions$" \
  --has "^microbench: yield round trip: [0-9]+ instructions$" \
  --has "^microbench: spawn \\+ run \\+ complete: [0-9]+ instructions$" \
  --has "^app microbench \\(hart 0\\) exited with code 0$" --lacks PANIC --lacks killed \
  -- --icount --smp 1 --append "shutdown init=microbench" || failed=1

[ $failed -eq 0 ] && echo "ok: ctz as built, Zbb microbench boots"
exit $failed
