#include "kernel/sched/upcall.h"

namespace ringlet {

void UpcallState::arm(uint64_t entry_pc, uint64_t stack, uint64_t area_va, uint64_t ticks, uint64_t now) {
    entry = entry_pc;
    stack_top = stack;
    area = area_va;
    period = ticks;
    seen_idle = false;
    // Re-arming from inside an upcall keeps it running: its return still
    // brings the interrupted registers back.
    deadline = running ? kNoLook : now + ticks;
}

void UpcallState::disarm() {
    area = 0;
    deadline = kNoLook;
    seen_idle = false;
}

UpcallVerdict judge_upcall(UpcallState& s, uint64_t now, const UpcallArea* area) {
    if (!s.armed() || s.running || now < s.deadline) return UpcallVerdict::NotDue;
    if (area == nullptr) {
        s.disarm();
        return UpcallVerdict::Rearm;
    }
    s.deadline = now + s.period;
    if (area->seq & 1) {  // inside the libOS now
        s.seen_idle = false;
        return UpcallVerdict::Rearm;
    }
    if (s.seen_idle && area->seq == s.seen_seq) return UpcallVerdict::Deliver;
    s.seen_idle = true;
    s.seen_seq = area->seq;
    return UpcallVerdict::Rearm;
}

void upcall_entered(UpcallState& s) {
    s.running = true;
    s.deadline = UpcallState::kNoLook;
    ++s.delivered;
}

void upcall_returned(UpcallState& s, uint64_t now) {
    s.running = false;
    // Still armed (the upcall may have disarmed): the next look a period on;
    // what was seen stays, so an app still spinning gets its next upcall then.
    s.deadline = s.armed() ? now + s.period : UpcallState::kNoLook;
}

}  // namespace ringlet
