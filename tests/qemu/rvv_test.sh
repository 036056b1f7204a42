#!/usr/bin/env bash
# qemu.rvv_* and the perf.udp_echo_1k_profile_* tests (tests/qemu/rvv.cmake):
# the vector checksum, chosen at run time, and the kernel's handling of the
# vector unit. One build (RINGLET_RISCV_BUILD) on two CPUs: QEMU's rv64 with
# V (RVV 1.0, VLEN 128; run-qemu.sh's default) and plain rv64 (no V).
#   rvv_test.sh build      the vector loop is in ringlet_chksum, and no other
#                          function of the apps has a vector instruction
#   rvv_test.sh switch     two apps on one hart keep their vector registers
#                          across 300 switches each
#   rvv_test.sh checksum   ringlet_chksum equals the scalar sum in the guest:
#                          the vector loop on a CPU with V, the scalar one without
#   rvv_test.sh no-v       on a hart without V, a vector instruction ends only
#                          that app, and the kernel says why
#   rvv_test.sh perf CPU ARGS  perf_echo_budget.sh ARGS on CPU (v: with V,
#                          plain: without)
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${RINGLET_RISCV_BUILD:?}
# shellcheck source=scripts/qemu_cpu.sh
source "$root/scripts/qemu_cpu.sh"
cpu_v=$RINGLET_QEMU_CPU  # run-qemu.sh's default: rv64 with V, VLEN 128
cpu_plain="rv64"
objdump=riscv64-linux-gnu-objdump
failed=0
fail() { echo "FAILED: $*"; failed=1; }
# The disassembly of function $2 in ELF $1.
function_text() { "$objdump" -d "$1" | awk -v f="<$2>:" '$2 == f { on = 1; next } on && /^$/ { exit } on'; }
# An OP-V instruction or a vector load/store mnemonic.
vector_insn='^\s*[0-9a-f]+:\s+[0-9a-f]+\s+(v[a-z0-9.]+)\s'
boot() { BOOT_TIMEOUT=60 RINGLET_RISCV_BUILD=$build "$root/tests/qemu/expect_boot.sh" "$@"; }

case "${1:-}" in
  build)
    for elf in user/echo/echo.elf user/vcheck/vcheck.elf user/httpd/httpd.elf; do
      [ -f "$build/$elf" ] || { fail "missing $build/$elf"; continue; }
      text=$(function_text "$build/$elf" ringlet_chksum)
      [ -n "$text" ] || fail "$build/$elf has no ringlet_chksum"
      for insn in vle32.v vwaddu.wv vredsum.vs; do
        echo "$text" | grep -qP "\s$insn\s" || fail "$build/$elf: ringlet_chksum has no $insn"
      done
    done
    # Outside ringlet_chksum the apps have none (vcheck's register test is
    # its own asm): nothing else would run on a CPU without V.
    for elf in user/echo/echo.elf user/httpd/httpd.elf user/microbench/microbench.elf; do
      outside=$("$objdump" -d "$build/$elf" | awk '/^[0-9a-f]+ <.*>:$/ { f = $2 } f != "<ringlet_chksum>:"' |
        grep -cP "$vector_insn")
      [ "$outside" -eq 0 ] || fail "$build/$elf: $outside vector instructions outside ringlet_chksum"
    done
    [ $failed -eq 0 ] && echo "ok: vector loop in ringlet_chksum, no vector instruction elsewhere in the apps" ;;
  switch)
    boot --exit 0 \
      --has "^hart 0: vector unit \\(V\\), VLEN 128 bits, for apps$" \
      --has "^vcheck: seed 1: v0-v31, vl, vtype, vcsr intact over 300 sleeps \\(VLEN 128\\)$" \
      --has "^vcheck: seed 2: v0-v31, vl, vtype, vcsr intact over 300 sleeps \\(VLEN 128\\)$" \
      --count "^app vcheck \\(hart 0\\) exited with code 0$" 2 --lacks PANIC --lacks killed \
      -- --smp 1 --cpu "$cpu_v" --append "shutdown init=vcheck:regs:1:300,vcheck:regs:2:300" || failed=1 ;;
  checksum)
    boot --exit 0 \
      --has "^vcheck: ringlet_chksum \\(vector\\) equals the scalar sum in [0-9]+ cases, offsets 0-7$" \
      --has "^vcheck: 1050 bytes: ringlet_chksum \\(vector\\) [0-9]+ instructions, scalar [0-9]+$" \
      --has "^app vcheck \\(hart 0\\) exited with code 0$" --lacks PANIC --lacks killed \
      -- --icount --smp 1 --cpu "$cpu_v" --append "shutdown init=vcheck:sum" || failed=1
    # The same image without V: the kernel reports no V, the scalar loop runs.
    boot --exit 0 --lacks "vector unit" \
      --has "^vcheck: ringlet_chksum \\(scalar\\) equals the scalar sum in [0-9]+ cases, offsets 0-7$" \
      --has "^app vcheck \\(hart 0\\) exited with code 0$" --lacks PANIC --lacks killed \
      -- --smp 1 --cpu "$cpu_plain" --append "shutdown init=vcheck:sum" || failed=1 ;;
  no-v)
    # Plain rv64 has no V: vcheck's own vector instructions end it, hello runs.
    boot --exit 0 --lacks "vector unit" \
      --has "^app vcheck \\(hart 0\\) killed: vector instruction on a hart without V \\(illegal instruction\\) at pc " \
      --has "^hello from U-mode on hart index 0$" --has "^app hello \\(hart 0\\) exited with code 0$" \
      --has "^all apps done: powering off$" --lacks PANIC \
      -- --smp 1 --cpu "$cpu_plain" --append "shutdown init=vcheck:regs:1:3,hello" || failed=1 ;;
  perf)
    case "${2:-}" in
      v) cpu=$cpu_v ;;
      plain) cpu=$cpu_plain ;;
      *) echo "rvv_test.sh perf v|plain ARGS" >&2; exit 2 ;;
    esac
    shift 2
    exec "$root/tests/qemu/perf_echo_budget.sh" --build "$build" --cpu "$cpu" "$@" ;;
  *) echo "rvv_test.sh: build|switch|checksum|no-v|perf v|plain ARGS" >&2; exit 2 ;;
esac
exit $failed
