# The dataplane tests: echo over lwIP + virtio-net, driven by real host clients.
# Included from tests/qemu/CMakeLists.txt (RINGLET_RISCV_BUILD is set there).
if(TARGET ringlet_loadgen)
  add_test(NAME qemu.net_echo COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/net_echo_test.sh $<TARGET_FILE:ringlet_loadgen>)
  set_tests_properties(qemu.net_echo PROPERTIES
    ENVIRONMENT "RINGLET_RISCV_BUILD=${RINGLET_RISCV_BUILD}" TIMEOUT 600 LABELS "qemu;net")
  # Killing the echo app mid-stream leaves the kernel serving the other apps.
  add_test(NAME qemu.net_echo_killed COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/net_kill_test.sh $<TARGET_FILE:ringlet_loadgen>)
  set_tests_properties(qemu.net_echo_killed PROPERTIES
    ENVIRONMENT "RINGLET_RISCV_BUILD=${RINGLET_RISCV_BUILD}" TIMEOUT 300 LABELS "qemu;net")
endif()
