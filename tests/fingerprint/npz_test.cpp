// Tests for fingerprint/formats/npz.cpp: stored and deflated members, tensor
// names, in-place offsets, digests equal to the bare array bytes, and
// malformed archives with their exact errors.
#include <gtest/gtest.h>

#include "fingerprint/formats/readers.h"
#include "fingerprint/tensor_digest.h"
#include "tests/support/pickle_writer.h"
#include "tests/support/test_util.h"

namespace pedigree {
namespace {
using test::TempDir;

std::string npy(const std::string& descr, const std::string& shape, const std::string& data) {
  std::string dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
  size_t total = 10 + dict.size() + 1;
  dict += std::string((64 - total % 64) % 64, ' ') + "\n";
  std::string out = "\x93NUMPY\x01";
  out.push_back('\0');
  out.push_back(static_cast<char>(dict.size() & 0xff));
  out.push_back(static_cast<char>(dict.size() >> 8));
  return out + dict + data;
}

const std::string kData = "ABCDEFGHIJKLMNOP";  // 4 x f4

struct Read {
  bool ok;
  ModelArtifact art;
  TensorIndex idx;
  Error err;
  TempDir dir;
};

std::unique_ptr<Read> read(const std::string& zip_bytes) {
  auto r = std::make_unique<Read>();
  std::string p = r->dir.write("a.npz", zip_bytes);
  r->ok = read_model(p, &r->art, &r->idx, &r->err);
  return r;
}

TEST(Npz, StoredMembersAreReadInPlace) {
  auto r = read(test::build_zip({{"w.npy", npy("<f4", "(2, 2)", kData), false},
                                 {"b.npy", npy("<f4", "(4,)", kData), false}}));
  ASSERT_TRUE(r->ok) << r->err.str();
  EXPECT_EQ(r->art.format, "npz");
  ASSERT_EQ(r->idx.tensors.size(), 2u);
  const TensorInfo& w = r->idx.tensors[0];
  EXPECT_EQ(w.name, "w");
  EXPECT_EQ(w.layout, TensorLayout::kRaw);
  EXPECT_EQ(w.shape, (std::vector<uint64_t>{2, 2}));
  auto f = MappedFile::open(r->art.files[0].path, nullptr);
  EXPECT_EQ(f->view().substr(w.offset, w.length), kData);
}

TEST(Npz, DeflatedMembersHashLikeStoredOnes) {
  auto stored = read(test::build_zip({{"w.npy", npy("<f4", "(2, 2)", kData), false}}));
  auto deflated = read(test::build_zip({{"w.npy", npy("<f4", "(2, 2)", kData), true}}));
  ASSERT_TRUE(stored->ok && deflated->ok) << deflated->err.str();
  EXPECT_EQ(deflated->idx.tensors[0].layout, TensorLayout::kZipEntry);
  TensorFingerprint a, b;
  Error err;
  ASSERT_TRUE(compute_tensor_fingerprint(stored->art, stored->idx, &a, &err));
  ASSERT_TRUE(compute_tensor_fingerprint(deflated->art, deflated->idx, &b, &err)) << err.str();
  EXPECT_EQ(to_hex(a.tensors[0].sha256.data(), 32), test::sha256_hex(kData));
  EXPECT_EQ(a.named_root, b.named_root);
}

TEST(Npz, OtherMembersAreWarnings) {
  auto r = read(test::build_zip({{"w.npy", npy("<f4", "(4,)", kData), false}, {"notes.txt", "hi", false}}));
  ASSERT_TRUE(r->ok);
  ASSERT_EQ(r->art.findings.size(), 1u);
  EXPECT_EQ(r->art.findings[0].message, "member 'notes.txt' is not an .npy array and was not read");
}

TEST(Npz, ShortMemberDataIsAnError) {
  auto r = read(test::build_zip({{"w.npy", npy("<f4", "(8,)", kData), false}}));
  ASSERT_FALSE(r->ok);
  EXPECT_NE(r->err.str().find("a.npz: offset 0x"), std::string::npos) << r->err.str();
}

TEST(Npz, DeflatedMemberWithWrongLength) {
  auto r = read(test::build_zip({{"w.npy", npy("<f4", "(8,)", kData), true}}));
  ASSERT_FALSE(r->ok);
  EXPECT_EQ(r->err.str(), r->art.root + ":w.npy: offset 0x80: array data of 32 B does not match the 16 B left in the member");
}

TEST(Npz, CompressedBigEndianIsRefused) {
  auto r = read(test::build_zip({{"w.npy", npy(">f4", "(4,)", kData), true}}));
  ASSERT_FALSE(r->ok);
  EXPECT_EQ(r->err.str(), r->art.root + ":w.npy: offset 0x0: compressed big-endian or fortran-order arrays are not supported");
}

TEST(Npz, EscapingMemberNameIsRefused) {
  auto r = read(test::build_zip({{"../w.npy", npy("<f4", "(4,)", kData), false}}));
  ASSERT_FALSE(r->ok);
  EXPECT_NE(r->err.message.find("zip entry name '../w.npy' escapes the archive"), std::string::npos) << r->err.str();
}

TEST(Npz, ProbeNeedsNpyMemberOrExtension) {
  std::string z = test::build_zip({{"w.npy", npy("<f4", "(4,)", kData), false}});
  EXPECT_EQ(npz_reader().probe(z.substr(0, 64), "x.bin"), Confidence::kMagic);
  std::string other = test::build_zip({{"data.pkl", "x", false}});
  EXPECT_EQ(npz_reader().probe(other.substr(0, 64), "x.npz"), Confidence::kHint);
  EXPECT_EQ(npz_reader().probe(other.substr(0, 64), "x.pt"), Confidence::kNo);
}

}  // namespace
}  // namespace pedigree
