# Outgoing connections from every core (issue 14): `dial` on 4 harts, each
# core connecting out to a host TCP echo server and exchanging datagrams
# with a UDP one (cores_dial_test.sh). Over QEMU user networking (core 0
# steers), and over a multiqueue tap with RSS in a private network
# namespace (needs root, as qemu.cores_mq_4). Included from
# tests/qemu/CMakeLists.txt.
add_test(NAME qemu.cores_dial_4 COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/cores_dial_test.sh user 4)
set_tests_properties(qemu.cores_dial_4 PROPERTIES
  ENVIRONMENT "RINGLET_RISCV_BUILD=${RINGLET_RISCV_BUILD}" TIMEOUT 180 LABELS "qemu;net;cores")
add_test(NAME qemu.cores_dial_mq_4 COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/cores_dial_test.sh tap 4)
set_tests_properties(qemu.cores_dial_mq_4 PROPERTIES
  ENVIRONMENT "RINGLET_RISCV_BUILD=${RINGLET_RISCV_BUILD}" TIMEOUT 180 LABELS "qemu;net;cores")
