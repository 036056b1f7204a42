#include "symbols.h"

#include <gtest/gtest.h>

namespace ringlet::profile {
namespace {

TEST(ParseNmLine, SizedFunctionWithDemangledName) {
    auto s = parse_nm_line("0000000000019dc4 0000000000000084 t ringlet::net::(anonymous namespace)::UdpQueue::pop(sockaddr_in*)");
    ASSERT_TRUE(s);
    EXPECT_EQ(s->addr, 0x19dc4u);
    EXPECT_EQ(s->size, 0x84u);
    EXPECT_EQ(s->type, 't');
    EXPECT_EQ(s->name, "ringlet::net::(anonymous namespace)::UdpQueue::pop(sockaddr_in*)");
}

TEST(ParseNmLine, UnsizedAssemblyLabel) {
    auto s = parse_nm_line("ffffffffc02003a0 T trap_vector");
    ASSERT_TRUE(s);
    EXPECT_EQ(s->addr, 0xffffffffc02003a0u);
    EXPECT_EQ(s->size, 0u);
    EXPECT_EQ(s->name, "trap_vector");
}

TEST(ParseNmLine, DropsNmLocationSuffix) {
    auto s = parse_nm_line("0000000000010000 T _start\t/src/user/rt/crt0.S:8");
    ASSERT_TRUE(s);
    EXPECT_EQ(s->name, "_start");
}

TEST(ParseNmLine, RejectsWhatIsNotAFunction) {
    EXPECT_FALSE(parse_nm_line("0000000000030000 0000000000000008 B g_counter"));  // bss
    EXPECT_FALSE(parse_nm_line("0000000000030000 D data"));
    EXPECT_FALSE(parse_nm_line("0000000000010010 t .L12"));
    EXPECT_FALSE(parse_nm_line("0000000000010010 t $x"));
    EXPECT_FALSE(parse_nm_line(""));
    EXPECT_FALSE(parse_nm_line("not a symbol"));
    EXPECT_FALSE(parse_nm_line("0000000000010010 0000000000000004"));
    EXPECT_TRUE(parse_nm_line("0000000000010010 W weak_fn"));
}

constexpr const char* kAranges = R"(Contents of the .debug_aranges section:

  Length:                   140
  Version:                  2
  Offset into .debug_info:  0
  Pointer Size:             8
  Segment Size:             0

    Address            Length
    0000000000010012 000000000000009c
    00000000000100ae 000000000000002a
    0000000000000000 0000000000000000
  Length:                   460
  Version:                  2
  Offset into .debug_info:  0x1bda
  Pointer Size:             8
  Segment Size:             0

    Address            Length
    0000000000010d10 0000000000000096
    0000000000000000 0000000000000000
)";

constexpr const char* kInfo = R"(Contents of the .debug_info section:

  Compilation Unit @ offset 0:
   Length:        0x1bd6 (32-bit)
   Version:       5
 <0><c>: Abbrev Number: 62 (DW_TAG_compile_unit)
    <d>   DW_AT_producer    : (indirect string, offset: 0x3c3): GNU C++20 12.2.0 -g -O2
    <12>   DW_AT_name        : (indirect line string, offset: 0): /src/user/echo/echo.cc
    <16>   DW_AT_comp_dir    : (indirect line string, offset: 0x24): /src/build/riscv64
 <1><2a>: Abbrev Number: 3 (DW_TAG_variable)
    <2b>   DW_AT_name        : g_inner_name_not_the_unit
  Compilation Unit @ offset 0x1bda:
   Length:        0x69d7 (32-bit)
 <0><1be6>: Abbrev Number: 90 (DW_TAG_compile_unit)
    <1bec>   DW_AT_name        : /src/libos/pdpix/demi_api.cc
)";

TEST(ParseDwarf, ArangesSkipTerminatorsAndKeepTheirUnit) {
    auto r = parse_aranges(kAranges);
    ASSERT_EQ(r.size(), 3u);
    EXPECT_EQ(r[0].lo, 0x10012u);
    EXPECT_EQ(r[0].len, 0x9cu);
    EXPECT_EQ(r[0].cu_offset, 0u);
    EXPECT_EQ(r[2].lo, 0x10d10u);
    EXPECT_EQ(r[2].cu_offset, 0x1bdau);
}

TEST(ParseDwarf, UnitNamesIndirectAndDirect) {
    auto n = parse_cu_names(kInfo);
    ASSERT_EQ(n.size(), 2u);
    EXPECT_EQ(n[0], "/src/user/echo/echo.cc");
    EXPECT_EQ(n[0x1bda], "/src/libos/pdpix/demi_api.cc");
}

NmSymbol sym(uint64_t addr, uint64_t size, const char* name, char type = 'T') { return NmSymbol{addr, size, type, name}; }

TEST(SymbolTable, BeforeBetweenAndInsideSymbols) {
    SymbolTable t;
    t.add_module(ModuleKind::App, {sym(0x1000, 0x10, "a"), sym(0x1020, 0x8, "b")});
    t.finalize();
    EXPECT_EQ(t.lookup(0xfff), SymbolTable::kNone);  // before the first symbol
    ASSERT_NE(t.lookup(0x1000), SymbolTable::kNone);
    EXPECT_EQ(t.at(t.lookup(0x1000)).name, "a");
    EXPECT_EQ(t.at(t.lookup(0x100e)).name, "a");
    EXPECT_EQ(t.lookup(0x1010), SymbolTable::kNone);  // the gap after a sized symbol
    EXPECT_EQ(t.at(t.lookup(0x1026)).name, "b");
    EXPECT_EQ(t.lookup(0x1028), SymbolTable::kNone);  // past the last one
}

TEST(SymbolTable, ZeroSizeSymbolRunsToTheNextOrTheModuleEnd) {
    SymbolTable t;
    // Given out of order: the table sorts.
    t.add_module(ModuleKind::Kernel, {sym(0x2040, 0, "tail_label"), sym(0x2000, 0, "entry"),
                                      sym(0x2010, 0x20, "c_func"), sym(0x2030, 0, "label")});
    t.finalize();
    EXPECT_EQ(t.at(t.lookup(0x200e)).name, "entry");  // up to c_func
    EXPECT_EQ(t.at(t.lookup(0x2010)).name, "c_func");
    EXPECT_EQ(t.at(t.lookup(0x203e)).name, "label");
    // The last label has no next symbol: it ends with the module's sized code,
    // or covers at least its own first instruction.
    EXPECT_EQ(t.at(t.lookup(0x2040)).name, "tail_label");
    EXPECT_EQ(t.lookup(0x2100), SymbolTable::kNone);
}

TEST(SymbolTable, AliasesCollapseToTheSizedGlobalOne) {
    SymbolTable t;
    t.add_module(ModuleKind::App, {sym(0x1000, 0, "label", 't'), sym(0x1000, 0x10, "local_fn", 't'),
                                   sym(0x1000, 0x10, "global_fn", 'T')});
    t.finalize();
    EXPECT_EQ(t.size(), 1u);
    EXPECT_EQ(t.at(t.lookup(0x1004)).name, "global_fn");
    EXPECT_EQ(t.at(0).end, 0x1010u);
}

TEST(SymbolTable, TwoModulesAndCompileUnits) {
    SymbolTable t;
    t.add_module(ModuleKind::Kernel, {sym(0xffffffffc0200000, 0x40, "kmain")});
    t.add_module(ModuleKind::App, {sym(0x10012, 0x9c, "open_socket"), sym(0x10d10, 0x96, "demi_init"),
                                   sym(0x20000, 0x10, "no_debug_info")},
                 parse_aranges(kAranges), parse_cu_names(kInfo));
    t.finalize();
    const Symbol& k = t.at(t.lookup(0xffffffffc0200010));
    EXPECT_EQ(k.name, "kmain");
    EXPECT_EQ(k.module, ModuleKind::Kernel);
    EXPECT_EQ(t.at(t.lookup(0x10020)).file, "/src/user/echo/echo.cc");
    EXPECT_EQ(t.at(t.lookup(0x10d10)).file, "/src/libos/pdpix/demi_api.cc");
    EXPECT_EQ(t.at(t.lookup(0x20000)).file, "");
    EXPECT_EQ(t.at(t.lookup(0x20000)).module, ModuleKind::App);
    // Far between the two modules: nothing.
    EXPECT_EQ(t.lookup(0x80000000), SymbolTable::kNone);
}

TEST(SymbolTable, PseudoSymbolsAreNeverFoundByAddress) {
    SymbolTable t;
    t.add_module(ModuleKind::App, {sym(0x1000, 0x10, "a")});
    t.finalize();
    const uint32_t p = t.add_pseudo("[unknown user code]", ModuleKind::App);
    EXPECT_FALSE(t.at(p).has_start);
    EXPECT_EQ(t.at(t.lookup(0x1000)).name, "a");
    EXPECT_EQ(t.lookup(0), SymbolTable::kNone);
}

TEST(ShortName, DropsParametersKeepsClonesAndOperators) {
    EXPECT_EQ(short_name("ringlet::net::(anonymous namespace)::UdpQueue::pop(sockaddr_in*)"),
              "ringlet::net::{anon}::UdpQueue::pop");
    EXPECT_EQ(short_name("ringlet::net::(anonymous namespace)::UdpQueue::push(ringlet::net::(anonymous "
                         "namespace)::UdpQueue::push(ringlet::mem::Buffer*, unsigned int, sockaddr_in "
                         "const*)::_ZN7ringlet3net.Frame*) [clone .actor]"),
              "ringlet::net::{anon}::UdpQueue::push [clone .actor]");
    EXPECT_EQ(short_name("ringlet::rt::Executor::run_once()"), "ringlet::rt::Executor::run_once");
    EXPECT_EQ(short_name("Foo::operator()(int) const"), "Foo::operator()");
    EXPECT_EQ(short_name("memcpy"), "memcpy");
}

}  // namespace
}  // namespace ringlet::profile
