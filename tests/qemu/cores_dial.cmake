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
# Closing and reopening libOS instances while the others run (--restart,
# libos/backend/close_order.h): over one queue pair the other cores close,
# come back and close again while core 0's close is refused until it is the
# last; with a pair per core (RSS) every close is refused.
add_test(NAME qemu.cores_dial_restart_4 COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/cores_dial_test.sh user 4 restart)
set_tests_properties(qemu.cores_dial_restart_4 PROPERTIES
  ENVIRONMENT "RINGLET_RISCV_BUILD=${RINGLET_RISCV_BUILD}" TIMEOUT 180 LABELS "qemu;net;cores")
add_test(NAME qemu.cores_dial_mq_restart_2 COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/cores_dial_test.sh tap 2 restart)
set_tests_properties(qemu.cores_dial_mq_restart_2 PROPERTIES
  ENVIRONMENT "RINGLET_RISCV_BUILD=${RINGLET_RISCV_BUILD}" TIMEOUT 180 LABELS "qemu;net;cores")
add_test(NAME qemu.cores_dial_restart_1 COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/cores_dial_test.sh user 1 restart)
set_tests_properties(qemu.cores_dial_restart_1 PROPERTIES
  ENVIRONMENT "RINGLET_RISCV_BUILD=${RINGLET_RISCV_BUILD}" TIMEOUT 180 LABELS "qemu;net;cores")
