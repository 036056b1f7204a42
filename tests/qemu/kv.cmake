# user/kv on Ringlet: the RESP server over lwIP + virtio-net with its log on
# virtio-blk, driven by redis-cli, redis-benchmark and raw sockets.
# Included from tests/qemu/CMakeLists.txt (RINGLET_RISCV_BUILD is set there).
#
# qemu.kv: every command through redis-cli, a short pipelined
# redis-benchmark, malformed RESP, a SIGKILL and restart, and a flush failed
# by QEMU's blkdebug (that write answered -ERR, nothing acknowledged lost).
add_test(NAME qemu.kv COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/kv_test.sh)
set_tests_properties(qemu.kv PROPERTIES
  ENVIRONMENT "RINGLET_RISCV_BUILD=${RINGLET_RISCV_BUILD}" TIMEOUT 300 LABELS "qemu;kv")

# qemu.kv_crash: 20 SIGKILLs at random moments under 4 writing clients on one
# disk image (compactions included); every acknowledged write survives.
add_test(NAME qemu.kv_crash COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/kv_crash_test.sh)
set_tests_properties(qemu.kv_crash PROPERTIES
  ENVIRONMENT "RINGLET_RISCV_BUILD=${RINGLET_RISCV_BUILD};ITERATIONS=20" TIMEOUT 600 LABELS "qemu;kv")

# The same, 200 rounds: not in CI. cmake --build --preset host --target kv_crash_soak
add_custom_target(kv_crash_soak
  COMMAND ${CMAKE_COMMAND} -E env RINGLET_RISCV_BUILD=${RINGLET_RISCV_BUILD} ITERATIONS=200
          ${CMAKE_CURRENT_SOURCE_DIR}/kv_crash_test.sh
  USES_TERMINAL VERBATIM)

# qemu.kv_disk_full: a 256 KiB disk filled by 2 KiB SETs: "-ERR disk full",
# every acknowledged key intact, DEL still works on the full disk and makes
# room for new writes, and a restart finds exactly what was acknowledged.
add_test(NAME qemu.kv_disk_full COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/kv_disk_full_test.sh)
set_tests_properties(qemu.kv_disk_full PROPERTIES
  ENVIRONMENT "RINGLET_RISCV_BUILD=${RINGLET_RISCV_BUILD}" TIMEOUT 180 LABELS "qemu;kv")

# qemu.kv_clients: redis-benchmark -c 50 (all connecting at once): every
# client served, no SYN dropped by the stack (INFO tcp_syn_dropped:0).
add_test(NAME qemu.kv_clients COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/kv_clients_test.sh)
set_tests_properties(qemu.kv_clients PROPERTIES
  ENVIRONMENT "RINGLET_RISCV_BUILD=${RINGLET_RISCV_BUILD}" TIMEOUT 240 LABELS "qemu;kv")
