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
