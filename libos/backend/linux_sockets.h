// LinuxBackend: PDPIX sockets over the host's UDP and TCP sockets,
// non-blocking and edge-triggered in one epoll set. A poll task drains
// events in bounded batches; an idle core sleeps in epoll_wait.
#pragma once

#include "libos/backend/host_platform.h"
#include "libos/pdpix/queue.h"

namespace ringlet::backend {

class LinuxBackend final : public pdpix::Backend {
public:
    static Result<LinuxBackend*> create();
    ~LinuxBackend() override;
    rt::Platform& platform() override { return *m_epoll; }
    Result<void> start(rt::Executor& exec, mem::DmaHeap& heap) override;
    Result<pdpix::Queue*> socket(int domain, int type, int protocol) override;
    void destroy(pdpix::Queue* q) override;

    // For sockets: wrap an fd (accepted or new) into a queue.
    Result<pdpix::Queue*> adopt(int fd, bool stream);
    EpollPlatform& epoll() { return *m_epoll; }
    mem::DmaHeap& heap() { return *m_heap; }

private:
    explicit LinuxBackend(EpollPlatform* e) : m_epoll(e) {}
    EpollPlatform* m_epoll;
    mem::DmaHeap* m_heap = nullptr;
    rt::Executor* m_exec = nullptr;
    rt::TaskId m_poller;
};

}  // namespace ringlet::backend
