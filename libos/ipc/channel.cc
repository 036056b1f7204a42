#include "libos/ipc/channel.h"

namespace ringlet::ipc {
namespace {

// The flag line sits at the end of each half (the ring starts the half).
std::atomic<uint32_t>& asleep_flag(unsigned char* half_base, size_t half) {
    return *reinterpret_cast<std::atomic<uint32_t>*>(half_base + half - kCacheLine);
}

}  // namespace

Result<ChannelEndpoint> ChannelEndpoint::attach(void* base, size_t bytes, uint32_t end, PeerNotifier& notifier) {
    auto* bytes_base = static_cast<unsigned char*>(base);
    const size_t half = (bytes / 2) & ~(kCacheLine - 1);
    if (!base || reinterpret_cast<uintptr_t>(base) % kCacheLine || half < kMinHalf || end > 1)
        return Error::InvalidArgument;
    // Ring d carries end d's messages; its receiver (end 1 - d) owns its flag.
    unsigned char* half_base[2] = {bytes_base, bytes_base + half};
    auto& out = *reinterpret_cast<Ring*>(half_base[end]);
    auto& in = *reinterpret_cast<Ring*>(half_base[1 - end]);
    return ChannelEndpoint(out, asleep_flag(half_base[end], half), in, asleep_flag(half_base[1 - end], half), end,
                           notifier);
}

Result<void> ChannelEndpoint::send(const RingMessage& message) {
    TRY(m_out.try_push(message));
    // The push's head store before the flag's load (pairs with prepare_to_sleep).
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (m_peer_asleep->load(std::memory_order_relaxed) != 0) {
        m_peer_asleep->store(0, std::memory_order_relaxed);
        TRY(m_notifier->notify_peer());
    }
    return ok();
}

Result<RingMessage> ChannelEndpoint::receive() { return m_in.try_pop(); }

bool ChannelEndpoint::prepare_to_sleep() {
    m_my_asleep->store(1, std::memory_order_relaxed);
    // The flag's store before the ring's load (pairs with send).
    std::atomic_thread_fence(std::memory_order_seq_cst);
    Result<bool> ready = m_in.has_message();
    if (!ready.ok() || *ready) {  // a message (or a corrupt ring to report): stay up
        awake();
        return false;
    }
    return true;
}

void ChannelEndpoint::awake() { m_my_asleep->store(0, std::memory_order_relaxed); }

}  // namespace ringlet::ipc
