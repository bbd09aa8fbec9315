// This file implements the GGUF reader (versions 2 and 3, little-endian): it
// parses the header, every metadata key/value (nested arrays included) and
// the tensor infos, checks every count, length and offset against the bytes
// remaining and the named caps, and indexes each tensor's raw bytes in place.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <unordered_map>

#include "fingerprint/formats/limits.h"
#include "fingerprint/formats/readers.h"

namespace pedigree {
namespace {

using nlohmann::json;

constexpr char kMagic[4] = {'G', 'G', 'U', 'F'};
constexpr uint64_t kHeaderBytes = 24;              // magic, version, tensor count, kv count
constexpr uint64_t kMinKvBytes = 8 + 4 + 1;        // key length, value type, smallest value
constexpr uint64_t kMinTensorInfoBytes = 8 + 4 + 4 + 8;  // name length, n_dims, type, offset
constexpr uint32_t kMaxGgmlDims = 4;               // GGML_MAX_DIMS
constexpr uint32_t kDefaultAlignment = 32;         // GGUF_DEFAULT_ALIGNMENT
constexpr uint64_t kMaxStringBytes = limits::kMaxHeaderBytes;  ///< one metadata string value
constexpr uint64_t kMaxMetadataValues = uint64_t{1} << 24;     ///< scalars + strings in all arrays

enum ValueType : uint32_t {
  kU8 = 0, kI8 = 1, kU16 = 2, kI16 = 3, kU32 = 4, kI32 = 5, kF32 = 6,
  kBool = 7, kString = 8, kArray = 9, kU64 = 10, kI64 = 11, kF64 = 12,
};

const char* value_type_name(uint32_t t) {
  static const char* names[] = {"uint8", "int8",  "uint16", "int16", "uint32", "int32", "float32",
                                "bool",  "string", "array", "uint64", "int64", "float64"};
  return t <= kF64 ? names[t] : "unknown";
}

/// Smallest encoding of one value of type `t` (0 for unknown types).
uint64_t min_value_bytes(uint32_t t) {
  switch (t) {
    case kU8: case kI8: case kBool: return 1;
    case kU16: case kI16: return 2;
    case kU32: case kI32: case kF32: return 4;
    case kU64: case kI64: case kF64: case kString: return 8;
    case kArray: return 12;
    default: return 0;
  }
}

/// ggml type id -> DType; `removed`/`unsupported` name ids that are known but not readable.
struct GgmlType {
  std::optional<DType> dtype;
  const char* known_name = nullptr;
};

GgmlType ggml_type(uint32_t id) {
  static const std::optional<DType> kIds[] = {
      DType::F32,     DType::F16,    DType::Q4_0,    DType::Q4_1,  std::nullopt, std::nullopt,
      DType::Q5_0,    DType::Q5_1,   DType::Q8_0,    DType::Q8_1,  DType::Q2_K,  DType::Q3_K,
      DType::Q4_K,    DType::Q5_K,   DType::Q6_K,    DType::Q8_K,  DType::IQ2_XXS, DType::IQ2_XS,
      DType::IQ3_XXS, DType::IQ1_S,  DType::IQ4_NL,  DType::IQ3_S, DType::IQ2_S, DType::IQ4_XS,
      DType::I8,      DType::I16,    DType::I32,     DType::I64,   DType::F64,   DType::IQ1_M,
      DType::BF16,    std::nullopt,  std::nullopt,   std::nullopt, DType::TQ1_0, DType::TQ2_0,
      std::nullopt,   std::nullopt,  std::nullopt,   DType::MXFP4, DType::NVFP4, DType::Q1_0,
      DType::Q2_0,
  };
  static const std::pair<uint32_t, const char*> kNamed[] = {
      {4, "removed Q4_2"},       {5, "removed Q4_3"},        {31, "removed Q4_0_4_4"},
      {32, "removed Q4_0_4_8"},  {33, "removed Q4_0_8_8"},   {36, "removed IQ4_NL_4_4"},
      {37, "removed IQ4_NL_4_8"}, {38, "removed IQ4_NL_8_8"},
  };
  GgmlType out;
  if (id < std::size(kIds)) out.dtype = kIds[id];
  for (const auto& [n, name] : kNamed)
    if (n == id) out.known_name = name;
  return out;
}

bool is_utf8(std::string_view s) {
  size_t i = 0, n = s.size();
  while (i < n) {
    auto c = static_cast<uint8_t>(s[i]);
    if (c < 0x80) { ++i; continue; }
    size_t len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
    if (len == 0 || c > 0xf4 || i + len > n) return false;
    auto c1 = static_cast<uint8_t>(s[i + 1]);
    if ((c == 0xe0 && c1 < 0xa0) || (c == 0xed && c1 > 0x9f) || (c == 0xf0 && c1 < 0x90) ||
        (c == 0xf4 && c1 > 0x8f))
      return false;
    for (size_t k = 1; k < len; ++k)
      if ((static_cast<uint8_t>(s[i + k]) & 0xc0) != 0x80) return false;
    i += len;
  }
  return true;
}

/// `s` with every byte that is not part of a valid UTF-8 sequence replaced by U+FFFD.
std::string sanitize_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 8);
  size_t i = 0;
  while (i < s.size()) {
    size_t len = 1;
    auto c = static_cast<uint8_t>(s[i]);
    if (c >= 0x80) len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
    if (i + len <= s.size() && is_utf8(s.substr(i, len))) {
      out.append(s.substr(i, len));
      i += len;
    } else {
      out.append("\xef\xbf\xbd");
      ++i;
    }
  }
  return out;
}

/// `s` with non-printable bytes shown as \xNN.
std::string printable(std::string_view s) { return escape_bytes(s, true); }

std::string hex_range(uint64_t start, uint64_t end) {
  return "[" + hex_offset(start) + ", " + hex_offset(end) + ")";
}

/// JSON for a float: a number, or "nan" / "inf" / "-inf" (JSON has no such numbers).
json float_json(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return v;
}

/// One tensor info as declared in the file.
struct RawTensor {
  std::string_view name;
  std::vector<uint64_t> shape;  // outermost-first
  DType dtype = DType::F32;
  uint64_t offset = 0;          // relative to the data section
  uint64_t offset_pos = 0;      // where the offset field is in the file
  uint64_t start = 0, length = 0;
};

/// Bounds-checked cursor over the mapped file; every read reports its offset on failure.
class Parser {
 public:
  Parser(const MappedFile& f, Error* err) : f_(f), err_(err) {}

  bool parse(ModelArtifact* art, TensorIndex* idx);

 private:
  uint64_t remaining() const { return f_.size() - pos_; }
  bool error(uint64_t off, std::string msg) const { return fail(err_, f_.path(), off, std::move(msg)); }
  bool need(uint64_t n, const char* what) const;
  template <typename T> bool scalar(T* v, const char* what);
  bool string(std::string_view* s, uint64_t cap, const char* what);
  bool count_fits(uint64_t count, uint64_t min_bytes, uint64_t avail, const std::string& avail_what,
                  uint64_t cap, uint64_t at, const char* what) const;
  bool header_counts();

  bool header();
  bool metadata();
  bool key_value();
  bool value(uint32_t type, uint64_t depth, json* out);
  bool scalar_value(uint32_t type, json* out);
  bool array(uint64_t depth, json* out);
  bool alignment_from(const json& kv);
  bool tensor_info(uint64_t i);
  bool tensor_dims(RawTensor* t, uint32_t n_dims);
  bool tensor_type(RawTensor* t, uint32_t id, uint64_t type_pos);
  bool tensor_size(RawTensor* t, uint64_t dims_pos);
  bool place_tensors();
  void emit(ModelArtifact* art, TensorIndex* idx);

  const MappedFile& f_;
  Error* err_;
  uint64_t pos_ = 0;
  uint32_t version_ = 0;
  uint64_t tensor_count_ = 0, kv_count_ = 0;
  uint32_t alignment_ = kDefaultAlignment;
  uint64_t alignment_pos_ = 0;
  uint32_t alignment_type_ = kU32;
  uint64_t values_ = 0;
  uint64_t bad_utf8_ = 0;
  std::optional<uint64_t> first_bad_utf8_;
  json kv_ = json::object();
  std::vector<RawTensor> tensors_;
  std::unordered_map<std::string_view, uint64_t> tensor_names_;
};

bool Parser::need(uint64_t n, const char* what) const {
  if (remaining() >= n) return true;
  return error(pos_, std::string("truncated ") + what + ": need " + human_bytes(n) + ", " +
                         human_bytes(remaining()) + " remain");
}

template <typename T>
bool Parser::scalar(T* v, const char* what) {
  if (!need(sizeof(T), what)) return false;
  std::memcpy(v, f_.data() + pos_, sizeof(T));
  pos_ += sizeof(T);
  return true;
}

bool Parser::string(std::string_view* s, uint64_t cap, const char* what) {
  uint64_t at = pos_, len = 0;
  if (!scalar(&len, what)) return false;
  if (len > remaining())
    return error(at, "string length " + count_str(len) + " exceeds remaining " + human_bytes(remaining()));
  if (len > cap)
    return error(at, std::string(what) + " " + count_str(len) + " exceeds limit " + human_bytes(cap));
  *s = std::string_view(reinterpret_cast<const char*>(f_.data() + pos_), len);
  pos_ += len;
  return true;
}

bool Parser::count_fits(uint64_t count, uint64_t min_bytes, uint64_t avail, const std::string& avail_what,
                        uint64_t cap, uint64_t at, const char* what) const {
  if (count > avail / min_bytes)
    return error(at, std::string(what) + " " + count_str(count) + " exceeds " + avail_what);
  if (count > cap)
    return error(at, std::string(what) + " " + count_str(count) + " exceeds limit " + count_str(cap));
  return true;
}

bool Parser::header() {
  if (f_.size() >= 4 && std::memcmp(f_.data(), kMagic, 4) != 0) {
    return error(0, "bad magic \"" + printable(f_.view().substr(0, 4)) + "\" (expected \"GGUF\")");
  }
  if (f_.size() < kHeaderBytes)
    return error(0, "truncated gguf header: file size " + human_bytes(f_.size()) + ", need " +
                        human_bytes(kHeaderBytes));
  std::memcpy(&version_, f_.data() + 4, 4);
  if (version_ == 2 || version_ == 3) return header_counts();
  uint32_t swapped = __builtin_bswap32(version_);
  if (version_ > 0xffff && swapped >= 1 && swapped <= 3)
    return error(4, "big-endian gguf (version field " + hex_offset(version_) +
                        ") is not supported; only little-endian files are read");
  if (version_ == 1) return error(4, "gguf version 1 is not supported (only versions 2 and 3)");
  return error(4, "unknown gguf version " + std::to_string(version_) + " (only versions 2 and 3)");
}

bool Parser::header_counts() {
  std::memcpy(&tensor_count_, f_.data() + 8, 8);
  std::memcpy(&kv_count_, f_.data() + 16, 8);
  const uint64_t avail = f_.size() - kHeaderBytes;
  const std::string size = "file size " + human_bytes(f_.size());
  if (!count_fits(tensor_count_, kMinTensorInfoBytes, avail, size, limits::kMaxTensors, 8, "tensor count"))
    return false;
  if (!count_fits(kv_count_, kMinKvBytes, avail, size, limits::kMaxMetadataEntries, 16, "metadata kv count"))
    return false;
  pos_ = kHeaderBytes;
  return true;
}

bool Parser::metadata() {
  for (uint64_t i = 0; i < kv_count_; ++i)
    if (!key_value()) return false;
  return alignment_from(kv_);
}

bool Parser::key_value() {
  uint64_t key_pos = pos_;
  std::string_view key;
  if (!string(&key, limits::kMaxNameBytes, "metadata key length")) return false;
  if (!is_utf8(key)) return error(key_pos, "metadata key is not valid utf-8");
  std::string k(key);
  if (kv_.contains(k)) return error(key_pos, "duplicate metadata key '" + k + "'");
  uint64_t type_pos = pos_;
  uint32_t type = 0;
  if (!scalar(&type, "metadata value type")) return false;
  if (k == "general.alignment") {
    alignment_pos_ = type_pos;
    alignment_type_ = type;
  }
  json v;
  if (!value(type, 0, &v)) return false;
  kv_[k] = std::move(v);
  return true;
}

bool Parser::value(uint32_t type, uint64_t depth, json* out) {
  if (type == kArray) return array(depth + 1, out);
  if (type == kString) {
    uint64_t at = pos_;
    std::string_view s;
    if (!string(&s, kMaxStringBytes, "string length")) return false;
    if (is_utf8(s)) {
      *out = std::string(s);
    } else {
      *out = sanitize_utf8(s);
      if (bad_utf8_++ == 0) first_bad_utf8_ = at;
    }
    return true;
  }
  if (type > kF64) return error(pos_ - 4, "unknown metadata value type " + std::to_string(type));
  return scalar_value(type, out);
}

bool Parser::scalar_value(uint32_t type, json* out) {
  const char* what = value_type_name(type);
  union {
    uint8_t u8; int8_t i8; uint16_t u16; int16_t i16; uint32_t u32; int32_t i32;
    float f32; uint64_t u64; int64_t i64; double f64;
  } v{};
  bool ok = true;
  switch (type) {
    case kU8: ok = scalar(&v.u8, what); *out = v.u8; break;
    case kI8: ok = scalar(&v.i8, what); *out = v.i8; break;
    case kU16: ok = scalar(&v.u16, what); *out = v.u16; break;
    case kI16: ok = scalar(&v.i16, what); *out = v.i16; break;
    case kU32: ok = scalar(&v.u32, what); *out = v.u32; break;
    case kI32: ok = scalar(&v.i32, what); *out = v.i32; break;
    case kF32: ok = scalar(&v.f32, what); *out = float_json(v.f32); break;
    case kBool: ok = scalar(&v.u8, what); *out = v.u8 != 0; break;
    case kU64: ok = scalar(&v.u64, what); *out = v.u64; break;
    case kI64: ok = scalar(&v.i64, what); *out = v.i64; break;
    default: ok = scalar(&v.f64, what); *out = float_json(v.f64); break;
  }
  return ok;
}

bool Parser::array(uint64_t depth, json* out) {
  if (depth > limits::kMaxNesting)
    return error(pos_, "metadata arrays nested deeper than " + std::to_string(limits::kMaxNesting) + " levels");
  uint64_t type_pos = pos_;
  uint32_t type = 0;
  uint64_t count = 0;
  if (!scalar(&type, "array element type")) return false;
  uint64_t min_bytes = min_value_bytes(type);
  if (min_bytes == 0) return error(type_pos, "unknown metadata array element type " + std::to_string(type));
  uint64_t count_pos = pos_;
  if (!scalar(&count, "array count")) return false;
  if (!count_fits(count, min_bytes, remaining(), "remaining " + human_bytes(remaining()), limits::kMaxArrayElems,
                  count_pos, "array count"))
    return false;
  if (count > kMaxMetadataValues - values_)
    return error(count_pos, "metadata holds more than " + count_str(kMaxMetadataValues) + " array values");
  values_ += count;
  *out = json::array();
  auto& arr = out->get_ref<json::array_t&>();
  arr.reserve(count);
  for (uint64_t i = 0; i < count; ++i) {
    arr.emplace_back();
    if (!value(type, depth, &arr.back())) return false;
  }
  return true;
}

bool Parser::alignment_from(const json& kv) {
  auto it = kv.find("general.alignment");
  if (it == kv.end()) return true;
  const uint64_t at = alignment_pos_;
  if (alignment_type_ != kU32)
    return error(at, std::string("general.alignment has type ") + value_type_name(alignment_type_) +
                         ", expected uint32");
  uint64_t a = it->get<uint64_t>();
  if (a == 0 || (a & (a - 1)) != 0)
    return error(at + 4, "general.alignment " + std::to_string(a) + " is not a non-zero power of two");
  alignment_ = static_cast<uint32_t>(a);
  return true;
}

bool Parser::tensor_info(uint64_t i) {
  RawTensor t;
  uint64_t name_pos = pos_;
  if (!string(&t.name, limits::kMaxNameBytes, "tensor name length")) return false;
  if (!is_utf8(t.name)) return error(name_pos, "tensor " + std::to_string(i) + " name is not valid utf-8");
  auto [it, fresh] = tensor_names_.emplace(t.name, i);
  if (!fresh)
    return error(name_pos, "duplicate tensor name '" + std::string(t.name) + "' (tensors " +
                               std::to_string(it->second) + " and " + std::to_string(i) + ")");
  uint64_t dims_pos = pos_;
  uint32_t n_dims = 0, type = 0;
  if (!scalar(&n_dims, "tensor dimension count")) return false;
  if (n_dims > kMaxGgmlDims)
    return error(dims_pos, "tensor '" + std::string(t.name) + "' has " + std::to_string(n_dims) +
                               " dimensions (max " + std::to_string(kMaxGgmlDims) + ")");
  if (!tensor_dims(&t, n_dims)) return false;
  uint64_t type_pos = pos_;
  if (!scalar(&type, "tensor type") || !tensor_type(&t, type, type_pos)) return false;
  t.offset_pos = pos_;
  if (!scalar(&t.offset, "tensor offset")) return false;
  if (!tensor_size(&t, dims_pos)) return false;
  tensors_.push_back(std::move(t));
  return true;
}

bool Parser::tensor_dims(RawTensor* t, uint32_t n_dims) {
  t->shape.resize(n_dims);
  for (uint32_t d = 0; d < n_dims; ++d) {
    uint64_t at = pos_;
    uint64_t dim = 0;
    if (!scalar(&dim, "tensor dimension")) return false;
    if (dim == 0 || dim > uint64_t{INT64_MAX})
      return error(at, "tensor '" + std::string(t->name) + "' dimension " + std::to_string(d) + " is " +
                           (dim == 0 ? "zero" : count_str(dim) + " (over 2^63-1)"));
    t->shape[n_dims - 1 - d] = dim;  // file order is innermost-first
  }
  return true;
}

bool Parser::tensor_type(RawTensor* t, uint32_t id, uint64_t type_pos) {
  GgmlType g = ggml_type(id);
  if (g.dtype) {
    t->dtype = *g.dtype;
    return true;
  }
  std::string what = g.known_name ? std::string(g.known_name) + " " : "unknown ";
  return error(type_pos, "tensor '" + std::string(t->name) + "' has " + what + "ggml type " + std::to_string(id));
}

bool Parser::tensor_size(RawTensor* t, uint64_t dims_pos) {
  const std::string name(t->name);
  auto elems = shape_elems(t->shape.data(), t->shape.size());
  if (!elems || *elems > uint64_t{INT64_MAX})
    return error(dims_pos, "tensor '" + name + "' element count overflows 64 bits");
  const DTypeInfo& info = dtype_info(t->dtype);
  uint64_t inner = t->shape.empty() ? 1 : t->shape.back();
  if (inner % info.block_elems != 0)
    return error(dims_pos, "tensor '" + name + "' innermost dimension " + std::to_string(inner) +
                               " is not a multiple of block size " + std::to_string(info.block_elems) +
                               " of " + std::string(info.name));
  auto bytes = dtype_bytes(t->dtype, *elems);
  if (!bytes) return error(dims_pos, "tensor '" + name + "' byte size overflows 64 bits");
  t->length = *bytes;
  if (t->offset % alignment_ != 0)
    return error(t->offset_pos, "tensor '" + name + "' offset " + hex_offset(t->offset) +
                                    " is not a multiple of alignment " + std::to_string(alignment_));
  return true;
}

bool Parser::place_tensors() {
  uint64_t data_start = 0;
  if (__builtin_add_overflow(pos_, uint64_t{alignment_} - 1, &data_start))
    return error(pos_, "data section start overflows");
  data_start -= data_start % alignment_;
  for (RawTensor& t : tensors_) {
    uint64_t end = 0;
    if (__builtin_add_overflow(data_start, t.offset, &t.start) ||
        __builtin_add_overflow(t.start, t.length, &end))
      return error(t.offset_pos, "tensor '" + std::string(t.name) + "' offset " + hex_offset(t.offset) +
                                     " + size " + std::to_string(t.length) + " overflows");
    if (end > f_.size())
      return error(t.offset_pos, "tensor '" + std::string(t.name) + "' data " + hex_range(t.start, end) +
                                     " exceeds file size " + human_bytes(f_.size()));
  }
  std::vector<const RawTensor*> order;
  order.reserve(tensors_.size());
  for (const RawTensor& t : tensors_) order.push_back(&t);
  std::stable_sort(order.begin(), order.end(),
                   [](const RawTensor* a, const RawTensor* b) { return a->start < b->start; });
  for (size_t i = 1; i < order.size(); ++i) {
    const RawTensor &a = *order[i - 1], &b = *order[i];
    if (b.start < a.start + a.length)
      return error(b.offset_pos, "tensor '" + std::string(b.name) + "' data " +
                                     hex_range(b.start, b.start + b.length) + " overlaps tensor '" +
                                     std::string(a.name) + "' data " + hex_range(a.start, a.start + a.length));
  }
  return true;
}

void Parser::emit(ModelArtifact* art, TensorIndex* idx) {
  uint32_t file = add_artifact_file(art, f_, "gguf");
  if (art->format.empty()) art->format = "gguf";
  art->metadata["gguf"] = {{"version", version_},
                           {"alignment", alignment_},
                           {"tensor_count", tensor_count_},
                           {"kv", std::move(kv_)}};
  if (bad_utf8_ > 0)
    art->findings.push_back({"gguf-invalid-utf8", "warning", f_.path(), first_bad_utf8_,
                             std::to_string(bad_utf8_) +
                                 " metadata string(s) are not valid utf-8; invalid bytes were replaced by U+FFFD"});
  idx->tensors.reserve(idx->tensors.size() + tensors_.size());
  for (RawTensor& t : tensors_) {
    TensorInfo ti;
    ti.name = std::string(t.name);
    ti.dtype = t.dtype;
    ti.shape = std::move(t.shape);
    ti.layout = TensorLayout::kRaw;
    ti.file = file;
    ti.offset = t.start;
    ti.length = t.length;
    idx->tensors.push_back(std::move(ti));
  }
}

bool Parser::parse(ModelArtifact* art, TensorIndex* idx) {
  if (!header() || !metadata()) return false;
  if (!count_fits(tensor_count_, kMinTensorInfoBytes, remaining(), "remaining " + human_bytes(remaining()),
                  limits::kMaxTensors, 8, "tensor count"))
    return false;
  tensors_.reserve(tensor_count_);
  tensor_names_.reserve(tensor_count_);
  for (uint64_t i = 0; i < tensor_count_; ++i)
    if (!tensor_info(i)) return false;
  if (!place_tensors()) return false;
  emit(art, idx);
  return true;
}

bool ends_with_gguf(std::string_view path) {
  if (path.size() < 5) return false;
  std::string_view ext = path.substr(path.size() - 5);
  const char* want = ".gguf";
  for (size_t i = 0; i < 5; ++i)
    if (std::tolower(static_cast<unsigned char>(ext[i])) != want[i]) return false;
  return true;
}

class GgufReader final : public FormatReader {
 public:
  std::string_view name() const override { return "gguf"; }

  Confidence probe(std::string_view head, std::string_view path) const override {
    if (head.size() >= 4 && std::memcmp(head.data(), kMagic, 4) == 0) return Confidence::kMagic;
    return ends_with_gguf(path) ? Confidence::kHint : Confidence::kNo;
  }

  bool read(const MappedFile& file, ModelArtifact* art, TensorIndex* idx, Error* err) const override {
    try {
      Parser p(file, err);
      return p.parse(art, idx);
    } catch (const std::exception& e) {
      return fail(err, file.path(), std::nullopt, std::string("gguf: ") + e.what());
    }
  }
};

}  // namespace

const FormatReader& gguf_reader() {
  static const GgufReader reader;
  return reader;
}

}  // namespace pedigree
