// dispatcher_start: an app holding the image cap and a hart cap starts
// another app from the initrd on that hart and hands it its gifts.
// dispatcher_span: an app starts a core of its own on another hart (its Hart cap says which).
#include "kernel/app_loader.h"
#include "kernel/arch.h"
#include "kernel/sched/dispatch.h"
#include "kernel/syscall/invoke.h"

namespace ringlet {
namespace {

// Between loading `app` and making it runnable: gives `app` a child of each
// gift (listed in its StartCap list; the first also in a3) and returns a
// dispatcher cap for `app` in the starter's table.
Result<uint64_t> hand_over_caps(CapSpace& caps, Dispatcher& starter, Dispatcher& app,
                                const DispatcherStartRequest& req) {
    assert_tree_locked("hand_over_caps");
    assert_table_locked(table_of(app), "hand_over_caps");
    for (uint32_t i = 0; i < req.gift_count; ++i) {
        const StartGift& gift = req.gifts[i];
        // Decode checked it before the app was loaded, outside this lock:
        // look again, it may have been deleted meanwhile.
        const CapNode* node = TRY(caps.lookup(table_of(starter), gift.cap, kCapNull, kRightGrant));
        const uint8_t type = node->type;
        CapIndex given = TRY(caps.grant(table_of(starter), gift.cap, table_of(app), gift.rights));
        TRY(record_start_cap(app, StartCap{given, type, kStartGift, 0, i}));
        if (i == 0) arch::set_start_arg(app.frame, 3, given);
    }
    return caps.insert_root(table_of(starter), kCapDispatcher, kRightGrant, 0, 0, 0, app.id);
}

}  // namespace

// Load, hand over the capabilities (under the derivation lock and both
// tables' locks, which loading must not hold: a failed load releases the
// app, and that takes them), launch.
Result<uint64_t> invoke_dispatcher_start(Dispatcher& starter, const DispatcherStartRequest& req) {
    const char* args = req.line + req.name_len;
    size_t args_len = req.line_len - req.name_len;
    if (args_len) ++args, --args_len;  // the space after the name
    AppStart start{req.line, req.name_len, args, args_len, req.hart, timebase_frequency()};
    Dispatcher* app = TRY(prepare_app(start));
    Result<uint64_t> cap = Error::Unsupported;
    {
        CapGuard guard(table_of(starter), CapScope::Tree);
        guard.also_lock(table_of(*app));
        cap = hand_over_caps(guard.caps(), starter, *app, req);
    }
    if (!cap) {
        // Its table may already hold some gifts: discarding releases them.
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
