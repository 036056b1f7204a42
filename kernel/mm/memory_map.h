// Usable physical memory: RAM minus everything someone else owns (firmware,
// the kernel image, the FDT, the initrd, /reserved-memory).
#pragma once

#include <stddef.h>

#include "kernel/fdt/boot_info.h"
#include "ringlet/result.h"

namespace ringlet {

// Writes to `out` the parts of `ram` not covered by any `reserved` range,
// shrunk inward to whole 4 KiB pages, sorted by address. Reserved ranges may
// overlap each other and RAM arbitrarily. Returns the number written, or Full
// when more than `max_out` pieces result; InvalidArgument when a range wraps.
Result<size_t> subtract_reserved(const PhysRange* ram, size_t ram_count, const PhysRange* reserved,
                                 size_t reserved_count, PhysRange* out, size_t max_out);

}  // namespace ringlet
