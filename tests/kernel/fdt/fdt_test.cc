// parse_boot_info() on device trees dumped from QEMU (tests/data/dtb/*.dts
// are their decompiled forms; every expected value below can be read there)
// and on a hand-written tree for the paths QEMU does not produce.
#include "kernel/fdt/fdt.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "tests/kernel/fdt/fdt_test_support.h"

namespace ringlet {
namespace {

using test::load_dtb;

// BootInfo is a few KiB: keep it off the test's stack frame.
std::unique_ptr<BootInfo> parse_file(const std::string& name) {
    std::vector<uint8_t> blob = load_dtb(name);
    auto info = std::make_unique<BootInfo>();
    Result<void> r = parse_boot_info(blob.data(), blob.size(), *info);
    EXPECT_TRUE(r.ok()) << name << ": " << error_name(r.error());
    EXPECT_EQ(info->fdt_size, blob.size());
    return info;
}

void expect_qemu_virt(const BootInfo& info, size_t harts) {
    ASSERT_EQ(info.memory_count, 1u);
    EXPECT_EQ(info.memory[0].base, 0x80000000u);
    EXPECT_EQ(info.memory[0].size, 0x10000000u);  // -m 256M
    EXPECT_EQ(info.reserved_count, 0u);           // QEMU adds none; OpenSBI does at run time

    EXPECT_EQ(info.timebase_frequency, 10000000u);
    ASSERT_EQ(info.hart_count, harts);
    for (size_t i = 0; i < harts; ++i) {
        SCOPED_TRACE(i);
        const HartInfo& h = info.harts[i];
        EXPECT_EQ(h.hart_id, i);
        EXPECT_TRUE(h.enabled);
        EXPECT_TRUE(h.has_mmu);   // riscv,sv48
        EXPECT_TRUE(h.has_zbb);   // QEMU 7.2: ..._zba_zbb_zbc_zbs_sstc
        EXPECT_TRUE(h.has_sstc);
        EXPECT_FALSE(h.has_vector);  // rv64imafdch: no v unless -cpu rv64,v=true
        EXPECT_NE(h.intc_phandle, 0u);
        EXPECT_EQ(h.plic_s_context, int32_t(2 * i + 1));  // contexts go M, S per hart
    }

    EXPECT_EQ(info.uart.kind, UartKind::Ns16550);
    EXPECT_EQ(info.uart.base, 0x10000000u);
    EXPECT_EQ(info.uart.size, 0x100u);
    EXPECT_EQ(info.uart.irq, 10u);
    EXPECT_EQ(info.uart.reg_shift, 0u);
    EXPECT_EQ(info.uart.reg_io_width, 1u);
    EXPECT_EQ(info.uart.clock_frequency, 0x384000u);  // "\08@" in the .dts
    EXPECT_STREQ(info.stdout_path, "/soc/serial@10000000");

    EXPECT_TRUE(info.plic.present);
    EXPECT_EQ(info.plic.base, 0xc000000u);
    EXPECT_EQ(info.plic.size, 0x600000u);
    EXPECT_EQ(info.plic.ndev, 0x60u);

    // Tree order is descending address: virtio_mmio@10008000 (irq 8) first.
    ASSERT_EQ(info.virtio_count, 8u);
    for (size_t i = 0; i < 8; ++i) {
        EXPECT_EQ(info.virtio[i].base, 0x10008000u - 0x1000u * i);
        EXPECT_EQ(info.virtio[i].size, 0x1000u);
        EXPECT_EQ(info.virtio[i].irq, 8u - i);
    }

    EXPECT_TRUE(info.power.present);
    EXPECT_EQ(info.power.base, 0x100000u);
}

TEST(FdtBootInfo, QemuVirtOneHart) {
    auto info = parse_file("qemu-virt-1hart.dtb");
    expect_qemu_virt(*info, 1);
    EXPECT_STREQ(info->bootargs, "");
    EXPECT_FALSE(info->has_initrd);
}

TEST(FdtBootInfo, QemuVirtFourHarts) {
    auto info = parse_file("qemu-virt-4hart.dtb");
    expect_qemu_virt(*info, 4);
    EXPECT_FALSE(info->has_initrd);
}

TEST(FdtBootInfo, QemuVirtChosenBootargsAndInitrd) {
    auto info = parse_file("qemu-virt-4hart-chosen.dtb");
    expect_qemu_virt(*info, 4);
    EXPECT_STREQ(info->bootargs, "console=x shutdown");
    ASSERT_TRUE(info->has_initrd);  // 32-bit cells in this dump
    EXPECT_EQ(info->initrd.base, 0x88200000u);
    EXPECT_EQ(info->initrd.size, 0x14u);
    EXPECT_EQ(info->initrd.end(), 0x88200014u);
}

TEST(FdtBootInfo, SifiveUnleashedFiveHarts) {
    auto info = parse_file("sifive_u-5hart.dtb");
    ASSERT_EQ(info->memory_count, 1u);
    EXPECT_EQ(info->memory[0].base, 0x80000000u);
    EXPECT_EQ(info->memory[0].size, 0x8000000u);
    EXPECT_EQ(info->timebase_frequency, 1000000u);
    ASSERT_EQ(info->hart_count, 5u);
    // Hart 0 is the E51 monitor core: M-mode only, one PLIC context (M).
    EXPECT_EQ(info->harts[0].hart_id, 0u);
    EXPECT_TRUE(info->harts[0].enabled);
    EXPECT_FALSE(info->harts[0].has_mmu);
    EXPECT_EQ(info->harts[0].plic_s_context, -1);
    for (uint32_t i = 1; i < 5; ++i) {
        SCOPED_TRACE(i);
        EXPECT_EQ(info->harts[i].hart_id, i);
        EXPECT_TRUE(info->harts[i].enabled);
        EXPECT_TRUE(info->harts[i].has_mmu);
        EXPECT_FALSE(info->harts[i].has_zbb);
        EXPECT_FALSE(info->harts[i].has_sstc);
        EXPECT_EQ(info->harts[i].plic_s_context, int32_t(2 * i));  // contexts: 0=M0, then M,S pairs
    }
    EXPECT_TRUE(info->plic.present);
    EXPECT_EQ(info->plic.base, 0xc000000u);
    EXPECT_EQ(info->plic.size, 0x4000000u);
    EXPECT_EQ(info->plic.ndev, 0x35u);
    // Its console is a "sifive,uart0", which we do not drive.
    EXPECT_STREQ(info->stdout_path, "/soc/serial@10010000");
    EXPECT_EQ(info->uart.kind, UartKind::None);
    EXPECT_EQ(info->virtio_count, 0u);
    EXPECT_FALSE(info->power.present);  // only a gpio-restart
    EXPECT_FALSE(info->has_initrd);
}

TEST(FdtBootInfo, SyntheticEdgeCases) {
    auto info = parse_file("synthetic-edge.dtb");

    // Two memory nodes, the first with two ranges; disabled and typeless nodes ignored.
    ASSERT_EQ(info->memory_count, 3u);
    EXPECT_EQ(info->memory[0].base, 0x80000000u);
    EXPECT_EQ(info->memory[0].size, 0x40000000u);
    EXPECT_EQ(info->memory[1].base, 0x100000000u);
    EXPECT_EQ(info->memory[1].size, 0x10000000u);
    EXPECT_EQ(info->memory[2].base, 0x200000000u);
    EXPECT_EQ(info->memory[2].size, 0x8000000u);

    // memreserve block first, then /reserved-memory children with reg (32-bit cells).
    ASSERT_EQ(info->reserved_count, 5u);
    EXPECT_EQ(info->reserved[0].base, 0x80000000u);
    EXPECT_EQ(info->reserved[0].size, 0x20000u);
    EXPECT_EQ(info->reserved[1].base, 0x8f000000u);
    EXPECT_EQ(info->reserved[1].size, 0x1000u);
    EXPECT_EQ(info->reserved[2].base, 0x80040000u);  // no-map
    EXPECT_EQ(info->reserved[2].size, 0x20000u);
    EXPECT_EQ(info->reserved[3].base, 0x90000000u);
    EXPECT_EQ(info->reserved[3].size, 0x100000u);
    EXPECT_EQ(info->reserved[4].base, 0x91000000u);
    EXPECT_EQ(info->reserved[4].size, 0x2000u);

    EXPECT_STREQ(info->bootargs, "init=/bin/ring quiet");
    EXPECT_STREQ(info->stdout_path, "serial0");  // ":115200n8" dropped
    ASSERT_TRUE(info->has_initrd);                // 64-bit cells
    EXPECT_EQ(info->initrd.base, 0x84000000u);
    EXPECT_EQ(info->initrd.size, 0x100000u);

    EXPECT_EQ(info->timebase_frequency, 25000000u);  // from the cpu node, not /cpus
    ASSERT_EQ(info->hart_count, 3u);                 // cpu-map skipped
    const HartInfo& h5 = info->harts[0];
    EXPECT_EQ(h5.hart_id, 5u);
    EXPECT_TRUE(h5.enabled);
    EXPECT_TRUE(h5.has_mmu);
    EXPECT_TRUE(h5.has_zbb);   // "Zbb2p0": case and version suffix ignored
    EXPECT_TRUE(h5.has_sstc);  // "SSTC"
    EXPECT_EQ(h5.plic_s_context, 2);
    const HartInfo& h7 = info->harts[1];
    EXPECT_EQ(h7.hart_id, 7u);
    EXPECT_FALSE(h7.enabled);  // status "disabled"
    EXPECT_TRUE(h7.has_mmu);   // sv57
    EXPECT_FALSE(h7.has_zbb);  // "zbbx" is another extension
    EXPECT_FALSE(h7.has_sstc); // "sstcfoo" too
    EXPECT_EQ(h7.plic_s_context, 5);
    const HartInfo& h9 = info->harts[2];
    EXPECT_EQ(h9.hart_id, 9u);
    EXPECT_TRUE(h9.enabled);    // "okay"
    EXPECT_FALSE(h9.has_mmu);   // riscv,none
    EXPECT_TRUE(h9.has_zbb);    // riscv,isa-extensions
    EXPECT_FALSE(h9.has_sstc);
    EXPECT_EQ(h9.plic_s_context, 1);
    EXPECT_NE(h5.intc_phandle, 0u);
    EXPECT_NE(h5.intc_phandle, h7.intc_phandle);
    EXPECT_NE(h7.intc_phandle, h9.intc_phandle);

    // stdout-path is the alias serial0 -> the DesignWare UART, not the first UART.
    EXPECT_EQ(info->uart.kind, UartKind::DwApb);
    EXPECT_EQ(info->uart.base, 0x20001000u);
    EXPECT_EQ(info->uart.size, 0x400u);
    EXPECT_EQ(info->uart.reg_shift, 2u);
    EXPECT_EQ(info->uart.reg_io_width, 4u);
    EXPECT_EQ(info->uart.clock_frequency, 24000000u);
    EXPECT_EQ(info->uart.irq, 33u);

    EXPECT_TRUE(info->plic.present);
    EXPECT_EQ(info->plic.base, 0x30000000u);
    EXPECT_EQ(info->plic.size, 0x4000000u);
    EXPECT_EQ(info->plic.ndev, 127u);

    ASSERT_EQ(info->virtio_count, 1u);  // the disabled one is skipped
    EXPECT_EQ(info->virtio[0].base, 0x20010000u);
    EXPECT_EQ(info->virtio[0].irq, 40u);

    EXPECT_TRUE(info->power.present);  // syscon-poweroff: regmap's reg + offset
    EXPECT_EQ(info->power.base, 0x20002008u);
}

TEST(FdtBootInfo, UnalignedBlobParsesTheSame) {
    std::vector<uint8_t> blob = load_dtb("qemu-virt-4hart-chosen.dtb");
    std::vector<uint8_t> shifted(blob.size() + 3);
    std::copy(blob.begin(), blob.end(), shifted.begin() + 3);
    auto info = std::make_unique<BootInfo>();
    ASSERT_TRUE(parse_boot_info(shifted.data() + 3, blob.size(), *info).ok());
    expect_qemu_virt(*info, 4);
    EXPECT_STREQ(info->bootargs, "console=x shutdown");
}

TEST(FdtBootInfo, MaxLenLargerThanTotalSizeIsFine) {
    std::vector<uint8_t> blob = load_dtb("qemu-virt-1hart.dtb");
    blob.resize(blob.size() + 4096, 0);  // QEMU's dump pads to 1 MiB the same way
    auto info = std::make_unique<BootInfo>();
    ASSERT_TRUE(parse_boot_info(blob.data(), blob.size(), *info).ok());
    EXPECT_EQ(info->fdt_size, blob.size() - 4096);
}

TEST(FdtBootInfo, OutputIsResetBeforeParsing) {
    auto info = std::make_unique<BootInfo>();
    info->memory_count = 7;
    info->has_initrd = true;
    info->bootargs[0] = 'x';
    std::vector<uint8_t> blob = test::minimal_blob();
    ASSERT_TRUE(parse_boot_info(blob.data(), blob.size(), *info).ok());
    EXPECT_EQ(info->memory_count, 1u);
    EXPECT_FALSE(info->has_initrd);
    EXPECT_STREQ(info->bootargs, "console=ttyS0");
    EXPECT_EQ(info->uart.kind, UartKind::None);
    EXPECT_FALSE(info->plic.present);
    EXPECT_FALSE(info->power.present);
}

// V is a single letter of riscv,isa's first token (QEMU 7.2 with
// -cpu rv64,v=true: "rv64imafdcvh_...") or "v" in riscv,isa-extensions;
// a multi-letter z*v* extension (Zve64x, Zvl128b) is not V.
TEST(FdtBootInfo, VectorExtensionFromTheIsaStrings) {
    const char* const isas[] = {"rv64imafdcvh_zicsr_zba_zbb", "RV64GCV", "rv64imafdc_zve64x_zvl128b", "rv64imafdch",
                                "", "rv64imafdc"};
    test::FdtBuilder b;
    b.begin_node("");
    test::build_minimal_tree(b, 0, true, false);
    b.begin_node("cpus");
    b.prop_cells("#address-cells", {1});
    b.prop_cells("#size-cells", {0});
    b.prop_cells("timebase-frequency", {10000000});
    for (uint32_t i = 0; i < 6; ++i) {
        b.begin_node("cpu@" + std::to_string(i));
        b.prop_str("device_type", "cpu");
        b.prop_cells("reg", {i});
        b.prop_str("mmu-type", "riscv,sv39");
        if (i == 4) b.prop_str("riscv,isa-extensions", std::string("i\0m\0v\0zbb", 10));
        else b.prop_str("riscv,isa", isas[i]);
        b.end_node();
    }
    b.end_node();
    b.end_node();
    b.end();
    std::vector<uint8_t> blob = b.finish();
    auto info = std::make_unique<BootInfo>();
    ASSERT_TRUE(parse_boot_info(blob.data(), blob.size(), *info).ok());
    ASSERT_EQ(info->hart_count, 6u);
    const bool want[] = {true, true, false, false, true, false};
    for (size_t i = 0; i < 6; ++i) EXPECT_EQ(info->harts[i].has_vector, want[i]) << "cpu " << i;
}

}  // namespace
}  // namespace ringlet
