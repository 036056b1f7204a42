# riscv64 *Linux* (not Ringlet): the portable apps (echo, httpd, kv) over the
# libOS's linux backend, for the benchmarks' Linux guest (issue 16 item 6), so
# that Ringlet-vs-Linux runs one app source and only the OS differs.
# Debian's riscv64-linux-gnu-gcc with its glibc (libc6-dev-riscv64-cross),
# linked statically: the guest's initramfs has no shared libraries.
# The top-level CMakeLists.txt sees RINGLET_LINUX_CROSS and builds only the
# libOS and user/ in the host configuration (no GoogleTest, no tests/).
#   cmake --preset riscv64-linux && cmake --build --preset riscv64-linux
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR riscv64)
set(CMAKE_C_COMPILER riscv64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER riscv64-linux-gnu-g++)
set(CMAKE_ASM_COMPILER riscv64-linux-gnu-gcc)
set(CMAKE_OBJCOPY riscv64-linux-gnu-objcopy CACHE FILEPATH "")
set(CMAKE_FIND_ROOT_PATH /usr/riscv64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
# The same ISA as the Ringlet build (rv64gc, no Zbb): equal code generation.
set(CMAKE_C_FLAGS_INIT "-march=rv64gc -mabi=lp64d")
set(CMAKE_CXX_FLAGS_INIT "-march=rv64gc -mabi=lp64d")
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static")
set(RINGLET_LINUX_CROSS ON)
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES RINGLET_LINUX_CROSS)
