// Architecture-neutral mapping permissions; arch/ turns them into PTE bits.
#pragma once

#include <stdint.h>

namespace ringlet {

enum MapPerm : uint32_t {
    kMapRead = 1u << 0,
    kMapWrite = 1u << 1,
    kMapExec = 1u << 2,
    kMapUser = 1u << 3,
    kMapGlobal = 1u << 4,
};

}  // namespace ringlet
