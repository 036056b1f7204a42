// dispatcher_start: one app starts another and may hand it a capability;
// dispatcher_span: an app starts a core of its own on another hart.
#include "kernel/app_loader.h"
#include "kernel/arch.h"
#include "kernel/sched/dispatch.h"
#include "kernel/syscall/invoke.h"

namespace ringlet {
namespace {

// Between loading `app` and making it runnable: gives `app` a child of the
// starter's cap `gift` with `rights` (0: none; its index goes to the app in
// a3) and returns a dispatcher cap for `app` in the starter's table.
Result<uint64_t> hand_over_caps(CapSpace& caps, Dispatcher& starter, Dispatcher& app, CapIndex gift,
                                uint32_t rights) {
    if (gift != 0) {
        // Decode checked it before the app was loaded, outside this lock:
        // check again, it may have been deleted meanwhile.
        TRY(caps.lookup(table_of(starter), gift, kCapNull, kRightGrant));
        CapIndex given = TRY(caps.grant(table_of(starter), gift, table_of(app), rights));
        arch::set_start_arg(app.frame, 3, given);
    }
    return caps.insert_root(table_of(starter), kCapDispatcher, kRightGrant, 0, 0, 0, app.id);
}

}  // namespace

// Load, hand over the capabilities (under the lock, which loading must not
// hold: a failed load releases the app, and that takes the lock), launch.
Result<uint64_t> invoke_dispatcher_start(Dispatcher& starter, const DispatcherStartRequest& req) {
    AppStart start{req.name, req.name_len, "", 0, req.hart, timebase_frequency()};
    Dispatcher* app = TRY(prepare_app(start));
    Result<uint64_t> cap = Error::Unsupported;
    {
        CapsGuard guard;
        cap = hand_over_caps(guard.caps(), starter, *app, req.gift, req.gift_rights);
    }
    if (!cap) {
        app->state = DispatcherState::Dead;
        discard_dispatcher(app);
        return cap.error();
    }
    launch_app(app, req.hart);
    return cap;
}

Result<uint64_t> invoke_dispatcher_span(Dispatcher& d, const DispatcherSpanRequest& req) {
    SpanStart start{req.entry, req.stack_top, req.thread_pointer, req.arg};
    Dispatcher* member = TRY(span_dispatcher(d, req.hart, start));
    launch_app(member, req.hart);
    return 0;
}

}  // namespace ringlet
