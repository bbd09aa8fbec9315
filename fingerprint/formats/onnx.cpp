// This file implements the ONNX reader: it parses a ModelProto with protobuf
// for metadata and initializers, and walks the protobuf wire format itself to
// learn the absolute file offset of every raw_data payload, so tensors stored
// raw (or in external data files) are hashed in place without copying.
#include <bit>
#include <cctype>
#include <climits>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <unordered_set>

#include <google/protobuf/io/coded_stream.h>
#include <onnx/onnx_pb.h>

#include "fingerprint/formats/limits.h"
#include "fingerprint/formats/readers.h"

namespace pedigree {
namespace {

namespace fs = std::filesystem;

constexpr uint64_t kMaxProtobufBytes = INT_MAX;  // protobuf's hard 2 GiB message limit
constexpr int kMaxProtoDepth = 100;              // protobuf's default recursion limit
constexpr uint64_t kMaxExternalFiles = limits::kMaxShards;
constexpr uint64_t kMaxExternalEntries = 64;     // external_data key/value pairs per tensor
constexpr uint64_t kMaxLocationBytes = 4096;     // PATH_MAX for an external data location
constexpr uint64_t kMaxNameBudget = uint64_t{256} << 20;  // bytes of names built for subgraph paths

// ---------------------------------------------------------------------------
// Protobuf wire-format scanner: finds where raw_data bytes live in the file.

// One initializer as seen on the wire: where its TensorProto starts and
// where its (last) raw_data payload is.
struct RawRef {
  uint64_t tensor_off = 0;
  bool has_raw = false;
  uint64_t raw_off = 0;
  uint64_t raw_len = 0;
};

struct GraphScan;

// An AttributeProto's subgraphs: `g` (field 6, merged) and `graphs` (field 11).
struct AttrScan {
  std::unique_ptr<GraphScan> g;
  std::vector<GraphScan> graphs;
};

struct NodeScan {
  std::vector<AttrScan> attrs;
};

// A GraphProto's initializers (field 5) and nodes (field 1), in wire order.
struct GraphScan {
  std::vector<RawRef> inits;
  std::vector<NodeScan> nodes;
};

// A bounded view of file bytes [pos, end) with absolute offsets.
struct Cursor {
  const uint8_t* base;
  uint64_t pos;
  uint64_t end;
};

// One decoded field header; for wire type 2 the payload is [start, start+len).
struct Field {
  uint64_t tag_off = 0;
  uint32_t number = 0;
  uint32_t wire = 0;
  uint64_t start = 0;
  uint64_t len = 0;
};

struct ScanError {
  uint64_t offset = 0;
  std::string message;
};

bool read_varint(Cursor* c, uint64_t* v) {
  uint64_t out = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (c->pos >= c->end) return false;
    uint8_t b = c->base[c->pos++];
    out |= uint64_t{b & 0x7fu} << shift;
    if (!(b & 0x80)) {
      *v = out;
      return true;
    }
  }
  return false;
}

bool scan_fail(ScanError* e, uint64_t off, std::string msg) {
  e->offset = off;
  e->message = std::move(msg);
  return false;
}

bool skip_group(Cursor* c, uint32_t number, int depth, ScanError* e);

// Reads the next field header and skips or bounds its payload.
bool next_field(Cursor* c, Field* f, int depth, ScanError* e) {
  f->tag_off = c->pos;
  uint64_t tag = 0;
  if (!read_varint(c, &tag) || (tag >> 3) == 0 || (tag >> 3) > 0x1fffffff)
    return scan_fail(e, f->tag_off, "malformed protobuf field tag");
  f->number = static_cast<uint32_t>(tag >> 3);
  f->wire = static_cast<uint32_t>(tag & 7);
  uint64_t v = 0;
  switch (f->wire) {
    case 0:
      if (!read_varint(c, &v)) return scan_fail(e, f->tag_off, "truncated protobuf varint");
      return true;
    case 1:
    case 5: {
      uint64_t n = f->wire == 1 ? 8 : 4;
      if (c->end - c->pos < n) return scan_fail(e, f->tag_off, "truncated protobuf fixed field");
      c->pos += n;
      return true;
    }
    case 2:
      if (!read_varint(c, &f->len)) return scan_fail(e, f->tag_off, "truncated protobuf length");
      if (f->len > c->end - c->pos)
        return scan_fail(e, f->tag_off, "protobuf field " + std::to_string(f->number) + " length " +
                                            std::to_string(f->len) + " B exceeds the " +
                                            std::to_string(c->end - c->pos) + " B remaining");
      f->start = c->pos;
      c->pos += f->len;
      return true;
    case 3:
      return skip_group(c, f->number, depth + 1, e);
    default:
      return scan_fail(e, f->tag_off, "invalid protobuf wire type " + std::to_string(f->wire));
  }
}

bool skip_group(Cursor* c, uint32_t number, int depth, ScanError* e) {
  if (depth > kMaxProtoDepth) return scan_fail(e, c->pos, "protobuf nesting too deep");
  while (c->pos < c->end) {
    Field f;
    uint64_t save = c->pos;
    uint64_t tag = 0;
    Cursor peek = *c;
    if (read_varint(&peek, &tag) && (tag & 7) == 4) {
      if ((tag >> 3) != number) return scan_fail(e, save, "mismatched protobuf end-group");
      *c = peek;
      return true;
    }
    if (!next_field(c, &f, depth, e)) return false;
  }
  return scan_fail(e, c->pos, "unterminated protobuf group");
}

Cursor sub(const Cursor& c, const Field& f) { return Cursor{c.base, f.start, f.start + f.len}; }

bool scan_tensor(Cursor c, int depth, RawRef* r, ScanError* e) {
  while (c.pos < c.end) {
    Field f;
    if (!next_field(&c, &f, depth, e)) return false;
    if (f.number == 9 && f.wire == 2) {
      r->has_raw = true;
      r->raw_off = f.start;
      r->raw_len = f.len;
    }
  }
  return true;
}

bool scan_graph(Cursor c, int depth, GraphScan* g, ScanError* e);

bool scan_attr(Cursor c, int depth, AttrScan* a, ScanError* e) {
  while (c.pos < c.end) {
    Field f;
    if (!next_field(&c, &f, depth, e)) return false;
    if (f.wire != 2) continue;
    if (f.number == 6) {
      if (!a->g) a->g = std::make_unique<GraphScan>();
      if (!scan_graph(sub(c, f), depth + 1, a->g.get(), e)) return false;
    } else if (f.number == 11) {
      a->graphs.emplace_back();
      if (!scan_graph(sub(c, f), depth + 1, &a->graphs.back(), e)) return false;
    }
  }
  return true;
}

bool scan_node(Cursor c, int depth, NodeScan* n, ScanError* e) {
  while (c.pos < c.end) {
    Field f;
    if (!next_field(&c, &f, depth, e)) return false;
    if (f.number == 5 && f.wire == 2) {
      n->attrs.emplace_back();
      if (!scan_attr(sub(c, f), depth + 1, &n->attrs.back(), e)) return false;
    }
  }
  return true;
}

bool scan_graph(Cursor c, int depth, GraphScan* g, ScanError* e) {
  if (depth > kMaxProtoDepth) return scan_fail(e, c.pos, "protobuf nesting too deep");
  while (c.pos < c.end) {
    Field f;
    if (!next_field(&c, &f, depth, e)) return false;
    if (f.wire != 2) continue;
    if (f.number == 5) {
      g->inits.push_back(RawRef{f.tag_off, false, 0, 0});
      if (!scan_tensor(sub(c, f), depth + 1, &g->inits.back(), e)) return false;
    } else if (f.number == 1) {
      g->nodes.emplace_back();
      if (!scan_node(sub(c, f), depth + 1, &g->nodes.back(), e)) return false;
    }
  }
  return true;
}

// Walks ModelProto; every occurrence of field 7 (graph) merges into `g`.
bool scan_model(const MappedFile& file, GraphScan* g, ScanError* e) {
  Cursor c{file.data(), 0, file.size()};
  while (c.pos < c.end) {
    Field f;
    if (!next_field(&c, &f, 0, e)) return false;
    if (f.number == 7 && f.wire == 2 && !scan_graph(sub(c, f), 1, g, e)) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------
// Data types.

// Which typed TensorProto field carries a type's values, and how many per element.
enum class Store { kFloat, kDouble, kInt32, kInt64, kUint64, kString };

struct OnnxType {
  int32_t code;
  const char* onnx_name;
  std::optional<DType> dtype;
  Store store;
  uint32_t per_elem;  // values per element in the typed field (2 for complex)
};

constexpr OnnxType kTypes[] = {
    {0, "UNDEFINED", std::nullopt, Store::kInt32, 1},
    {1, "FLOAT", DType::F32, Store::kFloat, 1},
    {2, "UINT8", DType::U8, Store::kInt32, 1},
    {3, "INT8", DType::I8, Store::kInt32, 1},
    {4, "UINT16", DType::U16, Store::kInt32, 1},
    {5, "INT16", DType::I16, Store::kInt32, 1},
    {6, "INT32", DType::I32, Store::kInt32, 1},
    {7, "INT64", DType::I64, Store::kInt64, 1},
    {8, "STRING", DType::STRING, Store::kString, 1},
    {9, "BOOL", DType::BOOL, Store::kInt32, 1},
    {10, "FLOAT16", DType::F16, Store::kInt32, 1},
    {11, "DOUBLE", DType::F64, Store::kDouble, 1},
    {12, "UINT32", DType::U32, Store::kUint64, 1},
    {13, "UINT64", DType::U64, Store::kUint64, 1},
    {14, "COMPLEX64", DType::C64, Store::kFloat, 2},
    {15, "COMPLEX128", DType::C128, Store::kDouble, 2},
    {16, "BFLOAT16", DType::BF16, Store::kInt32, 1},
    {17, "FLOAT8E4M3FN", DType::F8_E4M3, Store::kInt32, 1},
    {18, "FLOAT8E4M3FNUZ", std::nullopt, Store::kInt32, 1},
    {19, "FLOAT8E5M2", DType::F8_E5M2, Store::kInt32, 1},
    {20, "FLOAT8E5M2FNUZ", std::nullopt, Store::kInt32, 1},
    {21, "UINT4", DType::U4, Store::kInt32, 1},
    {22, "INT4", DType::I4, Store::kInt32, 1},
    {23, "FLOAT4E2M1", std::nullopt, Store::kInt32, 1},
};

const OnnxType* onnx_type(int32_t code) {
  for (const auto& t : kTypes)
    if (t.code == code) return &t;
  return nullptr;
}

constexpr Store kAllStores[] = {Store::kFloat, Store::kDouble, Store::kInt32,
                                Store::kInt64, Store::kUint64, Store::kString};

const char* store_name(Store s) {
  switch (s) {
    case Store::kFloat: return "float_data";
    case Store::kDouble: return "double_data";
    case Store::kInt32: return "int32_data";
    case Store::kInt64: return "int64_data";
    case Store::kUint64: return "uint64_data";
    case Store::kString: return "string_data";
  }
  return "";
}

uint64_t store_count(const onnx::TensorProto& t, Store s) {
  switch (s) {
    case Store::kFloat: return t.float_data_size();
    case Store::kDouble: return t.double_data_size();
    case Store::kInt32: return t.int32_data_size();
    case Store::kInt64: return t.int64_data_size();
    case Store::kUint64: return t.uint64_data_size();
    case Store::kString: return t.string_data_size();
  }
  return 0;
}

// ---------------------------------------------------------------------------
// JSON helpers.

// Replaces bytes that are not valid UTF-8 with U+FFFD, so the metadata JSON
// can always be serialized (proto2 strings are not validated).
std::string utf8_safe(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    bool ok = n > 0 && i + n <= s.size();
    uint32_t cp = n == 1 ? c : n == 2 ? (c & 0x1f) : n == 3 ? (c & 0x0f) : (c & 0x07);
    for (size_t k = 1; ok && k < n; ++k) {
      unsigned char d = static_cast<unsigned char>(s[i + k]);
      ok = (d & 0xc0) == 0x80;
      cp = (cp << 6) | (d & 0x3f);
    }
    static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (ok && (cp < kMin[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))) ok = false;
    if (ok) {
      out.append(s, i, n);
      i += n;
    } else {
      out += "\xef\xbf\xbd";
      ++i;
    }
  }
  return out;
}

nlohmann::json elem_type_json(int32_t code) {
  const OnnxType* t = onnx_type(code);
  if (t && t->dtype) return std::string(dtype_name(*t->dtype));
  if (t) return t->onnx_name;
  return code;
}

nlohmann::json value_info_json(const onnx::ValueInfoProto& v) {
  nlohmann::json j = {{"name", utf8_safe(v.name())}};
  const onnx::TypeProto& tp = v.type();
  if (!tp.has_tensor_type()) {
    j["type"] = tp.has_sequence_type() ? "sequence"
                : tp.has_map_type()    ? "map"
                : tp.has_optional_type() ? "optional"
                : tp.has_sparse_tensor_type() ? "sparse_tensor"
                                              : "unknown";
    return j;
  }
  const auto& tt = tp.tensor_type();
  j["elem_type"] = elem_type_json(tt.elem_type());
  if (!tt.has_shape()) {
    j["shape"] = nullptr;
    return j;
  }
  nlohmann::json shape = nlohmann::json::array();
  for (const auto& d : tt.shape().dim()) {
    if (d.has_dim_value()) shape.push_back(d.dim_value());
    else if (d.has_dim_param()) shape.push_back(utf8_safe(d.dim_param()));
    else shape.push_back(nullptr);
  }
  j["shape"] = std::move(shape);
  return j;
}

nlohmann::json model_json(const onnx::ModelProto& m) {
  nlohmann::json j = nlohmann::json::object();
  j["ir_version"] = m.ir_version();
  j["producer_name"] = utf8_safe(m.producer_name());
  j["producer_version"] = utf8_safe(m.producer_version());
  j["domain"] = utf8_safe(m.domain());
  j["model_version"] = m.model_version();
  j["doc_string"] = utf8_safe(m.doc_string());
  nlohmann::json ops = nlohmann::json::array();
  for (const auto& o : m.opset_import())
    ops.push_back({{"domain", utf8_safe(o.domain())}, {"version", o.version()}});
  j["opset_import"] = std::move(ops);
  nlohmann::json props = nlohmann::json::object();
  for (const auto& p : m.metadata_props()) props[utf8_safe(p.key())] = utf8_safe(p.value());
  j["metadata_props"] = std::move(props);
  const onnx::GraphProto& g = m.graph();
  j["graph_name"] = utf8_safe(g.name());
  nlohmann::json ins = nlohmann::json::array(), outs = nlohmann::json::array();
  for (const auto& v : g.input()) ins.push_back(value_info_json(v));
  for (const auto& v : g.output()) outs.push_back(value_info_json(v));
  j["inputs"] = std::move(ins);
  j["outputs"] = std::move(outs);
  j["node_count"] = g.node_size();
  return j;
}

// ---------------------------------------------------------------------------
// Initializers.

struct ExtFile {
  uint32_t index;
  uint64_t size;
};

// State shared while walking the model's graphs.
struct Ctx {
  Ctx(const MappedFile& f, ModelArtifact* a, TensorIndex* i, Error* e) : file(f), art(a), idx(i), err(e) {}
  const MappedFile& file;
  ModelArtifact* art;
  TensorIndex* idx;
  Error* err;
  uint32_t file_index = 0;
  fs::path dir;
  std::map<std::string, ExtFile> ext_files;
  std::unordered_set<std::string> names;
  std::set<std::string> op_types;
  uint64_t inline_bytes = 0;
  uint64_t name_bytes = 0;  // bytes of subgraph-prefixed names built so far
};

std::string qname(const std::string& name) { return "'" + utf8_safe(name) + "'"; }

std::string shape_str(const std::vector<uint64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

bool tfail(Ctx& c, const std::string& name, std::optional<uint64_t> off, const std::string& msg) {
  return fail(c.err, c.file.path(), off, "initializer " + qname(name) + ": " + msg);
}

// Strict decimal parse of an external_data offset/length.
std::optional<uint64_t> parse_u64(const std::string& s) {
  if (s.empty() || s.size() > 20) return std::nullopt;
  uint64_t v = 0;
  for (char ch : s) {
    if (ch < '0' || ch > '9') return std::nullopt;
    if (__builtin_mul_overflow(v, uint64_t{10}, &v) ||
        __builtin_add_overflow(v, uint64_t(ch - '0'), &v))
      return std::nullopt;
  }
  return v;
}

// Checks that `p` lies inside `dir` (both already canonical).
bool inside(const fs::path& dir, const fs::path& p) {
  auto d = dir.begin(), q = p.begin();
  for (; d != dir.end(); ++d, ++q)
    if (q == p.end() || *d != *q) return false;
  return q != p.end();
}

// Resolves `loc` against the model directory and maps it once; fills `out`.
bool open_external(Ctx& c, const std::string& name, uint64_t off, const std::string& loc,
                   ExtFile* out, std::string* path_out) {
  fs::path rel(loc);
  if (loc.empty()) return tfail(c, name, off, "external data has no location");
  if (loc.size() > kMaxLocationBytes)
    return tfail(c, name, off, "external data location of " + std::to_string(loc.size()) + " B exceeds " +
                                   std::to_string(kMaxLocationBytes) + " B");
  if (rel.is_absolute() || rel.has_root_name() || rel.has_root_directory())
    return tfail(c, name, off, "external data location " + qname(loc) + " is an absolute path");
  for (const auto& part : rel)
    if (part == "..")
      return tfail(c, name, off, "external data location " + qname(loc) + " escapes the model directory");
  std::error_code ec;
  fs::path dir = fs::weakly_canonical(c.dir, ec);
  fs::path full = ec ? fs::path() : fs::weakly_canonical(c.dir / rel, ec);
  if (ec || !inside(dir, full))
    return tfail(c, name, off, "external data location " + qname(loc) + " escapes the model directory");
  *path_out = (c.dir / rel).string();
  auto it = c.ext_files.find(full.string());
  if (it != c.ext_files.end()) {
    *out = it->second;
    return true;
  }
  if (c.ext_files.size() >= kMaxExternalFiles)
    return tfail(c, name, off, "more than " + std::to_string(kMaxExternalFiles) + " external data files");
  Error e;
  auto mf = MappedFile::open(*path_out, &e);
  if (!mf) return tfail(c, name, off, "cannot open external data " + qname(loc) + ": " + e.message);
  ExtFile f{add_artifact_file(c.art, *mf, "onnx-external-data"), mf->size()};
  c.ext_files.emplace(full.string(), f);
  *out = f;
  return true;
}

// Fills `ti` (kRaw in an external file) from the tensor's external_data entries.
bool read_external(Ctx& c, const onnx::TensorProto& t, const std::string& name, uint64_t off,
                   uint64_t want, TensorInfo* ti) {
  if (ti->dtype == DType::STRING)
    return tfail(c, name, off, "STRING tensors cannot use external data");
  if (static_cast<uint64_t>(t.external_data_size()) > kMaxExternalEntries)
    return tfail(c, name, off, "too many external_data entries");
  std::string loc;
  std::optional<std::string> off_s, len_s;
  for (const auto& kv : t.external_data()) {
    if (kv.key() == "location") loc = kv.value();
    else if (kv.key() == "offset") off_s = kv.value();
    else if (kv.key() == "length") len_s = kv.value();
  }
  ExtFile ef{0, 0};
  std::string path;
  if (!open_external(c, name, off, loc, &ef, &path)) return false;
  std::optional<uint64_t> start = off_s ? parse_u64(*off_s) : std::optional<uint64_t>(0);
  if (!start) return tfail(c, name, off, "external data offset " + qname(*off_s) + " is not a number");
  if (*start > ef.size)
    return tfail(c, name, off, "external data offset " + std::to_string(*start) + " is beyond the end of " +
                                   qname(loc) + " (" + human_bytes(ef.size) + ")");
  std::optional<uint64_t> len = len_s ? parse_u64(*len_s) : std::optional<uint64_t>(ef.size - *start);
  if (!len) return tfail(c, name, off, "external data length " + qname(*len_s) + " is not a number");
  if (*len > ef.size - *start)
    return tfail(c, name, off, "external data range " + std::to_string(*start) + "+" + std::to_string(*len) +
                                   " exceeds " + qname(loc) + " size " + human_bytes(ef.size));
  if (*len != want)
    return tfail(c, name, off, "external data length " + std::to_string(*len) + " B, expected " +
                                   std::to_string(want) + " B for " + std::string(dtype_name(ti->dtype)) +
                                   " " + shape_str(ti->shape));
  ti->layout = TensorLayout::kRaw;
  ti->file = ef.index;
  ti->offset = *start;
  ti->length = *len;
  return true;
}

// Fills `ti` (kRaw in the .onnx file) from the raw_data the scanner located.
bool read_raw(Ctx& c, const onnx::TensorProto& t, const std::string& name, const RawRef& r,
              uint64_t want, TensorInfo* ti) {
  if (!r.has_raw || r.raw_len != t.raw_data().size())
    return tfail(c, name, r.tensor_off, "raw_data does not match the wire scan");
  if (ti->dtype == DType::STRING) return tfail(c, name, r.raw_off, "STRING tensors cannot use raw_data");
  for (Store s : kAllStores)
    if (store_count(t, s) != 0) return tfail(c, name, r.tensor_off, std::string("has both raw_data and ") + store_name(s));
  if (r.raw_len != want)
    return tfail(c, name, r.raw_off, "raw_data is " + std::to_string(r.raw_len) + " B, expected " +
                                         std::to_string(want) + " B for " +
                                         std::string(dtype_name(ti->dtype)) + " " + shape_str(ti->shape));
  ti->layout = TensorLayout::kRaw;
  ti->file = c.file_index;
  ti->offset = r.raw_off;
  ti->length = r.raw_len;
  return true;
}

template <typename T>
void put_le(std::string* out, T v) {
  unsigned char b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));  // the host is little-endian (checked below)
  out->append(reinterpret_cast<const char*>(b), sizeof(T));
}
static_assert(std::endian::native == std::endian::little, "canonical bytes assume a little-endian host");

// Canonical bytes of the typed field `s` of `t` for `dt` (counts already checked).
void materialize(const onnx::TensorProto& t, Store s, DType dt, std::string* out) {
  uint32_t width = dt == DType::I4 || dt == DType::U4 ? 1 : dtype_info(dt).block_bytes;
  switch (s) {
    case Store::kFloat: for (float v : t.float_data()) put_le(out, v); break;
    case Store::kDouble: for (double v : t.double_data()) put_le(out, v); break;
    case Store::kInt64: for (int64_t v : t.int64_data()) put_le(out, v); break;
    case Store::kUint64:
      for (uint64_t v : t.uint64_data()) {
        if (width == 4) put_le(out, static_cast<uint32_t>(v));
        else put_le(out, v);
      }
      break;
    case Store::kInt32:
      for (int32_t v : t.int32_data()) {
        uint32_t u = static_cast<uint32_t>(v);
        if (width == 1) put_le(out, static_cast<uint8_t>(u));
        else if (width == 2) put_le(out, static_cast<uint16_t>(u));
        else put_le(out, u);
      }
      break;
    case Store::kString:
      for (const auto& v : t.string_data()) {
        put_le(out, static_cast<uint64_t>(v.size()));
        out->append(v);
      }
      break;
  }
}

// Fills `ti` (kInline) from the typed field that `ty` uses.
bool read_typed(Ctx& c, const onnx::TensorProto& t, const std::string& name, uint64_t off,
                const OnnxType& ty, uint64_t elems, std::optional<uint64_t> want, TensorInfo* ti) {
  std::string dt_name(dtype_name(ti->dtype));
  for (Store s : kAllStores)
    if (s != ty.store && store_count(t, s) != 0)
      return tfail(c, name, off, dt_name + " data stored in " + store_name(s));
  uint64_t expect = 0;
  bool packed4 = ti->dtype == DType::I4 || ti->dtype == DType::U4;
  if (packed4) expect = want.value_or(0);
  else if (__builtin_mul_overflow(elems, uint64_t{ty.per_elem}, &expect)) expect = UINT64_MAX;
  uint64_t have = store_count(t, ty.store);
  if (have != expect)
    return tfail(c, name, off, std::string(store_name(ty.store)) + " has " + std::to_string(have) +
                                   " values, expected " + std::to_string(expect) + " for " + dt_name +
                                   " " + shape_str(ti->shape));
  uint64_t bytes = want.value_or(0);
  if (ti->dtype == DType::STRING) {
    for (const auto& v : t.string_data()) bytes += 8 + v.size();
  }
  if (bytes > limits::kMaxInlineBytes - c.inline_bytes)
    return tfail(c, name, off, "typed data " + human_bytes(bytes) + " exceeds the in-memory limit " +
                                   human_bytes(limits::kMaxInlineBytes));
  c.inline_bytes += bytes;
  auto data = std::make_shared<std::string>();
  data->reserve(bytes);
  materialize(t, ty.store, ti->dtype, data.get());
  ti->layout = TensorLayout::kInline;
  ti->length = data->size();
  ti->inline_data = std::move(data);
  return true;
}

// Checks an initializer's (possibly prefixed) name: present, bounded, unique.
bool check_name(Ctx& c, const onnx::TensorProto& t, uint64_t off, const std::string& name) {
  if (t.name().empty()) return fail(c.err, c.file.path(), off, "initializer with an empty name");
  if (name.size() > limits::kMaxNameBytes)
    return fail(c.err, c.file.path(), off, "initializer name of " + std::to_string(name.size()) +
                                               " B exceeds " + std::to_string(limits::kMaxNameBytes) + " B");
  if (c.idx->tensors.size() >= limits::kMaxTensors)
    return fail(c.err, c.file.path(), off, "more than " + count_str(limits::kMaxTensors) + " initializers");
  if (!c.names.insert(name).second) return tfail(c, name, off, "duplicate initializer name");
  return true;
}

// Fills ti->shape from dims (non-negative, bounded rank) and returns the element count.
bool read_shape(Ctx& c, const onnx::TensorProto& t, uint64_t off, TensorInfo* ti, uint64_t* elems) {
  if (static_cast<uint64_t>(t.dims_size()) > limits::kMaxDims)
    return tfail(c, ti->name, off, "rank " + std::to_string(t.dims_size()) + " exceeds " +
                                       std::to_string(limits::kMaxDims));
  for (int i = 0; i < t.dims_size(); ++i) {
    if (t.dims(i) < 0)
      return tfail(c, ti->name, off, "negative dimension " + std::to_string(t.dims(i)) + " at index " +
                                         std::to_string(i));
    ti->shape.push_back(static_cast<uint64_t>(t.dims(i)));
  }
  auto n = shape_elems(ti->shape.data(), ti->shape.size());
  if (!n) return tfail(c, ti->name, off, "element count of shape " + shape_str(ti->shape) + " overflows");
  *elems = *n;
  return true;
}

// Maps data_type to ti->dtype; returns the ONNX type entry or nullptr after failing.
const OnnxType* read_type(Ctx& c, const onnx::TensorProto& t, uint64_t off, TensorInfo* ti) {
  const OnnxType* ty = onnx_type(t.data_type());
  if (!ty) {
    tfail(c, ti->name, off, "unknown data type " + std::to_string(t.data_type()));
    return nullptr;
  }
  if (!ty->dtype) {
    tfail(c, ti->name, off, "unsupported data type " + std::to_string(t.data_type()) + " (" + ty->onnx_name + ")");
    return nullptr;
  }
  ti->dtype = *ty->dtype;
  return ty;
}

// Checks name, dims and type of `t`, then reads its data from wherever it lives.
bool read_initializer(Ctx& c, const onnx::TensorProto& t, const RawRef& r, const std::string& name) {
  uint64_t off = r.tensor_off, elems = 0;
  if (!check_name(c, t, off, name)) return false;
  TensorInfo ti;
  ti.name = name;
  const OnnxType* ty = nullptr;
  if (!read_shape(c, t, off, &ti, &elems) || !(ty = read_type(c, t, off, &ti))) return false;
  if (t.has_segment()) return tfail(c, name, off, "segmented tensors are not supported");
  std::optional<uint64_t> want = dtype_bytes(ti.dtype, elems);
  if (!want && ti.dtype != DType::STRING) {
    bool odd = (ti.dtype == DType::I4 || ti.dtype == DType::U4) && elems % 2 != 0;
    return tfail(c, name, off, (odd ? "odd element count of packed 4-bit shape " : "byte size of shape ") +
                                   shape_str(ti.shape) + (odd ? " is not supported" : " overflows"));
  }
  bool ok = t.data_location() == onnx::TensorProto::EXTERNAL
                ? read_external(c, t, name, off, want.value_or(0), &ti)
            : t.has_raw_data() ? read_raw(c, t, name, r, want.value_or(0), &ti)
                               : read_typed(c, t, name, off, *ty, elems, want, &ti);
  if (!ok) return false;
  c.idx->tensors.push_back(std::move(ti));
  return true;
}

bool mismatch(Ctx& c, const std::string& where) {
  return fail(c.err, c.file.path(), std::nullopt, "protobuf wire scan disagrees with the parsed model at " + where);
}

bool read_graph(Ctx& c, const onnx::GraphProto& g, const GraphScan& s, const std::string& prefix);

bool has_subgraph(const onnx::NodeProto& n) {
  for (const auto& a : n.attribute())
    if (a.has_g() || a.graphs_size() > 0) return true;
  return false;
}

// Builds `prefix + part` for a subgraph path, within the name caps.
bool join_name(Ctx& c, const std::string& prefix, const std::string& part, std::string* out) {
  uint64_t n = prefix.size() + part.size();
  if (n > limits::kMaxNameBytes)
    return fail(c.err, c.file.path(), std::nullopt,
                "subgraph name path of " + std::to_string(n) + " B exceeds " +
                    std::to_string(limits::kMaxNameBytes) + " B");
  if (n > kMaxNameBudget - c.name_bytes)
    return fail(c.err, c.file.path(), std::nullopt,
                "subgraph name paths exceed " + human_bytes(kMaxNameBudget) + " in total");
  c.name_bytes += n;
  *out = prefix + part;
  return true;
}

// Reads the subgraphs held by the attributes of node `n` (path `label`).
bool read_node_subgraphs(Ctx& c, const onnx::NodeProto& n, const NodeScan& s, const std::string& label) {
  if (static_cast<size_t>(n.attribute_size()) != s.attrs.size()) return mismatch(c, qname(label));
  for (int j = 0; j < n.attribute_size(); ++j) {
    const onnx::AttributeProto& a = n.attribute(j);
    const AttrScan& as = s.attrs[j];
    if (a.has_g() != static_cast<bool>(as.g) || static_cast<size_t>(a.graphs_size()) != as.graphs.size())
      return mismatch(c, qname(label + "/" + a.name()));
    if (!a.has_g() && a.graphs_size() == 0) continue;
    std::string p;
    if (!join_name(c, label, "/" + a.name(), &p)) return false;
    if (a.has_g() && !read_graph(c, a.g(), *as.g, p + "/")) return false;
    for (int k = 0; k < a.graphs_size(); ++k)
      if (!read_graph(c, a.graphs(k), as.graphs[k], p + "[" + std::to_string(k) + "]/")) return false;
  }
  return true;
}

// Reads the initializers of `g` (names prefixed by `prefix`) and its subgraphs.
bool read_graph(Ctx& c, const onnx::GraphProto& g, const GraphScan& s, const std::string& prefix) {
  if (static_cast<size_t>(g.initializer_size()) != s.inits.size() ||
      static_cast<size_t>(g.node_size()) != s.nodes.size())
    return mismatch(c, "graph " + qname(prefix + g.name()));
  for (int i = 0; i < g.initializer_size(); ++i) {
    std::string name = g.initializer(i).name();
    if (!prefix.empty() && !join_name(c, prefix, name, &name)) return false;
    if (!read_initializer(c, g.initializer(i), s.inits[i], name)) return false;
  }
  for (const auto& sp : g.sparse_initializer()) {
    std::string nm = prefix + sp.values().name();
    c.art->findings.push_back(Finding{"onnx-sparse-initializer", "warning", c.file.path(), std::nullopt,
                                      "sparse initializer " + qname(nm) + " is not read"});
  }
  for (int i = 0; i < g.node_size(); ++i) {
    const onnx::NodeProto& n = g.node(i);
    std::string op = n.domain().empty() || n.domain() == "ai.onnx" ? n.op_type() : n.domain() + ":" + n.op_type();
    c.op_types.insert(utf8_safe(op));
    if (static_cast<size_t>(n.attribute_size()) != s.nodes[i].attrs.size())
      return mismatch(c, "node " + std::to_string(i) + " of graph " + qname(prefix + g.name()));
    if (!has_subgraph(n)) continue;
    std::string label;
    if (!join_name(c, prefix, n.name().empty() ? "node" + std::to_string(i) : n.name(), &label)) return false;
    if (!read_node_subgraphs(c, n, s.nodes[i], label)) return false;
  }
  return true;
}

bool parse_model(const MappedFile& file, onnx::ModelProto* m) {
  try {
    google::protobuf::io::CodedInputStream in(file.data(), static_cast<int>(file.size()));
    in.SetTotalBytesLimit(static_cast<int>(kMaxProtobufBytes));
    in.SetRecursionLimit(kMaxProtoDepth);
    return m->ParseFromCodedStream(&in) && in.ConsumedEntireMessage();
  } catch (...) {
    return false;
  }
}

bool read_onnx(const MappedFile& file, ModelArtifact* art, TensorIndex* idx, Error* err) {
  if (file.size() > kMaxProtobufBytes)
    return fail(err, file.path(), std::nullopt,
                "model file " + human_bytes(file.size()) +
                    " exceeds the 2 GiB protobuf limit (larger models must use external data)");
  onnx::ModelProto m;
  if (!parse_model(file, &m)) {
    GraphScan ignored;
    ScanError se;
    if (!scan_model(file, &ignored, &se))
      return fail(err, file.path(), se.offset, "not a valid ONNX ModelProto (" + se.message + ")");
    return fail(err, file.path(), 0, "not a valid ONNX ModelProto (protobuf parse failed)");
  }
  if (!m.has_ir_version() || !m.has_graph())
    return fail(err, file.path(), 0,
                std::string("not a valid ONNX ModelProto (no ") + (m.has_ir_version() ? "graph" : "ir_version") + ")");
  GraphScan scan;
  ScanError se;
  if (!scan_model(file, &scan, &se)) return fail(err, file.path(), se.offset, se.message);
  Ctx c(file, art, idx, err);
  c.file_index = add_artifact_file(art, file, "onnx");
  c.dir = fs::path(file.path()).parent_path();
  if (c.dir.empty()) c.dir = ".";
  if (art->format.empty()) art->format = "onnx";
  nlohmann::json meta = model_json(m);
  if (!read_graph(c, m.graph(), scan, "")) return false;
  meta["op_types"] = std::vector<std::string>(c.op_types.begin(), c.op_types.end());
  art->metadata["onnx"] = std::move(meta);
  return true;
}

// ---------------------------------------------------------------------------
// Probe.

bool has_onnx_ext(std::string_view path) {
  if (path.size() < 5) return false;
  std::string ext(path.substr(path.size() - 5));
  for (char& ch : ext) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return ext == ".onnx";
}

// True when `tag` is a ModelProto field number with its declared wire type.
bool model_tag(uint64_t tag) {
  switch (tag >> 3) {
    case 1: case 5: return (tag & 7) == 0;
    case 2: case 3: case 4: case 6: case 7: case 8: case 14: case 20: case 25: return (tag & 7) == 2;
    default: return false;
  }
}

bool head_tag(std::string_view head, uint64_t pos, uint64_t* tag, uint64_t* next) {
  Cursor c{reinterpret_cast<const uint8_t*>(head.data()), pos, head.size()};
  if (!read_varint(&c, tag)) return false;
  *next = c.pos;
  return true;
}

class OnnxReader final : public FormatReader {
 public:
  std::string_view name() const override { return "onnx"; }

  Confidence probe(std::string_view head, std::string_view path) const override {
    uint64_t tag = 0, next = 0;
    bool first_ok = head_tag(head, 0, &tag, &next) && model_tag(tag);
    if (has_onnx_ext(path)) return first_ok ? Confidence::kMagic : Confidence::kHint;
    // No extension: "08 <ir_version 1..20> <another ModelProto tag>".
    if (head.size() < 3 || static_cast<uint8_t>(head[0]) != 0x08) return Confidence::kNo;
    uint8_t ir = static_cast<uint8_t>(head[1]);
    if (ir < 1 || ir > 20) return Confidence::kNo;
    return head_tag(head, 2, &tag, &next) && model_tag(tag) ? Confidence::kHint : Confidence::kNo;
  }

  bool read(const MappedFile& file, ModelArtifact* art, TensorIndex* idx, Error* err) const override {
    try {
      return read_onnx(file, art, idx, err);
    } catch (const std::exception& e) {
      return fail(err, file.path(), std::nullopt, std::string("onnx reader failed: ") + e.what());
    }
  }
};

}  // namespace

const FormatReader& onnx_reader() {
  static OnnxReader r;
  return r;
}

}  // namespace pedigree
