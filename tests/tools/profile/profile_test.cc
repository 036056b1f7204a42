#include "profile.h"

#include <gtest/gtest.h>

#include <numeric>

namespace ringlet::profile {
namespace {

// A kernel and an app: f at 0x1000 (0x20 bytes), g at 0x1020 (0x10), memcpy,
// and a kernel trap vector.
class ProfileTest : public ::testing::Test {
protected:
    static SymbolTable make_table() {
        SymbolTable t;
        t.add_module(ModuleKind::Kernel, {NmSymbol{0xffffffffc0200000, 0, 'T', "trap_vector"},
                                          NmSymbol{0xffffffffc0200040, 0x40, 'T', "on_syscall"}});
        t.add_module(ModuleKind::App, {NmSymbol{0x1000, 0x20, 'T', "f"}, NmSymbol{0x1020, 0x10, 'T', "g"},
                                       NmSymbol{0x2000, 0x40, 'T', "memcpy"}});
        t.finalize();
        return t;
    }
    uint32_t sym(const char* name) const {
        for (uint32_t i = 0; i < table.size(); ++i)
            if (table.at(i).name == name) return i;
        ADD_FAILURE() << name;
        return 0;
    }
    void run(std::initializer_list<Retired> insns) {
        for (const Retired& r : insns) profile.add(r);
    }
    static Retired u(uint64_t pc) { return Retired{pc, Mode::User}; }
    static Retired s(uint64_t pc) { return Retired{pc, Mode::Supervisor}; }

    SymbolTable table = make_table();
    Profile profile{table};
};

TEST_F(ProfileTest, CallsAreEntriesFromOutsideAtTheFirstInstruction) {
    run({u(0x1000), u(0x1002),            // f called (first instruction of the window)
         u(0x1020), u(0x1024),            // f calls g
         u(0x1006),                       // g returns into f's middle: no call
         u(0x1000),                       // f jumps back to its own start: a loop, no call
         u(0x1004), u(0x1020),            // f calls g again
         u(0x1020),                       // g's first instruction is its loop head: no call
         u(0x2000), u(0x2002), u(0x2004)}); // tail call into memcpy
    const auto& fs = profile.functions();
    EXPECT_EQ(fs[sym("f")].instructions, 5u);
    EXPECT_EQ(fs[sym("f")].calls, 1u);
    EXPECT_EQ(fs[sym("g")].instructions, 4u);
    EXPECT_EQ(fs[sym("g")].calls, 2u);
    EXPECT_EQ(fs[sym("memcpy")].calls, 1u);
    EXPECT_EQ(profile.total(), 12u);
    EXPECT_EQ(profile.layer_total(Layer::Libc), 3u);
    EXPECT_EQ(profile.layer_total(Layer::Unknown), 9u);  // f and g have no file or known name
}

TEST_F(ProfileTest, TrapsModesAndUnknownCode) {
    run({u(0x1002),
         s(0xffffffffc0200000), s(0xffffffffc0200004),  // trap vector entered: a call
         s(0xffffffffc0200040),                         // on_syscall
         s(0xffffffffc0300000),                         // S-mode, no symbol
         Retired{0x80000100, Mode::Machine},            // OpenSBI
         s(0x1008),                                     // an S-mode pc in the app's range
         u(0x5000),                                     // U-mode, no symbol
         u(0x1004)});                                   // sret into f's middle: no call
    const auto& fs = profile.functions();
    EXPECT_EQ(fs[sym("trap_vector")].calls, 1u);
    EXPECT_EQ(fs[sym("trap_vector")].instructions, 2u);
    EXPECT_EQ(fs[sym("on_syscall")].calls, 1u);
    EXPECT_EQ(fs[sym("[M-mode firmware]")].instructions, 1u);
    EXPECT_EQ(fs[sym("[unknown kernel code]")].instructions, 2u);
    EXPECT_EQ(fs[sym("[unknown user code]")].instructions, 1u);
    EXPECT_EQ(fs[sym("f")].instructions, 2u);
    EXPECT_EQ(fs[sym("f")].calls, 0u);  // the window began inside f
    EXPECT_EQ(profile.total_in(Mode::User), 3u);
    EXPECT_EQ(profile.total_in(Mode::Supervisor), 5u);
    EXPECT_EQ(profile.total_in(Mode::Machine), 1u);
    EXPECT_EQ(profile.layer_total(Layer::Kernel), 6u);  // S and M, known or not
    EXPECT_EQ(profile.layer_total(Layer::Unknown), 3u);
}

TEST_F(ProfileTest, FunctionsAndLayersSumToTheTotal) {
    for (int i = 0; i < 1000; ++i) run({u(0x1000 + 2 * (i % 24)), s(0xffffffffc0200000 + 4 * (i % 40)), u(0x2000)});
    uint64_t by_fn = 0, by_layer = 0;
    for (const FunctionStats& f : profile.functions()) by_fn += f.instructions;
    for (size_t l = 0; l < kLayerCount; ++l) by_layer += profile.layer_total(static_cast<Layer>(l));
    EXPECT_EQ(profile.total(), 3000u);
    EXPECT_EQ(by_fn, 3000u);
    EXPECT_EQ(by_layer, 3000u);
}

}  // namespace
}  // namespace ringlet::profile
