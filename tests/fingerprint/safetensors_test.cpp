// This file implements the tests of the safetensors reader: fixtures are
// written in code by a tiny safetensors writer, then read back; malformed
// headers, data ranges and shard indexes are checked for their exact errors.
#include <gtest/gtest.h>

#include <filesystem>

#include "fingerprint/formats/readers.h"
#include "tests/support/test_util.h"

namespace pedigree {
namespace {

using nlohmann::json;
using test::put_u64;
using test::TempDir;

// One tensor to write: its bytes are a counting pattern of the right size.
struct Spec {
  std::string name;
  std::string dtype;
  std::vector<uint64_t> shape;
  uint64_t elem_bytes;
};

// A safetensors file from a header text and a data buffer.
std::string raw_file(const std::string& header, const std::string& data = "") {
  std::string s;
  put_u64(&s, header.size());
  return s + header + data;
}

// A valid file holding `specs` back to back, in order.
std::string st_file(const std::vector<Spec>& specs, const json& meta = nullptr) {
  json h = json::object();
  std::string data;
  for (const Spec& s : specs) {
    uint64_t n = s.elem_bytes;
    for (uint64_t d : s.shape) n *= d;
    uint64_t begin = data.size();
    for (uint64_t i = 0; i < n; ++i) data += static_cast<char>((begin + i) % 251);
    h[s.name] = {{"dtype", s.dtype}, {"shape", s.shape}, {"data_offsets", {begin, data.size()}}};
  }
  if (!meta.is_null()) h["__metadata__"] = meta;
  return raw_file(h.dump(), data);
}

// A header with one tensor entry given as JSON text.
std::string one_tensor(const std::string& entry, const std::string& data = "") {
  return raw_file("{\"t\":" + entry + "}", data);
}

struct Result {
  bool ok = false;
  ModelArtifact art;
  TensorIndex idx;
  Error err;
};

Result read_bytes(const std::string& bytes, const std::string& path = "m.safetensors") {
  Result r;
  auto f = MappedFile::from_bytes(path, bytes);
  r.art.root = path;
  r.ok = safetensors_reader().read(*f, &r.art, &r.idx, &r.err);
  return r;
}

Result read_path(const std::string& path, const std::string& root) {
  Result r;
  auto f = MappedFile::open(path, &r.err);
  if (!f) return r;
  r.art.root = root;
  r.ok = safetensors_reader().read(*f, &r.art, &r.idx, &r.err);
  return r;
}

// The rendered error of reading `bytes` ("ok" when it reads).
std::string error_of(const std::string& bytes) {
  Result r = read_bytes(bytes);
  return r.ok ? "ok" : r.err.str();
}

TEST(SafetensorsRead, EveryDtype) {
  const std::vector<std::pair<std::string, std::pair<DType, uint64_t>>> types = {
      {"F64", {DType::F64, 8}},         {"F32", {DType::F32, 4}},
      {"F16", {DType::F16, 2}},         {"BF16", {DType::BF16, 2}},
      {"I64", {DType::I64, 8}},         {"I32", {DType::I32, 4}},
      {"I16", {DType::I16, 2}},         {"I8", {DType::I8, 1}},
      {"U64", {DType::U64, 8}},         {"U32", {DType::U32, 4}},
      {"U16", {DType::U16, 2}},         {"U8", {DType::U8, 1}},
      {"BOOL", {DType::BOOL, 1}},       {"F8_E4M3", {DType::F8_E4M3, 1}},
      {"F8_E5M2", {DType::F8_E5M2, 1}},
  };
  for (const auto& [name, t] : types) {
    std::string bytes = st_file({{"w", name, {2, 3}, t.second}});
    Result r = read_bytes(bytes);
    ASSERT_TRUE(r.ok) << name << ": " << r.err.str();
    ASSERT_EQ(r.idx.tensors.size(), 1u);
    const TensorInfo& ti = r.idx.tensors[0];
    EXPECT_EQ(ti.dtype, t.first) << name;
    EXPECT_EQ(ti.shape, (std::vector<uint64_t>{2, 3}));
    EXPECT_EQ(ti.layout, TensorLayout::kRaw);
    EXPECT_EQ(ti.length, 6 * t.second);
    EXPECT_EQ(ti.offset + ti.length, bytes.size()) << name;
    EXPECT_EQ(ti.file, 0u);
  }
}

TEST(SafetensorsRead, ScalarAndZeroSizedDims) {
  Result r = read_bytes(st_file({{"s", "F32", {}, 4}, {"z", "F16", {0, 5}, 2}}));
  ASSERT_TRUE(r.ok) << r.err.str();
  ASSERT_EQ(r.idx.tensors.size(), 2u);
  // z is empty at offset 4, after s [0, 4): sorted by offset.
  EXPECT_EQ(r.idx.tensors[0].name, "s");
  EXPECT_TRUE(r.idx.tensors[0].shape.empty());
  EXPECT_EQ(r.idx.tensors[0].length, 4u);
  EXPECT_EQ(r.idx.tensors[1].name, "z");
  EXPECT_EQ(r.idx.tensors[1].length, 0u);
  EXPECT_TRUE(r.art.findings.empty());
}

TEST(SafetensorsRead, MetadataFilesAndFormat) {
  std::string bytes = st_file({{"w", "F32", {2}, 4}}, {{"format", "pt"}, {"note", "x"}});
  Result r = read_bytes(bytes);
  ASSERT_TRUE(r.ok) << r.err.str();
  EXPECT_EQ(r.art.format, "safetensors");
  const json& m = r.art.metadata["safetensors"];
  EXPECT_EQ(m["metadata"], json({{"format", "pt"}, {"note", "x"}}));
  uint64_t n = bytes.size() - 8 - 8;
  EXPECT_EQ(m["header_bytes"], n);
  EXPECT_EQ(r.idx.tensors[0].offset, 8 + n);
  ASSERT_EQ(r.art.files.size(), 1u);
  EXPECT_EQ(r.art.files[0].name, ".");
  EXPECT_EQ(r.art.files[0].format, "safetensors");
  EXPECT_EQ(r.art.files[0].size, bytes.size());
}

TEST(SafetensorsRead, TensorsOrderedByDataOffset) {
  std::string header = R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[3,5]},)"
                       R"("b":{"dtype":"U8","shape":[1],"data_offsets":[5,6]},)"
                       R"("c":{"dtype":"U8","shape":[3],"data_offsets":[0,3]}})";
  Result r = read_bytes(raw_file(header, "abcdef"));
  ASSERT_TRUE(r.ok) << r.err.str();
  ASSERT_EQ(r.idx.tensors.size(), 3u);
  EXPECT_EQ(r.idx.tensors[0].name, "c");
  EXPECT_EQ(r.idx.tensors[1].name, "a");
  EXPECT_EQ(r.idx.tensors[2].name, "b");
  EXPECT_EQ(r.idx.tensors[1].offset, 8 + header.size() + 3);
}

TEST(SafetensorsRead, UnreferencedBytesAreAWarning) {
  std::string header = R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[2,4]}})";
  Result r = read_bytes(raw_file(header, "abcdef"));
  ASSERT_TRUE(r.ok) << r.err.str();
  ASSERT_EQ(r.art.findings.size(), 1u);
  const Finding& f = r.art.findings[0];
  EXPECT_EQ(f.id, "safetensors-unreferenced-bytes");
  EXPECT_EQ(f.severity, "warning");
  EXPECT_EQ(f.offset, 8 + header.size());
  EXPECT_EQ(f.message, "4 bytes of the data buffer are not referenced by any tensor");
}

TEST(SafetensorsProbe, MagicAndHint) {
  const FormatReader& r = safetensors_reader();
  std::string good = st_file({{"w", "F32", {1}, 4}});
  EXPECT_EQ(r.probe(good, "x.bin"), Confidence::kMagic);
  EXPECT_EQ(r.probe("\x01\x00\x00\x00\x00\x00\x00\x00[", "x.safetensors"), Confidence::kHint);
  EXPECT_EQ(r.probe("PK\x03\x04", "x.bin"), Confidence::kNo);
  std::string huge;
  put_u64(&huge, uint64_t{1} << 40);
  EXPECT_EQ(r.probe(huge + "{", "x.bin"), Confidence::kNo);
  EXPECT_EQ(r.probe("  {\"weight_map\":{}}", "m.safetensors.index.json"), Confidence::kMagic);
  EXPECT_EQ(r.probe("{}", "config.json"), Confidence::kNo);
}

// ---- malformed single files -------------------------------------------------

TEST(SafetensorsMalformed, SizeField) {
  EXPECT_EQ(
      error_of("abc"),
      "m.safetensors: offset 0x0: file is 3 bytes, shorter than the 8-byte header size field");
  std::string s;
  put_u64(&s, 1000);
  EXPECT_EQ(error_of(s + "{}"),
            "m.safetensors: offset 0x0: header size 1000 bytes exceeds the 2 bytes after the size "
            "field");
  s.clear();
  put_u64(&s, uint64_t{1} << 40);
  EXPECT_EQ(error_of(s + "{}"),
            "m.safetensors: offset 0x0: header size 2^40 bytes exceeds the 100.0 MiB cap");
}

TEST(SafetensorsMalformed, HeaderNotAJsonObject) {
  EXPECT_EQ(error_of(raw_file("{\"a\": nope}")),
            "m.safetensors: offset 0xf: header not valid JSON: syntax error while parsing value - "
            "invalid literal; last read: '\"a\": no'");
  EXPECT_EQ(error_of(raw_file("{\"w\xff\": 1}")),
            "m.safetensors: offset 0xb: header not valid JSON: syntax error while parsing object "
            "key - invalid string: ill-formed UTF-8 byte; last read: '\"w\\xff'; expected string "
            "literal");
  EXPECT_EQ(error_of(raw_file("[1, 2]")),
            "m.safetensors: offset 0x8: header is an array, expected a JSON object");
  EXPECT_EQ(error_of(raw_file("\"x\"")),
            "m.safetensors: offset 0x8: header is a string, expected a JSON object");
  EXPECT_EQ(error_of(raw_file(std::string(100, '[') + std::string(100, ']'))),
            "m.safetensors: offset 0x8: header JSON nests deeper than 64 levels");
}

TEST(SafetensorsMalformed, EveryTruncatedPrefixFailsCleanly) {
  std::string good = st_file({{"a", "F32", {2, 2}, 4}, {"b", "I8", {3}, 1}}, {{"k", "v"}});
  ASSERT_TRUE(read_bytes(good).ok);
  for (size_t n = 0; n < good.size(); ++n) {
    Result r = read_bytes(good.substr(0, n));
    EXPECT_FALSE(r.ok) << "prefix " << n;
    EXPECT_FALSE(r.err.message.empty()) << "prefix " << n;
  }
  // Cut inside the data: the last tensor ends past the buffer.
  EXPECT_EQ(error_of(good.substr(0, good.size() - 1)),
            "m.safetensors: offset " + hex_offset(good.size() - 3) +
                ": tensor 'b' data_offsets [16, 19) end past the 18-byte data buffer");
}

TEST(SafetensorsMalformed, Dtype) {
  EXPECT_EQ(error_of(one_tensor(R"({"dtype":"Q4_0","shape":[1],"data_offsets":[0,1]})", "x")),
            "m.safetensors: offset 0x8: tensor 't' has unknown dtype 'Q4_0'");
  EXPECT_EQ(error_of(one_tensor(R"({"dtype":4,"shape":[1],"data_offsets":[0,1]})", "x")),
            "m.safetensors: offset 0x8: tensor 't' dtype is 4, expected a string");
  EXPECT_EQ(error_of(one_tensor(R"({"shape":[1],"data_offsets":[0,1]})", "x")),
            "m.safetensors: offset 0x8: tensor 't' has no \"dtype\" field");
  EXPECT_EQ(error_of(one_tensor(R"([1])")),
            "m.safetensors: offset 0x8: tensor 't' is an array, expected an object");
}

TEST(SafetensorsMalformed, Shape) {
  auto with_shape = [](const std::string& shape) {
    return error_of(one_tensor(R"({"dtype":"U8","shape":)" + shape + R"(,"data_offsets":[0,0]})"));
  };
  EXPECT_EQ(with_shape("[-1]"),
            "m.safetensors: offset 0x8: tensor 't' shape dim 0 is -1, expected a non-negative "
            "integer");
  EXPECT_EQ(with_shape("[2, 1.5]"),
            "m.safetensors: offset 0x8: tensor 't' shape dim 1 is 1.5, expected a non-negative "
            "integer");
  EXPECT_EQ(with_shape("[18446744073709551616]"),
            "m.safetensors: offset 0x8: tensor 't' shape dim 0 is 1.8446744073709552e+19, "
            "expected a non-negative integer");
  EXPECT_EQ(with_shape("[\"3\"]"),
            "m.safetensors: offset 0x8: tensor 't' shape dim 0 is a string, expected a "
            "non-negative integer");
  EXPECT_EQ(with_shape("{}"),
            "m.safetensors: offset 0x8: tensor 't' shape is an object, expected an array");
  EXPECT_EQ(with_shape("[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]"),
            "m.safetensors: offset 0x8: tensor 't' shape has 17 dims, more than the 16 supported");
  EXPECT_EQ(with_shape("[4294967296, 4294967296]"),
            "m.safetensors: offset 0x8: tensor 't' shape [4294967296, 4294967296] has more than "
            "2^64 elements");
  EXPECT_EQ(error_of(one_tensor(
                R"({"dtype":"F64","shape":[4294967296, 536870912],"data_offsets":[0,0]})")),
            "m.safetensors: offset 0x8: tensor 't' F64 [4294967296, 536870912] needs more than "
            "2^64 bytes");
}

TEST(SafetensorsMalformed, DataOffsets) {
  auto with_offsets = [](const std::string& offs) {
    return error_of(
        one_tensor(R"({"dtype":"F32","shape":[2],"data_offsets":)" + offs + "}", "12345678"));
  };
  EXPECT_EQ(with_offsets("[0]"),
            "m.safetensors: offset 0x8: tensor 't' data_offsets has 1 values, expected [begin, "
            "end]");
  EXPECT_EQ(with_offsets("[0, 4, 8]"),
            "m.safetensors: offset 0x8: tensor 't' data_offsets has 3 values, expected [begin, "
            "end]");
  EXPECT_EQ(with_offsets("\"0-8\""),
            "m.safetensors: offset 0x8: tensor 't' data_offsets is a string, expected [begin, "
            "end]");
  EXPECT_EQ(with_offsets("[0, -8]"),
            "m.safetensors: offset 0x8: tensor 't' data_offsets[1] is -8, expected a "
            "non-negative integer");
  EXPECT_EQ(with_offsets("[8, 0]"),
            "m.safetensors: offset 0x8: tensor 't' data_offsets [8, 0) begin after end");
  EXPECT_EQ(with_offsets("[0, 4]"),
            "m.safetensors: offset 0x8: tensor 't' data_offsets [0, 4) span 4 bytes but F32 [2] "
            "needs 8 bytes");
  EXPECT_EQ(with_offsets("[4, 12]"),
            "m.safetensors: offset 0x44: tensor 't' data_offsets [4, 12) end past the 8-byte data "
            "buffer");
  EXPECT_EQ(with_offsets("[18446744073709551600, 18446744073709551608]"),
            "m.safetensors: offset 0xffffffffffffffff: tensor 't' data_offsets "
            "[18446744073709551600, 18446744073709551608) end past the 8-byte data buffer");
  EXPECT_EQ(error_of(one_tensor(R"({"dtype":"F32","shape":[2]})", "12345678")),
            "m.safetensors: offset 0x8: tensor 't' has no \"data_offsets\" field");
}

TEST(SafetensorsMalformed, OverlappingTensors) {
  std::string header = R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},)"
                       R"("b":{"dtype":"U8","shape":[4],"data_offsets":[2,6]}})";
  EXPECT_EQ(error_of(raw_file(header, "abcdef")),
            "m.safetensors: offset " + hex_offset(8 + header.size() + 2) +
                ": tensor 'b' data_offsets [2, 6) overlap tensor 'a' data_offsets [0, 4)");
  // An empty tensor inside another one shares no bytes with it.
  std::string empty_inside = R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},)"
                             R"("e":{"dtype":"U8","shape":[0],"data_offsets":[2,2]}})";
  EXPECT_EQ(error_of(raw_file(empty_inside, "abcd")), "ok");
}

TEST(SafetensorsMalformed, DuplicateTensorName) {
  std::string header = R"({"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},)"
                       R"("w":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}})";
  EXPECT_EQ(error_of(raw_file(header, "ab")),
            "m.safetensors: offset 0x8: duplicate tensor name 'w'");
  EXPECT_EQ(
      error_of(one_tensor(R"({"dtype":"U8","dtype":"I8","shape":[1],"data_offsets":[0,1]})", "a")),
      "m.safetensors: offset 0x8: duplicate key 'dtype' inside 't'");
}

TEST(SafetensorsMalformed, Metadata) {
  EXPECT_EQ(error_of(raw_file(R"({"__metadata__":{"format":"pt","n":3}})")),
            "m.safetensors: offset 0x8: __metadata__ value for 'n' is 3, expected a string");
  EXPECT_EQ(error_of(raw_file(R"({"__metadata__":["pt"]})")),
            "m.safetensors: offset 0x8: __metadata__ is an array, expected an object of strings");
  EXPECT_EQ(error_of(raw_file(R"({"__metadata__":{"a":{"b":"c"}}})")),
            "m.safetensors: offset 0x8: __metadata__ value for 'a' is an object, expected a "
            "string");
}

// ---- sharded models ---------------------------------------------------------

// Writes two shards and their index into `dir`; returns the index path.
std::string write_sharded(const TempDir& dir, const json& weight_map, const json& meta) {
  dir.write("model-00001-of-00002.safetensors",
            st_file({{"a", "F32", {2}, 4}, {"b", "I8", {3}, 1}}, {{"format", "pt"}}));
  dir.write("model-00002-of-00002.safetensors", st_file({{"c", "F16", {4}, 2}}));
  json index = {{"metadata", meta}, {"weight_map", weight_map}};
  return dir.write("model.safetensors.index.json", index.dump(2));
}

json good_map() {
  return {{"a", "model-00001-of-00002.safetensors"},
          {"b", "model-00001-of-00002.safetensors"},
          {"c", "model-00002-of-00002.safetensors"}};
}

TEST(SafetensorsSharded, ReadsBothShardsAndTheIndex) {
  TempDir dir;
  std::string index = write_sharded(dir, good_map(), {{"total_size", 19}});
  Result r = read_path(index, dir.path().string());
  ASSERT_TRUE(r.ok) << r.err.str();
  ASSERT_EQ(r.art.files.size(), 3u);
  EXPECT_EQ(r.art.files[0].name, "model-00001-of-00002.safetensors");
  EXPECT_EQ(r.art.files[1].name, "model-00002-of-00002.safetensors");
  EXPECT_EQ(r.art.files[2].name, "model.safetensors.index.json");
  EXPECT_EQ(r.art.files[2].format, "safetensors-index");
  ASSERT_EQ(r.idx.tensors.size(), 3u);
  EXPECT_EQ(r.idx.tensors[0].name, "a");
  EXPECT_EQ(r.idx.tensors[1].name, "b");
  EXPECT_EQ(r.idx.tensors[2].name, "c");
  EXPECT_EQ(r.idx.tensors[1].file, 0u);
  EXPECT_EQ(r.idx.tensors[2].file, 1u);
  EXPECT_EQ(r.idx.tensors[2].length, 8u);
  EXPECT_EQ(r.art.metadata["safetensors"]["index"], json({{"total_size", 19}}));
  EXPECT_EQ(r.art.metadata["safetensors"]["metadata"], json({{"format", "pt"}}));
  EXPECT_EQ(r.art.metadata["safetensors"]["shards"].size(), 2u);
  EXPECT_TRUE(r.art.findings.empty());
}

TEST(SafetensorsSharded, TotalSizeMismatchIsAWarning) {
  TempDir dir;
  std::string index = write_sharded(dir, good_map(), {{"total_size", 20}});
  Result r = read_path(index, dir.path().string());
  ASSERT_TRUE(r.ok) << r.err.str();
  ASSERT_EQ(r.art.findings.size(), 1u);
  EXPECT_EQ(r.art.findings[0].id, "safetensors-index-total-size-mismatch");
  EXPECT_EQ(r.art.findings[0].severity, "warning");
  EXPECT_EQ(r.art.findings[0].message,
            "index metadata total_size 20 does not match the 19 bytes of tensors in the shards");
}

// The error of reading an index whose weight_map is `wm`, with its path prefix stripped.
std::string shard_error(const json& wm, std::string* dir_out = nullptr) {
  TempDir dir;
  std::string index = write_sharded(dir, wm, json::object());
  Result r = read_path(index, dir.path().string());
  if (r.ok) return "ok";
  std::string s = r.err.str();
  std::string prefix = dir.path().string() + "/";
  if (dir_out) *dir_out = prefix;
  if (s.compare(0, prefix.size(), prefix) == 0) s = s.substr(prefix.size());
  // The TempDir is gone after this, so failed reads must not leave files behind in art.
  EXPECT_TRUE(r.art.files.empty());
  EXPECT_TRUE(r.idx.tensors.empty());
  return s;
}

TEST(SafetensorsSharded, ShardPathsMustStayInTheDirectory) {
  json wm = good_map();
  wm["c"] = "../model-00002-of-00002.safetensors";
  EXPECT_EQ(shard_error(wm),
            "model.safetensors.index.json: offset 0x0: shard path "
            "'../model-00002-of-00002.safetensors' leaves the index directory");
  wm["c"] = "/etc/passwd";
  EXPECT_EQ(shard_error(wm),
            "model.safetensors.index.json: offset 0x0: shard path '/etc/passwd' is absolute, "
            "expected a file in the index directory");
  wm["c"] = "sub/../../x.safetensors";
  EXPECT_EQ(shard_error(wm),
            "model.safetensors.index.json: offset 0x0: shard path 'sub/../../x.safetensors' leaves "
            "the index directory");
}

TEST(SafetensorsSharded, SymlinkEscapingTheDirectoryIsRejected) {
  TempDir outside;
  outside.write("evil.safetensors", st_file({{"c", "F16", {4}, 2}}));
  TempDir dir;
  json wm = good_map();
  wm["c"] = "link.safetensors";
  std::string index = write_sharded(dir, wm, json::object());
  std::filesystem::create_symlink(outside.path() / "evil.safetensors",
                                  dir.path() / "link.safetensors");
  Result r = read_path(index, dir.path().string());
  ASSERT_FALSE(r.ok);
  std::string target =
      std::filesystem::weakly_canonical(outside.path() / "evil.safetensors").string();
  EXPECT_EQ(r.err.str(), index +
                             ": offset 0x0: shard path 'link.safetensors' resolves outside the "
                             "index directory (to '" +
                             target + "')");
  // A symlink to a file inside the directory is fine.
  std::filesystem::remove(dir.path() / "link.safetensors");
  std::filesystem::create_symlink(dir.path() / "model-00002-of-00002.safetensors",
                                  dir.path() / "link.safetensors");
  wm.erase("c");
  wm["c"] = "link.safetensors";
  Result ok = read_path(index, dir.path().string());
  EXPECT_TRUE(ok.ok) << ok.err.str();
}

TEST(SafetensorsSharded, MissingShard) {
  json wm = good_map();
  wm["c"] = "model-00003-of-00002.safetensors";
  EXPECT_EQ(shard_error(wm),
            "model.safetensors.index.json: shard 'model-00003-of-00002.safetensors' named by "
            "weight_map: cannot open: no such file or directory");
}

TEST(SafetensorsSharded, WeightMapMustAgreeWithShards) {
  json wm = good_map();
  wm.erase("b");
  EXPECT_EQ(shard_error(wm),
            "model.safetensors.index.json: tensor 'b' in shard 'model-00001-of-00002.safetensors' "
            "is not listed in weight_map");
  wm = good_map();
  wm["b"] = "model-00002-of-00002.safetensors";
  EXPECT_EQ(shard_error(wm),
            "model.safetensors.index.json: tensor 'b' is stored in shard "
            "'model-00001-of-00002.safetensors' but weight_map lists shard "
            "'model-00002-of-00002.safetensors'");
  wm = good_map();
  wm["d"] = "model-00002-of-00002.safetensors";
  EXPECT_EQ(shard_error(wm),
            "model.safetensors.index.json: tensor 'd' listed in weight_map is missing from shard "
            "'model-00002-of-00002.safetensors'");
}

TEST(SafetensorsSharded, MalformedIndex) {
  TempDir dir;
  std::string p = dir.write("m.safetensors.index.json",
                            R"({"weight_map":{"a":"x.safetensors","a":"y.safetensors"}})");
  Result r = read_path(p, dir.path().string());
  EXPECT_EQ(r.err.str(), p + ": offset 0x0: duplicate tensor name 'a' in weight_map");
  p = dir.write("m.safetensors.index.json", R"({"metadata":{}})");
  r = read_path(p, dir.path().string());
  EXPECT_EQ(r.err.str(), p + ": offset 0x0: index has no \"weight_map\" object");
  p = dir.write("m.safetensors.index.json", R"({"weight_map":{"a":7}})");
  r = read_path(p, dir.path().string());
  EXPECT_EQ(r.err.str(),
            p + ": offset 0x0: weight_map entry for tensor 'a' is 7, expected a shard file name");
  p = dir.write("m.safetensors.index.json", R"({"weight_map":)");
  r = read_path(p, dir.path().string());
  EXPECT_EQ(r.err.str(), p + ": offset 0xe: index not valid JSON: syntax error while parsing "
                             "value - unexpected end of input; expected '[', '{', or a literal");
}

TEST(SafetensorsSharded, ShardErrorsNameTheShard) {
  TempDir dir;
  write_sharded(dir, good_map(), json::object());
  std::string bad = dir.write("model-00002-of-00002.safetensors", "short");
  Result r = read_path((dir.path() / "model.safetensors.index.json").string(), dir.path().string());
  EXPECT_EQ(r.err.str(),
            bad + ": offset 0x0: file is 5 bytes, shorter than the 8-byte header size field");
}

}  // namespace
}  // namespace pedigree
