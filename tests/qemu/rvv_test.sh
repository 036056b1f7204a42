#!/usr/bin/env bash
# qemu.rvv_* and perf.udp_echo_1k_profile_v (tests/qemu/rvv.cmake): the RVV
# build (preset riscv64-v) and the kernel's handling of the vector unit.
#   rvv_test.sh build      the vector loop is in the V build's ringlet_chksum,
#                          and the plain build's apps have no vector instruction
#   rvv_test.sh switch     two apps on one hart keep their vector registers
#                          across 300 switches each (both builds' kernels)
#   rvv_test.sh checksum   the vector checksum equals the scalar one in the guest
#   rvv_test.sh no-v       on a hart without V, a vector instruction ends only
#                          that app, and the kernel says why
#   rvv_test.sh perf ARGS  perf_echo_budget.sh ARGS on the V build and CPU
#   RINGLET_RISCV_BUILD      the plain rv64gc build (preset riscv64)
#   RINGLET_RISCV_RVV_BUILD  the V build (preset riscv64-v)
# Exit 77 (ctest: skipped) when the V build does not exist.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
plain=${RINGLET_RISCV_BUILD:?}
rvv=${RINGLET_RISCV_RVV_BUILD:?}
if [ ! -f "$rvv/Image" ]; then
  echo "SKIP: no V build at $rvv (cmake --preset riscv64-v && cmake --build --preset riscv64-v)"
  exit 77
fi
# QEMU 7.2's rv64 with RVV 1.0 and 128-bit vector registers.
cpu_v="rv64,v=true,vext_spec=v1.0,vlen=128,elen=64"
objdump=riscv64-linux-gnu-objdump
failed=0
fail() { echo "FAILED: $*"; failed=1; }
# The disassembly of function $2 in ELF $1.
function_text() { "$objdump" -d "$1" | awk -v f="<$2>:" '$2 == f { on = 1; next } on && /^$/ { exit } on'; }
# An OP-V instruction (opcode 1010111) or a vector load/store mnemonic.
vector_insn='^\s*[0-9a-f]+:\s+[0-9a-f]+\s+(v[a-z0-9.]+)\s'
boot() { BOOT_TIMEOUT=60 "$root/tests/qemu/expect_boot.sh" "$@"; }

case "${1:-}" in
  build)
    for elf in user/echo/echo.elf user/vcheck/vcheck.elf; do
      [ -f "$rvv/$elf" ] && [ -f "$plain/$elf" ] || { fail "missing $elf in $rvv or $plain"; continue; }
      text=$(function_text "$rvv/$elf" ringlet_chksum)
      [ -n "$text" ] || fail "$rvv/$elf has no ringlet_chksum"
      for insn in vle32.v vwaddu.wv vredsum.vs; do
        echo "$text" | grep -qP "\s$insn\s" || fail "$rvv/$elf: ringlet_chksum has no $insn"
      done
      ! function_text "$plain/$elf" ringlet_chksum | grep -P "$vector_insn" >/dev/null ||
        fail "$plain/$elf (rv64gc): ringlet_chksum has vector instructions"
    done
    # The plain build's apps have none at all (vcheck's are its own asm).
    for elf in user/echo/echo.elf user/microbench/microbench.elf; do
      ! "$objdump" -d "$plain/$elf" | grep -P "$vector_insn" >/dev/null || fail "$plain/$elf (rv64gc) has vector instructions"
    done
    [ $failed -eq 0 ] && echo "ok: vector loop in the V build's ringlet_chksum, none in the plain build's apps" ;;
  switch)
    for build in "$rvv" "$plain"; do
      RINGLET_RISCV_BUILD=$build boot --exit 0 \
        --has "^hart 0: vector unit \\(V\\), VLEN 128 bits, for apps$" \
        --has "^vcheck: seed 1: v0-v31, vl, vtype, vcsr intact over 300 sleeps \\(VLEN 128\\)$" \
        --has "^vcheck: seed 2: v0-v31, vl, vtype, vcsr intact over 300 sleeps \\(VLEN 128\\)$" \
        --count "^app vcheck \\(hart 0\\) exited with code 0$" 2 --lacks PANIC --lacks killed \
        -- --smp 1 --cpu "$cpu_v" --append "shutdown init=vcheck:regs:1:300,vcheck:regs:2:300" || failed=1
    done ;;
  checksum)
    RINGLET_RISCV_BUILD=$rvv boot --exit 0 \
      --has "^vcheck: ringlet_chksum \\(vector\\) equals the scalar sum in [0-9]+ cases, offsets 0-7$" \
      --has "^vcheck: 1050 bytes: ringlet_chksum \\(vector\\) [0-9]+ instructions, scalar [0-9]+$" \
      --has "^app vcheck \\(hart 0\\) exited with code 0$" --lacks PANIC --lacks killed \
      -- --icount --smp 1 --cpu "$cpu_v" --append "shutdown init=vcheck:sum" || failed=1 ;;
  no-v)
    # QEMU's default rv64 has no V: the V build's vcheck dies, hello runs.
    RINGLET_RISCV_BUILD=$rvv boot --exit 0 --lacks "vector unit" \
      --has "^app vcheck \\(hart 0\\) killed: vector instruction on a hart without V \\(illegal instruction\\) at pc " \
      --has "^hello from U-mode on hart index 0$" --has "^app hello \\(hart 0\\) exited with code 0$" \
      --has "^all apps done: powering off$" --lacks PANIC \
      -- --smp 1 --append "shutdown init=vcheck:regs:1:3,hello" || failed=1 ;;
  perf)
    shift
    exec "$root/tests/qemu/perf_echo_budget.sh" --build "$rvv" --cpu "$cpu_v" "$@" ;;
  *) echo "rvv_test.sh: build|switch|checksum|no-v|perf ARGS" >&2; exit 2 ;;
esac
exit $failed
