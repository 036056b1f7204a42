# Network tests through a tap device inside a private network namespace
# (ping of the guest, malformed frames from the host). Included from
# tests/qemu/CMakeLists.txt.
