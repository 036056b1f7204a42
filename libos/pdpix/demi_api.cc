// The demi_* C functions: argument checks, then one LibOs call each, and the
// Error -> errno translation. Nothing else lives at this boundary.
#include <new>
#include <string.h>

#include "demi/libos.h"
#include "demi/sga.h"
#include "demi/wait.h"
#include "libos/mem/dataplane_stats.h"
#include "libos/pdpix/errno_map.h"
#include "libos/pdpix/libos.h"
#include "libos/pdpix/resources.h"
#include "libos/pdpix/ringlet_demi.h"
#include "libos/rt/libos_entry.h"

using ringlet::Error;
using ringlet::Result;
using ringlet::pdpix::LibOs;
using ringlet::pdpix::to_errno;

namespace {
// The LibOs lives in static storage: no general heap on the target.
// Each core's LibOs (slot = its core index) and what it was built from.
// A LibOs is ~300 KiB. On Ringlet the image carries core 0's slot only:
// further cores get memory their backend maps (Resources::libos_memory);
// host threads may each be a core.
#if __STDC_HOSTED__ && !defined(RINGLET_FREESTANDING)
constexpr uint32_t kLibOsSlots = LibOs::kMaxCores;
#else
constexpr uint32_t kLibOsSlots = 1;
#endif
alignas(LibOs) unsigned char g_storage[kLibOsSlots][sizeof(LibOs)];
thread_local ringlet::pdpix::Resources g_resources;

LibOs* os() { return LibOs::instance(); }

// Everything demi_init built, gone: queues closed, operations cancelled,
// memory and the backend returned.
void tear_down() {
    os()->~LibOs();
    LibOs::set_instance(nullptr);
    ringlet::rt::Executor::install(nullptr);
    ringlet::rt::FramePool::install(nullptr);
    ringlet::pdpix::release_resources(g_resources);
    g_resources = {};
}

template <typename T>
int errno_of(const Result<T>& r) {
    if (r.ok()) [[likely]] return 0;  // no table lookup on the common path
    return to_errno(r.error());
}

// argv's "--backend=NAME", if any.
const char* backend_arg(const struct demi_args* args) {
    static const char kFlag[] = "--backend=";
    if (args->argv == nullptr) return nullptr;
    for (int i = 0; i < args->argc; ++i) {
        const char* a = args->argv[i];
        if (a != nullptr && strncmp(a, kFlag, sizeof kFlag - 1) == 0) return a + sizeof kFlag - 1;
    }
    return nullptr;
}
}  // namespace

extern "C" {

int demi_init(const struct demi_args* args) {
    ringlet::rt::LibosEntry in_libos;
    if (args == nullptr || args->argc < 0) return EINVAL;
    if (os() != nullptr) return EEXIST;
    auto res = ringlet::pdpix::acquire_resources(backend_arg(args));
    if (!res) return res.error() == Error::NotFound ? EINVAL : errno_of(res);
    // Where this core's LibOs lives: memory the backend mapped for it (the
    // further cores of a spanned app on Ringlet), else the core's slot here.
    void* slot = res->libos_memory != nullptr ? res->libos_memory
                 : res->core < kLibOsSlots    ? static_cast<void*>(g_storage[res->core])
                                              : nullptr;
    if (slot == nullptr) {
        ringlet::pdpix::release_resources(*res);
        return ENOBUFS;
    }
    auto pool = ringlet::rt::FramePool::create(res->frame_arena, res->frame_bytes);
    auto heap = ringlet::mem::DmaHeap::create(res->dma_region, res->dma_bytes);
    if (!pool || !heap) {
        ringlet::pdpix::release_resources(*res);
        return ENOMEM;
    }
    g_resources = *res;
    LibOs* l = new (slot) LibOs(*res->backend, *pool, *heap, res->storage, res->platform, res->core);
    LibOs::set_instance(l);
    if (auto s = l->start(); !s) {
        tear_down();  // a failed start gives everything back, whatever core it is
        return errno_of(s);
    }
    return 0;
}

int ringlet_demi_shutdown(void) {
    ringlet::rt::LibosEntry in_libos;
    if (os() == nullptr) return ENOSYS;
    if (auto may = ringlet::pdpix::begin_release(g_resources); !may) return errno_of(may);
    tear_down();
    return 0;
}

int ringlet_demi_stats(struct ringlet_demi_stats* out) {
    ringlet::rt::LibosEntry in_libos;
    if (out == nullptr) return EINVAL;
    const ringlet::mem::DataplaneStats& s = ringlet::mem::g_dataplane_stats;
    out->payload_bytes_copied = s.payload_bytes_copied;
    out->rx_lent = s.rx_lent;
    out->rx_copied = s.rx_copied;
    out->tx_in_place = s.tx_in_place;
    out->tx_by_reference = s.tx_by_reference;
    out->udp_rx_dropped = s.udp_rx_dropped;
    out->tcp_half_open_evicted = s.tcp_half_open_evicted;
    out->tcp_syn_dropped = s.tcp_syn_dropped;
    out->dma_bytes_live = os() != nullptr ? os()->heap().bytes_live() : 0;
    out->dma_bytes_total = os() != nullptr ? os()->heap().bytes_total() : 0;
    return 0;
}

int demi_create_pipe(int* memqd_out, const char* name) {
    ringlet::rt::LibosEntry in_libos;
    if (os() == nullptr) return ENOSYS;
    if (memqd_out == nullptr) return EINVAL;
    auto r = os()->create_pipe(name);
    if (r) *memqd_out = *r;
    return errno_of(r);
}

int demi_open_pipe(int* memqd_out, const char* name) {
    ringlet::rt::LibosEntry in_libos;
    if (os() == nullptr) return ENOSYS;
    if (memqd_out == nullptr) return EINVAL;
    auto r = os()->open_pipe(name);
    if (r) *memqd_out = *r;
    return errno_of(r);
}

int demi_socket(int* sockqd_out, int domain, int type, int protocol) {
    ringlet::rt::LibosEntry in_libos;
    if (os() == nullptr) return ENOSYS;
    if (sockqd_out == nullptr) return EINVAL;
    auto r = os()->socket(domain, type, protocol);
    if (r) *sockqd_out = *r;
    return errno_of(r);
}

int demi_listen(int sockqd, int backlog) {
    ringlet::rt::LibosEntry in_libos;
    if (os() == nullptr) return ENOSYS;
    return errno_of(os()->listen(sockqd, backlog));
}

int demi_bind(int sockqd, const struct sockaddr* addr, socklen_t size) {
    ringlet::rt::LibosEntry in_libos;
    if (os() == nullptr) return ENOSYS;
    return errno_of(os()->bind(sockqd, addr, size));
}

int demi_accept(demi_qtoken_t* qt_out, int sockqd) {
    ringlet::rt::LibosEntry in_libos;
    if (os() == nullptr) return ENOSYS;
    if (qt_out == nullptr) return EINVAL;
    auto r = os()->start_accept(sockqd);
    if (r) *qt_out = *r;
    return errno_of(r);
}

int demi_connect(demi_qtoken_t* qt_out, int sockqd, const struct sockaddr* addr, socklen_t size) {
    ringlet::rt::LibosEntry in_libos;
    if (os() == nullptr) return ENOSYS;
    if (qt_out == nullptr) return EINVAL;
    auto r = os()->start_connect(sockqd, addr, size);
    if (r) *qt_out = *r;
    return errno_of(r);
}

int demi_close(int qd) {
    ringlet::rt::LibosEntry in_libos;
    if (os() == nullptr) return ENOSYS;
    return errno_of(os()->close(qd));
}

int demi_push(demi_qtoken_t* qt_out, int qd, const demi_sgarray_t* sga) {
    ringlet::rt::LibosEntry in_libos;
    if (os() == nullptr) return ENOSYS;
    if (qt_out == nullptr) return EINVAL;
    auto r = os()->start_push(qd, sga, nullptr, 0);
    if (r) *qt_out = *r;
    return errno_of(r);
}

int demi_pushto(demi_qtoken_t* qt_out, int sockqd, const demi_sgarray_t* sga, const struct sockaddr* dest_addr,
                socklen_t size) {
    ringlet::rt::LibosEntry in_libos;
    if (os() == nullptr) return ENOSYS;
    if (qt_out == nullptr || dest_addr == nullptr) return EINVAL;
    auto r = os()->start_push(sockqd, sga, dest_addr, size);
    if (r) *qt_out = *r;
    return errno_of(r);
}

int demi_pop(demi_qtoken_t* qt_out, int qd) {
    ringlet::rt::LibosEntry in_libos;
    if (os() == nullptr) return ENOSYS;
    if (qt_out == nullptr) return EINVAL;
    auto r = os()->start_pop(qd);
    if (r) *qt_out = *r;
    return errno_of(r);
}

int demi_setsockopt(int qd, int level, int optname, const void* optval, socklen_t optlen) {
    ringlet::rt::LibosEntry in_libos;
    if (os() == nullptr) return ENOSYS;
    return errno_of(os()->setsockopt(qd, level, optname, optval, optlen));
}

int demi_getsockopt(int qd, int level, int optname, void* optval, socklen_t* optlen) {
    ringlet::rt::LibosEntry in_libos;
    if (os() == nullptr) return ENOSYS;
    return errno_of(os()->getsockopt(qd, level, optname, optval, optlen));
}

int demi_getpeername(int qd, struct sockaddr* addr, socklen_t* addrlen) {
    ringlet::rt::LibosEntry in_libos;
    if (os() == nullptr) return ENOSYS;
    return errno_of(os()->getpeername(qd, addr, addrlen));
}

// demi_sgafree() of anything but the usual case (out of line: its frame
// and checks are not paid by the leaf below).
[[gnu::noinline]] static int sgafree_slow(demi_sgarray_t* sga) {
    if (os() == nullptr) return ENOSYS;
    return errno_of(os()->sgafree(sga));
}

int demi_sgafree(demi_sgarray_t* sga) {
    ringlet::rt::LibosEntry in_libos;
    LibOs* l = os();
    if (l != nullptr && l->sgafree_shared(sga)) [[likely]] return 0;
    return sgafree_slow(sga);
}

demi_sgarray_t demi_sgaalloc(size_t len) {
    ringlet::rt::LibosEntry in_libos;
    demi_sgarray_t sga;
    memset(&sga, 0, sizeof sga);  // sga_numsegs == 0 reports failure
    if (os() == nullptr) return sga;
    auto r = os()->sgaalloc(len);
    return r ? *r : sga;
}

int ringlet_demi_blk_open(int* qd_out) {
    ringlet::rt::LibosEntry in_libos;
    if (os() == nullptr) return ENOSYS;
    if (qd_out == nullptr) return EINVAL;
    auto r = os()->blk_open();
    if (r) *qd_out = *r;
    return r.error() == Error::NotFound ? ENODEV : errno_of(r);
}

int ringlet_demi_blk_capacity(int qd, uint64_t* bytes_out) {
    ringlet::rt::LibosEntry in_libos;
    if (os() == nullptr) return ENOSYS;
    if (bytes_out == nullptr) return EINVAL;
    auto r = os()->capacity(qd);
    if (r) *bytes_out = *r;
    return errno_of(r);
}

int ringlet_demi_pushat(demi_qtoken_t* qt_out, int qd, const demi_sgarray_t* sga, uint64_t offset) {
    ringlet::rt::LibosEntry in_libos;
    if (os() == nullptr) return ENOSYS;
    if (qt_out == nullptr) return EINVAL;
    auto r = os()->start_pushat(qd, sga, offset);
    if (r) *qt_out = *r;
    return errno_of(r);
}

int ringlet_demi_popat(demi_qtoken_t* qt_out, int qd, uint64_t offset, uint32_t len) {
    ringlet::rt::LibosEntry in_libos;
    if (os() == nullptr) return ENOSYS;
    if (qt_out == nullptr) return EINVAL;
    auto r = os()->start_popat(qd, offset, len);
    if (r) *qt_out = *r;
    return errno_of(r);
}

int ringlet_demi_flush(demi_qtoken_t* qt_out, int qd) {
    ringlet::rt::LibosEntry in_libos;
    if (os() == nullptr) return ENOSYS;
    if (qt_out == nullptr) return EINVAL;
    auto r = os()->start_flush(qd);
    if (r) *qt_out = *r;
    return errno_of(r);
}

int demi_wait(demi_qresult_t* qr_out, demi_qtoken_t qt, const struct timespec* timeout) {
    ringlet::rt::LibosEntry in_libos;
    if (os() == nullptr) return ENOSYS;
    return os()->wait(qr_out, qt, timeout);
}

// demi_wait_any: in wait.cc, where LibOs::wait_any inlines into it.

int demi_wait_next_n(demi_qresult_t* qr_out, int num_qrs, int* num_qrs_out, const struct timespec* timeout) {
    ringlet::rt::LibosEntry in_libos;
    if (os() == nullptr) return ENOSYS;
    return os()->wait_next_n(qr_out, num_qrs, num_qrs_out, timeout);
}

int demi_wait_all(demi_qresult_t* qr_out, const demi_qtoken_t qts[], int num_qts, const struct timespec* timeout) {
    ringlet::rt::LibosEntry in_libos;
    if (os() == nullptr) return ENOSYS;
    return os()->wait_all(qr_out, qts, num_qts, timeout);
}

}  // extern "C"
