// The device hand-back test's supervisor (tests/qemu/handback_test.sh).
// Started by init= with the boot's root capabilities, it:
//   1. starts echo (with --fault-after, so it is killed mid-flood with RX
//      buffers posted and TX in flight), handing it the NIC's device cap and a
//      memory budget;
//   2. waits until echo has ended (the kernel resets the NIC as its last
//      app-held cap goes, before echo's frames are freed);
//   3. takes every frame the machine has left (echo's among them), fills them
//      with a canary, waits while the host keeps flooding, and checks every
//      byte: a device still writing into echo's old buffers would show here;
//   4. starts echo again with the same device cap: it must serve.
#include "ringlet/cap_types.h"
#include "user/rt/syscall.h"

using namespace ringlet;

namespace {

constexpr uint64_t kPage = 4096;
constexpr uint64_t kMapRw = 3;
constexpr uint64_t kProbeVa = 0x30000000;
constexpr uint64_t kCanaryVa = 0x40000000;
// Frame caps of falling sizes: big ones cover most of memory in few slots of
// the cap table, small ones fill the holes echo's small frames (rings) left.
constexpr uint64_t kChunkSizes[] = {1024, 256, 64, 16, 4, 1};
constexpr size_t kMaxChunks = 128;
constexpr uint32_t kVirtioNet = 1;
constexpr uint64_t kEchoBudget = 24ull << 20;

[[noreturn]] void fail(const char* what, uint64_t error) {
    user::printf("handback: FAILED: %s (error %lu)\n", what, error);
    user::exit(1);
}

// The device cap (among the start caps) whose virtio DeviceID is the NIC's.
CapIndex find_nic() {
    for (size_t i = 0; i < user::start_cap_count(); ++i) {
        const StartCap& c = user::start_caps()[i];
        if (c.type != kCapDevice) continue;
        if (user::syscall(kSysFrameMap, c.index, kProbeVa, kMapRw).error) continue;
        uint32_t id = *reinterpret_cast<volatile uint32_t*>(kProbeVa + 8);
        (void)user::syscall(kSysFrameUnmap, c.index, kProbeVa);
        if (id == kVirtioNet) return c.index;
    }
    fail("no virtio-net device among my capabilities", 0);
}

// Starts echo with `args`, handing it the NIC and a fresh memory budget.
// Returns its dispatcher cap; `budget` receives the budget's cap.
CapIndex start_echo(CapIndex nic, const char* line, CapIndex& budget) {
    auto b = user::syscall(kSysCapMint, user::memory_cap(), kRightAlloc | kRightGrant, 0, kEchoBudget);
    if (b.error) fail("mint echo's budget", b.error);
    budget = b.value;
    const StartGift gifts[2] = {{nic, kRightRead | kRightWrite | kRightMap, 0}, {budget, kRightAlloc, 0}};
    auto echo = user::start_app(line, user::hart_index(), gifts, 2);
    if (!echo) fail("start echo", static_cast<uint64_t>(echo.error()));
    return *echo;
}

bool running(CapIndex app) {
    auto id = user::syscall(kSysCapIdentify, app);
    return id.error == 0 && (id.value >> 32) != 0;
}

void nap_ms(uint64_t ms) { (void)user::syscall(kSysWait, 0, user::now() + user::timebase_hz() * ms / 1000); }

uint64_t canary(uint64_t word) { return 0xc0ffee0000000000ull ^ (word * 0x9e3779b97f4a7c15ull >> 8); }

}  // namespace

int main(int, char**) {
    const CapIndex nic = find_nic();
    CapIndex budget = 0;
    const CapIndex first = start_echo(nic, "echo --udp 5555 --fault-after 20", budget);
    while (running(first)) nap_ms(20);
    (void)user::syscall(kSysCapDelete, budget);
    user::print("handback: echo has ended\n");

    // Every frame left in the machine (until memory or the cap table runs
    // out), mapped back to back and filled with the canary.
    static CapIndex chunks[kMaxChunks];
    size_t count = 0;
    uint64_t pages = 0;
    for (uint64_t size : kChunkSizes) {
        while (count < kMaxChunks) {
            auto f = user::frame_alloc(size);
            if (f.error) break;
            chunks[count++] = f.value;
            if (user::syscall(kSysFrameMap, f.value, kCanaryVa + pages * kPage, kMapRw).error) {
                (void)user::syscall(kSysCapDelete, f.value);  // the table is full: stop here
                --count;
                break;
            }
            pages += size;
        }
    }
    auto* words = reinterpret_cast<volatile uint64_t*>(kCanaryVa);
    const uint64_t total = pages * kPage / 8;
    for (uint64_t i = 0; i < total; ++i) words[i] = canary(i);
    user::printf("handback: canary written over %lu pages, waiting\n", pages);
    nap_ms(3000);  // the host client keeps flooding the NIC meanwhile
    uint64_t bad = 0;
    for (uint64_t i = 0; i < total; ++i) bad += words[i] != canary(i);
    user::printf("handback: canary %s (%lu words changed)\n", bad ? "CORRUPTED" : "intact", bad);
    for (size_t c = 0; c < count; ++c) (void)user::syscall(kSysCapDelete, chunks[c]);

    const CapIndex second = start_echo(nic, "echo --udp 5555", budget);
    user::print("handback: echo started again\n");
    while (running(second)) nap_ms(100);
    return bad ? 1 : 0;
}
