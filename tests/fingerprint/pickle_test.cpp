// Tests for fingerprint/formats/pickle.cpp: a genuine torch 1.13 legacy
// (non-zip) checkpoint, legacy checkpoints built in code (storage layout, view
// metadata), plain pickles with unsafe imports, and exact malformed-input errors.
#include <gtest/gtest.h>

#include <cstring>

#include "fingerprint/formats/readers.h"
#include "tests/support/pickle_writer.h"

namespace pedigree {
namespace {

using test::PickleWriter;
using test::TensorSpec;

using test::unhex;

// Produced with Debian python3-torch 1.13 (/usr/bin/python3):
//   import torch, collections
//   sd = collections.OrderedDict()
//   sd['a.weight'] = torch.arange(6, dtype=torch.float32).reshape(2, 3)
//   sd['a.bias'] = torch.tensor([1, 2], dtype=torch.int64)
//   sd['t'] = sd['a.weight'].t()
//   sd['h'] = torch.ones(3, dtype=torch.float16)[1:]
//   torch.save(sd, 'legacy.pt', _use_new_zipfile_serialization=False)
const char kTorch113Legacy[] =
    "80028a0a6cfc9c46f9206aa850192e80024de9032e80027d710028581000000070726f746f636f6c5f76657273696f6e71014de903580d00"
    "00006c6974746c655f656e6469616e710288580a000000747970655f73697a657371037d710428580500000073686f727471054b02580300"
    "0000696e7471064b0458040000006c6f6e6771074b0475752e800263636f6c6c656374696f6e730a4f726465726564446963740a71002952"
    "7101285808000000612e776569676874710263746f7263682e5f7574696c730a5f72656275696c645f74656e736f725f76320a7103282858"
    "0700000073746f72616765710463746f7263680a466c6f617453746f726167650a7105580900000035303733373530353671065803000000"
    "63707571074b064e747108514b004b024b038671094b034b0186710a8968002952710b74710c52710d5806000000612e62696173710e6803"
    "2828680463746f7263680a4c6f6e6753746f726167650a710f5809000000343833323536343332711068074b024e747111514b004b028571"
    "124b0185711389680029527114747115527116580100000074711768032828680468055809000000353037333735303536711868074b064e"
    "747119514b004b034b0286711a4b014b0386711b8968002952711c74711d52711e580100000068711f68032828680463746f7263680a4861"
    "6c6653746f726167650a71205809000000343833343530343936712168074b034e747122514b014b028571234b0185712489680029527125"
    "747126527127752e80025d710028580900000034383332353634333271015809000000343833343530343936710258090000003530373337"
    "353035367103652e0200000000000000010000000000000002000000000000000300000000000000003c003c003c06000000000000000000"
    "00000000803f0000004000004040000080400000a040";

using Read = test::ReadResult;

Read read_pkl(const std::string& bytes, const std::string& name = "m.pt") { return test::read_bytes(pickle_reader(), bytes, name); }

std::string read_error(const std::string& bytes) {
  Read r = read_pkl(bytes);
  EXPECT_FALSE(r.ok);
  return r.err.str();
}

// The three header pickles of a legacy checkpoint: magic, 1001, sys_info.
std::string legacy_header(bool little = true, int version = 1001) {
  PickleWriter w;
  w.proto(2).op(0x8a).op(10).raw(unhex("6cfc9c46f9206aa85019")).stop();
  w.proto(2).integer(version).stop();
  w.proto(2).op('}').str("little_endian").op(little ? 0x88 : 0x89).op('s').stop();
  return w.bytes();
}

// A storage key list pickle followed by each storage (u64 count + bytes).
std::string legacy_storages(const std::vector<std::pair<std::string, std::string>>& st, const std::vector<uint64_t>& counts) {
  PickleWriter w;
  w.proto(2).op(']').mark();
  for (const auto& s : st) w.str(s.first);
  w.op('e').stop();
  std::string out = w.bytes();
  for (size_t i = 0; i < st.size(); ++i) {
    test::put_u64(&out, counts[i]);
    out += st[i].second;
  }
  return out;
}

TEST(Pickle, GenuineTorch113Legacy) {
  Read r = read_pkl(unhex(kTorch113Legacy));
  ASSERT_TRUE(r.ok) << r.err.str();
  ASSERT_EQ(r.idx.tensors.size(), 4u);
  const TensorInfo& w = r.idx.tensors[0];
  EXPECT_EQ(w.name, "a.weight");
  EXPECT_EQ(w.dtype, DType::F32);
  EXPECT_EQ(w.layout, TensorLayout::kStrided);
  EXPECT_EQ(w.offset, 670u);
  EXPECT_EQ(w.storage, "507375056");
  EXPECT_EQ(w.storage_bytes, 24u);
  float f;
  std::memcpy(&f, r.file->data() + w.offset + 20, 4);
  EXPECT_EQ(f, 5.0f);
  EXPECT_EQ(r.idx.tensors[1].name, "a.bias");
  EXPECT_EQ(r.idx.tensors[1].offset, 632u);
  EXPECT_EQ(r.idx.tensors[1].dtype, DType::I64);
  EXPECT_EQ(r.idx.tensors[2].strides, (std::vector<int64_t>{1, 3}));
  EXPECT_EQ(r.idx.tensors[3].offset, 656u);
  EXPECT_EQ(r.idx.tensors[3].storage_offset, 1u);
  EXPECT_EQ(r.idx.tensors[3].length, 4u);
  EXPECT_TRUE(r.art.findings.empty());
  EXPECT_EQ(r.art.format, "pytorch");
  EXPECT_EQ(r.art.files.at(0).format, "pickle");
  EXPECT_EQ(r.art.metadata["pytorch"]["legacy"], true);
  EXPECT_EQ(r.art.metadata["pytorch"]["protocol_version"], 1001);
  EXPECT_EQ(r.art.metadata["pytorch"]["tensor_count"], 4);
}

TEST(Pickle, EveryPrefixOfGenuineLegacyFailsCleanly) {
  std::string full = unhex(kTorch113Legacy);
  for (size_t n = 0; n < full.size(); ++n) {
    Read r = read_pkl(full.substr(0, n));
    EXPECT_FALSE(r.ok) << n;
    EXPECT_FALSE(r.err.message.empty()) << n;
  }
}

TEST(Pickle, BuiltLegacyCheckpoint) {
  std::string head = legacy_header();
  std::string obj = test::state_dict_pickle({{"enc.w", "FloatStorage", "k0", 4, 1, {3}, {1}},
                                             {"enc.b", "ShortStorage", "k1", 2, 0, {2}, {1}}});
  std::string tail = legacy_storages({{"k1", std::string(4, '\x02')}, {"k0", test::iota_f32(4)}}, {2, 4});
  Read r = read_pkl(head + obj + tail);
  ASSERT_TRUE(r.ok) << r.err.str();
  ASSERT_EQ(r.idx.tensors.size(), 2u);
  uint64_t keys_len = tail.size() - 8 - 4 - 8 - 16;
  uint64_t k1 = head.size() + obj.size() + keys_len + 8;
  EXPECT_EQ(r.idx.tensors[1].offset, k1);
  EXPECT_EQ(r.idx.tensors[1].dtype, DType::I16);
  EXPECT_EQ(r.idx.tensors[0].offset, k1 + 4 + 8);
  EXPECT_EQ(r.idx.tensors[0].storage_offset, 1u);
  EXPECT_EQ(r.idx.tensors[0].length, 12u);
}

TEST(Pickle, LegacyViewMetadata) {
  // persistent id ('storage', FloatStorage, 'root', 'cpu', 6, ('view', 2, 3))
  PickleWriter w;
  w.proto(2).global("torch._utils", "_rebuild_tensor").mark();
  w.mark().str("storage").global("torch", "FloatStorage").str("root").str("cpu").integer(6);
  w.mark().str("view").integer(2).integer(3).tuple().tuple().op('Q');
  w.integer(1).mark().integer(2).tuple().mark().integer(1).tuple().tuple().reduce().stop();
  Read r = read_pkl(legacy_header() + w.bytes() + legacy_storages({{"root", test::iota_f32(6)}}, {6}));
  ASSERT_TRUE(r.ok) << r.err.str();
  const TensorInfo& t = r.idx.tensors.at(0);
  EXPECT_EQ(t.storage_bytes, 12u);
  EXPECT_EQ(t.storage_offset, 1u);
  float f;
  std::memcpy(&f, r.file->data() + t.offset + 4 * t.storage_offset, 4);
  EXPECT_EQ(f, 3.0f);
  // The same view claiming 5 elements from offset 2 leaves the 6-element root.
  PickleWriter v;
  v.proto(2).global("torch._utils", "_rebuild_tensor").mark();
  v.mark().str("storage").global("torch", "FloatStorage").str("root").str("cpu").integer(6);
  v.mark().str("view").integer(2).integer(5).tuple().tuple().op('Q');
  v.integer(0).mark().integer(1).tuple().mark().integer(1).tuple().tuple();
  uint64_t at = legacy_header().size() + v.pos();
  v.reduce().stop();
  EXPECT_EQ(read_error(legacy_header() + v.bytes() + legacy_storages({{"root", test::iota_f32(6)}}, {6})),
            "m.pt: offset " + hex_offset(at) + ": tensor 'tensor': storage view exceeds storage 'root'");
}

TEST(Pickle, PlainPickleWithUnsafeImports) {
  PickleWriter w;
  w.proto(2).op('}').str("a").integer(1).op('s');
  size_t os_off = w.pos();
  w.global("os", "system").mark().str("id").tuple().reduce().op('0');
  size_t posix_off = w.pos();
  w.global("posix", "system").op('0');
  size_t runpy_off = w.pos() + 24;
  w.stack_global("runpy", "_run_code").op('0').stop();
  Read r = read_pkl(w.bytes(), "x.pkl");
  ASSERT_TRUE(r.ok) << r.err.str();
  EXPECT_TRUE(r.idx.tensors.empty());
  EXPECT_EQ(r.art.format, "pickle");
  ASSERT_EQ(r.art.findings.size(), 3u);
  EXPECT_EQ(r.art.findings[0].message, "pickle imports os.system");
  EXPECT_EQ(r.art.findings[0].offset, os_off);
  EXPECT_EQ(r.art.findings[0].path, "x.pkl");
  EXPECT_EQ(r.art.findings[1].message, "pickle imports posix.system");
  EXPECT_EQ(r.art.findings[1].offset, posix_off);
  EXPECT_EQ(r.art.findings[2].message, "pickle imports runpy._run_code");
  EXPECT_EQ(r.art.findings[2].offset, runpy_off);
  EXPECT_EQ(r.art.metadata["pickle"]["protocol"], 2);
  EXPECT_EQ(r.art.metadata["pickle"]["globals"], nlohmann::json({"os.system", "posix.system", "runpy._run_code"}));
}

TEST(Pickle, UnsafeImportInLegacyObjectStillLoadsTensors) {
  std::string head = legacy_header();
  PickleWriter w;
  w.proto(2).op('}').str("w").tensor("FloatStorage", "k", 1, 0, {1}, {1}).op('s');
  w.str("evil");
  size_t off = head.size() + w.pos();
  w.global("builtins", "exec").op('s').stop();
  Read r = read_pkl(head + w.bytes() + legacy_storages({{"k", test::iota_f32(1)}}, {1}));
  ASSERT_TRUE(r.ok) << r.err.str();
  EXPECT_EQ(r.idx.tensors.size(), 1u);
  ASSERT_EQ(r.art.findings.size(), 1u);
  EXPECT_EQ(r.art.findings[0].message, "pickle imports builtins.exec");
  EXPECT_EQ(r.art.findings[0].offset, off);
}

TEST(Pickle, Probe) {
  EXPECT_EQ(pickle_reader().probe("\x80\x02}q", "x.weird"), Confidence::kMagic);
  EXPECT_EQ(pickle_reader().probe("\x80\x05\x95", "x.weird"), Confidence::kMagic);
  EXPECT_EQ(pickle_reader().probe("\x80\x07", "x.weird"), Confidence::kNo);
  EXPECT_EQ(pickle_reader().probe("(dp0", "x.pkl"), Confidence::kHint);
  EXPECT_EQ(pickle_reader().probe("(dp0", "x.bin"), Confidence::kHint);
  EXPECT_EQ(pickle_reader().probe("PK\x03\x04", "x.pt"), Confidence::kNo);
}

TEST(Pickle, LegacyErrors) {
  std::string obj = test::state_dict_pickle({{"w", "FloatStorage", "k", 2, 0, {2}, {1}}});
  std::string st = legacy_storages({{"k", test::iota_f32(2)}}, {2});
  EXPECT_EQ(read_error(legacy_header(false) + obj + st), "m.pt: offset 0x2a: big-endian checkpoints are not supported");
  EXPECT_EQ(read_error(legacy_header(true, 1000) + obj + st), "m.pt: offset 0x11: legacy checkpoint protocol version is not 1001");
  std::string full = legacy_header() + obj + st;
  uint64_t data_at = full.size() - 16;
  EXPECT_EQ(read_error(full.substr(0, full.size() - 1)),
            "m.pt: offset " + hex_offset(data_at) + ": storage 'k' of 2 elements exceeds the 7 B remaining");
  EXPECT_EQ(read_error(full.substr(0, data_at + 3)),
            "m.pt: offset " + hex_offset(data_at) + ": storage 'k' truncated: no element count");
  std::string other = legacy_storages({{"other", test::iota_f32(2)}}, {2});
  EXPECT_EQ(read_error(legacy_header() + obj + other),
            "m.pt: offset " + hex_offset(data_at + 4) + ": storage 'other' is listed but no tensor uses it");
  std::string none = legacy_storages({}, {});
  uint64_t at = legacy_header().size() + obj.size() - 3;
  EXPECT_EQ(read_error(legacy_header() + obj + none),
            "m.pt: offset " + hex_offset(at) + ": tensor 'w': storage 'k' is missing from the storage list");
  std::string small = legacy_storages({{"k", test::iota_f32(1)}}, {1});
  EXPECT_EQ(read_error(legacy_header() + obj + small),
            "m.pt: offset " + hex_offset(at) + ": tensor 'w': storage 'k' declares 2 elements but holds 1");
  std::string huge = legacy_storages({{"k", ""}}, {uint64_t{1} << 62});
  EXPECT_EQ(read_error(legacy_header() + obj + huge),
            "m.pt: offset " + hex_offset(data_at) + ": storage 'k' of 2^62 elements exceeds the 0 B remaining");
  EXPECT_EQ(read_error(legacy_header() + obj.substr(0, 30)),
            "m.pt: offset " + hex_offset(legacy_header().size() + 30) + ": pickle ends without STOP");
}

TEST(Pickle, TruncatedPlainPickle) {
  EXPECT_EQ(read_error("\x80\x02}q"), "m.pt: offset 0x3: pickle truncated in BINPUT argument (1 B needed, 0 B remain)");
  EXPECT_EQ(read_error(""), "m.pt: offset 0x0: pickle ends without STOP");
}

}  // namespace
}  // namespace pedigree
