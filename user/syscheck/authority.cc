// Authority only from capabilities: each call made without the capability
// that names its authority is refused, and a memory budget never grows on
// the way down (a child's budget is carved from its parent's and returns to
// it when the child, or what it paid for, goes).
#include "ringlet/cap_types.h"
#include "user/syscheck/checks.h"

namespace ringlet::syscheck {
namespace {

constexpr uint64_t kPage = 4096;
constexpr uint64_t kMapR = 1, kMapW = 2;
constexpr uint64_t kDevVa = 0x30200000;

// The budget left behind memory cap `cap`, in pages (cap_identify's info).
uint64_t pages_left(CapIndex cap) {
    auto id = user::syscall(kSysCapIdentify, cap);
    return id.error ? ~uint64_t{0} : id.value >> 32;
}

user::SyscallResult mint(CapIndex cap, uint64_t rights, uint64_t budget = 0, CapIndex into = 0) {
    return user::syscall(kSysCapMint, cap, rights, into, budget);
}

void check_memory(CapIndex memory) {
    auto frame = user::frame_alloc(1);
    check(is(user::syscall(kSysFrameAlloc, 0, 1, 0), Error::BadCapability), "frame_alloc without a memory cap");
    check(is(user::syscall(kSysFrameAlloc, frame.value, 1, 0), Error::WrongType),
          "frame_alloc from a frame cap is WrongType");
    auto no_alloc = mint(memory, kRightGrant);
    check(no_alloc.error == 0 && is(user::syscall(kSysFrameAlloc, no_alloc.value, 1, 0), Error::NoRights),
          "frame_alloc from a memory cap without Alloc is NoRights");

    // A child pool: carved from the parent's budget, never more than it has.
    const uint64_t before = pages_left(memory);
    auto child = mint(memory, kRightAlloc | kRightGrant, 16 * kPage);
    check(child.error == 0 && pages_left(child.value) == 16 && pages_left(memory) == before - 16,
          "a 16-page child budget is carved from the parent's");
    check(is(mint(child.value, kRightAlloc | kRightGrant, 17 * kPage), Error::OutOfMemory),
          "a child's budget cannot exceed its parent's");
    check(is(mint(memory, kRightAlloc, (before + 1) * kPage), Error::OutOfMemory),
          "nor can a budget exceed what the root has left");
    check(is(mint(memory, kRightAlloc, kPage + 1), Error::InvalidArgument), "a budget is whole pages");
    check(is(mint(frame.value, kRightRead, kPage), Error::InvalidArgument), "only a memory cap has a budget");
    auto f16 = user::syscall(kSysFrameAlloc, child.value, 16, 0);
    check(f16.error == 0 && pages_left(child.value) == 0, "frame_alloc draws the child's budget down");
    check(is(user::syscall(kSysFrameAlloc, child.value, 1, 0), Error::OutOfMemory),
          "frame_alloc past the budget is OutOfMemory");
    auto shared = mint(child.value, kRightAlloc);
    check(shared.error == 0 && is(user::syscall(kSysFrameAlloc, shared.value, 1, 0), Error::OutOfMemory),
          "a child minted without a budget draws from its parent's (empty) one");
    check(user::syscall(kSysCapDelete, f16.value).error == 0 && pages_left(child.value) == 16,
          "deleting the frames gives the budget back");
    check(user::syscall(kSysCapDelete, child.value).error == 0 && pages_left(memory) == before,
          "deleting the child gives its budget back to the parent");

    // A budget handed to another app: frame_hog draws it dry and ends; what
    // it drew comes back when it has gone.
    auto hog_budget = mint(memory, kRightAlloc | kRightGrant, 256 * kPage);
    const StartGift gift{hog_budget.value, kRightAlloc, 0};
    auto hog = user::start_app("hostile_frame_hog", user::hart_index(), &gift, 1);
    uint64_t left = 0;
    for (int i = 0; i < 250; ++i) {  // up to 5 s, in 20 ms naps
        auto id = user::syscall(kSysCapIdentify, hog.value_or(0));
        left = pages_left(hog_budget.value);
        if (id.error || (id.value >> 32) == 0) break;  // the app has ended
        (void)user::syscall(kSysWait, 0, user::now() + user::timebase_hz() / 50);
    }
    check(hog.ok() && left == 256, "a started app's frames return to the budget it was given when it ends");
    (void)user::syscall(kSysCapDelete, hog_budget.value);
    (void)user::syscall(kSysCapDelete, no_alloc.value);
    (void)user::syscall(kSysCapDelete, frame.value);
}

void check_devices() {
    check(is(user::syscall(kSysRetired13, 0), Error::Unsupported) &&
              is(user::syscall(kSysRetired13, 1), Error::Unsupported),
          "claiming a device by slot index is gone (Unsupported)");
    auto dev = user::find_start_cap(kCapDevice, 1);
    auto unmappable = dev.ok() ? mint(*dev, kRightRead | kRightWrite) : user::SyscallResult{1, 0};
    check(unmappable.error == 0 && is(user::syscall(kSysFrameMap, unmappable.value, kDevVa, kMapR | kMapW),
                                      Error::NoRights),
          "a device cap without Map cannot be mapped");
    auto frame = user::frame_alloc(1);
    check(is(user::syscall(kSysIrqControl, frame.value, 1, 9), Error::WrongType), "an interrupt needs a device cap");
    (void)user::syscall(kSysCapDelete, frame.value);
}

void check_starting() {
    static const char kHello[] = "hello";
    const CapIndex image = user::find_start_cap(kCapImage).value_or(0);
    const CapIndex hart = user::find_start_cap(kCapHart, static_cast<uint32_t>(user::hart_index())).value_or(0);
    auto start = [](CapIndex i, CapIndex h) {
        return user::syscall(kSysDispatcherStart, i, reinterpret_cast<uint64_t>(kHello), 5, h, 0, 0);
    };
    auto hid = user::syscall(kSysCapIdentify, hart);
    check(hid.error == 0 && (hid.value & 0xff) == kCapHart && (hid.value >> 32) == user::hart_index(),
          "the boot gave me a cap for my own hart");
    auto frame = user::frame_alloc(1);
    check(is(start(0, hart), Error::BadCapability), "dispatcher_start without an image cap");
    check(is(start(frame.value, hart), Error::WrongType), "dispatcher_start from a frame is WrongType");
    auto no_exec = mint(image, kRightGrant);
    check(no_exec.error == 0 && is(start(no_exec.value, hart), Error::NoRights),
          "dispatcher_start from an image cap without Exec is NoRights");
    check(is(start(image, 0), Error::BadCapability), "dispatcher_start without a hart cap");
    check(is(start(image, frame.value), Error::WrongType), "dispatcher_start on a frame is WrongType");
    auto no_run = mint(hart, kRightGrant);
    check(no_run.error == 0 && is(start(image, no_run.value), Error::NoRights),
          "dispatcher_start on a hart cap without Run is NoRights");
    const StartGift bad{frame.value, kRightRead, 1};
    check(is(user::syscall(kSysDispatcherStart, image, reinterpret_cast<uint64_t>(kHello), 5, hart,
                           reinterpret_cast<uint64_t>(&bad), 1),
             Error::InvalidArgument),
          "a gift with its reserved word set is refused");
    (void)user::syscall(kSysCapDelete, no_exec.value);
    (void)user::syscall(kSysCapDelete, no_run.value);
    (void)user::syscall(kSysCapDelete, frame.value);
}

}  // namespace

void check_authority() {
    const CapIndex memory = user::memory_cap();
    auto id = user::syscall(kSysCapIdentify, memory);
    check(id.error == 0 && (id.value & 0xff) == kCapMemory &&
              ((id.value >> 8) & 0xff) == (kRightAlloc | kRightGrant),
          "the boot gave me a memory cap (Alloc, Grant)");
    check_memory(memory);
    check_devices();
    check_starting();
}

}  // namespace ringlet::syscheck
