// echo's console output, per-core reports and test hooks, kept apart from
// the echo path (echo.cc): set from the command line once, then read only.
#pragma once

namespace echo {

struct HookOptions {
    unsigned long stats_every = 0;       // --stats N: instructions per request every N UDP echoes
    unsigned long core_stats_every = 0;  // --core-stats N: each core's count every N requests
    unsigned long fault_after = 0;       // --fault-after N: touch an unmapped address after N UDP echoes
    unsigned long nic_fault_after = 0;   // --nic-fault-after N: a core other than 0 breaks its NIC
    unsigned long spin_after = 0;        // --spin-after N: core 0's task spins after N UDP echoes
    unsigned long work_us = 0;           // --work-us N: N us of computation per UDP request (a benchmark's app work)

    // Whether a hook runs on every UDP datagram (udp_hooks).
    bool per_datagram() const {
        return stats_every != 0 || fault_after != 0 || nic_fault_after != 0 || spin_after != 0 || work_us != 0;
    }
};
extern HookOptions g_hooks;

// The console (stderr on Linux).
void say(const char* s);
void say_number(unsigned long long v);

// A UDP datagram's hooks on core `core` (when g_hooks.per_datagram()):
// --stats, --fault-after, --nic-fault-after, --spin-after, --work-us.
void udp_hooks(unsigned core);
// Core `core` served its n-th request: its first is announced (tests see
// every core serve), and with --core-stats every N-th is reported, with the
// libOS's hand-off counters on Ringlet.
void report_served(unsigned core, unsigned long n);

}  // namespace echo
