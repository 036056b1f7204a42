#include "tests/kernel/fdt/fdt_test_support.h"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

namespace ringlet::test {

std::vector<uint8_t> load_dtb(const std::string& name) {
    std::string path = std::string(RINGLET_TEST_DATA) + "/dtb/" + name;
    std::ifstream in(path, std::ios::binary);
    EXPECT_TRUE(in.good()) << "cannot open " << path;
    if (!in.good()) return {};
    return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

uint32_t get_be32(const std::vector<uint8_t>& b, size_t off) {
    return (uint32_t(b.at(off)) << 24) | (uint32_t(b.at(off + 1)) << 16) | (uint32_t(b.at(off + 2)) << 8) |
           uint32_t(b.at(off + 3));
}

void put_be32(std::vector<uint8_t>& b, size_t off, uint32_t v) {
    b.at(off) = uint8_t(v >> 24);
    b.at(off + 1) = uint8_t(v >> 16);
    b.at(off + 2) = uint8_t(v >> 8);
    b.at(off + 3) = uint8_t(v);
}

namespace {

void append_be32(std::vector<uint8_t>& v, uint32_t x) {
    v.push_back(uint8_t(x >> 24));
    v.push_back(uint8_t(x >> 16));
    v.push_back(uint8_t(x >> 8));
    v.push_back(uint8_t(x));
}

void append_be64(std::vector<uint8_t>& v, uint64_t x) {
    append_be32(v, uint32_t(x >> 32));
    append_be32(v, uint32_t(x));
}

}  // namespace

void FdtBuilder::reserve(uint64_t base, uint64_t size) {
    append_be64(m_rsv, base);
    append_be64(m_rsv, size);
}

void FdtBuilder::token(uint32_t tag) { append_be32(m_struct, tag); }

void FdtBuilder::pad() {
    while (m_struct.size() % 4 != 0) m_struct.push_back(0);
}

void FdtBuilder::begin_node(const std::string& name) {
    token(kBeginNode);
    m_struct.insert(m_struct.end(), name.begin(), name.end());
    m_struct.push_back(0);
    pad();
}

uint32_t FdtBuilder::string_offset(const std::string& name) {
    // Reuse an earlier copy only when it is a whole string, not a suffix.
    std::string needle = name + '\0';
    size_t pos = 0;
    while ((pos = m_strings.find(needle, pos)) != std::string::npos) {
        if (pos == 0 || m_strings[pos - 1] == '\0') return uint32_t(pos);
        ++pos;
    }
    uint32_t off = uint32_t(m_strings.size());
    m_strings += needle;
    return off;
}

void FdtBuilder::prop(const std::string& name, const std::vector<uint8_t>& value) {
    prop_raw(uint32_t(value.size()), string_offset(name), value);
}

void FdtBuilder::prop_cells(const std::string& name, const std::vector<uint32_t>& cells) {
    std::vector<uint8_t> v;
    for (uint32_t c : cells) append_be32(v, c);
    prop(name, v);
}

void FdtBuilder::prop_str(const std::string& name, const std::string& value) {
    std::vector<uint8_t> v(value.begin(), value.end());
    v.push_back(0);
    prop(name, v);
}

void FdtBuilder::prop_raw(uint32_t len, uint32_t name_off, const std::vector<uint8_t>& payload) {
    token(kProp);
    append_be32(m_struct, len);
    append_be32(m_struct, name_off);
    m_struct.insert(m_struct.end(), payload.begin(), payload.end());
    pad();
}

void FdtBuilder::raw(const std::vector<uint8_t>& bytes) { m_struct.insert(m_struct.end(), bytes.begin(), bytes.end()); }

std::vector<uint8_t> FdtBuilder::finish(bool terminate_rsvmap) const {
    constexpr uint32_t kHeader = 40;
    std::vector<uint8_t> rsv = m_rsv;
    if (terminate_rsvmap) {
        append_be64(rsv, 0);
        append_be64(rsv, 0);
    }
    uint32_t off_rsv = kHeader;
    uint32_t off_struct = off_rsv + uint32_t(rsv.size());
    uint32_t off_strings = off_struct + uint32_t(m_struct.size());
    uint32_t total = off_strings + uint32_t(m_strings.size());
    std::vector<uint8_t> out;
    append_be32(out, 0xd00dfeed);
    append_be32(out, total);
    append_be32(out, off_struct);
    append_be32(out, off_strings);
    append_be32(out, off_rsv);
    append_be32(out, 17);
    append_be32(out, 16);
    append_be32(out, 0);  // boot_cpuid_phys
    append_be32(out, uint32_t(m_strings.size()));
    append_be32(out, uint32_t(m_struct.size()));
    out.insert(out.end(), rsv.begin(), rsv.end());
    out.insert(out.end(), m_struct.begin(), m_struct.end());
    out.insert(out.end(), m_strings.begin(), m_strings.end());
    return out;
}

void build_minimal_tree(FdtBuilder& b, int harts, bool with_memory, bool with_cpus,
                        const std::function<void(FdtBuilder&)>& chosen_extra) {
    b.prop_cells("#address-cells", {2});
    b.prop_cells("#size-cells", {2});
    b.begin_node("chosen");
    if (chosen_extra) {
        chosen_extra(b);
    } else {
        b.prop_str("bootargs", "console=ttyS0");
    }
    b.end_node();
    if (with_memory) {
        b.begin_node("memory@80000000");
        b.prop_str("device_type", "memory");
        b.prop_cells("reg", {0, 0x80000000, 0, 0x8000000});
        b.end_node();
    }
    if (with_cpus) {
        b.begin_node("cpus");
        b.prop_cells("#address-cells", {1});
        b.prop_cells("#size-cells", {0});
        b.prop_cells("timebase-frequency", {10000000});
        for (int i = 0; i < harts; ++i) {
            b.begin_node("cpu@" + std::to_string(i));
            b.prop_str("device_type", "cpu");
            b.prop_cells("reg", {uint32_t(i)});
            b.prop_str("mmu-type", "riscv,sv39");
            b.prop_str("riscv,isa", "rv64imafdc_zicsr");
            b.end_node();
        }
        b.end_node();
    }
}

std::vector<uint8_t> minimal_blob() {
    FdtBuilder b;
    b.begin_node("");
    build_minimal_tree(b);
    b.end_node();
    b.end();
    return b.finish();
}

}  // namespace ringlet::test
