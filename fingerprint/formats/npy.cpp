// This file implements the NumPy .npy reader: the "\x93NUMPY" magic, a
// version, a header length, and a Python dict literal header that a small
// strict parser reads (strings, ints, booleans, None, tuples, lists, dicts;
// nothing is evaluated), followed by one array's raw data.
#include "fingerprint/formats/npy.h"

#include <filesystem>
#include <map>
#include <set>

#include "fingerprint/formats/limits.h"
#include "fingerprint/formats/readers.h"

namespace pedigree {
namespace {

constexpr std::string_view kMagic = "\x93NUMPY";
// numpy itself refuses headers over 10000 bytes by default; allow more, but bounded.
constexpr uint64_t kMaxNpyHeaderBytes = uint64_t{1} << 20;
// Items of one tuple, list or dict in the header literal.
constexpr size_t kMaxLiteralItems = 4096;

std::string quote(std::string_view s) { return "'" + escape_bytes(s, true, 120) + "'"; }

// ---- the Python literal -----------------------------------------------------

// One parsed Python literal.
struct PyLit {
  enum class Kind { kStr, kInt, kTrue, kFalse, kNone, kTuple, kList, kDict };
  Kind kind = Kind::kNone;
  std::string str;           // kStr contents; kInt as written
  bool negative = false;     // kInt
  bool overflow = false;     // kInt magnitude above 2^64-1
  uint64_t value = 0;        // kInt magnitude
  std::vector<PyLit> items;  // kTuple, kList; kDict: key, value, key, value, ...
  size_t pos = 0;            // byte position in the header text
};

std::string kind_name(const PyLit& v) {
  switch (v.kind) {
    case PyLit::Kind::kStr:
      return "a string";
    case PyLit::Kind::kInt:
      return "an int";
    case PyLit::Kind::kTrue:
      return "True";
    case PyLit::Kind::kFalse:
      return "False";
    case PyLit::Kind::kNone:
      return "None";
    case PyLit::Kind::kTuple:
      return "a tuple";
    case PyLit::Kind::kList:
      return "a list";
    case PyLit::Kind::kDict:
      return "a dict";
  }
  return "a value";
}

// A strict recursive-descent parser of the literal subset numpy writes.
class LiteralParser {
 public:
  explicit LiteralParser(std::string_view s) : s_(s) {}

  bool parse(PyLit* out) {
    skip_ws();
    if (!value(out, 0)) return false;
    skip_ws();
    if (i_ != s_.size())
      return error("unexpected " + quote(s_.substr(i_, 1)) + " after the literal");
    return true;
  }

  size_t error_pos() const { return error_pos_; }
  const std::string& error_message() const { return error_; }

 private:
  bool error(std::string msg) {
    error_pos_ = i_;
    error_ = std::move(msg);
    return false;
  }
  void skip_ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r'))
      ++i_;
  }
  bool at_end() const { return i_ >= s_.size(); }

  bool value(PyLit* out, uint64_t depth) {
    if (depth >= limits::kMaxNesting)
      return error("literal nests deeper than " + std::to_string(limits::kMaxNesting) + " levels");
    if (at_end()) return error("literal ends early");
    out->pos = i_;
    char c = s_[i_];
    if (c == '{') return sequence(out, PyLit::Kind::kDict, '}', depth);
    if (c == '(') return sequence(out, PyLit::Kind::kTuple, ')', depth);
    if (c == '[') return sequence(out, PyLit::Kind::kList, ']', depth);
    if (c == '\'' || c == '"') return string_lit(out);
    if (c == '-' || (c >= '0' && c <= '9')) return number(out);
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_') return word(out);
    return error("unexpected " + quote(s_.substr(i_, 1)));
  }

  // Items up to `close`; for dicts "key: value" pairs. "(x)" is just x.
  bool sequence(PyLit* out, PyLit::Kind kind, char close, uint64_t depth) {
    out->kind = kind;
    ++i_;
    bool comma = false;
    for (;;) {
      skip_ws();
      if (at_end()) return error(std::string("literal ends before '") + close + "'");
      if (s_[i_] == close) break;
      if (!out->items.empty() && !comma)
        return error(std::string("expected ',' or '") + close + "'");
      if (out->items.size() >= kMaxLiteralItems)
        return error("literal has more than " + std::to_string(kMaxLiteralItems) + " items");
      out->items.emplace_back();
      if (!value(&out->items.back(), depth + 1)) return false;
      skip_ws();
      if (kind == PyLit::Kind::kDict && !dict_value(out, depth)) return false;
      comma = !at_end() && s_[i_] == ',';
      if (comma) ++i_;
    }
    ++i_;
    if (kind == PyLit::Kind::kTuple && out->items.size() == 1 && !comma) {
      PyLit inner = std::move(out->items[0]);
      *out = std::move(inner);
    }
    return true;
  }

  bool dict_value(PyLit* out, uint64_t depth) {
    if (at_end() || s_[i_] != ':') return error("expected ':' after a dict key");
    ++i_;
    skip_ws();
    out->items.emplace_back();
    if (!value(&out->items.back(), depth + 1)) return false;
    skip_ws();
    return true;
  }

  bool string_lit(PyLit* out) {
    out->kind = PyLit::Kind::kStr;
    char q = s_[i_++];
    while (!at_end() && s_[i_] != q) {
      char c = s_[i_];
      if (c == '\n' || c == '\r') return error("newline inside a string");
      if (c == '\\') {
        if (i_ + 1 >= s_.size()) break;
        char e = s_[i_ + 1];
        if (e != '\\' && e != '\'' && e != '"')
          return error("unsupported escape " + quote(s_.substr(i_, 2)) + " in a string");
        c = e;
        ++i_;
      }
      out->str += c;
      ++i_;
    }
    if (at_end()) return error("unterminated string");
    ++i_;
    return true;
  }

  bool number(PyLit* out) {
    out->kind = PyLit::Kind::kInt;
    size_t start = i_;
    if (s_[i_] == '-') {
      out->negative = true;
      ++i_;
      skip_ws();
    }
    size_t digits = i_;
    while (!at_end() && s_[i_] >= '0' && s_[i_] <= '9') {
      uint64_t d = static_cast<uint64_t>(s_[i_] - '0');
      if (__builtin_mul_overflow(out->value, uint64_t{10}, &out->value) ||
          __builtin_add_overflow(out->value, d, &out->value))
        out->overflow = true;
      ++i_;
    }
    if (i_ == digits) return error("expected digits after '-'");
    if (i_ - digits > 1 && s_[digits] == '0')
      return (i_ = digits, error("integer with a leading zero"));
    if (!at_end() && (s_[i_] == 'L' || s_[i_] == 'l')) ++i_;  // Python 2 long, as old numpy wrote
    if (!at_end() && (s_[i_] == '.' || s_[i_] == 'e' || s_[i_] == 'E' || s_[i_] == 'x'))
      return error("only decimal integers are supported");
    out->str = std::string(s_.substr(start, i_ - start));
    return true;
  }

  bool word(PyLit* out) {
    size_t start = i_;
    while (!at_end() && ((s_[i_] >= 'A' && s_[i_] <= 'Z') || (s_[i_] >= 'a' && s_[i_] <= 'z') ||
                         (s_[i_] >= '0' && s_[i_] <= '9') || s_[i_] == '_'))
      ++i_;
    std::string_view w = s_.substr(start, i_ - start);
    if (w == "True")
      out->kind = PyLit::Kind::kTrue;
    else if (w == "False")
      out->kind = PyLit::Kind::kFalse;
    else if (w == "None")
      out->kind = PyLit::Kind::kNone;
    else
      return (i_ = start, error("unexpected name " + quote(w) + " (only literals are read)"));
    return true;
  }

  std::string_view s_;
  size_t i_ = 0;
  size_t error_pos_ = 0;
  std::string error_;
};

// ---- header semantics -------------------------------------------------------

// Where the header text sits, for error offsets.
struct HeaderCtx {
  const std::string& path;
  uint64_t text_offset;  // absolute offset of the dict text
  Error* err;
  bool fail(const PyLit& at, std::string msg) const {
    return pedigree::fail(err, path, text_offset + at.pos, std::move(msg));
  }
};

std::string shape_str(const std::vector<uint64_t>& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + (shape.size() == 1 ? ",)" : ")");
}

bool parse_descr(const HeaderCtx& c, const PyLit& v, NpyArray* out) {
  if (v.kind == PyLit::Kind::kList) return c.fail(v, "structured dtypes are not supported");
  if (v.kind != PyLit::Kind::kStr)
    return c.fail(v, "descr is " + kind_name(v) + ", expected a string");
  static const std::map<std::string_view, std::pair<DType, int>> kKinds = {
      {"f2", {DType::F16, 2}}, {"f4", {DType::F32, 4}},    {"f8", {DType::F64, 8}},
      {"i1", {DType::I8, 1}},  {"i2", {DType::I16, 2}},    {"i4", {DType::I32, 4}},
      {"i8", {DType::I64, 8}}, {"u1", {DType::U8, 1}},     {"u2", {DType::U16, 2}},
      {"u4", {DType::U32, 4}}, {"u8", {DType::U64, 8}},    {"b1", {DType::BOOL, 1}},
      {"c8", {DType::C64, 8}}, {"c16", {DType::C128, 16}},
  };
  std::string_view d = v.str;
  char order = d.empty() ? '\0' : d[0];
  bool has_order = order == '<' || order == '>' || order == '|' || order == '=';
  std::string_view kind = has_order ? d.substr(1) : d;
  if (!kind.empty() && kind[0] == 'O')
    return c.fail(v, "object arrays hold pickled python objects and are not read");
  auto it = kKinds.find(kind);
  if (it == kKinds.end()) return c.fail(v, "unsupported descr " + quote(d));
  out->descr = v.str;
  out->dtype = it->second.first;
  out->big_endian = order == '>' && it->second.second > 1;
  return true;
}

bool parse_shape(const HeaderCtx& c, const PyLit& v, NpyArray* out) {
  if (v.kind != PyLit::Kind::kTuple)
    return c.fail(v, "shape is " + kind_name(v) + ", expected a tuple");
  if (v.items.size() > limits::kMaxDims)
    return c.fail(v, "shape has " + std::to_string(v.items.size()) + " dims, more than the " +
                         std::to_string(limits::kMaxDims) + " supported");
  for (size_t i = 0; i < v.items.size(); ++i) {
    const PyLit& d = v.items[i];
    std::string where = "shape dim " + std::to_string(i);
    if (d.kind != PyLit::Kind::kInt)
      return c.fail(d, where + " is " + kind_name(d) + ", expected an int");
    if (d.negative && d.value != 0)
      return c.fail(d, where + " is " + d.str + ", expected a non-negative int");
    if (d.overflow) return c.fail(d, where + " " + d.str + " does not fit in 64 bits");
    out->shape.push_back(d.value);
  }
  return true;
}

// The values of the three keys, each checked for presence and uniqueness.
bool dict_fields(const HeaderCtx& c, const PyLit& dict, const PyLit* fields[3]) {
  static const char* kKeys[3] = {"descr", "fortran_order", "shape"};
  if (dict.kind != PyLit::Kind::kDict)
    return c.fail(dict, "header is " + kind_name(dict) + ", expected a dict");
  for (size_t i = 0; i + 1 < dict.items.size(); i += 2) {
    const PyLit& k = dict.items[i];
    if (k.kind != PyLit::Kind::kStr)
      return c.fail(k, "header key is " + kind_name(k) + ", expected a string");
    size_t j = 0;
    while (j < 3 && k.str != kKeys[j]) ++j;
    if (j == 3) return c.fail(k, "header has unexpected key " + quote(k.str));
    if (fields[j]) return c.fail(k, "header has duplicate key " + quote(k.str));
    fields[j] = &dict.items[i + 1];
  }
  for (size_t j = 0; j < 3; ++j)
    if (!fields[j]) return c.fail(dict, std::string("header has no '") + kKeys[j] + "' key");
  return true;
}

bool interpret(const HeaderCtx& c, const PyLit& dict, NpyArray* out) {
  const PyLit* f[3] = {nullptr, nullptr, nullptr};
  if (!dict_fields(c, dict, f) || !parse_descr(c, *f[0], out)) return false;
  if (f[1]->kind != PyLit::Kind::kTrue && f[1]->kind != PyLit::Kind::kFalse)
    return c.fail(*f[1], "fortran_order is " + kind_name(*f[1]) + ", expected True or False");
  out->fortran_order = f[1]->kind == PyLit::Kind::kTrue;
  if (!parse_shape(c, *f[2], out)) return false;
  auto elems = shape_elems(out->shape.data(), out->shape.size());
  if (!elems)
    return c.fail(*f[2], "shape " + shape_str(out->shape) + " has more than 2^64 elements");
  auto bytes = dtype_bytes(out->dtype, *elems);
  if (!bytes)
    return c.fail(*f[2], "shape " + shape_str(out->shape) + " of " + quote(out->descr) +
                             " needs more than 2^64 bytes");
  out->data_length = *bytes;
  return true;
}

uint64_t read_le(std::string_view b, size_t off, size_t n) {
  uint64_t v = 0;
  for (size_t i = n; i-- > 0;) v = (v << 8) | static_cast<uint8_t>(b[off + i]);
  return v;
}

// Magic, version and header length; sets *text_start and *text_len.
bool parse_preamble(std::string_view b, const std::string& path, uint64_t base, NpyArray* out,
                    size_t* text_start, size_t* text_len, Error* err) {
  if (b.substr(0, kMagic.size()) != kMagic.substr(0, std::min(b.size(), kMagic.size())))
    return fail(err, path, base, "bad magic, expected \\x93NUMPY");
  if (b.size() < 8)
    return fail(
        err, path, base,
        "file is " + std::to_string(b.size()) + " bytes, too short for the npy magic and version");
  out->major = static_cast<uint8_t>(b[6]);
  out->minor = static_cast<uint8_t>(b[7]);
  if (out->major < 1 || out->major > 3 || out->minor != 0)
    return fail(
        err, path, base + 6,
        "unsupported npy version " + std::to_string(out->major) + "." + std::to_string(out->minor));
  size_t len_bytes = out->major == 1 ? 2 : 4;
  if (b.size() < 8 + len_bytes)
    return fail(err, path, base + 8, "file ends inside the header length field");
  uint64_t len = read_le(b, 8, len_bytes);
  if (len > kMaxNpyHeaderBytes)
    return fail(err, path, base + 8,
                "header length " + std::to_string(len) + " exceeds the " +
                    human_bytes(kMaxNpyHeaderBytes) + " cap");
  if (len > b.size() - 8 - len_bytes)
    return fail(err, path, base + 8,
                "header length " + std::to_string(len) + " exceeds the " +
                    std::to_string(b.size() - 8 - len_bytes) + " bytes after the length field");
  *text_start = 8 + len_bytes;
  *text_len = static_cast<size_t>(len);
  return true;
}

std::string version_str(const NpyArray& a) {
  return std::to_string(a.major) + "." + std::to_string(a.minor);
}

class NpyReader final : public FormatReader {
 public:
  std::string_view name() const override { return "npy"; }

  Confidence probe(std::string_view head, std::string_view path) const override {
    if (head.substr(0, kMagic.size()) == kMagic) return Confidence::kMagic;
    bool ext = path.size() >= 4 && path.substr(path.size() - 4) == ".npy";
    return ext ? Confidence::kHint : Confidence::kNo;
  }

  bool read(const MappedFile& f, ModelArtifact* art, TensorIndex* idx, Error* err) const override {
    try {
      return read_npy(f, art, idx, err);
    } catch (const std::exception& e) {
      return fail(err, f.path(), std::nullopt, std::string("cannot read: ") + e.what());
    }
  }

 private:
  static bool read_npy(const MappedFile& f, ModelArtifact* art, TensorIndex* idx, Error* err) {
    NpyArray a;
    if (!parse_npy(f.view(), f.path(), 0, &a, err)) return false;
    TensorInfo t;
    if (!npy_tensor(a, std::filesystem::path(f.path()).stem().string(), f.path(), &t, err))
      return false;
    t.file = add_artifact_file(art, f, "npy");
    uint64_t end = a.data_offset + a.data_length;
    if (f.size() > end)
      art->findings.push_back({"npy-trailing-bytes", "warning", f.path(), end,
                               std::to_string(f.size() - end) +
                                   " bytes after the array data are not part of the array"});
    art->metadata["npy"] = {{"version", version_str(a)},
                            {"descr", a.descr},
                            {"fortran_order", a.fortran_order},
                            {"shape", a.shape}};
    if (art->format.empty()) art->format = "npy";
    idx->tensors.push_back(std::move(t));
    return true;
  }
};

}  // namespace

bool parse_npy_header(std::string_view bytes, const std::string& path, uint64_t base_offset,
                      NpyArray* out, Error* err) {
  *out = NpyArray{};
  size_t start = 0, len = 0;
  if (!parse_preamble(bytes, path, base_offset, out, &start, &len, err)) return false;
  LiteralParser p(bytes.substr(start, len));
  PyLit dict;
  if (!p.parse(&dict))
    return fail(err, path, base_offset + start + p.error_pos(),
                "header is not a python literal: " + p.error_message());
  HeaderCtx c{path, base_offset + start, err};
  if (!interpret(c, dict, out)) return false;
  out->data_offset = base_offset + start + len;
  return true;
}

bool parse_npy(std::string_view bytes, const std::string& path, uint64_t base_offset, NpyArray* out,
               Error* err) {
  if (!parse_npy_header(bytes, path, base_offset, out, err)) return false;
  uint64_t avail = bytes.size() - (out->data_offset - base_offset);
  if (out->data_length > avail)
    return fail(err, path, out->data_offset,
                "data of shape " + shape_str(out->shape) + " " + quote(out->descr) + " needs " +
                    std::to_string(out->data_length) + " bytes but only " + std::to_string(avail) +
                    " follow the header");
  return true;
}

bool npy_tensor(const NpyArray& a, const std::string& name, const std::string& path,
                TensorInfo* out, Error* err) {
  out->name = name;
  out->dtype = a.dtype;
  out->shape = a.shape;
  out->offset = a.data_offset;
  out->length = a.data_length;
  if (a.big_endian && (a.dtype == DType::C64 || a.dtype == DType::C128))
    return fail(err, path, a.data_offset, "big-endian complex arrays are not supported");
  if (!a.fortran_order) {
    out->layout = a.big_endian ? TensorLayout::kByteSwap : TensorLayout::kRaw;
    return true;
  }
  if (a.big_endian)
    return fail(err, path, a.data_offset, "big-endian fortran-order arrays are not supported");
  out->layout = TensorLayout::kStrided;
  out->storage_offset = 0;
  out->storage_bytes = a.data_length;
  out->strides.assign(a.shape.size(), 1);
  for (size_t i = 1; i < a.shape.size(); ++i) {
    int64_t s = 0;
    if (a.shape[i - 1] > static_cast<uint64_t>(INT64_MAX) ||
        __builtin_mul_overflow(out->strides[i - 1], static_cast<int64_t>(a.shape[i - 1]), &s))
      return fail(err, path, a.data_offset,
                  "fortran-order strides of shape " + shape_str(a.shape) + " overflow 64 bits");
    out->strides[i] = s;
  }
  return true;
}

const FormatReader& npy_reader() {
  static NpyReader r;
  return r;
}

}  // namespace pedigree
