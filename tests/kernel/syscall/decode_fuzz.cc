// libFuzzer target: random sequences of system calls from several apps, fed
// to the decoder over a real CapSpace. Calls that decode are then applied to
// the CapSpace the way the kernel's invoke would (mint, grant, delete,
// revoke, alloc, map/unmap bookkeeping), so later calls meet stale indices,
// revoked subtrees and full tables. Every app starts with the boot's root
// capabilities (a memory budget, hart caps, the image cap, a device), so
// budgets are carved, drawn, exhausted and returned; after every step every
// pool's books must balance (used = what its children hold, <= its budget). Built with clang++ -fsanitize=fuzzer,
// address,undefined (see CMakeLists.txt); a crash, a sanitizer report or a
// broken invariant (abort) is a finding.
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <new>

#include "kernel/cap/boot_caps.h"
#include "kernel/cap/cap_space.h"
#include "kernel/syscall/decode.h"
#include "tests/kernel/syscall/fake_user.h"

namespace ringlet {
namespace {

using test::FakeUserMemory;

constexpr uint16_t kApps = 3;
// Argument registers each call uses, by SyscallNumber.
constexpr uint8_t kArity[kSysCount] = {2, 1, 2, 1, 4, 1, 1, 3, 3, 2, 1, 1, 3, 1, 3, 6, 5, 0, 5};
constexpr size_t kKnown = 64;

#define FUZZ_CHECK(cond) \
    do {                 \
        if (!(cond)) abort(); \
    } while (0)

class Input {
public:
    Input(const uint8_t* data, size_t size) : m_data(data), m_size(size) {}
    bool empty() const { return m_pos >= m_size; }
    uint8_t byte() { return m_pos < m_size ? m_data[m_pos++] : 0; }
    uint64_t word() {
        uint64_t v = 0;
        for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(byte()) << (8 * i);
        return v;
    }

private:
    const uint8_t* m_data;
    size_t m_size;
    size_t m_pos = 0;
};

struct World {
    CapSpace caps;
    BootCaps boot;
    FakeUserMemory memory;
    CapIndex known[kKnown] = {};  // indices some app was given (may go stale)
    size_t removed = 0;
};

// An argument: mostly values that reach deep into the decoder (real cap
// indices, edges of the user half), sometimes raw noise.
uint64_t argument(Input& in, const World& w) {
    constexpr uint64_t kTop = FakeUserMemory::kUserTop;
    switch (in.byte() % 13) {
    case 0: return 0;
    case 1: return in.byte() % 8;  // small numbers: rights, permissions, ops, harts
    case 10: return 4096u * (in.byte() % 64);  // budgets: whole pages
    case 11: return in.byte();
    case 2: case 3: return w.known[in.byte() % kKnown];
    case 4: return w.known[in.byte() % kKnown] + (static_cast<uint64_t>(in.byte()) << 16);  // forged generation
    case 5: return FakeUserMemory::kBase + in.byte() * 64u;
    case 6: return kTop - 4096u * (in.byte() % 4);
    case 7: return 0xffffffc000000000ull + in.byte();
    case 8: return 1ull << (in.byte() % 64);
    case 9: return 0x20000000 + 4096u * in.byte();
    default: return in.word();
    }
}

void remember(World& w, uint8_t where, CapIndex index) { w.known[where % kKnown] = index; }

void check_consistent(World& w) {
    size_t total = 0;
    for (uint16_t t = 0; t < CapSpace::kMaxTables; ++t) total += w.caps.caps_in_table(t);
    FUZZ_CHECK(total == w.caps.nodes_in_use());
    // Every pool's books balance: `used` is what its charged descendants
    // (through budget-less memory children) hold, and never above its budget.
    static uint64_t charged[CapSpace::kMaxNodes];
    for (auto& c : charged) c = 0;
    for (size_t i = 0; i < CapSpace::kMaxNodes; ++i) {
        const CapNode* n = w.caps.node_at(i);
        if (n && n->charge) {
            FUZZ_CHECK(n->parent != CapNode::kNone);
            charged[w.caps.pool_index(static_cast<size_t>(n->parent))] += n->charge;
        }
    }
    for (size_t i = 0; i < CapSpace::kMaxNodes; ++i) {
        const CapNode* pool = w.caps.node_at(i);
        if (!pool || pool->type != kCapMemory || !pool->owns_object) {
            FUZZ_CHECK(charged[i] == 0);
            continue;
        }
        FUZZ_CHECK(pool->used <= pool->size && pool->used == charged[i]);
    }
}

// What the kernel's invoke would do with a decoded request, for the parts
// that touch the capability state.
void apply(World& w, uint16_t table, const SyscallRequest& req, uint8_t where) {
    switch (req.number) {
    case kSysCapMint: {
        // Into the app the dispatcher cap names (its object is that app's table + 1).
        uint16_t to = req.mint.target.node ? static_cast<uint16_t>(req.mint.target.node->object - 1) : table;
        auto r = w.caps.grant(table, req.mint.cap.index, to, req.mint.rights, req.mint.budget);
        if (r) {
            auto child = w.caps.lookup(to, *r, kCapNull, 0);
            FUZZ_CHECK(child.ok());
            FUZZ_CHECK(((*child)->rights & ~req.mint.cap.node->rights) == 0);  // rights only shrink
            remember(w, where, *r);
        }
        break;
    }
    case kSysCapDelete: FUZZ_CHECK(w.caps.remove(table, req.cap.cap.index).ok()); break;
    case kSysCapRevoke: FUZZ_CHECK(w.caps.revoke(table, req.cap.cap.index).ok()); break;
    case kSysFrameAlloc: {
        // Decode saw the budget cover it: the draw may fail only for a full table.
        FUZZ_CHECK(req.frame_alloc.memory.node->type == kCapMemory &&
                   (req.frame_alloc.memory.node->rights & kRightAlloc));
        auto r = w.caps.draw(table, req.frame_alloc.memory.index, kCapFrame, kRightFrameAll,
                             0x80000000 + where * 0x100000ull, req.frame_alloc.pages * kUserPageSize);
        FUZZ_CHECK(r.ok() || r.error() == Error::Full || r.error() == Error::OutOfMemory);
        if (r) remember(w, where, *r);
        break;
    }
    case kSysFrameMap:
        FUZZ_CHECK(req.frame_map.va % kUserPageSize == 0);
        FUZZ_CHECK(req.frame_map.va + req.frame_map.cap.node->size <= FakeUserMemory::kUserTop);
        FUZZ_CHECK(!((req.frame_map.perm & kUserMapWrite) && (req.frame_map.perm & kUserMapExec)));
        req.frame_map.cap.node->map_root = 0x1000;
        req.frame_map.cap.node->map_va = req.frame_map.va;
        break;
    case kSysFrameUnmap:
        FUZZ_CHECK(req.cap.cap.node->map_root != 0);
        req.cap.cap.node->map_root = 0;
        break;
    case kSysFramePhys: FUZZ_CHECK(req.cap.cap.node->rights & kRightDma); break;
    case kSysChannelCreate: {
        FUZZ_CHECK(req.channel_create.frame.node->type == kCapFrame);
        auto r = w.caps.derive_object(table, req.channel_create.frame.index, kCapChannel,
                                      kRightRead | kRightWrite | kRightMap | kRightGrant, 1);
        if (r) remember(w, where, *r);
        break;
    }
    case kSysChannelControl:
        FUZZ_CHECK(req.channel.channel.node->type == kCapChannel && req.channel.bit < kNotificationBits);
        break;
    case kSysDebugPrint: FUZZ_CHECK(req.debug_print.len <= kMaxDebugPrint); break;
    case kSysDispatcherStart: {
        const DispatcherStartRequest& d = req.dispatcher_start;
        FUZZ_CHECK(d.name_len >= 1 && d.name_len <= d.line_len && d.line_len <= kMaxStartLine);
        FUZZ_CHECK(d.hart < 4 && d.gift_count <= kMaxStartGifts);
        // The gifts go to the next app, as the kernel hands them over.
        for (uint32_t i = 0; i < d.gift_count; ++i) {
            auto r = w.caps.grant(table, d.gifts[i].cap, static_cast<uint16_t>((table + 1) % kApps), d.gifts[i].rights);
            if (r) remember(w, static_cast<uint8_t>(where + i), *r);
        }
        break;
    }
    default: break;
    }
    // Every capability a request names belongs to the caller's table.
    if (req.number == kSysCapIdentify || req.number == kSysFramePhys)
        FUZZ_CHECK(req.cap.cap.node->in_use && req.cap.cap.node->table == table);
    if (req.number == kSysCapMint && req.mint.target.node)
        FUZZ_CHECK(req.mint.target.node->type == kCapDispatcher && (req.mint.target.node->rights & kRightGrant));
}

}  // namespace
}  // namespace ringlet

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace ringlet;
    // CapSpace is large: one static buffer, a fresh World in it per input.
    alignas(World) static unsigned char storage[sizeof(World)];
    World& w = *new (storage) World();
    w.caps.set_remove_hook([](const CapNode&, void* ctx) { ++static_cast<World*>(ctx)->removed; }, &w);
    // Each app starts with the boot's root capabilities (a 64-page budget,
    // 4 harts, the image, device slot t), one frame, and a dispatcher cap
    // for the next app (as if it had started it).
    const BootDevice devices[kApps] = {{0x10001000, 4096, 1}, {0x10002000, 4096, 2}, {0x10003000, 4096, 3}};
    FUZZ_CHECK(w.boot.create(w.caps, devices, kApps, 4, 0x84000000, 0x100000).ok());
    for (uint16_t t = 0; t < kApps; ++t) {
        StartCap given[kMaxStartCaps];
        auto n = w.boot.give_init_caps(w.caps, t, 64 * kUserPageSize, 1u << t, given, kMaxStartCaps);
        FUZZ_CHECK(n.ok() && *n == 1 + 4 + 1 + 1);
        for (size_t i = 0; i < *n; ++i) remember(w, static_cast<uint8_t>(2 * kApps + t * 7 + i), given[i].index);
        auto r = w.caps.insert_root(t, kCapFrame, kRightAll, 0x80000000 + t * 0x10000ull, 2 * kUserPageSize);
        FUZZ_CHECK(r.ok());
        remember(w, static_cast<uint8_t>(t), *r);
        auto d = w.caps.insert_root(t, kCapDispatcher, kRightGrant, 0, 0, 0, (t + 1) % kApps + 1);
        FUZZ_CHECK(d.ok());
        remember(w, static_cast<uint8_t>(kApps + t), *d);
    }
    Input in(data, size);
    for (int step = 0; step < 256 && !in.empty(); ++step) {
        uint8_t op = in.byte();
        uint16_t table = op % kApps;
        uint8_t where = in.byte();
        if (op >= 0xf0) {
            // Grant between apps: the kernel does this for a channel transfer.
            auto r = w.caps.grant(table, argument(in, w), (table + 1) % kApps, static_cast<uint32_t>(in.word()));
            if (r) remember(w, where, *r);
        } else if (op >= 0xe8) {
            w.caps.clear_table(table);  // the app ended
        } else {
            SyscallArgs args{static_cast<uint64_t>(in.byte() % (kSysCount + 2)), {}};
            // Mostly the call's own arity (unused registers zero, as the ABI
            // asks), sometimes any registers at all.
            uint8_t shape = in.byte();
            uint8_t live = args.number < kSysCount && shape < 224 ? static_cast<uint8_t>((1u << kArity[args.number]) - 1)
                                                                  : shape;
            for (int i = 0; i < 6; ++i) args.a[i] = (live >> i) & 1 ? argument(in, w) : 0;
            DecodeContext ctx{&w.caps, table, &w.memory, FakeUserMemory::kUserTop, 4};
            auto req = decode_syscall(args, ctx);
            if (req.ok()) {
                FUZZ_CHECK(req->number == args.number);
                apply(w, table, *req, where);
            } else {
                FUZZ_CHECK(req.error() != Error::Ok);
                if (args.number >= kSysCount) FUZZ_CHECK(req.error() == Error::Unsupported);
            }
        }
        check_consistent(w);
    }
    for (uint16_t t = 0; t < kApps; ++t) w.caps.clear_table(t);
    // Only the kernel's roots are left: 3 devices, 4 harts, the image.
    FUZZ_CHECK(w.caps.nodes_in_use() == kApps + 4 + 1);
    w.caps.clear_table(CapSpace::kKernelTable);
    FUZZ_CHECK(w.caps.nodes_in_use() == 0);
    w.~World();
    return 0;
}
