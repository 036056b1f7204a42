// One end of a channel between two apps: the libOS's send and receive, with
// no kernel on the path. The channel's frame (the memory its capability
// names, mapped by both apps) holds one ring per direction:
//
//   [0, half)          end 0 → end 1: SpscRing<kSlots>, then at half - 64
//                      the receiver's "asleep" flag (end 1 sets it)
//   [half, 2 * half)   end 1 → end 0, the same way (end 0's flag)
//
// half = frame bytes / 2. The kernel only knows who is at each end and
// which notification bit wakes them (channel_control).
//
// Wakeups cost a syscall only when the receiver sleeps: a receiver about to
// sleep sets its flag and looks at its ring once more; a sender publishes
// its message and then looks at the flag. With a full fence between the
// store and the load on both sides, at least one of them sees the other, so
// a message is never left unseen by a sleeping receiver (and a busy receiver
// costs the sender nothing).
//
// Nothing read from the shared memory is trusted: a peer that scribbles on
// it can only make its own messages wrong (the ring reports BadFormat).
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <atomic>

#include "ringlet/result.h"
#include "ringlet/spsc_ring.h"

namespace ringlet::ipc {

// Raises the peer's notification (on Ringlet: the channel_control syscall).
class PeerNotifier {
public:
    virtual Result<void> notify_peer() = 0;

protected:
    ~PeerNotifier() = default;
};

class ChannelEndpoint {
public:
    static constexpr uint32_t kSlots = 32;  // messages in flight per direction
    using Ring = SpscRing<kSlots>;
    // The smallest half that holds a ring and the flag line after it.
    static constexpr size_t kMinHalf = sizeof(Ring) + kCacheLine;

    // Attaches to the channel memory [base, base + bytes) as end `end`.
    // InvalidArgument for a misaligned base, a half too small for a ring, or
    // an end other than 0 or 1.
    static Result<ChannelEndpoint> attach(void* base, size_t bytes, uint32_t end, PeerNotifier& notifier);

    // Queues `message` for the peer, waking it if it sleeps. Full if the
    // peer has not taken enough messages; BadFormat if it corrupted the ring.
    Result<void> send(const RingMessage& message);
    // The oldest message from the peer; Empty if none.
    Result<RingMessage> receive();

    // Call before sleeping on the channel's notification bit: true if the
    // caller may sleep now (nothing arrived; the peer will wake it), false if
    // a message is there (the caller stays awake and receives it).
    bool prepare_to_sleep();
    // Call after waking (or instead of sleeping): the peer need not wake us.
    void awake();

    uint32_t end() const { return m_end; }

private:
    ChannelEndpoint(Ring& out, std::atomic<uint32_t>& peer_asleep, Ring& in, std::atomic<uint32_t>& my_asleep,
                    uint32_t end, PeerNotifier& notifier)
        : m_out(out), m_in(in), m_peer_asleep(&peer_asleep), m_my_asleep(&my_asleep), m_end(end),
          m_notifier(&notifier) {}

    SpscProducer<kSlots> m_out;
    SpscConsumer<kSlots> m_in;
    std::atomic<uint32_t>* m_peer_asleep;
    std::atomic<uint32_t>* m_my_asleep;
    uint32_t m_end;
    PeerNotifier* m_notifier;
};

}  // namespace ringlet::ipc
