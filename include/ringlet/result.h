// Result<T>: the one error type shared by the kernel and the libOS.
//
// Errors are values. A function that can fail returns Result<T>; callers
// either handle the error or pass it up with TRY (CO_TRY inside coroutines).
// errno-style integers appear only at the PDPIX C boundary (libos/pdpix).
// Freestanding: needs only <new>, <type_traits> and <utility>.
#pragma once

#include <stdint.h>

#include <new>
#include <type_traits>
#include <utility>

namespace ringlet {

// Zero means success; every other value is a distinct failure. Keep in step
// with error_name() below.
enum class Error : int32_t {
    Ok = 0,
    InvalidArgument,   // a parameter is out of its documented domain
    BadFormat,         // input bytes do not follow their format (FDT, ELF, cpio, packet)
    Truncated,         // input ends before its declared length
    OutOfRange,        // an index or address lies outside what it refers to
    OutOfMemory,       // no frames / pool slots / heap left
    NotFound,          // the named thing does not exist
    Exists,            // the thing to create is already there
    Full,              // a ring or table has no free slot
    Empty,             // nothing to take
    WouldBlock,        // the operation cannot complete now
    TimedOut,          // a deadline passed first
    Busy,              // the resource is held by someone else
    Closed,            // the peer or queue is closed
    BadCapability,     // cap index is empty, stale or forged
    WrongType,         // object has the wrong type for this operation
    NoRights,          // the capability lacks a needed right
    BadAddress,        // a user pointer is not mapped or not accessible
    Unsupported,       // valid request the implementation does not offer
    IoError,           // the device reported a failure
    Fault,             // the requesting context faulted
    WrongCore,         // the object belongs to another core (per-core state is not shared)
};
// The syscall ABI returns it in a0; kernel and user space must agree.
static_assert(sizeof(Error) == 4, "Error is the syscall ABI's 32-bit code");

// A short stable name for an error ("OutOfMemory"), for logs and panics.
constexpr const char* error_name(Error e) {
    switch (e) {
    case Error::Ok: return "Ok";
    case Error::InvalidArgument: return "InvalidArgument";
    case Error::BadFormat: return "BadFormat";
    case Error::Truncated: return "Truncated";
    case Error::OutOfRange: return "OutOfRange";
    case Error::OutOfMemory: return "OutOfMemory";
    case Error::NotFound: return "NotFound";
    case Error::Exists: return "Exists";
    case Error::Full: return "Full";
    case Error::Empty: return "Empty";
    case Error::WouldBlock: return "WouldBlock";
    case Error::TimedOut: return "TimedOut";
    case Error::Busy: return "Busy";
    case Error::Closed: return "Closed";
    case Error::BadCapability: return "BadCapability";
    case Error::WrongType: return "WrongType";
    case Error::NoRights: return "NoRights";
    case Error::BadAddress: return "BadAddress";
    case Error::Unsupported: return "Unsupported";
    case Error::IoError: return "IoError";
    case Error::Fault: return "Fault";
    case Error::WrongCore: return "WrongCore";
    }
    return "UnknownError";
}

// Called only where a Result<T> is provably built from Error::Ok (see
// Result(Error)); declared, never defined, so such a build fails.
[[gnu::error("Result<T>(Error::Ok): a Result without a value needs a failure code, not Error::Ok")]] void
result_from_error_ok();

template <typename T>
class [[nodiscard]] Result {
public:
    Result(const T& value) : m_error(Error::Ok) { new (&m_value) T(value); }
    Result(T&& value) : m_error(Error::Ok) { new (&m_value) T(std::move(value)); }
    // Precondition: e != Error::Ok (an error without a value is meaningless).
    // Where the compiler can see that e is Error::Ok — `return Error::Ok;`
    // from a function returning Result<T>, or a path that passes it in — the
    // build fails (the optimised builds, which are every preset's; GCC and
    // Clang). A runtime Ok it cannot see still becomes InvalidArgument, never
    // a success without a value.
    [[gnu::always_inline]] Result(Error e) : m_error(e == Error::Ok ? Error::InvalidArgument : e) {
        if (__builtin_constant_p(e == Error::Ok) && e == Error::Ok) result_from_error_ok();
    }

    Result(const Result& o) : m_error(o.m_error) {
        if (ok()) new (&m_value) T(o.m_value);
    }
    Result(Result&& o) : m_error(o.m_error) {
        if (ok()) new (&m_value) T(std::move(o.m_value));
    }
    Result& operator=(const Result& o) {
        if (this != &o) { destroy(); m_error = o.m_error; if (ok()) new (&m_value) T(o.m_value); }
        return *this;
    }
    Result& operator=(Result&& o) {
        if (this != &o) { destroy(); m_error = o.m_error; if (ok()) new (&m_value) T(std::move(o.m_value)); }
        return *this;
    }
    ~Result() { destroy(); }

    bool ok() const { return m_error == Error::Ok; }
    explicit operator bool() const { return ok(); }
    Error error() const { return m_error; }

    // Preconditions for the accessors: ok().
    T& value() & { return m_value; }
    const T& value() const& { return m_value; }
    T&& value() && { return std::move(m_value); }
    T* operator->() { return &m_value; }
    const T* operator->() const { return &m_value; }
    T& operator*() { return m_value; }
    const T& operator*() const { return m_value; }

    T value_or(T fallback) const { return ok() ? m_value : fallback; }

private:
    void destroy() {
        if (ok()) m_value.~T();
    }
    Error m_error;
    union {
        T m_value;
    };
};

template <>
class [[nodiscard]] Result<void> {
public:
    Result() : m_error(Error::Ok) {}
    Result(Error e) : m_error(e) {}
    bool ok() const { return m_error == Error::Ok; }
    explicit operator bool() const { return ok(); }
    Error error() const { return m_error; }
    void value() const {}

private:
    Error m_error;
};

inline Result<void> ok() { return {}; }

}  // namespace ringlet

// TRY(expr): evaluate a Result; on error return it from the enclosing
// function, otherwise yield its value. (GNU statement expression: GCC and
// Clang both accept it, and it keeps every error path to one line.)
#define TRY(expr)                                        \
    ({                                                   \
        auto _ringlet_try = (expr);                      \
        if (!_ringlet_try.ok()) return _ringlet_try.error(); \
        std::move(_ringlet_try).value();                 \
    })

// CO_TRY(expr): TRY for coroutines (co_return instead of return).
#define CO_TRY(expr)                                        \
    ({                                                      \
        auto _ringlet_try = (expr);                         \
        if (!_ringlet_try.ok()) co_return _ringlet_try.error(); \
        std::move(_ringlet_try).value();                    \
    })
