# Network tests through a tap device inside a private network namespace
# (ping of the guest, malformed frames from the host). Included from
# tests/qemu/CMakeLists.txt.
if(TARGET ringlet_rawframe)
  add_test(NAME qemu.net_tap COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/net_tap_test.sh $<TARGET_FILE:ringlet_rawframe>)
  set_tests_properties(qemu.net_tap PROPERTIES
    ENVIRONMENT "RINGLET_RISCV_BUILD=${RINGLET_RISCV_BUILD}" TIMEOUT 300 LABELS "qemu;net")
endif()
