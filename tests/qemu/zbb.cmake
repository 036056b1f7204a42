# The Zbb build (preset riscv64-zbb, RINGLET_ZBB=ON; scripts/test.sh builds
# it). Included from tests/qemu/CMakeLists.txt (RINGLET_RISCV_BUILD is set).
#
# qemu.zbb: count-trailing-zeros is a `ctz` instruction in the Zbb build and
# the de Bruijn fallback in the plain rv64gc one (no ctz, no libgcc __ctzdi2
# in either), and microbench from the Zbb build runs on QEMU's default rv64
# CPU, which has Zbb. Skipped (not failed) when the Zbb build is missing.
set(RINGLET_RISCV_ZBB_BUILD "${RINGLET_RISCV_BUILD}-zbb" CACHE PATH
    "riscv64 build with RINGLET_ZBB=ON, for qemu.zbb")
add_test(NAME qemu.zbb COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/zbb_test.sh)
set_tests_properties(qemu.zbb PROPERTIES
  ENVIRONMENT "RINGLET_RISCV_BUILD=${RINGLET_RISCV_BUILD};RINGLET_RISCV_ZBB_BUILD=${RINGLET_RISCV_ZBB_BUILD}"
  TIMEOUT 120 LABELS qemu SKIP_RETURN_CODE 77)
