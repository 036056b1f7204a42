// The machine's one FrameAllocator. Set up once by the boot hart before any
// other hart runs; afterwards any hart may call it (it locks internally).
#pragma once

#include "kernel/mm/frame_allocator.h"

namespace ringlet {
FrameAllocator& frames();
}
