// Store: the key space, a chained hash table of string keys and values with
// optional expiry times (absolute, in the store's milliseconds).
//
// Expiry is lazy plus periodic, as in Redis: find() drops an expired key it
// meets, and expire_cycle() walks a bounded number of buckets per call
// (the server calls it every 100 ms) so keys nobody reads still go.
// Time is whatever the owner last passed to set_now(): one reading per event
// loop round, and tests choose it.
//
// The table doubles when it holds more keys than buckets. SCAN's cursor
// counts buckets in reversed-bit order, so a cursor stays valid across a
// resize: every key present for the whole scan is returned at least once.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "user/kv/bytes.h"

namespace kv {

struct Entry {
    Entry* next;
    uint64_t hash;
    int64_t expire_ms;  // 0: no expiry
    uint8_t* value;     // its own block (grows for APPEND)
    uint32_t vlen;
    uint32_t vcap;
    uint32_t klen;
    uint8_t key[];      // klen bytes

    Slice key_slice() const { return Slice(key, klen); }
    Slice value_slice() const { return Slice(value, vlen); }
};

class Store {
public:
    Store() = default;
    ~Store();
    Store(const Store&) = delete;
    Store& operator=(const Store&) = delete;

    void set_now(int64_t ms) { m_now = ms; }
    int64_t now() const { return m_now; }

    // The live entry for key, or nullptr (an expired one is removed here).
    Entry* find(Slice key);
    // A key's place in the table, for a read-then-write that hashes and
    // walks the chain once (SET checks NX/XX/GET/KEEPTTL on the old entry,
    // then writes): `entry` is the live entry or nullptr (an expired one is
    // removed here). The table grows first, so an insert at the place needs
    // no rehash. Valid until the store next changes.
    struct Place {
        Entry** link;  // nullptr: the table could not be allocated
        uint64_t hash;
        Entry* entry() const { return link != nullptr ? *link : nullptr; }
    };
    Place locate(Slice key);
    // Sets key to value with expiry expire_ms (0: none) at p, a locate(key)
    // with no change to the store since: replaces p's entry's value or
    // inserts. False when out of memory (the store is unchanged).
    bool set_at(const Place& p, Slice key, Slice value, int64_t expire_ms);
    // locate() then set_at().
    bool set(Slice key, Slice value, int64_t expire_ms) { return set_at(locate(key), key, value, expire_ms); }
    // Replaces e's value / appends to it. False when out of memory.
    bool assign(Entry* e, Slice value);
    bool append(Entry* e, Slice more);
    void set_expire(Entry* e, int64_t expire_ms);
    // Removes key; false if it was not there (or had expired).
    bool del(Slice key);
    void clear();

    size_t size() const { return m_count; }
    size_t with_expiry() const { return m_expiring; }
    uint64_t expired_total() const { return m_expired_total; }
    // Bytes of keys and values (what a snapshot of the store writes, without
    // record headers).
    uint64_t payload_bytes() const { return m_payload; }

    // Deletes expired keys in up to `buckets` buckets, continuing where the
    // previous call stopped; returns how many it deleted.
    size_t expire_cycle(size_t buckets);

    // Calls f(entry) for the live entries of the bucket(s) at `cursor` and
    // returns the next cursor (0 when the scan is complete).
    template <typename F>
    uint64_t scan(uint64_t cursor, F&& f);

    // Calls f(entry) for every live entry (f must not change the store).
    template <typename F>
    void for_each(F&& f) {
        for (size_t b = 0; b < m_nbuckets; ++b) {
            for (Entry* e = m_buckets[b]; e != nullptr; e = e->next) {
                if (!expired(e)) f(*e);
            }
        }
    }

    static uint64_t hash(Slice key);
    static uint64_t reverse_bits(uint64_t v);

private:
    bool expired(const Entry* e) const { return e->expire_ms != 0 && e->expire_ms <= m_now; }
    Entry** slot(Slice key, uint64_t h);
    void unlink_and_free(Entry** link);
    void maybe_grow();
    void free_entry(Entry* e);

    Entry** m_buckets = nullptr;
    size_t m_nbuckets = 0;
    size_t m_count = 0;
    size_t m_expiring = 0;
    uint64_t m_expired_total = 0;
    uint64_t m_payload = 0;
    size_t m_expire_cursor = 0;
    int64_t m_now = 0;
};

template <typename F>
uint64_t Store::scan(uint64_t cursor, F&& f) {
    if (m_nbuckets == 0) return 0;
    const uint64_t mask = m_nbuckets - 1;
    for (Entry* e = m_buckets[cursor & mask]; e != nullptr; e = e->next) {
        if (!expired(e)) f(*e);
    }
    // Reversed-bit increment: set the bits above the mask, add one to the
    // reversed value, reverse back.
    cursor |= ~mask;
    cursor = reverse_bits(reverse_bits(cursor) + 1);
    return cursor;
}

}  // namespace kv
