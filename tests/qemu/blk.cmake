# The PDPIX storage queue on virtio-blk, with blkcheck (user/blkcheck).
# Included from tests/qemu/CMakeLists.txt (RINGLET_RISCV_BUILD is set there).
#
# qemu.blk_restart: a pattern written through the storage queue is found on
# the host, survives a second boot and a host-corrupted sector is reported.
add_test(NAME qemu.blk_restart COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/blk_test.sh)
set_tests_properties(qemu.blk_restart PROPERTIES
  ENVIRONMENT "RINGLET_RISCV_BUILD=${RINGLET_RISCV_BUILD}" TIMEOUT 300 LABELS qemu)

# qemu.blk_net: one app uses the network and the disk at once (blkcheck
# serve), driven by socat clients; the host finds every datagram in the image.
add_test(NAME qemu.blk_net COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/blk_net_test.sh)
set_tests_properties(qemu.blk_net PROPERTIES
  ENVIRONMENT "RINGLET_RISCV_BUILD=${RINGLET_RISCV_BUILD}" TIMEOUT 300 LABELS qemu)

# qemu.blk_bench: 4 KiB write+read round trips under -icount, each read
# checked, with the guest instructions per round trip reported (a figure,
# not an assertion).
ringlet_qemu_test(qemu.blk_bench
  CHECKS --exit 0
         --has "^blkcheck: bench: 200 round trips of 4 KiB write\\+read: [0-9]+ instructions each in the app"
         --lacks FAILED
  BOOT_TIMEOUT 100
  ARGS --icount --disk ${CMAKE_CURRENT_BINARY_DIR}/blk_bench.img --append "shutdown init=blkcheck:bench:200")

# qemu.blk_faults: QEMU's blkdebug fails one write and one read under the
# storage queue; those end in EIO, the requests in flight with them and the
# acknowledged data are intact, and the same requests work when repeated.
add_test(NAME qemu.blk_faults COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/blk_faults_test.sh)
set_tests_properties(qemu.blk_faults PROPERTIES
  ENVIRONMENT "RINGLET_RISCV_BUILD=${RINGLET_RISCV_BUILD}" TIMEOUT 240 LABELS qemu)
