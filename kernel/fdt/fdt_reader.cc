// FdtReader: header and struct-block validation, navigation, reg decoding.
#include "kernel/fdt/fdt.h"

#include "kernel/fdt/fdt_bytes.h"

namespace ringlet {

using fdt_detail::bounded_strlen;
using fdt_detail::load_be32;
using fdt_detail::span_eq;
using fdt_detail::str_eq;

namespace {

// Header field offsets (devicetree spec 5.2). size_dt_struct exists from v17.
constexpr size_t kOffMagic = 0;
constexpr size_t kOffTotalSize = 4;
constexpr size_t kOffDtStruct = 8;
constexpr size_t kOffDtStrings = 12;
constexpr size_t kOffMemRsvmap = 16;
constexpr size_t kOffVersion = 20;
constexpr size_t kOffLastCompVersion = 24;
constexpr size_t kOffSizeDtStrings = 32;
constexpr size_t kOffSizeDtStruct = 36;
constexpr size_t kHeaderSizeV16 = 36;
constexpr size_t kHeaderSizeV17 = 40;
constexpr uint32_t kMinVersion = 16;
constexpr uint32_t kMaxCompVersion = 17;
constexpr size_t kMemRsvEntrySize = 16;

uint64_t load_be64(const uint8_t* p) { return (uint64_t(load_be32(p)) << 32) | load_be32(p + 4); }

// Offsets beyond 4 GiB cannot occur in a valid blob; saturating keeps the
// arithmetic overflow-free so the bounds checks that follow reject them.
uint32_t align4_saturating(uint64_t v) {
    v = (v + 3) & ~uint64_t(3);
    return v > 0xffffffffu ? 0xffffffffu : uint32_t(v);
}

// Checks that [off, off + size) lies after the header and inside the blob.
Error check_block(uint32_t off, uint32_t size, size_t header_size, uint32_t total) {
    if (off < header_size) return Error::BadFormat;
    if (uint64_t(off) + size > total) return Error::OutOfRange;
    return Error::Ok;
}

// name is "comp@unit": a path component without a unit address matches it.
bool matches_without_unit(const char* name, const char* comp, size_t n) {
    if (n == 0) return false;
    for (size_t k = 0; k < n; ++k) {
        if (name[k] == '\0' || name[k] != comp[k]) return false;
    }
    return name[n] == '@';
}

}  // namespace

Result<uint32_t> FdtProperty::as_u32() const {
    if (len != 4) return Error::BadFormat;
    return load_be32(data);
}

Result<uint64_t> FdtProperty::as_u64() const {
    if (len == 4) return uint64_t(load_be32(data));
    if (len == 8) return load_be64(data);
    return Error::BadFormat;
}

Result<uint32_t> FdtProperty::cell(size_t i) const {
    if (i >= cell_count()) return Error::OutOfRange;
    return load_be32(data + 4 * i);
}

Result<const char*> FdtProperty::as_string() const {
    if (len == 0 || data[len - 1] != 0) return Error::BadFormat;
    return reinterpret_cast<const char*>(data);
}

bool FdtProperty::has_string(const char* s) const {
    const char* p = reinterpret_cast<const char*>(data);
    size_t pos = 0;
    while (pos < len) {
        size_t n = bounded_strlen(p + pos, len - pos);
        if (pos + n < len && span_eq(p + pos, n, s)) return true;
        pos += n + 1;
    }
    return false;
}

Result<FdtReader> FdtReader::create(const void* blob, size_t max_len) {
    if (blob == nullptr) return Error::InvalidArgument;
    const uint8_t* b = static_cast<const uint8_t*>(blob);
    if (max_len < 4) return Error::Truncated;
    if (load_be32(b + kOffMagic) != kMagic) return Error::BadFormat;
    if (max_len < kOffLastCompVersion + 4) return Error::Truncated;
    uint32_t version = load_be32(b + kOffVersion);
    uint32_t last_comp = load_be32(b + kOffLastCompVersion);
    if (version < kMinVersion || last_comp > kMaxCompVersion) return Error::Unsupported;
    if (last_comp > version) return Error::BadFormat;
    size_t header_size = version >= 17 ? kHeaderSizeV17 : kHeaderSizeV16;
    if (max_len < header_size) return Error::Truncated;
    uint32_t total = load_be32(b + kOffTotalSize);
    if (total < header_size) return Error::BadFormat;
    if (total > max_len) return Error::Truncated;

    FdtReader r;
    r.m_blob = b;
    r.m_total_size = total;
    uint32_t off_struct = load_be32(b + kOffDtStruct);
    uint32_t off_strings = load_be32(b + kOffDtStrings);
    uint32_t off_rsv = load_be32(b + kOffMemRsvmap);
    uint32_t size_strings = load_be32(b + kOffSizeDtStrings);
    uint32_t size_struct;
    if (version >= 17) {
        size_struct = load_be32(b + kOffSizeDtStruct);
    } else {
        // v16 has no size_dt_struct: the block may run to the end of the blob.
        if (off_struct > total) return Error::OutOfRange;
        size_struct = total - off_struct;
    }
    if (off_struct % 4 != 0 || off_rsv % 8 != 0) return Error::BadFormat;
    Error e = check_block(off_struct, size_struct, header_size, total);
    if (e == Error::Ok) e = check_block(off_strings, size_strings, header_size, total);
    if (e == Error::Ok) e = check_block(off_rsv, 0, header_size, total);
    if (e != Error::Ok) return e;

    // The reservation list ends with an all-zero entry that must lie inside the blob.
    r.m_memreserve_offset = off_rsv;
    for (uint64_t pos = off_rsv;; pos += kMemRsvEntrySize) {
        if (pos + kMemRsvEntrySize > total) return Error::Truncated;
        if (load_be64(b + pos) == 0 && load_be64(b + pos + 8) == 0) break;
        ++r.m_memreserve_count;
    }

    r.m_struct = b + off_struct;
    r.m_struct_size = size_struct;
    r.m_strings = reinterpret_cast<const char*>(b + off_strings);
    r.m_strings_size = size_strings;
    TRY(r.validate_structure());
    return r;
}

Result<PhysRange> FdtReader::memreserve(size_t i) const {
    if (i >= m_memreserve_count) return Error::OutOfRange;
    const uint8_t* p = m_blob + m_memreserve_offset + i * kMemRsvEntrySize;
    return PhysRange{load_be64(p), load_be64(p + 8)};
}

Error FdtReader::decode_token(uint32_t pos, Token& out) const {
    if (pos % 4 != 0) return Error::BadFormat;
    if (uint64_t(pos) + 4 > m_struct_size) return Error::Truncated;
    out = Token{};
    out.tag = load_be32(m_struct + pos);
    switch (out.tag) {
    case kBeginNode: {
        const char* name = reinterpret_cast<const char*>(m_struct + pos + 4);
        size_t room = m_struct_size - pos - 4;
        size_t n = bounded_strlen(name, room);
        if (n == room) return Error::Truncated;  // the name never ends inside the block
        out.name = name;
        out.next = align4_saturating(uint64_t(pos) + 4 + n + 1);
        return Error::Ok;
    }
    case kProp: {
        if (uint64_t(pos) + 12 > m_struct_size) return Error::Truncated;
        uint32_t len = load_be32(m_struct + pos + 4);
        uint32_t name_off = load_be32(m_struct + pos + 8);
        if (name_off >= m_strings_size) return Error::OutOfRange;
        size_t room = m_strings_size - name_off;
        if (bounded_strlen(m_strings + name_off, room) == room) return Error::BadFormat;
        if (len > m_struct_size - pos - 12) return Error::Truncated;
        out.name = m_strings + name_off;
        out.data = m_struct + pos + 12;
        out.len = len;
        out.next = align4_saturating(uint64_t(pos) + 12 + len);
        return Error::Ok;
    }
    case kEndNode:
    case kNop:
    case kEnd:
        out.next = pos + 4;
        return Error::Ok;
    default:
        return Error::BadFormat;
    }
}

Result<void> FdtReader::validate_structure() {
    // Grammar: NOP* BEGIN_NODE(root) ... END_NODE NOP* END, properties before
    // subnodes, open nodes never deeper than kMaxDepth. Every token advances pos
    // by at least 4 bytes, so the walk ends within m_struct_size / 4 steps.
    uint32_t pos = 0;
    uint32_t open = 0;
    bool root_seen = false;
    uint32_t last = kNop;  // last token other than NOP
    for (;;) {
        Token t;
        Error e = decode_token(pos, t);
        if (e != Error::Ok) return e;
        switch (t.tag) {
        case kBeginNode:
            if (open == 0 && root_seen) return Error::BadFormat;  // a second root
            if (open > kMaxDepth) return Error::BadFormat;
            if (!root_seen) m_root_offset = pos;
            root_seen = true;
            ++open;
            break;
        case kEndNode:
            if (open == 0) return Error::BadFormat;
            --open;
            break;
        case kProp:
            if (open == 0 || (last != kBeginNode && last != kProp)) return Error::BadFormat;
            break;
        case kEnd:
            if (!root_seen || open != 0) return Error::BadFormat;
            return ok();
        default:
            break;
        }
        if (t.tag != kNop) last = t.tag;
        pos = t.next;
    }
}

Result<uint32_t> FdtReader::skip_subtree(uint32_t node_offset) const {
    uint32_t pos = node_offset;
    uint32_t depth = 0;
    for (;;) {
        Token t;
        Error e = decode_token(pos, t);
        if (e != Error::Ok) return e;
        if (t.tag == kBeginNode) {
            ++depth;
        } else if (t.tag == kEndNode) {
            if (depth == 0) return Error::BadFormat;
            if (--depth == 0) return t.next;
        } else if (t.tag == kEnd) {
            return Error::BadFormat;
        }
        pos = t.next;
    }
}

Result<FdtNode> FdtReader::node_from(uint32_t pos, uint32_t parent, uint32_t depth, bool skip_props) const {
    for (;;) {
        Token t;
        Error e = decode_token(pos, t);
        if (e != Error::Ok) return e;
        if (t.tag == kBeginNode) return FdtNode{pos, parent, depth, t.name};
        if (t.tag != kNop && !(skip_props && t.tag == kProp)) return Error::NotFound;
        pos = t.next;
    }
}

FdtNode FdtReader::root() const {
    Token t;
    const char* name = read_token(m_root_offset, t) ? t.name : "";
    return FdtNode{m_root_offset, FdtNode::kNoParent, 0, name};
}

Result<FdtNode> FdtReader::first_child(const FdtNode& node) const {
    Token t;
    Error e = decode_token(node.offset, t);
    if (e != Error::Ok) return e;
    if (t.tag != kBeginNode) return Error::InvalidArgument;
    return node_from(t.next, node.offset, node.depth + 1, true);
}

Result<FdtNode> FdtReader::next_sibling(const FdtNode& node) const {
    if (node.parent_offset == FdtNode::kNoParent) return Error::NotFound;
    uint32_t after = TRY(skip_subtree(node.offset));
    return node_from(after, node.parent_offset, node.depth, false);
}

Result<FdtNode> FdtReader::node_at(uint32_t offset) const {
    FdtNode found;
    bool hit = false;
    for_each_node([&](const FdtNode& n) {
        if (n.offset != offset) return n.offset < offset;
        found = n;
        hit = true;
        return false;
    });
    if (!hit) return Error::NotFound;
    return found;
}

Result<FdtNode> FdtReader::parent(const FdtNode& node) const {
    if (node.parent_offset == FdtNode::kNoParent) return Error::NotFound;
    return node_at(node.parent_offset);
}

Result<FdtProperty> FdtReader::first_property(const FdtNode& node) const {
    Token t;
    Error e = decode_token(node.offset, t);
    if (e != Error::Ok) return e;
    if (t.tag != kBeginNode) return Error::InvalidArgument;
    FdtProperty start;
    start.next_offset = t.next;
    return next_property(start);
}

Result<FdtProperty> FdtReader::next_property(const FdtProperty& prop) const {
    uint32_t pos = prop.next_offset;
    for (;;) {
        Token t;
        Error e = decode_token(pos, t);
        if (e != Error::Ok) return e;
        if (t.tag == kProp) return FdtProperty{t.name, t.data, t.len, t.next};
        if (t.tag != kNop) return Error::NotFound;
        pos = t.next;
    }
}

Result<FdtProperty> FdtReader::property(const FdtNode& node, const char* name) const {
    Result<FdtProperty> p = first_property(node);
    while (p.ok()) {
        if (str_eq(p->name, name)) return p;
        p = next_property(*p);
    }
    return p.error();
}

const char* FdtReader::string_or(const FdtNode& node, const char* name, const char* fallback) const {
    Result<FdtProperty> p = property(node, name);
    if (!p.ok()) return fallback;
    return p->as_string().value_or(fallback);
}

uint32_t FdtReader::u32_or(const FdtNode& node, const char* name, uint32_t fallback) const {
    Result<FdtProperty> p = property(node, name);
    if (!p.ok()) return fallback;
    return p->as_u32().value_or(fallback);
}

bool FdtReader::is_enabled(const FdtNode& node) const {
    Result<FdtProperty> p = property(node, "status");
    if (!p.ok()) return true;
    const char* s = p->as_string().value_or("");
    return str_eq(s, "okay") || str_eq(s, "ok");
}

Result<FdtNode> FdtReader::find_node(const char* path) const {
    return find_node(path, bounded_strlen(path, 0xffffffffu));
}

Result<FdtNode> FdtReader::find_node(const char* path, size_t len) const {
    if (len == 0) return Error::InvalidArgument;
    FdtNode cur = root();
    size_t i = 0;
    if (path[0] != '/') {
        // "alias[/rest]": the alias names an absolute path in /aliases.
        while (i < len && path[i] != '/') ++i;
        FdtNode aliases = TRY(find_node("/aliases"));
        Result<FdtProperty> p = first_property(aliases);
        while (p.ok() && !span_eq(path, i, p->name)) p = next_property(*p);
        if (!p.ok()) return Error::NotFound;
        const char* target = TRY(p->as_string());
        if (target[0] != '/') return Error::BadFormat;  // no alias chains: they could loop
        cur = TRY(find_node(target));
    }
    while (i < len) {
        while (i < len && path[i] == '/') ++i;
        if (i == len) break;
        size_t start = i;
        bool has_unit = false;
        while (i < len && path[i] != '/') has_unit |= path[i++] == '@';
        size_t n = i - start;
        const char* comp = path + start;
        Result<FdtNode> child = first_child(cur);
        while (child.ok()) {
            const char* name = child->name;
            if (span_eq(comp, n, name)) break;
            // "memory" matches "memory@80000000" (spec 2.2.3: unit address omitted).
            if (!has_unit && matches_without_unit(name, comp, n)) break;
            child = next_sibling(*child);
        }
        if (!child.ok()) return child.error();
        cur = *child;
    }
    return cur;
}

Result<FdtNode> FdtReader::find_by_phandle(uint32_t phandle) const {
    if (phandle == 0 || phandle == 0xffffffffu) return Error::NotFound;  // reserved values
    FdtNode found;
    bool hit = false;
    for_each_node([&](const FdtNode& n) {
        Result<FdtProperty> p = property(n, "phandle");
        if (!p.ok()) p = property(n, "linux,phandle");
        if (p.ok() && p->as_u32().value_or(0) == phandle) {
            found = n;
            hit = true;
        }
        return !hit;
    });
    if (!hit) return Error::NotFound;
    return found;
}

Result<FdtNode> FdtReader::find_compatible(const char* compat, const FdtNode* after) const {
    FdtNode found;
    bool hit = false;
    for_each_node([&](const FdtNode& n) {
        if (after != nullptr && n.offset <= after->offset) return true;
        Result<FdtProperty> p = property(n, "compatible");
        hit = p.ok() && p->has_string(compat);
        if (hit) found = n;
        return !hit;
    });
    if (!hit) return Error::NotFound;
    return found;
}

FdtCells FdtReader::cells_of(const FdtNode& node) const {
    return FdtCells{u32_or(node, "#address-cells", 2), u32_or(node, "#size-cells", 1)};
}

namespace {

struct RegLayout {
    FdtCells cells;
    size_t count;
};

}  // namespace

static Result<RegLayout> reg_layout(const FdtReader& r, const FdtNode& node, const FdtProperty& reg) {
    FdtCells cells;
    if (node.parent_offset != FdtNode::kNoParent) {
        FdtNode parent;
        parent.offset = node.parent_offset;  // property lookup needs only the offset
        cells = r.cells_of(parent);
    }
    if (cells.address > 2 || cells.size > 2) return Error::Unsupported;
    uint32_t entry_bytes = 4 * (cells.address + cells.size);
    if (entry_bytes == 0 || reg.len % entry_bytes != 0) return Error::BadFormat;
    return RegLayout{cells, reg.len / entry_bytes};
}

Result<size_t> FdtReader::reg_count(const FdtNode& node) const {
    FdtProperty reg = TRY(property(node, "reg"));
    RegLayout layout = TRY(reg_layout(*this, node, reg));
    return layout.count;
}

Result<PhysRange> FdtReader::reg(const FdtNode& node, size_t index) const {
    FdtProperty reg = TRY(property(node, "reg"));
    RegLayout layout = TRY(reg_layout(*this, node, reg));
    if (index >= layout.count) return Error::OutOfRange;
    size_t cell = index * (layout.cells.address + layout.cells.size);
    PhysRange out;
    for (uint32_t k = 0; k < layout.cells.address; ++k) out.base = (out.base << 32) | TRY(reg.cell(cell++));
    for (uint32_t k = 0; k < layout.cells.size; ++k) out.size = (out.size << 32) | TRY(reg.cell(cell++));
    return out;
}

}  // namespace ringlet
