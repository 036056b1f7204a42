#include "user/kv/store.h"

#include "user/kv/alloc.h"

namespace kv {

namespace {
constexpr size_t kInitialBuckets = 64;
}  // namespace

uint64_t Store::hash(Slice key) {
    // FNV-1a, then a 64-bit finaliser so the low bits (the bucket) depend on
    // every byte.
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < key.n; ++i) {
        h ^= key.p[i];
        h *= 0x100000001b3ull;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return h;
}

uint64_t Store::reverse_bits(uint64_t v) {
    v = ((v >> 1) & 0x5555555555555555ull) | ((v & 0x5555555555555555ull) << 1);
    v = ((v >> 2) & 0x3333333333333333ull) | ((v & 0x3333333333333333ull) << 2);
    v = ((v >> 4) & 0x0f0f0f0f0f0f0f0full) | ((v & 0x0f0f0f0f0f0f0f0full) << 4);
    v = ((v >> 8) & 0x00ff00ff00ff00ffull) | ((v & 0x00ff00ff00ff00ffull) << 8);
    v = ((v >> 16) & 0x0000ffff0000ffffull) | ((v & 0x0000ffff0000ffffull) << 16);
    return (v >> 32) | (v << 32);
}

Store::~Store() {
    clear();
    mem_free(m_buckets);
}

Entry** Store::slot(Slice key, uint64_t h) {
    Entry** link = &m_buckets[h & (m_nbuckets - 1)];
    while (*link != nullptr) {
        Entry* e = *link;
        if (e->hash == h && e->key_slice() == key) return link;
        link = &e->next;
    }
    return link;
}

void Store::free_entry(Entry* e) {
    m_payload -= e->klen + e->vlen;
    if (e->expire_ms != 0) --m_expiring;
    --m_count;
    mem_free(e->value);
    mem_free(e);
}

void Store::unlink_and_free(Entry** link) {
    Entry* e = *link;
    *link = e->next;
    free_entry(e);
}

Entry* Store::find(Slice key) {
    if (m_nbuckets == 0) return nullptr;
    Entry** link = slot(key, hash(key));
    Entry* e = *link;
    if (e == nullptr) return nullptr;
    if (expired(e)) {
        unlink_and_free(link);
        ++m_expired_total;
        return nullptr;
    }
    return e;
}

void Store::maybe_grow() {
    if (m_nbuckets != 0 && m_count < m_nbuckets) return;
    const size_t n = m_nbuckets == 0 ? kInitialBuckets : m_nbuckets * 2;
    auto** fresh = static_cast<Entry**>(mem_alloc(n * sizeof(Entry*)));
    if (fresh == nullptr) return;  // stay at this size: longer chains, still correct
    for (size_t i = 0; i < n; ++i) fresh[i] = nullptr;
    for (size_t b = 0; b < m_nbuckets; ++b) {
        Entry* e = m_buckets[b];
        while (e != nullptr) {
            Entry* next = e->next;
            Entry** head = &fresh[e->hash & (n - 1)];
            e->next = *head;
            *head = e;
            e = next;
        }
    }
    mem_free(m_buckets);
    m_buckets = fresh;
    m_nbuckets = n;
}

Store::Place Store::locate(Slice key) {
    maybe_grow();
    if (m_nbuckets == 0) return Place{nullptr, 0};
    const uint64_t h = hash(key);
    Entry** link = slot(key, h);
    if (*link != nullptr && expired(*link)) {
        // Dropped here, as find() does: the place then ends the chain.
        unlink_and_free(link);
        ++m_expired_total;
        link = slot(key, h);
    }
    return Place{link, h};
}

bool Store::set_at(const Place& p, Slice key, Slice value, int64_t expire_ms) {
    if (p.link == nullptr || key.n > UINT32_MAX || value.n > UINT32_MAX) return false;
    if (Entry* old = *p.link) {  // reuse the entry: only the value changes
        if (!assign(old, value)) return false;
        set_expire(old, expire_ms);
        return true;
    }
    auto* e = static_cast<Entry*>(mem_alloc(sizeof(Entry) + key.n));
    if (e == nullptr) return false;
    e->value = value.n == 0 ? nullptr : static_cast<uint8_t*>(mem_alloc(value.n));
    if (value.n != 0 && e->value == nullptr) {
        mem_free(e);
        return false;
    }
    if (key.n != 0) memcpy(e->key, key.p, key.n);
    if (value.n != 0) memcpy(e->value, value.p, value.n);
    e->next = nullptr;
    e->hash = p.hash;
    e->expire_ms = expire_ms;
    e->klen = static_cast<uint32_t>(key.n);
    e->vlen = e->vcap = static_cast<uint32_t>(value.n);
    *p.link = e;
    ++m_count;
    if (expire_ms != 0) ++m_expiring;
    m_payload += key.n + value.n;
    return true;
}

bool Store::assign(Entry* e, Slice value) {
    if (value.n > UINT32_MAX) return false;
    if (value.n > e->vcap) {
        auto* v = static_cast<uint8_t*>(mem_alloc(value.n));
        if (v == nullptr) return false;
        mem_free(e->value);
        e->value = v;
        e->vcap = static_cast<uint32_t>(value.n);
    }
    if (value.n != 0) memmove(e->value, value.p, value.n);
    m_payload = m_payload - e->vlen + value.n;
    e->vlen = static_cast<uint32_t>(value.n);
    return true;
}

bool Store::append(Entry* e, Slice more) {
    const uint64_t total = uint64_t{e->vlen} + more.n;
    if (total > UINT32_MAX) return false;
    if (total > e->vcap) {
        // Grow geometrically so repeated APPENDs cost amortised O(1) each.
        uint64_t cap = e->vcap < 64 ? 64 : uint64_t{e->vcap} * 2;
        if (cap < total) cap = total;
        if (cap > UINT32_MAX) cap = total;
        auto* v = static_cast<uint8_t*>(mem_alloc(cap));
        if (v == nullptr) return false;
        if (e->vlen != 0) memcpy(v, e->value, e->vlen);
        mem_free(e->value);
        e->value = v;
        e->vcap = static_cast<uint32_t>(cap);
    }
    if (more.n != 0) memcpy(e->value + e->vlen, more.p, more.n);
    e->vlen = static_cast<uint32_t>(total);
    m_payload += more.n;
    return true;
}

void Store::set_expire(Entry* e, int64_t expire_ms) {
    if ((e->expire_ms != 0) != (expire_ms != 0)) {
        if (expire_ms != 0) {
            ++m_expiring;
        } else {
            --m_expiring;
        }
    }
    e->expire_ms = expire_ms;
}

bool Store::del(Slice key) {
    if (m_nbuckets == 0) return false;
    Entry** link = slot(key, hash(key));
    if (*link == nullptr) return false;
    const bool live = !expired(*link);
    if (!live) ++m_expired_total;
    unlink_and_free(link);
    return live;
}

void Store::clear() {
    for (size_t b = 0; b < m_nbuckets; ++b) {
        while (m_buckets[b] != nullptr) unlink_and_free(&m_buckets[b]);
    }
}

size_t Store::expire_cycle(size_t buckets) {
    size_t deleted = 0;
    for (size_t i = 0; i < buckets && m_nbuckets != 0; ++i) {
        m_expire_cursor &= m_nbuckets - 1;
        Entry** link = &m_buckets[m_expire_cursor++];
        while (*link != nullptr) {
            if (expired(*link)) {
                unlink_and_free(link);
                ++m_expired_total;
                ++deleted;
            } else {
                link = &(*link)->next;
            }
        }
    }
    return deleted;
}

}  // namespace kv
