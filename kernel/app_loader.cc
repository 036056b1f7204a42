#include "kernel/app_loader.h"

#include "arch/riscv64/layout.h"
#include "kernel/arch.h"
#include "kernel/console/console.h"
#include "kernel/loader/cpio.h"
#include "kernel/loader/elf.h"
#include "kernel/mm/frames.h"
#include "kernel/mm/map_perm.h"
#include "kernel/sched/dispatch.h"

namespace ringlet {
namespace {

PhysRange g_initrd;  // set once by the boot hart

// Most pieces one mapping is cut into when RAM is fragmented (each piece is
// one of the dispatcher's owned ranges, kernel/sched/dispatch.h).
constexpr size_t kMaxPieces = 32;

// Maps `size` bytes of fresh zeroed frames at `va`, with `src_size` bytes of
// `src` copied in at `src_offset`. An app's memory need not be physically
// contiguous: the frames come in as few pieces as fragmentation allows
// (FrameAllocator::alloc_pieces), so a fragmented RAM does not refuse a
// large .bss that would fit.
Result<void> map_zeroed(Dispatcher* d, uint64_t va, uint64_t size, uint32_t perm, const uint8_t* src,
                        uint64_t src_offset, uint64_t src_size) {
    FramePiece pieces[kMaxPieces];
    const size_t count = TRY(frames().alloc_pieces(size / layout::kPageSize, pieces, kMaxPieces));
    size_t owned = 0;
    for (; owned < count; ++owned) {  // the dispatcher frees what it owns when it goes
        if (auto r = dispatcher_own_frames(d, pieces[owned].pa, pieces[owned].count); !r) {
            for (size_t i = owned; i < count; ++i) (void)frames().free(pieces[i].pa, pieces[i].count);
            return r.error();
        }
    }
    uint64_t offset = 0;  // of this piece in the mapping
    for (size_t i = 0; i < count; ++i) {
        const uint64_t bytes = pieces[i].count * layout::kPageSize;
        auto* mem = reinterpret_cast<uint8_t*>(arch::phys_to_virt(pieces[i].pa));
        __builtin_memset(mem, 0, bytes);
        // The part of [src_offset, src_offset + src_size) inside this piece.
        const uint64_t from = src_offset > offset ? src_offset : offset;
        const uint64_t to = src_offset + src_size < offset + bytes ? src_offset + src_size : offset + bytes;
        if (from < to) __builtin_memcpy(mem + (from - offset), src + (from - src_offset), to - from);
        TRY(d->space.map(va + offset, pieces[i].pa, bytes, perm));
        offset += bytes;
    }
    return {};
}

constexpr size_t kMaxArgs = 512;

}  // namespace

void set_initrd(const PhysRange& initrd) { g_initrd = initrd; }

Result<Dispatcher*> load_app(const AppStart& start, uint64_t kernel_root) {
    const char* name = start.name;
    const size_t name_len = start.name_len;
    if (name_len + 1 + start.args_len + 1 > kMaxArgs) return Error::InvalidArgument;
    if (g_initrd.size == 0) return Error::NotFound;
    const auto* archive = reinterpret_cast<const uint8_t*>(arch::phys_to_virt(g_initrd.base));
    CpioReader cpio(archive, g_initrd.size);
    CpioFile file = TRY(cpio.find(name, name_len));
    const char* reason = "";
    auto image = ElfImage::parse(file.data, file.size, layout::kUserTop, &reason);
    if (!image) {
        kprintf("loader: refusing app '%.*s': %s\n", static_cast<int>(name_len), name, reason);
        return image.error();
    }

    char app_name[Dispatcher::kNameMax];
    size_t n = name_len < sizeof app_name - 1 ? name_len : sizeof app_name - 1;
    __builtin_memcpy(app_name, name, n);
    app_name[n] = '\0';
    Dispatcher* d = TRY(create_dispatcher(app_name, kernel_root));
    d->placement_harts = 1ull << start.hart_index;  // its own; init= may ask for more
    auto fail = [&](Error e) -> Result<Dispatcher*> {
        d->state = DispatcherState::Dead;
        discard_dispatcher(d);
        return e;
    };

    for (size_t i = 0; i < image->segment_count(); ++i) {
        const ElfSegment& s = image->segment(i);
        uint64_t start = s.vaddr & ~(layout::kPageSize - 1);
        uint64_t end = (s.vaddr + s.memsz + layout::kPageSize - 1) & ~(layout::kPageSize - 1);
        uint32_t perm = (s.readable ? kMapRead : 0u) | (s.writable ? kMapWrite : 0u) | (s.executable ? kMapExec : 0u);
        if (auto r = map_zeroed(d, start, end - start, perm, file.data + s.offset, s.vaddr - start, s.filesz); !r)
            return fail(r.error());
    }
    if (auto r = map_zeroed(d, kUserStackTop - kUserStackSize, kUserStackSize, kMapRead | kMapWrite, nullptr, 0, 0);
        !r)
        return fail(r.error());
    // "name args\0" at the top of the stack, which starts below it, 16-aligned,
    // and below that room for the StartCap list (filled in before it runs):
    // all inside the top page, which the kernel reaches through its frame.
    size_t text_len = name_len + (start.args_len ? 1 + start.args_len : 0) + 1;
    size_t text_reserved = (text_len + 15) & ~size_t{15};
    size_t reserved = text_reserved + kMaxStartCaps * sizeof(StartCap);
    static_assert((kMaxArgs + 15) + kMaxStartCaps * sizeof(StartCap) <= layout::kPageSize,
                  "the start text and StartCap list must fit the stack's top page");
    auto top_page = d->space.translate_user(kUserStackTop - layout::kPageSize, kMapRead | kMapWrite);
    if (!top_page) return fail(top_page.error());
    uint8_t* stack_end = reinterpret_cast<uint8_t*>(arch::phys_to_virt(*top_page)) + layout::kPageSize;
    char* text = reinterpret_cast<char*>(stack_end - text_reserved);
    __builtin_memcpy(text, name, name_len);
    if (start.args_len) {
        text[name_len] = ' ';
        __builtin_memcpy(text + name_len + 1, start.args, start.args_len);
    }
    text[text_len - 1] = '\0';
    uint64_t text_va = kUserStackTop - text_reserved;
    d->start_caps = reinterpret_cast<StartCap*>(stack_end - reserved);
    d->start_caps_va = kUserStackTop - reserved;
    d->start_cap_count = 0;
    // The stack starts below the StartCap list.
    arch::init_user_frame(d->frame, image->entry(), d->start_caps_va,
                          {start.hart_index, start.timebase_hz, text_va, 0});
    arch::set_start_arg(d->frame, 4, d->start_caps_va);
    arch::set_start_arg(d->frame, 5, 0);
    arch::set_start_arg(d->frame, 6, start_features(d->frame));
    return d;
}

}  // namespace ringlet
