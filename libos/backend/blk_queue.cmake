# ringlet_libos_blk: the virtio-blk storage queue (blk_queue.h) and the
# device/DMA grant helpers it uses. riscv64 only (it makes Ringlet syscalls).
# Included by the apps that use it (user/blkcheck); the target is defined
# once however many include it.
if(NOT TARGET ringlet_libos_blk)
  add_library(ringlet_libos_blk STATIC
    ${CMAKE_SOURCE_DIR}/libos/backend/blk_queue.cc
    ${CMAKE_SOURCE_DIR}/libos/backend/blk_grants.cc)
  # ringlet_libos for RingletPlatform (the sleep hook); the linker takes only
  # the objects used, so no lwIP comes along.
  target_link_libraries(ringlet_libos_blk PUBLIC ringlet_libos ringlet_virtio ringlet_user_rt)
endif()
