// Tests for fingerprint/formats/onnx.cpp: fixtures are ModelProtos built in
// code with the onnx protobuf classes; covers metadata, raw/typed/external
// initializers, subgraphs, every malformed case with its exact error, and a
// sweep over the models shipped by Debian's libonnx-testdata.
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>

#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include "fingerprint/formats/readers.h"
#include "fingerprint/tensor_digest.h"
#include "tests/support/test_util.h"

namespace pedigree {
namespace {

namespace fs = std::filesystem;
using test::TempDir;

/// A small valid model: ir_version 8, opset 13, one Add node.
onnx::ModelProto base_model() {
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.set_producer_name("pedigree-test");
  m.set_producer_version("1.2.3");
  m.set_domain("org.example");
  m.set_model_version(7);
  m.set_doc_string("a test model");
  auto* op = m.add_opset_import();
  op->set_domain("");
  op->set_version(13);
  auto* op2 = m.add_opset_import();
  op2->set_domain("com.microsoft");
  op2->set_version(1);
  auto* p = m.add_metadata_props();
  p->set_key("author");
  p->set_value("alice");
  onnx::GraphProto* g = m.mutable_graph();
  g->set_name("main");
  auto* in = g->add_input();
  in->set_name("x");
  auto* tt = in->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(onnx::TensorProto::FLOAT);
  tt->mutable_shape()->add_dim()->set_dim_param("batch");
  tt->mutable_shape()->add_dim()->set_dim_value(4);
  auto* out = g->add_output();
  out->set_name("y");
  out->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT16);
  auto* n = g->add_node();
  n->set_op_type("Add");
  n->add_input("x");
  n->add_input("w");
  n->add_output("y");
  auto* n2 = g->add_node();
  n2->set_op_type("Relu");
  auto* n3 = g->add_node();
  n3->set_op_type("Add");
  return m;
}

onnx::TensorProto* add_init(onnx::ModelProto* m, const std::string& name, int type,
                            std::vector<int64_t> dims) {
  auto* t = m->mutable_graph()->add_initializer();
  t->set_name(name);
  t->set_data_type(type);
  for (int64_t d : dims) t->add_dims(d);
  return t;
}

std::string f32_bytes(std::vector<float> v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * 4);
}

/// Reads `bytes` written as dir/model.onnx with onnx_reader().
struct Reading {
  TempDir dir;
  std::string path;
  std::string bytes;
  ModelArtifact art;
  TensorIndex idx;
  Error err;
  bool ok = false;

  void run(const std::string& b, const std::string& name = "model.onnx") {
    bytes = b;
    path = dir.write(name, b);
    read_path();
  }
  void run(const onnx::ModelProto& m) { run(m.SerializeAsString()); }
  void read_path() {
    art = ModelArtifact{};
    idx = TensorIndex{};
    err = Error{};
    art.root = path;
    auto f = MappedFile::open(path, &err);
    ASSERT_TRUE(f) << err.str();
    ok = onnx_reader().read(*f, &art, &idx, &err);
  }
  /// File offset of the field tag of initializer `t` (found by its own bytes).
  uint64_t init_offset(const onnx::TensorProto& t) const {
    std::string tb = t.SerializeAsString();
    size_t pos = bytes.find(tb);
    EXPECT_NE(pos, std::string::npos);
    size_t varint = 1;
    for (uint64_t n = tb.size(); n >= 128; n >>= 7) ++varint;
    return pos - 1 - varint;
  }
  std::string prefix(uint64_t off) const { return path + ": offset " + hex_offset(off) + ": "; }
};

TEST(OnnxMetadata, AllFields) {
  Reading r;
  r.run(base_model());
  ASSERT_TRUE(r.ok) << r.err.str();
  EXPECT_EQ(r.art.format, "onnx");
  ASSERT_EQ(r.art.files.size(), 1u);
  EXPECT_EQ(r.art.files[0].name, ".");
  EXPECT_EQ(r.art.files[0].format, "onnx");
  const auto& j = r.art.metadata["onnx"];
  EXPECT_EQ(j["ir_version"], 8);
  EXPECT_EQ(j["producer_name"], "pedigree-test");
  EXPECT_EQ(j["producer_version"], "1.2.3");
  EXPECT_EQ(j["domain"], "org.example");
  EXPECT_EQ(j["model_version"], 7);
  EXPECT_EQ(j["doc_string"], "a test model");
  EXPECT_EQ(j["opset_import"].dump(),
            R"([{"domain":"","version":13},{"domain":"com.microsoft","version":1}])");
  EXPECT_EQ(j["metadata_props"].dump(), R"({"author":"alice"})");
  EXPECT_EQ(j["graph_name"], "main");
  EXPECT_EQ(j["inputs"].dump(), R"([{"elem_type":"F32","name":"x","shape":["batch",4]}])");
  EXPECT_EQ(j["outputs"].dump(), R"([{"elem_type":"F16","name":"y","shape":null}])");
  EXPECT_EQ(j["node_count"], 3);
  EXPECT_EQ(j["op_types"].dump(), R"(["Add","Relu"])");
  EXPECT_TRUE(r.idx.tensors.empty());
}

TEST(OnnxMetadata, InvalidUtf8IsReplaced) {
  auto m = base_model();
  m.set_producer_name("ab\xff");
  Reading r;
  r.run(m);
  ASSERT_TRUE(r.ok) << r.err.str();
  EXPECT_EQ(r.art.metadata["onnx"]["producer_name"], "ab\xef\xbf\xbd");
  EXPECT_NO_THROW(r.art.metadata.dump());
}

TEST(OnnxRaw, OffsetsPointAtRawBytes) {
  auto m = base_model();
  std::string w = f32_bytes({1, 2, 3, 4, 5, 6});
  add_init(&m, "w", onnx::TensorProto::FLOAT, {2, 3})->set_raw_data(w);
  std::string b(10, '\x7f');
  add_init(&m, "b", onnx::TensorProto::INT8, {10})->set_raw_data(b);
  add_init(&m, "e", onnx::TensorProto::FLOAT, {0, 5})->set_raw_data("");
  Reading r;
  r.run(m);
  ASSERT_TRUE(r.ok) << r.err.str();
  ASSERT_EQ(r.idx.tensors.size(), 3u);
  const TensorInfo& t0 = r.idx.tensors[0];
  EXPECT_EQ(t0.name, "w");
  EXPECT_EQ(t0.dtype, DType::F32);
  EXPECT_EQ(t0.shape, (std::vector<uint64_t>{2, 3}));
  EXPECT_EQ(t0.layout, TensorLayout::kRaw);
  EXPECT_EQ(t0.file, 0u);
  EXPECT_EQ(t0.length, 24u);
  EXPECT_EQ(r.bytes.substr(t0.offset, t0.length), w);
  const TensorInfo& t1 = r.idx.tensors[1];
  EXPECT_EQ(t1.dtype, DType::I8);
  EXPECT_EQ(r.bytes.substr(t1.offset, t1.length), b);
  EXPECT_EQ(r.idx.tensors[2].length, 0u);
  EXPECT_EQ(r.idx.tensors[2].shape, (std::vector<uint64_t>{0, 5}));
}

TEST(OnnxRaw, LengthMismatch) {
  auto m = base_model();
  auto* t = add_init(&m, "w", onnx::TensorProto::FLOAT, {2, 2});
  t->set_raw_data(std::string(12, '\0'));
  Reading r;
  r.run(m);
  ASSERT_FALSE(r.ok);
  uint64_t raw_off = r.bytes.find(std::string(12, '\0'));
  EXPECT_EQ(r.err.str(), r.prefix(raw_off) + "initializer 'w': raw_data is 12 B, expected 16 B for F32 [2, 2]");
}

TEST(OnnxRaw, DuplicatedGraphFieldsMerge) {
  // Two occurrences of ModelProto.graph merge: initializers of both are read.
  auto m1 = base_model();
  add_init(&m1, "a", onnx::TensorProto::UINT8, {3})->set_raw_data("abc");
  onnx::ModelProto m2;
  add_init(&m2, "b", onnx::TensorProto::UINT8, {2})->set_raw_data("xy");
  Reading r;
  r.run(m1.SerializeAsString() + m2.SerializeAsString());
  ASSERT_TRUE(r.ok) << r.err.str();
  ASSERT_EQ(r.idx.tensors.size(), 2u);
  EXPECT_EQ(r.bytes.substr(r.idx.tensors[0].offset, 3), "abc");
  EXPECT_EQ(r.idx.tensors[1].name, "b");
  EXPECT_EQ(r.bytes.substr(r.idx.tensors[1].offset, 2), "xy");
}

TEST(OnnxRaw, RawAndTypedTogether) {
  auto m = base_model();
  auto* t = add_init(&m, "w", onnx::TensorProto::FLOAT, {1});
  t->set_raw_data(f32_bytes({1}));
  t->add_float_data(1);
  Reading r;
  r.run(m);
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.err.str(), r.prefix(r.init_offset(*t)) + "initializer 'w': has both raw_data and float_data");
}

std::string inline_of(const Reading& r, size_t i) {
  const TensorInfo& t = r.idx.tensors.at(i);
  EXPECT_EQ(t.layout, TensorLayout::kInline);
  EXPECT_TRUE(t.inline_data);
  if (!t.inline_data) return "";
  EXPECT_EQ(t.inline_data->size(), t.length);
  return *t.inline_data;
}

TEST(OnnxTyped, EveryTypedField) {
  auto m = base_model();
  auto* f = add_init(&m, "f", onnx::TensorProto::FLOAT, {2});
  f->add_float_data(1.5f);
  f->add_float_data(-2.0f);
  auto* d = add_init(&m, "d", onnx::TensorProto::DOUBLE, {1});
  d->add_double_data(0.25);
  auto* i64 = add_init(&m, "i64", onnx::TensorProto::INT64, {2});
  i64->add_int64_data(-1);
  i64->add_int64_data(0x0102030405060708);
  auto* i8 = add_init(&m, "i8", onnx::TensorProto::INT8, {3});
  for (int v : {-1, 5, -128}) i8->add_int32_data(v);
  auto* u16 = add_init(&m, "u16", onnx::TensorProto::UINT16, {2});
  for (int v : {0xbeef, 1}) u16->add_int32_data(v);
  auto* bo = add_init(&m, "bool", onnx::TensorProto::BOOL, {2});
  for (int v : {1, 0}) bo->add_int32_data(v);
  auto* h = add_init(&m, "f16", onnx::TensorProto::FLOAT16, {1});
  h->add_int32_data(0x3c00);
  auto* u32 = add_init(&m, "u32", onnx::TensorProto::UINT32, {1});
  u32->add_uint64_data(0xdeadbeef);
  auto* s = add_init(&m, "s", onnx::TensorProto::STRING, {2});
  s->add_string_data("hi");
  s->add_string_data("");
  auto* c = add_init(&m, "c", onnx::TensorProto::COMPLEX64, {1});
  c->add_float_data(1.0f);
  c->add_float_data(2.0f);
  Reading r;
  r.run(m);
  ASSERT_TRUE(r.ok) << r.err.str();
  ASSERT_EQ(r.idx.tensors.size(), 10u);
  EXPECT_EQ(inline_of(r, 0), f32_bytes({1.5f, -2.0f}));
  double dv = 0.25;
  EXPECT_EQ(inline_of(r, 1), std::string(reinterpret_cast<const char*>(&dv), 8));
  EXPECT_EQ(inline_of(r, 2), std::string("\xff\xff\xff\xff\xff\xff\xff\xff\x08\x07\x06\x05\x04\x03\x02\x01", 16));
  EXPECT_EQ(inline_of(r, 3), std::string("\xff\x05\x80", 3));
  EXPECT_EQ(r.idx.tensors[3].dtype, DType::I8);
  EXPECT_EQ(inline_of(r, 4), std::string("\xef\xbe\x01\x00", 4));
  EXPECT_EQ(inline_of(r, 5), std::string("\x01\x00", 2));
  EXPECT_EQ(r.idx.tensors[5].dtype, DType::BOOL);
  EXPECT_EQ(inline_of(r, 6), std::string("\x00\x3c", 2));
  EXPECT_EQ(r.idx.tensors[6].dtype, DType::F16);
  EXPECT_EQ(inline_of(r, 7), std::string("\xef\xbe\xad\xde", 4));
  EXPECT_EQ(inline_of(r, 8), std::string("\x02\0\0\0\0\0\0\0hi\0\0\0\0\0\0\0\0", 18));
  EXPECT_EQ(r.idx.tensors[8].dtype, DType::STRING);
  EXPECT_EQ(inline_of(r, 9), f32_bytes({1.0f, 2.0f}));
  EXPECT_EQ(r.idx.tensors[9].dtype, DType::C64);
}

TEST(OnnxTyped, Float8AndInt4ByNumber) {
  auto m = base_model();
  auto* f8 = add_init(&m, "f8", 17, {2});  // FLOAT8E4M3FN
  f8->add_int32_data(0x38);
  f8->add_int32_data(0xb8);
  auto* i4 = add_init(&m, "i4", 22, {4});  // INT4, two per int32_data byte
  i4->add_int32_data(0x21);
  i4->add_int32_data(0xf3);
  Reading r;
  r.run(m);
  ASSERT_TRUE(r.ok) << r.err.str();
  EXPECT_EQ(r.idx.tensors[0].dtype, DType::F8_E4M3);
  EXPECT_EQ(inline_of(r, 0), "\x38\xb8");
  EXPECT_EQ(r.idx.tensors[1].dtype, DType::I4);
  EXPECT_EQ(inline_of(r, 1), "\x21\xf3");
}

TEST(OnnxTyped, CountMismatch) {
  auto m = base_model();
  auto* t = add_init(&m, "w", onnx::TensorProto::FLOAT, {2, 2});
  for (float v : {1.f, 2.f, 3.f}) t->add_float_data(v);
  Reading r;
  r.run(m);
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.err.str(), r.prefix(r.init_offset(*t)) +
                             "initializer 'w': float_data has 3 values, expected 4 for F32 [2, 2]");
}

TEST(OnnxTyped, WrongField) {
  auto m = base_model();
  auto* t = add_init(&m, "w", onnx::TensorProto::FLOAT, {1});
  t->add_int64_data(1);
  Reading r;
  r.run(m);
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.err.str(), r.prefix(r.init_offset(*t)) + "initializer 'w': F32 data stored in int64_data");
}

TEST(OnnxTyped, NoDataAtAll) {
  auto m = base_model();
  auto* t = add_init(&m, "w", onnx::TensorProto::INT64, {3});
  Reading r;
  r.run(m);
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.err.str(), r.prefix(r.init_offset(*t)) +
                             "initializer 'w': int64_data has 0 values, expected 3 for I64 [3]");
}

TEST(OnnxInitializer, DuplicateName) {
  auto m = base_model();
  add_init(&m, "w", onnx::TensorProto::UINT8, {1})->set_raw_data("a");
  auto* t = add_init(&m, "w", onnx::TensorProto::UINT8, {1});
  t->set_raw_data("b");
  Reading r;
  r.run(m);
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.err.str(), r.prefix(r.init_offset(*t)) + "initializer 'w': duplicate initializer name");
}

TEST(OnnxInitializer, NegativeDim) {
  auto m = base_model();
  auto* t = add_init(&m, "w", onnx::TensorProto::FLOAT, {2, -3});
  Reading r;
  r.run(m);
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.err.str(), r.prefix(r.init_offset(*t)) + "initializer 'w': negative dimension -3 at index 1");
}

TEST(OnnxInitializer, OverflowingShape) {
  auto m = base_model();
  auto* t = add_init(&m, "w", onnx::TensorProto::FLOAT, {int64_t{1} << 40, int64_t{1} << 40});
  t->set_raw_data("");
  Reading r;
  r.run(m);
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.err.str(), r.prefix(r.init_offset(*t)) +
                             "initializer 'w': element count of shape [1099511627776, 1099511627776] overflows");
}

TEST(OnnxInitializer, ByteSizeOverflowAndOddInt4) {
  auto m = base_model();
  auto* t = add_init(&m, "w", onnx::TensorProto::DOUBLE, {int64_t{1} << 62});
  t->set_raw_data("");
  Reading r;
  r.run(m);
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.err.str(), r.prefix(r.init_offset(*t)) +
                             "initializer 'w': byte size of shape [4611686018427387904] overflows");
  auto m2 = base_model();
  auto* t2 = add_init(&m2, "q", 21, {3});  // UINT4
  t2->set_raw_data("ab");
  r.run(m2);
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.err.str(), r.prefix(r.init_offset(*t2)) +
                             "initializer 'q': odd element count of packed 4-bit shape [3] is not supported");
}

TEST(OnnxInitializer, UnknownAndUnsupportedTypes) {
  struct Case {
    int type;
    std::string msg;
  } cases[] = {{99, "unknown data type 99"},
               {0, "unsupported data type 0 (UNDEFINED)"},
               {18, "unsupported data type 18 (FLOAT8E4M3FNUZ)"},
               {20, "unsupported data type 20 (FLOAT8E5M2FNUZ)"}};
  for (const auto& c : cases) {
    auto m = base_model();
    auto* t = add_init(&m, "w", c.type, {1});
    t->set_raw_data("x");
    Reading r;
    r.run(m);
    ASSERT_FALSE(r.ok);
    EXPECT_EQ(r.err.str(), r.prefix(r.init_offset(*t)) + "initializer 'w': " + c.msg);
  }
}

TEST(OnnxInitializer, EmptyName) {
  auto m = base_model();
  auto* t = add_init(&m, "", onnx::TensorProto::UINT8, {1});
  t->set_raw_data("a");
  Reading r;
  r.run(m);
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.err.str(), r.prefix(r.init_offset(*t)) + "initializer with an empty name");
}

TEST(OnnxInitializer, SparseInitializerIsAFinding) {
  auto m = base_model();
  auto* sp = m.mutable_graph()->add_sparse_initializer();
  sp->mutable_values()->set_name("sp");
  sp->mutable_values()->set_data_type(onnx::TensorProto::FLOAT);
  sp->add_dims(4);
  Reading r;
  r.run(m);
  ASSERT_TRUE(r.ok) << r.err.str();
  ASSERT_EQ(r.art.findings.size(), 1u);
  EXPECT_EQ(r.art.findings[0].id, "onnx-sparse-initializer");
  EXPECT_EQ(r.art.findings[0].severity, "warning");
  EXPECT_EQ(r.art.findings[0].message, "sparse initializer 'sp' is not read");
}

TEST(OnnxInitializer, SubgraphInitializersArePrefixed) {
  auto m = base_model();
  add_init(&m, "w", onnx::TensorProto::UINT8, {1})->set_raw_data("a");
  auto* n = m.mutable_graph()->add_node();
  n->set_op_type("If");
  n->set_name("cond");
  auto* a = n->add_attribute();
  a->set_name("then_branch");
  a->set_type(onnx::AttributeProto::GRAPH);
  auto* sg = a->mutable_g();
  auto* t = sg->add_initializer();
  t->set_name("w");
  t->set_data_type(onnx::TensorProto::UINT8);
  t->add_dims(2);
  t->set_raw_data("zz");
  auto* inner = sg->add_node();
  inner->set_op_type("Loop");
  auto* b = inner->add_attribute();
  b->set_name("body");
  auto* g2 = b->add_graphs();
  auto* t2 = g2->add_initializer();
  t2->set_name("k");
  t2->set_data_type(onnx::TensorProto::INT64);
  t2->add_int64_data(9);
  Reading r;
  r.run(m);
  ASSERT_TRUE(r.ok) << r.err.str();
  ASSERT_EQ(r.idx.tensors.size(), 3u);
  EXPECT_EQ(r.idx.tensors[1].name, "cond/then_branch/w");
  EXPECT_EQ(r.bytes.substr(r.idx.tensors[1].offset, r.idx.tensors[1].length), "zz");
  EXPECT_EQ(r.idx.tensors[2].name, "cond/then_branch/node0/body[0]/k");
  EXPECT_EQ(r.art.metadata["onnx"]["op_types"].dump(), R"(["Add","If","Loop","Relu"])");
}

TEST(OnnxInitializer, SubgraphNamePathTooLong) {
  auto m = base_model();
  auto* n = m.mutable_graph()->add_node();
  n->set_op_type("If");
  n->set_name(std::string(70000, 'n'));
  auto* a = n->add_attribute();
  a->set_name("then_branch");
  a->mutable_g()->set_name("t");
  Reading r;
  r.run(m);
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.err.str(), r.path + ": subgraph name path of 70000 B exceeds 65536 B");
}

// ---------------------------------------------------------------------------
// External data.

void set_external(onnx::TensorProto* t, const std::string& loc, std::optional<std::string> off,
                  std::optional<std::string> len) {
  t->set_data_location(onnx::TensorProto::EXTERNAL);
  auto add = [&](const char* k, const std::string& v) {
    auto* e = t->add_external_data();
    e->set_key(k);
    e->set_value(v);
  };
  add("location", loc);
  if (off) add("offset", *off);
  if (len) add("length", *len);
}

TEST(OnnxExternal, ValidFileRegisteredOnce) {
  Reading r;
  std::string data = f32_bytes({1, 2, 3, 4}) + f32_bytes({5, 6});
  r.dir.write("sub/weights.bin", data);
  auto m = base_model();
  set_external(add_init(&m, "a", onnx::TensorProto::FLOAT, {2, 2}), "sub/weights.bin", "0", "16");
  set_external(add_init(&m, "b", onnx::TensorProto::FLOAT, {2}), "sub/weights.bin", "16", std::nullopt);
  r.run(m);
  ASSERT_TRUE(r.ok) << r.err.str();
  ASSERT_EQ(r.art.files.size(), 2u);
  EXPECT_EQ(r.art.files[1].format, "onnx-external-data");
  EXPECT_EQ(r.art.files[1].size, 24u);
  EXPECT_EQ(r.art.files[1].name, "sub/weights.bin");
  ASSERT_EQ(r.idx.tensors.size(), 2u);
  EXPECT_EQ(r.idx.tensors[0].layout, TensorLayout::kRaw);
  EXPECT_EQ(r.idx.tensors[0].file, 1u);
  EXPECT_EQ(r.idx.tensors[0].offset, 0u);
  EXPECT_EQ(r.idx.tensors[0].length, 16u);
  EXPECT_EQ(r.idx.tensors[1].file, 1u);
  EXPECT_EQ(r.idx.tensors[1].offset, 16u);
  EXPECT_EQ(r.idx.tensors[1].length, 8u);
}

/// Builds a model with one external F32[2,2] initializer and returns the error.
std::string external_error(Reading& r, const std::string& loc, std::optional<std::string> off,
                           std::optional<std::string> len) {
  auto m = base_model();
  auto* t = add_init(&m, "w", onnx::TensorProto::FLOAT, {2, 2});
  set_external(t, loc, off, len);
  r.run(m);
  EXPECT_FALSE(r.ok);
  std::string pre = r.prefix(r.init_offset(*t)), got = r.err.str();
  return got.rfind(pre, 0) == 0 ? got.substr(pre.size()) : "unexpected prefix: " + got;
}

TEST(OnnxExternal, Malformed) {
  struct Case {
    std::string loc;
    std::optional<std::string> off, len;
    std::string msg;
  } cases[] = {
      {"../x.bin", "0", "16", "external data location '../x.bin' escapes the model directory"},
      {"a/../../x.bin", "0", "16", "external data location 'a/../../x.bin' escapes the model directory"},
      {"/etc/passwd", "0", "16", "external data location '/etc/passwd' is an absolute path"},
      {"", "0", "16", "external data has no location"},
      {std::string(5000, 'a'), "0", "16", "external data location of 5000 B exceeds 4096 B"},
      {"w.bin", "40", "16", "external data offset 40 is beyond the end of 'w.bin' (32 B)"},
      {"w.bin", "24", "16", "external data range 24+16 exceeds 'w.bin' size 32 B"},
      {"w.bin", "0", "12", "external data length 12 B, expected 16 B for F32 [2, 2]"},
      {"w.bin", std::nullopt, std::nullopt, "external data length 32 B, expected 16 B for F32 [2, 2]"},
      {"w.bin", "-1", "16", "external data offset '-1' is not a number"},
      {"w.bin", "0", "99999999999999999999999", "external data length '99999999999999999999999' is not a number"},
      {"missing.bin", "0", "16", "cannot open external data 'missing.bin': cannot open: no such file or directory"},
  };
  for (const auto& c : cases) {
    Reading r;
    r.dir.write("w.bin", std::string(32, '\1'));
    std::string got = external_error(r, c.loc, c.off, c.len);
    EXPECT_EQ(got, "initializer 'w': " + c.msg) << c.loc;
  }
}

TEST(OnnxExternal, SymlinkEscapingDirectory) {
  Reading r;
  TempDir outside;
  std::string target = outside.write("secret.bin", std::string(16, 's'));
  fs::create_symlink(target, r.dir.path() / "link.bin");
  EXPECT_EQ(external_error(r, "link.bin", "0", "16"),
            "initializer 'w': external data location 'link.bin' escapes the model directory");
}

TEST(OnnxExternal, LargerThanTwoGiB) {
  // A sparse 3 GiB data file: the .onnx stays tiny and the tensor is found.
  Reading r;
  std::string bin = (r.dir.path() / "big.bin").string();
  int fd = ::open(bin.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ASSERT_GE(fd, 0);
  const uint64_t kBig = uint64_t{3} << 30;
  ASSERT_EQ(::ftruncate(fd, static_cast<off_t>(kBig)), 0);
  ::close(fd);
  auto m = base_model();
  set_external(add_init(&m, "w", onnx::TensorProto::UINT8, {int64_t(kBig - 8)}), "big.bin", "8", std::nullopt);
  r.run(m);
  ASSERT_TRUE(r.ok) << r.err.str();
  EXPECT_EQ(r.idx.tensors[0].offset, 8u);
  EXPECT_EQ(r.idx.tensors[0].length, kBig - 8);
  EXPECT_EQ(r.art.files[1].size, kBig);
}

TEST(OnnxModel, FileOverTwoGiBIsRefused) {
  TempDir dir;
  std::string p = (dir.path() / "huge.onnx").string();
  int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::ftruncate(fd, off_t{1} << 31), 0);
  ::close(fd);
  Error err;
  auto f = MappedFile::open(p, &err);
  ASSERT_TRUE(f) << err.str();
  ModelArtifact art;
  TensorIndex idx;
  EXPECT_FALSE(onnx_reader().read(*f, &art, &idx, &err));
  EXPECT_EQ(err.str(), p + ": model file 2.0 GiB exceeds the 2 GiB protobuf limit (larger models must use external data)");
}

// ---------------------------------------------------------------------------
// Broken model bytes.

TEST(OnnxModel, Garbage) {
  Reading r;
  r.run(std::string("\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 12));
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.err.str(), r.prefix(0) + "not a valid ONNX ModelProto (malformed protobuf field tag)");
}

TEST(OnnxModel, MissingGraphOrIrVersion) {
  Reading r;
  onnx::ModelProto m;
  m.set_ir_version(7);
  r.run(m);
  EXPECT_EQ(r.err.str(), r.prefix(0) + "not a valid ONNX ModelProto (no graph)");
  r.run("");
  EXPECT_EQ(r.err.str(), r.prefix(0) + "not a valid ONNX ModelProto (no ir_version)");
}

TEST(OnnxModel, TruncatedPrefixes) {
  auto m = base_model();
  add_init(&m, "w", onnx::TensorProto::FLOAT, {2, 2})->set_raw_data(f32_bytes({1, 2, 3, 4}));
  m.mutable_graph()->set_doc_string(std::string(64, 'd'));
  std::string full = m.SerializeAsString();
  std::string graph = m.graph().SerializeAsString();
  size_t graph_start = full.find(graph), graph_end = graph_start + graph.size();
  size_t graph_tag = graph_start - 3;  // tag 0x3a + two-byte length varint
  ASSERT_GT(graph.size(), 127u);
  ASSERT_LT(graph.size(), 16384u);
  // Everything before the end of the graph field must fail cleanly.
  Reading r;
  for (size_t n = 1; n < graph_end; ++n) {
    r.run(full.substr(0, n));
    ASSERT_FALSE(r.ok) << n;
    EXPECT_EQ(r.err.message.rfind("not a valid ONNX ModelProto (", 0), 0u) << n << ": " << r.err.str();
  }
  r.run(full.substr(0, 1));
  EXPECT_EQ(r.err.str(), r.prefix(0) + "not a valid ONNX ModelProto (truncated protobuf varint)");
  r.run(full.substr(0, 2));
  EXPECT_EQ(r.err.str(), r.prefix(0) + "not a valid ONNX ModelProto (no graph)");
  r.run(full.substr(0, graph_tag + 2));
  EXPECT_EQ(r.err.str(), r.prefix(graph_tag) + "not a valid ONNX ModelProto (truncated protobuf length)");
  r.run(full.substr(0, graph_end - 1));
  EXPECT_EQ(r.err.str(), r.prefix(graph_tag) + "not a valid ONNX ModelProto (protobuf field 7 length " +
                             std::to_string(graph.size()) + " B exceeds the " +
                             std::to_string(graph.size() - 1) + " B remaining)");
  r.run(full.substr(0, graph_end));
  EXPECT_TRUE(r.ok) << r.err.str();
}

TEST(OnnxModel, ParseFailureInsideAMessage) {
  // Inside the graph the wire scanner pinpoints the bad tag; inside
  // opset_import (not scanned) no better offset is known than the start.
  Reading r;
  r.run(std::string("\x08\x08\x3a\x02\xff\xff", 6));
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.err.str(), r.prefix(4) + "not a valid ONNX ModelProto (malformed protobuf field tag)");
  r.run(std::string("\x08\x08\x3a\x00\x42\x02\xff\xff", 8));
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.err.str(), r.prefix(0) + "not a valid ONNX ModelProto (protobuf parse failed)");
}

// ---------------------------------------------------------------------------
// Probe.

TEST(OnnxProbe, MagicHintAndNo) {
  const FormatReader& rd = onnx_reader();
  std::string model = base_model().SerializeAsString();
  EXPECT_EQ(rd.probe(model, "m.onnx"), Confidence::kMagic);
  EXPECT_EQ(rd.probe(model, "dir/M.ONNX"), Confidence::kMagic);
  EXPECT_EQ(rd.probe(model, "model"), Confidence::kHint);
  EXPECT_EQ(rd.probe("\xff\xff", "m.onnx"), Confidence::kHint);
  EXPECT_EQ(rd.probe(std::string("\x80\x02\x8a\x0a", 4), "model.bin"), Confidence::kNo);
  EXPECT_EQ(rd.probe("PK\x03\x04", "model.pt"), Confidence::kNo);
  EXPECT_EQ(rd.probe("GGUF\x03\0\0\0", "model.gguf"), Confidence::kNo);
  EXPECT_EQ(rd.probe(std::string("\x93NUMPY\x01\x00", 8), "a.npy"), Confidence::kNo);
  // safetensors header length 0x108: 08 01 00 ... is not another valid tag
  EXPECT_EQ(rd.probe(std::string("\x08\x01\0\0\0\0\0\0{", 9), "x"), Confidence::kNo);
  EXPECT_EQ(rd.probe(std::string("\x08\x30\x12", 3), "x"), Confidence::kNo);  // ir_version 48
  EXPECT_EQ(rd.probe("", "x"), Confidence::kNo);
}

// ---------------------------------------------------------------------------
// Every model shipped by Debian's libonnx-testdata: it reads and its initializers hash.

TEST(OnnxTestdata, EveryDebianModelReadsAndHashes) {
  const fs::path root = "/usr/share/libonnx-testdata/data";
  std::error_code ec;
  if (!fs::is_directory(root, ec)) GTEST_SKIP() << "libonnx-testdata not installed (" << root << ")";
  auto t0 = std::chrono::steady_clock::now();
  size_t files = 0, tensors = 0;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (!e.is_regular_file() || e.path().extension() != ".onnx") continue;
    ++files;
    ModelArtifact art;
    TensorIndex idx;
    Error err;
    ASSERT_TRUE(read_model(e.path().string(), &art, &idx, &err)) << err.str();
    EXPECT_EQ(art.format, "onnx");
    for (const TensorInfo& t : idx.tensors) {
      ASSERT_LT(t.file, art.files.size());
      if (t.layout == TensorLayout::kRaw) {
        EXPECT_LE(t.offset + t.length, art.files[t.file].size) << e.path() << " " << t.name;
      } else {
        ASSERT_EQ(t.layout, TensorLayout::kInline) << e.path() << " " << t.name;
        ASSERT_TRUE(t.inline_data);
        EXPECT_EQ(t.inline_data->size(), t.length) << e.path() << " " << t.name;
      }
      ++tensors;
    }
    TensorFingerprint fp;
    ASSERT_TRUE(compute_tensor_fingerprint(art, idx, &fp, &err, 1)) << e.path() << ": " << err.str();
    ASSERT_EQ(fp.tensors.size(), idx.tensors.size());
    for (size_t i = 0; i < idx.tensors.size(); ++i) {
      std::string canonical;
      ASSERT_TRUE(stream_canonical_bytes(art, idx.tensors[i], [&](const uint8_t* p, size_t n) {
        canonical.append(reinterpret_cast<const char*>(p), n);
      }, &err));
      EXPECT_EQ(to_hex(fp.tensors[i].sha256.data(), 32), test::sha256_hex(canonical)) << e.path();
    }
  }
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
  std::printf("[ onnx    ] %zu models, %zu initializers read in %lld ms\n", files, tensors,
              static_cast<long long>(ms.count()));
  EXPECT_GT(files, 1000u);
}

}  // namespace
}  // namespace pedigree
