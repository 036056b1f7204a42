// Result<T>: values, errors, TRY, and what happens to an Ok it cannot see.
#include "ringlet/result.h"

#include <gtest/gtest.h>

namespace ringlet {
namespace {

Result<int> half(int v) {
    if (v % 2) return Error::InvalidArgument;
    return v / 2;
}

Result<int> quarter(int v) {
    int h = TRY(half(v));
    return TRY(half(h));
}

TEST(Result, ValueAndError) {
    Result<int> r = half(8);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(*r, 4);
    Result<int> e = half(7);
    ASSERT_FALSE(e.ok());
    EXPECT_EQ(e.error(), Error::InvalidArgument);
    EXPECT_EQ(e.value_or(-1), -1);
}

TEST(Result, TryPassesTheFirstErrorUp) {
    EXPECT_EQ(*quarter(8), 2);
    EXPECT_EQ(quarter(6).error(), Error::InvalidArgument);  // 6 / 2 = 3 is odd
}

// An Ok the compiler cannot see (it comes from outside, at run time) never
// becomes a success without a value. (A visible one does not compile:
// compile_fail/result_from_ok.cc, ctest ResultFromErrorOkDoesNotCompile.)
TEST(Result, RuntimeOkBecomesAnError) {
    volatile int32_t raw = 0;
    Result<int> r{static_cast<Error>(raw)};
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.error(), Error::InvalidArgument);
}

TEST(Result, VoidOkIsSuccess) {
    Result<void> r{Error::Ok};
    EXPECT_TRUE(r.ok());
    EXPECT_TRUE(ok().ok());
}

}  // namespace
}  // namespace ringlet
