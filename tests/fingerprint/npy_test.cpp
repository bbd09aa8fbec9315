// This file implements the tests of the .npy reader and its header parser:
// fixtures are written in code the way numpy.save lays them out (magic,
// version, length, padded dict literal), and malformed headers are checked
// for their exact errors.
#include "fingerprint/formats/npy.h"

#include <gtest/gtest.h>

#include "fingerprint/formats/readers.h"
#include "tests/support/test_util.h"

namespace pedigree {
namespace {

// An .npy file: the dict literal is padded with spaces and a newline so the
// data starts at a multiple of 64, as numpy writes it.
std::string npy_file(const std::string& dict, const std::string& data, int major = 1) {
  size_t len_bytes = major == 1 ? 2 : 4;
  size_t pre = 8 + len_bytes;
  std::string text = dict;
  while ((pre + text.size() + 1) % 64 != 0) text += ' ';
  text += '\n';
  std::string s = "\x93NUMPY";
  s += static_cast<char>(major);
  s += '\0';
  if (major == 1) {
    s += static_cast<char>(text.size() & 0xff);
    s += static_cast<char>(text.size() >> 8);
  } else {
    test::put_u32(&s, static_cast<uint32_t>(text.size()));
  }
  return s + text + data;
}

std::string dict_of(const std::string& descr, const std::string& shape, bool fortran = false) {
  return "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") +
         ", 'shape': " + shape + ", }";
}

struct Result {
  bool ok = false;
  ModelArtifact art;
  TensorIndex idx;
  Error err;
};

Result read_bytes(const std::string& bytes, const std::string& path = "weights.npy") {
  Result r;
  auto f = MappedFile::from_bytes(path, bytes);
  r.art.root = path;
  r.ok = npy_reader().read(*f, &r.art, &r.idx, &r.err);
  return r;
}

std::string error_of(const std::string& bytes) {
  Result r = read_bytes(bytes);
  return r.ok ? "ok" : r.err.str();
}

// The error for a version 1.0 file with header `dict` and `data`.
std::string dict_error(const std::string& dict, const std::string& data = std::string(64, 'x')) {
  return error_of(npy_file(dict, data));
}

TEST(NpyRead, NumpySaveHeaderByteForByte) {
  // np.save(f, np.zeros((3, 4), np.float32)) writes exactly this preamble.
  std::string head = std::string("\x93NUMPY\x01\x00v\x00", 10) +
                     "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }" +
                     std::string(58, ' ') + "\n";
  ASSERT_EQ(head.size(), 128u);
  Result r = read_bytes(head + std::string(48, '\0'));
  ASSERT_TRUE(r.ok) << r.err.str();
  const TensorInfo& t = r.idx.tensors.at(0);
  EXPECT_EQ(t.name, "weights");
  EXPECT_EQ(t.dtype, DType::F32);
  EXPECT_EQ(t.shape, (std::vector<uint64_t>{3, 4}));
  EXPECT_EQ(t.layout, TensorLayout::kRaw);
  EXPECT_EQ(t.offset, 128u);
  EXPECT_EQ(t.length, 48u);
  EXPECT_EQ(r.art.format, "npy");
  ASSERT_EQ(r.art.files.size(), 1u);
  EXPECT_EQ(r.art.files[0].format, "npy");
  EXPECT_EQ(r.art.files[0].name, ".");
  EXPECT_EQ(r.art.metadata["npy"]["version"], "1.0");
  EXPECT_EQ(r.art.metadata["npy"]["descr"], "<f4");
  EXPECT_TRUE(r.art.findings.empty());
}

TEST(NpyRead, EveryDescr) {
  const std::vector<std::tuple<std::string, DType, uint64_t>> cases = {
      {"<f2", DType::F16, 2}, {"<f4", DType::F32, 4},    {"<f8", DType::F64, 8},
      {"|i1", DType::I8, 1},  {"<i2", DType::I16, 2},    {"<i4", DType::I32, 4},
      {"<i8", DType::I64, 8}, {"|u1", DType::U8, 1},     {"<u2", DType::U16, 2},
      {"<u4", DType::U32, 4}, {"<u8", DType::U64, 8},    {"|b1", DType::BOOL, 1},
      {"<c8", DType::C64, 8}, {"<c16", DType::C128, 16}, {"=f4", DType::F32, 4},
      {"f8", DType::F64, 8},
  };
  for (const auto& [descr, dtype, size] : cases) {
    Result r = read_bytes(npy_file(dict_of(descr, "(2, 3)"), std::string(6 * size, '\1')));
    ASSERT_TRUE(r.ok) << descr << ": " << r.err.str();
    const TensorInfo& t = r.idx.tensors.at(0);
    EXPECT_EQ(t.dtype, dtype) << descr;
    EXPECT_EQ(t.length, 6 * size) << descr;
    EXPECT_EQ(t.layout, TensorLayout::kRaw) << descr;
    EXPECT_EQ(t.offset, 128u) << descr;
  }
}

TEST(NpyRead, BigEndian) {
  Result r = read_bytes(npy_file(dict_of(">f4", "(3,)"), std::string(12, '\0')));
  ASSERT_TRUE(r.ok) << r.err.str();
  EXPECT_EQ(r.idx.tensors[0].layout, TensorLayout::kByteSwap);
  EXPECT_EQ(r.idx.tensors[0].shape, (std::vector<uint64_t>{3}));
  // One-byte types have no byte order.
  r = read_bytes(npy_file(dict_of(">u1", "(3,)"), std::string(3, '\0')));
  ASSERT_TRUE(r.ok) << r.err.str();
  EXPECT_EQ(r.idx.tensors[0].layout, TensorLayout::kRaw);
  EXPECT_EQ(error_of(npy_file(dict_of(">c8", "(1,)"), std::string(8, '\0'))),
            "weights.npy: offset 0x80: big-endian complex arrays are not supported");
  EXPECT_EQ(error_of(npy_file(dict_of(">f4", "(2, 2)", true), std::string(16, '\0'))),
            "weights.npy: offset 0x80: big-endian fortran-order arrays are not supported");
}

TEST(NpyRead, Versions) {
  for (int major : {1, 2, 3}) {
    std::string dict = dict_of("<i4", "(2,)");
    Result r = read_bytes(npy_file(dict, std::string(8, '\0'), major));
    ASSERT_TRUE(r.ok) << major << ": " << r.err.str();
    EXPECT_EQ(r.idx.tensors[0].offset, 128u);
    EXPECT_EQ(r.art.metadata["npy"]["version"], std::to_string(major) + ".0");
  }
  // Version 3.0 headers are utf-8.
  std::string dict = "{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }";
  EXPECT_EQ(error_of(npy_file(dict, std::string(8, '\0'), 3)), "ok");
}

TEST(NpyRead, FortranOrderStrides) {
  Result r = read_bytes(npy_file(dict_of("<f4", "(2, 3, 4)", true), std::string(96, '\0')));
  ASSERT_TRUE(r.ok) << r.err.str();
  const TensorInfo& t = r.idx.tensors[0];
  EXPECT_EQ(t.layout, TensorLayout::kStrided);
  EXPECT_EQ(t.shape, (std::vector<uint64_t>{2, 3, 4}));
  EXPECT_EQ(t.strides, (std::vector<int64_t>{1, 2, 6}));
  EXPECT_EQ(t.storage_offset, 0u);
  EXPECT_EQ(t.storage_bytes, 96u);
  EXPECT_EQ(t.offset, 128u);
  EXPECT_EQ(t.length, 96u);
  EXPECT_EQ(r.art.metadata["npy"]["fortran_order"], true);
  EXPECT_EQ(error_of(npy_file(dict_of("<f4", "(4294967296, 2147483648, 0, 2)", true), "")),
            "weights.npy: offset 0x80: fortran-order strides of shape (4294967296, 2147483648, "
            "0, 2) overflow 64 bits");
}

TEST(NpyRead, ScalarEmptyAndOldStyleShapes) {
  Result r = read_bytes(npy_file(dict_of("<f8", "()"), std::string(8, '\0')));
  ASSERT_TRUE(r.ok) << r.err.str();
  EXPECT_TRUE(r.idx.tensors[0].shape.empty());
  EXPECT_EQ(r.idx.tensors[0].length, 8u);
  r = read_bytes(npy_file(dict_of("<f8", "(0, 5)"), ""));
  ASSERT_TRUE(r.ok) << r.err.str();
  EXPECT_EQ(r.idx.tensors[0].length, 0u);
  // Python 2 numpy wrote longs, keys in any order and double quotes are fine.
  r = read_bytes(npy_file("{\"shape\": (3L, 4L), 'fortran_order': False, 'descr': '<u1'}",
                          std::string(12, '\0')));
  ASSERT_TRUE(r.ok) << r.err.str();
  EXPECT_EQ(r.idx.tensors[0].shape, (std::vector<uint64_t>{3, 4}));
}

TEST(NpyRead, TrailingBytesAreAWarning) {
  Result r = read_bytes(npy_file(dict_of("|u1", "(2,)"), "abcd"));
  ASSERT_TRUE(r.ok) << r.err.str();
  ASSERT_EQ(r.art.findings.size(), 1u);
  EXPECT_EQ(r.art.findings[0].id, "npy-trailing-bytes");
  EXPECT_EQ(r.art.findings[0].offset, 130u);
  EXPECT_EQ(r.art.findings[0].message, "2 bytes after the array data are not part of the array");
}

TEST(NpyProbe, MagicAndHint) {
  const FormatReader& r = npy_reader();
  EXPECT_EQ(r.probe(npy_file(dict_of("<f4", "()"), "1234"), "x.bin"), Confidence::kMagic);
  EXPECT_EQ(r.probe("PK\x03\x04", "x.npy"), Confidence::kHint);
  EXPECT_EQ(r.probe("PK\x03\x04", "x.npz"), Confidence::kNo);
}

TEST(NpyHeader, OffsetsAreRelativeToTheBase) {
  std::string bytes = npy_file(dict_of("<f4", "(2,)"), "");  // data absent
  NpyArray a;
  Error err;
  ASSERT_TRUE(parse_npy_header(bytes, "a.npz", 1000, &a, &err)) << err.str();
  EXPECT_EQ(a.data_offset, 1128u);
  EXPECT_EQ(a.data_length, 8u);
  EXPECT_FALSE(parse_npy(bytes, "a.npz", 1000, &a, &err));
  EXPECT_EQ(err.str(),
            "a.npz: offset 0x468: data of shape (2,) '<f4' needs 8 bytes but only 0 "
            "follow the header");
}

// ---- malformed files --------------------------------------------------------

TEST(NpyMalformed, Preamble) {
  EXPECT_EQ(error_of("\x93NUMPZ\x01\x00"),
            "weights.npy: offset 0x0: bad magic, expected \\x93NUMPY");
  EXPECT_EQ(error_of("\x93NUM"),
            "weights.npy: offset 0x0: file is 4 bytes, too short for the npy magic and version");
  EXPECT_EQ(error_of(std::string("\x93NUMPY\x04\x00", 8)),
            "weights.npy: offset 0x6: unsupported npy version 4.0");
  EXPECT_EQ(error_of(std::string("\x93NUMPY\x01\x00\x10", 9)),
            "weights.npy: offset 0x8: file ends inside the header length field");
  EXPECT_EQ(
      error_of(std::string("\x93NUMPY\x01\x00\x00\x01{}", 12)),
      "weights.npy: offset 0x8: header length 256 exceeds the 2 bytes after the length field");
  EXPECT_EQ(error_of(std::string("\x93NUMPY\x02\x00\x00\x00\x00\x01{}", 14)),
            "weights.npy: offset 0x8: header length 16777216 exceeds the 1.0 MiB cap");
}

TEST(NpyMalformed, EveryTruncatedPrefixFailsCleanly) {
  std::string good = npy_file(dict_of("<f4", "(2, 2)"), std::string(16, '\0'));
  ASSERT_TRUE(read_bytes(good).ok);
  for (size_t n = 0; n < good.size(); ++n) {
    Result r = read_bytes(good.substr(0, n));
    EXPECT_FALSE(r.ok) << "prefix " << n;
    EXPECT_FALSE(r.err.message.empty()) << "prefix " << n;
  }
  EXPECT_EQ(error_of(good.substr(0, 134)),
            "weights.npy: offset 0x80: data of shape (2, 2) '<f4' needs 16 bytes but only 6 "
            "follow the header");
}

TEST(NpyMalformed, UnparseableLiteral) {
  EXPECT_EQ(dict_error("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), "),
            "weights.npy: offset 0x80: header is not a python literal: literal ends before '}'");
  EXPECT_EQ(dict_error("{'descr': '<f4' 'fortran_order': False}"),
            "weights.npy: offset 0x1a: header is not a python literal: expected ',' or '}'");
  EXPECT_EQ(dict_error("{'descr': np.float32}"),
            "weights.npy: offset 0x14: header is not a python literal: unexpected name 'np' (only "
            "literals are read)");
  EXPECT_EQ(dict_error("{'descr': __import__('os')}"),
            "weights.npy: offset 0x14: header is not a python literal: unexpected name "
            "'__import__' (only literals are read)");
  EXPECT_EQ(dict_error("{'descr': '<f4}"),
            "weights.npy: offset 0x3f: header is not a python literal: newline inside a string");
  EXPECT_EQ(dict_error("{'shape': (3.5,)}"),
            "weights.npy: offset 0x16: header is not a python literal: only decimal integers are "
            "supported");
  EXPECT_EQ(dict_error("{'shape' (3,)}"),
            "weights.npy: offset 0x13: header is not a python literal: expected ':' after a dict "
            "key");
  EXPECT_EQ(dict_error("{'descr': '<f4'} {}"),
            "weights.npy: offset 0x1b: header is not a python literal: unexpected '{' after the "
            "literal");
  std::string many = "(";
  for (int i = 0; i < 5000; ++i) many += "0,";
  EXPECT_EQ(dict_error(dict_of("<f4", many + ")")),
            "weights.npy: offset 0x203d: header is not a python literal: literal has more than "
            "4096 items");
  EXPECT_EQ(dict_error(std::string(100, '(')),
            "weights.npy: offset 0x4a: header is not a python literal: literal nests deeper than "
            "64 levels");
}

TEST(NpyMalformed, Keys) {
  EXPECT_EQ(dict_error("{'descr': '<f4', 'fortran_order': False}"),
            "weights.npy: offset 0xa: header has no 'shape' key");
  EXPECT_EQ(dict_error("{'fortran_order': False, 'shape': ()}"),
            "weights.npy: offset 0xa: header has no 'descr' key");
  EXPECT_EQ(dict_error("{'descr': '<f4', 'descr': '<f8', 'fortran_order': False, 'shape': ()}"),
            "weights.npy: offset 0x1b: header has duplicate key 'descr'");
  EXPECT_EQ(dict_error("{'descr': '<f4', 'fortran_order': False, 'shape': (), 'x': 1}"),
            "weights.npy: offset 0x40: header has unexpected key 'x'");
  EXPECT_EQ(dict_error("{1: '<f4'}"),
            "weights.npy: offset 0xb: header key is an int, expected a string");
  EXPECT_EQ(dict_error("('<f4', False, ())"),
            "weights.npy: offset 0xa: header is a tuple, expected a dict");
}

TEST(NpyMalformed, Values) {
  EXPECT_EQ(dict_error(dict_of("|O", "(2,)")),
            "weights.npy: offset 0x14: object arrays hold pickled python objects and are not read");
  EXPECT_EQ(
      dict_error("{'descr': [('a', '<f4'), ('b', '<i4')], 'fortran_order': False, 'shape': (2,)}"),
      "weights.npy: offset 0x14: structured dtypes are not supported");
  EXPECT_EQ(dict_error(dict_of("<U10", "(2,)")),
            "weights.npy: offset 0x14: unsupported descr '<U10'");
  EXPECT_EQ(dict_error("{'descr': 4, 'fortran_order': False, 'shape': ()}"),
            "weights.npy: offset 0x14: descr is an int, expected a string");
  EXPECT_EQ(dict_error("{'descr': '<f4', 'fortran_order': 0, 'shape': ()}"),
            "weights.npy: offset 0x2c: fortran_order is an int, expected True or False");
  EXPECT_EQ(dict_error(dict_of("<f4", "(3, -1)")),
            "weights.npy: offset 0x40: shape dim 1 is -1, expected a non-negative int");
  EXPECT_EQ(dict_error(dict_of("<f4", "[3, 4]")),
            "weights.npy: offset 0x3c: shape is a list, expected a tuple");
  EXPECT_EQ(dict_error(dict_of("<f4", "(3)")),
            "weights.npy: offset 0x3d: shape is an int, expected a tuple");
  EXPECT_EQ(dict_error(dict_of("<f4", "('3',)")),
            "weights.npy: offset 0x3d: shape dim 0 is a string, expected an int");
  EXPECT_EQ(dict_error(dict_of("<f4", "(18446744073709551616,)")),
            "weights.npy: offset 0x3d: shape dim 0 18446744073709551616 does not fit in 64 bits");
  EXPECT_EQ(dict_error(dict_of("<f4", "(4294967296, 4294967296)")),
            "weights.npy: offset 0x3c: shape (4294967296, 4294967296) has more than 2^64 elements");
  EXPECT_EQ(dict_error(dict_of("<f8", "(4294967296, 536870912)")),
            "weights.npy: offset 0x3c: shape (4294967296, 536870912) of '<f8' needs more than 2^64 "
            "bytes");
  EXPECT_EQ(dict_error(dict_of("<f4", "(1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1)")),
            "weights.npy: offset 0x3c: shape has 17 dims, more than the 16 supported");
}

}  // namespace
}  // namespace pedigree
