# Multiqueue devices on QEMU: a multiqueue tap (queues=4) in a private
# network namespace with virtio-net mq=on,rss=on (4 pairs, RSS from
# net/flow_steering, every datagram on its flow's pair), and a virtio-blk
# disk with num-queues=4. Needs root (unshare -n, tap). Included from
# tests/qemu/CMakeLists.txt.
add_test(NAME qemu.net_mq COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/net_mq_test.sh)
set_tests_properties(qemu.net_mq PROPERTIES
  ENVIRONMENT "RINGLET_RISCV_BUILD=${RINGLET_RISCV_BUILD}" TIMEOUT 180 LABELS "qemu;net")
