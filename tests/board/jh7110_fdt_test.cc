// The VisionFive 2 (JH7110) device tree through the kernel's own boot-time
// code: parse_boot_info(), the usable-memory computation and the console UART.
// The blob is tests/data/dtb/jh7110-visionfive2.dts compiled by dtc at build
// time (RINGLET_JH7110_DTB); every expected value below can be read there.
#include <gtest/gtest.h>

#include <stdint.h>

#include <fstream>
#include <iterator>
#include <memory>
#include <vector>

#include "kernel/console/uart.h"
#include "kernel/fdt/boot_info.h"
#include "kernel/fdt/fdt.h"
#include "kernel/lib/boot_args.h"
#include "kernel/mm/memory_map.h"

namespace ringlet {
namespace {

constexpr uint64_t kRamBase = 0x40000000;
constexpr uint64_t kRamSize = 4ull << 30;
constexpr uint64_t kOpenSbiSize = 0x80000;
constexpr uint64_t kUart0 = 0x10000000;
constexpr uint64_t kPlic = 0x0c000000;
constexpr uint64_t kClint = 0x02000000;

std::vector<uint8_t> load_blob() {
    std::ifstream in(RINGLET_JH7110_DTB, std::ios::binary);
    EXPECT_TRUE(in.good()) << "cannot open " << RINGLET_JH7110_DTB;
    return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

class Jh7110FdtTest : public ::testing::Test {
protected:
    void SetUp() override {
        m_blob = load_blob();
        ASSERT_FALSE(m_blob.empty());
        m_info = std::make_unique<BootInfo>();  // a few KiB: off the stack
        Result<void> r = parse_boot_info(m_blob.data(), m_blob.size(), *m_info);
        ASSERT_TRUE(r.ok()) << error_name(r.error());
    }

    const BootInfo& info() const { return *m_info; }

    std::vector<uint8_t> m_blob;
    std::unique_ptr<BootInfo> m_info;
};

TEST_F(Jh7110FdtTest, BlobIsWhole) {
    EXPECT_EQ(info().fdt_size, m_blob.size());
}

TEST_F(Jh7110FdtTest, MemoryAndOpenSbiReservation) {
    ASSERT_EQ(info().memory_count, 1u);
    EXPECT_EQ(info().memory[0].base, kRamBase);
    EXPECT_EQ(info().memory[0].size, kRamSize);  // two cells: above 4 GiB ends
    EXPECT_EQ(info().memory[0].end(), 0x140000000u);

    ASSERT_EQ(info().reserved_count, 1u);
    EXPECT_EQ(info().reserved[0].base, kRamBase);
    EXPECT_EQ(info().reserved[0].size, kOpenSbiSize);
    EXPECT_FALSE(info().has_initrd);  // U-Boot adds linux,initrd-* at boot
}

TEST_F(Jh7110FdtTest, UsableMemorySkipsOpenSbiAndTheKernel) {
    // What init_memory() does on the board: booti puts the Image at
    // RAM + text_offset (0x40200000); say it is 1 MiB.
    std::vector<PhysRange> reserved(info().reserved, info().reserved + info().reserved_count);
    reserved.push_back({kRamBase + 0x200000, 1u << 20});
    PhysRange out[8];
    Result<size_t> n = subtract_reserved(info().memory, info().memory_count, reserved.data(), reserved.size(),
                                         out, 8);
    ASSERT_TRUE(n.ok()) << error_name(n.error());
    ASSERT_EQ(*n, 2u);
    EXPECT_EQ(out[0].base, kRamBase + kOpenSbiSize);  // nothing below OpenSBI's end
    EXPECT_EQ(out[0].end(), kRamBase + 0x200000);
    EXPECT_EQ(out[1].base, kRamBase + 0x300000);
    EXPECT_EQ(out[1].end(), kRamBase + kRamSize);
}

TEST_F(Jh7110FdtTest, HartZeroIsTheS7AndIsLeftAlone) {
    ASSERT_EQ(info().hart_count, 5u);
    const HartInfo& s7 = info().harts[0];
    EXPECT_EQ(s7.hart_id, 0u);
    EXPECT_FALSE(s7.enabled);   // status = "disabled"
    EXPECT_FALSE(s7.has_mmu);   // no mmu-type at all
    EXPECT_FALSE(s7.has_sstc);
    EXPECT_NE(s7.intc_phandle, 0u);
    EXPECT_EQ(s7.plic_s_context, -1);  // M-mode context only
}

TEST_F(Jh7110FdtTest, FourU74HartsWithSv39AndNoSstc) {
    ASSERT_EQ(info().hart_count, 5u);
    size_t usable = 0;
    for (size_t i = 1; i < 5; ++i) {
        SCOPED_TRACE(i);
        const HartInfo& h = info().harts[i];
        EXPECT_EQ(h.hart_id, i);
        EXPECT_TRUE(h.enabled);   // no status property
        EXPECT_TRUE(h.has_mmu);   // riscv,sv39
        EXPECT_TRUE(h.has_zbb);   // rv64imafdc_zba_zbb
        EXPECT_FALSE(h.has_sstc); // the U74 has no stimecmp: SBI timer
        EXPECT_NE(h.intc_phandle, 0u);
        for (size_t j = 0; j < i; ++j) EXPECT_NE(h.intc_phandle, info().harts[j].intc_phandle) << j;
        // The kernel's rule for starting a hart (kernel/main.cc).
        if (h.enabled && h.has_mmu) ++usable;
    }
    EXPECT_EQ(usable, 4u);
}

TEST_F(Jh7110FdtTest, TimebaseIsFourMegahertz) {
    EXPECT_EQ(info().timebase_frequency, 4000000u);
}

TEST_F(Jh7110FdtTest, PlicSModeContextsComeFromInterruptsExtended) {
    ASSERT_TRUE(info().plic.present);
    EXPECT_EQ(info().plic.base, kPlic);
    EXPECT_EQ(info().plic.size, 0x4000000u);
    EXPECT_EQ(info().plic.ndev, 136u);
    // Context 0 is the S7's M-mode; hart N (1-4) then has M = 2N-1, S = 2N.
    // (On QEMU virt the same hart's S context would be 2N+1.)
    for (size_t i = 1; i < 5; ++i) {
        SCOPED_TRACE(i);
        EXPECT_EQ(info().harts[i].plic_s_context, int32_t(2 * i));
    }
}

TEST_F(Jh7110FdtTest, ConsoleIsTheDesignWareUart0) {
    EXPECT_STREQ(info().stdout_path, "serial0");  // ":115200n8" dropped; an alias
    const UartInfo& u = info().uart;
    EXPECT_EQ(u.kind, UartKind::DwApb);
    EXPECT_EQ(u.base, kUart0);
    EXPECT_EQ(u.size, 0x10000u);
    EXPECT_EQ(u.reg_shift, 2u);
    EXPECT_EQ(u.reg_io_width, 4u);
    EXPECT_EQ(u.clock_frequency, 24000000u);
    EXPECT_EQ(u.irq, 32u);
}

TEST_F(Jh7110FdtTest, ConsoleUartUsesWordRegistersFourBytesApart) {
    // A fake register file at the UART's geometry: THR at +0x0, LSR at +0x14.
    alignas(8) uint32_t regs[8] = {};
    regs[5] = 0x60;  // LSR: THRE | TEMT, transmitter idle
    Result<Uart> uart = Uart::create(info().uart, reinterpret_cast<uint64_t>(regs));
    ASSERT_TRUE(uart.ok()) << error_name(uart.error());
    uart->put('R');
    EXPECT_EQ(regs[0], uint32_t('R'));  // one 32-bit store to THR
    EXPECT_EQ(regs[5], 0x60u);          // LSR only read
    for (size_t i : {1, 2, 3, 4, 6, 7}) EXPECT_EQ(regs[i], 0u) << i;
}

TEST_F(Jh7110FdtTest, NoPowerOffDeviceAndNoVirtio) {
    // The board has no "sifive,test0": the kernel powers off through SBI SRST.
    EXPECT_FALSE(info().power.present);
    EXPECT_EQ(info().virtio_count, 0u);
}

TEST_F(Jh7110FdtTest, BootargsFromChosen) {
    EXPECT_STREQ(info().bootargs, "init=hello");
    BootArgs args(info().bootargs);
    size_t len = 0;
    const char* init = args.value("init", &len);
    ASSERT_NE(init, nullptr);
    EXPECT_EQ(std::string(init, len), "hello");
    EXPECT_FALSE(args.has("shutdown"));
}

TEST_F(Jh7110FdtTest, TreeDetailsTheParserDoesNotKeep) {
    Result<FdtReader> r = FdtReader::create(m_blob.data(), m_blob.size());
    ASSERT_TRUE(r.ok()) << error_name(r.error());

    // The alias behind stdout-path resolves to UART0's node.
    Result<FdtNode> serial0 = r->find_node("serial0");
    ASSERT_TRUE(serial0.ok());
    EXPECT_STREQ(serial0->name, "serial@10000000");

    // The other two UARTs exist but are disabled.
    for (const char* path : {"/soc/serial@10010000", "/soc/serial@10020000"}) {
        Result<FdtNode> n = r->find_node(path);
        ASSERT_TRUE(n.ok()) << path;
        EXPECT_FALSE(r->is_enabled(*n)) << path;
    }

    // CLINT: M-mode software (3) and timer (7) per hart, five harts.
    Result<FdtNode> clint = r->find_compatible("sifive,clint0");
    ASSERT_TRUE(clint.ok());
    Result<PhysRange> clint_reg = r->reg(*clint, 0);
    ASSERT_TRUE(clint_reg.ok());
    EXPECT_EQ(clint_reg->base, kClint);
    Result<FdtProperty> ie = r->property(*clint, "interrupts-extended");
    ASSERT_TRUE(ie.ok());
    ASSERT_EQ(ie->cell_count(), 20u);
    for (size_t hart = 0; hart < 5; ++hart) {
        SCOPED_TRACE(hart);
        EXPECT_EQ(ie->cell(4 * hart).value_or(0), info().harts[hart].intc_phandle);
        EXPECT_EQ(ie->cell(4 * hart + 1).value_or(0), 3u);
        EXPECT_EQ(ie->cell(4 * hart + 3).value_or(0), 7u);
    }

    // The S7's node has no mmu-type, and its ISA has no F/D.
    Result<FdtNode> cpu0 = r->find_node("/cpus/cpu@0");
    ASSERT_TRUE(cpu0.ok());
    EXPECT_FALSE(r->property(*cpu0, "mmu-type").ok());
    EXPECT_STREQ(r->string_or(*cpu0, "riscv,isa", ""), "rv64imac");
}

TEST_F(Jh7110FdtTest, EveryTruncationIsRefused) {
    // The board's blob cut short anywhere must fail cleanly, never over-read
    // (run under ASan).
    for (size_t len = 0; len < m_blob.size(); ++len) {
        std::vector<uint8_t> cut(m_blob.begin(), m_blob.begin() + long(len));
        auto info = std::make_unique<BootInfo>();
        EXPECT_FALSE(parse_boot_info(cut.data(), cut.size(), *info).ok()) << len;
    }
}

}  // namespace
}  // namespace ringlet
