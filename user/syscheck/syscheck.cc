// Exercises every capability and memory system call, with good and bad
// arguments, checking each result. Prints one line per check and exits with
// the number of failed checks. Started by init= first on the boot line, it
// holds the boot's root capabilities, device slot 0 among them.
#include "ringlet/cap_types.h"
#include "user/rt/syscall.h"
#include "user/syscheck/checks.h"

using namespace ringlet;
using syscheck::check;
using syscheck::is;

namespace ringlet::syscheck {
namespace {
int g_failed = 0;
}  // namespace

void check(bool ok, const char* what) {
    user::printf("syscheck: %s: %s\n", what, ok ? "ok" : "FAILED");
    if (!ok) ++g_failed;
}

int failed() { return g_failed; }

}  // namespace ringlet::syscheck

namespace {

// dispatcher_start with every argument given.
user::SyscallResult start(CapIndex image, const char* line, uint64_t len, CapIndex hart, const StartGift* gifts = nullptr,
                          uint64_t count = 0) {
    return user::syscall(kSysDispatcherStart, image, reinterpret_cast<uint64_t>(line), len, hart,
                         reinterpret_cast<uint64_t>(gifts), count);
}

constexpr uint64_t kMapR = 1, kMapW = 2, kMapX = 4;  // kernel/mm/map_perm.h bits
constexpr uint64_t kVa = 0x20000000, kVa2 = 0x20100000, kDevVa = 0x30000000;

}  // namespace

int main(int, char**) {
    // Frames: allocate, map, use, learn the physical address.
    auto frame = user::frame_alloc(4);
    check(frame.error == 0, "frame_alloc(4 pages)");
    CapIndex cap = frame.value;
    auto id = user::syscall(kSysCapIdentify, cap);
    check(id.error == 0 && (id.value & 0xff) == kCapFrame && ((id.value >> 8) & 0xff) == kRightFrameAll &&
              (id.value >> 32) == 4,
          "cap_identify: frame, all rights, 4 pages");
    check(user::syscall(kSysFrameMap, cap, kVa, kMapR | kMapW).error == 0, "frame_map read-write");
    auto* words = reinterpret_cast<volatile uint64_t*>(kVa);
    bool zeroed = true;
    for (int i = 0; i < 2048; ++i) zeroed = zeroed && words[i] == 0;
    check(zeroed, "a new frame reads as zeros");
    words[0] = 0x1234567890abcdefull;
    words[2047] = 42;
    check(words[0] == 0x1234567890abcdefull && words[2047] == 42, "the mapping holds what was written");
    auto phys = user::syscall(kSysFramePhys, cap);
    check(phys.error == 0 && phys.value % 4096 == 0 && phys.value != 0, "frame_phys gives a page-aligned address");
    check(is(user::syscall(kSysFrameMap, cap, kVa2, kMapR), Error::Busy), "a second map of one cap is Busy");
    check(is(user::syscall(kSysFrameMap, cap, kVa, kMapR | kMapW | kMapX), Error::Busy) ||
              is(user::syscall(kSysFrameMap, cap, kVa, kMapR | kMapW | kMapX), Error::InvalidArgument),
          "write+execute is refused");

    // Minting: fewer rights only, and they are enforced.
    auto child = user::syscall(kSysCapMint, cap, kRightRead | kRightMap);
    check(child.error == 0, "cap_mint read-only child");
    auto cid = user::syscall(kSysCapIdentify, child.value);
    check(cid.error == 0 && ((cid.value >> 8) & 0xff) == (kRightRead | kRightMap), "child has only read+map");
    check(is(user::syscall(kSysFrameMap, child.value, kVa2, kMapR | kMapW), Error::NoRights),
          "child cannot map writable");
    check(is(user::syscall(kSysFramePhys, child.value), Error::NoRights), "child cannot learn the physical address");
    check(is(user::syscall(kSysCapMint, child.value, kRightRead), Error::NoRights), "child without grant cannot mint");
    check(user::syscall(kSysFrameMap, child.value, kVa2, kMapR).error == 0, "child maps read-only elsewhere");
    check(reinterpret_cast<volatile uint64_t*>(kVa2)[0] == 0x1234567890abcdefull, "both mappings see the same frame");

    // Revoke removes the child and its mapping; the parent stays.
    check(user::syscall(kSysCapRevoke, cap).error == 0, "cap_revoke");
    check(is(user::syscall(kSysCapIdentify, child.value), Error::BadCapability), "revoked child is gone");
    check(words[0] == 0x1234567890abcdefull, "parent mapping still works");
    check(user::syscall(kSysFrameUnmap, cap).error == 0, "frame_unmap");
    check(is(user::syscall(kSysFrameUnmap, cap), Error::NotFound), "second unmap is NotFound");
    check(user::syscall(kSysCapDelete, cap).error == 0, "cap_delete");
    check(is(user::syscall(kSysCapIdentify, cap), Error::BadCapability), "deleted cap is stale");

    // Forged and malformed arguments.
    check(is(user::syscall(kSysCapIdentify, 0), Error::BadCapability), "index 0 is no capability");
    check(is(user::syscall(kSysCapIdentify, (5 | (uint64_t{999} << 16))), Error::BadCapability), "forged generation");
    check(is(user::syscall(kSysCapIdentify, 0xffffffffffffull), Error::BadCapability), "slot out of range");
    check(is(user::frame_alloc(0), Error::InvalidArgument), "frame_alloc(0)");
    check(is(user::frame_alloc(1, 0x80), Error::InvalidArgument), "frame_alloc with unknown flags");
    auto f2 = user::frame_alloc(1);
    check(is(user::syscall(kSysFrameMap, f2.value, 0xffffffc000000000ull, kMapR), Error::BadAddress),
          "mapping over the kernel is BadAddress");
    check(is(user::syscall(kSysFrameMap, f2.value, 0x10000, kMapR), Error::Exists), "mapping over my own text is Exists");
    check(is(user::syscall(kSysFrameMap, f2.value, kVa + 1, kMapR), Error::InvalidArgument) ||
              is(user::syscall(kSysFrameMap, f2.value, kVa + 1, kMapR), Error::BadAddress),
          "misaligned address refused");
    check(is(user::syscall(kSysCapMint, f2.value, 0x1000), Error::InvalidArgument), "mint with unknown rights");

    // Devices: the boot gave this app virtio-mmio slot 0; read its magic value.
    Result<CapIndex> dev_cap = user::find_start_cap(kCapDevice, 0);
    check(dev_cap.ok(), "the boot handed me device slot 0");
    const user::SyscallResult dev{0, dev_cap.value_or(0)};
    auto did = user::syscall(kSysCapIdentify, dev.value);
    check(did.error == 0 && (did.value & 0xff) == kCapDevice, "cap_identify: device");
    auto exec = user::syscall(kSysFrameMap, dev.value, kDevVa, kMapR | kMapX);
    check(is(exec, Error::NoRights) || is(exec, Error::InvalidArgument), "device registers are never executable");
    check(user::syscall(kSysFrameMap, dev.value, kDevVa, kMapR | kMapW).error == 0, "device registers mapped");
    uint32_t magic = *reinterpret_cast<volatile uint32_t*>(kDevVa);
    check(magic == 0x74726976, "virtio-mmio magic value read from U-mode");
    check(is(user::syscall(kSysFramePhys, dev.value), Error::NoRights), "device cap has no DMA right");

    // Interrupts: bind the device's line to a notification bit, ack it.
    check(is(user::syscall(kSysIrqControl, dev.value, 1, 64), Error::InvalidArgument), "irq bind to bit 64 refused");
    check(user::syscall(kSysIrqControl, dev.value, 1, 3).error == 0, "irq bind to notification bit 3");
    check(is(user::syscall(kSysIrqControl, dev.value, 1, 3), Error::Exists), "binding twice is Exists");
    check(user::syscall(kSysIrqControl, dev.value, 0, 0).error == 0, "irq ack");
    check(is(user::syscall(kSysIrqControl, dev.value, 7, 0), Error::InvalidArgument), "unknown irq operation");
    check(is(user::syscall(kSysIrqControl, f2.value, 1, 0), Error::WrongType), "a frame has no interrupt");
    auto woke = user::syscall(kSysWait, 1ull << 3, user::now() + user::timebase_hz() / 100);
    check(woke.error == 0 && woke.value == 0, "wait for a quiet interrupt ends at its deadline");
    // wait, exit and debug_print take the kernel's lock-free fast path: it
    // must refuse what the general decoder refuses.
    check(is(user::syscall(kSysWait, 0, 0), Error::InvalidArgument), "wait with no bit and no deadline refused");
    check(is(user::syscall(kSysWait, 1ull << 3, 1, 0, 0, 0, 9), Error::InvalidArgument),
          "wait with a reserved register set refused");
    auto past = user::syscall(kSysWait, 1ull << 3, 1);
    check(past.error == 0 && past.value == 0, "wait on a bound bit with its deadline past returns 0 at once");
    check(is(user::syscall(kSysDebugPrint, 257, reinterpret_cast<uint64_t>("x")), Error::InvalidArgument),
          "debug_print longer than 256 bytes refused");
    check(is(user::syscall(kSysDebugPrint, 8, 0xffffffc000000000ull), Error::BadAddress),
          "debug_print of kernel memory is BadAddress");
    check(is(user::syscall(kSysExit, 0, 1), Error::InvalidArgument), "exit with a reserved register set refused");

    // Starting another app on another hart (or this one, on a 1-hart machine)
    // through the image cap and a hart cap.
    static const char kHello[] = "hello";
    const CapIndex image = user::find_start_cap(kCapImage).value_or(0);
    const CapIndex my_hart = user::find_start_cap(kCapHart, static_cast<uint32_t>(user::hart_index())).value_or(0);
    uint64_t other = user::hart_index() == 0 ? 1 : 0;
    auto started = user::start_app(kHello, other);
    auto here = user::start_app(kHello, user::hart_index());
    check((started.ok() || started.error() == Error::NotFound) && here.ok() && *here != 0, "dispatcher_start hello");
    check(is(start(image, kHello, 5, my_hart + (uint64_t{999} << 16)), Error::BadCapability),
          "dispatcher_start on a forged hart cap is refused");
    check(is(start(image, reinterpret_cast<const char*>(0xffffffc000000000ull), 5, my_hart), Error::BadAddress),
          "dispatcher_start with a kernel pointer is BadAddress");
    static const char kNope[] = "no_such_app";
    check(is(start(image, kNope, 11, my_hart), Error::NotFound), "dispatcher_start of a missing app is NotFound");

    // Channels: made from a frame, bound once per app, notified.
    auto ring = user::frame_alloc(2);
    auto chan = user::syscall(kSysChannelCreate, ring.value);
    auto chid = user::syscall(kSysCapIdentify, chan.value);
    check(ring.error == 0 && chan.error == 0 && chid.error == 0 && (chid.value & 0xff) == kCapChannel &&
              (chid.value >> 32) == 2,
          "channel_create from a 2-page frame");
    check(is(user::syscall(kSysChannelCreate, f2.value), Error::InvalidArgument), "a 1-page frame is too small");
    check(is(user::syscall(kSysChannelCreate, dev.value), Error::WrongType), "a device is no ring frame");
    check(is(user::syscall(kSysChannelControl, chan.value, 0, 0), Error::NotFound), "notify before binding");
    auto end = user::syscall(kSysChannelControl, chan.value, 1, 5);
    check(end.error == 0 && end.value == 0, "bind: the first binder is end 0");
    check(is(user::syscall(kSysChannelControl, chan.value, 1, 6), Error::Exists), "binding twice is Exists");
    check(user::syscall(kSysChannelControl, chan.value, 0, 0).error == 0, "notify with no peer yet is held");
    check(is(user::syscall(kSysChannelControl, f2.value, 0, 0), Error::WrongType), "notify on a frame");
    check(is(user::syscall(kSysChannelControl, chan.value + (uint64_t{77} << 16), 0, 0), Error::BadCapability),
          "notify on a forged channel index");
    check(user::syscall(kSysFrameMap, chan.value, 0x20400000, kMapR | kMapW).error == 0, "a channel maps");

    // Handing capabilities to another app: at start, and later by minting
    // through its dispatcher cap; never into an app that has ended. The
    // receiver is a ticker (it lives ~100 ms), so it is still there for the
    // mint even if this app's slice ends in between.
    static const char kTicker[] = "ticker";
    const StartGift ring_gift{chan.value, kRightRead | kRightMap, 0};
    auto given = start(image, kTicker, 6, my_hart, &ring_gift, 1);
    auto gid = user::syscall(kSysCapIdentify, given.value);
    check(given.error == 0 && gid.error == 0 && (gid.value & 0xff) == kCapDispatcher,
          "dispatcher_start hands over a channel and returns a dispatcher cap");
    check(user::syscall(kSysCapMint, f2.value, kRightRead | kRightMap, given.value).error == 0,
          "cap_mint into the new app's table");
    check(is(user::syscall(kSysCapMint, f2.value, kRightRead, f2.value), Error::WrongType),
          "cap_mint into a frame is WrongType");
    auto no_grant = user::syscall(kSysCapMint, given.value, 0);
    check(no_grant.error == 0 && is(user::syscall(kSysCapMint, f2.value, kRightRead, no_grant.value), Error::NoRights),
          "a dispatcher cap without Grant cannot receive");
    const StartGift forged{chan.value + (1u << 16), kRightRead, 0};
    check(is(start(image, kHello, 5, my_hart, &forged, 1), Error::BadCapability),
          "dispatcher_start handing over a forged cap is refused");
    // Wait (up to 5 s, in 20 ms naps) for the ticker to end.
    user::SyscallResult late{};
    for (int i = 0; i < 250; ++i) {
        late = user::syscall(kSysCapMint, f2.value, kRightRead, given.value);
        if (late.error != 0) break;
        (void)user::syscall(kSysWait, 0, user::now() + user::timebase_hz() / 50);
    }
    check(is(late, Error::BadCapability), "cap_mint into an app that has ended is BadCapability");
    check(user::syscall(kSysCapDelete, ring.value).error == 0 &&
              is(user::syscall(kSysCapIdentify, chan.value), Error::BadCapability),
          "deleting the ring frame deletes its channel");
    // A start that fails after loading (no slot left for the dispatcher cap)
    // discards the new app and leaves the caller running in its own space.
    int minted = 0;
    while (user::syscall(kSysCapMint, f2.value, kRightRead).error == 0) ++minted;
    auto no_slot = start(image, kHello, 5, my_hart);
    check(minted > 0 && is(no_slot, Error::Full), "dispatcher_start with a full cap table is Full");
    static volatile uint64_t still_mine = 7;
    check(user::syscall(kSysCapRevoke, f2.value).error == 0 && still_mine == 7,
          "and the caller goes on in its own address space");
    auto ring2 = user::frame_alloc(2);
    int made = 0;
    user::SyscallResult last{};
    for (int i = 0; i < 20; ++i) {
        last = user::syscall(kSysChannelCreate, ring2.value);
        if (last.error) break;
        ++made;
    }
    check(made == 16 && is(last, Error::Full), "an app may hold 16 channels, the 17th is Full");
    check(user::syscall(kSysCapDelete, ring2.value).error == 0, "deleting their frame releases them");
    auto ring3 = user::frame_alloc(2);
    check(ring3.error == 0 && user::syscall(kSysChannelCreate, ring3.value).error == 0,
          "after that a new channel can be made again");

    syscheck::check_authority();

    user::printf("syscheck: %d failed\n", syscheck::failed());
    return syscheck::failed();
}
