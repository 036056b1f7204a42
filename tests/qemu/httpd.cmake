# httpd on Ringlet, driven by curl, socat and wrk from the host (the checks
# the Linux test runs too), and serving its site from a virtio-blk disk.
# Included from tests/qemu/CMakeLists.txt (RINGLET_RISCV_BUILD is set there).
add_test(NAME qemu.httpd COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/httpd_test.sh)
set_tests_properties(qemu.httpd PROPERTIES
  ENVIRONMENT "RINGLET_RISCV_BUILD=${RINGLET_RISCV_BUILD}" TIMEOUT 300 LABELS "qemu;net")
add_test(NAME qemu.httpd_root_disk
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/httpd_test.sh --root-disk ${RINGLET_RISCV_BUILD}/user/httpd/site.rgl)
set_tests_properties(qemu.httpd_root_disk PROPERTIES
  ENVIRONMENT "RINGLET_RISCV_BUILD=${RINGLET_RISCV_BUILD}" TIMEOUT 240 LABELS "qemu;net")
