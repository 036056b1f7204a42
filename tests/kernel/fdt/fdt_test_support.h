// Test helpers for kernel/fdt: loading the committed DTBs and building small
// blobs (valid or deliberately broken) token by token.
#pragma once

#include <stdint.h>

#include <functional>
#include <string>
#include <vector>

namespace ringlet::test {

// The bytes of tests/data/dtb/<name>; fails the calling test (and returns {})
// if the file cannot be read.
std::vector<uint8_t> load_dtb(const std::string& name);

// Reads/writes a big-endian 32-bit word at byte offset off.
uint32_t get_be32(const std::vector<uint8_t>& b, size_t off);
void put_be32(std::vector<uint8_t>& b, size_t off, uint32_t v);

// Header field offsets, for tests that corrupt them.
constexpr size_t kHdrMagic = 0, kHdrTotalSize = 4, kHdrOffStruct = 8, kHdrOffStrings = 12,
                 kHdrOffRsvmap = 16, kHdrVersion = 20, kHdrLastComp = 24, kHdrSizeStrings = 32,
                 kHdrSizeStruct = 36;

// Emits an FDT (version 17) from explicit tokens; nothing is checked, so it
// can express every malformation the parser must reject.
class FdtBuilder {
public:
    static constexpr uint32_t kBeginNode = 1, kEndNode = 2, kProp = 3, kNop = 4, kEnd = 9;

    void reserve(uint64_t base, uint64_t size);
    void begin_node(const std::string& name);
    void end_node() { token(kEndNode); }
    void nop() { token(kNop); }
    void end() { token(kEnd); }
    void token(uint32_t tag);
    // A property whose value is the given bytes.
    void prop(const std::string& name, const std::vector<uint8_t>& value);
    void prop_cells(const std::string& name, const std::vector<uint32_t>& cells);
    // A string (or, with embedded '\0's, string-list) property, NUL-terminated.
    void prop_str(const std::string& name, const std::string& value);
    void prop_empty(const std::string& name) { prop(name, {}); }
    // A property token with arbitrary header words and payload.
    void prop_raw(uint32_t len, uint32_t name_off, const std::vector<uint8_t>& payload);
    // Raw bytes in the struct block (no padding).
    void raw(const std::vector<uint8_t>& bytes);
    uint32_t string_offset(const std::string& name);
    size_t strings_size() const { return m_strings.size(); }

    // The blob: header, reservation block (terminated unless told otherwise),
    // struct block, strings block.
    std::vector<uint8_t> finish(bool terminate_rsvmap = true) const;

private:
    void pad();
    std::vector<uint8_t> m_rsv;
    std::vector<uint8_t> m_struct;
    std::string m_strings;
};

// Adds a tree with one memory node, /cpus with `harts` harts, and /chosen,
// between begin_node("") and end_node() — enough for parse_boot_info to pass.
// chosen_extra, if given, adds properties to /chosen.
void build_minimal_tree(FdtBuilder& b, int harts = 1, bool with_memory = true, bool with_cpus = true,
                        const std::function<void(FdtBuilder&)>& chosen_extra = {});

// A complete minimal blob, FDT_END included.
std::vector<uint8_t> minimal_blob();

}  // namespace ringlet::test
