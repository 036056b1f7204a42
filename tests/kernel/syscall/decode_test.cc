// Decoding of every system call in include/ringlet/syscall_abi.h, with good
// and bad arguments (kernel/syscall/decode.h).
#include "kernel/syscall/decode.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "tests/kernel/syscall/fake_user.h"

namespace ringlet {
namespace {

using test::FakeUserMemory;

class DecodeTest : public ::testing::Test {
protected:
    void SetUp() override {
        m_caps = std::make_unique<CapSpace>();
        m_ctx = DecodeContext{m_caps.get(), kTable, &m_memory, FakeUserMemory::kUserTop, 4};
        m_frame = root(kCapFrame, kRightAll, 0x80000000, 2 * 4096);
        m_device = root(kCapDevice, kRightRead | kRightWrite | kRightMap | kRightGrant, 0x10001000, 4096);
    }
    CapIndex root(uint8_t type, uint32_t rights, uint64_t base, uint64_t size, uint16_t table = kTable) {
        auto r = m_caps->insert_root(table, type, rights, base, size);
        EXPECT_TRUE(r.ok());
        return r.value_or(0);
    }
    CapIndex mint(CapIndex cap, uint32_t rights) {
        auto r = m_caps->mint(kTable, cap, rights);
        EXPECT_TRUE(r.ok());
        return r.value_or(0);
    }
    Result<SyscallRequest> decode(uint64_t number, uint64_t a0 = 0, uint64_t a1 = 0, uint64_t a2 = 0,
                                  uint64_t a3 = 0, uint64_t a4 = 0, uint64_t a5 = 0) {
        return decode_syscall(SyscallArgs{number, {a0, a1, a2, a3, a4, a5}}, m_ctx);
    }
    Error error_of(const Result<SyscallRequest>& r) { return r.ok() ? Error::Ok : r.error(); }

    static constexpr uint16_t kTable = 3;
    std::unique_ptr<CapSpace> m_caps;
    FakeUserMemory m_memory;
    DecodeContext m_ctx{};
    CapIndex m_frame = 0;
    CapIndex m_device = 0;
};

TEST_F(DecodeTest, UnknownNumbersAreUnsupported) {
    EXPECT_EQ(error_of(decode(kSysCount)), Error::Unsupported);
    EXPECT_EQ(error_of(decode(kSysCount + 1)), Error::Unsupported);
    EXPECT_EQ(error_of(decode(~0ull)), Error::Unsupported);
}

TEST_F(DecodeTest, UnusedRegistersMustBeZero) {
    EXPECT_EQ(error_of(decode(kSysExit, 0, 1)), Error::InvalidArgument);
    EXPECT_EQ(error_of(decode(kSysCapIdentify, m_frame, 0, 0, 0, 0, 7)), Error::InvalidArgument);
    EXPECT_EQ(error_of(decode(kSysFrameMap, m_frame, 0x20000000, kUserMapRead, 1)), Error::InvalidArgument);
    EXPECT_EQ(error_of(decode(kSysWait, 1, 0, 9)), Error::InvalidArgument);
}

TEST_F(DecodeTest, DebugPrintCopiesTheTextIn) {
    m_memory.put(0x10100, "hello", 5);
    auto r = decode(kSysDebugPrint, 5, 0x10100);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->number, kSysDebugPrint);
    EXPECT_EQ(r->debug_print.len, 5u);
    EXPECT_EQ(std::string(r->debug_print.text, 5), "hello");
    EXPECT_EQ(m_memory.m_copies, 1);
}

TEST_F(DecodeTest, DebugPrintRefusesBadRanges) {
    EXPECT_EQ(error_of(decode(kSysDebugPrint, kMaxDebugPrint + 1, 0x10000)), Error::InvalidArgument);
    EXPECT_EQ(error_of(decode(kSysDebugPrint, 16, 0xffffffc000000000ull)), Error::BadAddress);  // kernel half
    EXPECT_EQ(error_of(decode(kSysDebugPrint, 16, 0)), Error::BadAddress);                      // null page
    EXPECT_EQ(error_of(decode(kSysDebugPrint, 16, FakeUserMemory::kUserTop - 8)), Error::BadAddress);  // crosses top
    EXPECT_EQ(error_of(decode(kSysDebugPrint, 16, ~0ull - 4)), Error::BadAddress);              // wraps
    EXPECT_EQ(error_of(decode(kSysDebugPrint, 16, 0x7000000)), Error::BadAddress);              // unmapped
    EXPECT_EQ(error_of(decode(kSysDebugPrint, 16, FakeUserMemory::kBase + FakeUserMemory::kSize - 8)),
              Error::BadAddress);  // runs off the mapping
    // Nothing outside the user half ever reached the address space.
    EXPECT_EQ(m_memory.m_copies, 2);
    // An empty print reads nothing, wherever it points.
    auto empty = decode(kSysDebugPrint, 0, 0);
    ASSERT_TRUE(empty.ok());
    EXPECT_EQ(empty->debug_print.len, 0u);
}

TEST_F(DecodeTest, ExitKeepsTheSignedCode) {
    auto r = decode(kSysExit, static_cast<uint64_t>(-3));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->exit.code, -3);
}

TEST_F(DecodeTest, WaitNeedsABitOrADeadline) {
    EXPECT_EQ(error_of(decode(kSysWait, 0, 0)), Error::InvalidArgument);
    auto r = decode(kSysWait, 0x5, 1000);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->wait.mask, 0x5u);
    EXPECT_EQ(r->wait.deadline, 1000u);
    EXPECT_TRUE(decode(kSysWait, 0, 1).ok());
    EXPECT_TRUE(decode(kSysWait, 1, 0).ok());
}

// The kernel's fast path decodes wait, exit and debug_print with their own
// decoders, without a CapSpace: they must agree with decode_syscall on every
// argument, accepted or refused.
TEST_F(DecodeTest, FastPathDecodersAgreeWithTheGeneralDecoder) {
    m_memory.put(0x10100, "fast", 4);
    const uint64_t values[] = {0, 1, 4, 5, 9, kMaxDebugPrint + 1, 0x10100, FakeUserMemory::kUserTop - 2,
                               0xffffffc000000000ull, ~0ull};
    for (uint64_t n : {kSysWait, kSysExit, kSysDebugPrint}) {
        EXPECT_TRUE(is_capability_free(n));
        for (uint64_t a0 : values)
            for (uint64_t a1 : values)
                for (uint64_t a2 : {0ull, 3ull}) {
                    const SyscallArgs args{n, {a0, a1, 0, 0, 0, a2}};
                    const auto general = decode_syscall(args, m_ctx);
                    if (n == kSysWait) {
                        const auto fast = decode_wait(args);
                        ASSERT_EQ(fast.ok(), general.ok()) << a0 << " " << a1 << " " << a2;
                        if (!fast.ok()) EXPECT_EQ(fast.error(), general.error());
                        else EXPECT_TRUE(fast->mask == general->wait.mask && fast->deadline == general->wait.deadline);
                    } else if (n == kSysExit) {
                        const auto fast = decode_exit(args);
                        ASSERT_EQ(fast.ok(), general.ok());
                        if (!fast.ok()) EXPECT_EQ(fast.error(), general.error());
                        else EXPECT_EQ(fast->code, general->exit.code);
                    } else {
                        DebugPrintRequest out;
                        const auto fast = decode_debug_print(args, m_memory, FakeUserMemory::kUserTop, out);
                        ASSERT_EQ(fast.ok(), general.ok()) << a0 << " " << a1 << " " << a2;
                        if (!fast.ok()) EXPECT_EQ(fast.error(), general.error());
                        else EXPECT_EQ(std::string(out.text, out.len),
                                       std::string(general->debug_print.text, general->debug_print.len));
                    }
                }
    }
    for (uint64_t n = kSysCapIdentify; n <= kSysCount; ++n)
        EXPECT_EQ(is_capability_free(n), n == kSysUpcall) << n;  // upcall: the caller's own dispatcher
}

TEST_F(DecodeTest, FastPathWaitRefusesWhatCouldNeverEnd) {
    EXPECT_EQ(decode_wait(SyscallArgs{kSysWait, {0, 0, 0, 0, 0, 0}}).error(), Error::InvalidArgument);
    EXPECT_EQ(decode_wait(SyscallArgs{kSysWait, {1, 0, 0, 0, 1, 0}}).error(), Error::InvalidArgument);
    auto r = decode_wait(SyscallArgs{kSysWait, {0x8, 77, 0, 0, 0, 0}});
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->mask, 0x8u);
    EXPECT_EQ(r->deadline, 77u);
}

TEST_F(DecodeTest, CapIdentifyDeleteRevokeLookUpTheCap) {
    for (uint64_t n : {kSysCapIdentify, kSysCapDelete, kSysCapRevoke}) {
        auto r = decode(n, m_frame);
        ASSERT_TRUE(r.ok()) << n;
        EXPECT_EQ(r->cap.cap.index, m_frame);
        EXPECT_EQ(r->cap.cap.node->base, 0x80000000u);
        EXPECT_EQ(error_of(decode(n, 0)), Error::BadCapability) << n;
        EXPECT_EQ(error_of(decode(n, m_frame + (1ull << 16))), Error::BadCapability) << n;  // wrong generation
        EXPECT_EQ(error_of(decode(n, ~0ull)), Error::BadCapability) << n;
    }
}

TEST_F(DecodeTest, CapsOfAnotherTableAreNotVisible) {
    CapIndex other = root(kCapFrame, kRightAll, 0x90000000, 4096, kTable + 1);
    // Same slot number and generation as m_frame in a fresh table: must still
    // resolve in the caller's table only, to the caller's own cap.
    auto r = decode(kSysCapIdentify, other);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->cap.cap.node->base, 0x80000000u);
    EXPECT_EQ(r->cap.cap.node->table, kTable);
}

TEST_F(DecodeTest, StaleCapAfterDeleteIsBadCapability) {
    CapIndex child = mint(m_frame, kRightRead | kRightMap);
    ASSERT_TRUE(m_caps->remove(kTable, child).ok());
    CapIndex reused = mint(m_frame, kRightRead | kRightMap);  // same slot, next generation
    EXPECT_EQ(reused & 0xffff, child & 0xffff);
    EXPECT_EQ(error_of(decode(kSysCapIdentify, child)), Error::BadCapability);
    EXPECT_TRUE(decode(kSysCapIdentify, reused).ok());
}

TEST_F(DecodeTest, MintChecksRightsAndGrant) {
    auto r = decode(kSysCapMint, m_frame, kRightRead | kRightMap);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->mint.rights, kRightRead | kRightMap);
    EXPECT_EQ(error_of(decode(kSysCapMint, m_frame, 1u << 8)), Error::InvalidArgument);  // unknown right
    CapIndex no_grant = mint(m_frame, kRightRead);
    EXPECT_EQ(error_of(decode(kSysCapMint, no_grant, kRightRead)), Error::NoRights);
    EXPECT_EQ(error_of(decode(kSysCapMint, 12345, 0)), Error::BadCapability);
}

TEST_F(DecodeTest, FrameMapGood) {
    auto r = decode(kSysFrameMap, m_frame, 0x20000000, kUserMapRead | kUserMapWrite);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->frame_map.cap.index, m_frame);
    EXPECT_EQ(r->frame_map.va, 0x20000000u);
    EXPECT_EQ(r->frame_map.perm, kUserMapRead | kUserMapWrite);
    // The last pages of the user half are fine; one page further is not.
    EXPECT_TRUE(decode(kSysFrameMap, m_frame, FakeUserMemory::kUserTop - 2 * 4096, kUserMapRead).ok());
    EXPECT_EQ(error_of(decode(kSysFrameMap, m_frame, FakeUserMemory::kUserTop - 4096, kUserMapRead)),
              Error::BadAddress);
}

TEST_F(DecodeTest, FrameMapPermissionsAndAddresses) {
    EXPECT_EQ(error_of(decode(kSysFrameMap, m_frame, 0x20000000, 0)), Error::InvalidArgument);
    EXPECT_EQ(error_of(decode(kSysFrameMap, m_frame, 0x20000000, kUserMapExec)), Error::InvalidArgument);
    EXPECT_EQ(error_of(decode(kSysFrameMap, m_frame, 0x20000000, kUserMapWrite | kUserMapExec)),
              Error::InvalidArgument);
    EXPECT_EQ(error_of(decode(kSysFrameMap, m_frame, 0x20000000, 8)), Error::InvalidArgument);
    EXPECT_EQ(error_of(decode(kSysFrameMap, m_frame, 0x20000001, kUserMapRead)), Error::InvalidArgument);
    EXPECT_EQ(error_of(decode(kSysFrameMap, m_frame, 0xffffffc000000000ull, kUserMapRead)), Error::BadAddress);
    EXPECT_EQ(error_of(decode(kSysFrameMap, m_frame, 0, kUserMapRead)), Error::BadAddress);
    EXPECT_EQ(error_of(decode(kSysFrameMap, m_frame, ~0ull & ~0xfffull, kUserMapRead)), Error::BadAddress);
}

TEST_F(DecodeTest, FrameMapNeedsTheMatchingRights) {
    CapIndex ro = mint(m_frame, kRightRead | kRightMap);
    EXPECT_TRUE(decode(kSysFrameMap, ro, 0x20000000, kUserMapRead).ok());
    EXPECT_EQ(error_of(decode(kSysFrameMap, ro, 0x20000000, kUserMapRead | kUserMapWrite)), Error::NoRights);
    EXPECT_EQ(error_of(decode(kSysFrameMap, ro, 0x20000000, kUserMapRead | kUserMapExec)), Error::NoRights);
    CapIndex no_map = mint(m_frame, kRightRead | kRightWrite);
    EXPECT_EQ(error_of(decode(kSysFrameMap, no_map, 0x20000000, kUserMapRead)), Error::NoRights);
    CapIndex rx = mint(m_frame, kRightRead | kRightExec | kRightMap);
    EXPECT_TRUE(decode(kSysFrameMap, rx, 0x20000000, kUserMapRead | kUserMapExec).ok());
}

TEST_F(DecodeTest, FrameMapOfDevices) {
    EXPECT_TRUE(decode(kSysFrameMap, m_device, 0x30000000, kUserMapRead | kUserMapWrite).ok());
    // MMIO is never executable, whatever the rights say.
    CapIndex all = root(kCapDevice, kRightAll, 0x10002000, 4096);
    EXPECT_EQ(error_of(decode(kSysFrameMap, all, 0x30000000, kUserMapRead | kUserMapExec)), Error::InvalidArgument);
}

TEST_F(DecodeTest, FrameMapOfAMappedCapIsBusy) {
    auto node = m_caps->lookup(kTable, m_frame, kCapFrame, 0);
    ASSERT_TRUE(node.ok());
    (*node)->map_root = 0x1234000;
    (*node)->map_va = 0x20000000;
    EXPECT_EQ(error_of(decode(kSysFrameMap, m_frame, 0x40000000, kUserMapRead)), Error::Busy);
}

TEST_F(DecodeTest, FrameUnmapNamesAnExistingMapping) {
    EXPECT_EQ(error_of(decode(kSysFrameUnmap, m_frame)), Error::NotFound);  // not mapped
    auto node = m_caps->lookup(kTable, m_frame, kCapFrame, 0);
    ASSERT_TRUE(node.ok());
    (*node)->map_root = 0x1234000;
    (*node)->map_va = 0x20000000;
    EXPECT_TRUE(decode(kSysFrameUnmap, m_frame).ok());
    EXPECT_TRUE(decode(kSysFrameUnmap, m_frame, 0x20000000).ok());
    EXPECT_EQ(error_of(decode(kSysFrameUnmap, m_frame, 0x30000000)), Error::NotFound);
    EXPECT_EQ(error_of(decode(kSysFrameUnmap, 77)), Error::BadCapability);
}

TEST_F(DecodeTest, FramePhysNeedsDma) {
    auto r = decode(kSysFramePhys, m_frame);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->cap.cap.node->base, 0x80000000u);
    CapIndex no_dma = mint(m_frame, kRightRead | kRightMap);
    EXPECT_EQ(error_of(decode(kSysFramePhys, no_dma)), Error::NoRights);
}

TEST_F(DecodeTest, ChannelCreateNeedsARingFrame) {
    auto r = decode(kSysChannelCreate, m_frame);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->channel_create.frame.index, m_frame);
    EXPECT_EQ(error_of(decode(kSysChannelCreate, m_frame, 5)), Error::InvalidArgument);  // reserved
    EXPECT_EQ(error_of(decode(kSysChannelCreate, m_device)), Error::WrongType);
    CapIndex small = root(kCapFrame, kRightAll, 0x81000000, 4096);
    EXPECT_EQ(error_of(decode(kSysChannelCreate, small)), Error::InvalidArgument);
    CapIndex ro = mint(m_frame, kRightRead | kRightMap);
    EXPECT_EQ(error_of(decode(kSysChannelCreate, ro)), Error::NoRights);
}

TEST_F(DecodeTest, ChannelControlBindsOrNotifies) {
    EXPECT_EQ(error_of(decode(kSysChannelControl, m_frame, 0, 0)), Error::WrongType);
    CapIndex channel = root(kCapChannel, kRightRead | kRightWrite | kRightMap, 0x82000000, 8192);
    auto notify = decode(kSysChannelControl, channel, 0, 0);
    ASSERT_TRUE(notify.ok());
    EXPECT_EQ(notify->channel.op, ChannelOp::Notify);
    auto bind = decode(kSysChannelControl, channel, 1, 63);
    ASSERT_TRUE(bind.ok());
    EXPECT_EQ(bind->channel.op, ChannelOp::Bind);
    EXPECT_EQ(bind->channel.bit, 63u);
    EXPECT_EQ(error_of(decode(kSysChannelControl, channel, 1, 64)), Error::InvalidArgument);
    EXPECT_EQ(error_of(decode(kSysChannelControl, channel, 0, 1)), Error::InvalidArgument);
    EXPECT_EQ(error_of(decode(kSysChannelControl, channel, 2, 0)), Error::InvalidArgument);
    EXPECT_EQ(error_of(decode(kSysChannelControl, channel, 1, 1, 9)), Error::InvalidArgument);
    // A channel names its ring memory: mappable like the frame it came from.
    EXPECT_TRUE(decode(kSysFrameMap, channel, 0x20000000, kUserMapRead | kUserMapWrite).ok());
    EXPECT_EQ(error_of(decode(kSysFramePhys, channel)), Error::NoRights);
}

TEST_F(DecodeTest, MintIntoAnotherAppNeedsADispatcherCapWithGrant) {
    CapIndex app = root(kCapDispatcher, kRightGrant, 0, 0);
    auto r = decode(kSysCapMint, m_frame, kRightRead | kRightMap, app);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->mint.target.index, app);
    auto own = decode(kSysCapMint, m_frame, kRightRead | kRightMap, 0);
    ASSERT_TRUE(own.ok());
    EXPECT_EQ(own->mint.target.node, nullptr);
    EXPECT_EQ(error_of(decode(kSysCapMint, m_frame, kRightRead, m_frame)), Error::WrongType);
    CapIndex no_grant = root(kCapDispatcher, 0, 0, 0);
    EXPECT_EQ(error_of(decode(kSysCapMint, m_frame, kRightRead, no_grant)), Error::NoRights);
    EXPECT_EQ(error_of(decode(kSysCapMint, m_frame, kRightRead, 4242)), Error::BadCapability);
    EXPECT_EQ(error_of(decode(kSysCapMint, m_frame, kRightRead, app, 1)), Error::InvalidArgument);
}

TEST_F(DecodeTest, IrqControl) {
    auto bind = decode(kSysIrqControl, m_device, 1, 7);
    ASSERT_TRUE(bind.ok());
    EXPECT_EQ(bind->irq.op, IrqOp::Bind);
    EXPECT_EQ(bind->irq.bit, 7u);
    auto ack = decode(kSysIrqControl, m_device, 0, 0);
    ASSERT_TRUE(ack.ok());
    EXPECT_EQ(ack->irq.op, IrqOp::Ack);
    EXPECT_EQ(error_of(decode(kSysIrqControl, m_device, 0, 3)), Error::InvalidArgument);
    EXPECT_EQ(error_of(decode(kSysIrqControl, m_device, 2, 0)), Error::InvalidArgument);
    EXPECT_EQ(error_of(decode(kSysIrqControl, m_device, 1, 64)), Error::InvalidArgument);
    EXPECT_EQ(error_of(decode(kSysIrqControl, m_frame, 0, 0)), Error::WrongType);
}

TEST(CheckUserRange, Edges) {
    constexpr uint64_t top = 0x0000004000000000ull;
    EXPECT_TRUE(check_user_range(0x1000, 0x1000, top).ok());
    EXPECT_TRUE(check_user_range(top - 1, 1, top).ok());
    EXPECT_EQ(check_user_range(top - 1, 2, top).error(), Error::BadAddress);
    EXPECT_EQ(check_user_range(0xfff, 1, top).error(), Error::BadAddress);
    EXPECT_EQ(check_user_range(top, 0, top).error(), Error::BadAddress);
    EXPECT_EQ(check_user_range(0x1000, ~0ull, top).error(), Error::BadAddress);
}

TEST(UserMemoryDefaults, FailClosed) {
    struct Nothing final : UserMemory {};
    Nothing memory;
    char byte;
    EXPECT_EQ(memory.copy_in(&byte, 0x10000, 1).error(), Error::BadAddress);
    EXPECT_EQ(memory.check_writable(0x10000, 1).error(), Error::BadAddress);
}

TEST_F(DecodeTest, UpcallArmChecksWhereItRunsAndHowOften) {
    constexpr uint64_t kEntry = 0x20000, kStack = 0x30000, kArea = FakeUserMemory::kWritable + 64;
    auto r = decode(kSysUpcall, kUpcallArm, kEntry, kStack, kArea, 20000);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->upcall.op, uint64_t{kUpcallArm});
    EXPECT_EQ(r->upcall.entry, kEntry);
    EXPECT_EQ(r->upcall.stack_top, kStack);
    EXPECT_EQ(r->upcall.area, kArea);
    EXPECT_EQ(r->upcall.period, 20000u);
    // Misaligned stack or area, no period, an absurd one, a stray register.
    EXPECT_EQ(error_of(decode(kSysUpcall, kUpcallArm, kEntry, kStack + 8, kArea, 20000)), Error::InvalidArgument);
    EXPECT_EQ(error_of(decode(kSysUpcall, kUpcallArm, kEntry, kStack, kArea + 4, 20000)), Error::InvalidArgument);
    EXPECT_EQ(error_of(decode(kSysUpcall, kUpcallArm, kEntry, kStack, kArea, 0)), Error::InvalidArgument);
    EXPECT_EQ(error_of(decode(kSysUpcall, kUpcallArm, kEntry, kStack, kArea, 1ull << 40)), Error::InvalidArgument);
    EXPECT_EQ(error_of(decode(kSysUpcall, kUpcallArm, kEntry, kStack, kArea, 20000, 1)), Error::InvalidArgument);
    // Entry or stack outside the user half, page 0, an area not writable.
    EXPECT_EQ(error_of(decode(kSysUpcall, kUpcallArm, FakeUserMemory::kUserTop, kStack, kArea, 1)),
              Error::BadAddress);
    EXPECT_EQ(error_of(decode(kSysUpcall, kUpcallArm, kEntry, FakeUserMemory::kUserTop + 16, kArea, 1)),
              Error::BadAddress);
    EXPECT_EQ(error_of(decode(kSysUpcall, kUpcallArm, kEntry, 0, kArea, 1)), Error::BadAddress);
    EXPECT_EQ(error_of(decode(kSysUpcall, kUpcallArm, kEntry, kStack, FakeUserMemory::kBase, 1)),
              Error::BadAddress);
}

TEST_F(DecodeTest, UpcallReturnAndDisarmTakeNothingElse) {
    EXPECT_TRUE(decode(kSysUpcall, kUpcallReturn).ok());
    EXPECT_TRUE(decode(kSysUpcall, kUpcallDisarm).ok());
    EXPECT_EQ(error_of(decode(kSysUpcall, kUpcallReturn, 1)), Error::InvalidArgument);
    EXPECT_EQ(error_of(decode(kSysUpcall, kUpcallDisarm, 0, 0, 0, 0, 3)), Error::InvalidArgument);
    EXPECT_EQ(error_of(decode(kSysUpcall, 3)), Error::InvalidArgument);
}

}  // namespace
}  // namespace ringlet
