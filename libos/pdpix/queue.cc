#include "libos/pdpix/queue.h"

namespace ringlet::pdpix {

// Defaults: the operation does not exist on this kind of queue.
rt::Task<Result<Queue*>> Queue::accept(sockaddr_in*) { co_return Error::Unsupported; }
rt::Task<Result<void>> Queue::connect(sockaddr_in) { co_return Error::Unsupported; }
rt::Task<Result<void>> Queue::push(mem::Buffer*, uint32_t, const sockaddr_in*) { co_return Error::Unsupported; }
rt::Task<Result<mem::Buffer*>> Queue::pop(sockaddr_in*) { co_return Error::Unsupported; }

}  // namespace ringlet::pdpix
