// This file implements the tests of the GGUF reader: a tiny GGUF writer below
// builds every fixture in code (all value types, v2/v3, alignment, quantized
// tensors) and each malformed case is checked against its exact error text.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>

#include "fingerprint/formats/limits.h"
#include "fingerprint/formats/readers.h"
#include "tests/support/test_util.h"

namespace pedigree {
namespace {

using nlohmann::json;
using test::put_u32;
using test::put_u64;

enum : uint32_t { U8, I8, U16, I16, U32, I32, F32, BOOL, STR, ARR, U64, I64, F64 };

template <typename T>
std::string raw(T v) {
  std::string o(sizeof v, '\0');
  std::memcpy(o.data(), &v, sizeof v);
  return o;
}

std::string gstr(std::string_view s) {
  std::string o;
  put_u64(&o, s.size());
  return o.append(s);
}

/// Array payload: element type, count, then the encoded elements.
std::string garr(uint32_t type, uint64_t count, std::string elems) { return raw(type) + raw(count) + elems; }

/// A minimal GGUF writer: key/values, tensor infos, padding, data.
struct Gguf {
  uint32_t version = 3;
  uint32_t alignment = 32;
  std::string kvs, infos, data;
  uint64_t n_kv = 0, n_tensors = 0;

  Gguf& kv(std::string_view key, uint32_t type, const std::string& payload) {
    kvs += gstr(key) + raw(type) + payload;
    ++n_kv;
    return *this;
  }
  /// A tensor info with `dims` in FILE order (innermost first) at relative `offset`.
  Gguf& info(std::string_view name, std::vector<uint64_t> dims, uint32_t type, uint64_t offset) {
    infos += gstr(name) + raw(static_cast<uint32_t>(dims.size()));
    for (uint64_t d : dims) infos += raw(d);
    infos += raw(type) + raw(offset);
    ++n_tensors;
    return *this;
  }
  /// A tensor info plus `nbytes` of data placed at the next aligned data offset.
  Gguf& tensor(std::string_view name, std::vector<uint64_t> dims, uint32_t type, uint64_t nbytes) {
    data.resize((data.size() + alignment - 1) / alignment * alignment, '\0');
    info(name, std::move(dims), type, data.size());
    for (uint64_t i = 0; i < nbytes; ++i) data.push_back(static_cast<char>(i * 7 + 1));
    return *this;
  }
  std::string head() const { return "GGUF" + raw(version) + raw(n_tensors) + raw(n_kv); }
  std::string bytes() const {
    std::string o = head() + kvs + infos;
    o.resize((o.size() + alignment - 1) / alignment * alignment, '\0');
    return o + data;
  }
};

struct Result {
  bool ok = false;
  Error err;
  ModelArtifact art;
  TensorIndex idx;
};

Result read(const std::string& bytes, const std::string& path = "model.gguf") {
  Result r;
  auto f = MappedFile::from_bytes(path, bytes);
  r.ok = gguf_reader().read(*f, &r.art, &r.idx, &r.err);
  return r;
}

/// Reads `bytes` expecting failure and returns the rendered error.
std::string read_err(const std::string& bytes) {
  Result r = read(bytes);
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(r.idx.tensors.empty());
  EXPECT_TRUE(r.art.files.empty());
  return r.err.str();
}

/// A small valid file: two metadata entries and an F32 and a Q8_0 tensor.
Gguf small_file() {
  Gguf g;
  g.kv("general.architecture", STR, gstr("llama")).kv("llama.block_count", U32, raw(uint32_t{2}));
  g.tensor("tok_embd.weight", {4, 3}, 0, 48).tensor("blk.0.attn_q.weight", {32, 2}, 8, 68);
  return g;
}

// --- probe ---------------------------------------------------------------

TEST(GgufProbe, MagicBeatsExtension) {
  const FormatReader& r = gguf_reader();
  EXPECT_EQ(r.name(), "gguf");
  EXPECT_EQ(r.probe("GGUF\3\0\0\0", "x.bin"), Confidence::kMagic);
  EXPECT_EQ(r.probe("GGUF", "x.gguf"), Confidence::kMagic);
  EXPECT_EQ(r.probe("PK\3\4", "model.GGUF"), Confidence::kHint);
  EXPECT_EQ(r.probe("GGU", "model.bin"), Confidence::kNo);
  EXPECT_EQ(r.probe("", "gguf"), Confidence::kNo);
}

// --- valid files ---------------------------------------------------------

TEST(GgufRead, SmallFileTensorsAndArtifact) {
  std::string bytes = small_file().bytes();
  Result r = read(bytes);
  ASSERT_TRUE(r.ok) << r.err.str();
  EXPECT_EQ(r.art.format, "gguf");
  ASSERT_EQ(r.art.files.size(), 1u);
  EXPECT_EQ(r.art.files[0].format, "gguf");
  EXPECT_EQ(r.art.files[0].size, bytes.size());
  // header 24 + kvs (8+20+4+8+5) + (8+17+4+4) + infos (8+15+4+16+4+8) + (8+19+4+16+4+8) = 216 -> 224
  ASSERT_EQ(r.idx.tensors.size(), 2u);
  const TensorInfo& a = r.idx.tensors[0];
  EXPECT_EQ(a.name, "tok_embd.weight");
  EXPECT_EQ(a.dtype, DType::F32);
  EXPECT_EQ(a.shape, (std::vector<uint64_t>{3, 4}));
  EXPECT_EQ(a.layout, TensorLayout::kRaw);
  EXPECT_EQ(a.file, 0u);
  EXPECT_EQ(a.offset, 224u);
  EXPECT_EQ(a.length, 48u);
  const TensorInfo& b = r.idx.tensors[1];
  EXPECT_EQ(b.name, "blk.0.attn_q.weight");
  EXPECT_EQ(b.dtype, DType::Q8_0);
  EXPECT_EQ(b.shape, (std::vector<uint64_t>{2, 32}));
  EXPECT_EQ(b.offset, 224u + 64u);
  EXPECT_EQ(b.length, 68u);
  EXPECT_EQ(b.offset + b.length, bytes.size());
  const json& m = r.art.metadata["gguf"];
  EXPECT_EQ(m["version"], 3);
  EXPECT_EQ(m["alignment"], 32);
  EXPECT_EQ(m["tensor_count"], 2);
  EXPECT_EQ(m["kv"], json({{"general.architecture", "llama"}, {"llama.block_count", 2}}));
}

TEST(GgufRead, KeepsExistingFormat) {
  Result r;
  r.art.format = "hf-directory";
  auto f = MappedFile::from_bytes("model.gguf", small_file().bytes());
  ASSERT_TRUE(gguf_reader().read(*f, &r.art, &r.idx, &r.err));
  EXPECT_EQ(r.art.format, "hf-directory");
}

TEST(GgufRead, EveryValueType) {
  Gguf g;
  g.kv("u8", U8, raw(uint8_t{250})).kv("i8", I8, raw(int8_t{-5}));
  g.kv("u16", U16, raw(uint16_t{65535})).kv("i16", I16, raw(int16_t{-30000}));
  g.kv("u32", U32, raw(uint32_t{4000000000u})).kv("i32", I32, raw(int32_t{-2000000000}));
  g.kv("f32", F32, raw(1.5f)).kv("bool_t", BOOL, raw(uint8_t{1})).kv("bool_f", BOOL, raw(uint8_t{0}));
  g.kv("str", STR, gstr("h\xc3\xa9llo")).kv("empty", STR, gstr(""));
  g.kv("u64", U64, raw(std::numeric_limits<uint64_t>::max()));
  g.kv("i64", I64, raw(std::numeric_limits<int64_t>::min())).kv("f64", F64, raw(-0.25));
  g.kv("arr_i32", ARR, garr(I32, 3, raw(int32_t{1}) + raw(int32_t{-2}) + raw(int32_t{3})));
  g.kv("arr_str", ARR, garr(STR, 2, gstr("a") + gstr("bc")));
  g.kv("arr_empty", ARR, garr(F32, 0, ""));
  g.kv("nested", ARR, garr(ARR, 2, garr(U8, 2, "\x01\x02") + garr(STR, 1, gstr("x"))));
  g.kv("deep", ARR, garr(ARR, 1, garr(ARR, 1, garr(BOOL, 1, "\x01"))));
  Result r = read(g.bytes());
  ASSERT_TRUE(r.ok) << r.err.str();
  const json& kv = r.art.metadata["gguf"]["kv"];
  EXPECT_EQ(kv.size(), 19u);
  EXPECT_EQ(kv["u8"], 250);
  EXPECT_EQ(kv["i8"], -5);
  EXPECT_EQ(kv["u16"], 65535);
  EXPECT_EQ(kv["i16"], -30000);
  EXPECT_EQ(kv["u32"], 4000000000u);
  EXPECT_EQ(kv["i32"], -2000000000);
  EXPECT_EQ(kv["f32"], 1.5);
  EXPECT_EQ(kv["bool_t"], true);
  EXPECT_EQ(kv["bool_f"], false);
  EXPECT_EQ(kv["str"], "h\xc3\xa9llo");
  EXPECT_EQ(kv["empty"], "");
  EXPECT_TRUE(kv["u64"].is_number_unsigned());
  EXPECT_EQ(kv["u64"].get<uint64_t>(), std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(kv["i64"].get<int64_t>(), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(kv["f64"], -0.25);
  EXPECT_EQ(kv["arr_i32"], json({1, -2, 3}));
  EXPECT_EQ(kv["arr_str"], json({"a", "bc"}));
  EXPECT_EQ(kv["arr_empty"], json::array());
  EXPECT_EQ(kv["nested"], json::parse(R"([[1,2],["x"]])"));
  EXPECT_EQ(kv["deep"], json::parse("[[[true]]]"));
  EXPECT_EQ(r.art.metadata["gguf"]["tensor_count"], 0);
  EXPECT_NO_THROW(r.art.metadata.dump());
}

TEST(GgufRead, NonFiniteFloatsBecomeStrings) {
  Gguf g;
  g.kv("nan", F32, raw(std::numeric_limits<float>::quiet_NaN()));
  g.kv("inf", F64, raw(std::numeric_limits<double>::infinity()));
  g.kv("arr", ARR, garr(F32, 2, raw(-std::numeric_limits<float>::infinity()) + raw(2.0f)));
  Result r = read(g.bytes());
  ASSERT_TRUE(r.ok) << r.err.str();
  EXPECT_EQ(r.art.metadata["gguf"]["kv"].dump(), R"({"arr":["-inf",2.0],"inf":"inf","nan":"nan"})");
}

TEST(GgufRead, InvalidUtf8ValueIsReplacedWithFinding) {
  Gguf g;
  g.kv("name", STR, gstr("ab\xff" "c"));
  Result r = read(g.bytes());
  ASSERT_TRUE(r.ok) << r.err.str();
  EXPECT_EQ(r.art.metadata["gguf"]["kv"]["name"], "ab\xef\xbf\xbd" "c");
  ASSERT_EQ(r.art.findings.size(), 1u);
  EXPECT_EQ(r.art.findings[0].id, "gguf-invalid-utf8");
  EXPECT_EQ(r.art.findings[0].offset, 0x28u);
  EXPECT_NO_THROW(r.art.metadata.dump());
}

TEST(GgufRead, Version2) {
  Gguf g = small_file();
  g.version = 2;
  Result r = read(g.bytes());
  ASSERT_TRUE(r.ok) << r.err.str();
  EXPECT_EQ(r.art.metadata["gguf"]["version"], 2);
  EXPECT_EQ(r.idx.tensors.size(), 2u);
}

TEST(GgufRead, CustomAlignment) {
  Gguf g;
  g.alignment = 64;
  g.kv("general.alignment", U32, raw(uint32_t{64}));
  g.tensor("a", {3}, 0, 12).tensor("b", {5}, 1, 10);
  Result r = read(g.bytes());
  ASSERT_TRUE(r.ok) << r.err.str();
  // 24 + (8+17+4+4) + (8+1+4+8+4+8) + (8+1+4+8+4+8) = 123 -> data at 128
  EXPECT_EQ(r.art.metadata["gguf"]["alignment"], 64);
  ASSERT_EQ(r.idx.tensors.size(), 2u);
  EXPECT_EQ(r.idx.tensors[0].offset, 128u);
  EXPECT_EQ(r.idx.tensors[1].offset, 192u);
  EXPECT_EQ(r.idx.tensors[1].dtype, DType::F16);
  EXPECT_EQ(r.idx.tensors[1].length, 10u);
}

TEST(GgufRead, DimsAreReversedToOutermostFirst) {
  Gguf g;
  g.tensor("t", {2, 3, 5, 7}, 26, 2 * 3 * 5 * 7 * 4).tensor("scalar", {}, 0, 4);
  Result r = read(g.bytes());
  ASSERT_TRUE(r.ok) << r.err.str();
  EXPECT_EQ(r.idx.tensors[0].shape, (std::vector<uint64_t>{7, 5, 3, 2}));
  EXPECT_EQ(r.idx.tensors[0].dtype, DType::I32);
  EXPECT_EQ(r.idx.tensors[1].shape, std::vector<uint64_t>{});
  EXPECT_EQ(r.idx.tensors[1].length, 4u);
}

TEST(GgufRead, QuantizedAndPlainTypeSizes) {
  struct Case { uint32_t id; DType dtype; uint64_t inner; uint64_t bytes; };
  // bytes for shape [2, inner] (two rows)
  const Case cases[] = {
      {2, DType::Q4_0, 64, 2 * 2 * 18},     {3, DType::Q4_1, 32, 2 * 20},
      {6, DType::Q5_0, 32, 2 * 22},         {7, DType::Q5_1, 32, 2 * 24},
      {8, DType::Q8_0, 32, 2 * 34},         {9, DType::Q8_1, 32, 2 * 36},
      {10, DType::Q2_K, 256, 2 * 84},       {11, DType::Q3_K, 256, 2 * 110},
      {12, DType::Q4_K, 512, 2 * 2 * 144},  {13, DType::Q5_K, 256, 2 * 176},
      {14, DType::Q6_K, 256, 2 * 210},      {15, DType::Q8_K, 256, 2 * 292},
      {16, DType::IQ2_XXS, 256, 2 * 66},    {17, DType::IQ2_XS, 256, 2 * 74},
      {18, DType::IQ3_XXS, 256, 2 * 98},    {19, DType::IQ1_S, 256, 2 * 50},
      {20, DType::IQ4_NL, 32, 2 * 18},      {21, DType::IQ3_S, 256, 2 * 110},
      {22, DType::IQ2_S, 256, 2 * 82},      {23, DType::IQ4_XS, 256, 2 * 136},
      {24, DType::I8, 3, 2 * 3},            {25, DType::I16, 3, 2 * 6},
      {26, DType::I32, 3, 2 * 12},          {27, DType::I64, 3, 2 * 24},
      {28, DType::F64, 3, 2 * 24},          {29, DType::IQ1_M, 256, 2 * 56},
      {30, DType::BF16, 3, 2 * 6},          {34, DType::TQ1_0, 256, 2 * 54},
      {35, DType::TQ2_0, 256, 2 * 66},      {39, DType::MXFP4, 64, 2 * 2 * 17},
      {40, DType::NVFP4, 128, 2 * 2 * 36}, {41, DType::Q1_0, 128, 2 * 18}, {42, DType::Q2_0, 64, 2 * 18},
      {0, DType::F32, 3, 2 * 12},           {1, DType::F16, 3, 2 * 6},
  };
  Gguf g;
  for (const Case& c : cases) g.tensor("t" + std::to_string(c.id), {c.inner, 2}, c.id, c.bytes);
  Result r = read(g.bytes());
  ASSERT_TRUE(r.ok) << r.err.str();
  ASSERT_EQ(r.idx.tensors.size(), std::size(cases));
  for (size_t i = 0; i < std::size(cases); ++i) {
    EXPECT_EQ(r.idx.tensors[i].dtype, cases[i].dtype) << cases[i].id;
    EXPECT_EQ(r.idx.tensors[i].length, cases[i].bytes) << cases[i].id;
    EXPECT_EQ(r.idx.tensors[i].shape, (std::vector<uint64_t>{2, cases[i].inner})) << cases[i].id;
  }
}

// Parsing cost is measured by bench, not asserted here; this checks correctness at scale.
TEST(GgufRead, LargeTokenizerArray) {
  const uint64_t n = 150000;
  std::string elems;
  for (uint64_t i = 0; i < n; ++i) elems += gstr("tok" + std::to_string(i));
  std::string scores;
  for (uint64_t i = 0; i < n; ++i) scores += raw(static_cast<float>(i));
  Gguf g;
  g.kv("tokenizer.ggml.tokens", ARR, garr(STR, n, elems)).kv("tokenizer.ggml.scores", ARR, garr(F32, n, scores));
  Result r = read(g.bytes());
  ASSERT_TRUE(r.ok) << r.err.str();
  const json& toks = r.art.metadata["gguf"]["kv"]["tokenizer.ggml.tokens"];
  ASSERT_EQ(toks.size(), n);
  EXPECT_EQ(toks[149999], "tok149999");
  EXPECT_EQ(r.art.metadata["gguf"]["kv"]["tokenizer.ggml.scores"][7], 7.0);
}

// --- malformed files -----------------------------------------------------

TEST(GgufMalformed, TruncatedHeader) {
  EXPECT_EQ(read_err(""), "model.gguf: offset 0x0: truncated gguf header: file size 0 B, need 24 B");
  EXPECT_EQ(read_err(std::string("GGUF\3\0\0\0\0\0", 10)), "model.gguf: offset 0x0: truncated gguf header: file size 10 B, need 24 B");
}

TEST(GgufMalformed, EveryPrefixFailsCleanly) {
  Gguf g = small_file();
  g.kv("arr", ARR, garr(ARR, 1, garr(STR, 1, gstr("x"))));
  std::string bytes = g.bytes();
  ASSERT_TRUE(read(bytes).ok);
  for (size_t n = 0; n < bytes.size(); ++n) {
    Result r = read(bytes.substr(0, n));
    EXPECT_FALSE(r.ok) << n;
    EXPECT_FALSE(r.err.message.empty()) << n;
    ASSERT_TRUE(r.err.offset.has_value()) << n;
    EXPECT_LE(*r.err.offset, n) << n;
  }
  // A cut inside the tensor data: the last tensor is out of range.
  EXPECT_EQ(read_err(bytes.substr(0, bytes.size() - 1)),
            "model.gguf: offset 0x100: tensor 'blk.0.attn_q.weight' data [0x160, 0x1a4) exceeds file size 419 B");
  // Too short for the declared tensors at all.
  EXPECT_EQ(read_err(bytes.substr(0, 30)), "model.gguf: offset 0x8: tensor count 2 exceeds file size 30 B");
  // Without tensors: a cut inside the first key, then inside the value's length.
  Gguf kv;
  kv.kv("general.architecture", STR, gstr("llama"));
  std::string k = kv.head() + kv.kvs;
  EXPECT_EQ(read_err(k.substr(0, 40)), "model.gguf: offset 0x18: string length 20 exceeds remaining 8 B");
  EXPECT_EQ(read_err(k.substr(0, 60)), "model.gguf: offset 0x38: truncated string length: need 8 B, 4 B remain");
  EXPECT_EQ(read_err(k.substr(0, 66)), "model.gguf: offset 0x38: string length 5 exceeds remaining 2 B");
}

TEST(GgufMalformed, BadMagic) {
  std::string bytes = small_file().bytes();
  bytes[3] = 'L';
  EXPECT_EQ(read_err(bytes), "model.gguf: offset 0x0: bad magic \"GGUL\" (expected \"GGUF\")");
  bytes[0] = '\x01';
  EXPECT_EQ(read_err(bytes), "model.gguf: offset 0x0: bad magic \"\\x01GUL\" (expected \"GGUF\")");
}

TEST(GgufMalformed, Version1AndUnknownVersion) {
  Gguf g = small_file();
  g.version = 1;
  EXPECT_EQ(read_err(g.bytes()), "model.gguf: offset 0x4: gguf version 1 is not supported (only versions 2 and 3)");
  g.version = 4;
  EXPECT_EQ(read_err(g.bytes()), "model.gguf: offset 0x4: unknown gguf version 4 (only versions 2 and 3)");
}

TEST(GgufMalformed, BigEndian) {
  Gguf g = small_file();
  g.version = 0x03000000;
  EXPECT_EQ(read_err(g.bytes()),
            "model.gguf: offset 0x4: big-endian gguf (version field 0x3000000) is not supported; "
            "only little-endian files are read");
}

TEST(GgufMalformed, TensorCountHuge) {
  std::string bytes = small_file().bytes();
  std::string count = raw(uint64_t{1} << 40);
  bytes.replace(8, 8, count);
  EXPECT_EQ(read_err(bytes), "model.gguf: offset 0x8: tensor count 2^40 exceeds file size 356 B");
}

TEST(GgufMalformed, TensorCountOverLimit) {
  Gguf g;
  g.n_tensors = limits::kMaxTensors + 1;
  std::string bytes = g.bytes();
  bytes.resize(24 * (limits::kMaxTensors + 2), '\0');
  EXPECT_EQ(read_err(bytes), "model.gguf: offset 0x8: tensor count 4194305 exceeds limit 2^22");
}

TEST(GgufMalformed, TensorCountExceedsBytesLeftAfterMetadata) {
  Gguf g;
  g.kv("k", STR, gstr(std::string(100, 'x')));
  g.n_tensors = 4;  // 4 * 24 bytes fit in the file, but not after the metadata
  EXPECT_EQ(read_err(g.bytes()), "model.gguf: offset 0x8: tensor count 4 exceeds remaining 15 B");
}

TEST(GgufMalformed, KvCountHuge) {
  std::string bytes = small_file().bytes();
  bytes.replace(16, 8, raw(~uint64_t{0}));
  EXPECT_EQ(read_err(bytes), "model.gguf: offset 0x10: metadata kv count 18446744073709551615 exceeds file size 356 B");
}

TEST(GgufMalformed, StringLength2Pow63) {
  Gguf g;
  g.kv("name", STR, raw(uint64_t{1} << 63) + std::string(1229, 'x'));
  // header 24 + key length 8 + "name" 4 + type 4 = 0x28; 1229 bytes remain after the length
  EXPECT_EQ(read_err(g.bytes().substr(0, 0x30 + 1229)),
            "model.gguf: offset 0x28: string length 2^63 exceeds remaining 1.2 KiB");
}

TEST(GgufMalformed, KeyAndNameLengthOverLimit) {
  Gguf g;
  g.kv(std::string(limits::kMaxNameBytes + 1, 'k'), U8, "\x01");
  EXPECT_EQ(read_err(g.bytes()), "model.gguf: offset 0x18: metadata key length 65537 exceeds limit 64.0 KiB");
  Gguf t;
  t.info(std::string(limits::kMaxNameBytes + 1, 'n'), {1}, 0, 0);
  EXPECT_EQ(read_err(t.bytes()), "model.gguf: offset 0x18: tensor name length 65537 exceeds limit 64.0 KiB");
}

TEST(GgufMalformed, ArrayCountHuge) {
  Gguf g;
  g.kv("a", ARR, garr(U16, uint64_t{1} << 40, "\1\2\3\4"));
  // 24 + 8 + 1 + 4 = 0x25 (element type), count at 0x29; 4 + 11 padding bytes remain after it
  EXPECT_EQ(read_err(g.bytes()), "model.gguf: offset 0x29: array count 2^40 exceeds remaining 15 B");
}

TEST(GgufMalformed, ArrayCountOverLimit) {
  Gguf g;
  g.kv("a", ARR, garr(U8, limits::kMaxArrayElems + 1, std::string(limits::kMaxArrayElems + 1, '\0')));
  EXPECT_EQ(read_err(g.bytes()), "model.gguf: offset 0x29: array count 67108865 exceeds limit 2^26");
}

TEST(GgufMalformed, TooManyArrayValuesInTotal) {
  const uint64_t n = (uint64_t{1} << 24) + 1;  // within kMaxArrayElems, over the per-file value cap
  Gguf g;
  g.kv("a", ARR, garr(U8, n, std::string(n, '\0')));
  EXPECT_EQ(read_err(g.bytes()), "model.gguf: offset 0x29: metadata holds more than 2^24 array values");
}

std::string nested_arrays(uint64_t levels) {
  std::string v = garr(U8, 0, "");
  for (uint64_t i = 1; i < levels; ++i) v = garr(ARR, 1, v);
  return v;
}

TEST(GgufMalformed, NestingTooDeep) {
  Gguf ok;
  ok.kv("deep", ARR, nested_arrays(limits::kMaxNesting));
  EXPECT_TRUE(read(ok.bytes()).ok);
  Gguf g;
  g.kv("deep", ARR, nested_arrays(limits::kMaxNesting + 1));
  // 24 + 8 + 4 + 4 = 40; each level is 12 bytes: level 65 starts at 40 + 64 * 12 = 0x328
  EXPECT_EQ(read_err(g.bytes()), "model.gguf: offset 0x328: metadata arrays nested deeper than 64 levels");
}

TEST(GgufMalformed, UnknownValueType) {
  Gguf g;
  g.kv("k", 13, raw(uint32_t{0}));
  EXPECT_EQ(read_err(g.bytes()), "model.gguf: offset 0x21: unknown metadata value type 13");
  Gguf a;
  a.kv("k", ARR, garr(99, 1, "\0"));
  EXPECT_EQ(read_err(a.bytes()), "model.gguf: offset 0x25: unknown metadata array element type 99");
}

TEST(GgufMalformed, DuplicateKey) {
  Gguf g;
  g.kv("a", U8, "\1").kv("a", U8, "\2");
  EXPECT_EQ(read_err(g.bytes()), "model.gguf: offset 0x26: duplicate metadata key 'a'");
}

TEST(GgufMalformed, InvalidUtf8KeyAndTensorName) {
  Gguf g;
  g.kv("a\xc0", U8, "\1");
  EXPECT_EQ(read_err(g.bytes()), "model.gguf: offset 0x18: metadata key is not valid utf-8");
  Gguf t;
  t.info("\xed\xa0\x80", {1}, 0, 0);
  EXPECT_EQ(read_err(t.bytes()), "model.gguf: offset 0x18: tensor 0 name is not valid utf-8");
}

TEST(GgufMalformed, AlignmentNotPowerOfTwo) {
  Gguf g;
  g.kv("general.alignment", U32, raw(uint32_t{48}));
  EXPECT_EQ(read_err(g.bytes()), "model.gguf: offset 0x35: general.alignment 48 is not a non-zero power of two");
  Gguf z;
  z.kv("general.alignment", U32, raw(uint32_t{0}));
  EXPECT_EQ(read_err(z.bytes()), "model.gguf: offset 0x35: general.alignment 0 is not a non-zero power of two");
}

TEST(GgufMalformed, AlignmentWrongType) {
  Gguf g;
  g.kv("general.alignment", U64, raw(uint64_t{32}));
  EXPECT_EQ(read_err(g.bytes()), "model.gguf: offset 0x31: general.alignment has type uint64, expected uint32");
}

TEST(GgufMalformed, UnknownAndRemovedGgmlType) {
  Gguf g;
  g.info("w", {32}, 99, 0);
  // 24 + name 9 + n_dims 4 + dim 8 = 0x2d
  EXPECT_EQ(read_err(g.bytes()), "model.gguf: offset 0x2d: tensor 'w' has unknown ggml type 99");
  Gguf r;
  r.info("w", {32}, 4, 0);
  EXPECT_EQ(read_err(r.bytes()), "model.gguf: offset 0x2d: tensor 'w' has removed Q4_2 ggml type 4");
  Gguf r2;
  r2.info("w", {32}, 36, 0);
  EXPECT_EQ(read_err(r2.bytes()), "model.gguf: offset 0x2d: tensor 'w' has removed IQ4_NL_4_4 ggml type 36");
  Gguf n;
  n.info("w", {64}, 43, 0);
  EXPECT_EQ(read_err(n.bytes()), "model.gguf: offset 0x2d: tensor 'w' has unknown ggml type 43");
}

TEST(GgufMalformed, TooManyDims) {
  Gguf g;
  g.info("w", {1, 1, 1, 1, 1}, 0, 0);
  EXPECT_EQ(read_err(g.bytes()), "model.gguf: offset 0x21: tensor 'w' has 5 dimensions (max 4)");
}

TEST(GgufMalformed, ZeroAndOverflowingDims) {
  Gguf z;
  z.info("w", {4, 0}, 0, 0);
  EXPECT_EQ(read_err(z.bytes()), "model.gguf: offset 0x2d: tensor 'w' dimension 1 is zero");
  Gguf big;
  big.info("w", {uint64_t{1} << 63}, 0, 0);
  EXPECT_EQ(read_err(big.bytes()), "model.gguf: offset 0x25: tensor 'w' dimension 0 is 2^63 (over 2^63-1)");
  Gguf o;
  o.info("w", {uint64_t{1} << 32, uint64_t{1} << 32}, 0, 0);
  EXPECT_EQ(read_err(o.bytes()), "model.gguf: offset 0x21: tensor 'w' element count overflows 64 bits");
  Gguf b;
  b.info("w", {uint64_t{1} << 31, uint64_t{1} << 31}, 0, 0);  // 2^62 elements * 4 bytes
  EXPECT_EQ(read_err(b.bytes()), "model.gguf: offset 0x21: tensor 'w' byte size overflows 64 bits");
}

TEST(GgufMalformed, RowNotMultipleOfBlock) {
  Gguf g;
  g.info("w", {48, 2}, 8, 0);
  EXPECT_EQ(read_err(g.bytes()),
            "model.gguf: offset 0x21: tensor 'w' innermost dimension 48 is not a multiple of block size 32 of Q8_0");
}

TEST(GgufMalformed, OffsetNotAligned) {
  Gguf g;
  g.info("w", {4}, 0, 16);
  g.data.assign(64, '\0');
  // 24 + 9 + 4 + 8 + 4 = 0x31
  EXPECT_EQ(read_err(g.bytes()), "model.gguf: offset 0x31: tensor 'w' offset 0x10 is not a multiple of alignment 32");
}

TEST(GgufMalformed, DataOutOfRange) {
  Gguf g;
  // infos end at 24 + 27 + 4 + 16 + 4 + 8 = 83 -> data section at 0x60; offset field at 0x4b
  g.info("blk.0.attn_q.weight", {1024, 4}, 0, 0x1000 - 0x60);
  g.data.assign(16 * 1024 - 0x60, '\0');
  std::string bytes = g.bytes();
  ASSERT_EQ(bytes.size(), 16u * 1024);
  EXPECT_EQ(read_err(bytes),
            "model.gguf: offset 0x4b: tensor 'blk.0.attn_q.weight' data [0x1000, 0x5000) exceeds file size 16.0 KiB");
  Gguf o;
  o.info("w", {4}, 0, ~uint64_t{0} - 31);
  EXPECT_EQ(read_err(o.bytes()),
            "model.gguf: offset 0x31: tensor 'w' offset 0xffffffffffffffe0 + size 16 overflows");
}

TEST(GgufMalformed, OverlappingTensors) {
  Gguf g;
  g.info("a", {16}, 0, 0).info("b", {4}, 0, 32);
  g.data.assign(128, '\0');
  EXPECT_EQ(read_err(g.bytes()), "model.gguf: offset 0x52: tensor 'b' data [0x80, 0x90) overlaps tensor 'a' data [0x60, 0xa0)");
  Gguf same;
  same.info("a", {4}, 0, 0).info("b", {4}, 0, 0);
  same.data.assign(32, '\0');
  EXPECT_EQ(read_err(same.bytes()),
            "model.gguf: offset 0x52: tensor 'b' data [0x60, 0x70) overlaps tensor 'a' data [0x60, 0x70)");
}

TEST(GgufMalformed, DuplicateTensorName) {
  Gguf g;
  g.info("a", {4}, 0, 0).info("a", {4}, 0, 32);
  g.data.assign(64, '\0');
  EXPECT_EQ(read_err(g.bytes()), "model.gguf: offset 0x39: duplicate tensor name 'a' (tensors 0 and 1)");
}

}  // namespace
}  // namespace pedigree
