// parse_boot_info(): distils a validated device tree into BootInfo.
//
// Policy: a node we rely on (memory, reserved ranges, cpus, the chosen UART,
// PLIC, virtio, power) with malformed properties is an error, because guessing
// would misconfigure the machine silently. Unknown nodes are ignored. Where
// BootInfo runs out of room, ranges that only add capacity (memory, harts,
// virtio devices) are dropped, but reserved ranges are an error: dropping one
// would let the frame allocator hand out memory that firmware still owns.
#include "kernel/fdt/boot_info.h"
#include "kernel/fdt/fdt.h"
#include "kernel/fdt/fdt_bytes.h"

namespace ringlet {

using fdt_detail::ascii_lower;
using fdt_detail::bounded_strlen;
using fdt_detail::str_eq;

namespace {

constexpr uint32_t kIrqSupervisorExternal = 9;  // hart-local interrupt number (mcause)

constexpr const char* kUartNs16550[] = {"ns16550a", "ns16550"};
constexpr const char* kUartDwApb[] = {"snps,dw-apb-uart"};
constexpr const char* kPlic[] = {"riscv,plic0", "sifive,plic-1.0.0"};
constexpr const char* kVirtio[] = {"virtio,mmio"};
constexpr const char* kSifiveTest[] = {"sifive,test0"};
constexpr const char* kSysconPoweroff[] = {"syscon-poweroff"};

template <size_t N>
bool is_compatible(const FdtReader& r, const FdtNode& n, const char* const (&list)[N]) {
    Result<FdtProperty> p = r.property(n, "compatible");
    if (!p.ok()) return false;
    for (const char* c : list) {
        if (p->has_string(c)) return true;
    }
    return false;
}

// The first enabled node in tree order compatible with any entry of list.
template <size_t N>
Result<FdtNode> find_enabled(const FdtReader& r, const char* const (&list)[N]) {
    FdtNode found;
    bool hit = false;
    r.for_each_node([&](const FdtNode& n) {
        hit = is_compatible(r, n, list) && r.is_enabled(n);
        if (hit) found = n;
        return !hit;
    });
    if (!hit) return Error::NotFound;
    return found;
}

// Copies n bytes of src plus a NUL into dst[cap]; OutOfRange if they do not fit.
Result<void> copy_string(char* dst, size_t cap, const char* src, size_t n) {
    if (n >= cap) return Error::OutOfRange;
    for (size_t i = 0; i < n; ++i) dst[i] = src[i];
    dst[n] = '\0';
    return ok();
}

// A's first n bytes equal the lowercase b (of length n), ignoring case.
bool ci_prefix(const char* a, size_t a_len, const char* b, size_t n) {
    if (a_len < n) return false;
    for (size_t i = 0; i < n; ++i) {
        if (ascii_lower(a[i]) != b[i]) return false;
    }
    return true;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// tok (tok_len bytes) names extension ext (lowercase), optionally followed by
// a version such as "2p0" (ISA manual, "ISA Extension Naming Conventions").
bool ext_token_is(const char* tok, size_t tok_len, const char* ext) {
    size_t n = bounded_strlen(ext, 64);
    if (!ci_prefix(tok, tok_len, ext, n)) return false;
    size_t i = n;
    while (i < tok_len && is_digit(tok[i])) ++i;
    if (i < tok_len && ascii_lower(tok[i]) == 'p' && i > n) {
        ++i;
        size_t minor = i;
        while (i < tok_len && is_digit(tok[i])) ++i;
        if (i == minor) return false;
    }
    return i == tok_len;
}

// riscv,isa ("rv64imafdc_zicsr_zbb") lists the multi-letter extension ext.
bool isa_string_has(const char* isa, const char* ext) {
    // The first '_'-separated token is the base ISA with single-letter
    // extensions; multi-letter ones each follow an underscore.
    const char* p = isa;
    while (*p != '\0' && *p != '_') ++p;
    while (*p == '_') {
        const char* tok = ++p;
        while (*p != '\0' && *p != '_') ++p;
        if (ext_token_is(tok, size_t(p - tok), ext)) return true;
    }
    return false;
}

// riscv,isa's first token ("rv64imafdcv") lists the single-letter extension
// letter (lowercase), ignoring case: the letters after "rv" and the XLEN.
bool isa_base_has(const char* isa, char letter) {
    const char* p = isa;
    if (ascii_lower(p[0]) != 'r' || ascii_lower(p[1]) != 'v') return false;
    p += 2;
    while (is_digit(*p)) ++p;
    for (; *p != '\0' && *p != '_'; ++p) {
        if (ascii_lower(*p) == letter) return true;
    }
    return false;
}

// riscv,isa-extensions (a string list) holds ext, ignoring case.
bool isa_list_has(const FdtProperty& list, const char* ext) {
    const char* s = reinterpret_cast<const char*>(list.data);
    size_t pos = 0;
    while (pos < list.len) {
        size_t n = bounded_strlen(s + pos, list.len - pos);
        if (pos + n < list.len && ext_token_is(s + pos, n, ext)) return true;
        pos += n + 1;
    }
    return false;
}

Result<void> parse_memory(const FdtReader& r, BootInfo& out) {
    FdtNode root = r.root();
    for (Result<FdtNode> n = r.first_child(root); n.ok(); n = r.next_sibling(*n)) {
        if (!str_eq(r.string_or(*n, "device_type", ""), "memory") || !r.is_enabled(*n)) continue;
        size_t count = TRY(r.reg_count(*n));
        for (size_t i = 0; i < count; ++i) {
            PhysRange range = TRY(r.reg(*n, i));
            if (range.size == 0 || out.memory_count == BootInfo::kMaxMemory) continue;
            out.memory[out.memory_count++] = range;
        }
    }
    if (out.memory_count == 0) return Error::NotFound;
    return ok();
}

Result<void> add_reserved(BootInfo& out, PhysRange range) {
    if (range.size == 0) return ok();
    if (out.reserved_count == BootInfo::kMaxReserved) return Error::Full;
    out.reserved[out.reserved_count++] = range;
    return ok();
}

Result<void> parse_reserved(const FdtReader& r, BootInfo& out) {
    for (size_t i = 0; i < r.memreserve_count(); ++i) TRY(add_reserved(out, TRY(r.memreserve(i))));
    Result<FdtNode> rm = r.find_node("/reserved-memory");
    if (!rm.ok()) return rm.error() == Error::NotFound ? ok() : Result<void>(rm.error());
    // Children with only "size" are allocated dynamically by their users and
    // hold no memory yet; "no-map" or not, a range with reg is never ours.
    for (Result<FdtNode> n = r.first_child(*rm); n.ok(); n = r.next_sibling(*n)) {
        if (!r.is_enabled(*n)) continue;
        Result<size_t> count = r.reg_count(*n);
        if (!count.ok() && count.error() == Error::NotFound) continue;
        size_t entries = TRY(count);
        for (size_t i = 0; i < entries; ++i) TRY(add_reserved(out, TRY(r.reg(*n, i))));
    }
    return ok();
}

Result<void> parse_chosen(const FdtReader& r, BootInfo& out) {
    Result<FdtNode> chosen = r.find_node("/chosen");
    if (!chosen.ok()) return chosen.error() == Error::NotFound ? ok() : Result<void>(chosen.error());
    if (Result<FdtProperty> p = r.property(*chosen, "bootargs"); p.ok()) {
        const char* s = TRY(p->as_string());
        TRY(copy_string(out.bootargs, sizeof out.bootargs, s, bounded_strlen(s, p->len)));
    }
    Result<FdtProperty> sp = r.property(*chosen, "stdout-path");
    if (!sp.ok()) sp = r.property(*chosen, "linux,stdout-path");
    if (sp.ok()) {
        const char* s = TRY(sp->as_string());
        size_t n = 0;
        while (s[n] != '\0' && s[n] != ':') ++n;  // ":115200n8" options are the console driver's business
        TRY(copy_string(out.stdout_path, sizeof out.stdout_path, s, n));
    }
    Result<FdtProperty> start = r.property(*chosen, "linux,initrd-start");
    Result<FdtProperty> end = r.property(*chosen, "linux,initrd-end");
    if (start.ok() && end.ok()) {
        uint64_t s = TRY(start->as_u64());
        uint64_t e = TRY(end->as_u64());
        if (e < s) return Error::BadFormat;
        out.has_initrd = true;
        out.initrd = PhysRange{s, e - s};
    }
    return ok();
}

Result<HartInfo> parse_hart(const FdtReader& r, const FdtNode& cpu) {
    HartInfo h;
    uint64_t id = TRY(r.reg(cpu, 0)).base;
    if (id > 0xffffffffu) return Error::OutOfRange;
    h.hart_id = uint32_t(id);
    h.enabled = r.is_enabled(cpu);
    const char* mmu = r.string_or(cpu, "mmu-type", "");
    h.has_mmu = str_eq(mmu, "riscv,sv39") || str_eq(mmu, "riscv,sv48") || str_eq(mmu, "riscv,sv57");
    const char* isa = r.string_or(cpu, "riscv,isa", "");
    h.has_sstc = isa_string_has(isa, "sstc");
    h.has_zbb = isa_string_has(isa, "zbb");
    h.has_vector = isa_base_has(isa, 'v');
    if (Result<FdtProperty> ext = r.property(cpu, "riscv,isa-extensions"); ext.ok()) {
        h.has_sstc |= isa_list_has(*ext, "sstc");
        h.has_zbb |= isa_list_has(*ext, "zbb");
        h.has_vector |= isa_list_has(*ext, "v");
    }
    for (Result<FdtNode> c = r.first_child(cpu); c.ok(); c = r.next_sibling(*c)) {
        Result<FdtProperty> compat = r.property(*c, "compatible");
        if (!compat.ok() || !compat->has_string("riscv,cpu-intc")) continue;
        h.intc_phandle = r.u32_or(*c, "phandle", r.u32_or(*c, "linux,phandle", 0));
        break;
    }
    return h;
}

Result<void> parse_cpus(const FdtReader& r, BootInfo& out) {
    FdtNode cpus = TRY(r.find_node("/cpus"));
    if (Result<FdtProperty> tb = r.property(cpus, "timebase-frequency"); tb.ok()) {
        out.timebase_frequency = TRY(tb->as_u64());
    }
    for (Result<FdtNode> n = r.first_child(cpus); n.ok(); n = r.next_sibling(*n)) {
        // cpu-map and other helpers share /cpus; only device_type "cpu" is a hart.
        if (!str_eq(r.string_or(*n, "device_type", ""), "cpu")) continue;
        HartInfo h = TRY(parse_hart(r, *n));
        if (out.timebase_frequency == 0) {
            if (Result<FdtProperty> tb = r.property(*n, "timebase-frequency"); tb.ok()) {
                out.timebase_frequency = TRY(tb->as_u64());
            }
        }
        // Harts beyond the table stay parked in firmware; that is safe.
        if (out.hart_count < BootInfo::kMaxHarts) out.harts[out.hart_count++] = h;
    }
    if (out.hart_count == 0) return Error::NotFound;
    return ok();
}

HartInfo* hart_by_intc(BootInfo& out, uint32_t phandle) {
    if (phandle == 0) return nullptr;
    for (size_t i = 0; i < out.hart_count; ++i) {
        if (out.harts[i].intc_phandle == phandle) return &out.harts[i];
    }
    return nullptr;
}

Result<void> parse_plic(const FdtReader& r, BootInfo& out) {
    Result<FdtNode> plic = find_enabled(r, kPlic);
    if (!plic.ok()) return plic.error() == Error::NotFound ? ok() : Result<void>(plic.error());
    PhysRange reg = TRY(r.reg(*plic, 0));
    out.plic.present = true;
    out.plic.base = reg.base;
    out.plic.size = reg.size;
    out.plic.ndev = r.u32_or(*plic, "riscv,ndev", 0);
    Result<FdtProperty> ie = r.property(*plic, "interrupts-extended");
    if (!ie.ok()) return ok();
    // Context k is the k-th <phandle specifier...> entry; the specifier's
    // length is the target controller's #interrupt-cells (1 for a hart intc).
    size_t cells = ie->cell_count();
    int32_t context = 0;
    for (size_t i = 0; i < cells; ++context) {
        uint32_t phandle = TRY(ie->cell(i));
        HartInfo* hart = hart_by_intc(out, phandle);
        uint32_t spec_cells = 1;
        if (hart == nullptr) {
            FdtNode target = TRY(r.find_by_phandle(phandle));
            spec_cells = r.u32_or(target, "#interrupt-cells", 1);
        }
        if (spec_cells == 0 || i + spec_cells >= cells) return Error::BadFormat;
        uint32_t irq = TRY(ie->cell(i + 1));
        if (hart != nullptr && irq == kIrqSupervisorExternal && hart->plic_s_context < 0) {
            hart->plic_s_context = context;
        }
        i += 1 + spec_cells;
    }
    return ok();
}

UartKind uart_kind(const FdtReader& r, const FdtNode& n) {
    if (is_compatible(r, n, kUartNs16550)) return UartKind::Ns16550;
    if (is_compatible(r, n, kUartDwApb)) return UartKind::DwApb;
    return UartKind::None;
}

Result<void> fill_uart(const FdtReader& r, const FdtNode& n, UartKind kind, UartInfo& uart) {
    PhysRange reg = TRY(r.reg(n, 0));
    uart.kind = kind;
    uart.base = reg.base;
    uart.size = reg.size;
    uart.reg_shift = r.u32_or(n, "reg-shift", 0);
    uart.reg_io_width = r.u32_or(n, "reg-io-width", 1);
    if (Result<FdtProperty> clk = r.property(n, "clock-frequency"); clk.ok()) {
        uint64_t hz = TRY(clk->as_u64());
        if (hz > 0xffffffffu) return Error::OutOfRange;
        uart.clock_frequency = uint32_t(hz);
    }
    if (Result<FdtProperty> irq = r.property(n, "interrupts"); irq.ok()) {
        uart.irq = TRY(irq->cell(0));
    } else if (Result<FdtProperty> ie = r.property(n, "interrupts-extended"); ie.ok()) {
        uart.irq = TRY(ie->cell(1));
    }
    return ok();
}

Result<void> parse_uart(const FdtReader& r, BootInfo& out) {
    if (out.stdout_path[0] != '\0') {
        Result<FdtNode> n = r.find_node(out.stdout_path);
        if (n.ok() && r.is_enabled(*n)) {
            UartKind kind = uart_kind(r, *n);
            if (kind != UartKind::None) return fill_uart(r, *n, kind, out.uart);
        }
    }
    FdtNode found;
    UartKind kind = UartKind::None;
    r.for_each_node([&](const FdtNode& n) {
        kind = r.is_enabled(n) ? uart_kind(r, n) : UartKind::None;
        if (kind != UartKind::None) found = n;
        return kind == UartKind::None;
    });
    if (kind == UartKind::None) return ok();
    return fill_uart(r, found, kind, out.uart);
}

Result<void> parse_virtio(const FdtReader& r, BootInfo& out) {
    Error err = Error::Ok;
    r.for_each_node([&](const FdtNode& n) {
        if (!is_compatible(r, n, kVirtio) || !r.is_enabled(n)) return true;
        if (out.virtio_count == BootInfo::kMaxVirtio) return false;
        Result<PhysRange> reg = r.reg(n, 0);
        if (!reg.ok()) {
            err = reg.error();
            return false;
        }
        VirtioMmioInfo& v = out.virtio[out.virtio_count++];
        v.base = reg->base;
        v.size = reg->size;
        if (Result<FdtProperty> irq = r.property(n, "interrupts"); irq.ok()) v.irq = irq->cell(0).value_or(0);
        return true;
    });
    if (err != Error::Ok) return err;
    return ok();
}

Result<void> parse_power(const FdtReader& r, BootInfo& out) {
    if (Result<FdtNode> test = find_enabled(r, kSifiveTest); test.ok()) {
        out.power.base = TRY(r.reg(*test, 0)).base;
        out.power.present = true;
        return ok();
    }
    Result<FdtNode> poweroff = find_enabled(r, kSysconPoweroff);
    if (!poweroff.ok()) return ok();
    FdtProperty regmap = TRY(r.property(*poweroff, "regmap"));
    FdtNode syscon = TRY(r.find_by_phandle(TRY(regmap.as_u32())));
    out.power.base = TRY(r.reg(syscon, 0)).base + r.u32_or(*poweroff, "offset", 0);
    out.power.present = true;
    return ok();
}

}  // namespace

Result<void> parse_boot_info(const void* blob, size_t max_len, BootInfo& out) {
    out = BootInfo{};
    FdtReader r = TRY(FdtReader::create(blob, max_len));
    out.fdt_size = r.total_size();
    TRY(parse_memory(r, out));
    TRY(parse_reserved(r, out));
    TRY(parse_chosen(r, out));
    TRY(parse_cpus(r, out));  // before the PLIC: contexts are matched to harts by intc phandle
    TRY(parse_plic(r, out));
    TRY(parse_uart(r, out));
    TRY(parse_virtio(r, out));
    TRY(parse_power(r, out));
    return ok();
}

}  // namespace ringlet
