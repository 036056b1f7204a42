// echo's console reports and test hooks (hooks.h): out of the echo path,
// which calls them only when one is on or on a core's first request.
#include "user/echo/hooks.h"

#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "libos/pdpix/ringlet_demi.h"
#if RINGLET_FREESTANDING
#include "libos/backend/core_mesh.h"
#include "libos/backend/ringlet_platform.h"
#include "user/rt/syscall.h"
#else
#include <time.h>
#endif

namespace echo {

HookOptions g_hooks;

void say(const char* s) { (void)!write(2, s, strlen(s)); }

void say_number(unsigned long long v) {
    char digits[24];
    int n = 0;
    do {
        digits[n++] = static_cast<char>('0' + v % 10);
        v /= 10;
    } while (v);
    char text[24];
    for (int i = 0; i < n; ++i) text[i] = digits[n - 1 - i];
    (void)!write(2, text, static_cast<size_t>(n));
}

namespace {

// --stats N: every N echoed UDP requests, print the instructions the hart
// retired per request (rdinstret; exact only under QEMU -icount) inside the
// app's own address space: app, libOS, lwIP and the virtio driver, but not
// the time asleep in the kernel.
thread_local unsigned long g_stats_count = 0;
thread_local unsigned long long g_stats_start = 0;

unsigned long long retired_instructions() {
#if defined(__riscv)
    unsigned long long n;
    asm volatile("rdinstret %0" : "=r"(n));
    return n;
#else
    return 0;  // not readable from user space here
#endif
}

thread_local unsigned long long g_stats_sleep = 0;

// --fault-after N (a test hook): after N echoed UDP requests the app touches
// an unmapped address, so a test can see the OS kill it mid-stream and go on.
thread_local unsigned long g_udp_echoed = 0;

void maybe_fault() {
    if (g_hooks.fault_after == 0 || ++g_udp_echoed < g_hooks.fault_after) return;
    say("echo: faulting on purpose (--fault-after)\n");
    static volatile unsigned long nowhere = 16;  // volatile: the compiler cannot see the address
    *reinterpret_cast<volatile unsigned long*>(nowhere) = 1;
}

// --nic-fault-after N (a test hook, Ringlet only): the first core other
// than core 0 to echo N UDP requests makes its NIC act as if the device had
// broken its queue pair, once per app (libos/backend/ringlet_resources.cc),
// so a test sees a multiqueue NIC reset by every core together, started by
// a core that does not own the device, and traffic go on.
thread_local unsigned long g_udp_before_nic_fault = 0;
#if RINGLET_FREESTANDING
extern "C" int ringlet_nic_inject_fault(void);
#endif

void maybe_nic_fault(unsigned core) {
    if (g_hooks.nic_fault_after == 0 || core == 0 || ++g_udp_before_nic_fault != g_hooks.nic_fault_after) return;
    static int once = 0;
    if (__atomic_exchange_n(&once, 1, __ATOMIC_RELAXED) != 0) return;
#if RINGLET_FREESTANDING
    say("echo: core ");
    say_number(core);
    say(ringlet_nic_inject_fault() == 0 ? ": NIC fault injected (--nic-fault-after)\n"
                                        : ": no NIC to fault (--nic-fault-after)\n");
#endif
}

void count_request(unsigned core) {
    if (g_hooks.stats_every == 0) return;
    if (g_stats_count == 0) {
        g_stats_start = retired_instructions();
        g_stats_sleep = ringlet_demi_sleep_instructions();
    }
    if (++g_stats_count <= g_hooks.stats_every) return;
    // Not counted: what the core retired asleep in the OS (idle time shows up
    // as instructions under QEMU -icount).
    unsigned long long spent =
        retired_instructions() - g_stats_start - (ringlet_demi_sleep_instructions() - g_stats_sleep);
    // Core 0's line keeps the form the perf tests read; the others name
    // their core (each core counts what its own hart retired).
    say("echo: ");
    if (core != 0) {
        say("core ");
        say_number(core);
        say(": ");
    }
    say_number(g_hooks.stats_every);
    say(" requests, ");
    say_number(spent / g_hooks.stats_every);
    say(" instructions per request\n");
#if RINGLET_FREESTANDING
    // The core's sleep path since start (libos/backend/ringlet_platform.h).
    ringlet::backend::SleepStats sl;
    if (ringlet_sleep_stats(&sl) == 0) {
        say("echo: sleep: core ");
        say_number(core);
        say(" blocks=");
        say_number(sl.blocks);
        say(" refused=");
        say_number(sl.refused);
        say(" waits=");
        say_number(sl.waits);
        say(" wait_instr=");
        say_number(sl.wait_instructions);
        say(" doorbells=");
        say_number(sl.doorbells);
        say(" resleeps=");
        say_number(sl.resleeps);
        say(" capped=");
        say_number(sl.capped);
        say("\n");
    }
#endif
    // And the zero-copy accounting since start (tests read copied=0).
    struct ringlet_demi_stats dp;
    if (ringlet_demi_stats(&dp) == 0) {
        say("echo: dataplane: copied=");
        say_number(dp.payload_bytes_copied);
        say(" lent=");
        say_number(dp.rx_lent);
        say(" rx_copied=");
        say_number(dp.rx_copied);
        say(" in_place=");
        say_number(dp.tx_in_place);
        say(" by_reference=");
        say_number(dp.tx_by_reference);
        say("\n");
        // Remote-input limits (qemu.net_tap reads these after its floods).
        say("echo: limits: udp_dropped=");
        say_number(dp.udp_rx_dropped);
        say(" half_open_evicted=");
        say_number(dp.tcp_half_open_evicted);
        say(" syn_dropped=");
        say_number(dp.tcp_syn_dropped);
        say(" dma_live=");
        say_number(dp.dma_bytes_live);
        say(" dma_total=");
        say_number(dp.dma_bytes_total);
        say("\n");
    }
    g_stats_count = 0;
}

// Each core's own counter; its first request is announced on the console,
// so a test sees every core serve.
// With --core-stats on Ringlet, the libOS's hand-off counters of every core
// sharing the NIC (libos/backend/core_mesh.h): frames core 0 kept, handed
// to other cores (software steering) or copied to them (ARP replies),
// frames other cores received that way and sent through core 0.
void say_mesh_stats() {
#if RINGLET_FREESTANDING
    ringlet::backend::MeshCoreStats s;
    for (unsigned k = 0; ringlet_core_mesh_stats(k, &s) == 0; ++k) {
        say("echo: mesh: core ");
        say_number(k);
        say(" kept=");
        say_number(s.rx_kept);
        say(" handed=");
        say_number(s.rx_handed);
        say(" dropped=");
        say_number(s.rx_dropped);
        say(" arp_copies=");
        say_number(s.arp_copies);
        say(" received=");
        say_number(s.rx_forwarded);
        say(" tx_handed=");
        say_number(s.tx_handed);
        say(" tx_sent_for_others=");
        say_number(s.tx_sent);
        say(" tx_dropped=");
        say_number(s.tx_dropped);
        say(" tx_full=");
        say_number(s.tx_full);
        say(" arp_copy_failed=");
        say_number(s.arp_copy_failed);
        say(" tx_send_failed=");
        say_number(s.tx_send_failed);
        say(" tx_waited=");
        say_number(s.tx_waited);
        say(" tx_copied_bytes=");
        say_number(s.tx_copied_bytes);
        say("\n");
    }
#endif
}

// --spin-after N (a test hook): after N echoed UDP requests core 0's app
// task spins for good - it never returns to its event loop, so its libOS
// stops polling - while the other cores go on (qemu.cores_mq_spin: with a
// queue pair each, their flows are still answered).
thread_local unsigned long g_udp_before_spin = 0;

void maybe_spin(unsigned core) {
    if (g_hooks.spin_after == 0 || core != 0 || ++g_udp_before_spin != g_hooks.spin_after) return;
    say("echo: core 0 spinning on purpose (--spin-after)\n");
    for (;;) asm volatile("" ::: "memory");
}

// --work-us N (a benchmark knob, scripts/bench/scaling.sh --work-us): the
// request costs the app N microseconds of its own computation before the
// echo, as a real server's parsing and lookups would - so that the guest's
// CPU, not the host's emulation of the network, is what limits requests/s.
uint64_t now_ns() {
#if RINGLET_FREESTANDING
    return ringlet::user::now() * (1'000'000'000 / ringlet::user::timebase_hz());
#else
    timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return static_cast<uint64_t>(t.tv_sec) * 1'000'000'000 + static_cast<uint64_t>(t.tv_nsec);
#endif
}

void maybe_work() {
    if (g_hooks.work_us == 0) return;
    const uint64_t end = now_ns() + g_hooks.work_us * 1000;
    while (now_ns() < end) {
    }
}

}  // namespace

[[gnu::noinline, gnu::cold]] void udp_hooks(unsigned core) {
    count_request(core);
    maybe_fault();
    maybe_nic_fault(core);
    maybe_spin(core);
    maybe_work();
}

[[gnu::noinline, gnu::cold]] void report_served(unsigned core, unsigned long n) {
    if (n == 1) {
        say("echo: core ");
        say_number(core);
        say(" served its first request\n");
    }
    if (g_hooks.core_stats_every != 0 && n % g_hooks.core_stats_every == 0) {
        say("echo: core ");
        say_number(core);
        say(": served ");
        say_number(n);
        say("\n");
        say_mesh_stats();
    }
}

}  // namespace echo
