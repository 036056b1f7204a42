#include "kernel/smp/hart_local.h"

#include "kernel/arch.h"

namespace ringlet {

size_t current_hart_index() {
    HartLocal* local = arch::hart_local();
    return local ? local->index : 0;
}

}  // namespace ringlet
