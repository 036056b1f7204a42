// LocalPorts: the local port a core picks for a flow it opens is one whose
// replies the steering (and RSS, programmed from it) brings back to that
// core; taken ports are skipped; a range with no such port left is an error.
#include "net/local_ports.h"

#include <gtest/gtest.h>

#include <memory>
#include <random>
#include <set>
#include <vector>

namespace ringlet::net {
namespace {

constexpr uint32_t kGuest = 0x0a00020f;    // 10.0.2.15, host order
constexpr uint32_t kGateway = 0x0a000202;  // 10.0.2.2

std::unique_ptr<FlowSteering> steering(uint16_t cores, const uint8_t* key = nullptr) {
    auto s = std::make_unique<FlowSteering>();
    EXPECT_TRUE(s->init(cores, key).ok());
    return s;
}

// A core's stack as TryBind sees it: the ports it holds.
struct Stack {
    std::set<uint16_t> taken;
    std::vector<uint16_t> asked;
    Error other = Error::Ok;  // answer this instead of binding (a failing stack)

    static Result<void> try_bind(void* ctx, uint16_t port) {
        auto* s = static_cast<Stack*>(ctx);
        s->asked.push_back(port);
        if (s->other != Error::Ok) return s->other;
        if (!s->taken.insert(port).second) return Error::Exists;
        return {};
    }
};

// The ports of [first, last] whose flow from remote comes to `core`, by the
// full hash (not LocalPorts' shortcut).
std::vector<uint16_t> ports_of(const FlowSteering& s, uint16_t core, uint32_t remote, uint16_t rport,
                               uint32_t first = LocalPorts::kFirst, uint32_t last = LocalPorts::kLast) {
    std::vector<uint16_t> out;
    for (uint32_t p = first; p <= last; ++p) {
        if (s.core_for_rx_flow(kGuest, static_cast<uint16_t>(p), remote, rport) == core) {
            out.push_back(static_cast<uint16_t>(p));
        }
    }
    return out;
}

TEST(LocalPorts, EveryChosenPortIsReceivedByTheCallingCore) {
    std::mt19937 rng(14);
    for (uint16_t cores : {1, 2, 3, 4}) {
        auto s = steering(cores);
        for (uint16_t core = 0; core < cores; ++core) {
            LocalPorts ports;
            ASSERT_TRUE(ports.init(*s, core).ok());
            ports.seed(rng());
            Stack stack;
            // The gateway on a few ports, and random peers.
            for (int i = 0; i < 400; ++i) {
                const uint32_t remote = i % 2 == 0 ? kGateway : static_cast<uint32_t>(rng());
                const auto rport = static_cast<uint16_t>(i % 4 == 0 ? 5555 : 1 + rng() % 65535);
                auto p = ports.bind(kGuest, remote, rport, &Stack::try_bind, &stack);
                ASSERT_TRUE(p.ok()) << "cores " << cores << " core " << core << " flow " << i;
                EXPECT_GE(*p, LocalPorts::kFirst);
                EXPECT_EQ(s->core_for_rx_flow(kGuest, *p, remote, rport), core)
                    << "port " << *p << " from core " << core << " of " << cores;
                EXPECT_TRUE(ports.receives(kGuest, *p, remote, rport));
            }
            EXPECT_EQ(stack.taken.size(), 400u);  // each a port the stack did not hold
        }
    }
}

TEST(LocalPorts, HoldsForAnotherKeyToo) {
    uint8_t key[kRssKeyBytes];
    for (uint32_t i = 0; i < kRssKeyBytes; ++i) key[i] = static_cast<uint8_t>(i * 37 + 11);
    auto s = steering(4, key);
    LocalPorts ports;
    ASSERT_TRUE(ports.init(*s, 3).ok());
    Stack stack;
    for (uint16_t rport = 1; rport <= 200; ++rport) {
        auto p = ports.bind(kGuest, kGateway, rport, &Stack::try_bind, &stack);
        ASSERT_TRUE(p.ok());
        EXPECT_EQ(s->core_for_rx_flow(kGuest, *p, kGateway, rport), 3);
    }
}

TEST(LocalPorts, ExhaustedRangeIsAnErrorAfterAskingEachPortOnce) {
    auto s = steering(4);
    for (uint16_t core = 0; core < 4; ++core) {
        LocalPorts ports;
        ASSERT_TRUE(ports.init(*s, core).ok());
        Stack stack;
        const std::vector<uint16_t> mine = ports_of(*s, core, kGateway, 8080);
        // About one port in four steers to each core.
        EXPECT_GT(mine.size(), 16384u / 4 - 512);
        EXPECT_LT(mine.size(), 16384u / 4 + 512);
        for (uint16_t p : mine) stack.taken.insert(p);  // all taken already
        auto r = ports.bind(kGuest, kGateway, 8080, &Stack::try_bind, &stack);
        ASSERT_FALSE(r.ok());
        EXPECT_EQ(r.error(), Error::Exists);
        // Only ports that steer here were asked for, each once.
        EXPECT_EQ(stack.asked.size(), mine.size());
        EXPECT_EQ(std::set<uint16_t>(stack.asked.begin(), stack.asked.end()),
                  std::set<uint16_t>(mine.begin(), mine.end()));
    }
}

TEST(LocalPorts, SmallRangeRunsOutThenReusesAFreedPort) {
    auto s = steering(4);
    LocalPorts ports;
    ASSERT_TRUE(ports.init(*s, 2, 50000, 50063).ok());
    const std::vector<uint16_t> mine = ports_of(*s, 2, kGateway, 7, 50000, 50063);
    ASSERT_FALSE(mine.empty());
    Stack stack;
    std::set<uint16_t> got;
    for (size_t i = 0; i < mine.size(); ++i) {
        auto p = ports.bind(kGuest, kGateway, 7, &Stack::try_bind, &stack);
        ASSERT_TRUE(p.ok());
        got.insert(*p);
    }
    EXPECT_EQ(got, std::set<uint16_t>(mine.begin(), mine.end()));
    auto none = ports.bind(kGuest, kGateway, 7, &Stack::try_bind, &stack);
    ASSERT_FALSE(none.ok());
    EXPECT_EQ(none.error(), Error::Exists);
    // The stack lets one go (a connection closed): it is found again.
    stack.taken.erase(mine[mine.size() / 2]);
    auto again = ports.bind(kGuest, kGateway, 7, &Stack::try_bind, &stack);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(*again, mine[mine.size() / 2]);
}

TEST(LocalPorts, StackErrorOtherThanTakenEndsTheSearch) {
    auto s = steering(2);
    LocalPorts ports;
    ASSERT_TRUE(ports.init(*s, 1).ok());
    Stack stack;
    stack.other = Error::OutOfMemory;
    auto r = ports.bind(kGuest, kGateway, 80, &Stack::try_bind, &stack);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error(), Error::OutOfMemory);
    EXPECT_EQ(stack.asked.size(), 1u);
}

TEST(LocalPorts, CursorMovesOnAndTheSeedPicksTheStart) {
    auto s = steering(4);
    LocalPorts ports;
    ASSERT_TRUE(ports.init(*s, 1).ok());
    EXPECT_FALSE(ports.seeded());
    Stack stack;
    // Unseeded: from the start of the range, in order, never the same port
    // twice even when the stack would take it again (a closed connection's
    // port is not reused at once: the peer may still hold it in TIME_WAIT).
    auto a = ports.bind(kGuest, kGateway, 80, &Stack::try_bind, &stack);
    stack.taken.clear();
    auto b = ports.bind(kGuest, kGateway, 80, &Stack::try_bind, &stack);
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_EQ(*a, ports_of(*s, 1, kGateway, 80)[0]);
    EXPECT_GT(*b, *a);
    // A seed moves the start into the range.
    ports.seed(40000);
    EXPECT_TRUE(ports.seeded());
    auto c = ports.bind(kGuest, kGateway, 80, &Stack::try_bind, &stack);
    ASSERT_TRUE(c.ok());
    EXPECT_GE(*c, LocalPorts::kFirst + 40000 % 16384);
    // From the last port the search wraps to the first.
    LocalPorts top;
    ASSERT_TRUE(top.init(*s, 1).ok());
    top.seed(16383);  // starts at 65535
    Stack other;
    auto w = top.bind(kGuest, kGateway, 80, &Stack::try_bind, &other);
    ASSERT_TRUE(w.ok());
    const std::vector<uint16_t> mine = ports_of(*s, 1, kGateway, 80);
    EXPECT_EQ(*w, mine.back() == 65535 ? 65535 : mine[0]);
}

TEST(LocalPorts, CoresNeverPickTheSamePortForOnePeer) {
    auto s = steering(4);
    std::set<uint16_t> all;
    size_t total = 0;
    for (uint16_t core = 0; core < 4; ++core) {
        LocalPorts ports;
        ASSERT_TRUE(ports.init(*s, core).ok());
        Stack stack;  // each core's own stack
        for (int i = 0; i < 100; ++i) {
            auto p = ports.bind(kGuest, kGateway, 443, &Stack::try_bind, &stack);
            ASSERT_TRUE(p.ok());
            all.insert(*p);
            ++total;
        }
    }
    EXPECT_EQ(all.size(), total);
}

TEST(LocalPorts, InitChecksItsArguments) {
    auto s = steering(4);
    LocalPorts ports;
    EXPECT_EQ(ports.init(*s, 4).error(), Error::InvalidArgument);
    EXPECT_EQ(ports.init(*s, 0, 60000, 50000).error(), Error::InvalidArgument);
    EXPECT_EQ(ports.init(*s, 0, 0, 10).error(), Error::InvalidArgument);
    Stack stack;
    EXPECT_EQ(ports.bind(kGuest, kGateway, 80, &Stack::try_bind, &stack).error(), Error::InvalidArgument);
    ASSERT_TRUE(ports.init(*s, 3, 1024, 1024).ok());
    EXPECT_EQ(ports.core(), 3);
}

}  // namespace
}  // namespace ringlet::net
