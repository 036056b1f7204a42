// Decoding of the calls whose authority is a capability (frame_alloc: a
// memory cap; dispatcher_start: an image cap and a hart cap; cap_mint with a
// budget), and of the retired device_claim.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "kernel/cap/boot_caps.h"
#include "kernel/syscall/decode.h"
#include "tests/kernel/syscall/fake_user.h"

namespace ringlet {
namespace {

using test::FakeUserMemory;

class DecodeAuthorityTest : public ::testing::Test {
protected:
    void SetUp() override {
        m_caps = std::make_unique<CapSpace>();
        m_ctx = DecodeContext{m_caps.get(), kTable, &m_memory, FakeUserMemory::kUserTop, 4};
        m_memory_cap = *m_caps->insert_root(kTable, kCapMemory, kRightAlloc | kRightGrant, 0, 8 * 4096);
        m_frame = *m_caps->insert_root(kTable, kCapFrame, kRightFrameAll, 0x80000000, 4096);
        m_image = *m_caps->insert_root(kTable, kCapImage, kRightExec | kRightGrant, 0x84000000, 0x10000);
        for (uint32_t h = 0; h < 4; ++h)
            m_harts[h] = *m_caps->insert_root(kTable, kCapHart, kRightRun | kRightGrant, 0, 0, 0, h);
        m_memory.put(0x10200, "hello one two", 13);
    }
    Result<SyscallRequest> decode(uint64_t number, uint64_t a0 = 0, uint64_t a1 = 0, uint64_t a2 = 0,
                                  uint64_t a3 = 0, uint64_t a4 = 0, uint64_t a5 = 0) {
        return decode_syscall(SyscallArgs{number, {a0, a1, a2, a3, a4, a5}}, m_ctx);
    }
    Error error_of(const Result<SyscallRequest>& r) { return r.ok() ? Error::Ok : r.error(); }
    CapIndex mint(CapIndex cap, uint32_t rights) { return *m_caps->mint(kTable, cap, rights); }

    static constexpr uint16_t kTable = 2;
    std::unique_ptr<CapSpace> m_caps;
    FakeUserMemory m_memory;
    DecodeContext m_ctx{};
    CapIndex m_memory_cap = 0, m_frame = 0, m_image = 0;
    CapIndex m_harts[4] = {};
};

TEST_F(DecodeAuthorityTest, FrameAllocNeedsAMemoryCapWithBudget) {
    auto r = decode(kSysFrameAlloc, m_memory_cap, 4, kFrameContiguous);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->frame_alloc.pages, 4u);
    EXPECT_EQ(r->frame_alloc.flags, kFrameContiguous);
    EXPECT_EQ(r->frame_alloc.memory.index, m_memory_cap);
    EXPECT_EQ(error_of(decode(kSysFrameAlloc, m_memory_cap, 8, 0)), Error::Ok);
    EXPECT_EQ(error_of(decode(kSysFrameAlloc, m_memory_cap, 9, 0)), Error::OutOfMemory);  // past the budget
    EXPECT_EQ(error_of(decode(kSysFrameAlloc, 0, 1, 0)), Error::BadCapability);          // no cap: no memory
    EXPECT_EQ(error_of(decode(kSysFrameAlloc, m_frame, 1, 0)), Error::WrongType);
    EXPECT_EQ(error_of(decode(kSysFrameAlloc, mint(m_memory_cap, kRightGrant), 1, 0)), Error::NoRights);
    EXPECT_EQ(error_of(decode(kSysFrameAlloc, m_memory_cap, 0, 0)), Error::InvalidArgument);
    EXPECT_EQ(error_of(decode(kSysFrameAlloc, m_memory_cap, kMaxFrameAllocPages + 1, 0)), Error::InvalidArgument);
    EXPECT_EQ(error_of(decode(kSysFrameAlloc, m_memory_cap, 1, 0x80)), Error::InvalidArgument);
    EXPECT_EQ(error_of(decode(kSysFrameAlloc, m_memory_cap, 1, 0, 1)), Error::InvalidArgument);  // reserved
}

TEST_F(DecodeAuthorityTest, MintWithABudget) {
    auto r = decode(kSysCapMint, m_memory_cap, kRightAlloc, 0, 4 * 4096);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->mint.budget, 4u * 4096);
    EXPECT_EQ(error_of(decode(kSysCapMint, m_memory_cap, kRightAlloc, 0, 9 * 4096)), Error::OutOfMemory);
    EXPECT_EQ(error_of(decode(kSysCapMint, m_memory_cap, kRightAlloc, 0, 4096 + 1)), Error::InvalidArgument);
    EXPECT_EQ(error_of(decode(kSysCapMint, m_frame, kRightRead, 0, 4096)), Error::InvalidArgument);
    EXPECT_EQ(error_of(decode(kSysCapMint, m_memory_cap, kRightAlloc, 0, 4096, 1)), Error::InvalidArgument);
    // A child's budget is bounded by what its parent has left, not by the root's.
    CapIndex child = *m_caps->grant(kTable, m_memory_cap, kTable, kRightAlloc | kRightGrant, 2 * 4096);
    EXPECT_EQ(error_of(decode(kSysCapMint, child, kRightAlloc, 0, 3 * 4096)), Error::OutOfMemory);
    EXPECT_TRUE(decode(kSysCapMint, child, kRightAlloc, 0, 2 * 4096).ok());
}

TEST_F(DecodeAuthorityTest, DeviceClaimIsRetired) {
    EXPECT_EQ(error_of(decode(kSysRetired13, 0)), Error::Unsupported);
    EXPECT_EQ(error_of(decode(kSysRetired13, 1)), Error::Unsupported);
}

TEST_F(DecodeAuthorityTest, DispatcherStartSplitsTheLine) {
    auto r = decode(kSysDispatcherStart, m_image, 0x10200, 13, m_harts[3]);
    ASSERT_TRUE(r.ok());
    const DispatcherStartRequest& d = r->dispatcher_start;
    EXPECT_EQ(std::string(d.line, d.name_len), "hello");
    EXPECT_EQ(std::string(d.line, d.line_len), "hello one two");
    EXPECT_EQ(d.hart, 3u);
    EXPECT_EQ(d.gift_count, 0u);
    EXPECT_EQ(error_of(decode(kSysDispatcherStart, m_image, 0x10200, 0, m_harts[0])), Error::InvalidArgument);
    EXPECT_EQ(error_of(decode(kSysDispatcherStart, m_image, 0x10200, kMaxStartLine + 1, m_harts[0])),
              Error::InvalidArgument);
    EXPECT_EQ(error_of(decode(kSysDispatcherStart, m_image, 0xffffffffc0200000ull, 5, m_harts[0])), Error::BadAddress);
    m_memory.put(0x10300, "a\0b", 3);
    EXPECT_EQ(error_of(decode(kSysDispatcherStart, m_image, 0x10300, 3, m_harts[0])), Error::InvalidArgument);
    m_memory.put(0x10300, " ab", 3);  // no name
    EXPECT_EQ(error_of(decode(kSysDispatcherStart, m_image, 0x10300, 3, m_harts[0])), Error::InvalidArgument);
}

TEST_F(DecodeAuthorityTest, DispatcherStartNeedsImageAndHartCaps) {
    EXPECT_EQ(error_of(decode(kSysDispatcherStart, 0, 0x10200, 5, m_harts[0])), Error::BadCapability);
    EXPECT_EQ(error_of(decode(kSysDispatcherStart, m_frame, 0x10200, 5, m_harts[0])), Error::WrongType);
    EXPECT_EQ(error_of(decode(kSysDispatcherStart, mint(m_image, kRightGrant), 0x10200, 5, m_harts[0])),
              Error::NoRights);
    EXPECT_EQ(error_of(decode(kSysDispatcherStart, m_image, 0x10200, 5, 0)), Error::BadCapability);
    EXPECT_EQ(error_of(decode(kSysDispatcherStart, m_image, 0x10200, 5, m_frame)), Error::WrongType);
    EXPECT_EQ(error_of(decode(kSysDispatcherStart, m_image, 0x10200, 5, mint(m_harts[1], kRightGrant))),
              Error::NoRights);
    // A hart cap naming a hart the machine does not have (a kernel bug) is refused.
    CapIndex ghost = *m_caps->insert_root(kTable, kCapHart, kRightRun, 0, 0, 0, 9);
    EXPECT_EQ(error_of(decode(kSysDispatcherStart, m_image, 0x10200, 5, ghost)), Error::InvalidArgument);
}

TEST_F(DecodeAuthorityTest, DispatcherStartCopiesTheGifts) {
    const StartGift gifts[2] = {{m_frame, kRightRead | kRightMap, 0}, {m_memory_cap, kRightAlloc, 0}};
    m_memory.put(0x12000, gifts, sizeof gifts);
    auto r = decode(kSysDispatcherStart, m_image, 0x10200, 5, m_harts[0], 0x12000, 2);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->dispatcher_start.gift_count, 2u);
    EXPECT_EQ(r->dispatcher_start.gifts[1].cap, m_memory_cap);
    EXPECT_EQ(r->dispatcher_start.gifts[0].rights, uint32_t{kRightRead | kRightMap});
    EXPECT_EQ(error_of(decode(kSysDispatcherStart, m_image, 0x10200, 5, m_harts[0], 0x12000, kMaxStartGifts + 1)),
              Error::InvalidArgument);
    EXPECT_EQ(error_of(decode(kSysDispatcherStart, m_image, 0x10200, 5, m_harts[0], 0x12000, 0)),
              Error::InvalidArgument);  // a list address with no gifts
    EXPECT_EQ(error_of(decode(kSysDispatcherStart, m_image, 0x10200, 5, m_harts[0], 0x7f000000, 1)),
              Error::BadAddress);
    const StartGift bad[3] = {{m_frame, 1u << 8, 0}, {m_frame, kRightRead, 1}, {m_frame + (9u << 16), kRightRead, 0}};
    m_memory.put(0x12100, bad, sizeof bad);
    EXPECT_EQ(error_of(decode(kSysDispatcherStart, m_image, 0x10200, 5, m_harts[0], 0x12100, 1)),
              Error::InvalidArgument);  // unknown right
    EXPECT_EQ(error_of(decode(kSysDispatcherStart, m_image, 0x10200, 5, m_harts[0], 0x12110, 1)),
              Error::InvalidArgument);  // reserved word set
    EXPECT_EQ(error_of(decode(kSysDispatcherStart, m_image, 0x10200, 5, m_harts[0], 0x12120, 1)),
              Error::BadCapability);  // forged
    const StartGift no_grant{mint(m_frame, kRightRead), kRightRead, 0};
    m_memory.put(0x12200, &no_grant, sizeof no_grant);
    EXPECT_EQ(error_of(decode(kSysDispatcherStart, m_image, 0x10200, 5, m_harts[0], 0x12200, 1)), Error::NoRights);
}

}  // namespace
}  // namespace ringlet
