#include "libos/pdpix/queue.h"

namespace ringlet::pdpix {

// Defaults: the operation does not exist on this kind of queue.
rt::Task<Result<Queue*>> Queue::accept(sockaddr_in*) { co_return Error::Unsupported; }
rt::Task<Result<void>> Queue::connect(sockaddr_in) { co_return Error::Unsupported; }
rt::Task<Result<void>> Queue::push(mem::Buffer*, uint32_t, const sockaddr_in*) { co_return Error::Unsupported; }
rt::Task<Result<mem::Buffer*>> Queue::pop(sockaddr_in*) { co_return Error::Unsupported; }
rt::Task<Result<void>> Queue::pushat(mem::Buffer*, uint32_t, uint64_t) { co_return Error::Unsupported; }
rt::Task<Result<mem::Buffer*>> Queue::popat(uint64_t, uint32_t) { co_return Error::Unsupported; }
rt::Task<Result<void>> Queue::flush() { co_return Error::Unsupported; }

}  // namespace ringlet::pdpix
