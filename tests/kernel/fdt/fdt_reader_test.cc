// FdtReader navigation: paths, aliases, children, properties, phandles, reg.
#include "kernel/fdt/fdt.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/kernel/fdt/fdt_test_support.h"

namespace ringlet {
namespace {

using test::load_dtb;

class FdtReaderTest : public ::testing::Test {
protected:
    FdtReader open(const std::string& name) {
        m_blob = load_dtb(name);
        Result<FdtReader> r = FdtReader::create(m_blob.data(), m_blob.size());
        EXPECT_TRUE(r.ok()) << error_name(r.error());
        return *r;
    }
    std::vector<uint8_t> m_blob;
};

TEST_F(FdtReaderTest, HeaderFields) {
    FdtReader r = open("qemu-virt-4hart.dtb");
    EXPECT_EQ(r.total_size(), m_blob.size());
    EXPECT_EQ(r.memreserve_count(), 0u);
    EXPECT_EQ(r.memreserve(0).error(), Error::OutOfRange);
    EXPECT_STREQ(r.root().name, "");
    EXPECT_EQ(r.root().depth, 0u);
    EXPECT_EQ(r.root().parent_offset, FdtNode::kNoParent);
}

TEST_F(FdtReaderTest, FindNodeByPath) {
    FdtReader r = open("qemu-virt-4hart.dtb");
    Result<FdtNode> uart = r.find_node("/soc/serial@10000000");
    ASSERT_TRUE(uart.ok());
    EXPECT_STREQ(uart->name, "serial@10000000");
    EXPECT_EQ(uart->depth, 2u);
    // A component without "@unit" matches the name before '@'.
    Result<FdtNode> mem = r.find_node("/memory");
    ASSERT_TRUE(mem.ok());
    EXPECT_STREQ(mem->name, "memory@80000000");
    Result<FdtNode> cpu2 = r.find_node("//cpus/cpu@2/");
    ASSERT_TRUE(cpu2.ok());
    EXPECT_EQ(r.reg(*cpu2)->base, 2u);
    EXPECT_EQ(r.find_node("/").value_or(FdtNode{}).offset, r.root().offset);
    EXPECT_EQ(r.find_node("/soc/serial@1").error(), Error::NotFound);  // unit must match whole
    EXPECT_EQ(r.find_node("/nope").error(), Error::NotFound);
    EXPECT_EQ(r.find_node("/cpus/cpu@0/interrupt-controller/deeper").error(), Error::NotFound);
    EXPECT_EQ(r.find_node("").error(), Error::InvalidArgument);
    // Length-bounded form: only the first 5 bytes count.
    Result<FdtNode> cpus = r.find_node("/cpusXYZ", 5);
    ASSERT_TRUE(cpus.ok());
    EXPECT_STREQ(cpus->name, "cpus");
}

TEST_F(FdtReaderTest, AliasesResolve) {
    FdtReader r = open("sifive_u-5hart.dtb");
    Result<FdtNode> s1 = r.find_node("serial1");
    ASSERT_TRUE(s1.ok());
    EXPECT_STREQ(s1->name, "serial@10011000");
    EXPECT_EQ(r.find_node("serial7").error(), Error::NotFound);
    EXPECT_EQ(r.find_node("serial").error(), Error::NotFound);  // no prefix matching of aliases
    FdtReader v = open("qemu-virt-1hart.dtb");                   // has no /aliases at all
    EXPECT_EQ(v.find_node("serial0").error(), Error::NotFound);
}

TEST_F(FdtReaderTest, ChildrenAndSiblings) {
    FdtReader r = open("qemu-virt-4hart.dtb");
    FdtNode cpus = *r.find_node("/cpus");
    std::vector<std::string> names;
    for (Result<FdtNode> c = r.first_child(cpus); c.ok(); c = r.next_sibling(*c)) {
        names.push_back(c->name);
        EXPECT_EQ(c->parent_offset, cpus.offset);
        EXPECT_EQ(c->depth, 2u);
    }
    EXPECT_EQ(names, (std::vector<std::string>{"cpu@0", "cpu@1", "cpu@2", "cpu@3", "cpu-map"}));
    FdtNode leaf = *r.find_node("/cpus/cpu-map/cluster0/core0");
    EXPECT_EQ(r.first_child(leaf).error(), Error::NotFound);
    EXPECT_EQ(r.next_sibling(r.root()).error(), Error::NotFound);
    Result<FdtNode> p = r.parent(leaf);
    ASSERT_TRUE(p.ok());
    EXPECT_STREQ(p->name, "cluster0");
    EXPECT_EQ(r.parent(r.root()).error(), Error::NotFound);
    EXPECT_EQ(r.node_at(leaf.offset)->offset, leaf.offset);
    EXPECT_EQ(r.node_at(leaf.offset + 4).error(), Error::NotFound);
}

TEST_F(FdtReaderTest, ForEachNodeVisitsTreeOrderWithParents) {
    FdtReader r = open("qemu-virt-1hart.dtb");
    size_t count = 0;
    uint32_t last = 0;
    bool ordered = true;
    r.for_each_node([&](const FdtNode& n) {
        ordered &= count == 0 || n.offset > last;
        last = n.offset;
        if (n.depth > 0) {
            EXPECT_EQ(r.parent(n)->offset, n.parent_offset);
        }
        ++count;
        return true;
    });
    EXPECT_TRUE(ordered);
    size_t dts_nodes = 0;  // count "{" lines in the .dts, the root included
    std::vector<uint8_t> text = load_dtb("qemu-virt-1hart.dts");
    std::string dts(text.begin(), text.end());
    for (char c : dts) dts_nodes += c == '{';
    EXPECT_EQ(count, dts_nodes);
}

TEST_F(FdtReaderTest, Properties) {
    FdtReader r = open("qemu-virt-4hart.dtb");
    FdtNode plic = *r.find_node("/soc/plic@c000000");
    Result<FdtProperty> compat = r.property(plic, "compatible");
    ASSERT_TRUE(compat.ok());
    EXPECT_TRUE(compat->has_string("riscv,plic0"));
    EXPECT_TRUE(compat->has_string("sifive,plic-1.0.0"));
    EXPECT_FALSE(compat->has_string("riscv"));
    EXPECT_STREQ(*compat->as_string(), "sifive,plic-1.0.0");
    EXPECT_EQ(r.property(plic, "interrupt-controller")->len, 0u);
    EXPECT_EQ(r.property(plic, "interrupt-controller")->as_string().error(), Error::BadFormat);
    EXPECT_EQ(r.property(plic, "nonexistent").error(), Error::NotFound);
    EXPECT_EQ(r.u32_or(plic, "riscv,ndev", 0), 0x60u);
    EXPECT_EQ(r.u32_or(plic, "reg", 77), 77u);  // 16 bytes: not a u32
    EXPECT_STREQ(r.string_or(plic, "missing", "fb"), "fb");
    Result<FdtProperty> ie = r.property(plic, "interrupts-extended");
    EXPECT_EQ(ie->cell_count(), 16u);
    EXPECT_EQ(*ie->cell(3), 9u);
    EXPECT_EQ(ie->cell(16).error(), Error::OutOfRange);
    EXPECT_EQ(ie->as_u32().error(), Error::BadFormat);
    EXPECT_EQ(ie->as_u64().error(), Error::BadFormat);

    std::vector<std::string> names;
    for (Result<FdtProperty> p = r.first_property(plic); p.ok(); p = r.next_property(*p)) names.push_back(p->name);
    EXPECT_EQ(names, (std::vector<std::string>{"phandle", "riscv,ndev", "reg", "interrupts-extended",
                                               "interrupt-controller", "compatible", "#address-cells",
                                               "#interrupt-cells"}));
    EXPECT_EQ(r.first_property(*r.find_node("/cpus/cpu-map/cluster0")).error(), Error::NotFound);
    EXPECT_TRUE(r.is_enabled(*r.find_node("/cpus/cpu@0")));  // "okay"
    EXPECT_TRUE(r.is_enabled(plic));                          // absent
}

TEST_F(FdtReaderTest, PhandlesAndCompatible) {
    FdtReader r = open("qemu-virt-4hart.dtb");
    Result<FdtNode> plic = r.find_by_phandle(9);
    ASSERT_TRUE(plic.ok());
    EXPECT_STREQ(plic->name, "plic@c000000");
    EXPECT_STREQ(r.find_by_phandle(0x0a)->name, "test@100000");
    EXPECT_EQ(r.find_by_phandle(0).error(), Error::NotFound);
    EXPECT_EQ(r.find_by_phandle(0xffffffff).error(), Error::NotFound);
    EXPECT_EQ(r.find_by_phandle(1234).error(), Error::NotFound);

    size_t virtio = 0;
    Result<FdtNode> n = r.find_compatible("virtio,mmio");
    for (; n.ok(); n = r.find_compatible("virtio,mmio", &*n)) ++virtio;
    EXPECT_EQ(virtio, 8u);
    EXPECT_EQ(n.error(), Error::NotFound);
    EXPECT_STREQ(r.find_compatible("sifive,test0")->name, "test@100000");  // second list entry
}

TEST_F(FdtReaderTest, RegUsesParentCells) {
    FdtReader r = open("synthetic-edge.dtb");
    FdtNode soc = *r.find_node("/soc");
    FdtCells cells = r.cells_of(soc);
    EXPECT_EQ(cells.address, 1u);
    EXPECT_EQ(cells.size, 1u);
    FdtNode uart = *r.find_node("/soc/serial@20001000");
    EXPECT_EQ(*r.reg_count(uart), 1u);
    EXPECT_EQ(r.reg(uart)->base, 0x20001000u);
    EXPECT_EQ(r.reg(uart)->size, 0x400u);
    EXPECT_EQ(r.reg(uart, 1).error(), Error::OutOfRange);
    FdtNode mem = *r.find_node("/memory@80000000");
    EXPECT_EQ(*r.reg_count(mem), 2u);
    EXPECT_EQ(r.reg(mem, 1)->base, 0x100000000u);
    FdtNode cpu = *r.find_node("/cpus/cpu@9");  // #size-cells = 0
    EXPECT_EQ(r.reg(cpu)->base, 9u);
    EXPECT_EQ(r.reg(cpu)->size, 0u);
    EXPECT_EQ(r.reg(*r.find_node("/chosen")).error(), Error::NotFound);
    ASSERT_EQ(r.memreserve_count(), 2u);
    EXPECT_EQ(r.memreserve(1)->base, 0x8f000000u);
    EXPECT_EQ(r.memreserve(1)->size, 0x1000u);
    FdtReader v = open("qemu-virt-4hart.dtb");  // PCI: #address-cells = 3 for its children
    FdtCells root_cells = v.cells_of(v.root());
    EXPECT_EQ(root_cells.address, 2u);
    EXPECT_EQ(root_cells.size, 2u);
}

TEST_F(FdtReaderTest, RegWithUnsupportedOrMalformedCells) {
    test::FdtBuilder b;
    b.begin_node("");
    b.begin_node("pci");
    b.prop_cells("#address-cells", {3});
    b.prop_cells("#size-cells", {2});
    b.begin_node("dev@0");
    b.prop_cells("reg", {0, 0, 0, 0, 0x100});
    b.end_node();
    b.end_node();
    b.begin_node("bus");
    b.prop_cells("#address-cells", {1});
    b.prop_cells("#size-cells", {1});
    b.begin_node("odd@0");
    b.prop_cells("reg", {0x1000, 0x10, 0x2000});  // 1.5 entries
    b.end_node();
    b.end_node();
    b.end_node();
    b.end();
    std::vector<uint8_t> blob = b.finish();
    Result<FdtReader> r = FdtReader::create(blob.data(), blob.size());
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->reg(*r->find_node("/pci/dev@0")).error(), Error::Unsupported);
    EXPECT_EQ(r->reg(*r->find_node("/bus/odd@0")).error(), Error::BadFormat);
    EXPECT_EQ(r->reg_count(*r->find_node("/bus/odd@0")).error(), Error::BadFormat);
}

}  // namespace
}  // namespace ringlet
