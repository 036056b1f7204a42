# One app on many harts over a single-queue NIC: echo on every hart with QEMU
# user networking (issue 14, test a). Included from tests/qemu/CMakeLists.txt.
if(TARGET ringlet_loadgen)
  foreach(harts 2 4)
    add_test(NAME qemu.cores_echo_${harts} COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/cores_echo_test.sh ${harts}
                                                   $<TARGET_FILE:ringlet_loadgen>)
    set_tests_properties(qemu.cores_echo_${harts} PROPERTIES
      ENVIRONMENT "RINGLET_RISCV_BUILD=${RINGLET_RISCV_BUILD}" TIMEOUT 300 LABELS "qemu;net;cores")
  endforeach()
  # Core 0's app task spins over one queue pair, where every frame passes
  # through core 0: its upcall (libos/backend/owner_upcall.h) keeps the
  # other cores' flows answered (cores_echo_test.sh ... spin).
  add_test(NAME qemu.cores_spin_4 COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/cores_echo_test.sh 4
                                          $<TARGET_FILE:ringlet_loadgen> spin)
  set_tests_properties(qemu.cores_spin_4 PROPERTIES
    ENVIRONMENT "RINGLET_RISCV_BUILD=${RINGLET_RISCV_BUILD}" TIMEOUT 300 LABELS "qemu;net;cores")
endif()

# The same over a multiqueue tap with RSS, in a private network namespace
# (needs root: unshare -n, tap), cores_mq_test.sh LOADGEN MODE:
#   qemu.cores_mq_4      each core its own queue pair, no frame forwarded
#                        between cores (issue 14, test b)
#   qemu.cores_mq_reset  the device reset by every core together after a
#                        fault injected on one (cores_mq_reset.sh): traffic
#                        on every pair afterwards
#   qemu.cores_mq_spin   core 0's app task spins (cores_mq_spin.sh): a core
#                        that stops polling cannot stall the others' pairs -
#                        core 0's upcall rings their doorbells, so the flows
#                        RSS sends to cores 1-3 are still answered
if(TARGET ringlet_loadgen)
  foreach(mode plain reset spin)
    set(name qemu.cores_mq_${mode})
    if(mode STREQUAL plain)
      set(name qemu.cores_mq_4)
    endif()
    add_test(NAME ${name} COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/cores_mq_test.sh $<TARGET_FILE:ringlet_loadgen> ${mode})
    set_tests_properties(${name} PROPERTIES
      ENVIRONMENT "RINGLET_RISCV_BUILD=${RINGLET_RISCV_BUILD}" TIMEOUT 300 LABELS "qemu;net;cores")
  endforeach()
endif()
