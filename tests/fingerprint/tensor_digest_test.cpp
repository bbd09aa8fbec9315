// Tests for fingerprint/tensor_digest.cpp: every layout yields the canonical
// bytes, the roots follow the documented record encoding, and bad views fail.
#include "fingerprint/tensor_digest.h"

#include <gtest/gtest.h>
#include <zip.h>

#include <cstring>

#include "tests/support/test_util.h"

namespace pedigree {
namespace {
using test::TempDir;

std::string f32s(std::initializer_list<float> v, bool big_endian = false) {
  std::string s;
  for (float x : v) {
    uint32_t u;
    std::memcpy(&u, &x, 4);
    for (int i = 0; i < 4; ++i) s.push_back(static_cast<char>(u >> (8 * (big_endian ? 3 - i : i))));
  }
  return s;
}

struct Fixture {
  TempDir dir;
  ModelArtifact art;
  uint32_t add(const std::string& name, const std::string& bytes) {
    ArtifactFile f;
    f.path = dir.write(name, bytes);
    f.name = name;
    f.size = bytes.size();
    art.files.push_back(f);
    return static_cast<uint32_t>(art.files.size() - 1);
  }
  std::string digest(const TensorInfo& t, Error* err) {
    TensorIndex idx{{t}};
    TensorFingerprint fp;
    if (!compute_tensor_fingerprint(art, idx, &fp, err, 1)) return "";
    return to_hex(fp.tensors[0].sha256.data(), 32);
  }
};

TensorInfo tensor(std::vector<uint64_t> shape, TensorLayout layout, uint64_t off, uint64_t len) {
  TensorInfo t;
  t.name = "w";
  t.shape = std::move(shape);
  t.layout = layout;
  t.offset = off;
  t.length = len;
  return t;
}

const std::string kRowMajor = f32s({1, 2, 3, 4, 5, 6});

TEST(TensorDigest, RawRangeIsHashedInPlace) {
  Fixture fx;
  fx.add("m.bin", "HEAD" + kRowMajor + "TAIL");
  Error err;
  EXPECT_EQ(fx.digest(tensor({2, 3}, TensorLayout::kRaw, 4, 24), &err), test::sha256_hex(kRowMajor)) << err.str();
}

TEST(TensorDigest, BigEndianElementsAreSwapped) {
  Fixture fx;
  fx.add("m.npy", f32s({1, 2, 3, 4, 5, 6}, true));
  Error err;
  EXPECT_EQ(fx.digest(tensor({2, 3}, TensorLayout::kByteSwap, 0, 24), &err), test::sha256_hex(kRowMajor));
}

TEST(TensorDigest, StridedTransposedViewIsMaterializedInCOrder) {
  Fixture fx;
  // Column-major storage of [[1,2,3],[4,5,6]]: 1,4,2,5,3,6.
  fx.add("m.pt", f32s({1, 4, 2, 5, 3, 6}));
  TensorInfo t = tensor({2, 3}, TensorLayout::kStrided, 0, 24);
  t.strides = {1, 2};
  t.storage_bytes = 24;
  Error err;
  EXPECT_EQ(fx.digest(t, &err), test::sha256_hex(kRowMajor)) << err.str();
}

TEST(TensorDigest, StridedWithStorageOffset) {
  Fixture fx;
  fx.add("m.pt", f32s({9, 9, 1, 2, 3, 4, 5, 6}));
  TensorInfo t = tensor({2, 3}, TensorLayout::kStrided, 0, 24);
  t.strides = {3, 1};
  t.storage_offset = 2;
  t.storage_bytes = 32;
  Error err;
  EXPECT_EQ(fx.digest(t, &err), test::sha256_hex(kRowMajor)) << err.str();
}

TEST(TensorDigest, StridedViewOutsideStorageFails) {
  Fixture fx;
  fx.add("m.pt", f32s({1, 2, 3, 4}));
  TensorInfo t = tensor({2, 3}, TensorLayout::kStrided, 0, 24);
  t.strides = {3, 1};
  t.storage_bytes = 16;
  Error err;
  EXPECT_EQ(fx.digest(t, &err), "");
  EXPECT_EQ(err.str(), fx.art.files[0].path + ": offset 0x0: tensor 'w' view exceeds its storage of 16 B");
}

TEST(TensorDigest, BroadcastViewExpansionIsBounded) {
  Fixture fx;
  fx.add("m.pt", f32s({1}));
  uint64_t n = uint64_t{1} << 20;
  TensorInfo t = tensor({n, n}, TensorLayout::kStrided, 0, n * n * 4);
  t.strides = {0, 0};
  t.storage_bytes = 4;
  Error err;
  EXPECT_EQ(fx.digest(t, &err), "");
  EXPECT_EQ(err.str(), fx.art.files[0].path +
                           ": offset 0x0: tensor 'w' view of 4.0 TiB expands its storage of 4 B beyond the limit");
}

TEST(TensorDigest, InlineBytes) {
  Fixture fx;
  TensorInfo t = tensor({6}, TensorLayout::kInline, 0, 24);
  t.inline_data = std::make_shared<const std::string>(kRowMajor);
  Error err;
  EXPECT_EQ(fx.digest(t, &err), test::sha256_hex(kRowMajor));
}

TEST(TensorDigest, RawOutOfRangeFails) {
  Fixture fx;
  fx.add("m.bin", "short");
  Error err;
  EXPECT_EQ(fx.digest(tensor({6}, TensorLayout::kRaw, 2, 24), &err), "");
  EXPECT_EQ(err.str(), fx.art.files[0].path + ": offset 0x2: tensor 'w' data of 24 B exceeds file size 5 B");
}

TEST(TensorDigest, DeflatedZipMember) {
  Fixture fx;
  std::string payload = "npyheader" + kRowMajor;
  zip_error_t ze;
  zip_error_init(&ze);
  zip_source_t* out = zip_source_buffer_create(nullptr, 0, 0, &ze);
  zip_source_keep(out);
  zip_t* za = zip_open_from_source(out, ZIP_TRUNCATE, &ze);
  zip_source_t* member = zip_source_buffer(za, payload.data(), payload.size(), 0);
  zip_int64_t i = zip_file_add(za, "w.npy", member, 0);
  zip_set_file_compression(za, static_cast<zip_uint64_t>(i), ZIP_CM_DEFLATE, 9);
  ASSERT_EQ(zip_close(za), 0);
  zip_source_open(out);
  zip_source_seek(out, 0, SEEK_END);
  std::string bytes(static_cast<size_t>(zip_source_tell(out)), '\0');
  zip_source_seek(out, 0, SEEK_SET);
  zip_source_read(out, bytes.data(), bytes.size());
  zip_source_close(out);
  zip_source_free(out);
  fx.add("a.npz", bytes);
  TensorInfo t = tensor({2, 3}, TensorLayout::kZipEntry, 0, 24);
  t.zip_entry = "w.npy";
  t.entry_offset = 9;
  Error err;
  EXPECT_EQ(fx.digest(t, &err), test::sha256_hex(kRowMajor)) << err.str();
}

TEST(TensorDigest, RecordEncodingIsDocumented) {
  TensorDigest d;
  d.name = "ab";
  d.dtype = DType::BF16;
  d.shape = {2, 1};
  d.sha256.fill(0xaa);
  std::string expect;
  test::put_u32(&expect, 2);
  expect += "ab";
  test::put_u32(&expect, 4);
  expect += "BF16";
  test::put_u32(&expect, 2);
  test::put_u64(&expect, 2);
  test::put_u64(&expect, 1);
  expect += std::string(32, '\xaa');
  EXPECT_EQ(tensor_record(d, true), expect);
  EXPECT_EQ(tensor_record(d, false), expect.substr(6));
}

TEST(TensorDigest, RootsIgnoreOrderAndContentRootIgnoresNames) {
  TensorFingerprint a, b, c;
  TensorDigest x{"x", DType::F32, {2}, 8, {}}, y{"y", DType::F16, {4}, 8, {}};
  x.sha256.fill(1);
  y.sha256.fill(2);
  a.tensors = {x, y};
  b.tensors = {y, x};
  TensorDigest x2 = x;
  x2.name = "renamed";
  c.tensors = {x2, y};
  compute_roots(&a);
  compute_roots(&b);
  compute_roots(&c);
  EXPECT_EQ(a.named_root, b.named_root);
  EXPECT_EQ(a.content_root, b.content_root);
  EXPECT_NE(a.named_root, c.named_root);
  EXPECT_EQ(a.content_root, c.content_root);
  std::string expect_content = "pedigree:tensor-content-root:v1\n";
  std::string rx = tensor_record(x, false), ry = tensor_record(y, false);
  expect_content += std::min(rx, ry) + std::max(rx, ry);
  EXPECT_EQ(to_hex(a.content_root.data(), 32), test::sha256_hex(expect_content));
}

}  // namespace
}  // namespace pedigree
