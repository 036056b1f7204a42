// Two apps on two harts talking over a channel, then a revoke that reaches
// both harts. Started with no capability it is the "starter": it makes the
// channel, starts a copy of itself on another hart handing it the channel,
// pings it, grants it a frame through its dispatcher cap, and finally
// revokes the frame the channel lives in while the copy is reading the
// rings — the copy faults on its hart, the starter's own view through the
// channel faults on its hart, and the starter's frame mapping survives.
// Started with a capability (a3) it is the "echoer" on the other end.
#include "libos/ipc/channel.h"
#include "ringlet/cap_types.h"
#include "user/rt/syscall.h"

using namespace ringlet;

namespace {

constexpr uint64_t kPages = 2;
constexpr uint64_t kFrameVa = 0x20000000;    // starter: the frame itself
constexpr uint64_t kChannelVa = 0x20100000;  // starter: the same memory through the channel cap
constexpr uint64_t kEchoVa = 0x20000000;     // echoer: the channel it was handed
constexpr uint64_t kGiftVa = 0x20200000;     // echoer: a frame granted later
constexpr uint64_t kStarterBit = 4, kEchoerBit = 2;
constexpr uint64_t kMessages = 10000;
constexpr uint64_t kGiftMagic = 0x5eed5eed600dd00dull;
constexpr uint64_t kMapR = kUserMapRead, kMapW = kUserMapWrite;

enum Kind : uint64_t { kPing = 1, kPong, kGift, kGiftSeen, kRevokeSoon, kReading };

class SyscallNotifier final : public ipc::PeerNotifier {
public:
    explicit SyscallNotifier(CapIndex channel) : m_channel(channel) {}
    Result<void> notify_peer() override {
        ++notifications;
        TRY(user::as_result(user::syscall(kSysChannelControl, m_channel, 0, 0)));
        return ok();
    }
    uint64_t notifications = 0;

private:
    CapIndex m_channel;
};

[[noreturn]] void fail(const char* what, Error e) {
    user::printf("channel: %s: %s\n", what, error_name(e));
    user::exit(1);
}

template <typename T>
T must(Result<T> r, const char* what) {
    if (!r) fail(what, r.error());
    return *r;
}

RingMessage make(uint64_t kind, uint64_t a = 0, uint64_t b = 0) {
    RingMessage m{};
    m.words[0] = kind;
    m.words[1] = a;
    m.words[2] = b;
    m.words[7] = kind ^ a ^ b;  // the echoer checks it: torn or stale slots show
    return m;
}

// The next message, sleeping on `bit` while there is none.
RingMessage next(ipc::ChannelEndpoint& ep, uint64_t bit) {
    for (;;) {
        auto m = ep.receive();
        if (m) {
            if (m->words[7] != (m->words[0] ^ m->words[1] ^ m->words[2])) fail("message check", Error::BadFormat);
            return *m;
        }
        if (m.error() != Error::Empty) fail("receive", m.error());
        if (ep.prepare_to_sleep()) {
            (void)user::syscall(kSysWait, 1ull << bit, 0);
            ep.awake();
        }
    }
}

void send(ipc::ChannelEndpoint& ep, const RingMessage& m) {
    for (;;) {
        auto r = ep.send(m);
        if (r) return;
        if (r.error() != Error::Full) fail("send", r.error());
    }
}

int echoer(CapIndex channel) {
    auto id = must(user::as_result(user::syscall(kSysCapIdentify, channel)), "identify");
    if ((id & 0xff) != kCapChannel) fail("start cap is not a channel", Error::WrongType);
    must(user::as_result(user::syscall(kSysFrameMap, channel, kEchoVa, kMapR | kMapW)), "map channel");
    uint64_t end = must(user::as_result(user::syscall(kSysChannelControl, channel, 1, kEchoerBit)), "bind");
    SyscallNotifier notifier(channel);
    auto ep = must(ipc::ChannelEndpoint::attach(reinterpret_cast<void*>(kEchoVa), kPages * 4096, end, notifier),
                   "attach");
    user::printf("channel: echoer on hart %lu is end %lu\n", user::hart_index(), end);
    for (;;) {
        RingMessage m = next(ep, kEchoerBit);
        switch (m.words[0]) {
        case kPing: send(ep, make(kPong, m.words[1], m.words[1] * 3)); break;
        case kGift: {
            CapIndex gift = m.words[1];
            must(user::as_result(user::syscall(kSysFrameMap, gift, kGiftVa, kMapR)), "map gift");
            uint64_t seen = *reinterpret_cast<volatile uint64_t*>(kGiftVa);
            auto write = user::syscall(kSysFrameMap, gift, kGiftVa + 0x100000, kMapR | kMapW);
            send(ep, make(kGiftSeen, seen, write.error));
            break;
        }
        case kRevokeSoon: {
            send(ep, make(kReading));
            // Read the rings until the mapping goes: the starter's revoke
            // must reach this hart (TLB shootdown) and kill us here.
            auto* head = reinterpret_cast<volatile uint64_t*>(kEchoVa);
            uint64_t sum = 0;
            for (;;) sum += *head;
        }
        default: fail("unknown message", Error::BadFormat);
        }
    }
}

int starter() {
    CapIndex frame = must(user::as_result(user::frame_alloc(kPages)), "frame_alloc");
    must(user::as_result(user::syscall(kSysFrameMap, frame, kFrameVa, kMapR | kMapW)), "map frame");
    CapIndex channel = must(user::as_result(user::syscall(kSysChannelCreate, frame)), "channel_create");
    must(user::as_result(user::syscall(kSysFrameMap, channel, kChannelVa, kMapR | kMapW)), "map channel");
    uint64_t end = must(user::as_result(user::syscall(kSysChannelControl, channel, 1, kStarterBit)), "bind");
    uint64_t other = user::hart_index() == 0 ? 1 : 0;
    const StartGift ring{channel, kRightRead | kRightWrite | kRightMap, 0};
    CapIndex echoer = must(user::start_app("channel", other, &ring, 1), "dispatcher_start");
    SyscallNotifier notifier(channel);
    auto ep = must(ipc::ChannelEndpoint::attach(reinterpret_cast<void*>(kChannelVa), kPages * 4096, end, notifier),
                   "attach");

    // Pings with up to 16 in flight; every pong is checked.
    uint64_t sent = 0, received = 0;
    uint64_t t0 = user::now();
    while (received < kMessages) {
        while (sent < kMessages && sent - received < 16 && ep.send(make(kPing, sent)).ok()) ++sent;
        RingMessage m = next(ep, kStarterBit);
        if (m.words[0] != kPong || m.words[1] != received || m.words[2] != received * 3) {
            user::printf("channel: pong %lu wrong: kind %lu value %lu\n", received, m.words[0], m.words[1]);
            return 1;
        }
        ++received;
    }
    uint64_t ticks = user::now() - t0;
    user::printf("channel: %lu messages echoed between harts %lu and %lu (%lu wakeup syscalls, %lu us)\n", received,
                 user::hart_index(), other, notifier.notifications, ticks * 1000000 / user::timebase_hz());

    // A grant into the echoer's table through its dispatcher cap, read-only.
    CapIndex gift = must(user::as_result(user::frame_alloc(1)), "gift frame");
    must(user::as_result(user::syscall(kSysFrameMap, gift, 0x20300000, kMapR | kMapW)), "map gift");
    *reinterpret_cast<volatile uint64_t*>(0x20300000) = kGiftMagic;
    CapIndex given = must(user::as_result(user::syscall(kSysCapMint, gift, kRightRead | kRightMap, echoer)), "grant");
    send(ep, make(kGift, given));
    RingMessage seen = next(ep, kStarterBit);
    bool gift_ok = seen.words[0] == kGiftSeen && seen.words[1] == kGiftMagic &&
                   seen.words[2] == static_cast<uint64_t>(Error::NoRights);
    user::printf("channel: granted frame read by the other app, write refused: %s\n", gift_ok ? "ok" : "FAILED");
    if (!gift_ok) return 1;

    // Revoke while the echoer reads the rings on its hart.
    send(ep, make(kRevokeSoon));
    if (next(ep, kStarterBit).words[0] != kReading) fail("echoer did not start reading", Error::BadFormat);
    must(user::as_result(user::syscall(kSysCapRevoke, frame)), "revoke");
    user::printf("channel: revoked the ring frame's descendants\n");
    auto gone = user::syscall(kSysCapIdentify, channel);
    user::printf("channel: channel cap after revoke: %s\n", error_name(static_cast<Error>(gone.error)));
    auto* words = reinterpret_cast<volatile uint64_t*>(kFrameVa);
    user::printf("channel: frame mapping still readable after revoke (head %lu)\n", words[0]);
    user::printf("channel: reading through the revoked channel mapping now\n");
    return static_cast<int>(*reinterpret_cast<volatile uint64_t*>(kChannelVa));  // faults
}

}  // namespace

int main(int, char**) {
    if (user::start_cap() != 0) return echoer(user::start_cap());
    return starter();
}
