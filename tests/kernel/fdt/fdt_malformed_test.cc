// Broken blobs: every one must come back as an Error value, never a crash,
// an out-of-bounds read (run under ASan/UBSan) or a hang.
#include "kernel/fdt/fdt.h"

#include <gtest/gtest.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "tests/kernel/fdt/fdt_test_support.h"

namespace ringlet {
namespace {

using test::FdtBuilder;
using test::get_be32;
using test::load_dtb;
using test::put_be32;

Error create_error(const std::vector<uint8_t>& blob, size_t max_len) {
    // A tight heap copy, so ASan flags any read past max_len.
    std::unique_ptr<uint8_t[]> copy(new uint8_t[max_len == 0 ? 1 : max_len]);
    std::copy(blob.begin(), blob.begin() + std::min(blob.size(), max_len), copy.get());
    return FdtReader::create(copy.get(), max_len).error();
}

Error create_error(const std::vector<uint8_t>& blob) { return create_error(blob, blob.size()); }

Error parse_error(const std::vector<uint8_t>& blob) {
    std::unique_ptr<uint8_t[]> copy(new uint8_t[blob.size()]);
    std::copy(blob.begin(), blob.end(), copy.get());
    auto info = std::make_unique<BootInfo>();
    return parse_boot_info(copy.get(), blob.size(), *info).error();
}

TEST(FdtMalformed, MinimalBlobIsValid) {
    EXPECT_EQ(create_error(test::minimal_blob()), Error::Ok);
    EXPECT_EQ(parse_error(test::minimal_blob()), Error::Ok);
}

TEST(FdtMalformed, NullBlob) {
    EXPECT_EQ(FdtReader::create(nullptr, 100).error(), Error::InvalidArgument);
    BootInfo info;
    EXPECT_EQ(parse_boot_info(nullptr, 100, info).error(), Error::InvalidArgument);
}

TEST(FdtMalformed, TruncatedAtEveryLength) {
    std::vector<uint8_t> blob = load_dtb("qemu-virt-4hart-chosen.dtb");
    for (size_t len = 0; len < blob.size(); ++len) {
        Error e = create_error(blob, len);
        ASSERT_EQ(e, Error::Truncated) << "len " << len;
    }
    EXPECT_EQ(create_error(blob, blob.size()), Error::Ok);
}

TEST(FdtMalformed, TotalSizeShrunkToEveryLength) {
    // The header claims a shorter blob, so its blocks stick out of it.
    std::vector<uint8_t> blob = load_dtb("qemu-virt-4hart.dtb");
    for (size_t len = 40; len < blob.size(); ++len) {
        std::vector<uint8_t> cut(blob.begin(), blob.begin() + len);
        put_be32(cut, test::kHdrTotalSize, uint32_t(len));
        ASSERT_NE(create_error(cut), Error::Ok) << "len " << len;
    }
}

TEST(FdtMalformed, StructBlockCutAtEveryWord) {
    std::vector<uint8_t> blob = load_dtb("qemu-virt-4hart.dtb");
    uint32_t size = get_be32(blob, test::kHdrSizeStruct);
    for (uint32_t s = 0; s < size; s += 4) {
        put_be32(blob, test::kHdrSizeStruct, s);
        Error e = create_error(blob);
        ASSERT_TRUE(e == Error::Truncated || e == Error::BadFormat) << s << " " << error_name(e);
    }
}

TEST(FdtMalformed, HeaderFields) {
    const std::vector<uint8_t> good = load_dtb("qemu-virt-1hart.dtb");
    auto with = [&](size_t off, uint32_t v) {
        std::vector<uint8_t> b = good;
        put_be32(b, off, v);
        return create_error(b);
    };
    EXPECT_EQ(with(test::kHdrMagic, 0xfeedd00d), Error::BadFormat);
    EXPECT_EQ(with(test::kHdrVersion, 15), Error::Unsupported);
    EXPECT_EQ(with(test::kHdrLastComp, 18), Error::Unsupported);
    std::vector<uint8_t> older = good;  // claims compatibility with a newer version than itself
    put_be32(older, test::kHdrVersion, 16);
    put_be32(older, test::kHdrLastComp, 17);
    EXPECT_EQ(create_error(older), Error::BadFormat);
    EXPECT_EQ(with(test::kHdrTotalSize, uint32_t(good.size() + 1)), Error::Truncated);
    EXPECT_EQ(with(test::kHdrTotalSize, 0xffffffff), Error::Truncated);
    EXPECT_EQ(with(test::kHdrTotalSize, 12), Error::BadFormat);
    const uint32_t past_end4 = uint32_t((good.size() + 3) & ~size_t(3));
    const uint32_t past_end8 = uint32_t((good.size() + 7) & ~size_t(7));
    EXPECT_EQ(with(test::kHdrOffStruct, past_end4), Error::OutOfRange);
    EXPECT_EQ(with(test::kHdrOffStruct, 0xfffffff0), Error::OutOfRange);
    EXPECT_EQ(with(test::kHdrOffStruct, 0x3a), Error::BadFormat);  // unaligned
    EXPECT_EQ(with(test::kHdrOffStruct, 0), Error::BadFormat);     // overlaps the header
    EXPECT_EQ(with(test::kHdrOffStrings, uint32_t(good.size())), Error::OutOfRange);
    EXPECT_EQ(with(test::kHdrOffStrings, 0xffffff00), Error::OutOfRange);
    EXPECT_EQ(with(test::kHdrSizeStrings, 0xffffffff), Error::OutOfRange);
    EXPECT_EQ(with(test::kHdrSizeStruct, 0xfffffffc), Error::OutOfRange);
    EXPECT_EQ(with(test::kHdrOffRsvmap, past_end8), Error::OutOfRange);
    // Starts inside the blob, but no whole 16-byte entry (so no terminator) fits.
    EXPECT_EQ(with(test::kHdrOffRsvmap, uint32_t((good.size() - 8) & ~size_t(7))), Error::Truncated);
    EXPECT_EQ(with(test::kHdrOffRsvmap, 0xfffffff8), Error::OutOfRange);
    EXPECT_EQ(with(test::kHdrOffRsvmap, 0x2c), Error::BadFormat);  // not 8-aligned
}

TEST(FdtMalformed, VersionSixteenHasNoStructSize) {
    // v16 headers end before size_dt_struct; the block then runs to the blob's end.
    std::vector<uint8_t> b = test::minimal_blob();
    put_be32(b, test::kHdrVersion, 16);
    put_be32(b, test::kHdrSizeStruct, 0xdeadbeef);  // must be ignored
    EXPECT_EQ(create_error(b), Error::Ok);
}

TEST(FdtMalformed, MemreserveWithoutTerminator) {
    FdtBuilder b;
    b.reserve(0x80000000, 0x1000);
    std::vector<uint8_t> blob = b.finish(false);  // no struct block, no terminator: runs off the end
    EXPECT_EQ(create_error(blob), Error::Truncated);
}

// A blob whose root node holds `body`, then END.
template <typename Body>
std::vector<uint8_t> blob_with(Body body, bool end_token = true) {
    FdtBuilder b;
    b.begin_node("");
    body(b);
    b.end_node();
    if (end_token) b.end();
    return b.finish();
}

TEST(FdtMalformed, PropertyLengthPastBlock) {
    auto blob = blob_with([](FdtBuilder& b) { b.prop_raw(0x1000, b.string_offset("reg"), {1, 2, 3, 4}); });
    EXPECT_EQ(create_error(blob), Error::Truncated);
    auto huge = blob_with([](FdtBuilder& b) { b.prop_raw(0xfffffff8, b.string_offset("reg"), {}); });
    EXPECT_EQ(create_error(huge), Error::Truncated);
}

TEST(FdtMalformed, PropertyNameOutsideStrings) {
    auto blob = blob_with([](FdtBuilder& b) {
        b.string_offset("abc");
        b.prop_raw(0, uint32_t(b.strings_size()), {});
    });
    EXPECT_EQ(create_error(blob), Error::OutOfRange);
    auto far = blob_with([](FdtBuilder& b) { b.prop_raw(0, 0x7fffffff, {}); });
    EXPECT_EQ(create_error(far), Error::OutOfRange);
}

TEST(FdtMalformed, PropertyNameUnterminatedInStrings) {
    FdtBuilder b;
    b.begin_node("");
    b.prop_raw(0, 0, {});
    b.end_node();
    b.end();
    std::vector<uint8_t> blob = b.finish();
    blob.insert(blob.end(), {'a', 'b', 'c'});  // strings block "abc" with no NUL
    put_be32(blob, test::kHdrSizeStrings, 3);
    put_be32(blob, test::kHdrTotalSize, uint32_t(blob.size()));
    EXPECT_EQ(create_error(blob), Error::BadFormat);
}

TEST(FdtMalformed, UnterminatedNodeName) {
    FdtBuilder b;
    b.token(FdtBuilder::kBeginNode);
    b.raw({'r', 'o', 'o', 't'});
    EXPECT_EQ(create_error(b.finish()), Error::Truncated);
}

TEST(FdtMalformed, MissingEndToken) {
    EXPECT_EQ(create_error(blob_with([](FdtBuilder&) {}, false)), Error::Truncated);
    EXPECT_EQ(create_error(FdtBuilder().finish()), Error::Truncated);  // empty struct block
}

TEST(FdtMalformed, EndlessNops) {
    FdtBuilder b;
    for (int i = 0; i < 20000; ++i) b.nop();
    EXPECT_EQ(create_error(b.finish()), Error::Truncated);
    std::vector<uint8_t> nops(4 * 5000, 0);
    for (size_t i = 3; i < nops.size(); i += 4) nops[i] = 4;
    FdtBuilder c;
    c.begin_node("");
    c.end_node();
    c.raw(nops);
    EXPECT_EQ(create_error(c.finish()), Error::Truncated);
    // NOPs where they are allowed are fine.
    FdtBuilder d;
    d.nop();
    d.begin_node("");
    d.nop();
    d.prop_cells("#address-cells", {2});
    d.nop();
    d.end_node();
    d.nop();
    d.end();
    EXPECT_EQ(create_error(d.finish()), Error::Ok);
}

std::vector<uint8_t> nested(uint32_t levels) {
    FdtBuilder b;
    for (uint32_t i = 0; i < levels; ++i) b.begin_node(i == 0 ? "" : "n");
    for (uint32_t i = 0; i < levels; ++i) b.end_node();
    b.end();
    return b.finish();
}

TEST(FdtMalformed, NestingDepthLimit) {
    EXPECT_EQ(create_error(nested(FdtReader::kMaxDepth + 1)), Error::Ok);  // depths 0..kMaxDepth
    EXPECT_EQ(create_error(nested(FdtReader::kMaxDepth + 2)), Error::BadFormat);
    FdtBuilder b;  // endless nesting, never closed
    for (int i = 0; i < 5000; ++i) b.begin_node("x");
    EXPECT_EQ(create_error(b.finish()), Error::BadFormat);
}

TEST(FdtMalformed, UnbalancedNodes) {
    auto extra_end = blob_with([](FdtBuilder& b) { b.end_node(); });
    EXPECT_EQ(create_error(extra_end), Error::BadFormat);
    auto open_at_end = blob_with([](FdtBuilder& b) { b.begin_node("child"); });
    EXPECT_EQ(create_error(open_at_end), Error::BadFormat);
    FdtBuilder two_roots;
    two_roots.begin_node("");
    two_roots.end_node();
    two_roots.begin_node("");
    two_roots.end_node();
    two_roots.end();
    EXPECT_EQ(create_error(two_roots.finish()), Error::BadFormat);
    FdtBuilder end_first;
    end_first.end_node();
    end_first.end();
    EXPECT_EQ(create_error(end_first.finish()), Error::BadFormat);
    FdtBuilder no_root;
    no_root.end();
    EXPECT_EQ(create_error(no_root.finish()), Error::BadFormat);
}

TEST(FdtMalformed, BadTokens) {
    auto unknown = blob_with([](FdtBuilder& b) { b.token(7); });
    EXPECT_EQ(create_error(unknown), Error::BadFormat);
    FdtBuilder prop_outside;
    prop_outside.prop_cells("x", {1});
    prop_outside.begin_node("");
    prop_outside.end_node();
    prop_outside.end();
    EXPECT_EQ(create_error(prop_outside.finish()), Error::BadFormat);
    auto prop_after_child = blob_with([](FdtBuilder& b) {
        b.begin_node("child");
        b.end_node();
        b.prop_cells("late", {1});
    });
    EXPECT_EQ(create_error(prop_after_child), Error::BadFormat);
}

TEST(FdtMalformed, NoMemoryNode) {
    EXPECT_EQ(parse_error(blob_with([](FdtBuilder& b) { test::build_minimal_tree(b, 1, false, true); })),
              Error::NotFound);
    // A memory node of size 0 is no memory either.
    auto empty = blob_with([](FdtBuilder& b) {
        test::build_minimal_tree(b, 1, false, true);
        b.begin_node("memory@0");
        b.prop_str("device_type", "memory");
        b.prop_cells("reg", {0, 0x80000000, 0, 0});
        b.end_node();
    });
    EXPECT_EQ(parse_error(empty), Error::NotFound);
}

TEST(FdtMalformed, NoCpus) {
    EXPECT_EQ(parse_error(blob_with([](FdtBuilder& b) { test::build_minimal_tree(b, 1, true, false); })),
              Error::NotFound);
    EXPECT_EQ(parse_error(blob_with([](FdtBuilder& b) { test::build_minimal_tree(b, 0, true, true); })),
              Error::NotFound);
}

TEST(FdtMalformed, OversizedChosenStrings) {
    auto fits = blob_with([](FdtBuilder& b) {
        test::build_minimal_tree(b, 1, true, true, [](FdtBuilder& c) {
            c.prop_str("bootargs", std::string(BootInfo::kMaxBootargs - 1, 'a'));
        });
    });
    EXPECT_EQ(parse_error(fits), Error::Ok);
    auto args = blob_with([](FdtBuilder& b) {
        test::build_minimal_tree(b, 1, true, true, [](FdtBuilder& c) {
            c.prop_str("bootargs", std::string(BootInfo::kMaxBootargs, 'a'));
        });
    });
    EXPECT_EQ(parse_error(args), Error::OutOfRange);
    auto path = blob_with([](FdtBuilder& b) {
        test::build_minimal_tree(b, 1, true, true, [](FdtBuilder& c) {
            c.prop_str("stdout-path", std::string(BootInfo::kMaxPath, '/') + ":115200");
        });
    });
    EXPECT_EQ(parse_error(path), Error::OutOfRange);
}

TEST(FdtMalformed, TooManyReservedRangesIsAnError) {
    FdtBuilder b;
    for (size_t i = 0; i <= BootInfo::kMaxReserved; ++i) b.reserve(0x80000000 + 0x1000 * i, 0x1000);
    b.begin_node("");
    test::build_minimal_tree(b);
    b.end_node();
    b.end();
    EXPECT_EQ(parse_error(b.finish()), Error::Full);
}

TEST(FdtMalformed, InitrdEndBeforeStart) {
    auto blob = blob_with([](FdtBuilder& b) {
        test::build_minimal_tree(b, 1, true, true, [](FdtBuilder& c) {
            c.prop_cells("linux,initrd-start", {0x2000});
            c.prop_cells("linux,initrd-end", {0x1000});
        });
    });
    EXPECT_EQ(parse_error(blob), Error::BadFormat);
    auto odd = blob_with([](FdtBuilder& b) {  // 12-byte cells: neither u32 nor u64
        test::build_minimal_tree(b, 1, true, true, [](FdtBuilder& c) {
            c.prop_cells("linux,initrd-start", {0, 0, 0x1000});
            c.prop_cells("linux,initrd-end", {0x2000});
        });
    });
    EXPECT_EQ(parse_error(odd), Error::BadFormat);
}

TEST(FdtMalformed, PlicContextListWithDanglingPhandle) {
    auto blob = blob_with([](FdtBuilder& b) {
        test::build_minimal_tree(b);
        b.begin_node("plic@c000000");
        b.prop_str("compatible", "riscv,plic0");
        b.prop_cells("reg", {0, 0xc000000, 0, 0x600000});
        b.prop_cells("interrupts-extended", {0x42, 9});
        b.end_node();
    });
    EXPECT_EQ(parse_error(blob), Error::NotFound);
}

// Mutation fuzzing: random single-byte, bit and word corruptions of a real
// blob. The parser may accept or reject each, but never misbehave; the
// reader's navigation API is exercised on whatever it accepts.
void exercise_reader(const uint8_t* data, size_t len) {
    Result<FdtReader> r = FdtReader::create(data, len);
    auto info = std::make_unique<BootInfo>();
    Result<void> parsed = parse_boot_info(data, len, *info);
    if (!r.ok()) {
        ASSERT_FALSE(parsed.ok());
        return;
    }
    if (parsed.ok()) {
        ASSERT_GT(info->memory_count, 0u);
        ASSERT_GT(info->hart_count, 0u);
        ASSERT_LE(info->hart_count, BootInfo::kMaxHarts);
    }
    size_t nodes = 0;
    r->for_each_node([&](const FdtNode& n) {
        ++nodes;
        for (Result<FdtProperty> p = r->first_property(n); p.ok(); p = r->next_property(*p)) {
            (void)p->has_string("virtio,mmio");
            (void)p->as_string();
            (void)p->as_u64();
        }
        (void)r->reg(n, 0);
        (void)r->first_child(n);
        (void)r->next_sibling(n);
        return nodes < 10000;
    });
    for (const char* path : {"/soc/serial@10000000", "/cpus/cpu@1", "/memory", "serial0", "/chosen"}) {
        (void)r->find_node(path);
    }
    for (uint32_t ph = 1; ph < 12; ++ph) (void)r->find_by_phandle(ph);
}

TEST(FdtFuzz, RandomCorruptionsNeverCrash) {
    const std::vector<uint8_t> good = load_dtb("qemu-virt-4hart-chosen.dtb");
    ASSERT_FALSE(good.empty());
    std::mt19937 rng(0x52494e47);  // fixed seed: failures must reproduce
    const uint32_t interesting[] = {0, 1, 2, 3, 4, 9, 0x7fffffff, 0x80000000, 0xfffffffc, 0xffffffff,
                                    uint32_t(good.size()), uint32_t(good.size() - 4)};
    size_t accepted = 0;
    constexpr int kIterations = 4000;
    for (int iter = 0; iter < kIterations; ++iter) {
        std::vector<uint8_t> b = good;
        int edits = 1 + int(rng() % 3);
        for (int k = 0; k < edits; ++k) {
            // A third of the edits go to the header, where one bit changes everything.
            size_t span = (rng() % 3 == 0) ? 40 : b.size();
            size_t off = rng() % span;
            switch (rng() % 4) {
            case 0: b[off] = uint8_t(rng()); break;
            case 1: b[off] ^= uint8_t(1u << (rng() % 8)); break;
            case 2: {
                size_t w = off & ~size_t(3);
                if (w + 4 <= b.size()) put_be32(b, w, interesting[rng() % std::size(interesting)]);
                break;
            }
            default: {
                size_t w = off & ~size_t(3);
                if (w + 4 <= b.size()) put_be32(b, w, uint32_t(rng()));
                break;
            }
            }
        }
        std::unique_ptr<uint8_t[]> tight(new uint8_t[b.size()]);
        std::copy(b.begin(), b.end(), tight.get());
        exercise_reader(tight.get(), b.size());
        if (::testing::Test::HasFatalFailure()) FAIL() << "iteration " << iter;
        accepted += FdtReader::create(tight.get(), b.size()).ok();
    }
    // Most edits land in property values, which the reader cannot judge.
    EXPECT_GT(accepted, size_t(kIterations / 4));
}

}  // namespace
}  // namespace ringlet
