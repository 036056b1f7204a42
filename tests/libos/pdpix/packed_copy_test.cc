// copy_packed/copy_bytes: the word copies of PDPIX's packed structs give the
// same bytes as memcpy whatever the alignment of either side, and touch
// nothing outside the destination.
#include "libos/pdpix/packed_copy.h"

#include <gtest/gtest.h>
#include <string.h>

#include "demi/types.h"

namespace ringlet::pdpix {
namespace {

template <size_t N>
void check_all_alignments() {
    alignas(8) unsigned char src_space[N + 16];
    alignas(8) unsigned char dst_space[N + 16];
    for (size_t i = 0; i < sizeof src_space; ++i) src_space[i] = static_cast<unsigned char>(i * 13 + 5);
    for (size_t s = 0; s < 8; ++s) {
        for (size_t d = 0; d < 8; ++d) {
            memset(dst_space, 0xee, sizeof dst_space);
            copy_bytes<N>(dst_space + d, src_space + s);
            EXPECT_EQ(memcmp(dst_space + d, src_space + s, N), 0) << N << " bytes, src +" << s << " dst +" << d;
            for (size_t i = 0; i < d; ++i) EXPECT_EQ(dst_space[i], 0xee);
            for (size_t i = d + N; i < sizeof dst_space; ++i) EXPECT_EQ(dst_space[i], 0xee);
        }
    }
}

TEST(PackedCopy, EverySizeInUseAtEveryAlignment) {
    check_all_alignments<sizeof(demi_qresult_t)>();  // 64: whole words
    check_all_alignments<sizeof(demi_sgarray_t)>();  // 40
    check_all_alignments<sizeof(sockaddr_in)>();     // 16
    check_all_alignments<12>();                      // words and a half
}

TEST(PackedCopy, CopiesAPackedStructLikeAssignment) {
    alignas(8) demi_qresult_t a;
    memset(&a, 0, sizeof a);
    a.qr_opcode = DEMI_OPC_POP;
    a.qr_qd = 7;
    a.qr_qt = 0x5200000100000003ull;
    a.qr_ret = 0;
    a.qr_value.sga.sga_numsegs = 1;
    a.qr_value.sga.sga_segs[0].sgaseg_len = 64;
    alignas(8) demi_qresult_t b;
    memset(&b, 0xff, sizeof b);
    copy_packed(&b, &a);
    EXPECT_EQ(memcmp(&a, &b, sizeof a), 0);
}

}  // namespace
}  // namespace ringlet::pdpix
