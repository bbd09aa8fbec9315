// Tests for fingerprint/formats/pytorch.cpp: a genuine torch 1.13 zip
// checkpoint, state_dicts built in code (stored and deflated storages, nested
// names, parameters), unsafe imports, and exact errors for malformed archives.
#include <gtest/gtest.h>

#include <cstring>

#include "fingerprint/formats/readers.h"
#include "fingerprint/formats/zip_archive.h"
#include "tests/support/pickle_writer.h"

namespace pedigree {
namespace {

using test::PickleWriter;
using test::TensorSpec;
using test::ZipMember;

using test::unhex;

// Produced with Debian python3-torch 1.13 (/usr/bin/python3):
//   import torch, collections
//   sd = collections.OrderedDict()
//   sd['a.weight'] = torch.arange(6, dtype=torch.float32).reshape(2, 3)
//   sd['a.bias'] = torch.tensor([1, 2], dtype=torch.int64)
//   sd['t'] = sd['a.weight'].t()
//   sd['h'] = torch.ones(3, dtype=torch.float16)[1:]
//   torch.save(sd, 'zip.pt')
const char kTorch113Zip[] =
    "504b0304000008080000000000000000000000000000000000000c0016007a69702f646174612e706b6c464212005a5a5a5a5a5a5a5a5a5a"
    "5a5a5a5a5a5a5a5a800263636f6c6c656374696f6e730a4f726465726564446963740a710029527101285808000000612e77656967687471"
    "0263746f7263682e5f7574696c730a5f72656275696c645f74656e736f725f76320a71032828580700000073746f72616765710463746f72"
    "63680a466c6f617453746f726167650a71055801000000307106580300000063707571074b06747108514b004b024b038671094b034b0186"
    "710a8968002952710b74710c52710d5806000000612e62696173710e68032828680463746f7263680a4c6f6e6753746f726167650a710f58"
    "0100000031711068074b02747111514b004b028571124b018571138968002952711474711552711658010000007471176803282868046805"
    "680668074b06747118514b004b034b028671194b014b0386711a8968002952711b74711c52711d580100000068711e68032828680463746f"
    "7263680a48616c6653746f726167650a711f580100000032712068074b03747121514b014b028571224b0185712389680029527124747125"
    "527126752e504b070801144ce28501000085010000504b0304000008080000000000000000000000000000000000000a0043007a69702f64"
    "6174612f3046423f005a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a"
    "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a000000000000803f0000004000004040000080400000a040504b07081790e7911800000018000000"
    "504b0304000008080000000000000000000000000000000000000a0030007a69702f646174612f3146422c005a5a5a5a5a5a5a5a5a5a5a5a"
    "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a01000000000000000200000000000000504b0708b9ddf600"
    "1000000010000000504b0304000008080000000000000000000000000000000000000a0038007a69702f646174612f32464234005a5a5a5a"
    "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a003c003c003c504b"
    "070857940dd70600000006000000504b0304000008080000000000000000000000000000000000000b0041007a69702f76657273696f6e46"
    "423d005a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a"
    "5a5a5a5a5a5a5a5a330a504b0708d19e67550200000002000000504b010200000000080800000000000001144ce285010000850100000c00"
    "000000000000000000000000000000007a69702f646174612e706b6c504b01020000000008080000000000001790e7911800000018000000"
    "0a00000000000000000000000000d50100007a69702f646174612f30504b0102000000000808000000000000b9ddf6001000000010000000"
    "0a00000000000000000000000000680200007a69702f646174612f31504b010200000000080800000000000057940dd70600000006000000"
    "0a00000000000000000000000000e00200007a69702f646174612f32504b0102000000000808000000000000d19e67550200000002000000"
    "0b00000000000000000000000000560300007a69702f76657273696f6e504b06062c000000000000001e032d000000000000000000050000"
    "000000000005000000000000001b01000000000000d203000000000000504b060700000000ed0400000000000001000000504b0506000000"
    "00050005001b010000d20300000000";

using Read = test::ReadResult;

Read read_pt(const std::string& bytes, const std::string& name = "m.pt") { return test::read_bytes(pytorch_reader(), bytes, name); }

std::string read_error(const std::string& bytes) {
  Read r = read_pt(bytes);
  EXPECT_FALSE(r.ok);
  return r.err.str();
}

// data offset of a stored member, via ZipArchive.
uint64_t member_offset(const std::string& zip, const std::string& name) {
  auto f = MappedFile::from_bytes("m.pt", zip);
  Error err;
  auto z = ZipArchive::open(*f, &err);
  if (!z || !z->find(name)) return 0;
  return z->find(name)->data_offset;
}

std::string checkpoint(const std::vector<TensorSpec>& ts, std::vector<ZipMember> storages) {
  std::vector<ZipMember> m = {{"archive/data.pkl", test::state_dict_pickle(ts)}};
  for (ZipMember& s : storages) m.push_back(std::move(s));
  m.push_back({"archive/version", "3\n"});
  return test::build_zip(m);
}

float f32_at(const Read& r, uint64_t off) {
  float f;
  std::memcpy(&f, r.file->data() + off, 4);
  return f;
}

TEST(Pytorch, GenuineTorch113Checkpoint) {
  Read r = read_pt(unhex(kTorch113Zip));
  ASSERT_TRUE(r.ok) << r.err.str();
  ASSERT_EQ(r.idx.tensors.size(), 4u);
  const TensorInfo& w = r.idx.tensors[0];
  EXPECT_EQ(w.name, "a.weight");
  EXPECT_EQ(w.dtype, DType::F32);
  EXPECT_EQ(w.shape, (std::vector<uint64_t>{2, 3}));
  EXPECT_EQ(w.strides, (std::vector<int64_t>{3, 1}));
  EXPECT_EQ(w.layout, TensorLayout::kStrided);
  EXPECT_EQ(w.storage, "zip/data/0");
  EXPECT_EQ(w.offset, 576u);
  EXPECT_EQ(w.length, 24u);
  EXPECT_EQ(w.storage_bytes, 24u);
  EXPECT_EQ(f32_at(r, w.offset + 20), 5.0f);
  const TensorInfo& b = r.idx.tensors[1];
  EXPECT_EQ(b.name, "a.bias");
  EXPECT_EQ(b.dtype, DType::I64);
  EXPECT_EQ(b.offset, 704u);
  EXPECT_EQ(b.length, 16u);
  const TensorInfo& t = r.idx.tensors[2];
  EXPECT_EQ(t.name, "t");
  EXPECT_EQ(t.shape, (std::vector<uint64_t>{3, 2}));
  EXPECT_EQ(t.strides, (std::vector<int64_t>{1, 3}));
  EXPECT_EQ(t.storage, "zip/data/0");
  EXPECT_EQ(t.offset, 576u);
  const TensorInfo& h = r.idx.tensors[3];
  EXPECT_EQ(h.name, "h");
  EXPECT_EQ(h.dtype, DType::F16);
  EXPECT_EQ(h.storage_offset, 1u);
  EXPECT_EQ(h.length, 4u);
  EXPECT_EQ(h.storage_bytes, 6u);
  EXPECT_EQ(h.offset, 832u);
  EXPECT_TRUE(r.art.findings.empty());
  EXPECT_EQ(r.art.format, "pytorch");
  ASSERT_EQ(r.art.files.size(), 1u);
  EXPECT_EQ(r.art.files[0].format, "pytorch");
  const auto& md = r.art.metadata["pytorch"];
  EXPECT_EQ(md["prefix"], "zip");
  EXPECT_EQ(md["version"], "3");
  EXPECT_EQ(md["byteorder"], "little");
  EXPECT_EQ(md["tensor_count"], 4);
  EXPECT_EQ(md["globals"], nlohmann::json({"collections.OrderedDict", "torch.FloatStorage", "torch.HalfStorage",
                                           "torch.LongStorage", "torch._utils._rebuild_tensor_v2"}));
}

TEST(Pytorch, EveryPrefixOfGenuineCheckpointFailsCleanly) {
  std::string full = unhex(kTorch113Zip);
  for (size_t n = 0; n < full.size(); ++n) {
    Read r = read_pt(full.substr(0, n));
    EXPECT_FALSE(r.ok) << n;
    EXPECT_FALSE(r.err.message.empty()) << n;
  }
}

TEST(Pytorch, StateDictNamesAndStoredOffsets) {
  std::string zip = checkpoint(
      {{"model.layers.0.self_attn.q_proj.weight", "FloatStorage", "0", 6, 0, {2, 3}, {3, 1}},
       {"model.norm.weight", "BFloat16Storage", "1", 4, 2, {2}, {1}},
       {"model.flags", "BoolStorage", "2", 3, 0, {3}, {1}}},
      {{"archive/data/0", test::iota_f32(6)}, {"archive/data/1", std::string(8, '\x01')},
       {"archive/data/2", std::string(3, '\x01')}});
  Read r = read_pt(zip);
  ASSERT_TRUE(r.ok) << r.err.str();
  ASSERT_EQ(r.idx.tensors.size(), 3u);
  EXPECT_EQ(r.idx.tensors[0].name, "model.layers.0.self_attn.q_proj.weight");
  EXPECT_EQ(r.idx.tensors[0].offset, member_offset(zip, "archive/data/0"));
  EXPECT_EQ(f32_at(r, r.idx.tensors[0].offset + 8), 2.0f);
  EXPECT_EQ(r.idx.tensors[1].dtype, DType::BF16);
  EXPECT_EQ(r.idx.tensors[1].storage_offset, 2u);
  EXPECT_EQ(r.idx.tensors[1].length, 4u);
  EXPECT_EQ(r.idx.tensors[2].dtype, DType::BOOL);
  EXPECT_EQ(r.art.metadata["pytorch"]["prefix"], "archive");
  EXPECT_EQ(r.art.metadata["pytorch"]["version"], "3");
}

TEST(Pytorch, NestedContainersAndParameters) {
  PickleWriter w;
  w.proto(2).op('}').mark();
  w.str("state_dict").global("collections", "OrderedDict").op(')').reduce().mark();
  w.str("enc.weight").global("torch._utils", "_rebuild_parameter").mark();
  w.tensor("FloatStorage", "0", 4, 0, {4}, {1}).op(0x88).global("collections", "OrderedDict").op(')').reduce();
  w.tuple().reduce().op('u');
  w.str("layers").op(']').mark();
  w.tensor("HalfStorage", "1", 2, 0, {2}, {1}).tensor("HalfStorage", "1", 2, 1, {1}, {1}).op('e');
  w.str("step").integer(10);
  w.op('u').stop();
  std::string zip = test::build_zip({{"ckpt/data.pkl", w.bytes()},
                                     {"ckpt/data/0", test::iota_f32(4)},
                                     {"ckpt/data/1", std::string(4, '\0')},
                                     {"ckpt/byteorder", "little"}});
  Read r = read_pt(zip, "m.ckpt");
  ASSERT_TRUE(r.ok) << r.err.str();
  ASSERT_EQ(r.idx.tensors.size(), 3u);
  EXPECT_EQ(r.idx.tensors[0].name, "state_dict.enc.weight");
  EXPECT_EQ(r.idx.tensors[1].name, "layers.0");
  EXPECT_EQ(r.idx.tensors[2].name, "layers.1");
  EXPECT_EQ(r.idx.tensors[2].storage_offset, 1u);
  EXPECT_EQ(r.art.metadata["pytorch"]["byteorder"], "little");
  EXPECT_EQ(r.art.metadata["pytorch"]["version"], "");
}

TEST(Pytorch, BareTensor) {
  PickleWriter w;
  w.proto(2).tensor("DoubleStorage", "0", 2, 0, {2}, {1}).stop();
  Read r = read_pt(test::build_zip({{"x/data.pkl", w.bytes()}, {"x/data/0", std::string(16, '\0')}}));
  ASSERT_TRUE(r.ok) << r.err.str();
  ASSERT_EQ(r.idx.tensors.size(), 1u);
  EXPECT_EQ(r.idx.tensors[0].name, "tensor");
  EXPECT_EQ(r.idx.tensors[0].dtype, DType::F64);
}

TEST(Pytorch, DeflatedStorage) {
  std::string zip = checkpoint({{"w", "FloatStorage", "0", 6, 2, {2, 2}, {2, 1}}},
                               {{"archive/data/0", test::iota_f32(6), true}});
  Read r = read_pt(zip);
  ASSERT_TRUE(r.ok) << r.err.str();
  const TensorInfo& t = r.idx.tensors.at(0);
  EXPECT_EQ(t.layout, TensorLayout::kZipEntry);
  EXPECT_EQ(t.zip_entry, "archive/data/0");
  EXPECT_EQ(t.entry_offset, 8u);
  EXPECT_EQ(t.length, 16u);
  std::vector<TensorSpec> ts = {{"w", "FloatStorage", "0", 6, 0, {2, 2}, {1, 2}}};
  std::string nc = checkpoint(ts, {{"archive/data/0", test::iota_f32(6), true}});
  uint64_t at = member_offset(nc, "archive/data.pkl") + test::state_dict_pickle(ts).size() - 3;
  EXPECT_EQ(read_error(nc), "m.pt: offset " + hex_offset(at) + ": tensor 'w': non-contiguous view of compressed storage "
                            "'archive/data/0' is not supported");
}

TEST(Pytorch, UnsafeImportsAreFindingsAndTensorsStillLoad) {
  PickleWriter w;
  w.proto(2).op('}').mark();
  w.str("w").tensor("FloatStorage", "0", 2, 0, {2}, {1});
  size_t os_off = w.pos() + 6;  // after the key string
  w.str("x").global("os", "system").mark().str("echo hi").tuple().reduce();
  size_t eval_off = w.pos() + 6;
  w.str("y").global("builtins", "eval").mark().str("1").tuple().reduce();
  size_t popen_off = w.pos() + 6;
  w.str("z").global("subprocess", "Popen").op(')').reduce();
  w.op('u').stop();
  std::string zip = test::build_zip({{"archive/data.pkl", w.bytes()}, {"archive/data/0", std::string(8, '\0')}});
  uint64_t base = member_offset(zip, "archive/data.pkl");
  ASSERT_GT(base, 0u);
  Read r = read_pt(zip);
  ASSERT_TRUE(r.ok) << r.err.str();
  EXPECT_EQ(r.idx.tensors.size(), 1u);
  ASSERT_EQ(r.art.findings.size(), 3u);
  EXPECT_EQ(r.art.findings[0].id, "unsafe-import");
  EXPECT_EQ(r.art.findings[0].severity, "error");
  EXPECT_EQ(r.art.findings[0].path, "m.pt");
  EXPECT_EQ(r.art.findings[0].message, "pickle imports os.system");
  EXPECT_EQ(r.art.findings[0].offset, base + os_off);
  EXPECT_EQ(r.art.findings[1].message, "pickle imports builtins.eval");
  EXPECT_EQ(r.art.findings[1].offset, base + eval_off);
  EXPECT_EQ(r.art.findings[2].message, "pickle imports subprocess.Popen");
  EXPECT_EQ(r.art.findings[2].offset, base + popen_off);
  EXPECT_EQ(r.art.metadata["pytorch"]["globals"].size(), 6u);
}

TEST(Pytorch, UnsupportedRebuildIsAWarning) {
  PickleWriter w;
  w.proto(2).op('}').str("q").global("torch._utils", "_rebuild_qtensor").op(')').reduce().op('s').stop();
  Read r = read_pt(test::build_zip({{"archive/data.pkl", w.bytes()}}));
  ASSERT_TRUE(r.ok) << r.err.str();
  EXPECT_TRUE(r.idx.tensors.empty());
  ASSERT_EQ(r.art.findings.size(), 1u);
  EXPECT_EQ(r.art.findings[0].id, "unsupported-tensor");
  EXPECT_EQ(r.art.findings[0].message,
            "tensor 'q' uses unsupported torch._utils._rebuild_qtensor; not indexed");
}

TEST(Pytorch, Probe) {
  std::string zip = checkpoint({}, {});
  EXPECT_EQ(pytorch_reader().probe(zip.substr(0, 64), "x.weird"), Confidence::kMagic);
  std::string other = test::build_zip({{"a.npy", "x"}});
  EXPECT_EQ(pytorch_reader().probe(other.substr(0, 64), "m.pt"), Confidence::kHint);
  EXPECT_EQ(pytorch_reader().probe(other.substr(0, 64), "m.npz"), Confidence::kNo);
  EXPECT_EQ(pytorch_reader().probe("\x80\x02}q", "m.pt"), Confidence::kNo);
}

TEST(Pytorch, StorageErrors) {
  std::vector<ZipMember> st = {{"archive/data/0", test::iota_f32(6)}};
  // Errors sit at the rebuild REDUCE of the (last) tensor, just before SETITEMS and STOP.
  auto expect_err = [&](const std::vector<TensorSpec>& ts, std::vector<ZipMember> members, const std::string& msg) {
    std::string zip = checkpoint(ts, members);
    uint64_t at = member_offset(zip, "archive/data.pkl") + test::state_dict_pickle(ts).size() - 3;
    EXPECT_EQ(read_error(zip), "m.pt: offset " + hex_offset(at) + ": " + msg);
  };
  expect_err({{"w", "FloatStorage", "1", 6, 0, {6}, {1}}}, st,
            "tensor 'w': storage member 'archive/data/1' is missing");
  expect_err({{"w", "FloatStorage", "0", 6, 1, {2, 3}, {3, 1}}}, st,
            "tensor 'w': view ends at element 6 beyond storage of 6 elements (24 B)");
  expect_err({{"w", "FloatStorage", "0", 6, 0, {6}, {-1}}}, st,
            "tensor 'w': stride -1 is negative");
  expect_err({{"w", "FloatStorage", "0", 6, 0, {-2}, {1}}}, st,
            "tensor 'w': size -2 is negative");
  expect_err({{"w", "FloatStorage", "0", 7, 0, {6}, {1}}}, st,
            "tensor 'w': storage 'archive/data/0' declares 7 elements but holds 24 B");
  expect_err({{"w", "QInt8Storage", "0", 6, 0, {6}, {1}}}, st,
            "tensor 'w': unsupported storage type torch.QInt8Storage");
  expect_err({{"w", "FloatStorage", "0", 6, 0, {6, 1}, {1}}}, st,
            "tensor 'w': 2 sizes but 1 strides");
  expect_err({{"w", "FloatStorage", "0", 6, 0, {6}, {1}},
              {"w", "FloatStorage", "0", 6, 0, {6}, {1}}}, st,
            "duplicate tensor name 'w'");
  expect_err({{"w", "FloatStorage", "0", 6, 0, {1 << 30, 1 << 30, 1 << 30}, {1, 1, 1}}}, st,
            "tensor 'w': shape element count overflows");
  expect_err({{"w", "FloatStorage", "0", 6, 0, {2, 2}, {2147483647, 2147483647}}}, st,
            "tensor 'w': view ends at element 4294967294 beyond storage of 6 elements (24 B)");
}

TEST(Pytorch, LongObjectPathsAreRefused) {
  PickleWriter w;
  w.proto(2).op('}').str(std::string(40000, 'k')).op('}').str(std::string(40000, 'j'));
  w.tensor("FloatStorage", "0", 1, 0, {1}, {1}).op('s').op('s').stop();
  std::string zip = test::build_zip({{"archive/data.pkl", w.bytes()}, {"archive/data/0", std::string(4, '\0')}});
  size_t dict_at = 3 + 5 + 40000;  // the inner EMPTY_DICT follows PROTO, '}' and the 40000-byte key
  EXPECT_EQ(read_error(zip), "m.pt: offset " + hex_offset(member_offset(zip, "archive/data.pkl") + dict_at) +
                                 ": pickle object path exceeds 64.0 KiB");
}

TEST(Pytorch, CyclesAndSharedSubtreesAreBounded) {
  // A list that contains itself: the walk stops at the nesting limit.
  std::string cyc = test::build_zip({{"archive/data.pkl", test::PickleWriter().proto(2).op(']').put(0).get(0).op('a').stop().bytes()}});
  EXPECT_EQ(read_error(cyc), "m.pt: offset " + hex_offset(member_offset(cyc, "archive/data.pkl") + 2) +
                                 ": pickle object graph nests deeper than 64 levels");
  // t = (t, t) thirty times: 2^31 paths through 31 nodes.
  PickleWriter w;
  w.proto(2).op(']');
  for (int i = 0; i < 30; ++i) w.op('2').op(0x86);
  Read r = read_pt(test::build_zip({{"archive/data.pkl", w.stop().bytes()}}));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.err.message, "pickle object graph needs more than 2^24 visits to walk");
}

TEST(Pytorch, ArchiveErrors) {
  EXPECT_EQ(read_error(test::build_zip({{"archive/other", "x"}})),
            "m.pt: zip archive has no <prefix>/data.pkl member (not a torch checkpoint)");
  std::string big = test::build_zip({{"archive/data.pkl", test::state_dict_pickle({})}, {"archive/byteorder", "big"}});
  EXPECT_EQ(read_error(big), "m.pt: big-endian checkpoints are not supported");
  EXPECT_EQ(read_error(test::build_zip({{"../evil", "x"}, {"archive/data.pkl", "."}})),
            "m.pt: offset 0x0: zip entry name '../evil' escapes the archive");
  EXPECT_EQ(read_error("PK\x03\x04 short"), "m.pt: offset 0x0: zip archive shorter than its 22-byte end record");
  EXPECT_EQ(read_error("PK\x03\x04 not really a zip archive at all"),
            "m.pt: not a zip archive (no end of central directory record)");
  std::string good = checkpoint({}, {});
  EXPECT_EQ(read_error(good.substr(0, good.size() - 10)), "m.pt: not a zip archive (no end of central directory record)");
  std::string bad_pkl = test::build_zip({{"archive/data.pkl", "\x80\x02\xff"}});
  uint64_t base = member_offset(bad_pkl, "archive/data.pkl");
  EXPECT_EQ(read_error(bad_pkl), "m.pt: offset " + hex_offset(base + 2) + ": unknown pickle opcode 0xff");
  std::string deflated_pkl = test::build_zip({{"archive/data.pkl", std::string(100, ']') + "\xff", true}});
  EXPECT_EQ(read_error(deflated_pkl), "m.pt:archive/data.pkl: offset 0x64: unknown pickle opcode 0xff");
}

// Patches the sizes of the first member (local header and central record).
std::string claim_size(std::string zip, uint32_t size) {
  auto put = [&](size_t off) {
    for (int i = 0; i < 4; ++i) zip[off + static_cast<size_t>(i)] = static_cast<char>((size >> (8 * i)) & 0xff);
  };
  put(22);
  size_t cd = zip.find("PK\x01\x02");
  put(cd + 24);
  return zip;
}

TEST(Pytorch, ZipBombIsRejected) {
  std::string zip = test::build_zip({{"archive/data/0", std::string(4096, '\0'), true},
                                     {"archive/data.pkl", test::state_dict_pickle({})}});
  uint32_t csize = 0;
  std::memcpy(&csize, zip.data() + 18, 4);
  std::string bomb = claim_size(zip, 0xf0000000u);
  EXPECT_EQ(read_error(bomb), "m.pt: offset 0x0: zip entry 'archive/data/0' inflates to 3.8 GiB from " +
                                  human_bytes(csize) + " (zip bomb limit)");
}

}  // namespace
}  // namespace pedigree
