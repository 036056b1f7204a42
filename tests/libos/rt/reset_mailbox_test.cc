// ResetMailbox (libos/rt/reset_mailbox.h): the mail and membership of a
// multiqueue device reset; the protocols on top of it are tested in
// tests/net/virtio_nic_recovery_test.cc and tests/libos/backend/blk_recovery_test.cc.
#include "libos/rt/reset_mailbox.h"

#include <gtest/gtest.h>

#include <vector>

namespace ringlet::rt {
namespace {

using Note = ResetMailbox::Note;

struct Woken {
    std::vector<std::pair<uint32_t, uint32_t>> calls;
    static void wake(void* ctx, uint32_t from, uint32_t to) { static_cast<Woken*>(ctx)->calls.emplace_back(from, to); }
};

TEST(ResetMailbox, NotesArriveInOrderCountAsMailAndWakeTheReceiver) {
    Woken w;
    ResetMailbox box;
    box.configure(4, &Woken::wake, &w);
    EXPECT_FALSE(box.has_mail(0));
    box.send(2, 0, Note::Fault);
    box.send(2, 0, Note::Reclaimed);
    ASSERT_TRUE(box.has_mail(0));
    EXPECT_FALSE(box.has_mail(2));
    box.take_mail(0);
    EXPECT_FALSE(box.has_mail(0));
    const ResetMailbox::Message* m = box.pop_up(2);
    ASSERT_NE(m, nullptr);
    EXPECT_EQ(m->note, Note::Fault);
    m = box.pop_up(2);
    ASSERT_NE(m, nullptr);
    EXPECT_EQ(m->note, Note::Reclaimed);
    EXPECT_EQ(box.pop_up(2), nullptr);
    EXPECT_EQ(box.pop_up(1), nullptr);
    ASSERT_EQ(w.calls.size(), 2u);
    EXPECT_EQ(w.calls[0], std::make_pair(2u, 0u));
}

TEST(ResetMailbox, ABroadcastReachesOnlyTheCoresThatJoinedBeforeTheReset) {
    ResetMailbox box;
    box.configure(4, nullptr, nullptr);
    ResetMailbox::Member found{};
    ASSERT_TRUE(box.try_join(1, &found));
    ASSERT_TRUE(box.try_join(3, &found));
    box.lock_out_absent();  // core 2 never joined: locked out
    EXPECT_TRUE(box.included(1));
    EXPECT_FALSE(box.included(2));
    EXPECT_TRUE(box.included(3));
    EXPECT_EQ(box.included_count(), 2u);
    EXPECT_FALSE(box.try_join(2, &found));
    EXPECT_EQ(found, ResetMailbox::kLocked);
    box.broadcast(Note::Reclaim);
    EXPECT_TRUE(box.has_mail(1));
    EXPECT_FALSE(box.has_mail(2));
    EXPECT_TRUE(box.has_mail(3));
    ASSERT_NE(box.pop_down(3), nullptr);
    EXPECT_EQ(box.pop_down(2), nullptr);
}

TEST(ResetMailbox, ALockedOutCoreJoinsAfterTheResetOrFindsTheDeviceGone) {
    Woken w;
    ResetMailbox box;
    box.configure(3, &Woken::wake, &w);
    box.lock_out_absent();
    box.release_absent(ResetMailbox::kAbsent);
    ResetMailbox::Member found{};
    EXPECT_TRUE(box.try_join(1, &found));  // the reset is over
    EXPECT_EQ(box.member(1), ResetMailbox::kJoined);
    box.lock_out_absent();  // core 2 still absent
    box.release_absent(ResetMailbox::kGone);
    EXPECT_FALSE(box.try_join(2, &found));
    EXPECT_EQ(found, ResetMailbox::kGone);
    EXPECT_FALSE(w.calls.empty());  // each released core is woken
}

TEST(ResetMailbox, MoreCoresThanItHoldsAreClamped) {
    ResetMailbox box;
    box.configure(ResetMailbox::kMaxCores + 5, nullptr, nullptr);
    EXPECT_EQ(box.cores(), ResetMailbox::kMaxCores);
}

}  // namespace
}  // namespace ringlet::rt
