// The demi_wait family and the awaitable C++ face of LibOs.
#include <string.h>

#include "libos/pdpix/errno_map.h"
#include "libos/pdpix/libos.h"
#include "libos/rt/libos_entry.h"
#include "demi/wait.h"

namespace ringlet::pdpix {

uint64_t LibOs::deadline(const timespec* timeout) {
    if (timeout == nullptr) return rt::kForever;
    const uint64_t ns = static_cast<uint64_t>(timeout->tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(timeout->tv_nsec);
    const uint64_t now = m_exec.refresh_now();
    return ns > rt::kForever - now ? rt::kForever : now + ns;
}

void LibOs::consume_misaligned(uint32_t i, demi_qresult_t* out) {
    alignas(8) demi_qresult_t r;
    consume(i, &r);
    copy_packed(out, &r);
}

template <typename Pred>
int LibOs::run_until(Pred pred, uint64_t deadline) {
    for (;;) {
        if (pred()) return 0;
        if (m_exec.now_ns() >= deadline) {
            // A zero timeout still lets ready work run once (a poll).
            m_exec.run_once(false);
            return pred() ? 0 : ETIMEDOUT;
        }
        m_exec.run_once(true, deadline);
    }
}


int LibOs::wait_blocking(demi_qresult_t* out, uint32_t i, const timespec* timeout) {
    if (m_ops[i].waiting) return EALREADY;
    m_ops[i].waiting = true;
    const int e = run_until([&] { return m_ops[i].state == OpState::Done; }, deadline(timeout));
    m_ops[i].waiting = false;
    if (e != 0) return e;
    consume(i, out);
    return 0;
}

[[gnu::always_inline]] inline int LibOs::wait_any(demi_qresult_t* out, int* offset, const demi_qtoken_t* qts, int n, const timespec* timeout) {
    if (out == nullptr || offset == nullptr || qts == nullptr || n <= 0 || bad_timeout(timeout)) return EINVAL;
    if (static_cast<uint32_t>(n) > kMaxOps) return EINVAL;
    // Each token is checked and marked as it is met (a token listed twice
    // is then EALREADY); the first one already complete (an inline
    // completion) is the answer, with no clock and no executor. One path
    // and one consume() for both cases: an event loop blocks here on
    // almost every call, so that case must not pay for a second frame.
    int marked = 0, found = -1, e = 0;
    while (marked < n) {
        uint32_t i = 0;
        if ((e = decode(qts[marked], &i)) != 0) break;
        Op& op = m_ops[i];
        if (op.waiting) {  // in use by another wait, or listed twice
            e = EALREADY;
            break;
        }
        op.waiting = true;
        if (op.state == OpState::Done) {
            found = marked++;
            break;
        }
        ++marked;
    }
    if (e == 0 && found < 0) {
        // Each round's completions bump m_done_seq, so the tokens are
        // looked at again only after one. They were decoded above: the
        // index is their low word.
        uint64_t seen = m_done_seq;
        e = run_until(
            [&] {
                if (m_done_seq == seen) return false;
                seen = m_done_seq;
                for (int j = 0; j < n; ++j) {
                    if (m_ops[index_of(qts[j])].state == OpState::Done) {
                        found = j;
                        return true;
                    }
                }
                return false;
            },
            deadline(timeout));
    }
    for (int j = 0; j < marked; ++j) m_ops[index_of(qts[j])].waiting = false;
    if (e != 0) return e;
    *offset = found;
    consume(index_of(qts[found]), out);
    return 0;
}

int LibOs::wait_all(demi_qresult_t* out, const demi_qtoken_t* qts, int n, const timespec* timeout) {
    if (out == nullptr || qts == nullptr || n <= 0 || bad_timeout(timeout)) return EINVAL;
    uint32_t idx[kMaxOps];
    if (static_cast<uint32_t>(n) > kMaxOps) return EINVAL;
    int e = 0;
    int k = 0;
    for (; k < n; ++k) {
        if ((e = decode(qts[k], &idx[k])) != 0) break;
        if (m_ops[idx[k]].waiting) {
            e = EALREADY;
            break;
        }
        m_ops[idx[k]].waiting = true;
    }
    if (e == 0) {
        e = run_until(
            [&] {
                for (int j = 0; j < n; ++j) {
                    if (m_ops[idx[j]].state != OpState::Done) return false;
                }
                return true;
            },
            deadline(timeout));
        k = n;
    }
    for (int j = 0; j < k; ++j) m_ops[idx[j]].waiting = false;
    if (e != 0) return e;
    for (int j = 0; j < n; ++j) consume(idx[j], &out[j]);
    return 0;
}

int LibOs::wait_next_n(demi_qresult_t* out, int n, int* written, const timespec* timeout) {
    if (out == nullptr || written == nullptr || n <= 0 || bad_timeout(timeout)) return EINVAL;
    *written = 0;
    // The done list holds every completed operation, oldest first; tokens
    // another wait holds are left to it (rare: skipped one by one). So each
    // result costs O(1), whatever the number of operations in flight - an
    // event loop with many connections pays per completion, not per token.
    const auto first_free = [&] {
        uint32_t i = m_ops[kMaxOps].next;  // the sentinel's: the oldest
        while (i < kMaxOps && m_ops[i].waiting) i = m_ops[i].next;
        return i;
    };
    if (const int e = run_until([&] { return first_free() < kMaxOps; }, deadline(timeout)); e != 0) return e;
    int count = 0;
    for (uint32_t i = first_free(); i < kMaxOps && count < n;) {
        const uint32_t next = m_ops[i].next;
        if (!m_ops[i].waiting) consume(i, &out[count++]);
        i = next;
    }
    *written = count;
    return 0;
}

// ---- the C++ face ----

rt::Task<Result<Popped>> LibOs::pop(int qd) {
    auto q = lookup(qd);
    if (!q) co_return q.error();
    Popped p;
    memset(&p, 0, sizeof p);
    sockaddr_in from{};
    auto r = co_await (*q)->pop(&from);
    if (!r) co_return r.error();
    p.sga.sga_numsegs = 1;
    p.sga.sga_segs[0].sgaseg_buf = (*r)->begin();
    p.sga.sga_segs[0].sgaseg_len = (*r)->len;
    p.sga.sga_addr = from;
    co_return p;
}

rt::Task<Result<void>> LibOs::push(int qd, demi_sgarray_t sga) {
    auto q = lookup(qd);
    if (!q) co_return q.error();
    auto s = pushable(&sga);
    if (!s) co_return s.error();
    mem::BufferRef ref(&m_heap, s->buf);  // held until the device is done
    PushTurn turn(**q);
    while (!turn.first()) co_await (*q)->push_line_moved();
    co_return co_await (*q)->push(ref.get(), s->off, s->len, nullptr);
}

rt::Task<Result<void>> LibOs::pushto(int qd, demi_sgarray_t sga, sockaddr_in to) {
    auto q = lookup(qd);
    if (!q) co_return q.error();
    auto s = pushable(&sga);
    if (!s) co_return s.error();
    mem::BufferRef ref(&m_heap, s->buf);
    PushTurn turn(**q);
    while (!turn.first()) co_await (*q)->push_line_moved();
    co_return co_await (*q)->push(ref.get(), s->off, s->len, &to);
}

rt::Task<Result<Accepted>> LibOs::accept(int qd) {
    auto q = lookup(qd);
    if (!q) co_return q.error();
    Accepted a{};
    auto r = co_await (*q)->accept(&a.peer);
    if (!r) co_return r.error();
    auto nqd = install(*r);
    if (!nqd) co_return nqd.error();
    a.qd = *nqd;
    co_return a;
}

rt::Task<Result<void>> LibOs::connect(int qd, sockaddr_in to) {
    auto q = lookup(qd);
    if (!q) co_return q.error();
    co_return co_await (*q)->connect(to);
}

}  // namespace ringlet::pdpix

// The demi_* wrapper of wait_any lives here rather than in demi_api.cc: an
// event loop calls it once per completion, and defined next to wait_any it
// is one function, not a wrapper's frame and a call.
extern "C" int demi_wait_any(demi_qresult_t* qr_out, int* ready_offset, const demi_qtoken_t qts[], int num_qts,
                             const struct timespec* timeout) {
    ringlet::rt::LibosEntry in_libos;
    ringlet::pdpix::LibOs* os = ringlet::pdpix::LibOs::instance();
    if (os == nullptr) return ENOSYS;
    return os->wait_any(qr_out, ready_offset, qts, num_qts, timeout);
}
