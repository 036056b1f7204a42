// ringlet_chksum (net/checksum.cc), lwIP's LWIP_CHKSUM: against a plain
// RFC 1071 byte-pair sum for every length 0..2000 at every start offset 0..7,
// and against checksums of known packets; the vector loop's algorithm
// (chksum_lane_model: its lanes in portable C++) and the
// scalar one by name against the same reference. The vector instructions
// themselves run in the guest (user/vcheck, ctest qemu.rvv_checksum).
#include "net/checksum.h"

#include <gtest/gtest.h>

#include <stdint.h>
#include <string.h>

#include <random>
#include <vector>

namespace {

// RFC 1071, section 4.1, byte by byte: data[0] is the high byte of the first
// 16-bit word, an odd last byte is padded with zero; the folded sum is then
// swapped to host order, which is what lwIP's LWIP_CHKSUM returns.
uint16_t reference(const unsigned char* data, size_t len) {
    uint64_t sum = 0;
    for (size_t i = 0; i + 1 < len; i += 2) sum += static_cast<uint64_t>(data[i]) << 8 | data[i + 1];
    if (len & 1) sum += static_cast<uint64_t>(data[len - 1]) << 8;
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<uint16_t>((sum << 8 | sum >> 8) & 0xffff);
}

// The checksum as it lands in a header: the inverted sum stored natively.
std::vector<unsigned char> stored(uint16_t chksum) {
    const uint16_t field = static_cast<uint16_t>(~chksum);
    std::vector<unsigned char> b(2);
    memcpy(b.data(), &field, 2);
    return b;
}

TEST(ChecksumTest, EveryLengthAndStartOffsetMatchesRfc1071) {
    std::mt19937 rng(1071);
    // Aligned at 16 by the allocator, so offsets 0..7 give every residue mod 8.
    std::vector<unsigned char> buf(8 + 2000);
    for (int round = 0; round < 2; ++round) {
        for (auto& b : buf) b = static_cast<unsigned char>(rng());
        for (size_t off = 0; off < 8; ++off) {
            for (size_t len = 0; len <= 2000; ++len) {
                ASSERT_EQ(ringlet_chksum(buf.data() + off, static_cast<int>(len)), reference(buf.data() + off, len))
                    << "offset " << off << " length " << len;
            }
        }
    }
}

// All-ones data: every 64-bit add carries, the sum is 0xffff (negative zero),
// never 0; all-zero data sums to 0.
TEST(ChecksumTest, CarriesAndZero) {
    std::vector<unsigned char> ones(70000, 0xff), zeros(100, 0);
    for (size_t off = 0; off < 8; ++off) {
        for (size_t len : {1u, 2u, 7u, 8u, 33u, 1500u, 65535u, 69000u}) {
            EXPECT_EQ(ringlet_chksum(ones.data() + off, static_cast<int>(len)), reference(ones.data() + off, len))
                << "offset " << off << " length " << len;
        }
        EXPECT_EQ(ringlet_chksum(zeros.data() + off, 64), 0u);
    }
    EXPECT_EQ(ringlet_chksum(ones.data(), 0), 0u);
    EXPECT_EQ(ringlet_chksum(ones.data(), -5), 0u);
}

// RFC 1071 section 3's worked example: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2.
TEST(ChecksumTest, Rfc1071Example) {
    const unsigned char data[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    const uint16_t sum = ringlet_chksum(data, sizeof data);
    unsigned char bytes[2];
    memcpy(bytes, &sum, 2);
    EXPECT_EQ(bytes[0], 0xdd);
    EXPECT_EQ(bytes[1], 0xf2);
}

// An IPv4 header (UDP, 192.168.0.1 -> 192.168.0.199) whose checksum is b861,
// summed at every start parity: computing it over the zeroed field gives the
// field, and the whole header sums to 0xffff.
TEST(ChecksumTest, KnownIpv4Header) {
    const unsigned char header[20] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                                      0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
    for (size_t off = 0; off < 8; ++off) {
        std::vector<unsigned char> buf(off + sizeof header);
        memcpy(buf.data() + off, header, sizeof header);
        EXPECT_EQ(ringlet_chksum(buf.data() + off, sizeof header), 0xffffu) << "offset " << off;
        buf[off + 10] = buf[off + 11] = 0;
        EXPECT_EQ(stored(ringlet_chksum(buf.data() + off, sizeof header)), (std::vector<unsigned char>{0xb8, 0x61}))
            << "offset " << off;
    }
}

// An ICMP echo request (type 8, id 1, seq 1, payload "abcd"): its checksum
// is ~(0800 + 0001 + 0001 + 6162 + 6364) = 3337.
TEST(ChecksumTest, KnownIcmpEcho) {
    unsigned char icmp[12] = {0x08, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 'a', 'b', 'c', 'd'};
    const std::vector<unsigned char> field = stored(ringlet_chksum(icmp, sizeof icmp));
    EXPECT_EQ(field, (std::vector<unsigned char>{0x33, 0x37}));
    icmp[2] = field[0];
    icmp[3] = field[1];
    EXPECT_EQ(ringlet_chksum(icmp, sizeof icmp), 0xffffu);
}

// Every lane count the RVV loop can have (VLEN 64..2048 bits gives 8..256
// lanes; fewer tests the strip arithmetic harder), every length 0..1100 at
// every start offset, random data: the head/body/tail split, the short last
// strip that leaves other lanes alone and the final lane sum.
TEST(ChecksumTest, VectorLaneModelMatchesRfc1071) {
    std::mt19937 rng(4285);
    std::vector<unsigned char> buf(8 + 1100);
    for (auto& b : buf) b = static_cast<unsigned char>(rng());
    for (size_t lanes : {1u, 2u, 3u, 8u, 16u, 32u, 256u}) {
        for (size_t off = 0; off < 8; ++off) {
            for (size_t len = 0; len <= 1100; ++len) {
                ASSERT_EQ(ringlet::net::chksum_lane_model(buf.data() + off, static_cast<int>(len), lanes),
                          reference(buf.data() + off, len))
                    << "lanes " << lanes << " offset " << off << " length " << len;
            }
        }
    }
}

// All-ones words in every lane of a long buffer: the 64-bit lanes and the
// final lane sum carry nothing away (the fold does the end-around carries).
TEST(ChecksumTest, VectorLaneModelCarries) {
    std::vector<unsigned char> ones(70000, 0xff);
    for (size_t lanes : {1u, 16u, 256u}) {
        for (size_t len : {65535u, 69000u}) {
            EXPECT_EQ(ringlet::net::chksum_lane_model(ones.data() + 1, static_cast<int>(len), lanes),
                      reference(ones.data() + 1, len));
        }
    }
    EXPECT_EQ(ringlet::net::chksum_lane_model(ones.data(), 100, 0), 0u);
    EXPECT_EQ(ringlet::net::chksum_lane_model(ones.data(), 100, 257), 0u);
}

// The scalar algorithm by name (the guest self-test's reference) is
// ringlet_chksum's wherever the vector loop is not allowed - on a host
// build always, even when asked for (it has no vector loop).
TEST(ChecksumTest, ScalarByNameIsTheDefault) {
    EXPECT_FALSE(ringlet::net::vector_checksum());
    ringlet::net::set_vector_checksum(true);
    EXPECT_FALSE(ringlet::net::vector_checksum());
    std::mt19937 rng(7);
    std::vector<unsigned char> buf(8 + 300);
    for (auto& b : buf) b = static_cast<unsigned char>(rng());
    for (size_t off = 0; off < 8; ++off) {
        for (size_t len = 0; len <= 300; ++len) {
            ASSERT_EQ(ringlet::net::chksum_scalar(buf.data() + off, static_cast<int>(len)),
                      ringlet_chksum(buf.data() + off, static_cast<int>(len)));
        }
    }
}

}  // namespace
