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

# One app on 4 harts, each core with its own storage queue (issue 14, test
# d): every core writes, flushes, reads back and verifies its own 128 KiB
# region (blkcheck cores). With num-queues=4 each core submits on its own
# request queue (its per-queue counter > 0, nothing forwarded); with a
# single-queue disk the other cores forward every request to core 0, which
# serves them; with 2 queues, cores 0 and 1 own one each and 2 and 3 forward.
set(blk_core_ok "wrote and verified 128 KiB at byte [0-9]+$")
ringlet_qemu_test(qemu.blk_cores_mq_4
  CHECKS --exit 0 --has "^libos: virtio-blk: 4 request queues for 4 cores \\(device offers 4\\)$"
         --count "^blkcheck: core [0-3]: ${blk_core_ok}" 4
         --has "^blkcheck: core 0: queue 0 of 4, submitted [1-9][0-9]*, forwarded 0, dropped 0, served 0$"
         --has "^blkcheck: core 1: queue 1 of 4, submitted [1-9][0-9]*, forwarded 0, dropped 0, served 0$"
         --has "^blkcheck: core 2: queue 2 of 4, submitted [1-9][0-9]*, forwarded 0, dropped 0, served 0$"
         --has "^blkcheck: core 3: queue 3 of 4, submitted [1-9][0-9]*, forwarded 0, dropped 0, served 0$"
         --has "^blkcheck: cores: every core verified its region$" --lacks FAILED --lacks PANIC
  BOOT_TIMEOUT 100
  ARGS --smp 4 --disk ${CMAKE_CURRENT_BINARY_DIR}/blk_cores_mq.img --disk-queues 4
       --append "shutdown init=blkcheck:cores@all")
ringlet_qemu_test(qemu.blk_cores_sq_4
  CHECKS --exit 0 --has "^libos: virtio-blk: 1 request queue for 4 cores \\(device offers 1\\): the others forward"
         --count "^blkcheck: core [0-3]: ${blk_core_ok}" 4
         --count "^blkcheck: core [1-3]: queue -1 of 1, submitted 0, forwarded [1-9][0-9]*, dropped 0, served 0$" 3
         --has "^blkcheck: core 0: queue 0 of 1, submitted [1-9][0-9]*, forwarded 0, dropped 0, served [1-9][0-9]*$"
         --has "^blkcheck: cores: every core verified its region$" --lacks FAILED --lacks PANIC
  BOOT_TIMEOUT 100
  ARGS --smp 4 --disk ${CMAKE_CURRENT_BINARY_DIR}/blk_cores_sq.img
       --append "shutdown init=blkcheck:cores@all")
ringlet_qemu_test(qemu.blk_cores_2q_4
  CHECKS --exit 0 --has "^libos: virtio-blk: 2 request queues for 4 cores \\(device offers 2\\): the others forward"
         --count "^blkcheck: core [0-3]: ${blk_core_ok}" 4
         --has "^blkcheck: core 1: queue 1 of 2, submitted [1-9][0-9]*, forwarded 0, dropped 0, served 0$"
         --count "^blkcheck: core [23]: queue -1 of 2, submitted 0, forwarded [1-9][0-9]*, dropped 0, served 0$" 2
         --has "^blkcheck: core 0: queue 0 of 2, submitted [1-9][0-9]*, forwarded 0, dropped 0, served [1-9][0-9]*$"
         --has "^blkcheck: cores: every core verified its region$" --lacks FAILED --lacks PANIC
  BOOT_TIMEOUT 100
  ARGS --smp 4 --disk ${CMAKE_CURRENT_BINARY_DIR}/blk_cores_2q.img --disk-queues 2
       --append "shutdown init=blkcheck:cores@all")
# A multiqueue disk reset under 4 cores (issue 15 item 4): after every core
# verified its region, core 2's queue acts as if the device asked for a
# reset; all cores reset it together (exactly one reset line), any request
# held across it fails with EIO, then every core reads its region back
# intact and writes and verifies it again on its own queue.
ringlet_qemu_test(qemu.blk_cores_mq_reset
  CHECKS --exit 0 --has "^libos: virtio-blk: 4 request queues for 4 cores \\(device offers 4\\)$"
         --has "^blkcheck: core 2: disk fault injected$"
         --count "^libos: virtio-blk multiqueue device misbehaved, resetting every request queue \\(reset 1 of 8\\)$" 1
         --count "^libos: virtio-blk .*reset 2 of" 0
         --count "^blkcheck: core [0-3]: region intact after the reset" 4
         --count "^blkcheck: core [0-3]: ${blk_core_ok}" 8
         --has "^blkcheck: cores: every core verified its region$" --lacks FAILED --lacks PANIC --lacks "given up"
  BOOT_TIMEOUT 100
  ARGS --smp 4 --disk ${CMAKE_CURRENT_BINARY_DIR}/blk_cores_reset.img --disk-queues 4
       --append "shutdown init=blkcheck:cores-reset@all")
