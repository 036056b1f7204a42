# One app on many harts over a single-queue NIC: echo on every hart with QEMU
# user networking (issue 14, test a). Included from tests/qemu/CMakeLists.txt.
if(TARGET ringlet_loadgen)
  foreach(harts 2 4)
    add_test(NAME qemu.cores_echo_${harts} COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/cores_echo_test.sh ${harts}
                                                   $<TARGET_FILE:ringlet_loadgen>)
    set_tests_properties(qemu.cores_echo_${harts} PROPERTIES
      ENVIRONMENT "RINGLET_RISCV_BUILD=${RINGLET_RISCV_BUILD}" TIMEOUT 300 LABELS "qemu;net;cores")
  endforeach()
endif()

# The same over a multiqueue tap with RSS (test b): each core its own queue
# pair, no frame forwarded between cores. Needs root (unshare -n, tap).
if(TARGET ringlet_loadgen)
  add_test(NAME qemu.cores_mq_4 COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/cores_mq_test.sh $<TARGET_FILE:ringlet_loadgen>)
  set_tests_properties(qemu.cores_mq_4 PROPERTIES
    ENVIRONMENT "RINGLET_RISCV_BUILD=${RINGLET_RISCV_BUILD}" TIMEOUT 300 LABELS "qemu;net;cores")
endif()

# The same device reset by every core together after a fault injected on one
# (issue 15 item 4, cores_mq_reset.sh): traffic on every pair afterwards.
# Needs root.
if(TARGET ringlet_loadgen)
  add_test(NAME qemu.cores_mq_reset COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/cores_mq_test.sh
                                            $<TARGET_FILE:ringlet_loadgen> reset)
  set_tests_properties(qemu.cores_mq_reset PROPERTIES
    ENVIRONMENT "RINGLET_RISCV_BUILD=${RINGLET_RISCV_BUILD}" TIMEOUT 300 LABELS "qemu;net;cores")
endif()

# Core 0's app task spins (cores_mq_spin.sh): a core that stops polling
# cannot stall the others' pairs - each sleeps at most 10 ms, so the flows
# RSS sends to cores 1-3 are still answered. Needs root.
if(TARGET ringlet_loadgen)
  add_test(NAME qemu.cores_mq_spin COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/cores_mq_test.sh
                                           $<TARGET_FILE:ringlet_loadgen> spin)
  set_tests_properties(qemu.cores_mq_spin PROPERTIES
    ENVIRONMENT "RINGLET_RISCV_BUILD=${RINGLET_RISCV_BUILD}" TIMEOUT 300 LABELS "qemu;net;cores")
endif()
