# The guest profiler end to end (scripts/profile.sh, issue 13): a 30-request
# 64 B UDP echo window under -icount -singlestep, symbolized and summed.
# Included from tests/qemu/CMakeLists.txt (RINGLET_RISCV_BUILD is set there).
if(TARGET ringlet_loadgen AND TARGET ringlet_profile)
  add_test(NAME qemu.profile_udp_echo
    COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/profile_test.sh $<TARGET_FILE:ringlet_loadgen> $<TARGET_FILE:ringlet_profile>)
  set_tests_properties(qemu.profile_udp_echo PROPERTIES
    ENVIRONMENT "RINGLET_RISCV_BUILD=${RINGLET_RISCV_BUILD}" TIMEOUT 180 LABELS "qemu;net")
endif()
