#include "kernel/loader/cpio.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

namespace ringlet {
namespace {

// Builds a newc archive the way cpio -H newc lays it out.
class CpioBuilder {
public:
    CpioBuilder& add(const std::string& name, const std::string& data, uint32_t mode = 0100644) {
        char header[111];
        std::snprintf(header, sizeof header, "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X", 1u, mode,
                      0u, 0u, 1u, 0u, static_cast<unsigned>(data.size()), 0u, 0u, 0u, 0u,
                      static_cast<unsigned>(name.size() + 1), 0u);
        m_bytes.insert(m_bytes.end(), header, header + 110);
        m_bytes.insert(m_bytes.end(), name.begin(), name.end());
        m_bytes.push_back(0);
        pad();
        m_bytes.insert(m_bytes.end(), data.begin(), data.end());
        pad();
        return *this;
    }
    std::vector<uint8_t> finish() {
        add("TRAILER!!!", "", 0);
        return m_bytes;
    }

private:
    void pad() {
        while (m_bytes.size() % 4) m_bytes.push_back(0);
    }
    std::vector<uint8_t> m_bytes;
};

std::string str(const CpioFile& f) { return std::string(reinterpret_cast<const char*>(f.data), f.size); }

TEST(CpioTest, FindsFilesByExactName) {
    auto a = CpioBuilder().add("hello", "HELLO!").add("echo", "e").add("hello2", "xx").finish();
    CpioReader reader(a.data(), a.size());
    auto f = reader.find("hello", 5);
    ASSERT_TRUE(f.ok());
    EXPECT_EQ(str(*f), "HELLO!");
    EXPECT_EQ(std::string(f->name), "hello");
    EXPECT_EQ(str(*reader.find("hello2", 6)), "xx");
    EXPECT_EQ(str(*reader.find("echo", 4)), "e");
    EXPECT_EQ(reader.find("hell", 4).error(), Error::NotFound);
    EXPECT_EQ(reader.find("missing", 7).error(), Error::NotFound);
}

TEST(CpioTest, DirectoriesAreNotApps) {
    auto a = CpioBuilder().add("bin", "", 040755).finish();
    CpioReader reader(a.data(), a.size());
    EXPECT_EQ(reader.find("bin", 3).error(), Error::NotFound);
}

TEST(CpioTest, DamageIsAnErrorAtEveryLength) {
    auto a = CpioBuilder().add("app", std::string(300, 'z')).finish();
    for (size_t len = 0; len < a.size() - 1; ++len) {
        CpioReader reader(a.data(), len);
        auto f = reader.find("nothere", 7);
        EXPECT_FALSE(f.ok()) << len;
        auto g = reader.find("app", 3);
        if (g.ok()) {
            EXPECT_LE(static_cast<size_t>(g->data - a.data()) + g->size, len);
        }
    }
}

TEST(CpioTest, BadMagicAndHexAreBadFormat) {
    auto a = CpioBuilder().add("app", "x").finish();
    auto bad = a;
    bad[5] = '2';
    EXPECT_EQ(CpioReader(bad.data(), bad.size()).find("app", 3).error(), Error::BadFormat);
    bad = a;
    bad[6 + 8 * 6] = 'g';  // file size field
    EXPECT_EQ(CpioReader(bad.data(), bad.size()).find("app", 3).error(), Error::BadFormat);
    bad = a;
    bad[6 + 8 * 6] = '7';  // file size far beyond the archive
    EXPECT_EQ(CpioReader(bad.data(), bad.size()).find("app", 3).error(), Error::Truncated);
}

}  // namespace
}  // namespace ringlet
