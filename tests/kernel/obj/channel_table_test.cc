#include "kernel/obj/channel_table.h"

#include <gtest/gtest.h>

namespace ringlet {
namespace {

TEST(ChannelTable, IdsAreNeverZeroAndRunOut) {
    ChannelTable t;
    for (size_t i = 0; i < ChannelTable::kMaxChannels; ++i) {
        auto id = t.create(static_cast<uint32_t>(100 + i / ChannelTable::kMaxPerCreator));
        ASSERT_TRUE(id.ok());
        EXPECT_NE(*id, 0u);
    }
    EXPECT_EQ(t.create(999).error(), Error::Full);
    t.release(1);
    EXPECT_EQ(*t.create(999), 1u);
}

TEST(ChannelTable, OneAppCannotTakeEveryChannel) {
    ChannelTable t;
    uint32_t last = 0;
    for (size_t i = 0; i < ChannelTable::kMaxPerCreator; ++i) last = *t.create(7);
    EXPECT_EQ(t.create(7).error(), Error::Full);
    EXPECT_TRUE(t.create(8).ok());  // others still can
    t.release(last);
    EXPECT_TRUE(t.create(7).ok());
}

TEST(ChannelTable, FirstBinderIsEndZeroAndAThirdIsBusy) {
    ChannelTable t;
    uint32_t id = *t.create(1);
    auto a = t.bind(id, 7, 3);
    ASSERT_TRUE(a.ok());
    EXPECT_EQ(a->end, 0u);
    EXPECT_FALSE(a->pending);
    EXPECT_EQ(t.bind(id, 7, 4).error(), Error::Exists);  // one app, one end
    auto b = t.bind(id, 9, 5);
    ASSERT_TRUE(b.ok());
    EXPECT_EQ(b->end, 1u);
    EXPECT_EQ(t.bind(id, 11, 1).error(), Error::Busy);
}

TEST(ChannelTable, NotifyWakesThePeerOnItsOwnBit) {
    ChannelTable t;
    uint32_t id = *t.create(1);
    ASSERT_TRUE(t.bind(id, 7, 3).ok());
    ASSERT_TRUE(t.bind(id, 9, 5).ok());
    auto to_nine = t.notify(id, 7);
    ASSERT_TRUE(to_nine.ok());
    EXPECT_EQ(to_nine->owner, 9u);
    EXPECT_EQ(to_nine->bit, 5u);
    auto to_seven = t.notify(id, 9);
    ASSERT_TRUE(to_seven.ok());
    EXPECT_EQ(to_seven->owner, 7u);
    EXPECT_EQ(to_seven->bit, 3u);
}

TEST(ChannelTable, OutsidersAndUnknownChannelsAreRefused) {
    ChannelTable t;
    uint32_t id = *t.create(1);
    ASSERT_TRUE(t.bind(id, 7, 3).ok());
    EXPECT_EQ(t.notify(id, 8).error(), Error::NotFound);
    EXPECT_EQ(t.notify(id, 0).error(), Error::NotFound);
    EXPECT_EQ(t.notify(0, 7).error(), Error::BadCapability);
    EXPECT_EQ(t.notify(id + 1, 7).error(), Error::BadCapability);
    EXPECT_EQ(t.notify(1000, 7).error(), Error::BadCapability);
    EXPECT_EQ(t.bind(0, 7, 3).error(), Error::BadCapability);
    EXPECT_EQ(t.bind(id, 0, 3).error(), Error::BadCapability);
    t.release(id);
    EXPECT_EQ(t.notify(id, 7).error(), Error::BadCapability);
    EXPECT_EQ(t.channels_in_use(), 0u);
}

TEST(ChannelTable, ANotificationBeforeThePeerBindsIsHeldForIt) {
    ChannelTable t;
    uint32_t id = *t.create(1);
    ASSERT_TRUE(t.bind(id, 7, 3).ok());
    auto held = t.notify(id, 7);
    ASSERT_TRUE(held.ok());
    EXPECT_EQ(held->owner, 0u);
    auto b = t.bind(id, 9, 5);
    ASSERT_TRUE(b.ok());
    EXPECT_TRUE(b->pending);
    auto again = t.bind(id, 9, 5);
    EXPECT_EQ(again.error(), Error::Exists);
}

TEST(ChannelTable, AnEndingAppFreesItsEndsForANewHolder) {
    ChannelTable t;
    uint32_t id = *t.create(1);
    uint32_t other = *t.create(1);
    ASSERT_TRUE(t.bind(id, 7, 3).ok());
    ASSERT_TRUE(t.bind(id, 9, 5).ok());
    ASSERT_TRUE(t.bind(other, 9, 1).ok());
    t.unbind_owner(9);
    auto held = t.notify(id, 7);
    ASSERT_TRUE(held.ok());
    EXPECT_EQ(held->owner, 0u);  // nobody there: held, not lost, not misdelivered
    auto b = t.bind(id, 12, 6);
    ASSERT_TRUE(b.ok());
    EXPECT_EQ(b->end, 1u);
    EXPECT_TRUE(b->pending);
    EXPECT_EQ(t.notify(other, 9).error(), Error::NotFound);
    auto w = t.notify(id, 7);
    ASSERT_TRUE(w.ok());
    EXPECT_EQ(w->owner, 12u);
}

}  // namespace
}  // namespace ringlet
