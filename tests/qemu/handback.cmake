# Safe device hand-back: an app killed mid-flood leaves no device writing into
# frames handed to others, and its device serves the next app. Included from
# tests/qemu/CMakeLists.txt (RINGLET_RISCV_BUILD is set there).
if(TARGET ringlet_loadgen)
  add_test(NAME qemu.device_handback COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/handback_test.sh $<TARGET_FILE:ringlet_loadgen>)
  set_tests_properties(qemu.device_handback PROPERTIES
    ENVIRONMENT "RINGLET_RISCV_BUILD=${RINGLET_RISCV_BUILD}" TIMEOUT 240 LABELS "qemu;net")
endif()
