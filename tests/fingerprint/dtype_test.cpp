// Tests for fingerprint/dtype.cpp: names round-trip and block geometry.
#include "fingerprint/dtype.h"

#include <gtest/gtest.h>

namespace pedigree {

TEST(DType, NamesRoundTrip) {
  for (int i = 0; i <= static_cast<int>(DType::Q2_0); ++i) {
    DType t = static_cast<DType>(i);
    EXPECT_EQ(dtype_info(t).type, t);
    auto back = dtype_from_name(dtype_name(t));
    ASSERT_TRUE(back.has_value()) << dtype_name(t);
    EXPECT_EQ(*back, t);
  }
  EXPECT_FALSE(dtype_from_name("F33").has_value());
}

TEST(DType, BlockBytes) {
  EXPECT_EQ(dtype_bytes(DType::F32, 10), 40u);
  EXPECT_EQ(dtype_bytes(DType::Q4_0, 64), 36u);
  EXPECT_EQ(dtype_bytes(DType::Q6_K, 512), 420u);
  EXPECT_FALSE(dtype_bytes(DType::Q4_K, 100).has_value());
  EXPECT_FALSE(dtype_bytes(DType::F64, uint64_t{1} << 62).has_value());
  EXPECT_FALSE(dtype_bytes(DType::STRING, 3).has_value());
}

TEST(DType, ShapeElemsOverflow) {
  uint64_t dims[] = {uint64_t{1} << 40, uint64_t{1} << 30};
  EXPECT_FALSE(shape_elems(dims, 2).has_value());
  uint64_t ok[] = {3, 4, 5};
  EXPECT_EQ(shape_elems(ok, 3), 60u);
  EXPECT_EQ(shape_elems(nullptr, 0), 1u);
  uint64_t empty[] = {uint64_t{1} << 32, uint64_t{1} << 32, 0};
  EXPECT_EQ(shape_elems(empty, 3), 0u);
}

}  // namespace pedigree
