// Task<T>: a lazy coroutine whose frame comes from the core's FramePool.
//
// - Lazy: calling a coroutine function only allocates the frame; it starts
//   when awaited (symmetric transfer, no stack growth) or when spawned on the
//   Executor, which is the only way to detach a task.
// - Allocation never throws: with the pool exhausted the call returns an
//   invalid Task; awaiting it yields Error::OutOfMemory (T must be
//   constructible from Error, as Result<U> is) and spawning it fails.
// - Cancellation destroys the suspended frame chain: every Ringlet awaiter
//   unregisters itself in its destructor, so nothing points into freed frames.
// Freestanding: <coroutine>, <type_traits>, <utility> only.
#pragma once

#include <coroutine>
#include <type_traits>
#include <utility>

#include "libos/rt/frame_pool.h"
#include "libos/rt/panic.h"
#include "ringlet/result.h"

namespace ringlet::rt {

template <typename T>
class Task;

namespace detail {

struct PromiseBase {
    // Frames come from the current core's pool; nullptr makes the call
    // return get_return_object_on_allocation_failure() instead of throwing.
    static void* operator new(size_t size) noexcept {
        FramePool* pool = FramePool::current();
        return pool != nullptr ? pool->allocate(size) : nullptr;
    }
    static void operator delete(void* frame, size_t) noexcept { FramePool::release(frame); }

    std::suspend_always initial_suspend() noexcept { return {}; }

    struct FinalAwaiter {
        bool await_ready() noexcept { return false; }
        // Hands control straight to the awaiting coroutine (symmetric
        // transfer); a spawned root has none and returns to the executor.
        template <typename P>
        std::coroutine_handle<> await_suspend(std::coroutine_handle<P> h) noexcept {
            std::coroutine_handle<> next = h.promise().m_continuation;
            return next ? next : std::noop_coroutine();
        }
        void await_resume() noexcept {}
    };
    FinalAwaiter final_suspend() noexcept { return {}; }

    // Built with -fno-exceptions on the target; on the host nothing throws
    // through a task either, so reaching this is a broken invariant.
    void unhandled_exception() noexcept { panic("Task::unhandled_exception: an exception left a task"); }

    std::coroutine_handle<> m_continuation;
};

template <typename T>
struct Promise : PromiseBase {
    Promise() {}
    ~Promise() {
        if (m_has_value) m_value.~T();
    }
    Task<T> get_return_object() noexcept;
    static Task<T> get_return_object_on_allocation_failure() noexcept;
    template <typename U>
    void return_value(U&& v) {
        new (&m_value) T(std::forward<U>(v));
        m_has_value = true;
    }
    T take() { return std::move(m_value); }

    bool m_has_value = false;
    union {
        T m_value;
    };
};

template <>
struct Promise<void> : PromiseBase {
    Task<void> get_return_object() noexcept;
    static Task<void> get_return_object_on_allocation_failure() noexcept;
    void return_void() noexcept {}
    void take() {}
};

}  // namespace detail

template <typename T = void>
class [[nodiscard]] Task {
public:
    using promise_type = detail::Promise<T>;
    using Handle = std::coroutine_handle<promise_type>;

    Task() = default;
    explicit Task(Handle h) : m_handle(h) {}
    Task(Task&& o) noexcept : m_handle(std::exchange(o.m_handle, {})) {}
    Task& operator=(Task&& o) noexcept {
        if (this != &o) {
            reset();
            m_handle = std::exchange(o.m_handle, {});
        }
        return *this;
    }
    Task(const Task&) = delete;
    Task& operator=(const Task&) = delete;
    ~Task() { reset(); }

    // False when the frame could not be allocated (or after release()).
    bool valid() const { return static_cast<bool>(m_handle); }

    // Gives up ownership of the frame (the executor takes it on spawn).
    Handle release() { return std::exchange(m_handle, {}); }

    struct Awaiter {
        Handle m_handle;
        // An invalid task completes at once with OutOfMemory.
        bool await_ready() const noexcept { return !m_handle; }
        std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiting) noexcept {
            m_handle.promise().m_continuation = awaiting;
            return m_handle;  // symmetric transfer: start the child now
        }
        T await_resume() {
            if (!m_handle) {
                if constexpr (std::is_constructible_v<T, Error>) {
                    return T(Error::OutOfMemory);
                } else {
                    // A Task<void> or Task<int> cannot report OOM.
                    panic("Task::await_resume: no frame for a task that cannot report OutOfMemory");
                }
            }
            return m_handle.promise().take();
        }
    };

    // Starts the task and resumes the awaiting coroutine with its result.
    // The Task temporary keeps the frame alive until the await completes.
    Awaiter operator co_await() && noexcept { return Awaiter{m_handle}; }

private:
    void reset() {
        if (m_handle) m_handle.destroy();
        m_handle = {};
    }
    Handle m_handle;
};

namespace detail {
template <typename T>
Task<T> Promise<T>::get_return_object() noexcept {
    return Task<T>(std::coroutine_handle<Promise<T>>::from_promise(*this));
}
template <typename T>
Task<T> Promise<T>::get_return_object_on_allocation_failure() noexcept {
    return Task<T>();
}
inline Task<void> Promise<void>::get_return_object() noexcept {
    return Task<void>(std::coroutine_handle<Promise<void>>::from_promise(*this));
}
inline Task<void> Promise<void>::get_return_object_on_allocation_failure() noexcept { return Task<void>(); }
}  // namespace detail

}  // namespace ringlet::rt
