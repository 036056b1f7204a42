#include "libos/backend/loopback.h"

#include <arpa/inet.h>
#include <string.h>

#include "libos/rt/notifier.h"

namespace ringlet::backend {

// Buffers waiting to be popped, oldest first.
struct Inbox {
    mem::Buffer* head = nullptr;
    mem::Buffer* tail = nullptr;
    bool eof = false;  // the peer closed: pops return a zero-length buffer
    rt::Notifier ready;

    void append(mem::Buffer* b) {
        b->next = nullptr;
        if (tail == nullptr) {
            head = tail = b;
        } else {
            tail->next = b;
            tail = b;
        }
        ready.notify_all();
    }
    mem::Buffer* take() {
        mem::Buffer* b = head;
        if (b == nullptr) return nullptr;
        head = b->next;
        if (head == nullptr) tail = nullptr;
        b->next = nullptr;
        return b;
    }
    void drain(mem::DmaHeap& heap) {
        while (mem::Buffer* b = take()) heap.release(b);
    }
};

struct Pipe {
    char name[64];
    uint32_t users = 0;
    Inbox inbox;
};

enum class Kind : uint8_t { Udp, Tcp, Pipe };

class LoopbackQueue final : public pdpix::Queue {
public:
    LoopbackQueue(LoopbackBackend* be, Kind k, Pipe* pipe = nullptr) : m_be(be), m_kind(k), m_pipe(pipe) {
        m_local.sin_family = AF_INET;
    }
    ~LoopbackQueue() override { close(); }

    Kind kind() const { return m_kind; }
    bool listening() const { return m_listening; }
    const sockaddr_in& local() const { return m_local; }
    Inbox& inbox() { return m_pipe != nullptr ? m_pipe->inbox : m_inbox; }

    Result<void> bind(const sockaddr_in& a) override {
        if (m_kind == Kind::Pipe) return Error::Unsupported;
        if (m_bound) return Error::InvalidArgument;
        const uint16_t port = TRY(m_be->bind_port(this, ntohs(a.sin_port)));
        m_local = a;
        m_local.sin_port = htons(port);
        m_bound = true;
        return {};
    }

    Result<void> listen(int) override {
        if (m_kind != Kind::Tcp || !m_bound) return Error::InvalidArgument;
        m_listening = true;
        return {};
    }

    rt::Task<Result<pdpix::Queue*>> accept(sockaddr_in* peer) override {
        if (!m_listening) co_return Error::InvalidArgument;
        while (m_backlog == nullptr) co_await m_accept_ready.wait();
        LoopbackQueue* c = m_backlog;
        m_backlog = c->m_backlog_next;
        c->m_backlog_next = nullptr;
        *peer = c->m_peer_addr;
        co_return static_cast<pdpix::Queue*>(c);
    }

    rt::Task<Result<void>> connect(sockaddr_in to) override {
        if (m_kind != Kind::Tcp || m_peer != nullptr) co_return Error::InvalidArgument;
        LoopbackQueue* l = m_be->bound(ntohs(to.sin_port), true);
        if (l == nullptr || !l->m_listening) co_return Error::Closed;  // refused
        if (!m_bound) {
            m_local.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            m_local.sin_port = htons(m_be->ephemeral_port());
        }
        // The server end is born connected and waits in the backlog.
        auto* s = new LoopbackQueue(m_be, Kind::Tcp);
        s->m_local = to;
        s->m_peer = this;
        s->m_peer_addr = m_local;
        m_peer = s;
        m_peer_addr = to;
        s->m_backlog_next = nullptr;
        LoopbackQueue** tail = &l->m_backlog;
        while (*tail != nullptr) tail = &(*tail)->m_backlog_next;
        *tail = s;
        l->m_accept_ready.notify_all();
        co_return Result<void>();
    }

    rt::Task<Result<void>> push(mem::Buffer* b, uint32_t off, uint32_t len, const sockaddr_in* to) override {
        Inbox* dest = nullptr;
        if (m_kind == Kind::Pipe) {
            dest = &m_pipe->inbox;
        } else if (m_kind == Kind::Tcp) {
            if (m_peer == nullptr) co_return Error::Closed;
            dest = &m_peer->inbox();
        } else {
            if (to == nullptr) co_return Error::InvalidArgument;  // no connected UDP here
            if (!m_bound) {  // like UDP: the first send binds an ephemeral port
                auto port = m_be->bind_port(this, 0);
                if (!port) co_return port.error();
                m_local.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
                m_local.sin_port = htons(*port);
                m_bound = true;
            }
            LoopbackQueue* d = m_be->bound(ntohs(to->sin_port), false);
            if (d == nullptr) co_return Result<void>();  // like UDP: nobody listening, dropped
            dest = &d->inbox();
        }
        auto copy = m_be->heap().alloc(len);
        if (!copy) co_return copy.error();
        memcpy((*copy)->data(), b->data() + off, len);
        (*copy)->app_owned = false;  // owned by the queue until popped
        memcpy((*copy)->meta, &m_local, sizeof m_local);
        dest->append(*copy);
        co_return Result<void>();
    }

    rt::Task<Result<mem::Buffer*>> pop(sockaddr_in* from) override {
        for (;;) {
            if (mem::Buffer* b = inbox().take()) {
                b->app_owned = true;
                memcpy(from, b->meta, sizeof *from);
                co_return b;
            }
            if (inbox().eof) {
                auto e = m_be->heap().alloc(0);  // zero length: end of stream
                if (!e) co_return e.error();
                co_return *e;
            }
            co_await inbox().ready.wait();
        }
    }

    void close() override {
        if (m_closed) return;
        m_closed = true;
        if (m_bound) m_be->unbind(this);
        if (m_peer != nullptr) {
            m_peer->m_peer = nullptr;
            m_peer->m_inbox.eof = true;
            m_peer->m_inbox.ready.notify_all();
            m_peer = nullptr;
        }
        while (LoopbackQueue* c = m_backlog) {  // never accepted
            m_backlog = c->m_backlog_next;
            delete c;
        }
        if (m_pipe != nullptr) {
            m_be->drop_pipe(m_pipe);
            m_pipe = nullptr;
        }
        m_inbox.drain(m_be->heap());
    }

    Result<void> getpeername(sockaddr_in* out) override {
        if (m_kind != Kind::Tcp || m_peer == nullptr) return Error::Closed;
        *out = m_peer_addr;
        return {};
    }

private:
    LoopbackBackend* m_be;
    Kind m_kind;
    Pipe* m_pipe;
    sockaddr_in m_local{};
    sockaddr_in m_peer_addr{};
    LoopbackQueue* m_peer = nullptr;
    LoopbackQueue* m_backlog = nullptr;
    LoopbackQueue* m_backlog_next = nullptr;
    rt::Notifier m_accept_ready;
    Inbox m_inbox;
    bool m_bound = false;
    bool m_listening = false;
    bool m_closed = false;
};

LoopbackBackend::~LoopbackBackend() {
    for (Pipe*& p : m_pipes) {
        delete p;
        p = nullptr;
    }
}

Result<void> LoopbackBackend::start(rt::Executor&, mem::DmaHeap& heap) {
    m_heap = &heap;
    return {};
}

Result<pdpix::Queue*> LoopbackBackend::socket(int domain, int type, int) {
    if (domain != AF_INET) return Error::Unsupported;
    if (type == SOCK_DGRAM) return static_cast<pdpix::Queue*>(new LoopbackQueue(this, Kind::Udp));
    if (type == SOCK_STREAM) return static_cast<pdpix::Queue*>(new LoopbackQueue(this, Kind::Tcp));
    return Error::Unsupported;
}

Result<pdpix::Queue*> LoopbackBackend::create_pipe(const char* name) {
    if (strlen(name) >= sizeof(Pipe::name)) return Error::InvalidArgument;
    for (Pipe* p : m_pipes) {
        if (p != nullptr && strcmp(p->name, name) == 0) return Error::Exists;
    }
    for (Pipe*& p : m_pipes) {
        if (p != nullptr) continue;
        p = new Pipe();
        strcpy(p->name, name);
        p->users = 1;
        return static_cast<pdpix::Queue*>(new LoopbackQueue(this, Kind::Pipe, p));
    }
    return Error::Full;
}

Result<pdpix::Queue*> LoopbackBackend::open_pipe(const char* name) {
    for (Pipe* p : m_pipes) {
        if (p != nullptr && strcmp(p->name, name) == 0) {
            ++p->users;
            return static_cast<pdpix::Queue*>(new LoopbackQueue(this, Kind::Pipe, p));
        }
    }
    return Error::NotFound;
}

void LoopbackBackend::drop_pipe(Pipe* p) {
    if (--p->users != 0) return;
    p->inbox.drain(*m_heap);
    for (Pipe*& slot : m_pipes) {
        if (slot == p) slot = nullptr;
    }
    delete p;
}

void LoopbackBackend::destroy(pdpix::Queue* q) { delete q; }

Result<uint16_t> LoopbackBackend::bind_port(LoopbackQueue* q, uint16_t port) {
    if (port == 0) port = ephemeral_port();
    if (bound(port, q->kind() == Kind::Tcp) != nullptr) return Error::Exists;
    for (LoopbackQueue*& s : m_bound) {
        if (s == nullptr) {
            s = q;
            return port;
        }
    }
    return Error::Full;
}

void LoopbackBackend::unbind(LoopbackQueue* q) {
    for (LoopbackQueue*& s : m_bound) {
        if (s == q) s = nullptr;
    }
}

LoopbackQueue* LoopbackBackend::bound(uint16_t port, bool stream) {
    for (LoopbackQueue* s : m_bound) {
        if (s != nullptr && ntohs(s->local().sin_port) == port && (s->kind() == Kind::Tcp) == stream) return s;
    }
    return nullptr;
}

uint16_t LoopbackBackend::ephemeral_port() { return m_next_port++; }

}  // namespace ringlet::backend
