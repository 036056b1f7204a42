# qemu.blk_restart: blkcheck writes a pattern through the libOS virtio-blk
# queue, the host finds it in the image, a second boot finds it intact and a
# third, after a sector is corrupted on the host, reports that sector.
# Included from tests/qemu/CMakeLists.txt (RINGLET_RISCV_BUILD is set there).
add_test(NAME qemu.blk_restart COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/blk_test.sh)
set_tests_properties(qemu.blk_restart PROPERTIES
  ENVIRONMENT "RINGLET_RISCV_BUILD=${RINGLET_RISCV_BUILD}" TIMEOUT 300 LABELS qemu)
