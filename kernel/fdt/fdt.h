// A small, allocation-free reader for flattened device trees (devicetree
// specification v0.4, blob versions 16 and 17), and parse_boot_info(), which
// distils the tree into the BootInfo the kernel boots from.
//
// The whole blob is validated once by FdtReader::create(): header bounds,
// every struct-block token, property lengths, string offsets, nesting depth.
// Navigation afterwards still bounds-checks every read, so a reader is safe
// even if the blob changes under it, but on a validated blob it cannot fail
// for structural reasons. The blob may sit at any alignment in memory.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "kernel/fdt/boot_info.h"
#include "ringlet/result.h"

namespace ringlet {

// A node of the tree: a cheap handle into the blob, valid while the blob is.
struct FdtNode {
    static constexpr uint32_t kNoParent = 0xffffffffu;

    uint32_t offset = 0;                 // its FDT_BEGIN_NODE token, from the struct block start
    uint32_t parent_offset = kNoParent;  // the parent's token offset (kNoParent for the root)
    uint32_t depth = 0;                  // 0 for the root
    const char* name = "";               // "name@unit-address", NUL-terminated, in the blob
};

// One property of a node; data points into the blob (big-endian, unaligned).
struct FdtProperty {
    const char* name = "";
    const uint8_t* data = nullptr;
    uint32_t len = 0;
    uint32_t next_offset = 0;  // token after this property, for FdtReader::next_property()

    // The value as one 32-bit cell; BadFormat unless len is 4.
    Result<uint32_t> as_u32() const;
    // The value as one or two cells (len 4 or 8), e.g. linux,initrd-start.
    Result<uint64_t> as_u64() const;
    // Number of whole 32-bit cells in the value.
    size_t cell_count() const { return len / 4; }
    // Cell i of the value; OutOfRange past the last whole cell.
    Result<uint32_t> cell(size_t i) const;
    // The value as a NUL-terminated string; BadFormat if it is empty or not terminated.
    Result<const char*> as_string() const;
    // True if the value is a string list (e.g. "compatible") that holds s exactly.
    bool has_string(const char* s) const;
};

// #address-cells / #size-cells a node declares for its children.
struct FdtCells {
    uint32_t address = 2;
    uint32_t size = 1;
};

class FdtReader {
public:
    static constexpr uint32_t kMagic = 0xd00dfeedu;
    static constexpr uint32_t kMaxDepth = 32;  // root is depth 0; deeper blobs are rejected

    // Validates the blob at `blob` (no more than max_len bytes may be read) and
    // returns a reader for it; Truncated, BadFormat, OutOfRange or Unsupported otherwise.
    static Result<FdtReader> create(const void* blob, size_t max_len);

    // totalsize from the header: the bytes the blob occupies.
    uint32_t total_size() const { return m_total_size; }
    // Number of entries in the memory reservation block (before its terminator).
    size_t memreserve_count() const { return m_memreserve_count; }
    // Entry i of the memory reservation block; OutOfRange past the last one.
    Result<PhysRange> memreserve(size_t i) const;

    // The root node "/".
    FdtNode root() const;
    // The node at an absolute path ("/soc/serial@10000000"); a component without
    // "@unit" matches a node name up to its '@'; a path not starting with '/'
    // begins with an /aliases entry ("serial0" or "serial0/child"). NotFound if absent.
    Result<FdtNode> find_node(const char* path) const;
    // Same as find_node() for a path of path_len bytes that need not be NUL-terminated.
    Result<FdtNode> find_node(const char* path, size_t path_len) const;
    // The first child of node; NotFound if it has none.
    Result<FdtNode> first_child(const FdtNode& node) const;
    // The next sibling of node; NotFound if it is the last child.
    Result<FdtNode> next_sibling(const FdtNode& node) const;
    // The parent of node; NotFound for the root.
    Result<FdtNode> parent(const FdtNode& node) const;
    // The node whose FDT_BEGIN_NODE token is at offset; NotFound if none starts there.
    Result<FdtNode> node_at(uint32_t offset) const;
    // The node whose "phandle" (or legacy "linux,phandle") is phandle; NotFound if none.
    Result<FdtNode> find_by_phandle(uint32_t phandle) const;
    // The first node in tree order after `after` (from the root if null) whose
    // compatible list holds compat; NotFound if none.
    Result<FdtNode> find_compatible(const char* compat, const FdtNode* after = nullptr) const;

    // The property called name on node; NotFound if it has none.
    Result<FdtProperty> property(const FdtNode& node, const char* name) const;
    // The first property of node; NotFound if it has none.
    Result<FdtProperty> first_property(const FdtNode& node) const;
    // The property after prop on the same node; NotFound after the last.
    Result<FdtProperty> next_property(const FdtProperty& prop) const;
    // The property's string value, or fallback if absent or not a string.
    const char* string_or(const FdtNode& node, const char* name, const char* fallback) const;
    // The property's single-cell value, or fallback if absent or malformed.
    uint32_t u32_or(const FdtNode& node, const char* name, uint32_t fallback) const;
    // True unless the node's status says it is unusable (absent, "okay" and "ok" are usable).
    bool is_enabled(const FdtNode& node) const;

    // The #address-cells/#size-cells node declares for its children (spec defaults 2/1).
    FdtCells cells_of(const FdtNode& node) const;
    // Number of (address, size) entries in node's reg, decoded with its parent's cells.
    Result<size_t> reg_count(const FdtNode& node) const;
    // Entry i of node's reg (no "ranges" translation: child and parent buses are
    // assumed identity-mapped, as on every RISC-V platform we target).
    // NotFound without reg, OutOfRange past the last entry, Unsupported for cells > 2.
    Result<PhysRange> reg(const FdtNode& node, size_t index = 0) const;

    // Calls visit(const FdtNode&) for every node in tree order until it returns false.
    template <typename Visit>
    void for_each_node(Visit&& visit) const {
        uint32_t stack[kMaxDepth + 1];
        uint32_t depth = 0;
        uint32_t pos = m_root_offset;
        for (;;) {
            Token t;
            if (!read_token(pos, t)) return;
            if (t.tag == kBeginNode) {
                if (depth > kMaxDepth) return;
                FdtNode n{pos, depth == 0 ? FdtNode::kNoParent : stack[depth - 1], depth, t.name};
                stack[depth++] = pos;
                if (!visit(static_cast<const FdtNode&>(n))) return;
            } else if (t.tag == kEndNode) {
                if (depth == 0 || --depth == 0) return;
            } else if (t.tag == kEnd) {
                return;
            }
            pos = t.next;
        }
    }

private:
    static constexpr uint32_t kBeginNode = 1;
    static constexpr uint32_t kEndNode = 2;
    static constexpr uint32_t kProp = 3;
    static constexpr uint32_t kNop = 4;
    static constexpr uint32_t kEnd = 9;

    // One decoded struct-block token.
    struct Token {
        uint32_t tag = 0;
        uint32_t next = 0;             // offset of the following token
        const char* name = "";         // node name (BEGIN_NODE) or property name (PROP)
        const uint8_t* data = nullptr; // property value (PROP)
        uint32_t len = 0;              // property length (PROP)
    };

    FdtReader() = default;

    // Decodes the token at pos; Truncated/BadFormat/OutOfRange if it is not whole and sane.
    Error decode_token(uint32_t pos, Token& out) const;
    bool read_token(uint32_t pos, Token& out) const { return decode_token(pos, out) == Error::Ok; }
    // Walks the entire struct block once, checking its grammar.
    Result<void> validate_structure();
    // Offset of the token after node's whole subtree (past its FDT_END_NODE).
    Result<uint32_t> skip_subtree(uint32_t node_offset) const;
    // The first BEGIN_NODE at or after pos, skipping NOPs (and properties if allowed).
    Result<FdtNode> node_from(uint32_t pos, uint32_t parent, uint32_t depth, bool skip_props) const;

    const uint8_t* m_blob = nullptr;
    uint32_t m_total_size = 0;
    const uint8_t* m_struct = nullptr;
    uint32_t m_struct_size = 0;
    const char* m_strings = nullptr;
    uint32_t m_strings_size = 0;
    uint32_t m_memreserve_offset = 0;
    size_t m_memreserve_count = 0;
    uint32_t m_root_offset = 0;
};

// Fills out from the device tree at blob (at most max_len bytes): memory,
// reserved ranges, /chosen, harts, UART, PLIC, virtio-mmio and power device.
// out is reset first. Fails if the blob is malformed, if there is no usable
// memory or no /cpus with a cpu node, or if reserved ranges overflow BootInfo.
Result<void> parse_boot_info(const void* blob, size_t max_len, BootInfo& out);

}  // namespace ringlet
