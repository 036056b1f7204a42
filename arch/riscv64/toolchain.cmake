# Debian's riscv64-linux-gnu-g++ used freestanding (no libc, no crt files).
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR riscv64)
set(CMAKE_C_COMPILER riscv64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER riscv64-linux-gnu-g++)
set(CMAKE_ASM_COMPILER riscv64-linux-gnu-gcc)
set(CMAKE_OBJCOPY riscv64-linux-gnu-objcopy CACHE FILEPATH "")
set(CMAKE_NM riscv64-linux-gnu-nm CACHE FILEPATH "")
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)

# rv64gc is what every target hart has (QEMU virt, the JH7110's U74). Zbb is
# not assumed: the U74 and QEMU's default rv64 CPU have it, but a plain rv64gc
# CPU would trap. RINGLET_ZBB=ON (preset riscv64-zbb) adds it for all target
# code: count-trailing-zeros, byte swaps, min/max become single instructions.
# The vector extension (RVV 1.0) is not a build choice: GCC 12 emits no vector
# code itself, and the one hand-written vector loop (net/checksum.cc) is
# assembled with `.option arch, +v` in every build and run only on harts the
# kernel reports V for (kHartFeatureVector), as the kernel's own V handling is.
# The flags below are fixed at a build folder's first configure; the top-level
# CMakeLists.txt refuses a later change of RINGLET_ZBB.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES RINGLET_ZBB)
if(RINGLET_ZBB)
  set(RINGLET_MARCH rv64gc_zbb)
else()
  set(RINGLET_MARCH rv64gc)
endif()
set(RINGLET_ARCH_FLAGS "-march=${RINGLET_MARCH} -mabi=lp64d -mcmodel=medany -mno-relax")
set(RINGLET_FREESTANDING_FLAGS "-ffreestanding -fno-exceptions -fno-rtti -fno-threadsafe-statics -fno-use-cxa-atexit -fno-stack-protector -fno-pic -fno-asynchronous-unwind-tables -fomit-frame-pointer -fno-tree-loop-distribute-patterns -ffunction-sections -fdata-sections -ftls-model=local-exec")
# Frame pointers only where a backtrace walks them - the kernel (panic.cc),
# which turns them on for its own targets (RINGLET_KERNEL_FRAME_FLAGS). An
# app's code omits them: on the dataplane every call saved, set and restored
# s0 for nothing (about 3 instructions per call, ~30 calls per echoed packet).
set(RINGLET_KERNEL_FRAME_FLAGS -fno-omit-frame-pointer)
set(CMAKE_C_FLAGS_INIT "${RINGLET_ARCH_FLAGS} -ffreestanding -fno-pic -fno-stack-protector -fomit-frame-pointer")
set(CMAKE_CXX_FLAGS_INIT "${RINGLET_ARCH_FLAGS} ${RINGLET_FREESTANDING_FLAGS}")
set(CMAKE_ASM_FLAGS_INIT "${RINGLET_ARCH_FLAGS}")
set(CMAKE_EXE_LINKER_FLAGS_INIT "-nostdlib -static -no-pie -Wl,--gc-sections,--build-id=none,--no-relax")
