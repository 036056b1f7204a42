// MmioWindow: 8/16/32-bit register access to one virtio-mmio device, plus
// the memory fences the virtqueue code needs.
//
// Two builds of the same final class, chosen at compile time so neither pays
// for the other:
//   target (default): volatile loads and stores at base + offset, RISC-V
//     fences around them (the same I/O ordering Linux's readl/writel give);
//   host (RINGLET_VIRTIO_FAKE_MMIO=1, set by drivers/virtio/CMakeLists.txt
//     for the host configuration): every access goes to an MmioDevice, a
//     fake device model in the tests.
// The window is a single pointer, cheap to copy; the drivers keep one each.
// Registers are little-endian (virtio 1.2 section 4.2.2); so are rv64 and the
// hosts we build on, which the static_assert below pins down.
#pragma once

#include <stddef.h>
#include <stdint.h>

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "virtio modern registers and rings are little-endian; add byte swaps for a big-endian CPU");

namespace ringlet::virtio {

// Ordering needed between the driver's accesses to shared ring memory.
enum class Fence : uint8_t {
    Write,  // earlier stores become visible before later stores (publish)
    Read,   // earlier loads complete before later loads (consume)
    Full,   // earlier loads and stores before later loads and stores
    // Full, and holding on QEMU's single-threaded TCG too: there a RISC-V
    // fence emits no host barrier (QEMU elides barriers unless it runs
    // several vCPU threads), so a store to the ring can still sit in the
    // host's store buffer when the next load reads the ring, while QEMU's
    // device thread reads the old value - both sides miss each other and an
    // interrupt is lost (seen: TCP echo waiting ~250 ms, for lwIP's timer).
    // A register read goes through QEMU's device path, which takes a lock:
    // a real host barrier. On hardware, one uncached read: only where a
    // core is about to sleep.
    Device,
};

#if defined(RINGLET_VIRTIO_FAKE_MMIO) && RINGLET_VIRTIO_FAKE_MMIO

// The host-side stand-in for a device's register file (tests only).
class MmioDevice {
public:
    // The value of the `width`-byte register at `offset` (width 1, 2 or 4).
    virtual uint32_t mmio_read(uint32_t offset, uint32_t width) = 0;
    // Stores the low `width` bytes of `value` at `offset`.
    virtual void mmio_write(uint32_t offset, uint32_t value, uint32_t width) = 0;
    // Told about every fence the driver issues (lets a test count them).
    virtual void mmio_fence(Fence) {}

protected:
    ~MmioDevice() = default;
};

class MmioWindow final {
public:
    MmioWindow() = default;
    // A window onto the fake device `device` (not owned; outlives the window).
    explicit MmioWindow(MmioDevice* device) : m_device(device) {}

    bool valid() const { return m_device != nullptr; }
    uint32_t read32(uint32_t offset) const { return m_device->mmio_read(offset, 4); }
    uint16_t read16(uint32_t offset) const { return static_cast<uint16_t>(m_device->mmio_read(offset, 2)); }
    uint8_t read8(uint32_t offset) const { return static_cast<uint8_t>(m_device->mmio_read(offset, 1)); }
    void write32(uint32_t offset, uint32_t value) const { m_device->mmio_write(offset, value, 4); }
    void fence(Fence f) const {
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        m_device->mmio_fence(f);
    }

private:
    MmioDevice* m_device = nullptr;
};

#else

class MmioWindow final {
public:
    MmioWindow() = default;
    // A window at virtual address `base`, which maps the device's register
    // page uncached (the kernel grants this mapping to the app).
    explicit MmioWindow(uintptr_t base) : m_base(base) {}

    bool valid() const { return m_base != 0; }

    // Loads: the "fence i,ir" after the load keeps later memory reads (the
    // used ring after an InterruptStatus read) from passing the I/O read.
    uint32_t read32(uint32_t offset) const {
        uint32_t v = *reinterpret_cast<volatile const uint32_t*>(m_base + offset);
        io_after_read();
        return v;
    }
    uint16_t read16(uint32_t offset) const {
        uint16_t v = *reinterpret_cast<volatile const uint16_t*>(m_base + offset);
        io_after_read();
        return v;
    }
    uint8_t read8(uint32_t offset) const {
        uint8_t v = *reinterpret_cast<volatile const uint8_t*>(m_base + offset);
        io_after_read();
        return v;
    }
    // Stores: the "fence w,o" before the store makes ring updates visible to
    // the device before it sees the write (the QueueNotify doorbell).
    void write32(uint32_t offset, uint32_t value) const {
        io_before_write();
        *reinterpret_cast<volatile uint32_t*>(m_base + offset) = value;
    }

    void fence(Fence f) const {
#if defined(__riscv)
        switch (f) {
        case Fence::Write: asm volatile("fence w, w" ::: "memory"); break;
        case Fence::Read: asm volatile("fence r, r" ::: "memory"); break;
        case Fence::Full: asm volatile("fence rw, rw" ::: "memory"); break;
        case Fence::Device:
            asm volatile("fence rw, rw" ::: "memory");
            (void)read32(0);  // MagicValue: no side effect
            break;
        }
#else
        (void)f;
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
#endif
    }

private:
    static void io_after_read() {
#if defined(__riscv)
        asm volatile("fence i, ir" ::: "memory");
#else
        __atomic_signal_fence(__ATOMIC_SEQ_CST);
#endif
    }
    static void io_before_write() {
#if defined(__riscv)
        asm volatile("fence w, o" ::: "memory");
#else
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
#endif
    }

    uintptr_t m_base = 0;
};

#endif

// A DMA-visible memory range: the driver touches it through `va`, the device
// through `pa` (the kernel tells the app the physical address of each frame
// it grants; the range must be physically contiguous).
struct DmaSpan {
    uint8_t* va = nullptr;
    uint64_t pa = 0;
    uint32_t len = 0;
};

}  // namespace ringlet::virtio
