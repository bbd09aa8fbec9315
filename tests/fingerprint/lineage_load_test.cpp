// This file implements the tests of lineage tensor loading: float conversion
// and GGUF Q8_0/Q4_0 dequantization against hand-built blocks (the other block
// types are tested in dequant_test.cpp) and llama.cpp's
// Q/K row permutation (the role mapping is tested in lineage_arch_test.cpp).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "fingerprint/formats/reader.h"
#include "fingerprint/lineage_load.h"
#include "tests/support/test_util.h"

namespace pedigree {
namespace {

TEST(LineageLoad, HalfAndBfloatAndF8) {
  EXPECT_EQ(half_to_float(0x3C00), 1.0f);
  EXPECT_EQ(half_to_float(0xC000), -2.0f);
  EXPECT_EQ(half_to_float(0x3555), 0.333251953125f);
  EXPECT_EQ(half_to_float(0x0001), std::ldexp(1.0f, -24));  // smallest subnormal
  EXPECT_TRUE(std::isinf(half_to_float(0x7C00)));
  uint8_t bf[2] = {0x80, 0x3F};  // 0x3F80 = 1.0
  float out[4];
  ASSERT_TRUE(to_float(DType::BF16, bf, 1, out));
  EXPECT_EQ(out[0], 1.0f);
  uint8_t e4[4] = {0x38, 0xB8, 0x01, 0x7E};  // 1.0, -1.0, 2^-9, 448
  ASSERT_TRUE(to_float(DType::F8_E4M3, e4, 4, out));
  EXPECT_EQ(out[0], 1.0f);
  EXPECT_EQ(out[1], -1.0f);
  EXPECT_EQ(out[2], std::ldexp(1.0f, -9));
  EXPECT_EQ(out[3], 448.0f);
  uint8_t e5[1] = {0x3C};  // 1.0
  ASSERT_TRUE(to_float(DType::F8_E5M2, e5, 1, out));
  EXPECT_EQ(out[0], 1.0f);
}

TEST(LineageLoad, DequantizeQ8_0) {
  uint8_t block[34];
  block[0] = 0x00, block[1] = 0x38;  // d = 0.5
  for (int i = 0; i < 32; ++i) block[2 + i] = static_cast<uint8_t>(static_cast<int8_t>(i - 16));
  float out[32];
  ASSERT_TRUE(to_float(DType::Q8_0, block, 32, out));
  for (int i = 0; i < 32; ++i) EXPECT_EQ(out[i], 0.5f * (i - 16)) << i;
}

TEST(LineageLoad, DequantizeQ4_0) {
  uint8_t blocks[36];
  for (int b = 0; b < 2; ++b) {
    uint8_t* p = blocks + 18 * b;
    p[0] = 0x00, p[1] = b == 0 ? 0x40 : 0xBC;  // d = 2.0, then -1.0
    for (int i = 0; i < 16; ++i) p[2 + i] = static_cast<uint8_t>((i & 0xF) | ((15 - i) << 4));
  }
  float out[64];
  ASSERT_TRUE(to_float(DType::Q4_0, blocks, 64, out));
  for (int i = 0; i < 16; ++i) {
    EXPECT_EQ(out[i], 2.0f * (i - 8)) << i;              // low nibbles: elements 0..15
    EXPECT_EQ(out[16 + i], 2.0f * (15 - i - 8)) << i;    // high nibbles: elements 16..31
    EXPECT_EQ(out[32 + i], -1.0f * (i - 8)) << i;
    EXPECT_EQ(out[48 + i], -1.0f * (15 - i - 8)) << i;
  }
}

// dequant_check.gguf holds tensors quantized by gguf-py and gguf-py's own
// dequantization of them ('<name>.ref'); see tests/fuzz/corpus/make_lineage_corpus.py.
TEST(LineageLoad, DequantizationAgreesWithGgufPy) {
  ModelArtifact art;
  TensorIndex idx;
  Error err;
  ASSERT_TRUE(read_model(std::string(PEDIGREE_SOURCE_DIR) + "/tests/fuzz/corpus/lineage/dequant_check.gguf", &art,
                         &idx, &err))
      << err.str();
  ASSERT_EQ(idx.tensors.size(), 4u);
  for (size_t i = 0; i < 4; i += 2) {
    Matrix got, ref;
    ASSERT_TRUE(load_matrix(art, idx.tensors[i], &got, &err)) << err.str();
    ASSERT_TRUE(load_matrix(art, idx.tensors[i + 1], &ref, &err)) << err.str();
    ASSERT_EQ(idx.tensors[i + 1].name, idx.tensors[i].name + ".ref");
    EXPECT_EQ(got.rows, 2u);
    EXPECT_EQ(got.cols, 64u);
    EXPECT_EQ(got.v, ref.v) << idx.tensors[i].name;
  }
}

TEST(LineageLoad, UnsupportedTypes) {
  uint8_t buf[256] = {};
  float out[256];
  EXPECT_TRUE(to_float(DType::IQ2_XXS, buf, 256, out));   // one 66-byte block of zeros
  EXPECT_FALSE(to_float(DType::IQ2_XXS, buf, 255, out));  // not whole blocks
  EXPECT_FALSE(to_float(DType::I32, buf, 4, out));
  EXPECT_FALSE(to_float(DType::Q8_0, buf, 31, out));
}

TEST(LineageLoad, QkRowPermutationMatchesLlamaCpp) {
  // convert_hf_to_gguf's permute with 1 head of 8 rows interleaves the two halves.
  Matrix m{8, 1, {0, 1, 2, 3, 4, 5, 6, 7}};
  permute_qk_rows(&m, 1);
  EXPECT_EQ(m.v, (std::vector<float>{0, 4, 1, 5, 2, 6, 3, 7}));
  unpermute_qk_rows(&m, 1);
  EXPECT_EQ(m.v, (std::vector<float>{0, 1, 2, 3, 4, 5, 6, 7}));
  Matrix two{8, 2, {}};
  for (int i = 0; i < 16; ++i) two.v.push_back(static_cast<float>(i));
  Matrix orig = two;
  permute_qk_rows(&two, 2);  // 2 heads of 4 rows: rows 0,2,1,3 | 4,6,5,7
  EXPECT_EQ(two.v, (std::vector<float>{0, 1, 4, 5, 2, 3, 6, 7, 8, 9, 12, 13, 10, 11, 14, 15}));
  unpermute_qk_rows(&two, 2);
  EXPECT_EQ(two.v, orig.v);
}

}  // namespace
}  // namespace pedigree
