// ReadySet: which task slots are ready to run, as an array of 64-bit words.
//
// A two-level bitmap: word i holds slots [64*i, 64*i+63]; bit i of the
// summary word says word i is non-zero. Picking the next ready slot is two
// count-trailing-zeros (one `ctz` each with Zbb), whatever the number of
// tasks, and the cursor form gives round-robin order for fairness.
// Freestanding: no heap, no std containers.
#pragma once

#include <stdint.h>

#include "ringlet/bits.h"

namespace ringlet::rt {

class ReadySet {
public:
    static constexpr uint32_t kWordBits = 64;
    static constexpr uint32_t kWords = 64;  // the summary word has 64 bits
    static constexpr uint32_t kCapacity = kWords * kWordBits;  // 4096 slots
    static constexpr int32_t kNone = -1;

    // Marks slot ready. Precondition: slot < kCapacity.
    void set(uint32_t slot) {
        const uint32_t w = slot / kWordBits;
        m_words[w] |= bit(slot % kWordBits);
        m_summary |= bit(w);
    }

    // Marks slot not ready. Precondition: slot < kCapacity.
    void clear(uint32_t slot) {
        const uint32_t w = slot / kWordBits;
        m_words[w] &= ~bit(slot % kWordBits);
        if (m_words[w] == 0) m_summary &= ~bit(w);
    }

    // True if slot is ready. Precondition: slot < kCapacity.
    bool test(uint32_t slot) const { return (m_words[slot / kWordBits] & bit(slot % kWordBits)) != 0; }

    // True if no slot is ready.
    bool empty() const { return m_summary == 0; }

    // The lowest ready slot, or kNone. Does not clear it.
    int32_t first() const {
        if (m_summary == 0) return kNone;
        const uint32_t w = ctz(m_summary);
        return static_cast<int32_t>(w * kWordBits + ctz(m_words[w]));
    }

    // The first ready slot at or after `from`, wrapping around, or kNone.
    // Used with a cursor one past the last pick, it gives round-robin order.
    int32_t first_from(uint32_t from) const {
        if (m_summary == 0) return kNone;
        from %= kCapacity;
        const uint32_t w = from / kWordBits;
        // Same word, bits at or above `from`.
        const uint64_t same = m_words[w] & (~uint64_t{0} << (from % kWordBits));
        if (same != 0) return static_cast<int32_t>(w * kWordBits + ctz(same));
        // Later words; w + 1 may be 64, and a shift by 64 is undefined.
        const uint64_t later = (w + 1 < kWords) ? (m_summary & (~uint64_t{0} << (w + 1))) : 0;
        const uint64_t words = later != 0 ? later : m_summary;  // else wrap to the lowest
        const uint32_t lw = ctz(words);
        return static_cast<int32_t>(lw * kWordBits + ctz(m_words[lw]));
    }

    // Removes and returns the lowest ready slot, or kNone.
    int32_t take_first() {
        const int32_t s = first();
        if (s != kNone) clear(static_cast<uint32_t>(s));
        return s;
    }

    // Number of ready slots (popcount; for tests and statistics, not the hot path).
    uint32_t count() const {
        uint32_t n = 0;
        for (uint32_t i = 0; i < kWords; ++i) n += static_cast<uint32_t>(__builtin_popcountll(m_words[i]));
        return n;
    }

private:
    static constexpr uint64_t bit(uint32_t i) { return uint64_t{1} << i; }
    // One `ctz` instruction with Zbb, a branch-free de Bruijn lookup otherwise
    // (never a libgcc call). Precondition: x != 0.
    static uint32_t ctz(uint64_t x) { return count_trailing_zeros(x); }

    uint64_t m_summary = 0;
    uint64_t m_words[kWords] = {};
};

}  // namespace ringlet::rt
